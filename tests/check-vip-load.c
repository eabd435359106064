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

/* Unit tests of agent/vip-load.c (what an agent's LOAD reports), and of
 * the socket-table reading that feeds it (agent/sock-diag.c) on the real
 * kernel: a listener's accept backlog, established sockets and their
 * round-trip times, on loopback in the test's own network namespace. */
#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent-core.h"
#include "ctl-msg.h"
#include "packets.h"
#include "sock-diag.h"
#include "util.h"
#include "vip-load.h"

static struct agent_vip_port
vp(uint32_t addr, uint16_t port)
{
    struct agent_vip_port v = { .port = port, .tracked = true };

    in6_addr_set_mapped_ipv4(&v.vip, htonl(addr));
    return v;
}

START_TEST(test_counts)
{
    struct agent_vip_port vps[] = {
        vp(0xcb00710a, 80), vp(0xcb00710a, 9000), vp(0xcb00710b, 80),
        vp(0xcb00710a, 80),     /* A duplicate counts once. */
    };
    struct vip_load *vl = vip_load_create();
    struct ctl_msg msg;
    struct in6_addr any4;

    in6_addr_set_mapped_ipv4(&any4, 0);
    vip_load_begin(vl, vps, ARRAY_SIZE(vps));
    vip_load_socket(vl, &vps[0].vip, 80, false, 0, 1000);
    vip_load_socket(vl, &vps[0].vip, 80, false, 0, 3000);
    vip_load_socket(vl, &vps[0].vip, 80, false, 0, 0);  /* No measure. */
    vip_load_socket(vl, &vps[0].vip, 80, true, 2, 0);   /* Listener. */
    vip_load_socket(vl, &any4, 80, true, 5, 0);         /* Wildcard. */
    vip_load_socket(vl, &vps[0].vip, 22, false, 0, 10); /* Not a VIP port. */
    vip_load_set_down(vl, &vps[2].vip, 80, false, true);
    vip_load_set_down(vl, &vps[2].vip, 22, false, true); /* Ignored. */
    vip_load_set_down(vl, &vps[0].vip, 80, true, true);  /* No UDP port. */

    ck_assert_uint_eq(vip_load_n_msgs(vl), 1);
    vip_load_msg(vl, 0, 101, &msg);
    ck_assert_int_eq(msg.type, CTL_MSG_LOAD);
    ck_assert_uint_eq(msg.sender, 101);
    ck_assert_uint_eq(msg.load.n, 3);
    ck_assert_uint_eq(msg.load.entries[0].port, 80);
    ck_assert_uint_eq(msg.load.entries[0].conns, 3);
    ck_assert_uint_eq(msg.load.entries[0].backlog, 7);
    ck_assert_uint_eq(msg.load.entries[0].rtt_us, 2000);
    ck_assert_uint_eq(msg.load.entries[0].flags, 0);
    ck_assert_uint_eq(msg.load.entries[1].port, 9000);  /* Idle: zeros. */
    ck_assert_uint_eq(msg.load.entries[1].conns, 0);
    ck_assert_uint_eq(msg.load.entries[1].backlog, 0);
    ck_assert_uint_eq(msg.load.entries[1].rtt_us, 0);
    ck_assert(ipv6_addr_equals(&msg.load.entries[2].vip, &vps[2].vip));
    ck_assert_uint_eq(msg.load.entries[2].backlog, 5);
    ck_assert_uint_eq(msg.load.entries[2].flags, CTL_LOAD_DOWN);

    /* A new reading starts from zero. */
    vip_load_begin(vl, vps, 1);
    vip_load_msg(vl, 0, 101, &msg);
    ck_assert_uint_eq(msg.load.n, 1);
    ck_assert_uint_eq(msg.load.entries[0].conns, 0);
    vip_load_destroy(vl);
}
END_TEST

/* More VIP ports than one message holds: split, every one reported. */
START_TEST(test_split)
{
    size_t n = CTL_LOAD_MAX_ENTRIES + 3;
    struct agent_vip_port *vps = xcalloc(n, sizeof *vps);
    struct vip_load *vl = vip_load_create();
    struct ctl_msg msg;

    for (size_t i = 0; i < n; i++) {
        vps[i] = vp(0xcb007100, 1000 + i);
    }
    vip_load_begin(vl, vps, n);
    ck_assert_uint_eq(vip_load_n_msgs(vl), 2);
    vip_load_msg(vl, 0, 7, &msg);
    ck_assert_uint_eq(msg.load.n, CTL_LOAD_MAX_ENTRIES);
    vip_load_msg(vl, 1, 7, &msg);
    ck_assert_uint_eq(msg.load.n, 3);
    ck_assert_uint_eq(msg.load.entries[2].port, 1000 + n - 1);
    vip_load_destroy(vl);
    free(vps);
}
END_TEST

struct seen {
    uint16_t port;
    uint32_t listener_rqueue;
    int established;
    int with_rtt;
};

static void
seen_cb(const struct sock_diag_entry *e, void *s_)
{
    struct seen *s = s_;

    if (ntohs(e->sport) != s->port) {
        return;
    }
    if (e->state == SOCK_DIAG_LISTEN) {
        s->listener_rqueue = e->rqueue;
    } else if (e->state == SOCK_DIAG_ESTABLISHED) {
        s->established++;
        s->with_rtt += e->rtt_us > 0;
    }
}

static int
tcp_socket(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert_int_ge(fd, 0);
    return fd;
}

/* The kernel's figures: two connections waiting in a listener's accept
 * queue, then accepted and used, with a round-trip time each. */
START_TEST(test_kernel_table)
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    socklen_t len = sizeof sin;
    struct sock_diag *sd;
    int lfd = tcp_socket(), c[2], s[2];
    char *error;

    error = sock_diag_open(NULL, &sd);
    if (error) {
        /* No inet_diag here (a container without it): nothing to test. */
        free(error);
        return;
    }
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *) &sin, sizeof sin), 0);
    ck_assert_int_eq(listen(lfd, 8), 0);
    ck_assert_int_eq(getsockname(lfd, (struct sockaddr *) &sin, &len), 0);
    for (int i = 0; i < 2; i++) {
        c[i] = tcp_socket();
        ck_assert_int_eq(connect(c[i], (struct sockaddr *) &sin, sizeof sin),
                         0);
    }

    struct seen seen = { .port = ntohs(sin.sin_port) };
    ck_assert_int_eq(sock_diag_dump(sd, 1u << SOCK_DIAG_LISTEN, 0, seen_cb,
                                    &seen), 0);
    ck_assert_uint_eq(seen.listener_rqueue, 2);

    for (int i = 0; i < 2; i++) {
        char buf[4];

        s[i] = accept(lfd, NULL, NULL);
        ck_assert_int_ge(s[i], 0);
        ck_assert_int_eq(write(s[i], "ping", 4), 4);
        ck_assert_int_eq(read(c[i], buf, 4), 4);
        ck_assert_int_eq(write(c[i], "pong", 4), 4);
        ck_assert_int_eq(read(s[i], buf, 4), 4);
    }
    memset(&seen, 0, sizeof seen);
    seen.port = ntohs(sin.sin_port);
    ck_assert_int_eq(sock_diag_dump(sd, SOCK_DIAG_ALL_STATES, SOCK_DIAG_RTT,
                                    seen_cb, &seen), 0);
    ck_assert_uint_eq(seen.listener_rqueue, 0);
    ck_assert_int_eq(seen.established, 2);      /* The accepted ones. */
    ck_assert_int_eq(seen.with_rtt, 2);

    /* Without SOCK_DIAG_RTT, no tcp_info and no round-trip time. */
    memset(&seen, 0, sizeof seen);
    seen.port = ntohs(sin.sin_port);
    ck_assert_int_eq(sock_diag_dump(sd, SOCK_DIAG_ALL_STATES, 0, seen_cb,
                                    &seen), 0);
    ck_assert_int_eq(seen.established, 2);
    ck_assert_int_eq(seen.with_rtt, 0);

    for (int i = 0; i < 2; i++) {
        close(c[i]);
        close(s[i]);
    }
    close(lfd);
    sock_diag_close(sd);
}
END_TEST

static Suite *
vip_load_suite(void)
{
    Suite *s = suite_create("vip-load");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_counts);
    tcase_add_test(tc, test_split);
    tcase_add_test(tc, test_kernel_table);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(vip_load_suite());
    int n_failed;

    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
