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
 * node-daemon: the drivers that ovslb-controller (LB nodes) and ovslb-agent
 * (server nodes) share around their protocol cores.
 *
 * A 'struct node_daemon' owns:
 *   - an IDL connection to the node's local Open vSwitch database, from which
 *     it reads the node's settings (node-settings.h) and port numbers;
 *   - the config-service client (cluster-config.h), connected to the remotes
 *     that the settings name, re-created when they change;
 *   - the OpenFlow connection to the node's bridge (ofctrl.h), with a cookie
 *     per role, re-created when the bridge changes;
 *   - the UDP control socket (ctl-sock.h), bound to the node's control
 *     address from the config service, with the cluster key;
 *   - the node's SQLite store (store.h), opened once from the settings;
 *   - the node's metrics (metrics.h), if the settings name a file: once a
 *     second the role code fills them (node_daemon_metrics_begin() adds
 *     those of the drivers above) and writes the file
 *     (node_daemon_metrics_write()).
 * Each piece appears when what it needs is known and is re-created when that
 * changes; until then the accessors return NULL and node_daemon_status()
 * says what is missing.  The role code calls node_daemon_run() and
 * node_daemon_wait() from its loop and rebuilds its own state whenever
 * node_daemon_seqno() changes.
 *
 * Single-threaded: call everything from the thread that runs the loop.
 */
#ifndef OVSLB_NODE_DAEMON_H
#define OVSLB_NODE_DAEMON_H 1

#include <stdbool.h>
#include <stdint.h>
#include "node-settings.h"
#include "openvswitch/compiler.h"
#include "openflow/openflow.h"

struct cluster_settings;
struct cluster_snapshot;
struct ctl_msg;
struct ctl_sock;
struct ds;
struct metrics;
struct ofctrl;
struct ovsdb_idl;
struct store;

/* OpenFlow cookies: every flow a daemon installs carries its role's. */
#define NODE_DAEMON_COOKIE_LB     UINT64_C(0x6f76736c62000001)
#define NODE_DAEMON_COOKIE_SERVER UINT64_C(0x6f76736c62000002)

struct node_daemon;

struct node_daemon *node_daemon_create(const char *ovs_remote,
                                       enum node_role);
void node_daemon_destroy(struct node_daemon *);
void node_daemon_run(struct node_daemon *);
void node_daemon_wait(struct node_daemon *);

uint64_t node_daemon_seqno(const struct node_daemon *);
const struct node_settings *node_daemon_settings(const struct node_daemon *);
const struct cluster_snapshot *node_daemon_config(const struct node_daemon *);
void node_daemon_ack_config(struct node_daemon *);
struct ofctrl *node_daemon_ofctrl(const struct node_daemon *);
struct ctl_sock *node_daemon_ctl_sock(const struct node_daemon *);
struct store *node_daemon_store(const struct node_daemon *);
ofp_port_t node_daemon_ofport(const struct node_daemon *, const char *port);
bool node_daemon_port_mac(const struct node_daemon *, const char *port,
                          struct eth_addr *);
bool node_daemon_is_ready(const struct node_daemon *);
int node_daemon_send(const struct node_daemon *, uint32_t dst,
                     struct ctl_msg *);
int node_daemon_send_via(const struct node_daemon *, struct ctl_sock *,
                         uint16_t port, uint32_t dst, struct ctl_msg *);
void node_daemon_flush(struct node_daemon *);
uint64_t node_daemon_ring_key(const struct node_daemon *);
char *node_daemon_set_sock_keys(struct ctl_sock *,
                                const struct cluster_settings *)
    OVS_WARN_UNUSED_RESULT;
void node_daemon_status(const struct node_daemon *, struct ds *);

#define NODE_DAEMON_METRICS_INTERVAL_MS 1000
struct metrics *node_daemon_metrics_begin(struct node_daemon *,
                                          long long int now);
void node_daemon_metrics_write(struct node_daemon *, long long int now);

#endif /* node-daemon.h */
