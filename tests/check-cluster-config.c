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
 * Unit tests of cluster-config's pure parts: the settings table against the
 * schema (names, ranges, defaults of PROTOCOL.md), the parsing of setting
 * values, the rule across settings (SYN meter and cookie rate), modes,
 * algorithms and addresses, and the default MSS.  The client
 * itself (connection, snapshots, reconnection) is tested against a real
 * ovsdb-server by tests/cluster-config-live.sh.
 */
#include <config.h>
#include "cluster-config.h"

#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "openvswitch/json.h"
#include "ovsdb-data.h"
#include "ovsdb-idl-provider.h"
#include "ovslb-idl.h"
#include "packets.h"
#include "smap.h"
#include "syn-cookie.h"
#include "util.h"

START_TEST(test_settings_match_schema)
{
    for (size_t i = 0; i < cluster_n_setting_defs; i++) {
        const struct cluster_setting *s = &cluster_setting_defs[i];
        const struct ovsdb_idl_column *c = cluster_column(s->name);

        ck_assert_msg(c != NULL, "%s: no such Cluster column", s->name);
        ck_assert_int_eq(c->type.key.type, OVSDB_TYPE_INTEGER);
        ck_assert_int_eq(c->type.value.type, OVSDB_TYPE_VOID);
        ck_assert_msg(c->type.n_min == 0 && c->type.n_max == 1,
                      "%s: not an optional integer", s->name);
        /* maglev_table_size was 65537 and nothing else before schema
         * 1.9.0: the schema still admits that value, so that a database
         * holding it converts, and the daemons refuse it (above the
         * switch's limit, 65521). */
        int64_t schema_max = (!strcmp(s->name, "maglev_table_size")
                              && c->type.key.integer.max == 65537
                              ? s->max : c->type.key.integer.max);
        ck_assert_msg(c->type.key.integer.min == s->min
                      && schema_max == s->max,
                      "%s: schema range %"PRId64"..%"PRId64", table %"PRIu32
                      "..%"PRIu32, s->name, c->type.key.integer.min,
                      c->type.key.integer.max, s->min, s->max);
        ck_assert_msg(s->default_value >= s->min
                      && s->default_value <= s->max,
                      "%s: default out of range", s->name);
        ck_assert_ptr_eq(cluster_setting_find(s->name), s);
        ck_assert_msg(s->help && s->help[0], "%s: no help", s->name);
    }

    /* Every integer column of Cluster is a setting, except the sequence
     * number of 'ovslb-ctl --wait'. */
    size_t n_integer = 0;
    ck_assert_ptr_null(cluster_setting_find("cfg"));
    for (size_t i = 0; i < OVSLBREC_CLUSTER_N_COLUMNS; i++) {
        const struct ovsdb_idl_column *c = &ovslbrec_cluster_columns[i];
        if (c->type.key.type == OVSDB_TYPE_INTEGER
            && strcmp(c->name, "cfg")) {
            n_integer++;
            ck_assert_msg(cluster_setting_find(c->name) != NULL,
                          "column %s has no setting", c->name);
        }
    }
    ck_assert_uint_eq(n_integer, cluster_n_setting_defs);
    ck_assert_ptr_null(cluster_setting_find("name"));
    ck_assert_ptr_null(cluster_setting_find("bogus"));
}
END_TEST

START_TEST(test_defaults)
{
    struct cluster_settings s;

    cluster_settings_init(&s);
    ck_assert_str_eq(s.name, "");
    ck_assert_str_eq(s.cluster_key, "");
    ck_assert_str_eq(s.cluster_key_next, "");
    /* PROTOCOL.md's numbers. */
    ck_assert_uint_eq(s.ring_vnodes, 64);
    ck_assert_uint_eq(s.control_port, 7700);
    ck_assert_uint_eq(s.publish_port, 7701);
    ck_assert_uint_eq(s.replay_window, 64);
    ck_assert_uint_eq(s.buffer_packets, 8);
    ck_assert_uint_eq(s.buffer_bytes, 64 * 1024);
    ck_assert_uint_eq(s.buffer_timeout_ms, 3000);
    ck_assert_uint_eq(s.syn_table_max, 1000000);
    ck_assert_uint_eq(s.syn_cookie_threshold_pct, 80);
    /* PROTOCOL.md says 50 k SYN/s, but the cookie rate must stay below the
     * SYN meter (test_settings_check). */
    ck_assert_uint_eq(s.syn_cookie_rate, 10000);
    ck_assert_uint_eq(s.syn_cookie_rate, SYN_COOKIE_SYN_RATE_DEFAULT);
    ck_assert_uint_eq(s.syn_meter_rate, 50000);
    ck_assert_uint_eq(s.other_meter_rate, 40000);
    /* The bounds of the per-connection tables (issue 18). */
    ck_assert_uint_eq(s.tracker_table_max, 1000000);
    ck_assert_uint_eq(s.mapping_table_max, 1000000);
    ck_assert_uint_eq(s.pending_table_max, 100000);
    ck_assert_uint_eq(s.xlate_table_max, 1000000);
    ck_assert_uint_eq(s.vip_wscale, 7);
    ck_assert_uint_eq(s.vip_ttl, 3);
    ck_assert_uint_eq(s.flow_idle_timeout_s, 60);
    ck_assert_uint_eq(s.xlate_linger_ms, 10000);
    /* Were agent_limits_init()'s built-in timers (issue 19): the same. */
    ck_assert_uint_eq(s.xlate_syn_timeout_ms, 1000);
    ck_assert_uint_eq(s.xlate_syn_tries, 3);
    ck_assert_uint_eq(s.xlate_closed_idle_ms, 70000);
    ck_assert_uint_eq(s.maglev_table_size, 65521);
    ck_assert_uint_eq(s.publish_interval_ms, 1000);
    ck_assert_uint_eq(s.lease_ms, 10000);
    /* Was controller/tracker.c's HANDSHAKE_TIMEOUT_MS (issue 19). */
    ck_assert_uint_eq(s.handshake_timeout_ms, 30000);
    /* Were controller/lbnode-private.h's CONNECT_RETRY_MS and
     * QUERY_RETRY_MS. */
    ck_assert_uint_eq(s.connect_retry_ms, 1000);
    ck_assert_uint_eq(s.key_grace_ms, 10000);   /* CTL_SOCK_KEY_GRACE_MS. */
    ck_assert_uint_eq(s.query_retry_ms, 500);
    ck_assert_uint_eq(s.ping_interval_ms, 100);
    ck_assert_uint_eq(s.gossip_interval_ms, 100);
    ck_assert_uint_eq(s.suspect_ms, 300);
    ck_assert_uint_eq(s.unhealthy_ms, 300);
    ck_assert_uint_eq(s.server_check_interval_ms, 500);
    ck_assert_uint_eq(cluster_setting_get(&s,
                                          cluster_setting_find("lease_ms")),
                      10000);
    cluster_settings_destroy(&s);
    cluster_settings_destroy(NULL);
}
END_TEST

START_TEST(test_setting_parse)
{
    const struct cluster_setting *vnodes = cluster_setting_find("ring_vnodes");
    const struct cluster_setting *maglev
        = cluster_setting_find("maglev_table_size");
    uint32_t v = 12345;
    char *error;

    ck_assert_ptr_null(cluster_setting_parse(vnodes, "128", &v));
    ck_assert_uint_eq(v, 128);
    ck_assert_ptr_null(cluster_setting_parse(vnodes, "4096", &v));
    ck_assert_uint_eq(v, 4096);

    static const char *const bad[] = {
        "0", "4097", "-1", "", "12x", "x", "99999999999999999999", "1.5",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        v = 7;
        error = cluster_setting_parse(vnodes, bad[i], &v);
        ck_assert_msg(error != NULL, "\"%s\" accepted", bad[i]);
        ck_assert_msg(strstr(error, "ring_vnodes") != NULL, "%s", error);
        ck_assert_uint_eq(v, 7);
        free(error);
    }

    /* A prime the switch can index: 65521 at most (65537, the only value
     * before hash mode, is now refused). */
    ck_assert_ptr_null(cluster_setting_parse(maglev, "65521", &v));
    ck_assert_uint_eq(v, 65521);
    ck_assert_ptr_null(cluster_setting_parse(maglev, "251", &v));
    ck_assert_uint_eq(v, 251);
    error = cluster_setting_parse(maglev, "65537", &v);
    ck_assert_ptr_nonnull(error);
    free(error);
    error = cluster_setting_parse(maglev, "65536", &v);
    ck_assert_ptr_nonnull(error);
    ck_assert_msg(strstr(error, "prime") != NULL, "%s", error);
    free(error);
    error = cluster_setting_parse(maglev, "9", &v);
    ck_assert_ptr_nonnull(error);
    free(error);
}
END_TEST

/* Sets 'name' in 's' through the settings table, as ovslb-ctl does. */
static void
set(struct cluster_settings *s, const char *name, uint32_t value)
{
    const struct cluster_setting *def = cluster_setting_find(name);

    ck_assert_ptr_nonnull(def);
    ck_assert_uint_ge(value, def->min);
    ck_assert_uint_le(value, def->max);
    cluster_setting_set(s, def, value);
}

/* Returns the error of cluster_settings_check() for 's', asserting that it
 * names both settings of the rule, or NULL. */
static char *
check_error(const struct cluster_settings *s)
{
    char *error = cluster_settings_check(s);

    if (error) {
        ck_assert_msg(strstr(error, "syn_cookie_rate")
                      && strstr(error, "syn_meter_rate"), "%s", error);
    }
    return error;
}

START_TEST(test_settings_check)
{
    struct cluster_settings s;
    char *error;

    /* The defaults are coherent, with the margin the comment promises. */
    cluster_settings_init(&s);
    ck_assert_ptr_null(check_error(&s));
    ck_assert_uint_le(s.syn_cookie_rate * 2, s.syn_meter_rate);

    /* The rate trigger must be reachable: below the SYN meter, strictly. */
    set(&s, "syn_cookie_rate", 49999);
    ck_assert_ptr_null(check_error(&s));
    set(&s, "syn_cookie_rate", 50000);
    error = check_error(&s);
    ck_assert_ptr_nonnull(error);
    ck_assert_msg(strstr(error, "syn_cookie_rate (50000) must be below "
                         "syn_meter_rate (50000)"), "%s", error);
    free(error);
    set(&s, "syn_cookie_rate", 100000000);
    error = check_error(&s);
    ck_assert_ptr_nonnull(error);
    free(error);

    /* Lowering the meter under the default cookie rate is the same fault. */
    cluster_settings_destroy(&s);
    cluster_settings_init(&s);
    set(&s, "syn_meter_rate", 10000);
    error = check_error(&s);
    ck_assert_ptr_nonnull(error);
    ck_assert_msg(strstr(error, "(10000)"), "%s", error);
    free(error);
    set(&s, "syn_cookie_rate", 9999);
    ck_assert_ptr_null(check_error(&s));

    /* At the bounds of the meter. */
    set(&s, "syn_meter_rate", 100);
    set(&s, "syn_cookie_rate", 99);
    ck_assert_ptr_null(check_error(&s));
    set(&s, "syn_meter_rate", 10000000);
    set(&s, "syn_cookie_rate", 9999999);
    ck_assert_ptr_null(check_error(&s));

    /* The other meter takes no part in the rule. */
    set(&s, "other_meter_rate", 100);
    ck_assert_ptr_null(check_error(&s));
    cluster_settings_destroy(&s);
}
END_TEST

/* The bounds of the per-connection tables: the system test's 1,000 is
 * accepted, a bound below the smallest useful table or above what a daemon
 * could hold is refused with the setting's name and range, and none of them
 * takes part in the rules across settings (a tracker bound below
 * syn_table_max is coherent: the smaller bounds the handshakes). */
START_TEST(test_table_bounds)
{
    static const struct {
        const char *name;
        const char *too_small, *too_large, *range;
    } bounds[] = {
        { "tracker_table_max", "99", "100000001", "from 100 to 100000000" },
        { "mapping_table_max", "99", "100000001", "from 100 to 100000000" },
        { "pending_table_max", "9", "10000001", "from 10 to 10000000" },
        { "xlate_table_max", "99", "100000001", "from 100 to 100000000" },
    };
    struct cluster_settings s;

    cluster_settings_init(&s);
    for (size_t i = 0; i < ARRAY_SIZE(bounds); i++) {
        const struct cluster_setting *def
            = cluster_setting_find(bounds[i].name);
        const char *bad[] = { bounds[i].too_small, bounds[i].too_large,
                              "0", "-1000" };
        uint32_t v = 42;
        char *error;

        ck_assert_ptr_nonnull(def);
        ck_assert_ptr_null(def->retired);
        ck_assert_ptr_null(cluster_setting_parse(def, "1000", &v));
        ck_assert_uint_eq(v, 1000);
        cluster_setting_set(&s, def, v);
        ck_assert_uint_eq(cluster_setting_get(&s, def), 1000);
        for (size_t j = 0; j < ARRAY_SIZE(bad); j++) {
            v = 42;
            error = cluster_setting_parse(def, bad[j], &v);
            ck_assert_msg(error != NULL, "%s=%s accepted", bounds[i].name,
                          bad[j]);
            ck_assert_msg(strstr(error, bounds[i].name), "%s", error);
            if (j < 2) {
                ck_assert_msg(strstr(error, bounds[i].range), "%s", error);
            }
            ck_assert_uint_eq(v, 42);
            free(error);
        }
    }
    /* All four at 1,000 under the default syn_table_max of 1,000,000. */
    ck_assert_uint_gt(s.syn_table_max, s.tracker_table_max);
    ck_assert_ptr_null(cluster_settings_check(&s));
    cluster_settings_destroy(&s);
}
END_TEST

/* A cluster key is 16 to 64 characters, and the error names the setting
 * and the bound. */
START_TEST(test_key_check)
{
    static const struct {
        size_t len;
        const char *error;
    } cases[] = {
        { 0, "cluster_key_next is too short (at least 16" },
        { 15, "cluster_key_next is too short (at least 16" },
        { 16, NULL },
        { 64, NULL },
        { 65, "cluster_key_next is too long (at most 64" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char key[80];
        char *error;

        memset(key, 'k', cases[i].len);
        key[cases[i].len] = '\0';
        error = cluster_key_check("cluster_key_next", key);
        if (cases[i].error) {
            ck_assert_ptr_nonnull(error);
            ck_assert_msg(strstr(error, cases[i].error), "%s", error);
        } else {
            ck_assert_ptr_null(error);
        }
        free(error);
    }
}
END_TEST

START_TEST(test_modes_and_algorithms)
{
    enum cluster_vip_mode mode = CLUSTER_VIP_HASH;
    enum cluster_vip_algorithm alg = CLUSTER_ALG_SOURCE;

    ck_assert(cluster_vip_mode_from_string("tracked", &mode));
    ck_assert_int_eq(mode, CLUSTER_VIP_TRACKED);
    ck_assert(cluster_vip_mode_from_string("hash", &mode));
    ck_assert_int_eq(mode, CLUSTER_VIP_HASH);
    ck_assert(!cluster_vip_mode_from_string("Hash", &mode));
    ck_assert(!cluster_vip_mode_from_string("", &mode));
    ck_assert_int_eq(mode, CLUSTER_VIP_HASH);
    ck_assert_str_eq(cluster_vip_mode_to_string(CLUSTER_VIP_TRACKED),
                     "tracked");

    for (int i = 0; i < CLUSTER_N_ALGS; i++) {
        const char *name = cluster_vip_algorithm_to_string(i);
        ck_assert(cluster_vip_algorithm_from_string(name, &alg));
        ck_assert_int_eq(alg, i);
    }
    ck_assert(cluster_vip_algorithm_from_string("nearest", &alg));
    ck_assert_int_eq(alg, CLUSTER_ALG_NEAREST);
    ck_assert(!cluster_vip_algorithm_from_string("fastest", &alg));
    ck_assert_str_eq(cluster_vip_algorithm_to_string(CLUSTER_N_ALGS),
                     "unknown");

    /* The schema's enums and ours are the same sets. */
    const struct ovsdb_datum *algs
        = ovslbrec_vip_col_algorithm.type.key.enum_;
    ck_assert_uint_eq(algs->n, CLUSTER_N_ALGS);
    for (size_t i = 0; i < algs->n; i++) {
        ck_assert_msg(cluster_vip_algorithm_from_string(
                          json_string(algs->keys[i].s), &alg),
                      "schema algorithm %s unknown",
                      json_string(algs->keys[i].s));
    }
    const struct ovsdb_datum *modes = ovslbrec_vip_col_mode.type.key.enum_;
    ck_assert_uint_eq(modes->n, 2);
    for (size_t i = 0; i < modes->n; i++) {
        ck_assert(cluster_vip_mode_from_string(json_string(modes->keys[i].s),
                                               &mode));
    }
}
END_TEST

START_TEST(test_addresses)
{
    struct in6_addr addr, expected;
    char *error;

    ck_assert_ptr_null(cluster_parse_address("192.0.2.10", &addr));
    in6_addr_set_mapped_ipv4(&expected, htonl(0xc000020a));
    ck_assert(ipv6_addr_equals(&addr, &expected));

    ck_assert_ptr_null(cluster_parse_address("2001:db8::1", &addr));
    ck_assert_int_eq(addr.s6_addr[0], 0x20);
    ck_assert_int_eq(addr.s6_addr[15], 1);

    static const char *const bad[] = {
        "", "192.0.2", "192.0.2.256", "192.0.2.1 ", "192.0.2.1/24",
        "0.0.0.0", "255.255.255.255", "224.0.0.1", "::", "ff02::1",
        "::ffff:192.0.2.1", "host.example", "2001:db8:::1",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        error = cluster_parse_address(bad[i], &addr);
        ck_assert_msg(error != NULL, "\"%s\" accepted", bad[i]);
        free(error);
    }
}
END_TEST

START_TEST(test_default_mss)
{
    struct in6_addr v4, v6;

    ck_assert_ptr_null(cluster_parse_address("192.0.2.10", &v4));
    ck_assert_ptr_null(cluster_parse_address("2001:db8::1", &v6));
    /* 1500 - 58 (Geneve) - 40 (IPv4 + TCP). */
    ck_assert_uint_eq(cluster_default_mss(1500, &v4), 1402);
    ck_assert_uint_eq(cluster_default_mss(1500, &v6), 1382);
    ck_assert_uint_eq(cluster_default_mss(9000, &v4), 8902);
    /* The smallest fabric MTU still gives a usable MSS. */
    ck_assert_uint_ge(cluster_default_mss(576, &v6), 88);
}
END_TEST

/* Asserts that 'h' holds the check of the other arguments. */
static void
assert_health(const struct cluster_vip_health *h,
              enum cluster_health_type type, const char *path,
              uint16_t status, uint32_t interval_ms, uint32_t timeout_ms,
              uint32_t rise, uint32_t fall)
{
    ck_assert_int_eq(h->type, type);
    ck_assert_str_eq(h->http_path, path);
    ck_assert_uint_eq(h->http_status, status);
    ck_assert_uint_eq(h->interval_ms, interval_ms);
    ck_assert_uint_eq(h->timeout_ms, timeout_ms);
    ck_assert_uint_eq(h->rise, rise);
    ck_assert_uint_eq(h->fall, fall);
}

/* Asserts that 'h' holds the default check. */
static void
assert_health_defaults(const struct cluster_vip_health *h)
{
    assert_health(h, CLUSTER_HEALTH_TCP, "/", 200, 500, 500, 2, 2);
}

/* Parses the health_check map of the KEY, VALUE strings in 'kv' (at most
 * 'n', up to the first null one) into 'h'.  Returns the error, or NULL. */
static char *
parse_health(const char *const *kv, size_t n, struct cluster_vip_health *h)
{
    struct smap map = SMAP_INITIALIZER(&map);
    char *error;

    for (size_t i = 0; i + 1 < n && kv[i]; i += 2) {
        smap_add(&map, kv[i], kv[i + 1]);
    }
    error = cluster_vip_health_parse(&map, h);
    smap_destroy(&map);
    return error;
}

START_TEST(test_health_column)
{
    const struct ovsdb_idl_column *c = &ovslbrec_vip_col_health_check;

    ck_assert_str_eq(c->name, "health_check");
    ck_assert_int_eq(c->type.key.type, OVSDB_TYPE_STRING);
    ck_assert_int_eq(c->type.value.type, OVSDB_TYPE_STRING);
    ck_assert_uint_eq(c->type.n_min, 0);
    ck_assert_uint_eq(c->type.n_max, UINT_MAX);
}
END_TEST

START_TEST(test_health_defaults)
{
    struct cluster_vip_health h;
    struct smap empty = SMAP_INITIALIZER(&empty);

    cluster_vip_health_init(&h);
    assert_health_defaults(&h);
    cluster_vip_health_destroy(&h);

    /* An empty map: a TCP connect with every default. */
    ck_assert_ptr_null(cluster_vip_health_parse(&empty, &h));
    assert_health_defaults(&h);
    cluster_vip_health_destroy(&h);
    cluster_vip_health_destroy(NULL);

    ck_assert_str_eq(cluster_health_type_to_string(CLUSTER_HEALTH_TCP),
                     "tcp");
    ck_assert_str_eq(cluster_health_type_to_string(CLUSTER_HEALTH_HTTP),
                     "http");
    ck_assert_str_eq(cluster_health_type_to_string(CLUSTER_HEALTH_NONE),
                     "none");
    ck_assert_str_eq(cluster_health_type_to_string(CLUSTER_HEALTH_UDP),
                     "udp");
    ck_assert_str_eq(cluster_health_type_to_string(CLUSTER_HEALTH_UDP + 1),
                     "unknown");
}
END_TEST

/* What a health check parses into. */
struct health_expectation {
    enum cluster_health_type type;
    const char *http_path;
    uint16_t http_status;
    uint32_t interval_ms, timeout_ms, rise, fall;
};

START_TEST(test_health_keys)
{
    static const struct {
        const char *kv[14];
        struct health_expectation expected;
    } cases[] = {
        /* Every key of an HTTP check. */
        { { "type", "http", "path", "/healthz?full=1&x=%20", "status", "204",
            "interval_ms", "2000", "timeout_ms", "1500", "rise", "3",
            "fall", "5" },
          { CLUSTER_HEALTH_HTTP, "/healthz?full=1&x=%20", 204, 2000, 1500,
            3, 5 } },
        /* Only the type: the other keys keep their defaults. */
        { { "type", "http" },
          { CLUSTER_HEALTH_HTTP, "/", 200, 500, 500, 2, 2 } },
        /* The lower bounds. */
        { { "type", "http", "status", "100", "interval_ms", "100",
            "timeout_ms", "50", "rise", "1", "fall", "1" },
          { CLUSTER_HEALTH_HTTP, "/", 100, 100, 50, 1, 1 } },
        /* The upper bounds (the longest path below). */
        { { "type", "http", "status", "599", "interval_ms", "60000",
            "timeout_ms", "60000", "rise", "100", "fall", "100" },
          { CLUSTER_HEALTH_HTTP, "/", 599, 60000, 60000, 100, 100 } },
        /* A TCP check with its timing; "tcp" said explicitly. */
        { { "type", "tcp", "interval_ms", "1000", "timeout_ms", "200",
            "rise", "4", "fall", "1" },
          { CLUSTER_HEALTH_TCP, "/", 200, 1000, 200, 4, 1 } },
        /* A timeout below the default interval, alone. */
        { { "timeout_ms", "499" },
          { CLUSTER_HEALTH_TCP, "/", 200, 500, 499, 2, 2 } },
        /* No check at all. */
        { { "type", "none" },
          { CLUSTER_HEALTH_NONE, "/", 200, 500, 500, 2, 2 } },
    };
    struct cluster_vip_health h;

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct health_expectation *e = &cases[i].expected;

        ck_assert_ptr_null(parse_health(cases[i].kv,
                                        ARRAY_SIZE(cases[i].kv), &h));
        assert_health(&h, e->type, e->http_path, e->http_status,
                      e->interval_ms, e->timeout_ms, e->rise, e->fall);
        cluster_vip_health_destroy(&h);
    }

    /* The longest path. */
    char path[CLUSTER_HEALTH_PATH_MAX + 1];
    memset(path, 'p', sizeof path);
    path[0] = '/';
    path[CLUSTER_HEALTH_PATH_MAX] = '\0';
    const char *const longest[] = { "type", "http", "path", path };
    ck_assert_ptr_null(parse_health(longest, 4, &h));
    ck_assert_str_eq(h.http_path, path);
    cluster_vip_health_destroy(&h);
}
END_TEST

START_TEST(test_health_errors)
{
    static const struct {
        const char *kv[6];
        const char *error;
    } cases[] = {
        { { "kind", "tcp" },
          "health_check:kind: unknown key (expected type, path, status, "
          "interval_ms, timeout_ms, rise or fall)" },
        { { "type", "http", "Path", "/" }, "health_check:Path: unknown key" },
        { { "type", "UDP" },
          "health_check:type=UDP: invalid type (expected tcp, udp, http or "
          "none)" },
        { { "type", "" }, "health_check:type=: invalid type" },
        { { "type", "HTTP" }, "health_check:type=HTTP: invalid type" },
        { { "type", "http", "path", "" },
          "health_check:path=: invalid path (expected '/' then printable "
          "ASCII characters without spaces, at most 256 bytes)" },
        { { "type", "http", "path", "healthz" },
          "health_check:path=healthz: invalid path" },
        { { "type", "http", "path", "/a b" },
          "health_check:path=/a b: invalid path" },
        { { "type", "http", "path", "/a\tb" }, "invalid path" },
        { { "type", "http", "path", "/\x7f" }, "invalid path" },
        { { "type", "http", "path", "/caf\xc3\xa9" }, "invalid path" },
        { { "type", "http", "status", "99" },
          "health_check:status=99: invalid value (expected an integer from "
          "100 to 599)" },
        { { "type", "http", "status", "600" },
          "health_check:status=600: invalid value" },
        { { "type", "http", "status", "ok" },
          "health_check:status=ok: invalid value" },
        { { "interval_ms", "99" },
          "health_check:interval_ms=99: invalid value (expected an integer "
          "from 100 to 60000)" },
        { { "interval_ms", "60001" }, "health_check:interval_ms=60001" },
        { { "interval_ms", "" }, "health_check:interval_ms=: invalid value" },
        { { "timeout_ms", "49" },
          "health_check:timeout_ms=49: invalid value (expected an integer "
          "from 50 to 60000)" },
        { { "timeout_ms", "1.5" }, "health_check:timeout_ms=1.5" },
        { { "rise", "0" },
          "health_check:rise=0: invalid value (expected an integer from 1 "
          "to 100)" },
        { { "rise", "101" }, "health_check:rise=101" },
        { { "fall", "0" },
          "health_check:fall=0: invalid value (expected an integer from 1 "
          "to 100)" },
        { { "fall", "-1" }, "health_check:fall=-1" },
        { { "fall", "99999999999999999999" }, "health_check:fall=9999" },
        /* What would be accepted and not used. */
        { { "path", "/healthz" },
          "health_check:path applies to type http only (the type is tcp)" },
        { { "type", "tcp", "status", "200" },
          "health_check:status applies to type http only (the type is "
          "tcp)" },
        { { "type", "none", "path", "/" },
          "health_check:path applies to type http only (the type is "
          "none)" },
        { { "type", "none", "interval_ms", "1000" },
          "health_check:interval_ms does not apply to type none, which runs "
          "no check" },
        { { "type", "none", "fall", "3" },
          "health_check:fall does not apply to type none" },
        /* A check must end before the next starts. */
        { { "timeout_ms", "501" },
          "health_check:timeout_ms (501) must not be above interval_ms "
          "(500)" },
        { { "interval_ms", "200", "timeout_ms", "300" },
          "health_check:timeout_ms (300) must not be above interval_ms "
          "(200)" },
        { { "type", "http", "interval_ms", "100" },
          "health_check:timeout_ms (500) must not be above interval_ms "
          "(100)" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct cluster_vip_health h;
        char *error = parse_health(cases[i].kv, ARRAY_SIZE(cases[i].kv),
                                   &h);
        ck_assert_msg(error != NULL, "case %"PRIuSIZE" (%s=%s) accepted", i,
                      cases[i].kv[0], cases[i].kv[1]);
        ck_assert_msg(strstr(error, cases[i].error), "case %"PRIuSIZE
                      ": \"%s\" lacks \"%s\"", i, error, cases[i].error);
        /* The defaults, whatever the map had before the bad key. */
        assert_health_defaults(&h);
        cluster_vip_health_destroy(&h);
        free(error);
    }

    /* A path one byte too long. */
    char path[CLUSTER_HEALTH_PATH_MAX + 2];
    memset(path, 'p', sizeof path);
    path[0] = '/';
    path[CLUSTER_HEALTH_PATH_MAX + 1] = '\0';
    const char *const long_path[] = { "type", "http", "path", path };
    struct cluster_vip_health h;
    char *error = parse_health(long_path, 4, &h);
    ck_assert_ptr_nonnull(error);
    ck_assert_msg(strstr(error, "at most 256 bytes"), "%s", error);
    assert_health_defaults(&h);
    cluster_vip_health_destroy(&h);
    free(error);
}
END_TEST

START_TEST(test_health_protocol)
{
    static const char *const kv[][2] = {
        { "type", "http" }, { "type", "none" }, { "type", "udp" },
        { "type", "tcp" }, { "rise", "3" },
    };
    static const struct {
        size_t kv;              /* Index in 'kv'. */
        const char *protocol;
        enum cluster_health_type type;      /* On success. */
        const char *error;
    } cases[] = {
        { 0, "tcp", CLUSTER_HEALTH_HTTP, NULL },
        { 0, "udp", 0, "health_check:type=http needs a TCP VIP (this VIP's "
          "protocol is udp: use type udp, the default, or none)" },
        { 1, "udp", CLUSTER_HEALTH_NONE, NULL },
        { 1, "tcp", CLUSTER_HEALTH_NONE, NULL },
        { 2, "udp", CLUSTER_HEALTH_UDP, NULL },
        { 2, "tcp", 0, "health_check:type=udp needs a UDP VIP (this VIP's "
          "protocol is tcp)" },
        { 3, "udp", 0, "health_check:type=tcp needs a TCP VIP (this VIP's "
          "protocol is udp: use type udp, the default, or none)" },
        /* No type: the protocol's own. */
        { 4, "tcp", CLUSTER_HEALTH_TCP, NULL },
        { 4, "udp", CLUSTER_HEALTH_UDP, NULL },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct smap map = SMAP_INITIALIZER(&map);
        struct cluster_vip_health h;
        char *error;

        smap_add(&map, kv[cases[i].kv][0], kv[cases[i].kv][1]);
        ck_assert_ptr_null(cluster_vip_health_parse(&map, &h));
        error = cluster_vip_health_for_protocol(&h, &map, cases[i].protocol);
        if (cases[i].error) {
            ck_assert_msg(error && !strcmp(error, cases[i].error),
                          "case %"PRIuSIZE": %s", i, error ? error : "(null)");
        } else {
            ck_assert_msg(!error, "case %"PRIuSIZE": %s", i, error);
            ck_assert_int_eq(h.type, cases[i].type);
        }
        free(error);
        cluster_vip_health_destroy(&h);
        smap_destroy(&map);
    }
}
END_TEST

START_TEST(test_vip_unimplemented)
{
    static const struct {
        const char *mode, *protocol, *algorithm, *address;
        const char *error;      /* A part of it, or NULL: accepted. */
    } cases[] = {
        { "tracked", "tcp", "random", "192.0.2.1", NULL },
        { "hash", "tcp", "hash", "192.0.2.1", NULL },
        { "hash", "udp", "source", "192.0.2.1", NULL },
        { "hash", "tcp", "random", NULL, "mode hash takes algorithm hash" },
        { "hash", NULL, "least-connections", NULL, "not least-connections" },
        { "tracked", "udp", NULL, NULL, "protocol udp needs mode hash" },
        { NULL, "udp", NULL, NULL, NULL },
        { NULL, NULL, "random", NULL, NULL },
        { NULL, NULL, NULL, "2001:db8::1", "IPv6 VIP 2001:db8::1" },
    };

    char *options = cluster_vip_mode_options_check("hash", true, false,
                                                   true);
    ck_assert_str_eq(options, "mss, ttl: mode tracked only (the LB tier "
                     "answers the client's SYN); in mode hash the server "
                     "answers it itself (clear with mss= ttl=)");
    free(options);
    ck_assert_ptr_null(cluster_vip_mode_options_check("hash", false, false,
                                                      false));
    ck_assert_ptr_null(cluster_vip_mode_options_check("tracked", true, true,
                                                      true));
    ck_assert_ptr_null(cluster_vip_mode_options_check(NULL, true, true,
                                                      true));

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *error = cluster_vip_unimplemented(cases[i].mode,
                                                cases[i].protocol,
                                                cases[i].algorithm,
                                                cases[i].address);
        if (cases[i].error) {
            ck_assert_msg(error && strstr(error, cases[i].error),
                          "case %"PRIuSIZE": %s", i,
                          error ? error : "(accepted)");
        } else {
            ck_assert_msg(!error, "case %"PRIuSIZE": %s", i, error);
        }
        free(error);
    }
}
END_TEST

START_TEST(test_health_equals)
{
    static const char *const http[] = { "type", "http", "path", "/a" };
    struct cluster_vip_health a, b, c;

    ck_assert_ptr_null(parse_health(http, 4, &a));
    cluster_vip_health_clone(&b, &a);
    ck_assert_ptr_ne(a.http_path, b.http_path);
    ck_assert(cluster_vip_health_equals(&a, &b));

    /* Each member counts. */
    cluster_vip_health_clone(&c, &a);
    free(c.http_path);
    c.http_path = xstrdup("/b");
    ck_assert(!cluster_vip_health_equals(&a, &c));
    cluster_vip_health_destroy(&c);
    for (int i = 0; i < 6; i++) {
        cluster_vip_health_clone(&c, &a);
        switch (i) {
        case 0:
            c.type = CLUSTER_HEALTH_TCP;
            break;
        case 1:
            c.http_status = 201;
            break;
        case 2:
            c.interval_ms++;
            break;
        case 3:
            c.timeout_ms--;
            break;
        case 4:
            c.rise++;
            break;
        case 5:
            c.fall++;
            break;
        }
        ck_assert_msg(!cluster_vip_health_equals(&a, &c), "member %d", i);
        cluster_vip_health_destroy(&c);
    }
    cluster_vip_health_destroy(&a);
    cluster_vip_health_destroy(&b);
}
END_TEST

static Suite *
cluster_config_suite(void)
{
    Suite *s = suite_create("cluster-config");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_settings_match_schema);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_setting_parse);
    tcase_add_test(tc, test_settings_check);
    tcase_add_test(tc, test_table_bounds);
    tcase_add_test(tc, test_key_check);
    tcase_add_test(tc, test_modes_and_algorithms);
    tcase_add_test(tc, test_addresses);
    tcase_add_test(tc, test_default_mss);
    tcase_add_test(tc, test_health_column);
    tcase_add_test(tc, test_health_defaults);
    tcase_add_test(tc, test_health_keys);
    tcase_add_test(tc, test_health_errors);
    tcase_add_test(tc, test_health_protocol);
    tcase_add_test(tc, test_vip_unimplemented);
    tcase_add_test(tc, test_health_equals);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(cluster_config_suite());
    int n_failed;

    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
