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
 * xlate-path: the translation port, read and written with libpcap.  See
 * xlate-path.h.
 */
#include <config.h>
#include "xlate-path.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(xlate_path);

/* Kernel buffer of the capture. */
#define CAPTURE_BUFFER_BYTES (8 * 1024 * 1024)

struct xlate_path {
    pcap_t *pcap;
    char *devname;
    int fd;                     /* Selectable descriptor. */
    struct xlate_path_stats stats;

    /* During xlate_path_run(). */
    xlate_path_frame_func *cb;
    void *aux;
    uint8_t frame[XLATE_PATH_MAX_FRAME];
};

/* Opens the capture on network device 'devname'.  Returns NULL and stores
 * the path in '*pathp', or returns an error message (to be freed by the
 * caller) and stores NULL. */
char *
xlate_path_open(const char *devname, struct xlate_path **pathp)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p;
    int error;

    *pathp = NULL;
    errbuf[0] = '\0';
    p = pcap_create(devname, errbuf);
    if (!p) {
        return xasprintf("%s: pcap_create: %s", devname, errbuf);
    }
    if (pcap_set_snaplen(p, XLATE_PATH_MAX_FRAME)
        || pcap_set_immediate_mode(p, 1)
        || pcap_set_promisc(p, 0)
        || pcap_set_buffer_size(p, CAPTURE_BUFFER_BYTES)) {
        pcap_close(p);
        return xasprintf("%s: cannot set capture options", devname);
    }
    error = pcap_activate(p);
    if (error < 0) {
        char *msg = xasprintf("%s: pcap_activate: %s (%s)", devname,
                              pcap_statustostr(error), pcap_geterr(p));
        pcap_close(p);
        return msg;
    } else if (error > 0) {
        VLOG_WARN("%s: %s (%s)", devname, pcap_statustostr(error),
                  pcap_geterr(p));
    }
    if (pcap_setnonblock(p, 1, errbuf)) {
        pcap_close(p);
        return xasprintf("%s: pcap_setnonblock: %s", devname, errbuf);
    }
    /* What the agent itself writes to the port must not come back. */
    if (pcap_setdirection(p, PCAP_D_IN)) {
        char *msg = xasprintf("%s: pcap_setdirection: %s", devname,
                              pcap_geterr(p));
        pcap_close(p);
        return msg;
    }
    if (pcap_datalink(p) != DLT_EN10MB) {
        pcap_close(p);
        return xasprintf("%s: not an Ethernet device", devname);
    }
    int fd = pcap_get_selectable_fd(p);
    if (fd < 0) {
        pcap_close(p);
        return xasprintf("%s: no selectable descriptor", devname);
    }

    struct xlate_path *path = xzalloc(sizeof *path);
    path->pcap = p;
    path->devname = xstrdup(devname);
    path->fd = fd;
    *pathp = path;
    VLOG_INFO("%s: translation port open", devname);
    return NULL;
}

/* Closes 'path'.  NULL is a no-op. */
void
xlate_path_close(struct xlate_path *path)
{
    if (path) {
        pcap_close(path->pcap);
        free(path->devname);
        free(path);
    }
}

static void
handle_frame(u_char *path_, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct xlate_path *path = (struct xlate_path *) path_;
    size_t len = MIN(h->caplen, sizeof path->frame);

    path->stats.rx++;
    if (h->caplen < h->len) {
        path->stats.rx_truncated++;
        return;
    }
    memcpy(path->frame, bytes, len);
    path->cb(path->aux, path->frame, len);
}

/* Reads up to 'max_frames' frames that OVS sent to the port and calls
 * 'cb' with 'aux' for each one.  Returns the number read; if it is
 * 'max_frames', more may be waiting (the caller should run again at once).
 * Returns -1 after an error (logged), for instance if the device went
 * away: then the caller should close the path and open it again. */
int
xlate_path_run(struct xlate_path *path, size_t max_frames,
               xlate_path_frame_func *cb, void *aux)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    int n;

    path->cb = cb;
    path->aux = aux;
    n = pcap_dispatch(path->pcap, MIN(max_frames, INT_MAX - 1),
                      handle_frame, (u_char *) path);
    path->cb = NULL;
    if (n < 0) {
        VLOG_WARN_RL(&rl, "%s: pcap_dispatch: %s", path->devname,
                     pcap_geterr(path->pcap));
        return -1;
    }
    return n;
}

/* Arranges for the poll loop to wake when frames are waiting. */
void
xlate_path_wait(struct xlate_path *path)
{
    poll_fd_wait(path->fd, POLLIN);
}

/* Writes the Ethernet frame 'frame' ('len' bytes) to the port, that is,
 * gives it to OVS.  Returns 0 or a positive errno. */
int
xlate_path_send(struct xlate_path *path, const void *frame, size_t len)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

    if (pcap_inject(path->pcap, frame, len) < 0) {
        path->stats.tx_errors++;
        VLOG_WARN_RL(&rl, "%s: pcap_inject (%"PRIuSIZE" bytes): %s",
                     path->devname, len, pcap_geterr(path->pcap));
        return EIO;
    }
    path->stats.tx++;
    return 0;
}

/* Returns the name of the port's device. */
const char *
xlate_path_devname(const struct xlate_path *path)
{
    return path->devname;
}

/* Stores the counters of 'path' in 'stats'. */
void
xlate_path_get_stats(struct xlate_path *path, struct xlate_path_stats *stats)
{
    struct pcap_stat ps;

    if (!pcap_stats(path->pcap, &ps)) {
        path->stats.kernel_drops = ps.ps_drop;
    }
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
    ds_put_format(s, "  frames_written: %"PRIu64"\n", st.tx);
    ds_put_format(s, "  write_errors: %"PRIu64"\n", st.tx_errors);
    ds_put_format(s, "  capture_drops: %"PRIu64"\n", st.kernel_drops);
}
