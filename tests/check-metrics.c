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

/* check-metrics: the Prometheus text-format writer (lib/metrics.c): the
 * rendered text, label escaping, atomic writes and their failures; every
 * rendering must pass a strict parser of the exposition format
 * (tests/exposition.c), whose own strictness is tested here too. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exposition.h"
#include "metrics.h"
#include "openvswitch/dynamic-string.h"
#include "random.h"
#include "smap.h"
#include "util.h"

/* The metrics under test and the samples parsed from their rendering. */
static struct metrics *m;
static struct smap samples;

static void
setup_metrics(void)
{
    m = metrics_create();
    smap_init(&samples);
}

static void
teardown_metrics(void)
{
    metrics_destroy(m);
    smap_destroy(&samples);
}

static char *
render(const struct metrics *metrics)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    metrics_render(metrics, &s);
    return ds_steal_cstr(&s);
}

START_TEST(test_format)
{
    struct metrics_family *f;
    char *text;

    metrics_set_common_label(m, "node", "1");
    metrics_set_common_label(m, "role", "lb");
    f = metrics_family(m, "ovslb_test_packets_total", METRICS_COUNTER,
                       "Packets seen.");
    metrics_add(f, 7, "type", "syn", NULL);
    metrics_add(f, 3, "type", "other", NULL);
    metrics_put(m, "ovslb_test_entries", METRICS_GAUGE, "Entries.", 2.5,
                NULL);
    /* The same family again: no second HELP. */
    metrics_put(m, "ovslb_test_packets_total", METRICS_COUNTER,
                "Ignored.", 1, "type", "arp", NULL);
    /* Registered, no sample: not rendered. */
    metrics_family(m, "ovslb_test_unused_total", METRICS_COUNTER, "None.");

    text = render(m);
    ck_assert_str_eq(text,
        "# HELP ovslb_test_packets_total Packets seen.\n"
        "# TYPE ovslb_test_packets_total counter\n"
        "ovslb_test_packets_total{node=\"1\",role=\"lb\",type=\"syn\"} 7\n"
        "ovslb_test_packets_total{node=\"1\",role=\"lb\",type=\"other\"} 3\n"
        "ovslb_test_packets_total{node=\"1\",role=\"lb\",type=\"arp\"} 1\n"
        "# HELP ovslb_test_entries Entries.\n"
        "# TYPE ovslb_test_entries gauge\n"
        "ovslb_test_entries{node=\"1\",role=\"lb\"} 2.5\n");
    assert_parses(text, NULL);
    free(text);

    /* Cleared: families and common labels stay, samples go. */
    metrics_clear(m);
    text = render(m);
    ck_assert_str_eq(text, "");
    free(text);
    metrics_put(m, "ovslb_test_entries", METRICS_GAUGE, "Entries.", 4, NULL);
    text = render(m);
    ck_assert_str_eq(text,
        "# HELP ovslb_test_entries Entries.\n"
        "# TYPE ovslb_test_entries gauge\n"
        "ovslb_test_entries{node=\"1\",role=\"lb\"} 4\n");
    free(text);
    metrics_destroy(NULL);
}
END_TEST

START_TEST(test_no_labels_and_values)
{
    char *text;

    metrics_put(m, "ovslb_test_a", METRICS_GAUGE, "A.", 0, NULL);
    metrics_put(m, "ovslb_test_b", METRICS_GAUGE, "B.", -1.25, NULL);
    metrics_put(m, "ovslb_test_c", METRICS_GAUGE, "C.", NAN, NULL);
    metrics_put(m, "ovslb_test_d", METRICS_GAUGE, "D.", INFINITY, NULL);
    metrics_put(m, "ovslb_test_e", METRICS_GAUGE, "E.", -INFINITY, NULL);
    metrics_put(m, "ovslb_test_big_total", METRICS_COUNTER, "Big.",
                (double) UINT64_MAX, NULL);
    metrics_put(m, "ovslb_test_exact_total", METRICS_COUNTER, "Exact.",
                (double) ((UINT64_C(1) << 53) - 1), NULL);
    text = render(m);
    ck_assert_ptr_nonnull(strstr(text, "\novslb_test_a 0\n"));
    ck_assert_ptr_nonnull(strstr(text, "\novslb_test_b -1.25\n"));
    ck_assert_ptr_nonnull(strstr(text, "\novslb_test_c NaN\n"));
    ck_assert_ptr_nonnull(strstr(text, "\novslb_test_d +Inf\n"));
    ck_assert_ptr_nonnull(strstr(text, "\novslb_test_e -Inf\n"));
    ck_assert_ptr_nonnull(strstr(text, "\novslb_test_exact_total "
                                 "9007199254740991\n"));
    assert_parses(text, &samples);
    ck_assert_double_eq(strtod(smap_get(&samples, "ovslb_test_big_total{}"),
                               NULL), (double) UINT64_MAX);
    free(text);
}
END_TEST

START_TEST(test_label_escaping)
{
    char *text;

    metrics_set_common_label(m, "node", "7");
    metrics_put(m, "ovslb_test_vip_total", METRICS_COUNTER, "Per VIP.", 1,
                "vip", "a\\b\"c\nd", NULL);
    metrics_put(m, "ovslb_test_vip_total", METRICS_COUNTER, "Per VIP.", 2,
                "vip", "", NULL);
    metrics_put(m, "ovslb_test_help", METRICS_GAUGE, "Back\\slash\nand "
                "\"quotes\".", 1, NULL);
    text = render(m);
    ck_assert_ptr_nonnull(strstr(text,
        "ovslb_test_vip_total{node=\"7\",vip=\"a\\\\b\\\"c\\nd\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(text,
        "ovslb_test_vip_total{node=\"7\",vip=\"\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(text,
        "# HELP ovslb_test_help Back\\\\slash\\nand \"quotes\".\n"));
    assert_parses(text, &samples);
    ck_assert_str_eq(smap_get(&samples,
                              "ovslb_test_vip_total{node=7,vip=a\\b\"c\nd}"),
                     "1");
    free(text);
}
END_TEST

/* Label values of every ASCII character but NUL survive rendering and
 * parsing. */
START_TEST(test_random_labels_round_trip)
{
    struct smap expected = SMAP_INITIALIZER(&expected);
    struct metrics_family *f;
    struct smap_node *node;
    char *text;

    random_set_seed(0x5eed);
    metrics_set_common_label(m, "role", "server");
    f = metrics_family(m, "ovslb_test_peer_healthy", METRICS_GAUGE,
                       "Healthy.");
    for (int i = 0; i < 200; i++) {
        char value[24], index[16];
        size_t len = random_range(sizeof value - 1);
        char *key;

        for (size_t j = 0; j < len; j++) {
            value[j] = 1 + random_range(127);
        }
        value[len] = '\0';
        key = xasprintf("ovslb_test_peer_healthy{role=server,i=%d,peer=%s}",
                        i, value);
        smap_add_nocopy(&expected, key, xasprintf("%d", i % 2));
        snprintf(index, sizeof index, "%d", i);
        metrics_add(f, i % 2, "i", index, "peer", value, NULL);
    }
    text = render(m);
    assert_parses(text, &samples);
    ck_assert_uint_eq(smap_count(&samples), 200);
    SMAP_FOR_EACH (node, &expected) {
        const char *got = smap_get(&samples, node->key);

        ck_assert_msg(got, "missing %s", node->key);
        ck_assert_str_eq(got, node->value);
    }
    smap_destroy(&expected);
    free(text);
}
END_TEST

/* UTF-8 passes; a value that is not UTF-8 still gives valid text. */
START_TEST(test_label_utf8)
{
    char *text;

    metrics_put(m, "ovslb_test_vip", METRICS_GAUGE, "V.", 1,
                "vip", "caf\xc3\xa9", NULL);
    metrics_put(m, "ovslb_test_vip", METRICS_GAUGE, "V.", 2,
                "vip", "bad\xff\xc3", NULL);
    text = render(m);
    assert_parses(text, &samples);
    ck_assert_str_eq(smap_get(&samples, "ovslb_test_vip{vip=caf\xc3\xa9}"),
                     "1");
    ck_assert_str_eq(smap_get(&samples, "ovslb_test_vip{vip=bad??}"), "2");
    free(text);
}
END_TEST

/* The parser itself finds the errors it is there to find. */
START_TEST(test_parser_rejects)
{
    static const char *bad[] = {
        "ovslb_x 1\n",                                  /* No HELP/TYPE. */
        "# HELP ovslb_x X.\novslb_x 1\n",               /* No TYPE. */
        "# TYPE ovslb_x gauge\novslb_x 1\n",            /* No HELP. */
        "# HELP ovslb_x X.\n# TYPE ovslb_x gauge\novslb_x 1",
        "# HELP ovslb_x X.\n# TYPE ovslb_x gauge\novslb_x 1\n"
        "# HELP ovslb_x X.\n# TYPE ovslb_x gauge\novslb_x 2\n",
        "# HELP ovslb_x X.\n# TYPE ovslb_x gauge\novslb_y 1\n",
        "# HELP ovslb_x X.\n# TYPE ovslb_x gauge\novslb_x{a=\"1\"} 1\n"
        "ovslb_x{a=\"1\"} 2\n",                         /* Series twice. */
        "# HELP ovslb_x X.\n# TYPE ovslb_x gauge\n"
        "ovslb_x{a=\"1\",a=\"2\"} 1\n",
        "# HELP ovslb_x X.\n# TYPE ovslb_x gauge\novslb_x{a=\"\xff\"} 1\n",
        "# HELP ovslb_x X.\n# TYPE ovslb_x gauge\novslb_x{a=\"\\t\"} 1\n",
        "# HELP ovslb_x X.\n# TYPE ovslb_x gauge\novslb_x{a=\"1\",} 1\n",
        "# HELP ovslb_x X.\n# TYPE ovslb_x gauge\novslb_x{a=1} 1\n",
        "# HELP ovslb_x X.\n# TYPE ovslb_x gauge\novslb_x{__a=\"1\"} 1\n",
        "# HELP ovslb_x X.\n# TYPE ovslb_x gauge\novslb_x one\n",
        "# HELP ovslb_x X.\n# TYPE ovslb_x gauge\novslb_x nan\n",
        "# HELP ovslb_x X.\n# TYPE ovslb_x summary\novslb_x 1\n",
        "# HELP ovslb_x X.\n# TYPE ovslb_x counter\novslb_x 1\n",
        "# HELP ovslb_x_total X.\n# TYPE ovslb_x_total counter\n"
        "ovslb_x_total -1\n",
        "# HELP ovslb_x X\\t.\n# TYPE ovslb_x gauge\novslb_x 1\n",
        "# HELP 1x X.\n# TYPE 1x gauge\n1x 1\n",
        "# HELP ovslb_x X.\n# TYPE ovslb_x gauge\n\novslb_x 1\n",
    };

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        char *error = exposition_parse(bad[i], NULL);

        ck_assert_msg(error, "accepted:\n%s", bad[i]);
        free(error);
    }
    assert_parses("# HELP ovslb_x X.\n# TYPE ovslb_x gauge\n"
                  "ovslb_x{a=\"1\",b=\"\\\"\"} 1e3\n", NULL);
}
END_TEST

static char tmpdir[64];

static void
setup_dir(void)
{
    ovs_strlcpy(tmpdir, "/tmp/check-metrics.XXXXXX", sizeof tmpdir);
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
teardown_dir(void)
{
    char *cmd = xasprintf("rm -rf '%s'", tmpdir);

    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

static char *
read_file(const char *path)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    FILE *f = fopen(path, "r");
    int c;

    ck_assert_ptr_nonnull(f);
    while ((c = getc(f)) != EOF) {
        ds_put_char(&s, c);
    }
    fclose(f);
    return ds_steal_cstr(&s);
}

START_TEST(test_atomic_write)
{
    char *path = xasprintf("%s/ovslb.prom", tmpdir);
    char *tmp = xasprintf("%s.tmp", path);
    struct stat before, after;
    char *text, *file;

    metrics_set_common_label(m, "node", "1");
    metrics_put(m, "ovslb_test_writes_total", METRICS_COUNTER, "W.", 1,
                NULL);
    ck_assert_int_eq(metrics_write(m, path, true), 0);
    text = render(m);
    file = read_file(path);
    ck_assert_str_eq(file, text);
    free(text);
    free(file);
    ck_assert_int_eq(access(tmp, F_OK), -1);
    ck_assert_int_eq(stat(path, &before), 0);
    ck_assert_int_eq(before.st_mode & 0777, 0644);

    /* A second write replaces the file by rename: a new inode, while a
     * reader holding the old one still sees the whole old text. */
    FILE *reader = fopen(path, "r");
    ck_assert_ptr_nonnull(reader);
    metrics_clear(m);
    metrics_put(m, "ovslb_test_writes_total", METRICS_COUNTER, "W.", 2,
                NULL);
    ck_assert_int_eq(metrics_write(m, path, false), 0);
    ck_assert_int_eq(stat(path, &after), 0);
    ck_assert_uint_ne(before.st_ino, after.st_ino);
    struct ds old = DS_EMPTY_INITIALIZER;
    int c;
    while ((c = getc(reader)) != EOF) {
        ds_put_char(&old, c);
    }
    fclose(reader);
    ck_assert_ptr_nonnull(strstr(ds_cstr(&old),
                                 "ovslb_test_writes_total{node=\"1\"} 1\n"));
    ds_destroy(&old);
    file = read_file(path);
    ck_assert_ptr_nonnull(strstr(file,
                                 "ovslb_test_writes_total{node=\"1\"} 2\n"));
    assert_parses(file, NULL);
    free(file);
    ck_assert_int_eq(access(tmp, F_OK), -1);
    ck_assert_uint_eq(metrics_get_write_stats(m)->writes, 2);
    ck_assert_uint_eq(metrics_get_write_stats(m)->errors, 0);

    free(path);
    free(tmp);
}
END_TEST

START_TEST(test_write_failures)
{
    char *missing = xasprintf("%s/no-such-dir/ovslb.prom", tmpdir);
    char *dir_path = xasprintf("%s/busy.prom", tmpdir);
    char *inner = xasprintf("%s/inner", dir_path);
    char *tmp = xasprintf("%s.tmp", dir_path);
    const struct metrics_write_stats *ws = metrics_get_write_stats(m);

    metrics_put(m, "ovslb_test_a", METRICS_GAUGE, "A.", 1, NULL);

    /* The directory does not exist: counted, nothing written. */
    ck_assert_int_eq(metrics_write(m, missing, false), ENOENT);
    ck_assert_uint_eq(ws->errors, 1);
    ck_assert_uint_eq(ws->writes, 0);
    ck_assert_int_eq(ws->last_error, ENOENT);
    ck_assert_int_eq(access(missing, F_OK), -1);

    /* The rename fails (the path is a non-empty directory): the temporary
     * file is removed and the path left as it was. */
    ck_assert_int_eq(mkdir(dir_path, 0755), 0);
    ck_assert_int_eq(mkdir(inner, 0755), 0);
    ck_assert_int_ne(metrics_write(m, dir_path, false), 0);
    ck_assert_uint_eq(ws->errors, 2);
    ck_assert_int_eq(access(tmp, F_OK), -1);
    ck_assert_int_eq(access(inner, F_OK), 0);

    /* And a good write afterwards still works. */
    ck_assert_int_eq(rmdir(inner), 0);
    ck_assert_int_eq(rmdir(dir_path), 0);
    ck_assert_int_eq(metrics_write(m, dir_path, false), 0);
    ck_assert_uint_eq(ws->writes, 1);
    ck_assert_uint_eq(ws->errors, 2);

    free(missing);
    free(dir_path);
    free(inner);
    free(tmp);
}
END_TEST

struct test_stats {
    uint64_t drops;
    uint64_t sent;
};

START_TEST(test_put_tables)
{
    static const struct metrics_counter counters[] = {
        METRICS_COUNTER_FIELD(struct test_stats, sent, "messages_sent",
                              "Sent."),
        METRICS_COUNTER_FIELD(struct test_stats, drops, "drops", "Drops."),
    };
    struct test_stats st = { .drops = 3, .sent = 5 };
    char *text;

    metrics_set_common_label(m, "node", "2");
    metrics_put_counters(m, "ovslb_test_", counters, ARRAY_SIZE(counters),
                         &st, NULL);
    metrics_put_counters(m, "ovslb_test_", counters, ARRAY_SIZE(counters),
                         &st, "socket", "north", NULL);
    text = render(m);
    ck_assert_str_eq(text,
        "# HELP ovslb_test_messages_sent_total Sent.\n"
        "# TYPE ovslb_test_messages_sent_total counter\n"
        "ovslb_test_messages_sent_total{node=\"2\"} 5\n"
        "ovslb_test_messages_sent_total{node=\"2\",socket=\"north\"} 5\n"
        "# HELP ovslb_test_drops_total Drops.\n"
        "# TYPE ovslb_test_drops_total counter\n"
        "ovslb_test_drops_total{node=\"2\"} 3\n"
        "ovslb_test_drops_total{node=\"2\",socket=\"north\"} 3\n");
    free(text);

    const struct metrics_gauge gauges[] = {
        { "entries", "Entries.", 12 },
        { "load_ratio", "Load.", 0.5 },
    };
    metrics_clear(m);
    metrics_put_gauges(m, "ovslb_test_", gauges, ARRAY_SIZE(gauges),
                       "vip", "web", NULL);
    text = render(m);
    ck_assert_str_eq(text,
        "# HELP ovslb_test_entries Entries.\n"
        "# TYPE ovslb_test_entries gauge\n"
        "ovslb_test_entries{node=\"2\",vip=\"web\"} 12\n"
        "# HELP ovslb_test_load_ratio Load.\n"
        "# TYPE ovslb_test_load_ratio gauge\n"
        "ovslb_test_load_ratio{node=\"2\",vip=\"web\"} 0.5\n");
    free(text);
}
END_TEST

START_TEST(test_names)
{
    ck_assert(metrics_is_valid_name("ovslb_lb_syns_total"));
    ck_assert(metrics_is_valid_name("a:b_c9"));
    ck_assert(!metrics_is_valid_name("9a"));
    ck_assert(!metrics_is_valid_name("a-b"));
    ck_assert(!metrics_is_valid_name(""));
    ck_assert(metrics_is_valid_label_name("vip"));
    ck_assert(!metrics_is_valid_label_name("a:b"));
    ck_assert(!metrics_is_valid_label_name("__name__"));
}
END_TEST

static Suite *
metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("format");
    TCase *tc_file = tcase_create("file");

    tcase_add_checked_fixture(tc, setup_metrics, teardown_metrics);
    tcase_add_test(tc, test_format);
    tcase_add_test(tc, test_no_labels_and_values);
    tcase_add_test(tc, test_label_escaping);
    tcase_add_test(tc, test_random_labels_round_trip);
    tcase_add_test(tc, test_label_utf8);
    tcase_add_test(tc, test_parser_rejects);
    tcase_add_test(tc, test_put_tables);
    tcase_add_test(tc, test_names);
    suite_add_tcase(s, tc);

    tcase_add_checked_fixture(tc_file, setup_metrics, teardown_metrics);
    tcase_add_checked_fixture(tc_file, setup_dir, teardown_dir);
    tcase_add_test(tc_file, test_atomic_write);
    tcase_add_test(tc_file, test_write_failures);
    suite_add_tcase(s, tc_file);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(metrics_suite());
    int n_failed;

    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
