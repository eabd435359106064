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

/* ctl-msg-bench: control messages encoded and decoded per second by
 * lib/ctl-msg.c, which authenticates each one twice (HMAC-SHA-256/128 in
 * ctl_msg_encode() and again in ctl_msg_decode()).  Two mixes: the small
 * messages of a connection's setup (SYN_INFO, CONNECT, CONN_REQ, ACCEPTED,
 * MAPPING) and full PUBLISH datagrams, the largest there are.
 *
 *   ctl-msg-bench [MESSAGES]     (per mix; default 500000) */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-msg.h"
#include "flow-key.h"
#include "openvswitch/ofpbuf.h"
#include "packets.h"
#include "timeval.h"
#include "util.h"

#define BENCH_KEY "ovslb benchmark cluster key, 32"

static void
make_cp(struct flow_key *cp, uint32_t i)
{
    flow_key_init_v4(cp, htonl(0xc6336400 + (i & 0xff)),
                     htons(40000 + (i & 0x3fff)), htonl(0xcb00710a),
                     htons(80), IPPROTO_TCP);
}

/* Fills 'msgs' with the small messages of one connection's setup and
 * returns how many. */
static size_t
make_setup_msgs(struct ctl_msg msgs[5])
{
    static const struct ctl_tcp_opts opts = { .has_mss = true, .mss = 1460 };
    struct in6_addr server_addr;
    struct flow_key cp;

    make_cp(&cp, 1);
    in6_addr_set_mapped_ipv4(&server_addr, htonl(0x0a000065));

    ctl_msg_init(&msgs[0], CTL_MSG_SYN_INFO, 11, 0);
    msgs[0].syn_info = (struct ctl_syn_info) {
        .cp = cp, .ingress = 11, .client_isn = 0x12345678, .opts = opts,
    };
    ctl_msg_init(&msgs[1], CTL_MSG_CONNECT, 12, 0);
    msgs[1].connect = (struct ctl_connect) {
        .cp = cp, .server = 101, .ttl = 3, .isn_lb = 0x9abcdef0,
        .client_isn = 0x12345678, .opts = opts, .ingress = 11,
    };
    ctl_msg_init(&msgs[2], CTL_MSG_CONN_REQ, 13, 0);
    msgs[2].conn_req = (struct ctl_conn_req) {
        .cp = cp, .server = 101, .ttl = 3, .client_isn = 0x12345678,
        .isn_lb = 0x9abcdef0, .opts = opts, .ingress = 11, .lb_mss = 1460,
    };
    ctl_msg_init(&msgs[3], CTL_MSG_ACCEPTED, 101, 0);
    msgs[3].accepted = (struct ctl_accepted) {
        .cp = cp, .server = 101, .lease_ms = CTL_LEASE_FULL,
    };
    ctl_msg_init(&msgs[4], CTL_MSG_MAPPING, 13, 0);
    msgs[4].mapping = (struct ctl_mapping) {
        .cp = cp, .server = 101, .server_addr = server_addr,
    };
    return 5;
}

/* Encodes and decodes 'n' messages, cycling through the 'n_msgs' in
 * 'msgs', and prints the rate under 'name'. */
static void
run(const char *name, const struct ctl_key *key, struct ctl_msg *msgs,
    size_t n_msgs, long long int n)
{
    struct ctl_msg *out = xmalloc(sizeof *out);
    long long int start, elapsed;
    uint64_t bytes = 0;
    struct ofpbuf buf;

    ofpbuf_init(&buf, CTL_MSG_MAX_LEN);
    start = time_msec();
    for (long long int i = 0; i < n; i++) {
        struct ctl_msg *m = &msgs[i % n_msgs];

        m->seq = i + 1;
        ofpbuf_clear(&buf);
        if (ctl_msg_encode(m, key, &buf)) {
            ovs_fatal(0, "%s: cannot encode", name);
        }
        if (ctl_msg_decode(buf.data, buf.size, key, out, NULL)
            || out->type != m->type || out->seq != m->seq) {
            ovs_fatal(0, "%s: does not decode", name);
        }
        bytes += buf.size;
    }
    elapsed = MAX(time_msec() - start, 1);
    printf("%-8s %lld messages (%.0f bytes on average) encoded and decoded "
           "in %lld ms: %.0f messages/s\n", name, n, (double) bytes / n,
           elapsed, n * 1000.0 / elapsed);
    ofpbuf_uninit(&buf);
    free(out);
}

int
main(int argc, char *argv[])
{
    long long int n = argc > 1 ? atoll(argv[1]) : 500000;
    struct ctl_msg setup[5];
    struct ctl_msg *publish;
    struct ctl_key key;
    size_t n_setup;

    set_program_name(argv[0]);
    if (n <= 0) {
        ovs_fatal(0, "usage: %s [MESSAGES]", argv[0]);
    }
    if (ctl_key_init(&key, BENCH_KEY, strlen(BENCH_KEY))) {
        ovs_fatal(0, "cannot set up the key");
    }

    n_setup = make_setup_msgs(setup);
    run("setup", &key, setup, n_setup, n);

    publish = xmalloc(sizeof *publish);
    ctl_msg_init(publish, CTL_MSG_PUBLISH, 101, 0);
    publish->publish.server = 101;
    publish->publish.n = ctl_msg_max_entries(CTL_MSG_PUBLISH);
    for (size_t i = 0; i < publish->publish.n; i++) {
        make_cp(&publish->publish.entries[i].cp, i);
        publish->publish.entries[i].ingress = 11;
        publish->publish.entries[i].flags = CTL_PUBLISH_TRACKED;
    }
    run("publish", &key, publish, 1, n);
    free(publish);
    ctl_key_destroy(&key);
    return 0;
}
