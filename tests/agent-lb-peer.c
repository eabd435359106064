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
 * agent-lb-peer: a stand-in for the LB tier in front of one ovslb-agent,
 * for the agent's system test (tests/agent-system.sh).  Not a part of
 * ovslb: it plays, in one process and without OVS, what the ingress, the
 * flow trackers and the egress of PROTOCOL.md §2 do for one server node.
 *
 * Real TCP clients in the peer's network namespace reach the VIP through a
 * TUN device.  The peer answers each client SYN with its own SYN/ACK
 * (random ISN_lb, its own timestamps and window scale), and on the client's
 * ACK sends the agent a CONN_REQ, buffering the client's segments until the
 * ACCEPTED; then it forwards the client's segments to the server node in
 * Geneve (UDP 6081, from its own underlay address) and writes the server's
 * replies, which the agent encapsulates to it as the egress node, back to
 * the TUN device.  A REJECTED (or no answer after 3 s) gives the client a
 * RST.  It also pings the agent every second until it answers ready, and
 * reports the PONGs.
 *
 * usage: agent-lb-peer --key=KEY --self=ID --server=ID --server-addr=IP
 *            --local=IP --tun=NAME [--ttl=N] [--wscale=N] [--mss=N]
 *            [--no-ping]
 * It prints its counters to stdout every 2 s when they changed, and at
 * exit (SIGTERM).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl-msg.h"
#include "ctl-sock.h"
#include "dp-packet.h"
#include "fatal-signal.h"
#include "flow-key.h"
#include "hash.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "random.h"
#include "socket-util.h"
#include "tcp-seg.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(agent_lb_peer);

#define GENEVE_PORT 6081
#define GENEVE_HDR_LEN 8
#define MAX_PKT 65536
#define MAX_BUFFERED 64
#define CONN_REQ_RETRY_MS 500
#define CONN_REQ_GIVE_UP_MS 3000

enum flow_state {
    FLOW_SYN_RCVD,              /* SYN/ACK sent to the client. */
    FLOW_PENDING,               /* CONN_REQ sent, segments buffered. */
    FLOW_MAPPED,                /* Forwarding to the server. */
};

struct peer_flow {
    struct hmap_node node;
    struct flow_key cp;
    enum flow_state state;
    uint32_t client_isn;
    uint32_t isn_lb;
    uint32_t lb_tsval;
    struct tcp_opts opts;
    struct ovs_list buffer;     /* "struct ofpbuf"s. */
    size_t n_buffered;
    long long int next_req;
    long long int give_up;
};

static struct {
    uint64_t syns, synacks, conn_reqs, accepted, rejected, timeouts;
    uint64_t to_server, to_client, dropped, pongs, bad_geneve;
} st;

static char *key_str;
static uint32_t self_id = 1, server_id;
static struct in6_addr server_addr, local_addr;
static char *tun_name;
static uint8_t ttl = 3, wscale = 7;
static uint16_t mss = 1400;
static bool do_ping = true;

static struct hmap flows = HMAP_INITIALIZER(&flows);
static int tun_fd, gnv_fd;
static struct ctl_sock *csock;

static struct peer_flow *
flow_find(const struct flow_key *cp)
{
    struct peer_flow *f;

    HMAP_FOR_EACH_WITH_HASH (f, node, flow_key_hash(cp, 0), &flows) {
        if (flow_key_equals(&f->cp, cp)) {
            return f;
        }
    }
    return NULL;
}

static void
flow_destroy(struct peer_flow *f)
{
    struct ofpbuf *b;

    LIST_FOR_EACH_POP (b, list_node, &f->buffer) {
        ofpbuf_delete(b);
    }
    hmap_remove(&flows, &f->node);
    free(f);
}

static void
write_tun(const void *ip, size_t len)
{
    if (write(tun_fd, ip, len) < 0) {
        st.dropped++;
    }
}

/* Writes to the TUN device the IP part of the frame in 'b'. */
static void
write_tun_frame(struct dp_packet *b)
{
    write_tun(dp_packet_l3(b), dp_packet_size(b) - ETH_HEADER_LEN);
}

static void
send_geneve(const void *ip, size_t len)
{
    uint8_t buf[GENEVE_HDR_LEN + ETH_HEADER_LEN + MAX_PKT];
    struct sockaddr_in sin;

    if (len > MAX_PKT) {
        st.dropped++;
        return;
    }
    memset(buf, 0, GENEVE_HDR_LEN);
    buf[2] = 0x65;                      /* Transparent Ethernet bridging. */
    buf[3] = 0x58;
    struct eth_header *eth = (struct eth_header *) (buf + GENEVE_HDR_LEN);
    eth->eth_dst = (struct eth_addr) ETH_ADDR_C(02,00,00,00,00,01);
    eth->eth_src = (struct eth_addr) ETH_ADDR_C(02,00,00,00,00,02);
    eth->eth_type = htons(((const uint8_t *) ip)[0] >> 4 == 6
                          ? ETH_TYPE_IPV6 : ETH_TYPE_IP);
    memcpy(buf + GENEVE_HDR_LEN + ETH_HEADER_LEN, ip, len);

    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(GENEVE_PORT);
    sin.sin_addr.s_addr = in6_addr_get_mapped_ipv4(&server_addr);
    if (sendto(gnv_fd, buf, GENEVE_HDR_LEN + ETH_HEADER_LEN + len, 0,
               (struct sockaddr *) &sin, sizeof sin) < 0) {
        st.dropped++;
    } else {
        st.to_server++;
    }
}

static void
send_rst(const struct flow_key *cp, const struct tcp_seg_info *answered)
{
    struct tcp_seg_endpoints ep;
    struct dp_packet b;

    dp_packet_init(&b, 128);
    tcp_seg_endpoints_from_key(&ep, cp, FLOW_KEY_FROM_VIP, eth_addr_zero,
                               eth_addr_zero);
    if (!tcp_seg_build_rst(&b, &ep, answered, 0)) {
        write_tun_frame(&b);
    }
    dp_packet_uninit(&b);
}

static void
send_conn_req(struct peer_flow *f)
{
    struct ctl_msg msg;

    ctl_msg_init(&msg, CTL_MSG_CONN_REQ, self_id, 0);
    struct ctl_conn_req *r = &msg.conn_req;
    r->cp = f->cp;
    r->server = server_id;
    r->ttl = ttl;
    r->client_isn = f->client_isn;
    r->isn_lb = f->isn_lb;
    r->opts.has_mss = f->opts.has_mss;
    r->opts.mss = f->opts.mss;
    r->opts.has_wscale = f->opts.has_wscale;
    r->opts.wscale = f->opts.wscale;
    r->opts.sack_permitted = f->opts.sack_permitted;
    r->opts.has_ts = f->opts.has_ts;
    r->opts.tsval = f->opts.tsval;
    r->ingress = self_id;
    r->lb_tsval = f->lb_tsval;
    r->lb_wscale = f->opts.has_wscale ? wscale : 0;
    r->lb_mss = mss;
    ctl_sock_send(csock, &msg, &server_addr, CTL_MSG_PORT);
    st.conn_reqs++;
    f->next_req = time_msec() + CONN_REQ_RETRY_MS;
}

static void
handle_client(uint8_t *ip, size_t len)
{
    struct tcp_seg_info info;
    struct flow_key cp;
    struct peer_flow *f;

    if (tcp_seg_parse_ip(ip, len, &info)) {
        st.dropped++;
        return;
    }
    memset(&cp, 0, sizeof cp);
    cp.client = info.ip_src;
    cp.client_port = info.tp_src;
    cp.vip = info.ip_dst;
    cp.vip_port = info.tp_dst;
    cp.proto = IPPROTO_TCP;
    f = flow_find(&cp);

    if ((info.flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
        if (f && f->state != FLOW_SYN_RCVD) {
            flow_destroy(f);
            f = NULL;
        }
        if (!f) {
            f = xzalloc(sizeof *f);
            f->cp = cp;
            ovs_list_init(&f->buffer);
            hmap_insert(&flows, &f->node, flow_key_hash(&cp, 0));
            f->isn_lb = random_uint32();
            f->lb_tsval = time_msec();
        }
        f->state = FLOW_SYN_RCVD;
        f->client_isn = info.seq;
        f->opts = info.opts;
        st.syns++;

        struct tcp_seg_endpoints ep;
        struct dp_packet b;
        dp_packet_init(&b, 128);
        tcp_seg_endpoints_from_key(&ep, &cp, FLOW_KEY_FROM_VIP,
                                   eth_addr_zero, eth_addr_zero);
        if (!tcp_seg_build_synack(&b, &ep, &info.opts, f->isn_lb,
                                  info.seq, 65535, mss, wscale,
                                  f->lb_tsval, 0)) {
            write_tun_frame(&b);
            st.synacks++;
        }
        dp_packet_uninit(&b);
        return;
    }
    if (!f) {
        st.dropped++;
        return;
    }
    switch (f->state) {
    case FLOW_SYN_RCVD:
        if (!(info.flags & TCP_ACK) || info.ack != f->isn_lb + 1) {
            st.dropped++;
            return;
        }
        f->state = FLOW_PENDING;
        f->give_up = time_msec() + CONN_REQ_GIVE_UP_MS;
        send_conn_req(f);
        /* Fall through. */
    case FLOW_PENDING:
        if (f->n_buffered < MAX_BUFFERED) {
            struct ofpbuf *b = ofpbuf_clone_data(ip, len);
            ovs_list_push_back(&f->buffer, &b->list_node);
            f->n_buffered++;
        } else {
            st.dropped++;
        }
        break;
    case FLOW_MAPPED:
        send_geneve(ip, len);
        break;
    }
}

static void
handle_msg(const struct ctl_msg *msg)
{
    struct peer_flow *f;

    switch (msg->type) {
    case CTL_MSG_ACCEPTED:
        f = flow_find(&msg->accepted.cp);
        if (f && f->state == FLOW_PENDING) {
            struct ofpbuf *b;

            st.accepted++;
            f->state = FLOW_MAPPED;
            LIST_FOR_EACH_POP (b, list_node, &f->buffer) {
                send_geneve(b->data, b->size);
                ofpbuf_delete(b);
            }
            f->n_buffered = 0;
        }
        break;
    case CTL_MSG_REJECTED:
        f = flow_find(&msg->rejected.cp);
        if (f && f->state == FLOW_PENDING) {
            struct ofpbuf *b = CONTAINER_OF(ovs_list_front(&f->buffer),
                                            struct ofpbuf, list_node);
            struct tcp_seg_info info;

            st.rejected++;
            VLOG_INFO("REJECTED %s", ctl_reject_reason_to_string(
                          msg->rejected.reason));
            if (!tcp_seg_parse_ip(b->data, b->size, &info)) {
                send_rst(&f->cp, &info);
            }
            flow_destroy(f);
        }
        break;
    case CTL_MSG_PONG:
        st.pongs += msg->pong.ready;
        printf("PONG ready=%d\n", msg->pong.ready);
        fflush(stdout);
        break;
    default:
        break;
    }
}

static void
handle_geneve(void)
{
    uint8_t buf[GENEVE_HDR_LEN + 256 + ETH_HEADER_LEN + MAX_PKT];

    for (int i = 0; i < 256; i++) {
        ssize_t n = recv(gnv_fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
            return;
        }
        size_t hdr = GENEVE_HDR_LEN + 4 * (buf[0] & 0x3f);
        if (n < GENEVE_HDR_LEN || (size_t) n < hdr + ETH_HEADER_LEN
            || buf[2] != 0x65 || buf[3] != 0x58) {
            st.bad_geneve++;
            continue;
        }
        write_tun(buf + hdr + ETH_HEADER_LEN, n - hdr - ETH_HEADER_LEN);
        st.to_client++;
    }
}

static void
run_timers(void)
{
    long long int now = time_msec();
    struct peer_flow *f;

    HMAP_FOR_EACH_SAFE (f, node, &flows) {
        if (f->state != FLOW_PENDING) {
            continue;
        }
        if (now >= f->give_up) {
            st.timeouts++;
            flow_destroy(f);
        } else if (now >= f->next_req) {
            send_conn_req(f);
        }
    }
}

/* Checks the agent the way the LB nodes do (PROTOCOL.md §8), every second
 * until it answers once. */
static void
send_ping(void)
{
    struct ctl_msg msg;

    ctl_msg_init(&msg, CTL_MSG_PING, self_id, 0);
    msg.ping.nonce = random_uint64();
    msg.ping.path = CTL_PATH_AGENT;
    msg.ping.checker = self_id;
    msg.ping.target = server_id;
    ctl_sock_send(csock, &msg, &server_addr, CTL_MSG_PORT);
}

static void
print_stats(void)
{
    printf("syns %"PRIu64" synacks %"PRIu64" conn_reqs %"PRIu64
           " accepted %"PRIu64" rejected %"PRIu64" timeouts %"PRIu64
           " to_server %"PRIu64" to_client %"PRIu64" dropped %"PRIu64
           " pongs %"PRIu64" bad_geneve %"PRIu64" flows %"PRIuSIZE"\n",
           st.syns, st.synacks, st.conn_reqs, st.accepted, st.rejected,
           st.timeouts, st.to_server, st.to_client, st.dropped, st.pongs,
           st.bad_geneve, hmap_count(&flows));
    fflush(stdout);
}

static void
print_stats_hook(void *aux OVS_UNUSED)
{
    print_stats();
}

static int
open_tun(const char *name)
{
    struct ifreq ifr;
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

    if (fd < 0) {
        ovs_fatal(errno, "/dev/net/tun");
    }
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    ovs_strlcpy(ifr.ifr_name, name, sizeof ifr.ifr_name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        ovs_fatal(errno, "TUNSETIFF %s", name);
    }
    set_nonblocking(fd);
    return fd;
}

static void
parse_addr(const char *s, struct in6_addr *addr)
{
    ovs_be32 ip;

    if (!ip_parse(s, &ip)) {
        ovs_fatal(0, "%s: not an IPv4 address", s);
    }
    in6_addr_set_mapped_ipv4(addr, ip);
}

static void
parse_options(int argc, char *argv[])
{
    static const struct option long_options[] = {
        {"key", required_argument, NULL, 'k'},
        {"self", required_argument, NULL, 's'},
        {"server", required_argument, NULL, 'S'},
        {"server-addr", required_argument, NULL, 'a'},
        {"local", required_argument, NULL, 'l'},
        {"tun", required_argument, NULL, 't'},
        {"ttl", required_argument, NULL, 'T'},
        {"wscale", required_argument, NULL, 'w'},
        {"mss", required_argument, NULL, 'm'},
        {"no-ping", no_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };

    for (;;) {
        int c = getopt_long(argc, argv, "", long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case 'k': key_str = optarg; break;
        case 's': self_id = atoi(optarg); break;
        case 'S': server_id = atoi(optarg); break;
        case 'a': parse_addr(optarg, &server_addr); break;
        case 'l': parse_addr(optarg, &local_addr); break;
        case 't': tun_name = optarg; break;
        case 'T': ttl = atoi(optarg); break;
        case 'w': wscale = atoi(optarg); break;
        case 'm': mss = atoi(optarg); break;
        case 'n': do_ping = false; break;
        default: exit(EXIT_FAILURE);
        }
    }
    if (!key_str || !server_id || !tun_name
        || ipv6_addr_equals(&server_addr, &in6addr_any)
        || ipv6_addr_equals(&local_addr, &in6addr_any)) {
        ovs_fatal(0, "--key, --server, --server-addr, --local and --tun "
                  "are required");
    }
}

int
main(int argc, char *argv[])
{
    struct ctl_key key;
    char *error;

    set_program_name(argv[0]);
    parse_options(argc, argv);
    fatal_ignore_sigpipe();
    fatal_signal_add_hook(print_stats_hook, NULL, NULL, true);
    random_init();

    if (ctl_key_init(&key, key_str, strlen(key_str))) {
        ovs_fatal(0, "bad key");
    }
    error = ctl_sock_open(&local_addr, CTL_MSG_PORT, self_id, &csock);
    if (error) {
        ovs_fatal(0, "%s", error);
    }
    if (ctl_sock_set_key(csock, &key)) {
        ovs_fatal(0, "cannot set the key");
    }
    ctl_key_destroy(&key);

    gnv_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {
        .sin_family = AF_INET,
        .sin_port = htons(GENEVE_PORT),
        .sin_addr.s_addr = in6_addr_get_mapped_ipv4(&local_addr),
    };
    int sz = 8 * 1024 * 1024;
    setsockopt(gnv_fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    if (gnv_fd < 0 || bind(gnv_fd, (struct sockaddr *) &sin, sizeof sin)) {
        ovs_fatal(errno, "Geneve socket");
    }
    tun_fd = open_tun(tun_name);

    printf("ready\n");
    fflush(stdout);

    uint8_t pkt[MAX_PKT];
    long long int next_print = time_msec() + 2000;
    long long int next_ping = 0;
    struct ctl_msg *msg = xmalloc(sizeof *msg);
    uint64_t last_total = 0;

    for (;;) {
        for (int i = 0; i < 256; i++) {
            ssize_t n = read(tun_fd, pkt, sizeof pkt);
            if (n <= 0) {
                break;
            }
            handle_client(pkt, n);
        }
        while (ctl_sock_recv(csock, msg, NULL, NULL)) {
            handle_msg(msg);
        }
        handle_geneve();
        run_timers();
        if (do_ping && !st.pongs && time_msec() >= next_ping) {
            send_ping();
            next_ping = time_msec() + 1000;
        }
        if (time_msec() >= next_print) {
            uint64_t total = st.syns + st.to_server + st.to_client
                             + st.pongs + st.rejected;
            if (total != last_total) {
                print_stats();
                last_total = total;
            }
            next_print = time_msec() + 2000;
        }
        poll_fd_wait(tun_fd, POLLIN);
        poll_fd_wait(gnv_fd, POLLIN);
        ctl_sock_wait(csock);
        poll_timer_wait(100);
        poll_block();
    }
    return 0;
}
