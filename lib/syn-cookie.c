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
#include "syn-cookie.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <string.h>
#include "coverage.h"
#include "flow-key.h"
#include "util.h"

COVERAGE_DEFINE(syn_cookie_made);
COVERAGE_DEFINE(syn_cookie_valid);
COVERAGE_DEFINE(syn_cookie_invalid);
COVERAGE_DEFINE(syn_cookie_too_old);
COVERAGE_DEFINE(syn_cookie_too_new);

BUILD_ASSERT_DECL(SYN_COOKIE_MAX_SKEW_S < SYN_COOKIE_SLOT_S);

/* Low bits of ISN_lb: the MSS index.  The other 29 are the MAC. */
#define MSS_BITS 3
#define MSS_MASK ((1u << MSS_BITS) - 1)
BUILD_ASSERT_DECL(SYN_COOKIE_N_MSS == 1 << MSS_BITS);

/* Low bits of TSval, as in Linux (net/ipv4/syncookies.c). */
#define TS_OPT_WSCALE_MASK 0xf          /* Window scale; 0xf if none. */
#define TS_OPT_SACK (1u << 4)
#define TS_OPT_ECN (1u << 5)
#define TS_MASK ((1u << SYN_COOKIE_TS_BITS) - 1)

/* Largest window scale shift (RFC 7323 section 2.3). */
#define MAX_WSCALE 14

/* Common MSS values: IPv4 minimum, IPv6 minimum less headers, common
 * tunnel and PPPoE paths, Ethernet, jumbo frames. */
const uint16_t syn_cookie_mss_table[SYN_COOKIE_N_MSS] = {
    536, 1220, 1280, 1360, 1400, 1440, 1460, 8960,
};

struct syn_cookie_key {
    EVP_MAC_CTX *ctx;           /* HMAC-SHA-256, keyed. */
};

/* The MAC input, in this order (57 bytes):
 *
 *   CP, the 40 bytes of struct flow_key with its padding zeroed;
 *   client ISN, 4 bytes, big-endian;
 *   time slot (now_s / SYN_COOKIE_SLOT_S), 8 bytes, big-endian;
 *   MSS index, 1 byte;
 *   1 if the client sent timestamps, else 0, 1 byte;
 *   TSval option bits (0 without timestamps), 1 byte.
 *
 * ISN_lb's upper 29 bits are the upper 29 bits of the first 4 bytes of the
 * MAC, read big-endian.  Every node must compute the same, so this layout is
 * part of the protocol. */
#define MAC_INPUT_LEN (FLOW_KEY_WIRE_LEN + 4 + 8 + 3)

/* Creates and returns a cookie key from the 'len' bytes of 'secret', which
 * must be between SYN_COOKIE_MIN_KEY_LEN and SYN_COOKIE_MAX_KEY_LEN bytes
 * long (32 random bytes are right).  Returns NULL if 'len' is out of bounds
 * or OpenSSL has no HMAC-SHA-256.  The caller must free the key with
 * syn_cookie_key_destroy(). */
struct syn_cookie_key *
syn_cookie_key_create(const void *secret, size_t len)
{
    if (len < SYN_COOKIE_MIN_KEY_LEN || len > SYN_COOKIE_MAX_KEY_LEN) {
        return NULL;
    }

    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!mac) {
        return NULL;
    }
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);
    if (!ctx) {
        return NULL;
    }

    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                         CONST_CAST(char *, "SHA256"), 0),
        OSSL_PARAM_construct_end(),
    };
    if (!EVP_MAC_init(ctx, secret, len, params)) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }

    struct syn_cookie_key *key = xmalloc(sizeof *key);
    key->ctx = ctx;
    return key;
}

/* Frees 'key'.  'key' may be NULL. */
void
syn_cookie_key_destroy(struct syn_cookie_key *key)
{
    if (key) {
        EVP_MAC_CTX_free(key->ctx);
        free(key);
    }
}

static void
put_be(uint8_t *p, uint64_t x, int n_bytes)
{
    for (int i = n_bytes - 1; i >= 0; i--) {
        p[i] = x;
        x >>= 8;
    }
}

/* Computes the upper 29 bits of the cookie for the given inputs into
 * '*mac', with the low MSS_BITS bits zero.  Returns false on an OpenSSL
 * failure. */
static bool
cookie_mac(struct syn_cookie_key *key, const struct flow_key *cp,
           uint32_t client_isn, uint64_t slot, unsigned int mss_index,
           bool tstamp_ok, unsigned int ts_bits, uint32_t *mac)
{
    uint8_t msg[MAC_INPUT_LEN];
    uint8_t out[EVP_MAX_MD_SIZE];
    struct flow_key k = *cp;
    size_t out_len;
    uint8_t *p = msg;

    memset(k.pad, 0, sizeof k.pad);
    memcpy(p, &k, sizeof k);
    p += sizeof k;
    put_be(p, client_isn, 4);
    p += 4;
    put_be(p, slot, 8);
    p += 8;
    *p++ = mss_index;
    *p++ = tstamp_ok;
    *p++ = ts_bits;
    ovs_assert(p - msg == sizeof msg);

    /* A NULL key re-initializes the context with the key it already has,
     * which skips rehashing the key. */
    if (!EVP_MAC_init(key->ctx, NULL, 0, NULL)
        || !EVP_MAC_update(key->ctx, msg, sizeof msg)
        || !EVP_MAC_final(key->ctx, out, &out_len, sizeof out)
        || out_len < 4) {
        return false;
    }
    *mac = (((uint32_t) out[0] << 24) | ((uint32_t) out[1] << 16)
            | ((uint32_t) out[2] << 8) | out[3]) & ~MSS_MASK;
    return true;
}

/* Returns the index in syn_cookie_mss_table of the largest value not above
 * 'mss', or 0 if 'mss' is below all of them. */
static unsigned int
mss_index(uint16_t mss)
{
    unsigned int i = SYN_COOKIE_N_MSS - 1;

    while (i > 0 && syn_cookie_mss_table[i] > mss) {
        i--;
    }
    return i;
}

/* Computes the SYN cookie of a SYN for flow 'cp' with sequence number
 * 'client_isn' and options 'offered' (the client's MSS, 0 if absent, window
 * scale, SACK-permitted, ECN setup, timestamps), received at time 'now_s'
 * (seconds of a clock the LB nodes share: the wall clock, see
 * syn-cookie.h).
 *
 * On success returns 0 and stores ISN_lb in '*isn' and in '*granted' the
 * options the SYN/ACK may grant and that the ACK will give back: the MSS
 * rounded down to a value of syn_cookie_mss_table (up to its smallest value
 * if it is below all), and, only if the client sent timestamps, its window
 * scale, SACK-permitted and ECN.  If the client sent timestamps, '*tsval' is
 * the TSval to send, 'ts_clock' (the tracker's timestamp clock) with its low
 * SYN_COOKIE_TS_BITS bits replaced by the options and never ahead of
 * 'ts_clock'; otherwise '*tsval' is 'ts_clock'.
 *
 * Returns EIO, storing nothing, if OpenSSL fails. */
int
syn_cookie_make(struct syn_cookie_key *key, const struct flow_key *cp,
                uint32_t client_isn, uint64_t now_s, uint32_t ts_clock,
                const struct syn_cookie_opts *offered,
                uint32_t *isn, uint32_t *tsval,
                struct syn_cookie_opts *granted)
{
    unsigned int index = mss_index(offered->mss);
    struct syn_cookie_opts g = {
        .mss = syn_cookie_mss_table[index],
        .tstamp_ok = offered->tstamp_ok,
    };
    unsigned int ts_bits = 0;
    uint32_t ts = ts_clock;
    uint32_t mac;

    if (offered->tstamp_ok) {
        g.wscale_ok = offered->wscale_ok;
        g.wscale = g.wscale_ok ? MIN(offered->wscale, MAX_WSCALE) : 0;
        g.sack_ok = offered->sack_ok;
        g.ecn_ok = offered->ecn_ok;

        ts_bits = ((g.wscale_ok ? g.wscale : TS_OPT_WSCALE_MASK)
                   | (g.sack_ok ? TS_OPT_SACK : 0)
                   | (g.ecn_ok ? TS_OPT_ECN : 0));
        ts = (ts_clock & ~TS_MASK) | ts_bits;
        if (ts > ts_clock) {
            ts -= TS_MASK + 1;
        }
    }

    if (!cookie_mac(key, cp, client_isn, now_s / SYN_COOKIE_SLOT_S, index,
                    g.tstamp_ok, ts_bits, &mac)) {
        return EIO;
    }
    COVERAGE_INC(syn_cookie_made);
    *isn = mac | index;
    *tsval = ts;
    *granted = g;
    return 0;
}

/* The slots syn_cookie_check() tries, in this order, and what a match in
 * each means. */
struct slot_candidate {
    uint64_t slot;
    enum syn_cookie_verdict verdict;
};
#define MAX_CANDIDATES 5

/* Fills 'c' with the slots to try at time 'now_s' (see syn-cookie.h): the
 * accepted ones first, the most likely first, then the one before and the
 * one after them.  Returns how many. */
static size_t
slot_candidates(uint64_t now_s, struct slot_candidate c[MAX_CANDIDATES])
{
    uint64_t cur = now_s / SYN_COOKIE_SLOT_S;
    uint64_t newest = (MIN(now_s, UINT64_MAX - SYN_COOKIE_MAX_SKEW_S)
                       + SYN_COOKIE_MAX_SKEW_S) / SYN_COOKIE_SLOT_S;
    size_t n = 0;

    c[n++] = (struct slot_candidate) { cur, SYN_COOKIE_VALID };
    if (cur >= 1) {
        c[n++] = (struct slot_candidate) { cur - 1, SYN_COOKIE_VALID };
    }
    if (newest > cur) {
        c[n++] = (struct slot_candidate) { newest, SYN_COOKIE_VALID };
    }
    if (cur >= 2) {
        c[n++] = (struct slot_candidate) { cur - 2, SYN_COOKIE_TOO_OLD };
    }
    c[n++] = (struct slot_candidate) { newest + 1, SYN_COOKIE_TOO_NEW };
    return n;
}

/* Checks whether 'isn' (the ACK's acknowledgment number minus 1) is a SYN
 * cookie made by syn_cookie_make() with 'key' for flow 'cp' and client ISN
 * 'client_isn' (the ACK's sequence number minus 1) in a slot accepted at
 * time 'now_s' (seconds, the clock syn_cookie_make() was given on the
 * issuing node; see syn-cookie.h for the slots accepted).  'tsecr' points
 * to the ACK's TSecr, or is NULL if the ACK carried no timestamps.
 *
 * Returns SYN_COOKIE_VALID if valid, storing the options of the handshake
 * in '*decoded' (as syn_cookie_make() granted them).  Otherwise the caller
 * should drop the ACK, and the result says why: SYN_COOKIE_TOO_OLD or
 * SYN_COOKIE_TOO_NEW for a cookie of the slot just before or just after
 * the accepted ones (an ACK that took too long, or clocks further apart
 * than SYN_COOKIE_MAX_SKEW_S), SYN_COOKIE_INVALID for anything else
 * (including an OpenSSL failure). */
enum syn_cookie_verdict
syn_cookie_check(struct syn_cookie_key *key, const struct flow_key *cp,
                 uint32_t client_isn, uint32_t isn, uint64_t now_s,
                 const uint32_t *tsecr, struct syn_cookie_opts *decoded)
{
    unsigned int index = isn & MSS_MASK;
    unsigned int ts_bits = tsecr ? *tsecr & TS_MASK : 0;
    struct slot_candidate c[MAX_CANDIDATES];
    size_t n = slot_candidates(now_s, c);

    for (size_t i = 0; i < n; i++) {
        uint32_t mac;

        if (!cookie_mac(key, cp, client_isn, c[i].slot, index,
                        tsecr != NULL, ts_bits, &mac)
            || mac != (isn & ~MSS_MASK)) {
            continue;
        }
        if (c[i].verdict == SYN_COOKIE_TOO_OLD) {
            COVERAGE_INC(syn_cookie_too_old);
            return c[i].verdict;
        } else if (c[i].verdict == SYN_COOKIE_TOO_NEW) {
            COVERAGE_INC(syn_cookie_too_new);
            return c[i].verdict;
        }

        /* The MAC covers the option bits: they are what we sent. */
        unsigned int wscale = ts_bits & TS_OPT_WSCALE_MASK;
        *decoded = (struct syn_cookie_opts) {
            .mss = syn_cookie_mss_table[index],
            .wscale_ok = tsecr && wscale != TS_OPT_WSCALE_MASK,
            .wscale = wscale != TS_OPT_WSCALE_MASK ? wscale : 0,
            .sack_ok = (ts_bits & TS_OPT_SACK) != 0,
            .ecn_ok = (ts_bits & TS_OPT_ECN) != 0,
            .tstamp_ok = tsecr != NULL,
        };
        COVERAGE_INC(syn_cookie_valid);
        return SYN_COOKIE_VALID;
    }
    COVERAGE_INC(syn_cookie_invalid);
    return SYN_COOKIE_INVALID;
}

/* Initializes 't' with the defaults: 80 % of the SYN table's bound, as in
 * PROTOCOL.md, and 20,000 SYNs per second, below the 50,000 of an LB node's
 * SYN meter (cluster_settings_check()). */
void
syn_cookie_thresholds_init(struct syn_cookie_thresholds *t)
{
    t->table_pct = SYN_COOKIE_TABLE_PCT_DEFAULT;
    t->syn_rate = SYN_COOKIE_SYN_RATE_DEFAULT;
}

/* Returns true if the PFT should answer SYNs with cookies: its SYN table
 * holds 'table_entries' of at most 'table_bound', which is full or above
 * 't->table_pct' percent (at most 100) of the bound, or SYNs arrive at
 * 'syn_rate_per_s', above 't->syn_rate'.  If 't' is NULL, the defaults
 * apply. */
bool
syn_cookie_pressure(uint64_t table_entries, uint64_t table_bound,
                    uint64_t syn_rate_per_s,
                    const struct syn_cookie_thresholds *t)
{
    struct syn_cookie_thresholds defaults;

    if (!t) {
        syn_cookie_thresholds_init(&defaults);
        t = &defaults;
    }

    /* floor(table_bound * pct / 100), without overflow. */
    unsigned int pct = MIN(t->table_pct, 100);
    uint64_t limit = (table_bound / 100 * pct
                      + table_bound % 100 * pct / 100);

    return (table_entries >= table_bound
            || table_entries > limit
            || syn_rate_per_s > t->syn_rate);
}
