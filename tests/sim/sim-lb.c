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
#include "sim-lb.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "controller/lbnode.h"
#include "ctl-msg.h"
#include "health.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofpbuf.h"
#include "packets.h"
#include "selection.h"
#include "sim-bus.h"
#include "sim.h"
#include "tcp-seg.h"
#include "util.h"

#define HEARTBEAT_JOURNAL_INTERVAL_MS 1000

static const struct eth_addr lb_mac = ETH_ADDR_C(02,00,00,00,00,0b);
static const struct eth_addr edge_mac = ETH_ADDR_C(02,00,00,00,00,01);

static long long int
lb_now(const struct sim_lb *lb)
{
    return sim_node_mono(&lb->sim->clock, &lb->clock);
}

/* The switch. */

static struct sim_switch_map *
switch_find(const struct sim_lb *lb, const struct flow_key *cp)
{
    struct sim_switch_map *m;

    HMAP_FOR_EACH_WITH_HASH (m, hmap_node, flow_key_hash(cp, 0),
                             &lb->switch_maps) {
        if (flow_key_equals(&m->cp, cp)) {
            return m;
        }
    }
    return NULL;
}

/* The mapping the switch of 'lb' holds for 'cp', or NULL. */
const struct sim_switch_map *
sim_lb_switch_find(const struct sim_lb *lb, const struct flow_key *cp)
{
    return switch_find(lb, cp);
}

static void
switch_clear(struct sim_lb *lb)
{
    struct sim_switch_map *m;

    HMAP_FOR_EACH_POP (m, hmap_node, &lb->switch_maps) {
        free(m);
    }
}

static bool
frame_cp(const void *frame, size_t len, struct flow_key *cp)
{
    struct tcp_seg_info info;

    if (tcp_seg_parse_frame(frame, len, &info)) {
        return false;
    }
    flow_key_init_v6(cp, &info.ip_src, info.tp_src, &info.ip_dst,
                     info.tp_dst, IPPROTO_TCP);
    return true;
}

static void
send_frame(struct sim_lb *lb, uint32_t dst, const void *frame, size_t len)
{
    sim_bus_send(lb->sim->bus, lb->sim->clock.now, lb->id, dst,
                 SIM_PKT_FRAME, ofpbuf_clone_data(frame, len));
}

/* The lbnode core's I/O. */

static void
io_send(void *lb_, uint32_t dst, struct ctl_msg *msg)
{
    struct sim_lb *lb = lb_;

    sim_send_ctl(lb->sim, lb->id, dst, msg, &lb->tx_seq);
}

static void
io_send_north(void *lb_, const void *frame, size_t len)
{
    struct sim_lb *lb = lb_;
    struct tcp_seg_info info;

    if (lb->sim->trace && !tcp_seg_parse_frame(frame, len, &info)) {
        sim_trace(lb->sim, lb->id, "sends north to client port %u: %s%s "
                  "seq=%"PRIu32" ack=%"PRIu32, ntohs(info.tp_dst),
                  info.flags & TCP_RST ? "RST" : "",
                  info.flags & TCP_SYN ? "SYN/ACK" : "", info.seq, info.ack);
    }
    lb->north_sent++;
    send_frame(lb, SIM_EDGE_ID, frame, len);
}

static void
io_install_mapping(void *lb_, const struct flow_key *cp OVS_UNUSED,
                   const struct in6_addr *server_addr)
{
    struct sim_lb *lb = lb_;
    size_t j;

    if (lb->sim->trace && sim_server_index(server_addr, &j)) {
        sim_trace(lb->sim, lb->id, "ingress mapping of client port %u "
                  "to srv%"PRIuSIZE, ntohs(cp->client_port), j + 1);
    }
}

static void
io_remove_mapping(void *lb_, const struct flow_key *cp)
{
    struct sim_lb *lb = lb_;
    struct sim_switch_map *m = switch_find(lb, cp);

    sim_trace(lb->sim, lb->id, "switch forgets client port %u",
              ntohs(cp->client_port));
    if (m) {
        hmap_remove(&lb->switch_maps, &m->hmap_node);
        free(m);
    }
}

static void
io_forward(void *lb_, const struct flow_key *cp, const void *frame,
           size_t len, const struct in6_addr *server_addr)
{
    struct sim_lb *lb = lb_;
    struct sim_switch_map *m = switch_find(lb, cp);
    size_t j;

    if (!sim_server_index(server_addr, &j)) {
        ovs_fatal(0, "lbnode forwarded to an address of no server");
    }
    if (!m) {
        m = xzalloc(sizeof *m);
        m->cp = *cp;
        hmap_insert(&lb->switch_maps, &m->hmap_node, flow_key_hash(cp, 0));
    }
    m->server = SIM_SERVER_ID(j);
    sim_trace(lb->sim, lb->id, "forwards client port %u to srv%"PRIuSIZE,
              ntohs(cp->client_port), j + 1);
    send_frame(lb, m->server, frame, len);
}

static const struct lbnode_io lb_io = {
    .send = io_send,
    .send_north = io_send_north,
    .install_mapping = io_install_mapping,
    .remove_mapping = io_remove_mapping,
    .forward = io_forward,
};

static void
health_send(void *lb_, uint32_t dst, enum health_via via OVS_UNUSED,
            const struct in6_addr *addr OVS_UNUSED, struct ctl_msg *msg)
{
    struct sim_lb *lb = lb_;

    sim_send_ctl(lb->sim, lb->id, dst, msg, &lb->tx_seq);
}

static const struct health_io lb_health_io = { .send = health_send };

/* Journal. */

static void
journal_write(void *lb_, const char *table, const struct flow_key *cp,
              const void *data, size_t len, long long int ttl_ms)
{
    struct sim_lb *lb = lb_;
    struct store *store = lb->journal.store;

    if (data) {
        store_put(store, table, cp, sizeof *cp, data, len,
                  sim_node_wall(&lb->sim->clock, &lb->clock) + ttl_ms);
    } else {
        store_delete(store, table, cp, sizeof *cp);
    }
}

static void
journal_heartbeats(struct sim_lb *lb, long long int now)
{
    struct health_record *recs;
    size_t n;

    if (now < lb->next_heartbeat_journal) {
        return;
    }
    lb->next_heartbeat_journal = now + HEARTBEAT_JOURNAL_INTERVAL_MS;
    n = health_export(lb->health, &recs);
    for (size_t i = 0; i < n; i++) {
        uint8_t key[HEALTH_RECORD_KEY_LEN];
        uint8_t value[HEALTH_RECORD_VALUE_LEN];

        health_record_encode(&recs[i], key, value);
        store_put(lb->journal.store, "heartbeat", key, sizeof key,
                  value, sizeof value, 0);
    }
    free(recs);
}

static void
restore_heartbeat(const struct store_record *r, void *lb_)
{
    struct sim_lb *lb = lb_;
    struct health_record rec;

    if (health_record_decode(r->key, r->key_len, r->value, r->value_len,
                             &rec)) {
        health_import(lb->health, &rec, 1);
    }
}

static void
restore_record(const struct store_record *r, void *lb_)
{
    struct sim_lb *lb = lb_;
    long long int wall = sim_node_wall(&lb->sim->clock, &lb->clock);
    long long int ttl;
    struct flow_key cp;

    if (r->key_len != sizeof cp) {
        return;
    }
    memcpy(&cp, r->key, sizeof cp);
    ttl = r->expires_ms ? r->expires_ms - wall : 60000;
    if (ttl > 0 && lbnode_restore(lb->core, r->table, &cp, r->value,
                                  r->value_len, ttl, lb_now(lb), &lb_io,
                                  lb)) {
        lb->restored++;
    }
}

/* Configuration. */

static void
health_config_build(const struct sim *sim, struct health_config *cfg,
                    struct health_lb **lbsp, struct health_server **srvsp)
{
    struct health_lb *lbs = xcalloc(sim->n_lbs, sizeof *lbs);
    struct health_server *srvs = xcalloc(sim->n_agents + 1, sizeof *srvs);

    for (size_t i = 0; i < sim->n_lbs; i++) {
        lbs[i] = (struct health_lb) {
            .node = SIM_LB_ID(i), .north = sim_lb_addr(i, 0),
            .south = sim_lb_addr(i, 1), .control = sim_lb_addr(i, 2),
        };
    }
    for (size_t j = 0; j < sim->n_agents; j++) {
        srvs[j] = (struct health_server) {
            .node = SIM_SERVER_ID(j), .control = sim_server_addr(j),
        };
    }
    *cfg = (struct health_config) {
        .lbs = lbs, .n_lbs = sim->n_lbs,
        .servers = srvs, .n_servers = sim->n_agents,
        .ring_key = SIM_RING_KEY, .vnodes = sim->set.vnodes,
    };
    *lbsp = lbs;
    *srvsp = srvs;
}

/* Rebuilds the core's configuration, with the nodes' health as the health
 * checker sees it (controller_reconfigure()). */
static void
reconfigure(struct sim_lb *lb)
{
    const struct sim *sim = lb->sim;
    struct lbnode_lb *lbs = xcalloc(sim->n_lbs, sizeof *lbs);
    struct lbnode_server *srvs = xcalloc(sim->n_agents + 1, sizeof *srvs);
    struct lbnode_vip_server *vs = xcalloc(sim->n_agents + 1, sizeof *vs);

    for (size_t i = 0; i < sim->n_lbs; i++) {
        lbs[i] = (struct lbnode_lb) {
            .node = SIM_LB_ID(i), .north = sim_lb_addr(i, 0),
            .south = sim_lb_addr(i, 1), .control = sim_lb_addr(i, 2),
            .healthy = health_is_healthy(lb->health, SIM_LB_ID(i)),
        };
    }
    for (size_t j = 0; j < sim->n_agents; j++) {
        srvs[j] = (struct lbnode_server) {
            .node = SIM_SERVER_ID(j), .underlay = sim_server_addr(j),
            .control = sim_server_addr(j),
            .healthy = health_is_healthy(lb->health, SIM_SERVER_ID(j)),
        };
        vs[j] = (struct lbnode_vip_server) {
            .node = SIM_SERVER_ID(j), .weight = 1,
        };
    }

    struct lbnode_vip vip = {
        .name = "web", .addr = sim_vip_addr(), .port = SIM_VIP_PORT,
        .proto = IPPROTO_TCP, .algorithm = SEL_DEFAULT, .mss = 1400,
        .wscale = 7, .ttl = 3, .enabled = true,
        .servers = vs, .n_servers = sim->n_agents,
    };
    struct lbnode_config cfg = {
        .self = lb->id, .ring_key = SIM_RING_KEY,
        .secret = SIM_CLUSTER_KEY, .secret_len = strlen(SIM_CLUSTER_KEY),
        .vnodes = sim->set.vnodes,
        .lbs = lbs, .n_lbs = sim->n_lbs,
        .servers = srvs, .n_servers = sim->n_agents,
        .vips = &vip, .n_vips = 1,
        .buffer_packets = 8, .buffer_bytes = 65536,
        .buffer_timeout_ms = 3000, .syn_table_max = 100000,
        .syn_cookie_pct = 80, .syn_cookie_rate = 50000,
        .lease_ms = sim->set.lease_ms,
        .handshake_timeout_ms = sim->set.handshake_timeout_ms,
        .connect_retry_ms = 1000, .query_retry_ms = 500,
        .load_max_age_ms = MAX(3 * sim->set.publish_interval_ms, 1000),
    };

    lbnode_configure(lb->core, &cfg);
    lbnode_set_macs(lb->core, lb_mac, edge_mac);
    free(vs);
    free(srvs);
    free(lbs);
}

/* Life. */

/* Creates LB node 'index' of 'sim', down, with its journal in 'dir'. */
struct sim_lb *
sim_lb_create(struct sim *sim, size_t index, const char *dir)
{
    struct sim_lb *lb = xzalloc(sizeof *lb);
    char name[32];

    lb->sim = sim;
    lb->index = index;
    lb->id = SIM_LB_ID(index);
    sim_node_clock_init(&lb->clock, sim_random(sim));
    hmap_init(&lb->switch_maps);
    snprintf(name, sizeof name, "lb%"PRIuSIZE, index + 1);
    sim_journal_init(&lb->journal, dir, name, STORE_LB_NODE);
    lb->down_since = LLONG_MIN;
    lb->serving = true;
    lb->service_since = lb->health_reported = LLONG_MIN;
    lb->heartbeats = xcalloc(sim->set.lbs + sim->set.servers,
                             sizeof *lb->heartbeats);
    return lb;
}

void
sim_lb_destroy(struct sim_lb *lb)
{
    if (lb) {
        if (lb->alive) {
            sim_lb_crash(lb, true);
        }
        sim_journal_destroy(&lb->journal);
        hmap_destroy(&lb->switch_maps);
        free(lb->heartbeats);
        free(lb);
    }
}

/* Starts 'lb' (or restarts it after a crash), reloading its journal. */
void
sim_lb_start(struct sim_lb *lb)
{
    struct sim *sim = lb->sim;
    long long int now = lb_now(lb);
    long long int wall = sim_node_wall(&sim->clock, &lb->clock);
    struct health_config hcfg;
    struct health_lb *hlbs;
    struct health_server *hsrvs;

    ovs_assert(!lb->alive);
    lb->alive = true;
    lb->next_deadline_known = false;
    lb->up_since = sim->clock.now;
    if (lb->serving) {
        lb->service_since = sim->clock.now;
    }
    memset(lb->heartbeats, 0, (sim->set.lbs + sim->set.servers)
                              * sizeof *lb->heartbeats);
    lb->detect_reported = lb->detected = lb->first_detected = false;
    sim_journal_open(&lb->journal);

    health_config_build(sim, &hcfg, &hlbs, &hsrvs);
    lb->health = health_create(lb->id, &hcfg, sim_random(sim), now);
    lb->health_deadline_known = lb->health_input = false;
    health_set_clock_offset(lb->health, sim_node_wall_minus_mono(&lb->clock));
    health_set_serving(lb->health, lb->serving);
    free(hlbs);
    free(hsrvs);
    store_load(lb->journal.store, "heartbeat", wall, restore_heartbeat, lb);
    lb->health_seqno = health_seqno(lb->health);
    lb->next_heartbeat_journal = now + HEARTBEAT_JOURNAL_INTERVAL_MS;

    lb->core = lbnode_create();
    lbnode_set_journal(lb->core, journal_write, lb);
    lbnode_set_clock_offset(lb->core, sim_node_wall_minus_mono(&lb->clock));
    reconfigure(lb);
    lb->restored = 0;
    store_load(lb->journal.store, LBNODE_JOURNAL_TRACKER, wall,
               restore_record, lb);
    store_load(lb->journal.store, LBNODE_JOURNAL_MAPPING, wall,
               restore_record, lb);
    sim_trace(sim, lb->id, "starts (%"PRIu64" journal records restored)",
              lb->restored);
    sim_lb_run(lb);
}

/* Makes 'lb' able to serve or not, as ovslb-controller does when its
 * switch or BGP session fails: its health checker answers PINGs as not
 * serving (health_set_serving()), and goes on checking and gossiping.
 * Kept across a crash. */
void
sim_lb_set_serving(struct sim_lb *lb, bool serving)
{
    if (serving != lb->serving) {
        lb->serving = serving;
        if (lb->alive) {
            lb->service_since = lb->sim->clock.now;
            health_set_serving(lb->health, serving);
        }
        sim_trace(lb->sim, lb->id, "%s", serving ? "serving again"
                  : "not serving");
    }
}

/* Whether 'lb' is alive and serving: since 'service_since'. */
bool
sim_lb_in_service(const struct sim_lb *lb)
{
    return lb->alive && lb->serving;
}

/* Crashes 'lb': its cores and its switch's state are lost, its journal
 * kept unless 'wipe'. */
void
sim_lb_crash(struct sim_lb *lb, bool wipe)
{
    ovs_assert(lb->alive);
    sim_trace(lb->sim, lb->id, "crashes%s", wipe ? ", disk wiped" : "");
    lb->alive = false;
    lb->down_since = lb->sim->clock.now;
    if (lb->serving) {
        lb->service_since = lb->sim->clock.now;
    }
    lbnode_destroy(lb->core);
    lb->core = NULL;
    health_destroy(lb->health);
    lb->health = NULL;
    switch_clear(lb);
    sim_journal_close(&lb->journal, wipe);
}

/* health_next_deadline() of 'lb', computed again only after the checker
 * ran or received. */
static long long int
health_deadline(struct sim_lb *lb)
{
    if (!lb->health_deadline_known) {
        lb->health_deadline = health_next_deadline(lb->health);
        lb->health_deadline_known = true;
    }
    return lb->health_deadline;
}

/* Does a pass of the daemon's work (controller_run()). */
void
sim_lb_run(struct sim_lb *lb)
{
    long long int now;

    if (!lb->alive) {
        return;
    }
    lb->next_deadline_known = false;
    lb->pass_due = false;
    now = lb_now(lb);
    lbnode_set_clock_offset(lb->core, sim_node_wall_minus_mono(&lb->clock));
    health_set_clock_offset(lb->health,
                            sim_node_wall_minus_mono(&lb->clock));
    if (!lb->sim->set.batch_passes || lb->health_input
        || now >= health_deadline(lb)) {
        /* With batch_passes, the checker runs only when a health message
         * came or its timer is due: a pass for other packets would find
         * nothing to do but scan every node (its next deadline is never
         * more than a ping interval ahead, so it sees no stall). */
        health_run(lb->health, now, &lb_health_io, lb);
        lb->health_input = false;
        lb->health_deadline_known = false;
    }
    if (health_seqno(lb->health) != lb->health_seqno) {
        size_t n_healthy;

        lb->health_seqno = health_seqno(lb->health);
        health_healthy_lbs(lb->health, &n_healthy);
        sim_trace(lb->sim, lb->id, "health changed: %"PRIuSIZE" LB nodes "
                  "healthy", n_healthy);
        reconfigure(lb);
    }
    journal_heartbeats(lb, now);
    lbnode_rebalance(lb->core, now, &lb_io, lb);
    lbnode_run(lb->core, now, &lb_io, lb);
    lbnode_retry(lb->core, now, &lb_io, lb);
    store_run(lb->journal.store, now);
}

/* The global time of the next timer of 'lb' (LLONG_MAX: none). */
long long int
sim_lb_next_deadline(struct sim_lb *lb)
{
    if (!lb->alive) {
        return LLONG_MAX;
    }
    if (!lb->next_deadline_known) {
        long long int next = MIN(health_deadline(lb),
                                 lbnode_next_deadline(lb->core));
        next = MIN(next, lb->next_heartbeat_journal);
        lb->next_deadline = MIN(next,
                                store_next_deadline(lb->journal.store));
        lb->next_deadline_known = true;
    }
    return sim_node_to_global(&lb->clock, lb->next_deadline);
}

static void
receive_ctl(struct sim_lb *lb, const struct sim_pkt *pkt)
{
    struct ctl_msg *msg = xmalloc(sizeof *msg);
    long long int now = lb_now(lb);

    if (ctl_msg_decode(pkt->data->data, pkt->data->size, &lb->sim->key, msg,
                       NULL) != CTL_MSG_OK) {
        ovs_fatal(0, "a control message on the bus does not decode");
    }
    switch (msg->type) {
    case CTL_MSG_PING:
    case CTL_MSG_PONG:
    case CTL_MSG_GOSSIP:
        health_recv(lb->health, msg, now, &lb_health_io, lb);
        lb->health_input = true;
        lb->health_deadline_known = false;
        break;
    default:
        lbnode_recv(lb->core, msg, now, &lb_io, lb);
        break;
    }
    free(msg);
}

static void
receive_frame(struct sim_lb *lb, const struct sim_pkt *pkt)
{
    const void *frame = pkt->data->data;
    size_t len = pkt->data->size;
    struct flow_key cp;

    if (pkt->src != SIM_EDGE_ID) {
        /* A server's answer to a client, through its egress node: the
         * switch sends it north by itself. */
        send_frame(lb, SIM_EDGE_ID, frame, len);
        return;
    }
    const struct sim_switch_map *m = (frame_cp(frame, len, &cp)
                                      ? switch_find(lb, &cp) : NULL);
    if (m) {
        lb->switch_forwarded++;
        send_frame(lb, m->server, frame, len);
    } else {
        lb->packet_ins++;
        sim_trace(lb->sim, lb->id, "packet-in: client port %u, no mapping "
                  "in the switch", ntohs(cp.client_port));
        lbnode_packet_in(lb->core, frame, len, lb_now(lb), &lb_io, lb);
    }
}

/* Hands 'pkt', which arrived at 'lb', to its switch or its cores (a dead
 * node drops it), then does a pass (with batch_passes, marks it due). */
void
sim_lb_receive(struct sim_lb *lb, struct sim_pkt *pkt)
{
    if (!lb->alive) {
        return;
    }
    lb->next_deadline_known = false;
    if (pkt->kind == SIM_PKT_CTL) {
        receive_ctl(lb, pkt);
    } else {
        receive_frame(lb, pkt);
    }
    if (lb->sim->set.batch_passes) {
        lb->pass_due = true;
    } else {
        sim_lb_run(lb);
    }
}
