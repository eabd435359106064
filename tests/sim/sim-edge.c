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
#include "sim-edge.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "dp-packet.h"
#include "hash.h"
#include "openvswitch/ofpbuf.h"
#include "packets.h"
#include "sim-bus.h"
#include "sim-invariants.h"
#include "sim-lb.h"
#include "sim.h"
#include "tcp-seg.h"
#include "util.h"

#define SYN_RTO_MS 1000
#define SYN_TRIES 6
#define RTO_MIN_MS 200
#define RTO_MAX_MS 1000
#define FIN_TRIES_MS 1000

static const struct eth_addr edge_mac = ETH_ADDR_C(02,00,00,00,00,01);
static const struct eth_addr lb_mac = ETH_ADDR_C(02,00,00,00,00,0b);

static const char *const state_names[] = {
    [SIM_FLOW_PENDING] = "pending", [SIM_FLOW_SYN_SENT] = "syn-sent",
    [SIM_FLOW_OPEN] = "open", [SIM_FLOW_FIN_WAIT] = "fin-wait",
    [SIM_FLOW_CLOSED] = "closed", [SIM_FLOW_FAILED] = "failed",
    [SIM_FLOW_RESET] = "reset", [SIM_FLOW_STALLED] = "stalled",
};

struct sim_edge *
sim_edge_create(struct sim *sim)
{
    struct sim_edge *edge = xzalloc(sizeof *edge);

    edge->sim = sim;
    hmap_init(&edge->by_cp);
    deadline_queue_init(&edge->timers);
    return edge;
}

void
sim_edge_destroy(struct sim_edge *edge)
{
    if (edge) {
        for (size_t i = 0; i < edge->n_flows; i++) {
            deadline_cancel(&edge->flows[i]->timer);
            free(edge->flows[i]);
        }
        free(edge->flows);
        hmap_destroy(&edge->by_cp);
        deadline_queue_destroy(&edge->timers);
        free(edge);
    }
}

/* Returns true if a connection of 'flow' is open or opening. */
bool
sim_flow_is_live(const struct sim_flow *flow)
{
    return (flow->state == SIM_FLOW_SYN_SENT || flow->state == SIM_FLOW_OPEN
            || flow->state == SIM_FLOW_FIN_WAIT);
}

static void
flow_trace(const struct sim_edge *edge, const struct sim_flow *flow,
           const char *what)
{
    sim_trace(edge->sim, SIM_EDGE_ID, "client %"PRIu32" (port %u) %s",
              flow->id, ntohs(flow->cp.client_port), what);
}

/* Adds 'n' clients, starting evenly over 'over' ms from 'start', each
 * sending 'n_requests' requests (0: until the end) 'interval_ms' apart and
 * closing as 'close' says. */
void
sim_edge_add_flows(struct sim_edge *edge, size_t n, long long int start,
                   long long int over, uint32_t n_requests,
                   uint32_t interval_ms, enum sim_close close)
{
    for (size_t i = 0; i < n; i++) {
        struct sim_flow *flow = xzalloc(sizeof *flow);
        uint32_t id = edge->n_flows;
        struct in6_addr client;

        /* 198.18.0.0/15, a thousand ports per address. */
        in6_addr_set_mapped_ipv4(&client,
                                 htonl((198u << 24 | 18u << 16)
                                       + id / 1000));
        flow->id = id;
        struct in6_addr vip = sim_vip_addr();
        flow_key_init_v6(&flow->cp, &client, htons(20000 + id % 1000),
                         &vip, htons(SIM_VIP_PORT), IPPROTO_TCP);
        flow->state = SIM_FLOW_PENDING;
        flow->n_requests = n_requests;
        flow->interval_ms = interval_ms;
        flow->close = close;
        flow->established = LLONG_MAX;
        flow->client_closed = flow->server_closed = LLONG_MAX;
        flow->started = start + (n ? over * (long long int) i / n : 0);
        deadline_queue_set(&edge->timers, &flow->timer, flow->started);
        hmap_insert(&edge->by_cp, &flow->hmap_node,
                    flow_key_hash(&flow->cp, 0));
        if (edge->n_flows >= edge->allocated_flows) {
            edge->flows = x2nrealloc(edge->flows, &edge->allocated_flows,
                                     sizeof *edge->flows);
        }
        edge->flows[edge->n_flows++] = flow;
    }
}

struct sim_flow *
sim_edge_find(const struct sim_edge *edge, const struct flow_key *cp)
{
    struct sim_flow *flow;

    HMAP_FOR_EACH_WITH_HASH (flow, hmap_node, flow_key_hash(cp, 0),
                             &edge->by_cp) {
        if (flow_key_equals(&flow->cp, cp)) {
            return flow;
        }
    }
    return NULL;
}

/* ECMP. */

/* Returns true if LB node 'lb' announces the VIP to the edge now. */
bool
sim_edge_announced(const struct sim_edge *edge, uint32_t lb_id)
{
    const struct sim *sim = edge->sim;
    const struct sim_lb *lb = sim_find_lb(sim, lb_id);
    long long int now = sim->clock.now;

    if (!lb) {
        return false;
    } else if (lb->alive) {
        return (lb->down_since == LLONG_MIN
                || now >= lb->up_since + sim->set.bgp_announce_ms);
    } else {
        return now < lb->down_since + sim->set.bgp_withdraw_ms;
    }
}

static uint32_t
ecmp_choose(const struct sim_edge *edge, const struct flow_key *cp)
{
    const struct sim *sim = edge->sim;
    uint32_t *set = xmalloc(sim->n_lbs * sizeof *set);
    uint32_t chosen = 0;
    size_t n = 0;

    for (size_t i = 0; i < sim->n_lbs; i++) {
        if (sim_edge_announced(edge, SIM_LB_ID(i))) {
            set[n++] = SIM_LB_ID(i);
        }
    }
    if (n) {
        chosen = set[hash_bytes(cp, sizeof *cp, (uint32_t) sim->seed) % n];
    }
    free(set);
    return chosen;
}

/* Sending. */

static void
flow_send(struct sim_edge *edge, struct sim_flow *flow, uint32_t seq,
          uint32_t ack, uint16_t flags, const void *payload, size_t len)
{
    struct sim *sim = edge->sim;
    struct tcp_seg_endpoints ep;
    struct tcp_seg_hdr h = {
        .seq = seq, .ack = ack, .flags = flags, .window = 65535,
        .payload = payload, .payload_len = len,
    };
    struct dp_packet b;
    uint32_t lb = ecmp_choose(edge, &flow->cp);

    if (!lb) {
        edge->no_route++;
        return;
    }
    if (flags & TCP_SYN) {
        sim_syn_opts(&h.opts);
    }
    h.opts.has_ts = true;
    h.opts.tsval = (uint32_t) sim->clock.now;
    h.opts.tsecr = flags & TCP_SYN ? 0 : flow->ts_recent;
    tcp_seg_endpoints_from_key(&ep, &flow->cp, FLOW_KEY_TO_VIP, edge_mac,
                               lb_mac);
    dp_packet_init(&b, 128 + len);
    if (tcp_seg_build(&b, &ep, &h)) {
        ovs_fatal(0, "client cannot build a segment");
    }
    flow->last_ingress = lb;
    sim_bus_send(sim->bus, sim->clock.now, SIM_EDGE_ID, lb, SIM_PKT_FRAME,
                 ofpbuf_clone_data(dp_packet_data(&b), dp_packet_size(&b)));
    dp_packet_uninit(&b);
}

static void
flow_set_timer(struct sim_edge *edge, struct sim_flow *flow, long long int t)
{
    deadline_queue_set(&edge->timers, &flow->timer, t);
}

static void
send_syn(struct sim_edge *edge, struct sim_flow *flow)
{
    flow->syn_tries++;
    flow_send(edge, flow, flow->iss, 0, TCP_SYN, NULL, 0);
    flow_set_timer(edge, flow, edge->sim->clock.now + SYN_RTO_MS);
}

static void
send_request(struct sim_edge *edge, struct sim_flow *flow)
{
    flow_send(edge, flow, flow->request_seq, flow->rcv_nxt,
              TCP_ACK | TCP_PSH, flow->request, sizeof flow->request);
    flow_set_timer(edge, flow, edge->sim->clock.now + flow->rto_ms);
}

static void
new_request(struct sim_edge *edge, struct sim_flow *flow)
{
    memset(flow->request, '.', sizeof flow->request);
    snprintf((char *) flow->request, sizeof flow->request,
             "client %"PRIu32" request %"PRIu32, flow->id,
             flow->requests_done + 1);
    flow->request_out = true;
    flow->request_seq = flow->snd_nxt;
    flow->snd_nxt += sizeof flow->request;
    flow->rto_ms = RTO_MIN_MS;
    send_request(edge, flow);
}

static void
send_fin(struct sim_edge *edge, struct sim_flow *flow)
{
    flow_send(edge, flow, flow->snd_nxt - 1, flow->rcv_nxt,
              TCP_FIN | TCP_ACK, NULL, 0);
    flow_set_timer(edge, flow, edge->sim->clock.now + FIN_TRIES_MS);
}

/* What a client does next once its last request was answered. */
static void
flow_next(struct sim_edge *edge, struct sim_flow *flow)
{
    long long int now = edge->sim->clock.now;

    if (!flow->n_requests || flow->requests_done < flow->n_requests) {
        flow_set_timer(edge, flow, now + flow->interval_ms);
    } else if (flow->close == SIM_CLOSE_FIN) {
        flow->snd_nxt++;
        flow->state = SIM_FLOW_FIN_WAIT;
        flow_trace(edge, flow, "sends FIN");
        send_fin(edge, flow);
    } else if (flow->close == SIM_CLOSE_RST) {
        flow_send(edge, flow, flow->snd_nxt, 0, TCP_RST, NULL, 0);
        flow->state = SIM_FLOW_CLOSED;
        flow->client_closed = now;
        sim_invariants_flow_closing(edge->sim, flow);
        edge->closes++;
        flow_trace(edge, flow, "sends RST");
        deadline_cancel(&flow->timer);
    } else {
        flow_set_timer(edge, flow, now + flow->interval_ms);
    }
}

static void
flow_give_up(struct sim_edge *edge, struct sim_flow *flow,
             enum sim_flow_state state)
{
    flow->state = state;
    deadline_cancel(&flow->timer);
    if (state == SIM_FLOW_FAILED) {
        edge->failed++;
        flow_trace(edge, flow, "gives up its handshake");
    } else if (state == SIM_FLOW_STALLED) {
        edge->stalls++;
        flow_trace(edge, flow, "gives up: no progress");
    } else {
        edge->resets++;
        flow_trace(edge, flow, "is reset");
    }
    sim_invariants_flow_lost(edge->sim, flow);
}

static void
flow_timer(struct sim_edge *edge, struct sim_flow *flow)
{
    struct sim *sim = edge->sim;
    long long int now = sim->clock.now;

    switch (flow->state) {
    case SIM_FLOW_PENDING:
        flow->iss = (uint32_t) sim_random(sim);
        flow->snd_nxt = flow->iss + 1;
        flow->state = SIM_FLOW_SYN_SENT;
        flow->last_progress = now;
        flow_trace(edge, flow, "sends SYN");
        send_syn(edge, flow);
        break;
    case SIM_FLOW_SYN_SENT:
        if (flow->syn_tries >= SYN_TRIES) {
            flow_give_up(edge, flow, SIM_FLOW_FAILED);
        } else {
            send_syn(edge, flow);
        }
        break;
    case SIM_FLOW_OPEN:
    case SIM_FLOW_FIN_WAIT:
        if (now - flow->last_progress >= sim->set.stall_ms) {
            flow_give_up(edge, flow, SIM_FLOW_STALLED);
        } else if (flow->state == SIM_FLOW_FIN_WAIT) {
            send_fin(edge, flow);
        } else if (flow->request_out) {
            flow->rto_ms = MIN(flow->rto_ms * 2, RTO_MAX_MS);
            send_request(edge, flow);
        } else {
            new_request(edge, flow);
        }
        break;
    case SIM_FLOW_CLOSED:
    case SIM_FLOW_FAILED:
    case SIM_FLOW_RESET:
    case SIM_FLOW_STALLED:
        deadline_cancel(&flow->timer);
        break;
    }
}

/* Runs the clients' timers that are due. */
void
sim_edge_run(struct sim_edge *edge)
{
    struct deadline *d;

    while ((d = deadline_queue_due(&edge->timers, edge->sim->clock.now))) {
        struct sim_flow *flow = CONTAINER_OF(d, struct sim_flow, timer);
        long long int when = d->when;

        flow_timer(edge, flow);
        if (deadline_is_set(&flow->timer) && flow->timer.when <= when) {
            deadline_cancel(&flow->timer);
        }
    }
}

long long int
sim_edge_next_deadline(const struct sim_edge *edge)
{
    return deadline_queue_next(&edge->timers);
}

/* Receiving. */

static void
receive_segment(struct sim_edge *edge, struct sim_flow *flow,
                const struct tcp_seg_info *seg, const uint8_t *payload)
{
    struct sim *sim = edge->sim;
    long long int now = sim->clock.now;

    if (seg->opts.has_ts) {
        flow->ts_recent = seg->opts.tsval;
    }
    if (seg->flags & TCP_RST) {
        if (sim_flow_is_live(flow)) {
            flow_give_up(edge, flow, SIM_FLOW_RESET);
        }
        return;
    }
    switch (flow->state) {
    case SIM_FLOW_SYN_SENT:
        if ((seg->flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
            if (seg->ack != flow->iss + 1) {
                sim_invariant_fail(sim, SIM_INV_EDGE, "client %"PRIu32
                                   ": SYN/ACK acknowledges %"PRIu32", not "
                                   "its SYN's %"PRIu32, flow->id, seg->ack,
                                   flow->iss + 1);
                return;
            }
            flow->irs = seg->seq;
            flow->rcv_nxt = seg->seq + 1;
            flow->state = SIM_FLOW_OPEN;
            flow->last_progress = now;
            edge->handshakes++;
            flow_trace(edge, flow, "gets SYN/ACK, sends ACK and request");
            flow_send(edge, flow, flow->snd_nxt, flow->rcv_nxt, TCP_ACK,
                      NULL, 0);
            new_request(edge, flow);
        }
        break;
    case SIM_FLOW_OPEN:
        if (seg->flags & TCP_SYN) {
            /* Our ACK was lost, or the network delayed or duplicated the
             * SYN/ACK: it again, which an ACK answers (another sequence
             * number would be another handshake). */
            if (seg->seq == flow->irs) {
                flow_send(edge, flow, flow->snd_nxt, flow->rcv_nxt, TCP_ACK,
                          NULL, 0);
            } else {
                sim_invariant_fail(sim, SIM_INV_EDGE, "client %"PRIu32
                                   ": a second SYN/ACK with another "
                                   "sequence number", flow->id);
            }
        } else if (seg->payload_len && seg->seq == flow->rcv_nxt) {
            if (!flow->request_out
                || seg->payload_len != sizeof flow->request
                || memcmp(payload, flow->request, sizeof flow->request)) {
                sim_invariant_fail(sim, SIM_INV_EDGE, "client %"PRIu32
                                   ": %"PRIuSIZE" bytes in sequence that "
                                   "are not the echo of its request",
                                   flow->id, seg->payload_len);
                return;
            }
            flow->rcv_nxt += seg->payload_len;
            flow->request_out = false;
            flow->requests_done++;
            flow->last_progress = now;
            if (flow->established == LLONG_MAX) {
                flow->established = now;
            }
            edge->echoes++;
            if (sim->trace) {
                char what[64];

                snprintf(what, sizeof what, "gets the echo of request %"
                         PRIu32, flow->requests_done);
                flow_trace(edge, flow, what);
            }
            flow_send(edge, flow, flow->snd_nxt, flow->rcv_nxt, TCP_ACK,
                      NULL, 0);
            flow_next(edge, flow);
        } else if (seg->payload_len
                   && (int32_t) (seg->seq + seg->payload_len
                                 - flow->rcv_nxt) > 0) {
            sim_invariant_fail(sim, SIM_INV_EDGE, "client %"PRIu32": data "
                               "at %"PRIu32" beyond the %"PRIu32" expected",
                               flow->id, seg->seq, flow->rcv_nxt);
        }
        break;
    case SIM_FLOW_FIN_WAIT:
        if (seg->flags & TCP_FIN && seg->ack == flow->snd_nxt) {
            flow->rcv_nxt = seg->seq + seg->payload_len + 1;
            flow_send(edge, flow, flow->snd_nxt, flow->rcv_nxt, TCP_ACK,
                      NULL, 0);
            flow->state = SIM_FLOW_CLOSED;
            flow->client_closed = now;
            sim_invariants_flow_closing(edge->sim, flow);
            edge->closes++;
            deadline_cancel(&flow->timer);
            flow_trace(edge, flow, "closed");
        }
        break;
    case SIM_FLOW_CLOSED:
        if (seg->flags & TCP_FIN && flow->close == SIM_CLOSE_FIN) {
            /* TIME_WAIT: our last ACK was lost. */
            flow_send(edge, flow, flow->snd_nxt, flow->rcv_nxt, TCP_ACK,
                      NULL, 0);
        }
        break;
    case SIM_FLOW_PENDING:
    case SIM_FLOW_FAILED:
    case SIM_FLOW_RESET:
    case SIM_FLOW_STALLED:
        break;
    }
}

/* Takes 'pkt', a frame an LB node sent north to a client. */
void
sim_edge_receive(struct sim_edge *edge, struct sim_pkt *pkt)
{
    const uint8_t *frame = pkt->data->data;
    struct tcp_seg_info seg;
    struct sim_flow *flow;
    struct flow_key cp;

    if (tcp_seg_parse_frame(frame, pkt->data->size, &seg)
        || !tcp_seg_verify_csum(frame + seg.l3_ofs,
                                pkt->data->size - seg.l3_ofs)) {
        sim_invariant_fail(edge->sim, SIM_INV_EDGE, "a client got a "
                           "malformed segment from lb%"PRIu32, pkt->src);
        return;
    }
    flow_key_init_v6(&cp, &seg.ip_dst, seg.tp_dst, &seg.ip_src, seg.tp_src,
                     IPPROTO_TCP);
    flow = sim_edge_find(edge, &cp);
    edge->sim->inv->checks[SIM_INV_EDGE]++;
    if (!flow) {
        sim_invariant_fail(edge->sim, SIM_INV_EDGE, "a segment for no "
                           "client (port %u) from lb%"PRIu32,
                           ntohs(seg.tp_dst), pkt->src);
        return;
    }
    receive_segment(edge, flow, &seg, frame + seg.payload_ofs);
}

/* Servers' view. */

/* Server 'server' established the socket of 'cp'. */
void
sim_edge_server_established(struct sim_edge *edge, const struct flow_key *cp,
                            uint32_t server)
{
    struct sim_flow *flow = sim_edge_find(edge, cp);

    if (!flow) {
        return;
    }
    edge->sim->inv->checks[SIM_INV_ONE_SERVER]++;
    if (flow->server && flow->server != server
        && flow->server_lost == flow->server
        && flow->established == LLONG_MAX) {
        /* The first server crashed with the socket before the client had
         * a byte from it: the connection was never served, and serving it
         * from another server is the recovery, not a second server. */
        sim_trace(edge->sim, SIM_EDGE_ID, "client %"PRIu32" (port %u): "
                  "served by server %"PRIu32", its first (%"PRIu32") having "
                  "crashed before answering", flow->id,
                  ntohs(cp->client_port), server, flow->server);
        flow->server = server;
        flow->server_lost = 0;
    } else if (flow->server && flow->server != server) {
        sim_invariant_fail(edge->sim, SIM_INV_ONE_SERVER, "client %"PRIu32
                           " (port %u, %s): socket established on server "
                           "%"PRIu32" after %"PRIu32, flow->id,
                           ntohs(cp->client_port), state_names[flow->state],
                           server, flow->server);
    } else {
        flow->server = server;
    }
}

/* Server 'server' crashed with the socket of 'cp'. */
void
sim_edge_server_lost(struct sim_edge *edge, const struct flow_key *cp,
                     uint32_t server)
{
    struct sim_flow *flow = sim_edge_find(edge, cp);

    if (flow && flow->server == server) {
        flow->server_lost = server;
    }
}

/* Server 'server' forgot the socket of 'cp'. */
void
sim_edge_server_closed(struct sim_edge *edge, const struct flow_key *cp,
                       uint32_t server OVS_UNUSED)
{
    struct sim_flow *flow = sim_edge_find(edge, cp);

    if (flow) {
        flow->server_closed = edge->sim->clock.now;
        sim_invariants_flow_closing(edge->sim, flow);
    }
}
