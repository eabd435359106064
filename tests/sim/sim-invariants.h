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
 * sim-invariants: what must hold in a simulated cluster, checked at every
 * step of the simulation (every time the virtual clock moves, and at the
 * events that break them), each with a counter of checks and of failures,
 * and a failure message naming the seed and the scenario that reproduce
 * it:
 *
 *   one-server      No connection mapped to two servers: a connection's
 *                   socket is established on one server only, and no LB
 *                   node's tracker entry or ingress mapping (nor its
 *                   switch) sends it to another.
 *   edge            Every segment a client receives fits its connection:
 *                   the echo of its own request, in sequence.
 *   no-loss         No established connection lost (reset, or without
 *                   progress for stall_ms) while at most one fault
 *                   happened, after convergence, to a node that is not its
 *                   server.
 *   ring            Every dead LB node out of every live LB node's healthy
 *                   set within lb_detect_ms and out of every agent's
 *                   within lb_detect_ms plus a server check interval;
 *                   every dead server out of every LB node's healthy set
 *                   within server_detect_ms.
 *   closed-state    No state left for a closed connection after its lease:
 *                   no tracker entry, pending flow, ingress mapping or
 *                   switch mapping once lease_ms has passed since both
 *                   ends closed (plus a publishing interval), no agent
 *                   entry once linger_ms has.
 *   memory          Bounded memory per flow: the cores' entries (tracker
 *                   entries, pending flows, mappings, agent entries) at
 *                   most entries_per_flow per flow that may hold state.
 *   health          Every settled live LB node's view of every other node
 *                   follows what the node does, while no partition or
 *                   stage (but "faults") cuts or changes links and for
 *                   the longer bound after the last goes: a node alive
 *                   and in service (an LB node serving, a server ready)
 *                   for lb_detect_ms (LB node) or server_detect_ms
 *                   (server) is healthy in the view, and an LB node in
 *                   its ring; one alive but out of service for as long is
 *                   not healthy (a dead one: see ring); an LB node in or
 *                   out of service as long plus a server check interval
 *                   is in or out of every live agent's LB set; a node's
 *                   heartbeat in a view never goes back.  So: no false positive
 *                   under loss, duplication, reordering and clock skew; a
 *                   restarted node, or one in service again, back in
 *                   every view in time.
 *
 * Single-threaded.
 */
#ifndef OVSLB_SIM_INVARIANTS_H
#define OVSLB_SIM_INVARIANTS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "openvswitch/compiler.h"

struct sim;
struct sim_flow;

enum sim_invariant {
    SIM_INV_ONE_SERVER,
    SIM_INV_EDGE,
    SIM_INV_NO_LOSS,
    SIM_INV_RING,
    SIM_INV_CLOSED_STATE,
    SIM_INV_MEMORY,
    SIM_INV_HEALTH,
    SIM_N_INVARIANTS
};

struct sim_invariants {
    uint64_t checks[SIM_N_INVARIANTS];
    uint64_t failures[SIM_N_INVARIANTS];
    uint64_t max_entries_per_flow_x100;     /* Observed, x100. */
    uint64_t max_tracker_bytes_per_flow;    /* The tier's tracker entries
                                             * (struct entry, its
                                             * handshake part if any and
                                             * its hash bucket), per
                                             * flow. */
    uint64_t max_tracker_bytes_established; /* The same at the checks
                                             * where no tracker entry was
                                             * in the handshake: what
                                             * established connections
                                             * cost (0: none such). */

    /* closed-state: the flows that one end closed and that are not
     * checked yet everywhere (in no order; sorted by id when 'sorted' is
     * false). */
    struct sim_flow **closing;
    size_t n_closing, allocated_closing;
    bool closing_sorted;

    /* one-server with sample_flows: the next flow to look at. */
    size_t next_sample;

    /* Measured: how long after an LB node's crash every live LB node had
     * it out of its ring. */
    uint64_t n_lb_losses;
    long long int lb_detect_max_ms, lb_detect_sum_ms;

    /* ...and how long until the first of them had it out of its healthy
     * set. */
    long long int lb_first_detect_max_ms;
};

const char *sim_invariant_name(enum sim_invariant);
void sim_invariant_fail(struct sim *, enum sim_invariant,
                        const char *format, ...) OVS_PRINTF_FORMAT(3, 4);
void sim_invariants_check(struct sim *, bool flows);
void sim_invariants_flow_lost(struct sim *, struct sim_flow *);
void sim_invariants_flow_closing(struct sim *, struct sim_flow *);
void sim_invariants_destroy(struct sim_invariants *);
size_t sim_invariants_tracker_entries(const struct sim *);
void sim_invariants_count_moved(struct sim *);
uint64_t sim_invariants_n_failures(const struct sim_invariants *);
void sim_invariants_print(const struct sim_invariants *, FILE *);

#endif /* sim-invariants.h */
