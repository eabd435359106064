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
 * hash-vips: the `hash` VIPs of an LB node in its switch (PROTOCOL.md §4).
 *
 * For each port of each hash VIP the node keeps the VIP's Maglev table over
 * its enabled, healthy servers, weighted, of maglev_table_size slots, and
 * one flow per slot in LB_TABLE_HASH (flows/hash-slots.h): in steady state
 * every segment, SYN or not, goes to its server in the switch, with no
 * packet-in and no state.
 *
 * When the table changes (a server added, removed, disabled, reweighted,
 * or its health changed), only the slots whose server changed are
 * rewritten, and those of them that had a server are *pinned*: their
 * segments go through the connection tracker, and for lease_ms after the
 * change (the window) those that find no mapping there go to the
 * controller, whose ingress asks the flow's trackers (MAPPING_QUERY): a
 * connection that a server published before the change keeps that server
 * (the MAPPING is committed to the connection tracker), one nobody knows
 * goes to the slot's new server (hash_vips_target()).  The window stays
 * open as long as the node holds a mapping of the VIP, so that a mapping
 * whose connection-tracker entry lapsed is committed again on its next
 * packet.  When it closes, the pins are removed.
 *
 * A UDP VIP port's slots are never pinned: each of its slot flows commits
 * the flows it forwards to the connection tracker, and a flow with an entry
 * keeps its server for as long as it stays active (flows/hash-slots.h).
 * The node adds one flow per server out of service for the port (down,
 * disabled, or its service of the port down), which sends that server's
 * flows back to their slots; a server only taken out of the VIP keeps its
 * flows while they last.
 *
 * Part of the daemon (controller-private.h).  Single-threaded.
 */
#ifndef OVSLB_HASH_VIPS_H
#define OVSLB_HASH_VIPS_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

struct controller;
struct ds;
struct flow_key;
struct hash_vips;
struct metrics;
struct ofctrl;

struct hash_vips *hash_vips_create(void);
void hash_vips_destroy(struct hash_vips *);

void hash_vips_update(struct controller *, long long int now);
void hash_vips_run(struct controller *, long long int now);
bool hash_vips_is_pending(const struct hash_vips *);
long long int hash_vips_next_deadline(const struct hash_vips *,
                                      long long int now);

bool hash_vips_target(const struct hash_vips *, const struct flow_key *cp,
                      long long int now, struct in6_addr *server_addr);
uint16_t hash_vips_id(const struct hash_vips *, const struct in6_addr *addr,
                      uint16_t port, uint8_t proto, uint32_t *n_slots,
                      bool *by_source);

void hash_vips_format(const struct hash_vips *, const struct ofctrl *,
                      long long int now, struct ds *);
void hash_vips_put_metrics(const struct hash_vips *, struct metrics *);

#endif /* hash-vips.h */
