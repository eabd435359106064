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
 * server-load: what an LB node knows of its servers' load, for the VIPs'
 * least-connections and lowest-latency algorithms (lib/selection.h).
 *
 * Every agent reports, after each reading of its kernel's socket table
 * (every publish_interval_ms), the load of each of its VIP ports to every
 * healthy LB node (LOAD, lib/ctl-msg.h): established connections, accept
 * backlog, smoothed round-trip time.  Per (server, VIP, port, protocol:
 * a TCP and a UDP VIP may share an address and port) this module
 * keeps the last report and the connections this node assigned there since
 * (a burst of picks between two reports must not all land on the server
 * that looked idlest), and answers with:
 *
 *   - connections: reported connections + accept backlog + this node's
 *     assignments since the report; once the report is older than
 *     'max_age_ms', the assignments alone (a server that stopped reporting
 *     is not assumed idle, nor loaded);
 *   - round-trip time: the last one measured, for RTT_KEEP_MS after it was
 *     (a report without one, from a VIP port with no connection, keeps the
 *     earlier measure); after that "not measured", so that lowest-latency
 *     tries the server again (exploration, lib/selection.h).
 *
 * A report also says whether the VIP port's service fails the agent's
 * health check (service-probe.h): while the last report says so, and is
 * not older than 'max_age_ms', the server counts as down for that VIP port
 * alone.  (A server that stops reporting altogether is the node health
 * checks' business.)
 *
 * A record not reported for FORGET_MS is removed, as are the records of a
 * server on server_load_forget().  The caller only passes reports of VIP
 * ports that its configuration gives the server, which bounds the table.
 *
 * Pure: no I/O, no clock.  Single-threaded.
 */
#ifndef OVSLB_SERVER_LOAD_H
#define OVSLB_SERVER_LOAD_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ctl_load_entry;
struct ds;

/* Counters. */
struct server_load_stats {
    uint64_t reports;           /* Entries recorded. */
    uint64_t assignments;       /* Connections assigned by this node. */
    uint64_t stale;             /* Lookups of a record too old to use. */
    uint64_t forgotten;         /* Records removed. */
    uint64_t downs;             /* Reports of a service newly down. */
};

struct server_load *server_load_create(void);
void server_load_destroy(struct server_load *);

void server_load_report(struct server_load *, uint32_t server,
                        const struct ctl_load_entry *, long long int now);
void server_load_assigned(struct server_load *, uint32_t server,
                          const struct in6_addr *vip, uint16_t port,
                          long long int now);
void server_load_get(struct server_load *, uint32_t server,
                     const struct in6_addr *vip, uint16_t port,
                     long long int now, uint32_t max_age_ms,
                     uint32_t *conns, uint32_t *rtt_us);
bool server_load_is_down(const struct server_load *, uint32_t server,
                         const struct in6_addr *vip, uint16_t port,
                         uint8_t proto, long long int now,
                         uint32_t max_age_ms);
uint64_t server_load_down_seqno(const struct server_load *);
void server_load_forget(struct server_load *, uint32_t server);
void server_load_run(struct server_load *, long long int now);

size_t server_load_count(const struct server_load *);
const struct server_load_stats *server_load_get_stats(
    const struct server_load *);
void server_load_format(const struct server_load *, long long int now,
                        struct ds *);

#endif /* server-load.h */
