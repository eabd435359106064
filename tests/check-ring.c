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
 * Unit tests of ring: PFT != SFT, agreement between independently built
 * rings, consistency and size of the movement when one node joins or leaves,
 * balance, edge cases, the lookup rule against a brute-force model, node
 * neighbours, server checkers, and pinned answers (every node must agree
 * across versions).
 *
 * The movement and balance bounds were chosen from measurements with 64
 * vnodes, 200,000 keys and every N in 2..16: over 200 random ring keys the
 * moved fraction (one node added or removed) stayed within 0.63/N..1.48/N
 * and the largest node share within 1.48 times the mean; over 60 keys the
 * smallest share stayed above 0.57 times the mean.
 * A node's share is a sum of 64 arcs, so its relative spread is about
 * 1/sqrt(64) = 12.5%; the bounds below sit near 4 to 5 of those from 1.
 */
#include <config.h>
#include "ring.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "flow-key.h"
#include "openvswitch/dynamic-string.h"
#include "random.h"
#include "util.h"

#define RING_KEY UINT64_C(0x9e3779b97f4a7c15)

/* Like ck_assert_msg(), for loops of many iterations: Check's assertions
 * write a checkpoint on every success, which costs a system call. */
#define EXPECT(COND, ...)                       \
    do {                                        \
        if (!(COND)) {                          \
            ck_abort_msg(__VA_ARGS__);          \
        }                                       \
    } while (0)

/* Bounds on the fraction of PFTs that move when one node joins or leaves a
 * ring of N nodes (after the change, for a join), in units of 1/N. */
#define MOVE_MIN 0.5
#define MOVE_MAX 1.6

/* Bounds on a node's share of PFTs, relative to the mean share. */
#define SHARE_MAX 1.6
#define SHARE_MIN 0.45

static int
compare_uint32s(const void *a_, const void *b_)
{
    uint32_t a = *(const uint32_t *) a_;
    uint32_t b = *(const uint32_t *) b_;

    return a < b ? -1 : a > b;
}

static void
random_flow_key(struct flow_key *key)
{
    flow_key_init_v4(key, random_uint32(), random_uint16(), random_uint32(),
                     random_uint16(),
                     random_range(2) ? IPPROTO_TCP : IPPROTO_UDP);
}

/* Returns 'n' random flow keys (from a fixed seed). */
static struct flow_key *
random_flow_keys(size_t n, uint32_t seed)
{
    struct flow_key *keys = xmalloc(n * sizeof *keys);

    random_set_seed(seed);
    for (size_t i = 0; i < n; i++) {
        random_flow_key(&keys[i]);
    }
    return keys;
}

/* Fills 'ids' with 'n' distinct, unordered, non-zero node ids. */
static void
make_ids(uint32_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ids[i] = 0x0a000000 + (uint32_t) ((i * 7919) % 1000 + 1) * 3;
    }
}

static struct ring *
create_ok(const uint32_t *ids, size_t n, uint64_t key, unsigned int vnodes)
{
    struct ring *ring = ring_create(ids, n, key, vnodes);

    ck_assert_ptr_nonnull(ring);
    return ring;
}

/* (a) PFT and SFT are two different nodes of the ring, for any N >= 2. */
START_TEST(test_trackers_distinct)
{
    enum { N_KEYS = 100000 };
    struct flow_key *keys = random_flow_keys(N_KEYS, 1);
    uint32_t ids[16];

    for (size_t n = 2; n <= 16; n++) {
        make_ids(ids, n);
        struct ring *ring = create_ok(ids, n, RING_KEY, 0);

        for (size_t i = 0; i < N_KEYS; i++) {
            uint32_t pft, sft;

            size_t n_trackers = ring_trackers(ring, &keys[i], &pft, &sft);

            EXPECT(n_trackers == 2, "N=%zu key %zu: %zu trackers",
                   n, i, n_trackers);
            EXPECT(pft != sft, "N=%zu key %zu: PFT == SFT == %"PRIu32,
                   n, i, pft);
            EXPECT(ring_contains(ring, pft) && ring_contains(ring, sft),
                   "N=%zu key %zu: trackers %"PRIu32", %"PRIu32" not in "
                   "the ring", n, i, pft, sft);
        }
        ring_destroy(ring);
    }
    free(keys);
}
END_TEST

/* (b) Rings built separately from the same set, in different orders and with
 * duplicates, give the same answers and digests. */
START_TEST(test_agreement)
{
    enum { N_KEYS = 100000, N_IDS = 12, N_RINGS = 4 };
    struct flow_key *keys = random_flow_keys(N_KEYS, 2);
    uint32_t sorted[N_IDS], reversed[N_IDS], shuffled[3 * N_IDS];
    struct ring *rings[N_RINGS];

    make_ids(sorted, N_IDS);
    qsort(sorted, N_IDS, sizeof *sorted, compare_uint32s);
    for (size_t i = 0; i < N_IDS; i++) {
        reversed[i] = sorted[N_IDS - 1 - i];
    }
    random_set_seed(3);
    for (size_t i = 0; i < ARRAY_SIZE(shuffled); i++) {
        shuffled[i] = sorted[i % N_IDS];
    }
    for (size_t i = ARRAY_SIZE(shuffled) - 1; i > 0; i--) {
        size_t j = random_range(i + 1);
        uint32_t tmp = shuffled[i];

        shuffled[i] = shuffled[j];
        shuffled[j] = tmp;
    }

    rings[0] = create_ok(sorted, N_IDS, RING_KEY, 0);
    rings[1] = create_ok(reversed, N_IDS, RING_KEY, 0);
    rings[2] = create_ok(shuffled, ARRAY_SIZE(shuffled), RING_KEY, 0);
    rings[3] = create_ok(sorted, N_IDS, RING_KEY, RING_DEFAULT_VNODES);

    for (size_t r = 1; r < N_RINGS; r++) {
        ck_assert(ring_equals(rings[0], rings[r]));
        ck_assert_uint_eq(ring_digest(rings[0]), ring_digest(rings[r]));
        ck_assert_uint_eq(ring_n_nodes(rings[r]), N_IDS);
        ck_assert(!memcmp(ring_nodes(rings[r]), sorted, sizeof sorted));
    }
    for (size_t i = 0; i < N_KEYS; i++) {
        uint32_t pft0, sft0, egress0 = ring_egress(rings[0], &keys[i]);

        ring_trackers(rings[0], &keys[i], &pft0, &sft0);
        for (size_t r = 1; r < N_RINGS; r++) {
            uint32_t pft, sft;

            ring_trackers(rings[r], &keys[i], &pft, &sft);
            EXPECT(pft == pft0 && sft == sft0
                   && ring_egress(rings[r], &keys[i]) == egress0,
                   "ring %zu disagrees with ring 0 on key %zu", r, i);
        }
    }

    /* Another set, key or vnodes gives another ring and digest. */
    uint32_t other[N_IDS];
    memcpy(other, sorted, sizeof other);
    other[5]++;
    struct ring *diff[3] = {
        create_ok(other, N_IDS, RING_KEY, 0),
        create_ok(sorted, N_IDS, RING_KEY + 1, 0),
        create_ok(sorted, N_IDS, RING_KEY, 65),
    };
    for (size_t d = 0; d < ARRAY_SIZE(diff); d++) {
        ck_assert(!ring_equals(rings[0], diff[d]));
        ck_assert_uint_ne(ring_digest(rings[0]), ring_digest(diff[d]));
        ring_destroy(diff[d]);
    }

    for (size_t r = 0; r < N_RINGS; r++) {
        ring_destroy(rings[r]);
    }
    free(keys);
}
END_TEST

static bool
pair_has(uint32_t a, uint32_t b, uint32_t x)
{
    return x == a || x == b;
}

/* Compares the trackers of 'hashes' on ring 'before' and ring 'after', which
 * differs by the one node 'changed' (added if 'added', else removed).
 * Asserts consistency: no PFT moves except to the added node or away from
 * the removed one, and the tracker pair changes only by 'changed' entering
 * or leaving it.  Returns the fraction of PFTs that moved. */
static double
check_move(const struct ring *before, const struct ring *after,
           const uint64_t *hashes, size_t n, uint32_t changed, bool added)
{
    size_t moved = 0;

    for (size_t i = 0; i < n; i++) {
        uint32_t old[2], new[2];

        EXPECT(ring_lookup_n(before, hashes[i], old, 2) == 2
               && ring_lookup_n(after, hashes[i], new, 2) == 2,
               "fewer than 2 trackers");
        if (old[0] != new[0]) {
            moved++;
            EXPECT(added ? new[0] == changed : old[0] == changed,
                   "PFT moved from %"PRIu32" to %"PRIu32" though neither "
                   "is node %"PRIu32, old[0], new[0], changed);
        }
        for (int j = 0; j < 2; j++) {
            if (added) {
                EXPECT(new[j] == changed || pair_has(old[0], old[1], new[j]),
                       "tracker %"PRIu32" appeared though only %"PRIu32
                       " joined", new[j], changed);
            } else {
                EXPECT(old[j] == changed || pair_has(new[0], new[1], old[j]),
                       "tracker %"PRIu32" vanished though only %"PRIu32
                       " left", old[j], changed);
            }
        }
    }
    return (double) moved / n;
}

/* (c) One node joining or leaving a ring of N moves about 1/N of the PFTs,
 * and only those to or from that node. */
START_TEST(test_movement)
{
    enum { N_KEYS = 200000 };
    static const size_t sizes[] = { 4, 8, 16 };
    struct flow_key *keys = random_flow_keys(N_KEYS, 4);
    uint64_t *hashes = xmalloc(N_KEYS * sizeof *hashes);
    uint32_t ids[17];

    for (size_t i = 0; i < N_KEYS; i++) {
        hashes[i] = flow_key_hash64(&keys[i], RING_KEY);
    }
    for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
        size_t n = sizes[s];

        make_ids(ids, n + 1);
        struct ring *ring = create_ok(ids, n, RING_KEY, 0);
        struct ring *plus = create_ok(ids, n + 1, RING_KEY, 0);
        /* Remove a node from the middle of the id order. */
        uint32_t removed = ring_nodes(ring)[n / 2];
        uint32_t rest[16];
        size_t n_rest = 0;
        for (size_t i = 0; i < n; i++) {
            if (ids[i] != removed) {
                rest[n_rest++] = ids[i];
            }
        }
        struct ring *minus = create_ok(rest, n_rest, RING_KEY, 0);

        double add = check_move(ring, plus, hashes, N_KEYS, ids[n], true);
        double rm = check_move(ring, minus, hashes, N_KEYS, removed, false);
        printf("ring: N=%zu: adding a node moved %.4f of PFTs (1/%zu = "
               "%.4f), removing one moved %.4f (1/%zu = %.4f)\n",
               n, add, n + 1, 1.0 / (n + 1), rm, n, 1.0 / n);
        ck_assert_msg(add >= MOVE_MIN / (n + 1) && add <= MOVE_MAX / (n + 1),
                      "N=%zu: join moved %f", n, add);
        ck_assert_msg(rm >= MOVE_MIN / n && rm <= MOVE_MAX / n,
                      "N=%zu: leave moved %f", n, rm);

        ring_destroy(ring);
        ring_destroy(plus);
        ring_destroy(minus);
    }
    free(hashes);
    free(keys);
}
END_TEST

/* (d) With 64 vnodes no node gets much more or much less than its share. */
START_TEST(test_balance)
{
    enum { N_KEYS = 200000 };
    struct flow_key *keys = random_flow_keys(N_KEYS, 5);
    uint64_t *hashes = xmalloc(N_KEYS * sizeof *hashes);
    double worst_max = 0, worst_min = 2;
    uint32_t ids[16];

    for (size_t i = 0; i < N_KEYS; i++) {
        hashes[i] = flow_key_hash64(&keys[i], RING_KEY);
    }
    for (size_t n = 2; n <= 16; n++) {
        size_t counts[16] = { 0 };

        make_ids(ids, n);
        struct ring *ring = create_ok(ids, n, RING_KEY, 0);
        const uint32_t *nodes = ring_nodes(ring);
        for (size_t i = 0; i < N_KEYS; i++) {
            uint32_t owner = ring_lookup(ring, hashes[i]);
            const uint32_t *p = bsearch(&owner, nodes, n, sizeof *nodes,
                                        compare_uint32s);

            EXPECT(p, "owner %"PRIu32" is not a node", owner);
            counts[p - nodes]++;
        }

        size_t max = 0, min = SIZE_MAX;
        for (size_t j = 0; j < n; j++) {
            max = MAX(max, counts[j]);
            min = MIN(min, counts[j]);
        }
        double mean = (double) N_KEYS / n;
        printf("ring: N=%zu: max/mean share %.3f, min/mean %.3f\n",
               n, max / mean, min / mean);
        ck_assert_msg(max / mean < SHARE_MAX, "N=%zu: max/mean %f",
                      n, max / mean);
        ck_assert_msg(min / mean > SHARE_MIN, "N=%zu: min/mean %f",
                      n, min / mean);
        worst_max = MAX(worst_max, max / mean);
        worst_min = MIN(worst_min, min / mean);
        ring_destroy(ring);
    }
    printf("ring: N=2..16: worst max/mean %.3f (bound %.2f), worst min/mean "
           "%.3f (bound %.2f)\n", worst_max, SHARE_MAX, worst_min, SHARE_MIN);
    free(hashes);
    free(keys);
}
END_TEST

/* (e) Empty and single-node rings, duplicates, invalid arguments. */
START_TEST(test_edge_cases)
{
    static const uint32_t with_zero[] = { 1, 0, 2 };
    static const uint32_t dups[] = { 9, 5, 9, 5, 5 };
    static const uint32_t two[] = { 5, 9 };
    static const uint32_t one[] = { 42 };
    uint32_t out[4], pft, sft, a, b;
    struct flow_key key;
    struct ring *ring;

    random_set_seed(6);
    random_flow_key(&key);

    /* Node id 0 and oversized vnodes are rejected. */
    ck_assert_ptr_null(ring_create(with_zero, ARRAY_SIZE(with_zero),
                                   RING_KEY, 0));
    ck_assert_ptr_null(ring_create(two, 2, RING_KEY, RING_MAX_VNODES + 1));
    ring = create_ok(two, 2, RING_KEY, RING_MAX_VNODES);
    ring_destroy(ring);
    ring_destroy(NULL);

    /* Empty ring. */
    ring = create_ok(NULL, 0, RING_KEY, 0);
    ck_assert_uint_eq(ring_n_nodes(ring), 0);
    ck_assert_uint_eq(ring_lookup_n(ring, 12345, out, 4), 0);
    ck_assert_uint_eq(ring_lookup(ring, 12345), 0);
    pft = sft = 7;
    ck_assert_uint_eq(ring_trackers(ring, &key, &pft, &sft), 0);
    ck_assert_uint_eq(pft, 0);
    ck_assert_uint_eq(sft, 0);
    ck_assert_uint_eq(ring_egress(ring, &key), 0);
    ck_assert_uint_eq(ring_server_checkers(ring, 77, &a, &b), 0);
    ck_assert_uint_eq(a, 0);
    ck_assert_uint_eq(b, 0);
    ck_assert_uint_eq(ring_neighbours(ring, 3, &a, &b), 0);
    ck_assert(!ring_contains(ring, 0));
    ck_assert(!ring_contains(ring, 3));
    ring_destroy(ring);

    /* Single node: PFT only, SFT 0. */
    ring = create_ok(one, 1, RING_KEY, 0);
    ck_assert_uint_eq(ring_vnodes(ring), RING_DEFAULT_VNODES);
    ck_assert_uint_eq(ring_trackers(ring, &key, &pft, &sft), 1);
    ck_assert_uint_eq(pft, 42);
    ck_assert_uint_eq(sft, 0);
    ck_assert_uint_eq(ring_egress(ring, &key), 42);
    ck_assert_uint_eq(ring_lookup_n(ring, 0, out, 4), 1);
    ck_assert_uint_eq(out[0], 42);
    ck_assert_uint_eq(ring_server_checkers(ring, 77, &a, &b), 1);
    ck_assert_uint_eq(a, 42);
    ck_assert_uint_eq(b, 0);
    ring_destroy(ring);

    /* Duplicates count once. */
    ring = create_ok(dups, ARRAY_SIZE(dups), RING_KEY, 0);
    struct ring *ring2 = create_ok(two, 2, RING_KEY, 0);
    ck_assert_uint_eq(ring_n_nodes(ring), 2);
    ck_assert(ring_equals(ring, ring2));
    ck_assert(ring_contains(ring, 5) && ring_contains(ring, 9));
    ck_assert(!ring_contains(ring, 7));
    ck_assert_uint_eq(ring_lookup_n(ring, 0, out, 4), 2);
    ck_assert(out[0] != out[1]);
    ring_destroy(ring2);

    /* Positions wrap around: above the last point is the first point's. */
    ck_assert_uint_eq(ring_lookup(ring, UINT64_MAX), ring_lookup(ring, 0));
    ring_destroy(ring);
}
END_TEST

static uint64_t
be32_pair_hash(uint32_t a, uint32_t b, uint64_t key, uint64_t k1)
{
    uint8_t buf[8] = { a >> 24, a >> 16, a >> 8, a, b >> 24, b >> 16, b >> 8,
                       b };

    return flow_key_siphash(buf, sizeof buf, key, k1);
}

struct model_point {
    uint64_t position;
    uint32_t owner;
};

static int
compare_model_points(const void *a_, const void *b_)
{
    const struct model_point *a = a_, *b = b_;

    if (a->position != b->position) {
        return a->position < b->position ? -1 : 1;
    }
    return a->owner < b->owner ? -1 : a->owner > b->owner;
}

/* The lookup rule of ring.h, checked against a brute-force model built from
 * the documented placement: point v of node x is at SipHash-2-4 of (x, v) as
 * big-endian 32-bit numbers, keyed (ring key, "ovslb-pt"), and a position
 * belongs to the first point at or after it, wrapping around.  Other
 * implementations (simulator, tools) must match this. */
START_TEST(test_lookup_model)
{
    enum { N = 5, VNODES = 4, N_PTS = N * VNODES };
    const uint64_t point_k1 = UINT64_C(0x6f76736c622d7074);
    struct model_point pts[N_PTS];
    uint32_t ids[N];

    make_ids(ids, N);
    for (size_t i = 0; i < N; i++) {
        for (uint32_t v = 0; v < VNODES; v++) {
            pts[i * VNODES + v].position = be32_pair_hash(ids[i], v, RING_KEY,
                                                          point_k1);
            pts[i * VNODES + v].owner = ids[i];
        }
    }
    qsort(pts, N_PTS, sizeof *pts, compare_model_points);

    struct ring *ring = create_ok(ids, N, RING_KEY, VNODES);
    random_set_seed(7);
    for (size_t t = 0; t < 20000 + 3 * N_PTS; t++) {
        uint64_t hash;

        if (t < 3 * N_PTS) {
            /* Exactly at, just after and just before each point. */
            hash = pts[t / 3].position + (int) (t % 3) - 1;
        } else {
            hash = random_uint64();
        }

        size_t first = 0;
        while (first < N_PTS && pts[first].position < hash) {
            first++;
        }
        uint32_t expected[3];
        size_t n_expected = 0;
        for (size_t k = 0; k < N_PTS && n_expected < 3; k++) {
            uint32_t owner = pts[(first + k) % N_PTS].owner;
            bool seen = false;

            for (size_t j = 0; j < n_expected; j++) {
                seen = seen || expected[j] == owner;
            }
            if (!seen) {
                expected[n_expected++] = owner;
            }
        }

        uint32_t out[3];
        EXPECT(ring_lookup_n(ring, hash, out, 3) == 3
               && !memcmp(out, expected, sizeof out),
               "position %"PRIx64": got %"PRIu32",%"PRIu32",%"PRIu32
               " expected %"PRIu32",%"PRIu32",%"PRIu32, hash,
               out[0], out[1], out[2], expected[0], expected[1], expected[2]);
    }

    /* Asking for more than N gives every node once. */
    uint32_t all[N + 3];
    ck_assert_uint_eq(ring_lookup_n(ring, 0, all, ARRAY_SIZE(all)), N);
    qsort(all, N, sizeof *all, compare_uint32s);
    ck_assert(!memcmp(all, ring_nodes(ring), sizeof ids));
    ring_destroy(ring);
}
END_TEST

START_TEST(test_neighbours)
{
    static const uint32_t four[] = { 30, 10, 40, 20 };
    static const struct {
        uint32_t node, prev, next;
    } cases[] = {
        { 10, 40, 20 }, { 20, 10, 30 }, { 30, 20, 40 }, { 40, 30, 10 },
        /* Not in the ring: where it would sit. */
        { 5, 40, 10 }, { 25, 20, 30 }, { 50, 40, 10 },
    };
    uint32_t prev, next;
    struct ring *ring = create_ok(four, ARRAY_SIZE(four), RING_KEY, 0);

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        ck_assert_uint_eq(ring_neighbours(ring, cases[i].node, &prev, &next),
                          2);
        ck_assert_uint_eq(prev, cases[i].prev);
        ck_assert_uint_eq(next, cases[i].next);
    }
    ring_destroy(ring);

    /* Two nodes: each is the other's only neighbour. */
    ring = create_ok(four, 2, RING_KEY, 0);
    ck_assert_uint_eq(ring_neighbours(ring, 30, &prev, &next), 1);
    ck_assert_uint_eq(prev, 10);
    ck_assert_uint_eq(next, 10);
    ck_assert_uint_eq(ring_neighbours(ring, 20, &prev, &next), 2);
    ck_assert_uint_eq(prev, 10);
    ck_assert_uint_eq(next, 30);
    ring_destroy(ring);

    /* One node: no neighbour of its own, but a stranger's. */
    ring = create_ok(four, 1, RING_KEY, 0);
    ck_assert_uint_eq(ring_neighbours(ring, 30, &prev, &next), 0);
    ck_assert_uint_eq(prev, 0);
    ck_assert_uint_eq(next, 0);
    ck_assert_uint_eq(ring_neighbours(ring, 99, &prev, &next), 1);
    ck_assert_uint_eq(prev, 30);
    ck_assert_uint_eq(next, 30);
    ring_destroy(ring);
}
END_TEST

/* Each server node has two distinct checkers; the load is spread; and
 * removing an LB node changes only the servers it checked. */
START_TEST(test_server_checkers)
{
    enum { N = 8, N_SERVERS = 2000 };
    uint32_t ids[N], first_counts[N] = { 0 };
    struct ring *ring, *minus;

    make_ids(ids, N);
    ring = create_ok(ids, N, RING_KEY, 0);
    minus = create_ok(ids + 1, N - 1, RING_KEY, 0);
    for (uint32_t server = 1; server <= N_SERVERS; server++) {
        uint32_t a, b, a2, b2;

        EXPECT(ring_server_checkers(ring, server, &a, &b) == 2
               && a != b && ring_contains(ring, a) && ring_contains(ring, b),
               "server %"PRIu32": bad checkers", server);
        for (size_t i = 0; i < N; i++) {
            first_counts[i] += ids[i] == a;
        }

        ring_server_checkers(minus, server, &a2, &b2);
        EXPECT(a == ids[0] || b == ids[0] || (a2 == a && b2 == b),
               "server %"PRIu32": checkers changed though neither left",
               server);
    }
    for (size_t i = 0; i < N; i++) {
        ck_assert_uint_gt(first_counts[i], N_SERVERS / N / 2);
    }
    ring_destroy(ring);
    ring_destroy(minus);
}
END_TEST

/* The answers every node computes must not change between versions: these
 * are pinned. */
START_TEST(test_pinned)
{
    static const uint32_t ids[] = { 1, 2, 3, 4, 5 };
    struct ring *ring = create_ok(ids, ARRAY_SIZE(ids),
                                  UINT64_C(0x0123456789abcdef), 0);
    struct ds s = DS_EMPTY_INITIALIZER;
    struct flow_key key;
    uint32_t pft, sft, a, b;

    ck_assert_uint_eq(ring_digest(ring), UINT64_C(0x215e81b965b830f0));
    ring_format(ring, &s);
    ck_assert_str_eq(ds_cstr(&s), "5 nodes, 64 vnodes, digest "
                     "215e81b965b830f0: 1 2 3 4 5");
    ds_destroy(&s);

    char *error = flow_key_parse(&key,
                                 "198.51.100.2:40000>203.0.113.10:80/tcp");
    ck_assert_ptr_null(error);
    ring_trackers(ring, &key, &pft, &sft);
    ck_assert_uint_eq(pft, 1);
    ck_assert_uint_eq(sft, 5);
    ck_assert_uint_eq(ring_egress(ring, &key), 2);
    ring_server_checkers(ring, 1000, &a, &b);
    ck_assert_uint_eq(a, 3);
    ck_assert_uint_eq(b, 1);
    ck_assert_uint_eq(ring_lookup(ring, 0), 1);
    ck_assert_uint_eq(ring_lookup(ring, UINT64_C(1) << 63), 5);

    /* A few more flows, so that the pins cover every node. */
    static const struct {
        uint16_t port;
        uint32_t pft, sft, egress;
    } pins[] = {
        { 40001, 4, 1, 1 }, { 40002, 4, 5, 3 }, { 40003, 2, 1, 3 },
        { 40004, 3, 5, 2 }, { 40005, 5, 2, 1 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(pins); i++) {
        key.client_port = htons(pins[i].port);
        ring_trackers(ring, &key, &pft, &sft);
        ck_assert_uint_eq(pft, pins[i].pft);
        ck_assert_uint_eq(sft, pins[i].sft);
        ck_assert_uint_eq(ring_egress(ring, &key), pins[i].egress);
    }
    ring_destroy(ring);
}
END_TEST

static Suite *
ring_suite(void)
{
    Suite *s = suite_create("ring");
    TCase *tc = tcase_create("ring");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_trackers_distinct);
    tcase_add_test(tc, test_agreement);
    tcase_add_test(tc, test_movement);
    tcase_add_test(tc, test_balance);
    tcase_add_test(tc, test_edge_cases);
    tcase_add_test(tc, test_lookup_model);
    tcase_add_test(tc, test_neighbours);
    tcase_add_test(tc, test_server_checkers);
    tcase_add_test(tc, test_pinned);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(ring_suite());
    int n_failed;

    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
