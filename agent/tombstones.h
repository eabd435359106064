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
 * tombstones: the handshakes of the connections an agent has forgotten.
 *
 * A translation entry goes 'linger_ms' after its connection is over (the
 * kernel forgot the socket, or it closed and stayed idle).  A flow tracker
 * may still retry the connection's CONN_REQ after that: its CONNECT retries
 * last up to the handshake timeout (or a lease after the server's last
 * publication), and a retry looks exactly like a first request.  Without
 * the entry the agent would take it for a new connection and fabricate a
 * SYN: the server would open a socket that nobody is at the other end of.
 * A tombstone keeps, for a while after the entry went, what tells that
 * retry apart: the CP and the two ISNs of its handshake (the client's and
 * the LB tier's), 96 bytes (with its hash node and timer) where the entry
 * had a few hundred.
 *
 * Tombstones expire through a deadline queue (lib/deadline-queue.h): every
 * one lives the same time, so they come in order, O(1) per insertion and
 * expiry.  At 'max' the one that would expire first goes to make room (the
 * caller counts them).
 *
 * Pure: no I/O, no clock (time is passed in).  Single-threaded.
 */
#ifndef OVSLB_TOMBSTONES_H
#define OVSLB_TOMBSTONES_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "deadline-queue.h"
#include "flow-key.h"
#include "openvswitch/hmap.h"

struct tombstones {
    struct hmap by_cp;          /* "struct tombstone"s by flow_key_hash(). */
    struct deadline_queue expiry;   /* Their timers. */
    size_t max;                 /* Bound; 0: keep none. */
};

void tombstones_init(struct tombstones *);
void tombstones_destroy(struct tombstones *);
size_t tombstones_set_max(struct tombstones *, size_t max);

size_t tombstones_add(struct tombstones *, const struct flow_key *cp,
                      uint32_t client_isn, uint32_t isn_lb,
                      long long int until);
bool tombstones_match(const struct tombstones *, const struct flow_key *cp,
                      uint32_t client_isn, uint32_t isn_lb);
bool tombstones_remove(struct tombstones *, const struct flow_key *cp);
void tombstones_expire(struct tombstones *, long long int now);
long long int tombstones_next_expiry(const struct tombstones *);
size_t tombstones_count(const struct tombstones *);

#endif /* tombstones.h */
