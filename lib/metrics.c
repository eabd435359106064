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
 * metrics: Prometheus text-format metrics, written atomically (see the
 * header).
 */
#include <config.h>

#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/list.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "unicode.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(metrics);

struct metrics_sample {
    char *labels;               /* Rendered, without braces; "" if none. */
    double value;
};

struct metrics_family {
    struct ovs_list list_node;  /* In 'metrics->families', in order. */
    char *name;
    char *help;
    enum metrics_type type;
    struct metrics_sample *samples;
    size_t n_samples, allocated_samples;
};

struct metrics {
    struct ovs_list families;   /* Of 'struct metrics_family'. */
    struct shash by_name;       /* Same families, by name. */
    struct ds common;           /* Common labels, rendered, no braces. */
    struct metrics_write_stats write_stats;
};

/* Returns a new, empty set of metrics. */
struct metrics *
metrics_create(void)
{
    struct metrics *m = xmalloc(sizeof *m);

    ovs_list_init(&m->families);
    shash_init(&m->by_name);
    ds_init(&m->common);
    memset(&m->write_stats, 0, sizeof m->write_stats);
    return m;
}

static void
clear_samples(struct metrics_family *f)
{
    for (size_t i = 0; i < f->n_samples; i++) {
        free(f->samples[i].labels);
    }
    f->n_samples = 0;
}

/* Frees 'm'.  A null 'm' is a no-op. */
void
metrics_destroy(struct metrics *m)
{
    if (m) {
        struct metrics_family *f;

        LIST_FOR_EACH_POP (f, list_node, &m->families) {
            clear_samples(f);
            free(f->samples);
            free(f->name);
            free(f->help);
            free(f);
        }
        shash_destroy(&m->by_name);
        ds_destroy(&m->common);
        free(m);
    }
}

static bool
is_name_char(char c, bool first, bool colon_ok)
{
    return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
            || (!first && c >= '0' && c <= '9') || (colon_ok && c == ':'));
}

static bool
is_valid(const char *name, bool colon_ok)
{
    if (!name || !name[0]) {
        return false;
    }
    for (const char *p = name; *p; p++) {
        if (!is_name_char(*p, p == name, colon_ok)) {
            return false;
        }
    }
    return true;
}

/* Returns true if 'name' is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*). */
bool
metrics_is_valid_name(const char *name)
{
    return is_valid(name, true);
}

/* Returns true if 'name' is a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not
 * starting with "__", which Prometheus reserves). */
bool
metrics_is_valid_label_name(const char *name)
{
    return is_valid(name, false) && strncmp(name, "__", 2);
}

/* Appends 'name="value"' to 's', escaping 'value' as the format says.  A
 * value that is not valid UTF-8, which the format requires, has its
 * non-ASCII bytes replaced by '?'. */
static void
put_label(struct ds *s, const char *name, const char *value)
{
    char *utf8_error = utf8_validate(value, NULL);

    ovs_assert(metrics_is_valid_label_name(name));
    if (s->length) {
        ds_put_char(s, ',');
    }
    ds_put_format(s, "%s=\"", name);
    for (const char *p = value; *p; p++) {
        switch (*p) {
        case '\\':
            ds_put_cstr(s, "\\\\");
            break;
        case '"':
            ds_put_cstr(s, "\\\"");
            break;
        case '\n':
            ds_put_cstr(s, "\\n");
            break;
        default:
            ds_put_char(s, (utf8_error && (unsigned char) *p >= 0x80
                            ? '?' : *p));
            break;
        }
    }
    ds_put_char(s, '"');
    free(utf8_error);
}

/* Adds the label 'name' with 'value' to every sample of 'm' (rendered
 * before the samples' own labels).  Call it once per name, before
 * rendering; metrics_clear() keeps common labels. */
void
metrics_set_common_label(struct metrics *m, const char *name,
                         const char *value)
{
    put_label(&m->common, name, value);
}

/* Returns the family 'name' of 'm', registering it with 'type' and 'help'
 * if it is new.  A family registered again keeps its first HELP text and
 * must keep its type.  Counter names must end in "_total". */
struct metrics_family *
metrics_family(struct metrics *m, const char *name, enum metrics_type type,
               const char *help)
{
    struct metrics_family *f = shash_find_data(&m->by_name, name);
    size_t len = strlen(name);

    if (f) {
        ovs_assert(f->type == type);
        return f;
    }
    ovs_assert(metrics_is_valid_name(name));
    ovs_assert(type != METRICS_COUNTER
               || (len > 6 && !strcmp(name + len - 6, "_total")));

    f = xzalloc(sizeof *f);
    f->name = xstrdup(name);
    f->help = xstrdup(help);
    f->type = type;
    ovs_list_push_back(&m->families, &f->list_node);
    shash_add(&m->by_name, name, f);
    return f;
}

static void
add_sample(struct metrics_family *f, double value, va_list args)
{
    struct ds labels = DS_EMPTY_INITIALIZER;
    const char *name;

    while ((name = va_arg(args, const char *)) != NULL) {
        const char *value_ = va_arg(args, const char *);

        put_label(&labels, name, value_);
    }
    if (f->n_samples >= f->allocated_samples) {
        f->samples = x2nrealloc(f->samples, &f->allocated_samples,
                                sizeof *f->samples);
    }
    f->samples[f->n_samples].labels = ds_steal_cstr(&labels);
    f->samples[f->n_samples].value = value;
    f->n_samples++;
}

/* Adds to 'f' a sample of 'value' with the labels that follow, as pairs of
 * strings (name, value), ended by a null pointer:
 *
 *     metrics_add(f, 3, "vip", "web", "reason", "conn-limit", NULL);
 *
 * A label set must not be given twice in one family. */
void
metrics_add(struct metrics_family *f, double value, ...)
{
    va_list args;

    va_start(args, value);
    add_sample(f, value, args);
    va_end(args);
}

/* Registers the family 'name' in 'm' as metrics_family() does and adds a
 * sample to it as metrics_add() does. */
void
metrics_put(struct metrics *m, const char *name, enum metrics_type type,
            const char *help, double value, ...)
{
    struct metrics_family *f = metrics_family(m, name, type, help);
    va_list args;

    va_start(args, value);
    add_sample(f, value, args);
    va_end(args);
}

/* Drops every sample of 'm', keeping its families (a family without
 * samples is not rendered), common labels and write counters. */
void
metrics_clear(struct metrics *m)
{
    struct metrics_family *f;

    LIST_FOR_EACH (f, list_node, &m->families) {
        clear_samples(f);
    }
}

/* Adds to 'm' one gauge family per entry of 'gauges' ('n' of them), named
 * 'prefix' and the entry's name, with one sample: the entry's value, with
 * the labels that follow as in metrics_add(). */
void
metrics_put_gauges(struct metrics *m, const char *prefix,
                   const struct metrics_gauge *gauges, size_t n, ...)
{
    va_list args;

    va_start(args, n);
    for (size_t i = 0; i < n; i++) {
        char *name = xasprintf("%s%s", prefix, gauges[i].name);
        struct metrics_family *f = metrics_family(m, name, METRICS_GAUGE,
                                                  gauges[i].help);
        va_list labels;

        va_copy(labels, args);
        add_sample(f, gauges[i].value, labels);
        va_end(labels);
        free(name);
    }
    va_end(args);
}

/* Adds to 'm' one counter family per entry of 'counters' ('n' of them),
 * named 'prefix', the entry's name and "_total", with one sample: the
 * uint64_t at the entry's offset in 'stats', with the labels that follow
 * as in metrics_add(). */
void
metrics_put_counters(struct metrics *m, const char *prefix,
                     const struct metrics_counter *counters, size_t n,
                     const void *stats, ...)
{
    va_list args;

    va_start(args, stats);
    for (size_t i = 0; i < n; i++) {
        const struct metrics_counter *c = &counters[i];
        char *name = xasprintf("%s%s_total", prefix, c->name);
        struct metrics_family *f = metrics_family(m, name, METRICS_COUNTER,
                                                  c->help);
        uint64_t value;
        va_list labels;

        memcpy(&value, (const char *) stats + c->offset, sizeof value);
        va_copy(labels, args);
        add_sample(f, value, labels);
        va_end(labels);
        free(name);
    }
    va_end(args);
}

static void
put_value(struct ds *s, double v)
{
    if (isnan(v)) {
        ds_put_cstr(s, "NaN");
    } else if (isinf(v)) {
        ds_put_cstr(s, v > 0 ? "+Inf" : "-Inf");
    } else if (fabs(v) < 9007199254740992.0 && v == floor(v)) {
        ds_put_format(s, "%.0f", v);
    } else {
        ds_put_format(s, "%.17g", v);
    }
}

/* Appends to 's' the families of 'm' that have samples, in the order they
 * were registered: a HELP and a TYPE line each, then one line per
 * sample. */
void
metrics_render(const struct metrics *m, struct ds *s)
{
    const struct metrics_family *f;

    LIST_FOR_EACH (f, list_node, &m->families) {
        if (!f->n_samples) {
            continue;
        }
        ds_put_format(s, "# HELP %s ", f->name);
        for (const char *p = f->help; *p; p++) {
            if (*p == '\\') {
                ds_put_cstr(s, "\\\\");
            } else if (*p == '\n') {
                ds_put_cstr(s, "\\n");
            } else {
                ds_put_char(s, *p);
            }
        }
        ds_put_format(s, "\n# TYPE %s %s\n", f->name,
                      f->type == METRICS_COUNTER ? "counter" : "gauge");
        for (size_t i = 0; i < f->n_samples; i++) {
            const struct metrics_sample *sample = &f->samples[i];
            bool comma = m->common.length && sample->labels[0];

            ds_put_cstr(s, f->name);
            if (m->common.length || sample->labels[0]) {
                ds_put_format(s, "{%s%s%s}", ds_cstr_ro(&m->common),
                              comma ? "," : "", sample->labels);
            }
            ds_put_char(s, ' ');
            put_value(s, sample->value);
            ds_put_char(s, '\n');
        }
    }
}

static int
write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        data += n;
        len -= n;
    }
    return 0;
}

static int
write_file(const char *tmp, const char *path, const struct ds *text,
           bool sync)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int error;

    if (fd < 0) {
        return errno;
    }
    error = write_all(fd, text->string ? text->string : "", text->length);
    if (!error && sync && fsync(fd)) {
        error = errno;
    }
    if (close(fd) && !error) {
        error = errno;
    }
    if (!error && rename(tmp, path)) {
        error = errno;
    }
    if (error) {
        unlink(tmp);
    }
    return error;
}

/* Renders 'm' and writes it to 'path' atomically: to 'path'.tmp, then
 * renamed over 'path' (so the directory must be writable).  If 'sync', the
 * data reaches the disk before the rename.  Returns 0 or a positive errno,
 * which is counted and logged at a limited rate; on failure 'path' is left
 * as it was and no temporary file remains. */
int
metrics_write(struct metrics *m, const char *path, bool sync)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    struct ds text = DS_EMPTY_INITIALIZER;
    char *tmp = xasprintf("%s.tmp", path);
    int error;

    metrics_render(m, &text);
    error = write_file(tmp, path, &text, sync);
    if (error) {
        m->write_stats.errors++;
        m->write_stats.last_error = error;
        VLOG_WARN_RL(&rl, "%s: cannot write metrics (%s)", path,
                     ovs_strerror(error));
    } else {
        m->write_stats.writes++;
    }
    free(tmp);
    ds_destroy(&text);
    return error;
}

/* Returns the counts of metrics_write() calls on 'm' that succeeded and
 * failed. */
const struct metrics_write_stats *
metrics_get_write_stats(const struct metrics *m)
{
    return &m->write_stats;
}
