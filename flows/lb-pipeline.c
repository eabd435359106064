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
#include "lb-pipeline.h"

#include <stdio.h>

#include "openvswitch/dynamic-string.h"
#include "flow.h"
#include "hash-slots.h"
#include "packets.h"
#include "pipeline.h"
#include "util.h"

/* Appends to 's' the match of traffic to or from ('dir' "dst" or "src") VIP
 * port 'v'. */
static void
put_vip_match(struct ds *s, const struct lb_pipeline_vip *v, const char *dir)
{
    char a[INET6_ADDRSTRLEN];
    bool v4 = IN6_IS_ADDR_V4MAPPED(&v->addr);

    ipv6_string_mapped(a, &v->addr);
    ds_put_format(s, "%s%s,%s_%s=%s,%s_%s=%u",
                  v->proto == IPPROTO_UDP ? "udp" : "tcp", v4 ? "" : "6",
                  v4 ? "nw" : "ipv6", dir, a, "tp", dir, v->port);
}

/* Adds to 'table' of 'p' the two flows that tunnel a packet whose tracker
 * entry is in 'ct_state' to the server its ct_mark names: its IPv4 underlay
 * address, or with LB_CT_MARK_V6 the IPv6 one in ct_label (priorities 90
 * and 80). */
static void
add_to_marked_server(struct pipeline *p, uint8_t table, const char *ct_state,
                     uint16_t tunnel)
{
    char m[64];

    snprintf(m, sizeof m, "ct_state=%s,ct_mark=%d", ct_state, LB_CT_MARK_V6);
    pipeline_add(p, table, 90, m,
                 "move:NXM_NX_CT_LABEL[]->NXM_NX_TUN_IPV6_DST[],output:%u",
                 tunnel);
    snprintf(m, sizeof m, "ct_state=%s", ct_state);
    pipeline_add(p, table, 80, m,
                 "move:NXM_NX_CT_MARK[]->NXM_NX_TUN_IPV4_DST[],output:%u",
                 tunnel);
}

/* Whether vips[i] of 'params' is the first UDP VIP port of its address. */
static bool
udp_address_is_new(const struct lb_pipeline_params *params, size_t i)
{
    for (size_t j = 0; j < i; j++) {
        if (params->vips[j].proto == IPPROTO_UDP
            && ipv6_addr_equals(&params->vips[j].addr,
                                &params->vips[i].addr)) {
            return false;
        }
    }
    return true;
}

/* Adds to table 30 of 'p' the flow that sends 'match', a server's reply,
 * to the edge router. */
static void
add_egress(struct pipeline *p, const struct lb_pipeline_params *params,
           const char *match)
{
    if (params->has_macs) {
        pipeline_add(p, LB_TABLE_EGRESS, 100, match,
                     "set_field:"ETH_ADDR_FMT"->eth_src,"
                     "set_field:"ETH_ADDR_FMT"->eth_dst,output:%u",
                     ETH_ADDR_ARGS(params->own_mac),
                     ETH_ADDR_ARGS(params->edge_mac),
                     ofp_to_u16(params->north_port));
    } else {
        /* Until the edge router's MAC is known the reply cannot be
         * addressed; the client retransmits. */
        pipeline_add(p, LB_TABLE_EGRESS, 100, match, "drop");
    }
}

/* Adds to table 0 of 'p' the flows that take the fragments of the datagrams
 * to UDP hash VIP port vips[i] of 'params' to a server, if it is the first
 * UDP port of its address.  No fragment carries a port that OpenFlow can
 * match (the switch's "normal" fragment handling), so a fragment goes
 * first through the connection tracker, which holds it until its datagram
 * is complete (the userspace datapath's reassembly) and then lets each
 * fragment on with the tracker state of the whole datagram.  Back in
 * table 0, it goes to table 15 like a whole datagram: a fragment of a flow
 * with an entry (one that sent whole datagrams through this node) follows
 * its ct_mark to the flow's server; the datagram of a flow without one
 * goes to the slot of its client address (multipath on nw_src, the same
 * for every fragment), which commits the flow with that server.  Which
 * port a fragment is for, nothing tells: an address with several UDP
 * ports drops the fragments. */
static void
add_udp_fragment_flows(struct pipeline *p,
                       const struct lb_pipeline_params *params, size_t i,
                       uint16_t north)
{
    const struct lb_pipeline_vip *v = &params->vips[i];
    bool v4 = IN6_IS_ADDR_V4MAPPED(&v->addr);
    char a[INET6_ADDRSTRLEN];
    size_t n_ports = 0;
    char *m;

    if (!udp_address_is_new(params, i)) {
        return;
    }
    for (size_t j = i; j < params->n_vips; j++) {
        n_ports += (params->vips[j].proto == IPPROTO_UDP
                    && ipv6_addr_equals(&params->vips[j].addr, &v->addr));
    }

    ipv6_string_mapped(a, &v->addr);
    m = xasprintf("in_port=%u,%s,%s=%s,nw_frag=yes,ct_state=-trk", north,
                  v4 ? "udp" : "udp6", v4 ? "nw_dst" : "ipv6_dst", a);
    pipeline_add(p, LB_TABLE_CLASSIFY, 210, m, "ct(zone=%d,table=%d)",
                 LB_CT_ZONE, LB_TABLE_CLASSIFY);
    free(m);

    m = xasprintf("in_port=%u,%s,%s=%s,nw_frag=yes,ct_state=+trk", north,
                  v4 ? "udp" : "udp6", v4 ? "nw_dst" : "ipv6_dst", a);
    if (n_ports == 1) {
        pipeline_add(p, LB_TABLE_CLASSIFY, 205, m,
                     "multipath(%s,0,modulo_n,%"PRIu32
                     ",0,NXM_NX_REG0[0..15]),load:%"PRIu16
                     "->NXM_NX_REG1[0..15],goto_table:%d",
                     hash_slots_fields(true), v->hash_slots, v->hash_id,
                     LB_TABLE_HASH_UDP);
    } else {
        pipeline_add(p, LB_TABLE_CLASSIFY, 205, m, "drop");
    }
    free(m);
}

/* Builds into 'p' (initialized by the caller) the static flows of an LB
 * node's bridge for 'params'. */
void
lb_pipeline_build(const struct lb_pipeline_params *params, struct pipeline *p)
{
    uint16_t north = ofp_to_u16(params->north_port);
    uint16_t tunnel = ofp_to_u16(params->tunnel_port);
    struct ds match = DS_EMPTY_INITIALIZER;
    char m[64];

    /* Table 0: classify. */
    bool has_hash = false, has_udp = false;
    for (size_t i = 0; i < params->n_vips; i++) {
        const struct lb_pipeline_vip *v = &params->vips[i];

        ds_clear(&match);
        ds_put_format(&match, "in_port=%u,", north);
        put_vip_match(&match, v, "dst");
        if (v->hash_id && v->proto == IPPROTO_UDP) {
            ovs_assert(v->hash_slots >= 1 && v->hash_slots <= HASH_SLOTS_MAX);
            pipeline_add(p, LB_TABLE_CLASSIFY, 200, ds_cstr(&match),
                         "multipath(%s,0,modulo_n,%"PRIu32
                         ",0,NXM_NX_REG0[0..15]),load:%"PRIu16
                         "->NXM_NX_REG1[0..15],ct(zone=%d,table=%d)",
                         hash_slots_fields(v->hash_by_source),
                         v->hash_slots, v->hash_id, LB_CT_ZONE,
                         LB_TABLE_HASH_UDP);
            add_udp_fragment_flows(p, params, i, north);
            has_hash = has_udp = true;
        } else if (v->hash_id) {
            ovs_assert(v->hash_slots >= 1 && v->hash_slots <= HASH_SLOTS_MAX);
            pipeline_add(p, LB_TABLE_CLASSIFY, 200, ds_cstr(&match),
                         "multipath(%s,0,modulo_n,%"PRIu32
                         ",0,NXM_NX_REG0[0..15]),load:%"PRIu16
                         "->NXM_NX_REG1[0..15],goto_table:%d",
                         hash_slots_fields(v->hash_by_source),
                         v->hash_slots, v->hash_id, LB_TABLE_HASH);
            has_hash = true;
        } else {
            pipeline_add(p, LB_TABLE_CLASSIFY, 200, ds_cstr(&match),
                         "goto_table:%d", LB_TABLE_INGRESS);
        }
    }
    if (has_hash) {
        /* Table 12: the slots' flows are the hash VIPs' own
         * (hash_slots_build()); a slot without a server drops. */
        pipeline_add(p, LB_TABLE_HASH, 0, "", "drop");

        /* Tables 13 and 14: a pinned slot's segments that its slot flow
         * sent through the connection tracker. */
        pipeline_add(p, LB_TABLE_HASH_CT, 110, "tcp,tcp_flags=+syn-ack",
                     "ct(commit,zone=%d,exec(set_field:%d->ct_mark,"
                     "set_field:0->ct_label)),load:1->NXM_NX_REG2[],"
                     "resubmit(,%d)", LB_CT_ZONE, LB_CT_MARK_HASH_NEW,
                     LB_TABLE_HASH);
        snprintf(m, sizeof m, "ct_state=+trk+est-inv,ct_mark=%d",
                 LB_CT_MARK_HASH_NEW);
        pipeline_add(p, LB_TABLE_HASH_CT, 105, m,
                     "load:1->NXM_NX_REG2[],resubmit(,%d)", LB_TABLE_HASH);
        pipeline_add(p, LB_TABLE_HASH_CT, 100,
                     "ct_state=+trk+est-inv,ct_mark=0", "goto_table:%d",
                     LB_TABLE_HASH_MISS);
        add_to_marked_server(p, LB_TABLE_HASH_CT, "+trk+est-inv", tunnel);
        pipeline_add(p, LB_TABLE_HASH_CT, 0, "", "goto_table:%d",
                     LB_TABLE_HASH_MISS);
        pipeline_add(p, LB_TABLE_HASH_MISS, 0, "",
                     "load:1->NXM_NX_REG2[],resubmit(,%d)", LB_TABLE_HASH);
    }
    if (has_udp) {
        /* Table 15: UDP flows of hash VIPs, by their tracker entries; the
         * controller adds, at priority 110, the flows that take a server
         * out of service back to table 12. */
        pipeline_add(p, LB_TABLE_HASH_UDP, 100, "ct_state=+trk+inv",
                     "resubmit(,%d)", LB_TABLE_HASH);
        pipeline_add(p, LB_TABLE_HASH_UDP, 95, "ct_state=+trk,ct_mark=0",
                     "resubmit(,%d)", LB_TABLE_HASH);
        add_to_marked_server(p, LB_TABLE_HASH_UDP, "+trk", tunnel);
        pipeline_add(p, LB_TABLE_HASH_UDP, 0, "", "resubmit(,%d)",
                     LB_TABLE_HASH);
    }
    /* Other traffic to a VIP address is not ours to pass to the node's own
     * stack. */
    for (size_t i = 0; i < params->n_vips; i++) {
        const struct in6_addr *a = &params->vips[i].addr;
        char s[INET6_ADDRSTRLEN];
        bool dup = false;

        for (size_t j = 0; j < i; j++) {
            dup |= ipv6_addr_equals(a, &params->vips[j].addr);
        }
        if (dup) {
            continue;
        }
        ipv6_string_mapped(s, a);
        ds_clear(&match);
        ds_put_format(&match, "in_port=%u,%s,%s=%s", north,
                      IN6_IS_ADDR_V4MAPPED(a) ? "ip" : "ipv6",
                      IN6_IS_ADDR_V4MAPPED(a) ? "nw_dst" : "ipv6_dst", s);
        pipeline_add(p, LB_TABLE_CLASSIFY, 190, ds_cstr(&match), "drop");
    }
    snprintf(m, sizeof m, "in_port=%u", tunnel);
    pipeline_add(p, LB_TABLE_CLASSIFY, 150, m, "goto_table:%d",
                 LB_TABLE_EGRESS);
    snprintf(m, sizeof m, "arp,in_port=%u", north);
    pipeline_add(p, LB_TABLE_CLASSIFY, 100, m,
                 "LOCAL,controller(userdata=%02x,max_len=128)",
                 LB_USERDATA_ARP);
    snprintf(m, sizeof m, "in_port=%u", north);
    pipeline_add(p, LB_TABLE_CLASSIFY, 10, m, "LOCAL");
    pipeline_add(p, LB_TABLE_CLASSIFY, 10, "in_port=LOCAL", "output:%u",
                 north);
    pipeline_add(p, LB_TABLE_CLASSIFY, 0, "", "drop");

    /* Table 10: SYNs retire any earlier mapping of their CP and go to the
     * controller, metered before they are committed so that a SYN flood
     * costs the connection tracker no more than the meter lets through;
     * other segments go through the connection tracker. */
    pipeline_add(p, LB_TABLE_INGRESS, 100, "tcp,tcp_flags=+syn-ack",
                 "meter:%d,ct(commit,zone=%d,exec(set_field:0->ct_mark,"
                 "set_field:0->ct_label)),controller(userdata=%02x)",
                 LB_METER_SYN, LB_CT_ZONE, LB_USERDATA_SYN);
    pipeline_add(p, LB_TABLE_INGRESS, 50, "tcp", "ct(zone=%d,table=%d)",
                 LB_CT_ZONE, LB_TABLE_INGRESS_CT);
    pipeline_add(p, LB_TABLE_INGRESS, 0, "", "goto_table:%d", LB_TABLE_MISS);

    /* Table 11: a mapped connection goes to its server by ct_mark. */
    pipeline_add(p, LB_TABLE_INGRESS_CT, 100,
                 "ct_state=+trk+est-inv,ct_mark=0", "goto_table:%d",
                 LB_TABLE_MISS);
    add_to_marked_server(p, LB_TABLE_INGRESS_CT, "+trk+est-inv", tunnel);
    pipeline_add(p, LB_TABLE_INGRESS_CT, 0, "", "goto_table:%d",
                 LB_TABLE_MISS);

    /* Table 20: to the controller. */
    pipeline_add(p, LB_TABLE_MISS, 50, "tcp",
                 "meter:%d,controller(userdata=%02x)", LB_METER_OTHER,
                 LB_USERDATA_OTHER);
    pipeline_add(p, LB_TABLE_MISS, 0, "", "drop");

    /* Table 30: egress. */
    for (size_t s = 0; s < params->n_servers; s++) {
        char srv[INET6_ADDRSTRLEN];
        bool v4 = IN6_IS_ADDR_V4MAPPED(&params->servers[s]);

        ipv6_string_mapped(srv, &params->servers[s]);
        for (size_t i = 0; i < params->n_vips; i++) {
            const struct lb_pipeline_vip *v = &params->vips[i];

            ds_clear(&match);
            ds_put_format(&match, "%s=%s,", v4 ? "tun_src" : "tun_ipv6_src",
                          srv);
            put_vip_match(&match, v, "src");
            add_egress(p, params, ds_cstr(&match));

            if (v->proto == IPPROTO_UDP && udp_address_is_new(params, i)) {
                /* No fragment of a datagram carries a port that OpenFlow
                 * matches ("normal" fragment handling): the fragments
                 * from a UDP VIP's address leave as well. */
                char a[INET6_ADDRSTRLEN];
                bool vip4 = IN6_IS_ADDR_V4MAPPED(&v->addr);

                ipv6_string_mapped(a, &v->addr);
                ds_clear(&match);
                ds_put_format(&match, "%s=%s,%s,%s=%s,nw_frag=yes",
                              v4 ? "tun_src" : "tun_ipv6_src", srv,
                              vip4 ? "udp" : "udp6",
                              vip4 ? "nw_src" : "ipv6_src", a);
                add_egress(p, params, ds_cstr(&match));
            }
        }
    }
    pipeline_add(p, LB_TABLE_EGRESS, 0, "", "drop");
    ds_destroy(&match);
}
