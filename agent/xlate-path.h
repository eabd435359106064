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
 * segment to translate and the agent gives them back, read and written with
 * libpcap: immediate mode, non-blocking, inbound frames only, read in
 * bounded batches from the poll loop.
 *
 * A driver around the agent's core.  Single-threaded: the thread that runs
 * the agent's loop owns a path.
 */
#ifndef OVSLB_XLATE_PATH_H
#define OVSLB_XLATE_PATH_H 1

#include <stddef.h>
#include <stdint.h>
#include "openvswitch/compiler.h"

struct ds;

/* Largest frame handled (the port's MTU must not exceed it). */
#define XLATE_PATH_MAX_FRAME 65550

struct xlate_path_stats {
    uint64_t rx;                /* Frames read. */
    uint64_t rx_truncated;      /* Frames shorter than on the wire. */
    uint64_t tx;                /* Frames written. */
    uint64_t tx_errors;         /* Frames that could not be written. */
    uint64_t kernel_drops;      /* Frames the capture buffer dropped. */
};

struct xlate_path;

char *xlate_path_open(const char *devname, struct xlate_path **)
    OVS_WARN_UNUSED_RESULT;
void xlate_path_close(struct xlate_path *);

/* Called for each frame read; 'frame' may be modified in place and passed
 * to xlate_path_send() before returning. */
typedef void xlate_path_frame_func(void *aux, uint8_t *frame, size_t len);

int xlate_path_run(struct xlate_path *, size_t max_frames,
                   xlate_path_frame_func *, void *aux);
void xlate_path_wait(struct xlate_path *);
int xlate_path_send(struct xlate_path *, const void *frame, size_t len);

const char *xlate_path_devname(const struct xlate_path *);
void xlate_path_get_stats(struct xlate_path *, struct xlate_path_stats *);
void xlate_path_format_stats(struct xlate_path *, struct ds *);

#endif /* xlate-path.h */
