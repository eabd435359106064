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
 * lbnode-private: the state of an LB node core (lbnode.h) that its parts
 * share, and the functions they call across files.  The core is one module
 * split by noun:
 *
 *   lbnode.c   creation, configuration, dispatch of messages, timers,
 *              inspection;
 *   ingress.c  the ingress role: packet-ins, pending flows and their
 *              buffers, mappings;
 *   tracker.c  the flow-tracker roles (PFT and SFT): handshake state,
 *              SYN/ACK, ACK validation, server choice, hand-over;
 *   lease.c    leases, connection publishing and the journal records.
 *
 * Only those files include this header; everyone else uses lbnode.h.
 * Single-threaded, like the core.
 */
#ifndef OVSLB_LBNODE_PRIVATE_H
#define OVSLB_LBNODE_PRIVATE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "openvswitch/compiler.h"
#include "controller/entry-key.h"
#include "controller/lbnode.h"
#include "deadline-queue.h"
#include "event-rate.h"
#include "flow-key.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "packets.h"
#include "syn-cookie.h"

struct ring;
struct selection;

/* Ingresses remembered per flow while its server is being chosen. */
#define MAX_WAITERS 4

enum entry_state {
    ENTRY_SYN_RECEIVED,         /* SYN/ACK sent, waiting for the ACK. */
    ENTRY_CONNECTING,           /* Server chosen, waiting for its answer. */
    ENTRY_ESTABLISHED,          /* Server accepted. */
};

/* What a tracker entry needs only while its flow is in the handshake
 * (ENTRY_SYN_RECEIVED or ENTRY_CONNECTING), allocated apart from the entry
 * so that an established connection, the state a tracker holds a million
 * of, costs only its 'struct entry' (issue 17).  Made when an entry enters
 * or re-enters the handshake (tracker_entry_handshake()), freed when it
 * becomes established (tracker_entry_set_state()).  An established entry
 * has one too while it remembers 'other'.  The entry does not point to
 * it (a pointer in every established entry for the few in the
 * handshake): it is in lbnode's 'entry_handshakes' under the entry's hash
 * (entry_hs()). */
struct entry_handshake {
    struct hmap_node node;      /* In lbnode's 'entry_handshakes', with
                                 * the hash of 'entry''s CP. */
    struct entry *entry;        /* The entry this belongs to. */
    uint32_t ts_lb;
    struct ctl_tcp_opts opts;   /* Client's SYN options. */
    uint32_t connect_ingress;   /* PFT: the ingress its last CONNECT
                                 * named, which the SFT tells the mapping
                                 * itself. */
    uint32_t waiters[MAX_WAITERS];  /* Ingresses to tell the mapping. */
    uint8_t n_waiters;
    uint8_t n_rejected;
    bool server_published;      /* PFT in CONNECTING: its server has
                                 * published the connection (it accepted;
                                 * we missed the MAPPING). */
    bool server_lost;           /* ...and was then found down: no more
                                 * CONNECT retries (see lbnode_retry()). */
    uint32_t rejected[CTL_TRACKER_MAX_REJECTED];
    long long int connect_sent;
    struct deadline connect_retry;  /* In 'connect_retries' while a PFT
                                 * waits for the server's answer. */

    /* Another connection on the same CP (a client reused its port), whose
     * state a TRACKER_SYNC brought while this entry was in another state:
     * an established connection whose entry outlived it, or a handshake
     * whose SYN went to another PFT while the rings disagreed.  Which one
     * the client is on, only its ACK tells (pft_ack_info()); NULL if
     * none. */
    struct ctl_tracker_sync *other;
};

/* A flow-tracker entry, as PFT or SFT: what an established connection
 * needs (88 bytes on 64-bit hosts), its handshake's state apart (struct
 * entry_handshake).  Its CP is a compact key (controller/entry-key.h:
 * entry_cp() gives the CP) and its node ids 16 bits (CTL_NODE_MAX).  Of
 * the handshake's numbers it keeps the two ISNs, which tell one
 * connection on the CP from the next one (a client that reuses its port),
 * and the TTL and ISN kind, which the journal and TRACKER_SYNC carry; the
 * client's options and the SYN/ACK's TSval go with the handshake (journal
 * records and TRACKER_SYNCs of an established entry carry zeros for them:
 * only a handshake reads them). */
struct entry {
    struct hmap_node node;      /* In lbnode's 'entries', with the hash of
                                 * the CP (cp_hash()). */
    struct entry_key key;       /* In lbnode's 'entry_keys'. */
    uint16_t server;            /* CTL_NODE_NONE until chosen. */
    uint16_t ingress;           /* Last ingress node seen. */
    struct deadline expiry;     /* Its 'when' is the handshake timeout or
                                 * the end of the lease (entry_expires()),
                                 * in 'handshakes' or 'entry_leases' (by
                                 * 'state'); set it with
                                 * lease_entry_set_expiry(). */
    uint32_t client_isn;
    uint32_t isn_lb;
    uint32_t journalled;        /* The expiry the journal holds, its low 32
                                 * bits: only compared with the entry's,
                                 * which is never more than about 1.5
                                 * leases ahead of it (lease.c). */
    enum entry_state state : 2;
    enum ctl_tracker_role role : 2; /* Our role when the entry was made. */
    enum ctl_isn_kind isn_kind : 2;
    bool from_publication : 1;  /* Rebuilt from a publication alone. */
    bool has_hs : 1;            /* Has a struct entry_handshake: in the
                                 * handshake (and while it keeps 'other'). */
    uint8_t ttl;
};
BUILD_ASSERT_DECL(sizeof(void *) != 8 || sizeof(struct entry) <= 88);
BUILD_ASSERT_DECL(CTL_NODE_MAX <= UINT16_MAX);

enum pending_stage {
    PENDING_ASKED_PFT,          /* ACK_INFO or MAPPING_QUERY sent to PFT. */
    PENDING_ASKED_SFT,          /* MAPPING_QUERY sent to SFT. */
};

/* An ingress flow waiting for its mapping. */
struct pending {
    struct hmap_node node;      /* In lbnode's 'pending'. */
    struct flow_key cp;
    struct ovs_list packets;    /* Of struct buffered. */
    size_t n_packets, n_bytes;
    enum pending_stage stage;
    long long int deadline;     /* Give up then. */
    long long int asked;        /* When the current tracker was asked. */
    struct ctl_ack_info ack;    /* The first packet's numbers. */
    struct deadline expiry;     /* 'deadline', in 'pending_expiry'. */
    struct deadline query_retry;    /* In 'query_retries' once asked. */
};

/* A mapping this node installed as ingress. */
struct mapping {
    struct hmap_node node;      /* In lbnode's 'mappings'. */
    struct flow_key cp;
    uint32_t server;
    struct in6_addr server_addr;
    long long int expires;      /* End of the lease. */
    long long int journalled;   /* The expiry the journal holds. */
    struct deadline expiry;     /* 'expires', in 'mapping_leases'. */
    bool replaced;              /* A SYN reused the CP: the flow is removed
                                 * and 'server' is the old connection's,
                                 * kept for a lease so that its server's
                                 * publications (a half-open socket) do not
                                 * bring it back under the new one. */
    bool revalidating;          /* A hash VIP's mapping whose lease ran
                                 * out: its PFT was asked again. */
};

struct vip {
    struct lbnode_vip cfg;
    struct selection *sel;
    size_t n_mappings;          /* Ingress mappings of its flows (a hash
                                 * VIP's window stays open while there are
                                 * any: lbnode_vip_mappings()). */
};

/* The SYNs that one node sees in one role (ingress or PFT), to tell a SYN
 * flood: tracker_syn_flood(). */
struct syn_flood_watch {
    struct event_rate rate;     /* SYNs seen. */
    long long int until;        /* A flood is assumed until then. */
};

struct lbnode {
    uint32_t self;
    struct ring *ring;          /* Healthy LB nodes. */
    uint64_t isn_key;
    uint64_t isn_counter;
    struct syn_cookie_key *cookie_key;
    struct syn_cookie_key *cookie_key_prev; /* Made from the cluster key
                                             * before its last change: its
                                             * cookies are still accepted
                                             * as long as any could be
                                             * valid, so that rotating the
                                             * key loses no handshake. */
    long long int cookie_key_prev_expiry;   /* LLONG_MIN: not yet set
                                             * (lbnode_run() sets it). */
    struct syn_cookie_thresholds cookie_thresholds;
    long long int wall_offset;  /* Wall clock minus 'now', ms: SYN cookies'
                                 * time (lbnode_set_clock_offset()). */

    struct lbnode_lb *lbs;
    size_t n_lbs;
    struct lbnode_server *servers;
    size_t n_servers;
    struct lbnode_server **servers_by_node; /* 'servers' sorted by node id,
                                 * for server_find(): choosing among a
                                 * VIP's servers looks each one up. */
    struct vip *vips;
    size_t n_vips;

    uint32_t buffer_packets, buffer_bytes, buffer_timeout_ms;
    uint32_t syn_table_max;
    uint32_t lease_ms;
    uint32_t handshake_timeout_ms;
    uint32_t connect_retry_ms, query_retry_ms;
    struct server_load *load;   /* Servers' load (server-load.h). */
    uint32_t load_max_age_ms;
    long long int next_load_sweep;

    /* Bounds.  PROTOCOL.md §6 forgets a lapsed entry "lazily, or when
     * memory is needed"; these bounds are where memory is needed.  Each
     * table has one (SIZE_MAX: none), and an insertion into a table at its
     * bound first evicts the entry that has gone longest without a sign of
     * life among those that may go:
     *
     *   - tracker entries ('entries'): only established ones, whose
     *     connection lives on without them (the ingress's switch forwards
     *     it, and the server's next publication rebuilds the entry if it is
     *     still alive); a handshake in progress is never evicted, since it
     *     could still complete and nothing else would remember it.  With
     *     nothing but handshakes in the table the new entry is refused
     *     (counted); a SYN then gets a SYN cookie, as when the SYN table is
     *     full: the handshakes are bounded by the smaller of syn_table_max
     *     and tracker_table_max (tracker_syn_bound());
     *   - mappings: any, its conntrack entry removed from the switch
     *     through 'io' exactly as when its lease lapses;
     *   - pending flows: the oldest, with its buffered packets (counted as
     *     buffer drops).
     *
     * The order is the lease queues themselves, not another list: an
     * established entry's or a mapping's lease is renewed to now plus
     * 'lease_ms' by every publication of its connection and every use (an
     * ACK_INFO or MAPPING_QUERY for it), which moves it to the back of its
     * queue's FIFO in O(1) (deadline-queue.h).  The front of
     * 'entry_leases' and 'mapping_leases' is therefore the entry renewed
     * longest ago, the least recently used (a mapping's to within
     * LEASE_SWEEP_MS, the rounding of its expiry), and finding it is O(1):
     * no second list
     * node per entry, no second update per renewal, and the victim is the
     * one that would lapse first anyway.  (Entries restored with what was
     * left of their lease sit in the queue's heap, by the same order.)  A
     * pending flow's deadline is its creation plus a fixed timeout, so the
     * front of 'pending_expiry' is the oldest.
     *
     * A table can be above its bound after a reconfiguration lowered it:
     * an insertion then evicts two entries, not one, so that the table
     * shrinks by one per insertion, each in O(1), rather than all at once
     * in one pass of the loop.  Evictions and refusals are counted
     * (lbnode_stats). */
    size_t tracker_table_max;
    size_t mapping_table_max;
    size_t pending_table_max;

    struct eth_addr own_mac, edge_mac;
    bool has_macs;

    struct hmap entries;        /* Tracker entries. */
    struct entry_keys entry_keys;   /* Their VIP ends. */
    struct hmap entry_handshakes;   /* Their handshake parts (struct
                                     * entry_handshake), by the hash of
                                     * their entry's CP. */
    size_t n_syn_entries;       /* Of which in the handshake. */
    struct hmap pending;        /* Ingress flows waiting for a mapping. */
    struct hmap mappings;       /* Ingress mappings installed. */

    struct syn_flood_watch pft_syns;       /* SYN_INFOs this PFT received. */
    struct syn_flood_watch ingress_syns;   /* SYNs this ingress saw. */

    uint16_t ip_id;
    struct lbnode_stats stats;

    lbnode_journal_func *journal;
    void *journal_aux;

    uint64_t synced_digest;     /* Ring whose trackers have our entries. */
    struct ring *synced_ring;   /* That ring (NULL before the first
                                 * rebalance; may be 'ring' itself): a
                                 * rebalance hands over only the entries
                                 * whose trackers it changed. */

    /* Messages this node sent itself (lbnode_deliver()), in the order
     * sent: handled when the public function that led to them is done with
     * its own work, never in the middle of a handler. */
    struct ovs_list self_msgs;  /* Of struct self_msg. */

    /* Timers, one queue per kind, each in deadline order, so that
     * lbnode_run() and lbnode_retry() touch only what is due and
     * lbnode_next_deadline() is O(1), however many flows the node holds.
     *
     * Nearly every deadline is now plus a fixed period, so each queue is
     * mostly a FIFO list (lib/deadline-queue.h) and setting a timer, or
     * renewing a lease, is O(1).  Leases are renewed about once a second
     * per live connection: a heap with heap_change() would sink every
     * renewed lease to a leaf, O(log n) cache misses (about 2.5 us per
     * renewal at 100,000 leases, against 50 ns to move it to the back of a
     * list); lazy deletion (leave the heap key, re-check it when it comes
     * due) would make lbnode_run() visit every live lease once per lease
     * period, work that grows with the table again.  Lapsed leases are
     * swept in batches (one pass of the daemon's loop, one journal
     * transaction) at most every LEASE_SWEEP_MS: a mapping's expiry is
     * rounded up to it; an entry's timer holds its exact expiry (the entry
     * keeps no other copy of it) and is taken as due once 'now' rounded
     * down to LEASE_SWEEP_MS has reached it (lease_sweep_time()), which is
     * the same moment. */
    struct deadline_queue handshakes;   /* Entries in the handshake:
                                         * their expiry. */
    struct deadline_queue entry_leases; /* Established entries: their
                                         * expiry (see above). */
    struct deadline_queue connect_retries; /* PFT entries in CONNECTING:
                                         * 'connect_sent' plus
                                         * connect_retry_ms. */
    struct deadline_queue pending_expiry;  /* Pending flows: 'deadline'. */
    struct deadline_queue query_retries;   /* Pending flows asked: 'asked'
                                            * plus query_retry_ms. */
    struct deadline_queue mapping_leases;  /* Mappings: 'expires', rounded
                                            * up. */
};

/* Lapsed leases are swept lazily: at most once per this period. */
#define LEASE_SWEEP_MS 250

/* When 'e' lapses: the end of its handshake or of its lease. */
static inline long long int
entry_expires(const struct entry *e)
{
    return e->expiry.when;
}

/* The time up to which lease expiries are due at 'now': 'now' rounded down
 * to LEASE_SWEEP_MS, so that lapsed leases are swept in batches. */
static inline long long int
lease_sweep_time(long long int now)
{
    return now - ((now % LEASE_SWEEP_MS) + LEASE_SWEEP_MS) % LEASE_SWEEP_MS;
}

/* Logs at debug level, for 'cp', what this node did with a flow and why:
 * "ovs-appctl vlog/set lbnode:file:dbg" follows a connection through the
 * LB nodes' logs. */
#define FLOW_DBG(CP, ...)                                               \
    do {                                                                \
        if (lbnode_flow_dbg_enabled()) {                                \
            lbnode_flow_dbg(CP, __VA_ARGS__);                           \
        }                                                               \
    } while (0)

/* Lookups. */

static inline uint32_t
cp_hash(const struct flow_key *cp)
{
    return flow_key_hash(cp, 0);
}

static inline struct entry *
entry_find(const struct lbnode *lb, const struct flow_key *cp)
{
    struct entry_key key;
    struct entry *e;

    if (entry_key_find(&lb->entry_keys, cp, &key)) {
        HMAP_FOR_EACH_WITH_HASH (e, node, cp_hash(cp), &lb->entries) {
            if (entry_key_equals(&e->key, &key)) {
                return e;
            }
        }
    }
    return NULL;
}

/* The CP of 'e'. */
static inline struct flow_key
entry_cp(const struct lbnode *lb, const struct entry *e)
{
    struct flow_key cp;

    entry_key_to_cp(&lb->entry_keys, &e->key, &cp);
    return cp;
}

/* Sets '*cp' to the CP of 'e' and returns 'cp'. */
static inline const struct flow_key *
entry_cp_in(const struct lbnode *lb, const struct entry *e,
            struct flow_key *cp)
{
    entry_key_to_cp(&lb->entry_keys, &e->key, cp);
    return cp;
}

/* A pointer to the CP of entry 'E' of 'LB', valid in the enclosing block
 * (a compound literal holds it): for the functions that take a CP by
 * pointer. */
#define ENTRY_CP(LB, E) entry_cp_in(LB, E, &(struct flow_key) { .proto = 0 })

/* The handshake part of 'e', or NULL if it has none.  O(1). */
static inline struct entry_handshake *
entry_hs(const struct lbnode *lb, const struct entry *e)
{
    struct entry_handshake *hs;

    if (e->has_hs) {
        HMAP_FOR_EACH_WITH_HASH (hs, node, e->node.hash,
                                 &lb->entry_handshakes) {
            if (hs->entry == e) {
                return hs;
            }
        }
    }
    return NULL;
}

static inline struct pending *
pending_find(const struct lbnode *lb, const struct flow_key *cp)
{
    struct pending *p;

    HMAP_FOR_EACH_WITH_HASH (p, node, cp_hash(cp), &lb->pending) {
        if (flow_key_equals(&p->cp, cp)) {
            return p;
        }
    }
    return NULL;
}

static inline struct mapping *
mapping_find(const struct lbnode *lb, const struct flow_key *cp)
{
    struct mapping *m;

    HMAP_FOR_EACH_WITH_HASH (m, node, cp_hash(cp), &lb->mappings) {
        if (flow_key_equals(&m->cp, cp)) {
            return m;
        }
    }
    return NULL;
}

static inline struct vip *
vip_find(const struct lbnode *lb, const struct in6_addr *addr, uint16_t port,
         uint8_t proto)
{
    for (size_t i = 0; i < lb->n_vips; i++) {
        struct vip *v = &lb->vips[i];

        if (v->cfg.port == port && v->cfg.proto == proto
            && ipv6_addr_equals(&v->cfg.addr, addr)) {
            return v;
        }
    }
    return NULL;
}

static inline struct vip *
vip_for_cp(const struct lbnode *lb, const struct flow_key *cp)
{
    return vip_find(lb, &cp->vip, ntohs(cp->vip_port), cp->proto);
}

/* Inserts mapping 'm' into 'lb''s table, and counts it for its VIP. */
static inline void
mapping_insert(struct lbnode *lb, struct mapping *m)
{
    struct vip *v = vip_for_cp(lb, &m->cp);

    hmap_insert(&lb->mappings, &m->node, cp_hash(&m->cp));
    if (v) {
        v->n_mappings++;
    }
}

/* Removes mapping 'm' from 'lb''s table (the caller frees it). */
static inline void
mapping_remove(struct lbnode *lb, struct mapping *m)
{
    struct vip *v = vip_for_cp(lb, &m->cp);

    hmap_remove(&lb->mappings, &m->node);
    if (v && v->n_mappings) {
        v->n_mappings--;
    }
}

/* Returns server node 'node', or NULL.  O(log n): a connection's choice
 * looks up each server of its VIP (1,024 servers: 1,024 linear scans of
 * 1,024 cost a third of the simulator's CPU at scale). */
static inline const struct lbnode_server *
server_find(const struct lbnode *lb, uint32_t node)
{
    size_t lo = 0, hi = lb->n_servers;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct lbnode_server *s = lb->servers_by_node[mid];

        if (s->node == node) {
            return s;
        } else if (s->node < node) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

static inline const struct lbnode_lb *
lb_find(const struct lbnode *lb, uint32_t node)
{
    for (size_t i = 0; i < lb->n_lbs; i++) {
        if (lb->lbs[i].node == node) {
            return &lb->lbs[i];
        }
    }
    return NULL;
}

/* The zone whose servers are near a flow that entered the tier at LB node
 * 'ingress' (lbnode.h): the ingress's zone, or this node's own if
 * 'ingress' is not a known LB node (CTL_NODE_NONE).  "" for none. */
static inline const char *
flow_zone(const struct lbnode *lb, uint32_t ingress)
{
    const struct lbnode_lb *n = lb_find(lb, ingress);

    if (!n) {
        n = lb_find(lb, lb->self);
    }
    return n && n->zone ? n->zone : "";
}

/* Is server 's' in 'zone' (which is "" for none: then no server is)? */
static inline bool
server_in_zone(const struct lbnode_server *s, const char *zone)
{
    return zone[0] && s->zone && !strcmp(s->zone, zone);
}

static inline void
msg_init(struct ctl_msg *msg, enum ctl_msg_type type, uint32_t self)
{
    ctl_msg_init(msg, type, self, 0);
}

static inline const char *
entry_state_name(enum entry_state state)
{
    switch (state) {
    case ENTRY_SYN_RECEIVED: return "syn-received";
    case ENTRY_CONNECTING: return "connecting";
    case ENTRY_ESTABLISHED: return "established";
    default: return "?";
    }
}

/* Entries evicted by one insertion into a table above its bound (see
 * "Bounds" in struct lbnode). */
#define EVICT_BATCH 2

/* Forgets the entry whose timer is 'd' (and counts it): a table's eviction
 * (lbnode_make_room()). */
typedef void lbnode_evict_func(struct lbnode *, struct deadline *d,
                               const struct lbnode_io *, void *aux);

/* lbnode.c. */

bool lbnode_flow_dbg_enabled(void);
void lbnode_flow_dbg(const struct flow_key *, const char *format, ...)
    OVS_PRINTF_FORMAT(2, 3);
void lbnode_deliver(struct lbnode *, uint32_t dst, struct ctl_msg *,
                    long long int now, const struct lbnode_io *, void *aux);
void lbnode_handle_self_msgs(struct lbnode *, long long int now,
                             const struct lbnode_io *, void *aux);
bool lbnode_make_room(struct lbnode *, const struct deadline_queue *,
                      size_t n, size_t max, lbnode_evict_func *,
                      const struct lbnode_io *, void *aux);

/* ingress.c. */

void ingress_pending_destroy(struct lbnode *, struct pending *);
void ingress_mapping_forget(struct lbnode *, struct mapping *);
bool ingress_mapping_revalidate(struct lbnode *, struct mapping *,
                                long long int now, const struct lbnode_io *,
                                void *aux);
void ingress_mapping_make_room(struct lbnode *, const struct lbnode_io *,
                               void *aux);
void ingress_ask_trackers(struct lbnode *, struct pending *,
                          bool use_ack_info, long long int now,
                          const struct lbnode_io *, void *aux);
void ingress_mapping(struct lbnode *, const struct ctl_mapping *,
                     long long int now, const struct lbnode_io *, void *aux);
void ingress_unknown(struct lbnode *, const struct ctl_msg *,
                     long long int now, const struct lbnode_io *, void *aux);

/* tracker.c. */

struct entry *tracker_entry_create(struct lbnode *, const struct flow_key *,
                                   enum ctl_tracker_role, long long int now);
struct entry_handshake *tracker_entry_handshake(struct lbnode *,
                                                struct entry *);
void tracker_entry_free_handshake(struct lbnode *, struct entry *);
size_t tracker_bytes(const struct lbnode *);
bool tracker_has_room(const struct lbnode *);
size_t tracker_syn_bound(const struct lbnode *);
void tracker_entry_set_state(struct lbnode *, struct entry *,
                             enum entry_state, long long int now);
void tracker_entry_destroy(struct lbnode *, struct entry *);
bool tracker_syn_flood(const struct lbnode *, struct syn_flood_watch *,
                       long long int now);
bool tracker_answer_with_cookie(struct lbnode *, const struct ctl_syn_info *,
                                long long int now, const struct lbnode_io *,
                                void *aux);
void pft_syn_info(struct lbnode *, const struct ctl_syn_info *,
                  long long int now, const struct lbnode_io *, void *aux);
void sft_syn_sync(struct lbnode *, const struct ctl_syn_sync *,
                  long long int now, const struct lbnode_io *, void *aux);
void pft_ack_info(struct lbnode *, const struct ctl_ack_info *,
                  long long int now, const struct lbnode_io *, void *aux);
void sft_connect(struct lbnode *, const struct ctl_connect *,
                 long long int now, const struct lbnode_io *, void *aux);
void sft_accepted(struct lbnode *, const struct ctl_accepted *,
                  long long int now, const struct lbnode_io *, void *aux);
void sft_rejected(struct lbnode *, const struct ctl_rejected *,
                  long long int now, const struct lbnode_io *, void *aux);
void pft_release(struct lbnode *, const struct ctl_release *,
                 long long int now, const struct lbnode_io *, void *aux);
void pft_choose_again(struct lbnode *, struct entry *, long long int now,
                      const struct lbnode_io *, void *aux);
void tracker_mapping(struct lbnode *, const struct ctl_msg *,
                     long long int now, const struct lbnode_io *, void *aux);
void tracker_query(struct lbnode *, const struct ctl_mapping_query *,
                   long long int now, const struct lbnode_io *, void *aux);
void tracker_load(struct lbnode *, const struct ctl_msg *, long long int now);
void tracker_sync(struct lbnode *, const struct ctl_tracker_sync *,
                  uint32_t sender, long long int now);

/* lease.c. */

void lease_publish(struct lbnode *, const struct ctl_msg *,
                   long long int now, const struct lbnode_io *, void *aux);

void lease_entry_set_expiry(struct lbnode *, struct entry *,
                            long long int expires);
void lease_entry_renew(struct lbnode *, struct entry *, long long int now);
void lease_entry_extend(struct lbnode *, struct entry *,
                        long long int expires, long long int now);
uint32_t lease_left(long long int expires, long long int now);
long long int lease_end_from(const struct lbnode *, uint32_t lease_ms,
                             long long int now);
void lease_journal_entry(struct lbnode *, struct entry *, long long int now);

void lease_journal_forget(struct lbnode *, const char *table,
                          const struct flow_key *);
void lease_journal_mapping(struct lbnode *, struct mapping *,
                           long long int now);
void lease_mapping_schedule_expiry(struct lbnode *, struct mapping *);

#endif /* controller/lbnode-private.h */
