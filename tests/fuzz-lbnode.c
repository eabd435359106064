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
 * libFuzzer target for the LB node core (controller/lbnode.h): one core,
 * LB node 1 of a cluster of three LB nodes and three servers with one IPv4
 * and one IPv6 VIP, driven by a stream of events (tests/fuzz-stream.h):
 *
 *   op % 8 == 0  packet-in: the data is the Ethernet frame;
 *             1  control message (SYN_INFO ... PUBLISH, PUBLISH_FWD ...):
 *                authenticated, decoded, and handed to lbnode_recv();
 *             2  journal record: table u8 (bit 0: mapping, otherwise
 *                tracker), cp (40 bytes), the record, for lbnode_restore();
 *             3  time: u16 milliseconds (x 16) pass, lbnode_run() and
 *                lbnode_retry();
 *             4  health: bits 0-2 the LB nodes', bits 3-5 the servers'
 *                health (LB node 1 stays healthy), then lbnode_rebalance();
 *             5  the inspection commands' output;
 *             6  the client answers the last SYN/ACK sent north: the ACK,
 *                carrying the data as payload, then its next segments;
 *             7  the server answers the last CONN_REQ: bit 0 of the data,
 *                ACCEPTED, otherwise REJECTED for the reason in the next
 *                byte.
 *
 * The first byte of the input picks the SYN table bound (bit 0: 1, which
 * puts the core in SYN-cookie mode) before the records.
 *
 * Besides memory safety (and leaks, under ASan) it checks that:
 *   - every message the core sends is to another node, encodes, and decodes
 *     to a message that re-encodes to the same bytes;
 *   - every frame it sends north parses, with right checksums (and the
 *     simulated client answers the SYN/ACKs among them);
 *   - every frame it forwards is not empty;
 *   - whatever the journal holds at the end (records put and not deleted)
 *     restores into a new core of the same configuration.
 */
#include <config.h>
#include <stdlib.h>
#include <string.h>

#include "controller/lbnode.h"
#include "ctl-msg.h"
#include "dp-packet.h"
#include "flow-key.h"
#include "fuzz-stream.h"
#include "openvswitch/dynamic-string.h"
#include "packets.h"
#include "selection.h"
#include "tcp-seg.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_LB 3
#define N_SRV 3
#define SELF 1
#define MAX_JOURNAL 256

static const char SECRET[] = "0123456789abcdef0123456789abcdef";

/* A record the journal holds. */
struct journal_row {
    const char *table;
    struct flow_key cp;
    uint8_t data[256];
    size_t len;
};

struct fuzz_world {
    struct journal_row rows[MAX_JOURNAL];
    size_t n_rows;

    /* The client's side of the last SYN/ACK sent north. */
    bool has_synack;
    struct flow_key synack_cp;
    uint32_t client_seq, client_ack;

    /* The last CONN_REQ sent. */
    bool has_conn_req;
    struct ctl_conn_req conn_req;
};

static void
io_send(void *w_, uint32_t dst, struct ctl_msg *msg)
{
    struct fuzz_world *w = w_;

    ovs_assert(dst != SELF && dst != CTL_NODE_NONE);
    fuzz_stream_check_sent(msg);
    if (msg->type == CTL_MSG_CONN_REQ) {
        w->has_conn_req = true;
        w->conn_req = msg->conn_req;
    }
}

static void
io_send_north(void *w_, const void *frame, size_t len)
{
    struct fuzz_world *w = w_;
    struct tcp_seg_info info;

    fuzz_stream_check_frame(frame, len);
    ovs_assert(!tcp_seg_parse_frame(frame, len, &info));
    if ((info.flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
        w->has_synack = true;
        flow_key_init_v6(&w->synack_cp, &info.ip_dst, info.tp_dst,
                         &info.ip_src, info.tp_src, IPPROTO_TCP);
        w->client_seq = info.ack;
        w->client_ack = info.seq + 1;
    }
}

static void
io_install(void *aux OVS_UNUSED, const struct flow_key *cp OVS_UNUSED,
           const struct in6_addr *server OVS_UNUSED)
{
}

static void
io_remove(void *aux OVS_UNUSED, const struct flow_key *cp OVS_UNUSED)
{
}

static void
io_forward(void *aux OVS_UNUSED, const struct flow_key *cp OVS_UNUSED,
           const void *frame, size_t len,
           const struct in6_addr *server OVS_UNUSED)
{
    ovs_assert(frame && len);
}

static const struct lbnode_io io = {
    .send = io_send,
    .send_north = io_send_north,
    .install_mapping = io_install,
    .remove_mapping = io_remove,
    .forward = io_forward,
};

static void
journal_cb(void *w_, const char *table, const struct flow_key *cp,
           const void *data, size_t len, long long int ttl_ms OVS_UNUSED)
{
    struct fuzz_world *w = w_;
    size_t i;

    for (i = 0; i < w->n_rows; i++) {
        if (!strcmp(w->rows[i].table, table)
            && flow_key_equals(&w->rows[i].cp, cp)) {
            break;
        }
    }
    if (!data) {
        if (i < w->n_rows) {
            w->rows[i] = w->rows[--w->n_rows];
        }
        return;
    }
    ovs_assert(len <= sizeof w->rows[i].data);
    if (i == w->n_rows) {
        if (w->n_rows >= MAX_JOURNAL) {
            return;
        }
        w->n_rows++;
    }
    w->rows[i].table = (!strcmp(table, LBNODE_JOURNAL_TRACKER)
                        ? LBNODE_JOURNAL_TRACKER : LBNODE_JOURNAL_MAPPING);
    w->rows[i].cp = *cp;
    memcpy(w->rows[i].data, data, len);
    w->rows[i].len = len;
}

/* Configures 'lb' with the health bits 'health' (see the file's comment)
 * and the SYN table bound 'syn_table_max'. */
static void
configure(struct lbnode *lb, uint8_t health, uint32_t syn_table_max)
{
    struct lbnode_lb lbs[N_LB];
    struct lbnode_server servers[N_SRV];
    struct lbnode_vip_server vs[N_SRV];
    struct lbnode_vip vips[2] = {
        {
            .name = "web", .addr = fuzz_stream_v4(203, 0, 113, 10),
            .port = 80,
            .proto = IPPROTO_TCP, .algorithm = SEL_ROUND_ROBIN,
            .mss = 1400, .wscale = 7, .ttl = 3, .enabled = true,
            .servers = vs, .n_servers = N_SRV,
        }, {
            .name = "web6", .port = 443,
            .proto = IPPROTO_TCP, .algorithm = SEL_LEAST_CONNECTIONS,
            .mss = 1380, .wscale = 7, .ttl = 2, .enabled = true,
            .servers = vs, .n_servers = N_SRV - 1,
        },
    };

    ovs_assert(ipv6_parse("2001:db8::10", &vips[1].addr));
    for (int i = 0; i < N_LB; i++) {
        lbs[i] = (struct lbnode_lb) {
            .node = SELF + i, .north = fuzz_stream_v4(10, 1, 0, 11 + i),
            .south = fuzz_stream_v4(10, 2, 0, 11 + i),
            .control = fuzz_stream_v4(10, 2, 0, 11 + i),
            .healthy = !i || (health & (1 << i)),
        };
    }
    for (int i = 0; i < N_SRV; i++) {
        servers[i] = (struct lbnode_server) {
            .node = 101 + i, .underlay = fuzz_stream_v4(10, 2, 0, 101 + i),
            .control = fuzz_stream_v4(10, 2, 0, 101 + i),
            .healthy = health & (8 << i),
        };
        vs[i] = (struct lbnode_vip_server) { .node = 101 + i,
                                             .weight = 1 + i };
    }

    struct lbnode_config cfg = {
        .self = SELF, .ring_key = 42, .secret = SECRET,
        .secret_len = strlen(SECRET), .vnodes = 16,
        .lbs = lbs, .n_lbs = N_LB,
        .servers = servers, .n_servers = N_SRV,
        .vips = vips, .n_vips = ARRAY_SIZE(vips),
        .buffer_packets = 4, .buffer_bytes = 4096,
        .buffer_timeout_ms = 3000, .syn_table_max = syn_table_max,
        .syn_cookie_pct = 80, .syn_cookie_rate = 50000,
        .lease_ms = 10000,
        .handshake_timeout_ms = 30000,
        .connect_retry_ms = 1000, .query_retry_ms = 500,
    };
    lbnode_configure(lb, &cfg);
}

static struct lbnode *
lb_create(uint32_t syn_table_max)
{
    struct lbnode *lb = lbnode_create();

    configure(lb, 0xff, syn_table_max);
    lbnode_set_clock_offset(lb, 1700000000000LL);
    lbnode_set_macs(lb, (struct eth_addr) ETH_ADDR_C(02,00,00,00,00,0b),
                    (struct eth_addr) ETH_ADDR_C(02,00,00,00,00,01));
    return lb;
}

static void
restore(struct lbnode *lb, struct fuzz_world *w, const uint8_t *data,
        size_t len, long long int now)
{
    struct flow_key cp;

    if (len < 1 + sizeof cp) {
        return;
    }
    memcpy(&cp, data + 1, sizeof cp);
    lbnode_restore(lb, (data[0] & 1
                        ? LBNODE_JOURNAL_MAPPING : LBNODE_JOURNAL_TRACKER),
                   &cp, data + 1 + sizeof cp, len - 1 - sizeof cp, 60000,
                   now, &io, w);
}

/* The client's next segment after the SYN/ACK, with 'len' bytes of 'data'
 * as payload. */
static void
client_segment(struct lbnode *lb, struct fuzz_world *w, const uint8_t *data,
               size_t len, long long int now)
{
    struct tcp_seg_hdr h = {
        .seq = w->client_seq, .ack = w->client_ack,
        .flags = TCP_ACK | (len ? TCP_PSH : 0), .window = 512,
    };
    struct dp_packet b;

    if (!w->has_synack) {
        return;
    }
    if (fuzz_stream_segment(&b, &w->synack_cp, true, &h, data, len)) {
        return;
    }
    w->client_seq += MIN(len, 1400);
    lbnode_packet_in(lb, dp_packet_data(&b), dp_packet_size(&b), now, &io,
                     w);
    dp_packet_uninit(&b);
}

/* The server's answer to the last CONN_REQ. */
static void
server_answer(struct lbnode *lb, struct fuzz_world *w, const uint8_t *data,
              size_t len, long long int now)
{
    const struct ctl_conn_req *req = &w->conn_req;
    struct ctl_msg *msg;

    if (!w->has_conn_req) {
        return;
    }
    msg = xzalloc(sizeof *msg);
    if (!len || data[0] & 1) {
        ctl_msg_init(msg, CTL_MSG_ACCEPTED, req->server, 1);
        msg->accepted.cp = req->cp;
        msg->accepted.server = req->server;
        msg->accepted.lease_ms = CTL_LEASE_FULL;
    } else {
        ctl_msg_init(msg, CTL_MSG_REJECTED, req->server, 1);
        msg->rejected.cp = req->cp;
        msg->rejected.server = req->server;
        msg->rejected.ttl = req->ttl > 1 ? req->ttl - 1 : 0;
        msg->rejected.reason = (len > 1 ? data[1] : 0) % CTL_REJECT_N_REASONS;
    }
    fuzz_stream_check_sent(msg);
    lbnode_recv(lb, msg, now, &io, w);
    free(msg);
}

static void
format(const struct lbnode *lb, long long int now)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    lbnode_format_show(lb, &s);
    lbnode_format_flows(lb, now, &s);
    lbnode_format_stats(lb, &s);
    ds_destroy(&s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fuzz_world world;
    struct fuzz_world *w = &world;
    struct fuzz_stream s = { data, size };
    long long int now = 1000000;
    uint32_t syn_table_max;
    struct ctl_msg *msg;
    struct lbnode *lb;
    const uint8_t *p;
    size_t len;
    uint8_t op;

    if (!size) {
        return 0;
    }
    syn_table_max = data[0] & 1 ? 1 : 1000;
    s.data++;
    s.size--;

    memset(w, 0, sizeof *w);
    msg = xmalloc(sizeof *msg);
    lb = lb_create(syn_table_max);
    lbnode_set_journal(lb, journal_cb, w);
    while (fuzz_stream_next(&s, &op, &p, &len)) {
        switch ((enum fuzz_lb_op) (op % FUZZ_LB_N_OPS)) {
        case FUZZ_LB_PACKET_IN: {
            /* Exactly as long as the frame, for AddressSanitizer. */
            uint8_t *frame = xmemdup(p, len);

            lbnode_packet_in(lb, frame, len, now, &io, w);
            ovs_assert(!memcmp(frame, p, len));
            free(frame);
            break;
        }
        case FUZZ_LB_MSG:
            if (fuzz_stream_msg(p, len, msg) == CTL_MSG_OK) {
                lbnode_recv(lb, msg, now, &io, w);
            }
            break;
        case FUZZ_LB_RESTORE:
            restore(lb, w, p, len, now);
            break;
        case FUZZ_LB_TIME:
            now += len >= 2 ? ((p[0] << 8) | p[1]) * 16 : 1000;
            lbnode_run(lb, now, &io, w);
            lbnode_retry(lb, now, &io, w);
            break;
        case FUZZ_LB_HEALTH:
            configure(lb, len ? p[0] : 0, syn_table_max);
            lbnode_rebalance(lb, now, &io, w);
            break;
        case FUZZ_LB_FORMAT:
            format(lb, now);
            break;
        case FUZZ_LB_CLIENT:
            client_segment(lb, w, p, len, now);
            break;
        case FUZZ_LB_SERVER:
            server_answer(lb, w, p, len, now);
            break;
        case FUZZ_LB_N_OPS:
            OVS_NOT_REACHED();
        }
    }
    lbnode_destroy(lb);

    /* The journal restores after a restart. */
    if (w->n_rows) {
        lb = lb_create(syn_table_max);
        for (size_t i = 0; i < w->n_rows; i++) {
            ovs_assert(lbnode_restore(lb, w->rows[i].table, &w->rows[i].cp,
                                      w->rows[i].data, w->rows[i].len, 60000,
                                      now, &io, w));
        }
        lbnode_destroy(lb);
    }
    free(msg);
    return 0;
}
