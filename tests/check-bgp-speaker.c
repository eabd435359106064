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
 * Unit tests of lib/bgp-speaker: whom a node announces, the session address
 * scheme, the FRR commands, and the driver against a fake vtysh (a shell
 * script that records its arguments), so no FRR is needed.
 */
#include <config.h>
#include "bgp-speaker.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "byte-order.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "packets.h"
#include "timeval.h"
#include "util.h"

#define A(a, b, c, d) CONSTANT_HTONL(((uint32_t) (a) << 24) | ((b) << 16) \
                                     | ((c) << 8) | (d))
#define BASE A(10, 1, 0, 0)
#define ROUTER A(10, 1, 0, 1)

static const ovs_be32 north3[] = { A(10, 1, 0, 11), A(10, 1, 0, 12),
                                   A(10, 1, 0, 13) };

/* ------------------------------------------------------------------------ */

START_TEST(test_session_addr)
{
    ovs_be32 addr = 0;

    ck_assert(bgp_session_addr(BASE, 2, 3, &addr));
    ck_assert_uint_eq(ntohl(addr), ntohl(A(10, 1, 2, 3)));
    ck_assert(bgp_session_addr(A(10, 1, 99, 99), 255, 1, &addr));
    ck_assert_uint_eq(ntohl(addr), ntohl(A(10, 1, 255, 1)));

    addr = A(1, 2, 3, 4);
    ck_assert(!bgp_session_addr(BASE, 0, 3, &addr));
    ck_assert(!bgp_session_addr(BASE, 3, 0, &addr));
    ck_assert(!bgp_session_addr(BASE, 256, 3, &addr));
    ck_assert(!bgp_session_addr(BASE, 3, 256, &addr));
    ck_assert(!bgp_session_addr(BASE, 4, 4, &addr));
    ck_assert_uint_eq(ntohl(addr), ntohl(A(1, 2, 3, 4)));
}
END_TEST

static void
check_ann(const struct bgp_announcement *a, uint32_t id, ovs_be32 nh,
          ovs_be32 local)
{
    ck_assert_uint_eq(a->node_id, id);
    ck_assert_uint_eq(ntohl(a->next_hop), ntohl(nh));
    ck_assert_uint_eq(ntohl(a->local_addr), ntohl(local));
}

START_TEST(test_ring_neighbours)
{
    const uint32_t ids[] = { 1, 2, 3 };
    struct bgp_announcement out[2];

    ck_assert_uint_eq(bgp_announcements(ids, north3, 3, 2, BASE, out), 2);
    check_ann(&out[0], 1, north3[0], A(10, 1, 2, 1));
    check_ann(&out[1], 3, north3[2], A(10, 1, 2, 3));

    /* Circular at both ends. */
    ck_assert_uint_eq(bgp_announcements(ids, north3, 3, 1, BASE, out), 2);
    check_ann(&out[0], 3, north3[2], A(10, 1, 1, 3));
    check_ann(&out[1], 2, north3[1], A(10, 1, 1, 2));
    ck_assert_uint_eq(bgp_announcements(ids, north3, 3, 3, BASE, out), 2);
    check_ann(&out[0], 2, north3[1], A(10, 1, 3, 2));
    check_ann(&out[1], 1, north3[0], A(10, 1, 3, 1));

    /* Every node is announced by exactly two others. */
    int announced[4] = { 0 };
    for (uint32_t self = 1; self <= 3; self++) {
        size_t n = bgp_announcements(ids, north3, 3, self, BASE, out);
        for (size_t i = 0; i < n; i++) {
            ck_assert_uint_ne(out[i].node_id, self);
            announced[out[i].node_id]++;
        }
    }
    ck_assert_int_eq(announced[1], 2);
    ck_assert_int_eq(announced[2], 2);
    ck_assert_int_eq(announced[3], 2);
}
END_TEST

START_TEST(test_ring_gaps_and_sizes)
{
    const uint32_t gaps[] = { 2, 5, 9, 17 };
    const ovs_be32 north[] = { A(10, 1, 0, 12), A(10, 1, 0, 15),
                               A(10, 1, 0, 19), A(10, 1, 0, 27) };
    struct bgp_announcement out[2];

    ck_assert_uint_eq(bgp_announcements(gaps, north, 4, 17, BASE, out), 2);
    check_ann(&out[0], 9, north[2], A(10, 1, 17, 9));
    check_ann(&out[1], 2, north[0], A(10, 1, 17, 2));

    /* Two nodes: each announces the other once. */
    ck_assert_uint_eq(bgp_announcements(gaps, north, 2, 5, BASE, out), 1);
    check_ann(&out[0], 2, north[0], A(10, 1, 5, 2));
    /* Alone, or not healthy: nobody. */
    ck_assert_uint_eq(bgp_announcements(gaps, north, 1, 2, BASE, out), 0);
    ck_assert_uint_eq(bgp_announcements(gaps, north, 4, 3, BASE, out), 0);
    ck_assert_uint_eq(bgp_announcements(gaps, north, 0, 3, BASE, out), 0);
}
END_TEST

START_TEST(test_ring_malformed)
{
    const uint32_t unsorted[] = { 1, 3, 2 };
    const uint32_t dup[] = { 1, 2, 2 };
    const uint32_t big[] = { 1, 2, 300 };
    struct bgp_announcement out[2];

    ck_assert_uint_eq(bgp_announcements(unsorted, north3, 3, 1, BASE, out),
                      0);
    ck_assert_uint_eq(bgp_announcements(dup, north3, 3, 1, BASE, out), 0);
    /* Node 300 does not fit 10.1.A.B: its neighbours cannot announce it. */
    ck_assert_uint_eq(bgp_announcements(big, north3, 3, 1, BASE, out), 0);
    ck_assert_uint_eq(bgp_announcements(big, north3, 3, 300, BASE, out), 0);
    /* Node 2's neighbours are 1 and 300... */
    ck_assert_uint_eq(bgp_announcements(big, north3, 3, 2, BASE, out), 0);
}
END_TEST

/* ------------------------------------------------------------------------ */

static const ovs_be32 vips[] = { A(203, 0, 113, 10), A(203, 0, 113, 11) };

static struct bgp_speaker_config
lab_config(const char *vty_dir, const char *vtysh)
{
    struct bgp_speaker_config c = {
        .vty_dir = vty_dir,
        .vtysh = vtysh,
        .local_as = 65001,
        .router_as = 65000,
        .router_addr = ROUTER,
        .vips = vips,
        .n_vips = 2,
    };
    return c;
}

START_TEST(test_render)
{
    struct bgp_speaker_config c = lab_config("/x", NULL);
    struct bgp_announcement a = { 2, A(10, 1, 0, 12), A(10, 1, 1, 2) };
    struct ds s = DS_EMPTY_INITIALIZER;

    bgp_render_open(&c, &a, &s);
    ck_assert_str_eq(ds_cstr(&s),
        "route-map ovslb-nh-2 permit 10\n"
        " set ip next-hop 10.1.0.12\n"
        "exit\n"
        "router bgp 65001 view ovslb-2\n"
        " bgp router-id 10.1.1.2\n"
        " no bgp ebgp-requires-policy\n"
        " no bgp network import-check\n"
        " coalesce-time 10\n"
        " timers bgp 1 3\n"
        " neighbor 10.1.0.1 remote-as 65000\n"
        " neighbor 10.1.0.1 update-source 10.1.1.2\n"
        " neighbor 10.1.0.1 timers connect 1\n"
        " neighbor 10.1.0.1 disable-connected-check\n"
        " neighbor 10.1.0.1 advertisement-interval 0\n"
        " address-family ipv4 unicast\n"
        "  network 203.0.113.10/32\n"
        "  network 203.0.113.11/32\n"
        "  neighbor 10.1.0.1 route-map ovslb-nh-2 out\n"
        " exit-address-family\n"
        "exit\n");

    ds_clear(&s);
    bgp_render_close(&c, 7, &s);
    ck_assert_str_eq(ds_cstr(&s),
        "router bgp 65001 view ovslb-7\n"
        "exit\n"
        "no router bgp 65001 view ovslb-7\n"
        "no route-map ovslb-nh-7\n");
    ds_destroy(&s);
}
END_TEST

START_TEST(test_create_invalid)
{
    struct bgp_speaker_config c = lab_config("/x", NULL);
    struct bgp_speaker_config bad;

    ck_assert_ptr_null(bgp_speaker_create(NULL));
    bad = c;
    bad.vty_dir = NULL;
    ck_assert_ptr_null(bgp_speaker_create(&bad));
    bad = c;
    bad.vty_dir = "";
    ck_assert_ptr_null(bgp_speaker_create(&bad));
    bad = c;
    bad.local_as = 0;
    ck_assert_ptr_null(bgp_speaker_create(&bad));
    bad = c;
    bad.router_addr = 0;
    ck_assert_ptr_null(bgp_speaker_create(&bad));
    bad = c;
    bad.n_vips = BGP_SPEAKER_MAX_VIPS + 1;
    ck_assert_ptr_null(bgp_speaker_create(&bad));
    bad = c;
    bad.vips = NULL;
    ck_assert_ptr_null(bgp_speaker_create(&bad));

    struct bgp_speaker *s = bgp_speaker_create(&c);
    ck_assert_ptr_nonnull(s);
    bgp_speaker_destroy(s);
    bgp_speaker_destroy(NULL);
}
END_TEST

START_TEST(test_set_invalid)
{
    struct bgp_speaker_config c = lab_config("/x", NULL);
    struct bgp_speaker *s = bgp_speaker_create(&c);
    struct bgp_announcement a[BGP_SPEAKER_MAX_ANNOUNCED + 1];
    struct bgp_speaker_stats st;

    memset(a, 0, sizeof a);
    for (size_t i = 0; i < ARRAY_SIZE(a); i++) {
        a[i].node_id = i + 1;
        a[i].next_hop = A(10, 1, 0, 10 + i + 1);
        a[i].local_addr = A(10, 1, 40, i + 1);
    }
    ck_assert_int_eq(bgp_speaker_set(s, a, 2), 0);
    ck_assert_int_eq(bgp_speaker_set(s, a, ARRAY_SIZE(a)), EINVAL);
    ck_assert_int_eq(bgp_speaker_set(s, NULL, 1), EINVAL);

    struct bgp_announcement b[2] = { a[0], a[0] };
    ck_assert_int_eq(bgp_speaker_set(s, b, 2), EINVAL);   /* Duplicate. */
    b[1].node_id = 0;
    ck_assert_int_eq(bgp_speaker_set(s, b, 2), EINVAL);
    b[1].node_id = 33;                                    /* > max 32. */
    ck_assert_int_eq(bgp_speaker_set(s, b, 2), EINVAL);
    b[1].node_id = 3;
    b[1].next_hop = 0;
    ck_assert_int_eq(bgp_speaker_set(s, b, 2), EINVAL);

    bgp_speaker_get_stats(s, &st);
    ck_assert_uint_eq(st.rejected, 6);

    /* The rejected sets did not replace the accepted one. */
    struct ds d = DS_EMPTY_INITIALIZER;
    bgp_speaker_format(s, &d);
    ck_assert_ptr_nonnull(strstr(ds_cstr(&d),
        "desired: node 1 via 10.1.0.11 from 10.1.40.1;"
        " node 2 via 10.1.0.12 from 10.1.40.2\n"));
    ck_assert_ptr_nonnull(strstr(ds_cstr(&d), "applied: (unknown)\n"));
    ds_destroy(&d);
    bgp_speaker_destroy(s);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The driver against a fake vtysh. */

static char tmpdir[64];
static char fake[128], logfile[128], rcfile[128];

/* Writes the fake vtysh: it appends its arguments to 'logfile', then a
 * "=====" line, and exits with the status in 'rcfile' ("sleep" makes it
 * sleep instead). */
static void
fake_setup(void)
{
    FILE *f;

    snprintf(tmpdir, sizeof tmpdir, "/tmp/check-bgp-speaker.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(fake, sizeof fake, "%s/vtysh", tmpdir);
    snprintf(logfile, sizeof logfile, "%s/log", tmpdir);
    snprintf(rcfile, sizeof rcfile, "%s/rc", tmpdir);
    f = fopen(fake, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "#!/bin/sh\n"
            "printf '%%s\\n' \"$@\" >>'%s'\n"
            "echo ===== >>'%s'\n"
            "rc=$(cat '%s')\n"
            "[ \"$rc\" = sleep ] && exec sleep 5\n"
            "exit \"$rc\"\n", logfile, logfile, rcfile);
    fclose(f);
    ck_assert_int_eq(chmod(fake, 0755), 0);
}

static void
fake_rc(const char *rc)
{
    FILE *f = fopen(rcfile, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "%s\n", rc);
    fclose(f);
}

/* The arguments of the fake's last run. */
static char *
fake_last_run(void)
{
    FILE *f = fopen(logfile, "r");
    struct ds all = DS_EMPTY_INITIALIZER;

    if (f) {
        int c;
        while ((c = getc(f)) != EOF) {
            ds_put_char(&all, c);
        }
        fclose(f);
    }
    /* Drop the final "=====\n" and keep what follows the one before. */
    char *s = ds_steal_cstr(&all);
    size_t len = strlen(s);
    if (len >= 6) {
        s[len - 6] = '\0';
    }
    char *last = strstr(s, "=====\n"), *next;
    while (last && (next = strstr(last + 1, "=====\n"))) {
        last = next;
    }
    char *r = xstrdup(last ? last + 6 : s);
    free(s);
    return r;
}

static int
fake_runs(void)
{
    FILE *f = fopen(logfile, "r");
    char line[4096];
    int n = 0;

    if (!f) {
        return 0;
    }
    while (fgets(line, sizeof line, f)) {
        n += !strcmp(line, "=====\n");
    }
    fclose(f);
    return n;
}

static void
fake_teardown(void)
{
    unlink(fake);
    unlink(logfile);
    unlink(rcfile);
    rmdir(tmpdir);
}

/* Runs 'sp' until 'done' returns true or 'ms' pass; returns the time
 * taken. */
static long long int
run_until(struct bgp_speaker *sp, bool (*done)(struct bgp_speaker *),
          long long int ms)
{
    long long int start = time_msec();

    for (;;) {
        long long int now = time_msec();
        bgp_speaker_run(sp, now);
        if (done(sp) || now - start > ms) {
            return now - start;
        }
        bgp_speaker_wait(sp, now);
        poll_timer_wait_until(start + ms + 1);
        poll_block();
    }
}

static bool
is_idle(struct bgp_speaker *sp)
{
    return bgp_speaker_is_idle(sp);
}

static bool
has_failed(struct bgp_speaker *sp)
{
    struct bgp_speaker_stats st;
    bgp_speaker_get_stats(sp, &st);
    return st.failures > 0;
}

static struct bgp_announcement ann[3] = {
    { 1, A(10, 1, 0, 11), A(10, 1, 2, 1) },
    { 3, A(10, 1, 0, 13), A(10, 1, 2, 3) },
    { 4, A(10, 1, 0, 14), A(10, 1, 2, 4) },
};

START_TEST(test_driver_apply)
{
    fake_setup();
    fake_rc("0");
    struct bgp_speaker_config c = lab_config("/run/lb2", fake);
    c.max_node_id = 8;
    struct bgp_speaker *sp = bgp_speaker_create(&c);
    struct bgp_speaker_stats st;
    char *run;

    ck_assert_int_eq(bgp_speaker_set(sp, ann, 2), 0);
    ck_assert(!bgp_speaker_is_idle(sp));
    run_until(sp, is_idle, 3000);
    ck_assert(bgp_speaker_is_idle(sp));
    ck_assert_int_eq(fake_runs(), 1);

    /* First run: vtysh on the node's bgpd, stale views of ids 1..8 that
     * are not desired closed, then the two sessions opened. */
    run = fake_last_run();
    ck_assert_ptr_nonnull(strstr(run, "--vty_socket\n/run/lb2\n-d\nbgpd\n"
                                 "-c\nconfigure terminal\n"));
    ck_assert_ptr_nonnull(strstr(run, "no router bgp 65001 view ovslb-2\n"));
    ck_assert_ptr_nonnull(strstr(run, "no router bgp 65001 view ovslb-8\n"));
    ck_assert_ptr_null(strstr(run, "view ovslb-9\n"));
    ck_assert_ptr_null(strstr(run, "no router bgp 65001 view ovslb-1\n"));
    ck_assert_ptr_null(strstr(run, "no router bgp 65001 view ovslb-3\n"));
    ck_assert_ptr_nonnull(strstr(run, " set ip next-hop 10.1.0.11\n"));
    ck_assert_ptr_nonnull(strstr(run, " bgp router-id 10.1.2.3\n"));
    ck_assert(strstr(run, "no router bgp 65001 view ovslb-8\n")
              < strstr(run, "route-map ovslb-nh-1 permit"));
    ck_assert_ptr_nonnull(strstr(run, "exit\nend\n"));
    free(run);
    bgp_speaker_get_stats(sp, &st);
    ck_assert_uint_eq(st.applies, 1);
    ck_assert_uint_eq(st.applied, 1);
    ck_assert_uint_eq(st.opens, 2);
    ck_assert_uint_eq(st.closes, 0);

    /* Nothing changed: nothing runs. */
    ck_assert_int_eq(bgp_speaker_set(sp, ann, 2), 0);
    ck_assert(bgp_speaker_is_idle(sp));
    bgp_speaker_run(sp, time_msec());
    ck_assert_int_eq(fake_runs(), 1);

    /* Node 3 replaced by node 4: only 3 closed, only 4 opened. */
    struct bgp_announcement next[2] = { ann[0], ann[2] };
    ck_assert_int_eq(bgp_speaker_set(sp, next, 2), 0);
    run_until(sp, is_idle, 3000);
    ck_assert_int_eq(fake_runs(), 2);
    run = fake_last_run();
    ck_assert_ptr_nonnull(strstr(run, "no router bgp 65001 view ovslb-3\n"));
    ck_assert_ptr_nonnull(strstr(run, "router bgp 65001 view ovslb-4\n"
                                 " bgp router-id 10.1.2.4\n"));
    ck_assert_ptr_null(strstr(run, "view ovslb-1"));
    ck_assert(strstr(run, "no router bgp 65001 view ovslb-3\n")
              < strstr(run, "view ovslb-4\n bgp"));
    free(run);

    /* A changed next hop for node 1: closed and opened again. */
    next[0].next_hop = A(10, 1, 0, 21);
    ck_assert_int_eq(bgp_speaker_set(sp, next, 2), 0);
    run_until(sp, is_idle, 3000);
    run = fake_last_run();
    ck_assert_ptr_nonnull(strstr(run, "no router bgp 65001 view ovslb-1\n"));
    ck_assert_ptr_nonnull(strstr(run, " set ip next-hop 10.1.0.21\n"));
    ck_assert_ptr_null(strstr(run, "view ovslb-4"));
    free(run);

    /* Withdraw everything. */
    ck_assert_int_eq(bgp_speaker_set(sp, NULL, 0), 0);
    run_until(sp, is_idle, 3000);
    run = fake_last_run();
    ck_assert_ptr_nonnull(strstr(run, "no router bgp 65001 view ovslb-1\n"));
    ck_assert_ptr_nonnull(strstr(run, "no router bgp 65001 view ovslb-4\n"));
    ck_assert_ptr_null(strstr(run, "route-map ovslb-nh-1 permit"));
    free(run);
    bgp_speaker_get_stats(sp, &st);
    ck_assert_uint_eq(st.applied, 4);
    ck_assert_uint_eq(st.opens, 4);
    ck_assert_uint_eq(st.closes, 4);
    ck_assert_uint_eq(st.failures, 0);

    struct ds d = DS_EMPTY_INITIALIZER;
    bgp_speaker_format(sp, &d);
    ck_assert_ptr_nonnull(strstr(ds_cstr(&d), "applied: (none)\n"));
    ck_assert_ptr_nonnull(strstr(ds_cstr(&d), "state: idle\n"));
    ds_destroy(&d);

    bgp_speaker_destroy(sp);
    fake_teardown();
}
END_TEST

START_TEST(test_driver_resync)
{
    fake_setup();
    fake_rc("0");
    struct bgp_speaker_config c = lab_config("/run/lb2", fake);
    c.resync_ms = 200;
    struct bgp_speaker *sp = bgp_speaker_create(&c);

    ck_assert_int_eq(bgp_speaker_set(sp, ann, 1), 0);
    run_until(sp, is_idle, 3000);
    ck_assert_int_eq(fake_runs(), 1);

    /* After 'resync_ms', the desired session is applied again (no
     * purge this time). */
    long long int t0 = time_msec();
    while (fake_runs() < 2 && time_msec() - t0 < 3000) {
        run_until(sp, is_idle, 50);
    }
    ck_assert_int_eq(fake_runs(), 2);
    ck_assert_int_ge(time_msec() - t0, 150);
    char *run = fake_last_run();
    ck_assert_ptr_nonnull(strstr(run, "route-map ovslb-nh-1 permit 10\n"));
    ck_assert_ptr_null(strstr(run, "no router bgp"));
    free(run);

    bgp_speaker_destroy(sp);
    fake_teardown();
}
END_TEST

/* Runs 'sp' for 'ms' milliseconds, or until the fake vtysh ran 'runs'
 * times. */
static void
run_for(struct bgp_speaker *sp, long long int ms, int runs)
{
    long long int end = time_msec() + ms;

    while (time_msec() < end && fake_runs() < runs) {
        long long int now = time_msec();

        bgp_speaker_run(sp, now);
        bgp_speaker_wait(sp, now);
        poll_timer_wait_until(MIN(end, now + 50));
        poll_block();
    }
}

/* Makes 'path' a new file (another inode), as a restarted bgpd makes its
 * vty socket anew. */
static void
touch_new(const char *path)
{
    char tmp[300];
    FILE *f;

    snprintf(tmp, sizeof tmp, "%s.new", path);
    f = fopen(tmp, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(rename(tmp, path), 0);
}

START_TEST(test_driver_bgpd_restart)
{
    fake_setup();
    fake_rc("0");
    char vty[300];
    snprintf(vty, sizeof vty, "%s/bgpd.vty", tmpdir);
    touch_new(vty);
    struct bgp_speaker_config c = lab_config(tmpdir, fake);
    c.resync_ms = 600000;
    struct bgp_speaker *sp = bgp_speaker_create(&c);
    struct bgp_speaker_stats st;

    ck_assert_int_eq(bgp_speaker_set(sp, ann, 1), 0);
    run_until(sp, is_idle, 3000);
    ck_assert_int_eq(fake_runs(), 1);

    /* The same bgpd: nothing more for a while. */
    run_for(sp, 1500, INT_MAX);
    ck_assert_int_eq(fake_runs(), 1);

    /* bgpd restarted (a new vty socket): the whole desired state again,
     * within about a second, long before 'resync_ms'. */
    touch_new(vty);
    run_for(sp, 3000, 2);
    run_until(sp, is_idle, 3000);
    ck_assert_int_eq(fake_runs(), 2);
    char *run = fake_last_run();
    ck_assert_ptr_nonnull(strstr(run, "route-map ovslb-nh-1 permit 10\n"));
    free(run);
    bgp_speaker_get_stats(sp, &st);
    ck_assert_uint_eq(st.restarts_seen, 1);

    unlink(vty);
    bgp_speaker_destroy(sp);
    fake_teardown();
}
END_TEST

START_TEST(test_driver_failure_backoff)
{
    fake_setup();
    fake_rc("1");
    struct bgp_speaker_config c = lab_config("/run/lb2", fake);
    c.max_node_id = 4;
    struct bgp_speaker *sp = bgp_speaker_create(&c);
    struct bgp_speaker_stats st;

    ck_assert_int_eq(bgp_speaker_set(sp, ann, 2), 0);
    run_until(sp, has_failed, 3000);
    bgp_speaker_get_stats(sp, &st);
    ck_assert_uint_eq(st.failures, 1);
    ck_assert_uint_eq(st.applied, 0);
    ck_assert(!bgp_speaker_is_idle(sp));

    /* No retry before the backoff (100 ms). */
    bgp_speaker_run(sp, time_msec());
    ck_assert_int_eq(fake_runs(), 1);

    struct ds d = DS_EMPTY_INITIALIZER;
    bgp_speaker_format(sp, &d);
    ck_assert_ptr_nonnull(strstr(ds_cstr(&d),
                                 "last error: vtysh exit status 1"));
    ds_destroy(&d);

    /* It retries, and once vtysh works the state is applied, the failed
     * run's possible leftovers purged. */
    fake_rc("0");
    long long int took = run_until(sp, is_idle, 3000);
    ck_assert(bgp_speaker_is_idle(sp));
    ck_assert_int_ge(took, 50);
    bgp_speaker_get_stats(sp, &st);
    ck_assert_uint_eq(st.applied, 1);
    char *run = fake_last_run();
    ck_assert_ptr_nonnull(strstr(run, "no router bgp 65001 view ovslb-2\n"));
    ck_assert_ptr_nonnull(strstr(run, "no router bgp 65001 view ovslb-4\n"));
    free(run);

    bgp_speaker_destroy(sp);
    fake_teardown();
}
END_TEST

START_TEST(test_driver_timeout)
{
    fake_setup();
    fake_rc("sleep");
    struct bgp_speaker_config c = lab_config("/run/lb2", fake);
    c.timeout_ms = 200;
    struct bgp_speaker *sp = bgp_speaker_create(&c);
    struct bgp_speaker_stats st;

    ck_assert_int_eq(bgp_speaker_set(sp, ann, 1), 0);
    long long int took = run_until(sp, has_failed, 3000);
    ck_assert_int_ge(took, 200);
    ck_assert_int_lt(took, 1500);
    bgp_speaker_get_stats(sp, &st);
    ck_assert_uint_eq(st.timeouts, 1);
    ck_assert_uint_eq(st.failures, 1);

    fake_rc("0");
    run_until(sp, is_idle, 3000);
    ck_assert(bgp_speaker_is_idle(sp));
    bgp_speaker_destroy(sp);
    fake_teardown();
}
END_TEST

START_TEST(test_driver_no_vtysh)
{
    struct bgp_speaker_config c = lab_config("/run/lb2",
                                             "/nonexistent/vtysh");
    struct bgp_speaker *sp = bgp_speaker_create(&c);
    struct bgp_speaker_stats st;

    ck_assert_int_eq(bgp_speaker_set(sp, ann, 1), 0);
    bgp_speaker_run(sp, time_msec());
    bgp_speaker_get_stats(sp, &st);
    ck_assert_uint_eq(st.failures, 1);
    ck_assert(!bgp_speaker_is_idle(sp));

    struct ds d = DS_EMPTY_INITIALIZER;
    bgp_speaker_format(sp, &d);
    ck_assert_ptr_nonnull(strstr(ds_cstr(&d),
                                 "last error: /nonexistent/vtysh"));
    ck_assert_ptr_nonnull(strstr(ds_cstr(&d), "state: pending\n"));
    ds_destroy(&d);
    bgp_speaker_destroy(sp);
}
END_TEST

static Suite *
bgp_speaker_suite(void)
{
    Suite *s = suite_create("bgp-speaker");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_session_addr);
    tcase_add_test(tc, test_ring_neighbours);
    tcase_add_test(tc, test_ring_gaps_and_sizes);
    tcase_add_test(tc, test_ring_malformed);
    tcase_add_test(tc, test_render);
    tcase_add_test(tc, test_create_invalid);
    tcase_add_test(tc, test_set_invalid);
    tcase_add_test(tc, test_driver_apply);
    tcase_add_test(tc, test_driver_resync);
    tcase_add_test(tc, test_driver_bgpd_restart);
    tcase_add_test(tc, test_driver_failure_backoff);
    tcase_add_test(tc, test_driver_timeout);
    tcase_add_test(tc, test_driver_no_vtysh);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(bgp_speaker_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
