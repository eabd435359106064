#include <config.h>
#include "lbnode.h"
#include "lbnode-private.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "coverage.h"
#include "deadline-queue.h"
#include "dp-packet.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "ring.h"
#include "selection.h"
#include "syn-cookie.h"
#include "tcp-seg.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(lbnode);

COVERAGE_DEFINE(lbnode_ack_invalid);

/* How long a tracker keeps a flow still in the handshake. */
#define HANDSHAKE_TIMEOUT_MS 30000

/* Lapsed leases are swept lazily: at most once per this period. */
#define LEASE_SWEEP_MS 250

/* Window field of the SYN/ACK (never scaled in a SYN segment). */
#define SYNACK_WINDOW 65535

/* What the journal holds for an established tracker entry and for an
 * ingress mapping.  The store is this node's own file, so host byte order;
 * the version and the length reject anything else. */
#define RECORD_VERSION 1
struct entry_record {
    uint8_t version;
    uint8_t role;               /* enum ctl_tracker_role. */
    uint8_t isn_kind;           /* enum ctl_isn_kind. */
    uint8_t ttl;
    uint32_t client_isn, isn_lb, ts_lb, server, ingress;
    struct ctl_tcp_opts opts;
};

struct mapping_record {
    uint8_t version;
    uint8_t pad[3];
    uint32_t server;
    struct in6_addr server_addr;
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
    hmap_init(&lb->pending);
    hmap_init(&lb->mappings);
    deadline_queue_init(&lb->handshakes);
    deadline_queue_init(&lb->entry_leases);
    deadline_queue_init(&lb->connect_retries);
    deadline_queue_init(&lb->pending_expiry);
    deadline_queue_init(&lb->query_retries);
    deadline_queue_init(&lb->mapping_leases);
    syn_cookie_thresholds_init(&lb->cookie_thresholds);
    return lb;
}

static void
free_vips(struct lbnode *lb)
{
    for (size_t i = 0; i < lb->n_vips; i++) {
        free(lb->vips[i].cfg.name);
        free(lb->vips[i].cfg.servers);
        selection_destroy(lb->vips[i].sel);
    }
    free(lb->vips);
    lb->vips = NULL;
    lb->n_vips = 0;
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
        free(e->other);
        free(e);
    }
    hmap_destroy(&lb->entries);

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

    ring_destroy(lb->ring);
    syn_cookie_key_destroy(lb->cookie_key);
    free(lb->lbs);
    free(lb->servers);
    free_vips(lb);
    free(lb);
}

/* (Re)configures 'lb' from 'cfg'.  Tracker entries, pending flows and
 * mappings are kept. */
void
lbnode_configure(struct lbnode *lb, const struct lbnode_config *cfg)
{
    uint32_t *healthy;
    size_t n_healthy = 0;

    lb->self = cfg->self;
    lb->isn_key = flow_key_siphash(cfg->secret, cfg->secret_len,
                                   UINT64_C(0x69736e2d6b657931),
                                   UINT64_C(0x6f76736c622d6973));

    syn_cookie_key_destroy(lb->cookie_key);
    lb->cookie_key = (cfg->secret_len >= SYN_COOKIE_MIN_KEY_LEN
                      ? syn_cookie_key_create(cfg->secret,
                                              MIN(cfg->secret_len,
                                                  SYN_COOKIE_MAX_KEY_LEN))
                      : NULL);
    lb->cookie_thresholds.table_pct = cfg->syn_cookie_pct;
    lb->cookie_thresholds.syn_rate = cfg->syn_cookie_rate;

    free(lb->lbs);
    lb->lbs = xmemdup(cfg->lbs, cfg->n_lbs * sizeof *cfg->lbs);
    lb->n_lbs = cfg->n_lbs;
    free(lb->servers);
    lb->servers = xmemdup(cfg->servers, cfg->n_servers * sizeof *cfg->servers);
    lb->n_servers = cfg->n_servers;

    free_vips(lb);
    lb->vips = xcalloc(cfg->n_vips ? cfg->n_vips : 1, sizeof *lb->vips);
    for (size_t i = 0; i < cfg->n_vips; i++) {
        struct vip *v = &lb->vips[lb->n_vips++];

        v->cfg = cfg->vips[i];
        v->cfg.name = xstrdup(cfg->vips[i].name);
        v->cfg.servers = xmemdup(cfg->vips[i].servers,
                                 cfg->vips[i].n_servers
                                 * sizeof *cfg->vips[i].servers);
        v->sel = selection_create(cfg->vips[i].algorithm,
                                  cfg->ring_key ^ (cfg->self * 0x9e37ULL)
                                  ^ i);
    }

    healthy = xcalloc(cfg->n_lbs ? cfg->n_lbs : 1, sizeof *healthy);
    for (size_t i = 0; i < cfg->n_lbs; i++) {
        if (cfg->lbs[i].healthy) {
            healthy[n_healthy++] = cfg->lbs[i].node;
        }
    }
    ring_destroy(lb->ring);
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

/* Journal. */

/* Registers 'journal' (with 'aux') as where 'lb' records the state that must
 * survive a restart of the daemon: established tracker entries and ingress
 * mappings. */
void
lbnode_set_journal(struct lbnode *lb, lbnode_journal_func *journal, void *aux)
{
    lb->journal = journal;
    lb->journal_aux = aux;
}

static void
journal_entry(struct lbnode *lb, struct entry *e, long long int now)
{
    e->journalled = e->expires;
    if (lb->journal) {
        struct entry_record r;

        memset(&r, 0, sizeof r);
        r.version = RECORD_VERSION;
        r.role = e->role;
        r.isn_kind = e->isn_kind;
        r.ttl = e->ttl;
        r.client_isn = e->client_isn;
        r.isn_lb = e->isn_lb;
        r.ts_lb = e->ts_lb;
        r.server = e->server;
        r.ingress = e->ingress;
        r.opts = e->opts;
        lb->journal(lb->journal_aux, LBNODE_JOURNAL_TRACKER, &e->cp, &r,
                    sizeof r, MAX(e->expires - now, 1));
    }
}

/* Tells the journal to forget the record of 'cp' in 'table'. */
void
lease_journal_forget(struct lbnode *lb, const char *table,
                     const struct flow_key *cp)
{
    if (lb->journal) {
        lb->journal(lb->journal_aux, table, cp, NULL, 0, 0);
    }
}

void
lease_journal_mapping(struct lbnode *lb, struct mapping *m, long long int now)
{
    m->journalled = m->expires;
    if (lb->journal) {
        struct mapping_record r;

        memset(&r, 0, sizeof r);
        r.version = RECORD_VERSION;
        r.server = m->server;
        r.server_addr = m->server_addr;
        lb->journal(lb->journal_aux, LBNODE_JOURNAL_MAPPING, &m->cp, &r,
                    sizeof r, MAX(m->expires - now, 1));
    }
}

/* Leases.  A lease is renewed on every publication and use, but written to
 * the journal again only once half of what it holds has passed: a restart
 * then restores at least half a lease, and the next publication renews it.
 * Lapsed leases are swept at most every LEASE_SWEEP_MS. */

/* Puts the timer of 'e' in the queue of its state: the handshake timeout,
 * or the end of the lease. */
static void
entry_schedule_expiry(struct lbnode *lb, struct entry *e)
{
    if (e->state == ENTRY_ESTABLISHED) {
        deadline_queue_set(&lb->entry_leases, &e->expiry,
                           ROUND_UP(e->expires, LEASE_SWEEP_MS));
    } else {
        deadline_queue_set(&lb->handshakes, &e->expiry, e->expires);
    }
}

/* Keeps 'e' in 'connect_retries' while it waits, as PFT, for its server's
 * answer to the CONNECT sent at 'connect_sent'; takes it out otherwise. */
static void
entry_schedule_retry(struct lbnode *lb, struct entry *e)
{
    if (e->role == CTL_ROLE_PFT && e->state == ENTRY_CONNECTING) {
        deadline_queue_set(&lb->connect_retries, &e->connect_retry,
                           e->connect_sent + CONNECT_RETRY_MS);
    } else {
        deadline_cancel(&e->connect_retry);
    }
}

void
lease_mapping_schedule_expiry(struct lbnode *lb, struct mapping *m)
{
    deadline_queue_set(&lb->mapping_leases, &m->expiry,
                       ROUND_UP(m->expires, LEASE_SWEEP_MS));
}

static bool
lease_journal_due(const struct lbnode *lb, long long int expires,
                  long long int journalled)
{
    return expires - journalled >= lb->lease_ms / 2;
}

/* Extends the lease of the established entry 'e' to a full lease from
 * 'now'. */
static void
entry_renew(struct lbnode *lb, struct entry *e, long long int now)
{
    e->expires = MAX(e->expires, now + lb->lease_ms);
    entry_schedule_expiry(lb, e);
    if (lease_journal_due(lb, e->expires, e->journalled)) {
        journal_entry(lb, e, now);
    }
}

static void
mapping_renew(struct lbnode *lb, struct mapping *m, long long int now)
{
    m->expires = MAX(m->expires, now + lb->lease_ms);
    lease_mapping_schedule_expiry(lb, m);
    if (lease_journal_due(lb, m->expires, m->journalled)) {
        lease_journal_mapping(lb, m, now);
    }
}

/* Messages. */

/* Flow tracker. */

static struct entry *
entry_create(struct lbnode *lb, const struct flow_key *cp,
             enum ctl_tracker_role role, long long int now)
{
    struct entry *e = xzalloc(sizeof *e);

    e->cp = *cp;
    e->role = role;
    e->state = ENTRY_SYN_RECEIVED;
    e->expires = now + HANDSHAKE_TIMEOUT_MS;
    entry_schedule_expiry(lb, e);
    hmap_insert(&lb->entries, &e->node, cp_hash(cp));
    lb->n_syn_entries++;
    return e;
}

static void
entry_set_state(struct lbnode *lb, struct entry *e, enum entry_state state,
                long long int now)
{
    if (e->state != ENTRY_ESTABLISHED && state == ENTRY_ESTABLISHED) {
        lb->n_syn_entries--;
        free(e->other);
        e->other = NULL;
        e->expires = now + lb->lease_ms;
        e->state = state;
        journal_entry(lb, e, now);
    } else if (e->state == ENTRY_ESTABLISHED
               && state != ENTRY_ESTABLISHED) {
        lease_journal_forget(lb, LBNODE_JOURNAL_TRACKER, &e->cp);
        lb->n_syn_entries++;
        e->expires = now + HANDSHAKE_TIMEOUT_MS;
    }
    e->state = state;
    entry_schedule_expiry(lb, e);
    entry_schedule_retry(lb, e);
}

static void
entry_destroy(struct lbnode *lb, struct entry *e)
{
    if (e->state != ENTRY_ESTABLISHED) {
        lb->n_syn_entries--;
    } else {
        lease_journal_forget(lb, LBNODE_JOURNAL_TRACKER, &e->cp);
    }
    hmap_remove(&lb->entries, &e->node);
    deadline_cancel(&e->expiry);
    deadline_cancel(&e->connect_retry);
    free(e->other);
    free(e);
}

static void
entry_add_waiter(struct entry *e, uint32_t ingress)
{
    for (size_t i = 0; i < e->n_waiters; i++) {
        if (e->waiters[i] == ingress) {
            return;
        }
    }
    if (e->n_waiters < MAX_WAITERS) {
        e->waiters[e->n_waiters++] = ingress;
    } else {
        e->waiters[MAX_WAITERS - 1] = ingress;
    }
}

static uint32_t
isn_choose(struct lbnode *lb, const struct flow_key *cp, long long int now)
{
    uint64_t h = flow_key_hash64(cp, lb->isn_key ^ ++lb->isn_counter);

    /* RFC 6528: a keyed hash of the connection plus a clock. */
    return (uint32_t) (h ^ (h >> 32)) + (uint32_t) (now * 250);
}

static void
count_syn_rate(struct lbnode *lb, long long int now)
{
    long long int second = now / 1000;

    if (second != lb->syn_second) {
        lb->syn_rate = second == lb->syn_second + 1 ? lb->syns_this_second
                                                    : 0;
        lb->syn_second = second;
        lb->syns_this_second = 0;
    }
    lb->syns_this_second++;
}

static void
send_synack(struct lbnode *lb, const struct ctl_syn_sync *ss,
            const struct lbnode_io *io, void *aux)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    const struct ctl_syn_info *si = &ss->syn;
    const struct vip *v = vip_for_cp(lb, &si->cp);
    struct tcp_seg_endpoints ep;
    struct tcp_opts client;
    struct dp_packet b;
    int error;

    if (!v || !lb->has_macs) {
        VLOG_WARN_RL(&rl, "cannot send a SYN/ACK: %s",
                     v ? "edge router's MAC not known yet" : "unknown VIP");
        return;
    }
    memset(&client, 0, sizeof client);
    client.has_mss = si->opts.has_mss;
    client.mss = si->opts.mss;
    client.has_wscale = si->opts.has_wscale;
    client.wscale = si->opts.wscale;
    client.sack_permitted = si->opts.sack_permitted;
    client.has_ts = si->opts.has_ts;
    client.tsval = si->opts.tsval;

    tcp_seg_endpoints_from_key(&ep, &si->cp, FLOW_KEY_FROM_VIP, lb->own_mac,
                               lb->edge_mac);
    dp_packet_init(&b, 128);
    error = tcp_seg_build_synack(&b, &ep, &client, ss->isn_lb,
                                 si->client_isn, SYNACK_WINDOW, v->cfg.mss,
                                 v->cfg.wscale, ss->ts_lb, lb->ip_id++);
    if (!error) {
        io->send_north(aux, dp_packet_data(&b), dp_packet_size(&b));
        lb->stats.synacks_sent++;
    } else {
        VLOG_WARN_RL(&rl, "cannot build a SYN/ACK: %s",
                     tcp_seg_strerror(error));
    }
    dp_packet_uninit(&b);
}

static void
send_rst(struct lbnode *lb, const struct entry *e, const struct lbnode_io *io,
         void *aux)
{
    struct tcp_seg_endpoints ep;
    struct dp_packet b;
    struct tcp_seg_hdr h;

    if (!lb->has_macs) {
        return;
    }
    tcp_seg_endpoints_from_key(&ep, &e->cp, FLOW_KEY_FROM_VIP, lb->own_mac,
                               lb->edge_mac);
    memset(&h, 0, sizeof h);
    h.seq = e->isn_lb + 1;
    h.ack = e->client_isn + 1;
    h.flags = TCP_RST | TCP_ACK;
    h.ip_id = lb->ip_id++;
    dp_packet_init(&b, 128);
    if (!tcp_seg_build(&b, &ep, &h)) {
        io->send_north(aux, dp_packet_data(&b), dp_packet_size(&b));
        lb->stats.rsts_sent++;
    }
    dp_packet_uninit(&b);
}

static void
fill_syn_sync(const struct entry *e, struct ctl_syn_sync *ss)
{
    ss->syn.cp = e->cp;
    ss->syn.ingress = e->ingress;
    ss->syn.client_isn = e->client_isn;
    ss->syn.opts = e->opts;
    ss->isn_lb = e->isn_lb;
    ss->ts_lb = e->ts_lb;
    ss->isn_kind = e->isn_kind;
}

static void entry_hand_over(struct lbnode *, struct entry *,
                            const struct lbnode_io *, void *aux);
static void entry_take_sync(struct lbnode *, struct entry *,
                            const struct ctl_tracker_sync *, long long int now);

/* PFT: a client's SYN.  The ingress sent it to the PFT of its own ring; if
 * this node's ring has another PFT (the rings disagree for a moment while
 * the healthy set changes, and the ring changes that make them agree again
 * came before this entry existed, so no rebalance will move it), the entry
 * is handed to the PFT of this node's ring at once: the client's ACK goes
 * there once the ingress's ring agrees, and would find no handshake state
 * while the SFT waited forever for a CONNECT. */
static void
pft_syn_info(struct lbnode *lb, const struct ctl_syn_info *si,
             long long int now, const struct lbnode_io *io, void *aux)
{
    uint32_t pft, sft;
    struct ctl_msg msg;
    struct entry *e;

    lb->stats.syn_infos++;
    count_syn_rate(lb, now);
    if (!lbnode_trackers(lb, &si->cp, &pft, &sft) || !vip_for_cp(lb, &si->cp)) {
        lb->stats.msgs_ignored++;
        return;
    }

    msg_init(&msg, CTL_MSG_SYN_SYNC, lb->self);
    e = entry_find(lb, &si->cp);
    if (e && e->client_isn == si->client_isn
        && e->state == ENTRY_SYN_RECEIVED) {
        /* A retransmitted SYN: the same SYN/ACK again. */
        lb->stats.syn_retransmits++;
        e->ingress = si->ingress;
        if (pft != lb->self && e->role == CTL_ROLE_PFT) {
            lb->stats.syn_infos_misdirected++;
            entry_hand_over(lb, e, io, aux);
        }
        fill_syn_sync(e, &msg.syn_sync);
        lbnode_deliver(lb, sft, &msg, now, io, aux);
        return;
    }
    if (e) {
        /* A new connection reusing the CP: start over. */
        entry_destroy(lb, e);
    }

    if (lb->cookie_key
        && syn_cookie_pressure(lb->n_syn_entries, lb->syn_table_max,
                               lb->syn_rate, &lb->cookie_thresholds)) {
        struct syn_cookie_opts offered = {
            .mss = si->opts.has_mss ? si->opts.mss : 536,
            .wscale_ok = si->opts.has_wscale,
            .wscale = MIN(si->opts.wscale, CTL_TCP_MAX_WSCALE),
            .sack_ok = si->opts.sack_permitted,
            .ecn_ok = si->opts.ece && si->opts.cwr,
            .tstamp_ok = si->opts.has_ts,
        };
        struct syn_cookie_opts granted;
        uint32_t isn, tsval;

        if (!syn_cookie_make(lb->cookie_key, &si->cp, si->client_isn,
                             now / 1000, (uint32_t) now, &offered, &isn,
                             &tsval, &granted)) {
            msg.syn_sync.syn = *si;
            msg.syn_sync.syn.opts.has_wscale = granted.wscale_ok;
            msg.syn_sync.syn.opts.sack_permitted = granted.sack_ok;
            msg.syn_sync.syn.opts.has_mss = true;
            msg.syn_sync.syn.opts.mss = granted.mss;
            msg.syn_sync.isn_lb = isn;
            msg.syn_sync.ts_lb = tsval;
            msg.syn_sync.isn_kind = CTL_ISN_COOKIE;
            lb->stats.cookies_issued++;
            lbnode_deliver(lb, sft, &msg, now, io, aux);
        }
        return;
    }
    if (lb->n_syn_entries >= lb->syn_table_max) {
        lb->stats.table_full++;
        return;
    }

    e = entry_create(lb, &si->cp, CTL_ROLE_PFT, now);
    e->client_isn = si->client_isn;
    e->opts = si->opts;
    e->ingress = si->ingress;
    e->isn_lb = isn_choose(lb, &si->cp, now);
    e->ts_lb = (uint32_t) now;
    e->isn_kind = CTL_ISN_STORED;
    FLOW_DBG(&si->cp, "PFT: SYN from ingress %"PRIu32", SYN_SYNC to SFT %"
             PRIu32, si->ingress, sft);
    if (pft != lb->self) {
        lb->stats.syn_infos_misdirected++;
        entry_hand_over(lb, e, io, aux);
    }
    fill_syn_sync(e, &msg.syn_sync);
    lbnode_deliver(lb, sft, &msg, now, io, aux);
}

/* SFT: the PFT's copy of a SYN; fabricates the SYN/ACK. */
static void
sft_syn_sync(struct lbnode *lb, const struct ctl_syn_sync *ss,
             long long int now, const struct lbnode_io *io, void *aux)
{
    struct entry *e = entry_find(lb, &ss->syn.cp);

    if (ss->isn_kind == CTL_ISN_STORED) {
        if (!e) {
            e = entry_create(lb, &ss->syn.cp, CTL_ROLE_SFT, now);
        } else if (e->client_isn != ss->syn.client_isn
                   && e->state != ENTRY_SYN_RECEIVED) {
            entry_set_state(lb, e, ENTRY_SYN_RECEIVED, now);
            e->server = CTL_NODE_NONE;
            e->n_rejected = 0;
        }
        if (e->role == CTL_ROLE_SFT) {
            e->client_isn = ss->syn.client_isn;
            e->opts = ss->syn.opts;
            e->ingress = ss->syn.ingress;
            e->isn_lb = ss->isn_lb;
            e->ts_lb = ss->ts_lb;
            e->isn_kind = ss->isn_kind;
        }
    }
    send_synack(lb, ss, io, aux);
}

static const struct vip *
pick_server(struct lbnode *lb, struct entry *e, uint32_t *server)
{
    struct vip *v = vip_for_cp(lb, &e->cp);
    struct selection_server *ss;
    size_t n = 0;
    int error;

    *server = CTL_NODE_NONE;
    if (!v || !v->cfg.enabled) {
        return v;
    }
    ss = xcalloc(v->cfg.n_servers ? v->cfg.n_servers : 1, sizeof *ss);
    for (size_t i = 0; i < v->cfg.n_servers; i++) {
        const struct lbnode_server *s = server_find(lb,
                                                    v->cfg.servers[i].node);
        if (s) {
            ss[n++] = (struct selection_server) {
                .id = s->node,
                .weight = v->cfg.servers[i].weight,
                .healthy = s->healthy,
                .active_conns = 0,
                .rtt_us = UINT32_MAX,
            };
        }
    }
    error = selection_pick(v->sel, ss, n, &e->cp, e->rejected, e->n_rejected,
                           server);
    if (error) {
        *server = CTL_NODE_NONE;
    }
    free(ss);
    return v;
}

/* PFT: choose a server (again) and tell the SFT; with none left, tell the
 * SFT to reset the client. */
static void
pft_connect(struct lbnode *lb, struct entry *e, long long int now,
            const struct lbnode_io *io, void *aux)
{
    uint32_t pft, sft, server = CTL_NODE_NONE;
    struct ctl_msg msg;

    if (!lbnode_trackers(lb, &e->cp, &pft, &sft)) {
        return;
    }
    if (e->ttl > 0) {
        pick_server(lb, e, &server);
    }
    msg_init(&msg, CTL_MSG_CONNECT, lb->self);
    msg.connect = (struct ctl_connect) {
        .cp = e->cp,
        .server = server,
        .ttl = e->ttl,
        .isn_lb = e->isn_lb,
        .client_isn = e->client_isn,
        .opts = e->opts,
        .ingress = e->ingress,
        .ts_lb = e->ts_lb,
    };
    e->server = server;
    e->connect_sent = now;
    FLOW_DBG(&e->cp, "PFT: CONNECT to SFT %"PRIu32", server %"PRIu32,
             sft, server);
    entry_schedule_retry(lb, e);
    if (server == CTL_NODE_NONE) {
        lb->stats.no_server++;
    } else {
        entry_set_state(lb, e, ENTRY_CONNECTING, now);
        lb->stats.connects++;
    }
    lbnode_deliver(lb, sft, &msg, now, io, aux);
    if (server == CTL_NODE_NONE) {
        e = entry_find(lb, &msg.connect.cp);
        if (e && e->role == CTL_ROLE_PFT) {
            entry_destroy(lb, e);
        }
    }
}

static void
send_mapping(struct lbnode *lb, const struct entry *e, uint32_t dst,
             long long int now, const struct lbnode_io *io, void *aux)
{
    const struct lbnode_server *s = server_find(lb, e->server);
    struct ctl_msg msg;

    if (!s) {
        return;
    }
    msg_init(&msg, CTL_MSG_MAPPING, lb->self);
    msg.mapping.cp = e->cp;
    msg.mapping.server = e->server;
    msg.mapping.server_addr = s->underlay;
    lbnode_deliver(lb, dst, &msg, now, io, aux);
}

static void
reply_unknown(struct lbnode *lb, const struct flow_key *cp, uint32_t dst,
              long long int now, const struct lbnode_io *io, void *aux)
{
    struct ctl_msg msg;

    msg_init(&msg, CTL_MSG_UNKNOWN, lb->self);
    msg.unknown.cp = *cp;
    lbnode_deliver(lb, dst, &msg, now, io, aux);
}

/* Whether the ACK 'ai' shows that the client is on the connection that
 * 'e->other' describes rather than on that of 'e': it completes the other's
 * handshake exactly, or it does not complete ours while the other is
 * established. */
static bool
ack_picks_other(const struct entry *e, const struct ctl_ack_info *ai)
{
    const struct ctl_tracker_sync *o = e->other;
    bool completes_ours = (e->state != ENTRY_ESTABLISHED
                           && ai->ack - 1 == e->isn_lb
                           && ai->seq - 1 == e->client_isn);

    if (o->state != CTL_TRACKER_ESTABLISHED) {
        return (o->server == CTL_NODE_NONE
                && ai->ack - 1 == o->isn_lb && ai->seq - 1 == o->client_isn);
    }
    return e->state == ENTRY_SYN_RECEIVED && !completes_ours;
}

/* PFT: the client's ACK, seen by an ingress. */
static void
pft_ack_info(struct lbnode *lb, const struct ctl_ack_info *ai,
             long long int now, const struct lbnode_io *io, void *aux)
{
    struct entry *e = entry_find(lb, &ai->cp);
    struct syn_cookie_opts decoded;
    const struct vip *v = vip_for_cp(lb, &ai->cp);
    bool cookie = (v && lb->cookie_key
                   && (!e || e->from_publication)
                   && syn_cookie_check(lb->cookie_key, &ai->cp, ai->seq - 1,
                                       ai->ack - 1, now / 1000,
                                       ai->has_ts ? &ai->tsecr : NULL,
                                       &decoded));

    if (e && cookie) {
        /* A SYN-cookie handshake of a new connection that reuses the CP
         * of one whose entry only a publication rebuilt (its server keeps
         * a half-open socket and published it after the new SYN): the new
         * connection wins, or its ACK would be sent to the old server. */
        lb->stats.publish_conflicts++;
        entry_destroy(lb, e);
        e = NULL;
    }
    if (!e) {
        if (cookie) {
            /* A valid SYN cookie: the handshake state comes back. */
            lb->stats.cookies_valid++;
            e = entry_create(lb, &ai->cp, CTL_ROLE_PFT, now);
            e->client_isn = ai->seq - 1;
            e->isn_lb = ai->ack - 1;
            e->isn_kind = CTL_ISN_COOKIE;
            e->ts_lb = ai->has_ts ? ai->tsecr : 0;
            e->opts = (struct ctl_tcp_opts) {
                .has_mss = true,
                .mss = decoded.mss,
                .has_wscale = decoded.wscale_ok,
                .wscale = decoded.wscale,
                .sack_permitted = decoded.sack_ok,
                .has_ts = decoded.tstamp_ok,
                .tsval = ai->tsval,
                .ece = decoded.ecn_ok,
                .cwr = decoded.ecn_ok,
            };
            e->ingress = ai->ingress;
            e->ttl = v->cfg.ttl;
            entry_add_waiter(e, ai->ingress);
            lb->stats.acks_valid++;
            pft_connect(lb, e, now, io, aux);
            return;
        }
        lb->stats.acks_no_state++;
        FLOW_DBG(&ai->cp, "PFT: ACK_INFO from ingress %"PRIu32" for no "
                 "entry: UNKNOWN", ai->ingress);
        reply_unknown(lb, &ai->cp, ai->ingress, now, io, aux);
        return;
    }

    if (e->other && ack_picks_other(e, ai)) {
        /* The client is on the other connection of the CP. */
        struct ctl_tracker_sync *other = e->other;

        FLOW_DBG(&ai->cp, "ACK_INFO: the client is on the other connection "
                 "of the CP (client ISN %"PRIu32")", other->client_isn);
        e->other = NULL;
        entry_take_sync(lb, e, other, now);
        free(other);
        lb->stats.cp_conflicts_other++;
    }
    e->ingress = ai->ingress;
    FLOW_DBG(&ai->cp, "%s: ACK_INFO from ingress %"PRIu32" in state %s",
             e->role == CTL_ROLE_PFT ? "PFT" : "SFT", ai->ingress,
             entry_state_name(e->state));
    switch (e->state) {
    case ENTRY_SYN_RECEIVED:
        if (ai->ack - 1 != e->isn_lb || e->role != CTL_ROLE_PFT) {
            /* Wrong ack number (or we are only the SFT): drop silently. */
            lb->stats.acks_invalid++;
            COVERAGE_INC(lbnode_ack_invalid);
            return;
        }
        lb->stats.acks_valid++;
        entry_add_waiter(e, ai->ingress);
        e->ttl = vip_for_cp(lb, &e->cp) ? vip_for_cp(lb, &e->cp)->cfg.ttl : 1;
        pft_connect(lb, e, now, io, aux);
        break;

    case ENTRY_CONNECTING:
        entry_add_waiter(e, ai->ingress);
        break;

    case ENTRY_ESTABLISHED:
        entry_renew(lb, e, now);
        send_mapping(lb, e, ai->ingress, now, io, aux);
        break;
    }
}

/* SFT: the PFT chose a server (or decided that there is none). */
static void
sft_connect(struct lbnode *lb, const struct ctl_connect *c, long long int now,
            const struct lbnode_io *io, void *aux)
{
    const struct lbnode_server *s;
    const struct vip *v = vip_for_cp(lb, &c->cp);
    struct ctl_msg msg;
    struct entry *e;

    e = entry_find(lb, &c->cp);
    if (!e) {
        e = entry_create(lb, &c->cp, CTL_ROLE_SFT, now);
    }
    if (e->role == CTL_ROLE_SFT) {
        e->client_isn = c->client_isn;
        e->isn_lb = c->isn_lb;
        e->opts = c->opts;
        e->ingress = c->ingress;
        e->ts_lb = c->ts_lb;
        e->ttl = c->ttl;
    }
    if (c->server == CTL_NODE_NONE) {
        /* Final: no server takes the connection. */
        send_rst(lb, e, io, aux);
        if (e->role == CTL_ROLE_SFT) {
            entry_destroy(lb, e);
        }
        return;
    }

    s = server_find(lb, c->server);
    if (!s || !v) {
        lb->stats.msgs_ignored++;
        return;
    }
    e->server = c->server;
    if (e->state != ENTRY_ESTABLISHED) {
        entry_set_state(lb, e, ENTRY_CONNECTING, now);
    }
    msg_init(&msg, CTL_MSG_CONN_REQ, lb->self);
    msg.conn_req = (struct ctl_conn_req) {
        .cp = c->cp,
        .server = c->server,
        .ttl = c->ttl,
        .client_isn = c->client_isn,
        .isn_lb = c->isn_lb,
        .opts = c->opts,
        .ingress = c->ingress,
        .lb_tsval = c->ts_lb,
        .lb_wscale = (c->opts.has_wscale
                      ? MIN(v->cfg.wscale, CTL_TCP_MAX_WSCALE) : 0),
        .lb_mss = (c->opts.has_mss ? MIN(c->opts.mss, v->cfg.mss)
                   : MIN(536, v->cfg.mss)),
    };
    if (!c->opts.has_ts) {
        msg.conn_req.lb_tsval = 0;
    }
    lb->stats.conn_reqs++;
    lbnode_deliver(lb, c->server, &msg, now, io, aux);
}

/* SFT: the agent accepted. */
static void
sft_accepted(struct lbnode *lb, const struct ctl_accepted *a,
             long long int now, const struct lbnode_io *io, void *aux)
{
    struct entry *e = entry_find(lb, &a->cp);
    uint32_t pft, sft;

    if (!e || e->server != a->server) {
        lb->stats.msgs_ignored++;
        return;
    }
    lb->stats.accepted++;
    entry_set_state(lb, e, ENTRY_ESTABLISHED, now);
    if (lbnode_trackers(lb, &e->cp, &pft, &sft)) {
        send_mapping(lb, e, pft, now, io, aux);
    }
}

/* SFT: the agent refused. */
static void
sft_rejected(struct lbnode *lb, const struct ctl_rejected *r,
             long long int now, const struct lbnode_io *io, void *aux)
{
    struct entry *e = entry_find(lb, &r->cp);
    uint32_t pft, sft;
    struct ctl_msg msg;

    lb->stats.rejected++;
    if (r->reason < CTL_REJECT_N_REASONS) {
        lb->stats.rejected_by_reason[r->reason]++;
    }
    if (!e || e->server != r->server || e->state == ENTRY_ESTABLISHED) {
        lb->stats.msgs_ignored++;
        return;
    }
    e->server = CTL_NODE_NONE;
    if (!lbnode_trackers(lb, &e->cp, &pft, &sft)) {
        return;
    }
    msg_init(&msg, CTL_MSG_RELEASE, lb->self);
    msg.release.cp = r->cp;
    msg.release.server = r->server;
    msg.release.ttl = r->ttl;
    lbnode_deliver(lb, pft, &msg, now, io, aux);
}

/* PFT: the chosen server refused; choose another. */
/* PFT: the server chosen for 'e' will not take it (it refused, or it went
 * down before it answered): remember it and choose another. */
static void
pft_choose_again(struct lbnode *lb, struct entry *e, long long int now,
                 const struct lbnode_io *io, void *aux)
{
    if (e->n_rejected < CTL_TRACKER_MAX_REJECTED) {
        e->rejected[e->n_rejected++] = e->server;
    }
    pft_connect(lb, e, now, io, aux);
}

static void
pft_release(struct lbnode *lb, const struct ctl_release *r,
            long long int now, const struct lbnode_io *io, void *aux)
{
    struct entry *e = entry_find(lb, &r->cp);

    if (!e || e->role != CTL_ROLE_PFT || e->state != ENTRY_CONNECTING
        || e->server != r->server) {
        lb->stats.msgs_ignored++;
        return;
    }
    e->ttl = r->ttl;
    pft_choose_again(lb, e, now, io, aux);
}

/* MAPPING: at the PFT (from the SFT) and at the ingress (from the PFT). */
static void
handle_mapping(struct lbnode *lb, const struct ctl_msg *msg,
               long long int now, const struct lbnode_io *io, void *aux)
{
    const struct ctl_mapping *map = &msg->mapping;
    struct entry *e = entry_find(lb, &map->cp);
    bool used = false;

    if (e && e->role == CTL_ROLE_PFT && e->state != ENTRY_ESTABLISHED
        && e->server == map->server) {
        entry_set_state(lb, e, ENTRY_ESTABLISHED, now);
        for (size_t i = 0; i < e->n_waiters; i++) {
            if (e->waiters[i] != lb->self) {
                send_mapping(lb, e, e->waiters[i], now, io, aux);
            }
        }
        bool self_waits = false;
        for (size_t i = 0; i < e->n_waiters; i++) {
            self_waits |= e->waiters[i] == lb->self;
        }
        e->n_waiters = 0;
        used = true;
        if (!self_waits && !pending_find(lb, &map->cp)) {
            return;
        }
    }
    if (pending_find(lb, &map->cp) || !used) {
        ingress_mapping(lb, map, now, io, aux);
    }
}

/* MAPPING_QUERY: at a tracker. */
static void
tracker_query(struct lbnode *lb, const struct ctl_mapping_query *q,
              long long int now, const struct lbnode_io *io, void *aux)
{
    struct entry *e = entry_find(lb, &q->cp);

    FLOW_DBG(&q->cp, "tracker: MAPPING_QUERY from ingress %"PRIu32": %s",
             q->ingress, !e ? "no entry, UNKNOWN"
             : e->state == ENTRY_ESTABLISHED ? "MAPPING"
             : "waiting for the server");
    if (e && e->state == ENTRY_ESTABLISHED) {
        entry_renew(lb, e, now);
        send_mapping(lb, e, q->ingress, now, io, aux);
    } else if (e) {
        entry_add_waiter(e, q->ingress);
    } else {
        reply_unknown(lb, &q->cp, q->ingress, now, io, aux);
    }
}

/* The state of the entry that TRACKER_SYNC 'ts' describes. */
static enum entry_state
tracker_sync_state(const struct ctl_tracker_sync *ts)
{
    if (ts->state == CTL_TRACKER_ESTABLISHED) {
        return ENTRY_ESTABLISHED;
    } else if (ts->server != CTL_NODE_NONE) {
        /* A server was chosen and has not answered yet: wait for it (the
         * retry repeats the same CONNECT, which the agent answers
         * idempotently). */
        return ENTRY_CONNECTING;
    } else {
        return ENTRY_SYN_RECEIVED;
    }
}

/* TRACKER_SYNC: the holder of a flow's tracker state under the old ring
 * hands it to us, its PFT or SFT under the new one (PROTOCOL.md §7). */
static void
tracker_sync(struct lbnode *lb, const struct ctl_tracker_sync *ts,
             uint32_t sender, long long int now)
{
    struct entry *e = entry_find(lb, &ts->cp);
    enum entry_state state = tracker_sync_state(ts);

    FLOW_DBG(&ts->cp, "TRACKER_SYNC from node %"PRIu32": role %s, %s%s",
             sender, ts->role == CTL_ROLE_PFT ? "PFT" : "SFT",
             entry_state_name(state), e ? " (have an entry)" : "");
    if (e && e->client_isn != ts->client_isn
        && !(e->state == ENTRY_ESTABLISHED && state == ENTRY_ESTABLISHED)) {
        /* Another connection on the same CP: keep ours and remember theirs
         * until the client's ACK tells which one it is on. */
        FLOW_DBG(&ts->cp, "another connection on the CP (client ISN %"PRIu32
                 ", ours %"PRIu32"): kept until the client's ACK decides",
                 ts->client_isn, e->client_isn);
        free(e->other);
        e->other = xmemdup(ts, sizeof *ts);
        lb->stats.cp_conflicts++;
        return;
    }
    if (e && (e->state == ENTRY_ESTABLISHED || e->state == state)) {
        /* Ours is as good: just take the role. */
        e->role = ts->role;
        entry_schedule_retry(lb, e);
        if (e->state == ENTRY_ESTABLISHED) {
            entry_renew(lb, e, now);
        }
        return;
    }
    if (!e) {
        if (state != ENTRY_ESTABLISHED
            && lb->n_syn_entries >= lb->syn_table_max) {
            lb->stats.table_full++;
            return;
        }
        e = entry_create(lb, &ts->cp, ts->role, now);
    }
    entry_take_sync(lb, e, ts, now);
    lb->stats.trackers_received++;
}

/* Makes 'e' the flow state that 'ts' describes. */
static void
entry_take_sync(struct lbnode *lb, struct entry *e,
                const struct ctl_tracker_sync *ts, long long int now)
{
    enum entry_state state = tracker_sync_state(ts);

    e->role = ts->role;
    e->isn_lb = ts->isn_lb;
    e->client_isn = ts->client_isn;
    e->opts = ts->opts;
    e->ts_lb = ts->ts_lb;
    e->server = ts->server;
    e->ingress = ts->ingress;
    e->ttl = ts->ttl;
    e->isn_kind = ts->isn_kind;
    e->n_rejected = MIN(ts->n_rejected, CTL_TRACKER_MAX_REJECTED);
    memcpy(e->rejected, ts->rejected, e->n_rejected * sizeof *e->rejected);
    if (state == ENTRY_CONNECTING) {
        e->connect_sent = now;
        if (ts->ingress != CTL_NODE_NONE) {
            entry_add_waiter(e, ts->ingress);
        }
    }
    e->from_publication = false;
    entry_set_state(lb, e, state, now);
}

/* Hands the flow of 'e' to its PFT and SFT under this node's ring
 * (TRACKER_SYNC to each of them that is not this node) and takes the role
 * the ring gives this node, if any (PROTOCOL.md §7). */
static void
entry_hand_over(struct lbnode *lb, struct entry *e,
                const struct lbnode_io *io, void *aux)
{
    uint32_t pft, sft;

    if (!lbnode_trackers(lb, &e->cp, &pft, &sft)) {
        return;
    }
    for (int i = 0; i < 2; i++) {
        uint32_t dst = i == 0 ? pft : sft;
        enum ctl_tracker_role role = i == 0 ? CTL_ROLE_PFT : CTL_ROLE_SFT;
        struct ctl_msg msg;

        if (i == 1 && sft == pft) {
            break;
        }
        if (dst == lb->self) {
            e->role = role;
            continue;
        }
        msg_init(&msg, CTL_MSG_TRACKER_SYNC, lb->self);
        msg.tracker_sync = (struct ctl_tracker_sync) {
            .cp = e->cp,
            .state = (e->state == ENTRY_ESTABLISHED
                      ? CTL_TRACKER_ESTABLISHED
                      : CTL_TRACKER_SYN_RECEIVED),
            .role = role, .isn_lb = e->isn_lb,
            .client_isn = e->client_isn, .opts = e->opts,
            .ts_lb = e->ts_lb, .server = e->server,
            .ingress = e->ingress, .ttl = e->ttl,
            .isn_kind = e->isn_kind, .n_rejected = e->n_rejected,
        };
        memcpy(msg.tracker_sync.rejected, e->rejected,
               e->n_rejected * sizeof *e->rejected);
        FLOW_DBG(&e->cp, "TRACKER_SYNC to node %"PRIu32" as %s, %s",
                 dst, i == 0 ? "PFT" : "SFT", entry_state_name(e->state));
        io->send(aux, dst, &msg);
        lb->stats.trackers_sent++;
    }
    entry_schedule_retry(lb, e);
}

/* After a change of the ring (lbnode_configure() with another healthy set),
 * hands every flow this node tracks, established or still in the handshake,
 * to its trackers under the new ring (TRACKER_SYNC), and takes the role the
 * new ring gives this node, so that a handshake in progress completes with
 * the new PFT.
 * Does nothing if the ring did not change since the last call. */
void
lbnode_rebalance(struct lbnode *lb, long long int now OVS_UNUSED,
                 const struct lbnode_io *io, void *aux)
{
    uint64_t digest = lb->ring ? ring_digest(lb->ring) : 0;
    struct entry *e;

    if (!lb->ring || digest == lb->synced_digest) {
        return;
    }
    lb->synced_digest = digest;
    HMAP_FOR_EACH (e, node, &lb->entries) {
        entry_hand_over(lb, e, io, aux);
    }
}

/* Connection publishing (PROTOCOL.md §6). */

/* The published connection 'pe', live on server node 'server', as this
 * node's PFT or SFT ('role') sees it: renews the lease of our entry, or
 * rebuilds the entry if we lost it (both trackers lost, or a restart). */
static void
publish_tracker(struct lbnode *lb, const struct ctl_publish_entry *pe,
                uint32_t server, enum ctl_tracker_role role,
                long long int now)
{
    struct entry *e = entry_find(lb, &pe->cp);

    if (!e) {
        e = entry_create(lb, &pe->cp, role, now);
        e->server = server;
        e->ingress = pe->ingress;
        e->ttl = 1;
        e->from_publication = true;
        entry_set_state(lb, e, ENTRY_ESTABLISHED, now);
        lb->stats.entries_restored++;
        return;
    }
    if (e->state != ENTRY_ESTABLISHED) {
        /* A handshake that reuses the CP, or one whose server's answer we
         * have not had yet: its own timers and retries settle it. */
        lb->stats.publish_handshake++;
        return;
    }
    if (e->server != server) {
        /* Another server also has a socket for this CP: a stale one of an
         * earlier connection that reused it (a peer gone without a FIN
         * leaves it ESTABLISHED), or an orphan of a server that answered
         * too late.  Our server is the one the handshake chose and still
         * publishes it; moving the flow would break the live connection,
         * so keep it and let the other lapse. */
        lb->stats.publish_conflicts++;
        return;
    }
    e->role = role;
    if (pe->ingress != CTL_NODE_NONE) {
        e->ingress = pe->ingress;
    }
    entry_renew(lb, e, now);
    lb->stats.leases_renewed++;
}

/* The published connection 'pe', live on 'server', as its ingress (this
 * node) sees it: renews the mapping's lease, or installs the mapping if we
 * lost it. */
static void
publish_ingress(struct lbnode *lb, const struct ctl_publish_entry *pe,
                const struct lbnode_server *server, long long int now,
                const struct lbnode_io *io, void *aux)
{
    struct mapping *m = mapping_find(lb, &pe->cp);

    if (m && m->server == server->node && !m->replaced) {
        mapping_renew(lb, m, now);
        lb->stats.leases_renewed++;
    } else if (m && (m->server == server->node || !m->replaced)) {
        /* As in publish_tracker(): keep the mapping we have, and do not
         * bring back the one a new connection replaced. */
        lb->stats.publish_conflicts++;
    } else {
        struct ctl_mapping map = {
            .cp = pe->cp,
            .server = server->node,
            .server_addr = server->underlay,
        };

        ingress_mapping(lb, &map, now, io, aux);
        lb->stats.mappings_restored++;
    }
}

/* A PUBLISH_FWD being filled for one LB node. */
struct publish_fwd {
    uint32_t node;
    struct ctl_msg *msg;
};

static void
publish_forward(struct lbnode *lb, struct publish_fwd *fwd, size_t *n_fwd,
                uint32_t node, const struct ctl_publish *pub,
                const struct ctl_publish_entry *pe)
{
    struct publish_fwd *f = NULL;

    for (size_t i = 0; i < *n_fwd; i++) {
        if (fwd[i].node == node) {
            f = &fwd[i];
            break;
        }
    }
    if (!f) {
        f = &fwd[(*n_fwd)++];
        f->node = node;
        f->msg = xmalloc(sizeof *f->msg);
        msg_init(f->msg, CTL_MSG_PUBLISH_FWD, lb->self);
        f->msg->publish.server = pub->server;
        f->msg->publish.origin = lb->self;
        f->msg->publish.n = 0;
    }
    /* A PUBLISH_FWD holds as many entries as the PUBLISH it comes from. */
    f->msg->publish.entries[f->msg->publish.n++] = *pe;
    lb->stats.publish_forwarded++;
}

/* PUBLISH (from an agent) and PUBLISH_FWD (from the LB node that got the
 * PUBLISH): consumes the entries for which this node is ingress, PFT or SFT
 * and, for a PUBLISH only, forwards the others to their ingress and
 * trackers, one PUBLISH_FWD per node.  A PUBLISH_FWD is never forwarded
 * again: while the rings disagree an entry may miss a node, and the next
 * publication repairs that. */
static void
handle_publish(struct lbnode *lb, const struct ctl_msg *msg,
               long long int now, const struct lbnode_io *io, void *aux)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    const struct ctl_publish *pub = &msg->publish;
    bool forwarded = msg->type == CTL_MSG_PUBLISH_FWD;
    const struct lbnode_server *server = server_find(lb, pub->server);
    const struct lbnode_lb *origin = lb_find(lb, msg->sender);

    if (forwarded) {
        lb->stats.publish_fwd_msgs++;
    } else {
        lb->stats.publish_msgs++;
    }
    if (!server
        || (forwarded
            ? !origin || pub->origin != msg->sender
            : pub->server != msg->sender)) {
        lb->stats.publish_rejected++;
        VLOG_WARN_RL(&rl, "%s from node %"PRIu32" for server node %"PRIu32
                     " refused: %s", ctl_msg_type_to_string(msg->type),
                     msg->sender, pub->server,
                     !server ? "not a server node"
                     : forwarded ? "not from the LB node that forwards it"
                     : "a server publishes only its own connections");
        return;
    }

    struct publish_fwd *fwd = NULL;
    size_t n_fwd = 0;
    if (!forwarded) {
        fwd = xcalloc(lb->n_lbs + 1, sizeof *fwd);
    }
    for (size_t i = 0; i < pub->n; i++) {
        const struct ctl_publish_entry *pe = &pub->entries[i];
        const struct lbnode_lb *in = lb_find(lb, pe->ingress);
        uint32_t targets[3];
        uint32_t pft, sft;
        bool mine = false;

        lb->stats.publish_entries++;
        if (!vip_for_cp(lb, &pe->cp)) {
            lb->stats.publish_invalid++;
            continue;
        }
        if (!lbnode_trackers(lb, &pe->cp, &pft, &sft)) {
            continue;
        }
        /* Its ingress (if that LB node is alive), PFT and SFT. */
        targets[0] = in && in->healthy ? pe->ingress : CTL_NODE_NONE;
        targets[1] = pft;
        targets[2] = sft != pft ? sft : CTL_NODE_NONE;
        for (size_t t = 0; t < ARRAY_SIZE(targets); t++) {
            uint32_t node = targets[t];

            if (node == CTL_NODE_NONE
                || (t >= 1 && node == targets[0])
                || (t == 2 && node == targets[1])) {
                continue;
            }
            if (node == lb->self) {
                mine = true;
            } else if (!forwarded) {
                publish_forward(lb, fwd, &n_fwd, node, pub, pe);
            }
        }
        if (!mine) {
            if (forwarded) {
                lb->stats.publish_misdirected++;
            }
            continue;
        }
        lb->stats.publish_consumed++;
        if (pft == lb->self || sft == lb->self) {
            publish_tracker(lb, pe, pub->server,
                            pft == lb->self ? CTL_ROLE_PFT : CTL_ROLE_SFT,
                            now);
        }
        if (pe->ingress == lb->self) {
            publish_ingress(lb, pe, server, now, io, aux);
        }
    }
    for (size_t i = 0; i < n_fwd; i++) {
        io->send(aux, fwd[i].node, fwd[i].msg);
        lb->stats.publish_fwd_sent++;
        free(fwd[i].msg);
    }
    free(fwd);
}

/* Handles the control message 'msg' from another node (or from this one,
 * in-process). */
void
lbnode_recv(struct lbnode *lb, const struct ctl_msg *msg, long long int now,
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
        handle_mapping(lb, msg, now, io, aux);
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
        handle_publish(lb, msg, now, io, aux);
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

/* Sends 'msg' to node 'dst' through 'io' (with 'aux'), or, if 'dst' is
 * this node, handles it at once. */
void
lbnode_deliver(struct lbnode *lb, uint32_t dst, struct ctl_msg *msg,
               long long int now, const struct lbnode_io *io, void *aux)
{
    if (dst == CTL_NODE_NONE) {
        return;
    }
    if (dst == lb->self) {
        msg->sender = lb->self;
        lbnode_recv(lb, msg, now, io, aux);
    } else {
        io->send(aux, dst, msg);
    }
}

/* Restores a record that 'lb''s journal wrote before a restart: 'len' bytes
 * at 'data' for 'cp' in 'table', still valid for 'ttl_ms'.  A mapping is
 * installed again through 'io'.  Returns false (and restores nothing) if the
 * record is not one this version wrote. */
bool
lbnode_restore(struct lbnode *lb, const char *table,
               const struct flow_key *cp, const void *data, size_t len,
               long long int ttl_ms, long long int now,
               const struct lbnode_io *io, void *aux)
{
    if (!strcmp(table, LBNODE_JOURNAL_TRACKER)) {
        struct entry_record r;
        struct entry *e;

        if (len != sizeof r) {
            return false;
        }
        memcpy(&r, data, sizeof r);
        if (r.version != RECORD_VERSION || r.role >= CTL_ROLE_N_ROLES
            || r.isn_kind >= CTL_ISN_N_KINDS || entry_find(lb, cp)) {
            return false;
        }
        e = entry_create(lb, cp, r.role, now);
        e->isn_kind = r.isn_kind;
        e->ttl = r.ttl;
        e->client_isn = r.client_isn;
        e->isn_lb = r.isn_lb;
        e->ts_lb = r.ts_lb;
        e->server = r.server;
        e->ingress = r.ingress;
        e->opts = r.opts;
        lb->n_syn_entries--;
        e->state = ENTRY_ESTABLISHED;
        e->expires = e->journalled = now + ttl_ms;
        entry_schedule_expiry(lb, e);
        return true;
    } else if (!strcmp(table, LBNODE_JOURNAL_MAPPING)) {
        struct mapping_record r;
        struct mapping *m;

        if (len != sizeof r) {
            return false;
        }
        memcpy(&r, data, sizeof r);
        if (r.version != RECORD_VERSION || mapping_find(lb, cp)) {
            return false;
        }
        m = xzalloc(sizeof *m);
        m->cp = *cp;
        m->server = r.server;
        m->server_addr = r.server_addr;
        m->expires = m->journalled = now + ttl_ms;
        lease_mapping_schedule_expiry(lb, m);
        hmap_insert(&lb->mappings, &m->node, cp_hash(cp));
        io->install_mapping(aux, cp, &m->server_addr);
        return true;
    }
    return false;
}

/* Expires what timed out by 'now': pending flows, handshakes and lapsed
 * leases (whose ingress mappings are removed through 'io').  Touches only
 * the timers that are due. */
void
lbnode_run(struct lbnode *lb, long long int now, const struct lbnode_io *io,
           void *aux)
{
    struct deadline *d;

    while ((d = deadline_queue_due(&lb->pending_expiry, now))) {
        lb->stats.timer_visits++;
        lb->stats.buffer_timeouts++;
        ingress_pending_destroy(lb, CONTAINER_OF(d, struct pending, expiry));
    }

    while ((d = deadline_queue_due(&lb->handshakes, now))
           || (d = deadline_queue_due(&lb->entry_leases, now))) {
        struct entry *e = CONTAINER_OF(d, struct entry, expiry);

        lb->stats.timer_visits++;
        lb->stats.entries_expired++;
        if (e->state == ENTRY_ESTABLISHED) {
            lb->stats.leases_lapsed++;
        }
        entry_destroy(lb, e);
    }

    while ((d = deadline_queue_due(&lb->mapping_leases, now))) {
        struct mapping *m = CONTAINER_OF(d, struct mapping, expiry);

        lb->stats.timer_visits++;
        if (m->replaced) {
            hmap_remove(&lb->mappings, &m->node);
            deadline_cancel(&m->expiry);
            free(m);
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
        deadline_queue_set(&lb->query_retries, d, now + QUERY_RETRY_MS);
        ingress_ask_trackers(lb, p, p->stage == PENDING_ASKED_PFT, now, io,
                             aux);
    }

    while ((d = deadline_queue_due(&lb->connect_retries, now))) {
        struct entry *e = CONTAINER_OF(d, struct entry, connect_retry);

        /* No answer from the server: ask it again, once per period; its
         * answer is idempotent. */
        const struct lbnode_server *s = server_find(lb, e->server);
        uint32_t pft, sft;
        struct ctl_msg msg;

        /* Every change of role or state reschedules the retry. */
        ovs_assert(e->role == CTL_ROLE_PFT && e->state == ENTRY_CONNECTING);
        lb->stats.timer_visits++;
        deadline_queue_set(&lb->connect_retries, d, now + CONNECT_RETRY_MS);
        if (!s || !s->healthy) {
            /* The server went down before it answered: choose another, as
             * if it had refused. */
            lb->stats.connect_server_down++;
            pft_choose_again(lb, e, now, io, aux);
            continue;
        }
        if (!lbnode_trackers(lb, &e->cp, &pft, &sft)) {
            continue;
        }
        e->connect_sent = now;
        msg_init(&msg, CTL_MSG_CONNECT, lb->self);
        msg.connect = (struct ctl_connect) {
            .cp = e->cp, .server = e->server, .ttl = e->ttl,
            .isn_lb = e->isn_lb, .client_isn = e->client_isn,
            .opts = e->opts, .ingress = e->ingress, .ts_lb = e->ts_lb,
        };
        lbnode_deliver(lb, sft, &msg, now, io, aux);
    }
}

/* Returns when lbnode_run() or lbnode_retry() next has work (for a lapsed
 * lease, its end rounded up to LEASE_SWEEP_MS), or LLONG_MAX.  O(1). */
long long int
lbnode_next_deadline(const struct lbnode *lb)
{
    const struct deadline_queue *queues[] = {
        &lb->handshakes, &lb->entry_leases, &lb->connect_retries,
        &lb->pending_expiry, &lb->query_retries, &lb->mapping_leases,
    };
    long long int next = LLONG_MAX;

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

size_t
lbnode_n_pending(const struct lbnode *lb)
{
    return hmap_count(&lb->pending);
}

/* Inspection. */

/* Appends to 's' the node, its ring and its VIPs. */
void
lbnode_format_show(const struct lbnode *lb, struct ds *s)
{
    ds_put_format(s, "LB node %"PRIu32"\n", lb->self);
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
            ds_put_format(s, " %"PRIu32"(w%"PRIu32"%s)", v->servers[j].node,
                          v->servers[j].weight,
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
        flow_key_format(&e->cp, s);
        ds_put_format(s, " %s %s server=%"PRIu32" ingress=%"PRIu32
                      " isn_lb=%"PRIu32"%s %s %lld ms\n",
                      e->role == CTL_ROLE_PFT ? "pft" : "sft",
                      entry_state_name(e->state), e->server, e->ingress,
                      e->isn_lb,
                      e->isn_kind == CTL_ISN_COOKIE ? " cookie" : "",
                      e->state == ENTRY_ESTABLISHED ? "lease" : "timeout",
                      e->expires - now);
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
}

/* Appends to 's' the counters of every role. */
void
lbnode_format_stats(const struct lbnode *lb, struct ds *s)
{
    const struct lbnode_stats *st = &lb->stats;

#define STAT(NAME) ds_put_format(s, "  %-20s %"PRIu64"\n", #NAME, st->NAME)
    ds_put_cstr(s, "ingress:\n");
    STAT(syns);
    STAT(non_syns);
    STAT(not_vip);
    STAT(bad_packets);
    STAT(buffered);
    STAT(buffer_drops);
    STAT(buffer_timeouts);
    STAT(replayed);
    STAT(mapping_recommits);
    STAT(mappings_installed);
    STAT(mappings_replaced);
    STAT(mappings_lapsed);
    STAT(queries);
    STAT(unknown_flows);
    ds_put_cstr(s, "flow tracker:\n");
    STAT(syn_infos);
    STAT(syn_retransmits);
    STAT(syn_infos_misdirected);
    STAT(cookies_issued);
    STAT(cookies_valid);
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
    STAT(rsts_sent);
    STAT(table_full);
    STAT(entries_expired);
    STAT(trackers_sent);
    STAT(trackers_received);
    STAT(cp_conflicts);
    STAT(cp_conflicts_other);
    STAT(msgs_ignored);
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
