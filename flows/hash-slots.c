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

/* Returns the slot, out of 'n_slots' (1 to HASH_SLOTS_MAX), that the LB
 * pipeline's multipath action gives a client segment of 'cp'. */
uint32_t
hash_slots_of(const struct flow_key *cp, uint32_t n_slots)
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
    /* As multipath(symmetric_l3l4+udp, 0, modulo_n, n_slots, ...). */
    return flow_hash_fields(&flow, NX_HASH_FIELDS_SYMMETRIC_L3L4_UDP, 0)
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

/* Initializes 'match' as that of the flow of slot 'slot' of the hash VIP
 * 'hash_id' (an IPv4 VIP if 'v4') in table LB_TABLE_HASH: its slot flow,
 * or if 'pinned' its pinned flow (reg2 = 0 too: not back from
 * LB_TABLE_HASH_MISS; and TCP, which the connection tracker's action
 * needs: the switch refuses a ct action without an IP match,
 * OFPBAC_MATCH_INCONSISTENT). */
void
hash_slots_match_init(struct match *match, uint16_t hash_id, uint32_t slot,
                      bool v4, bool pinned)
{
    match_init_catchall(match);
    match_set_reg(match, 1, hash_id);
    match_set_reg(match, 0, slot);
    if (pinned) {
        match_set_reg(match, 2, 0);
        match_set_dl_type(match, htons(v4 ? ETH_TYPE_IP : ETH_TYPE_IPV6));
        match_set_nw_proto(match, IPPROTO_TCP);
    }
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
hash_slots_build(uint16_t hash_id, const struct maglev *m,
                 const struct hash_slots_server *servers, size_t n_servers,
                 ofp_port_t tunnel_port, struct pipeline *p)
{
    struct server_action *sa = xcalloc(n_servers, sizeof *sa);
    uint32_t size = maglev_get_size(m);

    ovs_assert(size <= HASH_SLOTS_MAX);
    for (size_t i = 0; i < n_servers; i++) {
        sa[i].id = servers[i].id;
        sa[i].actions = hash_slots_server_actions(&servers[i].underlay,
                                                  tunnel_port);
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
            char *match = hash_slots_match(hash_id, slot);
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
