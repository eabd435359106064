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
 * static-flows: the LB node's static pipeline (flows/lb-pipeline.h) in its
 * switch: builds it from the configuration, the ports and the MACs, sets the
 * meters of the packet-in paths, and replaces the flows installed before.
 * Part of the daemon (controller-private.h).
 */
#include <config.h>
#include "controller/controller-private.h"

#include <stdlib.h>

#include "cluster-config.h"
#include "controller/hash-vips.h"
#include "flows/lb-pipeline.h"
#include "flows/pipeline.h"
#include "node-daemon.h"
#include "ofctrl.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(static_flows);

/* Installs the static flows and meters that the configuration and the
 * edge router's MAC call for, replacing those installed before. */
void
static_flows_install(struct controller *c)
{
    struct ofctrl *ofctrl = node_daemon_ofctrl(c->nd);
    const struct cluster_snapshot *snap = node_daemon_config(c->nd);
    struct lb_pipeline_params params;
    struct lb_pipeline_vip *vips;
    struct in6_addr *servers;
    struct pipeline new;
    size_t n_vips = 0;
    char *error;

    c->static_flows_built = false;
    if (!ofctrl || !snap || c->north_port == OFPP_NONE
        || c->tunnel_port == OFPP_NONE) {
        return;
    }

    size_t max_vips = 0;
    for (size_t i = 0; i < snap->n_vips; i++) {
        max_vips += snap->vips[i].n_ports;
    }
    /* The hash VIPs' slots first: the pipeline names their ids. */
    hash_vips_update(c, time_msec());

    vips = xcalloc(max_vips ? max_vips : 1, sizeof *vips);
    for (size_t i = 0; i < snap->n_vips; i++) {
        const struct cluster_vip *v = &snap->vips[i];

        if (v->protocol != IPPROTO_TCP
            && (v->protocol != IPPROTO_UDP || v->mode != CLUSTER_VIP_HASH)) {
            continue;           /* Refused by the configuration anyway. */
        }
        for (size_t j = 0; j < v->n_ports; j++) {
            struct lb_pipeline_vip *pv = &vips[n_vips];

            *pv = (struct lb_pipeline_vip) {
                .addr = v->address, .port = v->ports[j],
                .proto = v->protocol,
            };
            if (v->mode == CLUSTER_VIP_HASH) {
                pv->hash_id = hash_vips_id(c->hash_vips, &v->address,
                                           v->ports[j], v->protocol,
                                           &pv->hash_slots,
                                           &pv->hash_by_source);
                if (!pv->hash_id) {
                    continue;   /* No id left (65535 hash VIP ports). */
                }
            }
            n_vips++;
        }
    }
    servers = xcalloc(snap->n_server_nodes ? snap->n_server_nodes : 1,
                      sizeof *servers);
    for (size_t i = 0; i < snap->n_server_nodes; i++) {
        servers[i] = snap->server_nodes[i].underlay;
    }

    params = (struct lb_pipeline_params) {
        .north_port = c->north_port,
        .tunnel_port = c->tunnel_port,
        .has_macs = c->has_own_mac && c->has_edge_mac,
        .own_mac = c->own_mac,
        .edge_mac = c->edge_mac,
        .vips = vips,
        .n_vips = n_vips,
        .servers = servers,
        .n_servers = snap->n_server_nodes,
    };
    pipeline_init(&new);
    lb_pipeline_build(&params, &new);

    /* The packet-in rates of the two miss paths are settings
     * (syn_meter_rate, other_meter_rate: packets per second of this node);
     * ofctrl sends a meter-mod only when a rate changed. */
    char *meter = xasprintf("pktps,band=type=drop,rate=%"PRIu32,
                            snap->settings.syn_meter_rate);
    error = ofctrl_meter_set(ofctrl, LB_METER_SYN, meter);
    free(meter);
    if (!error) {
        meter = xasprintf("pktps,band=type=drop,rate=%"PRIu32,
                          snap->settings.other_meter_rate);
        error = ofctrl_meter_set(ofctrl, LB_METER_OTHER, meter);
        free(meter);
    }
    if (error) {
        VLOG_ERR("meters: %s", error);
        free(error);
    }

    /* Replace the old static flows by the new ones; ofctrl sends only the
     * difference. */
    for (size_t i = 0; i < c->pipeline.n; i++) {
        const struct pipeline_flow *f = &c->pipeline.flows[i];
        char *spec = xasprintf("table=%u,priority=%u%s%s", f->table,
                               f->priority, f->match[0] ? "," : "",
                               f->match);
        error = ofctrl_flow_del_str(ofctrl, spec, NULL);
        free(error);
        free(spec);
    }
    error = pipeline_install(&new, ofctrl);
    if (error) {
        VLOG_ERR("pipeline: %s", error);
        free(error);
    } else {
        c->static_flows_built = true;
    }
    pipeline_destroy(&c->pipeline);
    c->pipeline = new;
    c->flows_changed = true;
    free(vips);
    free(servers);
}
