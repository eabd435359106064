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

/* xlate-io-bench: the agent's own I/O ceiling, with OVS out of the way.
 * bench/xlate-io-bench.sh runs it on a veth pair in a namespace of its own:
 *
 *   xlate-io-bench fwd DEV SECONDS [frames|blocks]
 *       Opens the agent's translation path (agent/xlate-path.c) on DEV and,
 *       for SECONDS, does per frame what the agent does for a server ->
 *       client segment of a translated connection: parse, translate
 *       (lib/seq-xlate.c), rewrite the MACs, write back.  Prints frames
 *       per second written and the path's counters.  The receive ring is
 *       of frames (TPACKET_V2, the default) or of blocks (TPACKET_V3).
 *
 *   xlate-io-bench gen DEV SECONDS [PAYLOAD]
 *       Floods DEV with IPv4 TCP segments of PAYLOAD bytes (default 1448)
 *       from a raw socket, for SECONDS.
 *
 *   xlate-io-bench ping DEV COUNT
 *       Sends COUNT small segments on DEV one at a time, each after the
 *       previous came back (a forwarder on the peer must run), and prints
 *       the round trips' median and 99th percentile: the latency that the
 *       path adds when it is not loaded. */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dp-packet.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "seq-xlate.h"
#include "tcp-seg.h"
#include "timeval.h"
#include "util.h"
#include "xlate-path.h"

/* The MACs of the frames the generator sends and of those forwarded. */
static const struct eth_addr gen_src = ETH_ADDR_C(02,00,00,00,00,01);
static const struct eth_addr gen_dst = ETH_ADDR_C(02,00,00,00,00,02);
static const struct eth_addr fwd_src = ETH_ADDR_C(02,00,00,00,00,03);

/* Builds a server -> client segment with 'payload_len' bytes of payload and
 * timestamps, as an Ethernet frame, into 'b'. */
static void
build_frame(struct dp_packet *b, size_t payload_len, struct eth_addr dst)
{
    static uint8_t payload[9000];
    struct tcp_seg_endpoints ep = {
        .eth_src = gen_src,
        .eth_dst = dst,
        /* 203.0.113.10 -> 198.51.100.2 */
        .ip_src = in6_addr_mapped_ipv4(htonl(0xcb00710a)),
        .ip_dst = in6_addr_mapped_ipv4(htonl(0xc6336402)),
        .tp_src = htons(80),
        .tp_dst = htons(40000),
    };
    struct tcp_seg_hdr h = {
        .seq = 1, .ack = 1, .flags = TCP_ACK, .window = 1000,
        .payload = payload, .payload_len = MIN(payload_len, sizeof payload),
    };

    h.opts.has_ts = true;
    h.opts.tsval = 123456;
    h.opts.tsecr = 654321;
    dp_packet_init(b, 2048);
    if (tcp_seg_build(b, &ep, &h)) {
        ovs_fatal(0, "cannot build a segment of %"PRIuSIZE" bytes",
                  payload_len);
    }
}

/* Opens a raw socket on 'dev' that also receives if 'rx'. */
static int
open_raw(const char *dev, bool rx)
{
    struct sockaddr_ll sll;
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    int one = 1;

    if (fd < 0) {
        ovs_fatal(errno, "socket(AF_PACKET)");
    }
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = rx ? htons(ETH_P_ALL) : 0;
    sll.sll_ifindex = if_nametoindex(dev);
    if (!sll.sll_ifindex) {
        ovs_fatal(errno, "%s", dev);
    }
    if (bind(fd, (struct sockaddr *) &sll, sizeof sll) < 0) {
        ovs_fatal(errno, "%s: bind", dev);
    }
    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    return fd;
}

/* The forwarder. */

struct fwd {
    struct xlate_path *path;
    struct seq_xlate x;
    uint64_t bad;
};

static void
fwd_frame(void *fwd_, uint8_t *frame, size_t len)
{
    struct fwd *fwd = fwd_;
    struct eth_header *eth = (struct eth_header *) frame;

    if (len < ETH_HEADER_LEN
        || seq_xlate_to_client(&fwd->x, frame + ETH_HEADER_LEN,
                               len - ETH_HEADER_LEN)) {
        fwd->bad++;
        return;
    }
    eth->eth_dst = eth->eth_src;
    eth->eth_src = fwd_src;
    xlate_path_send(fwd->path, frame, len);
}

static double
cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec
            + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
}

/* The forwarder stops after this long without a frame. */
#define IDLE_MS 300

static void
run_fwd(const char *dev, int seconds, enum xlate_path_ring ring)
{
    struct fwd fwd = {
        .x = { .delta = 0x9e3779b9, .ts_delta = 777, .ws_srv = 7,
               .ws_lb = 7, .ts = true, .sack = true },
    };
    struct xlate_path_options opts = { .ring = ring };
    struct xlate_path_stats st0, st;
    char *error = xlate_path_open(dev, &opts, &fwd.path);

    if (error) {
        ovs_fatal(0, "%s", error);
    }
    /* Starts counting at the first frame. */
    while (!xlate_path_run(fwd.path, 1, fwd_frame, &fwd)) {
        xlate_path_wait(fwd.path);
        poll_block();
    }
    xlate_path_get_stats(fwd.path, &st0);

    /* Runs until SECONDS have passed or the generator stopped; the rate
     * is that of the time from the first frame to the last. */
    long long int start = time_msec(), last = start;
    long long int deadline = start + seconds * 1000LL;
    double cpu0 = cpu_seconds(), cpu = 0;
    while (time_msec() < deadline && time_msec() - last < IDLE_MS) {
        int n = xlate_path_run(fwd.path, 512, fwd_frame, &fwd);
        if (n < 0) {
            ovs_fatal(0, "%s: the path failed", dev);
        } else if (n > 0) {
            last = time_msec();
            cpu = cpu_seconds() - cpu0;
        }
        if (n < 512) {
            xlate_path_wait(fwd.path);
            poll_timer_wait(IDLE_MS);
            poll_block();
        }
    }
    long long int elapsed = MAX(last - start, 1);

    xlate_path_get_stats(fwd.path, &st);
    uint64_t n_fwd = st.tx - st0.tx;
    printf("forwarded: %"PRIu64" frames in %lld ms: %.0f frames/s; "
           "%.2f s CPU: %.2f us CPU per frame, ceiling on one core "
           "%.0f frames/s (read %"PRIu64", bad %"PRIu64")\n",
           n_fwd, elapsed, n_fwd * 1000.0 / elapsed, cpu,
           n_fwd ? cpu * 1e6 / n_fwd : 0.0, cpu > 0 ? n_fwd / cpu : 0.0,
           st.rx - st0.rx, fwd.bad);

    struct ds s = DS_EMPTY_INITIALIZER;
    xlate_path_format_stats(fwd.path, &s);
    printf("path counters:\n%s", ds_cstr(&s));
    ds_destroy(&s);
    xlate_path_close(fwd.path);
}

/* The generator. */

#define GEN_BATCH 64

static void
run_gen(const char *dev, int seconds, size_t payload_len)
{
    struct mmsghdr msgs[GEN_BATCH];
    struct iovec iov;
    struct dp_packet b;
    uint64_t sent = 0, refused = 0;
    int fd = open_raw(dev, false);

    build_frame(&b, payload_len, gen_dst);
    iov.iov_base = dp_packet_data(&b);
    iov.iov_len = dp_packet_size(&b);
    memset(msgs, 0, sizeof msgs);
    for (size_t i = 0; i < GEN_BATCH; i++) {
        msgs[i].msg_hdr.msg_iov = &iov;
        msgs[i].msg_hdr.msg_iovlen = 1;
    }

    long long int start = time_msec();
    long long int deadline = start + seconds * 1000LL;
    while (time_msec() < deadline) {
        int n = sendmmsg(fd, msgs, GEN_BATCH, 0);
        if (n > 0) {
            sent += n;
        } else {
            refused++;
        }
    }
    long long int elapsed = MAX(time_msec() - start, 1);
    printf("generated: %"PRIu64" frames of %"PRIu32" bytes in %lld ms: "
           "%.0f frames/s (%"PRIu64" batches refused)\n",
           sent, dp_packet_size(&b), elapsed, sent * 1000.0 / elapsed,
           refused);
    dp_packet_uninit(&b);
    close(fd);
}

/* The ping. */

static int
compare_rtt(const void *a_, const void *b_)
{
    const long long int *a = a_, *b = b_;

    return *a < *b ? -1 : *a > *b;
}

static void
run_ping(const char *dev, int count)
{
    long long int *rtt = xcalloc(count, sizeof *rtt);
    struct dp_packet b;
    uint8_t buf[2048];
    int fd = open_raw(dev, true);
    int lost = 0;

    build_frame(&b, 0, gen_dst);
    for (int i = 0; i < count; i++) {
        long long int t0 = time_usec();

        rtt[i] = LLONG_MAX;
        if (send(fd, dp_packet_data(&b), dp_packet_size(&b), 0) < 0) {
            ovs_fatal(errno, "%s: send", dev);
        }
        for (;;) {
            struct pollfd pfd = { .fd = fd, .events = POLLIN };
            if (poll(&pfd, 1, 100) <= 0) {
                lost++;
                break;
            }
            ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n >= ETH_HEADER_LEN
                && eth_addr_equals(((struct eth_header *) buf)->eth_src,
                                   fwd_src)) {
                rtt[i] = time_usec() - t0;
                break;
            }
        }
    }
    qsort(rtt, count, sizeof *rtt, compare_rtt);
    int n_ok = count - lost;
    if (n_ok) {
        printf("round trips: %d, lost %d: median %lld us, 99th percentile "
               "%lld us\n", count, lost, rtt[n_ok / 2],
               rtt[MIN(n_ok - 1, n_ok * 99 / 100)]);
    } else {
        printf("round trips: %d, all lost\n", count);
    }
    free(rtt);
    dp_packet_uninit(&b);
    close(fd);
}

int
main(int argc, char *argv[])
{
    set_program_name(argv[0]);
    vlog_set_levels(vlog_module_from_name("poll_loop"), VLF_ANY_DESTINATION,
                    VLL_WARN);
    if (argc >= 4 && !strcmp(argv[1], "fwd")) {
        run_fwd(argv[2], atoi(argv[3]),
                argc > 4 && !strcmp(argv[4], "blocks")
                ? XLATE_PATH_RING_BLOCKS : XLATE_PATH_RING_FRAMES);
    } else if (argc >= 4 && !strcmp(argv[1], "gen")) {
        run_gen(argv[2], atoi(argv[3]), argc > 4 ? atoi(argv[4]) : 1448);
    } else if (argc >= 4 && !strcmp(argv[1], "ping")) {
        run_ping(argv[2], MAX(atoi(argv[3]), 1));
    } else {
        ovs_fatal(0, "usage: %s fwd DEV SECONDS [frames|blocks] | gen DEV SECONDS [PAYLOAD] "
                  "| ping DEV COUNT", program_name);
    }
    return 0;
}
