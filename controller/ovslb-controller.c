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
 * ovslb-controller: the LB node's daemon.  Parses the options, builds the
 * controller (controller.h) and runs its loop.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command-line.h"
#include "controller/controller.h"
#include "daemon.h"
#include "dirs.h"
#include "fatal-signal.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "privileges.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ovslb_controller);

static char *unixctl_path;
static char *ovs_remote;

static void parse_options(int argc, char *argv[]);
OVS_NO_RETURN static void usage(void);

static unixctl_cb_func ovslb_exit;

/* What the daemon keeps under --user (privileges.h, ovslb-controller(8)).
 * Nothing else needs a capability: OpenFlow and both databases are unix
 * sockets (group access), BGP is vtysh on bgpd's vty socket (group
 * frrvty), the store and the metrics file are the user's own files. */
static const struct privileges_cap caps[] = {
    {CAP_NET_BIND_SERVICE, true,
     "binding the control and publication ports if the config service "
     "sets one below 1024 (control_port, publish_port)"},
};

int
main(int argc, char *argv[])
{
    struct unixctl_server *unixctl;
    struct controller *c;
    bool exiting = false;
    int retval;

    /* ovslb's version, not libopenvswitch's, for "ovs-appctl version". */
    ovs_set_program_name(argv[0], "(ovslb) " PACKAGE_VERSION);
    ovs_cmdl_proctitle_init(argc, argv);
    parse_options(argc, argv);
    fatal_ignore_sigpipe();

    privileges_drop(caps, ARRAY_SIZE(caps));
    daemonize_start(false);
    retval = unixctl_server_create(unixctl_path, &unixctl);
    if (retval) {
        exit(EXIT_FAILURE);
    }

    unixctl_command_register("exit", "", 0, 0, ovslb_exit, &exiting);
    c = controller_create(ovs_remote);
    daemonize_complete();
    VLOG_INFO("ovslb-controller (ovslb "PACKAGE_VERSION") starting");

    while (!exiting) {
        controller_run(c);
        unixctl_server_run(unixctl);
        controller_wait(c);
        unixctl_server_wait(unixctl);
        poll_block();
    }

    unixctl_server_destroy(unixctl);
    controller_destroy(c);
    free(ovs_remote);
    return 0;
}

static void
ovslb_exit(struct unixctl_conn *conn, int argc OVS_UNUSED,
           const char *argv[] OVS_UNUSED, void *exiting_)
{
    bool *exiting = exiting_;

    *exiting = true;
    unixctl_command_reply(conn, NULL);
}

/* Options. */

static void
parse_options(int argc, char *argv[])
{
    enum {
        OPT_UNIXCTL = UCHAR_MAX + 1,
        PRIVILEGES_OPTION_ENUMS,
        VLOG_OPTION_ENUMS,
        DAEMON_OPTION_ENUMS,
    };
    static const struct option long_options[] = {
        {"db", required_argument, NULL, 'd'},
        {"unixctl", required_argument, NULL, OPT_UNIXCTL},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        PRIVILEGES_LONG_OPTIONS,    /* Before DAEMON_LONG_OPTIONS' "user". */
        DAEMON_LONG_OPTIONS,
        VLOG_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    char *short_options = ovs_cmdl_long_options_to_short_options(long_options);

    for (;;) {
        int c = getopt_long(argc, argv, short_options, long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case 'd':
            free(ovs_remote);
            ovs_remote = xstrdup(optarg);
            break;
        case OPT_UNIXCTL:
            unixctl_path = optarg;
            break;
        case 'h':
            usage();
        case 'V':
            printf("%s (ovslb) %s\n", program_name, PACKAGE_VERSION);
            exit(EXIT_SUCCESS);
        PRIVILEGES_OPTION_HANDLERS
        VLOG_OPTION_HANDLERS
        DAEMON_OPTION_HANDLERS
        case '?':
            exit(EXIT_FAILURE);
        default:
            abort();
        }
    }
    free(short_options);

    if (optind < argc) {
        ovs_fatal(0, "unexpected argument \"%s\" (try --help)", argv[optind]);
    }
    if (!ovs_remote) {
        ovs_remote = xasprintf("unix:%s/db.sock", ovs_rundir());
    }
}

static void
usage(void)
{
    printf("%s: the ovslb LB node daemon\n"
           "usage: %s [OPTIONS]\n"
           "\n"
           "Attaches to the bridge named by this node's external_ids\n"
           "(ovslb-bridge) in the local Open vSwitch database, follows the\n"
           "config service named there (ovslb-config) and plays the ingress,\n"
           "flow-tracker and egress roles of an LB node.\n"
           "\n"
           "Options:\n"
           "  --db=REMOTE      local Open vSwitch database (default:\n"
           "                   unix:%s/db.sock)\n"
           "  --unixctl=SOCKET ovs-appctl socket (default: in the run "
           "directory)\n"
           "  -h, --help       this help\n"
           "  -V, --version    the version\n",
           program_name, program_name, ovs_rundir());
    daemon_usage();
    privileges_usage();
    vlog_usage();
    printf("\nCommands of ovs-appctl -t %s: ovslb/show, ovslb/flows, "
           "ovslb/stats,\novslb/health, exit, plus vlog/set, vlog/list and "
           "coverage/show.\n", program_name);
    exit(EXIT_SUCCESS);
}
