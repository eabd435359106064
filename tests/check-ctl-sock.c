/*
 * Unit tests of ctl-sock over loopback UDP: queued messages go out in one
 * datagram per destination when flushed (and not before), in order, split
 * when they would not fit one datagram; ctl_sock_send() does not wait;
 * a received datagram is split into its messages, each authenticated and
 * replay-checked on its own, and a bad message or trailing garbage costs
 * only what follows an unreadable header, counted by reason.
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
#include "ctl-msg.h"
#include "flow-key.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofpbuf.h"
#include "packets.h"
#include "util.h"

#define TEST_KEY "ovslb unit-test cluster key 0123"

static struct ctl_key key;
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

/* Receives on 'b', waiting up to a second for the first datagram. */
static bool
recv_b(struct ctl_msg *msg)
{
    for (int i = 0; i < 1000; i++) {
        if (ctl_sock_recv(b, msg, NULL, NULL)) {
            return true;
        }
        usleep(1000);
    }
    return false;
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
