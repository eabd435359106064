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
 * agent: the drivers of ovslb-agent around its core (agent-core.h): the
 * node's shared daemon plumbing (node-daemon.h: local OVS database, config
 * service, OpenFlow connection to the bridge, control socket, SQLite
 * store), the server pipeline (flows/server-pipeline.h), the translation
 * port (xlate-path.h), the kernel's socket table (sock-diag.h), local load
 * metrics, health pings, the healthy-LB list, connection publishing and the
 * ovs-appctl commands (ovslb/show, ovslb/conns, ovslb/stats,
 * ovslb/set-limits).
 *
 * Single-threaded: ovslb-agent's main loop calls agent_run(), agent_wait()
 * and poll_block().
 */
#ifndef OVSLB_AGENT_H
#define OVSLB_AGENT_H 1

#include "agent-core.h"

struct agent_options {
    struct agent_limits limits; /* Admission limits; the timers that the
                                 * config service sets are overridden. */
};

void agent_options_init(struct agent_options *);

struct agent *agent_create(const char *ovs_remote,
                           const struct agent_options *);
void agent_destroy(struct agent *);
void agent_run(struct agent *);
void agent_wait(struct agent *);

#endif /* agent.h */
