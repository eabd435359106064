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
#include "sim-bus.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "openvswitch/dynamic-string.h"
#include "openvswitch/list.h"
#include "openvswitch/ofpbuf.h"
#include "util.h"

struct sim_stage {
    struct ovs_list list_node;  /* In sim_bus's 'stages'. */
    char *name;
    struct sim_node_set src, dst;
    struct sim_stage_spec spec;
};

struct sim_bus {
    uint64_t prng;
    unsigned int latency_ms;
    struct heap queue;          /* Of sim_pkt, earliest 'at' first. */
    uint64_t order;
    struct ovs_list stages;     /* Of sim_stage, in the order added. */
    struct sim_bus_stats stats;
    FILE *trace;
};

/* Node ids. */

bool
sim_id_is_lb(uint32_t id)
{
    return id >= SIM_LB_ID(0) && id < SIM_LB_ID(SIM_MAX_LBS);
}

bool
sim_id_is_server(uint32_t id)
{
    return id >= SIM_SERVER_ID(0) && id < SIM_EDGE_ID;
}

/* Appends the name of node 'id' to 's': "lb1", "srv3", "edge" (indexes
 * from 1, as scenarios name them). */
void
sim_id_format(uint32_t id, struct ds *s)
{
    if (sim_id_is_lb(id)) {
        ds_put_format(s, "lb%"PRIu32, id - SIM_LB_ID(0) + 1);
    } else if (sim_id_is_server(id)) {
        ds_put_format(s, "srv%"PRIu32, id - SIM_SERVER_ID(0) + 1);
    } else if (id == SIM_EDGE_ID) {
        ds_put_cstr(s, "edge");
    } else {
        ds_put_format(s, "node%"PRIu32, id);
    }
}

/* Node sets. */

/* Parses 's', a comma-separated list of "lbN", "srvN", "lb*", "srv*",
 * "edge" or "*" (everything), into 'set'.  Returns NULL, or an error
 * message that the caller must free. */
char *
sim_node_set_parse(const char *s, struct sim_node_set *set)
{
    char *copy = xstrdup(s), *save = NULL;
    char *error = NULL;
    size_t allocated = 0;

    memset(set, 0, sizeof *set);
    for (char *tok = strtok_r(copy, ",", &save); tok && !error;
         tok = strtok_r(NULL, ",", &save)) {
        unsigned int n;
        int len;
        uint32_t id;

        if (!strcmp(tok, "*")) {
            set->all_lbs = set->all_servers = set->edge = true;
            continue;
        } else if (!strcmp(tok, "lb*")) {
            set->all_lbs = true;
            continue;
        } else if (!strcmp(tok, "srv*")) {
            set->all_servers = true;
            continue;
        } else if (!strcmp(tok, "edge")) {
            set->edge = true;
            continue;
        } else if (sscanf(tok, "lb%u%n", &n, &len) == 1 && !tok[len]
                   && n >= 1 && n <= SIM_MAX_LBS) {
            id = SIM_LB_ID(n - 1);
        } else if (sscanf(tok, "srv%u%n", &n, &len) == 1 && !tok[len]
                   && n >= 1 && n < SIM_EDGE_ID - SIM_SERVER_ID(0)) {
            id = SIM_SERVER_ID(n - 1);
        } else {
            error = xasprintf("%s: not a node (lbN, srvN, lb*, srv*, edge, "
                              "*)", tok);
            break;
        }
        if (set->n_ids >= allocated) {
            set->ids = x2nrealloc(set->ids, &allocated, sizeof *set->ids);
        }
        set->ids[set->n_ids++] = id;
    }
    free(copy);
    if (error) {
        sim_node_set_destroy(set);
    }
    return error;
}

bool
sim_node_set_contains(const struct sim_node_set *set, uint32_t id)
{
    if ((set->all_lbs && sim_id_is_lb(id))
        || (set->all_servers && sim_id_is_server(id))
        || (set->edge && id == SIM_EDGE_ID)) {
        return true;
    }
    for (size_t i = 0; i < set->n_ids; i++) {
        if (set->ids[i] == id) {
            return true;
        }
    }
    return false;
}

void
sim_node_set_clone(struct sim_node_set *dst, const struct sim_node_set *src)
{
    *dst = *src;
    dst->ids = (src->n_ids
                ? xmemdup(src->ids, src->n_ids * sizeof *src->ids) : NULL);
}

void
sim_node_set_destroy(struct sim_node_set *set)
{
    free(set->ids);
    set->ids = NULL;
    set->n_ids = 0;
}

/* Packets. */

void
sim_pkt_destroy(struct sim_pkt *pkt)
{
    if (pkt) {
        ofpbuf_delete(pkt->data);
        free(pkt);
    }
}

static struct sim_pkt *
pkt_clone(const struct sim_pkt *pkt)
{
    struct sim_pkt *copy = xmemdup(pkt, sizeof *pkt);

    copy->data = ofpbuf_clone(pkt->data);
    return copy;
}

/* The bus. */

/* The next number of the random sequence whose state is '*state'
 * (splitmix64: small, fast, and the same sequence on every machine). */
uint64_t
sim_splitmix(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t
bus_random(struct sim_bus *bus)
{
    return sim_splitmix(&bus->prng);
}

static bool
bus_chance(struct sim_bus *bus, unsigned int permille)
{
    return permille && bus_random(bus) % 1000 < permille;
}

/* Creates a bus whose links take 'latency_ms' each, with random choices
 * drawn from 'seed'.  With a latency of 0, a packet can be taken off the
 * bus (sim_bus_pop()) at the very time it is sent: a synchronous bus, as
 * the LB node's unit tests (check-lbnode) use it. */
struct sim_bus *
sim_bus_create(uint64_t seed, unsigned int latency_ms)
{
    struct sim_bus *bus = xzalloc(sizeof *bus);

    bus->prng = seed ^ UINT64_C(0x5eed0b05);
    bus->latency_ms = latency_ms;
    heap_init(&bus->queue);
    ovs_list_init(&bus->stages);
    return bus;
}

void
sim_bus_destroy(struct sim_bus *bus)
{
    struct sim_stage *st;

    if (!bus) {
        return;
    }
    while (!heap_is_empty(&bus->queue)) {
        sim_pkt_destroy(CONTAINER_OF(heap_pop(&bus->queue), struct sim_pkt,
                                     heap_node));
    }
    heap_destroy(&bus->queue);
    LIST_FOR_EACH_POP (st, list_node, &bus->stages) {
        sim_node_set_destroy(&st->src);
        sim_node_set_destroy(&st->dst);
        free(st->name);
        free(st);
    }
    free(bus);
}

/* Prints what the stages do to 'trace' (NULL: nothing). */
void
sim_bus_set_trace(struct sim_bus *bus, FILE *trace)
{
    bus->trace = trace;
}

/* Adds a stage 'spec' named 'name' to the links from a node of 'src' to a
 * node of 'dst', after the stages already there. */
void
sim_bus_add_stage(struct sim_bus *bus, const char *name,
                  const struct sim_node_set *src,
                  const struct sim_node_set *dst,
                  const struct sim_stage_spec *spec)
{
    struct sim_stage *st = xzalloc(sizeof *st);

    st->name = xstrdup(name);
    sim_node_set_clone(&st->src, src);
    sim_node_set_clone(&st->dst, dst);
    st->spec = *spec;
    ovs_list_push_back(&bus->stages, &st->list_node);
}

/* Removes the stages named 'name'; returns how many there were. */
size_t
sim_bus_remove_stages(struct sim_bus *bus, const char *name)
{
    struct sim_stage *st;
    size_t n = 0;

    LIST_FOR_EACH_SAFE (st, list_node, &bus->stages) {
        if (!strcmp(st->name, name)) {
            ovs_list_remove(&st->list_node);
            sim_node_set_destroy(&st->src);
            sim_node_set_destroy(&st->dst);
            free(st->name);
            free(st);
            n++;
        }
    }
    return n;
}

/* The number of stages whose name is not 'name'. */
size_t
sim_bus_count_stages_but(const struct sim_bus *bus, const char *name)
{
    const struct sim_stage *st;
    size_t n = 0;

    LIST_FOR_EACH (st, list_node, &bus->stages) {
        n += strcmp(st->name, name) != 0;
    }
    return n;
}

/* Cuts the links from 'a' to 'b' and, unless 'one_way', from 'b' to 'a':
 * receive-side stages named 'name' that drop everything (packets already
 * in flight are lost too). */
void
sim_bus_partition(struct sim_bus *bus, const char *name,
                  const struct sim_node_set *a, const struct sim_node_set *b,
                  bool one_way)
{
    struct sim_stage_spec cut = {
        .kind = SIM_STAGE_DROP, .side = SIM_SIDE_RECV, .permille = 1000,
    };

    sim_bus_add_stage(bus, name, a, b, &cut);
    if (!one_way) {
        sim_bus_add_stage(bus, name, b, a, &cut);
    }
}

static void
bus_enqueue(struct sim_bus *bus, struct sim_pkt *pkt)
{
    /* Earliest first in a max-heap; FIFO among packets of one time, by
     * their order of sending, exact up to 2^32 packets sent (the
     * 1,000,000-flow scenario sends about 52 million) and a virtual time
     * of 2^31 ms. */
    ovs_assert(pkt->at >= 0 && pkt->at < (1LL << 31));
    uint64_t key = ((uint64_t) pkt->at << 32) | (pkt->order & UINT32_MAX);

    heap_insert(&bus->queue, &pkt->heap_node, UINT64_MAX - key);
}

static void
trace_stage(const struct sim_bus *bus, const struct sim_pkt *pkt,
            const struct sim_stage *st, const char *what)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    if (!bus->trace) {
        return;
    }
    ds_put_format(&s, "%10.3f bus     ", pkt->at / 1000.0);
    sim_id_format(pkt->src, &s);
    ds_put_cstr(&s, "->");
    sim_id_format(pkt->dst, &s);
    ds_put_format(&s, " %s by stage '%s' (%s side)\n", what, st->name,
                  st->spec.side == SIM_SIDE_SEND ? "send" : "receive");
    fputs(ds_cstr(&s), bus->trace);
    ds_destroy(&s);
}

/* Runs the stages of 'side' on 'pkt' from the 'first'th stage of that side
 * on.  Returns false if the packet is gone (dropped, or delayed: requeued
 * to come back to the next stage).  Duplicates go on from the stage after
 * the one that made them. */
static bool
run_stages(struct sim_bus *bus, struct sim_pkt *pkt, enum sim_side side,
           size_t first)
{
    struct sim_stage *st;
    size_t i = 0;

    LIST_FOR_EACH (st, list_node, &bus->stages) {
        if (st->spec.side != side || i++ < first
            || !sim_node_set_contains(&st->src, pkt->src)
            || !sim_node_set_contains(&st->dst, pkt->dst)) {
            continue;
        }
        switch (st->spec.kind) {
        case SIM_STAGE_DROP:
            if (bus_chance(bus, st->spec.permille)) {
                trace_stage(bus, pkt, st, "dropped");
                bus->stats.dropped++;
                sim_pkt_destroy(pkt);
                return false;
            }
            break;
        case SIM_STAGE_DUP:
            if (bus_chance(bus, st->spec.permille)) {
                struct sim_pkt *copy = pkt_clone(pkt);

                trace_stage(bus, pkt, st, "duplicated");
                bus->stats.duplicated++;
                copy->order = bus->order++;
                copy->at = pkt->at + st->spec.ms;
                if (side == SIM_SIDE_SEND) {
                    copy->next_stage = 0;
                    copy->at += bus->latency_ms;
                } else {
                    copy->next_stage = i;
                }
                bus_enqueue(bus, copy);
            }
            break;
        case SIM_STAGE_DELAY:
        case SIM_STAGE_REORDER: {
            unsigned int ms;

            if (st->spec.kind == SIM_STAGE_DELAY) {
                ms = st->spec.ms + (st->spec.jitter_ms
                                    ? bus_random(bus)
                                      % (st->spec.jitter_ms + 1) : 0);
                bus->stats.delayed++;
            } else if (bus_chance(bus, st->spec.permille)) {
                ms = 1 + bus_random(bus) % MAX(st->spec.ms, 1);
                trace_stage(bus, pkt, st, "held back");
                bus->stats.reordered++;
            } else {
                break;
            }
            if (side == SIM_SIDE_SEND) {
                pkt->at += ms;
            } else if (ms) {
                pkt->at += ms;
                pkt->next_stage = i;
                pkt->order = bus->order++;
                bus_enqueue(bus, pkt);
                return false;
            }
            break;
        }
        }
    }
    return true;
}

/* Sends 'data' ('kind'), which the bus takes, from node 'src' to node
 * 'dst' at 'now'. */
void
sim_bus_send(struct sim_bus *bus, long long int now, uint32_t src,
             uint32_t dst, enum sim_pkt_kind kind, struct ofpbuf *data)
{
    struct sim_pkt *pkt = xzalloc(sizeof *pkt);

    pkt->src = src;
    pkt->dst = dst;
    pkt->kind = kind;
    pkt->data = data;
    pkt->sent = now;
    pkt->at = now;
    pkt->order = bus->order++;
    bus->stats.sent++;
    if (kind == SIM_PKT_CTL) {
        bus->stats.ctl_bytes += data->size;
        if (sim_id_is_lb(src)) {
            bus->stats.ctl_bytes_lbs += data->size;
        }
    }
    if (run_stages(bus, pkt, SIM_SIDE_SEND, 0)) {
        pkt->at += bus->latency_ms;
        bus_enqueue(bus, pkt);
    }
}

/* When the next packet arrives somewhere (LLONG_MAX: none in flight). */
long long int
sim_bus_next(const struct sim_bus *bus)
{
    if (heap_is_empty(&bus->queue)) {
        return LLONG_MAX;
    }
    const struct sim_pkt *pkt = CONTAINER_OF(heap_max(&bus->queue),
                                             struct sim_pkt, heap_node);
    return pkt->at;
}

/* Returns the next packet that arrives at or before 'now' and passes the
 * receive stages of its link, or NULL.  The caller destroys it. */
struct sim_pkt *
sim_bus_pop(struct sim_bus *bus, long long int now)
{
    while (sim_bus_next(bus) <= now) {
        struct sim_pkt *pkt = CONTAINER_OF(heap_max(&bus->queue),
                                           struct sim_pkt, heap_node);

        /* heap_pop() would take any node, not the first. */
        heap_remove(&bus->queue, &pkt->heap_node);
        if (run_stages(bus, pkt, SIM_SIDE_RECV, pkt->next_stage)) {
            bus->stats.delivered++;
            return pkt;
        }
    }
    return NULL;
}

size_t
sim_bus_in_flight(const struct sim_bus *bus)
{
    return heap_count(&bus->queue);
}

const struct sim_bus_stats *
sim_bus_get_stats(const struct sim_bus *bus)
{
    return &bus->stats;
}
