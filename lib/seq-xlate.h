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
 * seq-xlate: the agent's sequence translation (PROTOCOL.md §3).
 *
 * The LB tier answered the client's SYN with its own initial sequence number
 * ISN_lb (and, with timestamps, its own TSval clock and window scale); the
 * server answered the agent's copy of that SYN with ISN_srv.  A seq_xlate
 * describes the difference for one connection, and the functions below
 * rewrite, in place, one IP packet of that connection in either direction,
 * updating the TCP checksum incrementally (RFC 1624): parsing it first, or
 * from what the caller's own parse found (the agent's core parses every
 * segment once).
 *
 * Pure: no I/O, no clock, no state other than coverage counters.  Any thread
 * may call these functions; a seq_xlate is only read.
 */
#ifndef OVSLB_SEQ_XLATE_H
#define OVSLB_SEQ_XLATE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct seq_xlate {
    uint32_t delta;             /* ISN_lb - ISN_srv. */
    uint32_t ts_delta;          /* TSval of the LB tier's SYN/ACK minus
                                 * TSval of the server's SYN/ACK. */
    uint8_t ws_srv;             /* Window scale the server announced. */
    uint8_t ws_lb;              /* Window scale the LB tier announced to the
                                 * client (0 if none).  Both are capped at
                                 * TCP_WSCALE_MAX (14) when used. */
    bool ts;                    /* Timestamps negotiated: translate them. */
    bool sack;                  /* SACK negotiated: translate SACK blocks. */
};

struct tcp_seg_info;

int seq_xlate_to_server(const struct seq_xlate *, void *ip, size_t len);
int seq_xlate_to_client(const struct seq_xlate *, void *ip, size_t len);

/* The same for a packet that the caller parsed with tcp_seg_parse_ip(). */
void seq_xlate_seg_to_server(const struct seq_xlate *, void *ip,
                             const struct tcp_seg_info *);
void seq_xlate_seg_to_client(const struct seq_xlate *, void *ip,
                             const struct tcp_seg_info *);
uint16_t seq_xlate_window(const struct seq_xlate *, uint16_t window);

#endif /* seq-xlate.h */
