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
 * service-probe: the agent's checks that the local service of each of its
 * VIP ports answers (PROTOCOL.md §8: "the VIP's local health probe (TCP
 * connect, or an HTTP GET when configured)"), as the VIP's health_check
 * column says (lib/cluster-config.h, struct cluster_vip_health).
 *
 * Every 'interval_ms' (from the start of one probe to the next) each port
 * is probed: a TCP connection to VIP:port that must be established within
 * 'timeout_ms' (then closed), or for HTTP one that must also answer
 * "GET path HTTP/1.0" with a status line of the expected status within the
 * timeout; for UDP (a UDP VIP's default) an empty datagram from a
 * connected socket, which the server's stack must not refuse (ICMP port
 * unreachable: nothing listens) within the timeout.  'fall' failures in a
 * row take the port down, 'rise' successes in a row bring it up again; a
 * port starts up (a server that cannot serve it refuses connections
 * anyway: nothing listens).  A port whose check is "none" is always up.
 *
 * The agent reports the ports' state to the LB nodes (LOAD, vip-load.h) at
 * once when one changes, and the LB nodes stop choosing this server for a
 * port that is down while its other ports keep their traffic.
 *
 * A driver: it opens sockets (non-blocking, in the agent's own network
 * namespace, or in 'netns' given to service_probe_set()) and never blocks.
 * Single-threaded.
 */
#ifndef OVSLB_SERVICE_PROBE_H
#define OVSLB_SERVICE_PROBE_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cluster-config.h"

struct ds;

/* A VIP port to check, and how. */
struct service_probe_port {
    struct in6_addr vip;        /* IPv4 as v4-mapped. */
    uint16_t port;
    bool udp;                   /* A UDP VIP port, else TCP: a TCP and a
                                 * UDP VIP may share an address and port,
                                 * each checked apart. */
    const struct cluster_vip_health *health;    /* Copied. */
};

/* Counters. */
struct service_probe_stats {
    uint64_t probes;            /* Probes started. */
    uint64_t ok;                /* ...that succeeded. */
    uint64_t failed;            /* ...that failed (refused, timed out, bad
                                 * answer, or no socket). */
    uint64_t downs;             /* Ports that went down. */
    uint64_t ups;               /* Ports that came back up. */
};

struct service_probe *service_probe_create(void);
void service_probe_destroy(struct service_probe *);

void service_probe_set(struct service_probe *, const char *netns,
                       const struct service_probe_port *, size_t n,
                       long long int now);
bool service_probe_run(struct service_probe *, long long int now);
void service_probe_wait(const struct service_probe *);
bool service_probe_is_up(const struct service_probe *,
                         const struct in6_addr *vip, uint16_t port,
                         bool udp);

const struct service_probe_stats *service_probe_get_stats(
    const struct service_probe *);
void service_probe_format(const struct service_probe *, long long int now,
                          struct ds *);

#endif /* service-probe.h */
