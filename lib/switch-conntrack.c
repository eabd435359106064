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
#include "switch-conntrack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <limits.h>

#include "coverage.h"
#include "daemon.h"
#include "jsonrpc.h"
#include "metrics.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(switch_conntrack);

/* The userspace datapath, named so that dpctl does not have to guess: with
 * a kernel datapath in the same namespace it would refuse to choose. */
#define SWITCH_DATAPATH "netdev@ovs-netdev"

COVERAGE_DEFINE(switch_conntrack_error);

/* The counters of the switch's IP fragment reassembly ("ipf"), by the
 * names ovs-vswitchd's dpctl/ipf-get-status gives them after "v4 frags " or
 * "v6 frags ". */
static const char *const ipf_counter_names[SWITCH_IPF_N_COUNTERS] = {
    "accepted", "completed", "expired", "too small", "overlapped", "purged",
};

struct switch_conntrack {
    char *rundir;
    uint64_t connection;        /* OpenFlow connection last applied to. */
    bool ready;                 /* Checking known to be off. */
    long long int next;         /* Next check or retry. */
    uint64_t n_applied;         /* Times checking was turned off. */
    uint64_t n_errors;
    char *last_error;
    struct switch_ipf ipf;      /* Read with every check. */
};

/* Creates the keeper of the switch whose unixctl socket is in 'rundir'. */
struct switch_conntrack *
switch_conntrack_create(const char *rundir)
{
    struct switch_conntrack *sc = xzalloc(sizeof *sc);

    sc->rundir = xstrdup(rundir);
    sc->connection = UINT64_MAX;
    return sc;
}

/* Frees 'sc' (a null pointer: nothing). */
void
switch_conntrack_destroy(struct switch_conntrack *sc)
{
    if (sc) {
        free(sc->rundir);
        free(sc->last_error);
        free(sc);
    }
}

/* Runs 'command' on ovs-vswitchd; returns its output in '*result' (the
 * caller frees it) or an error message. */
static char *
vswitchd_command(const struct switch_conntrack *sc, const char *command,
                 char **result)
{
    char *pidfile = xasprintf("%s/ovs-vswitchd.pid", sc->rundir);
    char *argv[] = { CONST_CAST(char *, SWITCH_DATAPATH) };
    pid_t pid = 0;
    char *paths[2];
    size_t n = 0;
    char *error = NULL;

    /* (read_pidfile() logs a warning when the file is missing, and opens
     * it for writing: a daemon run as another user than the switch's
     * reaches it by its socket's fixed name alone.) */
    if (!access(pidfile, R_OK | W_OK)) {
        pid = read_pidfile(pidfile);
    }
    free(pidfile);
    if (pid > 0) {
        paths[n++] = xasprintf("%s/ovs-vswitchd.%ld.ctl", sc->rundir,
                               (long int) pid);
    }
    paths[n++] = xasprintf("%s/ovs-vswitchd.ctl", sc->rundir);

    *result = NULL;
    for (size_t i = 0; i < n && !*result; i++) {
        struct jsonrpc *client;
        char *cmd_error = NULL;
        int retval;

        if (access(paths[i], F_OK)) {
            continue;
        }
        retval = unixctl_client_create(paths[i], &client);
        if (!retval) {
            retval = unixctl_client_transact(client, command,
                                             ARRAY_SIZE(argv), argv,
                                             result, &cmd_error);
            jsonrpc_close(client);
        }
        free(error);
        error = (retval ? xasprintf("%s: %s", paths[i], ovs_strerror(retval))
                 : cmd_error ? xasprintf("%s: %s", command, cmd_error)
                 : NULL);
        free(cmd_error);
        if (error) {
            free(*result);
            *result = NULL;
        }
    }
    if (!*result && !error) {
        error = xasprintf("no ovs-vswitchd control socket in %s", sc->rundir);
    }
    for (size_t i = 0; i < n; i++) {
        free(paths[i]);
    }
    return error;
}

/* Parses 'text', the output of dpctl/ipf-get-status, into 'ipf'.  Returns
 * false if it lacks a line that it should have. */
static bool
parse_ipf_status(const char *text, struct switch_ipf *ipf)
{
    unsigned int seen = 0;      /* Bit per line found. */
    char *copy = xstrdup(text);
    char *save = NULL;

    memset(ipf, 0, sizeof *ipf);
    for (char *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *colon = strchr(line, ':');
        unsigned long long int value;

        if (!colon) {
            continue;
        }
        *colon = '\0';
        line += strspn(line, " \t");
        if (!str_to_ullong(colon + 1 + strspn(colon + 1, " "), 10, &value)) {
            continue;
        }
        if (!strcmp(line, "v4 enabled")) {
            ipf->v4_enabled = value != 0;
            seen |= 1u << 0;
        } else if (!strcmp(line, "v6 enabled")) {
            ipf->v6_enabled = value != 0;
            seen |= 1u << 1;
        } else if (!strcmp(line, "num frag")) {
            ipf->n_held = value;
            seen |= 1u << 2;
        } else {
            for (int v6 = 0; v6 < 2; v6++) {
                for (size_t i = 0; i < SWITCH_IPF_N_COUNTERS; i++) {
                    char name[64];

                    snprintf(name, sizeof name, "v%d frags %s", v6 ? 6 : 4,
                             ipf_counter_names[i]);
                    if (!strcmp(line, name)) {
                        (v6 ? ipf->v6 : ipf->v4)[i] = value;
                        seen |= 1u << (3 + i + v6 * SWITCH_IPF_N_COUNTERS);
                    }
                }
            }
        }
    }
    free(copy);
    ipf->known = seen == (1u << (3 + 2 * SWITCH_IPF_N_COUNTERS)) - 1;
    return ipf->known;
}

/* Reads the switch's fragment reassembly status into 'sc->ipf'.  It is what
 * a UDP VIP's fragments go through (flows/lb-pipeline.h); with it off for
 * IPv4, they are dropped, which is worth a warning. */
static void
read_ipf(struct switch_conntrack *sc)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 60);
    bool was_enabled = !sc->ipf.known || sc->ipf.v4_enabled;
    char *result, *error;

    error = vswitchd_command(sc, "dpctl/ipf-get-status", &result);
    if (error) {
        VLOG_DBG_RL(&rl, "cannot read the switch's fragment reassembly "
                    "status: %s", error);
        free(error);
        sc->ipf.known = false;
        return;
    }
    if (!parse_ipf_status(result, &sc->ipf)) {
        VLOG_WARN_RL(&rl, "unexpected fragment reassembly status from the "
                     "switch: %s", result);
    } else if (!sc->ipf.v4_enabled && was_enabled) {
        VLOG_WARN("the switch's IPv4 fragment reassembly is off: UDP VIPs "
                  "drop the fragments of datagrams larger than the path's "
                  "MTU (ovs-appctl dpctl/ipf-set-enabled v4 turns it on)");
    }
    free(result);
}

static void
note_error(struct switch_conntrack *sc, char *error, long long int now)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 10);

    VLOG_WARN_RL(&rl, "cannot turn the switch's TCP sequence checking off "
                 "(established connections would be dropped once past "
                 "their first window): %s", error);
    COVERAGE_INC(switch_conntrack_error);
    sc->n_errors++;
    sc->ready = false;
    free(sc->last_error);
    sc->last_error = error;
    sc->next = now + SWITCH_CONNTRACK_RETRY_MS;
}

/* Turns the switch's TCP sequence checking off at once if 'connection' (a
 * counter of OpenFlow connections to the switch; 0 for none yet) changed,
 * and checks it when it is due. */
void
switch_conntrack_run(struct switch_conntrack *sc, uint64_t connection,
                     long long int now)
{
    char *result, *error;

    if (!connection) {
        /* Nothing to do until there is a connection, which
         * switch_conntrack_run() learns in a pass of its own: no timer. */
        sc->ready = false;
        sc->next = LLONG_MAX;
        return;
    }
    if (connection == sc->connection && now < sc->next) {
        return;
    }
    if (connection == sc->connection && sc->ready) {
        error = vswitchd_command(sc, "dpctl/ct-get-tcp-seq-chk", &result);
        if (error) {
            /* The setting lives as long as the switch, which has not
             * reconnected: a failed check (a busy switch) does not mean
             * it is on again.  Try again soon. */
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 10);

            VLOG_WARN_RL(&rl, "cannot check the switch's TCP sequence "
                         "checking: %s", error);
            COVERAGE_INC(switch_conntrack_error);
            sc->n_errors++;
            free(sc->last_error);
            sc->last_error = error;
            sc->next = now + SWITCH_CONNTRACK_RETRY_MS;
            return;
        }
        bool off = strstr(result, "disabled") != NULL;
        free(result);
        if (off) {
            read_ipf(sc);
            sc->next = now + SWITCH_CONNTRACK_CHECK_MS;
            return;
        }
        VLOG_WARN("the switch's TCP sequence checking is on again: "
                  "turning it off");
    }
    sc->connection = connection;
    error = vswitchd_command(sc, "dpctl/ct-disable-tcp-seq-chk", &result);
    if (error) {
        note_error(sc, error, now);
        return;
    }
    free(result);
    if (!sc->ready) {
        VLOG_INFO("the switch's TCP sequence checking is off");
    }
    sc->ready = true;
    sc->n_applied++;
    read_ipf(sc);
    sc->next = now + SWITCH_CONNTRACK_CHECK_MS;
}

/* The switch's fragment reassembly status, as last read ('known' false if
 * it could not be). */
const struct switch_ipf *
switch_conntrack_ipf(const struct switch_conntrack *sc)
{
    return &sc->ipf;
}

/* When switch_conntrack_run() next has work (if the connection does not
 * change before). */
long long int
switch_conntrack_next_deadline(const struct switch_conntrack *sc)
{
    return sc->next;
}

/* Whether the switch's TCP sequence checking is known to be off. */
bool
switch_conntrack_ready(const struct switch_conntrack *sc)
{
    return sc->ready;
}

/* Appends to 's' one line for ovslb/stats: whether checking is off, and
 * the counters. */
void
switch_conntrack_format(const struct switch_conntrack *sc, struct ds *s)
{
    ds_put_format(s, "switch TCP sequence checking: %s (turned off %"PRIu64
                  " times, errors %"PRIu64"%s%s)\n",
                  sc->ready ? "off" : "not known to be off", sc->n_applied,
                  sc->n_errors, sc->last_error ? ", last: " : "",
                  sc->last_error ? sc->last_error : "");
    if (!sc->ipf.known) {
        ds_put_cstr(s, "switch fragment reassembly: not known\n");
        return;
    }
    ds_put_format(s, "switch fragment reassembly: v4 %s, v6 %s, %"PRIu64
                  " fragments held\n", sc->ipf.v4_enabled ? "on" : "OFF",
                  sc->ipf.v6_enabled ? "on" : "off", sc->ipf.n_held);
    for (int v6 = 0; v6 < 2; v6++) {
        ds_put_format(s, "  v%d fragments:", v6 ? 6 : 4);
        for (size_t i = 0; i < SWITCH_IPF_N_COUNTERS; i++) {
            ds_put_format(s, " %s %"PRIu64, ipf_counter_names[i],
                          (v6 ? sc->ipf.v6 : sc->ipf.v4)[i]);
        }
        ds_put_char(s, '\n');
    }
}

/* Adds to 'm' whether the switch's TCP sequence checking is known to be off
 * and the counts of 'sc'. */
void
switch_conntrack_put_metrics(const struct switch_conntrack *sc,
                             struct metrics *m)
{
    metrics_put(m, "ovslb_lb_switch_seq_check_off", METRICS_GAUGE,
                "1 if the switch's TCP sequence checking is known to be "
                "off.", sc->ready, NULL);
    metrics_put(m, "ovslb_lb_switch_seq_check_turned_off_total",
                METRICS_COUNTER,
                "Times the switch's TCP sequence checking was turned off.",
                sc->n_applied, NULL);
    metrics_put(m, "ovslb_lb_switch_seq_check_errors_total",
                METRICS_COUNTER,
                "Failures to turn the switch's TCP sequence checking off.",
                sc->n_errors, NULL);
    if (sc->ipf.known) {
        metrics_put(m, "ovslb_lb_switch_ipf_v4_enabled", METRICS_GAUGE,
                    "1 if the switch reassembles IPv4 fragments (UDP VIPs "
                    "need it for datagrams larger than the path's MTU).",
                    sc->ipf.v4_enabled, NULL);
        metrics_put(m, "ovslb_lb_switch_ipf_fragments_held", METRICS_GAUGE,
                    "IP fragments the switch holds for reassembly.",
                    sc->ipf.n_held, NULL);
        for (int v6 = 0; v6 < 2; v6++) {
            for (size_t i = 0; i < SWITCH_IPF_N_COUNTERS; i++) {
                char reason[32];

                snprintf(reason, sizeof reason, "%s", ipf_counter_names[i]);
                for (char *p = reason; *p; p++) {
                    *p = *p == ' ' ? '_' : *p;
                }
                metrics_put(m, "ovslb_lb_switch_ipf_fragments_total",
                            METRICS_COUNTER,
                            "IP fragments the switch's reassembly saw, by "
                            "family and outcome (as its "
                            "dpctl/ipf-get-status).",
                            (v6 ? sc->ipf.v6 : sc->ipf.v4)[i],
                            "family", v6 ? "ipv6" : "ipv4",
                            "outcome", reason, NULL);
            }
        }
    }
}
