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
#include "sim-agent.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "agent-core.h"
#include "ctl-msg.h"
#include "openvswitch/ofpbuf.h"
#include "packets.h"
#include "sim-bus.h"
#include "sim.h"
#include "util.h"

/* A frame on its way to the server's stack. */
struct queued_frame {
    struct ovs_list list_node;
    struct ofpbuf *frame;
};

static long long int
agent_now(const struct sim_agent *a)
{
    return sim_node_mono(&a->sim->clock, &a->clock);
}

/* The agent core's outputs. */

static void
io_send(void *a_, uint32_t dst, struct ctl_msg *msg)
{
    struct sim_agent *a = a_;

    sim_send_ctl(a->sim, a->id, dst, msg, &a->tx_seq);
}

static void
io_to_server(void *a_, const void *frame, size_t len)
{
    struct sim_agent *a = a_;
    struct queued_frame *qf = xmalloc(sizeof *qf);

    qf->frame = ofpbuf_clone_data(frame, len);
    ovs_list_push_back(&a->to_server, &qf->list_node);
}

static void
io_journal_put(void *a_, const struct flow_key *cp, const void *rec,
               size_t len, long long int expires_after_ms)
{
    struct sim_agent *a = a_;

    store_put(a->journal.store, "xlate", cp, sizeof *cp, rec, len,
              expires_after_ms
              ? sim_node_wall(&a->sim->clock, &a->clock) + expires_after_ms
              : 0);
}

static void
io_journal_del(void *a_, const struct flow_key *cp)
{
    struct sim_agent *a = a_;

    store_delete(a->journal.store, "xlate", cp, sizeof *cp);
}

static const struct agent_core_ops agent_io = {
    .send = io_send,
    .to_server = io_to_server,
    .journal_put = io_journal_put,
    .journal_del = io_journal_del,
};

/* The server's output: through the core to the connection's egress LB
 * node (handle_frame() of agent.c). */
static void
server_output(void *a_, void *frame, size_t len)
{
    struct sim_agent *a = a_;
    uint32_t egress;

    if (len < ETH_HEADER_LEN) {
        return;
    }
    if (agent_core_from_server(a->core, (uint8_t *) frame + ETH_HEADER_LEN,
                               len - ETH_HEADER_LEN, agent_now(a), &egress)
        == AGENT_FORWARD && egress) {
        sim_bus_send(a->sim->bus, a->sim->clock.now, a->id, egress,
                     SIM_PKT_FRAME, ofpbuf_clone_data(frame, len));
    }
}

/* Gives the server's stack the frames the core gave it, and the core what
 * the stack answers, until neither has more. */
static void
flush_to_server(struct sim_agent *a)
{
    struct queued_frame *qf;

    if (a->flushing) {
        return;
    }
    a->flushing = true;
    LIST_FOR_EACH_POP (qf, list_node, &a->to_server) {
        if (a->alive) {
            sim_server_input(&a->server, qf->frame->data, qf->frame->size);
        }
        ofpbuf_delete(qf->frame);
        free(qf);
    }
    a->flushing = false;
}

/* The LB nodes this agent sends through. */

static void
set_lb_nodes(struct sim_agent *a, const uint32_t *nodes, size_t n)
{
    free(a->healthy);
    a->healthy = xmemdup(nodes, MAX(n, 1) * sizeof *nodes);
    a->n_healthy = n;
    agent_core_set_lb_nodes(a->core, nodes, n, SIM_RING_KEY,
                            a->sim->set.vnodes);
    a->next_publish = agent_now(a);
}

/* Returns true if 'a' holds LB node 'lb' healthy (it sends through it). */
bool
sim_agent_sends_through(const struct sim_agent *a, uint32_t lb)
{
    for (size_t i = 0; i < a->n_healthy; i++) {
        if (a->healthy[i] == lb) {
            return true;
        }
    }
    return false;
}

/* Journal. */

static void
restore_xlate(const struct store_record *r, void *a_)
{
    struct sim_agent *a = a_;
    struct flow_key cp;

    if (r->key_len == sizeof cp) {
        memcpy(&cp, r->key, sizeof cp);
        agent_core_restore(a->core, &cp, r->value, r->value_len,
                           agent_now(a));
    }
}

/* Life. */

/* Creates server node 'index' of 'sim', down, with its journal in
 * 'dir'. */
struct sim_agent *
sim_agent_create(struct sim *sim, size_t index, const char *dir)
{
    struct sim_agent *a = xzalloc(sizeof *a);
    char name[32];

    a->sim = sim;
    a->index = index;
    a->id = SIM_SERVER_ID(index);
    sim_node_clock_init(&a->clock, sim_random(sim));
    sim_server_init(&a->server, sim, a->id, server_output, a);
    ovs_list_init(&a->to_server);
    snprintf(name, sizeof name, "srv%"PRIuSIZE, index + 1);
    sim_journal_init(&a->journal, dir, name, STORE_SERVER_NODE);
    a->down_since = LLONG_MIN;
    a->ready = true;
    a->service_since = a->health_reported = LLONG_MIN;
    return a;
}

void
sim_agent_destroy(struct sim_agent *a)
{
    if (a) {
        if (a->alive) {
            sim_agent_crash(a, true);
        }
        sim_journal_destroy(&a->journal);
        sim_server_destroy(&a->server);
        free(a);
    }
}

/* Starts 'a' (or restarts it after a crash), reloading its journal. */
void
sim_agent_start(struct sim_agent *a)
{
    struct sim *sim = a->sim;
    struct agent_limits limits;
    struct agent_vip_port vip = {
        .vip = sim_vip_addr(), .port = SIM_VIP_PORT, .tracked = true,
        .mss = 1400,
    };
    uint32_t *all = xcalloc(sim->n_lbs + 1, sizeof *all);

    ovs_assert(!a->alive);
    a->alive = true;
    a->next_deadline_known = false;
    a->up_since = sim->clock.now;
    if (a->ready) {
        a->service_since = sim->clock.now;
    }
    sim_journal_open(&a->journal);
    a->core = agent_core_create(a->id, &agent_io, a);
    agent_limits_init(&limits);
    limits.linger_ms = sim->set.linger_ms;
    limits.tombstone_ms = MAX(sim->set.handshake_timeout_ms,
                              sim->set.lease_ms);
    agent_core_set_limits(a->core, &limits);
    agent_core_set_vips(a->core, &vip, 1);

    /* Every LB node of the configuration until an LB_LIST comes. */
    for (size_t i = 0; i < sim->n_lbs; i++) {
        all[i] = SIM_LB_ID(i);
    }
    a->has_lb_list = false;
    a->lb_list_version = 0;
    set_lb_nodes(a, all, sim->n_lbs);
    free(all);
    store_load(a->journal.store, "xlate",
               sim_node_wall(&sim->clock, &a->clock), restore_xlate, a);
    sim_trace(sim, a->id, "starts (%"PRIuSIZE" connections restored)",
              agent_core_n_conns(a->core));
    sim_agent_run(a);
}

/* Makes 'a' ready or not, as ovslb-agent does when its service check
 * fails or recovers: its PONGs say so and CONN_REQs are refused.  Kept
 * across a crash. */
void
sim_agent_set_ready(struct sim_agent *a, bool ready)
{
    if (ready != a->ready) {
        a->ready = ready;
        if (a->alive) {
            a->service_since = a->sim->clock.now;
        }
        sim_trace(a->sim, a->id, "%s", ready ? "ready again" : "not ready");
    }
}

/* Whether 'a' is alive and ready: since 'service_since'. */
bool
sim_agent_in_service(const struct sim_agent *a)
{
    return a->alive && a->ready;
}

/* Crashes 'a': its core and its server's sockets are lost, its journal
 * kept unless 'wipe'. */
void
sim_agent_crash(struct sim_agent *a, bool wipe)
{
    struct queued_frame *qf;

    ovs_assert(a->alive);
    sim_trace(a->sim, a->id, "crashes%s", wipe ? ", disk wiped" : "");
    a->alive = false;
    a->down_since = a->sim->clock.now;
    if (a->ready) {
        a->service_since = a->sim->clock.now;
    }
    agent_core_destroy(a->core);
    a->core = NULL;
    LIST_FOR_EACH_POP (qf, list_node, &a->to_server) {
        ofpbuf_delete(qf->frame);
        free(qf);
    }
    sim_server_reset(&a->server);
    free(a->healthy);
    a->healthy = NULL;
    a->n_healthy = 0;
    sim_journal_close(&a->journal, wipe);
}

static void
publish(struct sim_agent *a, long long int now)
{
    const struct sim_sock *s;
    uint32_t to = 0;

    a->next_publish = now + MAX(a->sim->set.publish_interval_ms, 100);
    if (a->n_healthy) {
        to = a->healthy[sim_random(a->sim) % a->n_healthy];
    }
    agent_core_sockets_begin(a->core, now);
    HMAP_FOR_EACH (s, hmap_node, &a->server.socks) {
        /* Every state of the model is one agent.c publishes
         * (PUBLISH_STATES: SYN_RECV, ESTABLISHED, LAST_ACK...). */
        agent_core_socket_seen(a->core, &s->cp, true);
    }
    agent_core_sockets_end(a->core, now, to);
    a->publish_rounds++;
}

/* Does a pass of the daemon's work (agent_run()). */
void
sim_agent_run(struct sim_agent *a)
{
    long long int now;

    if (!a->alive) {
        return;
    }
    a->next_deadline_known = false;
    a->pass_due = false;
    now = agent_now(a);
    agent_core_run(a->core, now);
    if (now >= a->next_publish) {
        publish(a, now);
    }
    flush_to_server(a);
    store_run(a->journal.store, now);
}

/* The global time of the next timer of 'a' (LLONG_MAX: none). */
long long int
sim_agent_next_deadline(struct sim_agent *a)
{
    if (!a->alive) {
        return LLONG_MAX;
    }
    if (!a->next_deadline_known) {
        long long int next = MIN(agent_core_next_deadline(a->core),
                                 a->next_publish);
        a->next_deadline = MIN(next, store_next_deadline(a->journal.store));
        a->next_deadline_known = true;
    }
    return sim_node_to_global(&a->clock, a->next_deadline);
}

static void
receive_ctl(struct sim_agent *a, const struct sim_pkt *pkt)
{
    struct ctl_msg *msg = xmalloc(sizeof *msg);
    long long int now = agent_now(a);

    if (ctl_msg_decode(pkt->data->data, pkt->data->size, &a->sim->key, msg,
                       NULL) != CTL_MSG_OK) {
        ovs_fatal(0, "a control message on the bus does not decode");
    }
    switch (msg->type) {
    case CTL_MSG_CONN_REQ: {
        struct agent_local local = {
            .ready = a->ready, .listening = true, .mem_kb = 1 << 24,
        };

        agent_core_conn_req(a->core, msg->sender, &msg->conn_req, &local,
                            now);
        break;
    }
    case CTL_MSG_PING:
        if (msg->ping.target == a->id) {
            struct ctl_msg pong;

            ctl_msg_init(&pong, CTL_MSG_PONG, a->id, 0);
            pong.pong.nonce = msg->ping.nonce;
            pong.pong.path = msg->ping.path;
            pong.pong.ready = a->ready;
            sim_send_ctl(a->sim, a->id, msg->sender, &pong, &a->tx_seq);
        }
        break;
    case CTL_MSG_LB_LIST:
        if (!sim_id_is_lb(msg->sender)
            || (a->has_lb_list
                && msg->lb_list.version <= a->lb_list_version)) {
            break;
        }
        a->has_lb_list = true;
        a->lb_list_version = msg->lb_list.version;
        if (a->n_healthy != msg->lb_list.n
            || memcmp(a->healthy, msg->lb_list.nodes,
                      a->n_healthy * sizeof *a->healthy)) {
            sim_trace(a->sim, a->id, "LB_LIST from lb%"PRIu32": %"PRIuSIZE
                      " LB nodes", msg->sender, (size_t) msg->lb_list.n);
            set_lb_nodes(a, msg->lb_list.nodes, msg->lb_list.n);
        }
        break;
    default:
        break;
    }
    free(msg);
}

/* Hands 'pkt', which arrived at 'a', to its core (a dead node drops it),
 * then does a pass (with batch_passes, marks it due). */
void
sim_agent_receive(struct sim_agent *a, struct sim_pkt *pkt)
{
    if (!a->alive) {
        return;
    }
    a->next_deadline_known = false;
    if (pkt->kind == SIM_PKT_CTL) {
        receive_ctl(a, pkt);
    } else if (pkt->data->size > ETH_HEADER_LEN && sim_id_is_lb(pkt->src)) {
        uint8_t *frame = pkt->data->data;

        if (agent_core_from_client(a->core, frame + ETH_HEADER_LEN,
                                   pkt->data->size - ETH_HEADER_LEN,
                                   pkt->src, agent_now(a))
            == AGENT_FORWARD) {
            io_to_server(a, frame, pkt->data->size);
        }
    }
    if (a->sim->set.batch_passes) {
        a->pass_due = true;
    } else {
        sim_agent_run(a);
    }
}
