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
 * ctl-msg: control-plane message encoding, authenticated decoding and replay
 * protection.  See ctl-msg.h for the wire format.
 */
#include <config.h>
#include "ctl-msg.h"

#include <errno.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "coverage.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/ofpbuf.h"
#include "packets.h"
#include "unaligned.h"
#include "util.h"

COVERAGE_DEFINE(ctl_msg_short);
COVERAGE_DEFINE(ctl_msg_oversize);
COVERAGE_DEFINE(ctl_msg_bad_magic);
COVERAGE_DEFINE(ctl_msg_bad_version);
COVERAGE_DEFINE(ctl_msg_bad_length);
COVERAGE_DEFINE(ctl_msg_bad_mac);
COVERAGE_DEFINE(ctl_msg_bad_sender);
COVERAGE_DEFINE(ctl_msg_bad_type);
COVERAGE_DEFINE(ctl_msg_bad_body_len);
COVERAGE_DEFINE(ctl_msg_bad_count);
COVERAGE_DEFINE(ctl_msg_bad_field);
COVERAGE_DEFINE(ctl_msg_replay);
COVERAGE_DEFINE(ctl_msg_too_old);
COVERAGE_DEFINE(ctl_replay_evict);

/* The largest bodies fit in one datagram. */
BUILD_ASSERT_DECL(CTL_PUBLISH_FWD_LEN
                  + CTL_PUBLISH_MAX_ENTRIES * CTL_PUBLISH_ENTRY_LEN
                  <= CTL_MSG_MAX_BODY);
BUILD_ASSERT_DECL(CTL_GOSSIP_LEN
                  + CTL_GOSSIP_MAX_ENTRIES * CTL_GOSSIP_ENTRY_LEN
                  <= CTL_MSG_MAX_BODY);
BUILD_ASSERT_DECL(CTL_LB_LIST_LEN + CTL_LB_LIST_MAX_NODES * 4
                  <= CTL_MSG_MAX_BODY);
BUILD_ASSERT_DECL(CTL_MSG_MAX_LEN <= UINT16_MAX);
BUILD_ASSERT_DECL(CTL_REPLAY_WINDOW == 64);  /* One uint64_t bitmap. */

/* Adds one to the counters of 'error'.  'stats' may be NULL. */
static void
count_error(struct ctl_stats *stats, enum ctl_msg_error error)
{
    switch (error) {
    case CTL_MSG_OK:
    case CTL_MSG_N_ERRORS:
        return;
    case CTL_MSG_ERR_SHORT:
        COVERAGE_INC(ctl_msg_short);
        break;
    case CTL_MSG_ERR_OVERSIZE:
        COVERAGE_INC(ctl_msg_oversize);
        break;
    case CTL_MSG_ERR_MAGIC:
        COVERAGE_INC(ctl_msg_bad_magic);
        break;
    case CTL_MSG_ERR_VERSION:
        COVERAGE_INC(ctl_msg_bad_version);
        break;
    case CTL_MSG_ERR_LENGTH:
        COVERAGE_INC(ctl_msg_bad_length);
        break;
    case CTL_MSG_ERR_MAC:
        COVERAGE_INC(ctl_msg_bad_mac);
        break;
    case CTL_MSG_ERR_SENDER:
        COVERAGE_INC(ctl_msg_bad_sender);
        break;
    case CTL_MSG_ERR_TYPE:
        COVERAGE_INC(ctl_msg_bad_type);
        break;
    case CTL_MSG_ERR_BODY_LEN:
        COVERAGE_INC(ctl_msg_bad_body_len);
        break;
    case CTL_MSG_ERR_COUNT:
        COVERAGE_INC(ctl_msg_bad_count);
        break;
    case CTL_MSG_ERR_FIELD:
        COVERAGE_INC(ctl_msg_bad_field);
        break;
    case CTL_MSG_ERR_REPLAY:
        COVERAGE_INC(ctl_msg_replay);
        break;
    case CTL_MSG_ERR_TOO_OLD:
        COVERAGE_INC(ctl_msg_too_old);
        break;
    }
    if (stats) {
        stats->rx_error[error]++;
    }
}

/* HMAC-SHA-256 (RFC 2104) keyed once per key: the SHA-256 states after
 * absorbing the key XOR ipad and the key XOR opad, which compute_mac()
 * copies for each message instead of digesting the key again.  Measured
 * on small messages: an EVP_MAC_CTX re-initialized per message takes about
 * 5 % more instructions, one duplicated per message about three times the
 * time, the one-shot HMAC() over four times. */
#define HMAC_BLOCK_LEN 64               /* SHA-256's block size. */
#define HMAC_IPAD 0x36
#define HMAC_OPAD 0x5c
BUILD_ASSERT_DECL(CTL_KEY_MAX_LEN <= HMAC_BLOCK_LEN);  /* Never hashed. */

struct ctl_key_state {
    EVP_MD_CTX *inner;          /* SHA-256 after key ^ ipad. */
    EVP_MD_CTX *outer;          /* SHA-256 after key ^ opad. */
    EVP_MD_CTX *work;           /* Scratch, copied into per message. */
};

static void
key_state_destroy(struct ctl_key_state *state)
{
    if (state) {
        EVP_MD_CTX_free(state->inner);
        EVP_MD_CTX_free(state->outer);
        EVP_MD_CTX_free(state->work);
        free(state);
    }
}

/* Returns a new SHA-256 context that has absorbed one block: the 'len' bytes
 * at 'key', padded with zeros, each XORed with 'pad'.  Returns NULL if
 * libcrypto fails. */
static EVP_MD_CTX *
key_state_absorb_pad(const uint8_t *key, size_t len, uint8_t pad)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t block[HMAC_BLOCK_LEN];
    bool ok;

    for (size_t i = 0; i < sizeof block; i++) {
        block[i] = (i < len ? key[i] : 0) ^ pad;
    }
    ok = (ctx
          && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)
          && EVP_DigestUpdate(ctx, block, sizeof block));
    OPENSSL_cleanse(block, sizeof block);
    if (!ok) {
        EVP_MD_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* Returns the keyed state for the 'len' bytes at 'key' ('len' at most
 * HMAC_BLOCK_LEN), or NULL if libcrypto fails. */
static struct ctl_key_state *
key_state_create(const uint8_t *key, size_t len)
{
    struct ctl_key_state *state = xmalloc(sizeof *state);

    state->inner = key_state_absorb_pad(key, len, HMAC_IPAD);
    state->outer = key_state_absorb_pad(key, len, HMAC_OPAD);
    state->work = EVP_MD_CTX_new();
    if (!state->inner || !state->outer || !state->work) {
        key_state_destroy(state);
        return NULL;
    }
    return state;
}

/* Initializes 'key' from the 'len' bytes at 'bytes' and keys its
 * HMAC-SHA-256 state.  'key' must not hold a key already (destroy it
 * first).
 *
 * Returns 0, EINVAL if 'len' is below CTL_KEY_MIN_LEN or above
 * CTL_KEY_MAX_LEN, or ENOMEM if libcrypto fails.  On success the caller
 * must eventually free 'key' with ctl_key_destroy(); on failure 'key' holds
 * no key (and destroying it is harmless). */
int
ctl_key_init(struct ctl_key *key, const void *bytes, size_t len)
{
    memset(key, 0, sizeof *key);
    if (len < CTL_KEY_MIN_LEN || len > CTL_KEY_MAX_LEN) {
        return EINVAL;
    }
    key->state = key_state_create(bytes, len);
    if (!key->state) {
        return ENOMEM;
    }
    memcpy(key->bytes, bytes, len);
    key->len = len;
    return 0;
}

/* Initializes 'dst' as a copy of 'src' with a keyed state of its own, so
 * that either may be destroyed without the other.  'dst' must be distinct
 * from 'src' and must not hold a key already.  Returns 0, EINVAL if 'src'
 * holds no key, or ENOMEM if libcrypto fails, as ctl_key_init() does. */
int
ctl_key_clone(struct ctl_key *dst, const struct ctl_key *src)
{
    return ctl_key_init(dst, src->bytes, src->len);
}

/* Frees the keyed state of 'key' and wipes its bytes, leaving it holding no
 * key, ready for ctl_key_init() again.  A null 'key', a key whose
 * initialization failed, an all-zeros one and one already destroyed are
 * no-ops. */
void
ctl_key_destroy(struct ctl_key *key)
{
    if (key) {
        key_state_destroy(key->state);
        OPENSSL_cleanse(key, sizeof *key);
    }
}

/* Stores in 'mac' the truncated HMAC-SHA-256 of the 'len' bytes at 'data'
 * under 'key'.  Returns false if 'key' holds no key or libcrypto fails. */
static bool
compute_mac(const struct ctl_key *key, const void *data, size_t len,
            uint8_t mac[CTL_MSG_MAC_LEN])
{
    const struct ctl_key_state *state = key->state;
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;

    if (!state
        || !EVP_MD_CTX_copy_ex(state->work, state->inner)
        || !EVP_DigestUpdate(state->work, data, len)
        || !EVP_DigestFinal_ex(state->work, md, &md_len)
        || !EVP_MD_CTX_copy_ex(state->work, state->outer)
        || !EVP_DigestUpdate(state->work, md, md_len)
        || !EVP_DigestFinal_ex(state->work, md, &md_len)
        || md_len < CTL_MSG_MAC_LEN) {
        return false;
    }
    memcpy(mac, md, CTL_MSG_MAC_LEN);
    return true;
}

/* Returns true if 'a' and 'b' hold the same key bytes (two keys that hold
 * none are equal). */
bool
ctl_key_equals(const struct ctl_key *a, const struct ctl_key *b)
{
    return (a->len == b->len
            && !CRYPTO_memcmp(a->bytes, b->bytes, a->len));
}

/* Returns a 32-bit fingerprint of 'key', 0 if it holds none: the first
 * bytes of its MAC over a fixed string, so that an operator can tell
 * whether two nodes hold the same key without either showing it. */
uint32_t
ctl_key_fingerprint(const struct ctl_key *key)
{
    static const char label[] = "ovslb cluster key fingerprint";
    uint8_t mac[CTL_MSG_MAC_LEN];

    if (!compute_mac(key, label, sizeof label - 1, mac)) {
        return 0;
    }
    return ((uint32_t) mac[0] << 24 | (uint32_t) mac[1] << 16
            | (uint32_t) mac[2] << 8 | mac[3]);
}

/* Returns the name of 'slot' ("current", ...), or "<invalid>". */
const char *
ctl_key_slot_to_string(enum ctl_key_slot slot)
{
    switch (slot) {
    case CTL_KEY_CURRENT: return "current";
    case CTL_KEY_NEXT: return "next";
    case CTL_KEY_PREVIOUS: return "previous";
    case CTL_KEY_N_SLOTS:
    default:
        return "<invalid>";
    }
}

/* Body codec.
 *
 * One function per body layout serves both directions, so that the encoder
 * and the decoder cannot disagree.  Each codec_*() helper takes the value to
 * encode and returns the value decoded: when encoding (c->out nonnull) it
 * appends the value and returns it unchanged; when decoding it ignores its
 * argument and returns what it read, or zero once an error has been found.
 * The range checks run in both directions, so that the encoder refuses
 * what the decoder would reject. */
struct ctl_codec {
    struct ofpbuf *out;         /* Encoding: appended to.  NULL: decoding. */
    const uint8_t *p;           /* Decoding: next byte. */
    size_t left;                /* Decoding: bytes left. */
    enum ctl_msg_error error;   /* First problem found, or CTL_MSG_OK. */
};

static void
codec_fail(struct ctl_codec *c, enum ctl_msg_error error)
{
    if (!c->error) {
        c->error = error;
    }
}

static void
codec_raw(struct ctl_codec *c, void *p, size_t n)
{
    if (c->out) {
        ofpbuf_put(c->out, p, n);
    } else if (c->error || c->left < n) {
        codec_fail(c, CTL_MSG_ERR_BODY_LEN);
        memset(p, 0, n);
    } else {
        memcpy(p, c->p, n);
        c->p += n;
        c->left -= n;
    }
}

static uint8_t
codec_u8(struct ctl_codec *c, uint8_t v)
{
    codec_raw(c, &v, sizeof v);
    return v;
}

static uint16_t
codec_u16(struct ctl_codec *c, uint16_t v)
{
    ovs_be16 x = htons(v);
    codec_raw(c, &x, sizeof x);
    return ntohs(x);
}

static uint32_t
codec_u32(struct ctl_codec *c, uint32_t v)
{
    ovs_be32 x = htonl(v);
    codec_raw(c, &x, sizeof x);
    return ntohl(x);
}

static uint64_t
codec_u64(struct ctl_codec *c, uint64_t v)
{
    ovs_be64 x = htonll(v);
    codec_raw(c, &x, sizeof x);
    return ntohll(x);
}

/* A byte that must be 0 or 1. */
static bool
codec_bool(struct ctl_codec *c, bool b)
{
    uint8_t v = codec_u8(c, b);
    if (v > 1) {
        codec_fail(c, CTL_MSG_ERR_FIELD);
    }
    return v == 1;
}

/* A byte of flags of which only those in 'valid' may be set. */
static uint8_t
codec_flags(struct ctl_codec *c, uint8_t flags, uint8_t valid)
{
    flags = codec_u8(c, flags);
    if (flags & ~valid) {
        codec_fail(c, CTL_MSG_ERR_FIELD);
    }
    return flags & valid;
}

/* A byte holding an enum value below 'n_values'. */
static unsigned int
codec_enum(struct ctl_codec *c, unsigned int value, unsigned int n_values)
{
    uint8_t v = codec_u8(c, value < n_values ? value : UINT8_MAX);
    if (v >= n_values) {
        codec_fail(c, CTL_MSG_ERR_FIELD);
        return 0;
    }
    return v;
}

/* A u16 entry count, at most 'max', for entries of 'entry_len' bytes each
 * that fill the rest of the body exactly. */
static size_t
codec_count(struct ctl_codec *c, size_t n, size_t max, size_t entry_len)
{
    uint16_t v = codec_u16(c, n <= max ? n : UINT16_MAX);
    if (v > max || (!c->out && !c->error && v * entry_len != c->left)) {
        codec_fail(c, CTL_MSG_ERR_COUNT);
        return 0;
    }
    return c->error ? 0 : v;
}

/* A node id in 32 bits: CTL_NODE_NONE or up to CTL_NODE_MAX. */
static uint32_t
codec_node(struct ctl_codec *c, uint32_t node)
{
    node = codec_u32(c, node);
    if (node > CTL_NODE_MAX) {
        codec_fail(c, CTL_MSG_ERR_FIELD);
        return CTL_NODE_NONE;
    }
    return node;
}

static void
codec_cp(struct ctl_codec *c, struct flow_key *cp)
{
    codec_raw(c, &cp->client, sizeof cp->client);
    codec_raw(c, &cp->vip, sizeof cp->vip);
    codec_raw(c, &cp->client_port, sizeof cp->client_port);
    codec_raw(c, &cp->vip_port, sizeof cp->vip_port);
    cp->proto = codec_u8(c, cp->proto);
    codec_raw(c, cp->pad, sizeof cp->pad);
    if (!flow_key_is_valid(cp)) {
        codec_fail(c, CTL_MSG_ERR_FIELD);
    }
}

static uint8_t
codec_wscale(struct ctl_codec *c, uint8_t wscale)
{
    wscale = codec_u8(c, wscale);
    if (wscale > CTL_TCP_MAX_WSCALE) {
        codec_fail(c, CTL_MSG_ERR_FIELD);
    }
    return wscale;
}

static void
codec_tcp_opts(struct ctl_codec *c, struct ctl_tcp_opts *o)
{
    uint8_t flags = ((o->has_mss ? CTL_OPT_MSS : 0)
                     | (o->has_wscale ? CTL_OPT_WSCALE : 0)
                     | (o->sack_permitted ? CTL_OPT_SACK : 0)
                     | (o->has_ts ? CTL_OPT_TS : 0)
                     | (o->ece ? CTL_OPT_ECE : 0)
                     | (o->cwr ? CTL_OPT_CWR : 0));

    o->mss = codec_u16(c, o->mss);
    o->wscale = codec_u8(c, o->wscale);
    flags = codec_flags(c, flags, CTL_OPT_ALL);
    o->tsval = codec_u32(c, o->tsval);

    o->has_mss = flags & CTL_OPT_MSS;
    o->has_wscale = flags & CTL_OPT_WSCALE;
    o->sack_permitted = flags & CTL_OPT_SACK;
    o->has_ts = flags & CTL_OPT_TS;
    o->ece = flags & CTL_OPT_ECE;
    o->cwr = flags & CTL_OPT_CWR;
}

static void
codec_syn_info(struct ctl_codec *c, struct ctl_syn_info *m)
{
    codec_cp(c, &m->cp);
    m->ingress = codec_node(c, m->ingress);
    m->client_isn = codec_u32(c, m->client_isn);
    codec_tcp_opts(c, &m->opts);
}

static void
codec_syn_sync(struct ctl_codec *c, struct ctl_syn_sync *m)
{
    codec_syn_info(c, &m->syn);
    m->isn_lb = codec_u32(c, m->isn_lb);
    m->ts_lb = codec_u32(c, m->ts_lb);
    m->isn_kind = codec_enum(c, m->isn_kind, CTL_ISN_N_KINDS);
}

static void
codec_ack_info(struct ctl_codec *c, struct ctl_ack_info *m)
{
    uint8_t flags = ((m->has_ts ? CTL_ACK_TS : 0)
                     | (m->has_data ? CTL_ACK_DATA : 0));

    codec_cp(c, &m->cp);
    m->ingress = codec_node(c, m->ingress);
    m->seq = codec_u32(c, m->seq);
    m->ack = codec_u32(c, m->ack);
    flags = codec_flags(c, flags, CTL_ACK_TS | CTL_ACK_DATA);
    m->tsval = codec_u32(c, m->tsval);
    m->tsecr = codec_u32(c, m->tsecr);

    m->has_ts = flags & CTL_ACK_TS;
    m->has_data = flags & CTL_ACK_DATA;
}

static void
codec_connect(struct ctl_codec *c, struct ctl_connect *m)
{
    codec_cp(c, &m->cp);
    m->server = codec_node(c, m->server);
    m->ttl = codec_u8(c, m->ttl);
    m->isn_lb = codec_u32(c, m->isn_lb);
    m->client_isn = codec_u32(c, m->client_isn);
    codec_tcp_opts(c, &m->opts);
    m->ingress = codec_node(c, m->ingress);
    m->ts_lb = codec_u32(c, m->ts_lb);
}

static void
codec_conn_req(struct ctl_codec *c, struct ctl_conn_req *m)
{
    codec_cp(c, &m->cp);
    m->server = codec_node(c, m->server);
    m->ttl = codec_u8(c, m->ttl);
    m->client_isn = codec_u32(c, m->client_isn);
    m->isn_lb = codec_u32(c, m->isn_lb);
    codec_tcp_opts(c, &m->opts);
    m->ingress = codec_node(c, m->ingress);
    m->lb_tsval = codec_u32(c, m->lb_tsval);
    m->lb_wscale = codec_wscale(c, m->lb_wscale);
    m->lb_mss = codec_u16(c, m->lb_mss);
}

static void
codec_accepted(struct ctl_codec *c, struct ctl_accepted *m)
{
    codec_cp(c, &m->cp);
    m->server = codec_node(c, m->server);
    m->lease_ms = codec_u32(c, m->lease_ms);
}

static void
codec_rejected(struct ctl_codec *c, struct ctl_rejected *m)
{
    codec_cp(c, &m->cp);
    m->server = codec_node(c, m->server);
    m->ttl = codec_u8(c, m->ttl);
    m->reason = codec_enum(c, m->reason, CTL_REJECT_N_REASONS);
}

static void
codec_release(struct ctl_codec *c, struct ctl_release *m)
{
    codec_cp(c, &m->cp);
    m->server = codec_node(c, m->server);
    m->ttl = codec_u8(c, m->ttl);
}

static void
codec_mapping(struct ctl_codec *c, struct ctl_mapping *m)
{
    codec_cp(c, &m->cp);
    m->server = codec_node(c, m->server);
    codec_raw(c, &m->server_addr, sizeof m->server_addr);
    m->lease_ms = codec_u32(c, m->lease_ms);
}

static void
codec_mapping_query(struct ctl_codec *c, struct ctl_mapping_query *m)
{
    codec_cp(c, &m->cp);
    m->ingress = codec_node(c, m->ingress);
}

static void
codec_tracker_sync(struct ctl_codec *c, struct ctl_tracker_sync *m)
{
    codec_cp(c, &m->cp);
    m->state = codec_enum(c, m->state, CTL_TRACKER_N_STATES);
    m->role = codec_enum(c, m->role, CTL_ROLE_N_ROLES);
    m->isn_lb = codec_u32(c, m->isn_lb);
    m->client_isn = codec_u32(c, m->client_isn);
    codec_tcp_opts(c, &m->opts);
    m->ts_lb = codec_u32(c, m->ts_lb);
    m->server = codec_node(c, m->server);
    m->ingress = codec_node(c, m->ingress);
    m->ttl = codec_u8(c, m->ttl);
    m->isn_kind = codec_enum(c, m->isn_kind, CTL_ISN_N_KINDS);
    m->lease_ms = codec_u32(c, m->lease_ms);
    m->n_rejected = codec_count(c, m->n_rejected, CTL_TRACKER_MAX_REJECTED,
                                sizeof m->rejected[0]);
    for (size_t i = 0; i < m->n_rejected; i++) {
        m->rejected[i] = codec_node(c, m->rejected[i]);
    }
}

static void
codec_publish(struct ctl_codec *c, struct ctl_publish *m, bool fwd)
{
    m->server = codec_node(c, m->server);
    if (fwd) {
        m->origin = codec_node(c, m->origin);
    }
    m->n = codec_count(c, m->n, CTL_PUBLISH_MAX_ENTRIES,
                       CTL_PUBLISH_ENTRY_LEN);
    for (size_t i = 0; i < m->n; i++) {
        struct ctl_publish_entry *e = &m->entries[i];

        codec_cp(c, &e->cp);
        e->ingress = codec_node(c, e->ingress);
        e->flags = codec_flags(c, e->flags, CTL_PUBLISH_ALL);
    }
}

static void
codec_ping(struct ctl_codec *c, struct ctl_ping *m)
{
    m->nonce = codec_u64(c, m->nonce);
    m->path = codec_enum(c, m->path, CTL_PATH_N_PATHS);
    m->checker = codec_node(c, m->checker);
    m->target = codec_node(c, m->target);
}

static void
codec_pong(struct ctl_codec *c, struct ctl_pong *m)
{
    m->nonce = codec_u64(c, m->nonce);
    m->path = codec_enum(c, m->path, CTL_PATH_N_PATHS);
    m->ready = codec_bool(c, m->ready);
}

static void
codec_gossip(struct ctl_codec *c, struct ctl_gossip *m)
{
    m->n = codec_count(c, m->n, CTL_GOSSIP_MAX_ENTRIES,
                       CTL_GOSSIP_ENTRY_LEN);
    for (size_t i = 0; i < m->n; i++) {
        struct ctl_gossip_entry *e = &m->entries[i];

        e->node = codec_node(c, e->node);
        e->kind = codec_enum(c, e->kind, CTL_NODE_N_KINDS);
        e->heartbeat = codec_u64(c, e->heartbeat);
    }
}

static void
codec_lb_list(struct ctl_codec *c, struct ctl_lb_list *m)
{
    m->version = codec_u64(c, m->version);
    m->n = codec_count(c, m->n, CTL_LB_LIST_MAX_NODES, sizeof m->nodes[0]);
    for (size_t i = 0; i < m->n; i++) {
        m->nodes[i] = codec_node(c, m->nodes[i]);
    }
}

static void
codec_owner(struct ctl_codec *c, struct ctl_owner *m)
{
    m->server = codec_node(c, m->server);
    m->n = codec_count(c, m->n, CTL_OWNER_MAX_ENTRIES, CTL_OWNER_ENTRY_LEN);
    for (size_t i = 0; i < m->n; i++) {
        codec_cp(c, &m->entries[i].cp);
        m->entries[i].opened = codec_bool(c, m->entries[i].opened);
    }
}

static void
codec_load(struct ctl_codec *c, struct ctl_load *m)
{
    m->n = codec_count(c, m->n, CTL_LOAD_MAX_ENTRIES, CTL_LOAD_ENTRY_LEN);
    for (size_t i = 0; i < m->n; i++) {
        struct ctl_load_entry *e = &m->entries[i];

        codec_raw(c, &e->vip, sizeof e->vip);
        e->port = codec_u16(c, e->port);
        e->flags = codec_flags(c, e->flags, CTL_LOAD_ALL);
        e->conns = codec_u32(c, e->conns);
        e->backlog = codec_u32(c, e->backlog);
        e->rtt_us = codec_u32(c, e->rtt_us);
        if (!e->port) {
            codec_fail(c, CTL_MSG_ERR_FIELD);
        }
    }
}

static void
codec_body(struct ctl_codec *c, struct ctl_msg *m)
{
    switch (m->type) {
    case CTL_MSG_SYN_INFO:
        codec_syn_info(c, &m->syn_info);
        break;
    case CTL_MSG_SYN_SYNC:
        codec_syn_sync(c, &m->syn_sync);
        break;
    case CTL_MSG_ACK_INFO:
        codec_ack_info(c, &m->ack_info);
        break;
    case CTL_MSG_CONNECT:
        codec_connect(c, &m->connect);
        break;
    case CTL_MSG_CONN_REQ:
        codec_conn_req(c, &m->conn_req);
        break;
    case CTL_MSG_ACCEPTED:
        codec_accepted(c, &m->accepted);
        break;
    case CTL_MSG_REJECTED:
        codec_rejected(c, &m->rejected);
        break;
    case CTL_MSG_RELEASE:
        codec_release(c, &m->release);
        break;
    case CTL_MSG_MAPPING:
        codec_mapping(c, &m->mapping);
        break;
    case CTL_MSG_MAPPING_QUERY:
        codec_mapping_query(c, &m->mapping_query);
        break;
    case CTL_MSG_UNKNOWN:
        codec_cp(c, &m->unknown.cp);
        break;
    case CTL_MSG_TRACKER_SYNC:
        codec_tracker_sync(c, &m->tracker_sync);
        break;
    case CTL_MSG_PUBLISH:
        codec_publish(c, &m->publish, false);
        break;
    case CTL_MSG_PUBLISH_FWD:
        codec_publish(c, &m->publish, true);
        break;
    case CTL_MSG_PING:
        codec_ping(c, &m->ping);
        break;
    case CTL_MSG_PONG:
        codec_pong(c, &m->pong);
        break;
    case CTL_MSG_GOSSIP:
        codec_gossip(c, &m->gossip);
        break;
    case CTL_MSG_LB_LIST:
        codec_lb_list(c, &m->lb_list);
        break;
    case CTL_MSG_OWNER:
        codec_owner(c, &m->owner);
        break;
    case CTL_MSG_LOAD:
        codec_load(c, &m->load);
        break;
    case CTL_MSG_N_TYPES:
    default:
        codec_fail(c, CTL_MSG_ERR_TYPE);
        break;
    }
}

/* Zeroes 'msg' and sets its header fields to 'type', 'sender' and 'seq'. */
void
ctl_msg_init(struct ctl_msg *msg, enum ctl_msg_type type, uint32_t sender,
             uint64_t seq)
{
    memset(msg, 0, sizeof *msg);
    msg->type = type;
    msg->sender = sender;
    msg->seq = seq;
}

/* Appends to 'out' the datagram for 'msg', authenticated with 'key'.
 *
 * Returns 0, or EINVAL if 'msg' has no valid type, sender 0 (or above
 * CTL_NODE_MAX), an entry count over its bound or a field out of its range
 * (what ctl_msg_decode() would reject), ENOKEY if 'key' holds no key (see
 * ctl_key_init()), or ENOMEM if libcrypto fails; 'out' is then left
 * unchanged. */
int
ctl_msg_encode(const struct ctl_msg *msg, const struct ctl_key *key,
               struct ofpbuf *out)
{
    /* The codec writes the decoded form of each field back into the
     * message, which is harmless on a copy. */
    struct ctl_msg copy = *msg;
    struct ctl_codec c = { .out = out };
    size_t start = out->size;
    uint8_t mac[CTL_MSG_MAC_LEN];
    size_t len;

    if (msg->sender == CTL_NODE_NONE || msg->sender > CTL_NODE_MAX) {
        return EINVAL;
    } else if (!key->state) {
        return ENOKEY;
    }

    codec_u32(&c, CTL_MSG_MAGIC);
    codec_u8(&c, CTL_MSG_VERSION);
    codec_u8(&c, msg->type < CTL_MSG_N_TYPES ? msg->type : 0);
    codec_u16(&c, 0);               /* Length, set below. */
    codec_u32(&c, msg->sender);
    codec_u64(&c, msg->seq);
    codec_body(&c, &copy);

    len = out->size - start + CTL_MSG_MAC_LEN;
    if (c.error || len > CTL_MSG_MAX_LEN) {
        out->size = start;
        return EINVAL;
    }
    put_unaligned_be16(ofpbuf_at_assert(out, start + 6, 2), htons(len));
    if (!compute_mac(key, ofpbuf_at_assert(out, start, len - CTL_MSG_MAC_LEN),
                     len - CTL_MSG_MAC_LEN, mac)) {
        out->size = start;
        return ENOMEM;
    }
    ofpbuf_put(out, mac, sizeof mac);
    return 0;
}

/* Returns the slot of the first of 'keys' (null or keyless slots skipped)
 * whose MAC over the 'len' bytes at 'data' matches the one that follows
 * them, or CTL_KEY_N_SLOTS if none does. */
static enum ctl_key_slot
verify_mac(const void *data, size_t len,
           const struct ctl_key *const keys[CTL_KEY_N_SLOTS])
{
    const uint8_t *theirs = (const uint8_t *) data + len;

    for (int slot = 0; slot < CTL_KEY_N_SLOTS; slot++) {
        uint8_t mac[CTL_MSG_MAC_LEN];

        if (keys[slot] && keys[slot]->state
            && compute_mac(keys[slot], data, len, mac)
            && !CRYPTO_memcmp(mac, theirs, CTL_MSG_MAC_LEN)) {
            return slot;
        }
    }
    return CTL_KEY_N_SLOTS;
}

static enum ctl_msg_error
decode__(const void *data, size_t len,
         const struct ctl_key *const keys[CTL_KEY_N_SLOTS],
         struct ctl_msg *msg, enum ctl_key_slot *slotp)
{
    struct ctl_codec c;
    uint32_t magic;
    uint8_t version, type;
    uint16_t length;

    if (len < CTL_MSG_HEADER_LEN + CTL_MSG_MAC_LEN) {
        return CTL_MSG_ERR_SHORT;
    } else if (len > CTL_MSG_MAX_LEN) {
        return CTL_MSG_ERR_OVERSIZE;
    }

    memset(msg, 0, sizeof *msg);
    c = (struct ctl_codec) { .p = data, .left = len - CTL_MSG_MAC_LEN };
    magic = codec_u32(&c, 0);
    version = codec_u8(&c, 0);
    type = codec_u8(&c, 0);
    length = codec_u16(&c, 0);
    msg->sender = codec_u32(&c, 0);
    msg->seq = codec_u64(&c, 0);

    if (magic != CTL_MSG_MAGIC) {
        return CTL_MSG_ERR_MAGIC;
    } else if (version != CTL_MSG_VERSION) {
        return CTL_MSG_ERR_VERSION;
    } else if (length != len) {
        return CTL_MSG_ERR_LENGTH;
    }

    /* Nothing past the header is looked at before the MAC matches. */
    *slotp = verify_mac(data, len - CTL_MSG_MAC_LEN, keys);
    if (*slotp == CTL_KEY_N_SLOTS) {
        return CTL_MSG_ERR_MAC;
    }

    if (msg->sender == CTL_NODE_NONE || msg->sender > CTL_NODE_MAX) {
        return CTL_MSG_ERR_SENDER;
    } else if (!type || type >= CTL_MSG_N_TYPES) {
        return CTL_MSG_ERR_TYPE;
    }
    msg->type = type;

    codec_body(&c, msg);
    if (!c.error && c.left) {
        c.error = CTL_MSG_ERR_BODY_LEN;
    }
    return c.error;
}

/* Parses and authenticates the datagram of 'len' bytes at 'data' with 'key'
 * into 'msg'.  Does not check the sequence number (see ctl_msg_receive()).
 *
 * Returns CTL_MSG_OK, or the reason the datagram was rejected, which is also
 * counted in 'stats' (if nonnull) and in a coverage counter.  After an error
 * '*msg' is unspecified. */
enum ctl_msg_error
ctl_msg_decode(const void *data, size_t len, const struct ctl_key *key,
               struct ctl_msg *msg, struct ctl_stats *stats)
{
    const struct ctl_key *keys[CTL_KEY_N_SLOTS] = { key };
    enum ctl_key_slot slot;

    return ctl_msg_decode_keys(data, len, keys, msg, stats, &slot);
}

/* Like ctl_msg_decode(), but accepts a MAC made with any of 'keys' (a null
 * slot, or one holding no key, is skipped), trying them in slot order, and
 * stores in '*slotp' the slot of the key that verified the message.  '*slotp'
 * is unspecified after an error. */
enum ctl_msg_error
ctl_msg_decode_keys(const void *data, size_t len,
                    const struct ctl_key *const keys[CTL_KEY_N_SLOTS],
                    struct ctl_msg *msg, struct ctl_stats *stats,
                    enum ctl_key_slot *slotp)
{
    enum ctl_msg_error error = decode__(data, len, keys, msg, slotp);
    count_error(stats, error);
    return error;
}

/* Decodes the datagram of 'len' bytes at 'data' with 'key' into 'msg', as
 * ctl_msg_decode() does, then checks and records its sequence number in
 * 'replay'.  Returns CTL_MSG_OK if the message is to be processed, otherwise
 * the reason it was rejected.  Counts the outcome in 'stats' (if nonnull):
 * rx_ok[] by type, rx_error[] by error. */
enum ctl_msg_error
ctl_msg_receive(const void *data, size_t len, const struct ctl_key *key,
                struct ctl_replay *replay, struct ctl_msg *msg,
                struct ctl_stats *stats)
{
    const struct ctl_key *keys[CTL_KEY_N_SLOTS] = { key };
    enum ctl_key_slot slot;

    return ctl_msg_receive_keys(data, len, keys, replay, msg, stats, &slot);
}

/* Like ctl_msg_receive(), with the keys of ctl_msg_decode_keys().  Also
 * counts an accepted message in 'stats''s rx_key[] by the slot that
 * verified it, which it stores in '*slotp'.  A message signed with any of
 * the keys shares its sender's one replay window: what changes during a
 * rotation is the key, not the sequence numbers. */
enum ctl_msg_error
ctl_msg_receive_keys(const void *data, size_t len,
                     const struct ctl_key *const keys[CTL_KEY_N_SLOTS],
                     struct ctl_replay *replay, struct ctl_msg *msg,
                     struct ctl_stats *stats, enum ctl_key_slot *slotp)
{
    enum ctl_msg_error error = ctl_msg_decode_keys(data, len, keys, msg,
                                                   stats, slotp);
    if (!error) {
        error = ctl_replay_check_and_update(replay, msg->sender, msg->seq,
                                            stats);
        if (!error && stats) {
            stats->rx_ok[msg->type]++;
            stats->rx_key[*slotp]++;
        }
    }
    return error;
}

/* Returns the length of the first message in the 'len' bytes at 'data' (a
 * datagram, or what is left of one after the messages before), as its
 * header says, if the header is well-formed (magic, version) and that
 * length fits in 'len'; otherwise 0.  Nothing is authenticated here: the
 * caller passes the message to ctl_msg_decode() or ctl_msg_receive(), and
 * on 0 the whole rest, so that its error is reported and counted there. */
size_t
ctl_msg_frame_len(const void *data, size_t len)
{
    struct ctl_codec c = { .p = data, .left = len };
    uint32_t magic;
    uint8_t version;
    uint16_t length;

    if (len < CTL_MSG_HEADER_LEN + CTL_MSG_MAC_LEN) {
        return 0;
    }
    magic = codec_u32(&c, 0);
    version = codec_u8(&c, 0);
    codec_u8(&c, 0);
    length = codec_u16(&c, 0);
    if (magic != CTL_MSG_MAGIC || version != CTL_MSG_VERSION
        || length < CTL_MSG_HEADER_LEN + CTL_MSG_MAC_LEN || length > len) {
        return 0;
    }
    return length;
}

/* Returns the largest number of entries that a message of 'type' can carry
 * (published connections, rejected servers, gossip entries or LB nodes), or
 * 0 if 'type' has no list. */
size_t
ctl_msg_max_entries(enum ctl_msg_type type)
{
    switch (type) {
    case CTL_MSG_TRACKER_SYNC:
        return CTL_TRACKER_MAX_REJECTED;
    case CTL_MSG_PUBLISH:
    case CTL_MSG_PUBLISH_FWD:
        return CTL_PUBLISH_MAX_ENTRIES;
    case CTL_MSG_GOSSIP:
        return CTL_GOSSIP_MAX_ENTRIES;
    case CTL_MSG_LB_LIST:
        return CTL_LB_LIST_MAX_NODES;
    case CTL_MSG_LOAD:
        return CTL_LOAD_MAX_ENTRIES;
    case CTL_MSG_OWNER:
        return CTL_OWNER_MAX_ENTRIES;
    case CTL_MSG_SYN_INFO:
    case CTL_MSG_SYN_SYNC:
    case CTL_MSG_ACK_INFO:
    case CTL_MSG_CONNECT:
    case CTL_MSG_CONN_REQ:
    case CTL_MSG_ACCEPTED:
    case CTL_MSG_REJECTED:
    case CTL_MSG_RELEASE:
    case CTL_MSG_MAPPING:
    case CTL_MSG_MAPPING_QUERY:
    case CTL_MSG_UNKNOWN:
    case CTL_MSG_PING:
    case CTL_MSG_PONG:
    case CTL_MSG_N_TYPES:
    default:
        return 0;
    }
}

/* Returns a first sequence number for a sender starting at wall-clock time
 * 'wall_msec' (milliseconds since the epoch).  It is above every number the
 * same sender used in an earlier run, as long as the clock does not step
 * back and the sender averaged fewer than 2**20 messages per millisecond. */
uint64_t
ctl_seq_base(long long int wall_msec)
{
    return wall_msec > 0 ? (uint64_t) wall_msec << 20 : 0;
}

/* Returns the name of 'type' ("SYN_INFO", ...), or "<invalid>". */
const char *
ctl_msg_type_to_string(enum ctl_msg_type type)
{
    switch (type) {
    case CTL_MSG_SYN_INFO: return "SYN_INFO";
    case CTL_MSG_SYN_SYNC: return "SYN_SYNC";
    case CTL_MSG_ACK_INFO: return "ACK_INFO";
    case CTL_MSG_CONNECT: return "CONNECT";
    case CTL_MSG_CONN_REQ: return "CONN_REQ";
    case CTL_MSG_ACCEPTED: return "ACCEPTED";
    case CTL_MSG_REJECTED: return "REJECTED";
    case CTL_MSG_RELEASE: return "RELEASE";
    case CTL_MSG_MAPPING: return "MAPPING";
    case CTL_MSG_MAPPING_QUERY: return "MAPPING_QUERY";
    case CTL_MSG_UNKNOWN: return "UNKNOWN";
    case CTL_MSG_TRACKER_SYNC: return "TRACKER_SYNC";
    case CTL_MSG_PUBLISH: return "PUBLISH";
    case CTL_MSG_PUBLISH_FWD: return "PUBLISH_FWD";
    case CTL_MSG_PING: return "PING";
    case CTL_MSG_PONG: return "PONG";
    case CTL_MSG_GOSSIP: return "GOSSIP";
    case CTL_MSG_LB_LIST: return "LB_LIST";
    case CTL_MSG_OWNER: return "OWNER";
    case CTL_MSG_LOAD: return "LOAD";
    case CTL_MSG_N_TYPES:
    default:
        return "<invalid>";
    }
}

/* Returns a short description of 'error'. */
const char *
ctl_msg_error_to_string(enum ctl_msg_error error)
{
    switch (error) {
    case CTL_MSG_OK: return "ok";
    case CTL_MSG_ERR_SHORT: return "shorter than header and MAC";
    case CTL_MSG_ERR_OVERSIZE: return "longer than maximum datagram";
    case CTL_MSG_ERR_MAGIC: return "bad magic";
    case CTL_MSG_ERR_VERSION: return "unsupported version";
    case CTL_MSG_ERR_LENGTH: return "length field does not match the message";
    case CTL_MSG_ERR_MAC: return "MAC mismatch";
    case CTL_MSG_ERR_SENDER: return "sender node id 0 or above 65535";
    case CTL_MSG_ERR_TYPE: return "unknown message type";
    case CTL_MSG_ERR_BODY_LEN: return "body length wrong for type";
    case CTL_MSG_ERR_COUNT: return "entry count over bound or wrong";
    case CTL_MSG_ERR_FIELD: return "field out of range";
    case CTL_MSG_ERR_REPLAY: return "replayed sequence number";
    case CTL_MSG_ERR_TOO_OLD: return "stale: sequence number below window";
    case CTL_MSG_N_ERRORS:
    default:
        return "<invalid>";
    }
}

/* Returns the name of 'reason' ("limit", ...), or "<invalid>". */
const char *
ctl_reject_reason_to_string(enum ctl_reject_reason reason)
{
    switch (reason) {
    case CTL_REJECT_LIMIT: return "limit";
    case CTL_REJECT_LOAD: return "load";
    case CTL_REJECT_MEMORY: return "memory";
    case CTL_REJECT_COLLISION: return "collision";
    case CTL_REJECT_NOT_LISTENING: return "not-listening";
    case CTL_REJECT_NOT_READY: return "not-ready";
    case CTL_REJECT_NOT_MINE: return "not-mine";
    case CTL_REJECT_N_REASONS:
    default:
        return "<invalid>";
    }
}

/* Returns the name of 'path' ("north", "south", "agent"), or "<invalid>". */
const char *
ctl_ping_path_to_string(enum ctl_ping_path path)
{
    switch (path) {
    case CTL_PATH_NORTH: return "north";
    case CTL_PATH_SOUTH: return "south";
    case CTL_PATH_AGENT: return "agent";
    case CTL_PATH_N_PATHS:
    default:
        return "<invalid>";
    }
}

static void
format_opts(const struct ctl_tcp_opts *o, struct ds *s)
{
    ds_put_cstr(s, " opts(");
    if (o->has_mss) {
        ds_put_format(s, "mss=%"PRIu16",", o->mss);
    }
    if (o->has_wscale) {
        ds_put_format(s, "wscale=%"PRIu8",", o->wscale);
    }
    if (o->sack_permitted) {
        ds_put_cstr(s, "sack,");
    }
    if (o->has_ts) {
        ds_put_format(s, "tsval=%"PRIu32",", o->tsval);
    }
    if (o->ece) {
        ds_put_cstr(s, "ece,");
    }
    if (o->cwr) {
        ds_put_cstr(s, "cwr,");
    }
    ds_chomp(s, ',');
    ds_put_char(s, ')');
}

static void
format_cp(const struct flow_key *cp, struct ds *s)
{
    ds_put_cstr(s, " cp=");
    flow_key_format(cp, s);
}

static const char *
isn_kind_to_string(enum ctl_isn_kind kind)
{
    return kind == CTL_ISN_COOKIE ? "cookie" : "stored";
}

static void
format_syn_info(const struct ctl_syn_info *m, struct ds *s)
{
    format_cp(&m->cp, s);
    ds_put_format(s, " ingress=%"PRIu32" client_isn=%"PRIu32,
                  m->ingress, m->client_isn);
    format_opts(&m->opts, s);
}

static void
format_tracker_sync(const struct ctl_tracker_sync *m, struct ds *s)
{
    format_cp(&m->cp, s);
    ds_put_format(s, " state=%s role=%s isn_lb=%"PRIu32" (%s)"
                  " client_isn=%"PRIu32,
                  (m->state == CTL_TRACKER_ESTABLISHED
                   ? "established" : "syn-received"),
                  m->role == CTL_ROLE_SFT ? "sft" : "pft",
                  m->isn_lb, isn_kind_to_string(m->isn_kind), m->client_isn);
    format_opts(&m->opts, s);
    ds_put_format(s, " ts_lb=%"PRIu32" server=%"PRIu32" ingress=%"PRIu32
                  " ttl=%"PRIu8" lease_ms=%"PRIu32" rejected=[", m->ts_lb,
                  m->server, m->ingress, m->ttl, m->lease_ms);
    for (size_t i = 0; i < m->n_rejected; i++) {
        ds_put_format(s, "%s%"PRIu32, i ? "," : "", m->rejected[i]);
    }
    ds_put_char(s, ']');
}

static void
format_publish(const struct ctl_publish *m, bool fwd, struct ds *s)
{
    ds_put_format(s, " server=%"PRIu32, m->server);
    if (fwd) {
        ds_put_format(s, " origin=%"PRIu32, m->origin);
    }
    ds_put_format(s, " n=%"PRIuSIZE, m->n);
    for (size_t i = 0; i < m->n; i++) {
        const struct ctl_publish_entry *e = &m->entries[i];

        ds_put_format(s, "%s", i ? "," : " [");
        flow_key_format(&e->cp, s);
        ds_put_format(s, " ingress=%"PRIu32"%s", e->ingress,
                      e->flags & CTL_PUBLISH_TRACKED ? " tracked" : "");
    }
    if (m->n) {
        ds_put_char(s, ']');
    }
}

/* Appends to 's' a one-line human-readable form of 'msg', for logs. */
void
ctl_msg_format(const struct ctl_msg *msg, struct ds *s)
{
    ds_put_format(s, "%s sender=%"PRIu32" seq=%"PRIu64":",
                  ctl_msg_type_to_string(msg->type), msg->sender, msg->seq);
    switch (msg->type) {
    case CTL_MSG_SYN_INFO:
        format_syn_info(&msg->syn_info, s);
        break;
    case CTL_MSG_SYN_SYNC:
        format_syn_info(&msg->syn_sync.syn, s);
        ds_put_format(s, " isn_lb=%"PRIu32" (%s) ts_lb=%"PRIu32,
                      msg->syn_sync.isn_lb,
                      isn_kind_to_string(msg->syn_sync.isn_kind),
                      msg->syn_sync.ts_lb);
        break;
    case CTL_MSG_ACK_INFO: {
        const struct ctl_ack_info *m = &msg->ack_info;

        format_cp(&m->cp, s);
        ds_put_format(s, " ingress=%"PRIu32" seq=%"PRIu32" ack=%"PRIu32,
                      m->ingress, m->seq, m->ack);
        if (m->has_ts) {
            ds_put_format(s, " tsval=%"PRIu32" tsecr=%"PRIu32,
                          m->tsval, m->tsecr);
        }
        if (m->has_data) {
            ds_put_cstr(s, " data");
        }
        break;
    }
    case CTL_MSG_CONNECT: {
        const struct ctl_connect *m = &msg->connect;

        format_cp(&m->cp, s);
        ds_put_format(s, " server=%"PRIu32" ttl=%"PRIu8" isn_lb=%"PRIu32
                      " client_isn=%"PRIu32, m->server, m->ttl, m->isn_lb,
                      m->client_isn);
        format_opts(&m->opts, s);
        ds_put_format(s, " ingress=%"PRIu32" ts_lb=%"PRIu32,
                      m->ingress, m->ts_lb);
        break;
    }
    case CTL_MSG_CONN_REQ: {
        const struct ctl_conn_req *m = &msg->conn_req;

        format_cp(&m->cp, s);
        ds_put_format(s, " server=%"PRIu32" ttl=%"PRIu8" client_isn=%"PRIu32
                      " isn_lb=%"PRIu32, m->server, m->ttl, m->client_isn,
                      m->isn_lb);
        format_opts(&m->opts, s);
        ds_put_format(s, " ingress=%"PRIu32" lb_tsval=%"PRIu32
                      " lb_wscale=%"PRIu8" lb_mss=%"PRIu16, m->ingress,
                      m->lb_tsval, m->lb_wscale, m->lb_mss);
        break;
    }
    case CTL_MSG_ACCEPTED:
        format_cp(&msg->accepted.cp, s);
        ds_put_format(s, " server=%"PRIu32, msg->accepted.server);
        if (msg->accepted.lease_ms == CTL_LEASE_FULL) {
            ds_put_cstr(s, " lease=full");
        } else {
            ds_put_format(s, " lease_ms=%"PRIu32, msg->accepted.lease_ms);
        }
        break;
    case CTL_MSG_REJECTED:
        format_cp(&msg->rejected.cp, s);
        ds_put_format(s, " server=%"PRIu32" ttl=%"PRIu8" reason=%s",
                      msg->rejected.server, msg->rejected.ttl,
                      ctl_reject_reason_to_string(msg->rejected.reason));
        break;
    case CTL_MSG_RELEASE:
        format_cp(&msg->release.cp, s);
        ds_put_format(s, " server=%"PRIu32" ttl=%"PRIu8,
                      msg->release.server, msg->release.ttl);
        break;
    case CTL_MSG_MAPPING:
        format_cp(&msg->mapping.cp, s);
        ds_put_format(s, " server=%"PRIu32" addr=", msg->mapping.server);
        ipv6_format_mapped(&msg->mapping.server_addr, s);
        ds_put_format(s, " lease_ms=%"PRIu32, msg->mapping.lease_ms);
        break;
    case CTL_MSG_MAPPING_QUERY:
        format_cp(&msg->mapping_query.cp, s);
        ds_put_format(s, " ingress=%"PRIu32, msg->mapping_query.ingress);
        break;
    case CTL_MSG_UNKNOWN:
        format_cp(&msg->unknown.cp, s);
        break;
    case CTL_MSG_TRACKER_SYNC:
        format_tracker_sync(&msg->tracker_sync, s);
        break;
    case CTL_MSG_PUBLISH:
    case CTL_MSG_PUBLISH_FWD:
        format_publish(&msg->publish, msg->type == CTL_MSG_PUBLISH_FWD, s);
        break;
    case CTL_MSG_PING:
        ds_put_format(s, " nonce=%"PRIu64" path=%s checker=%"PRIu32
                      " target=%"PRIu32, msg->ping.nonce,
                      ctl_ping_path_to_string(msg->ping.path),
                      msg->ping.checker, msg->ping.target);
        break;
    case CTL_MSG_PONG:
        ds_put_format(s, " nonce=%"PRIu64" path=%s%s", msg->pong.nonce,
                      ctl_ping_path_to_string(msg->pong.path),
                      msg->pong.ready ? " ready" : " not-ready");
        break;
    case CTL_MSG_GOSSIP:
        ds_put_format(s, " n=%"PRIuSIZE, msg->gossip.n);
        for (size_t i = 0; i < msg->gossip.n; i++) {
            const struct ctl_gossip_entry *e = &msg->gossip.entries[i];

            ds_put_format(s, "%s%s%"PRIu32"=%"PRIu64, i ? "," : " [",
                          e->kind == CTL_NODE_SERVER ? "server" : "lb",
                          e->node, e->heartbeat);
        }
        if (msg->gossip.n) {
            ds_put_char(s, ']');
        }
        break;
    case CTL_MSG_LB_LIST:
        ds_put_format(s, " version=%"PRIu64" nodes=[", msg->lb_list.version);
        for (size_t i = 0; i < msg->lb_list.n; i++) {
            ds_put_format(s, "%s%"PRIu32, i ? "," : "",
                          msg->lb_list.nodes[i]);
        }
        ds_put_char(s, ']');
        break;
    case CTL_MSG_OWNER:
        ds_put_format(s, " server=%"PRIu32" n=%"PRIuSIZE,
                      msg->owner.server, msg->owner.n);
        for (size_t i = 0; i < msg->owner.n; i++) {
            ds_put_cstr(s, i ? ", " : " [");
            flow_key_format(&msg->owner.entries[i].cp, s);
            ds_put_cstr(s, msg->owner.entries[i].opened ? " opened"
                                                         : " closed");
        }
        if (msg->owner.n) {
            ds_put_char(s, ']');
        }
        break;
    case CTL_MSG_LOAD:
        ds_put_format(s, " n=%"PRIuSIZE, msg->load.n);
        for (size_t i = 0; i < msg->load.n; i++) {
            const struct ctl_load_entry *e = &msg->load.entries[i];

            ds_put_cstr(s, i ? "," : " [");
            ipv6_format_mapped(&e->vip, s);
            ds_put_format(s, ":%"PRIu16"/%s%s conns=%"PRIu32" backlog=%"
                          PRIu32" rtt_us=%"PRIu32, e->port,
                          e->flags & CTL_LOAD_UDP ? "udp" : "tcp",
                          e->flags & CTL_LOAD_DOWN ? " down" : "", e->conns,
                          e->backlog, e->rtt_us);
        }
        if (msg->load.n) {
            ds_put_char(s, ']');
        }
        break;
    case CTL_MSG_N_TYPES:
    default:
        break;
    }
}

/* Replay window. */

struct ctl_replay_sender {
    struct hmap_node hmap_node; /* In ctl_replay's 'senders', by 'id'. */
    struct ovs_list lru_node;   /* In ctl_replay's 'lru'. */
    uint32_t id;
    uint64_t top;               /* Highest sequence number accepted. */
    uint64_t seen;              /* Bit i set: 'top - i' accepted. */
};

struct ctl_replay {
    struct hmap senders;        /* Contains "struct ctl_replay_sender"s. */
    struct ovs_list lru;        /* Most recently accepted sender first. */
    size_t max_senders;
};

/* Creates and returns a replay window that tracks at most 'max_senders'
 * senders (at least 1).  When a new sender arrives and the table is full,
 * the sender whose last accepted message is the oldest is forgotten (and
 * counted): its next message, or one replayed from it, is then accepted as
 * its first.  'max_senders' should therefore exceed the number of nodes
 * that may send to this one. */
struct ctl_replay *
ctl_replay_create(size_t max_senders)
{
    struct ctl_replay *replay = xmalloc(sizeof *replay);
    hmap_init(&replay->senders);
    ovs_list_init(&replay->lru);
    replay->max_senders = MAX(max_senders, 1);
    return replay;
}

static void
replay_remove(struct ctl_replay *replay, struct ctl_replay_sender *s)
{
    hmap_remove(&replay->senders, &s->hmap_node);
    ovs_list_remove(&s->lru_node);
    free(s);
}

/* Frees 'replay'.  Does nothing if 'replay' is NULL. */
void
ctl_replay_destroy(struct ctl_replay *replay)
{
    if (replay) {
        struct ctl_replay_sender *s;

        HMAP_FOR_EACH_SAFE (s, hmap_node, &replay->senders) {
            replay_remove(replay, s);
        }
        hmap_destroy(&replay->senders);
        free(replay);
    }
}

static struct ctl_replay_sender *
replay_find(const struct ctl_replay *replay, uint32_t id)
{
    struct ctl_replay_sender *s;

    HMAP_FOR_EACH_WITH_HASH (s, hmap_node, hash_int(id, 0),
                             &replay->senders) {
        if (s->id == id) {
            return s;
        }
    }
    return NULL;
}

/* Checks sequence number 'seq' from 'sender' (of a message whose MAC has
 * been verified) against 'replay'.  Returns CTL_MSG_OK and records 'seq' if
 * it is new: above every number seen from 'sender', or one of the
 * CTL_REPLAY_WINDOW - 1 below the highest that was not seen yet.  Otherwise
 * returns CTL_MSG_ERR_REPLAY or CTL_MSG_ERR_TOO_OLD, counted in 'stats' (if
 * nonnull) and in a coverage counter, and records nothing. */
enum ctl_msg_error
ctl_replay_check_and_update(struct ctl_replay *replay, uint32_t sender,
                            uint64_t seq, struct ctl_stats *stats)
{
    struct ctl_replay_sender *s = replay_find(replay, sender);

    if (!s) {
        if (hmap_count(&replay->senders) >= replay->max_senders) {
            struct ctl_replay_sender *oldest;

            oldest = CONTAINER_OF(ovs_list_back(&replay->lru),
                                  struct ctl_replay_sender, lru_node);
            replay_remove(replay, oldest);
            COVERAGE_INC(ctl_replay_evict);
            if (stats) {
                stats->replay_evicted++;
            }
        }
        s = xmalloc(sizeof *s);
        s->id = sender;
        s->top = seq;
        s->seen = 1;
        hmap_insert(&replay->senders, &s->hmap_node, hash_int(sender, 0));
        ovs_list_push_front(&replay->lru, &s->lru_node);
        return CTL_MSG_OK;
    }

    if (seq > s->top) {
        uint64_t shift = seq - s->top;

        s->seen = shift < CTL_REPLAY_WINDOW ? (s->seen << shift) | 1 : 1;
        s->top = seq;
    } else {
        uint64_t age = s->top - seq;
        uint64_t bit;

        if (age >= CTL_REPLAY_WINDOW) {
            count_error(stats, CTL_MSG_ERR_TOO_OLD);
            return CTL_MSG_ERR_TOO_OLD;
        }
        bit = UINT64_C(1) << age;
        if (s->seen & bit) {
            count_error(stats, CTL_MSG_ERR_REPLAY);
            return CTL_MSG_ERR_REPLAY;
        }
        s->seen |= bit;
    }
    ovs_list_remove(&s->lru_node);
    ovs_list_push_front(&replay->lru, &s->lru_node);
    return CTL_MSG_OK;
}

/* Forgets what 'replay' knows about 'sender' (for a node removed from the
 * configuration). */
void
ctl_replay_forget(struct ctl_replay *replay, uint32_t sender)
{
    struct ctl_replay_sender *s = replay_find(replay, sender);
    if (s) {
        replay_remove(replay, s);
    }
}

/* Returns the number of senders 'replay' tracks. */
size_t
ctl_replay_n_senders(const struct ctl_replay *replay)
{
    return hmap_count(&replay->senders);
}
