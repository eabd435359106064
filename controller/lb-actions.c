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
#include "lb-actions.h"

#include <stdlib.h>

#include "flow.h"
#include "flows/lb-pipeline.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "hash.h"
#include "packets.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(lb_actions);

struct server_actions {
    struct hmap_node node;      /* In 'servers', by the address's hash. */
    struct in6_addr addr;       /* Underlay address. */
    struct ofpbuf ofpacts;
};

struct lb_actions {
    ofp_port_t north, tunnel;
    struct ofpbuf north_ofpacts;
    struct hmap servers;
};

/* Creates an empty cache; lb_actions_set_ports() makes it usable. */
struct lb_actions *
lb_actions_create(void)
{
    struct lb_actions *a = xzalloc(sizeof *a);

    a->north = a->tunnel = OFPP_NONE;
    ofpbuf_init(&a->north_ofpacts, 0);
    hmap_init(&a->servers);
    return a;
}

static void
clear_servers(struct lb_actions *a)
{
    struct server_actions *sa;

    HMAP_FOR_EACH_POP (sa, node, &a->servers) {
        ofpbuf_uninit(&sa->ofpacts);
        free(sa);
    }
}

/* Frees 'a' (a null pointer: nothing); the actions it returned go with
 * it. */
void
lb_actions_destroy(struct lb_actions *a)
{
    if (a) {
        clear_servers(a);
        hmap_destroy(&a->servers);
        ofpbuf_uninit(&a->north_ofpacts);
        free(a);
    }
}

/* Parses 'text' into 'ofpacts' (cleared first).  The text is ours, so a
 * failure is a bug; it is logged and leaves 'ofpacts' empty (a drop). */
void
lb_actions_parse(const char *text, struct ofpbuf *ofpacts)
{
    struct ofpact_parse_params pp = {
        .ofpacts = ofpacts,
        .usable_protocols = &(enum ofputil_protocol) { 0 },
    };
    char *error;

    ofpbuf_clear(ofpacts);
    error = ofpacts_parse_actions(text, &pp);
    if (error) {
        VLOG_ERR("actions \"%s\": %s", text, error);
        free(error);
        ofpbuf_clear(ofpacts);
    }
}

/* Sets the north and Geneve ports that 'a''s actions output to; the cached
 * actions are rebuilt if either changed. */
void
lb_actions_set_ports(struct lb_actions *a, ofp_port_t north,
                     ofp_port_t tunnel)
{
    if (north != a->north) {
        char text[32];

        a->north = north;
        ofpbuf_clear(&a->north_ofpacts);
        if (north != OFPP_NONE) {
            snprintf(text, sizeof text, "output:%"PRIu16, ofp_to_u16(north));
            lb_actions_parse(text, &a->north_ofpacts);
        }
    }
    if (tunnel != a->tunnel) {
        a->tunnel = tunnel;
        clear_servers(a);
    }
}

/* Returns the actions that send a packet out of the north port, and their
 * length in '*len' (0 until the port is known: a drop). */
const struct ofpact *
lb_actions_north(const struct lb_actions *a, size_t *len)
{
    *len = a->north != OFPP_NONE ? a->north_ofpacts.size : 0;
    return a->north_ofpacts.data;
}

/* Returns the actions that commit a packet's connection to the server node
 * whose underlay address is 'server' and tunnel the packet there, and their
 * length in '*len' (0 while the Geneve port is not known: a drop). */
const struct ofpact *
lb_actions_to_server(struct lb_actions *a, const struct in6_addr *server,
                     size_t *len)
{
    uint32_t hash = hash_bytes(server, sizeof *server, 0);
    struct server_actions *sa;

    if (a->tunnel == OFPP_NONE) {
        *len = 0;
        return NULL;
    }
    HMAP_FOR_EACH_WITH_HASH (sa, node, hash, &a->servers) {
        if (ipv6_addr_equals(&sa->addr, server)) {
            *len = sa->ofpacts.size;
            return sa->ofpacts.data;
        }
    }

    struct ds text = DS_EMPTY_INITIALIZER;
    char addr[INET6_ADDRSTRLEN];

    ipv6_string_mapped(addr, server);
    if (IN6_IS_ADDR_V4MAPPED(server)) {
        ds_put_format(&text, "ct(commit,zone=%d,exec(set_field:%#"PRIx32
                      "->ct_mark,set_field:0->ct_label)),"
                      "set_field:%s->tun_dst", LB_CT_ZONE,
                      ntohl(in6_addr_get_mapped_ipv4(server)), addr);
    } else {
        ds_put_format(&text, "ct(commit,zone=%d,exec(set_field:%d->ct_mark,"
                      "set_field:0x", LB_CT_ZONE, LB_CT_MARK_V6);
        for (size_t i = 0; i < sizeof server->s6_addr; i++) {
            ds_put_format(&text, "%02x", server->s6_addr[i]);
        }
        ds_put_format(&text, "->ct_label)),set_field:%s->tun_ipv6_dst",
                      addr);
    }
    ds_put_format(&text, ",output:%"PRIu16, ofp_to_u16(a->tunnel));

    sa = xzalloc(sizeof *sa);
    sa->addr = *server;
    ofpbuf_init(&sa->ofpacts, 0);
    lb_actions_parse(ds_cstr(&text), &sa->ofpacts);
    hmap_insert(&a->servers, &sa->node, hash);
    ds_destroy(&text);

    *len = sa->ofpacts.size;
    return sa->ofpacts.data;
}

/* Returns how many servers' actions 'a' holds. */
size_t
lb_actions_n_servers(const struct lb_actions *a)
{
    return hmap_count(&a->servers);
}
