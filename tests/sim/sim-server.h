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
 * sim-server: the TCP stack of a simulated server node, as much of it as
 * the connections of the simulator's clients need: an echo service on the
 * VIP port, behind the agent core (which gives it the frames the
 * translation path would, and takes what it sends).
 *
 * It answers a SYN with a SYN/ACK, echoes every request in order (and
 * echoes the last one again when the client retransmits it), closes
 * passively on the client's FIN, forgets a socket on RST, and answers a
 * segment of no socket with a RST, as a kernel does.  Its socket table is
 * what the agent publishes (agent_core_socket_seen()).
 *
 * Single-threaded.
 */
#ifndef OVSLB_SIM_SERVER_H
#define OVSLB_SIM_SERVER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "flow-key.h"
#include "openvswitch/hmap.h"

struct sim;

enum sim_sock_state {
    SIM_SOCK_SYN_RCVD,
    SIM_SOCK_ESTABLISHED,
    SIM_SOCK_LAST_ACK,          /* FIN received, ours sent. */
};

#define SIM_ECHO_MAX 64

struct sim_sock {
    struct hmap_node hmap_node;
    struct flow_key cp;
    enum sim_sock_state state;
    uint32_t iss, snd_nxt, rcv_nxt;
    bool has_ts;
    uint32_t ts_recent;
    uint32_t echo_seq;          /* The last echo sent... */
    size_t echo_len;
    uint8_t echo[SIM_ECHO_MAX];
};

/* Sends 'frame' ('len' bytes) from the server's stack. */
typedef void sim_server_output_func(void *aux, void *frame, size_t len);

struct sim_server {
    struct sim *sim;
    uint32_t id;
    struct hmap socks;          /* Of sim_sock. */
    sim_server_output_func *output;
    void *aux;

    uint64_t segments_in, segments_out, resets_sent, echoes;
};

void sim_server_init(struct sim_server *, struct sim *, uint32_t id,
                     sim_server_output_func *, void *aux);
void sim_server_destroy(struct sim_server *);
void sim_server_reset(struct sim_server *);
void sim_server_input(struct sim_server *, const void *frame, size_t len);
const struct sim_sock *sim_server_find(const struct sim_server *,
                                       const struct flow_key *);

#endif /* sim-server.h */
