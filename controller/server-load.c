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
#include "server-load.h"

#include <netinet/in.h>
#include <string.h>

#include "ctl-msg.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "packets.h"
#include "util.h"

/* How long a measured round-trip time stays usable. */
#define RTT_KEEP_MS 30000

/* A record not reported for this long is removed. */
#define FORGET_MS 60000

struct load_record {
    struct hmap_node node;      /* In 'records', by hash_key(). */
    uint32_t server;
    struct in6_addr vip;
    uint16_t port;
    uint8_t proto;              /* IPPROTO_TCP or IPPROTO_UDP. */

    long long int reported_at;  /* LLONG_MIN: never. */
    uint32_t conns;             /* As reported. */
    uint32_t backlog;
    uint32_t assigned;          /* By this node since 'reported_at'. */
    bool down;                  /* The service fails its health check. */
    uint32_t rtt_us;            /* Last measured (0: never). */
    long long int rtt_at;
    long long int touched_at;   /* Last report or assignment. */
};

struct server_load {
    struct hmap records;
    struct server_load_stats stats;
    uint64_t down_seqno;        /* Changes of any record's 'down'. */
};

static uint32_t
hash_key(uint32_t server, const struct in6_addr *vip, uint16_t port,
         uint8_t proto)
{
    return hash_bytes(vip, sizeof *vip,
                      hash_2words(server, ((uint32_t) proto << 16) | port));
}

/* Creates an empty table. */
struct server_load *
server_load_create(void)
{
    struct server_load *sl = xzalloc(sizeof *sl);

    hmap_init(&sl->records);
    return sl;
}

/* Frees 'sl' (a null pointer: nothing). */
void
server_load_destroy(struct server_load *sl)
{
    if (sl) {
        struct load_record *r;

        HMAP_FOR_EACH_POP (r, node, &sl->records) {
            free(r);
        }
        hmap_destroy(&sl->records);
        free(sl);
    }
}

static struct load_record *
find_record(const struct server_load *sl, uint32_t server,
            const struct in6_addr *vip, uint16_t port, uint8_t proto)
{
    struct load_record *r;

    HMAP_FOR_EACH_WITH_HASH (r, node, hash_key(server, vip, port, proto),
                             &sl->records) {
        if (r->server == server && r->port == port && r->proto == proto
            && ipv6_addr_equals(&r->vip, vip)) {
            return r;
        }
    }
    return NULL;
}

static struct load_record *
get_record(struct server_load *sl, uint32_t server,
           const struct in6_addr *vip, uint16_t port, uint8_t proto)
{
    struct load_record *r = find_record(sl, server, vip, port, proto);

    if (!r) {
        r = xzalloc(sizeof *r);
        r->server = server;
        r->vip = *vip;
        r->port = port;
        r->proto = proto;
        r->reported_at = LLONG_MIN;
        hmap_insert(&sl->records, &r->node,
                    hash_key(server, vip, port, proto));
    }
    return r;
}

/* Records the report 'e' of 'server' received at 'now'. */
void
server_load_report(struct server_load *sl, uint32_t server,
                   const struct ctl_load_entry *e, long long int now)
{
    struct load_record *r = get_record(sl, server, &e->vip, e->port,
                                       (e->flags & CTL_LOAD_UDP
                                        ? IPPROTO_UDP : IPPROTO_TCP));

    r->reported_at = now;
    r->touched_at = now;
    r->conns = e->conns;
    r->backlog = e->backlog;
    r->assigned = 0;
    bool down = (e->flags & CTL_LOAD_DOWN) != 0;
    if (down && !r->down) {
        sl->stats.downs++;
    }
    if (down != r->down) {
        sl->down_seqno++;
    }
    r->down = down;
    if (e->rtt_us) {
        r->rtt_us = e->rtt_us;
        r->rtt_at = now;
    }
    sl->stats.reports++;
}

/* Notes that this node assigned a connection of 'vip':'port' (TCP, the
 * only protocol of assigned connections) to 'server' at 'now'. */
void
server_load_assigned(struct server_load *sl, uint32_t server,
                     const struct in6_addr *vip, uint16_t port,
                     long long int now)
{
    struct load_record *r = get_record(sl, server, vip, port, IPPROTO_TCP);

    r->assigned += r->assigned < UINT32_MAX;
    r->touched_at = now;
    sl->stats.assignments++;
}

static uint32_t
add_sat(uint32_t a, uint32_t b)
{
    return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

/* Stores in '*conns' and '*rtt_us' what is known at 'now' of 'server' on
 * TCP port 'vip':'port' (see server-load.h); a report older than
 * 'max_age_ms' no longer counts.  '*rtt_us' is UINT32_MAX if not
 * measured. */
void
server_load_get(struct server_load *sl, uint32_t server,
                const struct in6_addr *vip, uint16_t port,
                long long int now, uint32_t max_age_ms,
                uint32_t *conns, uint32_t *rtt_us)
{
    const struct load_record *r = find_record(sl, server, vip, port,
                                              IPPROTO_TCP);

    *conns = 0;
    *rtt_us = UINT32_MAX;
    if (!r) {
        return;
    }
    *conns = r->assigned;
    if (r->reported_at != LLONG_MIN
        && now - r->reported_at <= max_age_ms) {
        *conns = add_sat(*conns, add_sat(r->conns, r->backlog));
    } else if (r->reported_at != LLONG_MIN) {
        sl->stats.stale++;
    }
    if (r->rtt_us && now - r->rtt_at <= RTT_KEEP_MS) {
        *rtt_us = r->rtt_us;
    }
}

/* Returns true if the last report of 'server' on 'vip':'port' of
 * protocol 'proto' (IPPROTO_TCP or IPPROTO_UDP), not older than
 * 'max_age_ms' at 'now', says that the service fails its health check. */
bool
server_load_is_down(const struct server_load *sl, uint32_t server,
                    const struct in6_addr *vip, uint16_t port, uint8_t proto,
                    long long int now, uint32_t max_age_ms)
{
    const struct load_record *r = find_record(sl, server, vip, port, proto);

    return (r && r->down && r->reported_at != LLONG_MIN
            && now - r->reported_at <= max_age_ms);
}

/* Returns a number that changes whenever a report takes a service down or
 * brings it back (not when a record ages out). */
uint64_t
server_load_down_seqno(const struct server_load *sl)
{
    return sl->down_seqno;
}

/* Removes the records of 'server'. */
void
server_load_forget(struct server_load *sl, uint32_t server)
{
    struct load_record *r;

    HMAP_FOR_EACH_SAFE (r, node, &sl->records) {
        if (r->server == server) {
            hmap_remove(&sl->records, &r->node);
            free(r);
            sl->stats.forgotten++;
        }
    }
}

/* Removes the records neither reported nor assigned to for FORGET_MS. */
void
server_load_run(struct server_load *sl, long long int now)
{
    struct load_record *r;

    HMAP_FOR_EACH_SAFE (r, node, &sl->records) {
        if (now - r->touched_at >= FORGET_MS) {
            hmap_remove(&sl->records, &r->node);
            free(r);
            sl->stats.forgotten++;
        }
    }
}

/* Returns the number of records. */
size_t
server_load_count(const struct server_load *sl)
{
    return hmap_count(&sl->records);
}

/* Returns the counters of 'sl'. */
const struct server_load_stats *
server_load_get_stats(const struct server_load *sl)
{
    return &sl->stats;
}

static int
compare_records(const void *a_, const void *b_)
{
    const struct load_record *a = *(const struct load_record **) a_;
    const struct load_record *b = *(const struct load_record **) b_;
    int cmp = memcmp(&a->vip, &b->vip, sizeof a->vip);

    return (cmp ? cmp
            : a->port != b->port ? (a->port < b->port ? -1 : 1)
            : a->proto != b->proto ? (a->proto < b->proto ? -1 : 1)
            : a->server != b->server ? (a->server < b->server ? -1 : 1)
            : 0);
}

/* Appends to 's' one line per record, by VIP, port and server, with the
 * age of its report and of its round-trip time at 'now'. */
void
server_load_format(const struct server_load *sl, long long int now,
                   struct ds *s)
{
    size_t n = hmap_count(&sl->records), i = 0;
    const struct load_record **v = xmalloc(MAX(n, 1) * sizeof *v);
    const struct load_record *r;

    HMAP_FOR_EACH (r, node, &sl->records) {
        v[i++] = r;
    }
    qsort(v, n, sizeof *v, compare_records);
    for (i = 0; i < n; i++) {
        r = v[i];
        ds_put_cstr(s, "  ");
        ipv6_format_mapped(&r->vip, s);
        ds_put_format(s, ":%"PRIu16"/%s server %"PRIu32": ", r->port,
                      r->proto == IPPROTO_UDP ? "udp" : "tcp", r->server);
        if (r->reported_at == LLONG_MIN) {
            ds_put_cstr(s, "no report");
        } else {
            ds_put_format(s, "%sconns %"PRIu32" backlog %"PRIu32
                          " (%lld ms ago)",
                          r->down ? "SERVICE DOWN, " : "", r->conns,
                          r->backlog, now - r->reported_at);
        }
        ds_put_format(s, ", assigned since %"PRIu32, r->assigned);
        if (r->rtt_us) {
            ds_put_format(s, ", rtt %"PRIu32" us (%lld ms ago)", r->rtt_us,
                          now - r->rtt_at);
        }
        ds_put_char(s, '\n');
    }
    free(v);
}
