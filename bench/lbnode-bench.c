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

/* lbnode-bench: the cost of an LB node's timers (controller/lbnode.c) on a
 * busy node, driven through the core's public API only.
 *
 * One LB node core (node 1 of 3 LB nodes, 3 servers, one VIP, as
 * tests/check-lbnode.c configures them) holds CONNS live connections for
 * which it is a flow tracker (PFT or SFT) and the ingress: an established
 * tracker entry and an ingress mapping each, rebuilt from PUBLISH messages
 * as after a restart.  Then SECONDS seconds of simulated time pass in 10 ms
 * loop passes, as the daemon's loop would run: the servers publish every
 * connection once a second (a hundredth of them in every pass, in PUBLISH
 * messages of CTL_PUBLISH_MAX_ENTRIES), 1% of the connections close every
 * second (no longer published, their leases lapse) and as many new ones
 * appear, published for the first time at their turn, and every pass calls
 * lbnode_run() and lbnode_retry().  Times are the thread's CPU time.
 *
 * Prints the time per renewal (lbnode_recv() of the PUBLISH messages
 * divided by the leases they renewed) and per lbnode_run() +
 * lbnode_retry() pass: the mean, the passes that had work and the worst.
 *
 *   lbnode-bench [CONNS [SECONDS]]     (default 100000 and 30) */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller/lbnode.h"
#include "ctl-msg.h"
#include "flow-key.h"
#include "packets.h"
#include "selection.h"
#include "util.h"

#define N_LB 3
#define N_SRV 3
#define LEASE_MS 10000
#define PASS_MS 10
#define PASSES_PER_SECOND (1000 / PASS_MS)

static const char SECRET[] = "0123456789abcdef0123456789abcdef";

/* What the core asked for, counted only. */
static uint64_t n_sent, n_installed, n_removed;

static void
io_send(void *aux OVS_UNUSED, uint32_t dst OVS_UNUSED,
        struct ctl_msg *msg OVS_UNUSED)
{
    n_sent++;
}

static void
io_send_north(void *aux OVS_UNUSED, const void *frame OVS_UNUSED,
              size_t len OVS_UNUSED)
{
}

static void
io_install(void *aux OVS_UNUSED, const struct flow_key *cp OVS_UNUSED,
           const struct in6_addr *server OVS_UNUSED)
{
    n_installed++;
}

static void
io_remove(void *aux OVS_UNUSED, const struct flow_key *cp OVS_UNUSED)
{
    n_removed++;
}

static void
io_forward(void *aux OVS_UNUSED, const struct flow_key *cp OVS_UNUSED,
           const void *frame OVS_UNUSED, size_t len OVS_UNUSED,
           const struct in6_addr *server OVS_UNUSED)
{
}

static const struct lbnode_io io = {
    .send = io_send,
    .send_north = io_send_north,
    .install_mapping = io_install,
    .remove_mapping = io_remove,
    .forward = io_forward,
};

static struct in6_addr
v4(uint32_t addr)
{
    struct in6_addr a;

    in6_addr_set_mapped_ipv4(&a, htonl(addr));
    return a;
}

/* CPU time of this thread, in ns: the machine may be busy with others. */
static long long int
nsec_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
configure(struct lbnode *lb)
{
    struct lbnode_lb lbs[N_LB];
    struct lbnode_server servers[N_SRV];
    struct lbnode_vip_server vs[N_SRV];
    struct lbnode_vip vip = {
        .name = "web", .addr = v4(0xcb00710a), .port = 80,
        .proto = IPPROTO_TCP, .algorithm = SEL_ROUND_ROBIN,
        .mss = 1400, .wscale = 7, .ttl = 3, .enabled = true,
        .servers = vs, .n_servers = N_SRV,
    };

    for (int i = 0; i < N_LB; i++) {
        lbs[i] = (struct lbnode_lb) {
            .node = i + 1, .north = v4(0x0a01000b + i),
            .south = v4(0x0a02000b + i), .control = v4(0x0a02000b + i),
            .healthy = true,
        };
    }
    for (int i = 0; i < N_SRV; i++) {
        servers[i] = (struct lbnode_server) {
            .node = 101 + i, .underlay = v4(0x0a020065 + i),
            .control = v4(0x0a020065 + i), .healthy = true,
        };
        vs[i] = (struct lbnode_vip_server) { .node = 101 + i, .weight = 1 };
    }

    struct lbnode_config cfg = {
        .self = 1, .ring_key = 42, .secret = SECRET,
        .secret_len = strlen(SECRET), .vnodes = 64,
        .lbs = lbs, .n_lbs = N_LB, .servers = servers, .n_servers = N_SRV,
        .vips = &vip, .n_vips = 1,
        .buffer_packets = 8, .buffer_bytes = 65536,
        .buffer_timeout_ms = 3000, .syn_table_max = 100000,
        .syn_cookie_pct = 80, .syn_cookie_rate = 50000,
        .lease_ms = LEASE_MS,
        .handshake_timeout_ms = 30000,
        .connect_retry_ms = 1000, .query_retry_ms = 500,
    };
    lbnode_configure(lb, &cfg);
}

/* Stores in '*cp' the next client connection for which node 1 is a flow
 * tracker, 'next' counting the client addresses tried. */
static void
next_conn(const struct lbnode *lb, uint32_t *next, struct flow_key *cp)
{
    struct in6_addr vip = v4(0xcb00710a);

    for (;;) {
        struct in6_addr client = v4(0x64400000 + (*next)++);
        uint32_t pft, sft;

        flow_key_init_v6(cp, &client, htons(40000), &vip, htons(80),
                         IPPROTO_TCP);
        if (lbnode_trackers(lb, cp, &pft, &sft) && (pft == 1 || sft == 1)) {
            return;
        }
    }
}

static void
publish_flush(struct lbnode *lb, struct ctl_msg *msg, long long int now)
{
    if (msg->publish.n) {
        lbnode_recv(lb, msg, now, &io, NULL);
        msg->publish.n = 0;
    }
}

/* Publishes 'cp', a connection of server node 'server', through 'pubs'. */
static void
publish(struct lbnode *lb, struct ctl_msg pubs[N_SRV], uint32_t server,
        const struct flow_key *cp, long long int now)
{
    struct ctl_msg *msg = &pubs[server - 101];

    msg->publish.entries[msg->publish.n++] = (struct ctl_publish_entry) {
        .cp = *cp, .ingress = 1, .flags = CTL_PUBLISH_TRACKED,
    };
    if (msg->publish.n == CTL_PUBLISH_MAX_ENTRIES) {
        publish_flush(lb, msg, now);
    }
}

int
main(int argc, char *argv[])
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    int seconds = argc > 2 ? atoi(argv[2]) : 30;
    struct lbnode *lb = lbnode_create();
    struct flow_key *conns = xcalloc(n ? n : 1, sizeof *conns);
    struct ctl_msg pubs[N_SRV];
    long long int now = 1000000, t0;
    uint32_t next = 0;

    set_program_name(argv[0]);
    srandom(1);
    configure(lb);
    for (int s = 0; s < N_SRV; s++) {
        ctl_msg_init(&pubs[s], CTL_MSG_PUBLISH, 101 + s, 0);
        pubs[s].publish.server = 101 + s;
        pubs[s].publish.n = 0;
    }

    /* The connections, rebuilt from publications. */
    t0 = nsec_now();
    for (size_t i = 0; i < n; i++) {
        next_conn(lb, &next, &conns[i]);
        publish(lb, pubs, 101 + i % N_SRV, &conns[i], now);
    }
    for (int s = 0; s < N_SRV; s++) {
        publish_flush(lb, &pubs[s], now);
    }
    printf("%"PRIuSIZE" connections: %"PRIuSIZE" tracker entries, %"PRIu64
           " ingress mappings, built in %.0f ms\n", n, lbnode_n_entries(lb),
           n_installed, (nsec_now() - t0) / 1e6);

    /* The busy node's life. */
    const struct lbnode_stats *st = lbnode_get_stats(lb);
    size_t per_pass = (n + PASSES_PER_SECOND - 1) / PASSES_PER_SECOND;
    size_t churn_per_second = n / 100, closed = 0;
    long long int publish_ns = 0, timer_ns = 0, timer_work_ns = 0;
    long long int timer_max_ns = 0;
    uint64_t renewed0 = st->leases_renewed, lapsed0 = st->leases_lapsed;
    uint64_t passes = 0, work_passes = 0;

    for (int sec = 0; sec < seconds; sec++) {
        for (int pass = 0; pass < PASSES_PER_SECOND; pass++) {
            size_t lo = pass * per_pass, hi = MIN(n, lo + per_pass);
            uint64_t lapsed = st->leases_lapsed;
            long long int t;

            now += PASS_MS;

            /* Connections close at a steady rate; as many new ones come
             * (published for the first time at their turn below). */
            size_t close_to = churn_per_second * (sec * PASSES_PER_SECOND
                                                  + pass + 1)
                              / PASSES_PER_SECOND;
            for (; closed < close_to; closed++) {
                next_conn(lb, &next, &conns[random() % n]);
            }

            t = nsec_now();
            for (size_t i = lo; i < hi; i++) {
                publish(lb, pubs, 101 + i % N_SRV, &conns[i], now);
            }
            for (int s = 0; s < N_SRV; s++) {
                publish_flush(lb, &pubs[s], now);
            }
            publish_ns += nsec_now() - t;

            t = nsec_now();
            lbnode_run(lb, now, &io, NULL);
            lbnode_retry(lb, now, &io, NULL);
            t = nsec_now() - t;
            timer_ns += t;
            timer_max_ns = MAX(timer_max_ns, t);
            passes++;
            if (st->leases_lapsed != lapsed) {
                timer_work_ns += t;
                work_passes++;
            }
        }
    }

    uint64_t renewed = st->leases_renewed - renewed0;
    printf("%d s simulated, %"PRIu64" passes of %d ms: %"PRIu64" leases "
           "renewed, %"PRIu64" lapsed, %"PRIuSIZE" entries and %"PRIu64
           " mappings left\n", seconds, passes, PASS_MS, renewed,
           st->leases_lapsed - lapsed0, lbnode_n_entries(lb),
           n_installed - n_removed);
    printf("renewal: %.0f ns per lease renewed (PUBLISH handling included)\n",
           renewed ? (double) publish_ns / renewed : 0.0);
    printf("lbnode_run() + lbnode_retry(): %.1f us per pass on average, "
           "%.1f us per pass that expired leases (%"PRIu64" passes), "
           "%.1f us at worst; %.1f ms per simulated second\n",
           passes ? timer_ns / 1e3 / passes : 0.0,
           work_passes ? timer_work_ns / 1e3 / work_passes : 0.0,
           work_passes, timer_max_ns / 1e3,
           seconds ? timer_ns / 1e6 / seconds : 0.0);

    lbnode_destroy(lb);
    free(conns);
    return 0;
}
