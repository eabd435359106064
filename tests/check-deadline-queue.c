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

/* check-deadline-queue: timers in deadline order (lib/deadline-queue.c),
 * checked against a brute-force minimum. */
#include <config.h>

#include <check.h>
#include <limits.h>
#include <stdlib.h>

#include "deadline-queue.h"
#include "util.h"

#define N_TIMERS 200

static struct deadline timers[N_TIMERS];
static struct deadline_queue q;

static void
setup(void)
{
    deadline_queue_init(&q);
    for (size_t i = 0; i < N_TIMERS; i++) {
        deadline_init(&timers[i]);
    }
}

static void
teardown(void)
{
    deadline_queue_destroy(&q);
}

/* Checks that the first timer of 'q' is the earliest of the set ones, the
 * first of them in 'timers' if several share it being acceptable. */
static void
check_first(void)
{
    long long int min = LLONG_MAX;
    size_t n = 0;

    for (size_t i = 0; i < N_TIMERS; i++) {
        if (deadline_is_set(&timers[i])) {
            min = MIN(min, timers[i].when);
            n++;
        }
    }
    ck_assert_uint_eq(deadline_queue_count(&q), n);
    ck_assert_int_eq(deadline_queue_next(&q), min);
    if (n) {
        ck_assert_int_eq(deadline_queue_first(&q)->when, min);
    } else {
        ck_assert_ptr_null(deadline_queue_first(&q));
    }
}

START_TEST(test_in_order)
{
    /* Now plus a period, again and again: all in the list, out in the
     * order they were set. */
    for (size_t i = 0; i < N_TIMERS; i++) {
        deadline_queue_set(&q, &timers[i], 1000 + i / 3);
        ck_assert_int_eq(deadline_place(&timers[i]), DEADLINE_FIFO);
    }
    check_first();
    ck_assert_ptr_null(deadline_queue_due(&q, 999));
    for (size_t i = 0; i < N_TIMERS; i++) {
        struct deadline *d = deadline_queue_due(&q, 1000 + N_TIMERS);

        ck_assert_ptr_eq(d, &timers[i]);
        deadline_cancel(d);
        check_first();
    }
    ck_assert_ptr_null(deadline_queue_due(&q, LLONG_MAX));
}
END_TEST

START_TEST(test_renewal_stays_in_list)
{
    /* A lease renewed to a later time goes to the back of the list, never
     * to the heap, and the next deadline is the oldest renewal's. */
    for (size_t i = 0; i < N_TIMERS; i++) {
        deadline_queue_set(&q, &timers[i], 10000 + i);
    }
    for (long long int now = 1; now <= 3 * N_TIMERS; now++) {
        struct deadline *d = &timers[(now * 7) % N_TIMERS];

        deadline_queue_set(&q, d, 10000 + N_TIMERS + now);
        ck_assert_int_eq(deadline_place(d), DEADLINE_FIFO);
        ck_assert_uint_eq(heap_count(&q.early), 0);
        check_first();
    }
    /* Set again to the same time, or later while last: still last. */
    struct deadline *last = CONTAINER_OF(ovs_list_back(&q.fifo),
                                         struct deadline, list_node);
    deadline_queue_set(&q, last, last->when);
    deadline_queue_set(&q, last, last->when + 5);
    ck_assert_ptr_eq(ovs_list_back(&q.fifo), &last->list_node);
    check_first();
}
END_TEST

START_TEST(test_out_of_order)
{
    /* Restored records: what is left of each lease, in any order.  The
     * early ones wait in the heap and still come out first. */
    long long int prev = LLONG_MIN;
    size_t n = 0;

    for (size_t i = 0; i < N_TIMERS; i++) {
        deadline_queue_set(&q, &timers[i], (i * 7919) % 1000);
        check_first();
    }
    ck_assert_uint_gt(heap_count(&q.early), 0);
    for (struct deadline *d; (d = deadline_queue_due(&q, 1000)); n++) {
        ck_assert_int_ge(d->when, prev);
        prev = d->when;
        deadline_cancel(d);
        ck_assert(!deadline_is_set(d));
    }
    ck_assert_uint_eq(n, N_TIMERS);
    check_first();

    /* Renewed in order afterwards, they go back to the list. */
    deadline_queue_set(&q, &timers[0], 5000);
    deadline_queue_set(&q, &timers[1], 4000);
    ck_assert_int_eq(deadline_place(&timers[1]), DEADLINE_HEAP);
    deadline_queue_set(&q, &timers[1], 6000);
    ck_assert_int_eq(deadline_place(&timers[1]), DEADLINE_FIFO);
    check_first();
}
END_TEST

START_TEST(test_random_against_brute_force)
{
    /* Any mix of sets, moves and removals: the first timer is always the
     * earliest, and draining gives every timer once, in order. */
    unsigned int seed = 1;
    long long int now = 0;

    for (int op = 0; op < 20000; op++) {
        struct deadline *d = &timers[rand_r(&seed) % N_TIMERS];
        int r = rand_r(&seed) % 10;

        if (r < 5) {
            deadline_queue_set(&q, d, now + 100);       /* In order. */
        } else if (r < 8) {
            deadline_queue_set(&q, d, now + rand_r(&seed) % 200);
        } else {
            deadline_cancel(d);
        }
        if (rand_r(&seed) % 4 == 0) {
            now++;
        }
        check_first();
    }

    size_t n = deadline_queue_count(&q);
    long long int prev = LLONG_MIN;
    for (struct deadline *d; (d = deadline_queue_due(&q, LLONG_MAX)); n--) {
        ck_assert_int_ge(d->when, prev);
        prev = d->when;
        deadline_cancel(d);
    }
    ck_assert_uint_eq(n, 0);
    check_first();
}
END_TEST

START_TEST(test_remove_unset)
{
    deadline_cancel(&timers[0]);
    ck_assert_uint_eq(deadline_queue_count(&q), 0);
    deadline_queue_set(&q, &timers[0], LLONG_MIN + 1);
    deadline_queue_set(&q, &timers[1], -5);
    deadline_queue_set(&q, &timers[2], LLONG_MIN);
    ck_assert_ptr_eq(deadline_queue_first(&q), &timers[2]);
    deadline_cancel(&timers[2]);
    deadline_cancel(&timers[2]);
    ck_assert_ptr_eq(deadline_queue_first(&q), &timers[0]);
    ck_assert_uint_eq(deadline_queue_count(&q), 2);
    deadline_queue_destroy(NULL);
}
END_TEST

START_TEST(test_move_between_queues)
{
    /* A handshake timeout that becomes a lease: the timer leaves the first
     * queue, wherever it was in it. */
    struct deadline_queue q2;

    deadline_queue_init(&q2);
    deadline_queue_set(&q, &timers[0], 100);
    deadline_queue_set(&q, &timers[1], 50);         /* In q's heap. */
    deadline_queue_set(&q2, &timers[0], 30);
    deadline_queue_set(&q2, &timers[1], 40);
    ck_assert_uint_eq(deadline_queue_count(&q), 0);
    ck_assert_int_eq(deadline_queue_next(&q), LLONG_MAX);
    ck_assert_uint_eq(heap_count(&q.early), 0);
    ck_assert_uint_eq(deadline_queue_count(&q2), 2);
    ck_assert_ptr_eq(deadline_queue_first(&q2), &timers[0]);
    ck_assert_ptr_eq(timers[1].queue, &q2);
    deadline_cancel(&timers[0]);
    ck_assert_ptr_eq(deadline_queue_due(&q2, 45), &timers[1]);
    deadline_cancel(&timers[1]);
    ck_assert_uint_eq(deadline_queue_count(&q2), 0);
    deadline_queue_destroy(&q2);
}
END_TEST

static Suite *
deadline_queue_suite(void)
{
    Suite *s = suite_create("deadline-queue");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_in_order);
    tcase_add_test(tc, test_renewal_stays_in_list);
    tcase_add_test(tc, test_out_of_order);
    tcase_add_test(tc, test_random_against_brute_force);
    tcase_add_test(tc, test_remove_unset);
    tcase_add_test(tc, test_move_between_queues);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(deadline_queue_suite());
    int n_failed;

    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
