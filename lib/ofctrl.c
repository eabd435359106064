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
 * ofctrl: the OpenFlow connection that owns a node's bridge.  See ofctrl.h
 * for the contract; this file is organized as: tables (desired, installed,
 * in flight), the transaction builder, the (re)connection sequence, message
 * handlers, then the public API.
 */
#include <config.h>
#include "ofctrl.h"

#include <errno.h>
#include <string.h>

#include "bitmap.h"
#include "byte-order.h"
#include "coverage.h"
#include "hash.h"
#include "metrics.h"
#include "ovs-thread.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/match.h"
#include "openvswitch/meta-flow.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-bundle.h"
#include "openvswitch/ofp-ct.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-group.h"
#include "openvswitch/ofp-match.h"
#include "openvswitch/ofp-meter.h"
#include "openvswitch/ofp-monitor.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-packet.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofp-switch.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/rconn.h"
#include "openvswitch/tun-metadata.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ofctrl);

COVERAGE_DEFINE(ofctrl_bad_msg);
COVERAGE_DEFINE(ofctrl_switch_error);
COVERAGE_DEFINE(ofctrl_packet_in_drop);
COVERAGE_DEFINE(ofctrl_packet_out_drop);
COVERAGE_DEFINE(ofctrl_ct_flush_drop);
COVERAGE_DEFINE(ofctrl_expiry_drop);
COVERAGE_DEFINE(ofctrl_repair);

/* rconn settings: inactivity probe interval and largest reconnection
 * backoff, in seconds. */
#define PROBE_INTERVAL 5
#define MAX_BACKOFF 4

/* Delay before re-sending what the switch rejected, in ms. */
#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS 16000

/* Largest action list accepted in a desired flow, in bytes of ofpacts (an
 * OpenFlow message is at most 64 kB). */
#define MAX_OFPACTS_LEN 16384

/* Bundle flags: apply all or nothing, in order. */
#define BUNDLE_FLAGS (OFPBF_ATOMIC | OFPBF_ORDERED)

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* What a flow does, once installed: its actions and timeouts.  Immutable.
 *
 * Bodies are compared through 'wire', the actions encoded as OpenFlow 1.5
 * instructions: two "struct ofpact" lists that do the same may still differ
 * in bytes (e.g. in the 'raw' member, which remembers the OpenFlow action a
 * list was parsed or decoded from), so the lists parsed from our text and
 * decoded from a flow dump would compare unequal; their encodings do not. */
struct flow_body {
    struct ofpact *ofpacts;
    size_t ofpacts_len;
    uint16_t idle_timeout;
    uint16_t hard_timeout;
    struct ofpbuf wire;
};

/* One flow of ours, identified by (table, priority, match): its desired
 * body, the body the switch confirmed, and the body in flight. */
struct ofctrl_flow {
    struct hmap_node node;          /* In 'ofctrl->flows'. */
    struct ovs_list dirty_node;     /* In 'ofctrl->dirty_flows' if 'dirty'. */
    struct hmap_node txn_node;      /* In 'ofctrl->txn_flows' if 'in_txn'. */

    uint8_t table_id;
    uint16_t priority;
    struct minimatch match;

    struct flow_body *desired;      /* NULL: not wanted. */
    struct flow_body *installed;    /* NULL: not in the switch. */
    struct flow_body *sent;         /* If 'in_txn': NULL for a delete. */

    ovs_be32 xid;                   /* Of the message in flight. */
    bool dirty;                     /* On 'dirty_flows': may differ. */
    bool in_txn;                    /* Part of the transaction in flight. */
    bool bundled;                   /* Sent inside the bundle. */
    bool txn_error;                 /* The switch rejected it. */
    bool failed;                    /* Last attempt rejected: held back until
                                     * the retry delay expires. */
};

/* Groups and meters have no cookie: we own the ids we desire.  Both are
 * kept as "objects" identified by kind and id. */
enum obj_kind {
    OBJ_GROUP,
    OBJ_METER,
};

/* A parsed desired group or meter. */
struct obj_body {
    char *spec;                     /* As given, without the id. */
    enum ofputil_protocol usable;   /* Protocols that can express it. */
    union {
        struct ofputil_group_mod gm;    /* Command OFPGC11_ADD_OR_MOD. */
        struct ofputil_meter_mod mm;    /* Command OFPMC13_ADD. */
    };
};

/* One group or meter of ours. */
struct ofctrl_obj {
    struct hmap_node node;          /* In 'ofctrl->objs'. */
    struct ovs_list dirty_node;     /* In 'ofctrl->dirty_objs' if 'dirty'. */
    struct hmap_node txn_node;      /* In 'ofctrl->txn_objs' if 'in_txn'. */

    enum obj_kind kind;
    uint32_t id;
    struct obj_body *desired;       /* NULL: not wanted. */
    char *installed;                /* Confirmed spec, NULL: none. */
    char *sent;                     /* If 'in_txn': NULL for a delete. */
    bool unknown;                   /* Installed state unknown (after a
                                     * reconnection). */

    ovs_be32 xid;
    uint16_t sent_command;          /* Meters: OFPMC13_ADD or _MODIFY. */
    bool redo;                      /* Meters: the switch's answer told the
                                     * real state; send again, not failed. */
    bool dirty;
    bool in_txn;
    bool bundled;
    bool txn_error;
    bool failed;
};

/* A flow expiry not read by the caller yet. */
struct flow_expiry {
    struct ovs_list list_node;
    struct minimatch match;
    uint8_t table_id;
    uint16_t priority;
    uint8_t reason;
    uint16_t idle_timeout;
    uint16_t hard_timeout;
    uint32_t duration_sec;
    uint32_t duration_nsec;
    uint64_t packet_count;
    uint64_t byte_count;
};

enum ofctrl_state {
    S_DISCONNECTED,
    S_TLV,                  /* Waiting for the TLV table reply. */
    S_DUMP,                 /* Waiting for the dump of our flows. */
    S_READY,                /* Installed table known. */
};

struct ofctrl {
    struct rconn *rconn;
    unsigned int seqno;             /* rconn connection seqno last seen. */
    bool recv_capped;               /* Last run left messages unread. */
    uint64_t cookie;
    enum ofputil_protocol protocol; /* Of the current connection. */
    enum ofctrl_state state;
    uint64_t datapath_id;

    ovs_be32 tlv_req_xid;
    ovs_be32 tlv_mod_xid;
    ovs_be32 dump_xid;
    struct ovs_list tlv_maps;       /* struct ofputil_tlv_map. */

    struct hmap flows;
    struct ovs_list dirty_flows;
    struct hmap objs;               /* struct ofctrl_obj. */
    struct ovs_list dirty_objs;

    bool authoritative;             /* ofctrl_commit() was called. */
    bool flush_pending;             /* Send the difference when possible. */
    bool retry_due;                 /* Also re-send failed entries. */
    bool wipe_pending;              /* Installed state unknown: delete all
                                     * flows with our cookie first. */
    long long int retry_at;         /* LLONG_MAX if no retry is scheduled. */
    int retry_delay;

    /* The transaction in flight. */
    bool txn_active;
    bool txn_failed;                /* Bundle not applied. */
    bool txn_any_error;
    bool txn_wipe;
    uint32_t bundle_id;
    ovs_be32 txn_open_xid;
    ovs_be32 txn_commit_xid;
    ovs_be32 txn_wipe_xid;
    ovs_be32 txn_barrier_xid;
    struct hmap txn_flows;          /* By xid. */
    struct hmap txn_objs;           /* By xid. */

    struct ovs_list packet_ins;     /* struct ofctrl_packet_in. */
    size_t n_packet_ins;
    size_t packet_in_limit;
    struct ovs_list expiries;       /* struct flow_expiry. */
    size_t n_expiries;
    struct rconn_packet_counter *packet_out_counter;

    struct ofctrl_stats stats;
};

static void ofctrl_send(struct ofctrl *, struct ofpbuf *);
static void start_dump(struct ofctrl *);

static ovs_be32
msg_xid(const struct ofpbuf *msg)
{
    return ((const struct ofp_header *) msg->data)->xid;
}

static enum ofp_version
ofctrl_version(const struct ofctrl *oc)
{
    return ofputil_protocol_to_ofp_version(oc->protocol);
}

/* Flow bodies. */

static struct flow_body *
flow_body_create(const struct ofpact *ofpacts, size_t ofpacts_len,
                 uint16_t idle_timeout, uint16_t hard_timeout)
{
    struct flow_body *b = xmalloc(sizeof *b);

    b->ofpacts = ofpacts_len ? xmemdup(ofpacts, ofpacts_len) : NULL;
    b->ofpacts_len = ofpacts_len;
    b->idle_timeout = idle_timeout;
    b->hard_timeout = hard_timeout;
    ofpbuf_init(&b->wire, ofpacts_len);
    ofpacts_put_openflow_instructions(ofpacts, ofpacts_len, &b->wire,
                                      OFP15_VERSION);
    return b;
}

static struct flow_body *
flow_body_clone(const struct flow_body *b)
{
    return b ? flow_body_create(b->ofpacts, b->ofpacts_len,
                                b->idle_timeout, b->hard_timeout) : NULL;
}

static void
flow_body_destroy(struct flow_body *b)
{
    if (b) {
        ofpbuf_uninit(&b->wire);
        free(b->ofpacts);
        free(b);
    }
}

static bool
flow_body_equal(const struct flow_body *a, const struct flow_body *b)
{
    if (!a || !b) {
        return a == b;
    }
    return (a->idle_timeout == b->idle_timeout
            && a->hard_timeout == b->hard_timeout
            && a->wire.size == b->wire.size
            && (!a->wire.size
                || !memcmp(a->wire.data, b->wire.data, a->wire.size)));
}

/* Flow table entries. */

static uint32_t
flow_hash(uint8_t table_id, uint16_t priority, const struct minimatch *match)
{
    return minimatch_hash(match, ((uint32_t) table_id << 16) | priority);
}

/* Initializes 'mm' from 'match' as the switch reports it in its flow
 * dumps, so that a desired flow and the flow the dump finds are one flow to
 * us, as they are to the switch.  Otherwise we would add ours, then delete
 * "theirs" as a flow nobody desires, and leave the switch without it (every
 * UDP hash slot flow, after a controller restart):
 *   - OpenFlow applies a match on a field with prerequisites (nw_proto, say)
 *     to Ethernet packets only, so OVS adds packet_type=(0,0) to it
 *     (match_add_ethernet_prereq()); a match parsed from text has it, one
 *     built in binary may not;
 *   - of nw_frag, the switch keeps the bits it knows ("nw_frag=yes" parses
 *     to a wider mask). */
/* The fields that have prerequisites (in the sense of
 * match_add_ethernet_prereq()), as one mask. */
static const struct flow_wildcards *
prereq_fields(void)
{
    static struct ovsthread_once once = OVSTHREAD_ONCE_INITIALIZER;
    static struct flow_wildcards wc;

    if (ovsthread_once_start(&once)) {
        flow_wildcards_init_catchall(&wc);
        for (enum mf_field_id id = 0; id < MFF_N_IDS; id++) {
            const struct mf_field *mf = mf_from_id(id);

            if (mf->prereqs != MFP_NONE) {
                mf_mask_field(mf, &wc);
            }
        }
        ovsthread_once_done(&once);
    }
    return &wc;
}

/* Whether 'match' matches on a field that has prerequisites. */
static bool
matches_prereq_field(const struct match *match)
{
    const uint64_t *masks = (const uint64_t *) &match->wc.masks;
    const uint64_t *prereq = (const uint64_t *) &prereq_fields()->masks;

    for (size_t i = 0; i < FLOW_U64S; i++) {
        if (masks[i] & prereq[i]) {
            return true;
        }
    }
    return false;
}

static void
minimatch_init_as_switch(struct minimatch *mm, const struct match *match)
{
    bool wide_frag = match->wc.masks.nw_frag & ~FLOW_NW_FRAG_MASK;
    bool ethernet = (!match->wc.masks.packet_type
                     && matches_prereq_field(match));

    if (wide_frag || ethernet) {
        struct match m = *match;

        m.wc.masks.nw_frag &= FLOW_NW_FRAG_MASK;
        m.flow.nw_frag &= m.wc.masks.nw_frag;
        if (ethernet) {
            match_set_default_packet_type(&m);
        }
        minimatch_init(mm, &m);
    } else {
        minimatch_init(mm, match);
    }
}

static struct ofctrl_flow *
flow_lookup(const struct ofctrl *oc, uint8_t table_id, uint16_t priority,
            const struct minimatch *match, uint32_t hash)
{
    struct ofctrl_flow *f;

    HMAP_FOR_EACH_WITH_HASH (f, node, hash, &oc->flows) {
        if (f->table_id == table_id && f->priority == priority
            && minimatch_equal(&f->match, match)) {
            return f;
        }
    }
    return NULL;
}

/* Returns the entry for ('table_id', 'priority', '*match'), creating an
 * empty one if there is none.  Takes ownership of '*match'. */
static struct ofctrl_flow *
flow_find_or_create(struct ofctrl *oc, uint8_t table_id, uint16_t priority,
                    struct minimatch *match)
{
    uint32_t hash = flow_hash(table_id, priority, match);
    struct ofctrl_flow *f = flow_lookup(oc, table_id, priority, match, hash);

    if (f) {
        minimatch_destroy(match);
        return f;
    }
    f = xzalloc(sizeof *f);
    f->table_id = table_id;
    f->priority = priority;
    minimatch_move(&f->match, match);
    hmap_insert(&oc->flows, &f->node, hash);
    return f;
}

static void
flow_mark_dirty(struct ofctrl *oc, struct ofctrl_flow *f)
{
    if (!f->dirty) {
        ovs_list_push_back(&oc->dirty_flows, &f->dirty_node);
        f->dirty = true;
    }
}

static void
flow_mark_clean(struct ofctrl_flow *f)
{
    if (f->dirty) {
        ovs_list_remove(&f->dirty_node);
        f->dirty = false;
    }
}

/* Frees 'f' if it is neither desired, installed nor in flight.  Returns true
 * if it did. */
static bool
flow_gc(struct ofctrl *oc, struct ofctrl_flow *f)
{
    if (f->desired || f->installed || f->in_txn) {
        return false;
    }
    flow_mark_clean(f);
    hmap_remove(&oc->flows, &f->node);
    minimatch_destroy(&f->match);
    free(f);
    return true;
}

static void
flow_set_desired(struct ofctrl *oc, struct ofctrl_flow *f,
                 struct flow_body *body)
{
    if (!flow_body_equal(f->desired, body)) {
        f->failed = false;
        flow_mark_dirty(oc, f);
    }
    oc->stats.n_desired_flows += (body != NULL) - (f->desired != NULL);
    flow_body_destroy(f->desired);
    f->desired = body;
}

static void
flow_set_installed(struct ofctrl *oc, struct ofctrl_flow *f,
                   struct flow_body *body)
{
    oc->stats.n_installed_flows += (body != NULL) - (f->installed != NULL);
    flow_body_destroy(f->installed);
    f->installed = body;
}

/* Does 'f' need a flow-mod? */
static bool
flow_needs_send(const struct ofctrl_flow *f)
{
    return !f->in_txn && !flow_body_equal(f->desired, f->installed);
}

static void
flow_destroy(struct ofctrl *oc, struct ofctrl_flow *f)
{
    flow_set_desired(oc, f, NULL);
    flow_set_installed(oc, f, NULL);
    flow_body_destroy(f->sent);
    f->sent = NULL;
    f->in_txn = false;
    flow_gc(oc, f);
}

/* Groups and meters. */

static const char *
obj_kind_name(enum obj_kind kind)
{
    return kind == OBJ_GROUP ? "group" : "meter";
}

static void
obj_body_destroy(enum obj_kind kind, struct obj_body *b)
{
    if (b) {
        if (kind == OBJ_GROUP) {
            ofputil_uninit_group_mod(&b->gm);
        } else {
            free(b->mm.meter.bands);
        }
        free(b->spec);
        free(b);
    }
}

static uint32_t
obj_hash(enum obj_kind kind, uint32_t id)
{
    return hash_int(id, kind);
}

static struct ofctrl_obj *
obj_lookup(const struct ofctrl *oc, enum obj_kind kind, uint32_t id)
{
    struct ofctrl_obj *o;

    HMAP_FOR_EACH_WITH_HASH (o, node, obj_hash(kind, id), &oc->objs) {
        if (o->kind == kind && o->id == id) {
            return o;
        }
    }
    return NULL;
}

static void
obj_mark_dirty(struct ofctrl *oc, struct ofctrl_obj *o)
{
    if (!o->dirty) {
        ovs_list_push_back(&oc->dirty_objs, &o->dirty_node);
        o->dirty = true;
    }
}

static void
obj_mark_clean(struct ofctrl_obj *o)
{
    if (o->dirty) {
        ovs_list_remove(&o->dirty_node);
        o->dirty = false;
    }
}

static bool
obj_gc(struct ofctrl *oc, struct ofctrl_obj *o)
{
    if (o->desired || o->installed || o->unknown || o->in_txn) {
        return false;
    }
    obj_mark_clean(o);
    hmap_remove(&oc->objs, &o->node);
    free(o);
    return true;
}

static void
obj_set_desired(struct ofctrl *oc, struct ofctrl_obj *o,
                struct obj_body *body)
{
    const char *old = o->desired ? o->desired->spec : NULL;
    const char *new = body ? body->spec : NULL;
    size_t *n = (o->kind == OBJ_GROUP
                 ? &oc->stats.n_desired_groups
                 : &oc->stats.n_desired_meters);

    if (!nullable_string_is_equal(old, new)) {
        o->failed = false;
        obj_mark_dirty(oc, o);
    }
    *n += (body != NULL) - (o->desired != NULL);
    obj_body_destroy(o->kind, o->desired);
    o->desired = body;
}

static bool
obj_needs_send(const struct ofctrl_obj *o)
{
    if (o->in_txn) {
        return false;
    }
    return o->unknown || !nullable_string_is_equal(
        o->desired ? o->desired->spec : NULL, o->installed);
}

static void
obj_destroy(struct ofctrl *oc, struct ofctrl_obj *o)
{
    obj_set_desired(oc, o, NULL);
    free(o->installed);
    o->installed = NULL;
    free(o->sent);
    o->sent = NULL;
    o->unknown = false;
    o->in_txn = false;
    obj_gc(oc, o);
}

/* Transactions. */

/* Forgets the transaction in flight (the connection was lost): nothing in
 * it is known to have been applied. */
static void
txn_abort(struct ofctrl *oc)
{
    struct ofctrl_flow *f;
    struct ofctrl_obj *o;

    HMAP_FOR_EACH_POP (f, txn_node, &oc->txn_flows) {
        f->in_txn = false;
        flow_body_destroy(f->sent);
        f->sent = NULL;
        if (!flow_gc(oc, f)) {
            flow_mark_dirty(oc, f);
        }
    }
    HMAP_FOR_EACH_POP (o, txn_node, &oc->txn_objs) {
        o->in_txn = false;
        free(o->sent);
        o->sent = NULL;
        if (!obj_gc(oc, o)) {
            obj_mark_dirty(oc, o);
        }
    }
    oc->txn_active = false;
}

/* Encodes a flow-mod for 'f': OFPFC_ADD of 'body' (which replaces any flow
 * with the same table, priority and match), or OFPFC_DELETE_STRICT of our
 * flow if 'body' is NULL. */
static struct ofpbuf *
encode_flow_mod(const struct ofctrl *oc, const struct ofctrl_flow *f,
                const struct flow_body *body)
{
    struct ofputil_flow_mod fm = {
        .match = f->match,
        .priority = f->priority,
        .new_cookie = htonll(oc->cookie),
        .table_id = f->table_id,
        .command = body ? OFPFC_ADD : OFPFC_DELETE_STRICT,
        .idle_timeout = body ? body->idle_timeout : 0,
        .hard_timeout = body ? body->hard_timeout : 0,
        .buffer_id = UINT32_MAX,
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
        .flags = body ? OFPUTIL_FF_SEND_FLOW_REM : 0,
        .ofpacts = body ? body->ofpacts : NULL,
        .ofpacts_len = body ? body->ofpacts_len : 0,
    };

    if (!body) {
        /* Only our flow, but not by the switch's cookie index: given an
         * exact cookie mask, ovs-vswitchd looks the flow up among all the
         * flows of that cookie, which are all ours (65,521 per hash VIP),
         * so removing n flows cost n times that many comparisons (21,856
         * pins removed at once blocked its main thread, and with it every
         * packet of the node, for over 30 s).  With any other mask it
         * finds the flow in its table by match and priority, then checks
         * the cookie under the mask: every bit but the top one, which our
         * cookies do not use (OFCTRL_COOKIE_MASK). */
        fm.cookie = htonll(oc->cookie);
        fm.cookie_mask = htonll(OFCTRL_COOKIE_MASK);
    }
    return ofputil_encode_flow_mod(&fm, oc->protocol);
}

/* Encodes the delete of every flow, in every table, that has our cookie. */
static struct ofpbuf *
encode_wipe(const struct ofctrl *oc)
{
    struct ofputil_flow_mod fm = {
        .priority = 0,
        .cookie = htonll(oc->cookie),
        .cookie_mask = OVS_BE64_MAX,
        .new_cookie = OVS_BE64_MAX,
        .table_id = OFPTT_ALL,
        .command = OFPFC_DELETE,
        .buffer_id = UINT32_MAX,
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
    };
    struct ofpbuf *msg;

    minimatch_init_catchall(&fm.match);
    msg = ofputil_encode_flow_mod(&fm, oc->protocol);
    minimatch_destroy(&fm.match);
    return msg;
}

/* Encodes the message that brings group or meter 'o' to its desired state
 * (add-or-modify, or delete).  Stores the meter-mod command in
 * 'o->sent_command'. */
static struct ofpbuf *
encode_obj_mod(const struct ofctrl *oc, struct ofctrl_obj *o)
{
    enum ofp_version version = ofctrl_version(oc);

    if (o->desired && !(o->desired->usable & oc->protocol)) {
        VLOG_WARN_RL(&rl, "%s %"PRIu32" needs a later OpenFlow version than "
                     "%s: some of its properties are lost",
                     obj_kind_name(o->kind), o->id,
                     ofputil_protocol_to_string(oc->protocol));
    }
    if (o->kind == OBJ_GROUP) {
        struct ofputil_group_mod gm = {
            .command = OFPGC11_DELETE,
            .type = OFPGT11_ALL,
            .group_id = o->id,
        };

        if (o->desired) {
            return ofputil_encode_group_mod(version, &o->desired->gm, NULL,
                                            -1);
        }
        ovs_list_init(&gm.buckets);
        return ofputil_encode_group_mod(version, &gm, NULL, -1);
    } else {
        struct ofputil_meter_mod mm = {
            .command = OFPMC13_DELETE,
            .meter = { .meter_id = o->id },
        };

        if (o->desired) {
            /* A meter has no add-or-modify: add it unless we know it is
             * there (if it is, the switch says so and we modify it). */
            mm = o->desired->mm;
            mm.command = (o->installed && !o->unknown
                          ? OFPMC13_MODIFY : OFPMC13_ADD);
        }
        o->sent_command = mm.command;
        return ofputil_encode_meter_mod(version, &mm);
    }
}

/* Messages of one transaction, in sending order. */
struct txn_msgs {
    struct ovs_list pre;            /* struct ofpbuf, before the bundle. */
    struct ovs_list bundled;        /* struct ofpbuf, inside the bundle. */
    struct ovs_list post;           /* struct ofpbuf, after the bundle. */
    size_t n;
};

enum txn_place {
    TXN_PRE,
    TXN_BUNDLED,
    TXN_POST,
};

/* Adds 'msg' to 'tm', unless it cannot be sent (too big for OpenFlow), in
 * which case it returns false and frees 'msg'. */
static bool
txn_msgs_add(struct txn_msgs *tm, struct ofpbuf *msg, enum txn_place place)
{
    /* A bundle add message wraps the message in 16 more bytes. */
    if (msg->size + 16 > UINT16_MAX) {
        ofpbuf_delete(msg);
        return false;
    }
    ovs_list_push_back(place == TXN_PRE ? &tm->pre
                       : place == TXN_BUNDLED ? &tm->bundled
                       : &tm->post, &msg->list_node);
    tm->n++;
    return true;
}

static void
txn_add_flow(struct ofctrl *oc, struct txn_msgs *tm, struct ofctrl_flow *f)
{
    struct ofpbuf *msg = encode_flow_mod(oc, f, f->desired);
    bool bundled = !f->failed;

    flow_mark_clean(f);
    if (!txn_msgs_add(tm, msg, bundled ? TXN_BUNDLED : TXN_POST)) {
        VLOG_WARN_RL(&rl, "flow in table %"PRIu8" at priority %"PRIu16" is "
                     "too large for an OpenFlow message", f->table_id,
                     f->priority);
        f->failed = true;
        oc->txn_any_error = true;
        flow_mark_dirty(oc, f);
        return;
    }
    oc->stats.n_flow_mods++;
    if (!bundled) {
        oc->stats.n_retries++;
    }
    if (VLOG_IS_DBG_ENABLED()) {
        struct ds s = DS_EMPTY_INITIALIZER;

        ds_put_format(&s, "%s table=%"PRIu8",",
                      f->desired ? "add" : "delete", f->table_id);
        minimatch_format(&f->match, NULL, NULL, &s, f->priority);
        if (f->desired) {
            struct ofpact_format_params fp = { .s = &s };

            ds_put_cstr(&s, " actions=");
            ofpacts_format(f->desired->ofpacts, f->desired->ofpacts_len,
                           &fp);
        }
        VLOG_DBG("%s%s", ds_cstr(&s), bundled ? "" : " (retry)");
        ds_destroy(&s);
    }
    f->sent = flow_body_clone(f->desired);
    f->in_txn = true;
    f->bundled = bundled;
    f->txn_error = false;
    f->xid = msg_xid(msg);
    hmap_insert(&oc->txn_flows, &f->txn_node, hash_int(ntohl(f->xid), 0));
}

/* Groups go in the bundle; meters cannot (OVS bundles carry no
 * meter-mod), so they are added or modified before it and deleted after
 * it. */
static void
txn_add_obj(struct ofctrl *oc, struct txn_msgs *tm, struct ofctrl_obj *o)
{
    struct ofpbuf *msg = encode_obj_mod(oc, o);
    enum txn_place place;

    if (o->kind == OBJ_METER) {
        place = o->desired ? TXN_PRE : TXN_POST;
    } else {
        place = o->failed ? TXN_POST : TXN_BUNDLED;
    }

    obj_mark_clean(o);
    if (!txn_msgs_add(tm, msg, place)) {
        VLOG_WARN_RL(&rl, "%s %"PRIu32" is too large for an OpenFlow "
                     "message", obj_kind_name(o->kind), o->id);
        o->failed = true;
        oc->txn_any_error = true;
        obj_mark_dirty(oc, o);
        return;
    }
    if (o->kind == OBJ_GROUP) {
        oc->stats.n_group_mods++;
    } else {
        oc->stats.n_meter_mods++;
    }
    if (o->failed) {
        oc->stats.n_retries++;
    }
    o->sent = o->desired ? xstrdup(o->desired->spec) : NULL;
    o->in_txn = true;
    o->bundled = place == TXN_BUNDLED;
    o->txn_error = false;
    o->redo = false;
    o->xid = msg_xid(msg);
    hmap_insert(&oc->txn_objs, &o->txn_node, hash_int(ntohl(o->xid), 0));
}

/* Adds to 'tm' the objects of kind 'kind' that need a message, of the sort
 * that 'adds' says (add-or-modify, or delete).  Returns false if 'tm' filled
 * up. */
static bool
txn_collect_objs(struct ofctrl *oc, struct txn_msgs *tm, enum obj_kind kind,
                 bool adds, bool retry)
{
    struct ofctrl_obj *o;

    LIST_FOR_EACH_SAFE (o, dirty_node, &oc->dirty_objs) {
        if (!obj_needs_send(o)) {
            if (!o->in_txn) {
                obj_mark_clean(o);
                obj_gc(oc, o);
            }
            continue;
        }
        if (o->kind != kind || (o->desired != NULL) != adds
            || (o->failed && !retry)) {
            continue;
        }
        if (tm->n >= OFCTRL_TXN_MAX_MSGS) {
            return false;
        }
        txn_add_obj(oc, tm, o);
    }
    return true;
}

/* Same as txn_collect_objs() for flows: additions and modifications if
 * 'adds', otherwise deletions. */
static bool
txn_collect_flows(struct ofctrl *oc, struct txn_msgs *tm, bool adds,
                  bool retry)
{
    struct ofctrl_flow *f;

    LIST_FOR_EACH_SAFE (f, dirty_node, &oc->dirty_flows) {
        if (!flow_needs_send(f)) {
            if (!f->in_txn) {
                flow_mark_clean(f);
                flow_gc(oc, f);
            }
            continue;
        }
        if ((f->desired != NULL) != adds || (f->failed && !retry)) {
            continue;
        }
        if (tm->n >= OFCTRL_TXN_MAX_MSGS) {
            return false;
        }
        txn_add_flow(oc, tm, f);
    }
    return true;
}

static void
send_bundle_ctrl(struct ofctrl *oc, uint16_t type, ovs_be32 *xidp)
{
    struct ofputil_bundle_ctrl_msg bc = {
        .bundle_id = oc->bundle_id,
        .type = type,
        .flags = BUNDLE_FLAGS,
    };
    struct ofpbuf *msg = ofputil_encode_bundle_ctrl_request(
        ofctrl_version(oc), &bc);

    *xidp = msg_xid(msg);
    ofctrl_send(oc, msg);
}

/* Sends the difference between the desired and the installed tables (or the
 * first OFCTRL_TXN_MAX_MSGS messages of it) as one transaction: meter adds
 * and modifications; then one bundle of group adds and modifications, flow
 * additions, flow deletions and group deletions; then meter deletions and,
 * one by one, the entries that failed before and are due for a retry; then
 * a barrier.  Additions go before deletions because a change that takes
 * several transactions must make its new paths before it breaks the old
 * ones: a VIP changing mode deletes its 65,521 slot flows, and deleting
 * them first left the VIP's classifier pointing at a table being emptied
 * for seconds, which lost client segments meanwhile. */
static void
txn_send(struct ofctrl *oc)
{
    enum ofp_version version = ofctrl_version(oc);
    bool retry = oc->retry_due;
    struct txn_msgs tm;
    struct ofpbuf *msg;
    bool complete;

    ovs_list_init(&tm.pre);
    ovs_list_init(&tm.bundled);
    ovs_list_init(&tm.post);
    tm.n = 0;

    oc->retry_due = false;
    oc->flush_pending = false;
    oc->txn_failed = false;
    oc->txn_any_error = false;
    oc->txn_wipe = false;

    if (oc->wipe_pending) {
        msg = encode_wipe(oc);
        oc->txn_wipe_xid = msg_xid(msg);
        oc->txn_wipe = true;
        txn_msgs_add(&tm, msg, TXN_BUNDLED);
        oc->stats.n_flow_mods++;
        oc->stats.n_wipes++;
    }
    complete = (txn_collect_objs(oc, &tm, OBJ_METER, true, retry)
                && txn_collect_objs(oc, &tm, OBJ_GROUP, true, retry)
                && txn_collect_flows(oc, &tm, true, retry)
                && txn_collect_flows(oc, &tm, false, retry)
                && txn_collect_objs(oc, &tm, OBJ_GROUP, false, retry)
                && txn_collect_objs(oc, &tm, OBJ_METER, false, retry));
    if (!complete) {
        /* The rest goes in the next transaction. */
        oc->flush_pending = true;
        oc->retry_due = retry;
    }
    if (!tm.n) {
        return;
    }

    oc->txn_open_xid = oc->txn_commit_xid = htonl(0);
    LIST_FOR_EACH_POP (msg, list_node, &tm.pre) {
        ofctrl_send(oc, msg);
    }
    if (!ovs_list_is_empty(&tm.bundled)) {
        oc->bundle_id++;
        send_bundle_ctrl(oc, OFPBCT_OPEN_REQUEST, &oc->txn_open_xid);
        LIST_FOR_EACH_POP (msg, list_node, &tm.bundled) {
            struct ofputil_bundle_add_msg bam = {
                .bundle_id = oc->bundle_id,
                .flags = BUNDLE_FLAGS,
                .msg = msg->data,
            };
            ofctrl_send(oc, ofputil_encode_bundle_add(version, &bam));
            ofpbuf_delete(msg);
        }
        send_bundle_ctrl(oc, OFPBCT_COMMIT_REQUEST, &oc->txn_commit_xid);
        oc->stats.n_bundles++;
    }
    LIST_FOR_EACH_POP (msg, list_node, &tm.post) {
        ofctrl_send(oc, msg);
    }
    msg = ofputil_encode_barrier_request(version);
    oc->txn_barrier_xid = msg_xid(msg);
    ofctrl_send(oc, msg);
    oc->stats.n_barriers++;
    oc->txn_active = true;
}

/* The barrier of the transaction in flight came back: everything the switch
 * did not reject is now installed. */
static void
txn_complete(struct ofctrl *oc)
{
    bool bundle_ok = !oc->txn_failed;
    bool culprit = false;
    struct ofctrl_flow *f;
    struct ofctrl_obj *o;

    HMAP_FOR_EACH_POP (f, txn_node, &oc->txn_flows) {
        f->in_txn = false;
        culprit |= f->txn_error && f->bundled;
        if (!f->txn_error && (!f->bundled || bundle_ok)) {
            flow_set_installed(oc, f, f->sent);
            f->failed = false;
        } else {
            flow_body_destroy(f->sent);
            f->failed = f->txn_error;
        }
        f->sent = NULL;
        if (!flow_gc(oc, f) && flow_needs_send(f)) {
            flow_mark_dirty(oc, f);
        }
    }
    HMAP_FOR_EACH_POP (o, txn_node, &oc->txn_objs) {
        o->in_txn = false;
        culprit |= o->txn_error && o->bundled;
        if (o->redo) {
            /* handle_obj_error() set the state. */
            free(o->sent);
            o->redo = false;
        } else if (!o->txn_error && (!o->bundled || bundle_ok)) {
            free(o->installed);
            o->installed = o->sent;
            o->unknown = false;
            o->failed = false;
        } else {
            free(o->sent);
            o->failed = o->txn_error;
        }
        o->sent = NULL;
        if (!obj_gc(oc, o) && obj_needs_send(o)) {
            obj_mark_dirty(oc, o);
        }
    }
    if (oc->txn_wipe && bundle_ok) {
        oc->wipe_pending = false;
    }
    oc->txn_active = false;

    if (oc->txn_any_error || oc->txn_failed) {
        oc->stats.n_txn_failed++;
        oc->retry_at = time_msec() + oc->retry_delay;
        oc->retry_delay = MIN(oc->retry_delay * 2, RETRY_MAX_MS);
        if (oc->txn_failed && culprit) {
            /* The switch named the message that sank the bundle: re-send
             * the others now, without it (it waits for the retry).  Each
             * attempt either succeeds or names one more culprit. */
            oc->flush_pending = true;
        }
    } else {
        oc->retry_delay = RETRY_MIN_MS;
    }
}

/* Connection. */

static void
ofctrl_send(struct ofctrl *oc, struct ofpbuf *msg)
{
    int error = rconn_send(oc->rconn, msg, NULL);

    if (error) {
        VLOG_DBG_RL(&rl, "%s: send failed (%s)",
                    rconn_get_name(oc->rconn), ovs_strerror(error));
    }
}

/* Forgets what is installed: every flow not installed, every group and
 * meter in an unknown state, everything dirty. */
static void
reset_installed(struct ofctrl *oc)
{
    struct ofctrl_flow *f;
    struct ofctrl_obj *o;

    HMAP_FOR_EACH_SAFE (f, node, &oc->flows) {
        flow_set_installed(oc, f, NULL);
        f->failed = false;
        if (!flow_gc(oc, f)) {
            flow_mark_dirty(oc, f);
        }
    }
    HMAP_FOR_EACH (o, node, &oc->objs) {
        o->unknown = true;
        o->failed = false;
        obj_mark_dirty(oc, o);
    }
}

/* The dump of our flows failed: assume nothing about them and delete them
 * all (atomically with re-adding the desired ones) in the next
 * transaction. */
static void
dump_failed(struct ofctrl *oc)
{
    reset_installed(oc);
    oc->wipe_pending = true;
    oc->state = S_READY;
    if (oc->authoritative) {
        oc->flush_pending = true;
    }
}

static void
start_dump(struct ofctrl *oc)
{
    struct ofputil_flow_stats_request fsr = {
        .aggregate = false,
        .cookie = htonll(oc->cookie),
        .cookie_mask = OVS_BE64_MAX,
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
        .table_id = OFPTT_ALL,
    };
    struct ofpbuf *msg;

    oc->wipe_pending = false;
    match_init_catchall(&fsr.match);
    msg = ofputil_encode_flow_stats_request(&fsr, oc->protocol);
    oc->dump_xid = msg_xid(msg);
    ofctrl_send(oc, msg);
    oc->state = S_DUMP;
    oc->stats.n_dumps++;
}

static void
on_connect(struct ofctrl *oc)
{
    enum ofp_version version = rconn_get_version(oc->rconn);

    oc->protocol = ofputil_protocol_from_ofp_version(version);
    oc->stats.n_connections++;
    oc->datapath_id = 0;
    VLOG_INFO("%s: connected (%s)", rconn_get_name(oc->rconn),
              ofputil_version_to_string(version));

    txn_abort(oc);
    reset_installed(oc);
    oc->wipe_pending = false;
    oc->retry_due = false;
    oc->retry_at = LLONG_MAX;
    oc->retry_delay = RETRY_MIN_MS;

    ofctrl_send(oc, ofpraw_alloc(OFPRAW_OFPT_FEATURES_REQUEST, version, 0));
    /* A service connection (such as BRIDGE.mgmt) gets no asynchronous
     * message (packet-in, flow-removed) until it sets a miss_send_len, with
     * OFPT_SET_CONFIG, which also sets the switch-wide fragment handling:
     * read that first, to leave it as it is. */
    ofctrl_send(oc, ofpraw_alloc(OFPRAW_OFPT_GET_CONFIG_REQUEST, version, 0));
    ofctrl_send(oc, ofputil_encode_set_packet_in_format(
                    version, OFPUTIL_PACKET_IN_NXT2));
    if (!ovs_list_is_empty(&oc->tlv_maps)) {
        struct ofpbuf *msg = ofpraw_alloc(OFPRAW_NXT_TLV_TABLE_REQUEST,
                                          version, 0);
        oc->tlv_req_xid = msg_xid(msg);
        ofctrl_send(oc, msg);
        oc->state = S_TLV;
    } else {
        start_dump(oc);
    }
}

/* Message handlers. */

static void
handle_tlv_reply(struct ofctrl *oc, const struct ofp_header *oh)
{
    struct ofputil_tlv_table_reply ttr;
    struct ofputil_tlv_table_mod ttm;
    const struct ofputil_tlv_map *ours;
    enum ofperr error;

    if (oc->state != S_TLV || oh->xid != oc->tlv_req_xid) {
        return;
    }
    error = ofputil_decode_tlv_table_reply(oh, &ttr);
    if (error) {
        COVERAGE_INC(ofctrl_bad_msg);
        oc->stats.n_bad_msgs++;
        VLOG_WARN_RL(&rl, "bad TLV table reply (%s)", ofperr_to_string(error));
        start_dump(oc);
        return;
    }

    ttm.command = NXTTMC_ADD;
    ovs_list_init(&ttm.mappings);
    LIST_FOR_EACH (ours, list_node, &oc->tlv_maps) {
        const struct ofputil_tlv_map *theirs;
        bool present = false;
        bool conflict = false;

        LIST_FOR_EACH (theirs, list_node, &ttr.mappings) {
            bool same_index = theirs->index == ours->index;
            bool same_key = (theirs->option_class == ours->option_class
                             && theirs->option_type == ours->option_type);

            if (same_index && same_key
                && theirs->option_len == ours->option_len) {
                present = true;
            } else if (same_index || same_key) {
                conflict = true;
            }
        }
        if (conflict) {
            oc->stats.n_tlv_conflicts++;
            VLOG_WARN_RL(&rl, "TLV option class=%#"PRIx16",type=%#"PRIx8" "
                         "or tun_metadata%"PRIu16" is mapped differently "
                         "in the switch: left alone", ours->option_class,
                         ours->option_type, ours->index);
        } else if (!present) {
            struct ofputil_tlv_map *map = xmemdup(ours, sizeof *ours);
            ovs_list_push_back(&ttm.mappings, &map->list_node);
        }
    }
    ofputil_uninit_tlv_table(&ttr.mappings);

    if (!ovs_list_is_empty(&ttm.mappings)) {
        struct ofpbuf *msg = ofputil_encode_tlv_table_mod(ofctrl_version(oc),
                                                          &ttm);
        oc->tlv_mod_xid = msg_xid(msg);
        ofctrl_send(oc, msg);
    }
    ofputil_uninit_tlv_table(&ttm.mappings);
    start_dump(oc);
}

static void
handle_dump_reply(struct ofctrl *oc, const struct ofp_header *oh)
{
    struct ofpbuf b = ofpbuf_const_initializer(oh, ntohs(oh->length));
    struct ofpbuf ofpacts;

    if (oc->state != S_DUMP || oh->xid != oc->dump_xid) {
        return;
    }

    ofpbuf_init(&ofpacts, 64);
    for (;;) {
        struct ofputil_flow_stats fs;
        struct minimatch match;
        struct ofctrl_flow *f;
        int retval;

        retval = ofputil_decode_flow_stats_reply(&fs, &b, false, &ofpacts);
        if (retval == EOF) {
            break;
        } else if (retval) {
            COVERAGE_INC(ofctrl_bad_msg);
            oc->stats.n_bad_msgs++;
            VLOG_WARN_RL(&rl, "bad flow dump reply (%s): deleting all flows "
                         "with our cookie", ofperr_to_string(retval));
            ofpbuf_uninit(&ofpacts);
            dump_failed(oc);
            return;
        }
        if (fs.cookie != htonll(oc->cookie) || fs.table_id == OFPTT_ALL) {
            continue;
        }
        minimatch_init(&match, &fs.match);
        f = flow_find_or_create(oc, fs.table_id, fs.priority, &match);
        flow_set_installed(oc, f, flow_body_create(fs.ofpacts,
                                                   fs.ofpacts_len,
                                                   fs.idle_timeout,
                                                   fs.hard_timeout));
        flow_mark_dirty(oc, f);
    }
    ofpbuf_uninit(&ofpacts);

    if (!ofpmp_more(oh)) {
        VLOG_DBG("%s: %"PRIuSIZE" of our flows installed",
                 rconn_get_name(oc->rconn), oc->stats.n_installed_flows);
        oc->state = S_READY;
        if (oc->authoritative) {
            oc->flush_pending = true;
        }
    }
}

static void
log_entry_error(const struct ofctrl *oc, const char *what, uint32_t id,
                const struct minimatch *match, uint16_t priority,
                enum ofperr error)
{
    if (!VLOG_DROP_WARN(&rl)) {
        struct ds s = DS_EMPTY_INITIALIZER;

        if (match) {
            ds_put_format(&s, "table=%"PRIu32",", id);
            minimatch_format(match, NULL, NULL, &s, priority);
        } else {
            ds_put_format(&s, "%"PRIu32, id);
        }
        VLOG_WARN("%s: switch rejected %s %s: %s",
                  rconn_get_name(oc->rconn), what, ds_cstr(&s),
                  ofperr_to_string(error));
        ds_destroy(&s);
    }
}

/* The switch rejected the message for group or meter 'o'.  Returns false
 * if that was expected (a meter that did or did not exist, which tells us
 * its state), true if it was a real error. */
static bool
handle_obj_error(struct ofctrl *oc, struct ofctrl_obj *o, enum ofperr error)
{
    if (o->kind == OBJ_METER && o->sent_command == OFPMC13_MODIFY
        && error == OFPERR_OFPMMFC_UNKNOWN_METER) {
        /* It was not there: add it, now. */
        free(o->installed);
        o->installed = NULL;
        o->unknown = false;
        o->redo = true;
        oc->flush_pending = true;
    } else if (o->kind == OBJ_METER && o->sent_command == OFPMC13_ADD
               && error == OFPERR_OFPMMFC_METER_EXISTS) {
        /* It is there: modify it, now.  (We do not know its bands: any
         * 'installed' that differs from every spec will do.) */
        free(o->installed);
        o->installed = xstrdup("(unknown)");
        o->unknown = false;
        o->redo = true;
        oc->flush_pending = true;
    } else {
        o->txn_error = true;
        oc->txn_any_error = true;
        log_entry_error(oc, obj_kind_name(o->kind), o->id, NULL, 0, error);
        return true;
    }
    return false;
}

static void
count_error(struct ofctrl *oc)
{
    COVERAGE_INC(ofctrl_switch_error);
    oc->stats.n_errors++;
}

static void
handle_error(struct ofctrl *oc, const struct ofp_header *oh)
{
    enum ofperr error = ofperr_decode_msg(oh, NULL);
    ovs_be32 xid = oh->xid;

    if (!error) {
        COVERAGE_INC(ofctrl_bad_msg);
        oc->stats.n_bad_msgs++;
        return;
    }
    if (oc->txn_active) {
        struct ofctrl_flow *f;
        struct ofctrl_obj *o;

        HMAP_FOR_EACH_WITH_HASH (f, txn_node, hash_int(ntohl(xid), 0),
                                 &oc->txn_flows) {
            if (f->xid == xid) {
                f->txn_error = true;
                oc->txn_any_error = true;
                log_entry_error(oc, "flow", f->table_id, &f->match,
                                f->priority, error);
                count_error(oc);
                return;
            }
        }
        HMAP_FOR_EACH_WITH_HASH (o, txn_node, hash_int(ntohl(xid), 0),
                                 &oc->txn_objs) {
            if (o->xid == xid) {
                if (handle_obj_error(oc, o, error)) {
                    count_error(oc);
                }
                return;
            }
        }
        if (xid == oc->txn_open_xid || xid == oc->txn_commit_xid
            || (oc->txn_wipe && xid == oc->txn_wipe_xid)) {
            count_error(oc);
            oc->txn_failed = true;
            oc->txn_any_error = true;
            VLOG_WARN_RL(&rl, "%s: bundle failed: %s",
                         rconn_get_name(oc->rconn), ofperr_to_string(error));
            return;
        }
    }
    count_error(oc);
    if (oc->state == S_DUMP && xid == oc->dump_xid) {
        VLOG_WARN_RL(&rl, "%s: flow dump failed (%s): deleting all flows "
                     "with our cookie", rconn_get_name(oc->rconn),
                     ofperr_to_string(error));
        dump_failed(oc);
    } else if (oc->state == S_TLV && xid == oc->tlv_req_xid) {
        VLOG_WARN_RL(&rl, "%s: TLV table request failed (%s)",
                     rconn_get_name(oc->rconn), ofperr_to_string(error));
        start_dump(oc);
    } else if (xid == oc->tlv_mod_xid) {
        VLOG_WARN_RL(&rl, "%s: TLV table update failed (%s)",
                     rconn_get_name(oc->rconn), ofperr_to_string(error));
    } else {
        VLOG_WARN_RL(&rl, "%s: OpenFlow error: %s",
                     rconn_get_name(oc->rconn), ofperr_to_string(error));
    }
}

static void
queue_expiry(struct ofctrl *oc, const struct ofputil_flow_removed *fr,
             struct minimatch *match)
{
    struct flow_expiry *e;

    if (oc->n_expiries >= OFCTRL_FLOW_REMOVED_LIMIT) {
        COVERAGE_INC(ofctrl_expiry_drop);
        oc->stats.n_expired_drops++;
        return;
    }
    e = xmalloc(sizeof *e);
    minimatch_clone(&e->match, match);
    e->table_id = fr->table_id;
    e->priority = fr->priority;
    e->reason = fr->reason;
    e->idle_timeout = fr->idle_timeout;
    e->hard_timeout = fr->hard_timeout;
    e->duration_sec = fr->duration_sec;
    e->duration_nsec = fr->duration_nsec;
    e->packet_count = fr->packet_count;
    e->byte_count = fr->byte_count;
    ovs_list_push_back(&oc->expiries, &e->list_node);
    oc->n_expiries++;
    oc->stats.n_expired++;
}

static void
handle_flow_removed(struct ofctrl *oc, const struct ofp_header *oh)
{
    struct ofputil_flow_removed fr;
    struct minimatch match;
    struct ofctrl_flow *f;
    enum ofperr error;

    error = ofputil_decode_flow_removed(&fr, oh);
    if (error) {
        COVERAGE_INC(ofctrl_bad_msg);
        oc->stats.n_bad_msgs++;
        return;
    }
    if (fr.cookie != htonll(oc->cookie) || fr.table_id == OFPTT_ALL) {
        return;
    }

    minimatch_init(&match, &fr.match);
    f = flow_lookup(oc, fr.table_id, fr.priority, &match,
                    flow_hash(fr.table_id, fr.priority, &match));
    if (f && !f->in_txn) {
        /* (If 'f' is in flight, this is about the instance our transaction
         * deletes or replaces.) */
        bool timeout = (fr.reason == OFPRR_IDLE_TIMEOUT
                        || fr.reason == OFPRR_HARD_TIMEOUT);

        flow_set_installed(oc, f, NULL);
        if (timeout && f->desired
            && f->desired->idle_timeout == fr.idle_timeout
            && f->desired->hard_timeout == fr.hard_timeout) {
            flow_set_desired(oc, f, NULL);
            queue_expiry(oc, &fr, &match);
        } else if (f->desired) {
            COVERAGE_INC(ofctrl_repair);
            oc->stats.n_repairs++;
            flow_mark_dirty(oc, f);
            if (oc->authoritative) {
                oc->flush_pending = true;
            }
        }
        flow_gc(oc, f);
    }
    minimatch_destroy(&match);
}

/* Takes ownership of 'msg'. */
static void
handle_packet_in(struct ofctrl *oc, struct ofpbuf *msg)
{
    struct ofctrl_packet_in *p;
    uint32_t buffer_id;
    enum ofperr error;

    if (oc->n_packet_ins >= oc->packet_in_limit) {
        COVERAGE_INC(ofctrl_packet_in_drop);
        oc->stats.n_packet_in_drops++;
        ofpbuf_delete(msg);
        return;
    }

    p = xzalloc(sizeof *p);
    p->msg = msg;
    error = ofputil_decode_packet_in(msg->data, true, NULL, NULL, &p->pin,
                                     &p->total_len, &buffer_id, NULL);
    if (error) {
        COVERAGE_INC(ofctrl_bad_msg);
        oc->stats.n_bad_msgs++;
        VLOG_WARN_RL(&rl, "bad packet-in (%s)", ofperr_to_string(error));
        ofpbuf_delete(msg);
        free(p);
        return;
    }
    p->in_port = p->pin.flow_metadata.flow.in_port.ofp_port;
    ovs_list_push_back(&oc->packet_ins, &p->list_node);
    oc->n_packet_ins++;
    oc->stats.n_packet_ins++;
}

/* Handles 'msg' from the switch; takes ownership of it. */
static void
handle_msg(struct ofctrl *oc, struct ofpbuf *msg)
{
    const struct ofp_header *oh = msg->data;
    enum ofptype type;

    if (ofptype_decode(&type, oh)) {
        COVERAGE_INC(ofctrl_bad_msg);
        oc->stats.n_bad_msgs++;
        ofpbuf_delete(msg);
        return;
    }

    switch (type) {
    case OFPTYPE_ECHO_REQUEST:
        ofctrl_send(oc, ofputil_encode_echo_reply(oh));
        break;

    case OFPTYPE_FEATURES_REPLY: {
        struct ofpbuf b = ofpbuf_const_initializer(oh, ntohs(oh->length));
        struct ofputil_switch_features features;

        if (!ofputil_pull_switch_features(&b, &features)) {
            oc->datapath_id = features.datapath_id;
        }
        break;
    }

    case OFPTYPE_GET_CONFIG_REPLY: {
        struct ofputil_switch_config config;

        ofputil_decode_get_config_reply(oh, &config);
        config.miss_send_len = UINT16_MAX;
        ofctrl_send(oc, ofputil_encode_set_config(&config,
                                                  ofctrl_version(oc)));
        break;
    }

    case OFPTYPE_ERROR:
        handle_error(oc, oh);
        break;

    case OFPTYPE_BARRIER_REPLY:
        if (oc->txn_active && oh->xid == oc->txn_barrier_xid) {
            txn_complete(oc);
        }
        break;

    case OFPTYPE_NXT_TLV_TABLE_REPLY:
        handle_tlv_reply(oc, oh);
        break;

    case OFPTYPE_FLOW_STATS_REPLY:
        handle_dump_reply(oc, oh);
        break;

    case OFPTYPE_FLOW_REMOVED:
        handle_flow_removed(oc, oh);
        break;

    case OFPTYPE_PACKET_IN:
        handle_packet_in(oc, msg);
        return;

    default:
        break;
    }
    ofpbuf_delete(msg);
}

/* Public API. */

/* Creates an OpenFlow connection to 'target' (a vconn name such as
 * "unix:/run/openvswitch/br-int.mgmt"), which owns the flows that carry
 * 'cookie'.  'allowed_versions' is a bitmap of (1 << OFPxx_VERSION); only
 * OpenFlow 1.3 and later are used, and 0 means OFCTRL_DEFAULT_VERSIONS.
 * Returns NULL if 'target' is NULL, if 'cookie' is 0 (what flows added
 * without a cookie carry) or has its top bit set (OFCTRL_COOKIE_MASK), or
 * if 'allowed_versions' holds
 * no version from 1.3 on.  The connection is made by ofctrl_run(). */
struct ofctrl *
ofctrl_create(const char *target, uint64_t cookie, uint32_t allowed_versions)
{
    struct ofctrl *oc;

    if (!allowed_versions) {
        allowed_versions = OFCTRL_DEFAULT_VERSIONS;
    }
    allowed_versions &= OFCTRL_DEFAULT_VERSIONS;
    if (!target || !cookie || cookie & ~OFCTRL_COOKIE_MASK
        || !allowed_versions) {
        return NULL;
    }

    oc = xzalloc(sizeof *oc);
    oc->rconn = rconn_create(PROBE_INTERVAL, MAX_BACKOFF, 0,
                             allowed_versions);
    oc->seqno = rconn_get_connection_seqno(oc->rconn);
    oc->cookie = cookie;
    oc->protocol = OFPUTIL_P_OF13_OXM;
    oc->state = S_DISCONNECTED;
    ovs_list_init(&oc->tlv_maps);
    hmap_init(&oc->flows);
    ovs_list_init(&oc->dirty_flows);
    hmap_init(&oc->objs);
    ovs_list_init(&oc->dirty_objs);
    oc->retry_at = LLONG_MAX;
    oc->retry_delay = RETRY_MIN_MS;
    hmap_init(&oc->txn_flows);
    hmap_init(&oc->txn_objs);
    ovs_list_init(&oc->packet_ins);
    oc->packet_in_limit = OFCTRL_DEFAULT_PACKET_IN_LIMIT;
    ovs_list_init(&oc->expiries);
    oc->packet_out_counter = rconn_packet_counter_create();

    rconn_connect(oc->rconn, target, target);
    return oc;
}

/* Closes the connection of 'oc' and frees it.  The flows stay in the
 * switch.  'oc' may be NULL. */
void
ofctrl_destroy(struct ofctrl *oc)
{
    struct ofctrl_packet_in *p;
    struct flow_expiry *e;
    struct ofctrl_flow *f;
    struct ofctrl_obj *o;

    if (!oc) {
        return;
    }
    txn_abort(oc);
    HMAP_FOR_EACH_SAFE (f, node, &oc->flows) {
        flow_destroy(oc, f);
    }
    HMAP_FOR_EACH_SAFE (o, node, &oc->objs) {
        obj_destroy(oc, o);
    }
    LIST_FOR_EACH_POP (p, list_node, &oc->packet_ins) {
        ofctrl_packet_in_destroy(p);
    }
    LIST_FOR_EACH_POP (e, list_node, &oc->expiries) {
        minimatch_destroy(&e->match);
        free(e);
    }
    ofputil_uninit_tlv_table(&oc->tlv_maps);
    hmap_destroy(&oc->flows);
    hmap_destroy(&oc->objs);
    hmap_destroy(&oc->txn_flows);
    hmap_destroy(&oc->txn_objs);
    rconn_destroy(oc->rconn);
    rconn_packet_counter_destroy(oc->packet_out_counter);
    free(oc);
}

/* Runs 'oc': (re)connects, handles at most OFCTRL_MAX_RECV_PER_RUN messages
 * from the switch, and sends the pending difference if no transaction is in
 * flight.  Drain ofctrl_recv_packet_in() and ofctrl_recv_flow_removed()
 * after calling it. */
void
ofctrl_run(struct ofctrl *oc)
{
    unsigned int seqno;

    rconn_run(oc->rconn);
    if (!rconn_is_connected(oc->rconn)) {
        if (oc->state != S_DISCONNECTED) {
            VLOG_INFO("%s: disconnected", rconn_get_name(oc->rconn));
            oc->state = S_DISCONNECTED;
        }
        return;
    }

    seqno = rconn_get_connection_seqno(oc->rconn);
    if (seqno != oc->seqno || oc->state == S_DISCONNECTED) {
        oc->seqno = seqno;
        on_connect(oc);
    }

    oc->recv_capped = true;
    for (int i = 0; i < OFCTRL_MAX_RECV_PER_RUN; i++) {
        struct ofpbuf *msg = rconn_recv(oc->rconn);

        if (!msg) {
            oc->recv_capped = false;
            break;
        }
        handle_msg(oc, msg);
        if (seqno != rconn_get_connection_seqno(oc->rconn)) {
            return;
        }
    }

    if (oc->retry_at != LLONG_MAX && time_msec() >= oc->retry_at) {
        oc->retry_at = LLONG_MAX;
        oc->retry_due = true;
        oc->flush_pending = true;
    }
    if (oc->state == S_READY && oc->authoritative && oc->flush_pending
        && !oc->txn_active) {
        txn_send(oc);
    }
}

/* Arranges for poll_block() to wake up when ofctrl_run() has work to do. */
void
ofctrl_wait(struct ofctrl *oc)
{
    rconn_run_wait(oc->rconn);
    rconn_recv_wait(oc->rconn);
    if (rconn_is_connected(oc->rconn)) {
        if (oc->recv_capped) {
            poll_immediate_wake();
        }
        if (oc->retry_at != LLONG_MAX) {
            poll_timer_wait_until(oc->retry_at);
        }
        if (oc->state == S_READY && oc->authoritative && oc->flush_pending
            && !oc->txn_active) {
            poll_immediate_wake();
        }
    }
}

/* Drops the connection of 'oc' and connects again (as after a failure). */
void
ofctrl_reconnect(struct ofctrl *oc)
{
    rconn_reconnect(oc->rconn);
}

/* Returns true if 'oc' is connected to its switch. */
bool
ofctrl_is_connected(const struct ofctrl *oc)
{
    return rconn_is_connected(oc->rconn);
}

/* Returns true if 'oc' is connected and the switch confirmed that it holds
 * exactly the desired flows, groups and meters of 'oc' (after the last
 * commit). */
bool
ofctrl_is_synced(const struct ofctrl *oc)
{
    const struct ofctrl_flow *f;
    const struct ofctrl_obj *o;

    if (!rconn_is_connected(oc->rconn) || oc->state != S_READY
        || !oc->authoritative || oc->txn_active || oc->wipe_pending) {
        return false;
    }
    LIST_FOR_EACH (f, dirty_node, &oc->dirty_flows) {
        if (flow_needs_send(f)) {
            return false;
        }
    }
    LIST_FOR_EACH (o, dirty_node, &oc->dirty_objs) {
        if (obj_needs_send(o)) {
            return false;
        }
    }
    return true;
}

/* Returns the OpenFlow version of the connection of 'oc' (OFP13_VERSION...),
 * or 0 if it is not connected. */
int
ofctrl_get_version(const struct ofctrl *oc)
{
    return rconn_is_connected(oc->rconn) ? rconn_get_version(oc->rconn) : 0;
}

/* Returns the cookie of the flows of 'oc'. */
uint64_t
ofctrl_get_cookie(const struct ofctrl *oc)
{
    return oc->cookie;
}

/* Returns the datapath id that the switch of 'oc' reported, or 0 before the
 * features reply of the current connection arrived. */
uint64_t
ofctrl_get_datapath_id(const struct ofctrl *oc)
{
    return oc->datapath_id;
}

/* Sets the Geneve TLV map that 'oc' keeps installed, from 'spec' in the
 * syntax of "ovs-ofctl add-tlv-map", e.g.
 * "{class=0xffff,type=0x80,len=4}->tun_metadata0".  Mappings of the switch
 * that are not in 'spec' are left alone; a mapping of 'spec' whose index or
 * option is mapped differently in the switch is not forced (it is logged and
 * counted).  Set it before the first commit: it is (re)installed at every
 * connection, before any flow.  Returns NULL, or an error message that the
 * caller must free (then the map of 'oc' is unchanged). */
char *
ofctrl_set_tlv_map(struct ofctrl *oc, const char *spec)
{
    struct ofputil_tlv_table_mod ttm;
    struct ofputil_tlv_map *map;
    enum ofputil_protocol usable;
    char *error;

    if (!spec) {
        return xstrdup("no TLV map given");
    }
    error = parse_ofp_tlv_table_mod_str(&ttm, NXTTMC_ADD, spec, &usable);
    if (error) {
        return error;
    }
    LIST_FOR_EACH (map, list_node, &ttm.mappings) {
        if (!map->option_len || map->option_len % 4
            || map->option_len > TLV_MAX_OPT_SIZE
            || map->index >= TUN_METADATA_NUM_OPTS) {
            ofputil_uninit_tlv_table(&ttm.mappings);
            return xstrdup("TLV option length must be a multiple of 4 from "
                           "4 to 124, and the field tun_metadata0 to 63");
        }
    }
    ofputil_uninit_tlv_table(&oc->tlv_maps);
    ovs_list_init(&oc->tlv_maps);
    ovs_list_push_back_all(&oc->tlv_maps, &ttm.mappings);

    if (rconn_is_connected(oc->rconn) && oc->state != S_DISCONNECTED
        && oc->state != S_TLV && !ovs_list_is_empty(&oc->tlv_maps)) {
        if (oc->txn_active) {
            /* Simplest correct course: start over. */
            rconn_reconnect(oc->rconn);
        } else {
            /* Install it now, then dump again: handle_tlv_reply() does
             * both.  (A reply to an earlier dump is ignored in S_TLV.) */
            struct ofpbuf *msg = ofpraw_alloc(OFPRAW_NXT_TLV_TABLE_REQUEST,
                                              ofctrl_version(oc), 0);
            oc->tlv_req_xid = msg_xid(msg);
            ofctrl_send(oc, msg);
            reset_installed(oc);
            oc->state = S_TLV;
        }
    }
    return NULL;
}

/* Adds to the desired table of 'oc' the flow ('table_id', 'priority',
 * 'match') with the 'ofpacts_len' bytes of actions 'ofpacts' and the given
 * timeouts (0: none), or replaces the actions and timeouts of that flow if
 * it is already desired.  Returns 0, or EINVAL if 'table_id' is OFPTT_ALL,
 * 'ofpacts_len' is not a multiple of OFPACT_ALIGNTO or larger than 16 kB, or
 * 'ofpacts' is NULL with a nonzero length. */
int
ofctrl_flow_add(struct ofctrl *oc, uint8_t table_id, uint16_t priority,
                const struct match *match,
                const struct ofpact *ofpacts, size_t ofpacts_len,
                uint16_t idle_timeout, uint16_t hard_timeout)
{
    struct minimatch mm;
    struct ofctrl_flow *f;

    if (table_id == OFPTT_ALL || ofpacts_len % OFPACT_ALIGNTO
        || ofpacts_len > MAX_OFPACTS_LEN || (!ofpacts && ofpacts_len)) {
        return EINVAL;
    }
    minimatch_init_as_switch(&mm, match);
    f = flow_find_or_create(oc, table_id, priority, &mm);
    flow_set_desired(oc, f, flow_body_create(ofpacts, ofpacts_len,
                                             idle_timeout, hard_timeout));
    return 0;
}

/* Parses 'flow' (and 'actions') in the syntax of "ovs-ofctl add-flow" into
 * 'fm'.  'actions' may be NULL if 'flow' holds "actions=..." itself; it may
 * start with "actions=". */
static char * OVS_WARN_UNUSED_RESULT
parse_flow(const struct ofctrl *oc, const char *flow, const char *actions,
           int command, struct ofputil_flow_mod *fm)
{
    enum ofputil_protocol usable;
    char *error;
    char *s;

    if (!flow) {
        return xstrdup("no flow given");
    }
    if (actions) {
        if (!strncmp(actions, "actions=", 8)) {
            actions += 8;
        }
        s = xasprintf("%s%sactions=%s", flow, *flow ? "," : "", actions);
    } else {
        s = xstrdup(flow);
    }
    error = parse_ofp_str(fm, command, s, NULL, NULL, &usable);
    free(s);
    if (error) {
        return error;
    }
    if (fm->modify_cookie && fm->new_cookie != htonll(oc->cookie)) {
        error = xstrdup("the cookie of a flow is set by ofctrl");
    } else if (fm->cookie_mask) {
        error = xstrdup("a cookie mask is not allowed");
    } else if (fm->flags) {
        error = xstrdup("the flags of a flow are set by ofctrl");
    } else if (fm->ofpacts_len > MAX_OFPACTS_LEN) {
        error = xstrdup("actions too long");
    } else if (!(usable & OFPUTIL_P_OF13_UP)) {
        error = xstrdup("flow cannot be expressed in OpenFlow 1.3+");
    }
    if (error) {
        free(fm->ofpacts);
        minimatch_destroy(&fm->match);
        return error;
    }
    if (fm->table_id == OFPTT_ALL) {
        fm->table_id = 0;
    }

    struct match match;
    minimatch_expand(&fm->match, &match);
    minimatch_destroy(&fm->match);
    minimatch_init_as_switch(&fm->match, &match);
    return NULL;
}

/* Adds the flow described by 'flow' and 'actions' to the desired table of
 * 'oc', as ofctrl_flow_add() does.  'flow' is the match, table, priority and
 * timeouts in the syntax of "ovs-ofctl add-flow" (e.g.
 * "table=0,priority=100,ip,nw_dst=203.0.113.10,idle_timeout=60"; no table
 * means table 0, no priority means 32768); 'actions' its actions, with or
 * without a leading "actions=", or NULL if 'flow' holds them.  Flags and a
 * cookie other than ours are not accepted.  Returns NULL, or an error
 * message that the caller must free (the desired table is then unchanged). */
char *
ofctrl_flow_add_str(struct ofctrl *oc, const char *flow, const char *actions)
{
    struct ofputil_flow_mod fm;
    struct ofctrl_flow *f;
    char *error;

    error = parse_flow(oc, flow, actions, OFPFC_ADD, &fm);
    if (error) {
        return error;
    }
    f = flow_find_or_create(oc, fm.table_id, fm.priority, &fm.match);
    flow_set_desired(oc, f, flow_body_create(fm.ofpacts, fm.ofpacts_len,
                                             fm.idle_timeout,
                                             fm.hard_timeout));
    free(fm.ofpacts);
    return NULL;
}

static bool
flow_del__(struct ofctrl *oc, uint8_t table_id, uint16_t priority,
           const struct minimatch *mm)
{
    struct ofctrl_flow *f;

    f = flow_lookup(oc, table_id, priority, mm,
                    flow_hash(table_id, priority, mm));
    if (!f || !f->desired) {
        return false;
    }
    flow_set_desired(oc, f, NULL);
    flow_gc(oc, f);
    return true;
}

/* Removes the flow ('table_id', 'priority', 'match') from the desired table
 * of 'oc'.  Returns true if it was there. */
bool
ofctrl_flow_del(struct ofctrl *oc, uint8_t table_id, uint16_t priority,
                const struct match *match)
{
    struct minimatch mm;
    bool found;

    minimatch_init_as_switch(&mm, match);
    found = flow_del__(oc, table_id, priority, &mm);
    minimatch_destroy(&mm);
    return found;
}

/* Removes the flow given by 'flow' (the syntax of ofctrl_flow_add_str(),
 * without actions) from the desired table of 'oc'.  Stores in '*found'
 * (if nonnull) whether it was there.  Returns NULL, or an error message that
 * the caller must free. */
char *
ofctrl_flow_del_str(struct ofctrl *oc, const char *flow, bool *found)
{
    struct ofputil_flow_mod fm;
    char *error;
    bool found_;

    error = parse_flow(oc, flow, NULL, OFPFC_DELETE_STRICT, &fm);
    if (!error) {
        found_ = flow_del__(oc, fm.table_id, fm.priority, &fm.match);
        minimatch_destroy(&fm.match);
        free(fm.ofpacts);
    } else {
        found_ = false;
    }
    if (found) {
        *found = found_;
    }
    return error;
}

/* Returns true if the switch confirmed that it holds the flow ('table_id',
 * 'priority', 'match') of 'oc' (with whatever actions were last
 * confirmed). */
bool
ofctrl_flow_is_installed(const struct ofctrl *oc, uint8_t table_id,
                         uint16_t priority, const struct match *match)
{
    struct minimatch mm;
    struct ofctrl_flow *f;

    minimatch_init_as_switch(&mm, match);
    f = flow_lookup(oc, table_id, priority, &mm,
                    flow_hash(table_id, priority, &mm));
    minimatch_destroy(&mm);
    return f && f->installed;
}

/* Does the switch hold exactly what 'oc' desires of the flow ('table_id',
 * 'priority', 'match'): the desired flow with its actions, or, if it is not
 * desired, no such flow?  False while the switch's tables are not known
 * (not connected, or before the first dump). */
bool
ofctrl_flow_is_current(const struct ofctrl *oc, uint8_t table_id,
                       uint16_t priority, const struct match *match)
{
    struct minimatch mm;
    struct ofctrl_flow *f;

    if (!rconn_is_connected(oc->rconn) || oc->state != S_READY
        || !oc->authoritative || oc->wipe_pending) {
        return false;
    }
    minimatch_init_as_switch(&mm, match);
    f = flow_lookup(oc, table_id, priority, &mm,
                    flow_hash(table_id, priority, &mm));
    minimatch_destroy(&mm);
    return !f || (!f->in_txn && flow_body_equal(f->desired, f->installed));
}

/* Makes 'body' the desired state of object ('kind', 'id'). */
static void
obj_set(struct ofctrl *oc, enum obj_kind kind, uint32_t id,
        struct obj_body *body)
{
    struct ofctrl_obj *o = obj_lookup(oc, kind, id);

    if (!o) {
        o = xzalloc(sizeof *o);
        o->kind = kind;
        o->id = id;
        hmap_insert(&oc->objs, &o->node, obj_hash(kind, id));
    }
    obj_set_desired(oc, o, body);
}

static bool
obj_del(struct ofctrl *oc, enum obj_kind kind, uint32_t id)
{
    struct ofctrl_obj *o = obj_lookup(oc, kind, id);

    if (!o || !o->desired) {
        return false;
    }
    obj_set_desired(oc, o, NULL);
    obj_gc(oc, o);
    return true;
}

/* Sets the desired group 'group_id' of 'oc' to 'spec', the group in the
 * syntax of "ovs-ofctl add-group" without "group_id=", e.g.
 * "type=select,selection_method=hash,fields(ip_src,ip_dst),
 * bucket=actions=output:1,bucket=actions=output:2".  A group is re-sent when
 * its 'spec' string changes.  Returns NULL, or an error message that the
 * caller must free (the desired table is then unchanged). */
char *
ofctrl_group_set(struct ofctrl *oc, uint32_t group_id, const char *spec)
{
    struct obj_body *body;
    char *error;
    char *s;

    if (!spec) {
        return xstrdup("no group given");
    }
    if (group_id > OFPG_MAX) {
        return xasprintf("group id %"PRIu32" is reserved", group_id);
    }
    body = xzalloc(sizeof *body);
    s = xasprintf("group_id=%"PRIu32",%s", group_id, spec);
    error = parse_ofp_group_mod_str(&body->gm, OFPGC11_ADD_OR_MOD, s, NULL,
                                    NULL, &body->usable);
    free(s);
    if (!error && body->gm.group_id != group_id) {
        ofputil_uninit_group_mod(&body->gm);
        error = xstrdup("group_id is given separately");
    }
    if (!error && !(body->usable & OFPUTIL_P_OF13_UP)) {
        ofputil_uninit_group_mod(&body->gm);
        error = xstrdup("group cannot be expressed in OpenFlow 1.3+");
    }
    if (error) {
        free(body);
        return error;
    }
    body->spec = xstrdup(spec);
    obj_set(oc, OBJ_GROUP, group_id, body);
    return NULL;
}

/* Removes group 'group_id' from the desired table of 'oc'.  Returns true if
 * it was there.  Flows that still send to it are deleted by the switch when
 * the group goes. */
bool
ofctrl_group_del(struct ofctrl *oc, uint32_t group_id)
{
    return obj_del(oc, OBJ_GROUP, group_id);
}

/* Sets the desired meter 'meter_id' of 'oc' to 'spec', the meter in the
 * syntax of "ovs-ofctl add-meter" without "meter=", e.g.
 * "pktps,burst,band=type=drop,rate=1000,burst_size=100".  'meter_id' may be
 * OFPM13_CONTROLLER: that meter limits the packet-ins of every connection
 * to the switch (controller_rate_limit does not apply to BRIDGE.mgmt).
 * Meters are sent outside the bundle (OVS bundles carry no meter-mod):
 * added or modified before it, deleted after it.  Returns NULL, or an error
 * message that the caller must free. */
char *
ofctrl_meter_set(struct ofctrl *oc, uint32_t meter_id, const char *spec)
{
    struct obj_body *body;
    char *error;
    char *s;

    if (!spec) {
        return xstrdup("no meter given");
    }
    if (!meter_id || (meter_id > OFPM13_MAX && meter_id != OFPM13_CONTROLLER
                      && meter_id != OFPM13_SLOWPATH)) {
        return xasprintf("meter id %"PRIu32" is not valid", meter_id);
    }
    body = xzalloc(sizeof *body);
    s = (meter_id == OFPM13_CONTROLLER ? xasprintf("meter=controller,%s", spec)
         : meter_id == OFPM13_SLOWPATH ? xasprintf("meter=slowpath,%s", spec)
         : xasprintf("meter=%"PRIu32",%s", meter_id, spec));
    error = parse_ofp_meter_mod_str(&body->mm, s, OFPMC13_ADD,
                                    &body->usable);
    free(s);
    if (!error && body->mm.meter.meter_id != meter_id) {
        free(body->mm.meter.bands);
        error = xstrdup("the meter id is given separately");
    }
    if (error) {
        free(body);
        return error;
    }
    body->spec = xstrdup(spec);
    obj_set(oc, OBJ_METER, meter_id, body);
    return NULL;
}

/* Removes meter 'meter_id' from the desired table of 'oc'.  Returns true if
 * it was there.  Flows that still use it are deleted by the switch when the
 * meter goes. */
bool
ofctrl_meter_del(struct ofctrl *oc, uint32_t meter_id)
{
    return obj_del(oc, OBJ_METER, meter_id);
}

/* Empties the desired table (flows, groups and meters) of 'oc', typically
 * before adding everything again: the next commit sends only the
 * difference. */
void
ofctrl_clear(struct ofctrl *oc)
{
    struct ofctrl_flow *f;
    struct ofctrl_obj *o;

    HMAP_FOR_EACH_SAFE (f, node, &oc->flows) {
        flow_set_desired(oc, f, NULL);
        flow_gc(oc, f);
    }
    HMAP_FOR_EACH_SAFE (o, node, &oc->objs) {
        obj_set_desired(oc, o, NULL);
        obj_gc(oc, o);
    }
}

/* Declares the desired table of 'oc' complete and sends the difference with
 * the installed table now, or as soon as the connection is ready and the
 * transaction in flight (if any) is confirmed. */
void
ofctrl_commit(struct ofctrl *oc)
{
    oc->authoritative = true;
    oc->flush_pending = true;
    if (rconn_is_connected(oc->rconn) && oc->state == S_READY
        && !oc->txn_active) {
        txn_send(oc);
    }
}

/* Pops the oldest flow expiry of 'oc' into '*fr': a flow of ours whose idle
 * or hard timeout expired in the switch (it has left the desired table).
 * Returns false if there is none. */
bool
ofctrl_recv_flow_removed(struct ofctrl *oc, struct ofputil_flow_removed *fr)
{
    struct flow_expiry *e;

    if (ovs_list_is_empty(&oc->expiries)) {
        return false;
    }
    e = CONTAINER_OF(ovs_list_pop_front(&oc->expiries), struct flow_expiry,
                     list_node);
    oc->n_expiries--;

    memset(fr, 0, sizeof *fr);
    minimatch_expand(&e->match, &fr->match);
    fr->cookie = htonll(oc->cookie);
    fr->priority = e->priority;
    fr->reason = e->reason;
    fr->table_id = e->table_id;
    fr->duration_sec = e->duration_sec;
    fr->duration_nsec = e->duration_nsec;
    fr->idle_timeout = e->idle_timeout;
    fr->hard_timeout = e->hard_timeout;
    fr->packet_count = e->packet_count;
    fr->byte_count = e->byte_count;
    minimatch_destroy(&e->match);
    free(e);
    return true;
}

/* Pops the oldest packet-in of 'oc', or returns NULL if there is none.  The
 * caller owns it and frees it with ofctrl_packet_in_destroy(). */
struct ofctrl_packet_in *
ofctrl_recv_packet_in(struct ofctrl *oc)
{
    if (ovs_list_is_empty(&oc->packet_ins)) {
        return NULL;
    }
    oc->n_packet_ins--;
    return CONTAINER_OF(ovs_list_pop_front(&oc->packet_ins),
                        struct ofctrl_packet_in, list_node);
}

/* Frees packet-in 'p' (which may be NULL). */
void
ofctrl_packet_in_destroy(struct ofctrl_packet_in *p)
{
    if (p) {
        ofpbuf_delete(p->msg);
        free(p);
    }
}

/* Copies the value of tun_metadata<'index'> of packet-in 'p' (the bytes of
 * the TLV option, as long as the TLV map says) into 'value', which has room
 * for 'size' bytes, and its length into '*lenp'.  Returns false if the
 * packet-in carries no such field or 'size' is too small. */
bool
ofctrl_packet_in_get_tun_metadata(const struct ofctrl_packet_in *p,
                                  unsigned int index, void *value,
                                  size_t size, size_t *lenp)
{
    const struct match *m = &p->pin.flow_metadata;
    const struct tun_metadata_loc *loc;

    if (index >= TUN_METADATA_NUM_OPTS || !m->tun_md.valid
        || !ULLONG_GET(m->flow.tunnel.metadata.present.map, index)) {
        return false;
    }
    loc = &m->tun_md.entry[index].loc;
    if (loc->len <= 0 || loc->len > size || loc->c.next
        || loc->c.len != loc->len || loc->c.offset < 0
        || loc->c.offset + loc->len > TUN_METADATA_TOT_OPT_SIZE) {
        return false;
    }
    memcpy(value, m->flow.tunnel.metadata.opts.u8 + loc->c.offset, loc->len);
    *lenp = loc->len;
    return true;
}

/* Sets the bound of the packet-in queue of 'oc' to 'limit' (at least 1);
 * packet-ins beyond it are dropped and counted.  Packets already queued
 * stay. */
void
ofctrl_set_packet_in_limit(struct ofctrl *oc, size_t limit)
{
    oc->packet_in_limit = MAX(limit, 1);
}

/* Sends the 'len'-byte Ethernet frame 'frame' through the switch of 'oc' as
 * if it came in on 'in_port' (OFPP_CONTROLLER for none), with the
 * 'ofpacts_len' bytes of actions 'ofpacts'.  Returns 0 if it was queued,
 * EINVAL if the frame is empty, ENOTCONN if 'oc' is not connected, EMSGSIZE
 * if it does not fit in an OpenFlow message, EAGAIN if
 * OFCTRL_PACKET_OUT_QUEUE packet-outs are already waiting; the frame is
 * dropped (and counted) on any error. */
int
ofctrl_send_packet_out(struct ofctrl *oc, const void *frame, size_t len,
                       ofp_port_t in_port,
                       const struct ofpact *ofpacts, size_t ofpacts_len)
{
    struct ofputil_packet_out po;
    struct ofpbuf *msg;
    int error;

    if (!frame || !len || (!ofpacts && ofpacts_len)) {
        error = EINVAL;
        goto drop;
    }
    if (len > UINT16_MAX || ofpacts_len > UINT16_MAX) {
        error = EMSGSIZE;
        goto drop;
    }
    if (!rconn_is_connected(oc->rconn)) {
        error = ENOTCONN;
        goto drop;
    }

    memset(&po, 0, sizeof po);
    po.packet = frame;
    po.packet_len = len;
    po.buffer_id = UINT32_MAX;
    match_init_catchall(&po.flow_metadata);
    match_set_in_port(&po.flow_metadata, in_port);
    po.ofpacts = CONST_CAST(struct ofpact *, ofpacts);
    po.ofpacts_len = ofpacts_len;
    msg = ofputil_encode_packet_out(&po, oc->protocol);
    if (msg->size > UINT16_MAX) {
        ofpbuf_delete(msg);
        error = EMSGSIZE;
        goto drop;
    }
    error = rconn_send_with_limit(oc->rconn, msg, oc->packet_out_counter,
                                  OFCTRL_PACKET_OUT_QUEUE);
    if (error) {
        goto drop;
    }
    oc->stats.n_packet_outs++;
    return 0;

drop:
    COVERAGE_INC(ofctrl_packet_out_drop);
    oc->stats.n_packet_out_drops++;
    return error;
}

/* Asks the switch of 'oc' to forget the connection-tracker entries of zone
 * 'zone' that 'match' selects (OpenFlow extension NXT_CT_FLUSH), through the
 * same bounded queue as packet-outs.  Returns 0 if the request was queued,
 * ENOTCONN or EAGAIN (counted) otherwise. */
int
ofctrl_flush_conntrack(struct ofctrl *oc, uint16_t zone,
                       const struct ofp_ct_match *match)
{
    struct ofpbuf *msg;
    int error;

    if (!rconn_is_connected(oc->rconn)) {
        error = ENOTCONN;
    } else {
        msg = ofp_ct_match_encode(match, &zone,
                                  rconn_get_version(oc->rconn));
        error = rconn_send_with_limit(oc->rconn, msg, oc->packet_out_counter,
                                      OFCTRL_PACKET_OUT_QUEUE);
    }
    if (error) {
        COVERAGE_INC(ofctrl_ct_flush_drop);
        oc->stats.n_ct_flush_drops++;
    } else {
        oc->stats.n_ct_flushes++;
    }
    return error;
}

/* Stores the counters of 'oc' into '*stats'. */
void
ofctrl_get_stats(const struct ofctrl *oc, struct ofctrl_stats *stats)
{
    *stats = oc->stats;
}

/* Appends the state and counters of 'oc' to 's', one "name: value" per
 * line. */
void
ofctrl_format_stats(const struct ofctrl *oc, struct ds *s)
{
    const struct ofctrl_stats *st = &oc->stats;

    ds_put_format(s, "target: %s\n", rconn_get_target(oc->rconn));
    ds_put_format(s, "state: %s%s\n", rconn_get_state(oc->rconn),
                  ofctrl_is_synced(oc) ? ", synced" : "");
    ds_put_format(s, "cookie: %#"PRIx64"\n", oc->cookie);
#define FIELD(NAME) \
    ds_put_format(s, #NAME ": %"PRIu64"\n", (uint64_t) st->NAME);
    FIELD(n_connections);
    FIELD(n_flow_mods);
    FIELD(n_group_mods);
    FIELD(n_meter_mods);
    FIELD(n_bundles);
    FIELD(n_barriers);
    FIELD(n_txn_failed);
    FIELD(n_errors);
    FIELD(n_retries);
    FIELD(n_dumps);
    FIELD(n_wipes);
    FIELD(n_repairs);
    FIELD(n_expired);
    FIELD(n_expired_drops);
    FIELD(n_packet_ins);
    FIELD(n_packet_in_drops);
    FIELD(n_packet_outs);
    FIELD(n_packet_out_drops);
    FIELD(n_ct_flushes);
    FIELD(n_ct_flush_drops);
    FIELD(n_bad_msgs);
    FIELD(n_tlv_conflicts);
    FIELD(n_desired_flows);
    FIELD(n_installed_flows);
    FIELD(n_desired_groups);
    FIELD(n_desired_meters);
#undef FIELD
}

#define OFCTRL_COUNTER(MEMBER, NAME, HELP) \
    METRICS_COUNTER_FIELD(struct ofctrl_stats, MEMBER, NAME, HELP)
static const struct metrics_counter ofctrl_counters[] = {
    OFCTRL_COUNTER(n_connections, "connections",
                   "OpenFlow connections to the switch established."),
    OFCTRL_COUNTER(n_flow_mods, "flow_mods", "Flow-mods sent."),
    OFCTRL_COUNTER(n_group_mods, "group_mods", "Group-mods sent."),
    OFCTRL_COUNTER(n_meter_mods, "meter_mods", "Meter-mods sent."),
    OFCTRL_COUNTER(n_bundles, "bundles", "Bundles sent."),
    OFCTRL_COUNTER(n_barriers, "barriers", "Barriers sent."),
    OFCTRL_COUNTER(n_txn_failed, "transactions_failed",
                   "Flow table transactions with an error."),
    OFCTRL_COUNTER(n_errors, "errors", "OpenFlow errors received."),
    OFCTRL_COUNTER(n_retries, "retries",
                   "Messages sent again alone after an error."),
    OFCTRL_COUNTER(n_dumps, "dumps", "Flow dumps after a connection."),
    OFCTRL_COUNTER(n_wipes, "wipes",
                   "Deletes of all our flows (a dump failed)."),
    OFCTRL_COUNTER(n_repairs, "repairs",
                   "Our flows deleted by others, added again."),
    OFCTRL_COUNTER(n_expired, "flows_expired", "Flow expiries reported."),
    OFCTRL_COUNTER(n_expired_drops, "flows_expired_drops",
                   "Flow expiries lost to a full queue."),
    OFCTRL_COUNTER(n_packet_ins, "packet_ins", "Packet-ins queued."),
    OFCTRL_COUNTER(n_packet_in_drops, "packet_in_drops",
                   "Packet-ins lost to a full queue."),
    OFCTRL_COUNTER(n_packet_outs, "packet_outs", "Packet-outs queued."),
    OFCTRL_COUNTER(n_packet_out_drops, "packet_out_drops",
                   "Packet-outs refused."),
    OFCTRL_COUNTER(n_ct_flushes, "conntrack_flushes",
                   "Conntrack flushes queued."),
    OFCTRL_COUNTER(n_ct_flush_drops, "conntrack_flush_drops",
                   "Conntrack flushes refused."),
    OFCTRL_COUNTER(n_bad_msgs, "bad_messages",
                   "Messages from the switch not decoded."),
    OFCTRL_COUNTER(n_tlv_conflicts, "tlv_conflicts",
                   "Our Geneve TLV mappings taken by others."),
};

/* Adds the counters and table sizes of 'oc' to 'm'. */
void
ofctrl_put_metrics(const struct ofctrl *oc, struct metrics *m)
{
    const struct ofctrl_stats *st = &oc->stats;

    metrics_put_counters(m, "ovslb_openflow_", ofctrl_counters,
                         ARRAY_SIZE(ofctrl_counters), st, NULL);
    const struct metrics_gauge gauges[] = {
        { "connected", "1 if the OpenFlow connection to the switch is up.",
          ofctrl_is_connected(oc) },
        { "synced", "1 if the switch has the desired flow table.",
          ofctrl_is_synced(oc) },
        { "desired_flows", "Flows in the desired table.",
          st->n_desired_flows },
        { "installed_flows", "Flows confirmed installed.",
          st->n_installed_flows },
        { "desired_groups", "Groups in the desired table.",
          st->n_desired_groups },
        { "desired_meters", "Meters in the desired table.",
          st->n_desired_meters },
    };
    metrics_put_gauges(m, "ovslb_openflow_", gauges, ARRAY_SIZE(gauges),
                       NULL);
}
