/*
 * lb-pipeline: the OpenFlow pipeline of an LB node's ovslb bridge (DESIGN.md
 * "Data path").
 *
 *   table 0   classify: client traffic to a VIP port from the north port ->
 *             table 10; Geneve from the servers -> table 30; ARP from the
 *             north port -> LOCAL and the controller (which learns the edge
 *             router's MAC); other north <-> LOCAL traffic (the node's own
 *             north address); everything else dropped.
 *   table 10  ingress mapping: one flow per established connection, added
 *             by the controller (LB_TABLE_INGRESS, priority
 *             LB_PRIO_MAPPING); a miss -> table 20.
 *   table 20  miss -> controller, SYNs and other segments through
 *             separate meters (LB_METER_SYN, LB_METER_OTHER: OpenFlow meters
 *             that the controller sets, since controller_rate_limit does not
 *             apply to the bridge's management connection) and with
 *             different userdata (LB_USERDATA_SYN, LB_USERDATA_OTHER), so
 *             that a SYN flood cannot starve the ACKs of handshakes in
 *             progress, in OVS or in the controller.
 *   table 30  egress: Geneve from a configured server node whose inner
 *             source is one of its VIP ports -> rewrite the Ethernet header
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
#define LB_TABLE_MISS 20
#define LB_TABLE_EGRESS 30

#define LB_PRIO_MAPPING 100

#define LB_METER_SYN 1
#define LB_METER_OTHER 2

#define LB_USERDATA_SYN 1
#define LB_USERDATA_OTHER 2
#define LB_USERDATA_ARP 3

struct lb_pipeline_vip {
    struct in6_addr addr;       /* IPv4 as v4-mapped. */
    uint16_t port;
    uint8_t proto;
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
