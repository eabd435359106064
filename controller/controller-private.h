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
 * controller-private: the state of the LB node's daemon (controller.h) that
 * its parts share, and the functions they call across files:
 *
 *   controller.c      the controller itself: life cycle, configuration,
 *                     run and wait, packet-ins, messages;
 *   lb-io.c           the lbnode core's requests, to the switch and the
 *                     network;
 *   static-flows.c    the static pipeline and meters in the switch;
 *   hash-vips.c       the hash VIPs' slot tables in the switch;
 *   health-control.c  health checking and gossip;
 *   aux-sockets.c     the sockets on the north address and the forwarding
 *                     port;
 *   edge-mac.c        the edge router's MAC, learnt from ARP;
 *   journal.c         the daemon's side of the journal (the node's store);
 *   bgp-control.c     the BGP speaker, towards the edge router;
 *   commands.c        the ovs-appctl commands and the metrics file.
 *
 * Only those files include this header.  Single-threaded.
 */
#ifndef OVSLB_CONTROLLER_PRIVATE_H
#define OVSLB_CONTROLLER_PRIVATE_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controller/controller.h"
#include "controller/lbnode.h"
#include "flows/pipeline.h"
#include "openvswitch/types.h"
#include "packets.h"

struct bgp_speaker;
struct cluster_snapshot;
struct ctl_sock;
struct hash_vips;
struct health;
struct health_io;
struct lb_actions;
struct node_daemon;
struct switch_conntrack;

/* The key under which the edge router's MAC is kept in the store's meta
 * table, so that a restarted controller addresses replies at once. */
#define EDGE_MAC_KEY "edge-mac"

struct controller {
    struct node_daemon *nd;
    struct lbnode *lb;
    uint64_t nd_seqno;
    bool configured;            /* lbnode has a configuration. */
    bool restored;              /* Journal read back (once, at start). */
    uint64_t journal_errors;
    uint64_t restored_records;

    ofp_port_t north_port;
    ofp_port_t tunnel_port;
    struct in6_addr north_addr;
    struct eth_addr own_mac;
    bool has_own_mac;
    struct eth_addr edge_mac;
    bool has_edge_mac;
    long long int next_arp;

    /* Health checking and gossip (PROTOCOL.md §8). */
    struct health *health;
    uint64_t health_seqno;      /* Of the last reconfiguration. */
    struct ctl_sock *north_sock;        /* On the north address, if it is
                                         * not the control address. */
    struct ctl_sock *south_sock;        /* On the south address, if it is
                                         * not the control address. */
    struct ctl_sock *reply_sock;        /* Where the message being handled
                                         * came in... */
    struct in6_addr reply_addr;         /* ...from whom... */
    uint16_t reply_port;                /* ...and from which port. */
    long long int next_heartbeat_journal;

    /* Connection publishing (PROTOCOL.md §6). */
    struct ctl_sock *fwd_sock;  /* PUBLISH_FWD, on the forwarding port. */
    uint64_t publish_wrong_port;        /* PUBLISH on the forwarding port or
                                         * PUBLISH_FWD on the control port:
                                         * dropped. */

    struct bgp_speaker *bgp;    /* NULL without a bgpd beside us. */
    char *bgp_key;              /* VIPs and gateway the speaker has. */

    struct lb_actions *actions; /* Packet-out actions, encoded once. */
    struct switch_conntrack *ct;        /* The switch's TCP sequence
                                         * checking, kept off. */

    struct hash_vips *hash_vips;        /* hash-vips.h. */

    struct pipeline pipeline;   /* Installed static flows. */
    bool static_flows_built;    /* 'pipeline' is the current
                                 * configuration's. */
    bool flows_changed;         /* Commit at the end of this pass. */

    /* Counters of the driver. */
    uint64_t packet_ins_syn;
    uint64_t packet_ins_other;
    uint64_t packet_ins_arp;
    uint64_t msgs_no_route;     /* Messages to nodes without an address. */
    uint64_t packet_outs_failed;
    uint64_t ct_flushes_failed;
};

/* controller.c. */

void controller_reconfigure(struct controller *);

/* lb-io.c. */

extern const struct lbnode_io lb_io;
void lb_io_send_north(void *c, const void *frame, size_t len);

/* static-flows.c. */

void static_flows_install(struct controller *);

/* health-control.c. */

extern const struct health_io health_control_io;
void health_control_configure(struct controller *,
                              const struct cluster_snapshot *, uint32_t self,
                              uint64_t ring_key);
void health_control_run(struct controller *, long long int now);

/* aux-sockets.c. */

void aux_sockets_update(struct controller *);

/* edge-mac.c. */

void edge_mac_learn(struct controller *, struct eth_addr);
ovs_be32 edge_mac_default_gateway(void);
void edge_mac_send_arp_request(struct controller *, long long int now);
bool edge_mac_arp_from_gateway(const void *frame, size_t len);

/* journal.c. */

void journal_write(void *c, const char *table, const struct flow_key *,
                   const void *data, size_t len, long long int ttl_ms);
void journal_restore(struct controller *);
void journal_heartbeats(struct controller *, long long int now);

/* bgp-control.c. */

void bgp_control_update(struct controller *, const struct cluster_snapshot *,
                        uint32_t self);

/* commands.c. */

void commands_register(struct controller *);
void commands_write_metrics(struct controller *, long long int now);

#endif /* controller/controller-private.h */
