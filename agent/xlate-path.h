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
 * xlate-path: the agent's translation port (PROTOCOL.md §3), the internal
 * port of the server node's bridge through which OVS gives the agent every
 * segment to translate and the agent gives them back.
 *
 * Read from a memory-mapped AF_PACKET receive ring sized in frames (each
 * frame holds one MTU-sized Ethernet frame), inbound frames only; written
 * in batches with sendmmsg(), bypassing the device's qdisc.  A frame read
 * from the ring and handed back to xlate_path_send() is written from the
 * ring itself, without a copy; the ring's frames are given back to the
 * kernel once the batch that refers to them is written.  Every frame lost
 * is counted where it is lost: the ring's drops, truncated frames, writes
 * refused by the kernel by reason, and the frames the device itself
 * dropped after accepting them (a tap's full queue).
 *
 * A driver around the agent's core.  Single-threaded: the thread that runs
 * the agent's loop owns a path.
 */
#ifndef OVSLB_XLATE_PATH_H
#define OVSLB_XLATE_PATH_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openvswitch/compiler.h"

struct ds;

/* How the receive ring hands frames to the agent. */
enum xlate_path_ring {
    XLATE_PATH_RING_FRAMES,     /* TPACKET_V2: frame by frame, the poll loop
                                 * wakes for each frame (the default). */
    XLATE_PATH_RING_BLOCKS,     /* TPACKET_V3: block by block, the poll loop
                                 * wakes when a block is full or after the
                                 * block timeout (1 ms at best). */
};

struct xlate_path_options {
    enum xlate_path_ring ring;
    unsigned int ring_frames;   /* Frames the ring holds (0: default). */
    bool keep_offloads;         /* Leave the port's receive offloads (GRO,
                                 * LRO) as they are. */
};

/* Frames the ring holds by default. */
#define XLATE_PATH_RING_FRAMES_DEFAULT 4096

/* Frames written by one sendmmsg() at most. */
#define XLATE_PATH_TX_BATCH 256

struct xlate_path_stats {
    uint64_t rx;                /* Frames read. */
    uint64_t rx_truncated;      /* Frames larger than a ring frame: dropped. */
    uint64_t ring_drops;        /* Frames the ring had no room for. */
    uint64_t ring_freezes;      /* Times the ring was full (blocks ring). */
    uint64_t tx;                /* Frames the kernel took. */
    uint64_t tx_batches;        /* sendmmsg() calls. */
    uint64_t tx_queue_full;     /* Frames refused: no buffer or queue room
                                 * (ENOBUFS, EAGAIN). */
    uint64_t tx_errors;         /* Frames refused for another reason. */
    uint64_t port_tx_dropped;   /* Frames the device dropped after taking
                                 * them, since the path was opened. */
};

struct xlate_path;

char *xlate_path_open(const char *devname, const struct xlate_path_options *,
                      struct xlate_path **) OVS_WARN_UNUSED_RESULT;
void xlate_path_close(struct xlate_path *);

/* Called for each frame read; 'frame' may be modified in place and passed
 * to xlate_path_send() before returning. */
typedef void xlate_path_frame_func(void *aux, uint8_t *frame, size_t len);

int xlate_path_run(struct xlate_path *, size_t max_frames,
                   xlate_path_frame_func *, void *aux);
void xlate_path_wait(struct xlate_path *);
int xlate_path_send(struct xlate_path *, const void *frame, size_t len);
void xlate_path_flush(struct xlate_path *);

const char *xlate_path_devname(const struct xlate_path *);
size_t xlate_path_max_frame(const struct xlate_path *);
void xlate_path_get_stats(struct xlate_path *, struct xlate_path_stats *);
void xlate_path_format_stats(struct xlate_path *, struct ds *);

#endif /* xlate-path.h */
