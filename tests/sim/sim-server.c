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
#include "sim-server.h"

#include <stdlib.h>
#include <string.h>
#include "dp-packet.h"
#include "packets.h"
#include "sim-edge.h"
#include "sim.h"
#include "tcp-seg.h"
#include "util.h"

static const struct eth_addr server_mac = ETH_ADDR_C(02,00,00,00,00,5e);
static const struct eth_addr gateway_mac = ETH_ADDR_C(02,00,00,00,00,ee);

/* Sets up 'srv', the stack of server node 'id', sending through
 * 'output'. */
void
sim_server_init(struct sim_server *srv, struct sim *sim, uint32_t id,
                sim_server_output_func *output, void *aux)
{
    memset(srv, 0, sizeof *srv);
    srv->sim = sim;
    srv->id = id;
    hmap_init(&srv->socks);
    srv->output = output;
    srv->aux = aux;
}

void
sim_server_destroy(struct sim_server *srv)
{
    sim_server_reset(srv);
    hmap_destroy(&srv->socks);
}

/* Forgets every socket (the machine crashed). */
void
sim_server_reset(struct sim_server *srv)
{
    struct sim_sock *s;

    HMAP_FOR_EACH_POP (s, hmap_node, &srv->socks) {
        sim_edge_server_lost(srv->sim->edge, &s->cp, srv->id);
        free(s);
    }
}

static struct sim_sock *
sock_find(const struct sim_server *srv, const struct flow_key *cp)
{
    struct sim_sock *s;

    HMAP_FOR_EACH_WITH_HASH (s, hmap_node, flow_key_hash(cp, 0),
                             &srv->socks) {
        if (flow_key_equals(&s->cp, cp)) {
            return s;
        }
    }
    return NULL;
}

/* The socket of 'cp', or NULL. */
const struct sim_sock *
sim_server_find(const struct sim_server *srv, const struct flow_key *cp)
{
    return sock_find(srv, cp);
}

static void
sock_close(struct sim_server *srv, struct sim_sock *s)
{
    sim_trace(srv->sim, srv->id, "server socket of client port %u closed",
              ntohs(s->cp.client_port));
    sim_edge_server_closed(srv->sim->edge, &s->cp, srv->id);
    hmap_remove(&srv->socks, &s->hmap_node);
    free(s);
}

/* Sends a segment of connection 'cp' with 'h' to the client. */
static void
send_segment(struct sim_server *srv, const struct flow_key *cp,
             struct tcp_seg_hdr *h)
{
    struct tcp_seg_endpoints ep;
    struct dp_packet b;

    tcp_seg_endpoints_from_key(&ep, cp, FLOW_KEY_FROM_VIP, server_mac,
                               gateway_mac);
    h->window = 65535;
    dp_packet_init(&b, 128 + h->payload_len);
    if (tcp_seg_build(&b, &ep, h)) {
        ovs_fatal(0, "server cannot build a segment");
    }
    srv->segments_out++;
    srv->output(srv->aux, dp_packet_data(&b), dp_packet_size(&b));
    dp_packet_uninit(&b);
}

/* Sends a segment of socket 's': 'flags' (with the SYN/ACK's options if
 * TCP_SYN is among them), 'seq', and 'len' bytes of 'payload'. */
static void
sock_send(struct sim_server *srv, struct sim_sock *s, uint32_t seq,
          uint16_t flags, const void *payload, size_t len)
{
    struct tcp_seg_hdr h = {
        .seq = seq, .ack = s->rcv_nxt, .flags = flags,
        .payload = payload, .payload_len = len,
    };

    if (flags & TCP_SYN) {
        sim_syn_opts(&h.opts);
    }
    if (s->has_ts) {
        h.opts.has_ts = true;
        h.opts.tsval = (uint32_t) srv->sim->clock.now;
        h.opts.tsecr = s->ts_recent;
    }
    send_segment(srv, &s->cp, &h);
}

static void
send_synack(struct sim_server *srv, struct sim_sock *s)
{
    sock_send(srv, s, s->iss, TCP_SYN | TCP_ACK, NULL, 0);
}

/* Answers 'seg' of no socket with a RST (RFC 793's reset generation). */
static void
send_reset(struct sim_server *srv, const struct flow_key *cp,
           const struct tcp_seg_info *seg)
{
    struct tcp_seg_hdr h = { .flags = TCP_RST };

    if (seg->flags & TCP_ACK) {
        h.seq = seg->ack;
    } else {
        h.flags |= TCP_ACK;
        h.ack = seg->seq + tcp_seg_len(seg);
    }
    srv->resets_sent++;
    send_segment(srv, cp, &h);
}

static void
sock_data(struct sim_server *srv, struct sim_sock *s,
          const struct tcp_seg_info *seg, const uint8_t *payload)
{
    size_t len = seg->payload_len;

    if (seg->seq == s->rcv_nxt && len) {
        /* A new request: echo it. */
        s->rcv_nxt += len;
        s->echo_seq = s->snd_nxt;
        s->echo_len = MIN(len, SIM_ECHO_MAX);
        memcpy(s->echo, payload, s->echo_len);
        sock_send(srv, s, s->snd_nxt, TCP_ACK | TCP_PSH, s->echo,
                  s->echo_len);
        s->snd_nxt += s->echo_len;
        srv->echoes++;
    } else if (len && seg->seq + len == s->rcv_nxt && s->echo_len) {
        /* The last request again: its echo was lost. */
        sock_send(srv, s, s->echo_seq, TCP_ACK | TCP_PSH, s->echo,
                  s->echo_len);
    } else if (len) {
        sock_send(srv, s, s->snd_nxt, TCP_ACK, NULL, 0);
    }
}

/* Takes the Ethernet frame 'frame' ('len' bytes) that the agent gave the
 * server's stack. */
void
sim_server_input(struct sim_server *srv, const void *frame, size_t len)
{
    const uint8_t *payload;
    struct tcp_seg_info seg;
    struct sim_sock *s;
    struct flow_key cp;

    if (tcp_seg_parse_frame(frame, len, &seg)) {
        return;
    }
    srv->segments_in++;
    payload = (const uint8_t *) frame + seg.payload_ofs;
    flow_key_init_v6(&cp, &seg.ip_src, seg.tp_src, &seg.ip_dst, seg.tp_dst,
                     IPPROTO_TCP);
    s = sock_find(srv, &cp);
    if (seg.flags & TCP_RST) {
        if (s) {
            sock_close(srv, s);
        }
        return;
    }
    if (!s) {
        if ((seg.flags & (TCP_SYN | TCP_ACK)) != TCP_SYN) {
            send_reset(srv, &cp, &seg);
            return;
        }
        s = xzalloc(sizeof *s);
        s->cp = cp;
        s->state = SIM_SOCK_SYN_RCVD;
        s->iss = (uint32_t) sim_random(srv->sim);
        s->snd_nxt = s->iss + 1;
        s->rcv_nxt = seg.seq + 1;
        s->has_ts = seg.opts.has_ts;
        s->ts_recent = seg.opts.tsval;
        hmap_insert(&srv->socks, &s->hmap_node, flow_key_hash(&cp, 0));
        send_synack(srv, s);
        return;
    }
    if (seg.opts.has_ts) {
        s->ts_recent = seg.opts.tsval;
    }
    if (seg.flags & TCP_SYN) {
        if (s->state == SIM_SOCK_SYN_RCVD) {
            send_synack(srv, s);
        } else {
            sock_send(srv, s, s->snd_nxt, TCP_ACK, NULL, 0);
        }
        return;
    }
    if (!(seg.flags & TCP_ACK)) {
        return;
    }
    if (s->state == SIM_SOCK_SYN_RCVD) {
        if (seg.ack != s->iss + 1) {
            send_reset(srv, &cp, &seg);
            return;
        }
        s->state = SIM_SOCK_ESTABLISHED;
        sim_trace(srv->sim, srv->id, "server socket of client port %u "
                  "established", ntohs(cp.client_port));
        sim_edge_server_established(srv->sim->edge, &cp, srv->id);
    }
    if (s->state == SIM_SOCK_ESTABLISHED) {
        sock_data(srv, s, &seg, payload);
        if (seg.flags & TCP_FIN
            && seg.seq + seg.payload_len == s->rcv_nxt) {
            /* Passive close: ACK the FIN and send ours at once. */
            s->rcv_nxt++;
            s->state = SIM_SOCK_LAST_ACK;
            sock_send(srv, s, s->snd_nxt, TCP_FIN | TCP_ACK, NULL, 0);
            s->snd_nxt++;
        }
    } else if (s->state == SIM_SOCK_LAST_ACK) {
        if (seg.flags & TCP_FIN) {
            sock_send(srv, s, s->snd_nxt - 1, TCP_FIN | TCP_ACK, NULL, 0);
        } else if (seg.ack == s->snd_nxt) {
            sock_close(srv, s);
        }
    }
}
