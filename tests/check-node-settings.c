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
 * Unit tests of node-settings: the ovslb-* keys of a node's Open_vSwitch
 * external_ids, valid ones for both roles, and every missing or invalid key
 * named in the error.  Reading them through the vswitch IDL from a real
 * database that ovs-vsctl set is tested by tests/cluster-config-live.sh.
 */
#include <config.h>
#include "node-settings.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "smap.h"
#include "util.h"

/* Fills 'ids' with valid settings of LB node 1. */
static void
lb_ids(struct smap *ids)
{
    smap_init(ids);
    smap_add(ids, "ovslb-node-id", "1");
    smap_add(ids, "ovslb-role", "lb");
    smap_add(ids, "ovslb-bridge", "br-int");
    smap_add(ids, "ovslb-config", "unix:/var/run/ovslb/ovslb.sock");
    smap_add(ids, "ovslb-north-port", "north0");
    smap_add(ids, "other-key", "ignored");
}

/* Expects 'ids' to be refused with an error that contains 'what'. */
static void
expect_error(const struct smap *ids, const char *what)
{
    struct node_settings s;
    char *error = node_settings_parse(ids, "/run", &s);

    ck_assert_msg(error != NULL, "accepted, expected an error about %s",
                  what);
    ck_assert_msg(strstr(error, what) != NULL, "error \"%s\" lacks \"%s\"",
                  error, what);
    ck_assert_ptr_null(s.bridge);
    ck_assert_ptr_null(s.config);
    free(error);
}

START_TEST(test_lb_node)
{
    struct node_settings s;
    struct smap ids;

    lb_ids(&ids);
    ck_assert_ptr_null(node_settings_parse(&ids, "/var/run/ovslb", &s));
    ck_assert_uint_eq(s.node_id, 1);
    ck_assert_int_eq(s.role, NODE_ROLE_LB);
    ck_assert_str_eq(node_role_to_string(s.role), "lb");
    ck_assert_str_eq(s.bridge, "br-int");
    ck_assert_str_eq(s.config, "unix:/var/run/ovslb/ovslb.sock");
    ck_assert_str_eq(s.north_port, "north0");
    ck_assert_str_eq(s.store, "/var/run/ovslb/ovslb-1.db");
    /* The Geneve port's default; an LB node has no translation port. */
    ck_assert_str_eq(s.tunnel_port, "gnv0");
    ck_assert_ptr_null(s.xlate_port);
    node_settings_destroy(&s);

    /* A server node's keys are ignored on an LB node, even malformed. */
    smap_add(&ids, "ovslb-xlate-port", "bad/name");
    smap_add(&ids, "ovslb-conn-limit", "lots");
    ck_assert_ptr_null(node_settings_parse(&ids, "/var/run/ovslb", &s));
    ck_assert_ptr_null(s.xlate_port);
    ck_assert_uint_eq(s.conn_limit, 0);
    node_settings_destroy(&s);
    ck_assert_ptr_null(s.bridge);
    node_settings_destroy(NULL);
    smap_destroy(&ids);
}
END_TEST

START_TEST(test_server_node)
{
    struct node_settings s, t;
    struct smap ids;

    lb_ids(&ids);
    smap_replace(&ids, "ovslb-node-id", "101");
    smap_replace(&ids, "ovslb-role", "server");
    smap_replace(&ids, "ovslb-config",
                 "tcp:10.0.0.1:6641,tcp:10.0.0.2:6641,ssl:10.0.0.3:6641");
    smap_add(&ids, "ovslb-store", "/var/lib/ovslb/node.db");
    smap_add(&ids, "ovslb-ssl-private-key", "/etc/ovslb/node-privkey.pem");
    smap_add(&ids, "ovslb-ssl-certificate", "/etc/ovslb/node-cert.pem");
    smap_add(&ids, "ovslb-ssl-ca-cert", "/etc/ovslb/cacert.pem");
    ck_assert_ptr_null(node_settings_parse(&ids, "/run", &s));
    ck_assert_uint_eq(s.node_id, 101);
    ck_assert_int_eq(s.role, NODE_ROLE_SERVER);
    ck_assert_str_eq(s.config,
                     "tcp:10.0.0.1:6641,tcp:10.0.0.2:6641,ssl:10.0.0.3:6641");
    /* A server node has no north port, even if the key is there. */
    ck_assert_ptr_null(s.north_port);
    ck_assert_str_eq(s.store, "/var/lib/ovslb/node.db");
    ck_assert_ptr_null(s.metrics_file);
    ck_assert_str_eq(s.ssl_private_key, "/etc/ovslb/node-privkey.pem");
    ck_assert_str_eq(s.ssl_certificate, "/etc/ovslb/node-cert.pem");
    ck_assert_str_eq(s.ssl_ca_cert, "/etc/ovslb/cacert.pem");

    /* Without a north port: the same server settings. */
    smap_remove(&ids, "ovslb-north-port");
    ck_assert_ptr_null(node_settings_parse(&ids, "/run", &t));
    ck_assert(node_settings_equals(&s, &t));
    node_settings_destroy(&t);

    smap_replace(&ids, "ovslb-bridge", "br-lb");
    ck_assert_ptr_null(node_settings_parse(&ids, "/run", &t));
    ck_assert(!node_settings_equals(&s, &t));
    node_settings_destroy(&t);
    smap_replace(&ids, "ovslb-bridge", "br-int");

    /* Another certificate: a different setting. */
    smap_replace(&ids, "ovslb-ssl-certificate", "/etc/ovslb/new-cert.pem");
    ck_assert_ptr_null(node_settings_parse(&ids, "/run", &t));
    ck_assert(!node_settings_equals(&s, &t));
    node_settings_destroy(&t);
    smap_replace(&ids, "ovslb-ssl-certificate", "/etc/ovslb/node-cert.pem");

    /* A metrics file: kept, and a different setting. */
    smap_add(&ids, "ovslb-metrics-file",
             "/var/lib/prometheus/node-exporter/ovslb.prom");
    ck_assert_ptr_null(node_settings_parse(&ids, "/run", &t));
    ck_assert_str_eq(t.metrics_file,
                     "/var/lib/prometheus/node-exporter/ovslb.prom");
    ck_assert(!node_settings_equals(&s, &t));
    node_settings_destroy(&t);

    /* The ports: defaults, then the node's own names (issue 19: they
     * were a #define and daemon flags), each a different setting. */
    ck_assert_str_eq(s.tunnel_port, "gnv0");
    ck_assert_str_eq(s.xlate_port, "xlt0");
    smap_add(&ids, "ovslb-tunnel-port", "geneve1");
    smap_add(&ids, "ovslb-xlate-port", "xlate1");
    ck_assert_ptr_null(node_settings_parse(&ids, "/run", &t));
    ck_assert_str_eq(t.tunnel_port, "geneve1");
    ck_assert_str_eq(t.xlate_port, "xlate1");
    ck_assert(!node_settings_equals(&s, &t));
    node_settings_destroy(&t);
    smap_replace(&ids, "ovslb-xlate-port", "geneve1");
    expect_error(&ids, "name the same port geneve1");
    smap_replace(&ids, "ovslb-xlate-port", "bad/name");
    expect_error(&ids, "external_ids:ovslb-xlate-port=bad/name is not a "
                 "port name");
    smap_remove(&ids, "ovslb-xlate-port");
    smap_replace(&ids, "ovslb-tunnel-port", "");
    expect_error(&ids, "external_ids:ovslb-tunnel-port= is not a port name");
    smap_remove(&ids, "ovslb-tunnel-port");

    /* The admission limits (were the agent's options): none by default,
     * parsed, a different setting, refused when malformed. */
    ck_assert_uint_eq(s.conn_limit, 0);
    ck_assert_uint_eq(s.max_load_milli, 0);
    ck_assert_uint_eq(s.min_mem_mb, 0);
    smap_add(&ids, "ovslb-conn-limit", "10");
    smap_add(&ids, "ovslb-max-load", "2.5");
    smap_add(&ids, "ovslb-min-mem-mb", "512");
    ck_assert_ptr_null(node_settings_parse(&ids, "/run", &t));
    ck_assert_uint_eq(t.conn_limit, 10);
    ck_assert_uint_eq(t.max_load_milli, 2500);
    ck_assert_uint_eq(t.min_mem_mb, 512);
    ck_assert(!node_settings_equals(&s, &t));
    node_settings_destroy(&t);
    smap_replace(&ids, "ovslb-conn-limit", "-1");
    expect_error(&ids, "external_ids:ovslb-conn-limit=-1 is not a number "
                 "of connections");
    smap_replace(&ids, "ovslb-conn-limit", "10");
    smap_replace(&ids, "ovslb-max-load", "lots");
    expect_error(&ids, "external_ids:ovslb-max-load=lots is not a load");
    smap_replace(&ids, "ovslb-max-load", "-0.5");
    expect_error(&ids, "external_ids:ovslb-max-load=-0.5 is not a load");
    smap_replace(&ids, "ovslb-max-load", "2.5");
    smap_replace(&ids, "ovslb-min-mem-mb", "1e3");
    expect_error(&ids, "external_ids:ovslb-min-mem-mb=1e3 is not a number "
                 "of megabytes");
    smap_remove(&ids, "ovslb-conn-limit");
    smap_remove(&ids, "ovslb-max-load");
    smap_remove(&ids, "ovslb-min-mem-mb");

    node_settings_destroy(&s);
    smap_destroy(&ids);
}
END_TEST

START_TEST(test_missing_keys)
{
    static const char *const required[] = {
        "ovslb-node-id", "ovslb-role", "ovslb-bridge", "ovslb-config",
        "ovslb-north-port",
    };
    struct smap ids;

    for (size_t i = 0; i < ARRAY_SIZE(required); i++) {
        char *what = xasprintf("%s is missing", required[i]);

        lb_ids(&ids);
        smap_remove(&ids, required[i]);
        expect_error(&ids, what);
        smap_replace(&ids, required[i], "");
        free(what);
        what = xasprintf("%s is empty", required[i]);
        expect_error(&ids, what);
        free(what);
        smap_destroy(&ids);
    }

    /* All of them at once, each named. */
    struct node_settings s;
    smap_init(&ids);
    char *error = node_settings_parse(&ids, "/run", &s);
    ck_assert_ptr_nonnull(error);
    for (size_t i = 0; i < 4; i++) {
        ck_assert_msg(strstr(error, required[i]) != NULL, "%s", error);
    }
    ck_assert_msg(strstr(error, "ovs-vsctl set Open_vSwitch .") != NULL,
                  "%s", error);
    free(error);
    smap_destroy(&ids);
}
END_TEST

START_TEST(test_invalid_values)
{
    static const struct {
        const char *key;
        const char *value;
        const char *error;
    } cases[] = {
        { "ovslb-node-id", "0", "not a node id" },
        { "ovslb-node-id", "65536", "not a node id" },
        { "ovslb-node-id", "-1", "not a node id" },
        { "ovslb-node-id", "1x", "not a node id" },
        { "ovslb-role", "edge", "not a role" },
        { "ovslb-role", "LB", "not a role" },
        { "ovslb-bridge", "br/int", "not a bridge name" },
        { "ovslb-bridge", "a-bridge-name-too-long", "not a bridge name" },
        { "ovslb-bridge", "br int", "not a bridge name" },
        { "ovslb-config", "bogus:x", "not a list of OVSDB remotes" },
        { "ovslb-config", "unix:", "not a list of OVSDB remotes" },
        { "ovslb-config", "/var/run/ovslb.sock", "not a list" },
        { "ovslb-config", "unix:/a,,unix:/b", "not a list" },
        { "ovslb-config", "unix:/a,", "not a list" },
        { "ovslb-config", ",unix:/a", "not a list" },
        { "ovslb-north-port", "north:0", "not a port name" },
        { "ovslb-store", "", "ovslb-store is empty" },
        { "ovslb-metrics-file", "", "not an absolute path ending in" },
        { "ovslb-metrics-file", "ovslb.prom", "not an absolute path" },
        { "ovslb-metrics-file", "/var/lib/ovslb.txt", "ending in \".prom\"" },
        { "ovslb-metrics-file", "/var/lib/.prom", "ending in \".prom\"" },
    };
    struct smap ids;

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        lb_ids(&ids);
        smap_replace(&ids, cases[i].key, cases[i].value);
        expect_error(&ids, cases[i].error);
        smap_destroy(&ids);
    }
}
END_TEST

/* The TLS files: none is fine without an ssl: remote; an ssl: remote, even
 * one of several, needs all three; they go together and are absolute. */
START_TEST(test_ssl_files)
{
    static const char *const keys[] = {
        "ovslb-ssl-private-key", "ovslb-ssl-certificate", "ovslb-ssl-ca-cert",
    };
    struct node_settings s;
    struct smap ids;

    lb_ids(&ids);
    ck_assert_ptr_null(node_settings_parse(&ids, "/run", &s));
    ck_assert_ptr_null(s.ssl_private_key);
    ck_assert_ptr_null(s.ssl_certificate);
    ck_assert_ptr_null(s.ssl_ca_cert);
    node_settings_destroy(&s);

    smap_replace(&ids, "ovslb-config", "ssl:10.0.0.1:6641");
    expect_error(&ids, "ovslb-config=ssl:10.0.0.1:6641 names an ssl: remote, "
                 "but the node has no TLS files");
    expect_error(&ids, "ovslb-ssl-private-key, ovslb-ssl-certificate and "
                 "ovslb-ssl-ca-cert");
    smap_replace(&ids, "ovslb-config", "tcp:10.0.0.1:6641,ssl:10.0.0.2:6641");
    expect_error(&ids, "names an ssl: remote");

    /* Each one missing is named. */
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        for (size_t j = 0; j < ARRAY_SIZE(keys); j++) {
            if (j != i) {
                smap_replace(&ids, keys[j], "/etc/ovslb/x.pem");
            }
        }
        char *what = xasprintf("external_ids:%s is missing (the node's TLS "
                               "files", keys[i]);
        expect_error(&ids, what);
        free(what);
        /* ...even without an ssl: remote. */
        smap_replace(&ids, "ovslb-config", "unix:/run/ovslb.sock");
        expect_error(&ids, "go together");
        smap_replace(&ids, "ovslb-config", "ssl:10.0.0.2:6641");
        for (size_t j = 0; j < ARRAY_SIZE(keys); j++) {
            smap_remove(&ids, keys[j]);
        }
    }

    /* Relative or empty paths are refused. */
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        smap_replace(&ids, keys[i], "/etc/ovslb/x.pem");
    }
    ck_assert_ptr_null(node_settings_parse(&ids, "/run", &s));
    ck_assert_str_eq(s.ssl_private_key, "/etc/ovslb/x.pem");
    node_settings_destroy(&s);
    smap_replace(&ids, "ovslb-ssl-ca-cert", "cacert.pem");
    expect_error(&ids, "external_ids:ovslb-ssl-ca-cert=cacert.pem is not an "
                 "absolute path");
    smap_replace(&ids, "ovslb-ssl-ca-cert", "");
    expect_error(&ids, "ovslb-ssl-ca-cert= is not an absolute path");
    smap_destroy(&ids);
}
END_TEST

static Suite *
node_settings_suite(void)
{
    Suite *s = suite_create("node-settings");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_lb_node);
    tcase_add_test(tc, test_server_node);
    tcase_add_test(tc, test_missing_keys);
    tcase_add_test(tc, test_invalid_values);
    tcase_add_test(tc, test_ssl_files);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(node_settings_suite());
    int n_failed;

    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
