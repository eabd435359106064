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
 * libFuzzer target for the health-checking and gossip core (lib/health.h):
 * LB node 1 of three LB nodes and three servers, driven by a stream of
 * events (tests/fuzz-stream.h):
 *
 *   op % 6 == 0  control message (PING, PONG, GOSSIP, ...): authenticated,
 *                decoded, and handed to health_recv();
 *             1  time: u16 milliseconds (x 4) pass, health_run();
 *             2  journal record of the heartbeat table: the key
 *                (HEALTH_RECORD_KEY_LEN bytes), then the value, for
 *                health_record_decode() and health_import();
 *             3  serving: bit 0 of the data, health_set_serving();
 *             4  the inspection command's output;
 *             5  the checked nodes answer the PINGs sent since the last
 *                such record with PONGs (bit 0 of each data byte, in turn:
 *                ready).
 *
 * Besides memory safety (and leaks, under ASan) it checks that:
 *   - every message the core sends is to another node, encodes, and decodes
 *     to a message that re-encodes to the same bytes;
 *   - a journal record that decodes encodes to the same bytes;
 *   - what the core exports at the end encodes, decodes to the same
 *     records, and imports into a new core, whose counters are then at
 *     least as large.
 */
#include <config.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-msg.h"
#include "fuzz-stream.h"
#include "health.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_LB 3
#define N_SRV 3
#define SELF 1
#define MAX_PINGS 64

/* PINGs sent and not answered yet. */
struct sent_ping {
    uint32_t dst;
    struct ctl_ping ping;
};
static struct sent_ping pings[MAX_PINGS];
static size_t n_pings;

static void
io_send(void *aux OVS_UNUSED, uint32_t dst, enum health_via via OVS_UNUSED,
        const struct in6_addr *addr OVS_UNUSED, struct ctl_msg *msg)
{
    ovs_assert(dst != SELF && dst != CTL_NODE_NONE);
    fuzz_stream_check_sent(msg);
    if (msg->type == CTL_MSG_PING && n_pings < MAX_PINGS) {
        pings[n_pings++] = (struct sent_ping) { dst, msg->ping };
    }
}

static const struct health_io io = { .send = io_send };

static struct health *
health_make(long long int now)
{
    struct health_lb lbs[N_LB];
    struct health_server servers[N_SRV];

    for (int i = 0; i < N_LB; i++) {
        lbs[i] = (struct health_lb) {
            .node = SELF + i, .north = fuzz_stream_v4(10, 1, 0, 11 + i),
            .south = fuzz_stream_v4(10, 2, 0, 11 + i),
            .control = fuzz_stream_v4(10, 2, 0, 11 + i),
        };
    }
    for (int i = 0; i < N_SRV; i++) {
        servers[i] = (struct health_server) {
            .node = 101 + i, .control = fuzz_stream_v4(10, 2, 0, 101 + i),
        };
    }

    struct health_config cfg = {
        .lbs = lbs, .n_lbs = N_LB, .servers = servers, .n_servers = N_SRV,
        .ring_key = 42, .vnodes = 16,
        .ping_interval_ms = 100, .gossip_interval_ms = 50,
        .suspect_ms = 300, .unhealthy_ms = 300, .server_interval_ms = 200,
    };
    struct health *h = health_create(SELF, &cfg, 7, now);

    health_set_clock_offset(h, 1700000000000LL);
    return h;
}

static void
import(struct health *h, const uint8_t *data, size_t len)
{
    struct health_record rec;
    uint8_t key[HEALTH_RECORD_KEY_LEN], value[HEALTH_RECORD_VALUE_LEN];

    if (len < HEALTH_RECORD_KEY_LEN
        || !health_record_decode(data, HEALTH_RECORD_KEY_LEN,
                                 data + HEALTH_RECORD_KEY_LEN,
                                 len - HEALTH_RECORD_KEY_LEN, &rec)) {
        return;
    }
    health_record_encode(&rec, key, value);
    ovs_assert(len == sizeof key + sizeof value);
    ovs_assert(!memcmp(key, data, sizeof key));
    ovs_assert(!memcmp(value, data + sizeof key, sizeof value));
    health_import(h, &rec, 1);
}

/* The checked nodes answer the PINGs in 'pings'. */
static void
pongs(struct health *h, const uint8_t *data, size_t len, long long int now)
{
    struct ctl_msg *msg = xmalloc(sizeof *msg);
    size_t n = n_pings;

    n_pings = 0;
    for (size_t i = 0; i < n; i++) {
        ctl_msg_init(msg, CTL_MSG_PONG, pings[i].dst, 1);
        msg->pong.nonce = pings[i].ping.nonce;
        msg->pong.path = pings[i].ping.path;
        msg->pong.ready = !len || data[i % len] & 1;
        health_recv(h, msg, now, &io, NULL);
    }
    free(msg);
}

/* Checks the round trip of the heartbeat table through the journal. */
static void
check_export(const struct health *h, long long int now)
{
    struct health_record *recs;
    size_t n = health_export(h, &recs);
    struct health *h2 = health_make(now);

    for (size_t i = 0; i < n; i++) {
        uint8_t key[HEALTH_RECORD_KEY_LEN], value[HEALTH_RECORD_VALUE_LEN];
        struct health_record back;

        health_record_encode(&recs[i], key, value);
        ovs_assert(health_record_decode(key, sizeof key, value, sizeof value,
                                        &back));
        ovs_assert(back.node == recs[i].node && back.kind == recs[i].kind
                   && back.heartbeat == recs[i].heartbeat);
    }
    ovs_assert(health_import(h2, recs, n) <= n);
    for (size_t i = 0; i < n; i++) {
        struct health_node_info info;

        ovs_assert(health_get_node(h2, recs[i].node, &info));
        ovs_assert(info.heartbeat >= recs[i].heartbeat);
    }
    health_destroy(h2);
    free(recs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_stream s = { data, size };
    long long int now = 1000000;
    struct ctl_msg *msg = xmalloc(sizeof *msg);
    struct health *h = health_make(now);
    const uint8_t *p;
    size_t len;
    uint8_t op;

    n_pings = 0;
    while (fuzz_stream_next(&s, &op, &p, &len)) {
        switch ((enum fuzz_health_op) (op % FUZZ_HEALTH_N_OPS)) {
        case FUZZ_HEALTH_MSG:
            if (fuzz_stream_msg(p, len, msg) == CTL_MSG_OK) {
                health_recv(h, msg, now, &io, NULL);
            }
            break;
        case FUZZ_HEALTH_TIME:
            now += len >= 2 ? ((p[0] << 8) | p[1]) * 4 : 100;
            health_run(h, now, &io, NULL);
            break;
        case FUZZ_HEALTH_IMPORT:
            import(h, p, len);
            break;
        case FUZZ_HEALTH_SERVING:
            health_set_serving(h, len && p[0] & 1);
            break;
        case FUZZ_HEALTH_FORMAT: {
            struct ds out = DS_EMPTY_INITIALIZER;

            health_format(h, now, &out);
            ds_destroy(&out);
            break;
        }
        case FUZZ_HEALTH_PONGS:
            pongs(h, p, len, now);
            break;
        case FUZZ_HEALTH_N_OPS:
            OVS_NOT_REACHED();
        }
    }
    check_export(h, now);
    health_destroy(h);
    free(msg);
    return 0;
}
