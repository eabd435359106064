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
 * agent-core: the protocol core of ovslb-agent, the server node's daemon
 * (PROTOCOL.md §2, §3, §5, §6).
 *
 * It holds the connection table (one entry per translated connection, keyed
 * by CP pair) and decides everything about it:
 *
 *   - admission of CONN_REQ (the VIP is ours, the agent is ready, no
 *     collision with a live connection of the same CP, something listens on
 *     VIP:port, the table has room, and, unless the request's TTL has
 *     fallen to 1, the per-VIP connection limit, the load and the memory
 *     thresholds);
 *   - the server-side handshake: on accept it builds the client's SYN
 *     (client's address and options, MSS clamped to the VIP's) for the
 *     server, retransmits it every 'syn_timeout_ms' up to 'syn_tries' times,
 *     intercepts the server's SYN/ACK, records the sequence, timestamp and
 *     window scale differences, builds the ACK that completes the server's
 *     handshake and answers ACCEPTED (or REJECTED when the server refuses or
 *     never answers);
 *   - translation (§3) of every segment of a translated connection in both
 *     directions, in place, with incremental checksums; RST and FIN close
 *     the entry (which keeps translating until it is removed);
 *   - the egress LB node of each connection (§5): ring_egress() over the
 *     healthy LB nodes, moved only when that node leaves the set;
 *   - the entry's life: it lives until the kernel forgets the socket
 *     (agent_core_sockets_*()), then 'linger_ms' more; a closed entry also
 *     goes after 'closed_idle_ms' without packets; an idle entry (closed,
 *     or its socket forgotten) goes earlier, least recently used first,
 *     when the table is at 'max_entries' and a new one needs room;
 *   - connection publishing (§6): the kernel sockets of our VIPs, with the
 *     last ingress node of each translated one, split into PUBLISH messages;
 *   - the journal record of each entry, and its reload after a restart.
 *
 * Pure: no I/O, no clock.  Time is passed in (monotonic milliseconds); the
 * outputs (control messages, frames for the server's stack, journal writes)
 * go through the callbacks of 'struct agent_core_ops'.  The daemon
 * (agent.c) and the Check suite (tests/check-agent-core.c) drive it.
 * Single-threaded: one thread owns a core and everything it is given.
 */
#ifndef OVSLB_AGENT_CORE_H
#define OVSLB_AGENT_CORE_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ctl-msg.h"
#include "flow-key.h"
#include "seq-xlate.h"

struct ds;
struct metrics;

/* Limits, thresholds and timers.  agent_limits_init() gives the defaults. */
struct agent_limits {
    uint32_t conn_limit;        /* Live connections per VIP address; 0: no
                                 * limit. */
    uint32_t max_load_milli;    /* Refuse while the load (runnable tasks per
                                 * CPU, x1000) is above this; 0: never. */
    uint64_t min_mem_kb;        /* Refuse while available memory is below
                                 * this; 0: never. */
    size_t max_conns;           /* Bound of the table (entries of any
                                 * state): beyond it every request is
                                 * refused for memory, whatever its TTL. */
    size_t max_entries;         /* Bound of the table that an idle entry
                                 * (closed, or its socket forgotten by the
                                 * kernel) is evicted to keep, least
                                 * recently used first; with none idle, a
                                 * request is refused for memory
                                 * (xlate_table_max). */
    uint32_t syn_timeout_ms;    /* SYN retransmission interval [1000]. */
    uint32_t syn_tries;         /* SYNs sent before giving up [3]. */
    uint32_t linger_ms;         /* Entry after the kernel forgot the socket
                                 * [10000]. */
    uint32_t closed_idle_ms;    /* Closed entry without packets [70000]. */
    uint32_t tombstone_ms;      /* How long a removed entry's handshake is
                                 * remembered, to answer a tracker's late
                                 * retry of its CONN_REQ without a new SYN
                                 * (agent/tombstones.h): at least the
                                 * handshake timeout and the lease of the
                                 * LB tier [30000]; 0: not at all. */
};

#define AGENT_DEFAULT_MAX_CONNS 1000000
#define AGENT_DEFAULT_MAX_ENTRIES 1000000

void agent_limits_init(struct agent_limits *);

/* What the daemon measured for one request. */
struct agent_local {
    bool ready;                 /* Bridge, pipeline and translation port. */
    bool listening;             /* Something listens on the VIP:port. */
    uint32_t load_milli;        /* As 'max_load_milli'. */
    uint64_t mem_kb;            /* Available memory. */
};

/* A VIP port served by this node. */
struct agent_vip_port {
    struct in6_addr vip;        /* IPv4 as v4-mapped. */
    uint16_t port;              /* Host byte order. */
    bool tracked;               /* "tracked" mode: translated.  Otherwise
                                 * ("hash" mode) segments pass untouched. */
    uint16_t mss;               /* Clamp of the MSS of the injected SYN. */
    bool udp;                   /* A UDP VIP port (mode hash), else TCP: a
                                 * TCP and a UDP VIP may share an address
                                 * and port. */
};

/* Outputs.  Every callback may be NULL (the output is then dropped). */
struct agent_core_ops {
    /* Sends 'msg' (type and body filled in) to node 'dst'. */
    void (*send)(void *aux, uint32_t dst, struct ctl_msg *msg);

    /* Gives the server's stack the Ethernet frame 'frame' ('len' bytes). */
    void (*to_server)(void *aux, const void *frame, size_t len);

    /* Journals the record 'rec' ('len' bytes) of the entry 'cp', to expire
     * 'expires_after_ms' from now (0: never). */
    void (*journal_put)(void *aux, const struct flow_key *cp,
                        const void *rec, size_t len,
                        long long int expires_after_ms);

    /* Removes the record of 'cp' from the journal. */
    void (*journal_del)(void *aux, const struct flow_key *cp);
};

/* Bytes of a journal record. */
#define AGENT_RECORD_LEN 48

/* What a packet handler decided about the packet it was given. */
enum agent_verdict {
    AGENT_DROP,                 /* Drop it. */
    AGENT_FORWARD,              /* Forward it (translated if it is ours). */
};

enum agent_conn_state {
    AGENT_CONN_SYN_SENT,        /* SYN given to the server, no SYN/ACK yet. */
    AGENT_CONN_ESTABLISHED,     /* Translating. */
    AGENT_CONN_CLOSED,          /* RST or both FINs seen; still translating
                                 * until removed. */
};

const char *agent_conn_state_to_string(enum agent_conn_state);

struct agent_core *agent_core_create(uint32_t self,
                                     const struct agent_core_ops *,
                                     void *aux);
void agent_core_destroy(struct agent_core *);

void agent_core_set_limits(struct agent_core *, const struct agent_limits *);
void agent_core_set_vips(struct agent_core *, const struct agent_vip_port *,
                         size_t n);
bool agent_core_set_lb_nodes(struct agent_core *, const uint32_t *nodes,
                             size_t n, uint64_t ring_key,
                             unsigned int vnodes);

/* Control messages. */
void agent_core_conn_req(struct agent_core *, uint32_t sender,
                         const struct ctl_conn_req *,
                         const struct agent_local *, long long int now);

/* Segments read from the translation port ('ip': the IP packet). */
enum agent_verdict agent_core_from_client(struct agent_core *, void *ip,
                                          size_t len, uint32_t ingress,
                                          long long int now);
enum agent_verdict agent_core_from_server(struct agent_core *, void *ip,
                                          size_t len, long long int now,
                                          uint32_t *egress);

/* Timers. */
void agent_core_run(struct agent_core *, long long int now);
long long int agent_core_next_deadline(const struct agent_core *);

/* Reconciliation with the kernel's socket table, and publishing. */
void agent_core_sockets_begin(struct agent_core *, long long int now);
void agent_core_socket_seen(struct agent_core *, const struct flow_key *,
                            bool publish);
size_t agent_core_sockets_end(struct agent_core *, long long int now,
                              uint32_t publish_to);

/* Journal reload. */
bool agent_core_restore(struct agent_core *, const struct flow_key *cp,
                        const void *rec, size_t len, long long int now);

/* Introspection. */
struct agent_conn_info {
    enum agent_conn_state state;
    struct seq_xlate xlate;     /* Valid unless AGENT_CONN_SYN_SENT. */
    uint32_t client_isn;
    uint32_t isn_lb;
    uint32_t isn_srv;
    uint32_t ingress;           /* Last ingress LB node (0: unknown). */
    uint32_t egress;            /* Egress LB node (0: none). */
    uint32_t requester;         /* LB node answered. */
    unsigned int syn_tries;     /* SYNs sent. */
    bool fin_client, fin_server;
    bool gone;                  /* The kernel forgot the socket. */
    uint64_t pkts_to_server, pkts_to_client;
};

bool agent_core_get_conn(const struct agent_core *, const struct flow_key *,
                         struct agent_conn_info *);
size_t agent_core_n_conns(const struct agent_core *);
size_t agent_core_n_idle(const struct agent_core *);
void agent_core_format_bounds(const struct agent_core *, struct ds *);
uint32_t agent_core_port_entries(const struct agent_core *,
                                 const struct in6_addr *vip, uint16_t port);
uint32_t agent_core_n_live(const struct agent_core *,
                           const struct in6_addr *vip);
void agent_core_format_conns(const struct agent_core *, struct ds *);

struct agent_stats {
    /* Admission. */
    uint64_t requests;          /* CONN_REQ handled. */
    uint64_t accepted;          /* ACCEPTED for a new connection. */
    uint64_t reaccepted;        /* ACCEPTED again (retransmitted request). */
    uint64_t retries_forgotten; /* Retried request of a connection over and
                                 * forgotten (a tombstone): ACCEPTED that
                                 * vouches for nothing, no SYN. */
    uint64_t pending_dups;      /* Request for a handshake in progress. */
    uint64_t rejected[CTL_REJECT_N_REASONS];
    uint64_t syn_sent;          /* SYNs given to the server (with
                                 * retransmissions). */
    uint64_t syn_timeouts;      /* Handshakes given up. */
    uint64_t server_refused;    /* Server answered the SYN with a RST. */
    uint64_t synack_dups;       /* SYN/ACK retransmissions re-ACKed. */
    uint64_t synack_resets;     /* SYN/ACKs of no handshake of ours,
                                 * answered with a RST. */

    /* Translation. */
    uint64_t to_server;         /* Segments translated, client -> server. */
    uint64_t to_client;         /* Segments translated, server -> client. */
    uint64_t passed_to_server;  /* Untranslated (hash-mode VIP). */
    uint64_t passed_untranslated;   /* Untranslated: a tracked port's
                                     * connection of its hash time. */
    uint64_t passed_to_client;  /* Untranslated (no entry). */
    uint64_t drop_malformed;
    uint64_t drop_not_vip;      /* Not a VIP port of ours. */
    uint64_t drop_no_entry;     /* Client segment of a tracked VIP, no
                                 * entry. */
    uint64_t drop_client_syn;   /* SYN from a client of a tracked VIP. */
    uint64_t drop_pending;      /* Segment during the handshake. */
    uint64_t drop_no_egress;    /* No healthy LB node to send it to. */

    /* Table. */
    uint64_t closed;            /* Entries closed by RST or FINs. */
    uint64_t removed;           /* Entries removed. */
    uint64_t restored;          /* Entries reloaded from the journal. */
    uint64_t restore_rejected;  /* Journal records not reloaded. */
    uint64_t egress_moves;      /* Connections moved to another egress. */
    uint64_t evicted;           /* Idle entries removed to make room for
                                 * another: the table was at
                                 * 'max_entries'. */
    uint64_t tombstones_evicted;    /* Tombstones removed before their
                                 * time to keep the bound ('max_entries'). */
    uint64_t table_full;        /* Requests and journal records refused:
                                 * the table was at its bound with no idle
                                 * entry to evict. */

    /* Publishing. */
    uint64_t publish_msgs;      /* PUBLISH messages sent. */
    uint64_t publish_entries;   /* Entries in them. */
};

const struct agent_stats *agent_core_get_stats(const struct agent_core *);
void agent_core_format_stats(const struct agent_core *, struct ds *);
void agent_core_put_metrics(const struct agent_core *, struct metrics *);

#endif /* agent-core.h */
