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
 * health: health checks and heartbeat gossip of PROTOCOL.md §8.  See
 * health.h.
 */
#include <config.h>
#include "health.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "byte-order.h"
#include "coverage.h"
#include "hash.h"
#include "metrics.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/util.h"
#include "openvswitch/vlog.h"
#include "ring.h"
#include "unaligned.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(health);

COVERAGE_DEFINE(health_rejected);
COVERAGE_DEFINE(health_check_failed);
COVERAGE_DEFINE(health_state_change);
COVERAGE_DEFINE(health_lb_set_change);

/* One node of the configuration, with its entry of the heartbeat table. */
struct health_node {
    struct hmap_node hmap_node;     /* In 'health->nodes', by id. */
    uint32_t id;
    enum ctl_node_kind kind;
    struct in6_addr north, south;   /* LB nodes only. */
    struct in6_addr control;
    uint64_t heartbeat;             /* 0: never raised. */
    long long int last_rise;        /* LLONG_MIN: never seen rising. */
    enum health_state state;
    bool probe;                     /* Just became suspect: check it. */
};

/* A check in flight: the PINGs of one LB check (north and south) or of one
 * server check (agent), sharing 'nonce'. */
struct health_check {
    struct hmap_node hmap_node;     /* In 'health->checks', by nonce. */
    uint64_t nonce;
    uint32_t target;
    bool server;
    unsigned int awaited;           /* 1 << enum ctl_ping_path, per path. */
    long long int deadline;
    long long int late_until;       /* Answers still taken until then. */
    bool failed;                    /* Past 'deadline': counted failed. */
};

struct health {
    uint32_t self;
    uint64_t prng;                  /* splitmix64 state. */
    long long int created;
    long long int last_run;         /* Of health_run(). */
    long long int wall_offset;      /* Wall clock minus 'now'. */
    bool clock_set;                 /* 'wall_offset' was given. */
    bool serving;

    /* Configuration. */
    uint64_t ring_key;
    unsigned int vnodes;
    uint32_t ping_interval, ping_timeout, gossip_interval;
    uint32_t suspect[CTL_NODE_N_KINDS], unhealthy[CTL_NODE_N_KINDS];
    uint32_t server_interval;
    uint32_t rise_slack;
    struct hmap nodes;              /* Of struct health_node. */
    struct health_node **lbs;       /* LB nodes, ascending id. */
    size_t n_lbs;
    struct health_node **servers;   /* Server nodes, ascending id. */
    size_t n_servers;
    struct ring *all_ring;          /* All LB nodes: neighbours. */

    /* The healthy LB set (healthy or suspect), ascending, and its ring. */
    uint32_t *healthy;
    size_t n_healthy;
    struct ring *healthy_ring;
    uint64_t lb_set_seqno;
    uint64_t seqno;
    uint64_t lb_version;
    bool lb_list_due;               /* Send LB_LIST at the next run. */

    /* Gossip targets of the current round, in random order. */
    uint32_t *gossip_order;
    size_t n_gossip_order, gossip_pos;
    uint64_t gossip_order_seqno;    /* 'lb_set_seqno' it was drawn for. */

    struct hmap checks;             /* Of struct health_check. */
    size_t n_probes;                /* Nodes with 'probe' set (at most). */
    long long int next_ping, next_gossip, next_server;

    struct health_stats stats;
};

static void rebuild_healthy(struct health *, long long int now,
                            bool rebuild_ring);
static void check_suspects(struct health *, bool only_new, uint32_t skip1,
                           uint32_t skip2, uint32_t skip3, long long int now,
                           const struct health_io *, void *aux);

/* splitmix64 (Steele, Lea, Flood, 2014): any seed, including 0, gives a good
 * sequence. */
static uint64_t
health_random(struct health *h)
{
    uint64_t z = (h->prng += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Returns a random number in [0, 'n'), 'n' > 0. */
static size_t
health_random_below(struct health *h, size_t n)
{
    return health_random(h) % n;
}

static void
reject(struct health *h, enum health_reject why)
{
    h->stats.rejected[why]++;
    COVERAGE_INC(health_rejected);
}

static struct health_node *
find_node(const struct health *h, uint32_t id)
{
    struct health_node *node;

    HMAP_FOR_EACH_WITH_HASH (node, hmap_node, hash_int(id, 0), &h->nodes) {
        if (node->id == id) {
            return node;
        }
    }
    return NULL;
}

static struct health_check *
find_check(const struct health *h, uint64_t nonce)
{
    struct health_check *check;

    HMAP_FOR_EACH_WITH_HASH (check, hmap_node, hash_uint64(nonce),
                             &h->checks) {
        if (check->nonce == nonce) {
            return check;
        }
    }
    return NULL;
}

static void
remove_check(struct health *h, struct health_check *check)
{
    hmap_remove(&h->checks, &check->hmap_node);
    free(check);
}

/* Node states. */

/* Returns the state of 'node' at 'now' from the time it was last seen
 * rising. */
static enum health_state
state_at(const struct health *h, const struct health_node *node,
         long long int now)
{
    long long int age;

    if (node->last_rise == LLONG_MIN) {
        return HEALTH_UNHEALTHY;
    }
    age = now - node->last_rise;
    if (age < h->suspect[node->kind]) {
        return HEALTH_HEALTHY;
    } else if (age < (long long int) h->suspect[node->kind]
                     + h->unhealthy[node->kind]) {
        return HEALTH_SUSPECT;
    } else {
        return HEALTH_UNHEALTHY;
    }
}

/* Returns when 'node' leaves its current state if it does not rise, or
 * LLONG_MAX. */
static long long int
state_deadline(const struct health *h, const struct health_node *node)
{
    switch (node->state) {
    case HEALTH_HEALTHY:
        return node->last_rise + h->suspect[node->kind];
    case HEALTH_SUSPECT:
        return (node->last_rise + h->suspect[node->kind]
                + h->unhealthy[node->kind]);
    case HEALTH_UNHEALTHY:
    case HEALTH_N_STATES:
    default:
        return LLONG_MAX;
    }
}

/* Moves 'node' to 'state'.  Returns true if that changed whether the node is
 * in the healthy LB set. */
static bool
set_state(struct health *h, struct health_node *node,
          enum health_state state, long long int now)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(30, 60);
    bool was_in, is_in;

    if (node->state == state) {
        return false;
    }
    /* Every transition, with the age of the newest evidence that the node
     * was up (its own answer, or another checker's by gossip), so that an
     * operator can tell a dead node from late answers. */
    if (node->last_rise == LLONG_MIN) {
        VLOG_INFO_RL(&rl, "%s node %"PRIu32": %s -> %s (never heard from)",
                     node->kind == CTL_NODE_LB ? "LB" : "server", node->id,
                     health_state_to_string(node->state),
                     health_state_to_string(state));
    } else {
        VLOG_INFO_RL(&rl, "%s node %"PRIu32": %s -> %s (last up %lld ms "
                     "ago)", node->kind == CTL_NODE_LB ? "LB" : "server",
                     node->id, health_state_to_string(node->state),
                     health_state_to_string(state), now - node->last_rise);
    }
    was_in = node->state != HEALTH_UNHEALTHY;
    is_in = state != HEALTH_UNHEALTHY;
    node->probe = state == HEALTH_SUSPECT && node->id != h->self;
    h->n_probes += node->probe;
    node->state = state;
    h->seqno++;
    h->stats.state_changes++;
    COVERAGE_INC(health_state_change);
    return node->kind == CTL_NODE_LB && was_in != is_in;
}

/* A call of health_run() that comes more than a ping interval after the
 * previous one means that this node's loop stalled (starved of CPU by a
 * flood that saturates the machine, or blocked): meanwhile it checked
 * nobody and read no answer, so the others' silence over that time says
 * nothing about them.  It is not counted: every node's last rise moves
 * forward by the stall (never past 'now').  A dead node is then found that
 * much later, which no checker that was not running could do better.
 * Without this, a node whose loop ran 1 s late under a SYN flood on the
 * lab found every other node unhealthy at once ("healthy -> unhealthy,
 * last up 1028 ms ago"), then healthy again as the answers came in. */
static void
credit_stall(struct health *h, long long int now)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 60);
    long long int stall = now - h->last_run - h->ping_interval;
    struct health_node *node;

    h->last_run = now;
    if (stall <= 0) {
        return;
    }
    h->stats.stalls++;
    h->stats.stall_ms += stall;
    VLOG_INFO_RL(&rl, "this node's loop ran %lld ms late: the other nodes' "
                 "silence meanwhile is not counted against them", stall);
    HMAP_FOR_EACH (node, hmap_node, &h->nodes) {
        if (node->last_rise != LLONG_MIN) {
            node->last_rise = MIN(node->last_rise + stall, now);
        }
    }
}

/* Brings every node's state up to 'now'. */
static void
update_states(struct health *h, long long int now)
{
    struct health_node *node;
    bool set_changed = false;

    HMAP_FOR_EACH (node, hmap_node, &h->nodes) {
        set_changed |= set_state(h, node, state_at(h, node, now), now);
    }
    if (set_changed) {
        rebuild_healthy(h, now, false);
    }
}

/* Raises 'node''s counter to 'heartbeat' if that is larger: a rise, seen at
 * 'now' and dated 'rise_time' (at most 'now').  Returns true if it rose. */
static bool
raise_heartbeat(struct health *h, struct health_node *node,
                uint64_t heartbeat, long long int rise_time,
                long long int now)
{
    if (heartbeat <= node->heartbeat) {
        return false;
    }
    node->heartbeat = heartbeat;
    if (node->last_rise == LLONG_MIN || rise_time > node->last_rise) {
        node->last_rise = rise_time;
    }
    if (set_state(h, node, state_at(h, node, now), now)) {
        rebuild_healthy(h, now, false);
    }
    return true;
}

/* Returns the time to date a rise to 'heartbeat' learned by gossip at 'now':
 * 'now', unless the clocks are known to be comparable and the heartbeat (the
 * checker's wall clock at the check, see health.h) says that the check is
 * older than the rise slack: then the check's time plus the slack, but never
 * more than the slack before 'now' (a clock far off only shortens the
 * timers by the slack). */
static long long int
gossip_rise_time(const struct health *h, uint64_t heartbeat,
                 long long int now)
{
    long long int checked;

    if (!h->clock_set || heartbeat > (uint64_t) LLONG_MAX / 2) {
        return now;
    }
    checked = (long long int) heartbeat - h->wall_offset;
    return MAX(now - h->rise_slack, MIN(now, checked + h->rise_slack));
}

/* Recomputes the healthy LB set from the nodes' states; if it changed, bumps
 * its seqno and the LB_LIST version and rebuilds its ring.  Rebuilds the ring
 * anyway if 'rebuild_ring' (its key or vnodes changed). */
static void
rebuild_healthy(struct health *h, long long int now, bool rebuild_ring)
{
    uint32_t *ids = xmalloc(MAX(h->n_lbs, 1) * sizeof *ids);
    bool same_set;
    long long int wall;
    uint64_t version;
    size_t n = 0;

    for (size_t i = 0; i < h->n_lbs; i++) {
        if (h->lbs[i]->state != HEALTH_UNHEALTHY) {
            ids[n++] = h->lbs[i]->id;
        }
    }
    same_set = (h->healthy && n == h->n_healthy
                && (!n || !memcmp(ids, h->healthy, n * sizeof *ids)));
    if (same_set && !rebuild_ring) {
        free(ids);
        return;
    }

    free(h->healthy);
    h->healthy = ids;
    h->n_healthy = n;
    ring_destroy(h->healthy_ring);
    h->healthy_ring = ring_create(ids, n, h->ring_key, h->vnodes);
    ovs_assert(h->healthy_ring);   /* Ids are nonzero, vnodes bounded. */
    h->lb_list_due = true;
    if (same_set) {
        return;
    }

    h->lb_set_seqno++;
    COVERAGE_INC(health_lb_set_change);
    wall = MAX(now + h->wall_offset, 0);
    version = ((uint64_t) wall << 16) | (ring_digest(h->healthy_ring)
                                         & 0xffff);
    h->lb_version = MAX(version, h->lb_version + 1);
}

/* Configuration. */

static uint32_t
or_default(uint32_t value, uint32_t dflt)
{
    return value ? value : dflt;
}

static int
compare_nodes(const void *a_, const void *b_)
{
    const struct health_node *const *a = a_;
    const struct health_node *const *b = b_;

    return (*a)->id < (*b)->id ? -1 : (*a)->id > (*b)->id;
}

/* Takes the node 'id' of kind 'kind' for the new configuration: from 'old'
 * if it was configured with the same kind (keeping its table entry), else
 * new.  Returns NULL if 'id' is 0 or already in 'new'. */
static struct health_node *
adopt_node(struct health *h, struct hmap *old, struct hmap *new,
           uint32_t id, enum ctl_node_kind kind, long long int now)
{
    uint32_t hash = hash_int(id, 0);
    struct health_node *node;
    long long int window;

    if (id == CTL_NODE_NONE) {
        return NULL;
    }
    HMAP_FOR_EACH_WITH_HASH (node, hmap_node, hash, new) {
        if (node->id == id) {
            return NULL;
        }
    }
    HMAP_FOR_EACH_WITH_HASH (node, hmap_node, hash, old) {
        if (node->id == id) {
            hmap_remove(old, &node->hmap_node);
            if (node->kind == kind) {
                hmap_insert(new, &node->hmap_node, hash);
                return node;
            }
            free(node);
            break;
        }
    }

    node = xzalloc(sizeof *node);
    node->id = id;
    node->kind = kind;
    window = (long long int) h->suspect[kind] + h->unhealthy[kind];
    if (now - h->created < window) {
        node->last_rise = now;
        node->state = HEALTH_HEALTHY;
    } else {
        node->last_rise = LLONG_MIN;
        node->state = HEALTH_UNHEALTHY;
    }
    hmap_insert(new, &node->hmap_node, hash);
    return node;
}

static void
apply_config(struct health *h, const struct health_config *cfg,
             long long int now)
{
    struct hmap old = HMAP_INITIALIZER(&old);
    struct health_node *node;
    struct health_check *check;
    uint32_t *ids;

    h->ring_key = cfg->ring_key;
    h->vnodes = MIN(cfg->vnodes ? cfg->vnodes : RING_DEFAULT_VNODES,
                    RING_MAX_VNODES);
    h->ping_interval = or_default(cfg->ping_interval_ms,
                                  HEALTH_DEFAULT_PING_INTERVAL_MS);
    h->ping_timeout = (cfg->ping_timeout_ms
                       ? MIN(cfg->ping_timeout_ms, h->ping_interval)
                       : h->ping_interval);
    h->gossip_interval = or_default(cfg->gossip_interval_ms,
                                    HEALTH_DEFAULT_GOSSIP_INTERVAL_MS);
    h->suspect[CTL_NODE_LB] = or_default(cfg->suspect_ms,
                                         HEALTH_DEFAULT_SUSPECT_MS);
    h->unhealthy[CTL_NODE_LB] = or_default(cfg->unhealthy_ms,
                                           HEALTH_DEFAULT_UNHEALTHY_MS);
    h->server_interval = or_default(cfg->server_interval_ms,
                                    HEALTH_DEFAULT_SERVER_INTERVAL_MS);
    h->rise_slack = or_default(cfg->rise_slack_ms, 3 * h->gossip_interval);
    h->suspect[CTL_NODE_SERVER] = or_default(cfg->server_suspect_ms,
                                             2 * h->server_interval);
    h->unhealthy[CTL_NODE_SERVER] = or_default(cfg->server_unhealthy_ms,
                                               h->server_interval);

    hmap_swap(&old, &h->nodes);
    free(h->lbs);
    free(h->servers);
    h->lbs = xmalloc(MAX(MIN(cfg->n_lbs, HEALTH_MAX_LBS), 1)
                     * sizeof *h->lbs);
    h->servers = xmalloc(MAX(MIN(cfg->n_servers, HEALTH_MAX_SERVERS), 1)
                         * sizeof *h->servers);
    h->n_lbs = h->n_servers = 0;

    for (size_t i = 0; i < cfg->n_lbs; i++) {
        const struct health_lb *lb = &cfg->lbs[i];

        node = (h->n_lbs < HEALTH_MAX_LBS
                ? adopt_node(h, &old, &h->nodes, lb->node, CTL_NODE_LB, now)
                : NULL);
        if (!node) {
            reject(h, HEALTH_REJ_CONFIG);
            continue;
        }
        node->north = lb->north;
        node->south = lb->south;
        node->control = lb->control;
        h->lbs[h->n_lbs++] = node;
    }
    for (size_t i = 0; i < cfg->n_servers; i++) {
        const struct health_server *srv = &cfg->servers[i];

        node = (h->n_servers < HEALTH_MAX_SERVERS
                ? adopt_node(h, &old, &h->nodes, srv->node, CTL_NODE_SERVER,
                             now)
                : NULL);
        if (!node) {
            reject(h, HEALTH_REJ_CONFIG);
            continue;
        }
        memset(&node->north, 0, sizeof node->north);
        memset(&node->south, 0, sizeof node->south);
        node->control = srv->control;
        h->servers[h->n_servers++] = node;
    }
    HMAP_FOR_EACH_POP (node, hmap_node, &old) {
        free(node);
    }
    hmap_destroy(&old);
    qsort(h->lbs, h->n_lbs, sizeof *h->lbs, compare_nodes);
    qsort(h->servers, h->n_servers, sizeof *h->servers, compare_nodes);

    /* Checks of nodes gone or changed kind can no longer succeed. */
    HMAP_FOR_EACH_SAFE (check, hmap_node, &h->checks) {
        node = find_node(h, check->target);
        if (!node || (node->kind == CTL_NODE_SERVER) != check->server) {
            remove_check(h, check);
        }
    }

    ids = xmalloc(MAX(h->n_lbs, 1) * sizeof *ids);
    for (size_t i = 0; i < h->n_lbs; i++) {
        ids[i] = h->lbs[i]->id;
    }
    ring_destroy(h->all_ring);
    h->all_ring = ring_create(ids, h->n_lbs, h->ring_key, 1);
    ovs_assert(h->all_ring);
    free(ids);

    /* The ring's key or vnodes may have changed even if the set did not:
     * rebuild it, and let the (maybe new) server checkers send LB_LIST. */
    rebuild_healthy(h, now, true);
    h->n_gossip_order = h->gossip_pos = 0;
    update_states(h, now);
}

/* Creates and returns the health state machine of LB node 'self' (not
 * CTL_NODE_NONE) with configuration 'cfg', at time 'now'.  Its random
 * choices (check and gossip targets, nonces, timer phases) derive from
 * 'seed' only: give each node its own.  Nodes configured now, or within the
 * start-up window, start healthy (see health.h). */
struct health *
health_create(uint32_t self, const struct health_config *cfg, uint64_t seed,
              long long int now)
{
    struct health *h = xzalloc(sizeof *h);

    ovs_assert(self != CTL_NODE_NONE);
    h->self = self;
    h->prng = seed;
    h->created = now;
    h->last_run = now;
    h->serving = true;
    hmap_init(&h->nodes);
    hmap_init(&h->checks);
    apply_config(h, cfg, now);

    /* Random phases, so that nodes started together do not send together. */
    h->next_ping = now + health_random_below(h, h->ping_interval);
    h->next_gossip = now + health_random_below(h, h->gossip_interval);
    h->next_server = now + health_random_below(h, h->server_interval);
    return h;
}

/* Frees 'h'.  health_destroy(NULL) does nothing. */
void
health_destroy(struct health *h)
{
    struct health_node *node;
    struct health_check *check;

    if (!h) {
        return;
    }
    HMAP_FOR_EACH_POP (node, hmap_node, &h->nodes) {
        free(node);
    }
    hmap_destroy(&h->nodes);
    HMAP_FOR_EACH_POP (check, hmap_node, &h->checks) {
        free(check);
    }
    hmap_destroy(&h->checks);
    free(h->lbs);
    free(h->servers);
    free(h->healthy);
    free(h->gossip_order);
    ring_destroy(h->all_ring);
    ring_destroy(h->healthy_ring);
    free(h);
}

/* Replaces 'h''s configuration by 'cfg' at time 'now'.  Nodes that stay
 * (same id and kind) keep their counters and states; new nodes start as
 * health.h says; checks of removed nodes are forgotten. */
void
health_set_config(struct health *h, const struct health_config *cfg,
                  long long int now)
{
    apply_config(h, cfg, now);
}

/* Tells 'h' whether its node can serve ('serving'): while it cannot, it
 * answers no PING. */
void
health_set_serving(struct health *h, bool serving)
{
    h->serving = serving;
}

/* Returns whether 'h' answers PINGs. */
bool
health_is_serving(const struct health *h)
{
    return h->serving;
}

/* Tells 'h' the wall clock's lead over the 'now' it is given,
 * 'wall_minus_now' (ms), for heartbeats and LB_LIST versions; from then on
 * 'h' takes the LB nodes' clocks as synchronized (see health.h).  Call it at
 * start and whenever the wall clock steps. */
void
health_set_clock_offset(struct health *h, long long int wall_minus_now)
{
    /* Clamped so that no sum of times can overflow. */
    h->wall_offset = MAX(MIN(wall_minus_now, LLONG_MAX / 4),
                         -(LLONG_MAX / 4));
    h->clock_set = true;
}

/* Sending. */

static void
send_msg(struct health *h, uint32_t dst, enum health_via via,
         const struct in6_addr *addr, struct ctl_msg *msg,
         const struct health_io *io, void *aux)
{
    ovs_assert(dst != h->self);
    io->send(aux, dst, via, addr, msg);
}

/* Starts a check of 'target': PINGs on the paths of 'paths' (bits of enum
 * ctl_ping_path), answers due by 'deadline'. */
static void
start_check(struct health *h, const struct health_node *target,
            unsigned int paths, long long int deadline,
            const struct health_io *io, void *aux)
{
    struct health_check *check = xzalloc(sizeof *check);
    struct ctl_msg msg;

    do {
        check->nonce = health_random(h);
    } while (!check->nonce || find_check(h, check->nonce));
    check->target = target->id;
    check->server = target->kind == CTL_NODE_SERVER;
    check->awaited = paths;
    check->deadline = deadline;
    /* A late answer is still an answer: it shows the node alive and its
     * paths working, only slowly (its switch busy with a flood, say).
     * Taken until its absence alone would have made the node unhealthy,
     * so that a dead node, which answers nothing, is found as soon as
     * before, while a live one whose answers are late keeps rising. */
    check->late_until = deadline + h->suspect[target->kind]
                        + h->unhealthy[target->kind];
    hmap_insert(&h->checks, &check->hmap_node, hash_uint64(check->nonce));
    h->stats.checks_started++;

    for (int path = 0; path < CTL_PATH_N_PATHS; path++) {
        if (!(paths & (1u << path))) {
            continue;
        }
        ctl_msg_init(&msg, CTL_MSG_PING, h->self, 0);
        msg.ping.nonce = check->nonce;
        msg.ping.path = path;
        msg.ping.checker = h->self;
        msg.ping.target = target->id;
        h->stats.pings_sent++;
        send_msg(h, target->id,
                 (path == CTL_PATH_NORTH ? HEALTH_VIA_NORTH
                  : path == CTL_PATH_SOUTH ? HEALTH_VIA_SOUTH
                  : HEALTH_VIA_CONTROL),
                 (path == CTL_PATH_NORTH ? &target->north
                  : path == CTL_PATH_SOUTH ? &target->south
                  : &target->control),
                 &msg, io, aux);
    }
}

/* Fails the checks whose deadline passed (their late answers are still
 * taken until 'late_until'), and forgets those past 'late_until'. */
static void
expire_checks(struct health *h, long long int now)
{
    struct health_check *check;

    HMAP_FOR_EACH_SAFE (check, hmap_node, &h->checks) {
        if (check->deadline <= now && !check->failed) {
            for (int path = 0; path < CTL_PATH_N_PATHS; path++) {
                h->stats.paths_unanswered[path]
                    += (check->awaited >> path) & 1;
            }
            h->stats.checks_failed++;
            COVERAGE_INC(health_check_failed);
            check->failed = true;
        }
        if (check->late_until <= now) {
            remove_check(h, check);
        }
    }
}

/* The checks still within their deadline. */
static size_t
checks_in_flight(const struct health *h)
{
    const struct health_check *check;
    size_t n = 0;

    HMAP_FOR_EACH (check, hmap_node, &h->checks) {
        n += !check->failed;
    }
    return n;
}

/* Checks the two neighbours of this node among all LB nodes, one other
 * random LB node, and the nodes it holds suspect (see health.h). */
static void
check_lbs(struct health *h, long long int now, const struct health_io *io,
          void *aux)
{
    const unsigned int paths = (1u << CTL_PATH_NORTH) | (1u << CTL_PATH_SOUTH);
    long long int deadline = now + h->ping_timeout;
    uint32_t prev, next, random_id = CTL_NODE_NONE;
    size_t n_neighbours, n_others;

    n_neighbours = ring_neighbours(h->all_ring, h->self, &prev, &next);
    if (n_neighbours >= 1) {
        start_check(h, find_node(h, prev), paths, deadline, io, aux);
    }
    if (n_neighbours == 2) {
        start_check(h, find_node(h, next), paths, deadline, io, aux);
    }

    n_others = 0;
    for (size_t i = 0; i < h->n_lbs; i++) {
        uint32_t id = h->lbs[i]->id;

        n_others += id != h->self && id != prev && id != next;
    }
    if (n_others) {
        size_t k = health_random_below(h, n_others);

        for (size_t i = 0; i < h->n_lbs; i++) {
            uint32_t id = h->lbs[i]->id;

            if (id != h->self && id != prev && id != next && !k--) {
                start_check(h, h->lbs[i], paths, deadline, io, aux);
                random_id = id;
                break;
            }
        }
    }

    check_suspects(h, false, prev, next, random_id, now, io, aux);
}

/* Checks the nodes this node holds suspect, except 'skip1', 'skip2' and
 * 'skip3' (checked already); if 'only_new', only those that became suspect
 * since the last time.  At most HEALTH_MAX_SUSPECT_CHECKS, LB nodes first,
 * each list from a random place so that all get their turn. */
static void
check_suspects(struct health *h, bool only_new, uint32_t skip1,
               uint32_t skip2, uint32_t skip3, long long int now,
               const struct health_io *io, void *aux)
{
    const unsigned int paths = (1u << CTL_PATH_NORTH) | (1u << CTL_PATH_SOUTH);
    size_t n_checks = 0;

    for (int kind = 0; kind < CTL_NODE_N_KINDS; kind++) {
        struct health_node **nodes = kind == CTL_NODE_LB ? h->lbs : h->servers;
        size_t n = kind == CTL_NODE_LB ? h->n_lbs : h->n_servers;
        size_t start = n ? health_random_below(h, n) : 0;

        for (size_t i = 0; i < n; i++) {
            struct health_node *node = nodes[(start + i) % n];
            bool probe = node->probe;

            node->probe = false;
            if (node->state != HEALTH_SUSPECT || node->id == h->self
                || node->id == skip1 || node->id == skip2
                || node->id == skip3 || (only_new && !probe)
                || n_checks >= HEALTH_MAX_SUSPECT_CHECKS) {
                continue;
            }
            h->stats.suspect_checks++;
            n_checks++;
            start_check(h, node,
                        kind == CTL_NODE_LB ? paths : 1u << CTL_PATH_AGENT,
                        now + h->ping_timeout, io, aux);
        }
    }
    h->n_probes = 0;
}

/* Returns the next gossip target: the healthy LB nodes other than this one
 * in a random order, redrawn once all were used or when the set changed;
 * when none is healthy, any other LB node.  Returns 0 if there is none. */
static uint32_t
next_gossip_target(struct health *h)
{
    if (h->gossip_pos >= h->n_gossip_order
        || h->gossip_order_seqno != h->lb_set_seqno) {
        size_t n = 0;

        free(h->gossip_order);
        h->gossip_order = xmalloc(MAX(h->n_lbs, 1)
                                  * sizeof *h->gossip_order);
        for (size_t i = 0; i < h->n_healthy; i++) {
            if (h->healthy[i] != h->self) {
                h->gossip_order[n++] = h->healthy[i];
            }
        }
        if (!n) {
            for (size_t i = 0; i < h->n_lbs; i++) {
                if (h->lbs[i]->id != h->self) {
                    h->gossip_order[n++] = h->lbs[i]->id;
                }
            }
        }
        for (size_t i = n; i > 1; i--) {
            size_t j = health_random_below(h, i);
            uint32_t tmp = h->gossip_order[i - 1];

            h->gossip_order[i - 1] = h->gossip_order[j];
            h->gossip_order[j] = tmp;
        }
        h->n_gossip_order = n;
        h->gossip_pos = 0;
        h->gossip_order_seqno = h->lb_set_seqno;
        if (!n) {
            return CTL_NODE_NONE;
        }
    }
    return h->gossip_order[h->gossip_pos++];
}

/* Appends the gossip entry of 'node' to 'msg' if it was ever raised and is
 * healthy, or is this node (whose entry only asks for fresher news in the
 * answer: it holds no counter of its own that others lack), sending 'msg'
 * to 'dst' first when it is full. */
static void
gossip_node(struct health *h, const struct health_node *node,
            struct ctl_msg *msg, uint32_t dst, const struct health_io *io,
            void *aux)
{
    struct ctl_gossip_entry *e;

    if (!node->heartbeat
        || (node->state != HEALTH_HEALTHY && node->id != h->self)) {
        return;
    }
    if (msg->gossip.n >= CTL_GOSSIP_MAX_ENTRIES) {
        h->stats.gossip_sent++;
        send_msg(h, dst, HEALTH_VIA_CONTROL, &find_node(h, dst)->control,
                 msg, io, aux);
        msg->gossip.n = 0;
    }
    e = &msg->gossip.entries[msg->gossip.n++];
    e->node = node->id;
    e->kind = node->kind;
    e->heartbeat = node->heartbeat;
}

/* Sends the heartbeat table to the next gossip target, in as many GOSSIP
 * messages as it takes. */
static void
gossip(struct health *h, const struct health_io *io, void *aux)
{
    uint32_t dst = next_gossip_target(h);
    struct ctl_msg msg;

    if (dst == CTL_NODE_NONE) {
        return;
    }
    ctl_msg_init(&msg, CTL_MSG_GOSSIP, h->self, 0);
    msg.gossip.n = 0;
    for (size_t i = 0; i < h->n_lbs; i++) {
        gossip_node(h, h->lbs[i], &msg, dst, io, aux);
    }
    for (size_t i = 0; i < h->n_servers; i++) {
        gossip_node(h, h->servers[i], &msg, dst, io, aux);
    }
    if (msg.gossip.n) {
        h->stats.gossip_sent++;
        send_msg(h, dst, HEALTH_VIA_CONTROL, &find_node(h, dst)->control,
                 &msg, io, aux);
    }
}

static bool
is_server_checker(const struct health *h, const struct health_node *srv)
{
    uint32_t first, second;
    size_t n;

    n = ring_server_checkers(h->healthy_ring, srv->id, &first, &second);
    return (n >= 1 && first == h->self) || (n >= 2 && second == h->self);
}

static void
send_lb_list(struct health *h, const struct health_node *srv,
             const struct health_io *io, void *aux)
{
    struct ctl_msg msg;

    ctl_msg_init(&msg, CTL_MSG_LB_LIST, h->self, 0);
    msg.lb_list.version = h->lb_version;
    msg.lb_list.n = h->n_healthy;
    memcpy(msg.lb_list.nodes, h->healthy,
           h->n_healthy * sizeof *h->healthy);
    h->stats.lb_lists_sent++;
    send_msg(h, srv->id, HEALTH_VIA_CONTROL, &srv->control, &msg, io, aux);
}

/* For every server this node checks: if 'ping', a check of its agent; an
 * LB_LIST in any case. */
static void
serve_servers(struct health *h, bool ping, long long int now,
              const struct health_io *io, void *aux)
{
    for (size_t i = 0; i < h->n_servers; i++) {
        const struct health_node *srv = h->servers[i];

        if (srv->id == h->self || !is_server_checker(h, srv)) {
            continue;
        }
        if (ping) {
            start_check(h, srv, 1u << CTL_PATH_AGENT,
                        now + h->server_interval, io, aux);
        }
        send_lb_list(h, srv, io, aux);
    }
    h->lb_list_due = false;
}

static long long int
next_tick(long long int tick, uint32_t interval, long long int now)
{
    tick += interval;
    return tick > now ? tick : now + interval;
}

/* Does what is due at 'now': fails checks past their deadline, updates
 * node states, starts the checks and sends the gossip and LB_LISTs that are
 * due, through 'io' and 'aux'. */
void
health_run(struct health *h, long long int now, const struct health_io *io,
           void *aux)
{
    credit_stall(h, now);
    expire_checks(h, now);
    update_states(h, now);

    if (now >= h->next_ping) {
        check_lbs(h, now, io, aux);
        h->next_ping = next_tick(h->next_ping, h->ping_interval, now);
    } else if (h->n_probes) {
        check_suspects(h, true, CTL_NODE_NONE, CTL_NODE_NONE, CTL_NODE_NONE,
                       now, io, aux);
    }
    if (now >= h->next_gossip) {
        gossip(h, io, aux);
        h->next_gossip = next_tick(h->next_gossip, h->gossip_interval, now);
    }
    if (now >= h->next_server) {
        serve_servers(h, true, now, io, aux);
        h->next_server = next_tick(h->next_server, h->server_interval, now);
    } else if (h->lb_list_due) {
        serve_servers(h, false, now, io, aux);
    }
}

/* Returns the time by which health_run() must be called next: a time at or
 * before the current time means at once. */
long long int
health_next_deadline(const struct health *h)
{
    long long int deadline;
    const struct health_node *node;
    const struct health_check *check;

    if (h->lb_list_due) {
        return LLONG_MIN;
    }
    deadline = MIN(h->next_ping, MIN(h->next_gossip, h->next_server));
    HMAP_FOR_EACH (check, hmap_node, &h->checks) {
        deadline = MIN(deadline, (check->failed ? check->late_until
                                  : check->deadline));
    }
    HMAP_FOR_EACH (node, hmap_node, &h->nodes) {
        deadline = MIN(deadline, state_deadline(h, node));
    }
    return deadline;
}

/* Receiving. */

static void
recv_ping(struct health *h, const struct ctl_msg *msg,
          const struct health_io *io, void *aux)
{
    const struct ctl_ping *ping = &msg->ping;
    struct ctl_msg pong;

    if (ping->target != h->self) {
        reject(h, HEALTH_REJ_PING_TARGET);
        return;
    }
    if (ping->checker != msg->sender) {
        reject(h, HEALTH_REJ_PING_CHECKER);
        return;
    }
    if (ping->path != CTL_PATH_NORTH && ping->path != CTL_PATH_SOUTH) {
        reject(h, HEALTH_REJ_PING_PATH);
        return;
    }
    if (!h->serving) {
        h->stats.pings_not_serving++;
        return;
    }
    ctl_msg_init(&pong, CTL_MSG_PONG, h->self, 0);
    pong.pong.nonce = ping->nonce;
    pong.pong.path = ping->path;
    pong.pong.ready = true;
    h->stats.pings_answered++;
    send_msg(h, msg->sender, HEALTH_VIA_REPLY, NULL, &pong, io, aux);
}

/* Returns the value to which a successful check at 'now' raises 'node''s
 * counter: the wall clock in ms, or one more than the counter if that is
 * not larger (see health.h, "Heartbeats"). */
static uint64_t
next_heartbeat(const struct health *h, const struct health_node *node,
               long long int now)
{
    long long int wall = now + h->wall_offset;
    uint64_t next = (node->heartbeat < UINT64_MAX
                     ? node->heartbeat + 1 : UINT64_MAX);

    return wall > 0 && (uint64_t) wall > next ? (uint64_t) wall : next;
}

static void
recv_pong(struct health *h, const struct ctl_msg *msg, long long int now)
{
    const struct ctl_pong *pong = &msg->pong;
    struct health_check *check = find_check(h, pong->nonce);
    struct health_node *target;

    if (!check || check->late_until < now) {
        reject(h, HEALTH_REJ_PONG_UNKNOWN);
        return;
    }
    if (msg->sender != check->target) {
        reject(h, HEALTH_REJ_PONG_SENDER);
        return;
    }
    if (pong->path >= CTL_PATH_N_PATHS
        || !(check->awaited & (1u << pong->path))) {
        reject(h, HEALTH_REJ_PONG_PATH);
        return;
    }
    h->stats.pongs_received++;
    if (!pong->ready) {
        if (!check->failed) {
            h->stats.checks_failed++;
            COVERAGE_INC(health_check_failed);
        }
        h->stats.checks_not_ready++;
        remove_check(h, check);
        return;
    }
    check->awaited &= ~(1u << pong->path);
    if (check->awaited) {
        return;
    }

    bool late = check->failed || check->deadline < now;
    remove_check(h, check);
    target = find_node(h, msg->sender);
    if (target) {
        if (late) {
            h->stats.checks_late++;
        } else {
            h->stats.checks_ok++;
        }
        raise_heartbeat(h, target, next_heartbeat(h, target, now), now, now);
    }
}

/* Merges GOSSIP 'msg' into the table.  Then answers the sender with the
 * entries of 'msg' for which this node holds a larger counter (and vouches:
 * healthy), so that one exchange carries news both ways.  Such an answer
 * contains only strictly larger counters, which the sender then holds too,
 * so its own answer to it is empty, and not sent: no ping-pong. */
static void
recv_gossip(struct health *h, const struct ctl_msg *msg, long long int now,
            const struct health_io *io, void *aux)
{
    const struct health_node *sender = find_node(h, msg->sender);
    struct ctl_msg reply;

    if (!sender || sender->kind != CTL_NODE_LB || sender->id == h->self) {
        reject(h, HEALTH_REJ_GOSSIP_SENDER);
        return;
    }
    h->stats.gossip_received++;
    ctl_msg_init(&reply, CTL_MSG_GOSSIP, h->self, 0);
    reply.gossip.n = 0;
    for (size_t i = 0; i < msg->gossip.n && i < CTL_GOSSIP_MAX_ENTRIES; i++) {
        const struct ctl_gossip_entry *e = &msg->gossip.entries[i];
        struct health_node *node = find_node(h, e->node);

        if (!node) {
            reject(h, HEALTH_REJ_GOSSIP_NODE);
        } else if (node->kind != e->kind) {
            reject(h, HEALTH_REJ_GOSSIP_KIND);
        } else if (raise_heartbeat(h, node, e->heartbeat,
                                   (node->id == h->self ? now
                                    : gossip_rise_time(h, e->heartbeat,
                                                       now)),
                                   now)) {
            h->stats.gossip_rises++;
        } else if (node->heartbeat > e->heartbeat
                   && node->state == HEALTH_HEALTHY) {
            struct ctl_gossip_entry *r;

            r = &reply.gossip.entries[reply.gossip.n++];
            r->node = node->id;
            r->kind = node->kind;
            r->heartbeat = node->heartbeat;
        }
    }
    if (reply.gossip.n) {
        h->stats.gossip_answers++;
        send_msg(h, sender->id, HEALTH_VIA_CONTROL, &sender->control, &reply,
                 io, aux);
    }
}

/* Handles 'msg', a decoded and authenticated PING, PONG or GOSSIP for this
 * node, received at 'now'; answers (PONG) go out through 'io' and 'aux'.
 * Anything else, or anything that does not fit this node's checks and
 * configuration, is ignored and counted. */
void
health_recv(struct health *h, const struct ctl_msg *msg, long long int now,
            const struct health_io *io, void *aux)
{
    if (msg->sender == h->self) {
        /* Nothing this node sends comes back to it; answering would make
         * it send to itself. */
        reject(h, HEALTH_REJ_FROM_SELF);
        return;
    }
    switch (msg->type) {
    case CTL_MSG_PING:
        recv_ping(h, msg, io, aux);
        break;
    case CTL_MSG_PONG:
        recv_pong(h, msg, now);
        break;
    case CTL_MSG_GOSSIP:
        recv_gossip(h, msg, now, io, aux);
        break;
    case CTL_MSG_SYN_INFO:
    case CTL_MSG_SYN_SYNC:
    case CTL_MSG_ACK_INFO:
    case CTL_MSG_CONNECT:
    case CTL_MSG_CONN_REQ:
    case CTL_MSG_ACCEPTED:
    case CTL_MSG_REJECTED:
    case CTL_MSG_RELEASE:
    case CTL_MSG_MAPPING:
    case CTL_MSG_MAPPING_QUERY:
    case CTL_MSG_UNKNOWN:
    case CTL_MSG_TRACKER_SYNC:
    case CTL_MSG_PUBLISH:
    case CTL_MSG_PUBLISH_FWD:
    case CTL_MSG_LB_LIST:
    case CTL_MSG_OWNER:
    case CTL_MSG_N_TYPES:
    default:
        reject(h, HEALTH_REJ_TYPE);
        break;
    }
}

/* Accessors. */

/* Returns the node id 'h' was created for. */
uint32_t
health_self(const struct health *h)
{
    return h->self;
}

/* Fills in '*info' with the entry of 'node' and returns true, or returns
 * false if 'node' is not configured. */
bool
health_get_node(const struct health *h, uint32_t node,
                struct health_node_info *info)
{
    const struct health_node *n = find_node(h, node);

    if (!n) {
        return false;
    }
    info->node = n->id;
    info->kind = n->kind;
    info->state = n->state;
    info->heartbeat = n->heartbeat;
    info->last_rise = n->last_rise;
    return true;
}

/* Returns true if 'node' is configured and not unhealthy (healthy or
 * suspect), as of the last health_run() or health_recv(). */
bool
health_is_healthy(const struct health *h, uint32_t node)
{
    const struct health_node *n = find_node(h, node);

    return n && n->state != HEALTH_UNHEALTHY;
}

/* Returns the healthy LB set (healthy or suspect nodes), ascending, and
 * stores its size in '*n'.  The array is valid until the next call of a
 * function that takes a non-const 'h'. */
const uint32_t *
health_healthy_lbs(const struct health *h, size_t *n)
{
    *n = h->n_healthy;
    return h->healthy;
}

/* Returns a number that changes whenever the healthy LB set changes: the
 * caller then rebuilds its ring and moves tracker state. */
uint64_t
health_lb_set_seqno(const struct health *h)
{
    return h->lb_set_seqno;
}

/* Returns a number that changes whenever any node's state changes. */
uint64_t
health_seqno(const struct health *h)
{
    return h->seqno;
}

/* Returns the version of the LB_LIST this node sends (see health.h). */
uint64_t
health_lb_list_version(const struct health *h)
{
    return h->lb_version;
}

/* Returns 'h''s counters. */
const struct health_stats *
health_get_stats(const struct health *h)
{
    return &h->stats;
}

const char *
health_state_to_string(enum health_state state)
{
    switch (state) {
    case HEALTH_HEALTHY: return "healthy";
    case HEALTH_SUSPECT: return "suspect";
    case HEALTH_UNHEALTHY: return "unhealthy";
    case HEALTH_N_STATES:
    default: return "<invalid>";
    }
}

const char *
health_reject_to_string(enum health_reject why)
{
    switch (why) {
    case HEALTH_REJ_PING_TARGET: return "ping-other-target";
    case HEALTH_REJ_PING_CHECKER: return "ping-checker-not-sender";
    case HEALTH_REJ_PING_PATH: return "ping-bad-path";
    case HEALTH_REJ_PONG_UNKNOWN: return "pong-unknown-nonce";
    case HEALTH_REJ_PONG_SENDER: return "pong-wrong-sender";
    case HEALTH_REJ_PONG_PATH: return "pong-unexpected-path";
    case HEALTH_REJ_GOSSIP_SENDER: return "gossip-unknown-sender";
    case HEALTH_REJ_GOSSIP_NODE: return "gossip-unknown-node";
    case HEALTH_REJ_GOSSIP_KIND: return "gossip-wrong-kind";
    case HEALTH_REJ_TYPE: return "unhandled-type";
    case HEALTH_REJ_FROM_SELF: return "from-self";
    case HEALTH_REJ_IMPORT: return "import-unknown-node";
    case HEALTH_REJ_CONFIG: return "config-entry";
    case HEALTH_N_REJECTS:
    default: return "<invalid>";
    }
}

static void
format_node(const struct health_node *node, long long int now,
            struct ds *s)
{
    ds_put_format(s, "  %-6s %10"PRIu32"  %-9s heartbeat %"PRIu64,
                  node->kind == CTL_NODE_LB ? "lb" : "server", node->id,
                  health_state_to_string(node->state), node->heartbeat);
    if (node->last_rise == LLONG_MIN) {
        ds_put_cstr(s, ", never rose\n");
    } else {
        ds_put_format(s, ", rose %lld ms ago\n", now - node->last_rise);
    }
}

/* Appends to 's' a description of 'h' at 'now' for `ovs-appctl
 * ovslb/health`: the healthy LB set, every node's state and counter age,
 * and the counters. */
void
health_format(const struct health *h, long long int now, struct ds *s)
{
    const struct health_stats *st = &h->stats;

    ds_put_format(s, "node %"PRIu32"%s\n", h->self,
                  h->serving ? "" : " (not serving: pings unanswered)");
    ds_put_format(s, "healthy LB nodes (%"PRIuSIZE" of %"PRIuSIZE
                  ", change %"PRIu64"):", h->n_healthy, h->n_lbs,
                  h->lb_set_seqno);
    for (size_t i = 0; i < h->n_healthy; i++) {
        ds_put_format(s, " %"PRIu32, h->healthy[i]);
    }
    ds_put_format(s, "\nLB_LIST version %"PRIu64"\n", h->lb_version);
    for (size_t i = 0; i < h->n_lbs; i++) {
        format_node(h->lbs[i], now, s);
    }
    for (size_t i = 0; i < h->n_servers; i++) {
        format_node(h->servers[i], now, s);
    }
    ds_put_format(s, "checks: %"PRIu64" started (%"PRIu64" of suspects), %"
                  PRIu64" ok, %"PRIu64" failed (%"PRIu64" not ready, %"
                  PRIu64" answered late), %"PRIuSIZE" in flight\n",
                  st->checks_started, st->suspect_checks, st->checks_ok,
                  st->checks_failed, st->checks_not_ready, st->checks_late,
                  checks_in_flight(h));
    ds_put_format(s, "stalls of this node's loop: %"PRIu64" (%"PRIu64" ms in "
                  "all)\n", st->stalls, st->stall_ms);
    ds_put_format(s, "pings: %"PRIu64" sent, %"PRIu64" pongs received, %"
                  PRIu64" answered, %"PRIu64" unanswered (not serving)\n",
                  st->pings_sent, st->pongs_received, st->pings_answered,
                  st->pings_not_serving);
    ds_put_cstr(s, "PINGs of failed checks left unanswered, per path:");
    for (int path = 0; path < CTL_PATH_N_PATHS; path++) {
        ds_put_format(s, " %s %"PRIu64, ctl_ping_path_to_string(path),
                      st->paths_unanswered[path]);
    }
    ds_put_char(s, '\n');
    ds_put_format(s, "gossip: %"PRIu64" sent, %"PRIu64" received, %"PRIu64
                  " rises, %"PRIu64" answers\n", st->gossip_sent,
                  st->gossip_received, st->gossip_rises, st->gossip_answers);
    ds_put_format(s, "LB_LIST: %"PRIu64" sent; state changes: %"PRIu64"\n",
                  st->lb_lists_sent, st->state_changes);
    ds_put_cstr(s, "rejected:");
    for (int i = 0; i < HEALTH_N_REJECTS; i++) {
        ds_put_format(s, " %s %"PRIu64, health_reject_to_string(i),
                      st->rejected[i]);
    }
    ds_put_char(s, '\n');
}

/* Journal. */

#define HEALTH_COUNTER(MEMBER, NAME, HELP) \
    METRICS_COUNTER_FIELD(struct health_stats, MEMBER, NAME, HELP)
static const struct metrics_counter health_counters[] = {
    HEALTH_COUNTER(checks_started, "checks_started",
                   "LB and server checks started."),
    HEALTH_COUNTER(suspect_checks, "suspect_checks",
                   "Checks started of suspect nodes."),
    HEALTH_COUNTER(checks_ok, "checks_ok", "Checks that raised a counter."),
    HEALTH_COUNTER(checks_failed, "checks_failed",
                   "Checks that timed out or found the agent not ready."),
    HEALTH_COUNTER(checks_not_ready, "checks_not_ready",
                   "Checks failed by an agent not ready."),
    HEALTH_COUNTER(stalls, "stalls",
                   "Times this node's loop ran a ping interval or more "
                   "late (the others' silence then not counted)."),
    HEALTH_COUNTER(checks_late, "checks_late",
                   "Failed checks whose answers came late but in time to "
                   "raise the counter."),
    HEALTH_COUNTER(pings_sent, "pings_sent", "PINGs sent, one per path."),
    HEALTH_COUNTER(pongs_received, "pongs_received",
                   "PONGs received for an awaited path."),
    HEALTH_COUNTER(pings_answered, "pings_answered", "PONGs sent."),
    HEALTH_COUNTER(pings_not_serving, "pings_not_serving",
                   "PINGs not answered: this node cannot serve."),
    HEALTH_COUNTER(gossip_sent, "gossip_sent", "GOSSIP messages sent."),
    HEALTH_COUNTER(gossip_received, "gossip_received",
                   "GOSSIP messages received from a known LB node."),
    HEALTH_COUNTER(gossip_rises, "gossip_rises",
                   "GOSSIP entries that raised a counter."),
    HEALTH_COUNTER(gossip_answers, "gossip_answers",
                   "GOSSIP answers sent (push-pull)."),
    HEALTH_COUNTER(lb_lists_sent, "lb_lists_sent", "LB_LIST messages sent."),
    HEALTH_COUNTER(state_changes, "state_changes",
                   "Health state changes of any node, in this node's "
                   "view."),
};

static void
put_node_metrics(const struct health_node *node,
                 struct metrics_family *healthy,
                 struct metrics_family *state)
{
    const char *kind = node->kind == CTL_NODE_LB ? "lb" : "server";
    char peer[16];

    snprintf(peer, sizeof peer, "%"PRIu32, node->id);
    metrics_add(healthy, node->state != HEALTH_UNHEALTHY,
                "peer", peer, "kind", kind, NULL);
    for (int i = 0; i < HEALTH_N_STATES; i++) {
        metrics_add(state, node->state == i, "peer", peer, "kind", kind,
                    "state", health_state_to_string(i), NULL);
    }
}

/* Adds to 'm' the counters of 'h', the size of its healthy LB set and, per
 * configured node ("peer", of "kind" lb or server), whether it is healthy
 * and its state. */
void
health_put_metrics(const struct health *h, struct metrics *m)
{
    const struct health_stats *st = &h->stats;
    struct metrics_family *healthy, *state, *rejected;

    metrics_put_counters(m, "ovslb_health_", health_counters,
                         ARRAY_SIZE(health_counters), st, NULL);
    rejected = metrics_family(m, "ovslb_health_rejected_total",
                              METRICS_COUNTER,
                              "Health messages or entries ignored, by "
                              "reason.");
    for (int i = 0; i < HEALTH_N_REJECTS; i++) {
        metrics_add(rejected, st->rejected[i],
                    "reason", health_reject_to_string(i), NULL);
    }
    const struct metrics_gauge gauges[] = {
        { "serving", "1 if this node answers PINGs (it can serve).",
          h->serving },
        { "healthy_lb_nodes",
          "LB nodes in the healthy set (healthy or suspect).", h->n_healthy },
        { "lb_nodes", "LB nodes configured.", h->n_lbs },
        { "server_nodes", "Server nodes configured.", h->n_servers },
        { "checks_in_flight", "Checks awaiting their answers.",
          checks_in_flight(h) },
    };
    metrics_put_gauges(m, "ovslb_health_", gauges, ARRAY_SIZE(gauges),
                       NULL);

    healthy = metrics_family(m, "ovslb_health_peer_healthy", METRICS_GAUGE,
                             "1 if the node is in the healthy set (healthy "
                             "or suspect) in this node's view, else 0.");
    state = metrics_family(m, "ovslb_health_peer_state", METRICS_GAUGE,
                           "1 for the node's health state in this node's "
                           "view, 0 for the others.");
    for (size_t i = 0; i < h->n_lbs; i++) {
        put_node_metrics(h->lbs[i], healthy, state);
    }
    for (size_t i = 0; i < h->n_servers; i++) {
        put_node_metrics(h->servers[i], healthy, state);
    }
}

/* Stores in '*recsp' a new array of the entries of 'h''s heartbeat table
 * that were ever raised, LB nodes then servers by ascending id, and returns
 * their number.  The caller frees '*recsp'. */
size_t
health_export(const struct health *h, struct health_record **recsp)
{
    struct health_record *recs;
    size_t n = 0;

    recs = xmalloc(MAX(h->n_lbs + h->n_servers, 1) * sizeof *recs);
    for (size_t i = 0; i < h->n_lbs + h->n_servers; i++) {
        const struct health_node *node = (i < h->n_lbs
                                          ? h->lbs[i]
                                          : h->servers[i - h->n_lbs]);

        if (node->heartbeat) {
            recs[n].node = node->id;
            recs[n].kind = node->kind;
            recs[n].heartbeat = node->heartbeat;
            n++;
        }
    }
    *recsp = recs;
    return n;
}

/* Merges the 'n' records of 'recs' (from the journal) into 'h''s table by
 * maximum.  A reloaded counter is old news, not a rise: states do not
 * change.  Records of nodes not configured, or configured with another
 * kind, are ignored and counted.  Returns the number of counters raised. */
size_t
health_import(struct health *h, const struct health_record *recs, size_t n)
{
    size_t n_raised = 0;

    for (size_t i = 0; i < n; i++) {
        struct health_node *node = find_node(h, recs[i].node);

        if (!node || node->kind != recs[i].kind) {
            reject(h, HEALTH_REJ_IMPORT);
        } else if (recs[i].heartbeat > node->heartbeat) {
            node->heartbeat = recs[i].heartbeat;
            n_raised++;
        }
    }
    return n_raised;
}

/* Encodes 'rec' as a journal record's 'key' and 'value'. */
void
health_record_encode(const struct health_record *rec,
                     uint8_t key[HEALTH_RECORD_KEY_LEN],
                     uint8_t value[HEALTH_RECORD_VALUE_LEN])
{
    put_unaligned_be32((ovs_be32 *) key, htonl(rec->node));
    value[0] = HEALTH_RECORD_FORMAT;
    value[1] = rec->kind;
    put_unaligned_be64((ovs_be64 *) &value[2], htonll(rec->heartbeat));
}

/* Decodes the journal record ('key', 'key_len', 'value', 'value_len') into
 * '*rec'.  Returns false, leaving '*rec' unspecified, if it is malformed:
 * wrong lengths, unknown format, node 0 or an unknown kind. */
bool
health_record_decode(const void *key, size_t key_len, const void *value,
                     size_t value_len, struct health_record *rec)
{
    const uint8_t *v = value;

    if (key_len != HEALTH_RECORD_KEY_LEN
        || value_len != HEALTH_RECORD_VALUE_LEN
        || v[0] != HEALTH_RECORD_FORMAT || v[1] >= CTL_NODE_N_KINDS) {
        return false;
    }
    rec->node = ntohl(get_unaligned_be32(key));
    rec->kind = v[1];
    rec->heartbeat = ntohll(get_unaligned_be64((const ovs_be64 *) &v[2]));
    return rec->node != CTL_NODE_NONE;
}
