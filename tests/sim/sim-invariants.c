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

#include <config.h>
#include "sim-invariants.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include "agent-core.h"
#include "controller/lbnode-private.h"
#include "health.h"
#include "openvswitch/dynamic-string.h"
#include "ring.h"
#include "sim-agent.h"
#include "sim-bus.h"
#include "sim-edge.h"
#include "sim-lb.h"
#include "sim.h"
#include "util.h"

/* Failure messages printed per invariant; the rest are only counted. */
#define MAX_PRINTED 5

/* Margin for timers that run on a pass of their own. */
#define MARGIN_MS 1000

/* The agents' LB list comes with a server check, at least this often. */
#define SERVER_CHECK_MS HEALTH_DEFAULT_SERVER_INTERVAL_MS

static const char *const names[SIM_N_INVARIANTS] = {
    [SIM_INV_ONE_SERVER] = "one-server",
    [SIM_INV_EDGE] = "edge",
    [SIM_INV_NO_LOSS] = "no-loss",
    [SIM_INV_RING] = "ring",
    [SIM_INV_CLOSED_STATE] = "closed-state",
    [SIM_INV_MEMORY] = "memory",
    [SIM_INV_HEALTH] = "health",
};

const char *
sim_invariant_name(enum sim_invariant inv)
{
    return inv < SIM_N_INVARIANTS ? names[inv] : "?";
}

/* Counts a failure of 'inv' in 'sim' and prints it, with what reproduces
 * it, unless MAX_PRINTED were printed already. */
void
sim_invariant_fail(struct sim *sim, enum sim_invariant inv,
                   const char *format, ...)
{
    uint64_t n = ++sim->inv->failures[inv];
    va_list args;

    sim->inv->checks[inv]++;
    if (n > MAX_PRINTED) {
        return;
    }
    fprintf(stderr, "ovslb-sim: invariant %s FAILED at t=%.3f s (seed "
            "%"PRIu64", scenario %s): ", names[inv],
            sim->clock.now / 1000.0, sim->seed, sim->scenario_name);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    if (sim->trace) {
        fprintf(sim->trace, "%10.3f INVARIANT %s FAILED\n",
                sim->clock.now / 1000.0, names[inv]);
    }
}

static const char *
flow_name(const struct sim_flow *flow, struct ds *s)
{
    ds_clear(s);
    ds_put_format(s, "client %"PRIu32" (port %u)", flow->id,
                  ntohs(flow->cp.client_port));
    return ds_cstr(s);
}

/* Live LB nodes that have been up long enough to be past their start-up
 * window (health.h: a restarted node holds every node healthy for its
 * first suspect + unhealthy time). */
static bool
lb_settled(const struct sim *sim, const struct sim_lb *lb)
{
    return (lb->alive
            && (lb->down_since == LLONG_MIN
                || sim->clock.now - lb->up_since >= sim->set.lb_detect_ms));
}

/* one-server, for the state of the LB nodes: every flow, or with
 * sample_flows, that many in turn (a mapping to a second server that
 * lasts until its flow's turn comes is found). */
static void
check_one_server(struct sim *sim)
{
    struct sim_invariants *inv = sim->inv;
    size_t n_flows = sim->edge->n_flows;
    size_t n = n_flows;
    struct ds s = DS_EMPTY_INITIALIZER;

    if (sim->set.sample_flows && sim->set.sample_flows < n_flows) {
        n = sim->set.sample_flows;
    } else {
        inv->next_sample = 0;
    }
    for (size_t k = 0; k < n; k++) {
        size_t f = (inv->next_sample + k) % n_flows;
        const struct sim_flow *flow = sim->edge->flows[f];

        if (!flow->server || !sim_flow_is_live(flow)) {
            continue;
        }
        for (size_t i = 0; i < sim->n_lbs; i++) {
            const struct sim_lb *lb = sim->lbs[i];
            const struct sim_switch_map *sm;
            const struct mapping *m;
            const struct entry *e;

            if (!lb->alive) {
                continue;
            }
            sim->inv->checks[SIM_INV_ONE_SERVER]++;
            e = entry_find(lb->core, &flow->cp);
            if (e && e->state == ENTRY_ESTABLISHED
                && e->server != flow->server) {
                sim_invariant_fail(sim, SIM_INV_ONE_SERVER, "%s, on server "
                                   "%"PRIu32": lb%"PRIuSIZE"'s tracker "
                                   "entry names server %"PRIu32,
                                   flow_name(flow, &s), flow->server, i + 1,
                                   e->server);
            }
            m = mapping_find(lb->core, &flow->cp);
            if (m && !m->replaced && m->server != flow->server) {
                sim_invariant_fail(sim, SIM_INV_ONE_SERVER, "%s, on server "
                                   "%"PRIu32": lb%"PRIuSIZE"'s ingress "
                                   "mapping names server %"PRIu32,
                                   flow_name(flow, &s), flow->server, i + 1,
                                   m->server);
            }
            sm = sim_lb_switch_find(lb, &flow->cp);
            if (sm && sm->server != flow->server) {
                sim_invariant_fail(sim, SIM_INV_ONE_SERVER, "%s, on server "
                                   "%"PRIu32": lb%"PRIuSIZE"'s switch sends "
                                   "it to server %"PRIu32,
                                   flow_name(flow, &s), flow->server, i + 1,
                                   sm->server);
            }
        }
    }
    if (n_flows) {
        inv->next_sample = (inv->next_sample + n) % n_flows;
    }
    ds_destroy(&s);
}

/* no-loss: 'flow' was just reset or gave up. */
void
sim_invariants_flow_lost(struct sim *sim, struct sim_flow *flow)
{
    const struct sim_agent *server = (flow->server
                                      ? sim_find_agent(sim, flow->server)
                                      : NULL);
    struct ds s = DS_EMPTY_INITIALIZER;

    if (flow->lost_reported || flow->established == LLONG_MAX) {
        return;             /* Never established end to end. */
    }
    flow->lost_reported = true;
    sim->inv->checks[SIM_INV_NO_LOSS]++;
    if (sim->n_faults > 1
        || (sim->n_faults && sim->last_fault < sim->set.converge_ms)
        || (server && server->down_since != LLONG_MIN)) {
        /* More than one fault, a fault before convergence, or its server
         * crashed: losing it is allowed. */
        ds_destroy(&s);
        return;
    }
    sim_invariant_fail(sim, SIM_INV_NO_LOSS, "%s, established at %.3f s on "
                       "server %"PRIu32", %s (%"PRIu32" of its requests "
                       "answered, last progress at %.3f s, last ingress "
                       "lb%"PRIu32")", flow_name(flow, &s),
                       flow->established / 1000.0, flow->server,
                       flow->state == SIM_FLOW_RESET ? "reset" : "stalled",
                       flow->requests_done, flow->last_progress / 1000.0,
                       flow->last_ingress);
    ds_destroy(&s);
}

/* ring: returns the index of a settled live LB node that still holds
 * node 'dead' healthy (or, for an LB node, in its ring), or SIZE_MAX. */
static size_t
lb_still_holding(struct sim *sim, uint32_t dead)
{
    for (size_t i = 0; i < sim->n_lbs; i++) {
        const struct sim_lb *lb = sim->lbs[i];

        if (lb_settled(sim, lb)) {
            sim->inv->checks[SIM_INV_RING]++;
            if (health_is_healthy(lb->health, dead)
                || (sim_id_is_lb(dead)
                    && ring_contains(lb->core->ring, dead))) {
                return i;
            }
        }
    }
    return SIZE_MAX;
}

/* ring: returns the index of a live agent, up long enough to have heard
 * an LB_LIST, that still sends through LB node 'dead', or SIZE_MAX. */
static size_t
agent_still_holding(struct sim *sim, uint32_t dead)
{
    for (size_t j = 0; j < sim->n_agents; j++) {
        const struct sim_agent *a = sim->agents[j];

        if (a->alive && (sim->clock.now - a->up_since
                         >= sim->set.lb_detect_ms + SERVER_CHECK_MS)) {
            sim->inv->checks[SIM_INV_RING]++;
            if (sim_agent_sends_through(a, dead)) {
                return j;
            }
        }
    }
    return SIZE_MAX;
}

/* Whether a settled live LB node has LB node 'dead' out of its healthy
 * set (a measure, not a check). */
static bool
lb_dropped_by_one(const struct sim *sim, uint32_t dead)
{
    for (size_t i = 0; i < sim->n_lbs; i++) {
        const struct sim_lb *lb = sim->lbs[i];

        if (lb_settled(sim, lb) && !health_is_healthy(lb->health, dead)) {
            return true;
        }
    }
    return false;
}

static void
check_rings(struct sim *sim)
{
    long long int now = sim->clock.now;
    size_t k;

    for (size_t d = 0; d < sim->n_lbs; d++) {
        struct sim_lb *dead = sim->lbs[d];
        long long int down = dead->alive ? 0 : now - dead->down_since;

        if (!dead->alive && !dead->first_detected
            && lb_dropped_by_one(sim, dead->id)) {
            dead->first_detected = true;
            sim->inv->lb_first_detect_max_ms
                = MAX(sim->inv->lb_first_detect_max_ms, down);
        }

        if (!dead->alive && !dead->detected
            && lb_still_holding(sim, dead->id) == SIZE_MAX) {
            dead->detected = true;
            sim->inv->n_lb_losses++;
            sim->inv->lb_detect_sum_ms += down;
            sim->inv->lb_detect_max_ms = MAX(sim->inv->lb_detect_max_ms,
                                             down);
            sim_trace(sim, dead->id, "out of every live LB node's ring, "
                      "%lld ms after its crash", down);
        }
        if (dead->alive || dead->detect_reported
            || down < sim->set.lb_detect_ms) {
            continue;
        }
        k = lb_still_holding(sim, dead->id);
        if (k != SIZE_MAX) {
            sim_invariant_fail(sim, SIM_INV_RING, "lb%"PRIuSIZE", dead for "
                               "%lld ms, still in lb%"PRIuSIZE"'s ring",
                               d + 1, down, k + 1);
            dead->detect_reported = true;
        } else if (down >= sim->set.lb_detect_ms + SERVER_CHECK_MS) {
            k = agent_still_holding(sim, dead->id);
            if (k != SIZE_MAX) {
                sim_invariant_fail(sim, SIM_INV_RING, "lb%"PRIuSIZE", dead "
                                   "for %lld ms, still in srv%"PRIuSIZE"'s "
                                   "LB set", d + 1, down, k + 1);
                dead->detect_reported = true;
            }
        }
    }
    for (size_t j = 0; j < sim->n_agents; j++) {
        struct sim_agent *dead = sim->agents[j];
        long long int down = dead->alive ? 0 : now - dead->down_since;

        if (dead->alive || dead->detect_reported
            || down < sim->set.server_detect_ms) {
            continue;
        }
        k = lb_still_holding(sim, dead->id);
        if (k != SIZE_MAX) {
            sim_invariant_fail(sim, SIM_INV_RING, "srv%"PRIuSIZE", dead for "
                               "%lld ms, still healthy at lb%"PRIuSIZE,
                               j + 1, down, k + 1);
            dead->detect_reported = true;
        }
    }
}

/* When both ends of 'flow' have closed (LLONG_MAX: not yet). */
static long long int
flow_closed_at(const struct sim_flow *flow)
{
    return (flow->client_closed == LLONG_MAX
            || flow->server_closed == LLONG_MAX
            ? LLONG_MAX : MAX(flow->client_closed, flow->server_closed));
}

/* closed-state, at the flow's server: its agent forgets the connection
 * 'agent_after' ms after it closed, or after the agent restarted if it did
 * since (a restarted agent restores the entry of a connection that closed
 * shortly before it went down, and learns that its socket is gone at its
 * first reading of the sockets). */
static void
check_closed_agent(struct sim *sim, struct sim_flow *flow,
                   long long int closed, long long int agent_after,
                   struct ds *s)
{
    const struct sim_agent *a = sim_find_agent(sim, flow->server);
    struct agent_conn_info info;

    if (flow->agent_checked || !a || !a->alive
        || sim->clock.now < MAX(closed, a->up_since) + agent_after) {
        return;
    }
    flow->agent_checked = true;
    sim->inv->checks[SIM_INV_CLOSED_STATE]++;
    if (agent_core_get_conn(a->core, &flow->cp, &info)) {
        sim_invariant_fail(sim, SIM_INV_CLOSED_STATE, "%s, closed at %.3f s: "
                           "srv%"PRIuSIZE"'s agent still holds its entry "
                           "(%s%s, client ISN %"PRIu32")",
                           flow_name(flow, s), closed / 1000.0,
                           a->index + 1,
                           agent_conn_state_to_string(info.state),
                           info.gone ? ", socket gone" : "",
                           info.client_isn);
    }
}

/* closed-state: one end of 'flow' closed (sim-edge.c): it joins the flows
 * that check_closed_state() looks at. */
void
sim_invariants_flow_closing(struct sim *sim, struct sim_flow *flow)
{
    struct sim_invariants *inv = sim->inv;

    if (flow->closing || (flow->state_checked && flow->agent_checked)) {
        return;
    }
    flow->closing = true;
    if (inv->n_closing >= inv->allocated_closing) {
        inv->closing = x2nrealloc(inv->closing, &inv->allocated_closing,
                                  sizeof *inv->closing);
    }
    inv->closing[inv->n_closing++] = flow;
    inv->closing_sorted = false;
}

static int
compare_flow_ids(const void *a_, const void *b_)
{
    const struct sim_flow *const *a = a_;
    const struct sim_flow *const *b = b_;

    return (*a)->id < (*b)->id ? -1 : (*a)->id > (*b)->id;
}

/* closed-state: the flows that one end closed, in the order of their ids;
 * those checked at the LB nodes and at their agent leave the list. */
static void
check_closed_state(struct sim *sim)
{
    const struct sim_settings *set = &sim->set;
    struct sim_invariants *inv = sim->inv;
    long long int lb_after = (set->lease_ms + set->publish_interval_ms
                              + MARGIN_MS);
    long long int agent_after = (set->publish_interval_ms + set->linger_ms
                                 + MARGIN_MS);
    struct ds s = DS_EMPTY_INITIALIZER;
    size_t kept = 0;

    if (!inv->closing_sorted) {
        qsort(inv->closing, inv->n_closing, sizeof *inv->closing,
              compare_flow_ids);
        inv->closing_sorted = true;
    }
    for (size_t k = 0; k < inv->n_closing; k++) {
        struct sim_flow *flow = inv->closing[k];
        long long int closed = flow_closed_at(flow);

        if (flow->state_checked && flow->agent_checked) {
            flow->closing = false;
            continue;
        }
        inv->closing[kept++] = flow;
        if (closed == LLONG_MAX) {
            continue;
        }
        check_closed_agent(sim, flow, closed, agent_after, &s);
        if (flow->state_checked
            || sim->clock.now < closed + MAX(lb_after, agent_after)) {
            continue;
        }
        flow->state_checked = true;
        for (size_t i = 0; i < sim->n_lbs; i++) {
            const struct sim_lb *lb = sim->lbs[i];

            if (!lb->alive) {
                continue;
            }
            sim->inv->checks[SIM_INV_CLOSED_STATE]++;
            const struct entry *e = entry_find(lb->core, &flow->cp);
            if (e || pending_find(lb->core, &flow->cp)
                || mapping_find(lb->core, &flow->cp)
                || sim_lb_switch_find(lb, &flow->cp)) {
                struct ds what = DS_EMPTY_INITIALIZER;

                if (e) {
                    ds_put_format(&what, "a tracker entry (%s, %s, until "
                                  "%.3f s) ", entry_state_name(e->state),
                                  e->role == CTL_ROLE_PFT ? "PFT" : "SFT",
                                  sim_node_to_global(&lb->clock,
                                                     entry_expires(e))
                                  / 1000.0);
                }
                if (pending_find(lb->core, &flow->cp)) {
                    ds_put_cstr(&what, "a pending flow ");
                }
                if (mapping_find(lb->core, &flow->cp)) {
                    ds_put_cstr(&what, "an ingress mapping ");
                }
                if (sim_lb_switch_find(lb, &flow->cp)) {
                    ds_put_cstr(&what, "a switch mapping ");
                }
                ds_chomp(&what, ' ');
                sim_invariant_fail(sim, SIM_INV_CLOSED_STATE, "%s, closed at "
                                   "%.3f s: lb%"PRIuSIZE" still holds %s",
                                   flow_name(flow, &s), closed / 1000.0,
                                   i + 1, ds_cstr(&what));
                ds_destroy(&what);
            }
        }
    }
    inv->n_closing = kept;
    ds_destroy(&s);
}

/* memory. */
static void
check_memory(struct sim *sim)
{
    size_t entries = 0, flows = 0, tracker_mem = 0, handshakes = 0;

    for (size_t i = 0; i < sim->n_lbs; i++) {
        const struct sim_lb *lb = sim->lbs[i];

        if (lb->alive) {
            tracker_mem += tracker_bytes(lb->core);
            handshakes += lb->core->n_syn_entries;
            entries += (hmap_count(&lb->core->entries)
                        + hmap_count(&lb->core->pending)
                        + hmap_count(&lb->core->mappings));
        }
    }
    for (size_t j = 0; j < sim->n_agents; j++) {
        if (sim->agents[j]->alive) {
            entries += agent_core_n_conns(sim->agents[j]->core);
        }
    }
    for (size_t f = 0; f < sim->edge->n_flows; f++) {
        const struct sim_flow *flow = sim->edge->flows[f];

        flows += flow->state != SIM_FLOW_PENDING && !flow->state_checked;

        /* no-loss: a connection alive, established, is one more check
         * passed (sim_invariants_flow_lost() sees it end). */
        sim->inv->checks[SIM_INV_NO_LOSS] += (flow->established != LLONG_MAX
                                              && sim_flow_is_live(flow));
    }
    sim->inv->checks[SIM_INV_MEMORY]++;
    if (flows) {
        uint64_t ratio = entries * 100 / flows;

        sim->inv->max_entries_per_flow_x100
            = MAX(sim->inv->max_entries_per_flow_x100, ratio);

        uint64_t bytes = tracker_mem / flows;
        sim->inv->max_tracker_bytes_per_flow
            = MAX(sim->inv->max_tracker_bytes_per_flow, bytes);
        if (!handshakes) {
            sim->inv->max_tracker_bytes_established
                = MAX(sim->inv->max_tracker_bytes_established, bytes);
        }
    }
    if (entries > (size_t) sim->set.entries_per_flow * flows) {
        sim_invariant_fail(sim, SIM_INV_MEMORY, "%"PRIuSIZE" entries in the "
                           "cores for %"PRIuSIZE" flows that may hold state "
                           "(bound: %"PRIu32" per flow)", entries, flows,
                           sim->set.entries_per_flow);
    }
}

/* health: whether the links have been calm long enough for views to
 * follow. */
static bool
links_calm(const struct sim *sim)
{
    return (sim->links_calm_since == LLONG_MIN
            || (sim->links_calm_since != LLONG_MAX
                && sim->clock.now - sim->links_calm_since
                   >= MAX(sim->set.lb_detect_ms, sim->set.server_detect_ms)));
}

/* health: what settled live LB node 'o' holds of node 'id' (node index
 * 'k': LB nodes, then servers), alive and in service ('in_service') or
 * not since 'since' (LLONG_MIN: never started), with 'bound' to follow;
 * '*reported' keeps the failure to one report per service period. */
static void
check_view(struct sim *sim, struct sim_lb *o, size_t k, uint32_t id,
           bool alive, bool in_service, long long int since,
           uint32_t bound, long long int *reported)
{
    long long int now = sim->clock.now;
    struct health_node_info info;
    struct ds s = DS_EMPTY_INITIALIZER;

    if (health_get_node(o->health, id, &info)) {
        sim->inv->checks[SIM_INV_HEALTH]++;
        if (info.heartbeat < o->heartbeats[k]) {
            sim_id_format(id, &s);
            sim_invariant_fail(sim, SIM_INV_HEALTH, "lb%"PRIuSIZE"'s "
                               "heartbeat of %s went back from %"PRIu64
                               " to %"PRIu64, o->index + 1, ds_cstr(&s),
                               o->heartbeats[k], info.heartbeat);
            ds_clear(&s);
        }
        o->heartbeats[k] = info.heartbeat;
    }
    if (!alive || since == LLONG_MIN || now - since < bound
        || !links_calm(sim) || *reported == since) {
        ds_destroy(&s);
        return;
    }

    bool healthy = (health_is_healthy(o->health, id)
                    && (!sim_id_is_lb(id) || ring_contains(o->core->ring, id)));

    sim->inv->checks[SIM_INV_HEALTH]++;
    if (healthy != in_service) {
        sim_id_format(id, &s);
        sim_invariant_fail(sim, SIM_INV_HEALTH, "%s, %s for %lld ms, %s at "
                           "lb%"PRIuSIZE, ds_cstr(&s),
                           in_service ? "in service" : "out of service",
                           now - since,
                           healthy ? "healthy"
                           : sim_id_is_lb(id) ? "unhealthy or out of the ring"
                           : "unhealthy", o->index + 1);
        *reported = since;
    }
    ds_destroy(&s);
}

/* health: the LB nodes that agent 'a' sends through are the LB nodes in
 * service, once a server check interval has passed after the LB nodes'
 * bound (their checkers' LB_LISTs). */
static void
check_agent_lb_set(struct sim *sim, struct sim_agent *a)
{
    long long int now = sim->clock.now;
    long long int bound = sim->set.lb_detect_ms + SERVER_CHECK_MS;

    if (!a->alive || now - a->up_since < bound) {
        return;
    }
    for (size_t k = 0; k < sim->n_lbs; k++) {
        struct sim_lb *n = sim->lbs[k];
        bool in_service = sim_lb_in_service(n);

        if (!n->alive || n->service_since == LLONG_MIN
            || now - n->service_since < bound) {
            continue;
        }
        sim->inv->checks[SIM_INV_HEALTH]++;
        if (sim_agent_sends_through(a, n->id) != in_service
            && n->health_reported != n->service_since) {
            sim_invariant_fail(sim, SIM_INV_HEALTH, "lb%"PRIuSIZE", %s for "
                               "%lld ms, %s srv%"PRIuSIZE"'s LB set",
                               k + 1, in_service ? "in service"
                               : "out of service", now - n->service_since,
                               in_service ? "not in" : "still in",
                               a->index + 1);
            n->health_reported = n->service_since;
        }
    }
}

static void
check_health(struct sim *sim)
{
    if (links_calm(sim)) {
        for (size_t j = 0; j < sim->n_agents; j++) {
            check_agent_lb_set(sim, sim->agents[j]);
        }
    }

    for (size_t i = 0; i < sim->n_lbs; i++) {
        struct sim_lb *o = sim->lbs[i];

        if (!lb_settled(sim, o)) {
            continue;
        }
        for (size_t k = 0; k < sim->n_lbs; k++) {
            struct sim_lb *n = sim->lbs[k];

            if (n != o) {
                check_view(sim, o, k, n->id, n->alive, sim_lb_in_service(n),
                           n->service_since, sim->set.lb_detect_ms,
                           &n->health_reported);
            }
        }
        for (size_t j = 0; j < sim->n_agents; j++) {
            struct sim_agent *a = sim->agents[j];

            check_view(sim, o, sim->n_lbs + j, a->id, a->alive,
                       sim_agent_in_service(a), a->service_since,
                       sim->set.server_detect_ms, &a->health_reported);
        }
    }
}

/* Checks the invariants that need a look at the whole cluster (those
 * that look at flows only if 'flows': check_every_ms); the others are
 * checked where their events happen. */
void
sim_invariants_check(struct sim *sim, bool flows)
{
    if (flows) {
        check_one_server(sim);
    }
    check_rings(sim);
    if (flows) {
        check_closed_state(sim);
        check_memory(sim);
        check_health(sim);
    }
}

/* The tracker entries of the live LB nodes. */
size_t
sim_invariants_tracker_entries(const struct sim *sim)
{
    size_t n = 0;

    for (size_t i = 0; i < sim->n_lbs; i++) {
        if (sim->lbs[i]->alive) {
            n += hmap_count(&sim->lbs[i]->core->entries);
        }
    }
    return n;
}

/* At an LB node's leave or join and at the end of a run: counts, as the
 * previous change's, the tracker entries that live LB nodes hold for
 * flows they held none for at that change, and notes the holders of now
 * (up to 64 LB nodes). */
void
sim_invariants_count_moved(struct sim *sim)
{
    if (sim->n_lbs > 64) {
        return;
    }
    for (size_t f = 0; f < sim->edge->n_flows; f++) {
        struct sim_flow *flow = sim->edge->flows[f];
        uint64_t holders = 0;

        for (size_t i = 0; i < sim->n_lbs; i++) {
            const struct sim_lb *lb = sim->lbs[i];

            if (lb->alive && entry_find(lb->core, &flow->cp)) {
                holders |= UINT64_C(1) << i;
            }
        }
        if (sim->lb_change != SIM_LB_NONE) {
            sim->entries_moved[sim->lb_change]
                += count_1bits(holders & ~flow->holders);
        }
        flow->holders = holders;
    }
}

void
sim_invariants_destroy(struct sim_invariants *inv)
{
    if (inv) {
        free(inv->closing);
        free(inv);
    }
}

uint64_t
sim_invariants_n_failures(const struct sim_invariants *inv)
{
    uint64_t n = 0;

    for (size_t i = 0; i < SIM_N_INVARIANTS; i++) {
        n += inv->failures[i];
    }
    return n;
}

/* Prints a line per invariant: its checks and failures. */
void
sim_invariants_print(const struct sim_invariants *inv, FILE *stream)
{
    for (size_t i = 0; i < SIM_N_INVARIANTS; i++) {
        fprintf(stream, "  %-13s %10"PRIu64" checks %6"PRIu64" failures\n",
                names[i], inv->checks[i], inv->failures[i]);
    }
    fprintf(stream, "  (most core entries per flow holding state: %.2f; "
            "the tier's tracker entries: %"PRIu64" bytes per flow at most, "
            "%"PRIu64" with no handshake in progress, %"PRIuSIZE" a struct "
            "entry)\n",
            inv->max_entries_per_flow_x100 / 100.0,
            inv->max_tracker_bytes_per_flow,
            inv->max_tracker_bytes_established, sizeof(struct entry));
    if (inv->n_lb_losses) {
        fprintf(stream, "  (LB node losses: %"PRIu64", out of every ring "
                "after %lld ms on average, %lld ms at most)\n",
                inv->n_lb_losses,
                inv->lb_detect_sum_ms / (long long int) inv->n_lb_losses,
                inv->lb_detect_max_ms);
    }
}
