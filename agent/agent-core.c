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
 * agent-core: the protocol core of ovslb-agent.  See agent-core.h.
 */
#include <config.h>
#include "agent-core.h"

#include <stdlib.h>
#include <string.h>

#include "byte-order.h"
#include "coverage.h"
#include "dp-packet.h"
#include "hash.h"
#include "metrics.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "packets.h"
#include "ring.h"
#include "flows/server-pipeline.h"
#include "tcp-seg.h"
#include "tombstones.h"
#include "unaligned.h"
#include "util.h"

COVERAGE_DEFINE(agent_core_malformed);
COVERAGE_DEFINE(agent_core_not_vip);
COVERAGE_DEFINE(agent_core_no_entry);
COVERAGE_DEFINE(agent_core_rejected);
COVERAGE_DEFINE(agent_core_client_syn);
COVERAGE_DEFINE(agent_core_pending);
COVERAGE_DEFINE(agent_core_no_egress);
COVERAGE_DEFINE(agent_core_bad_record);

/* Window of the SYN given to the server: the client's is not known.  Not
 * a setting: a SYN's window is never scaled, so this is the largest. */
#define SYN_WINDOW 65535

/* Interval of the sweep that removes closed and forgotten entries. */
#define SWEEP_INTERVAL_MS 1000

/* Journal record (AGENT_RECORD_LEN bytes, network byte order):
 *
 *    0  version u8 (RECORD_VERSION)   1  state u8   2  flags u8 (REC_*)
 *    3  ws_srv u8   4  ws_lb u8   5  client_wscale u8   6  zero (2)
 *    8  delta u32   12  ts_delta u32   16  client_isn u32   20  isn_lb u32
 *   24  isn_srv u32   28  client_tsval u32   32  srv_tsval u32
 *   36  ingress u32   40  egress u32   44  requester u32 */
#define RECORD_VERSION 1
#define REC_TS          0x01    /* Timestamps translated. */
#define REC_SACK        0x02    /* SACK blocks translated. */
#define REC_FIN_CLIENT  0x04
#define REC_FIN_SERVER  0x08
#define REC_CLIENT_WS   0x10    /* The client offered a window scale. */
#define REC_SERVER_WS   0x20    /* The server answered with one. */
#define REC_CLIENT_TS   0x40    /* The client offered timestamps. */
#define REC_ALL         0x7f

struct vip_port_node {
    struct hmap_node node;      /* In 'vip_ports'. */
    struct agent_vip_port vp;
};

struct vip_count {
    struct hmap_node node;      /* In 'vip_counts', by VIP address. */
    struct in6_addr vip;
    uint32_t n;                 /* Live entries. */
};

struct agent_conn {
    struct hmap_node node;      /* In 'conns', by flow_key_hash(). */
    struct ovs_list pending_node;  /* In 'pending' while SYN_SENT. */
    struct ovs_list idle_node;  /* In 'idle' while not 'live'. */
    struct flow_key cp;
    enum agent_conn_state state;
    bool live;                  /* Counted in its VIP's 'vip_count'. */
    bool gone;                  /* The kernel forgot the socket. */
    bool fin_client, fin_server;

    /* The request. */
    uint32_t requester;
    uint8_t ttl;
    uint32_t client_isn;
    uint32_t isn_lb;
    uint32_t lb_tsval;
    uint8_t lb_wscale;
    struct ctl_tcp_opts opts;
    uint16_t mss;

    /* The server's answer. */
    uint32_t isn_srv;
    uint32_t srv_tsval;
    bool srv_wscale;
    struct seq_xlate xlate;

    uint32_t ingress;
    uint32_t egress;
    unsigned int syn_tries;
    long long int deadline;         /* SYN_SENT: next retransmission. */
    long long int established_at;
    long long int last_seen;
    long long int gone_at;
    uint64_t seen_gen;
    uint64_t pkts_to_server;
    uint64_t pkts_to_client;
};

struct agent_core {
    uint32_t self;
    struct agent_core_ops ops;
    void *aux;
    struct agent_limits limits;

    struct hmap vip_ports;          /* "struct vip_port_node"s. */
    struct hmap vip_counts;         /* "struct vip_count"s. */
    struct hmap conns;              /* "struct agent_conn"s. */
    struct ovs_list pending;        /* SYN_SENT entries, by deadline. */

    /* The entries that are not 'live' (closed, or whose socket the kernel
     * forgot), least recently used first: the ones the table's bound
     * 'limits.max_entries' may evict.  An entry goes to the back when it
     * stops being live and again at each of its packets (conn_touch()),
     * both O(1), so the front is the one idle longest; a live entry (a
     * handshake, or a connection whose socket exists) is never in it and
     * never evicted.  A list, not the sweep's timers: entries have no
     * timer of their own, the sweep visits the whole table once a
     * second, and eviction must find its victim at once. */
    struct ovs_list idle;
    struct tombstones tombstones;   /* Handshakes of removed entries. */
    struct ring *ring;              /* Healthy LB nodes (never NULL). */
    uint16_t ip_id;
    long long int next_sweep;

    /* Reconciliation in progress. */
    uint64_t gen;
    long long int dump_start;
    struct ctl_publish_entry *pub;
    size_t n_pub, allocated_pub;

    /* Sockets of VIP ports with no translation entry at the last dump: on
     * a tracked VIP port, the connections it had while it was in mode
     * hash, whose segments pass untranslated. */
    struct hmap untranslated;       /* "struct untranslated"s. */

    /* Entries per VIP port (whatever their state). */
    struct hmap port_entries;       /* "struct port_entries"s. */

    struct agent_stats stats;
};

struct port_entries {
    struct hmap_node node;          /* In 'port_entries'. */
    struct in6_addr vip;
    uint16_t port;
    uint32_t n;
};

struct untranslated {
    struct hmap_node node;          /* In 'untranslated'. */
    struct flow_key cp;
    uint64_t gen;                   /* Last dump that saw it. */
};

/* Fills 'limits' with the defaults. */
void
agent_limits_init(struct agent_limits *limits)
{
    memset(limits, 0, sizeof *limits);
    limits->max_conns = AGENT_DEFAULT_MAX_CONNS;
    limits->max_entries = AGENT_DEFAULT_MAX_ENTRIES;
    /* The defaults of the cluster settings that the daemon passes on
     * (xlate_syn_timeout_ms, xlate_syn_tries, xlate_linger_ms,
     * xlate_closed_idle_ms). */
    limits->syn_timeout_ms = 1000;
    limits->syn_tries = 3;
    limits->linger_ms = 10000;
    limits->closed_idle_ms = 70000;
    limits->tombstone_ms = 30000;
}

/* Returns the name of 'state'. */
const char *
agent_conn_state_to_string(enum agent_conn_state state)
{
    switch (state) {
    case AGENT_CONN_SYN_SENT: return "syn-sent";
    case AGENT_CONN_ESTABLISHED: return "established";
    case AGENT_CONN_CLOSED: return "closed";
    }
    return "unknown";
}

/* Creates a core for node 'self' whose outputs go to 'ops' (copied), called
 * with 'aux'.  It serves no VIP and knows no LB node until told. */
struct agent_core *
agent_core_create(uint32_t self, const struct agent_core_ops *ops, void *aux)
{
    struct agent_core *core = xzalloc(sizeof *core);

    core->self = self;
    if (ops) {
        core->ops = *ops;
    }
    core->aux = aux;
    agent_limits_init(&core->limits);
    hmap_init(&core->vip_ports);
    hmap_init(&core->vip_counts);
    hmap_init(&core->conns);
    hmap_init(&core->untranslated);
    hmap_init(&core->port_entries);
    ovs_list_init(&core->pending);
    ovs_list_init(&core->idle);
    tombstones_init(&core->tombstones);
    tombstones_set_max(&core->tombstones, core->limits.max_entries);
    core->ring = ring_create(NULL, 0, 0, 0);
    core->next_sweep = LLONG_MIN;
    return core;
}

/* Destroys 'core' (without journalling anything).  NULL is a no-op. */
void
agent_core_destroy(struct agent_core *core)
{
    if (!core) {
        return;
    }

    struct agent_conn *conn;
    HMAP_FOR_EACH_POP (conn, node, &core->conns) {
        free(conn);
    }
    hmap_destroy(&core->conns);
    tombstones_destroy(&core->tombstones);

    struct vip_port_node *vpn;
    HMAP_FOR_EACH_POP (vpn, node, &core->vip_ports) {
        free(vpn);
    }
    hmap_destroy(&core->vip_ports);

    struct vip_count *vc;
    HMAP_FOR_EACH_POP (vc, node, &core->vip_counts) {
        free(vc);
    }
    hmap_destroy(&core->vip_counts);

    struct untranslated *u;
    HMAP_FOR_EACH_POP (u, node, &core->untranslated) {
        free(u);
    }
    hmap_destroy(&core->untranslated);

    struct port_entries *pe;
    HMAP_FOR_EACH_POP (pe, node, &core->port_entries) {
        free(pe);
    }
    hmap_destroy(&core->port_entries);

    ring_destroy(core->ring);
    free(core->pub);
    free(core);
}

/* Replaces the limits and timers of 'core' by 'limits'.  They apply to the
 * requests and timers that follow. */
void
agent_core_set_limits(struct agent_core *core,
                      const struct agent_limits *limits)
{
    core->limits = *limits;
    core->limits.syn_tries = MAX(core->limits.syn_tries, 1);
    core->stats.tombstones_evicted
        += tombstones_set_max(&core->tombstones,
                              limits->tombstone_ms ? limits->max_entries : 0);
}

/* VIP ports. */

static uint32_t
hash_vip_port(const struct in6_addr *vip, uint16_t port)
{
    return hash_bytes(vip, sizeof *vip, port);
}

static const struct agent_vip_port *
vip_port_find(const struct agent_core *core, const struct in6_addr *vip,
              uint16_t port)
{
    const struct vip_port_node *vpn;

    HMAP_FOR_EACH_WITH_HASH (vpn, node, hash_vip_port(vip, port),
                             &core->vip_ports) {
        if (vpn->vp.port == port && ipv6_addr_equals(&vpn->vp.vip, vip)) {
            return &vpn->vp;
        }
    }
    return NULL;
}

/* Replaces the VIP ports that 'core' serves by the 'n' of 'vps' (later
 * duplicates are ignored).  Existing entries are kept, whatever their VIP:
 * they go when their connection does. */
void
agent_core_set_vips(struct agent_core *core, const struct agent_vip_port *vps,
                    size_t n)
{
    struct vip_port_node *vpn;

    HMAP_FOR_EACH_POP (vpn, node, &core->vip_ports) {
        free(vpn);
    }
    for (size_t i = 0; i < n; i++) {
        if (!vip_port_find(core, &vps[i].vip, vps[i].port)) {
            vpn = xmalloc(sizeof *vpn);
            vpn->vp = vps[i];
            hmap_insert(&core->vip_ports, &vpn->node,
                        hash_vip_port(&vpn->vp.vip, vpn->vp.port));
        }
    }
}

/* Per-VIP-port counts of entries. */

static struct port_entries *
port_entries_find(const struct agent_core *core, const struct in6_addr *vip,
                  uint16_t port)
{
    struct port_entries *pe;

    HMAP_FOR_EACH_WITH_HASH (pe, node, hash_vip_port(vip, port),
                             &core->port_entries) {
        if (pe->port == port && ipv6_addr_equals(&pe->vip, vip)) {
            return pe;
        }
    }
    return NULL;
}

static void
port_entries_add(struct agent_core *core, const struct flow_key *cp, int d)
{
    uint16_t port = ntohs(cp->vip_port);
    struct port_entries *pe = port_entries_find(core, &cp->vip, port);

    if (!pe) {
        pe = xzalloc(sizeof *pe);
        pe->vip = cp->vip;
        pe->port = port;
        hmap_insert(&core->port_entries, &pe->node,
                    hash_vip_port(&cp->vip, port));
    }
    pe->n += d;
    if (!pe->n) {
        hmap_remove(&core->port_entries, &pe->node);
        free(pe);
    }
}

/* Returns the number of translation entries of VIP port 'vip':'port',
 * in any state (lingering ones included). */
uint32_t
agent_core_port_entries(const struct agent_core *core,
                        const struct in6_addr *vip, uint16_t port)
{
    const struct port_entries *pe = port_entries_find(core, vip, port);
    return pe ? pe->n : 0;
}

/* Per-VIP counts of live entries. */

static struct vip_count *
vip_count_find(const struct agent_core *core, const struct in6_addr *vip)
{
    struct vip_count *vc;

    HMAP_FOR_EACH_WITH_HASH (vc, node, hash_bytes(vip, sizeof *vip, 0),
                             &core->vip_counts) {
        if (ipv6_addr_equals(&vc->vip, vip)) {
            return vc;
        }
    }
    return NULL;
}

/* Returns the number of live entries (handshake in progress or
 * established, socket not forgotten) of VIP address 'vip'. */
uint32_t
agent_core_n_live(const struct agent_core *core, const struct in6_addr *vip)
{
    const struct vip_count *vc = vip_count_find(core, vip);
    return vc ? vc->n : 0;
}

static void
set_live(struct agent_core *core, struct agent_conn *conn, bool live)
{
    if (conn->live == live) {
        return;
    }
    conn->live = live;
    if (live) {
        ovs_list_remove(&conn->idle_node);
        ovs_list_init(&conn->idle_node);
    } else {
        ovs_list_push_back(&core->idle, &conn->idle_node);
    }

    struct vip_count *vc = vip_count_find(core, &conn->cp.vip);
    if (live) {
        if (!vc) {
            vc = xzalloc(sizeof *vc);
            vc->vip = conn->cp.vip;
            hmap_insert(&core->vip_counts, &vc->node,
                        hash_bytes(&vc->vip, sizeof vc->vip, 0));
        }
        vc->n++;
    } else if (vc) {
        if (!--vc->n) {
            hmap_remove(&core->vip_counts, &vc->node);
            free(vc);
        }
    }
}

/* Entries. */

static struct agent_conn *
conn_find(const struct agent_core *core, const struct flow_key *cp)
{
    struct agent_conn *conn;

    HMAP_FOR_EACH_WITH_HASH (conn, node, flow_key_hash(cp, 0),
                             &core->conns) {
        if (flow_key_equals(&conn->cp, cp)) {
            return conn;
        }
    }
    return NULL;
}

static struct agent_conn *
conn_create(struct agent_core *core, const struct flow_key *cp,
            enum agent_conn_state state, long long int now)
{
    struct agent_conn *conn = xzalloc(sizeof *conn);

    conn->cp = *cp;
    conn->state = state;
    conn->established_at = now;
    conn->last_seen = now;
    conn->seen_gen = core->gen;
    ovs_list_init(&conn->pending_node);
    hmap_insert(&core->conns, &conn->node, flow_key_hash(cp, 0));
    port_entries_add(core, cp, 1);
    if (core->next_sweep == LLONG_MIN) {
        core->next_sweep = now + SWEEP_INTERVAL_MS;
    }
    if (state != AGENT_CONN_CLOSED) {
        ovs_list_init(&conn->idle_node);
        set_live(core, conn, true);
    } else {
        ovs_list_push_back(&core->idle, &conn->idle_node);
    }
    return conn;
}

/* Notes a packet of 'conn' at 'now': an idle entry goes to the back of
 * 'idle', the most recently used. */
static void
conn_touch(struct agent_core *core, struct agent_conn *conn,
           long long int now)
{
    conn->last_seen = now;
    if (!conn->live) {
        ovs_list_remove(&conn->idle_node);
        ovs_list_push_back(&core->idle, &conn->idle_node);
    }
}

static void
encode_record(const struct agent_conn *conn, uint8_t rec[AGENT_RECORD_LEN])
{
    uint8_t flags = 0;

    flags |= conn->xlate.ts ? REC_TS : 0;
    flags |= conn->xlate.sack ? REC_SACK : 0;
    flags |= conn->fin_client ? REC_FIN_CLIENT : 0;
    flags |= conn->fin_server ? REC_FIN_SERVER : 0;
    flags |= conn->opts.has_wscale ? REC_CLIENT_WS : 0;
    flags |= conn->srv_wscale ? REC_SERVER_WS : 0;
    flags |= conn->opts.has_ts ? REC_CLIENT_TS : 0;

    memset(rec, 0, AGENT_RECORD_LEN);
    rec[0] = RECORD_VERSION;
    rec[1] = conn->state;
    rec[2] = flags;
    rec[3] = conn->xlate.ws_srv;
    rec[4] = conn->xlate.ws_lb;
    rec[5] = conn->opts.has_wscale ? conn->opts.wscale : 0;
    put_unaligned_be32((ovs_be32 *) &rec[8], htonl(conn->xlate.delta));
    put_unaligned_be32((ovs_be32 *) &rec[12], htonl(conn->xlate.ts_delta));
    put_unaligned_be32((ovs_be32 *) &rec[16], htonl(conn->client_isn));
    put_unaligned_be32((ovs_be32 *) &rec[20], htonl(conn->isn_lb));
    put_unaligned_be32((ovs_be32 *) &rec[24], htonl(conn->isn_srv));
    put_unaligned_be32((ovs_be32 *) &rec[28], htonl(conn->opts.tsval));
    put_unaligned_be32((ovs_be32 *) &rec[32], htonl(conn->srv_tsval));
    put_unaligned_be32((ovs_be32 *) &rec[36], htonl(conn->ingress));
    put_unaligned_be32((ovs_be32 *) &rec[40], htonl(conn->egress));
    put_unaligned_be32((ovs_be32 *) &rec[44], htonl(conn->requester));
}

static uint32_t
get_be32_at(const uint8_t *p)
{
    return ntohl(get_unaligned_be32((const ovs_be32 *) p));
}

static void
journal(struct agent_core *core, const struct agent_conn *conn)
{
    if (core->ops.journal_put && conn->state != AGENT_CONN_SYN_SENT) {
        uint8_t rec[AGENT_RECORD_LEN];
        long long int expires = 0;

        if (conn->gone) {
            /* Removed 'linger_ms' after its socket went: a restart after
             * that must not bring it back. */
            expires = MAX(core->limits.linger_ms, 1);
        } else if (conn->state == AGENT_CONN_CLOSED) {
            expires = (long long int) core->limits.closed_idle_ms
                      + core->limits.linger_ms;
        }
        encode_record(conn, rec);
        core->ops.journal_put(core->aux, &conn->cp, rec, sizeof rec,
                              expires);
    }
}

static void
conn_remove(struct agent_core *core, struct agent_conn *conn)
{
    if (conn->state == AGENT_CONN_SYN_SENT) {
        ovs_list_remove(&conn->pending_node);
    } else if (core->ops.journal_del) {
        core->ops.journal_del(core->aux, &conn->cp);
    }
    set_live(core, conn, false);
    ovs_list_remove(&conn->idle_node);
    hmap_remove(&core->conns, &conn->node);
    port_entries_add(core, &conn->cp, -1);
    core->stats.removed++;
    free(conn);
}

/* Removes 'conn', at 'now', leaving a tombstone of its handshake if the
 * server had accepted it: a late retry of its CONN_REQ then gets an answer
 * that vouches for nothing, not a new SYN. */
static void
conn_forget(struct agent_core *core, struct agent_conn *conn,
            long long int now)
{
    if (conn->state != AGENT_CONN_SYN_SENT && core->limits.tombstone_ms) {
        core->stats.tombstones_evicted
            += tombstones_add(&core->tombstones, &conn->cp, conn->client_isn,
                              conn->isn_lb, now + core->limits.tombstone_ms);
    }
    conn_remove(core, conn);
}

/* Whether the table can take one more entry: below both bounds, or at
 * 'max_entries' with an idle entry that conn_make_room() can evict.  A
 * table full of live entries refuses, as admission always did at
 * 'max_conns'. */
static bool
conn_has_room(const struct agent_core *core)
{
    size_t n = hmap_count(&core->conns);

    return (n < core->limits.max_conns
            && (n < core->limits.max_entries
                || !ovs_list_is_empty(&core->idle)));
}

/* Makes room for one more entry in a table at 'max_entries' by evicting the
 * entry idle longest, the front of 'idle'; in a table above it (the bound
 * was lowered), two, so that it shrinks back one per insertion. */
static void
conn_make_room(struct agent_core *core, long long int now)
{
    size_t n = hmap_count(&core->conns);
    size_t max = core->limits.max_entries;
    size_t n_evict = n < max ? 0 : n == max ? 1 : 2;

    for (size_t i = 0; i < n_evict && !ovs_list_is_empty(&core->idle); i++) {
        struct agent_conn *victim = CONTAINER_OF(ovs_list_front(&core->idle),
                                                 struct agent_conn,
                                                 idle_node);

        core->stats.evicted++;
        conn_forget(core, victim, now);
    }
}

static void
conn_close(struct agent_core *core, struct agent_conn *conn)
{
    if (conn->state == AGENT_CONN_ESTABLISHED) {
        conn->state = AGENT_CONN_CLOSED;
        set_live(core, conn, false);
        core->stats.closed++;
    }
}

/* Messages. */

static void
send_msg(struct agent_core *core, uint32_t dst, struct ctl_msg *msg)
{
    if (core->ops.send && dst != CTL_NODE_NONE) {
        core->ops.send(core->aux, dst, msg);
    }
}

/* How long, from 'now', this agent vouches for 'conn' to an LB node: a
 * full lease while it is live; once it is over, until the sweep forgets it
 * (its socket gone 'linger_ms' ago, or closed without packets for
 * 'closed_idle_ms'), so that an LB node asking again after the close (its
 * first ACCEPTED or MAPPING lost) keeps its entry no longer than this
 * agent keeps the connection, rather than a new lease. */
static uint32_t
conn_vouch_ms(const struct agent_core *core, const struct agent_conn *conn,
              long long int now)
{
    const struct agent_limits *l = &core->limits;
    long long int until = LLONG_MAX;

    if (conn->live) {
        return CTL_LEASE_FULL;
    }
    if (conn->gone) {
        until = conn->gone_at + l->linger_ms;
    }
    if (conn->state == AGENT_CONN_CLOSED) {
        until = MIN(until, conn->last_seen + l->closed_idle_ms);
    }
    return (until == LLONG_MAX ? CTL_LEASE_FULL
            : MIN(MAX(until - now, 0), CTL_LEASE_FULL - 1));
}

/* Sends node 'dst' an ACCEPTED for 'cp' that vouches for the connection
 * for 'lease_ms'. */
static void
send_accepted_for(struct agent_core *core, uint32_t dst,
                  const struct flow_key *cp, uint32_t lease_ms)
{
    struct ctl_msg msg;

    ctl_msg_init(&msg, CTL_MSG_ACCEPTED, core->self, 0);
    msg.accepted.cp = *cp;
    msg.accepted.server = core->self;
    msg.accepted.lease_ms = lease_ms;
    send_msg(core, dst, &msg);
}

static void
send_accepted(struct agent_core *core, const struct agent_conn *conn,
              long long int now)
{
    send_accepted_for(core, conn->requester, &conn->cp,
                      conn_vouch_ms(core, conn, now));
}

static void
send_rejected(struct agent_core *core, uint32_t dst,
              const struct flow_key *cp, uint8_t ttl,
              enum ctl_reject_reason reason)
{
    struct ctl_msg msg;

    ctl_msg_init(&msg, CTL_MSG_REJECTED, core->self, 0);
    msg.rejected.cp = *cp;
    msg.rejected.server = core->self;
    msg.rejected.ttl = ttl ? ttl - 1 : 0;
    msg.rejected.reason = reason;
    send_msg(core, dst, &msg);
    core->stats.rejected[reason]++;
    COVERAGE_INC(agent_core_rejected);
}

/* Segments for the server. */

static void
emit_to_server(struct agent_core *core, const struct flow_key *cp,
               const struct tcp_seg_hdr *hdr)
{
    struct tcp_seg_endpoints ep;
    uint64_t stub[512 / 8];
    struct dp_packet b;

    dp_packet_use_stub(&b, stub, sizeof stub);
    tcp_seg_endpoints_from_key(&ep, cp, FLOW_KEY_TO_VIP,
                               SERVER_PIPELINE_AGENT_MAC, eth_addr_zero);
    if (!tcp_seg_build(&b, &ep, hdr) && core->ops.to_server) {
        core->ops.to_server(core->aux, dp_packet_data(&b),
                            dp_packet_size(&b));
    }
    dp_packet_uninit(&b);
}

static void
send_syn(struct agent_core *core, struct agent_conn *conn)
{
    struct tcp_opts client;
    struct tcp_seg_hdr hdr = {
        .seq = conn->client_isn,
        .flags = TCP_SYN,
        .window = SYN_WINDOW,
        .ip_id = core->ip_id++,
    };

    memset(&client, 0, sizeof client);
    client.has_mss = conn->opts.has_mss;
    client.mss = conn->opts.mss;
    client.has_wscale = conn->opts.has_wscale;
    client.wscale = conn->opts.wscale;
    client.sack_permitted = conn->opts.sack_permitted;
    client.has_ts = conn->opts.has_ts;
    client.tsval = conn->opts.tsval;
    tcp_opts_for_syn(&client, !IN6_IS_ADDR_V4MAPPED(&conn->cp.vip),
                     conn->mss, &hdr.opts);

    emit_to_server(core, &conn->cp, &hdr);
    conn->syn_tries++;
    core->stats.syn_sent++;
}

/* Sends the server the ACK that completes its handshake. */
static void
send_ack(struct agent_core *core, const struct agent_conn *conn)
{
    unsigned int shift = (conn->opts.has_wscale && conn->srv_wscale
                          ? MIN(conn->opts.wscale, TCP_WSCALE_MAX) : 0);
    struct tcp_seg_hdr hdr = {
        .seq = conn->client_isn + 1,
        .ack = conn->isn_srv + 1,
        .flags = TCP_ACK,
        .window = MAX(1, UINT16_MAX >> shift),
        .ip_id = core->ip_id++,
    };

    if (conn->xlate.ts) {
        hdr.opts.has_ts = true;
        hdr.opts.tsval = conn->opts.tsval;
        hdr.opts.tsecr = conn->srv_tsval;
    }
    emit_to_server(core, &conn->cp, &hdr);
}

/* Resets the server's half-open socket of 'cp', whose SYN/ACK 'info' has
 * no handshake of ours to complete: the handshake was given up, or a
 * restart lost it before the journal had it.  Without the RST the kernel
 * would keep the socket in SYN-RECV, retransmitting its SYN/ACK for about
 * a minute, and this agent would publish it all along; if the client is
 * still there, the PFT's next CONNECT starts the handshake again. */
static void
reset_orphan_handshake(struct agent_core *core, const struct flow_key *cp,
                       const struct tcp_seg_info *info)
{
    struct tcp_seg_hdr hdr = {
        .seq = info->ack,
        .flags = TCP_RST,
        .ip_id = core->ip_id++,
    };

    emit_to_server(core, cp, &hdr);
    core->stats.synack_resets++;
}

/* Admission. */

/* Handles the CONN_REQ 'req' from node 'sender', with the local facts
 * 'local' that the daemon measured for it, at time 'now'.  The answer
 * (ACCEPTED, REJECTED, or a SYN for the server and later the answer) goes
 * through the callbacks. */
void
agent_core_conn_req(struct agent_core *core, uint32_t sender,
                    const struct ctl_conn_req *req,
                    const struct agent_local *local, long long int now)
{
    const struct flow_key *cp = &req->cp;
    const struct agent_vip_port *vp;
    struct agent_conn *conn;

    core->stats.requests++;

    vp = (cp->proto == IPPROTO_TCP
          ? vip_port_find(core, &cp->vip, ntohs(cp->vip_port)) : NULL);
    if (req->server != core->self || !vp
        || IN6_IS_ADDR_V4MAPPED(&cp->client)
           != IN6_IS_ADDR_V4MAPPED(&cp->vip)) {
        send_rejected(core, sender, cp, req->ttl, CTL_REJECT_NOT_MINE);
        return;
    }

    conn = conn_find(core, cp);
    if (conn) {
        if (conn->client_isn == req->client_isn
            && conn->isn_lb == req->isn_lb) {
            /* The same request again: answer it again. */
            conn->requester = sender;
            if (conn->state == AGENT_CONN_SYN_SENT) {
                core->stats.pending_dups++;
            } else {
                core->stats.reaccepted++;
                send_accepted(core, conn, now);
            }
            return;
        }
        if (conn->live) {
            send_rejected(core, sender, cp, req->ttl,
                          CTL_REJECT_COLLISION);
            return;
        }
        /* A connection that is over: the CP pair is reused. */
        conn_remove(core, conn);
    } else if (tombstones_match(&core->tombstones, cp, req->client_isn,
                                req->isn_lb)) {
        /* A tracker's late retry of a connection we accepted, which is over
         * and forgotten: a SYN would open a server socket that nobody is
         * at the other end of.  Say that we took it, vouching for nothing
         * (lease_ms 0), so that the trackers keep nothing for it. */
        core->stats.retries_forgotten++;
        send_accepted_for(core, sender, cp, 0);
        return;
    }

    if (!local->ready) {
        send_rejected(core, sender, cp, req->ttl, CTL_REJECT_NOT_READY);
        return;
    }
    if (!local->listening) {
        send_rejected(core, sender, cp, req->ttl, CTL_REJECT_NOT_LISTENING);
        return;
    }
    if (!conn_has_room(core)) {
        core->stats.table_full++;
        send_rejected(core, sender, cp, req->ttl, CTL_REJECT_MEMORY);
        return;
    }
    /* The operator's per-VIP connection limit is a hard cap: a server "can
     * take" a connection over it no more than one over its memory.  The
     * load and free-memory thresholds are soft: the last try (TTL 1) is
     * accepted over them (PROTOCOL.md §2). */
    if (core->limits.conn_limit
        && agent_core_n_live(core, &cp->vip) >= core->limits.conn_limit) {
        send_rejected(core, sender, cp, req->ttl, CTL_REJECT_LIMIT);
        return;
    }
    if (req->ttl > 1) {
        const struct agent_limits *l = &core->limits;

        if (l->max_load_milli && local->load_milli > l->max_load_milli) {
            send_rejected(core, sender, cp, req->ttl, CTL_REJECT_LOAD);
            return;
        }
        if (l->min_mem_kb && local->mem_kb < l->min_mem_kb) {
            send_rejected(core, sender, cp, req->ttl, CTL_REJECT_MEMORY);
            return;
        }
    }

    conn_make_room(core, now);
    tombstones_remove(&core->tombstones, cp);
    conn = conn_create(core, cp, AGENT_CONN_SYN_SENT, now);
    conn->requester = sender;
    conn->ttl = req->ttl;
    conn->client_isn = req->client_isn;
    conn->isn_lb = req->isn_lb;
    conn->lb_tsval = req->lb_tsval;
    conn->lb_wscale = MIN(req->lb_wscale, TCP_WSCALE_MAX);
    conn->opts = req->opts;
    conn->mss = vp->mss;
    conn->ingress = req->ingress;
    conn->deadline = now + core->limits.syn_timeout_ms;
    ovs_list_push_back(&core->pending, &conn->pending_node);
    send_syn(core, conn);
}

/* The server's SYN/ACK 'info' answered the SYN of 'conn'. */
static void
handshake_done(struct agent_core *core, struct agent_conn *conn,
               const struct tcp_seg_info *info, long long int now)
{
    struct seq_xlate *x = &conn->xlate;

    conn->isn_srv = info->seq;
    conn->srv_tsval = info->opts.tsval;
    conn->srv_wscale = info->opts.has_wscale;

    x->delta = conn->isn_lb - conn->isn_srv;
    x->ts = conn->opts.has_ts && info->opts.has_ts;
    x->ts_delta = x->ts ? conn->lb_tsval - conn->srv_tsval : 0;
    x->ws_lb = conn->opts.has_wscale ? conn->lb_wscale : 0;
    x->ws_srv = (conn->opts.has_wscale && info->opts.has_wscale
                 ? MIN(info->opts.wscale, TCP_WSCALE_MAX) : 0);
    x->sack = conn->opts.sack_permitted;

    ovs_list_remove(&conn->pending_node);
    ovs_list_init(&conn->pending_node);
    conn->state = AGENT_CONN_ESTABLISHED;
    conn->established_at = now;
    conn->last_seen = now;
    conn->egress = ring_egress(core->ring, &conn->cp);

    send_ack(core, conn);
    journal(core, conn);
    core->stats.accepted++;
    send_accepted(core, conn, now);
}

/* Packets. */

static int
parse(struct agent_core *core, const void *ip, size_t len,
      struct tcp_seg_info *info)
{
    int error = tcp_seg_parse_ip(ip, len, info);
    if (error) {
        core->stats.drop_malformed++;
        COVERAGE_INC(agent_core_malformed);
    }
    return error;
}

static void
key_from_info(const struct tcp_seg_info *info, bool from_client,
              struct flow_key *cp)
{
    memset(cp, 0, sizeof *cp);
    cp->client = from_client ? info->ip_src : info->ip_dst;
    cp->vip = from_client ? info->ip_dst : info->ip_src;
    cp->client_port = from_client ? info->tp_src : info->tp_dst;
    cp->vip_port = from_client ? info->tp_dst : info->tp_src;
    cp->proto = IPPROTO_TCP;
}

static void
note_flags(struct agent_core *core, struct agent_conn *conn, uint16_t flags,
           bool from_client)
{
    bool changed = false;

    if (flags & TCP_RST) {
        changed = conn->state == AGENT_CONN_ESTABLISHED;
        conn_close(core, conn);
    } else if (flags & TCP_FIN) {
        bool *fin = from_client ? &conn->fin_client : &conn->fin_server;
        if (!*fin) {
            *fin = true;
            changed = true;
        }
        if (conn->fin_client && conn->fin_server) {
            conn_close(core, conn);
        }
    }
    if (changed) {
        journal(core, conn);
    }
}

static struct untranslated *
untranslated_find(const struct agent_core *core, const struct flow_key *cp)
{
    struct untranslated *u;

    HMAP_FOR_EACH_WITH_HASH (u, node, flow_key_hash(cp, 0),
                             &core->untranslated) {
        if (flow_key_equals(&u->cp, cp)) {
            return u;
        }
    }
    return NULL;
}

/* Handles the IP packet 'ip' ('len' bytes) that a client sent to a VIP,
 * received through LB node 'ingress' (0 if unknown) at time 'now'.  A
 * segment of a translated connection is translated in place.  Returns
 * whether to give it to the server's stack. */
enum agent_verdict
agent_core_from_client(struct agent_core *core, void *ip, size_t len,
                       uint32_t ingress, long long int now)
{
    const struct agent_vip_port *vp;
    struct tcp_seg_info info;
    struct agent_conn *conn;
    struct flow_key cp;

    if (parse(core, ip, len, &info)) {
        return AGENT_DROP;
    }
    key_from_info(&info, true, &cp);
    vp = vip_port_find(core, &cp.vip, ntohs(cp.vip_port));
    if (!vp) {
        core->stats.drop_not_vip++;
        COVERAGE_INC(agent_core_not_vip);
        return AGENT_DROP;
    }

    conn = conn_find(core, &cp);
    if (!conn) {
        if (!vp->tracked) {
            core->stats.passed_to_server++;
            return AGENT_FORWARD;
        }
        if (!(info.flags & TCP_SYN) && untranslated_find(core, &cp)) {
            /* A connection of the port's time in mode hash. */
            core->stats.passed_untranslated++;
            return AGENT_FORWARD;
        }
        if (info.flags & TCP_SYN) {
            core->stats.drop_client_syn++;
            COVERAGE_INC(agent_core_client_syn);
        } else {
            core->stats.drop_no_entry++;
            COVERAGE_INC(agent_core_no_entry);
        }
        return AGENT_DROP;
    }
    if (info.flags & TCP_SYN) {
        core->stats.drop_client_syn++;
        COVERAGE_INC(agent_core_client_syn);
        return AGENT_DROP;
    }
    if (conn->state == AGENT_CONN_SYN_SENT) {
        core->stats.drop_pending++;
        COVERAGE_INC(agent_core_pending);
        return AGENT_DROP;
    }

    seq_xlate_seg_to_server(&conn->xlate, ip, &info);
    conn_touch(core, conn, now);
    conn->pkts_to_server++;
    core->stats.to_server++;
    if (ingress && ingress != conn->ingress) {
        conn->ingress = ingress;
        journal(core, conn);
    }
    note_flags(core, conn, info.flags, true);
    return AGENT_FORWARD;
}

/* Handles the IP packet 'ip' ('len' bytes) that the server sent from a VIP
 * at time 'now'.  A segment of a translated connection is translated in
 * place; the server's SYN/ACK of a handshake is consumed.  Returns whether
 * to send the packet to the client, and then stores in '*egress' the LB node
 * to send it through. */
enum agent_verdict
agent_core_from_server(struct agent_core *core, void *ip, size_t len,
                       long long int now, uint32_t *egress)
{
    const struct agent_vip_port *vp;
    struct tcp_seg_info info;
    struct agent_conn *conn;
    struct flow_key cp;

    *egress = 0;
    if (parse(core, ip, len, &info)) {
        return AGENT_DROP;
    }
    key_from_info(&info, false, &cp);
    vp = vip_port_find(core, &cp.vip, ntohs(cp.vip_port));
    if (!vp) {
        core->stats.drop_not_vip++;
        COVERAGE_INC(agent_core_not_vip);
        return AGENT_DROP;
    }

    conn = conn_find(core, &cp);
    if (!conn) {
        if (vp->tracked && info.flags & TCP_SYN) {
            /* A late answer to a handshake given up. */
            core->stats.drop_no_entry++;
            if ((info.flags & (TCP_ACK | TCP_RST)) == TCP_ACK) {
                reset_orphan_handshake(core, &cp, &info);
            }
            return AGENT_DROP;
        }
        *egress = ring_egress(core->ring, &cp);
        if (!*egress) {
            core->stats.drop_no_egress++;
            COVERAGE_INC(agent_core_no_egress);
            return AGENT_DROP;
        }
        core->stats.passed_to_client++;
        return AGENT_FORWARD;
    }

    bool synack = (info.flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK);
    if (conn->state == AGENT_CONN_SYN_SENT) {
        if (info.flags & TCP_RST) {
            core->stats.server_refused++;
            send_rejected(core, conn->requester, &conn->cp, conn->ttl,
                          CTL_REJECT_NOT_LISTENING);
            conn_remove(core, conn);
        } else if (synack && info.ack == conn->client_isn + 1) {
            handshake_done(core, conn, &info, now);
        } else {
            core->stats.drop_pending++;
            COVERAGE_INC(agent_core_pending);
        }
        return AGENT_DROP;
    }

    if (info.flags & TCP_SYN) {
        if (synack && info.seq == conn->isn_srv) {
            /* Our ACK was lost: the server repeats its SYN/ACK. */
            core->stats.synack_dups++;
            send_ack(core, conn);
        } else {
            core->stats.drop_pending++;
            COVERAGE_INC(agent_core_pending);
        }
        return AGENT_DROP;
    }

    if (!ring_contains(core->ring, conn->egress)
        && ring_n_nodes(core->ring)) {
        conn->egress = ring_egress(core->ring, &conn->cp);
        journal(core, conn);
    }
    if (!conn->egress) {
        core->stats.drop_no_egress++;
        COVERAGE_INC(agent_core_no_egress);
        return AGENT_DROP;
    }
    seq_xlate_seg_to_client(&conn->xlate, ip, &info);
    conn_touch(core, conn, now);
    conn->pkts_to_client++;
    core->stats.to_client++;
    note_flags(core, conn, info.flags, false);
    *egress = conn->egress;
    return AGENT_FORWARD;
}

/* Replaces the healthy LB nodes by the 'n' of 'nodes', on a ring built with
 * 'ring_key' and 'vnodes' (see ring_create()).  A connection keeps its
 * egress node unless that node is not in the new set, and the new set is
 * not empty.  Returns false, changing nothing, if ring_create() refuses the
 * set. */
bool
agent_core_set_lb_nodes(struct agent_core *core, const uint32_t *nodes,
                        size_t n, uint64_t ring_key, unsigned int vnodes)
{
    struct ring *ring = ring_create(nodes, n, ring_key, vnodes);
    struct agent_conn *conn;

    if (!ring) {
        return false;
    }
    ring_destroy(core->ring);
    core->ring = ring;
    if (!ring_n_nodes(ring)) {
        return true;
    }

    HMAP_FOR_EACH (conn, node, &core->conns) {
        if (conn->state != AGENT_CONN_SYN_SENT
            && !ring_contains(ring, conn->egress)) {
            if (conn->egress) {
                core->stats.egress_moves++;
            }
            conn->egress = ring_egress(ring, &conn->cp);
            journal(core, conn);
        }
    }
    return true;
}

/* Timers. */

/* Runs the timers of 'core' that are due at 'now': SYN retransmissions,
 * handshakes given up (REJECTED not-ready), removal of closed and forgotten
 * entries. */
void
agent_core_run(struct agent_core *core, long long int now)
{
    struct agent_conn *conn;

    LIST_FOR_EACH_SAFE (conn, pending_node, &core->pending) {
        if (conn->deadline > now) {
            break;
        }
        if (conn->syn_tries < core->limits.syn_tries) {
            send_syn(core, conn);
            conn->deadline = now + core->limits.syn_timeout_ms;
            ovs_list_remove(&conn->pending_node);
            ovs_list_push_back(&core->pending, &conn->pending_node);
        } else {
            core->stats.syn_timeouts++;
            send_rejected(core, conn->requester, &conn->cp, conn->ttl,
                          CTL_REJECT_NOT_READY);
            conn_remove(core, conn);
        }
    }

    tombstones_expire(&core->tombstones, now);
    if (now >= core->next_sweep) {
        const struct agent_limits *l = &core->limits;

        HMAP_FOR_EACH_SAFE (conn, node, &core->conns) {
            if ((conn->gone && now - conn->gone_at >= l->linger_ms)
                || (conn->state == AGENT_CONN_CLOSED
                    && now - conn->last_seen >= l->closed_idle_ms)) {
                conn_forget(core, conn, now);
            }
        }
        core->next_sweep = now + SWEEP_INTERVAL_MS;
    }
}

/* Returns the time at which agent_core_run() next has something to do, or
 * LLONG_MAX. */
long long int
agent_core_next_deadline(const struct agent_core *core)
{
    long long int deadline = LLONG_MAX;

    if (!ovs_list_is_empty(&core->pending)) {
        const struct agent_conn *first;

        first = CONTAINER_OF(ovs_list_front(&core->pending),
                             struct agent_conn, pending_node);
        deadline = first->deadline;
    }
    if (!hmap_is_empty(&core->conns)) {
        deadline = MIN(deadline, core->next_sweep);
    }
    return MIN(deadline, tombstones_next_expiry(&core->tombstones));
}

/* Reconciliation. */

/* Starts a pass over the kernel's socket table taken at 'now': call
 * agent_core_socket_seen() for each socket of a VIP, then
 * agent_core_sockets_end(). */
void
agent_core_sockets_begin(struct agent_core *core, long long int now)
{
    core->gen++;
    core->dump_start = now;
    core->n_pub = 0;
}

/* Notes that the kernel has a socket for 'cp' and, if 'publish' (the socket
 * can still carry data), that it is to be published.  A socket whose client
 * is the VIP itself is a connection from this node to its own VIP (the
 * service probe's): no LB node carries it, so it is not published (it
 * would only hold tracker entries on two LB nodes for a lease each). */
void
agent_core_socket_seen(struct agent_core *core, const struct flow_key *cp,
                       bool publish)
{
    struct agent_conn *conn = conn_find(core, cp);
    const struct agent_vip_port *vp;

    if (conn) {
        conn->seen_gen = core->gen;
        if (conn->gone) {
            conn->gone = false;
            set_live(core, conn, conn->state != AGENT_CONN_CLOSED);
            journal(core, conn);
        }
    }

    vp = vip_port_find(core, &cp->vip, ntohs(cp->vip_port));
    if (!conn && vp && publish) {
        struct untranslated *u = untranslated_find(core, cp);

        if (!u && hmap_count(&core->untranslated) < core->limits.max_conns) {
            u = xmalloc(sizeof *u);
            u->cp = *cp;
            hmap_insert(&core->untranslated, &u->node,
                        flow_key_hash(cp, 0));
        }
        if (u) {
            u->gen = core->gen;
        }
    }
    if (publish && vp && cp->proto == IPPROTO_TCP
        && !ipv6_addr_equals(&cp->client, &cp->vip)
        && core->n_pub < core->limits.max_conns) {
        if (core->n_pub >= core->allocated_pub) {
            core->pub = x2nrealloc(core->pub, &core->allocated_pub,
                                   sizeof *core->pub);
        }
        struct ctl_publish_entry *e = &core->pub[core->n_pub++];
        e->cp = *cp;
        e->ingress = conn ? conn->ingress : 0;
        e->flags = conn || vp->tracked ? CTL_PUBLISH_TRACKED : 0;
    }
}

/* Ends the pass started by agent_core_sockets_begin(): every entry
 * established before the pass began whose socket was not seen is
 * forgotten by the kernel (and removed 'linger_ms' after 'now').  If
 * 'publish_to' is not 0, the sockets to publish are sent to that LB node in
 * PUBLISH messages.  Returns the number of messages sent. */
size_t
agent_core_sockets_end(struct agent_core *core, long long int now,
                       uint32_t publish_to)
{
    struct agent_conn *conn;
    size_t n_msgs = 0;

    struct untranslated *u;
    HMAP_FOR_EACH_SAFE (u, node, &core->untranslated) {
        if (u->gen != core->gen) {
            hmap_remove(&core->untranslated, &u->node);
            free(u);
        }
    }

    HMAP_FOR_EACH (conn, node, &core->conns) {
        if (conn->seen_gen != core->gen && !conn->gone
            && conn->state != AGENT_CONN_SYN_SENT
            && conn->established_at < core->dump_start) {
            conn->gone = true;
            conn->gone_at = now;
            set_live(core, conn, false);
            journal(core, conn);
        }
    }

    if (publish_to) {
        struct ctl_msg *msg = xmalloc(sizeof *msg);

        for (size_t i = 0; i < core->n_pub; i += CTL_PUBLISH_MAX_ENTRIES) {
            size_t n = MIN(core->n_pub - i, CTL_PUBLISH_MAX_ENTRIES);

            ctl_msg_init(msg, CTL_MSG_PUBLISH, core->self, 0);
            msg->publish.server = core->self;
            msg->publish.n = n;
            memcpy(msg->publish.entries, &core->pub[i],
                   n * sizeof *core->pub);
            send_msg(core, publish_to, msg);
            core->stats.publish_msgs++;
            core->stats.publish_entries += n;
            n_msgs++;
        }
        free(msg);
    }
    core->n_pub = 0;
    return n_msgs;
}

/* Journal reload. */

/* Reloads the entry of 'cp' from its journal record 'rec' ('len' bytes) at
 * time 'now'.  Returns false, creating nothing, if the record is malformed,
 * the entry exists already or the table is full. */
bool
agent_core_restore(struct agent_core *core, const struct flow_key *cp,
                   const void *rec_, size_t len, long long int now)
{
    const uint8_t *rec = rec_;
    struct agent_conn *conn;

    if (len != AGENT_RECORD_LEN || rec[0] != RECORD_VERSION
        || (rec[1] != AGENT_CONN_ESTABLISHED && rec[1] != AGENT_CONN_CLOSED)
        || rec[2] & ~REC_ALL
        || rec[3] > TCP_WSCALE_MAX || rec[4] > TCP_WSCALE_MAX
        || rec[6] || rec[7]
        || get_be32_at(&rec[8]) != get_be32_at(&rec[20])
                                   - get_be32_at(&rec[24])
        || cp->proto != IPPROTO_TCP || cp->pad[0] || cp->pad[1] || cp->pad[2]
        || IN6_IS_ADDR_V4MAPPED(&cp->client)
           != IN6_IS_ADDR_V4MAPPED(&cp->vip)
        || conn_find(core, cp)) {
        core->stats.restore_rejected++;
        COVERAGE_INC(agent_core_bad_record);
        return false;
    }
    if (!conn_has_room(core)) {
        core->stats.table_full++;
        core->stats.restore_rejected++;
        return false;
    }

    conn_make_room(core, now);
    tombstones_remove(&core->tombstones, cp);
    conn = conn_create(core, cp, rec[1], now);
    conn->xlate.ts = rec[2] & REC_TS;
    conn->xlate.sack = rec[2] & REC_SACK;
    conn->fin_client = rec[2] & REC_FIN_CLIENT;
    conn->fin_server = rec[2] & REC_FIN_SERVER;
    conn->opts.has_wscale = rec[2] & REC_CLIENT_WS;
    conn->srv_wscale = rec[2] & REC_SERVER_WS;
    conn->opts.has_ts = rec[2] & REC_CLIENT_TS;
    conn->xlate.ws_srv = rec[3];
    conn->xlate.ws_lb = rec[4];
    conn->opts.wscale = rec[5];
    conn->xlate.delta = get_be32_at(&rec[8]);
    conn->xlate.ts_delta = get_be32_at(&rec[12]);
    conn->client_isn = get_be32_at(&rec[16]);
    conn->isn_lb = get_be32_at(&rec[20]);
    conn->isn_srv = get_be32_at(&rec[24]);
    conn->opts.tsval = get_be32_at(&rec[28]);
    conn->srv_tsval = get_be32_at(&rec[32]);
    conn->ingress = get_be32_at(&rec[36]);
    conn->egress = get_be32_at(&rec[40]);
    conn->requester = get_be32_at(&rec[44]);
    conn->lb_wscale = conn->xlate.ws_lb;
    if (ring_n_nodes(core->ring) && !ring_contains(core->ring, conn->egress)) {
        conn->egress = ring_egress(core->ring, &conn->cp);
    }
    core->stats.restored++;
    return true;
}

/* Introspection. */

/* If 'core' has an entry for 'cp', fills 'info' with it and returns true;
 * otherwise returns false. */
bool
agent_core_get_conn(const struct agent_core *core, const struct flow_key *cp,
                    struct agent_conn_info *info)
{
    const struct agent_conn *conn = conn_find(core, cp);

    if (!conn) {
        return false;
    }
    memset(info, 0, sizeof *info);
    info->state = conn->state;
    info->xlate = conn->xlate;
    info->client_isn = conn->client_isn;
    info->isn_lb = conn->isn_lb;
    info->isn_srv = conn->isn_srv;
    info->ingress = conn->ingress;
    info->egress = conn->egress;
    info->requester = conn->requester;
    info->syn_tries = conn->syn_tries;
    info->fin_client = conn->fin_client;
    info->fin_server = conn->fin_server;
    info->gone = conn->gone;
    info->pkts_to_server = conn->pkts_to_server;
    info->pkts_to_client = conn->pkts_to_client;
    return true;
}

/* Returns the number of entries of 'core', in any state. */
size_t
agent_core_n_conns(const struct agent_core *core)
{
    return hmap_count(&core->conns);
}

/* Returns the number of idle entries of 'core' (closed, or whose socket the
 * kernel forgot): those that its bound may evict. */
size_t
agent_core_n_idle(const struct agent_core *core)
{
    return ovs_list_size(&core->idle);
}

/* Appends to 's' a line with the table's fill, bounds, evictions and
 * refusals. */
void
agent_core_format_bounds(const struct agent_core *core, struct ds *s)
{
    ds_put_format(s, "translation table: %"PRIuSIZE" entries (%"PRIuSIZE
                  " idle), bound %"PRIuSIZE" (%"PRIu64" evicted), "
                  "admission bound %"PRIuSIZE" (%"PRIu64" refused)\n",
                  hmap_count(&core->conns), ovs_list_size(&core->idle),
                  core->limits.max_entries, core->stats.evicted,
                  core->limits.max_conns, core->stats.table_full);
    ds_put_format(s, "tombstones: %"PRIuSIZE" for %"PRIu32" ms, bound %"
                  PRIuSIZE" (%"PRIu64" evicted)\n",
                  tombstones_count(&core->tombstones),
                  core->limits.tombstone_ms, core->tombstones.max,
                  core->stats.tombstones_evicted);
}

static int
compare_conns(const void *a_, const void *b_)
{
    const struct agent_conn *const *a = a_;
    const struct agent_conn *const *b = b_;

    return memcmp(&(*a)->cp, &(*b)->cp, sizeof (*a)->cp);
}

/* Appends to 's' one line per entry of 'core', sorted by CP pair. */
void
agent_core_format_conns(const struct agent_core *core, struct ds *s)
{
    size_t n = hmap_count(&core->conns);
    const struct agent_conn **conns = xmalloc(MAX(n, 1) * sizeof *conns);
    const struct agent_conn *conn;
    size_t i = 0;

    HMAP_FOR_EACH (conn, node, &core->conns) {
        conns[i++] = conn;
    }
    qsort(conns, n, sizeof *conns, compare_conns);

    for (i = 0; i < n; i++) {
        conn = conns[i];
        flow_key_format(&conn->cp, s);
        ds_put_format(s, " %s", agent_conn_state_to_string(conn->state));
        if (conn->state == AGENT_CONN_SYN_SENT) {
            ds_put_format(s, " syn_tries=%u", conn->syn_tries);
        } else {
            ds_put_format(s, " delta=%"PRIu32" ts_delta=%"PRIu32
                          " ws=%u/%u%s%s",
                          conn->xlate.delta, conn->xlate.ts_delta,
                          conn->xlate.ws_srv, conn->xlate.ws_lb,
                          conn->xlate.ts ? " ts" : "",
                          conn->xlate.sack ? " sack" : "");
        }
        ds_put_format(s, " ingress=%"PRIu32" egress=%"PRIu32
                      " pkts=%"PRIu64"/%"PRIu64"%s%s%s\n",
                      conn->ingress, conn->egress,
                      conn->pkts_to_server, conn->pkts_to_client,
                      conn->fin_client ? " fin-client" : "",
                      conn->fin_server ? " fin-server" : "",
                      conn->gone ? " gone" : "");
    }
    free(conns);
}

/* Returns the counters of 'core'. */
const struct agent_stats *
agent_core_get_stats(const struct agent_core *core)
{
    return &core->stats;
}

/* Appends to 's' the counters of 'core', one "name: value" per line. */
void
agent_core_format_stats(const struct agent_core *core, struct ds *s)
{
    const struct agent_stats *st = &core->stats;

#define PUT(NAME) ds_put_format(s, "  " #NAME ": %"PRIu64"\n", st->NAME)
    ds_put_cstr(s, "admission:\n");
    PUT(requests);
    PUT(accepted);
    PUT(reaccepted);
    PUT(retries_forgotten);
    PUT(pending_dups);
    for (int i = 0; i < CTL_REJECT_N_REASONS; i++) {
        ds_put_format(s, "  rejected_%s: %"PRIu64"\n",
                      ctl_reject_reason_to_string(i), st->rejected[i]);
    }
    PUT(syn_sent);
    PUT(syn_timeouts);
    PUT(server_refused);
    PUT(synack_dups);
    PUT(synack_resets);
    ds_put_cstr(s, "translation:\n");
    PUT(to_server);
    PUT(to_client);
    PUT(passed_to_server);
    PUT(passed_untranslated);
    PUT(passed_to_client);
    PUT(drop_malformed);
    PUT(drop_not_vip);
    PUT(drop_no_entry);
    PUT(drop_client_syn);
    PUT(drop_pending);
    PUT(drop_no_egress);
    ds_put_cstr(s, "connections:\n");
    ds_put_format(s, "  entries: %"PRIuSIZE"\n", hmap_count(&core->conns));
    PUT(closed);
    PUT(removed);
    PUT(restored);
    PUT(restore_rejected);
    PUT(egress_moves);
    PUT(evicted);
    PUT(tombstones_evicted);
    ds_put_format(s, "  tombstones: %"PRIuSIZE"\n",
                  tombstones_count(&core->tombstones));
    PUT(table_full);
    ds_put_cstr(s, "publishing:\n");
    PUT(publish_msgs);
    PUT(publish_entries);
#undef PUT
}

#define AGENT_COUNTER(MEMBER, NAME, HELP) \
    METRICS_COUNTER_FIELD(struct agent_stats, MEMBER, NAME, HELP)
static const struct metrics_counter agent_counters[] = {
    AGENT_COUNTER(requests, "requests", "CONN_REQ messages handled."),
    AGENT_COUNTER(accepted, "connections_accepted",
                  "Connections accepted (ACCEPTED for a new connection)."),
    AGENT_COUNTER(reaccepted, "reaccepted",
                  "ACCEPTED sent again for a retransmitted request."),
    AGENT_COUNTER(retries_forgotten, "retries_forgotten",
                  "Retried requests of a connection over and forgotten, "
                  "answered without a SYN."),
    AGENT_COUNTER(pending_dups, "pending_duplicates",
                  "Requests for a handshake in progress."),
    AGENT_COUNTER(syn_sent, "syns_sent",
                  "SYNs given to the server, retransmissions included."),
    AGENT_COUNTER(syn_timeouts, "syn_timeouts", "Handshakes given up."),
    AGENT_COUNTER(server_refused, "server_refused",
                  "SYNs the server answered with a RST."),
    AGENT_COUNTER(synack_dups, "synack_duplicates",
                  "SYN/ACK retransmissions acknowledged again."),
    AGENT_COUNTER(synack_resets, "synack_resets",
                  "SYN/ACKs of no handshake of ours, answered with a RST."),
    AGENT_COUNTER(to_server, "translated_to_server",
                  "Segments translated, client to server."),
    AGENT_COUNTER(to_client, "translated_to_client",
                  "Segments translated, server to client."),
    AGENT_COUNTER(passed_untranslated, "passed_untranslated",
                  "Client segments of a tracked VIP port passed untranslated: "
                  "a connection it had in mode hash."),
    AGENT_COUNTER(passed_to_server, "passed_to_server",
                  "Segments to the server passed untranslated (hash-mode "
                  "VIP)."),
    AGENT_COUNTER(passed_to_client, "passed_to_client",
                  "Segments to the client passed untranslated (no entry)."),
    AGENT_COUNTER(drop_malformed, "dropped_malformed",
                  "Segments dropped: malformed."),
    AGENT_COUNTER(drop_not_vip, "dropped_not_vip",
                  "Segments dropped: not for a VIP port of ours."),
    AGENT_COUNTER(drop_no_entry, "dropped_no_entry",
                  "Client segments of a tracked VIP dropped: no entry."),
    AGENT_COUNTER(drop_client_syn, "dropped_client_syn",
                  "SYNs from a client of a tracked VIP dropped."),
    AGENT_COUNTER(drop_pending, "dropped_pending",
                  "Segments dropped during the handshake."),
    AGENT_COUNTER(drop_no_egress, "dropped_no_egress",
                  "Segments dropped: no healthy LB node to send them to."),
    AGENT_COUNTER(closed, "entries_closed",
                  "Translation entries closed by RST or FINs."),
    AGENT_COUNTER(removed, "entries_removed", "Translation entries removed."),
    AGENT_COUNTER(restored, "entries_restored",
                  "Translation entries reloaded from the journal."),
    AGENT_COUNTER(restore_rejected, "restore_rejected",
                  "Journal records not reloaded."),
    AGENT_COUNTER(egress_moves, "egress_moves",
                  "Connections moved to another egress LB node."),
    AGENT_COUNTER(evicted, "entries_evicted",
                  "Idle translation entries removed to make room: the "
                  "table was at its bound."),
    AGENT_COUNTER(tombstones_evicted, "tombstones_evicted",
                  "Tombstones of forgotten connections removed before their "
                  "time: the table was at its bound."),
    AGENT_COUNTER(table_full, "table_full",
                  "Requests and journal records refused: the table was "
                  "full with nothing idle to evict."),
    AGENT_COUNTER(publish_msgs, "publish_messages",
                  "PUBLISH messages sent."),
    AGENT_COUNTER(publish_entries, "publish_entries",
                  "Connection entries in PUBLISH messages sent."),
};

/* Adds to 'm' the counters of 'core' (ovslb/stats) and its table's fill
 * and bounds (ovslb/show). */
void
agent_core_put_metrics(const struct agent_core *core, struct metrics *m)
{
    const struct agent_stats *st = &core->stats;
    struct metrics_family *f;

    metrics_put_counters(m, "ovslb_agent_", agent_counters,
                         ARRAY_SIZE(agent_counters), st, NULL);
    f = metrics_family(m, "ovslb_agent_rejected_total", METRICS_COUNTER,
                       "Connection requests rejected, by reason.");
    for (int i = 0; i < CTL_REJECT_N_REASONS; i++) {
        metrics_add(f, st->rejected[i],
                    "reason", ctl_reject_reason_to_string(i), NULL);
    }
    const struct metrics_gauge gauges[] = {
        { "entries", "Translation entries.", hmap_count(&core->conns) },
        { "idle_entries",
          "Idle translation entries (closed, or socket forgotten).",
          ovs_list_size(&core->idle) },
        { "entries_max", "Bound of the translation table that idle entries "
          "are evicted to keep (0: none).", core->limits.max_entries },
        { "admission_max", "Bound of the translation table beyond which "
          "every request is refused (0: none).", core->limits.max_conns },
        { "tombstones", "Handshakes of forgotten connections remembered.",
          tombstones_count(&core->tombstones) },
    };
    metrics_put_gauges(m, "ovslb_agent_", gauges, ARRAY_SIZE(gauges), NULL);
}
