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
 * bgp-control: the daemon's BGP towards the edge router (PROTOCOL.md §9):
 * keeps the BGP speaker (bgp-speaker.h) of this node's bgpd configured
 * from the config service and announces this node's ring neighbours among
 * the healthy LB nodes.  Part of the daemon (controller-private.h).
 */
#include <config.h>
#include "controller/controller-private.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bgp-speaker.h"
#include "cluster-config.h"
#include "dirs.h"
#include "health.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(bgp_control);

/* BGP towards the edge router (PROTOCOL.md §9).  The speaker drives the
 * node's bgpd (started beside it, vty socket RUNDIR/bgpd.vty) with the AS
 * numbers of the config service (bgp_local_as, bgp_router_as); the edge
 * router is this node's default gateway; session source addresses are
 * A.B.X.Y in the /16 of this node's north address, X the announcer's id and
 * Y the announced node's (see lib/bgp-speaker.h).  A fixed addressing
 * scheme for now: doc/settings.md lists it among the candidates for a
 * setting. */
#define BGP_SESSION_MASK 0xffff0000

/* Creates or updates the BGP speaker from the configuration and announces
 * this node's ring neighbours among the healthy LB nodes. */
void
bgp_control_update(struct controller *c, const struct cluster_snapshot *snap,
                   uint32_t self)
{
    char *vty = xasprintf("%s/bgpd.vty", ovs_rundir());
    bool have_bgpd = !access(vty, F_OK);
    ovs_be32 vips[BGP_SPEAKER_MAX_VIPS];
    size_t n_vips = 0;
    uint32_t max_id = 0;
    ovs_be32 gw = edge_mac_default_gateway();
    struct ds key = DS_EMPTY_INITIALIZER;

    free(vty);
    if (!have_bgpd || !gw || !c->health) {
        return;
    }
    for (size_t i = 0; i < snap->n_vips; i++) {
        const struct in6_addr *a = &snap->vips[i].address;
        ovs_be32 v4;
        bool dup = false;

        if (!IN6_IS_ADDR_V4MAPPED(a) || n_vips >= ARRAY_SIZE(vips)) {
            continue;
        }
        v4 = in6_addr_get_mapped_ipv4(a);
        for (size_t j = 0; j < n_vips; j++) {
            dup |= vips[j] == v4;
        }
        if (!dup) {
            vips[n_vips++] = v4;
            ds_put_format(&key, IP_FMT" ", IP_ARGS(v4));
        }
    }
    for (size_t i = 0; i < snap->n_lb_nodes; i++) {
        max_id = MAX(max_id, snap->lb_nodes[i].node_id);
    }
    ds_put_format(&key, "gw "IP_FMT" max %"PRIu32" as %"PRIu32" router-as %"
                  PRIu32, IP_ARGS(gw), max_id, snap->settings.bgp_local_as,
                  snap->settings.bgp_router_as);

    if (!c->bgp || !c->bgp_key || strcmp(c->bgp_key, ds_cstr(&key))) {
        struct bgp_speaker_config cfg = {
            .vty_dir = ovs_rundir(),
            .local_as = snap->settings.bgp_local_as,
            .router_as = snap->settings.bgp_router_as,
            .router_addr = gw,
            .vips = vips,
            .n_vips = n_vips,
            .max_node_id = MIN(max_id, 255),
        };
        bgp_speaker_destroy(c->bgp);
        c->bgp = bgp_speaker_create(&cfg);
        free(c->bgp_key);
        c->bgp_key = ds_steal_cstr(&key);
        VLOG_INFO("BGP speaker for bgpd in %s (%s)", ovs_rundir(),
                  c->bgp_key);
    }
    ds_destroy(&key);
    if (!c->bgp) {
        return;
    }

    /* The healthy LB nodes with IPv4 north addresses, sorted by id. */
    size_t n_healthy;
    const uint32_t *healthy = health_healthy_lbs(c->health, &n_healthy);
    uint32_t *ids = xcalloc(n_healthy + 1, sizeof *ids);
    ovs_be32 *north = xcalloc(n_healthy + 1, sizeof *north);
    size_t n = 0;
    for (size_t i = 0; i < n_healthy; i++) {
        const struct cluster_lb_node *lb
            = cluster_snapshot_find_lb_node(snap, healthy[i]);
        if (lb && IN6_IS_ADDR_V4MAPPED(&lb->north)) {
            ids[n] = healthy[i];
            north[n++] = in6_addr_get_mapped_ipv4(&lb->north);
        }
    }
    const struct cluster_lb_node *me = cluster_snapshot_find_lb_node(snap,
                                                                     self);
    ovs_be32 session_base = (me && IN6_IS_ADDR_V4MAPPED(&me->north)
                             ? (in6_addr_get_mapped_ipv4(&me->north)
                                & htonl(BGP_SESSION_MASK))
                             : 0);
    struct bgp_announcement out[2];
    size_t n_out = (session_base
                    ? bgp_announcements(ids, north, n, self, session_base,
                                        out)
                    : 0);
    if (bgp_speaker_set(c->bgp, out, n_out)) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "BGP speaker refused %"PRIuSIZE" announcements",
                     n_out);
    }
    free(ids);
    free(north);
}
