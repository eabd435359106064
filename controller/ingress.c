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
 * ingress: the ingress role of an LB node core (lbnode.h, PROTOCOL.md §2).
 * A packet-in of a flow without a mapping: a SYN goes to the flow's PFT
 * (SYN_INFO); any other segment is buffered in a pending flow while the
 * PFT (ACK_INFO or MAPPING_QUERY), then the SFT, is asked for the flow's
 * server.  The MAPPING that answers installs the mapping and replays the
 * buffer.  A hash VIP's packets come here only from a pinned slot in a
 * change window (controller/hash-vips.h): its trackers are asked with
 * MAPPING_QUERY, and a flow that neither knows goes to the server of its
 * slot.  Part of the lbnode core (lbnode-private.h).
 */
#include <config.h>
#include "lbnode-private.h"

#include <stdlib.h>
#include <string.h>

#include "coverage.h"
#include "deadline-queue.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "tcp-seg.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ingress);

COVERAGE_DEFINE(lbnode_buffer_drop);
COVERAGE_DEFINE(lbnode_bad_packet);
COVERAGE_DEFINE(lbnode_syn_no_tracker);

/* A packet an ingress holds until its flow's mapping arrives. */
struct buffered {
    struct ovs_list node;
    uint32_t ack;               /* Its acknowledgment number. */
    bool bare_ack;              /* An ACK and nothing else: no payload, no
                                 * SYN, FIN, RST or URG. */
    size_t len;
    uint8_t data[];
};

/* Returns true if 'b', buffered before 'next', says nothing to the server
 * that 'next' does not say too: 'b' is a bare ACK and 'next' acknowledges
 * at least as much (acknowledgments are cumulative, and 'next' carries the
 * client's newer window and timestamps).  The client's ACK that completes
 * the handshake is such a packet whenever data follows it before the
 * mapping comes: the agent completed the server's handshake itself
 * (PROTOCOL.md §2), so sending it would cost a packet-out, a trip through
 * the tunnel and the agent, and the server a duplicate ACK, for nothing. */
static bool
buffered_superseded(const struct buffered *b, const struct buffered *next)
{
    return b->bare_ack && next && (int32_t) (next->ack - b->ack) >= 0;
}

/* Frees the pending flow 'p' and the packets it buffers. */
void
ingress_pending_destroy(struct lbnode *lb, struct pending *p)
{
    struct buffered *b;

    hmap_remove(&lb->pending, &p->node);
    deadline_cancel(&p->expiry);
    deadline_cancel(&p->query_retry);
    LIST_FOR_EACH_POP (b, node, &p->packets) {
        free(b);
    }
    free(p);
}

/* Forgets the mapping 'm' (the caller removes its flow if it is still
 * installed). */
void
ingress_mapping_forget(struct lbnode *lb, struct mapping *m)
{
    lease_journal_forget(lb, LBNODE_JOURNAL_MAPPING, &m->cp);
    mapping_remove(lb, m);
    deadline_cancel(&m->expiry);
    free(m);
}

/* Evicts the mapping whose lease timer is 'd' (see "Bounds" in struct
 * lbnode): its switch entry is removed through 'io' (with 'aux'), as when
 * its lease lapses, unless a new connection on its CP already replaced
 * it. */
static void
mapping_evict(struct lbnode *lb, struct deadline *d,
              const struct lbnode_io *io, void *aux)
{
    struct mapping *victim = CONTAINER_OF(d, struct mapping, expiry);

    FLOW_DBG(&victim->cp, "ingress: mapping evicted (%"PRIuSIZE" mappings, "
             "bound %"PRIuSIZE")", hmap_count(&lb->mappings),
             lb->mapping_table_max);
    if (!victim->replaced) {
        io->remove_mapping(aux, &victim->cp);
    }
    ingress_mapping_forget(lb, victim);
    lb->stats.mappings_evicted++;
}

/* A hash VIP's mapping 'm' whose lease ran out: asks its PFT again
 * (MAPPING_QUERY), and gives the answer a few query periods, and returns
 * true; returns false for any other mapping.  The servers publish hash
 * VIPs' connections to their trackers only: an agent does not see their
 * packets, so it cannot name their ingress.  A MAPPING renews the mapping
 * (ingress_mapping()); UNKNOWN, or no answer, ends it. */
bool
ingress_mapping_revalidate(struct lbnode *lb, struct mapping *m,
                           long long int now, const struct lbnode_io *io,
                           void *aux)
{
    const struct vip *v = vip_for_cp(lb, &m->cp);
    uint32_t pft, sft;
    struct ctl_msg msg;

    if (!v || !v->cfg.hash || !lbnode_trackers(lb, &m->cp, &pft, &sft)) {
        return false;
    }
    m->revalidating = true;
    m->expires = now + 3 * lb->query_retry_ms;
    lease_mapping_schedule_expiry(lb, m);
    msg_init(&msg, CTL_MSG_MAPPING_QUERY, lb->self);
    msg.mapping_query.cp = m->cp;
    msg.mapping_query.ingress = lb->self;
    lb->stats.queries++;
    lb->stats.hash_mappings_revalidated++;
    lbnode_deliver(lb, pft, &msg, now, io, aux);
    return true;
}

/* Makes room for one more mapping in a table at its bound by evicting the
 * least recently renewed mappings, the front of 'mapping_leases', through
 * 'io' (with 'aux').  Every mapping is in that queue, so there is always
 * one to evict. */
void
ingress_mapping_make_room(struct lbnode *lb, const struct lbnode_io *io,
                          void *aux)
{
    lbnode_make_room(lb, &lb->mapping_leases, hmap_count(&lb->mappings),
                     lb->mapping_table_max, mapping_evict, io, aux);
}

/* Drops the pending flow whose expiry timer is 'd' with its buffered
 * packets (see "Bounds" in struct lbnode). */
static void
pending_evict(struct lbnode *lb, struct deadline *d,
              const struct lbnode_io *io OVS_UNUSED, void *aux OVS_UNUSED)
{
    struct pending *victim = CONTAINER_OF(d, struct pending, expiry);

    FLOW_DBG(&victim->cp, "ingress: pending flow evicted with %"PRIuSIZE
             " packets", victim->n_packets);
    lb->stats.buffer_drops += victim->n_packets;
    lb->stats.pending_evicted++;
    ingress_pending_destroy(lb, victim);
}

/* Asks a tracker of the pending flow 'p' for its mapping: its PFT, with the
 * numbers of its first segment (ACK_INFO) if 'use_ack_info', or its SFT,
 * by 'p''s stage. */
void
ingress_ask_trackers(struct lbnode *lb, struct pending *p, bool use_ack_info,
                     long long int now, const struct lbnode_io *io, void *aux)
{
    uint32_t pft, sft;
    struct ctl_msg msg;

    if (!lbnode_trackers(lb, &p->cp, &pft, &sft)) {
        return;
    }
    /* A hash VIP's connection had no handshake through the LB tier: there
     * is nothing for ACK_INFO to complete. */
    const struct vip *v = vip_for_cp(lb, &p->cp);
    if (v && v->cfg.hash) {
        use_ack_info = false;
    }
    p->asked = now;
    deadline_queue_set(&lb->query_retries, &p->query_retry,
                       now + lb->query_retry_ms);
    FLOW_DBG(&p->cp, "ingress: %s to %s %"PRIu32,
             p->stage == PENDING_ASKED_PFT && use_ack_info
             ? "ACK_INFO" : "MAPPING_QUERY",
             p->stage == PENDING_ASKED_PFT ? "PFT" : "SFT",
             p->stage == PENDING_ASKED_PFT ? pft : sft);
    if (p->stage == PENDING_ASKED_PFT && use_ack_info) {
        msg_init(&msg, CTL_MSG_ACK_INFO, lb->self);
        msg.ack_info = p->ack;
        lbnode_deliver(lb, pft, &msg, now, io, aux);
    } else {
        msg_init(&msg, CTL_MSG_MAPPING_QUERY, lb->self);
        msg.mapping_query.cp = p->cp;
        msg.mapping_query.ingress = lb->self;
        lb->stats.queries++;
        lbnode_deliver(lb, p->stage == PENDING_ASKED_PFT ? pft : sft, &msg,
                       now, io, aux);
    }
}

static void
ingress_syn(struct lbnode *lb, const struct flow_key *cp,
            const struct tcp_seg_info *seg, long long int now,
            const struct lbnode_io *io, void *aux)
{
    uint32_t pft, sft;
    struct ctl_msg msg;

    lb->stats.syns++;

    /* A SYN never belongs to an established connection: this is a new one
     * that reuses the CP of an old one, whose ingress flow (still within
     * its idle timeout) would send the new connection's ACK to the old
     * server.  Remove it. */
    struct mapping *m = mapping_find(lb, cp);
    if (m && !m->replaced) {
        io->remove_mapping(aux, cp);
        lease_journal_forget(lb, LBNODE_JOURNAL_MAPPING, cp);
        m->replaced = true;
        m->expires = now + lb->lease_ms;
        lease_mapping_schedule_expiry(lb, m);
        lb->stats.mappings_replaced++;
    }

    msg_init(&msg, CTL_MSG_SYN_INFO, lb->self);
    msg.syn_info.cp = *cp;
    msg.syn_info.ingress = lb->self;
    msg.syn_info.client_isn = seg->seq;
    msg.syn_info.opts = (struct ctl_tcp_opts) {
        .has_mss = seg->opts.has_mss,
        .mss = seg->opts.mss,
        .has_wscale = seg->opts.has_wscale,
        .wscale = seg->opts.wscale,
        .sack_permitted = seg->opts.sack_permitted,
        .has_ts = seg->opts.has_ts,
        .tsval = seg->opts.tsval,
        .ece = (seg->flags & TCP_ECE) != 0,
        .cwr = (seg->flags & TCP_CWR) != 0,
    };
    if (msg.syn_info.opts.ece != msg.syn_info.opts.cwr) {
        msg.syn_info.opts.ece = msg.syn_info.opts.cwr = false;
    }

    /* In a flood, a cookie needs no tracker, and no healthy node at all:
     * the health checks may be what the flood delays. */
    event_rate_add(&lb->ingress_syns.rate, now, 1);
    if (tracker_syn_flood(lb, &lb->ingress_syns, now)
        && tracker_answer_with_cookie(lb, &msg.syn_info, now, io, aux)) {
        FLOW_DBG(cp, "ingress: SYN answered with a cookie (SYN flood)");
        return;
    }
    if (!lbnode_trackers(lb, cp, &pft, &sft)) {
        lb->stats.syns_no_tracker++;
        COVERAGE_INC(lbnode_syn_no_tracker);
        return;
    }
    FLOW_DBG(cp, "ingress: SYN to PFT %"PRIu32, pft);
    lbnode_deliver(lb, pft, &msg, now, io, aux);
}

static void
ingress_non_syn(struct lbnode *lb, const struct flow_key *cp,
                const struct tcp_seg_info *seg, const void *frame,
                size_t len, long long int now, const struct lbnode_io *io,
                void *aux)
{
    struct mapping *m;
    struct pending *p;
    struct buffered *b;

    lb->stats.non_syns++;

    /* A packet of a flow we have a mapping for, which the switch did not
     * forward by itself: it came before the mapping's first packet-out,
     * or the switch lost the flow's entry (idle past its timeout, or a
     * restarted switch).  Forwarding it gives the switch the mapping
     * again. */
    m = mapping_find(lb, cp);
    if (m && !m->replaced) {
        io->forward(aux, cp, frame, len, &m->server_addr);
        lb->stats.mapping_recommits++;
        return;
    }

    p = pending_find(lb, cp);
    if (!p) {
        /* The oldest pending flows, the front of 'pending_expiry', make
         * room; every pending flow is in that queue. */
        lbnode_make_room(lb, &lb->pending_expiry, hmap_count(&lb->pending),
                         lb->pending_table_max, pending_evict, io, aux);
        p = xzalloc(sizeof *p);
        p->cp = *cp;
        ovs_list_init(&p->packets);
        p->stage = PENDING_ASKED_PFT;
        p->deadline = now + lb->buffer_timeout_ms;
        deadline_queue_set(&lb->pending_expiry, &p->expiry, p->deadline);
        p->ack = (struct ctl_ack_info) {
            .cp = *cp,
            .ingress = lb->self,
            .seq = seg->seq,
            .ack = seg->ack,
            .has_ts = seg->opts.has_ts,
            .has_data = seg->payload_len > 0,
            .tsval = seg->opts.tsval,
            .tsecr = seg->opts.tsecr,
        };
        hmap_insert(&lb->pending, &p->node, cp_hash(cp));
    }

    if (p->n_packets >= lb->buffer_packets
        || p->n_bytes + len > lb->buffer_bytes) {
        lb->stats.buffer_drops++;
        COVERAGE_INC(lbnode_buffer_drop);
    } else {
        b = xmalloc(sizeof *b + len);
        b->ack = seg->ack;
        b->bare_ack = (!seg->payload_len
                       && (seg->flags & (TCP_ACK | TCP_SYN | TCP_FIN | TCP_RST
                                         | TCP_URG)) == TCP_ACK);
        b->len = len;
        memcpy(b->data, frame, len);
        ovs_list_push_back(&p->packets, &b->node);
        p->n_packets++;
        p->n_bytes += len;
        lb->stats.buffered++;
    }

    if (p->n_packets == 1 && p->asked == 0) {
        ingress_ask_trackers(lb, p, (seg->flags & TCP_ACK) != 0, now, io, aux);
    }
}

/* Handles a packet-in: the Ethernet frame 'frame' of 'len' bytes, a packet
 * to a VIP that missed the ingress mapping table. */
void
lbnode_packet_in(struct lbnode *lb, const void *frame, size_t len,
                 long long int now, const struct lbnode_io *io, void *aux)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    struct tcp_seg_info seg;
    struct flow_key cp;
    int error;

    error = tcp_seg_parse_frame(frame, len, &seg);
    if (error) {
        lb->stats.bad_packets++;
        COVERAGE_INC(lbnode_bad_packet);
        VLOG_DBG_RL(&rl, "packet-in: %s", tcp_seg_strerror(error));
        return;
    }
    flow_key_init_v6(&cp, &seg.ip_src, seg.tp_src, &seg.ip_dst, seg.tp_dst,
                     IPPROTO_TCP);
    if (!vip_for_cp(lb, &cp)) {
        lb->stats.not_vip++;
        return;
    }

    const struct vip *v = vip_for_cp(lb, &cp);
    struct in6_addr server_addr;
    if (v->cfg.hash && (seg.flags & TCP_SYN)) {
        /* The switch sends a hash VIP's SYNs to their servers itself; one
         * that came here anyway (a table being rewritten) goes there. */
        if (io->hash_target
            && io->hash_target(aux, &cp, false, &server_addr)) {
            io->forward(aux, &cp, frame, len, &server_addr);
            lb->stats.hash_syns_forwarded++;
        } else {
            lb->stats.syns_no_tracker++;
        }
    } else if ((seg.flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN) {
        ingress_syn(lb, &cp, &seg, now, io, aux);
    } else if (!(seg.flags & TCP_SYN)) {
        ingress_non_syn(lb, &cp, &seg, frame, len, now, io, aux);
    } else {
        lb->stats.bad_packets++;
    }
    lbnode_handle_self_msgs(lb, now, io, aux);
}

/* MAPPING 'map' at its ingress (this node): installs the mapping through
 * 'io' and replays the flow's buffered packets. */
void
ingress_mapping(struct lbnode *lb, const struct ctl_mapping *map,
                long long int now, const struct lbnode_io *io,
                void *aux)
{
    struct pending *p = pending_find(lb, &map->cp);
    struct mapping *m = mapping_find(lb, &map->cp);

    if (!m) {
        ingress_mapping_make_room(lb, io, aux);
        m = xzalloc(sizeof *m);
        m->cp = map->cp;
        mapping_insert(lb, m);
    }
    m->server = map->server;
    m->server_addr = map->server_addr;
    m->replaced = false;
    m->revalidating = false;
    m->expires = MAX(m->expires, lease_end_from(lb, map->lease_ms, now));
    lease_mapping_schedule_expiry(lb, m);
    lease_journal_mapping(lb, m, now);
    io->install_mapping(aux, &map->cp, &map->server_addr);
    lb->stats.mappings_installed++;
    FLOW_DBG(&map->cp, "ingress: mapped to server %"PRIu32", %"PRIuSIZE
             " packets replayed", map->server, p ? p->n_packets : 0);

    if (p) {
        struct buffered *b;

        LIST_FOR_EACH (b, node, &p->packets) {
            const struct buffered *next
                = (b->node.next != &p->packets
                   ? CONTAINER_OF(b->node.next, struct buffered, node)
                   : NULL);

            if (buffered_superseded(b, next)) {
                lb->stats.acks_superseded++;
                continue;
            }
            io->forward(aux, &p->cp, b->data, b->len, &map->server_addr);
            lb->stats.replayed++;
        }
        ingress_pending_destroy(lb, p);
    }
}

/* If 'p' is a flow of a hash VIP that no tracker knows, sends its buffered
 * packets to the server of its slot, which commits it there in the switch,
 * and returns true: a connection that began after the change, or one that
 * no server has published yet (the servers' ownership gossip is the second
 * line for those).  Otherwise returns false. */
static bool
hash_forward(struct lbnode *lb, struct pending *p, const struct lbnode_io *io,
             void *aux)
{
    const struct vip *v = vip_for_cp(lb, &p->cp);
    struct in6_addr server_addr;
    struct buffered *b;

    if (!v || !v->cfg.hash || !io->hash_target
        || !io->hash_target(aux, &p->cp, true, &server_addr)) {
        return false;
    }
    FLOW_DBG(&p->cp, "ingress: hash flow unknown to its trackers, to its "
             "slot's server with %"PRIuSIZE" packets", p->n_packets);
    LIST_FOR_EACH (b, node, &p->packets) {
        io->forward(aux, &p->cp, b->data, b->len, &server_addr);
        lb->stats.replayed++;
    }
    lb->stats.hash_unknown_to_slot++;
    return true;
}

/* UNKNOWN 'msg': the tracker asked does not know the flow; asks the SFT
 * next, or gives up. */
void
ingress_unknown(struct lbnode *lb, const struct ctl_msg *msg,
                long long int now, const struct lbnode_io *io, void *aux)
{
    struct pending *p = pending_find(lb, &msg->unknown.cp);
    uint32_t pft, sft;

    if (!p) {
        struct mapping *m = mapping_find(lb, &msg->unknown.cp);

        if (m && m->revalidating) {
            /* The connection of a hash VIP's mapping is gone. */
            FLOW_DBG(&m->cp, "ingress: mapping ended, UNKNOWN to its PFT");
            lb->stats.mappings_lapsed++;
            io->remove_mapping(aux, &m->cp);
            ingress_mapping_forget(lb, m);
            return;
        }
        lb->stats.msgs_ignored++;
        return;
    }
    FLOW_DBG(&p->cp, "ingress: UNKNOWN from node %"PRIu32, msg->sender);
    if (p->stage == PENDING_ASKED_PFT
        && lbnode_trackers(lb, &p->cp, &pft, &sft) && sft != pft) {
        p->stage = PENDING_ASKED_SFT;
        ingress_ask_trackers(lb, p, false, now, io, aux);
    } else if (hash_forward(lb, p, io, aux)) {
        ingress_pending_destroy(lb, p);
    } else {
        /* Nobody knows the flow: the client's next retransmission (or a
         * new SYN) starts over. */
        lb->stats.unknown_flows++;
        ingress_pending_destroy(lb, p);
    }
}
