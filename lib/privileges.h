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
 * privileges: what an ovslb daemon keeps of root's privileges, and the
 * modes of the files it creates.
 *
 * A daemon started as root with "--user USER[:GROUP]" becomes USER (with
 * GROUP, by default USER's login group, and USER's supplementary groups
 * from the group database: the groups that give it the sockets of Open
 * vSwitch and of FRR's bgpd) and keeps only the Linux capabilities it
 * names, each with the reason it needs it, which the log states at INFO.
 * A capability is kept either effective (in use all the time) or only
 * permitted: then privileges_raise() makes it effective around the one
 * system call that needs it and privileges_lower() drops it again.  The
 * bounding set is cleared, so no program the daemon runs (vtysh) gains a
 * capability.  Without --user the daemon keeps running as root with every
 * capability and privileges_raise() does nothing.
 *
 * Either way the daemon's umask becomes 027: its SQLite store (with its
 * -wal and -shm files), metrics file, pid file and log file are readable by
 * its owner and group only.  (The unixctl socket is 0770 whatever the
 * umask: libopenvswitch sets its mode.)
 *
 * libopenvswitch parses a --user option of its own (DAEMON_LONG_OPTIONS)
 * that keeps a fixed set of capabilities, none of them only permitted, and
 * drops the supplementary groups; ovslb's replaces it: a daemon lists
 * PRIVILEGES_LONG_OPTIONS before DAEMON_LONG_OPTIONS, and getopt_long()
 * takes the first entry that matches "--user" exactly.
 *
 * Single-threaded: call everything from the daemon's main thread, before it
 * starts any other thread.
 */
#ifndef OVSLB_PRIVILEGES_H
#define OVSLB_PRIVILEGES_H 1

#include <stdbool.h>
#include <stddef.h>

/* The umask of an ovslb daemon. */
#define PRIVILEGES_UMASK 027

#define PRIVILEGES_OPTION_ENUMS OPT_PRIVILEGES_USER

#define PRIVILEGES_LONG_OPTIONS \
        {"user", required_argument, NULL, OPT_PRIVILEGES_USER}

#define PRIVILEGES_OPTION_HANDLERS              \
        case OPT_PRIVILEGES_USER:               \
            privileges_set_user(optarg);        \
            break;

/* A capability that a daemon keeps under --user. */
struct privileges_cap {
    int cap;                    /* CAP_*, from <linux/capability.h>. */
    bool effective;             /* False: permitted only, see above. */
    const char *why;            /* What needs it, for the log. */
};

void privileges_set_user(const char *user_spec);
bool privileges_user_is_set(void);
void privileges_drop(const struct privileges_cap *, size_t n);
int privileges_raise(int cap);
void privileges_lower(int cap);
void privileges_usage(void);

#endif /* privileges.h */
