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
 * tcp-seg: building and parsing ovslb's TCP segments.  See tcp-seg.h.
 */
#include <config.h>
#include "tcp-seg.h"

#include <string.h>
#include "coverage.h"
#include "csum.h"
#include "dp-packet.h"
#include "flow-key.h"
#include "packets.h"
#include "unaligned.h"
#include "util.h"

COVERAGE_DEFINE(tcp_seg_bad_l2);
COVERAGE_DEFINE(tcp_seg_bad_ip);
COVERAGE_DEFINE(tcp_seg_bad_tcp);
COVERAGE_DEFINE(tcp_seg_bad_opts);

/* TCP option kinds. */
enum {
    OPT_EOL = 0,
    OPT_NOP = 1,
    OPT_MSS = 2,
    OPT_WSCALE = 3,
    OPT_SACK_PERM = 4,
    OPT_SACK = 5,
    OPT_TS = 8,
};

/* IP TTL (hop limit) of the segments built here, the usual host default.
 * Not a setting: the segments go to clients as if from the VIP's host. */
#define TTL_DEFAULT 64

static const char *const error_strings[TCP_SEG_N_ERRORS] = {
    [TCP_SEG_OK] = "success",
    [TCP_SEG_E_ETH_SHORT] = "frame shorter than its Ethernet headers",
    [TCP_SEG_E_ETH_TYPE] = "Ethertype is neither IPv4 nor IPv6",
    [TCP_SEG_E_IP_SHORT] = "packet shorter than an IP header",
    [TCP_SEG_E_IP_VERSION] = "unexpected IP version",
    [TCP_SEG_E_IP_IHL] = "bad IPv4 header length",
    [TCP_SEG_E_IP_LEN] = "IP length inconsistent with the data",
    [TCP_SEG_E_IP_FRAGMENT] = "IPv4 fragment",
    [TCP_SEG_E_IP_PROTO] = "not TCP (or IPv6 extension headers)",
    [TCP_SEG_E_IP_MAPPED] = "IPv6 packet with a v4-mapped address",
    [TCP_SEG_E_TCP_SHORT] = "segment shorter than a TCP header",
    [TCP_SEG_E_TCP_DOFF] = "bad TCP data offset",
    [TCP_SEG_E_OPT_LEN] = "TCP option length below 2",
    [TCP_SEG_E_OPT_OVERRUN] = "TCP option runs past the TCP header",
    [TCP_SEG_E_OPT_MSS] = "TCP MSS option length is not 4",
    [TCP_SEG_E_OPT_WSCALE] = "TCP window scale option length is not 3",
    [TCP_SEG_E_OPT_SACK_PERM] = "TCP SACK-permitted option length is not 2",
    [TCP_SEG_E_OPT_TS] = "TCP timestamps option length is not 10",
    [TCP_SEG_E_OPT_SACK] = "TCP SACK option length is not 2 + 8n",
    [TCP_SEG_E_OPT_DUP] = "TCP option repeated",
    [TCP_SEG_E_OPT_SPACE] = "TCP options do not fit in 40 bytes",
    [TCP_SEG_E_AF] = "source and destination address families differ",
    [TCP_SEG_E_TOO_BIG] = "segment too big",
    [TCP_SEG_E_RST_FOR_RST] = "a RST is never answered",
};

/* Returns a string describing 'error', a value returned by a tcp_seg_*,
 * tcp_opts_* or seq_xlate_* function. */
const char *
tcp_seg_strerror(int error)
{
    return (error >= 0 && error < TCP_SEG_N_ERRORS && error_strings[error]
            ? error_strings[error] : "unknown tcp-seg error");
}

static inline uint16_t
rd16(const uint8_t *p)
{
    return ntohs(get_unaligned_be16((const ovs_be16 *) p));
}

static inline uint32_t
rd32(const uint8_t *p)
{
    return ntohl(get_unaligned_be32((const ovs_be32 *) p));
}

static inline uint8_t *
wr16(uint8_t *p, uint16_t x)
{
    put_unaligned_be16((ovs_be16 *) p, htons(x));
    return p + 2;
}

static inline uint8_t *
wr32(uint8_t *p, uint32_t x)
{
    put_unaligned_be32((ovs_be32 *) p, htonl(x));
    return p + 4;
}

/* Parses the options of the TCP header at 'tcp', whose 'hdr_len' bytes
 * (at least TCP_HEADER_LEN) are readable. */
static int
parse_opts(const uint8_t *tcp, size_t hdr_len, struct tcp_opts *opts)
{
    bool has_sack = false;
    size_t i = TCP_HEADER_LEN;

    memset(opts, 0, sizeof *opts);
    while (i < hdr_len) {
        uint8_t kind = tcp[i];
        if (kind == OPT_EOL) {
            break;
        } else if (kind == OPT_NOP) {
            i++;
            continue;
        }

        if (hdr_len - i < 2) {
            return TCP_SEG_E_OPT_OVERRUN;
        }
        uint8_t len = tcp[i + 1];
        if (len < 2) {
            return TCP_SEG_E_OPT_LEN;
        } else if (len > hdr_len - i) {
            return TCP_SEG_E_OPT_OVERRUN;
        }

        const uint8_t *data = &tcp[i + 2];
        switch (kind) {
        case OPT_MSS:
            if (len != 4) {
                return TCP_SEG_E_OPT_MSS;
            } else if (opts->has_mss) {
                return TCP_SEG_E_OPT_DUP;
            }
            opts->has_mss = true;
            opts->mss = rd16(data);
            break;

        case OPT_WSCALE:
            if (len != 3) {
                return TCP_SEG_E_OPT_WSCALE;
            } else if (opts->has_wscale) {
                return TCP_SEG_E_OPT_DUP;
            }
            opts->has_wscale = true;
            opts->wscale = data[0];
            break;

        case OPT_SACK_PERM:
            if (len != 2) {
                return TCP_SEG_E_OPT_SACK_PERM;
            } else if (opts->sack_permitted) {
                return TCP_SEG_E_OPT_DUP;
            }
            opts->sack_permitted = true;
            break;

        case OPT_SACK:
            /* 'len' <= 40 here, so at most TCP_OPTS_MAX_SACK blocks. */
            if (len < 10 || (len - 2) % 8) {
                return TCP_SEG_E_OPT_SACK;
            } else if (has_sack) {
                return TCP_SEG_E_OPT_DUP;
            }
            has_sack = true;
            opts->n_sack = (len - 2) / 8;
            opts->sack_ofs = data - tcp;
            for (size_t j = 0; j < opts->n_sack; j++) {
                opts->sack[j].left = rd32(data + 8 * j);
                opts->sack[j].right = rd32(data + 8 * j + 4);
            }
            break;

        case OPT_TS:
            if (len != 10) {
                return TCP_SEG_E_OPT_TS;
            } else if (opts->has_ts) {
                return TCP_SEG_E_OPT_DUP;
            }
            opts->has_ts = true;
            opts->tsval = rd32(data);
            opts->tsecr = rd32(data + 4);
            opts->ts_ofs = data - tcp;
            break;

        default:
            break;
        }
        i += len;
    }
    return 0;
}

/* Checks the TCP header at 'tcp' ('tcp_len' readable bytes: the segment's
 * header and payload) and returns its length in '*hdr_lenp'. */
static int
check_tcp_header(const uint8_t *tcp, size_t tcp_len, size_t *hdr_lenp)
{
    if (tcp_len < TCP_HEADER_LEN) {
        return TCP_SEG_E_TCP_SHORT;
    }
    size_t hdr_len = (tcp[12] >> 4) * 4;
    if (hdr_len < TCP_HEADER_LEN || hdr_len > tcp_len) {
        return TCP_SEG_E_TCP_DOFF;
    }
    *hdr_lenp = hdr_len;
    return 0;
}

/* Parses the options of the TCP header at 'tcp', of which 'tcp_len' bytes
 * (header and payload) are readable, into 'opts'.  The header must be whole
 * (data offset between 5 and 'tcp_len' / 4).  Rejects malformed option lists:
 * a length byte below 2, an option running past the data offset, a known
 * option with the wrong length (MSS 4, window scale 3, SACK-permitted 2,
 * timestamps 10, SACK 2 + 8n with n from 1 to 4), or one of those options
 * given twice.  Unknown options are skipped; EOL ends the list.
 *
 * Returns 0 or a TCP_SEG_E_* error; on error '*opts' is zeroed. */
int
tcp_opts_parse(const void *tcp_, size_t tcp_len, struct tcp_opts *opts)
{
    const uint8_t *tcp = tcp_;
    size_t hdr_len;
    int error;

    error = check_tcp_header(tcp, tcp_len, &hdr_len);
    if (!error) {
        error = parse_opts(tcp, hdr_len, opts);
    }
    if (error) {
        COVERAGE_INC(tcp_seg_bad_opts);
        memset(opts, 0, sizeof *opts);
    }
    return error;
}

/* Writes 'opts', with its first 'opts->n_sack' SACK blocks, into 'buf' in
 * the layout Linux uses (MSS; SACK-permitted and timestamps sharing a word,
 * or each padded with NOPs; window scale after a NOP; SACK blocks after two
 * NOPs), and stores the number of bytes written, a multiple of 4, in
 * '*lenp'.  Window scales above TCP_WSCALE_MAX are written as they are.
 *
 * Returns 0, TCP_SEG_E_OPT_SACK if 'opts->n_sack' exceeds TCP_OPTS_MAX_SACK,
 * or TCP_SEG_E_OPT_SPACE if the options exceed TCP_OPTS_MAX_LEN bytes (then
 * '*lenp' is 0). */
int
tcp_opts_write(const struct tcp_opts *opts, uint8_t buf[TCP_OPTS_MAX_LEN],
               size_t *lenp)
{
    size_t len = 0;

    *lenp = 0;
    if (opts->n_sack > TCP_OPTS_MAX_SACK) {
        return TCP_SEG_E_OPT_SACK;
    }
    len += opts->has_mss ? 4 : 0;
    len += opts->has_ts ? 12 : opts->sack_permitted ? 4 : 0;
    len += opts->has_wscale ? 4 : 0;
    len += opts->n_sack ? 4 + 8 * opts->n_sack : 0;
    if (len > TCP_OPTS_MAX_LEN) {
        return TCP_SEG_E_OPT_SPACE;
    }

    uint8_t *p = buf;
    if (opts->has_mss) {
        *p++ = OPT_MSS;
        *p++ = 4;
        p = wr16(p, opts->mss);
    }
    if (opts->has_ts) {
        if (opts->sack_permitted) {
            *p++ = OPT_SACK_PERM;
            *p++ = 2;
        } else {
            *p++ = OPT_NOP;
            *p++ = OPT_NOP;
        }
        *p++ = OPT_TS;
        *p++ = 10;
        p = wr32(p, opts->tsval);
        p = wr32(p, opts->tsecr);
    } else if (opts->sack_permitted) {
        *p++ = OPT_NOP;
        *p++ = OPT_NOP;
        *p++ = OPT_SACK_PERM;
        *p++ = 2;
    }
    if (opts->has_wscale) {
        *p++ = OPT_NOP;
        *p++ = OPT_WSCALE;
        *p++ = 3;
        *p++ = opts->wscale;
    }
    if (opts->n_sack) {
        *p++ = OPT_NOP;
        *p++ = OPT_NOP;
        *p++ = OPT_SACK;
        *p++ = 2 + 8 * opts->n_sack;
        for (size_t i = 0; i < opts->n_sack; i++) {
            p = wr32(p, opts->sack[i].left);
            p = wr32(p, opts->sack[i].right);
        }
    }
    ovs_assert((size_t) (p - buf) == len);
    *lenp = len;
    return 0;
}

static uint16_t
default_mss(bool ipv6)
{
    return ipv6 ? TCP_MSS_DEFAULT_V6 : TCP_MSS_DEFAULT_V4;
}

/* Stores in 'synack' the options of the SYN/ACK that the LB tier answers a
 * client's SYN with (PROTOCOL.md §2), given the options of the client's SYN
 * 'client':
 *
 *   - MSS: the smaller of the client's MSS and 'vip_mss' (a client that sent
 *     no MSS is taken to have the RFC 9293 default, 536 for IPv4 or 1220 for
 *     IPv6 as 'ipv6' says);
 *   - window scale 'wscale' (at most TCP_WSCALE_MAX), only if the client
 *     offered one;
 *   - SACK-permitted, if the client offered it;
 *   - timestamps with TSval 'tsval' and TSecr the client's TSval, if the
 *     client sent timestamps. */
void
tcp_opts_for_synack(const struct tcp_opts *client, bool ipv6,
                    uint16_t vip_mss, uint8_t wscale, uint32_t tsval,
                    struct tcp_opts *synack)
{
    uint16_t client_mss = client->has_mss ? client->mss : default_mss(ipv6);

    memset(synack, 0, sizeof *synack);
    synack->has_mss = true;
    synack->mss = MIN(client_mss, vip_mss);
    if (client->has_wscale) {
        synack->has_wscale = true;
        synack->wscale = MIN(wscale, TCP_WSCALE_MAX);
    }
    synack->sack_permitted = client->sack_permitted;
    if (client->has_ts) {
        synack->has_ts = true;
        synack->tsval = tsval;
        synack->tsecr = client->tsval;
    }
}

/* Stores in 'syn' the options of the SYN that the agent injects into the
 * server's stack on behalf of the client (PROTOCOL.md §2): the options of the
 * client's own SYN 'client' (window scale, SACK-permitted, timestamps as the
 * client sent them; no SACK blocks), with the MSS clamped to 'max_mss'.  A
 * client that sent no MSS gets none, unless 'max_mss' is below the RFC 9293
 * default for the family ('ipv6'): then the SYN carries 'max_mss'. */
void
tcp_opts_for_syn(const struct tcp_opts *client, bool ipv6, uint16_t max_mss,
                 struct tcp_opts *syn)
{
    memset(syn, 0, sizeof *syn);
    if (client->has_mss) {
        syn->has_mss = true;
        syn->mss = MIN(client->mss, max_mss);
    } else if (max_mss < default_mss(ipv6)) {
        syn->has_mss = true;
        syn->mss = max_mss;
    }
    syn->has_wscale = client->has_wscale;
    syn->wscale = client->wscale;
    syn->sack_permitted = client->sack_permitted;
    syn->has_ts = client->has_ts;
    syn->tsval = client->tsval;
    syn->tsecr = client->tsecr;
}

/* IP layer of a received packet. */
struct l3_info {
    uint8_t version;
    size_t ip_len;              /* From the IP header. */
    size_t l4_ofs;              /* From the IP header's start. */
};

/* Checks the IP packet at 'ip' ('len' readable bytes; any bytes past the
 * length in its header are ignored as padding) and that it carries a whole,
 * unfragmented TCP segment with a whole TCP header.  If 'version' is nonzero,
 * the packet must have that IP version. */
static int
parse_l3(const uint8_t *ip, size_t len, uint8_t version, struct l3_info *l3)
{
    if (len < 1) {
        return TCP_SEG_E_IP_SHORT;
    }
    l3->version = ip[0] >> 4;
    if ((l3->version != 4 && l3->version != 6)
        || (version && l3->version != version)) {
        return TCP_SEG_E_IP_VERSION;
    }

    if (l3->version == 4) {
        if (len < IP_HEADER_LEN) {
            return TCP_SEG_E_IP_SHORT;
        }
        size_t ihl = (ip[0] & 15) * 4;
        if (ihl < IP_HEADER_LEN || ihl > len) {
            return TCP_SEG_E_IP_IHL;
        }
        size_t tot_len = rd16(ip + 2);
        if (tot_len < ihl || tot_len > len) {
            return TCP_SEG_E_IP_LEN;
        }
        if (rd16(ip + 6) & (IP_MORE_FRAGMENTS | IP_FRAG_OFF_MASK)) {
            return TCP_SEG_E_IP_FRAGMENT;
        }
        if (ip[9] != IPPROTO_TCP) {
            return TCP_SEG_E_IP_PROTO;
        }
        l3->ip_len = tot_len;
        l3->l4_ofs = ihl;
    } else {
        if (len < IPV6_HEADER_LEN) {
            return TCP_SEG_E_IP_SHORT;
        }
        size_t plen = rd16(ip + 4);
        if (!plen || plen > len - IPV6_HEADER_LEN) {
            return TCP_SEG_E_IP_LEN;
        }
        if (ip[6] != IPPROTO_TCP) {
            return TCP_SEG_E_IP_PROTO;
        }
        struct in6_addr src, dst;
        memcpy(&src, ip + 8, sizeof src);
        memcpy(&dst, ip + 24, sizeof dst);
        if (IN6_IS_ADDR_V4MAPPED(&src) || IN6_IS_ADDR_V4MAPPED(&dst)) {
            return TCP_SEG_E_IP_MAPPED;
        }
        l3->ip_len = IPV6_HEADER_LEN + plen;
        l3->l4_ofs = IPV6_HEADER_LEN;
    }
    if (l3->ip_len - l3->l4_ofs < TCP_HEADER_LEN) {
        return TCP_SEG_E_TCP_SHORT;
    }
    return 0;
}

static void
count_error(int error)
{
    if (error >= TCP_SEG_E_OPT_LEN) {
        COVERAGE_INC(tcp_seg_bad_opts);
    } else if (error >= TCP_SEG_E_TCP_SHORT) {
        COVERAGE_INC(tcp_seg_bad_tcp);
    } else if (error >= TCP_SEG_E_IP_SHORT) {
        COVERAGE_INC(tcp_seg_bad_ip);
    } else {
        COVERAGE_INC(tcp_seg_bad_l2);
    }
}

static int
parse_ip(const uint8_t *ip, size_t len, uint8_t version,
         struct tcp_seg_info *info)
{
    struct l3_info l3;
    size_t hdr_len;
    int error;

    error = parse_l3(ip, len, version, &l3);
    if (error) {
        return error;
    }

    const uint8_t *tcp = ip + l3.l4_ofs;
    size_t tcp_len = l3.ip_len - l3.l4_ofs;
    error = check_tcp_header(tcp, tcp_len, &hdr_len);
    if (error) {
        return error;
    }
    error = parse_opts(tcp, hdr_len, &info->opts);
    if (error) {
        return error;
    }

    info->l3_ofs = 0;
    info->l4_ofs = l3.l4_ofs;
    info->payload_ofs = l3.l4_ofs + hdr_len;
    info->payload_len = tcp_len - hdr_len;
    info->ip_len = l3.ip_len;
    info->ip_version = l3.version;
    if (l3.version == 4) {
        in6_addr_set_mapped_ipv4(&info->ip_src,
                                 get_unaligned_be32((const ovs_be32 *)
                                                    (ip + 12)));
        in6_addr_set_mapped_ipv4(&info->ip_dst,
                                 get_unaligned_be32((const ovs_be32 *)
                                                    (ip + 16)));
    } else {
        memcpy(&info->ip_src, ip + 8, sizeof info->ip_src);
        memcpy(&info->ip_dst, ip + 24, sizeof info->ip_dst);
    }
    info->tp_src = htons(rd16(tcp));
    info->tp_dst = htons(rd16(tcp + 2));
    info->seq = rd32(tcp + 4);
    info->ack = rd32(tcp + 8);
    info->flags = rd16(tcp + 12) & 0x0fff;
    info->window = rd16(tcp + 14);
    return 0;
}

/* Parses the IPv4 or IPv6 packet at 'ip', of which 'len' bytes are readable,
 * into 'info'.  The packet must carry a whole TCP segment (IPv4: not a
 * fragment; IPv6: no extension headers, no v4-mapped address) with a valid
 * option list (see tcp_opts_parse()).  Bytes beyond the IP header's length
 * are ignored.  Checksums are not verified (see tcp_seg_verify_csum()).
 *
 * Returns 0 or a TCP_SEG_E_* error (then '*info' is indeterminate). */
int
tcp_seg_parse_ip(const void *ip, size_t len, struct tcp_seg_info *info)
{
    int error = parse_ip(ip, len, 0, info);
    if (error) {
        count_error(error);
    }
    return error;
}

/* Parses the Ethernet frame at 'frame', of which 'len' bytes are readable,
 * into 'info', like tcp_seg_parse_ip() for the IP packet it carries.  Up to
 * two VLAN tags (802.1Q or 802.1ad) may precede the IPv4 or IPv6 header; the
 * IP version must agree with the Ethertype.  Offsets in 'info' are from the
 * start of the frame.
 *
 * Returns 0 or a TCP_SEG_E_* error (then '*info' is indeterminate). */
int
tcp_seg_parse_frame(const void *frame_, size_t len, struct tcp_seg_info *info)
{
    const uint8_t *frame = frame_;
    size_t ofs = ETH_HEADER_LEN;
    uint16_t type;
    int error;

    if (len < ETH_HEADER_LEN) {
        error = TCP_SEG_E_ETH_SHORT;
        goto out;
    }
    type = rd16(frame + 12);
    for (int i = 0; i < 2
             && (type == ETH_TYPE_VLAN_8021Q || type == ETH_TYPE_VLAN_8021AD);
         i++) {
        if (len - ofs < VLAN_HEADER_LEN) {
            error = TCP_SEG_E_ETH_SHORT;
            goto out;
        }
        type = rd16(frame + ofs + 2);
        ofs += VLAN_HEADER_LEN;
    }
    if (type != ETH_TYPE_IP && type != ETH_TYPE_IPV6) {
        error = TCP_SEG_E_ETH_TYPE;
        goto out;
    }

    error = parse_ip(frame + ofs, len - ofs, type == ETH_TYPE_IP ? 4 : 6,
                     info);
    if (!error) {
        info->l3_ofs += ofs;
        info->l4_ofs += ofs;
        info->payload_ofs += ofs;
    }

out:
    if (error) {
        count_error(error);
    }
    return error;
}

/* Returns the sequence space that the segment 'info' occupies (RFC 9293
 * SEG.LEN): its payload length, plus 1 for SYN and 1 for FIN. */
uint32_t
tcp_seg_len(const struct tcp_seg_info *info)
{
    return (info->payload_len
            + (info->flags & TCP_SYN ? 1 : 0)
            + (info->flags & TCP_FIN ? 1 : 0));
}

/* Returns the partial checksum of the pseudo-header of the TCP segment of
 * 'tcp_len' bytes in the IP packet 'ip' of version 'version'.  'ip' may be at
 * any alignment. */
static uint32_t
pseudo_csum(const uint8_t *ip, uint8_t version, size_t tcp_len)
{
    uint32_t partial;

    if (version == 4) {
        partial = csum_continue(0, ip + 12, 8);
    } else {
        partial = csum_continue(0, ip + 8, 32);
    }
    partial = csum_add16(partial, htons(IPPROTO_TCP));
    return csum_add16(partial, htons(tcp_len));
}

/* Returns true if the IP packet at 'ip' ('len' readable bytes) carries a TCP
 * segment whose checksum is right and, for IPv4, has a right header checksum.
 * Returns false for those that do not, and for packets that are not whole
 * unfragmented TCP segments (the option list is not checked). */
bool
tcp_seg_verify_csum(const void *ip_, size_t len)
{
    const uint8_t *ip = ip_;
    struct l3_info l3;

    if (parse_l3(ip, len, 0, &l3)) {
        return false;
    }
    if (l3.version == 4 && csum(ip, l3.l4_ofs)) {
        return false;
    }

    size_t tcp_len = l3.ip_len - l3.l4_ofs;
    uint32_t partial = pseudo_csum(ip, l3.version, tcp_len);
    partial = csum_continue(partial, ip + l3.l4_ofs, tcp_len);
    return !csum_finish(partial);
}

/* Initializes 'ep' with the addresses and ports of the flow 'key' in the
 * direction 'dir' (FLOW_KEY_TO_VIP: from the client to the VIP) and the
 * Ethernet addresses 'eth_src' and 'eth_dst'. */
void
tcp_seg_endpoints_from_key(struct tcp_seg_endpoints *ep,
                           const struct flow_key *key, enum flow_key_dir dir,
                           struct eth_addr eth_src, struct eth_addr eth_dst)
{
    bool to_vip = dir == FLOW_KEY_TO_VIP;

    ep->eth_src = eth_src;
    ep->eth_dst = eth_dst;
    ep->ip_src = to_vip ? key->client : key->vip;
    ep->ip_dst = to_vip ? key->vip : key->client;
    ep->tp_src = to_vip ? key->client_port : key->vip_port;
    ep->tp_dst = to_vip ? key->vip_port : key->client_port;
}

/* Replaces the contents of 'b' by an Ethernet frame carrying an IPv4 (if
 * both addresses of 'ep' are v4-mapped) or IPv6 packet from 'ep->ip_src' to
 * 'ep->ip_dst' that carries the TCP segment 'hdr' from 'ep->tp_src' to
 * 'ep->tp_dst'.  IPv4: identification 'hdr->ip_id', TTL 64, DF set, no IP
 * options; IPv6: hop limit 64, flow label 0.  Both checksums are computed.
 * On success the L3 and L4 offsets of 'b' are set.
 *
 * Returns 0 or a TCP_SEG_E_* error (then 'b' is unchanged). */
int
tcp_seg_build(struct dp_packet *b, const struct tcp_seg_endpoints *ep,
              const struct tcp_seg_hdr *hdr)
{
    uint8_t opts[TCP_OPTS_MAX_LEN];
    size_t opts_len;
    int error;

    if (hdr->raw_opts) {
        if (hdr->raw_opts_len > TCP_OPTS_MAX_LEN) {
            return TCP_SEG_E_OPT_SPACE;
        }
        opts_len = ROUND_UP(hdr->raw_opts_len, 4);
        memset(opts, OPT_EOL, opts_len);
        memcpy(opts, hdr->raw_opts, hdr->raw_opts_len);
    } else {
        error = tcp_opts_write(&hdr->opts, opts, &opts_len);
        if (error) {
            return error;
        }
    }

    bool v4 = IN6_IS_ADDR_V4MAPPED(&ep->ip_src);
    if (v4 != IN6_IS_ADDR_V4MAPPED(&ep->ip_dst)) {
        return TCP_SEG_E_AF;
    }
    size_t l3_hdr_len = v4 ? IP_HEADER_LEN : IPV6_HEADER_LEN;
    size_t tcp_hdr_len = TCP_HEADER_LEN + opts_len;
    size_t max_payload = UINT16_MAX - tcp_hdr_len - (v4 ? IP_HEADER_LEN : 0);
    if (hdr->payload_len > max_payload) {
        return TCP_SEG_E_TOO_BIG;
    }
    size_t tcp_len = tcp_hdr_len + hdr->payload_len;

    uint8_t *l3 = eth_compose(b, ep->eth_dst, ep->eth_src,
                              v4 ? ETH_TYPE_IP : ETH_TYPE_IPV6,
                              l3_hdr_len + tcp_len);
    struct tcp_header *tcp = ALIGNED_CAST(struct tcp_header *,
                                          l3 + l3_hdr_len);
    uint32_t partial;

    if (v4) {
        struct ip_header *ip = ALIGNED_CAST(struct ip_header *, l3);

        ip->ip_ihl_ver = IP_IHL_VER(5, IP_VERSION);
        ip->ip_tos = 0;
        ip->ip_tot_len = htons(IP_HEADER_LEN + tcp_len);
        ip->ip_id = htons(hdr->ip_id);
        ip->ip_frag_off = htons(IP_DONT_FRAGMENT);
        ip->ip_ttl = TTL_DEFAULT;
        ip->ip_proto = IPPROTO_TCP;
        put_16aligned_be32(&ip->ip_src, in6_addr_get_mapped_ipv4(&ep->ip_src));
        put_16aligned_be32(&ip->ip_dst, in6_addr_get_mapped_ipv4(&ep->ip_dst));
        ip->ip_csum = 0;
        ip->ip_csum = csum(ip, IP_HEADER_LEN);
        partial = packet_csum_pseudoheader(ip);
    } else {
        struct ovs_16aligned_ip6_hdr *ip6
            = ALIGNED_CAST(struct ovs_16aligned_ip6_hdr *, l3);

        put_16aligned_be32(&ip6->ip6_ctlun.ip6_un1.ip6_un1_flow,
                           htonl(6u << 28));
        ip6->ip6_ctlun.ip6_un1.ip6_un1_plen = htons(tcp_len);
        ip6->ip6_ctlun.ip6_un1.ip6_un1_nxt = IPPROTO_TCP;
        ip6->ip6_ctlun.ip6_un1.ip6_un1_hlim = TTL_DEFAULT;
        memcpy(&ip6->ip6_src, &ep->ip_src, sizeof ip6->ip6_src);
        memcpy(&ip6->ip6_dst, &ep->ip_dst, sizeof ip6->ip6_dst);
        partial = packet_csum_pseudoheader6(ip6);
    }

    tcp->tcp_src = ep->tp_src;
    tcp->tcp_dst = ep->tp_dst;
    put_16aligned_be32(&tcp->tcp_seq, htonl(hdr->seq));
    put_16aligned_be32(&tcp->tcp_ack, htonl(hdr->ack));
    tcp->tcp_ctl = TCP_CTL(hdr->flags & 0x0fff, tcp_hdr_len / 4);
    tcp->tcp_winsz = htons(hdr->window);
    tcp->tcp_csum = 0;
    tcp->tcp_urg = 0;
    memcpy(tcp + 1, opts, opts_len);
    if (hdr->payload_len) {
        memcpy((uint8_t *) tcp + tcp_hdr_len, hdr->payload, hdr->payload_len);
    }
    tcp->tcp_csum = csum_finish(csum_continue(partial, tcp, tcp_len));
    dp_packet_set_l4(b, tcp);
    return 0;
}

/* Replaces the contents of 'b' by the SYN/ACK that the LB tier answers a
 * client's SYN with (PROTOCOL.md §2), from the VIP to the client as 'ep'
 * says: sequence number 'isn_lb', acknowledgment 'client_isn' + 1, window
 * 'window', IP identification 'ip_id', and the options that
 * tcp_opts_for_synack() derives from the client's SYN options 'client_opts',
 * 'vip_mss', 'wscale' and 'tsval'.
 *
 * Returns 0 or a TCP_SEG_E_* error (then 'b' is unchanged). */
int
tcp_seg_build_synack(struct dp_packet *b, const struct tcp_seg_endpoints *ep,
                     const struct tcp_opts *client_opts,
                     uint32_t isn_lb, uint32_t client_isn,
                     uint16_t window, uint16_t vip_mss, uint8_t wscale,
                     uint32_t tsval, uint16_t ip_id)
{
    struct tcp_seg_hdr hdr = {
        .seq = isn_lb,
        .ack = client_isn + 1,
        .flags = TCP_SYN | TCP_ACK,
        .window = window,
        .ip_id = ip_id,
    };

    tcp_opts_for_synack(client_opts, !IN6_IS_ADDR_V4MAPPED(&ep->ip_dst),
                        vip_mss, wscale, tsval, &hdr.opts);
    return tcp_seg_build(b, ep, &hdr);
}

/* Replaces the contents of 'b' by the RST that answers the segment
 * 'answered' (of which only 'seq', 'ack', 'flags' and 'payload_len' are
 * used) from the endpoint that received it, with addresses 'ep' (normally
 * those of 'answered', reversed).  RFC 9293 §3.5.2: if 'answered' has ACK,
 * the RST has sequence number 'answered->ack' and no ACK; otherwise it has
 * sequence number 0, ACK set and acknowledgment 'answered->seq' plus the
 * segment's length (tcp_seg_len()).  No options, window 0.
 *
 * Returns 0 or a TCP_SEG_E_* error (then 'b' is unchanged); a RST is never
 * answered (TCP_SEG_E_RST_FOR_RST). */
int
tcp_seg_build_rst(struct dp_packet *b, const struct tcp_seg_endpoints *ep,
                  const struct tcp_seg_info *answered, uint16_t ip_id)
{
    struct tcp_seg_hdr hdr = { .ip_id = ip_id };

    if (answered->flags & TCP_RST) {
        return TCP_SEG_E_RST_FOR_RST;
    }
    if (answered->flags & TCP_ACK) {
        hdr.seq = answered->ack;
        hdr.flags = TCP_RST;
    } else {
        hdr.ack = answered->seq + tcp_seg_len(answered);
        hdr.flags = TCP_RST | TCP_ACK;
    }
    return tcp_seg_build(b, ep, &hdr);
}

/* Replaces the contents of 'b' by the SYN that the agent injects into the
 * server's stack on behalf of the client (PROTOCOL.md §2), from the client
 * to the VIP as 'ep' says: sequence number 'client_isn', window 'window' (as
 * the client sent it), IP identification 'ip_id', and the options that
 * tcp_opts_for_syn() derives from the client's SYN options 'client_opts' and
 * 'max_mss'.
 *
 * Returns 0 or a TCP_SEG_E_* error (then 'b' is unchanged). */
int
tcp_seg_build_syn(struct dp_packet *b, const struct tcp_seg_endpoints *ep,
                  const struct tcp_opts *client_opts, uint32_t client_isn,
                  uint16_t window, uint16_t max_mss, uint16_t ip_id)
{
    struct tcp_seg_hdr hdr = {
        .seq = client_isn,
        .flags = TCP_SYN,
        .window = window,
        .ip_id = ip_id,
    };

    tcp_opts_for_syn(client_opts, !IN6_IS_ADDR_V4MAPPED(&ep->ip_src),
                     max_mss, &hdr.opts);
    return tcp_seg_build(b, ep, &hdr);
}
