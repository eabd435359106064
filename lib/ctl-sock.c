#include <config.h>
#include "ctl-sock.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coverage.h"
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
    struct ctl_key key;         /* Our own copy, if 'has_key'. */
    bool has_key;
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
        ctl_key_destroy(&sock->key);
        ofpbuf_uninit(&sock->buf);
        free(sock);
    }
}

/* Sets the cluster key with which 'sock' authenticates what it sends and
 * receives to a copy of 'key' (the caller keeps 'key' and destroys it as
 * usual).  Until a key is set nothing is sent or accepted.
 *
 * Returns 0, or a positive errno if 'key' cannot be copied (see
 * ctl_key_clone()); 'sock' then has no key at all, rather than the previous
 * one. */
int
ctl_sock_set_key(struct ctl_sock *sock, const struct ctl_key *key)
{
    int error;

    ctl_key_destroy(&sock->key);
    error = ctl_key_clone(&sock->key, key);
    sock->has_key = !error;
    return error;
}

/* Returns true if 'sock' has a cluster key. */
bool
ctl_sock_has_key(const struct ctl_sock *sock)
{
    return sock->has_key;
}

/* Gives 'msg' (whose type and body the caller filled in) 'sock''s sender id
 * and next sequence number and encodes it into 'sock->buf'.  Returns 0 or a
 * positive errno (counted). */
static int
encode_msg(struct ctl_sock *sock, struct ctl_msg *msg)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    int error;

    if (!sock->has_key) {
        sock->stats.no_key++;
        return ENOKEY;
    }
    msg->sender = sock->self;
    msg->seq = sock->next_seq++;
    ofpbuf_clear(&sock->buf);
    error = ctl_msg_encode(msg, &sock->key, &sock->buf);
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
            if (!sock->has_key) {
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

        enum ctl_msg_error error = ctl_msg_receive(p, len, &sock->key,
                                                   sock->replay, msg,
                                                   &sock->stats.rx);
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
 * zeros. */
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
    if (st->tx_errors || st->rx_errors || st->no_key) {
        ds_put_format(s, "  send errors: %"PRIu64", receive errors: %"PRIu64
                      ", dropped without key: %"PRIu64"\n",
                      st->tx_errors, st->rx_errors, st->no_key);
    }
}
