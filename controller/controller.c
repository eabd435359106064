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
 * controller: the LB node's daemon around the lbnode core (lbnode.h): its
 * life cycle, its reconfiguration from the config service, the main loop's
 * run and wait, and the dispatch of packet-ins and control messages to the
 * core and the health checker.  Its other parts are listed in
 * controller-private.h.
 */
#include <config.h>
#include "controller/controller-private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster-config.h"
#include "coverage.h"
#include "ctl-msg.h"
#include "ctl-sock.h"
#include "dirs.h"
#include "dp-packet.h"
#include "flows/lb-pipeline.h"
#include "flows/pipeline.h"
#include "bgp-speaker.h"
#include "health.h"
#include "controller/lb-actions.h"
#include "controller/hash-vips.h"
#include "controller/lbnode.h"
#include "switch-conntrack.h"
#include "node-daemon.h"
#include "ofctrl.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-monitor.h"
#include "openvswitch/ofp-packet.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "selection.h"
#include "store.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(controller);

COVERAGE_DEFINE(controller_packet_in_syn);
COVERAGE_DEFINE(controller_packet_in_other);

/* Most packet-ins handled per pass of the main loop: fairness between the
 * loop's inputs, not a setting (it changes nothing a client sees). */
#define MAX_PACKET_INS_PER_RUN 256

/* Configuration. */

static bool controller_config_applied(const struct controller *);

/* A connection is published every publish_interval_ms, so a shorter lease
 * than three of those would lapse between the publications of a live
 * connection (one lost datagram is enough) and drop its state: such a
 * lease is raised, and the operator told once per configuration. */
static uint32_t
effective_lease_ms(const struct cluster_settings *s)
{
    static uint64_t warned;     /* (lease << 32 | interval) warned about. */
    uint64_t floor = 3ULL * s->publish_interval_ms;

    if (s->lease_ms >= floor) {
        return s->lease_ms;
    }
    if (warned != ((uint64_t) s->lease_ms << 32 | s->publish_interval_ms)) {
        warned = (uint64_t) s->lease_ms << 32 | s->publish_interval_ms;
        VLOG_WARN("lease_ms %"PRIu32" is shorter than three publishing "
                  "periods (publish_interval_ms %"PRIu32"): using %"PRIu64
                  " ms", s->lease_ms, s->publish_interval_ms, floor);
    }
    return MIN(floor, UINT32_MAX);
}

/* Configures the lbnode core, health checking, the sockets, BGP and the
 * static pipeline of 'c' from the node's settings and the cluster's
 * configuration. */
void
controller_reconfigure(struct controller *c)
{
    const struct node_settings *settings = node_daemon_settings(c->nd);
    const struct cluster_snapshot *snap = node_daemon_config(c->nd);
    struct lbnode_config cfg;

    if (!settings || !snap) {
        return;
    }

    c->north_port = node_daemon_ofport(c->nd, settings->north_port);
    c->tunnel_port = node_daemon_ofport(c->nd, settings->tunnel_port);
    lb_actions_set_ports(c->actions, c->north_port, c->tunnel_port);
    c->has_own_mac = node_daemon_port_mac(c->nd, settings->bridge,
                                          &c->own_mac);
    const struct cluster_lb_node *self
        = cluster_snapshot_find_lb_node(snap, settings->node_id);
    if (self) {
        c->north_addr = self->north;
    }

    uint64_t ring_key = node_daemon_ring_key(c->nd);
    health_control_configure(c, snap, settings->node_id, ring_key);
    c->health_seqno = health_seqno(c->health);
    aux_sockets_update(c);
    bgp_control_update(c, snap, settings->node_id);

    struct lbnode_lb *lbs = xcalloc(snap->n_lb_nodes + 1, sizeof *lbs);
    for (size_t i = 0; i < snap->n_lb_nodes; i++) {
        const struct cluster_lb_node *n = &snap->lb_nodes[i];
        lbs[i] = (struct lbnode_lb) {
            .node = n->node_id, .north = n->north, .south = n->south,
            .control = n->control,
            .healthy = n->enabled && health_is_healthy(c->health, n->node_id),
            .zone = n->zone,
        };
    }
    struct lbnode_server *servers = xcalloc(snap->n_server_nodes + 1,
                                            sizeof *servers);
    for (size_t i = 0; i < snap->n_server_nodes; i++) {
        const struct cluster_server_node *n = &snap->server_nodes[i];
        servers[i] = (struct lbnode_server) {
            .node = n->node_id, .underlay = n->underlay,
            .control = n->control,
            .healthy = n->enabled && health_is_healthy(c->health, n->node_id),
            .zone = n->zone,
        };
    }

    size_t n_vips = 0, max_vips = 0;
    for (size_t i = 0; i < snap->n_vips; i++) {
        max_vips += snap->vips[i].n_ports;
    }
    struct lbnode_vip *vips = xcalloc(max_vips + 1, sizeof *vips);
    for (size_t i = 0; i < snap->n_vips; i++) {
        const struct cluster_vip *v = &snap->vips[i];
        enum selection_algo algo;

        if (v->protocol != IPPROTO_TCP && v->mode != CLUSTER_VIP_HASH) {
            continue;           /* Refused by the configuration anyway. */
        }
        if (!selection_algo_from_string(
                cluster_vip_algorithm_to_string(v->algorithm), &algo)) {
            algo = SEL_DEFAULT;
        }
        for (size_t j = 0; j < v->n_ports; j++) {
            struct lbnode_vip *lv = &vips[n_vips++];

            *lv = (struct lbnode_vip) {
                .name = v->name, .addr = v->address, .port = v->ports[j],
                .proto = v->protocol, .algorithm = algo, .mss = v->mss,
                .wscale = v->wscale, .ttl = v->ttl, .enabled = v->enabled,
                .hash = v->mode == CLUSTER_VIP_HASH,
                .n_servers = v->n_servers,
            };
            lv->servers = xcalloc(v->n_servers + 1, sizeof *lv->servers);
            for (size_t k = 0; k < v->n_servers; k++) {
                lv->servers[k].node = v->servers[k].node_id;
                lv->servers[k].weight = v->servers[k].weight;
            }
        }
    }

    const struct cluster_settings *s = &snap->settings;
    uint32_t lease_ms = effective_lease_ms(s);
    cfg = (struct lbnode_config) {
        .self = settings->node_id,
        .ring_key = ring_key,
        .secret = s->cluster_key,
        .secret_len = strlen(s->cluster_key),
        .vnodes = s->ring_vnodes,
        .lbs = lbs, .n_lbs = snap->n_lb_nodes,
        .servers = servers, .n_servers = snap->n_server_nodes,
        .vips = vips, .n_vips = n_vips,
        .buffer_packets = s->buffer_packets,
        .buffer_bytes = s->buffer_bytes,
        .buffer_timeout_ms = s->buffer_timeout_ms,
        .syn_table_max = s->syn_table_max,
        .syn_cookie_pct = s->syn_cookie_threshold_pct,
        .syn_cookie_rate = s->syn_cookie_rate,
        .lease_ms = lease_ms,
        .handshake_timeout_ms = s->handshake_timeout_ms,
        .connect_retry_ms = s->connect_retry_ms,
        .query_retry_ms = s->query_retry_ms,
        /* Three reports may be lost before a server's load stops
         * counting. */
        .load_max_age_ms = MAX(3 * s->publish_interval_ms, 1000),
        .tracker_table_max = s->tracker_table_max,
        .mapping_table_max = s->mapping_table_max,
        .pending_table_max = s->pending_table_max,
    };
    lbnode_configure(c->lb, &cfg);
    c->configured = true;
    if (!c->restored && c->north_port != OFPP_NONE
        && c->tunnel_port != OFPP_NONE) {
        journal_restore(c);
    }

    for (size_t i = 0; i < n_vips; i++) {
        free(vips[i].servers);
    }
    free(vips);
    free(servers);
    free(lbs);

    static_flows_install(c);
}

/* Packet-ins. */

static void
handle_packet_ins(struct controller *c, long long int now)
{
    struct ofctrl *ofctrl = node_daemon_ofctrl(c->nd);
    struct ofctrl_packet_in *syns[MAX_PACKET_INS_PER_RUN];
    size_t n_syns = 0;

    if (!ofctrl) {
        return;
    }
    /* Non-SYN segments first: a SYN flood must not delay the ACKs of
     * handshakes in progress. */
    for (int i = 0; i < MAX_PACKET_INS_PER_RUN; i++) {
        struct ofctrl_packet_in *pi = ofctrl_recv_packet_in(ofctrl);
        const uint8_t *ud;
        const struct eth_header *eth;

        if (!pi) {
            break;
        }
        ud = pi->pin.userdata;
        eth = (pi->pin.packet_len >= sizeof *eth ? pi->pin.packet : NULL);
        if (pi->pin.userdata_len == 1 && ud[0] == LB_USERDATA_ARP) {
            /* The north segment also carries the other LB nodes' ARP (their
             * health checks of each other): only the gateway's own ARP
             * tells its MAC. */
            if (eth && pi->in_port == c->north_port
                && edge_mac_arp_from_gateway(pi->pin.packet,
                                             pi->pin.packet_len)) {
                edge_mac_learn(c, eth->eth_src);
            }
            c->packet_ins_arp++;
            ofctrl_packet_in_destroy(pi);
        } else if (pi->pin.userdata_len == 1 && ud[0] == LB_USERDATA_SYN) {
            /* Client traffic to a VIP comes through the edge router. */
            if (eth && pi->in_port == c->north_port) {
                edge_mac_learn(c, eth->eth_src);
            }
            syns[n_syns++] = pi;
        } else {
            if (eth && pi->in_port == c->north_port) {
                edge_mac_learn(c, eth->eth_src);
            }
            c->packet_ins_other++;
            COVERAGE_INC(controller_packet_in_other);
            if (c->configured) {
                lbnode_packet_in(c->lb, pi->pin.packet, pi->pin.packet_len,
                                 now, &lb_io, c);
            }
            ofctrl_packet_in_destroy(pi);
        }
    }
    for (size_t i = 0; i < n_syns; i++) {
        c->packet_ins_syn++;
        COVERAGE_INC(controller_packet_in_syn);
        if (c->configured) {
            lbnode_packet_in(c->lb, syns[i]->pin.packet,
                             syns[i]->pin.packet_len, now, &lb_io, c);
        }
        ofctrl_packet_in_destroy(syns[i]);
    }
    if (n_syns == MAX_PACKET_INS_PER_RUN) {
        poll_immediate_wake();
    }
}

static void
dispatch_message(struct controller *c, struct ctl_sock *sock,
                 const struct ctl_msg *msg, const struct in6_addr *src,
                 uint16_t src_port, long long int now)
{
    switch (msg->type) {
    case CTL_MSG_PING:
    case CTL_MSG_PONG:
    case CTL_MSG_GOSSIP:
        if (c->health) {
            c->reply_sock = sock;
            c->reply_addr = *src;
            c->reply_port = src_port;
            health_recv(c->health, msg, now, &health_control_io, c);
            c->reply_sock = NULL;
        }
        break;
    case CTL_MSG_PUBLISH:
    case CTL_MSG_PUBLISH_FWD:
        /* Agents publish to the control port; LB nodes forward on the
         * forwarding port, and what comes in there is never forwarded
         * again.  Anything else would let a forwarded publication be
         * forwarded once more. */
        if ((msg->type == CTL_MSG_PUBLISH_FWD) != (sock == c->fwd_sock)) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

            c->publish_wrong_port++;
            VLOG_WARN_RL(&rl, "%s from node %"PRIu32" on the %s port: "
                         "dropped", ctl_msg_type_to_string(msg->type),
                         msg->sender,
                         sock == c->fwd_sock ? "forwarding" : "control");
            break;
        }
        if (c->configured) {
            lbnode_recv(c->lb, msg, now, &lb_io, c);
        }
        break;
    default:
        if (sock == c->fwd_sock) {
            c->publish_wrong_port++;
        } else if (c->configured) {
            lbnode_recv(c->lb, msg, now, &lb_io, c);
        }
        break;
    }
}

static void
handle_messages(struct controller *c, long long int now)
{
    struct ctl_sock *socks[] = { node_daemon_ctl_sock(c->nd),
                                 c->north_sock, c->south_sock,
                                 c->fwd_sock };
    struct in6_addr src;
    uint16_t src_port;
    struct ctl_msg msg;

    for (size_t i = 0; i < ARRAY_SIZE(socks); i++) {
        if (socks[i]) {
            while (ctl_sock_recv(socks[i], &msg, &src, &src_port)) {
                dispatch_message(c, socks[i], &msg, &src, src_port, now);
            }
        }
    }
}

static void
run_switch_conntrack(struct controller *c, long long int now)
{
    struct ofctrl *ofctrl = node_daemon_ofctrl(c->nd);
    struct ofctrl_stats st = { .n_connections = 0 };

    if (ofctrl && ofctrl_is_connected(ofctrl)) {
        ofctrl_get_stats(ofctrl, &st);
    }
    switch_conntrack_run(c->ct, st.n_connections, now);
}

/* Does a pass of the daemon's work for 'c'. */
void
controller_run(struct controller *c)
{
    long long int now = time_msec();

    /* SYN cookies' slots come from the wall clock, the nodes' only shared
     * time; everything else from the monotonic 'now'. */
    lbnode_set_clock_offset(c->lb, time_wall_msec() - now);
    node_daemon_run(c->nd);
    if (node_daemon_seqno(c->nd) != c->nd_seqno) {
        c->nd_seqno = node_daemon_seqno(c->nd);
        controller_reconfigure(c);
        if (c->has_own_mac && c->has_edge_mac) {
            lbnode_set_macs(c->lb, c->own_mac, c->edge_mac);
        }
    }
    run_switch_conntrack(c, now);
    handle_packet_ins(c, now);
    handle_messages(c, now);
    health_control_run(c, now);
    if (c->bgp) {
        bgp_speaker_run(c->bgp, now);
    }
    if (c->configured) {
        lbnode_rebalance(c->lb, now, &lb_io, c);
        lbnode_run(c->lb, now, &lb_io, c);
        lbnode_retry(c->lb, now, &lb_io, c);
        hash_vips_run(c, now);
    }
    edge_mac_send_arp_request(c, now);

    /* What this pass queued for other nodes, a datagram per node. */
    node_daemon_flush(c->nd);
    if (c->fwd_sock) {
        ctl_sock_flush(c->fwd_sock);
    }

    struct ofctrl *ofctrl = node_daemon_ofctrl(c->nd);
    if (ofctrl && c->flows_changed) {
        ofctrl_commit(ofctrl);
        c->flows_changed = false;
    }
    if (controller_config_applied(c)) {
        node_daemon_ack_config(c->nd);
    }
    commands_write_metrics(c, now);
}

/* Returns true if the data path of 'c' reflects the configuration it last
 * read: the lbnode core (its rings, VIPs and servers) and the health
 * checker configured from it, the static flows and meters built from it
 * and every hash VIP's table (not only its pins) written, all confirmed
 * installed by the switch (a barrier: ofctrl's installed table equals the
 * desired one), the control socket bound and keyed.  What 'ovslb-ctl
 * --wait' waits for (ovslb-ctl(8)). */
static bool
controller_config_applied(const struct controller *c)
{
    return c->configured && c->static_flows_built
           && !hash_vips_is_pending(c->hash_vips)
           && node_daemon_is_ready(c->nd);
}

/* Arranges for poll_block() to wake when controller_run() has work. */
void
controller_wait(struct controller *c)
{
    node_daemon_wait(c->nd);
    if (c->configured) {
        long long int deadline = lbnode_next_deadline(c->lb);
        if (deadline != LLONG_MAX) {
            poll_timer_wait_until(deadline);
        }
    }
    if (c->has_own_mac && c->north_port != OFPP_NONE) {
        poll_timer_wait_until(c->next_arp);
    }
    poll_timer_wait_until(switch_conntrack_next_deadline(c->ct));
    poll_timer_wait_until(hash_vips_next_deadline(c->hash_vips,
                                                  time_msec()));
    if (c->health) {
        poll_timer_wait_until(health_next_deadline(c->health));
        poll_timer_wait_until(c->next_heartbeat_journal);
    }
    if (c->north_sock) {
        ctl_sock_wait(c->north_sock);
    }
    if (c->south_sock) {
        ctl_sock_wait(c->south_sock);
    }
    if (c->fwd_sock) {
        ctl_sock_wait(c->fwd_sock);
    }
    if (c->bgp) {
        bgp_speaker_wait(c->bgp, time_msec());
    }
}

/* Creates the daemon of an LB node, following the local Open vSwitch
 * database at 'ovs_remote', and registers its ovs-appctl commands. */
struct controller *
controller_create(const char *ovs_remote)
{
    struct controller *c = xzalloc(sizeof *c);

    c->nd = node_daemon_create(ovs_remote, NODE_ROLE_LB);
    c->lb = lbnode_create();
    lbnode_set_journal(c->lb, journal_write, c);
    c->north_port = c->tunnel_port = OFPP_NONE;
    c->actions = lb_actions_create();
    c->ct = switch_conntrack_create(ovs_rundir());
    c->hash_vips = hash_vips_create();
    pipeline_init(&c->pipeline);

    commands_register(c);
    return c;
}

/* Frees 'c'.  A null 'c' is a no-op. */
void
controller_destroy(struct controller *c)
{
    if (!c) {
        return;
    }
    pipeline_destroy(&c->pipeline);
    health_destroy(c->health);
    bgp_speaker_destroy(c->bgp);
    free(c->bgp_key);
    ctl_sock_close(c->north_sock);
    ctl_sock_close(c->south_sock);
    ctl_sock_close(c->fwd_sock);
    lbnode_destroy(c->lb);
    lb_actions_destroy(c->actions);
    switch_conntrack_destroy(c->ct);
    hash_vips_destroy(c->hash_vips);
    node_daemon_destroy(c->nd);
    free(c);
}
