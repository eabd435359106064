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
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "privileges.h"
#include "util.h"

/* Calls 'fn'('aux') inside network namespace 'netns' (a name under
 * /run/netns, or an absolute path; NULL or "" for the agent's own) and
 * stores what it returns (0 or a positive errno) in '*errorp'.  Returns
 * NULL, or an error message (to be freed by the caller) if the namespace
 * could not be entered, without calling 'fn'. */
char *
netns_call(const char *netns, int (*fn)(void *aux), void *aux, int *errorp)
{
    int error;

    if (!netns || !netns[0]) {
        *errorp = fn(aux);
        return NULL;
    }
    *errorp = 0;
    if (privileges_raise(CAP_SYS_ADMIN)) {
        return xasprintf("network namespace %s: entering it needs "
                         "CAP_SYS_ADMIN, which ovslb-agent keeps under "
                         "--user only with --netns-access", netns);
    }

    char *path = (netns[0] == '/' ? xstrdup(netns)
                  : xasprintf("/run/netns/%s", netns));
    int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    int target = open(path, O_RDONLY | O_CLOEXEC);
    char *msg = NULL;

    free(path);
    if (self < 0 || target < 0) {
        error = errno;
        msg = xasprintf("network namespace %s: %s", netns,
                        ovs_strerror(error));
    } else if (setns(target, CLONE_NEWNET)) {
        error = errno;
        msg = xasprintf("network namespace %s: setns: %s", netns,
                        ovs_strerror(error));
    } else {
        *errorp = fn(aux);
        if (setns(self, CLONE_NEWNET)) {
            /* Staying in the wrong namespace would break everything. */
            ovs_fatal(errno, "cannot return to own network namespace");
        }
    }
    privileges_lower(CAP_SYS_ADMIN);
    if (self >= 0) {
        close(self);
    }
    if (target >= 0) {
        close(target);
    }
    return msg;
}
