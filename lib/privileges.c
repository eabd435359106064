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
#include "privileges.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#ifdef HAVE_LIBCAPNG
#include <cap-ng.h>
#endif

#include "coverage.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(privileges);

COVERAGE_DEFINE(privileges_refused);

/* The --user option, once parsed. */
static bool switch_user;
static char *user_name;
static uid_t user_uid;
static gid_t user_gid;

/* True once privileges_drop() switched to 'user_uid'. */
static bool dropped;

/* Parses 'user_spec', "USER[:GROUP]", the argument of --user: the daemon
 * will run as USER, with GROUP (a group of USER's) or USER's login group.
 * Exits with an error message if the spec names no such user or group, or
 * if the daemon does not run as root. */
void
privileges_set_user(const char *user_spec)
{
    const char *colon = strchr(user_spec, ':');
    char *name = (colon
                  ? xmemdup0(user_spec, colon - user_spec)
                  : xstrdup(user_spec));
    const struct passwd *pw;

    if (geteuid()) {
        ovs_fatal(0, "--user=%s: only root can switch to another user",
                  user_spec);
    }
    if (!name[0]) {
        ovs_fatal(0, "--user=%s: no user name", user_spec);
    }
    pw = getpwnam(name);
    if (!pw) {
        ovs_fatal(0, "--user=%s: no user %s", user_spec, name);
    }
    if (!pw->pw_uid) {
        ovs_fatal(0, "--user=%s: %s is root; name an unprivileged user",
                  user_spec, name);
    }
    user_uid = pw->pw_uid;
    user_gid = pw->pw_gid;

    if (colon && colon[1]) {
        const struct group *gr = getgrnam(colon + 1);
        bool member = false;

        if (!gr) {
            ovs_fatal(0, "--user=%s: no group %s", user_spec, colon + 1);
        }
        member = gr->gr_gid == user_gid;
        for (char **m = gr->gr_mem; !member && *m; m++) {
            member = !strcmp(*m, name);
        }
        if (!member) {
            ovs_fatal(0, "--user=%s: user %s is not in group %s", user_spec,
                      name, colon + 1);
        }
        user_gid = gr->gr_gid;
    }
    free(user_name);
    user_name = name;
    switch_user = true;
}

/* Returns true if --user named a user to run as. */
bool
privileges_user_is_set(void)
{
    return switch_user;
}

/* Writes to 'buf' the name of capability 'cap', as "CAP_NET_RAW". */
static const char *
cap_name(int cap, char buf[static 32])
{
#ifdef HAVE_LIBCAPNG
    const char *name = capng_capability_to_name(cap);
#else
    const char *name = NULL;
#endif
    size_t i;

    if (!name) {
        snprintf(buf, 32, "capability %d", cap);
        return buf;
    }
    ovs_strlcpy(buf, "CAP_", 32);
    for (i = 0; name[i] && i + 5 < 32; i++) {
        buf[i + 4] = toupper((unsigned char) name[i]);
    }
    buf[i + 4] = '\0';
    return buf;
}

static void
log_groups(struct ds *s)
{
    gid_t groups[64];
    int n = getgroups(ARRAY_SIZE(groups), groups);

    for (int i = 0; i < n; i++) {
        const struct group *gr = getgrgid(groups[i]);

        ds_put_format(s, "%s%s", i ? ", " : "", gr ? gr->gr_name : "?");
        if (!gr) {
            ds_put_format(s, "(%ld)", (long int) groups[i]);
        }
    }
    if (n <= 0) {
        ds_put_cstr(s, "none");
    }
}

/* Sets the daemon's umask (PRIVILEGES_UMASK) and, if --user named a user,
 * becomes that user keeping only the 'n' capabilities 'caps' (each
 * effective or only permitted, as it says): logs at INFO the user, its
 * groups and each capability with its reason.  Exits with an error message
 * on any failure.  Call it once, before daemonize_start(), so that the pid
 * file, the unixctl socket and everything else the daemon creates belong
 * to the user. */
void
privileges_drop(const struct privileges_cap *caps, size_t n)
{
    char name[32];

    umask(PRIVILEGES_UMASK);
    if (!switch_user) {
        VLOG_INFO("running as %s (no --user): every capability kept",
                  geteuid() ? "an unprivileged user" : "root");
        return;
    }

    /* The log file, if --log-file opened one as root. */
    vlog_change_owner_unix(user_uid, user_gid);

#ifdef HAVE_LIBCAPNG
    capng_clear(CAPNG_SELECT_BOTH);
    for (size_t i = 0; i < n; i++) {
        capng_type_t sets = (CAPNG_PERMITTED
                             | (caps[i].effective ? CAPNG_EFFECTIVE : 0));

        if (capng_update(CAPNG_ADD, sets, caps[i].cap)) {
            ovs_fatal(0, "--user: cannot keep %s",
                      cap_name(caps[i].cap, name));
        }
    }
    /* Supplementary groups from the group database, the bounding set
     * cleared. */
    int error = capng_change_id(user_uid, user_gid,
                                CAPNG_INIT_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
    if (error) {
        ovs_fatal(0, "--user: cannot switch to user %s, gid %ld "
                  "(libcap-ng error %d)", user_name, (long int) user_gid,
                  error);
    }
#else
    ovs_fatal(0, "--user: ovslb was built without libcap-ng, so it cannot "
              "keep the capabilities it needs as another user");
#endif
    if (getuid() != user_uid || geteuid() != user_uid
        || getgid() != user_gid || getegid() != user_gid) {
        ovs_fatal(0, "--user: the switch to user %s did not happen",
                  user_name);
    }
    dropped = true;

    struct ds s = DS_EMPTY_INITIALIZER;
    log_groups(&s);
    VLOG_INFO("running as user %s (uid %ld, gid %ld), groups: %s",
              user_name, (long int) user_uid, (long int) user_gid,
              ds_cstr(&s));
    ds_destroy(&s);
    if (!n) {
        VLOG_INFO("no capability kept");
    }
    for (size_t i = 0; i < n; i++) {
        VLOG_INFO("keeping %s%s: %s", cap_name(caps[i].cap, name),
                  caps[i].effective ? "" : " (permitted, raised only when "
                  "used)", caps[i].why);
    }
}

/* Makes capability 'cap' effective, for a system call that needs it; the
 * caller calls privileges_lower('cap') right after.  Returns 0 (at once,
 * without --user), or EPERM if the daemon did not keep 'cap' (a refusal,
 * counted). */
int
privileges_raise(int cap)
{
    if (!dropped) {
        return 0;
    }
#ifdef HAVE_LIBCAPNG
    if (capng_have_capability(CAPNG_PERMITTED, cap)) {
        if (!capng_update(CAPNG_ADD, CAPNG_EFFECTIVE, cap)
            && !capng_apply(CAPNG_SELECT_CAPS)) {
            return 0;
        }
        VLOG_ERR("cannot raise a capability the daemon kept");
    }
#endif
    COVERAGE_INC(privileges_refused);
    return EPERM;
}

/* Drops capability 'cap', which privileges_raise() made effective, from
 * the effective set again.  Exits if that fails: the daemon must not run
 * on with more than it meant to. */
void
privileges_lower(int cap)
{
    if (!dropped) {
        return;
    }
#ifdef HAVE_LIBCAPNG
    if (!capng_have_capability(CAPNG_EFFECTIVE, cap)) {
        return;
    }
    if (capng_update(CAPNG_DROP, CAPNG_EFFECTIVE, cap)
        || capng_apply(CAPNG_SELECT_CAPS)) {
        char name[32];

        VLOG_FATAL("cannot drop %s again", cap_name(cap, name));
    }
#else
    OVS_NOT_REACHED();
#endif
}

/* Prints the --user option's help. */
void
privileges_usage(void)
{
    printf("\nPrivileges:\n"
           "  --user=USER[:GROUP]  run as USER (with GROUP and USER's\n"
           "                       supplementary groups), keeping only the\n"
           "                       capabilities the manual lists; files "
           "are\n"
           "                       created with umask %03o\n",
           PRIVILEGES_UMASK);
}
