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

/* hash-vips: see hash-vips.h. */
#include <config.h>
#include "controller/hash-vips.h"
#include "controller/controller-private.h"
#include "controller/lb-actions.h"

#include <stdlib.h>
#include <string.h>

#include "bitmap.h"
#include "cluster-config.h"
#include "flow-key.h"
#include "flows/hash-slots.h"
#include "flows/lb-pipeline.h"
#include "health.h"
#include "maglev.h"
#include "metrics.h"
#include "node-daemon.h"
#include "ofctrl.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(hash_vips);

/* Longest a change of a table waits for its pins (vip_update()). */
#define PIN_WAIT_MS 5000

/* One port of a hash VIP. */
struct hash_vip {
    char *name;
    struct in6_addr addr;
    uint16_t port;
    uint8_t proto;              /* IPPROTO_TCP or IPPROTO_UDP. */
    bool by_source;             /* Hashes the client's address alone
                                 * (algorithm source). */
    uint16_t id;                /* reg1 in the pipeline; 1 and up. */
    uint32_t n_slots;
    uint32_t *slots;            /* Server node id per slot in the switch;
                                 * 0: none. */
    uint32_t *next;             /* The table to write once the pins of the
                                 * slots it moves are in the switch. */
    long long int pending_since;        /* 'next' differs from 'slots' and
                                         * waits for the pins (0: not). */
    unsigned long *pinned;      /* Slots pinned (hash-slots.h). */
    uint32_t n_pinned;
    long long int window_until; /* Change window (hash-vips.h). */
    long long int settled_at;   /* When the servers have published what the
                                 * last change moved (hash_vips_target()). */
    bool window_flow;           /* Its flow is in the switch. */
    bool pin_all;               /* The VIP port was in mode tracked: its
                                 * first table pins every slot, so that its
                                 * live connections keep their server. */
    uint32_t n_servers;         /* In the table. */
    bool seen;                  /* In the current configuration. */

    /* UDP: the underlay addresses of the servers out of service for the
     * VIP port, whose flows the switch takes back to their slot
     * (hash_slots_out_of_service_match_init()). */
    struct in6_addr *out_of_service;
    size_t n_out_of_service;

    uint64_t changes;           /* Table changes. */
    uint64_t slots_moved;       /* Slots whose server changed. */
};

struct hash_vips {
    struct hash_vip *vips;
    size_t n;
    ofp_port_t tunnel_port;
    /* Underlay addresses of the server nodes, by node id. */
    struct hash_server {
        uint32_t node;
        struct in6_addr underlay;
        struct ofpbuf ofpacts;  /* hash_slots_server_actions(). */
        struct ofpbuf udp_ofpacts;      /* hash_slots_udp_server_actions(). */
    } *servers;
    size_t n_servers;
    struct ofpbuf pinned_ofpacts;       /* hash_slots_pinned_actions(). */
    struct ofpbuf window_ofpacts;       /* hash_slots_window_actions(). */
    struct ofpbuf oos_ofpacts;  /* hash_slots_out_of_service_actions(). */
    uint64_t service_seqno;     /* lbnode_service_seqno() of the tables. */
    /* The tracked TCP VIP ports of the last configuration. */
    struct tracked_port {
        struct in6_addr addr;
        uint16_t port;
    } *tracked;
    size_t n_tracked;
};

struct hash_vips *
hash_vips_create(void)
{
    struct hash_vips *hv = xzalloc(sizeof *hv);
    char *text;

    ofpbuf_init(&hv->pinned_ofpacts, 0);
    text = hash_slots_pinned_actions();
    lb_actions_parse(text, &hv->pinned_ofpacts);
    free(text);
    ofpbuf_init(&hv->window_ofpacts, 0);
    text = hash_slots_window_actions();
    lb_actions_parse(text, &hv->window_ofpacts);
    free(text);
    ofpbuf_init(&hv->oos_ofpacts, 0);
    text = hash_slots_out_of_service_actions();
    lb_actions_parse(text, &hv->oos_ofpacts);
    free(text);
    return hv;
}

static void
free_servers(struct hash_vips *hv)
{
    for (size_t i = 0; i < hv->n_servers; i++) {
        ofpbuf_uninit(&hv->servers[i].ofpacts);
        ofpbuf_uninit(&hv->servers[i].udp_ofpacts);
    }
    free(hv->servers);
    hv->servers = NULL;
    hv->n_servers = 0;
}

static void
hash_vip_free(struct hash_vip *v)
{
    free(v->name);
    free(v->slots);
    free(v->next);
    free(v->pinned);
    free(v->out_of_service);
}

void
hash_vips_destroy(struct hash_vips *hv)
{
    if (hv) {
        for (size_t i = 0; i < hv->n; i++) {
            hash_vip_free(&hv->vips[i]);
        }
        free(hv->vips);
        free(hv->tracked);
        free_servers(hv);
        ofpbuf_uninit(&hv->pinned_ofpacts);
        ofpbuf_uninit(&hv->window_ofpacts);
        ofpbuf_uninit(&hv->oos_ofpacts);
        free(hv);
    }
}

static const struct hash_server *
find_server(const struct hash_vips *hv, uint32_t node)
{
    size_t lo = 0, hi = hv->n_servers;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (hv->servers[mid].node == node) {
            return &hv->servers[mid];
        } else if (hv->servers[mid].node < node) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

static struct hash_vip *
find_vip(const struct hash_vips *hv, const struct in6_addr *addr,
         uint16_t port, uint8_t proto)
{
    for (size_t i = 0; i < hv->n; i++) {
        if (hv->vips[i].port == port && hv->vips[i].proto == proto
            && ipv6_addr_equals(&hv->vips[i].addr, addr)) {
            return &hv->vips[i];
        }
    }
    return NULL;
}

static void
flow_set(struct ofctrl *ofctrl, int table, int priority,
         const struct match *match, const struct ofpbuf *ofpacts)
{
    int error = ofctrl_flow_add(ofctrl, table, priority, match,
                                ofpacts->data, ofpacts->size, 0, 0);
    if (error) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
        VLOG_ERR_RL(&rl, "hash slot flow: %s", ovs_strerror(error));
    }
}

/* Writes slot 'slot' of 'v' (its server, its pin) to 'ofctrl'.  Flows are
 * built in binary, with actions encoded once per server: a change of a
 * large table rewrites tens of thousands of them. */
static void
slot_write(const struct hash_vips *hv, const struct hash_vip *v,
           uint32_t slot, struct ofctrl *ofctrl)
{
    const struct hash_server *s = (v->slots[slot]
                                   ? find_server(hv, v->slots[slot]) : NULL);
    bool v4 = IN6_IS_ADDR_V4MAPPED(&v->addr);
    struct match match;

    hash_slots_match_init(&match, v->id, slot, v4, v->proto, false);
    if (s) {
        flow_set(ofctrl, LB_TABLE_HASH, HASH_SLOTS_PRIORITY, &match,
                 v->proto == IPPROTO_UDP ? &s->udp_ofpacts : &s->ofpacts);
    } else {
        ofctrl_flow_del(ofctrl, LB_TABLE_HASH, HASH_SLOTS_PRIORITY, &match);
    }
    if (v->proto != IPPROTO_TCP) {
        return;                 /* Never pinned. */
    }
    hash_slots_match_init(&match, v->id, slot, v4, v->proto, true);
    if (bitmap_is_set(v->pinned, slot)) {
        flow_set(ofctrl, LB_TABLE_HASH, HASH_SLOTS_PRIORITY_PINNED, &match,
                 &hv->pinned_ofpacts);
    } else {
        ofctrl_flow_del(ofctrl, LB_TABLE_HASH, HASH_SLOTS_PRIORITY_PINNED,
                        &match);
    }
}

static void
window_write(const struct hash_vips *hv, struct hash_vip *v, bool open,
             struct ofctrl *ofctrl)
{
    struct match match;

    if (open == v->window_flow) {
        return;
    }
    hash_slots_window_match_init(&match, v->id);
    if (open) {
        flow_set(ofctrl, LB_TABLE_HASH_MISS, HASH_SLOTS_PRIORITY_WINDOW,
                 &match, &hv->window_ofpacts);
    } else {
        ofctrl_flow_del(ofctrl, LB_TABLE_HASH_MISS,
                        HASH_SLOTS_PRIORITY_WINDOW, &match);
    }
    v->window_flow = open;
}

/* Brings the out-of-service flows of UDP VIP port 'v' to the 'n' underlay
 * addresses 'addrs' (without duplicates).  A null 'ofctrl' only forgets
 * them. */
static void
out_of_service_write(const struct hash_vips *hv, struct hash_vip *v,
                     const struct in6_addr *addrs, size_t n,
                     struct ofctrl *ofctrl)
{
    struct match match;

    for (size_t i = 0; ofctrl && i < v->n_out_of_service; i++) {
        bool kept = false;

        for (size_t j = 0; j < n && !kept; j++) {
            kept = ipv6_addr_equals(&addrs[j], &v->out_of_service[i]);
        }
        if (!kept) {
            hash_slots_out_of_service_match_init(&match, v->id,
                                                 &v->out_of_service[i]);
            ofctrl_flow_del(ofctrl, LB_TABLE_HASH_UDP,
                            HASH_SLOTS_PRIORITY_OUT_OF_SERVICE, &match);
        }
    }
    for (size_t j = 0; ofctrl && j < n; j++) {
        bool had = false;

        for (size_t i = 0; i < v->n_out_of_service && !had; i++) {
            had = ipv6_addr_equals(&addrs[j], &v->out_of_service[i]);
        }
        if (!had) {
            hash_slots_out_of_service_match_init(&match, v->id, &addrs[j]);
            flow_set(ofctrl, LB_TABLE_HASH_UDP,
                     HASH_SLOTS_PRIORITY_OUT_OF_SERVICE, &match,
                     &hv->oos_ofpacts);
        }
    }
    free(v->out_of_service);
    v->out_of_service = n ? xmemdup(addrs, n * sizeof *addrs) : NULL;
    v->n_out_of_service = n;
}

/* Removes every flow of 'v' from 'ofctrl'. */
static void
vip_remove(const struct hash_vips *hv, struct hash_vip *v,
           struct ofctrl *ofctrl)
{
    memset(v->slots, 0, v->n_slots * sizeof *v->slots);
    memset(v->next, 0, v->n_slots * sizeof *v->next);
    v->pending_since = 0;
    bitmap_set_multiple(v->pinned, 0, v->n_slots, false);
    v->n_pinned = 0;
    if (ofctrl) {
        for (uint32_t slot = 0; slot < v->n_slots; slot++) {
            slot_write(hv, v, slot, ofctrl);
        }
        window_write(hv, v, false, ofctrl);
    }
    out_of_service_write(hv, v, NULL, 0, ofctrl);
}

/* Writes the slots of 'v' whose server 'next' changes to 'ofctrl'. */
static void
slots_apply(const struct hash_vips *hv, struct hash_vip *v,
            struct ofctrl *ofctrl)
{
    for (uint32_t slot = 0; slot < v->n_slots; slot++) {
        if (v->next[slot] != v->slots[slot]) {
            v->slots[slot] = v->next[slot];
            slot_write(hv, v, slot, ofctrl);
        }
    }
    v->pending_since = 0;
}

static int
compare_backends(const void *a_, const void *b_)
{
    const struct maglev_backend *a = a_, *b = b_;

    return a->id < b->id ? -1 : a->id > b->id;
}

/* Returns the smallest id from 1 not used by another VIP of 'hv'. */
static uint16_t
free_id(const struct hash_vips *hv)
{
    for (uint16_t id = 1; id; id++) {
        bool used = false;
        for (size_t i = 0; i < hv->n && !used; i++) {
            used = hv->vips[i].id == id;
        }
        if (!used) {
            return id;
        }
    }
    return 0;
}

/* Whether 'addr':'port' was a tracked VIP port in the last configuration
 * (the VIP changes mode). */
static bool
was_tracked(const struct hash_vips *hv, const struct in6_addr *addr,
            uint16_t port)
{
    for (size_t i = 0; i < hv->n_tracked; i++) {
        if (hv->tracked[i].port == port
            && ipv6_addr_equals(&hv->tracked[i].addr, addr)) {
            return true;
        }
    }
    return false;
}

/* Brings hash VIP port 'v' to the table of 'cv''s healthy servers. */
static void
vip_update(struct controller *c, struct hash_vips *hv, struct hash_vip *v,
           const struct cluster_vip *cv, uint32_t lease_ms,
           uint32_t settle_ms, long long int now, struct ofctrl *ofctrl)
{
    const struct cluster_snapshot *snap = node_daemon_config(c->nd);
    struct maglev_backend *b = xcalloc(cv->n_servers + 1, sizeof *b);
    size_t n = 0;

    for (size_t i = 0; cv->enabled && i < cv->n_servers; i++) {
        const struct cluster_vip_server *s = &cv->servers[i];
        const struct cluster_server_node *node
            = cluster_snapshot_find_server_node(snap, s->node_id);

        if (s->weight && node && node->enabled && find_server(hv, s->node_id)
            && health_is_healthy(c->health, s->node_id)
            && !lbnode_service_is_down(c->lb, s->node_id, &v->addr, v->port,
                                       v->proto, now)) {
            b[n++] = (struct maglev_backend) { .id = s->node_id,
                                               .weight = s->weight };
        }
    }
    if (v->proto == IPPROTO_UDP) {
        /* The servers whose UDP flows must leave them: down, disabled, or
         * whose service of the port is down.  (A server merely taken out
         * of the VIP, or of weight 0, keeps its flows: it drains.) */
        struct in6_addr *oos = xcalloc(MAX(hv->n_servers, 1), sizeof *oos);
        size_t n_oos = 0;

        for (size_t i = 0; i < hv->n_servers; i++) {
            const struct hash_server *hs = &hv->servers[i];
            const struct cluster_server_node *node
                = cluster_snapshot_find_server_node(snap, hs->node);

            if (!node || !node->enabled
                || !health_is_healthy(c->health, hs->node)
                || lbnode_service_is_down(c->lb, hs->node, &v->addr, v->port,
                                          v->proto, now)) {
                bool dup = false;

                for (size_t j = 0; j < n_oos && !dup; j++) {
                    dup = ipv6_addr_equals(&oos[j], &hs->underlay);
                }
                if (!dup) {
                    oos[n_oos++] = hs->underlay;
                }
            }
        }
        out_of_service_write(hv, v, oos, n_oos, ofctrl);
        free(oos);
    }
    qsort(b, n, sizeof *b, compare_backends);
    struct maglev *m = maglev_create(b, n, v->n_slots);
    free(b);
    if (!m) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

        VLOG_WARN_RL(&rl, "VIP %s port %"PRIu16": no Maglev table of %"PRIu32
                     " slots for %"PRIuSIZE" servers", v->name, v->port,
                     v->n_slots, n);
        return;
    }

    /* The slots that had a server may have connections there: they are
     * pinned first, and only once the switch holds the pins are they
     * moved (hash_vips_run()), since a large change takes several OpenFlow
     * transactions, and a slot moved before its pin would send its
     * connections to the new server in between. */
    uint32_t moved = 0, pinned = 0;
    for (uint32_t slot = 0; slot < v->n_slots; slot++) {
        uint32_t id = 0;

        if (!maglev_get_slot(m, slot, &id)) {
            id = 0;
        }
        if (id != v->next[slot]) {
            v->next[slot] = id;
            moved++;
        }
        if (id != v->slots[slot] && (v->slots[slot] || v->pin_all)
            && v->proto == IPPROTO_TCP && !bitmap_is_set(v->pinned, slot)) {
            bitmap_set1(v->pinned, slot);
            v->n_pinned++;
            pinned++;
            slot_write(hv, v, slot, ofctrl);
        }
    }
    maglev_destroy(m);
    v->pin_all = false;
    if (memcmp(v->next, v->slots, v->n_slots * sizeof *v->slots)) {
        if (!v->pending_since) {
            v->pending_since = now;
        }
        if (!pinned) {
            /* Nothing to wait for (the table's first fill, slots that had
             * no server, or a UDP VIP's: its flows keep their server by
             * their tracker entries). */
            slots_apply(hv, v, ofctrl);
        }
    }
    if (moved && (v->n_servers || v->changes)) {
        VLOG_INFO("VIP %s port %"PRIu16": %"PRIuSIZE" servers, %"PRIu32
                  " of %"PRIu32" slots moved, %"PRIu32" newly pinned",
                  v->name, v->port, n, moved, v->n_slots, pinned);
    }
    if (moved) {
        v->changes++;
        v->slots_moved += moved;
    }
    v->n_servers = n;
    if (pinned) {
        v->window_until = now + lease_ms;
        v->settled_at = now + settle_ms;
    }
}

/* Brings the hash VIPs' flows in the switch to the configuration and the
 * servers' health. */
void
hash_vips_update(struct controller *c, long long int now)
{
    struct hash_vips *hv = c->hash_vips;
    const struct cluster_snapshot *snap = node_daemon_config(c->nd);
    struct ofctrl *ofctrl = node_daemon_ofctrl(c->nd);

    if (!snap || !ofctrl || c->tunnel_port == OFPP_NONE) {
        return;
    }
    hv->service_seqno = lbnode_service_seqno(c->lb);
    if (hv->tunnel_port != c->tunnel_port) {
        /* Every action names the tunnel port: rewrite every slot. */
        for (size_t i = 0; i < hv->n; i++) {
            vip_remove(hv, &hv->vips[i], ofctrl);
        }
        hv->tunnel_port = c->tunnel_port;
    }

    /* The server nodes' addresses. */
    struct in6_addr *old_addrs = xcalloc(hv->n_servers + 1,
                                         sizeof *old_addrs);
    uint32_t *old_nodes = xcalloc(hv->n_servers + 1, sizeof *old_nodes);
    size_t n_old = hv->n_servers;
    for (size_t i = 0; i < n_old; i++) {
        old_nodes[i] = hv->servers[i].node;
        old_addrs[i] = hv->servers[i].underlay;
    }
    free_servers(hv);
    hv->servers = xcalloc(snap->n_server_nodes + 1, sizeof *hv->servers);
    for (size_t i = 0; i < snap->n_server_nodes; i++) {
        const struct cluster_server_node *n = &snap->server_nodes[i];
        struct hash_server *hs = &hv->servers[hv->n_servers++];
        char *text = hash_slots_server_actions(&n->underlay,
                                               c->tunnel_port);

        hs->node = n->node_id;
        hs->underlay = n->underlay;
        ofpbuf_init(&hs->ofpacts, 0);
        lb_actions_parse(text, &hs->ofpacts);
        free(text);
        text = hash_slots_udp_server_actions(&n->underlay, c->tunnel_port);
        ofpbuf_init(&hs->udp_ofpacts, 0);
        lb_actions_parse(text, &hs->udp_ofpacts);
        free(text);
    }
    /* A node whose address changed: its slots' actions differ. */
    for (size_t i = 0; i < n_old; i++) {
        const struct hash_server *hs = find_server(hv, old_nodes[i]);

        if (hs && !ipv6_addr_equals(&hs->underlay, &old_addrs[i])) {
            for (size_t j = 0; j < hv->n; j++) {
                struct hash_vip *v = &hv->vips[j];

                for (uint32_t slot = 0; slot < v->n_slots; slot++) {
                    if (v->slots[slot] == hs->node) {
                        slot_write(hv, v, slot, ofctrl);
                    }
                }
            }
        }
    }
    free(old_addrs);
    free(old_nodes);

    const struct cluster_settings *s = &snap->settings;
    uint32_t lease_ms = MAX(s->lease_ms, 3 * s->publish_interval_ms);
    /* Two publications (one may be lost), and their way to the trackers. */
    uint32_t settle_ms = 2 * s->publish_interval_ms + 500;
    for (size_t i = 0; i < hv->n; i++) {
        hv->vips[i].seen = false;
    }
    for (size_t i = 0; i < snap->n_vips; i++) {
        const struct cluster_vip *cv = &snap->vips[i];

        if (cv->mode != CLUSTER_VIP_HASH
            || (cv->protocol != IPPROTO_TCP && cv->protocol != IPPROTO_UDP)) {
            continue;
        }
        for (size_t j = 0; j < cv->n_ports; j++) {
            struct hash_vip *v = find_vip(hv, &cv->address, cv->ports[j],
                                          cv->protocol);

            bool by_source = cv->algorithm == CLUSTER_ALG_SOURCE;
            if (v && (v->n_slots != s->maglev_table_size
                      || v->by_source != by_source)) {
                /* Another table size, or another hash: every slot means
                 * other flows.  A TCP VIP's first new table pins every
                 * slot, so that its connections keep their server, as
                 * from mode tracked; a UDP VIP's flows keep theirs by
                 * their tracker entries. */
                v->pin_all = v->proto == IPPROTO_TCP;
                v->by_source = by_source;
                VLOG_INFO("VIP %s port %"PRIu16": new table (%"PRIu32
                          " slots, by %s)%s", v->name, v->port,
                          s->maglev_table_size,
                          by_source ? "client address" : "flow",
                          v->pin_all ? ", its live connections pinned" : "");
                vip_remove(hv, v, ofctrl);
                free(v->slots);
                free(v->next);
                free(v->pinned);
                v->n_slots = s->maglev_table_size;
                v->slots = xcalloc(v->n_slots, sizeof *v->slots);
                v->next = xcalloc(v->n_slots, sizeof *v->next);
                v->pinned = bitmap_allocate(v->n_slots);
                v->n_servers = 0;
            }
            if (!v) {
                uint16_t id = free_id(hv);
                if (!id) {
                    continue;
                }
                hv->vips = xrealloc(hv->vips, (hv->n + 1) * sizeof *hv->vips);
                v = &hv->vips[hv->n++];
                *v = (struct hash_vip) {
                    .name = xstrdup(cv->name),
                    .addr = cv->address,
                    .port = cv->ports[j],
                    .proto = cv->protocol,
                    .by_source = by_source,
                    .id = id,
                    .n_slots = s->maglev_table_size,
                };
                v->slots = xcalloc(v->n_slots, sizeof *v->slots);
                v->next = xcalloc(v->n_slots, sizeof *v->next);
                v->pinned = bitmap_allocate(v->n_slots);
                v->pin_all = (cv->protocol == IPPROTO_TCP
                              && was_tracked(hv, &cv->address, cv->ports[j]));
                if (v->pin_all) {
                    VLOG_INFO("VIP %s port %"PRIu16": from mode tracked to "
                              "hash, its live connections pinned",
                              v->name, v->port);
                }
            }
            v->seen = true;
            vip_update(c, hv, v, cv, lease_ms, settle_ms, now, ofctrl);
        }
    }

    /* The tracked ports, for the next change. */
    hv->n_tracked = 0;
    for (size_t i = 0; i < snap->n_vips; i++) {
        const struct cluster_vip *cv = &snap->vips[i];

        if (cv->mode != CLUSTER_VIP_TRACKED || cv->protocol != IPPROTO_TCP) {
            continue;
        }
        hv->tracked = xrealloc(hv->tracked, (hv->n_tracked + cv->n_ports)
                               * sizeof *hv->tracked);
        for (size_t j = 0; j < cv->n_ports; j++) {
            hv->tracked[hv->n_tracked++] = (struct tracked_port) {
                .addr = cv->address, .port = cv->ports[j],
            };
        }
    }

    /* VIPs gone from the configuration (or no longer hash VIPs). */
    for (size_t i = 0; i < hv->n; ) {
        struct hash_vip *v = &hv->vips[i];
        if (!v->seen) {
            vip_remove(hv, v, ofctrl);
            hash_vip_free(v);
            hv->vips[i] = hv->vips[--hv->n];
        } else {
            i++;
        }
    }
    hash_vips_run(c, now);
    c->flows_changed = true;
}

/* Opens or closes the VIPs' windows and removes the pins of those whose
 * window closed. */
void
hash_vips_run(struct controller *c, long long int now)
{
    struct hash_vips *hv = c->hash_vips;
    struct ofctrl *ofctrl = node_daemon_ofctrl(c->nd);

    if (!ofctrl) {
        return;
    }
    if (lbnode_service_seqno(c->lb) != hv->service_seqno) {
        /* A server's service of a VIP port went down or came back (its
         * agent's LOAD): it leaves or rejoins that port's table. */
        hash_vips_update(c, now);
        c->flows_changed = true;
    }
    for (size_t i = 0; i < hv->n; i++) {
        struct hash_vip *v = &hv->vips[i];

        /* A change whose pins the switch holds (or that waited for them
         * for PIN_WAIT_MS: a pin the switch refuses must not hold the
         * table back for ever). */
        if (v->pending_since
            && (ofctrl_is_synced(ofctrl)
                || now >= v->pending_since + PIN_WAIT_MS)) {
            slots_apply(hv, v, ofctrl);
            c->flows_changed = true;
        }

        bool open = v->n_pinned
                    && (now < v->window_until
                        || lbnode_vip_mappings(c->lb, &v->addr, v->port));

        if (open != v->window_flow) {
            window_write(hv, v, open, ofctrl);
            c->flows_changed = true;
        }
        if (!open && v->n_pinned) {
            VLOG_INFO("VIP %s port %"PRIu16": window closed, %"PRIu32
                      " slots unpinned", v->name, v->port, v->n_pinned);
            unsigned long *pinned = v->pinned;
            size_t slot;

            v->pinned = bitmap_allocate(v->n_slots);
            v->n_pinned = 0;
            BITMAP_FOR_EACH_1 (slot, v->n_slots, pinned) {
                slot_write(hv, v, slot, ofctrl);
            }
            free(pinned);
            c->flows_changed = true;
        }
    }
}

/* Returns when hash_vips_run() has something to do: the end of a change
 * window, or in a second for a window that mappings hold open, or the end
 * of the wait for a change's pins (LLONG_MAX: nothing). */
/* Does a hash VIP have a change of its table waiting for its pins to be in
 * the switch (its slots not yet written)? */
bool
hash_vips_is_pending(const struct hash_vips *hv)
{
    for (size_t i = 0; i < hv->n; i++) {
        if (hv->vips[i].pending_since) {
            return true;
        }
    }
    return false;
}

long long int
hash_vips_next_deadline(const struct hash_vips *hv, long long int now)
{
    long long int next = LLONG_MAX;

    for (size_t i = 0; i < hv->n; i++) {
        const struct hash_vip *v = &hv->vips[i];

        if (v->n_pinned) {
            long long int until = v->window_until;
            next = MIN(next, until > now ? until : now + 1000);
        }
        if (v->pending_since) {
            /* ofctrl's own wake-ups tell when the pins are in. */
            next = MIN(next, v->pending_since + PIN_WAIT_MS);
        }
    }
    return next;
}

/* Stores in '*server_addr' the underlay address of the server that the
 * switch's table gives 'cp' and returns true, or returns false if 'cp' is
 * no hash VIP's or its slot has no server, or if at 'now' the table moved
 * slots too recently: a connection that a moved slot's old server has not
 * published yet to the trackers since then would be moved with it.  (Its
 * client retransmits; by then the trackers know it.)  LLONG_MAX for 'now'
 * asks for the table as it is. */
bool
hash_vips_target(const struct hash_vips *hv, const struct flow_key *cp,
                 long long int now, struct in6_addr *server_addr)
{
    const struct hash_vip *v = find_vip(hv, &cp->vip, ntohs(cp->vip_port),
                                        cp->proto);

    if (!v || cp->proto != IPPROTO_TCP
        || (now != LLONG_MAX && now < v->settled_at)) {
        return false;
    }
    uint32_t id = v->slots[hash_slots_of(cp, v->n_slots, v->by_source)];
    const struct hash_server *s = id ? find_server(hv, id) : NULL;
    if (!s) {
        return false;
    }
    *server_addr = s->underlay;
    return true;
}

/* Returns the pipeline id of hash VIP port 'addr':'port' of 'proto' and
 * stores its table size in '*n_slots' and whether it hashes by the client's
 * address alone in '*by_source', or returns 0 if there is none. */
uint16_t
hash_vips_id(const struct hash_vips *hv, const struct in6_addr *addr,
             uint16_t port, uint8_t proto, uint32_t *n_slots,
             bool *by_source)
{
    const struct hash_vip *v = find_vip(hv, addr, port, proto);

    if (!v) {
        return 0;
    }
    *n_slots = v->n_slots;
    *by_source = v->by_source;
    return v->id;
}

/* Does the switch behind 'ofctrl' hold the flows of 'v''s table as they
 * are now (its slots, its pins and, for UDP, its out-of-service flows)?
 * Until it does, ovslb/show says "pending": a change of the table is not
 * yet what the switch does with the VIP's packets. */
static bool
table_in_switch(const struct hash_vip *v, const struct ofctrl *ofctrl)
{
    bool v4 = IN6_IS_ADDR_V4MAPPED(&v->addr);
    struct match match;

    if (!ofctrl || v->pending_since) {
        return false;
    }
    for (uint32_t slot = 0; slot < v->n_slots; slot++) {
        hash_slots_match_init(&match, v->id, slot, v4, v->proto, false);
        if (!ofctrl_flow_is_current(ofctrl, LB_TABLE_HASH,
                                    HASH_SLOTS_PRIORITY, &match)
            || (v->slots[slot]
                && !ofctrl_flow_is_installed(ofctrl, LB_TABLE_HASH,
                                             HASH_SLOTS_PRIORITY, &match))) {
            /* (A slot with a server has a flow: "current" alone would
             * also say so of a flow that was never desired.) */
            return false;
        }
        if (v->proto == IPPROTO_TCP) {
            hash_slots_match_init(&match, v->id, slot, v4, v->proto, true);
            if (!ofctrl_flow_is_current(ofctrl, LB_TABLE_HASH,
                                        HASH_SLOTS_PRIORITY_PINNED,
                                        &match)) {
                return false;
            }
        }
    }
    for (size_t i = 0; i < v->n_out_of_service; i++) {
        hash_slots_out_of_service_match_init(&match, v->id,
                                             &v->out_of_service[i]);
        if (!ofctrl_flow_is_current(ofctrl, LB_TABLE_HASH_UDP,
                                    HASH_SLOTS_PRIORITY_OUT_OF_SERVICE,
                                    &match)) {
            return false;
        }
    }
    return true;
}

void
hash_vips_format(const struct hash_vips *hv, const struct ofctrl *ofctrl,
                 long long int now, struct ds *s)
{
    for (size_t i = 0; i < hv->n; i++) {
        const struct hash_vip *v = &hv->vips[i];
        const char *in_switch = (table_in_switch(v, ofctrl)
                                 ? "in switch" : "pending");
        char addr[INET6_ADDRSTRLEN];

        ipv6_string_mapped(addr, &v->addr);
        if (v->proto == IPPROTO_UDP) {
            ds_put_format(s, "hash VIP %s %s port %"PRIu16"/udp: id %"PRIu16
                          ", %"PRIu32" slots%s, %"PRIu32" servers, %"PRIuSIZE
                          " out of service, %"PRIu64" changes, %"PRIu64
                          " slots moved, table %s\n", v->name, addr,
                          v->port, v->id, v->n_slots,
                          v->by_source ? " by source" : "",
                          v->n_servers, v->n_out_of_service,
                          v->changes, v->slots_moved, in_switch);
            continue;
        }
        ds_put_format(s, "hash VIP %s %s port %"PRIu16": id %"PRIu16", %"PRIu32
                      " slots%s, %"PRIu32" servers, %"PRIu32" pinned, "
                      "window %s, %"PRIu64" changes, %"PRIu64
                      " slots moved, table %s\n", v->name, addr, v->port,
                      v->id,
                      v->n_slots, v->by_source ? " by source" : "",
                      v->n_servers, v->n_pinned,
                      (v->window_flow
                       ? (now < v->window_until ? "open" : "open (mappings)")
                       : "closed"),
                      v->changes, v->slots_moved, in_switch);
    }
}

void
hash_vips_put_metrics(const struct hash_vips *hv, struct metrics *m)
{
    uint64_t changes = 0, moved = 0, pinned = 0, open = 0;

    for (size_t i = 0; i < hv->n; i++) {
        changes += hv->vips[i].changes;
        moved += hv->vips[i].slots_moved;
        pinned += hv->vips[i].n_pinned;
        open += hv->vips[i].window_flow;
    }
    metrics_put(m, "ovslb_hash_vips", METRICS_GAUGE,
                "hash VIP ports of this LB node", hv->n, NULL);
    metrics_put(m, "ovslb_hash_table_changes_total", METRICS_COUNTER,
                "changes of hash VIPs' tables", changes, NULL);
    metrics_put(m, "ovslb_hash_slots_moved_total", METRICS_COUNTER,
                "hash slots whose server changed", moved, NULL);
    metrics_put(m, "ovslb_hash_slots_pinned", METRICS_GAUGE,
                "hash slots whose connections keep their server", pinned,
                NULL);
    metrics_put(m, "ovslb_hash_windows_open", METRICS_GAUGE,
                "hash VIP ports whose misses go to the controller", open,
                NULL);
}
