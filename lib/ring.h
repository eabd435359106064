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
 * ring: the consistent-hash ring of PROTOCOL.md section 1, a pure function of
 * (a set of node ids, a 64-bit key, a number of virtual nodes).
 *
 * Each node is placed at 'vnodes' points of a 64-bit ring by a keyed hash of
 * (node id, vnode index).  A 64-bit position is owned by the node of the
 * first point at or after it (clockwise, wrapping around); ties between equal
 * points go to the lower node id.  On top of that:
 *
 *   - ring_trackers(): a flow's PFT and SFT, the first two distinct owners at
 *     flow_key_hash64() of its CP pair (section 1);
 *   - ring_egress(): a flow's egress node (section 5);
 *   - ring_server_checkers(): the two LB nodes that check a server node and
 *     send it LB_LIST (section 8);
 *   - ring_neighbours(): a node's predecessor and successor in node-id order,
 *     for health checks and edge announcement (sections 8 and 9).
 *
 * Every node and agent that builds a ring from the same set, key and vnodes
 * gets the same answers, whatever its CPU; ring_digest() lets nodes compare
 * their rings cheaply.  A ring is immutable once built: build a new one when
 * the set changes.
 *
 * Pure: no I/O, no global state.  Any thread may use a ring; a ring may be
 * shared between threads for reading.
 */
#ifndef OVSLB_RING_H
#define OVSLB_RING_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ds;
struct flow_key;
struct ring;

#define RING_DEFAULT_VNODES 64
#define RING_MAX_VNODES 1024    /* Largest 'vnodes' ring_create() accepts. */
#define RING_MAX_NODES 4096     /* Most distinct nodes in one ring. */

struct ring *ring_create(const uint32_t *nodes, size_t n, uint64_t key,
                         unsigned int vnodes);
void ring_destroy(struct ring *);

size_t ring_n_nodes(const struct ring *);
const uint32_t *ring_nodes(const struct ring *);
bool ring_contains(const struct ring *, uint32_t node);
unsigned int ring_vnodes(const struct ring *);

size_t ring_lookup_n(const struct ring *, uint64_t hash, uint32_t out[],
                     size_t n);
uint32_t ring_lookup(const struct ring *, uint64_t hash);

size_t ring_trackers(const struct ring *, const struct flow_key *,
                     uint32_t *pft, uint32_t *sft);
uint32_t ring_egress(const struct ring *, const struct flow_key *);
size_t ring_server_checkers(const struct ring *, uint32_t server,
                            uint32_t *first, uint32_t *second);
size_t ring_neighbours(const struct ring *, uint32_t node,
                       uint32_t *prev, uint32_t *next);

bool ring_equals(const struct ring *, const struct ring *);
uint64_t ring_digest(const struct ring *);
void ring_format(const struct ring *, struct ds *);

#endif /* ring.h */
