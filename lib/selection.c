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
#include "selection.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "coverage.h"
#include "flow-key.h"
#include "hash.h"
#include "maglev.h"
#include "util.h"

COVERAGE_DEFINE(selection_no_server);
COVERAGE_DEFINE(selection_invalid);
COVERAGE_DEFINE(selection_rebuild);

/* Bases of the two halves of the 64-bit CP hashes (arbitrary constants;
 * changing them changes which server a `hash` or `source` VIP picks). */
#define SEL_HASH_BASIS_LO 0x73656c31u       /* "sel1" */
#define SEL_HASH_BASIS_HI 0x73656c32u       /* "sel2" */

struct selection {
    enum selection_algo algo;
    uint64_t prng;              /* splitmix64 state. */

    /* Round-robin position, also used to break ties. */
    bool has_last;
    uint32_t last_id;

    /* hash and source: the table over 'members', the healthy servers of
     * nonzero weight (sorted by id) that it was built from. */
    struct maglev *table;
    struct maglev_backend *members;
    size_t n_members;

    /* Scratch space, grown to the largest server list seen. */
    size_t *cand;               /* Indexes of eligible servers. */
    struct maglev_backend *healthy;
    size_t scratch_size;

    struct selection_stats stats;
};

static const char *const algo_names[SEL_N_ALGOS] = {
    [SEL_RANDOM] = "random",
    [SEL_WEIGHTED_RANDOM] = "weighted-random",
    [SEL_ROUND_ROBIN] = "round-robin",
    [SEL_LEAST_CONNECTIONS] = "least-connections",
    [SEL_LOWEST_LATENCY] = "lowest-latency",
    [SEL_HASH] = "hash",
    [SEL_SOURCE] = "source",
    [SEL_NEAREST] = "nearest",
};

/* Returns the configuration name of 'algo' (as in the OVSLB database), or
 * NULL if 'algo' is not a valid algorithm. */
const char *
selection_algo_to_string(enum selection_algo algo)
{
    return (unsigned int) algo < SEL_N_ALGOS ? algo_names[algo] : NULL;
}

/* Parses algorithm name 's' (exact, case-sensitive) into '*algo'.  Returns
 * true if successful, false (leaving '*algo' alone) if 's' is NULL or names
 * no algorithm. */
bool
selection_algo_from_string(const char *s, enum selection_algo *algo)
{
    if (s) {
        for (int i = 0; i < SEL_N_ALGOS; i++) {
            if (!strcmp(s, algo_names[i])) {
                *algo = i;
                return true;
            }
        }
    }
    return false;
}

/* Creates and returns a selector for algorithm 'algo', whose random choices
 * (random, weighted-random) derive from 'seed' only.  Give every selector its
 * own seed (e.g. from the node's random source) so that nodes do not make
 * the same "random" choices.  Returns NULL if 'algo' is not valid. */
struct selection *
selection_create(enum selection_algo algo, uint64_t seed)
{
    if ((unsigned int) algo >= SEL_N_ALGOS) {
        return NULL;
    }

    struct selection *sel = xzalloc(sizeof *sel);
    sel->algo = algo;
    sel->prng = seed;
    return sel;
}

/* Frees selector 'sel'.  'sel' may be NULL. */
void
selection_destroy(struct selection *sel)
{
    if (sel) {
        maglev_destroy(sel->table);
        free(sel->members);
        free(sel->cand);
        free(sel->healthy);
        free(sel);
    }
}

/* Returns the algorithm of selector 'sel'. */
enum selection_algo
selection_get_algo(const struct selection *sel)
{
    return sel->algo;
}

/* Copies the counters of selector 'sel' into '*stats'. */
void
selection_get_stats(const struct selection *sel,
                    struct selection_stats *stats)
{
    *stats = sel->stats;
}

/* splitmix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number
 * generators", 2014): any seed, including 0, gives a good sequence. */
static uint64_t
selection_random(struct selection *sel)
{
    uint64_t z = (sel->prng += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Returns the 32-bit big-endian word at 'p', whatever the host's byte
 * order. */
static uint32_t
be32_word(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | p[3];
}

static uint64_t
hash_words_portable(const uint32_t *words, size_t n)
{
    uint32_t lo = SEL_HASH_BASIS_LO;
    uint32_t hi = SEL_HASH_BASIS_HI;

    for (size_t i = 0; i < n; i++) {
        lo = mhash_add(lo, words[i]);
        hi = mhash_add(hi, words[i]);
    }
    lo = mhash_finish(lo ^ (n * 4));
    hi = mhash_finish(hi ^ (n * 4));
    return ((uint64_t) hi << 32) | lo;
}

static size_t
address_words(const struct in6_addr *a, uint32_t *words)
{
    for (size_t i = 0; i < 4; i++) {
        words[i] = be32_word(&a->s6_addr[i * 4]);
    }
    return 4;
}

/* Returns the hash of the whole of 'cp' (client and VIP addresses and
 * ports, protocol; not the padding) used by the `hash` algorithm.  Portable
 * across hosts and builds. */
uint64_t
selection_hash_cp(const struct flow_key *cp)
{
    uint32_t words[10];
    size_t n = 0;

    n += address_words(&cp->client, &words[n]);
    n += address_words(&cp->vip, &words[n]);
    words[n++] = ((uint32_t) ntohs(cp->client_port) << 16)
                 | ntohs(cp->vip_port);
    words[n++] = cp->proto;
    return hash_words_portable(words, n);
}

/* Returns the hash of the client address of 'cp' only, used by the `source`
 * algorithm.  Portable across hosts and builds. */
uint64_t
selection_hash_client(const struct flow_key *cp)
{
    uint32_t words[4];

    return hash_words_portable(words, address_words(&cp->client, words));
}

static bool
is_rejected(uint32_t id, const uint32_t *rejected, size_t n_rejected)
{
    for (size_t i = 0; i < n_rejected; i++) {
        if (rejected[i] == id) {
            return true;
        }
    }
    return false;
}

static void
selection_reserve(struct selection *sel, size_t n)
{
    if (n > sel->scratch_size) {
        sel->scratch_size = MAX(n, 2 * sel->scratch_size);
        sel->cand = xrealloc(sel->cand,
                             sel->scratch_size * sizeof *sel->cand);
        sel->healthy = xrealloc(sel->healthy,
                                sel->scratch_size * sizeof *sel->healthy);
    }
}

/* Among the 'k' servers of 'servers' indexed by 'cand', returns the index
 * of the one with the smallest id above the last pick, or the smallest id
 * if there is none above it (round-robin in id order). */
static size_t
next_in_id_order(const struct selection *sel,
                 const struct selection_server servers[],
                 const size_t *cand, size_t k)
{
    size_t after = SIZE_MAX;
    size_t lowest = cand[0];

    for (size_t i = 0; i < k; i++) {
        uint32_t id = servers[cand[i]].id;

        if (id < servers[lowest].id) {
            lowest = cand[i];
        }
        if (sel->has_last && id > sel->last_id
            && (after == SIZE_MAX || id < servers[after].id)) {
            after = cand[i];
        }
    }
    return after != SIZE_MAX ? after : lowest;
}

/* Returns true if server 'a' is less loaded than 'b' for least-connections
 * (fewer connections per unit of weight; both weights are nonzero), or
 * faster for lowest-latency, where a server not measured yet counts as fast
 * as 'fastest' (the best measured among the candidates) so that a new or
 * recovered server gets tried.  'equal' is set if neither is better. */
static bool
metric_less(const struct selection *sel, const struct selection_server *a,
            const struct selection_server *b, uint32_t fastest, bool *equal)
{
    if (sel->algo == SEL_LEAST_CONNECTIONS) {
        uint64_t x = (uint64_t) a->active_conns * b->weight;
        uint64_t y = (uint64_t) b->active_conns * a->weight;

        *equal = x == y;
        return x < y;
    } else {
        uint32_t x = a->rtt_us == UINT32_MAX ? fastest : a->rtt_us;
        uint32_t y = b->rtt_us == UINT32_MAX ? fastest : b->rtt_us;

        *equal = x == y;
        return x < y;
    }
}

/* Keeps in 'cand' (of 'k' indexes) only the servers whose metric is
 * minimal, and returns how many remain. */
static size_t
keep_minimum(const struct selection *sel,
             const struct selection_server servers[], size_t *cand, size_t k)
{
    uint32_t fastest = UINT32_MAX;
    size_t best = cand[0];
    size_t n = 0;
    bool equal;

    for (size_t i = 0; i < k; i++) {
        fastest = MIN(fastest, servers[cand[i]].rtt_us);
    }
    for (size_t i = 1; i < k; i++) {
        if (metric_less(sel, &servers[cand[i]], &servers[best], fastest,
                        &equal)) {
            best = cand[i];
        }
    }
    for (size_t i = 0; i < k; i++) {
        if (!metric_less(sel, &servers[cand[i]], &servers[best], fastest,
                         &equal) && equal) {
            cand[n++] = cand[i];
        }
    }
    return n;
}

static size_t
pick_weighted(struct selection *sel, const struct selection_server servers[],
              const size_t *cand, size_t k)
{
    uint64_t total = 0;

    for (size_t i = 0; i < k; i++) {
        total += servers[cand[i]].weight;
    }

    /* The modulo bias is below 'total' / 2**64: negligible. */
    uint64_t r = selection_random(sel) % total;
    for (size_t i = 0; i < k; i++) {
        if (r < servers[cand[i]].weight) {
            return cand[i];
        }
        r -= servers[cand[i]].weight;
    }
    OVS_NOT_REACHED();
}

static int
compare_members(const void *a_, const void *b_)
{
    const struct maglev_backend *a = a_;
    const struct maglev_backend *b = b_;

    return a->id < b->id ? -1 : a->id > b->id;
}

/* Makes sure that the Maglev table of 'sel' is built over the healthy
 * servers of nonzero weight among the 'n' in 'servers'.  Returns 0, or
 * EINVAL if the server ids are not unique or too many. */
static int
selection_update_table(struct selection *sel,
                       const struct selection_server servers[], size_t n)
{
    size_t n_healthy = 0;

    for (size_t i = 0; i < n; i++) {
        if (servers[i].healthy && servers[i].weight) {
            sel->healthy[n_healthy].id = servers[i].id;
            sel->healthy[n_healthy].weight = servers[i].weight;
            n_healthy++;
        }
    }
    qsort(sel->healthy, n_healthy, sizeof *sel->healthy, compare_members);

    if (sel->table && n_healthy == sel->n_members
        && !memcmp(sel->healthy, sel->members,
                   n_healthy * sizeof *sel->members)) {
        return 0;
    }

    struct maglev *table = maglev_create(sel->healthy, n_healthy,
                                         MAGLEV_DEFAULT_SIZE);
    if (!table) {
        return EINVAL;
    }
    maglev_destroy(sel->table);
    sel->table = table;
    free(sel->members);
    sel->members = xmemdup(sel->healthy, n_healthy * sizeof *sel->members);
    sel->n_members = n_healthy;
    sel->stats.rebuilds++;
    COVERAGE_INC(selection_rebuild);
    return 0;
}

/* Number of rehashes a `hash` or `source` pick tries after its first
 * choice before it falls back to rendezvous hashing. */
#define SEL_MAX_REHASH 64

/* Returns the 'k'-th rehash of flow hash 'hash' (a splitmix64 step). */
static uint64_t
rehash(uint64_t hash, uint32_t k)
{
    uint64_t z = hash + k * UINT64_C(0x9e3779b97f4a7c15);

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Picks for hash 'hash' among the 'k' eligible servers in 'cand' (k > 0),
 * through the table built by selection_update_table(), and stores the
 * chosen id in '*chosen'.
 *
 * The candidates of a flow are the table's entries for 'hash' and then for
 * its successive rehashes, so that its retries are stable and each one is
 * spread over the remaining servers in proportion to their weights. */
static void
pick_hashed(struct selection *sel, const struct selection_server servers[],
            const size_t *cand, size_t k, uint64_t hash,
            const uint32_t *rejected, size_t n_rejected, uint32_t *chosen)
{
    /* Every server in the table is healthy and of nonzero weight, so the
     * first one that has not rejected the flow is eligible. */
    for (uint32_t i = 0; i <= SEL_MAX_REHASH; i++) {
        uint32_t id;

        if (maglev_lookup(sel->table, i ? rehash(hash, i) : hash, &id)
            && !is_rejected(id, rejected, n_rejected)) {
            if (i) {
                sel->stats.walks++;
            }
            *chosen = id;
            return;
        }
    }

    /* Most of the table has rejected the flow, or the eligible servers own
     * no slot (their weights are tiny next to the others'): rendezvous
     * (highest random weight) choice among the eligible servers. */
    uint64_t best_score = 0;
    for (size_t i = 0; i < k; i++) {
        uint32_t id = servers[cand[i]].id;
        uint64_t score = rehash(hash ^ id, SEL_MAX_REHASH + 1);

        if (!i || score > best_score) {
            best_score = score;
            *chosen = id;
        }
    }
    sel->stats.walks++;
}

/* Picks one of the 'n' servers in 'servers' for the flow 'cp' with the
 * algorithm of 'sel', skipping servers that are unhealthy, drained (weight
 * 0) or among the 'n_rejected' ids in 'rejected' (the servers that have
 * already rejected this flow).  'cp' may be NULL except for the `hash` and
 * `source` algorithms.
 *
 * Returns 0 and stores the chosen server's id in '*chosen', ENOENT if no
 * server is eligible, or EINVAL if 'cp' is missing or, for `hash` and
 * `source`, the ids of the healthy servers are not unique or more than
 * MAGLEV_DEFAULT_SIZE. */
int
selection_pick(struct selection *sel,
               const struct selection_server servers[], size_t n,
               const struct flow_key *cp,
               const uint32_t *rejected, size_t n_rejected,
               uint32_t *chosen)
{
    bool hashed = sel->algo == SEL_HASH || sel->algo == SEL_SOURCE;
    size_t k = 0;
    size_t pick;

    if (hashed && !cp) {
        goto invalid;
    }

    selection_reserve(sel, n);
    for (size_t i = 0; i < n; i++) {
        const struct selection_server *s = &servers[i];

        if (s->healthy && s->weight
            && !is_rejected(s->id, rejected, n_rejected)) {
            sel->cand[k++] = i;
        }
    }

    if (hashed && selection_update_table(sel, servers, n)) {
        goto invalid;
    }
    if (!k) {
        sel->stats.no_server++;
        COVERAGE_INC(selection_no_server);
        return ENOENT;
    }

    switch (sel->algo) {
    case SEL_RANDOM:
        pick = sel->cand[selection_random(sel) % k];
        break;

    case SEL_WEIGHTED_RANDOM:
        pick = pick_weighted(sel, servers, sel->cand, k);
        break;

    case SEL_NEAREST: {
        size_t n_near = 0;

        for (size_t i = 0; i < k; i++) {
            if (servers[sel->cand[i]].near) {
                sel->cand[n_near++] = sel->cand[i];
            }
        }
        pick = pick_weighted(sel, servers, sel->cand, n_near ? n_near : k);
        break;
    }

    case SEL_LEAST_CONNECTIONS:
    case SEL_LOWEST_LATENCY:
        k = keep_minimum(sel, servers, sel->cand, k);
        /* Fall through. */
    case SEL_ROUND_ROBIN:
        pick = next_in_id_order(sel, servers, sel->cand, k);
        break;

    case SEL_HASH:
    case SEL_SOURCE:
        pick_hashed(sel, servers, sel->cand, k,
                    (sel->algo == SEL_HASH ? selection_hash_cp(cp)
                     : selection_hash_client(cp)),
                    rejected, n_rejected, chosen);
        sel->stats.picks++;
        return 0;

    default:
        OVS_NOT_REACHED();
    }

    *chosen = servers[pick].id;
    sel->has_last = true;
    sel->last_id = *chosen;
    sel->stats.picks++;
    return 0;

invalid:
    sel->stats.invalid++;
    COVERAGE_INC(selection_invalid);
    return EINVAL;
}
