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
 * hash-slots: a `hash` VIP's Maglev table (lib/maglev.h) in an LB node's
 * switch, so that every packet of every flow goes to its server with no
 * packet-in and no per-connection state (PROTOCOL.md §4: "flows rendered
 * from the table").
 *
 * Table 0 of the LB pipeline (flows/lb-pipeline.h) sends a hash VIP's
 * client segments through OVS's multipath action: a symmetric hash of the
 * IP addresses, protocol and ports (symmetric_l3l4+udp, basis 0), or for a
 * VIP of algorithm source of the client's address alone (nw_src: every
 * connection of a client goes to the same server), modulo
 * the table size, into NXM_NX_REG0[0..15], with the VIP's hash id in
 * NXM_NX_REG1[0..15]; table LB_TABLE_HASH then has one flow per slot that
 * tunnels the packet to the slot's server.  The slot is a function of the
 * packet alone, so every LB node sends a flow to the same server, whatever
 * the edge router's ECMP does, as long as they share the server set, the
 * table size and the switch's hash function.
 *
 * hash_slots_of() computes in the daemon the slot that the switch computes
 * for a flow, with libopenvswitch's own functions, so that a daemon can
 * tell which flows a change of the table moves.  The switch and the daemon
 * must therefore agree on libopenvswitch's hash: OVS built for the same
 * CPU features everywhere (hash_add() uses the CPU's CRC32 instruction when
 * OVS is built with SSE 4.2).  tests/lb-hash.sh checks the two against a
 * real ovs-vswitchd.
 *
 * multipath indexes at most 65,536 links: a table larger than
 * HASH_SLOTS_MAX cannot be rendered.  A table of S slots is S flows per hash
 * VIP in every LB node's switch; a change of the server set rewrites only
 * the slots whose server changed (ofctrl sends the difference), about 1/N
 * of them for one server of N.
 *
 * Pinned slots (PROTOCOL.md §4: connections mapped before a change of the
 * server set keep their server).  A slot whose server changed is "pinned"
 * in the node that changed it, with one more flow above its slot flow
 * (HASH_SLOTS_PRIORITY_PINNED, reg2 = 0): every segment goes through the
 * connection tracker to LB_TABLE_HASH_CT.  There a SYN is committed with
 * ct_mark LB_CT_MARK_HASH_NEW (which also retires the mapping of an
 * earlier connection on the same client port) and goes back to
 * LB_TABLE_HASH with reg2 = 1, that is, to the slot's own flow and new
 * server, as do the later segments of that connection, with no
 * controller; an entry whose ct_mark names a server (a mapping the
 * controller committed) sends the segment there.
 * The rest goes to LB_TABLE_HASH_MISS: to the controller while the VIP's
 * window is open (one flow per VIP, hash_slots_window_match_init()),
 * which asks the flow's owner and commits the answer; otherwise back to
 * the slot's own flow too.
 *
 * UDP VIPs are never pinned: their flows keep their server by the
 * connection tracker entry that every slot flow commits (a UDP flow has no
 * start that a pin could catch, and no socket that an agent publishes).
 * Table 0 sends their datagrams through the tracker to LB_TABLE_HASH_UDP
 * (lb-pipeline.h), which forwards a flow with an entry to its server and
 * the rest to its slot flow here: hash_slots_udp_server_actions(), matched
 * by hash_slots_match_init() with IPPROTO_UDP.  The controller adds to
 * LB_TABLE_HASH_UDP, per VIP and per server out of service for it, a flow
 * (hash_slots_out_of_service_match_init()) that sends that server's flows
 * back to their slot, whose flow commits them again with its own server.
 *
 * Pure: builds a 'struct pipeline' or flow texts.
 */
#ifndef OVSLB_HASH_SLOTS_H
#define OVSLB_HASH_SLOTS_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openvswitch/types.h"

struct flow_key;
struct maglev;
struct match;
struct pipeline;

/* Most slots the switch can index (multipath's 16-bit link number). */
#define HASH_SLOTS_MAX 65536

/* A server of a hash VIP: its node id (the Maglev backend id) and its
 * underlay address. */
struct hash_slots_server {
    uint32_t id;
    struct in6_addr underlay;   /* IPv4 as v4-mapped. */
};

/* Priorities in LB_TABLE_HASH. */
#define HASH_SLOTS_PRIORITY 100
#define HASH_SLOTS_PRIORITY_PINNED 110
/* Priority of a VIP's window flow in LB_TABLE_HASH_MISS. */
#define HASH_SLOTS_PRIORITY_WINDOW 50
/* Priority of an out-of-service flow in LB_TABLE_HASH_UDP. */
#define HASH_SLOTS_PRIORITY_OUT_OF_SERVICE 110

const char *hash_slots_fields(bool by_source);
uint32_t hash_slots_of(const struct flow_key *, uint32_t n_slots,
                       bool by_source);
char *hash_slots_match(uint16_t hash_id, uint32_t slot);
char *hash_slots_server_actions(const struct in6_addr *underlay,
                                ofp_port_t tunnel_port);
char *hash_slots_udp_server_actions(const struct in6_addr *underlay,
                                    ofp_port_t tunnel_port);
void hash_slots_match_init(struct match *, uint16_t hash_id, uint32_t slot,
                           bool v4, uint8_t proto, bool pinned);
void hash_slots_out_of_service_match_init(struct match *, uint16_t hash_id,
                                          const struct in6_addr *underlay);
char *hash_slots_out_of_service_actions(void);
char *hash_slots_pinned_actions(void);
void hash_slots_window_match_init(struct match *, uint16_t hash_id);
char *hash_slots_window_actions(void);
void hash_slots_build(uint16_t hash_id, uint8_t proto, bool v4,
                      const struct maglev *,
                      const struct hash_slots_server *, size_t n_servers,
                      ofp_port_t tunnel_port, struct pipeline *);

#endif /* hash-slots.h */
