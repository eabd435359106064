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

/* hash-slots: see hash-slots.h. */
#include <config.h>
#include "hash-slots.h"

#include "flow.h"
#include "flow-key.h"
#include "lb-pipeline.h"
#include "maglev.h"
#include "openvswitch/match.h"
#include "openvswitch/meta-flow.h"
#include "packets.h"
#include "pipeline.h"
#include "util.h"

/* Returns the multipath fields of a hash VIP that hashes by the client's
 * address alone ('by_source': algorithm source) or by the flow's addresses
 * and ports. */
const char *
hash_slots_fields(bool by_source)
{
    return by_source ? "nw_src" : "symmetric_l3l4+udp";
}

/* Returns the slot, out of 'n_slots' (1 to HASH_SLOTS_MAX), that the LB
 * pipeline's multipath action gives a client segment of 'cp' to a hash VIP
 * that hashes by the client's address alone if 'by_source'. */
uint32_t
hash_slots_of(const struct flow_key *cp, uint32_t n_slots, bool by_source)
{
    struct flow flow;

    ovs_assert(n_slots >= 1 && n_slots <= HASH_SLOTS_MAX);
    memset(&flow, 0, sizeof flow);
    if (IN6_IS_ADDR_V4MAPPED(&cp->client)) {
        flow.dl_type = htons(ETH_TYPE_IP);
        flow.nw_src = in6_addr_get_mapped_ipv4(&cp->client);
        flow.nw_dst = in6_addr_get_mapped_ipv4(&cp->vip);
    } else {
        flow.dl_type = htons(ETH_TYPE_IPV6);
        flow.ipv6_src = cp->client;
        flow.ipv6_dst = cp->vip;
    }
    flow.nw_proto = cp->proto;
    flow.tp_src = cp->client_port;
    flow.tp_dst = cp->vip_port;
    /* As multipath(hash_slots_fields(), 0, modulo_n, n_slots, ...). */
    return flow_hash_fields(&flow, (by_source ? NX_HASH_FIELDS_NW_SRC
                                    : NX_HASH_FIELDS_SYMMETRIC_L3L4_UDP), 0)
           % n_slots;
}

/* Returns the match of the flow of slot 'slot' of the hash VIP 'hash_id'
 * in table LB_TABLE_HASH (the caller frees it). */
char *
hash_slots_match(uint16_t hash_id, uint32_t slot)
{
    return xasprintf("reg1=%"PRIu16",reg0=%"PRIu32, hash_id, slot);
}

/* Returns the actions that tunnel a packet to the server whose underlay
 * address is 'underlay' through 'tunnel_port' (the caller frees them). */
char *
hash_slots_server_actions(const struct in6_addr *underlay,
                          ofp_port_t tunnel_port)
{
    bool v4 = IN6_IS_ADDR_V4MAPPED(underlay);
    char addr[INET6_ADDRSTRLEN];

    ipv6_string_mapped(addr, underlay);
    return xasprintf("set_field:%s->%s,output:%"PRIu16, addr,
                     v4 ? "tun_dst" : "tun_ipv6_dst",
                     ofp_to_u16(tunnel_port));
}

/* Returns the actions of a UDP hash VIP's slot flow to the server whose
 * underlay address is 'underlay', through 'tunnel_port': as
 * hash_slots_server_actions(), after committing the flow to the connection
 * tracker with the server's address (LB_TABLE_HASH_UDP).  The caller frees
 * them. */
char *
hash_slots_udp_server_actions(const struct in6_addr *underlay,
                              ofp_port_t tunnel_port)
{
    char *out = hash_slots_server_actions(underlay, tunnel_port);
    char *actions;

    if (IN6_IS_ADDR_V4MAPPED(underlay)) {
        actions = xasprintf("ct(commit,zone=%d,exec(set_field:%#"PRIx32
                            "->ct_mark)),%s", LB_CT_ZONE,
                            ntohl(in6_addr_get_mapped_ipv4(underlay)), out);
    } else {
        struct ds label = DS_EMPTY_INITIALIZER;

        ds_put_cstr(&label, "0x");
        for (size_t i = 0; i < sizeof underlay->s6_addr; i++) {
            ds_put_format(&label, "%02x", underlay->s6_addr[i]);
        }
        actions = xasprintf("ct(commit,zone=%d,exec(set_field:%d->ct_mark,"
                            "set_field:%s->ct_label)),%s", LB_CT_ZONE,
                            LB_CT_MARK_V6, ds_cstr(&label), out);
        ds_destroy(&label);
    }
    free(out);
    return actions;
}

/* Initializes 'match' as that of the flow of slot 'slot' of the hash VIP
 * 'hash_id' (an IPv4 VIP if 'v4', of protocol 'proto') in table
 * LB_TABLE_HASH: its slot flow, or if 'pinned' its pinned flow (reg2 = 0
 * too: not back from LB_TABLE_HASH_MISS).  The flows that hold a ct action
 * match IP and their protocol, since the switch refuses a ct action
 * without an IP match (OFPBAC_MATCH_INCONSISTENT): a pinned flow, and a
 * UDP VIP's slot flow (hash_slots_udp_server_actions()). */
void
hash_slots_match_init(struct match *match, uint16_t hash_id, uint32_t slot,
                      bool v4, uint8_t proto, bool pinned)
{
    match_init_catchall(match);
    match_set_reg(match, 1, hash_id);
    match_set_reg(match, 0, slot);
    if (pinned) {
        match_set_reg(match, 2, 0);
    }
    if (pinned || proto == IPPROTO_UDP) {
        match_set_dl_type(match, htons(v4 ? ETH_TYPE_IP : ETH_TYPE_IPV6));
        match_set_nw_proto(match, proto);
    }
}

/* Initializes 'match' as that of the flow of table LB_TABLE_HASH_UDP that
 * takes the UDP flows of the hash VIP 'hash_id' committed to the server of
 * underlay address 'underlay' back to their slot's flow, while that server
 * is out of service for the VIP (down, or its service on the VIP port
 * down): the slot flow commits them again, with the slot's server. */
void
hash_slots_out_of_service_match_init(struct match *match, uint16_t hash_id,
                                     const struct in6_addr *underlay)
{
    match_init_catchall(match);
    match_set_reg(match, 1, hash_id);
    if (IN6_IS_ADDR_V4MAPPED(underlay)) {
        match_set_ct_mark(match, ntohl(in6_addr_get_mapped_ipv4(underlay)));
    } else {
        ovs_be128 label;

        memcpy(&label, underlay, sizeof label);
        match_set_ct_mark(match, LB_CT_MARK_V6);
        match_set_ct_label(match, ntoh128(label));
    }
}

/* Returns the actions of an out-of-service flow (the caller frees them). */
char *
hash_slots_out_of_service_actions(void)
{
    return xasprintf("resubmit(,%d)", LB_TABLE_HASH);
}

/* Returns the actions of a pinned slot's flow (the caller frees them). */
char *
hash_slots_pinned_actions(void)
{
    return xasprintf("ct(zone=%d,table=%d)", LB_CT_ZONE, LB_TABLE_HASH_CT);
}

/* Initializes 'match' as that of the flow of table LB_TABLE_HASH_MISS that
 * sends the misses of the hash VIP 'hash_id''s pinned slots to the
 * controller while its change window is open. */
void
hash_slots_window_match_init(struct match *match, uint16_t hash_id)
{
    match_init_catchall(match);
    match_set_reg(match, 1, hash_id);
}

/* Returns the actions of a window flow (the caller frees them). */
char *
hash_slots_window_actions(void)
{
    return xasprintf("resubmit(,%d)", LB_TABLE_MISS);
}

struct server_action {
    uint32_t id;
    char *actions;
};

static int
compare_server_actions(const void *a_, const void *b_)
{
    const struct server_action *a = a_, *b = b_;

    return a->id < b->id ? -1 : a->id > b->id;
}

/* Adds to 'p' the flows of table LB_TABLE_HASH for the hash VIP 'hash_id'
 * whose table is 'm' (at most HASH_SLOTS_MAX slots): one per slot, to the
 * slot's server among 'servers' through 'tunnel_port'.  A slot whose server
 * is not in 'servers' (or an empty table) gets no flow: its packets meet
 * the table's drop. */
void
hash_slots_build(uint16_t hash_id, uint8_t proto, bool v4,
                 const struct maglev *m,
                 const struct hash_slots_server *servers, size_t n_servers,
                 ofp_port_t tunnel_port, struct pipeline *p)
{
    bool udp = proto == IPPROTO_UDP;
    struct server_action *sa = xcalloc(n_servers, sizeof *sa);
    uint32_t size = maglev_get_size(m);

    ovs_assert(size <= HASH_SLOTS_MAX);
    for (size_t i = 0; i < n_servers; i++) {
        sa[i].id = servers[i].id;
        sa[i].actions = (udp
                         ? hash_slots_udp_server_actions(&servers[i].underlay,
                                                         tunnel_port)
                         : hash_slots_server_actions(&servers[i].underlay,
                                                     tunnel_port));
    }
    qsort(sa, n_servers, sizeof *sa, compare_server_actions);
    for (uint32_t slot = 0; slot < size; slot++) {
        struct server_action key, *found;

        if (!maglev_get_slot(m, slot, &key.id)) {
            continue;
        }
        found = bsearch(&key, sa, n_servers, sizeof *sa,
                        compare_server_actions);
        if (found) {
            char *slot_match = hash_slots_match(hash_id, slot);
            char *match = xasprintf("%s%s", (!udp ? "" : v4 ? "udp,"
                                             : "udp6,"), slot_match);

            free(slot_match);
            pipeline_add(p, LB_TABLE_HASH, HASH_SLOTS_PRIORITY, match, "%s",
                         found->actions);
            free(match);
        }
    }
    for (size_t i = 0; i < n_servers; i++) {
        free(sa[i].actions);
    }
    free(sa);
}
