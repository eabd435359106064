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
 * ctl-msg: the control-plane messages of PROTOCOL.md §10 (encoding,
 * authenticated decoding, the per-sender replay window and the counters of
 * everything rejected).
 *
 * Pure: no sockets, no clock.  The UDP drivers of ovslb-controller and
 * ovslb-agent, the protocol cores and the simulator call it.  A 'struct
 * ctl_key', 'struct ctl_replay' or 'struct ctl_stats' belongs to one thread
 * at a time; ctl_msg_encode() and ctl_msg_decode() keep no state of their own
 * (apart from the process-wide coverage counters).
 *
 * Wire format.  A UDP datagram carries one message or several back to back
 * (a sender batches what it has for one destination in one pass of its
 * loop; ctl_msg_frame_len() splits them), at most CTL_MSG_MAX_LEN bytes in
 * all.  Each message is complete on its own (header, body, MAC) and is
 * authenticated and replay-checked on its own.  All integers in network
 * byte order, no padding beyond what is shown:
 *
 *    0  magic     u32   CTL_MSG_MAGIC ("OVLB")
 *    4  version   u8    CTL_MSG_VERSION
 *    5  type      u8    enum ctl_msg_type
 *    6  length    u16   whole message, header + body + MAC
 *    8  sender    u32   sender's node id (never 0)
 *   12  seq       u64   per-sender sequence number, strictly increasing
 *   20  body            fixed layout per type, described below
 *    .  mac       16    HMAC-SHA-256(cluster key, header + body), first 16
 *                       bytes; during a key rotation any of the keys the
 *                       receiver holds (enum ctl_key_slot)
 *
 * A datagram is at most CTL_MSG_MAX_LEN bytes, so that the largest one
 * (PUBLISH) fits one fabric packet.  Every variable-length body ends with its
 * entries, preceded by a u16 count; the count must match the body's length
 * exactly and may not exceed the bound given by ctl_msg_max_entries().
 *
 * Shared sub-records:
 *
 *   CP (40 bytes), the 'struct flow_key' of flow-key.h in its own byte order:
 *     0  client address (16, IPv4 as v4-mapped IPv6)   16  VIP address (16)
 *    32  client port u16   34  VIP port u16   36  proto u8 (TCP or UDP)
 *    37  3 bytes of zero.
 *
 *   TCP options of the client's SYN (8 bytes, 'struct ctl_tcp_opts'):
 *     0  mss u16   2  wscale u8   3  flags u8 (CTL_OPT_*)   4  tsval u32.
 *
 * Decoding checks, in order: size (CTL_MSG_ERR_SHORT, CTL_MSG_ERR_OVERSIZE),
 * magic, version, length field, MAC (nothing after the header is interpreted
 * before the MAC matches), sender, type, then the body: its length, its
 * counts and every field with a restricted range (enums, booleans, flag bits,
 * zero padding, the CP's protocol, the window scale the LB tier gave at most
 * 14).  The encoder refuses what the decoder would reject, and the encoding
 * is canonical: a decoded message re-encodes to the same bytes.
 *
 * Sequence numbers.  A receiver keeps, per sender, the highest sequence
 * number accepted and which of the 63 below it were accepted (struct
 * ctl_replay, CTL_REPLAY_WINDOW); ctl_msg_receive() applies it after
 * ctl_msg_decode().  A sender that restarts must therefore continue above
 * its previous numbers.
 * ctl_seq_base() gives a starting point from the wall clock that does so
 * without persistent state.
 */
#ifndef OVSLB_CTL_MSG_H
#define OVSLB_CTL_MSG_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "flow-key.h"

struct ofpbuf;
struct ds;

/* The wire format (PROTOCOL.md): every node must agree on these, so none
 * of them is a setting.  CTL_MSG_MAX_LEN keeps a message in one datagram
 * under the fabric's smallest MTU. */
#define CTL_MSG_MAGIC 0x4f564c42        /* "OVLB" */
#define CTL_MSG_VERSION 1
#define CTL_MSG_HEADER_LEN 20
#define CTL_MSG_MAC_LEN 16
#define CTL_MSG_MAX_LEN 1400
#define CTL_MSG_MAX_BODY (CTL_MSG_MAX_LEN - CTL_MSG_HEADER_LEN \
                          - CTL_MSG_MAC_LEN)

/* Default UDP ports (PROTOCOL.md §10): the defaults of the cluster
 * settings control_port and publish_port. */
#define CTL_MSG_PORT 7700
#define CTL_MSG_FWD_PORT 7701           /* PUBLISH_FWD only. */

/* Node id 0 is never assigned: it means "none" in the fields that say so.
 * Node ids are 32 bits on the wire but at most CTL_NODE_MAX, as the
 * database's node_id columns allow: a message naming a node above it is
 * malformed (CTL_MSG_ERR_SENDER for the header's sender, CTL_MSG_ERR_FIELD
 * in the body), so that the cores may keep node ids in 16 bits (a tracker
 * entry per connection, issue 17). */
#define CTL_NODE_NONE 0
#define CTL_NODE_MAX 65535

/* Message types; the value is the wire's 'type' byte. */
enum ctl_msg_type {
    CTL_MSG_SYN_INFO = 1,       /* Ingress X -> PFT P. */
    CTL_MSG_SYN_SYNC,           /* PFT P -> SFT S. */
    CTL_MSG_ACK_INFO,           /* Ingress X -> PFT P. */
    CTL_MSG_CONNECT,            /* PFT P -> SFT S. */
    CTL_MSG_CONN_REQ,           /* SFT S -> agent A. */
    CTL_MSG_ACCEPTED,           /* Agent A -> SFT S. */
    CTL_MSG_REJECTED,           /* Agent A -> SFT S. */
    CTL_MSG_RELEASE,            /* SFT S -> PFT P. */
    CTL_MSG_MAPPING,            /* S -> P and X; P -> other waiting X; or
                                 * reply to MAPPING_QUERY. */
    CTL_MSG_MAPPING_QUERY,      /* Ingress X -> P or S. */
    CTL_MSG_UNKNOWN,            /* Reply to MAPPING_QUERY: no such flow. */
    CTL_MSG_TRACKER_SYNC,       /* Old tracker -> new tracker. */
    CTL_MSG_PUBLISH,            /* Agent -> any healthy LB node. */
    CTL_MSG_PUBLISH_FWD,        /* LB node -> LB node, on CTL_MSG_FWD_PORT. */
    CTL_MSG_PING,               /* Checker -> checked node. */
    CTL_MSG_PONG,               /* Reply to PING. */
    CTL_MSG_GOSSIP,             /* LB node -> random healthy LB node. */
    CTL_MSG_LB_LIST,            /* LB node -> server agent. */
    CTL_MSG_OWNER,              /* Agent -> agents of the same VIP. */
    CTL_MSG_LOAD,               /* Agent -> every healthy LB node. */
    CTL_MSG_N_TYPES
};

/* Why a message was rejected; CTL_MSG_OK (0) if it was not. */
enum ctl_msg_error {
    CTL_MSG_OK = 0,
    CTL_MSG_ERR_SHORT,          /* Shorter than header + MAC. */
    CTL_MSG_ERR_OVERSIZE,       /* Longer than CTL_MSG_MAX_LEN. */
    CTL_MSG_ERR_MAGIC,          /* Wrong magic. */
    CTL_MSG_ERR_VERSION,        /* Unsupported version. */
    CTL_MSG_ERR_LENGTH,         /* Length field differs from message size. */
    CTL_MSG_ERR_MAC,            /* MAC does not match (wrong key, altered). */
    CTL_MSG_ERR_SENDER,         /* Sender node id 0. */
    CTL_MSG_ERR_TYPE,           /* Unknown type. */
    CTL_MSG_ERR_BODY_LEN,       /* Body too short or too long for type. */
    CTL_MSG_ERR_COUNT,          /* Entry count over bound or != body. */
    CTL_MSG_ERR_FIELD,          /* A field holds a value out of its range. */
    CTL_MSG_ERR_REPLAY,         /* Sequence number already seen. */
    CTL_MSG_ERR_TOO_OLD,        /* Sequence number below the window. */
    CTL_MSG_N_ERRORS
};

/* The cluster key (from the config service), with its HMAC-SHA-256 state
 * keyed once, so that authenticating a message costs no key setup.
 *
 * ctl_key_init() allocates that state and ctl_key_destroy() frees it, so a
 * 'struct ctl_key' must not be copied by assignment (both copies would free
 * the same state): ctl_key_clone() makes a copy of its own.  Callers may read
 * 'bytes' and 'len'; 'state' is private to ctl-msg.c.  ctl_msg_encode() and
 * ctl_msg_decode() take the key as const but work in scratch space that the
 * state holds, one more reason for a key to belong to one thread at a
 * time. */
#define CTL_KEY_MIN_LEN 16
#define CTL_KEY_MAX_LEN 64
struct ctl_key {
    uint8_t bytes[CTL_KEY_MAX_LEN];
    size_t len;
    struct ctl_key_state *state;
};

int ctl_key_init(struct ctl_key *, const void *bytes, size_t len);
int ctl_key_clone(struct ctl_key *dst, const struct ctl_key *src);
void ctl_key_destroy(struct ctl_key *);
bool ctl_key_equals(const struct ctl_key *, const struct ctl_key *);
uint32_t ctl_key_fingerprint(const struct ctl_key *);

/* Key rotation.  A receiver may hold up to three keys at once, one per
 * slot; a message is accepted if any of them verifies its MAC.  There is
 * no key id on the wire: ctl_msg_decode_keys() tries the slots in order,
 * current first, so that outside a rotation (and for every message signed
 * with the current key) verifying costs one HMAC as before, a message
 * signed with the next or previous key two or three, and a forgery at most
 * three.  A key id would save the second HMAC only in the seconds a
 * rotation lasts, and would need a cluster-wide numbering of keys (another
 * setting to keep consistent) for no gain in security: the MAC already
 * says which key signed.  ctl-sock.h describes the rotation itself. */
enum ctl_key_slot {
    CTL_KEY_CURRENT,            /* Signs what we send; accepted. */
    CTL_KEY_NEXT,               /* Staged: accepted, never used to sign. */
    CTL_KEY_PREVIOUS,           /* Promoted away: accepted for a grace
                                 * period. */
    CTL_KEY_N_SLOTS
};

const char *ctl_key_slot_to_string(enum ctl_key_slot);

/* Counters of received messages, kept by the caller (one per socket or per
 * node, as it likes) and passed to the functions below, which only add. */
struct ctl_stats {
    uint64_t rx_ok[CTL_MSG_N_TYPES];       /* By type, ctl_msg_receive(). */
    uint64_t rx_error[CTL_MSG_N_ERRORS];   /* By error; [0] unused. */
    uint64_t rx_key[CTL_KEY_N_SLOTS];      /* Accepted, by the slot whose
                                            * key verified them,
                                            * ctl_msg_receive_keys(). */
    uint64_t replay_evicted;               /* Senders dropped from window. */
};

/* TCP options of the client's SYN, as the ingress parsed them (the fields
 * of tcp-seg's 'struct tcp_opts' that a SYN carries, plus its ECN flags). */
#define CTL_OPT_MSS    0x01     /* MSS option present. */
#define CTL_OPT_WSCALE 0x02     /* Window scale option present. */
#define CTL_OPT_SACK   0x04     /* SACK-permitted option present. */
#define CTL_OPT_TS     0x08     /* Timestamps option present. */
#define CTL_OPT_ECE    0x10     /* ECE flag set on the SYN. */
#define CTL_OPT_CWR    0x20     /* CWR flag set on the SYN. */
#define CTL_OPT_ALL    0x3f
struct ctl_tcp_opts {
    uint16_t mss;               /* MSS option's value, if 'has_mss'. */
    uint8_t wscale;             /* Shift as received: may exceed 14, which
                                 * RFC 7323 says to treat as 14. */
    bool has_mss;               /* MSS offered ('mss' valid). */
    bool has_wscale;            /* Window scale offered ('wscale' valid). */
    bool sack_permitted;        /* SACK-permitted offered. */
    bool has_ts;                /* Timestamps offered ('tsval' valid). */
    bool ece;                   /* ECE and CWR together: ECN setup SYN. */
    bool cwr;
    uint32_t tsval;             /* Client's TSval. */
};
#define CTL_TCP_OPTS_LEN 8
#define CTL_TCP_MAX_WSCALE 14

/* SYN_INFO (56 bytes), ingress X -> PFT P: a client SYN.
 *    0  cp (40)   40  ingress u32   44  client_isn u32   48  opts (8) */
struct ctl_syn_info {
    struct flow_key cp;
    uint32_t ingress;           /* Node that received the SYN. */
    uint32_t client_isn;        /* The SYN's sequence number. */
    struct ctl_tcp_opts opts;
};
#define CTL_SYN_INFO_LEN 56

/* How the PFT chose ISN_lb. */
enum ctl_isn_kind {
    CTL_ISN_STORED,             /* Random, kept in the PFT's SYN table. */
    CTL_ISN_COOKIE,             /* SYN cookie, nothing stored. */
    CTL_ISN_N_KINDS
};

/* SYN_SYNC (65 bytes), PFT P -> SFT S: SYN_INFO plus the PFT's choices, for S
 * to store and to fabricate the SYN/ACK from.
 *    0  SYN_INFO body (56)   56  isn_lb u32   60  ts_lb u32
 *   64  isn_kind u8 */
struct ctl_syn_sync {
    struct ctl_syn_info syn;
    uint32_t isn_lb;            /* SYN/ACK's sequence number. */
    uint32_t ts_lb;             /* TSval to put in the SYN/ACK. */
    enum ctl_isn_kind isn_kind;
};
#define CTL_SYN_SYNC_LEN 65

/* ACK_INFO (61 bytes), ingress X -> PFT P: the client's first non-SYN.
 *    0  cp (40)   40  ingress u32   44  seq u32   48  ack u32
 *   52  flags u8 (CTL_ACK_*)   53  tsval u32   57  tsecr u32 */
#define CTL_ACK_TS   0x01       /* The segment carried timestamps. */
#define CTL_ACK_DATA 0x02       /* The segment carried payload. */
struct ctl_ack_info {
    struct flow_key cp;
    uint32_t ingress;
    uint32_t seq;
    uint32_t ack;               /* Must be ISN_lb + 1 to be valid. */
    bool has_ts;                /* 'tsval' and 'tsecr' valid. */
    bool has_data;
    uint32_t tsval;
    uint32_t tsecr;             /* Carries the cookie's option bits. */
};
#define CTL_ACK_INFO_LEN 61

/* CONNECT (69 bytes), PFT P -> SFT S: P picked 'server'.
 *    0  cp (40)   40  server u32   44  ttl u8   45  isn_lb u32
 *   49  client_isn u32   53  opts (8)   61  ingress u32   65  ts_lb u32 */
struct ctl_connect {
    struct flow_key cp;
    uint32_t server;            /* Chosen server node. */
    uint8_t ttl;                /* Attempts left, including this one. */
    uint32_t isn_lb;
    uint32_t client_isn;
    struct ctl_tcp_opts opts;   /* Client's SYN options. */
    uint32_t ingress;
    uint32_t ts_lb;             /* Tracker's TSval base for this flow. */
};
#define CTL_CONNECT_LEN 69

/* CONN_REQ (72 bytes), SFT S -> agent A: everything A needs to rebuild the
 * client's SYN and to translate afterwards.
 *    0  cp (40)   40  server u32   44  ttl u8   45  client_isn u32
 *   49  isn_lb u32   53  opts (8)   61  ingress u32   65  lb_tsval u32
 *   69  lb_wscale u8   70  lb_mss u16 */
struct ctl_conn_req {
    struct flow_key cp;
    uint32_t server;            /* The agent's own node id (checked by A). */
    uint8_t ttl;
    uint32_t client_isn;
    uint32_t isn_lb;
    struct ctl_tcp_opts opts;   /* Client's SYN options. */
    uint32_t ingress;           /* Last ingress node seen for the flow. */
    uint32_t lb_tsval;          /* TSval the LB tier's SYN/ACK carried. */
    uint8_t lb_wscale;          /* Window scale it gave (0...14), if
                                 * opts.has_wscale. */
    uint16_t lb_mss;            /* MSS it gave. */
};
#define CTL_CONN_REQ_LEN 72

/* ACCEPTED (48 bytes), agent A -> SFT S.
 *    0  cp (40)   40  server u32   44  lease_ms u32
 * 'lease_ms' is how long the agent vouches for the connection: a full lease
 * (CTL_LEASE_FULL) for a live one; for one that is over (closed, or its
 * socket gone), which a CONN_REQ repeated after its MAPPING was lost can
 * ask about, what is left until the agent forgets it.  The SFT's entry gets
 * no more (at most its own lease), so that a closed connection is not
 * given a new lease by a retry. */
struct ctl_accepted {
    struct flow_key cp;
    uint32_t server;
    uint32_t lease_ms;
};
#define CTL_ACCEPTED_LEN 48

/* The 'lease_ms' of an ACCEPTED for a live connection: as long as the
 * receiver's own lease. */
#define CTL_LEASE_FULL UINT32_MAX

/* Why an agent refused a connection request. */
enum ctl_reject_reason {
    CTL_REJECT_LIMIT,           /* A configured connection limit. */
    CTL_REJECT_LOAD,            /* Load (run queue) over threshold. */
    CTL_REJECT_MEMORY,          /* Memory over threshold. */
    CTL_REJECT_COLLISION,       /* CP collides with a live connection. */
    CTL_REJECT_NOT_LISTENING,   /* Nothing listens on VIP:port. */
    CTL_REJECT_NOT_READY,       /* Agent or server not ready. */
    CTL_REJECT_NOT_MINE,        /* Request names another server or VIP. */
    CTL_REJECT_N_REASONS
};

/* REJECTED (46 bytes), agent A -> SFT S.
 *    0  cp (40)   40  server u32   44  ttl u8 (already decremented)
 *   45  reason u8 */
struct ctl_rejected {
    struct flow_key cp;
    uint32_t server;            /* The rejecting server. */
    uint8_t ttl;                /* TTL left for the next attempt. */
    enum ctl_reject_reason reason;
};
#define CTL_REJECTED_LEN 46

/* RELEASE (45 bytes), SFT S -> PFT P: 'server' rejected, pick another.
 *    0  cp (40)   40  server u32   44  ttl u8 */
struct ctl_release {
    struct flow_key cp;
    uint32_t server;
    uint8_t ttl;
};
#define CTL_RELEASE_LEN 45

/* MAPPING (64 bytes), S -> P and S -> X (the ingress its CONNECT named), P
 * -> any other ingress waiting: the flow's server.
 *    0  cp (40)   40  server u32   44  server_addr (16)   60  lease_ms u32
 * 'lease_ms' is what is left of the lease of the sender's entry: the
 * receiver's entry or mapping gets no more (at most its own lease), so that
 * a MAPPING that comes late (a PFT's retry answered after the connection
 * closed) does not give a closed connection a new lease. */
struct ctl_mapping {
    struct flow_key cp;
    uint32_t server;
    struct in6_addr server_addr;    /* Underlay address, IPv4 v4-mapped. */
    uint32_t lease_ms;              /* Lease left at the sender. */
};
#define CTL_MAPPING_LEN 64

/* MAPPING_QUERY (44 bytes), ingress X -> P or S.
 *    0  cp (40)   40  ingress u32 */
struct ctl_mapping_query {
    struct flow_key cp;
    uint32_t ingress;
};
#define CTL_MAPPING_QUERY_LEN 44

/* UNKNOWN (40 bytes): reply to MAPPING_QUERY, no state for the flow.
 *    0  cp (40) */
struct ctl_unknown {
    struct flow_key cp;
};
#define CTL_UNKNOWN_LEN 40

enum ctl_tracker_state {
    CTL_TRACKER_SYN_RECEIVED,   /* SYN/ACK sent, no server yet. */
    CTL_TRACKER_ESTABLISHED,    /* Server chosen and accepted. */
    CTL_TRACKER_N_STATES
};

enum ctl_tracker_role {
    CTL_ROLE_PFT,
    CTL_ROLE_SFT,
    CTL_ROLE_N_ROLES
};

/* TRACKER_SYNC (78 + 4 * n_rejected bytes), old holder -> new holder of a
 * flow's tracker state after a membership change.
 *    0  cp (40)   40  state u8   41  role u8   42  isn_lb u32
 *   46  client_isn u32   50  opts (8)   58  ts_lb u32   62  server u32
 *   66  ingress u32   70  ttl u8   71  isn_kind u8   72  lease_ms u32
 *   76  n_rejected u16   78  rejected u32 [n_rejected]
 * 'lease_ms' is what is left of the sender's lease on an established entry,
 * or of its handshake timeout on a handshake (at least 1; 0 from a sender
 * that does not say: a full handshake timeout): the receiver's entry lasts
 * that long unless a publication renews it, so that handing a closed
 * connection's entry over does not give it a new lease, nor a handshake
 * that outlived its connection a new timeout.  An established entry has
 * zero 'opts' and 'ts_lb' and no rejected servers: only a handshake uses
 * them, and trackers keep them no longer than the handshake. */
#define CTL_TRACKER_MAX_REJECTED 8
struct ctl_tracker_sync {
    struct flow_key cp;
    enum ctl_tracker_state state;
    enum ctl_tracker_role role;     /* The receiver's role for the flow. */
    uint32_t isn_lb;
    uint32_t client_isn;
    struct ctl_tcp_opts opts;
    uint32_t ts_lb;
    uint32_t server;                /* CTL_NODE_NONE if none yet. */
    uint32_t ingress;
    uint8_t ttl;
    enum ctl_isn_kind isn_kind;
    uint32_t lease_ms;              /* Lease or handshake time left. */
    size_t n_rejected;
    uint32_t rejected[CTL_TRACKER_MAX_REJECTED];  /* Servers that refused. */
};
#define CTL_TRACKER_SYNC_LEN 78     /* Without the rejected list. */

/* One published connection. */
#define CTL_PUBLISH_TRACKED 0x01    /* Tracked VIP (translated connection). */
#define CTL_PUBLISH_ALL     0x01
struct ctl_publish_entry {
    struct flow_key cp;
    uint32_t ingress;           /* Last ingress node (from OVS learn). */
    uint8_t flags;              /* CTL_PUBLISH_*. */
};
#define CTL_PUBLISH_ENTRY_LEN 45

/* PUBLISH (6 + 45 * n bytes), agent -> LB node, and PUBLISH_FWD (10 + 45 * n
 * bytes), LB node -> LB node:
 *    PUBLISH:      0  server u32   4  n u16   6  entries
 *    PUBLISH_FWD:  0  server u32   4  origin u32   8  n u16   10  entries
 *    entry:        0  cp (40)   40  ingress u32   44  flags u8
 * Both hold at most CTL_PUBLISH_MAX_ENTRIES, so the entries of any PUBLISH
 * can be forwarded in one PUBLISH_FWD. */
#define CTL_PUBLISH_LEN 6
#define CTL_PUBLISH_FWD_LEN 10
#define CTL_PUBLISH_MAX_ENTRIES \
    ((CTL_MSG_MAX_BODY - CTL_PUBLISH_FWD_LEN) / CTL_PUBLISH_ENTRY_LEN)
struct ctl_publish {
    uint32_t server;            /* Server node whose connections these are. */
    uint32_t origin;            /* PUBLISH_FWD: LB node that got the
                                 * PUBLISH.  0 in PUBLISH (not on wire). */
    size_t n;
    struct ctl_publish_entry entries[CTL_PUBLISH_MAX_ENTRIES];
};

/* Which address a PING tests. */
enum ctl_ping_path {
    CTL_PATH_NORTH,             /* LB node's north (edge) address. */
    CTL_PATH_SOUTH,             /* LB node's south (fabric) address. */
    CTL_PATH_AGENT,             /* A server node's agent. */
    CTL_PATH_N_PATHS
};

/* PING (17 bytes), checker -> checked node.
 *    0  nonce u64   8  path u8   9  checker u32   13  target u32 */
struct ctl_ping {
    uint64_t nonce;
    enum ctl_ping_path path;
    uint32_t checker;           /* Node whose heartbeat table gets the rise. */
    uint32_t target;            /* Node checked; others must not answer. */
};
#define CTL_PING_LEN 17

/* PONG (10 bytes), reply to PING.
 *    0  nonce u64 (echoed)   8  path u8 (echoed)   9  ready u8 (0 or 1) */
struct ctl_pong {
    uint64_t nonce;
    enum ctl_ping_path path;
    bool ready;                 /* Agent: ready and local probe passes. */
};
#define CTL_PONG_LEN 10

enum ctl_node_kind {
    CTL_NODE_LB,
    CTL_NODE_SERVER,
    CTL_NODE_N_KINDS
};

/* GOSSIP (2 + 13 * n bytes): heartbeat table.
 *    0  n u16   2  entries; entry: 0  node u32   4  kind u8
 *    5  heartbeat u64 */
struct ctl_gossip_entry {
    uint32_t node;
    enum ctl_node_kind kind;
    uint64_t heartbeat;
};
#define CTL_GOSSIP_LEN 2
#define CTL_GOSSIP_ENTRY_LEN 13
#define CTL_GOSSIP_MAX_ENTRIES \
    ((CTL_MSG_MAX_BODY - CTL_GOSSIP_LEN) / CTL_GOSSIP_ENTRY_LEN)
struct ctl_gossip {
    size_t n;
    struct ctl_gossip_entry entries[CTL_GOSSIP_MAX_ENTRIES];
};

/* LB_LIST (10 + 4 * n bytes): healthy LB nodes, LB node -> server agent.
 *    0  version u64   8  n u16   10  nodes u32 [n] */
#define CTL_LB_LIST_LEN 10
#define CTL_LB_LIST_MAX_NODES ((CTL_MSG_MAX_BODY - CTL_LB_LIST_LEN) / 4)
struct ctl_lb_list {
    uint64_t version;           /* Larger is newer. */
    size_t n;
    uint32_t nodes[CTL_LB_LIST_MAX_NODES];
};

/* OWNER (6 + 41 * n bytes), agent -> the other agents of its `hash` VIPs:
 * socket ownership (PROTOCOL.md §4), batched.
 *    0  server u32   4  n u16   6  entries; entry: 0  cp (40)
 *    40  opened u8 (0 or 1)
 * 'server' is the sender, which owns the opened sockets.  Entries are
 * deltas (opened since the last message, closed since), and now and then
 * every owned socket again as opened, which renews the receivers' leases;
 * a message with no entries says the sender is alive (agent/owners.h). */
struct ctl_owner_entry {
    struct flow_key cp;
    bool opened;                /* False: closed. */
};
#define CTL_OWNER_LEN 6
#define CTL_OWNER_ENTRY_LEN 41
#define CTL_OWNER_MAX_ENTRIES \
    ((CTL_MSG_MAX_BODY - CTL_OWNER_LEN) / CTL_OWNER_ENTRY_LEN)
struct ctl_owner {
    uint32_t server;
    size_t n;
    struct ctl_owner_entry entries[CTL_OWNER_MAX_ENTRIES];
};

/* LOAD (2 + 31 * n bytes), agent -> every healthy LB node it knows, every
 * publish interval and at once when a VIP port's service goes down or
 * comes back: the state and load of the sender's VIP ports, for choosing
 * servers (health, least-connections, lowest-latency).
 *    0  n u16   2  entries; entry: 0  vip (16, IPv4 v4-mapped)
 *    16  port u16 (not 0)   18  flags u8   19  conns u32   23  backlog u32
 *    27  rtt_us u32
 * 'flags': CTL_LOAD_DOWN if the port's service fails its health check,
 * CTL_LOAD_UDP if it is a UDP VIP port (else TCP: a TCP and a UDP VIP may
 * share an address and port, each with its own service and check);
 * 'conns': the VIP port's established sockets; 'backlog': connections
 * waiting in its listeners' accept queues; 'rtt_us': the kernel's smoothed
 * round-trip time, averaged over those sockets, 0 if none was measured. */
#define CTL_LOAD_DOWN 0x01
#define CTL_LOAD_UDP 0x02
#define CTL_LOAD_ALL (CTL_LOAD_DOWN | CTL_LOAD_UDP)
struct ctl_load_entry {
    struct in6_addr vip;
    uint16_t port;              /* Host byte order. */
    uint8_t flags;              /* CTL_LOAD_*. */
    uint32_t conns;
    uint32_t backlog;
    uint32_t rtt_us;            /* 0: not measured. */
};
#define CTL_LOAD_LEN 2
#define CTL_LOAD_ENTRY_LEN 31
#define CTL_LOAD_MAX_ENTRIES \
    ((CTL_MSG_MAX_BODY - CTL_LOAD_LEN) / CTL_LOAD_ENTRY_LEN)
struct ctl_load {
    size_t n;
    struct ctl_load_entry entries[CTL_LOAD_MAX_ENTRIES];
};

/* A decoded message, or one to encode. */
struct ctl_msg {
    enum ctl_msg_type type;
    uint32_t sender;            /* Sender's node id, never CTL_NODE_NONE. */
    uint64_t seq;               /* Sender's sequence number. */
    union {
        struct ctl_syn_info syn_info;
        struct ctl_syn_sync syn_sync;
        struct ctl_ack_info ack_info;
        struct ctl_connect connect;
        struct ctl_conn_req conn_req;
        struct ctl_accepted accepted;
        struct ctl_rejected rejected;
        struct ctl_release release;
        struct ctl_mapping mapping;
        struct ctl_mapping_query mapping_query;
        struct ctl_unknown unknown;
        struct ctl_tracker_sync tracker_sync;
        struct ctl_publish publish;         /* PUBLISH and PUBLISH_FWD. */
        struct ctl_ping ping;
        struct ctl_pong pong;
        struct ctl_gossip gossip;
        struct ctl_lb_list lb_list;
        struct ctl_owner owner;
        struct ctl_load load;
    };
};

void ctl_msg_init(struct ctl_msg *, enum ctl_msg_type,
                  uint32_t sender, uint64_t seq);
int ctl_msg_encode(const struct ctl_msg *, const struct ctl_key *,
                   struct ofpbuf *out);
enum ctl_msg_error ctl_msg_decode(const void *data, size_t len,
                                  const struct ctl_key *, struct ctl_msg *,
                                  struct ctl_stats *);
enum ctl_msg_error ctl_msg_decode_keys(
    const void *data, size_t len,
    const struct ctl_key *const keys[CTL_KEY_N_SLOTS], struct ctl_msg *,
    struct ctl_stats *, enum ctl_key_slot *slotp);
size_t ctl_msg_frame_len(const void *data, size_t len);
size_t ctl_msg_max_entries(enum ctl_msg_type);
uint64_t ctl_seq_base(long long int wall_msec);

void ctl_msg_format(const struct ctl_msg *, struct ds *);
const char *ctl_msg_type_to_string(enum ctl_msg_type);
const char *ctl_msg_error_to_string(enum ctl_msg_error);
const char *ctl_reject_reason_to_string(enum ctl_reject_reason);
const char *ctl_ping_path_to_string(enum ctl_ping_path);

/* Replay protection: per sender, a 64-entry sliding window. */
#define CTL_REPLAY_WINDOW 64
struct ctl_replay;

struct ctl_replay *ctl_replay_create(size_t max_senders);
void ctl_replay_destroy(struct ctl_replay *);
enum ctl_msg_error ctl_replay_check_and_update(struct ctl_replay *,
                                               uint32_t sender, uint64_t seq,
                                               struct ctl_stats *);
void ctl_replay_forget(struct ctl_replay *, uint32_t sender);
size_t ctl_replay_n_senders(const struct ctl_replay *);

enum ctl_msg_error ctl_msg_receive(const void *data, size_t len,
                                   const struct ctl_key *,
                                   struct ctl_replay *, struct ctl_msg *,
                                   struct ctl_stats *);
enum ctl_msg_error ctl_msg_receive_keys(
    const void *data, size_t len,
    const struct ctl_key *const keys[CTL_KEY_N_SLOTS], struct ctl_replay *,
    struct ctl_msg *, struct ctl_stats *, enum ctl_key_slot *slotp);

#endif /* ctl-msg.h */
