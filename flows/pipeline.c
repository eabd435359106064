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
#include "pipeline.h"

#include <stdarg.h>
#include <stdlib.h>

#include "ofctrl.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

/* Initializes 'p' as an empty pipeline. */
void
pipeline_init(struct pipeline *p)
{
    p->flows = NULL;
    p->n = p->allocated = 0;
}

/* Frees what 'p' holds.  'p' may then be initialized again. */
void
pipeline_destroy(struct pipeline *p)
{
    if (p) {
        for (size_t i = 0; i < p->n; i++) {
            free(p->flows[i].match);
            free(p->flows[i].actions);
        }
        free(p->flows);
        pipeline_init(p);
    }
}

/* Appends to 'p' a flow in 'table' at 'priority' that matches 'match'
 * (ovs-ofctl syntax without table and priority) and whose actions are the
 * printf-style 'actions_fmt'. */
void
pipeline_add(struct pipeline *p, uint8_t table, uint16_t priority,
             const char *match, const char *actions_fmt, ...)
{
    struct pipeline_flow *f;
    va_list args;

    if (p->n >= p->allocated) {
        p->flows = x2nrealloc(p->flows, &p->allocated, sizeof *p->flows);
    }
    f = &p->flows[p->n++];
    f->table = table;
    f->priority = priority;
    f->match = xstrdup(match);
    va_start(args, actions_fmt);
    f->actions = xvasprintf(actions_fmt, args);
    va_end(args);
}

static void
format_flow_spec(const struct pipeline_flow *f, struct ds *s)
{
    ds_put_format(s, "table=%u,priority=%u", f->table, f->priority);
    if (f->match[0]) {
        ds_put_format(s, ",%s", f->match);
    }
}

/* Appends 'p' to 's' in `ovs-ofctl add-flows` format, one flow per line. */
void
pipeline_format(const struct pipeline *p, struct ds *s)
{
    for (size_t i = 0; i < p->n; i++) {
        format_flow_spec(&p->flows[i], s);
        ds_put_format(s, " actions=%s\n", p->flows[i].actions);
    }
}

/* Adds every flow of 'p' to 'ofctrl''s desired table (the caller commits).
 * Returns NULL, or an error message naming the first flow that did not
 * parse, which the caller must free. */
char *
pipeline_install(const struct pipeline *p, struct ofctrl *ofctrl)
{
    struct ds spec = DS_EMPTY_INITIALIZER;

    for (size_t i = 0; i < p->n; i++) {
        ds_clear(&spec);
        format_flow_spec(&p->flows[i], &spec);
        char *error = ofctrl_flow_add_str(ofctrl, ds_cstr(&spec),
                                          p->flows[i].actions);
        if (error) {
            char *msg = xasprintf("flow \"%s actions=%s\": %s",
                                  ds_cstr(&spec), p->flows[i].actions, error);
            free(error);
            ds_destroy(&spec);
            return msg;
        }
    }
    ds_destroy(&spec);
    return NULL;
}
