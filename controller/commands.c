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
 * commands: the daemon's ovs-appctl commands (ovslb/show, ovslb/flows,
 * ovslb/stats, ovslb/health) and their registration, and the same counters
 * and gauges as Prometheus metrics.  Part of the daemon
 * (controller-private.h).
 */
#include <config.h>
#include "controller/controller-private.h"

#include "bgp-speaker.h"
#include "cluster-config.h"
#include "ctl-sock.h"
#include "health.h"
#include "metrics.h"
#include "controller/hash-vips.h"
#include "controller/lbnode.h"
#include "switch-conntrack.h"
#include "flow.h"
#include "node-daemon.h"
#include "ofctrl.h"
#include "openvswitch/dynamic-string.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

static unixctl_cb_func ovslb_show, ovslb_flows, ovslb_stats, ovslb_health;

/* Registers the ovs-appctl commands of the controller 'c'. */
void
commands_register(struct controller *c)
{
    unixctl_command_register("ovslb/show", "", 0, 0, ovslb_show, c);
    unixctl_command_register("ovslb/flows", "", 0, 0, ovslb_flows, c);
    unixctl_command_register("ovslb/stats", "", 0, 0, ovslb_stats, c);
    unixctl_command_register("ovslb/health", "", 0, 0, ovslb_health, c);
}

static void
ovslb_show(struct unixctl_conn *conn, int argc OVS_UNUSED,
           const char *argv[] OVS_UNUSED, void *c_)
{
    struct controller *c = c_;
    struct ds s = DS_EMPTY_INITIALIZER;

    node_daemon_status(c->nd, &s);
    if (c->configured) {
        lbnode_format_show(c->lb, &s);
    } else {
        ds_put_cstr(&s, "not configured yet\n");
    }
    ds_put_format(&s, "ports: north %"PRIu16", tunnel %"PRIu16"\n",
                  ofp_to_u16(c->north_port), ofp_to_u16(c->tunnel_port));
    const struct node_settings *settings = node_daemon_settings(c->nd);
    const struct cluster_snapshot *snap = node_daemon_config(c->nd);
    if (snap && settings) {
        /* The switch counts the drops; ofctrl does not ask it for them. */
        ds_put_format(&s, "meters: SYN %"PRIu32"/s (cookies above %"PRIu32
                      " SYN/s to the tier), other %"PRIu32"/s; drops: "
                      "ovs-ofctl -O OpenFlow15 meter-stats %s\n",
                      snap->settings.syn_meter_rate,
                      snap->settings.syn_cookie_rate,
                      snap->settings.other_meter_rate,
                      settings->bridge);
    }
    hash_vips_format(c->hash_vips, node_daemon_ofctrl(c->nd), time_msec(),
                     &s);
    if (c->bgp) {
        bgp_speaker_format(c->bgp, &s);
    } else {
        ds_put_cstr(&s, "bgp: no bgpd beside this controller\n");
    }
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

static void
ovslb_health(struct unixctl_conn *conn, int argc OVS_UNUSED,
             const char *argv[] OVS_UNUSED, void *c_)
{
    struct controller *c = c_;
    struct ds s = DS_EMPTY_INITIALIZER;

    if (c->health) {
        health_format(c->health, time_msec(), &s);
    } else {
        ds_put_cstr(&s, "not configured yet\n");
    }
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

static void
ovslb_flows(struct unixctl_conn *conn, int argc OVS_UNUSED,
            const char *argv[] OVS_UNUSED, void *c_)
{
    struct controller *c = c_;
    struct ds s = DS_EMPTY_INITIALIZER;

    lbnode_format_flows(c->lb, time_msec(), &s);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

static void
ovslb_stats(struct unixctl_conn *conn, int argc OVS_UNUSED,
            const char *argv[] OVS_UNUSED, void *c_)
{
    struct controller *c = c_;
    struct ofctrl *ofctrl = node_daemon_ofctrl(c->nd);
    struct ctl_sock *sock = node_daemon_ctl_sock(c->nd);
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_format(&s, "packet-ins: syn %"PRIu64", other %"PRIu64", arp %"
                  PRIu64"\n", c->packet_ins_syn, c->packet_ins_other,
                  c->packet_ins_arp);
    ds_put_format(&s, "messages without route %"PRIu64", packet-outs failed %"
                  PRIu64", conntrack flushes failed %"PRIu64"\n",
                  c->msgs_no_route, c->packet_outs_failed,
                  c->ct_flushes_failed);
    switch_conntrack_format(c->ct, &s);
    ds_put_format(&s, "journal: restored %"PRIu64", write errors %"PRIu64
                  "\n", c->restored_records, c->journal_errors);
    ds_put_format(&s, "publications on the wrong port %"PRIu64"\n",
                  c->publish_wrong_port);
    lbnode_format_stats(c->lb, &s);
    if (sock) {
        ctl_sock_format_stats(sock, &s);
    }
    if (c->fwd_sock) {
        ds_put_cstr(&s, "forwarding port:\n");
        ctl_sock_format_stats(c->fwd_sock, &s);
    }
    if (c->north_sock) {
        ds_put_cstr(&s, "north health port:\n");
        ctl_sock_format_stats(c->north_sock, &s);
    }
    if (c->south_sock) {
        ds_put_cstr(&s, "south health port:\n");
        ctl_sock_format_stats(c->south_sock, &s);
    }
    if (ofctrl) {
        ds_put_cstr(&s, "openflow:\n");
        ofctrl_format_stats(ofctrl, &s);
    }
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

#define CONTROLLER_COUNTER(MEMBER, NAME, HELP) \
    METRICS_COUNTER_FIELD(struct controller, MEMBER, NAME, HELP)
static const struct metrics_counter controller_counters[] = {
    CONTROLLER_COUNTER(msgs_no_route, "messages_no_route",
                       "Messages to nodes without a known address."),
    CONTROLLER_COUNTER(packet_outs_failed, "packet_outs_failed",
                       "Packet-outs that failed."),
    CONTROLLER_COUNTER(ct_flushes_failed, "conntrack_flushes_failed",
                       "Conntrack flushes that failed."),
    CONTROLLER_COUNTER(restored_records, "journal_restored",
                       "Journal records restored at start."),
    CONTROLLER_COUNTER(journal_errors, "journal_write_errors",
                       "Journal write errors."),
    CONTROLLER_COUNTER(publish_wrong_port, "publish_wrong_port",
                       "Publications on the wrong port: dropped."),
};

/* Adds to 'm' what ovslb/stats shows (and the gauges of ovslb/show and
 * ovslb/health) of 'c', beyond what the shared drivers added. */
static void
put_metrics(struct controller *c, struct metrics *m)
{
    struct metrics_family *f;

    f = metrics_family(m, "ovslb_lb_packet_ins_total", METRICS_COUNTER,
                       "Packet-ins handled, by kind (client SYN, other "
                       "client segment, ARP).");
    metrics_add(f, c->packet_ins_syn, "kind", "syn", NULL);
    metrics_add(f, c->packet_ins_other, "kind", "other", NULL);
    metrics_add(f, c->packet_ins_arp, "kind", "arp", NULL);

    metrics_put_counters(m, "ovslb_lb_", controller_counters,
                         ARRAY_SIZE(controller_counters), c, NULL);

    metrics_put(m, "ovslb_lb_configured", METRICS_GAUGE,
                "1 if the node has its cluster configuration.",
                c->configured, NULL);
    switch_conntrack_put_metrics(c->ct, m);
    hash_vips_put_metrics(c->hash_vips, m);
    if (c->configured) {
        lbnode_put_metrics(c->lb, m);
    }
    if (c->health) {
        health_put_metrics(c->health, m);
    }
    if (c->fwd_sock) {
        ctl_sock_put_metrics(c->fwd_sock, m, "forwarding");
    }
    if (c->north_sock) {
        ctl_sock_put_metrics(c->north_sock, m, "north");
    }
    if (c->south_sock) {
        ctl_sock_put_metrics(c->south_sock, m, "south");
    }
}

/* Writes the node's metrics file, if it has one and a write is due at
 * 'now'. */
void
commands_write_metrics(struct controller *c, long long int now)
{
    struct metrics *m = node_daemon_metrics_begin(c->nd, now);

    if (m) {
        put_metrics(c, m);
        node_daemon_metrics_write(c->nd, now);
    }
}
