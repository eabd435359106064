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

#include <config.h>
#include "ctl-sock.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coverage.h"
#include "metrics.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "socket-util.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ctl_sock);

COVERAGE_DEFINE(ctl_sock_rx_rejected);
COVERAGE_DEFINE(ctl_sock_tx);
COVERAGE_DEFINE(ctl_sock_tx_error);

/* Most messages one datagram can carry: each has a header and a MAC. */
#define CTL_SOCK_MAX_BATCH \
    (CTL_MSG_MAX_LEN / (CTL_MSG_HEADER_LEN + CTL_MSG_MAC_LEN))

/* Destinations with queued messages at a time; one more flushes them. */
#define CTL_SOCK_MAX_OUTBOXES 64

/* Messages queued for one destination, encoded back to back. */
struct ctl_outbox {
    struct in6_addr dst;
    uint16_t port;
    size_t n;                           /* Messages in 'data'. */
    size_t len;                         /* Bytes in 'data'. */
    uint8_t types[CTL_SOCK_MAX_BATCH];  /* Their types, for the counters. */
    uint8_t data[CTL_MSG_MAX_LEN];
};

struct ctl_sock {
    int fd;
    uint32_t self;              /* Our node id: the sender of what we send. */
    struct in6_addr addr;       /* Bound to this address... */
    uint16_t port;              /* ...and port. */
    uint64_t next_seq;
    struct ctl_key keys[CTL_KEY_N_SLOTS];   /* Our own copies; a slot
                                             * whose 'state' is null holds
                                             * no key. */
    long long int previous_expiry;  /* keys[CTL_KEY_PREVIOUS] dropped then. */
    long long int key_grace_ms;     /* Previous key's life. */
    struct ctl_replay *replay;
    struct ctl_sock_stats stats;
    struct ofpbuf buf;          /* Encoding buffer, reused. */

    /* Queued messages (ctl_sock_queue()), by destination. */
    struct ctl_outbox *outboxes;        /* CTL_SOCK_MAX_OUTBOXES, or NULL. */
    size_t n_outboxes;

    /* The datagram being received: its messages from 'rx_off' on are still
     * to be handed out by ctl_sock_recv(). */
    uint8_t rx_data[CTL_MSG_MAX_LEN + 1];
    size_t rx_len;
    size_t rx_off;
    struct sockaddr_in6 rx_src;
};

static void
in6_to_sockaddr(const struct in6_addr *addr, uint16_t port,
                struct sockaddr_in6 *sin6)
{
    memset(sin6, 0, sizeof *sin6);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_addr = *addr;
    sin6->sin6_port = htons(port);
}

/* Opens a control socket for node 'self' bound to 'addr' (IPv4 as
 * v4-mapped; in6addr_any for every address) and 'port', storing it in
 * '*sockp'.  Returns NULL, or an error message that the caller must free. */
char *
ctl_sock_open(const struct in6_addr *addr, uint16_t port, uint32_t self,
              struct ctl_sock **sockp)
{
    struct sockaddr_in6 sin6;
    int off = 0;
    int fd;

    *sockp = NULL;
    if (self == CTL_NODE_NONE) {
        return xstrdup("control socket: node id 0 is not valid");
    }
    fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return xasprintf("control socket: socket: %s", ovs_strerror(errno));
    }
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) < 0) {
        int error = errno;
        close(fd);
        return xasprintf("control socket: IPV6_V6ONLY: %s",
                         ovs_strerror(error));
    }
    in6_to_sockaddr(addr, port, &sin6);
    if (bind(fd, (struct sockaddr *) &sin6, sizeof sin6) < 0) {
        int error = errno;
        char s[INET6_ADDRSTRLEN];

        close(fd);
        ipv6_string_mapped(s, addr);
        return xasprintf("control socket: bind to [%s]:%u: %s", s, port,
                         ovs_strerror(error));
    }

    struct ctl_sock *sock = xzalloc(sizeof *sock);
    sock->fd = fd;
    sock->self = self;
    sock->addr = *addr;
    sock->port = port;
    sock->next_seq = ctl_seq_base(time_wall_msec());
    sock->replay = ctl_replay_create(CTL_SOCK_MAX_SENDERS);
    sock->key_grace_ms = CTL_SOCK_KEY_GRACE_MS;
    ofpbuf_init(&sock->buf, CTL_MSG_MAX_LEN);
    *sockp = sock;
    return NULL;
}

/* Closes 'sock'.  A null 'sock' is a no-op. */
void
ctl_sock_close(struct ctl_sock *sock)
{
    if (sock) {
        ctl_sock_flush(sock);
        free(sock->outboxes);
        close(sock->fd);
        ctl_replay_destroy(sock->replay);
        for (int slot = 0; slot < CTL_KEY_N_SLOTS; slot++) {
            ctl_key_destroy(&sock->keys[slot]);
        }
        ofpbuf_uninit(&sock->buf);
        free(sock);
    }
}

/* Sets the only cluster key with which 'sock' authenticates what it sends
 * and receives to a copy of 'key' (the caller keeps 'key' and destroys it as
 * usual): ctl_sock_set_keys() with no next key.  Until a key is set nothing
 * is sent or accepted.
 *
 * Returns 0, or a positive errno if 'key' cannot be copied (see
 * ctl_key_clone()); 'sock' then has no key at all, rather than the previous
 * one. */
int
ctl_sock_set_key(struct ctl_sock *sock, const struct ctl_key *key)
{
    return ctl_sock_set_keys(sock, key, NULL);
}

static bool
slot_is_set(const struct ctl_sock *sock, enum ctl_key_slot slot)
{
    return sock->keys[slot].state != NULL;
}

/* Drops 'sock''s previous key if its grace period is over. */
static void
expire_previous_key(struct ctl_sock *sock)
{
    if (slot_is_set(sock, CTL_KEY_PREVIOUS)
        && time_msec() >= sock->previous_expiry) {
        ctl_key_destroy(&sock->keys[CTL_KEY_PREVIOUS]);
        sock->stats.keys_expired++;
        VLOG_INFO("port %u: previous cluster key dropped after its grace "
                  "period", sock->port);
    }
}

/* Sets the keys of 'sock' to copies of 'current', with which it signs what
 * it sends and verifies what it receives, and of 'next' (null if none),
 * which it accepts but does not sign with.  The caller keeps both.
 *
 * If 'current' differs from the key 'sock' signed with so far, that key
 * becomes the previous key, still accepted for the grace period (see
 * ctl_sock_set_key_grace()); an older previous key is dropped.  Calling
 * again with the same keys changes nothing, so the caller may pass the
 * configuration's keys each time it changes.
 *
 * Returns 0, or a positive errno if a key cannot be copied (see
 * ctl_key_clone()); 'sock' then has no key at all, rather than old ones. */
int
ctl_sock_set_keys(struct ctl_sock *sock, const struct ctl_key *current,
                  const struct ctl_key *next)
{
    struct ctl_key *held = sock->keys;
    struct ctl_key keys[CTL_KEY_N_SLOTS];
    long long int previous_expiry = sock->previous_expiry;
    bool changed;
    int error;

    memset(keys, 0, sizeof keys);
    expire_previous_key(sock);
    error = ctl_key_clone(&keys[CTL_KEY_CURRENT], current);
    if (!error && next && !ctl_key_equals(next, current)) {
        error = ctl_key_clone(&keys[CTL_KEY_NEXT], next);
    }
    if (!error && slot_is_set(sock, CTL_KEY_CURRENT)
        && !ctl_key_equals(&held[CTL_KEY_CURRENT], current)) {
        /* A promotion (or any change of the current key). */
        error = ctl_key_clone(&keys[CTL_KEY_PREVIOUS], &held[CTL_KEY_CURRENT]);
        previous_expiry = time_msec() + sock->key_grace_ms;
    } else if (!error && slot_is_set(sock, CTL_KEY_PREVIOUS)
               && !ctl_key_equals(&held[CTL_KEY_PREVIOUS], current)) {
        /* Still in the grace period of an earlier promotion. */
        error = ctl_key_clone(&keys[CTL_KEY_PREVIOUS],
                              &held[CTL_KEY_PREVIOUS]);
    }

    changed = false;
    for (int slot = 0; slot < CTL_KEY_N_SLOTS; slot++) {
        if (error) {
            ctl_key_destroy(&keys[slot]);
        }
        changed = changed || !ctl_key_equals(&held[slot], &keys[slot]);
        ctl_key_destroy(&held[slot]);
        held[slot] = keys[slot];    /* Moved, not copied: 'keys' dies. */
    }
    sock->previous_expiry = previous_expiry;
    if (changed) {
        sock->stats.key_changes++;
    }
    return error;
}

/* Sets to 'msec' milliseconds how long 'sock' still accepts the key that a
 * promotion replaced (CTL_SOCK_KEY_GRACE_MS unless set).  Applies from the
 * next promotion on. */
void
ctl_sock_set_key_grace(struct ctl_sock *sock, long long int msec)
{
    sock->key_grace_ms = MAX(msec, 0);
}

/* Returns true if 'sock' has a cluster key to sign with. */
bool
ctl_sock_has_key(const struct ctl_sock *sock)
{
    return slot_is_set(sock, CTL_KEY_CURRENT);
}

/* Returns true if 'sock' holds a key in 'slot'.  A previous key whose grace
 * period is over counts until 'sock' next receives or changes keys. */
bool
ctl_sock_has_key_slot(const struct ctl_sock *sock, enum ctl_key_slot slot)
{
    return slot < CTL_KEY_N_SLOTS && slot_is_set(sock, slot);
}

/* Gives 'msg' (whose type and body the caller filled in) 'sock''s sender id
 * and next sequence number and encodes it into 'sock->buf'.  Returns 0 or a
 * positive errno (counted). */
static int
encode_msg(struct ctl_sock *sock, struct ctl_msg *msg)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    int error;

    if (!ctl_sock_has_key(sock)) {
        sock->stats.no_key++;
        return ENOKEY;
    }
    msg->sender = sock->self;
    msg->seq = sock->next_seq++;
    ofpbuf_clear(&sock->buf);
    error = ctl_msg_encode(msg, &sock->keys[CTL_KEY_CURRENT], &sock->buf);
    if (error) {
        VLOG_WARN_RL(&rl, "cannot encode %s: %s",
                     ctl_msg_type_to_string(msg->type), ovs_strerror(error));
        sock->stats.tx_errors++;
    }
    return error;
}

/* Sends the 'len' bytes at 'data', 'n' messages whose types are in
 * 'types', in one datagram to 'dst':'port', and counts them.  Returns 0 or
 * a positive errno; failures are counted and logged (rate-limited), never
 * fatal: the protocol repairs lost messages through the client's
 * retransmissions. */
static int
send_datagram(struct ctl_sock *sock, const void *data, size_t len,
              const uint8_t types[], size_t n,
              const struct in6_addr *dst, uint16_t port)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    struct sockaddr_in6 sin6;

    in6_to_sockaddr(dst, port, &sin6);
    if (sendto(sock->fd, data, len, 0,
               (struct sockaddr *) &sin6, sizeof sin6) < 0) {
        char s[INET6_ADDRSTRLEN];
        int error = errno;

        ipv6_string_mapped(s, dst);
        VLOG_WARN_RL(&rl, "send %s%s to [%s]:%u: %s",
                     ctl_msg_type_to_string(types[0]),
                     n > 1 ? " and more" : "", s, port, ovs_strerror(error));
        sock->stats.tx_errors += n;
        COVERAGE_INC(ctl_sock_tx_error);
        return error;
    }
    for (size_t i = 0; i < n; i++) {
        sock->stats.tx[types[i]]++;
    }
    sock->stats.tx_datagrams++;
    COVERAGE_ADD(ctl_sock_tx, n);
    return 0;
}

/* Sends 'msg' (whose type and body the caller filled in) to 'dst':'port' at
 * once, in a datagram of its own.  Sets 'msg''s sender and sequence number.
 * Returns 0 or a positive errno (see send_datagram()). */
int
ctl_sock_send(struct ctl_sock *sock, struct ctl_msg *msg,
              const struct in6_addr *dst, uint16_t port)
{
    int error = encode_msg(sock, msg);
    if (!error) {
        uint8_t type = msg->type;

        error = send_datagram(sock, sock->buf.data, sock->buf.size,
                              &type, 1, dst, port);
    }
    return error;
}

/* Sends the messages queued in 'ob' and empties it. */
static void
flush_outbox(struct ctl_sock *sock, struct ctl_outbox *ob)
{
    if (ob->n) {
        send_datagram(sock, ob->data, ob->len, ob->types, ob->n,
                      &ob->dst, ob->port);
        ob->n = ob->len = 0;
    }
}

/* Like ctl_sock_send(), but appends 'msg' to the messages waiting for
 * 'dst':'port', to be sent with them by ctl_sock_flush() (or earlier, when
 * the next one would not fit their datagram).  Returns 0, or a positive
 * errno if 'msg' cannot be encoded; sending errors are counted when the
 * datagram goes out. */
int
ctl_sock_queue(struct ctl_sock *sock, struct ctl_msg *msg,
               const struct in6_addr *dst, uint16_t port)
{
    struct ctl_outbox *ob = NULL;
    int error;

    error = encode_msg(sock, msg);
    if (error) {
        return error;
    }
    for (size_t i = 0; i < sock->n_outboxes; i++) {
        if (sock->outboxes[i].port == port
            && ipv6_addr_equals(&sock->outboxes[i].dst, dst)) {
            ob = &sock->outboxes[i];
            break;
        }
    }
    if (!ob) {
        if (!sock->outboxes) {
            sock->outboxes = xmalloc(CTL_SOCK_MAX_OUTBOXES
                                     * sizeof *sock->outboxes);
        } else if (sock->n_outboxes >= CTL_SOCK_MAX_OUTBOXES) {
            ctl_sock_flush(sock);
        }
        ob = &sock->outboxes[sock->n_outboxes++];
        ob->dst = *dst;
        ob->port = port;
        ob->n = ob->len = 0;
    } else if (ob->len + sock->buf.size > sizeof ob->data
               || ob->n >= CTL_SOCK_MAX_BATCH) {
        flush_outbox(sock, ob);
    }
    memcpy(ob->data + ob->len, sock->buf.data, sock->buf.size);
    ob->len += sock->buf.size;
    ob->types[ob->n++] = msg->type;
    return 0;
}

/* Sends everything ctl_sock_queue() queued on 'sock', one datagram per
 * destination unless more are needed. */
void
ctl_sock_flush(struct ctl_sock *sock)
{
    for (size_t i = 0; i < sock->n_outboxes; i++) {
        flush_outbox(sock, &sock->outboxes[i]);
    }
    sock->n_outboxes = 0;
}

/* Receives the next acceptable message into 'msg' (and its source address
 * and port into '*src' and '*src_port', if nonnull): the next one of the
 * datagram being read, or the first of the next datagram.  Messages that
 * fail to decode, authenticate or pass the replay window are counted,
 * logged (rate-limited) and skipped; after one whose header cannot be
 * read, the rest of its datagram is skipped too (as one rejected message).
 * Returns false when no message is waiting, or after
 * CTL_SOCK_MAX_RECV_PER_RUN datagrams in one call (then ctl_sock_wait()
 * wakes the loop again at once). */
bool
ctl_sock_recv(struct ctl_sock *sock, struct ctl_msg *msg,
              struct in6_addr *src, uint16_t *src_port)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    int n_datagrams = 0;

    for (;;) {
        if (sock->rx_off >= sock->rx_len) {
            socklen_t sin6_len = sizeof sock->rx_src;
            ssize_t n;

            if (n_datagrams++ >= CTL_SOCK_MAX_RECV_PER_RUN) {
                poll_immediate_wake();
                return false;
            }
            sock->rx_off = sock->rx_len = 0;
            n = recvfrom(sock->fd, sock->rx_data, sizeof sock->rx_data, 0,
                         (struct sockaddr *) &sock->rx_src, &sin6_len);
            if (n < 0) {
                if (errno != EAGAIN && errno != EINTR) {
                    VLOG_WARN_RL(&rl, "receive: %s", ovs_strerror(errno));
                    sock->stats.rx_errors++;
                }
                return false;
            }
            sock->stats.rx_datagrams++;
            expire_previous_key(sock);
            if (!ctl_sock_has_key(sock)) {
                sock->stats.no_key++;
                continue;
            }
            sock->rx_len = n;
        }

        /* The next message; an oversized datagram or an unreadable header
         * takes the rest of the datagram with it. */
        const uint8_t *p = sock->rx_data + sock->rx_off;
        size_t left = sock->rx_len - sock->rx_off;
        size_t len = (sock->rx_len > CTL_MSG_MAX_LEN ? 0
                      : ctl_msg_frame_len(p, left));
        if (!len) {
            len = left;
        }
        sock->rx_off += len;

        const struct ctl_key *keys[CTL_KEY_N_SLOTS];
        enum ctl_key_slot slot;

        for (int i = 0; i < CTL_KEY_N_SLOTS; i++) {
            keys[i] = &sock->keys[i];
        }
        enum ctl_msg_error error = ctl_msg_receive_keys(p, len, keys,
                                                        sock->replay, msg,
                                                        &sock->stats.rx,
                                                        &slot);
        if (error) {
            char s[INET6_ADDRSTRLEN];

            COVERAGE_INC(ctl_sock_rx_rejected);
            ipv6_string_mapped(s, &sock->rx_src.sin6_addr);
            VLOG_WARN_RL(&rl, "rejected %"PRIuSIZE"-byte message from "
                         "[%s]:%u: %s", len, s,
                         ntohs(sock->rx_src.sin6_port),
                         ctl_msg_error_to_string(error));
            continue;
        }
        if (src) {
            *src = sock->rx_src.sin6_addr;
        }
        if (src_port) {
            *src_port = ntohs(sock->rx_src.sin6_port);
        }
        return true;
    }
}

/* Makes the poll loop wake when a datagram arrives on 'sock', or at once
 * if messages wait to be sent or handed out. */
void
ctl_sock_wait(struct ctl_sock *sock)
{
    poll_fd_wait(sock->fd, POLLIN);
    if (sock->n_outboxes || sock->rx_off < sock->rx_len) {
        poll_immediate_wake();
    }
}

/* Returns the node id 'sock' sends as. */
uint32_t
ctl_sock_self(const struct ctl_sock *sock)
{
    return sock->self;
}

/* Returns the port 'sock' is bound to. */
uint16_t
ctl_sock_port(const struct ctl_sock *sock)
{
    return sock->port;
}

/* Returns the address 'sock' is bound to. */
const struct in6_addr *
ctl_sock_addr(const struct ctl_sock *sock)
{
    return &sock->addr;
}

/* Returns 'sock''s counters. */
const struct ctl_sock_stats *
ctl_sock_get_stats(const struct ctl_sock *sock)
{
    return &sock->stats;
}

/* Appends 'sock''s counters to 's', one "name: value" per line, leaving out
 * zeros, and its keys, by fingerprint (ctl_key_fingerprint()): an operator
 * checks that every node holds the same ones before promoting a key. */
void
ctl_sock_format_stats(const struct ctl_sock *sock, struct ds *s)
{
    const struct ctl_sock_stats *st = &sock->stats;

    ds_put_format(s, "control port %u:\n", sock->port);
    for (int t = 1; t < CTL_MSG_N_TYPES; t++) {
        if (st->tx[t] || st->rx.rx_ok[t]) {
            ds_put_format(s, "  %-14s sent %"PRIu64" received %"PRIu64"\n",
                          ctl_msg_type_to_string(t), st->tx[t],
                          st->rx.rx_ok[t]);
        }
    }
    for (int e = 1; e < CTL_MSG_N_ERRORS; e++) {
        if (st->rx.rx_error[e]) {
            ds_put_format(s, "  rejected (%s): %"PRIu64"\n",
                          ctl_msg_error_to_string(e), st->rx.rx_error[e]);
        }
    }
    if (st->tx_datagrams || st->rx_datagrams) {
        ds_put_format(s, "  datagrams sent %"PRIu64" received %"PRIu64"\n",
                      st->tx_datagrams, st->rx_datagrams);
    }
    ds_put_cstr(s, "  keys:");
    for (int slot = 0; slot < CTL_KEY_N_SLOTS; slot++) {
        const struct ctl_key *key = &sock->keys[slot];

        ds_put_format(s, " %s ", ctl_key_slot_to_string(slot));
        if (key->state) {
            ds_put_format(s, "%08"PRIx32, ctl_key_fingerprint(key));
        } else {
            ds_put_cstr(s, "none");
        }
        if (key->state && slot == CTL_KEY_PREVIOUS) {
            long long int left = sock->previous_expiry - time_msec();
            ds_put_format(s, " (%lld ms of grace left)", MAX(left, 0));
        }
    }
    ds_put_char(s, '\n');
    ds_put_cstr(s, "  messages by key:");
    for (int slot = 0; slot < CTL_KEY_N_SLOTS; slot++) {
        ds_put_format(s, " %s %"PRIu64, ctl_key_slot_to_string(slot),
                      st->rx.rx_key[slot]);
    }
    ds_put_format(s, "; key changes %"PRIu64", previous keys dropped "
                  "%"PRIu64"\n", st->key_changes, st->keys_expired);
    if (st->tx_errors || st->rx_errors || st->no_key) {
        ds_put_format(s, "  send errors: %"PRIu64", receive errors: %"PRIu64
                      ", dropped without key: %"PRIu64"\n",
                      st->tx_errors, st->rx_errors, st->no_key);
    }
}

#define CTL_SOCK_COUNTER(MEMBER, NAME, HELP) \
    METRICS_COUNTER_FIELD(struct ctl_sock_stats, MEMBER, NAME, HELP)
static const struct metrics_counter ctl_sock_counters[] = {
    CTL_SOCK_COUNTER(tx_datagrams, "datagrams_sent", "Datagrams sent."),
    CTL_SOCK_COUNTER(rx_datagrams, "datagrams_received",
                     "Datagrams received."),
    CTL_SOCK_COUNTER(tx_errors, "send_errors",
                     "Messages not sent: encoding or sendto() failures."),
    CTL_SOCK_COUNTER(rx_errors, "receive_errors", "recvfrom() failures."),
    CTL_SOCK_COUNTER(no_key, "no_key_drops",
                     "Messages dropped: no cluster key yet."),
    CTL_SOCK_COUNTER(key_changes, "key_changes",
                     "Changes of a cluster key."),
    CTL_SOCK_COUNTER(keys_expired, "previous_keys_dropped",
                     "Previous cluster keys dropped after their grace."),
    CTL_SOCK_COUNTER(rx.replay_evicted, "replay_senders_evicted",
                     "Senders dropped from the replay window table."),
};

/* Adds the counters of 'sock' to 'm', labelled socket='socket' (which
 * socket of the daemon it is: "control", "forwarding"...). */
void
ctl_sock_put_metrics(const struct ctl_sock *sock, struct metrics *m,
                     const char *socket)
{
    const struct ctl_sock_stats *st = &sock->stats;
    struct metrics_family *sent, *received, *rejected, *by_key;

    sent = metrics_family(m, "ovslb_ctl_messages_sent_total",
                          METRICS_COUNTER,
                          "Control messages sent, by type.");
    received = metrics_family(m, "ovslb_ctl_messages_received_total",
                              METRICS_COUNTER,
                              "Control messages received and accepted, "
                              "by type.");
    for (int t = 1; t < CTL_MSG_N_TYPES; t++) {
        const char *type = ctl_msg_type_to_string(t);

        metrics_add(sent, st->tx[t], "socket", socket, "type", type, NULL);
        metrics_add(received, st->rx.rx_ok[t], "socket", socket,
                    "type", type, NULL);
    }
    rejected = metrics_family(m, "ovslb_ctl_messages_rejected_total",
                              METRICS_COUNTER,
                              "Control messages received and rejected, "
                              "by reason.");
    for (int e = 1; e < CTL_MSG_N_ERRORS; e++) {
        metrics_add(rejected, st->rx.rx_error[e], "socket", socket,
                    "reason", ctl_msg_error_to_string(e), NULL);
    }
    by_key = metrics_family(m, "ovslb_ctl_messages_by_key_total",
                            METRICS_COUNTER,
                            "Control messages accepted, by the cluster key "
                            "slot that verified them.");
    for (int slot = 0; slot < CTL_KEY_N_SLOTS; slot++) {
        metrics_add(by_key, st->rx.rx_key[slot], "socket", socket,
                    "key", ctl_key_slot_to_string(slot), NULL);
    }

    metrics_put_counters(m, "ovslb_ctl_", ctl_sock_counters,
                         ARRAY_SIZE(ctl_sock_counters), st,
                         "socket", socket, NULL);
}
