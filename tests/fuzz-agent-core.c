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
 * libFuzzer target for the server node's core (agent/agent-core.h): one
 * core, server node 101 with the LB nodes 1 to 3 and four VIP ports (three
 * tracked, one in hash mode), driven by a stream of events
 * (tests/fuzz-stream.h):
 *
 *   op % 10 == 0 segment from a client: ingress node u8, then the IP
 *                packet, for agent_core_from_client();
 *             1  segment from the server: the IP packet, for
 *                agent_core_from_server();
 *             2  control message: what the daemon measured (bit 0 ready,
 *                bit 1 listening, bit 2 overloaded, bit 3 short of
 *                memory) u8, then the message, authenticated and decoded:
 *                CONN_REQ goes to agent_core_conn_req(), LB_LIST to
 *                agent_core_set_lb_nodes();
 *             3  journal record: cp (40 bytes), then the record, for
 *                agent_core_restore();
 *             4  time: u16 milliseconds (x 16) pass, agent_core_run();
 *             5  the kernel's sockets: cp (40 bytes, of which the
 *                addresses and ports are used) and "publish" u8 per
 *                socket, then publishing to LB node 1;
 *             6  the inspection commands' output;
 *             7  the server answers the last SYN given to it: bit 0 of the
 *                data, RST, otherwise a SYN/ACK whose sequence number is
 *                the next four bytes;
 *             8  the client's next segment of the last connection
 *                requested: the data as payload, or a FIN if there is none;
 *             9  the server's next segment of that connection, likewise.
 *
 * Besides memory safety (and leaks, under ASan) it checks that:
 *   - a packet handler changes only a packet it forwards, and one that
 *     parsed before still parses after, its checksum as right as it was;
 *   - every message the core sends has a destination, encodes, and decodes
 *     to a message that re-encodes to the same bytes;
 *   - every frame it gives the server parses, with right checksums;
 *   - every journal record it writes is AGENT_RECORD_LEN bytes, and what
 *     the journal holds at the end restores into a new core.
 */
#include <config.h>
#include <stdlib.h>
#include <string.h>

#include "agent-core.h"
#include "ctl-msg.h"
#include "dp-packet.h"
#include "flow-key.h"
#include "fuzz-stream.h"
#include "openvswitch/dynamic-string.h"
#include "packets.h"
#include "tcp-seg.h"
#include "unaligned.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SELF 101
#define RING_KEY UINT64_C(0x0123456789abcdef)
#define MAX_JOURNAL 256

static const uint32_t lbs[] = { 1, 2, 3 };

/* A record the journal holds. */
struct journal_row {
    struct flow_key cp;
    uint8_t rec[AGENT_RECORD_LEN];
};

static struct journal_row rows[MAX_JOURNAL];
static size_t n_rows;

/* The simulated client and server of the last connection requested. */
struct peers {
    bool has_req, has_syn, has_synack;
    struct flow_key cp;
    uint32_t client_seq, client_ack;    /* Client -> LB tier. */
    uint32_t syn_seq;                   /* Of the SYN given to the server. */
    uint32_t server_seq, server_ack;    /* Server -> client. */
};
static struct peers peers;

static void
cb_send(void *aux OVS_UNUSED, uint32_t dst, struct ctl_msg *msg)
{
    ovs_assert(dst != CTL_NODE_NONE);
    fuzz_stream_check_sent(msg);
}

static void
cb_to_server(void *aux OVS_UNUSED, const void *frame, size_t len)
{
    struct tcp_seg_info info;

    fuzz_stream_check_frame(frame, len);
    ovs_assert(!tcp_seg_parse_frame(frame, len, &info));
    if ((info.flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
        flow_key_init_v6(&peers.cp, &info.ip_src, info.tp_src, &info.ip_dst,
                         info.tp_dst, IPPROTO_TCP);
        peers.has_syn = true;
        peers.syn_seq = info.seq;
    }
}

static size_t
journal_find(const struct flow_key *cp)
{
    size_t i;

    for (i = 0; i < n_rows; i++) {
        if (flow_key_equals(&rows[i].cp, cp)) {
            break;
        }
    }
    return i;
}

static void
cb_put(void *aux OVS_UNUSED, const struct flow_key *cp, const void *rec,
       size_t len, long long int expires_after_ms OVS_UNUSED)
{
    size_t i = journal_find(cp);

    ovs_assert(len == AGENT_RECORD_LEN);
    if (i == n_rows) {
        if (n_rows >= MAX_JOURNAL) {
            return;
        }
        n_rows++;
    }
    rows[i].cp = *cp;
    memcpy(rows[i].rec, rec, len);
}

static void
cb_del(void *aux OVS_UNUSED, const struct flow_key *cp)
{
    size_t i = journal_find(cp);

    if (i < n_rows) {
        rows[i] = rows[--n_rows];
    }
}

static const struct agent_core_ops ops = {
    .send = cb_send,
    .to_server = cb_to_server,
    .journal_put = cb_put,
    .journal_del = cb_del,
};

static struct agent_core *
core_create(void)
{
    struct agent_vip_port vps[] = {
        { fuzz_stream_v4(203, 0, 113, 10), 80, true, 1400, false },
        { fuzz_stream_v4(203, 0, 113, 10), 5201, true, 1400, false },
        { IN6ADDR_ANY_INIT, 443, true, 1380, false },
        { fuzz_stream_v4(203, 0, 113, 12), 80, false, 1400, false },
    };
    struct agent_limits limits;
    struct agent_core *core;

    ovs_assert(ipv6_parse("2001:db8::10", &vps[2].vip));
    agent_limits_init(&limits);
    limits.conn_limit = 16;
    limits.max_load_milli = 4000;
    limits.min_mem_kb = 1000;
    limits.max_conns = 64;
    core = agent_core_create(SELF, &ops, NULL);
    agent_core_set_limits(core, &limits);
    agent_core_set_vips(core, vps, ARRAY_SIZE(vps));
    ovs_assert(agent_core_set_lb_nodes(core, lbs, ARRAY_SIZE(lbs), RING_KEY,
                                       0));
    return core;
}

/* Hands the IP packet 'data' ('len' bytes) to 'core' as from a client (of
 * 'ingress') or from the server, and checks what the core did with it. */
static void
segment(struct agent_core *core, bool from_client, uint32_t ingress,
        const uint8_t *data, size_t len, long long int now)
{
    /* Exactly as long as the packet, for AddressSanitizer. */
    uint8_t *ip = xmemdup(data, len);
    struct tcp_seg_info info;
    bool parsed = !tcp_seg_parse_ip(data, len, &info);
    bool csum_ok = tcp_seg_verify_csum(data, len);
    enum agent_verdict verdict;
    uint32_t egress = 0;

    verdict = (from_client
               ? agent_core_from_client(core, ip, len, ingress, now)
               : agent_core_from_server(core, ip, len, now, &egress));
    if (verdict == AGENT_DROP) {
        ovs_assert(!memcmp(ip, data, len));
    } else {
        ovs_assert(verdict == AGENT_FORWARD);
        if (parsed) {
            ovs_assert(!tcp_seg_parse_ip(ip, len, &info));
            ovs_assert(tcp_seg_verify_csum(ip, len) == csum_ok);
        }
    }
    free(ip);
}

static void
message(struct agent_core *core, const uint8_t *data, size_t len,
        struct ctl_msg *msg, long long int now)
{
    struct agent_local local;

    if (!len || fuzz_stream_msg(data + 1, len - 1, msg) != CTL_MSG_OK) {
        return;
    }
    local = (struct agent_local) {
        .ready = data[0] & 1,
        .listening = data[0] & 2,
        .load_milli = data[0] & 4 ? 8000 : 100,
        .mem_kb = data[0] & 8 ? 10 : 1000000,
    };
    if (msg->type == CTL_MSG_CONN_REQ) {
        const struct ctl_conn_req *req = &msg->conn_req;

        peers = (struct peers) {
            .has_req = true, .cp = req->cp,
            .client_seq = req->client_isn + 1, .client_ack = req->isn_lb + 1,
        };
        agent_core_conn_req(core, msg->sender, req, &local, now);
    } else if (msg->type == CTL_MSG_LB_LIST) {
        agent_core_set_lb_nodes(core, msg->lb_list.nodes, msg->lb_list.n,
                                RING_KEY, 0);
    }
}

/* Hands 'core' the segment 'h' of the connection of 'peers', with 'len'
 * bytes of 'data' as payload. */
static void
peer_segment(struct agent_core *core, bool from_client,
             const struct tcp_seg_hdr *h, const uint8_t *data, size_t len,
             long long int now)
{
    struct tcp_seg_info info;
    struct dp_packet b;
    const uint8_t *frame;

    if (fuzz_stream_segment(&b, &peers.cp, from_client, h, data, len)) {
        return;
    }
    frame = dp_packet_data(&b);
    ovs_assert(!tcp_seg_parse_frame(frame, dp_packet_size(&b), &info));
    segment(core, from_client, lbs[1], frame + info.l3_ofs, info.ip_len,
            now);
    dp_packet_uninit(&b);
}

/* The server's answer to the last SYN given to it. */
static void
server_answer(struct agent_core *core, const uint8_t *data, size_t len,
              long long int now)
{
    struct tcp_seg_hdr h = { .ack = peers.syn_seq + 1, .window = 65535 };

    if (!peers.has_syn) {
        return;
    }
    if (len && data[0] & 1) {
        h.flags = TCP_RST | TCP_ACK;
    } else {
        h.flags = TCP_SYN | TCP_ACK;
        h.seq = (len >= 5
                 ? ntohl(get_unaligned_be32((const ovs_be32 *) (data + 1)))
                 : 5000);
        h.opts = (struct tcp_opts) {
            .has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 7,
            .sack_permitted = true, .has_ts = true, .tsval = 4242,
            .tsecr = 1,
        };
        peers.has_synack = true;
        peers.server_seq = h.seq + 1;
        peers.server_ack = h.ack;
    }
    peer_segment(core, false, &h, NULL, 0, now);
}

/* The next segment of the client (if 'from_client') or of the server. */
static void
peer_data(struct agent_core *core, bool from_client, const uint8_t *data,
          size_t len, long long int now)
{
    uint32_t *seq = from_client ? &peers.client_seq : &peers.server_seq;
    struct tcp_seg_hdr h = {
        .seq = *seq,
        .ack = from_client ? peers.client_ack : peers.server_ack,
        .flags = TCP_ACK | (len ? TCP_PSH : TCP_FIN),
        .window = 512,
    };

    if (from_client ? !peers.has_req : !peers.has_synack) {
        return;
    }
    *seq += len ? MIN(len, 1400) : 1;
    peer_segment(core, from_client, &h, data, len, now);
}

static void
sockets(struct agent_core *core, const uint8_t *data, size_t len,
        long long int now)
{
    struct flow_key raw, cp;

    agent_core_sockets_begin(core, now);
    for (size_t i = 0; i + sizeof cp + 1 <= len; i += sizeof cp + 1) {
        /* A key as the daemon builds from a kernel socket. */
        memcpy(&raw, data + i, sizeof raw);
        flow_key_init_v6(&cp, &raw.client, raw.client_port, &raw.vip,
                         raw.vip_port, IPPROTO_TCP);
        if (!IN6_IS_ADDR_V4MAPPED(&cp.client)
            != !IN6_IS_ADDR_V4MAPPED(&cp.vip)) {
            continue;
        }
        agent_core_socket_seen(core, &cp, data[i + sizeof cp] & 1);
    }
    agent_core_sockets_end(core, now, lbs[0]);
}

static void
format(const struct agent_core *core)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    agent_core_format_conns(core, &s);
    agent_core_format_stats(core, &s);
    ds_destroy(&s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_stream s = { data, size };
    long long int now = 1000000;
    struct agent_core *core;
    struct ctl_msg *msg;
    struct flow_key cp;
    const uint8_t *p;
    size_t len;
    uint8_t op;

    n_rows = 0;
    memset(&peers, 0, sizeof peers);
    msg = xmalloc(sizeof *msg);
    core = core_create();
    while (fuzz_stream_next(&s, &op, &p, &len)) {
        switch ((enum fuzz_agent_op) (op % FUZZ_AGENT_N_OPS)) {
        case FUZZ_AGENT_FROM_CLIENT:
            if (len) {
                segment(core, true, p[0], p + 1, len - 1, now);
            }
            break;
        case FUZZ_AGENT_FROM_SERVER:
            segment(core, false, 0, p, len, now);
            break;
        case FUZZ_AGENT_MSG:
            message(core, p, len, msg, now);
            break;
        case FUZZ_AGENT_RESTORE:
            if (len >= sizeof cp) {
                memcpy(&cp, p, sizeof cp);
                agent_core_restore(core, &cp, p + sizeof cp,
                                   len - sizeof cp, now);
            }
            break;
        case FUZZ_AGENT_TIME:
            now += len >= 2 ? ((p[0] << 8) | p[1]) * 16 : 1000;
            agent_core_run(core, now);
            break;
        case FUZZ_AGENT_SOCKETS:
            sockets(core, p, len, now);
            break;
        case FUZZ_AGENT_FORMAT:
            format(core);
            break;
        case FUZZ_AGENT_SERVER_ANSWER:
            server_answer(core, p, len, now);
            break;
        case FUZZ_AGENT_CLIENT_DATA:
        case FUZZ_AGENT_SERVER_DATA:
            peer_data(core, op % FUZZ_AGENT_N_OPS == FUZZ_AGENT_CLIENT_DATA, p,
                      len, now);
            break;
        case FUZZ_AGENT_N_OPS:
            OVS_NOT_REACHED();
        }
    }
    agent_core_destroy(core);

    /* The journal restores after a restart. */
    if (n_rows) {
        core = core_create();
        for (size_t i = 0; i < n_rows; i++) {
            ovs_assert(agent_core_restore(core, &rows[i].cp, rows[i].rec,
                                          AGENT_RECORD_LEN, now));
        }
        agent_core_destroy(core);
    }
    free(msg);
    return 0;
}
