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
#include "service-probe.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coverage.h"
#include "hash.h"
#include "netns.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "socket-util.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(service_probe);

COVERAGE_DEFINE(service_probe_failed);

/* The longest HTTP status line read. */
#define MAX_ANSWER 64

enum probe_stage {
    STAGE_IDLE,                 /* Next probe at 'next'. */
    STAGE_CONNECTING,           /* Waiting for the connection. */
    STAGE_ANSWER,               /* HTTP: request sent, reading the answer. */
    STAGE_DATAGRAM,             /* UDP: datagram sent, waiting for a
                                 * refusal until the deadline. */
};

struct probe {
    struct hmap_node node;      /* In 'probes', by hash_vip_port(). */
    struct in6_addr vip;
    uint16_t port;
    bool udp;                   /* A UDP VIP port, else TCP. */
    enum cluster_health_type type;
    char *path;
    uint16_t status;
    uint32_t interval_ms, timeout_ms, rise, fall;

    bool up;
    uint32_t streak;            /* Results in a row against 'up'. */
    enum probe_stage stage;
    int fd;                     /* -1 unless connecting or reading. */
    long long int next;         /* STAGE_IDLE: next probe. */
    long long int started;      /* Start of the current or last probe. */
    long long int deadline;     /* Otherwise: failure after this. */
    char answer[MAX_ANSWER + 1];
    size_t answer_len;
    char *last_failure;         /* Why the last probe failed, or NULL. */
    long long int changed_at;   /* Last change of 'up'. */
    bool seen;                  /* Kept by the current service_probe_set(). */
};

struct service_probe {
    struct hmap probes;
    char *netns;                /* NULL: our own. */
    struct service_probe_stats stats;
};

static uint32_t
hash_vip_port(const struct in6_addr *vip, uint16_t port, bool udp)
{
    return hash_bytes(vip, sizeof *vip, port | (udp << 16));
}

/* Creates a prober with no port to check. */
struct service_probe *
service_probe_create(void)
{
    struct service_probe *sp = xzalloc(sizeof *sp);

    hmap_init(&sp->probes);
    return sp;
}

static void
probe_close(struct probe *p)
{
    if (p->fd >= 0) {
        close(p->fd);
        p->fd = -1;
    }
}

static void
probe_destroy(struct probe *p)
{
    probe_close(p);
    free(p->path);
    free(p->last_failure);
    free(p);
}

/* Frees 'sp' (a null pointer: nothing), closing its sockets. */
void
service_probe_destroy(struct service_probe *sp)
{
    if (sp) {
        struct probe *p;

        HMAP_FOR_EACH_POP (p, node, &sp->probes) {
            probe_destroy(p);
        }
        hmap_destroy(&sp->probes);
        free(sp->netns);
        free(sp);
    }
}

static struct probe *
probe_find(const struct service_probe *sp, const struct in6_addr *vip,
           uint16_t port, bool udp)
{
    struct probe *p;

    HMAP_FOR_EACH_WITH_HASH (p, node, hash_vip_port(vip, port, udp),
                             &sp->probes) {
        if (p->port == port && p->udp == udp
            && ipv6_addr_equals(&p->vip, vip)) {
            return p;
        }
    }
    return NULL;
}

static bool
same_check(const struct probe *p, const struct cluster_vip_health *h,
           const char *path)
{
    return (p->type == h->type && !strcmp(p->path, path)
            && p->status == h->http_status
            && p->interval_ms == h->interval_ms
            && p->timeout_ms == h->timeout_ms
            && p->rise == h->rise && p->fall == h->fall);
}

/* Replaces the ports to check by the 'n' of 'ports', probed inside network
 * namespace 'netns' (NULL or "": the agent's own).  A port whose check is
 * unchanged keeps its state; a new or changed one starts up, probed at
 * once. */
void
service_probe_set(struct service_probe *sp, const char *netns,
                  const struct service_probe_port *ports, size_t n,
                  long long int now)
{
    struct probe *p;

    free(sp->netns);
    sp->netns = netns && netns[0] ? xstrdup(netns) : NULL;
    HMAP_FOR_EACH (p, node, &sp->probes) {
        p->seen = false;
    }
    for (size_t i = 0; i < n; i++) {
        const struct service_probe_port *sp_port = &ports[i];
        struct cluster_vip_health h = *sp_port->health;
        const char *path = h.http_path ? h.http_path : "/";

        /* Defaults for what the configuration left at zero. */
        h.http_status = h.http_status ? h.http_status : 200;
        h.interval_ms = h.interval_ms ? h.interval_ms : 500;
        h.timeout_ms = MIN(h.timeout_ms ? h.timeout_ms : 500, h.interval_ms);
        h.rise = h.rise ? h.rise : 2;
        h.fall = h.fall ? h.fall : 2;

        p = probe_find(sp, &sp_port->vip, sp_port->port, sp_port->udp);
        if (p && p->seen) {
            continue;           /* A duplicate: the first one wins. */
        }
        if (p && !same_check(p, &h, path)) {
            hmap_remove(&sp->probes, &p->node);
            probe_destroy(p);
            p = NULL;
        }
        if (!p) {
            p = xzalloc(sizeof *p);
            p->vip = sp_port->vip;
            p->port = sp_port->port;
            p->udp = sp_port->udp;
            p->type = h.type;
            p->path = xstrdup(path);
            p->status = h.http_status;
            p->interval_ms = h.interval_ms;
            p->timeout_ms = h.timeout_ms;
            p->rise = h.rise;
            p->fall = h.fall;
            p->up = true;
            p->fd = -1;
            p->next = now;
            p->changed_at = now;
            hmap_insert(&sp->probes, &p->node,
                        hash_vip_port(&p->vip, p->port, p->udp));
        }
        p->seen = true;
    }
    HMAP_FOR_EACH_SAFE (p, node, &sp->probes) {
        if (!p->seen) {
            hmap_remove(&sp->probes, &p->node);
            probe_destroy(p);
        }
    }
}

/* Ends the probe of 'p' at 'now' with a success (NULL 'failure') or a
 * failure.  Returns true if the port changed state. */
static bool
probe_done(struct service_probe *sp, struct probe *p, char *failure,
           long long int now)
{
    bool changed = false;

    probe_close(p);
    p->stage = STAGE_IDLE;
    /* Probes start every interval, however long each took (at most the
     * timeout, not above the interval). */
    p->next = MAX(now, p->started + p->interval_ms);
    if (failure) {
        sp->stats.failed++;
        COVERAGE_INC(service_probe_failed);
        free(p->last_failure);
        p->last_failure = failure;
    } else {
        sp->stats.ok++;
    }
    if (!failure == p->up) {
        p->streak = 0;
    } else if (++p->streak >= (p->up ? p->fall : p->rise)) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
        struct ds s = DS_EMPTY_INITIALIZER;

        p->up = !p->up;
        p->streak = 0;
        p->changed_at = now;
        changed = true;
        if (p->up) {
            sp->stats.ups++;
        } else {
            sp->stats.downs++;
        }
        ipv6_format_mapped(&p->vip, &s);
        VLOG_INFO_RL(&rl, "service %s:%"PRIu16"/%s %s%s%s", ds_cstr(&s),
                     p->port, p->udp ? "udp" : "tcp",
                     p->up ? "answers again" : "down",
                     p->up ? "" : ": ", p->up ? "" : p->last_failure);
        ds_destroy(&s);
    }
    return changed;
}

struct open_args {
    int family;
    int type;                   /* SOCK_STREAM or SOCK_DGRAM. */
    int fd;
};

static int
open_socket(void *args_)
{
    struct open_args *args = args_;

    args->fd = socket(args->family, args->type | SOCK_NONBLOCK
                      | SOCK_CLOEXEC, 0);
    return args->fd < 0 ? errno : 0;
}

/* Starts a probe of 'p' at 'now'.  Returns true if it ended at once and
 * the port changed state. */
static bool
probe_start(struct service_probe *sp, struct probe *p, long long int now)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int error;

    sp->stats.probes++;
    p->started = now;
    if (p->type == CLUSTER_HEALTH_NONE) {
        return probe_done(sp, p, NULL, now);
    }

    memset(&ss, 0, sizeof ss);
    if (IN6_IS_ADDR_V4MAPPED(&p->vip)) {
        struct sockaddr_in *sin = (struct sockaddr_in *) &ss;

        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = in6_addr_get_mapped_ipv4(&p->vip);
        sin->sin_port = htons(p->port);
        len = sizeof *sin;
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;

        sin6->sin6_family = AF_INET6;
        sin6->sin6_addr = p->vip;
        sin6->sin6_port = htons(p->port);
        len = sizeof *sin6;
    }

    bool udp = p->type == CLUSTER_HEALTH_UDP;
    struct open_args args = { .family = ss.ss_family,
                              .type = udp ? SOCK_DGRAM : SOCK_STREAM,
                              .fd = -1 };
    char *msg = netns_call(sp->netns, open_socket, &args, &error);
    if (msg || error) {
        return probe_done(sp, p, msg ? msg : xasprintf("socket: %s",
                                                      ovs_strerror(error)),
                          now);
    }
    p->fd = args.fd;
    p->deadline = now + p->timeout_ms;
    p->stage = STAGE_CONNECTING;
    if (connect(p->fd, (struct sockaddr *) &ss, len) && errno != EINPROGRESS) {
        return probe_done(sp, p, xasprintf("connect: %s",
                                           ovs_strerror(errno)), now);
    }
    if (udp) {
        /* An empty datagram: the server's stack refuses it (ICMP port
         * unreachable, ECONNREFUSED on this connected socket) when
         * nothing listens on the port. */
        if (send(p->fd, "", 0, 0) < 0) {
            return probe_done(sp, p, xasprintf("send: %s",
                                               ovs_strerror(errno)), now);
        }
        p->stage = STAGE_DATAGRAM;
    }
    return false;
}

/* Advances the UDP probe of 'p': a failure if the datagram was refused,
 * a success if the service answered or nothing refused it before the
 * deadline. */
static bool
datagram_step(struct service_probe *sp, struct probe *p, long long int now)
{
    char byte;
    ssize_t n = recv(p->fd, &byte, 1, MSG_DONTWAIT);

    if (n >= 0) {
        return probe_done(sp, p, NULL, now);
    } else if (errno == ECONNREFUSED) {
        return probe_done(sp, p, xstrdup("refused (port unreachable: "
                                         "nothing listens)"), now);
    } else if (errno != EAGAIN && errno != EINTR) {
        return probe_done(sp, p, xasprintf("recv: %s",
                                           ovs_strerror(errno)), now);
    }
    return now >= p->deadline ? probe_done(sp, p, NULL, now) : false;
}

/* Reads what the server answered so far; returns NULL while the status
 * line is incomplete, "" on success, or a failure message. */
static char *
read_answer(struct probe *p)
{
    for (;;) {
        ssize_t n = read(p->fd, p->answer + p->answer_len,
                         MAX_ANSWER - p->answer_len);

        if (n < 0) {
            return (errno == EAGAIN || errno == EINTR ? NULL
                    : xasprintf("read: %s", ovs_strerror(errno)));
        } else if (n == 0) {
            return xstrdup("closed before a status line");
        }
        p->answer_len += n;
        p->answer[p->answer_len] = '\0';

        /* "HTTP/1.x NNN ..." */
        if (p->answer_len >= 12 || strchr(p->answer, '\n')) {
            unsigned int major, minor, status;

            if (sscanf(p->answer, "HTTP/%u.%u %3u", &major, &minor,
                       &status) != 3) {
                return xstrdup("not an HTTP status line");
            } else if (status != p->status) {
                return xasprintf("status %u, expected %"PRIu16, status,
                                 p->status);
            }
            return xstrdup("");
        }
        if (p->answer_len >= MAX_ANSWER) {
            return xstrdup("status line too long");
        }
    }
}

/* Advances the probe of 'p' at 'now'.  Returns true if the port changed
 * state. */
static bool
probe_step(struct service_probe *sp, struct probe *p, long long int now)
{
    if (p->stage == STAGE_IDLE) {
        return now >= p->next ? probe_start(sp, p, now) : false;
    }
    if (p->stage == STAGE_DATAGRAM) {
        return datagram_step(sp, p, now);
    }
    if (p->stage == STAGE_CONNECTING) {
        int error = check_connection_completion(p->fd);

        if (error == EAGAIN) {
            return (now >= p->deadline
                    ? probe_done(sp, p, xasprintf("no connection after "
                                                  "%"PRIu32" ms",
                                                  p->timeout_ms), now)
                    : false);
        } else if (error) {
            return probe_done(sp, p, xasprintf("connect: %s",
                                               ovs_strerror(error)), now);
        } else if (p->type == CLUSTER_HEALTH_TCP) {
            return probe_done(sp, p, NULL, now);
        }

        char *request = xasprintf("GET %s HTTP/1.0\r\nUser-Agent: "
                                  "ovslb-agent\r\n\r\n", p->path);
        ssize_t n = write(p->fd, request, strlen(request));
        bool sent = n == (ssize_t) strlen(request);

        free(request);
        if (!sent) {
            /* A few dozen bytes into a fresh connection: anything else
             * is a failure. */
            return probe_done(sp, p, xasprintf("request not sent: %s",
                                               n < 0 ? ovs_strerror(errno)
                                               : "short write"), now);
        }
        p->stage = STAGE_ANSWER;
        p->answer_len = 0;
    }

    char *result = read_answer(p);
    if (result) {
        bool ok = !result[0];

        if (ok) {
            free(result);
            result = NULL;
        }
        return probe_done(sp, p, result, now);
    } else if (now >= p->deadline) {
        return probe_done(sp, p, xasprintf("no answer after %"PRIu32" ms",
                                           p->timeout_ms), now);
    }
    return false;
}

/* Advances every probe at 'now'.  Returns true if some port went down or
 * came up. */
bool
service_probe_run(struct service_probe *sp, long long int now)
{
    struct probe *p;
    bool changed = false;

    HMAP_FOR_EACH (p, node, &sp->probes) {
        changed |= probe_step(sp, p, now);
    }
    return changed;
}

/* Arranges for the poll loop to wake when service_probe_run() has work. */
void
service_probe_wait(const struct service_probe *sp)
{
    const struct probe *p;

    HMAP_FOR_EACH (p, node, &sp->probes) {
        if (p->stage == STAGE_IDLE) {
            poll_timer_wait_until(p->next);
        } else {
            poll_fd_wait(p->fd, (p->stage == STAGE_CONNECTING
                                 ? POLLOUT : POLLIN));
            poll_timer_wait_until(p->deadline);
        }
    }
}

/* Returns false if the service of 'vip':'port' (UDP if 'udp', else TCP)
 * is down, true if it answers or is not checked here. */
bool
service_probe_is_up(const struct service_probe *sp,
                    const struct in6_addr *vip, uint16_t port, bool udp)
{
    const struct probe *p = probe_find(sp, vip, port, udp);

    return !p || p->up;
}

/* Returns the counters of 'sp'. */
const struct service_probe_stats *
service_probe_get_stats(const struct service_probe *sp)
{
    return &sp->stats;
}

static const char *
type_name(enum cluster_health_type type)
{
    return cluster_health_type_to_string(type);
}

/* Appends to 's' one line per checked port at 'now'. */
void
service_probe_format(const struct service_probe *sp, long long int now,
                     struct ds *s)
{
    const struct probe *p;

    HMAP_FOR_EACH (p, node, &sp->probes) {
        ds_put_cstr(s, "  ");
        ipv6_format_mapped(&p->vip, s);
        ds_put_format(s, ":%"PRIu16"/%s %s", p->port, p->udp ? "udp" : "tcp",
                      type_name(p->type));
        if (p->type == CLUSTER_HEALTH_HTTP) {
            ds_put_format(s, " GET %s -> %"PRIu16, p->path, p->status);
        }
        ds_put_format(s, ": %s for %lld ms", p->up ? "up" : "DOWN",
                      now - p->changed_at);
        if (p->last_failure) {
            ds_put_format(s, " (last failure: %s)", p->last_failure);
        }
        ds_put_char(s, '\n');
    }
}
