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
 * sim-agent: a simulated server node: the agent core that ovslb-agent
 * runs, driven as agent.c drives it (admission with a ready, listening
 * server; PONGs; LB_LISTs kept by version; connection publishing every
 * publish interval and at once when the LB set changes), the server's TCP
 * stack behind it (sim-server.h) and the node's SQLite journal.
 *
 * A crash loses the core and every socket of the server; a restart builds
 * the core again and reloads the journal, unless the crash wiped it (the
 * sockets are gone either way: their clients get RSTs).
 *
 * Single-threaded.
 */
#ifndef OVSLB_SIM_AGENT_H
#define OVSLB_SIM_AGENT_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openvswitch/list.h"
#include "sim-clock.h"
#include "sim-journal.h"
#include "sim-server.h"

struct sim;
struct sim_pkt;

struct sim_agent {
    struct sim *sim;
    uint32_t id;
    size_t index;
    struct sim_node_clock clock;

    bool alive;
    long long int up_since, down_since;
    bool detect_reported;       /* Its crash overstayed in a server set. */
    bool ready;                 /* Ready ("at T ready srvN off" clears
                                 * it): PONGs say ready=0 and CONN_REQs
                                 * are refused, as when its service is
                                 * down. */
    long long int health_reported;  /* The 'service_since' whose health
                                     * failure was reported (once). */
    long long int service_since;    /* Global time it last came alive and
                                     * ready, or stopped being either. */

    struct agent_core *core;
    uint64_t tx_seq;
    bool has_lb_list;
    uint64_t lb_list_version;
    uint32_t *healthy;          /* The LB nodes it sends through. */
    size_t n_healthy;
    long long int next_publish; /* Node's monotonic clock. */
    long long int next_deadline;    /* Node's monotonic clock, valid if */
    bool pass_due;                  /* batch_passes: a packet came this
                                     * step. */
    bool next_deadline_known;       /* ...this is true: computed once after
                                     * each pass. */

    struct sim_server server;
    struct ovs_list to_server;  /* Frames the core gave the server, not
                                 * handled yet. */
    bool flushing;
    struct sim_journal journal;

    uint64_t publish_rounds;
};

struct sim_agent *sim_agent_create(struct sim *, size_t index,
                                   const char *dir);
void sim_agent_destroy(struct sim_agent *);

void sim_agent_start(struct sim_agent *);
void sim_agent_crash(struct sim_agent *, bool wipe);
void sim_agent_set_ready(struct sim_agent *, bool ready);
bool sim_agent_in_service(const struct sim_agent *);

void sim_agent_run(struct sim_agent *);
long long int sim_agent_next_deadline(struct sim_agent *);
void sim_agent_receive(struct sim_agent *, struct sim_pkt *);
bool sim_agent_sends_through(const struct sim_agent *, uint32_t lb);

#endif /* sim-agent.h */
