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
 * Unit tests of health: many LB nodes and server agents in one process on a
 * message bus with a fake clock, loss and delay (every message goes through
 * the real ctl-msg encoder and decoder), fixed seeds.
 *
 * Measured (printed) and asserted: the time for every LB node to find a
 * killed LB node unhealthy (worst over observers and 20 seeds, < 1 s), to
 * find it healthy again once it restarts with an empty table, to find a
 * stopped or not-ready server agent unhealthy (< 2 s), and the number of
 * false positives (live nodes seen unhealthy) under 5 % loss over 60 s.
 * Also: no flapping at start-up, two adjacent dead nodes, a node unable to
 * serve, clocks that disagree, LB_LIST senders and versions, hostile and
 * stale messages, state timers, push-pull answers, checks of suspects, old
 * news dated by its check, configuration changes, gossip split over several
 * messages, and the journal records.
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

#define SIM_MAX_LBS 16
#define SIM_MAX_SERVERS 8
#define SIM_MAX_NODES (SIM_MAX_LBS + SIM_MAX_SERVERS)
#define LB_ID(I) (11 + (I))
#define SERVER_ID(I) (101 + (I))

static uint64_t
splitmix(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* The message bus. */

struct sim_msg {
    long long int at;           /* Delivery time. */
    uint64_t order;             /* FIFO among equal 'at'. */
    uint32_t dst;
    struct ofpbuf *wire;        /* Encoded datagram. */
};

struct sim_lb {
    uint32_t id;
    struct health *h;           /* NULL while dead. */
    bool ever_down;             /* Killed or not serving at some point. */
    uint64_t seqno;             /* health_seqno() last observed. */
    uint64_t tx_seq;
};

struct sim_server {
    uint32_t id;
    bool alive;                 /* The agent answers PINGs. */
    bool ready;                 /* ...with ready=1. */
    bool ever_down;
    uint64_t tx_seq;

    /* LB_LISTs received. */
    uint64_t n_lists;
    uint64_t best_version;      /* Largest version received... */
    uint32_t best[SIM_MAX_LBS]; /* ...and its list. */
    size_t n_best;
    uint64_t last_version[SIM_MAX_LBS];     /* By sender index. */
    long long int last_list_at[SIM_MAX_LBS];
    uint32_t last_list[SIM_MAX_LBS][SIM_MAX_LBS];
    size_t n_last_list[SIM_MAX_LBS];
    bool version_went_back;
};

struct sim {
    long long int now;
    uint64_t prng;
    unsigned int loss_pct_x10;  /* Loss in tenths of a percent. */
    int delay_min, delay_jitter;
    struct ctl_key key;

    struct health_lb lb_cfg[SIM_MAX_LBS];
    struct health_server server_cfg[SIM_MAX_SERVERS];
    struct health_config cfg;
    struct sim_lb lbs[SIM_MAX_LBS];
    size_t n_lbs;
    struct sim_server servers[SIM_MAX_SERVERS];
    size_t n_servers;

    struct sim_msg *q;
    size_t n_q, alloc_q;
    uint64_t order;

    /* Observations, [observer LB index][node index: LBs, then servers]. */
    enum health_state state[SIM_MAX_LBS][SIM_MAX_NODES];
    long long int since[SIM_MAX_LBS][SIM_MAX_NODES];   /* Of 'state'. */
    uint64_t heartbeat[SIM_MAX_LBS][SIM_MAX_NODES];
    uint64_t false_positives;   /* Nodes never down seen unhealthy. */
    uint64_t suspects;          /* Entries into SUSPECT of such nodes. */
    bool heartbeat_went_back;
    uint64_t delivered, dropped;
};

struct sim_ctx {
    struct sim *sim;
    uint32_t src;
};

static int
node_index(const struct sim *sim, uint32_t id)
{
    for (size_t i = 0; i < sim->n_lbs; i++) {
        if (sim->lbs[i].id == id) {
            return i;
        }
    }
    for (size_t i = 0; i < sim->n_servers; i++) {
        if (sim->servers[i].id == id) {
            return SIM_MAX_LBS + i;
        }
    }
    return -1;
}

static size_t
n_tracked(const struct sim *sim)
{
    return sim->n_lbs + sim->n_servers;
}

static uint32_t
tracked_id(const struct sim *sim, size_t j)
{
    return j < sim->n_lbs ? sim->lbs[j].id : sim->servers[j - sim->n_lbs].id;
}

static bool
tracked_ever_down(const struct sim *sim, size_t j)
{
    return (j < sim->n_lbs ? sim->lbs[j].ever_down
            : sim->servers[j - sim->n_lbs].ever_down);
}

/* Records the states that LB node 'o' sees, and counts false positives. */
static void
observe(struct sim *sim, size_t o)
{
    struct sim_lb *lb = &sim->lbs[o];

    if (!lb->h || health_seqno(lb->h) == lb->seqno) {
        return;
    }
    lb->seqno = health_seqno(lb->h);
    for (size_t j = 0; j < n_tracked(sim); j++) {
        struct health_node_info info;

        EXPECT(health_get_node(lb->h, tracked_id(sim, j), &info), "no node");
        if (info.state != sim->state[o][j]) {
            sim->state[o][j] = info.state;
            sim->since[o][j] = sim->now;
            if (!tracked_ever_down(sim, j)) {
                sim->false_positives += info.state == HEALTH_UNHEALTHY;
                sim->suspects += info.state == HEALTH_SUSPECT;
            }
        }
    }
}

static void
check_heartbeats(struct sim *sim, size_t o)
{
    for (size_t j = 0; j < n_tracked(sim); j++) {
        struct health_node_info info;

        health_get_node(sim->lbs[o].h, tracked_id(sim, j), &info);
        if (info.heartbeat < sim->heartbeat[o][j]) {
            sim->heartbeat_went_back = true;
        }
        sim->heartbeat[o][j] = info.heartbeat;
    }
}

static void
bus_push(struct sim *sim, uint32_t src, uint32_t dst, struct ctl_msg *msg,
         uint64_t *tx_seq)
{
    struct sim_msg *m;
    struct ofpbuf *wire;

    msg->sender = src;
    msg->seq = ++*tx_seq;
    wire = ofpbuf_new(CTL_MSG_MAX_LEN);
    EXPECT(!ctl_msg_encode(msg, &sim->key, wire), "cannot encode %s",
           ctl_msg_type_to_string(msg->type));
    if (splitmix(&sim->prng) % 1000 < sim->loss_pct_x10) {
        ofpbuf_delete(wire);
        sim->dropped++;
        return;
    }
    if (sim->n_q >= sim->alloc_q) {
        sim->q = x2nrealloc(sim->q, &sim->alloc_q, sizeof *sim->q);
    }
    m = &sim->q[sim->n_q++];
    m->at = sim->now + sim->delay_min
            + (sim->delay_jitter
               ? splitmix(&sim->prng) % (sim->delay_jitter + 1) : 0);
    m->order = sim->order++;
    m->dst = dst;
    m->wire = wire;
}

static void
sim_send(void *ctx_, uint32_t dst, enum health_via via,
         const struct in6_addr *addr, struct ctl_msg *msg)
{
    struct sim_ctx *ctx = ctx_;
    struct sim *sim = ctx->sim;
    int i = node_index(sim, ctx->src);

    EXPECT(i >= 0 && dst != ctx->src && msg->sender == ctx->src,
           "bad sender or destination");
    /* The address matches the kind of message. */
    if (msg->type == CTL_MSG_PONG) {
        EXPECT(via == HEALTH_VIA_REPLY && !addr, "PONG not a reply");
    } else if (msg->type == CTL_MSG_PING) {
        EXPECT(addr && via == (msg->ping.path == CTL_PATH_NORTH
                               ? HEALTH_VIA_NORTH
                               : msg->ping.path == CTL_PATH_SOUTH
                               ? HEALTH_VIA_SOUTH : HEALTH_VIA_CONTROL),
               "PING to the wrong address");
    } else {
        EXPECT(via == HEALTH_VIA_CONTROL && addr, "not to control address");
    }
    bus_push(sim, ctx->src, dst, msg, &sim->lbs[i].tx_seq);
}

static const struct health_io sim_io = { .send = sim_send };

static void
agent_recv(struct sim *sim, struct sim_server *srv, const struct ctl_msg *msg)
{
    int i = node_index(sim, msg->sender);

    EXPECT(i >= 0 && i < SIM_MAX_LBS, "agent message from a non-LB");
    if (msg->type == CTL_MSG_PING) {
        struct ctl_msg pong;

        EXPECT(msg->ping.path == CTL_PATH_AGENT && msg->ping.target == srv->id,
               "bad PING to an agent");
        if (srv->alive) {
            ctl_msg_init(&pong, CTL_MSG_PONG, srv->id, 0);
            pong.pong.nonce = msg->ping.nonce;
            pong.pong.path = msg->ping.path;
            pong.pong.ready = srv->ready;
            bus_push(sim, srv->id, msg->sender, &pong, &srv->tx_seq);
        }
    } else if (msg->type == CTL_MSG_LB_LIST) {
        const struct ctl_lb_list *l = &msg->lb_list;

        EXPECT(l->n <= SIM_MAX_LBS, "LB_LIST too long");
        srv->n_lists++;
        if (l->version < srv->last_version[i]) {
            srv->version_went_back = true;
        }
        srv->last_version[i] = l->version;
        srv->last_list_at[i] = sim->now;
        memcpy(srv->last_list[i], l->nodes, l->n * sizeof l->nodes[0]);
        srv->n_last_list[i] = l->n;
        if (l->version > srv->best_version) {
            srv->best_version = l->version;
            memcpy(srv->best, l->nodes, l->n * sizeof l->nodes[0]);
            srv->n_best = l->n;
        }
    } else {
        ck_abort_msg("agent got %s", ctl_msg_type_to_string(msg->type));
    }
}

static void
deliver(struct sim *sim, struct sim_msg *m)
{
    struct ctl_msg msg;
    int i = node_index(sim, m->dst);

    EXPECT(ctl_msg_decode(m->wire->data, m->wire->size, &sim->key, &msg,
                          NULL) == CTL_MSG_OK, "cannot decode");
    ofpbuf_delete(m->wire);
    EXPECT(i >= 0, "to an unknown node");
    if (i >= SIM_MAX_LBS) {
        agent_recv(sim, &sim->servers[i - SIM_MAX_LBS], &msg);
    } else if (sim->lbs[i].h) {
        struct sim_ctx ctx = { sim, m->dst };

        sim->delivered++;
        health_recv(sim->lbs[i].h, &msg, sim->now, &sim_io, &ctx);
        observe(sim, i);
    }
}

static void
sim_init(struct sim *sim, size_t n_lbs, size_t n_servers, uint64_t seed)
{
    memset(sim, 0, sizeof *sim);
    ck_assert_int_eq(ctl_key_init(&sim->key, TEST_KEY, strlen(TEST_KEY)),
                     0);
    sim->prng = seed * 7919 + 1;
    sim->delay_min = 1;
    sim->delay_jitter = 2;
    sim->now = 1000;
    sim->n_lbs = n_lbs;
    sim->n_servers = n_servers;
    for (size_t i = 0; i < n_lbs; i++) {
        struct health_lb *lb = &sim->lb_cfg[i];

        lb->node = LB_ID(i);
        lb->north.s6_addr[15] = i + 1;
        lb->south.s6_addr[14] = i + 1;
        lb->control.s6_addr[13] = i + 1;
        sim->lbs[i].id = lb->node;
    }
    for (size_t i = 0; i < n_servers; i++) {
        sim->server_cfg[i].node = SERVER_ID(i);
        sim->server_cfg[i].control.s6_addr[12] = i + 1;
        sim->servers[i].id = SERVER_ID(i);
        sim->servers[i].alive = sim->servers[i].ready = true;
    }
    sim->cfg.lbs = sim->lb_cfg;
    sim->cfg.n_lbs = n_lbs;
    sim->cfg.servers = sim->server_cfg;
    sim->cfg.n_servers = n_servers;
    sim->cfg.ring_key = RING_KEY;
    sim->cfg.vnodes = 16;
}

/* Starts (or restarts, with an empty table) LB node 'i'. */
static void
sim_start(struct sim *sim, size_t i)
{
    struct sim_lb *lb = &sim->lbs[i];

    ck_assert(!lb->h);
    lb->h = health_create(lb->id, &sim->cfg, splitmix(&sim->prng),
                          sim->now);
    health_set_clock_offset(lb->h, 0);      /* One clock for all. */
    lb->seqno = health_seqno(lb->h) - 1;
    for (size_t j = 0; j < SIM_MAX_NODES; j++) {
        sim->state[i][j] = HEALTH_HEALTHY;
        sim->since[i][j] = sim->now;
        sim->heartbeat[i][j] = 0;
    }
    observe(sim, i);
}

static void
sim_start_all(struct sim *sim)
{
    for (size_t i = 0; i < sim->n_lbs; i++) {
        sim_start(sim, i);
    }
}

/* Kills LB node 'i': it stops answering and sending at once. */
static void
sim_kill(struct sim *sim, size_t i)
{
    health_destroy(sim->lbs[i].h);
    sim->lbs[i].h = NULL;
    sim->lbs[i].ever_down = true;
}

/* Runs the simulation until 'end'. */
static void
sim_run_until(struct sim *sim, long long int end)
{
    for (;;) {
        long long int next = LLONG_MAX;
        size_t first = SIZE_MAX;

        for (size_t k = 0; k < sim->n_q; k++) {
            if (first == SIZE_MAX || sim->q[k].at < sim->q[first].at
                || (sim->q[k].at == sim->q[first].at
                    && sim->q[k].order < sim->q[first].order)) {
                first = k;
            }
        }
        if (first != SIZE_MAX) {
            next = sim->q[first].at;
        }
        for (size_t i = 0; i < sim->n_lbs; i++) {
            if (sim->lbs[i].h) {
                next = MIN(next, health_next_deadline(sim->lbs[i].h));
            }
        }
        next = MAX(next, sim->now);
        if (next > end) {
            sim->now = end;
            return;
        }
        sim->now = next;

        if (first != SIZE_MAX && sim->q[first].at <= sim->now) {
            struct sim_msg m = sim->q[first];

            sim->q[first] = sim->q[--sim->n_q];
            deliver(sim, &m);
            continue;
        }
        for (size_t i = 0; i < sim->n_lbs; i++) {
            struct sim_lb *lb = &sim->lbs[i];

            if (lb->h && health_next_deadline(lb->h) <= sim->now) {
                struct sim_ctx ctx = { sim, lb->id };

                health_run(lb->h, sim->now, &sim_io, &ctx);
                EXPECT(health_next_deadline(lb->h) > sim->now,
                       "still due after health_run()");
                observe(sim, i);
                check_heartbeats(sim, i);
            }
        }
    }
}

static void
sim_destroy(struct sim *sim)
{
    for (size_t i = 0; i < sim->n_lbs; i++) {
        health_destroy(sim->lbs[i].h);
    }
    for (size_t k = 0; k < sim->n_q; k++) {
        ofpbuf_delete(sim->q[k].wire);
    }
    free(sim->q);
    ctl_key_destroy(&sim->key);
}

/* Returns true if every live LB node sees node 'id' in 'state'. */
static bool
all_see(const struct sim *sim, uint32_t id, enum health_state state)
{
    for (size_t o = 0; o < sim->n_lbs; o++) {
        struct health_node_info info;

        if (sim->lbs[o].h) {
            EXPECT(health_get_node(sim->lbs[o].h, id, &info), "no node");
            if (info.state != state) {
                return false;
            }
        }
    }
    return true;
}

/* Returns the latest time at which a live LB node other than 'id' entered
 * its current state of node 'id', minus 'since'. */
static long long int
worst_since(const struct sim *sim, uint32_t id, long long int since)
{
    int j = node_index(sim, id);
    long long int worst = 0;

    if (j >= SIM_MAX_LBS) {
        j = j - SIM_MAX_LBS + sim->n_lbs;
    }
    for (size_t o = 0; o < sim->n_lbs; o++) {
        if (sim->lbs[o].h && sim->lbs[o].id != id) {
            worst = MAX(worst, sim->since[o][j] - since);
        }
    }
    return worst;
}

/* Runs until every live LB node sees 'id' in 'state' or until 'limit'. */
static void
run_until_all_see(struct sim *sim, uint32_t id, enum health_state state,
                  long long int limit)
{
    while (!all_see(sim, id, state) && sim->now < limit) {
        sim_run_until(sim, MIN(sim->now + 10, limit));
    }
}

/* Asserts that every live LB node's healthy set is 'ids'. */
static void
assert_sets(const struct sim *sim, const uint32_t *ids, size_t n)
{
    for (size_t o = 0; o < sim->n_lbs; o++) {
        const uint32_t *set;
        size_t n_set;

        if (!sim->lbs[o].h) {
            continue;
        }
        set = health_healthy_lbs(sim->lbs[o].h, &n_set);
        ck_assert_msg(n_set == n && !memcmp(set, ids, n * sizeof *ids),
                      "node %"PRIu32" has %"PRIuSIZE" healthy LB nodes, "
                      "expected %"PRIuSIZE, sim->lbs[o].id, n_set, n);
    }
}

static void
all_lb_ids(const struct sim *sim, uint32_t *ids, size_t *n,
           const uint32_t *except, size_t n_except)
{
    *n = 0;
    for (size_t i = 0; i < sim->n_lbs; i++) {
        bool skip = false;

        for (size_t k = 0; k < n_except; k++) {
            skip |= sim->lbs[i].id == except[k];
        }
        if (!skip) {
            ids[(*n)++] = sim->lbs[i].id;
        }
    }
}

/* Tests. */

START_TEST(test_startup)
{
    uint64_t suspects = 0;

    for (uint64_t seed = 0; seed < 5; seed++) {
        uint32_t ids[SIM_MAX_LBS];
        struct sim sim;
        size_t n;

        sim_init(&sim, 8, 4, seed);
        sim_start_all(&sim);
        sim_run_until(&sim, sim.now + 3000);
        all_lb_ids(&sim, ids, &n, NULL, 0);
        assert_sets(&sim, ids, n);
        for (size_t i = 0; i < sim.n_lbs; i++) {
            const struct health_stats *st = health_get_stats(sim.lbs[i].h);

            /* The set never changed since start-up: no flapping. */
            ck_assert_uint_eq(health_lb_set_seqno(sim.lbs[i].h), 1);
            ck_assert_uint_gt(st->checks_ok, 3 * 25);
            ck_assert_uint_gt(st->gossip_received, 0);
            for (size_t s = 0; s < sim.n_servers; s++) {
                ck_assert(health_is_healthy(sim.lbs[i].h, sim.servers[s].id));
            }
        }
        ck_assert_uint_eq(sim.false_positives, 0);
        ck_assert(!sim.heartbeat_went_back);
        suspects += sim.suspects;
        sim_destroy(&sim);
    }
    /* Suspects are harmless (the set does not change); they happen when a
     * node's first rise reaches an observer more than 300 ms after start. */
    printf("health: start-up of 8 LB nodes + 4 servers, 5 x 3 s: no set "
           "change, %"PRIu64" suspect episodes\n", suspects);
}
END_TEST

START_TEST(test_kill_and_restart)
{
    long long int worst_down = 0, worst_up = 0, sum_down = 0, sum_up = 0;
    const int n_seeds = 20;

    for (int seed = 0; seed < n_seeds; seed++) {
        uint32_t ids[SIM_MAX_LBS];
        size_t victim = seed % 8;
        uint32_t victim_id;
        long long int t, d;
        struct sim sim;
        size_t n;

        sim_init(&sim, 8, 2, seed);
        victim_id = sim.lbs[victim].id;
        sim_start_all(&sim);
        /* Kill at a time that is not a multiple of the intervals. */
        sim_run_until(&sim, sim.now + 2000 + seed * 7);

        t = sim.now;
        sim_kill(&sim, victim);
        run_until_all_see(&sim, victim_id, HEALTH_UNHEALTHY, t + 3000);
        ck_assert(all_see(&sim, victim_id, HEALTH_UNHEALTHY));
        d = worst_since(&sim, victim_id, t);
        worst_down = MAX(worst_down, d);
        sum_down += d;
        ck_assert_msg(d < 1000, "seed %d: unhealthy everywhere after %lld ms",
                      seed, d);

        sim_run_until(&sim, t + 3000);
        all_lb_ids(&sim, ids, &n, &victim_id, 1);
        assert_sets(&sim, ids, n);
        ck_assert_uint_eq(sim.false_positives, 0);

        /* It comes back, with an empty table. */
        t = sim.now;
        sim_start(&sim, victim);
        run_until_all_see(&sim, victim_id, HEALTH_HEALTHY, t + 3000);
        ck_assert(all_see(&sim, victim_id, HEALTH_HEALTHY));
        d = worst_since(&sim, victim_id, t);
        worst_up = MAX(worst_up, d);
        sum_up += d;
        ck_assert_msg(d < 1000, "seed %d: healthy everywhere after %lld ms",
                      seed, d);
        sim_run_until(&sim, sim.now + 1000);
        all_lb_ids(&sim, ids, &n, NULL, 0);
        assert_sets(&sim, ids, n);
        ck_assert_uint_eq(sim.false_positives, 0);
        ck_assert(!sim.heartbeat_went_back);
        sim_destroy(&sim);
    }
    printf("health: 8 LB nodes, one killed: unhealthy on every node after "
           "%lld ms worst, %lld ms mean (%d seeds)\n",
           worst_down, sum_down / n_seeds, n_seeds);
    printf("health: restarted with an empty table: healthy on every node "
           "after %lld ms worst, %lld ms mean\n",
           worst_up, sum_up / n_seeds);
}
END_TEST

START_TEST(test_two_adjacent_dead)
{
    long long int worst = 0;

    for (int seed = 0; seed < 10; seed++) {
        uint32_t dead[2] = { LB_ID(1), LB_ID(2) };
        uint32_t ids[SIM_MAX_LBS];
        struct sim sim;
        long long int t;
        size_t n;

        sim_init(&sim, 5, 2, seed);
        sim_start_all(&sim);
        sim_run_until(&sim, sim.now + 1500 + seed * 13);
        t = sim.now;
        sim_kill(&sim, 1);
        sim_kill(&sim, 2);
        for (int k = 0; k < 2; k++) {
            run_until_all_see(&sim, dead[k], HEALTH_UNHEALTHY, t + 3000);
            ck_assert(all_see(&sim, dead[k], HEALTH_UNHEALTHY));
            worst = MAX(worst, worst_since(&sim, dead[k], t));
        }
        sim_run_until(&sim, t + 5000);
        all_lb_ids(&sim, ids, &n, dead, 2);
        ck_assert_uint_eq(n, 3);
        assert_sets(&sim, ids, n);
        ck_assert_uint_eq(sim.false_positives, 0);
        for (size_t s = 0; s < sim.n_servers; s++) {
            ck_assert(all_see(&sim, sim.servers[s].id, HEALTH_HEALTHY));
        }
        sim_destroy(&sim);
    }
    printf("health: 5 LB nodes, two adjacent killed: unhealthy everywhere "
           "after %lld ms worst (10 seeds)\n", worst);
    ck_assert_int_lt(worst, 1000);
}
END_TEST

START_TEST(test_loss)
{
    uint64_t total_fp = 0, total_suspects = 0, dropped = 0, delivered = 0;

    for (int seed = 0; seed < 2; seed++) {
        uint32_t ids[SIM_MAX_LBS];
        struct sim sim;
        size_t n;

        sim_init(&sim, 8, 4, 100 + seed);
        sim.loss_pct_x10 = 50;
        sim.delay_min = 1;
        sim.delay_jitter = 4;
        sim_start_all(&sim);
        sim_run_until(&sim, sim.now + 60000);
        all_lb_ids(&sim, ids, &n, NULL, 0);
        assert_sets(&sim, ids, n);
        total_fp += sim.false_positives;
        total_suspects += sim.suspects;
        dropped += sim.dropped;
        delivered += sim.delivered;
        ck_assert(!sim.heartbeat_went_back);
        sim_destroy(&sim);
    }
    printf("health: 5%% loss, 8 LB nodes + 4 servers, 2 x 60 s: %"PRIu64
           " false positives, %"PRIu64" suspect episodes "
           "(%"PRIu64" of %"PRIu64" messages dropped)\n",
           total_fp, total_suspects, dropped, dropped + delivered);
    ck_assert_uint_eq(total_fp, 0);
}
END_TEST

static long long int
server_failure(int seed, bool not_ready, long long int *up)
{
    struct sim sim;
    struct sim_server *srv;
    long long int t, d;

    sim_init(&sim, 5, 4, 200 + seed);
    sim_start_all(&sim);
    sim_run_until(&sim, sim.now + 2000 + seed * 11);
    srv = &sim.servers[seed % 4];
    srv->ever_down = true;
    if (not_ready) {
        srv->ready = false;
    } else {
        srv->alive = false;
    }
    t = sim.now;
    run_until_all_see(&sim, srv->id, HEALTH_UNHEALTHY, t + 5000);
    ck_assert(all_see(&sim, srv->id, HEALTH_UNHEALTHY));
    d = worst_since(&sim, srv->id, t);

    sim_run_until(&sim, sim.now + 1000);
    srv->ready = srv->alive = true;
    t = sim.now;
    run_until_all_see(&sim, srv->id, HEALTH_HEALTHY, t + 5000);
    ck_assert(all_see(&sim, srv->id, HEALTH_HEALTHY));
    *up = MAX(*up, worst_since(&sim, srv->id, t));

    ck_assert_uint_eq(sim.false_positives, 0);
    for (size_t i = 0; not_ready && i < sim.n_lbs; i++) {
        /* ready=0 answers are failures, counted as such by the checkers. */
        if (health_get_stats(sim.lbs[i].h)->checks_not_ready) {
            not_ready = false;
        }
    }
    ck_assert(!not_ready);
    sim_destroy(&sim);
    return d;
}

START_TEST(test_server_down)
{
    long long int worst_stop = 0, worst_not_ready = 0, up = 0;

    for (int seed = 0; seed < 10; seed++) {
        worst_stop = MAX(worst_stop, server_failure(seed, false, &up));
        worst_not_ready = MAX(worst_not_ready,
                              server_failure(seed, true, &up));
    }
    printf("health: server agent stopped: unhealthy on every LB node after "
           "%lld ms worst; ready=0: %lld ms; back: healthy after %lld ms "
           "(10 seeds)\n", worst_stop, worst_not_ready, up);
    ck_assert_int_lt(worst_stop, 2000);
    ck_assert_int_lt(worst_not_ready, 2000);
}
END_TEST

/* Asserts that the LB_LISTs that server 's' received since 'since' came from
 * exactly its two checkers on the ring of 'ids', that their last lists are
 * 'ids', and that the largest version it received carries 'ids'. */
static void
assert_lb_lists(const struct sim *sim, const struct sim_server *srv,
                const uint32_t *ids, size_t n, long long int since)
{
    struct ring *ring = ring_create(ids, n, RING_KEY, sim->cfg.vnodes);
    uint32_t first, second;

    ck_assert_uint_eq(ring_server_checkers(ring, srv->id, &first, &second),
                      2);
    for (size_t i = 0; i < sim->n_lbs; i++) {
        uint32_t id = sim->lbs[i].id;
        bool checker = id == first || id == second;

        ck_assert_msg(checker == (srv->last_list_at[i] >= since),
                      "server %"PRIu32": LB node %"PRIu32" %s", srv->id, id,
                      checker ? "sent no LB_LIST" : "sent LB_LIST");
        if (checker) {
            ck_assert_uint_eq(srv->n_last_list[i], n);
            ck_assert(!memcmp(srv->last_list[i], ids, n * sizeof *ids));
        }
    }
    ck_assert_uint_eq(srv->n_best, n);
    ck_assert(!memcmp(srv->best, ids, n * sizeof *ids));
    ck_assert(!srv->version_went_back);
    ring_destroy(ring);
}

START_TEST(test_lb_list)
{
    uint64_t versions[SIM_MAX_SERVERS];
    uint32_t ids[SIM_MAX_LBS];
    struct sim sim;
    uint32_t victim_id;
    size_t victim = SIZE_MAX, n;
    uint32_t first, second;
    struct ring *ring;

    sim_init(&sim, 5, 4, 300);
    sim_start_all(&sim);
    sim_run_until(&sim, sim.now + 2000);
    all_lb_ids(&sim, ids, &n, NULL, 0);
    for (size_t s = 0; s < sim.n_servers; s++) {
        assert_lb_lists(&sim, &sim.servers[s], ids, n, sim.now - 1000);
        versions[s] = sim.servers[s].best_version;
        ck_assert_uint_gt(versions[s], 0);
    }

    /* Kill the first checker of server 0: its lists change, from a new
     * pair of checkers, with larger versions. */
    ring = ring_create(ids, n, RING_KEY, sim.cfg.vnodes);
    ring_server_checkers(ring, sim.servers[0].id, &first, &second);
    ring_destroy(ring);
    victim = node_index(&sim, first);
    victim_id = first;
    sim_kill(&sim, victim);
    sim_run_until(&sim, sim.now + 2500);
    memset(sim.servers[0].last_list_at, 0,
           sizeof sim.servers[0].last_list_at);
    for (size_t s = 1; s < sim.n_servers; s++) {
        memset(sim.servers[s].last_list_at, 0,
               sizeof sim.servers[s].last_list_at);
    }
    sim_run_until(&sim, sim.now + 1000);
    all_lb_ids(&sim, ids, &n, &victim_id, 1);
    for (size_t s = 0; s < sim.n_servers; s++) {
        assert_lb_lists(&sim, &sim.servers[s], ids, n, sim.now - 1000);
        ck_assert_uint_gt(sim.servers[s].best_version, versions[s]);
    }
    sim_destroy(&sim);
}
END_TEST

/* Clocks that disagree: counters are timestamps where clocks agree and
 * degrade to +1 steps where a clock is ahead; nothing breaks. */
START_TEST(test_clock_skew)
{
    long long int worst = 0;

    for (int seed = 0; seed < 3; seed++) {
        uint32_t ids[SIM_MAX_LBS];
        struct sim sim;
        uint32_t fast_id;
        long long int t;
        size_t n;

        sim_init(&sim, 8, 4, 700 + seed);
        sim_start_all(&sim);
        for (size_t i = 0; i < sim.n_lbs; i++) {
            health_set_clock_offset(sim.lbs[i].h,
                                    (i == 3 ? 2000
                                     : (long long int) (splitmix(&sim.prng)
                                                        % 101) - 50));
        }
        sim_run_until(&sim, sim.now + 10000);
        ck_assert_uint_eq(sim.false_positives, 0);

        /* Kill the node whose clock is 2 s ahead. */
        fast_id = sim.lbs[3].id;
        t = sim.now;
        sim_kill(&sim, 3);
        run_until_all_see(&sim, fast_id, HEALTH_UNHEALTHY, t + 3000);
        ck_assert(all_see(&sim, fast_id, HEALTH_UNHEALTHY));
        worst = MAX(worst, worst_since(&sim, fast_id, t));
        sim_run_until(&sim, t + 5000);
        ck_assert_uint_eq(sim.false_positives, 0);
        all_lb_ids(&sim, ids, &n, &fast_id, 1);
        assert_sets(&sim, ids, n);
        for (size_t s = 0; s < sim.n_servers; s++) {
            ck_assert_uint_eq(sim.servers[s].n_best, n);
            ck_assert(!memcmp(sim.servers[s].best, ids, n * sizeof *ids));
        }
        ck_assert(!sim.heartbeat_went_back);
        sim_destroy(&sim);
    }
    printf("health: clocks +-50 ms and one 2 s ahead: that node killed, "
           "unhealthy everywhere after %lld ms worst\n", worst);
    ck_assert_int_lt(worst, 1000);
}
END_TEST

START_TEST(test_not_serving)
{
    long long int worst_down = 0, worst_up = 0;

    for (int seed = 0; seed < 5; seed++) {
        struct sim sim;
        struct sim_lb *lb;
        uint64_t gossip_before;
        long long int t;

        sim_init(&sim, 5, 1, 400 + seed);
        sim_start_all(&sim);
        sim_run_until(&sim, sim.now + 1500);
        lb = &sim.lbs[seed % 5];
        lb->ever_down = true;
        health_set_serving(lb->h, false);
        ck_assert(!health_is_serving(lb->h));
        gossip_before = health_get_stats(lb->h)->gossip_sent;
        t = sim.now;
        run_until_all_see(&sim, lb->id, HEALTH_UNHEALTHY, t + 3000);
        for (size_t o = 0; o < sim.n_lbs; o++) {
            if (&sim.lbs[o] != lb) {
                struct health_node_info info;

                health_get_node(sim.lbs[o].h, lb->id, &info);
                ck_assert_int_eq(info.state, HEALTH_UNHEALTHY);
            }
        }
        worst_down = MAX(worst_down, worst_since(&sim, lb->id, t));
        ck_assert_uint_gt(health_get_stats(lb->h)->pings_not_serving, 0);
        /* It still gossips (and checks). */
        ck_assert_uint_gt(health_get_stats(lb->h)->gossip_sent,
                          gossip_before);

        sim_run_until(&sim, sim.now + 500);
        health_set_serving(lb->h, true);
        t = sim.now;
        run_until_all_see(&sim, lb->id, HEALTH_HEALTHY, t + 3000);
        ck_assert(all_see(&sim, lb->id, HEALTH_HEALTHY));
        worst_up = MAX(worst_up, worst_since(&sim, lb->id, t));
        ck_assert_uint_eq(sim.false_positives, 0);
        sim_destroy(&sim);
    }
    printf("health: node unable to serve: unhealthy everywhere after %lld "
           "ms worst; serving again: healthy after %lld ms\n",
           worst_down, worst_up);
    ck_assert_int_lt(worst_down, 1000);
    ck_assert_int_lt(worst_up, 1000);
}
END_TEST

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

START_TEST(test_journal)
{
    struct health_record *a, *b, bad;
    struct health_record rec;
    uint8_t key[HEALTH_RECORD_KEY_LEN], value[HEALTH_RECORD_VALUE_LEN];
    struct sim sim;
    struct health *h;
    size_t n_a, n_b;
    uint64_t seqno;

    sim_init(&sim, 5, 2, 500);
    sim_start_all(&sim);
    sim_run_until(&sim, sim.now + 2000);
    n_a = health_export(sim.lbs[0].h, &a);
    ck_assert_uint_eq(n_a, 7);

    /* Through the store's byte strings and back into a fresh table. */
    h = health_create(sim.lbs[0].id, &sim.cfg, 9, sim.now);
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
    sim_destroy(&sim);
}
END_TEST

START_TEST(test_format)
{
    struct sim sim;
    struct ds s = DS_EMPTY_INITIALIZER;

    sim_init(&sim, 3, 1, 600);
    sim_start_all(&sim);
    sim_run_until(&sim, sim.now + 1000);
    sim_kill(&sim, 2);
    sim_run_until(&sim, sim.now + 1000);
    health_format(sim.lbs[0].h, sim.now, &s);
    ck_assert_msg(strstr(ds_cstr(&s), "healthy LB nodes (2 of 3"),
                  "%s", ds_cstr(&s));
    ck_assert_msg(strstr(ds_cstr(&s), "unhealthy"), "%s", ds_cstr(&s));
    ck_assert_msg(strstr(ds_cstr(&s), "server        101  healthy"),
                  "%s", ds_cstr(&s));
    ck_assert_msg(strstr(ds_cstr(&s), "ms ago"), "%s", ds_cstr(&s));
    ds_destroy(&s);
    sim_destroy(&sim);
}
END_TEST

static Suite *
health_suite(void)
{
    Suite *s = suite_create("health");
    TCase *tc = tcase_create("health");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_startup);
    tcase_add_test(tc, test_kill_and_restart);
    tcase_add_test(tc, test_two_adjacent_dead);
    tcase_add_test(tc, test_loss);
    tcase_add_test(tc, test_server_down);
    tcase_add_test(tc, test_lb_list);
    tcase_add_test(tc, test_clock_skew);
    tcase_add_test(tc, test_not_serving);
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
