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

/* Unit tests of lib/event-rate.c: a steady rate reads as itself, a step is
 * seen within one 100 ms slot, a flood, even one slot long, is remembered
 * at its peak for one second and then forgotten, and a clock that goes back or jumps far ahead
 * does no harm. */
#include <config.h>

#include <check.h>
#include <stdlib.h>

#include "event-rate.h"
#include "util.h"

/* 'per_s' events per second, spread evenly, from 'start' for 'ms'
 * milliseconds; returns the time after the last one. */
static long long int
feed(struct event_rate *er, long long int start, int ms, int per_s)
{
    long long int t = start;

    for (long long int i = 0; i < (long long int) per_s * ms / 1000; i++) {
        t = start + i * 1000 / per_s;
        event_rate_add(er, t, 1);
    }
    return start + ms;
}

START_TEST(test_steady)
{
    struct event_rate er;

    event_rate_init(&er);
    ck_assert_uint_eq(event_rate_per_s(&er, 0), 0);

    /* 5,000 per second for 3 s: after the first second, the estimate is
     * the rate, within one slot's worth. */
    long long int t = feed(&er, 1000000, 3000, 5000);
    uint64_t r = event_rate_per_s(&er, t - 1);
    ck_assert_msg(r >= 4500 && r <= 5000, "%"PRIu64, r);
}
END_TEST

START_TEST(test_step_seen_within_a_slot)
{
    struct event_rate er;
    long long int t0 = 5000000;     /* A slot boundary. */

    event_rate_init(&er);
    feed(&er, t0 - 3000, 3000, 100);    /* Quiet: 100 per second. */
    ck_assert_uint_lt(event_rate_per_s(&er, t0), 1000);

    /* 20,000 per second from t0: 20 per ms.  After 60 ms of it, the
     * current slot alone (1,200 events, times 10) reads 12,000 per second,
     * though the last second holds only about 1,300 events; at the end of
     * the slot, 20,000. */
    long long int t;
    for (t = t0; t < t0 + 60; t++) {
        event_rate_add(&er, t, 20);
    }
    ck_assert_uint_eq(event_rate_per_s(&er, t), 12000);
    for (; t < t0 + 100; t++) {
        event_rate_add(&er, t, 20);
    }
    ck_assert_uint_eq(event_rate_per_s(&er, t - 1), 20000);

    /* A flood that lasted one slot stays at its peak for a second: the
     * last second holds only about 2,100 events. */
    ck_assert_uint_eq(event_rate_per_s(&er, t), 20000);
    ck_assert_uint_eq(event_rate_per_s(&er, t0 + 999), 20000);
    ck_assert_uint_eq(event_rate_per_s(&er, t0 + 1000), 0);
}
END_TEST

START_TEST(test_flood_stops)
{
    struct event_rate er;
    long long int t;

    event_rate_init(&er);
    t = feed(&er, 7000000, 2000, 20000);

    /* Remembered at its peak for a second after it stops... */
    ck_assert_uint_eq(event_rate_per_s(&er, t + 500), 20000);
    ck_assert_uint_eq(event_rate_per_s(&er, t + 899), 20000);
    /* ...and forgotten after it. */
    ck_assert_uint_eq(event_rate_per_s(&er, t + 1000), 0);
    ck_assert_uint_eq(event_rate_per_s(&er, t + 60000), 0);
}
END_TEST

START_TEST(test_clock_back_and_far_ahead)
{
    struct event_rate er;

    event_rate_init(&er);
    event_rate_add(&er, 10000, 50);
    /* A clock that goes back counts in the current slot. */
    event_rate_add(&er, 9000, 50);
    ck_assert_uint_eq(event_rate_per_s(&er, 9500), 1000);
    ck_assert_uint_eq(event_rate_per_s(&er, 10050), 1000);
    /* Far ahead: everything before is forgotten at once. */
    event_rate_add(&er, 10000 + 3600 * 1000, 7);
    ck_assert_uint_eq(event_rate_per_s(&er, 10000 + 3600 * 1000), 70);
    /* Huge counts saturate instead of wrapping. */
    event_rate_add(&er, 10000 + 3600 * 1000, UINT64_MAX / 4);
    ck_assert_uint_eq(event_rate_per_s(&er, 10000 + 3600 * 1000),
                      UINT64_MAX);
}
END_TEST

static Suite *
event_rate_suite(void)
{
    Suite *s = suite_create("event-rate");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_steady);
    tcase_add_test(tc, test_step_seen_within_a_slot);
    tcase_add_test(tc, test_flood_stops);
    tcase_add_test(tc, test_clock_back_and_far_ahead);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(event_rate_suite());
    int n_failed;

    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
