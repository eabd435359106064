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
 * lbnode: the LB node core (lbnode.h) itself: creation, configuration,
 * the lookups of lbnode_trackers() and the VIPs, the dispatch of control
 * messages to the roles (lbnode_recv(), lbnode_deliver()), the timers
 * (lbnode_run(), lbnode_retry(), lbnode_next_deadline()) and what the
 * inspection commands show.  The roles are in ingress.c and tracker.c,
 * leases and publications in lease.c (see lbnode-private.h).
 */
#include <config.h>
#include "lbnode.h"
#include "lbnode-private.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "deadline-queue.h"
#include "metrics.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "server-load.h"
#include "ring.h"
#include "selection.h"
#include "syn-cookie.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(lbnode);

/* A message this node sent itself, waiting in 'self_msgs'. */
struct self_msg {
    struct ovs_list node;
    struct ctl_msg msg;
};

/* Whether FLOW_DBG logs: "ovs-appctl vlog/set lbnode:file:dbg" turns it on
 * for every part of the core. */
bool
lbnode_flow_dbg_enabled(void)
{
    return VLOG_IS_DBG_ENABLED();
}

/* Logs, under this module, 'format' about the flow 'cp' (see FLOW_DBG). */
void
lbnode_flow_dbg(const struct flow_key *cp, const char *format, ...)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    va_list args;

    flow_key_format(cp, &s);
    ds_put_cstr(&s, ": ");
    va_start(args, format);
    ds_put_format_valist(&s, format, args);
    va_end(args);
    VLOG_DBG("%s", ds_cstr(&s));
    ds_destroy(&s);
}

/* Creates an LB node core with no configuration (it drops everything until
 * lbnode_configure()). */
struct lbnode *
lbnode_create(void)
{
    struct lbnode *lb = xzalloc(sizeof *lb);

    hmap_init(&lb->entries);
    entry_keys_init(&lb->entry_keys);
    hmap_init(&lb->entry_handshakes);
    hmap_init(&lb->pending);
    hmap_init(&lb->mappings);
    deadline_queue_init(&lb->handshakes);
    deadline_queue_init(&lb->entry_leases);
    deadline_queue_init(&lb->connect_retries);
    deadline_queue_init(&lb->pending_expiry);
    deadline_queue_init(&lb->query_retries);
    deadline_queue_init(&lb->mapping_leases);
    syn_cookie_thresholds_init(&lb->cookie_thresholds);
    ovs_list_init(&lb->self_msgs);
    lb->load = server_load_create();
    return lb;
}

static void
free_vips(struct vip *vips, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(vips[i].cfg.name);
        free(vips[i].cfg.servers);
        selection_destroy(vips[i].sel);
    }
    free(vips);
}

/* Returns a copy of 'zone' for the core to keep: NULL if it names no
 * zone. */
static const char *
zone_clone(const char *zone)
{
    return zone && zone[0] ? xstrdup(zone) : NULL;
}

/* Frees the LB nodes and servers of 'lb', with their zones. */
static void
free_nodes(struct lbnode *lb)
{
    for (size_t i = 0; i < lb->n_lbs; i++) {
        free(CONST_CAST(char *, lb->lbs[i].zone));
    }
    free(lb->lbs);
    for (size_t i = 0; i < lb->n_servers; i++) {
        free(CONST_CAST(char *, lb->servers[i].zone));
    }
    free(lb->servers);
    free(lb->servers_by_node);
}

static int
compare_servers_by_node(const void *a_, const void *b_)
{
    const struct lbnode_server *const *a = a_, *const *b = b_;

    return (*a)->node < (*b)->node ? -1 : (*a)->node > (*b)->node;
}

/* Frees 'lb'.  A null 'lb' is a no-op. */
void
lbnode_destroy(struct lbnode *lb)
{
    if (!lb) {
        return;
    }
    struct entry *e;
    HMAP_FOR_EACH_POP (e, node, &lb->entries) {
        tracker_entry_free_handshake(lb, e);
        free(e);
    }
    hmap_destroy(&lb->entries);
    entry_keys_destroy(&lb->entry_keys);
    hmap_destroy(&lb->entry_handshakes);

    struct pending *p;
    HMAP_FOR_EACH_SAFE (p, node, &lb->pending) {
        ingress_pending_destroy(lb, p);
    }
    hmap_destroy(&lb->pending);

    struct mapping *m;
    HMAP_FOR_EACH_POP (m, node, &lb->mappings) {
        free(m);
    }
    hmap_destroy(&lb->mappings);

    deadline_queue_destroy(&lb->handshakes);
    deadline_queue_destroy(&lb->entry_leases);
    deadline_queue_destroy(&lb->connect_retries);
    deadline_queue_destroy(&lb->pending_expiry);
    deadline_queue_destroy(&lb->query_retries);
    deadline_queue_destroy(&lb->mapping_leases);

    if (lb->synced_ring != lb->ring) {
        ring_destroy(lb->synced_ring);
    }
    ring_destroy(lb->ring);
    syn_cookie_key_destroy(lb->cookie_key);
    syn_cookie_key_destroy(lb->cookie_key_prev);
    free_nodes(lb);
    free_vips(lb->vips, lb->n_vips);

    struct self_msg *sm;
    LIST_FOR_EACH_POP (sm, node, &lb->self_msgs) {
        free(sm);
    }
    server_load_destroy(lb->load);
    free(lb);
}

/* The bound of a table configured as 'max' (0: none). */
static size_t
table_bound(uint32_t max)
{
    return max ? max : SIZE_MAX;
}

/* (Re)configures 'lb' from 'cfg'.  Tracker entries, pending flows and
 * mappings are kept. */
void
lbnode_configure(struct lbnode *lb, const struct lbnode_config *cfg)
{
    uint32_t *healthy;
    size_t n_healthy = 0;

    uint64_t isn_key = flow_key_siphash(cfg->secret, cfg->secret_len,
                                        UINT64_C(0x69736e2d6b657931),
                                        UINT64_C(0x6f76736c622d6973));

    /* Node ids fit the entries' 16 bits (the configuration's ids are
     * validated, the messages' decoded, to CTL_NODE_MAX). */
    ovs_assert(cfg->self && cfg->self <= CTL_NODE_MAX);
    for (size_t i = 0; i < cfg->n_lbs; i++) {
        ovs_assert(cfg->lbs[i].node <= CTL_NODE_MAX);
    }
    for (size_t i = 0; i < cfg->n_servers; i++) {
        ovs_assert(cfg->servers[i].node <= CTL_NODE_MAX);
    }

    lb->self = cfg->self;
    if (lb->cookie_key && isn_key != lb->isn_key) {
        /* The cluster key changed (a rotation): the cookies that the SYN
         * tables' overflow sent out in the last minutes stay valid. */
        syn_cookie_key_destroy(lb->cookie_key_prev);
        lb->cookie_key_prev = lb->cookie_key;
        lb->cookie_key_prev_expiry = LLONG_MIN;
    } else {
        syn_cookie_key_destroy(lb->cookie_key);
    }
    lb->isn_key = isn_key;
    lb->cookie_key = (cfg->secret_len >= SYN_COOKIE_MIN_KEY_LEN
                      ? syn_cookie_key_create(cfg->secret,
                                              MIN(cfg->secret_len,
                                                  SYN_COOKIE_MAX_KEY_LEN))
                      : NULL);
    lb->cookie_thresholds.table_pct = cfg->syn_cookie_pct;
    lb->cookie_thresholds.syn_rate = cfg->syn_cookie_rate;

    free_nodes(lb);
    lb->lbs = xmemdup(cfg->lbs, cfg->n_lbs * sizeof *cfg->lbs);
    lb->n_lbs = cfg->n_lbs;
    for (size_t i = 0; i < lb->n_lbs; i++) {
        lb->lbs[i].zone = zone_clone(cfg->lbs[i].zone);
    }
    lb->servers = xmemdup(cfg->servers, cfg->n_servers * sizeof *cfg->servers);
    lb->n_servers = cfg->n_servers;
    lb->servers_by_node = xcalloc(MAX(lb->n_servers, 1),
                                  sizeof *lb->servers_by_node);
    for (size_t i = 0; i < lb->n_servers; i++) {
        lb->servers[i].zone = zone_clone(cfg->servers[i].zone);
        lb->servers_by_node[i] = &lb->servers[i];
    }
    qsort(lb->servers_by_node, lb->n_servers, sizeof *lb->servers_by_node,
          compare_servers_by_node);

    /* A VIP port that keeps its algorithm keeps its selector: round-robin
     * goes on where it was, and a Maglev table is rebuilt only if its
     * servers changed, however often the configuration or the servers'
     * health changes. */
    struct vip *old_vips = lb->vips;
    size_t n_old_vips = lb->n_vips;
    lb->vips = xcalloc(cfg->n_vips ? cfg->n_vips : 1, sizeof *lb->vips);
    lb->n_vips = 0;
    for (size_t i = 0; i < cfg->n_vips; i++) {
        const struct lbnode_vip *nv = &cfg->vips[i];
        struct vip *v = &lb->vips[lb->n_vips++];

        v->cfg = *nv;
        v->cfg.name = xstrdup(nv->name);
        v->cfg.servers = xmemdup(nv->servers,
                                 nv->n_servers * sizeof *nv->servers);
        for (size_t j = 0; j < n_old_vips; j++) {
            struct vip *ov = &old_vips[j];

            if (ov->sel && ov->cfg.port == nv->port
                && ov->cfg.proto == nv->proto
                && ov->cfg.algorithm == nv->algorithm
                && ipv6_addr_equals(&ov->cfg.addr, &nv->addr)) {
                v->sel = ov->sel;
                ov->sel = NULL;
                break;
            }
        }
        if (!v->sel) {
            v->sel = selection_create(nv->algorithm,
                                      cfg->ring_key ^ (cfg->self * 0x9e37ULL)
                                      ^ i);
        }
    }
    free_vips(old_vips, n_old_vips);

    /* The VIPs' mapping counts, which the configuration's VIPs start
     * without. */
    struct mapping *m;
    HMAP_FOR_EACH (m, node, &lb->mappings) {
        struct vip *v = vip_for_cp(lb, &m->cp);
        if (v) {
            v->n_mappings++;
        }
    }

    healthy = xcalloc(cfg->n_lbs ? cfg->n_lbs : 1, sizeof *healthy);
    for (size_t i = 0; i < cfg->n_lbs; i++) {
        if (cfg->lbs[i].healthy) {
            healthy[n_healthy++] = cfg->lbs[i].node;
        }
    }
    if (lb->ring != lb->synced_ring) {
        ring_destroy(lb->ring);
    }
    lb->ring = ring_create(healthy, n_healthy, cfg->ring_key, cfg->vnodes);
    if (!lb->ring) {
        VLOG_WARN("cannot build the ring from %"PRIuSIZE" nodes", n_healthy);
        lb->ring = ring_create(NULL, 0, cfg->ring_key, cfg->vnodes);
    }
    free(healthy);

    lb->buffer_packets = cfg->buffer_packets;
    lb->buffer_bytes = cfg->buffer_bytes;
    lb->buffer_timeout_ms = cfg->buffer_timeout_ms;
    lb->syn_table_max = cfg->syn_table_max;
    lb->lease_ms = MAX(cfg->lease_ms, 1);
    lb->handshake_timeout_ms = MAX(cfg->handshake_timeout_ms, 1);
    lb->connect_retry_ms = MAX(cfg->connect_retry_ms, 1);
    lb->query_retry_ms = MAX(cfg->query_retry_ms, 1);
    lb->load_max_age_ms = cfg->load_max_age_ms ? cfg->load_max_age_ms : 3000;
    lb->tracker_table_max = table_bound(cfg->tracker_table_max);
    lb->mapping_table_max = table_bound(cfg->mapping_table_max);
    lb->pending_table_max = table_bound(cfg->pending_table_max);
}

/* Tells 'lb' the wall clock's lead over the 'now' it is given,
 * 'wall_minus_now' (ms).  Only SYN cookies use it: their time slots must
 * come from a clock that every LB node shares (syn-cookie.h).  The driver
 * calls it before every pass, so that a step of the wall clock is seen at
 * once; until the first call the offset is 0 (the simulator and the tests,
 * whose nodes share one 'now', need not call it). */
void
lbnode_set_clock_offset(struct lbnode *lb, long long int wall_minus_now)
{
    /* Clamped so that 'now' plus the offset cannot overflow. */
    lb->wall_offset = MAX(MIN(wall_minus_now, LLONG_MAX / 4),
                          -(LLONG_MAX / 4));
}

/* Tells 'lb' its own north MAC ('own', the source of what it sends north)
 * and the edge router's ('edge'). */
void
lbnode_set_macs(struct lbnode *lb, struct eth_addr own, struct eth_addr edge)
{
    lb->own_mac = own;
    lb->edge_mac = edge;
    lb->has_macs = true;
}

/* Returns true once lbnode_set_macs() was called. */
bool
lbnode_has_macs(const struct lbnode *lb)
{
    return lb->has_macs;
}

/* Lookups (and lbnode-private.h). */

/* Returns the VIP port ('addr', 'port' in host order, 'proto'), or NULL. */
const struct lbnode_vip *
lbnode_find_vip(const struct lbnode *lb, const struct in6_addr *addr,
                uint16_t port, uint8_t proto)
{
    const struct vip *v = vip_find(lb, addr, port, proto);
    return v ? &v->cfg : NULL;
}

/* Stores the flow's trackers in '*pft' and '*sft' (the SFT is the PFT
 * itself when only one LB node is healthy).  Returns false if no LB node is
 * healthy. */
bool
lbnode_trackers(const struct lbnode *lb, const struct flow_key *cp,
                uint32_t *pft, uint32_t *sft)
{
    size_t n = lb->ring ? ring_trackers(lb->ring, cp, pft, sft) : 0;

    if (n == 0) {
        *pft = *sft = CTL_NODE_NONE;
        return false;
    }
    if (n == 1) {
        *sft = *pft;
    }
    return true;
}

static void
dispatch(struct lbnode *lb, const struct ctl_msg *msg, long long int now,
         const struct lbnode_io *io, void *aux)
{
    switch (msg->type) {
    case CTL_MSG_SYN_INFO:
        pft_syn_info(lb, &msg->syn_info, now, io, aux);
        break;
    case CTL_MSG_SYN_SYNC:
        sft_syn_sync(lb, &msg->syn_sync, now, io, aux);
        break;
    case CTL_MSG_ACK_INFO:
        pft_ack_info(lb, &msg->ack_info, now, io, aux);
        break;
    case CTL_MSG_CONNECT:
        sft_connect(lb, &msg->connect, now, io, aux);
        break;
    case CTL_MSG_ACCEPTED:
        sft_accepted(lb, &msg->accepted, now, io, aux);
        break;
    case CTL_MSG_REJECTED:
        sft_rejected(lb, &msg->rejected, now, io, aux);
        break;
    case CTL_MSG_RELEASE:
        pft_release(lb, &msg->release, now, io, aux);
        break;
    case CTL_MSG_MAPPING:
        tracker_mapping(lb, msg, now, io, aux);
        break;
    case CTL_MSG_MAPPING_QUERY:
        tracker_query(lb, &msg->mapping_query, now, io, aux);
        break;
    case CTL_MSG_UNKNOWN:
        ingress_unknown(lb, msg, now, io, aux);
        break;
    case CTL_MSG_TRACKER_SYNC:
        tracker_sync(lb, &msg->tracker_sync, msg->sender, now);
        break;
    case CTL_MSG_PUBLISH:
    case CTL_MSG_PUBLISH_FWD:
        lease_publish(lb, msg, now, io, aux);
        break;
    case CTL_MSG_LOAD:
        tracker_load(lb, msg, now);
        break;
    case CTL_MSG_CONN_REQ:
    case CTL_MSG_PING:
    case CTL_MSG_PONG:
    case CTL_MSG_GOSSIP:
    case CTL_MSG_LB_LIST:
    case CTL_MSG_OWNER:
    case CTL_MSG_N_TYPES:
    default:
        lb->stats.msgs_ignored++;
        break;
    }
}

/* Handles the control message 'msg' from another node, then the messages
 * that this node sent itself meanwhile. */
void
lbnode_recv(struct lbnode *lb, const struct ctl_msg *msg, long long int now,
            const struct lbnode_io *io, void *aux)
{
    dispatch(lb, msg, now, io, aux);
    lbnode_handle_self_msgs(lb, now, io, aux);
}

/* Sends 'msg' to node 'dst' through 'io' (with 'aux'), or, if 'dst' is
 * this node, queues it for lbnode_handle_self_msgs(). */
void
lbnode_deliver(struct lbnode *lb, uint32_t dst, struct ctl_msg *msg,
               long long int now OVS_UNUSED, const struct lbnode_io *io,
               void *aux)
{
    if (dst == CTL_NODE_NONE) {
        return;
    }
    if (dst == lb->self) {
        struct self_msg *sm = xmalloc(sizeof *sm);

        msg->sender = lb->self;
        sm->msg = *msg;
        ovs_list_push_back(&lb->self_msgs, &sm->node);
    } else {
        io->send(aux, dst, msg);
    }
}

/* Handles, in the order sent, the messages that 'lb' sent itself, and those
 * that handling them sends, until none is left.  Every public function of
 * the core that can send a message calls it last (with its 'now', 'io' and
 * 'aux'), so that a handler never runs inside another. */
void
lbnode_handle_self_msgs(struct lbnode *lb, long long int now,
                        const struct lbnode_io *io, void *aux)
{
    while (!ovs_list_is_empty(&lb->self_msgs)) {
        struct self_msg *sm = CONTAINER_OF(ovs_list_pop_front(&lb->self_msgs),
                                           struct self_msg, node);

        dispatch(lb, &sm->msg, now, io, aux);
        free(sm);
    }
}

/* Makes room for one more entry in a table of 'n' entries bounded by 'max'
 * (see "Bounds" in struct lbnode): if the table is at its bound, evicts
 * the entry whose timer is at the front of 'queue' by calling 'evict' (with
 * 'io' and 'aux'), which must take that timer out of 'queue'; if it is
 * above its bound, two of them, so that it shrinks back.  Returns false if
 * the table is at or above its bound and 'queue' has nothing to evict. */
bool
lbnode_make_room(struct lbnode *lb, const struct deadline_queue *queue,
                 size_t n, size_t max, lbnode_evict_func *evict,
                 const struct lbnode_io *io, void *aux)
{
    size_t n_evict = n < max ? 0 : n == max ? 1 : EVICT_BATCH;
    size_t n_evicted = 0;
    struct deadline *d;

    while (n_evicted < n_evict && (d = deadline_queue_first(queue))) {
        evict(lb, d, io, aux);
        n_evicted++;
    }
    return !n_evict || n_evicted;
}

/* Expires what timed out by 'now': pending flows, handshakes and lapsed
 * leases (whose ingress mappings are removed through 'io').  Touches only
 * the timers that are due. */
void
lbnode_run(struct lbnode *lb, long long int now, const struct lbnode_io *io,
           void *aux)
{
    struct deadline *d;

    if (lb->cookie_key_prev) {
        /* No cookie of the previous key is valid after this. */
        if (lb->cookie_key_prev_expiry == LLONG_MIN) {
            lb->cookie_key_prev_expiry
                = now + (2 * SYN_COOKIE_SLOT_S + SYN_COOKIE_MAX_SKEW_S) * 1000;
        } else if (now >= lb->cookie_key_prev_expiry) {
            syn_cookie_key_destroy(lb->cookie_key_prev);
            lb->cookie_key_prev = NULL;
        }
    }

    if (now >= lb->next_load_sweep) {
        /* Not urgent: left out of lbnode_next_deadline(). */
        server_load_run(lb->load, now);
        lb->next_load_sweep = now + 10000;
    }

    while ((d = deadline_queue_due(&lb->pending_expiry, now))) {
        lb->stats.timer_visits++;
        lb->stats.buffer_timeouts++;
        ingress_pending_destroy(lb, CONTAINER_OF(d, struct pending, expiry));
    }

    while ((d = deadline_queue_due(&lb->handshakes, now))
           || (d = deadline_queue_due(&lb->entry_leases,
                                      lease_sweep_time(now)))) {
        struct entry *e = CONTAINER_OF(d, struct entry, expiry);

        lb->stats.timer_visits++;
        lb->stats.entries_expired++;
        if (e->state == ENTRY_ESTABLISHED) {
            lb->stats.leases_lapsed++;
        }
        tracker_entry_destroy(lb, e);
    }

    while ((d = deadline_queue_due(&lb->mapping_leases, now))) {
        struct mapping *m = CONTAINER_OF(d, struct mapping, expiry);

        lb->stats.timer_visits++;
        if (m->replaced) {
            mapping_remove(lb, m);
            deadline_cancel(&m->expiry);
            free(m);
        } else if (!m->revalidating && ingress_mapping_revalidate(lb, m, now,
                                                                  io, aux)) {
            /* A hash VIP's: its server publishes it to the trackers, not
             * to us (the agent never sees its packets); asked again. */
        } else {
            /* No server published the connection through us for a whole
             * lease: it is closed, or its packets come in elsewhere. */
            lb->stats.leases_lapsed++;
            lb->stats.mappings_lapsed++;
            io->remove_mapping(aux, &m->cp);
            ingress_mapping_forget(lb, m);
        }
    }
}

/* Retries what waits for an answer: queries of pending flows and CONNECTs
 * of flows whose server did not answer.  Called by the daemon after
 * lbnode_run(); touches only the timers that are due. */
void
lbnode_retry(struct lbnode *lb, long long int now, const struct lbnode_io *io,
             void *aux)
{
    struct deadline *d;

    while ((d = deadline_queue_due(&lb->query_retries, now))) {
        struct pending *p = CONTAINER_OF(d, struct pending, query_retry);

        /* Due again in a period, even if no tracker can be asked now
         * (ingress_ask_trackers() sets the same time when it asks one). */
        lb->stats.timer_visits++;
        deadline_queue_set(&lb->query_retries, d, now + lb->query_retry_ms);
        ingress_ask_trackers(lb, p, p->stage == PENDING_ASKED_PFT, now, io,
                             aux);
    }

    while ((d = deadline_queue_due(&lb->connect_retries, now))) {
        struct entry_handshake *hs = CONTAINER_OF(d, struct entry_handshake,
                                                  connect_retry);
        struct entry *e = hs->entry;

        /* No answer from the server: ask it again, once per period; its
         * answer is idempotent. */
        const struct lbnode_server *s = server_find(lb, e->server);
        uint32_t pft, sft;
        struct ctl_msg msg;

        /* Every change of role or state reschedules the retry. */
        ovs_assert(e->role == CTL_ROLE_PFT && e->state == ENTRY_CONNECTING
                   && !hs->server_lost);
        lb->stats.timer_visits++;
        deadline_queue_set(&lb->connect_retries, d, now + lb->connect_retry_ms);
        if (!s || !s->healthy) {
            if (hs->server_published) {
                /* It answered (it publishes the connection; the MAPPING
                 * was lost) and went down since: the connection went with
                 * it, and a second server must not get it.  Nor the same
                 * one again: back without its journal, its agent would
                 * take the retry for a new connection and open a server
                 * socket with nobody at the other end (the client may
                 * have closed long ago).  So no more retries: this entry
                 * lapses a lease after the server's last publication
                 * (lease.c), and if the server comes back with the
                 * connection, its publications rebuild it established
                 * (the ingress's mapping lives on them meanwhile). */
                lb->stats.connect_server_lost++;
                hs->server_lost = true;
                deadline_cancel(d);
                continue;
            }
            /* The server went down before it answered: choose another, as
             * if it had refused. */
            lb->stats.connect_server_down++;
            pft_choose_again(lb, e, now, io, aux);
            continue;
        }
        if (!lbnode_trackers(lb, ENTRY_CP(lb, e), &pft, &sft)) {
            continue;
        }
        hs->connect_sent = now;
        msg_init(&msg, CTL_MSG_CONNECT, lb->self);
        msg.connect = (struct ctl_connect) {
            .cp = entry_cp(lb, e), .server = e->server, .ttl = e->ttl,
            .isn_lb = e->isn_lb, .client_isn = e->client_isn,
            .opts = hs->opts, .ingress = e->ingress, .ts_lb = hs->ts_lb,
        };
        lbnode_deliver(lb, sft, &msg, now, io, aux);
    }
    lbnode_handle_self_msgs(lb, now, io, aux);
}

/* Returns when lbnode_run() or lbnode_retry() next has work (for a lapsed
 * lease, its end rounded up to LEASE_SWEEP_MS), or LLONG_MAX.  O(1). */
long long int
lbnode_next_deadline(const struct lbnode *lb)
{
    const struct deadline_queue *queues[] = {
        &lb->handshakes, &lb->connect_retries, &lb->pending_expiry,
        &lb->query_retries, &lb->mapping_leases,
    };
    long long int next = deadline_queue_next(&lb->entry_leases);

    /* An entry's lease timer holds its exact end (lease_sweep_time()). */
    if (next < LLONG_MAX - LEASE_SWEEP_MS) {
        next = ROUND_UP(next, LEASE_SWEEP_MS);
    }
    for (size_t i = 0; i < ARRAY_SIZE(queues); i++) {
        next = MIN(next, deadline_queue_next(queues[i]));
    }
    return next;
}

/* Accessors. */

uint32_t
lbnode_self(const struct lbnode *lb)
{
    return lb->self;
}

size_t
lbnode_n_healthy(const struct lbnode *lb)
{
    return lb->ring ? ring_n_nodes(lb->ring) : 0;
}

const struct lbnode_stats *
lbnode_get_stats(const struct lbnode *lb)
{
    return &lb->stats;
}

size_t
lbnode_n_entries(const struct lbnode *lb)
{
    return hmap_count(&lb->entries);
}

/* Returns true if the latest LOAD of 'server' (within the load's maximum
 * age) says its service of VIP port 'vip':'port' of protocol 'proto' fails
 * its health check: what keeps it out of the VIP port's choices, in both
 * modes. */
bool
lbnode_service_is_down(const struct lbnode *lb, uint32_t server,
                       const struct in6_addr *vip, uint16_t port,
                       uint8_t proto, long long int now)
{
    return server_load_is_down(lb->load, server, vip, port, proto, now,
                               lb->load_max_age_ms);
}

/* Returns a number that changes whenever a LOAD takes a server's service
 * of a VIP port down or brings it back. */
uint64_t
lbnode_service_seqno(const struct lbnode *lb)
{
    return server_load_down_seqno(lb->load);
}

/* Returns the number of ingress mappings that 'lb' holds for the flows of
 * TCP VIP port 'addr':'port'. */
size_t
lbnode_vip_mappings(const struct lbnode *lb, const struct in6_addr *addr,
                    uint16_t port)
{
    const struct vip *v = vip_find(lb, addr, port, IPPROTO_TCP);

    return v ? v->n_mappings : 0;
}

size_t
lbnode_n_pending(const struct lbnode *lb)
{
    return hmap_count(&lb->pending);
}

/* Inspection. */

/* Appends to 's' the bound 'max' of a table ("none" for SIZE_MAX). */
static void
format_max(struct ds *s, size_t max)
{
    if (max == SIZE_MAX) {
        ds_put_cstr(s, "none");
    } else {
        ds_put_format(s, "%"PRIuSIZE, max);
    }
}

/* Appends to 's' the fill 'n' of the table 'name', its bound 'max' and its
 * evictions so far 'evicted'. */
static void
format_bound(struct ds *s, const char *name, size_t n, size_t max,
             uint64_t evicted)
{
    ds_put_format(s, " %s %"PRIuSIZE"/", name, n);
    format_max(s, max);
    ds_put_format(s, " (%"PRIu64" evicted)", evicted);
}

/* Appends to 's' the node, its ring and its VIPs. */
void
lbnode_format_show(const struct lbnode *lb, struct ds *s)
{
    const char *zone = flow_zone(lb, lb->self);

    ds_put_format(s, "LB node %"PRIu32, lb->self);
    if (zone[0]) {
        ds_put_format(s, ", zone %s", zone);
    }
    ds_put_char(s, '\n');
    if (lb->has_macs) {
        ds_put_format(s, "north MAC "ETH_ADDR_FMT", edge router MAC "
                      ETH_ADDR_FMT"\n", ETH_ADDR_ARGS(lb->own_mac),
                      ETH_ADDR_ARGS(lb->edge_mac));
    } else {
        ds_put_cstr(s, "edge router MAC not learnt yet\n");
    }
    ds_put_cstr(s, "ring: ");
    if (lb->ring) {
        ring_format(lb->ring, s);
    }
    ds_put_char(s, '\n');
    ds_put_format(s, "roles: ingress (%"PRIuSIZE" mappings, %"PRIuSIZE
                  " pending), flow tracker (%"PRIuSIZE" entries, "
                  "%"PRIuSIZE" in handshake), egress; lease %"PRIu32" ms\n",
                  hmap_count(&lb->mappings), hmap_count(&lb->pending),
                  hmap_count(&lb->entries), lb->n_syn_entries, lb->lease_ms);
    ds_put_cstr(s, "bounds:");
    format_bound(s, "tracker entries", hmap_count(&lb->entries),
                 lb->tracker_table_max, lb->stats.entries_evicted);
    ds_put_format(s, " (%"PRIu64" refused), handshakes %"PRIuSIZE"/",
                  lb->stats.entries_refused, lb->n_syn_entries);
    format_max(s, tracker_syn_bound(lb));
    ds_put_char(s, ';');
    format_bound(s, "mappings", hmap_count(&lb->mappings),
                 lb->mapping_table_max, lb->stats.mappings_evicted);
    ds_put_char(s, ';');
    format_bound(s, "pending flows", hmap_count(&lb->pending),
                 lb->pending_table_max, lb->stats.pending_evicted);
    ds_put_char(s, '\n');
    for (size_t i = 0; i < lb->n_vips; i++) {
        const struct lbnode_vip *v = &lb->vips[i].cfg;
        char a[INET6_ADDRSTRLEN];

        ipv6_string_mapped(a, &v->addr);
        ds_put_format(s, "VIP %s %s:%u %s algorithm=%s mss=%u wscale=%u "
                      "ttl=%u servers:", v->name, a, v->port,
                      v->enabled ? "up" : "down",
                      selection_algo_to_string(v->algorithm), v->mss,
                      v->wscale, v->ttl);
        for (size_t j = 0; j < v->n_servers; j++) {
            const struct lbnode_server *srv = server_find(lb,
                                                          v->servers[j].node);
            ds_put_format(s, " %"PRIu32"(w%"PRIu32, v->servers[j].node,
                          v->servers[j].weight);
            if (srv && srv->zone) {
                ds_put_format(s, ",zone=%s", srv->zone);
            }
            ds_put_format(s, "%s)",
                          !srv ? ",unknown" : srv->healthy ? "" : ",down");
        }
        ds_put_char(s, '\n');
    }
}

/* Appends to 's' one line per tracked flow, pending flow and mapping. */
void
lbnode_format_flows(const struct lbnode *lb, long long int now,
                    struct ds *s)
{
    const struct entry *e;
    const struct pending *p;
    const struct mapping *m;

    ds_put_format(s, "tracked flows: %"PRIuSIZE"\n",
                  hmap_count(&lb->entries));
    HMAP_FOR_EACH (e, node, &lb->entries) {
        ds_put_cstr(s, "  ");
        flow_key_format(ENTRY_CP(lb, e), s);
        ds_put_format(s, " %s %s server=%"PRIu32" ingress=%"PRIu32
                      " isn_lb=%"PRIu32"%s %s %lld ms\n",
                      e->role == CTL_ROLE_PFT ? "pft" : "sft",
                      entry_state_name(e->state), e->server, e->ingress,
                      e->isn_lb,
                      e->isn_kind == CTL_ISN_COOKIE ? " cookie" : "",
                      e->state == ENTRY_ESTABLISHED ? "lease" : "timeout",
                      entry_expires(e) - now);
    }
    ds_put_format(s, "pending flows (ingress): %"PRIuSIZE"\n",
                  hmap_count(&lb->pending));
    HMAP_FOR_EACH (p, node, &lb->pending) {
        ds_put_cstr(s, "  ");
        flow_key_format(&p->cp, s);
        ds_put_format(s, " %"PRIuSIZE" packets %"PRIuSIZE" bytes, asked %s\n",
                      p->n_packets, p->n_bytes,
                      p->stage == PENDING_ASKED_PFT ? "pft" : "sft");
    }
    ds_put_format(s, "ingress mappings: %"PRIuSIZE"\n",
                  hmap_count(&lb->mappings));
    HMAP_FOR_EACH (m, node, &lb->mappings) {
        char a[INET6_ADDRSTRLEN];

        ipv6_string_mapped(a, &m->server_addr);
        ds_put_cstr(s, "  ");
        flow_key_format(&m->cp, s);
        ds_put_format(s, " -> server %"PRIu32" (%s)%s lease %lld ms\n",
                      m->server, a,
                      m->replaced ? " replaced by a new connection" : "",
                      m->expires - now);
    }
    ds_put_format(s, "servers' load: %"PRIuSIZE"\n",
                  server_load_count(lb->load));
    server_load_format(lb->load, now, s);
}

/* Appends to 's' the counters of every role. */
void
lbnode_format_stats(const struct lbnode *lb, struct ds *s)
{
    const struct lbnode_stats *st = &lb->stats;

#define STAT(NAME) ds_put_format(s, "  %-20s %"PRIu64"\n", #NAME, st->NAME)
    ds_put_cstr(s, "ingress:\n");
    STAT(syns);
    STAT(syns_no_tracker);
    STAT(non_syns);
    STAT(not_vip);
    STAT(bad_packets);
    STAT(buffered);
    STAT(buffer_drops);
    STAT(buffer_timeouts);
    STAT(replayed);
    STAT(acks_superseded);
    STAT(mapping_recommits);
    STAT(mappings_installed);
    STAT(mappings_replaced);
    STAT(mappings_lapsed);
    STAT(mappings_evicted);
    STAT(pending_evicted);
    STAT(queries);
    STAT(unknown_flows);
    STAT(hash_unknown_to_slot);
    STAT(hash_syns_forwarded);
    STAT(publish_hash_in_place);
    STAT(hash_mappings_revalidated);
    ds_put_cstr(s, "flow tracker:\n");
    STAT(syn_infos);
    STAT(syn_retransmits);
    STAT(syn_late_duplicates);
    STAT(syn_infos_misdirected);
    STAT(syn_cookies_at_ingress);
    STAT(cookies_issued);
    STAT(cookies_valid);
    STAT(cookies_too_old);
    STAT(cookies_too_new);
    STAT(cookies_prev_key);
    STAT(cookies_cp_reused);
    STAT(synacks_sent);
    STAT(acks_valid);
    STAT(acks_invalid);
    STAT(acks_no_state);
    STAT(connects);
    STAT(conn_reqs);
    STAT(accepted);
    STAT(rejected);
    STAT(no_server);
    STAT(connect_server_down);
    STAT(connect_server_lost);
    STAT(connects_established);
    STAT(mappings_other_server);
    STAT(rsts_sent);
    STAT(table_full);
    STAT(entries_evicted);
    STAT(entries_refused);
    STAT(entries_expired);
    STAT(trackers_sent);
    STAT(trackers_unchanged);
    STAT(trackers_received);
    STAT(cp_conflicts);
    STAT(cp_conflicts_other);
    STAT(msgs_ignored);
    ds_put_cstr(s, "servers' load:\n");
    STAT(load_msgs);
    STAT(load_entries);
    STAT(load_rejected);
    ds_put_cstr(s, "timers:\n");
    STAT(timer_visits);
    ds_put_cstr(s, "connection publishing:\n");
    STAT(publish_msgs);
    STAT(publish_fwd_msgs);
    STAT(publish_rejected);
    STAT(publish_entries);
    STAT(publish_invalid);
    STAT(publish_consumed);
    STAT(publish_forwarded);
    STAT(publish_fwd_sent);
    STAT(publish_misdirected);
    STAT(publish_handshake);
    STAT(publish_handshake_cut);
    STAT(leases_renewed);
    STAT(leases_lapsed);
    STAT(entries_restored);
    STAT(mappings_restored);
    STAT(publish_conflicts);
#undef STAT
    for (int r = 0; r < CTL_REJECT_N_REASONS; r++) {
        if (st->rejected_by_reason[r]) {
            ds_put_format(s, "  rejected (%s) %"PRIu64"\n",
                          ctl_reject_reason_to_string(r),
                          st->rejected_by_reason[r]);
        }
    }
}

#define LBNODE_COUNTER(MEMBER, NAME, HELP) \
    METRICS_COUNTER_FIELD(struct lbnode_stats, MEMBER, NAME, HELP)
static const struct metrics_counter lbnode_counters[] = {
    LBNODE_COUNTER(syns, "syns", "Client SYNs seen in packet-ins (ingress)."),
    LBNODE_COUNTER(syns_no_tracker, "syns_no_tracker",
                   "Client SYNs dropped because no LB node was healthy to "
                   "track them (ingress)."),
    LBNODE_COUNTER(non_syns, "non_syns",
                   "Other client packets seen in packet-ins (ingress)."),
    LBNODE_COUNTER(not_vip, "not_vip", "Packet-ins that were not for a VIP."),
    LBNODE_COUNTER(bad_packets, "bad_packets",
                   "Packet-ins that did not parse."),
    LBNODE_COUNTER(buffered, "buffered",
                   "Packets buffered while their flow's mapping was "
                   "awaited."),
    LBNODE_COUNTER(buffer_drops, "buffer_drops",
                   "Buffered packets dropped: buffer full, or their pending "
                   "flow evicted."),
    LBNODE_COUNTER(buffer_timeouts, "buffer_timeouts",
                   "Pending flows given up."),
    LBNODE_COUNTER(replayed, "replayed", "Buffered packets sent on."),
    LBNODE_COUNTER(acks_superseded, "acks_superseded",
                   "Buffered bare ACKs not sent on: a later buffered packet "
                   "acknowledges as much."),
    LBNODE_COUNTER(mapping_recommits, "mapping_recommits",
                   "Packets of a mapped flow that the switch did not "
                   "forward: sent on, mapping given again."),
    LBNODE_COUNTER(mappings_installed, "mappings_installed",
                   "Ingress mappings installed."),
    LBNODE_COUNTER(mappings_replaced, "mappings_replaced",
                   "Stale mappings of a reused client/public pair removed."),
    LBNODE_COUNTER(mappings_lapsed, "mappings_lapsed",
                   "Ingress mappings removed: lease lapsed."),
    LBNODE_COUNTER(mappings_evicted, "mappings_evicted",
                   "Ingress mappings removed to make room: the table was at "
                   "its bound."),
    LBNODE_COUNTER(pending_evicted, "pending_evicted",
                   "Pending flows dropped to make room: the table was at "
                   "its bound."),
    LBNODE_COUNTER(queries, "queries", "MAPPING_QUERY messages sent."),
    LBNODE_COUNTER(unknown_flows, "unknown_flows",
                   "Flows that both trackers answered UNKNOWN."),
    LBNODE_COUNTER(hash_unknown_to_slot, "hash_unknown_to_slot",
                   "Flows of hash VIPs' pinned slots that no tracker knew, "
                   "sent to their slot's server."),
    LBNODE_COUNTER(publish_hash_in_place, "publish_hash_in_place",
                   "Published connections of hash VIPs on the server of "
                   "their slot, for which no state is kept."),
    LBNODE_COUNTER(hash_mappings_revalidated, "hash_mappings_revalidated",
                   "Mappings of hash VIPs whose lease ran out, their PFT "
                   "asked again."),
    LBNODE_COUNTER(hash_syns_forwarded, "hash_syns_forwarded",
                   "SYNs of hash VIPs that reached the controller, sent to "
                   "their slot's server."),
    LBNODE_COUNTER(syn_infos, "syn_infos",
                   "SYN_INFO handled as primary flow tracker."),
    LBNODE_COUNTER(syn_retransmits, "syn_retransmits",
                   "SYN_INFO of repeated SYNs."),
    LBNODE_COUNTER(syn_late_duplicates, "syn_late_duplicates",
                   "SYN_INFO repeating the SYN of a handshake already "
                   "answered by the client's ACK: ignored."),
    LBNODE_COUNTER(syn_infos_misdirected, "syn_infos_misdirected",
                   "SYN_INFO for which our ring has another primary: handed "
                   "over."),
    LBNODE_COUNTER(syn_cookies_at_ingress, "syn_cookies_at_ingress",
                   "SYNs that their ingress answered with a cookie itself, "
                   "the tier being flooded."),
    LBNODE_COUNTER(cookies_issued, "cookies_issued", "SYN cookies issued."),
    LBNODE_COUNTER(cookies_valid, "cookies_valid",
                   "Valid SYN cookies received."),
    LBNODE_COUNTER(cookies_too_old, "cookies_too_old",
                   "ACKs whose cookie was made before the accepted slots."),
    LBNODE_COUNTER(cookies_too_new, "cookies_too_new",
                   "ACKs whose cookie was made after the accepted slots "
                   "(clock skew)."),
    LBNODE_COUNTER(cookies_prev_key, "cookies_prev_key",
                   "Valid cookies made with the previous cluster key."),
    LBNODE_COUNTER(cookies_cp_reused, "cookies_cp_reused",
                   "Valid cookies of a new connection on the client port of "
                   "an older one still tracked: the old entry forgotten."),
    LBNODE_COUNTER(synacks_sent, "synacks_sent", "SYN/ACKs sent to clients."),
    LBNODE_COUNTER(acks_valid, "acks_valid",
                   "Handshake ACKs with the right acknowledgement number."),
    LBNODE_COUNTER(acks_invalid, "acks_invalid",
                   "Handshake ACKs with a wrong acknowledgement number: "
                   "dropped."),
    LBNODE_COUNTER(acks_no_state, "acks_no_state",
                   "ACKs with no entry and no valid cookie: UNKNOWN."),
    LBNODE_COUNTER(connects, "connects",
                   "CONNECT messages sent as primary flow tracker."),
    LBNODE_COUNTER(conn_reqs, "conn_reqs",
                   "CONN_REQ messages sent to agents as secondary flow "
                   "tracker."),
    LBNODE_COUNTER(accepted, "connections_accepted",
                   "Connections accepted by a server (ACCEPTED received)."),
    LBNODE_COUNTER(rejected, "connections_rejected",
                   "Connection requests rejected by a server (REJECTED "
                   "received)."),
    LBNODE_COUNTER(no_server, "no_server",
                   "Final decisions without a server."),
    LBNODE_COUNTER(connect_server_down, "connect_server_down",
                   "Chosen servers that went down before answering: another "
                   "chosen."),
    LBNODE_COUNTER(connect_server_lost, "connect_server_lost",
                   "Handshakes whose chosen server went down after it had "
                   "published the connection: no other server chosen, no "
                   "more retries."),
    LBNODE_COUNTER(connects_established, "connects_established",
                   "CONNECTs (PFT retries) for a handshake already "
                   "established: its MAPPING sent to the PFT, its server "
                   "not asked again, no second server."),
    LBNODE_COUNTER(mappings_other_server, "mappings_other_server",
                   "MAPPINGs naming another server than the PFT's choice, "
                   "where an earlier choice accepted: taken."),
    LBNODE_COUNTER(rsts_sent, "rsts_sent", "RSTs sent to clients."),
    LBNODE_COUNTER(table_full, "table_full",
                   "SYNs dropped: tracker table full."),
    LBNODE_COUNTER(entries_evicted, "entries_evicted",
                   "Established tracker entries forgotten to make room: the "
                   "table was at its bound."),
    LBNODE_COUNTER(entries_refused, "entries_refused",
                   "Tracker entries not made: the table was full of "
                   "handshakes."),
    LBNODE_COUNTER(entries_expired, "entries_expired",
                   "Tracker entries expired."),
    LBNODE_COUNTER(trackers_sent, "trackers_sent",
                   "TRACKER_SYNC messages sent after ring changes."),
    LBNODE_COUNTER(trackers_unchanged, "trackers_unchanged",
                   "Entries a ring change left with the same trackers, "
                   "not handed over."),
    LBNODE_COUNTER(trackers_received, "trackers_received",
                   "TRACKER_SYNC messages received."),
    LBNODE_COUNTER(cp_conflicts, "cp_conflicts",
                   "TRACKER_SYNC of another connection on an entry's "
                   "client/public pair."),
    LBNODE_COUNTER(cp_conflicts_other, "cp_conflicts_other",
                   "...that the client's ACK then showed to be its "
                   "connection."),
    LBNODE_COUNTER(msgs_ignored, "messages_ignored",
                   "Messages for flows this node does not hold."),
    LBNODE_COUNTER(load_msgs, "load_messages",
                   "LOAD messages received from agents."),
    LBNODE_COUNTER(load_entries, "load_entries",
                   "Servers' VIP port loads recorded."),
    LBNODE_COUNTER(load_rejected, "load_rejected",
                   "Load entries refused: not a configured server of "
                   "that VIP port."),
    LBNODE_COUNTER(timer_visits, "timer_visits",
                   "Timers found due: their work per pass."),
    LBNODE_COUNTER(publish_msgs, "publish_messages",
                   "PUBLISH messages received from agents."),
    LBNODE_COUNTER(publish_fwd_msgs, "publish_fwd_messages",
                   "PUBLISH_FWD messages received from LB nodes."),
    LBNODE_COUNTER(publish_rejected, "publish_rejected",
                   "Publications refused: sender not who it claims."),
    LBNODE_COUNTER(publish_entries, "publish_entries",
                   "Published connection entries received."),
    LBNODE_COUNTER(publish_invalid, "publish_invalid",
                   "Published entries for no VIP: dropped."),
    LBNODE_COUNTER(publish_consumed, "publish_consumed",
                   "Published entries for which this node is ingress or "
                   "tracker."),
    LBNODE_COUNTER(publish_forwarded, "publish_forwarded",
                   "Published entry copies sent on in PUBLISH_FWD."),
    LBNODE_COUNTER(publish_fwd_sent, "publish_fwd_sent",
                   "PUBLISH_FWD messages sent."),
    LBNODE_COUNTER(publish_misdirected, "publish_misdirected",
                   "PUBLISH_FWD entries not for this node."),
    LBNODE_COUNTER(publish_handshake, "publish_handshake",
                   "Published entries for flows still in handshake."),
    LBNODE_COUNTER(publish_handshake_cut, "publish_handshake_cut",
                   "Published entries whose handshake, still waiting for "
                   "the client's ACK, was cut to a lease."),
    LBNODE_COUNTER(leases_renewed, "leases_renewed",
                   "Entries and mappings whose lease a publication "
                   "extended."),
    LBNODE_COUNTER(leases_lapsed, "leases_lapsed",
                   "Established entries and mappings forgotten: no "
                   "publication in time."),
    LBNODE_COUNTER(entries_restored, "entries_restored",
                   "Tracker entries rebuilt from publications."),
    LBNODE_COUNTER(mappings_restored, "mappings_restored",
                   "Ingress mappings installed or moved from publications."),
    LBNODE_COUNTER(publish_conflicts, "publish_conflicts",
                   "Published entries from another server than the flow's: "
                   "ignored."),
};

/* Adds to 'm' the counters of 'lb' (ovslb/stats), its table sizes and
 * bounds and, per VIP ("vip"), whether it is up and its servers (those of
 * ovslb/show). */
void
lbnode_put_metrics(const struct lbnode *lb, struct metrics *m)
{
    const struct lbnode_stats *st = &lb->stats;
    struct metrics_family *f;

    metrics_put_counters(m, "ovslb_lb_", lbnode_counters,
                         ARRAY_SIZE(lbnode_counters), st, NULL);
    f = metrics_family(m, "ovslb_lb_rejected_by_reason_total",
                       METRICS_COUNTER,
                       "Connection requests rejected by a server, by "
                       "reason.");
    for (int r = 0; r < CTL_REJECT_N_REASONS; r++) {
        metrics_add(f, st->rejected_by_reason[r],
                    "reason", ctl_reject_reason_to_string(r), NULL);
    }

    const struct metrics_gauge gauges[] = {
        { "ring_nodes", "LB nodes on the flow-tracker ring (healthy set).",
          lbnode_n_healthy(lb) },
        { "tracker_entries", "Flow tracker entries.",
          hmap_count(&lb->entries) },
        { "tracker_handshakes", "Flow tracker entries in handshake.",
          lb->n_syn_entries },
        { "mappings", "Ingress mappings.", hmap_count(&lb->mappings) },
        { "pending_flows", "Ingress flows awaiting their mapping.",
          hmap_count(&lb->pending) },
        { "tracker_entries_max", "Bound of the flow tracker table (0: none).",
          lb->tracker_table_max },
        { "tracker_handshakes_max",
          "Bound of the handshakes in the flow tracker table.",
          tracker_syn_bound(lb) },
        { "mappings_max", "Bound of the ingress mappings (0: none).",
          lb->mapping_table_max },
        { "pending_flows_max", "Bound of the ingress pending flows (0: none).",
          lb->pending_table_max },
        { "lease_seconds", "Lease of an established entry and of a mapping.",
          lb->lease_ms / 1000.0 },
    };
    metrics_put_gauges(m, "ovslb_lb_", gauges, ARRAY_SIZE(gauges), NULL);

    struct metrics_family *up, *servers, *healthy;
    up = metrics_family(m, "ovslb_lb_vip_up", METRICS_GAUGE,
                        "1 if the VIP is enabled.");
    servers = metrics_family(m, "ovslb_lb_vip_servers", METRICS_GAUGE,
                             "Servers of the VIP.");
    healthy = metrics_family(m, "ovslb_lb_vip_healthy_servers",
                             METRICS_GAUGE,
                             "Servers of the VIP that are healthy.");
    for (size_t i = 0; i < lb->n_vips; i++) {
        const struct lbnode_vip *v = &lb->vips[i].cfg;
        size_t n_healthy = 0;

        for (size_t j = 0; j < v->n_servers; j++) {
            const struct lbnode_server *srv = server_find(lb,
                                                          v->servers[j].node);
            n_healthy += srv && srv->healthy;
        }
        metrics_add(up, v->enabled, "vip", v->name, NULL);
        metrics_add(servers, v->n_servers, "vip", v->name, NULL);
        metrics_add(healthy, n_healthy, "vip", v->name, NULL);
    }
}
