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
#include "owners.h"

#include <stdlib.h>
#include <string.h>

#include "ctl-msg.h"
#include "hash.h"
#include "metrics.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(owners);

/* A socket of this node. */
struct owned {
    struct hmap_node node;      /* In 'owned', by flow_key_hash(). */
    struct flow_key cp;
    uint64_t dump;              /* Last dump that saw it. */
};

/* A socket of another node. */
struct association {
    struct hmap_node node;      /* In 'associations', by flow_key_hash(). */
    struct flow_key cp;
    uint32_t owner;
    long long int expires;
    long long int committed_at; /* Last ops->redirect(). */
};

/* A server node that sent us OWNER messages. */
struct peer {
    struct hmap_node node;      /* In 'peers', by hash_int(id). */
    uint32_t id;
    long long int heard_at;
    size_t n_associations;
};

/* An OWNER message being filled, per target. */
struct outbox {
    struct ctl_msg *msg;
};

struct owners {
    uint32_t self;
    const struct owners_ops *ops;
    void *aux;

    uint32_t *targets;          /* Sorted. */
    size_t n_targets;
    uint32_t *servers;          /* Sorted: accepted senders. */
    size_t n_servers;
    long long int lease_ms;

    struct hmap owned;
    uint64_t dump;              /* Current dump. */
    struct flow_key *opened;    /* Opened since the last message. */
    size_t n_opened, allocated_opened;
    long long int next_refresh;
    uint32_t *new_targets;      /* Targets owed the whole set. */
    size_t n_new_targets;

    struct hmap associations;
    struct hmap peers;
    uint64_t peers_seqno;
    long long int next_sweep;

    struct owners_stats stats;
};

static uint32_t
peer_hash(uint32_t id)
{
    return hash_int(id, 0);
}

static bool
contains(const uint32_t *set, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++) {
        if (set[i] == id) {
            return true;
        }
    }
    return false;
}

struct owners *
owners_create(uint32_t self, const struct owners_ops *ops, void *aux)
{
    struct owners *o = xzalloc(sizeof *o);

    o->self = self;
    o->ops = ops;
    o->aux = aux;
    o->lease_ms = 10000;
    hmap_init(&o->owned);
    hmap_init(&o->associations);
    hmap_init(&o->peers);
    o->next_refresh = LLONG_MIN;
    o->next_sweep = LLONG_MIN;
    return o;
}

void
owners_destroy(struct owners *o)
{
    if (!o) {
        return;
    }
    struct owned *ow;
    HMAP_FOR_EACH_POP (ow, node, &o->owned) {
        free(ow);
    }
    hmap_destroy(&o->owned);
    struct association *as;
    HMAP_FOR_EACH_POP (as, node, &o->associations) {
        free(as);
    }
    hmap_destroy(&o->associations);
    struct peer *p;
    HMAP_FOR_EACH_POP (p, node, &o->peers) {
        free(p);
    }
    hmap_destroy(&o->peers);
    free(o->targets);
    free(o->servers);
    free(o->opened);
    free(o->new_targets);
    free(o);
}

/* Peers. */

static struct peer *
peer_find(const struct owners *o, uint32_t id)
{
    struct peer *p;

    HMAP_FOR_EACH_WITH_HASH (p, node, peer_hash(id), &o->peers) {
        if (p->id == id) {
            return p;
        }
    }
    return NULL;
}

static void
association_remove(struct owners *o, struct association *as, bool tell)
{
    struct peer *p = peer_find(o, as->owner);

    if (p && p->n_associations) {
        p->n_associations--;
    }
    hmap_remove(&o->associations, &as->node);
    if (tell) {
        o->stats.unredirects++;
        o->ops->unredirect(o->aux, &as->cp);
    }
    if (hmap_is_empty(&o->associations)) {
        /* The pipeline's lookup goes. */
        o->peers_seqno++;
    }
    free(as);
}

/* Ends the associations of peer 'id' and forgets it. */
static void
peer_remove(struct owners *o, struct peer *p)
{
    struct association *as;

    if (p->n_associations) {
        HMAP_FOR_EACH_SAFE (as, node, &o->associations) {
            if (as->owner == p->id) {
                association_remove(o, as, true);
            }
        }
    }
    hmap_remove(&o->peers, &p->node);
    o->peers_seqno++;
    free(p);
}

static void
expire_peers(struct owners *o, long long int now)
{
    struct peer *p;

    HMAP_FOR_EACH_SAFE (p, node, &o->peers) {
        bool gone = !contains(o->servers, o->n_servers, p->id);

        if (gone || now - p->heard_at >= o->lease_ms) {
            VLOG_INFO("server node %"PRIu32" %s: %"PRIuSIZE" of its "
                      "connections no longer redirected to it", p->id,
                      gone ? "left the configuration"
                           : "silent for a lease",
                      p->n_associations);
            o->stats.peers_departed++;
            peer_remove(o, p);
        }
    }
}

/* Configuration. */

static int
compare_u32(const void *a_, const void *b_)
{
    uint32_t a = *(const uint32_t *) a_, b = *(const uint32_t *) b_;
    return a < b ? -1 : a > b;
}

static uint32_t *
sorted_copy(const uint32_t *ids, size_t n)
{
    uint32_t *copy = xcalloc(MAX(n, 1), sizeof *copy);

    if (n) {
        memcpy(copy, ids, n * sizeof *ids);
        qsort(copy, n, sizeof *copy, compare_u32);
    }
    return copy;
}

/* Sets the nodes to gossip to ('targets', the other server nodes of this
 * node's `hash` VIPs), the nodes to hear from ('servers', every server node
 * of the configuration: a node whose VIP port was taken away still owns the
 * connections it drains) and the lease of an announcement. */
void
owners_set_config(struct owners *o, const uint32_t *targets,
                  size_t n_targets, const uint32_t *servers, size_t n_servers,
                  long long int lease_ms, long long int now)
{
    uint32_t *t = sorted_copy(targets, n_targets);

    /* A new target is owed the whole set at once. */
    for (size_t i = 0; i < n_targets; i++) {
        if (t[i] != o->self && !contains(o->targets, o->n_targets, t[i])
            && !contains(o->new_targets, o->n_new_targets, t[i])) {
            o->new_targets = xrealloc(o->new_targets,
                                      (o->n_new_targets + 1)
                                      * sizeof *o->new_targets);
            o->new_targets[o->n_new_targets++] = t[i];
        }
    }
    free(o->targets);
    o->targets = t;
    o->n_targets = n_targets;
    free(o->servers);
    o->servers = sorted_copy(servers, n_servers);
    o->n_servers = n_servers;
    if (lease_ms > 0 && lease_ms != o->lease_ms) {
        o->lease_ms = lease_ms;
        o->next_refresh = MIN(o->next_refresh,
                              now + lease_ms / OWNERS_REFRESH_DIV);
    }
    expire_peers(o, now);
}

/* Sending. */

static void
outbox_flush(struct owners *o, struct outbox *box, uint32_t dst)
{
    if (box->msg) {
        o->stats.msgs_sent++;
        o->ops->send(o->aux, dst, box->msg);
        free(box->msg);
        box->msg = NULL;
    }
}

static void
outbox_put(struct owners *o, struct outbox *box, uint32_t dst,
           const struct flow_key *cp, bool opened)
{
    if (box->msg && box->msg->owner.n >= CTL_OWNER_MAX_ENTRIES) {
        outbox_flush(o, box, dst);
    }
    if (!box->msg) {
        box->msg = xmalloc(sizeof *box->msg);
        ctl_msg_init(box->msg, CTL_MSG_OWNER, o->self, 0);
        box->msg->owner.server = o->self;
        box->msg->owner.n = 0;
    }
    if (cp) {
        struct ctl_owner_entry *e = &box->msg->owner.entries[
            box->msg->owner.n++];

        e->cp = *cp;
        e->opened = opened;
    }
}

/* Sends every owned socket to 'dst', as opened (at least one message). */
static void
send_all(struct owners *o, uint32_t dst)
{
    struct outbox box = { NULL };
    struct owned *ow;

    outbox_put(o, &box, dst, NULL, false);
    HMAP_FOR_EACH (ow, node, &o->owned) {
        outbox_put(o, &box, dst, &ow->cp, true);
        o->stats.opened_sent++;
    }
    outbox_flush(o, &box, dst);
}

static void
refresh(struct owners *o, long long int now)
{
    for (size_t i = 0; i < o->n_targets; i++) {
        if (o->targets[i] != o->self) {
            send_all(o, o->targets[i]);
        }
    }
    o->n_new_targets = 0;
    o->n_opened = 0;
    o->stats.refreshes++;
    o->next_refresh = now + MAX(o->lease_ms / OWNERS_REFRESH_DIV, 1);
}

/* Own sockets. */

void
owners_dump_begin(struct owners *o)
{
    o->dump++;
}

static struct association *
association_find(const struct owners *o, const struct flow_key *cp)
{
    struct association *as;

    HMAP_FOR_EACH_WITH_HASH (as, node, flow_key_hash(cp, 0), &o->associations) {
        if (flow_key_equals(&as->cp, cp)) {
            return as;
        }
    }
    return NULL;
}

static struct owned *
owned_find(const struct owners *o, const struct flow_key *cp)
{
    struct owned *ow;

    HMAP_FOR_EACH_WITH_HASH (ow, node, flow_key_hash(cp, 0), &o->owned) {
        if (flow_key_equals(&ow->cp, cp)) {
            return ow;
        }
    }
    return NULL;
}

/* The socket 'cp' of a `hash` VIP port is in this node's table. */
void
owners_dump_socket(struct owners *o, const struct flow_key *cp)
{
    struct owned *ow = owned_find(o, cp);

    if (ow) {
        ow->dump = o->dump;
        return;
    }
    ow = xmalloc(sizeof *ow);
    ow->cp = *cp;
    ow->dump = o->dump;
    hmap_insert(&o->owned, &ow->node, flow_key_hash(cp, 0));
    if (o->n_opened >= o->allocated_opened) {
        o->opened = x2nrealloc(o->opened, &o->allocated_opened,
                               sizeof *o->opened);
    }
    o->opened[o->n_opened++] = *cp;

    /* Ours now: whatever a peer said, its segments stay here. */
    struct association *as = association_find(o, cp);
    if (as) {
        o->stats.local_wins++;
        association_remove(o, as, true);
    }
}

/* Ends a dump: sends what opened and closed since the last one. */
void
owners_dump_end(struct owners *o, long long int now)
{
    struct flow_key *closed = NULL;
    size_t n_closed = 0, allocated = 0;
    struct owned *ow;

    HMAP_FOR_EACH_SAFE (ow, node, &o->owned) {
        if (ow->dump != o->dump) {
            if (n_closed >= allocated) {
                closed = x2nrealloc(closed, &allocated, sizeof *closed);
            }
            closed[n_closed++] = ow->cp;
            hmap_remove(&o->owned, &ow->node);
            free(ow);
        }
    }

    if (now >= o->next_refresh) {
        /* The whole set goes anyway; closes need no message (the receivers'
         * leases end them), but saying so ends them at once. */
        refresh(o, now);
    } else {
        for (size_t i = 0; i < o->n_new_targets; i++) {
            send_all(o, o->new_targets[i]);
        }
        for (size_t i = 0; i < o->n_targets; i++) {
            uint32_t dst = o->targets[i];
            struct outbox box = { NULL };

            if (dst == o->self
                || contains(o->new_targets, o->n_new_targets, dst)) {
                continue;
            }
            for (size_t j = 0; j < o->n_opened; j++) {
                outbox_put(o, &box, dst, &o->opened[j], true);
                o->stats.opened_sent++;
            }
            outbox_flush(o, &box, dst);
        }
        o->n_new_targets = 0;
        o->n_opened = 0;
    }
    for (size_t i = 0; i < o->n_targets; i++) {
        uint32_t dst = o->targets[i];
        struct outbox box = { NULL };

        if (dst == o->self) {
            continue;
        }
        for (size_t j = 0; j < n_closed; j++) {
            outbox_put(o, &box, dst, &closed[j], false);
            o->stats.closed_sent++;
        }
        outbox_flush(o, &box, dst);
    }
    free(closed);
}

/* Receiving. */

static void
associate(struct owners *o, uint32_t owner, const struct flow_key *cp,
          long long int now)
{
    struct association *as = association_find(o, cp);

    o->stats.opened_received++;
    if (owned_find(o, cp)) {
        /* Both claim it: ours stays ours (a stale announcement, or a
         * client reusing its port on two servers). */
        o->stats.conflicts++;
        return;
    }
    if (as && as->owner != owner) {
        struct peer *old = peer_find(o, as->owner);

        if (old && old->n_associations) {
            old->n_associations--;
        }
        as->owner = owner;
        as->committed_at = LLONG_MIN;
        o->stats.moved++;
        struct peer *p = peer_find(o, owner);
        if (p) {
            p->n_associations++;
        }
    }
    if (!as) {
        if (hmap_count(&o->associations) >= OWNERS_MAX_ASSOCIATIONS) {
            o->stats.table_full++;
            return;
        }
        if (hmap_is_empty(&o->associations)) {
            /* The pipeline's lookup comes. */
            o->peers_seqno++;
        }
        as = xmalloc(sizeof *as);
        as->cp = *cp;
        as->owner = owner;
        as->committed_at = LLONG_MIN;
        hmap_insert(&o->associations, &as->node, flow_key_hash(cp, 0));
        struct peer *p = peer_find(o, owner);
        if (p) {
            p->n_associations++;
        }
    }
    as->expires = now + o->lease_ms;
    if (as->committed_at == LLONG_MIN
        || now - as->committed_at >= OWNERS_RECOMMIT_MS) {
        o->stats.redirects++;
        as->committed_at = (o->ops->redirect(o->aux, cp, owner)
                            ? now : LLONG_MIN);
    }
}

static void
dissociate(struct owners *o, uint32_t owner, const struct flow_key *cp)
{
    struct association *as = association_find(o, cp);

    o->stats.closed_received++;
    if (!as || as->owner != owner) {
        o->stats.closed_unknown++;
        return;
    }
    association_remove(o, as, true);
}

/* Handles an OWNER message. */
void
owners_receive(struct owners *o, const struct ctl_msg *msg,
               long long int now)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    const struct ctl_owner *m = &msg->owner;
    uint32_t sender = msg->sender;

    if (sender == o->self || m->server != sender
        || !contains(o->servers, o->n_servers, sender)) {
        o->stats.msgs_refused++;
        VLOG_WARN_RL(&rl, "OWNER from node %"PRIu32" for server %"PRIu32
                     " refused: %s", sender, m->server,
                     sender == o->self ? "from this node"
                     : m->server != sender ? "not speaking for itself"
                     : "not a server node of the configuration");
        return;
    }
    o->stats.msgs_received++;

    struct peer *p = peer_find(o, sender);
    if (!p) {
        p = xzalloc(sizeof *p);
        p->id = sender;
        hmap_insert(&o->peers, &p->node, peer_hash(sender));
        o->peers_seqno++;
        VLOG_INFO("server node %"PRIu32" gossips its connections", sender);
    }
    p->heard_at = now;

    for (size_t i = 0; i < m->n; i++) {
        const struct ctl_owner_entry *e = &m->entries[i];

        if (e->opened) {
            associate(o, sender, &e->cp, now);
        } else {
            dissociate(o, sender, &e->cp);
        }
    }
}

/* Timers. */

void
owners_run(struct owners *o, long long int now)
{
    if (now >= o->next_sweep) {
        struct association *as;

        expire_peers(o, now);
        HMAP_FOR_EACH_SAFE (as, node, &o->associations) {
            if (now >= as->expires) {
                o->stats.expired++;
                association_remove(o, as, true);
            }
        }
        o->next_sweep = now + MAX(o->lease_ms / OWNERS_REFRESH_DIV, 1);
    }
    if (o->n_targets && now >= o->next_refresh) {
        refresh(o, now);
    } else if (!o->n_targets) {
        o->next_refresh = MAX(o->next_refresh, now);
    }
}

long long int
owners_next_deadline(const struct owners *o)
{
    long long int next = o->next_sweep;

    if (o->n_targets) {
        next = MIN(next, o->next_refresh);
    }
    return next;
}

/* Queries. */

size_t
owners_n_owned(const struct owners *o)
{
    return hmap_count(&o->owned);
}

size_t
owners_n_associations(const struct owners *o)
{
    return hmap_count(&o->associations);
}

bool
owners_lookup(const struct owners *o, const struct flow_key *cp,
              uint32_t *owner)
{
    const struct association *as = association_find(o, cp);

    if (as) {
        *owner = as->owner;
    }
    return as != NULL;
}

/* Stores into 'ids' (at most 'max') the peers heard within a lease, sorted,
 * and returns how many there are. */
size_t
owners_live_peers(const struct owners *o, uint32_t *ids, size_t max)
{
    const struct peer *p;
    size_t n = 0;

    HMAP_FOR_EACH (p, node, &o->peers) {
        if (n < max) {
            ids[n] = p->id;
        }
        n++;
    }
    if (MIN(n, max) > 1) {
        qsort(ids, MIN(n, max), sizeof *ids, compare_u32);
    }
    return n;
}

/* Changes whenever the live peers change, or the associations become empty
 * or not: what the switch's pipeline depends on. */
uint64_t
owners_peers_seqno(const struct owners *o)
{
    return o->peers_seqno;
}

const struct owners_stats *
owners_get_stats(const struct owners *o)
{
    return &o->stats;
}

/* Appends the peers and associations to 's'. */
void
owners_format(const struct owners *o, struct ds *s)
{
    const struct association *as;
    const struct peer *p;
    const struct owned *ow;

    ds_put_format(s, "owned: %"PRIuSIZE"\n", hmap_count(&o->owned));
    HMAP_FOR_EACH (ow, node, &o->owned) {
        ds_put_cstr(s, "  ");
        flow_key_format(&ow->cp, s);
        ds_put_char(s, '\n');
    }
    ds_put_format(s, "peers: %"PRIuSIZE"\n", hmap_count(&o->peers));
    HMAP_FOR_EACH (p, node, &o->peers) {
        ds_put_format(s, "  server %"PRIu32": %"PRIuSIZE" connections\n",
                      p->id, p->n_associations);
    }
    ds_put_format(s, "associations: %"PRIuSIZE"\n",
                  hmap_count(&o->associations));
    HMAP_FOR_EACH (as, node, &o->associations) {
        ds_put_cstr(s, "  ");
        flow_key_format(&as->cp, s);
        ds_put_format(s, " owner=%"PRIu32"\n", as->owner);
    }
}

#define OWNERS_COUNTERS                                                     \
    C(msgs_sent, "OWNER messages sent.")                                    \
    C(msgs_received, "OWNER messages accepted.")                            \
    C(msgs_refused, "OWNER messages refused: not from a server node of "    \
      "the configuration speaking for itself.")                             \
    C(opened_sent, "Sockets announced as opened (deltas and refreshes).")   \
    C(closed_sent, "Sockets announced as closed.")                          \
    C(refreshes, "Rounds that announced every owned socket again.")         \
    C(opened_received, "Opened announcements received.")                    \
    C(closed_received, "Closed announcements received.")                    \
    C(closed_unknown, "Closed announcements of no association of their "    \
      "sender.")                                                            \
    C(conflicts, "Announcements of sockets this node owns, ignored.")       \
    C(local_wins, "Associations ended because the socket is this node's.")  \
    C(moved, "Associations whose owner changed.")                           \
    C(expired, "Associations whose lease lapsed.")                          \
    C(peers_departed, "Peers forgotten (silent for a lease, or no longer "  \
      "server nodes), with their associations.")                            \
    C(table_full, "Announcements dropped: the association table is full.") \
    C(redirects, "Associations committed to the switch.")                   \
    C(unredirects, "Associations removed from the switch.")

void
owners_format_stats(const struct owners *o, struct ds *s)
{
    ds_put_format(s, "ownership:\n  owned: %"PRIuSIZE"\n"
                  "  associations: %"PRIuSIZE"\n  peers: %"PRIuSIZE"\n",
                  hmap_count(&o->owned), hmap_count(&o->associations),
                  hmap_count(&o->peers));
#define C(NAME, HELP) \
    ds_put_format(s, "  owner_" #NAME ": %"PRIu64"\n", o->stats.NAME);
    OWNERS_COUNTERS
#undef C
}

void
owners_put_metrics(const struct owners *o, struct metrics *m)
{
    static const struct metrics_counter counters[] = {
#define C(NAME, HELP) \
        METRICS_COUNTER_FIELD(struct owners_stats, NAME, #NAME, HELP),
        OWNERS_COUNTERS
#undef C
    };
    const struct metrics_gauge gauges[] = {
        { "owned", "Sockets of this node's hash VIP ports announced.",
          hmap_count(&o->owned) },
        { "associations", "Connections of other server nodes this node "
          "redirects to them.", hmap_count(&o->associations) },
        { "peers", "Server nodes heard from within a lease.",
          hmap_count(&o->peers) },
    };

    metrics_put_counters(m, "ovslb_agent_owner_", counters,
                         ARRAY_SIZE(counters), &o->stats, NULL);
    metrics_put_gauges(m, "ovslb_agent_owner_", gauges, ARRAY_SIZE(gauges),
                       NULL);
}
