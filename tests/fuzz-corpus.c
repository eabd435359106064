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
 * fuzz-corpus: writes the seed corpus of the fuzz targets that read event
 * streams or strings (tests/fuzz-lbnode.c, tests/fuzz-agent-core.c,
 * tests/fuzz-health.c, tests/fuzz-config.c, tests/fuzz-owners.c) into
 * DIR/lbnode, DIR/agent-core, DIR/health, DIR/config and DIR/owners.
 * 'make fuzz-corpus' runs it on tests/corpus.
 *
 * The seeds are what the targets' simulated peers and the daemons would
 * give the cores: frames built with tcp-seg, messages encoded with
 * ctl-msg, and journal records that a core wrote while it made a
 * connection here (so that they stay right when the record layouts
 * change).  Usage: fuzz-corpus DIR
 */
#include <config.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent-core.h"
#include "controller/lbnode.h"
#include "ctl-msg.h"
#include "dp-packet.h"
#include "flow-key.h"
#include "fuzz-stream.h"
#include "health.h"
#include "openvswitch/ofpbuf.h"
#include "packets.h"
#include "selection.h"
#include "tcp-seg.h"
#include "util.h"

static const char *dir;
static int n_errors;

static void
write_seed(const char *target, const char *name, const struct ofpbuf *b)
{
    char *sub = xasprintf("%s/%s", dir, target);

    if (mkdir(sub, 0777) && errno != EEXIST) {
        fprintf(stderr, "%s: %s\n", sub, ovs_strerror(errno));
        n_errors++;
    } else if (fuzz_stream_write_file(sub, name, b)) {
        n_errors++;
    }
    free(sub);
}

static struct flow_key
cp_v4(uint16_t client_port, uint8_t vip_last, uint16_t vip_port)
{
    struct flow_key cp;

    flow_key_init_v4(&cp, htonl(0xc6336402), htons(client_port),
                     htonl(0xcb007100 | vip_last), htons(vip_port),
                     IPPROTO_TCP);
    return cp;
}

static struct flow_key
cp_v6(uint16_t client_port)
{
    struct in6_addr client, vip;
    struct flow_key cp;

    ovs_assert(ipv6_parse("2001:db8:1::2", &client));
    ovs_assert(ipv6_parse("2001:db8::10", &vip));
    flow_key_init_v6(&cp, &client, htons(client_port), &vip, htons(443),
                     IPPROTO_TCP);
    return cp;
}

static const struct tcp_opts syn_opts = {
    .has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 7,
    .sack_permitted = true, .has_ts = true, .tsval = 12345,
};

/* Appends a record of 'op' holding the client's segment of 'cp' with
 * 'flags', 'seq' and 'ack' (a SYN gets options), as an Ethernet frame, or
 * as an IP packet after 'prefix_len' bytes of 'prefix'. */
static void
put_segment(struct ofpbuf *b, uint8_t op, const struct flow_key *cp,
            uint16_t flags, uint32_t seq, uint32_t ack, bool ip_only,
            const uint8_t *prefix, size_t prefix_len)
{
    struct tcp_seg_hdr h = {
        .seq = seq, .ack = ack, .flags = flags, .window = 65535,
    };
    struct tcp_seg_info info;
    struct dp_packet p;
    struct ofpbuf rec;

    if (flags & TCP_SYN) {
        h.opts = syn_opts;
    }
    ovs_assert(!fuzz_stream_segment(&p, cp, true, &h, NULL, 0));
    ovs_assert(!tcp_seg_parse_frame(dp_packet_data(&p), dp_packet_size(&p),
                                    &info));
    ofpbuf_init(&rec, 0);
    ofpbuf_put(&rec, prefix, prefix_len);
    if (ip_only) {
        ofpbuf_put(&rec, (uint8_t *) dp_packet_data(&p) + info.l3_ofs,
                   info.ip_len);
    } else {
        ofpbuf_put(&rec, dp_packet_data(&p), dp_packet_size(&p));
    }
    fuzz_stream_put(b, op, rec.data, rec.size);
    ofpbuf_uninit(&rec);
    dp_packet_uninit(&p);
}

static void
put_u8(struct ofpbuf *b, uint8_t op, uint8_t value)
{
    fuzz_stream_put(b, op, &value, 1);
}

static void
put_time(struct ofpbuf *b, uint8_t op, unsigned int ms)
{
    uint8_t t[2] = { (ms / 16) >> 8, ms / 16 };

    fuzz_stream_put(b, op, t, sizeof t);
}

/* Journal records of an LB node core and an agent core. */

struct record {
    char table[16];
    struct flow_key cp;
    uint8_t data[256];
    size_t len;
};

static struct record records[8];
static size_t n_records;
static struct tcp_seg_info last_north;
static struct ctl_msg last_sent;
static uint8_t last_to_server[256];
static size_t last_to_server_len;

static void
record_put(const char *table, const struct flow_key *cp, const void *data,
           size_t len)
{
    if (data && n_records < ARRAY_SIZE(records)
        && len <= sizeof records[0].data) {
        struct record *r = &records[n_records++];

        ovs_strlcpy(r->table, table, sizeof r->table);
        r->cp = *cp;
        memcpy(r->data, data, len);
        r->len = len;
    }
}

static void
lb_journal(void *aux OVS_UNUSED, const char *table, const struct flow_key *cp,
           const void *data, size_t len, long long int ttl OVS_UNUSED)
{
    record_put(table, cp, data, len);
}

static void
lb_send(void *aux OVS_UNUSED, uint32_t dst OVS_UNUSED, struct ctl_msg *msg)
{
    last_sent = *msg;
}

static void
lb_send_north(void *aux OVS_UNUSED, const void *frame, size_t len)
{
    ovs_assert(!tcp_seg_parse_frame(frame, len, &last_north));
}

static void
lb_install(void *aux OVS_UNUSED, const struct flow_key *cp OVS_UNUSED,
           const struct in6_addr *addr OVS_UNUSED)
{
}

static void
lb_remove(void *aux OVS_UNUSED, const struct flow_key *cp OVS_UNUSED)
{
}

static void
lb_forward(void *aux OVS_UNUSED, const struct flow_key *cp OVS_UNUSED,
           const void *frame OVS_UNUSED, size_t len OVS_UNUSED,
           const struct in6_addr *addr OVS_UNUSED)
{
}

static const struct lbnode_io lb_io = {
    .send = lb_send, .send_north = lb_send_north,
    .install_mapping = lb_install, .remove_mapping = lb_remove,
    .forward = lb_forward,
};

/* Makes a connection of 'cp' through an LB node core that is alone in its
 * cluster, and keeps the journal records it writes. */
static void
lbnode_records(const struct flow_key *cp)
{
    static const char secret[] = "0123456789abcdef0123456789abcdef";
    struct lbnode_lb lb = { .node = 1, .healthy = true };
    struct lbnode_server srv = { .node = 101, .healthy = true };
    struct lbnode_vip_server vs = { .node = 101, .weight = 1 };
    struct lbnode_vip vip = {
        .name = "seed", .addr = cp->vip, .port = ntohs(cp->vip_port),
        .proto = IPPROTO_TCP, .algorithm = SEL_RANDOM, .mss = 1400,
        .wscale = 7, .ttl = 3, .enabled = true, .servers = &vs,
        .n_servers = 1,
    };
    struct lbnode_config cfg = {
        .self = 1, .ring_key = 1, .secret = secret,
        .secret_len = strlen(secret), .vnodes = 4, .lbs = &lb, .n_lbs = 1,
        .servers = &srv, .n_servers = 1, .vips = &vip, .n_vips = 1,
        .buffer_packets = 4, .buffer_bytes = 4096,
        .buffer_timeout_ms = 1000, .syn_table_max = 100,
        .syn_cookie_pct = 80, .syn_cookie_rate = 1000, .lease_ms = 10000,
        .handshake_timeout_ms = 30000,
        .connect_retry_ms = 1000, .query_retry_ms = 500,
    };
    struct lbnode *node = lbnode_create();
    struct tcp_seg_hdr h = { .flags = TCP_SYN, .seq = 1000,
                             .opts = syn_opts };
    struct dp_packet p;
    struct ctl_msg msg;

    lbnode_configure(node, &cfg);
    lbnode_set_macs(node, (struct eth_addr) ETH_ADDR_C(02,00,00,00,00,0b),
                    (struct eth_addr) ETH_ADDR_C(02,00,00,00,00,01));
    lbnode_set_journal(node, lb_journal, NULL);

    ovs_assert(!fuzz_stream_segment(&p, cp, true, &h, NULL, 0));
    lbnode_packet_in(node, dp_packet_data(&p), dp_packet_size(&p), 1000,
                     &lb_io, NULL);
    dp_packet_uninit(&p);

    h = (struct tcp_seg_hdr) { .flags = TCP_ACK, .seq = 1001,
                               .ack = last_north.seq + 1 };
    ovs_assert(!fuzz_stream_segment(&p, cp, true, &h, NULL, 0));
    lbnode_packet_in(node, dp_packet_data(&p), dp_packet_size(&p), 1010,
                     &lb_io, NULL);
    dp_packet_uninit(&p);

    ovs_assert(last_sent.type == CTL_MSG_CONN_REQ);
    ctl_msg_init(&msg, CTL_MSG_ACCEPTED, 101, 1);
    msg.accepted.cp = *cp;
    msg.accepted.server = 101;
    msg.accepted.lease_ms = CTL_LEASE_FULL;
    lbnode_recv(node, &msg, 1020, &lb_io, NULL);
    lbnode_destroy(node);
}

static void
agent_to_server(void *aux OVS_UNUSED, const void *frame, size_t len)
{
    last_to_server_len = MIN(len, sizeof last_to_server);
    memcpy(last_to_server, frame, last_to_server_len);
}

static void
agent_put(void *aux OVS_UNUSED, const struct flow_key *cp, const void *rec,
          size_t len, long long int expires OVS_UNUSED)
{
    record_put("agent", cp, rec, len);
}

static const struct agent_core_ops agent_ops = {
    .to_server = agent_to_server,
    .journal_put = agent_put,
};

static struct ctl_conn_req
conn_req_make(const struct flow_key *cp)
{
    return (struct ctl_conn_req) {
        .cp = *cp, .server = 101, .ttl = 3, .client_isn = 1000,
        .isn_lb = 777777, .ingress = 2, .lb_tsval = 7777, .lb_wscale = 7,
        .lb_mss = 1400,
        .opts = { .has_mss = true, .mss = 1460, .has_wscale = true,
                  .wscale = 7, .sack_permitted = true, .has_ts = true,
                  .tsval = 12345 },
    };
}

/* Makes a connection of 'cp' through an agent core and keeps the journal
 * records it writes. */
static void
agent_records(const struct flow_key *cp)
{
    static const uint32_t lbs[] = { 1, 2, 3 };
    struct agent_vip_port vp = { .vip = cp->vip, .port = ntohs(cp->vip_port),
                                 .tracked = true, .mss = 1400 };
    struct agent_local local = { .ready = true, .listening = true,
                                 .mem_kb = 1000000 };
    struct agent_core *core = agent_core_create(101, &agent_ops, NULL);
    struct ctl_conn_req req = conn_req_make(cp);
    struct tcp_seg_info syn;
    struct dp_packet p;

    agent_core_set_vips(core, &vp, 1);
    ovs_assert(agent_core_set_lb_nodes(core, lbs, ARRAY_SIZE(lbs), 1, 0));
    agent_core_conn_req(core, 2, &req, &local, 1000);
    ovs_assert(!tcp_seg_parse_frame(last_to_server, last_to_server_len,
                                    &syn));

    struct tcp_seg_hdr h = {
        .flags = TCP_SYN | TCP_ACK, .seq = 5000, .ack = syn.seq + 1,
        .window = 65535, .opts = syn_opts,
    };
    struct tcp_seg_info info;
    uint32_t egress;

    ovs_assert(!fuzz_stream_segment(&p, cp, false, &h, NULL, 0));
    ovs_assert(!tcp_seg_parse_frame(dp_packet_data(&p), dp_packet_size(&p),
                                    &info));
    agent_core_from_server(core, (uint8_t *) dp_packet_data(&p)
                           + info.l3_ofs, info.ip_len, 1010, &egress);
    dp_packet_uninit(&p);
    agent_core_destroy(core);
}

/* Appends, as records of 'op', the journal records of 'table' kept so far,
 * each after 'prefix' (0: none) as a byte. */
static void
put_records(struct ofpbuf *b, uint8_t op, const char *table, int prefix)
{
    for (size_t i = 0; i < n_records; i++) {
        const struct record *r = &records[i];
        struct ofpbuf rec;

        if (strcmp(r->table, table)) {
            continue;
        }
        ofpbuf_init(&rec, 0);
        if (prefix >= 0) {
            uint8_t c = prefix;

            ofpbuf_put(&rec, &c, 1);
        }
        ofpbuf_put(&rec, &r->cp, sizeof r->cp);
        ofpbuf_put(&rec, r->data, r->len);
        fuzz_stream_put(b, op, rec.data, rec.size);
        ofpbuf_uninit(&rec);
    }
}

/* The seeds of tests/fuzz-lbnode.c. */
static void
lbnode_seeds(void)
{
    struct flow_key cp4 = cp_v4(40000, 10, 80), cp6 = cp_v6(40001);
    const uint8_t request[] = "GET / HTTP/1.0\r\n\r\n";
    const uint8_t accept[] = { 1 }, reject[] = { 0, CTL_REJECT_LOAD };
    struct ctl_msg *msg = xmalloc(sizeof *msg);
    struct ofpbuf b;

    /* A connection through this node alone (LB nodes 2 and 3 down, the
     * servers up), to each VIP, accepted; then one rejected; the second
     * in SYN-cookie mode. */
    for (int i = 0; i < 3; i++) {
        const struct flow_key *cp = i == 1 ? &cp6 : &cp4;
        static const char *names[] = { "conn-v4", "conn-v6", "cookie" };

        ofpbuf_init(&b, 0);
        ofpbuf_put(&b, (uint8_t[]) { i == 2 }, 1);
        put_u8(&b, FUZZ_LB_HEALTH, 0x38);
        if (i == 2) {
            struct flow_key other = cp_v4(40099, 10, 80);

            put_segment(&b, FUZZ_LB_PACKET_IN, &other, TCP_SYN, 9, 0, false,
                        NULL, 0);
        }
        put_segment(&b, FUZZ_LB_PACKET_IN, cp, TCP_SYN, 1000, 0, false,
                    NULL, 0);
        fuzz_stream_put(&b, FUZZ_LB_CLIENT, NULL, 0);
        if (i < 2) {
            fuzz_stream_put(&b, FUZZ_LB_SERVER, accept, sizeof accept);
            fuzz_stream_put(&b, FUZZ_LB_CLIENT, request, sizeof request);
        } else {
            fuzz_stream_put(&b, FUZZ_LB_SERVER, reject, sizeof reject);
            put_time(&b, FUZZ_LB_TIME, 1500);
            fuzz_stream_put(&b, FUZZ_LB_SERVER, accept, sizeof accept);
        }
        fuzz_stream_put(&b, FUZZ_LB_FORMAT, NULL, 0);
        put_time(&b, FUZZ_LB_TIME, 20000);
        write_seed("lbnode", names[i], &b);
        ofpbuf_uninit(&b);
    }

    /* SYNs and a stray ACK with all three LB nodes up: some flows have
     * their trackers elsewhere; then a node goes down. */
    ofpbuf_init(&b, 0);
    ofpbuf_put(&b, (uint8_t[]) { 0 }, 1);
    for (uint16_t port = 40000; port < 40004; port++) {
        struct flow_key cp = cp_v4(port, 10, 80);

        put_segment(&b, FUZZ_LB_PACKET_IN, &cp, TCP_SYN, port, 0, false,
                    NULL, 0);
    }
    put_segment(&b, FUZZ_LB_PACKET_IN, &cp4, TCP_ACK, 5, 6, false, NULL, 0);
    put_time(&b, FUZZ_LB_TIME, 600);
    put_u8(&b, FUZZ_LB_HEALTH, 0x3b);
    put_time(&b, FUZZ_LB_TIME, 4000);
    write_seed("lbnode", "three-lbs", &b);
    ofpbuf_uninit(&b);

    /* Messages from the other nodes. */
    ofpbuf_init(&b, 0);
    ofpbuf_put(&b, (uint8_t[]) { 0 }, 1);
    ctl_msg_init(msg, CTL_MSG_SYN_INFO, 2, 1);
    msg->syn_info.cp = cp4;
    msg->syn_info.ingress = 2;
    msg->syn_info.client_isn = 1000;
    msg->syn_info.opts.has_mss = true;
    msg->syn_info.opts.mss = 1460;
    fuzz_stream_put_msg(&b, FUZZ_LB_MSG, NULL, 0, msg);
    ctl_msg_init(msg, CTL_MSG_MAPPING_QUERY, 3, 1);
    msg->mapping_query.cp = cp4;
    msg->mapping_query.ingress = 3;
    fuzz_stream_put_msg(&b, FUZZ_LB_MSG, NULL, 0, msg);
    ctl_msg_init(msg, CTL_MSG_TRACKER_SYNC, 3, 1);
    msg->tracker_sync.cp = cp6;
    msg->tracker_sync.state = CTL_TRACKER_ESTABLISHED;
    msg->tracker_sync.role = CTL_ROLE_PFT;
    msg->tracker_sync.isn_lb = 777;
    msg->tracker_sync.client_isn = 1000;
    msg->tracker_sync.server = 102;
    msg->tracker_sync.ingress = 3;
    msg->tracker_sync.ttl = 2;
    msg->tracker_sync.n_rejected = 1;
    msg->tracker_sync.rejected[0] = 101;
    fuzz_stream_put_msg(&b, FUZZ_LB_MSG, NULL, 0, msg);
    ctl_msg_init(msg, CTL_MSG_MAPPING, 3, 1);
    msg->mapping.cp = cp4;
    msg->mapping.server = 101;
    in6_addr_set_mapped_ipv4(&msg->mapping.server_addr, htonl(0x0a020065));
    fuzz_stream_put_msg(&b, FUZZ_LB_MSG, NULL, 0, msg);
    ctl_msg_init(msg, CTL_MSG_UNKNOWN, 2, 1);
    msg->unknown.cp = cp6;
    fuzz_stream_put_msg(&b, FUZZ_LB_MSG, NULL, 0, msg);
    put_time(&b, FUZZ_LB_TIME, 3000);
    write_seed("lbnode", "messages", &b);
    ofpbuf_uninit(&b);

    /* Publications: from a server, and forwarded by another LB node. */
    ofpbuf_init(&b, 0);
    ofpbuf_put(&b, (uint8_t[]) { 0 }, 1);
    ctl_msg_init(msg, CTL_MSG_PUBLISH, 101, 1);
    msg->publish.server = 101;
    msg->publish.n = 3;
    msg->publish.entries[0] = (struct ctl_publish_entry) {
        .cp = cp4, .ingress = 1, .flags = CTL_PUBLISH_TRACKED };
    msg->publish.entries[1] = (struct ctl_publish_entry) {
        .cp = cp6, .ingress = 2, .flags = CTL_PUBLISH_TRACKED };
    msg->publish.entries[2] = (struct ctl_publish_entry) {
        .cp = cp_v4(40010, 12, 80), .ingress = 3 };
    fuzz_stream_put_msg(&b, FUZZ_LB_MSG, NULL, 0, msg);
    ctl_msg_init(msg, CTL_MSG_PUBLISH_FWD, 2, 1);
    msg->publish.server = 102;
    msg->publish.origin = 2;
    msg->publish.n = 1;
    msg->publish.entries[0] = (struct ctl_publish_entry) {
        .cp = cp_v4(40011, 10, 80), .ingress = 1,
        .flags = CTL_PUBLISH_TRACKED };
    fuzz_stream_put_msg(&b, FUZZ_LB_MSG, NULL, 0, msg);
    put_time(&b, FUZZ_LB_TIME, 12000);
    write_seed("lbnode", "publish", &b);
    ofpbuf_uninit(&b);

    /* Journal records of a connection, restored; then its packets. */
    n_records = 0;
    lbnode_records(&cp4);
    ofpbuf_init(&b, 0);
    ofpbuf_put(&b, (uint8_t[]) { 0 }, 1);
    put_records(&b, FUZZ_LB_RESTORE, LBNODE_JOURNAL_TRACKER, 0);
    put_records(&b, FUZZ_LB_RESTORE, LBNODE_JOURNAL_MAPPING, 1);
    put_segment(&b, FUZZ_LB_PACKET_IN, &cp4, TCP_ACK, 1001, 2, false,
                NULL, 0);
    put_time(&b, FUZZ_LB_TIME, 1000);
    write_seed("lbnode", "restore", &b);
    ofpbuf_uninit(&b);

    /* Regression: tracker records of keys that no connection has (no
     * protocol, padding set) were restored, and a hand-over after the ring
     * changed sent them in a TRACKER_SYNC that does not encode. */
    ofpbuf_init(&b, 0);
    ofpbuf_put(&b, (uint8_t[]) { 0 }, 1);
    for (size_t i = 0; i < n_records; i++) {
        if (!strcmp(records[i].table, LBNODE_JOURNAL_TRACKER)) {
            for (int j = 0; j < 8; j++) {
                struct record *r = &records[i];
                struct ofpbuf rec;
                struct flow_key cp = r->cp;

                cp.client_port = htons(41000 + j);
                cp.proto = j & 1 ? 0 : IPPROTO_TCP;
                cp.pad[0] = !(j & 1);
                ofpbuf_init(&rec, 0);
                ofpbuf_put(&rec, (uint8_t[]) { 0 }, 1);
                ofpbuf_put(&rec, &cp, sizeof cp);
                ofpbuf_put(&rec, r->data, r->len);
                fuzz_stream_put(&b, FUZZ_LB_RESTORE, rec.data, rec.size);
                ofpbuf_uninit(&rec);
            }
        }
    }
    put_u8(&b, FUZZ_LB_HEALTH, 0x38);
    put_u8(&b, FUZZ_LB_HEALTH, 0x3f);
    write_seed("lbnode", "restore-bad-key", &b);
    ofpbuf_uninit(&b);
    free(msg);
}

/* The seeds of tests/fuzz-agent-core.c. */
static void
agent_seeds(void)
{
    struct flow_key cp4 = cp_v4(40000, 10, 80), cp6 = cp_v6(40001);
    struct flow_key hash_cp = cp_v4(40002, 12, 80);
    const uint8_t request[] = "GET / HTTP/1.0\r\n\r\n";
    const uint8_t reply[] = "HTTP/1.0 200 OK\r\n\r\n";
    const uint8_t ingress[] = { 2 };
    const uint8_t local_ok = 0x03;      /* Ready, listening. */
    struct ctl_msg *msg = xmalloc(sizeof *msg);
    struct ofpbuf b, rec;

    /* A connection to each tracked VIP: requested, the server's SYN/ACK,
     * data both ways, FINs, the kernel's sockets, time. */
    for (int i = 0; i < 2; i++) {
        const struct flow_key *cp = i ? &cp6 : &cp4;

        ofpbuf_init(&b, 0);
        ctl_msg_init(msg, CTL_MSG_CONN_REQ, 2, 1);
        msg->conn_req = conn_req_make(cp);
        fuzz_stream_put_msg(&b, FUZZ_AGENT_MSG, &local_ok, 1, msg);
        fuzz_stream_put(&b, FUZZ_AGENT_SERVER_ANSWER,
                        (uint8_t[]) { 0, 0, 0, 0x13, 0x88 }, 5);
        fuzz_stream_put(&b, FUZZ_AGENT_CLIENT_DATA, request, sizeof request);
        fuzz_stream_put(&b, FUZZ_AGENT_SERVER_DATA, reply, sizeof reply);
        fuzz_stream_put(&b, FUZZ_AGENT_CLIENT_DATA, NULL, 0);
        fuzz_stream_put(&b, FUZZ_AGENT_SERVER_DATA, NULL, 0);
        ofpbuf_init(&rec, 0);
        ofpbuf_put(&rec, cp, sizeof *cp);
        ofpbuf_put(&rec, (uint8_t[]) { 1 }, 1);
        fuzz_stream_put(&b, FUZZ_AGENT_SOCKETS, rec.data, rec.size);
        ofpbuf_uninit(&rec);
        fuzz_stream_put(&b, FUZZ_AGENT_FORMAT, NULL, 0);
        put_time(&b, FUZZ_AGENT_TIME, 15000);
        fuzz_stream_put(&b, FUZZ_AGENT_SOCKETS, NULL, 0);
        put_time(&b, FUZZ_AGENT_TIME, 15000);
        write_seed("agent-core", i ? "conn-v6" : "conn-v4", &b);
        ofpbuf_uninit(&b);
    }

    /* Segments with no connection: to a tracked VIP, to the hash-mode
     * VIP, from a server; a new list of LB nodes; a refusing server. */
    ofpbuf_init(&b, 0);
    put_segment(&b, FUZZ_AGENT_FROM_CLIENT, &cp4, TCP_ACK, 5, 6, true,
                ingress, sizeof ingress);
    put_segment(&b, FUZZ_AGENT_FROM_CLIENT, &hash_cp, TCP_SYN, 5, 0, true,
                ingress, sizeof ingress);
    put_segment(&b, FUZZ_AGENT_FROM_SERVER, &cp6, TCP_ACK, 5, 6, true,
                NULL, 0);
    ctl_msg_init(msg, CTL_MSG_LB_LIST, 1, 1);
    msg->lb_list.version = 2;
    msg->lb_list.n = 2;
    msg->lb_list.nodes[0] = 1;
    msg->lb_list.nodes[1] = 3;
    fuzz_stream_put_msg(&b, FUZZ_AGENT_MSG, &local_ok, 1, msg);
    write_seed("agent-core", "stray", &b);
    ofpbuf_uninit(&b);

    /* Journal records of a connection, restored; then its packets. */
    n_records = 0;
    agent_records(&cp4);
    ofpbuf_init(&b, 0);
    put_records(&b, FUZZ_AGENT_RESTORE, "agent", -1);
    put_segment(&b, FUZZ_AGENT_FROM_CLIENT, &cp4, TCP_ACK, 1001, 777778,
                true, ingress, sizeof ingress);
    put_time(&b, FUZZ_AGENT_TIME, 80000);
    write_seed("agent-core", "restore", &b);
    ofpbuf_uninit(&b);
    free(msg);
}

/* The seeds of tests/fuzz-health.c. */
static void
health_seeds(void)
{
    struct ctl_msg *msg = xmalloc(sizeof *msg);
    const uint8_t ready[] = { 1, 1, 1, 0 };
    struct ofpbuf b;

    /* Checks answered, or not, with time passing; the node stops serving
     * for a while. */
    ofpbuf_init(&b, 0);
    for (int i = 0; i < 12; i++) {
        put_time(&b, FUZZ_HEALTH_TIME, 100);
        if (i % 4 != 3) {
            fuzz_stream_put(&b, FUZZ_HEALTH_PONGS, ready, sizeof ready);
        }
        if (i == 6 || i == 9) {
            put_u8(&b, FUZZ_HEALTH_SERVING, i == 9);
        }
    }
    fuzz_stream_put(&b, FUZZ_HEALTH_FORMAT, NULL, 0);
    write_seed("health", "checks", &b);
    ofpbuf_uninit(&b);

    /* Messages from the other nodes: PINGs (one for another node, one on
     * the agent path), a GOSSIP table and an LB_LIST. */
    ofpbuf_init(&b, 0);
    for (int i = 0; i < 3; i++) {
        ctl_msg_init(msg, CTL_MSG_PING, 2, 1);
        msg->ping.nonce = 0x1234 + i;
        msg->ping.path = i == 2 ? CTL_PATH_AGENT : CTL_PATH_NORTH + i;
        msg->ping.checker = 2;
        msg->ping.target = i == 1 ? 3 : 1;
        fuzz_stream_put_msg(&b, FUZZ_HEALTH_MSG, NULL, 0, msg);
    }
    ctl_msg_init(msg, CTL_MSG_GOSSIP, 3, 1);
    msg->gossip.n = 4;
    for (int i = 0; i < 4; i++) {
        msg->gossip.entries[i] = (struct ctl_gossip_entry) {
            .node = i < 3 ? 1 + i : 101,
            .kind = i < 3 ? CTL_NODE_LB : CTL_NODE_SERVER,
            .heartbeat = 1700000001000ULL + i,
        };
    }
    fuzz_stream_put_msg(&b, FUZZ_HEALTH_MSG, NULL, 0, msg);
    ctl_msg_init(msg, CTL_MSG_LB_LIST, 2, 1);
    msg->lb_list.version = 1;
    msg->lb_list.n = 1;
    msg->lb_list.nodes[0] = 2;
    fuzz_stream_put_msg(&b, FUZZ_HEALTH_MSG, NULL, 0, msg);
    put_time(&b, FUZZ_HEALTH_TIME, 400);
    write_seed("health", "messages", &b);
    ofpbuf_uninit(&b);

    /* The heartbeat table read back from the journal. */
    ofpbuf_init(&b, 0);
    for (int i = 0; i < 3; i++) {
        struct health_record rec = {
            .node = i ? 100 + i : 2,
            .kind = i ? CTL_NODE_SERVER : CTL_NODE_LB,
            .heartbeat = 1700000000500ULL,
        };
        uint8_t kv[HEALTH_RECORD_KEY_LEN + HEALTH_RECORD_VALUE_LEN];

        health_record_encode(&rec, kv, kv + HEALTH_RECORD_KEY_LEN);
        fuzz_stream_put(&b, FUZZ_HEALTH_IMPORT, kv, sizeof kv);
    }
    put_time(&b, FUZZ_HEALTH_TIME, 200);
    write_seed("health", "import", &b);
    ofpbuf_uninit(&b);
    free(msg);
}

/* The seeds of tests/fuzz-config.c: NUL-separated strings. */
static void
config_seeds(void)
{
    static const char *seeds[][12] = {
        { "ovslb-node-id", "1", "ovslb-role", "lb", "ovslb-bridge",
          "br-int", "ovslb-config", "unix:/var/run/ovslb/ovslb.sock",
          "ovslb-north-port", "north0" },
        { "ovslb-node-id", "101", "ovslb-role", "server", "ovslb-bridge",
          "br-lb", "ovslb-config", "tcp:10.2.0.1:6640,ssl:[2001:db8::1]:6640",
          "ovslb-store", "/var/lib/ovslb/101.db" },
        { "ring_vnodes", "64", "maglev_table_size", "65521", "buffer_bytes",
          "65536", "flow_idle_timeout_s", "300", "bgp_router_as",
          "4294967295" },
        { "203.0.113.10", "2001:db8::10", "::ffff:10.0.0.1", "224.0.0.1",
          "tracked", "hash", "weighted-random", "least-connections",
          "source" },
        { "198.51.100.2:40000>203.0.113.10:80/tcp",
          "[2001:db8:1::2]:40001>[2001:db8::10]:443/udp" },
        { "type", "http", "path", "/healthz?full=1", "status", "204",
          "interval_ms", "1000", "timeout_ms", "500", "rise", "3" },
    };
    static const char *names[] = { "node-lb", "node-server", "settings",
                                   "strings", "flow-keys", "health-check" };

    for (size_t i = 0; i < ARRAY_SIZE(seeds); i++) {
        struct ofpbuf b;

        ofpbuf_init(&b, 0);
        for (size_t j = 0; j < ARRAY_SIZE(seeds[i]) && seeds[i][j]; j++) {
            if (j) {
                ofpbuf_put(&b, "", 1);
            }
            ofpbuf_put(&b, seeds[i][j], strlen(seeds[i][j]));
        }
        write_seed("config", names[i], &b);
        ofpbuf_uninit(&b);
    }
}

/* An OWNER from 'server' of the connections of client ports 'first' to
 * 'last' of 198.51.100.2 to 203.0.113.11:80, opened or closed. */
static void
put_owner(struct ofpbuf *b, struct ctl_msg *msg, uint32_t sender,
          uint32_t server, int first, int last, bool opened)
{
    ctl_msg_init(msg, CTL_MSG_OWNER, sender, 1);
    msg->owner.server = server;
    msg->owner.n = 0;
    for (int port = first; port <= last; port++) {
        struct ctl_owner_entry *e = &msg->owner.entries[msg->owner.n++];

        flow_key_init_v4(&e->cp, htonl(0xc6336402), htons(port),
                         htonl(0xcb00710b), htons(80), IPPROTO_TCP);
        e->opened = opened;
    }
    fuzz_stream_put_msg(b, FUZZ_OWNERS_MSG, NULL, 0, msg);
}

/* The seeds of tests/fuzz-owners.c. */
static void
owners_seeds(void)
{
    struct ctl_msg *msg = xmalloc(sizeof *msg);
    /* Sockets of the node: 198.51.100.2 ports 40001 and 40002. */
    const uint8_t sockets[] = { 2, 0x9c, 0x41, 2, 0x9c, 0x42 };
    const uint8_t config[] = { 0x0f, 0x0f, 100 };
    const uint8_t fewer[] = { 0x0d, 0x0b, 0 };
    struct ofpbuf b;

    /* Announcements both ways, a close, a conflict, a refresh, a peer
     * leaving the configuration, leases lapsing. */
    ofpbuf_init(&b, 0);
    fuzz_stream_put(&b, FUZZ_OWNERS_CONFIG, config, sizeof config);
    fuzz_stream_put(&b, FUZZ_OWNERS_DUMP, sockets, sizeof sockets);
    put_owner(&b, msg, 102, 102, 40010, 40012, true);
    put_owner(&b, msg, 103, 103, 40020, 40020, true);
    put_time(&b, FUZZ_OWNERS_TIME, 1000);
    put_owner(&b, msg, 102, 102, 40011, 40011, false);
    put_owner(&b, msg, 103, 103, 40001, 40001, true);
    put_owner(&b, msg, 103, 103, 40012, 40012, true);
    fuzz_stream_put(&b, FUZZ_OWNERS_DUMP, sockets, 3);
    put_time(&b, FUZZ_OWNERS_TIME, 4000);
    fuzz_stream_put(&b, FUZZ_OWNERS_FORMAT, NULL, 0);
    fuzz_stream_put(&b, FUZZ_OWNERS_CONFIG, fewer, sizeof fewer);
    put_time(&b, FUZZ_OWNERS_TIME, 12000);
    fuzz_stream_put(&b, FUZZ_OWNERS_FORMAT, NULL, 0);
    write_seed("owners", "gossip", &b);
    ofpbuf_uninit(&b);

    /* Refused: from a node that is no server node, and for another. */
    ofpbuf_init(&b, 0);
    put_owner(&b, msg, 7, 7, 40010, 40010, true);
    put_owner(&b, msg, 102, 103, 40010, 40010, true);
    put_owner(&b, msg, 101, 101, 40010, 40010, true);
    put_time(&b, FUZZ_OWNERS_TIME, 100);
    write_seed("owners", "refused", &b);
    ofpbuf_uninit(&b);
    free(msg);
}

int
main(int argc, char *argv[])
{
    if (argc != 2) {
        ovs_fatal(0, "usage: %s DIR", argv[0]);
    }
    dir = argv[1];
    lbnode_seeds();
    agent_seeds();
    health_seeds();
    config_seeds();
    owners_seeds();
    return n_errors ? EXIT_FAILURE : EXIT_SUCCESS;
}
