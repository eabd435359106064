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
 * Check suite of flows/server-pipeline, the static pipeline of a server
 * node's bridge (owned by ovslb-agent).
 *
 * The golden test renders the pipeline for fixed parameters in `ovs-ofctl
 * add-flows` format, loads it into a real "ovs-vswitchd --enable-dummy" in a
 * temporary run directory (no root needed), dumps it with `ovs-ofctl
 * --no-stats --sort dump-flows` and compares the dump with the checked-in
 * flows/server-pipeline.golden (OVSLB_REGEN_GOLDEN=1 rewrites that file
 * instead).  The trace tests check with ofproto/trace that the paths of
 * server-pipeline.h are the ones the switch takes.
 */
#include <config.h>
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "flow.h"
#include "openvswitch/dynamic-string.h"
#include "ovs-dummy.h"
#include "packets.h"
#include "pipeline.h"
#include "server-pipeline.h"
#include "util.h"

#ifndef OVSLB_SRCDIR
#define OVSLB_SRCDIR "."
#endif
#define GOLDEN OVSLB_SRCDIR "/flows/server-pipeline.golden"

static const struct ovs_dummy_port br_int_ports[] = {
    { "gnv0", 100 },
    { "xlt0", 200 },
};

/* Unchecked fixture: ovsdb-server and ovs-vswitchd in a fresh directory,
 * bridge br-int with dummy ports at the pipeline's port numbers. */
static void
daemons_setup(void)
{
    ovs_dummy_start("check-agent-pipeline", "br-int", br_int_ports,
                    ARRAY_SIZE(br_int_ports));
}

/* The fixed parameters of the golden file. */
static const uint16_t ports_web[] = { 80, 5201 };
static const uint16_t ports_alt[] = { 80 };
static const uint16_t ports_hash[] = { 8080 };
static const uint16_t ports_udp[] = { 53 };
/* The healthy LB nodes: the egress of hash VIPs' replies. */
static const uint32_t egress_lbs[] = { 1, 3 };
static const uint16_t ports_v6[] = { 443 };
/* The owners of connections redirected by ownership (the last one is left
 * out: its id is too big for a mark). */
static const struct server_pipeline_peer owner_peers[] = {
    { 102, { .s6_addr = { [10] = 0xff, [11] = 0xff, 10, 3, 0, 102 } } },
    { 400, { .s6_addr = { 0xfd, [13] = 2, [14] = 1, [15] = 0x90 } } },
    { 70000, { .s6_addr = { [10] = 0xff, [11] = 0xff, 10, 3, 0, 9 } } },
};

static struct in6_addr
addr(const char *s)
{
    struct in6_addr a;
    ovs_be32 ip;

    if (ip_parse(s, &ip)) {
        in6_addr_set_mapped_ipv4(&a, ip);
    } else {
        ck_assert_msg(ipv6_parse(s, &a), "bad address %s", s);
    }
    return a;
}

static void
build(struct pipeline *p, bool with_bad_lbs)
{
    struct server_pipeline_vip vips[] = {
        { addr("203.0.113.10"), ports_web, ARRAY_SIZE(ports_web),
          ports_hash, ARRAY_SIZE(ports_hash), NULL, 0 },
        { addr("203.0.113.11"), ports_alt, ARRAY_SIZE(ports_alt), NULL, 0,
          ports_udp, ARRAY_SIZE(ports_udp) },
        { addr("2001:db8::10"), ports_v6, ARRAY_SIZE(ports_v6), NULL, 0,
          NULL, 0 },
    };
    struct server_pipeline_lb lbs[] = {
        { 1, addr("10.2.0.11") },
        { 2, addr("10.2.0.12") },
        { 3, addr("10.2.0.13") },
        { 300, addr("fd00::1:2c") },
        { 0, addr("10.2.0.99") },           /* Left out: no node 0. */
        { 70000, addr("10.2.0.98") },       /* Left out: too big. */
    };
    struct server_pipeline_params pp = {
        .geneve_port = u16_to_ofp(100),
        .xlate_port = u16_to_ofp(200),
        .local_mac = ETH_ADDR_C(02,00,0a,02,00,65),
        .vips = vips,
        .n_vips = ARRAY_SIZE(vips),
        .lbs = lbs,
        .n_lbs = with_bad_lbs ? ARRAY_SIZE(lbs) : 4,
        .egress_lbs = egress_lbs,
        .n_egress_lbs = ARRAY_SIZE(egress_lbs),
        .owner_check = true,
        .peers = owner_peers,
        .n_peers = ARRAY_SIZE(owner_peers),
    };

    pipeline_init(p);
    server_pipeline_build(&pp, p);
}

static void
load(const struct pipeline *p)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    char *path = xasprintf("%s/flows.txt", rundir);
    FILE *stream = fopen(path, "w");

    ck_assert(stream != NULL);
    pipeline_format(p, &text);
    fputs(ds_cstr(&text), stream);
    fclose(stream);
    ck_assert_int_eq(sh("ovs-ofctl -O OpenFlow13 add-flows "
                        "unix:%s/br-int.mgmt %s", rundir, path), 0);
    ds_destroy(&text);
    free(path);
}

static char *
dump(void)
{
    return sh_output("ovs-ofctl -O OpenFlow13 --no-stats --sort dump-flows "
                     "unix:%s/br-int.mgmt", rundir);
}

static char *
trace(const char *flow)
{
    return sh_output("ovs-appctl -t %s/ovs-vswitchd.ctl ofproto/trace "
                     "br-int '%s' 2>&1", rundir, flow);
}

/* Like trace(), with the conntrack state 'ct' after each ct action. */
static char *
trace_ct(const char *flow, const char *ct)
{
    return sh_output("ovs-appctl -t %s/ovs-vswitchd.ctl ofproto/trace "
                     "br-int '%s' --ct-next '%s' 2>&1", rundir, flow, ct);
}

START_TEST(test_golden)
{
    struct pipeline p;

    build(&p, true);
    load(&p);
    char *flows = dump();
    ck_assert_msg(strstr(flows, "priority=") != NULL, "empty dump: %s",
                  flows);

    if (getenv("OVSLB_REGEN_GOLDEN")) {
        FILE *stream = fopen(GOLDEN, "w");
        ck_assert_msg(stream != NULL, "%s: %s", GOLDEN, ovs_strerror(errno));
        fputs(flows, stream);
        fclose(stream);
    }
    char *golden = read_file(GOLDEN);
    ck_assert_msg(golden != NULL, "%s: %s", GOLDEN, ovs_strerror(errno));
    ck_assert_msg(!strcmp(flows, golden),
                  "dump differs from %s (OVSLB_REGEN_GOLDEN=1 rewrites "
                  "it):\n%s", GOLDEN, flows);
    free(golden);
    free(flows);
    pipeline_destroy(&p);
}
END_TEST

/* Node 0 and ids beyond a MAC's 16 bits get no flows. */
START_TEST(test_bad_lb_ids_left_out)
{
    struct pipeline good, all;

    build(&good, false);
    build(&all, true);
    ck_assert_uint_eq(good.n, all.n);
    for (size_t i = 0; i < all.n; i++) {
        ck_assert(!strstr(all.flows[i].match, "10.2.0.99"));
        ck_assert(!strstr(all.flows[i].actions, "10.2.0.98"));
    }
    pipeline_destroy(&good);
    pipeline_destroy(&all);
}
END_TEST

START_TEST(test_node_mac)
{
    uint32_t ids[] = { 0, 1, 255, 256, 4660, 65535 };
    uint32_t id;

    for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
        struct eth_addr mac = server_pipeline_node_mac(ids[i]);
        ck_assert(!eth_addr_is_multicast(mac));
        ck_assert(eth_addr_is_local(mac));
        ck_assert(server_pipeline_mac_to_node(mac, &id));
        ck_assert_uint_eq(id, ids[i]);
    }
    ck_assert(!server_pipeline_mac_to_node(SERVER_PIPELINE_XLATE_MAC, &id));
    ck_assert(!server_pipeline_mac_to_node(SERVER_PIPELINE_FROM_SERVER_MAC,
                                           &id));
    ck_assert(!server_pipeline_mac_to_node(SERVER_PIPELINE_AGENT_MAC, &id));
    ck_assert(!server_pipeline_mac_to_node(eth_addr_broadcast, &id));
}
END_TEST

/* Geneve from LB node 2 to a VIP port: tagged with node 2, to the agent. */
START_TEST(test_trace_ingress)
{
    struct pipeline p;
    char *out;

    build(&p, true);
    load(&p);

    out = trace("in_port=100,tun_src=10.2.0.12,tcp,nw_src=198.51.100.2,"
                "nw_dst=203.0.113.10,tp_src=40000,tp_dst=5201");
    ck_assert_msg(strstr(out, "output:200") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "02:6f:76:00:00:02->eth_src") != NULL, "%s",
                  out);
    free(out);

    /* From an unknown underlay address: node 0. */
    out = trace("in_port=100,tun_src=10.9.9.9,tcp,nw_dst=203.0.113.10,"
                "tp_dst=80");
    ck_assert_msg(strstr(out, "02:6f:76:00:00:00->eth_src") != NULL, "%s",
                  out);
    ck_assert_msg(strstr(out, "output:200") != NULL, "%s", out);
    free(out);

    /* A port the VIP does not serve: dropped. */
    out = trace("in_port=100,tun_src=10.2.0.12,tcp,nw_dst=203.0.113.11,"
                "tp_dst=5201");
    ck_assert_msg(strstr(out, "Datapath actions: drop") != NULL, "%s", out);
    free(out);
    pipeline_destroy(&p);
}
END_TEST

/* Ownership redirects of a hash VIP port: a SYN goes to the server's stack
 * at once; any other segment is looked up in the ownership zone and goes to
 * the peer its entry names, unchanged, or else to the stack; a segment a
 * peer redirected here goes to the stack whatever the zone says. */
START_TEST(test_trace_owner)
{
    struct pipeline p;
    char *out;

    build(&p, true);
    load(&p);

    out = trace("in_port=100,tun_src=10.2.0.12,tcp,nw_src=198.51.100.2,"
                "nw_dst=203.0.113.10,tp_src=40000,tp_dst=8080,tcp_flags=syn");
    ck_assert_msg(strstr(out, "ct(") == NULL, "%s", out);
    ck_assert_msg(strstr(out, "02:00:0a:02:00:65->eth_dst") != NULL, "%s",
                  out);
    free(out);

    /* Not a SYN, no entry: the stack, after the lookup. */
    out = trace_ct("in_port=100,tun_src=10.2.0.12,tcp,nw_src=198.51.100.2,"
                   "nw_dst=203.0.113.10,tp_src=40000,tp_dst=8080,"
                   "tcp_flags=ack", "trk,new");
    ck_assert_msg(strstr(out, "ct(table=22,zone=28535)") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "02:00:0a:02:00:65->eth_dst") != NULL, "%s",
                  out);
    ck_assert_msg(strstr(out, "tun_dst") == NULL, "%s", out);
    free(out);

    /* An entry of peer 102: re-encapsulated to it, marked. */
    out = trace_ct("in_port=100,tun_src=10.2.0.12,tcp,nw_src=198.51.100.2,"
                   "nw_dst=203.0.113.10,tp_src=40000,tp_dst=8080,"
                   "tcp_flags=ack,ct_mark=0x6f770066", "trk,est");
    ck_assert_msg(strstr(out, "10.3.0.102->tun_dst") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "0x6f77->tun_id") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "eth_dst") == NULL, "%s", out);
    ck_assert_msg(strstr(out, "skipping output") == NULL, "%s", out);
    ck_assert_msg(strstr(out, "Datapath actions: drop") == NULL, "%s", out);
    free(out);

    /* Redirected here: the stack, no lookup. */
    out = trace("in_port=100,tun_src=10.3.0.101,tun_id=0x6f77,tcp,"
                "nw_src=198.51.100.2,nw_dst=203.0.113.10,tp_src=40000,"
                "tp_dst=8080,tcp_flags=ack");
    ck_assert_msg(strstr(out, "ct(") == NULL, "%s", out);
    ck_assert_msg(strstr(out, "02:00:0a:02:00:65->eth_dst") != NULL, "%s",
                  out);
    free(out);
    pipeline_destroy(&p);
}
END_TEST

/* A hash VIP port: the LB tier's segments go straight to the server's
 * stack, and the server's replies to a healthy LB node the switch picks,
 * the same one for every segment of a connection; the agent sees
 * neither. */
START_TEST(test_trace_hash)
{
    struct pipeline p;
    char *out;

    build(&p, true);
    load(&p);

    out = trace("in_port=100,tun_src=10.2.0.12,tcp,nw_src=198.51.100.2,"
                "nw_dst=203.0.113.10,tp_src=40000,tp_dst=8080");
    ck_assert_msg(strstr(out, "02:00:0a:02:00:65->eth_dst") != NULL, "%s",
                  out);
    ck_assert_msg(strstr(out, "output:LOCAL") != NULL
                  || strstr(out, "Datapath actions: 65534") != NULL
                  || strstr(out, "LOCAL") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "output:200") == NULL, "%s", out);
    free(out);

    /* Replies: to node 1 or node 3 (never 2, not healthy), by a hash of
     * the connection; several client ports reach both. */
    bool seen1 = false, seen3 = false;
    for (int port = 40000; port < 40032; port++) {
        char *flow = xasprintf("in_port=LOCAL,tcp,nw_src=203.0.113.10,"
                               "tp_src=8080,nw_dst=198.51.100.2,tp_dst=%d",
                               port);
        char *again;

        out = trace(flow);
        ck_assert_msg(strstr(out, "output:100") != NULL, "%s", out);
        ck_assert_msg(strstr(out, "10.2.0.12->tun_dst") == NULL, "%s", out);
        ck_assert_msg(strstr(out, "output:200") == NULL, "%s", out);
        seen1 |= strstr(out, "10.2.0.11->tun_dst") != NULL;
        seen3 |= strstr(out, "10.2.0.13->tun_dst") != NULL;
        again = trace(flow);
        ck_assert_msg((strstr(out, "10.2.0.11->tun_dst") != NULL)
                      == (strstr(again, "10.2.0.11->tun_dst") != NULL),
                      "%s\n%s", out, again);
        free(again);
        free(out);
        free(flow);
    }
    ck_assert(seen1 && seen3);
    pipeline_destroy(&p);
}
END_TEST

/* The server's segments go to the agent; the agent's go to LOCAL or, by
 * their destination MAC, to the egress LB node. */
START_TEST(test_trace_server_and_agent)
{
    struct pipeline p;
    char *out;

    build(&p, true);
    load(&p);

    out = trace("in_port=LOCAL,tcp,nw_src=203.0.113.10,tp_src=80,"
                "nw_dst=198.51.100.2,tp_dst=40000");
    ck_assert_msg(strstr(out, "02:6f:76:ff:00:02->eth_src") != NULL, "%s",
                  out);
    ck_assert_msg(strstr(out, "output:200") != NULL, "%s", out);
    free(out);

    /* The server's own traffic from another port is not ours. */
    out = trace("in_port=LOCAL,tcp,nw_src=203.0.113.10,tp_src=22,"
                "nw_dst=198.51.100.2,tp_dst=40000");
    ck_assert_msg(strstr(out, "Datapath actions: drop") != NULL, "%s", out);
    free(out);

    out = trace("in_port=200,tcp,nw_src=198.51.100.2,nw_dst=203.0.113.10,"
                "tp_src=40000,tp_dst=80");
    ck_assert_msg(strstr(out, "02:00:0a:02:00:65->eth_dst") != NULL, "%s",
                  out);
    ck_assert_msg(strstr(out, "\n    LOCAL\n") != NULL, "%s", out);
    free(out);

    out = trace("in_port=200,dl_dst=02:6f:76:00:00:03,tcp,"
                "nw_src=203.0.113.10,nw_dst=198.51.100.2,tp_src=80,"
                "tp_dst=40000");
    ck_assert_msg(strstr(out, "10.2.0.13->tun_dst") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "output:100") != NULL, "%s", out);
    free(out);

    out = trace("in_port=200,dl_dst=02:6f:76:00:01:2c,tcp,"
                "nw_src=203.0.113.10,nw_dst=198.51.100.2,tp_src=80,"
                "tp_dst=40000");
    ck_assert_msg(strstr(out, "fd00::1:2c->tun_ipv6_dst") != NULL, "%s",
                  out);
    free(out);

    /* An egress MAC of no LB node: dropped. */
    out = trace("in_port=200,dl_dst=02:6f:76:00:00:09,tcp,"
                "nw_src=203.0.113.10,nw_dst=198.51.100.2,tp_src=80,"
                "tp_dst=40000");
    ck_assert_msg(strstr(out, "Datapath actions: drop") != NULL, "%s", out);
    free(out);
    pipeline_destroy(&p);
}
END_TEST

static Suite *
agent_pipeline_suite(void)
{
    Suite *s = suite_create("agent-pipeline");
    TCase *tc;

    tc = tcase_create("pure");
    tcase_add_test(tc, test_node_mac);
    tcase_add_test(tc, test_bad_lb_ids_left_out);
    suite_add_tcase(s, tc);

    tc = tcase_create("switch");
    tcase_add_unchecked_fixture(tc, daemons_setup, ovs_dummy_stop);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_golden);
    tcase_add_test(tc, test_trace_ingress);
    tcase_add_test(tc, test_trace_owner);
    tcase_add_test(tc, test_trace_server_and_agent);
    tcase_add_test(tc, test_trace_hash);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(agent_pipeline_suite());
    int n_failed;

    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
