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
 * Unit tests of ctl-sock over loopback UDP: queued messages go out in one
 * datagram per destination when flushed (and not before), in order, split
 * when they would not fit one datagram; ctl_sock_send() does not wait;
 * a received datagram is split into its messages, each authenticated and
 * replay-checked on its own, and a bad message or trailing garbage costs
 * only what follows an unreadable header, counted by reason.
 *
 * Key rotation: a receiver that holds a staged next key accepts both keys
 * while senders still sign with the current one; after a promotion that
 * only some nodes have applied, messages get through in both directions;
 * the replaced key is rejected once its grace period is over.  And for
 * every message type, forged, truncated, replayed and stale messages are
 * rejected and counted by reason, whichever key signed them.
 */
#include <config.h>
#include "ctl-sock.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "cluster-config.h"
#include "ctl-msg.h"
#include "flow-key.h"
#include "node-daemon.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofpbuf.h"
#include "packets.h"
#include "util.h"

#define TEST_KEY "ovslb unit-test cluster key 0123"
#define NEXT_KEY "ovslb unit-test cluster key, the next one"
#define OTHER_KEY "ovslb unit-test cluster key, a previous one"
#define STRANGER_KEY "a key that no node of the test holds"

static struct ctl_key key, next_key, other_key;
static struct in6_addr loopback;        /* ::ffff:127.0.0.1 */
static struct ctl_sock *a, *b;          /* Nodes 1 and 2. */
static uint16_t b_port;

/* Opens node 'self''s socket on the first free port from 'base'. */
static struct ctl_sock *
open_sock(uint32_t self, uint16_t base, uint16_t *portp)
{
    for (uint16_t port = base; port < base + 200; port++) {
        struct ctl_sock *sock;
        char *error = ctl_sock_open(&loopback, port, self, &sock);

        if (!error) {
            ck_assert_int_eq(ctl_sock_set_key(sock, &key), 0);
            *portp = port;
            return sock;
        }
        free(error);
    }
    ck_abort_msg("no free UDP port on loopback from %u", base);
    return NULL;
}

static void
setup(void)
{
    uint16_t a_port;

    ck_assert_int_eq(ctl_key_init(&key, TEST_KEY, strlen(TEST_KEY)), 0);
    ck_assert_int_eq(ctl_key_init(&next_key, NEXT_KEY, strlen(NEXT_KEY)), 0);
    ck_assert_int_eq(ctl_key_init(&other_key, OTHER_KEY, strlen(OTHER_KEY)),
                     0);
    in6_addr_set_mapped_ipv4(&loopback, htonl(INADDR_LOOPBACK));
    a = open_sock(1, 47100 + getpid() % 500 * 4, &a_port);
    b = open_sock(2, a_port + 1, &b_port);
}

static void
teardown(void)
{
    ctl_sock_close(a);
    ctl_sock_close(b);
    ctl_key_destroy(&key);
    ctl_key_destroy(&next_key);
    ctl_key_destroy(&other_key);
}

/* A MAPPING_QUERY for client port 'port', so that messages are told apart. */
static void
query_init(struct ctl_msg *msg, uint16_t port)
{
    ctl_msg_init(msg, CTL_MSG_MAPPING_QUERY, 0, 0);
    flow_key_init_v4(&msg->mapping_query.cp, htonl(0xc0000201), htons(port),
                     htonl(0xcb00710a), htons(80), IPPROTO_TCP);
    msg->mapping_query.ingress = 3;
}

/* Receives on 'sock', waiting up to a second for the first datagram. */
static bool
recv_on(struct ctl_sock *sock, struct ctl_msg *msg)
{
    for (int i = 0; i < 1000; i++) {
        if (ctl_sock_recv(sock, msg, NULL, NULL)) {
            return true;
        }
        usleep(1000);
    }
    return false;
}

/* Receives on 'b', waiting up to a second for the first datagram. */
static bool
recv_b(struct ctl_msg *msg)
{
    return recv_on(b, msg);
}

/* Receives nothing on 'b' within 50 ms. */
static void
assert_nothing(void)
{
    struct ctl_msg msg;

    usleep(50 * 1000);
    ck_assert(!ctl_sock_recv(b, &msg, NULL, NULL));
}

START_TEST(test_queue_waits_for_flush)
{
    const struct ctl_sock_stats *sa = ctl_sock_get_stats(a);
    const struct ctl_sock_stats *sb = ctl_sock_get_stats(b);
    struct ctl_msg msg;

    for (int i = 0; i < 3; i++) {
        query_init(&msg, 1000 + i);
        ck_assert_int_eq(ctl_sock_queue(a, &msg, &loopback, b_port), 0);
    }
    assert_nothing();
    ck_assert_uint_eq(sa->tx_datagrams, 0);

    ctl_sock_flush(a);
    ck_assert_uint_eq(sa->tx_datagrams, 1);
    ck_assert_uint_eq(sa->tx[CTL_MSG_MAPPING_QUERY], 3);

    uint64_t last_seq = 0;
    for (int i = 0; i < 3; i++) {
        ck_assert(recv_b(&msg));
        ck_assert_int_eq(msg.type, CTL_MSG_MAPPING_QUERY);
        ck_assert_uint_eq(msg.sender, 1);
        ck_assert_uint_eq(ntohs(msg.mapping_query.cp.client_port), 1000 + i);
        ck_assert_uint_gt(msg.seq, last_seq);
        last_seq = msg.seq;
    }
    assert_nothing();
    ck_assert_uint_eq(sb->rx_datagrams, 1);
    ck_assert_uint_eq(sb->rx.rx_ok[CTL_MSG_MAPPING_QUERY], 3);

    /* Flushing again sends nothing. */
    ctl_sock_flush(a);
    ck_assert_uint_eq(sa->tx_datagrams, 1);
}
END_TEST

START_TEST(test_send_does_not_wait)
{
    const struct ctl_sock_stats *sa = ctl_sock_get_stats(a);
    struct ctl_msg msg;

    query_init(&msg, 1);
    ck_assert_int_eq(ctl_sock_queue(a, &msg, &loopback, b_port), 0);
    query_init(&msg, 2);
    ck_assert_int_eq(ctl_sock_send(a, &msg, &loopback, b_port), 0);
    ck_assert(recv_b(&msg));
    ck_assert_uint_eq(ntohs(msg.mapping_query.cp.client_port), 2);
    assert_nothing();

    /* The queued one, sent later with a lower sequence number, is still
     * inside the replay window. */
    ctl_sock_flush(a);
    ck_assert(recv_b(&msg));
    ck_assert_uint_eq(ntohs(msg.mapping_query.cp.client_port), 1);
    ck_assert_uint_eq(sa->tx_datagrams, 2);
}
END_TEST

START_TEST(test_split_when_full)
{
    const struct ctl_sock_stats *sa = ctl_sock_get_stats(a);
    const size_t n = 200;
    struct ctl_msg msg;

    for (size_t i = 0; i < n; i++) {
        query_init(&msg, i);
        ck_assert_int_eq(ctl_sock_queue(a, &msg, &loopback, b_port), 0);
    }
    ctl_sock_flush(a);

    /* 80 bytes each (header 20, body 44, MAC 16): 17 fit 1,400 bytes. */
    ck_assert_uint_eq(sa->tx_datagrams, (n + 16) / 17);
    for (size_t i = 0; i < n; i++) {
        ck_assert(recv_b(&msg));
        ck_assert_uint_eq(ntohs(msg.mapping_query.cp.client_port), i);
    }
    assert_nothing();
}
END_TEST

/* Appends to 'out' the MAPPING_QUERY of client port 'port' from node 1 with
 * sequence number 'seq', as node 1's key holder would encode it. */
static void
append_query(struct ofpbuf *out, uint16_t port, uint64_t seq)
{
    struct ctl_msg msg;

    query_init(&msg, port);
    msg.sender = 1;
    msg.seq = seq;
    ck_assert_int_eq(ctl_msg_encode(&msg, &key, out), 0);
}

/* Sends the bytes of 'dg' to 'b' from a plain UDP socket. */
static void
send_raw(const struct ofpbuf *dg)
{
    struct sockaddr_in6 sin6 = {
        .sin6_family = AF_INET6,
        .sin6_addr = loopback,
        .sin6_port = htons(b_port),
    };
    int fd = socket(AF_INET6, SOCK_DGRAM, 0);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(sendto(fd, dg->data, dg->size, 0,
                            (struct sockaddr *) &sin6, sizeof sin6),
                     (ssize_t) dg->size);
    close(fd);
}

/* Receives from 'b' until nothing more comes, returning the client ports
 * of the accepted messages in order, as a string "p1 p2 ...". */
static char *
recv_ports(void)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct ctl_msg msg;

    if (recv_b(&msg)) {
        do {
            ds_put_format(&s, "%s%u", s.length ? " " : "",
                          ntohs(msg.mapping_query.cp.client_port));
        } while (ctl_sock_recv(b, &msg, NULL, NULL));
    }
    return ds_steal_cstr(&s);
}

/* Sends 'dg' to 'b' and checks which messages 'b' accepts from it. */
static void
send_and_expect(const struct ofpbuf *dg, const char *expected_ports)
{
    char *ports;

    send_raw(dg);
    ports = recv_ports();
    ck_assert_str_eq(ports, expected_ports);
    free(ports);
}

START_TEST(test_hostile_datagrams)
{
    const struct ctl_sock_stats *sb = ctl_sock_get_stats(b);
    struct ofpbuf dg;

    ofpbuf_init(&dg, 0);

    /* Two messages and trailing garbage: both taken, the garbage counted
     * as one short message. */
    append_query(&dg, 1, 100);
    append_query(&dg, 2, 101);
    ofpbuf_put_zeros(&dg, 10);
    send_and_expect(&dg, "1 2");
    ck_assert_uint_eq(sb->rx.rx_error[CTL_MSG_ERR_SHORT], 1);

    /* A message with a bad MAC between two good ones costs itself only. */
    ofpbuf_clear(&dg);
    append_query(&dg, 3, 102);
    append_query(&dg, 4, 103);
    ((uint8_t *) dg.data)[dg.size - 1] ^= 1;
    append_query(&dg, 5, 104);
    send_and_expect(&dg, "3 5");
    ck_assert_uint_eq(sb->rx.rx_error[CTL_MSG_ERR_MAC], 1);

    /* A length field beyond the datagram takes the rest with it. */
    ofpbuf_clear(&dg);
    append_query(&dg, 6, 105);
    size_t second = dg.size;
    append_query(&dg, 7, 106);
    append_query(&dg, 8, 107);
    ((uint8_t *) dg.data)[second + 6] = 0x7f;        /* length 0x7fxx */
    send_and_expect(&dg, "6");
    ck_assert_uint_eq(sb->rx.rx_error[CTL_MSG_ERR_LENGTH], 1);

    /* A message repeated in the same datagram is a replay. */
    ofpbuf_clear(&dg);
    append_query(&dg, 9, 108);
    append_query(&dg, 9, 108);
    send_and_expect(&dg, "9");
    ck_assert_uint_eq(sb->rx.rx_error[CTL_MSG_ERR_REPLAY], 1);

    /* An oversized datagram, even of valid messages, is one rejection. */
    ofpbuf_clear(&dg);
    for (int i = 0; i < 18; i++) {
        append_query(&dg, 10 + i, 109 + i);
    }
    ck_assert_uint_gt(dg.size, CTL_MSG_MAX_LEN);
    send_and_expect(&dg, "");
    ck_assert_uint_eq(sb->rx.rx_error[CTL_MSG_ERR_OVERSIZE], 1);
    ck_assert_uint_eq(sb->rx_datagrams, 5);

    ofpbuf_uninit(&dg);
}
END_TEST

/* Key rotation. */

/* Sends a MAPPING_QUERY for client 'port' from 'from' to 'to' (bound to
 * 'to_port') and returns true if 'to' accepts it, counting it in the slot
 * stats of 'to'. */
static bool
delivered(struct ctl_sock *from, struct ctl_sock *to, uint16_t to_port,
          uint16_t port)
{
    struct ctl_msg msg;

    query_init(&msg, port);
    ck_assert_int_eq(ctl_sock_send(from, &msg, &loopback, to_port), 0);
    if (!recv_on(to, &msg)) {
        return false;
    }
    ck_assert_uint_eq(ntohs(msg.mapping_query.cp.client_port), port);
    return true;
}

START_TEST(test_rotation)
{
    const struct ctl_sock_stats *sa = ctl_sock_get_stats(a);
    const struct ctl_sock_stats *sb = ctl_sock_get_stats(b);
    uint16_t a_port = ctl_sock_port(a);

    /* Stage on 'b' only: 'a' still signs with the current key, which 'b'
     * accepts as its current key. */
    ck_assert_int_eq(ctl_sock_set_keys(b, &key, &next_key), 0);
    ck_assert(ctl_sock_has_key_slot(b, CTL_KEY_NEXT));
    ck_assert(delivered(a, b, b_port, 1));
    ck_assert(delivered(b, a, a_port, 2));
    ck_assert_uint_eq(sb->rx.rx_key[CTL_KEY_CURRENT], 1);

    /* Staging the same keys again changes nothing. */
    uint64_t changes = sb->key_changes;
    ck_assert_int_eq(ctl_sock_set_keys(b, &key, &next_key), 0);
    ck_assert_uint_eq(sb->key_changes, changes);

    /* 'a' applies the stage and the promotion at once: it signs with the
     * new key, which 'b' accepts as its next key; 'b' still signs with the
     * old key, which 'a' accepts as its previous one. */
    ck_assert_int_eq(ctl_sock_set_keys(a, &next_key, NULL), 0);
    ck_assert(ctl_sock_has_key_slot(a, CTL_KEY_PREVIOUS));
    ck_assert(!ctl_sock_has_key_slot(a, CTL_KEY_NEXT));
    ck_assert(delivered(a, b, b_port, 3));
    ck_assert_uint_eq(sb->rx.rx_key[CTL_KEY_NEXT], 1);
    ck_assert(delivered(b, a, a_port, 4));
    ck_assert_uint_eq(sa->rx.rx_key[CTL_KEY_PREVIOUS], 1);

    /* 'b' promotes too: both sign and verify with the new key. */
    ck_assert_int_eq(ctl_sock_set_keys(b, &next_key, NULL), 0);
    ck_assert(delivered(a, b, b_port, 5));
    ck_assert(delivered(b, a, a_port, 6));
    ck_assert_uint_eq(sb->rx.rx_key[CTL_KEY_CURRENT], 2);
    ck_assert_uint_eq(sa->rx.rx_key[CTL_KEY_CURRENT], 2);
    ck_assert_uint_eq(sb->rx.rx_error[CTL_MSG_ERR_MAC], 0);
    ck_assert_uint_eq(sa->rx.rx_error[CTL_MSG_ERR_MAC], 0);

    /* The stats name the keys by fingerprint, never by value. */
    struct ds out = DS_EMPTY_INITIALIZER;
    char fp[9];

    ctl_sock_format_stats(b, &out);
    snprintf(fp, sizeof fp, "%08"PRIx32, ctl_key_fingerprint(&next_key));
    ck_assert_ptr_nonnull(strstr(ds_cstr(&out), fp));
    ck_assert_ptr_nonnull(strstr(ds_cstr(&out), "grace left"));
    ck_assert_ptr_null(strstr(ds_cstr(&out), NEXT_KEY));
    ds_destroy(&out);
}
END_TEST

/* A node that never staged the new key rejects what it signs: the reason
 * rotation takes two steps. */
START_TEST(test_unstaged_key_rejected)
{
    const struct ctl_sock_stats *sb = ctl_sock_get_stats(b);

    ck_assert_int_eq(ctl_sock_set_keys(a, &next_key, NULL), 0);
    ck_assert(!delivered(a, b, b_port, 1));
    ck_assert_uint_eq(sb->rx.rx_error[CTL_MSG_ERR_MAC], 1);
}
END_TEST

START_TEST(test_previous_key_expires)
{
    const struct ctl_sock_stats *sb = ctl_sock_get_stats(b);

    ctl_sock_set_key_grace(b, 100);
    ck_assert_int_eq(ctl_sock_set_keys(b, &next_key, NULL), 0);
    ck_assert(delivered(a, b, b_port, 1));
    ck_assert_uint_eq(sb->rx.rx_key[CTL_KEY_PREVIOUS], 1);

    /* Setting the same keys again does not extend the grace period. */
    usleep(60 * 1000);
    ck_assert_int_eq(ctl_sock_set_keys(b, &next_key, NULL), 0);
    usleep(60 * 1000);
    ck_assert(!delivered(a, b, b_port, 2));
    ck_assert_uint_eq(sb->rx.rx_error[CTL_MSG_ERR_MAC], 1);
    ck_assert_uint_eq(sb->keys_expired, 1);
    ck_assert(!ctl_sock_has_key_slot(b, CTL_KEY_PREVIOUS));

    /* The new key still works. */
    ck_assert_int_eq(ctl_sock_set_keys(a, &next_key, NULL), 0);
    ck_assert(delivered(a, b, b_port, 3));
}
END_TEST

/* The cluster setting key_grace_ms reaches the socket with the keys
 * (node_daemon_set_sock_keys()): a promotion with a short grace stops
 * accepting the old key after it, one with the default does not.  (The test
 * uses 100 ms, below the setting's range, to stay short.) */
START_TEST(test_key_grace_setting)
{
    const struct ctl_sock_stats *sb = ctl_sock_get_stats(b);
    struct cluster_settings cs;

    cluster_settings_init(&cs);
    free(cs.cluster_key);
    cs.cluster_key = xstrdup(NEXT_KEY);
    ck_assert_uint_eq(cs.key_grace_ms, CTL_SOCK_KEY_GRACE_MS);

    /* The default: the old key still works 150 ms after the promotion. */
    ck_assert_ptr_null(node_daemon_set_sock_keys(b, &cs));
    usleep(150 * 1000);
    ck_assert(delivered(a, b, b_port, 1));
    ck_assert_uint_eq(sb->rx.rx_key[CTL_KEY_PREVIOUS], 1);

    /* Back to the old key, then promoted again with 100 ms of grace. */
    free(cs.cluster_key);
    cs.cluster_key = xstrdup(TEST_KEY);
    ck_assert_ptr_null(node_daemon_set_sock_keys(b, &cs));
    free(cs.cluster_key);
    cs.cluster_key = xstrdup(NEXT_KEY);
    cs.key_grace_ms = 100;
    ck_assert_ptr_null(node_daemon_set_sock_keys(b, &cs));
    usleep(150 * 1000);
    ck_assert(!delivered(a, b, b_port, 2));
    ck_assert_uint_ge(sb->keys_expired, 1);
    cluster_settings_destroy(&cs);
}
END_TEST

/* Hostile messages of every type. */

/* A valid message of 'type' from node 1 with sequence number 'seq'. */
static void
valid_msg(struct ctl_msg *msg, enum ctl_msg_type type, uint64_t seq)
{
    struct flow_key cp;

    flow_key_init_v4(&cp, htonl(0xc0000201), htons(4242),
                     htonl(0xcb00710a), htons(80), IPPROTO_TCP);
    ctl_msg_init(msg, type, 1, seq);
    if (type == CTL_MSG_OWNER) {
        msg->owner.server = 7;
        msg->owner.n = 1;
        msg->owner.entries[0].cp = cp;
        msg->owner.entries[0].opened = true;
    } else if (type == CTL_MSG_PUBLISH || type == CTL_MSG_PUBLISH_FWD) {
        msg->publish.server = 7;
        msg->publish.n = 1;
        msg->publish.entries[0].cp = cp;
    } else if (type != CTL_MSG_PING && type != CTL_MSG_PONG
               && type != CTL_MSG_GOSSIP && type != CTL_MSG_LB_LIST) {
        /* Every other body starts with the CP; zeros fit the rest. */
        msg->unknown.cp = cp;
    }
}

/* Encodes into 'out' (cleared first) a valid message of 'type' from node 1
 * with sequence number 'seq', signed with 'k'. */
static void
encode_valid(struct ofpbuf *out, enum ctl_msg_type type, uint64_t seq,
             const struct ctl_key *k)
{
    struct ctl_msg msg;

    valid_msg(&msg, type, seq);
    ofpbuf_clear(out);
    ck_assert_msg(!ctl_msg_encode(&msg, k, out), "cannot encode %s",
                  ctl_msg_type_to_string(type));
}

/* Appends to 'dg' the MAC of its bytes under 'k', computed with libcrypto
 * directly, as a holder of 'k' could. */
static void
resign(struct ofpbuf *dg, const struct ctl_key *k)
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int md_len;

    ck_assert_ptr_nonnull(HMAC(EVP_sha256(), k->bytes, k->len, dg->data,
                               dg->size, md, &md_len));
    ofpbuf_put(dg, md, CTL_MSG_MAC_LEN);
}

/* Sends 'dg' to 'b', then a valid marker message with sequence number
 * 'marker_seq', and checks what 'b' accepts: 'dg''s message of 'type' (if
 * 'accepted'), then the marker, and nothing else.  Since loopback keeps
 * datagrams in order, the marker shows that 'dg' was dealt with. */
static void
send_expecting(const struct ofpbuf *dg, enum ctl_msg_type type,
               bool accepted, uint64_t marker_seq)
{
    struct ofpbuf marker;
    struct ctl_msg msg;

    ofpbuf_init(&marker, 0);
    append_query(&marker, 65535, marker_seq);
    send_raw(dg);
    send_raw(&marker);
    if (accepted) {
        ck_assert(recv_b(&msg));
        ck_assert_msg(msg.type == type, "%s: got %s instead",
                      ctl_msg_type_to_string(type),
                      ctl_msg_type_to_string(msg.type));
    }
    ck_assert(recv_b(&msg));
    ck_assert_msg(msg.type == CTL_MSG_MAPPING_QUERY
                  && ntohs(msg.mapping_query.cp.client_port) == 65535,
                  "%s: hostile message accepted",
                  ctl_msg_type_to_string(type));
    ofpbuf_uninit(&marker);
}

/* Checks that 'b''s rejection counters equal 'expected'. */
static void
check_rejections(const uint64_t expected[CTL_MSG_N_ERRORS],
                 enum ctl_msg_type type)
{
    const struct ctl_sock_stats *sb = ctl_sock_get_stats(b);

    for (int e = 1; e < CTL_MSG_N_ERRORS; e++) {
        ck_assert_msg(sb->rx.rx_error[e] == expected[e],
                      "%s: %"PRIu64" rejected for \"%s\", expected %"PRIu64,
                      ctl_msg_type_to_string(type), sb->rx.rx_error[e],
                      ctl_msg_error_to_string(e), expected[e]);
    }
}

START_TEST(test_hostile_every_type)
{
    const struct ctl_sock_stats *sb = ctl_sock_get_stats(b);
    uint64_t expected[CTL_MSG_N_ERRORS] = { 0 };
    uint64_t seq = 1000;
    struct ofpbuf dg;

    /* 'b' in mid-rotation: previous key 'other_key', current 'key', next
     * 'next_key'.  A message signed with any of them must pass the same
     * checks. */
    ctl_sock_set_key_grace(b, 600 * 1000);
    ck_assert_int_eq(ctl_sock_set_keys(b, &other_key, NULL), 0);
    ck_assert_int_eq(ctl_sock_set_keys(b, &key, &next_key), 0);
    const struct ctl_key *signers[] = { &key, &next_key, &other_key };
    struct ctl_key stranger;

    ck_assert_int_eq(ctl_key_init(&stranger, STRANGER_KEY,
                                  strlen(STRANGER_KEY)), 0);

    ofpbuf_init(&dg, 0);
    for (int t = 1; t < CTL_MSG_N_TYPES; t++) {
        const struct ctl_key *k = signers[t % ARRAY_SIZE(signers)];
        size_t size;

        /* Valid, then replayed. */
        encode_valid(&dg, t, seq++, k);
        send_expecting(&dg, t, true, seq++);
        send_expecting(&dg, t, false, seq++);
        expected[CTL_MSG_ERR_REPLAY]++;
        check_rejections(expected, t);

        /* Forged: signed with a key 'b' does not hold; a valid one altered
         * in its header, its body or its MAC. */
        encode_valid(&dg, t, seq++, &stranger);
        send_expecting(&dg, t, false, seq++);
        expected[CTL_MSG_ERR_MAC]++;
        encode_valid(&dg, t, seq++, k);
        size = dg.size;
        for (size_t ofs = 8; ofs < size; ofs += (size - 8) / 3) {
            ((uint8_t *) dg.data)[ofs] ^= 0x40;
            send_expecting(&dg, t, false, seq++);
            ((uint8_t *) dg.data)[ofs] ^= 0x40;
            expected[CTL_MSG_ERR_MAC]++;
        }
        check_rejections(expected, t);

        /* Truncated: shorter than a header and MAC, or than the length
         * its header gives. */
        const size_t cuts[] = { 1, CTL_MSG_HEADER_LEN,
                                CTL_MSG_HEADER_LEN + CTL_MSG_MAC_LEN - 1,
                                CTL_MSG_HEADER_LEN + CTL_MSG_MAC_LEN,
                                size - CTL_MSG_MAC_LEN, size - 1 };
        for (size_t i = 0; i < ARRAY_SIZE(cuts); i++) {
            size_t len = cuts[i];

            if (len >= size) {
                continue;
            }
            dg.size = len;
            send_expecting(&dg, t, false, seq++);
            expected[len < CTL_MSG_HEADER_LEN + CTL_MSG_MAC_LEN
                     ? CTL_MSG_ERR_SHORT : CTL_MSG_ERR_LENGTH]++;
            dg.size = size;
        }
        check_rejections(expected, t);

        /* The untouched message is still accepted: nothing above used up
         * its sequence number. */
        send_expecting(&dg, t, true, seq++);

        /* Stale: a valid message of a sequence number never seen but below
         * the window. */
        uint64_t old_seq = seq++;
        seq += CTL_REPLAY_WINDOW;
        encode_valid(&dg, t, seq++, k);
        send_expecting(&dg, t, true, seq++);
        encode_valid(&dg, t, old_seq, k);
        send_expecting(&dg, t, false, seq++);
        expected[CTL_MSG_ERR_TOO_OLD]++;
        check_rejections(expected, t);
    }

    /* An unknown type, correctly signed, is rejected as such. */
    const uint8_t bad_types[] = { 0, CTL_MSG_N_TYPES, 255 };
    for (size_t i = 0; i < ARRAY_SIZE(bad_types); i++) {
        struct ctl_msg msg;

        query_init(&msg, 1);
        msg.sender = 1;
        msg.seq = seq++;
        ofpbuf_clear(&dg);
        ck_assert_int_eq(ctl_msg_encode(&msg, &next_key, &dg), 0);
        /* Re-sign with the changed type byte, as a key holder could. */
        ((uint8_t *) dg.data)[5] = bad_types[i];
        dg.size -= CTL_MSG_MAC_LEN;
        resign(&dg, &next_key);
        send_expecting(&dg, CTL_MSG_MAPPING_QUERY, false, seq++);
        expected[CTL_MSG_ERR_TYPE]++;
    }
    check_rejections(expected, CTL_MSG_MAPPING_QUERY);
    ck_assert_uint_gt(sb->rx.rx_key[CTL_KEY_NEXT], 0);
    ck_assert_uint_gt(sb->rx.rx_key[CTL_KEY_PREVIOUS], 0);
    ofpbuf_uninit(&dg);
    ctl_key_destroy(&stranger);
}
END_TEST

static Suite *
ctl_sock_suite(void)
{
    Suite *s = suite_create("ctl-sock");
    TCase *tc = tcase_create("batching");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_queue_waits_for_flush);
    tcase_add_test(tc, test_send_does_not_wait);
    tcase_add_test(tc, test_split_when_full);
    tcase_add_test(tc, test_hostile_datagrams);
    suite_add_tcase(s, tc);

    tc = tcase_create("keys");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_rotation);
    tcase_add_test(tc, test_unstaged_key_rejected);
    tcase_add_test(tc, test_previous_key_expires);
    tcase_add_test(tc, test_key_grace_setting);
    tcase_add_test(tc, test_hostile_every_type);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(ctl_sock_suite());
    int n_failed;

    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
