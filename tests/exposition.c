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

/* exposition: a strict parser of the Prometheus text exposition format
 * (see the header). */
#include <config.h>

#include "exposition.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "smap.h"
#include "sset.h"
#include "unicode.h"
#include "util.h"

/* A strict parser of the text exposition format (version 0.0.4), stricter
 * than Prometheus where our writer should be: every family has one HELP and
 * one TYPE line, in that order, before its samples, and its samples are
 * together; no empty lines, comments, timestamps or trailing commas; label
 * values use only the three escapes; a label name appears once per sample
 * and a series once; counters are named *_total and are not negative.
 *
 * Returns NULL or an error naming the line, which the caller frees.
 * Stores each sample in 'samples' (if nonnull) under the key
 * NAME{L1=V1,L2=V2} (values unescaped, labels in the order given) with its
 * value as text. */
static bool
parse_name(const char **p, bool colon_ok, struct ds *name)
{
    const char *s = *p;

    ds_clear(name);
    while ((**p >= 'a' && **p <= 'z') || (**p >= 'A' && **p <= 'Z')
           || **p == '_' || (colon_ok && **p == ':')
           || (*p > s && **p >= '0' && **p <= '9')) {
        ds_put_char(name, **p);
        (*p)++;
    }
    return *p > s;
}

static bool
parse_value(const char *s, double *v)
{
    char *end;

    if (!strcmp(s, "NaN")) {
        *v = NAN;
        return true;
    } else if (!strcmp(s, "+Inf")) {
        *v = INFINITY;
        return true;
    } else if (!strcmp(s, "-Inf")) {
        *v = -INFINITY;
        return true;
    }
    if (!s[0] || s[0] == ' ' || strchr(s, 'n') || strchr(s, 'N')) {
        return false;           /* No "nan"/"inf" spellings of strtod. */
    }
    *v = strtod(s, &end);
    return !*end;
}

static char *
parse_sample(const char *line, const char *family, const char *type,
             struct sset *series, struct smap *samples)
{
    struct ds name = DS_EMPTY_INITIALIZER;
    struct ds label = DS_EMPTY_INITIALIZER;
    struct ds key = DS_EMPTY_INITIALIZER;
    struct sset label_names = SSET_INITIALIZER(&label_names);
    const char *p = line;
    char *error = NULL;
    double v;

    if (!parse_name(&p, true, &name)) {
        error = xstrdup("bad metric name");
        goto out;
    }
    if (!family || strcmp(ds_cstr(&name), family)) {
        error = xasprintf("sample of %s outside its family", ds_cstr(&name));
        goto out;
    }
    ds_put_format(&key, "%s{", ds_cstr(&name));
    if (*p == '{') {
        p++;
        for (;;) {
            if (!parse_name(&p, false, &label) || *p != '=' || p[1] != '"') {
                error = xasprintf("bad label at \"%s\"", p);
                goto out;
            }
            if (!strncmp(ds_cstr(&label), "__", 2)
                || !sset_add(&label_names, ds_cstr(&label))) {
                error = xasprintf("label %s reserved or repeated",
                                  ds_cstr(&label));
                goto out;
            }
            ds_put_format(&key, "%s=", ds_cstr(&label));
            for (p += 2; *p != '"'; p++) {
                if (!*p || *p == '\n') {
                    error = xstrdup("unterminated label value");
                    goto out;
                } else if (*p == '\\') {
                    p++;
                    if (*p == 'n') {
                        ds_put_char(&key, '\n');
                    } else if (*p == '\\' || *p == '"') {
                        ds_put_char(&key, *p);
                    } else {
                        error = xasprintf("bad escape \\%c", *p);
                        goto out;
                    }
                } else {
                    ds_put_char(&key, *p);
                }
            }
            p++;
            if (*p == ',' && p[1] != '}') {
                ds_put_char(&key, ',');
                p++;
            } else if (*p == '}') {
                p++;
                break;
            } else {
                error = xasprintf("expected , or } at \"%s\"", p);
                goto out;
            }
        }
    }
    ds_put_char(&key, '}');
    if (*p != ' ' || !parse_value(p + 1, &v)) {
        error = xasprintf("bad value \"%s\"", p);
        goto out;
    }
    if (!strcmp(type, "counter") && !(v >= 0)) {
        error = xasprintf("counter %s is %s", ds_cstr(&name), p + 1);
        goto out;
    }
    if (!sset_add(series, ds_cstr(&key))) {
        error = xasprintf("series %s repeated", ds_cstr(&key));
        goto out;
    }
    if (samples) {
        smap_add(samples, ds_cstr(&key), p + 1);
    }
out:
    ds_destroy(&name);
    ds_destroy(&label);
    ds_destroy(&key);
    sset_destroy(&label_names);
    return error;
}

static char *
parse_help(const char *help)
{
    for (const char *p = help; *p; p++) {
        if (*p == '\\' && p[1] != '\\' && p[1] != 'n') {
            return xstrdup("bad escape in HELP");
        } else if (*p == '\\') {
            p++;
        }
    }
    return NULL;
}

char *
exposition_parse(const char *text, struct smap *samples)
{
    struct sset families = SSET_INITIALIZER(&families);
    struct sset series = SSET_INITIALIZER(&series);
    struct ds name = DS_EMPTY_INITIALIZER;
    char *family = NULL;        /* Current family, after its TYPE. */
    char *helped = NULL;        /* Family whose HELP came, TYPE awaited. */
    char type[16] = "";
    char *error = NULL;
    int line_no = 0;
    const char *line = text;

    error = utf8_validate(text, NULL);
    if (!error && text[0] && text[strlen(text) - 1] != '\n') {
        error = xstrdup("no newline at the end");
    }
    while (!error && *line) {
        const char *nl = strchr(line, '\n');
        char *copy = xmemdup0(line, nl - line);
        const char *p = copy;

        line_no++;
        if (!strncmp(p, "# HELP ", 7)) {
            p += 7;
            if (helped || !parse_name(&p, true, &name) || *p != ' ') {
                error = xstrdup("bad HELP line");
            } else if (!sset_add(&families, ds_cstr(&name))) {
                error = xasprintf("family %s again", ds_cstr(&name));
            } else {
                error = parse_help(p + 1);
                helped = xstrdup(ds_cstr(&name));
                free(family);
                family = NULL;
            }
        } else if (!strncmp(p, "# TYPE ", 7)) {
            p += 7;
            if (!helped || !parse_name(&p, true, &name)
                || strcmp(helped, ds_cstr(&name)) || *p != ' ') {
                error = xstrdup("TYPE without its HELP");
            } else if (strcmp(p + 1, "counter") && strcmp(p + 1, "gauge")) {
                error = xasprintf("type %s", p + 1);
            } else if (!strcmp(p + 1, "counter")
                       && (name.length < 7
                           || strcmp(ds_cstr(&name) + name.length - 6,
                                     "_total"))) {
                error = xasprintf("counter %s without _total",
                                  ds_cstr(&name));
            } else {
                ovs_strlcpy(type, p + 1, sizeof type);
                family = helped;
                helped = NULL;
            }
        } else if (helped) {
            error = xstrdup("HELP without TYPE");
        } else {
            error = parse_sample(p, family, type, &series, samples);
        }
        if (error) {
            char *e = xasprintf("line %d: %s: \"%s\"", line_no, error, copy);

            free(error);
            error = e;
        }
        free(copy);
        line = nl + 1;
    }
    if (!error && helped) {
        error = xstrdup("HELP at the end without TYPE");
    }
    free(family);
    free(helped);
    ds_destroy(&name);
    sset_destroy(&families);
    sset_destroy(&series);
    return error;
}

/* Fails the running Check test if 'text' does not parse; fills 'samples'
 * (if nonnull) as exposition_parse() does. */
void
assert_parses(const char *text, struct smap *samples)
{
    char *error = exposition_parse(text, samples);

    ck_assert_msg(!error, "%s\nin:\n%s", error, text);
}

/* Returns the sum of the values of the samples of the family 'name' in
 * 'samples' (as exposition_parse() stored them). */
double
exposition_sum(const struct smap *samples, const char *name)
{
    const struct smap_node *node;
    size_t len = strlen(name);
    double sum = 0;

    SMAP_FOR_EACH (node, samples) {
        if (!strncmp(node->key, name, len) && node->key[len] == '{') {
            sum += strtod(node->value, NULL);
        }
    }
    return sum;
}
