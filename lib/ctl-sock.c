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

/* Sends 'msg' (whose type and body the caller filled in) to 'dst':'port'.
 * Sets 'msg''s sender and sequence number.  Returns 0 or a positive errno;
 * failures are counted and logged (rate-limited), never fatal: the protocol
 * repairs lost messages through the client's retransmissions. */
int
ctl_sock_send(struct ctl_sock *sock, struct ctl_msg *msg,
              const struct in6_addr *dst, uint16_t port)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    struct sockaddr_in6 sin6;
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
        return error;
    }
    in6_to_sockaddr(dst, port, &sin6);
    if (sendto(sock->fd, sock->buf.data, sock->buf.size, 0,
               (struct sockaddr *) &sin6, sizeof sin6) < 0) {
        char s[INET6_ADDRSTRLEN];

        error = errno;
        ipv6_string_mapped(s, dst);
        VLOG_WARN_RL(&rl, "send %s to [%s]:%u: %s",
                     ctl_msg_type_to_string(msg->type), s, port,
                     ovs_strerror(error));
        sock->stats.tx_errors++;
        COVERAGE_INC(ctl_sock_tx_error);
        return error;
    }
    sock->stats.tx[msg->type]++;
    COVERAGE_INC(ctl_sock_tx);
    return 0;
}

/* Receives the next acceptable message into 'msg' (and its source address
 * and port into '*src' and '*src_port', if nonnull).  Datagrams that fail to
 * decode, authenticate or pass the replay window are counted, logged
 * (rate-limited) and skipped.  Returns false when no datagram is waiting, or
 * after CTL_SOCK_MAX_RECV_PER_RUN datagrams in one call (then ctl_sock_wait()
 * wakes the loop again at once). */
bool
ctl_sock_recv(struct ctl_sock *sock, struct ctl_msg *msg,
              struct in6_addr *src, uint16_t *src_port)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    uint8_t data[CTL_MSG_MAX_LEN + 1];

    for (int i = 0; i < CTL_SOCK_MAX_RECV_PER_RUN; i++) {
        struct sockaddr_in6 sin6;
        socklen_t sin6_len = sizeof sin6;
        ssize_t n;

        n = recvfrom(sock->fd, data, sizeof data, 0,
                     (struct sockaddr *) &sin6, &sin6_len);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                VLOG_WARN_RL(&rl, "receive: %s", ovs_strerror(errno));
                sock->stats.rx_errors++;
            }
            return false;
        }
        if (!sock->has_key) {
            sock->stats.no_key++;
            continue;
        }

        enum ctl_msg_error error = ctl_msg_receive(data, n, &sock->key,
                                                   sock->replay, msg,
                                                   &sock->stats.rx);
        if (error) {
            char s[INET6_ADDRSTRLEN];

            COVERAGE_INC(ctl_sock_rx_rejected);
            ipv6_string_mapped(s, &sin6.sin6_addr);
            VLOG_WARN_RL(&rl, "rejected %"PRIuSIZE"-byte datagram from "
                         "[%s]:%u: %s", (size_t) n, s,
                         ntohs(sin6.sin6_port),
                         ctl_msg_error_to_string(error));
            continue;
        }
        if (src) {
            *src = sin6.sin6_addr;
        }
        if (src_port) {
            *src_port = ntohs(sin6.sin6_port);
        }
        return true;
    }
    poll_immediate_wake();
    return false;
}

/* Makes the poll loop wake when a datagram arrives on 'sock'. */
void
ctl_sock_wait(struct ctl_sock *sock)
{
    poll_fd_wait(sock->fd, POLLIN);
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
    if (st->tx_errors || st->rx_errors || st->no_key) {
        ds_put_format(s, "  send errors: %"PRIu64", receive errors: %"PRIu64
                      ", dropped without key: %"PRIu64"\n",
                      st->tx_errors, st->rx_errors, st->no_key);
    }
}
