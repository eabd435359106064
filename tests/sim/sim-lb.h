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
 * sim-lb: a simulated LB node: the lbnode core and the health checker that
 * ovslb-controller runs, driven as controller.c and health-control.c drive
 * them, with a model of the switch's ingress mappings (what OVS's
 * connection tracker holds for the flows the core forwarded) and the
 * node's SQLite journal.
 *
 * A crash loses the cores and the switch's state; a restart builds them
 * again and reloads the journal, unless the crash wiped it.
 *
 * Single-threaded.
 */
#ifndef OVSLB_SIM_LB_H
#define OVSLB_SIM_LB_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "flow-key.h"
#include "openvswitch/hmap.h"
#include "sim-clock.h"
#include "sim-journal.h"

struct ctl_msg;
struct health;
struct lbnode;
struct sim;
struct sim_pkt;

struct sim_lb {
    struct sim *sim;
    uint32_t id;
    size_t index;
    struct sim_node_clock clock;

    bool alive;
    long long int up_since;     /* Global time of the last (re)start. */
    long long int down_since;   /* ...of the last crash. */
    bool detect_reported;       /* Its crash overstayed in a ring. */
    bool detected;              /* Out of every ring since its crash. */
    bool first_detected;        /* Out of some live LB node's healthy set
                                 * since its crash. */
    bool serving;               /* Able to serve ("at T serving lbN off"
                                 * clears it): its health checker answers
                                 * PINGs as not serving. */
    long long int service_since;    /* Global time it last came alive and
                                     * serving, or stopped being either. */
    long long int health_reported;  /* The 'service_since' whose health
                                     * failure was reported (once). */
    uint64_t *heartbeats;       /* health: the heartbeat its checker last
                                 * held of each node (LB nodes by index,
                                 * then servers), since its start. */

    struct lbnode *core;
    struct health *health;
    uint64_t health_seqno;
    uint64_t tx_seq;
    long long int next_heartbeat_journal;   /* Node's monotonic clock. */
    long long int next_deadline;            /* Node's monotonic clock, */
    bool pass_due;                          /* batch_passes: a packet came
                                             * this step. */
    bool health_input;                      /* batch_passes: a health
                                             * message came since the
                                             * checker's last run. */
    long long int health_deadline;          /* health_next_deadline(), */
    bool health_deadline_known;             /* ...valid if this is true. */
    bool next_deadline_known;               /* ...valid if this is true:
                                             * the cores' timers, computed
                                             * once after each pass (their
                                             * next_deadline() functions
                                             * scan every node). */

    struct hmap switch_maps;    /* Of sim_switch_map: the switch's
                                 * ingress mappings. */
    struct sim_journal journal;

    /* Counters of the driver. */
    uint64_t packet_ins, switch_forwarded, north_sent, restored;
};

/* A mapping the switch holds, as the core's forward() made it. */
struct sim_switch_map {
    struct hmap_node hmap_node;
    struct flow_key cp;
    uint32_t server;
};

struct sim_lb *sim_lb_create(struct sim *, size_t index, const char *dir);
void sim_lb_destroy(struct sim_lb *);

void sim_lb_start(struct sim_lb *);
void sim_lb_crash(struct sim_lb *, bool wipe);
void sim_lb_set_serving(struct sim_lb *, bool serving);
bool sim_lb_in_service(const struct sim_lb *);

void sim_lb_run(struct sim_lb *);
long long int sim_lb_next_deadline(struct sim_lb *);
void sim_lb_receive(struct sim_lb *, struct sim_pkt *);

const struct sim_switch_map *sim_lb_switch_find(const struct sim_lb *,
                                                const struct flow_key *);

#endif /* sim-lb.h */
