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
 * seq-xlate: the agent's sequence translation.  See seq-xlate.h.
 */
#include <config.h>
#include "seq-xlate.h"

#include "coverage.h"
#include "csum.h"
#include "packets.h"
#include "tcp-seg.h"
#include "unaligned.h"
#include "util.h"

COVERAGE_DEFINE(seq_xlate_malformed);

/* Offsets of TCP header fields. */
#define TCP_OFS_SEQ 4
#define TCP_OFS_ACK 8
#define TCP_OFS_WINDOW 14
#define TCP_OFS_CSUM 16

/* Returns 'x', a 32-bit value as it lies in memory, with the two bytes of
 * each of its 16-bit halves exchanged. */
static inline ovs_be32
swap_bytes_in_halves(ovs_be32 x)
{
    return ((x & 0xff00ff00) >> 8) | ((x & 0x00ff00ff) << 8);
}

/* Adds 'addend' to the 32-bit big-endian field at offset 'ofs' of the TCP
 * header 'tcp' and returns the TCP checksum 'csum16' updated for it.
 *
 * The checksum sums 16-bit words at even offsets from the start of the TCP
 * header.  A field at an odd offset (options may put one there) straddles
 * three words: its bytes b0 b1 b2 b3 contribute as the words (b1 b0) and
 * (b3 b2) would, so the update is that of those byte-swapped halves. */
static ovs_be16
add32_at(uint8_t *tcp, size_t ofs, uint32_t addend, ovs_be16 csum16)
{
    ovs_be32 *field = (ovs_be32 *) (tcp + ofs);
    ovs_be32 old = get_unaligned_be32(field);
    ovs_be32 new = htonl(ntohl(old) + addend);

    put_unaligned_be32(field, new);
    if (ofs & 1) {
        old = swap_bytes_in_halves(old);
        new = swap_bytes_in_halves(new);
    }
    return recalc_csum32(csum16, old, new);
}

static int
parse(void *ip, size_t len, struct tcp_seg_info *info)
{
    int error = tcp_seg_parse_ip(ip, len, info);
    if (error) {
        COVERAGE_INC(seq_xlate_malformed);
    }
    return error;
}

static ovs_be16
get_csum(const uint8_t *tcp)
{
    return get_unaligned_be16((const ovs_be16 *) (tcp + TCP_OFS_CSUM));
}

static void
put_csum(uint8_t *tcp, ovs_be16 csum16)
{
    put_unaligned_be16((ovs_be16 *) (tcp + TCP_OFS_CSUM), csum16);
}

/* The translations, from a parse ('info') of 'ip'.  Inlined in each
 * caller. */
static inline void
translate_to_server(const struct seq_xlate *x, void *ip,
                    const struct tcp_seg_info *info)
{
    if (!(info->flags & TCP_ACK)) {
        return;
    }

    uint8_t *tcp = (uint8_t *) ip + info->l4_ofs;
    ovs_be16 csum16 = get_csum(tcp);
    uint32_t minus_delta = -x->delta;

    csum16 = add32_at(tcp, TCP_OFS_ACK, minus_delta, csum16);
    if (x->ts && info->opts.has_ts) {
        csum16 = add32_at(tcp, info->opts.ts_ofs + 4, -x->ts_delta, csum16);
    }
    if (x->sack) {
        for (size_t i = 0; i < 2 * info->opts.n_sack; i++) {
            csum16 = add32_at(tcp, info->opts.sack_ofs + 4 * i, minus_delta,
                              csum16);
        }
    }
    put_csum(tcp, csum16);
}

static inline void
translate_to_client(const struct seq_xlate *x, void *ip,
                    const struct tcp_seg_info *info)
{
    uint8_t *tcp = (uint8_t *) ip + info->l4_ofs;
    ovs_be16 csum16 = get_csum(tcp);

    csum16 = add32_at(tcp, TCP_OFS_SEQ, x->delta, csum16);
    if (x->ts && info->opts.has_ts) {
        csum16 = add32_at(tcp, info->opts.ts_ofs, x->ts_delta, csum16);
    }
    if (!(info->flags & TCP_SYN)) {
        uint16_t window = seq_xlate_window(x, info->window);
        if (window != info->window) {
            ovs_be16 *field = (ovs_be16 *) (tcp + TCP_OFS_WINDOW);
            put_unaligned_be16(field, htons(window));
            csum16 = recalc_csum16(csum16, htons(info->window),
                                   htons(window));
        }
    }
    put_csum(tcp, csum16);
}

/* Translates in place the IP packet 'ip' ('len' readable bytes) that the
 * client sent to the server of the connection described by 'x': its
 * acknowledgment number is lowered by 'x->delta', with 'x->sack' both edges
 * of every SACK block too, and with 'x->ts' the TSecr of its timestamps
 * option by 'x->ts_delta' (modulo 2**32).  A segment without ACK carries none
 * of these meaningfully (RFC 9293, RFC 7323) and is left as it is.  The TCP
 * checksum is updated incrementally: a right checksum stays right, a wrong
 * one stays wrong.
 *
 * 'ip' may be at any alignment.  Returns 0 or a TCP_SEG_E_* error if 'ip' is
 * not a well-formed TCP segment (see tcp_seg_parse_ip()); then 'ip' is left
 * unchanged. */
int
seq_xlate_to_server(const struct seq_xlate *x, void *ip, size_t len)
{
    struct tcp_seg_info info;
    int error;

    error = parse(ip, len, &info);
    if (!error) {
        translate_to_server(x, ip, &info);
    }
    return error;
}

/* Translates in place, as seq_xlate_to_server() does, the IP packet 'ip'
 * that tcp_seg_parse_ip() parsed into 'info' (and that has not changed
 * since): for a caller that already parsed it. */
void
seq_xlate_seg_to_server(const struct seq_xlate *x, void *ip,
                        const struct tcp_seg_info *info)
{
    translate_to_server(x, ip, info);
}

/* Returns the window 'window' that the server advertised (scaled by
 * 'x->ws_srv') expressed in the client's scale 'x->ws_lb':
 * min(65535, (window << ws_srv) >> ws_lb), or 'window' itself when the
 * scales are equal. */
uint16_t
seq_xlate_window(const struct seq_xlate *x, uint16_t window)
{
    unsigned int ws_srv = MIN(x->ws_srv, TCP_WSCALE_MAX);
    unsigned int ws_lb = MIN(x->ws_lb, TCP_WSCALE_MAX);

    if (ws_srv == ws_lb) {
        return window;
    }
    return MIN(UINT16_MAX, ((uint32_t) window << ws_srv) >> ws_lb);
}

/* Translates in place the IP packet 'ip' ('len' readable bytes) that the
 * server of the connection described by 'x' sends to the client: its
 * sequence number is raised by 'x->delta', with 'x->ts' the TSval of its
 * timestamps option by 'x->ts_delta' (modulo 2**32), and, unless it is a SYN,
 * its window is rescaled with seq_xlate_window().  The TCP checksum is
 * updated incrementally: a right checksum stays right, a wrong one stays
 * wrong.
 *
 * 'ip' may be at any alignment.  Returns 0 or a TCP_SEG_E_* error if 'ip' is
 * not a well-formed TCP segment (see tcp_seg_parse_ip()); then 'ip' is left
 * unchanged. */
int
seq_xlate_to_client(const struct seq_xlate *x, void *ip, size_t len)
{
    struct tcp_seg_info info;
    int error;

    error = parse(ip, len, &info);
    if (!error) {
        translate_to_client(x, ip, &info);
    }
    return error;
}

/* Translates in place, as seq_xlate_to_client() does, the IP packet 'ip'
 * that tcp_seg_parse_ip() parsed into 'info' (and that has not changed
 * since): for a caller that already parsed it. */
void
seq_xlate_seg_to_client(const struct seq_xlate *x, void *ip,
                        const struct tcp_seg_info *info)
{
    translate_to_client(x, ip, info);
}
