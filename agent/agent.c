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
 * agent: the drivers of ovslb-agent around its core.  See agent.h.
 */
#include <config.h>
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster-config.h"
#include "coverage.h"
#include "ctl-msg.h"
#include "ctl-sock.h"
#include "dirs.h"
#include "dp-packet.h"
#include "flow.h"
#include "flows/pipeline.h"
#include "flows/server-pipeline.h"
#include "hash.h"
#include "metrics.h"
#include "node-daemon.h"
#include "ofctrl.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-ct.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "owners.h"
#include "packets.h"
#include "random.h"
#include "service-probe.h"
#include "sock-diag.h"
#include "store.h"
#include "switch-conntrack.h"
#include "tcp-seg.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"
#include "vip-load.h"
#include "xlate-path.h"

VLOG_DEFINE_THIS_MODULE(agent);

COVERAGE_DEFINE(agent_frame_bad);
COVERAGE_DEFINE(agent_msg_ignored);

/* Frames read from the translation port per pass of the loop. */
#define FRAMES_PER_RUN 512

/* How often to retry opening the translation port. */
#define XLATE_RETRY_MS 1000

/* Age beyond which the listener table is re-read before it is used, and
 * the age below which a miss does not re-read it. */
#define LISTENERS_MAX_AGE_MS 1000
#define LISTENERS_MIN_AGE_MS 100

/* Age of the load and memory figures. */
#define METRICS_MAX_AGE_MS 1000

/* The TCP states in which a socket is published: it can still carry data
 * (or is about to). */
#define PUBLISH_STATES ((1u << SOCK_DIAG_ESTABLISHED)     \
                        | (1u << SOCK_DIAG_SYN_RECV)      \
                        | (1u << SOCK_DIAG_FIN_WAIT1)     \
                        | (1u << SOCK_DIAG_FIN_WAIT2)     \
                        | (1u << SOCK_DIAG_CLOSE_WAIT)    \
                        | (1u << SOCK_DIAG_LAST_ACK)      \
                        | (1u << SOCK_DIAG_CLOSING))

/* The TCP states a full dump asks the kernel for: those published, and the
 * listeners.  TIME_WAIT is left out: a server that closes first leaves one
 * per connection for 60 s (about 5,000 per server node in the lab under
 * load), all reported every publish_interval_ms for nothing (the kernel
 * still walks them; no CPU difference per connection was measurable in the
 * lab).  An entry whose socket is in TIME_WAIT counts as forgotten, so it
 * stays xlate_linger_ms more, which covers the client's retransmitted FINs,
 * and the table holds about a sixth of the closed connections it did. */
#define FULL_DUMP_STATES (PUBLISH_STATES | (1u << SOCK_DIAG_LISTEN))

/* A VIP address and port with a listener. */
struct listener {
    struct hmap_node node;      /* In 'listeners', by hash_listener(). */
    struct in6_addr addr;       /* :: or ::ffff:0.0.0.0 for any. */
    uint16_t port;
};

/* An LB node of the configuration. */
struct lb_info {
    uint32_t node_id;
    struct in6_addr south;
    bool enabled;
};

struct agent {
    struct node_daemon *nd;
    uint64_t nd_seqno;
    struct agent_options opts;
    bool has_node_limits;       /* 'node_limits' applied at least once. */
    struct agent_limits node_limits;    /* The node settings' admission
                                         * limits that were last applied. */
    char *geneve_port_name;
    char *xlate_port_name;
    long long int now;

    /* Configuration. */
    struct agent_core *core;
    uint32_t self;
    bool configured;
    char *config_error;         /* Why not configured. */
    uint64_t ring_key;
    unsigned int vnodes;
    uint32_t publish_interval_ms;
    struct agent_vip_port *vips;
    size_t n_vips;
    bool *vip_draining;         /* Per VIP port: no longer the node's in the
                                 * configuration, kept for its connections
                                 * (see keep_draining()). */
    size_t *vip_live;           /* Per VIP port: its established sockets at
                                 * the last full dump. */
    /* UDP VIP ports (all of `hash` mode; the agent sees none of their
     * traffic): those the node serves, which it checks and reports; and
     * those of every UDP VIP, which its switch delivers (a server taken
     * out of a VIP keeps the flows the LB nodes still send it). */
    struct agent_vip_port *udp_served;
    size_t n_udp_served;
    struct agent_vip_port *udp_all;
    size_t n_udp_all;
    struct lb_info *lbs;        /* Sorted by node id. */
    size_t n_lbs;
    struct server_pipeline_peer *servers;   /* Every server node but this
                                             * one, sorted by id. */
    size_t n_servers;

    /* Ownership gossip of hash VIPs' connections (owners.h). */
    struct owners *owners;
    uint64_t pipeline_owners_seqno;     /* owners_peers_seqno() the pipeline
                                         * was built with. */
    struct switch_conntrack *ct;        /* Sequence checking off, for the
                                         * ownership entries. */
    uint64_t redirects_failed;          /* Entries not committed or not
                                         * removed (no OpenFlow connection,
                                         * queue full). */

    /* Bridge. */
    ofp_port_t geneve_port;
    ofp_port_t xlate_port;
    struct eth_addr local_mac;
    bool has_local_mac;
    bool pipeline_installed;
    char *pipeline_error;

    /* Translation port. */
    struct xlate_path *xp;
    char *xp_error;
    long long int next_xp_try;

    /* Kernel socket tables, one per namespace. */
    struct sock_diag **diags;
    size_t n_diags;
    char **netns;               /* Names of 'diags' ("" for our own). */
    char *diag_error;
    struct hmap listeners;
    long long int listeners_at;
    bool in_dump;               /* Collecting sockets for the core. */
    struct vip_load *load;      /* The VIP ports' load, of the last full
                                 * dump. */
    struct service_probe *probe;    /* Their services' health checks. */

    /* Healthy LB nodes. */
    bool has_lb_list;           /* An LB_LIST arrived. */
    uint64_t lb_list_version;
    uint32_t *lb_list;          /* Its nodes. */
    size_t n_lb_list;
    uint32_t *healthy;          /* The set in use (configured nodes). */
    size_t n_healthy;
    uint64_t healthy_seqno;     /* Changes of 'healthy'. */
    uint64_t pipeline_healthy_seqno;    /* 'healthy_seqno' the pipeline was
                                         * built with (hash VIPs' egress). */
    uint64_t pipeline_hash_via_agent;   /* hash_via_agent_signature() of
                                         * the pipeline. */
    long long int next_publish;

    /* Journal. */
    struct store *loaded_store; /* Store whose entries were reloaded. */

    /* Local metrics. */
    uint32_t load_milli;
    uint64_t mem_kb;
    long long int metrics_at;

    /* Counters of the drivers. */
    uint64_t pings;
    uint64_t pongs;
    uint64_t pings_unready;
    uint64_t pings_foreign;
    uint64_t lb_lists;
    uint64_t lb_lists_stale;
    uint64_t msgs_ignored;
    uint64_t msgs_no_route;
    uint64_t frames_bad;
    uint64_t frames_to_server;
    uint64_t frames_to_client;
    uint64_t frames_unsent;
    uint64_t publish_rounds;
    uint64_t load_msgs;
    uint64_t conn_reqs_service_down;
    uint64_t journal_loaded;
};

static void set_service_probes(struct agent *,
                               const struct cluster_snapshot *);
static unixctl_cb_func agent_unixctl_show, agent_unixctl_conns,
    agent_unixctl_stats, agent_unixctl_set_limits, agent_unixctl_owners;

/* Fills 'opts' with the defaults. */
void
agent_options_init(struct agent_options *opts)
{
    agent_limits_init(&opts->limits);
}

static void
set_error(char **errorp, char *error)
{
    free(*errorp);
    *errorp = error;
}

/* Outputs of the core. */

static void
io_send(void *a_, uint32_t dst, struct ctl_msg *msg)
{
    struct agent *a = a_;

    if (node_daemon_send(a->nd, dst, msg)) {
        a->msgs_no_route++;
    }
}

static void
io_to_server(void *a_, const void *frame, size_t len)
{
    struct agent *a = a_;

    if (!a->xp || xlate_path_send(a->xp, frame, len)) {
        a->frames_unsent++;
    }
}

static void
io_journal_put(void *a_, const struct flow_key *cp, const void *rec,
               size_t len, long long int expires_after_ms)
{
    struct agent *a = a_;
    struct store *store = node_daemon_store(a->nd);

    if (store) {
        store_put(store, "xlate", cp, sizeof *cp, rec, len,
                  expires_after_ms ? time_wall_msec() + expires_after_ms
                                   : 0);
    }
}

static void
io_journal_del(void *a_, const struct flow_key *cp)
{
    struct agent *a = a_;
    struct store *store = node_daemon_store(a->nd);

    if (store) {
        store_delete(store, "xlate", cp, sizeof *cp);
    }
}

/* Ownership redirects (owners.h).  The switch learns that 'cp' belongs to
 * server 'owner' from a packet-out of a segment of the connection (client
 * to VIP, an ACK) that commits it to the ownership zone with the owner's
 * mark, and goes nowhere after (flows/server-pipeline.h): no flow per
 * connection. */
static bool
io_owner_redirect(void *a_, const struct flow_key *cp, uint32_t owner)
{
    struct agent *a = a_;
    struct ofctrl *ofctrl = node_daemon_ofctrl(a->nd);
    struct tcp_seg_hdr hdr = { .flags = TCP_ACK, .window = 1024 };
    struct ofpact_parse_params pp;
    struct tcp_seg_endpoints ep;
    uint64_t ofpacts_stub[128 / 8];
    uint64_t stub[128 / 8];
    struct ofpbuf ofpacts;
    struct dp_packet b;
    char actions[96];
    bool ok = true;
    char *error;

    dp_packet_use_stub(&b, stub, sizeof stub);
    ofpbuf_use_stub(&ofpacts, ofpacts_stub, sizeof ofpacts_stub);
    snprintf(actions, sizeof actions,
             "ct(commit,zone=%d,exec(set_field:%#"PRIx32"->ct_mark))",
             SERVER_PIPELINE_OWNER_ZONE, server_pipeline_owner_mark(owner));
    memset(&pp, 0, sizeof pp);
    pp.ofpacts = &ofpacts;
    pp.usable_protocols = &(enum ofputil_protocol) { 0 };
    error = ofpacts_parse_actions(actions, &pp);
    tcp_seg_endpoints_from_key(&ep, cp, FLOW_KEY_TO_VIP,
                               SERVER_PIPELINE_AGENT_MAC, a->local_mac);
    if (error || !ofctrl || tcp_seg_build(&b, &ep, &hdr)
        || ofctrl_send_packet_out(ofctrl, dp_packet_data(&b),
                                  dp_packet_size(&b), OFPP_CONTROLLER,
                                  ofpacts.data, ofpacts.size)) {
        a->redirects_failed++;
        ok = false;
    }
    free(error);
    ofpbuf_uninit(&ofpacts);
    dp_packet_uninit(&b);
    return ok;
}

/* The switch forgets the ownership entry of 'cp': its segments reach this
 * node's stack again. */
static void
io_owner_unredirect(void *a_, const struct flow_key *cp)
{
    struct agent *a = a_;
    struct ofctrl *ofctrl = node_daemon_ofctrl(a->nd);
    struct ofp_ct_match match;

    flow_key_to_ct_match(cp, &match);
    if (!ofctrl || ofctrl_flush_conntrack(ofctrl, SERVER_PIPELINE_OWNER_ZONE,
                                          &match)) {
        a->redirects_failed++;
    }
}

static const struct owners_ops owners_io = {
    .send = io_send,
    .redirect = io_owner_redirect,
    .unredirect = io_owner_unredirect,
};

static const struct agent_core_ops agent_io = {
    .send = io_send,
    .to_server = io_to_server,
    .journal_put = io_journal_put,
    .journal_del = io_journal_del,
};

/* Local metrics. */

static void
read_metrics(struct agent *a)
{
    if (a->metrics_at && a->now - a->metrics_at < METRICS_MAX_AGE_MS) {
        return;
    }
    a->metrics_at = a->now;

    double load;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &load) == 1 && load >= 0) {
            long n_cpus = MAX(sysconf(_SC_NPROCESSORS_ONLN), 1);
            a->load_milli = MIN(load * 1000 / n_cpus, UINT32_MAX);
        }
        fclose(f);
    }

    f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[128];
        unsigned long long kb;

        while (fgets(line, sizeof line, f)) {
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
                a->mem_kb = kb;
                break;
            }
        }
        fclose(f);
    }
}

/* Kernel sockets. */

static uint32_t
hash_listener(uint16_t port)
{
    return hash_int(port, 0);
}

static bool
listener_find(const struct agent *a, const struct in6_addr *addr,
              uint16_t port)
{
    const struct listener *l;

    HMAP_FOR_EACH_WITH_HASH (l, node, hash_listener(port), &a->listeners) {
        if (l->port == port && ipv6_addr_equals(&l->addr, addr)) {
            return true;
        }
    }
    return false;
}

static void
listeners_clear(struct agent *a)
{
    struct listener *l;

    HMAP_FOR_EACH_POP (l, node, &a->listeners) {
        free(l);
    }
}

static bool
vip_has_server(const struct cluster_vip *vip, uint32_t node)
{
    for (size_t i = 0; i < vip->n_servers; i++) {
        if (vip->servers[i].node_id == node) {
            return true;
        }
    }
    return false;
}

/* Sets a->udp_served and a->udp_all from 'snap' (see struct agent). */
static void
set_udp_ports(struct agent *a, const struct cluster_snapshot *snap)
{
    size_t n = 0;

    for (size_t i = 0; i < snap->n_vips; i++) {
        if (snap->vips[i].protocol == IPPROTO_UDP) {
            n += snap->vips[i].n_ports;
        }
    }
    free(a->udp_served);
    free(a->udp_all);
    a->udp_served = xcalloc(MAX(n, 1), sizeof *a->udp_served);
    a->udp_all = xcalloc(MAX(n, 1), sizeof *a->udp_all);
    a->n_udp_served = a->n_udp_all = 0;
    for (size_t i = 0; i < snap->n_vips; i++) {
        const struct cluster_vip *v = &snap->vips[i];

        if (v->protocol != IPPROTO_UDP || v->mode != CLUSTER_VIP_HASH) {
            continue;
        }
        for (size_t j = 0; j < v->n_ports; j++) {
            struct agent_vip_port vp = { .vip = v->address,
                                         .port = v->ports[j], .udp = true };

            a->udp_all[a->n_udp_all++] = vp;
            if (vip_has_server(v, a->self)) {
                a->udp_served[a->n_udp_served++] = vp;
            }
        }
    }
}

/* Starts a report of the load of the node's VIP ports, TCP and UDP
 * (vip_load_begin()). */
static void
load_begin(struct agent *a)
{
    size_t n = a->n_vips + a->n_udp_served;
    struct agent_vip_port *ports = xcalloc(MAX(n, 1), sizeof *ports);

    memcpy(ports, a->vips, a->n_vips * sizeof *ports);
    memcpy(ports + a->n_vips, a->udp_served,
           a->n_udp_served * sizeof *ports);
    vip_load_begin(a->load, ports, n);
    free(ports);
}

/* Returns the index of VIP port 'vip':'port' in a->vips, or SIZE_MAX. */
static size_t
vip_index(const struct agent *a, const struct in6_addr *vip, uint16_t port)
{
    for (size_t i = 0; i < a->n_vips; i++) {
        if (a->vips[i].port == port
            && ipv6_addr_equals(&a->vips[i].vip, vip)) {
            return i;
        }
    }
    return SIZE_MAX;
}

/* Returns true if a socket listens on 'vip':'port', on its address or on
 * the wildcard of its family. */
static bool
is_listening(const struct agent *a, const struct in6_addr *vip,
             uint16_t port)
{
    struct in6_addr any4;

    in6_addr_set_mapped_ipv4(&any4, 0);
    return (listener_find(a, vip, port)
            || listener_find(a, &in6addr_any, port)
            || (IN6_IS_ADDR_V4MAPPED(vip) && listener_find(a, &any4, port)));
}

static void
socket_cb(const struct sock_diag_entry *e, void *a_)
{
    struct agent *a = a_;

    if (a->in_dump && (e->state == SOCK_DIAG_LISTEN
                       || e->state == SOCK_DIAG_ESTABLISHED)) {
        vip_load_socket(a->load, &e->src, ntohs(e->sport),
                        e->state == SOCK_DIAG_LISTEN, e->rqueue, e->rtt_us);
    }
    if (a->in_dump && (1u << e->state) & PUBLISH_STATES) {
        size_t i = vip_index(a, &e->src, ntohs(e->sport));
        if (i != SIZE_MAX && a->vip_live) {
            a->vip_live[i]++;
        }
        if (i != SIZE_MAX && !a->vips[i].tracked && a->owners) {
            struct flow_key cp;

            memset(&cp, 0, sizeof cp);
            cp.client = e->dst;
            cp.client_port = e->dport;
            cp.vip = e->src;
            cp.vip_port = e->sport;
            cp.proto = IPPROTO_TCP;
            owners_dump_socket(a->owners, &cp);
        }
    }
    if (e->state == SOCK_DIAG_LISTEN) {
        uint16_t port = ntohs(e->sport);

        if (!listener_find(a, &e->src, port)
            && hmap_count(&a->listeners) < AGENT_DEFAULT_MAX_CONNS) {
            struct listener *l = xmalloc(sizeof *l);
            l->addr = e->src;
            l->port = port;
            hmap_insert(&a->listeners, &l->node, hash_listener(port));
        }
    } else if (a->in_dump) {
        struct flow_key cp;

        memset(&cp, 0, sizeof cp);
        cp.client = e->dst;
        cp.client_port = e->dport;
        cp.vip = e->src;
        cp.vip_port = e->sport;
        cp.proto = IPPROTO_TCP;
        agent_core_socket_seen(a->core, &cp,
                               (1u << e->state) & PUBLISH_STATES);
    }
}

/* Reads the kernel's sockets: only the listeners if '!full', otherwise
 * those in FULL_DUMP_STATES, for the core's reconciliation and
 * publishing. */
static bool
dump_sockets(struct agent *a, bool full)
{
    bool ok = true;

    listeners_clear(a);
    a->listeners_at = a->now;
    a->in_dump = full;
    if (full) {
        load_begin(a);
        if (a->vip_live) {
            memset(a->vip_live, 0, a->n_vips * sizeof *a->vip_live);
        }
    }
    for (size_t i = 0; i < a->n_diags; i++) {
        if (sock_diag_dump(a->diags[i],
                           full ? FULL_DUMP_STATES
                                : 1u << SOCK_DIAG_LISTEN,
                           full ? SOCK_DIAG_RTT : 0,
                           socket_cb, a)) {
            ok = false;
        }
    }
    a->in_dump = false;
    return ok;
}

static void
refresh_listeners(struct agent *a, bool force)
{
    long long int age = a->now - a->listeners_at;

    if (age >= LISTENERS_MAX_AGE_MS || (force && age >= LISTENERS_MIN_AGE_MS)
        || !a->listeners_at) {
        dump_sockets(a, false);
    }
}

/* Opens the socket tables of the namespaces in 'netns' (none: our own). */
static void
open_diags(struct agent *a, char **netns, size_t n)
{
    bool same = n ? n == a->n_diags : a->n_diags == 1 && !a->netns[0][0];

    for (size_t i = 0; same && i < n; i++) {
        same = !strcmp(netns[i], a->netns[i]);
    }
    if (same && a->n_diags) {
        return;
    }

    for (size_t i = 0; i < a->n_diags; i++) {
        sock_diag_close(a->diags[i]);
        free(a->netns[i]);
    }
    free(a->diags);
    free(a->netns);
    set_error(&a->diag_error, NULL);

    size_t n_wanted = MAX(n, 1);
    a->diags = xcalloc(n_wanted, sizeof *a->diags);
    a->netns = xcalloc(n_wanted, sizeof *a->netns);
    a->n_diags = 0;
    for (size_t i = 0; i < n_wanted; i++) {
        const char *name = n ? netns[i] : "";
        struct sock_diag *sd;
        char *error = sock_diag_open(name, &sd);

        if (error) {
            VLOG_ERR("%s", error);
            set_error(&a->diag_error, error);
            continue;
        }
        a->diags[a->n_diags] = sd;
        a->netns[a->n_diags] = xstrdup(name);
        a->n_diags++;
    }
}

/* Healthy LB nodes. */

static const struct lb_info *
lb_find(const struct agent *a, uint32_t node_id)
{
    for (size_t i = 0; i < a->n_lbs; i++) {
        if (a->lbs[i].node_id == node_id) {
            return &a->lbs[i];
        }
    }
    return NULL;
}

static int
compare_u32(const void *a_, const void *b_)
{
    uint32_t a = *(const uint32_t *) a_, b = *(const uint32_t *) b_;
    return a < b ? -1 : a > b;
}

/* Recomputes the healthy set: the nodes of the last LB_LIST, or until one
 * arrives the enabled LB nodes of the configuration; in both cases only
 * nodes the configuration knows (their underlay address is needed). */
static void
update_healthy(struct agent *a)
{
    uint32_t *set = xcalloc(MAX(a->n_lbs, 1), sizeof *set);
    size_t n = 0;

    if (a->has_lb_list) {
        for (size_t i = 0; i < a->n_lb_list; i++) {
            if (lb_find(a, a->lb_list[i]) && n < a->n_lbs) {
                set[n++] = a->lb_list[i];
            }
        }
        qsort(set, n, sizeof *set, compare_u32);
    } else {
        for (size_t i = 0; i < a->n_lbs; i++) {
            if (a->lbs[i].enabled) {
                set[n++] = a->lbs[i].node_id;
            }
        }
    }

    bool changed = (n != a->n_healthy
                    || (n && memcmp(set, a->healthy, n * sizeof *set)));
    if (changed) {
        /* Every change moves the egress of the connections whose node
         * left: say when, and from which list. */
        struct ds s = DS_EMPTY_INITIALIZER;

        for (size_t i = 0; i < n; i++) {
            ds_put_format(&s, " %"PRIu32, set[i]);
        }
        VLOG_INFO("healthy LB nodes (%s):%s", a->has_lb_list
                  ? "LB_LIST" : "configuration, until an LB_LIST comes",
                  n ? ds_cstr(&s) : " none");
        ds_destroy(&s);
    }
    if (changed || !a->core) {
        free(a->healthy);
        a->healthy = set;
        a->n_healthy = n;
        if (a->core && !agent_core_set_lb_nodes(a->core, set, n, a->ring_key,
                                                a->vnodes)) {
            VLOG_WARN("cannot build the ring of %"PRIuSIZE" LB nodes", n);
        }
        /* Publish at once (PROTOCOL.md §6). */
        a->next_publish = a->now;
        a->healthy_seqno++;
    } else {
        free(set);
    }
}

/* Configuration. */

/* Whether the segments of `hash` VIP port 'vp' go through this agent: while
 * it has translation entries, the connections it had when its VIP was in
 * mode tracked, which still need translating (the others pass through
 * untranslated, agent_core_from_client()).  The port goes straight to the
 * stack again once the last of them is gone. */
static bool
hash_port_via_agent(const struct agent *a, const struct agent_vip_port *vp)
{
    return (!vp->tracked && a->core
            && agent_core_port_entries(a->core, &vp->vip, vp->port) > 0);
}

/* Which hash VIP ports go through the agent, as a number that changes
 * with the set (a->vips keeps its order between reconfigurations, which
 * install the pipeline anyway). */
static uint64_t
hash_via_agent_signature(const struct agent *a)
{
    uint64_t sig = 0;

    for (size_t i = 0; i < a->n_vips; i++) {
        if (hash_port_via_agent(a, &a->vips[i])) {
            sig = hash_uint64_basis(sig, i + 1);
        }
    }
    return sig;
}

static void
install_pipeline(struct agent *a)
{
    struct ofctrl *ofctrl = node_daemon_ofctrl(a->nd);
    struct server_pipeline_vip *pvips;
    struct server_pipeline_lb *plbs;
    struct pipeline p;
    size_t n_pvips = 0;
    char *error;

    a->pipeline_installed = false;
    if (!ofctrl) {
        return;
    }
    if (a->geneve_port == OFPP_NONE || a->xlate_port == OFPP_NONE
        || !a->has_local_mac) {
        set_error(&a->pipeline_error,
                  xasprintf("waiting for %s",
                            a->geneve_port == OFPP_NONE
                            ? a->geneve_port_name
                            : a->xlate_port == OFPP_NONE
                            ? a->xlate_port_name
                            : "the bridge's MAC"));
        return;
    }

    /* One pipeline VIP per address, with its tracked and its hash ports
     * (a->vips is sorted by address). */
    pvips = xcalloc(MAX(a->n_vips + a->n_udp_all, 1), sizeof *pvips);
    uint16_t *ports = xcalloc(MAX(a->n_vips, 1), sizeof *ports);
    uint16_t *hash_ports = xcalloc(MAX(a->n_vips, 1), sizeof *hash_ports);
    uint16_t *udp_ports = xcalloc(MAX(a->n_udp_all, 1), sizeof *udp_ports);
    size_t n_ports = 0, n_hash_ports = 0;
    for (size_t i = 0; i < a->n_vips; i++) {
        if (!n_pvips || !ipv6_addr_equals(&pvips[n_pvips - 1].addr,
                                          &a->vips[i].vip)) {
            pvips[n_pvips].addr = a->vips[i].vip;
            pvips[n_pvips].ports = &ports[n_ports];
            pvips[n_pvips].hash_ports = &hash_ports[n_hash_ports];
            n_pvips++;
        }
        if (a->vips[i].tracked || hash_port_via_agent(a, &a->vips[i])) {
            ports[n_ports++] = a->vips[i].port;
            pvips[n_pvips - 1].n_ports++;
        } else {
            hash_ports[n_hash_ports++] = a->vips[i].port;
            pvips[n_pvips - 1].n_hash_ports++;
        }
    }
    /* The UDP ports, each with its address's pipeline VIP (a->udp_all is
     * in configuration order: one address's ports may be apart). */
    for (size_t i = 0; i < a->n_udp_all; i++) {
        const struct agent_vip_port *vp = &a->udp_all[i];
        struct server_pipeline_vip *pv = NULL;

        for (size_t j = 0; j < n_pvips && !pv; j++) {
            if (ipv6_addr_equals(&pvips[j].addr, &vp->vip)) {
                pv = &pvips[j];
            }
        }
        if (!pv) {
            pv = &pvips[n_pvips++];
            pv->addr = vp->vip;
        }
        pv->n_udp_ports++;
    }
    size_t n_udp_ports = 0;
    for (size_t j = 0; j < n_pvips; j++) {
        pvips[j].udp_ports = &udp_ports[n_udp_ports];
        for (size_t i = 0; i < a->n_udp_all; i++) {
            if (ipv6_addr_equals(&pvips[j].addr, &a->udp_all[i].vip)) {
                udp_ports[n_udp_ports++] = a->udp_all[i].port;
            }
        }
    }
    plbs = xcalloc(MAX(a->n_lbs, 1), sizeof *plbs);
    for (size_t i = 0; i < a->n_lbs; i++) {
        plbs[i].node_id = a->lbs[i].node_id;
        plbs[i].south = a->lbs[i].south;
    }

    /* Ownership redirects: to the live peers, while any entry exists. */
    struct server_pipeline_peer *peers = NULL;
    size_t n_peers = 0;
    if (a->owners) {
        size_t n = owners_live_peers(a->owners, NULL, 0);
        uint32_t *ids = xcalloc(MAX(n, 1), sizeof *ids);

        owners_live_peers(a->owners, ids, n);
        peers = xcalloc(MAX(n, 1), sizeof *peers);
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < a->n_servers; j++) {
                if (a->servers[j].node_id == ids[i]) {
                    peers[n_peers++] = a->servers[j];
                    break;
                }
            }
        }
        free(ids);
        a->pipeline_owners_seqno = owners_peers_seqno(a->owners);
    }

    struct server_pipeline_params params = {
        .geneve_port = a->geneve_port,
        .xlate_port = a->xlate_port,
        .local_mac = a->local_mac,
        .vips = pvips,
        .n_vips = n_pvips,
        .lbs = plbs,
        .n_lbs = a->n_lbs,
        .egress_lbs = a->healthy,
        .n_egress_lbs = a->healthy ? a->n_healthy : 0,
        .owner_check = a->owners && owners_n_associations(a->owners) > 0,
        .peers = peers,
        .n_peers = n_peers,
    };
    pipeline_init(&p);
    server_pipeline_build(&params, &p);
    ofctrl_clear(ofctrl);
    error = pipeline_install(&p, ofctrl);
    if (error) {
        VLOG_ERR("pipeline: %s", error);
        set_error(&a->pipeline_error, error);
    } else {
        set_error(&a->pipeline_error, NULL);
        a->pipeline_installed = true;
    }
    ofctrl_commit(ofctrl);
    pipeline_destroy(&p);
    free(ports);
    free(hash_ports);
    free(udp_ports);
    free(pvips);
    free(plbs);
    free(peers);
    a->pipeline_healthy_seqno = a->healthy_seqno;
    a->pipeline_hash_via_agent = hash_via_agent_signature(a);
}

/* After a new configuration: the VIP ports of 'old' (with their live
 * sockets at the last dump in 'live', whether they were draining already
 * in 'draining'; 'n' of each) that the node no longer
 * serves but whose connections live on (the operator removed the server
 * from the VIP with vip-server-del, or deleted the VIP, and the service
 * runs on) stay in a->vips, draining: their segments still reach the
 * server, in the switch or through the agent, and their connections are
 * still published, so that the LB nodes keep sending them here.  A
 * draining port goes with its last connection (drop_drained()). */
static void
keep_draining(struct agent *a, const struct agent_vip_port *old,
              const size_t *live, const bool *draining, size_t n)
{
    size_t n_new = a->n_vips;

    a->vips = xrealloc(a->vips, MAX(n_new + n, 1) * sizeof *a->vips);
    a->vip_draining = xcalloc(MAX(n_new + n, 1), sizeof *a->vip_draining);
    a->vip_live = xcalloc(MAX(n_new + n, 1), sizeof *a->vip_live);
    for (size_t i = 0; i < n; i++) {
        size_t j = vip_index(a, &old[i].vip, old[i].port);

        if (!live) {
            continue;
        } else if (j != SIZE_MAX) {
            /* The counts live on until the next dump: a second
             * configuration before it must not drop a draining port. */
            a->vip_live[j] = live[i];
        } else if (live[i]) {
            char addr[INET6_ADDRSTRLEN];

            if (!draining[i]) {
                ipv6_string_mapped(addr, &old[i].vip);
                VLOG_INFO("%s port %"PRIu16": no longer served by this "
                          "node; kept for its %"PRIuSIZE" connections",
                          addr, old[i].port, live[i]);
            }
            a->vip_draining[a->n_vips] = true;
            a->vip_live[a->n_vips] = live[i];
            a->vips[a->n_vips++] = old[i];
        }
    }
}

/* After a full dump: drops the draining VIP ports without connections. */
static void
drop_drained(struct agent *a)
{
    bool dropped = false;

    for (size_t i = 0; i < a->n_vips; ) {
        if (a->vip_draining[i] && !a->vip_live[i]) {
            char addr[INET6_ADDRSTRLEN];

            ipv6_string_mapped(addr, &a->vips[i].vip);
            VLOG_INFO("%s port %"PRIu16": drained, no longer served", addr,
                      a->vips[i].port);
            a->n_vips--;
            a->vips[i] = a->vips[a->n_vips];
            a->vip_draining[i] = a->vip_draining[a->n_vips];
            a->vip_live[i] = a->vip_live[a->n_vips];
            dropped = true;
        } else {
            i++;
        }
    }
    if (dropped) {
        agent_core_set_vips(a->core, a->vips, a->n_vips);
        install_pipeline(a);
    }
}

static bool
has_hash_vip(const struct agent *a)
{
    for (size_t i = 0; i < a->n_vips; i++) {
        if (!a->vips[i].tracked) {
            return true;
        }
    }
    return false;
}

/* The other server nodes of the configuration: where this node's
 * ownership entries may redirect to (owners.h). */
static void
set_owner_peers(struct agent *a, const struct cluster_snapshot *snap)
{
    free(a->servers);
    a->servers = xcalloc(MAX(snap->n_server_nodes, 1), sizeof *a->servers);
    a->n_servers = 0;
    for (size_t i = 0; i < snap->n_server_nodes; i++) {
        const struct cluster_server_node *srv = &snap->server_nodes[i];

        if (srv->node_id != a->self
            && srv->node_id <= SERVER_PIPELINE_MAX_NODE_ID) {
            a->servers[a->n_servers++] = (struct server_pipeline_peer) {
                .node_id = srv->node_id, .underlay = srv->underlay,
            };
        }
    }
}

/* Whom the ownership gossip goes to: the other server nodes of every
 * `hash` VIP that this node serves or drains; and whom it is heard from:
 * every other server node. */
static void
set_owner_targets(struct agent *a, const struct cluster_snapshot *snap)
{
    uint32_t *targets = NULL, *servers;
    size_t n_targets = 0, allocated = 0;

    for (size_t i = 0; i < snap->n_vips; i++) {
        const struct cluster_vip *v = &snap->vips[i];
        bool ours = false;

        if (v->mode != CLUSTER_VIP_HASH || v->protocol != IPPROTO_TCP) {
            continue;
        }
        for (size_t j = 0; j < v->n_ports && !ours; j++) {
            ours = vip_index(a, &v->address, v->ports[j]) != SIZE_MAX;
        }
        for (size_t j = 0; ours && j < v->n_servers; j++) {
            uint32_t id = v->servers[j].node_id;
            bool known = id == a->self;

            for (size_t k = 0; k < n_targets && !known; k++) {
                known = targets[k] == id;
            }
            if (!known) {
                if (n_targets >= allocated) {
                    targets = x2nrealloc(targets, &allocated,
                                         sizeof *targets);
                }
                targets[n_targets++] = id;
            }
        }
    }
    servers = xcalloc(MAX(a->n_servers, 1), sizeof *servers);
    for (size_t i = 0; i < a->n_servers; i++) {
        servers[i] = a->servers[i].node_id;
    }
    owners_set_config(a->owners, targets, n_targets, servers, a->n_servers,
                      snap->settings.lease_ms, a->now);
    free(servers);
    free(targets);
}

/* The limits of the core: the operator's admission limits
 * (node settings, ovslb/set-limits), with the cluster settings of 'snap' (if not
 * NULL): how long a translation entry lingers, the bound of the table and
 * the timers of the server-side handshake and of closed entries. */
static struct agent_limits
core_limits(const struct agent *a, const struct cluster_snapshot *snap)
{
    struct agent_limits limits = a->opts.limits;

    if (snap) {
        limits.linger_ms = snap->settings.xlate_linger_ms;
        limits.syn_timeout_ms = snap->settings.xlate_syn_timeout_ms;
        limits.syn_tries = snap->settings.xlate_syn_tries;
        limits.closed_idle_ms = snap->settings.xlate_closed_idle_ms;
        limits.max_entries = snap->settings.xlate_table_max;
        /* A tracker retries a CONN_REQ up to its handshake timeout, or a
         * lease after the server's last publication. */
        limits.tombstone_ms = MAX(snap->settings.handshake_timeout_ms,
                                  snap->settings.lease_ms);
    }
    return limits;
}

static void
reconfigure(struct agent *a)
{
    const struct node_settings *settings = node_daemon_settings(a->nd);
    const struct cluster_snapshot *snap = node_daemon_config(a->nd);
    const struct cluster_server_node *self;

    if (!settings || !snap) {
        set_error(&a->config_error,
                  xstrdup(!settings ? "waiting for the node's settings"
                                    : "waiting for the config service"));
        return;
    }
    self = cluster_snapshot_find_server_node(snap, settings->node_id);
    if (!self) {
        set_error(&a->config_error,
                  xasprintf("node %"PRIu32" is not a server node of the "
                            "config service", settings->node_id));
        a->configured = false;
        return;
    }
    if (!snap->settings.cluster_key[0]) {
        set_error(&a->config_error, xstrdup("the cluster has no key"));
        a->configured = false;
        return;
    }
    set_error(&a->config_error, NULL);

    if (a->core && a->self != settings->node_id) {
        VLOG_WARN("node id changed from %"PRIu32" to %"PRIu32": "
                  "connection table dropped", a->self, settings->node_id);
        agent_core_destroy(a->core);
    owners_destroy(a->owners);
    switch_conntrack_destroy(a->ct);
    free(a->servers);
        a->core = NULL;
        owners_destroy(a->owners);
        a->owners = NULL;
        a->loaded_store = NULL;
    }
    a->self = settings->node_id;
    a->ring_key = node_daemon_ring_key(a->nd);
    a->vnodes = snap->settings.ring_vnodes;
    a->publish_interval_ms = snap->settings.publish_interval_ms;

    /* VIP ports of this node, sorted by address (the snapshot is sorted
     * by VIP name). */
    struct agent_vip_port *old_vips = a->vips;
    size_t n_old_vips = a->n_vips;
    size_t *old_live = a->vip_live;
    bool *old_draining = a->vip_draining;
    a->vips = NULL;
    a->n_vips = 0;
    for (size_t pass = 0; pass < 2; pass++) {
        size_t n = 0;

        for (size_t i = 0; i < snap->n_vips; i++) {
            const struct cluster_vip *v = &snap->vips[i];

            if (v->protocol != IPPROTO_TCP || !vip_has_server(v, a->self)) {
                continue;
            }
            for (size_t j = 0; j < v->n_ports; j++, n++) {
                if (pass) {
                    a->vips[n] = (struct agent_vip_port) {
                        .vip = v->address,
                        .port = v->ports[j],
                        .tracked = v->mode == CLUSTER_VIP_TRACKED,
                        .mss = v->mss,
                    };
                }
            }
        }
        if (!pass) {
            a->vips = xcalloc(MAX(n, 1), sizeof *a->vips);
        } else {
            a->n_vips = n;
        }
    }
    for (size_t i = 1; i < a->n_vips; i++) {
        /* Insertion sort by address, stable: few VIPs. */
        struct agent_vip_port vp = a->vips[i];
        size_t j = i;

        while (j > 0 && memcmp(&a->vips[j - 1].vip, &vp.vip,
                               sizeof vp.vip) > 0) {
            a->vips[j] = a->vips[j - 1];
            j--;
        }
        a->vips[j] = vp;
    }
    keep_draining(a, old_vips, old_live, old_draining, n_old_vips);
    free(old_vips);
    free(old_live);
    free(old_draining);
    set_udp_ports(a, snap);

    /* LB nodes. */
    free(a->lbs);
    a->lbs = xcalloc(MAX(snap->n_lb_nodes, 1), sizeof *a->lbs);
    a->n_lbs = 0;
    for (size_t i = 0; i < snap->n_lb_nodes; i++) {
        const struct cluster_lb_node *lb = &snap->lb_nodes[i];

        if (lb->node_id > SERVER_PIPELINE_MAX_NODE_ID) {
            continue;
        }
        a->lbs[a->n_lbs++] = (struct lb_info) {
            .node_id = lb->node_id, .south = lb->south,
            .enabled = lb->enabled,
        };
    }

    set_owner_peers(a, snap);

    /* The admission limits of the node's settings, when they change (so
     * that ovslb/set-limits holds until then). */
    struct agent_limits node_limits = a->opts.limits;
    node_limits.conn_limit = settings->conn_limit;
    node_limits.max_load_milli = settings->max_load_milli;
    node_limits.min_mem_kb = (uint64_t) settings->min_mem_mb * 1024;
    if (!a->has_node_limits
        || node_limits.conn_limit != a->node_limits.conn_limit
        || node_limits.max_load_milli != a->node_limits.max_load_milli
        || node_limits.min_mem_kb != a->node_limits.min_mem_kb) {
        a->has_node_limits = true;
        a->node_limits = node_limits;
        a->opts.limits.conn_limit = node_limits.conn_limit;
        a->opts.limits.max_load_milli = node_limits.max_load_milli;
        a->opts.limits.min_mem_kb = node_limits.min_mem_kb;
    }

    /* The core. */
    struct agent_limits limits = core_limits(a, snap);
    if (!a->core) {
        a->core = agent_core_create(a->self, &agent_io, a);
    }
    agent_core_set_limits(a->core, &limits);
    agent_core_set_vips(a->core, a->vips, a->n_vips);
    a->n_healthy = SIZE_MAX;    /* Forces the ring to be rebuilt. */
    update_healthy(a);
    if (!a->owners) {
        a->owners = owners_create(a->self, &owners_io, a);
    }
    set_owner_targets(a, snap);
    a->configured = true;

    /* The bridge, with the ports that the node's settings name. */
    if (strcmp(a->geneve_port_name, settings->tunnel_port)) {
        free(a->geneve_port_name);
        a->geneve_port_name = xstrdup(settings->tunnel_port);
    }
    if (strcmp(a->xlate_port_name, settings->xlate_port)) {
        free(a->xlate_port_name);
        a->xlate_port_name = xstrdup(settings->xlate_port);
        if (a->xp) {
            /* Translate through the new port from now on. */
            xlate_path_close(a->xp);
            a->xp = NULL;
            a->next_xp_try = a->now;
        }
    }
    a->geneve_port = node_daemon_ofport(a->nd, a->geneve_port_name);
    a->xlate_port = node_daemon_ofport(a->nd, a->xlate_port_name);
    a->has_local_mac = node_daemon_port_mac(a->nd, settings->bridge,
                                            &a->local_mac);
    install_pipeline(a);

    open_diags(a, self->netns, self->n_netns);
    set_service_probes(a, snap);
    load_begin(a);
}

/* The translation port. */

/* Brings network device 'name' up and keeps IPv6 off it (it has no address
 * and must not talk). */
static int
prepare_device(const char *name)
{
    struct ifreq ifr;
    int fd, error = 0;

    if (strlen(name) >= sizeof ifr.ifr_name) {
        return ENAMETOOLONG;
    }
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return errno;
    }
    memset(&ifr, 0, sizeof ifr);
    ovs_strlcpy(ifr.ifr_name, name, sizeof ifr.ifr_name);
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
        error = errno;
    } else if (!(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
            error = errno;
        }
    }
    close(fd);

    char *path = xasprintf("/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
    int sysctl = open(path, O_WRONLY | O_CLOEXEC);
    if (sysctl >= 0) {
        if (write(sysctl, "1\n", 2) < 0) {
            VLOG_DBG("%s: %s", path, ovs_strerror(errno));
        }
        close(sysctl);
    }
    free(path);
    return error;
}

static void
open_xlate_path(struct agent *a)
{
    if (a->xp || a->now < a->next_xp_try || a->xlate_port == OFPP_NONE) {
        if (a->xlate_port == OFPP_NONE && !a->xp) {
            set_error(&a->xp_error,
                      xasprintf("port %s is missing from the bridge (create "
                                "it: ovs-vsctl add-port BRIDGE %s -- set "
                                "interface %s type=internal "
                                "ofport_request=%d)",
                                a->xlate_port_name, a->xlate_port_name,
                                a->xlate_port_name,
                                SERVER_PIPELINE_XLATE_OFPORT));
        }
        return;
    }
    a->next_xp_try = a->now + XLATE_RETRY_MS;

    int error = prepare_device(a->xlate_port_name);
    if (error) {
        set_error(&a->xp_error, xasprintf("%s: %s", a->xlate_port_name,
                                          ovs_strerror(error)));
        return;
    }
    char *msg = xlate_path_open(a->xlate_port_name, NULL, &a->xp);
    if (msg) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 1);
        VLOG_WARN_RL(&rl, "%s", msg);
    }
    set_error(&a->xp_error, msg);
}

static void
handle_frame(void *a_, uint8_t *frame, size_t len)
{
    struct agent *a = a_;
    struct eth_header *eth = (struct eth_header *) frame;
    uint32_t node;

    if (len < ETH_HEADER_LEN || !a->core
        || (eth->eth_type != htons(ETH_TYPE_IP)
            && eth->eth_type != htons(ETH_TYPE_IPV6))) {
        a->frames_bad++;
        COVERAGE_INC(agent_frame_bad);
        return;
    }

    uint8_t *l3 = frame + ETH_HEADER_LEN;
    size_t l3_len = len - ETH_HEADER_LEN;
    if (eth_addr_equals(eth->eth_src, SERVER_PIPELINE_FROM_SERVER_MAC)) {
        uint32_t egress;

        if (agent_core_from_server(a->core, l3, l3_len, a->now, &egress)
            != AGENT_FORWARD) {
            /* Counted by the core, by reason. */
        } else if (egress > SERVER_PIPELINE_MAX_NODE_ID) {
            /* The pipeline has no MAC for this node. */
            a->frames_bad++;
            COVERAGE_INC(agent_frame_bad);
        } else {
            eth->eth_dst = server_pipeline_node_mac(egress);
            eth->eth_src = SERVER_PIPELINE_AGENT_MAC;
            if (!xlate_path_send(a->xp, frame, len)) {
                a->frames_to_client++;
            }
        }
    } else if (server_pipeline_mac_to_node(eth->eth_src, &node)) {
        if (agent_core_from_client(a->core, l3, l3_len, node, a->now)
            == AGENT_FORWARD) {
            eth->eth_dst = a->local_mac;
            eth->eth_src = SERVER_PIPELINE_AGENT_MAC;
            if (!xlate_path_send(a->xp, frame, len)) {
                a->frames_to_server++;
            }
        }
    } else {
        a->frames_bad++;
        COVERAGE_INC(agent_frame_bad);
    }
}

static void
run_xlate_path(struct agent *a)
{
    if (!a->xp) {
        return;
    }
    int n = xlate_path_run(a->xp, FRAMES_PER_RUN, handle_frame, a);
    if (n < 0) {
        /* The port went away or broke: open it again later. */
        xlate_path_close(a->xp);
        a->xp = NULL;
        a->next_xp_try = a->now + XLATE_RETRY_MS;
        set_error(&a->xp_error, xasprintf("%s: capture failed, reopening",
                                          a->xlate_port_name));
    } else if (n >= FRAMES_PER_RUN) {
        poll_immediate_wake();
    }
}

/* Readiness. */

/* Returns true if the agent can take connections: configured, every
 * driver up, pipeline installed and the translation port open. */
static bool
agent_is_ready(const struct agent *a)
{
    return (a->configured && a->pipeline_installed && a->xp
            && node_daemon_is_ready(a->nd));
}

/* Returns true if the agent answers health checks: ready, and a listener
 * exists for at least one of its VIP ports. */
static bool
agent_is_healthy(struct agent *a)
{
    if (!agent_is_ready(a)) {
        return false;
    }
    refresh_listeners(a, false);
    for (size_t i = 0; i < a->n_vips; i++) {
        if (is_listening(a, &a->vips[i].vip, a->vips[i].port)) {
            return true;
        }
    }
    return false;
}

/* Messages. */

static void
handle_conn_req(struct agent *a, const struct ctl_msg *msg)
{
    const struct ctl_conn_req *req = &msg->conn_req;
    struct agent_local local;
    uint16_t port = ntohs(req->cp.vip_port);

    memset(&local, 0, sizeof local);
    local.ready = agent_is_ready(a);
    if (local.ready) {
        refresh_listeners(a, false);
        local.listening = is_listening(a, &req->cp.vip, port);
        if (!local.listening) {
            refresh_listeners(a, true);
            local.listening = is_listening(a, &req->cp.vip, port);
        }
        /* A service that fails its health check counts as not listening:
         * refused ("not-listening"), so that the LB tier tries another
         * server until our LOAD report reaches it. */
        if (local.listening
            && !service_probe_is_up(a->probe, &req->cp.vip, port, false)) {
            local.listening = false;
            a->conn_reqs_service_down++;
        }
        read_metrics(a);
        local.load_milli = a->load_milli;
        local.mem_kb = a->mem_kb;
    }
    agent_core_conn_req(a->core, msg->sender, req, &local, a->now);
}

static void
handle_ping(struct agent *a, const struct ctl_msg *msg,
            const struct in6_addr *src, uint16_t src_port)
{
    struct ctl_sock *sock = node_daemon_ctl_sock(a->nd);
    struct ctl_msg pong;

    a->pings++;
    if (msg->ping.target != a->self) {
        a->pings_foreign++;
        return;
    }
    /* PROTOCOL.md §8: only a ready agent whose VIPs have a listener
     * passes; otherwise it answers ready=0, which fails the check as
     * silence would, but tells the checker why (lib/health.h). */
    ctl_msg_init(&pong, CTL_MSG_PONG, a->self, 0);
    pong.pong.nonce = msg->ping.nonce;
    pong.pong.path = msg->ping.path;
    pong.pong.ready = agent_is_healthy(a);
    if (!pong.pong.ready) {
        a->pings_unready++;
    }
    if (sock && !ctl_sock_send(sock, &pong, src, src_port)) {
        a->pongs++;
    }
}

static void
handle_lb_list(struct agent *a, const struct ctl_msg *msg)
{
    const struct ctl_lb_list *list = &msg->lb_list;

    if (!lb_find(a, msg->sender)) {
        a->msgs_ignored++;
        return;
    }
    if (a->has_lb_list && list->version <= a->lb_list_version) {
        a->lb_lists_stale++;
        return;
    }
    a->lb_lists++;
    a->has_lb_list = true;
    a->lb_list_version = list->version;
    free(a->lb_list);
    a->lb_list = xmemdup(list->nodes, MAX(list->n, 1) * sizeof *list->nodes);
    a->n_lb_list = list->n;
    update_healthy(a);
}

static void
handle_messages(struct agent *a)
{
    struct ctl_sock *sock = node_daemon_ctl_sock(a->nd);
    struct ctl_msg *msg;
    struct in6_addr src;
    uint16_t src_port;

    if (!sock) {
        return;
    }
    msg = xmalloc(sizeof *msg);
    while (ctl_sock_recv(sock, msg, &src, &src_port)) {
        if (!a->configured) {
            a->msgs_ignored++;
            continue;
        }
        switch (msg->type) {
        case CTL_MSG_CONN_REQ:
            handle_conn_req(a, msg);
            break;
        case CTL_MSG_PING:
            handle_ping(a, msg, &src, src_port);
            break;
        case CTL_MSG_LB_LIST:
            handle_lb_list(a, msg);
            break;
        case CTL_MSG_OWNER:
            owners_receive(a->owners, msg, a->now);
            break;
        default:
            a->msgs_ignored++;
            COVERAGE_INC(agent_msg_ignored);
            break;
        }
    }
    free(msg);
}

/* Publishing and reconciliation. */

/* Gives the prober the health check of every VIP port of this node, in the
 * namespace of the first socket table (the agent's own if none is
 * configured: where the services are expected to listen). */
static void
set_service_probes(struct agent *a, const struct cluster_snapshot *snap)
{
    size_t max = a->n_vips + a->n_udp_served;
    struct service_probe_port *ports = xcalloc(MAX(max, 1), sizeof *ports);
    size_t n = 0;

    for (size_t i = 0; i < snap->n_vips; i++) {
        const struct cluster_vip *v = &snap->vips[i];

        if ((v->protocol != IPPROTO_TCP
             && (v->protocol != IPPROTO_UDP || v->mode != CLUSTER_VIP_HASH))
            || !vip_has_server(v, a->self)) {
            continue;
        }
        for (size_t j = 0; j < v->n_ports && n < max; j++) {
            ports[n++] = (struct service_probe_port) {
                .vip = v->address, .port = v->ports[j],
                .udp = v->protocol == IPPROTO_UDP, .health = &v->health,
            };
        }
    }
    service_probe_set(a->probe, a->n_diags ? a->netns[0] : NULL, ports, n,
                      a->now);
    free(ports);
}

/* Reports the VIP ports' state and load (of the last full dump) to every
 * healthy LB node (LOAD). */
static void
send_load(struct agent *a)
{
    if (!node_daemon_ctl_sock(a->nd)) {
        return;
    }

    for (size_t i = 0; i < a->n_vips + a->n_udp_served; i++) {
        const struct agent_vip_port *vp = (i < a->n_vips ? &a->vips[i]
                                           : &a->udp_served[i - a->n_vips]);

        vip_load_set_down(a->load, &vp->vip, vp->port, vp->udp,
                          !service_probe_is_up(a->probe, &vp->vip,
                                               vp->port, vp->udp));
    }

    struct ctl_msg *msg = xmalloc(sizeof *msg);
    for (size_t i = 0; i < vip_load_n_msgs(a->load); i++) {
        for (size_t j = 0; j < a->n_healthy; j++) {
            vip_load_msg(a->load, i, a->self, msg);
            io_send(a, a->healthy[j], msg);
            a->load_msgs++;
        }
    }
    free(msg);
}

static void
publish(struct agent *a)
{
    if (!a->configured || !a->n_diags || a->now < a->next_publish) {
        return;
    }
    a->next_publish = a->now + MAX(a->publish_interval_ms, 100);

    uint32_t to = 0;
    if (a->n_healthy && node_daemon_ctl_sock(a->nd)) {
        to = a->healthy[random_range(a->n_healthy)];
    }
    agent_core_sockets_begin(a->core, a->now);
    owners_dump_begin(a->owners);
    bool ok = dump_sockets(a, true);
    if (ok) {
        agent_core_sockets_end(a->core, a->now, to);
        owners_dump_end(a->owners, a->now);
        a->publish_rounds++;
        send_load(a);
        drop_drained(a);
    } else {
        /* An incomplete table must not make entries look forgotten: end
         * the pass without consequences by starting another. */
        agent_core_sockets_begin(a->core, a->now);
    }
}

/* Journal. */

static void
restore_cb(const struct store_record *r, void *a_)
{
    struct agent *a = a_;
    struct flow_key cp;

    if (r->key_len != sizeof cp) {
        return;
    }
    memcpy(&cp, r->key, sizeof cp);
    if (agent_core_restore(a->core, &cp, r->value, r->value_len, a->now)) {
        a->journal_loaded++;
    }
}

static void
load_journal(struct agent *a)
{
    struct store *store = node_daemon_store(a->nd);

    if (!a->configured || !store || store == a->loaded_store) {
        return;
    }
    a->loaded_store = store;
    int error = store_load(store, "xlate", time_wall_msec(), restore_cb, a);
    if (error) {
        VLOG_ERR("journal: %s", store_last_error(store));
    } else {
        VLOG_INFO("journal: %"PRIu64" connections reloaded",
                  a->journal_loaded);
    }
}

/* Main loop. */

/* Creates the agent, reading the node's settings from the local Open
 * vSwitch database at 'ovs_remote', with options 'opts'. */
struct agent *
agent_create(const char *ovs_remote, const struct agent_options *opts)
{
    struct agent *a = xzalloc(sizeof *a);

    a->nd = node_daemon_create(ovs_remote, NODE_ROLE_SERVER);
    a->opts = *opts;
    a->geneve_port_name = xstrdup(NODE_DEFAULT_TUNNEL_PORT);
    a->xlate_port_name = xstrdup(NODE_DEFAULT_XLATE_PORT);
    a->geneve_port = a->xlate_port = OFPP_NONE;
    hmap_init(&a->listeners);
    a->load = vip_load_create();
    a->probe = service_probe_create();
    a->ct = switch_conntrack_create(ovs_rundir());
    a->config_error = xstrdup("starting");

    unixctl_command_register("ovslb/show", "", 0, 0, agent_unixctl_show, a);
    unixctl_command_register("ovslb/conns", "", 0, 0, agent_unixctl_conns,
                             a);
    unixctl_command_register("ovslb/stats", "", 0, 0, agent_unixctl_stats,
                             a);
    unixctl_command_register("ovslb/owners", "", 0, 0, agent_unixctl_owners,
                             a);
    unixctl_command_register("ovslb/set-limits",
                             "[conn=N] [load=X] [mem-mb=N]", 1, 3,
                             agent_unixctl_set_limits, a);
    return a;
}

/* Destroys 'a'.  NULL is a no-op. */
void
agent_destroy(struct agent *a)
{
    if (!a) {
        return;
    }
    struct store *store = node_daemon_store(a->nd);
    if (store) {
        store_flush(store);
    }
    agent_core_destroy(a->core);
    xlate_path_close(a->xp);
    for (size_t i = 0; i < a->n_diags; i++) {
        sock_diag_close(a->diags[i]);
        free(a->netns[i]);
    }
    free(a->diags);
    free(a->netns);
    listeners_clear(a);
    hmap_destroy(&a->listeners);
    vip_load_destroy(a->load);
    service_probe_destroy(a->probe);
    node_daemon_destroy(a->nd);
    free(a->vips);
    free(a->udp_served);
    free(a->udp_all);
    free(a->vip_draining);
    free(a->vip_live);
    free(a->lbs);
    free(a->lb_list);
    free(a->healthy);
    free(a->geneve_port_name);
    free(a->xlate_port_name);
    free(a->config_error);
    free(a->pipeline_error);
    free(a->xp_error);
    free(a->diag_error);
    free(a);
}

#define XLATE_COUNTER(MEMBER, NAME, HELP) \
    METRICS_COUNTER_FIELD(struct xlate_path_stats, MEMBER, NAME, HELP)
static const struct metrics_counter xlate_counters[] = {
    XLATE_COUNTER(rx, "frames_read", "Frames read from the port."),
    XLATE_COUNTER(rx_truncated, "frames_truncated",
                  "Frames larger than a ring frame, dropped."),
    XLATE_COUNTER(ring_drops, "capture_drops",
                  "Frames the receive ring had no room for."),
    XLATE_COUNTER(ring_freezes, "ring_freezes",
                  "Times the receive ring (of blocks) was full."),
    XLATE_COUNTER(tx, "frames_written", "Frames written to the port."),
    XLATE_COUNTER(tx_batches, "write_batches",
                  "Batches of frames written (sendmmsg calls)."),
    XLATE_COUNTER(tx_queue_full, "write_queue_full",
                  "Frames not written: no buffer or queue room."),
    XLATE_COUNTER(tx_errors, "write_errors",
                  "Frames not written for another reason."),
    XLATE_COUNTER(port_tx_dropped, "port_tx_dropped",
                  "Frames the port dropped after taking them (a full tap "
                  "queue)."),
};

#define SOCK_DIAG_COUNTER(MEMBER, NAME, HELP) \
    METRICS_COUNTER_FIELD(struct sock_diag_stats, MEMBER, NAME, HELP)
static const struct metrics_counter sock_diag_counters[] = {
    SOCK_DIAG_COUNTER(dumps, "dumps", "Socket table dumps completed."),
    SOCK_DIAG_COUNTER(sockets, "sockets", "Sockets reported by dumps."),
    SOCK_DIAG_COUNTER(errors, "errors", "Socket table dumps that failed."),
    SOCK_DIAG_COUNTER(malformed, "malformed",
                      "Socket table messages skipped as malformed."),
};

#define SERVICE_PROBE_COUNTER(MEMBER, NAME, HELP) \
    METRICS_COUNTER_FIELD(struct service_probe_stats, MEMBER, NAME, HELP)
static const struct metrics_counter service_probe_counters[] = {
    SERVICE_PROBE_COUNTER(probes, "probes",
                          "Health checks of the VIP ports' services."),
    SERVICE_PROBE_COUNTER(ok, "ok", "...that passed."),
    SERVICE_PROBE_COUNTER(failed, "failed", "...that failed."),
    SERVICE_PROBE_COUNTER(downs, "downs", "Services that went down."),
    SERVICE_PROBE_COUNTER(ups, "ups", "Services that came back up."),
};

#define AGENT_DRIVER_COUNTER(MEMBER, NAME, HELP) \
    METRICS_COUNTER_FIELD(struct agent, MEMBER, NAME, HELP)
static const struct metrics_counter agent_driver_counters[] = {
    AGENT_DRIVER_COUNTER(frames_to_server, "frames_to_server",
                         "Frames sent to the server."),
    AGENT_DRIVER_COUNTER(frames_to_client, "frames_to_client",
                         "Frames sent towards the client."),
    AGENT_DRIVER_COUNTER(frames_bad, "frames_bad",
                         "Frames from the translation port not IP or not "
                         "handled."),
    AGENT_DRIVER_COUNTER(frames_unsent, "frames_unsent",
                         "Frames that could not be sent."),
    AGENT_DRIVER_COUNTER(pings, "pings", "Health PINGs received."),
    AGENT_DRIVER_COUNTER(pongs, "pongs", "PONGs sent."),
    AGENT_DRIVER_COUNTER(pings_unready, "pings_unready",
                         "PINGs answered not ready."),
    AGENT_DRIVER_COUNTER(pings_foreign, "pings_foreign",
                         "PINGs for another node: ignored."),
    AGENT_DRIVER_COUNTER(lb_lists, "lb_lists",
                         "LB_LIST messages received."),
    AGENT_DRIVER_COUNTER(lb_lists_stale, "lb_lists_stale",
                         "LB_LIST messages older than the list held."),
    AGENT_DRIVER_COUNTER(msgs_ignored, "messages_ignored",
                         "Control messages ignored (unconfigured, unknown "
                         "sender or type)."),
    AGENT_DRIVER_COUNTER(msgs_no_route, "messages_no_route",
                         "Messages to nodes without a known address."),
    AGENT_DRIVER_COUNTER(publish_rounds, "publish_rounds",
                         "Rounds of connection publishing."),
    AGENT_DRIVER_COUNTER(load_msgs, "load_msgs",
                         "LOAD messages sent (VIP ports' load, to every "
                         "healthy LB node)."),
    AGENT_DRIVER_COUNTER(conn_reqs_service_down, "conn_reqs_service_down",
                         "Connection requests refused because the VIP "
                         "port's service failed its health check."),
    AGENT_DRIVER_COUNTER(journal_loaded, "journal_loaded",
                         "Journal records reloaded at start."),
    AGENT_DRIVER_COUNTER(redirects_failed, "owner_redirects_failed",
                         "Ownership entries the switch was not told of "
                         "(no OpenFlow connection, or its queue full)."),
};

/* Adds to 'm' what ovslb/stats shows of 'a' (and the gauges of
 * ovslb/show), beyond what the shared drivers added. */
static void
put_metrics(struct agent *a, struct metrics *m)
{
    metrics_put_counters(m, "ovslb_agent_", agent_driver_counters,
                         ARRAY_SIZE(agent_driver_counters), a, NULL);
    const struct metrics_gauge gauges[] = {
        { "ready", "1 if the agent accepts connections.", agent_is_ready(a) },
        { "healthy_lb_nodes",
          "LB nodes the agent holds healthy (its egress choices).",
          a->n_healthy },
        { "vip_ports", "VIP ports served by this node.", a->n_vips },
        { "load_ratio", "Runnable tasks per CPU, as admission sees it.",
          a->load_milli / 1000.0 },
        { "memory_available_bytes", "Available memory, as admission sees it.",
          a->mem_kb * 1024.0 },
    };
    metrics_put_gauges(m, "ovslb_agent_", gauges, ARRAY_SIZE(gauges), NULL);
    if (a->core) {
        agent_core_put_metrics(a->core, m);
    }
    if (a->owners) {
        owners_put_metrics(a->owners, m);
    }
    switch_conntrack_put_metrics(a->ct, m);
    if (a->xp) {
        struct xlate_path_stats xs;

        xlate_path_get_stats(a->xp, &xs);
        metrics_put_counters(m, "ovslb_agent_xlate_port_", xlate_counters,
                             ARRAY_SIZE(xlate_counters), &xs, NULL);
    }
    metrics_put_counters(m, "ovslb_agent_service_check_",
                         service_probe_counters,
                         ARRAY_SIZE(service_probe_counters),
                         service_probe_get_stats(a->probe), NULL);
    for (size_t i = 0; i < a->n_diags; i++) {
        const struct sock_diag_stats *st = sock_diag_get_stats(a->diags[i]);

        metrics_put_counters(m, "ovslb_agent_socket_table_",
                             sock_diag_counters,
                             ARRAY_SIZE(sock_diag_counters), st,
                             "netns", a->netns[i][0] ? a->netns[i] : "",
                             NULL);
    }
}

/* Writes the node's metrics file, if it has one and a write is due. */
static void
write_metrics(struct agent *a)
{
    struct metrics *m = node_daemon_metrics_begin(a->nd, a->now);

    if (m) {
        put_metrics(a, m);
        node_daemon_metrics_write(a->nd, a->now);
    }
}

/* Keeps sequence checking off in the switch's connection tracker: the
 * ownership entries see one direction of their connections only. */
static void
run_switch_conntrack(struct agent *a)
{
    struct ofctrl *ofctrl = node_daemon_ofctrl(a->nd);
    struct ofctrl_stats st = { .n_connections = 0 };

    if (ofctrl && ofctrl_is_connected(ofctrl)) {
        ofctrl_get_stats(ofctrl, &st);
    }
    switch_conntrack_run(a->ct, st.n_connections, a->now);
}

/* Returns true if the data path of 'a' reflects the configuration it last
 * read: the core's VIP ports, limits and LB nodes set from it, the
 * pipeline built from it and confirmed installed by the switch (a
 * barrier), the control socket bound and keyed.  What 'ovslb-ctl --wait'
 * waits for (ovslb-ctl(8)). */
static bool
agent_config_applied(const struct agent *a)
{
    return (a->configured && a->pipeline_installed
            && node_daemon_is_ready(a->nd));
}

/* Runs one pass of the agent's work. */
void
agent_run(struct agent *a)
{
    a->now = time_msec();
    node_daemon_run(a->nd);
    if (node_daemon_seqno(a->nd) != a->nd_seqno) {
        a->nd_seqno = node_daemon_seqno(a->nd);
        reconfigure(a);
    }
    if (agent_config_applied(a)) {
        node_daemon_ack_config(a->nd);
    }
    write_metrics(a);
    if (!a->configured) {
        return;
    }
    load_journal(a);
    open_xlate_path(a);
    handle_messages(a);
    owners_run(a->owners, a->now);
    if ((a->healthy_seqno != a->pipeline_healthy_seqno && has_hash_vip(a))
        || owners_peers_seqno(a->owners) != a->pipeline_owners_seqno
        || hash_via_agent_signature(a) != a->pipeline_hash_via_agent) {
        /* The hash VIPs' replies leave through the healthy LB nodes; their
         * other servers' connections are redirected to live peers. */
        install_pipeline(a);
    }
    run_xlate_path(a);
    agent_core_run(a->core, a->now);
    if (service_probe_run(a->probe, a->now)) {
        /* A service went down or came back: the LB nodes learn it now,
         * not at the next publication. */
        send_load(a);
    }
    publish(a);
    run_switch_conntrack(a);
    if (a->xp) {
        /* What the core made itself (a SYN, an ACK) leaves now. */
        xlate_path_flush(a->xp);
    }
    node_daemon_flush(a->nd);
}

/* Arranges for the poll loop to wake when agent_run() has work. */
void
agent_wait(struct agent *a)
{
    node_daemon_wait(a->nd);
    if (!a->configured) {
        return;
    }
    if (a->xp) {
        xlate_path_wait(a->xp);
    } else if (a->xlate_port != OFPP_NONE) {
        poll_timer_wait_until(a->next_xp_try);
    }
    long long int deadline = agent_core_next_deadline(a->core);
    if (deadline != LLONG_MAX) {
        poll_timer_wait_until(deadline);
    }
    if (a->n_diags) {
        poll_timer_wait_until(a->next_publish);
    }
    poll_timer_wait_until(owners_next_deadline(a->owners));
    poll_timer_wait_until(switch_conntrack_next_deadline(a->ct));
    service_probe_wait(a->probe);
}

/* ovs-appctl commands. */

static void
agent_unixctl_show(struct unixctl_conn *conn, int argc OVS_UNUSED,
                   const char *argv[] OVS_UNUSED, void *a_)
{
    struct agent *a = a_;
    struct ds s = DS_EMPTY_INITIALIZER;

    node_daemon_status(a->nd, &s);
    if (a->config_error) {
        ds_put_format(&s, "configuration: %s\n", a->config_error);
    }
    ds_put_format(&s, "ready: %s\n", agent_is_ready(a) ? "yes" : "no");
    ds_put_format(&s, "ports: %s %"PRIu16", %s %"PRIu16", local MAC ",
                  a->geneve_port_name, ofp_to_u16(a->geneve_port),
                  a->xlate_port_name, ofp_to_u16(a->xlate_port));
    if (a->has_local_mac) {
        ds_put_format(&s, ETH_ADDR_FMT"\n", ETH_ADDR_ARGS(a->local_mac));
    } else {
        ds_put_cstr(&s, "unknown\n");
    }
    ds_put_format(&s, "pipeline: %s\n",
                  a->pipeline_installed ? "installed"
                  : a->pipeline_error ? a->pipeline_error : "not installed");
    ds_put_format(&s, "translation port: %s\n",
                  a->xp ? "open" : a->xp_error ? a->xp_error : "closed");
    ds_put_cstr(&s, "socket tables:");
    for (size_t i = 0; i < a->n_diags; i++) {
        ds_put_format(&s, " %s", a->netns[i][0] ? a->netns[i] : "(own)");
    }
    if (a->diag_error) {
        ds_put_format(&s, " (error: %s)", a->diag_error);
    }
    ds_put_char(&s, '\n');

    ds_put_cstr(&s, "service checks:\n");
    service_probe_format(a->probe, a->now, &s);
    ds_put_cstr(&s, "VIP ports:");
    for (size_t i = 0; i < a->n_vips; i++) {
        char addr[INET6_ADDRSTRLEN];

        ipv6_string_mapped(addr, &a->vips[i].vip);
        ds_put_format(&s, " %s:%"PRIu16"%s%s", addr, a->vips[i].port,
                      a->vips[i].tracked ? ""
                      : hash_port_via_agent(a, &a->vips[i])
                      ? "(hash, translating)" : "(hash)",
                      a->configured && is_listening(a, &a->vips[i].vip,
                                                    a->vips[i].port)
                      ? "" : "(no listener)");
    }
    ds_put_char(&s, '\n');
    ds_put_format(&s, "healthy LB nodes (%s",
                  a->has_lb_list ? "LB_LIST version " : "configuration");
    if (a->has_lb_list) {
        ds_put_format(&s, "%"PRIu64, a->lb_list_version);
    }
    ds_put_cstr(&s, "):");
    for (size_t i = 0; i < a->n_healthy; i++) {
        ds_put_format(&s, " %"PRIu32, a->healthy[i]);
    }
    ds_put_char(&s, '\n');
    if (a->owners) {
        size_t n_peers = owners_live_peers(a->owners, NULL, 0);

        ds_put_format(&s, "ownership: %"PRIuSIZE" sockets announced, "
                      "%"PRIuSIZE" connections of %"PRIuSIZE" peers "
                      "redirected\n", owners_n_owned(a->owners),
                      owners_n_associations(a->owners), n_peers);
    }
    ds_put_format(&s, "limits: conn %"PRIu32" per VIP, load %"PRIu32
                  "/1000 per CPU, memory %"PRIu64" kB (0: none)\n",
                  a->opts.limits.conn_limit, a->opts.limits.max_load_milli,
                  a->opts.limits.min_mem_kb);
    if (a->core) {
        agent_core_format_bounds(a->core, &s);
    }
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

static void
agent_unixctl_conns(struct unixctl_conn *conn, int argc OVS_UNUSED,
                    const char *argv[] OVS_UNUSED, void *a_)
{
    struct agent *a = a_;
    struct ds s = DS_EMPTY_INITIALIZER;

    if (a->core) {
        agent_core_format_conns(a->core, &s);
    }
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

static void
agent_unixctl_stats(struct unixctl_conn *conn, int argc OVS_UNUSED,
                    const char *argv[] OVS_UNUSED, void *a_)
{
    struct agent *a = a_;
    struct ctl_sock *sock = node_daemon_ctl_sock(a->nd);
    struct ofctrl *ofctrl = node_daemon_ofctrl(a->nd);
    struct ds s = DS_EMPTY_INITIALIZER;

    if (a->core) {
        agent_core_format_stats(a->core, &s);
    }
#define PUT(NAME) ds_put_format(&s, "  " #NAME ": %"PRIu64"\n", a->NAME)
    ds_put_cstr(&s, "agent:\n");
    PUT(frames_to_server);
    PUT(frames_to_client);
    PUT(frames_bad);
    PUT(frames_unsent);
    PUT(pings);
    PUT(pongs);
    PUT(pings_unready);
    PUT(pings_foreign);
    PUT(lb_lists);
    PUT(lb_lists_stale);
    PUT(msgs_ignored);
    PUT(msgs_no_route);
    PUT(publish_rounds);
    PUT(load_msgs);
    PUT(conn_reqs_service_down);
    PUT(journal_loaded);
    PUT(redirects_failed);
#undef PUT
    if (a->owners) {
        owners_format_stats(a->owners, &s);
    }
    if (a->xp) {
        ds_put_cstr(&s, "translation port:\n");
        xlate_path_format_stats(a->xp, &s);
    }
    const struct service_probe_stats *ps = service_probe_get_stats(a->probe);
    ds_put_format(&s, "service checks: %"PRIu64" probes, %"PRIu64" ok, "
                  "%"PRIu64" failed, %"PRIu64" downs, %"PRIu64" ups\n",
                  ps->probes, ps->ok, ps->failed, ps->downs, ps->ups);
    for (size_t i = 0; i < a->n_diags; i++) {
        const struct sock_diag_stats *st = sock_diag_get_stats(a->diags[i]);

        ds_put_format(&s, "socket table %s: %"PRIu64" dumps, %"PRIu64
                      " sockets, %"PRIu64" errors\n",
                      a->netns[i][0] ? a->netns[i] : "(own)",
                      st->dumps, st->sockets, st->errors);
    }
    if (sock) {
        ctl_sock_format_stats(sock, &s);
    }
    if (ofctrl) {
        ds_put_cstr(&s, "openflow:\n");
        ofctrl_format_stats(ofctrl, &s);
    }
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* "ovslb/owners": the sockets this node announces, the peers heard and
 * the connections redirected to them. */
static void
agent_unixctl_owners(struct unixctl_conn *conn, int argc OVS_UNUSED,
                     const char *argv[] OVS_UNUSED, void *a_)
{
    struct agent *a = a_;
    struct ds s = DS_EMPTY_INITIALIZER;

    if (a->owners) {
        owners_format(a->owners, &s);
    } else {
        ds_put_cstr(&s, "not configured\n");
    }
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* "ovslb/set-limits conn=N load=X mem-mb=N": admission limits at run
 * time (0: none). */
static void
agent_unixctl_set_limits(struct unixctl_conn *conn, int argc,
                         const char *argv[], void *a_)
{
    struct agent *a = a_;
    struct agent_limits limits = a->opts.limits;

    for (int i = 1; i < argc; i++) {
        unsigned long long int n;
        double x;

        if (sscanf(argv[i], "conn=%llu", &n) == 1 && n <= UINT32_MAX) {
            limits.conn_limit = n;
        } else if (sscanf(argv[i], "load=%lf", &x) == 1 && x >= 0
                   && x < 1e6) {
            limits.max_load_milli = x * 1000;
        } else if (sscanf(argv[i], "mem-mb=%llu", &n) == 1
                   && n < UINT64_MAX / 1024) {
            limits.min_mem_kb = n * 1024;
        } else {
            unixctl_command_reply_error(conn, "bad argument (want conn=N, "
                                        "load=X or mem-mb=N)");
            return;
        }
    }
    a->opts.limits = limits;
    if (a->core) {
        limits = core_limits(a, node_daemon_config(a->nd));
        agent_core_set_limits(a->core, &limits);
    }
    unixctl_command_reply(conn, NULL);
}
