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
 * libFuzzer target for the decoders of configuration strings: what the
 * config service's rows and a node's external_ids hold, and what ovslb-ctl
 * takes on its command line (lib/cluster-config.h, lib/node-settings.h,
 * lib/selection.h), and the flow keys that the inspection commands take
 * (lib/flow-key.h).
 *
 * The input is a list of strings separated by NUL bytes.  Each string goes
 * to every single-string parser (addresses, flow keys, VIP modes,
 * algorithms); each pair (NAME, VALUE) to cluster_setting_parse() when NAME
 * names a setting, and the pairs, as keys and values, make the
 * external_ids map that node_settings_parse() reads and the VIP
 * health_check map that cluster_vip_health_parse() reads.
 *
 * Besides memory safety (and leaks, under ASan) it checks that whatever a
 * parser accepts is in range and comes back the same when printed and
 * parsed again, and that the settings of a node it accepts are complete.
 */
#include <config.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cluster-config.h"
#include "flow-key.h"
#include "node-settings.h"
#include "openvswitch/dynamic-string.h"
#include "packets.h"
#include "selection.h"
#include "smap.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_STRINGS 32

static void
check_address(const char *s)
{
    struct in6_addr addr, again;
    struct ds out = DS_EMPTY_INITIALIZER;
    char *error = cluster_parse_address(s, &addr);

    if (error) {
        free(error);
        return;
    }
    ipv6_format_mapped(&addr, &out);
    error = cluster_parse_address(ds_cstr(&out), &again);
    ovs_assert(!error);
    ovs_assert(ipv6_addr_equals(&addr, &again));
    ds_destroy(&out);
}

static void
check_flow_key(const char *s)
{
    struct flow_key key, again;
    struct ds out = DS_EMPTY_INITIALIZER;
    char *error = flow_key_parse(&key, s);

    if (error) {
        free(error);
        return;
    }
    ovs_assert(flow_key_is_valid(&key));
    flow_key_format(&key, &out);
    error = flow_key_parse(&again, ds_cstr(&out));
    ovs_assert(!error);
    ovs_assert(flow_key_equals(&key, &again));
    ds_destroy(&out);
}

static void
check_names(const char *s)
{
    enum cluster_vip_mode mode;
    enum cluster_vip_algorithm alg;
    enum selection_algo algo;

    if (cluster_vip_mode_from_string(s, &mode)) {
        ovs_assert(!strcmp(cluster_vip_mode_to_string(mode), s));
    }
    if (cluster_vip_algorithm_from_string(s, &alg)) {
        ovs_assert(alg < CLUSTER_N_ALGS);
        ovs_assert(!strcmp(cluster_vip_algorithm_to_string(alg), s));
    }
    if (selection_algo_from_string(s, &algo)) {
        ovs_assert(algo < SEL_N_ALGOS);
        ovs_assert(!strcmp(selection_algo_to_string(algo), s));
    }
}

/* Parses 'value' for the setting 'name', if there is one, into
 * 'settings'. */
static void
check_setting(struct cluster_settings *settings, const char *name,
              const char *value)
{
    const struct cluster_setting *s = cluster_setting_find(name);
    uint32_t v = 0, again = 0;
    char *error;

    if (!s) {
        return;
    }
    ovs_assert(!strcmp(s->name, name));
    error = cluster_setting_parse(s, value, &v);
    if (error) {
        free(error);
        return;
    }
    ovs_assert(!s->retired && v >= s->min && v <= s->max);

    char *printed = xasprintf("%"PRIu32, v);
    ovs_assert(!cluster_setting_parse(s, printed, &again) && again == v);
    free(printed);

    cluster_setting_set(settings, s, v);
    ovs_assert(cluster_setting_get(settings, s) == v);
}

/* Parses 'map' as a VIP's health_check column: what it accepts is in
 * range and coherent, and a map with each of its keys written back from
 * the parsed values parses the same. */
static void
check_health(const struct smap *map)
{
    struct cluster_vip_health h, again;
    char *error = cluster_vip_health_parse(map, &h);

    if (error) {
        ovs_assert(error[0]);
        /* The defaults, as documented. */
        ovs_assert(h.type == CLUSTER_HEALTH_TCP && !strcmp(h.http_path, "/"));
        free(error);
        cluster_vip_health_destroy(&h);
        return;
    }
    ovs_assert(h.type <= CLUSTER_HEALTH_UDP);
    ovs_assert(h.http_path[0] == '/'
               && strlen(h.http_path) <= CLUSTER_HEALTH_PATH_MAX);
    ovs_assert(h.http_status >= 100 && h.http_status <= 599);
    ovs_assert(h.interval_ms >= 100 && h.interval_ms <= 60000);
    ovs_assert(h.timeout_ms >= 50 && h.timeout_ms <= h.interval_ms);
    ovs_assert(h.rise >= 1 && h.rise <= 100);
    ovs_assert(h.fall >= 1 && h.fall <= 100);

    struct smap printed = SMAP_INITIALIZER(&printed);
    smap_add(&printed, "type", cluster_health_type_to_string(h.type));
    if (h.type == CLUSTER_HEALTH_HTTP) {
        smap_add(&printed, "path", h.http_path);
        smap_add_format(&printed, "status", "%"PRIu16, h.http_status);
    }
    if (h.type != CLUSTER_HEALTH_NONE) {
        smap_add_format(&printed, "interval_ms", "%"PRIu32, h.interval_ms);
        smap_add_format(&printed, "timeout_ms", "%"PRIu32, h.timeout_ms);
        smap_add_format(&printed, "rise", "%"PRIu32, h.rise);
        smap_add_format(&printed, "fall", "%"PRIu32, h.fall);
    }
    ovs_assert(!cluster_vip_health_parse(&printed, &again));
    ovs_assert(cluster_vip_health_equals(&h, &again));
    smap_destroy(&printed);
    cluster_vip_health_destroy(&again);
    cluster_vip_health_destroy(&h);
}

static void
check_node_settings(const struct smap *ids)
{
    struct node_settings ns, again;
    char *error = node_settings_parse(ids, "/var/run/ovslb", &ns);

    if (error) {
        ovs_assert(error[0]);
        free(error);
        return;
    }
    ovs_assert(ns.node_id >= 1 && ns.node_id <= 65535);
    ovs_assert(ns.role == NODE_ROLE_LB || ns.role == NODE_ROLE_SERVER);
    ovs_assert(ns.bridge && ns.bridge[0] && ns.config && ns.store);
    ovs_assert((ns.north_port != NULL) == (ns.role == NODE_ROLE_LB));
    ovs_assert(!node_settings_parse(ids, "/var/run/ovslb", &again));
    ovs_assert(node_settings_equals(&ns, &again));
    node_settings_destroy(&again);
    node_settings_destroy(&ns);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* NUL-terminated copy, so that the last string ends too. */
    char *copy = xmalloc(size + 1);
    const char *strings[MAX_STRINGS];
    size_t n = 0;

    memcpy(copy, data, size);
    copy[size] = '\0';
    for (char *p = copy; n < MAX_STRINGS && p <= copy + size;
         p += strlen(p) + 1) {
        strings[n++] = p;
    }

    struct cluster_settings settings;
    struct smap ids = SMAP_INITIALIZER(&ids);

    cluster_settings_init(&settings);
    for (size_t i = 0; i < n; i++) {
        check_address(strings[i]);
        check_flow_key(strings[i]);
        check_names(strings[i]);
    }
    for (size_t i = 0; i + 1 < n; i += 2) {
        check_setting(&settings, strings[i], strings[i + 1]);
        smap_replace(&ids, strings[i], strings[i + 1]);
    }
    free(cluster_settings_check(&settings));
    cluster_settings_destroy(&settings);
    check_node_settings(&ids);
    check_health(&ids);
    smap_destroy(&ids);
    free(copy);
    return 0;
}
