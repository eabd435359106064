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
 * libFuzzer target for the ownership gossip of `hash` VIPs (agent/owners.h):
 * server node 101 of four (101 to 104), driven by a stream of events
 * (tests/fuzz-stream.h):
 *
 *   op % 5 == 0  control message (OWNER, or anything else a key holder
 *                could send): authenticated, decoded, and, if it is an
 *                OWNER, handed to owners_receive();
 *             1  time: u16 milliseconds (x 16) pass, owners_run();
 *             2  a socket dump: each 3 bytes of the data are a socket of
 *                the node (client address 198.51.100.X and port, to
 *                203.0.113.11:80);
 *             3  configuration: bits 0-3 of byte 0 pick the targets among
 *                the four nodes, bits 0-3 of byte 1 the server nodes
 *                heard from, byte 2 the lease (x 100 ms, 0: unchanged);
 *             4  the inspection commands' output.
 *
 * Besides memory safety (and leaks, under ASan) it checks that:
 *   - every OWNER the node sends goes to another node, speaks for this
 *     node, encodes, and decodes to a message that re-encodes to the same
 *     bytes;
 *   - the switch is told to redirect only to another node that is a server
 *     node of the configuration at that moment;
 *   - no socket of the last dump is redirected (a local socket wins);
 *   - the redirects never exceed OWNERS_MAX_ASSOCIATIONS.
 */
#include <config.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-msg.h"
#include "flow-key.h"
#include "fuzz-stream.h"
#include "openvswitch/dynamic-string.h"
#include "owners.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SELF 101
#define N_NODES 4
#define MAX_DUMP 128

static const uint32_t nodes[N_NODES] = { 101, 102, 103, 104 };
static uint32_t servers[N_NODES];
static size_t n_servers;
static struct flow_key dumped[MAX_DUMP];
static size_t n_dumped;

static void
io_send(void *aux OVS_UNUSED, uint32_t dst, struct ctl_msg *msg)
{
    ovs_assert(dst != SELF);
    ovs_assert(msg->type == CTL_MSG_OWNER);
    ovs_assert(msg->sender == SELF && msg->owner.server == SELF);
    fuzz_stream_check_sent(msg);
}

static bool
io_redirect(void *aux OVS_UNUSED, const struct flow_key *cp, uint32_t owner)
{
    bool known = false;

    ovs_assert(owner != SELF);
    for (size_t i = 0; i < n_servers; i++) {
        known = known || servers[i] == owner;
    }
    ovs_assert(known);
    return (cp->client_port & htons(1)) == 0;   /* Some fail. */
}

static void
io_unredirect(void *aux OVS_UNUSED, const struct flow_key *cp OVS_UNUSED)
{
}

static const struct owners_ops ops = {
    .send = io_send,
    .redirect = io_redirect,
    .unredirect = io_unredirect,
};

static void
configure(struct owners *o, const uint8_t *p, size_t len, long long int now)
{
    uint32_t targets[N_NODES];
    size_t n_targets = 0;

    n_servers = 0;
    for (size_t i = 0; i < N_NODES; i++) {
        if (len > 0 && p[0] & (1u << i)) {
            targets[n_targets++] = nodes[i];
        }
        if (len > 1 && p[1] & (1u << i)) {
            servers[n_servers++] = nodes[i];
        }
    }
    owners_set_config(o, targets, n_targets, servers, n_servers,
                      len > 2 ? p[2] * 100 : 0, now);
}

static void
dump(struct owners *o, const uint8_t *p, size_t len, long long int now)
{
    owners_dump_begin(o);
    n_dumped = 0;
    for (size_t i = 0; i + 3 <= len && n_dumped < MAX_DUMP; i += 3) {
        struct flow_key *cp = &dumped[n_dumped++];

        flow_key_init_v4(cp, htonl(0xc6336400 | p[i]),
                         htons((p[i + 1] << 8) | p[i + 2]),
                         htonl(0xcb00710b), htons(80), IPPROTO_TCP);
        owners_dump_socket(o, cp);
    }
    owners_dump_end(o, now);
}

static void
check(const struct owners *o)
{
    uint32_t owner;

    ovs_assert(owners_n_associations(o) <= OWNERS_MAX_ASSOCIATIONS);
    for (size_t i = 0; i < n_dumped; i++) {
        ovs_assert(!owners_lookup(o, &dumped[i], &owner));
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t all[] = { 0x0f, 0x0f, 100 };
    struct fuzz_stream s = { data, size };
    long long int now = 1000000;
    struct ctl_msg *msg = xmalloc(sizeof *msg);
    struct owners *o = owners_create(SELF, &ops, NULL);
    const uint8_t *p;
    size_t len;
    uint8_t op;

    n_dumped = 0;
    configure(o, all, sizeof all, now);
    while (fuzz_stream_next(&s, &op, &p, &len)) {
        switch ((enum fuzz_owners_op) (op % FUZZ_OWNERS_N_OPS)) {
        case FUZZ_OWNERS_MSG:
            if (fuzz_stream_msg(p, len, msg) == CTL_MSG_OK
                && msg->type == CTL_MSG_OWNER) {
                owners_receive(o, msg, now);
            }
            break;
        case FUZZ_OWNERS_TIME:
            now += len >= 2 ? ((p[0] << 8) | p[1]) * 16 : 1000;
            owners_run(o, now);
            break;
        case FUZZ_OWNERS_DUMP:
            dump(o, p, len, now);
            break;
        case FUZZ_OWNERS_CONFIG:
            configure(o, p, len, now);
            break;
        case FUZZ_OWNERS_FORMAT: {
            struct ds out = DS_EMPTY_INITIALIZER;

            owners_format(o, &out);
            owners_format_stats(o, &out);
            ds_destroy(&out);
            break;
        }
        case FUZZ_OWNERS_N_OPS:
            OVS_NOT_REACHED();
        }
        check(o);
    }
    owners_destroy(o);
    free(msg);
    return 0;
}
