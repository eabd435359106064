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

/* node-settings: a node's own settings, from its local Open vSwitch.
 *
 * Each LB or server node keeps what is its own (which node it is, its role,
 * its bridge, where the config service is) in the external_ids of the one row
 * of its local Open_vSwitch table, set with
 *
 *     ovs-vsctl set Open_vSwitch . external_ids:ovslb-node-id=1 \
 *         external_ids:ovslb-role=lb external_ids:ovslb-bridge=br-int \
 *         external_ids:ovslb-config=unix:/var/run/ovslb/ovslb.sock \
 *         external_ids:ovslb-north-port=north0
 *
 * The keys (fixed; utilities/ovslb-ctl.8 documents them):
 *
 *   ovslb-node-id     the node's id, 1 to 65535 (by convention LB nodes
 *                     1..N, server nodes 101 and up); required.
 *   ovslb-role        "lb" or "server"; required.
 *   ovslb-bridge      the OVS bridge the daemon attaches to; required.
 *   ovslb-config      the config service: an OVSDB remote or several,
 *                     comma-separated; required.
 *   ovslb-north-port  LB nodes: the bridge port towards the edge router;
 *                     required for role "lb", ignored for "server".
 *   ovslb-store       the node's SQLite file; default RUNDIR/ovslb-ID.db.
 *   ovslb-tunnel-port the bridge's Geneve port, towards the other nodes;
 *                     default "gnv0".
 *   ovslb-xlate-port  server nodes: the bridge's internal port through which
 *                     the agent translates segments; default "xlt0",
 *                     ignored for "lb".
 *   ovslb-conn-limit, ovslb-max-load, ovslb-min-mem-mb
 *                     server nodes: the agent's admission limits (live
 *                     connections per VIP address, load average per CPU as
 *                     a decimal number, available memory in MB); 0 or
 *                     absent: none.  Ignored for "lb".
 *   ovslb-metrics-file  where the daemon writes its counters and gauges
 *                     once a second in the Prometheus text format, for the
 *                     node exporter's textfile collector: an absolute path
 *                     ending in ".prom" (metrics.h); default none (off).
 *   ovslb-ssl-private-key, ovslb-ssl-certificate, ovslb-ssl-ca-cert
 *                     the PEM files of the node's TLS identity towards the
 *                     config service (its private key, its certificate, and
 *                     the CA certificate that the config service's
 *                     certificate must be signed by), for "ssl:" remotes in
 *                     ovslb-config: absolute paths, all three or none, and
 *                     required as soon as ovslb-config names an ssl: remote.
 *
 * node_settings_parse() is pure (it checks an smap); node_settings_read()
 * takes the row from an IDL of the local database built on OVS's vswitch IDL
 * (lib/vswitch-idl.h).  Single-threaded, called by the daemons. */

#ifndef NODE_SETTINGS_H
#define NODE_SETTINGS_H 1

#include <stdbool.h>
#include <stdint.h>

#include "openvswitch/compiler.h"

struct ovsdb_idl;
struct smap;

#define NODE_KEY_NODE_ID    "ovslb-node-id"
#define NODE_KEY_ROLE       "ovslb-role"
#define NODE_KEY_BRIDGE     "ovslb-bridge"
#define NODE_KEY_CONFIG     "ovslb-config"
#define NODE_KEY_NORTH_PORT "ovslb-north-port"
#define NODE_KEY_STORE      "ovslb-store"
#define NODE_KEY_METRICS_FILE "ovslb-metrics-file"
#define NODE_KEY_SSL_PRIVATE_KEY "ovslb-ssl-private-key"
#define NODE_KEY_SSL_CERTIFICATE "ovslb-ssl-certificate"
#define NODE_KEY_SSL_CA_CERT "ovslb-ssl-ca-cert"
#define NODE_KEY_TUNNEL_PORT "ovslb-tunnel-port"
#define NODE_KEY_XLATE_PORT "ovslb-xlate-port"
#define NODE_KEY_CONN_LIMIT "ovslb-conn-limit"
#define NODE_KEY_MAX_LOAD "ovslb-max-load"
#define NODE_KEY_MIN_MEM_MB "ovslb-min-mem-mb"

/* The defaults of the optional port names (LAB.md's). */
#define NODE_DEFAULT_TUNNEL_PORT "gnv0"
#define NODE_DEFAULT_XLATE_PORT "xlt0"

enum node_role {
    NODE_ROLE_LB,
    NODE_ROLE_SERVER,
};

const char *node_role_to_string(enum node_role);

/* A node's validated settings. */
struct node_settings {
    uint32_t node_id;
    enum node_role role;
    char *bridge;
    char *config;               /* OVSDB remote(s) of the config service. */
    char *north_port;           /* NULL unless 'role' is NODE_ROLE_LB. */
    char *store;                /* SQLite file. */
    char *metrics_file;         /* Prometheus text file, or NULL: off. */
    char *tunnel_port;          /* Geneve port of the bridge. */
    char *xlate_port;           /* NULL unless 'role' is NODE_ROLE_SERVER. */

    /* Server nodes' admission limits (0: none; always 0 for LB nodes). */
    uint32_t conn_limit;        /* Live connections per VIP address. */
    uint32_t max_load_milli;    /* Load average per CPU, in thousandths. */
    uint32_t min_mem_mb;        /* Available memory. */

    /* TLS to the config service: all three PEM files, or all NULL. */
    char *ssl_private_key;
    char *ssl_certificate;
    char *ssl_ca_cert;
};

char *node_settings_parse(const struct smap *external_ids, const char *rundir,
                          struct node_settings *) OVS_WARN_UNUSED_RESULT;
void node_settings_add_columns(struct ovsdb_idl *);
char *node_settings_read(const struct ovsdb_idl *, const char *rundir,
                         struct node_settings *) OVS_WARN_UNUSED_RESULT;
bool node_settings_equals(const struct node_settings *,
                          const struct node_settings *);
void node_settings_destroy(struct node_settings *);

#endif /* node-settings.h */
