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

/* Unit tests of controller/server-load.c: what an LB node makes of its
 * servers' LOAD reports and of its own assignments between them. */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-msg.h"
#include "openvswitch/dynamic-string.h"
#include "packets.h"
#include "server-load.h"
#include "util.h"

static struct in6_addr
vip(uint8_t last)
{
    struct in6_addr a;

    in6_addr_set_mapped_ipv4(&a, htonl(0xcb007100 | last));
    return a;
}

static void
report(struct server_load *sl, uint32_t server, uint8_t v, uint16_t port,
       uint32_t conns, uint32_t backlog, uint32_t rtt_us, long long int now)
{
    struct ctl_load_entry e = {
        .vip = vip(v), .port = port, .conns = conns, .backlog = backlog,
        .rtt_us = rtt_us,
    };

    server_load_report(sl, server, &e, now);
}

START_TEST(test_report_and_assignments)
{
    struct server_load *sl = server_load_create();
    struct in6_addr a = vip(10);
    uint32_t conns, rtt;

    /* Nothing known: no connections, not measured. */
    server_load_get(sl, 101, &a, 80, 1000, 3000, &conns, &rtt);
    ck_assert_uint_eq(conns, 0);
    ck_assert_uint_eq(rtt, UINT32_MAX);

    /* Established plus backlog, plus what this node assigned since. */
    report(sl, 101, 10, 80, 40, 2, 900, 1000);
    server_load_assigned(sl, 101, &a, 80, 1100);
    server_load_assigned(sl, 101, &a, 80, 1200);
    server_load_get(sl, 101, &a, 80, 1500, 3000, &conns, &rtt);
    ck_assert_uint_eq(conns, 44);
    ck_assert_uint_eq(rtt, 900);

    /* Per server, VIP and port. */
    server_load_get(sl, 102, &a, 80, 1500, 3000, &conns, &rtt);
    ck_assert_uint_eq(conns, 0);
    server_load_get(sl, 101, &a, 81, 1500, 3000, &conns, &rtt);
    ck_assert_uint_eq(conns, 0);

    /* A new report replaces the figures and the assignments. */
    report(sl, 101, 10, 80, 5, 0, 0, 2000);
    server_load_get(sl, 101, &a, 80, 2000, 3000, &conns, &rtt);
    ck_assert_uint_eq(conns, 5);
    ck_assert_uint_eq(rtt, 900);        /* Kept: none in the report. */

    /* Too old: only the assignments since it count. */
    server_load_assigned(sl, 101, &a, 80, 2500);
    server_load_get(sl, 101, &a, 80, 5001, 3000, &conns, &rtt);
    ck_assert_uint_eq(conns, 1);
    ck_assert_uint_eq(server_load_get_stats(sl)->stale, 1);

    /* The measured round-trip time is forgotten after 30 s, so that
     * lowest-latency tries the server again. */
    server_load_get(sl, 101, &a, 80, 1000 + 30000, 3000, &conns, &rtt);
    ck_assert_uint_eq(rtt, 900);
    server_load_get(sl, 101, &a, 80, 1000 + 30001, 3000, &conns, &rtt);
    ck_assert_uint_eq(rtt, UINT32_MAX);

    /* Saturating sums. */
    report(sl, 103, 10, 80, UINT32_MAX - 1, UINT32_MAX, 0, 3000);
    server_load_assigned(sl, 103, &a, 80, 3000);
    server_load_get(sl, 103, &a, 80, 3000, 3000, &conns, &rtt);
    ck_assert_uint_eq(conns, UINT32_MAX);
    server_load_destroy(sl);
}
END_TEST

/* A report that a service fails its health check counts while fresh. */
START_TEST(test_down)
{
    struct server_load *sl = server_load_create();
    struct in6_addr a = vip(10);
    struct ctl_load_entry e = { .vip = a, .port = 80, .flags = CTL_LOAD_DOWN };

    ck_assert(!server_load_is_down(sl, 101, &a, 80, IPPROTO_TCP, 1000, 3000));
    server_load_report(sl, 101, &e, 1000);
    ck_assert(server_load_is_down(sl, 101, &a, 80, IPPROTO_TCP, 1000, 3000));
    ck_assert(!server_load_is_down(sl, 101, &a, 81, IPPROTO_TCP, 1000, 3000));
    ck_assert(!server_load_is_down(sl, 102, &a, 80, IPPROTO_TCP, 1000, 3000));
    ck_assert(server_load_is_down(sl, 101, &a, 80, IPPROTO_TCP, 4000, 3000));
    ck_assert(!server_load_is_down(sl, 101, &a, 80, IPPROTO_TCP, 4001, 3000));
    server_load_report(sl, 101, &e, 5000);      /* Still down. */
    ck_assert_uint_eq(server_load_get_stats(sl)->downs, 1);

    struct ds s = DS_EMPTY_INITIALIZER;
    server_load_format(sl, 5000, &s);
    ck_assert_msg(strstr(ds_cstr(&s), "server 101: SERVICE DOWN, conns 0"),
                  "%s", ds_cstr(&s));

    e.flags = 0;
    server_load_report(sl, 101, &e, 6000);
    ck_assert(!server_load_is_down(sl, 101, &a, 80, IPPROTO_TCP, 6000, 3000));

    /* A UDP VIP on the same address and port has a state of its own. */
    e.flags = CTL_LOAD_DOWN | CTL_LOAD_UDP;
    server_load_report(sl, 101, &e, 7000);
    ck_assert(server_load_is_down(sl, 101, &a, 80, IPPROTO_UDP, 7000, 3000));
    ck_assert(!server_load_is_down(sl, 101, &a, 80, IPPROTO_TCP, 7000, 3000));
    e.flags = CTL_LOAD_DOWN;
    server_load_report(sl, 101, &e, 7000);
    e.flags = CTL_LOAD_UDP;
    server_load_report(sl, 101, &e, 7000);
    ck_assert(!server_load_is_down(sl, 101, &a, 80, IPPROTO_UDP, 7000, 3000));
    ck_assert(server_load_is_down(sl, 101, &a, 80, IPPROTO_TCP, 7000, 3000));
    ds_clear(&s);
    server_load_format(sl, 7000, &s);
    ck_assert_msg(strstr(ds_cstr(&s), ":80/tcp server 101: SERVICE DOWN"),
                  "%s", ds_cstr(&s));
    ck_assert_msg(strstr(ds_cstr(&s), ":80/udp server 101: conns 0"),
                  "%s", ds_cstr(&s));
    ds_destroy(&s);
    server_load_destroy(sl);
}
END_TEST

START_TEST(test_forget_and_format)
{
    struct server_load *sl = server_load_create();
    struct in6_addr a = vip(10);
    uint32_t conns, rtt;

    report(sl, 101, 10, 80, 3, 0, 250, 1000);
    report(sl, 101, 11, 80, 4, 0, 0, 1000);
    report(sl, 102, 10, 80, 7, 1, 0, 1000);
    ck_assert_uint_eq(server_load_count(sl), 3);

    struct ds s = DS_EMPTY_INITIALIZER;
    server_load_format(sl, 1500, &s);
    ck_assert_str_eq(ds_cstr(&s),
                     "  203.0.113.10:80/tcp server 101: conns 3 backlog 0 "
                     "(500 ms ago), assigned since 0, rtt 250 us "
                     "(500 ms ago)\n"
                     "  203.0.113.10:80/tcp server 102: conns 7 backlog 1 "
                     "(500 ms ago), assigned since 0\n"
                     "  203.0.113.11:80/tcp server 101: conns 4 backlog 0 "
                     "(500 ms ago), assigned since 0\n");
    ds_destroy(&s);

    /* A server that leaves the configuration. */
    server_load_forget(sl, 101);
    ck_assert_uint_eq(server_load_count(sl), 1);
    server_load_get(sl, 101, &a, 80, 1500, 3000, &conns, &rtt);
    ck_assert_uint_eq(conns, 0);

    /* Neither reported nor assigned to for a minute: removed. */
    server_load_run(sl, 1000 + 59999);
    ck_assert_uint_eq(server_load_count(sl), 1);
    server_load_run(sl, 1000 + 60000);
    ck_assert_uint_eq(server_load_count(sl), 0);
    ck_assert_uint_eq(server_load_get_stats(sl)->forgotten, 3);
    server_load_destroy(sl);
}
END_TEST

static Suite *
server_load_suite(void)
{
    Suite *s = suite_create("server-load");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_report_and_assignments);
    tcase_add_test(tc, test_down);
    tcase_add_test(tc, test_forget_and_format);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(server_load_suite());
    int n_failed;

    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
