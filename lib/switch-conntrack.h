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
 * switch-conntrack: keeps TCP sequence checking off in the connection
 * tracker of the node's ovs-vswitchd, which the connection-tracker entries
 * of ovslb need (DESIGN.md, cost rules): an LB node's ingress mappings, and
 * a server node's ownership redirects (agent/owners.h), see only the
 * client's half of each connection, and with checking on the userspace
 * connection tracker marks its segments invalid once they pass the first
 * window.  The setting
 * (ovs-appctl dpctl/ct-disable-tcp-seq-chk) is a runtime one that
 * ovs-vswitchd forgets when it restarts, so it is applied again after every
 * new OpenFlow connection and checked now and then.  With each check it
 * also reads the switch's IP fragment reassembly status (ovs-appctl
 * dpctl/ipf-get-status), which the fragments of a UDP VIP's datagrams go
 * through (flows/lb-pipeline.h), for ovslb/stats and the metrics, and
 * warns if it is off for IPv4.
 *
 * Talks to ovs-vswitchd's unixctl socket in the OVS run directory
 * (ovs-vswitchd.PID.ctl, or ovs-vswitchd.ctl when it was started with that
 * --unixctl), about the userspace datapath (netdev@ovs-netdev) by name.  A
 * driver, and a blocking one: each exchange is one local round trip, at
 * most one per SWITCH_CONNTRACK_CHECK_MS (or retry) period while there is
 * an OpenFlow connection, none without; it waits for as long as
 * ovs-vswitchd takes to answer (libopenvswitch's unixctl client has no
 * deadline), which is also how long the switch would take to serve the
 * controller's OpenFlow requests.  Single-threaded.
 */
#ifndef OVSLB_SWITCH_CONNTRACK_H
#define OVSLB_SWITCH_CONNTRACK_H 1

#include <stdbool.h>
#include <stdint.h>

struct ds;
struct metrics;

#define SWITCH_CONNTRACK_CHECK_MS 10000
#define SWITCH_CONNTRACK_RETRY_MS 1000

/* The switch's IP fragment reassembly ("ipf"), read with every check:
 * whether it is on, how many fragments it holds, and its counters (accepted,
 * completed, expired, too small, overlapped, purged) per family. */
#define SWITCH_IPF_N_COUNTERS 6
struct switch_ipf {
    bool known;                 /* False until read, or if it could not be. */
    bool v4_enabled, v6_enabled;
    uint64_t n_held;
    uint64_t v4[SWITCH_IPF_N_COUNTERS];
    uint64_t v6[SWITCH_IPF_N_COUNTERS];
};

struct switch_conntrack;

struct switch_conntrack *switch_conntrack_create(const char *rundir);
void switch_conntrack_destroy(struct switch_conntrack *);
void switch_conntrack_run(struct switch_conntrack *, uint64_t connection,
                          long long int now);
long long int switch_conntrack_next_deadline(const struct switch_conntrack *);
bool switch_conntrack_ready(const struct switch_conntrack *);
const struct switch_ipf *switch_conntrack_ipf(const struct switch_conntrack *);
void switch_conntrack_format(const struct switch_conntrack *, struct ds *);
void switch_conntrack_put_metrics(const struct switch_conntrack *,
                                  struct metrics *);

#endif /* switch-conntrack.h */
