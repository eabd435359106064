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
 * health-control: the daemon's side of health checking and gossip
 * (PROTOCOL.md §8, health.h): configures the health checker from the config
 * service, sends its messages on the right socket, tells it whether this
 * node can serve, and reconfigures the daemon when a node changes state.
 * Part of the daemon (controller-private.h).
 */
#include <config.h>
#include "controller/controller-private.h"

#include <stdlib.h>

#include "cluster-config.h"
#include "ctl-msg.h"
#include "ctl-sock.h"
#include "health.h"
#include "switch-conntrack.h"
#include "node-daemon.h"
#include "ofctrl.h"
#include "openvswitch/vlog.h"
#include "random.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(health_control);

static void
health_io_send(void *c_, uint32_t dst, enum health_via via,
               const struct in6_addr *addr, struct ctl_msg *msg)
{
    struct controller *c = c_;
    struct ctl_sock *sock = node_daemon_ctl_sock(c->nd);
    const struct cluster_snapshot *snap = node_daemon_config(c->nd);
    uint16_t port = snap ? snap->settings.control_port : CTL_MSG_PORT;

    switch (via) {
    case HEALTH_VIA_REPLY:
        if (c->reply_sock) {
            ctl_sock_send(c->reply_sock, msg, &c->reply_addr,
                          c->reply_port);
        }
        return;
    case HEALTH_VIA_NORTH:
        /* From our north address to theirs: the path the edge uses. */
        if (c->north_sock) {
            sock = c->north_sock;
        }
        break;
    case HEALTH_VIA_SOUTH:
        /* From our south address to theirs: the fabric, which the tunnels
         * use, even when control traffic has a network of its own. */
        if (c->south_sock) {
            sock = c->south_sock;
        }
        break;
    case HEALTH_VIA_CONTROL:
    default:
        break;
    }
    if (sock && addr) {
        ctl_sock_send(sock, msg, addr, port);
    } else {
        c->msgs_no_route++;
    }
    (void) dst;
}

const struct health_io health_control_io = {
    .send = health_io_send,
};

/* Configures the health checker of 'c' for the LB and server nodes that
 * 'snap' enables, 'self' being this node's id and 'ring_key' the ring's
 * key; creates it first, or again if 'self' changed. */
void
health_control_configure(struct controller *c,
                         const struct cluster_snapshot *snap,
                         uint32_t self, uint64_t ring_key)
{
    struct health_lb *lbs = xcalloc(snap->n_lb_nodes + 1, sizeof *lbs);
    struct health_server *srvs = xcalloc(snap->n_server_nodes + 1,
                                         sizeof *srvs);
    size_t n_lbs = 0, n_srvs = 0;
    const struct cluster_settings *s = &snap->settings;
    long long int now = time_msec();

    for (size_t i = 0; i < snap->n_lb_nodes; i++) {
        const struct cluster_lb_node *n = &snap->lb_nodes[i];
        if (n->enabled) {
            lbs[n_lbs++] = (struct health_lb) {
                .node = n->node_id, .north = n->north, .south = n->south,
                .control = n->control,
            };
        }
    }
    for (size_t i = 0; i < snap->n_server_nodes; i++) {
        const struct cluster_server_node *n = &snap->server_nodes[i];
        if (n->enabled) {
            srvs[n_srvs++] = (struct health_server) {
                .node = n->node_id, .control = n->control,
            };
        }
    }
    struct health_config cfg = {
        .lbs = lbs, .n_lbs = n_lbs, .servers = srvs, .n_servers = n_srvs,
        .ring_key = ring_key, .vnodes = s->ring_vnodes,
        .ping_interval_ms = s->ping_interval_ms,
        .gossip_interval_ms = s->gossip_interval_ms,
        .suspect_ms = s->suspect_ms,
        .unhealthy_ms = s->unhealthy_ms,
        .server_interval_ms = s->server_check_interval_ms,
    };
    if (!c->health || health_self(c->health) != self) {
        health_destroy(c->health);
        c->health = health_create(self, &cfg, random_uint64() ^ self, now);
        health_set_clock_offset(c->health, time_wall_msec() - now);
    } else {
        health_set_config(c->health, &cfg, now);
    }
    free(lbs);
    free(srvs);
}

/* Whether this node can serve: the health checks of others find it only if
 * it does (PROTOCOL.md §8). */
static bool
able_to_serve(const struct controller *c)
{
    struct ofctrl *ofctrl = node_daemon_ofctrl(c->nd);

    return (c->configured && ofctrl && ofctrl_is_connected(ofctrl)
            && c->north_port != OFPP_NONE && c->tunnel_port != OFPP_NONE
            && switch_conntrack_ready(c->ct));
}

/* Does a pass of the health checking and gossip of 'c' at 'now', and
 * reconfigures 'c' if a node changed state. */
void
health_control_run(struct controller *c, long long int now)
{
    if (!c->health) {
        return;
    }
    health_set_serving(c->health, able_to_serve(c));
    health_run(c->health, now, &health_control_io, c);
    if (health_seqno(c->health) != c->health_seqno) {
        /* A node changed state: rebuild the ring and the servers' health
         * in the core. */
        size_t n_healthy;

        health_healthy_lbs(c->health, &n_healthy);
        VLOG_INFO("health changed: %"PRIuSIZE" LB nodes healthy", n_healthy);
        controller_reconfigure(c);
    }
    journal_heartbeats(c, now);
}
