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
 * maglev: a Maglev consistent-hashing lookup table (Eisenbud et al., "Maglev:
 * A Fast and Reliable Software Network Load Balancer", NSDI 2016, section
 * 3.4), mapping a 64-bit flow hash to one of a set of backends (server node
 * ids), as used by the `hash` VIP mode (PROTOCOL.md section 4) and by the
 * `hash` and `source` selection algorithms (lib/selection.h).
 *
 * Every backend has a permutation of the table's slots, given by an offset
 * and a skip derived from two hashes of its id; backends take turns claiming
 * their next free preferred slot until the table is full.  A backend with
 * weight 'w' takes a turn in 'w / max_weight' of the rounds, so it ends up
 * with a share of the slots proportional to its weight; weight 0 means
 * drained (no slot at all).
 *
 * The table is a pure function of the set of (id, weight) pairs and the
 * table size: it does not depend on the order in which the backends are
 * given, on the host's byte order or CPU features (the hashes are OVS's
 * portable Murmur3 primitives, never the CRC32-accelerated ones), so every
 * node that builds it from the same set gets the same table.  Changing this
 * mapping is a protocol change: nodes running different versions would send
 * one flow to different servers.
 *
 * Pure: no I/O, no global state.  A table is immutable once built, so any
 * number of threads may look up in it at once.
 */
#ifndef OVSLB_MAGLEV_H
#define OVSLB_MAGLEV_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Table size of PROTOCOL.md section 4.  Must be prime; the Maglev paper
 * recommends a size well above 100 times the number of backends. */
#define MAGLEV_DEFAULT_SIZE 65537

/* Largest table size accepted (bounds the memory a table may take: 4 bytes
 * per slot). */
#define MAGLEV_MAX_SIZE (1u << 24)

struct maglev_backend {
    uint32_t id;                /* Server node id; unique within a table. */
    uint32_t weight;            /* Relative share; 0 means drained. */
};

struct maglev;

struct maglev *maglev_create(const struct maglev_backend *, size_t n,
                             uint32_t size);
void maglev_destroy(struct maglev *);

bool maglev_lookup(const struct maglev *, uint64_t hash, uint32_t *id);

uint32_t maglev_get_size(const struct maglev *);
size_t maglev_n_backends(const struct maglev *);
bool maglev_get_slot(const struct maglev *, uint32_t slot, uint32_t *id);

bool maglev_is_prime(uint32_t);
void maglev_permutation(uint32_t id, uint32_t size,
                        uint32_t *offset, uint32_t *skip);

#endif /* maglev.h */
