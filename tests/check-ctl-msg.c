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
 * Unit tests of ctl-msg: round trip of every message type (including the
 * maximum entry counts), the exact wire layout and MAC, rejection of every
 * truncation, bit flip, wrong key, lying length or count and out-of-range
 * field, the replay window and its sender bound, and the error counters.
 */
#include <config.h>
#include "ctl-msg.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofpbuf.h"
#include "util.h"

#define TEST_KEY "ovslb unit-test cluster key 0123"

static struct ctl_key key;

/* Deterministic pseudo-random numbers (xorshift64*, fixed seed). */
static uint64_t rng_state;

static void
rng_seed(uint64_t seed)
{
    rng_state = seed ? seed : 1;
}

static uint64_t
rnd64(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

/* Nonzero 32-bit value, so that a field lost in transit shows. */
static uint32_t
rnd32(void)
{
    return (uint32_t) rnd64() | 0x00100001;
}

static void
setup(void)
{
    ck_assert_int_eq(ctl_key_init(&key, TEST_KEY, strlen(TEST_KEY)), 0);
    rng_seed(0x5eed);
}

static void
teardown(void)
{
    ctl_key_destroy(&key);
}

/* Stores in 'mac' the HMAC-SHA-256 of the 'len' bytes at 'data' under the
 * 'key_len' bytes at 'key_bytes', truncated, as libcrypto's one-shot HMAC()
 * computes it: the reference that ctl-msg.c's keyed state must match. */
static void
reference_mac(const void *key_bytes, size_t key_len, const void *data,
              size_t len, uint8_t mac[CTL_MSG_MAC_LEN])
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int md_len;

    ck_assert_ptr_nonnull(HMAC(EVP_sha256(), key_bytes, key_len, data, len,
                               md, &md_len));
    ck_assert_uint_ge(md_len, CTL_MSG_MAC_LEN);
    memcpy(mac, md, CTL_MSG_MAC_LEN);
}

/* Re-authenticates the 'len'-byte datagram 'buf' with the test key, as a
 * sender holding the key would: sets the length field to 'len' and
 * recomputes the MAC with libcrypto directly (so this also checks the MAC
 * algorithm independently of ctl-msg.c). */
static void
resign_len(uint8_t *buf, size_t len, uint16_t length_field)
{
    ck_assert_uint_ge(len, CTL_MSG_HEADER_LEN + CTL_MSG_MAC_LEN);
    buf[6] = length_field >> 8;
    buf[7] = length_field;
    reference_mac(TEST_KEY, strlen(TEST_KEY), buf, len - CTL_MSG_MAC_LEN,
                  buf + len - CTL_MSG_MAC_LEN);
}

static void
resign(uint8_t *buf, size_t len)
{
    resign_len(buf, len, len);
}

static void
make_cp(struct flow_key *cp)
{
    memset(cp, 0, sizeof *cp);
    if (rnd64() & 1) {
        cp->client.s6_addr[10] = cp->client.s6_addr[11] = 0xff;
        cp->vip.s6_addr[10] = cp->vip.s6_addr[11] = 0xff;
        uint32_t client = rnd32(), vip = rnd32();

        memcpy(&cp->client.s6_addr[12], &client, sizeof client);
        memcpy(&cp->vip.s6_addr[12], &vip, sizeof vip);
    } else {
        for (int i = 0; i < 16; i++) {
            cp->client.s6_addr[i] = rnd64();
            cp->vip.s6_addr[i] = rnd64();
        }
    }
    cp->client_port = htons(rnd32());
    cp->vip_port = htons(rnd32());
    cp->proto = rnd64() & 1 ? IPPROTO_TCP : IPPROTO_UDP;
}

/* TCP options: all present if 'all', otherwise each at random. */
static void
make_opts(struct ctl_tcp_opts *o, bool all)
{
    o->mss = rnd32();
    o->wscale = 1 + rnd64() % 255;
    o->has_mss = all || rnd64() & 1;
    o->has_wscale = all || rnd64() & 1;
    o->sack_permitted = all || rnd64() & 1;
    o->has_ts = all || rnd64() & 1;
    o->ece = all || rnd64() & 1;
    o->cwr = all || rnd64() & 1;
    o->tsval = rnd32();
}

/* A node id, 1 to CTL_NODE_MAX. */
static uint32_t
rnd_node(void)
{
    return 1 + rnd32() % CTL_NODE_MAX;
}

/* Variants of a message: typical values and a few entries, the maximum
 * number of entries with every flag set, or no entries and no flags. */
enum variant { V_TYPICAL, V_MAX, V_EMPTY, N_VARIANTS };

static size_t
variant_count(enum variant v, size_t max)
{
    return v == V_MAX ? max : v == V_EMPTY ? 0 : MIN(3, max);
}

/* Fills 'm' with a message of 'type' whose every field is non-trivial. */
static void
make_msg(struct ctl_msg *m, enum ctl_msg_type type, enum variant v)
{
    bool all = v == V_MAX;
    bool none = v == V_EMPTY;

    ctl_msg_init(m, type, rnd_node(), rnd64() | 1);
    switch (type) {
    case CTL_MSG_SYN_INFO:
    case CTL_MSG_SYN_SYNC: {
        struct ctl_syn_info *s = (type == CTL_MSG_SYN_INFO
                                  ? &m->syn_info : &m->syn_sync.syn);
        make_cp(&s->cp);
        s->ingress = rnd_node();
        s->client_isn = rnd32();
        make_opts(&s->opts, all);
        if (type == CTL_MSG_SYN_SYNC) {
            m->syn_sync.isn_lb = rnd32();
            m->syn_sync.ts_lb = rnd32();
            m->syn_sync.isn_kind = none ? CTL_ISN_STORED : CTL_ISN_COOKIE;
        }
        break;
    }
    case CTL_MSG_ACK_INFO:
        make_cp(&m->ack_info.cp);
        m->ack_info.ingress = rnd_node();
        m->ack_info.seq = rnd32();
        m->ack_info.ack = rnd32();
        m->ack_info.has_ts = !none;
        m->ack_info.has_data = all;
        m->ack_info.tsval = rnd32();
        m->ack_info.tsecr = rnd32();
        break;
    case CTL_MSG_CONNECT:
        make_cp(&m->connect.cp);
        m->connect.server = rnd_node();
        m->connect.ttl = 3;
        m->connect.isn_lb = rnd32();
        m->connect.client_isn = rnd32();
        make_opts(&m->connect.opts, all);
        m->connect.ingress = rnd_node();
        m->connect.ts_lb = rnd32();
        break;
    case CTL_MSG_CONN_REQ:
        make_cp(&m->conn_req.cp);
        m->conn_req.server = rnd_node();
        m->conn_req.ttl = 2;
        m->conn_req.client_isn = rnd32();
        m->conn_req.isn_lb = rnd32();
        make_opts(&m->conn_req.opts, all);
        m->conn_req.ingress = rnd_node();
        m->conn_req.lb_tsval = rnd32();
        m->conn_req.lb_wscale = 7;
        m->conn_req.lb_mss = 1360;
        break;
    case CTL_MSG_ACCEPTED:
        make_cp(&m->accepted.cp);
        m->accepted.server = rnd_node();
        m->accepted.lease_ms = rnd32();
        break;
    case CTL_MSG_REJECTED:
        make_cp(&m->rejected.cp);
        m->rejected.server = rnd_node();
        m->rejected.ttl = 1;
        m->rejected.reason = (all ? CTL_REJECT_N_REASONS - 1
                              : CTL_REJECT_COLLISION);
        break;
    case CTL_MSG_RELEASE:
        make_cp(&m->release.cp);
        m->release.server = rnd_node();
        m->release.ttl = 255;
        break;
    case CTL_MSG_MAPPING:
        make_cp(&m->mapping.cp);
        m->mapping.server = rnd_node();
        for (int i = 0; i < 16; i++) {
            m->mapping.server_addr.s6_addr[i] = rnd64() | 1;
        }
        m->mapping.lease_ms = rnd32();
        break;
    case CTL_MSG_MAPPING_QUERY:
        make_cp(&m->mapping_query.cp);
        m->mapping_query.ingress = rnd_node();
        break;
    case CTL_MSG_UNKNOWN:
        make_cp(&m->unknown.cp);
        break;
    case CTL_MSG_TRACKER_SYNC: {
        struct ctl_tracker_sync *t = &m->tracker_sync;

        make_cp(&t->cp);
        t->state = CTL_TRACKER_ESTABLISHED;
        t->role = none ? CTL_ROLE_PFT : CTL_ROLE_SFT;
        t->isn_lb = rnd32();
        t->client_isn = rnd32();
        make_opts(&t->opts, all);
        t->ts_lb = rnd32();
        t->server = rnd_node();
        t->ingress = rnd_node();
        t->ttl = 3;
        t->isn_kind = CTL_ISN_COOKIE;
        t->lease_ms = rnd32();
        t->n_rejected = variant_count(v, CTL_TRACKER_MAX_REJECTED);
        for (size_t i = 0; i < t->n_rejected; i++) {
            t->rejected[i] = rnd_node();
        }
        break;
    }
    case CTL_MSG_PUBLISH:
    case CTL_MSG_PUBLISH_FWD:
        m->publish.server = rnd_node();
        if (type == CTL_MSG_PUBLISH_FWD) {
            m->publish.origin = rnd_node();
        }
        m->publish.n = variant_count(v, CTL_PUBLISH_MAX_ENTRIES);
        for (size_t i = 0; i < m->publish.n; i++) {
            make_cp(&m->publish.entries[i].cp);
            m->publish.entries[i].ingress = rnd_node();
            m->publish.entries[i].flags = i % 2 ? CTL_PUBLISH_TRACKED : 0;
        }
        break;
    case CTL_MSG_PING:
        m->ping.nonce = rnd64();
        m->ping.path = all ? CTL_PATH_AGENT : CTL_PATH_SOUTH;
        m->ping.checker = rnd_node();
        m->ping.target = rnd_node();
        break;
    case CTL_MSG_PONG:
        m->pong.nonce = rnd64();
        m->pong.path = CTL_PATH_AGENT;
        m->pong.ready = !none;
        break;
    case CTL_MSG_GOSSIP:
        m->gossip.n = variant_count(v, CTL_GOSSIP_MAX_ENTRIES);
        for (size_t i = 0; i < m->gossip.n; i++) {
            m->gossip.entries[i].node = rnd_node();
            m->gossip.entries[i].kind = i % 2 ? CTL_NODE_SERVER : CTL_NODE_LB;
            m->gossip.entries[i].heartbeat = rnd64();
        }
        break;
    case CTL_MSG_LB_LIST:
        m->lb_list.version = rnd64();
        m->lb_list.n = variant_count(v, CTL_LB_LIST_MAX_NODES);
        for (size_t i = 0; i < m->lb_list.n; i++) {
            m->lb_list.nodes[i] = rnd_node();
        }
        break;
    case CTL_MSG_OWNER:
        m->owner.server = rnd_node();
        m->owner.n = variant_count(v, CTL_OWNER_MAX_ENTRIES);
        for (size_t i = 0; i < m->owner.n; i++) {
            make_cp(&m->owner.entries[i].cp);
            m->owner.entries[i].opened = i % 2 == 0;
        }
        break;
    case CTL_MSG_LOAD:
        m->load.n = variant_count(v, CTL_LOAD_MAX_ENTRIES);
        for (size_t i = 0; i < m->load.n; i++) {
            struct ctl_load_entry *e = &m->load.entries[i];

            for (int j = 0; j < 16; j++) {
                e->vip.s6_addr[j] = rnd64();
            }
            e->port = rnd32() | 1;
            e->flags = (i % 2 ? CTL_LOAD_DOWN : 0) | (i % 3 ? 0 : CTL_LOAD_UDP);
            e->conns = rnd32();
            e->backlog = rnd32();
            e->rtt_us = all ? UINT32_MAX : rnd32();
        }
        break;
    case CTL_MSG_N_TYPES:
    default:
        ck_abort_msg("bad type %d", type);
    }
}

/* The body length that the header documents for 'm'. */
static size_t
documented_body_len(const struct ctl_msg *m)
{
    switch (m->type) {
    case CTL_MSG_SYN_INFO: return CTL_SYN_INFO_LEN;
    case CTL_MSG_SYN_SYNC: return CTL_SYN_SYNC_LEN;
    case CTL_MSG_ACK_INFO: return CTL_ACK_INFO_LEN;
    case CTL_MSG_CONNECT: return CTL_CONNECT_LEN;
    case CTL_MSG_CONN_REQ: return CTL_CONN_REQ_LEN;
    case CTL_MSG_ACCEPTED: return CTL_ACCEPTED_LEN;
    case CTL_MSG_REJECTED: return CTL_REJECTED_LEN;
    case CTL_MSG_RELEASE: return CTL_RELEASE_LEN;
    case CTL_MSG_MAPPING: return CTL_MAPPING_LEN;
    case CTL_MSG_MAPPING_QUERY: return CTL_MAPPING_QUERY_LEN;
    case CTL_MSG_UNKNOWN: return CTL_UNKNOWN_LEN;
    case CTL_MSG_TRACKER_SYNC:
        return CTL_TRACKER_SYNC_LEN + 4 * m->tracker_sync.n_rejected;
    case CTL_MSG_PUBLISH:
        return CTL_PUBLISH_LEN + CTL_PUBLISH_ENTRY_LEN * m->publish.n;
    case CTL_MSG_PUBLISH_FWD:
        return CTL_PUBLISH_FWD_LEN + CTL_PUBLISH_ENTRY_LEN * m->publish.n;
    case CTL_MSG_PING: return CTL_PING_LEN;
    case CTL_MSG_PONG: return CTL_PONG_LEN;
    case CTL_MSG_GOSSIP:
        return CTL_GOSSIP_LEN + CTL_GOSSIP_ENTRY_LEN * m->gossip.n;
    case CTL_MSG_LB_LIST:
        return CTL_LB_LIST_LEN + 4 * m->lb_list.n;
    case CTL_MSG_OWNER:
        return CTL_OWNER_LEN + CTL_OWNER_ENTRY_LEN * m->owner.n;
    case CTL_MSG_LOAD:
        return CTL_LOAD_LEN + CTL_LOAD_ENTRY_LEN * m->load.n;
    case CTL_MSG_N_TYPES:
    default:
        ck_abort_msg("bad type %d", m->type);
    }
    return 0;
}

/* Encodes 'm' with the test key into 'buf' (initialized here) and checks
 * that it succeeds with the documented length. */
static void
encode_ok(const struct ctl_msg *m, struct ofpbuf *buf)
{
    ofpbuf_init(buf, 0);
    ck_assert_int_eq(ctl_msg_encode(m, &key, buf), 0);
    ck_assert_uint_eq(buf->size, CTL_MSG_HEADER_LEN + documented_body_len(m)
                      + CTL_MSG_MAC_LEN);
    ck_assert_uint_le(buf->size, CTL_MSG_MAX_LEN);
}

/* Decodes the 'len' bytes at 'data' with the test key. */
static enum ctl_msg_error
decode(const void *data, size_t len, struct ctl_msg *m)
{
    return ctl_msg_decode(data, len, &key, m, NULL);
}

static void
check_decode_error(const void *data, size_t len, enum ctl_msg_error expected)
{
    struct ctl_msg m;
    enum ctl_msg_error error = decode(data, len, &m);

    ck_assert_msg(error == expected, "got \"%s\", expected \"%s\"",
                  ctl_msg_error_to_string(error),
                  ctl_msg_error_to_string(expected));
}

/* Round trip: every type, every variant, decodes to the same message and
 * re-encodes to the same bytes. */
START_TEST(test_round_trip)
{
    for (int t = 1; t < CTL_MSG_N_TYPES; t++) {
        for (int v = 0; v < N_VARIANTS; v++) {
            struct ctl_msg in, out;
            struct ofpbuf buf, again;

            make_msg(&in, t, v);
            encode_ok(&in, &buf);
            ck_assert_msg(decode(buf.data, buf.size, &out) == CTL_MSG_OK,
                          "%s variant %d", ctl_msg_type_to_string(t), v);
            ck_assert_msg(!memcmp(&in, &out, sizeof in),
                          "%s variant %d differs after round trip",
                          ctl_msg_type_to_string(t), v);

            encode_ok(&out, &again);
            ck_assert(ofpbuf_equal(&buf, &again));
            ofpbuf_uninit(&buf);
            ofpbuf_uninit(&again);
        }
    }
}
END_TEST

/* Encoding appends to what the buffer already holds. */
START_TEST(test_encode_appends)
{
    struct ctl_msg a, b, out;
    struct ofpbuf buf;

    make_msg(&a, CTL_MSG_PING, V_TYPICAL);
    make_msg(&b, CTL_MSG_PONG, V_TYPICAL);
    ofpbuf_init(&buf, 0);
    ck_assert_int_eq(ctl_msg_encode(&a, &key, &buf), 0);
    size_t first = buf.size;
    ck_assert_int_eq(ctl_msg_encode(&b, &key, &buf), 0);
    ck_assert_int_eq(decode(buf.data, first, &out), CTL_MSG_OK);
    ck_assert_uint_eq(out.ping.nonce, a.ping.nonce);
    ck_assert_int_eq(decode((uint8_t *) buf.data + first, buf.size - first,
                            &out), CTL_MSG_OK);
    ck_assert_uint_eq(out.pong.nonce, b.pong.nonce);
    ofpbuf_uninit(&buf);
}
END_TEST

/* The exact bytes of a SYN_INFO, in network byte order as documented, and
 * its MAC. */
START_TEST(test_wire_layout)
{
    static const uint8_t expected[CTL_MSG_HEADER_LEN + CTL_SYN_INFO_LEN] = {
        /* Header. */
        'O', 'V', 'L', 'B', 1, CTL_MSG_SYN_INFO, 0, 92,
        0x00, 0x00, 0x0c, 0x0d,
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
        /* CP: ::ffff:198.51.100.2 port 40000 -> ::ffff:203.0.113.10:443. */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 2,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, 10,
        0x9c, 0x40, 0x01, 0xbb, IPPROTO_TCP, 0, 0, 0,
        /* Ingress, client ISN. */
        0, 0, 0, 7, 0xde, 0xad, 0xbe, 0xef,
        /* Options: MSS 1460, wscale 7, all flags, TSval. */
        0x05, 0xb4, 7, 0x3f, 0x11, 0x22, 0x33, 0x44,
    };
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int md_len;
    struct ctl_msg m;
    struct ofpbuf buf;

    ctl_msg_init(&m, CTL_MSG_SYN_INFO, 0x0c0d, 0x0102030405060708);
    m.syn_info.cp.client.s6_addr[10] = m.syn_info.cp.client.s6_addr[11] = 0xff;
    m.syn_info.cp.vip.s6_addr[10] = m.syn_info.cp.vip.s6_addr[11] = 0xff;
    memcpy(&m.syn_info.cp.client.s6_addr[12], "\xc6\x33\x64\x02", 4);
    memcpy(&m.syn_info.cp.vip.s6_addr[12], "\xcb\x00\x71\x0a", 4);
    m.syn_info.cp.client_port = htons(40000);
    m.syn_info.cp.vip_port = htons(443);
    m.syn_info.cp.proto = IPPROTO_TCP;
    m.syn_info.ingress = 7;
    m.syn_info.client_isn = 0xdeadbeef;
    m.syn_info.opts = (struct ctl_tcp_opts) {
        .mss = 1460, .wscale = 7, .has_mss = true, .has_wscale = true,
        .sack_permitted = true,
        .has_ts = true, .ece = true, .cwr = true, .tsval = 0x11223344,
    };

    encode_ok(&m, &buf);
    ck_assert_uint_eq(buf.size, sizeof expected + CTL_MSG_MAC_LEN);
    ck_assert(!memcmp(buf.data, expected, sizeof expected));
    HMAC(EVP_sha256(), TEST_KEY, strlen(TEST_KEY), expected, sizeof expected,
         md, &md_len);
    ck_assert(!memcmp((uint8_t *) buf.data + sizeof expected, md,
                      CTL_MSG_MAC_LEN));
    ofpbuf_uninit(&buf);

    struct ds s = DS_EMPTY_INITIALIZER;
    ctl_msg_format(&m, &s);
    ck_assert_str_eq(ds_cstr(&s),
                     "SYN_INFO sender=3085 seq=72623859790382856: "
                     "cp=198.51.100.2:40000>203.0.113.10:443/tcp ingress=7 "
                     "client_isn=3735928559 opts(mss=1460,wscale=7,sack,"
                     "tsval=287454020,ece,cwr)");
    ds_destroy(&s);
}
END_TEST

/* Every type formats as one line starting with its name. */
START_TEST(test_format)
{
    for (int t = 1; t < CTL_MSG_N_TYPES; t++) {
        for (int v = 0; v < N_VARIANTS; v++) {
            struct ds s = DS_EMPTY_INITIALIZER;
            const char *name = ctl_msg_type_to_string(t);
            struct ctl_msg m;

            make_msg(&m, t, v);
            ctl_msg_format(&m, &s);
            ck_assert(!strncmp(ds_cstr(&s), name, strlen(name)));
            ck_assert(ds_cstr(&s)[strlen(name)] == ' ');
            ck_assert_ptr_null(strchr(ds_cstr(&s), '\n'));
            ck_assert_ptr_null(strstr(ds_cstr(&s), "<invalid>"));
            ds_destroy(&s);
        }
    }

    struct ds s = DS_EMPTY_INITIALIZER;
    struct ctl_msg m;

    ctl_msg_init(&m, CTL_MSG_REJECTED, 3, 9);
    m.rejected.cp.proto = IPPROTO_UDP;
    m.rejected.cp.client.s6_addr[15] = 1;
    m.rejected.cp.vip.s6_addr[15] = 2;
    m.rejected.server = 5;
    m.rejected.ttl = 2;
    m.rejected.reason = CTL_REJECT_NOT_LISTENING;
    ctl_msg_format(&m, &s);
    ck_assert_str_eq(ds_cstr(&s), "REJECTED sender=3 seq=9: "
                     "cp=[::1]:0>[::2]:0/udp server=5 ttl=2 "
                     "reason=not-listening");

    ds_clear(&s);
    ctl_msg_init(&m, CTL_MSG_LB_LIST, 3, 10);
    m.lb_list.version = 4;
    m.lb_list.n = 3;
    m.lb_list.nodes[0] = 1;
    m.lb_list.nodes[1] = 2;
    m.lb_list.nodes[2] = 7;
    ctl_msg_format(&m, &s);
    ck_assert_str_eq(ds_cstr(&s),
                     "LB_LIST sender=3 seq=10: version=4 nodes=[1,2,7]");
    ds_destroy(&s);
}
END_TEST

/* Offsets of the variable-length bodies as documented. */
START_TEST(test_wire_layout_lists)
{
    struct ctl_msg m;
    struct ofpbuf buf;
    const uint8_t *body;

    make_msg(&m, CTL_MSG_PUBLISH_FWD, V_TYPICAL);
    m.publish.server = 0x0304;
    m.publish.origin = 0x0708;
    m.publish.entries[1].ingress = 0x0c0d;
    encode_ok(&m, &buf);
    body = (const uint8_t *) buf.data + CTL_MSG_HEADER_LEN;
    ck_assert(!memcmp(body, "\x00\x00\x03\x04\x00\x00\x07\x08\x00\x03", 10));
    ck_assert(!memcmp(body + 10 + 45, &m.publish.entries[1].cp, 40));
    ck_assert(!memcmp(body + 10 + 45 + 40, "\x00\x00\x0c\x0d\x01", 5));
    ofpbuf_uninit(&buf);

    make_msg(&m, CTL_MSG_TRACKER_SYNC, V_TYPICAL);
    m.tracker_sync.server = 0x1314;
    m.tracker_sync.rejected[2] = 0x2324;
    m.tracker_sync.lease_ms = 0x31323334;
    encode_ok(&m, &buf);
    body = (const uint8_t *) buf.data + CTL_MSG_HEADER_LEN;
    ck_assert(!memcmp(body + 62, "\x00\x00\x13\x14", 4));
    ck_assert(!memcmp(body + 72, "\x31\x32\x33\x34\x00\x03", 6));
    ck_assert(!memcmp(body + 78 + 8, "\x00\x00\x23\x24", 4));
    ofpbuf_uninit(&buf);

    make_msg(&m, CTL_MSG_GOSSIP, V_TYPICAL);
    m.gossip.entries[2].heartbeat = 0x0102030405060708;
    encode_ok(&m, &buf);
    body = (const uint8_t *) buf.data + CTL_MSG_HEADER_LEN;
    /* Entry 2: kind (LB), then the heartbeat. */
    ck_assert(!memcmp(body + 2 + 26 + 4,
                      "\x00\x01\x02\x03\x04\x05\x06\x07\x08", 9));
    ofpbuf_uninit(&buf);
}
END_TEST

/* Checks that the 'width' bytes at offset 'ofs' of 'body' hold 'value' in
 * network byte order. */
static void
expect_be(const uint8_t *body, size_t ofs, uint64_t value, size_t width,
          const char *what)
{
    for (size_t i = 0; i < width; i++) {
        uint8_t byte = value >> (8 * (width - 1 - i));
        ck_assert_msg(body[ofs + i] == byte, "%s: byte %zu is %#x, not %#x",
                      what, ofs + i, body[ofs + i], byte);
    }
}

static void
expect_cp(const uint8_t *body, size_t ofs, const struct flow_key *cp)
{
    ck_assert(!memcmp(body + ofs, &cp->client, 16));
    ck_assert(!memcmp(body + ofs + 16, &cp->vip, 16));
    ck_assert(!memcmp(body + ofs + 32, &cp->client_port, 2));
    ck_assert(!memcmp(body + ofs + 34, &cp->vip_port, 2));
    expect_be(body, ofs + 36, cp->proto, 1, "proto");
    expect_be(body, ofs + 37, 0, 3, "CP padding");
}

static void
expect_opts(const uint8_t *body, size_t ofs, const struct ctl_tcp_opts *o)
{
    expect_be(body, ofs, o->mss, 2, "mss");
    expect_be(body, ofs + 2, o->wscale, 1, "wscale");
    expect_be(body, ofs + 3, ((o->has_mss ? CTL_OPT_MSS : 0)
                              | (o->has_wscale ? CTL_OPT_WSCALE : 0)
                              | (o->sack_permitted ? CTL_OPT_SACK : 0)
                              | (o->has_ts ? CTL_OPT_TS : 0)
                              | (o->ece ? CTL_OPT_ECE : 0)
                              | (o->cwr ? CTL_OPT_CWR : 0)), 1, "opt flags");
    expect_be(body, ofs + 4, o->tsval, 4, "tsval");
}

/* Encodes a message of 'type' made by make_msg() into 'buf' and returns its
 * body. */
static const uint8_t *
encode_body(struct ctl_msg *m, enum ctl_msg_type type, struct ofpbuf *buf)
{
    make_msg(m, type, V_TYPICAL);
    encode_ok(m, buf);
    expect_be(buf->data, 0, CTL_MSG_MAGIC, 4, "magic");
    expect_be(buf->data, 4, CTL_MSG_VERSION, 1, "version");
    expect_be(buf->data, 5, type, 1, "type");
    expect_be(buf->data, 6, buf->size, 2, "length");
    expect_be(buf->data, 8, m->sender, 4, "sender");
    expect_be(buf->data, 12, m->seq, 8, "seq");
    return (const uint8_t *) buf->data + CTL_MSG_HEADER_LEN;
}

/* Every field of every body sits at the offset ctl-msg.h documents. */
START_TEST(test_wire_offsets)
{
    const uint8_t *b;
    struct ctl_msg m;
    struct ofpbuf buf;

    b = encode_body(&m, CTL_MSG_SYN_SYNC, &buf);
    expect_cp(b, 0, &m.syn_sync.syn.cp);
    expect_be(b, 40, m.syn_sync.syn.ingress, 4, "ingress");
    expect_be(b, 44, m.syn_sync.syn.client_isn, 4, "client_isn");
    expect_opts(b, 48, &m.syn_sync.syn.opts);
    expect_be(b, 56, m.syn_sync.isn_lb, 4, "isn_lb");
    expect_be(b, 60, m.syn_sync.ts_lb, 4, "ts_lb");
    expect_be(b, 64, m.syn_sync.isn_kind, 1, "isn_kind");
    ofpbuf_uninit(&buf);

    b = encode_body(&m, CTL_MSG_ACK_INFO, &buf);
    expect_cp(b, 0, &m.ack_info.cp);
    expect_be(b, 40, m.ack_info.ingress, 4, "ingress");
    expect_be(b, 44, m.ack_info.seq, 4, "seq");
    expect_be(b, 48, m.ack_info.ack, 4, "ack");
    expect_be(b, 52, CTL_ACK_TS, 1, "flags");
    expect_be(b, 53, m.ack_info.tsval, 4, "tsval");
    expect_be(b, 57, m.ack_info.tsecr, 4, "tsecr");
    ofpbuf_uninit(&buf);

    b = encode_body(&m, CTL_MSG_CONNECT, &buf);
    expect_cp(b, 0, &m.connect.cp);
    expect_be(b, 40, m.connect.server, 4, "server");
    expect_be(b, 44, m.connect.ttl, 1, "ttl");
    expect_be(b, 45, m.connect.isn_lb, 4, "isn_lb");
    expect_be(b, 49, m.connect.client_isn, 4, "client_isn");
    expect_opts(b, 53, &m.connect.opts);
    expect_be(b, 61, m.connect.ingress, 4, "ingress");
    expect_be(b, 65, m.connect.ts_lb, 4, "ts_lb");
    ofpbuf_uninit(&buf);

    b = encode_body(&m, CTL_MSG_CONN_REQ, &buf);
    expect_cp(b, 0, &m.conn_req.cp);
    expect_be(b, 40, m.conn_req.server, 4, "server");
    expect_be(b, 44, m.conn_req.ttl, 1, "ttl");
    expect_be(b, 45, m.conn_req.client_isn, 4, "client_isn");
    expect_be(b, 49, m.conn_req.isn_lb, 4, "isn_lb");
    expect_opts(b, 53, &m.conn_req.opts);
    expect_be(b, 61, m.conn_req.ingress, 4, "ingress");
    expect_be(b, 65, m.conn_req.lb_tsval, 4, "lb_tsval");
    expect_be(b, 69, m.conn_req.lb_wscale, 1, "lb_wscale");
    expect_be(b, 70, m.conn_req.lb_mss, 2, "lb_mss");
    ofpbuf_uninit(&buf);

    b = encode_body(&m, CTL_MSG_ACCEPTED, &buf);
    expect_cp(b, 0, &m.accepted.cp);
    expect_be(b, 40, m.accepted.server, 4, "server");
    expect_be(b, 44, m.accepted.lease_ms, 4, "lease_ms");
    ofpbuf_uninit(&buf);

    b = encode_body(&m, CTL_MSG_REJECTED, &buf);
    expect_cp(b, 0, &m.rejected.cp);
    expect_be(b, 40, m.rejected.server, 4, "server");
    expect_be(b, 44, m.rejected.ttl, 1, "ttl");
    expect_be(b, 45, m.rejected.reason, 1, "reason");
    ofpbuf_uninit(&buf);

    b = encode_body(&m, CTL_MSG_RELEASE, &buf);
    expect_cp(b, 0, &m.release.cp);
    expect_be(b, 40, m.release.server, 4, "server");
    expect_be(b, 44, m.release.ttl, 1, "ttl");
    ofpbuf_uninit(&buf);

    b = encode_body(&m, CTL_MSG_MAPPING, &buf);
    expect_cp(b, 0, &m.mapping.cp);
    expect_be(b, 40, m.mapping.server, 4, "server");
    ck_assert(!memcmp(b + 44, &m.mapping.server_addr, 16));
    expect_be(b, 60, m.mapping.lease_ms, 4, "lease_ms");
    ofpbuf_uninit(&buf);

    b = encode_body(&m, CTL_MSG_MAPPING_QUERY, &buf);
    expect_cp(b, 0, &m.mapping_query.cp);
    expect_be(b, 40, m.mapping_query.ingress, 4, "ingress");
    ofpbuf_uninit(&buf);

    b = encode_body(&m, CTL_MSG_UNKNOWN, &buf);
    expect_cp(b, 0, &m.unknown.cp);
    ofpbuf_uninit(&buf);

    b = encode_body(&m, CTL_MSG_TRACKER_SYNC, &buf);
    expect_cp(b, 0, &m.tracker_sync.cp);
    expect_be(b, 40, m.tracker_sync.state, 1, "state");
    expect_be(b, 41, m.tracker_sync.role, 1, "role");
    expect_be(b, 42, m.tracker_sync.isn_lb, 4, "isn_lb");
    expect_be(b, 46, m.tracker_sync.client_isn, 4, "client_isn");
    expect_opts(b, 50, &m.tracker_sync.opts);
    expect_be(b, 58, m.tracker_sync.ts_lb, 4, "ts_lb");
    expect_be(b, 62, m.tracker_sync.server, 4, "server");
    expect_be(b, 66, m.tracker_sync.ingress, 4, "ingress");
    expect_be(b, 70, m.tracker_sync.ttl, 1, "ttl");
    expect_be(b, 71, m.tracker_sync.isn_kind, 1, "isn_kind");
    expect_be(b, 72, m.tracker_sync.lease_ms, 4, "lease_ms");
    expect_be(b, 76, m.tracker_sync.n_rejected, 2, "n_rejected");
    for (size_t i = 0; i < m.tracker_sync.n_rejected; i++) {
        expect_be(b, 78 + 4 * i, m.tracker_sync.rejected[i], 4, "rejected");
    }
    ofpbuf_uninit(&buf);

    b = encode_body(&m, CTL_MSG_PUBLISH, &buf);
    expect_be(b, 0, m.publish.server, 4, "server");
    expect_be(b, 4, m.publish.n, 2, "n");
    for (size_t i = 0; i < m.publish.n; i++) {
        const struct ctl_publish_entry *e = &m.publish.entries[i];

        expect_cp(b, 6 + 45 * i, &e->cp);
        expect_be(b, 6 + 45 * i + 40, e->ingress, 4, "ingress");
        expect_be(b, 6 + 45 * i + 44, e->flags, 1, "flags");
    }
    ofpbuf_uninit(&buf);

    b = encode_body(&m, CTL_MSG_PUBLISH_FWD, &buf);
    expect_be(b, 0, m.publish.server, 4, "server");
    expect_be(b, 4, m.publish.origin, 4, "origin");
    expect_be(b, 8, m.publish.n, 2, "n");
    for (size_t i = 0; i < m.publish.n; i++) {
        const struct ctl_publish_entry *e = &m.publish.entries[i];

        expect_cp(b, 10 + 45 * i, &e->cp);
        expect_be(b, 10 + 45 * i + 40, e->ingress, 4, "ingress");
        expect_be(b, 10 + 45 * i + 44, e->flags, 1, "flags");
    }
    ofpbuf_uninit(&buf);

    b = encode_body(&m, CTL_MSG_PING, &buf);
    expect_be(b, 0, m.ping.nonce, 8, "nonce");
    expect_be(b, 8, m.ping.path, 1, "path");
    expect_be(b, 9, m.ping.checker, 4, "checker");
    expect_be(b, 13, m.ping.target, 4, "target");
    ofpbuf_uninit(&buf);

    b = encode_body(&m, CTL_MSG_PONG, &buf);
    expect_be(b, 0, m.pong.nonce, 8, "nonce");
    expect_be(b, 8, m.pong.path, 1, "path");
    expect_be(b, 9, 1, 1, "ready");
    ofpbuf_uninit(&buf);

    b = encode_body(&m, CTL_MSG_GOSSIP, &buf);
    expect_be(b, 0, m.gossip.n, 2, "n");
    for (size_t i = 0; i < m.gossip.n; i++) {
        const struct ctl_gossip_entry *e = &m.gossip.entries[i];

        expect_be(b, 2 + 13 * i, e->node, 4, "node");
        expect_be(b, 2 + 13 * i + 4, e->kind, 1, "kind");
        expect_be(b, 2 + 13 * i + 5, e->heartbeat, 8, "heartbeat");
    }
    ofpbuf_uninit(&buf);

    b = encode_body(&m, CTL_MSG_LB_LIST, &buf);
    expect_be(b, 0, m.lb_list.version, 8, "version");
    expect_be(b, 8, m.lb_list.n, 2, "n");
    for (size_t i = 0; i < m.lb_list.n; i++) {
        expect_be(b, 10 + 4 * i, m.lb_list.nodes[i], 4, "node");
    }
    ofpbuf_uninit(&buf);

    b = encode_body(&m, CTL_MSG_OWNER, &buf);
    expect_be(b, 0, m.owner.server, 4, "server");
    expect_be(b, 4, m.owner.n, 2, "n");
    for (size_t i = 0; i < m.owner.n; i++) {
        expect_cp(b, 6 + 41 * i, &m.owner.entries[i].cp);
        expect_be(b, 6 + 41 * i + 40, i % 2 == 0, 1, "opened");
    }
    ofpbuf_uninit(&buf);

    b = encode_body(&m, CTL_MSG_LOAD, &buf);
    expect_be(b, 0, m.load.n, 2, "n");
    for (size_t i = 0; i < m.load.n; i++) {
        const struct ctl_load_entry *e = &m.load.entries[i];
        size_t o = 2 + 31 * i;

        ck_assert(!memcmp(b + o, &e->vip, 16));
        expect_be(b, o + 16, e->port, 2, "port");
        expect_be(b, o + 18, e->flags, 1, "flags");
        expect_be(b, o + 19, e->conns, 4, "conns");
        expect_be(b, o + 23, e->backlog, 4, "backlog");
        expect_be(b, o + 27, e->rtt_us, 4, "rtt_us");
    }
    ofpbuf_uninit(&buf);
}
END_TEST

/* Every proper prefix of every valid datagram is rejected. */
START_TEST(test_truncation)
{
    for (int t = 1; t < CTL_MSG_N_TYPES; t++) {
        for (int v = 0; v < N_VARIANTS; v++) {
            struct ctl_msg m;
            struct ofpbuf buf;

            make_msg(&m, t, v);
            encode_ok(&m, &buf);
            for (size_t len = 0; len < buf.size; len++) {
                check_decode_error(buf.data, len,
                                   len < CTL_MSG_HEADER_LEN + CTL_MSG_MAC_LEN
                                   ? CTL_MSG_ERR_SHORT : CTL_MSG_ERR_LENGTH);
            }
            ofpbuf_uninit(&buf);
        }
    }
}
END_TEST

/* A body cut short or extended, but correctly authenticated (as a buggy or
 * malicious key holder could send), is rejected by the body checks. */
START_TEST(test_body_length_authenticated)
{
    for (int t = 1; t < CTL_MSG_N_TYPES; t++) {
        for (int v = 0; v < N_VARIANTS; v++) {
            size_t max_entries = ctl_msg_max_entries(t);
            uint8_t copy[CTL_MSG_MAX_LEN + 1];
            struct ctl_msg m;
            struct ofpbuf buf;
            size_t body_len;

            make_msg(&m, t, v);
            encode_ok(&m, &buf);
            body_len = buf.size - CTL_MSG_HEADER_LEN - CTL_MSG_MAC_LEN;

            for (size_t cut = 0; cut < body_len; cut++) {
                size_t len = CTL_MSG_HEADER_LEN + cut + CTL_MSG_MAC_LEN;
                struct ctl_msg out;
                enum ctl_msg_error error;

                memcpy(copy, buf.data, len);
                resign(copy, len);
                error = decode(copy, len, &out);
                if (max_entries) {
                    ck_assert_msg(error == CTL_MSG_ERR_BODY_LEN
                                  || error == CTL_MSG_ERR_COUNT,
                                  "%s cut to %zu: %s",
                                  ctl_msg_type_to_string(t), cut,
                                  ctl_msg_error_to_string(error));
                } else {
                    ck_assert_int_eq(error, CTL_MSG_ERR_BODY_LEN);
                }
            }

            /* One trailing byte. */
            if (buf.size < CTL_MSG_MAX_LEN) {
                size_t len = buf.size + 1;
                size_t mac_ofs = buf.size - CTL_MSG_MAC_LEN;

                memcpy(copy, buf.data, mac_ofs);
                copy[mac_ofs] = 0;
                resign(copy, len);
                check_decode_error(copy, len, max_entries
                                   ? CTL_MSG_ERR_COUNT
                                   : CTL_MSG_ERR_BODY_LEN);
            }
            ofpbuf_uninit(&buf);
        }
    }
}
END_TEST

/* Any single bit flipped anywhere is rejected: by the magic, version or
 * length checks in those fields, by the MAC everywhere else. */
START_TEST(test_bit_flips)
{
    for (int t = 1; t < CTL_MSG_N_TYPES; t++) {
        for (int v = 0; v < N_VARIANTS; v++) {
            struct ctl_msg m;
            struct ofpbuf buf;
            uint8_t *p;

            make_msg(&m, t, v);
            encode_ok(&m, &buf);
            p = buf.data;
            for (size_t bit = 0; bit < buf.size * 8; bit++) {
                size_t byte = bit / 8;
                enum ctl_msg_error expected = (byte < 4 ? CTL_MSG_ERR_MAGIC
                                               : byte == 4
                                               ? CTL_MSG_ERR_VERSION
                                               : byte == 6 || byte == 7
                                               ? CTL_MSG_ERR_LENGTH
                                               : CTL_MSG_ERR_MAC);

                p[byte] ^= 1 << (bit % 8);
                check_decode_error(p, buf.size, expected);
                p[byte] ^= 1 << (bit % 8);
            }
            check_decode_error(p, buf.size, CTL_MSG_OK);
            ofpbuf_uninit(&buf);
        }
    }
}
END_TEST

START_TEST(test_wrong_key)
{
    static const char *other_keys[] = {
        "ovslb unit-test cluster key 0124",     /* Last byte differs. */
        "ovslb unit-test cluster key 0123 ",    /* One byte longer. */
        "ovslb unit-test cluster key 012",      /* One byte shorter. */
    };

    for (size_t i = 0; i < ARRAY_SIZE(other_keys); i++) {
        struct ctl_key other;
        struct ctl_msg m, out;
        struct ofpbuf buf;

        ck_assert_int_eq(ctl_key_init(&other, other_keys[i],
                                      strlen(other_keys[i])), 0);
        make_msg(&m, CTL_MSG_CONN_REQ, V_TYPICAL);
        encode_ok(&m, &buf);
        ck_assert_int_eq(ctl_msg_decode(buf.data, buf.size, &other, &out,
                                        NULL), CTL_MSG_ERR_MAC);
        ofpbuf_uninit(&buf);

        ofpbuf_init(&buf, 0);
        ck_assert_int_eq(ctl_msg_encode(&m, &other, &buf), 0);
        check_decode_error(buf.data, buf.size, CTL_MSG_ERR_MAC);
        ofpbuf_uninit(&buf);
        ctl_key_destroy(&other);
    }
}
END_TEST

START_TEST(test_key_init)
{
    uint8_t bytes[CTL_KEY_MAX_LEN + 1];
    struct ctl_key k;

    memset(bytes, 'k', sizeof bytes);
    ck_assert_int_eq(ctl_key_init(&k, bytes, 0), EINVAL);
    ck_assert_int_eq(ctl_key_init(&k, bytes, CTL_KEY_MIN_LEN - 1), EINVAL);
    ck_assert_int_eq(ctl_key_init(&k, bytes, CTL_KEY_MAX_LEN + 1), EINVAL);
    ck_assert_int_eq(ctl_key_init(&k, bytes, CTL_KEY_MIN_LEN), 0);
    ck_assert_uint_eq(k.len, CTL_KEY_MIN_LEN);
    ctl_key_destroy(&k);
    ck_assert_int_eq(ctl_key_init(&k, bytes, CTL_KEY_MAX_LEN), 0);
    ck_assert_uint_eq(k.len, CTL_KEY_MAX_LEN);
    ctl_key_destroy(&k);
}
END_TEST

/* The MAC is HMAC-SHA-256 truncated to its first 16 bytes, bit for bit, for
 * keys of the shortest, a typical and the longest length, and for datagrams
 * of every length (across SHA-256's block and padding boundaries).  Each key
 * serves many messages in a row, as a socket's does. */
START_TEST(test_mac_reference)
{
    static const size_t key_lens[] = { CTL_KEY_MIN_LEN, 32, CTL_KEY_MAX_LEN };

    for (size_t i = 0; i < ARRAY_SIZE(key_lens); i++) {
        uint8_t bytes[CTL_KEY_MAX_LEN];
        uint8_t mac[CTL_MSG_MAC_LEN];
        struct ctl_key k;

        for (size_t j = 0; j < key_lens[i]; j++) {
            bytes[j] = rnd64();
        }
        ck_assert_int_eq(ctl_key_init(&k, bytes, key_lens[i]), 0);

        /* Every type and variant: the encoder's MAC is the reference one,
         * and the datagram decodes to the message encoded. */
        for (int t = 1; t < CTL_MSG_N_TYPES; t++) {
            for (int v = 0; v < N_VARIANTS; v++) {
                struct ctl_msg in, out;
                struct ofpbuf buf;
                size_t len;

                make_msg(&in, t, v);
                ofpbuf_init(&buf, 0);
                ck_assert_int_eq(ctl_msg_encode(&in, &k, &buf), 0);
                len = buf.size - CTL_MSG_MAC_LEN;
                reference_mac(bytes, key_lens[i], buf.data, len, mac);
                ck_assert_msg(!memcmp(mac, (uint8_t *) buf.data + len,
                                      sizeof mac),
                              "%s variant %d, %"PRIuSIZE"-byte key: MAC "
                              "differs from HMAC()",
                              ctl_msg_type_to_string(t), v, key_lens[i]);
                ck_assert_int_eq(ctl_msg_decode(buf.data, buf.size, &k,
                                                &out, NULL), CTL_MSG_OK);
                ck_assert(!memcmp(&in, &out, sizeof in));
                ofpbuf_uninit(&buf);
            }
        }

        /* Every length: random bytes behind a valid header, signed with the
         * reference, pass the MAC check (whatever the body then holds), and
         * fail it once a bit of the MAC is flipped. */
        for (size_t len = CTL_MSG_HEADER_LEN + CTL_MSG_MAC_LEN;
             len <= CTL_MSG_MAX_LEN; len++) {
            uint8_t buf[CTL_MSG_MAX_LEN];
            struct ctl_msg out;

            for (size_t j = 0; j < len; j++) {
                buf[j] = rnd64();
            }
            memcpy(buf, "OVLB", 4);
            buf[4] = CTL_MSG_VERSION;
            buf[6] = len >> 8;
            buf[7] = len;
            reference_mac(bytes, key_lens[i], buf, len - CTL_MSG_MAC_LEN,
                          buf + len - CTL_MSG_MAC_LEN);
            ck_assert_msg(ctl_msg_decode(buf, len, &k, &out, NULL)
                          != CTL_MSG_ERR_MAC,
                          "%"PRIuSIZE"-byte datagram, %"PRIuSIZE"-byte key: "
                          "MAC rejected", len, key_lens[i]);
            buf[len - 1 - rnd64() % CTL_MSG_MAC_LEN] ^= 1 << rnd64() % 8;
            ck_assert_int_eq(ctl_msg_decode(buf, len, &k, &out, NULL),
                             CTL_MSG_ERR_MAC);
        }
        ctl_key_destroy(&k);
    }
}
END_TEST

/* A clone authenticates as its original does and outlives it; a destroyed
 * key authenticates nothing; destroying twice, an empty key or NULL does
 * nothing. */
START_TEST(test_key_clone_destroy)
{
    struct ctl_key orig, clone, empty;
    struct ofpbuf a, b;
    struct ctl_msg m, out;

    ck_assert_int_eq(ctl_key_init(&orig, TEST_KEY, strlen(TEST_KEY)), 0);
    ck_assert_int_eq(ctl_key_clone(&clone, &orig), 0);
    ck_assert_uint_eq(clone.len, orig.len);
    ck_assert(!memcmp(clone.bytes, orig.bytes, orig.len));

    make_msg(&m, CTL_MSG_GOSSIP, V_MAX);
    ofpbuf_init(&a, 0);
    ofpbuf_init(&b, 0);
    ck_assert_int_eq(ctl_msg_encode(&m, &orig, &a), 0);
    ck_assert_int_eq(ctl_msg_encode(&m, &clone, &b), 0);
    ck_assert(ofpbuf_equal(&a, &b));

    ctl_key_destroy(&orig);
    ck_assert_uint_eq(orig.len, 0);
    ck_assert_int_eq(ctl_msg_decode(a.data, a.size, &clone, &out, NULL),
                     CTL_MSG_OK);
    ck_assert_int_eq(decode(b.data, b.size, &out), CTL_MSG_OK);

    /* The destroyed key: no encoding, no authentication, no clone. */
    ofpbuf_clear(&b);
    ofpbuf_put(&b, "xyz", 3);
    ck_assert_int_eq(ctl_msg_encode(&m, &orig, &b), ENOKEY);
    ck_assert_uint_eq(b.size, 3);
    ck_assert_int_eq(ctl_msg_decode(a.data, a.size, &orig, &out, NULL),
                     CTL_MSG_ERR_MAC);
    ck_assert_int_eq(ctl_key_clone(&empty, &orig), EINVAL);

    ctl_key_destroy(&orig);
    ctl_key_destroy(&empty);
    ctl_key_destroy(NULL);
    ctl_key_destroy(&clone);
    ofpbuf_uninit(&a);
    ofpbuf_uninit(&b);
}
END_TEST

/* ctl_msg_decode_keys() accepts a MAC by any key it holds, says which slot
 * verified it, skips empty slots, and counts a MAC that none verifies once;
 * ctl_msg_receive_keys() counts what it accepts by slot. */
START_TEST(test_decode_keys)
{
    static const char *const texts[] = {
        "rotation test key number zero", "rotation test key number one",
        "rotation test key number two", "rotation test key, held by none",
    };
    struct ctl_key k[ARRAY_SIZE(texts)], empty;
    struct ctl_replay *r = ctl_replay_create(4);
    struct ctl_stats stats;
    struct ofpbuf buf;
    struct ctl_msg m, out;

    memset(&stats, 0, sizeof stats);
    memset(&empty, 0, sizeof empty);
    for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
        ck_assert_int_eq(ctl_key_init(&k[i], texts[i], strlen(texts[i])), 0);
        ck_assert(ctl_key_equals(&k[i], &k[i]));
        for (size_t j = 0; j < i; j++) {
            ck_assert(!ctl_key_equals(&k[i], &k[j]));
            ck_assert_uint_ne(ctl_key_fingerprint(&k[i]),
                              ctl_key_fingerprint(&k[j]));
        }
    }
    ck_assert_uint_eq(ctl_key_fingerprint(&empty), 0);

    const struct ctl_key *held[CTL_KEY_N_SLOTS] = { &k[0], NULL, &k[2] };
    ofpbuf_init(&buf, 0);
    for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
        enum ctl_key_slot slot;
        bool accepted = i == 0 || i == 2;

        make_msg(&m, CTL_MSG_LB_LIST, V_TYPICAL);
        m.sender = 1;
        m.seq = 100 + i;
        ofpbuf_clear(&buf);
        ck_assert_int_eq(ctl_msg_encode(&m, &k[i], &buf), 0);
        ck_assert_int_eq(ctl_msg_receive_keys(buf.data, buf.size, held, r,
                                              &out, &stats, &slot),
                         accepted ? CTL_MSG_OK : CTL_MSG_ERR_MAC);
        if (accepted) {
            ck_assert_int_eq(slot, i);
        }
    }
    ck_assert_uint_eq(stats.rx_key[CTL_KEY_CURRENT], 1);
    ck_assert_uint_eq(stats.rx_key[CTL_KEY_NEXT], 0);
    ck_assert_uint_eq(stats.rx_key[CTL_KEY_PREVIOUS], 1);
    ck_assert_uint_eq(stats.rx_error[CTL_MSG_ERR_MAC], 2);

    /* An empty key in a slot verifies nothing. */
    held[CTL_KEY_CURRENT] = &empty;
    held[CTL_KEY_PREVIOUS] = NULL;
    ck_assert_int_eq(ctl_msg_decode_keys(buf.data, buf.size, held, &out,
                                         NULL, &(enum ctl_key_slot) {0}),
                     CTL_MSG_ERR_MAC);

    for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
        ctl_key_destroy(&k[i]);
    }
    ctl_replay_destroy(r);
    ofpbuf_uninit(&buf);
}
END_TEST

/* Datagrams longer than the maximum, even authenticated, are rejected, and
 * the encoder refuses entry counts over the bound. */
START_TEST(test_oversize)
{
    uint8_t big[CTL_MSG_MAX_LEN + 100];
    struct ctl_msg m;
    struct ofpbuf buf;

    make_msg(&m, CTL_MSG_LB_LIST, V_MAX);
    encode_ok(&m, &buf);
    memset(big, 0, sizeof big);
    memcpy(big, buf.data, buf.size - CTL_MSG_MAC_LEN);
    for (size_t len = CTL_MSG_MAX_LEN + 1; len <= sizeof big; len += 33) {
        resign(big, len);
        check_decode_error(big, len, CTL_MSG_ERR_OVERSIZE);
    }
    ofpbuf_uninit(&buf);

    /* The encoder: one entry too many, for each list. */
    for (int t = 1; t < CTL_MSG_N_TYPES; t++) {
        size_t max = ctl_msg_max_entries(t);
        if (!max) {
            continue;
        }
        make_msg(&m, t, V_MAX);
        switch (t) {
        case CTL_MSG_TRACKER_SYNC: m.tracker_sync.n_rejected++; break;
        case CTL_MSG_PUBLISH:
        case CTL_MSG_PUBLISH_FWD: m.publish.n++; break;
        case CTL_MSG_GOSSIP: m.gossip.n++; break;
        case CTL_MSG_LB_LIST: m.lb_list.n++; break;
        case CTL_MSG_LOAD: m.load.n++; break;
        case CTL_MSG_OWNER: m.owner.n++; break;
        default: ck_abort_msg("unexpected list type %d", t);
        }
        ofpbuf_init(&buf, 0);
        ofpbuf_put(&buf, "xyz", 3);
        ck_assert_int_eq(ctl_msg_encode(&m, &key, &buf), EINVAL);
        ck_assert_uint_eq(buf.size, 3);
        ofpbuf_uninit(&buf);
    }
}
END_TEST

/* The entry bounds are what fits in one datagram, and no more. */
START_TEST(test_max_entries)
{
    ck_assert_uint_eq(ctl_msg_max_entries(CTL_MSG_PUBLISH), 30);
    ck_assert_uint_eq(ctl_msg_max_entries(CTL_MSG_PUBLISH_FWD), 30);
    ck_assert_uint_eq(ctl_msg_max_entries(CTL_MSG_GOSSIP), 104);
    ck_assert_uint_eq(ctl_msg_max_entries(CTL_MSG_LB_LIST), 338);
    ck_assert_uint_eq(ctl_msg_max_entries(CTL_MSG_OWNER), 33);
    ck_assert_uint_eq(ctl_msg_max_entries(CTL_MSG_TRACKER_SYNC), 8);
    ck_assert_uint_eq(ctl_msg_max_entries(CTL_MSG_PING), 0);
    ck_assert_uint_eq(ctl_msg_max_entries(CTL_MSG_N_TYPES), 0);

    ck_assert_uint_gt(CTL_PUBLISH_FWD_LEN + CTL_PUBLISH_ENTRY_LEN
                      * (CTL_PUBLISH_MAX_ENTRIES + 1), CTL_MSG_MAX_BODY);
    ck_assert_uint_gt(CTL_GOSSIP_LEN + CTL_GOSSIP_ENTRY_LEN
                      * (CTL_GOSSIP_MAX_ENTRIES + 1), CTL_MSG_MAX_BODY);
    ck_assert_uint_gt(CTL_LB_LIST_LEN + 4 * (CTL_LB_LIST_MAX_NODES + 1),
                      CTL_MSG_MAX_BODY);
    ck_assert_uint_gt(CTL_OWNER_LEN + CTL_OWNER_ENTRY_LEN
                      * (CTL_OWNER_MAX_ENTRIES + 1), CTL_MSG_MAX_BODY);
}
END_TEST

/* The length field disagrees with the datagram's size. */
START_TEST(test_length_lies)
{
    static const int deltas[] = { -37, -1, 1, 2, 1000, 65535 };
    struct ctl_msg m;
    struct ofpbuf buf;

    make_msg(&m, CTL_MSG_MAPPING, V_TYPICAL);
    encode_ok(&m, &buf);
    for (size_t i = 0; i < ARRAY_SIZE(deltas); i++) {
        uint8_t copy[CTL_MSG_MAX_LEN];

        memcpy(copy, buf.data, buf.size);
        resign_len(copy, buf.size, (uint16_t) (buf.size + deltas[i]));
        check_decode_error(copy, buf.size, CTL_MSG_ERR_LENGTH);
    }
    ofpbuf_uninit(&buf);
}
END_TEST

/* Offset of the entry count in the body of a list type. */
static size_t
count_offset(enum ctl_msg_type type)
{
    if (type == CTL_MSG_TRACKER_SYNC) {
        return 76;
    } else if (type == CTL_MSG_PUBLISH || type == CTL_MSG_OWNER) {
        return 4;
    } else if (type == CTL_MSG_PUBLISH_FWD || type == CTL_MSG_LB_LIST) {
        return 8;
    } else {
        ck_assert(type == CTL_MSG_GOSSIP || type == CTL_MSG_LOAD);
        return 0;
    }
}

/* An authenticated message whose entry count does not match its length, or
 * exceeds the bound while matching it, is rejected. */
START_TEST(test_count_lies)
{
    for (int t = 1; t < CTL_MSG_N_TYPES; t++) {
        size_t max = ctl_msg_max_entries(t);
        if (!max) {
            continue;
        }
        for (int v = 0; v < N_VARIANTS; v++) {
            const long int deltas[] = { -1, 1, 2, 65535 };
            struct ctl_msg m;
            struct ofpbuf buf;
            size_t ofs, n;

            make_msg(&m, t, v);
            encode_ok(&m, &buf);
            ofs = CTL_MSG_HEADER_LEN + count_offset(t);
            n = variant_count(v, max);
            for (size_t i = 0; i < ARRAY_SIZE(deltas); i++) {
                uint8_t copy[CTL_MSG_MAX_LEN];
                uint16_t lie = n + deltas[i];

                memcpy(copy, buf.data, buf.size);
                copy[ofs] = lie >> 8;
                copy[ofs + 1] = lie;
                resign(copy, buf.size);
                check_decode_error(copy, buf.size, CTL_MSG_ERR_COUNT);
            }
            ofpbuf_uninit(&buf);
        }
    }

    /* TRACKER_SYNC with 9 rejected servers: the count matches the body but
     * exceeds the bound. */
    struct ctl_msg m;
    struct ofpbuf buf;
    uint8_t copy[CTL_MSG_MAX_LEN];
    size_t len;

    make_msg(&m, CTL_MSG_TRACKER_SYNC, V_MAX);
    encode_ok(&m, &buf);
    len = buf.size + 4;
    memcpy(copy, buf.data, buf.size - CTL_MSG_MAC_LEN);
    memcpy(copy + buf.size - CTL_MSG_MAC_LEN, "\x01\x02\x03\x04", 4);
    copy[CTL_MSG_HEADER_LEN + 77] = CTL_TRACKER_MAX_REJECTED + 1;
    resign(copy, len);
    check_decode_error(copy, len, CTL_MSG_ERR_COUNT);

    /* The same with 8 decodes, so the test above tests the bound. */
    copy[CTL_MSG_HEADER_LEN + 77] = CTL_TRACKER_MAX_REJECTED;
    resign(copy, buf.size);
    check_decode_error(copy, buf.size, CTL_MSG_OK);
    ofpbuf_uninit(&buf);
}
END_TEST

/* Alters the byte at body offset 'ofs' of a fresh message of 'type' to
 * 'value', re-authenticates it and expects 'expected'. */
static void
check_body_byte(enum ctl_msg_type type, size_t ofs, uint8_t value,
                enum ctl_msg_error expected)
{
    uint8_t copy[CTL_MSG_MAX_LEN];
    struct ctl_msg m;
    struct ofpbuf buf;

    make_msg(&m, type, V_TYPICAL);
    encode_ok(&m, &buf);
    memcpy(copy, buf.data, buf.size);
    copy[CTL_MSG_HEADER_LEN + ofs] = value;
    resign(copy, buf.size);
    ck_assert_msg(decode(copy, buf.size, &m) == expected,
                  "%s body byte %zu = %#x: %s", ctl_msg_type_to_string(type),
                  ofs, value, ctl_msg_error_to_string(decode(copy, buf.size,
                                                              &m)));
    ofpbuf_uninit(&buf);
}

/* Out-of-range values in authenticated messages. */
START_TEST(test_bad_fields)
{
    /* CP: protocol, padding (in every type that carries a CP first). */
    check_body_byte(CTL_MSG_UNKNOWN, 36, 1, CTL_MSG_ERR_FIELD);
    check_body_byte(CTL_MSG_UNKNOWN, 36, IPPROTO_UDP, CTL_MSG_OK);
    for (size_t ofs = 37; ofs < 40; ofs++) {
        check_body_byte(CTL_MSG_ACCEPTED, ofs, 0x80, CTL_MSG_ERR_FIELD);
    }
    check_body_byte(CTL_MSG_OWNER, 6 + 41 + 36, 0, CTL_MSG_ERR_FIELD);
    check_body_byte(CTL_MSG_PUBLISH, 6 + 45 + 38, 1, CTL_MSG_ERR_FIELD);

    /* TCP options: flag bits; the client's window scale is carried as
     * received, the one the LB tier gave must be valid. */
    check_body_byte(CTL_MSG_SYN_INFO, 48 + 3, 0x40, CTL_MSG_ERR_FIELD);
    check_body_byte(CTL_MSG_SYN_INFO, 48 + 3, 0x80, CTL_MSG_ERR_FIELD);
    check_body_byte(CTL_MSG_SYN_INFO, 48 + 3, 0x3f, CTL_MSG_OK);
    check_body_byte(CTL_MSG_CONNECT, 53 + 3, 0xff, CTL_MSG_ERR_FIELD);
    check_body_byte(CTL_MSG_TRACKER_SYNC, 50 + 3, 0x41, CTL_MSG_ERR_FIELD);
    check_body_byte(CTL_MSG_SYN_INFO, 48 + 2, 255, CTL_MSG_OK);
    check_body_byte(CTL_MSG_CONN_REQ, 69, 15, CTL_MSG_ERR_FIELD);
    check_body_byte(CTL_MSG_CONN_REQ, 69, 14, CTL_MSG_OK);

    /* Enums and booleans. */
    check_body_byte(CTL_MSG_SYN_SYNC, 64, CTL_ISN_N_KINDS, CTL_MSG_ERR_FIELD);
    check_body_byte(CTL_MSG_ACK_INFO, 52, 0x04, CTL_MSG_ERR_FIELD);
    check_body_byte(CTL_MSG_REJECTED, 45, CTL_REJECT_N_REASONS,
                    CTL_MSG_ERR_FIELD);
    check_body_byte(CTL_MSG_REJECTED, 45, CTL_REJECT_N_REASONS - 1,
                    CTL_MSG_OK);
    check_body_byte(CTL_MSG_TRACKER_SYNC, 40, CTL_TRACKER_N_STATES,
                    CTL_MSG_ERR_FIELD);
    check_body_byte(CTL_MSG_TRACKER_SYNC, 41, CTL_ROLE_N_ROLES,
                    CTL_MSG_ERR_FIELD);
    check_body_byte(CTL_MSG_TRACKER_SYNC, 71, CTL_ISN_N_KINDS,
                    CTL_MSG_ERR_FIELD);
    check_body_byte(CTL_MSG_PUBLISH_FWD, 10 + 44, 0x02, CTL_MSG_ERR_FIELD);

    /* Node ids above CTL_NODE_MAX (the database's node_id bound, which the
     * cores' 16-bit node fields rely on): the ingress of a SYN_INFO, the
     * server of an ACCEPTED, the first rejected server of a TRACKER_SYNC,
     * a PUBLISH_FWD's origin and a gossip entry's node, each made 65536
     * by setting its third byte. */
    check_body_byte(CTL_MSG_SYN_INFO, 40 + 1, 1, CTL_MSG_ERR_FIELD);
    check_body_byte(CTL_MSG_SYN_INFO, 40 + 1, 0, CTL_MSG_OK);
    check_body_byte(CTL_MSG_ACCEPTED, 40 + 1, 0x80, CTL_MSG_ERR_FIELD);
    check_body_byte(CTL_MSG_TRACKER_SYNC, 78 + 1, 1, CTL_MSG_ERR_FIELD);
    check_body_byte(CTL_MSG_PUBLISH_FWD, 4 + 1, 1, CTL_MSG_ERR_FIELD);
    check_body_byte(CTL_MSG_GOSSIP, 2 + 1, 1, CTL_MSG_ERR_FIELD);
    check_body_byte(CTL_MSG_PING, 8, CTL_PATH_N_PATHS, CTL_MSG_ERR_FIELD);
    check_body_byte(CTL_MSG_PONG, 8, 0xff, CTL_MSG_ERR_FIELD);
    check_body_byte(CTL_MSG_PONG, 9, 2, CTL_MSG_ERR_FIELD);
    check_body_byte(CTL_MSG_GOSSIP, 2 + 13 + 4, CTL_NODE_N_KINDS,
                    CTL_MSG_ERR_FIELD);
    check_body_byte(CTL_MSG_OWNER, 6 + 41 + 40, 2, CTL_MSG_ERR_FIELD);

    /* LOAD: unknown flag bits; a port of 0 is refused, on the wire and by
     * the encoder. */
    check_body_byte(CTL_MSG_LOAD, 2 + 18, 0x04, CTL_MSG_ERR_FIELD);
    check_body_byte(CTL_MSG_LOAD, 2 + 18, CTL_LOAD_DOWN, CTL_MSG_OK);
    check_body_byte(CTL_MSG_LOAD, 2 + 18, CTL_LOAD_DOWN | CTL_LOAD_UDP,
                    CTL_MSG_OK);
    {
        struct ctl_msg m;
        struct ofpbuf buf;
        uint8_t *copy;

        make_msg(&m, CTL_MSG_LOAD, V_TYPICAL);
        m.load.entries[0].port = 1;
        encode_ok(&m, &buf);
        copy = xmemdup(buf.data, buf.size);
        copy[CTL_MSG_HEADER_LEN + 2 + 17] = 0;
        resign(copy, buf.size);
        ck_assert_int_eq(decode(copy, buf.size, &m), CTL_MSG_ERR_FIELD);
        free(copy);
        ofpbuf_uninit(&buf);

        make_msg(&m, CTL_MSG_LOAD, V_TYPICAL);
        m.load.entries[0].port = 0;
        ofpbuf_init(&buf, 0);
        ck_assert_int_ne(ctl_msg_encode(&m, &key, &buf), 0);
        ofpbuf_uninit(&buf);
    }
}
END_TEST

/* Alters header byte 'ofs' to 'value', re-authenticates, and expects
 * 'expected'. */
static void
check_header_byte(size_t ofs, uint8_t value, enum ctl_msg_error expected)
{
    uint8_t copy[CTL_MSG_MAX_LEN];
    struct ctl_msg m;
    struct ofpbuf buf;

    make_msg(&m, CTL_MSG_MAPPING_QUERY, V_TYPICAL);
    encode_ok(&m, &buf);
    memcpy(copy, buf.data, buf.size);
    copy[ofs] = value;
    resign(copy, buf.size);
    check_decode_error(copy, buf.size, expected);
    ofpbuf_uninit(&buf);
}

START_TEST(test_bad_header)
{
    check_header_byte(0, 'X', CTL_MSG_ERR_MAGIC);
    check_header_byte(3, 'C', CTL_MSG_ERR_MAGIC);
    check_header_byte(4, 0, CTL_MSG_ERR_VERSION);
    check_header_byte(4, 2, CTL_MSG_ERR_VERSION);
    check_header_byte(5, 0, CTL_MSG_ERR_TYPE);
    check_header_byte(5, CTL_MSG_N_TYPES, CTL_MSG_ERR_TYPE);
    check_header_byte(5, 0xff, CTL_MSG_ERR_TYPE);
    /* The same message re-signed decodes; another valid type with the
     * wrong body does not. */
    check_header_byte(5, CTL_MSG_MAPPING_QUERY, CTL_MSG_OK);
    check_header_byte(5, CTL_MSG_ACCEPTED, CTL_MSG_ERR_BODY_LEN);
    check_header_byte(5, CTL_MSG_UNKNOWN, CTL_MSG_ERR_BODY_LEN);

    /* Sender 0. */
    uint8_t copy[CTL_MSG_MAX_LEN];
    struct ctl_msg m;
    struct ofpbuf buf;

    make_msg(&m, CTL_MSG_ACCEPTED, V_TYPICAL);
    encode_ok(&m, &buf);
    memcpy(copy, buf.data, buf.size);
    memset(copy + 8, 0, 4);
    resign(copy, buf.size);
    check_decode_error(copy, buf.size, CTL_MSG_ERR_SENDER);

    /* Sender 65536, above CTL_NODE_MAX; 65535 is fine. */
    memcpy(copy + 8, "\x00\x01\x00\x00", 4);
    resign(copy, buf.size);
    check_decode_error(copy, buf.size, CTL_MSG_ERR_SENDER);
    memcpy(copy + 8, "\x00\x00\xff\xff", 4);
    resign(copy, buf.size);
    check_decode_error(copy, buf.size, CTL_MSG_OK);
    ofpbuf_uninit(&buf);
}
END_TEST

/* The encoder refuses what the decoder would reject, leaving the buffer as
 * it was. */
START_TEST(test_encode_invalid)
{
    struct ctl_msg m;
    struct ofpbuf buf;

    ofpbuf_init(&buf, 0);

    make_msg(&m, CTL_MSG_PING, V_TYPICAL);
    m.sender = CTL_NODE_NONE;
    ck_assert_int_eq(ctl_msg_encode(&m, &key, &buf), EINVAL);
    m.sender = CTL_NODE_MAX + 1;
    ck_assert_int_eq(ctl_msg_encode(&m, &key, &buf), EINVAL);

    make_msg(&m, CTL_MSG_CONNECT, V_TYPICAL);
    m.connect.server = CTL_NODE_MAX + 1;
    ck_assert_int_eq(ctl_msg_encode(&m, &key, &buf), EINVAL);

    make_msg(&m, CTL_MSG_PING, V_TYPICAL);
    m.type = 0;
    ck_assert_int_eq(ctl_msg_encode(&m, &key, &buf), EINVAL);
    m.type = CTL_MSG_N_TYPES;
    ck_assert_int_eq(ctl_msg_encode(&m, &key, &buf), EINVAL);

    make_msg(&m, CTL_MSG_PING, V_TYPICAL);
    m.ping.path = CTL_PATH_N_PATHS;
    ck_assert_int_eq(ctl_msg_encode(&m, &key, &buf), EINVAL);

    make_msg(&m, CTL_MSG_CONN_REQ, V_TYPICAL);
    m.conn_req.lb_wscale = 15;
    ck_assert_int_eq(ctl_msg_encode(&m, &key, &buf), EINVAL);

    make_msg(&m, CTL_MSG_SYN_INFO, V_TYPICAL);
    m.syn_info.cp.proto = 0;
    ck_assert_int_eq(ctl_msg_encode(&m, &key, &buf), EINVAL);

    make_msg(&m, CTL_MSG_SYN_INFO, V_TYPICAL);
    m.syn_info.cp.pad[1] = 1;
    ck_assert_int_eq(ctl_msg_encode(&m, &key, &buf), EINVAL);

    make_msg(&m, CTL_MSG_REJECTED, V_TYPICAL);
    m.rejected.reason = CTL_REJECT_N_REASONS;
    ck_assert_int_eq(ctl_msg_encode(&m, &key, &buf), EINVAL);

    make_msg(&m, CTL_MSG_PUBLISH, V_TYPICAL);
    m.publish.entries[2].flags = 0x40;
    ck_assert_int_eq(ctl_msg_encode(&m, &key, &buf), EINVAL);

    make_msg(&m, CTL_MSG_GOSSIP, V_MAX);
    m.gossip.entries[CTL_GOSSIP_MAX_ENTRIES - 1].kind = CTL_NODE_N_KINDS;
    ck_assert_int_eq(ctl_msg_encode(&m, &key, &buf), EINVAL);

    ck_assert_uint_eq(buf.size, 0);
    ofpbuf_uninit(&buf);
}
END_TEST

START_TEST(test_replay_window)
{
    struct ctl_replay *r = ctl_replay_create(16);
    struct ctl_stats stats;
    const uint64_t base = UINT64_C(1) << 40;

    memset(&stats, 0, sizeof stats);

    /* First message from a sender: any number. */
    ck_assert_int_eq(ctl_replay_check_and_update(r, 1, base, &stats),
                     CTL_MSG_OK);
    ck_assert_int_eq(ctl_replay_check_and_update(r, 1, base, &stats),
                     CTL_MSG_ERR_REPLAY);
    ck_assert_int_eq(ctl_replay_check_and_update(r, 1, base + 1, &stats),
                     CTL_MSG_OK);

    /* Jump ahead; the skipped ones are accepted once each, in any order. */
    ck_assert_int_eq(ctl_replay_check_and_update(r, 1, base + 10, &stats),
                     CTL_MSG_OK);
    for (uint64_t s = base + 9; s >= base + 2; s--) {
        ck_assert_int_eq(ctl_replay_check_and_update(r, 1, s, &stats),
                         CTL_MSG_OK);
    }
    for (uint64_t s = base; s <= base + 10; s++) {
        ck_assert_int_eq(ctl_replay_check_and_update(r, 1, s, &stats),
                         CTL_MSG_ERR_REPLAY);
    }

    /* The window: top - 63 is accepted, top - 64 is too old. */
    uint64_t top = base + 200;
    ck_assert_int_eq(ctl_replay_check_and_update(r, 1, top, &stats),
                     CTL_MSG_OK);
    ck_assert_int_eq(ctl_replay_check_and_update(r, 1, top - 63, &stats),
                     CTL_MSG_OK);
    ck_assert_int_eq(ctl_replay_check_and_update(r, 1, top - 64, &stats),
                     CTL_MSG_ERR_TOO_OLD);
    ck_assert_int_eq(ctl_replay_check_and_update(r, 1, base + 10, &stats),
                     CTL_MSG_ERR_TOO_OLD);
    ck_assert_int_eq(ctl_replay_check_and_update(r, 1, 0, &stats),
                     CTL_MSG_ERR_TOO_OLD);

    /* Sliding by less than the window keeps what was seen. */
    ck_assert_int_eq(ctl_replay_check_and_update(r, 1, top + 30, &stats),
                     CTL_MSG_OK);
    ck_assert_int_eq(ctl_replay_check_and_update(r, 1, top, &stats),
                     CTL_MSG_ERR_REPLAY);
    ck_assert_int_eq(ctl_replay_check_and_update(r, 1, top + 1, &stats),
                     CTL_MSG_OK);
    ck_assert_int_eq(ctl_replay_check_and_update(r, 1, top + 30 - 63,
                                                 &stats), CTL_MSG_OK);
    ck_assert_int_eq(ctl_replay_check_and_update(r, 1, top + 30 - 64,
                                                 &stats),
                     CTL_MSG_ERR_TOO_OLD);

    /* Sliding by exactly the window, and far beyond it. */
    top += 30;
    ck_assert_int_eq(ctl_replay_check_and_update(r, 1, top + 64, &stats),
                     CTL_MSG_OK);
    ck_assert_int_eq(ctl_replay_check_and_update(r, 1, top, &stats),
                     CTL_MSG_ERR_TOO_OLD);
    ck_assert_int_eq(ctl_replay_check_and_update(r, 1, top + 1, &stats),
                     CTL_MSG_OK);
    ck_assert_int_eq(ctl_replay_check_and_update(r, 1, UINT64_MAX, &stats),
                     CTL_MSG_OK);
    ck_assert_int_eq(ctl_replay_check_and_update(r, 1, UINT64_MAX, &stats),
                     CTL_MSG_ERR_REPLAY);
    ck_assert_int_eq(ctl_replay_check_and_update(r, 1, UINT64_MAX - 1,
                                                 &stats), CTL_MSG_OK);

    /* Senders are independent. */
    ck_assert_int_eq(ctl_replay_check_and_update(r, 2, 5, &stats),
                     CTL_MSG_OK);
    ck_assert_int_eq(ctl_replay_check_and_update(r, 2, 5, &stats),
                     CTL_MSG_ERR_REPLAY);
    ck_assert_uint_eq(ctl_replay_n_senders(r), 2);

    /* Forgetting a sender. */
    ctl_replay_forget(r, 2);
    ctl_replay_forget(r, 99);
    ck_assert_uint_eq(ctl_replay_n_senders(r), 1);
    ck_assert_int_eq(ctl_replay_check_and_update(r, 2, 5, &stats),
                     CTL_MSG_OK);

    ck_assert_uint_eq(stats.rx_error[CTL_MSG_ERR_REPLAY], 15);
    ck_assert_uint_eq(stats.rx_error[CTL_MSG_ERR_TOO_OLD], 5);
    ck_assert_uint_eq(stats.replay_evicted, 0);
    ctl_replay_destroy(r);
    ctl_replay_destroy(NULL);
}
END_TEST

/* Against a reference: a set of every number seen, over a long random walk
 * of nearby numbers. */
START_TEST(test_replay_reference)
{
    enum { SPAN = 1 << 18 };
    static bool seen[SPAN];
    struct ctl_replay *r = ctl_replay_create(1);
    uint64_t top = 0;
    bool first = true;
    int n_ok = 0, n_replay = 0, n_old = 0;

    memset(seen, 0, sizeof seen);
    for (int i = 0; i < 100000; i++) {
        int64_t back = (int64_t) (rnd64() % 100) - 20;
        uint64_t seq = back > (int64_t) top ? 0 : top - back;
        enum ctl_msg_error expected;

        ck_assert_uint_lt(seq, SPAN);
        if (first || seq > top) {
            expected = CTL_MSG_OK;
        } else if (top - seq >= CTL_REPLAY_WINDOW) {
            expected = CTL_MSG_ERR_TOO_OLD;
        } else {
            expected = seen[seq] ? CTL_MSG_ERR_REPLAY : CTL_MSG_OK;
        }
        ck_assert_int_eq(ctl_replay_check_and_update(r, 7, seq, NULL),
                         expected);
        if (expected == CTL_MSG_OK) {
            seen[seq] = true;
            top = first ? seq : MAX(top, seq);
            first = false;
        }
        n_ok += expected == CTL_MSG_OK;
        n_replay += expected == CTL_MSG_ERR_REPLAY;
        n_old += expected == CTL_MSG_ERR_TOO_OLD;
    }
    /* All three outcomes were exercised. */
    ck_assert_int_gt(n_ok, 10000);
    ck_assert_int_gt(n_replay, 10000);
    ck_assert_int_gt(n_old, 10000);
    ctl_replay_destroy(r);
}
END_TEST

/* The table holds at most 'max_senders'; the least recently accepted goes. */
START_TEST(test_replay_bound)
{
    struct ctl_replay *r = ctl_replay_create(4);
    struct ctl_stats stats;

    memset(&stats, 0, sizeof stats);
    for (uint32_t s = 1; s <= 4; s++) {
        ck_assert_int_eq(ctl_replay_check_and_update(r, s, 100, &stats),
                         CTL_MSG_OK);
    }
    /* Sender 1 is used again, so sender 2 is the oldest. */
    ck_assert_int_eq(ctl_replay_check_and_update(r, 1, 101, &stats),
                     CTL_MSG_OK);
    /* A rejected message does not refresh sender 3. */
    ck_assert_int_eq(ctl_replay_check_and_update(r, 2, 101, &stats),
                     CTL_MSG_OK);
    ck_assert_int_eq(ctl_replay_check_and_update(r, 3, 100, &stats),
                     CTL_MSG_ERR_REPLAY);

    ck_assert_int_eq(ctl_replay_check_and_update(r, 5, 100, &stats),
                     CTL_MSG_OK);
    ck_assert_uint_eq(ctl_replay_n_senders(r), 4);
    ck_assert_uint_eq(stats.replay_evicted, 1);

    /* Sender 3 was evicted, so its old number is new again; the others
     * still remember theirs. */
    ck_assert_int_eq(ctl_replay_check_and_update(r, 1, 101, &stats),
                     CTL_MSG_ERR_REPLAY);
    ck_assert_int_eq(ctl_replay_check_and_update(r, 2, 101, &stats),
                     CTL_MSG_ERR_REPLAY);
    ck_assert_int_eq(ctl_replay_check_and_update(r, 4, 100, &stats),
                     CTL_MSG_ERR_REPLAY);
    ck_assert_int_eq(ctl_replay_check_and_update(r, 5, 100, &stats),
                     CTL_MSG_ERR_REPLAY);
    ck_assert_int_eq(ctl_replay_check_and_update(r, 3, 100, &stats),
                     CTL_MSG_OK);
    ck_assert_uint_eq(stats.replay_evicted, 2);

    /* Many senders: the table stays bounded. */
    for (uint32_t s = 1000; s < 2000; s++) {
        ck_assert_int_eq(ctl_replay_check_and_update(r, s, 1, &stats),
                         CTL_MSG_OK);
    }
    ck_assert_uint_eq(ctl_replay_n_senders(r), 4);
    ck_assert_uint_eq(stats.replay_evicted, 1002);
    ctl_replay_destroy(r);
}
END_TEST

/* ctl_msg_receive(): decode, replay check and counters together. */
START_TEST(test_receive_and_stats)
{
    struct ctl_replay *r = ctl_replay_create(8);
    struct ctl_stats stats;
    struct ctl_msg m, out;
    struct ofpbuf a, b;

    memset(&stats, 0, sizeof stats);
    make_msg(&m, CTL_MSG_GOSSIP, V_TYPICAL);
    encode_ok(&m, &a);
    m.seq++;
    encode_ok(&m, &b);

    ck_assert_int_eq(ctl_msg_receive(b.data, b.size, &key, r, &out, &stats),
                     CTL_MSG_OK);
    ck_assert_int_eq(ctl_msg_receive(a.data, a.size, &key, r, &out, &stats),
                     CTL_MSG_OK);
    ck_assert_uint_eq(out.seq, m.seq - 1);
    ck_assert_int_eq(ctl_msg_receive(a.data, a.size, &key, r, &out, &stats),
                     CTL_MSG_ERR_REPLAY);
    ck_assert_int_eq(ctl_msg_receive(b.data, b.size - 1, &key, r, &out,
                                     &stats), CTL_MSG_ERR_LENGTH);
    ck_assert_int_eq(ctl_msg_receive(b.data, 3, &key, r, &out, &stats),
                     CTL_MSG_ERR_SHORT);
    ((uint8_t *) b.data)[30] ^= 1;
    ck_assert_int_eq(ctl_msg_receive(b.data, b.size, &key, r, &out, &stats),
                     CTL_MSG_ERR_MAC);

    ck_assert_uint_eq(stats.rx_ok[CTL_MSG_GOSSIP], 2);
    ck_assert_uint_eq(stats.rx_error[CTL_MSG_ERR_REPLAY], 1);
    ck_assert_uint_eq(stats.rx_error[CTL_MSG_ERR_LENGTH], 1);
    ck_assert_uint_eq(stats.rx_error[CTL_MSG_ERR_SHORT], 1);
    ck_assert_uint_eq(stats.rx_error[CTL_MSG_ERR_MAC], 1);
    ck_assert_uint_eq(stats.rx_error[CTL_MSG_OK], 0);
    ofpbuf_uninit(&a);
    ofpbuf_uninit(&b);
    ctl_replay_destroy(r);
}
END_TEST

/* Random datagrams and authenticated random mutations of valid ones never
 * crash the decoder, and whatever it accepts re-encodes to the same bytes. */
START_TEST(test_random_input)
{
    int accepted = 0;

    for (int i = 0; i < 20000; i++) {
        uint8_t data[CTL_MSG_MAX_LEN];
        struct ctl_msg m;
        struct ofpbuf buf;
        size_t len;

        if (i % 4 == 0) {
            len = rnd64() % sizeof data;
            for (size_t j = 0; j < len; j++) {
                data[j] = rnd64();
            }
        } else {
            make_msg(&m, 1 + rnd64() % (CTL_MSG_N_TYPES - 1),
                     rnd64() % N_VARIANTS);
            encode_ok(&m, &buf);
            len = buf.size;
            memcpy(data, buf.data, len);
            ofpbuf_uninit(&buf);
            for (int n = rnd64() % 3; n >= 0; n--) {
                size_t ofs = 8 + rnd64() % (len - 8 - CTL_MSG_MAC_LEN);
                data[ofs] = i % 4 == 1 ? data[ofs] ^ 1 : (uint8_t) rnd64();
            }
            resign(data, len);
        }

        if (decode(data, len, &m) == CTL_MSG_OK) {
            accepted++;
            encode_ok(&m, &buf);
            ck_assert_uint_eq(buf.size, len);
            ck_assert(!memcmp(buf.data, data, len));
            ofpbuf_uninit(&buf);
        }
    }
    /* Mutations that keep a message valid do happen. */
    ck_assert_int_gt(accepted, 1000);
}
END_TEST

START_TEST(test_strings)
{
    for (int t = 1; t < CTL_MSG_N_TYPES; t++) {
        const char *name = ctl_msg_type_to_string(t);
        ck_assert_str_ne(name, "<invalid>");
        for (int u = 1; u < t; u++) {
            ck_assert_str_ne(name, ctl_msg_type_to_string(u));
        }
    }
    ck_assert_str_eq(ctl_msg_type_to_string(CTL_MSG_PUBLISH_FWD),
                     "PUBLISH_FWD");
    ck_assert_str_eq(ctl_msg_type_to_string(0), "<invalid>");
    ck_assert_str_eq(ctl_msg_type_to_string(CTL_MSG_N_TYPES), "<invalid>");

    for (int e = 0; e < CTL_MSG_N_ERRORS; e++) {
        const char *s = ctl_msg_error_to_string(e);
        ck_assert_str_ne(s, "<invalid>");
        for (int f = 0; f < e; f++) {
            ck_assert_str_ne(s, ctl_msg_error_to_string(f));
        }
    }
    ck_assert_str_eq(ctl_msg_error_to_string(CTL_MSG_N_ERRORS), "<invalid>");

    for (int r = 0; r < CTL_REJECT_N_REASONS; r++) {
        ck_assert_str_ne(ctl_reject_reason_to_string(r), "<invalid>");
    }
    ck_assert_str_eq(ctl_reject_reason_to_string(CTL_REJECT_NOT_LISTENING),
                     "not-listening");
    ck_assert_str_eq(ctl_reject_reason_to_string(CTL_REJECT_N_REASONS),
                     "<invalid>");
    ck_assert_str_eq(ctl_ping_path_to_string(CTL_PATH_SOUTH), "south");
    ck_assert_str_eq(ctl_ping_path_to_string(CTL_PATH_N_PATHS), "<invalid>");
}
END_TEST

START_TEST(test_seq_base)
{
    const long long int now = 1700000000000LL;     /* Nov 2023, in ms. */

    ck_assert_uint_eq(ctl_seq_base(0), 0);
    ck_assert_uint_eq(ctl_seq_base(-5), 0);
    /* A restart one millisecond later starts above 2**20 - 1 messages
     * sent by the previous run. */
    ck_assert_uint_gt(ctl_seq_base(now + 1), ctl_seq_base(now) + 1048575);
    /* No overflow for centuries. */
    ck_assert_uint_gt(ctl_seq_base(now * 10), ctl_seq_base(now));
}
END_TEST

START_TEST(test_frame_len)
{
    struct ofpbuf buf;
    struct ctl_msg m;
    size_t len;

    ofpbuf_init(&buf, 0);
    ctl_msg_init(&m, CTL_MSG_PING, 7, 9);
    ck_assert_int_eq(ctl_msg_encode(&m, &key, &buf), 0);
    len = buf.size;

    /* Alone, or followed by anything: its own length. */
    ck_assert_uint_eq(ctl_msg_frame_len(buf.data, len), len);
    ofpbuf_put_zeros(&buf, 3);
    ck_assert_uint_eq(ctl_msg_frame_len(buf.data, buf.size), len);

    /* Cut short, or no room for a header and a MAC: none. */
    ck_assert_uint_eq(ctl_msg_frame_len(buf.data, len - 1), 0);
    ck_assert_uint_eq(ctl_msg_frame_len(buf.data, 0), 0);
    ck_assert_uint_eq(ctl_msg_frame_len(buf.data,
                                        CTL_MSG_HEADER_LEN), 0);

    /* A length field below header + MAC, a wrong magic or version. */
    uint8_t *p = buf.data;
    p[6] = 0;
    p[7] = CTL_MSG_HEADER_LEN + CTL_MSG_MAC_LEN - 1;
    ck_assert_uint_eq(ctl_msg_frame_len(buf.data, buf.size), 0);
    p[7] = CTL_MSG_HEADER_LEN + CTL_MSG_MAC_LEN;
    ck_assert_uint_eq(ctl_msg_frame_len(buf.data, buf.size),
                      CTL_MSG_HEADER_LEN + CTL_MSG_MAC_LEN);
    p[0] ^= 1;
    ck_assert_uint_eq(ctl_msg_frame_len(buf.data, buf.size), 0);
    p[0] ^= 1;
    p[4]++;
    ck_assert_uint_eq(ctl_msg_frame_len(buf.data, buf.size), 0);
    ofpbuf_uninit(&buf);
}
END_TEST

static Suite *
ctl_msg_suite(void)
{
    Suite *s = suite_create("ctl-msg");
    TCase *tc;

    tc = tcase_create("codec");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_encode_appends);
    tcase_add_test(tc, test_wire_layout);
    tcase_add_test(tc, test_wire_layout_lists);
    tcase_add_test(tc, test_wire_offsets);
    tcase_add_test(tc, test_format);
    tcase_add_test(tc, test_max_entries);
    tcase_add_test(tc, test_encode_invalid);
    tcase_add_test(tc, test_strings);
    tcase_add_test(tc, test_seq_base);
    suite_add_tcase(s, tc);

    tc = tcase_create("malformed");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_truncation);
    tcase_add_test(tc, test_body_length_authenticated);
    tcase_add_test(tc, test_bit_flips);
    tcase_add_test(tc, test_wrong_key);
    tcase_add_test(tc, test_decode_keys);
    tcase_add_test(tc, test_key_init);
    tcase_add_test(tc, test_mac_reference);
    tcase_add_test(tc, test_key_clone_destroy);
    tcase_add_test(tc, test_oversize);
    tcase_add_test(tc, test_length_lies);
    tcase_add_test(tc, test_count_lies);
    tcase_add_test(tc, test_bad_fields);
    tcase_add_test(tc, test_bad_header);
    tcase_add_test(tc, test_frame_len);
    tcase_add_test(tc, test_random_input);
    suite_add_tcase(s, tc);

    tc = tcase_create("replay");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_replay_window);
    tcase_add_test(tc, test_replay_reference);
    tcase_add_test(tc, test_replay_bound);
    tcase_add_test(tc, test_receive_and_stats);
    suite_add_tcase(s, tc);

    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(ctl_msg_suite());
    int n_failed;

    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
