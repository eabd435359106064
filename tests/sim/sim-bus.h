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
 * sim-bus: the simulator's network, one message bus for every link between
 * simulated nodes, with fault injection.
 *
 * A packet is a control message (encoded, as ctl-sock would send it) or an
 * Ethernet frame, from one node to another.  Every link (ordered pair of
 * nodes) has a chain of stages on its sending side, run when the packet is
 * sent, and another on its receiving side, run when it arrives (after the
 * link's latency); each stage may drop, duplicate or delay the packet, and
 * a stage delaying by a random amount reorders it.  Partitions are stages
 * that drop everything.  Stages are added and removed by name while the
 * simulation runs (scenarios do it), and apply to the links whose ends
 * match the stage's node sets.
 *
 * Every random choice comes from the bus's own generator, seeded by the
 * simulator: a run is reproduced by its seed.
 *
 * Single-threaded: the simulator's main loop owns the bus.
 */
#ifndef OVSLB_SIM_BUS_H
#define OVSLB_SIM_BUS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "heap.h"
#include "openvswitch/compiler.h"

struct ds;
struct ofpbuf;

/* Node ids on the bus. */
#define SIM_LB_ID(I) (1 + (uint32_t) (I))           /* I < SIM_MAX_LBS. */
#define SIM_SERVER_ID(J) (1001 + (uint32_t) (J))
#define SIM_EDGE_ID 1000000     /* The edge router, with every client. */
#define SIM_MAX_LBS 999

uint64_t sim_splitmix(uint64_t *state);

bool sim_id_is_lb(uint32_t id);
bool sim_id_is_server(uint32_t id);
void sim_id_format(uint32_t id, struct ds *);

/* A set of nodes, as a stage's ends. */
struct sim_node_set {
    bool all_lbs, all_servers, edge;
    uint32_t *ids;              /* And these. */
    size_t n_ids;
};

char *sim_node_set_parse(const char *, struct sim_node_set *)
    OVS_WARN_UNUSED_RESULT;
bool sim_node_set_contains(const struct sim_node_set *, uint32_t id);
void sim_node_set_clone(struct sim_node_set *dst,
                        const struct sim_node_set *src);
void sim_node_set_destroy(struct sim_node_set *);

enum sim_pkt_kind {
    SIM_PKT_CTL,                /* An encoded control message. */
    SIM_PKT_FRAME,              /* An Ethernet frame (data path). */
};

struct sim_pkt {
    uint32_t src, dst;
    enum sim_pkt_kind kind;
    struct ofpbuf *data;
    long long int sent;         /* When it was sent. */
    long long int at;           /* When it arrives (or reaches its next
                                 * receive stage). */
    size_t next_stage;          /* Receive stages still to run from. */
    uint64_t order;
    struct heap_node heap_node;
};

void sim_pkt_destroy(struct sim_pkt *);

/* What a stage does to the packets it sees. */
enum sim_stage_kind {
    SIM_STAGE_DROP,             /* With probability 'permille'. */
    SIM_STAGE_DUP,              /* Sends a copy too, 'permille', 'ms'
                                 * later than the original. */
    SIM_STAGE_DELAY,            /* By 'ms' plus up to 'jitter_ms'. */
    SIM_STAGE_REORDER,          /* With 'permille', holds the packet back
                                 * by up to 'ms' (others overtake it). */
};

enum sim_side {
    SIM_SIDE_SEND,
    SIM_SIDE_RECV,
};

struct sim_stage_spec {
    enum sim_stage_kind kind;
    enum sim_side side;
    unsigned int permille;
    unsigned int ms, jitter_ms;
};

struct sim_bus_stats {
    uint64_t sent, delivered;
    uint64_t dropped, duplicated, delayed, reordered;
    uint64_t ctl_bytes;         /* Control message bytes sent... */
    uint64_t ctl_bytes_lbs;     /* ...of which by LB nodes. */
};

struct sim_bus *sim_bus_create(uint64_t seed, unsigned int latency_ms);
void sim_bus_destroy(struct sim_bus *);
void sim_bus_set_trace(struct sim_bus *, FILE *);

void sim_bus_add_stage(struct sim_bus *, const char *name,
                       const struct sim_node_set *src,
                       const struct sim_node_set *dst,
                       const struct sim_stage_spec *);
size_t sim_bus_remove_stages(struct sim_bus *, const char *name);
size_t sim_bus_count_stages_but(const struct sim_bus *, const char *name);
void sim_bus_partition(struct sim_bus *, const char *name,
                       const struct sim_node_set *a,
                       const struct sim_node_set *b, bool one_way);

void sim_bus_send(struct sim_bus *, long long int now, uint32_t src,
                  uint32_t dst, enum sim_pkt_kind, struct ofpbuf *data);
long long int sim_bus_next(const struct sim_bus *);
struct sim_pkt *sim_bus_pop(struct sim_bus *, long long int now);
size_t sim_bus_in_flight(const struct sim_bus *);
const struct sim_bus_stats *sim_bus_get_stats(const struct sim_bus *);

#endif /* sim-bus.h */
