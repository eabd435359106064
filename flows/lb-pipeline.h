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
 * lb-pipeline: the OpenFlow pipeline of an LB node's ovslb bridge (DESIGN.md
 * "Data path").
 *
 *   table 0   classify: client traffic to a VIP port from the north port ->
 *             table 10 (a hash VIP's: tables 12 and 15, below); the IP
 *             fragments of datagrams to a UDP VIP's address, which carry no
 *             port, through the connection tracker, which reassembles them,
 *             then to table 15 by their datagram's tracker entry, or for a
 *             new flow by the client address's slot; Geneve from the
 *             servers -> table 30; ARP from the
 *             north port -> LOCAL and the controller (which learns the edge
 *             router's MAC); other north <-> LOCAL traffic (the node's own
 *             north address); everything else dropped.
 *   table 10  ingress: a client SYN is committed to the switch's connection
 *             tracker (zone LB_CT_ZONE) with ct_mark 0, which retires the
 *             server of an earlier connection that reused the client port,
 *             and goes to the controller through its own meter and with its
 *             own userdata (LB_METER_SYN, LB_USERDATA_SYN: OpenFlow meters,
 *             since controller_rate_limit does not apply to the bridge's
 *             management connection); any other segment goes through the
 *             connection tracker to table 11.
 *   table 11  ingress by conntrack: an established entry whose ct_mark
 *             names a server (its IPv4 underlay address; LB_CT_MARK_V6
 *             means the IPv6 underlay address is in ct_label) is
 *             tunnelled to that server with no controller and no flow of
 *             its own; a new entry, an invalid one or ct_mark 0 -> table
 *             20.  The controller commits ct_mark with the packet-out that
 *             forwards a connection's first mapped packet (DESIGN.md, cost
 *             rules: no OpenFlow table change per connection).
 *   table 12  hash: a `hash` VIP's client segments come here from table 0
 *             with their slot of the VIP's Maglev table in reg0 and the
 *             VIP's hash id in reg1 (multipath: flows/hash-slots.h); one
 *             flow per slot tunnels them to the slot's server, with no
 *             controller and no state; anything else is dropped.  (Only in
 *             a pipeline with a hash VIP.)
 *   table 13  a pinned hash slot's segments after the connection
 *             tracker: a SYN is committed with ct_mark LB_CT_MARK_HASH_NEW
 *             and goes back to table 12 with reg2 = 1 (its slot's
 *             server), as do the later segments of such a connection; an
 *             entry whose ct_mark names a server goes there, as in table
 *             11; the rest -> table 14.
 *   table 14  a pinned slot's miss: to table 20 while its VIP's change
 *             window is open (a flow per VIP, from the controller), else
 *             back to table 12 with reg2 = 1, to the slot's own flow
 *             (flows/hash-slots.h, "Pinned slots").
 *   table 15  a `hash` UDP VIP's datagrams, which table 0 sent through
 *             the connection tracker (after multipath, as for table 12):
 *             UDP has no handshake that marks a flow's start, and a server
 *             has no connected socket that its agent could publish, so
 *             every LB node remembers the UDP flows it forwards.  A flow
 *             with an entry goes to the entry's server (ct_mark, or
 *             ct_label with LB_CT_MARK_V6, as in table 11), unless its
 *             server is out of service for the VIP (a flow per VIP and
 *             such server, from the controller: hash-slots.h); a flow
 *             without one goes to table 12, whose slot flow commits it
 *             with its server.  A flow thus keeps its server across
 *             changes of the server set for as long as it stays active
 *             (the tracker forgets an idle UDP entry after its timeout).
 *   table 20  miss -> controller through LB_METER_OTHER with
 *             LB_USERDATA_OTHER, so that a SYN flood cannot starve the
 *             ACKs of handshakes in progress, in OVS or in the controller.
 *   table 30  egress: Geneve from a configured server node whose inner
 *             source is one of its VIP ports (or, for a UDP VIP's address,
 *             an IP fragment from it) -> rewrite the Ethernet header
 *             towards the edge router -> north port; anything else dropped
 *             (and counted by the flow's statistics).
 *
 * Pure: builds a 'struct pipeline'.
 */
#ifndef OVSLB_LB_PIPELINE_H
#define OVSLB_LB_PIPELINE_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include "openvswitch/types.h"

struct pipeline;

#define LB_TABLE_CLASSIFY 0
#define LB_TABLE_INGRESS 10
#define LB_TABLE_INGRESS_CT 11
#define LB_TABLE_HASH 12
#define LB_TABLE_HASH_CT 13
#define LB_TABLE_HASH_MISS 14
#define LB_TABLE_HASH_UDP 15
#define LB_TABLE_MISS 20
#define LB_TABLE_EGRESS 30

/* The connection-tracker zone of the ingress mappings. */
#define LB_CT_ZONE 1

/* ct_mark of an ingress mapping whose server has an IPv6 underlay address,
 * which is then in ct_label (an IPv4 underlay address is ct_mark itself;
 * 0.0.0.1 is none). */
#define LB_CT_MARK_V6 1

/* ct_mark of a connection whose SYN came through a pinned hash slot after
 * its change: it belongs to the slot's new server (flows/hash-slots.h). */
#define LB_CT_MARK_HASH_NEW 2

#define LB_METER_SYN 1
#define LB_METER_OTHER 2

#define LB_USERDATA_SYN 1
#define LB_USERDATA_OTHER 2
#define LB_USERDATA_ARP 3

struct lb_pipeline_vip {
    struct in6_addr addr;       /* IPv4 as v4-mapped. */
    uint16_t port;
    uint8_t proto;
    uint16_t hash_id;           /* 0: a tracked VIP; otherwise a hash VIP's
                                 * id in table LB_TABLE_HASH's reg1. */
    uint32_t hash_slots;        /* A hash VIP's table size (1 to
                                 * HASH_SLOTS_MAX). */
    bool hash_by_source;        /* A hash VIP hashes the client's address
                                 * alone (algorithm source). */
};

struct lb_pipeline_params {
    ofp_port_t north_port;
    ofp_port_t tunnel_port;
    bool has_macs;              /* Egress rewrites need both MACs. */
    struct eth_addr own_mac;
    struct eth_addr edge_mac;
    const struct lb_pipeline_vip *vips;
    size_t n_vips;
    const struct in6_addr *servers;     /* Underlay addresses. */
    size_t n_servers;
};

void lb_pipeline_build(const struct lb_pipeline_params *, struct pipeline *);

#endif /* lb-pipeline.h */
