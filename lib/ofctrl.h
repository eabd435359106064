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
 * ofctrl: the OpenFlow connection through which a daemon (ovslb-controller on
 * an LB node, ovslb-agent on a server node) owns its node's bridge.
 *
 * One reliable rconn to the bridge (normally its "unix:.../BRIDGE.mgmt"
 * socket), OpenFlow 1.3 or later, reconnecting with backoff.  The caller
 * edits a *desired* table of flows, groups and meters; ofctrl keeps the
 * *installed* table it has seen confirmed by the switch and sends only the
 * difference: group-mods and flow-mods in one atomic OpenFlow bundle
 * (meter-mods, which OVS does not take in bundles, just before or after it),
 * followed by a barrier.  The installed table changes only when that
 * barrier's reply arrives, and at most one such transaction is in flight.
 *
 * Ownership.  Every flow ofctrl installs carries the cookie given to
 * ofctrl_create(); deletes and dumps match on it (a delete of one flow
 * under OFCTRL_COOKIE_MASK, every bit but the top one, which a cookie may
 * not use: ovs-vswitchd then finds the flow by its match instead of
 * scanning every flow of the cookie), so
 * flows installed by anybody else are never modified or deleted (except that
 * OpenFlow identifies a flow by table, priority and match: a foreign flow
 * with exactly the same three is replaced by ours).  Groups and meters have
 * no cookie: ofctrl owns exactly the group and meter ids in its desired
 * table.
 *
 * Repair.  On every (re)connection ofctrl re-installs the Geneve TLV map if
 * one was set (only the mappings missing from the switch), dumps the flows
 * that carry its cookie, and diffs them against the desired table, so a
 * reconnection costs no flow-mod when nothing changed and an ovs-vswitchd
 * restart (which loses flows, groups and the TLV map) is repaired without
 * any action of the caller.  Groups and meters are re-sent (add-or-modify)
 * after every reconnection.  If the dump fails, the first transaction
 * deletes every flow with our cookie and re-adds the desired ones,
 * atomically.  A flow of ours deleted by somebody else is reinstalled (all
 * our flows ask for flow-removed messages).
 *
 * On connection ofctrl also sets, with OFPT_SET_CONFIG, the largest
 * miss_send_len (keeping the switch's fragment handling): a service
 * connection such as BRIDGE.mgmt gets no packet-in or flow-removed until it
 * does.  The Controller table's controller_rate_limit does not apply to
 * BRIDGE.mgmt: limit packet-ins with the OFPM13_CONTROLLER meter
 * (ofctrl_meter_set()).
 *
 * Nothing is sent before the first ofctrl_commit(): that call declares the
 * desired table complete, so a restarting daemon does not delete the flows
 * of a previous run before it has rebuilt its desired table.  After that,
 * ofctrl_run() also sends repairs (reconnection, retries) on its own, and
 * with them any edit not committed yet: finish a batch of edits before
 * returning to the poll loop.
 *
 * Errors.  OpenFlow errors from the switch are logged (rate-limited) and
 * counted.  A flow, group or meter whose message the switch rejected is not
 * installed; it is retried after a delay (1 s, doubling to 16 s), outside
 * the bundle and one message per entry, so that one bad flow cannot hold
 * back the others (when it sank a whole bundle, the rest is re-sent at once
 * without it).  Editing the entry retries it at the next commit.
 *
 * Expiry.  A flow whose idle or hard timeout expires in the switch is
 * removed from both tables and reported through ofctrl_recv_flow_removed(),
 * so that the caller learns that a mapping lapsed.
 *
 * Packets.  Packet-ins are decoded and queued (bounded: beyond the bound
 * they are dropped and counted); the caller drains the queues after each
 * ofctrl_run() in the same pass of its loop.  Packet-outs are queued on the
 * connection, also with a bound.
 *
 * Single-threaded: every function must be called from the thread that runs
 * the daemon's poll loop.
 */
#ifndef OVSLB_OFCTRL_H
#define OVSLB_OFCTRL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openflow/openflow.h"
#include "openvswitch/compiler.h"
#include "openvswitch/list.h"
#include "openvswitch/ofp-packet.h"
#include "openvswitch/types.h"

struct ds;
struct metrics;
struct match;
struct ofpact;
struct ofpbuf;
struct ofp_ct_match;
struct ofputil_flow_removed;

/* OpenFlow versions used when ofctrl_create() is given 0: 1.3 to 1.5 (the
 * highest one both sides support is negotiated).  Select groups with a
 * 'selection_method' need 1.5. */
#define OFCTRL_DEFAULT_VERSIONS ((1u << OFP13_VERSION) \
                                 | (1u << OFP14_VERSION) \
                                 | (1u << OFP15_VERSION))

/* Default bound of the packet-in queue. */
#define OFCTRL_DEFAULT_PACKET_IN_LIMIT 1024

/* Bound of the queue of flow expiries not yet read by the caller. */
#define OFCTRL_FLOW_REMOVED_LIMIT 65536

/* Most packet-outs (and conntrack flushes) queued on the connection at
 * once: a burst of new connections replays one or more buffered packets
 * each, and a dropped replay costs the client a retransmission. */
#define OFCTRL_PACKET_OUT_QUEUE 4096

/* Most flow-mods, group-mods and meter-mods in one transaction; the rest
 * follow in the next one, as soon as the barrier of the first comes back. */
#define OFCTRL_TXN_MAX_MSGS 8192

/* Most messages from the switch handled by one ofctrl_run(). */
#define OFCTRL_MAX_RECV_PER_RUN 256

struct ofctrl;

/* The bits of a cookie: ofctrl_create() refuses one with the top bit set. */
#define OFCTRL_COOKIE_MASK (UINT64_MAX >> 1)

struct ofctrl *ofctrl_create(const char *target, uint64_t cookie,
                             uint32_t allowed_versions);
void ofctrl_destroy(struct ofctrl *);

void ofctrl_run(struct ofctrl *);
void ofctrl_wait(struct ofctrl *);
void ofctrl_reconnect(struct ofctrl *);

bool ofctrl_is_connected(const struct ofctrl *);
bool ofctrl_is_synced(const struct ofctrl *);
int ofctrl_get_version(const struct ofctrl *);
uint64_t ofctrl_get_cookie(const struct ofctrl *);
uint64_t ofctrl_get_datapath_id(const struct ofctrl *);

/* The Geneve TLV map. */
char *ofctrl_set_tlv_map(struct ofctrl *, const char *spec)
    OVS_WARN_UNUSED_RESULT;

/* The desired flow table. */
int ofctrl_flow_add(struct ofctrl *, uint8_t table_id, uint16_t priority,
                    const struct match *,
                    const struct ofpact *ofpacts, size_t ofpacts_len,
                    uint16_t idle_timeout, uint16_t hard_timeout);
char *ofctrl_flow_add_str(struct ofctrl *, const char *flow,
                          const char *actions)
    OVS_WARN_UNUSED_RESULT;
bool ofctrl_flow_del(struct ofctrl *, uint8_t table_id, uint16_t priority,
                     const struct match *);
char *ofctrl_flow_del_str(struct ofctrl *, const char *flow, bool *found)
    OVS_WARN_UNUSED_RESULT;
bool ofctrl_flow_is_installed(const struct ofctrl *, uint8_t table_id,
                              uint16_t priority, const struct match *);
bool ofctrl_flow_is_current(const struct ofctrl *, uint8_t table_id,
                            uint16_t priority, const struct match *);

/* The desired group and meter tables. */
char *ofctrl_group_set(struct ofctrl *, uint32_t group_id, const char *spec)
    OVS_WARN_UNUSED_RESULT;
bool ofctrl_group_del(struct ofctrl *, uint32_t group_id);
char *ofctrl_meter_set(struct ofctrl *, uint32_t meter_id, const char *spec)
    OVS_WARN_UNUSED_RESULT;
bool ofctrl_meter_del(struct ofctrl *, uint32_t meter_id);

void ofctrl_clear(struct ofctrl *);
void ofctrl_commit(struct ofctrl *);

/* Flow expiries. */
bool ofctrl_recv_flow_removed(struct ofctrl *, struct ofputil_flow_removed *);

/* A decoded packet-in.  'pin.packet' and 'pin.userdata' point into the
 * message that this object owns; free it with ofctrl_packet_in_destroy(). */
struct ofctrl_packet_in {
    struct ovs_list list_node;   /* Private to ofctrl. */
    struct ofpbuf *msg;          /* Private to ofctrl: the raw message. */

    struct ofputil_packet_in pin;  /* Packet, metadata, reason, table, cookie
                                    * (UINT64_MAX for a table miss),
                                    * userdata of controller(userdata=...). */
    size_t total_len;            /* Length of the packet before truncation. */
    ofp_port_t in_port;          /* Copied from 'pin.flow_metadata'. */
};

struct ofctrl_packet_in *ofctrl_recv_packet_in(struct ofctrl *);
void ofctrl_packet_in_destroy(struct ofctrl_packet_in *);
bool ofctrl_packet_in_get_tun_metadata(const struct ofctrl_packet_in *,
                                       unsigned int index,
                                       void *value, size_t size,
                                       size_t *lenp);
void ofctrl_set_packet_in_limit(struct ofctrl *, size_t limit);

int ofctrl_send_packet_out(struct ofctrl *, const void *frame, size_t len,
                           ofp_port_t in_port,
                           const struct ofpact *ofpacts, size_t ofpacts_len);

int ofctrl_flush_conntrack(struct ofctrl *, uint16_t zone,
                           const struct ofp_ct_match *);

/* Counters, for ovslb/stats. */
struct ofctrl_stats {
    uint64_t n_connections;      /* Connections established. */
    uint64_t n_flow_mods;        /* Flow-mods sent (bundled or not). */
    uint64_t n_group_mods;       /* Group-mods sent. */
    uint64_t n_meter_mods;       /* Meter-mods sent. */
    uint64_t n_bundles;          /* Bundles sent (opened and committed). */
    uint64_t n_barriers;         /* Barriers sent (one per transaction). */
    uint64_t n_txn_failed;       /* Transactions with any error. */
    uint64_t n_errors;           /* OpenFlow errors received (except the
                                  * answers that tell whether a meter
                                  * exists). */
    uint64_t n_retries;          /* Messages re-sent alone after an
                                  * error. */
    uint64_t n_dumps;            /* Flow dumps after a connection. */
    uint64_t n_wipes;            /* Cookie-wide deletes (dump failed). */
    uint64_t n_repairs;          /* Our flows deleted by others, re-added. */
    uint64_t n_expired;          /* Flow expiries reported. */
    uint64_t n_expired_drops;    /* Expiries lost to a full queue. */
    uint64_t n_packet_ins;       /* Packet-ins queued. */
    uint64_t n_packet_in_drops;  /* Packet-ins lost to a full queue. */
    uint64_t n_packet_outs;      /* Packet-outs queued. */
    uint64_t n_packet_out_drops; /* Packet-outs refused. */
    uint64_t n_ct_flushes;       /* Conntrack flushes queued. */
    uint64_t n_ct_flush_drops;   /* Conntrack flushes refused. */
    uint64_t n_bad_msgs;         /* Messages from the switch not decoded. */
    uint64_t n_tlv_conflicts;    /* Our TLV mappings taken by others. */
    size_t n_desired_flows;      /* Flows in the desired table. */
    size_t n_installed_flows;    /* Flows confirmed installed. */
    size_t n_desired_groups;     /* Groups in the desired table. */
    size_t n_desired_meters;     /* Meters in the desired table. */
};

void ofctrl_get_stats(const struct ofctrl *, struct ofctrl_stats *);
void ofctrl_format_stats(const struct ofctrl *, struct ds *);
void ofctrl_put_metrics(const struct ofctrl *, struct metrics *);

#endif /* ofctrl.h */
