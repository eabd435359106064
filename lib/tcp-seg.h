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
 * tcp-seg: building and parsing the TCP segments that ovslb fabricates or
 * inspects (PROTOCOL.md §2): the SYN/ACK the LB tier sends for a VIP, the RST
 * that refuses a client, the client's SYN that the agent injects into the
 * server's stack (and any other segment, such as the ACK that completes the
 * server's handshake), and the parser of received frames and IP packets used
 * by the controller for packet-ins and by the agent.
 *
 * Pure: no I/O, no clock, no global state other than coverage counters.  Any
 * thread may call these functions on its own buffers.
 *
 * Addresses are IPv6 (IPv4 as v4-mapped ::ffff:a.b.c.d, as in struct
 * flow_key).  IPv4 and IPv6 without extension headers are supported; an IPv6
 * packet that carries a v4-mapped address is rejected, so that it can never
 * pass for an IPv4 one.
 *
 * Input is hostile: every parser checks every length before reading, never
 * reads outside the buffer it is given, and accepts buffers at any alignment.
 * Rejections are counted with coverage counters (tcp_seg_*).
 */
#ifndef OVSLB_TCP_SEG_H
#define OVSLB_TCP_SEG_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "flow-key.h"
#include "openvswitch/types.h"

struct dp_packet;

/* Errors of this module (and of seq-xlate).  0 means success. */
enum tcp_seg_error {
    TCP_SEG_OK = 0,
    TCP_SEG_E_ETH_SHORT = 1,    /* Frame shorter than its L2 headers. */
    TCP_SEG_E_ETH_TYPE,         /* Ethertype neither IPv4 nor IPv6. */
    TCP_SEG_E_IP_SHORT,         /* Shorter than an IP header. */
    TCP_SEG_E_IP_VERSION,       /* IP version is not the one expected. */
    TCP_SEG_E_IP_IHL,           /* IPv4 header length < 20 or past data. */
    TCP_SEG_E_IP_LEN,           /* IP total/payload length inconsistent. */
    TCP_SEG_E_IP_FRAGMENT,      /* An IPv4 fragment. */
    TCP_SEG_E_IP_PROTO,         /* Not TCP (IPv6: or extension headers). */
    TCP_SEG_E_IP_MAPPED,        /* IPv6 with a v4-mapped address. */
    TCP_SEG_E_TCP_SHORT,        /* Shorter than a TCP header. */
    TCP_SEG_E_TCP_DOFF,         /* Data offset < 5 or past the segment. */
    TCP_SEG_E_OPT_LEN,          /* An option's length byte is 0 or 1. */
    TCP_SEG_E_OPT_OVERRUN,      /* An option runs past the data offset. */
    TCP_SEG_E_OPT_MSS,          /* MSS option whose length is not 4. */
    TCP_SEG_E_OPT_WSCALE,       /* Window scale whose length is not 3. */
    TCP_SEG_E_OPT_SACK_PERM,    /* SACK-permitted whose length is not 2. */
    TCP_SEG_E_OPT_TS,           /* Timestamps whose length is not 10. */
    TCP_SEG_E_OPT_SACK,         /* SACK whose length is not 2 + 8n, n>0. */
    TCP_SEG_E_OPT_DUP,          /* One of the options above given twice. */
    TCP_SEG_E_OPT_SPACE,        /* Options to write exceed 40 bytes. */
    TCP_SEG_E_AF,               /* Source and destination families differ. */
    TCP_SEG_E_TOO_BIG,          /* Segment to build exceeds 65535 bytes. */
    TCP_SEG_E_RST_FOR_RST,      /* Asked to answer a RST with a RST. */
    TCP_SEG_N_ERRORS
};

const char *tcp_seg_strerror(int error);

/* TCP options (RFC 9293, RFC 7323, RFC 2018). */
#define TCP_OPTS_MAX_LEN 40     /* Bytes of options a TCP header can hold. */
#define TCP_OPTS_MAX_SACK 4     /* SACK blocks that fit in 40 bytes. */

#define TCP_WSCALE_MAX 14       /* RFC 7323: larger values mean 14. */
#define TCP_MSS_DEFAULT_V4 536  /* RFC 9293: MSS assumed without option. */
#define TCP_MSS_DEFAULT_V6 1220

struct tcp_sack_block {
    uint32_t left;              /* First sequence number of the block. */
    uint32_t right;             /* Sequence number just after the block. */
};

struct tcp_opts {
    bool has_mss;
    bool has_wscale;
    bool sack_permitted;
    bool has_ts;
    uint16_t mss;
    uint8_t wscale;             /* As received: may exceed TCP_WSCALE_MAX. */
    uint8_t n_sack;             /* Number of valid 'sack' blocks. */
    uint32_t tsval;
    uint32_t tsecr;
    struct tcp_sack_block sack[TCP_OPTS_MAX_SACK];

    /* Where the parser found the options whose values seq-xlate rewrites:
     * offset from the start of the TCP header of the TSval field and of the
     * first SACK block's left edge, 0 if absent.  Ignored when writing. */
    uint8_t ts_ofs;
    uint8_t sack_ofs;
};

int tcp_opts_parse(const void *tcp, size_t tcp_len, struct tcp_opts *);
int tcp_opts_write(const struct tcp_opts *, uint8_t buf[TCP_OPTS_MAX_LEN],
                   size_t *lenp);
void tcp_opts_for_synack(const struct tcp_opts *client, bool ipv6,
                         uint16_t vip_mss, uint8_t wscale, uint32_t tsval,
                         struct tcp_opts *synack);
void tcp_opts_for_syn(const struct tcp_opts *client, bool ipv6,
                      uint16_t max_mss, struct tcp_opts *syn);

/* A parsed TCP segment.  Offsets are from the start of the buffer given to
 * the parser; numbers are in host byte order, ports in network byte order. */
struct tcp_seg_info {
    size_t l3_ofs;              /* IP header. */
    size_t l4_ofs;              /* TCP header. */
    size_t payload_ofs;         /* TCP payload. */
    size_t payload_len;         /* TCP payload bytes (IP padding excluded). */
    size_t ip_len;              /* IP packet length from its header. */
    uint8_t ip_version;         /* 4 or 6. */
    struct in6_addr ip_src;     /* IPv4 as v4-mapped. */
    struct in6_addr ip_dst;
    ovs_be16 tp_src;
    ovs_be16 tp_dst;
    uint32_t seq;
    uint32_t ack;
    uint16_t flags;             /* TCP_FIN, TCP_SYN, ... from packets.h. */
    uint16_t window;            /* As on the wire (unscaled). */
    struct tcp_opts opts;
};

int tcp_seg_parse_frame(const void *frame, size_t len, struct tcp_seg_info *);
int tcp_seg_parse_ip(const void *ip, size_t len, struct tcp_seg_info *);
uint32_t tcp_seg_len(const struct tcp_seg_info *);
bool tcp_seg_verify_csum(const void *ip, size_t len);

/* Addresses of a segment to build. */
struct tcp_seg_endpoints {
    struct eth_addr eth_src;
    struct eth_addr eth_dst;
    struct in6_addr ip_src;     /* IPv4 as v4-mapped; both of one family. */
    struct in6_addr ip_dst;
    ovs_be16 tp_src;
    ovs_be16 tp_dst;
};

void tcp_seg_endpoints_from_key(struct tcp_seg_endpoints *,
                                const struct flow_key *, enum flow_key_dir,
                                struct eth_addr eth_src,
                                struct eth_addr eth_dst);

/* Everything of a segment to build other than its addresses. */
struct tcp_seg_hdr {
    uint32_t seq;
    uint32_t ack;
    uint16_t flags;             /* TCP_FIN, TCP_SYN, ... */
    uint16_t window;
    uint16_t ip_id;             /* IPv4 identification (host order). */
    struct tcp_opts opts;       /* Options, written in Linux's layout... */
    const uint8_t *raw_opts;    /* ...unless this is nonnull: then these
                                 * 'raw_opts_len' bytes are copied verbatim
                                 * (padded with EOL to a multiple of 4). */
    size_t raw_opts_len;
    const void *payload;
    size_t payload_len;
};

int tcp_seg_build(struct dp_packet *, const struct tcp_seg_endpoints *,
                  const struct tcp_seg_hdr *);
int tcp_seg_build_synack(struct dp_packet *, const struct tcp_seg_endpoints *,
                         const struct tcp_opts *client_opts,
                         uint32_t isn_lb, uint32_t client_isn,
                         uint16_t window, uint16_t vip_mss, uint8_t wscale,
                         uint32_t tsval, uint16_t ip_id);
int tcp_seg_build_rst(struct dp_packet *, const struct tcp_seg_endpoints *,
                      const struct tcp_seg_info *answered, uint16_t ip_id);
int tcp_seg_build_syn(struct dp_packet *, const struct tcp_seg_endpoints *,
                      const struct tcp_opts *client_opts, uint32_t client_isn,
                      uint16_t window, uint16_t max_mss, uint16_t ip_id);

#endif /* tcp-seg.h */
