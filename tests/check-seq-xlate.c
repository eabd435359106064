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
 * Unit tests of lib/seq-xlate: sequence, acknowledgment, SACK, timestamp and
 * window translation with incremental checksums, checked against a full
 * recomputation; wrap-around at 2**32; malformed packets left unchanged.
 *
 * Packets handed to the translator are allocated with their exact length
 * (and at every alignment), so that ASan reports any access past their end.
 */
#include <config.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "csum.h"
#include "dp-packet.h"
#include "packets.h"
#include "random.h"
#include "seq-xlate.h"
#include "tcp-seg.h"
#include "util.h"

static const struct eth_addr mac_a = ETH_ADDR_C(02, 00, 00, 00, 00, 0a);
static const struct eth_addr mac_b = ETH_ADDR_C(02, 00, 00, 00, 00, 0b);

static struct tcp_seg_endpoints
endpoints(bool ipv6)
{
    struct tcp_seg_endpoints ep;

    memset(&ep, 0, sizeof ep);
    ep.eth_src = mac_a;
    ep.eth_dst = mac_b;
    if (ipv6) {
        ovs_assert(inet_pton(AF_INET6, "2001:db8::7", &ep.ip_src) == 1);
        ovs_assert(inet_pton(AF_INET6, "2001:db8:1::10", &ep.ip_dst) == 1);
    } else {
        ep.ip_src = in6_addr_mapped_ipv4(htonl(0xc6336407));
        ep.ip_dst = in6_addr_mapped_ipv4(htonl(0xcb00710a));
    }
    ep.tp_src = htons(40000);
    ep.tp_dst = htons(80);
    return ep;
}

/* An IP packet in a buffer of its exact length, at a chosen alignment. */
struct pkt {
    uint8_t *buf;               /* malloc'd, 'align' + 'len' bytes. */
    uint8_t *ip;                /* 'buf' + 'align'. */
    size_t len;
};

static void
pkt_from(struct pkt *p, const void *ip, size_t len, size_t align)
{
    p->buf = xmalloc(align + len);
    p->ip = p->buf + align;
    p->len = len;
    memcpy(p->ip, ip, len);
}

static void
pkt_destroy(struct pkt *p)
{
    free(p->buf);
}

/* Builds the segment 'hdr' (IPv6 if 'ipv6') into 'p' at alignment
 * 'align'. */
static void
pkt_build(struct pkt *p, bool ipv6, const struct tcp_seg_hdr *hdr,
          size_t align)
{
    struct tcp_seg_endpoints ep = endpoints(ipv6);
    uint64_t stub[2048 / 8];
    struct dp_packet b;

    dp_packet_use_stub(&b, stub, sizeof stub);
    ck_assert_int_eq(tcp_seg_build(&b, &ep, hdr), 0);
    pkt_from(p, dp_packet_l3(&b), dp_packet_l3_size(&b), align);
    dp_packet_uninit(&b);
}

static size_t
l4_ofs(const uint8_t *ip)
{
    return (ip[0] >> 4) == 4 ? (ip[0] & 15) * 4 : IPV6_HEADER_LEN;
}

/* Computes from scratch, independently of the code under test, the TCP
 * checksum of the IP packet 'ip' and stores it there. */
static void
set_full_tcp_csum(uint8_t *ip)
{
    size_t l4 = l4_ofs(ip);
    size_t tcp_len = ((ip[0] >> 4) == 4
                      ? ((ip[2] << 8) | ip[3]) - l4
                      : (size_t) ((ip[4] << 8) | ip[5]));
    uint32_t partial;

    ip[l4 + 16] = ip[l4 + 17] = 0;
    partial = ((ip[0] >> 4) == 4
               ? csum_continue(0, ip + 12, 8)
               : csum_continue(0, ip + 8, 32));
    partial = csum_add16(partial, htons(IPPROTO_TCP));
    partial = csum_add16(partial, htons(tcp_len));
    partial = csum_continue(partial, ip + l4, tcp_len);

    ovs_be16 c = csum_finish(partial);
    memcpy(ip + l4 + 16, &c, 2);
}

static void
put32(uint8_t *p, uint32_t x)
{
    p[0] = x >> 24;
    p[1] = x >> 16;
    p[2] = x >> 8;
    p[3] = x;
}

/* Stores in 'exp' (a copy of 'ip', 'len' bytes) what translating 'ip' with
 * 'x' towards the server (or the client if 'to_client') must give, computed
 * field by field with a full checksum. */
static void
expected(const struct seq_xlate *x, bool to_client, const uint8_t *ip,
         size_t len, uint8_t *exp)
{
    struct tcp_seg_info info;

    memcpy(exp, ip, len);
    ck_assert_int_eq(tcp_seg_parse_ip(ip, len, &info), 0);

    uint8_t *tcp = exp + info.l4_ofs;
    if (to_client) {
        put32(tcp + 4, info.seq + x->delta);
        if (x->ts && info.opts.has_ts) {
            put32(tcp + info.opts.ts_ofs, info.opts.tsval + x->ts_delta);
        }
        if (!(info.flags & TCP_SYN)) {
            int ws_srv = MIN(x->ws_srv, 14), ws_lb = MIN(x->ws_lb, 14);
            uint64_t w = ((uint64_t) info.window << ws_srv) >> ws_lb;
            w = MIN(w, 65535);
            tcp[14] = w >> 8;
            tcp[15] = w;
        }
    } else if (info.flags & TCP_ACK) {
        put32(tcp + 8, info.ack - x->delta);
        if (x->ts && info.opts.has_ts) {
            put32(tcp + info.opts.ts_ofs + 4, info.opts.tsecr - x->ts_delta);
        }
        if (x->sack) {
            for (int i = 0; i < info.opts.n_sack; i++) {
                uint8_t *block = tcp + info.opts.sack_ofs + 8 * i;
                put32(block, info.opts.sack[i].left - x->delta);
                put32(block + 4, info.opts.sack[i].right - x->delta);
            }
        }
    }
    set_full_tcp_csum(exp);
}

/* Translates 'p' with 'x' and checks the result byte for byte against
 * expected(), including a checksum recomputed in full. */
static void
check_xlate(const struct seq_xlate *x, bool to_client, struct pkt *p)
{
    uint8_t *exp = xmalloc(p->len);
    int error;

    expected(x, to_client, p->ip, p->len, exp);
    error = (to_client
             ? seq_xlate_to_client(x, p->ip, p->len)
             : seq_xlate_to_server(x, p->ip, p->len));
    ck_assert_int_eq(error, 0);
    ck_assert_msg(!memcmp(p->ip, exp, p->len), "translation differs");
    ck_assert(tcp_seg_verify_csum(p->ip, p->len));
    free(exp);
}

static void
hdr_init(struct tcp_seg_hdr *hdr, uint32_t seq, uint32_t ack, uint16_t flags,
         uint16_t window)
{
    memset(hdr, 0, sizeof *hdr);
    hdr->seq = seq;
    hdr->ack = ack;
    hdr->flags = flags;
    hdr->window = window;
    hdr->payload = "abc";
    hdr->payload_len = 3;
}

/* Server to client: seq and TSval wrap past 2**32. */
START_TEST(test_to_client_wrap)
{
    struct seq_xlate x = { .delta = 0x20, .ts_delta = 0x200,
                           .ws_srv = 7, .ws_lb = 7, .ts = true,
                           .sack = true };

    for (int v6 = 0; v6 < 2; v6++) {
        struct tcp_seg_hdr hdr;
        struct tcp_seg_info info;
        struct pkt p;

        hdr_init(&hdr, 0xfffffff0, 0x12345678, TCP_ACK | TCP_PSH, 1234);
        hdr.opts.has_ts = true;
        hdr.opts.tsval = 0xffffff00;
        hdr.opts.tsecr = 0xabcdef01;
        hdr.opts.n_sack = 1;
        hdr.opts.sack[0].left = 0x11;
        hdr.opts.sack[0].right = 0x22;
        pkt_build(&p, v6, &hdr, 0);
        check_xlate(&x, true, &p);
        ck_assert_int_eq(tcp_seg_parse_ip(p.ip, p.len, &info), 0);
        ck_assert_uint_eq(info.seq, 0x10);
        ck_assert_uint_eq(info.opts.tsval, 0x100);
        ck_assert_uint_eq(info.ack, 0x12345678);       /* Untouched. */
        ck_assert_uint_eq(info.opts.tsecr, 0xabcdef01);
        ck_assert_uint_eq(info.opts.sack[0].left, 0x11);
        ck_assert_uint_eq(info.window, 1234);
        pkt_destroy(&p);

        /* A "negative" delta wraps the other way. */
        struct seq_xlate neg = x;
        neg.delta = -0x20;
        neg.ts_delta = -0x200;
        hdr.seq = 0x10;
        hdr.opts.tsval = 0x100;
        pkt_build(&p, v6, &hdr, 1);
        check_xlate(&neg, true, &p);
        ck_assert_int_eq(tcp_seg_parse_ip(p.ip, p.len, &info), 0);
        ck_assert_uint_eq(info.seq, 0xfffffff0);
        ck_assert_uint_eq(info.opts.tsval, 0xffffff00);
        pkt_destroy(&p);
    }
}
END_TEST

/* Client to server: ack, SACK edges and TSecr wrap below 0 and past 2**32;
 * seq, TSval and the window are untouched. */
START_TEST(test_to_server_wrap)
{
    struct seq_xlate x = { .delta = 0x10, .ts_delta = 0x10,
                           .ws_srv = 9, .ws_lb = 7, .ts = true,
                           .sack = true };

    for (int v6 = 0; v6 < 2; v6++) {
        struct tcp_seg_hdr hdr;
        struct tcp_seg_info info;
        struct pkt p;

        hdr_init(&hdr, 0xfffffff0, 0x8, TCP_ACK, 4321);
        hdr.opts.has_ts = true;
        hdr.opts.tsval = 77;
        hdr.opts.tsecr = 0x5;
        hdr.opts.n_sack = 3;
        hdr.opts.sack[0].left = 0x5;            /* Both edges wrap. */
        hdr.opts.sack[0].right = 0x8;
        hdr.opts.sack[1].left = 0xfffffff0;     /* Block spans 2**32. */
        hdr.opts.sack[1].right = 0x4;
        hdr.opts.sack[2].left = 0x1000;         /* No wrap. */
        hdr.opts.sack[2].right = 0x2000;
        pkt_build(&p, v6, &hdr, 3);
        check_xlate(&x, false, &p);
        ck_assert_int_eq(tcp_seg_parse_ip(p.ip, p.len, &info), 0);
        ck_assert_uint_eq(info.ack, 0xfffffff8);
        ck_assert_uint_eq(info.opts.tsecr, 0xfffffff5);
        ck_assert_uint_eq(info.opts.sack[0].left, 0xfffffff5);
        ck_assert_uint_eq(info.opts.sack[0].right, 0xfffffff8);
        ck_assert_uint_eq(info.opts.sack[1].left, 0xffffffe0);
        ck_assert_uint_eq(info.opts.sack[1].right, 0xfffffff4);
        ck_assert_uint_eq(info.opts.sack[2].left, 0xff0);
        ck_assert_uint_eq(info.opts.sack[2].right, 0x1ff0);
        ck_assert_uint_eq(info.seq, 0xfffffff0);
        ck_assert_uint_eq(info.opts.tsval, 77);
        ck_assert_uint_eq(info.window, 4321);
        pkt_destroy(&p);

        /* The other way round: a delta that adds, pushing past 2**32. */
        struct seq_xlate neg = x;
        neg.delta = -0x20;
        neg.ts_delta = -0x20;
        hdr.ack = 0xfffffff0;
        hdr.opts.tsecr = 0xfffffff0;
        hdr.opts.n_sack = 1;
        hdr.opts.sack[0].left = 0xffffffe0;
        hdr.opts.sack[0].right = 0xfffffff0;
        pkt_build(&p, v6, &hdr, 2);
        check_xlate(&neg, false, &p);
        ck_assert_int_eq(tcp_seg_parse_ip(p.ip, p.len, &info), 0);
        ck_assert_uint_eq(info.ack, 0x10);
        ck_assert_uint_eq(info.opts.tsecr, 0x10);
        ck_assert_uint_eq(info.opts.sack[0].left, 0);
        ck_assert_uint_eq(info.opts.sack[0].right, 0x10);
        pkt_destroy(&p);
    }
}
END_TEST

/* RST and FIN are translated like any segment; a segment without ACK keeps
 * its (meaningless) acknowledgment fields towards the server. */
START_TEST(test_rst_fin_and_no_ack)
{
    struct seq_xlate x = { .delta = 0x80000000, .ts_delta = 5, .ts = true,
                           .sack = true };
    static const uint16_t flagses[] = {
        TCP_RST, TCP_RST | TCP_ACK, TCP_FIN | TCP_ACK, TCP_SYN,
        TCP_SYN | TCP_ACK, TCP_FIN | TCP_PSH | TCP_ACK, 0,
    };

    for (size_t i = 0; i < ARRAY_SIZE(flagses); i++) {
        for (int to_client = 0; to_client < 2; to_client++) {
            struct tcp_seg_hdr hdr;
            struct tcp_seg_info before, after;
            struct pkt p;

            hdr_init(&hdr, 1000, 2000, flagses[i], 100);
            hdr.opts.has_ts = true;
            hdr.opts.tsval = 10;
            hdr.opts.tsecr = 20;
            pkt_build(&p, false, &hdr, 0);
            ck_assert_int_eq(tcp_seg_parse_ip(p.ip, p.len, &before), 0);
            check_xlate(&x, to_client, &p);
            ck_assert_int_eq(tcp_seg_parse_ip(p.ip, p.len, &after), 0);
            if (to_client) {
                ck_assert_uint_eq(after.seq, 1000 + 0x80000000);
                ck_assert_uint_eq(after.opts.tsval, 15);
            } else if (flagses[i] & TCP_ACK) {
                ck_assert_uint_eq(after.ack, 2000 + 0x80000000);
                ck_assert_uint_eq(after.opts.tsecr, 15);
            } else {
                ck_assert_uint_eq(after.ack, 2000);
                ck_assert_uint_eq(after.opts.tsecr, 20);
            }
            ck_assert_uint_eq(after.flags, before.flags);
            pkt_destroy(&p);
        }
    }
}
END_TEST

/* Without negotiated timestamps or SACK, those options are left alone. */
START_TEST(test_ts_sack_not_negotiated)
{
    struct seq_xlate x = { .delta = 1000, .ts_delta = 7 };
    struct tcp_seg_hdr hdr;
    struct tcp_seg_info info;
    struct pkt p;

    hdr_init(&hdr, 5000, 6000, TCP_ACK, 100);
    hdr.opts.has_ts = true;
    hdr.opts.tsval = 10;
    hdr.opts.tsecr = 20;
    hdr.opts.n_sack = 1;
    hdr.opts.sack[0].left = 3000;
    hdr.opts.sack[0].right = 4000;
    for (int to_client = 0; to_client < 2; to_client++) {
        pkt_build(&p, false, &hdr, 0);
        check_xlate(&x, to_client, &p);
        ck_assert_int_eq(tcp_seg_parse_ip(p.ip, p.len, &info), 0);
        ck_assert_uint_eq(info.seq, to_client ? 6000 : 5000);
        ck_assert_uint_eq(info.ack, to_client ? 6000 : 5000);
        ck_assert_uint_eq(info.opts.tsval, 10);
        ck_assert_uint_eq(info.opts.tsecr, 20);
        ck_assert_uint_eq(info.opts.sack[0].left, 3000);
        ck_assert_uint_eq(info.opts.sack[0].right, 4000);
        pkt_destroy(&p);
    }
}
END_TEST

/* Window rescaling: the 65535 cap, rounding down, equal scales, scales
 * above 14. */
START_TEST(test_window_rescale)
{
    static const struct {
        uint8_t ws_srv, ws_lb;
        uint16_t in, out;
    } cases[] = {
        { 7, 7, 65535, 65535 }, { 7, 7, 0, 0 }, { 0, 0, 12345, 12345 },
        { 9, 7, 16383, 65532 }, { 9, 7, 16384, 65535 },
        { 9, 7, 65535, 65535 }, { 9, 7, 0, 0 }, { 9, 7, 1, 4 },
        { 5, 7, 1000, 250 }, { 5, 7, 3, 0 }, { 5, 7, 65535, 16383 },
        { 14, 0, 1, 16384 }, { 14, 0, 3, 49152 }, { 14, 0, 4, 65535 },
        { 0, 14, 65535, 3 }, { 0, 14, 16383, 0 },
        { 20, 14, 777, 777 }, { 14, 30, 777, 777 }, { 255, 0, 1, 16384 },
        { 7, 0, 511, 65408 }, { 7, 0, 512, 65535 },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct seq_xlate x = { .delta = 1, .ws_srv = cases[i].ws_srv,
                               .ws_lb = cases[i].ws_lb };
        struct tcp_seg_hdr hdr;
        struct tcp_seg_info info;
        struct pkt p;

        ck_assert_msg(seq_xlate_window(&x, cases[i].in) == cases[i].out,
                      "case %zu: %u", i, seq_xlate_window(&x, cases[i].in));

        /* In a packet, odd alignment, both families. */
        hdr_init(&hdr, 1, 2, TCP_ACK, cases[i].in);
        pkt_build(&p, i % 2, &hdr, 1);
        check_xlate(&x, true, &p);
        ck_assert_int_eq(tcp_seg_parse_ip(p.ip, p.len, &info), 0);
        ck_assert_uint_eq(info.window, cases[i].out);
        pkt_destroy(&p);

        /* Never on SYN segments; never towards the server. */
        hdr_init(&hdr, 1, 2, TCP_SYN | TCP_ACK, cases[i].in);
        pkt_build(&p, false, &hdr, 0);
        check_xlate(&x, true, &p);
        ck_assert_int_eq(tcp_seg_parse_ip(p.ip, p.len, &info), 0);
        ck_assert_uint_eq(info.window, cases[i].in);
        check_xlate(&x, false, &p);
        ck_assert_int_eq(tcp_seg_parse_ip(p.ip, p.len, &info), 0);
        ck_assert_uint_eq(info.window, cases[i].in);
        pkt_destroy(&p);
    }
}
END_TEST

/* 32-bit fields at odd offsets within the TCP header (options shifted by a
 * NOP) get right checksums. */
START_TEST(test_odd_offsets)
{
    struct seq_xlate x = { .delta = 0x01fe03fc, .ts_delta = 0xfeff0001,
                           .ts = true, .sack = true };
    static const uint8_t raw[] = {
        1,                                      /* NOP: shift by one. */
        8, 10, 0xff, 0x00, 0xff, 0x00, 0x00, 0xff, 0x00, 0xff,
        5, 18, 0xff, 0xff, 0xff, 0xfe, 0x00, 0x00, 0x00, 0x01,
               0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
        1, 1, 1,
    };

    for (int to_client = 0; to_client < 2; to_client++) {
        for (size_t align = 0; align < 4; align++) {
            struct tcp_seg_hdr hdr;
            struct tcp_seg_info info;
            struct pkt p;

            hdr_init(&hdr, 0xfeedface, 0x00ff00ff, TCP_ACK, 500);
            hdr.raw_opts = raw;
            hdr.raw_opts_len = sizeof raw;
            pkt_build(&p, align & 1, &hdr, align);
            ck_assert_int_eq(tcp_seg_parse_ip(p.ip, p.len, &info), 0);
            ck_assert_uint_eq(info.opts.ts_ofs % 2, 1);
            ck_assert_uint_eq(info.opts.sack_ofs % 2, 1);
            check_xlate(&x, to_client, &p);
            pkt_destroy(&p);
        }
    }
}
END_TEST

/* A wrong checksum stays wrong by exactly as much: undoing the corruption
 * after translation gives a right checksum. */
START_TEST(test_wrong_csum_stays_wrong)
{
    struct seq_xlate x = { .delta = 0x12345678, .ts_delta = 0x9abcdef0,
                           .ws_srv = 2, .ws_lb = 7, .ts = true,
                           .sack = true };

    for (int to_client = 0; to_client < 2; to_client++) {
        struct tcp_seg_hdr hdr;
        struct pkt p;

        hdr_init(&hdr, 111, 222, TCP_ACK, 60000);
        hdr.opts.has_ts = true;
        hdr.opts.n_sack = 2;
        pkt_build(&p, false, &hdr, 0);
        p.ip[p.len - 1] ^= 0x5a;                /* Corrupt the payload. */
        ck_assert(!tcp_seg_verify_csum(p.ip, p.len));
        ck_assert_int_eq(to_client
                         ? seq_xlate_to_client(&x, p.ip, p.len)
                         : seq_xlate_to_server(&x, p.ip, p.len), 0);
        ck_assert(!tcp_seg_verify_csum(p.ip, p.len));
        p.ip[p.len - 1] ^= 0x5a;
        ck_assert(tcp_seg_verify_csum(p.ip, p.len));
        pkt_destroy(&p);
    }
}
END_TEST

static int
xlate(const struct seq_xlate *x, bool to_client, void *ip, size_t len)
{
    return (to_client
            ? seq_xlate_to_client(x, ip, len)
            : seq_xlate_to_server(x, ip, len));
}

/* Malformed packets are rejected and left exactly as they were, including
 * every truncation of a valid one. */
START_TEST(test_malformed_unchanged)
{
    struct seq_xlate x = { .delta = 99, .ts_delta = 99, .ws_srv = 1,
                           .ws_lb = 9, .ts = true, .sack = true };
    static const struct {
        uint8_t opts[8];
        size_t len;
    } bad_opts[] = {
        { { 2, 0, 0, 0 }, 4 },                  /* Length 0. */
        { { 1, 1, 1, 8 }, 4 },                  /* Overrun. */
        { { 8, 9, 0, 0, 0, 0, 0, 0 }, 8 },      /* Overrun (TS). */
        { { 5, 6, 0, 0, 0, 0, 0, 0 }, 8 },      /* SACK length. */
        { { 3, 4, 0, 0 }, 4 },                  /* Window scale length. */
    };

    for (int to_client = 0; to_client < 2; to_client++) {
        for (int v6 = 0; v6 < 2; v6++) {
            struct tcp_seg_hdr hdr;
            struct pkt good;

            hdr_init(&hdr, 1, 2, TCP_ACK, 3);
            hdr.opts.has_ts = true;
            hdr.opts.n_sack = 1;
            pkt_build(&good, v6, &hdr, 0);

            /* Every truncation. */
            for (size_t cut = 0; cut < good.len; cut++) {
                struct pkt p;

                pkt_from(&p, good.ip, cut, cut % 4);
                ck_assert_int_ne(xlate(&x, to_client, p.ip, cut), 0);
                ck_assert_int_eq(memcmp(p.ip, good.ip, cut), 0);
                pkt_destroy(&p);
            }

            /* Bad option lists. */
            for (size_t i = 0; i < ARRAY_SIZE(bad_opts); i++) {
                struct pkt p;

                hdr.raw_opts = bad_opts[i].opts;
                hdr.raw_opts_len = bad_opts[i].len;
                pkt_build(&p, v6, &hdr, 0);
                uint8_t *copy = xmemdup(p.ip, p.len);
                ck_assert_int_ne(xlate(&x, to_client, p.ip, p.len), 0);
                ck_assert_int_eq(memcmp(p.ip, copy, p.len), 0);
                free(copy);
                pkt_destroy(&p);
            }
            hdr.raw_opts = NULL;

            /* Bad headers. */
            size_t l4 = v6 ? IPV6_HEADER_LEN : IP_HEADER_LEN;
            for (int m = 0; m < 5; m++) {
                struct pkt p;

                pkt_from(&p, good.ip, good.len, 0);
                switch (m) {
                case 0:
                    p.ip[l4 + 12] = 0x40;       /* Data offset 4. */
                    break;
                case 1:
                    p.ip[l4 + 12] = 0xf0;       /* Past the segment. */
                    break;
                case 2:
                    p.ip[v6 ? 6 : 9] = IPPROTO_UDP;
                    break;
                case 3:
                    if (v6) {
                        p.ip[0] = 0x45;
                    } else {
                        p.ip[6] |= 0x20;        /* More fragments. */
                    }
                    break;
                case 4:
                    p.ip[0] = 0x00;             /* Version 0. */
                    break;
                }
                uint8_t *copy = xmemdup(p.ip, p.len);
                ck_assert_int_ne(xlate(&x, to_client, p.ip, p.len), 0);
                ck_assert_int_eq(memcmp(p.ip, copy, p.len), 0);
                free(copy);
                pkt_destroy(&p);
            }
            pkt_destroy(&good);
        }
    }
}
END_TEST

/* Appends to 'opts' (at '*n' bytes, room for 40) a random option layout:
 * NOPs (which shift alignment), MSS, window scale, SACK-permitted,
 * timestamps, SACK blocks, unknown options, each known one at most once. */
static void
random_opts(uint8_t opts[40], size_t *n)
{
    bool used[9] = { false };

    *n = 0;
    while (*n < 40 && random_range(8)) {
        size_t room = 40 - *n;
        uint8_t *p = opts + *n;
        int kind = random_range(7);

        switch (kind) {
        case 0:
            p[0] = 1;
            *n += 1;
            break;
        case 1:
            if (!used[2] && room >= 4) {
                used[2] = true;
                p[0] = 2;
                p[1] = 4;
                random_bytes(p + 2, 2);
                *n += 4;
            }
            break;
        case 2:
            if (!used[3] && room >= 3) {
                used[3] = true;
                p[0] = 3;
                p[1] = 3;
                p[2] = random_range(16);
                *n += 3;
            }
            break;
        case 3:
            if (!used[4] && room >= 2) {
                used[4] = true;
                p[0] = 4;
                p[1] = 2;
                *n += 2;
            }
            break;
        case 4:
        case 5:
            if (!used[8] && room >= 10) {
                used[8] = true;
                p[0] = 8;
                p[1] = 10;
                random_bytes(p + 2, 8);
                *n += 10;
            } else if (!used[5] && room >= 10) {
                int blocks = 1 + random_range(MIN(4, (room - 2) / 8));
                used[5] = true;
                p[0] = 5;
                p[1] = 2 + 8 * blocks;
                random_bytes(p + 2, 8 * blocks);
                /* Bias edges towards the wrap-around. */
                for (int i = 0; i < 2 * blocks; i++) {
                    if (random_range(3) == 0) {
                        put32(p + 2 + 4 * i, -(uint32_t) random_range(64));
                    }
                }
                *n += 2 + 8 * blocks;
            }
            break;
        case 6:
            if (room >= 2) {
                int len = 2 + random_range(MIN(room - 2, 6) + 1);
                p[0] = 30 + random_range(200);
                p[1] = len;
                random_bytes(p + 2, len - 2);
                *n += len;
            }
            break;
        }
    }
}

static uint32_t
random_seq(void)
{
    switch (random_range(4)) {
    case 0:
        return -(uint32_t) random_range(1 << 16);
    case 1:
        return random_range(1 << 16);
    default:
        return random_uint32();
    }
}

/* 100,000 random segments (fixed seed): random families, alignments,
 * flags, option layouts and translations; every result compared byte for
 * byte with a field-by-field translation and a fully recomputed checksum. */
START_TEST(test_random_segments)
{
    int n_ts = 0, n_sack = 0, n_odd = 0, n_window = 0;

    random_set_seed(0x0515eed);
    for (int iter = 0; iter < 100000; iter++) {
        static const uint16_t flag_choices[] = {
            TCP_ACK, TCP_ACK | TCP_PSH, TCP_ACK | TCP_FIN, TCP_RST,
            TCP_RST | TCP_ACK, TCP_SYN, TCP_SYN | TCP_ACK, TCP_ACK | TCP_ECE,
        };
        struct tcp_seg_hdr hdr;
        uint8_t opts[40], payload[64];
        size_t n_opts;
        struct pkt p;

        memset(&hdr, 0, sizeof hdr);
        hdr.seq = random_seq();
        hdr.ack = random_seq();
        hdr.flags = flag_choices[random_range(ARRAY_SIZE(flag_choices))];
        hdr.window = (random_range(4)
                      ? random_uint16() : 65535 - random_range(2));
        hdr.ip_id = random_uint16();
        random_opts(opts, &n_opts);
        hdr.raw_opts = opts;
        hdr.raw_opts_len = n_opts;
        hdr.payload_len = random_range(sizeof payload + 1);
        random_bytes(payload, sizeof payload);
        hdr.payload = payload;
        pkt_build(&p, random_range(4) == 0, &hdr, random_range(4));

        struct seq_xlate x;
        x.delta = random_seq();
        x.ts_delta = random_seq();
        x.ws_srv = random_range(8) ? random_range(15) : random_range(256);
        x.ws_lb = random_range(4) ? random_range(15) : x.ws_srv;
        x.ts = random_range(8);
        x.sack = random_range(8);
        bool to_client = random_range(2);

        struct tcp_seg_info info;
        ck_assert_int_eq(tcp_seg_parse_ip(p.ip, p.len, &info), 0);
        n_ts += info.opts.has_ts;
        n_sack += info.opts.n_sack > 0;
        n_odd += (info.opts.ts_ofs | info.opts.sack_ofs) & 1;
        n_window += (to_client && !(info.flags & TCP_SYN)
                     && seq_xlate_window(&x, info.window) != info.window);

        /* What the agent's core does, from its own parse, is the same. */
        struct pkt q;
        pkt_from(&q, p.ip, p.len, random_range(4));
        if (to_client) {
            seq_xlate_seg_to_client(&x, q.ip, &info);
        } else {
            seq_xlate_seg_to_server(&x, q.ip, &info);
        }

        check_xlate(&x, to_client, &p);
        ck_assert_msg(!memcmp(p.ip, q.ip, p.len),
                      "translation from the caller's parse differs");
        pkt_destroy(&q);
        pkt_destroy(&p);
    }
    /* The random layouts must cover what they are meant to. */
    ck_assert_int_gt(n_ts, 20000);
    ck_assert_int_gt(n_sack, 10000);
    ck_assert_int_gt(n_odd, 10000);
    ck_assert_int_gt(n_window, 10000);
}
END_TEST

static Suite *
seq_xlate_suite(void)
{
    Suite *s = suite_create("seq-xlate");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_to_client_wrap);
    tcase_add_test(tc, test_to_server_wrap);
    tcase_add_test(tc, test_rst_fin_and_no_ack);
    tcase_add_test(tc, test_ts_sack_not_negotiated);
    tcase_add_test(tc, test_window_rescale);
    tcase_add_test(tc, test_odd_offsets);
    tcase_add_test(tc, test_wrong_csum_stays_wrong);
    tcase_add_test(tc, test_malformed_unchanged);
    tcase_add_test(tc, test_random_segments);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(seq_xlate_suite());
    int n_failed;

    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
