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
 * test-cluster-config: drives a cluster-config client in its poll loop, the
 * way a daemon does, against a real config service, while the steps given on
 * the command line edit the database (with ovslb-ctl) or stop and start its
 * servers.  Used by tests/cluster-config-live.sh and
 * tests/system/config-raft.sh.
 *
 *   test-cluster-config REMOTES CTL STEP...
 *
 * Steps, run in order:
 *   ctl:ARGS      run "CTL ARGS"; it must exit 0.
 *   sh:COMMAND    run COMMAND with /bin/sh; it must exit 0.
 *   has:LINE      wait (10 s at most) until the snapshot, rendered as text
 *                 (one line per setting, node and VIP, see render()),
 *                 has the line LINE.
 *   lacks:PREFIX  wait until no line of the snapshot starts with PREFIX.
 *   restart:COMMAND  run COMMAND (which stops and starts servers), then
 *                 wait until the client has reconnected, and check that the
 *                 reconnection alone did not change the configuration's
 *                 sequence number.
 *   dump          print the rendered snapshot.
 *   acked:I:ARGS  run "CTL ARGS" (with a --wait) in the background while a
 *                 second client, on the I-th remote of REMOTES alone (1 is
 *                 the first), acknowledges every configuration as LB node 1
 *                 (cluster_config_ack(), as ovslb-controller does); it must
 *                 exit 0 within 10 s.
 * Each "has", "lacks" and "restart" step is one case: it prints "PASS:" or
 * "FAIL:", and the program ends with "N passed, M failed".
 *
 *   test-cluster-config --node-settings LOCAL_DB RUNDIR
 *
 * reads this node's settings from the Open_vSwitch table of the local OVS
 * database LOCAL_DB (node-settings), prints them on one line or prints the
 * error and exits 1.
 */

#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster-config.h"
#include "node-settings.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "packets.h"
#include "timeval.h"
#include "util.h"
#include "vswitch-idl.h"

#define WAIT_MS 10000

static int n_passed;
static int n_failed;

static void
report(bool ok, const char *format, ...) OVS_PRINTF_FORMAT(2, 3);

static void
report(bool ok, const char *format, ...)
{
    va_list args;

    printf("%s: ", ok ? "PASS" : "FAIL");
    va_start(args, format);
    vprintf(format, args);
    va_end(args);
    putchar('\n');
    fflush(stdout);
    if (ok) {
        n_passed++;
    } else {
        n_failed++;
    }
}

static void
put_address(struct ds *s, const struct in6_addr *addr)
{
    char buf[INET6_ADDRSTRLEN];
    ds_put_cstr(s, ipv6_string_mapped(buf, addr));
}

/* Renders 'snap' as text, one line per item, so that the steps can name
 * what they expect. */
static void
render(const struct cluster_snapshot *snap, struct ds *s)
{
    const struct cluster_settings *settings = &snap->settings;

    ds_put_format(s, "cluster name=%s key=%s next=%s\n", settings->name,
                  settings->cluster_key, settings->cluster_key_next);
    for (size_t i = 0; i < cluster_n_setting_defs; i++) {
        const struct cluster_setting *def = &cluster_setting_defs[i];
        ds_put_format(s, "setting %s=%"PRIu32"\n", def->name,
                      cluster_setting_get(settings, def));
    }
    ds_put_format(s, "rejected %"PRIuSIZE"\n", snap->n_rejected);
    for (size_t i = 0; i < snap->n_lb_nodes; i++) {
        const struct cluster_lb_node *node = &snap->lb_nodes[i];

        ds_put_format(s, "lb-node %"PRIu32" north=", node->node_id);
        put_address(s, &node->north);
        ds_put_cstr(s, " south=");
        put_address(s, &node->south);
        ds_put_cstr(s, " control=");
        put_address(s, &node->control);
        ds_put_format(s, " zone=%s %s\n", node->zone,
                      node->enabled ? "up" : "down");
    }
    for (size_t i = 0; i < snap->n_server_nodes; i++) {
        const struct cluster_server_node *node = &snap->server_nodes[i];

        ds_put_format(s, "server-node %"PRIu32" underlay=", node->node_id);
        put_address(s, &node->underlay);
        ds_put_cstr(s, " control=");
        put_address(s, &node->control);
        ds_put_format(s, " zone=%s netns=", node->zone);
        for (size_t j = 0; j < node->n_netns; j++) {
            ds_put_format(s, "%s%s", j ? "," : "", node->netns[j]);
        }
        ds_put_format(s, " %s\n", node->enabled ? "up" : "down");
    }
    for (size_t i = 0; i < snap->n_vips; i++) {
        const struct cluster_vip *vip = &snap->vips[i];

        ds_put_format(s, "vip %s ", vip->name);
        put_address(s, &vip->address);
        ds_put_cstr(s, " ports=");
        for (size_t j = 0; j < vip->n_ports; j++) {
            ds_put_format(s, "%s%"PRIu16, j ? "," : "", vip->ports[j]);
        }
        ds_put_format(s, " %s mode=%s algorithm=%s mss=%"PRIu16
                      " wscale=%"PRIu8" ttl=%"PRIu8" %s servers=",
                      vip->protocol == IPPROTO_UDP ? "udp" : "tcp",
                      cluster_vip_mode_to_string(vip->mode),
                      cluster_vip_algorithm_to_string(vip->algorithm),
                      vip->mss, vip->wscale, vip->ttl,
                      vip->enabled ? "up" : "down");
        for (size_t j = 0; j < vip->n_servers; j++) {
            ds_put_format(s, "%s%"PRIu32":%"PRIu32, j ? "," : "",
                          vip->servers[j].node_id, vip->servers[j].weight);
        }
        ds_put_char(s, '\n');

        const struct cluster_vip_health *h = &vip->health;
        ds_put_format(s, "vip-health %s %s path=%s status=%"PRIu16
                      " interval_ms=%"PRIu32" timeout_ms=%"PRIu32
                      " rise=%"PRIu32" fall=%"PRIu32"\n", vip->name,
                      cluster_health_type_to_string(h->type), h->http_path,
                      h->http_status, h->interval_ms, h->timeout_ms,
                      h->rise, h->fall);
    }
}

static bool
rendered_has_line(const struct cluster_config *cc, const char *line,
                  bool prefix_only)
{
    const struct cluster_snapshot *snap = cluster_config_snapshot(cc);
    struct ds text = DS_EMPTY_INITIALIZER;
    bool found = false;
    size_t len = strlen(line);

    if (!snap) {
        return false;
    }
    render(snap, &text);
    for (const char *p = ds_cstr(&text); *p; ) {
        const char *end = strchr(p, '\n');
        size_t n = end - p;

        if (prefix_only ? n >= len && !strncmp(p, line, len)
                        : n == len && !strncmp(p, line, len)) {
            found = true;
            break;
        }
        p = end + 1;
    }
    ds_destroy(&text);
    return found;
}

enum wait_goal {
    GOAL_SNAPSHOT,
    GOAL_HAS,
    GOAL_LACKS,
    GOAL_RECONNECTED,
};

/* Runs the client's loop until 'goal' holds or WAIT_MS pass.  Returns true
 * if it holds. */
static bool
wait_for(struct cluster_config *cc, enum wait_goal goal, const char *arg,
         unsigned int n_connects)
{
    long long int deadline = time_msec() + WAIT_MS;

    for (;;) {
        bool done = false;

        cluster_config_run(cc);
        switch (goal) {
        case GOAL_SNAPSHOT:
            done = cluster_config_snapshot(cc) != NULL;
            break;
        case GOAL_HAS:
            done = rendered_has_line(cc, arg, false);
            break;
        case GOAL_LACKS:
            done = (cluster_config_snapshot(cc)
                    && !rendered_has_line(cc, arg, true));
            break;
        case GOAL_RECONNECTED:
            done = (cluster_config_n_connects(cc) > n_connects
                    && cluster_config_is_connected(cc));
            break;
        }
        if (done) {
            return true;
        }
        if (time_msec() >= deadline) {
            return false;
        }
        cluster_config_wait(cc);
        poll_timer_wait_until(deadline);
        poll_block();
    }
}

static void
dump(const struct cluster_config *cc)
{
    const struct cluster_snapshot *snap = cluster_config_snapshot(cc);
    struct ds text = DS_EMPTY_INITIALIZER;

    if (snap) {
        render(snap, &text);
    }
    printf("snapshot %"PRIu64" (%s):\n%s", cluster_config_seqno(cc),
           cluster_config_is_connected(cc) ? "connected" : "disconnected",
           ds_cstr(&text));
    ds_destroy(&text);
}

static void
run_shell(const char *command)
{
    fflush(stdout);
    int status = system(command);
    if (status) {
        ovs_fatal(0, "'%s' failed (status %d)", command, status);
    }
}

/* The "acked" step: see the comment at the top. */
static bool
run_acked(const char *remotes, const char *ctl, const char *arg)
{
    char **remote_list = NULL;
    size_t n_remotes = 0, allocated = 0;
    char *copy = xstrdup(remotes), *save_ptr = NULL;
    unsigned int index;
    int n = 0;

    for (char *r = strtok_r(copy, ",", &save_ptr); r;
         r = strtok_r(NULL, ",", &save_ptr)) {
        if (n_remotes >= allocated) {
            remote_list = x2nrealloc(remote_list, &allocated,
                                     sizeof *remote_list);
        }
        remote_list[n_remotes++] = r;
    }
    if (sscanf(arg, "%u:%n", &index, &n) != 1 || !n || !index
        || index > n_remotes) {
        ovs_fatal(0, "acked:%s: expected acked:I:ARGS, I from 1 to %"PRIuSIZE,
                  arg, n_remotes);
    }

    struct cluster_config *acker = cluster_config_create(
        remote_list[index - 1]);
    char *command = xasprintf("%s %s", ctl, arg + n);
    long long int deadline = time_msec() + WAIT_MS;
    bool ok = false;

    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        ovs_fatal(errno, "fork");
    } else if (!pid) {
        execl("/bin/sh", "sh", "-c", command, (char *) NULL);
        _exit(127);
    }
    for (;;) {
        int status;

        cluster_config_run(acker);
        cluster_config_ack(acker, CLUSTER_NODE_LB, 1);
        if (waitpid(pid, &status, WNOHANG) == pid) {
            ok = WIFEXITED(status) && !WEXITSTATUS(status);
            break;
        }
        if (time_msec() >= deadline) {
            kill(pid, SIGTERM);
            waitpid(pid, NULL, 0);
            break;
        }
        cluster_config_wait(acker);
        poll_timer_wait(50);    /* For the child's exit. */
        poll_block();
    }
    cluster_config_destroy(acker);
    free(command);
    free(remote_list);
    free(copy);
    return ok;
}

static int
run_steps(const char *remotes, const char *ctl, int n_steps, char *steps[])
{
    struct cluster_config *cc = cluster_config_create(remotes);

    report(wait_for(cc, GOAL_SNAPSHOT, NULL, 0)
           && cluster_config_is_connected(cc)
           && cluster_config_seqno(cc) == 1,
           "the client connects to %s and gets its first configuration",
           remotes);

    for (int i = 0; i < n_steps; i++) {
        const char *step = steps[i];
        const char *colon = strchr(step, ':');
        const char *arg = colon ? colon + 1 : "";
        char *kind = colon ? xmemdup0(step, colon - step) : xstrdup(step);

        if (!strcmp(kind, "ctl")) {
            char *command = xasprintf("%s %s", ctl, arg);
            run_shell(command);
            free(command);
        } else if (!strcmp(kind, "sh")) {
            run_shell(arg);
        } else if (!strcmp(kind, "has")) {
            report(wait_for(cc, GOAL_HAS, arg, 0),
                   "the running client sees \"%s\"", arg);
        } else if (!strcmp(kind, "lacks")) {
            report(wait_for(cc, GOAL_LACKS, arg, 0),
                   "the running client no longer sees \"%s...\"", arg);
        } else if (!strcmp(kind, "restart")) {
            unsigned int n_connects = cluster_config_n_connects(cc);
            uint64_t seqno = cluster_config_seqno(cc);

            run_shell(arg);
            report(wait_for(cc, GOAL_RECONNECTED, NULL, n_connects),
                   "the client reconnects by itself after '%s'", arg);
            report(cluster_config_seqno(cc) == seqno,
                   "reconnecting to the same configuration changes nothing "
                   "(seqno %"PRIu64", was %"PRIu64")",
                   cluster_config_seqno(cc), seqno);
        } else if (!strcmp(kind, "acked")) {
            report(run_acked(remotes, ctl, arg),
                   "'%s' returns once a client of remote %.*s alone has "
                   "acknowledged", strchr(arg, ':') ? strchr(arg, ':') + 1
                                                    : arg,
                   (int) strcspn(arg, ":"), arg);
        } else if (!strcmp(kind, "dump")) {
            dump(cc);
        } else {
            ovs_fatal(0, "%s: unknown step", step);
        }
        free(kind);
    }
    if (n_failed) {
        dump(cc);
    }
    cluster_config_destroy(cc);

    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int
read_node_settings(const char *db, const char *rundir)
{
    struct ovsdb_idl *idl = ovsdb_idl_create(db, &ovsrec_idl_class, false,
                                             false);
    long long int deadline = time_msec() + WAIT_MS;
    struct node_settings s;
    char *error;

    node_settings_add_columns(idl);
    for (;;) {
        ovsdb_idl_run(idl);
        if (!ovsdb_idl_is_alive(idl)) {
            ovs_fatal(0, "%s: connection failed", db);
        }
        if (ovsdb_idl_has_ever_connected(idl)) {
            break;
        }
        if (time_msec() >= deadline) {
            ovs_fatal(0, "%s: timeout", db);
        }
        ovsdb_idl_wait(idl);
        poll_timer_wait_until(deadline);
        poll_block();
    }

    error = node_settings_read(idl, rundir, &s);
    ovsdb_idl_destroy(idl);
    if (error) {
        printf("error: %s\n", error);
        free(error);
        return EXIT_FAILURE;
    }
    printf("node_id=%"PRIu32" role=%s bridge=%s config=%s north_port=%s "
           "store=%s\n", s.node_id, node_role_to_string(s.role), s.bridge,
           s.config, s.north_port ? s.north_port : "(none)", s.store);
    node_settings_destroy(&s);
    return EXIT_SUCCESS;
}

int
main(int argc, char *argv[])
{
    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_ERR);

    if (argc == 4 && !strcmp(argv[1], "--node-settings")) {
        return read_node_settings(argv[2], argv[3]);
    }
    if (argc < 3) {
        ovs_fatal(0, "usage: %s REMOTES CTL STEP... | --node-settings "
                  "LOCAL_DB RUNDIR", program_name);
    }
    return run_steps(argv[1], argv[2], argc - 3, argv + 3);
}
