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
 * pipeline: a static OpenFlow pipeline as a list of flows in ovs-ofctl's
 * text syntax, built by flows/lb-pipeline.c and flows/server-pipeline.c from
 * a node's configuration.
 *
 * The same list is installed through ofctrl (pipeline_install()) and
 * rendered in `ovs-ofctl add-flows` format (pipeline_format()), which the
 * golden tests load into a real ovs-vswitchd and compare, as dumped by
 * `ovs-ofctl dump-flows`, with the checked-in golden files of flows/.
 *
 * Per-connection flows (ingress mappings, egress choices) are not part of a
 * pipeline: the daemons add those to their ofctrl desired table themselves.
 *
 * Pure apart from pipeline_install().  Single-threaded.
 */
#ifndef OVSLB_PIPELINE_H
#define OVSLB_PIPELINE_H 1

#include <stddef.h>
#include <stdint.h>
#include "openvswitch/compiler.h"

struct ds;
struct ofctrl;

struct pipeline_flow {
    uint8_t table;
    uint16_t priority;
    char *match;                /* e.g. "ip,in_port=1,nw_dst=203.0.113.10";
                                 * "" matches everything. */
    char *actions;              /* e.g. "goto_table:10". */
};

struct pipeline {
    struct pipeline_flow *flows;
    size_t n, allocated;
};

void pipeline_init(struct pipeline *);
void pipeline_destroy(struct pipeline *);
void pipeline_add(struct pipeline *, uint8_t table, uint16_t priority,
                  const char *match, const char *actions_fmt, ...)
    OVS_PRINTF_FORMAT(5, 6);
void pipeline_format(const struct pipeline *, struct ds *);
char *pipeline_install(const struct pipeline *, struct ofctrl *)
    OVS_WARN_UNUSED_RESULT;

#endif /* pipeline.h */
