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
 * bgp-speaker: edge announcement through FRR's bgpd (PROTOCOL.md §9).  See
 * bgp-speaker.h.
 */
#include <config.h>
#include "bgp-speaker.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "byte-order.h"
#include "coverage.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/util.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "process.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(bgp_speaker);

COVERAGE_DEFINE(bgp_speaker_rejected);
COVERAGE_DEFINE(bgp_speaker_apply);
COVERAGE_DEFINE(bgp_speaker_failure);

#define DEFAULT_MAX_NODE_ID 32
#define DEFAULT_TIMEOUT_MS 3000
#define DEFAULT_RESYNC_MS 60000
/* How often the identity of bgpd's vty socket is checked: a bgpd that
 * restarted made a new one, and gets the whole desired state again. */
#define VTY_CHECK_MS 1000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

struct bgp_speaker {
    struct bgp_speaker_config config;   /* Strings and 'vips' owned. */

    struct bgp_announcement desired[BGP_SPEAKER_MAX_ANNOUNCED];
    size_t n_desired;
    struct bgp_announcement applied[BGP_SPEAKER_MAX_ANNOUNCED];
    size_t n_applied;
    bool applied_known;         /* False until the first successful run. */

    /* The vtysh child and what it applies. */
    struct process *child;
    long long int child_start;
    struct bgp_announcement target[BGP_SPEAKER_MAX_ANNOUNCED];
    size_t n_target;
    size_t child_opens, child_closes;
    bool child_full;            /* A full (re)apply. */

    long long int next_attempt; /* Backoff: no new child before this. */
    unsigned int backoff_ms;
    long long int last_full;    /* Last successful full apply, or
                                 * LLONG_MIN. */

    /* bgpd's vty socket ("<vty_dir>/bgpd.vty"), which a restarted bgpd
     * makes anew: its identity when the last successful child started,
     * and now (checked every VTY_CHECK_MS).  A bgpd that restarted has
     * lost every session we opened in it. */
    char *vty_path;
    struct vty_id { bool exists; dev_t dev; ino_t ino; } vty_applied,
                                                         vty_child;
    long long int next_vty_check;
    char *last_error;

    struct bgp_speaker_stats stats;
};

/* ------------------------------------------------------------------------ */
/* Pure part. */

bool
bgp_session_addr(ovs_be32 session_base, uint32_t announcer,
                 uint32_t announced, ovs_be32 *addr)
{
    if (announcer < 1 || announcer > 255 || announced < 1 || announced > 255
        || announcer == announced) {
        return false;
    }
    *addr = htonl((ntohl(session_base) & 0xffff0000u)
                  | (announcer << 8) | announced);
    return true;
}

size_t
bgp_announcements(const uint32_t *ids, const ovs_be32 *north, size_t n,
                  uint32_t self, ovs_be32 session_base,
                  struct bgp_announcement out[2])
{
    size_t i, me = SIZE_MAX;

    for (i = 0; i < n; i++) {
        if (i > 0 && ids[i] <= ids[i - 1]) {
            COVERAGE_INC(bgp_speaker_rejected);
            return 0;
        }
        if (ids[i] == self) {
            me = i;
        }
    }
    if (me == SIZE_MAX || n < 2) {
        return 0;
    }

    size_t idx[2] = { (me + n - 1) % n, (me + 1) % n };
    size_t n_idx = idx[0] == idx[1] ? 1 : 2;
    for (i = 0; i < n_idx; i++) {
        struct bgp_announcement *a = &out[i];
        a->node_id = ids[idx[i]];
        a->next_hop = north[idx[i]];
        if (!bgp_session_addr(session_base, self, a->node_id,
                              &a->local_addr)) {
            COVERAGE_INC(bgp_speaker_rejected);
            return 0;
        }
    }
    return n_idx;
}

void
bgp_render_open(const struct bgp_speaker_config *config,
                const struct bgp_announcement *a, struct ds *out)
{
    ovs_be32 router = config->router_addr;
    size_t i;

    ds_put_format(out, "route-map ovslb-nh-%"PRIu32" permit 10\n"
                  " set ip next-hop "IP_FMT"\n"
                  "exit\n",
                  a->node_id, IP_ARGS(a->next_hop));
    ds_put_format(out, "router bgp %"PRIu32" view ovslb-%"PRIu32"\n"
                  " bgp router-id "IP_FMT"\n"
                  " no bgp ebgp-requires-policy\n"
                  " no bgp network import-check\n"
                  " coalesce-time 10\n"
                  " timers bgp 1 3\n",
                  config->local_as, a->node_id, IP_ARGS(a->local_addr));
    ds_put_format(out, " neighbor "IP_FMT" remote-as %"PRIu32"\n",
                  IP_ARGS(router), config->router_as);
    ds_put_format(out, " neighbor "IP_FMT" update-source "IP_FMT"\n",
                  IP_ARGS(router), IP_ARGS(a->local_addr));
    ds_put_format(out, " neighbor "IP_FMT" timers connect 1\n",
                  IP_ARGS(router));
    ds_put_format(out, " neighbor "IP_FMT" disable-connected-check\n",
                  IP_ARGS(router));
    ds_put_format(out, " neighbor "IP_FMT" advertisement-interval 0\n",
                  IP_ARGS(router));
    ds_put_cstr(out, " address-family ipv4 unicast\n");
    for (i = 0; i < config->n_vips; i++) {
        ds_put_format(out, "  network "IP_FMT"/32\n",
                      IP_ARGS(config->vips[i]));
    }
    ds_put_format(out, "  neighbor "IP_FMT" route-map ovslb-nh-%"PRIu32
                  " out\n", IP_ARGS(router), a->node_id);
    ds_put_cstr(out, " exit-address-family\nexit\n");
}

void
bgp_render_close(const struct bgp_speaker_config *config, uint32_t node_id,
                 struct ds *out)
{
    /* Entering the view first creates it if it is missing, so that the
     * "no" that follows cannot fail (vtysh stops at the first error). */
    ds_put_format(out, "router bgp %"PRIu32" view ovslb-%"PRIu32"\n"
                  "exit\n"
                  "no router bgp %"PRIu32" view ovslb-%"PRIu32"\n"
                  "no route-map ovslb-nh-%"PRIu32"\n",
                  config->local_as, node_id, config->local_as, node_id,
                  node_id);
}

/* ------------------------------------------------------------------------ */
/* Driver. */

static bool
announcement_equal(const struct bgp_announcement *a,
                   const struct bgp_announcement *b)
{
    return (a->node_id == b->node_id && a->next_hop == b->next_hop
            && a->local_addr == b->local_addr);
}

/* Returns the announcement for 'id' in 'set' (of 'n'), or NULL. */
static const struct bgp_announcement *
find_announcement(const struct bgp_announcement *set, size_t n, uint32_t id)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (set[i].node_id == id) {
            return &set[i];
        }
    }
    return NULL;
}

struct bgp_speaker *
bgp_speaker_create(const struct bgp_speaker_config *config)
{
    if (!config || !config->vty_dir || !config->vty_dir[0]
        || !config->local_as || !config->router_as || !config->router_addr
        || config->n_vips > BGP_SPEAKER_MAX_VIPS
        || (config->n_vips && !config->vips)) {
        COVERAGE_INC(bgp_speaker_rejected);
        return NULL;
    }

    struct bgp_speaker *s = xzalloc(sizeof *s);
    s->config = *config;
    s->config.vty_dir = xstrdup(config->vty_dir);
    s->config.vtysh = xstrdup(config->vtysh ? config->vtysh : "vtysh");
    s->config.vips = (config->n_vips
                      ? xmemdup(config->vips,
                                config->n_vips * sizeof *config->vips)
                      : NULL);
    if (!s->config.max_node_id) {
        s->config.max_node_id = DEFAULT_MAX_NODE_ID;
    }
    s->config.max_node_id = MIN(s->config.max_node_id, 255);
    if (!s->config.timeout_ms) {
        s->config.timeout_ms = DEFAULT_TIMEOUT_MS;
    }
    if (!s->config.resync_ms) {
        s->config.resync_ms = DEFAULT_RESYNC_MS;
    }
    s->next_attempt = LLONG_MIN;
    s->last_full = LLONG_MIN;
    s->backoff_ms = BACKOFF_MIN_MS;
    s->vty_path = xasprintf("%s/bgpd.vty", s->config.vty_dir);
    s->next_vty_check = LLONG_MIN;
    return s;
}

static void
kill_child(struct bgp_speaker *s)
{
    if (s->child) {
        if (!process_exited(s->child)) {
            process_kill(s->child, SIGKILL);
        }
        process_destroy(s->child);
        s->child = NULL;
    }
}

void
bgp_speaker_destroy(struct bgp_speaker *s)
{
    if (s) {
        kill_child(s);
        free(CONST_CAST(char *, s->config.vty_dir));
        free(CONST_CAST(char *, s->config.vtysh));
        free(s->vty_path);
        free(CONST_CAST(ovs_be32 *, s->config.vips));
        free(s->last_error);
        free(s);
    }
}

int
bgp_speaker_set(struct bgp_speaker *s, const struct bgp_announcement *a,
                size_t n)
{
    size_t i, j;

    if (n > BGP_SPEAKER_MAX_ANNOUNCED || (n && !a)) {
        goto reject;
    }
    for (i = 0; i < n; i++) {
        if (!a[i].node_id || a[i].node_id > s->config.max_node_id
            || !a[i].next_hop
            || !a[i].local_addr) {
            goto reject;
        }
        for (j = 0; j < i; j++) {
            if (a[j].node_id == a[i].node_id) {
                goto reject;
            }
        }
    }
    if (n) {
        memcpy(s->desired, a, n * sizeof *a);
    }
    s->n_desired = n;
    return 0;

reject:
    s->stats.rejected++;
    COVERAGE_INC(bgp_speaker_rejected);
    return EINVAL;
}

/* Whether the applied state differs from the desired one. */
static bool
needs_apply(const struct bgp_speaker *s)
{
    size_t i;

    if (!s->applied_known || s->n_applied != s->n_desired) {
        return true;
    }
    for (i = 0; i < s->n_desired; i++) {
        const struct bgp_announcement *old
            = find_announcement(s->applied, s->n_applied,
                                s->desired[i].node_id);
        if (!old || !announcement_equal(old, &s->desired[i])) {
            return true;
        }
    }
    return false;
}

static struct vty_id
vty_id_get(const struct bgp_speaker *s)
{
    struct stat st;

    if (stat(s->vty_path, &st)) {
        return (struct vty_id) { .exists = false };
    }
    return (struct vty_id) { .exists = true, .dev = st.st_dev,
                             .ino = st.st_ino };
}

static bool
vty_id_equal(const struct vty_id *a, const struct vty_id *b)
{
    return (a->exists == b->exists
            && (!a->exists || (a->dev == b->dev && a->ino == b->ino)));
}

/* Every VTY_CHECK_MS: if bgpd's vty socket is not the one the last
 * successful apply went through, bgpd restarted (or is down) and has none
 * of our sessions: the next apply is a full one, at once. */
static void
check_vty(struct bgp_speaker *s, long long int now)
{
    if (now < s->next_vty_check) {
        return;
    }
    s->next_vty_check = now + VTY_CHECK_MS;

    struct vty_id id = vty_id_get(s);
    if (s->applied_known && s->last_full != LLONG_MIN
        && !vty_id_equal(&id, &s->vty_applied)) {
        s->stats.restarts_seen++;
        VLOG_INFO("bgpd at %s %s: applying every session again",
                  s->config.vty_dir,
                  id.exists ? "restarted (new vty socket)"
                  : "is down (no vty socket)");
        s->last_full = LLONG_MIN;
        s->vty_applied = id;
    }
}

static bool
resync_due(const struct bgp_speaker *s, long long int now)
{
    return (s->last_full == LLONG_MIN
            || now - s->last_full >= s->config.resync_ms);
}

/* Renders the script that takes bgpd from the applied state to the desired
 * one (or, if 'full', that applies the whole desired state) into 'script',
 * counting the sessions it opens and closes. */
static void
render_changes(struct bgp_speaker *s, bool full, struct ds *script)
{
    size_t i;

    s->child_opens = s->child_closes = 0;
    ds_put_cstr(script, "configure terminal\n");

    /* Closes first: a withdrawal is the urgent part. */
    if (!s->applied_known) {
        uint32_t id;

        for (id = 1; id <= s->config.max_node_id; id++) {
            if (!find_announcement(s->desired, s->n_desired, id)) {
                bgp_render_close(&s->config, id, script);
            }
        }
    }
    for (i = 0; s->applied_known && i < s->n_applied; i++) {
        const struct bgp_announcement *old = &s->applied[i];
        const struct bgp_announcement *new
            = find_announcement(s->desired, s->n_desired, old->node_id);
        if (!new || !announcement_equal(old, new)) {
            bgp_render_close(&s->config, old->node_id, script);
            s->child_closes++;
        }
    }
    for (i = 0; i < s->n_desired; i++) {
        const struct bgp_announcement *new = &s->desired[i];
        const struct bgp_announcement *old
            = (s->applied_known
               ? find_announcement(s->applied, s->n_applied, new->node_id)
               : NULL);
        if (full || !old || !announcement_equal(old, new)) {
            bgp_render_open(&s->config, new, script);
            if (!old || !announcement_equal(old, new)) {
                s->child_opens++;
            }
        }
    }
    ds_put_cstr(script, "end\n");
}

static void
start_child(struct bgp_speaker *s, long long int now)
{
    struct ds script = DS_EMPTY_INITIALIZER;
    bool full = !s->applied_known || resync_due(s, now);
    int error;

    render_changes(s, full, &script);
    s->child_full = full;
    s->vty_child = vty_id_get(s);
    memcpy(s->target, s->desired, sizeof s->desired);
    s->n_target = s->n_desired;

    char *argv[] = {
        CONST_CAST(char *, s->config.vtysh),
        CONST_CAST(char *, "--vty_socket"),
        CONST_CAST(char *, s->config.vty_dir),
        CONST_CAST(char *, "-d"), CONST_CAST(char *, "bgpd"),
        CONST_CAST(char *, "-c"), ds_cstr(&script),
        NULL,
    };
    s->stats.applies++;
    COVERAGE_INC(bgp_speaker_apply);
    error = process_start(argv, &s->child);
    ds_destroy(&script);
    if (error) {
        s->child = NULL;
        free(s->last_error);
        s->last_error = xasprintf("%s: %s", s->config.vtysh,
                                  ovs_strerror(error));
        goto failed;
    }
    s->child_start = now;
    return;

failed:
    s->stats.failures++;
    COVERAGE_INC(bgp_speaker_failure);
    s->next_attempt = now + s->backoff_ms;
    s->backoff_ms = MIN(s->backoff_ms * 2, BACKOFF_MAX_MS);
}

/* Handles the end of the child: 'status' as from waitpid(), or -1 if it was
 * killed after the timeout. */
static void
finish_child(struct bgp_speaker *s, int status, long long int now)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

    if (status == 0) {
        memcpy(s->applied, s->target, sizeof s->target);
        s->n_applied = s->n_target;
        s->applied_known = true;
        s->vty_applied = s->vty_child;
        if (s->child_full) {
            s->last_full = now;
        }
        s->stats.applied++;
        s->stats.opens += s->child_opens;
        s->stats.closes += s->child_closes;
        s->stats.last_apply_ms = now - s->child_start;
        s->backoff_ms = BACKOFF_MIN_MS;
        s->next_attempt = LLONG_MIN;
        free(s->last_error);
        s->last_error = NULL;
        VLOG_DBG("applied: %"PRIuSIZE" sessions opened, %"PRIuSIZE" closed "
                 "in %lld ms", s->child_opens, s->child_closes,
                 s->stats.last_apply_ms);
        return;
    }

    free(s->last_error);
    if (status == -1) {
        s->stats.timeouts++;
        s->last_error = xasprintf("vtysh killed after %u ms",
                                  s->config.timeout_ms);
    } else {
        char *msg = process_status_msg(status);
        s->last_error = xasprintf("vtysh %s", msg);
        free(msg);
    }
    s->stats.failures++;
    COVERAGE_INC(bgp_speaker_failure);
    VLOG_WARN_RL(&rl, "%s (bgpd at %s), retrying in %u ms", s->last_error,
                 s->config.vty_dir, s->backoff_ms);
    /* The sessions the child was to close or open may or may not be in
     * bgpd now: the next run starts again from an unknown state. */
    s->applied_known = false;
    s->next_attempt = now + s->backoff_ms;
    s->backoff_ms = MIN(s->backoff_ms * 2, BACKOFF_MAX_MS);
}

void
bgp_speaker_run(struct bgp_speaker *s, long long int now)
{
    if (s->child) {
        process_run();
        if (process_exited(s->child)) {
            int status = process_status(s->child);
            process_destroy(s->child);
            s->child = NULL;
            finish_child(s, status, now);
        } else if (now - s->child_start >= s->config.timeout_ms) {
            kill_child(s);
            finish_child(s, -1, now);
        } else {
            return;
        }
    }
    check_vty(s, now);
    if (now < s->next_attempt) {
        return;
    }
    if (needs_apply(s) || resync_due(s, now)) {
        start_child(s, now);
    }
}

void
bgp_speaker_wait(struct bgp_speaker *s, long long int now)
{
    if (s->child) {
        process_wait(s->child);
        poll_timer_wait_until(s->child_start + s->config.timeout_ms);
    } else if (now < s->next_attempt) {
        poll_timer_wait_until(s->next_attempt);
    } else if (needs_apply(s)) {
        poll_immediate_wake();
    } else {
        poll_timer_wait_until(s->last_full == LLONG_MIN
                              ? now : s->last_full + s->config.resync_ms);
        poll_timer_wait_until(s->next_vty_check);
    }
}

bool
bgp_speaker_is_idle(const struct bgp_speaker *s)
{
    return !s->child && !needs_apply(s);
}

void
bgp_speaker_get_stats(const struct bgp_speaker *s,
                      struct bgp_speaker_stats *stats)
{
    *stats = s->stats;
}

static void
format_set(const struct bgp_announcement *set, size_t n, struct ds *out)
{
    size_t i;

    if (!n) {
        ds_put_cstr(out, " (none)");
    }
    for (i = 0; i < n; i++) {
        ds_put_format(out, " node %"PRIu32" via "IP_FMT" from "IP_FMT";",
                      set[i].node_id, IP_ARGS(set[i].next_hop),
                      IP_ARGS(set[i].local_addr));
    }
    ds_chomp(out, ';');
    ds_put_char(out, '\n');
}

void
bgp_speaker_format(const struct bgp_speaker *s, struct ds *out)
{
    const struct bgp_speaker_stats *st = &s->stats;

    ds_put_format(out, "bgp: bgpd at %s, AS %"PRIu32" -> router "IP_FMT
                  " AS %"PRIu32", %"PRIuSIZE" VIPs\n",
                  s->config.vty_dir, s->config.local_as,
                  IP_ARGS(s->config.router_addr), s->config.router_as,
                  s->config.n_vips);
    ds_put_cstr(out, "  desired:");
    format_set(s->desired, s->n_desired, out);
    ds_put_cstr(out, "  applied:");
    if (s->applied_known) {
        format_set(s->applied, s->n_applied, out);
    } else {
        ds_put_cstr(out, " (unknown)\n");
    }
    ds_put_format(out, "  state: %s\n",
                  s->child ? "applying" : needs_apply(s) ? "pending" : "idle");
    if (s->last_error) {
        ds_put_format(out, "  last error: %s\n", s->last_error);
    }
    ds_put_format(out, "  applies %"PRIu64" applied %"PRIu64" failures %"
                  PRIu64" timeouts %"PRIu64" opens %"PRIu64" closes %"PRIu64
                  " rejected %"PRIu64" restarts_seen %"PRIu64
                  " last_apply_ms %lld\n",
                  st->applies, st->applied, st->failures, st->timeouts,
                  st->opens, st->closes, st->rejected, st->restarts_seen,
                  st->last_apply_ms);
}
