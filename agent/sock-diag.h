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
 * sock-diag: the kernel's TCP socket table, read through inet_diag
 * (NETLINK_SOCK_DIAG), in the agent's own network namespace or in a named
 * one (/run/netns/NAME, as `ip netns` creates them).
 *
 * ovslb-agent uses it for connection publishing (PROTOCOL.md §6), for the
 * life of its translation entries and to learn which VIP ports have a
 * listener.  A driver: it makes system calls.  Single-threaded: the thread
 * that runs the agent's loop owns its objects.
 */
#ifndef OVSLB_SOCK_DIAG_H
#define OVSLB_SOCK_DIAG_H 1

#include <netinet/in.h>
#include <stdint.h>
#include "openvswitch/compiler.h"
#include "openvswitch/types.h"

/* TCP states, as the kernel numbers them (include/net/tcp_states.h). */
enum sock_diag_state {
    SOCK_DIAG_ESTABLISHED = 1,
    SOCK_DIAG_SYN_SENT,
    SOCK_DIAG_SYN_RECV,
    SOCK_DIAG_FIN_WAIT1,
    SOCK_DIAG_FIN_WAIT2,
    SOCK_DIAG_TIME_WAIT,
    SOCK_DIAG_CLOSE,
    SOCK_DIAG_CLOSE_WAIT,
    SOCK_DIAG_LAST_ACK,
    SOCK_DIAG_LISTEN,
    SOCK_DIAG_CLOSING,
};
#define SOCK_DIAG_ALL_STATES 0xfffu

/* One socket.  Addresses are IPv6 (IPv4 as v4-mapped). */
struct sock_diag_entry {
    struct in6_addr src;        /* Local address. */
    struct in6_addr dst;        /* Remote address (:: for a listener). */
    ovs_be16 sport;
    ovs_be16 dport;
    enum sock_diag_state state;
    uint32_t rqueue;            /* A listener: connections in its accept
                                 * queue; others: bytes not read yet. */
    uint32_t rtt_us;            /* With SOCK_DIAG_RTT: the kernel's smoothed
                                 * round-trip time; 0 if not measured or not
                                 * asked for. */
};

/* Flags of sock_diag_dump(). */
#define SOCK_DIAG_RTT 0x1u      /* Ask for each socket's tcp_info. */

struct sock_diag_stats {
    uint64_t dumps;             /* Dumps completed. */
    uint64_t sockets;           /* Sockets reported. */
    uint64_t errors;            /* Dumps that failed. */
    uint64_t malformed;         /* Messages skipped as malformed. */
};

struct sock_diag;

char *sock_diag_open(const char *netns, struct sock_diag **)
    OVS_WARN_UNUSED_RESULT;
void sock_diag_close(struct sock_diag *);
int sock_diag_dump(struct sock_diag *, uint32_t state_mask,
                   unsigned int flags,
                   void (*cb)(const struct sock_diag_entry *, void *aux),
                   void *aux);
const char *sock_diag_netns(const struct sock_diag *);
const struct sock_diag_stats *sock_diag_get_stats(const struct sock_diag *);

#endif /* sock-diag.h */
