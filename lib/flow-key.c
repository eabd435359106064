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
 * flow-key: the CP pair (client address and port, VIP and VIP port,
 * protocol), extracted from packets, hashed, formatted and parsed.
 *
 * See flow-key.h for who may call this module.
 */
#include <config.h>
#include "flow-key.h"

#include <errno.h>
#include <string.h>
#include "coverage.h"
#include "flow.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-ct.h"
#include "openvswitch/util.h"
#include "packets.h"
#include "util.h"

COVERAGE_DEFINE(flow_key_malformed);
COVERAGE_DEFINE(flow_key_bad_family);
COVERAGE_DEFINE(flow_key_unsupported_proto);
COVERAGE_DEFINE(flow_key_later_fragment);

/* The second half of the SipHash key used by flow_key_hash64(): it separates
 * the flow hash from other uses of the same 64-bit key (ring.c uses other
 * constants for its points).  "ovslb-cp" in ASCII.  Changing it changes
 * every node's ring placement: never change it. */
#define FLOW_KEY_HASH64_K1 UINT64_C(0x6f76736c622d6370)

void
flow_key_init_v4(struct flow_key *key, ovs_be32 client, ovs_be16 client_port,
                 ovs_be32 vip, ovs_be16 vip_port, uint8_t proto)
{
    memset(key, 0, sizeof *key);
    in6_addr_set_mapped_ipv4(&key->client, client);
    in6_addr_set_mapped_ipv4(&key->vip, vip);
    key->client_port = client_port;
    key->vip_port = vip_port;
    key->proto = proto;
}

void
flow_key_init_v6(struct flow_key *key, const struct in6_addr *client,
                 ovs_be16 client_port, const struct in6_addr *vip,
                 ovs_be16 vip_port, uint8_t proto)
{
    memset(key, 0, sizeof *key);
    key->client = *client;
    key->vip = *vip;
    key->client_port = client_port;
    key->vip_port = vip_port;
    key->proto = proto;
}

/* Returns true if 'key' has a protocol of ours (TCP or UDP) and zero
 * padding: what control messages may carry (ctl-msg.h), so what a key read
 * back from outside the process (a journal) must be before anything uses
 * it. */
bool
flow_key_is_valid(const struct flow_key *key)
{
    return ((key->proto == IPPROTO_TCP || key->proto == IPPROTO_UDP)
            && !key->pad[0] && !key->pad[1] && !key->pad[2]);
}

/* Returns true if both addresses of 'key' are IPv4 (v4-mapped).  Keys built by
 * this module never mix families. */
bool
flow_key_is_v4(const struct flow_key *key)
{
    return (IN6_IS_ADDR_V4MAPPED(&key->client)
            && IN6_IS_ADDR_V4MAPPED(&key->vip));
}

/* Returns the IPv4 client address of 'key', or 0 if it is not IPv4. */
ovs_be32
flow_key_client_v4(const struct flow_key *key)
{
    return in6_addr_get_mapped_ipv4(&key->client);
}

/* Returns the IPv4 VIP of 'key', or 0 if it is not IPv4. */
ovs_be32
flow_key_vip_v4(const struct flow_key *key)
{
    return in6_addr_get_mapped_ipv4(&key->vip);
}

static int
flow_key_reject(int error)
{
    switch (error) {
    case EINVAL:
        COVERAGE_INC(flow_key_malformed);
        break;
    case EAFNOSUPPORT:
        COVERAGE_INC(flow_key_bad_family);
        break;
    case EPROTONOSUPPORT:
        COVERAGE_INC(flow_key_unsupported_proto);
        break;
    case ENODATA:
        COVERAGE_INC(flow_key_later_fragment);
        break;
    default:
        OVS_NOT_REACHED();
    }
    return error;
}

/* Reads the ports of the TCP or UDP header at 'l4', which has 'l4_len' bytes
 * available.  'whole' is false for a first fragment, whose L4 header is
 * complete but whose L4 length fields describe data not in this packet. */
static int
flow_key_parse_l4(const void *l4, size_t l4_len, uint8_t proto, bool whole,
                  ovs_be16 *src, ovs_be16 *dst)
{
    if (proto == IPPROTO_TCP) {
        const struct tcp_header *tcp = l4;
        size_t hlen;

        if (l4_len < TCP_HEADER_LEN) {
            return EINVAL;
        }
        hlen = TCP_OFFSET(tcp->tcp_ctl) * 4;
        if (hlen < TCP_HEADER_LEN || (whole && hlen > l4_len)) {
            return EINVAL;
        }
        *src = tcp->tcp_src;
        *dst = tcp->tcp_dst;
    } else if (proto == IPPROTO_UDP) {
        const struct udp_header *udp = l4;
        size_t ulen;

        if (l4_len < UDP_HEADER_LEN) {
            return EINVAL;
        }
        ulen = ntohs(udp->udp_len);
        if (whole && (ulen < UDP_HEADER_LEN || ulen > l4_len)) {
            return EINVAL;
        }
        *src = udp->udp_src;
        *dst = udp->udp_dst;
    } else {
        return EPROTONOSUPPORT;
    }
    return 0;
}

static int
flow_key_from_ipv4(const uint8_t *p, size_t len, ovs_be32 *src, ovs_be32 *dst,
                   ovs_be16 *sport, ovs_be16 *dport, uint8_t *proto)
{
    const struct ip_header *ip = (const struct ip_header *) p;
    size_t ihl, tot_len;
    bool whole;

    if (len < IP_HEADER_LEN) {
        return EINVAL;
    }
    ihl = IP_IHL(ip->ip_ihl_ver) * 4;
    tot_len = ntohs(ip->ip_tot_len);
    if (ihl < IP_HEADER_LEN || tot_len < ihl || tot_len > len) {
        return EINVAL;
    }
    if (ip->ip_frag_off & htons(IP_FRAG_OFF_MASK)) {
        return ENODATA;
    }
    whole = !(ip->ip_frag_off & htons(IP_MORE_FRAGMENTS));

    int error = flow_key_parse_l4(p + ihl, tot_len - ihl, ip->ip_proto, whole,
                                  sport, dport);
    if (error) {
        return error;
    }
    *src = get_16aligned_be32(&ip->ip_src);
    *dst = get_16aligned_be32(&ip->ip_dst);
    *proto = ip->ip_proto;
    return 0;
}

static int
flow_key_from_ipv6(const uint8_t *p, size_t len, struct in6_addr *src,
                   struct in6_addr *dst, ovs_be16 *sport, ovs_be16 *dport,
                   uint8_t *proto)
{
    const struct ovs_16aligned_ip6_hdr *ip6
        = (const struct ovs_16aligned_ip6_hdr *) p;
    const struct ovs_16aligned_ip6_frag *frag;
    size_t plen;

    if (len < IPV6_HEADER_LEN) {
        return EINVAL;
    }
    plen = ntohs(ip6->ip6_ctlun.ip6_un1.ip6_un1_plen);
    if (!plen || plen > len - IPV6_HEADER_LEN) {
        /* Jumbograms (payload length 0) are not supported. */
        return EINVAL;
    }

    const void *l4 = p + IPV6_HEADER_LEN;
    size_t l4_len = plen;
    uint8_t nw_proto = ip6->ip6_ctlun.ip6_un1.ip6_un1_nxt;
    uint8_t nw_frag = 0;
    if (!parse_ipv6_ext_hdrs(&l4, &l4_len, &nw_proto, &nw_frag, &frag)) {
        return EINVAL;
    }
    if (nw_frag & FLOW_NW_FRAG_LATER) {
        return ENODATA;
    }

    int error = flow_key_parse_l4(l4, l4_len, nw_proto,
                                  !(nw_frag & FLOW_NW_FRAG_ANY),
                                  sport, dport);
    if (error) {
        return error;
    }
    memcpy(src, &ip6->ip6_src, sizeof *src);
    memcpy(dst, &ip6->ip6_dst, sizeof *dst);
    if (IN6_IS_ADDR_V4MAPPED(src) || IN6_IS_ADDR_V4MAPPED(dst)) {
        /* Not valid on the wire (RFC 4291 2.5.5.2), and the key would be
         * indistinguishable from an IPv4 one. */
        return EINVAL;
    }
    *proto = nw_proto;
    return 0;
}

/* Extracts into '*key' the CP pair of the IPv4 or IPv6 packet that starts at
 * 'l3' (the IP header) and has 'l3_len' bytes.  'dir' says whether the packet
 * goes from the client to the VIP (its source is the client) or back.
 * 'l3' must be 2-byte aligned, as for all packet parsing in OVS.
 *
 * The packet is hostile: every length is checked against 'l3_len' and no byte
 * beyond it is read.  Bytes past the IP total length (IPv4) or payload length
 * (IPv6), such as Ethernet padding, are ignored.  IPv6 extension headers
 * (hop-by-hop, routing, destination options, fragment, AH) are skipped.
 *
 * Returns 0 on success, otherwise a positive errno value, with '*key'
 * zeroed:
 *
 *   - EINVAL: malformed or truncated: short header, IHL below 5, total or
 *     payload length beyond 'l3_len' or below the header, IPv6 jumbogram, bad
 *     extension header, TCP/UDP header cut short or inconsistent (TCP data
 *     offset below 5 or past the end, UDP length wrong), a first fragment too
 *     short to hold the whole TCP/UDP header, or an IPv6 packet with an
 *     IPv4-mapped address.
 *
 *   - EAFNOSUPPORT: the IP version is neither 4 nor 6.
 *
 *   - EPROTONOSUPPORT: the transport protocol is neither TCP nor UDP
 *     (including ESP and unknown IPv6 extension headers).
 *
 *   - ENODATA: a fragment other than the first, which holds no ports.
 *
 * Every rejection is counted in a coverage counter. */
int
flow_key_from_ip(struct flow_key *key, const void *l3, size_t l3_len,
                 enum flow_key_dir dir)
{
    const uint8_t *p = l3;
    struct in6_addr src, dst;
    ovs_be16 sport, dport;
    uint8_t proto;
    int error;

    memset(key, 0, sizeof *key);
    if (!l3_len) {
        return flow_key_reject(EINVAL);
    }

    switch (p[0] >> 4) {
    case 4: {
        ovs_be32 src4, dst4;

        error = flow_key_from_ipv4(p, l3_len, &src4, &dst4, &sport, &dport,
                                   &proto);
        if (!error) {
            in6_addr_set_mapped_ipv4(&src, src4);
            in6_addr_set_mapped_ipv4(&dst, dst4);
        }
        break;
    }
    case 6:
        error = flow_key_from_ipv6(p, l3_len, &src, &dst, &sport, &dport,
                                   &proto);
        break;
    default:
        error = EAFNOSUPPORT;
        break;
    }
    if (error) {
        return flow_key_reject(error);
    }

    if (dir == FLOW_KEY_TO_VIP) {
        flow_key_init_v6(key, &src, sport, &dst, dport, proto);
    } else {
        flow_key_init_v6(key, &dst, dport, &src, sport, proto);
    }
    return 0;
}

/* Returns true if 'a' and 'b' are the same CP pair. */
bool
flow_key_equals(const struct flow_key *a, const struct flow_key *b)
{
    return !memcmp(a, b, sizeof *a);
}

/* Returns a 32-bit hash of 'key' from 'basis', for local hash tables (hmap)
 * only: it uses OVS's hash_words(), whose value depends on the CPU and on the
 * compiler flags, so it must never be compared between nodes.  Use
 * flow_key_hash64() for anything another node must agree with. */
uint32_t
flow_key_hash(const struct flow_key *key, uint32_t basis)
{
    BUILD_ASSERT_DECL(sizeof *key % 4 == 0);
    return hash_words(ALIGNED_CAST(const uint32_t *, key),
                      sizeof *key / 4, basis);
}

static inline uint64_t
siphash_rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static inline uint64_t
siphash_le64(const uint8_t *p)
{
    uint64_t x = 0;

    for (int i = 7; i >= 0; i--) {
        x = (x << 8) | p[i];
    }
    return x;
}

#define SIPROUND                                                \
    do {                                                        \
        v0 += v1; v1 = siphash_rotl(v1, 13); v1 ^= v0;          \
        v0 = siphash_rotl(v0, 32);                              \
        v2 += v3; v3 = siphash_rotl(v3, 16); v3 ^= v2;          \
        v0 += v3; v3 = siphash_rotl(v3, 21); v3 ^= v0;          \
        v2 += v1; v1 = siphash_rotl(v1, 17); v1 ^= v2;          \
        v2 = siphash_rotl(v2, 32);                              \
    } while (0)

/* Returns SipHash-2-4 (Aumasson and Bernstein, 2012) of the 'n' bytes at
 * 'data' under the 128-bit key whose little-endian halves are 'k0' and 'k1'.
 *
 * This is the keyed hash that every node must compute identically (ring
 * placement of flows and of ring points), so it is defined on bytes, with no
 * dependence on the host's byte order, word size or CPU features.  OVS's
 * hash_bytes64()/hash_words64() do not qualify: they return 32 bits, take a
 * 32-bit basis and switch to a CRC32-based algorithm when built with SSE4.2;
 * hash_bytes128() differs between 32- and 64-bit hosts.  SipHash is also a
 * PRF, so clients that do not know the key cannot choose addresses and ports
 * that all land on one tracker. */
uint64_t
flow_key_siphash(const void *data, size_t n, uint64_t k0, uint64_t k1)
{
    const uint8_t *p = data;
    uint64_t v0 = k0 ^ UINT64_C(0x736f6d6570736575);
    uint64_t v1 = k1 ^ UINT64_C(0x646f72616e646f6d);
    uint64_t v2 = k0 ^ UINT64_C(0x6c7967656e657261);
    uint64_t v3 = k1 ^ UINT64_C(0x7465646279746573);
    uint64_t b = (uint64_t) n << 56;
    size_t i;

    for (i = 0; i + 8 <= n; i += 8) {
        uint64_t m = siphash_le64(p + i);

        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    for (size_t j = 0; i + j < n; j++) {
        b |= (uint64_t) p[i + j] << (8 * j);
    }

    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* Returns the 64-bit hash of 'key' under the cluster's ring key 'k': SipHash
 * of the key's 40 wire bytes (network byte order, padding taken as zero).
 * This is the position of the flow on the ring (ring.c); it is the same on
 * every node and agent, whatever their CPU, and is pinned by the unit test. */
uint64_t
flow_key_hash64(const struct flow_key *key, uint64_t k)
{
    struct flow_key wire = *key;

    memset(wire.pad, 0, sizeof wire.pad);
    return flow_key_siphash(&wire, sizeof wire, k, FLOW_KEY_HASH64_K1);
}

static void
flow_key_format_endpoint(const struct in6_addr *addr, ovs_be16 port,
                         struct ds *s)
{
    if (IN6_IS_ADDR_V4MAPPED(addr)) {
        ovs_be32 ip = in6_addr_get_mapped_ipv4(addr);

        ds_put_format(s, IP_FMT, IP_ARGS(ip));
    } else {
        ipv6_format_addr_bracket(addr, s, true);
    }
    ds_put_format(s, ":%"PRIu16, ntohs(port));
}

/* Appends 'key' to 's' as "client:port>vip:port/proto", with IPv6 addresses
 * in brackets, e.g. "198.51.100.2:40000>203.0.113.10:80/tcp" or
 * "[2001:db8::2]:40000>[2001:db8::10]:443/udp".  A protocol other than TCP or
 * UDP (never in a key built by this module) is written as its number. */
void
flow_key_format(const struct flow_key *key, struct ds *s)
{
    flow_key_format_endpoint(&key->client, key->client_port, s);
    ds_put_char(s, '>');
    flow_key_format_endpoint(&key->vip, key->vip_port, s);
    if (key->proto == IPPROTO_TCP) {
        ds_put_cstr(s, "/tcp");
    } else if (key->proto == IPPROTO_UDP) {
        ds_put_cstr(s, "/udp");
    } else {
        ds_put_format(s, "/%"PRIu8, key->proto);
    }
}

/* Parses 'port', a decimal number of 1 to 5 digits no greater than 65535. */
static bool
flow_key_parse_port(const char *port, ovs_be16 *portp)
{
    size_t n = strlen(port);
    unsigned int value = 0;

    if (n < 1 || n > 5) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (port[i] < '0' || port[i] > '9') {
            return false;
        }
        value = value * 10 + (port[i] - '0');
    }
    if (value > UINT16_MAX) {
        return false;
    }
    *portp = htons(value);
    return true;
}

/* Parses 's', one "addr:port" endpoint, modified in place.  'what' names the
 * endpoint in error messages.  Sets '*is_v4' to the address family. */
static char * OVS_WARN_UNUSED_RESULT
flow_key_parse_endpoint(char *s, const char *what, struct in6_addr *addr,
                        ovs_be16 *port, bool *is_v4)
{
    char *port_s;

    if (s[0] == '[') {
        char *end = strchr(s, ']');

        if (!end) {
            return xasprintf("%s \"%s\": missing \"]\"", what, s);
        }
        if (end[1] != ':') {
            return xasprintf("%s \"%s\": expected \":port\" after \"]\"",
                             what, s);
        }
        *end = '\0';
        port_s = end + 2;
        if (!ipv6_parse(s + 1, addr)) {
            return xasprintf("%s: \"%s\" is not a valid IPv6 address",
                             what, s + 1);
        }
        if (IN6_IS_ADDR_V4MAPPED(addr)) {
            return xasprintf("%s: \"%s\" is IPv4-mapped; write the IPv4 "
                             "address without brackets", what, s + 1);
        }
        *is_v4 = false;
    } else {
        char *colon = strchr(s, ':');
        ovs_be32 ip;

        if (!colon) {
            return xasprintf("%s \"%s\": missing \":port\"", what, s);
        }
        if (strchr(colon + 1, ':')) {
            return xasprintf("%s \"%s\": an IPv6 address must be written in "
                             "brackets, as in [2001:db8::1]:80", what, s);
        }
        *colon = '\0';
        port_s = colon + 1;
        if (!ip_parse(s, &ip)) {
            return xasprintf("%s: \"%s\" is not a valid IPv4 address",
                             what, s);
        }
        in6_addr_set_mapped_ipv4(addr, ip);
        *is_v4 = true;
    }

    if (!flow_key_parse_port(port_s, port)) {
        return xasprintf("%s: \"%s\" is not a valid port (0 to 65535)",
                         what, port_s);
    }
    return NULL;
}

/* Parses 's', in the format written by flow_key_format()
 * ("client:port>vip:port/proto", proto "tcp" or "udp", IPv6 addresses in
 * brackets, both addresses of the same family), into '*key'.  IPv6 addresses
 * may be in any form inet_pton() accepts; ports are decimal.  For every key
 * 'k' built by this module, parsing the formatted 'k' gives 'k' back.
 *
 * Returns NULL on success, otherwise a malloc()'d error message that the
 * caller must free(), with '*key' zeroed. */
char * OVS_WARN_UNUSED_RESULT
flow_key_parse(struct flow_key *key, const char *s)
{
    struct in6_addr client, vip;
    ovs_be16 client_port, vip_port;
    bool client_v4, vip_v4;
    uint8_t proto;
    char *copy, *gt, *slash, *error;

    memset(key, 0, sizeof *key);

    copy = xstrdup(s);
    gt = strchr(copy, '>');
    if (!gt) {
        error = xasprintf("\"%s\": missing \">\" between client and VIP "
                          "(expected client:port>vip:port/proto)", s);
        goto out;
    }
    *gt = '\0';
    slash = strchr(gt + 1, '/');
    if (!slash) {
        error = xasprintf("\"%s\": missing \"/tcp\" or \"/udp\"", s);
        goto out;
    }
    *slash = '\0';
    if (!strcmp(slash + 1, "tcp")) {
        proto = IPPROTO_TCP;
    } else if (!strcmp(slash + 1, "udp")) {
        proto = IPPROTO_UDP;
    } else {
        error = xasprintf("\"%s\": unknown protocol \"%s\" (expected tcp or "
                          "udp)", s, slash + 1);
        goto out;
    }

    error = flow_key_parse_endpoint(copy, "client", &client, &client_port,
                                    &client_v4);
    if (!error) {
        error = flow_key_parse_endpoint(gt + 1, "VIP", &vip, &vip_port,
                                        &vip_v4);
    }
    if (!error && client_v4 != vip_v4) {
        error = xasprintf("\"%s\": client and VIP are of different address "
                          "families", s);
    }
    if (!error) {
        flow_key_init_v6(key, &client, client_port, &vip, vip_port, proto);
    }

out:
    free(copy);
    return error;
}

/* Fills 'match' with what names 'cp''s connection (client to VIP, its
 * original direction) in a switch's connection tracker, for a flush of that
 * connection alone. */
void
flow_key_to_ct_match(const struct flow_key *cp, struct ofp_ct_match *match)
{
    memset(match, 0, sizeof *match);
    match->ip_proto = cp->proto;
    match->l3_type = flow_key_is_v4(cp) ? AF_INET : AF_INET6;
    match->tuple_orig.src = cp->client;
    match->tuple_orig.dst = cp->vip;
    match->tuple_orig.src_port = cp->client_port;
    match->tuple_orig.dst_port = cp->vip_port;
}
