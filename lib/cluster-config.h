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

/* cluster-config: the client side of the config service.
 *
 * The config service is an ovsdb-server (standalone, or a Raft cluster of 3
 * or 5 members) serving the OVSLB database of schema/ovslb.ovsschema: the
 * cluster's settings (one Cluster row), its VIPs, its LB nodes and its server
 * nodes.  ovslb-ctl edits it; ovslb-controller and ovslb-agent follow it live
 * through this module.
 *
 * A 'struct cluster_config' connects through the generated IDL
 * (lib/ovslb-idl.h) to one remote or to a comma-separated list of them (any
 * member of a Raft cluster will do: reads do not need the leader), reconnects
 * by itself when a server goes away, and turns the database into a
 * read-only snapshot of plain C structs with every default filled in.  A
 * daemon calls cluster_config_run() and cluster_config_wait() from its main
 * loop and rebuilds its own state whenever cluster_config_seqno() changes.
 * Rows that do not make sense (an unparsable address, a node id used twice)
 * are left out of the snapshot and counted, never trusted.
 *
 * The client writes one thing: once the daemon says its data path reflects
 * the snapshot (cluster_config_ack()), the Cluster row's 'cfg' that came
 * with it goes into the daemon's own node row, as applied_cfg, for
 * 'ovslb-ctl --wait' to see.
 *
 * The settings table (cluster_setting_defs[]), the rules that tie settings
 * together (cluster_settings_check()), the enum conversions, a VIP's
 * health check (cluster_vip_health_parse()) and cluster_parse_address() are
 * pure and shared with ovslb-ctl, so that the CLI and the daemons agree on
 * names, defaults, ranges and coherence: ovslb-ctl refuses an incoherent
 * combination, and a snapshot replaces one that reached the database some
 * other way by the defaults (or, for a VIP, leaves the VIP out), counted
 * and logged.
 *
 * Single-threaded: call everything from the thread that runs the loop. */

#ifndef CLUSTER_CONFIG_H
#define CLUSTER_CONFIG_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openvswitch/compiler.h"
#include "openvswitch/uuid.h"

struct ovsdb_idl_column;
struct smap;

/* Bytes a packet grows by when an LB node encapsulates it towards a server:
 * outer IPv4 (20) + UDP (8) + Geneve (8) + one 8-byte Geneve option + inner
 * Ethernet (14).  A VIP's default MSS is the fabric MTU minus this and minus
 * the inner IP and TCP headers (40 for IPv4, 60 for IPv6). */
#define CLUSTER_GENEVE_OVERHEAD 58

/* The cluster-wide settings: the Cluster row's columns, with the defaults of
 * PROTOCOL.md wherever a column is unset (except syn_cookie_rate, lowered
 * below the SYN meter: see cluster_settings_check()).  Times are in the unit
 * their name ends with. */
struct cluster_settings {
    char *name;                 /* Cluster name ("" if unset). */
    char *cluster_key;          /* HMAC key of control messages ("" if
                                 * unset: daemons must refuse to run). */
    char *cluster_key_next;     /* Staged key, accepted but not used to
                                 * sign until promoted ("" if none). */

    uint32_t key_grace_ms;              /* Old key accepted after a
                                         * promotion for this long. */
    uint32_t ring_vnodes;               /* Points per LB node on the ring. */
    uint32_t control_port;              /* UDP control port. */
    uint32_t publish_port;              /* UDP port of PUBLISH_FWD. */
    uint32_t replay_window;             /* Per-sender replay window. */
    uint32_t buffer_packets;            /* Ingress buffer, per pending flow. */
    uint32_t buffer_bytes;
    uint32_t buffer_timeout_ms;
    uint32_t syn_table_max;             /* Bound of a PFT's SYN table. */
    uint32_t syn_cookie_threshold_pct;  /* SYN cookies above this fill... */
    uint32_t syn_cookie_rate;           /* ...or this many SYNs per second. */
    uint32_t syn_meter_rate;            /* SYN packet-ins/s of an LB node. */
    uint32_t other_meter_rate;          /* Other packet-ins/s of an LB node. */
    uint32_t tracker_table_max;         /* Bound of a tracker's entries. */
    uint32_t mapping_table_max;         /* Bound of an ingress's mappings. */
    uint32_t pending_table_max;         /* ...and of its pending flows. */
    uint32_t xlate_table_max;           /* Bound of an agent's table. */
    uint32_t fabric_mtu;                /* Underlay MTU (default MSS). */
    uint32_t vip_wscale;                /* Default window scale of a VIP. */
    uint32_t vip_ttl;                   /* Default retry TTL of a VIP. */
    uint32_t flow_idle_timeout_s;       /* Retired (schema column kept). */
    uint32_t xlate_linger_ms;           /* Translation entry after close. */
    uint32_t xlate_syn_timeout_ms;      /* Agent's SYN to its server... */
    uint32_t xlate_syn_tries;           /* ...sent this many times. */
    uint32_t xlate_closed_idle_ms;      /* Closed entry without packets. */
    uint32_t maglev_table_size;         /* hash-mode table slots (prime). */
    uint32_t publish_interval_ms;       /* Connection publishing period. */
    uint32_t lease_ms;                  /* Lease of a published entry. */
    uint32_t handshake_timeout_ms;      /* Tracker entry before the ACK. */
    uint32_t connect_retry_ms;          /* PFT's CONN_REQ retry period. */
    uint32_t query_retry_ms;            /* Ingress's tracker query retry. */
    uint32_t ping_interval_ms;          /* LB node health checks. */
    uint32_t gossip_interval_ms;        /* Heartbeat table gossip. */
    uint32_t suspect_ms;                /* No rise for this: suspect... */
    uint32_t unhealthy_ms;              /* ...and this much more: unhealthy. */
    uint32_t server_check_interval_ms;  /* Server node health checks. */
    uint32_t bgp_local_as;              /* AS of the LB nodes' speakers. */
    uint32_t bgp_router_as;             /* AS of the edge router. */
};

/* One integer setting: its name (the Cluster column and the ovslb-ctl key),
 * where it lives in 'struct cluster_settings', its default and its range. */
struct cluster_setting {
    const char *name;
    size_t offset;              /* Of a uint32_t in struct cluster_settings. */
    uint32_t default_value;
    uint32_t min, max;          /* Inclusive; the schema has the same. */
    bool must_be_prime;
    const char *help;
    const char *retired;        /* Non-null: no longer applies, and why;
                                 * cluster_setting_parse() refuses it. */
};

extern const struct cluster_setting cluster_setting_defs[];
extern const size_t cluster_n_setting_defs;

const struct cluster_setting *cluster_setting_find(const char *name);
const struct ovsdb_idl_column *cluster_column(const char *name);
char *cluster_setting_parse(const struct cluster_setting *,
                            const char *value, uint32_t *valuep)
    OVS_WARN_UNUSED_RESULT;
uint32_t cluster_setting_get(const struct cluster_settings *,
                             const struct cluster_setting *);
void cluster_setting_set(struct cluster_settings *,
                         const struct cluster_setting *, uint32_t value);
void cluster_settings_init(struct cluster_settings *);
char *cluster_settings_check(const struct cluster_settings *)
    OVS_WARN_UNUSED_RESULT;
void cluster_settings_destroy(struct cluster_settings *);

/* Bounds on a cluster key's length, in bytes (ctl-msg.h's CTL_KEY_*_LEN). */
#define CLUSTER_KEY_MIN_LEN 16
#define CLUSTER_KEY_MAX_LEN 64
char *cluster_key_check(const char *name, const char *key)
    OVS_WARN_UNUSED_RESULT;

/* How a VIP's flows are handled (DESIGN.md, "Two VIP modes"). */
enum cluster_vip_mode {
    CLUSTER_VIP_TRACKED,        /* Default. */
    CLUSTER_VIP_HASH,
};

/* A VIP's server-selection algorithm (DESIGN.md). */
enum cluster_vip_algorithm {
    CLUSTER_ALG_RANDOM,         /* Default. */
    CLUSTER_ALG_WEIGHTED_RANDOM,
    CLUSTER_ALG_ROUND_ROBIN,
    CLUSTER_ALG_LEAST_CONNECTIONS,
    CLUSTER_ALG_LOWEST_LATENCY,
    CLUSTER_ALG_HASH,
    CLUSTER_ALG_SOURCE,
    CLUSTER_ALG_NEAREST,        /* Servers of the ingress LB node's zone
                                 * first. */
};
#define CLUSTER_N_ALGS (CLUSTER_ALG_NEAREST + 1)

const char *cluster_vip_mode_to_string(enum cluster_vip_mode);
char *cluster_vip_unimplemented(const char *mode, const char *protocol,
                                const char *algorithm, const char *address);
char *cluster_vip_mode_options_check(const char *mode, bool has_mss,
                                     bool has_wscale, bool has_ttl);
bool cluster_vip_mode_from_string(const char *, enum cluster_vip_mode *);
const char *cluster_vip_algorithm_to_string(enum cluster_vip_algorithm);
bool cluster_vip_algorithm_from_string(const char *,
                                       enum cluster_vip_algorithm *);

char *cluster_parse_address(const char *, struct in6_addr *)
    OVS_WARN_UNUSED_RESULT;
uint16_t cluster_default_mss(uint32_t fabric_mtu, const struct in6_addr *vip);

/* How an agent checks that a VIP port's local service answers
 * (VIP column health_check). */
enum cluster_health_type {
    CLUSTER_HEALTH_TCP,         /* "tcp" (default): a TCP connect. */
    CLUSTER_HEALTH_HTTP,        /* "http": GET 'http_path', expect
                                 * 'http_status'. */
    CLUSTER_HEALTH_NONE,        /* "none": no check; the port counts as up. */
    CLUSTER_HEALTH_UDP,         /* "udp" (default of a UDP VIP): an empty
                                 * datagram that the server's stack must
                                 * not refuse (ICMP port unreachable). */
};
struct cluster_vip_health {
    enum cluster_health_type type;
    char *http_path;            /* Default "/"; starts with '/', printable
                                 * ASCII without spaces, at most 256 bytes. */
    uint16_t http_status;       /* Default 200; 100..599. */
    uint32_t interval_ms;       /* Default 500; 100..60000. */
    uint32_t timeout_ms;        /* Default 500; 50..60000, and not above
                                 * interval_ms. */
    uint32_t rise;              /* Default 2; 1..100: successes in a row to
                                 * come up. */
    uint32_t fall;              /* Default 2; 1..100: failures in a row to
                                 * go down. */
};

/* Longest 'http_path' of a health check, in bytes. */
#define CLUSTER_HEALTH_PATH_MAX 256

void cluster_vip_health_init(struct cluster_vip_health *);
char *cluster_vip_health_parse(const struct smap *health_check,
                               struct cluster_vip_health *)
    OVS_WARN_UNUSED_RESULT;
char *cluster_vip_health_for_protocol(struct cluster_vip_health *,
                                      const struct smap *health_check,
                                      const char *protocol)
    OVS_WARN_UNUSED_RESULT;
void cluster_vip_health_clone(struct cluster_vip_health *dst,
                              const struct cluster_vip_health *src);
bool cluster_vip_health_equals(const struct cluster_vip_health *,
                               const struct cluster_vip_health *);
void cluster_vip_health_destroy(struct cluster_vip_health *);
const char *cluster_health_type_to_string(enum cluster_health_type);

/* A server of a VIP. */
struct cluster_vip_server {
    uint32_t node_id;           /* A node of 'server_nodes'. */
    uint32_t weight;            /* 0 (drain) to 65535; default 1. */
};

/* A VIP, defaults filled in. */
struct cluster_vip {
    char *name;                 /* Unique. */
    struct in6_addr address;    /* IPv4 as a v4-mapped IPv6 address. */
    uint16_t *ports;            /* Sorted, no duplicates, at least one. */
    size_t n_ports;
    uint8_t protocol;           /* IPPROTO_TCP or IPPROTO_UDP. */
    enum cluster_vip_mode mode;
    enum cluster_vip_algorithm algorithm;
    uint16_t mss;               /* SYN/ACK MSS ceiling. */
    uint8_t wscale;             /* SYN/ACK window scale. */
    uint8_t ttl;                /* Retry TTL of CONNECT. */
    bool enabled;               /* Admin state up? */
    struct cluster_vip_server *servers; /* Sorted by node id. */
    size_t n_servers;
    struct cluster_vip_health health;   /* Check of each port's service. */
};

/* An LB node. */
struct cluster_lb_node {
    uint32_t node_id;
    struct in6_addr north;      /* Towards the edge router. */
    struct in6_addr south;      /* Underlay. */
    struct in6_addr control;    /* Control messages. */
    char *zone;                 /* "" if none. */
    bool enabled;
};

/* A server node. */
struct cluster_server_node {
    uint32_t node_id;
    struct in6_addr underlay;
    struct in6_addr control;
    char *zone;                 /* "" if none. */
    bool enabled;
    char **netns;               /* Namespaces the agent watches, sorted;
                                 * none means the agent's own. */
    size_t n_netns;
};

/* The whole configuration at one moment.  Read-only for its users; arrays
 * are sorted (VIPs by name, nodes by id) so that two snapshots of the same
 * database compare equal. */
struct cluster_snapshot {
    struct cluster_settings settings;
    bool has_cluster_row;       /* False: settings are all defaults. */
    struct uuid cluster_uuid;   /* The Cluster row's (zero if none): what
                                 * the rings' key derives from, since it
                                 * does not change when the cluster key is
                                 * rotated. */
    struct cluster_vip *vips;
    size_t n_vips;
    struct cluster_lb_node *lb_nodes;
    size_t n_lb_nodes;
    struct cluster_server_node *server_nodes;
    size_t n_server_nodes;
    size_t n_rejected;          /* Rows left out as invalid. */
    int ref_cnt;                /* Private. */
};

struct cluster_snapshot *cluster_snapshot_ref(const struct cluster_snapshot *);
void cluster_snapshot_unref(struct cluster_snapshot *);
bool cluster_snapshot_equals(const struct cluster_snapshot *,
                             const struct cluster_snapshot *);
const struct cluster_vip *cluster_snapshot_find_vip(
    const struct cluster_snapshot *, const char *name);
const struct cluster_lb_node *cluster_snapshot_find_lb_node(
    const struct cluster_snapshot *, uint32_t node_id);
const struct cluster_server_node *cluster_snapshot_find_server_node(
    const struct cluster_snapshot *, uint32_t node_id);

/* The client. */
struct cluster_config *cluster_config_create(const char *remotes);
void cluster_config_destroy(struct cluster_config *);
void cluster_config_run(struct cluster_config *);
void cluster_config_wait(struct cluster_config *);
uint64_t cluster_config_seqno(const struct cluster_config *);
const struct cluster_snapshot *cluster_config_snapshot(
    const struct cluster_config *);
bool cluster_config_is_connected(const struct cluster_config *);
unsigned int cluster_config_n_connects(const struct cluster_config *);
const char *cluster_config_remotes(const struct cluster_config *);
int cluster_config_last_error(const struct cluster_config *);
void cluster_config_force_reconnect(struct cluster_config *);

/* Acknowledging configurations (ovslb-ctl --wait): the Cluster row's 'cfg'
 * that the current snapshot reflects, and the write of this node's
 * applied_cfg once the daemon's data path reflects that snapshot. */
enum cluster_node_kind {
    CLUSTER_NODE_LB,            /* An LB_Node row. */
    CLUSTER_NODE_SERVER,        /* A Server_Node row. */
};
int64_t cluster_config_cfg(const struct cluster_config *);
void cluster_config_ack(struct cluster_config *, enum cluster_node_kind,
                        uint32_t node_id);
void cluster_config_ack_stats(const struct cluster_config *,
                              uint64_t *n_acks, uint64_t *n_failures);

#endif /* cluster-config.h */
