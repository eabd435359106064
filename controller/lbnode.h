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
 * lbnode: the protocol core of an LB node (PROTOCOL.md §1, §2): the ingress
 * role (packet-ins of flows without a mapping, per-flow buffers, mappings),
 * the flow-tracker roles (PFT and SFT: handshake state, SYN/ACK, ACK
 * validation, server selection, retries, the final RST) and the
 * bookkeeping that the daemon's inspection commands show.
 *
 * Pure: no sockets, no OpenFlow, no clock.  Time comes in as 'now' (ms of
 * the daemon's monotonic clock), which every timer uses.  SYN cookies
 * alone need a clock that all LB nodes share, since one node may make a
 * cookie and another check it (syn-cookie.h): they use the wall clock,
 * 'now' plus the offset the driver gives lbnode_set_clock_offset().
 * Everything the core wants done goes out through the callbacks of 'struct
 * lbnode_io', which the daemon maps to its control socket and OpenFlow
 * connection and the simulator to its message bus.  Messages a node
 * sends to itself are queued and handled, in the order sent, before the
 * function that led to them returns.
 *
 * Single-threaded: one thread owns an lbnode.
 */
#ifndef OVSLB_LBNODE_H
#define OVSLB_LBNODE_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ctl-msg.h"
#include "flow-key.h"
#include "openvswitch/types.h"

struct dp_packet;
struct ds;
struct metrics;

/* What the core asks its driver to do. */
struct lbnode_io {
    /* Send 'msg' (type and body filled in) to node 'dst' (an LB node or a
     * server node), which is never this node: a PUBLISH_FWD to the
     * forwarding port, everything else to the control port. */
    void (*send)(void *aux, uint32_t dst, struct ctl_msg *msg);

    /* Send the Ethernet frame 'frame' out of the north port. */
    void (*send_north)(void *aux, const void *frame, size_t len);

    /* The ingress mapping of 'cp' to the server node whose underlay
     * address is 'server_addr' is known.  The switch learns it from the
     * next forward() of the flow, which commits it to its connection
     * tracker; a driver may do nothing here. */
    void (*install_mapping)(void *aux, const struct flow_key *cp,
                            const struct in6_addr *server_addr);

    /* Make the switch forget the ingress mapping of 'cp' (its lease lapsed,
     * or a new connection reuses the CP of an old one). */
    void (*remove_mapping)(void *aux, const struct flow_key *cp);

    /* Forward the client's frame 'frame' of 'cp' (a buffered packet, or
     * one that missed the switch's mapping) through the tunnel to
     * 'server_addr', and make the switch send the flow's later packets
     * there by itself. */
    void (*forward)(void *aux, const struct flow_key *cp,
                    const void *frame, size_t len,
                    const struct in6_addr *server_addr);

    /* Store in '*server_addr' the underlay address of the server to which
     * the switch's table sends 'cp', a flow of a hash VIP, and return
     * true; false if it has none, or if 'settled' and the table changed
     * too recently for the servers to have published what the change
     * moved.  May be NULL (no hash VIP). */
    bool (*hash_target)(void *aux, const struct flow_key *cp, bool settled,
                        struct in6_addr *server_addr);
};

/* A VIP port as the core sees it. */
struct lbnode_vip_server {
    uint32_t node;
    uint32_t weight;
};

struct lbnode_vip {
    char *name;
    struct in6_addr addr;
    uint16_t port;              /* Host byte order. */
    uint8_t proto;
    int algorithm;              /* enum selection_algo. */
    uint16_t mss;
    uint8_t wscale;
    uint8_t ttl;
    bool enabled;
    bool hash;                  /* A `hash` VIP (PROTOCOL.md §4): the
                                 * switch picks its servers; the core
                                 * answers for the flows of pinned slots
                                 * (controller/hash-vips.h). */
    struct lbnode_vip_server *servers;
    size_t n_servers;
};

/* The zones of LB nodes and servers (free-form names, NULL or "" for
 * none) serve the "nearest" algorithm: a server is near a flow if its zone
 * is that of the flow's ingress, the LB node that receives the client's
 * packets and tunnels them to the server (this node's own zone if the
 * ingress is not known). */
struct lbnode_lb {
    uint32_t node;
    struct in6_addr north, south, control;
    bool healthy;
    const char *zone;
};

struct lbnode_server {
    uint32_t node;
    struct in6_addr underlay, control;
    bool healthy;
    const char *zone;
};

/* The configuration of the core, rebuilt by the daemon from the config
 * service.  lbnode_configure() copies what it needs. */
struct lbnode_config {
    uint32_t self;
    uint64_t ring_key;          /* Keyed hash of the ring (the same on
                                 * all nodes, and kept when the cluster key
                                 * is rotated: node_daemon_ring_key()). */
    const void *secret;         /* Cluster key: ISNs and SYN cookies (the
                                 * previous key's cookies stay valid after
                                 * a change). */
    size_t secret_len;
    unsigned int vnodes;

    const struct lbnode_lb *lbs;
    size_t n_lbs;
    const struct lbnode_server *servers;
    size_t n_servers;
    const struct lbnode_vip *vips;
    size_t n_vips;

    uint32_t buffer_packets;    /* Per pending flow. */
    uint32_t buffer_bytes;
    uint32_t buffer_timeout_ms;
    uint32_t syn_table_max;
    uint32_t syn_cookie_pct;
    uint32_t syn_cookie_rate;
    uint32_t lease_ms;          /* Lease of an established entry and of
                                 * an ingress mapping: renewed by the
                                 * servers' connection publications
                                 * (PROTOCOL.md §6) and by use. */
    uint32_t handshake_timeout_ms; /* Life of a tracker entry whose
                                    * handshake has not completed. */
    uint32_t connect_retry_ms;  /* PFT: CONN_REQ again after this. */
    uint32_t query_retry_ms;    /* Ingress: tracker query again after
                                 * this. */
    uint32_t load_max_age_ms;   /* A server's LOAD report counts for this
                                 * long (server-load.h); 0: 3000. */

    /* Bounds of the tables (0: none).  At a bound the least recently
     * renewed idle entry makes room, never a handshake in progress
     * (lbnode-private.h, "Bounds"). */
    uint32_t tracker_table_max; /* Tracker entries, of any state. */
    uint32_t mapping_table_max; /* Ingress mappings. */
    uint32_t pending_table_max; /* Ingress pending flows. */
};

/* Counters, by role. */
struct lbnode_stats {
    /* Ingress. */
    uint64_t syns;              /* Client SYNs seen (packet-ins). */
    uint64_t syns_no_tracker;   /* ...dropped: no LB node healthy. */
    uint64_t non_syns;          /* Other client packets seen. */
    uint64_t not_vip;           /* Packet-ins that were not for a VIP. */
    uint64_t bad_packets;       /* Packet-ins that did not parse. */
    uint64_t buffered;          /* Packets buffered. */
    uint64_t buffer_drops;      /* Dropped: buffer full, or their
                                 * pending flow evicted. */
    uint64_t buffer_timeouts;   /* Pending flows given up. */
    uint64_t replayed;          /* Buffered packets sent on. */
    uint64_t acks_superseded;   /* Buffered bare ACKs not sent on: a later
                                 * buffered packet of the flow acknowledges
                                 * as much (the handshake's ACK when data
                                 * follows it). */
    uint64_t mapping_recommits; /* Packets of a mapped flow that the switch
                                 * did not forward (its entry lapsed or
                                 * was not made yet): sent on, and the
                                 * mapping given to the switch again. */
    uint64_t mappings_installed;
    uint64_t mappings_replaced; /* Stale mappings of a reused CP removed. */
    uint64_t queries;           /* MAPPING_QUERY sent. */
    uint64_t unknown_flows;     /* UNKNOWN from both trackers. */
    uint64_t hash_unknown_to_slot;      /* Of those, hash VIP flows sent to
                                         * their slot's server. */
    uint64_t hash_mappings_revalidated; /* Hash VIP mappings whose lease
                                         * ran out, their PFT asked
                                         * again. */
    uint64_t publish_hash_in_place;     /* Published hash VIP connections
                                         * on their slot's server: no
                                         * state kept. */
    uint64_t hash_syns_forwarded;       /* Hash VIP SYNs that came to the
                                         * controller, sent to their slot's
                                         * server. */
    uint64_t mappings_lapsed;   /* Removed: lease lapsed. */
    uint64_t mappings_evicted;  /* Removed to make room for another: the
                                 * table was at mapping_table_max. */
    uint64_t pending_evicted;   /* Pending flows dropped, with their
                                 * packets, to make room for another: the
                                 * table was at pending_table_max. */

    /* Flow tracker. */
    uint64_t syn_infos;         /* SYN_INFO handled as PFT. */
    uint64_t syn_retransmits;   /* ...of which repeated SYNs. */
    uint64_t syn_late_duplicates;   /* ...of which copies of the SYN of a
                                 * handshake already past SYN_RECEIVED
                                 * (same client ISN): ignored. */
    uint64_t syn_infos_misdirected; /* ...for which our ring has another
                                 * PFT: the entry handed over to it. */
    uint64_t syn_cookies_at_ingress; /* SYNs answered with a cookie by
                                      * their ingress (a flood). */
    uint64_t cookies_issued;
    uint64_t cookies_valid;
    uint64_t cookies_too_old;   /* ACKs with no entry whose cookie was made
                                 * in the slot before the accepted ones:
                                 * counted in acks_no_state as well. */
    uint64_t cookies_too_new;   /* ...made in the slot after them: the
                                 * issuer's wall clock or ours is off by
                                 * more than SYN_COOKIE_MAX_SKEW_S. */
    uint64_t cookies_prev_key;  /* Valid cookies made with the cluster
                                 * key before its last change (counted in
                                 * cookies_valid as well). */
    uint64_t cookies_cp_reused; /* Valid cookies of a new connection on a
                                 * CP whose entry held an older one, which
                                 * no SYN had retired (its ingress made the
                                 * cookie): the old entry forgotten. */
    uint64_t synacks_sent;
    uint64_t acks_valid;        /* ACKs whose ack-1 was ISN_lb. */
    uint64_t acks_invalid;      /* Wrong ack number: dropped. */
    uint64_t acks_no_state;     /* No entry, no valid cookie: UNKNOWN. */
    uint64_t connects;          /* CONNECT sent as PFT. */
    uint64_t conn_reqs;         /* CONN_REQ sent as SFT. */
    uint64_t accepted;
    uint64_t rejected;          /* REJECTED received as SFT. */
    uint64_t rejected_by_reason[CTL_REJECT_N_REASONS];
    uint64_t no_server;         /* Final decisions without a server. */
    uint64_t connect_server_down; /* Chosen server went down before it
                                 * answered: another one chosen. */
    uint64_t connect_server_lost; /* Handshakes whose chosen server was
                                 * found down after it published the
                                 * connection: no other one chosen, no
                                 * more retries. */
    uint64_t connects_established; /* SFT: CONNECTs (PFT retries) for a
                                 * handshake already established: its
                                 * MAPPING sent to the PFT instead. */
    uint64_t mappings_other_server; /* PFT: MAPPINGs from the SFT naming
                                 * another server than the one chosen
                                 * (an earlier choice accepted): taken. */
    uint64_t rsts_sent;
    uint64_t table_full;        /* SYNs dropped: table full. */
    uint64_t entries_evicted;   /* Established entries forgotten to make
                                 * room for another: the table was at
                                 * tracker_table_max. */
    uint64_t entries_refused;   /* Entries not made: the table was at
                                 * tracker_table_max with nothing but
                                 * handshakes in it. */
    uint64_t entries_expired;
    uint64_t trackers_sent;     /* TRACKER_SYNC after ring changes. */
    uint64_t trackers_unchanged;    /* Entries a ring change left with the
                                 * same trackers: not handed over. */
    uint64_t trackers_received;
    uint64_t cp_conflicts;      /* TRACKER_SYNC of another connection on
                                 * the CP of an entry (a reused client
                                 * port): kept beside it. */
    uint64_t cp_conflicts_other; /* ...that the client's ACK then showed
                                 * to be its connection. */

    uint64_t msgs_ignored;      /* Messages for flows we do not hold. */

    /* Servers' load (LOAD, server-load.h). */
    uint64_t load_msgs;         /* LOAD messages received. */
    uint64_t load_entries;      /* ...entries recorded. */
    uint64_t load_rejected;     /* ...entries refused: the sender is not a
                                 * configured server of that VIP port. */

    /* Timers. */
    uint64_t timer_visits;      /* Timers found due by lbnode_run() and
                                 * lbnode_retry(): their work per pass. */

    /* Connection publishing and leases (PROTOCOL.md §6). */
    uint64_t publish_msgs;      /* PUBLISH received from agents. */
    uint64_t publish_fwd_msgs;  /* PUBLISH_FWD received from LB nodes. */
    uint64_t publish_rejected;  /* ...refused: sender not who it claims. */
    uint64_t publish_entries;   /* Entries received (both kinds). */
    uint64_t publish_invalid;   /* ...for no VIP: dropped. */
    uint64_t publish_consumed;  /* ...for which this node is ingress, PFT
                                 * or SFT. */
    uint64_t publish_forwarded; /* Entry copies sent on in PUBLISH_FWD. */
    uint64_t publish_fwd_sent;  /* PUBLISH_FWD messages sent. */
    uint64_t publish_misdirected; /* PUBLISH_FWD entries not for us (the
                                 * rings disagreed for a moment). */
    uint64_t publish_handshake; /* Entries for flows still in our
                                 * handshake: left to its timers. */
    uint64_t publish_handshake_cut; /* ...of which waiting for the
                                 * client's ACK: handshake cut to a lease. */
    uint64_t leases_renewed;    /* Entries and mappings whose lease a
                                 * publication extended. */
    uint64_t leases_lapsed;     /* Established entries and mappings
                                 * forgotten: no publication in time. */
    uint64_t entries_restored;  /* Tracker entries rebuilt from
                                 * publications alone. */
    uint64_t mappings_restored; /* Ingress mappings installed (or moved to
                                 * another server) from publications. */
    uint64_t publish_conflicts; /* Entries from another server than the
                                 * flow's (a stale socket of a reused CP):
                                 * ignored. */
};

/* Journal callback: remember 'len' bytes at 'data' for 'cp' in 'table'
 * (LBNODE_JOURNAL_*) for 'ttl_ms' more milliseconds, or forget them if
 * 'data' is NULL.  The daemon writes them to the node's SQLite store and
 * hands them back through lbnode_restore() after a restart. */
typedef void lbnode_journal_func(void *aux, const char *table,
                                 const struct flow_key *cp,
                                 const void *data, size_t len,
                                 long long int ttl_ms);
#define LBNODE_JOURNAL_TRACKER "tracker"
#define LBNODE_JOURNAL_MAPPING "mapping"

struct lbnode;

struct lbnode *lbnode_create(void);
void lbnode_destroy(struct lbnode *);
void lbnode_configure(struct lbnode *, const struct lbnode_config *);
void lbnode_set_clock_offset(struct lbnode *, long long int wall_minus_now);
void lbnode_set_macs(struct lbnode *, struct eth_addr own,
                     struct eth_addr edge);
bool lbnode_has_macs(const struct lbnode *);
void lbnode_set_journal(struct lbnode *, lbnode_journal_func *, void *aux);
bool lbnode_restore(struct lbnode *, const char *table,
                    const struct flow_key *cp, const void *data, size_t len,
                    long long int ttl_ms, long long int now,
                    const struct lbnode_io *, void *aux);

void lbnode_packet_in(struct lbnode *, const void *frame, size_t len,
                      long long int now, const struct lbnode_io *,
                      void *aux);
void lbnode_recv(struct lbnode *, const struct ctl_msg *, long long int now,
                 const struct lbnode_io *, void *aux);
void lbnode_run(struct lbnode *, long long int now, const struct lbnode_io *,
                void *aux);
void lbnode_rebalance(struct lbnode *, long long int now,
                      const struct lbnode_io *, void *aux);
void lbnode_retry(struct lbnode *, long long int now,
                  const struct lbnode_io *, void *aux);
long long int lbnode_next_deadline(const struct lbnode *);

uint32_t lbnode_self(const struct lbnode *);
size_t lbnode_n_healthy(const struct lbnode *);
bool lbnode_trackers(const struct lbnode *, const struct flow_key *,
                     uint32_t *pft, uint32_t *sft);
const struct lbnode_vip *lbnode_find_vip(const struct lbnode *,
                                         const struct in6_addr *,
                                         uint16_t port, uint8_t proto);
const struct lbnode_stats *lbnode_get_stats(const struct lbnode *);
size_t lbnode_n_entries(const struct lbnode *);
size_t lbnode_n_pending(const struct lbnode *);
bool lbnode_service_is_down(const struct lbnode *, uint32_t server,
                            const struct in6_addr *vip, uint16_t port,
                            uint8_t proto, long long int now);
uint64_t lbnode_service_seqno(const struct lbnode *);
size_t lbnode_vip_mappings(const struct lbnode *, const struct in6_addr *addr,
                           uint16_t port);

void lbnode_format_show(const struct lbnode *, struct ds *);
void lbnode_format_flows(const struct lbnode *, long long int now,
                         struct ds *);
void lbnode_format_stats(const struct lbnode *, struct ds *);
void lbnode_put_metrics(const struct lbnode *, struct metrics *);

#endif /* lbnode.h */
