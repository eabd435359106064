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

/* ovs-dummy: see the header. */
#include <config.h>
#include "ovs-dummy.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "openvswitch/dynamic-string.h"
#include "util.h"

#define SCHEMA "/usr/share/openvswitch/vswitch.ovsschema"

char rundir[64];

/* Runs the shell command made from 'format'; returns its exit status (-1
 * if it did not exit). */
int
sh(const char *format, ...)
{
    va_list args;
    char *cmd;
    int status;

    va_start(args, format);
    cmd = xvasprintf(format, args);
    va_end(args);
    status = system(cmd);
    free(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Runs the shell command made from 'format'; returns its standard output,
 * which the caller must free. */
char *
sh_output(const char *format, ...)
{
    struct ds out = DS_EMPTY_INITIALIZER;
    va_list args;
    char buf[4096];
    char *cmd;
    FILE *stream;
    size_t n;

    va_start(args, format);
    cmd = xvasprintf(format, args);
    va_end(args);
    stream = popen(cmd, "r");
    ck_assert_msg(stream != NULL, "popen(%s) failed", cmd);
    while ((n = fread(buf, 1, sizeof buf, stream)) > 0) {
        ds_put_buffer(&out, buf, n);
    }
    pclose(stream);
    free(cmd);
    return ds_steal_cstr(&out);
}

/* Returns the contents of 'path' (to free), or NULL if it cannot be
 * read. */
char *
read_file(const char *path)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    FILE *stream = fopen(path, "r");
    char buf[4096];
    size_t n;

    if (!stream) {
        return NULL;
    }
    while ((n = fread(buf, 1, sizeof buf, stream)) > 0) {
        ds_put_buffer(&s, buf, n);
    }
    fclose(stream);
    return ds_steal_cstr(&s);
}

/* Makes a fresh run directory /tmp/PREFIX.XXXXXX and points the OVS
 * programs' directories at it. */
void
ovs_dummy_tmpdir(const char *prefix)
{
    snprintf(rundir, sizeof rundir, "/tmp/%s.XXXXXX",
             prefix);
    ck_assert_msg(mkdtemp(rundir) != NULL, "mkdtemp: %s",
                  ovs_strerror(errno));
    setenv("OVS_RUNDIR", rundir, 1);
    setenv("OVS_LOGDIR", rundir, 1);
    setenv("OVS_DBDIR", rundir, 1);
    setenv("OVS_SYSCONFDIR", rundir, 1);
}

/* Starts ovs-vswitchd (dummy datapaths only) on the run directory's
 * database. */
void
ovs_dummy_start_vswitchd(void)
{
    const char *d = rundir;

    ck_assert_int_eq(sh("/usr/sbin/ovs-vswitchd unix:%s/db.sock "
                                  "--enable-dummy --disable-system "
                                  "--disable-system-route "
                                  "--pidfile=%s/ovs-vswitchd.pid "
                                  "--unixctl=%s/ovs-vswitchd.ctl "
                                  "--log-file=%s/ovs-vswitchd.log "
                                  "--detach --no-chdir -vconsole:off "
                                  "2>>%s/stderr", d, d, d, d, d), 0);
}

/* A fresh run directory (ovs_dummy_tmpdir()) with ovsdb-server and
 * ovs-vswitchd running in it, and 'bridge' (datapath_type=dummy,
 * fail-mode=secure, OpenFlow 1.3 and 1.5) with the 'n_ports' dummy ports
 * 'ports'. */
void
ovs_dummy_start(const char *prefix, const char *bridge,
                const struct ovs_dummy_port *ports, size_t n_ports)
{
    const char *d;
    struct ds cmd = DS_EMPTY_INITIALIZER;

    ovs_dummy_tmpdir(prefix);
    d = rundir;
    ck_assert_int_eq(sh("ovsdb-tool create %s/conf.db %s", d,
                                  SCHEMA), 0);
    ck_assert_int_eq(sh("/usr/sbin/ovsdb-server %s/conf.db "
                                  "--remote=punix:%s/db.sock "
                                  "--pidfile=%s/ovsdb-server.pid "
                                  "--unixctl=%s/ovsdb-server.ctl "
                                  "--log-file=%s/ovsdb-server.log "
                                  "--detach --no-chdir -vconsole:off "
                                  "2>>%s/stderr", d, d, d, d, d, d), 0);
    ck_assert_int_eq(sh("ovs-vsctl --db=unix:%s/db.sock --no-wait "
                                  "init", d), 0);
    ovs_dummy_start_vswitchd();

    ds_put_format(&cmd, "ovs-vsctl --db=unix:%s/db.sock --timeout=10 "
                  "add-br %s -- set bridge %s datapath_type=dummy "
                  "fail-mode=secure protocols=OpenFlow13,OpenFlow15",
                  d, bridge, bridge);
    for (size_t i = 0; i < n_ports; i++) {
        ds_put_format(&cmd, " -- add-port %s %s -- set interface %s "
                      "type=dummy ofport_request=%d", bridge, ports[i].name,
                      ports[i].name, ports[i].ofport);
    }
    ck_assert_int_eq(sh("%s", ds_cstr(&cmd)), 0);
    ds_destroy(&cmd);
}

/* Returns true if process 'pid' exists and is not a zombie (a detached
 * daemon is nobody's child here, and may stay a zombie for a while). */
static bool
process_is_running(long pid)
{
    char *path = xasprintf("/proc/%ld/stat", pid);
    FILE *stream = fopen(path, "r");
    char state = 'X';

    free(path);
    if (stream) {
        if (fscanf(stream, "%*d (%*[^)]) %c", &state) != 1) {
            state = 'X';
        }
        fclose(stream);
    }
    return state != 'X' && state != 'Z';
}

/* Stops the daemon whose pid file is 'pidfile' in the run directory:
 * SIGTERM, then SIGKILL if it is still there after 2 s. */
void
ovs_dummy_stop_daemon(const char *pidfile)
{
    char *path = xasprintf("%s/%s", rundir, pidfile);
    FILE *stream = fopen(path, "r");
    long pid = 0;

    free(path);
    if (!stream) {
        return;
    }
    if (fscanf(stream, "%ld", &pid) != 1 || pid <= 1) {
        fclose(stream);
        return;
    }
    fclose(stream);

    kill(pid, SIGTERM);
    for (int i = 0; i < 200 && process_is_running(pid); i++) {
        usleep(10 * 1000);
    }
    if (process_is_running(pid)) {
        kill(pid, SIGKILL);
        usleep(50 * 1000);
    }
}

/* Stops both daemons and removes the run directory. */
void
ovs_dummy_stop(void)
{
    ovs_dummy_stop_daemon("ovs-vswitchd.pid");
    ovs_dummy_stop_daemon("ovsdb-server.pid");
    if (rundir[0]) {
        sh("rm -rf %s", rundir);
        rundir[0] = '\0';
    }
}
