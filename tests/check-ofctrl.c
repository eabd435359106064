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
 * Check suite of lib/ofctrl: a dummy-datapath test.  Each test case runs a
 * real ovsdb-server and "ovs-vswitchd --enable-dummy" in a temporary run
 * directory (no root needed), with bridge br0 (datapath_type=dummy,
 * fail-mode=secure, OpenFlow 1.3 and 1.5) holding dummy ports p1 (OpenFlow
 * port 1) and p2 (port 2), and drives ofctrl's poll loop against it with
 * bounded loops.  One more case plays a hostile switch on a unix socket.
 *
 * The daemons are started and stopped by unchecked fixtures, which run in
 * the parent process, so they are stopped (by pid file) even when a test
 * fails or crashes in its forked child.
 */
#include <config.h>
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "byte-order.h"
#include "flow.h"
#include "ofctrl.h"
#include "ovs-dummy.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-bundle.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-monitor.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vconn.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "timeval.h"
#include "util.h"

#define COOKIE UINT64_C(0x5eed0001)
#define COOKIE_STR "0x5eed0001"
#define TLV_MAP "{class=0xffff,type=0x80,len=4}->tun_metadata0"

static const char *
target(void)
{
    static char s[128];

    snprintf(s, sizeof s, "unix:%s/br0.mgmt", rundir);
    return s;
}

/* Returns the flows of br0 without statistics, one per line. */
static char *
dump_flows(void)
{
    return sh_output("ovs-ofctl -O OpenFlow13 dump-flows --no-stats %s",
                     target());
}

/* Returns the number of lines of 'text' that contain 'needle'. */
static int
count_lines(const char *text, const char *needle)
{
    int n = 0;

    for (const char *line = text; line && *line; ) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t) (end - line) : strlen(line);
        char *copy = xmemdup0(line, len);

        n += strstr(copy, needle) != NULL;
        free(copy);
        line = end ? end + 1 : NULL;
    }
    return n;
}

/* Returns the number of flows in br0 whose dump contains 'needle'. */
static int
count_flows(const char *needle)
{
    char *flows = dump_flows();
    int n = count_lines(flows, needle);

    free(flows);
    return n;
}

static const struct ovs_dummy_port br0_ports[] = {
    { "p1", 1 },
    { "p2", 2 },
};

/* Unchecked fixture: a fresh run directory. */
static void
tmpdir_setup(void)
{
    ovs_dummy_tmpdir("check-ofctrl");
}

/* Unchecked fixture: a fresh run directory with ovsdb-server and
 * ovs-vswitchd running in it. */
static void
daemons_setup(void)
{
    ovs_dummy_start("check-ofctrl", "br0", br0_ports, ARRAY_SIZE(br0_ports));
}

/* Poll loop. */

typedef bool condition_func(struct ofctrl *, const void *aux);

/* Runs the poll loop of 'oc' until 'cond' holds or 'timeout_ms' passed.
 * Returns true if 'cond' held. */
static bool
run_until(struct ofctrl *oc, condition_func *cond, const void *aux,
          int timeout_ms)
{
    long long int deadline = time_msec() + timeout_ms;

    for (;;) {
        ofctrl_run(oc);
        if (cond && cond(oc, aux)) {
            return true;
        }
        if (time_msec() >= deadline) {
            return false;
        }
        ofctrl_wait(oc);
        poll_timer_wait_until(deadline);
        poll_timer_wait(50);
        poll_block();
    }
}

/* Runs the poll loop of 'oc' for 'ms' milliseconds. */
static void
run_for(struct ofctrl *oc, int ms)
{
    run_until(oc, NULL, NULL, ms);
}

static bool
is_synced(struct ofctrl *oc, const void *aux OVS_UNUSED)
{
    return ofctrl_is_synced(oc);
}

static bool
is_connected(struct ofctrl *oc, const void *aux OVS_UNUSED)
{
    return ofctrl_is_connected(oc);
}

/* Synced on connection number '*aux' or later. */
static bool
is_synced_after(struct ofctrl *oc, const void *aux)
{
    const uint64_t *n_connections = aux;
    struct ofctrl_stats st;

    ofctrl_get_stats(oc, &st);
    return st.n_connections >= *n_connections && ofctrl_is_synced(oc);
}

/* At least '*aux' connections made. */
static bool
has_connections(struct ofctrl *oc, const void *aux)
{
    const uint64_t *n_connections = aux;
    struct ofctrl_stats st;

    ofctrl_get_stats(oc, &st);
    return st.n_connections >= *n_connections;
}

static struct ofctrl_stats
stats(const struct ofctrl *oc)
{
    struct ofctrl_stats st;

    ofctrl_get_stats(oc, &st);
    return st;
}

static void
add_flow(struct ofctrl *oc, const char *flow, const char *actions)
{
    char *error = ofctrl_flow_add_str(oc, flow, actions);

    ck_assert_msg(!error, "%s actions=%s: %s", flow,
                  actions ? actions : "", error);
}

static struct ofctrl *
create_connected(void)
{
    struct ofctrl *oc = ofctrl_create(target(), COOKIE, 0);

    ck_assert_ptr_nonnull(oc);
    ck_assert(run_until(oc, is_connected, NULL, 3000));
    return oc;
}

static void
parse_actions(const char *s, struct ofpbuf *ofpacts)
{
    enum ofputil_protocol usable;
    struct ofpact_parse_params pp = {
        .ofpacts = ofpacts,
        .usable_protocols = &usable,
    };
    char *error = ofpacts_parse_actions(s, &pp);

    ck_assert_msg(!error, "%s: %s", s, error);
}

/* Desired flows and groups reach the switch, with our cookie, only after the
 * first commit, in one bundle confirmed by one barrier. */
START_TEST(test_install)
{
    struct ofctrl *oc = create_connected();
    struct ofpbuf ofpacts;
    struct ofctrl_stats st;
    struct match match;
    char *error;
    char *out;

    ck_assert_ptr_null(ofctrl_set_tlv_map(oc, TLV_MAP));
    add_flow(oc, "table=0,priority=100,ip,nw_dst=203.0.113.10", "group:1");
    add_flow(oc, "table=1,priority=50,tun_metadata0=0x1234",
             "actions=output:2");
    error = ofctrl_group_set(oc, 1, "type=select,selection_method=hash,"
                             "fields(ip_src,ip_dst),"
                             "bucket=actions=output:1,"
                             "bucket=actions=output:2");
    ck_assert_msg(!error, "%s", error);
    ck_assert_ptr_null(ofctrl_meter_set(oc, 5, "pktps,band=type=drop,"
                                        "rate=100"));
    ck_assert_ptr_null(ofctrl_meter_set(oc, OFPM13_CONTROLLER,
                                        "pktps,band=type=drop,rate=1000"));
    add_flow(oc, "priority=20,ip,nw_dst=203.0.113.20", "meter:5,output:1");

    /* The API form. */
    match_init_catchall(&match);
    match_set_in_port(&match, 2);
    match_set_dl_type(&match, htons(ETH_TYPE_IP));
    ofpbuf_init(&ofpacts, 64);
    parse_actions("output:1", &ofpacts);
    ck_assert_int_eq(ofctrl_flow_add(oc, 0, 10, &match, ofpacts.data,
                                     ofpacts.size, 0, 0), 0);

    /* Nothing is sent before the first commit. */
    run_for(oc, 300);
    st = stats(oc);
    ck_assert_uint_eq(st.n_flow_mods, 0);
    ck_assert_uint_eq(st.n_desired_flows, 4);
    ck_assert_uint_eq(st.n_desired_meters, 2);
    ck_assert(!ofctrl_is_synced(oc));
    ck_assert_int_eq(count_flows("cookie="), 0);
    ck_assert(!ofctrl_flow_is_installed(oc, 0, 10, &match));

    ofctrl_commit(oc);
    ck_assert(run_until(oc, is_synced, NULL, 5000));
    st = stats(oc);
    ck_assert_uint_eq(st.n_flow_mods, 4);
    ck_assert_uint_eq(st.n_group_mods, 1);
    ck_assert_uint_eq(st.n_meter_mods, 2);
    ck_assert_uint_eq(st.n_bundles, 1);
    ck_assert_uint_eq(st.n_barriers, 1);
    ck_assert_uint_eq(st.n_errors, 0);
    ck_assert_uint_eq(st.n_installed_flows, 4);
    ck_assert(ofctrl_flow_is_installed(oc, 0, 10, &match));
    ck_assert_int_ge(ofctrl_get_version(oc), OFP13_VERSION);
    ck_assert(ofctrl_get_datapath_id(oc) != 0);

    out = dump_flows();
    ck_assert_int_eq(count_lines(out, "cookie=" COOKIE_STR), 4);
    ck_assert_int_eq(count_lines(out, "nw_dst=203.0.113.10 "
                                 "actions=group:1"), 1);
    ck_assert_int_eq(count_lines(out, "nw_dst=203.0.113.20 "
                                 "actions=meter:5,output:1"), 1);
    ck_assert_msg(count_lines(out, "table=1, send_flow_rem priority=50,"
                              "tun_metadata0=0x1234 actions=output:2") == 1,
                  "%s", out);
    ck_assert_int_eq(count_lines(out, "priority=10,ip,in_port=2 "
                                 "actions=output:1"), 1);
    free(out);
    out = sh_output("ovs-ofctl -O OpenFlow15 dump-groups %s", target());
    ck_assert_msg(strstr(out, "group_id=1,type=select") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "selection_method=hash") != NULL, "%s", out);
    free(out);
    out = sh_output("ovs-ofctl -O OpenFlow15 dump-tlv-map %s", target());
    ck_assert_msg(strstr(out, "0xffff  0x80       4  tun_metadata0"),
                  "%s", out);
    free(out);
    out = sh_output("ovs-ofctl -O OpenFlow15 dump-meters %s", target());
    ck_assert_msg(strstr(out, "meter=5 pktps bands=\ntype=drop rate=100"),
                  "%s", out);
    ck_assert_msg(strstr(out, "meter=controller pktps bands=\n"
                         "type=drop rate=1000"), "%s", out);
    free(out);

    {
        struct ds s = DS_EMPTY_INITIALIZER;

        ofctrl_format_stats(oc, &s);
        ck_assert_msg(strstr(ds_cstr(&s), "n_flow_mods: 4\n"), "%s",
                      ds_cstr(&s));
        ck_assert_msg(strstr(ds_cstr(&s), "synced"), "%s", ds_cstr(&s));
        ds_destroy(&s);
    }

    ofpbuf_uninit(&ofpacts);
    ofctrl_destroy(oc);
}
END_TEST

/* Only the difference is sent; flows of others are never touched, across
 * commits, a reconnection and a clear; our flows deleted by somebody else
 * come back. */
START_TEST(test_diff_and_foreign)
{
    struct ofctrl *oc;
    struct ofctrl_stats st;
    uint64_t n_conn;
    char *out;

    ck_assert_int_eq(sh("ovs-ofctl -O OpenFlow13 add-flow %s "
                        "'cookie=0x99,table=0,priority=100,ip,"
                        "nw_dst=198.51.100.7,actions=output:2'",
                        target()), 0);
    ck_assert_int_eq(sh("ovs-ofctl -O OpenFlow13 add-flow %s "
                        "'cookie=0x99,table=0,priority=10,in_port=1,"
                        "actions=drop'", target()), 0);

    oc = create_connected();
    ck_assert_ptr_null(ofctrl_meter_set(oc, 9, "kbps,band=type=drop,"
                                        "rate=10000"));
    add_flow(oc, "priority=100,ip,nw_dst=203.0.113.10", "output:1");
    add_flow(oc, "priority=90,ip,nw_dst=203.0.113.11", "output:1");
    add_flow(oc, "priority=10,in_port=2", "output:1");
    ofctrl_commit(oc);
    ck_assert(run_until(oc, is_synced, NULL, 5000));
    st = stats(oc);
    ck_assert_uint_eq(st.n_flow_mods, 3);
    ck_assert_uint_eq(st.n_bundles, 1);

    /* Modify one, delete one, add one, re-add one unchanged. */
    add_flow(oc, "priority=100,ip,nw_dst=203.0.113.10", "output:2");
    bool found;
    ck_assert_ptr_null(ofctrl_flow_del_str(
                           oc, "priority=90,ip,nw_dst=203.0.113.11",
                           &found));
    ck_assert(found);
    add_flow(oc, "priority=80,ip,nw_dst=203.0.113.12", "output:2");
    add_flow(oc, "priority=10,in_port=2", "output:1");
    ofctrl_commit(oc);
    ck_assert(run_until(oc, is_synced, NULL, 5000));
    st = stats(oc);
    ck_assert_uint_eq(st.n_flow_mods, 6);
    ck_assert_uint_eq(st.n_bundles, 2);
    ck_assert_uint_eq(st.n_desired_flows, 3);

    /* Re-adding everything unchanged sends nothing. */
    ofctrl_clear(oc);
    ck_assert_ptr_null(ofctrl_meter_set(oc, 9, "kbps,band=type=drop,"
                                        "rate=10000"));
    add_flow(oc, "priority=100,ip,nw_dst=203.0.113.10", "output:2");
    add_flow(oc, "priority=80,ip,nw_dst=203.0.113.12", "output:2");
    add_flow(oc, "priority=10,in_port=2", "output:1");
    ofctrl_commit(oc);
    run_for(oc, 200);
    ck_assert(ofctrl_is_synced(oc));
    st = stats(oc);
    ck_assert_uint_eq(st.n_flow_mods, 6);
    ck_assert_uint_eq(st.n_bundles, 2);

    out = dump_flows();
    ck_assert_int_eq(count_lines(out, "cookie=0x99,"), 2);
    ck_assert_int_eq(count_lines(out, "cookie=" COOKIE_STR), 3);
    ck_assert_int_eq(count_lines(out, "nw_dst=203.0.113.10 "
                                 "actions=output:2"), 1);
    ck_assert_int_eq(count_lines(out, "203.0.113.11"), 0);
    ck_assert_int_eq(count_lines(out, "nw_dst=203.0.113.12 "
                                 "actions=output:2"), 1);
    free(out);

    /* A reconnection costs a dump, no flow-mod (and for the meter, an add
     * that the switch refuses because the meter exists, then a modify). */
    ck_assert_uint_eq(st.n_meter_mods, 1);
    ofctrl_reconnect(oc);
    n_conn = 2;
    ck_assert(run_until(oc, is_synced_after, &n_conn, 5000));
    st = stats(oc);
    ck_assert_uint_eq(st.n_dumps, 2);
    ck_assert_uint_eq(st.n_flow_mods, 6);
    ck_assert_uint_eq(st.n_meter_mods, 3);
    ck_assert_uint_eq(st.n_errors, 0);
    ck_assert_uint_eq(st.n_installed_flows, 3);
    ck_assert_int_eq(count_flows("cookie=0x99,"), 2);

    /* Somebody deletes our flows: they come back, theirs stay. */
    ck_assert_int_eq(sh("ovs-ofctl -O OpenFlow13 del-flows %s "
                        "'cookie=" COOKIE_STR "/-1'", target()), 0);
    ck_assert_int_eq(count_flows("cookie=" COOKIE_STR), 0);
    run_for(oc, 300);
    ck_assert(run_until(oc, is_synced, NULL, 5000));
    st = stats(oc);
    ck_assert_uint_eq(st.n_repairs, 3);
    ck_assert_uint_eq(st.n_flow_mods, 9);
    out = dump_flows();
    ck_assert_int_eq(count_lines(out, "cookie=" COOKIE_STR), 3);
    ck_assert_int_eq(count_lines(out, "cookie=0x99,"), 2);
    free(out);

    /* Clearing ours leaves theirs. */
    ofctrl_clear(oc);
    ofctrl_commit(oc);
    ck_assert(run_until(oc, is_synced, NULL, 5000));
    st = stats(oc);
    ck_assert_uint_eq(st.n_flow_mods, 12);
    ck_assert_uint_eq(st.n_installed_flows, 0);
    out = dump_flows();
    ck_assert_int_eq(count_lines(out, "cookie=" COOKIE_STR), 0);
    ck_assert_int_eq(count_lines(out, "cookie=0x99,"), 2);
    free(out);

    ofctrl_destroy(oc);
}
END_TEST

/* A delete of one of our flows (by match, priority and our cookie under
 * OFCTRL_COOKIE_MASK, not the switch's cookie index: see encode_flow_mod())
 * removes ours and only ours: a flow that somebody else put in its place,
 * with the same table, priority and match but their cookie, stays. */
START_TEST(test_delete_only_ours)
{
    struct ofctrl *oc = create_connected();
    bool found;
    char *out;

    add_flow(oc, "priority=50,ip,nw_dst=203.0.113.50", "output:1");
    add_flow(oc, "priority=50,ip,nw_dst=203.0.113.51", "output:1");
    ofctrl_commit(oc);
    ck_assert(run_until(oc, is_synced, NULL, 5000));

    /* Theirs replaces ours for .51. */
    ck_assert_int_eq(sh("ovs-ofctl -O OpenFlow13 add-flow %s "
                        "'cookie=0x99,table=0,priority=50,ip,"
                        "nw_dst=203.0.113.51,actions=output:2'",
                        target()), 0);
    ck_assert_ptr_null(ofctrl_flow_del_str(
                           oc, "priority=50,ip,nw_dst=203.0.113.50", &found));
    ck_assert(found);
    ck_assert_ptr_null(ofctrl_flow_del_str(
                           oc, "priority=50,ip,nw_dst=203.0.113.51", &found));
    ck_assert(found);
    ofctrl_commit(oc);
    ck_assert(run_until(oc, is_synced, NULL, 5000));
    out = dump_flows();
    ck_assert_int_eq(count_lines(out, "nw_dst=203.0.113.50"), 0);
    ck_assert_int_eq(count_lines(out, "cookie=0x99,"), 1);
    ck_assert_int_eq(count_lines(out, "nw_dst=203.0.113.51 "
                                 "actions=output:2"), 1);
    free(out);
    ofctrl_destroy(oc);
}
END_TEST

/* Flows whose match the switch reports otherwise than we wrote it: one built
 * in binary (as the hash slots are) with a match on a field that has
 * prerequisites, which the switch reports with packet_type=(0,0), and one
 * parsed from "nw_frag=yes", whose mask the switch narrows.  Each is still
 * one flow to us: a reconnection, or a new ofctrl (a restarted controller)
 * that desires them again, finds them in the dump and sends nothing, and
 * the switch keeps them.  (Each used to be added again and then deleted as
 * a flow of ours that nobody desired, leaving the switch without it.) */
#define FRAG_FLOW "priority=210,udp,nw_dst=203.0.113.11,nw_frag=yes"

/* Makes 'oc' desire the binary flow 'm' (actions 'ofpacts') and FRAG_FLOW,
 * and waits until it is synced. */
static void
desire_both(struct ofctrl *oc, const struct match *m,
            const struct ofpbuf *ofpacts)
{
    ck_assert_int_eq(ofctrl_flow_add(oc, 12, 100, m, ofpacts->data,
                                     ofpacts->size, 0, 0), 0);
    add_flow(oc, FRAG_FLOW, "drop");
    ofctrl_commit(oc);
    ck_assert(run_until(oc, is_synced, NULL, 5000));
}

START_TEST(test_binary_match_as_switch)
{
    struct ofpbuf ofpacts;
    struct ofctrl *oc;
    struct match m;
    uint64_t n_conn;

    ofpbuf_init(&ofpacts, 0);
    parse_actions("set_field:10.2.0.101->tun_dst,output:1", &ofpacts);
    match_init_catchall(&m);
    match_set_reg(&m, 1, 1);
    match_set_reg(&m, 0, 16);
    match_set_dl_type(&m, htons(ETH_TYPE_IP));
    match_set_nw_proto(&m, IPPROTO_UDP);

    oc = create_connected();
    desire_both(oc, &m, &ofpacts);
    ck_assert_uint_eq(stats(oc).n_flow_mods, 2);
    ck_assert(ofctrl_flow_is_current(oc, 12, 100, &m));
    ck_assert(ofctrl_flow_is_installed(oc, 12, 100, &m));

    ofctrl_reconnect(oc);
    n_conn = 2;
    ck_assert(run_until(oc, is_synced_after, &n_conn, 5000));
    run_for(oc, 200);
    ck_assert_uint_eq(stats(oc).n_flow_mods, 2);
    ck_assert_uint_eq(stats(oc).n_installed_flows, 2);
    ck_assert_int_eq(count_flows("udp,reg0=0x10,reg1=0x1 "), 1);
    ck_assert_int_eq(count_flows("nw_frag=yes"), 1);
    ofctrl_destroy(oc);

    oc = create_connected();
    desire_both(oc, &m, &ofpacts);
    run_for(oc, 200);
    ck_assert_uint_eq(stats(oc).n_flow_mods, 0);
    ck_assert_uint_eq(stats(oc).n_installed_flows, 2);
    ck_assert_int_eq(count_flows("udp,reg0=0x10,reg1=0x1 "), 1);
    ck_assert_int_eq(count_flows("nw_frag=yes"), 1);

    /* And deleting it by the same match removes it. */
    ck_assert(ofctrl_flow_del(oc, 12, 100, &m));
    ofctrl_commit(oc);
    ck_assert(run_until(oc, is_synced, NULL, 5000));
    ck_assert_int_eq(count_flows("reg0=0x10"), 0);
    ofctrl_destroy(oc);
    ofpbuf_uninit(&ofpacts);
}
END_TEST

/* Restarting ovs-vswitchd loses flows, groups and the TLV map; ofctrl puts
 * them back by itself. */
START_TEST(test_vswitchd_restart)
{
    struct ofctrl *oc = create_connected();
    struct ofctrl_stats st;
    uint64_t n_conn;
    char *out;

    ck_assert_ptr_null(ofctrl_set_tlv_map(oc, TLV_MAP));
    add_flow(oc, "priority=100,in_port=1,ip",
             "set_field:0x42->tun_metadata0,output:2");
    add_flow(oc, "priority=90,ip,nw_dst=203.0.113.10", "group:7");
    ck_assert_ptr_null(ofctrl_group_set(oc, 7, "type=select,"
                                        "bucket=actions=output:1,"
                                        "bucket=actions=output:2"));
    ck_assert_ptr_null(ofctrl_meter_set(oc, 3, "pktps,band=type=drop,"
                                        "rate=50"));
    add_flow(oc, "priority=80,ip,nw_dst=203.0.113.30", "meter:3,output:1");
    ofctrl_commit(oc);
    ck_assert(run_until(oc, is_synced, NULL, 5000));
    ck_assert_int_eq(count_flows("cookie=" COOKIE_STR), 3);

    ovs_dummy_stop_daemon("ovs-vswitchd.pid");
    ovs_dummy_start_vswitchd();
    n_conn = 2;
    ck_assert(run_until(oc, is_synced_after, &n_conn, 9000));

    st = stats(oc);
    ck_assert_uint_eq(st.n_connections, 2);
    ck_assert_uint_eq(st.n_errors, 0);
    ck_assert_uint_eq(st.n_flow_mods, 6);
    ck_assert_uint_eq(st.n_group_mods, 2);
    ck_assert_uint_eq(st.n_meter_mods, 2);
    out = dump_flows();
    ck_assert_int_eq(count_lines(out, "cookie=" COOKIE_STR), 3);
    ck_assert_int_eq(count_lines(out, "actions=meter:3,output:1"), 1);
    ck_assert_int_eq(count_lines(out, "set_field:0x42->tun_metadata0"), 1);
    free(out);
    out = sh_output("ovs-ofctl -O OpenFlow15 dump-tlv-map %s", target());
    ck_assert_msg(strstr(out, "tun_metadata0"), "%s", out);
    free(out);
    out = sh_output("ovs-ofctl -O OpenFlow15 dump-groups %s", target());
    ck_assert_msg(strstr(out, "group_id=7,type=select"), "%s", out);
    free(out);
    out = sh_output("ovs-ofctl -O OpenFlow15 dump-meters %s", target());
    ck_assert_msg(strstr(out, "meter=3 pktps"), "%s", out);
    free(out);

    ofctrl_destroy(oc);
}
END_TEST

static bool
has_packet_ins(struct ofctrl *oc, const void *aux)
{
    const uint64_t *n = aux;

    return stats(oc).n_packet_ins + stats(oc).n_packet_in_drops >= *n;
}

static void
inject(int n)
{
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(sh("ovs-appctl -t %s/ovs-vswitchd.ctl "
                            "netdev-dummy/receive p1 "
                            "'in_port(1),eth(src=50:54:00:00:00:05,"
                            "dst=50:54:00:00:00:07),eth_type(0x0800),"
                            "ipv4(src=198.51.100.2,dst=203.0.113.10,"
                            "proto=6,tos=0,ttl=64,frag=no),"
                            "tcp(src=%d,dst=80)' >/dev/null",
                            rundir, 40000 + i), 0);
    }
}

/* Returns the number of packets port 'port' of br0 sent. */
static long
port_tx_packets(int port)
{
    char *out = sh_output("ovs-ofctl -O OpenFlow13 dump-ports %s %d",
                          target(), port);
    const char *tx = strstr(out, "tx pkts=");
    long n = tx ? strtol(tx + 8, NULL, 10) : -1;

    free(out);
    return n;
}

/* A packet sent to the controller by one of our flows comes out of
 * ofctrl_recv_packet_in() decoded; a packet-out leaves through its port;
 * the packet-in queue is bounded. */
START_TEST(test_packet_in_out)
{
    struct ofctrl *oc = create_connected();
    struct ofctrl_packet_in *p;
    struct ofpbuf ofpacts;
    uint8_t frame[256];
    uint8_t md[124];
    size_t frame_len;
    size_t md_len;
    uint64_t n;

    ck_assert_ptr_null(ofctrl_set_tlv_map(oc, TLV_MAP));
    add_flow(oc, "priority=100,in_port=1,ip",
             "set_field:0x1234->tun_metadata0,"
             "controller(userdata=01.02.03)");
    ofctrl_commit(oc);
    ck_assert(run_until(oc, is_synced, NULL, 5000));

    inject(1);
    n = 1;
    ck_assert(run_until(oc, has_packet_ins, &n, 3000));
    p = ofctrl_recv_packet_in(oc);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_null(ofctrl_recv_packet_in(oc));
    ck_assert_int_eq(ofp_to_u16(p->in_port), 1);
    ck_assert(p->pin.cookie == htonll(COOKIE));
    ck_assert_int_eq(p->pin.table_id, 0);
    ck_assert_uint_eq(p->pin.userdata_len, 3);
    ck_assert_int_eq(memcmp(p->pin.userdata, "\1\2\3", 3), 0);
    ck_assert_uint_ge(p->pin.packet_len, 54);
    ck_assert_uint_eq(p->total_len, p->pin.packet_len);
    ck_assert_int_eq(memcmp(p->pin.packet,
                            "\x50\x54\x00\x00\x00\x07"
                            "\x50\x54\x00\x00\x00\x05\x08\x00", 14), 0);
    ck_assert_int_eq(memcmp((uint8_t *) p->pin.packet + 30,
                            "\xcb\x00\x71\x0a", 4), 0);
    ck_assert(ofctrl_packet_in_get_tun_metadata(p, 0, md, sizeof md,
                                                &md_len));
    ck_assert_uint_ge(md_len, 2);
    ck_assert_int_eq(md[md_len - 2], 0x12);
    ck_assert_int_eq(md[md_len - 1], 0x34);
    ck_assert(!ofctrl_packet_in_get_tun_metadata(p, 1, md, sizeof md,
                                                 &md_len));
    ck_assert(!ofctrl_packet_in_get_tun_metadata(p, 64, md, sizeof md,
                                                 &md_len));
    ck_assert(!ofctrl_packet_in_get_tun_metadata(p, 0, md, 1, &md_len));
    frame_len = MIN(p->pin.packet_len, sizeof frame);
    memcpy(frame, p->pin.packet, frame_len);
    ofctrl_packet_in_destroy(p);

    /* Packet-out through port 2. */
    ck_assert_int_eq(port_tx_packets(2), 0);
    ofpbuf_init(&ofpacts, 64);
    parse_actions("output:2", &ofpacts);
    ck_assert_int_eq(ofctrl_send_packet_out(oc, frame, frame_len,
                                            OFPP_CONTROLLER, ofpacts.data,
                                            ofpacts.size), 0);
    for (int i = 0; i < 40 && port_tx_packets(2) < 1; i++) {
        run_for(oc, 50);
    }
    ck_assert_int_eq(port_tx_packets(2), 1);
    ck_assert_uint_eq(stats(oc).n_packet_outs, 1);

    /* The queue holds 2; 3 more are dropped and counted. */
    ofctrl_set_packet_in_limit(oc, 2);
    inject(5);
    n = 6;
    ck_assert(run_until(oc, has_packet_ins, &n, 3000));
    ck_assert_uint_eq(stats(oc).n_packet_ins, 3);
    ck_assert_uint_eq(stats(oc).n_packet_in_drops, 3);
    for (int i = 0; i < 2; i++) {
        p = ofctrl_recv_packet_in(oc);
        ck_assert_ptr_nonnull(p);
        ofctrl_packet_in_destroy(p);
    }
    ck_assert_ptr_null(ofctrl_recv_packet_in(oc));

    ofpbuf_uninit(&ofpacts);
    ofctrl_destroy(oc);
}
END_TEST

static bool
has_expiry(struct ofctrl *oc, const void *aux OVS_UNUSED)
{
    return stats(oc).n_expired > 0;
}

/* A flow whose idle timeout expires in the switch leaves both tables and is
 * reported; it is not re-added. */
START_TEST(test_idle_timeout)
{
    struct ofctrl *oc = create_connected();
    struct ofputil_flow_removed fr;
    struct ofctrl_stats st;

    add_flow(oc, "priority=200,ip,nw_src=198.51.100.9,idle_timeout=1",
             "output:2");
    add_flow(oc, "priority=1", "drop");
    ofctrl_commit(oc);
    ck_assert(run_until(oc, is_synced, NULL, 5000));
    ck_assert_int_eq(count_flows("nw_src=198.51.100.9"), 1);
    ck_assert(!ofctrl_recv_flow_removed(oc, &fr));

    ck_assert(run_until(oc, has_expiry, NULL, 6000));
    ck_assert(ofctrl_recv_flow_removed(oc, &fr));
    ck_assert_int_eq(fr.reason, OFPRR_IDLE_TIMEOUT);
    ck_assert_int_eq(fr.priority, 200);
    ck_assert_int_eq(fr.table_id, 0);
    ck_assert_int_eq(fr.idle_timeout, 1);
    ck_assert(fr.cookie == htonll(COOKIE));
    ck_assert(fr.match.flow.nw_src == htonl(0xc6336409));
    ck_assert(fr.match.wc.masks.nw_src == OVS_BE32_MAX);
    ck_assert(!ofctrl_recv_flow_removed(oc, &fr));

    run_for(oc, 300);
    st = stats(oc);
    ck_assert_uint_eq(st.n_expired, 1);
    ck_assert_uint_eq(st.n_desired_flows, 1);
    ck_assert_uint_eq(st.n_installed_flows, 1);
    ck_assert_uint_eq(st.n_flow_mods, 2);
    ck_assert(ofctrl_is_synced(oc));
    ck_assert_int_eq(count_flows("nw_src=198.51.100.9"), 0);
    ck_assert_int_eq(count_flows("cookie=" COOKIE_STR), 1);

    ofctrl_destroy(oc);
}
END_TEST

static bool
good_installed_after_error(struct ofctrl *oc, const void *aux OVS_UNUSED)
{
    return stats(oc).n_errors >= 1 && stats(oc).n_installed_flows == 2;
}

static bool
retried(struct ofctrl *oc, const void *aux OVS_UNUSED)
{
    return stats(oc).n_retries >= 1 && stats(oc).n_errors >= 2;
}

/* A flow the switch rejects is counted, does not hold back the others, is
 * retried alone, and stops being retried once it leaves the desired
 * table. */
START_TEST(test_switch_error)
{
    struct ofctrl *oc = create_connected();
    struct ofctrl_stats st;
    bool found;
    char *out;

    add_flow(oc, "priority=100,ip,nw_dst=203.0.113.10", "output:1");
    add_flow(oc, "priority=90,ip,nw_dst=203.0.113.11", "output:2");
    add_flow(oc, "priority=50,ip,nw_dst=203.0.113.99", "group:77");
    ofctrl_commit(oc);
    ck_assert(run_until(oc, good_installed_after_error, NULL, 3000));
    ck_assert(!ofctrl_is_synced(oc));
    out = dump_flows();
    ck_assert_int_eq(count_lines(out, "cookie=" COOKIE_STR), 2);
    ck_assert_int_eq(count_lines(out, "203.0.113.99"), 0);
    free(out);

    ck_assert(run_until(oc, retried, NULL, 4000));
    st = stats(oc);
    ck_assert_uint_eq(st.n_installed_flows, 2);
    ck_assert(!ofctrl_is_synced(oc));

    ck_assert_ptr_null(ofctrl_flow_del_str(
                           oc, "priority=50,ip,nw_dst=203.0.113.99",
                           &found));
    ck_assert(found);
    ofctrl_commit(oc);
    ck_assert(run_until(oc, is_synced, NULL, 3000));
    ck_assert_int_eq(count_flows("cookie=" COOKIE_STR), 2);

    ofctrl_destroy(oc);
}
END_TEST

/* A table larger than one transaction goes in several, each confirmed
 * before the next; a reconnection re-reads it all without a flow-mod. */
START_TEST(test_scale)
{
    enum { N = OFCTRL_TXN_MAX_MSGS + 1808 };
    struct ofctrl *oc = create_connected();
    long long int start, installed, reconnected, resynced;
    struct ofctrl_stats st;
    uint64_t n_conn;

    for (int i = 0; i < N; i++) {
        char flow[128];

        snprintf(flow, sizeof flow, "table=2,priority=1000,tcp,"
                 "nw_src=198.51.%d.%d,tp_src=%d,nw_dst=203.0.113.10,"
                 "tp_dst=80,idle_timeout=600",
                 100 + i / 250, i % 250 + 1, 1024 + i);
        add_flow(oc, flow, "set_field:10.2.0.101->tun_dst,output:2");
    }
    start = time_msec();
    ofctrl_commit(oc);
    ck_assert(run_until(oc, is_synced, NULL, 10000));
    installed = time_msec();
    st = stats(oc);
    ck_assert_uint_eq(st.n_flow_mods, N);
    ck_assert_uint_eq(st.n_bundles, 2);
    ck_assert_uint_eq(st.n_barriers, 2);
    ck_assert_uint_eq(st.n_installed_flows, N);
    ck_assert_int_eq(count_flows("cookie=" COOKIE_STR), N);

    ofctrl_reconnect(oc);
    n_conn = 2;
    ck_assert(run_until(oc, has_connections, &n_conn, 5000));
    reconnected = time_msec();
    ck_assert(run_until(oc, is_synced_after, &n_conn, 10000));
    resynced = time_msec();
    st = stats(oc);
    ck_assert_uint_eq(st.n_flow_mods, N);
    ck_assert_uint_eq(st.n_installed_flows, N);

    fprintf(stderr, "check-ofctrl: %d flows installed in %lld ms; "
            "resynced after a reconnection (dump, no flow-mod) in %lld ms\n",
            N, installed - start, resynced - reconnected);
    ofctrl_destroy(oc);
}
END_TEST

/* Misuse of the API is refused without any switch. */
START_TEST(test_bad_input)
{
    const char *nowhere = "unix:/nonexistent/ofctrl-test.mgmt";
    struct ofputil_flow_removed fr;
    struct ofpbuf ofpacts;
    struct ofctrl *oc;
    struct match match;
    uint8_t frame[64];
    bool found = true;
    char *error;

    ck_assert_ptr_null(ofctrl_create(NULL, 1, 0));
    ck_assert_ptr_null(ofctrl_create(nowhere, 0, 0));
    ck_assert_ptr_null(ofctrl_create(nowhere, UINT64_MAX, 0));
    ck_assert_ptr_null(ofctrl_create(nowhere, UINT64_C(1) << 63, 0));
    ck_assert_ptr_null(ofctrl_create(nowhere, 1, 1u << OFP10_VERSION));
    ofctrl_destroy(NULL);

    oc = ofctrl_create(nowhere, COOKIE, 0);
    ck_assert_ptr_nonnull(oc);
    run_for(oc, 20);
    ck_assert(!ofctrl_is_connected(oc));
    ck_assert(!ofctrl_is_synced(oc));
    ck_assert_int_eq(ofctrl_get_version(oc), 0);
    ck_assert(ofctrl_get_cookie(oc) == COOKIE);

    static const char *const bad_flows[][2] = {
        { "priority=abc", "drop" },
        { "priority=1,no_such_field=1", "drop" },
        { "priority=1", "output:" },
        { "priority=1", "no_such_action" },
        { "priority=1,cookie=0x77", "drop" },
        { "priority=1,send_flow_rem", "drop" },
        { "priority=1,tcp,tp_dst=99999", "drop" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad_flows); i++) {
        error = ofctrl_flow_add_str(oc, bad_flows[i][0], bad_flows[i][1]);
        ck_assert_msg(error != NULL, "%s accepted", bad_flows[i][0]);
        free(error);
    }
    error = ofctrl_flow_add_str(oc, NULL, "drop");
    ck_assert_ptr_nonnull(error);
    free(error);
    ck_assert_uint_eq(stats(oc).n_desired_flows, 0);

    /* Our own cookie is fine; so is a flow holding its actions. */
    add_flow(oc, "priority=5,cookie=" COOKIE_STR, "drop");
    add_flow(oc, "priority=6,actions=drop", NULL);
    ck_assert_uint_eq(stats(oc).n_desired_flows, 2);
    add_flow(oc, "priority=6", "output:1");
    ck_assert_uint_eq(stats(oc).n_desired_flows, 2);
    ck_assert_ptr_null(ofctrl_flow_del_str(oc, "priority=6", &found));
    ck_assert(found);
    ck_assert_ptr_null(ofctrl_flow_del_str(oc, "priority=6", &found));
    ck_assert(!found);
    error = ofctrl_flow_del_str(oc, "priority=xyz", &found);
    ck_assert_ptr_nonnull(error);
    free(error);
    ck_assert_uint_eq(stats(oc).n_desired_flows, 1);

    match_init_catchall(&match);
    ofpbuf_init(&ofpacts, 64);
    parse_actions("output:1", &ofpacts);
    ck_assert_int_eq(ofctrl_flow_add(oc, 255, 1, &match, ofpacts.data,
                                     ofpacts.size, 0, 0), EINVAL);
    ck_assert_int_eq(ofctrl_flow_add(oc, 0, 1, &match, ofpacts.data,
                                     3, 0, 0), EINVAL);
    ck_assert_int_eq(ofctrl_flow_add(oc, 0, 1, &match, NULL, 8, 0, 0),
                     EINVAL);
    ck_assert_int_eq(ofctrl_flow_add(oc, 0, 1, &match, ofpacts.data,
                                     ofpacts.size, 0, 0), 0);
    ck_assert(ofctrl_flow_del(oc, 0, 1, &match));
    ck_assert(!ofctrl_flow_del(oc, 0, 1, &match));
    ck_assert(!ofctrl_flow_is_installed(oc, 0, 1, &match));

    error = ofctrl_group_set(oc, 1, "type=nonsense");
    ck_assert_ptr_nonnull(error);
    free(error);
    error = ofctrl_group_set(oc, 0xfffffffc, "type=all");
    ck_assert_ptr_nonnull(error);
    free(error);
    error = ofctrl_group_set(oc, 1, "group_id=2,type=all");
    ck_assert_ptr_nonnull(error);
    free(error);
    error = ofctrl_group_set(oc, 1, NULL);
    ck_assert_ptr_nonnull(error);
    free(error);
    ck_assert_uint_eq(stats(oc).n_desired_groups, 0);
    ck_assert_ptr_null(ofctrl_group_set(oc, 1, "type=all,"
                                        "bucket=actions=output:1"));
    ck_assert_uint_eq(stats(oc).n_desired_groups, 1);
    ck_assert(ofctrl_group_del(oc, 1));
    ck_assert(!ofctrl_group_del(oc, 1));
    ck_assert_uint_eq(stats(oc).n_desired_groups, 0);

    error = ofctrl_meter_set(oc, 0, "pktps,band=type=drop,rate=1");
    ck_assert_ptr_nonnull(error);
    free(error);
    error = ofctrl_meter_set(oc, 0xffff0001, "pktps,band=type=drop,rate=1");
    ck_assert_ptr_nonnull(error);
    free(error);
    error = ofctrl_meter_set(oc, 4, "pktps,band=type=nonsense");
    ck_assert_ptr_nonnull(error);
    free(error);
    error = ofctrl_meter_set(oc, 4, NULL);
    ck_assert_ptr_nonnull(error);
    free(error);
    ck_assert_uint_eq(stats(oc).n_desired_meters, 0);
    ck_assert_ptr_null(ofctrl_meter_set(oc, 4, "pktps,band=type=drop,"
                                        "rate=1"));
    ck_assert(ofctrl_meter_del(oc, 4));
    ck_assert(!ofctrl_meter_del(oc, 4));
    ck_assert_uint_eq(stats(oc).n_desired_meters, 0);

    error = ofctrl_set_tlv_map(oc, "{class=0xffff,type=0x80,len=5}"
                               "->tun_metadata0");
    ck_assert_ptr_nonnull(error);
    free(error);
    error = ofctrl_set_tlv_map(oc, "{class=0xffff,type=0x80,len=4}"
                               "->tun_metadata64");
    ck_assert_ptr_nonnull(error);
    free(error);
    error = ofctrl_set_tlv_map(oc, "{class=0xffff,type=0x80,len=0}"
                               "->tun_metadata0");
    ck_assert_ptr_nonnull(error);
    free(error);
    error = ofctrl_set_tlv_map(oc, "tun_metadata0");
    ck_assert_ptr_nonnull(error);
    free(error);
    error = ofctrl_set_tlv_map(oc, NULL);
    ck_assert_ptr_nonnull(error);
    free(error);

    memset(frame, 0, sizeof frame);
    ck_assert_int_eq(ofctrl_send_packet_out(oc, frame, sizeof frame,
                                            OFPP_CONTROLLER, ofpacts.data,
                                            ofpacts.size), ENOTCONN);
    ck_assert_int_eq(ofctrl_send_packet_out(oc, frame, 70000,
                                            OFPP_CONTROLLER, ofpacts.data,
                                            ofpacts.size), EMSGSIZE);
    ck_assert_int_eq(ofctrl_send_packet_out(oc, NULL, 10, OFPP_CONTROLLER,
                                            NULL, 0), EINVAL);
    ck_assert_int_eq(ofctrl_send_packet_out(oc, frame, 0, OFPP_CONTROLLER,
                                            NULL, 0), EINVAL);
    ck_assert_uint_eq(stats(oc).n_packet_out_drops, 4);
    ck_assert_ptr_null(ofctrl_recv_packet_in(oc));
    ck_assert(!ofctrl_recv_flow_removed(oc, &fr));
    ofctrl_packet_in_destroy(NULL);

    /* Committing while disconnected sends nothing and does not crash. */
    ofctrl_commit(oc);
    run_for(oc, 20);
    ck_assert_uint_eq(stats(oc).n_flow_mods, 0);

    ofctrl_clear(oc);
    ck_assert_uint_eq(stats(oc).n_desired_flows, 0);
    ofpbuf_uninit(&ofpacts);
    ofctrl_destroy(oc);
}
END_TEST

/* A hostile switch. */

struct fake_switch {
    struct pvconn *pvconn;
    struct vconn *vconn;
};

/* Runs 'oc' and the fake switch 'fs' for up to 'ms' milliseconds, or until
 * 'fs' received a message of type 'type' (then stores it in '*msgp' if
 * nonnull, otherwise frees it).  Returns true if it did.  With
 * OFPTYPE_HELLO (which the vconn handles itself) it just runs for 'ms'. */
static bool
fake_run(struct ofctrl *oc, struct fake_switch *fs, int ms,
         enum ofptype type, struct ofpbuf **msgp)
{
    long long int deadline = time_msec() + ms;

    while (time_msec() < deadline) {
        ofctrl_run(oc);
        if (!fs->vconn) {
            pvconn_accept(fs->pvconn, &fs->vconn);
        }
        if (fs->vconn) {
            struct ofpbuf *msg;

            vconn_run(fs->vconn);
            while (!vconn_recv(fs->vconn, &msg)) {
                enum ofptype t;

                if (!ofptype_decode(&t, msg->data) && t == type
                    && type != OFPTYPE_HELLO) {
                    if (msgp) {
                        *msgp = msg;
                    } else {
                        ofpbuf_delete(msg);
                    }
                    return true;
                }
                ofpbuf_delete(msg);
            }
        }
        ofctrl_wait(oc);
        poll_timer_wait(10);
        poll_block();
    }
    return false;
}

static void
fake_send(struct fake_switch *fs, enum ofpraw raw, ovs_be32 xid,
          const void *body, size_t len)
{
    struct ofpbuf *msg = ofpraw_alloc_xid(raw, OFP13_VERSION, xid, len);

    ofpbuf_put(msg, body, len);
    ofpmsg_update_length(msg);
    ck_assert_int_eq(vconn_send(fs->vconn, msg), 0);
}

/* Malformed messages from the switch are counted and survived; a flow dump
 * that cannot be decoded makes the first bundle start with a delete of
 * every flow with our cookie (and nothing else). */
START_TEST(test_hostile_switch)
{
    struct fake_switch fs = { NULL, NULL };
    struct ofputil_bundle_add_msg bam;
    struct ofputil_flow_mod fm;
    struct ofpbuf *dump_request = NULL;
    struct ofpbuf *msg = NULL;
    struct ofpbuf ofpacts;
    enum ofptype type;
    struct ofctrl *oc;
    uint8_t garbage[64];
    char *name;

    name = xasprintf("punix:%s/fake.mgmt", rundir);
    ck_assert_int_eq(pvconn_open(name, 1u << OFP13_VERSION, 0, &fs.pvconn),
                     0);
    oc = ofctrl_create(name + 1, COOKIE, 0);
    ck_assert(fake_run(oc, &fs, 3000, OFPTYPE_FLOW_STATS_REQUEST,
                       &dump_request));
    ck_assert(ofctrl_is_connected(oc));
    add_flow(oc, "priority=3", "drop");

    for (size_t i = 0; i < sizeof garbage; i++) {
        garbage[i] = 0xa5 ^ (i * 37);
    }
    /* Too short for a packet-in. */
    fake_send(&fs, OFPRAW_OFPT13_PACKET_IN, htonl(0), garbage, 3);
    /* A packet-in whose match is garbage. */
    fake_send(&fs, OFPRAW_OFPT13_PACKET_IN, htonl(0), garbage,
              sizeof garbage);
    /* An NXT_PACKET_IN2 whose property overruns the message. */
    fake_send(&fs, OFPRAW_NXT_PACKET_IN2, htonl(0),
              "\x00\x00\xff\xf0\x00\x00\x00\x00", 8);
    /* An error of unknown type and code. */
    fake_send(&fs, OFPRAW_OFPT_ERROR, htonl(0), "\xbe\xef\x12\x34", 4);
    /* A flow-removed that is garbage. */
    fake_send(&fs, OFPRAW_OFPT11_FLOW_REMOVED, htonl(0), garbage,
              sizeof garbage);
    /* The answer to the dump: garbage. */
    fake_send(&fs, OFPRAW_OFPST13_FLOW_REPLY,
              ((struct ofp_header *) dump_request->data)->xid,
              garbage, sizeof garbage);
    ofpbuf_delete(dump_request);

    fake_run(oc, &fs, 300, OFPTYPE_HELLO, NULL);
    ck_assert(ofctrl_is_connected(oc));
    ck_assert_uint_ge(stats(oc).n_bad_msgs, 5);
    ck_assert_ptr_null(ofctrl_recv_packet_in(oc));
    ck_assert_uint_eq(stats(oc).n_packet_ins, 0);

    ofctrl_commit(oc);
    ck_assert(fake_run(oc, &fs, 2000, OFPTYPE_BUNDLE_ADD_MESSAGE, &msg));
    ck_assert_int_eq(ofputil_decode_bundle_add(msg->data, &bam, &type), 0);
    ck_assert_int_eq(type, OFPTYPE_FLOW_MOD);
    ofpbuf_init(&ofpacts, 64);
    ck_assert_int_eq(ofputil_decode_flow_mod(&fm, bam.msg,
                                             OFPUTIL_P_OF13_OXM, NULL, NULL,
                                             &ofpacts, OFPP_MAX, 255), 0);
    ck_assert_int_eq(fm.command, OFPFC_DELETE);
    ck_assert_int_eq(fm.table_id, OFPTT_ALL);
    ck_assert(fm.cookie == htonll(COOKIE));
    ck_assert(fm.cookie_mask == OVS_BE64_MAX);
    minimatch_destroy(&fm.match);
    ofpbuf_uninit(&ofpacts);
    ofpbuf_delete(msg);
    ck_assert_uint_eq(stats(oc).n_wipes, 1);

    ofctrl_destroy(oc);
    vconn_close(fs.vconn);
    pvconn_close(fs.pvconn);
    free(name);
}
END_TEST

static void
add_case(Suite *s, const char *name, const TTest *test,
         SFun setup, SFun teardown)
{
    TCase *tc = tcase_create(name);

    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test);
    suite_add_tcase(s, tc);
}

static Suite *
ofctrl_suite(void)
{
    Suite *s = suite_create("ofctrl");
    TCase *tc;

    tc = tcase_create("api");
    tcase_add_test(tc, test_bad_input);
    suite_add_tcase(s, tc);

    add_case(s, "install", test_install, daemons_setup, ovs_dummy_stop);
    add_case(s, "diff-and-foreign", test_diff_and_foreign,
             daemons_setup, ovs_dummy_stop);
    add_case(s, "delete-only-ours", test_delete_only_ours,
             daemons_setup, ovs_dummy_stop);
    add_case(s, "binary-match-as-switch", test_binary_match_as_switch,
             daemons_setup, ovs_dummy_stop);
    add_case(s, "vswitchd-restart", test_vswitchd_restart,
             daemons_setup, ovs_dummy_stop);
    add_case(s, "packet-in-out", test_packet_in_out,
             daemons_setup, ovs_dummy_stop);
    add_case(s, "idle-timeout", test_idle_timeout,
             daemons_setup, ovs_dummy_stop);
    add_case(s, "switch-error", test_switch_error,
             daemons_setup, ovs_dummy_stop);
    add_case(s, "scale", test_scale, daemons_setup, ovs_dummy_stop);
    add_case(s, "hostile-switch", test_hostile_switch,
             tmpdir_setup, ovs_dummy_stop);
    return s;
}

int
main(void)
{
    SRunner *sr;
    int n_failed;

    /* Warnings from ofctrl are expected (rejected flows, garbage); keep the
     * output to Check's unless CHECK_OFCTRL_VERBOSE is set. */
    if (!getenv("CHECK_OFCTRL_VERBOSE")) {
        vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
    }

    sr = srunner_create(ofctrl_suite());
    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
