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
 * sim: the world of ovslb-sim, the simulator of a whole ovslb cluster in
 * one process (tests/sim/README.md).
 *
 * N LB nodes, each the real lbnode core (controller/lbnode.h) and health
 * checker (lib/health.h) behind a driver that plays the daemon's part and
 * a model of its switch's ingress mappings (sim-lb.c); M server nodes, each
 * the real agent core (agent/agent-core.h) behind a driver playing
 * ovslb-agent's part, in front of a model of the server's TCP stack
 * (sim-agent.c, sim-server.c); an edge router spreading the clients' flows
 * over the LB nodes that announce the VIP (sim-edge.c); all on one message
 * bus with fault injection (sim-bus.c), on one virtual clock (sim-clock.c),
 * run by a scenario (sim-scenario.c) and checked by invariants after every
 * step (sim-invariants.c).
 *
 * Single-threaded.
 */
#ifndef OVSLB_SIM_H
#define OVSLB_SIM_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>
#include "ctl-msg.h"
#include "openvswitch/compiler.h"
#include "openvswitch/hmap.h"
#include "sim-clock.h"

struct sim_agent;
struct sim_bus;
struct sim_edge;
struct sim_invariants;
struct sim_lb;
struct sim_scenario;

/* What a scenario may set ("set NAME VALUE"); sim_settings_init() gives
 * the defaults. */
struct sim_settings {
    uint32_t lbs, servers;
    uint32_t latency_ms;        /* Of every link. */
    uint32_t lease_ms;
    uint32_t publish_interval_ms;
    uint32_t handshake_timeout_ms;
    uint32_t vnodes;
    uint32_t linger_ms;         /* Agents' entries after the socket. */
    uint32_t bgp_withdraw_ms;   /* Edge: a dead LB node's routes go. */
    uint32_t bgp_announce_ms;   /* Edge: a restarted LB node's come. */
    uint32_t stall_ms;          /* A connection without progress this long
                                 * is lost. */
    uint32_t lb_detect_ms;      /* Bound: a dead LB node out of every
                                 * ring. */
    uint32_t server_detect_ms;  /* Bound: a dead server out of every LB
                                 * node's server set. */
    uint32_t converge_ms;       /* After the last fault, the cluster is
                                 * converged after this. */
    uint32_t entries_per_flow;  /* Bound of core entries per flow. */
    uint32_t check_every_ms;    /* The invariants that scan every flow or
                                 * node run this often (0: every step). */
    uint32_t end_ms;            /* End of the run. */

    /* Scale (0: off, the default). */
    uint32_t batch_passes;      /* A node does one pass a step, after every
                                 * packet that arrived in it (a daemon's
                                 * poll loop finding them all ready), not a
                                 * pass after each packet. */
    uint32_t sample_flows;      /* one-server looks at this many flows a
                                 * check, in turn, not at every flow. */
};

void sim_settings_init(struct sim_settings *);
char *sim_settings_set(struct sim_settings *, const char *name,
                       const char *value) OVS_WARN_UNUSED_RESULT;

struct sim {
    struct sim_clock clock;
    uint64_t seed;
    uint64_t prng;
    const char *scenario_name;
    FILE *trace;                /* --trace: every step (or NULL). */
    struct sim_settings set;
    struct ctl_key key;         /* Cluster key: control messages. */

    struct sim_bus *bus;
    struct sim_lb **lbs;
    size_t n_lbs;
    struct sim_agent **agents;
    size_t n_agents;
    struct sim_edge *edge;
    struct sim_invariants *inv;

    /* Measured for the scale report (tests/sim/sim-report.sh). */
    uint64_t health_bytes_lbs;  /* PING, PONG, GOSSIP, LB_LIST sent by LB
                                 * nodes... */
    uint64_t gossip_bytes_lbs;  /* ...of which GOSSIP. */
    enum sim_lb_change {
        SIM_LB_NONE, SIM_LB_LEAVE, SIM_LB_JOIN, SIM_LB_N_CHANGES
    } lb_change;                /* The last LB node crash or restart. */
    uint64_t tracker_syncs[SIM_LB_N_CHANGES];   /* TRACKER_SYNCs sent by LB
                                                 * nodes since it. */
    uint64_t entries_before[SIM_LB_N_CHANGES];  /* Tracker entries just
                                                 * before the first of its
                                                 * kind. */
    uint64_t entries_moved[SIM_LB_N_CHANGES];   /* Tracker entries on an
                                                 * LB node that had none
                                                 * for the flow before it,
                                                 * at the next change or
                                                 * the end. */

    long long int last_fault;   /* When the last fault began (LLONG_MIN:
                                 * none). */
    long long int links_calm_since; /* When the last partition or stage
                                 * (other than "faults") went: LLONG_MIN
                                 * if there never was one, LLONG_MAX while
                                 * there is one (the health invariant). */
    unsigned int n_faults;      /* Crashes and partitions so far. */
};

/* The cluster's key and ring key. */
#define SIM_CLUSTER_KEY "ovslb-sim-cluster-key-0123456789"
#define SIM_RING_KEY UINT64_C(0x0123456789abcdef)

/* The VIP every client connects to, served by every server node. */
#define SIM_VIP_PORT 80
struct in6_addr sim_vip_addr(void);
struct in6_addr sim_lb_addr(size_t lb_index, int net);
struct in6_addr sim_server_addr(size_t server_index);
bool sim_server_index(const struct in6_addr *, size_t *server_index);

struct tcp_opts;
void sim_syn_opts(struct tcp_opts *);

uint64_t sim_random(struct sim *);
void sim_trace(const struct sim *, uint32_t node, const char *format, ...)
    OVS_PRINTF_FORMAT(3, 4);
void sim_send_ctl(struct sim *, uint32_t src, uint32_t dst,
                  struct ctl_msg *, uint64_t *tx_seq);

struct sim_lb *sim_find_lb(const struct sim *, uint32_t id);
struct sim_agent *sim_find_agent(const struct sim *, uint32_t id);

#endif /* sim.h */
