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
#include <check.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "flow-key.h"
#include "syn-cookie.h"
#include "util.h"

static const uint8_t secret[32] = {
    0x4f, 0x76, 0x73, 0x6c, 0x62, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x6b,
    0x65, 0x79, 0x21, 0x00, 0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
};

/* A time well inside a slot, far from the epoch. */
#define NOW (UINT64_C(1700000000) / SYN_COOKIE_SLOT_S * SYN_COOKIE_SLOT_S + 5)

static uint64_t
test_random(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Whether syn_cookie_check() finds 'isn' valid. */
static bool
cookie_valid(struct syn_cookie_key *key, const struct flow_key *cp,
             uint32_t client_isn, uint32_t isn, uint64_t now_s,
             const uint32_t *tsecr, struct syn_cookie_opts *decoded)
{
    return syn_cookie_check(key, cp, client_isn, isn, now_s, tsecr,
                            decoded) == SYN_COOKIE_VALID;
}

static struct flow_key
make_cp(void)
{
    struct flow_key cp;

    memset(&cp, 0, sizeof cp);
    cp.client.s6_addr[10] = cp.client.s6_addr[11] = 0xff;
    cp.client.s6_addr[12] = 203;
    cp.client.s6_addr[15] = 9;
    cp.vip.s6_addr[10] = cp.vip.s6_addr[11] = 0xff;
    cp.vip.s6_addr[12] = 198;
    cp.vip.s6_addr[13] = 51;
    cp.vip.s6_addr[14] = 100;
    cp.vip.s6_addr[15] = 1;
    cp.client_port = htons(51234);
    cp.vip_port = htons(443);
    cp.proto = IPPROTO_TCP;
    return cp;
}

static struct syn_cookie_key *
make_key(void)
{
    struct syn_cookie_key *key = syn_cookie_key_create(secret, sizeof secret);

    ck_assert(key);
    return key;
}

static struct syn_cookie_opts
all_options(void)
{
    return (struct syn_cookie_opts) {
        .mss = 1460, .wscale_ok = true, .wscale = 7, .sack_ok = true,
        .ecn_ok = true, .tstamp_ok = true,
    };
}

static bool
opts_equal(const struct syn_cookie_opts *a, const struct syn_cookie_opts *b)
{
    return (a->mss == b->mss && a->wscale_ok == b->wscale_ok
            && a->wscale == b->wscale && a->sack_ok == b->sack_ok
            && a->ecn_ok == b->ecn_ok && a->tstamp_ok == b->tstamp_ok);
}

START_TEST(test_key_bounds)
{
    uint8_t big[SYN_COOKIE_MAX_KEY_LEN + 1];

    memset(big, 0x5a, sizeof big);
    ck_assert(!syn_cookie_key_create(big, SYN_COOKIE_MIN_KEY_LEN - 1));
    ck_assert(!syn_cookie_key_create(big, 0));
    ck_assert(!syn_cookie_key_create(big, sizeof big));

    struct syn_cookie_key *a = syn_cookie_key_create(big,
                                                     SYN_COOKIE_MIN_KEY_LEN);
    struct syn_cookie_key *b = syn_cookie_key_create(big,
                                                     SYN_COOKIE_MAX_KEY_LEN);
    ck_assert(a && b);
    syn_cookie_key_destroy(a);
    syn_cookie_key_destroy(b);
    syn_cookie_key_destroy(NULL);
}
END_TEST

START_TEST(test_mss_rounding)
{
    static const struct {
        uint16_t offered;
        uint16_t granted;
    } cases[] = {
        { 0, 536 }, { 100, 536 }, { 535, 536 }, { 536, 536 },
        { 1219, 536 }, { 1220, 1220 }, { 1279, 1220 }, { 1280, 1280 },
        { 1380, 1360 }, { 1410, 1400 }, { 1440, 1440 }, { 1459, 1440 },
        { 1460, 1460 }, { 1500, 1460 }, { 8959, 1460 }, { 8960, 8960 },
        { 9000, 8960 }, { 65535, 8960 },
    };
    struct syn_cookie_key *key = make_key();
    struct flow_key cp = make_cp();

    for (size_t i = 1; i < SYN_COOKIE_N_MSS; i++) {
        ck_assert_uint_lt(syn_cookie_mss_table[i - 1],
                          syn_cookie_mss_table[i]);
    }
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct syn_cookie_opts offered = { .mss = cases[i].offered };
        struct syn_cookie_opts granted, decoded;
        uint32_t isn, tsval;

        ck_assert_int_eq(syn_cookie_make(key, &cp, 1000, NOW, 0, &offered,
                                         &isn, &tsval, &granted), 0);
        ck_assert_uint_eq(granted.mss, cases[i].granted);
        ck_assert(cookie_valid(key, &cp, 1000, isn, NOW, NULL,
                               &decoded));
        ck_assert_uint_eq(decoded.mss, cases[i].granted);
    }
    syn_cookie_key_destroy(key);
}
END_TEST

/* Every MSS of the table with every combination of options. */
START_TEST(test_round_trip)
{
    static const int wscales[] = { -1, 0, 1, 7, 14, 15, 255 };
    static const uint32_t clocks[] = { 0, 5, 63, 64, 1000000, UINT32_MAX };
    struct syn_cookie_key *key = make_key();
    struct flow_key cp = make_cp();
    uint64_t state = 1;
    int n_checked = 0, errors = 0;

    for (size_t m = 0; m < SYN_COOKIE_N_MSS; m++)
    for (size_t w = 0; w < ARRAY_SIZE(wscales); w++)
    for (int flags = 0; flags < 8; flags++) {
        struct syn_cookie_opts offered = {
            .mss = syn_cookie_mss_table[m] + (m % 2) * 7,
            .wscale_ok = wscales[w] >= 0,
            .wscale = wscales[w] >= 0 ? wscales[w] : 0,
            .sack_ok = flags & 1,
            .ecn_ok = (flags & 2) != 0,
            .tstamp_ok = (flags & 4) != 0,
        };
        uint32_t client_isn = test_random(&state);
        uint32_t ts_clock = clocks[n_checked % ARRAY_SIZE(clocks)];
        uint64_t now = NOW + n_checked % 50;
        struct syn_cookie_opts granted, decoded;
        uint32_t isn, tsval;

        errors += syn_cookie_make(key, &cp, client_isn, now, ts_clock,
                                  &offered, &isn, &tsval, &granted) != 0;

        /* What the SYN/ACK may grant. */
        errors += granted.mss != syn_cookie_mss_table[m];
        errors += granted.tstamp_ok != offered.tstamp_ok;
        if (offered.tstamp_ok) {
            errors += granted.wscale_ok != offered.wscale_ok;
            errors += offered.wscale_ok
                      && granted.wscale != MIN(offered.wscale, 14);
            errors += granted.sack_ok != offered.sack_ok;
            errors += granted.ecn_ok != offered.ecn_ok;
            /* TSval: the clock's, at most 63 ticks behind, low bits
             * replaced. */
            errors += (uint32_t) (ts_clock - tsval) >= 64;
        } else {
            errors += granted.wscale_ok || granted.sack_ok || granted.ecn_ok;
            errors += tsval != ts_clock;
        }

        /* The ACK gives them back, at once or one slot later. */
        uint32_t tsecr = tsval;
        const uint32_t *tsecrp = offered.tstamp_ok ? &tsecr : NULL;
        errors += !cookie_valid(key, &cp, client_isn, isn, now, tsecrp,
                                &decoded);
        errors += !opts_equal(&decoded, &granted);
        memset(&decoded, 0, sizeof decoded);
        errors += !cookie_valid(key, &cp, client_isn, isn,
                                now + SYN_COOKIE_SLOT_S, tsecrp,
                                &decoded);
        errors += !opts_equal(&decoded, &granted);
        n_checked++;
    }
    ck_assert_int_eq(n_checked, SYN_COOKIE_N_MSS * ARRAY_SIZE(wscales) * 8);
    ck_assert_int_eq(errors, 0);
    syn_cookie_key_destroy(key);
}
END_TEST

START_TEST(test_tsval_bits)
{
    struct syn_cookie_key *key = make_key();
    struct flow_key cp = make_cp();
    struct syn_cookie_opts offered = all_options(), granted;
    uint32_t isn, tsval;

    /* Linux's layout: wscale in bits 0-3 (15: none), SACK bit 4, ECN
     * bit 5. */
    ck_assert(!syn_cookie_make(key, &cp, 1, NOW, 0x12345678, &offered,
                               &isn, &tsval, &granted));
    ck_assert_uint_eq(tsval, 0x12345640 | 7 | 16 | 32);
    offered.wscale_ok = false;
    offered.ecn_ok = false;
    ck_assert(!syn_cookie_make(key, &cp, 1, NOW, 0x12345678, &offered,
                               &isn, &tsval, &granted));
    ck_assert_uint_eq(tsval, 0x12345640 | 15 | 16);
    /* Would be ahead of the clock: one period back. */
    ck_assert(!syn_cookie_make(key, &cp, 1, NOW, 0x12345641, &offered,
                               &isn, &tsval, &granted));
    ck_assert_uint_eq(tsval, 0x12345600 | 15 | 16);
    syn_cookie_key_destroy(key);
}
END_TEST

START_TEST(test_rejects)
{
    struct syn_cookie_key *key = make_key();
    struct flow_key cp = make_cp();
    struct syn_cookie_opts offered = all_options(), granted, decoded;
    const uint32_t client_isn = 0xfffffff0;
    uint32_t isn, tsval, tsecr;

    ck_assert(!syn_cookie_make(key, &cp, client_isn, NOW, 777777, &offered,
                               &isn, &tsval, &granted));
    tsecr = tsval;
    ck_assert(cookie_valid(key, &cp, client_isn, isn, NOW, &tsecr,
                           &decoded));

    /* Another CP, field by field. */
    struct flow_key other = cp;
    other.client_port = htons(51235);
    ck_assert(!cookie_valid(key, &other, client_isn, isn, NOW, &tsecr,
                            &decoded));
    other = cp;
    other.client.s6_addr[15] ^= 1;
    ck_assert(!cookie_valid(key, &other, client_isn, isn, NOW, &tsecr,
                            &decoded));
    other = cp;
    other.vip.s6_addr[15] ^= 1;
    ck_assert(!cookie_valid(key, &other, client_isn, isn, NOW, &tsecr,
                            &decoded));
    other = cp;
    other.vip_port = htons(444);
    ck_assert(!cookie_valid(key, &other, client_isn, isn, NOW, &tsecr,
                            &decoded));
    other = cp;
    other.proto = IPPROTO_UDP;
    ck_assert(!cookie_valid(key, &other, client_isn, isn, NOW, &tsecr,
                            &decoded));
    /* (The padding is not part of the CP.) */
    other = cp;
    other.pad[1] = 0xff;
    ck_assert(cookie_valid(key, &other, client_isn, isn, NOW, &tsecr,
                           &decoded));

    /* Another client ISN. */
    ck_assert(!cookie_valid(key, &cp, client_isn + 1, isn, NOW, &tsecr,
                            &decoded));
    ck_assert(!cookie_valid(key, &cp, client_isn - 1, isn, NOW, &tsecr,
                            &decoded));

    /* Another key, even one that differs in its last byte. */
    uint8_t secret2[sizeof secret];
    memcpy(secret2, secret, sizeof secret);
    secret2[sizeof secret2 - 1] ^= 1;
    struct syn_cookie_key *key2 = syn_cookie_key_create(secret2,
                                                        sizeof secret2);
    ck_assert(!cookie_valid(key2, &cp, client_isn, isn, NOW, &tsecr,
                            &decoded));
    syn_cookie_key_destroy(key2);

    /* But the same secret in another key object (another node) works. */
    key2 = syn_cookie_key_create(secret, sizeof secret);
    ck_assert(cookie_valid(key2, &cp, client_isn, isn, NOW, &tsecr,
                           &decoded));
    syn_cookie_key_destroy(key2);

    /* ack - 1 off by one, or with any single bit flipped (the MSS index
     * bits included). */
    ck_assert(!cookie_valid(key, &cp, client_isn, isn + 1, NOW, &tsecr,
                            &decoded));
    ck_assert(!cookie_valid(key, &cp, client_isn, isn - 1, NOW, &tsecr,
                            &decoded));
    for (int bit = 0; bit < 32; bit++) {
        ck_assert_msg(!cookie_valid(key, &cp, client_isn,
                                    isn ^ (1u << bit), NOW, &tsecr,
                                    &decoded), "bit %d", bit);
    }

    /* Tampered option bits, missing or unexpected timestamps. */
    for (int bit = 0; bit < SYN_COOKIE_TS_BITS; bit++) {
        uint32_t bad = tsecr ^ (1u << bit);

        ck_assert(!cookie_valid(key, &cp, client_isn, isn, NOW, &bad,
                                &decoded));
    }
    ck_assert(!cookie_valid(key, &cp, client_isn, isn, NOW, NULL,
                            &decoded));
    /* The upper bits of TSecr are not ours. */
    uint32_t upper = tsecr ^ 0x80000000;
    ck_assert(cookie_valid(key, &cp, client_isn, isn, NOW, &upper,
                           &decoded));

    offered.tstamp_ok = false;
    ck_assert(!syn_cookie_make(key, &cp, client_isn, NOW, 777777, &offered,
                               &isn, &tsval, &granted));
    ck_assert(cookie_valid(key, &cp, client_isn, isn, NOW, NULL,
                           &decoded));
    ck_assert(!cookie_valid(key, &cp, client_isn, isn, NOW, &tsecr,
                            &decoded));
    syn_cookie_key_destroy(key);
}
END_TEST

START_TEST(test_slots)
{
    struct syn_cookie_key *key = make_key();
    struct flow_key cp = make_cp();
    struct syn_cookie_opts offered = { .mss = 1400 }, granted, decoded;
    const uint64_t slot_start = NOW - NOW % SYN_COOKIE_SLOT_S;
    uint32_t isn, isn2, tsval;

    /* Made at the start of a slot: valid until the end of the next one. */
    ck_assert(!syn_cookie_make(key, &cp, 5, slot_start, 0, &offered, &isn,
                               &tsval, &granted));
    ck_assert(cookie_valid(key, &cp, 5, isn, slot_start, NULL,
                           &decoded));
    ck_assert(cookie_valid(key, &cp, 5, isn,
                           slot_start + 2 * SYN_COOKIE_SLOT_S - 1, NULL,
                           &decoded));
    /* Two slots later: too old. */
    ck_assert(!cookie_valid(key, &cp, 5, isn,
                            slot_start + 2 * SYN_COOKIE_SLOT_S, NULL,
                            &decoded));
    ck_assert(!cookie_valid(key, &cp, 5, isn,
                            slot_start + 100 * SYN_COOKIE_SLOT_S, NULL,
                            &decoded));
    /* From the future, beyond the tolerated skew: rejected. */
    ck_assert(!cookie_valid(key, &cp, 5, isn,
                            slot_start - SYN_COOKIE_MAX_SKEW_S - 1, NULL,
                            &decoded));

    /* Made in the last second of a slot, checked in the first of the
     * next: across the boundary. */
    ck_assert(!syn_cookie_make(key, &cp, 5, slot_start - 1, 0, &offered,
                               &isn2, &tsval, &granted));
    ck_assert_uint_ne(isn, isn2);
    ck_assert(cookie_valid(key, &cp, 5, isn2, slot_start, NULL,
                           &decoded));
    ck_assert(cookie_valid(key, &cp, 5, isn2, slot_start - 1, NULL,
                           &decoded));

    /* Near the epoch, there is no previous slot. */
    ck_assert(!syn_cookie_make(key, &cp, 5, 0, 0, &offered, &isn, &tsval,
                               &granted));
    ck_assert(cookie_valid(key, &cp, 5, isn, 0, NULL, &decoded));
    ck_assert(cookie_valid(key, &cp, 5, isn, 2 * SYN_COOKIE_SLOT_S - 1,
                           NULL, &decoded));
    ck_assert(!cookie_valid(key, &cp, 5, isn, 2 * SYN_COOKIE_SLOT_S,
                            NULL, &decoded));
    syn_cookie_key_destroy(key);
}
END_TEST

/* The cookie is HMAC-SHA-256 over the layout documented in syn-cookie.c,
 * computed here independently with OpenSSL's one-shot HMAC(): every node
 * must agree on it. */
/* The verdict on a cookie made at 'made' (issuer's clock, seconds) and
 * checked at 'checked' (checker's clock). */
static enum syn_cookie_verdict
verdict_at(struct syn_cookie_key *key, uint64_t made, uint64_t checked)
{
    struct syn_cookie_opts offered = { .mss = 1400 }, granted, decoded;
    struct flow_key cp = make_cp();
    uint32_t isn, tsval;

    ck_assert(!syn_cookie_make(key, &cp, 77, made, 0, &offered, &isn,
                               &tsval, &granted));
    return syn_cookie_check(key, &cp, 77, isn, checked, NULL, &decoded);
}

START_TEST(test_skew)
{
    /* LB nodes whose wall clocks are up to SYN_COOKIE_MAX_SKEW_S apart:
     * the node that checks a cookie is not always the one that made it
     * (issue 18). */
    struct syn_cookie_key *key = make_key();
    const uint64_t b = NOW - NOW % SYN_COOKIE_SLOT_S;   /* A boundary. */
    const uint64_t skew = SYN_COOKIE_MAX_SKEW_S;
    const uint64_t slot = SYN_COOKIE_SLOT_S;

    ck_assert_uint_ge(skew, 3);
    ck_assert_uint_lt(skew, slot);

    /* The issuer ahead, already in the next slot: a checker up to the
     * tolerance behind accepts at once; one second more is too new. */
    ck_assert_int_eq(verdict_at(key, b, b - 1), SYN_COOKIE_VALID);
    ck_assert_int_eq(verdict_at(key, b, b - skew), SYN_COOKIE_VALID);
    ck_assert_int_eq(verdict_at(key, b + skew - 1, b - 1), SYN_COOKIE_VALID);
    ck_assert_int_eq(verdict_at(key, b, b - skew - 1), SYN_COOKIE_TOO_NEW);
    ck_assert_int_eq(verdict_at(key, b, b - slot + 1), SYN_COOKIE_TOO_NEW);
    /* Two slots ahead: not told apart from a forgery. */
    ck_assert_int_eq(verdict_at(key, b + slot, b - 1), SYN_COOKIE_TOO_NEW);
    ck_assert_int_eq(verdict_at(key, b + slot, b - skew - 1),
                     SYN_COOKIE_INVALID);
    ck_assert_int_eq(verdict_at(key, b + 2 * slot, b - 1),
                     SYN_COOKIE_INVALID);

    /* The issuer behind, still in the previous slot: the checker ahead
     * takes it as the previous slot's. */
    ck_assert_int_eq(verdict_at(key, b - 1, b - 1 + skew), SYN_COOKIE_VALID);
    ck_assert_int_eq(verdict_at(key, b - skew, b), SYN_COOKIE_VALID);

    /* The end of a cookie's life: the end of the slot after its own; then
     * too old for one slot, then invalid. */
    ck_assert_int_eq(verdict_at(key, b, b + 2 * slot - 1), SYN_COOKIE_VALID);
    ck_assert_int_eq(verdict_at(key, b, b + 2 * slot), SYN_COOKIE_TOO_OLD);
    ck_assert_int_eq(verdict_at(key, b, b + 3 * slot - 1),
                     SYN_COOKIE_TOO_OLD);
    ck_assert_int_eq(verdict_at(key, b, b + 3 * slot), SYN_COOKIE_INVALID);

    /* The documented guarantee: whenever it is made, a cookie checked up to
     * SLOT - MAX_SKEW seconds later by a node whose clock is up to MAX_SKEW
     * ahead or behind is valid... */
    for (uint64_t made = b - slot; made < b + slot; made++) {
        for (uint64_t delay = 0; delay <= slot - skew;
             delay += slot - skew) {
            for (int64_t off = -(int64_t) skew; off <= (int64_t) skew;
                 off++) {
                ck_assert_msg(verdict_at(key, made, made + delay + off)
                              == SYN_COOKIE_VALID,
                              "made %"PRIu64" checked %"PRIu64" later with "
                              "the checker %"PRId64" s off", made, delay,
                              off);
            }
        }
    }
    /* ...and it is tight: made in the last second of a slot, checked one
     * second later by a node fully ahead, it is too old. */
    ck_assert_int_eq(verdict_at(key, b - 1, b - 1 + slot - skew + 1 + skew),
                     SYN_COOKIE_TOO_OLD);

    /* Never accepted more than 2 * SLOT + MAX_SKEW s after it was made. */
    for (uint64_t made = b - slot; made < b + slot; made += 7) {
        for (int64_t off = -(int64_t) skew; off <= (int64_t) skew; off++) {
            uint64_t checked = made + 2 * slot + skew + 1 + off;

            ck_assert_int_ne(verdict_at(key, made, checked),
                             SYN_COOKIE_VALID);
        }
    }

    /* A made-up ISN is invalid, not too old or too new. */
    struct syn_cookie_opts decoded;
    struct flow_key cp = make_cp();
    int n_invalid = 0;

    for (uint32_t isn = 0; isn < 64; isn++) {
        n_invalid += syn_cookie_check(key, &cp, 77, isn * 0x9e3779b9u, b,
                                      NULL, &decoded) == SYN_COOKIE_INVALID;
    }
    ck_assert_int_eq(n_invalid, 64);
    syn_cookie_key_destroy(key);
}
END_TEST

START_TEST(test_documented_layout)
{
    struct syn_cookie_key *key = make_key();
    struct flow_key cp = make_cp();
    struct syn_cookie_opts offered = all_options(), granted;
    uint64_t state = 77;
    int errors = 0;

    for (int i = 0; i < 200; i++) {
        uint32_t client_isn = test_random(&state);
        uint64_t now = test_random(&state) >> 20;
        uint32_t isn, tsval;
        uint8_t msg[55], out[32];
        unsigned int out_len;

        offered.tstamp_ok = i % 2;
        offered.mss = 1300 + i;
        ck_assert(!syn_cookie_make(key, &cp, client_isn, now, 5000, &offered,
                                   &isn, &tsval, &granted));

        uint64_t slot = now / 64;
        memcpy(msg, &cp, 40);
        for (int b = 0; b < 4; b++) {
            msg[40 + b] = client_isn >> (24 - 8 * b);
        }
        for (int b = 0; b < 8; b++) {
            msg[44 + b] = slot >> (56 - 8 * b);
        }
        msg[52] = isn & 7;
        msg[53] = offered.tstamp_ok;
        msg[54] = offered.tstamp_ok ? (7 | 16 | 32) : 0;
        ck_assert(HMAC(EVP_sha256(), secret, sizeof secret, msg, sizeof msg,
                       out, &out_len));
        uint32_t mac = ((uint32_t) out[0] << 24) | (out[1] << 16)
                       | (out[2] << 8) | out[3];
        errors += (isn & ~7u) != (mac & ~7u);
        errors += syn_cookie_mss_table[isn & 7] != granted.mss;
    }
    ck_assert_int_eq(errors, 0);
    syn_cookie_key_destroy(key);
}
END_TEST

static double
elapsed_s(const struct timespec *a, const struct timespec *b)
{
    return (b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

/* An attacker guessing acks: 29 bits of MAC, 2 slots accepted (3 in the
 * last SYN_COOKIE_MAX_SKEW_S seconds of a slot, not at NOW), so each
 * guess succeeds with probability 2**-28 and 1M guesses find a cookie with
 * probability 0.4 %. */
START_TEST(test_brute_force)
{
    enum { N_TRIES = 1000000 };
    struct syn_cookie_key *key = make_key();
    struct flow_key cp = make_cp();
    struct syn_cookie_opts offered = all_options(), granted, decoded;
    uint64_t state = 0xdeadbeef;
    uint32_t isn, tsval;
    struct timespec start, end;
    int accepted = 0;

    ck_assert(!syn_cookie_make(key, &cp, 12345, NOW, 99999, &offered, &isn,
                               &tsval, &granted));
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < N_TRIES; i++) {
        uint64_t r = test_random(&state);
        uint32_t guess = r;
        uint32_t tsecr = (tsval & ~63u) | ((r >> 32) & 63);

        if (guess == isn) {
            continue;
        }
        accepted += cookie_valid(key, &cp, 12345, guess, NOW,
                                 i % 2 ? &tsecr : NULL, &decoded);
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    printf("syn-cookie: %d of %d random acks accepted (expected %.4f); "
           "%.2f us per rejected check (4 HMACs)\n",
           accepted, N_TRIES, N_TRIES / 268435456.0,
           elapsed_s(&start, &end) * 1e6 / N_TRIES);
    ck_assert_int_eq(accepted, 0);

    /* The real one still passes. */
    ck_assert(cookie_valid(key, &cp, 12345, isn, NOW, &tsval, &decoded));
    syn_cookie_key_destroy(key);
}
END_TEST

START_TEST(test_pressure)
{
    struct syn_cookie_thresholds t;

    syn_cookie_thresholds_init(&t);
    ck_assert_uint_eq(t.table_pct, 80);
    ck_assert_uint_eq(t.syn_rate, 10000);

    /* 80 % of 1 M entries; 10 k SYN/s. */
    ck_assert(!syn_cookie_pressure(0, 1000000, 0, &t));
    ck_assert(!syn_cookie_pressure(800000, 1000000, 10000, &t));
    ck_assert(syn_cookie_pressure(800001, 1000000, 0, &t));
    ck_assert(syn_cookie_pressure(0, 1000000, 10001, &t));
    ck_assert(syn_cookie_pressure(1000000, 1000000, 0, &t));
    ck_assert(syn_cookie_pressure(2000000, 1000000, 0, &t));

    /* NULL means the defaults. */
    ck_assert(!syn_cookie_pressure(800000, 1000000, 10000, NULL));
    ck_assert(syn_cookie_pressure(800001, 1000000, 0, NULL));
    ck_assert(syn_cookie_pressure(0, 1000000, 10001, NULL));

    /* Rounding: 80 % of 7 is 5.6. */
    ck_assert(!syn_cookie_pressure(5, 7, 0, &t));
    ck_assert(syn_cookie_pressure(6, 7, 0, &t));

    /* No room at all. */
    ck_assert(syn_cookie_pressure(0, 0, 0, &t));

    /* No overflow with huge bounds: 80 % of 2**64 - 1 is exactly
     * 14757395258967641292. */
    ck_assert(!syn_cookie_pressure(UINT64_C(14757395258967641292),
                                   UINT64_MAX, 0, &t));
    ck_assert(syn_cookie_pressure(UINT64_C(14757395258967641293),
                                  UINT64_MAX, 0, &t));

    /* Other thresholds; a percentage above 100 means "when full". */
    t.table_pct = 50;
    t.syn_rate = 10;
    ck_assert(!syn_cookie_pressure(5, 10, 10, &t));
    ck_assert(syn_cookie_pressure(6, 10, 0, &t));
    ck_assert(syn_cookie_pressure(0, 10, 11, &t));
    t.table_pct = 250;
    ck_assert(!syn_cookie_pressure(9, 10, 0, &t));
    ck_assert(syn_cookie_pressure(10, 10, 0, &t));
    t.table_pct = 0;
    ck_assert(!syn_cookie_pressure(0, 10, 0, &t));
    ck_assert(syn_cookie_pressure(1, 10, 0, &t));
}
END_TEST

static Suite *
syn_cookie_suite(void)
{
    Suite *s = suite_create("syn-cookie");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_key_bounds);
    tcase_add_test(tc, test_mss_rounding);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_tsval_bits);
    tcase_add_test(tc, test_rejects);
    tcase_add_test(tc, test_slots);
    tcase_add_test(tc, test_skew);
    tcase_add_test(tc, test_documented_layout);
    tcase_add_test(tc, test_brute_force);
    tcase_add_test(tc, test_pressure);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(syn_cookie_suite());
    int n_failed;

    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
