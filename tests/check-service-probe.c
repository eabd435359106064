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

/* Unit tests of agent/service-probe.c against real sockets on loopback: a
 * TCP check follows a listener that goes away and comes back; an HTTP
 * check wants the expected status, and a server that accepts connections
 * but never answers (a stopped process) goes down by timeout. */
#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster-config.h"
#include "openvswitch/dynamic-string.h"
#include "packets.h"
#include "service-probe.h"
#include "socket-util.h"
#include "util.h"

static struct in6_addr loopback;

static int
listener(uint16_t *port)
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    socklen_t len = sizeof sin;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;

    ck_assert_int_ge(fd, 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons(*port);
    ck_assert_int_eq(bind(fd, (struct sockaddr *) &sin, sizeof sin), 0);
    ck_assert_int_eq(listen(fd, 16), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *) &sin, &len), 0);
    *port = ntohs(sin.sin_port);
    return fd;
}

/* Runs 'sp' at 'now', giving the sockets time to make progress; returns
 * whether a port changed state. */
static bool
run(struct service_probe *sp, long long int now)
{
    bool changed = service_probe_run(sp, now);

    usleep(20000);
    return service_probe_run(sp, now) || changed;
}

static void
set_one(struct service_probe *sp, uint16_t port,
        const struct cluster_vip_health *h)
{
    struct service_probe_port p = {
        .vip = loopback, .port = port,
        .udp = h->type == CLUSTER_HEALTH_UDP, .health = h,
    };

    service_probe_set(sp, NULL, &p, 1, 0);
}

START_TEST(test_tcp)
{
    struct cluster_vip_health h = {
        .type = CLUSTER_HEALTH_TCP, .interval_ms = 100, .timeout_ms = 100,
        .rise = 2, .fall = 2,
    };
    struct service_probe *sp = service_probe_create();
    uint16_t port = 0;
    int lfd = listener(&port);
    long long int t = 0;

    set_one(sp, port, &h);
    ck_assert(!run(sp, t));
    ck_assert(service_probe_is_up(sp, &loopback, port, false));
    ck_assert_uint_eq(service_probe_get_stats(sp)->ok, 1);

    /* The listener goes: refused twice in a row, down. */
    close(lfd);
    ck_assert(!run(sp, t += 100));
    ck_assert(service_probe_is_up(sp, &loopback, port, false));
    ck_assert(run(sp, t += 100));
    ck_assert(!service_probe_is_up(sp, &loopback, port, false));

    struct ds s = DS_EMPTY_INITIALIZER;
    service_probe_format(sp, t, &s);
    ck_assert_msg(strstr(ds_cstr(&s), "tcp: DOWN for 0 ms (last failure: "
                         "connect: Connection refused)"), "%s", ds_cstr(&s));
    ds_destroy(&s);

    /* Back: two successes in a row. */
    lfd = listener(&port);
    ck_assert(!run(sp, t += 100));
    ck_assert(run(sp, t += 100));
    ck_assert(service_probe_is_up(sp, &loopback, port, false));
    ck_assert_uint_eq(service_probe_get_stats(sp)->downs, 1);
    ck_assert_uint_eq(service_probe_get_stats(sp)->ups, 1);

    /* Not checked: up. */
    ck_assert(service_probe_is_up(sp, &loopback, port + 1, false));
    close(lfd);
    service_probe_destroy(sp);
}
END_TEST

/* A UDP socket bound to 127.0.0.1:'*port' (0: any port, stored there). */
static int
udp_socket(uint16_t *port)
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    socklen_t len = sizeof sin;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    ck_assert_int_ge(fd, 0);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons(*port);
    ck_assert_int_eq(bind(fd, (struct sockaddr *) &sin, sizeof sin), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *) &sin, &len), 0);
    *port = ntohs(sin.sin_port);
    return fd;
}

START_TEST(test_udp)
{
    struct cluster_vip_health h = {
        .type = CLUSTER_HEALTH_UDP, .interval_ms = 100, .timeout_ms = 100,
        .rise = 2, .fall = 2,
    };
    struct service_probe *sp = service_probe_create();
    uint16_t port = 0;
    int fd = udp_socket(&port);
    long long int t = 0;
    char byte;

    /* A bound socket: the datagram is not refused; the probe succeeds at
     * its deadline (and the next one starts). */
    set_one(sp, port, &h);
    ck_assert(!run(sp, t));
    ck_assert_uint_eq(service_probe_get_stats(sp)->ok, 0);
    ck_assert(!run(sp, t += 100));
    ck_assert_uint_eq(service_probe_get_stats(sp)->ok, 1);
    ck_assert(service_probe_is_up(sp, &loopback, port, true));
    ck_assert_int_eq(recv(fd, &byte, 1, MSG_DONTWAIT), 0);

    /* Nothing listens any more: refused twice in a row, down. */
    close(fd);
    ck_assert(!run(sp, t += 100));
    ck_assert_uint_eq(service_probe_get_stats(sp)->ok, 2);
    ck_assert(!run(sp, t += 50));
    ck_assert_uint_eq(service_probe_get_stats(sp)->failed, 1);
    ck_assert(run(sp, t += 50));
    ck_assert(!service_probe_is_up(sp, &loopback, port, true));

    struct ds s = DS_EMPTY_INITIALIZER;
    service_probe_format(sp, t, &s);
    ck_assert_msg(strstr(ds_cstr(&s), "udp: DOWN for 0 ms (last failure: "
                         "refused (port unreachable: nothing listens))"),
                  "%s", ds_cstr(&s));
    ds_destroy(&s);

    /* Back: two successes in a row. */
    fd = udp_socket(&port);
    ck_assert(!run(sp, t += 100));
    ck_assert(!run(sp, t += 100));
    ck_assert(run(sp, t += 100));
    ck_assert(service_probe_is_up(sp, &loopback, port, true));
    ck_assert_uint_eq(service_probe_get_stats(sp)->downs, 1);
    ck_assert_uint_eq(service_probe_get_stats(sp)->ups, 1);
    close(fd);
    service_probe_destroy(sp);
}
END_TEST

/* A TCP and a UDP VIP on one address and port (DNS, say) are checked
 * apart: a TCP listener alone keeps the TCP port up and lets the UDP one
 * go down, and a UDP socket alone does the converse. */
START_TEST(test_tcp_and_udp_apart)
{
    struct cluster_vip_health tcp = {
        .type = CLUSTER_HEALTH_TCP, .interval_ms = 100, .timeout_ms = 100,
        .rise = 2, .fall = 2,
    };
    struct cluster_vip_health udp = tcp;
    struct service_probe *sp = service_probe_create();
    uint16_t port = 0;
    int lfd = listener(&port);
    long long int t = 0;

    udp.type = CLUSTER_HEALTH_UDP;
    struct service_probe_port ports[] = {
        { .vip = loopback, .port = port, .health = &tcp },
        { .vip = loopback, .port = port, .udp = true, .health = &udp },
    };
    service_probe_set(sp, NULL, ports, 2, 0);
    for (int i = 0; i < 4; i++) {
        run(sp, t += 100);
    }
    ck_assert(service_probe_is_up(sp, &loopback, port, false));
    ck_assert(!service_probe_is_up(sp, &loopback, port, true));

    struct ds s = DS_EMPTY_INITIALIZER;
    service_probe_format(sp, t, &s);
    ck_assert_msg(strstr(ds_cstr(&s), "/tcp tcp: up"), "%s", ds_cstr(&s));
    ck_assert_msg(strstr(ds_cstr(&s), "/udp udp: DOWN"), "%s", ds_cstr(&s));
    ds_destroy(&s);

    /* The converse: the listener gone, a UDP socket on the port. */
    close(lfd);
    int fd = udp_socket(&port);
    for (int i = 0; i < 6; i++) {
        run(sp, t += 100);
    }
    ck_assert(!service_probe_is_up(sp, &loopback, port, false));
    ck_assert(service_probe_is_up(sp, &loopback, port, true));
    close(fd);
    service_probe_destroy(sp);
}
END_TEST

/* Answers the one connection waiting on 'lfd' with 'answer' (NULL: reads
 * the request and keeps silent, then closes). */
static void
serve(int lfd, const char *answer)
{
    struct pollfd pfd = { .fd = lfd, .events = POLLIN };
    char buf[512];

    ck_assert_int_eq(poll(&pfd, 1, 1000), 1);
    int fd = accept(lfd, NULL, NULL);
    ck_assert_int_ge(fd, 0);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    ck_assert_int_gt(n, 0);
    buf[n] = '\0';
    ck_assert_msg(!strncmp(buf, "GET /healthz HTTP/1.0\r\n", 23), "%s", buf);
    if (answer) {
        ck_assert_int_eq(write(fd, answer, strlen(answer)), strlen(answer));
    }
    close(fd);
}

/* One HTTP probe at 't', answered with 'answer'; returns whether the port
 * changed state. */
static bool
probe_answered(struct service_probe *sp, int lfd, long long int t,
               const char *answer)
{
    service_probe_run(sp, t);           /* Connects and sends. */
    usleep(20000);
    service_probe_run(sp, t);
    serve(lfd, answer);
    return run(sp, t);
}

START_TEST(test_http)
{
    struct cluster_vip_health h = {
        .type = CLUSTER_HEALTH_HTTP, .http_path = "/healthz",
        .http_status = 204, .interval_ms = 200, .timeout_ms = 100,
        .rise = 1, .fall = 1,
    };
    struct service_probe *sp = service_probe_create();
    uint16_t port = 0;
    int lfd = listener(&port);
    long long int t = 0;

    set_one(sp, port, &h);
    ck_assert(!probe_answered(sp, lfd, t, "HTTP/1.1 204 No Content\r\n\r\n"));
    ck_assert_uint_eq(service_probe_get_stats(sp)->ok, 1);

    /* Another status: down. */
    ck_assert(probe_answered(sp, lfd, t += 200, "HTTP/1.1 500 Oops\r\n\r\n"));
    ck_assert(!service_probe_is_up(sp, &loopback, port, false));

    /* Back with the right status. */
    ck_assert(probe_answered(sp, lfd, t += 200, "HTTP/1.0 204 OK\r\n\r\n"));
    ck_assert(service_probe_is_up(sp, &loopback, port, false));

    /* Accepted by the kernel, never answered (a stopped server): down when
     * the timeout passes, not before. */
    t += 200;
    ck_assert(!run(sp, t));
    ck_assert(!run(sp, t + 99));
    ck_assert(service_probe_is_up(sp, &loopback, port, false));
    ck_assert(run(sp, t + 100));
    ck_assert(!service_probe_is_up(sp, &loopback, port, false));
    ck_assert_uint_eq(service_probe_get_stats(sp)->failed, 2);
    close(lfd);
    service_probe_destroy(sp);
}
END_TEST

/* A check of type "none" is always up; a changed check starts afresh; a
 * port no longer given is forgotten. */
START_TEST(test_set)
{
    struct cluster_vip_health tcp = {
        .type = CLUSTER_HEALTH_TCP, .interval_ms = 100, .timeout_ms = 100,
        .rise = 1, .fall = 1,
    };
    struct cluster_vip_health none = { .type = CLUSTER_HEALTH_NONE };
    struct service_probe *sp = service_probe_create();
    uint16_t port = 0;
    int lfd = listener(&port);

    close(lfd);                         /* Nothing listens. */
    set_one(sp, port, &tcp);
    ck_assert(run(sp, 0));
    ck_assert(!service_probe_is_up(sp, &loopback, port, false));

    set_one(sp, port, &none);
    ck_assert(service_probe_is_up(sp, &loopback, port, false));
    ck_assert(!run(sp, 1000));
    ck_assert(service_probe_is_up(sp, &loopback, port, false));

    set_one(sp, port, &tcp);
    ck_assert(run(sp, 2000));
    ck_assert(!service_probe_is_up(sp, &loopback, port, false));
    service_probe_set(sp, NULL, NULL, 0, 3000);
    ck_assert(service_probe_is_up(sp, &loopback, port, false));
    service_probe_destroy(sp);
}
END_TEST

static Suite *
service_probe_suite(void)
{
    Suite *s = suite_create("service-probe");
    TCase *tc = tcase_create("core");

    in6_addr_set_mapped_ipv4(&loopback, htonl(INADDR_LOOPBACK));
    tcase_add_test(tc, test_tcp);
    tcase_add_test(tc, test_udp);
    tcase_add_test(tc, test_tcp_and_udp_apart);
    tcase_add_test(tc, test_http);
    tcase_add_test(tc, test_set);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(service_probe_suite());
    int n_failed;

    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
