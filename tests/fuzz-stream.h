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
 * fuzz-stream: the input of the libFuzzer targets that drive a protocol
 * core (tests/fuzz-lbnode.c, tests/fuzz-agent-core.c, tests/fuzz-health.c,
 * tests/fuzz-owners.c)
 * with a sequence of events, and the checks those targets share.
 *
 * An input is a sequence of records:
 *
 *    0  op    u8    what the record is (each target gives the meanings)
 *    1  len   u16   network byte order
 *    3  data        'len' bytes, cut short by the end of the input
 *
 * A control message record's data is the message without its header's
 * magic, version, length and sequence number and without its MAC:
 *
 *    0  type  u8    2  sender u32 (network byte order)   5  body
 *
 * fuzz_stream_msg() completes it, authenticates it with the fixed key of
 * the fuzzing cluster and decodes it as a receiver would, so that the
 * fuzzer reaches the cores with every message a key holder could send.
 *
 * fuzz_stream_segment() builds the segments with which a target's
 * simulated clients and servers answer what the core sent.
 *
 * The writers build such inputs from real packets and messages for the
 * seed corpus (tests/fuzz-corpus.c).  Single-threaded. */
#ifndef OVSLB_FUZZ_STREAM_H
#define OVSLB_FUZZ_STREAM_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include "ctl-msg.h"

struct dp_packet;
struct flow_key;
struct ofpbuf;
struct tcp_seg_hdr;

#define FUZZ_STREAM_MSG_HDR_LEN 5

/* The records of tests/fuzz-lbnode.c (its comment says what they hold);
 * an op is taken modulo FUZZ_LB_N_OPS. */
enum fuzz_lb_op {
    FUZZ_LB_PACKET_IN,
    FUZZ_LB_MSG,
    FUZZ_LB_RESTORE,
    FUZZ_LB_TIME,
    FUZZ_LB_HEALTH,
    FUZZ_LB_FORMAT,
    FUZZ_LB_CLIENT,
    FUZZ_LB_SERVER,
    FUZZ_LB_N_OPS
};

/* The records of tests/fuzz-health.c, likewise. */
enum fuzz_health_op {
    FUZZ_HEALTH_MSG,
    FUZZ_HEALTH_TIME,
    FUZZ_HEALTH_IMPORT,
    FUZZ_HEALTH_SERVING,
    FUZZ_HEALTH_FORMAT,
    FUZZ_HEALTH_PONGS,
    FUZZ_HEALTH_N_OPS
};

/* The records of tests/fuzz-agent-core.c, likewise. */
enum fuzz_agent_op {
    FUZZ_AGENT_FROM_CLIENT,
    FUZZ_AGENT_FROM_SERVER,
    FUZZ_AGENT_MSG,
    FUZZ_AGENT_RESTORE,
    FUZZ_AGENT_TIME,
    FUZZ_AGENT_SOCKETS,
    FUZZ_AGENT_FORMAT,
    FUZZ_AGENT_SERVER_ANSWER,
    FUZZ_AGENT_CLIENT_DATA,
    FUZZ_AGENT_SERVER_DATA,
    FUZZ_AGENT_N_OPS
};

/* The records of tests/fuzz-owners.c, likewise. */
enum fuzz_owners_op {
    FUZZ_OWNERS_MSG,
    FUZZ_OWNERS_TIME,
    FUZZ_OWNERS_DUMP,
    FUZZ_OWNERS_CONFIG,
    FUZZ_OWNERS_FORMAT,
    FUZZ_OWNERS_N_OPS
};

/* A position in an input. */
struct fuzz_stream {
    const uint8_t *data;
    size_t size;
};

bool fuzz_stream_next(struct fuzz_stream *, uint8_t *op,
                      const uint8_t **data, size_t *len);
const struct ctl_key *fuzz_stream_key(void);
enum ctl_msg_error fuzz_stream_msg(const uint8_t *data, size_t len,
                                   struct ctl_msg *);
struct in6_addr fuzz_stream_v4(uint8_t, uint8_t, uint8_t, uint8_t);
void fuzz_stream_check_sent(const struct ctl_msg *);
void fuzz_stream_check_frame(const void *frame, size_t len);
int fuzz_stream_segment(struct dp_packet *, const struct flow_key *cp,
                        bool to_vip, const struct tcp_seg_hdr *,
                        const uint8_t *payload, size_t payload_len);

void fuzz_stream_put(struct ofpbuf *, uint8_t op, const void *data,
                     size_t len);
void fuzz_stream_put_msg(struct ofpbuf *, uint8_t op, const void *prefix,
                         size_t prefix_len, const struct ctl_msg *);
int fuzz_stream_write_file(const char *dir, const char *name,
                           const struct ofpbuf *);

#endif /* fuzz-stream.h */
