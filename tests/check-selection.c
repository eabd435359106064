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

#include <config.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cluster-config.h"
#include "flow-key.h"
#include "selection.h"
#include "util.h"

#define N_PICKS 100000

static const enum selection_algo all_algos[] = {
    SEL_RANDOM, SEL_WEIGHTED_RANDOM, SEL_ROUND_ROBIN, SEL_LEAST_CONNECTIONS,
    SEL_LOWEST_LATENCY, SEL_HASH, SEL_SOURCE, SEL_NEAREST,
};

/* Builds the CP of an IPv4 flow (v4-mapped, as flow-key.h lays it out) from
 * host-order addresses and ports. */
static struct flow_key
make_cp(uint32_t client, uint16_t client_port, uint32_t vip,
        uint16_t vip_port)
{
    struct flow_key cp;

    memset(&cp, 0, sizeof cp);
    cp.client.s6_addr[10] = cp.client.s6_addr[11] = 0xff;
    cp.vip.s6_addr[10] = cp.vip.s6_addr[11] = 0xff;
    for (int i = 0; i < 4; i++) {
        cp.client.s6_addr[12 + i] = client >> (24 - 8 * i);
        cp.vip.s6_addr[12 + i] = vip >> (24 - 8 * i);
    }
    cp.client_port = htons(client_port);
    cp.vip_port = htons(vip_port);
    cp.proto = IPPROTO_TCP;
    return cp;
}

/* The CP of test flow number 'i': clients spread over 10.0.0.0/8. */
static struct flow_key
nth_cp(uint32_t i)
{
    return make_cp(0x0a000000 + i * 7919, 1024 + i % 60000, 0xc6336401, 80);
}

static void
init_servers(struct selection_server *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        s[i] = (struct selection_server) {
            .id = i + 1, .weight = 1, .healthy = true,
            .active_conns = 0, .rtt_us = 100,
        };
    }
}

/* Returns the index in 's' of the server with id 'id', or -1. */
static int
server_index(const struct selection_server *s, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i].id == id) {
            return i;
        }
    }
    return -1;
}

START_TEST(test_algo_strings)
{
    static const char *const bad[] = {
        "", "Random", "roundrobin", "round_robin", "hash ", " hash",
        "least-connection", "weighted", "source-ip", "randomx",
    };

    for (size_t i = 0; i < ARRAY_SIZE(all_algos); i++) {
        const char *name = selection_algo_to_string(all_algos[i]);
        enum selection_algo algo = -1;

        ck_assert(name);
        ck_assert(selection_algo_from_string(name, &algo));
        ck_assert_int_eq(algo, all_algos[i]);
    }
    ck_assert_str_eq(selection_algo_to_string(SEL_RANDOM), "random");
    ck_assert_str_eq(selection_algo_to_string(SEL_WEIGHTED_RANDOM),
                     "weighted-random");
    ck_assert_str_eq(selection_algo_to_string(SEL_ROUND_ROBIN),
                     "round-robin");
    ck_assert_str_eq(selection_algo_to_string(SEL_LEAST_CONNECTIONS),
                     "least-connections");
    ck_assert_str_eq(selection_algo_to_string(SEL_LOWEST_LATENCY),
                     "lowest-latency");
    ck_assert_str_eq(selection_algo_to_string(SEL_HASH), "hash");
    ck_assert_str_eq(selection_algo_to_string(SEL_SOURCE), "source");
    ck_assert_str_eq(selection_algo_to_string(SEL_NEAREST), "nearest");
    ck_assert_int_eq(SEL_DEFAULT, SEL_RANDOM);

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        enum selection_algo algo = SEL_HASH;

        ck_assert_msg(!selection_algo_from_string(bad[i], &algo), "'%s'",
                      bad[i]);
        ck_assert_int_eq(algo, SEL_HASH);
    }
    enum selection_algo algo = SEL_HASH;
    ck_assert(!selection_algo_from_string(NULL, &algo));
    ck_assert(!selection_algo_to_string(SEL_N_ALGOS));
    ck_assert(!selection_algo_to_string((enum selection_algo) -1));
    ck_assert(!selection_create(SEL_N_ALGOS, 1));

    struct selection *sel = selection_create(SEL_SOURCE, 1);
    ck_assert_int_eq(selection_get_algo(sel), SEL_SOURCE);
    selection_destroy(sel);
    selection_destroy(NULL);
}
END_TEST

/* Every algorithm that the config service accepts (and ovslb-ctl with it)
 * is one a selector implements, under the same name, and the other way
 * round: ovslb-controller maps a VIP's algorithm to its selector by name
 * and would serve an unknown one as the default, silently. */
START_TEST(test_config_algos_implemented)
{
    ck_assert_int_eq(CLUSTER_N_ALGS, SEL_N_ALGOS);
    for (int i = 0; i < CLUSTER_N_ALGS; i++) {
        const char *name = cluster_vip_algorithm_to_string(i);
        enum selection_algo algo;

        ck_assert_msg(selection_algo_from_string(name, &algo),
                      "%s: no selector", name);
        ck_assert_str_eq(selection_algo_to_string(algo), name);
    }
    for (size_t i = 0; i < ARRAY_SIZE(all_algos); i++) {
        enum cluster_vip_algorithm alg;

        ck_assert(cluster_vip_algorithm_from_string(
                      selection_algo_to_string(all_algos[i]), &alg));
    }
}
END_TEST

/* Every algorithm skips unhealthy, drained and rejected servers, and
 * returns ENOENT when none is left. */
START_TEST(test_skips_ineligible)
{
    enum selection_algo algo = all_algos[_i];
    struct selection_server s[6];
    struct selection *sel = selection_create(algo, 42);
    uint32_t rejected[] = { 4, 5, 1, 6 };
    int count[7] = { 0 };
    int errors = 0;

    init_servers(s, ARRAY_SIZE(s));
    s[1].healthy = false;       /* id 2 */
    s[2].weight = 0;            /* id 3 */
    /* Make the ineligible servers the most attractive. */
    s[1].active_conns = s[2].active_conns = s[3].active_conns = 0;
    s[0].active_conns = s[4].active_conns = s[5].active_conns = 10;
    s[1].rtt_us = s[2].rtt_us = s[3].rtt_us = 1;
    s[1].weight = 1000;
    s[3].weight = 1000;

    for (uint32_t i = 0; i < 1000; i++) {
        struct flow_key cp = nth_cp(i);
        uint32_t id = 0;

        if (selection_pick(sel, s, ARRAY_SIZE(s), &cp, rejected, 2, &id)
            || id > 6) {
            errors++;
        } else {
            count[id]++;
        }
    }
    ck_assert_int_eq(errors, 0);
    ck_assert_int_eq(count[2] + count[3] + count[4] + count[5], 0);
    /* Flows are spread over both eligible servers 1 and 6 (for
     * least-connections and lowest-latency they tie). */
    ck_assert_int_gt(count[1], 100);
    ck_assert_int_gt(count[6], 100);

    /* With 1 and 6 rejected too, nothing is left. */
    struct flow_key cp = nth_cp(1);
    uint32_t id = 77;
    ck_assert_int_eq(selection_pick(sel, s, ARRAY_SIZE(s), &cp, rejected, 4,
                                    &id), ENOENT);
    ck_assert_uint_eq(id, 77);

    /* Nothing healthy. */
    for (size_t i = 0; i < ARRAY_SIZE(s); i++) {
        s[i].healthy = false;
    }
    ck_assert_int_eq(selection_pick(sel, s, ARRAY_SIZE(s), &cp, NULL, 0,
                                    &id), ENOENT);

    /* No server at all. */
    ck_assert_int_eq(selection_pick(sel, NULL, 0, &cp, NULL, 0, &id),
                     ENOENT);

    struct selection_stats stats;
    selection_get_stats(sel, &stats);
    ck_assert_uint_eq(stats.picks, 1000);
    ck_assert_uint_eq(stats.no_server, 3);
    ck_assert_uint_eq(stats.invalid, 0);
    selection_destroy(sel);
}
END_TEST

START_TEST(test_round_robin)
{
    struct selection_server s[4];
    struct selection *sel = selection_create(SEL_ROUND_ROBIN, 0);
    int count[5] = { 0 };
    uint32_t id, prev = 0;

    /* Given out of order: the cycle is in id order. */
    init_servers(s, 4);
    s[0].id = 3;
    s[2].id = 1;
    for (int i = 0; i < 400; i++) {
        ck_assert_int_eq(selection_pick(sel, s, 4, NULL, NULL, 0, &id), 0);
        ck_assert_uint_eq(id, prev % 4 + 1);
        count[id]++;
        prev = id;
    }
    for (int i = 1; i <= 4; i++) {
        ck_assert_int_eq(count[i], 100);
    }

    /* An unhealthy server is skipped and the cycle goes on. */
    s[server_index(s, 4, 2)].healthy = false;
    static const uint32_t expect1[] = { 1, 3, 4, 1, 3 };
    for (size_t i = 0; i < ARRAY_SIZE(expect1); i++) {
        ck_assert_int_eq(selection_pick(sel, s, 4, NULL, NULL, 0, &id), 0);
        ck_assert_uint_eq(id, expect1[i]);
    }

    /* A rejection moves on to the next server; the server list may
     * change between picks. */
    uint32_t rejected[] = { 4 };
    ck_assert_int_eq(selection_pick(sel, s, 4, NULL, rejected, 1, &id), 0);
    ck_assert_uint_eq(id, 1);
    s[server_index(s, 4, 2)].healthy = true;
    s[server_index(s, 4, 4)].id = 9;
    static const uint32_t expect2[] = { 2, 3, 9, 1, 2 };
    for (size_t i = 0; i < ARRAY_SIZE(expect2); i++) {
        ck_assert_int_eq(selection_pick(sel, s, 4, NULL, NULL, 0, &id), 0);
        ck_assert_uint_eq(id, expect2[i]);
    }
    selection_destroy(sel);
}
END_TEST

START_TEST(test_least_connections)
{
    struct selection_server s[5];
    struct selection *sel = selection_create(SEL_LEAST_CONNECTIONS, 0);
    uint32_t id;

    init_servers(s, 5);
    s[0].active_conns = 5;
    s[1].active_conns = 3;
    s[2].active_conns = 1;
    s[3].active_conns = 0;
    s[3].healthy = false;
    s[4].active_conns = 2;
    ck_assert_int_eq(selection_pick(sel, s, 5, NULL, NULL, 0, &id), 0);
    ck_assert_uint_eq(id, 3);

    /* The metrics are the caller's: the pick follows them. */
    s[2].active_conns = 4;
    ck_assert_int_eq(selection_pick(sel, s, 5, NULL, NULL, 0, &id), 0);
    ck_assert_uint_eq(id, 5);
    uint32_t rejected[] = { 5 };
    ck_assert_int_eq(selection_pick(sel, s, 5, NULL, rejected, 1, &id), 0);
    ck_assert_uint_eq(id, 2);

    /* Ties are broken in round-robin order, the same way every time. */
    for (int i = 0; i < 5; i++) {
        s[i].active_conns = 7;
    }
    s[0].active_conns = 8;
    static const uint32_t expect[] = { 2, 3, 5, 2, 3, 5 };
    for (int round = 0; round < 2; round++) {
        struct selection *sel2 = selection_create(SEL_LEAST_CONNECTIONS,
                                                  round);
        for (size_t i = 0; i < ARRAY_SIZE(expect); i++) {
            ck_assert_int_eq(selection_pick(sel2, s, 5, NULL, NULL, 0, &id),
                             0);
            ck_assert_uint_eq(id, expect[i]);
        }
        selection_destroy(sel2);
    }

    /* Weighted: connections per unit of weight.  Server 2 (weight 3) with
     * 6 connections is less loaded than server 3 (weight 1) with 3. */
    init_servers(s, 3);
    s[0].active_conns = 4;
    s[1].active_conns = 6;
    s[1].weight = 3;
    s[2].active_conns = 3;
    ck_assert_int_eq(selection_pick(sel, s, 3, NULL, NULL, 0, &id), 0);
    ck_assert_uint_eq(id, 2);
    s[1].active_conns = 9;      /* 3 per unit: tied with server 3. */
    ck_assert_int_eq(selection_pick(sel, s, 3, NULL, NULL, 0, &id), 0);
    ck_assert_uint_eq(id, 3);
    ck_assert_int_eq(selection_pick(sel, s, 3, NULL, NULL, 0, &id), 0);
    ck_assert_uint_eq(id, 2);
    selection_destroy(sel);
}
END_TEST

START_TEST(test_lowest_latency)
{
    struct selection_server s[4];
    struct selection *sel = selection_create(SEL_LOWEST_LATENCY, 0);
    uint32_t id;

    init_servers(s, 4);
    s[0].rtt_us = 900;
    s[1].rtt_us = UINT32_MAX;   /* Not measured yet. */
    s[2].rtt_us = 150;
    s[3].rtt_us = 40;
    s[3].weight = 0;            /* Drained, though fastest. */
    s[0].active_conns = 1000;   /* Irrelevant here. */

    /* Server 2, not measured, counts as fast as the fastest eligible one
     * (server 3, 150 us): the two alternate until server 2 has a measure
     * (exploration). */
    ck_assert_int_eq(selection_pick(sel, s, 4, NULL, NULL, 0, &id), 0);
    ck_assert_uint_eq(id, 2);
    ck_assert_int_eq(selection_pick(sel, s, 4, NULL, NULL, 0, &id), 0);
    ck_assert_uint_eq(id, 3);
    s[1].rtt_us = 20000;        /* Measured: slow. */
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(selection_pick(sel, s, 4, NULL, NULL, 0, &id), 0);
        ck_assert_uint_eq(id, 3);
    }

    uint32_t rejected[] = { 3 };
    ck_assert_int_eq(selection_pick(sel, s, 4, NULL, rejected, 1, &id), 0);
    ck_assert_uint_eq(id, 1);

    s[0].healthy = false;
    ck_assert_int_eq(selection_pick(sel, s, 4, NULL, rejected, 1, &id), 0);
    ck_assert_uint_eq(id, 2);

    s[1].rtt_us = 10;
    ck_assert_int_eq(selection_pick(sel, s, 4, NULL, NULL, 0, &id), 0);
    ck_assert_uint_eq(id, 2);

    /* None measured: all tie, in round-robin order. */
    for (int i = 0; i < 4; i++) {
        s[i].rtt_us = UINT32_MAX;
    }
    s[0].healthy = true;
    ck_assert_int_eq(selection_pick(sel, s, 4, NULL, NULL, 0, &id), 0);
    ck_assert_uint_eq(id, 3);
    ck_assert_int_eq(selection_pick(sel, s, 4, NULL, NULL, 0, &id), 0);
    ck_assert_uint_eq(id, 1);
    selection_destroy(sel);
}
END_TEST

/* Makes 'N_PICKS' picks with 'sel' among 's', into 'count' (by id). */
static void
count_picks(struct selection *sel, const struct selection_server *s,
            size_t n, int *count, size_t n_count)
{
    int errors = 0;

    for (int i = 0; i < N_PICKS; i++) {
        uint32_t id;

        if (selection_pick(sel, s, n, NULL, NULL, 0, &id) || id >= n_count) {
            errors++;
        } else {
            count[id]++;
        }
    }
    ck_assert_int_eq(errors, 0);
}

START_TEST(test_random)
{
    struct selection_server s[4];
    int count[5] = { 0 };

    init_servers(s, 4);
    s[0].weight = 100;          /* Weights do not matter to random. */
    struct selection *sel = selection_create(SEL_RANDOM, 12345);
    count_picks(sel, s, 4, count, ARRAY_SIZE(count));
    for (int i = 1; i <= 4; i++) {
        double share = (double) count[i] / N_PICKS;

        ck_assert_msg(share > 0.24 && share < 0.26, "server %d: %.4f", i,
                      share);
    }
    selection_destroy(sel);

    /* Same seed, same choices; another seed, other choices. */
    struct selection *a = selection_create(SEL_RANDOM, 7);
    struct selection *b = selection_create(SEL_RANDOM, 7);
    struct selection *c = selection_create(SEL_RANDOM, 8);
    int same_ab = 0, same_ac = 0;
    for (int i = 0; i < 1000; i++) {
        uint32_t x, y, z;

        ck_assert(!selection_pick(a, s, 4, NULL, NULL, 0, &x));
        ck_assert(!selection_pick(b, s, 4, NULL, NULL, 0, &y));
        ck_assert(!selection_pick(c, s, 4, NULL, NULL, 0, &z));
        same_ab += x == y;
        same_ac += x == z;
    }
    ck_assert_int_eq(same_ab, 1000);
    ck_assert_int_lt(same_ac, 400);
    selection_destroy(a);
    selection_destroy(b);
    selection_destroy(c);
}
END_TEST

START_TEST(test_weighted_random)
{
    struct selection_server s[5];
    int count[6] = { 0 };

    init_servers(s, 5);
    for (int i = 0; i < 4; i++) {
        s[i].weight = i + 1;
    }
    s[4].weight = 0;
    struct selection *sel = selection_create(SEL_WEIGHTED_RANDOM, 2024);
    count_picks(sel, s, 5, count, ARRAY_SIZE(count));
    ck_assert_int_eq(count[5], 0);
    for (int i = 1; i <= 4; i++) {
        double share = (double) count[i] / N_PICKS;

        printf("weighted-random: weight %d: %.4f of %d picks (ideal %.1f)\n",
               i, share, N_PICKS, i / 10.0);
        ck_assert_msg(share > i / 10.0 - 0.01 && share < i / 10.0 + 0.01,
                      "weight %d: %.4f", i, share);
    }
    selection_destroy(sel);

    /* Huge weights do not overflow: 1:1:2. */
    memset(count, 0, sizeof count);
    s[0].weight = UINT32_MAX / 2;
    s[1].weight = UINT32_MAX / 2;
    s[2].weight = UINT32_MAX - 1;
    sel = selection_create(SEL_WEIGHTED_RANDOM, 1);
    count_picks(sel, s, 3, count, ARRAY_SIZE(count));
    ck_assert(abs(count[3] - N_PICKS / 2) < N_PICKS / 50);
    ck_assert(abs(count[1] - N_PICKS / 4) < N_PICKS / 50);
    selection_destroy(sel);
}
END_TEST

/* nearest: the servers of the picker's zone, by weight, while any of them
 * is eligible; then all. */
START_TEST(test_nearest)
{
    struct selection_server s[4];
    int count[5] = { 0 };

    init_servers(s, 4);
    s[0].near = s[1].near = true;
    s[1].weight = 3;
    struct selection *sel = selection_create(SEL_NEAREST, 7);
    count_picks(sel, s, 4, count, ARRAY_SIZE(count));
    ck_assert_int_eq(count[3] + count[4], 0);
    ck_assert(abs(count[2] - 3 * N_PICKS / 4) < N_PICKS / 50);

    /* One near server left, then none: the others take over. */
    memset(count, 0, sizeof count);
    s[1].healthy = false;
    count_picks(sel, s, 4, count, ARRAY_SIZE(count));
    ck_assert_int_eq(count[1], N_PICKS);
    memset(count, 0, sizeof count);
    s[0].weight = 0;
    count_picks(sel, s, 4, count, ARRAY_SIZE(count));
    ck_assert_int_eq(count[1] + count[2], 0);
    ck_assert(abs(count[3] - N_PICKS / 2) < N_PICKS / 50);

    /* A near server that rejected the flow is skipped like any other. */
    s[0].weight = 1;
    uint32_t rejected[] = { 1 }, id;
    ck_assert_int_eq(selection_pick(sel, s, 4, NULL, rejected, 1, &id), 0);
    ck_assert(id == 3 || id == 4);
    selection_destroy(sel);
}
END_TEST

START_TEST(test_hash)
{
    enum { N = 5, N_CP = 10000 };
    struct selection_server s[N], reversed[N];
    struct selection *sel = selection_create(SEL_HASH, 1);
    struct selection *other = selection_create(SEL_HASH, 99);
    uint32_t *first = xcalloc(N_CP, sizeof *first);
    int count[N + 1] = { 0 };
    int errors = 0, differ = 0;

    init_servers(s, N);
    for (int i = 0; i < N; i++) {
        reversed[i] = s[N - 1 - i];
        reversed[i].active_conns = i * 100;     /* Irrelevant to hash. */
    }

    /* The same CP always reaches the same server, whatever the selector,
     * its seed or the order of the servers; CPs spread evenly. */
    for (uint32_t i = 0; i < N_CP; i++) {
        struct flow_key cp = nth_cp(i);
        uint32_t x, y, z;

        errors += (selection_pick(sel, s, N, &cp, NULL, 0, &x)
                   || selection_pick(sel, s, N, &cp, NULL, 0, &y)
                   || selection_pick(other, reversed, N, &cp, NULL, 0, &z)
                   || x < 1 || x > N);
        differ += x != y || x != z;
        first[i] = x;
        count[x]++;
    }
    ck_assert_int_eq(errors, 0);
    ck_assert_int_eq(differ, 0);
    for (int i = 1; i <= N; i++) {
        ck_assert_msg(abs(count[i] - N_CP / N) < N_CP / N / 10,
                      "server %d: %d", i, count[i]);
    }

    /* Only a port differs: other servers. */
    struct flow_key a = make_cp(0x0a000001, 40000, 0xc6336401, 80);
    int seen[N + 1] = { 0 };
    for (int port = 40000; port < 40100; port++) {
        uint32_t id;

        a.client_port = htons(port);
        ck_assert(!selection_pick(sel, s, N, &a, NULL, 0, &id));
        seen[id] = 1;
    }
    ck_assert_int_eq(seen[1] + seen[2] + seen[3] + seen[4] + seen[5], N);

    /* The table is built once for a given healthy set. */
    struct selection_stats stats;
    selection_get_stats(sel, &stats);
    ck_assert_uint_eq(stats.rebuilds, 1);
    ck_assert_uint_eq(stats.walks, 0);

    /* One server goes down: only its flows move (Maglev), and they come
     * back when it returns. */
    int moved = 0, orphans = 0;
    s[2].healthy = false;
    for (uint32_t i = 0; i < N_CP; i++) {
        struct flow_key cp = nth_cp(i);
        uint32_t id;

        errors += selection_pick(sel, s, N, &cp, NULL, 0, &id) || id == 3;
        moved += id != first[i];
        orphans += first[i] == 3;
    }
    ck_assert_int_eq(errors, 0);
    printf("hash: one server of %d down moves %.2f%% of flows "
           "(its own: %.2f%%)\n", N, 100.0 * moved / N_CP,
           100.0 * orphans / N_CP);
    ck_assert_int_ge(moved, orphans);
    ck_assert_int_lt(moved, orphans + N_CP / 100);
    s[2].healthy = true;
    for (uint32_t i = 0; i < N_CP; i++) {
        struct flow_key cp = nth_cp(i);
        uint32_t id;

        errors += selection_pick(sel, s, N, &cp, NULL, 0, &id)
                  || id != first[i];
    }
    ck_assert_int_eq(errors, 0);
    selection_get_stats(sel, &stats);
    ck_assert_uint_eq(stats.rebuilds, 3);

    selection_destroy(sel);
    selection_destroy(other);
    free(first);
}
END_TEST

/* A flow's retries after rejections are stable, distinct, and spread over
 * the remaining servers. */
START_TEST(test_hash_fallback)
{
    enum { N = 5, N_CP = 5000 };
    struct selection_server s[N];
    struct selection *sel = selection_create(SEL_HASH, 1);
    int spread[N + 1] = { 0 };
    int errors = 0;

    init_servers(s, N);
    for (uint32_t i = 0; i < N_CP; i++) {
        struct flow_key cp = nth_cp(i);
        uint32_t rejected[N];
        size_t n_rejected = 0;

        for (int attempt = 0; attempt < N; attempt++) {
            uint32_t id, again;

            errors += selection_pick(sel, s, N, &cp, rejected, n_rejected,
                                     &id) != 0;
            errors += selection_pick(sel, s, N, &cp, rejected, n_rejected,
                                     &again) != 0;
            errors += id != again;
            for (size_t j = 0; j < n_rejected; j++) {
                errors += id == rejected[j];
            }
            if (attempt == 1) {
                spread[id]++;
            }
            rejected[n_rejected++] = id;
        }
        uint32_t id;
        errors += selection_pick(sel, s, N, &cp, rejected, n_rejected, &id)
                  != ENOENT;
    }
    ck_assert_int_eq(errors, 0);
    for (int i = 1; i <= N; i++) {
        ck_assert_msg(abs(spread[i] - N_CP / N) < N_CP / N / 5,
                      "second choice %d: %d", i, spread[i]);
    }

    struct selection_stats stats;
    selection_get_stats(sel, &stats);
    ck_assert_uint_eq(stats.rebuilds, 1);
    ck_assert_uint_gt(stats.walks, 0);

    /* Flows turned away by server 1 spread over the others by weight:
     * overall shares 1:2:4. */
    int count[N + 1] = { 0 };
    uint32_t reject1 = 1;
    s[1].weight = 1;
    s[2].weight = 2;
    s[3].weight = 4;
    s[4].healthy = false;
    for (uint32_t i = 0; i < N_CP; i++) {
        struct flow_key cp = nth_cp(i);
        uint32_t id = 0;

        errors += selection_pick(sel, s, N, &cp, &reject1, 1, &id) != 0;
        count[id]++;
    }
    ck_assert_int_eq(errors, 0);
    ck_assert_int_eq(count[0] + count[1] + count[5], 0);
    for (int i = 2; i <= 4; i++) {
        double share = (double) count[i] / N_CP;
        double ideal = (1 << (i - 2)) / 7.0;

        printf("hash: server 1 rejects all: weight %d gets %.4f (ideal "
               "%.4f)\n", 1 << (i - 2), share, ideal);
        ck_assert(share > ideal - 0.02 && share < ideal + 0.02);
    }

    /* A server whose weight is too small to own a slot is still found
     * once the others have rejected the flow. */
    struct selection_server two[2] = {
        { .id = 8, .weight = UINT32_MAX, .healthy = true },
        { .id = 9, .weight = 1, .healthy = true },
    };
    uint32_t reject8 = 8;
    for (uint32_t i = 0; i < 100; i++) {
        struct flow_key cp = nth_cp(i);
        uint32_t id = 0;

        errors += selection_pick(sel, two, 2, &cp, NULL, 0, &id) || id != 8;
        errors += selection_pick(sel, two, 2, &cp, &reject8, 1, &id)
                  || id != 9;
    }
    ck_assert_int_eq(errors, 0);
    selection_destroy(sel);
}
END_TEST

START_TEST(test_source)
{
    enum { N = 5, N_CLIENTS = 5000 };
    struct selection_server s[N];
    struct selection *sel = selection_create(SEL_SOURCE, 3);
    int count[N + 1] = { 0 };
    int errors = 0;

    init_servers(s, N);
    for (uint32_t c = 0; c < N_CLIENTS; c++) {
        uint32_t client = 0xac100000 + c * 104729;
        uint32_t first = 0;

        /* All of a client's connections, to any port of the VIP, from any
         * port, reach one server. */
        for (int k = 0; k < 8; k++) {
            struct flow_key cp = make_cp(client, 30000 + k * 977,
                                         0xc6336401, k < 4 ? 5201 : 21);
            uint32_t id;

            errors += selection_pick(sel, s, N, &cp, NULL, 0, &id) != 0;
            if (!k) {
                first = id;
                count[id]++;
            }
            errors += id != first;
        }
    }
    ck_assert_int_eq(errors, 0);
    for (int i = 1; i <= N; i++) {
        ck_assert_msg(abs(count[i] - N_CLIENTS / N) < N_CLIENTS / N / 10,
                      "server %d: %d clients", i, count[i]);
    }

    /* IPv6 clients too, and a rejection moves the client elsewhere. */
    struct flow_key v6;
    memset(&v6, 0, sizeof v6);
    v6.client.s6_addr[0] = 0x20;
    v6.client.s6_addr[1] = 0x01;
    v6.client.s6_addr[15] = 7;
    v6.vip.s6_addr[15] = 1;
    v6.proto = IPPROTO_TCP;
    uint32_t id1, id2, id3;
    v6.client_port = htons(1000);
    ck_assert(!selection_pick(sel, s, N, &v6, NULL, 0, &id1));
    v6.client_port = htons(2000);
    ck_assert(!selection_pick(sel, s, N, &v6, NULL, 0, &id2));
    ck_assert_uint_eq(id1, id2);
    ck_assert(!selection_pick(sel, s, N, &v6, &id1, 1, &id3));
    ck_assert_uint_ne(id3, id1);
    selection_destroy(sel);
}
END_TEST

START_TEST(test_invalid)
{
    struct selection_server s[3];
    uint32_t id = 5;

    init_servers(s, 3);
    for (size_t i = 0; i < ARRAY_SIZE(all_algos); i++) {
        struct selection *sel = selection_create(all_algos[i], 1);
        bool hashed = all_algos[i] == SEL_HASH || all_algos[i] == SEL_SOURCE;
        struct selection_stats stats;

        /* Only hash and source need the CP. */
        ck_assert_int_eq(selection_pick(sel, s, 3, NULL, NULL, 0, &id),
                         hashed ? EINVAL : 0);
        selection_get_stats(sel, &stats);
        ck_assert_uint_eq(stats.invalid, hashed);
        selection_destroy(sel);
    }

    /* Duplicate ids cannot build a table. */
    struct flow_key cp = nth_cp(3);
    struct selection *sel = selection_create(SEL_HASH, 1);
    s[2].id = s[0].id;
    id = 5;
    ck_assert_int_eq(selection_pick(sel, s, 3, &cp, NULL, 0, &id), EINVAL);
    ck_assert_uint_eq(id, 5);
    /* A duplicate that is unhealthy is not in the table. */
    s[2].healthy = false;
    ck_assert_int_eq(selection_pick(sel, s, 3, &cp, NULL, 0, &id), 0);
    selection_destroy(sel);
}
END_TEST

static Suite *
selection_suite(void)
{
    Suite *s = suite_create("selection");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_algo_strings);
    tcase_add_test(tc, test_config_algos_implemented);
    tcase_add_loop_test(tc, test_skips_ineligible, 0, ARRAY_SIZE(all_algos));
    tcase_add_test(tc, test_round_robin);
    tcase_add_test(tc, test_least_connections);
    tcase_add_test(tc, test_lowest_latency);
    tcase_add_test(tc, test_random);
    tcase_add_test(tc, test_weighted_random);
    tcase_add_test(tc, test_nearest);
    tcase_add_test(tc, test_hash);
    tcase_add_test(tc, test_hash_fallback);
    tcase_add_test(tc, test_source);
    tcase_add_test(tc, test_invalid);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(selection_suite());
    int n_failed;

    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
