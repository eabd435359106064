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
 * Check suite of agent/agent-core, the protocol core of ovslb-agent:
 * admission, the server-side handshake, the connection table, translation
 * (with segments captured from a real Linux connection), egress choice,
 * reconciliation with the kernel's sockets, publishing and the journal.
 */
#include <config.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "agent-core.h"
#include "csum.h"
#include "dp-packet.h"
#include "exposition.h"
#include "ctl-msg.h"
#include "flow-key.h"
#include "metrics.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofpbuf.h"
#include "packets.h"
#include "random.h"
#include "ring.h"
#include "server-pipeline.h"
#include "smap.h"
#include "tcp-seg.h"
#include "unaligned.h"
#include "util.h"

/* A connection between 198.51.100.2:40000 and 203.0.113.10:80 captured on
 * Linux 6.x loopback with tcpdump (checksums, left partial by loopback
 * offload, recomputed): the client's SYN, the server's SYN/ACK, the client's
 * ACK and FIN, the server's "hello\n" banner, the client's ACK, the server's
 * FIN and the client's last ACK.  Both ends offered MSS 65495, SACK,
 * timestamps and window scale 10. */
static const uint8_t cap0[] = {
    0x45, 0x00, 0x00, 0x3c, 0xfc, 0xbf, 0x40, 0x00, 0x40, 0x06,
    0xd7, 0xbb, 0xc6, 0x33, 0x64, 0x02, 0xcb, 0x00, 0x71, 0x0a,
    0x9c, 0x40, 0x00, 0x50, 0x30, 0xbd, 0x9b, 0x39, 0x00, 0x00,
    0x00, 0x00, 0xa0, 0x02, 0xff, 0xd7, 0xf0, 0xc5, 0x00, 0x00,
    0x02, 0x04, 0xff, 0xd7, 0x04, 0x02, 0x08, 0x0a, 0x22, 0xca,
    0x6b, 0xa9, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a,
};
static const uint8_t cap1[] = {
    0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06,
    0xd4, 0x7b, 0xcb, 0x00, 0x71, 0x0a, 0xc6, 0x33, 0x64, 0x02,
    0x00, 0x50, 0x9c, 0x40, 0xaa, 0xbe, 0x2f, 0x5e, 0x30, 0xbd,
    0x9b, 0x3a, 0xa0, 0x12, 0xff, 0xcb, 0xba, 0x16, 0x00, 0x00,
    0x02, 0x04, 0xff, 0xd7, 0x04, 0x02, 0x08, 0x0a, 0x55, 0x13,
    0x07, 0x7a, 0x22, 0xca, 0x6b, 0xa9, 0x01, 0x03, 0x03, 0x0a,
};
static const uint8_t cap2[] = {
    0x45, 0x00, 0x00, 0x34, 0xfc, 0xc0, 0x40, 0x00, 0x40, 0x06,
    0xd7, 0xc2, 0xc6, 0x33, 0x64, 0x02, 0xcb, 0x00, 0x71, 0x0a,
    0x9c, 0x40, 0x00, 0x50, 0x30, 0xbd, 0x9b, 0x3a, 0xaa, 0xbe,
    0x2f, 0x5f, 0x80, 0x10, 0x00, 0x40, 0xe2, 0x95, 0x00, 0x00,
    0x01, 0x01, 0x08, 0x0a, 0x22, 0xca, 0x6b, 0xa9, 0x55, 0x13,
    0x07, 0x7a,
};
static const uint8_t cap3[] = {
    0x45, 0x00, 0x00, 0x34, 0xfc, 0xc1, 0x40, 0x00, 0x40, 0x06,
    0xd7, 0xc1, 0xc6, 0x33, 0x64, 0x02, 0xcb, 0x00, 0x71, 0x0a,
    0x9c, 0x40, 0x00, 0x50, 0x30, 0xbd, 0x9b, 0x3a, 0xaa, 0xbe,
    0x2f, 0x5f, 0x80, 0x11, 0x00, 0x40, 0xe2, 0x94, 0x00, 0x00,
    0x01, 0x01, 0x08, 0x0a, 0x22, 0xca, 0x6b, 0xa9, 0x55, 0x13,
    0x07, 0x7a,
};
static const uint8_t cap4[] = {
    0x45, 0x00, 0x00, 0x3a, 0x93, 0xc3, 0x40, 0x00, 0x40, 0x06,
    0x40, 0xba, 0xcb, 0x00, 0x71, 0x0a, 0xc6, 0x33, 0x64, 0x02,
    0x00, 0x50, 0x9c, 0x40, 0xaa, 0xbe, 0x2f, 0x5f, 0x30, 0xbd,
    0x9b, 0x3b, 0x80, 0x18, 0x00, 0x40, 0x9e, 0xa9, 0x00, 0x00,
    0x01, 0x01, 0x08, 0x0a, 0x55, 0x13, 0x07, 0x7b, 0x22, 0xca,
    0x6b, 0xa9, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x0a,
};
static const uint8_t cap5[] = {
    0x45, 0x00, 0x00, 0x34, 0xfc, 0xc2, 0x40, 0x00, 0x40, 0x06,
    0xd7, 0xc0, 0xc6, 0x33, 0x64, 0x02, 0xcb, 0x00, 0x71, 0x0a,
    0x9c, 0x40, 0x00, 0x50, 0x30, 0xbd, 0x9b, 0x3b, 0xaa, 0xbe,
    0x2f, 0x65, 0x80, 0x10, 0x00, 0x40, 0xe2, 0x8c, 0x00, 0x00,
    0x01, 0x01, 0x08, 0x0a, 0x22, 0xca, 0x6b, 0xaa, 0x55, 0x13,
    0x07, 0x7b,
};
static const uint8_t cap6[] = {
    0x45, 0x00, 0x00, 0x34, 0x93, 0xc4, 0x40, 0x00, 0x40, 0x06,
    0x40, 0xbf, 0xcb, 0x00, 0x71, 0x0a, 0xc6, 0x33, 0x64, 0x02,
    0x00, 0x50, 0x9c, 0x40, 0xaa, 0xbe, 0x2f, 0x65, 0x30, 0xbd,
    0x9b, 0x3b, 0x80, 0x11, 0x00, 0x40, 0xe1, 0xc1, 0x00, 0x00,
    0x01, 0x01, 0x08, 0x0a, 0x55, 0x13, 0x08, 0x45, 0x22, 0xca,
    0x6b, 0xaa,
};
static const uint8_t cap7[] = {
    0x45, 0x00, 0x00, 0x34, 0xfc, 0xc3, 0x40, 0x00, 0x40, 0x06,
    0xd7, 0xbf, 0xc6, 0x33, 0x64, 0x02, 0xcb, 0x00, 0x71, 0x0a,
    0x9c, 0x40, 0x00, 0x50, 0x30, 0xbd, 0x9b, 0x3b, 0xaa, 0xbe,
    0x2f, 0x66, 0x80, 0x10, 0x00, 0x40, 0xe0, 0xf7, 0x00, 0x00,
    0x01, 0x01, 0x08, 0x0a, 0x22, 0xca, 0x6c, 0x74, 0x55, 0x13,
    0x08, 0x45,
};

#define CAP_CLIENT_ISN 817732409u
#define CAP_SERVER_ISN 2864590686u
#define CAP_CLIENT_TSVAL 583691177u
#define CAP_SERVER_TSVAL 1427310458u

#define SELF 101
#define SFT 2
#define VIP_MSS 1400

/* What the core sent, in order. */
#define MAX_EVENTS 256
struct event {
    char kind;                  /* 'F' frame, 'M' message, 'P' journal put,
                                 * 'D' journal delete. */
    uint32_t dst;
    struct ctl_msg *msg;
    struct ofpbuf *frame;
    struct flow_key cp;
    uint8_t rec[AGENT_RECORD_LEN];
    long long int expires;
};

static struct event events[MAX_EVENTS];
static size_t n_events;
static struct agent_core *core;

static struct event *
new_event(char kind)
{
    ck_assert_uint_lt(n_events, MAX_EVENTS);
    struct event *e = &events[n_events++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    return e;
}

static void
cb_send(void *aux OVS_UNUSED, uint32_t dst, struct ctl_msg *msg)
{
    struct event *e = new_event('M');
    e->dst = dst;
    e->msg = xmemdup(msg, sizeof *msg);
}

static void
cb_to_server(void *aux OVS_UNUSED, const void *frame, size_t len)
{
    new_event('F')->frame = ofpbuf_clone_data(frame, len);
}

static void
cb_put(void *aux OVS_UNUSED, const struct flow_key *cp, const void *rec,
       size_t len, long long int expires)
{
    struct event *e = new_event('P');

    ck_assert_uint_eq(len, AGENT_RECORD_LEN);
    e->cp = *cp;
    memcpy(e->rec, rec, len);
    e->expires = expires;
}

static void
cb_del(void *aux OVS_UNUSED, const struct flow_key *cp)
{
    new_event('D')->cp = *cp;
}

static const struct agent_core_ops ops = {
    .send = cb_send,
    .to_server = cb_to_server,
    .journal_put = cb_put,
    .journal_del = cb_del,
};

static void
clear_events(void)
{
    for (size_t i = 0; i < n_events; i++) {
        free(events[i].msg);
        ofpbuf_delete(events[i].frame);
    }
    n_events = 0;
}

/* Returns the events' kinds as a string, e.g. "FM". */
static const char *
kinds(void)
{
    static char s[MAX_EVENTS + 1];

    for (size_t i = 0; i < n_events; i++) {
        s[i] = events[i].kind;
    }
    s[n_events] = '\0';
    return s;
}

/* Returns the last event of 'kind', which must exist. */
static struct event *
last(char kind)
{
    for (size_t i = n_events; i-- > 0; ) {
        if (events[i].kind == kind) {
            return &events[i];
        }
    }
    ck_abort_msg("no event '%c' in \"%s\"", kind, kinds());
    return NULL;
}

static struct in6_addr
v4(const char *s)
{
    struct in6_addr a;
    ovs_be32 ip;

    ck_assert(ip_parse(s, &ip));
    in6_addr_set_mapped_ipv4(&a, ip);
    return a;
}

static struct flow_key
cp_make(const char *client, uint16_t client_port, const char *vip,
        uint16_t vip_port)
{
    struct flow_key cp;
    ovs_be32 c, v;

    ck_assert(ip_parse(client, &c));
    ck_assert(ip_parse(vip, &v));
    flow_key_init_v4(&cp, c, htons(client_port), v, htons(vip_port),
                     IPPROTO_TCP);
    return cp;
}

static const uint32_t lbs[] = { 1, 2, 3 };
#define RING_KEY UINT64_C(0x0123456789abcdef)

static void
setup(void)
{
    struct agent_vip_port vps[] = {
        { v4("203.0.113.10"), 80, true, VIP_MSS, false },
        { v4("203.0.113.10"), 5201, true, VIP_MSS, false },
        { v4("203.0.113.11"), 80, true, VIP_MSS, false },
        { v4("203.0.113.12"), 80, false, VIP_MSS, false },  /* hash mode */
    };

    n_events = 0;
    core = agent_core_create(SELF, &ops, NULL);
    agent_core_set_vips(core, vps, ARRAY_SIZE(vps));
    ck_assert(agent_core_set_lb_nodes(core, lbs, ARRAY_SIZE(lbs), RING_KEY,
                                      0));
}

static void
teardown(void)
{
    agent_core_destroy(core);
    core = NULL;
    clear_events();
}

static const struct agent_local local_ok = {
    .ready = true, .listening = true, .load_milli = 100,
    .mem_kb = 1000000,
};

/* A request for 'cp' with the options of the captured client SYN, as the
 * LB tier would send it with ISN_lb 'isn_lb'. */
static struct ctl_conn_req
req_make(const struct flow_key *cp, uint32_t client_isn, uint32_t isn_lb,
         uint8_t ttl)
{
    struct ctl_conn_req r;

    memset(&r, 0, sizeof r);
    r.cp = *cp;
    r.server = SELF;
    r.ttl = ttl;
    r.client_isn = client_isn;
    r.isn_lb = isn_lb;
    r.opts.has_mss = true;
    r.opts.mss = 65495;
    r.opts.has_wscale = true;
    r.opts.wscale = 10;
    r.opts.sack_permitted = true;
    r.opts.has_ts = true;
    r.opts.tsval = CAP_CLIENT_TSVAL;
    r.ingress = 3;
    r.lb_tsval = 7777;
    r.lb_wscale = 7;
    r.lb_mss = 1400;
    return r;
}

static void
conn_req(const struct ctl_conn_req *r, const struct agent_local *local,
         long long int now)
{
    agent_core_conn_req(core, SFT, r, local, now);
}

/* Checks that the last message is a REJECTED for 'cp' with 'reason' and
 * 'ttl'. */
static void
check_rejected(const struct flow_key *cp, enum ctl_reject_reason reason,
               uint8_t ttl)
{
    struct event *e = last('M');

    ck_assert_int_eq(e->msg->type, CTL_MSG_REJECTED);
    ck_assert_uint_eq(e->dst, SFT);
    ck_assert(flow_key_equals(&e->msg->rejected.cp, cp));
    ck_assert_uint_eq(e->msg->rejected.server, SELF);
    ck_assert_str_eq(ctl_reject_reason_to_string(e->msg->rejected.reason),
                     ctl_reject_reason_to_string(reason));
    ck_assert_uint_eq(e->msg->rejected.ttl, ttl);
}

static void
check_accepted(const struct flow_key *cp)
{
    struct event *e = last('M');

    ck_assert_int_eq(e->msg->type, CTL_MSG_ACCEPTED);
    ck_assert_uint_eq(e->dst, SFT);
    ck_assert(flow_key_equals(&e->msg->accepted.cp, cp));
    ck_assert_uint_eq(e->msg->accepted.server, SELF);
}

/* Parses the Ethernet frame 'b', which must be a well-formed TCP segment
 * with a right checksum. */
static void
parse_frame(const struct ofpbuf *b, struct tcp_seg_info *info)
{
    ck_assert_int_eq(tcp_seg_parse_frame(b->data, b->size, info), 0);
    ck_assert(tcp_seg_verify_csum((const uint8_t *) b->data + info->l3_ofs,
                                  b->size - info->l3_ofs));
}

/* Returns a copy of the IPv4 TCP segment 'pkt' with 'dseq' added to its
 * sequence number, 'dack' to its acknowledgment number, 'dtsval' and
 * 'dtsecr' to its timestamps, 'dsack' to every SACK edge, its window
 * replaced by 'window' if it is not negative, and its checksum recomputed
 * from scratch.  The caller frees it. */
static uint8_t *
rewrite(const uint8_t *pkt, size_t len, uint32_t dseq, uint32_t dack,
        uint32_t dtsval, uint32_t dtsecr, uint32_t dsack, int window)
{
    uint8_t *p = xmemdup(pkt, len);
    struct tcp_seg_info info;

    ck_assert_int_eq(tcp_seg_parse_ip(p, len, &info), 0);
    uint8_t *tcp = p + info.l4_ofs;
    put_unaligned_be32((ovs_be32 *) (tcp + 4), htonl(info.seq + dseq));
    put_unaligned_be32((ovs_be32 *) (tcp + 8), htonl(info.ack + dack));
    if (window >= 0) {
        put_unaligned_be16((ovs_be16 *) (tcp + 14), htons(window));
    }
    if (info.opts.has_ts) {
        put_unaligned_be32((ovs_be32 *) (tcp + info.opts.ts_ofs),
                           htonl(info.opts.tsval + dtsval));
        put_unaligned_be32((ovs_be32 *) (tcp + info.opts.ts_ofs + 4),
                           htonl(info.opts.tsecr + dtsecr));
    }
    for (size_t i = 0; i < 2 * info.opts.n_sack; i++) {
        ovs_be32 *edge = (ovs_be32 *) (tcp + info.opts.sack_ofs + 4 * i);
        put_unaligned_be32(edge, htonl(ntohl(get_unaligned_be32(edge))
                                       + dsack));
    }
    size_t tcp_len = len - info.l4_ofs;
    put_unaligned_be16((ovs_be16 *) (tcp + 16), 0);
    uint32_t partial = packet_csum_pseudoheader(
        ALIGNED_CAST(const struct ip_header *, p));
    put_unaligned_be16((ovs_be16 *) (tcp + 16),
                       csum_finish(csum_continue(partial, tcp, tcp_len)));
    return p;
}

static size_t
ip_len(const struct dp_packet *b)
{
    return dp_packet_size(b) - ETH_HEADER_LEN;
}

/* Runs the handshake of 'cp' to the end with the server answering ISN
 * 'isn_srv' and TSval 'srv_tsval', window scale 'srv_ws' (or none if
 * negative).  Returns the request. */
static struct ctl_conn_req
establish(const struct flow_key *cp, uint32_t client_isn, uint32_t isn_lb,
          uint32_t isn_srv, uint32_t srv_tsval, int srv_ws, long long int now)
{
    struct ctl_conn_req r = req_make(cp, client_isn, isn_lb, 3);
    struct tcp_seg_endpoints ep;
    struct tcp_seg_info syn;
    struct dp_packet b;
    uint32_t egress;

    conn_req(&r, &local_ok, now);
    parse_frame(last('F')->frame, &syn);

    struct tcp_seg_hdr hdr = {
        .seq = isn_srv, .ack = client_isn + 1,
        .flags = TCP_SYN | TCP_ACK, .window = 65483,
    };
    hdr.opts.has_mss = true;
    hdr.opts.mss = 1460;
    hdr.opts.sack_permitted = true;
    if (srv_ws >= 0) {
        hdr.opts.has_wscale = true;
        hdr.opts.wscale = srv_ws;
    }
    hdr.opts.has_ts = true;
    hdr.opts.tsval = srv_tsval;
    hdr.opts.tsecr = syn.opts.tsval;
    dp_packet_init(&b, 128);
    tcp_seg_endpoints_from_key(&ep, cp, FLOW_KEY_FROM_VIP, eth_addr_zero,
                               eth_addr_zero);
    ck_assert_int_eq(tcp_seg_build(&b, &ep, &hdr), 0);
    ck_assert_int_eq(agent_core_from_server(core, dp_packet_l3(&b),
                                            ip_len(&b), now, &egress),
                     AGENT_DROP);
    dp_packet_uninit(&b);
    check_accepted(cp);
    return r;
}

/* Builds the IP packet of a segment of 'cp' (from the client if
 * 'from_client') in 'b', returning a pointer to its IP header. */
static void *
segment(struct dp_packet *b, const struct flow_key *cp, bool from_client,
        uint32_t seq, uint32_t ack, uint16_t flags, uint16_t window,
        const struct tcp_opts *opts, size_t payload_len)
{
    static const uint8_t payload[2048];
    struct tcp_seg_endpoints ep;
    struct tcp_seg_hdr hdr = {
        .seq = seq, .ack = ack, .flags = flags, .window = window,
        .payload = payload, .payload_len = payload_len,
    };

    if (opts) {
        hdr.opts = *opts;
    }
    dp_packet_init(b, 128 + payload_len);
    tcp_seg_endpoints_from_key(&ep, cp,
                               from_client ? FLOW_KEY_TO_VIP
                                           : FLOW_KEY_FROM_VIP,
                               eth_addr_zero, eth_addr_zero);
    ck_assert_int_eq(tcp_seg_build(b, &ep, &hdr), 0);
    return dp_packet_l3(b);
}


/* Admission and handshake. */

/* The accepted path: SYN for the server with the client's address and
 * options (MSS clamped), then on the SYN/ACK the ACK that completes the
 * server's handshake, then ACCEPTED, in that order. */
START_TEST(test_accept_handshake)
{
    struct flow_key cp = cp_make("198.51.100.2", 40000, "203.0.113.10", 80);
    struct ctl_conn_req r = req_make(&cp, CAP_CLIENT_ISN, 0x12345678, 3);
    struct agent_conn_info info;
    struct tcp_seg_info syn, ack;
    uint32_t egress;

    conn_req(&r, &local_ok, 1000);
    ck_assert_str_eq(kinds(), "F");
    parse_frame(events[0].frame, &syn);
    ck_assert(ipv6_addr_equals(&syn.ip_src, &cp.client));
    ck_assert(ipv6_addr_equals(&syn.ip_dst, &cp.vip));
    ck_assert_uint_eq(ntohs(syn.tp_src), 40000);
    ck_assert_uint_eq(ntohs(syn.tp_dst), 80);
    ck_assert_uint_eq(syn.seq, CAP_CLIENT_ISN);
    ck_assert_uint_eq(syn.flags, TCP_SYN);
    ck_assert(syn.opts.has_mss);
    ck_assert_uint_eq(syn.opts.mss, VIP_MSS);
    ck_assert(syn.opts.has_wscale);
    ck_assert_uint_eq(syn.opts.wscale, 10);
    ck_assert(syn.opts.sack_permitted);
    ck_assert(syn.opts.has_ts);
    ck_assert_uint_eq(syn.opts.tsval, CAP_CLIENT_TSVAL);

    /* The captured client SYN, but for the MSS and the window. */
    struct tcp_seg_info real;
    ck_assert_int_eq(tcp_seg_parse_ip(cap0, sizeof cap0, &real), 0);
    ck_assert_uint_eq(syn.seq, real.seq);
    ck_assert(ipv6_addr_equals(&syn.ip_src, &real.ip_src));
    ck_assert_uint_eq(syn.tp_src, real.tp_src);
    ck_assert_uint_eq(syn.opts.wscale, real.opts.wscale);
    ck_assert_uint_eq(syn.opts.tsval, real.opts.tsval);
    ck_assert_uint_eq(syn.opts.tsecr, real.opts.tsecr);
    ck_assert_uint_eq(agent_core_n_live(core, &cp.vip), 1);
    ck_assert(agent_core_get_conn(core, &cp, &info));
    ck_assert_int_eq(info.state, AGENT_CONN_SYN_SENT);

    /* The captured SYN/ACK answers it. */
    uint8_t *synack = xmemdup(cap1, sizeof cap1);
    clear_events();
    ck_assert_int_eq(agent_core_from_server(core, synack, sizeof cap1, 1001,
                                            &egress), AGENT_DROP);
    free(synack);
    ck_assert_str_eq(kinds(), "FPM");
    parse_frame(events[0].frame, &ack);
    ck_assert_uint_eq(ack.flags, TCP_ACK);
    ck_assert_uint_eq(ack.seq, CAP_CLIENT_ISN + 1);
    ck_assert_uint_eq(ack.ack, CAP_SERVER_ISN + 1);
    ck_assert_uint_eq(ack.payload_len, 0);
    ck_assert(ack.opts.has_ts);
    ck_assert_uint_eq(ack.opts.tsval, CAP_CLIENT_TSVAL);
    ck_assert_uint_eq(ack.opts.tsecr, CAP_SERVER_TSVAL);
    ck_assert_uint_eq((uint32_t) ack.window << 10, 63 << 10);
    check_accepted(&cp);

    ck_assert(agent_core_get_conn(core, &cp, &info));
    ck_assert_int_eq(info.state, AGENT_CONN_ESTABLISHED);
    ck_assert_uint_eq(info.xlate.delta, 0x12345678 - CAP_SERVER_ISN);
    ck_assert_uint_eq(info.xlate.ts_delta, 7777 - CAP_SERVER_TSVAL);
    ck_assert_uint_eq(info.xlate.ws_srv, 10);
    ck_assert_uint_eq(info.xlate.ws_lb, 7);
    ck_assert(info.xlate.ts);
    ck_assert(info.xlate.sack);
    ck_assert_uint_eq(info.ingress, 3);
    ck_assert(info.egress >= 1 && info.egress <= 3);
    ck_assert_uint_eq(info.syn_tries, 1);
    ck_assert_uint_eq(agent_core_get_stats(core)->accepted, 1);
}
END_TEST

/* Retransmitted requests are answered again, never handled twice. */
START_TEST(test_idempotent_request)
{
    struct flow_key cp = cp_make("198.51.100.2", 40001, "203.0.113.10", 80);
    struct ctl_conn_req r = req_make(&cp, 1000, 2000, 3);

    conn_req(&r, &local_ok, 0);
    clear_events();
    conn_req(&r, &local_ok, 10);           /* During the handshake. */
    ck_assert_str_eq(kinds(), "");
    ck_assert_uint_eq(agent_core_get_stats(core)->pending_dups, 1);
    teardown();

    setup();
    establish(&cp, 1000, 2000, 5000, 1, 7, 0);
    clear_events();
    /* Even when the agent can no longer take new connections. */
    struct agent_local busy = local_ok;
    busy.ready = false;
    conn_req(&r, &busy, 20);
    ck_assert_str_eq(kinds(), "M");
    check_accepted(&cp);
    ck_assert_uint_eq(agent_core_get_stats(core)->reaccepted, 1);
    ck_assert_uint_eq(agent_core_get_stats(core)->accepted, 1);
    ck_assert_uint_eq(agent_core_n_conns(core), 1);
}
END_TEST

/* A request repeated for a connection that is over (its first answer
 * lost) is still answered, but the agent vouches only for as long as it
 * keeps the connection: not a new lease for a closed connection. */
START_TEST(test_reaccept_vouches_less)
{
    struct flow_key cp = cp_make("198.51.100.2", 40001, "203.0.113.10", 80);
    struct ctl_conn_req r = req_make(&cp, 1000, 2000, 3);

    establish(&cp, 1000, 2000, 5000, 1, 7, 0);
    ck_assert_uint_eq(last('M')->msg->accepted.lease_ms, CTL_LEASE_FULL);

    /* Live: a full lease again. */
    clear_events();
    conn_req(&r, &local_ok, 50);
    check_accepted(&cp);
    ck_assert_uint_eq(last('M')->msg->accepted.lease_ms, CTL_LEASE_FULL);

    /* Its socket gone at 100: forgotten 10 s later, so at 1,100 the agent
     * vouches for 9 s. */
    agent_core_sockets_begin(core, 100);
    agent_core_sockets_end(core, 100, 0);
    clear_events();
    conn_req(&r, &local_ok, 1100);
    check_accepted(&cp);
    ck_assert_uint_eq(last('M')->msg->accepted.lease_ms, 9000);
    conn_req(&r, &local_ok, 100 + 10000 + 500);
    ck_assert_uint_eq(last('M')->msg->accepted.lease_ms, 0);
    ck_assert_uint_eq(agent_core_get_stats(core)->reaccepted, 3);
}
END_TEST

/* A tracker's CONNECT retries can outlast the agent's memory of a
 * connection (the simulator, seeds 224 and 289 of 1,000, issue 17): once
 * the entry is removed, a retry of its CONN_REQ gets an ACCEPTED that
 * vouches for nothing, and no SYN for the server; a new connection on the
 * CP (other ISNs) gets its SYN; the tombstone goes after tombstone_ms
 * (the bound: test_table_bound_evicts_idle). */
START_TEST(test_retry_after_forgotten)
{
    struct flow_key cp = cp_make("198.51.100.2", 40009, "203.0.113.10", 80);
    struct flow_key cp2 = cp_make("198.51.100.2", 40010, "203.0.113.10", 80);
    struct ctl_conn_req r = req_make(&cp, 1000, 2000, 3);
    const struct agent_stats *st = agent_core_get_stats(core);
    struct agent_limits limits;
    struct agent_conn_info info;

    agent_limits_init(&limits);
    ck_assert_uint_eq(limits.tombstone_ms, 30000);
    establish(&cp, 1000, 2000, 5000, 1, 7, 0);
    establish(&cp2, 3000, 4000, 6000, 1, 7, 0);

    /* Both sockets gone at 100: the entries go 10 s later. */
    agent_core_sockets_begin(core, 100);
    agent_core_sockets_end(core, 100, 0);
    agent_core_run(core, 100 + 10000);
    agent_core_run(core, 100 + 12000);
    ck_assert(!agent_core_get_conn(core, &cp, &info));
    ck_assert(!agent_core_get_conn(core, &cp2, &info));

    clear_events();
    conn_req(&r, &local_ok, 13000);
    ck_assert_str_eq(kinds(), "M");
    check_accepted(&cp);
    ck_assert_uint_eq(last('M')->msg->accepted.lease_ms, 0);
    ck_assert_uint_eq(st->retries_forgotten, 1);
    ck_assert(!agent_core_get_conn(core, &cp, &info));

    /* A new connection on cp2's CP: a SYN, whatever the tombstone. */
    struct ctl_conn_req r2 = req_make(&cp2, 7777, 8888, 3);
    clear_events();
    conn_req(&r2, &local_ok, 13000);
    ck_assert_str_eq(kinds(), "F");
    ck_assert(agent_core_get_conn(core, &cp2, &info));
    ck_assert_uint_eq(info.client_isn, 7777);

    /* Removed 30 s after the entry: the tombstone is gone too. */
    ck_assert_int_le(agent_core_next_deadline(core), 100 + 12000 + 30000);
    agent_core_run(core, 100 + 12000 + 30000);
    clear_events();
    conn_req(&r, &local_ok, 100 + 12000 + 30000);
    ck_assert_str_eq(kinds(), "F");
    ck_assert_uint_eq(st->retries_forgotten, 1);
}
END_TEST

/* Another connection with the same CP pair while one lives: collision.
 * Once the first is closed, the pair may be reused. */
START_TEST(test_collision_and_reuse)
{
    struct flow_key cp = cp_make("198.51.100.2", 40002, "203.0.113.10", 80);
    struct ctl_conn_req other = req_make(&cp, 99999, 88888, 3);
    struct dp_packet b;
    uint32_t egress;

    establish(&cp, 1000, 2000, 5000, 1, 7, 0);
    clear_events();
    conn_req(&other, &local_ok, 5);
    ck_assert_str_eq(kinds(), "M");
    check_rejected(&cp, CTL_REJECT_COLLISION, 2);

    /* The server resets it. */
    void *ip = segment(&b, &cp, false, 5001, 1001, TCP_RST | TCP_ACK, 0,
                       NULL, 0);
    ck_assert_int_eq(agent_core_from_server(core, ip, ip_len(&b), 6,
                                            &egress), AGENT_FORWARD);
    dp_packet_uninit(&b);
    ck_assert_uint_eq(agent_core_n_live(core, &cp.vip), 0);

    clear_events();
    conn_req(&other, &local_ok, 7);
    ck_assert_str_eq(kinds(), "DF");       /* Old entry gone, new SYN. */
    struct agent_conn_info info;
    ck_assert(agent_core_get_conn(core, &cp, &info));
    ck_assert_uint_eq(info.client_isn, 99999);
    ck_assert_int_eq(info.state, AGENT_CONN_SYN_SENT);
}
END_TEST

START_TEST(test_reject_not_mine)
{
    struct flow_key cp = cp_make("198.51.100.2", 40003, "203.0.113.10", 80);
    struct ctl_conn_req r = req_make(&cp, 1, 2, 3);

    r.server = SELF + 1;
    conn_req(&r, &local_ok, 0);
    check_rejected(&cp, CTL_REJECT_NOT_MINE, 2);

    struct flow_key other_port = cp_make("198.51.100.2", 40003,
                                         "203.0.113.10", 81);
    r = req_make(&other_port, 1, 2, 3);
    conn_req(&r, &local_ok, 0);
    check_rejected(&other_port, CTL_REJECT_NOT_MINE, 2);

    struct flow_key udp = cp;
    udp.proto = IPPROTO_UDP;
    r = req_make(&udp, 1, 2, 1);
    conn_req(&r, &local_ok, 0);
    check_rejected(&udp, CTL_REJECT_NOT_MINE, 0);

    ck_assert_uint_eq(agent_core_n_conns(core), 0);
    ck_assert_uint_eq(agent_core_get_stats(core)
                      ->rejected[CTL_REJECT_NOT_MINE], 3);
    ck_assert_uint_eq(agent_core_get_stats(core)->requests, 3);
}
END_TEST

START_TEST(test_reject_not_ready_not_listening)
{
    struct flow_key cp = cp_make("198.51.100.2", 40004, "203.0.113.10", 80);
    struct ctl_conn_req r = req_make(&cp, 1, 2, 1);
    struct agent_local l = local_ok;

    l.ready = false;
    conn_req(&r, &l, 0);
    check_rejected(&cp, CTL_REJECT_NOT_READY, 0);

    l = local_ok;
    l.listening = false;
    conn_req(&r, &l, 0);
    check_rejected(&cp, CTL_REJECT_NOT_LISTENING, 0);
    ck_assert_str_eq(kinds(), "MM");
    ck_assert_uint_eq(agent_core_n_conns(core), 0);
}
END_TEST

/* Limits refuse requests with TTL left, not those with TTL 1. */
START_TEST(test_limits_and_ttl)
{
    struct agent_limits limits;
    struct ctl_conn_req r;
    struct flow_key cp;

    agent_limits_init(&limits);
    limits.conn_limit = 2;
    agent_core_set_limits(core, &limits);

    for (int i = 0; i < 2; i++) {
        cp = cp_make("198.51.100.2", 41000 + i, "203.0.113.10", 80);
        r = req_make(&cp, i, i, 3);
        conn_req(&r, &local_ok, 0);
        ck_assert_int_eq(last('F') - events, (int) n_events - 1);
    }
    ck_assert_uint_eq(agent_core_n_live(core, &cp.vip), 2);

    /* The limit is per VIP: another VIP still takes one. */
    cp = cp_make("198.51.100.2", 41000, "203.0.113.11", 80);
    r = req_make(&cp, 7, 7, 3);
    clear_events();
    conn_req(&r, &local_ok, 0);
    ck_assert_str_eq(kinds(), "F");

    cp = cp_make("198.51.100.2", 41002, "203.0.113.10", 80);
    r = req_make(&cp, 9, 9, 3);
    clear_events();
    conn_req(&r, &local_ok, 0);
    check_rejected(&cp, CTL_REJECT_LIMIT, 2);
    r.ttl = 2;
    conn_req(&r, &local_ok, 0);
    check_rejected(&cp, CTL_REJECT_LIMIT, 1);
    /* The configured limit is hard: even the last chance is refused, so
     * that the PFT's decision becomes final (a RST to the client). */
    r.ttl = 1;
    conn_req(&r, &local_ok, 0);
    check_rejected(&cp, CTL_REJECT_LIMIT, 0);
    ck_assert_uint_eq(agent_core_n_live(core, &cp.vip), 2);

    /* Load and memory. */
    limits.conn_limit = 0;
    limits.max_load_milli = 2000;
    limits.min_mem_kb = 65536;
    agent_core_set_limits(core, &limits);
    struct agent_local l = local_ok;
    l.load_milli = 2001;
    cp = cp_make("198.51.100.3", 1, "203.0.113.10", 80);
    r = req_make(&cp, 1, 1, 3);
    conn_req(&r, &l, 0);
    check_rejected(&cp, CTL_REJECT_LOAD, 2);
    l.load_milli = 2000;
    l.mem_kb = 65535;
    conn_req(&r, &l, 0);
    check_rejected(&cp, CTL_REJECT_MEMORY, 2);
    r.ttl = 1;
    clear_events();
    conn_req(&r, &l, 0);
    ck_assert_str_eq(kinds(), "F");

    /* The table's bound holds whatever the TTL. */
    limits.max_conns = agent_core_n_conns(core);
    agent_core_set_limits(core, &limits);
    cp = cp_make("198.51.100.3", 2, "203.0.113.10", 80);
    r = req_make(&cp, 1, 1, 1);
    conn_req(&r, &local_ok, 0);
    check_rejected(&cp, CTL_REJECT_MEMORY, 0);

    const struct agent_stats *st = agent_core_get_stats(core);
    ck_assert_uint_eq(st->rejected[CTL_REJECT_LIMIT], 3);
    ck_assert_uint_eq(st->rejected[CTL_REJECT_LOAD], 1);
    ck_assert_uint_eq(st->rejected[CTL_REJECT_MEMORY], 2);
}
END_TEST

/* No SYN/ACK: the SYN is sent 3 times, 1 s apart, then REJECTED. */
START_TEST(test_syn_retransmit_and_give_up)
{
    struct flow_key cp = cp_make("198.51.100.2", 40005, "203.0.113.10", 80);
    struct ctl_conn_req r = req_make(&cp, 1, 2, 3);

    conn_req(&r, &local_ok, 10000);
    ck_assert_int_eq(agent_core_next_deadline(core), 11000);
    agent_core_run(core, 10999);
    ck_assert_str_eq(kinds(), "F");
    agent_core_run(core, 11000);
    ck_assert_str_eq(kinds(), "FF");
    agent_core_run(core, 12000);
    ck_assert_str_eq(kinds(), "FFF");
    for (size_t i = 0; i < 3; i++) {
        ck_assert_uint_eq(events[i].frame->size, events[0].frame->size);
    }
    ck_assert_int_eq(agent_core_next_deadline(core), 13000);
    agent_core_run(core, 13000);
    ck_assert_str_eq(kinds(), "FFFM");
    check_rejected(&cp, CTL_REJECT_NOT_READY, 2);
    ck_assert_uint_eq(agent_core_n_conns(core), 0);
    ck_assert_uint_eq(agent_core_n_live(core, &cp.vip), 0);
    ck_assert_int_eq(agent_core_next_deadline(core), LLONG_MAX);
    ck_assert_uint_eq(agent_core_get_stats(core)->syn_timeouts, 1);
    ck_assert_uint_eq(agent_core_get_stats(core)->syn_sent, 3);
}
END_TEST

/* The server answers a SYN whose handshake was given up (or lost with a
 * restart): its half-open socket is reset at once, not left in SYN-RECV
 * (and published) until the kernel stops retransmitting. */
START_TEST(test_orphan_synack_reset)
{
    struct flow_key cp = cp_make("198.51.100.2", 40011, "203.0.113.10", 80);
    struct ctl_conn_req r = req_make(&cp, 500, 2, 3);
    const struct agent_stats *st = agent_core_get_stats(core);
    struct tcp_seg_info rst;
    struct dp_packet b;
    uint32_t egress;
    void *ip;

    conn_req(&r, &local_ok, 0);
    for (long long int t = 1000; t <= 3000; t += 1000) {
        agent_core_run(core, t);    /* at last given up: REJECTED */
    }
    ck_assert_uint_eq(agent_core_n_conns(core), 0);
    clear_events();

    ip = segment(&b, &cp, false, 7000, 501, TCP_SYN | TCP_ACK, 100, NULL, 0);
    ck_assert_int_eq(agent_core_from_server(core, ip, ip_len(&b), 3500,
                                            &egress), AGENT_DROP);
    dp_packet_uninit(&b);
    ck_assert_str_eq(kinds(), "F");
    parse_frame(events[0].frame, &rst);
    ck_assert_uint_eq(rst.flags & (TCP_RST | TCP_SYN | TCP_ACK), TCP_RST);
    ck_assert_uint_eq(rst.seq, 501);
    ck_assert_uint_eq(rst.tp_src, cp.client_port);
    ck_assert_uint_eq(rst.tp_dst, cp.vip_port);
    ck_assert(ipv6_addr_equals(&rst.ip_src, &cp.client));
    ck_assert(ipv6_addr_equals(&rst.ip_dst, &cp.vip));
    ck_assert_uint_eq(st->synack_resets, 1);
    ck_assert_uint_eq(agent_core_n_conns(core), 0);

    /* Nothing else of an unknown connection is answered: not a bare SYN,
     * not a RST, and the server's other segments pass untouched. */
    clear_events();
    ip = segment(&b, &cp, false, 7000, 0, TCP_SYN, 100, NULL, 0);
    ck_assert_int_eq(agent_core_from_server(core, ip, ip_len(&b), 3600,
                                            &egress), AGENT_DROP);
    dp_packet_uninit(&b);
    ip = segment(&b, &cp, false, 7000, 501, TCP_SYN | TCP_ACK | TCP_RST, 100,
                 NULL, 0);
    ck_assert_int_eq(agent_core_from_server(core, ip, ip_len(&b), 3600,
                                            &egress), AGENT_DROP);
    dp_packet_uninit(&b);
    ck_assert_str_eq(kinds(), "");
    ck_assert_uint_eq(st->synack_resets, 1);
}
END_TEST

/* The server resets the SYN (its listener went away). */
START_TEST(test_server_refuses)
{
    struct flow_key cp = cp_make("198.51.100.2", 40006, "203.0.113.10", 80);
    struct ctl_conn_req r = req_make(&cp, 500, 2, 3);
    struct dp_packet b;
    uint32_t egress;

    conn_req(&r, &local_ok, 0);
    void *ip = segment(&b, &cp, false, 0, 501, TCP_RST | TCP_ACK, 0, NULL, 0);
    ck_assert_int_eq(agent_core_from_server(core, ip, ip_len(&b), 1,
                                            &egress), AGENT_DROP);
    dp_packet_uninit(&b);
    check_rejected(&cp, CTL_REJECT_NOT_LISTENING, 2);
    ck_assert_uint_eq(agent_core_n_conns(core), 0);
}
END_TEST

/* A SYN/ACK whose ack does not match the SYN is not taken. */
START_TEST(test_wrong_synack_ignored)
{
    struct flow_key cp = cp_make("198.51.100.2", 40007, "203.0.113.10", 80);
    struct ctl_conn_req r = req_make(&cp, 500, 2, 3);
    struct agent_conn_info info;
    struct dp_packet b;
    uint32_t egress;

    conn_req(&r, &local_ok, 0);
    clear_events();
    void *ip = segment(&b, &cp, false, 77, 502, TCP_SYN | TCP_ACK, 100,
                       NULL, 0);
    ck_assert_int_eq(agent_core_from_server(core, ip, ip_len(&b), 1,
                                            &egress), AGENT_DROP);
    dp_packet_uninit(&b);
    ck_assert_str_eq(kinds(), "");
    ck_assert(agent_core_get_conn(core, &cp, &info));
    ck_assert_int_eq(info.state, AGENT_CONN_SYN_SENT);
}
END_TEST

/* Our ACK was lost: the server's repeated SYN/ACK is answered again. */
START_TEST(test_synack_retransmission)
{
    struct flow_key cp = cp_make("198.51.100.2", 40000, "203.0.113.10", 80);
    struct ctl_conn_req r = req_make(&cp, CAP_CLIENT_ISN, 1, 3);
    struct tcp_seg_info ack;
    uint32_t egress;

    conn_req(&r, &local_ok, 0);
    for (int i = 0; i < 2; i++) {
        uint8_t *p = xmemdup(cap1, sizeof cap1);
        clear_events();
        ck_assert_int_eq(agent_core_from_server(core, p, sizeof cap1, 1,
                                                &egress), AGENT_DROP);
        free(p);
        parse_frame(events[0].frame, &ack);
        ck_assert_uint_eq(ack.ack, CAP_SERVER_ISN + 1);
    }
    ck_assert_str_eq(kinds(), "F");        /* No second ACCEPTED. */
    ck_assert_uint_eq(agent_core_get_stats(core)->synack_dups, 1);
}
END_TEST

/* Translation. */

/* The whole captured connection through the agent: what the agent gives
 * each side is what that side would have received from a direct connection,
 * with the LB tier's numbering on the client's side, and checksums that
 * match a full recomputation. */
static void
run_capture(uint8_t lb_wscale)
{
    const uint32_t D = 0x12345678, TSD = 1000000;
    struct flow_key cp = cp_make("198.51.100.2", 40000, "203.0.113.10", 80);
    struct ctl_conn_req r = req_make(&cp, CAP_CLIENT_ISN,
                                     CAP_SERVER_ISN + D, 3);
    struct { const uint8_t *p; size_t len; bool from_client; } segs[] = {
        { cap2, sizeof cap2, true },
        { cap3, sizeof cap3, true },
        { cap4, sizeof cap4, false },
        { cap5, sizeof cap5, true },
        { cap6, sizeof cap6, false },
        { cap7, sizeof cap7, true },
    };
    uint32_t egress;

    r.lb_tsval = CAP_SERVER_TSVAL + TSD;
    r.lb_wscale = lb_wscale;
    conn_req(&r, &local_ok, 0);
    uint8_t *p = xmemdup(cap1, sizeof cap1);
    ck_assert_int_eq(agent_core_from_server(core, p, sizeof cap1, 0,
                                            &egress), AGENT_DROP);
    free(p);

    for (size_t i = 0; i < ARRAY_SIZE(segs); i++) {
        const uint8_t *cap = segs[i].p;
        size_t len = segs[i].len;
        uint8_t *in, *want;

        if (segs[i].from_client) {
            /* The client's segment, numbered by the LB tier... */
            in = rewrite(cap, len, 0, D, 0, TSD, D, -1);
            /* ...reaches the server as captured. */
            want = xmemdup(cap, len);
            ck_assert_int_eq(agent_core_from_client(core, in, len, 2, i),
                             AGENT_FORWARD);
        } else {
            struct tcp_seg_info info;

            ck_assert_int_eq(tcp_seg_parse_ip(cap, len, &info), 0);
            in = xmemdup(cap, len);
            uint32_t win = MIN(65535, (info.window << 10) >> lb_wscale);
            want = rewrite(cap, len, D, 0, TSD, 0, 0,
                           win == info.window ? -1 : (int) win);
            ck_assert_int_eq(agent_core_from_server(core, in, len, i,
                                                    &egress),
                             AGENT_FORWARD);
            ck_assert(egress >= 1 && egress <= 3);
        }
        ck_assert_msg(!memcmp(in, want, len), "segment %zu differs", i);
        ck_assert(tcp_seg_verify_csum(in, len));
        free(in);
        free(want);
    }

    struct agent_conn_info info;
    ck_assert(agent_core_get_conn(core, &cp, &info));
    ck_assert_int_eq(info.state, AGENT_CONN_CLOSED);
    ck_assert(info.fin_client && info.fin_server);
    ck_assert_uint_eq(info.pkts_to_server, 4);
    ck_assert_uint_eq(info.pkts_to_client, 2);
    ck_assert_uint_eq(info.ingress, 2);
    ck_assert_uint_eq(agent_core_n_live(core, &cp.vip), 0);
    ck_assert_uint_eq(agent_core_get_stats(core)->to_server, 4);
    ck_assert_uint_eq(agent_core_get_stats(core)->to_client, 2);

    /* The same counts as metrics. */
    struct metrics *m = metrics_create();
    struct smap samples = SMAP_INITIALIZER(&samples);
    struct ds text = DS_EMPTY_INITIALIZER;

    metrics_set_common_label(m, "role", "server");
    agent_core_put_metrics(core, m);
    metrics_render(m, &text);
    assert_parses(ds_cstr(&text), &samples);
    ck_assert_str_eq(smap_get(&samples, "ovslb_agent_translated_to_server"
                              "_total{role=server}"), "4");
    ck_assert_str_eq(smap_get(&samples, "ovslb_agent_translated_to_client"
                              "_total{role=server}"), "2");
    ck_assert_str_eq(smap_get(&samples, "ovslb_agent_connections_accepted"
                              "_total{role=server}"), "1");
    ck_assert_str_eq(smap_get(&samples,
                              "ovslb_agent_entries{role=server}"), "1");
    ck_assert_str_eq(smap_get(&samples, "ovslb_agent_rejected_total"
                              "{role=server,reason=limit}"), "0");
    smap_destroy(&samples);
    ds_destroy(&text);
    metrics_destroy(m);
}

START_TEST(test_capture_same_wscale)
{
    run_capture(10);
}
END_TEST

START_TEST(test_capture_rescaled_window)
{
    run_capture(7);
}
END_TEST

/* SACK blocks and TSecr from the client, TSval and window from the server,
 * with a server that announced a smaller window scale than the LB tier. */
START_TEST(test_sack_ts_window)
{
    struct flow_key cp = cp_make("198.51.100.9", 50000, "203.0.113.10", 5201);
    const uint32_t isn_lb = 0xfffffff0, isn_srv = 100, srv_ts = 4000000000u;
    struct tcp_seg_info info;
    struct tcp_opts o;
    struct dp_packet b;
    uint32_t egress;

    establish(&cp, 1, isn_lb, isn_srv, srv_ts, 2, 0);

    memset(&o, 0, sizeof o);
    o.has_ts = true;
    o.tsval = 12;
    o.tsecr = 7777 + 5;
    o.n_sack = 2;
    o.sack[0].left = isn_lb + 1 + 3000;
    o.sack[0].right = isn_lb + 1 + 4000;
    o.sack[1].left = isn_lb + 1 + 6000;
    o.sack[1].right = isn_lb + 1 + 7000;
    void *ip = segment(&b, &cp, true, 2, isn_lb + 1 + 1000, TCP_ACK, 500,
                       &o, 0);
    ck_assert_int_eq(agent_core_from_client(core, ip, ip_len(&b), 1, 1),
                     AGENT_FORWARD);
    ck_assert_int_eq(tcp_seg_parse_ip(ip, ip_len(&b), &info), 0);
    ck_assert(tcp_seg_verify_csum(ip, ip_len(&b)));
    ck_assert_uint_eq(info.ack, isn_srv + 1 + 1000);
    ck_assert_uint_eq(info.opts.tsval, 12);
    ck_assert_uint_eq(info.opts.tsecr, srv_ts + 5);
    ck_assert_uint_eq(info.opts.sack[0].left, isn_srv + 1 + 3000);
    ck_assert_uint_eq(info.opts.sack[0].right, isn_srv + 1 + 4000);
    ck_assert_uint_eq(info.opts.sack[1].left, isn_srv + 1 + 6000);
    ck_assert_uint_eq(info.opts.sack[1].right, isn_srv + 1 + 7000);
    ck_assert_uint_eq(info.window, 500);   /* Client's: untouched. */
    dp_packet_uninit(&b);

    memset(&o, 0, sizeof o);
    o.has_ts = true;
    o.tsval = srv_ts + 9;
    o.tsecr = 12;
    ip = segment(&b, &cp, false, isn_srv + 1 + 1448, 2, TCP_ACK | TCP_PSH,
                 40000, &o, 1448);
    ck_assert_int_eq(agent_core_from_server(core, ip, ip_len(&b), 2,
                                            &egress), AGENT_FORWARD);
    ck_assert_int_eq(tcp_seg_parse_ip(ip, ip_len(&b), &info), 0);
    ck_assert(tcp_seg_verify_csum(ip, ip_len(&b)));
    ck_assert_uint_eq(info.seq, isn_lb + 1 + 1448);
    ck_assert_uint_eq(info.opts.tsval, 7777 + 9);
    ck_assert_uint_eq(info.opts.tsecr, 12);
    ck_assert_uint_eq(info.window, (40000 << 2) >> 7);
    ck_assert_uint_eq(info.payload_len, 1448);
    dp_packet_uninit(&b);
}
END_TEST

/* A server that did not scale its window while the client was told to. */
START_TEST(test_server_without_wscale)
{
    struct flow_key cp = cp_make("198.51.100.9", 50001, "203.0.113.10", 80);
    struct agent_conn_info info;
    struct tcp_seg_info seg;
    struct dp_packet b;
    uint32_t egress;

    establish(&cp, 1, 1000, 2000, 3, -1, 0);
    ck_assert(agent_core_get_conn(core, &cp, &info));
    ck_assert_uint_eq(info.xlate.ws_srv, 0);
    ck_assert_uint_eq(info.xlate.ws_lb, 7);
    void *ip = segment(&b, &cp, false, 2001, 2, TCP_ACK, 65535, NULL, 0);
    ck_assert_int_eq(agent_core_from_server(core, ip, ip_len(&b), 2,
                                            &egress), AGENT_FORWARD);
    ck_assert_int_eq(tcp_seg_parse_ip(ip, ip_len(&b), &seg), 0);
    ck_assert_uint_eq(seg.window, 65535 >> 7);
    dp_packet_uninit(&b);
}
END_TEST

/* What is not a translated connection. */
START_TEST(test_unmanaged_segments)
{
    struct flow_key tracked = cp_make("198.51.100.2", 40010, "203.0.113.10",
                                      80);
    struct flow_key hashed = cp_make("198.51.100.2", 40010, "203.0.113.12",
                                     80);
    struct flow_key foreign = cp_make("198.51.100.2", 40010, "203.0.113.10",
                                      22);
    const struct agent_stats *st = agent_core_get_stats(core);
    struct dp_packet b;
    uint32_t egress;
    void *ip;

    /* Tracked VIP, no entry: client segments dropped, SYNs too. */
    ip = segment(&b, &tracked, true, 1, 2, TCP_ACK, 100, NULL, 10);
    ck_assert_int_eq(agent_core_from_client(core, ip, ip_len(&b), 1, 0),
                     AGENT_DROP);
    dp_packet_uninit(&b);
    ip = segment(&b, &tracked, true, 1, 0, TCP_SYN, 100, NULL, 0);
    ck_assert_int_eq(agent_core_from_client(core, ip, ip_len(&b), 1, 0),
                     AGENT_DROP);
    dp_packet_uninit(&b);
    ck_assert_uint_eq(st->drop_no_entry, 1);
    ck_assert_uint_eq(st->drop_client_syn, 1);

    /* Server segment without entry: passes untouched, to its egress. */
    ip = segment(&b, &tracked, false, 5, 6, TCP_ACK, 100, NULL, 10);
    uint8_t *copy = xmemdup(ip, ip_len(&b));
    ck_assert_int_eq(agent_core_from_server(core, ip, ip_len(&b), 0,
                                            &egress), AGENT_FORWARD);
    ck_assert(!memcmp(copy, ip, ip_len(&b)));
    struct ring *ring = ring_create(lbs, ARRAY_SIZE(lbs), RING_KEY, 0);
    ck_assert_uint_eq(egress, ring_egress(ring, &tracked));
    ring_destroy(ring);
    free(copy);
    dp_packet_uninit(&b);

    /* Hash-mode VIP: both ways untouched. */
    ip = segment(&b, &hashed, true, 1, 0, TCP_SYN, 100, NULL, 0);
    copy = xmemdup(ip, ip_len(&b));
    ck_assert_int_eq(agent_core_from_client(core, ip, ip_len(&b), 1, 0),
                     AGENT_FORWARD);
    ck_assert(!memcmp(copy, ip, ip_len(&b)));
    free(copy);
    dp_packet_uninit(&b);
    ip = segment(&b, &hashed, false, 1, 2, TCP_SYN | TCP_ACK, 100, NULL, 0);
    ck_assert_int_eq(agent_core_from_server(core, ip, ip_len(&b), 0,
                                            &egress), AGENT_FORWARD);
    ck_assert(egress != 0);
    dp_packet_uninit(&b);
    ck_assert_uint_eq(st->passed_to_server, 1);
    ck_assert_uint_eq(st->passed_to_client, 2);

    /* Not a VIP port of ours. */
    ip = segment(&b, &foreign, true, 1, 2, TCP_ACK, 100, NULL, 0);
    ck_assert_int_eq(agent_core_from_client(core, ip, ip_len(&b), 1, 0),
                     AGENT_DROP);
    dp_packet_uninit(&b);
    ip = segment(&b, &foreign, false, 1, 2, TCP_ACK, 100, NULL, 0);
    ck_assert_int_eq(agent_core_from_server(core, ip, ip_len(&b), 0,
                                            &egress), AGENT_DROP);
    dp_packet_uninit(&b);
    ck_assert_uint_eq(st->drop_not_vip, 2);

    /* No LB node at all. */
    ck_assert(agent_core_set_lb_nodes(core, NULL, 0, RING_KEY, 0));
    ip = segment(&b, &tracked, false, 5, 6, TCP_ACK, 100, NULL, 10);
    ck_assert_int_eq(agent_core_from_server(core, ip, ip_len(&b), 0,
                                            &egress), AGENT_DROP);
    dp_packet_uninit(&b);
    ck_assert_uint_eq(st->drop_no_egress, 1);
}
END_TEST

/* A tracked VIP port's socket without a translation entry (a connection
 * of the port's time in mode hash): the client's segments other than SYNs
 * pass untranslated for as long as the kernel has it. */
START_TEST(test_untranslated_socket)
{
    struct flow_key cp = cp_make("198.51.100.2", 40020, "203.0.113.10", 80);
    const struct agent_stats *st = agent_core_get_stats(core);
    struct dp_packet b;
    void *ip;

    agent_core_sockets_begin(core, 100);
    agent_core_socket_seen(core, &cp, true);
    agent_core_sockets_end(core, 100, 0);

    ip = segment(&b, &cp, true, 1, 2, TCP_ACK, 100, NULL, 10);
    uint8_t *copy = xmemdup(ip, ip_len(&b));
    ck_assert_int_eq(agent_core_from_client(core, ip, ip_len(&b), 1, 0),
                     AGENT_FORWARD);
    ck_assert(!memcmp(copy, ip, ip_len(&b)));
    free(copy);
    dp_packet_uninit(&b);
    ip = segment(&b, &cp, true, 1, 0, TCP_SYN, 100, NULL, 0);
    ck_assert_int_eq(agent_core_from_client(core, ip, ip_len(&b), 1, 0),
                     AGENT_DROP);
    dp_packet_uninit(&b);
    ck_assert_uint_eq(st->passed_untranslated, 1);

    /* The socket is gone: its segments are dropped again. */
    agent_core_sockets_begin(core, 200);
    agent_core_sockets_end(core, 200, 0);
    ip = segment(&b, &cp, true, 1, 2, TCP_ACK, 100, NULL, 10);
    ck_assert_int_eq(agent_core_from_client(core, ip, ip_len(&b), 1, 0),
                     AGENT_DROP);
    dp_packet_uninit(&b);
    ck_assert_uint_eq(st->passed_untranslated, 1);
    ck_assert_uint_eq(st->drop_no_entry, 1);
}
END_TEST

/* Segments of a connection during its handshake are not let through. */
START_TEST(test_pending_segments_dropped)
{
    struct flow_key cp = cp_make("198.51.100.2", 40011, "203.0.113.10", 80);
    struct ctl_conn_req r = req_make(&cp, 1, 2, 3);
    struct dp_packet b;
    uint32_t egress;

    conn_req(&r, &local_ok, 0);
    void *ip = segment(&b, &cp, true, 2, 3, TCP_ACK, 100, NULL, 5);
    ck_assert_int_eq(agent_core_from_client(core, ip, ip_len(&b), 1, 0),
                     AGENT_DROP);
    dp_packet_uninit(&b);
    ip = segment(&b, &cp, false, 2, 2, TCP_ACK, 100, NULL, 5);
    ck_assert_int_eq(agent_core_from_server(core, ip, ip_len(&b), 0,
                                            &egress), AGENT_DROP);
    dp_packet_uninit(&b);
    ck_assert_uint_eq(agent_core_get_stats(core)->drop_pending, 2);
}
END_TEST

/* Malformed and hostile input never crashes and is counted. */
START_TEST(test_hostile_packets)
{
    struct flow_key cp = cp_make("198.51.100.2", 40000, "203.0.113.10", 80);
    const struct agent_stats *st = agent_core_get_stats(core);
    uint8_t buf[256];
    uint32_t egress;

    establish(&cp, CAP_CLIENT_ISN, 1, CAP_SERVER_ISN, 1, 10, 0);

    /* Truncations of a valid segment. */
    for (size_t len = 0; len < sizeof cap4; len++) {
        memcpy(buf, cap4, len);
        ck_assert_int_eq(agent_core_from_server(core, buf, len, 1, &egress),
                         AGENT_DROP);
        if (len < sizeof cap2) {
            memcpy(buf, cap2, len);
            ck_assert_int_eq(agent_core_from_client(core, buf, len, 1, 1),
                             AGENT_DROP);
        }
    }
    ck_assert_uint_ge(st->drop_malformed, 2 * sizeof cap2);

    /* Random bytes and random mutations of valid segments. */
    random_set_seed(0x5eed);
    for (int i = 0; i < 20000; i++) {
        size_t len = random_range(sizeof buf);
        if (i % 2) {
            random_bytes(buf, len);
        } else {
            memcpy(buf, i % 4 ? cap4 : cap2, sizeof cap2);
            len = sizeof cap2;
            buf[random_range(len)] ^= 1 << random_range(8);
            buf[random_range(len)] = random_uint8();
        }
        if (i % 3) {
            agent_core_from_server(core, buf, len, 1, &egress);
        } else {
            agent_core_from_client(core, buf, len, 1, 1);
        }
    }
}
END_TEST

/* Table. */

/* Ingress changes follow the client's segments and are journalled. */
START_TEST(test_ingress_follows)
{
    struct flow_key cp = cp_make("198.51.100.2", 40012, "203.0.113.10", 80);
    struct agent_conn_info info;
    struct dp_packet b;

    establish(&cp, 1, 2, 3, 4, 7, 0);
    void *ip = segment(&b, &cp, true, 2, 3, TCP_ACK, 100, NULL, 0);
    clear_events();
    agent_core_from_client(core, ip, ip_len(&b), 3, 1);
    ck_assert_str_eq(kinds(), "");         /* Same ingress as requested. */
    agent_core_from_client(core, ip, ip_len(&b), 0, 1);
    ck_assert_str_eq(kinds(), "");         /* Unknown: kept. */
    agent_core_from_client(core, ip, ip_len(&b), 1, 1);
    ck_assert_str_eq(kinds(), "P");
    dp_packet_uninit(&b);
    ck_assert(agent_core_get_conn(core, &cp, &info));
    ck_assert_uint_eq(info.ingress, 1);
}
END_TEST

/* The egress node moves only when it leaves the healthy set. */
START_TEST(test_egress_sticky)
{
    struct flow_key cps[64];
    uint32_t before[64];
    struct agent_conn_info info;

    for (int i = 0; i < 64; i++) {
        cps[i] = cp_make("198.51.100.4", 1000 + i, "203.0.113.10", 80);
        establish(&cps[i], i, i, i, i, 7, 0);
        clear_events();
        ck_assert(agent_core_get_conn(core, &cps[i], &info));
        before[i] = info.egress;
    }

    /* A new node joins: nobody moves. */
    const uint32_t four[] = { 1, 2, 3, 4 };
    ck_assert(agent_core_set_lb_nodes(core, four, 4, RING_KEY, 0));
    for (int i = 0; i < 64; i++) {
        ck_assert(agent_core_get_conn(core, &cps[i], &info));
        ck_assert_uint_eq(info.egress, before[i]);
    }

    /* Node 2 leaves: only its connections move. */
    const uint32_t without2[] = { 1, 3, 4 };
    int moved = 0;
    ck_assert(agent_core_set_lb_nodes(core, without2, 3, RING_KEY, 0));
    for (int i = 0; i < 64; i++) {
        ck_assert(agent_core_get_conn(core, &cps[i], &info));
        if (before[i] == 2) {
            ck_assert(info.egress == 1 || info.egress == 3
                      || info.egress == 4);
            moved++;
        } else {
            ck_assert_uint_eq(info.egress, before[i]);
        }
    }
    ck_assert_int_gt(moved, 0);
    ck_assert_uint_eq(agent_core_get_stats(core)->egress_moves, moved);

    /* Nobody healthy: connections keep what they had. */
    ck_assert(agent_core_set_lb_nodes(core, NULL, 0, RING_KEY, 0));
    ck_assert(agent_core_get_conn(core, &cps[0], &info));
    ck_assert(info.egress != 0);

    /* Refused ring: nothing changes. */
    const uint32_t zero[] = { 0 };
    ck_assert(!agent_core_set_lb_nodes(core, zero, 1, RING_KEY, 0));
}
END_TEST

/* The kernel forgot the socket: the entry goes 'linger_ms' later. */
START_TEST(test_reconcile_linger)
{
    struct flow_key a = cp_make("198.51.100.5", 1, "203.0.113.10", 80);
    struct flow_key b = cp_make("198.51.100.5", 2, "203.0.113.10", 80);
    struct flow_key c = cp_make("198.51.100.5", 3, "203.0.113.10", 80);
    struct agent_conn_info info;

    establish(&a, 1, 1, 1, 1, 7, 0);
    establish(&b, 2, 2, 2, 2, 7, 0);
    ck_assert_uint_eq(agent_core_n_live(core, &a.vip), 2);

    agent_core_sockets_begin(core, 100);
    establish(&c, 3, 3, 3, 3, 7, 150);     /* Newer than the dump. */
    agent_core_socket_seen(core, &a, true);
    ck_assert_uint_eq(agent_core_sockets_end(core, 200, 0), 0);

    ck_assert(agent_core_get_conn(core, &a, &info) && !info.gone);
    ck_assert(agent_core_get_conn(core, &b, &info) && info.gone);
    ck_assert(agent_core_get_conn(core, &c, &info) && !info.gone);
    ck_assert_uint_eq(agent_core_n_live(core, &a.vip), 2);

    clear_events();
    agent_core_run(core, 200 + 9999);
    ck_assert(agent_core_get_conn(core, &b, &info));
    agent_core_run(core, 200 + 10000 + 1000);
    ck_assert(!agent_core_get_conn(core, &b, &info));
    ck_assert_str_eq(kinds(), "D");
    ck_assert(flow_key_equals(&events[0].cp, &b));

    /* Seen again before it went: it lives on. */
    agent_core_sockets_begin(core, 20000);
    ck_assert_uint_eq(agent_core_sockets_end(core, 20000, 0), 0);
    ck_assert(agent_core_get_conn(core, &a, &info) && info.gone);
    ck_assert_uint_eq(agent_core_n_live(core, &a.vip), 0);
    agent_core_sockets_begin(core, 21000);
    agent_core_socket_seen(core, &a, true);
    agent_core_socket_seen(core, &c, true);
    agent_core_sockets_end(core, 21000, 0);
    ck_assert(agent_core_get_conn(core, &a, &info) && !info.gone);
    ck_assert_uint_eq(agent_core_n_live(core, &a.vip), 2);
}
END_TEST

/* A closed connection goes after 'closed_idle_ms' without packets, even if
 * the kernel is never asked. */
START_TEST(test_closed_idle)
{
    struct flow_key cp = cp_make("198.51.100.5", 9, "203.0.113.10", 80);
    struct agent_conn_info info;
    struct dp_packet b;

    establish(&cp, 1, 1, 1, 1, 7, 0);
    void *ip = segment(&b, &cp, true, 2, 2, TCP_RST, 0, NULL, 0);
    ck_assert_int_eq(agent_core_from_client(core, ip, ip_len(&b), 1, 500),
                     AGENT_FORWARD);
    dp_packet_uninit(&b);
    ck_assert(agent_core_get_conn(core, &cp, &info));
    ck_assert_int_eq(info.state, AGENT_CONN_CLOSED);
    ck_assert_int_eq(last('P')->expires, 70000 + 10000);
    agent_core_run(core, 500 + 69999);
    ck_assert(agent_core_get_conn(core, &cp, &info));
    agent_core_run(core, 500 + 70000 + 1000);
    ck_assert(!agent_core_get_conn(core, &cp, &info));
    ck_assert_uint_eq(agent_core_get_stats(core)->closed, 1);
}
END_TEST

/* The bound of the table (xlate_table_max, issue 18). */

/* Closes the translated connection 'cp' with a RST from its client at
 * 'now'. */
static void
reset_by_client(const struct flow_key *cp, long long int now)
{
    struct dp_packet b;
    void *ip = segment(&b, cp, true, 2, 2, TCP_RST, 0, NULL, 0);

    ck_assert_int_eq(agent_core_from_client(core, ip, ip_len(&b), 1, now),
                     AGENT_FORWARD);
    dp_packet_uninit(&b);
}

/* Returns true if 'core' has an entry for 'cp'. */
static bool
has_conn(const struct flow_key *cp)
{
    struct agent_conn_info info;

    return agent_core_get_conn(core, cp, &info);
}

/* With room for 4 entries: closed entries are evicted least recently used
 * first (a packet makes one recent again), never a live connection or a
 * handshake in progress; a table full of live entries refuses the request
 * for memory, as the admission bound does; a connection whose socket the
 * kernel forgot is idle and goes next; the table never grows. */
START_TEST(test_table_bound_evicts_idle)
{
    const struct agent_stats *st = agent_core_get_stats(core);
    struct flow_key cp[8];
    struct agent_limits limits;
    struct ctl_conn_req r;
    struct ds show = DS_EMPTY_INITIALIZER;

    agent_limits_init(&limits);
    ck_assert_uint_eq(limits.max_entries, 1000000);
    limits.max_entries = 4;
    agent_core_set_limits(core, &limits);
    for (int i = 0; i < 8; i++) {
        cp[i] = cp_make("198.51.100.7", 1000 + i, "203.0.113.10", 80);
    }
    for (int i = 0; i < 4; i++) {
        establish(&cp[i], i, i, i, i, 7, 100 * i);
    }
    reset_by_client(&cp[1], 500);
    reset_by_client(&cp[2], 600);
    reset_by_client(&cp[3], 700);
    reset_by_client(&cp[1], 800);      /* 1 used again: 2 is idle longest. */
    ck_assert_uint_eq(agent_core_n_idle(core), 3);

    establish(&cp[4], 4, 4, 4, 4, 7, 900);
    ck_assert_uint_eq(st->evicted, 1);
    ck_assert(!has_conn(&cp[2]));
    ck_assert(has_conn(&cp[0]) && has_conn(&cp[1]) && has_conn(&cp[3]));
    ck_assert_uint_eq(agent_core_n_conns(core), 4);

    /* Two handshakes in progress take the places of 3 and 1, whose
     * journal records go with them. */
    for (int i = 5; i < 7; i++) {
        clear_events();
        r = req_make(&cp[i], i, i, 3);
        conn_req(&r, &local_ok, 1000);
        ck_assert_str_eq(kinds(), "DF");
        ck_assert(flow_key_equals(&events[0].cp, &cp[i == 5 ? 3 : 1]));
    }
    ck_assert_uint_eq(st->evicted, 3);
    ck_assert(!has_conn(&cp[1]) && !has_conn(&cp[3]));
    ck_assert_uint_eq(agent_core_n_idle(core), 0);

    /* Only live entries: 0 and 4 translated, 5 and 6 in the handshake.
     * Nothing is evicted; the request is refused, whatever its TTL. */
    clear_events();
    r = req_make(&cp[7], 7, 7, 1);
    conn_req(&r, &local_ok, 1100);
    check_rejected(&cp[7], CTL_REJECT_MEMORY, 0);
    ck_assert_uint_eq(st->table_full, 1);
    ck_assert_uint_eq(st->evicted, 3);
    ck_assert(has_conn(&cp[0]) && has_conn(&cp[4]) && has_conn(&cp[5])
              && has_conn(&cp[6]));
    agent_core_format_bounds(core, &show);
    ck_assert_str_eq(ds_cstr(&show),
                     "translation table: 4 entries (0 idle), bound 4 "
                     "(3 evicted), admission bound 1000000 (1 refused)\n"
                     "tombstones: 3 for 30000 ms, bound 4 (0 evicted)\n");
    ds_destroy(&show);

    /* The evicted entries' tombstones obey the same bound: two of them go
     * when it shrinks to one (counted). */
    limits.max_entries = 1;
    agent_core_set_limits(core, &limits);
    ck_assert_uint_eq(st->tombstones_evicted, 2);
    limits.max_entries = 4;
    agent_core_set_limits(core, &limits);

    /* The kernel forgets 0's socket: idle, and next to go. */
    agent_core_sockets_begin(core, 2000);
    agent_core_socket_seen(core, &cp[4], true);
    agent_core_sockets_end(core, 2000, 0);
    ck_assert_uint_eq(agent_core_n_idle(core), 1);
    clear_events();
    conn_req(&r, &local_ok, 2100);
    ck_assert_str_eq(kinds(), "DF");
    ck_assert(flow_key_equals(&events[0].cp, &cp[0]));
    ck_assert(!has_conn(&cp[0]) && has_conn(&cp[7]));
    ck_assert_uint_eq(st->evicted, 4);
    ck_assert_uint_eq(agent_core_n_conns(core), 4);
}
END_TEST

/* Many short connections through a table bounded at 4, with two long
 * ones live throughout: the table never grows, every eviction is counted,
 * and the live ones are never evicted. */
START_TEST(test_table_bound_flat)
{
    const struct agent_stats *st = agent_core_get_stats(core);
    struct flow_key live0 = cp_make("198.51.100.8", 1, "203.0.113.10", 80);
    struct flow_key live1 = cp_make("198.51.100.8", 2, "203.0.113.10", 80);
    struct agent_limits limits;

    agent_limits_init(&limits);
    limits.max_entries = 4;
    agent_core_set_limits(core, &limits);
    establish(&live0, 1, 1, 1, 1, 7, 0);
    establish(&live1, 2, 2, 2, 2, 7, 0);
    for (int i = 0; i < 200; i++) {
        struct flow_key cp = cp_make("198.51.100.9", 1000 + i,
                                     "203.0.113.10", 80);

        clear_events();
        establish(&cp, i, i, i, i, 7, 10 * i);
        reset_by_client(&cp, 10 * i + 5);
        ck_assert_uint_le(agent_core_n_conns(core), 4);
    }
    ck_assert_uint_eq(agent_core_n_conns(core), 4);
    ck_assert_uint_eq(st->evicted, 198);
    ck_assert_uint_eq(st->accepted, 202);
    ck_assert_uint_eq(st->table_full, 0);
    ck_assert(has_conn(&live0) && has_conn(&live1));
    ck_assert_uint_eq(agent_core_n_live(core, &live0.vip), 2);

    /* A lower bound, as a reconfiguration sets: each new entry evicts two
     * idle ones until the table is back under it. */
    limits.max_entries = 3;
    agent_core_set_limits(core, &limits);
    struct flow_key cp = cp_make("198.51.100.9", 5000, "203.0.113.10", 80);
    clear_events();
    establish(&cp, 9, 9, 9, 9, 7, 5000);
    ck_assert_uint_eq(agent_core_n_conns(core), 3);
    ck_assert_uint_eq(st->evicted, 200);
    ck_assert(has_conn(&live0) && has_conn(&live1));
}
END_TEST

/* Publishing: the kernel's open sockets of our VIPs, in as many PUBLISH
 * messages as needed, with the last ingress of translated ones. */
START_TEST(test_publish)
{
    struct flow_key cp = cp_make("198.51.100.6", 7, "203.0.113.10", 80);
    size_t n = CTL_PUBLISH_MAX_ENTRIES + 5;

    establish(&cp, 1, 1, 1, 1, 7, 0);
    clear_events();
    agent_core_sockets_begin(core, 10);
    agent_core_socket_seen(core, &cp, true);
    for (size_t i = 1; i < n; i++) {
        struct flow_key k = cp_make("198.51.100.7", i, "203.0.113.12", 80);
        agent_core_socket_seen(core, &k, true);
    }
    struct flow_key tw = cp_make("198.51.100.8", 1, "203.0.113.10", 80);
    agent_core_socket_seen(core, &tw, false);       /* TIME_WAIT. */
    struct flow_key other = cp_make("198.51.100.8", 1, "203.0.113.10", 22);
    agent_core_socket_seen(core, &other, true);     /* Not a VIP port. */
    struct flow_key probe = cp_make("203.0.113.10", 40000, "203.0.113.10", 80);
    agent_core_socket_seen(core, &probe, true);     /* To our own VIP. */
    ck_assert_uint_eq(agent_core_sockets_end(core, 10, 3), 2);

    ck_assert_str_eq(kinds(), "MM");
    ck_assert_int_eq(events[0].msg->type, CTL_MSG_PUBLISH);
    ck_assert_uint_eq(events[0].dst, 3);
    ck_assert_uint_eq(events[0].msg->publish.server, SELF);
    ck_assert_uint_eq(events[0].msg->publish.n, CTL_PUBLISH_MAX_ENTRIES);
    ck_assert_uint_eq(events[1].msg->publish.n, 5);
    const struct ctl_publish_entry *e = &events[0].msg->publish.entries[0];
    ck_assert(flow_key_equals(&e->cp, &cp));
    ck_assert_uint_eq(e->ingress, 3);
    ck_assert_uint_eq(e->flags, CTL_PUBLISH_TRACKED);
    ck_assert_uint_eq(events[0].msg->publish.entries[1].flags, 0);

    /* Each message encodes. */
    struct ctl_key key;
    uint8_t kb[32] = { 1 };
    ck_assert_int_eq(ctl_key_init(&key, kb, sizeof kb), 0);
    for (size_t i = 0; i < 2; i++) {
        struct ofpbuf out;
        ofpbuf_init(&out, 0);
        events[i].msg->sender = SELF;
        events[i].msg->seq = 1 + i;
        ck_assert_int_eq(ctl_msg_encode(events[i].msg, &key, &out), 0);
        ck_assert_uint_le(out.size, CTL_MSG_MAX_LEN);
        ofpbuf_uninit(&out);
    }
    ctl_key_destroy(&key);
    ck_assert_uint_eq(agent_core_get_stats(core)->publish_entries, n);

    /* Nothing to publish: no message.  The entry whose socket went is
     * journalled again to lapse with its linger, so that a restart after
     * that does not bring it back. */
    clear_events();
    agent_core_sockets_begin(core, 20);
    ck_assert_uint_eq(agent_core_sockets_end(core, 20, 3), 0);
    ck_assert_str_eq(kinds(), "P");
    ck_assert(flow_key_equals(&events[0].cp, &cp));
    ck_assert_int_eq(events[0].expires, 10000);

    /* Its socket back: journalled without an end again. */
    clear_events();
    agent_core_sockets_begin(core, 30);
    agent_core_socket_seen(core, &cp, true);
    ck_assert_uint_eq(agent_core_sockets_end(core, 30, 0), 0);
    ck_assert_str_eq(kinds(), "P");
    ck_assert_int_eq(events[0].expires, 0);
}
END_TEST

/* Journal. */

/* An entry journalled by one core is reloaded by another, which translates
 * the next segments exactly as the first would have. */
START_TEST(test_journal_reload)
{
    struct flow_key cp = cp_make("198.51.100.2", 40000, "203.0.113.10", 80);
    const uint32_t D = 0x7000, TSD = 99;
    struct ctl_conn_req r = req_make(&cp, CAP_CLIENT_ISN, CAP_SERVER_ISN + D,
                                     3);
    struct agent_conn_info before, after;
    uint32_t egress;

    r.lb_tsval = CAP_SERVER_TSVAL + TSD;
    conn_req(&r, &local_ok, 0);
    uint8_t *p = xmemdup(cap1, sizeof cap1);
    agent_core_from_server(core, p, sizeof cap1, 0, &egress);
    free(p);
    struct event put = *last('P');
    ck_assert(flow_key_equals(&put.cp, &cp));
    ck_assert_int_eq(put.expires, 0);
    ck_assert(agent_core_get_conn(core, &cp, &before));

    /* Translate the banner with the first core. */
    uint8_t *one = xmemdup(cap4, sizeof cap4);
    ck_assert_int_eq(agent_core_from_server(core, one, sizeof cap4, 1,
                                            &egress), AGENT_FORWARD);
    teardown();

    setup();
    ck_assert(agent_core_restore(core, &put.cp, put.rec, sizeof put.rec,
                                 5));
    ck_assert(!agent_core_restore(core, &put.cp, put.rec, sizeof put.rec,
                                  5));
    ck_assert(agent_core_get_conn(core, &cp, &after));
    ck_assert_int_eq(after.state, AGENT_CONN_ESTABLISHED);
    ck_assert(!memcmp(&after.xlate, &before.xlate, sizeof after.xlate));
    ck_assert_uint_eq(after.isn_srv, before.isn_srv);
    ck_assert_uint_eq(after.egress, before.egress);
    ck_assert_uint_eq(after.ingress, before.ingress);
    ck_assert_uint_eq(agent_core_n_live(core, &cp.vip), 1);

    uint8_t *two = xmemdup(cap4, sizeof cap4);
    ck_assert_int_eq(agent_core_from_server(core, two, sizeof cap4, 6,
                                            &egress), AGENT_FORWARD);
    ck_assert(!memcmp(one, two, sizeof cap4));
    free(one);
    free(two);

    /* A retransmitted SYN/ACK is still answered after the reload. */
    struct tcp_seg_info ack;
    p = xmemdup(cap1, sizeof cap1);
    clear_events();
    agent_core_from_server(core, p, sizeof cap1, 7, &egress);
    free(p);
    parse_frame(events[0].frame, &ack);
    ck_assert_uint_eq(ack.ack, CAP_SERVER_ISN + 1);
    ck_assert_uint_eq(ack.opts.tsval, CAP_CLIENT_TSVAL);
    ck_assert_uint_eq(ack.opts.tsecr, CAP_SERVER_TSVAL);
}
END_TEST

START_TEST(test_journal_bad_records)
{
    struct flow_key cp = cp_make("198.51.100.2", 40013, "203.0.113.10", 80);
    uint8_t rec[AGENT_RECORD_LEN + 1];

    establish(&cp, 1, 2, 3, 4, 7, 0);
    memcpy(rec, last('P')->rec, AGENT_RECORD_LEN);
    teardown();
    setup();

    struct { size_t ofs; uint8_t value; } bad[] = {
        { 0, 2 },               /* Version. */
        { 1, 0 },               /* State SYN_SENT is never journalled. */
        { 1, 9 },               /* No such state. */
        { 2, 0x80 },            /* Unknown flag. */
        { 3, 15 },              /* Window scale. */
        { 4, 15 },
        { 6, 1 },               /* Padding. */
        { 8, 0x55 },            /* Delta inconsistent with the ISNs. */
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        uint8_t copy[AGENT_RECORD_LEN];
        memcpy(copy, rec, sizeof copy);
        copy[bad[i].ofs] = bad[i].value;
        ck_assert_msg(!agent_core_restore(core, &cp, copy, sizeof copy, 0),
                      "record %zu accepted", i);
    }
    ck_assert(!agent_core_restore(core, &cp, rec, AGENT_RECORD_LEN - 1, 0));
    ck_assert(!agent_core_restore(core, &cp, rec, AGENT_RECORD_LEN + 1, 0));
    struct flow_key bad_cp = cp;
    bad_cp.pad[1] = 1;
    ck_assert(!agent_core_restore(core, &bad_cp, rec, AGENT_RECORD_LEN, 0));
    bad_cp = cp;
    bad_cp.proto = IPPROTO_UDP;
    ck_assert(!agent_core_restore(core, &bad_cp, rec, AGENT_RECORD_LEN, 0));
    ck_assert_uint_eq(agent_core_n_conns(core), 0);
    ck_assert_uint_eq(agent_core_get_stats(core)->restore_rejected, 12);
    ck_assert(agent_core_restore(core, &cp, rec, AGENT_RECORD_LEN, 0));
}
END_TEST

/* The formatted table and counters name what ovs-appctl users look for. */
START_TEST(test_format)
{
    struct flow_key cp = cp_make("198.51.100.2", 40000, "203.0.113.10", 80);
    struct ds s = DS_EMPTY_INITIALIZER;

    establish(&cp, CAP_CLIENT_ISN, 1, CAP_SERVER_ISN, 1, 10, 0);
    agent_core_format_conns(core, &s);
    ck_assert_msg(strstr(ds_cstr(&s), "198.51.100.2:40000>203.0.113.10:80/tcp"
                         " established") != NULL, "%s", ds_cstr(&s));
    ck_assert(strstr(ds_cstr(&s), "ingress=3") != NULL);
    ds_clear(&s);
    agent_core_format_stats(core, &s);
    ck_assert(strstr(ds_cstr(&s), "\n  accepted: 1\n") != NULL);
    ck_assert(strstr(ds_cstr(&s), "rejected_collision: 0") != NULL);
    ds_destroy(&s);
}
END_TEST

static Suite *
agent_core_suite(void)
{
    Suite *s = suite_create("agent-core");
    TCase *tc;

    tc = tcase_create("admission");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_accept_handshake);
    tcase_add_test(tc, test_idempotent_request);
    tcase_add_test(tc, test_reaccept_vouches_less);
    tcase_add_test(tc, test_retry_after_forgotten);
    tcase_add_test(tc, test_collision_and_reuse);
    tcase_add_test(tc, test_reject_not_mine);
    tcase_add_test(tc, test_reject_not_ready_not_listening);
    tcase_add_test(tc, test_limits_and_ttl);
    tcase_add_test(tc, test_table_bound_evicts_idle);
    tcase_add_test(tc, test_table_bound_flat);
    tcase_add_test(tc, test_syn_retransmit_and_give_up);
    tcase_add_test(tc, test_orphan_synack_reset);
    tcase_add_test(tc, test_server_refuses);
    tcase_add_test(tc, test_wrong_synack_ignored);
    tcase_add_test(tc, test_synack_retransmission);
    suite_add_tcase(s, tc);

    tc = tcase_create("translation");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_capture_same_wscale);
    tcase_add_test(tc, test_capture_rescaled_window);
    tcase_add_test(tc, test_sack_ts_window);
    tcase_add_test(tc, test_server_without_wscale);
    tcase_add_test(tc, test_unmanaged_segments);
    tcase_add_test(tc, test_untranslated_socket);
    tcase_add_test(tc, test_pending_segments_dropped);
    tcase_add_test(tc, test_hostile_packets);
    suite_add_tcase(s, tc);

    tc = tcase_create("table");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_ingress_follows);
    tcase_add_test(tc, test_egress_sticky);
    tcase_add_test(tc, test_reconcile_linger);
    tcase_add_test(tc, test_closed_idle);
    tcase_add_test(tc, test_publish);
    tcase_add_test(tc, test_journal_reload);
    tcase_add_test(tc, test_journal_bad_records);
    tcase_add_test(tc, test_format);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(agent_core_suite());
    int n_failed;

    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
