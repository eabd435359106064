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
 * libFuzzer target for ctl-msg: the decoder on arbitrary bytes with a fixed
 * key, and (so that the fuzzer gets past the MAC into the body parsers) on
 * the same bytes authenticated with that key, as a key holder could send
 * them, and on each message ctl_msg_frame_len() splits the input into.
 * Whatever decodes must re-encode to the same bytes, and a receiver that
 * also holds another key (a key rotation) must reach the same verdict.
 * The rest of the
 * input also drives a small replay window.
 *
 * Build (clang only):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I_build -Ilib \
 *       -I$OVS/include -I$OVS/lib tests/fuzz-ctl-msg.c lib/ctl-msg.c \
 *       $OVS/lib/.libs/libopenvswitch.a -lcrypto -lssl -lcap-ng -lunbound \
 *       -lunwind -lpthread -lrt -lm
 */
#include <config.h>
#include "ctl-msg.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "openvswitch/ofpbuf.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_KEY "ovslb fuzzing cluster key, fixed"
#define FUZZ_OTHER_KEY "ovslb fuzzing: another key, held too"

/* Decodes the 'size' bytes at 'data' with 'key' and, if they are accepted,
 * checks that they re-encode identically; and checks that a receiver that
 * holds 'other' as well reaches the same verdict. */
static void
decode_and_check(const struct ctl_key *key, const struct ctl_key *other,
                 const uint8_t *data, size_t size)
{
    struct ctl_stats stats;
    struct ctl_msg msg;
    enum ctl_msg_error error;

    memset(&stats, 0, sizeof stats);
    error = ctl_msg_decode(data, size, key, &msg, &stats);
    if (error >= CTL_MSG_N_ERRORS
        || (error && stats.rx_error[error] != 1)) {
        abort();
    }

    /* As a receiver in mid-rotation holding another key first, an empty
     * slot and this key last: the same verdict, this key's slot. */
    const struct ctl_key *keys[CTL_KEY_N_SLOTS] = {
        [CTL_KEY_CURRENT] = other, [CTL_KEY_PREVIOUS] = key,
    };
    enum ctl_key_slot slot;
    struct ctl_msg msg2;
    if (ctl_msg_decode_keys(data, size, keys, &msg2, NULL, &slot) != error
        || (!error && slot != CTL_KEY_PREVIOUS)) {
        abort();
    }
    if (!error) {
        struct ofpbuf buf;

        ofpbuf_init(&buf, 0);
        if (ctl_msg_encode(&msg, key, &buf)
            || buf.size != size || memcmp(buf.data, data, size)) {
            abort();
        }
        ofpbuf_uninit(&buf);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ctl_key key, other;
    static bool initialized;

    if (!initialized) {
        if (ctl_key_init(&key, FUZZ_KEY, strlen(FUZZ_KEY))
            || ctl_key_init(&other, FUZZ_OTHER_KEY,
                            strlen(FUZZ_OTHER_KEY))) {
            abort();
        }
        initialized = true;
    }

    /* As received: the whole datagram, then message by message as a
     * receiver splits it (ctl_sock_recv()). */
    decode_and_check(&key, &other, data, size);
    for (size_t off = 0; off < size; ) {
        size_t len = ctl_msg_frame_len(data + off, size - off);

        if (!len) {
            break;
        } else if (len > size - off) {
            abort();
        }
        decode_and_check(&key, &other, data + off, len);
        off += len;
    }

    /* Authenticated: the input is header + body; set the length field and
     * append the MAC.  The copy is exactly as long as the datagram, so that
     * AddressSanitizer sees any read beyond it. */
    if (size >= CTL_MSG_HEADER_LEN
        && size + CTL_MSG_MAC_LEN <= CTL_MSG_MAX_LEN + 1) {
        size_t len = size + CTL_MSG_MAC_LEN;
        uint8_t *signed_msg = xmalloc(len);
        uint8_t md[EVP_MAX_MD_SIZE];
        unsigned int md_len;

        memcpy(signed_msg, data, size);
        signed_msg[6] = len >> 8;
        signed_msg[7] = len;
        if (!HMAC(EVP_sha256(), key.bytes, key.len, signed_msg, size,
                  md, &md_len)) {
            abort();
        }
        memcpy(signed_msg + size, md, CTL_MSG_MAC_LEN);
        decode_and_check(&key, &other, signed_msg, len);
        free(signed_msg);
    }

    /* Replay window: 12-byte (sender, seq) records; a number just accepted
     * must be refused the second time. */
    struct ctl_replay *replay = ctl_replay_create(4);
    for (size_t i = 0; i + 12 <= size; i += 12) {
        uint32_t sender;
        uint64_t seq;

        memcpy(&sender, data + i, sizeof sender);
        memcpy(&seq, data + i + 4, sizeof seq);
        if (!ctl_replay_check_and_update(replay, sender, seq, NULL)
            && ctl_replay_check_and_update(replay, sender, seq, NULL)
               != CTL_MSG_ERR_REPLAY) {
            abort();
        }
        if (ctl_replay_n_senders(replay) > 4) {
            abort();
        }
    }
    ctl_replay_destroy(replay);
    return 0;
}
