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
 * metrics: a set of metrics in the Prometheus text exposition format
 * (version 0.0.4), rendered to a string and written atomically to a file
 * that the node exporter's textfile collector serves.
 *
 * A 'struct metrics' holds metric families (a name, a HELP text, a TYPE:
 * counter or gauge), each with its samples (a label set and a value), in
 * the order they were first registered, and labels common to every sample
 * (the node and its role).  A daemon keeps one, and once a second clears
 * its samples (metrics_clear()), adds them anew from its counters and
 * writes the file (metrics_write()).  A write goes to PATH.tmp in the same
 * directory and is renamed over PATH, so a reader never sees half a file;
 * a failed write is counted (metrics_get_write_stats()) and logged at a
 * limited rate, never fatal.  Nothing removes the file at exit: the node
 * exporter reports each file's mtime (node_textfile_mtime_seconds), which
 * tells a stale file.
 *
 * Names follow the Prometheus conventions: prefixed "ovslb_", counters end
 * in "_total", units in the name ("_seconds", "_bytes").  Metric and label
 * names are constants of the code, checked with ovs_assert(); label values
 * are data, escaped as the format requires (backslash, double quote and
 * newline; the non-ASCII bytes of a value that is not UTF-8 become '?').
 *
 * Single-threaded: one thread owns a 'struct metrics'.
 */
#ifndef OVSLB_METRICS_H
#define OVSLB_METRICS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"

struct ds;

enum metrics_type {
    METRICS_COUNTER,
    METRICS_GAUGE,
};

struct metrics_write_stats {
    uint64_t writes;            /* Files written and renamed into place. */
    uint64_t errors;            /* Writes that failed (file left as it
                                 * was). */
    int last_error;             /* errno of the last failure, 0 if none. */
};

struct metrics;
struct metrics_family;

struct metrics *metrics_create(void);
void metrics_destroy(struct metrics *);

void metrics_set_common_label(struct metrics *, const char *name,
                              const char *value);
struct metrics_family *metrics_family(struct metrics *, const char *name,
                                      enum metrics_type, const char *help);
void metrics_add(struct metrics_family *, double value, ...)
    SENTINEL(0);
void metrics_put(struct metrics *, const char *name, enum metrics_type,
                 const char *help, double value, ...)
    SENTINEL(0);
void metrics_clear(struct metrics *);

/* A uint64_t counter of a statistics struct, for metrics_put_counters(). */
struct metrics_counter {
    const char *name;           /* Family: PREFIX + name + "_total". */
    size_t offset;              /* offsetof(struct ..., member). */
    const char *help;
};
#define METRICS_COUNTER_FIELD(STRUCT, MEMBER, NAME, HELP) \
    { NAME, offsetof(STRUCT, MEMBER), HELP }
/* A gauge's value, for metrics_put_gauges(). */
struct metrics_gauge {
    const char *name;           /* Family: PREFIX + name. */
    const char *help;
    double value;
};
void metrics_put_gauges(struct metrics *, const char *prefix,
                        const struct metrics_gauge *, size_t n, ...)
    SENTINEL(0);
void metrics_put_counters(struct metrics *, const char *prefix,
                          const struct metrics_counter *, size_t n,
                          const void *stats, ...)
    SENTINEL(0);

void metrics_render(const struct metrics *, struct ds *);
int metrics_write(struct metrics *, const char *path, bool sync);
const struct metrics_write_stats *metrics_get_write_stats(
    const struct metrics *);

bool metrics_is_valid_name(const char *);
bool metrics_is_valid_label_name(const char *);

#endif /* metrics.h */
