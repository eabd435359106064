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

#include <config.h>
#include "node-daemon.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "cluster-config.h"
#include "openflow/openflow.h"
#include "flow.h"
#include "ctl-msg.h"
#include "ctl-sock.h"
#include "dirs.h"
#include "flow-key.h"
#include "metrics.h"
#include "ofctrl.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "openvswitch/poll-loop.h"
#include "ovsdb-idl.h"
#include "packets.h"
#include "store.h"
#include "timeval.h"
#include "tls-files.h"
#include "util.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(node_daemon);

struct node_daemon {
    enum node_role role;
    uint64_t seqno;             /* Bumped on every change the role sees. */

    /* Local Open vSwitch database. */
    struct ovsdb_idl *ovs_idl;
    unsigned int ovs_idl_seqno;

    /* This node's settings, once valid. */
    struct node_settings settings;
    bool has_settings;
    char *settings_error;

    /* The config service, and the node's TLS files for ssl: remotes (NULL
     * if the settings name none). */
    struct cluster_config *config;
    uint64_t config_seqno;
    struct tls_files *tls;

    /* OpenFlow connection to the bridge. */
    struct ofctrl *ofctrl;

    /* Control socket and its key. */
    struct ctl_sock *sock;
    struct in6_addr sock_addr;
    uint16_t sock_port;
    char *sock_error;
    char *key;                  /* Cluster key the socket has, or NULL. */
    char *key_next;             /* Its next key ("" if none), if 'key'. */
    char *key_error;

    /* SQLite store. */
    struct store *store;
    char *store_error;

    /* Prometheus metrics, if the settings name a file (metrics.h). */
    struct metrics *metrics;
    long long int next_metrics; /* Next write, ms of time_msec(). */
};

/* Creates the shared drivers of a daemon of 'role', reading the node's
 * settings from the local Open vSwitch database at 'ovs_remote'. */
struct node_daemon *
node_daemon_create(const char *ovs_remote, enum node_role role)
{
    struct node_daemon *nd = xzalloc(sizeof *nd);

    nd->role = role;
    nd->seqno = 1;
    nd->ovs_idl = ovsdb_idl_create(ovs_remote, &ovsrec_idl_class, false,
                                   true);
    node_settings_add_columns(nd->ovs_idl);
    ovsdb_idl_add_table(nd->ovs_idl, &ovsrec_table_interface);
    ovsdb_idl_add_column(nd->ovs_idl, &ovsrec_interface_col_name);
    ovsdb_idl_add_column(nd->ovs_idl, &ovsrec_interface_col_ofport);
    ovsdb_idl_add_column(nd->ovs_idl, &ovsrec_interface_col_mac_in_use);
    nd->settings_error = xstrdup("waiting for the local Open vSwitch "
                                 "database");
    return nd;
}

static void
set_error(char **errorp, char *error)
{
    free(*errorp);
    *errorp = error;
}

static void
close_socket(struct node_daemon *nd)
{
    ctl_sock_close(nd->sock);
    nd->sock = NULL;
    free(nd->key);
    nd->key = NULL;
    free(nd->key_next);
    nd->key_next = NULL;
}

/* Frees 'nd' and everything it opened.  A null 'nd' is a no-op. */
void
node_daemon_destroy(struct node_daemon *nd)
{
    if (nd) {
        close_socket(nd);
        ofctrl_destroy(nd->ofctrl);
        cluster_config_destroy(nd->config);
        tls_files_destroy(nd->tls);
        if (nd->store) {
            store_close(nd->store);
        }
        if (nd->has_settings) {
            node_settings_destroy(&nd->settings);
        }
        ovsdb_idl_destroy(nd->ovs_idl);
        metrics_destroy(nd->metrics);
        free(nd->settings_error);
        free(nd->sock_error);
        free(nd->key_error);
        free(nd->store_error);
        free(nd);
    }
}

/* Starts writing metrics as 'new' says, labelled with its node id and this
 * daemon's role, or stops. */
static void
update_metrics(struct node_daemon *nd, const struct node_settings *new)
{
    metrics_destroy(nd->metrics);
    nd->metrics = NULL;
    if (new->metrics_file) {
        char id[16];

        snprintf(id, sizeof id, "%"PRIu32, new->node_id);
        nd->metrics = metrics_create();
        metrics_set_common_label(nd->metrics, "node", id);
        metrics_set_common_label(nd->metrics, "role",
                                 node_role_to_string(nd->role));
        nd->next_metrics = LLONG_MIN;
        VLOG_INFO("metrics: %s, every %d ms", new->metrics_file,
                  NODE_DAEMON_METRICS_INTERVAL_MS);
    }
}

/* Returns true if 'a' and 'b' name the same TLS files (or none). */
static bool
same_tls_files(const struct node_settings *a, const struct node_settings *b)
{
    return (nullable_string_is_equal(a->ssl_private_key, b->ssl_private_key)
            && nullable_string_is_equal(a->ssl_certificate,
                                        b->ssl_certificate)
            && nullable_string_is_equal(a->ssl_ca_cert, b->ssl_ca_cert));
}

static void
apply_settings(struct node_daemon *nd, struct node_settings *new)
{
    const struct node_settings *old = nd->has_settings ? &nd->settings : NULL;

    /* The TLS files first: a new ssl: remote needs them to connect. */
    if (!old || !same_tls_files(old, new)) {
        tls_files_destroy(nd->tls);
        nd->tls = (new->ssl_private_key
                   ? tls_files_create(new->ssl_private_key,
                                      new->ssl_certificate, new->ssl_ca_cert,
                                      time_msec())
                   : NULL);
        if (nd->tls && nd->config && old
            && !strcmp(old->config, new->config)) {
            cluster_config_force_reconnect(nd->config);
        }
    }
    if (!old || strcmp(old->config, new->config)) {
        VLOG_INFO("config service: %s", new->config);
        cluster_config_destroy(nd->config);
        nd->config = cluster_config_create(new->config);
        nd->config_seqno = 0;
        close_socket(nd);
    }
    if (!old || strcmp(old->bridge, new->bridge)) {
        char *target = xasprintf("unix:%s/%s.mgmt", ovs_rundir(),
                                 new->bridge);

        VLOG_INFO("bridge %s: OpenFlow connection to %s", new->bridge,
                  target);
        ofctrl_destroy(nd->ofctrl);
        nd->ofctrl = ofctrl_create(target,
                                   nd->role == NODE_ROLE_LB
                                   ? NODE_DAEMON_COOKIE_LB
                                   : NODE_DAEMON_COOKIE_SERVER, 0);
        free(target);
    }
    if (!old || strcmp(old->store, new->store)) {
        char *error = NULL;
        int retval;

        if (nd->store) {
            store_close(nd->store);
            nd->store = NULL;
        }
        retval = store_open(new->store,
                            nd->role == NODE_ROLE_LB ? STORE_LB_NODE
                                                     : STORE_SERVER_NODE,
                            &nd->store, &error);
        if (retval) {
            VLOG_ERR("%s (running without a journal)", error);
            set_error(&nd->store_error, error);
        } else {
            VLOG_INFO("store: %s", new->store);
            set_error(&nd->store_error, NULL);
        }
    }
    if (!old || old->node_id != new->node_id
        || !nullable_string_is_equal(old->metrics_file,
                                     new->metrics_file)) {
        update_metrics(nd, new);
    }
    if (nd->has_settings) {
        if (old->node_id != new->node_id) {
            close_socket(nd);
        }
        node_settings_destroy(&nd->settings);
    }
    nd->settings = *new;
    nd->has_settings = true;
}

static void
read_settings(struct node_daemon *nd)
{
    struct node_settings new;
    char *error = node_settings_read(nd->ovs_idl, ovs_rundir(), &new);

    if (error) {
        if (!nd->settings_error || strcmp(error, nd->settings_error)) {
            VLOG_WARN("node settings: %s", error);
        }
        set_error(&nd->settings_error, error);
        return;
    }
    set_error(&nd->settings_error, NULL);
    if (new.role != nd->role) {
        set_error(&nd->settings_error,
                  xasprintf("this node's ovslb-role is %s, but this daemon "
                            "serves role %s",
                            node_role_to_string(new.role),
                            node_role_to_string(nd->role)));
        VLOG_WARN("%s", nd->settings_error);
        node_settings_destroy(&new);
        return;
    }
    if (nd->has_settings && node_settings_equals(&nd->settings, &new)) {
        node_settings_destroy(&new);
        return;
    }
    apply_settings(nd, &new);
    nd->seqno++;
}

/* Returns the control address of this node in 'snap', or NULL if the node
 * is not configured there. */
static const struct in6_addr *
own_control_address(const struct node_daemon *nd,
                    const struct cluster_snapshot *snap)
{
    if (nd->role == NODE_ROLE_LB) {
        const struct cluster_lb_node *lb
            = cluster_snapshot_find_lb_node(snap, nd->settings.node_id);
        return lb ? &lb->control : NULL;
    } else {
        const struct cluster_server_node *srv
            = cluster_snapshot_find_server_node(snap, nd->settings.node_id);
        return srv ? &srv->control : NULL;
    }
}

static void
update_socket(struct node_daemon *nd)
{
    const struct cluster_snapshot *snap = cluster_config_snapshot(nd->config);
    const struct in6_addr *addr;
    uint16_t port;

    if (!snap) {
        return;
    }
    addr = own_control_address(nd, snap);
    if (!addr) {
        close_socket(nd);
        set_error(&nd->sock_error,
                  xasprintf("node %"PRIu32" is not configured as %s node "
                            "in the config service",
                            nd->settings.node_id,
                            node_role_to_string(nd->role)));
        return;
    }
    port = snap->settings.control_port;
    if (!nd->sock || !ipv6_addr_equals(addr, &nd->sock_addr)
        || port != nd->sock_port) {
        char *error;

        close_socket(nd);
        error = ctl_sock_open(addr, port, nd->settings.node_id, &nd->sock);
        if (error) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 1);

            VLOG_WARN_RL(&rl, "%s", error);
            set_error(&nd->sock_error, error);
            return;
        }
        char s[INET6_ADDRSTRLEN];
        ipv6_string_mapped(s, addr);
        VLOG_INFO("control socket bound to [%s]:%u", s, port);
        set_error(&nd->sock_error, NULL);
        nd->sock_addr = *addr;
        nd->sock_port = port;
    }

    const struct cluster_settings *cs = &snap->settings;
    if (!nd->key || strcmp(nd->key, cs->cluster_key)
        || strcmp(nd->key_next, cs->cluster_key_next)) {
        char *error = node_daemon_set_sock_keys(nd->sock, cs);

        free(nd->key);
        free(nd->key_next);
        nd->key = nd->key_next = NULL;
        if (error) {
            /* The socket may have lost its key: try again on the next
             * run. */
            set_error(&nd->key_error, error);
            return;
        }
        set_error(&nd->key_error, NULL);
        nd->key = xstrdup(cs->cluster_key);
        nd->key_next = xstrdup(cs->cluster_key_next);
    }
}

/* Gives 'sock' the cluster keys of 'cs': the current key, and the next one
 * if one is staged (see ctl_sock_set_keys() for what a socket does with
 * them, and README.md for the rotation).  Returns NULL, or an error message
 * that the caller must free. */
char *
node_daemon_set_sock_keys(struct ctl_sock *sock,
                          const struct cluster_settings *cs)
{
    struct ctl_key current, next;
    int error;

    BUILD_ASSERT_DECL(CLUSTER_KEY_MIN_LEN == CTL_KEY_MIN_LEN);
    BUILD_ASSERT_DECL(CLUSTER_KEY_MAX_LEN == CTL_KEY_MAX_LEN);

    error = ctl_key_init(&current, cs->cluster_key, strlen(cs->cluster_key));
    if (error == EINVAL) {
        return xasprintf("the cluster key must be %d to %d bytes "
                         "(set it with 'ovslb-ctl set cluster_key=')",
                         CTL_KEY_MIN_LEN, CTL_KEY_MAX_LEN);
    }
    memset(&next, 0, sizeof next);
    if (!error && cs->cluster_key_next[0]) {
        /* cluster-config lets through only a next key of a valid length. */
        error = ctl_key_init(&next, cs->cluster_key_next,
                             strlen(cs->cluster_key_next));
    }
    if (!error) {
        /* Before the keys: it applies to the promotion they may make. */
        ctl_sock_set_key_grace(sock, cs->key_grace_ms);
        error = ctl_sock_set_keys(sock, &current,
                                  next.state ? &next : NULL);
    }
    ctl_key_destroy(&current);
    ctl_key_destroy(&next);
    return (error
            ? xasprintf("cannot set up the cluster key: %s",
                        ovs_strerror(error))
            : NULL);
}

/* Runs the drivers: reads the local database and the config service,
 * reconnects what changed, services OpenFlow and the store. */
void
node_daemon_run(struct node_daemon *nd)
{
    node_daemon_flush(nd);
    ovsdb_idl_run(nd->ovs_idl);
    if (ovsdb_idl_get_seqno(nd->ovs_idl) != nd->ovs_idl_seqno) {
        nd->ovs_idl_seqno = ovsdb_idl_get_seqno(nd->ovs_idl);
        read_settings(nd);
        nd->seqno++;            /* Port numbers or addresses may differ. */
    }
    if (nd->tls && tls_files_run(nd->tls, time_msec()) && nd->config) {
        /* Renewed files: connect with them now. */
        cluster_config_force_reconnect(nd->config);
    }
    if (nd->config) {
        cluster_config_run(nd->config);
        if (cluster_config_seqno(nd->config) != nd->config_seqno) {
            nd->config_seqno = cluster_config_seqno(nd->config);
            update_socket(nd);
            nd->seqno++;
        } else if (!nd->sock || !nd->key) {
            update_socket(nd);
        }
    }
    if (nd->ofctrl) {
        ofctrl_run(nd->ofctrl);
    }
    if (nd->store) {
        store_run(nd->store, time_msec());
    }
}

/* Arranges for the poll loop to wake when node_daemon_run() has work. */
void
node_daemon_wait(struct node_daemon *nd)
{
    ovsdb_idl_wait(nd->ovs_idl);
    if (nd->tls) {
        tls_files_wait(nd->tls);
    }
    if (nd->config) {
        cluster_config_wait(nd->config);
    }
    if (nd->ofctrl) {
        ofctrl_wait(nd->ofctrl);
    }
    if (nd->sock) {
        ctl_sock_wait(nd->sock);
    }
    if (nd->store) {
        store_wait(nd->store);
    }
    if (nd->metrics) {
        poll_timer_wait_until(nd->next_metrics);
    }
}

/* Returns a number that changes whenever the settings, the configuration,
 * the control socket or the local ports change. */
uint64_t
node_daemon_seqno(const struct node_daemon *nd)
{
    return nd->seqno;
}

/* Returns the node's settings, or NULL until they are valid. */
const struct node_settings *
node_daemon_settings(const struct node_daemon *nd)
{
    return nd->has_settings ? &nd->settings : NULL;
}

/* Returns the config service's current snapshot, or NULL before the first
 * one. */
const struct cluster_snapshot *
node_daemon_config(const struct node_daemon *nd)
{
    return nd->config ? cluster_config_snapshot(nd->config) : NULL;
}

/* Tells the config service that this node has applied the configuration
 * that node_daemon_config() returns: the role code calls it, on every pass
 * of its loop, when its data path reflects that configuration (what that
 * means is the role's to say: ovslb-ctl(8), "--wait").  It writes to the
 * config service only when the acknowledged value changes. */
void
node_daemon_ack_config(struct node_daemon *nd)
{
    if (nd->config && nd->has_settings) {
        cluster_config_ack(nd->config,
                           nd->role == NODE_ROLE_LB ? CLUSTER_NODE_LB
                                                    : CLUSTER_NODE_SERVER,
                           nd->settings.node_id);
    }
}

/* Returns the OpenFlow connection, or NULL until the bridge is known. */
struct ofctrl *
node_daemon_ofctrl(const struct node_daemon *nd)
{
    return nd->ofctrl;
}

/* Returns the control socket, or NULL until it is bound and keyed. */
struct ctl_sock *
node_daemon_ctl_sock(const struct node_daemon *nd)
{
    return nd->sock && nd->key ? nd->sock : NULL;
}

/* Returns the store, or NULL if it could not be opened. */
struct store *
node_daemon_store(const struct node_daemon *nd)
{
    return nd->store;
}

static const struct ovsrec_interface *
find_interface(const struct node_daemon *nd, const char *name)
{
    const struct ovsrec_interface *iface;

    OVSREC_INTERFACE_FOR_EACH (iface, nd->ovs_idl) {
        if (!strcmp(iface->name, name)) {
            return iface;
        }
    }
    return NULL;
}

/* Returns the OpenFlow port number of the interface named 'port' (the
 * bridge's name gives OFPP_LOCAL), or OFPP_NONE if there is none yet. */
ofp_port_t
node_daemon_ofport(const struct node_daemon *nd, const char *port)
{
    const struct ovsrec_interface *iface;

    if (nd->has_settings && !strcmp(port, nd->settings.bridge)) {
        return OFPP_LOCAL;
    }
    iface = find_interface(nd, port);
    if (!iface || !iface->n_ofport || iface->ofport[0] <= 0
        || iface->ofport[0] >= ofp_to_u16(OFPP_MAX)) {
        return OFPP_NONE;
    }
    return u16_to_ofp(iface->ofport[0]);
}

/* Stores in '*mac' the Ethernet address in use by the interface named
 * 'port'.  Returns false if it is not known yet. */
bool
node_daemon_port_mac(const struct node_daemon *nd, const char *port,
                     struct eth_addr *mac)
{
    const struct ovsrec_interface *iface = find_interface(nd, port);

    return (iface && iface->mac_in_use
            && eth_addr_from_string(iface->mac_in_use, mac));
}

/* Returns true if every driver is up: settings valid, config received,
 * OpenFlow connected and synced, control socket bound and keyed. */
bool
node_daemon_is_ready(const struct node_daemon *nd)
{
    return (nd->has_settings && !nd->settings_error
            && node_daemon_config(nd)
            && nd->ofctrl && ofctrl_is_connected(nd->ofctrl)
            && ofctrl_is_synced(nd->ofctrl)
            && node_daemon_ctl_sock(nd));
}

/* Queues 'msg' (type and body filled in) for node 'dst', an LB node or a
 * server node of the configuration, at its control address and the
 * cluster's control port; node_daemon_flush() sends it, with whatever else
 * this pass of the loop queued for the same node (ctl_sock_queue()).
 * Returns 0, or ENOTCONN without a control socket, EHOSTUNREACH for a node
 * not configured, or what ctl_sock_queue() returns; failures are logged
 * (rate-limited). */
int
node_daemon_send(const struct node_daemon *nd, uint32_t dst,
                 struct ctl_msg *msg)
{
    const struct cluster_snapshot *snap = node_daemon_config(nd);

    return node_daemon_send_via(nd, node_daemon_ctl_sock(nd),
                                snap ? snap->settings.control_port : 0,
                                dst, msg);
}

/* Like node_daemon_send(), but from 'sock' (NULL: ENOTCONN) to 'port' of
 * the node's control address; the caller flushes 'sock' (ctl_sock_flush())
 * if it is not the control socket. */
int
node_daemon_send_via(const struct node_daemon *nd, struct ctl_sock *sock,
                     uint16_t port, uint32_t dst, struct ctl_msg *msg)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    const struct cluster_snapshot *snap = node_daemon_config(nd);
    const struct in6_addr *addr = NULL;

    if (snap) {
        const struct cluster_lb_node *lb
            = cluster_snapshot_find_lb_node(snap, dst);
        const struct cluster_server_node *srv
            = lb ? NULL : cluster_snapshot_find_server_node(snap, dst);

        addr = lb ? &lb->control : srv ? &srv->control : NULL;
    }
    if (!sock || !addr) {
        VLOG_WARN_RL(&rl, "cannot send %s to node %"PRIu32": %s",
                     ctl_msg_type_to_string(msg->type), dst,
                     !sock ? "no socket" : "unknown node");
        return !sock ? ENOTCONN : EHOSTUNREACH;
    }
    return ctl_sock_queue(sock, msg, addr, port);
}

/* Sends what node_daemon_send() queued.  The daemon calls it at the end of
 * each pass of its loop; node_daemon_run() also does at its start. */
void
node_daemon_flush(struct node_daemon *nd)
{
    if (nd->sock) {
        ctl_sock_flush(nd->sock);
    }
}

/* Returns the key of the consistent-hash rings (trackers, egress, server
 * checkers), or 0 before the configuration is known.  Every node of the
 * cluster must compute the same rings, and keep them while the cluster key
 * is rotated (README.md, "Rotating the cluster key"): nodes apply a
 * promotion one after the other, and rings keyed by the cluster key would
 * disagree meanwhile about every flow's trackers.  So the key derives from
 * the Cluster row's UUID, which every node reads from the config service,
 * which is random (ovsdb-server draws it when 'ovslb-ctl init' creates the
 * row) and which no message carries. */
uint64_t
node_daemon_ring_key(const struct node_daemon *nd)
{
    const struct cluster_snapshot *snap = node_daemon_config(nd);

    return (snap && snap->has_cluster_row
            ? flow_key_siphash(&snap->cluster_uuid,
                               sizeof snap->cluster_uuid,
                               UINT64_C(0x72696e672d6b6579),
                               UINT64_C(0x6f76736c622d7267))
            : 0);
}

/* Appends to 's' one line per driver saying its state. */
void
node_daemon_status(const struct node_daemon *nd, struct ds *s)
{
    if (nd->has_settings) {
        ds_put_format(s, "node: %"PRIu32" (%s), bridge %s\n",
                      nd->settings.node_id,
                      node_role_to_string(nd->settings.role),
                      nd->settings.bridge);
    }
    if (nd->settings_error) {
        ds_put_format(s, "settings: %s\n", nd->settings_error);
    }
    if (nd->config) {
        uint64_t n_acks, n_ack_failures;
        bool connected = cluster_config_is_connected(nd->config);
        int error = cluster_config_last_error(nd->config);

        cluster_config_ack_stats(nd->config, &n_acks, &n_ack_failures);
        ds_put_format(s, "config service: %s, %s (%u connections)",
                      cluster_config_remotes(nd->config),
                      connected ? "connected" : "not connected",
                      cluster_config_n_connects(nd->config));
        if (!connected && error) {
            ds_put_format(s, ", last error: %s",
                          ovs_retval_to_string(error));
            if (error == ENOPROTOOPT && nd->tls) {
                ds_put_cstr(s, " (no usable TLS private key, certificate "
                            "or CA certificate: see the log)");
            }
        }
        ds_put_char(s, '\n');
        ds_put_format(s, "config service cfg: %"PRId64" read, "
                      "acknowledgements %"PRIu64" written, %"PRIu64
                      " failed\n",
                      cluster_config_cfg(nd->config), n_acks,
                      n_ack_failures);
    }
    if (nd->tls) {
        tls_files_status(nd->tls, s);
    }
    if (nd->ofctrl) {
        ds_put_format(s, "openflow: %s, %s\n",
                      ofctrl_is_connected(nd->ofctrl) ? "connected"
                                                      : "not connected",
                      ofctrl_is_synced(nd->ofctrl) ? "flows in sync"
                                                   : "flows not in sync");
    }
    if (nd->sock) {
        char a[INET6_ADDRSTRLEN];

        ipv6_string_mapped(a, &nd->sock_addr);
        ds_put_format(s, "control socket: [%s]:%u%s\n", a, nd->sock_port,
                      nd->key ? "" : " (no cluster key)");
    }
    if (nd->sock_error) {
        ds_put_format(s, "control socket: %s\n", nd->sock_error);
    }
    if (nd->key_error) {
        ds_put_format(s, "cluster key: %s\n", nd->key_error);
    }
    if (nd->store) {
        ds_put_format(s, "store: %s\n", nd->settings.store);
    } else if (nd->store_error) {
        ds_put_format(s, "store: %s\n", nd->store_error);
    }
    if (nd->metrics) {
        const struct metrics_write_stats *ws
            = metrics_get_write_stats(nd->metrics);

        ds_put_format(s, "metrics: %s, %"PRIu64" writes, %"PRIu64" failed",
                      nd->settings.metrics_file, ws->writes, ws->errors);
        if (ws->last_error) {
            ds_put_format(s, " (last: %s)", ovs_strerror(ws->last_error));
        }
        ds_put_char(s, '\n');
    }
}

/* If this node's settings name a metrics file and a write is due at 'now'
 * (ms of time_msec(); one a NODE_DAEMON_METRICS_INTERVAL_MS), returns the
 * daemon's metrics, cleared and holding those of the shared drivers (the
 * control socket, labelled socket="control", and the OpenFlow connection),
 * to which the role code adds its own before it calls
 * node_daemon_metrics_write().  Otherwise returns NULL. */
struct metrics *
node_daemon_metrics_begin(struct node_daemon *nd, long long int now)
{
    struct metrics *m = nd->metrics;

    if (!m || now < nd->next_metrics) {
        return NULL;
    }
    metrics_clear(m);

    const struct metrics_write_stats *ws = metrics_get_write_stats(m);
    metrics_put(m, "ovslb_metrics_writes_total", METRICS_COUNTER,
                "Metrics files written.", ws->writes, NULL);
    metrics_put(m, "ovslb_metrics_write_errors_total", METRICS_COUNTER,
                "Metrics files that could not be written.", ws->errors,
                NULL);
    metrics_put(m, "ovslb_node_ready", METRICS_GAUGE,
                "1 if the daemon has its settings, configuration, control "
                "socket and OpenFlow connection.",
                node_daemon_is_ready(nd), NULL);
    if (node_daemon_ctl_sock(nd)) {
        ctl_sock_put_metrics(nd->sock, m, "control");
    }
    if (nd->ofctrl) {
        ofctrl_put_metrics(nd->ofctrl, m);
    }
    return m;
}

/* Writes the metrics that node_daemon_metrics_begin() returned to the
 * settings' file, atomically; failures are counted and logged. */
void
node_daemon_metrics_write(struct node_daemon *nd, long long int now)
{
    if (nd->metrics) {
        metrics_write(nd->metrics, nd->settings.metrics_file, false);
        nd->next_metrics = now + NODE_DAEMON_METRICS_INTERVAL_MS;
    }
}
