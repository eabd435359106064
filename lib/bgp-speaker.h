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
 * bgp-speaker: the edge announcement of PROTOCOL.md §9, as ovslb-controller
 * drives it on every LB node, through an FRR bgpd of its own.
 *
 * Every LB node is announced to the edge router by its two ring neighbours
 * (the healthy LB nodes before and after it in node-id order, circular),
 * each through a BGP session of its own that carries a route VIP/32 per VIP
 * with the announced node's north address as next hop.  A session is named
 * by its two addresses, so the announcer uses one local (source) address
 * per announced node: bgp_session_addr() maps (announcer, announced) to
 * 'session_base' | announcer << 8 | announced, 10.1.A.B in the lab (node
 * ids 1..255), an address the lab puts on the announcer's bridge.
 *
 * The pure part: bgp_announcements() computes whom a node announces, and
 * bgp_render_open()/bgp_render_close() the FRR commands for a session.
 *
 * The driver: a bgp_speaker edits a running bgpd (FRR 8, typically
 * `bgpd -Z -p 0`, speaker only) live through vtysh.  Each announced node is
 * one BGP view "ovslb-<id>" with one neighbour, the edge router, whose
 * outbound route map sets the announced node's next hop; closing the
 * session deletes the view, so bgpd sends the router a NOTIFICATION (Cease)
 * and the router drops that path at once, without waiting for a hold timer.
 * bgp_speaker_set() takes the desired announcements; bgp_speaker_run()
 * applies the difference with one vtysh child process at a time (closes
 * before opens, bounded by a timeout, retried with backoff on failure) and
 * never blocks.  A bgpd that restarted makes its vty socket anew: the
 * speaker checks that socket's identity every second and applies the
 * whole desired state again when it changed (idempotent: an unchanged
 * session is not reset).  It does so every 'resync_ms' as well, which
 * repairs what nothing else shows (a session removed by hand); each apply
 * is a vtysh process, about 0.1 s of CPU, so this is not done often.  The first apply also closes every view "ovslb-<id>" for
 * ids 1..'max_node_id' that is not desired, left over from an earlier run
 * (and so does the first apply after a failed one).
 *
 * Measured in the lab (tests/system/bgp.sh): the edge's kernel route loses
 * a next hop about 0.1 s after the vtysh that closes its sessions starts,
 * and gets it back about 1.1 s after they are opened (bgpd's 1 s start
 * timer of a new peer dominates).
 *
 * Single-threaded: call everything from the controller's main loop.
 */
#ifndef BGP_SPEAKER_H
#define BGP_SPEAKER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openvswitch/types.h"

struct ds;

/* At most this many announcements per speaker (the ring needs two). */
#define BGP_SPEAKER_MAX_ANNOUNCED 16

/* At most this many VIP prefixes. */
#define BGP_SPEAKER_MAX_VIPS 64

/* One session: this node announces node 'node_id' to the router. */
struct bgp_announcement {
    uint32_t node_id;        /* Announced LB node. */
    ovs_be32 next_hop;       /* Its north address. */
    ovs_be32 local_addr;     /* This node's source address for the session. */
};

/* Computes the nodes that LB node 'self' announces: its predecessor and
 * successor among the 'n' healthy LB nodes 'ids' (strictly ascending, with
 * north addresses 'north', parallel to 'ids'), circular.  Writes them to
 * 'out' (room for 2), with local addresses from bgp_session_addr() over
 * 'session_base', and returns how many: 0 if 'self' is alone, not healthy
 * (not in 'ids'), or if 'ids' is not strictly ascending or an id does not
 * fit the address scheme; 1 if there are two nodes; otherwise 2,
 * predecessor first. */
size_t bgp_announcements(const uint32_t *ids, const ovs_be32 *north,
                         size_t n, uint32_t self, ovs_be32 session_base,
                         struct bgp_announcement out[2]);

/* Stores in '*addr' the local address of the session by which node
 * 'announcer' announces node 'announced': 'session_base' (the low 16 bits
 * zero) | 'announcer' << 8 | 'announced'.  Returns false (and leaves '*addr'
 * alone) unless both ids are 1..255 and differ. */
bool bgp_session_addr(ovs_be32 session_base, uint32_t announcer,
                      uint32_t announced, ovs_be32 *addr);

/* What a speaker needs to know; bgp_speaker_create() copies it. */
struct bgp_speaker_config {
    const char *vty_dir;     /* bgpd's --vty_socket directory. */
    const char *vtysh;       /* vtysh program (NULL: "vtysh" on PATH). */
    uint32_t local_as;       /* The LB nodes' AS (all speakers share it). */
    uint32_t router_as;      /* The edge router's AS. */
    ovs_be32 router_addr;    /* The edge router's address (the neighbour). */
    const ovs_be32 *vips;    /* IPv4 VIPs, each announced as a /32. */
    size_t n_vips;
    uint32_t max_node_id;    /* Largest LB node id (0: 32; at most 255):
                              * views of ids up to it are cleaned up on
                              * the first apply and after a failure. */
    unsigned int timeout_ms; /* Kill a vtysh after this (0: 3000). */
    unsigned int resync_ms;  /* Re-apply everything after this (0: 60000). */
};

/* Renders into 'out' the vtysh commands (within "configure terminal") that
 * open the session announcing 'a' under 'config': a route map
 * "ovslb-nh-<id>" that sets the next hop, and the view "ovslb-<id>" with the
 * router as its only neighbour (timers 1 3, connect retry 1 s,
 * advertisement interval 0, no import check since bgpd runs without zebra)
 * and a network statement per VIP.  Applying it to an identical open
 * session changes nothing. */
void bgp_render_open(const struct bgp_speaker_config *config,
                     const struct bgp_announcement *a, struct ds *out);

/* Renders into 'out' the vtysh commands (within "configure terminal") that
 * close the session announcing node 'node_id' under 'config' and remove its
 * route map; they succeed whether or not the session exists. */
void bgp_render_close(const struct bgp_speaker_config *config,
                      uint32_t node_id, struct ds *out);

/* Counters of a speaker. */
struct bgp_speaker_stats {
    uint64_t applies;        /* vtysh runs started. */
    uint64_t applied;        /* ... that succeeded. */
    uint64_t failures;       /* ... that failed (exit status, start). */
    uint64_t timeouts;       /* ... killed after 'timeout_ms'. */
    uint64_t opens;          /* Sessions opened by successful runs. */
    uint64_t closes;         /* Sessions closed by successful runs. */
    uint64_t rejected;       /* bgp_speaker_set() calls refused. */
    uint64_t restarts_seen;  /* bgpd's vty socket changed or went away
                              * since the last apply: all applied again. */
    long long int last_apply_ms; /* Duration of the last successful run. */
};

struct bgp_speaker;

/* Creates a speaker for 'config' (NULL if it is invalid: no 'vty_dir', no
 * AS, no router address, or too many VIPs); it announces nothing until
 * bgp_speaker_set(). */
struct bgp_speaker *bgp_speaker_create(
    const struct bgp_speaker_config *config);

/* Kills a running vtysh child and frees 'speaker' (NULL is a no-op).  The
 * sessions stay as they are in bgpd. */
void bgp_speaker_destroy(struct bgp_speaker *speaker);

/* Makes the 'n' announcements 'a' the desired state of 'speaker' (ids
 * distinct, 1..'max_node_id', addresses nonzero, at most
 * BGP_SPEAKER_MAX_ANNOUNCED).  Returns 0, or EINVAL (and
 * keeps the previous state, counting a rejection) for an invalid set. */
int bgp_speaker_set(struct bgp_speaker *speaker,
                    const struct bgp_announcement *a, size_t n);

/* Does the work of 'speaker' at time 'now' (time_msec()): reaps or times
 * out its vtysh child, and starts the next one when the desired state
 * differs from the applied one (or a resync is due) and no backoff runs. */
void bgp_speaker_run(struct bgp_speaker *speaker, long long int now);

/* Arranges for poll_block() to wake when bgp_speaker_run() has work. */
void bgp_speaker_wait(struct bgp_speaker *speaker, long long int now);

/* Whether the desired state of 'speaker' is applied and nothing runs. */
bool bgp_speaker_is_idle(const struct bgp_speaker *speaker);

/* Copies the counters of 'speaker' to '*stats'. */
void bgp_speaker_get_stats(const struct bgp_speaker *speaker,
                           struct bgp_speaker_stats *stats);

/* Appends a description of 'speaker' to 'out' (for ovs-appctl): the desired
 * and applied sessions, the child, the counters. */
void bgp_speaker_format(const struct bgp_speaker *speaker, struct ds *out);

#endif /* bgp-speaker.h */
