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
 * Unit tests of health: one node at a time, its output captured and its
 * input made by the test: hostile and stale messages, state timers,
 * push-pull answers, checks of suspects, old news dated by its check,
 * configuration changes, gossip split over several messages, metrics and
 * the journal records.
 *
 * Many nodes together, on a message bus with loss, duplication,
 * reordering and clock skew (detection and recovery times, false
 * positives, LB_LISTs), are ovslb-sim's: its health and ring invariants
 * and the scenarios tests/sim/scenarios/health-*.txt, which replaced the
 * simulator this file had.
 */
#include <config.h>
#include "health.h"

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctl-msg.h"
#include "exposition.h"
#include "metrics.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofpbuf.h"
#include "ring.h"
#include "smap.h"
#include "util.h"

#define RING_KEY UINT64_C(0x0123456789abcdef)
#define TEST_KEY "health-test-cluster-key-0123456789"

/* Like ck_assert_msg(), for loops of many iterations. */
#define EXPECT(COND, ...)                       \
    do {                                        \
        if (!(COND)) {                          \
            ck_abort_msg(__VA_ARGS__);          \
        }                                       \
    } while (0)

#define LB_ID(I) (11 + (I))
#define SERVER_ID(I) (101 + (I))

/* One node alone, its output captured. */

#define CAPTURE_MAX 1024
struct capture {
    size_t n;
    struct {
        uint32_t dst;
        enum health_via via;
        struct ctl_msg msg;
    } out[CAPTURE_MAX];
};

static struct capture *
capture_new(void)
{
    struct capture *cap = xzalloc(sizeof *cap);

    return cap;
}

static void
capture_send(void *cap_, uint32_t dst, enum health_via via,
             const struct in6_addr *addr OVS_UNUSED, struct ctl_msg *msg)
{
    struct capture *cap = cap_;

    if (cap->n < CAPTURE_MAX) {
        cap->out[cap->n].dst = dst;
        cap->out[cap->n].via = via;
        cap->out[cap->n].msg = *msg;
        cap->n++;
    }
}

static const struct health_io capture_io = { .send = capture_send };

static struct health_lb solo_lbs[3];
static struct health_server solo_servers[1];

static struct health_config
solo_config(void)
{
    struct health_config cfg;

    memset(&cfg, 0, sizeof cfg);
    for (int i = 0; i < 3; i++) {
        memset(&solo_lbs[i], 0, sizeof solo_lbs[i]);
        solo_lbs[i].node = LB_ID(i);
    }
    solo_servers[0].node = SERVER_ID(0);
    cfg.lbs = solo_lbs;
    cfg.n_lbs = 3;
    cfg.servers = solo_servers;
    cfg.n_servers = 1;
    cfg.ring_key = RING_KEY;
    return cfg;
}

static struct ctl_msg
make_gossip(uint32_t sender, size_t n, const uint32_t *nodes,
            const enum ctl_node_kind *kinds, const uint64_t *heartbeats)
{
    struct ctl_msg msg;

    ctl_msg_init(&msg, CTL_MSG_GOSSIP, sender, 1);
    msg.gossip.n = n;
    for (size_t i = 0; i < n; i++) {
        msg.gossip.entries[i].node = nodes[i];
        msg.gossip.entries[i].kind = kinds[i];
        msg.gossip.entries[i].heartbeat = heartbeats[i];
    }
    return msg;
}

static uint64_t
heartbeat_of(const struct health *h, uint32_t node)
{
    struct health_node_info info;

    ck_assert(health_get_node(h, node, &info));
    return info.heartbeat;
}

static enum health_state
state_of(const struct health *h, uint32_t node)
{
    struct health_node_info info;

    ck_assert(health_get_node(h, node, &info));
    return info.state;
}

/* Runs 'h' alone until 'end', its output into 'cap'. */
static void
solo_run(struct health *h, long long int *now, long long int end,
         struct capture *cap)
{
    for (;;) {
        long long int next = MAX(health_next_deadline(h), *now);

        if (next > end) {
            *now = end;
            return;
        }
        *now = next;
        health_run(h, *now, &capture_io, cap);
    }
}

/* Answers the PINGs to 'target' captured in 'cap' with ready PONGs.
 * Returns how many there were. */
static size_t
answer_pings(struct health *h, const struct capture *cap, uint32_t target,
             long long int now)
{
    size_t n = 0;

    for (size_t i = 0; i < cap->n; i++) {
        const struct ctl_msg *m = &cap->out[i].msg;
        struct capture *ignored;
        struct ctl_msg pong;

        if (m->type != CTL_MSG_PING || m->ping.target != target) {
            continue;
        }
        ctl_msg_init(&pong, CTL_MSG_PONG, target, 100 + i);
        pong.pong.nonce = m->ping.nonce;
        pong.pong.path = m->ping.path;
        pong.pong.ready = true;
        ignored = capture_new();
        health_recv(h, &pong, now, &capture_io, ignored);
        free(ignored);
        n++;
    }
    return n;
}

static void
drop_send(void *aux OVS_UNUSED, uint32_t dst OVS_UNUSED,
          enum health_via via OVS_UNUSED,
          const struct in6_addr *addr OVS_UNUSED,
          struct ctl_msg *msg OVS_UNUSED)
{
}

/* Renders what health_put_metrics() exports of 'h' and parses it into
 * 'samples' (cleared first). */
static void
parse_metrics(const struct health *h, struct smap *samples)
{
    struct metrics *m = metrics_create();
    struct ds text = DS_EMPTY_INITIALIZER;

    health_put_metrics(h, m);
    metrics_render(m, &text);
    smap_clear(samples);
    assert_parses(ds_cstr(&text), samples);
    ds_destroy(&text);
    metrics_destroy(m);
}

/* The health state per peer, as metrics: every node healthy at start-up,
 * none after 10 s without an answer. */
START_TEST(test_metrics)
{
    static const struct health_io silent_io = { drop_send };
    struct health_config cfg = solo_config();
    struct health *h = health_create(LB_ID(0), &cfg, 1, 0);
    struct smap samples = SMAP_INITIALIZER(&samples);
    char *lb1 = xasprintf("ovslb_health_peer_healthy{peer=%d,kind=lb}",
                          LB_ID(1));
    char *srv = xasprintf("ovslb_health_peer_healthy{peer=%d,kind=server}",
                          SERVER_ID(0));
    char *lb1_state = xasprintf("ovslb_health_peer_state{peer=%d,kind=lb,"
                                "state=unhealthy}", LB_ID(1));

    parse_metrics(h, &samples);
    ck_assert_str_eq(smap_get(&samples, lb1), "1");
    ck_assert_str_eq(smap_get(&samples, srv), "1");
    ck_assert_str_eq(smap_get(&samples, lb1_state), "0");
    ck_assert_str_eq(smap_get(&samples,
                              "ovslb_health_healthy_lb_nodes{}"), "3");

    for (long long int now = 0; now <= 10000; now += 50) {
        health_run(h, now, &silent_io, NULL);
    }
    parse_metrics(h, &samples);
    ck_assert_str_eq(smap_get(&samples, lb1), "0");
    ck_assert_str_eq(smap_get(&samples, srv), "0");
    ck_assert_str_eq(smap_get(&samples, lb1_state), "1");
    ck_assert_double_eq(exposition_sum(&samples,
                                       "ovslb_health_pings_sent_total"),
                        health_get_stats(h)->pings_sent);
    ck_assert_uint_gt(health_get_stats(h)->pings_sent, 0);

    free(lb1);
    free(srv);
    free(lb1_state);
    smap_destroy(&samples);
    health_destroy(h);
}
END_TEST

/* The first PING nonce for LB 'target' among the captured messages, or 0. */
static uint64_t
captured_nonce(const struct capture *cap, uint32_t target)
{
    for (size_t i = 0; i < cap->n; i++) {
        const struct ctl_msg *m = &cap->out[i].msg;

        if (m->type == CTL_MSG_PING && m->ping.target == target) {
            return m->ping.nonce;
        }
    }
    return 0;
}

static void
pong(struct health *h, uint32_t from, uint64_t nonce, long long int now,
     struct capture *cap)
{
    struct ctl_msg msg;

    for (int path = CTL_PATH_NORTH; path <= CTL_PATH_SOUTH; path++) {
        ctl_msg_init(&msg, CTL_MSG_PONG, from, 7);
        msg.pong.nonce = nonce;
        msg.pong.path = path;
        msg.pong.ready = true;
        health_recv(h, &msg, now, &capture_io, cap);
    }
}

/* LB 1 of a solo run, answering every PING 'delay_ms' after it. */
struct answerer {
    long long int delay_ms;
    struct { uint64_t nonce; long long int due; } q[256];
    size_t n_q;
};

/* Runs 'h' 10 ms on with 'a' answering for LB 1. */
static void
step_answered(struct health *h, long long int *now, struct capture *cap,
              struct answerer *a)
{
    cap->n = 0;
    solo_run(h, now, *now + 10, cap);
    for (size_t i = 0; i < cap->n; i++) {
        const struct ctl_msg *m = &cap->out[i].msg;

        if (m->type == CTL_MSG_PING && m->ping.target == LB_ID(1)
            && m->ping.path == CTL_PATH_NORTH) {
            ck_assert_uint_lt(a->n_q, ARRAY_SIZE(a->q));
            a->q[a->n_q].nonce = m->ping.nonce;
            a->q[a->n_q].due = *now + a->delay_ms;
            a->n_q++;
        }
    }
    for (size_t i = 0; i < a->n_q; ) {
        if (a->q[i].due <= *now) {
            pong(h, LB_ID(1), a->q[i].nonce, *now, cap);
            a->q[i] = a->q[--a->n_q];
        } else {
            i++;
        }
    }
}

START_TEST(test_late_answers)
{
    /* Answers that come after the 100 ms timeout (a switch that queues
     * the PINGs behind a flood) still show a live node: taken until the
     * node's suspect + unhealthy time after the timeout (600 ms), they
     * raise its counter at their arrival, so that a node whose answers
     * are all late never becomes unhealthy.  Later than that, they are
     * not taken.  A node that answers nothing is found as before. */
    struct health_config cfg = solo_config();
    struct health *h = health_create(LB_ID(0), &cfg, 1, 0);
    const struct health_stats *st = health_get_stats(h);
    struct capture *cap = capture_new();
    struct answerer a = { .delay_ms = 450 };
    long long int now = 0;

    /* LB 1 answers every PING 450 ms late; LB 2 never answers. */
    while (now < 5000) {
        step_answered(h, &now, cap, &a);
        ck_assert_int_ne(state_of(h, LB_ID(1)), HEALTH_UNHEALTHY);
    }
    ck_assert_uint_ge(st->checks_late, 40);
    ck_assert_uint_eq(st->checks_ok, 0);
    ck_assert_uint_eq(st->rejected[HEALTH_REJ_PONG_UNKNOWN], 0);
    ck_assert_int_eq(state_of(h, LB_ID(2)), HEALTH_UNHEALTHY);

    /* Too late: 100 ms timeout + 600 ms, and one more. */
    uint64_t before = heartbeat_of(h, LB_ID(1));
    uint64_t nonce;
    cap->n = 0;
    solo_run(h, &now, now + 100, cap);
    nonce = captured_nonce(cap, LB_ID(1));
    ck_assert_uint_ne(nonce, 0);
    solo_run(h, &now, now + 701, cap);
    pong(h, LB_ID(1), nonce, now, cap);
    ck_assert_uint_eq(heartbeat_of(h, LB_ID(1)), before);
    ck_assert_uint_eq(st->rejected[HEALTH_REJ_PONG_UNKNOWN], 2);

    health_destroy(h);
    free(cap);
}
END_TEST

START_TEST(test_stall_not_counted)
{
    /* This node's loop stalls for 1.5 s (a flood starves it of CPU): it
     * checks nobody and reads nothing meanwhile, so the others' silence
     * over the stall is not theirs.  LB 1, which answers every PING, stays
     * in the healthy set; LB 2, which never answers, is still found
     * unhealthy (the stall only delays that). */
    struct health_config cfg = solo_config();
    struct health *h = health_create(LB_ID(0), &cfg, 1, 0);
    const struct health_stats *st = health_get_stats(h);
    struct capture *cap = capture_new();
    struct answerer a = { .delay_ms = 0 };
    long long int now = 0;
    uint64_t changes = 0;

    for (int round = 0; round < 2; round++) {
        long long int end = now + 2000;

        while (now < end) {
            step_answered(h, &now, cap, &a);
            ck_assert_int_eq(state_of(h, LB_ID(1)), HEALTH_HEALTHY);
        }
        ck_assert_int_eq(state_of(h, LB_ID(2)), HEALTH_UNHEALTHY);
        if (!round) {
            changes = st->state_changes;
            now += 1500;            /* The stall. */
        }
    }
    /* Not even for a moment: no state changed after the stall. */
    ck_assert_uint_eq(st->state_changes, changes);
    ck_assert_uint_eq(st->stalls, 1);
    ck_assert_uint_ge(st->stall_ms, 1400);

    health_destroy(h);
    free(cap);
}
END_TEST

START_TEST(test_hostile)
{
    struct health_config cfg = solo_config();
    struct health *h = health_create(LB_ID(0), &cfg, 1, 0);
    const struct health_stats *st = health_get_stats(h);
    struct capture *cap = capture_new();
    long long int now = 0;
    struct ctl_msg msg;
    uint64_t seqno = health_seqno(h);
    uint64_t nonce_north = 0, nonce_south = 0;
    uint32_t pinged = 0;
    long long int checked_at;
    size_t n_pings;

    /* GOSSIP from a node that is not a configured LB node. */
    msg = make_gossip(99, 1, (uint32_t[]) { LB_ID(1) },
                      (enum ctl_node_kind[]) { CTL_NODE_LB },
                      (uint64_t[]) { 5 });
    health_recv(h, &msg, now, &capture_io, cap);
    msg.sender = SERVER_ID(0);
    health_recv(h, &msg, now, &capture_io, cap);
    ck_assert_uint_eq(st->rejected[HEALTH_REJ_GOSSIP_SENDER], 2);
    ck_assert_uint_eq(heartbeat_of(h, LB_ID(1)), 0);
    ck_assert_uint_eq(st->gossip_received, 0);

    /* Unknown node and wrong kind are ignored; the rest is taken. */
    msg = make_gossip(LB_ID(1), 3,
                      (uint32_t[]) { 77, LB_ID(2), LB_ID(1) },
                      (enum ctl_node_kind[]) { CTL_NODE_LB, CTL_NODE_SERVER,
                                               CTL_NODE_LB },
                      (uint64_t[]) { 9, 9, 3 });
    health_recv(h, &msg, now, &capture_io, cap);
    ck_assert_uint_eq(st->rejected[HEALTH_REJ_GOSSIP_NODE], 1);
    ck_assert_uint_eq(st->rejected[HEALTH_REJ_GOSSIP_KIND], 1);
    ck_assert_uint_eq(heartbeat_of(h, LB_ID(2)), 0);
    ck_assert_uint_eq(heartbeat_of(h, LB_ID(1)), 3);
    ck_assert_uint_eq(st->gossip_rises, 1);

    /* Counters only rise. */
    msg = make_gossip(LB_ID(2), 1, (uint32_t[]) { LB_ID(1) },
                      (enum ctl_node_kind[]) { CTL_NODE_LB },
                      (uint64_t[]) { 2 });
    health_recv(h, &msg, now + 5, &capture_io, cap);
    ck_assert_uint_eq(heartbeat_of(h, LB_ID(1)), 3);
    ck_assert_uint_eq(st->gossip_rises, 1);
    ck_assert_uint_eq(health_seqno(h), seqno);
    /* ...and the sender gets the larger counter in answer. */
    ck_assert_uint_eq(cap->n, 1);
    ck_assert_uint_eq(cap->out[0].dst, LB_ID(2));
    ck_assert_int_eq(cap->out[0].via, HEALTH_VIA_CONTROL);
    ck_assert_int_eq(cap->out[0].msg.type, CTL_MSG_GOSSIP);
    ck_assert_uint_eq(cap->out[0].msg.gossip.n, 1);
    ck_assert_uint_eq(cap->out[0].msg.gossip.entries[0].node, LB_ID(1));
    ck_assert_uint_eq(cap->out[0].msg.gossip.entries[0].heartbeat, 3);
    ck_assert_uint_eq(st->gossip_answers, 1);
    cap->n = 0;

    /* PINGs: other target, checker not the sender, agent path. */
    ctl_msg_init(&msg, CTL_MSG_PING, LB_ID(1), 2);
    msg.ping.nonce = 42;
    msg.ping.path = CTL_PATH_NORTH;
    msg.ping.checker = LB_ID(1);
    msg.ping.target = LB_ID(2);
    health_recv(h, &msg, now, &capture_io, cap);
    ck_assert_uint_eq(st->rejected[HEALTH_REJ_PING_TARGET], 1);
    msg.ping.target = LB_ID(0);
    msg.ping.checker = LB_ID(2);
    health_recv(h, &msg, now, &capture_io, cap);
    ck_assert_uint_eq(st->rejected[HEALTH_REJ_PING_CHECKER], 1);
    msg.ping.checker = LB_ID(1);
    msg.ping.path = CTL_PATH_AGENT;
    health_recv(h, &msg, now, &capture_io, cap);
    ck_assert_uint_eq(st->rejected[HEALTH_REJ_PING_PATH], 1);
    ck_assert_uint_eq(cap->n, 0);

    /* A PING that claims this node as its sender and checker (a loop, or
     * forged with the key) is ignored, not answered to this node itself. */
    ctl_msg_init(&msg, CTL_MSG_PING, LB_ID(0), 2);
    msg.ping.nonce = 43;
    msg.ping.path = CTL_PATH_SOUTH;
    msg.ping.checker = LB_ID(0);
    msg.ping.target = LB_ID(0);
    health_recv(h, &msg, now, &capture_io, cap);
    ck_assert_uint_eq(st->rejected[HEALTH_REJ_FROM_SELF], 1);
    ck_assert_uint_eq(cap->n, 0);
    ctl_msg_init(&msg, CTL_MSG_PING, LB_ID(1), 2);
    msg.ping.nonce = 42;
    msg.ping.checker = LB_ID(1);
    msg.ping.target = LB_ID(0);

    /* A good PING is answered. */
    msg.ping.path = CTL_PATH_SOUTH;
    health_recv(h, &msg, now, &capture_io, cap);
    ck_assert_uint_eq(cap->n, 1);
    ck_assert_uint_eq(cap->out[0].dst, LB_ID(1));
    ck_assert_int_eq(cap->out[0].via, HEALTH_VIA_REPLY);
    ck_assert_int_eq(cap->out[0].msg.type, CTL_MSG_PONG);
    ck_assert_uint_eq(cap->out[0].msg.pong.nonce, 42);
    ck_assert_int_eq(cap->out[0].msg.pong.path, CTL_PATH_SOUTH);
    ck_assert(cap->out[0].msg.pong.ready);
    ck_assert_uint_eq(st->pings_answered, 1);
    cap->n = 0;

    /* A PONG nobody waits for. */
    ctl_msg_init(&msg, CTL_MSG_PONG, LB_ID(1), 3);
    msg.pong.nonce = 12345;
    msg.pong.path = CTL_PATH_NORTH;
    msg.pong.ready = true;
    health_recv(h, &msg, now, &capture_io, cap);
    ck_assert_uint_eq(st->rejected[HEALTH_REJ_PONG_UNKNOWN], 1);

    /* A type this module does not handle. */
    ctl_msg_init(&msg, CTL_MSG_LB_LIST, LB_ID(1), 4);
    health_recv(h, &msg, now, &capture_io, cap);
    ck_assert_uint_eq(st->rejected[HEALTH_REJ_TYPE], 1);
    ck_assert_uint_eq(health_seqno(h), seqno);
    ck_assert_uint_eq(heartbeat_of(h, LB_ID(1)), 3);
    ck_assert_uint_eq(heartbeat_of(h, LB_ID(2)), 0);

    /* Let it check: two neighbours (LB 12 and 13), both paths. */
    solo_run(h, &now, now + 99, cap);
    n_pings = 0;
    for (size_t i = 0; i < cap->n; i++) {
        const struct ctl_msg *m = &cap->out[i].msg;

        n_pings += m->type == CTL_MSG_PING && m->ping.path != CTL_PATH_AGENT;

        if (m->type == CTL_MSG_PING && m->ping.target == LB_ID(1)) {
            ck_assert_uint_eq(m->ping.checker, LB_ID(0));
            pinged = LB_ID(1);
            if (m->ping.path == CTL_PATH_NORTH) {
                ck_assert_int_eq(cap->out[i].via, HEALTH_VIA_NORTH);
                nonce_north = m->ping.nonce;
            } else {
                ck_assert_int_eq(cap->out[i].via, HEALTH_VIA_SOUTH);
                nonce_south = m->ping.nonce;
            }
        }
    }
    ck_assert_uint_eq(n_pings, 4);
    ck_assert_uint_eq(pinged, LB_ID(1));
    ck_assert_uint_eq(nonce_north, nonce_south);

    /* PONG from the wrong node, for a path not pinged, then the good ones
     * with a duplicate in between. */
    ctl_msg_init(&msg, CTL_MSG_PONG, LB_ID(2), 5);
    msg.pong.nonce = nonce_north;
    msg.pong.path = CTL_PATH_NORTH;
    msg.pong.ready = true;
    health_recv(h, &msg, now, &capture_io, cap);
    ck_assert_uint_eq(st->rejected[HEALTH_REJ_PONG_SENDER], 1);
    msg.sender = LB_ID(1);
    msg.pong.path = CTL_PATH_AGENT;
    health_recv(h, &msg, now, &capture_io, cap);
    ck_assert_uint_eq(st->rejected[HEALTH_REJ_PONG_PATH], 1);
    msg.pong.path = CTL_PATH_NORTH;
    health_recv(h, &msg, now, &capture_io, cap);
    health_recv(h, &msg, now, &capture_io, cap);
    ck_assert_uint_eq(st->rejected[HEALTH_REJ_PONG_PATH], 2);
    ck_assert_uint_eq(heartbeat_of(h, LB_ID(1)), 3);    /* Half a check. */
    msg.pong.path = CTL_PATH_SOUTH;
    health_recv(h, &msg, now, &capture_io, cap);
    /* Raised to the checker's clock (ms), being more than 3 + 1. */
    ck_assert_uint_eq(heartbeat_of(h, LB_ID(1)), now);
    checked_at = now;
    ck_assert_uint_eq(st->checks_ok, 1);
    /* The same PONG again: the check is over. */
    health_recv(h, &msg, now, &capture_io, cap);
    ck_assert_uint_eq(st->rejected[HEALTH_REJ_PONG_UNKNOWN], 2);
    ck_assert_uint_eq(heartbeat_of(h, LB_ID(1)), checked_at);

    /* A PONG after the deadline counts for nothing. */
    solo_run(h, &now, now + 200, cap);
    ck_assert_uint_ge(st->checks_failed, 1);
    health_recv(h, &msg, now, &capture_io, cap);
    ck_assert_uint_eq(st->rejected[HEALTH_REJ_PONG_UNKNOWN], 3);
    ck_assert_uint_eq(heartbeat_of(h, LB_ID(1)), checked_at);

    /* A checker whose clock is behind the counter raises it by one. */
    health_set_clock_offset(h, -1000000);
    cap->n = 0;
    solo_run(h, &now, now + 100, cap);
    n_pings = answer_pings(h, cap, LB_ID(1), now);
    ck_assert(n_pings == 2 || n_pings == 4);    /* Maybe a suspect check. */
    ck_assert_uint_eq(heartbeat_of(h, LB_ID(1)), checked_at + n_pings / 2);

    health_destroy(h);
    free(cap);
}
END_TEST

START_TEST(test_timers_and_gossip_content)
{
    struct health_config cfg = solo_config();
    struct health *h = health_create(LB_ID(0), &cfg, 2, 0);
    struct capture *cap = capture_new();
    long long int now = 0;
    const uint32_t *set;
    uint64_t set_seqno, version;
    struct ctl_msg msg;
    size_t n;

    /* Everybody starts healthy, nobody rises: suspect at 300 ms, unhealthy
     * at 600 ms, exactly. */
    solo_run(h, &now, 299, cap);
    ck_assert_int_eq(state_of(h, LB_ID(1)), HEALTH_HEALTHY);
    ck_assert_int_le(health_next_deadline(h), 300);
    solo_run(h, &now, 300, cap);
    ck_assert_int_eq(state_of(h, LB_ID(1)), HEALTH_SUSPECT);
    health_healthy_lbs(h, &n);
    ck_assert_uint_eq(n, 3);                    /* Suspects stay in. */
    set_seqno = health_lb_set_seqno(h);
    solo_run(h, &now, 599, cap);
    ck_assert_int_eq(state_of(h, LB_ID(1)), HEALTH_SUSPECT);
    solo_run(h, &now, 600, cap);
    ck_assert_int_eq(state_of(h, LB_ID(1)), HEALTH_UNHEALTHY);
    ck_assert_int_eq(state_of(h, LB_ID(0)), HEALTH_UNHEALTHY);
    health_healthy_lbs(h, &n);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_gt(health_lb_set_seqno(h), set_seqno);
    /* Servers have their own timers: 2 + 1 server intervals. */
    ck_assert_int_eq(state_of(h, SERVER_ID(0)), HEALTH_HEALTHY);
    solo_run(h, &now, 999, cap);
    ck_assert_int_eq(state_of(h, SERVER_ID(0)), HEALTH_HEALTHY);
    solo_run(h, &now, 1000, cap);
    ck_assert_int_eq(state_of(h, SERVER_ID(0)), HEALTH_SUSPECT);
    /* Every node checks a suspect server itself, at its ping rate. */
    cap->n = 0;
    solo_run(h, &now, 1100, cap);
    n = 0;
    for (size_t i = 0; i < cap->n; i++) {
        const struct ctl_msg *m = &cap->out[i].msg;

        n += (m->type == CTL_MSG_PING && m->ping.path == CTL_PATH_AGENT
              && m->ping.target == SERVER_ID(0));
    }
    ck_assert_uint_ge(n, 1);
    ck_assert_uint_ge(health_get_stats(h)->suspect_checks, 1);
    solo_run(h, &now, 1500, cap);
    ck_assert_int_eq(state_of(h, SERVER_ID(0)), HEALTH_UNHEALTHY);
    /* Nobody answered: every path of every failed check is counted. */
    for (int path = 0; path < CTL_PATH_N_PATHS; path++) {
        ck_assert_uint_gt(health_get_stats(h)->paths_unanswered[path], 0);
    }
    ck_assert_uint_eq(health_get_stats(h)->paths_unanswered[CTL_PATH_NORTH],
                      health_get_stats(h)->paths_unanswered[CTL_PATH_SOUTH]);

    /* One rise by gossip: LB 13 healthy again at once, the set and the
     * LB_LIST version change. */
    set_seqno = health_lb_set_seqno(h);
    version = health_lb_list_version(h);
    msg = make_gossip(LB_ID(1), 1, (uint32_t[]) { LB_ID(2) },
                      (enum ctl_node_kind[]) { CTL_NODE_LB },
                      (uint64_t[]) { 7 });
    health_recv(h, &msg, now, &capture_io, cap);
    ck_assert_int_eq(state_of(h, LB_ID(2)), HEALTH_HEALTHY);
    set = health_healthy_lbs(h, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(set[0], LB_ID(2));
    ck_assert_uint_gt(health_lb_set_seqno(h), set_seqno);
    ck_assert_uint_gt(health_lb_list_version(h), version);
    ck_assert(health_next_deadline(h) <= now);  /* LB_LIST due. */

    /* The next gossip goes to LB 13, the only healthy other node, and
     * vouches only for it. */
    cap->n = 0;
    solo_run(h, &now, now + 100, cap);
    n = 0;
    for (size_t i = 0; i < cap->n; i++) {
        const struct ctl_msg *m = &cap->out[i].msg;

        if (m->type == CTL_MSG_GOSSIP) {
            ck_assert_uint_eq(cap->out[i].dst, LB_ID(2));
            ck_assert_int_eq(cap->out[i].via, HEALTH_VIA_CONTROL);
            ck_assert_uint_eq(m->gossip.n, 1);
            ck_assert_uint_eq(m->gossip.entries[0].node, LB_ID(2));
            ck_assert_uint_eq(m->gossip.entries[0].heartbeat, 7);
            n++;
        }
    }
    ck_assert_uint_eq(n, 1);
    health_destroy(h);
    free(cap);
}
END_TEST

/* With synchronized clocks, news that took long to arrive is dated by the
 * check that made it: it cannot bring back a node dead for long. */
START_TEST(test_old_news)
{
    struct health_config cfg = solo_config();
    struct health *h = health_create(LB_ID(0), &cfg, 5, 0);
    struct capture *cap = capture_new();
    long long int now = 0;
    struct health_node_info info;
    struct ctl_msg msg;

    health_set_clock_offset(h, 5000);           /* Wall = now + 5 s. */
    solo_run(h, &now, 2000, cap);
    ck_assert_int_eq(state_of(h, LB_ID(1)), HEALTH_UNHEALTHY);

    /* A check made at 1 s (wall 6 s), heard of at 2 s: dated 1.7 s (the
     * check plus the 300 ms slack) yet no earlier than 300 ms ago. */
    msg = make_gossip(LB_ID(2), 2, (uint32_t[]) { LB_ID(1), LB_ID(0) },
                      (enum ctl_node_kind[]) { CTL_NODE_LB, CTL_NODE_LB },
                      (uint64_t[]) { 6000, 6000 });
    health_recv(h, &msg, now, &capture_io, cap);
    ck_assert(health_get_node(h, LB_ID(1), &info));
    ck_assert_uint_eq(info.heartbeat, 6000);
    ck_assert_int_eq(info.last_rise, 1700);
    ck_assert_int_eq(info.state, HEALTH_SUSPECT);
    /* News of itself is dated at arrival. */
    ck_assert(health_get_node(h, LB_ID(0), &info));
    ck_assert_int_eq(info.last_rise, 2000);
    ck_assert_int_eq(info.state, HEALTH_HEALTHY);

    /* A check made 50 ms ago: dated at arrival. */
    msg = make_gossip(LB_ID(2), 1, (uint32_t[]) { LB_ID(1) },
                      (enum ctl_node_kind[]) { CTL_NODE_LB },
                      (uint64_t[]) { 6950 });
    health_recv(h, &msg, now, &capture_io, cap);
    ck_assert(health_get_node(h, LB_ID(1), &info));
    ck_assert_int_eq(info.last_rise, 2000);
    ck_assert_int_eq(info.state, HEALTH_HEALTHY);

    /* A check from a clock far ahead: dated at arrival too. */
    solo_run(h, &now, 3000, cap);
    msg.gossip.entries[0].heartbeat = 100000;
    health_recv(h, &msg, now, &capture_io, cap);
    ck_assert(health_get_node(h, LB_ID(1), &info));
    ck_assert_int_eq(info.last_rise, 3000);

    health_destroy(h);
    free(cap);
}
END_TEST

START_TEST(test_config_change)
{
    struct health_config cfg = solo_config();
    struct health_lb lbs[4];
    struct health *h = health_create(LB_ID(0), &cfg, 3, 0);
    struct capture *cap = capture_new();
    long long int now = 0;
    struct health_node_info info;
    struct ctl_msg msg;
    uint64_t rejected;

    msg = make_gossip(LB_ID(1), 2, (uint32_t[]) { LB_ID(1), LB_ID(2) },
                      (enum ctl_node_kind[]) { CTL_NODE_LB, CTL_NODE_LB },
                      (uint64_t[]) { 40, 50 });
    solo_run(h, &now, 2000, cap);
    health_recv(h, &msg, now, &capture_io, cap);

    /* Drop LB 12, add LB 14 (after the start-up window: unhealthy until it
     * rises), keep LB 13 with its counter; an id 0 and a duplicate are
     * left out and counted. */
    rejected = health_get_stats(h)->rejected[HEALTH_REJ_CONFIG];
    memset(lbs, 0, sizeof lbs);
    lbs[0].node = LB_ID(0);
    lbs[1].node = LB_ID(2);
    lbs[2].node = LB_ID(3);
    lbs[3].node = 0;
    cfg.lbs = lbs;
    cfg.n_lbs = 4;
    health_set_config(h, &cfg, now);
    ck_assert_uint_eq(health_get_stats(h)->rejected[HEALTH_REJ_CONFIG],
                      rejected + 1);
    ck_assert(!health_get_node(h, LB_ID(1), &info));
    ck_assert(health_get_node(h, LB_ID(2), &info));
    ck_assert_uint_eq(info.heartbeat, 50);
    ck_assert_int_eq(info.state, HEALTH_HEALTHY);
    ck_assert(health_get_node(h, LB_ID(3), &info));
    ck_assert_int_eq(info.state, HEALTH_UNHEALTHY);
    ck_assert_int_eq(info.last_rise, LLONG_MIN);
    ck_assert(!health_is_healthy(h, LB_ID(3)));

    /* Gossip about the removed node is now rejected. */
    health_recv(h, &msg, now, &capture_io, cap);
    ck_assert_uint_eq(health_get_stats(h)->rejected[HEALTH_REJ_GOSSIP_SENDER],
                      1);
    msg.sender = LB_ID(2);
    msg.gossip.entries[1].node = LB_ID(3);
    health_recv(h, &msg, now, &capture_io, cap);
    ck_assert_uint_eq(health_get_stats(h)->rejected[HEALTH_REJ_GOSSIP_NODE],
                      1);
    ck_assert(health_is_healthy(h, LB_ID(3)));

    /* Duplicates. */
    lbs[3].node = LB_ID(2);
    health_set_config(h, &cfg, now);
    ck_assert_uint_eq(health_get_stats(h)->rejected[HEALTH_REJ_CONFIG],
                      rejected + 2);
    health_destroy(h);
    free(cap);
}
END_TEST

START_TEST(test_gossip_split)
{
    enum { N_SERVERS = 250 };
    struct health_config cfg = solo_config();
    struct health_server *servers = xcalloc(N_SERVERS, sizeof *servers);
    struct health_record *recs = xcalloc(N_SERVERS + 3, sizeof *recs);
    struct capture *cap = capture_new();
    long long int now = 0;
    struct ctl_key key;
    size_t n_entries = 0, n_msgs = 0;
    uint32_t gossip_dst = 0;
    struct health *h;

    for (size_t i = 0; i < N_SERVERS; i++) {
        servers[i].node = 1000 + i;
        recs[i].node = 1000 + i;
        recs[i].kind = CTL_NODE_SERVER;
        recs[i].heartbeat = i + 1;
    }
    for (size_t i = 0; i < 3; i++) {
        recs[N_SERVERS + i].node = LB_ID(i);
        recs[N_SERVERS + i].kind = CTL_NODE_LB;
        recs[N_SERVERS + i].heartbeat = 1;
    }
    cfg.servers = servers;
    cfg.n_servers = N_SERVERS;
    h = health_create(LB_ID(0), &cfg, 4, 0);
    ck_assert_uint_eq(health_import(h, recs, N_SERVERS + 3), N_SERVERS + 3);
    solo_run(h, &now, 100, cap);

    ck_assert_int_eq(ctl_key_init(&key, TEST_KEY, strlen(TEST_KEY)), 0);
    for (size_t i = 0; i < cap->n; i++) {
        struct ctl_msg *m = &cap->out[i].msg;
        struct ofpbuf *wire = ofpbuf_new(CTL_MSG_MAX_LEN);

        m->seq = i + 1;
        ck_assert_int_eq(ctl_msg_encode(m, &key, wire), 0);
        ck_assert_uint_le(wire->size, CTL_MSG_MAX_LEN);
        ofpbuf_delete(wire);
        if (m->type == CTL_MSG_GOSSIP) {
            if (!gossip_dst) {
                gossip_dst = cap->out[i].dst;
            }
            ck_assert_uint_eq(cap->out[i].dst, gossip_dst);
            n_entries += m->gossip.n;
            n_msgs++;
        }
    }
    ck_assert_uint_eq(n_entries, N_SERVERS + 3);
    ck_assert_uint_eq(n_msgs, 3);
    ctl_key_destroy(&key);
    health_destroy(h);
    free(servers);
    free(recs);
    free(cap);
}
END_TEST

/* Runs 'h' (LB node 1 of solo_config()) until 'end', with LB node 2 and
 * the server answering its PINGs and LB node 2 gossiping rising
 * heartbeats of LB nodes 1 and 2 and of the server every 50 ms (as if it
 * checked them); LB node 3 silent and never checked. */
static void
run_with_peers(struct health *h, long long int *now, long long int end)
{
    static const uint32_t nodes[] = { LB_ID(0), LB_ID(1), SERVER_ID(0) };
    static const enum ctl_node_kind kinds[] = { CTL_NODE_LB, CTL_NODE_LB,
                                                CTL_NODE_SERVER };
    struct capture *cap = capture_new();

    while (*now < end) {
        uint64_t hbs[] = { *now + 1, *now + 1, *now + 1 };
        struct ctl_msg g = make_gossip(LB_ID(1), 3, nodes, kinds, hbs);

        cap->n = 0;
        solo_run(h, now, *now + 50, cap);
        answer_pings(h, cap, LB_ID(1), *now);
        answer_pings(h, cap, SERVER_ID(0), *now);
        health_recv(h, &g, *now, &capture_io, cap);
    }
    free(cap);
}

START_TEST(test_journal)
{
    struct health_config cfg = solo_config();
    struct health_record *a, *b, bad;
    struct health_record rec;
    uint8_t key[HEALTH_RECORD_KEY_LEN], value[HEALTH_RECORD_VALUE_LEN];
    struct health *h, *h0 = health_create(LB_ID(0), &cfg, 1, 0);
    long long int now = 0;
    size_t n_a, n_b;
    uint64_t seqno;

    run_with_peers(h0, &now, 2000);
    n_a = health_export(h0, &a);
    ck_assert_uint_eq(n_a, 3);          /* LB node 3 was never raised. */
    for (size_t i = 0; i < n_a; i++) {
        ck_assert_uint_gt(a[i].heartbeat, 0);
    }

    /* Through the store's byte strings and back into a fresh table. */
    h = health_create(LB_ID(0), &cfg, 9, now);
    seqno = health_seqno(h);
    for (size_t i = 0; i < n_a; i++) {
        health_record_encode(&a[i], key, value);
        ck_assert(health_record_decode(key, sizeof key, value, sizeof value,
                                       &rec));
        ck_assert(!memcmp(&rec, &a[i], sizeof rec));
        ck_assert_uint_eq(health_import(h, &rec, 1), 1);
    }
    ck_assert_uint_eq(health_seqno(h), seqno);      /* Not rises. */
    n_b = health_export(h, &b);
    ck_assert_uint_eq(n_b, n_a);
    ck_assert(!memcmp(a, b, n_a * sizeof *a));
    free(b);

    /* Lower counters and unknown nodes change nothing. */
    for (size_t i = 0; i < n_a; i++) {
        a[i].heartbeat--;
    }
    ck_assert_uint_eq(health_import(h, a, n_a), 0);
    bad = (struct health_record) { 4242, CTL_NODE_LB, 99 };
    ck_assert_uint_eq(health_import(h, &bad, 1), 0);
    bad = (struct health_record) { SERVER_ID(0), CTL_NODE_LB, UINT64_MAX };
    ck_assert_uint_eq(health_import(h, &bad, 1), 0);
    ck_assert_uint_eq(health_get_stats(h)->rejected[HEALTH_REJ_IMPORT], 2);
    n_b = health_export(h, &b);
    for (size_t i = 0; i < n_a; i++) {
        ck_assert_uint_eq(b[i].heartbeat, a[i].heartbeat + 1);
    }
    free(b);

    /* Malformed records. */
    health_record_encode(&a[0], key, value);
    ck_assert(!health_record_decode(key, 3, value, sizeof value, &rec));
    ck_assert(!health_record_decode(key, sizeof key, value, 9, &rec));
    ck_assert(!health_record_decode(key, sizeof key, value, 11, &rec));
    value[0] = HEALTH_RECORD_FORMAT + 1;
    ck_assert(!health_record_decode(key, sizeof key, value, sizeof value,
                                    &rec));
    value[0] = HEALTH_RECORD_FORMAT;
    value[1] = CTL_NODE_N_KINDS;
    ck_assert(!health_record_decode(key, sizeof key, value, sizeof value,
                                    &rec));
    value[1] = CTL_NODE_LB;
    memset(key, 0, sizeof key);
    ck_assert(!health_record_decode(key, sizeof key, value, sizeof value,
                                    &rec));

    free(a);
    health_destroy(h);
    health_destroy(h0);
}
END_TEST

START_TEST(test_format)
{
    struct health_config cfg = solo_config();
    struct health *h = health_create(LB_ID(0), &cfg, 1, 0);
    struct ds s = DS_EMPTY_INITIALIZER;
    long long int now = 0;

    run_with_peers(h, &now, 3000);
    health_format(h, now, &s);
    ck_assert_msg(strstr(ds_cstr(&s), "healthy LB nodes (2 of 3"),
                  "%s", ds_cstr(&s));
    ck_assert_msg(strstr(ds_cstr(&s), "unhealthy"), "%s", ds_cstr(&s));
    ck_assert_msg(strstr(ds_cstr(&s), "server        101  healthy"),
                  "%s", ds_cstr(&s));
    ck_assert_msg(strstr(ds_cstr(&s), "ms ago"), "%s", ds_cstr(&s));
    ds_destroy(&s);
    health_destroy(h);
}
END_TEST

static Suite *
health_suite(void)
{
    Suite *s = suite_create("health");
    TCase *tc = tcase_create("health");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_hostile);
    tcase_add_test(tc, test_late_answers);
    tcase_add_test(tc, test_stall_not_counted);
    tcase_add_test(tc, test_metrics);
    tcase_add_test(tc, test_timers_and_gossip_content);
    tcase_add_test(tc, test_old_news);
    tcase_add_test(tc, test_config_change);
    tcase_add_test(tc, test_gossip_split);
    tcase_add_test(tc, test_journal);
    tcase_add_test(tc, test_format);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(health_suite());
    int n_failed;

    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
