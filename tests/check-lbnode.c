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

/* check-lbnode: the LB node core (controller/lbnode.h) on ovslb-sim's
 * message bus (tests/sim/sim-bus.h): several LB node cores, a scripted
 * agent per server node, client segments built with tcp-seg.  Control
 * messages travel encoded and authenticated, as ctl-sock sends them; the
 * bus has no latency here, and a test delivers everything sent, including
 * what it causes, before it looks (run_bus()).  The scenarios of many
 * nodes, faults and real agents are ovslb-sim's (tests/sim); these are the
 * LB node's focused cases.  No sockets, no OVS. */
#include <config.h>

#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "controller/lbnode.h"
#include "ctl-msg.h"
#include "dp-packet.h"
#include "exposition.h"
#include "flow-key.h"
#include "metrics.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/list.h"
#include "packets.h"
#include "openvswitch/ofpbuf.h"
#include "ring.h"
#include "selection.h"
#include "smap.h"
#include "syn-cookie.h"
#include "tcp-seg.h"
#include "tests/sim/sim-bus.h"
#include "util.h"

#define N_LB 3
#define N_SRV 3
#define LEASE_MS 10000

static const char SECRET[] = "0123456789abcdef0123456789abcdef";
static const char BUS_KEY[] = "check-lbnode-bus-key-0123456789";
static const char *secret;      /* The cluster key: SECRET unless a test
                                 * rotates it. */

/* What an agent does with CONN_REQ. */
enum agent_mode { AGENT_ACCEPT, AGENT_REJECT, AGENT_SILENT };

/* A control message on the bus, decoded. */
struct bus_msg {
    uint32_t src, dst;
    struct ctl_msg msg;
};

struct sent_frame {
    uint32_t node;              /* LB node that sent it north. */
    struct tcp_seg_info seg;
};

struct installed {
    uint32_t node;
    struct flow_key cp;
    struct in6_addr server;
};

struct world {
    struct lbnode *lbs[N_LB];
    enum agent_mode agent[N_SRV];
    uint32_t agent_lease_ms;    /* What an accepting agent vouches for. */
    size_t conn_reqs[N_SRV];

    struct sim_bus *bus;
    struct ctl_key bus_key;     /* Of the control messages on 'bus'. */
    uint64_t tx_seq;
    struct bus_msg *sent;       /* Every message sent, in order, for the
                                 * tests to look at (bus_forget() clears
                                 * it). */
    size_t n_sent, allocated_sent;

    struct sent_frame north[256];
    size_t n_north;
    struct installed maps[256];
    size_t n_maps;
    size_t n_forwarded;
    struct sent_frame fwd[256];     /* The first 256 forwarded. */
    size_t n_removed;
    long long int now;
    long long int mono[N_LB];   /* What each LB node's monotonic clock
                                 * reads beyond 'now' (0 but where a test
                                 * gives the nodes clocks of their own). */
};

struct node_aux {
    struct world *w;
    uint32_t node;
};

static struct world w;
static struct node_aux aux[N_LB];

/* The trackers' SYN table bound: 1 puts them in SYN-cookie mode. */
static uint32_t syn_table_max = 1000;

/* The tier's SYN rate above which trackers answer with cookies. */
static uint32_t syn_cookie_rate = 50000;

/* The bounds of the tables (0: none). */
static uint32_t tracker_table_max, mapping_table_max, pending_table_max;
static uint32_t handshake_timeout_ms;   /* handshake_timeout_ms setting. */
static uint32_t connect_retry_ms;       /* connect_retry_ms setting. */

static uint32_t lb_id(int i) { return i + 1; }
static uint32_t srv_id(int i) { return 101 + i; }

/* Sends 'msg' from node 'src' to node 'dst' on the bus, encoded. */
static void
bus_push(struct world *wo, uint32_t src, uint32_t dst,
         const struct ctl_msg *msg)
{
    struct ofpbuf *wire = ofpbuf_new(CTL_MSG_MAX_LEN);
    struct bus_msg *m;

    if (wo->n_sent >= wo->allocated_sent) {
        wo->sent = x2nrealloc(wo->sent, &wo->allocated_sent,
                              sizeof *wo->sent);
    }
    m = &wo->sent[wo->n_sent++];
    m->src = src;
    m->dst = dst;
    m->msg = *msg;
    m->msg.sender = src;
    m->msg.seq = ++wo->tx_seq;
    ck_assert_int_eq(ctl_msg_encode(&m->msg, &wo->bus_key, wire), 0);
    sim_bus_send(wo->bus, wo->now, src, dst, SIM_PKT_CTL, wire);
}

/* Forgets the messages sent so far, all delivered. */
static void
bus_forget(void)
{
    ck_assert_uint_eq(sim_bus_in_flight(w.bus), 0);
    w.n_sent = 0;
}

static void
io_send(void *a_, uint32_t dst, struct ctl_msg *msg)
{
    struct node_aux *a = a_;

    ck_assert_uint_ne(dst, a->node);
    bus_push(a->w, a->node, dst, msg);
}

static void
io_send_north(void *a_, const void *frame, size_t len)
{
    struct node_aux *a = a_;
    struct sent_frame *f;

    ck_assert_uint_lt(a->w->n_north, ARRAY_SIZE(a->w->north));
    f = &a->w->north[a->w->n_north++];
    f->node = a->node;
    ck_assert_int_eq(tcp_seg_parse_frame(frame, len, &f->seg), 0);
    ck_assert(tcp_seg_verify_csum((const uint8_t *) frame + f->seg.l3_ofs,
                                  len - f->seg.l3_ofs));
}

static void
io_install(void *a_, const struct flow_key *cp, const struct in6_addr *srv)
{
    struct node_aux *a = a_;
    struct installed *m;

    ck_assert_uint_lt(a->w->n_maps, ARRAY_SIZE(a->w->maps));
    m = &a->w->maps[a->w->n_maps++];
    m->node = a->node;
    m->cp = *cp;
    m->server = *srv;
}

static void
io_remove(void *a_, const struct flow_key *cp)
{
    struct node_aux *a = a_;

    for (size_t i = 0; i < a->w->n_maps; i++) {
        if (a->w->maps[i].node == a->node
            && flow_key_equals(&a->w->maps[i].cp, cp)) {
            a->w->maps[i].node = 0;     /* Removed. */
            a->w->n_removed++;
            return;
        }
    }
    ck_abort_msg("removal of a mapping never installed");
}

static void
io_forward(void *a_, const struct flow_key *cp OVS_UNUSED,
           const void *frame, size_t len,
           const struct in6_addr *srv OVS_UNUSED)
{
    struct node_aux *a = a_;

    if (a->w->n_forwarded < ARRAY_SIZE(a->w->fwd)) {
        struct sent_frame *f = &a->w->fwd[a->w->n_forwarded];

        f->node = a->node;
        ck_assert_int_eq(tcp_seg_parse_frame(frame, len, &f->seg), 0);
    }
    a->w->n_forwarded++;
}

/* The switch's table of a hash VIP, as tests set it: every flow to server
 * index 'hash_slot_srv' (-1: none), and not settled before
 * 'hash_settled_at'. */
static int hash_slot_srv;
static long long int hash_settled_at;

static bool
io_hash_target(void *a_ OVS_UNUSED, const struct flow_key *cp OVS_UNUSED,
               bool settled, struct in6_addr *server_addr)
{
    if (hash_slot_srv < 0 || (settled && w.now < hash_settled_at)) {
        return false;
    }
    *server_addr = (struct in6_addr) IN6ADDR_ANY_INIT;
    server_addr->s6_addr[10] = server_addr->s6_addr[11] = 0xff;
    server_addr->s6_addr[12] = 10;
    server_addr->s6_addr[13] = 2;
    server_addr->s6_addr[14] = 0;
    server_addr->s6_addr[15] = 101 + hash_slot_srv;
    return true;
}

static const struct lbnode_io io = {
    .send = io_send,
    .send_north = io_send_north,
    .install_mapping = io_install,
    .remove_mapping = io_remove,
    .forward = io_forward,
    .hash_target = io_hash_target,
};

static struct in6_addr
v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    struct in6_addr addr;
    in6_addr_set_mapped_ipv4(&addr, htonl(((uint32_t) a << 24) | (b << 16) | (c << 8)
                                          | d));
    return addr;
}

/* Configures LB nodes 'lo' to 'hi' - 1 (indexes) with the LB nodes and
 * servers healthy as 'lb_healthy' and 'srv_healthy' say (NULL: all). */
static int vip_algorithm;
static bool vip_hash;                   /* A `hash` VIP. */
static const char *lb_zones[N_LB];      /* Zones of the LB nodes... */
static const char *srv_zones[N_SRV];    /* ...and of the servers (NULL:
                                         * none). */
static uint32_t srv_weights[N_SRV];     /* The servers' weights in the
                                         * VIP. */

static void
configure_nodes(int lo, int hi, bool *lb_healthy, bool *srv_healthy,
                uint8_t ttl)
{
    struct lbnode_lb lbs[N_LB];
    struct lbnode_server servers[N_SRV];
    struct lbnode_vip_server vs[N_SRV];
    struct lbnode_vip vip = {
        .name = "web", .addr = v4(203, 0, 113, 10), .port = 80,
        .proto = IPPROTO_TCP, .algorithm = vip_algorithm,
        .mss = 1400, .wscale = 7, .ttl = ttl, .enabled = true,
        .hash = vip_hash, .servers = vs, .n_servers = N_SRV,
    };

    for (int i = 0; i < N_LB; i++) {
        lbs[i] = (struct lbnode_lb) {
            .node = lb_id(i), .north = v4(10, 1, 0, 11 + i),
            .south = v4(10, 2, 0, 11 + i), .control = v4(10, 2, 0, 11 + i),
            .healthy = lb_healthy ? lb_healthy[i] : true,
            .zone = lb_zones[i],
        };
    }
    for (int i = 0; i < N_SRV; i++) {
        servers[i] = (struct lbnode_server) {
            .node = srv_id(i), .underlay = v4(10, 2, 0, 101 + i),
            .control = v4(10, 2, 0, 101 + i),
            .healthy = srv_healthy ? srv_healthy[i] : true,
            .zone = srv_zones[i],
        };
        vs[i] = (struct lbnode_vip_server) {
            .node = srv_id(i), .weight = srv_weights[i],
        };
    }
    for (int i = lo; i < hi; i++) {
        struct lbnode_config cfg = {
            .self = lb_id(i), .ring_key = 42, .secret = secret,
            .secret_len = strlen(secret), .vnodes = 64,
            .lbs = lbs, .n_lbs = N_LB,
            .servers = servers, .n_servers = N_SRV,
            .vips = &vip, .n_vips = 1,
            .buffer_packets = 8, .buffer_bytes = 65536,
            .buffer_timeout_ms = 3000, .syn_table_max = syn_table_max,
            .syn_cookie_pct = 80, .syn_cookie_rate = syn_cookie_rate,
            .lease_ms = LEASE_MS,
            .handshake_timeout_ms = handshake_timeout_ms,
            .connect_retry_ms = connect_retry_ms, .query_retry_ms = 500,
            .tracker_table_max = tracker_table_max,
            .mapping_table_max = mapping_table_max,
            .pending_table_max = pending_table_max,
        };
        lbnode_configure(w.lbs[i], &cfg);
        lbnode_set_macs(w.lbs[i], (struct eth_addr) ETH_ADDR_C(02,00,00,00,00,0b),
                        (struct eth_addr) ETH_ADDR_C(02,00,00,00,00,01));
    }
}

static void
configure(bool *lb_healthy, bool *srv_healthy, uint8_t ttl)
{
    configure_nodes(0, N_LB, lb_healthy, srv_healthy, ttl);
}

static void
setup(void)
{
    secret = SECRET;
    memset(&w, 0, sizeof w);
    w.agent_lease_ms = CTL_LEASE_FULL;
    w.bus = sim_bus_create(1, 0);
    ck_assert_int_eq(ctl_key_init(&w.bus_key, BUS_KEY, strlen(BUS_KEY)),
                     0);
    w.now = 1000000;
    syn_table_max = 1000;
    syn_cookie_rate = 50000;
    tracker_table_max = mapping_table_max = pending_table_max = 0;
    handshake_timeout_ms = 30000;
    connect_retry_ms = 1000;
    vip_algorithm = SEL_ROUND_ROBIN;
    vip_hash = false;
    hash_slot_srv = -1;
    hash_settled_at = 0;
    for (int i = 0; i < N_SRV; i++) {
        srv_zones[i] = NULL;
        srv_weights[i] = 1;
    }
    for (int i = 0; i < N_LB; i++) {
        lb_zones[i] = NULL;
        w.lbs[i] = lbnode_create();
        aux[i] = (struct node_aux) { .w = &w, .node = lb_id(i) };
    }
    configure(NULL, NULL, 3);
}

static void
teardown(void)
{
    for (int i = 0; i < N_LB; i++) {
        lbnode_destroy(w.lbs[i]);
    }
    sim_bus_destroy(w.bus);
    ctl_key_destroy(&w.bus_key);
    free(w.sent);
}

/* The 'now' of LB node index 'i'. */
static long long int
node_now(int i)
{
    return w.now + w.mono[i];
}

/* Runs a scripted agent on 'msg' sent to server node 'dst'. */
static void
agent_recv(uint32_t dst, const struct ctl_msg *msg)
{
    int i = dst - 101;
    struct ctl_msg reply;

    ck_assert_int_eq(msg->type, CTL_MSG_CONN_REQ);
    ck_assert_uint_eq(msg->conn_req.server, dst);
    w.conn_reqs[i]++;
    switch (w.agent[i]) {
    case AGENT_ACCEPT:
        ctl_msg_init(&reply, CTL_MSG_ACCEPTED, dst, 0);
        reply.accepted.cp = msg->conn_req.cp;
        reply.accepted.server = dst;
        reply.accepted.lease_ms = w.agent_lease_ms;
        bus_push(&w, dst, msg->sender, &reply);
        break;
    case AGENT_REJECT:
        ctl_msg_init(&reply, CTL_MSG_REJECTED, dst, 0);
        reply.rejected.cp = msg->conn_req.cp;
        reply.rejected.server = dst;
        reply.rejected.ttl = msg->conn_req.ttl - 1;
        reply.rejected.reason = CTL_REJECT_LIMIT;
        bus_push(&w, dst, msg->sender, &reply);
        break;
    case AGENT_SILENT:
        break;
    }
}

/* Delivers every message on the bus, including the ones they cause. */
/* If not NULL, messages for which it returns true are lost. */
static bool (*bus_loses)(const struct bus_msg *);

static void
run_bus(void)
{
    struct sim_pkt *pkt;

    while ((pkt = sim_bus_pop(w.bus, w.now)) != NULL) {
        struct bus_msg *m = xmalloc(sizeof *m);

        ck_assert_int_eq(pkt->kind, SIM_PKT_CTL);
        m->src = pkt->src;
        m->dst = pkt->dst;
        ck_assert_int_eq(ctl_msg_decode(pkt->data->data, pkt->data->size,
                                        &w.bus_key, &m->msg, NULL),
                         CTL_MSG_OK);
        ck_assert_uint_eq(m->msg.sender, m->src);
        sim_pkt_destroy(pkt);
        if (bus_loses && bus_loses(m)) {
            /* Lost. */
        } else if (m->dst >= 101) {
            agent_recv(m->dst, &m->msg);
        } else {
            int i = m->dst - 1;

            ck_assert_uint_ge(m->dst, 1);
            ck_assert_uint_le(m->dst, N_LB);
            lbnode_recv(w.lbs[i], &m->msg, node_now(i), &io, &aux[i]);
        }
        free(m);
    }
}

/* The client 198.51.100.2:'sport' and the VIP 203.0.113.10:80. */
static struct tcp_seg_endpoints
client_endpoints(uint16_t sport)
{
    return (struct tcp_seg_endpoints) {
        .eth_src = ETH_ADDR_C(02,00,00,00,00,01),
        .eth_dst = ETH_ADDR_C(02,00,00,00,00,0b),
        .ip_src = v4(198, 51, 100, 2), .ip_dst = v4(203, 0, 113, 10),
        .tp_src = htons(sport), .tp_dst = htons(80),
    };
}

static size_t
client_frame(struct dp_packet *b, uint16_t sport, uint16_t flags,
             uint32_t seq, uint32_t ack, bool opts)
{
    struct tcp_seg_endpoints ep = client_endpoints(sport);
    struct tcp_seg_hdr h = {
        .seq = seq, .ack = ack, .flags = flags, .window = 65535,
    };
    if (opts) {
        h.opts.has_mss = true;
        h.opts.mss = 1460;
        h.opts.has_wscale = true;
        h.opts.wscale = 7;
        h.opts.sack_permitted = true;
        h.opts.has_ts = true;
        h.opts.tsval = 12345;
    }
    dp_packet_init(b, 128);
    ck_assert_int_eq(tcp_seg_build(b, &ep, &h), 0);
    return dp_packet_size(b);
}

static void
packet_in(int lb, uint16_t sport, uint16_t flags, uint32_t seq, uint32_t ack)
{
    struct dp_packet b;

    client_frame(&b, sport, flags, seq, ack, flags == TCP_SYN);
    lbnode_packet_in(w.lbs[lb], dp_packet_data(&b), dp_packet_size(&b),
                     node_now(lb), &io, &aux[lb]);
    dp_packet_uninit(&b);
    run_bus();
}

/* The client segment 'h' from port 'sport' into ingress 'lb'. */
static void
inject_segment(int lb, uint16_t sport, const struct tcp_seg_hdr *h)
{
    struct tcp_seg_endpoints ep = client_endpoints(sport);
    struct dp_packet b;

    dp_packet_init(&b, 128);
    ck_assert_int_eq(tcp_seg_build(&b, &ep, h), 0);
    lbnode_packet_in(w.lbs[lb], dp_packet_data(&b), dp_packet_size(&b),
                     node_now(lb), &io, &aux[lb]);
    dp_packet_uninit(&b);
    run_bus();
}

/* The client's ACK of a SYN/ACK 'synack' (as a cookie handshake needs:
 * with the timestamp echoed). */
static void
ack_synack(int lb, uint16_t sport, const struct tcp_seg_info *synack)
{
    struct tcp_seg_hdr h = {
        .seq = synack->ack, .ack = synack->seq + 1, .flags = TCP_ACK,
        .window = 65535,
    };

    h.opts.has_ts = synack->opts.has_ts;
    h.opts.tsval = 12346;
    h.opts.tsecr = synack->opts.tsval;
    inject_segment(lb, sport, &h);
}

static struct flow_key
cp_of(uint16_t sport)
{
    struct flow_key cp;
    struct in6_addr c = v4(198, 51, 100, 2), v = v4(203, 0, 113, 10);

    flow_key_init_v6(&cp, &c, htons(sport), &v, htons(80), IPPROTO_TCP);
    return cp;
}

/* A full handshake for client port 'sport' entering at 'ingress'; returns
 * the SYN/ACK's sequence number. */
static uint32_t
handshake_isn(int ingress, uint16_t sport, uint32_t client_isn)
{
    size_t n_north = w.n_north;
    uint32_t isn_lb;

    packet_in(ingress, sport, TCP_SYN, client_isn, 0);
    ck_assert_uint_eq(w.n_north, n_north + 1);
    isn_lb = w.north[n_north].seg.seq;
    ck_assert_uint_eq(w.north[n_north].seg.ack, client_isn + 1);
    packet_in(ingress, sport, TCP_ACK, client_isn + 1, isn_lb + 1);
    return isn_lb;
}

static uint32_t
handshake(int ingress, uint16_t sport)
{
    return handshake_isn(ingress, sport, 1000);
}

START_TEST(test_handshake_every_ingress)
{
    /* Many flows from every ingress: each gets exactly one SYN/ACK from its
     * SFT, one mapping at its ingress, and its buffered ACK replayed. */
    for (int f = 0; f < 60; f++) {
        int ingress = f % N_LB;
        uint16_t sport = 30000 + f;
        struct flow_key cp = cp_of(sport);
        uint32_t pft, sft;
        size_t n_maps = w.n_maps, n_fwd = w.n_forwarded, n_north = w.n_north;

        ck_assert(lbnode_trackers(w.lbs[0], &cp, &pft, &sft));
        ck_assert_uint_ne(pft, sft);
        handshake(ingress, sport);
        ck_assert_uint_eq(w.north[n_north].node, sft);
        ck_assert(w.north[n_north].seg.flags == (TCP_SYN | TCP_ACK));
        ck_assert(w.north[n_north].seg.opts.has_ts);
        ck_assert_uint_eq(w.north[n_north].seg.opts.tsecr, 12345);
        ck_assert_uint_eq(w.north[n_north].seg.opts.wscale, 7);
        ck_assert_uint_eq(w.north[n_north].seg.opts.mss, 1400);
        ck_assert_uint_eq(w.n_maps, n_maps + 1);
        ck_assert_uint_eq(w.maps[n_maps].node, lb_id(ingress));
        ck_assert(flow_key_equals(&w.maps[n_maps].cp, &cp));
        ck_assert_uint_eq(w.n_forwarded, n_fwd + 1);
    }
    /* Round-robin, kept per PFT, over three accepting servers: every
     * server takes a fair part. */
    for (int i = 0; i < N_SRV; i++) {
        ck_assert_uint_ge(w.conn_reqs[i], 15);
        ck_assert_uint_le(w.conn_reqs[i], 25);
    }
    ck_assert_uint_eq(w.conn_reqs[0] + w.conn_reqs[1] + w.conn_reqs[2], 60);
}
END_TEST

static uint64_t
total_stat(size_t offset)
{
    uint64_t n = 0;

    for (int i = 0; i < N_LB; i++) {
        const struct lbnode_stats *st = lbnode_get_stats(w.lbs[i]);
        n += *(const uint64_t *) ((const char *) st + offset);
    }
    return n;
}
#define TOTAL(MEMBER) total_stat(offsetof(struct lbnode_stats, MEMBER))

/* What lbnode_put_metrics() exports parses, counts what ovslb/stats
 * counts, and has the VIP's gauges. */
START_TEST(test_metrics)
{
    struct smap samples = SMAP_INITIALIZER(&samples);
    double accepted = 0, syns = 0;

    for (int f = 0; f < 12; f++) {
        handshake(f % N_LB, 31000 + f);
    }
    for (int i = 0; i < N_LB; i++) {
        struct metrics *m = metrics_create();
        struct ds text = DS_EMPTY_INITIALIZER;

        metrics_set_common_label(m, "role", "lb");
        lbnode_put_metrics(w.lbs[i], m);
        metrics_render(m, &text);
        smap_clear(&samples);
        assert_parses(ds_cstr(&text), &samples);
        accepted += exposition_sum(&samples,
                                   "ovslb_lb_connections_accepted_total");
        syns += exposition_sum(&samples, "ovslb_lb_syns_total");
        ck_assert_str_eq(smap_get(&samples,
                                  "ovslb_lb_vip_servers{role=lb,vip=web}"),
                         "3");
        ck_assert_str_eq(smap_get(&samples, "ovslb_lb_vip_healthy_servers"
                                  "{role=lb,vip=web}"), "3");
        ck_assert_str_eq(smap_get(&samples, "ovslb_lb_ring_nodes{role=lb}"),
                         "3");
        ck_assert_str_eq(smap_get(&samples, "ovslb_lb_rejected_by_reason_total"
                                  "{role=lb,reason=limit}"), "0");
        ds_destroy(&text);
        metrics_destroy(m);
    }
    ck_assert_uint_eq(TOTAL(accepted), 12);
    ck_assert_double_eq(accepted, 12);
    ck_assert_double_eq(syns, TOTAL(syns));
    ck_assert_double_ge(syns, 12);
    smap_destroy(&samples);
}
END_TEST

/* A client segment of 'payload_len' bytes of payload ('flags' and the
 * numbers as given) into ingress 'lb'. */
static void
client_segment(int lb, uint16_t sport, uint16_t flags, uint32_t seq,
               uint32_t ack, size_t payload_len)
{
    static const char payload[] = "GET / HTTP/1.1\r\n\r\n";
    struct tcp_seg_hdr h = {
        .seq = seq, .ack = ack, .flags = flags, .window = 65535,
        .payload = payload, .payload_len = payload_len,
    };

    ck_assert_uint_le(payload_len, sizeof payload);
    inject_segment(lb, sport, &h);
}

START_TEST(test_handshake_ack_superseded)
{
    /* While the mapping is awaited, the ingress buffers the client's ACK
     * and whatever follows.  A bare ACK followed by a packet acknowledging
     * as much is not sent on (the agent completed the server's handshake
     * itself); a bare ACK alone, or one a later packet does not cover,
     * is. */
    const uint16_t data_after = 40000, ack_alone = 40001, reordered = 40002;
    uint32_t isn[3];

    for (int i = 0; i < N_SRV; i++) {
        w.agent[i] = AGENT_SILENT;
    }
    isn[0] = handshake(0, data_after);
    client_segment(0, data_after, TCP_ACK | TCP_PSH, 1001, isn[0] + 1, 16);
    isn[1] = handshake(0, ack_alone);
    isn[2] = handshake(0, reordered);
    client_segment(0, reordered, TCP_ACK | TCP_PSH, 1001, isn[2], 16);
    ck_assert_uint_eq(w.n_maps, 0);
    ck_assert_uint_eq(w.n_forwarded, 0);

    for (int i = 0; i < N_SRV; i++) {
        w.agent[i] = AGENT_ACCEPT;
    }
    w.now += 1000;
    for (int i = 0; i < N_LB; i++) {
        lbnode_retry(w.lbs[i], w.now, &io, &aux[i]);
    }
    run_bus();
    ck_assert_uint_eq(w.n_maps, 3);

    /* Per flow: what was sent on, in order. */
    struct ds s = DS_EMPTY_INITIALIZER;
    const uint16_t ports[] = { data_after, ack_alone, reordered };
    for (int p = 0; p < ARRAY_SIZE(ports); p++) {
        ds_put_format(&s, "%s%u:", p ? " " : "", ports[p]);
        for (size_t i = 0; i < w.n_forwarded; i++) {
            const struct tcp_seg_info *seg = &w.fwd[i].seg;

            if (ntohs(seg->tp_src) == ports[p]) {
                ck_assert_uint_eq(w.fwd[i].node, lb_id(0));
                ds_put_format(&s, "%s%"PRIuSIZE,
                              seg->payload_len ? "D" : "A",
                              seg->payload_len);
                ck_assert_uint_eq(seg->ack - isn[p],
                                  seg->payload_len && p == 2 ? 0 : 1);
            }
        }
    }
    ck_assert_str_eq(ds_cstr(&s), "40000:D16 40001:A0 40002:A0D16");
    ds_destroy(&s);
    ck_assert_uint_eq(TOTAL(acks_superseded), 1);
    ck_assert_uint_eq(TOTAL(replayed), 4);
}
END_TEST

START_TEST(test_mapping_from_sft)
{
    /* When the server accepts, the SFT tells the mapping to the PFT and to
     * the flow's ingress itself: the ingress hears it from the SFT, one
     * hop after the server's answer, and the PFT does not repeat it.  An
     * SFT that is the ingress needs no message at all. */
    bool seen_distinct = false, seen_sft_ingress = false;

    for (int f = 0; f < 60; f++) {
        int ingress = f % N_LB;
        uint16_t sport = 41000 + f;
        struct flow_key cp = cp_of(sport);
        size_t first = w.n_sent, n_maps = w.n_maps;
        uint32_t pft, sft, x = lb_id(ingress);

        ck_assert(lbnode_trackers(w.lbs[0], &cp, &pft, &sft));
        handshake(ingress, sport);
        ck_assert_uint_eq(w.n_maps, n_maps + 1);
        ck_assert_uint_eq(w.maps[n_maps].node, x);

        size_t to_pft = 0, to_x = 0, others = 0;
        for (size_t i = first; i < w.n_sent; i++) {
            const struct bus_msg *m = &w.sent[i];

            if (m->msg.type != CTL_MSG_MAPPING) {
                continue;
            }
            ck_assert_uint_eq(m->src, sft);
            if (m->dst == pft) {
                to_pft++;
            } else if (m->dst == x) {
                to_x++;
            } else {
                others++;
            }
        }
        ck_assert_uint_eq(to_pft, 1);
        ck_assert_uint_eq(others, 0);
        if (x == pft) {
            ck_assert_uint_eq(to_x, 0);
        } else if (x == sft) {
            ck_assert_uint_eq(to_x, 0);
            seen_sft_ingress = true;
        } else {
            ck_assert_uint_eq(to_x, 1);
            seen_distinct = true;
        }
    }
    ck_assert(seen_distinct);
    ck_assert(seen_sft_ingress);
}
END_TEST

START_TEST(test_wrong_ack_dropped)
{
    size_t n_north;
    uint64_t invalid = 0;

    packet_in(0, 40000, TCP_SYN, 1000, 0);
    ck_assert_uint_eq(w.n_north, 1);
    n_north = w.n_north;
    packet_in(0, 40000, TCP_ACK, 1001, w.north[0].seg.seq + 2);
    for (int i = 0; i < N_LB; i++) {
        invalid += lbnode_get_stats(w.lbs[i])->acks_invalid;
    }
    ck_assert_uint_eq(invalid, 1);
    ck_assert_uint_eq(w.n_maps, 0);
    ck_assert_uint_eq(w.n_north, n_north);      /* Nothing sent back. */
    for (int i = 0; i < N_SRV; i++) {
        ck_assert_uint_eq(w.conn_reqs[i], 0);
    }
}
END_TEST

START_TEST(test_retransmitted_syn_same_isn)
{
    packet_in(1, 40001, TCP_SYN, 5000, 0);
    packet_in(2, 40001, TCP_SYN, 5000, 0);
    ck_assert_uint_eq(w.n_north, 2);
    ck_assert_uint_eq(w.north[0].seg.seq, w.north[1].seg.seq);
}
END_TEST

START_TEST(test_no_healthy_server_rst)
{
    bool srv[N_SRV] = { false, false, false };

    configure(NULL, srv, 3);
    handshake(0, 40002);
    ck_assert_uint_eq(w.n_maps, 0);
    ck_assert_uint_eq(w.n_north, 2);
    ck_assert(w.north[1].seg.flags & TCP_RST);
    ck_assert_uint_eq(w.north[1].seg.ack, 1001);
}
END_TEST

START_TEST(test_rejection_moves_on)
{
    w.agent[0] = AGENT_REJECT;
    w.agent[1] = AGENT_REJECT;
    for (int f = 0; f < 9; f++) {
        handshake(f % N_LB, 41000 + f);
    }
    /* Every flow ended on server 103, the only one that accepts. */
    ck_assert_uint_eq(w.n_maps, 9);
    for (size_t i = 0; i < w.n_maps; i++) {
        ck_assert(ipv6_addr_equals(&w.maps[i].server, &(struct in6_addr) {
                      .s6_addr = { [10] = 0xff, [11] = 0xff, 10, 2, 0, 103 }}));
    }
    ck_assert_uint_eq(w.conn_reqs[2], 9);
}
END_TEST

/* Every LB node gets from server index 'srv' a LOAD that reports 'conns'
 * connections on 'vip':'port'. */
static void
report_load(int srv, struct in6_addr vip, uint16_t port, uint32_t conns)
{
    struct ctl_msg msg;

    ctl_msg_init(&msg, CTL_MSG_LOAD, srv_id(srv), 1);
    msg.load.n = 1;
    msg.load.entries[0] = (struct ctl_load_entry) {
        .vip = vip, .port = port, .conns = conns, .rtt_us = 300,
    };
    for (int i = 0; i < N_LB; i++) {
        lbnode_recv(w.lbs[i], &msg, node_now(i), &io, &aux[i]);
    }
    run_bus();
}

/* least-connections follows the servers' LOAD reports and counts its own
 * assignments between them; a report stops counting once too old; a
 * report from a node that is not a server of that VIP port is refused. */
START_TEST(test_least_connections_load)
{
    vip_algorithm = SEL_LEAST_CONNECTIONS;
    configure(NULL, NULL, 3);

    report_load(0, v4(203, 0, 113, 10), 80, 50);
    report_load(1, v4(203, 0, 113, 10), 80, 0);
    report_load(2, v4(203, 0, 113, 10), 80, 0);
    ck_assert_uint_eq(TOTAL(load_entries), 9);
    for (int f = 0; f < 30; f++) {
        handshake(f % N_LB, 42000 + f);
    }
    /* Server 101 holds 50: none of the 30 goes there, and the other two
     * share them (each PFT counts what it assigned since the report). */
    ck_assert_uint_eq(w.conn_reqs[0], 0);
    ck_assert_uint_ge(w.conn_reqs[1], 12);
    ck_assert_uint_ge(w.conn_reqs[2], 12);
    ck_assert_uint_eq(w.conn_reqs[1] + w.conn_reqs[2], 30);

    /* Refused: another VIP port, a node that is no server, an LB node. */
    struct ctl_msg msg;
    ctl_msg_init(&msg, CTL_MSG_LOAD, srv_id(0), 2);
    msg.load.n = 1;
    msg.load.entries[0] = (struct ctl_load_entry) {
        .vip = v4(203, 0, 113, 10), .port = 81, .conns = 1,
    };
    lbnode_recv(w.lbs[0], &msg, node_now(0), &io, &aux[0]);
    msg.sender = 999;
    msg.load.entries[0].port = 80;
    lbnode_recv(w.lbs[0], &msg, node_now(0), &io, &aux[0]);
    msg.sender = lb_id(1);
    lbnode_recv(w.lbs[0], &msg, node_now(0), &io, &aux[0]);
    ck_assert_uint_eq(lbnode_get_stats(w.lbs[0])->load_rejected, 3);

    /* Four seconds later (three publish intervals and more) the reports no
     * longer count: the loads are the nodes' own assignments, and server
     * 101, which got none, takes the next flows. */
    w.now += 4000;
    memset(w.conn_reqs, 0, sizeof w.conn_reqs);
    for (int f = 0; f < 3; f++) {
        handshake(0, 43000 + f);
    }
    ck_assert_uint_ge(w.conn_reqs[0], 1);

    struct ds s = DS_EMPTY_INITIALIZER;
    lbnode_format_flows(w.lbs[0], node_now(0), &s);
    ck_assert_msg(strstr(ds_cstr(&s),
                         "203.0.113.10:80/tcp server 101: conns 50"),
                  "%s", ds_cstr(&s));
    ds_destroy(&s);
}
END_TEST

/* Round-robin keeps its place across reconfigurations (the daemon
 * reconfigures its core on every change of configuration or health):
 * 240 connections, one reconfiguration after each, 80 per server. */
/* A server whose agent reports the VIP port's service down gets none of
 * its new connections, under any algorithm, until it reports it back. */
START_TEST(test_service_down_report)
{
    struct ctl_msg msg;

    ctl_msg_init(&msg, CTL_MSG_LOAD, srv_id(1), 1);
    msg.load.n = 1;
    msg.load.entries[0] = (struct ctl_load_entry) {
        .vip = v4(203, 0, 113, 10), .port = 80, .flags = CTL_LOAD_DOWN,
    };
    for (int i = 0; i < N_LB; i++) {
        lbnode_recv(w.lbs[i], &msg, node_now(i), &io, &aux[i]);
    }
    for (int f = 0; f < 30; f++) {
        handshake(f % N_LB, 44000 + f);
    }
    ck_assert_uint_eq(w.conn_reqs[1], 0);
    ck_assert_uint_eq(w.conn_reqs[0] + w.conn_reqs[2], 30);

    /* A report that a UDP VIP on the same address and port is up does
     * not bring the TCP one back (LOAD names the protocol). */
    msg.seq = 2;
    msg.load.entries[0].flags = CTL_LOAD_UDP;
    for (int i = 0; i < N_LB; i++) {
        lbnode_recv(w.lbs[i], &msg, node_now(i), &io, &aux[i]);
    }
    for (int f = 0; f < 30; f++) {
        handshake(f % N_LB, 46000 + f);
    }
    ck_assert_uint_eq(w.conn_reqs[1], 0);

    msg.seq = 3;
    msg.load.entries[0].flags = 0;
    for (int i = 0; i < N_LB; i++) {
        lbnode_recv(w.lbs[i], &msg, node_now(i), &io, &aux[i]);
    }
    for (int f = 0; f < 30; f++) {
        handshake(f % N_LB, 45000 + f);
    }
    ck_assert_uint_ge(w.conn_reqs[1], 5);
}
END_TEST

static bool show_says(int lb, const char *text);
static bool has_entry(int lb, uint16_t sport, const char *state);

/* 'n' handshakes, from client ports 'sport' on, entering at ingress index
 * 'ingress'; stores in 'per_server' how many went to each server. */
static void
handshakes_at(int ingress, uint16_t sport, int n, size_t per_server[N_SRV])
{
    size_t before[N_SRV];

    memcpy(before, w.conn_reqs, sizeof before);
    for (int f = 0; f < n; f++) {
        handshake(ingress, sport + f);
    }
    for (int i = 0; i < N_SRV; i++) {
        per_server[i] = w.conn_reqs[i] - before[i];
    }
}

/* nearest: LB node 1 in zone a, 2 in zone b, 3 in none; server 101 in
 * zone a, 102 and 103 in zone b.  A connection goes to the servers of its
 * ingress's zone, whichever LB node is its PFT; to all servers when the
 * ingress has no zone, or when its zone has no server left that can take
 * it (weight 0, unhealthy); and a change of zone applies at the next
 * reconfiguration, with no restart. */
START_TEST(test_nearest_zones)
{
    static const int N = 30;
    size_t n[N_SRV];

    vip_algorithm = SEL_NEAREST;
    lb_zones[0] = "a";
    lb_zones[1] = "b";
    srv_zones[0] = "a";
    srv_zones[1] = srv_zones[2] = "b";
    configure(NULL, NULL, 3);

    /* Every flow of zone a's ingress goes to 101, though two thirds of them
     * have their PFT in zone b or in none. */
    size_t pft_elsewhere = 0;
    for (int f = 0; f < N; f++) {
        struct flow_key cp = cp_of(46000 + f);
        uint32_t pft, sft;

        ck_assert(lbnode_trackers(w.lbs[0], &cp, &pft, &sft));
        pft_elsewhere += pft != lb_id(0);
    }
    ck_assert_uint_ge(pft_elsewhere, N / 3);
    handshakes_at(0, 46000, N, n);
    ck_assert_uint_eq(n[0], N);

    /* Zone b's ingress: 102 and 103 share, 101 gets none. */
    handshakes_at(1, 46100, N, n);
    ck_assert_uint_eq(n[0], 0);
    ck_assert_uint_ge(n[1], N / 4);
    ck_assert_uint_ge(n[2], N / 4);

    /* An ingress without a zone: all three share. */
    handshakes_at(2, 46200, N, n);
    for (int i = 0; i < N_SRV; i++) {
        ck_assert_msg(n[i] >= N / 6, "server %d: %zu", i, n[i]);
    }

    /* 101 drained: zone a's flows go to the others, both of them. */
    srv_weights[0] = 0;
    configure(NULL, NULL, 3);
    handshakes_at(0, 46300, N, n);
    ck_assert_uint_eq(n[0], 0);
    ck_assert_uint_ge(n[1], N / 4);
    ck_assert_uint_ge(n[2], N / 4);

    /* 101 back, but unhealthy: the same. */
    bool srv_healthy[N_SRV] = { false, true, true };
    srv_weights[0] = 1;
    configure(NULL, srv_healthy, 3);
    handshakes_at(0, 46400, N, n);
    ck_assert_uint_eq(n[0], 0);
    ck_assert_uint_eq(n[1] + n[2], N);

    /* 101 healthy again: all of zone a's flows are its own again. */
    configure(NULL, NULL, 3);
    handshakes_at(0, 46500, N, n);
    ck_assert_uint_eq(n[0], N);
    ck_assert(show_says(0, "LB node 1, zone a\n"));
    ck_assert(show_says(0, " 101(w1,zone=a) 102(w1,zone=b) 103(w1,zone=b)"));

    /* 102 moves to zone a: zone a's flows share 101 and 102. */
    srv_zones[1] = "a";
    configure(NULL, NULL, 3);
    handshakes_at(0, 46600, N, n);
    ck_assert_uint_eq(n[2], 0);
    ck_assert_uint_ge(n[0], N / 4);
    ck_assert_uint_ge(n[1], N / 4);

    /* LB node 1 moves to zone b: its flows go to 103 alone, the one
     * server left in zone b. */
    lb_zones[0] = "b";
    configure(NULL, NULL, 3);
    handshakes_at(0, 46700, N, n);
    ck_assert_uint_eq(n[2], N);
    ck_assert(show_says(0, "LB node 1, zone b\n"));
}
END_TEST

START_TEST(test_round_robin_across_reconfiguration)
{
    for (int f = 0; f < 240; f++) {
        handshake(f % N_LB, 20000 + f);
        configure(NULL, NULL, 3);
    }
    for (int i = 0; i < N_SRV; i++) {
        ck_assert_msg(w.conn_reqs[i] >= 72 && w.conn_reqs[i] <= 88,
                      "server %d: %zu", i, w.conn_reqs[i]);
    }
}
END_TEST

START_TEST(test_ttl_exhausted_rst)
{
    for (int i = 0; i < N_SRV; i++) {
        w.agent[i] = AGENT_REJECT;
    }
    configure(NULL, NULL, 2);
    handshake(0, 42000);
    ck_assert_uint_eq(w.n_maps, 0);
    /* TTL 2: two servers tried, then the RST. */
    ck_assert_uint_eq(w.conn_reqs[0] + w.conn_reqs[1] + w.conn_reqs[2], 2);
    ck_assert_uint_eq(w.n_north, 2);
    ck_assert(w.north[1].seg.flags & TCP_RST);
}
END_TEST

START_TEST(test_single_lb_node)
{
    bool lbs[N_LB] = { true, false, false };

    configure(lbs, NULL, 3);
    handshake(0, 43000);
    ck_assert_uint_eq(w.n_maps, 1);
    ck_assert_uint_eq(w.north[0].node, 1);
}
END_TEST

START_TEST(test_query_after_ingress_change)
{
    /* Established through LB 1; then the edge sends the flow to another
     * ingress, which has no mapping and must learn it from the trackers. */
    size_t n_maps;

    handshake(0, 44000);
    n_maps = w.n_maps;
    packet_in(2, 44000, TCP_ACK, 1001, 7);
    ck_assert_uint_eq(w.n_maps, n_maps + 1);
    ck_assert_uint_eq(w.maps[n_maps].node, 3);
}
END_TEST

START_TEST(test_unknown_flow_forgotten)
{
    packet_in(0, 45000, TCP_ACK, 1, 1);
    ck_assert_uint_eq(w.n_maps, 0);
    ck_assert_uint_eq(lbnode_n_pending(w.lbs[0]), 0);
    ck_assert_uint_eq(lbnode_get_stats(w.lbs[0])->unknown_flows, 1);
}
END_TEST

/* With every server silent, the PFT sends the CONN_REQ of the flow just
 * handshaken again 'period' ms from now, not before. */
static void
expect_connect_retry(long long int period)
{
    size_t reqs = w.conn_reqs[0] + w.conn_reqs[1] + w.conn_reqs[2];

    for (int i = 0; i < N_LB; i++) {
        ck_assert_int_gt(lbnode_next_deadline(w.lbs[i]), w.now);
        lbnode_retry(w.lbs[i], w.now + period - 1, &io, &aux[i]);
    }
    run_bus();
    ck_assert_uint_eq(w.conn_reqs[0] + w.conn_reqs[1] + w.conn_reqs[2], reqs);
    for (int i = 0; i < N_LB; i++) {
        lbnode_retry(w.lbs[i], w.now + period, &io, &aux[i]);
    }
    run_bus();
    ck_assert_uint_eq(w.conn_reqs[0] + w.conn_reqs[1] + w.conn_reqs[2],
                      reqs + 1);
}

START_TEST(test_buffer_bound_and_timeout)
{
    const struct lbnode_stats *st = lbnode_get_stats(w.lbs[0]);

    /* Nobody answers CONN_REQ: the flow stays pending. */
    for (int i = 0; i < N_SRV; i++) {
        w.agent[i] = AGENT_SILENT;
    }
    handshake(0, 46000);
    for (int i = 0; i < 20; i++) {
        packet_in(0, 46000, TCP_ACK, 1001, 1);
    }
    ck_assert_uint_eq(st->buffered, 8);
    ck_assert_uint_eq(st->buffer_drops, 13);
    ck_assert_uint_eq(lbnode_n_pending(w.lbs[0]), 1);

    /* The PFT asks the silent server again after a second, not before. */
    expect_connect_retry(1000);

    w.now += 3000;
    lbnode_run(w.lbs[0], w.now, &io, &aux[0]);
    ck_assert_uint_eq(lbnode_n_pending(w.lbs[0]), 0);
    ck_assert_uint_eq(st->buffer_timeouts, 1);
}
END_TEST

/* The cluster setting connect_retry_ms: a PFT asks a silent server again
 * after that long, not at the 1 s that used to be built in. */
START_TEST(test_connect_retry_setting)
{
    connect_retry_ms = 2000;
    configure(NULL, NULL, 3);
    for (int i = 0; i < N_SRV; i++) {
        w.agent[i] = AGENT_SILENT;
    }
    handshake(0, 46100);
    expect_connect_retry(2000);
}
END_TEST

START_TEST(test_garbage_packet_in)
{
    uint8_t junk[60];

    for (size_t len = 0; len <= sizeof junk; len++) {
        memset(junk, 0x45, sizeof junk);
        lbnode_packet_in(w.lbs[0], junk, len, w.now, &io, &aux[0]);
    }
    ck_assert_uint_eq(w.n_sent, 0);
    ck_assert_uint_ge(lbnode_get_stats(w.lbs[0])->bad_packets, 1);
}
END_TEST

/* A journal per LB node kept in memory, as the daemon keeps it in its
 * node's SQLite file. */
struct journal_rec {
    char table[16];
    struct flow_key cp;
    uint8_t data[256];
    size_t len;
    bool live;
};
static struct journal_rec journal[N_LB][64];

static void
journal_cb(void *node_, const char *table, const struct flow_key *cp,
           const void *data, size_t len, long long int ttl_ms)
{
    struct journal_rec *j = journal[*(int *) node_];
    struct journal_rec *slot = NULL;

    for (size_t i = 0; i < ARRAY_SIZE(journal[0]); i++) {
        if (j[i].live && !strcmp(j[i].table, table)
            && flow_key_equals(&j[i].cp, cp)) {
            slot = &j[i];
            break;
        }
        if (!j[i].live && !slot) {
            slot = &j[i];
        }
    }
    ck_assert_ptr_nonnull(slot);
    if (!data) {
        slot->live = false;
        return;
    }
    ck_assert_int_gt(ttl_ms, 0);
    ck_assert_uint_le(len, sizeof slot->data);
    snprintf(slot->table, sizeof slot->table, "%s", table);
    slot->cp = *cp;
    memcpy(slot->data, data, len);
    slot->len = len;
    slot->live = true;
}

START_TEST(test_cp_reused)
{
    /* A connection through LB 1, closed; a new one from the same client
     * port while the old ingress flow is still installed: the old mapping
     * is removed at the new SYN and the new one installed. */
    size_t n_maps;

    handshake(0, 50000);
    n_maps = w.n_maps;
    ck_assert_uint_eq(w.n_removed, 0);
    handshake_isn(0, 50000, 7000);      /* A new connection: another ISN. */
    ck_assert_uint_eq(w.n_removed, 1);
    ck_assert_uint_eq(w.n_maps, n_maps + 1);
    ck_assert_uint_eq(lbnode_get_stats(w.lbs[0])->mappings_replaced, 1);
}
END_TEST

START_TEST(test_journal_restart)
{
    static int nodes[N_LB] = { 0, 1, 2 };
    size_t n_live = 0, n_maps, restored = 0;

    memset(journal, 0, sizeof journal);
    for (int i = 0; i < N_LB; i++) {
        lbnode_set_journal(w.lbs[i], journal_cb, &nodes[i]);
    }
    handshake(0, 47000);
    handshake(1, 47001);
    for (int n = 0; n < N_LB; n++) {
        for (size_t i = 0; i < ARRAY_SIZE(journal[0]); i++) {
            n_live += journal[n][i].live;
        }
    }
    /* Per flow: the PFT's and the SFT's entries and the ingress mapping. */
    ck_assert_uint_eq(n_live, 6);

    /* Every LB node restarts and reads its own journal back. */
    for (int i = 0; i < N_LB; i++) {
        lbnode_destroy(w.lbs[i]);
        w.lbs[i] = lbnode_create();
    }
    configure(NULL, NULL, 3);
    n_maps = w.n_maps;
    for (int n = 0; n < N_LB; n++) {
        for (size_t i = 0; i < ARRAY_SIZE(journal[0]); i++) {
            const struct journal_rec *r = &journal[n][i];
            if (r->live) {
                ck_assert(lbnode_restore(w.lbs[n], r->table, &r->cp, r->data,
                                         r->len, 60000, w.now, &io,
                                         &aux[n]));
                restored++;
            }
        }
    }
    ck_assert_uint_eq(restored, 6);
    /* The two ingress mappings are installed again. */
    ck_assert_uint_eq(w.n_maps, n_maps + 2);
    ck_assert_uint_eq(lbnode_n_entries(w.lbs[0]) + lbnode_n_entries(w.lbs[1])
                      + lbnode_n_entries(w.lbs[2]), 4);
    /* A truncated or repeated record is refused. */
    ck_assert(!lbnode_restore(w.lbs[0], LBNODE_JOURNAL_TRACKER,
                              &journal[0][0].cp, journal[0][0].data, 3, 1000,
                              w.now, &io, &aux[0]));

    /* So is a record for a key that no connection has (a corrupt store):
     * it would end up in messages that no node can decode. */
    const struct journal_rec *tracker = NULL;
    for (size_t i = 0; !tracker && i < ARRAY_SIZE(journal[0]); i++) {
        if (journal[0][i].live
            && !strcmp(journal[0][i].table, LBNODE_JOURNAL_TRACKER)) {
            tracker = &journal[0][i];
        }
    }
    ck_assert_ptr_nonnull(tracker);
    struct flow_key other = tracker->cp;
    other.client_port = htons(47099);
    other.proto = 0;
    ck_assert(!lbnode_restore(w.lbs[0], LBNODE_JOURNAL_TRACKER, &other,
                              tracker->data, tracker->len, 1000, w.now, &io,
                              &aux[0]));
    other.proto = IPPROTO_TCP;
    other.pad[1] = 1;
    ck_assert(!lbnode_restore(w.lbs[0], LBNODE_JOURNAL_TRACKER, &other,
                              tracker->data, tracker->len, 1000, w.now, &io,
                              &aux[0]));
    other.pad[1] = 0;
    ck_assert(lbnode_restore(w.lbs[0], LBNODE_JOURNAL_TRACKER, &other,
                             tracker->data, tracker->len, 1000, w.now, &io,
                             &aux[0]));
    /* The trackers answer a new ingress for the first flow. */
    packet_in(2, 47000, TCP_ACK, 1001, 7);
    ck_assert_uint_eq(w.n_maps, n_maps + 3);
}
END_TEST

START_TEST(test_tracker_sync_after_loss)
{
    struct flow_key cps[30];
    bool lbs[N_LB] = { true, true, false };

    for (int f = 0; f < 30; f++) {
        handshake(f % 2, 48000 + f);
        cps[f] = cp_of(48000 + f);
    }
    /* LB node 3 dies: the survivors rebuild the ring and hand their
     * established flows to the flows' new trackers. */
    configure(lbs, NULL, 3);
    for (int i = 0; i < 2; i++) {
        lbnode_rebalance(w.lbs[i], w.now, &io, &aux[i]);
    }
    run_bus();
    for (int f = 0; f < 30; f++) {
        uint32_t pft, sft;
        size_t n_maps = w.n_maps;

        ck_assert(lbnode_trackers(w.lbs[0], &cps[f], &pft, &sft));
        ck_assert_uint_ne(pft, 3);
        ck_assert_uint_ne(sft, 3);
        /* The survivors hold the flow, so the other survivor, a new
         * ingress for it, learns its mapping from the PFT at once. */
        packet_in(f % 2 ? 0 : 1, 48000 + f, TCP_ACK, 1001, 7);
        ck_assert_uint_eq(w.n_maps, n_maps + 1);
    }
    ck_assert_uint_gt(lbnode_get_stats(w.lbs[0])->trackers_sent
                      + lbnode_get_stats(w.lbs[1])->trackers_sent, 0);
    /* Handshakes in progress when the ring changes complete with the new
     * trackers: SYN/ACK sent under the old ring, ACK after the change. */
    bool all[N_LB] = { true, true, true };
    uint32_t isns[10];
    configure(all, NULL, 3);
    for (int i = 0; i < 2; i++) {
        lbnode_rebalance(w.lbs[i], w.now, &io, &aux[i]);
    }
    run_bus();
    for (int f = 0; f < 10; f++) {
        size_t n_north = w.n_north;

        packet_in(f % 3, 49000 + f, TCP_SYN, 1000, 0);
        ck_assert_uint_eq(w.n_north, n_north + 1);
        isns[f] = w.north[n_north].seg.seq;
    }
    configure(lbs, NULL, 3);
    for (int i = 0; i < N_LB; i++) {
        lbnode_rebalance(w.lbs[i], w.now, &io, &aux[i]);
    }
    run_bus();
    for (int f = 0; f < 10; f++) {
        size_t n_maps = w.n_maps;

        packet_in(f % 2, 49000 + f, TCP_ACK, 1001, isns[f] + 1);
        ck_assert_uint_eq(w.n_maps, n_maps + 1);
    }

    /* Nothing more to hand over while the ring stays. */
    size_t n_sent = w.n_sent;
    lbnode_rebalance(w.lbs[0], w.now, &io, &aux[0]);
    ck_assert_uint_eq(w.n_sent, n_sent);
}
END_TEST

START_TEST(test_rebalance_moves_only_changed)
{
    /* A ring change hands over only the entries whose trackers it changed:
     * an entry whose PFT and SFT stay (this node keeping its role) is
     * counted, not sent again (issue 17's scale report: one TRACKER_SYNC
     * per entry at every ring change, where about 1/N of them move). */
    enum { N = 30 };
    bool lbs[N_LB] = { true, true, false };
    uint32_t before[N][2];
    uint64_t sent[N_LB], unchanged[N_LB];
    uint64_t want_sent[N_LB] = { 0 }, want_unchanged[N_LB] = { 0 };

    for (int i = 0; i < N_LB; i++) {
        lbnode_rebalance(w.lbs[i], w.now, &io, &aux[i]);
    }
    for (int f = 0; f < N; f++) {
        struct flow_key cp = cp_of(48500 + f);

        handshake(f % 2, 48500 + f);
        ck_assert(lbnode_trackers(w.lbs[0], &cp, &before[f][0],
                                  &before[f][1]));
    }
    configure(lbs, NULL, 3);
    for (int f = 0; f < N; f++) {
        struct flow_key cp = cp_of(48500 + f);
        uint32_t pft, sft;

        ck_assert(lbnode_trackers(w.lbs[0], &cp, &pft, &sft));
        for (int t = 0; t < 2; t++) {
            uint32_t holder = before[f][t];

            if (holder == lb_id(2)) {
                continue;
            }
            if (pft == before[f][0] && sft == before[f][1]) {
                want_unchanged[holder - 1]++;
            } else {
                want_sent[holder - 1] += (pft != holder) + (sft != holder);
            }
        }
    }
    ck_assert_uint_gt(want_unchanged[0] + want_unchanged[1], 0);
    ck_assert_uint_gt(want_sent[0] + want_sent[1], 0);
    for (int i = 0; i < 2; i++) {
        const struct lbnode_stats *st = lbnode_get_stats(w.lbs[i]);

        sent[i] = st->trackers_sent;
        unchanged[i] = st->trackers_unchanged;
        lbnode_rebalance(w.lbs[i], w.now, &io, &aux[i]);
        ck_assert_uint_eq(st->trackers_unchanged - unchanged[i],
                          want_unchanged[i]);
        ck_assert_uint_eq(st->trackers_sent - sent[i], want_sent[i]);
    }
    run_bus();

    /* Every flow still finds its mapping at a new ingress. */
    for (int f = 0; f < N; f++) {
        size_t n_maps = w.n_maps;

        packet_in(f % 2 ? 0 : 1, 48500 + f, TCP_ACK, 1001, 7);
        ck_assert_uint_eq(w.n_maps, n_maps + 1);
    }
}
END_TEST

START_TEST(test_syn_info_misdirected)
{
    /* LB node 3 comes back.  LB node 2 sees it healthy already, LB node 1
     * (the flow's ingress) not yet, so the SYN goes to LB node 2, the PFT
     * of the ring without node 3, where node 2's own ring has node 3 as
     * the PFT.  The client's ACK comes after node 1 saw node 3 too, so it
     * goes to node 3: node 2 must have handed the handshake to node 3
     * (seen in the lab when a restarted controller rejoined: the
     * connection hung until the next ring change). */
    bool without3[N_LB] = { true, true, false };
    struct flow_key cp;
    uint16_t sport = 0;
    uint32_t pft, sft;

    configure(without3, NULL, 3);
    for (uint16_t p = 20000; p < 21000 && !sport; p++) {
        cp = cp_of(p);
        ck_assert(lbnode_trackers(w.lbs[0], &cp, &pft, &sft));
        if (pft == lb_id(1)) {
            uint32_t pft3, sft3;

            configure(NULL, NULL, 3);
            ck_assert(lbnode_trackers(w.lbs[0], &cp, &pft3, &sft3));
            configure(without3, NULL, 3);
            if (pft3 == lb_id(2)) {
                sport = p;
            }
        }
    }
    ck_assert_uint_ne(sport, 0);

    /* Node 3 rejoins everywhere but at node 1. */
    configure_nodes(1, N_LB, NULL, NULL, 3);
    for (int i = 1; i < N_LB; i++) {
        lbnode_rebalance(w.lbs[i], w.now, &io, &aux[i]);
    }
    run_bus();

    size_t n_north = w.n_north, n_maps = w.n_maps, n_fwd = w.n_forwarded;
    packet_in(0, sport, TCP_SYN, 1000, 0);
    ck_assert_uint_eq(w.n_north, n_north + 1);
    ck_assert_uint_eq(lbnode_get_stats(w.lbs[1])->syn_infos_misdirected, 1);

    /* Node 1 sees node 3 now; the ACK goes to node 3, the PFT of every
     * ring. */
    configure_nodes(0, 1, NULL, NULL, 3);
    lbnode_rebalance(w.lbs[0], w.now, &io, &aux[0]);
    run_bus();
    packet_in(0, sport, TCP_ACK, 1001, w.north[n_north].seg.seq + 1);
    ck_assert_uint_eq(lbnode_get_stats(w.lbs[2])->acks_valid, 1);
    ck_assert_uint_eq(lbnode_get_stats(w.lbs[2])->acks_no_state, 0);
    ck_assert_uint_eq(w.n_maps, n_maps + 1);
    ck_assert_uint_eq(w.maps[n_maps].node, lb_id(0));
    ck_assert_uint_eq(w.n_forwarded, n_fwd + 1);
}
END_TEST

/* Server node index of the mapping w.maps[i]. */
static int
server_of_map(size_t i)
{
    return w.maps[i].server.s6_addr[15] - 101;
}

/* Sends node 'dst' a TRACKER_SYNC from 'src' for 'cp' as a rebalance
 * would: 'established' or in the handshake, with 'client_isn' and
 * 'isn_lb', server 'server'. */
static void
inject_tracker_sync_lease(uint32_t src, uint32_t dst,
                          const struct flow_key *cp, bool established,
                          uint32_t client_isn, uint32_t isn_lb,
                          uint32_t server, uint32_t lease_ms)
{
    struct ctl_msg m;

    ctl_msg_init(&m, CTL_MSG_TRACKER_SYNC, src, 0);
    m.tracker_sync = (struct ctl_tracker_sync) {
        .cp = *cp,
        .state = (established ? CTL_TRACKER_ESTABLISHED
                  : CTL_TRACKER_SYN_RECEIVED),
        .role = CTL_ROLE_PFT, .isn_lb = isn_lb, .client_isn = client_isn,
        .server = server, .ingress = lb_id(0), .ttl = 3,
        .isn_kind = CTL_ISN_STORED, .lease_ms = lease_ms,
    };
    bus_push(&w, src, dst, &m);
    run_bus();
}

/* The same, an established entry with a full lease left. */
static void
inject_tracker_sync(uint32_t src, uint32_t dst, const struct flow_key *cp,
                    bool established, uint32_t client_isn, uint32_t isn_lb,
                    uint32_t server)
{
    inject_tracker_sync_lease(src, dst, cp, established, client_isn, isn_lb,
                              server, established ? LEASE_MS : 0);
}

START_TEST(test_tracker_sync_stale_connection)
{
    /* A client reuses its port: the new connection's SYN reached the PFT,
     * then a TRACKER_SYNC of the old connection's established entry (which
     * lives a lease past the connection, and moves with ring changes)
     * arrives before the client's ACK.  The ACK completes the new
     * handshake, so the new connection wins; had it been mapped to the old
     * one's server, it would never get an answer (seen in the lab after an
     * LB node restarted). */
    uint16_t sport = 52000;
    struct flow_key cp = cp_of(sport);
    const struct lbnode_stats *st;
    uint32_t pft, sft, isn2, reqs;
    size_t n_north, n_maps;

    ck_assert(lbnode_trackers(w.lbs[0], &cp, &pft, &sft));
    handshake(0, sport);
    st = lbnode_get_stats(w.lbs[pft - 1]);
    ck_assert_uint_eq(st->acks_valid, 1);

    n_north = w.n_north;
    packet_in(0, sport, TCP_SYN, 5000, 0);
    ck_assert_uint_eq(w.n_north, n_north + 1);
    isn2 = w.north[n_north].seg.seq;
    inject_tracker_sync(sft, pft, &cp, true, 1000, 7, srv_id(0));

    reqs = w.conn_reqs[0] + w.conn_reqs[1] + w.conn_reqs[2];
    n_maps = w.n_maps;
    packet_in(0, sport, TCP_ACK, 5001, isn2 + 1);
    ck_assert_uint_eq(st->acks_valid, 2);
    ck_assert_uint_eq(w.conn_reqs[0] + w.conn_reqs[1] + w.conn_reqs[2],
                      reqs + 1);
    ck_assert_uint_eq(w.n_maps, n_maps + 1);
    ck_assert_uint_eq(st->cp_conflicts, 1);
    ck_assert_uint_eq(st->cp_conflicts_other, 0);
}
END_TEST

START_TEST(test_tracker_sync_live_connection)
{
    /* The PFT holds a handshake on a CP (its client gave it up: a stale
     * SYN) when a TRACKER_SYNC brings the CP's live established
     * connection.  An ACK that does not complete the handshake is the live
     * connection's: its mapping is sent, no server is chosen again. */
    uint16_t sport = 52200;
    struct flow_key cp = cp_of(sport);
    const struct lbnode_stats *st;
    uint32_t pft, sft, reqs;
    size_t n_maps;

    ck_assert(lbnode_trackers(w.lbs[0], &cp, &pft, &sft));
    st = lbnode_get_stats(w.lbs[pft - 1]);
    packet_in(0, sport, TCP_SYN, 5000, 0);
    inject_tracker_sync(sft, pft, &cp, true, 1000, 77, srv_id(1));
    ck_assert_uint_eq(st->cp_conflicts, 1);

    reqs = w.conn_reqs[0] + w.conn_reqs[1] + w.conn_reqs[2];
    n_maps = w.n_maps;
    packet_in(1, sport, TCP_ACK, 1500, 178);
    ck_assert_uint_eq(w.conn_reqs[0] + w.conn_reqs[1] + w.conn_reqs[2],
                      reqs);
    ck_assert_uint_eq(w.n_maps, n_maps + 1);
    ck_assert_uint_eq(server_of_map(n_maps), 1);
    ck_assert_uint_eq(st->cp_conflicts_other, 1);
}
END_TEST

START_TEST(test_tracker_sync_new_handshake)
{
    /* The other order: the PFT holds an established entry (an old
     * connection's, or a live one) and a TRACKER_SYNC brings a handshake of
     * another connection on the CP (its SYN went to another PFT while the
     * rings disagreed).  The client's ACK decides: one that completes the
     * handshake is the new connection's, which gets a server; any other is
     * the established connection's. */
    uint16_t sport = 52100;
    struct flow_key cp = cp_of(sport);
    const struct lbnode_stats *st;
    uint32_t pft, sft, reqs;
    size_t n_maps;

    ck_assert(lbnode_trackers(w.lbs[0], &cp, &pft, &sft));
    handshake(0, sport);
    st = lbnode_get_stats(w.lbs[pft - 1]);

    inject_tracker_sync(sft, pft, &cp, false, 5000, 777777, CTL_NODE_NONE);
    /* (Its ACK at an ingress that holds no mapping of the old one.) */
    reqs = w.conn_reqs[0] + w.conn_reqs[1] + w.conn_reqs[2];
    n_maps = w.n_maps;
    packet_in(1, sport, TCP_ACK, 5001, 777778);
    ck_assert_uint_eq(st->acks_valid, 2);
    ck_assert_uint_eq(w.conn_reqs[0] + w.conn_reqs[1] + w.conn_reqs[2],
                      reqs + 1);
    ck_assert_uint_eq(w.n_maps, n_maps + 1);
    ck_assert_uint_eq(st->cp_conflicts_other, 1);

    /* Now established: a stale handshake of yet another connection does
     * not take its place for a segment of the live one. */
    inject_tracker_sync(sft, pft, &cp, false, 9000, 888888, CTL_NODE_NONE);
    ck_assert_uint_eq(st->cp_conflicts, 2);
    reqs = w.conn_reqs[0] + w.conn_reqs[1] + w.conn_reqs[2];
    packet_in(2, sport, TCP_ACK, 5101, 777800);
    ck_assert_uint_eq(st->acks_valid, 2);
    ck_assert_uint_eq(w.conn_reqs[0] + w.conn_reqs[1] + w.conn_reqs[2],
                      reqs);
    ck_assert_uint_eq(st->cp_conflicts_other, 1);
}
END_TEST

/* Connection publishing (PROTOCOL.md §6). */


/* The scripted agent of server 'srv' publishes the connections of client
 * ports 'sports[]', last seen through LB node 'ingress', to LB node index
 * 'via'. */
static void
publish(int srv, int via, const uint16_t *sports, size_t n, uint32_t ingress)
{
    struct ctl_msg msg;

    ctl_msg_init(&msg, CTL_MSG_PUBLISH, srv_id(srv), 0);
    msg.publish.server = srv_id(srv);
    msg.publish.n = n;
    for (size_t i = 0; i < n; i++) {
        msg.publish.entries[i] = (struct ctl_publish_entry) {
            .cp = cp_of(sports[i]), .ingress = ingress,
            .flags = CTL_PUBLISH_TRACKED,
        };
    }
    bus_push(&w, srv_id(srv), lb_id(via), &msg);
    run_bus();
}

static void
run_all(void)
{
    for (int i = 0; i < N_LB; i++) {
        lbnode_run(w.lbs[i], w.now, &io, &aux[i]);
    }
}

static size_t
total_entries(void)
{
    size_t n = 0;

    for (int i = 0; i < N_LB; i++) {
        n += lbnode_n_entries(w.lbs[i]);
    }
    return n;
}

/* The cluster setting handshake_timeout_ms: a SYN answered but never
 * ACKed is forgotten by its trackers after that long, not before, and not
 * at the 30 s that used to be built in. */
START_TEST(test_handshake_timeout_setting)
{
    handshake_timeout_ms = 5000;
    configure(NULL, NULL, 3);

    long long int start = w.now;
    size_t n_north = w.n_north;
    packet_in(0, 47000, TCP_SYN, 1000, 0);
    ck_assert_uint_eq(w.n_north, n_north + 1);     /* The SYN/ACK. */
    size_t n = total_entries();
    ck_assert_uint_gt(n, 0);

    w.now = start + 4000;
    run_all();
    ck_assert_uint_eq(total_entries(), n);
    w.now = start + 5250;                   /* Swept every 250 ms. */
    run_all();
    ck_assert_uint_eq(total_entries(), 0);

    /* The default keeps it well past 5 s. */
    handshake_timeout_ms = 30000;
    configure(NULL, NULL, 3);
    start = w.now = start + 10000;
    packet_in(0, 47001, TCP_SYN, 1000, 0);
    n = total_entries();
    ck_assert_uint_gt(n, 0);
    w.now = start + 5250;
    run_all();
    ck_assert_uint_eq(total_entries(), n);
    w.now = start + 30250;
    run_all();
    ck_assert_uint_eq(total_entries(), 0);
}
END_TEST


/* A hash VIP (PROTOCOL.md §4).  Its connections on the server of their
 * slot need no state: their publications keep none.  Once the table moves
 * a slot, the connections its old server publishes are tracked, and an
 * ingress asks for one (MAPPING_QUERY, never ACK_INFO: there was no
 * handshake here) and keeps its server; its mapping is renewed by asking
 * again, and ends when the trackers forget the connection.  A flow that
 * nobody knows goes to the slot's server, but only once the servers have
 * had time to publish what the change moved. */
START_TEST(test_hash_vip_moved_connections)
{
    uint16_t sport = 52000, stranger = 52001;

    vip_hash = true;
    configure(NULL, NULL, 3);

    /* In place: no state. */
    hash_slot_srv = 1;
    publish(1, 0, &sport, 1, CTL_NODE_NONE);
    ck_assert_uint_eq(total_entries(), 0);
    ck_assert_uint_gt(TOTAL(publish_hash_in_place), 0);

    /* The slot moves to server 101: 102's connection is tracked. */
    hash_slot_srv = 0;
    hash_settled_at = w.now + 2500;
    publish(1, 0, &sport, 1, CTL_NODE_NONE);
    ck_assert_uint_eq(total_entries(), 2);

    /* Its next segment at an ingress: asked for, kept on 102. */
    size_t n_maps = w.n_maps, n_fwd = w.n_forwarded;
    packet_in(2, sport, TCP_ACK, 1000, 2000);
    ck_assert_uint_eq(TOTAL(acks_valid) + TOTAL(acks_invalid)
                      + TOTAL(acks_no_state), 0);
    ck_assert_uint_gt(TOTAL(queries), 0);
    ck_assert_uint_eq(w.n_maps, n_maps + 1);
    ck_assert_int_eq(server_of_map(n_maps), 1);
    ck_assert_uint_eq(w.n_forwarded, n_fwd + 1);

    /* A flow nobody knows, before the servers could publish it: dropped
     * (the client retransmits)... */
    n_fwd = w.n_forwarded;
    packet_in(2, stranger, TCP_ACK, 1000, 2000);
    ck_assert_uint_eq(w.n_forwarded, n_fwd);
    ck_assert_uint_eq(TOTAL(hash_unknown_to_slot), 0);
    /* ...and after, to the slot's server. */
    w.now = hash_settled_at;
    packet_in(2, stranger, TCP_ACK, 1000, 2000);
    ck_assert_uint_eq(w.n_forwarded, n_fwd + 1);
    ck_assert_uint_eq(TOTAL(hash_unknown_to_slot), 1);

    /* Three leases on 102's publications: the mapping is asked for again
     * and kept. */
    size_t n_removed = w.n_removed;
    for (int t = 0; t < 3 * LEASE_MS / 1000; t++) {
        w.now += 1000;
        publish(1, t % N_LB, &sport, 1, CTL_NODE_NONE);
        run_all();
        run_bus();
    }
    ck_assert_uint_gt(TOTAL(hash_mappings_revalidated), 0);
    ck_assert_uint_eq(w.n_removed, n_removed);
    ck_assert_uint_eq(w.maps[n_maps].node, lb_id(2));

    /* Closed (no more publications): forgotten everywhere. */
    for (int t = 0; t < 3 * LEASE_MS / 1000; t++) {
        w.now += 1000;
        run_all();
        run_bus();
    }
    ck_assert_uint_eq(total_entries(), 0);
    ck_assert_uint_eq(w.maps[n_maps].node, 0);
}
END_TEST

START_TEST(test_publish_renews_then_lapses)
{
    /* A live connection, published every second (each time to another LB
     * node) for three lease times, keeps its tracker entries and its
     * ingress mapping; once it is no longer published (closed), every LB
     * node forgets it within one lease time, and no message says so. */
    uint16_t sport = 51000;
    size_t m, n_sent;
    int srv;

    handshake(0, sport);
    m = w.n_maps - 1;
    srv = server_of_map(m);
    ck_assert_uint_eq(total_entries(), 2);
    for (int t = 1; t <= 3 * LEASE_MS / 1000; t++) {
        w.now += 1000;
        publish(srv, t % N_LB, &sport, 1, lb_id(0));
        run_all();
    }
    ck_assert_uint_eq(total_entries(), 2);
    ck_assert_uint_eq(w.maps[m].node, lb_id(0));
    ck_assert_uint_eq(w.n_removed, 0);
    /* Each publication renews the PFT's, SFT's and ingress's leases,
     * forwarded to those that did not get it. */
    ck_assert_uint_ge(TOTAL(leases_renewed), 3 * 3 * LEASE_MS / 1000 - 3);
    ck_assert_uint_gt(TOTAL(publish_forwarded), 0);
    /* Every forwarded copy arrives, and is for its receiver. */
    ck_assert_uint_eq(TOTAL(publish_msgs), 3 * LEASE_MS / 1000);
    ck_assert_uint_eq(TOTAL(publish_entries),
                      TOTAL(publish_msgs) + TOTAL(publish_forwarded));
    ck_assert_uint_eq(TOTAL(publish_misdirected), 0);
    ck_assert_uint_eq(TOTAL(leases_lapsed), 0);

    n_sent = w.n_sent;
    w.now += LEASE_MS - 1000;
    run_all();
    ck_assert_uint_eq(total_entries(), 2);
    w.now += 1000;              /* One lease after the last publication. */
    run_all();
    ck_assert_uint_eq(total_entries(), 0);
    ck_assert_uint_eq(w.maps[m].node, 0);       /* Flow removed. */
    ck_assert_uint_eq(TOTAL(leases_lapsed), 3);
    ck_assert_uint_eq(TOTAL(mappings_lapsed), 1);
    ck_assert_uint_eq(w.n_sent, n_sent);
}
END_TEST

START_TEST(test_publish_restores_lost_trackers)
{
    /* Both trackers of a connection lose their state (restarted without a
     * journal): the next publication, sent to the third LB node, is
     * forwarded to them and rebuilds both entries, so that an ingress that
     * never saw the flow learns its server. */
    uint16_t sport = 52000;
    struct flow_key cp = cp_of(sport);
    uint32_t pft, sft;
    int srv, other = -1;
    size_t m, n_maps;

    handshake(0, sport);
    m = w.n_maps - 1;
    srv = server_of_map(m);
    ck_assert(lbnode_trackers(w.lbs[0], &cp, &pft, &sft));
    for (int i = 0; i < N_LB; i++) {
        if (lb_id(i) == pft || lb_id(i) == sft) {
            lbnode_destroy(w.lbs[i]);
            w.lbs[i] = lbnode_create();
        } else {
            other = i;
        }
    }
    configure(NULL, NULL, 3);
    ck_assert_uint_eq(total_entries(), 0);

    publish(srv, other, &sport, 1, lb_id(0));
    ck_assert_uint_eq(lbnode_n_entries(w.lbs[pft - 1]), 1);
    ck_assert_uint_eq(lbnode_n_entries(w.lbs[sft - 1]), 1);
    ck_assert_uint_eq(lbnode_get_stats(w.lbs[pft - 1])->entries_restored, 1);
    ck_assert_uint_eq(lbnode_get_stats(w.lbs[sft - 1])->entries_restored, 1);
    ck_assert_uint_ge(lbnode_get_stats(w.lbs[other])->publish_fwd_sent, 2);

    /* The edge moves the flow to an ingress without a mapping. */
    for (int i = 0; i < N_LB; i++) {
        if (i != 0) {
            n_maps = w.n_maps;
            packet_in(i, sport, TCP_ACK, 1001, 7);
            ck_assert_uint_eq(w.n_maps, n_maps + 1);
            ck_assert_uint_eq(w.maps[n_maps].node, lb_id(i));
            ck_assert_int_eq(server_of_map(n_maps), srv);
        }
    }
}
END_TEST

START_TEST(test_publish_restores_ingress)
{
    /* The ingress lost its mapping (and its journal): the publication,
     * which names it as the last ingress, installs the mapping again. */
    uint16_t sport = 53000;
    size_t m, n_maps;
    int srv;

    handshake(1, sport);
    m = w.n_maps - 1;
    srv = server_of_map(m);
    lbnode_destroy(w.lbs[1]);
    w.lbs[1] = lbnode_create();
    configure(NULL, NULL, 3);
    n_maps = w.n_maps;
    publish(srv, 2, &sport, 1, lb_id(1));
    ck_assert_uint_eq(w.n_maps, n_maps + 1);
    ck_assert_uint_eq(w.maps[n_maps].node, lb_id(1));
    ck_assert_int_eq(server_of_map(n_maps), srv);
    ck_assert_uint_eq(lbnode_get_stats(w.lbs[1])->mappings_restored, 1);
}
END_TEST

START_TEST(test_publish_hostile)
{
    uint16_t sport = 54000;
    struct ctl_msg msg;
    size_t n_sent;

    handshake(0, sport);

    /* A server publishing another server's connections. */
    ctl_msg_init(&msg, CTL_MSG_PUBLISH, srv_id(0), 0);
    msg.publish.server = srv_id(1);
    msg.publish.n = 1;
    msg.publish.entries[0].cp = cp_of(sport);
    bus_push(&w, srv_id(0), lb_id(0), &msg);
    run_bus();
    ck_assert_uint_eq(lbnode_get_stats(w.lbs[0])->publish_rejected, 1);

    /* A PUBLISH_FWD from a server node, and one from an LB node that
     * claims another origin. */
    msg.type = CTL_MSG_PUBLISH_FWD;
    msg.publish.origin = srv_id(0);
    bus_push(&w, srv_id(0), lb_id(0), &msg);
    msg.publish.origin = lb_id(2);
    bus_push(&w, lb_id(1), lb_id(0), &msg);
    run_bus();
    ck_assert_uint_eq(lbnode_get_stats(w.lbs[0])->publish_rejected, 3);

    /* A connection to no VIP. */
    ctl_msg_init(&msg, CTL_MSG_PUBLISH, srv_id(0), 0);
    msg.publish.server = srv_id(0);
    msg.publish.n = 1;
    msg.publish.entries[0].cp = cp_of(sport);
    msg.publish.entries[0].cp.vip_port = htons(81);
    bus_push(&w, srv_id(0), lb_id(0), &msg);
    run_bus();
    ck_assert_uint_eq(lbnode_get_stats(w.lbs[0])->publish_invalid, 1);

    /* A forwarded publication for which the receiver is nothing is
     * counted and never forwarded again. */
    struct flow_key cp;
    uint32_t pft, sft;
    uint16_t p;
    int idle = -1;
    for (p = 55000; idle < 0; p++) {
        cp = cp_of(p);
        ck_assert(lbnode_trackers(w.lbs[0], &cp, &pft, &sft));
        for (int i = 1; i < N_LB; i++) {
            if (lb_id(i) != pft && lb_id(i) != sft) {
                idle = i;
            }
        }
    }
    ctl_msg_init(&msg, CTL_MSG_PUBLISH_FWD, lb_id(0), 0);
    msg.publish.server = srv_id(0);
    msg.publish.origin = lb_id(0);
    msg.publish.n = 1;
    msg.publish.entries[0].cp = cp;
    msg.publish.entries[0].ingress = lb_id(0);
    n_sent = w.n_sent;
    bus_push(&w, lb_id(0), lb_id(idle), &msg);
    run_bus();
    ck_assert_uint_eq(w.n_sent, n_sent + 1);
    ck_assert_uint_eq(lbnode_get_stats(w.lbs[idle])->publish_misdirected, 1);
    ck_assert_uint_eq(lbnode_n_entries(w.lbs[idle]), 0);
}
END_TEST

START_TEST(test_publish_conflict_kept)
{
    /* Another server publishes the CP of a live connection (a stale socket
     * of an earlier connection that reused the client port): the flow
     * stays with its server, at the trackers and at the ingress. */
    uint16_t sport = 56000;
    size_t m, n_maps;
    int srv, other;

    handshake(0, sport);
    m = w.n_maps - 1;
    srv = server_of_map(m);
    other = (srv + 1) % N_SRV;
    n_maps = w.n_maps;
    publish(other, 1, &sport, 1, lb_id(0));
    ck_assert_uint_eq(w.n_maps, n_maps);
    ck_assert_uint_ge(TOTAL(publish_conflicts), 2);
    ck_assert_uint_eq(TOTAL(entries_restored), 0);
    packet_in(2, sport, TCP_ACK, 1001, 7);
    ck_assert_uint_eq(w.n_maps, n_maps + 1);
    ck_assert_int_eq(server_of_map(n_maps), srv);
}
END_TEST

START_TEST(test_server_down_before_answer)
{
    /* The chosen server never answers and is then found down: the PFT
     * chooses another one at its next retry, and the flow is served. */
    uint16_t sport = 57000;
    bool srv_up[N_SRV] = { true, true, true };
    size_t silent_reqs;
    int dead = -1;

    for (int i = 0; i < N_SRV; i++) {
        w.agent[i] = AGENT_SILENT;
    }
    handshake(0, sport);
    ck_assert_uint_eq(w.n_maps, 0);
    for (int i = 0; i < N_SRV; i++) {
        if (w.conn_reqs[i]) {
            dead = i;
        }
        w.agent[i] = AGENT_ACCEPT;
    }
    ck_assert_int_ge(dead, 0);
    silent_reqs = w.conn_reqs[dead];
    srv_up[dead] = false;
    configure(NULL, srv_up, 3);
    w.now += 1000;
    for (int i = 0; i < N_LB; i++) {
        lbnode_retry(w.lbs[i], w.now, &io, &aux[i]);
    }
    run_bus();
    ck_assert_uint_eq(w.conn_reqs[dead], silent_reqs);
    ck_assert_uint_eq(w.n_maps, 1);
    ck_assert_int_ne(server_of_map(0), dead);
    ck_assert_uint_eq(TOTAL(connect_server_down), 1);
}
END_TEST

/* The PFT of the flow of test_retry_after_lost_mapping(). */
static uint32_t lost_mapping_pft;

static bool
loses_mapping_to_pft(const struct bus_msg *m)
{
    return m->msg.type == CTL_MSG_MAPPING && m->dst == lost_mapping_pft;
}

START_TEST(test_retry_after_lost_mapping)
{
    /* The SFT's MAPPING to the PFT is lost: the PFT's CONNECT retry gets
     * it from the SFT, which does not ask the server again (once the
     * connection is over and the agent has forgotten it, asking again
     * would open a connection on the server that nobody is at the other
     * end of), and the PFT stops retrying. */
    uint16_t sport = 57100;
    struct flow_key cp = cp_of(sport);
    uint32_t pft, sft;
    size_t reqs = 0, reqs_after = 0;
    long long int t0 = w.now;

    ck_assert(lbnode_trackers(w.lbs[0], &cp, &pft, &sft));
    lost_mapping_pft = pft;
    bus_loses = loses_mapping_to_pft;
    handshake(0, sport);
    bus_loses = NULL;
    for (int i = 0; i < N_SRV; i++) {
        reqs += w.conn_reqs[i];
    }
    ck_assert_uint_eq(reqs, 1);
    ck_assert_uint_eq(TOTAL(connects_established), 0);

    for (int round = 0; round < 3; round++) {
        w.now += 1000;
        for (int i = 0; i < N_LB; i++) {
            lbnode_retry(w.lbs[i], w.now, &io, &aux[i]);
        }
        run_bus();
    }
    for (int i = 0; i < N_SRV; i++) {
        reqs_after += w.conn_reqs[i];
    }
    ck_assert_uint_eq(reqs_after, 1);
    ck_assert_uint_eq(TOTAL(connects_established), 1);

    /* The PFT's entry ends with the SFT's lease (the MAPPING carries what
     * is left of it), not a lease from its late establishment. */
    ck_assert_int_eq(lbnode_next_deadline(w.lbs[pft - 1]), t0 + LEASE_MS);
}
END_TEST

START_TEST(test_accepted_lease)
{
    /* An agent that answers a repeated CONN_REQ for a connection that is
     * over vouches for it only until it forgets it: the SFT's entry, and
     * through the MAPPING the PFT's, get no more than that, rather than a
     * new lease for a closed connection. */
    uint16_t sport = 57200;
    struct flow_key cp = cp_of(sport);
    uint32_t pft, sft;

    ck_assert(lbnode_trackers(w.lbs[0], &cp, &pft, &sft));
    ck_assert_uint_ne(pft, sft);
    size_t n_pft = lbnode_n_entries(w.lbs[pft - 1]);
    size_t n_sft = lbnode_n_entries(w.lbs[sft - 1]);
    w.agent_lease_ms = 700;
    handshake(0, sport);
    ck_assert_uint_eq(lbnode_n_entries(w.lbs[pft - 1]), n_pft + 1);
    ck_assert_uint_eq(lbnode_n_entries(w.lbs[sft - 1]), n_sft + 1);
    ck_assert_uint_eq(TOTAL(accepted), 1);
    /* Lapsed leases are swept every 250 ms (controller/lease.c), and a
     * full lease would be LEASE_MS (10 s). */
    long long int t1 = w.now;
    ck_assert_int_le(lbnode_next_deadline(w.lbs[sft - 1]), t1 + 700 + 250);
    ck_assert_int_le(lbnode_next_deadline(w.lbs[pft - 1]), t1 + 700 + 250);

    /* Past it, both entries are gone. */
    w.now = t1 + 1000;
    for (int i = 0; i < N_LB; i++) {
        lbnode_run(w.lbs[i], w.now, &io, &aux[i]);
    }
    run_bus();
    ck_assert_uint_eq(lbnode_n_entries(w.lbs[pft - 1]), n_pft);
    ck_assert_uint_eq(lbnode_n_entries(w.lbs[sft - 1]), n_sft);
}
END_TEST

START_TEST(test_late_duplicate_syn)
{
    /* A copy of a completed handshake's SYN (same client ISN), duplicated
     * or delayed by the network, reaches the PFT after the client's ACK:
     * no second SYN/ACK (with another ISN), and the connection keeps its
     * tracker entry and its server. */
    uint16_t sport = 51000;
    uint32_t isn_lb;
    size_t n_north, n_maps;
    int server;

    isn_lb = handshake(0, sport);
    server = server_of_map(w.n_maps - 1);
    n_north = w.n_north;
    packet_in(1, sport, TCP_SYN, 1000, 0);
    ck_assert_uint_eq(w.n_north, n_north);
    ck_assert_uint_eq(TOTAL(syn_late_duplicates), 1);

    /* The client's next segment still goes to the same server. */
    n_maps = w.n_maps;
    packet_in(0, sport, TCP_ACK, 1001, isn_lb + 1);
    if (w.n_maps > n_maps) {
        ck_assert_int_eq(server_of_map(w.n_maps - 1), server);
    }
    ck_assert_uint_eq(w.n_north, n_north);
}
END_TEST

START_TEST(test_publish_after_cp_reuse)
{
    /* The old server of a reused CP still has a socket for it (its client
     * vanished without a FIN) and publishes it: between the new SYN and
     * the new connection's mapping, that publication must not bring the
     * old mapping back, or the new ACK would go to the old server. */
    uint16_t sport = 58000;
    size_t n_maps, n_north;
    uint32_t isn_lb;
    int old;

    handshake(0, sport);
    old = server_of_map(w.n_maps - 1);
    n_north = w.n_north;
    packet_in(0, sport, TCP_SYN, 7000, 0);      /* The new connection. */
    ck_assert_uint_eq(w.n_removed, 1);
    ck_assert_uint_eq(w.n_north, n_north + 1);
    isn_lb = w.north[n_north].seg.seq;
    n_maps = w.n_maps;
    publish(old, 0, &sport, 1, lb_id(0));
    ck_assert_uint_eq(w.n_maps, n_maps);        /* Not brought back. */
    ck_assert_uint_eq(lbnode_get_stats(w.lbs[0])->mappings_restored, 0);
    packet_in(0, sport, TCP_ACK, 7001, isn_lb + 1);
    ck_assert_uint_eq(w.n_maps, n_maps + 1);    /* The new one. */
    ck_assert_uint_eq(w.maps[n_maps].node, lb_id(0));
}
END_TEST

START_TEST(test_cookie_after_cp_reuse)
{
    /* The same race as test_publish_after_cp_reuse, with the trackers in
     * SYN-cookie mode: the PFT keeps nothing between the new SYN and its
     * ACK, so the old server's publication rebuilds the old connection's
     * entry there.  The ACK, a valid cookie, must still start the new
     * connection (a CONN_REQ), not get the old mapping. */
    uint16_t sport = 59000;
    size_t n_north, reqs = 0, reqs_before = 0;
    int old;

    /* Every tracker's SYN table full: one handshake left pending on
     * each. */
    syn_table_max = 1;
    configure(NULL, NULL, 3);
    for (uint16_t p = 59100; p < 59200; p++) {
        bool all = true;

        for (int i = 0; i < N_LB; i++) {
            all &= lbnode_n_entries(w.lbs[i]) >= 1;
        }
        if (all) {
            break;
        }
        packet_in(p % N_LB, p, TCP_SYN, 1000, 0);
    }
    n_north = w.n_north;
    packet_in(0, sport, TCP_SYN, 1000, 0);
    ck_assert_uint_eq(w.n_north, n_north + 1);
    ack_synack(0, sport, &w.north[n_north].seg);
    ck_assert_uint_eq(TOTAL(cookies_valid), 1);
    ck_assert_uint_ge(w.n_maps, 1);
    old = server_of_map(w.n_maps - 1);

    n_north = w.n_north;
    packet_in(0, sport, TCP_SYN, 7000, 0);      /* The new connection. */
    ck_assert_uint_eq(w.n_north, n_north + 1);
    publish(old, 1, &sport, 1, lb_id(0));
    ck_assert_uint_ge(TOTAL(entries_restored), 1);
    for (int i = 0; i < N_SRV; i++) {
        reqs_before += w.conn_reqs[i];
    }
    ack_synack(0, sport, &w.north[n_north].seg);
    for (int i = 0; i < N_SRV; i++) {
        reqs += w.conn_reqs[i];
    }
    ck_assert_uint_eq(reqs, reqs_before + 1);
    ck_assert_uint_eq(TOTAL(cookies_valid), 2);
}
END_TEST

START_TEST(test_ingress_cookie_after_cp_reuse)
{
    /* A client reuses the port of a connection whose trackers still hold
     * it as established (its lease runs on after the close), while the
     * tier answers SYNs with cookies at the ingress: no SYN reaches the
     * PFT to retire the old entry.  The new connection's ACK, a valid
     * cookie for a new client ISN, must start the new connection (a
     * CONN_REQ with the new ISNs) instead of getting the old mapping, or
     * the request would reach the old server's socket and the client
     * would stall (found on the lab with syn_cookie_rate=1). */
    uint16_t sport = 59500;
    size_t n_north, reqs_before = 0, reqs = 0, maps_before;

    handshake(0, sport);
    ck_assert_uint_eq(TOTAL(cookies_valid), 0);

    syn_cookie_rate = 1;                /* Every SYN a flood's. */
    configure(NULL, NULL, 3);
    packet_in(0, sport + 1, TCP_SYN, 500, 0);   /* Starts the "flood". */
    n_north = w.n_north;
    packet_in(0, sport, TCP_SYN, 900000, 0);    /* The new connection. */
    ck_assert_uint_eq(w.n_north, n_north + 1);
    ck_assert_uint_ge(TOTAL(syn_cookies_at_ingress), 1);

    for (int i = 0; i < N_SRV; i++) {
        reqs_before += w.conn_reqs[i];
    }
    maps_before = w.n_maps;
    ack_synack(0, sport, &w.north[n_north].seg);
    for (int i = 0; i < N_SRV; i++) {
        reqs += w.conn_reqs[i];
    }
    ck_assert_uint_eq(TOTAL(cookies_valid), 1);
    ck_assert_uint_eq(reqs, reqs_before + 1);
    ck_assert_uint_gt(w.n_maps, maps_before);
    ck_assert_uint_eq(TOTAL(cookies_cp_reused), 1);

    /* Once more, with every server refusing the new connection: the SFT,
     * which held the CP as established too, must pass each refusal on
     * (RELEASE), so that the PFT tries the next server, and the client
     * gets its RST once none is left, rather than waiting forever. */
    n_north = w.n_north;                /* The old one, with a cookie. */
    packet_in(1, sport + 2, TCP_SYN, 1000, 0);
    ck_assert_uint_eq(w.n_north, n_north + 1);
    ack_synack(1, sport + 2, &w.north[n_north].seg);
    ck_assert_uint_eq(TOTAL(cookies_valid), 2);
    for (int i = 0; i < N_SRV; i++) {
        w.agent[i] = AGENT_REJECT;
    }
    n_north = w.n_north;
    packet_in(1, sport + 2, TCP_SYN, 900000, 0);
    ck_assert_uint_eq(w.n_north, n_north + 1);
    uint64_t connects = TOTAL(connects), rejected = TOTAL(rejected);
    uint64_t rsts = TOTAL(rsts_sent);
    ack_synack(1, sport + 2, &w.north[n_north].seg);
    ck_assert_uint_eq(TOTAL(cookies_cp_reused), 2);
    ck_assert_uint_ge(TOTAL(rejected), rejected + 2);
    ck_assert_uint_ge(TOTAL(connects), connects + 2);
    ck_assert_uint_eq(TOTAL(rsts_sent), rsts + 1);
}
END_TEST

/* SYN cookies across LB nodes whose wall clocks differ (issue 18). */

/* A wall clock, ms, at a cookie slot's boundary. */
#define WALL_MS (INT64_C(1700000000000) / (SYN_COOKIE_SLOT_S * 1000) \
                 * (SYN_COOKIE_SLOT_S * 1000))

/* Sets LB node 'i''s wall clock to read 'wall_ms' now. */
static void
set_wall(int i, long long int wall_ms)
{
    lbnode_set_clock_offset(w.lbs[i], wall_ms - node_now(i));
}

/* A cookie handshake for client port 'sport' entering at 'ingress', whose
 * SYN LB node index 'syn_node' handles as the only healthy LB node and
 * whose ACK, 'delay_ms' later, LB node index 'ack_node' does.  Returns
 * true if the ingress got the flow's mapping.  Empties the bus and the
 * records of frames and mappings afterwards, so that any number fit. */
static bool
cookie_handshake_across(int ingress, uint16_t sport, int syn_node,
                        int ack_node, long long int delay_ms)
{
    bool only_syn[N_LB] = { false }, only_ack[N_LB] = { false };
    struct flow_key cp = cp_of(sport);
    size_t n_maps = w.n_maps;
    struct tcp_seg_info synack;
    bool mapped;

    only_syn[syn_node] = only_ack[ack_node] = true;
    configure(only_syn, NULL, 3);
    packet_in(ingress, sport, TCP_SYN, 1000, 0);
    ck_assert_uint_eq(w.n_north, 1);
    ck_assert_uint_eq(w.north[0].node, lb_id(syn_node));
    synack = w.north[0].seg;
    ck_assert(synack.opts.has_ts);

    w.now += delay_ms;
    configure(only_ack, NULL, 3);
    ack_synack(ingress, sport, &synack);
    mapped = false;
    for (size_t i = n_maps; i < w.n_maps; i++) {
        mapped |= (w.maps[i].node == lb_id(ingress)
                   && flow_key_equals(&w.maps[i].cp, &cp));
    }

    bus_forget();
    w.n_north = 0;
    w.n_maps = 0;
    return mapped;
}

/* 'per_s' SYNs per second to the whole tier for 'ms' milliseconds, from
 * client ports 'sport' on, spread over the ingresses as ECMP would. */
static uint16_t
syn_flood(uint16_t sport, int per_s, int ms)
{
    long long int n = (long long int) per_s * ms / 1000;
    long long int start = w.now;

    for (long long int i = 0; i < n; i++) {
        w.now = start + i * 1000 / per_s;
        packet_in(i % N_LB, sport++, TCP_SYN, 1000, 0);
        w.n_north = 0;
        bus_forget();
    }
    w.now = start + ms;
    return sport;
}

START_TEST(test_cookie_rate_of_the_tier)
{
    /* syn_cookie_rate is the SYN rate to the whole tier: each of the three
     * nodes sees about a third of it and multiplies by three.  At 1,500
     * SYN/s against a trigger of 3,000, every handshake is kept by its PFT;
     * a flood of 20,000 SYN/s makes every ingress answer with cookies
     * itself within 100 ms (no message, no state), having let about 100
     * SYNs through to the PFTs; a handshake completes on such a cookie; once
     * the flood has stopped for ten seconds, handshakes are kept again. */
    uint16_t sport = 10000;
    uint64_t kept, cookies;

    syn_table_max = 100000;
    syn_cookie_rate = 3000;
    configure(NULL, NULL, 3);
    w.now = 2000000;

    sport = syn_flood(sport, 1500, 2000);
    ck_assert_uint_eq(TOTAL(syns), 3000);
    ck_assert_uint_eq(TOTAL(syn_infos), 3000);
    ck_assert_uint_eq(TOTAL(cookies_issued), 0);

    size_t msgs0 = TOTAL(syn_infos);
    sport = syn_flood(sport, 20000, 1000);
    cookies = TOTAL(cookies_issued);
    kept = TOTAL(syns) - 3000 - cookies;
    ck_assert_uint_eq(TOTAL(syns), 23000);
    /* 100 ms at 20,000 SYN/s would be 2,000: each ingress switches once
     * its slot holds more than 3,000 / 10 / 3 = 100 SYNs. */
    ck_assert_msg(kept <= 3 * 110, "%"PRIu64" handshakes kept", kept);
    ck_assert_uint_ge(TOTAL(syn_cookies_at_ingress), 20000 - 3 * 110);
    ck_assert_uint_le(TOTAL(syn_infos) - msgs0, 3 * 110);

    /* Still flooded: a client that completes its handshake gets its
     * connection on the cookie its ingress made. */
    struct tcp_seg_info synack;
    size_t n_maps = w.n_maps;
    bool mapped = false;

    packet_in(1, sport, TCP_SYN, 1000, 0);
    ck_assert_uint_eq(w.n_north, 1);
    ck_assert_uint_eq(w.north[0].node, lb_id(1));
    synack = w.north[0].seg;
    w.now += 10;
    ack_synack(1, sport, &synack);
    for (size_t i = n_maps; i < w.n_maps; i++) {
        mapped |= w.maps[i].node == lb_id(1);
    }
    ck_assert(mapped);
    ck_assert_uint_eq(TOTAL(cookies_valid), 1);
    w.n_north = 0;
    bus_forget();
    sport++;

    /* A client whose handshake its PFT kept before the flood retransmits
     * its SYN during it: its ingress answers with a cookie, and the ACK of
     * that cookie wins over the kept handshake's ISN. */
    struct flow_key old_cp = cp_of(12999);
    n_maps = w.n_maps;
    mapped = false;
    packet_in(0, 12999, TCP_SYN, 1000, 0);
    ck_assert_uint_eq(w.n_north, 1);
    synack = w.north[0].seg;
    w.now += 10;
    ack_synack(0, 12999, &synack);
    for (size_t i = n_maps; i < w.n_maps; i++) {
        mapped |= (w.maps[i].node == lb_id(0)
                   && flow_key_equals(&w.maps[i].cp, &old_cp));
    }
    ck_assert(mapped);
    ck_assert_uint_eq(TOTAL(cookies_valid), 2);
    w.n_north = 0;
    bus_forget();

    /* Quiet for ten seconds: back to kept handshakes.  (Within them, a SYN
     * still gets a cookie.) */
    cookies = TOTAL(cookies_issued);
    w.now += 9000;
    packet_in(2, sport++, TCP_SYN, 1000, 0);
    w.n_north = 0;
    bus_forget();
    ck_assert_uint_eq(TOTAL(cookies_issued), cookies + 1);
    cookies++;
    w.now += 2000;
    syn_flood(sport, 1500, 1000);
    ck_assert_uint_eq(TOTAL(cookies_issued), cookies);
}
END_TEST

START_TEST(test_cookie_clocks_apart)
{
    /* With two LB nodes' clocks 3 s apart, 1,000 handshakes whose SYN and
     * ACK are handled by different nodes all complete.  The SYN goes to
     * one node, the ACK 200 ms later to the other, in turn both ways;
     * 300 ms apart, they cross five slot boundaries, where the node
     * behind meets cookies of a slot it has not reached yet.  Their
     * monotonic clocks, as on separate machines, have nothing in common:
     * cookies must not use them. */
    int completed = 0;

    syn_table_max = 0;          /* Every SYN gets a cookie. */
    w.mono[1] = 86400LL * 1000 * 40 + 12345;    /* Up for 40 days. */
    w.mono[2] = 777777;
    set_wall(0, WALL_MS - 10000);
    set_wall(1, WALL_MS - 10000 + 3000);
    set_wall(2, WALL_MS - 10000);
    for (int i = 0; i < 1000; i++) {
        int syn_node = i % 2;

        completed += cookie_handshake_across(2, 20000 + i, syn_node,
                                             1 - syn_node, 200);
        w.now += 100;
    }
    ck_assert_int_eq(completed, 1000);
    ck_assert_uint_eq(TOTAL(cookies_issued), 1000);
    ck_assert_uint_eq(TOTAL(cookies_valid), 1000);
    ck_assert_uint_eq(TOTAL(acks_no_state), 0);
}
END_TEST

START_TEST(test_cookie_across_key_rotation)
{
    /* Every SYN gets a cookie; the cluster key is rotated between two SYNs
     * and their ACKs.  The first ACK completes its handshake.  The second
     * comes after the previous key's cookies can no longer be valid on the
     * monotonic clock that tells its expiry; the wall clock of the cookies
     * is held back so that only the forgotten key can refuse it. */
    struct tcp_seg_info synack[2];
    uint16_t sport = 31000;

    syn_table_max = 0;
    for (int i = 0; i < N_LB; i++) {
        set_wall(i, WALL_MS);
    }
    configure(NULL, NULL, 3);
    for (int i = 0; i < 2; i++) {
        packet_in(0, sport + i, TCP_SYN, 1000, 0);
        ck_assert_uint_eq(w.n_north, i + 1);
        synack[i] = w.north[i].seg;
    }

    secret = "a cluster key that was just promoted";
    configure(NULL, NULL, 3);
    configure(NULL, NULL, 3);   /* The same key again changes nothing. */
    ack_synack(0, sport, &synack[0]);
    ck_assert_uint_eq(TOTAL(cookies_valid), 1);
    ck_assert_uint_eq(TOTAL(cookies_prev_key), 1);
    ck_assert_uint_eq(TOTAL(acks_no_state), 0);

    for (int i = 0; i < N_LB; i++) {
        lbnode_run(w.lbs[i], node_now(i), &io, &aux[i]);
    }
    w.now += (2 * SYN_COOKIE_SLOT_S + SYN_COOKIE_MAX_SKEW_S) * 1000;
    for (int i = 0; i < N_LB; i++) {
        set_wall(i, WALL_MS + 2000);
        lbnode_run(w.lbs[i], node_now(i), &io, &aux[i]);
    }
    ack_synack(0, sport + 1, &synack[1]);
    ck_assert_uint_eq(TOTAL(cookies_valid), 1);
    ck_assert_uint_eq(TOTAL(acks_no_state), 1);
}
END_TEST

START_TEST(test_cookie_slot_boundary)
{
    /* LB node 2's clock is 3 s ahead of LB node 1's. */
    syn_table_max = 0;
    set_wall(0, WALL_MS - 2000);
    set_wall(1, WALL_MS + 1000);

    /* Node 2 makes the cookie 1 s into a slot that node 1 reaches 2 s
     * later; node 1 checks it 1 s later, still in the slot before. */
    ck_assert(cookie_handshake_across(0, 30000, 1, 0, 1000));

    /* Node 1 makes one in the last second of a slot, node 2 checks it a
     * second later, 4 s into the next. */
    set_wall(0, WALL_MS + SYN_COOKIE_SLOT_S * 1000 - 500);
    set_wall(1, WALL_MS + SYN_COOKIE_SLOT_S * 1000 + 2500);
    ck_assert(cookie_handshake_across(0, 30001, 0, 1, 1000));

    /* An ACK that comes a whole slot late: too old.  The counters tell it
     * from an ACK that matches nothing. */
    ck_assert(!cookie_handshake_across(0, 30002, 0, 1,
                                       2 * SYN_COOKIE_SLOT_S * 1000));
    ck_assert_uint_eq(lbnode_get_stats(w.lbs[1])->cookies_too_old, 1);
    ck_assert_uint_eq(lbnode_get_stats(w.lbs[1])->acks_no_state, 1);

    /* A node 20 s ahead, beyond the tolerance, just past a boundary: its
     * cookies are too new for node 1. */
    set_wall(0, WALL_MS + 2 * SYN_COOKIE_SLOT_S * 1000 - 18000);
    set_wall(1, WALL_MS + 2 * SYN_COOKIE_SLOT_S * 1000 + 2000);
    ck_assert(!cookie_handshake_across(0, 30003, 1, 0, 100));
    ck_assert_uint_eq(lbnode_get_stats(w.lbs[0])->cookies_too_new, 1);
    ck_assert_uint_eq(lbnode_get_stats(w.lbs[0])->cookies_too_old, 0);
    ck_assert_uint_eq(TOTAL(cookies_valid), 2);

    struct ds s = DS_EMPTY_INITIALIZER;
    lbnode_format_stats(w.lbs[0], &s);
    ck_assert_ptr_nonnull(strstr(ds_cstr(&s), "cookies_too_new      1"));
    ck_assert_ptr_nonnull(strstr(ds_cstr(&s), "cookies_too_old      0"));
    ds_destroy(&s);
}
END_TEST

/* Timers (issue 13): every kind in deadline order, so that lbnode_run() and
 * lbnode_retry() touch only what is due. */

static long long int
next_deadline(int i)
{
    return lbnode_next_deadline(w.lbs[i]);
}

static void
retry_all(void)
{
    for (int i = 0; i < N_LB; i++) {
        lbnode_retry(w.lbs[i], w.now, &io, &aux[i]);
    }
    run_bus();
}

/* Checks that LB nodes that hold nothing any more have no timer left: the
 * timer of a freed entry, pending flow or mapping would show here (and to
 * ASan). */
static void
check_no_timers(void)
{
    for (int i = 0; i < N_LB; i++) {
        ck_assert_uint_eq(lbnode_n_entries(w.lbs[i]), 0);
        ck_assert_uint_eq(lbnode_n_pending(w.lbs[i]), 0);
        ck_assert_int_eq(next_deadline(i), LLONG_MAX);
    }
}

START_TEST(test_connect_server_lost)
{
    /* A PFT whose server never answered (its answers lost) but publishes
     * the connection: the entry lives on the publications, as a lease,
     * not until the handshake's timeout; and once that server is found
     * down, the PFT retries no more, not even when it comes back (without
     * its journal its agent would take the retry for a new connection and
     * open a server socket with nobody at the other end). */
    uint16_t sport = 57300;
    struct flow_key cp = cp_of(sport);
    bool srv_healthy[N_SRV];
    uint32_t pft, sft;
    int srv = -1;

    ck_assert(lbnode_trackers(w.lbs[0], &cp, &pft, &sft));
    size_t n_pft = lbnode_n_entries(w.lbs[pft - 1]);
    size_t n_sft = lbnode_n_entries(w.lbs[sft - 1]);
    for (int i = 0; i < N_SRV; i++) {
        w.agent[i] = AGENT_SILENT;
    }
    handshake(0, sport);
    for (int i = 0; i < N_SRV; i++) {
        if (w.conn_reqs[i]) {
            srv = i;
        }
    }
    ck_assert_int_ge(srv, 0);
    publish(srv, 0, &sport, 1, lb_id(0));

    /* Retries go on while the server is healthy. */
    w.now += 1000;
    retry_all();
    ck_assert_uint_eq(w.conn_reqs[srv], 2);

    /* Found down: no retry, then or after its return. */
    for (int i = 0; i < N_SRV; i++) {
        srv_healthy[i] = i != srv;
    }
    configure(NULL, srv_healthy, 3);
    w.now += 1000;
    retry_all();
    ck_assert_uint_eq(lbnode_get_stats(w.lbs[pft - 1])->connect_server_lost,
                      1);
    configure(NULL, NULL, 3);
    publish(srv, 0, &sport, 1, lb_id(0));   /* Back: renews nothing. */
    for (int t = 0; t < 3; t++) {
        w.now += 1000;
        retry_all();
    }
    ck_assert_uint_eq(w.conn_reqs[srv], 2);
    for (int i = 0; i < N_SRV; i++) {
        ck_assert_uint_eq(w.conn_reqs[i], i == srv ? 2 : 0);
    }

    /* The PFT's entry is gone a lease after the last publication before
     * the server was found down (5 s ago), well before the handshake's
     * timeout (30 s); the SFT's, which retries nothing, lives on the
     * publications that came since. */
    w.now += LEASE_MS - 5000 + 250;
    run_all();
    run_bus();
    ck_assert_uint_eq(lbnode_n_entries(w.lbs[pft - 1]), n_pft);
    ck_assert_uint_eq(lbnode_n_entries(w.lbs[sft - 1]), n_sft + 1);

    /* The server has the connection: its publications rebuild the PFT's
     * entry, established. */
    uint64_t restored = TOTAL(entries_restored);
    publish(srv, 0, &sport, 1, lb_id(0));
    ck_assert_uint_eq(TOTAL(entries_restored), restored + 1);
    ck_assert_uint_eq(lbnode_n_entries(w.lbs[pft - 1]), n_pft + 1);

    /* No more publications (the connection closed): everything goes
     * within a lease. */
    w.now += LEASE_MS + 250;
    run_all();
    run_bus();
    check_no_timers();
}
END_TEST

START_TEST(test_handshake_outlives_nothing)
{
    /* Handshake entries (syn-received: the client's ACK not seen) that the
     * connection made elsewhere, or a ring change, left behind live no
     * longer than they are of use (found by the simulator, seeds 214, 283,
     * 564, 749, 937 of 1,000, issue 17):
     *  - a handshake whose CP a server publishes (the connection was
     *    established through another PFT while the rings disagreed) waits
     *    a lease, not the whole handshake timeout;
     *  - a handshake handed over by TRACKER_SYNC keeps what the sender's
     *    handshake had left, not a new timeout. */
    uint16_t sport = 57600, sport2 = 57601;
    struct flow_key cp = cp_of(sport), cp2 = cp_of(sport2);
    uint32_t pft, sft, pft2, sft2;

    ck_assert(lbnode_trackers(w.lbs[0], &cp, &pft, &sft));
    ck_assert(lbnode_trackers(w.lbs[0], &cp2, &pft2, &sft2));
    ck_assert_int_gt(handshake_timeout_ms, LEASE_MS + 1000);

    packet_in(0, sport, TCP_SYN, 1000, 0);
    run_bus();
    ck_assert(has_entry(pft - 1, sport, "syn-received"));
    publish(0, 0, &sport, 1, lb_id(0));
    ck_assert_uint_ge(TOTAL(publish_handshake_cut), 1);

    /* Handed over with 2 s left. */
    inject_tracker_sync_lease(sft2, pft2, &cp2, false, 3000, 77, CTL_NODE_NONE,
                              2000);
    ck_assert(has_entry(pft2 - 1, sport2, "syn-received"));
    w.now += 2250;
    run_all();
    ck_assert(!has_entry(pft2 - 1, sport2, NULL));
    ck_assert(has_entry(pft - 1, sport, "syn-received"));

    /* No publication since: gone a lease after the one there was. */
    w.now += LEASE_MS - 2000;
    run_all();
    ck_assert(!has_entry(pft - 1, sport, NULL));
    ck_assert(!has_entry(sft - 1, sport, NULL));
}
END_TEST

START_TEST(test_timers_visit_only_due)
{
    /* Many live connections, all but one published every second: when the
     * lease of that one lapses, lbnode_run() visits its three timers (PFT
     * and SFT entries, ingress mapping) and nothing else, and no pass
     * before visits anything. */
    enum { N_FLOWS = 40 };
    struct flow_key cp0 = cp_of(60000);
    long long int t0 = w.now;
    bool holds0[N_LB];
    int srv[N_FLOWS];
    uint32_t pft, sft;
    uint64_t visits;

    ck_assert(lbnode_trackers(w.lbs[0], &cp0, &pft, &sft));
    for (int i = 0; i < N_LB; i++) {
        holds0[i] = i == 0 || lb_id(i) == pft || lb_id(i) == sft;
    }
    for (int f = 0; f < N_FLOWS; f++) {
        handshake(f % N_LB, 60000 + f);
        srv[f] = server_of_map(w.n_maps - 1);
    }
    ck_assert_uint_eq(total_entries(), 2 * N_FLOWS);
    for (int i = 0; i < N_LB; i++) {
        ck_assert_int_eq(next_deadline(i), t0 + LEASE_MS);
    }

    visits = TOTAL(timer_visits);
    for (int t = 1; t * 1000 <= LEASE_MS + 1000; t++) {
        w.now = t0 + t * 1000;
        /* The servers' publications, flow 0 left out. */
        for (int s = 0; s < N_SRV; s++) {
            for (int in = 0; in < N_LB; in++) {
                uint16_t sports[N_FLOWS];
                size_t n = 0;

                for (int f = 1; f < N_FLOWS; f++) {
                    if (srv[f] == s && f % N_LB == in) {
                        sports[n++] = 60000 + f;
                    }
                }
                if (n) {
                    publish(s, t % N_LB, sports, n, lb_id(in));
                }
            }
        }
        run_all();
        if (w.now < t0 + LEASE_MS) {
            ck_assert_uint_eq(TOTAL(timer_visits), visits);
            for (int i = 0; i < N_LB; i++) {
                ck_assert_int_eq(next_deadline(i), (holds0[i]
                                                    ? t0 + LEASE_MS
                                                    : w.now + LEASE_MS));
            }
        } else if (w.now == t0 + LEASE_MS) {
            ck_assert_uint_eq(TOTAL(timer_visits), visits + 3);
            ck_assert_uint_eq(TOTAL(leases_lapsed), 3);
            ck_assert_uint_eq(total_entries(), 2 * (N_FLOWS - 1));
            ck_assert_uint_eq(w.n_removed, 1);
        } else {
            ck_assert_uint_eq(TOTAL(timer_visits), visits + 3);
        }
        /* The next deadline is the oldest renewal's lease, exactly. */
        if (w.now >= t0 + LEASE_MS) {
            for (int i = 0; i < N_LB; i++) {
                ck_assert_int_eq(next_deadline(i), w.now + LEASE_MS);
            }
        }
    }
    ck_assert_uint_eq(TOTAL(leases_lapsed), 3);

    /* A renewal off the sweep period: the lease lapses at the next
     * LEASE_SWEEP_MS (250 ms) boundary. */
    long long int last = w.now + 100;
    w.now = last;
    for (int f = 1; f < N_FLOWS; f++) {
        uint16_t sport = 60000 + f;
        publish(srv[f], f % N_LB, &sport, 1, lb_id(f % N_LB));
    }
    for (int i = 0; i < N_LB; i++) {
        ck_assert_int_eq(next_deadline(i), ROUND_UP(last + LEASE_MS, 250));
    }
    visits = TOTAL(timer_visits);
    w.now = ROUND_UP(last + LEASE_MS, 250) - 1;
    run_all();
    ck_assert_uint_eq(TOTAL(timer_visits), visits);
    ck_assert_uint_eq(total_entries(), 2 * (N_FLOWS - 1));
    w.now++;
    run_all();
    ck_assert_uint_eq(TOTAL(timer_visits), visits + 3 * (N_FLOWS - 1));
    ck_assert_uint_eq(TOTAL(leases_lapsed), 3 * N_FLOWS);
    check_no_timers();

    /* The counter is shown. */
    struct ds s = DS_EMPTY_INITIALIZER;
    lbnode_format_stats(w.lbs[0], &s);
    ck_assert_ptr_nonnull(strstr(ds_cstr(&s), "timer_visits"));
    ds_destroy(&s);
}
END_TEST

START_TEST(test_next_deadline_handshake)
{
    /* A handshake whose server does not answer at first: the ingress's
     * query retry, the PFT's CONNECT retry and the SFT's handshake
     * timeout are each the exact next deadline of their node. */
    uint16_t sport = 61000;
    struct flow_key cp = cp_of(sport);
    long long int t0 = w.now, expect[N_LB];
    uint32_t pft, sft;
    uint64_t visits;

    ck_assert(lbnode_trackers(w.lbs[0], &cp, &pft, &sft));
    for (int i = 0; i < N_SRV; i++) {
        w.agent[i] = AGENT_SILENT;
    }
    handshake(0, sport);
    ck_assert_uint_eq(lbnode_n_pending(w.lbs[0]), 1);
    for (int i = 0; i < N_LB; i++) {
        expect[i] = (i == 0 ? t0 + 500             /* Query retry. */
                     : lb_id(i) == pft ? t0 + 1000 /* CONNECT retry. */
                     : lb_id(i) == sft ? t0 + 30000 /* Handshake timeout. */
                     : LLONG_MAX);
        ck_assert_int_eq(next_deadline(i), expect[i]);
    }

    /* The ingress asks again, and nothing else is touched. */
    visits = TOTAL(timer_visits);
    w.now = t0 + 499;
    retry_all();
    run_all();
    ck_assert_uint_eq(TOTAL(timer_visits), visits);
    w.now = t0 + 500;
    retry_all();
    run_all();
    ck_assert_uint_eq(TOTAL(timer_visits), visits + 1);
    ck_assert_int_eq(next_deadline(0), t0 + 1000);

    /* The PFT sends its CONNECT again (and the ingress asks again). */
    size_t reqs = w.conn_reqs[0] + w.conn_reqs[1] + w.conn_reqs[2];
    w.now = t0 + 1000;
    retry_all();
    ck_assert_uint_eq(TOTAL(timer_visits), visits + 3);
    ck_assert_uint_eq(w.conn_reqs[0] + w.conn_reqs[1] + w.conn_reqs[2],
                      reqs + 1);
    ck_assert_int_eq(next_deadline(pft - 1), pft == lb_id(0) ? t0 + 1500
                                                             : t0 + 2000);

    /* The server answers this time: every timer of the handshake goes,
     * and each node's next deadline is its new leases' end. */
    for (int i = 0; i < N_SRV; i++) {
        w.agent[i] = AGENT_ACCEPT;
    }
    w.now = t0 + 2000;
    retry_all();
    ck_assert_uint_eq(w.n_maps, 1);
    ck_assert_uint_eq(lbnode_n_pending(w.lbs[0]), 0);
    for (int i = 0; i < N_LB; i++) {
        bool holds = i == 0 || lb_id(i) == pft || lb_id(i) == sft;
        ck_assert_int_eq(next_deadline(i),
                         holds ? t0 + 2000 + LEASE_MS : LLONG_MAX);
    }
}
END_TEST

START_TEST(test_timers_follow_removals)
{
    /* Every way an entry, a pending flow or a mapping goes takes its
     * timers with it. */
    bool srv_down[N_SRV] = { false, false, false };
    uint16_t sport = 62000;
    struct flow_key cp = cp_of(sport);
    uint32_t pft, sft;
    size_t n_north;
    long long int t1;

    /* A flow that both trackers declare unknown. */
    packet_in(0, 62001, TCP_ACK, 1, 1);
    ck_assert_uint_eq(lbnode_get_stats(w.lbs[0])->unknown_flows, 1);
    check_no_timers();

    /* No server: the trackers drop their entries at the CONNECT; the
     * ingress's pending flow goes at its next query. */
    configure(NULL, srv_down, 3);
    handshake(1, 62002);
    ck_assert_uint_eq(total_entries(), 0);
    ck_assert_int_eq(next_deadline(1), w.now + 500);
    w.now += 500;
    retry_all();
    check_no_timers();
    configure(NULL, NULL, 3);

    /* A reused CP: the ingress keeps the old mapping as a tombstone for a
     * lease, the PFT starts a new entry, the SFT takes its established
     * entry back to the handshake. */
    ck_assert(lbnode_trackers(w.lbs[0], &cp, &pft, &sft));
    handshake(0, sport);
    w.now += 2000;
    t1 = w.now;
    n_north = w.n_north;
    packet_in(0, sport, TCP_SYN, 5000, 0);
    ck_assert_uint_eq(w.n_removed, 1);
    ck_assert_uint_eq(w.n_north, n_north + 1);
    for (int i = 0; i < N_LB; i++) {
        ck_assert_int_eq(next_deadline(i),
                         (i == 0 ? t1 + LEASE_MS
                          : lb_id(i) == pft || lb_id(i) == sft ? t1 + 30000
                          : LLONG_MAX));
    }
    packet_in(0, sport, TCP_ACK, 5001, w.north[n_north].seg.seq + 1);
    ck_assert_uint_eq(lbnode_n_pending(w.lbs[0]), 0);
    for (int i = 0; i < N_LB; i++) {
        bool holds = i == 0 || lb_id(i) == pft || lb_id(i) == sft;
        ck_assert_int_eq(next_deadline(i),
                         holds ? t1 + LEASE_MS : LLONG_MAX);
    }
    w.now = t1 + LEASE_MS;
    run_all();
    check_no_timers();

    /* TRACKER_SYNC: a handshake waiting for its server, as PFT (a CONNECT
     * retry), then the same flow established (a lease instead). */
    uint32_t other = pft == lb_id(0) ? sft : lb_id(0);
    inject_tracker_sync(other, pft, &cp, false, 7000, 4242, srv_id(0));
    ck_assert_uint_eq(lbnode_n_entries(w.lbs[pft - 1]), 1);
    ck_assert_int_eq(next_deadline(pft - 1), w.now + 1000);
    inject_tracker_sync(other, pft, &cp, true, 7000, 4242, srv_id(0));
    ck_assert_int_eq(next_deadline(pft - 1), w.now + LEASE_MS);
    w.now += LEASE_MS;
    run_all();
    check_no_timers();

    /* An established entry handed over keeps what the sender's lease had
     * left (a closed connection's entry must not get a new lease at every
     * ring change); another TRACKER_SYNC of it extends it, never shortens
     * it; a sender's lease longer than ours is cut to ours. */
    inject_tracker_sync_lease(other, pft, &cp, true, 7000, 4242, srv_id(0),
                              1500);
    ck_assert_uint_eq(lbnode_n_entries(w.lbs[pft - 1]), 1);
    ck_assert_int_eq(next_deadline(pft - 1), w.now + 1500);
    inject_tracker_sync_lease(other, pft, &cp, true, 7000, 4242, srv_id(0),
                              500);
    ck_assert_int_eq(next_deadline(pft - 1), w.now + 1500);
    inject_tracker_sync_lease(other, pft, &cp, true, 7000, 4242, srv_id(0),
                              2500);
    ck_assert_int_eq(next_deadline(pft - 1), w.now + 2500);
    inject_tracker_sync_lease(other, pft, &cp, true, 7000, 4242, srv_id(0),
                              UINT32_MAX);
    ck_assert_int_eq(next_deadline(pft - 1), w.now + LEASE_MS);
    w.now += LEASE_MS;
    run_all();
    check_no_timers();

    /* Publications rebuild the entries and the mapping of a flow nobody
     * holds; they lapse one lease after. */
    publish(0, 2, &sport, 1, lb_id(0));
    ck_assert_uint_eq(total_entries(), 2);
    for (int i = 0; i < N_LB; i++) {
        bool holds = i == 0 || lb_id(i) == pft || lb_id(i) == sft;
        ck_assert_int_eq(next_deadline(i),
                         holds ? w.now + LEASE_MS : LLONG_MAX);
    }
    w.now += LEASE_MS;
    run_all();
    check_no_timers();

    /* A pending flow that times out; its query retries stop with it. */
    for (int i = 0; i < N_SRV; i++) {
        w.agent[i] = AGENT_SILENT;
    }
    handshake(2, 62003);
    for (int t = 0; t < 6; t++) {
        w.now += 500;
        run_all();
        retry_all();
    }
    ck_assert_uint_eq(lbnode_get_stats(w.lbs[2])->buffer_timeouts, 1);
    ck_assert_uint_eq(lbnode_n_pending(w.lbs[2]), 0);

    /* The handshake times out at both trackers. */
    for (int i = 0; i < N_SRV; i++) {
        w.agent[i] = AGENT_ACCEPT;
    }
    w.now += 30000;
    run_all();
    check_no_timers();

    /* Nodes destroyed with timers of every kind still queued (teardown):
     * nothing leaks. */
    for (int i = 0; i < N_SRV; i++) {
        w.agent[i] = AGENT_SILENT;
    }
    handshake(0, 62004);
    handshake(1, 62005);
}
END_TEST

START_TEST(test_restored_leases_in_order)
{
    /* Journal records come back in any order, each with what is left of
     * its lease: they lapse in deadline order, one pass each, and the next
     * deadline is always the earliest. */
    static int nodes[N_LB] = { 0, 1, 2 };
    long long int t0, ttl[N_LB][64];
    size_t n_records = 0;
    uint64_t visits;

    memset(journal, 0, sizeof journal);
    for (int i = 0; i < N_LB; i++) {
        lbnode_set_journal(w.lbs[i], journal_cb, &nodes[i]);
    }
    for (int f = 0; f < 6; f++) {
        handshake(f % N_LB, 63000 + f);
    }
    for (int i = 0; i < N_LB; i++) {
        lbnode_destroy(w.lbs[i]);
        w.lbs[i] = lbnode_create();
    }
    configure(NULL, NULL, 3);
    t0 = w.now;
    for (int n = 0; n < N_LB; n++) {
        for (size_t i = 0; i < ARRAY_SIZE(journal[0]); i++) {
            const struct journal_rec *r = &journal[n][i];

            ttl[n][i] = 0;
            if (r->live) {
                /* Shorter and shorter: all but the first out of order. */
                ttl[n][i] = 30000 - 1000 * n_records++;
                ck_assert(lbnode_restore(w.lbs[n], r->table, &r->cp,
                                         r->data, r->len, ttl[n][i], w.now,
                                         &io, &aux[n]));
            }
        }
    }
    ck_assert_uint_eq(n_records, 18);

    visits = TOTAL(timer_visits);
    for (long long int t = t0 + 1000; t <= t0 + 30000; t += 1000) {
        for (int n = 0; n < N_LB; n++) {
            long long int next = LLONG_MAX;

            for (size_t i = 0; i < ARRAY_SIZE(journal[0]); i++) {
                if (ttl[n][i] && t0 + ttl[n][i] >= t) {
                    next = MIN(next, t0 + ttl[n][i]);
                }
            }
            ck_assert_int_eq(next_deadline(n), next);
        }
        w.now = t;
        run_all();
        visits += t >= t0 + 30000 - 1000 * (long long int) (n_records - 1);
        ck_assert_uint_eq(TOTAL(timer_visits), visits);
    }
    ck_assert_uint_eq(TOTAL(leases_lapsed), n_records);
    check_no_timers();
}
END_TEST

START_TEST(test_timers_follow_role_changes)
{
    /* A handshake waits for its server while ring changes move its PFT
     * role (as in lbnode_rebalance() and TRACKER_SYNC): only the PFT of the
     * moment retries the CONNECT, and a node that becomes the PFT retries
     * at once if its last CONNECT is a period old, or it never sent one. */
    bool without_c[N_LB] = { true, true, true };
    uint32_t a = 0, b = 0, c = 0;
    uint16_t sport = 0;
    struct flow_key cp;

    /* A flow whose PFT is c and SFT a, and a and b without c. */
    for (uint16_t p = 64000; p < 65000 && !sport; p++) {
        cp = cp_of(p);
        for (int down = 0; down < N_LB && !sport; down++) {
            bool healthy[N_LB] = { true, true, true };
            uint32_t p3, s3, p2, s2;

            healthy[down] = false;
            configure(NULL, NULL, 3);
            ck_assert(lbnode_trackers(w.lbs[0], &cp, &p3, &s3));
            configure(healthy, NULL, 3);
            ck_assert(lbnode_trackers(w.lbs[0], &cp, &p2, &s2));
            if (p3 == lb_id(down) && p2 == s3) {
                sport = p;
                c = p3;
                a = s3;
                b = s2;
            }
        }
    }
    ck_assert_uint_ne(sport, 0);
    without_c[c - 1] = false;
    configure(NULL, NULL, 3);

    for (int i = 0; i < N_SRV; i++) {
        w.agent[i] = AGENT_SILENT;
    }
    long long int t0 = w.now;
    handshake(b - 1, sport);
    ck_assert_int_eq(next_deadline(c - 1), t0 + 1000);
    ck_assert_int_eq(next_deadline(a - 1), t0 + 30000);

    /* c goes down and hands the flow over: a, an SFT that never sent a
     * CONNECT, takes the PFT role from the TRACKER_SYNC and retries. */
    w.now = t0 + 100;
    configure(without_c, NULL, 3);
    lbnode_rebalance(w.lbs[c - 1], w.now, &io, &aux[c - 1]);
    run_bus();
    ck_assert_int_le(next_deadline(a - 1), w.now);
    size_t reqs = w.conn_reqs[0] + w.conn_reqs[1] + w.conn_reqs[2];
    uint64_t visits = lbnode_get_stats(w.lbs[a - 1])->timer_visits;
    lbnode_retry(w.lbs[a - 1], w.now, &io, &aux[a - 1]);
    run_bus();
    ck_assert_uint_eq(lbnode_get_stats(w.lbs[a - 1])->timer_visits,
                      visits + 1);
    ck_assert_uint_eq(w.conn_reqs[0] + w.conn_reqs[1] + w.conn_reqs[2],
                      reqs + 1);
    ck_assert_int_eq(next_deadline(a - 1), w.now + 1000);

    /* c comes back: a hands the PFT role back to it and is the SFT
     * again, with nothing to retry. */
    w.now = t0 + 1100;
    configure(NULL, NULL, 3);
    lbnode_rebalance(w.lbs[a - 1], w.now, &io, &aux[a - 1]);
    ck_assert_int_eq(next_deadline(a - 1), t0 + 30000);
    run_bus();
    ck_assert_int_le(next_deadline(c - 1), w.now);
    ck_assert_int_eq(next_deadline(a - 1), t0 + 30000);

    /* c goes down again: a's own rebalance makes it the PFT, and its last
     * CONNECT is a period old. */
    w.now = t0 + 2100;
    configure(without_c, NULL, 3);
    lbnode_rebalance(w.lbs[a - 1], w.now, &io, &aux[a - 1]);
    ck_assert_int_eq(next_deadline(a - 1), t0 + 1100);

    /* This time the server answers a's CONNECT. */
    for (int i = 0; i < N_SRV; i++) {
        w.agent[i] = AGENT_ACCEPT;
    }
    run_bus();
    lbnode_retry(w.lbs[a - 1], w.now, &io, &aux[a - 1]);
    run_bus();
    /* b, the SFT, is the flow's ingress too: it takes the mapping itself
     * when the server accepts, without waiting for its query's retry. */
    ck_assert_uint_eq(w.n_maps, 1);
    ck_assert_uint_eq(w.maps[0].node, b);
    ck_assert_uint_eq(lbnode_n_pending(w.lbs[b - 1]), 0);
    /* Leases lapse at the next 250 ms boundary. */
    ck_assert_int_eq(next_deadline(a - 1), ROUND_UP(w.now + LEASE_MS, 250));
    ck_assert_int_eq(next_deadline(b - 1), ROUND_UP(w.now + LEASE_MS, 250));
}
END_TEST

START_TEST(test_retry_without_trackers)
{
    /* While no LB node is healthy, nobody can be asked: the ingress's
     * query and the PFT's CONNECT are due again a period later, not on
     * every pass of the loop. */
    bool none[N_LB] = { false, false, false };
    struct flow_key cp = cp_of(65100);
    uint32_t pft, sft;

    ck_assert(lbnode_trackers(w.lbs[0], &cp, &pft, &sft));
    for (int i = 0; i < N_SRV; i++) {
        w.agent[i] = AGENT_SILENT;
    }
    handshake(0, 65100);
    configure(none, NULL, 3);
    w.now += 1000;
    retry_all();
    ck_assert_int_eq(next_deadline(0), w.now + 500);
    ck_assert_int_eq(next_deadline(pft - 1), pft == lb_id(0) ? w.now + 500
                                                             : w.now + 1000);
}
END_TEST

/* Bounds of the tables (issue 18). */

/* Returns true if LB node index 'lb' has a tracker entry for client port
 * 'sport' (in 'state', if not NULL), as ovslb/flows shows it. */
static bool
has_entry(int lb, uint16_t sport, const char *state)
{
    struct ds flows = DS_EMPTY_INITIALIZER;
    struct ds key = DS_EMPTY_INITIALIZER;
    struct flow_key cp = cp_of(sport);
    const char *line;
    bool found = false;

    lbnode_format_flows(w.lbs[lb], w.now, &flows);
    ds_put_cstr(&key, "  ");
    flow_key_format(&cp, &key);
    ds_put_char(&key, ' ');
    line = strstr(ds_cstr(&flows), ds_cstr(&key));
    /* Only the tracked flows' section lists entries. */
    if (line && line < strstr(ds_cstr(&flows), "pending flows")) {
        const char *eol = strchr(line, '\n');
        const char *st = state ? strstr(line, state) : line;

        found = st && st < eol;
    }
    ds_destroy(&key);
    ds_destroy(&flows);
    return found;
}

/* Returns true if ovslb/show of LB node index 'lb' says 'text'. */
static bool
show_says(int lb, const char *text)
{
    struct ds show = DS_EMPTY_INITIALIZER;
    bool found;

    lbnode_format_show(w.lbs[lb], &show);
    found = strstr(ds_cstr(&show), text) != NULL;
    if (!found) {
        fprintf(stderr, "ovslb/show does not say \"%s\":\n%s", text,
                ds_cstr(&show));
    }
    ds_destroy(&show);
    return found;
}

/* Configures every LB node with the bounds 'tracker', 'mapping' and
 * 'pending' (0: none), and only LB node index 0 healthy if 'only_first'. */
static void
configure_bounds(uint32_t tracker, uint32_t mapping, uint32_t pending,
                 bool only_first)
{
    bool first[N_LB] = { true, false, false };

    tracker_table_max = tracker;
    mapping_table_max = mapping;
    pending_table_max = pending;
    configure(only_first ? first : NULL, NULL, 3);
}

/* Opens 'n' connections from client ports 'first' onwards through
 * ingress 'lb', 'gap_ms' apart. */
static void
handshakes(int lb, uint16_t first, int n, long long int gap_ms)
{
    for (int i = 0; i < n; i++) {
        handshake(lb, first + i);
        w.now += gap_ms;
    }
}

static void
set_agents(enum agent_mode mode)
{
    for (int i = 0; i < N_SRV; i++) {
        w.agent[i] = mode;
    }
}

START_TEST(test_tracker_bound_evicts_lru)
{
    /* One LB node, PFT and SFT of every flow, with room for 4 entries.
     * Four connections established a second apart, the first renewed by
     * its server's publication: the next one evicts the least recently
     * renewed, the second, and the renewed first survives; then each new
     * connection evicts the next oldest, and the table never grows. */
    const struct lbnode_stats *st = lbnode_get_stats(w.lbs[0]);
    uint16_t first = 60000;

    configure_bounds(4, 0, 0, true);
    handshakes(0, first, 4, 1000);
    ck_assert_uint_eq(lbnode_n_entries(w.lbs[0]), 4);
    ck_assert_uint_eq(st->entries_evicted, 0);
    ck_assert(show_says(0, "tracker entries 4/4 (0 evicted)"));

    publish(server_of_map(0), 0, &first, 1, lb_id(0));
    ck_assert_uint_eq(st->leases_renewed, 2);   /* Entry and mapping. */
    w.now += 1000;
    handshake(0, first + 4);
    ck_assert_uint_eq(lbnode_n_entries(w.lbs[0]), 4);
    ck_assert_uint_eq(st->entries_evicted, 1);
    ck_assert(has_entry(0, first, "established"));
    ck_assert(!has_entry(0, first + 1, NULL));
    ck_assert(has_entry(0, first + 2, "established"));
    ck_assert(has_entry(0, first + 4, "established"));

    /* The evicted connection is not lost: its server's next publication
     * brings its entry back, at the cost of the least recently renewed
     * one again. */
    uint16_t second = first + 1;
    publish(server_of_map(1), 0, &second, 1, lb_id(0));
    ck_assert(has_entry(0, second, "established"));
    ck_assert(!has_entry(0, first + 2, NULL));
    ck_assert_uint_eq(st->entries_evicted, 2);
    ck_assert_uint_eq(st->entries_restored, 1);

    /* Many more: memory stays flat, and every eviction is counted. */
    for (uint16_t p = first + 5; p < first + 45; p++) {
        w.now += 300;
        handshake(0, p);
        ck_assert_uint_le(lbnode_n_entries(w.lbs[0]), 4);
    }
    ck_assert_uint_eq(lbnode_n_entries(w.lbs[0]), 4);
    ck_assert_uint_eq(st->entries_evicted, 42);
    ck_assert_uint_eq(st->entries_refused, 0);
    ck_assert_uint_eq(st->accepted, 45);
    ck_assert(show_says(0, "tracker entries 4/4 (42 evicted) (0 refused)"));
}
END_TEST

START_TEST(test_tracker_bound_spares_handshakes)
{
    /* With room for 4 entries, two established connections and then
     * handshakes whose server does not answer yet: new handshakes evict
     * the established entries, never a handshake; once only handshakes
     * are left, a SYN is refused an entry and answered with a SYN cookie,
     * and every handshake kept completes when the servers answer. */
    const struct lbnode_stats *st = lbnode_get_stats(w.lbs[0]);
    uint16_t first = 61000;
    size_t n_maps, n_north;

    configure_bounds(4, 0, 0, true);
    handshake(0, first);
    w.now += 1000;
    handshake(0, first + 1);
    w.now += 1000;
    set_agents(AGENT_SILENT);
    for (uint16_t p = first + 2; p < first + 6; p++) {
        handshake(0, p);
        ck_assert_uint_eq(lbnode_n_entries(w.lbs[0]), MIN(p - first + 1, 4));
    }
    ck_assert_uint_eq(st->entries_evicted, 2);
    ck_assert(!has_entry(0, first, NULL));
    ck_assert(!has_entry(0, first + 1, NULL));
    for (uint16_t p = first + 2; p < first + 6; p++) {
        ck_assert(has_entry(0, p, "connecting"));
    }
    ck_assert(show_says(0, "handshakes 4/4"));

    /* Nothing left to evict: the SYN gets a cookie, and no entry. */
    n_north = w.n_north;
    packet_in(0, first + 6, TCP_SYN, 1000, 0);
    ck_assert_uint_eq(w.n_north, n_north + 1);
    ck_assert_uint_eq(st->entries_refused, 1);
    ck_assert_uint_eq(st->cookies_issued, 1);
    ck_assert_uint_eq(st->entries_evicted, 2);
    ck_assert_uint_eq(lbnode_n_entries(w.lbs[0]), 4);
    ck_assert(!has_entry(0, first + 6, NULL));

    /* The servers answer the retried CONNECTs: all four handshakes kept
     * complete, and their buffered ACKs reach the servers. */
    set_agents(AGENT_ACCEPT);
    n_maps = w.n_maps;
    w.now += 1000;
    lbnode_retry(w.lbs[0], w.now, &io, &aux[0]);
    run_bus();
    ck_assert_uint_eq(w.n_maps, n_maps + 4);
    for (uint16_t p = first + 2; p < first + 6; p++) {
        ck_assert(has_entry(0, p, "established"));
    }
    ck_assert_uint_eq(lbnode_n_pending(w.lbs[0]), 0);
    ck_assert_uint_eq(st->entries_evicted, 2);
}
END_TEST

/* Returns the index in w.maps of the mapping of 'sport' installed on LB
 * node index 'lb' (removed or not). */
static size_t
map_index(int lb, uint16_t sport)
{
    struct flow_key cp = cp_of(sport);

    for (size_t i = 0; i < w.n_maps; i++) {
        if (flow_key_equals(&w.maps[i].cp, &cp)
            && (w.maps[i].node == lb_id(lb) || w.maps[i].node == 0)) {
            return i;
        }
    }
    ck_abort_msg("no mapping for port %"PRIu16, sport);
}

START_TEST(test_mapping_bound_evicts_lru)
{
    /* An ingress with room for 4 mappings: four connections a second
     * apart, the first renewed by a publication; the fifth evicts the
     * second's mapping and has the switch forget it (its conntrack entry),
     * as a lapsed lease would, and the table never grows. */
    const struct lbnode_stats *st = lbnode_get_stats(w.lbs[0]);
    uint16_t first = 62000;
    size_t removed;

    configure_bounds(0, 4, 0, false);
    handshakes(0, first, 4, 1000);
    ck_assert(show_says(0, "mappings 4/4 (0 evicted)"));
    publish(server_of_map(map_index(0, first)), 1, &first, 1, lb_id(0));
    removed = w.n_removed;
    handshake(0, first + 4);
    ck_assert_uint_eq(st->mappings_evicted, 1);
    ck_assert_uint_eq(w.n_removed, removed + 1);
    ck_assert_uint_eq(w.maps[map_index(0, first + 1)].node, 0);
    ck_assert_uint_eq(w.maps[map_index(0, first)].node, lb_id(0));
    ck_assert_uint_eq(w.maps[map_index(0, first + 4)].node, lb_id(0));
    ck_assert_uint_eq(st->mappings_lapsed, 0);

    handshakes(0, first + 5, 20, 300);
    ck_assert_uint_eq(st->mappings_evicted, 21);
    ck_assert_uint_eq(w.n_removed, removed + 21);
    ck_assert(show_says(0, "mappings 4/4 (21 evicted)"));
    /* The other LB nodes, trackers only, have no mapping to bound. */
    ck_assert_uint_eq(TOTAL(mappings_evicted), 21);

    /* An evicted mapping's flow is asked for again by its next packet
     * that the switch sends the controller, and mapped again. */
    size_t n_maps = w.n_maps;
    packet_in(0, first + 1, TCP_ACK, 1001, 7);
    ck_assert_uint_eq(w.n_maps, n_maps + 1);
    ck_assert_uint_eq(w.maps[n_maps].node, lb_id(0));
}
END_TEST

START_TEST(test_pending_bound_drops_oldest)
{
    /* An ingress with room for 3 pending flows, whose servers do not
     * answer yet: the fourth pending flow drops the oldest with its
     * buffered packets, counted. */
    const struct lbnode_stats *st = lbnode_get_stats(w.lbs[0]);
    uint16_t first = 63000;
    size_t n_fwd;

    configure_bounds(0, 0, 3, false);
    set_agents(AGENT_SILENT);
    for (uint16_t p = first; p < first + 3; p++) {
        handshake(0, p);
        packet_in(0, p, TCP_ACK, 1001, 1);
        w.now += 100;
    }
    ck_assert_uint_eq(lbnode_n_pending(w.lbs[0]), 3);
    ck_assert_uint_eq(st->buffered, 6);
    handshake(0, first + 3);
    ck_assert_uint_eq(lbnode_n_pending(w.lbs[0]), 3);
    ck_assert_uint_eq(st->pending_evicted, 1);
    ck_assert_uint_eq(st->buffer_drops, 2);
    ck_assert(show_says(0, "pending flows 3/3 (1 evicted)"));

    /* The servers answer: the three pending flows kept replay their
     * packets.  The dropped one, as after a buffer timeout, is mapped
     * again by its client's next packet. */
    set_agents(AGENT_ACCEPT);
    n_fwd = w.n_forwarded;
    w.now += 1000;
    for (int i = 0; i < N_LB; i++) {
        lbnode_retry(w.lbs[i], w.now, &io, &aux[i]);
    }
    run_bus();
    ck_assert_uint_eq(lbnode_n_pending(w.lbs[0]), 0);
    for (uint16_t p = first + 1; p < first + 4; p++) {
        ck_assert_uint_eq(w.maps[map_index(0, p)].node, lb_id(0));
    }
    /* Two packets of each of the two older flows kept, one of the
     * newest. */
    ck_assert_uint_eq(st->replayed + st->acks_superseded, 5);
    ck_assert_uint_eq(w.n_forwarded - n_fwd, st->replayed);
    packet_in(0, first, TCP_ACK, 1001, 1);
    ck_assert_uint_eq(w.maps[map_index(0, first)].node, lb_id(0));
    ck_assert_uint_eq(lbnode_n_pending(w.lbs[0]), 0);
}
END_TEST

static Suite *
lbnode_suite(void)
{
    Suite *s = suite_create("lbnode");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_handshake_every_ingress);
    tcase_add_test(tc, test_handshake_timeout_setting);
    tcase_add_test(tc, test_connect_retry_setting);
    tcase_add_test(tc, test_metrics);
    tcase_add_test(tc, test_wrong_ack_dropped);
    tcase_add_test(tc, test_handshake_ack_superseded);
    tcase_add_test(tc, test_mapping_from_sft);
    tcase_add_test(tc, test_retransmitted_syn_same_isn);
    tcase_add_test(tc, test_late_duplicate_syn);
    tcase_add_test(tc, test_no_healthy_server_rst);
    tcase_add_test(tc, test_rejection_moves_on);
    tcase_add_test(tc, test_least_connections_load);
    tcase_add_test(tc, test_round_robin_across_reconfiguration);
    tcase_add_test(tc, test_nearest_zones);
    tcase_add_test(tc, test_service_down_report);
    tcase_add_test(tc, test_ttl_exhausted_rst);
    tcase_add_test(tc, test_single_lb_node);
    tcase_add_test(tc, test_query_after_ingress_change);
    tcase_add_test(tc, test_unknown_flow_forgotten);
    tcase_add_test(tc, test_buffer_bound_and_timeout);
    tcase_add_test(tc, test_garbage_packet_in);
    tcase_add_test(tc, test_cp_reused);
    tcase_add_test(tc, test_journal_restart);
    tcase_add_test(tc, test_tracker_sync_after_loss);
    tcase_add_test(tc, test_rebalance_moves_only_changed);
    tcase_add_test(tc, test_syn_info_misdirected);
    tcase_add_test(tc, test_tracker_sync_stale_connection);
    tcase_add_test(tc, test_tracker_sync_live_connection);
    tcase_add_test(tc, test_tracker_sync_new_handshake);
    tcase_add_test(tc, test_publish_renews_then_lapses);
    tcase_add_test(tc, test_hash_vip_moved_connections);
    tcase_add_test(tc, test_publish_restores_lost_trackers);
    tcase_add_test(tc, test_publish_restores_ingress);
    tcase_add_test(tc, test_publish_hostile);
    tcase_add_test(tc, test_publish_conflict_kept);
    tcase_add_test(tc, test_publish_after_cp_reuse);
    tcase_add_test(tc, test_cookie_after_cp_reuse);
    tcase_add_test(tc, test_ingress_cookie_after_cp_reuse);
    tcase_add_test(tc, test_cookie_rate_of_the_tier);
    tcase_add_test(tc, test_cookie_clocks_apart);
    tcase_add_test(tc, test_cookie_slot_boundary);
    tcase_add_test(tc, test_cookie_across_key_rotation);
    tcase_add_test(tc, test_server_down_before_answer);
    tcase_add_test(tc, test_retry_after_lost_mapping);
    tcase_add_test(tc, test_accepted_lease);
    tcase_add_test(tc, test_connect_server_lost);
    tcase_add_test(tc, test_handshake_outlives_nothing);
    tcase_add_test(tc, test_timers_visit_only_due);
    tcase_add_test(tc, test_next_deadline_handshake);
    tcase_add_test(tc, test_timers_follow_removals);
    tcase_add_test(tc, test_restored_leases_in_order);
    tcase_add_test(tc, test_timers_follow_role_changes);
    tcase_add_test(tc, test_retry_without_trackers);
    tcase_add_test(tc, test_tracker_bound_evicts_lru);
    tcase_add_test(tc, test_tracker_bound_spares_handshakes);
    tcase_add_test(tc, test_mapping_bound_evicts_lru);
    tcase_add_test(tc, test_pending_bound_drops_oldest);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(lbnode_suite());
    int n_failed;

    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
