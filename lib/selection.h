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
 * selection: the server-selection algorithms of a VIP (DESIGN.md "Two VIP
 * modes"; PROTOCOL.md section 2: the PFT "picks the server with the VIP's
 * algorithm among healthy servers, skipping those that rejected this flow").
 *
 * A 'struct selection' is the per-VIP selector: it holds the algorithm's
 * state (the round-robin position, the Maglev table of the `hash` and
 * `source` algorithms, the pseudo-random generator seeded by the caller).
 * The caller passes the VIP's current servers, with their health and metrics,
 * on every pick, so the selector never holds a stale server list.
 *
 * Every algorithm considers only the *eligible* servers: healthy, of nonzero
 * weight (weight 0 means drained), and not in the flow's rejected list.
 *
 *   random              uniform among the eligible servers.
 *   weighted-random     proportional to weight.
 *   round-robin         cycles through the eligible servers in id order.
 *   least-connections   fewest 'active_conns' per unit of weight.
 *   lowest-latency      smallest 'rtt_us'; a server not measured yet
 *                       counts as fast as the fastest measured one, so that
 *                       a new or recovered server is tried (explored)
 *                       until it has a measure.
 *   hash                Maglev table (lib/maglev.h) over the healthy servers,
 *                       weighted, keyed by a hash of the whole CP.
 *   source              the same, keyed by a hash of the client address
 *                       only, so that all of a client's connections reach one
 *                       server.
 *   nearest             proportional to weight among the eligible servers
 *                       marked 'near' (for the LB nodes: in the zone of
 *                       the flow's ingress, controller/lbnode.h), or among
 *                       all eligible servers when none of them is.
 *
 * Ties of least-connections and lowest-latency are broken in round-robin
 * order (the smallest tied id after the last pick), so that a burst of picks
 * between two metric updates spreads over the tied servers.
 *
 * For `hash` and `source`, when the table's choice has rejected the flow,
 * the pick looks up successive rehashes of the flow's hash in the table
 * (then, after 64 of them, falls back to rendezvous hashing over the
 * eligible servers): retries of one flow are stable (same rejected list,
 * same answer) and spread over the other servers in proportion to their
 * weights.  The table is rebuilt only when the set of (id, weight) of
 * healthy servers changes.  Its hashes are portable (see
 * maglev.h), so every node with the same healthy set picks the same server
 * for a CP, except that the rejected list is the caller's.
 *
 * Pure: no I/O, no clock, no global state.  One thread at a time per
 * selector.
 */
#ifndef OVSLB_SELECTION_H
#define OVSLB_SELECTION_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct flow_key;

enum selection_algo {
    SEL_RANDOM,                 /* "random" (the default). */
    SEL_WEIGHTED_RANDOM,        /* "weighted-random" */
    SEL_ROUND_ROBIN,            /* "round-robin" */
    SEL_LEAST_CONNECTIONS,      /* "least-connections" */
    SEL_LOWEST_LATENCY,         /* "lowest-latency" */
    SEL_HASH,                   /* "hash" */
    SEL_SOURCE,                 /* "source" */
    SEL_NEAREST,                /* "nearest" */
};
#define SEL_N_ALGOS (SEL_NEAREST + 1)
#define SEL_DEFAULT SEL_RANDOM

const char *selection_algo_to_string(enum selection_algo);
bool selection_algo_from_string(const char *, enum selection_algo *);

/* One server of a VIP, as the caller knows it at the time of a pick.  Ids
 * must be unique within one call. */
struct selection_server {
    uint32_t id;                /* Server node id. */
    uint32_t weight;            /* Relative share; 0 means drained. */
    bool healthy;               /* From health checks (PROTOCOL.md 8). */
    uint32_t active_conns;      /* For least-connections. */
    uint32_t rtt_us;            /* For lowest-latency; UINT32_MAX if not
                                 * measured (or the measure is too old). */
    bool near;                  /* For nearest: in the flow's zone. */
};

/* Counters a caller may read with selection_get_stats(). */
struct selection_stats {
    uint64_t picks;             /* Successful picks. */
    uint64_t no_server;         /* Picks that found no eligible server. */
    uint64_t invalid;           /* Picks refused with EINVAL. */
    uint64_t walks;             /* hash/source picks whose first choice had
                                 * rejected the flow (retries). */
    uint64_t rebuilds;          /* Maglev table (re)builds. */
};

struct selection *selection_create(enum selection_algo, uint64_t seed);
void selection_destroy(struct selection *);
enum selection_algo selection_get_algo(const struct selection *);

int selection_pick(struct selection *,
                   const struct selection_server servers[], size_t n,
                   const struct flow_key *cp,
                   const uint32_t *rejected, size_t n_rejected,
                   uint32_t *chosen);

void selection_get_stats(const struct selection *, struct selection_stats *);

uint64_t selection_hash_cp(const struct flow_key *);
uint64_t selection_hash_client(const struct flow_key *);

#endif /* selection.h */
