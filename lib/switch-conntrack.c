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

struct switch_conntrack {
    char *rundir;
    uint64_t connection;        /* OpenFlow connection last applied to. */
    bool ready;                 /* Checking known to be off. */
    long long int next;         /* Next check or retry. */
    uint64_t n_applied;         /* Times checking was turned off. */
    uint64_t n_errors;
    char *last_error;
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
    sc->next = now + SWITCH_CONNTRACK_CHECK_MS;
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
}
