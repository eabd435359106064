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
 * health: the health-checking and gossip state machine of PROTOCOL.md §8, as
 * ovslb-controller runs it on every LB node.
 *
 * What it does, per LB node:
 *
 *   - Every 'ping_interval_ms' it checks its two neighbours in node-id order
 *     among all configured LB nodes (healthy or not), one random other LB
 *     node, and the nodes (LB or server) it holds suspect, at most
 *     HEALTH_MAX_SUSPECT_CHECKS, LB nodes first (a node that just became
 *     suspect is checked at once).  An LB check is a PING to the node's
 *     north address and one to its south address, sharing a nonce; it
 *     succeeds when both PONGs (same nonce and path, from the target) arrive
 *     within 'ping_timeout_ms'.  On success the checker raises the checked
 *     node's heartbeat counter in its own table: a node never vouches for
 *     itself.  A check whose answers come after 'ping_timeout_ms' counts as
 *     failed, yet its answers are still taken until the node's suspect +
 *     unhealthy time after the timeout, and then raise the counter at their
 *     arrival: a late answer shows a live node with working paths, only
 *     slow.  Without this, a SYN flood that queued the PINGs behind it in
 *     every switch for more than the 100 ms timeout made every LB node find
 *     every other (and itself, by gossip) unhealthy, the ring falling to
 *     none (measured on the lab: 250 lines of health changes in 20 s, "0
 *     LB nodes healthy"), although nearly every PONG came, late.  A dead node
 *     answers nothing and is found as soon as before; one that dies while
 *     its last answers are queued is found that much later.
 *
 *   - Every 'gossip_interval_ms' it sends its heartbeat table (LB and server
 *     nodes) to one healthy LB node other than itself, chosen by a shuffled
 *     round robin (each other node once per round, in a fresh random order
 *     each round).  Nodes it does not hold healthy, and counters never
 *     raised, are left out, except its own entry (see "Push-pull").  The
 *     receiver keeps, per node it knows from its configuration, the maximum
 *     of its counter and the received one.
 *
 *   - Push-pull.  The receiver of a GOSSIP answers with the entries of that
 *     message for which it holds a larger counter (of nodes it holds
 *     healthy).  Such an answer holds only counters larger than the
 *     sender's, which the sender then has, so its answer to the answer is
 *     empty and not sent.  Push alone left observers without news of a live
 *     node for 300 to 600 ms too often (suspects every few seconds, false
 *     positives under 5 % loss); with the answers the tail ends near 300 ms.
 *
 *   - A counter that rose is "seen rising" at the time this node learned the
 *     larger value (by its own check or by gossip).  A node not seen rising
 *     for 'suspect_ms' is SUSPECT, for 'suspect_ms' + 'unhealthy_ms'
 *     UNHEALTHY; any rise makes it HEALTHY again.  Suspect nodes stay in the
 *     healthy LB set (they are only no longer gossiped about), so that a
 *     short hiccup does not move flow trackers; every node checks its
 *     suspects itself, so a live node needs both no news and no answer to
 *     become unhealthy, while a dead node costs no more time.
 *
 *   - Heartbeats.  A successful check raises a counter to the checker's wall
 *     clock in ms, or by one if the counter is already past that (a hybrid
 *     logical clock).  With plain +1 counters a checker's rise was new to
 *     others only if its own copy was already the largest, which the gossip
 *     delay made rare; with clock values every success is news.  Values
 *     from a clock far ahead only bring back the +1 steps.  Counters never
 *     go back (maximum everywhere).
 *
 *   - Dating.  Once the clocks are declared synchronized
 *     (health_set_clock_offset()), a rise learned by gossip is dated at its
 *     arrival, but no later than the check's time plus 'rise_slack_ms'
 *     [3 gossip intervals] and no earlier than the slack before its
 *     arrival: news that took long to arrive is old news, so every node
 *     finds a dead LB node unhealthy at most about slack + suspect +
 *     unhealthy = 900 ms after its last answer (dated at arrival only, 2 %
 *     of 200 simulated kills took 1.0 to 1.2 s).  Clocks that differ by
 *     less than the slack minus the gossip delay (NTP: a few ms) cost
 *     nothing; a node whose clock is far off sees its timers shortened by
 *     up to the slack and holds more nodes suspect, which it then checks
 *     itself (tested with one node 2 s ahead).  A node's news of itself,
 *     which it cannot check, is always dated at arrival.  The driver must
 *     call health_set_clock_offset(); until then rises are dated at
 *     arrival.
 *
 *   - Server nodes sit on a ring (ring.h, 'ring_key' and 'vnodes') over the
 *     healthy LB set; every 'server_interval_ms' the first two LB nodes of a
 *     server (ring_server_checkers()) PING its agent (path "agent"); a PONG
 *     with ready=1 within the interval raises the server's counter, ready=0
 *     or silence fails the check.  Server timers are their own:
 *     'server_suspect_ms' [2 server intervals] and 'server_unhealthy_ms'
 *     [1 more], so a stopped agent is unhealthy at its checkers 1.5 s after
 *     its last answer and everywhere within 2 s.  The same two LB nodes send
 *     the server the healthy LB set (LB_LIST) with every check and at once
 *     when the set changes.
 *
 *   - A node that cannot serve (health_set_serving(false): bridge, uplink or
 *     OpenFlow connection down) stops answering PINGs; the others find it
 *     unhealthy as if it were dead.  It keeps checking and gossiping.
 *
 * Stalls.  health_run() called more than a ping interval after the
 * previous call means that this node's loop stalled (starved of CPU, or
 * blocked): it checked nobody and read no answer meanwhile, so that time
 * is not counted against the others (every last rise moves forward by the
 * stall).  A dead node is found that much later.  A driver must call
 * health_run() by health_next_deadline(), which is never more than a ping
 * interval ahead.
 *
 * Start-up.  A node configured within the start-up window of its kind (the
 * first suspect + unhealthy time after health_create()) starts HEALTHY as if
 * it had just been seen rising: a cluster booting together agrees at once on
 * the full set (no ring churn), and a node that is really down leaves it
 * when the grace ends, like any dead node.  A node configured later (added
 * at run time) starts UNHEALTHY until its first rise, so that a node not yet
 * running never enters the ring.
 *
 * Restarts.  Counters live in the checkers' tables, never in the checked
 * node's, and are merged by maximum.  A node that restarts (its table
 * empty, or reloaded from its journal with health_import()) finds its own
 * counter still held by the others, and their next rise (a clock value) is
 * a rise for everybody: no epoch is needed.  A restarted checker catches up
 * with the others' counters at its first gossip exchange.
 *
 * LB_LIST versions.  Both checkers of a server send it lists and the agent
 * keeps the one with the larger version, so versions must be comparable
 * across checkers: a version is (wall-clock ms of the change << 16 | the low
 * 16 bits of the healthy ring's ring_digest()), and at least the previous
 * version + 1 at that checker.  Two checkers that switch to the same set in
 * the same millisecond send the same version; lists are ordered as well as
 * the LB nodes' clocks agree (NTP: milliseconds, less than the gossip delay
 * between two checkers' views).  The wall clock comes from
 * health_set_clock_offset(); without it versions and heartbeats use 'now'.
 *
 * Pure: no sockets, no clock (time comes in as 'now', ms of the daemon's
 * monotonic clock), no global state except coverage counters.  Everything to
 * send goes out through 'struct health_io'.  Single-threaded: one thread owns
 * a 'struct health'.
 */
#ifndef OVSLB_HEALTH_H
#define OVSLB_HEALTH_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ctl-msg.h"

struct ds;
struct metrics;

/* Defaults of PROTOCOL.md §8, used for the zero fields of
 * 'struct health_config'. */
#define HEALTH_DEFAULT_PING_INTERVAL_MS 100
#define HEALTH_DEFAULT_GOSSIP_INTERVAL_MS 100
#define HEALTH_DEFAULT_SUSPECT_MS 300
#define HEALTH_DEFAULT_UNHEALTHY_MS 300
#define HEALTH_DEFAULT_SERVER_INTERVAL_MS 500

/* Bounds on a configuration: every healthy LB set fits one LB_LIST. */
#define HEALTH_MAX_LBS CTL_LB_LIST_MAX_NODES
#define HEALTH_MAX_SERVERS 4096

/* Most checks of suspect nodes started per ping interval. */
#define HEALTH_MAX_SUSPECT_CHECKS 32

enum health_state {
    HEALTH_HEALTHY,             /* Seen rising within the suspect time. */
    HEALTH_SUSPECT,             /* Not gossiped about; still in the set. */
    HEALTH_UNHEALTHY,           /* Out of the healthy set. */
    HEALTH_N_STATES
};

/* Where a message goes. */
enum health_via {
    HEALTH_VIA_NORTH,           /* 'addr': the LB node's north address. */
    HEALTH_VIA_SOUTH,           /* 'addr': the LB node's south address. */
    HEALTH_VIA_CONTROL,         /* 'addr': the node's control address. */
    HEALTH_VIA_REPLY,           /* An answer ('addr' is NULL): to the
                                 * source of the message answered, from the
                                 * address it arrived at. */
};

/* What the core asks its driver to do. */
struct health_io {
    /* Send 'msg' (type, sender and body filled in; the driver sets the
     * sequence number, in place if it likes) to node 'dst', never this
     * node, at 'addr' as 'via' says.  'msg' is valid only during the
     * call. */
    void (*send)(void *aux, uint32_t dst, enum health_via,
                 const struct in6_addr *addr, struct ctl_msg *msg);
};

/* An LB node of the configuration. */
struct health_lb {
    uint32_t node;              /* Never CTL_NODE_NONE. */
    struct in6_addr north, south, control;
};

/* A server node of the configuration. */
struct health_server {
    uint32_t node;              /* Never CTL_NODE_NONE. */
    struct in6_addr control;    /* Its agent. */
};

/* The configuration; health_create() and health_set_config() copy what they
 * need.  Zero times take the defaults above.  Entries with node id 0, ids
 * given twice and entries over the bounds are left out and counted. */
struct health_config {
    const struct health_lb *lbs;
    size_t n_lbs;
    const struct health_server *servers;
    size_t n_servers;

    uint64_t ring_key;          /* Of the server-checker ring. */
    unsigned int vnodes;        /* Of that ring (0: RING_DEFAULT_VNODES). */

    uint32_t ping_interval_ms;
    uint32_t ping_timeout_ms;   /* 0 or over the interval: the interval. */
    uint32_t gossip_interval_ms;
    uint32_t suspect_ms;
    uint32_t unhealthy_ms;
    uint32_t server_interval_ms;
    uint32_t server_suspect_ms;     /* 0: 2 * server_interval_ms. */
    uint32_t server_unhealthy_ms;   /* 0: server_interval_ms. */
    uint32_t rise_slack_ms;         /* 0: 3 * gossip_interval_ms. */
};

/* Why a message (or an entry of one) was ignored. */
enum health_reject {
    HEALTH_REJ_PING_TARGET,     /* PING for another node. */
    HEALTH_REJ_PING_CHECKER,    /* PING whose checker is not its sender. */
    HEALTH_REJ_PING_PATH,       /* PING with path "agent" to an LB node. */
    HEALTH_REJ_PONG_UNKNOWN,    /* PONG matching no check in flight
                                 * (stale, late, duplicate or forged). */
    HEALTH_REJ_PONG_SENDER,     /* PONG from another node than checked. */
    HEALTH_REJ_PONG_PATH,       /* PONG for a path not awaited. */
    HEALTH_REJ_GOSSIP_SENDER,   /* GOSSIP not from another known LB. */
    HEALTH_REJ_GOSSIP_NODE,     /* Entry for a node not configured. */
    HEALTH_REJ_GOSSIP_KIND,     /* Entry whose kind differs from config. */
    HEALTH_REJ_TYPE,            /* A type this module does not handle. */
    HEALTH_REJ_FROM_SELF,       /* Claims this node as its sender (a loop,
                                 * or forged with the cluster's key). */
    HEALTH_REJ_IMPORT,          /* Imported record of an unknown node. */
    HEALTH_REJ_CONFIG,          /* Configuration entry left out. */
    HEALTH_N_REJECTS
};

/* Counters; they only grow. */
struct health_stats {
    uint64_t checks_started;    /* LB and server checks started. */
    uint64_t suspect_checks;    /* ...of which of suspects. */
    uint64_t checks_ok;         /* ...that raised a counter. */
    uint64_t checks_failed;     /* ...timed out, or ready=0. */
    uint64_t checks_not_ready;  /* ...of which failed by ready=0. */
    uint64_t checks_late;       /* ...of which answered after the timeout
                                 * but in time to count (see above): the
                                 * counter raised all the same. */
    uint64_t paths_unanswered[CTL_PATH_N_PATHS];    /* Failed checks' PINGs
                                 * left unanswered, per path. */
    uint64_t pings_sent;        /* One per path. */
    uint64_t pongs_received;    /* Matching an awaited path. */
    uint64_t pings_answered;    /* PONGs sent. */
    uint64_t pings_not_serving; /* PINGs not answered: unable to serve. */
    uint64_t gossip_sent;       /* GOSSIP messages sent. */
    uint64_t gossip_received;   /* ...received from a known LB node. */
    uint64_t gossip_rises;      /* Entries that raised a counter. */
    uint64_t gossip_answers;    /* GOSSIP answers sent (push-pull). */
    uint64_t lb_lists_sent;
    uint64_t state_changes;     /* Of any node, in this node's view. */
    uint64_t stalls;            /* health_run() called a ping interval or
                                 * more late (see "Stalls" above). */
    uint64_t stall_ms;          /* ...by that much in all. */
    uint64_t rejected[HEALTH_N_REJECTS];
};

/* One node's entry, as health_get_node() reports it. */
struct health_node_info {
    uint32_t node;
    enum ctl_node_kind kind;
    enum health_state state;
    uint64_t heartbeat;         /* 0: never raised. */
    long long int last_rise;    /* LLONG_MIN: never seen rising. */
};

struct health;

struct health *health_create(uint32_t self, const struct health_config *,
                             uint64_t seed, long long int now);
void health_destroy(struct health *);
void health_set_config(struct health *, const struct health_config *,
                       long long int now);
void health_set_serving(struct health *, bool serving);
bool health_is_serving(const struct health *);
void health_set_clock_offset(struct health *,
                             long long int wall_minus_now);

void health_run(struct health *, long long int now,
                const struct health_io *, void *aux);
void health_recv(struct health *, const struct ctl_msg *, long long int now,
                 const struct health_io *, void *aux);
long long int health_next_deadline(const struct health *);

uint32_t health_self(const struct health *);
bool health_get_node(const struct health *, uint32_t node,
                     struct health_node_info *);
bool health_is_healthy(const struct health *, uint32_t node);
const uint32_t *health_healthy_lbs(const struct health *, size_t *n);
uint64_t health_lb_set_seqno(const struct health *);
uint64_t health_seqno(const struct health *);
uint64_t health_lb_list_version(const struct health *);
const struct health_stats *health_get_stats(const struct health *);

void health_format(const struct health *, long long int now, struct ds *);
void health_put_metrics(const struct health *, struct metrics *);
const char *health_state_to_string(enum health_state);
const char *health_reject_to_string(enum health_reject);

/* Journal records of the heartbeat table (the "heartbeat" table of
 * schema/lb-node.sql).  Key: node u32.  Value: format u8
 * (HEALTH_RECORD_FORMAT), kind u8 (enum ctl_node_kind), heartbeat u64.  All
 * in network byte order.  A record never expires by itself: the driver may
 * give it a long expiry (a node gone for a day has no useful counter) and
 * deletes the records of nodes no longer configured. */
#define HEALTH_RECORD_KEY_LEN 4
#define HEALTH_RECORD_VALUE_LEN 10
#define HEALTH_RECORD_FORMAT 1
struct health_record {
    uint32_t node;
    enum ctl_node_kind kind;
    uint64_t heartbeat;
};

size_t health_export(const struct health *, struct health_record **recsp);
size_t health_import(struct health *, const struct health_record *,
                     size_t n);
void health_record_encode(const struct health_record *,
                          uint8_t key[HEALTH_RECORD_KEY_LEN],
                          uint8_t value[HEALTH_RECORD_VALUE_LEN]);
bool health_record_decode(const void *key, size_t key_len,
                          const void *value, size_t value_len,
                          struct health_record *);

#endif /* health.h */
