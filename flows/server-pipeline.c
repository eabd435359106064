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
 * server-pipeline: the static pipeline of a server node's bridge.  See
 * server-pipeline.h.
 */
#include <config.h>
#include "server-pipeline.h"

#include "flow.h"
#include "openvswitch/dynamic-string.h"
#include "packets.h"
#include "pipeline.h"
#include "util.h"

/* Appends to 's' the ovs-ofctl form of 'addr' (dotted quad if v4-mapped). */
static void
put_addr(struct ds *s, const struct in6_addr *addr)
{
    if (IN6_IS_ADDR_V4MAPPED(addr)) {
        ovs_be32 ip = in6_addr_get_mapped_ipv4(addr);
        ds_put_format(s, IP_FMT, IP_ARGS(ip));
    } else {
        ipv6_format_addr(addr, s);
    }
}

static void
put_mac(struct ds *s, const struct eth_addr mac)
{
    ds_put_format(s, ETH_ADDR_FMT, ETH_ADDR_ARGS(mac));
}

/* Appends the match fields of the TCP segments (UDP datagrams if 'udp')
 * whose source or destination ('dst') is 'addr', with the right protocol
 * keyword and field names. */
static void
put_l4_addr(struct ds *s, bool udp, const struct in6_addr *addr, bool dst)
{
    bool v4 = IN6_IS_ADDR_V4MAPPED(addr);

    ds_put_format(s, "%s%s,", udp ? "udp" : "tcp", v4 ? "" : "6");
    ds_put_format(s, "%s_%s=", v4 ? "nw" : "ipv6", dst ? "dst" : "src");
    put_addr(s, addr);
}

static void
put_tcp_addr(struct ds *s, const struct in6_addr *addr, bool dst)
{
    put_l4_addr(s, false, addr, dst);
}

/* Adds the flow that takes 'match', datagrams from the server's stack, to
 * an egress LB node the switch picks. */
static void
add_udp_egress(const struct server_pipeline_params *pp, const char *match,
               struct pipeline *p)
{
    if (pp->n_egress_lbs) {
        pipeline_add(p, SERVER_PIPELINE_TABLE_CLASSIFY, 100, match,
                     "multipath(symmetric_l3l4+udp,0,hrw,%"PRIuSIZE",0,"
                     "NXM_NX_REG0[0..15]),goto_table:%d",
                     pp->n_egress_lbs, SERVER_PIPELINE_TABLE_EGRESS_HASH);
    } else {
        pipeline_add(p, SERVER_PIPELINE_TABLE_CLASSIFY, 100, match, "drop");
    }
}

/* The flows of 'vip''s UDP ports (all of `hash` mode): to the server's stack
 * from the LB tier, and back to an egress LB node the switch picks; with
 * those of the fragments of a datagram, none of which carries a port that
 * OpenFlow matches (the switch's "normal" fragment handling): the stack
 * reassembles them, or drops what it cannot. */
static void
add_udp_flows(const struct server_pipeline_params *pp,
              const struct server_pipeline_vip *vip, struct pipeline *p)
{
    struct ds match = DS_EMPTY_INITIALIZER;

    for (size_t i = 0; i < vip->n_udp_ports; i++) {
        ds_clear(&match);
        put_l4_addr(&match, true, &vip->addr, true);
        ds_put_format(&match, ",in_port=%"PRIu32",tp_dst=%"PRIu16,
                      ofp_to_u16(pp->geneve_port), vip->udp_ports[i]);
        pipeline_add(p, SERVER_PIPELINE_TABLE_CLASSIFY, 100, ds_cstr(&match),
                     "set_field:"ETH_ADDR_FMT"->eth_dst,LOCAL",
                     ETH_ADDR_ARGS(pp->local_mac));

        ds_clear(&match);
        put_l4_addr(&match, true, &vip->addr, false);
        ds_put_format(&match, ",in_port=LOCAL,tp_src=%"PRIu16,
                      vip->udp_ports[i]);
        add_udp_egress(pp, ds_cstr(&match), p);
    }
    if (vip->n_udp_ports) {
        ds_clear(&match);
        put_l4_addr(&match, true, &vip->addr, true);
        ds_put_format(&match, ",in_port=%"PRIu32",nw_frag=yes",
                      ofp_to_u16(pp->geneve_port));
        pipeline_add(p, SERVER_PIPELINE_TABLE_CLASSIFY, 100, ds_cstr(&match),
                     "set_field:"ETH_ADDR_FMT"->eth_dst,LOCAL",
                     ETH_ADDR_ARGS(pp->local_mac));

        ds_clear(&match);
        put_l4_addr(&match, true, &vip->addr, false);
        ds_put_cstr(&match, ",in_port=LOCAL,nw_frag=yes");
        add_udp_egress(pp, ds_cstr(&match), p);
    }
    ds_destroy(&match);
}

static void
add_vip_flows(const struct server_pipeline_params *pp,
              const struct server_pipeline_vip *vip, struct pipeline *p)
{
    struct ds redirected = DS_EMPTY_INITIALIZER;
    struct ds match = DS_EMPTY_INITIALIZER;

    for (size_t i = 0; i < vip->n_ports; i++) {
        /* From the LB tier, through the agent. */
        ds_clear(&match);
        put_tcp_addr(&match, &vip->addr, true);
        ds_put_format(&match, ",in_port=%"PRIu32",tp_dst=%"PRIu16,
                      ofp_to_u16(pp->geneve_port), vip->ports[i]);
        pipeline_add(p, SERVER_PIPELINE_TABLE_CLASSIFY, 100, ds_cstr(&match),
                     "goto_table:%d", SERVER_PIPELINE_TABLE_INGRESS);

        /* From the server, through the agent. */
        ds_clear(&match);
        put_tcp_addr(&match, &vip->addr, false);
        ds_put_format(&match, ",in_port=LOCAL,tp_src=%"PRIu16,
                      vip->ports[i]);
        pipeline_add(p, SERVER_PIPELINE_TABLE_CLASSIFY, 100, ds_cstr(&match),
                     "set_field:"ETH_ADDR_FMT"->eth_src,"
                     "set_field:"ETH_ADDR_FMT"->eth_dst,output:%"PRIu16,
                     ETH_ADDR_ARGS(SERVER_PIPELINE_FROM_SERVER_MAC),
                     ETH_ADDR_ARGS(SERVER_PIPELINE_XLATE_MAC),
                     ofp_to_u16(pp->xlate_port));
    }

    for (size_t i = 0; i < vip->n_hash_ports; i++) {
        /* From the LB tier, straight to the server's stack. */
        ds_clear(&match);
        put_tcp_addr(&match, &vip->addr, true);
        ds_put_format(&match, ",in_port=%"PRIu32",tp_dst=%"PRIu16,
                      ofp_to_u16(pp->geneve_port), vip->hash_ports[i]);
        pipeline_add(p, SERVER_PIPELINE_TABLE_CLASSIFY, 100, ds_cstr(&match),
                     "set_field:"ETH_ADDR_FMT"->eth_dst,LOCAL",
                     ETH_ADDR_ARGS(pp->local_mac));

        /* Redirected here by another server node: ours, whatever our
         * ownership entries say. */
        ds_put_format(&redirected, "%s,tun_id=%#x", ds_cstr(&match),
                      SERVER_PIPELINE_OWNER_VNI);
        pipeline_add(p, SERVER_PIPELINE_TABLE_CLASSIFY, 110,
                     ds_cstr(&redirected),
                     "set_field:"ETH_ADDR_FMT"->eth_dst,LOCAL",
                     ETH_ADDR_ARGS(pp->local_mac));
        ds_clear(&redirected);

        /* From the LB tier, maybe another server's connection: only
         * segments other than SYNs (a SYN opens a connection here). */
        if (pp->owner_check) {
            ds_put_cstr(&match, ",tcp_flags=-syn");
            pipeline_add(p, SERVER_PIPELINE_TABLE_CLASSIFY, 105,
                         ds_cstr(&match), "ct(zone=%d,table=%d)",
                         SERVER_PIPELINE_OWNER_ZONE,
                         SERVER_PIPELINE_TABLE_OWNER);
        }

        /* From the server, to an egress LB node the switch picks. */
        ds_clear(&match);
        put_tcp_addr(&match, &vip->addr, false);
        ds_put_format(&match, ",in_port=LOCAL,tp_src=%"PRIu16,
                      vip->hash_ports[i]);
        if (pp->n_egress_lbs) {
            pipeline_add(p, SERVER_PIPELINE_TABLE_CLASSIFY, 100,
                         ds_cstr(&match),
                         "multipath(symmetric_l3l4,0,hrw,%"PRIuSIZE",0,"
                         "NXM_NX_REG0[0..15]),goto_table:%d",
                         pp->n_egress_lbs, SERVER_PIPELINE_TABLE_EGRESS_HASH);
        } else {
            pipeline_add(p, SERVER_PIPELINE_TABLE_CLASSIFY, 100,
                         ds_cstr(&match), "drop");
        }
    }

    /* From the agent, to the server's stack. */
    ds_clear(&match);
    put_tcp_addr(&match, &vip->addr, true);
    ds_put_format(&match, ",in_port=%"PRIu16, ofp_to_u16(pp->xlate_port));
    pipeline_add(p, SERVER_PIPELINE_TABLE_CLASSIFY, 100, ds_cstr(&match),
                 "set_field:"ETH_ADDR_FMT"->eth_dst,LOCAL",
                 ETH_ADDR_ARGS(pp->local_mac));
    ds_destroy(&redirected);
    ds_destroy(&match);
}

static void
add_lb_flows(const struct server_pipeline_params *pp,
             const struct server_pipeline_lb *lb, struct pipeline *p)
{
    bool v4 = IN6_IS_ADDR_V4MAPPED(&lb->south);
    struct eth_addr mac = server_pipeline_node_mac(lb->node_id);
    struct ds match = DS_EMPTY_INITIALIZER;
    struct ds addr = DS_EMPTY_INITIALIZER;

    put_addr(&addr, &lb->south);

    /* Ingress: tag the segment with the LB node it came from. */
    ds_put_format(&match, "%s=%s", v4 ? "tun_src" : "tun_ipv6_src",
                  ds_cstr(&addr));
    pipeline_add(p, SERVER_PIPELINE_TABLE_INGRESS, 100, ds_cstr(&match),
                 "set_field:"ETH_ADDR_FMT"->eth_src,"
                 "set_field:"ETH_ADDR_FMT"->eth_dst,output:%"PRIu16,
                 ETH_ADDR_ARGS(mac),
                 ETH_ADDR_ARGS(SERVER_PIPELINE_XLATE_MAC),
                 ofp_to_u16(pp->xlate_port));

    /* Egress: the agent chose this node. */
    ds_clear(&match);
    ds_put_cstr(&match, "dl_dst=");
    put_mac(&match, mac);
    pipeline_add(p, SERVER_PIPELINE_TABLE_EGRESS, 100, ds_cstr(&match),
                 "set_field:%s->%s,output:%"PRIu16, ds_cstr(&addr),
                 v4 ? "tun_dst" : "tun_ipv6_dst",
                 ofp_to_u16(pp->geneve_port));

    ds_destroy(&addr);
    ds_destroy(&match);
}

/* Appends to 'p' the flows of a server node's bridge for 'pp'.  VIPs and LB
 * nodes appear in the order given; LB nodes whose id exceeds
 * SERVER_PIPELINE_MAX_NODE_ID are left out (they cannot be named by a
 * MAC). */
void
server_pipeline_build(const struct server_pipeline_params *pp,
                      struct pipeline *p)
{
    char match[64];

    for (size_t i = 0; i < pp->n_vips; i++) {
        add_vip_flows(pp, &pp->vips[i], p);
        add_udp_flows(pp, &pp->vips[i], p);
    }
    snprintf(match, sizeof match, "in_port=%"PRIu16,
             ofp_to_u16(pp->xlate_port));
    pipeline_add(p, SERVER_PIPELINE_TABLE_CLASSIFY, 90, match,
                 "goto_table:%d", SERVER_PIPELINE_TABLE_EGRESS);
    pipeline_add(p, SERVER_PIPELINE_TABLE_CLASSIFY, 0, "", "drop");

    for (size_t i = 0; i < pp->n_lbs; i++) {
        const struct server_pipeline_lb *lb = &pp->lbs[i];
        if (lb->node_id && lb->node_id <= SERVER_PIPELINE_MAX_NODE_ID) {
            add_lb_flows(pp, lb, p);
        }
    }

    /* The egress of hash VIPs' replies: the n-th healthy LB node. */
    for (size_t i = 0; i < pp->n_egress_lbs; i++) {
        for (size_t j = 0; j < pp->n_lbs; j++) {
            const struct server_pipeline_lb *lb = &pp->lbs[j];

            if (lb->node_id == pp->egress_lbs[i]) {
                struct ds addr = DS_EMPTY_INITIALIZER;
                char m[32];

                put_addr(&addr, &lb->south);
                snprintf(m, sizeof m, "reg0=%"PRIuSIZE, i);
                pipeline_add(p, SERVER_PIPELINE_TABLE_EGRESS_HASH, 100, m,
                             "set_field:%s->%s,output:%"PRIu16,
                             ds_cstr(&addr),
                             IN6_IS_ADDR_V4MAPPED(&lb->south)
                             ? "tun_dst" : "tun_ipv6_dst",
                             ofp_to_u16(pp->geneve_port));
                ds_destroy(&addr);
                break;
            }
        }
    }
    pipeline_add(p, SERVER_PIPELINE_TABLE_EGRESS_HASH, 0, "", "drop");

    /* Ownership redirects: one flow per peer; the rest is ours. */
    if (pp->owner_check) {
        for (size_t i = 0; i < pp->n_peers; i++) {
            const struct server_pipeline_peer *peer = &pp->peers[i];
            struct ds addr = DS_EMPTY_INITIALIZER;
            char m[32];

            if (peer->node_id > SERVER_PIPELINE_MAX_NODE_ID) {
                continue;
            }
            put_addr(&addr, &peer->underlay);
            snprintf(m, sizeof m, "ct_mark=%#"PRIx32,
                     server_pipeline_owner_mark(peer->node_id));
            /* Out of the port it came in by: the Geneve port. */
            pipeline_add(p, SERVER_PIPELINE_TABLE_OWNER, 100, m,
                         "set_field:%s->%s,set_field:%#x->tun_id,in_port",
                         ds_cstr(&addr),
                         IN6_IS_ADDR_V4MAPPED(&peer->underlay)
                         ? "tun_dst" : "tun_ipv6_dst",
                         SERVER_PIPELINE_OWNER_VNI);
            ds_destroy(&addr);
        }
        pipeline_add(p, SERVER_PIPELINE_TABLE_OWNER, 0, "",
                     "set_field:"ETH_ADDR_FMT"->eth_dst,LOCAL",
                     ETH_ADDR_ARGS(pp->local_mac));
    }

    /* Ingress node unknown: node 0. */
    pipeline_add(p, SERVER_PIPELINE_TABLE_INGRESS, 0, "",
                 "set_field:"ETH_ADDR_FMT"->eth_src,"
                 "set_field:"ETH_ADDR_FMT"->eth_dst,output:%"PRIu16,
                 ETH_ADDR_ARGS(server_pipeline_node_mac(0)),
                 ETH_ADDR_ARGS(SERVER_PIPELINE_XLATE_MAC),
                 ofp_to_u16(pp->xlate_port));
    pipeline_add(p, SERVER_PIPELINE_TABLE_EGRESS, 0, "", "drop");
}

/* Returns the conntrack mark, in zone SERVER_PIPELINE_OWNER_ZONE, of the
 * connections that server node 'node_id' (at most
 * SERVER_PIPELINE_MAX_NODE_ID) owns: never 0, the mark of an entry with
 * none. */
uint32_t
server_pipeline_owner_mark(uint32_t node_id)
{
    return UINT32_C(0x6f770000) | (node_id & 0xffff);
}

/* Returns the MAC that names node 'node_id' (at most
 * SERVER_PIPELINE_MAX_NODE_ID) in the pipeline. */
struct eth_addr
server_pipeline_node_mac(uint32_t node_id)
{
    struct eth_addr mac = ETH_ADDR_C(02,6f,76,00,00,00);

    ovs_assert(node_id <= SERVER_PIPELINE_MAX_NODE_ID);
    mac.ea[4] = node_id >> 8;
    mac.ea[5] = node_id;
    return mac;
}

/* If 'mac' is a node MAC of the pipeline, stores its node id (0: unknown
 * node) in '*node_id' and returns true; otherwise returns false. */
bool
server_pipeline_mac_to_node(const struct eth_addr mac, uint32_t *node_id)
{
    if (mac.ea[0] != 0x02 || mac.ea[1] != 0x6f || mac.ea[2] != 0x76
        || mac.ea[3] != 0x00) {
        return false;
    }
    *node_id = (mac.ea[4] << 8) | mac.ea[5];
    return true;
}
