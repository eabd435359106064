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
 * Unit tests of lib/tcp-seg: the option parser and writer, the builders of
 * the SYN/ACK, RST and fabricated SYN of PROTOCOL.md §2, the frame parser and
 * checksum verification.
 *
 * Buffers given to parsers are allocated with their exact length, so that
 * ASan reports any read past their end.
 */
#include <config.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "csum.h"
#include "dp-packet.h"
#include "flow-key.h"
#include "packets.h"
#include "random.h"
#include "tcp-seg.h"
#include "util.h"

static const struct eth_addr mac_a = ETH_ADDR_C(02, 00, 00, 00, 00, 0a);
static const struct eth_addr mac_b = ETH_ADDR_C(02, 00, 00, 00, 00, 0b);

/* Client 198.51.100.7:40000, VIP 203.0.113.10:80 (or their IPv6 twins). */
static struct tcp_seg_endpoints
endpoints(bool ipv6, bool from_vip)
{
    struct tcp_seg_endpoints ep;
    struct in6_addr client, vip;

    if (ipv6) {
        ovs_assert(inet_pton(AF_INET6, "2001:db8::7", &client) == 1);
        ovs_assert(inet_pton(AF_INET6, "2001:db8:1::10", &vip) == 1);
    } else {
        client = in6_addr_mapped_ipv4(htonl(0xc6336407));
        vip = in6_addr_mapped_ipv4(htonl(0xcb00710a));
    }
    ep.eth_src = mac_a;
    ep.eth_dst = mac_b;
    ep.ip_src = from_vip ? vip : client;
    ep.ip_dst = from_vip ? client : vip;
    ep.tp_src = htons(from_vip ? 80 : 40000);
    ep.tp_dst = htons(from_vip ? 40000 : 80);
    return ep;
}

/* Returns a malloc'd copy of the 'len' bytes at 'p' (exactly 'len' bytes, so
 * that ASan catches reads past them). */
static uint8_t *
exact_copy(const void *p, size_t len)
{
    uint8_t *copy = xmalloc(len ? len : 1);
    memcpy(copy, p, len);
    return copy;
}

/* Checks both checksums of the IP packet at 'ip' by recomputing them from
 * scratch, independently of tcp_seg_verify_csum(), and that the latter
 * agrees. */
static void
check_csums(const uint8_t *ip, size_t len)
{
    uint8_t *copy = exact_copy(ip, len);
    size_t l4, tcp_len;
    uint32_t partial;

    if ((ip[0] >> 4) == 4) {
        l4 = (ip[0] & 15) * 4;
        tcp_len = ((ip[2] << 8) | ip[3]) - l4;
        copy[10] = copy[11] = 0;
        ck_assert_int_eq(csum(copy, l4), htons((ip[10] << 8) | ip[11]));
        partial = csum_continue(0, ip + 12, 8);
    } else {
        l4 = IPV6_HEADER_LEN;
        tcp_len = (ip[4] << 8) | ip[5];
        partial = csum_continue(0, ip + 8, 32);
    }
    ck_assert_uint_le(l4 + tcp_len, len);
    partial = csum_add16(partial, htons(IPPROTO_TCP));
    partial = csum_add16(partial, htons(tcp_len));
    copy[l4 + 16] = copy[l4 + 17] = 0;
    partial = csum_continue(partial, copy + l4, tcp_len);
    ck_assert_int_eq(csum_finish(partial),
                     htons((ip[l4 + 16] << 8) | ip[l4 + 17]));
    ck_assert(tcp_seg_verify_csum(ip, len));
    free(copy);
}

/* Lists in 'kinds' the kinds of the options (other than NOP and EOL) of the
 * TCP header at 'tcp', in order, and returns how many there are.  Assumes a
 * well-formed list. */
static size_t
list_kinds(const uint8_t *tcp, uint8_t kinds[40])
{
    size_t hdr_len = (tcp[12] >> 4) * 4;
    size_t n = 0;

    for (size_t i = TCP_HEADER_LEN; i < hdr_len; ) {
        if (tcp[i] == 0) {
            break;
        } else if (tcp[i] == 1) {
            i++;
        } else {
            kinds[n++] = tcp[i];
            i += tcp[i + 1];
        }
    }
    return n;
}

/* Parses the frame in 'b' (through an exact-length copy) into 'info' and
 * checks what every segment built here has in common: Ethernet addresses,
 * TTL/hop limit 64, IPv4 DF and identification 'ip_id', the addresses and
 * ports of 'ep', whole checksums, and L3/L4 offsets set in 'b'. */
static void
parse_built(const struct dp_packet *b, const struct tcp_seg_endpoints *ep,
            uint16_t ip_id, struct tcp_seg_info *info)
{
    size_t len = dp_packet_size(b);
    uint8_t *frame = exact_copy(dp_packet_data(b), len);
    const struct eth_header *eth = (const struct eth_header *) frame;

    ck_assert_int_eq(tcp_seg_parse_frame(frame, len, info), 0);
    ck_assert(eth_addr_equals(eth->eth_src, ep->eth_src));
    ck_assert(eth_addr_equals(eth->eth_dst, ep->eth_dst));
    ck_assert_uint_eq(info->l3_ofs, ETH_HEADER_LEN);
    ck_assert_ptr_eq(dp_packet_l3(b),
                     (char *) dp_packet_data(b) + info->l3_ofs);
    ck_assert_ptr_eq(dp_packet_l4(b),
                     (char *) dp_packet_data(b) + info->l4_ofs);
    ck_assert_uint_eq(info->l3_ofs + info->ip_len, len);

    const uint8_t *ip = frame + info->l3_ofs;
    if (IN6_IS_ADDR_V4MAPPED(&ep->ip_src)) {
        ck_assert_uint_eq(info->ip_version, 4);
        ck_assert_uint_eq(ip[0], 0x45);
        ck_assert_uint_eq(ip[8], 64);
        ck_assert_uint_eq((ip[6] << 8) | ip[7], IP_DONT_FRAGMENT);
        ck_assert_uint_eq((ip[4] << 8) | ip[5], ip_id);
    } else {
        ck_assert_uint_eq(info->ip_version, 6);
        ck_assert_uint_eq(ip[7], 64);
    }
    ck_assert(ipv6_addr_equals(&info->ip_src, &ep->ip_src));
    ck_assert(ipv6_addr_equals(&info->ip_dst, &ep->ip_dst));
    ck_assert_uint_eq(info->tp_src, ep->tp_src);
    ck_assert_uint_eq(info->tp_dst, ep->tp_dst);
    ck_assert_uint_eq((info->l4_ofs - info->l3_ofs) % 4, 0);
    check_csums(ip, info->ip_len);
    free(frame);
}

enum {
    OFFER_MSS = 1 << 0,
    OFFER_WS = 1 << 1,
    OFFER_SACK = 1 << 2,
    OFFER_TS = 1 << 3,
};

static struct tcp_opts
client_opts(unsigned int offer, uint16_t mss)
{
    struct tcp_opts o;

    memset(&o, 0, sizeof o);
    o.has_mss = offer & OFFER_MSS;
    o.mss = o.has_mss ? mss : 0;
    o.has_wscale = offer & OFFER_WS;
    o.wscale = o.has_wscale ? 9 : 0;
    o.sack_permitted = offer & OFFER_SACK;
    o.has_ts = offer & OFFER_TS;
    o.tsval = o.has_ts ? 0xfedcba98 : 0;
    o.tsecr = 0;
    return o;
}

/* Every combination of client options (none, MSS only, WS, SACK, TS, all and
 * the rest) gives a SYN/ACK with exactly the options of PROTOCOL.md §2. */
START_TEST(test_synack_options)
{
    static const uint16_t client_msses[] = { 1460, 1200, 9000 };
    const uint16_t vip_mss = 1400;

    for (int v6 = 0; v6 < 2; v6++) {
        struct tcp_seg_endpoints ep = endpoints(v6, true);
        for (unsigned int offer = 0; offer < 16; offer++) {
            for (size_t m = 0; m < ARRAY_SIZE(client_msses); m++) {
                struct tcp_opts client = client_opts(offer, client_msses[m]);
                struct dp_packet *b = dp_packet_new(0);
                struct tcp_seg_info info;
                uint8_t kinds[40];
                size_t n = 0;

                ck_assert_int_eq(tcp_seg_build_synack(b, &ep, &client,
                                                      0x11223344, 0xfffffffe,
                                                      29200, vip_mss, 7,
                                                      0x0badcafe, 4242), 0);
                parse_built(b, &ep, 4242, &info);
                ck_assert_uint_eq(info.flags, TCP_SYN | TCP_ACK);
                ck_assert_uint_eq(info.seq, 0x11223344);
                ck_assert_uint_eq(info.ack, 0xffffffff);
                ck_assert_uint_eq(info.window, 29200);
                ck_assert_uint_eq(info.payload_len, 0);

                uint16_t expected_mss
                    = MIN(offer & OFFER_MSS ? client_msses[m]
                          : v6 ? 1220 : 536, vip_mss);
                const struct tcp_opts *o = &info.opts;
                ck_assert(o->has_mss);
                ck_assert_uint_eq(o->mss, expected_mss);
                kinds[n++] = 2;
                ck_assert_int_eq(o->has_wscale, !!(offer & OFFER_WS));
                if (offer & OFFER_WS) {
                    ck_assert_uint_eq(o->wscale, 7);
                }
                ck_assert_int_eq(o->sack_permitted, !!(offer & OFFER_SACK));
                if (offer & OFFER_SACK) {
                    kinds[n++] = 4;
                }
                ck_assert_int_eq(o->has_ts, !!(offer & OFFER_TS));
                if (offer & OFFER_TS) {
                    ck_assert_uint_eq(o->tsval, 0x0badcafe);
                    ck_assert_uint_eq(o->tsecr, 0xfedcba98);
                    kinds[n++] = 8;
                }
                if (offer & OFFER_WS) {
                    kinds[n++] = 3;
                }
                ck_assert_uint_eq(o->n_sack, 0);

                /* Exactly these options and nothing else, in this order. */
                uint8_t seen[40];
                const uint8_t *tcp = (const uint8_t *) dp_packet_data(b)
                                     + info.l4_ofs;
                ck_assert_uint_eq(list_kinds(tcp, seen), n);
                ck_assert_int_eq(memcmp(seen, kinds, n), 0);
                dp_packet_delete(b);
            }
        }
    }
}
END_TEST

/* The window scale given to the client is capped at 14 (RFC 7323). */
START_TEST(test_synack_wscale_cap)
{
    struct tcp_opts client = client_opts(OFFER_WS, 0), synack;

    tcp_opts_for_synack(&client, false, 1400, 20, 0, &synack);
    ck_assert(synack.has_wscale);
    ck_assert_uint_eq(synack.wscale, 14);
    tcp_opts_for_synack(&client, false, 1400, 0, 0, &synack);
    ck_assert(synack.has_wscale);
    ck_assert_uint_eq(synack.wscale, 0);
}
END_TEST

/* RST answering a segment with ACK: seq = its ack, no ACK. */
START_TEST(test_rst_answers_ack)
{
    struct tcp_seg_endpoints ep = endpoints(false, true);
    struct tcp_seg_info answered, info;
    struct dp_packet *b = dp_packet_new(0);

    memset(&answered, 0, sizeof answered);
    answered.seq = 1000;
    answered.ack = 0xdeadbeef;
    answered.flags = TCP_ACK | TCP_PSH;
    answered.payload_len = 100;
    ck_assert_int_eq(tcp_seg_build_rst(b, &ep, &answered, 7), 0);
    parse_built(b, &ep, 7, &info);
    ck_assert_uint_eq(info.flags, TCP_RST);
    ck_assert_uint_eq(info.seq, 0xdeadbeef);
    ck_assert_uint_eq(info.ack, 0);
    ck_assert_uint_eq(info.window, 0);
    ck_assert_uint_eq(info.l4_ofs + TCP_HEADER_LEN, info.payload_ofs);
    ck_assert_uint_eq(info.payload_len, 0);
    dp_packet_delete(b);
}
END_TEST

/* RST answering a segment without ACK: seq 0, ACK = seq + SEG.LEN, where
 * SYN and FIN count one each; modulo 2**32. */
START_TEST(test_rst_answers_no_ack)
{
    static const struct {
        uint32_t seq;
        uint16_t flags;
        size_t payload_len;
        uint32_t ack;
    } cases[] = {
        { 5000, TCP_SYN, 0, 5001 },
        { 0xffffffff, TCP_SYN, 0, 0 },
        { 100, TCP_FIN, 10, 111 },
        { 100, TCP_SYN | TCP_FIN, 10, 112 },
        { 0xfffffff0, TCP_PSH, 0x20, 0x10 },
        { 77, 0, 0, 77 },
    };

    for (int v6 = 0; v6 < 2; v6++) {
        struct tcp_seg_endpoints ep = endpoints(v6, true);
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
            struct tcp_seg_info answered, info;
            struct dp_packet *b = dp_packet_new(0);

            memset(&answered, 0, sizeof answered);
            answered.seq = cases[i].seq;
            answered.ack = 0x12345678;
            answered.flags = cases[i].flags;
            answered.payload_len = cases[i].payload_len;
            ck_assert_uint_eq(tcp_seg_len(&answered),
                              cases[i].ack - cases[i].seq);
            ck_assert_int_eq(tcp_seg_build_rst(b, &ep, &answered, 1), 0);
            parse_built(b, &ep, 1, &info);
            ck_assert_uint_eq(info.flags, TCP_RST | TCP_ACK);
            ck_assert_uint_eq(info.seq, 0);
            ck_assert_uint_eq(info.ack, cases[i].ack);
            dp_packet_delete(b);
        }
    }
}
END_TEST

/* A RST is never answered; the packet is left alone. */
START_TEST(test_rst_never_answers_rst)
{
    struct tcp_seg_endpoints ep = endpoints(false, true);
    struct tcp_seg_info answered;
    struct dp_packet *b = dp_packet_new(0);

    memset(&answered, 0, sizeof answered);
    dp_packet_put(b, "x", 1);
    answered.flags = TCP_RST;
    ck_assert_int_eq(tcp_seg_build_rst(b, &ep, &answered, 1),
                     TCP_SEG_E_RST_FOR_RST);
    answered.flags = TCP_RST | TCP_ACK;
    ck_assert_int_eq(tcp_seg_build_rst(b, &ep, &answered, 1),
                     TCP_SEG_E_RST_FOR_RST);
    ck_assert_uint_eq(dp_packet_size(b), 1);
    dp_packet_delete(b);
}
END_TEST

/* The agent's SYN: the client's address, ISN, window and options, with the
 * MSS clamped. */
START_TEST(test_syn_fabricated)
{
    static const struct {
        bool has_mss;
        uint16_t mss;
        uint16_t max_mss;
        bool want_mss;
        uint16_t want;
    } cases[] = {
        { true, 1460, 1400, true, 1400 },
        { true, 1200, 1400, true, 1200 },
        { true, 1400, 1400, true, 1400 },
        { false, 0, 1400, false, 0 },
        { false, 0, 500, true, 500 },
    };

    for (int v6 = 0; v6 < 2; v6++) {
        struct tcp_seg_endpoints ep = endpoints(v6, false);
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
            for (unsigned int offer = 0; offer < 16; offer += 2) {
                struct tcp_opts client = client_opts(offer, 0);
                struct dp_packet *b = dp_packet_new(0);
                struct tcp_seg_info info;

                client.has_mss = cases[i].has_mss;
                client.mss = cases[i].mss;
                client.tsecr = 3;
                ck_assert_int_eq(tcp_seg_build_syn(b, &ep, &client,
                                                   0xfffffff0, 64240,
                                                   cases[i].max_mss, 99), 0);
                parse_built(b, &ep, 99, &info);
                ck_assert_uint_eq(info.flags, TCP_SYN);
                ck_assert_uint_eq(info.seq, 0xfffffff0);
                ck_assert_uint_eq(info.ack, 0);
                ck_assert_uint_eq(info.window, 64240);

                const struct tcp_opts *o = &info.opts;
                ck_assert_int_eq(o->has_mss, cases[i].want_mss);
                ck_assert_uint_eq(o->mss, cases[i].want);
                ck_assert_int_eq(o->has_wscale, !!(offer & OFFER_WS));
                ck_assert_uint_eq(o->wscale, offer & OFFER_WS ? 9 : 0);
                ck_assert_int_eq(o->sack_permitted, !!(offer & OFFER_SACK));
                ck_assert_int_eq(o->has_ts, !!(offer & OFFER_TS));
                if (offer & OFFER_TS) {
                    ck_assert_uint_eq(o->tsval, 0xfedcba98);
                    ck_assert_uint_eq(o->tsecr, 3);
                }
                ck_assert_uint_eq(o->n_sack, 0);
                dp_packet_delete(b);
            }
        }
    }
}
END_TEST

/* The generic builder: payload, SACK blocks, errors leaving 'b' alone. */
START_TEST(test_build_generic)
{
    struct tcp_seg_endpoints ep = endpoints(false, false);
    struct tcp_seg_hdr hdr;
    struct tcp_seg_info info;
    struct dp_packet *b = dp_packet_new(0);
    static const char payload[] = "GET / HTTP/1.0\r\n\r\n";

    memset(&hdr, 0, sizeof hdr);
    hdr.seq = 1;
    hdr.ack = 2;
    hdr.flags = TCP_ACK | TCP_PSH | TCP_FIN;
    hdr.window = 502;
    hdr.opts.has_ts = true;
    hdr.opts.tsval = 10;
    hdr.opts.tsecr = 20;
    hdr.opts.n_sack = 3;
    for (int i = 0; i < 3; i++) {
        hdr.opts.sack[i].left = 0xfffffff0 + 100 * i;
        hdr.opts.sack[i].right = 0xfffffff0 + 100 * i + 50;
    }
    hdr.payload = payload;
    hdr.payload_len = strlen(payload);
    ck_assert_int_eq(tcp_seg_build(b, &ep, &hdr), 0);
    parse_built(b, &ep, 0, &info);
    ck_assert_uint_eq(info.flags, TCP_ACK | TCP_PSH | TCP_FIN);
    ck_assert_uint_eq(info.payload_len, strlen(payload));
    ck_assert_uint_eq(tcp_seg_len(&info), strlen(payload) + 1);
    ck_assert_int_eq(memcmp((char *) dp_packet_data(b) + info.payload_ofs,
                            payload, strlen(payload)), 0);
    ck_assert_uint_eq(info.opts.n_sack, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(info.opts.sack[i].left, hdr.opts.sack[i].left);
        ck_assert_uint_eq(info.opts.sack[i].right, hdr.opts.sack[i].right);
    }
    ck_assert_uint_eq(info.opts.tsval, 10);
    ck_assert_uint_eq(info.opts.tsecr, 20);
    ck_assert_uint_eq(info.payload_ofs - info.l4_ofs, 20 + 12 + 28);

    /* Errors leave the packet as it was. */
    size_t size = dp_packet_size(b);
    uint8_t *before = exact_copy(dp_packet_data(b), size);

    hdr.opts.n_sack = 4;        /* 12 + 36 bytes > 40. */
    ck_assert_int_eq(tcp_seg_build(b, &ep, &hdr), TCP_SEG_E_OPT_SPACE);
    hdr.opts.n_sack = 5;
    ck_assert_int_eq(tcp_seg_build(b, &ep, &hdr), TCP_SEG_E_OPT_SACK);
    hdr.opts.n_sack = 0;

    struct tcp_seg_endpoints mixed = ep;
    mixed.ip_dst = endpoints(true, false).ip_dst;
    ck_assert_int_eq(tcp_seg_build(b, &mixed, &hdr), TCP_SEG_E_AF);

    hdr.payload_len = 65535 - 20 - 20 - 12 + 1;
    ck_assert_int_eq(tcp_seg_build(b, &ep, &hdr), TCP_SEG_E_TOO_BIG);
    uint8_t too_long[41];
    memset(too_long, 1, sizeof too_long);
    hdr.raw_opts = too_long;
    hdr.raw_opts_len = sizeof too_long;
    hdr.payload_len = 0;
    ck_assert_int_eq(tcp_seg_build(b, &ep, &hdr), TCP_SEG_E_OPT_SPACE);

    ck_assert_uint_eq(dp_packet_size(b), size);
    ck_assert_int_eq(memcmp(dp_packet_data(b), before, size), 0);
    free(before);

    /* The largest IPv4 packet is accepted. */
    char *big = xzalloc(65535);
    hdr.raw_opts = NULL;
    hdr.payload = big;
    hdr.payload_len = 65535 - 20 - 20 - 12;
    ck_assert_int_eq(tcp_seg_build(b, &ep, &hdr), 0);
    parse_built(b, &ep, 0, &info);
    ck_assert_uint_eq(info.ip_len, 65535);
    free(big);

    /* Raw options are padded with EOL to a multiple of 4. */
    static const uint8_t raw[] = { 1, 2, 4, 1400 >> 8, 1400 & 0xff };
    hdr.raw_opts = raw;
    hdr.raw_opts_len = sizeof raw;
    hdr.payload_len = 0;
    ck_assert_int_eq(tcp_seg_build(b, &ep, &hdr), 0);
    parse_built(b, &ep, 0, &info);
    ck_assert_uint_eq(info.payload_ofs - info.l4_ofs, 28);
    ck_assert(info.opts.has_mss);
    ck_assert_uint_eq(info.opts.mss, 1400);
    ck_assert(!info.opts.has_ts);
    dp_packet_delete(b);
}
END_TEST

/* Builds in 'tcp' (60 bytes) a TCP header whose options are the
 * 'opts_len' bytes 'opts' (the data offset covering them, rounded up, the
 * rest EOL) and returns the header length. */
static size_t
tcp_with_opts(uint8_t tcp[60], const uint8_t *opts, size_t opts_len)
{
    size_t hdr_len = TCP_HEADER_LEN + ROUND_UP(opts_len, 4);

    ovs_assert(opts_len <= 40);
    memset(tcp, 0, 60);
    tcp[12] = (hdr_len / 4) << 4;
    memcpy(tcp + TCP_HEADER_LEN, opts, opts_len);
    return hdr_len;
}

static int
parse_opts_exact(const uint8_t *tcp, size_t len, struct tcp_opts *o)
{
    uint8_t *copy = exact_copy(tcp, len);
    int error = tcp_opts_parse(copy, len, o);
    free(copy);
    return error;
}

#define OPTS(...) (const uint8_t[]) { __VA_ARGS__ }, \
        sizeof((const uint8_t[]) { __VA_ARGS__ })

/* Every malformed option list is rejected with the right error. */
START_TEST(test_opts_malformed)
{
    const struct {
        const uint8_t *opts;
        size_t len;
        int error;
    } cases[] = {
        /* Length byte 0 or 1, known or unknown kind. */
        { OPTS(2, 0, 0, 0), TCP_SEG_E_OPT_LEN },
        { OPTS(2, 1, 0, 0), TCP_SEG_E_OPT_LEN },
        { OPTS(99, 0, 0, 0), TCP_SEG_E_OPT_LEN },
        { OPTS(1, 99, 1, 1), TCP_SEG_E_OPT_LEN },
        { OPTS(8, 1, 0, 0), TCP_SEG_E_OPT_LEN },
        /* Running past the data offset. */
        { OPTS(1, 1, 1, 2), TCP_SEG_E_OPT_OVERRUN },
        { OPTS(1, 1, 1, 99), TCP_SEG_E_OPT_OVERRUN },
        { OPTS(99, 5, 0, 0), TCP_SEG_E_OPT_OVERRUN },
        { OPTS(1, 1, 8, 10, 0, 0, 0, 0), TCP_SEG_E_OPT_OVERRUN },
        { OPTS(5, 10, 0, 0, 0, 0, 0, 0), TCP_SEG_E_OPT_OVERRUN },
        { OPTS(1, 1, 2, 4, 0, 0, 99, 255), TCP_SEG_E_OPT_OVERRUN },
        /* Wrong fixed lengths. */
        { OPTS(2, 3, 5, 0), TCP_SEG_E_OPT_MSS },
        { OPTS(2, 5, 5, 0, 0, 0, 0, 0), TCP_SEG_E_OPT_MSS },
        { OPTS(3, 2, 0, 0), TCP_SEG_E_OPT_WSCALE },
        { OPTS(3, 4, 7, 0), TCP_SEG_E_OPT_WSCALE },
        { OPTS(4, 3, 0, 0), TCP_SEG_E_OPT_SACK_PERM },
        { OPTS(4, 4, 0, 0), TCP_SEG_E_OPT_SACK_PERM },
        { OPTS(8, 8, 0, 0, 0, 0, 0, 0), TCP_SEG_E_OPT_TS },
        { OPTS(8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), TCP_SEG_E_OPT_TS },
        { OPTS(5, 2, 0, 0), TCP_SEG_E_OPT_SACK },
        { OPTS(5, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), TCP_SEG_E_OPT_SACK },
        { OPTS(5, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), TCP_SEG_E_OPT_SACK },
        { OPTS(5, 6, 0, 0, 0, 0, 0, 0), TCP_SEG_E_OPT_SACK },
        /* Repeated options. */
        { OPTS(2, 4, 5, 0, 2, 4, 5, 0), TCP_SEG_E_OPT_DUP },
        { OPTS(3, 3, 7, 3, 3, 7, 0, 0), TCP_SEG_E_OPT_DUP },
        { OPTS(4, 2, 4, 2), TCP_SEG_E_OPT_DUP },
        { OPTS(8, 10, 0, 0, 0, 0, 0, 0, 0, 0,
               8, 10, 0, 0, 0, 0, 0, 0, 0, 0), TCP_SEG_E_OPT_DUP },
        { OPTS(5, 10, 0, 0, 0, 0, 0, 0, 0, 0,
               5, 10, 0, 0, 0, 0, 0, 0, 0, 0), TCP_SEG_E_OPT_DUP },
        /* Well formed. */
        { OPTS(0, 2, 0, 0), 0 },                /* Garbage after EOL. */
        { OPTS(1, 1, 1, 1), 0 },
        { OPTS(99, 2, 1, 1), 0 },
        { OPTS(99, 4, 2, 0, 254, 8, 1, 2, 3, 4, 5, 6), 0 },
        { OPTS(3, 3, 255, 0), 0 },               /* Out-of-range scale. */
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        uint8_t tcp[60];
        struct tcp_opts o;
        size_t hdr_len = tcp_with_opts(tcp, cases[i].opts, cases[i].len);
        int error = parse_opts_exact(tcp, hdr_len, &o);

        ck_assert_msg(error == cases[i].error,
                      "case %zu: got %d (%s), expected %d", i, error,
                      tcp_seg_strerror(error), cases[i].error);
        if (error) {
            ck_assert(!o.has_mss && !o.has_ts && !o.n_sack);
        }
    }
}
END_TEST

/* The data offset is checked against 5 and the data given. */
START_TEST(test_opts_data_offset)
{
    uint8_t tcp[60];
    struct tcp_opts o;

    memset(tcp, 1, sizeof tcp);        /* All NOPs. */
    for (int doff = 0; doff < 16; doff++) {
        tcp[12] = doff << 4;
        for (size_t len = 0; len <= 60; len++) {
            int expected = (len < TCP_HEADER_LEN ? TCP_SEG_E_TCP_SHORT
                            : doff < 5 || doff * 4 > len ? TCP_SEG_E_TCP_DOFF
                            : 0);
            ck_assert_int_eq(parse_opts_exact(tcp, len, &o), expected);
        }
    }
}
END_TEST

/* Every truncation of a valid option list, at every byte and at every
 * alignment (NOPs before it), is either a whole list (accepted, with the
 * options before the cut) or an overrun; none is read past the data offset.
 * The data offset must be a multiple of 4, so the cut at 'cut' bytes is tried
 * with the number of NOPs that makes it one. */
START_TEST(test_opts_truncated)
{
    static const uint8_t list[] = {
        2, 4, 0x05, 0xb4,                       /* MSS 1460 */
        4, 2,                                   /* SACK permitted */
        8, 10, 1, 2, 3, 4, 5, 6, 7, 8,          /* Timestamps */
        3, 3, 7,                                /* Window scale */
        5, 18, 0, 0, 0, 1, 0, 0, 0, 2,          /* SACK, 2 blocks */
        0, 0, 0, 3, 0, 0, 0, 4,
    };
    static const size_t ends[] = { 0, 4, 6, 16, 19, 37 };
    BUILD_ASSERT_DECL(sizeof list == 37);
    int n_whole = 0;

    for (size_t cut = 0; cut <= sizeof list; cut++) {
        size_t nops = ROUND_UP(cut, 4) - cut;
        uint8_t opts[40], tcp[60];
        struct tcp_opts o;
        bool whole = false;

        memset(opts, 1, nops);
        memcpy(opts + nops, list, cut);
        for (size_t i = 0; i < ARRAY_SIZE(ends); i++) {
            whole = whole || ends[i] == cut;
        }
        size_t hdr_len = tcp_with_opts(tcp, opts, nops + cut);
        ck_assert_uint_eq(hdr_len, 20 + nops + cut);
        int error = parse_opts_exact(tcp, hdr_len, &o);
        ck_assert_msg(whole ? !error : error == TCP_SEG_E_OPT_OVERRUN,
                      "cut %zu: %s", cut, tcp_seg_strerror(error));
        n_whole += whole;
        if (!error) {
            ck_assert_int_eq(o.has_mss, cut >= 4);
            ck_assert_int_eq(o.sack_permitted, cut >= 6);
            ck_assert_int_eq(o.has_ts, cut >= 16);
            ck_assert_int_eq(o.has_wscale, cut >= 19);
            ck_assert_uint_eq(o.n_sack, cut >= 37 ? 2 : 0);
        }
        if (cut == sizeof list) {
            ck_assert_uint_eq(o.mss, 1460);
            ck_assert_uint_eq(o.ts_ofs, 20 + nops + 8);
            ck_assert_uint_eq(o.tsval, 0x01020304);
            ck_assert_uint_eq(o.tsecr, 0x05060708);
            ck_assert_uint_eq(o.wscale, 7);
            ck_assert_uint_eq(o.sack_ofs, 20 + nops + 21);
            ck_assert_uint_eq(o.sack[0].left, 1);
            ck_assert_uint_eq(o.sack[0].right, 2);
            ck_assert_uint_eq(o.sack[1].left, 3);
            ck_assert_uint_eq(o.sack[1].right, 4);
        }
    }
    ck_assert_int_eq(n_whole, ARRAY_SIZE(ends));
}
END_TEST

/* Writing then parsing gives the options back, for random option sets; and
 * random bytes never make the parser read out of bounds (ASan). */
START_TEST(test_opts_roundtrip_and_random)
{
    random_set_seed(0x5eed);
    for (int iter = 0; iter < 20000; iter++) {
        struct tcp_opts in, out;
        uint8_t buf[TCP_OPTS_MAX_LEN], tcp[60];
        size_t len;

        memset(&in, 0, sizeof in);
        in.has_mss = random_range(2);
        in.mss = in.has_mss ? random_uint16() : 0;
        in.has_wscale = random_range(2);
        in.wscale = in.has_wscale ? random_uint8() : 0;
        in.sack_permitted = random_range(2);
        in.has_ts = random_range(2);
        if (in.has_ts) {
            in.tsval = random_uint32();
            in.tsecr = random_uint32();
        }
        in.n_sack = random_range(5);
        for (int i = 0; i < in.n_sack; i++) {
            in.sack[i].left = random_uint32();
            in.sack[i].right = random_uint32();
        }
        int error = tcp_opts_write(&in, buf, &len);
        size_t need = (in.has_mss ? 4 : 0)
                      + (in.has_ts ? 12 : in.sack_permitted ? 4 : 0)
                      + (in.has_wscale ? 4 : 0)
                      + (in.n_sack ? 4 + 8 * in.n_sack : 0);
        if (need > 40) {
            ck_assert_int_eq(error, TCP_SEG_E_OPT_SPACE);
            ck_assert_uint_eq(len, 0);
            continue;
        }
        ck_assert_int_eq(error, 0);
        ck_assert_uint_eq(len, need);
        ck_assert_uint_eq(len % 4, 0);
        size_t hdr_len = tcp_with_opts(tcp, buf, len);
        ck_assert_int_eq(parse_opts_exact(tcp, hdr_len, &out), 0);
        ck_assert_int_eq(out.has_mss, in.has_mss);
        ck_assert_uint_eq(out.mss, in.mss);
        ck_assert_int_eq(out.has_wscale, in.has_wscale);
        ck_assert_uint_eq(out.wscale, in.wscale);
        ck_assert_int_eq(out.sack_permitted, in.sack_permitted);
        ck_assert_int_eq(out.has_ts, in.has_ts);
        ck_assert_uint_eq(out.tsval, in.tsval);
        ck_assert_uint_eq(out.tsecr, in.tsecr);
        ck_assert_uint_eq(out.n_sack, in.n_sack);
        for (int i = 0; i < in.n_sack; i++) {
            ck_assert_uint_eq(out.sack[i].left, in.sack[i].left);
            ck_assert_uint_eq(out.sack[i].right, in.sack[i].right);
        }
    }

    int n_ok = 0;
    for (int iter = 0; iter < 50000; iter++) {
        uint8_t tcp[60];
        struct tcp_opts o;
        size_t len = random_range(61);

        random_bytes(tcp, sizeof tcp);
        /* Bias towards plausible headers: a valid data offset and kinds
         * and lengths from the interesting range. */
        if (len >= 20 && random_range(4)) {
            tcp[12] = (5 + random_range((len - 20) / 4 + 1)) << 4;
            for (size_t i = 20; i < 60; i++) {
                tcp[i] = random_range(4) ? random_range(12) : tcp[i];
            }
        }
        if (!parse_opts_exact(tcp, len, &o)) {
            size_t hdr_len = (tcp[12] >> 4) * 4;
            n_ok++;
            ck_assert_uint_le(o.n_sack, TCP_OPTS_MAX_SACK);
            if (o.has_ts) {
                ck_assert_uint_le(o.ts_ofs + 8, hdr_len);
            }
            if (o.n_sack) {
                ck_assert_uint_le(o.sack_ofs + 8 * o.n_sack, hdr_len);
            }
        }
    }
    /* The biased inputs must exercise the accepting path too. */
    ck_assert_int_gt(n_ok, 1000);
}
END_TEST

/* Builds a frame with options and payload for the parser tests. */
static struct dp_packet *
sample_frame(bool ipv6, struct tcp_seg_info *info)
{
    struct tcp_seg_endpoints ep = endpoints(ipv6, false);
    struct tcp_seg_hdr hdr;
    struct dp_packet *b = dp_packet_new(0);

    memset(&hdr, 0, sizeof hdr);
    hdr.seq = 0x01020304;
    hdr.ack = 0x05060708;
    hdr.flags = TCP_ACK | TCP_PSH;
    hdr.window = 0x1234;
    hdr.ip_id = 0x4321;
    hdr.opts.has_ts = true;
    hdr.opts.tsval = 1;
    hdr.opts.tsecr = 2;
    hdr.payload = "hello";
    hdr.payload_len = 5;
    ovs_assert(!tcp_seg_build(b, &ep, &hdr));
    ovs_assert(!tcp_seg_parse_frame(dp_packet_data(b), dp_packet_size(b),
                                    info));
    return b;
}

static int
parse_frame_exact(const void *frame, size_t len, struct tcp_seg_info *info)
{
    uint8_t *copy = exact_copy(frame, len);
    int error = tcp_seg_parse_frame(copy, len, info);
    free(copy);
    return error;
}

/* Frame parsing: fields, VLAN tags, padding, misalignment. */
START_TEST(test_parse_frame)
{
    for (int v6 = 0; v6 < 2; v6++) {
        struct tcp_seg_info info, info2;
        struct dp_packet *b = sample_frame(v6, &info);
        const uint8_t *frame = dp_packet_data(b);
        size_t len = dp_packet_size(b);
        size_t l3_len = v6 ? IPV6_HEADER_LEN : IP_HEADER_LEN;

        ck_assert_uint_eq(info.l3_ofs, 14);
        ck_assert_uint_eq(info.l4_ofs, 14 + l3_len);
        ck_assert_uint_eq(info.payload_ofs, 14 + l3_len + 32);
        ck_assert_uint_eq(info.payload_len, 5);
        ck_assert_uint_eq(info.ip_len, l3_len + 37);
        ck_assert_uint_eq(info.seq, 0x01020304);
        ck_assert_uint_eq(info.ack, 0x05060708);
        ck_assert_uint_eq(info.flags, TCP_ACK | TCP_PSH);
        ck_assert_uint_eq(info.window, 0x1234);
        ck_assert_uint_eq(ntohs(info.tp_src), 40000);
        ck_assert_uint_eq(ntohs(info.tp_dst), 80);
        ck_assert(info.opts.has_ts);
        ck_assert_uint_eq(info.opts.ts_ofs, 24);

        /* Same through tcp_seg_parse_ip(), offsets from the IP header. */
        uint8_t *ip = exact_copy(frame + 14, len - 14);
        ck_assert_int_eq(tcp_seg_parse_ip(ip, len - 14, &info2), 0);
        ck_assert_uint_eq(info2.l3_ofs, 0);
        ck_assert_uint_eq(info2.l4_ofs, l3_len);
        ck_assert_uint_eq(info2.seq, info.seq);
        free(ip);

        /* Ethernet padding after the IP packet is ignored. */
        uint8_t *padded = xzalloc(len + 20);
        memcpy(padded, frame, len);
        ck_assert_int_eq(parse_frame_exact(padded, len + 20, &info2), 0);
        ck_assert_uint_eq(info2.payload_len, 5);
        ck_assert_uint_eq(info2.ip_len, info.ip_len);

        /* At an odd address. */
        memmove(padded + 1, frame, len);
        ck_assert_int_eq(tcp_seg_parse_frame(padded + 1, len, &info2), 0);
        ck_assert_uint_eq(info2.ack, info.ack);
        ck_assert(tcp_seg_verify_csum(padded + 1 + 14, len - 14));
        free(padded);

        /* One and two VLAN tags. */
        for (int tags = 1; tags <= 3; tags++) {
            uint8_t *tagged = xmalloc(len + 4 * tags);
            memcpy(tagged, frame, 12);
            for (int t = 0; t < tags; t++) {
                static const uint8_t tag[] = { 0x81, 0x00, 0x00, 0x05 };
                memcpy(tagged + 12 + 4 * t, tag, 4);
            }
            memcpy(tagged + 12 + 4 * tags, frame + 12, len - 12);
            int error = parse_frame_exact(tagged, len + 4 * tags, &info2);
            if (tags <= 2) {
                ck_assert_int_eq(error, 0);
                ck_assert_uint_eq(info2.l3_ofs, 14 + 4 * tags);
                ck_assert_uint_eq(info2.payload_ofs,
                                  info.payload_ofs + 4 * tags);
                ck_assert_uint_eq(info2.seq, info.seq);
            } else {
                ck_assert_int_eq(error, TCP_SEG_E_ETH_TYPE);
            }
            free(tagged);
        }

        /* Every truncation fails, and none is read past its end. */
        for (size_t cut = 0; cut < len; cut++) {
            ck_assert_int_ne(parse_frame_exact(frame, cut, &info2), 0);
        }
        dp_packet_delete(b);
    }
}
END_TEST

/* Malformed L2/L3/L4 headers get their own errors. */
START_TEST(test_parse_malformed)
{
    struct tcp_seg_info info;
    struct dp_packet *b4 = sample_frame(false, &info);
    struct dp_packet *b6 = sample_frame(true, &info);
    size_t len4 = dp_packet_size(b4), len6 = dp_packet_size(b6);
    uint8_t *f;

    /* Mutates a copy of the frame in B with STMT, then expects FRAME_ERROR
     * from parsing the frame and IP_ERROR from parsing its IP packet. */
#define MUTATE(B, LEN, STMT, FRAME_ERROR, IP_ERROR)                     \
    do {                                                                \
        f = exact_copy(dp_packet_data(B), LEN);                         \
        STMT;                                                           \
        ck_assert_int_eq(tcp_seg_parse_frame(f, LEN, &info),            \
                         FRAME_ERROR);                                  \
        free(f);                                                        \
        f = exact_copy(dp_packet_data(B), LEN);                         \
        STMT;                                                           \
        uint8_t *ip_ = exact_copy(f + 14, LEN - 14);                    \
        ck_assert_int_eq(tcp_seg_parse_ip(ip_, LEN - 14, &info),        \
                         IP_ERROR);                                     \
        free(ip_);                                                      \
        free(f);                                                        \
    } while (0)

    MUTATE(b4, len4, f[13] = 0x06, TCP_SEG_E_ETH_TYPE, 0);
    MUTATE(b4, len4, f[14] = 0x65, TCP_SEG_E_IP_VERSION, TCP_SEG_E_IP_LEN);
    MUTATE(b4, len4, f[14] = 0x35, TCP_SEG_E_IP_VERSION,
           TCP_SEG_E_IP_VERSION);
    MUTATE(b4, len4, f[14] = 0x44, TCP_SEG_E_IP_IHL, TCP_SEG_E_IP_IHL);
    MUTATE(b4, len4, f[14] = 0x40, TCP_SEG_E_IP_IHL, TCP_SEG_E_IP_IHL);
    MUTATE(b4, len4, f[14] = 0x4f, TCP_SEG_E_IP_IHL, TCP_SEG_E_IP_IHL);
    MUTATE(b4, len4, f[16] = 0; f[17] = 19, TCP_SEG_E_IP_LEN,
           TCP_SEG_E_IP_LEN);
    MUTATE(b4, len4, f[16] = 0x7f, TCP_SEG_E_IP_LEN, TCP_SEG_E_IP_LEN);
    MUTATE(b4, len4, f[16] = 0; f[17] = 39, TCP_SEG_E_TCP_SHORT,
           TCP_SEG_E_TCP_SHORT);
    MUTATE(b4, len4, f[20] = 0x20, TCP_SEG_E_IP_FRAGMENT,
           TCP_SEG_E_IP_FRAGMENT);
    MUTATE(b4, len4, f[21] = 0x01, TCP_SEG_E_IP_FRAGMENT,
           TCP_SEG_E_IP_FRAGMENT);
    MUTATE(b4, len4, f[20] = 0x5f, TCP_SEG_E_IP_FRAGMENT,
           TCP_SEG_E_IP_FRAGMENT);
    MUTATE(b4, len4, f[23] = IPPROTO_UDP, TCP_SEG_E_IP_PROTO,
           TCP_SEG_E_IP_PROTO);
    MUTATE(b4, len4, f[34 + 12] = 0x40, TCP_SEG_E_TCP_DOFF,
           TCP_SEG_E_TCP_DOFF);
    MUTATE(b4, len4, f[34 + 12] = 0xa0, TCP_SEG_E_TCP_DOFF,
           TCP_SEG_E_TCP_DOFF);
    MUTATE(b4, len4, f[34 + 22] = 8; f[34 + 23] = 11, TCP_SEG_E_OPT_OVERRUN,
           TCP_SEG_E_OPT_OVERRUN);
    MUTATE(b4, len4, f[34 + 22] = 8; f[34 + 23] = 9, TCP_SEG_E_OPT_TS,
           TCP_SEG_E_OPT_TS);

    MUTATE(b6, len6, f[14] = 0x45, TCP_SEG_E_IP_VERSION, TCP_SEG_E_IP_LEN);
    MUTATE(b6, len6, f[20] = IPPROTO_HOPOPTS, TCP_SEG_E_IP_PROTO,
           TCP_SEG_E_IP_PROTO);
    MUTATE(b6, len6, f[18] = 0; f[19] = 0, TCP_SEG_E_IP_LEN,
           TCP_SEG_E_IP_LEN);
    MUTATE(b6, len6, f[18] = 0; f[19] = 19, TCP_SEG_E_TCP_SHORT,
           TCP_SEG_E_TCP_SHORT);
    MUTATE(b6, len6, f[19]++, TCP_SEG_E_IP_LEN, TCP_SEG_E_IP_LEN);
    MUTATE(b6, len6, f[54 + 12] = 0xa0, TCP_SEG_E_TCP_DOFF,
           TCP_SEG_E_TCP_DOFF);
    /* An IPv6 packet must not pass for an IPv4 one. */
    MUTATE(b6, len6, memset(f + 22, 0, 10); f[32] = f[33] = 0xff,
           TCP_SEG_E_IP_MAPPED, TCP_SEG_E_IP_MAPPED);
    MUTATE(b6, len6, memset(f + 38, 0, 10); f[48] = f[49] = 0xff,
           TCP_SEG_E_IP_MAPPED, TCP_SEG_E_IP_MAPPED);
#undef MUTATE

    /* Truncated Ethernet headers and VLAN tag. */
    static const uint8_t vlan[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                    0x81, 0x00, 0x00 };
    ck_assert_int_eq(parse_frame_exact(vlan, 13, &info), TCP_SEG_E_ETH_SHORT);
    ck_assert_int_eq(parse_frame_exact(vlan, 14, &info), TCP_SEG_E_ETH_SHORT);
    ck_assert_int_eq(parse_frame_exact(vlan, 15, &info), TCP_SEG_E_ETH_SHORT);
    ck_assert_int_eq(tcp_seg_parse_ip(vlan, 0, &info), TCP_SEG_E_IP_SHORT);

    dp_packet_delete(b4);
    dp_packet_delete(b6);
}
END_TEST

/* tcp_seg_verify_csum() notices any single corrupted byte. */
START_TEST(test_verify_csum)
{
    for (int v6 = 0; v6 < 2; v6++) {
        struct tcp_seg_info info;
        struct dp_packet *b = sample_frame(v6, &info);
        size_t len = dp_packet_size(b) - 14;
        uint8_t *ip = exact_copy((uint8_t *) dp_packet_data(b) + 14, len);

        ck_assert(tcp_seg_verify_csum(ip, len));
        for (size_t i = 0; i < len; i++) {
            /* Every byte counts, except the IPv6 traffic class, flow label
             * and hop limit, which no checksum covers. */
            if (v6 && (i == 1 || i == 2 || i == 3 || i == 7)) {
                continue;
            }
            ip[i] ^= 0x10;
            ck_assert_msg(!tcp_seg_verify_csum(ip, len), "byte %zu", i);
            ip[i] ^= 0x10;
        }
        ck_assert(!tcp_seg_verify_csum(ip, len - 1));
        ck_assert(!tcp_seg_verify_csum(ip, 0));
        free(ip);
        dp_packet_delete(b);
    }
}
END_TEST

START_TEST(test_endpoints_from_key)
{
    struct flow_key key;
    struct tcp_seg_endpoints ep;

    memset(&key, 0, sizeof key);
    key.client = in6_addr_mapped_ipv4(htonl(0x0a000001));
    key.vip = in6_addr_mapped_ipv4(htonl(0x0a000002));
    key.client_port = htons(1234);
    key.vip_port = htons(443);
    key.proto = IPPROTO_TCP;

    tcp_seg_endpoints_from_key(&ep, &key, FLOW_KEY_FROM_VIP, mac_a, mac_b);
    ck_assert(ipv6_addr_equals(&ep.ip_src, &key.vip));
    ck_assert(ipv6_addr_equals(&ep.ip_dst, &key.client));
    ck_assert_uint_eq(ep.tp_src, htons(443));
    ck_assert_uint_eq(ep.tp_dst, htons(1234));
    ck_assert(eth_addr_equals(ep.eth_src, mac_a));
    ck_assert(eth_addr_equals(ep.eth_dst, mac_b));

    tcp_seg_endpoints_from_key(&ep, &key, FLOW_KEY_TO_VIP, mac_b, mac_a);
    ck_assert(ipv6_addr_equals(&ep.ip_src, &key.client));
    ck_assert(ipv6_addr_equals(&ep.ip_dst, &key.vip));
    ck_assert_uint_eq(ep.tp_src, htons(1234));
    ck_assert_uint_eq(ep.tp_dst, htons(443));
    ck_assert(eth_addr_equals(ep.eth_src, mac_b));
}
END_TEST

START_TEST(test_strerror)
{
    for (int i = 0; i < TCP_SEG_N_ERRORS; i++) {
        const char *s = tcp_seg_strerror(i);
        ck_assert_ptr_nonnull(s);
        ck_assert_str_ne(s, "unknown tcp-seg error");
        for (int j = 0; j < i; j++) {
            ck_assert_str_ne(s, tcp_seg_strerror(j));
        }
    }
    ck_assert_str_eq(tcp_seg_strerror(-1), "unknown tcp-seg error");
    ck_assert_str_eq(tcp_seg_strerror(TCP_SEG_N_ERRORS),
                     "unknown tcp-seg error");
}
END_TEST

static Suite *
tcp_seg_suite(void)
{
    Suite *s = suite_create("tcp-seg");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_synack_options);
    tcase_add_test(tc, test_synack_wscale_cap);
    tcase_add_test(tc, test_rst_answers_ack);
    tcase_add_test(tc, test_rst_answers_no_ack);
    tcase_add_test(tc, test_rst_never_answers_rst);
    tcase_add_test(tc, test_syn_fabricated);
    tcase_add_test(tc, test_build_generic);
    tcase_add_test(tc, test_opts_malformed);
    tcase_add_test(tc, test_opts_data_offset);
    tcase_add_test(tc, test_opts_truncated);
    tcase_add_test(tc, test_opts_roundtrip_and_random);
    tcase_add_test(tc, test_parse_frame);
    tcase_add_test(tc, test_parse_malformed);
    tcase_add_test(tc, test_verify_csum);
    tcase_add_test(tc, test_endpoints_from_key);
    tcase_add_test(tc, test_strerror);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(tcp_seg_suite());
    int n_failed;

    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
