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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "maglev.h"
#include "util.h"

#define N_FLOWS 100000

/* Deterministic pseudo-random numbers for the tests (splitmix64). */
static uint64_t
test_random(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Fills 'b' with 'n' backends of weight 1 and distinct pseudo-random ids. */
static void
random_backends(struct maglev_backend *b, size_t n, uint64_t *state)
{
    for (size_t i = 0; i < n; i++) {
        bool dup;

        do {
            b[i].id = test_random(state);
            dup = false;
            for (size_t j = 0; j < i; j++) {
                dup |= b[j].id == b[i].id;
            }
        } while (dup);
        b[i].weight = 1;
    }
}

/* Returns the number of slots of 'm' owned by 'id'. */
static uint32_t
count_slots(const struct maglev *m, uint32_t id)
{
    uint32_t n = 0;

    for (uint32_t s = 0; s < maglev_get_size(m); s++) {
        uint32_t owner;

        n += maglev_get_slot(m, s, &owner) && owner == id;
    }
    return n;
}

static bool
same_table(const struct maglev *a, const struct maglev *b)
{
    if (maglev_get_size(a) != maglev_get_size(b)) {
        return false;
    }
    for (uint32_t s = 0; s < maglev_get_size(a); s++) {
        uint32_t x, y;

        if (!maglev_get_slot(a, s, &x) || !maglev_get_slot(b, s, &y)
            || x != y) {
            return false;
        }
    }
    return true;
}

START_TEST(test_prime)
{
    static const uint32_t primes[] = { 2, 3, 13, 251, 65537, 16777213 };
    static const uint32_t composites[] = { 0, 1, 4, 9, 65535, 65536,
                                           4294967295u, 16777215 };

    for (size_t i = 0; i < ARRAY_SIZE(primes); i++) {
        ck_assert_msg(maglev_is_prime(primes[i]), "%"PRIu32, primes[i]);
    }
    for (size_t i = 0; i < ARRAY_SIZE(composites); i++) {
        ck_assert_msg(!maglev_is_prime(composites[i]), "%"PRIu32,
                      composites[i]);
    }
}
END_TEST

START_TEST(test_rejects_bad_input)
{
    static const uint32_t bad_sizes[] = {
        0, 1, 4, 65535, 65536,
        16777259,               /* Prime, but above MAGLEV_MAX_SIZE. */
        4294967291u,            /* Largest 32-bit prime. */
    };
    struct maglev_backend b[8];

    for (size_t i = 0; i < ARRAY_SIZE(b); i++) {
        b[i].id = i + 1;
        b[i].weight = 1;
    }
    for (size_t i = 0; i < ARRAY_SIZE(bad_sizes); i++) {
        ck_assert_msg(!maglev_create(b, 2, bad_sizes[i]), "size %"PRIu32,
                      bad_sizes[i]);
    }

    /* More backends than slots. */
    ck_assert(!maglev_create(b, 8, 7));

    /* Duplicate ids, even with different weights. */
    b[5].id = b[2].id;
    b[5].weight = 3;
    ck_assert(!maglev_create(b, 8, 13));

    /* The smallest valid table. */
    struct maglev *m = maglev_create(b, 2, 2);
    ck_assert(m);
    ck_assert_uint_eq(count_slots(m, 1) + count_slots(m, 2), 2);
    ck_assert_uint_eq(count_slots(m, 1), 1);
    maglev_destroy(m);
    maglev_destroy(NULL);
}
END_TEST

START_TEST(test_empty)
{
    struct maglev_backend b[3] = { { 1, 0 }, { 2, 0 }, { 3, 0 } };
    struct maglev *m;
    uint32_t id = 42;

    m = maglev_create(NULL, 0, MAGLEV_DEFAULT_SIZE);
    ck_assert(m);
    ck_assert_uint_eq(maglev_n_backends(m), 0);
    ck_assert(!maglev_lookup(m, 12345, &id));
    ck_assert(!maglev_get_slot(m, 0, &id));
    ck_assert_uint_eq(id, 42);
    maglev_destroy(m);

    /* All drained. */
    m = maglev_create(b, 3, 13);
    ck_assert(m);
    ck_assert_uint_eq(maglev_n_backends(m), 0);
    ck_assert(!maglev_lookup(m, 0, &id));
    maglev_destroy(m);
}
END_TEST

START_TEST(test_lookup_is_slot_of_hash)
{
    struct maglev_backend b[5];
    uint64_t state = 1;

    random_backends(b, ARRAY_SIZE(b), &state);
    struct maglev *m = maglev_create(b, ARRAY_SIZE(b), 251);
    ck_assert(m);
    ck_assert_uint_eq(maglev_get_size(m), 251);
    ck_assert_uint_eq(maglev_n_backends(m), 5);
    int mismatches = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t h = test_random(&state);
        uint32_t x = 0, y = 1;

        mismatches += !maglev_lookup(m, h, &x)
                      || !maglev_get_slot(m, h % 251, &y) || x != y;
    }
    ck_assert_int_eq(mismatches, 0);
    uint32_t id;
    ck_assert(!maglev_get_slot(m, 251, &id));
    ck_assert(!maglev_get_slot(m, UINT32_MAX, &id));
    maglev_destroy(m);
}
END_TEST

START_TEST(test_deterministic_and_order_independent)
{
    struct maglev_backend b[10], shuffled[10];
    uint64_t state = 7;

    random_backends(b, ARRAY_SIZE(b), &state);
    b[3].weight = 5;
    b[8].weight = 2;
    memcpy(shuffled, b, sizeof b);
    for (size_t i = ARRAY_SIZE(shuffled) - 1; i > 0; i--) {
        size_t j = test_random(&state) % (i + 1);
        struct maglev_backend tmp = shuffled[i];

        shuffled[i] = shuffled[j];
        shuffled[j] = tmp;
    }
    ck_assert(memcmp(shuffled, b, sizeof b));

    struct maglev *m1 = maglev_create(b, ARRAY_SIZE(b), MAGLEV_DEFAULT_SIZE);
    struct maglev *m2 = maglev_create(b, ARRAY_SIZE(b), MAGLEV_DEFAULT_SIZE);
    struct maglev *m3 = maglev_create(shuffled, ARRAY_SIZE(shuffled),
                                      MAGLEV_DEFAULT_SIZE);
    ck_assert(m1 && m2 && m3);
    ck_assert(same_table(m1, m2));
    ck_assert(same_table(m1, m3));

    /* A different weight gives a different table (the check above can
     * fail). */
    shuffled[0].weight++;
    struct maglev *m4 = maglev_create(shuffled, ARRAY_SIZE(shuffled),
                                      MAGLEV_DEFAULT_SIZE);
    ck_assert(!same_table(m1, m4));

    maglev_destroy(m1);
    maglev_destroy(m2);
    maglev_destroy(m3);
    maglev_destroy(m4);
}
END_TEST

/* Pins the permutation hashes and a small table: nodes running different
 * builds must agree on every table (see maglev.h), so a change here is a
 * protocol change. */
START_TEST(test_golden)
{
    static const uint32_t expected[13] = {
        3, 3, 2, 3, 1, 1, 2, 3, 1, 1, 2, 1, 2,
    };
    struct maglev_backend b[3] = { { 3, 1 }, { 1, 1 }, { 2, 1 } };
    uint32_t offset, skip;

    maglev_permutation(1, MAGLEV_DEFAULT_SIZE, &offset, &skip);
    ck_assert_uint_eq(offset, 64945);
    ck_assert_uint_eq(skip, 3353);
    maglev_permutation(0, MAGLEV_DEFAULT_SIZE, &offset, &skip);
    ck_assert_uint_eq(offset, 31754);
    ck_assert_uint_eq(skip, 17191);

    struct maglev *m = maglev_create(b, 3, 13);
    ck_assert(m);
    for (uint32_t s = 0; s < 13; s++) {
        uint32_t id;

        ck_assert(maglev_get_slot(m, s, &id));
        ck_assert_msg(id == expected[s], "slot %"PRIu32": %"PRIu32, s, id);
    }
    maglev_destroy(m);
}
END_TEST

/* The population loop of the Maglev paper (Pseudocode 1), written with the
 * explicit permutation[i][next[i]] and used as a reference for equal
 * weights. */
static void
paper_populate(const struct maglev_backend *sorted, size_t n, uint32_t size,
               uint32_t *entry)
{
    uint32_t *offset = xcalloc(n, sizeof *offset);
    uint32_t *skip = xcalloc(n, sizeof *skip);
    uint64_t *next = xcalloc(n, sizeof *next);
    bool *used = xcalloc(size, sizeof *used);
    uint32_t filled = 0;

    for (size_t i = 0; i < n; i++) {
        maglev_permutation(sorted[i].id, size, &offset[i], &skip[i]);
    }
    for (;;) {
        for (size_t i = 0; i < n; i++) {
            uint32_t c = (offset[i] + next[i] * skip[i]) % size;

            while (used[c]) {
                next[i]++;
                c = (offset[i] + next[i] * skip[i]) % size;
            }
            entry[c] = sorted[i].id;
            used[c] = true;
            next[i]++;
            if (++filled == size) {
                goto done;
            }
        }
    }
done:
    free(offset);
    free(skip);
    free(next);
    free(used);
}

static int
compare_ids(const void *a_, const void *b_)
{
    const struct maglev_backend *a = a_, *b = b_;

    return a->id < b->id ? -1 : a->id > b->id;
}

START_TEST(test_matches_paper)
{
    static const size_t sizes[] = { 13, 251, MAGLEV_DEFAULT_SIZE };
    struct maglev_backend b[7];
    uint64_t state = 99;

    random_backends(b, ARRAY_SIZE(b), &state);
    qsort(b, ARRAY_SIZE(b), sizeof *b, compare_ids);
    for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
        uint32_t *entry = xcalloc(sizes[k], sizeof *entry);
        struct maglev *m = maglev_create(b, ARRAY_SIZE(b), sizes[k]);

        ck_assert(m);
        paper_populate(b, ARRAY_SIZE(b), sizes[k], entry);
        uint32_t mismatches = 0;
        for (uint32_t s = 0; s < sizes[k]; s++) {
            uint32_t id;

            mismatches += !maglev_get_slot(m, s, &id) || id != entry[s];
        }
        ck_assert_msg(!mismatches, "size %zu: %"PRIu32" slots differ",
                      sizes[k], mismatches);
        maglev_destroy(m);
        free(entry);
    }
}
END_TEST

START_TEST(test_balance)
{
    static const size_t counts[] = { 2, 3, 10, 64, 100 };
    uint64_t state = 3;

    for (size_t k = 0; k < ARRAY_SIZE(counts); k++) {
        size_t n = counts[k];
        struct maglev_backend *b = xcalloc(n, sizeof *b);
        uint32_t min = UINT32_MAX, max = 0;

        random_backends(b, n, &state);
        struct maglev *m = maglev_create(b, n, MAGLEV_DEFAULT_SIZE);
        ck_assert(m);
        for (size_t i = 0; i < n; i++) {
            uint32_t c = count_slots(m, b[i].id);

            min = MIN(min, c);
            max = MAX(max, c);
        }
        printf("maglev balance: N=%zu M=%d: slots per backend %"PRIu32
               "..%"PRIu32" (ideal %.1f)\n",
               n, MAGLEV_DEFAULT_SIZE, min, max,
               (double) MAGLEV_DEFAULT_SIZE / n);
        /* With equal weights every backend takes one slot per round, so
         * the shares differ by one slot at most. */
        ck_assert_uint_eq(min, MAGLEV_DEFAULT_SIZE / n);
        ck_assert_uint_le(max, min + 1);
        maglev_destroy(m);
        free(b);
    }
}
END_TEST

START_TEST(test_weights)
{
    struct maglev_backend b[5] = {
        { 10, 1 }, { 20, 2 }, { 30, 3 }, { 40, 4 }, { 50, 0 },
    };
    struct maglev *m = maglev_create(b, ARRAY_SIZE(b), MAGLEV_DEFAULT_SIZE);
    uint64_t state = 5;
    uint32_t hits[5] = { 0 };

    ck_assert(m);
    ck_assert_uint_eq(maglev_n_backends(m), 4);
    ck_assert_uint_eq(count_slots(m, 50), 0);
    for (size_t i = 0; i < 4; i++) {
        double ideal = MAGLEV_DEFAULT_SIZE * b[i].weight / 10.0;
        uint32_t c = count_slots(m, b[i].id);

        printf("maglev weights: weight %"PRIu32": %"PRIu32" slots "
               "(ideal %.1f)\n", b[i].weight, c, ideal);
        ck_assert(c >= ideal - 2 && c <= ideal + 2);
    }

    int strays = 0;
    for (int i = 0; i < N_FLOWS; i++) {
        uint32_t id = 0;

        if (maglev_lookup(m, test_random(&state), &id)
            && id % 10 == 0 && id >= 10 && id <= 50) {
            hits[id / 10 - 1]++;
        } else {
            strays++;
        }
    }
    ck_assert_int_eq(strays, 0);
    ck_assert_uint_eq(hits[4], 0);
    for (size_t i = 0; i < 4; i++) {
        double share = (double) hits[i] / N_FLOWS;

        ck_assert(share > b[i].weight / 10.0 - 0.01);
        ck_assert(share < b[i].weight / 10.0 + 0.01);
    }
    maglev_destroy(m);

    /* Large weights do not overflow: 3:1. */
    struct maglev_backend big[2] = {
        { 1, UINT32_MAX }, { 2, UINT32_MAX / 3 },
    };
    m = maglev_create(big, 2, MAGLEV_DEFAULT_SIZE);
    ck_assert(m);
    ck_assert(abs((int) count_slots(m, 2) - MAGLEV_DEFAULT_SIZE / 4) <= 2);
    maglev_destroy(m);
}
END_TEST

/* Looks up 'N_FLOWS' pseudo-random hashes (the same ones for every call
 * with the same 'seed') in 'm', into 'out'. */
static void
lookup_flows(const struct maglev *m, uint64_t seed, uint32_t *out)
{
    int misses = 0;

    for (int i = 0; i < N_FLOWS; i++) {
        misses += !maglev_lookup(m, test_random(&seed), &out[i]);
    }
    ck_assert_int_eq(misses, 0);
}

START_TEST(test_disruption_remove)
{
    enum { N = 10 };
    struct maglev_backend b[N];
    uint32_t *before = xcalloc(N_FLOWS, sizeof *before);
    uint32_t *after = xcalloc(N_FLOWS, sizeof *after);
    uint64_t state = 11;
    double worst = 0;

    random_backends(b, N, &state);
    struct maglev *m = maglev_create(b, N, MAGLEV_DEFAULT_SIZE);
    ck_assert(m);
    lookup_flows(m, 1234, before);

    /* Remove each backend in turn. */
    for (size_t r = 0; r < N; r++) {
        struct maglev_backend rest[N - 1];
        int moved = 0, orphans = 0, extra = 0, stuck = 0;

        for (size_t i = 0, j = 0; i < N; i++) {
            if (i != r) {
                rest[j++] = b[i];
            }
        }
        struct maglev *m2 = maglev_create(rest, N - 1, MAGLEV_DEFAULT_SIZE);
        ck_assert(m2);
        lookup_flows(m2, 1234, after);
        for (int i = 0; i < N_FLOWS; i++) {
            if (before[i] == b[r].id) {
                orphans++;
                stuck += after[i] == b[r].id;
            } else if (after[i] != before[i]) {
                extra++;
            }
            moved += after[i] != before[i];
        }
        double fraction = (double) moved / N_FLOWS;
        worst = MAX(worst, fraction);
        /* Every flow of the removed backend moved, plus a few others. */
        ck_assert_int_eq(stuck, 0);
        ck_assert_int_eq(moved, orphans + extra);
        ck_assert_int_gt(orphans, 0);
        ck_assert_msg(fraction < 1.5 / N, "removing backend %zu moved %.4f",
                      r, fraction);
        maglev_destroy(m2);
    }
    printf("maglev disruption: removing 1 of %d backends moves at most "
           "%.2f%% of %d flows (minimum %.2f%%, bound %.2f%%)\n",
           N, worst * 100, N_FLOWS, 100.0 / N, 150.0 / N);
    maglev_destroy(m);
    free(before);
    free(after);
}
END_TEST

START_TEST(test_disruption_add)
{
    enum { N = 10 };
    struct maglev_backend b[N + 1];
    uint32_t *before = xcalloc(N_FLOWS, sizeof *before);
    uint32_t *after = xcalloc(N_FLOWS, sizeof *after);
    uint64_t state = 12;
    int moved = 0, to_new = 0;

    random_backends(b, N + 1, &state);
    struct maglev *m = maglev_create(b, N, MAGLEV_DEFAULT_SIZE);
    struct maglev *m2 = maglev_create(b, N + 1, MAGLEV_DEFAULT_SIZE);
    ck_assert(m && m2);
    lookup_flows(m, 99, before);
    lookup_flows(m2, 99, after);
    for (int i = 0; i < N_FLOWS; i++) {
        moved += after[i] != before[i];
        to_new += after[i] == b[N].id;
    }
    printf("maglev disruption: adding an 11th backend moves %.2f%% of flows "
           "(%.2f%% to the new one)\n",
           100.0 * moved / N_FLOWS, 100.0 * to_new / N_FLOWS);
    ck_assert(moved < 1.5 * N_FLOWS / (N + 1));
    ck_assert(to_new > 0.95 * N_FLOWS / (N + 1));
    ck_assert(to_new < 1.05 * N_FLOWS / (N + 1));
    maglev_destroy(m);
    maglev_destroy(m2);
    free(before);
    free(after);
}
END_TEST

static Suite *
maglev_suite(void)
{
    Suite *s = suite_create("maglev");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_prime);
    tcase_add_test(tc, test_rejects_bad_input);
    tcase_add_test(tc, test_empty);
    tcase_add_test(tc, test_lookup_is_slot_of_hash);
    tcase_add_test(tc, test_deterministic_and_order_independent);
    tcase_add_test(tc, test_golden);
    tcase_add_test(tc, test_matches_paper);
    tcase_add_test(tc, test_balance);
    tcase_add_test(tc, test_weights);
    tcase_add_test(tc, test_disruption_remove);
    tcase_add_test(tc, test_disruption_add);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(maglev_suite());
    int n_failed;

    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
