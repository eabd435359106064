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
 * ovslb-agent: the server node's daemon.  Parses the options, builds the
 * agent (agent.h) and runs its loop.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "command-line.h"
#include "daemon.h"
#include "dirs.h"
#include "fatal-signal.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "privileges.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ovslb_agent);

static char *unixctl_path;
static char *ovs_remote;
static struct agent_options options;

/* What the daemon keeps under --user (privileges.h, ovslb-agent(8)); with
 * --netns-access also CAP_SYS_ADMIN, only permitted (sock-diag.c raises it
 * around setns()).  OpenFlow and both databases are unix sockets (group
 * access), the store and the metrics file are the user's own files, and
 * the socket table of the agent's own namespace needs nothing. */
static bool netns_access;
static const struct privileges_cap caps[] = {
    {CAP_NET_RAW, true,
     "reading and writing the translation port (libpcap, AF_PACKET)"},
    {CAP_NET_ADMIN, true,
     "bringing the translation port up and turning IPv6 off on it"},
    {CAP_NET_BIND_SERVICE, true,
     "binding the control port if the config service sets one below 1024 "
     "(control_port)"},
    /* Last: left out without --netns-access. */
    {CAP_SYS_ADMIN, false,
     "entering the network namespaces that the config service names for "
     "this server (netns) to read their socket tables (--netns-access)"},
};

static void parse_options(int argc, char *argv[]);
OVS_NO_RETURN static void usage(void);

static unixctl_cb_func ovslb_agent_exit;

int
main(int argc, char *argv[])
{
    struct unixctl_server *unixctl;
    struct agent *agent;
    bool exiting = false;

    /* ovslb's version, not libopenvswitch's, for "ovs-appctl version". */
    ovs_set_program_name(argv[0], "(ovslb) " PACKAGE_VERSION);
    ovs_cmdl_proctitle_init(argc, argv);
    agent_options_init(&options);
    parse_options(argc, argv);
    fatal_ignore_sigpipe();

    privileges_drop(caps, ARRAY_SIZE(caps) - !netns_access);
    daemonize_start(false);
    if (unixctl_server_create(unixctl_path, &unixctl)) {
        exit(EXIT_FAILURE);
    }
    unixctl_command_register("exit", "", 0, 0, ovslb_agent_exit, &exiting);
    agent = agent_create(ovs_remote, &options);
    daemonize_complete();
    VLOG_INFO("ovslb-agent (ovslb "PACKAGE_VERSION") starting");

    while (!exiting) {
        agent_run(agent);
        unixctl_server_run(unixctl);
        agent_wait(agent);
        unixctl_server_wait(unixctl);
        poll_block();
    }

    agent_destroy(agent);
    unixctl_server_destroy(unixctl);
    free(ovs_remote);
    return 0;
}

static void
ovslb_agent_exit(struct unixctl_conn *conn, int argc OVS_UNUSED,
                 const char *argv[] OVS_UNUSED, void *exiting_)
{
    bool *exiting = exiting_;

    *exiting = true;
    unixctl_command_reply(conn, NULL);
}

static void
parse_options(int argc, char *argv[])
{
    enum {
        OPT_UNIXCTL = UCHAR_MAX + 1,
        OPT_NETNS_ACCESS,
        PRIVILEGES_OPTION_ENUMS,
        VLOG_OPTION_ENUMS,
        DAEMON_OPTION_ENUMS,
    };
    static const struct option long_options[] = {
        {"db", required_argument, NULL, 'd'},
        {"unixctl", required_argument, NULL, OPT_UNIXCTL},
        {"help", no_argument, NULL, 'h'},
        {"netns-access", no_argument, NULL, OPT_NETNS_ACCESS},
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
        case OPT_NETNS_ACCESS:
            netns_access = true;
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
    printf("%s: the ovslb server node daemon\n"
           "usage: %s [OPTIONS]\n"
           "\n"
           "Attaches to the bridge named by this node's external_ids\n"
           "(ovslb-bridge) in the local Open vSwitch database, follows the\n"
           "config service named there (ovslb-config), admits the\n"
           "connections the LB tier offers, completes their handshakes with\n"
           "the local stack and translates their segments.\n"
           "\n"
           "Options:\n"
           "  --db=REMOTE        local Open vSwitch database (default:\n"
           "                     unix:%s/db.sock)\n"
           "  --unixctl=SOCKET   ovs-appctl socket (default: in the run "
           "directory)\n"
           "  --netns-access     with --user, keep the capability to enter\n"
           "                     the network namespaces of the config's\n"
           "                     netns column (CAP_SYS_ADMIN)\n"
           "  -h, --help         this help\n"
           "  -V, --version      the version\n",
           program_name, program_name, ovs_rundir());
    daemon_usage();
    privileges_usage();
    vlog_usage();
    printf("\nCommands of ovs-appctl -t %s: ovslb/show, ovslb/conns,\n"
           "ovslb/stats, ovslb/set-limits, exit, plus vlog/set, vlog/list "
           "and\ncoverage/show.\n", program_name);
    exit(EXIT_SUCCESS);
}
