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
 * ctl-sock: the UDP driver of the control plane (PROTOCOL.md §10).
 *
 * One non-blocking datagram socket bound to a node's control address and a
 * port.  Outgoing messages get the node's id and the next sequence number
 * and are authenticated with the cluster key; incoming datagrams are
 * split into their messages, each decoded, authenticated and checked
 * against a per-sender replay window by ctl_msg_receive(), and everything
 * rejected is counted.
 *
 * ctl_sock_send() sends a message in a datagram of its own at once (health
 * checks, whose round trips are measured, and replies).  ctl_sock_queue()
 * appends it to what is waiting for the same destination, and
 * ctl_sock_flush() sends each destination's messages in as few datagrams
 * as fit CTL_MSG_MAX_LEN: a daemon queues what one pass of its loop
 * produces and flushes at the end of the pass, which on a busy node sends
 * about half the datagrams (each costs a trip through both nodes'
 * switches).  ctl_sock_wait() wakes the loop at once while anything waits.
 *
 * Key rotation (README.md, "Rotating the cluster key").  A socket holds up
 * to three keys (enum ctl_key_slot): it signs with the current key and
 * accepts a message that the current, the next or the previous key
 * verifies.  The daemon passes what the config service says, current and
 * next, to ctl_sock_set_keys() each time it changes; the socket keeps the
 * key that a promotion replaced as the previous key for a grace period
 * (CTL_SOCK_KEY_GRACE_MS, ctl_sock_set_key_grace()), so that messages from
 * nodes that have not applied the promotion yet, and those already in
 * flight, are still accepted.  Rotating in two steps, stage then promote,
 * therefore loses no message as long as every node has applied the stage
 * before any applies the promotion, and every node applies the promotion
 * within the grace period.
 *
 * The socket is AF_INET6 with IPV6_V6ONLY off, so IPv4 peers are handled as
 * v4-mapped addresses, like every address in ovslb.
 *
 * Single-threaded: call everything from the thread that runs the poll loop.
 */
#ifndef OVSLB_CTL_SOCK_H
#define OVSLB_CTL_SOCK_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include "ctl-msg.h"
#include "openvswitch/compiler.h"

struct ds;
struct metrics;

/* Most datagrams read by one ctl_sock_recv() loop before yielding. */
#define CTL_SOCK_MAX_RECV_PER_RUN 256

/* Senders tracked by the replay window. */
#define CTL_SOCK_MAX_SENDERS 4096

/* How long a socket still accepts the key that a promotion replaced: well
 * above the time a configuration change takes to reach every node (tens of
 * milliseconds), and above the longest reconnection backoff of the config
 * service's client (8 s), so that a node that was briefly cut off from the
 * config service when the key was promoted still gets through. */
#define CTL_SOCK_KEY_GRACE_MS 10000     /* Default of key_grace_ms. */

struct ctl_sock_stats {
    struct ctl_stats rx;            /* Received, by type and by error. */
    uint64_t tx[CTL_MSG_N_TYPES];   /* Sent, by type. */
    uint64_t tx_datagrams;          /* Datagrams sent. */
    uint64_t tx_errors;             /* Messages not sent: encoding or
                                     * sendto() failures. */
    uint64_t rx_datagrams;          /* Datagrams received. */
    uint64_t rx_errors;             /* recvfrom() failures. */
    uint64_t no_key;                /* Dropped: no cluster key yet. */
    uint64_t key_changes;           /* ctl_sock_set_keys() calls that
                                     * changed a key. */
    uint64_t keys_expired;          /* Previous keys dropped after the
                                     * grace period. */
};

struct ctl_sock;

char *ctl_sock_open(const struct in6_addr *addr, uint16_t port,
                    uint32_t self, struct ctl_sock **)
    OVS_WARN_UNUSED_RESULT;
void ctl_sock_close(struct ctl_sock *);

int ctl_sock_set_key(struct ctl_sock *, const struct ctl_key *)
    OVS_WARN_UNUSED_RESULT;
int ctl_sock_set_keys(struct ctl_sock *, const struct ctl_key *current,
                      const struct ctl_key *next)
    OVS_WARN_UNUSED_RESULT;
void ctl_sock_set_key_grace(struct ctl_sock *, long long int msec);
bool ctl_sock_has_key(const struct ctl_sock *);
bool ctl_sock_has_key_slot(const struct ctl_sock *, enum ctl_key_slot);

int ctl_sock_send(struct ctl_sock *, struct ctl_msg *,
                  const struct in6_addr *dst, uint16_t port);
int ctl_sock_queue(struct ctl_sock *, struct ctl_msg *,
                   const struct in6_addr *dst, uint16_t port);
void ctl_sock_flush(struct ctl_sock *);
bool ctl_sock_recv(struct ctl_sock *, struct ctl_msg *,
                   struct in6_addr *src, uint16_t *src_port);
void ctl_sock_wait(struct ctl_sock *);

uint32_t ctl_sock_self(const struct ctl_sock *);
uint16_t ctl_sock_port(const struct ctl_sock *);
const struct in6_addr *ctl_sock_addr(const struct ctl_sock *);
const struct ctl_sock_stats *ctl_sock_get_stats(const struct ctl_sock *);
void ctl_sock_format_stats(const struct ctl_sock *, struct ds *);
void ctl_sock_put_metrics(const struct ctl_sock *, struct metrics *,
                          const char *socket);

#endif /* ctl-sock.h */
