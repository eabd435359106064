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
 * sim-edge: the edge router and the clients behind it.
 *
 * The edge router spreads the clients' packets over the LB nodes that
 * announce the VIP, by a hash of the flow modulo their number (ECMP), as
 * its BGP sessions say: a crashed node's routes go bgp_withdraw_ms after
 * the crash, a restarted node's come bgp_announce_ms after its start.
 *
 * Each client opens one TCP connection to the VIP (SYN, retransmitted
 * every second), completes the handshake, then sends requests one at a
 * time, each of which the server echoes (the request retransmitted after
 * a timeout that doubles, from 200 ms up to 1 s), and closes with a FIN
 * (waiting for the server's), with a RST, or never.  It checks every
 * segment it receives against its connection (sim-invariants.h, "edge"),
 * and says when it is lost: reset, or without progress for stall_ms.
 *
 * Single-threaded.
 */
#ifndef OVSLB_SIM_EDGE_H
#define OVSLB_SIM_EDGE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "deadline-queue.h"
#include "flow-key.h"
#include "openvswitch/hmap.h"

struct sim;
struct sim_pkt;

enum sim_close {
    SIM_CLOSE_FIN,
    SIM_CLOSE_RST,
    SIM_CLOSE_NEVER,            /* Long-lived: requests until the end. */
};

enum sim_flow_state {
    SIM_FLOW_PENDING,           /* Not started yet. */
    SIM_FLOW_SYN_SENT,
    SIM_FLOW_OPEN,              /* Handshake done. */
    SIM_FLOW_FIN_WAIT,          /* FIN sent, the server's awaited. */
    SIM_FLOW_CLOSED,            /* Closed by FIN or by our RST. */
    SIM_FLOW_FAILED,            /* Handshake given up. */
    SIM_FLOW_RESET,             /* Reset by the other end. */
    SIM_FLOW_STALLED,           /* No progress for stall_ms: given up. */
};

#define SIM_REQUEST_LEN 32

struct sim_flow {
    struct hmap_node hmap_node; /* In sim_edge's 'by_cp'. */
    struct deadline timer;      /* In sim_edge's 'timers' (global time). */
    uint32_t id;
    struct flow_key cp;
    enum sim_flow_state state;

    uint32_t n_requests;        /* 0: until the end. */
    uint32_t interval_ms;       /* Between requests. */
    enum sim_close close;

    uint32_t iss, snd_nxt;
    uint32_t rcv_nxt;
    uint32_t irs;               /* The SYN/ACK's sequence number. */
    uint32_t ts_recent;
    unsigned int syn_tries;
    unsigned int rto_ms;
    bool request_out;           /* A request awaits its echo. */
    uint32_t request_seq;
    uint32_t requests_done;
    uint8_t request[SIM_REQUEST_LEN];

    long long int started;
    long long int last_progress;
    long long int established;  /* First echo (LLONG_MAX: none yet). */
    long long int client_closed, server_closed;     /* LLONG_MAX: not. */
    uint32_t server;            /* Where its socket was established. */
    uint32_t last_ingress;
    bool state_checked;         /* closed-state checked (LB nodes). */
    bool agent_checked;         /* closed-state checked (its agent). */
    bool closing;               /* In sim_invariants's 'closing'. */
    uint64_t holders;           /* The LB nodes (bit i: lb i + 1) that held
                                 * a tracker entry for it at the last LB
                                 * node leave or join. */
    uint32_t server_lost;       /* 'server' crashed with its socket. */
    bool lost_reported;
};

struct sim_edge {
    struct sim *sim;
    struct sim_flow **flows;
    size_t n_flows, allocated_flows;
    struct hmap by_cp;
    struct deadline_queue timers;

    uint64_t no_route;          /* Packets with no LB node announced. */
    uint64_t handshakes, echoes, closes;
    uint64_t failed, resets, stalls;
};

struct sim_edge *sim_edge_create(struct sim *);
void sim_edge_destroy(struct sim_edge *);

void sim_edge_add_flows(struct sim_edge *, size_t n, long long int start,
                        long long int over, uint32_t n_requests,
                        uint32_t interval_ms, enum sim_close);
void sim_edge_run(struct sim_edge *);
long long int sim_edge_next_deadline(const struct sim_edge *);
void sim_edge_receive(struct sim_edge *, struct sim_pkt *);
bool sim_edge_announced(const struct sim_edge *, uint32_t lb);

struct sim_flow *sim_edge_find(const struct sim_edge *,
                               const struct flow_key *);
void sim_edge_server_established(struct sim_edge *, const struct flow_key *,
                                 uint32_t server);
void sim_edge_server_lost(struct sim_edge *, const struct flow_key *,
                          uint32_t server);
void sim_edge_server_closed(struct sim_edge *, const struct flow_key *,
                            uint32_t server);

bool sim_flow_is_live(const struct sim_flow *);

#endif /* sim-edge.h */
