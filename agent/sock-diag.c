/*
 * Copyright (c) 2026 The ovslb authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at:
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

/*
 * sock-diag: the kernel's TCP socket table through inet_diag.  See
 * sock-diag.h.
 */
#include <config.h>
#include "sock-diag.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coverage.h"
#include "netlink-socket.h"
#include "netlink.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "netns.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(sock_diag);

COVERAGE_DEFINE(sock_diag_malformed);

/* Bound on the messages of one dump (a kernel that never ends its dump
 * must not hang the agent): 4 M sockets. */
#define MAX_MSGS_PER_DUMP (4u * 1024 * 1024)

struct sock_diag {
    struct nl_sock *sock;
    char *netns;                /* NULL: the agent's own namespace. */
    uint32_t seq;
    struct sock_diag_stats stats;
};

static int
create_sock(void *sockp_)
{
    struct nl_sock **sockp = sockp_;

    return nl_sock_create(NETLINK_SOCK_DIAG, sockp);
}

/* Opens the inet_diag socket of network namespace 'netns' (a name under
 * /run/netns, or an absolute path; NULL or "" for the agent's own; see
 * netns.h for the privilege it takes).  Returns NULL and stores the new
 * object in '*sdp', or returns an error message (to be freed by the
 * caller) and stores NULL.  The socket stays bound to the namespace it was
 * created in, so the dumps need nothing. */
char *
sock_diag_open(const char *netns, struct sock_diag **sdp)
{
    struct nl_sock *sock = NULL;
    int error;

    *sdp = NULL;
    char *msg = netns_call(netns, create_sock, &sock, &error);
    if (msg) {
        return msg;
    }
    if (error) {
        return xasprintf("inet_diag socket%s%s: %s",
                         netns && netns[0] ? " in " : "",
                         netns && netns[0] ? netns : "",
                         ovs_strerror(error));
    }

    struct sock_diag *sd = xzalloc(sizeof *sd);
    sd->sock = sock;
    sd->netns = netns && netns[0] ? xstrdup(netns) : NULL;
    *sdp = sd;
    return NULL;
}

/* Closes 'sd'.  NULL is a no-op. */
void
sock_diag_close(struct sock_diag *sd)
{
    if (sd) {
        nl_sock_destroy(sd->sock);
        free(sd->netns);
        free(sd);
    }
}

/* Returns the namespace of 'sd' (NULL: the agent's own). */
const char *
sock_diag_netns(const struct sock_diag *sd)
{
    return sd->netns;
}

/* Returns the counters of 'sd'. */
const struct sock_diag_stats *
sock_diag_get_stats(const struct sock_diag *sd)
{
    return &sd->stats;
}

static void
address_from_diag(int family, const __be32 raw[4], struct in6_addr *addr)
{
    if (family == AF_INET) {
        in6_addr_set_mapped_ipv4(addr, raw[0]);
    } else {
        memcpy(addr, raw, sizeof *addr);
    }
}

/* Handles one message of a dump.  Returns 0 to go on, EOF at the end of
 * the dump, or a positive errno. */
static int
handle_msg(struct sock_diag *sd, int family, const struct nlmsghdr *nlh,
           void (*cb)(const struct sock_diag_entry *, void *), void *aux)
{
    if (nlh->nlmsg_seq != sd->seq) {
        /* Left over from an earlier, interrupted dump. */
        return 0;
    }
    if (nlh->nlmsg_type == NLMSG_DONE) {
        return EOF;
    }
    if (nlh->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *err = (const void *) (nlh + 1);

        if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof *err)) {
            return EPROTO;
        }
        return err->error ? -err->error : EOF;
    }
    if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY
        || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
        sd->stats.malformed++;
        COVERAGE_INC(sock_diag_malformed);
        return 0;
    }

    const struct inet_diag_msg *m = NLMSG_DATA(nlh);
    struct sock_diag_entry e;

    if (m->idiag_family != family) {
        sd->stats.malformed++;
        COVERAGE_INC(sock_diag_malformed);
        return 0;
    }
    address_from_diag(family, m->id.idiag_src, &e.src);
    address_from_diag(family, m->id.idiag_dst, &e.dst);
    e.sport = m->id.idiag_sport;
    e.dport = m->id.idiag_dport;
    e.state = m->idiag_state;
    e.rqueue = m->idiag_rqueue;
    e.rtt_us = 0;

    const struct nlattr *nla;
    size_t left;
    size_t attrs_len = nlh->nlmsg_len - NLMSG_LENGTH(sizeof *m);
    NL_ATTR_FOR_EACH (nla, left, (const struct nlattr *) (m + 1),
                      attrs_len) {
        if (nl_attr_type(nla) == INET_DIAG_INFO
            && nl_attr_get_size(nla) >= (offsetof(struct tcp_info, tcpi_rtt)
                                         + sizeof(uint32_t))) {
            const struct tcp_info *ti = nl_attr_get(nla);

            e.rtt_us = ti->tcpi_rtt;
        }
    }
    sd->stats.sockets++;
    cb(&e, aux);
    return 0;
}

static int
dump_family(struct sock_diag *sd, int family, uint32_t state_mask,
            unsigned int flags, void (*cb)(const struct sock_diag_entry *, void *), void *aux)
{
    struct inet_diag_req_v2 *req;
    struct ofpbuf request, reply;
    size_t n_msgs = 0;
    int error;

    ofpbuf_init(&request, 0);
    nl_msg_put_nlmsghdr(&request, sizeof *req, SOCK_DIAG_BY_FAMILY,
                        NLM_F_REQUEST | NLM_F_DUMP);
    req = ofpbuf_put_zeros(&request, sizeof *req);
    req->sdiag_family = family;
    req->sdiag_protocol = IPPROTO_TCP;
    req->idiag_states = state_mask;
    if (flags & SOCK_DIAG_RTT) {
        req->idiag_ext = 1u << (INET_DIAG_INFO - 1);
    }
    sd->seq++;
    error = nl_sock_send_seq(sd->sock, &request, sd->seq, true);
    ofpbuf_uninit(&request);
    if (error) {
        return error;
    }

    ofpbuf_init(&reply, 65536);
    for (;;) {
        error = nl_sock_recv(sd->sock, &reply, NULL, true);
        if (error) {
            break;
        }

        const uint8_t *p = reply.data;
        size_t left = reply.size;
        while (!error && left >= sizeof(struct nlmsghdr)) {
            const struct nlmsghdr *nlh = (const void *) p;
            size_t len = nlh->nlmsg_len;

            if (len < sizeof *nlh || len > left) {
                sd->stats.malformed++;
                COVERAGE_INC(sock_diag_malformed);
                break;
            }
            if (++n_msgs > MAX_MSGS_PER_DUMP) {
                error = EFBIG;
                break;
            }
            error = handle_msg(sd, family, nlh, cb, aux);
            len = MIN(NLMSG_ALIGN(len), left);
            p += len;
            left -= len;
        }
        if (error) {
            break;
        }
    }
    ofpbuf_uninit(&reply);
    if (error != EOF) {
        /* Whatever else the kernel still sends for this dump is skipped by
         * its sequence number. */
        return error;
    }
    return 0;
}

/* Calls 'cb' with 'aux' for every TCP socket (IPv4 and IPv6) whose state
 * is in 'state_mask' (bit 1 << enum sock_diag_state); with SOCK_DIAG_RTT
 * in 'flags' the kernel adds each socket's tcp_info, from which the entry's
 * 'rtt_us' comes.  Returns 0 or a positive errno (then 'cb' may have seen
 * part of the table). */
int
sock_diag_dump(struct sock_diag *sd, uint32_t state_mask, unsigned int flags,
               void (*cb)(const struct sock_diag_entry *, void *aux),
               void *aux)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    int error = dump_family(sd, AF_INET, state_mask, flags, cb, aux);

    if (!error) {
        error = dump_family(sd, AF_INET6, state_mask, flags, cb, aux);
    }
    if (error) {
        sd->stats.errors++;
        VLOG_WARN_RL(&rl, "socket dump%s%s failed: %s",
                     sd->netns ? " in " : "", sd->netns ? sd->netns : "",
                     ovs_strerror(error));
    } else {
        sd->stats.dumps++;
    }
    return error;
}
