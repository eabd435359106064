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
 * Unit tests of agent/xlate-path: a frame lost on the translation port is
 * counted, never silent.  Each test runs on a tap device in a network
 * namespace of its own (unshared by the test process, gone when it exits),
 * the test playing Open vSwitch's part at the tap's file descriptor: what
 * it writes there is what the path reads, what the path writes queues
 * there.
 *
 *   - a full receive ring: frames written while the path does not read are
 *     either read later or counted as ring drops;
 *   - a full tap queue: frames written while nobody reads the tap are
 *     either in its queue or counted as dropped by the port;
 *   - a frame larger than the ring's frames is counted as truncated, and a
 *     frame too large to write is refused and counted.
 *
 * Root only (namespaces, taps, raw sockets): skipped (77) otherwise.
 */
#include <config.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "dp-packet.h"
#include "packets.h"
#include "tcp-seg.h"
#include "util.h"
#include "xlate-path.h"

#define TAP_NAME "xio-tap0"

/* Frames the tests' rings hold, at least. */
#define RING_FRAMES 64

static void
write_file(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");

    ck_assert_msg(f != NULL, "%s: %s", path, ovs_strerror(errno));
    fputs(s, f);
    ck_assert(!fclose(f));
}

/* Creates the tap TAP_NAME in the test's namespace, up, without IPv6 (so
 * that the kernel sends nothing of its own on it), and returns its
 * descriptor, non-blocking. */
static int
tap_create(void)
{
    struct ifreq ifr;
    int fd, sock;

    write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1\n");
    fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    ck_assert_msg(fd >= 0, "/dev/net/tun: %s", ovs_strerror(errno));
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    ovs_strlcpy(ifr.ifr_name, TAP_NAME, sizeof ifr.ifr_name);
    ck_assert_msg(!ioctl(fd, TUNSETIFF, &ifr), "TUNSETIFF: %s",
                  ovs_strerror(errno));

    sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ck_assert(sock >= 0);
    memset(&ifr, 0, sizeof ifr);
    ovs_strlcpy(ifr.ifr_name, TAP_NAME, sizeof ifr.ifr_name);
    ck_assert(!ioctl(sock, SIOCGIFFLAGS, &ifr));
    ifr.ifr_flags |= IFF_UP | IFF_NOARP;
    ck_assert_msg(!ioctl(sock, SIOCSIFFLAGS, &ifr), "SIOCSIFFLAGS: %s",
                  ovs_strerror(errno));
    close(sock);
    return fd;
}

/* Returns how many frames the tap queues towards its reader (its
 * txqueuelen). */
static size_t
tap_queue_len(void)
{
    struct ifreq ifr;
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    ck_assert(sock >= 0);
    memset(&ifr, 0, sizeof ifr);
    ovs_strlcpy(ifr.ifr_name, TAP_NAME, sizeof ifr.ifr_name);
    ck_assert(!ioctl(sock, SIOCGIFTXQLEN, &ifr));
    close(sock);
    ck_assert_int_gt(ifr.ifr_qlen, 0);
    return ifr.ifr_qlen;
}

/* Builds into 'b' a TCP segment with 'payload_len' bytes of payload, as an
 * Ethernet frame. */
static void
build_frame(struct dp_packet *b, size_t payload_len)
{
    static uint8_t payload[9000];
    struct tcp_seg_endpoints ep = {
        .eth_src = ETH_ADDR_C(02, 00, 00, 00, 00, 01),
        .eth_dst = ETH_ADDR_C(02, 00, 00, 00, 00, 02),
        .ip_src = in6_addr_mapped_ipv4(htonl(0xcb00710a)),
        .ip_dst = in6_addr_mapped_ipv4(htonl(0xc6336402)),
        .tp_src = htons(80),
        .tp_dst = htons(40000),
    };
    struct tcp_seg_hdr h = {
        .seq = 1, .ack = 1, .flags = TCP_ACK, .window = 1000,
        .payload = payload, .payload_len = payload_len,
    };

    ck_assert(payload_len <= sizeof payload);
    dp_packet_init(b, 128 + payload_len);
    ck_assert(!tcp_seg_build(b, &ep, &h));
}

static struct xlate_path *
path_open(void)
{
    struct xlate_path_options opts = { .ring_frames = RING_FRAMES };
    struct xlate_path *path;
    char *error = xlate_path_open(TAP_NAME, &opts, &path);

    ck_assert_msg(!error, "%s", error);
    return path;
}

struct counter {
    size_t frames;
    size_t bytes;
};

static void
count_frame(void *c_, uint8_t *frame OVS_UNUSED, size_t len)
{
    struct counter *c = c_;

    c->frames++;
    c->bytes += len;
}

/* Reads everything the path has, into 'c'. */
static void
drain_path(struct xlate_path *path, struct counter *c)
{
    while (xlate_path_run(path, 1000, count_frame, c) > 0) {
        continue;
    }
}

/* Returns how many frames wait in the tap's queue, reading them. */
static size_t
drain_tap(int tap)
{
    uint8_t buf[65536];
    size_t n = 0;

    while (read(tap, buf, sizeof buf) > 0) {
        n++;
    }
    ck_assert_int_eq(errno, EAGAIN);
    return n;
}

START_TEST(test_full_ring_counted)
{
    const size_t n = 10 * RING_FRAMES;
    int tap = tap_create();
    struct xlate_path *path = path_open();
    struct xlate_path_stats st;
    struct counter c = { 0, 0 };
    struct dp_packet b;

    /* Frames arrive while the agent does not read: the ring fills. */
    build_frame(&b, 1000);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(write(tap, dp_packet_data(&b), dp_packet_size(&b)),
                         dp_packet_size(&b));
    }
    drain_path(path, &c);
    xlate_path_get_stats(path, &st);

    /* What the ring held was read whole; everything else is counted. */
    ck_assert_uint_ge(c.frames, RING_FRAMES);
    ck_assert_uint_lt(c.frames, n);
    ck_assert_uint_eq(c.bytes, c.frames * dp_packet_size(&b));
    ck_assert_uint_eq(st.rx, c.frames);
    ck_assert_uint_eq(st.ring_drops, n - c.frames);
    ck_assert_uint_eq(st.rx_truncated, 0);

    /* Read as they come, the same frames are not dropped. */
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(write(tap, dp_packet_data(&b), dp_packet_size(&b)),
                         dp_packet_size(&b));
        drain_path(path, &c);
    }
    xlate_path_get_stats(path, &st);
    ck_assert_uint_eq(st.ring_drops, n - (c.frames - n));
    ck_assert_uint_eq(st.rx, c.frames);

    dp_packet_uninit(&b);
    xlate_path_close(path);
    close(tap);
}
END_TEST

struct echo {
    struct xlate_path *path;
    size_t frames;
};

static void
echo_frame(void *e_, uint8_t *frame, size_t len)
{
    struct echo *e = e_;

    e->frames++;
    ck_assert(!xlate_path_send(e->path, frame, len));
}

START_TEST(test_full_tap_queue_counted)
{
    int tap = tap_create();
    const size_t n = 4 * tap_queue_len();
    struct xlate_path *path = path_open();
    struct xlate_path_stats st;
    struct dp_packet b;

    /* The agent writes frames it made itself (copied) and frames it read
     * (written from the ring) while Open vSwitch does not read the tap. */
    build_frame(&b, 1000);
    for (size_t i = 0; i < n / 2; i++) {
        ck_assert(!xlate_path_send(path, dp_packet_data(&b),
                                   dp_packet_size(&b)));
    }
    xlate_path_flush(path);

    struct echo e = { path, 0 };
    for (size_t i = 0; i < n / 2; i++) {
        ck_assert_int_eq(write(tap, dp_packet_data(&b), dp_packet_size(&b)),
                         dp_packet_size(&b));
        while (xlate_path_run(path, 100, echo_frame, &e) > 0) {
            continue;
        }
    }
    ck_assert_uint_eq(e.frames, n / 2);

    size_t queued = drain_tap(tap);
    xlate_path_get_stats(path, &st);

    /* Every frame is in the tap's queue or counted as lost.  With the
     * qdisc bypassed, the tap's refusal comes back as ENOBUFS, and the tap
     * counts it too. */
    ck_assert_uint_eq(st.tx + st.tx_queue_full + st.tx_errors, n);
    ck_assert_uint_eq(st.tx_errors, 0);
    ck_assert_uint_eq(queued, st.tx);
    ck_assert_uint_eq(st.tx_queue_full, n - queued);
    ck_assert_uint_gt(st.tx_queue_full, 0);
    ck_assert_uint_ge(st.port_tx_dropped, st.tx_queue_full);
    ck_assert_uint_eq(st.ring_drops, 0);

    /* Read as they come, no frame is lost. */
    uint64_t dropped = st.port_tx_dropped, full = st.tx_queue_full;
    for (size_t i = 0; i < n; i++) {
        ck_assert(!xlate_path_send(path, dp_packet_data(&b),
                                   dp_packet_size(&b)));
        xlate_path_flush(path);
        ck_assert_uint_eq(drain_tap(tap), 1);
    }
    xlate_path_get_stats(path, &st);
    ck_assert_uint_eq(st.port_tx_dropped, dropped);
    ck_assert_uint_eq(st.tx_queue_full, full);

    dp_packet_uninit(&b);
    xlate_path_close(path);
    close(tap);
}
END_TEST

START_TEST(test_oversized_counted)
{
    int tap = tap_create();
    struct xlate_path *path = path_open();
    size_t max = xlate_path_max_frame(path);
    struct xlate_path_stats st;
    struct counter c = { 0, 0 };
    struct dp_packet big, small;

    /* A frame larger than the ring's frames (a tap takes it whatever its
     * MTU) is read truncated: counted, not handed on. */
    build_frame(&big, max + 100 - 54);
    build_frame(&small, 100);
    ck_assert_uint_gt(dp_packet_size(&big), max);
    ck_assert_int_eq(write(tap, dp_packet_data(&big), dp_packet_size(&big)),
                     dp_packet_size(&big));
    ck_assert_int_eq(write(tap, dp_packet_data(&small),
                           dp_packet_size(&small)),
                     dp_packet_size(&small));
    drain_path(path, &c);
    ck_assert_uint_eq(c.frames, 1);
    ck_assert_uint_eq(c.bytes, dp_packet_size(&small));
    xlate_path_get_stats(path, &st);
    ck_assert_uint_eq(st.rx, 2);
    ck_assert_uint_eq(st.rx_truncated, 1);

    /* The agent cannot write it either. */
    ck_assert_int_eq(xlate_path_send(path, dp_packet_data(&big),
                                     dp_packet_size(&big)), EMSGSIZE);
    xlate_path_flush(path);
    xlate_path_get_stats(path, &st);
    ck_assert_uint_eq(st.tx_errors, 1);
    ck_assert_uint_eq(st.tx, 0);

    dp_packet_uninit(&big);
    dp_packet_uninit(&small);
    xlate_path_close(path);
    close(tap);
}
END_TEST

static Suite *
xlate_path_suite(void)
{
    Suite *s = suite_create("xlate-path");
    TCase *tc = tcase_create("drops");

    tcase_add_test(tc, test_full_ring_counted);
    tcase_add_test(tc, test_full_tap_queue_counted);
    tcase_add_test(tc, test_oversized_counted);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr;
    int n_failed;

    /* Every test runs in a fork of this process, so in this namespace. */
    if (geteuid() || unshare(CLONE_NEWNET)) {
        printf("SKIP: needs root and network namespaces\n");
        return 77;
    }
    if (access("/dev/net/tun", R_OK | W_OK)) {
        printf("SKIP: no /dev/net/tun\n");
        return 77;
    }
    sr = srunner_create(xlate_path_suite());
    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
