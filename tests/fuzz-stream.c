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
 * fuzz-stream: the event records of the core fuzzers (see the header).
 */
#include <config.h>
#include "fuzz-stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "dp-packet.h"
#include "flow-key.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofpbuf.h"
#include "packets.h"
#include "tcp-seg.h"
#include "util.h"

#define FUZZ_STREAM_KEY "ovslb fuzzing cluster key, fixed"

/* Reads the next record of 's' into 'op', 'data' and 'len' and advances
 * past it.  Returns false at the end of the input. */
bool
fuzz_stream_next(struct fuzz_stream *s, uint8_t *op, const uint8_t **data,
                 size_t *len)
{
    if (s->size < 3) {
        return false;
    }
    *op = s->data[0];
    *len = MIN((s->data[1] << 8) | s->data[2], s->size - 3);
    *data = s->data + 3;
    s->data += 3 + *len;
    s->size -= 3 + *len;
    return true;
}

/* The key of the fuzzing cluster. */
const struct ctl_key *
fuzz_stream_key(void)
{
    static struct ctl_key key;
    static bool initialized;

    if (!initialized) {
        ovs_assert(!ctl_key_init(&key, FUZZ_STREAM_KEY,
                                 strlen(FUZZ_STREAM_KEY)));
        initialized = true;
    }
    return &key;
}

/* Completes the control message record 'data' ('len' bytes) into a
 * message (sequence number 1) authenticated with fuzz_stream_key() and
 * decodes it into 'msg'.  Returns what ctl_msg_decode() returns. */
enum ctl_msg_error
fuzz_stream_msg(const uint8_t *data, size_t len, struct ctl_msg *msg)
{
    const struct ctl_key *key = fuzz_stream_key();
    ovs_be32 magic = htonl(CTL_MSG_MAGIC);
    size_t body_len, msg_len;
    enum ctl_msg_error error;
    unsigned int md_len;
    uint8_t md[EVP_MAX_MD_SIZE];
    struct ctl_stats stats;
    uint8_t *buf;

    if (len < FUZZ_STREAM_MSG_HDR_LEN) {
        return CTL_MSG_ERR_SHORT;
    }
    body_len = len - FUZZ_STREAM_MSG_HDR_LEN;
    msg_len = CTL_MSG_HEADER_LEN + body_len + CTL_MSG_MAC_LEN;
    if (msg_len > CTL_MSG_MAX_LEN) {
        return CTL_MSG_ERR_OVERSIZE;
    }

    /* Exactly as long as the message, so that AddressSanitizer sees any
     * read beyond it. */
    buf = xmalloc(msg_len);
    memcpy(buf, &magic, sizeof magic);
    buf[4] = CTL_MSG_VERSION;
    buf[5] = data[0];
    buf[6] = msg_len >> 8;
    buf[7] = msg_len;
    memcpy(buf + 8, data + 1, 4);
    memset(buf + 12, 0, 7);
    buf[19] = 1;
    memcpy(buf + CTL_MSG_HEADER_LEN, data + FUZZ_STREAM_MSG_HDR_LEN,
           body_len);
    ovs_assert(HMAC(EVP_sha256(), key->bytes, key->len, buf,
                    CTL_MSG_HEADER_LEN + body_len, md, &md_len));
    memcpy(buf + CTL_MSG_HEADER_LEN + body_len, md, CTL_MSG_MAC_LEN);

    memset(&stats, 0, sizeof stats);
    error = ctl_msg_decode(buf, msg_len, key, msg, &stats);
    free(buf);
    return error;
}

/* Returns the IPv4 address a.b.c.d, v4-mapped, as the cores take it. */
struct in6_addr
fuzz_stream_v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    struct in6_addr addr;

    in6_addr_set_mapped_ipv4(&addr, htonl(((uint32_t) a << 24) | (b << 16)
                                          | (c << 8) | d));
    return addr;
}

/* Checks that 'msg', which a core sent, is one that its destination can
 * decode: it encodes, the encoding decodes, and that re-encodes to the same
 * bytes.  Aborts otherwise. */
void
fuzz_stream_check_sent(const struct ctl_msg *msg)
{
    const struct ctl_key *key = fuzz_stream_key();
    struct ofpbuf a, b;
    struct ctl_stats stats;
    struct ctl_msg *copy = xmalloc(sizeof *copy);

    ofpbuf_init(&a, 0);
    ofpbuf_init(&b, 0);
    memset(&stats, 0, sizeof stats);
    if (ctl_msg_encode(msg, key, &a)) {
        struct ds s = DS_EMPTY_INITIALIZER;

        ctl_msg_format(msg, &s);
        ovs_fatal(0, "a core sent a message that does not encode: %s",
                  ds_cstr(&s));
    }
    ovs_assert(ctl_msg_decode(a.data, a.size, key, copy, &stats)
               == CTL_MSG_OK);
    ovs_assert(!ctl_msg_encode(copy, key, &b));
    ovs_assert(a.size == b.size && !memcmp(a.data, b.data, a.size));
    ofpbuf_uninit(&a);
    ofpbuf_uninit(&b);
    free(copy);
}

/* Checks that the Ethernet frame 'frame' ('len' bytes), which a core sent,
 * parses and has right checksums.  Aborts otherwise. */
void
fuzz_stream_check_frame(const void *frame, size_t len)
{
    struct tcp_seg_info info;
    uint8_t *copy = xmemdup(frame, len);

    ovs_assert(!tcp_seg_parse_frame(copy, len, &info));
    ovs_assert(tcp_seg_verify_csum(copy + info.l3_ofs, info.ip_len));
    free(copy);
}

/* Builds into 'b' (which it initializes) the Ethernet frame of the segment
 * 'h' of the connection 'cp', from its client if 'to_vip', otherwise from
 * its server, carrying the 'payload_len' bytes at 'payload'.  Returns 0, or
 * tcp_seg_build()'s error (then 'b' needs no uninit): a core may have been
 * given a 'cp' of no TCP connection. */
int
fuzz_stream_segment(struct dp_packet *b, const struct flow_key *cp,
                    bool to_vip, const struct tcp_seg_hdr *h_,
                    const uint8_t *payload, size_t payload_len)
{
    static const struct eth_addr edge = ETH_ADDR_C(02,00,00,00,00,01);
    static const struct eth_addr own = ETH_ADDR_C(02,00,00,00,00,0b);
    struct tcp_seg_endpoints ep;
    struct tcp_seg_hdr h = *h_;
    int error;

    tcp_seg_endpoints_from_key(&ep, cp,
                               to_vip ? FLOW_KEY_TO_VIP : FLOW_KEY_FROM_VIP,
                               edge, own);
    h.payload = payload;
    h.payload_len = MIN(payload_len, 1400);
    dp_packet_init(b, 128 + h.payload_len);
    error = tcp_seg_build(b, &ep, &h);
    if (error) {
        dp_packet_uninit(b);
    }
    return error;
}

/* Appends to 'b' a record of 'op' with the 'len' bytes at 'data'. */
void
fuzz_stream_put(struct ofpbuf *b, uint8_t op, const void *data, size_t len)
{
    uint8_t hdr[3] = { op, len >> 8, len };

    ovs_assert(len <= UINT16_MAX);
    ofpbuf_put(b, hdr, sizeof hdr);
    ofpbuf_put(b, data, len);
}

/* Appends to 'b' a record of 'op' that holds the 'prefix_len' bytes at
 * 'prefix', then 'msg' as a control message record. */
void
fuzz_stream_put_msg(struct ofpbuf *b, uint8_t op, const void *prefix,
                    size_t prefix_len, const struct ctl_msg *msg)
{
    struct ofpbuf enc, rec;

    ofpbuf_init(&enc, 0);
    ovs_assert(!ctl_msg_encode(msg, fuzz_stream_key(), &enc));
    ofpbuf_init(&rec, 0);
    ofpbuf_put(&rec, prefix, prefix_len);
    ofpbuf_put(&rec, (uint8_t *) enc.data + 5, 1);         /* Type. */
    ofpbuf_put(&rec, (uint8_t *) enc.data + 8, 4);         /* Sender. */
    ofpbuf_put(&rec, (uint8_t *) enc.data + CTL_MSG_HEADER_LEN,
               enc.size - CTL_MSG_HEADER_LEN - CTL_MSG_MAC_LEN);
    fuzz_stream_put(b, op, rec.data, rec.size);
    ofpbuf_uninit(&rec);
    ofpbuf_uninit(&enc);
}

/* Writes 'b' to the file 'name' in directory 'dir'.  Returns 0 or an
 * errno value. */
int
fuzz_stream_write_file(const char *dir, const char *name,
                       const struct ofpbuf *b)
{
    char *path = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    int error = 0;

    if (!f) {
        error = errno;
    } else {
        if (fwrite(b->data, 1, b->size, f) != b->size) {
            error = EIO;
        }
        if (fclose(f) && !error) {
            error = errno;
        }
    }
    if (error) {
        fprintf(stderr, "%s: %s\n", path, ovs_strerror(error));
    }
    free(path);
    return error;
}
