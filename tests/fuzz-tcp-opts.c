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
 * libFuzzer target for lib/tcp-seg and lib/seq-xlate: the TCP option parser,
 * the frame and IP parsers, the builders fed with whatever the parsers
 * accept, and sequence translation in both directions, on arbitrary bytes.
 *
 * Input: 12 bytes of translation parameters (delta, ts_delta, ws_srv, ws_lb,
 * flags), then the bytes under test, which are handed to every parser in a
 * buffer of their exact length (so ASan sees any overread).
 *
 * Besides memory safety it checks these properties:
 *   - an accepted option list stays within its header, writes back (when it
 *     fits) and parses again to the same values;
 *   - an accepted frame or packet has offsets within the buffer;
 *   - the builders accept any parsed options and produce packets that parse
 *     and have right checksums;
 *   - translation leaves a rejected packet untouched, keeps a right checksum
 *     right, keeps the packet parseable, and is undone by the opposite
 *     translation parameters.
 *
 * Build (clang only):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -I_build -Ilib -I$OVS/include -I$OVS/lib \
 *       tests/fuzz-tcp-opts.c lib/tcp-seg.c lib/seq-xlate.c \
 *       $OVS/lib/.libs/libopenvswitch.a -lsqlite3 -lpcap -lcrypto -lssl \
 *       -lcap-ng -lunbound -lunwind -lpthread -lrt -lm
 * Run: ./fuzz-tcp-opts -max_len=256 CORPUS_DIR
 */
#include <config.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dp-packet.h"
#include "packets.h"
#include "seq-xlate.h"
#include "tcp-seg.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PARAMS_LEN 12

static uint32_t
get32(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

static bool
opts_equal(const struct tcp_opts *a, const struct tcp_opts *b)
{
    if (a->has_mss != b->has_mss || a->mss != b->mss
        || a->has_wscale != b->has_wscale || a->wscale != b->wscale
        || a->sack_permitted != b->sack_permitted
        || a->has_ts != b->has_ts || a->tsval != b->tsval
        || a->tsecr != b->tsecr || a->n_sack != b->n_sack) {
        return false;
    }
    for (size_t i = 0; i < a->n_sack; i++) {
        if (a->sack[i].left != b->sack[i].left
            || a->sack[i].right != b->sack[i].right) {
            return false;
        }
    }
    return true;
}

static void
check_opts(const uint8_t *tcp, size_t len)
{
    struct tcp_opts o, o2;

    if (tcp_opts_parse(tcp, len, &o)) {
        return;
    }

    size_t hdr_len = (tcp[12] >> 4) * 4;
    ovs_assert(hdr_len >= TCP_HEADER_LEN && hdr_len <= len);
    ovs_assert(o.n_sack <= TCP_OPTS_MAX_SACK);
    ovs_assert(!o.has_ts || (o.ts_ofs >= 22 && o.ts_ofs + 8 <= hdr_len));
    ovs_assert(!o.n_sack
               || (o.sack_ofs >= 22 && o.sack_ofs + 8 * o.n_sack <= hdr_len));

    uint8_t buf[TCP_OPTS_MAX_LEN], hdr[60];
    size_t opts_len;
    if (!tcp_opts_write(&o, buf, &opts_len)) {
        memset(hdr, 0, sizeof hdr);
        hdr[12] = ((TCP_HEADER_LEN + opts_len) / 4) << 4;
        memcpy(hdr + TCP_HEADER_LEN, buf, opts_len);
        uint8_t *exact = xmemdup(hdr, TCP_HEADER_LEN + opts_len);
        ovs_assert(!tcp_opts_parse(exact, TCP_HEADER_LEN + opts_len, &o2));
        ovs_assert(opts_equal(&o, &o2));
        free(exact);
    }
}

static void
check_built(const struct dp_packet *b)
{
    struct tcp_seg_info info;
    uint8_t *frame = xmemdup(dp_packet_data(b), dp_packet_size(b));

    ovs_assert(!tcp_seg_parse_frame(frame, dp_packet_size(b), &info));
    ovs_assert(tcp_seg_verify_csum(frame + info.l3_ofs, info.ip_len));
    free(frame);
}

static void
check_builders(const struct tcp_seg_info *info)
{
    struct tcp_seg_endpoints ep;
    struct dp_packet b;
    uint64_t stub[1024 / 8];

    memset(&ep, 0, sizeof ep);
    ep.ip_src = info->ip_dst;
    ep.ip_dst = info->ip_src;
    ep.tp_src = info->tp_dst;
    ep.tp_dst = info->tp_src;

    dp_packet_use_stub(&b, stub, sizeof stub);
    ovs_assert(!tcp_seg_build_synack(&b, &ep, &info->opts, info->ack,
                                     info->seq, info->window,
                                     info->opts.mss, info->opts.wscale,
                                     info->opts.tsecr, 1));
    check_built(&b);
    ovs_assert(!tcp_seg_build_syn(&b, &ep, &info->opts, info->seq,
                                  info->window, info->opts.mss, 2));
    check_built(&b);
    int error = tcp_seg_build_rst(&b, &ep, info, 3);
    ovs_assert(error == ((info->flags & TCP_RST) ? TCP_SEG_E_RST_FOR_RST : 0));
    if (!error) {
        check_built(&b);
    }
    dp_packet_uninit(&b);
}

static void
check_parse(const uint8_t *p, size_t len, bool frame)
{
    struct tcp_seg_info info;
    int error = (frame
                 ? tcp_seg_parse_frame(p, len, &info)
                 : tcp_seg_parse_ip(p, len, &info));

    ovs_assert(error >= 0 && error < TCP_SEG_N_ERRORS);
    if (error) {
        return;
    }
    ovs_assert(info.ip_version == 4 || info.ip_version == 6);
    ovs_assert(info.l3_ofs < info.l4_ofs);
    ovs_assert(info.l4_ofs + TCP_HEADER_LEN <= info.payload_ofs);
    ovs_assert(info.payload_ofs + info.payload_len
               == info.l3_ofs + info.ip_len);
    ovs_assert(info.l3_ofs + info.ip_len <= len);
    check_builders(&info);
}

static int
xlate(const struct seq_xlate *x, bool to_client, uint8_t *ip, size_t len)
{
    return (to_client
            ? seq_xlate_to_client(x, ip, len)
            : seq_xlate_to_server(x, ip, len));
}

static void
check_xlate(const struct seq_xlate *x, bool to_client, const uint8_t *data,
            size_t size)
{
    uint8_t *ip = xmemdup(data, size);
    bool valid = tcp_seg_verify_csum(ip, size);
    struct tcp_seg_info before, after;
    int error;

    error = xlate(x, to_client, ip, size);
    if (error) {
        ovs_assert(!memcmp(ip, data, size));
        ovs_assert(tcp_seg_parse_ip(ip, size, &before) == error);
        free(ip);
        return;
    }
    ovs_assert(!tcp_seg_parse_ip(data, size, &before));
    ovs_assert(!tcp_seg_parse_ip(ip, size, &after));
    ovs_assert(tcp_seg_verify_csum(ip, size) == valid);
    ovs_assert(before.flags == after.flags);
    ovs_assert(before.payload_len == after.payload_len);

    /* The opposite parameters undo the translation (with the window left
     * alone, since rescaling loses bits). */
    struct seq_xlate undo = *x;
    undo.delta = -x->delta;
    undo.ts_delta = -x->ts_delta;
    if (to_client) {
        undo.ws_srv = undo.ws_lb = 0;
        ovs_assert(!seq_xlate_to_client(&undo, ip, size));
        ovs_assert(!tcp_seg_parse_ip(ip, size, &after));
        ovs_assert(after.seq == before.seq);
        ovs_assert(after.opts.tsval == before.opts.tsval);
    } else {
        ovs_assert(!seq_xlate_to_server(&undo, ip, size));
        ovs_assert(!tcp_seg_parse_ip(ip, size, &after));
        ovs_assert(after.ack == before.ack);
        ovs_assert(after.opts.tsecr == before.opts.tsecr);
        for (size_t i = 0; i < before.opts.n_sack; i++) {
            ovs_assert(after.opts.sack[i].left == before.opts.sack[i].left);
            ovs_assert(after.opts.sack[i].right
                       == before.opts.sack[i].right);
        }
    }
    ovs_assert(tcp_seg_verify_csum(ip, size) == valid);

    /* Apart from the window (when rescaled) and the checksum field (0 and
     * 0xffff are the same sum), the packet is back as it was. */
    uint8_t *ref = xmemdup(data, size);
    memcpy(ref + before.l4_ofs + 14, ip + before.l4_ofs + 14, 4);
    ovs_assert(!memcmp(ip, ref, size));
    free(ref);
    free(ip);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < PARAMS_LEN) {
        return 0;
    }

    struct seq_xlate x = {
        .delta = get32(data),
        .ts_delta = get32(data + 4),
        .ws_srv = data[8],
        .ws_lb = data[9],
        .ts = data[10] & 1,
        .sack = data[10] & 2,
    };
    bool to_client = data[11] & 1;
    data += PARAMS_LEN;
    size -= PARAMS_LEN;

    uint8_t *copy = xmemdup(data, size);
    check_opts(copy, size);
    check_parse(copy, size, true);
    check_parse(copy, size, false);
    ovs_assert(!memcmp(copy, data, size));      /* Parsers only read. */
    check_xlate(&x, to_client, copy, size);
    free(copy);
    return 0;
}
