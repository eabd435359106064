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
 * xlate-path: the translation port, read from an AF_PACKET ring and written
 * with sendmmsg().  See xlate-path.h.
 */
#include <config.h>
#include "xlate-path.h"

#include <errno.h>
#include <net/if.h>
#include <linux/ethtool.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coverage.h"
#include "netlink.h"
#include "netlink-socket.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(xlate_path);

COVERAGE_DEFINE(xlate_path_rx_truncated);
COVERAGE_DEFINE(xlate_path_ring_drop);
COVERAGE_DEFINE(xlate_path_tx_queue_full);
COVERAGE_DEFINE(xlate_path_tx_error);
COVERAGE_DEFINE(xlate_path_port_tx_drop);

/* Room for one VLAN tag beyond the Ethernet header. */
#define VLAN_ROOM 4

/* Frames of one block of the ring, at least. */
#define FRAMES_PER_BLOCK_MIN 16

/* A blocks ring hands a block that is not full to the agent after this
 * long (the smallest timeout the kernel takes). */
#define BLOCK_TIMEOUT_MS 1

/* Bytes of send buffer asked for: room for the batches in flight. */
#define SNDBUF_BYTES (4 * 1024 * 1024)

struct xlate_path {
    char *devname;
    int ifindex;
    int fd;                     /* AF_PACKET socket, ring and writes. */
    enum xlate_path_ring kind;
    size_t max_frame;           /* Largest Ethernet frame the ring holds. */

    /* The receive ring: 'n_blocks' blocks of 'block_size' bytes, each of
     * 'frames_per_block' frames of 'frame_size' bytes (a frames ring). */
    uint8_t *map;
    size_t map_size;
    size_t block_size;
    size_t frame_size;
    unsigned int n_blocks;
    unsigned int frames_per_block;
    unsigned int n_frames;
    bool losing;                /* The kernel flagged drops: read them. */

    /* Frames ring: the next frame to read, and how many frames before it
     * were read but not yet given back to the kernel. */
    unsigned int head;
    unsigned int unreleased;

    /* Blocks ring: the block being read, whether it is open (then 'left'
     * frames remain at 'next'), and how many blocks before it were read but
     * not given back. */
    unsigned int block;
    bool block_open;
    unsigned int left;
    uint8_t *next;
    unsigned int blocks_unreleased;

    /* Frames waiting to be written: 'n_tx' of 'msgs', whose buffers are in
     * the ring or in 'copies' (XLATE_PATH_TX_BATCH slots of 'max_frame'
     * bytes, for frames that come from elsewhere). */
    struct mmsghdr msgs[XLATE_PATH_TX_BATCH];
    struct iovec iovs[XLATE_PATH_TX_BATCH];
    uint8_t *copies;
    size_t n_tx;

    /* The device's own count of dropped transmissions. */
    bool port_stats;            /* False if it cannot be read. */
    uint64_t port_tx_dropped_base;
    uint64_t port_tx_dropped_last;

    struct xlate_path_stats stats;
};

/* The device. */

static int
dev_ioctl(int fd, const char *devname, unsigned long int cmd,
          struct ifreq *ifr)
{
    ovs_strlcpy(ifr->ifr_name, devname, sizeof ifr->ifr_name);
    return ioctl(fd, cmd, ifr) < 0 ? errno : 0;
}

static int
ethtool_value(int fd, const char *devname, uint32_t cmd, uint32_t *value)
{
    struct ethtool_value ev = { .cmd = cmd, .data = *value };
    struct ifreq ifr;
    int error;

    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_data = (void *) &ev;
    error = dev_ioctl(fd, devname, SIOCETHTOOL, &ifr);
    *value = ev.data;
    return error;
}

/* Turns off the receive offloads of 'devname' that merge frames (GRO, LRO):
 * a merged frame would be larger than the ring's frames, and truncated.
 * Logs what it changed; a failure is logged, not fatal (the truncated frames
 * are counted). */
static void
disable_receive_offloads(int fd, const char *devname)
{
    uint32_t value = 0;
    int error;

    error = ethtool_value(fd, devname, ETHTOOL_GGRO, &value);
    if (!error && value) {
        value = 0;
        error = ethtool_value(fd, devname, ETHTOOL_SGRO, &value);
        if (!error) {
            VLOG_INFO("%s: generic receive offload turned off (merged "
                      "frames would not fit the ring's frames)", devname);
        }
    }
    if (error && error != EOPNOTSUPP) {
        VLOG_WARN("%s: cannot turn generic receive offload off (%s)",
                  devname, ovs_strerror(error));
    }

    value = 0;
    error = ethtool_value(fd, devname, ETHTOOL_GFLAGS, &value);
    if (!error && value & ETH_FLAG_LRO) {
        value &= ~ETH_FLAG_LRO;
        error = ethtool_value(fd, devname, ETHTOOL_SFLAGS, &value);
        if (!error) {
            VLOG_INFO("%s: large receive offload turned off", devname);
        }
    }
    if (error && error != EOPNOTSUPP) {
        VLOG_WARN("%s: cannot turn large receive offload off (%s)",
                  devname, ovs_strerror(error));
    }
}

/* Reads the count of transmissions that the device with 'ifindex' dropped
 * into '*dropped'.  Returns 0 or a positive errno. */
static int
read_port_tx_dropped(int ifindex, uint64_t *dropped)
{
    static const struct nl_policy policy[] = {
        [IFLA_STATS64] = { .type = NL_A_UNSPEC,
                           .min_len = sizeof(struct rtnl_link_stats64),
                           .optional = true },
    };
    struct nlattr *attrs[ARRAY_SIZE(policy)];
    struct ofpbuf request, *reply;
    struct ifinfomsg *ifi;
    int error;

    ofpbuf_init(&request, 0);
    nl_msg_put_nlmsghdr(&request, sizeof *ifi, RTM_GETLINK, NLM_F_REQUEST);
    ifi = ofpbuf_put_zeros(&request, sizeof *ifi);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    error = nl_transact(NETLINK_ROUTE, &request, &reply);
    ofpbuf_uninit(&request);
    if (error) {
        return error;
    }
    if (!nl_policy_parse(reply, NLMSG_HDRLEN + sizeof *ifi, policy, attrs,
                         ARRAY_SIZE(policy))
        || !attrs[IFLA_STATS64]) {
        error = EPROTO;
    } else {
        struct rtnl_link_stats64 st;

        memcpy(&st, nl_attr_get(attrs[IFLA_STATS64]), sizeof st);
        *dropped = st.tx_dropped;
    }
    ofpbuf_delete(reply);
    return error;
}

/* Adds what the device dropped since the last look to the counters. */
static void
update_port_tx_dropped(struct xlate_path *path)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    uint64_t dropped;
    int error;

    if (!path->port_stats) {
        return;
    }
    error = read_port_tx_dropped(path->ifindex, &dropped);
    if (error) {
        VLOG_WARN_RL(&rl, "%s: cannot read the device's counters (%s)",
                     path->devname, ovs_strerror(error));
        return;
    }
    if (dropped < path->port_tx_dropped_last) {
        /* The device's counters went back: a new device. */
        path->port_tx_dropped_base -= path->port_tx_dropped_last;
        path->port_tx_dropped_last = 0;
    }
    COVERAGE_ADD(xlate_path_port_tx_drop,
                 dropped - path->port_tx_dropped_last);
    path->port_tx_dropped_last = dropped;
    path->stats.port_tx_dropped = dropped - path->port_tx_dropped_base;
}

/* The ring. */

/* Adds the kernel's counts of frames the ring dropped since the last look
 * (reading them resets them) to the counters. */
static void
update_ring_stats(struct xlate_path *path)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    struct tpacket_stats_v3 st;
    socklen_t len = sizeof st;

    memset(&st, 0, sizeof st);
    if (getsockopt(path->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len)) {
        VLOG_WARN_RL(&rl, "%s: PACKET_STATISTICS: %s", path->devname,
                     ovs_strerror(errno));
        return;
    }
    COVERAGE_ADD(xlate_path_ring_drop, st.tp_drops);
    path->stats.ring_drops += st.tp_drops;
    if (path->kind == XLATE_PATH_RING_BLOCKS) {
        path->stats.ring_freezes += st.tp_freeze_q_cnt;
    }
    path->losing = false;
}

/* Sizes the ring for 'n_frames' frames of 'max_frame' bytes of Ethernet
 * frame each, and maps it.  Returns 0 or a positive errno. */
static int
setup_ring(struct xlate_path *path, unsigned int n_frames)
{
    size_t page = getpagesize();
    size_t hdr_len = (path->kind == XLATE_PATH_RING_FRAMES
                      ? TPACKET2_HDRLEN : TPACKET3_HDRLEN);
    int version = (path->kind == XLATE_PATH_RING_FRAMES
                   ? TPACKET_V2 : TPACKET_V3);

    /* The kernel puts the network header of a frame at
     * TPACKET_ALIGN(hdr_len + 16) (16: room for the MAC header). */
    path->frame_size = TPACKET_ALIGN(TPACKET_ALIGN(hdr_len + 16)
                                     + path->max_frame);
    path->block_size = ROUND_UP(path->frame_size * FRAMES_PER_BLOCK_MIN,
                                page);
    path->frames_per_block = path->block_size / path->frame_size;
    path->n_blocks = DIV_ROUND_UP(n_frames, path->frames_per_block);
    path->n_frames = path->n_blocks * path->frames_per_block;
    path->map_size = path->block_size * path->n_blocks;

    if (setsockopt(path->fd, SOL_PACKET, PACKET_VERSION, &version,
                   sizeof version)) {
        return errno;
    }
    if (path->kind == XLATE_PATH_RING_FRAMES) {
        struct tpacket_req req = {
            .tp_block_size = path->block_size,
            .tp_block_nr = path->n_blocks,
            .tp_frame_size = path->frame_size,
            .tp_frame_nr = path->n_frames,
        };
        if (setsockopt(path->fd, SOL_PACKET, PACKET_RX_RING, &req,
                       sizeof req)) {
            return errno;
        }
    } else {
        struct tpacket_req3 req = {
            .tp_block_size = path->block_size,
            .tp_block_nr = path->n_blocks,
            .tp_frame_size = path->frame_size,
            .tp_frame_nr = path->n_frames,
            .tp_retire_blk_tov = BLOCK_TIMEOUT_MS,
        };
        if (setsockopt(path->fd, SOL_PACKET, PACKET_RX_RING, &req,
                       sizeof req)) {
            return errno;
        }
    }
    void *map = mmap(NULL, path->map_size, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_LOCKED | MAP_POPULATE, path->fd, 0);
    if (map == MAP_FAILED) {
        map = mmap(NULL, path->map_size, PROT_READ | PROT_WRITE,
                   MAP_SHARED, path->fd, 0);
        if (map == MAP_FAILED) {
            return errno;
        }
    }
    path->map = map;
    return 0;
}

static bool
in_ring(const struct xlate_path *path, const void *p)
{
    const uint8_t *b = p;

    return b >= path->map && b < path->map + path->map_size;
}

static struct tpacket2_hdr *
frame_at(const struct xlate_path *path, unsigned int i)
{
    return (struct tpacket2_hdr *) (path->map
                                    + (i / path->frames_per_block)
                                      * path->block_size
                                    + (i % path->frames_per_block)
                                      * path->frame_size);
}

static struct tpacket_block_desc *
block_at(const struct xlate_path *path, unsigned int i)
{
    return (struct tpacket_block_desc *) (path->map + i * path->block_size);
}

/* Gives the frames (or blocks) read since the last call back to the
 * kernel.  Only once nothing waiting to be written refers to them. */
static void
release_ring(struct xlate_path *path)
{
    ovs_assert(!path->n_tx);
    if (!path->unreleased && !path->blocks_unreleased) {
        return;
    }
    atomic_thread_fence(memory_order_release);
    for (; path->unreleased; path->unreleased--) {
        unsigned int i = ((path->head + path->n_frames - path->unreleased)
                          % path->n_frames);
        *(volatile uint32_t *) &frame_at(path, i)->tp_status
            = TP_STATUS_KERNEL;
    }
    for (; path->blocks_unreleased; path->blocks_unreleased--) {
        unsigned int i = ((path->block + path->n_blocks
                           - path->blocks_unreleased) % path->n_blocks);
        *(volatile uint32_t *) &block_at(path, i)->hdr.bh1.block_status
            = TP_STATUS_KERNEL;
    }
}

/* Opens the translation path on network device 'devname' with 'options'
 * (NULL: the defaults).  Returns NULL and stores the path in '*pathp', or
 * returns an error message (to be freed by the caller) and stores NULL. */
char *
xlate_path_open(const char *devname, const struct xlate_path_options *opts,
                struct xlate_path **pathp)
{
    static const struct xlate_path_options defaults = {
        .ring = XLATE_PATH_RING_FRAMES,
    };
    struct xlate_path *path;
    struct ifreq ifr;
    int error, one = 1;
    char *msg;

    *pathp = NULL;
    opts = opts ? opts : &defaults;
    if (strlen(devname) >= IFNAMSIZ) {
        return xasprintf("%s: device name too long", devname);
    }

    path = xzalloc(sizeof *path);
    path->devname = xstrdup(devname);
    path->kind = opts->ring;
    path->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (path->fd < 0) {
        msg = xasprintf("%s: socket(AF_PACKET): %s", devname,
                        ovs_strerror(errno));
        goto error;
    }

    memset(&ifr, 0, sizeof ifr);
    error = dev_ioctl(path->fd, devname, SIOCGIFINDEX, &ifr);
    if (error) {
        msg = xasprintf("%s: no such device (%s)", devname,
                        ovs_strerror(error));
        goto error;
    }
    path->ifindex = ifr.ifr_ifindex;
    memset(&ifr, 0, sizeof ifr);
    error = dev_ioctl(path->fd, devname, SIOCGIFHWADDR, &ifr);
    if (!error && ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
        msg = xasprintf("%s: not an Ethernet device", devname);
        goto error;
    }
    memset(&ifr, 0, sizeof ifr);
    error = dev_ioctl(path->fd, devname, SIOCGIFMTU, &ifr);
    if (error) {
        msg = xasprintf("%s: cannot read the MTU (%s)", devname,
                        ovs_strerror(error));
        goto error;
    }
    path->max_frame = MAX(ifr.ifr_mtu, ETH_DATA_LEN) + ETH_HLEN + VLAN_ROOM;

    if (!opts->keep_offloads) {
        disable_receive_offloads(path->fd, devname);
    }

    error = setup_ring(path, (opts->ring_frames ? opts->ring_frames
                              : XLATE_PATH_RING_FRAMES_DEFAULT));
    if (error) {
        msg = xasprintf("%s: cannot set up the receive ring (%s)", devname,
                        ovs_strerror(error));
        goto error;
    }

    /* What the agent itself writes to the port must not come back (older
     * kernels lack the option: then the frames are told apart by their
     * packet type). */
    if (setsockopt(path->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
                   sizeof one)) {
        VLOG_DBG("%s: PACKET_IGNORE_OUTGOING: %s", devname,
                 ovs_strerror(errno));
    }
    /* The frames go to the device's driver directly: the tap's own queue
     * is the only one (and its drops are counted, see
     * update_port_tx_dropped()). */
    if (setsockopt(path->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one,
                   sizeof one)) {
        VLOG_DBG("%s: PACKET_QDISC_BYPASS: %s", devname,
                 ovs_strerror(errno));
    }
    int sndbuf = SNDBUF_BYTES;
    if (setsockopt(path->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf,
                   sizeof sndbuf)
        && setsockopt(path->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
                      sizeof sndbuf)) {
        VLOG_DBG("%s: SO_SNDBUF: %s", devname, ovs_strerror(errno));
    }

    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = path->ifindex;
    if (bind(path->fd, (struct sockaddr *) &sll, sizeof sll)) {
        msg = xasprintf("%s: bind: %s", devname, ovs_strerror(errno));
        goto error;
    }

    path->copies = xmalloc(XLATE_PATH_TX_BATCH * path->max_frame);
    for (size_t i = 0; i < XLATE_PATH_TX_BATCH; i++) {
        path->msgs[i].msg_hdr.msg_iov = &path->iovs[i];
        path->msgs[i].msg_hdr.msg_iovlen = 1;
    }

    error = read_port_tx_dropped(path->ifindex, &path->port_tx_dropped_base);
    if (error) {
        VLOG_WARN("%s: the device's drops will not be counted (%s)",
                  devname, ovs_strerror(error));
    }
    path->port_stats = !error;
    path->port_tx_dropped_last = path->port_tx_dropped_base;

    VLOG_INFO("%s: translation port open: %s ring of %u frames of %"PRIuSIZE
              " bytes (%u blocks of %"PRIuSIZE" bytes), writes in batches "
              "of up to %d", devname,
              path->kind == XLATE_PATH_RING_FRAMES ? "frames" : "blocks",
              path->n_frames, path->max_frame, path->n_blocks,
              path->block_size, XLATE_PATH_TX_BATCH);
    *pathp = path;
    return NULL;

error:
    xlate_path_close(path);
    return msg;
}

/* Closes 'path', writing what it holds first.  NULL is a no-op. */
void
xlate_path_close(struct xlate_path *path)
{
    if (path) {
        if (path->fd >= 0) {
            xlate_path_flush(path);
        }
        if (path->map) {
            munmap(path->map, path->map_size);
        }
        if (path->fd >= 0) {
            close(path->fd);
        }
        free(path->copies);
        free(path->devname);
        free(path);
    }
}

/* Hands the frame 'data' ('snaplen' bytes read of 'len' on the wire, of
 * packet type 'pkttype') to 'cb'. */
static void
handle_frame(struct xlate_path *path, uint8_t *data, uint32_t snaplen,
             uint32_t len, uint8_t pkttype,
             xlate_path_frame_func *cb, void *aux)
{
    if (pkttype == PACKET_OUTGOING) {
        /* Our own frame, where PACKET_IGNORE_OUTGOING is missing. */
        return;
    }
    path->stats.rx++;
    if (snaplen < len) {
        path->stats.rx_truncated++;
        COVERAGE_INC(xlate_path_rx_truncated);
        return;
    }
    cb(aux, data, snaplen);
}

static bool
run_frame(struct xlate_path *path, xlate_path_frame_func *cb, void *aux)
{
    struct tpacket2_hdr *h = frame_at(path, path->head);
    uint32_t status = *(volatile uint32_t *) &h->tp_status;

    if (path->unreleased >= path->n_frames || !(status & TP_STATUS_USER)) {
        /* Went round the ring (its frames are still ours until written), or
         * nothing more to read. */
        return false;
    }
    atomic_thread_fence(memory_order_acquire);
    if (status & TP_STATUS_LOSING) {
        path->losing = true;
    }

    const struct sockaddr_ll *sll
        = (const struct sockaddr_ll *) ((uint8_t *) h
                                        + TPACKET_ALIGN(sizeof *h));
    if (h->tp_mac + h->tp_snaplen <= path->frame_size) {
        handle_frame(path, (uint8_t *) h + h->tp_mac, h->tp_snaplen,
                     h->tp_len, sll->sll_pkttype, cb, aux);
    }
    path->head = (path->head + 1) % path->n_frames;
    path->unreleased++;
    return true;
}

static bool
run_block_frame(struct xlate_path *path, xlate_path_frame_func *cb,
                void *aux)
{
    if (!path->block_open) {
        struct tpacket_block_desc *bd = block_at(path, path->block);
        uint32_t status = *(volatile uint32_t *) &bd->hdr.bh1.block_status;

        if (path->blocks_unreleased >= path->n_blocks
            || !(status & TP_STATUS_USER)) {
            return false;
        }
        atomic_thread_fence(memory_order_acquire);
        if (status & TP_STATUS_LOSING) {
            path->losing = true;
        }
        path->block_open = true;
        path->left = bd->hdr.bh1.num_pkts;
        path->next = (uint8_t *) bd + bd->hdr.bh1.offset_to_first_pkt;
    }

    if (path->left) {
        struct tpacket3_hdr *h = (struct tpacket3_hdr *) path->next;
        const struct sockaddr_ll *sll
            = (const struct sockaddr_ll *) ((uint8_t *) h
                                            + TPACKET_ALIGN(sizeof *h));

        handle_frame(path, (uint8_t *) h + h->tp_mac, h->tp_snaplen,
                     h->tp_len, sll->sll_pkttype, cb, aux);
        path->next += h->tp_next_offset;
        path->left--;
    }
    if (!path->left) {
        path->block_open = false;
        path->block = (path->block + 1) % path->n_blocks;
        path->blocks_unreleased++;
    }
    return true;
}

/* Reads up to 'max_frames' frames that OVS sent to the port and calls
 * 'cb' with 'aux' for each one, then writes what 'cb' gave to
 * xlate_path_send().  Returns the number read; if it is 'max_frames', more
 * may be waiting (the caller should run again at once).  Never fails: the
 * return type leaves room for a path that must be reopened. */
int
xlate_path_run(struct xlate_path *path, size_t max_frames,
               xlate_path_frame_func *cb, void *aux)
{
    size_t n = 0;

    max_frames = MIN(max_frames, INT_MAX);
    while (n < max_frames
           && (path->kind == XLATE_PATH_RING_FRAMES
               ? run_frame(path, cb, aux)
               : run_block_frame(path, cb, aux))) {
        n++;
    }
    xlate_path_flush(path);
    if (path->losing) {
        update_ring_stats(path);
    }
    return n;
}

/* Arranges for the poll loop to wake when frames are waiting. */
void
xlate_path_wait(struct xlate_path *path)
{
    if (path->n_tx) {
        poll_immediate_wake();
    }
    poll_fd_wait(path->fd, POLLIN);
}

/* Queues the Ethernet frame 'frame' ('len' bytes) to be written to the
 * port, that is, given to OVS, by the next xlate_path_flush() (which
 * xlate_path_run() calls before it returns).  A frame that the callback of
 * xlate_path_run() was given is written from the ring; any other is copied.
 * Returns 0 or a positive errno (then the frame is counted as an error);
 * a frame that the kernel refuses later is counted then. */
int
xlate_path_send(struct xlate_path *path, const void *frame, size_t len)
{
    bool ring = in_ring(path, frame);
    struct iovec *iov;

    if (!ring && len > path->max_frame) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

        path->stats.tx_errors++;
        COVERAGE_INC(xlate_path_tx_error);
        VLOG_WARN_RL(&rl, "%s: frame of %"PRIuSIZE" bytes exceeds the "
                     "port's %"PRIuSIZE, path->devname, len,
                     path->max_frame);
        return EMSGSIZE;
    }
    if (path->n_tx >= XLATE_PATH_TX_BATCH) {
        xlate_path_flush(path);
    }
    iov = &path->iovs[path->n_tx];
    if (ring) {
        iov->iov_base = CONST_CAST(void *, frame);
    } else {
        iov->iov_base = path->copies + path->n_tx * path->max_frame;
        memcpy(iov->iov_base, frame, len);
    }
    iov->iov_len = len;
    path->n_tx++;
    return 0;
}

/* Writes the frames queued by xlate_path_send(), then gives the frames read
 * so far back to the kernel. */
void
xlate_path_flush(struct xlate_path *path)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    size_t i = 0;

    while (i < path->n_tx) {
        int n = sendmmsg(path->fd, &path->msgs[i], path->n_tx - i,
                         MSG_DONTWAIT);
        path->stats.tx_batches++;
        if (n > 0) {
            path->stats.tx += n;
            i += n;
            continue;
        }

        /* The frame 'i' failed. */
        int error = n < 0 ? errno : EIO;
        if (error == EINTR) {
            continue;
        } else if (error == ENOBUFS || error == EAGAIN
                   || error == EWOULDBLOCK) {
            path->stats.tx_queue_full++;
            COVERAGE_INC(xlate_path_tx_queue_full);
        } else {
            path->stats.tx_errors++;
            COVERAGE_INC(xlate_path_tx_error);
            VLOG_WARN_RL(&rl, "%s: write of %"PRIuSIZE" bytes: %s",
                         path->devname, path->iovs[i].iov_len,
                         ovs_strerror(error));
        }
        i++;
    }
    path->n_tx = 0;
    release_ring(path);
}

/* Returns the name of the port's device. */
const char *
xlate_path_devname(const struct xlate_path *path)
{
    return path->devname;
}

/* Returns the largest Ethernet frame that the path reads or writes (from the
 * port's MTU when it was opened). */
size_t
xlate_path_max_frame(const struct xlate_path *path)
{
    return path->max_frame;
}

/* Stores the counters of 'path' in 'stats'. */
void
xlate_path_get_stats(struct xlate_path *path, struct xlate_path_stats *stats)
{
    update_ring_stats(path);
    update_port_tx_dropped(path);
    *stats = path->stats;
}

/* Appends the counters of 'path' to 's', one "name: value" per line. */
void
xlate_path_format_stats(struct xlate_path *path, struct ds *s)
{
    struct xlate_path_stats st;

    xlate_path_get_stats(path, &st);
    ds_put_format(s, "  frames_read: %"PRIu64"\n", st.rx);
    ds_put_format(s, "  frames_truncated: %"PRIu64"\n", st.rx_truncated);
    ds_put_format(s, "  capture_drops: %"PRIu64"\n", st.ring_drops);
    ds_put_format(s, "  ring_freezes: %"PRIu64"\n", st.ring_freezes);
    ds_put_format(s, "  frames_written: %"PRIu64"\n", st.tx);
    ds_put_format(s, "  write_batches: %"PRIu64"\n", st.tx_batches);
    ds_put_format(s, "  write_queue_full: %"PRIu64"\n", st.tx_queue_full);
    ds_put_format(s, "  write_errors: %"PRIu64"\n", st.tx_errors);
    ds_put_format(s, "  port_tx_dropped: %"PRIu64"\n", st.port_tx_dropped);
}
