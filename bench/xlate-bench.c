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

/* xlate-bench: segments translated per second by the agent's translation
 * (lib/seq-xlate.c), on segments shaped like a real transfer's: server ->
 * client data segments with timestamps (1448 bytes of payload) and client
 * -> server ACKs with timestamps and SACK blocks, in both window-scale
 * cases.  The same loop under `valgrind --tool=callgrind` gives the
 * instructions per segment (bench/xlate-bench.sh does both).
 *
 *   xlate-bench [SEGMENTS]     (default 20000000) */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp-packet.h"
#include "packets.h"
#include "seq-xlate.h"
#include "tcp-seg.h"
#include "timeval.h"
#include "util.h"

static struct in6_addr
v4(const char *s)
{
    struct in6_addr a;
    ovs_be32 ip;

    ovs_assert(ip_parse(s, &ip));
    in6_addr_set_mapped_ipv4(&a, ip);
    return a;
}

/* Builds one IPv4/TCP segment into 'buf' and returns its IP length. */
static size_t
build(uint8_t *buf, size_t size, bool to_client, uint32_t seq, uint32_t ack)
{
    static uint8_t payload[1448];
    struct tcp_seg_endpoints ep = {
        .ip_src = v4(to_client ? "203.0.113.10" : "198.51.100.2"),
        .ip_dst = v4(to_client ? "198.51.100.2" : "203.0.113.10"),
        .tp_src = htons(to_client ? 80 : 40000),
        .tp_dst = htons(to_client ? 40000 : 80),
    };
    struct tcp_seg_hdr h = {
        .seq = seq, .ack = ack, .flags = TCP_ACK, .window = 1000,
        .payload = to_client ? payload : NULL,
        .payload_len = to_client ? sizeof payload : 0,
    };
    struct dp_packet b;
    size_t len;

    h.opts.has_ts = true;
    h.opts.tsval = 123456;
    h.opts.tsecr = 654321;
    if (!to_client) {
        h.opts.n_sack = 2;
        h.opts.sack[0].left = seq + 10000;
        h.opts.sack[0].right = seq + 20000;
        h.opts.sack[1].left = seq + 30000;
        h.opts.sack[1].right = seq + 40000;
    }
    dp_packet_init(&b, 2048);
    ovs_assert(!tcp_seg_build(&b, &ep, &h));
    len = dp_packet_size(&b) - ETH_HEADER_LEN;
    ovs_assert(len <= size);
    memcpy(buf, (uint8_t *) dp_packet_data(&b) + ETH_HEADER_LEN, len);
    dp_packet_uninit(&b);
    return len;
}

int
main(int argc, char *argv[])
{
    long long int n = argc > 1 ? atoll(argv[1]) : 20000000;
    static uint8_t data[2][2048], ack[2][128];
    size_t data_len = build(data[0], sizeof data[0], true, 1, 1);
    size_t ack_len = build(ack[0], sizeof ack[0], false, 1, 1);
    struct seq_xlate x[2] = {
        { .delta = 0x9e3779b9, .ts_delta = 777, .ws_srv = 7, .ws_lb = 7,
          .ts = true, .sack = true },
        { .delta = 0x9e3779b9, .ts_delta = 777, .ws_srv = 10, .ws_lb = 7,
          .ts = true, .sack = true },
    };
    long long int start, elapsed;

    set_program_name(argv[0]);
    memcpy(data[1], data[0], data_len);
    memcpy(ack[1], ack[0], ack_len);

    start = time_msec();
    for (long long int i = 0; i < n; i += 2) {
        const struct seq_xlate *xl = &x[(i >> 1) & 1];

        /* One data segment to the client, one ACK to the server: the
         * translation leaves them valid, so they are translated again. */
        if (seq_xlate_to_client(xl, data[0], data_len)
            || seq_xlate_to_server(xl, ack[0], ack_len)) {
            ovs_fatal(0, "translation failed");
        }
    }
    elapsed = MAX(time_msec() - start, 1);
    printf("segments translated: %lld in %lld ms: %.1f M segments/s "
           "(%.1f ns per segment)\n", n, elapsed,
           n / (elapsed * 1000.0), elapsed * 1e6 / n);
    ovs_assert(tcp_seg_verify_csum(data[0], data_len));
    ovs_assert(tcp_seg_verify_csum(ack[0], ack_len));
    return 0;
}
