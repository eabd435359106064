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
 * syn-cookie: stateless ISN_lb for the flow tracker under SYN pressure
 * (PROTOCOL.md section 2).
 *
 * When its SYN table is above [80 %] of its bound or SYNs arrive faster
 * than [20 k/s] (syn_cookie_pressure(); the rate must stay below the SYN
 * meter of an LB node, [50 k/s], or it could never be reached: see
 * cluster_settings_check()), the PFT makes ISN_lb a SYN cookie
 * and keeps no state until an ACK whose ack-1 checks:
 *
 *   ISN_lb = MAC(key, CP, client ISN, time slot, MSS index, options)[29 bits]
 *            << 3 | MSS index
 *
 * with MAC = HMAC-SHA-256 (OpenSSL), time slots of SYN_COOKIE_SLOT_S
 * seconds (below), and the client's MSS rounded down to one of the
 * SYN_COOKIE_N_MSS values of syn_cookie_mss_table.  When the client sent
 * timestamps, its window scale, SACK-permitted and ECN are carried, as Linux
 * does, in the low SYN_COOKIE_TS_BITS bits of the SYN/ACK's TSval, which the
 * client echoes in the TSecr of its ACK; these bits are covered by the MAC.
 * Without timestamps they cannot be remembered, so the SYN/ACK must not
 * grant them.
 *
 * The key must be the same on every LB node (the PFT of a flow may change
 * between the SYN and the ACK): derive it from the cluster key.
 *
 * Time slots.  For the same reason the time must be one the LB nodes
 * share: the wall clock (seconds since the Unix epoch), which NTP keeps
 * within milliseconds across nodes, never a node's monotonic clock, which
 * has nothing in common with another machine's.  A cookie made at 't' on
 * the issuer's clock belongs to slot k = t / SYN_COOKIE_SLOT_S; a node
 * whose clock reads 'now_s' accepts it if and only if
 *
 *   k * SLOT - SYN_COOKIE_MAX_SKEW_S <= now_s < (k + 2) * SLOT
 *
 * that is, the slot of 'now_s', the one before it and, in the last
 * SYN_COOKIE_MAX_SKEW_S seconds of a slot, the next one (made by a node
 * whose clock is ahead and already there).  Hence, with the two clocks at
 * most SYN_COOKIE_MAX_SKEW_S apart either way:
 *
 *   - an ACK that comes within SLOT - MAX_SKEW = 56 s of its SYN always
 *     validates, on whichever node (a client sends it one round trip after
 *     the SYN/ACK);
 *   - no node accepts a cookie more than 2 * SLOT + MAX_SKEW = 136 s after
 *     it was made, nor more than MAX_SKEW before its slot begins on the
 *     node's own clock (128 s, as before, when the clocks agree).
 *
 * A cookie of the slot just before the oldest accepted one is rejected as
 * too old, one of the slot just after the newest accepted one as too new
 * (its issuer's clock, or ours, is off by more than the tolerance), so that
 * a clock problem shows in the counters apart from forged or mangled ACKs;
 * any other cookie is simply invalid.  SYN_COOKIE_MAX_SKEW_S is 8 s: NTP
 * holds clocks to milliseconds, and 8 s still covers a node whose NTP has
 * been down for a day or two (a crystal drifts up to about 50 ppm, 4.3 s a
 * day) or a virtual machine resumed before its clock was stepped, while it
 * stretches a cookie's life by only 8 s and leaves 56 s for the ACK.
 *
 * HMAC-SHA-256 rather than SipHash: OpenSSL's libcrypto is already a
 * dependency (the control messages use the same primitive), so no
 * cryptographic code is written here.  With the keyed context reused (see
 * syn_cookie_key_create()) a MAC costs about 0.4 us, so a check (at most
 * three MACs for a valid cookie, five for a rejected one) stays far below
 * the rate at which OVS lets packets reach the controller.
 *
 * Pure: no I/O, no clock (the caller passes the time).  A key object holds
 * a scratch MAC context: one thread at a time per key object.
 */
#ifndef OVSLB_SYN_COOKIE_H
#define OVSLB_SYN_COOKIE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct flow_key;

/* The cookie's encoding: any flow tracker must check another's cookies,
 * so these are not settings. */
#define SYN_COOKIE_SLOT_S 64            /* Length of a time slot. */
#define SYN_COOKIE_MAX_SKEW_S 8         /* Clock difference tolerated
                                         * between issuer and checker. */
#define SYN_COOKIE_MIN_KEY_LEN 16       /* Bounds on the secret's length. */
#define SYN_COOKIE_MAX_KEY_LEN 256
#define SYN_COOKIE_TS_BITS 6            /* Option bits in TSval. */

/* MSS values a cookie can carry, in increasing order. */
#define SYN_COOKIE_N_MSS 8
extern const uint16_t syn_cookie_mss_table[SYN_COOKIE_N_MSS];

/* The TCP options of a handshake that a cookie remembers. */
struct syn_cookie_opts {
    uint16_t mss;               /* Maximum segment size. */
    bool wscale_ok;             /* Window scale option present... */
    uint8_t wscale;             /* ...with this shift count (0 to 14). */
    bool sack_ok;               /* SACK-permitted option present. */
    bool ecn_ok;                /* ECN setup (ECE and CWR in the SYN). */
    bool tstamp_ok;             /* Timestamps option present. */
};

struct syn_cookie_key *syn_cookie_key_create(const void *secret, size_t len);
void syn_cookie_key_destroy(struct syn_cookie_key *);

int syn_cookie_make(struct syn_cookie_key *, const struct flow_key *cp,
                    uint32_t client_isn, uint64_t now_s, uint32_t ts_clock,
                    const struct syn_cookie_opts *offered,
                    uint32_t *isn, uint32_t *tsval,
                    struct syn_cookie_opts *granted);
/* What syn_cookie_check() found. */
enum syn_cookie_verdict {
    SYN_COOKIE_VALID,           /* Made in an accepted slot. */
    SYN_COOKIE_TOO_OLD,         /* Made in the slot before those. */
    SYN_COOKIE_TOO_NEW,         /* Made in the slot after those. */
    SYN_COOKIE_INVALID,         /* Not a cookie of ours for any of them. */
};

enum syn_cookie_verdict syn_cookie_check(struct syn_cookie_key *,
                                         const struct flow_key *cp,
                                         uint32_t client_isn, uint32_t isn,
                                         uint64_t now_s,
                                         const uint32_t *tsecr,
                                         struct syn_cookie_opts *decoded);

/* When to switch to cookies (PROTOCOL.md section 2). */
struct syn_cookie_thresholds {
    unsigned int table_pct;     /* SYN table fill, in % of its bound. */
    uint64_t syn_rate;          /* SYNs per second. */
};
#define SYN_COOKIE_TABLE_PCT_DEFAULT 80
#define SYN_COOKIE_SYN_RATE_DEFAULT 10000  /* Below the SYN meter's 50 k/s:
                                            * cluster_settings_check(). */

void syn_cookie_thresholds_init(struct syn_cookie_thresholds *);
bool syn_cookie_pressure(uint64_t table_entries, uint64_t table_bound,
                         uint64_t syn_rate_per_s,
                         const struct syn_cookie_thresholds *);

#endif /* syn-cookie.h */
