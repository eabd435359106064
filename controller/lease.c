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
 * lease: the leases of an LB node core's state (lbnode.h, PROTOCOL.md §6).
 * Tracker entries and ingress mappings live for a lease, which the
 * servers' publications of their live connections (PUBLISH, forwarded as
 * PUBLISH_FWD) renew, or rebuild if a node lost its state.  What must
 * survive a restart goes to the daemon's journal as records that
 * lbnode_restore() reads back.  Part of the lbnode core
 * (lbnode-private.h).
 */
#include <config.h>
#include "lbnode-private.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "coverage.h"
#include "deadline-queue.h"
#include "openvswitch/hmap.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(lease);

COVERAGE_DEFINE(lbnode_bad_record);

/* What the journal holds for an established tracker entry and for an
 * ingress mapping.  The store is this node's own file, so host byte order;
 * the version and the length reject anything else.  An established entry
 * no longer keeps its handshake's 'ts_lb' and 'opts' (struct entry): they
 * are written as zeros, and read (the options checked) but not used. */
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

/* Writes the record of the established entry 'e' to the journal. */
void
lease_journal_entry(struct lbnode *lb, struct entry *e, long long int now)
{
    e->journalled = (uint32_t) entry_expires(e);
    if (lb->journal) {
        struct entry_record r;

        memset(&r, 0, sizeof r);
        r.version = RECORD_VERSION;
        r.role = e->role;
        r.isn_kind = e->isn_kind;
        r.ttl = e->ttl;
        r.client_isn = e->client_isn;
        r.isn_lb = e->isn_lb;
        r.server = e->server;
        r.ingress = e->ingress;
        lb->journal(lb->journal_aux, LBNODE_JOURNAL_TRACKER, ENTRY_CP(lb, e),
                    &r, sizeof r, MAX(entry_expires(e) - now, 1));
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

/* Writes the record of the mapping 'm' to the journal. */
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

/* Sets when 'e' lapses, 'expires' (the handshake timeout, or the end of
 * the lease), in the queue of its state.  An established entry's is
 * exact: lbnode_run() rounds the time it sweeps lapsed leases at
 * (lease_sweep_time()). */
void
lease_entry_set_expiry(struct lbnode *lb, struct entry *e,
                       long long int expires)
{
    deadline_queue_set(e->state == ENTRY_ESTABLISHED
                       ? &lb->entry_leases : &lb->handshakes,
                       &e->expiry, expires);
}

/* Puts the timer of 'm' at the end of its lease. */
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

/* What is left at 'now' of a lease that ends at 'expires', as the
 * 'lease_ms' of a MAPPING or TRACKER_SYNC. */
uint32_t
lease_left(long long int expires, long long int now)
{
    return MIN(MAX(expires - now, 0), UINT32_MAX);
}

/* When a lease that another node says has 'lease_ms' left ends here: at
 * most a full lease of ours from 'now'. */
long long int
lease_end_from(const struct lbnode *lb, uint32_t lease_ms, long long int now)
{
    return now + MIN((long long int) lease_ms, lb->lease_ms);
}

/* The expiry that the journal holds for the established entry 'e', from
 * the low 32 bits that 'e' keeps of it: they are less than 2**32 ms behind
 * the entry's expiry, which only grows while 'e' is established and is
 * journalled again once it has grown by half a lease (at most an hour). */
static long long int
entry_journalled(const struct entry *e)
{
    long long int expires = entry_expires(e);

    return expires - (uint32_t) ((uint32_t) expires - e->journalled);
}

/* Extends the lease of the established entry 'e' to 'expires', if it
 * ends earlier. */
void
lease_entry_extend(struct lbnode *lb, struct entry *e, long long int expires,
                   long long int now)
{
    lease_entry_set_expiry(lb, e, MAX(entry_expires(e), expires));
    if (lease_journal_due(lb, entry_expires(e), entry_journalled(e))) {
        lease_journal_entry(lb, e, now);
    }
}

/* Extends the lease of the established entry 'e' to a full lease from
 * 'now'. */
void
lease_entry_renew(struct lbnode *lb, struct entry *e, long long int now)
{
    lease_entry_extend(lb, e, now + lb->lease_ms, now);
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
        e = tracker_entry_create(lb, &pe->cp, role, now);
        if (!e) {
            /* Full of handshakes: the next publication tries again. */
            return;
        }
        e->server = server;
        e->ingress = pe->ingress;
        e->ttl = 1;
        e->from_publication = true;
        tracker_entry_set_state(lb, e, ENTRY_ESTABLISHED, now);
        lb->stats.entries_restored++;
        return;
    }
    if (e->state != ENTRY_ESTABLISHED) {
        /* A handshake that reuses the CP, or one whose server's answer we
         * have not had yet: its own timers and retries settle it.  (Not
         * established on the publication's word: it names no ISN, and a
         * stale socket of an earlier connection on the CP would look the
         * same.)  But if its chosen server publishes it, the retry must
         * not give it to another server should that one go down; and the
         * entry lives on the publications, as a lease: once they stop
         * (the connection closed, or its server is gone), it goes a lease
         * later rather than at the handshake's timeout, so that retries
         * answered after the close keep nothing for long.  Not once that
         * server was found down (server_lost: no more retries): then the
         * entry lapses, and the server's publications, if it came back
         * with the connection, rebuild it established (above). */
        if (e->state == ENTRY_CONNECTING && e->server == server
            && !entry_hs(lb, e)->server_lost) {
            entry_hs(lb, e)->server_published = true;
            lease_entry_set_expiry(lb, e, now + lb->lease_ms);
        } else if (e->state == ENTRY_SYN_RECEIVED
                   && entry_expires(e) > now + lb->lease_ms) {
            /* A server has a socket for the CP while we still wait for
             * the client's ACK: the connection was established through
             * another PFT while the rings disagreed (or a stale socket
             * of an earlier connection shares the CP, and the client's
             * ACK is due within a round trip anyway).  Wait a lease at
             * most, not the whole handshake timeout: if the connection
             * lives on, its publications rebuild the entry established
             * once this one lapsed. */
            lease_entry_set_expiry(lb, e, now + lb->lease_ms);
            lb->stats.publish_handshake_cut++;
        }
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
    lease_entry_renew(lb, e, now);
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
            .lease_ms = lb->lease_ms,
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
void
lease_publish(struct lbnode *lb, const struct ctl_msg *msg,
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
        const struct vip *v = vip_for_cp(lb, &pe->cp);
        if (!v) {
            lb->stats.publish_invalid++;
            continue;
        }
        struct in6_addr slot_server;
        if (v->cfg.hash && io->hash_target
            && io->hash_target(aux, &pe->cp, false, &slot_server)
            && ipv6_addr_equals(&slot_server, &server->underlay)) {
            /* A hash VIP's connection on the server that its slot names:
             * the switch sends it there without any state (PROTOCOL.md
             * §4: state only for the flows a change moved). */
            lb->stats.publish_hash_in_place++;
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

/* Returns true if the booleans of the TCP options in the tracker record
 * 'data' are 0 or 1, as this version writes them.  They are read as bytes:
 * any other value in a bool is undefined behaviour. */
static bool
record_opts_are_valid(const void *data)
{
    static const size_t bools[] = {
        offsetof(struct ctl_tcp_opts, has_mss),
        offsetof(struct ctl_tcp_opts, has_wscale),
        offsetof(struct ctl_tcp_opts, sack_permitted),
        offsetof(struct ctl_tcp_opts, has_ts),
        offsetof(struct ctl_tcp_opts, ece),
        offsetof(struct ctl_tcp_opts, cwr),
    };
    const uint8_t *opts = ((const uint8_t *) data
                           + offsetof(struct entry_record, opts));

    for (size_t i = 0; i < ARRAY_SIZE(bools); i++) {
        if (opts[bools[i]] > 1) {
            return false;
        }
    }
    return true;
}

/* Restores a record that 'lb''s journal wrote before a restart: 'len' bytes
 * at 'data' for 'cp' in 'table', still valid for 'ttl_ms'.  A mapping is
 * installed again through 'io'.  Returns false (and restores nothing) if the
 * record is not one this version wrote, for a 'cp' that it could have
 * written. */
bool
lbnode_restore(struct lbnode *lb, const char *table,
               const struct flow_key *cp, const void *data, size_t len,
               long long int ttl_ms, long long int now,
               const struct lbnode_io *io, void *aux)
{
    if (!flow_key_is_valid(cp)) {
        COVERAGE_INC(lbnode_bad_record);
        return false;
    }
    if (!strcmp(table, LBNODE_JOURNAL_TRACKER)) {
        struct entry_record r;
        struct entry *e;

        if (len != sizeof r || !record_opts_are_valid(data)) {
            COVERAGE_INC(lbnode_bad_record);
            return false;
        }
        memcpy(&r, data, sizeof r);
        if (r.version != RECORD_VERSION || r.role >= CTL_ROLE_N_ROLES
            || r.isn_kind >= CTL_ISN_N_KINDS || r.server > CTL_NODE_MAX
            || r.ingress > CTL_NODE_MAX) {
            COVERAGE_INC(lbnode_bad_record);
            return false;
        } else if (entry_find(lb, cp)) {
            return false;
        }
        e = tracker_entry_create(lb, cp, r.role, now);
        if (!e) {
            return false;
        }
        e->isn_kind = r.isn_kind;
        e->ttl = r.ttl;
        e->client_isn = r.client_isn;
        e->isn_lb = r.isn_lb;
        e->server = r.server;
        e->ingress = r.ingress;
        tracker_entry_free_handshake(lb, e);
        lb->n_syn_entries--;
        e->state = ENTRY_ESTABLISHED;
        lease_entry_set_expiry(lb, e, now + ttl_ms);
        e->journalled = (uint32_t) entry_expires(e);
        return true;
    } else if (!strcmp(table, LBNODE_JOURNAL_MAPPING)) {
        struct mapping_record r;
        struct mapping *m;

        if (len != sizeof r) {
            COVERAGE_INC(lbnode_bad_record);
            return false;
        }
        memcpy(&r, data, sizeof r);
        if (r.version != RECORD_VERSION) {
            COVERAGE_INC(lbnode_bad_record);
            return false;
        } else if (mapping_find(lb, cp)) {
            return false;
        }
        ingress_mapping_make_room(lb, io, aux);
        m = xzalloc(sizeof *m);
        m->cp = *cp;
        m->server = r.server;
        m->server_addr = r.server_addr;
        m->expires = m->journalled = now + ttl_ms;
        lease_mapping_schedule_expiry(lb, m);
        mapping_insert(lb, m);
        io->install_mapping(aux, cp, &m->server_addr);
        return true;
    }
    return false;
}
