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
 * tracker: the flow-tracker roles of an LB node core (lbnode.h, PROTOCOL.md
 * §3-§5, §7).  The PFT (primary flow tracker) of a flow keeps its
 * handshake state, validates the client's ACK and chooses the server; the
 * SFT (secondary) fabricates the SYN/ACK, asks the chosen server to take
 * the connection and resets the client when none will.  A change of the
 * ring hands each flow to its trackers under the new ring.  Part of the
 * lbnode core (lbnode-private.h).
 */
#include <config.h>
#include "lbnode-private.h"

#include <stdlib.h>
#include <string.h>

#include "coverage.h"
#include "deadline-queue.h"
#include "dp-packet.h"
#include "openvswitch/hmap.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "ring.h"
#include "server-load.h"
#include "selection.h"
#include "syn-cookie.h"
#include "tcp-seg.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(tracker);

COVERAGE_DEFINE(lbnode_ack_invalid);

/* Window field of the SYN/ACK (never scaled in a SYN segment, so not a
 * setting: this is the largest it can say). */
#define SYNACK_WINDOW 65535

/* Keeps 'e' in 'connect_retries' while it waits, as PFT, for its server's
 * answer to the CONNECT sent at 'connect_sent' (unless that server was
 * found down after it published the connection: 'server_lost', no more
 * retries); takes it out otherwise. */
static void
entry_schedule_retry(struct lbnode *lb, struct entry *e)
{
    struct entry_handshake *hs = entry_hs(lb, e);

    if (e->role == CTL_ROLE_PFT && e->state == ENTRY_CONNECTING
        && !hs->server_lost) {
        deadline_queue_set(&lb->connect_retries, &hs->connect_retry,
                           hs->connect_sent + lb->connect_retry_ms);
    } else if (hs) {
        deadline_cancel(&hs->connect_retry);
    }
}

/* Returns the handshake part of 'e', made (zeroed: no options, no waiters,
 * no server refused yet) if it has none. */
struct entry_handshake *
tracker_entry_handshake(struct lbnode *lb, struct entry *e)
{
    struct entry_handshake *hs = entry_hs(lb, e);

    if (!hs) {
        hs = xzalloc(sizeof *hs);
        hs->entry = e;
        hmap_insert(&lb->entry_handshakes, &hs->node, e->node.hash);
        e->has_hs = true;
    }
    return hs;
}

/* Frees the handshake part of 'e', if any, with its retry timer and the
 * other connection it remembers. */
void
tracker_entry_free_handshake(struct lbnode *lb, struct entry *e)
{
    struct entry_handshake *hs = entry_hs(lb, e);

    if (hs) {
        hmap_remove(&lb->entry_handshakes, &hs->node);
        deadline_cancel(&hs->connect_retry);
        free(hs->other);
        free(hs);
        e->has_hs = false;
    }
}

/* The bytes that 'lb''s tracker entries hold in memory (malloc's own
 * overhead aside): each entry and the pointer of its hash bucket, each
 * handshake part and its bucket pointer, and the other connections those
 * parts remember.  O(entries in the handshake).  The table of the entries'
 * VIP ends is not counted: it grows with the VIP ports, not the
 * connections (entry_keys_count()). */
size_t
tracker_bytes(const struct lbnode *lb)
{
    const struct entry_handshake *hs;
    size_t n = hmap_count(&lb->entries) * (sizeof(struct entry)
                                           + sizeof(void *));

    HMAP_FOR_EACH (hs, node, &lb->entry_handshakes) {
        n += sizeof *hs + sizeof(void *);
        if (hs->other) {
            n += sizeof *hs->other;
        }
    }
    return n;
}

/* The bound of the entries in the handshake: syn_table_max, or the bound
 * of the whole table if it is smaller, since handshakes are never evicted
 * (see "Bounds" in struct lbnode). */
size_t
tracker_syn_bound(const struct lbnode *lb)
{
    return MIN(lb->syn_table_max, lb->tracker_table_max);
}

/* Returns true if tracker_entry_create() would make an entry: the table is
 * below its bound, or holds an established entry to evict.  O(1). */
bool
tracker_has_room(const struct lbnode *lb)
{
    return (hmap_count(&lb->entries) < lb->tracker_table_max
            || deadline_queue_count(&lb->entry_leases) > 0);
}

/* Evicts the established entry whose lease timer is 'd' (see "Bounds" in
 * struct lbnode). */
static void
tracker_evict(struct lbnode *lb, struct deadline *d,
              const struct lbnode_io *io OVS_UNUSED, void *aux OVS_UNUSED)
{
    struct entry *victim = CONTAINER_OF(d, struct entry, expiry);

    FLOW_DBG(ENTRY_CP(lb, victim), "tracker: evicted (%"PRIuSIZE" entries, "
             "bound %"PRIuSIZE")", hmap_count(&lb->entries),
             lb->tracker_table_max);
    tracker_entry_destroy(lb, victim);
    lb->stats.entries_evicted++;
}

/* Makes room for one more entry in a table at its bound by evicting the
 * least recently renewed established entries, the front of
 * 'entry_leases'.  Returns false, counted, if the table is at its bound
 * with nothing but handshakes in it. */
static bool
tracker_make_room(struct lbnode *lb)
{
    if (!lbnode_make_room(lb, &lb->entry_leases, hmap_count(&lb->entries),
                          lb->tracker_table_max, tracker_evict, NULL,
                          NULL)) {
        lb->stats.entries_refused++;
        return false;
    }
    return true;
}

/* Creates the entry of 'cp', in the handshake, with our 'role', evicting
 * an established entry first if the table is at its bound.  Returns NULL,
 * creating nothing, if the table is at its bound with nothing but
 * handshakes in it. */
struct entry *
tracker_entry_create(struct lbnode *lb, const struct flow_key *cp,
                     enum ctl_tracker_role role, long long int now)
{
    struct entry_key key;

    if (!entry_key_ref(&lb->entry_keys, cp, &key)) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

        VLOG_WARN_RL(&rl, "tracker: an entry refused: its entries already "
                     "have %d VIP ends (address, port, protocol)",
                     ENTRY_KEYS_MAX);
        lb->stats.entries_refused++;
        return NULL;
    }
    if (!tracker_make_room(lb)) {
        entry_key_unref(&lb->entry_keys, &key);
        return NULL;
    }

    struct entry *e = xzalloc(sizeof *e);
    long long int expires = now + lb->handshake_timeout_ms;
    uint32_t pft, sft;

    e->key = key;
    e->role = role;
    e->state = ENTRY_SYN_RECEIVED;
    if (lbnode_trackers(lb, cp, &pft, &sft)
        && pft != lb->self && sft != lb->self) {
        /* A message of a ring we no longer have (or do not have yet) made
         * us a tracker: the copy serves that ring's late messages for a
         * lease at most, as entry_hand_over() leaves it to a handshake we
         * stop tracking, not for the whole handshake timeout. */
        expires = MIN(expires, now + lb->lease_ms);
    }
    hmap_insert(&lb->entries, &e->node, cp_hash(cp));
    tracker_entry_handshake(lb, e);
    lease_entry_set_expiry(lb, e, expires);
    lb->n_syn_entries++;
    return e;
}

static void entry_set_state_until(struct lbnode *, struct entry *,
                                  enum entry_state, long long int lease_end,
                                  long long int now);

/* Moves 'e' to 'state' at 'now', with the timers and the journal record
 * that state has. */
void
tracker_entry_set_state(struct lbnode *lb, struct entry *e,
                        enum entry_state state, long long int now)
{
    entry_set_state_until(lb, e, state, now + lb->lease_ms, now);
}

/* As tracker_entry_set_state(), but an entry that becomes established has
 * a lease until 'lease_end' (not a full one). */
static void
entry_set_state_until(struct lbnode *lb, struct entry *e,
                      enum entry_state state, long long int lease_end,
                      long long int now)
{
    if (e->state != ENTRY_ESTABLISHED && state == ENTRY_ESTABLISHED) {
        lb->n_syn_entries--;
        tracker_entry_free_handshake(lb, e);
        e->state = state;
        lease_entry_set_expiry(lb, e, lease_end);
        lease_journal_entry(lb, e, now);
    } else if (e->state == ENTRY_ESTABLISHED
               && state != ENTRY_ESTABLISHED) {
        lease_journal_forget(lb, LBNODE_JOURNAL_TRACKER, ENTRY_CP(lb, e));
        lb->n_syn_entries++;
        tracker_entry_handshake(lb, e);
        e->state = state;
        lease_entry_set_expiry(lb, e, now + lb->handshake_timeout_ms);
    }
    e->state = state;
    entry_schedule_retry(lb, e);
}

/* Frees 'e' and forgets its journal record. */
void
tracker_entry_destroy(struct lbnode *lb, struct entry *e)
{
    if (e->state != ENTRY_ESTABLISHED) {
        lb->n_syn_entries--;
    } else {
        lease_journal_forget(lb, LBNODE_JOURNAL_TRACKER, ENTRY_CP(lb, e));
    }
    hmap_remove(&lb->entries, &e->node);
    deadline_cancel(&e->expiry);
    tracker_entry_free_handshake(lb, e);
    entry_key_unref(&lb->entry_keys, &e->key);
    free(e);
}

static void
entry_add_waiter(struct entry_handshake *hs, uint32_t ingress)
{
    for (size_t i = 0; i < hs->n_waiters; i++) {
        if (hs->waiters[i] == ingress) {
            return;
        }
    }
    if (hs->n_waiters < MAX_WAITERS) {
        hs->waiters[hs->n_waiters++] = ingress;
    } else {
        hs->waiters[MAX_WAITERS - 1] = ingress;
    }
}

static uint32_t
isn_choose(struct lbnode *lb, const struct flow_key *cp, long long int now)
{
    uint64_t h = flow_key_hash64(cp, lb->isn_key ^ ++lb->isn_counter);

    /* RFC 6528: a keyed hash of the connection plus a clock. */
    return (uint32_t) (h ^ (h >> 32)) + (uint32_t) (now * 250);
}

/* The SYNs per second that the whole LB tier receives, from 'er', the SYNs
 * that one of its nodes sees in one role: the edge router's ECMP gives each
 * of N ingresses about 1/N of the flows, and the ring each PFT about 1/N
 * (its hash is keyed, so a flood cannot aim at one), so N times what 'er'
 * counts.  N is the number of LB nodes configured, not of those healthy
 * now: a flood can make health checks late and shrink the ring, and a
 * node that saw itself alone would take a flood for a trickle.  With nodes
 * down, this errs on the side of cookies.  'syn_cookie_rate' is a setting
 * of the cluster and means the same whatever N is. */
/* How long cookies go on after the SYN rate was last above the trigger: a
 * lull of a flood, or a node's absence from the edge router's routes,
 * shorter than this does not end them.  Cookies cost a legitimate client
 * nothing but its less common TCP options. */
#define SYN_FLOOD_HOLD_MS 10000

static uint64_t
tier_syn_rate(const struct lbnode *lb, struct event_rate *er,
              long long int now)
{
    uint64_t rate = event_rate_per_s(er, now);
    size_t n = MAX(lb->n_lbs, 1);

    return rate > UINT64_MAX / n ? UINT64_MAX : rate * n;
}

/* Whether the tier is flooded with SYNs, as 'w' (after counting the SYN
 * at hand) tells: its rate is above the one that starts SYN cookies, or was
 * within the last SYN_FLOOD_HOLD_MS.  The hold keeps cookies on through the
 * flood's lulls and through the moments a node sees none of it, the edge
 * router having withdrawn it when a flood delayed its health checks: on
 * its return, it would otherwise hand its trackers the SYNs of the first
 * tenth of a second before its rate showed the flood again. */
bool
tracker_syn_flood(const struct lbnode *lb, struct syn_flood_watch *w,
                  long long int now)
{
    if (tier_syn_rate(lb, &w->rate, now) > lb->cookie_thresholds.syn_rate) {
        w->until = now + SYN_FLOOD_HOLD_MS;
    }
    return now < w->until;
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
    tcp_seg_endpoints_from_key(&ep, ENTRY_CP(lb, e), FLOW_KEY_FROM_VIP,
                               lb->own_mac, lb->edge_mac);
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
fill_syn_sync(const struct lbnode *lb, const struct entry *e,
              struct ctl_syn_sync *ss)
{
    const struct entry_handshake *hs = entry_hs(lb, e);

    ss->syn.cp = entry_cp(lb, e);
    ss->syn.ingress = e->ingress;
    ss->syn.client_isn = e->client_isn;
    ss->syn.opts = hs->opts;
    ss->isn_lb = e->isn_lb;
    ss->ts_lb = hs->ts_lb;
    ss->isn_kind = e->isn_kind;
}

/* The time of SYN cookies' slots at 'now': wall-clock seconds, which all
 * LB nodes share, since the node that checks a cookie may not be the one
 * that made it (lbnode_set_clock_offset()). */
static uint64_t
cookie_time_s(const struct lbnode *lb, long long int now)
{
    long long int wall_ms = now + lb->wall_offset;

    return wall_ms > 0 ? wall_ms / 1000 : 0;
}

static void entry_hand_over(struct lbnode *, struct entry *,
                            long long int now, const struct lbnode_io *,
                            void *aux);
static void entry_take_sync(struct lbnode *, struct entry *,
                            const struct ctl_tracker_sync *, long long int now);

/* Fills 'ss' with the SYN_SYNC of a SYN-cookie answer to 'si': nothing is
 * kept, the ISN and the TSval carry what the ACK will need.  Returns false
 * if no cookie can be made. */
static bool
make_cookie_syn_sync(struct lbnode *lb, const struct ctl_syn_info *si,
                     long long int now, struct ctl_syn_sync *ss)
{
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

    if (syn_cookie_make(lb->cookie_key, &si->cp, si->client_isn,
                        cookie_time_s(lb, now), (uint32_t) now,
                        &offered, &isn, &tsval, &granted)) {
        return false;
    }
    ss->syn = *si;
    ss->syn.opts.has_wscale = granted.wscale_ok;
    ss->syn.opts.sack_permitted = granted.sack_ok;
    ss->syn.opts.has_mss = true;
    ss->syn.opts.mss = granted.mss;
    ss->isn_lb = isn;
    ss->ts_lb = tsval;
    ss->isn_kind = CTL_ISN_COOKIE;
    lb->stats.cookies_issued++;
    return true;
}

/* Ingress, while SYNs flood the tier (tracker_syn_flood()): answers the SYN
 * 'si' with a SYN cookie itself, out of this node's north port, instead of
 * handing it to its PFT.  The cookie is made with the cluster key that
 * every node holds, so the PFT validates the client's ACK as if it had
 * made it: no message and no state per SYN, which is what a flood must
 * cost.  Returns false if no cookie can be made (the SYN then goes to the
 * PFT). */
bool
tracker_answer_with_cookie(struct lbnode *lb, const struct ctl_syn_info *si,
                           long long int now, const struct lbnode_io *io,
                           void *aux)
{
    struct ctl_syn_sync ss;

    if (!lb->cookie_key || !vip_for_cp(lb, &si->cp)
        || !make_cookie_syn_sync(lb, si, now, &ss)) {
        return false;
    }
    lb->stats.syn_cookies_at_ingress++;
    send_synack(lb, &ss, io, aux);
    return true;
}

/* PFT: a client's SYN.  The ingress sent it to the PFT of its own ring; if
 * this node's ring has another PFT (the rings disagree for a moment while
 * the healthy set changes, and the ring changes that make them agree again
 * came before this entry existed, so no rebalance will move it), the entry
 * is handed to the PFT of this node's ring at once: the client's ACK goes
 * there once the ingress's ring agrees, and would find no handshake state
 * while the SFT waited forever for a CONNECT. */
void
pft_syn_info(struct lbnode *lb, const struct ctl_syn_info *si,
             long long int now, const struct lbnode_io *io, void *aux)
{
    uint32_t pft, sft;
    struct ctl_msg msg;
    struct entry *e;

    lb->stats.syn_infos++;
    event_rate_add(&lb->pft_syns.rate, now, 1);
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
            entry_hand_over(lb, e, now, io, aux);
        }
        fill_syn_sync(lb, e, &msg.syn_sync);
        lbnode_deliver(lb, sft, &msg, now, io, aux);
        return;
    }
    if (e && e->client_isn == si->client_isn) {
        /* The same SYN, but its handshake is past SYN_RECEIVED: the
         * client's ACK came, so this is a copy the network duplicated or
         * delayed.  Starting over would answer with another ISN and drop
         * the connection's entry. */
        lb->stats.syn_late_duplicates++;
        FLOW_DBG(&si->cp, "PFT: late copy of the SYN of a %s handshake, "
                 "ignored", e->state == ENTRY_ESTABLISHED ? "completed"
                 : "connecting");
        return;
    }
    if (e) {
        /* A new connection reusing the CP (another client ISN): start
         * over. */
        tracker_entry_destroy(lb, e);
    }

    /* A table at its bound with nothing to evict (all handshakes) is a
     * full SYN table too: a cookie keeps no state. */
    bool full = !tracker_has_room(lb);
    if (full) {
        lb->stats.entries_refused++;
    }
    if (lb->cookie_key
        && (full || tracker_syn_flood(lb, &lb->pft_syns, now)
            || syn_cookie_pressure(lb->n_syn_entries, tracker_syn_bound(lb),
                                   0, &lb->cookie_thresholds))) {
        if (make_cookie_syn_sync(lb, si, now, &msg.syn_sync)) {
            lbnode_deliver(lb, sft, &msg, now, io, aux);
        }
        return;
    }
    if (full || lb->n_syn_entries >= tracker_syn_bound(lb)) {
        lb->stats.table_full++;
        return;
    }

    e = tracker_entry_create(lb, &si->cp, CTL_ROLE_PFT, now);
    ovs_assert(e);              /* tracker_has_room() said so. */
    e->client_isn = si->client_isn;
    entry_hs(lb, e)->opts = si->opts;
    e->ingress = si->ingress;
    e->isn_lb = isn_choose(lb, &si->cp, now);
    entry_hs(lb, e)->ts_lb = (uint32_t) now;
    e->isn_kind = CTL_ISN_STORED;
    FLOW_DBG(&si->cp, "PFT: SYN from ingress %"PRIu32", SYN_SYNC to SFT %"
             PRIu32, si->ingress, sft);
    if (pft != lb->self) {
        lb->stats.syn_infos_misdirected++;
        entry_hand_over(lb, e, now, io, aux);
    }
    fill_syn_sync(lb, e, &msg.syn_sync);
    lbnode_deliver(lb, sft, &msg, now, io, aux);
}

/* SFT: the PFT's copy of a SYN; fabricates the SYN/ACK. */
void
sft_syn_sync(struct lbnode *lb, const struct ctl_syn_sync *ss,
             long long int now, const struct lbnode_io *io, void *aux)
{
    struct entry *e = entry_find(lb, &ss->syn.cp);

    if (ss->isn_kind == CTL_ISN_STORED) {
        if (!e) {
            /* NULL if the table is full of handshakes: the SYN/ACK goes
             * out all the same, and the CONNECT brings what we would have
             * kept. */
            e = tracker_entry_create(lb, &ss->syn.cp, CTL_ROLE_SFT, now);
        } else if (e->client_isn != ss->syn.client_isn
                   && e->state != ENTRY_SYN_RECEIVED) {
            tracker_entry_set_state(lb, e, ENTRY_SYN_RECEIVED, now);
            e->server = CTL_NODE_NONE;
            entry_hs(lb, e)->n_rejected = 0;
        }
        if (e && e->role == CTL_ROLE_SFT) {
            e->client_isn = ss->syn.client_isn;
            e->ingress = ss->syn.ingress;
            e->isn_lb = ss->isn_lb;
            e->isn_kind = ss->isn_kind;
            if (e->state != ENTRY_ESTABLISHED) {
                struct entry_handshake *hs = entry_hs(lb, e);

                hs->opts = ss->syn.opts;
                hs->ts_lb = ss->ts_lb;
            }
        }
    }
    send_synack(lb, ss, io, aux);
}

static bool
vip_has_server(const struct vip *v, uint32_t node)
{
    for (size_t j = 0; j < v->cfg.n_servers; j++) {
        if (v->cfg.servers[j].node == node) {
            return true;
        }
    }
    return false;
}

/* Any node: records a LOAD report (server-load.h) of the servers' VIP
 * ports, each entry only if the sender is a configured server of that VIP
 * port. */
void
tracker_load(struct lbnode *lb, const struct ctl_msg *msg, long long int now)
{
    const struct ctl_load *load = &msg->load;

    lb->stats.load_msgs++;
    for (size_t i = 0; i < load->n; i++) {
        const struct ctl_load_entry *le = &load->entries[i];
        const struct vip *v = vip_find(lb, &le->vip, le->port,
                                       (le->flags & CTL_LOAD_UDP
                                        ? IPPROTO_UDP : IPPROTO_TCP));

        if (v && vip_has_server(v, msg->sender)) {
            server_load_report(lb->load, msg->sender, le, now);
            lb->stats.load_entries++;
        } else {
            lb->stats.load_rejected++;
        }
    }
}

static const struct vip *
pick_server(struct lbnode *lb, struct entry *e, long long int now,
            uint32_t *server)
{
    struct vip *v = vip_for_cp(lb, ENTRY_CP(lb, e));
    struct selection_server *ss;
    size_t n = 0;
    int error;

    *server = CTL_NODE_NONE;
    if (!v || !v->cfg.enabled) {
        return v;
    }
    enum selection_algo algo = selection_get_algo(v->sel);
    bool uses_load = (algo == SEL_LEAST_CONNECTIONS
                      || algo == SEL_LOWEST_LATENCY);
    const char *zone = flow_zone(lb, e->ingress);
    ss = xcalloc(v->cfg.n_servers ? v->cfg.n_servers : 1, sizeof *ss);
    for (size_t i = 0; i < v->cfg.n_servers; i++) {
        const struct lbnode_server *s = server_find(lb,
                                                    v->cfg.servers[i].node);
        if (s) {
            ss[n] = (struct selection_server) {
                .id = s->node,
                .weight = v->cfg.servers[i].weight,
                .healthy = s->healthy && !server_load_is_down(
                    lb->load, s->node, &v->cfg.addr, v->cfg.port,
                    v->cfg.proto, now, lb->load_max_age_ms),
                .near = server_in_zone(s, zone),
                .active_conns = 0,
                .rtt_us = UINT32_MAX,
            };
            if (uses_load) {
                server_load_get(lb->load, s->node, &v->cfg.addr,
                                v->cfg.port, now, lb->load_max_age_ms,
                                &ss[n].active_conns, &ss[n].rtt_us);
            }
            n++;
        }
    }
    const struct entry_handshake *hs = entry_hs(lb, e);

    error = selection_pick(v->sel, ss, n, ENTRY_CP(lb, e), hs->rejected,
                           hs->n_rejected, server);
    if (error) {
        *server = CTL_NODE_NONE;
    } else if (uses_load) {
        server_load_assigned(lb->load, *server, &v->cfg.addr, v->cfg.port,
                             now);
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
    struct entry_handshake *hs = entry_hs(lb, e);
    uint32_t pft, sft, server = CTL_NODE_NONE;
    struct ctl_msg msg;

    if (!lbnode_trackers(lb, ENTRY_CP(lb, e), &pft, &sft)) {
        return;
    }
    if (e->ttl > 0) {
        pick_server(lb, e, now, &server);
    }
    msg_init(&msg, CTL_MSG_CONNECT, lb->self);
    msg.connect = (struct ctl_connect) {
        .cp = entry_cp(lb, e),
        .server = server,
        .ttl = e->ttl,
        .isn_lb = e->isn_lb,
        .client_isn = e->client_isn,
        .opts = hs->opts,
        .ingress = e->ingress,
        .ts_lb = hs->ts_lb,
    };
    e->server = server;
    hs->server_published = false;
    hs->server_lost = false;
    hs->connect_ingress = e->ingress;
    hs->connect_sent = now;
    FLOW_DBG(ENTRY_CP(lb, e), "PFT: CONNECT to SFT %"PRIu32", server %"PRIu32,
             sft, server);
    entry_schedule_retry(lb, e);
    if (server == CTL_NODE_NONE) {
        lb->stats.no_server++;
    } else {
        tracker_entry_set_state(lb, e, ENTRY_CONNECTING, now);
        lb->stats.connects++;
    }
    lbnode_deliver(lb, sft, &msg, now, io, aux);
    if (server == CTL_NODE_NONE) {
        e = entry_find(lb, &msg.connect.cp);
        if (e && e->role == CTL_ROLE_PFT) {
            tracker_entry_destroy(lb, e);
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
    msg.mapping.cp = entry_cp(lb, e);
    msg.mapping.server = e->server;
    msg.mapping.server_addr = s->underlay;
    msg.mapping.lease_ms = (e->state == ENTRY_ESTABLISHED
                            ? lease_left(entry_expires(e), now)
                            : lb->lease_ms);
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
 * the handshake part of 'e' keeps as 'other' rather than on that of 'e':
 * it completes the other's handshake exactly, or it does not complete ours
 * while the other is established. */
static bool
ack_picks_other(const struct lbnode *lb, const struct entry *e,
                const struct ctl_ack_info *ai)
{
    const struct ctl_tracker_sync *o = entry_hs(lb, e)->other;
    bool completes_ours = (e->state != ENTRY_ESTABLISHED
                           && ai->ack - 1 == e->isn_lb
                           && ai->seq - 1 == e->client_isn);

    if (o->state != CTL_TRACKER_ESTABLISHED) {
        return (o->server == CTL_NODE_NONE
                && ai->ack - 1 == o->isn_lb && ai->seq - 1 == o->client_isn);
    }
    return e->state == ENTRY_SYN_RECEIVED && !completes_ours;
}

/* Checks with 'key' the SYN cookie that 'ai''s ACK acknowledges. */
static enum syn_cookie_verdict
check_cookie(const struct lbnode *lb, struct syn_cookie_key *key,
             const struct ctl_ack_info *ai, long long int now,
             struct syn_cookie_opts *decoded)
{
    return syn_cookie_check(key, &ai->cp, ai->seq - 1, ai->ack - 1,
                            cookie_time_s(lb, now),
                            ai->has_ts ? &ai->tsecr : NULL, decoded);
}

/* PFT: the client's ACK, seen by an ingress. */
void
pft_ack_info(struct lbnode *lb, const struct ctl_ack_info *ai,
             long long int now, const struct lbnode_io *io, void *aux)
{
    struct entry *e = entry_find(lb, &ai->cp);
    struct syn_cookie_opts decoded;
    const struct vip *v = vip_for_cp(lb, &ai->cp);
    enum syn_cookie_verdict verdict = SYN_COOKIE_INVALID;

    /* A cookie is looked for where no handshake of ours explains the ACK:
     * no entry, an entry that only a publication rebuilt, a handshake
     * whose ISN the ACK does not acknowledge, because an ingress answered
     * the client's retransmitted SYN with a cookie when a flood began, or
     * a connection past its handshake that the ACK is not the end of: a
     * new connection on the CP whose SYN an ingress answered with a
     * cookie, so that no SYN_INFO retired the old entry.  (A segment of
     * the old connection itself, its ingress having lost the mapping,
     * cannot pass: the cookie's MAC covers the client ISN.) */
    bool reused = e && !e->from_publication && e->state != ENTRY_SYN_RECEIVED
                  && (ai->ack - 1 != e->isn_lb
                      || ai->seq - 1 != e->client_isn);
    bool stale = e && (e->from_publication || reused
                       || (e->state == ENTRY_SYN_RECEIVED
                           && e->role == CTL_ROLE_PFT
                           && ai->ack - 1 != e->isn_lb));
    if (v && lb->cookie_key && (!e || stale)) {
        verdict = check_cookie(lb, lb->cookie_key, ai, now, &decoded);
        if (verdict != SYN_COOKIE_VALID && lb->cookie_key_prev
            && check_cookie(lb, lb->cookie_key_prev, ai, now, &decoded)
               == SYN_COOKIE_VALID) {
            /* Made before the cluster key's last change. */
            lb->stats.cookies_prev_key++;
            verdict = SYN_COOKIE_VALID;
        }
    }
    bool cookie = verdict == SYN_COOKIE_VALID;

    if (e && cookie) {
        /* A SYN-cookie handshake of a new connection that reuses the CP
         * of one whose entry only a publication rebuilt (its server keeps
         * a half-open socket and published it after the new SYN), or that
         * we still track (its ingress answered the new SYN): the new
         * connection wins, or its ACK would be sent to the old server.  Or
         * the client took a cookie SYN/ACK over ours: the cookie wins. */
        if (e->from_publication) {
            lb->stats.publish_conflicts++;
        } else if (reused) {
            lb->stats.cookies_cp_reused++;
            FLOW_DBG(&ai->cp, "PFT: cookie ACK of a new connection (client "
                     "ISN %"PRIu32") on the CP of a %s one (client ISN "
                     "%"PRIu32", server %"PRIu32"): the old entry forgotten",
                     ai->seq - 1, entry_state_name(e->state), e->client_isn,
                     e->server);
        }
        tracker_entry_destroy(lb, e);
        e = NULL;
    }
    if (!e) {
        if (cookie) {
            /* A valid SYN cookie: the handshake state comes back. */
            lb->stats.cookies_valid++;
            e = tracker_entry_create(lb, &ai->cp, CTL_ROLE_PFT, now);
            if (!e) {
                /* Full of handshakes: the client's next ACK tries again
                 * (the cookie stays valid for a slot). */
                return;
            }
            e->client_isn = ai->seq - 1;
            e->isn_lb = ai->ack - 1;
            e->isn_kind = CTL_ISN_COOKIE;
            struct entry_handshake *hs = entry_hs(lb, e);

            hs->ts_lb = ai->has_ts ? ai->tsecr : 0;
            hs->opts = (struct ctl_tcp_opts) {
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
            entry_add_waiter(hs, ai->ingress);
            lb->stats.acks_valid++;
            pft_connect(lb, e, now, io, aux);
            return;
        }
        if (verdict == SYN_COOKIE_TOO_OLD) {
            lb->stats.cookies_too_old++;
        } else if (verdict == SYN_COOKIE_TOO_NEW) {
            lb->stats.cookies_too_new++;
        }
        lb->stats.acks_no_state++;
        FLOW_DBG(&ai->cp, "PFT: ACK_INFO from ingress %"PRIu32" for no "
                 "entry: UNKNOWN", ai->ingress);
        reply_unknown(lb, &ai->cp, ai->ingress, now, io, aux);
        return;
    }

    struct entry_handshake *hs = entry_hs(lb, e);

    if (hs && hs->other && ack_picks_other(lb, e, ai)) {
        /* The client is on the other connection of the CP. */
        struct ctl_tracker_sync *other = hs->other;

        FLOW_DBG(&ai->cp, "ACK_INFO: the client is on the other connection "
                 "of the CP (client ISN %"PRIu32")", other->client_isn);
        hs->other = NULL;
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
        entry_add_waiter(entry_hs(lb, e), ai->ingress);
        e->ttl = v ? v->cfg.ttl : 1;    /* 'v' is the VIP of e's CP. */
        pft_connect(lb, e, now, io, aux);
        break;

    case ENTRY_CONNECTING:
        entry_add_waiter(entry_hs(lb, e), ai->ingress);
        break;

    case ENTRY_ESTABLISHED:
        lease_entry_renew(lb, e, now);
        send_mapping(lb, e, ai->ingress, now, io, aux);
        break;
    }
}

/* SFT: the PFT chose a server (or decided that there is none). */
void
sft_connect(struct lbnode *lb, const struct ctl_connect *c, long long int now,
            const struct lbnode_io *io, void *aux)
{
    const struct lbnode_server *s;
    const struct vip *v = vip_for_cp(lb, &c->cp);
    struct ctl_msg msg;
    struct entry *e;

    e = entry_find(lb, &c->cp);
    if (!e) {
        e = tracker_entry_create(lb, &c->cp, CTL_ROLE_SFT, now);
        if (!e) {
            /* Full of handshakes: the PFT's retry asks again. */
            return;
        }
    }
    if (e->state == ENTRY_ESTABLISHED && e->server != CTL_NODE_NONE
        && c->isn_lb == e->isn_lb && c->client_isn == e->client_isn) {
        /* This very handshake is established on e->server, yet the PFT
         * retries: it missed the MAPPING (and, if it chose again or
         * decided on no server, its server then went down or looked
         * down).  A second server must never get the connection, nor its
         * client a RST, and its server need not be asked again: tell the
         * PFT where the connection is. */
        uint32_t pft, sft;

        lb->stats.connects_established++;
        FLOW_DBG(&c->cp, "SFT: CONNECT to %"PRIu32" for a handshake "
                 "established on %"PRIu32": MAPPING to the PFT",
                 c->server, e->server);
        if (lbnode_trackers(lb, ENTRY_CP(lb, e), &pft, &sft)) {
            /* Only to the PFT: an ingress that missed its MAPPING too
             * asks (MAPPING_QUERY), and one that has it would renew a
             * mapping that may be over. */
            send_mapping(lb, e, pft, now, io, aux);
        }
        return;
    }
    if (e->role == CTL_ROLE_SFT) {
        if (e->state == ENTRY_ESTABLISHED
            && (c->isn_lb != e->isn_lb || c->client_isn != e->client_isn)) {
            /* Another handshake than the established one's: a new
             * connection on the CP, whose SYN its ingress answered with a
             * cookie, so no SYN_SYNC told us.  The old connection is over
             * (its client reused the port); the new one is connecting, and
             * its server may still refuse it (sft_rejected()). */
            FLOW_DBG(&c->cp, "SFT: CONNECT of a new connection (client ISN "
                     "%"PRIu32") on the CP of an established one (client "
                     "ISN %"PRIu32")", c->client_isn, e->client_isn);
            tracker_entry_set_state(lb, e, ENTRY_CONNECTING, now);
        }
        e->client_isn = c->client_isn;
        e->isn_lb = c->isn_lb;
        e->ingress = c->ingress;
        e->ttl = c->ttl;
        if (e->state != ENTRY_ESTABLISHED) {
            struct entry_handshake *hs = entry_hs(lb, e);

            hs->opts = c->opts;
            hs->ts_lb = c->ts_lb;
        }
    }
    if (c->server == CTL_NODE_NONE) {
        /* Final: no server takes the connection. */
        send_rst(lb, e, io, aux);
        if (e->role == CTL_ROLE_SFT) {
            tracker_entry_destroy(lb, e);
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
        tracker_entry_set_state(lb, e, ENTRY_CONNECTING, now);
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
void
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
    /* No more lease than the server vouches for: a connection that is over
     * (this ACCEPTED answers a CONN_REQ repeated after the first answer
     * was lost) keeps its entries only until its agent forgets it. */
    entry_set_state_until(lb, e, ENTRY_ESTABLISHED,
                          lease_end_from(lb, a->lease_ms, now), now);
    if (lbnode_trackers(lb, ENTRY_CP(lb, e), &pft, &sft)) {
        /* The PFT, and the ingress the CONNECT named at once, rather than
         * through the PFT: a hop less between the server's answer and the
         * client's buffered packets (none if this node is the ingress).
         * The PFT tells the other ingresses that wait. */
        send_mapping(lb, e, pft, now, io, aux);
        if (e->ingress != CTL_NODE_NONE && e->ingress != pft) {
            send_mapping(lb, e, e->ingress, now, io, aux);
        }
    }
}

/* SFT: the agent refused. */
void
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
    if (!lbnode_trackers(lb, ENTRY_CP(lb, e), &pft, &sft)) {
        return;
    }
    msg_init(&msg, CTL_MSG_RELEASE, lb->self);
    msg.release.cp = r->cp;
    msg.release.server = r->server;
    msg.release.ttl = r->ttl;
    lbnode_deliver(lb, pft, &msg, now, io, aux);
}

/* PFT: the server chosen for 'e' will not take it (it refused, or it went
 * down before it answered): remember it and choose another. */
void
pft_choose_again(struct lbnode *lb, struct entry *e, long long int now,
                 const struct lbnode_io *io, void *aux)
{
    struct entry_handshake *hs = entry_hs(lb, e);

    if (hs->n_rejected < CTL_TRACKER_MAX_REJECTED) {
        hs->rejected[hs->n_rejected++] = e->server;
    }
    pft_connect(lb, e, now, io, aux);
}

/* PFT: the chosen server refused; choose another. */
void
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

/* Whether 'server' is one that the handshake of 'e' chose and gave up on
 * (it refused, or looked down). */
static bool
entry_chose_before(const struct lbnode *lb, const struct entry *e,
                   uint32_t server)
{
    const struct entry_handshake *hs = entry_hs(lb, e);

    for (size_t i = 0; i < hs->n_rejected; i++) {
        if (hs->rejected[i] == server) {
            return true;
        }
    }
    return false;
}

/* MAPPING: at the PFT (from the SFT), and at the ingress (from the SFT, or
 * from the PFT for an ingress that was not the one the CONNECT named). */
void
tracker_mapping(struct lbnode *lb, const struct ctl_msg *msg,
                long long int now, const struct lbnode_io *io, void *aux)
{
    const struct ctl_mapping *map = &msg->mapping;
    struct entry *e = entry_find(lb, &map->cp);
    uint32_t pft, sft;
    bool used = false;

    if (e && e->role == CTL_ROLE_PFT && e->state == ENTRY_CONNECTING
        && e->server != map->server && map->server != CTL_NODE_NONE
        && entry_chose_before(lb, e, map->server)
        && server_find(lb, map->server)
        && lbnode_trackers(lb, ENTRY_CP(lb, e), &pft, &sft)
        && msg->sender == sft) {
        /* The SFT says that the connection is established on a server
         * that this handshake chose before: that choice accepted and we
         * missed its MAPPING.  The SFT is the authority on it; the
         * connection stays there.  (A MAPPING naming any other server is
         * about an earlier connection on the CP, and is not taken.) */
        lb->stats.mappings_other_server++;
        FLOW_DBG(&map->cp, "PFT: MAPPING from the SFT names server "
                 "%"PRIu32", not our choice %"PRIu32": taken",
                 map->server, e->server);
        e->server = map->server;
    }
    if (e && e->role == CTL_ROLE_PFT && e->state != ENTRY_ESTABLISHED
        && e->server == map->server) {
        /* The handshake part goes with the handshake: keep who waits. */
        const struct entry_handshake *hs = entry_hs(lb, e);
        uint32_t waiters[MAX_WAITERS];
        size_t n_waiters = hs->n_waiters;
        uint32_t connect_ingress = hs->connect_ingress;

        memcpy(waiters, hs->waiters, sizeof waiters);
        entry_set_state_until(lb, e, ENTRY_ESTABLISHED,
                              lease_end_from(lb, map->lease_ms, now), now);
        for (size_t i = 0; i < n_waiters; i++) {
            if (waiters[i] != lb->self && waiters[i] != connect_ingress) {
                send_mapping(lb, e, waiters[i], now, io, aux);
            }
        }
        bool self_waits = false;
        for (size_t i = 0; i < n_waiters; i++) {
            self_waits |= waiters[i] == lb->self;
        }
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
void
tracker_query(struct lbnode *lb, const struct ctl_mapping_query *q,
              long long int now, const struct lbnode_io *io, void *aux)
{
    struct entry *e = entry_find(lb, &q->cp);

    FLOW_DBG(&q->cp, "tracker: MAPPING_QUERY from ingress %"PRIu32": %s",
             q->ingress, !e ? "no entry, UNKNOWN"
             : e->state == ENTRY_ESTABLISHED ? "MAPPING"
             : "waiting for the server");
    if (e && e->state == ENTRY_ESTABLISHED) {
        /* A query means a packet of the connection, except for a hash
         * VIP's, whose ingress asks again when its mapping's lease runs
         * out (ingress_mapping_revalidate()): only its server's
         * publications say it lives, or the two would keep each other
         * alive for ever. */
        const struct vip *v = vip_for_cp(lb, &q->cp);
        if (!v || !v->cfg.hash) {
            lease_entry_renew(lb, e, now);
        }
        send_mapping(lb, e, q->ingress, now, io, aux);
    } else if (e) {
        entry_add_waiter(entry_hs(lb, e), q->ingress);
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
void
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
        struct entry_handshake *hs = tracker_entry_handshake(lb, e);

        free(hs->other);
        hs->other = xmemdup(ts, sizeof *ts);
        lb->stats.cp_conflicts++;
        return;
    }
    if (e && (e->state == ENTRY_ESTABLISHED || e->state == state)) {
        /* Ours is as good: just take the role. */
        e->role = ts->role;
        entry_schedule_retry(lb, e);
        if (e->state == ENTRY_ESTABLISHED && state == ENTRY_ESTABLISHED) {
            lease_entry_extend(lb, e, lease_end_from(lb, ts->lease_ms, now), now);
        }
        return;
    }
    if (!e) {
        if (state != ENTRY_ESTABLISHED
            && lb->n_syn_entries >= tracker_syn_bound(lb)) {
            lb->stats.table_full++;
            return;
        }
        e = tracker_entry_create(lb, &ts->cp, ts->role, now);
        if (!e) {
            return;
        }
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
    e->server = ts->server;
    e->ingress = ts->ingress;
    e->ttl = ts->ttl;
    e->isn_kind = ts->isn_kind;
    if (state != ENTRY_ESTABLISHED) {
        struct entry_handshake *hs = tracker_entry_handshake(lb, e);

        hs->opts = ts->opts;
        hs->ts_lb = ts->ts_lb;
        hs->n_rejected = MIN(ts->n_rejected, CTL_TRACKER_MAX_REJECTED);
        memcpy(hs->rejected, ts->rejected,
               hs->n_rejected * sizeof *hs->rejected);
        if (state == ENTRY_CONNECTING) {
            hs->connect_sent = now;
            if (ts->ingress != CTL_NODE_NONE) {
                entry_add_waiter(hs, ts->ingress);
            }
        }
    }
    e->from_publication = false;
    /* An established entry gets what the sender's lease had left, not a
     * new lease: a closed connection's entry handed over must not outlive
     * it.  A handshake, likewise, what the sender's handshake had left (0
     * from a sender that does not say: a full handshake timeout). */
    entry_set_state_until(lb, e, state, lease_end_from(lb, ts->lease_ms, now), now);
    if (state != ENTRY_ESTABLISHED && ts->lease_ms
        && entry_expires(e) > now + ts->lease_ms) {
        lease_entry_set_expiry(lb, e, now + ts->lease_ms);
    }
}

/* Hands the flow of 'e' to its PFT and SFT under this node's ring
 * (TRACKER_SYNC to each of them that is not this node) and takes the role
 * the ring gives this node, if any (PROTOCOL.md §7). */
static void
entry_hand_over(struct lbnode *lb, struct entry *e, long long int now,
                const struct lbnode_io *io, void *aux)
{
    uint32_t pft, sft;

    if (!lbnode_trackers(lb, ENTRY_CP(lb, e), &pft, &sft)) {
        return;
    }
    if (pft != lb->self && sft != lb->self
        && e->state != ENTRY_ESTABLISHED
        && entry_expires(e) > now + lb->lease_ms) {
        /* A handshake this node no longer tracks: its copy serves late
         * messages of the old ring for a lease at most, as an established
         * entry's does, not for the whole handshake timeout. */
        lease_entry_set_expiry(lb, e, now + lb->lease_ms);
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
            .cp = entry_cp(lb, e),
            .state = (e->state == ENTRY_ESTABLISHED
                      ? CTL_TRACKER_ESTABLISHED
                      : CTL_TRACKER_SYN_RECEIVED),
            .role = role, .isn_lb = e->isn_lb,
            .client_isn = e->client_isn, .server = e->server,
            .ingress = e->ingress, .ttl = e->ttl,
            .isn_kind = e->isn_kind,
            .lease_ms = (e->state == ENTRY_ESTABLISHED
                         ? lease_left(entry_expires(e), now)
                         : MAX(lease_left(entry_expires(e), now), 1)),
        };
        if (e->state != ENTRY_ESTABLISHED) {
            /* An established entry kept none of these (struct entry). */
            const struct entry_handshake *hs = entry_hs(lb, e);
            struct ctl_tracker_sync *ts = &msg.tracker_sync;

            ts->opts = hs->opts;
            ts->ts_lb = hs->ts_lb;
            ts->n_rejected = hs->n_rejected;
            memcpy(ts->rejected, hs->rejected,
                   hs->n_rejected * sizeof *hs->rejected);
        }
        FLOW_DBG(ENTRY_CP(lb, e), "TRACKER_SYNC to node %"PRIu32" as %s, %s",
                 dst, i == 0 ? "PFT" : "SFT", entry_state_name(e->state));
        io->send(aux, dst, &msg);
        lb->stats.trackers_sent++;
    }
    entry_schedule_retry(lb, e);
}

/* Returns true if the ring change since the last rebalance leaves 'e' where
 * it is: this node was its PFT or SFT and keeps that role, with the same
 * PFT and SFT.  Its trackers then hold it already (or their own
 * publications and retries repair it, as before the change), and handing
 * it over again would cost a TRACKER_SYNC per entry at every ring change
 * where about 1/N of them move (issue 17's scale report: 0.99 TRACKER_SYNCs
 * per entry against 0.014 entries moved at 64 LB nodes). */
static bool
entry_trackers_unchanged(const struct lbnode *lb, const struct entry *e)
{
    uint32_t pft, sft, old[2];
    size_t n;

    if (!lb->synced_ring
        || !lbnode_trackers(lb, ENTRY_CP(lb, e), &pft, &sft)) {
        return false;
    }
    n = ring_trackers(lb->synced_ring, ENTRY_CP(lb, e), &old[0], &old[1]);
    if (n == 1) {
        old[1] = old[0];
    }
    return (n >= 1 && old[0] == pft && old[1] == sft
            && (pft == lb->self ? e->role == CTL_ROLE_PFT
                : sft == lb->self && e->role == CTL_ROLE_SFT));
}

/* After a change of the ring (lbnode_configure() with another healthy set),
 * hands every flow this node tracks, established or still in the handshake,
 * to its trackers under the new ring (TRACKER_SYNC), and takes the role the
 * new ring gives this node, so that a handshake in progress completes with
 * the new PFT.
 * Does nothing if the ring did not change since the last call. */
void
lbnode_rebalance(struct lbnode *lb, long long int now,
                 const struct lbnode_io *io, void *aux)
{
    uint64_t digest = lb->ring ? ring_digest(lb->ring) : 0;
    struct entry *e;

    if (!lb->ring || digest == lb->synced_digest) {
        return;
    }
    lb->synced_digest = digest;
    HMAP_FOR_EACH (e, node, &lb->entries) {
        if (entry_trackers_unchanged(lb, e)) {
            lb->stats.trackers_unchanged++;
            continue;
        }
        entry_hand_over(lb, e, now, io, aux);
    }
    if (lb->synced_ring != lb->ring) {
        ring_destroy(lb->synced_ring);
    }
    lb->synced_ring = lb->ring;
}
