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
 * Unit tests of flow-key: packet parsing (including every truncation and
 * malformed headers), the cross-node hash (pinned values), and the text
 * format and its parser.
 */
#include <config.h>
#include "flow-key.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "openvswitch/dynamic-string.h"
#include "packets.h"
#include "random.h"
#include "util.h"

#define CLIENT4 "198.51.100.2"
#define VIP4 "203.0.113.10"
#define CLIENT6 "2001:db8::2"
#define VIP6 "2001:db8:1::10"

/* A test packet: bytes, length, and where its L4 header starts. */
struct test_pkt {
    uint8_t data[256];
    size_t len;
    size_t l4_ofs;
};

static ovs_be32
parse_ip4(const char *s)
{
    ovs_be32 ip;

    ck_assert(ip_parse(s, &ip));
    return ip;
}

static struct in6_addr
parse_ip6(const char *s)
{
    struct in6_addr a;

    ck_assert(ipv6_parse(s, &a));
    return a;
}

/* Appends a TCP header (with 'opt_len' bytes of NOP options) and 'payload'
 * bytes of data, or a UDP header and 'payload' bytes. */
static void
put_l4(struct test_pkt *pkt, uint8_t proto, uint16_t sport, uint16_t dport,
       size_t opt_len, size_t payload)
{
    uint8_t *l4 = pkt->data + pkt->len;

    pkt->l4_ofs = pkt->len;
    if (proto == IPPROTO_TCP) {
        struct tcp_header *tcp = (struct tcp_header *) l4;
        size_t hlen = TCP_HEADER_LEN + opt_len;

        memset(tcp, 0, hlen);
        memset(l4 + TCP_HEADER_LEN, 1, opt_len);
        tcp->tcp_src = htons(sport);
        tcp->tcp_dst = htons(dport);
        tcp->tcp_ctl = htons((hlen / 4) << 12 | 0x02);
        pkt->len += hlen;
    } else {
        struct udp_header *udp = (struct udp_header *) l4;

        memset(udp, 0, UDP_HEADER_LEN);
        udp->udp_src = htons(sport);
        udp->udp_dst = htons(dport);
        udp->udp_len = htons(UDP_HEADER_LEN + payload);
        pkt->len += UDP_HEADER_LEN;
    }
    memset(pkt->data + pkt->len, 0xab, payload);
    pkt->len += payload;
}

/* Builds an IPv4 packet from 'src' to 'dst' with 'ihl' 32-bit words of
 * header, carrying 'proto' with the given ports. */
static void
make_v4(struct test_pkt *pkt, const char *src, const char *dst, uint8_t proto,
        uint16_t sport, uint16_t dport, int ihl, size_t payload)
{
    struct ip_header *ip = (struct ip_header *) pkt->data;

    memset(pkt, 0, sizeof *pkt);
    ip->ip_ihl_ver = IP_IHL_VER(ihl, 4);
    ip->ip_ttl = 64;
    ip->ip_proto = proto;
    put_16aligned_be32(&ip->ip_src, parse_ip4(src));
    put_16aligned_be32(&ip->ip_dst, parse_ip4(dst));
    memset(pkt->data + IP_HEADER_LEN, 1, ihl * 4 - IP_HEADER_LEN);
    pkt->len = ihl * 4;
    if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
        put_l4(pkt, proto, sport, dport, 0, payload);
    } else {
        memset(pkt->data + pkt->len, 0, 8);
        pkt->len += 8;
    }
    ip->ip_tot_len = htons(pkt->len);
}

/* Builds an IPv6 packet from 'src' to 'dst'.  'ext' lists 'n_ext' extension
 * header types (HOPOPTS, DSTOPTS, ROUTING: 8 bytes; FRAGMENT with offset
 * 'frag_off' and the M flag 'more'); the last header is 'proto'. */
static void
make_v6(struct test_pkt *pkt, const char *src, const char *dst, uint8_t proto,
        uint16_t sport, uint16_t dport, const uint8_t *ext, size_t n_ext,
        uint16_t frag_off, bool more, size_t payload)
{
    struct ovs_16aligned_ip6_hdr *ip6
        = (struct ovs_16aligned_ip6_hdr *) pkt->data;
    struct in6_addr a;

    memset(pkt, 0, sizeof *pkt);
    ip6->ip6_ctlun.ip6_un2_vfc = 0x60;
    ip6->ip6_ctlun.ip6_un1.ip6_un1_hlim = 64;
    a = parse_ip6(src);
    memcpy(&ip6->ip6_src, &a, sizeof a);
    a = parse_ip6(dst);
    memcpy(&ip6->ip6_dst, &a, sizeof a);
    ip6->ip6_ctlun.ip6_un1.ip6_un1_nxt = n_ext ? ext[0] : proto;
    pkt->len = IPV6_HEADER_LEN;
    for (size_t i = 0; i < n_ext; i++) {
        uint8_t *h = pkt->data + pkt->len;
        uint8_t next = i + 1 < n_ext ? ext[i + 1] : proto;

        memset(h, 0, 8);
        h[0] = next;
        if (ext[i] == IPPROTO_FRAGMENT) {
            ovs_be16 offlg = htons(frag_off << 3 | more);

            memcpy(h + 2, &offlg, 2);
        } else if (ext[i] == IPPROTO_DSTOPTS) {
            /* 16 bytes long: one more 8-byte unit. */
            h[1] = 1;
            memset(h + 8, 0, 8);
            pkt->len += 8;
        }
        pkt->len += 8;
    }
    if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
        put_l4(pkt, proto, sport, dport, 0, payload);
    } else {
        memset(pkt->data + pkt->len, 0, 8);
        pkt->len += 8;
    }
    ip6->ip6_ctlun.ip6_un1.ip6_un1_plen = htons(pkt->len - IPV6_HEADER_LEN);
}

/* Parses the first 'len' bytes of 'pkt' from an exactly sized heap copy, so
 * that ASan reports any read past the end. */
static int
parse_exact(const struct test_pkt *pkt, size_t len, struct flow_key *key,
            enum flow_key_dir dir)
{
    uint8_t *copy = xmalloc(len ? len : 1);
    int error;

    memcpy(copy, pkt->data, len);
    error = flow_key_from_ip(key, copy, len, dir);
    free(copy);
    return error;
}

static char *
key_to_string(const struct flow_key *key)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    flow_key_format(key, &s);
    return ds_steal_cstr(&s);
}

static void
assert_key_string(const struct flow_key *key, const char *expected)
{
    char *s = key_to_string(key);

    ck_assert_str_eq(s, expected);
    free(s);
}

static bool
key_is_zero(const struct flow_key *key)
{
    static const struct flow_key zero;

    return flow_key_equals(key, &zero);
}

START_TEST(test_ipv4_tcp)
{
    struct flow_key key, expected;
    struct test_pkt pkt;

    make_v4(&pkt, CLIENT4, VIP4, IPPROTO_TCP, 40000, 80, 5, 10);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP), 0);
    flow_key_init_v4(&expected, parse_ip4(CLIENT4), htons(40000),
                     parse_ip4(VIP4), htons(80), IPPROTO_TCP);
    ck_assert(flow_key_equals(&key, &expected));
    ck_assert(flow_key_is_v4(&key));
    ck_assert_uint_eq(flow_key_client_v4(&key), parse_ip4(CLIENT4));
    ck_assert_uint_eq(flow_key_vip_v4(&key), parse_ip4(VIP4));
    assert_key_string(&key, CLIENT4":40000>"VIP4":80/tcp");

    /* The reply direction gives the same key. */
    make_v4(&pkt, VIP4, CLIENT4, IPPROTO_TCP, 80, 40000, 5, 0);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_FROM_VIP), 0);
    ck_assert(flow_key_equals(&key, &expected));

    /* IPv4 options are skipped: ports are read after the 28-byte header. */
    make_v4(&pkt, CLIENT4, VIP4, IPPROTO_TCP, 1234, 443, 7, 0);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP), 0);
    assert_key_string(&key, CLIENT4":1234>"VIP4":443/tcp");

    /* Trailing bytes past the total length (Ethernet padding) are ignored. */
    make_v4(&pkt, CLIENT4, VIP4, IPPROTO_TCP, 40000, 80, 5, 0);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len + 6, &key, FLOW_KEY_TO_VIP),
                     0);
    ck_assert(flow_key_equals(&key, &expected));
}
END_TEST

START_TEST(test_ipv4_udp)
{
    struct flow_key key, expected;
    struct test_pkt pkt;

    make_v4(&pkt, CLIENT4, VIP4, IPPROTO_UDP, 5353, 53, 5, 12);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP), 0);
    flow_key_init_v4(&expected, parse_ip4(CLIENT4), htons(5353),
                     parse_ip4(VIP4), htons(53), IPPROTO_UDP);
    ck_assert(flow_key_equals(&key, &expected));
    assert_key_string(&key, CLIENT4":5353>"VIP4":53/udp");
}
END_TEST

START_TEST(test_ipv6)
{
    static const uint8_t ext[] = { IPPROTO_HOPOPTS, IPPROTO_DSTOPTS,
                                   IPPROTO_ROUTING };
    struct flow_key key, expected;
    struct in6_addr c = parse_ip6(CLIENT6), v = parse_ip6(VIP6);
    struct test_pkt pkt;

    make_v6(&pkt, CLIENT6, VIP6, IPPROTO_TCP, 40000, 443, NULL, 0, 0, false,
            5);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP), 0);
    flow_key_init_v6(&expected, &c, htons(40000), &v, htons(443),
                     IPPROTO_TCP);
    ck_assert(flow_key_equals(&key, &expected));
    ck_assert(!flow_key_is_v4(&key));
    ck_assert_uint_eq(flow_key_client_v4(&key), 0);
    assert_key_string(&key, "["CLIENT6"]:40000>["VIP6"]:443/tcp");

    make_v6(&pkt, VIP6, CLIENT6, IPPROTO_TCP, 443, 40000, NULL, 0, 0, false,
            0);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_FROM_VIP), 0);
    ck_assert(flow_key_equals(&key, &expected));

    /* Extension headers are skipped. */
    make_v6(&pkt, CLIENT6, VIP6, IPPROTO_UDP, 7, 8, ext, ARRAY_SIZE(ext), 0,
            false, 3);
    ck_assert_uint_eq(pkt.l4_ofs, IPV6_HEADER_LEN + 32);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP), 0);
    assert_key_string(&key, "["CLIENT6"]:7>["VIP6"]:8/udp");
}
END_TEST

/* Every proper prefix of a valid packet is rejected as malformed, without
 * reading past its end (the copies are exactly sized heap blocks). */
static void
check_truncations(const struct test_pkt *pkt)
{
    struct flow_key key;

    ck_assert_int_eq(parse_exact(pkt, pkt->len, &key, FLOW_KEY_TO_VIP), 0);
    for (size_t len = 0; len < pkt->len; len++) {
        ck_assert_msg(parse_exact(pkt, len, &key, FLOW_KEY_TO_VIP) == EINVAL,
                      "truncation to %zu of %zu bytes not rejected",
                      len, pkt->len);
        ck_assert(key_is_zero(&key));
    }
}

START_TEST(test_truncations)
{
    static const uint8_t ext[] = { IPPROTO_HOPOPTS, IPPROTO_FRAGMENT,
                                   IPPROTO_DSTOPTS };
    struct test_pkt pkt;

    make_v4(&pkt, CLIENT4, VIP4, IPPROTO_TCP, 1, 2, 5, 3);
    check_truncations(&pkt);
    make_v4(&pkt, CLIENT4, VIP4, IPPROTO_UDP, 1, 2, 6, 0);
    check_truncations(&pkt);
    make_v6(&pkt, CLIENT6, VIP6, IPPROTO_TCP, 1, 2, NULL, 0, 0, false, 0);
    check_truncations(&pkt);
    make_v6(&pkt, CLIENT6, VIP6, IPPROTO_UDP, 1, 2, ext, ARRAY_SIZE(ext),
            0, false, 2);
    check_truncations(&pkt);
}
END_TEST

START_TEST(test_bad_ipv4)
{
    struct ip_header *ip;
    struct flow_key key;
    struct test_pkt pkt;

    /* IHL below 5. */
    for (int ihl = 0; ihl < 5; ihl++) {
        make_v4(&pkt, CLIENT4, VIP4, IPPROTO_TCP, 1, 2, 5, 0);
        ip = (struct ip_header *) pkt.data;
        ip->ip_ihl_ver = IP_IHL_VER(ihl, 4);
        ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP),
                         EINVAL);
    }

    /* IHL past the total length. */
    make_v4(&pkt, CLIENT4, VIP4, IPPROTO_TCP, 1, 2, 5, 0);
    ip = (struct ip_header *) pkt.data;
    ip->ip_tot_len = htons(24);
    ip->ip_ihl_ver = IP_IHL_VER(7, 4);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP),
                     EINVAL);

    /* Total length past the buffer. */
    make_v4(&pkt, CLIENT4, VIP4, IPPROTO_TCP, 1, 2, 5, 0);
    ip = (struct ip_header *) pkt.data;
    ip->ip_tot_len = htons(pkt.len + 1);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP),
                     EINVAL);

    /* Total length that cuts the TCP header short. */
    ip->ip_tot_len = htons(IP_HEADER_LEN + TCP_HEADER_LEN - 1);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP),
                     EINVAL);

    /* TCP data offset below 5, and past the segment. */
    make_v4(&pkt, CLIENT4, VIP4, IPPROTO_TCP, 1, 2, 5, 0);
    ((struct tcp_header *) (pkt.data + pkt.l4_ofs))->tcp_ctl = htons(4 << 12);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP),
                     EINVAL);
    ((struct tcp_header *) (pkt.data + pkt.l4_ofs))->tcp_ctl = htons(6 << 12);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP),
                     EINVAL);

    /* UDP length below the header, and past the datagram. */
    make_v4(&pkt, CLIENT4, VIP4, IPPROTO_UDP, 1, 2, 5, 4);
    ((struct udp_header *) (pkt.data + pkt.l4_ofs))->udp_len = htons(7);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP),
                     EINVAL);
    ((struct udp_header *) (pkt.data + pkt.l4_ofs))->udp_len = htons(13);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP),
                     EINVAL);
    ((struct udp_header *) (pkt.data + pkt.l4_ofs))->udp_len = htons(12);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP), 0);

    /* Not IPv4 or IPv6. */
    for (int ver = 0; ver < 16; ver++) {
        if (ver != 4 && ver != 6) {
            make_v4(&pkt, CLIENT4, VIP4, IPPROTO_TCP, 1, 2, 5, 0);
            pkt.data[0] = ver << 4 | 5;
            ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key,
                                         FLOW_KEY_TO_VIP), EAFNOSUPPORT);
            ck_assert(key_is_zero(&key));
        }
    }
}
END_TEST

START_TEST(test_bad_ipv6)
{
    struct ovs_16aligned_ip6_hdr *ip6;
    struct flow_key key;
    struct test_pkt pkt;

    /* Jumbogram (payload length 0). */
    make_v6(&pkt, CLIENT6, VIP6, IPPROTO_TCP, 1, 2, NULL, 0, 0, false, 0);
    ip6 = (struct ovs_16aligned_ip6_hdr *) pkt.data;
    ip6->ip6_ctlun.ip6_un1.ip6_un1_plen = htons(0);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP),
                     EINVAL);

    /* Payload length past the buffer. */
    ip6->ip6_ctlun.ip6_un1.ip6_un1_plen = htons(pkt.len - 39);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP),
                     EINVAL);

    /* An extension header whose length runs past the payload. */
    static const uint8_t hbh[] = { IPPROTO_HOPOPTS };
    make_v6(&pkt, CLIENT6, VIP6, IPPROTO_TCP, 1, 2, hbh, 1, 0, false, 0);
    pkt.data[IPV6_HEADER_LEN + 1] = 4;
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP),
                     EINVAL);

    /* IPv4-mapped addresses in an IPv6 header. */
    make_v6(&pkt, "::ffff:198.51.100.2", VIP6, IPPROTO_TCP, 1, 2, NULL, 0, 0,
            false, 0);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP),
                     EINVAL);
    make_v6(&pkt, CLIENT6, "::ffff:203.0.113.10", IPPROTO_UDP, 1, 2, NULL, 0,
            0, false, 0);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP),
                     EINVAL);
}
END_TEST

START_TEST(test_fragments)
{
    static const uint8_t frag[] = { IPPROTO_FRAGMENT };
    struct ip_header *ip;
    struct flow_key key;
    struct test_pkt pkt;

    /* IPv4: a later fragment holds no ports. */
    make_v4(&pkt, CLIENT4, VIP4, IPPROTO_TCP, 1, 2, 5, 0);
    ip = (struct ip_header *) pkt.data;
    ip->ip_frag_off = htons(185);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP),
                     ENODATA);
    ck_assert(key_is_zero(&key));
    ip->ip_frag_off = htons(IP_MORE_FRAGMENTS | 1);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP),
                     ENODATA);

    /* IPv4: the first fragment has the ports, even though its UDP length
     * covers the whole datagram. */
    make_v4(&pkt, CLIENT4, VIP4, IPPROTO_UDP, 1000, 53, 5, 8);
    ip = (struct ip_header *) pkt.data;
    ip->ip_frag_off = htons(IP_MORE_FRAGMENTS);
    ((struct udp_header *) (pkt.data + pkt.l4_ofs))->udp_len = htons(3000);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP), 0);
    assert_key_string(&key, CLIENT4":1000>"VIP4":53/udp");

    /* IPv4: a first fragment too short for the TCP header (RFC 1858). */
    make_v4(&pkt, CLIENT4, VIP4, IPPROTO_TCP, 1, 2, 5, 0);
    ip = (struct ip_header *) pkt.data;
    ip->ip_frag_off = htons(IP_MORE_FRAGMENTS);
    ip->ip_tot_len = htons(IP_HEADER_LEN + 8);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP),
                     EINVAL);

    /* IPv6: later fragment, then first fragment. */
    make_v6(&pkt, CLIENT6, VIP6, IPPROTO_TCP, 1, 2, frag, 1, 100, true, 0);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP),
                     ENODATA);
    make_v6(&pkt, CLIENT6, VIP6, IPPROTO_TCP, 1, 2, frag, 1, 100, false, 0);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP),
                     ENODATA);
    make_v6(&pkt, CLIENT6, VIP6, IPPROTO_TCP, 5, 6, frag, 1, 0, true, 0);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP), 0);
    assert_key_string(&key, "["CLIENT6"]:5>["VIP6"]:6/tcp");
}
END_TEST

START_TEST(test_not_tcp_udp)
{
    static const uint8_t dst[] = { IPPROTO_DSTOPTS };
    struct flow_key key;
    struct test_pkt pkt;

    make_v4(&pkt, CLIENT4, VIP4, IPPROTO_ICMP, 0, 0, 5, 0);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP),
                     EPROTONOSUPPORT);
    make_v4(&pkt, CLIENT4, VIP4, IPPROTO_SCTP, 0, 0, 5, 0);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP),
                     EPROTONOSUPPORT);
    make_v6(&pkt, CLIENT6, VIP6, IPPROTO_ICMPV6, 0, 0, NULL, 0, 0, false, 0);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP),
                     EPROTONOSUPPORT);
    make_v6(&pkt, CLIENT6, VIP6, IPPROTO_ESP, 0, 0, dst, 1, 0, false, 0);
    ck_assert_int_eq(parse_exact(&pkt, pkt.len, &key, FLOW_KEY_TO_VIP),
                     EPROTONOSUPPORT);
    ck_assert(key_is_zero(&key));
}
END_TEST

/* Random corruptions of valid packets never crash or read out of bounds,
 * and a success always yields TCP or UDP with the packet's family. */
START_TEST(test_random_corruption)
{
    static const uint8_t ext[] = { IPPROTO_HOPOPTS, IPPROTO_FRAGMENT };
    struct test_pkt base[4], pkt;
    struct flow_key key;
    int n_ok = 0;

    make_v4(&base[0], CLIENT4, VIP4, IPPROTO_TCP, 1, 2, 6, 4);
    make_v4(&base[1], CLIENT4, VIP4, IPPROTO_UDP, 1, 2, 5, 4);
    make_v6(&base[2], CLIENT6, VIP6, IPPROTO_TCP, 1, 2, NULL, 0, 0, false, 4);
    make_v6(&base[3], CLIENT6, VIP6, IPPROTO_UDP, 1, 2, ext, 2, 0, false, 4);

    random_set_seed(0x5eed);
    for (int i = 0; i < 20000; i++) {
        int n_flips = 1 + random_range(4);

        pkt = base[i % 4];
        for (int j = 0; j < n_flips; j++) {
            pkt.data[random_range(pkt.len)] ^= 1 << random_range(8);
        }
        size_t len = pkt.len;

        if ((i / 4) & 1) {
            len = random_range(pkt.len + 1);
        }
        int error = parse_exact(&pkt, len, &key,
                                i & 1 ? FLOW_KEY_TO_VIP : FLOW_KEY_FROM_VIP);
        ck_assert(error == 0 || error == EINVAL || error == EAFNOSUPPORT
                  || error == EPROTONOSUPPORT || error == ENODATA);
        if (!error) {
            n_ok++;
            ck_assert(key.proto == IPPROTO_TCP || key.proto == IPPROTO_UDP);
            ck_assert(flow_key_is_v4(&key) == (pkt.data[0] >> 4 == 4));
        } else {
            ck_assert(key_is_zero(&key));
        }
    }
    /* Some corruptions (of addresses, ports, payload) must still parse. */
    ck_assert_int_gt(n_ok, 100);
}
END_TEST

/* SipHash-2-4 reference vectors (key 00..0f, message 00..n-1), as computed
 * by the reference implementation and OpenSSL's SIPHASH MAC. */
START_TEST(test_siphash_vectors)
{
    static const struct {
        size_t n;
        uint64_t hash;
    } vectors[] = {
        { 0, UINT64_C(0x726fdb47dd0e0e31) },
        { 1, UINT64_C(0x74f839c593dc67fd) },
        { 7, UINT64_C(0xab0200f58b01d137) },
        { 8, UINT64_C(0x93f5f5799a932462) },
        { 15, UINT64_C(0xa129ca6149be45e5) },
        { 16, UINT64_C(0x3f2acc7f57c29bdb) },
        { 40, UINT64_C(0x0e3ea96b5304a7d0) },
    };
    const uint64_t k0 = UINT64_C(0x0706050403020100);
    const uint64_t k1 = UINT64_C(0x0f0e0d0c0b0a0908);
    uint8_t msg[64];

    for (size_t i = 0; i < sizeof msg; i++) {
        msg[i] = i;
    }
    for (size_t i = 0; i < ARRAY_SIZE(vectors); i++) {
        ck_assert_msg(flow_key_siphash(msg, vectors[i].n, k0, k1)
                      == vectors[i].hash, "SipHash of %zu bytes",
                      vectors[i].n);
    }
}
END_TEST

/* flow_key_hash64() places flows on the ring of every node: its values must
 * never change.  These are pinned; the second one was also checked against
 * OpenSSL's SIPHASH MAC over the key's 40 wire bytes with key
 * (0x0123456789abcdef, FLOW_KEY_HASH64_K1). */
START_TEST(test_hash64_pinned)
{
    struct in6_addr c = parse_ip6(CLIENT6), v = parse_ip6(VIP6);
    struct flow_key k4, k6, other;

    flow_key_init_v4(&k4, parse_ip4(CLIENT4), htons(40000), parse_ip4(VIP4),
                     htons(80), IPPROTO_TCP);
    flow_key_init_v6(&k6, &c, htons(40000), &v, htons(443), IPPROTO_UDP);

    ck_assert_uint_eq(flow_key_hash64(&k4, 0), UINT64_C(0x29965f860ba94439));
    ck_assert_uint_eq(flow_key_hash64(&k4, UINT64_C(0x0123456789abcdef)),
                      UINT64_C(0x4574a81b3df58130));
    ck_assert_uint_eq(flow_key_hash64(&k6, UINT64_C(0x0123456789abcdef)),
                      UINT64_C(0xd105e3f15fc7ad12));

    /* The padding does not take part. */
    other = k4;
    other.pad[1] = 7;
    ck_assert_uint_eq(flow_key_hash64(&other, 42), flow_key_hash64(&k4, 42));

    /* The key and every field do. */
    ck_assert_uint_ne(flow_key_hash64(&k4, 1), flow_key_hash64(&k4, 2));
    other = k4;
    other.client_port = htons(40001);
    ck_assert_uint_ne(flow_key_hash64(&other, 1), flow_key_hash64(&k4, 1));
    other = k4;
    other.proto = IPPROTO_UDP;
    ck_assert_uint_ne(flow_key_hash64(&other, 1), flow_key_hash64(&k4, 1));

    /* The local hash agrees with equality. */
    other = k4;
    ck_assert_uint_eq(flow_key_hash(&other, 9), flow_key_hash(&k4, 9));
    ck_assert(flow_key_equals(&other, &k4));
    ck_assert(!flow_key_equals(&k6, &k4));
}
END_TEST

START_TEST(test_format_parse)
{
    static const char *const good[] = {
        "198.51.100.2:40000>203.0.113.10:80/tcp",
        "0.0.0.0:0>255.255.255.255:65535/udp",
        "[2001:db8::2]:40000>[2001:db8:1::10]:443/tcp",
        "[::1]:1>[fe80::1]:2/udp",
    };
    struct flow_key key, back;

    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        char *error = flow_key_parse(&key, good[i]);

        ck_assert_msg(!error, "%s: %s", good[i], error);
        assert_key_string(&key, good[i]);
    }

    /* Other spellings of an IPv6 address are accepted. */
    char *error = flow_key_parse(&key,
                                 "[2001:DB8:0::2]:1>[2001:db8::3]:2/tcp");
    ck_assert(!error);
    assert_key_string(&key, "[2001:db8::2]:1>[2001:db8::3]:2/tcp");

    /* Random keys survive format then parse. */
    random_set_seed(77);
    for (int i = 0; i < 2000; i++) {
        if (i & 1) {
            flow_key_init_v4(&key, random_uint32(), random_uint16(),
                             random_uint32(), random_uint16(),
                             i & 2 ? IPPROTO_TCP : IPPROTO_UDP);
        } else {
            struct in6_addr c, v;

            random_bytes(&c, sizeof c);
            random_bytes(&v, sizeof v);
            /* Avoid the v4-mapped prefix, which is the IPv4 encoding. */
            c.s6_addr[0] = v.s6_addr[0] = 0x20;
            flow_key_init_v6(&key, &c, random_uint16(), &v, random_uint16(),
                             i & 2 ? IPPROTO_TCP : IPPROTO_UDP);
        }
        char *s = key_to_string(&key);
        error = flow_key_parse(&back, s);
        ck_assert_msg(!error, "%s: %s", s, error);
        ck_assert_msg(flow_key_equals(&key, &back), "%s", s);
        free(s);
    }
}
END_TEST

START_TEST(test_parse_errors)
{
    static const struct {
        const char *input;
        const char *error;      /* Substring of the expected error. */
    } bad[] = {
        { "", "missing \">\"" },
        { "1.2.3.4:1", "missing \">\"" },
        { "1.2.3.4:1>5.6.7.8:2", "missing \"/tcp\" or \"/udp\"" },
        { "1.2.3.4:1>5.6.7.8:2/sctp", "unknown protocol \"sctp\"" },
        { "1.2.3.4:1>5.6.7.8:2/TCP", "unknown protocol \"TCP\"" },
        { "1.2.3.4:1>5.6.7.8:2/tcp ", "unknown protocol \"tcp \"" },
        { "1.2.3.4>5.6.7.8:2/tcp", "client \"1.2.3.4\": missing \":port\"" },
        { "1.2.3.4:1>5.6.7.8/tcp", "VIP \"5.6.7.8\": missing \":port\"" },
        { "1.2.3:1>5.6.7.8:2/tcp", "\"1.2.3\" is not a valid IPv4" },
        { "1.2.3.256:1>5.6.7.8:2/tcp", "not a valid IPv4" },
        { "1.2.3.4:65536>5.6.7.8:2/tcp", "\"65536\" is not a valid port" },
        { "1.2.3.4:-1>5.6.7.8:2/tcp", "\"-1\" is not a valid port" },
        { "1.2.3.4:>5.6.7.8:2/tcp", "\"\" is not a valid port" },
        { "1.2.3.4: 1>5.6.7.8:2/tcp", "\" 1\" is not a valid port" },
        { "1.2.3.4:1>5.6.7.8:2x/tcp", "VIP: \"2x\" is not a valid port" },
        { "1.2.3.4:1>5.6.7.8:000001/tcp", "is not a valid port" },
        { "2001:db8::1:1>5.6.7.8:2/tcp", "must be written in brackets" },
        { "[2001:db8::1:1>[::2]:2/tcp", "missing \"]\"" },
        { "[2001:db8::1]1>[::2]:2/tcp", "expected \":port\" after \"]\"" },
        { "[2001:db8::g]:1>[::2]:2/tcp",
          "\"2001:db8::g\" is not a valid IPv6" },
        { "[1.2.3.4]:1>[::2]:2/tcp", "not a valid IPv6" },
        { "[::ffff:1.2.3.4]:1>5.6.7.8:2/tcp", "is IPv4-mapped" },
        { "1.2.3.4:1>[::2]:2/tcp", "different address families" },
        { "[::1]:1>5.6.7.8:2/udp", "different address families" },
        { "1.2.3.4:1>>5.6.7.8:2/tcp", "not a valid IPv4" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct flow_key key;
        char *error;

        memset(&key, 0xff, sizeof key);
        error = flow_key_parse(&key, bad[i].input);
        ck_assert_msg(error != NULL, "\"%s\" was accepted", bad[i].input);
        ck_assert_msg(strstr(error, bad[i].error) != NULL,
                      "\"%s\": error \"%s\" lacks \"%s\"", bad[i].input,
                      error, bad[i].error);
        ck_assert(key_is_zero(&key));
        free(error);
    }
}
END_TEST

static Suite *
flow_key_suite(void)
{
    Suite *s = suite_create("flow-key");
    TCase *tc = tcase_create("flow-key");

    tcase_add_test(tc, test_ipv4_tcp);
    tcase_add_test(tc, test_ipv4_udp);
    tcase_add_test(tc, test_ipv6);
    tcase_add_test(tc, test_truncations);
    tcase_add_test(tc, test_bad_ipv4);
    tcase_add_test(tc, test_bad_ipv6);
    tcase_add_test(tc, test_fragments);
    tcase_add_test(tc, test_not_tcp_udp);
    tcase_add_test(tc, test_random_corruption);
    tcase_add_test(tc, test_siphash_vectors);
    tcase_add_test(tc, test_hash64_pinned);
    tcase_add_test(tc, test_format_parse);
    tcase_add_test(tc, test_parse_errors);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(flow_key_suite());
    int n_failed;

    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
