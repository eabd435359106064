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
 * server-pipeline: the static OpenFlow pipeline of a server node's ovslb
 * bridge, owned by ovslb-agent (DESIGN.md "Data path", PROTOCOL.md §3, §5).
 *
 * The bridge has three ports: the flow-based Geneve port (from and to the LB
 * nodes), LOCAL (the host's own stack, where the VIPs live on lo) and the
 * translation port, an internal port that the agent reads and writes with
 * libpcap.  Every TCP segment of a VIP port goes through the agent, in both
 * directions:
 *
 *   Geneve, to VIP:port -> table INGRESS: eth_src := the MAC of the LB node
 *       whose underlay address is tun_src (server_pipeline_node_mac(), node
 *       0 if unknown), eth_dst := SERVER_PIPELINE_XLATE_MAC -> translation
 *       port.  The agent learns the connection's last ingress node from the
 *       source MAC, so no packet-in is needed per packet.
 *   LOCAL, from VIP:port -> eth_src := SERVER_PIPELINE_FROM_SERVER_MAC,
 *       eth_dst := SERVER_PIPELINE_XLATE_MAC -> translation port.
 *   translation port, to a VIP -> eth_dst := LOCAL's MAC -> LOCAL.
 *   translation port, anything else -> table EGRESS: eth_dst names the
 *       egress LB node the agent chose (server_pipeline_node_mac()) ->
 *       tun_dst := that node's underlay address -> Geneve.
 *   Geneve, to a `hash` VIP port (PROTOCOL.md §4) -> eth_dst := LOCAL's
 *       MAC -> LOCAL: the server's own stack answers the SYN, nothing is
 *       translated, the agent sees nothing.
 *   LOCAL, from a `hash` VIP port -> multipath (symmetric_l3l4, hrw) over
 *       the healthy LB nodes into reg0 -> table EGRESS_HASH: reg0 names
 *       the egress node -> tun_dst := its underlay address -> Geneve.  The
 *       switch picks the egress of every reply segment, with no agent.
 *       A UDP VIP port's datagrams (all of `hash` mode) take the same two
 *       ways, hashed with their ports (symmetric_l3l4+udp); so do the IP
 *       fragments to and from a UDP VIP's address, which carry no port
 *       the switch matches.
 *   Geneve with tun_id SERVER_PIPELINE_OWNER_VNI, to a `hash` VIP port: a
 *       segment another server node redirected here, its owner (below) ->
 *       LOCAL, never redirected again.
 *   Geneve, to a `hash` VIP port, not a SYN, while the agent holds
 *       ownership entries ('owner_check'; agent/owners.h) -> conntrack
 *       lookup in zone SERVER_PIPELINE_OWNER_ZONE, no commit -> table
 *       OWNER: an entry whose mark names a peer server
 *       (server_pipeline_owner_mark()) -> tun_dst := the peer's underlay
 *       address, tun_id := SERVER_PIPELINE_OWNER_VNI -> Geneve, the inner
 *       packet unchanged; anything else -> LOCAL.  One flow per peer,
 *       whatever the number of connections: the agent commits one
 *       conntrack entry per connection another server owns, from the
 *       ownership gossip (PROTOCOL.md §4).
 *   Everything else is dropped.
 *
 * SERVER_PIPELINE_XLATE_MAC is never the translation port's own address, so
 * the host's stack drops its copy of what OVS sends to that port as
 * addressed to another host (PACKET_OTHERHOST), while the agent's packet
 * socket still sees it: no tc filter is needed on that port.
 *
 * Pure.  Single-threaded.
 */
#ifndef OVSLB_SERVER_PIPELINE_H
#define OVSLB_SERVER_PIPELINE_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openvswitch/types.h"

struct pipeline;

/* Tables. */
#define SERVER_PIPELINE_TABLE_CLASSIFY 0
#define SERVER_PIPELINE_TABLE_INGRESS 10
#define SERVER_PIPELINE_TABLE_EGRESS 20
#define SERVER_PIPELINE_TABLE_EGRESS_HASH 21
#define SERVER_PIPELINE_TABLE_OWNER 22

/* Ownership redirects: the conntrack zone of their entries, and the Geneve
 * VNI that marks a redirected segment ("ow"). */
#define SERVER_PIPELINE_OWNER_ZONE 0x6f77
#define SERVER_PIPELINE_OWNER_VNI 0x6f77

/* Default OpenFlow port numbers (LAB.md); the port names are node
 * settings (node-settings.h). */
#define SERVER_PIPELINE_GENEVE_OFPORT 100
#define SERVER_PIPELINE_XLATE_OFPORT 200

/* MACs that the pipeline and the agent agree on (locally administered,
 * unicast).  Node MACs are 02:6f:76:00:HH:LL for node ids 0 to 65535. */
#define SERVER_PIPELINE_XLATE_MAC \
    ((struct eth_addr) ETH_ADDR_C(02,6f,76,ff,00,01))
#define SERVER_PIPELINE_FROM_SERVER_MAC \
    ((struct eth_addr) ETH_ADDR_C(02,6f,76,ff,00,02))
#define SERVER_PIPELINE_AGENT_MAC \
    ((struct eth_addr) ETH_ADDR_C(02,6f,76,ff,00,03))
#define SERVER_PIPELINE_MAX_NODE_ID 65535

/* A VIP whose TCP ports the node serves. */
struct server_pipeline_vip {
    struct in6_addr addr;       /* IPv4 as v4-mapped. */
    const uint16_t *ports;      /* Host byte order: tracked ports. */
    size_t n_ports;
    const uint16_t *hash_ports; /* Ports of `hash` mode. */
    size_t n_hash_ports;
    const uint16_t *udp_ports;  /* UDP ports (all of `hash` mode). */
    size_t n_udp_ports;
};

/* An LB node that may be an ingress or an egress. */
struct server_pipeline_lb {
    uint32_t node_id;           /* 1 to SERVER_PIPELINE_MAX_NODE_ID. */
    struct in6_addr south;      /* Underlay address, IPv4 as v4-mapped. */
};

/* Another server node, the owner of connections that reach this one. */
struct server_pipeline_peer {
    uint32_t node_id;           /* 0 to SERVER_PIPELINE_MAX_NODE_ID. */
    struct in6_addr underlay;   /* IPv4 as v4-mapped. */
};

struct server_pipeline_params {
    ofp_port_t geneve_port;
    ofp_port_t xlate_port;
    struct eth_addr local_mac;  /* The bridge's LOCAL port. */
    const struct server_pipeline_vip *vips;
    size_t n_vips;
    const struct server_pipeline_lb *lbs;
    size_t n_lbs;
    /* The egress LB nodes of hash VIPs' replies, a subset of 'lbs' (the
     * healthy ones), by node id. */
    const uint32_t *egress_lbs;
    size_t n_egress_lbs;
    /* Ownership redirects of hash VIPs' segments: whether to look them up,
     * and the peers to redirect to. */
    bool owner_check;
    const struct server_pipeline_peer *peers;
    size_t n_peers;
};

void server_pipeline_build(const struct server_pipeline_params *,
                           struct pipeline *);

struct eth_addr server_pipeline_node_mac(uint32_t node_id);
uint32_t server_pipeline_owner_mark(uint32_t node_id);
bool server_pipeline_mac_to_node(const struct eth_addr, uint32_t *node_id);

#endif /* server-pipeline.h */
