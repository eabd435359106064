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
 * cluster-config: the client side of the config service (see the header).
 */

#include <config.h>

#include "cluster-config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "coverage.h"
#include "ctl-sock.h"
#include "ovsdb-data.h"
#include "ovsdb-idl.h"
#include "ovslb-idl.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "smap.h"
#include "timeval.h"
#include "util.h"
#include "uuid.h"

VLOG_DEFINE_THIS_MODULE(cluster_config);

COVERAGE_DEFINE(cluster_config_rebuild);
COVERAGE_DEFINE(cluster_config_change);
COVERAGE_DEFINE(cluster_config_rejected_row);
COVERAGE_DEFINE(cluster_config_ack);
COVERAGE_DEFINE(cluster_config_ack_failed);

/* Delay before a failed acknowledgement is tried again. */
#define CLUSTER_ACK_RETRY_MS 1000

static void ack_run(struct cluster_config *);

#define SETTING(NAME, DEFAULT, MIN, MAX, PRIME, HELP)                   \
    { #NAME, offsetof(struct cluster_settings, NAME), DEFAULT, MIN, MAX, \
      PRIME, HELP, NULL }

/* A setting whose column the schema still has but that no longer applies:
 * setting it is refused with RETIRED, the reason. */
#define RETIRED_SETTING(NAME, DEFAULT, MIN, MAX, HELP, RETIRED)         \
    { #NAME, offsetof(struct cluster_settings, NAME), DEFAULT, MIN, MAX, \
      false, HELP, RETIRED }

/* The integer columns of the Cluster row, in the order 'show' prints them.
 * The defaults are PROTOCOL.md's; the ranges are the schema's (a test
 * checks that they agree). */
const struct cluster_setting cluster_setting_defs[] = {
    SETTING(key_grace_ms, CTL_SOCK_KEY_GRACE_MS, 1000, 3600000, false,
            "how long the nodes still accept the cluster key that a "
            "promotion replaced"),
    SETTING(ring_vnodes, 64, 1, 4096, false,
            "points per LB node on the flow-tracker ring"),
    SETTING(control_port, 7700, 1, 65535, false,
            "UDP port of control messages"),
    SETTING(publish_port, 7701, 1, 65535, false,
            "UDP port of forwarded connection publications"),
    /* Fixed until they are implemented: the control sockets' replay window
     * is built in, and only hash mode, not implemented yet, would use the
     * Maglev table.  A value the daemons would ignore is refused. */
    SETTING(replay_window, 64, 64, 64, false,
            "per-sender replay window of control messages (fixed at 64 in "
            "this version)"),
    SETTING(buffer_packets, 8, 1, 1024, false,
            "packets an ingress buffers per pending flow"),
    SETTING(buffer_bytes, 65536, 1500, 16777216, false,
            "bytes an ingress buffers per pending flow"),
    SETTING(buffer_timeout_ms, 3000, 1, 600000, false,
            "how long an ingress buffers a pending flow"),
    SETTING(syn_table_max, 1000000, 1, 100000000, false,
            "bound of a flow tracker's SYN table"),
    SETTING(syn_cookie_threshold_pct, 80, 1, 100, false,
            "SYN table fill that switches to SYN cookies"),
    /* The SYN meter and the cookie rate trigger are one policy: see
     * cluster_settings_check(). */
    SETTING(syn_cookie_rate, 10000, 1, 100000000, false,
            "SYNs per second to the whole LB tier that switch the flow "
            "trackers to SYN cookies (below syn_meter_rate)"),
    SETTING(syn_meter_rate, 50000, 100, 10000000, false,
            "SYNs per second an LB node's switch sends its controller"),
    SETTING(other_meter_rate, 40000, 100, 10000000, false,
            "other segments per second an LB node's switch sends its "
            "controller"),
    /* Bounds of the per-connection tables (PROTOCOL.md §6: entries are
     * "forgotten when memory is needed").  At a bound the least recently
     * used idle entry is evicted, never a handshake in progress; see
     * controller/lbnode-private.h and agent/agent-core.c. */
    SETTING(tracker_table_max, 1000000, 100, 100000000, false,
            "bound of a flow tracker's entries (established ones evicted "
            "least recently used first)"),
    SETTING(mapping_table_max, 1000000, 100, 100000000, false,
            "bound of an ingress's mappings (least recently renewed "
            "evicted first)"),
    SETTING(pending_table_max, 100000, 10, 10000000, false,
            "bound of an ingress's pending flows (oldest evicted first, "
            "with their buffered packets)"),
    SETTING(xlate_table_max, 1000000, 100, 100000000, false,
            "bound of a server agent's translation table (closed and "
            "forgotten entries evicted least recently used first)"),
    SETTING(fabric_mtu, 1500, 576, 9216, false,
            "underlay MTU, which sets a VIP's default MSS"),
    SETTING(vip_wscale, 7, 0, 14, false,
            "default SYN/ACK window scale of a VIP"),
    SETTING(vip_ttl, 3, 1, 255, false,
            "default retry TTL of a VIP"),
    RETIRED_SETTING(flow_idle_timeout_s, 60, 1, 86400,
                    "(retired) idle timeout of an ingress mapping flow",
                    "ingress mappings are no longer OpenFlow flows: they "
                    "live in the switch's connection tracker for as long "
                    "as their lease (lease_ms)"),
    SETTING(xlate_linger_ms, 10000, 0, 3600000, false,
            "how long a translation entry outlives its socket"),
    SETTING(xlate_syn_timeout_ms, 1000, 100, 60000, false,
            "how long a server agent waits for its server's SYN/ACK before "
            "sending the SYN again"),
    SETTING(xlate_syn_tries, 3, 1, 20, false,
            "SYNs a server agent sends its server before refusing the "
            "connection"),
    SETTING(xlate_closed_idle_ms, 70000, 1000, 3600000, false,
            "how long a closed connection's translation entry stays "
            "without packets"),
    /* At most 65,536: the switch picks a slot with the multipath action,
     * whose link number has 16 bits (flows/hash-slots.h).  65521 is the
     * largest prime below. */
    SETTING(maglev_table_size, 65521, 7, 65521, true,
            "slots of a hash-mode VIP's Maglev table, each a flow in every "
            "LB node's switch (a prime of at least 7 and at most 65521, the "
            "switch's limit; at least 100 times the VIP's servers keeps "
            "their shares within 1 %)"),
    SETTING(publish_interval_ms, 1000, 10, 600000, false,
            "period of connection publishing"),
    SETTING(lease_ms, 10000, 100, 3600000, false,
            "lease a publication gives a connection"),
    SETTING(handshake_timeout_ms, 30000, 1000, 600000, false,
            "how long a flow tracker keeps a connection whose handshake "
            "has not completed"),
    SETTING(connect_retry_ms, 1000, 100, 60000, false,
            "how long a flow tracker waits for a server's answer to a "
            "connection request before asking again"),
    SETTING(query_retry_ms, 500, 50, 60000, false,
            "how long an ingress waits for a flow tracker's answer before "
            "asking again"),
    SETTING(ping_interval_ms, 100, 10, 600000, false,
            "period of LB node health checks"),
    SETTING(gossip_interval_ms, 100, 10, 600000, false,
            "period of heartbeat gossip"),
    SETTING(suspect_ms, 300, 10, 600000, false,
            "time without a heartbeat before a node is suspect"),
    SETTING(unhealthy_ms, 300, 10, 600000, false,
            "further time before a suspect node is unhealthy"),
    SETTING(server_check_interval_ms, 500, 10, 600000, false,
            "period of server node health checks"),
    SETTING(bgp_local_as, 65001, 1, UINT32_MAX, false,
            "BGP AS of the LB nodes, which announce each other"),
    SETTING(bgp_router_as, 65000, 1, UINT32_MAX, false,
            "BGP AS of the edge router"),
};
const size_t cluster_n_setting_defs = ARRAY_SIZE(cluster_setting_defs);

/* Returns the integer setting named 'name', or NULL if there is none. */
const struct cluster_setting *
cluster_setting_find(const char *name)
{
    for (size_t i = 0; i < cluster_n_setting_defs; i++) {
        if (!strcmp(cluster_setting_defs[i].name, name)) {
            return &cluster_setting_defs[i];
        }
    }
    return NULL;
}

static bool
is_prime(uint32_t n)
{
    if (n < 2) {
        return false;
    }
    for (uint32_t d = 2; d <= n / d; d++) {
        if (n % d == 0) {
            return false;
        }
    }
    return true;
}

static bool
setting_value_is_valid(const struct cluster_setting *s, long long int value)
{
    return (value >= s->min && value <= s->max
            && (!s->must_be_prime || is_prime(value)));
}

/* Parses 'value' (decimal) for setting 's' into '*valuep'.  Returns NULL on
 * success, otherwise an error message that the caller must free (and
 * '*valuep' is unchanged). */
char *
cluster_setting_parse(const struct cluster_setting *s, const char *value,
                      uint32_t *valuep)
{
    long long int n;

    if (s->retired) {
        return xasprintf("%s no longer applies: %s", s->name, s->retired);
    }
    if (!str_to_llong(value, 10, &n) || !setting_value_is_valid(s, n)) {
        return xasprintf("%s: invalid value \"%s\" (expected an integer "
                         "from %"PRIu32" to %"PRIu32"%s)", s->name, value,
                         s->min, s->max,
                         s->must_be_prime ? " that is a prime" : "");
    }
    *valuep = n;
    return NULL;
}

/* Returns the value of setting 's' in 'settings'. */
uint32_t
cluster_setting_get(const struct cluster_settings *settings,
                    const struct cluster_setting *s)
{
    const uint32_t *p = (const uint32_t *) ((const char *) settings
                                            + s->offset);
    return *p;
}

/* Sets setting 's' in 'settings' to 'value', which the caller has checked
 * (cluster_setting_parse()). */
void
cluster_setting_set(struct cluster_settings *settings,
                    const struct cluster_setting *s, uint32_t value)
{
    uint32_t *p = (uint32_t *) ((char *) settings + s->offset);
    *p = value;
}

/* Initializes 'settings' with every default and empty name and key. */
void
cluster_settings_init(struct cluster_settings *settings)
{
    memset(settings, 0, sizeof *settings);
    settings->name = xstrdup("");
    settings->cluster_key = xstrdup("");
    settings->cluster_key_next = xstrdup("");
    for (size_t i = 0; i < cluster_n_setting_defs; i++) {
        const struct cluster_setting *s = &cluster_setting_defs[i];
        cluster_setting_set(settings, s, s->default_value);
    }
}

/* Frees what 'settings' owns. */
void
cluster_settings_destroy(struct cluster_settings *settings)
{
    if (settings) {
        free(settings->name);
        free(settings->cluster_key);
        free(settings->cluster_key_next);
    }
}

/* Checks that 'key', the value of the setting 'name' ("cluster_key" or
 * "cluster_key_next"), can serve as a cluster key.  Returns NULL if so,
 * otherwise an error message that the caller must free. */
char *
cluster_key_check(const char *name, const char *key)
{
    size_t len = strlen(key);

    if (len < CLUSTER_KEY_MIN_LEN) {
        return xasprintf("%s is too short (at least %d characters; "
                         "'ovslb-ctl init' and 'ovslb-ctl key-stage' make "
                         "a random one)", name, CLUSTER_KEY_MIN_LEN);
    } else if (len > CLUSTER_KEY_MAX_LEN) {
        return xasprintf("%s is too long (at most %d characters)",
                         name, CLUSTER_KEY_MAX_LEN);
    }
    return NULL;
}

/* Checks the rules that tie settings together, which no single setting's
 * range can express.  Returns NULL if 'settings' is coherent, otherwise an
 * error message, naming the settings and what to do, that the caller must
 * free.
 *
 * The SYN meter and the SYN-cookie rate trigger.  Each LB node's switch
 * sends its controller at most 'syn_meter_rate' SYNs per second and drops
 * the rest; the controller hands each SYN to the flow tracker (PFT) of its
 * flow on the ring as SYN_INFO.  'syn_cookie_rate' is the SYNs per second
 * that the whole LB tier receives above which the flow trackers answer
 * with SYN cookies: the ring gives each of the N healthy trackers about 1/N
 * of the flows, so each PFT estimates the tier's rate as N times its own
 * (within 100 ms of a flood's start: lib/event-rate.h) and compares that.
 * The tier cannot pass its trackers more than N * syn_meter_rate SYNs per
 * second, so the trigger is reachable for every N, a cluster of one LB node
 * included, only if
 *
 *     syn_cookie_rate < syn_meter_rate,
 *
 * which is refused otherwise: a trigger that can never fire is a setting
 * accepted but not implemented.  The defaults (10000 < 50000) start cookies
 * long before any meter drops a SYN, however unevenly the edge router
 * spreads a flood over the LB nodes. */
char *
cluster_settings_check(const struct cluster_settings *s)
{
    if (s->syn_cookie_rate >= s->syn_meter_rate) {
        return xasprintf("syn_cookie_rate (%"PRIu32") must be below "
                         "syn_meter_rate (%"PRIu32"): a flow tracker never "
                         "counts more SYNs per second than one LB node's "
                         "SYN meter lets through, so SYN cookies would "
                         "never start on the rate (lower syn_cookie_rate "
                         "or raise syn_meter_rate)",
                         s->syn_cookie_rate, s->syn_meter_rate);
    }
    return NULL;
}

static const char *const mode_names[] = {
    [CLUSTER_VIP_TRACKED] = "tracked",
    [CLUSTER_VIP_HASH] = "hash",
};

static const char *const algorithm_names[] = {
    [CLUSTER_ALG_RANDOM] = "random",
    [CLUSTER_ALG_WEIGHTED_RANDOM] = "weighted-random",
    [CLUSTER_ALG_ROUND_ROBIN] = "round-robin",
    [CLUSTER_ALG_LEAST_CONNECTIONS] = "least-connections",
    [CLUSTER_ALG_LOWEST_LATENCY] = "lowest-latency",
    [CLUSTER_ALG_HASH] = "hash",
    [CLUSTER_ALG_SOURCE] = "source",
    [CLUSTER_ALG_NEAREST] = "nearest",
};
BUILD_ASSERT_DECL(ARRAY_SIZE(algorithm_names) == CLUSTER_N_ALGS);

/* Returns an error message (the caller frees it) if a VIP of 'mode',
 * 'protocol', 'algorithm' and 'address' (as the database has them; any may
 * be NULL) asks for what this version does not implement, NULL otherwise.
 * Such a VIP would be accepted and then silently not served as asked:
 * ovslb-ctl refuses it, and the daemons skip a row written around
 * ovslb-ctl, saying why.
 *
 * Mode hash places flows by a consistent hash in the switches, with no
 * choice per connection: of the algorithms, it takes only "hash" (the
 * flow's addresses and ports) and "source" (the client's address). */
char *
cluster_vip_unimplemented(const char *mode, const char *protocol,
                          const char *algorithm, const char *address)
{
    struct in6_addr addr;
    char *error;

    if (address) {
        error = cluster_parse_address(address, &addr);
        if (!error && !IN6_IS_ADDR_V4MAPPED(&addr)) {
            return xasprintf("IPv6 VIP %s is not implemented yet: the LB "
                             "nodes announce IPv4 VIPs only to the edge "
                             "router, and no IPv6 client path is tested "
                             "(use an IPv4 address)", address);
        }
        free(error);
    }
    if (protocol && !strcmp(protocol, "udp") && mode
        && strcmp(mode, "hash")) {
        return xasprintf("protocol udp needs mode hash (this VIP's mode is "
                         "%s): the LB nodes answer handshakes and the agents "
                         "translate sequence numbers for TCP only",
                         mode);
    }
    if (mode && !strcmp(mode, "hash") && algorithm
        && strcmp(algorithm, "hash") && strcmp(algorithm, "source")) {
        return xasprintf("mode hash takes algorithm hash (by the flow's "
                         "addresses and ports) or source (by the client's "
                         "address), not %s: the switches place every flow "
                         "by a consistent hash, with no choice per "
                         "connection (set algorithm=hash)", algorithm);
    }
    return NULL;
}

/* Returns an error message (the caller frees it) if a VIP of 'mode' (as the
 * database has it; NULL: unknown) sets its own MSS, window scale or retry
 * TTL ('has_mss', 'has_wscale', 'has_ttl'), which only mode tracked uses
 * (the LB tier answers the client's SYN and offers the connection to
 * servers); in mode hash the server answers the SYN itself, so they would
 * be accepted and ignored.  NULL otherwise. */
char *
cluster_vip_mode_options_check(const char *mode, bool has_mss,
                               bool has_wscale, bool has_ttl)
{
    if (!mode || strcmp(mode, "hash") || !(has_mss || has_wscale || has_ttl)) {
        return NULL;
    }

    struct ds set = DS_EMPTY_INITIALIZER;
    struct ds clear = DS_EMPTY_INITIALIZER;
    const char *names[] = { "mss", "wscale", "ttl" };
    bool has[] = { has_mss, has_wscale, has_ttl };

    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (has[i]) {
            ds_put_format(&set, "%s%s", set.length ? ", " : "", names[i]);
            ds_put_format(&clear, "%s%s=", clear.length ? " " : "",
                          names[i]);
        }
    }
    char *error = xasprintf("%s: mode tracked only (the LB tier answers the "
                            "client's SYN); in mode hash the server answers "
                            "it itself (clear with %s)", ds_cstr(&set),
                            ds_cstr(&clear));
    ds_destroy(&set);
    ds_destroy(&clear);
    return error;
}

/* Returns the name of 'mode' ("tracked" or "hash"). */
const char *
cluster_vip_mode_to_string(enum cluster_vip_mode mode)
{
    return mode < ARRAY_SIZE(mode_names) ? mode_names[mode] : "unknown";
}

/* Stores in '*modep' the mode named 's' and returns true, or returns false
 * if 's' names no mode. */
bool
cluster_vip_mode_from_string(const char *s, enum cluster_vip_mode *modep)
{
    for (size_t i = 0; i < ARRAY_SIZE(mode_names); i++) {
        if (!strcmp(s, mode_names[i])) {
            *modep = i;
            return true;
        }
    }
    return false;
}

/* Returns the name of 'alg' (e.g. "weighted-random"). */
const char *
cluster_vip_algorithm_to_string(enum cluster_vip_algorithm alg)
{
    return alg < CLUSTER_N_ALGS ? algorithm_names[alg] : "unknown";
}

/* Stores in '*algp' the algorithm named 's' and returns true, or returns
 * false if 's' names no algorithm. */
bool
cluster_vip_algorithm_from_string(const char *s,
                                  enum cluster_vip_algorithm *algp)
{
    for (size_t i = 0; i < CLUSTER_N_ALGS; i++) {
        if (!strcmp(s, algorithm_names[i])) {
            *algp = i;
            return true;
        }
    }
    return false;
}

/* Parses 's', an IPv4 address in dotted-quad form or an IPv6 address, into
 * '*addr' (IPv4 as v4-mapped).  Unspecified, multicast and broadcast
 * addresses are refused: no VIP or node can have one.  Returns NULL on
 * success, otherwise an error message that the caller must free. */
char *
cluster_parse_address(const char *s, struct in6_addr *addr)
{
    ovs_be32 ip4;

    if (ip_parse(s, &ip4)) {
        if (!ip4 || ip4 == htonl(INADDR_BROADCAST)
            || ip_is_multicast(ip4)) {
            return xasprintf("%s: not a unicast IPv4 address", s);
        }
        in6_addr_set_mapped_ipv4(addr, ip4);
        return NULL;
    } else if (ipv6_parse(s, addr)) {
        if (ipv6_addr_equals(addr, &in6addr_any)
            || ipv6_addr_is_multicast(addr)
            || IN6_IS_ADDR_V4MAPPED(addr)) {
            return xasprintf("%s: not a unicast IPv6 address", s);
        }
        return NULL;
    }
    return xasprintf("%s: invalid IP address (expected IPv4 dotted quad or "
                     "IPv6)", s);
}

/* Returns the MSS that a VIP at 'vip' gets by default on a fabric whose MTU
 * is 'fabric_mtu' (see CLUSTER_GENEVE_OVERHEAD). */
uint16_t
cluster_default_mss(uint32_t fabric_mtu, const struct in6_addr *vip)
{
    int headers = IN6_IS_ADDR_V4MAPPED(vip) ? 40 : 60;
    return fabric_mtu - CLUSTER_GENEVE_OVERHEAD - headers;
}

/* VIP health checks. */

static const char *const health_type_names[] = {
    [CLUSTER_HEALTH_TCP] = "tcp",
    [CLUSTER_HEALTH_HTTP] = "http",
    [CLUSTER_HEALTH_NONE] = "none",
    [CLUSTER_HEALTH_UDP] = "udp",
};

/* Returns the name of 'type' ("tcp", "http", "none" or "udp"), as the
 * health_check map's "type" key has it. */
const char *
cluster_health_type_to_string(enum cluster_health_type type)
{
    return (type < ARRAY_SIZE(health_type_names)
            ? health_type_names[type] : "unknown");
}

/* Initializes 'health' with the defaults: a TCP connect every 500 ms, a
 * 500 ms timeout, 2 passes to come up and 2 failures to go down (and, for
 * a type set later to http, GET "/" expecting 200). */
void
cluster_vip_health_init(struct cluster_vip_health *health)
{
    health->type = CLUSTER_HEALTH_TCP;
    health->http_path = xstrdup("/");
    health->http_status = 200;
    health->interval_ms = 500;
    health->timeout_ms = 500;
    health->rise = 2;
    health->fall = 2;
}

/* Frees what 'health' owns.  A null 'health' is a no-op. */
void
cluster_vip_health_destroy(struct cluster_vip_health *health)
{
    if (health) {
        free(health->http_path);
        health->http_path = NULL;
    }
}

/* Initializes 'dst' as a copy of 'src'. */
void
cluster_vip_health_clone(struct cluster_vip_health *dst,
                         const struct cluster_vip_health *src)
{
    *dst = *src;
    dst->http_path = xstrdup(src->http_path);
}

/* Returns true if 'a' and 'b' describe the same check. */
bool
cluster_vip_health_equals(const struct cluster_vip_health *a,
                          const struct cluster_vip_health *b)
{
    return (a->type == b->type
            && !strcmp(a->http_path, b->http_path)
            && a->http_status == b->http_status
            && a->interval_ms == b->interval_ms
            && a->timeout_ms == b->timeout_ms
            && a->rise == b->rise
            && a->fall == b->fall);
}

static bool
health_path_is_valid(const char *path)
{
    size_t len = strlen(path);

    if (path[0] != '/' || len > CLUSTER_HEALTH_PATH_MAX) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (path[i] <= ' ' || path[i] > '~') {
            return false;
        }
    }
    return true;
}

/* Parses 'health_check', a VIP's health_check column, into 'health', which
 * it initializes: each key that the map lacks takes its default
 * (cluster_vip_health_init()), so an empty map is a TCP connect check with
 * the defaults.  Returns NULL on success, otherwise an error message naming
 * the key and what it accepts, which the caller must free, and 'health'
 * holds the defaults.  In either case the caller must
 * cluster_vip_health_destroy() 'health'.
 *
 * Refused: a key other than type, path, status, interval_ms, timeout_ms,
 * rise and fall; a value out of its range; path or status with a type
 * other than http (they would not be used); interval_ms, timeout_ms, rise
 * or fall with type none (no check runs); timeout_ms above interval_ms. */
char *
cluster_vip_health_parse(const struct smap *health_check,
                         struct cluster_vip_health *health)
{
    uint32_t status;
    struct {
        const char *key;
        uint32_t min, max;
        uint32_t *valuep;
    } ints[] = {
        { "status", 100, 599, &status },
        { "interval_ms", 100, 60000, &health->interval_ms },
        { "timeout_ms", 50, 60000, &health->timeout_ms },
        { "rise", 1, 100, &health->rise },
        { "fall", 1, 100, &health->fall },
    };
    const struct smap_node **nodes = smap_sort(health_check);
    size_t n = smap_count(health_check);
    char *error = NULL;

    cluster_vip_health_init(health);
    status = health->http_status;

    /* Each key: sorted, so that the first bad one named is always the
     * same. */
    for (size_t i = 0; i < n && !error; i++) {
        const char *key = nodes[i]->key;
        const char *value = nodes[i]->value;
        bool known = false;

        if (!strcmp(key, "type")) {
            bool found = false;

            known = true;
            for (size_t j = 0; j < ARRAY_SIZE(health_type_names); j++) {
                if (!strcmp(value, health_type_names[j])) {
                    health->type = j;
                    found = true;
                }
            }
            if (!found) {
                error = xasprintf("health_check:type=%s: invalid type "
                                  "(expected tcp, udp, http or none)", value);
            }
        } else if (!strcmp(key, "path")) {
            known = true;
            if (health_path_is_valid(value)) {
                free(health->http_path);
                health->http_path = xstrdup(value);
            } else {
                error = xasprintf("health_check:path=%s: invalid path "
                                  "(expected '/' then printable ASCII "
                                  "characters without spaces, at most %d "
                                  "bytes)", value, CLUSTER_HEALTH_PATH_MAX);
            }
        }
        for (size_t j = 0; j < ARRAY_SIZE(ints) && !known; j++) {
            long long int v;

            if (strcmp(key, ints[j].key)) {
                continue;
            }
            known = true;
            if (str_to_llong(value, 10, &v)
                && v >= ints[j].min && v <= ints[j].max) {
                *ints[j].valuep = v;
            } else {
                error = xasprintf("health_check:%s=%s: invalid value "
                                  "(expected an integer from %"PRIu32" to "
                                  "%"PRIu32")", key, value, ints[j].min,
                                  ints[j].max);
            }
        }
        if (!known) {
            error = xasprintf("health_check:%s: unknown key (expected type, "
                              "path, status, interval_ms, timeout_ms, rise "
                              "or fall)", key);
        }
    }
    free(nodes);
    health->http_status = status;

    /* The keys together. */
    if (error) {
        /* Already said. */
    } else if (health->type != CLUSTER_HEALTH_HTTP
               && (smap_get(health_check, "path")
                   || smap_get(health_check, "status"))) {
        error = xasprintf("health_check:%s applies to type http only (the "
                          "type is %s)",
                          smap_get(health_check, "path") ? "path" : "status",
                          cluster_health_type_to_string(health->type));
    } else if (health->type == CLUSTER_HEALTH_NONE) {
        for (size_t j = 1; j < ARRAY_SIZE(ints) && !error; j++) {
            if (smap_get(health_check, ints[j].key)) {
                error = xasprintf("health_check:%s does not apply to type "
                                  "none, which runs no check",
                                  ints[j].key);
            }
        }
    } else if (health->timeout_ms > health->interval_ms) {
        error = xasprintf("health_check:timeout_ms (%"PRIu32") must not be "
                          "above interval_ms (%"PRIu32"): a check must end "
                          "before the next one starts", health->timeout_ms,
                          health->interval_ms);
    }
    if (error) {
        cluster_vip_health_destroy(health);
        cluster_vip_health_init(health);
    }
    return error;
}

/* Adapts 'health', parsed from 'health_check' (cluster_vip_health_parse()),
 * to a VIP of 'protocol' (its name in the database, "tcp" or "udp"): a UDP
 * VIP whose map names no type gets a "udp" check.  Returns an error message
 * (the caller frees it) if the check cannot check such a VIP, NULL
 * otherwise. */
char *
cluster_vip_health_for_protocol(struct cluster_vip_health *health,
                                const struct smap *health_check,
                                const char *protocol)
{
    bool udp = protocol && !strcmp(protocol, "udp");

    if (udp && !smap_get(health_check, "type")) {
        health->type = CLUSTER_HEALTH_UDP;
    }
    if (udp && (health->type == CLUSTER_HEALTH_TCP
                || health->type == CLUSTER_HEALTH_HTTP)) {
        return xasprintf("health_check:type=%s needs a TCP VIP (this VIP's "
                         "protocol is udp: use type udp, the default, or "
                         "none)", cluster_health_type_to_string(health->type));
    } else if (!udp && health->type == CLUSTER_HEALTH_UDP) {
        return xasprintf("health_check:type=udp needs a UDP VIP (this VIP's "
                         "protocol is %s)", protocol ? protocol : "tcp");
    }
    return NULL;
}

/* Snapshots. */

static bool
admin_up(const char *admin_state)
{
    return !admin_state || strcmp(admin_state, "down");
}

static void
vip_destroy(struct cluster_vip *vip)
{
    free(vip->name);
    free(vip->ports);
    free(vip->servers);
    cluster_vip_health_destroy(&vip->health);
}

static void
server_node_destroy(struct cluster_server_node *node)
{
    free(node->zone);
    for (size_t i = 0; i < node->n_netns; i++) {
        free(node->netns[i]);
    }
    free(node->netns);
}

static void
snapshot_destroy(struct cluster_snapshot *snap)
{
    cluster_settings_destroy(&snap->settings);
    for (size_t i = 0; i < snap->n_vips; i++) {
        vip_destroy(&snap->vips[i]);
    }
    free(snap->vips);
    for (size_t i = 0; i < snap->n_lb_nodes; i++) {
        free(snap->lb_nodes[i].zone);
    }
    free(snap->lb_nodes);
    for (size_t i = 0; i < snap->n_server_nodes; i++) {
        server_node_destroy(&snap->server_nodes[i]);
    }
    free(snap->server_nodes);
    free(snap);
}

/* Takes a reference to 'snap' (which may be null), which stays valid until
 * the matching cluster_snapshot_unref(), and returns it. */
struct cluster_snapshot *
cluster_snapshot_ref(const struct cluster_snapshot *snap_)
{
    struct cluster_snapshot *snap = CONST_CAST(struct cluster_snapshot *,
                                               snap_);
    if (snap) {
        ovs_assert(snap->ref_cnt > 0);
        snap->ref_cnt++;
    }
    return snap;
}

/* Drops a reference to 'snap', freeing it with the last one.  A null 'snap'
 * is a no-op. */
void
cluster_snapshot_unref(struct cluster_snapshot *snap)
{
    if (snap) {
        ovs_assert(snap->ref_cnt > 0);
        if (!--snap->ref_cnt) {
            snapshot_destroy(snap);
        }
    }
}

static int
compare_vip_by_name(const void *a_, const void *b_)
{
    const struct cluster_vip *a = a_;
    const struct cluster_vip *b = b_;
    return strcmp(a->name, b->name);
}

static int
compare_uint32(uint32_t a, uint32_t b)
{
    return a < b ? -1 : a > b;
}

static int
compare_lb_node(const void *a_, const void *b_)
{
    const struct cluster_lb_node *a = a_;
    const struct cluster_lb_node *b = b_;
    return compare_uint32(a->node_id, b->node_id);
}

static int
compare_server_node(const void *a_, const void *b_)
{
    const struct cluster_server_node *a = a_;
    const struct cluster_server_node *b = b_;
    return compare_uint32(a->node_id, b->node_id);
}

static int
compare_vip_server(const void *a_, const void *b_)
{
    const struct cluster_vip_server *a = a_;
    const struct cluster_vip_server *b = b_;
    return compare_uint32(a->node_id, b->node_id);
}

static int
compare_uint16(const void *a_, const void *b_)
{
    const uint16_t *a = a_;
    const uint16_t *b = b_;
    return *a < *b ? -1 : *a > *b;
}

static int
compare_strings(const void *a_, const void *b_)
{
    const char *const *a = a_;
    const char *const *b = b_;
    return strcmp(*a, *b);
}

/* Returns the VIP named 'name' in 'snap', or NULL. */
const struct cluster_vip *
cluster_snapshot_find_vip(const struct cluster_snapshot *snap,
                          const char *name)
{
    struct cluster_vip key = { .name = CONST_CAST(char *, name) };
    return (snap->n_vips
            ? bsearch(&key, snap->vips, snap->n_vips, sizeof *snap->vips,
                      compare_vip_by_name)
            : NULL);
}

/* Returns the LB node with id 'node_id' in 'snap', or NULL. */
const struct cluster_lb_node *
cluster_snapshot_find_lb_node(const struct cluster_snapshot *snap,
                              uint32_t node_id)
{
    struct cluster_lb_node key = { .node_id = node_id };
    return (snap->n_lb_nodes
            ? bsearch(&key, snap->lb_nodes, snap->n_lb_nodes,
                      sizeof *snap->lb_nodes, compare_lb_node)
            : NULL);
}

/* Returns the server node with id 'node_id' in 'snap', or NULL. */
const struct cluster_server_node *
cluster_snapshot_find_server_node(const struct cluster_snapshot *snap,
                                  uint32_t node_id)
{
    struct cluster_server_node key = { .node_id = node_id };
    return (snap->n_server_nodes
            ? bsearch(&key, snap->server_nodes, snap->n_server_nodes,
                      sizeof *snap->server_nodes, compare_server_node)
            : NULL);
}

static bool
settings_equal(const struct cluster_settings *a,
               const struct cluster_settings *b)
{
    if (strcmp(a->name, b->name) || strcmp(a->cluster_key, b->cluster_key)
        || strcmp(a->cluster_key_next, b->cluster_key_next)) {
        return false;
    }
    for (size_t i = 0; i < cluster_n_setting_defs; i++) {
        const struct cluster_setting *s = &cluster_setting_defs[i];
        if (cluster_setting_get(a, s) != cluster_setting_get(b, s)) {
            return false;
        }
    }
    return true;
}

static bool
vips_equal(const struct cluster_vip *a, const struct cluster_vip *b)
{
    return (!strcmp(a->name, b->name)
            && ipv6_addr_equals(&a->address, &b->address)
            && a->n_ports == b->n_ports
            && !memcmp(a->ports, b->ports, a->n_ports * sizeof *a->ports)
            && a->protocol == b->protocol
            && a->mode == b->mode
            && a->algorithm == b->algorithm
            && a->mss == b->mss
            && a->wscale == b->wscale
            && a->ttl == b->ttl
            && a->enabled == b->enabled
            && a->n_servers == b->n_servers
            && (!a->n_servers
                || !memcmp(a->servers, b->servers,
                           a->n_servers * sizeof *a->servers))
            && cluster_vip_health_equals(&a->health, &b->health));
}

static bool
lb_nodes_equal(const struct cluster_lb_node *a,
               const struct cluster_lb_node *b)
{
    return (a->node_id == b->node_id
            && ipv6_addr_equals(&a->north, &b->north)
            && ipv6_addr_equals(&a->south, &b->south)
            && ipv6_addr_equals(&a->control, &b->control)
            && !strcmp(a->zone, b->zone)
            && a->enabled == b->enabled);
}

static bool
server_nodes_equal(const struct cluster_server_node *a,
                   const struct cluster_server_node *b)
{
    if (a->node_id != b->node_id
        || !ipv6_addr_equals(&a->underlay, &b->underlay)
        || !ipv6_addr_equals(&a->control, &b->control)
        || strcmp(a->zone, b->zone)
        || a->enabled != b->enabled
        || a->n_netns != b->n_netns) {
        return false;
    }
    for (size_t i = 0; i < a->n_netns; i++) {
        if (strcmp(a->netns[i], b->netns[i])) {
            return false;
        }
    }
    return true;
}

/* Returns true if 'a' and 'b' describe the same configuration. */
bool
cluster_snapshot_equals(const struct cluster_snapshot *a,
                        const struct cluster_snapshot *b)
{
    if (a->has_cluster_row != b->has_cluster_row
        || !uuid_equals(&a->cluster_uuid, &b->cluster_uuid)
        || !settings_equal(&a->settings, &b->settings)
        || a->n_vips != b->n_vips
        || a->n_lb_nodes != b->n_lb_nodes
        || a->n_server_nodes != b->n_server_nodes
        || a->n_rejected != b->n_rejected) {
        return false;
    }
    for (size_t i = 0; i < a->n_vips; i++) {
        if (!vips_equal(&a->vips[i], &b->vips[i])) {
            return false;
        }
    }
    for (size_t i = 0; i < a->n_lb_nodes; i++) {
        if (!lb_nodes_equal(&a->lb_nodes[i], &b->lb_nodes[i])) {
            return false;
        }
    }
    for (size_t i = 0; i < a->n_server_nodes; i++) {
        if (!server_nodes_equal(&a->server_nodes[i], &b->server_nodes[i])) {
            return false;
        }
    }
    return true;
}

/* Building a snapshot from the IDL. */

static void
reject_row(struct cluster_snapshot *snap, const char *what, const char *name,
           const char *why)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

    snap->n_rejected++;
    COVERAGE_INC(cluster_config_rejected_row);
    VLOG_WARN_RL(&rl, "ignoring %s %s: %s", what, name, why);
}

static bool
parse_row_address(struct cluster_snapshot *snap, const char *what,
                  const char *name, const char *s, struct in6_addr *addr)
{
    char *error = cluster_parse_address(s, addr);
    if (error) {
        reject_row(snap, what, name, error);
        free(error);
        return false;
    }
    return true;
}

/* Returns the Cluster table's column named 'name', or NULL. */
const struct ovsdb_idl_column *
cluster_column(const char *name)
{
    for (size_t i = 0; i < OVSLBREC_CLUSTER_N_COLUMNS; i++) {
        if (!strcmp(ovslbrec_cluster_columns[i].name, name)) {
            return &ovslbrec_cluster_columns[i];
        }
    }
    return NULL;
}

static void
read_settings(struct cluster_snapshot *snap, const struct ovsdb_idl *idl)
{
    const struct ovslbrec_cluster *row = ovslbrec_cluster_first(idl);

    cluster_settings_init(&snap->settings);
    if (!row) {
        return;
    }
    snap->has_cluster_row = true;
    snap->cluster_uuid = row->header_.uuid;
    free(snap->settings.name);
    snap->settings.name = xstrdup(row->name);
    free(snap->settings.cluster_key);
    snap->settings.cluster_key = xstrdup(row->cluster_key);
    if (row->cluster_key_next) {
        /* Written around ovslb-ctl, a next key that cannot serve is
         * ignored: the current key alone keeps the cluster running. */
        char *error = cluster_key_check("cluster_key_next",
                                        row->cluster_key_next);
        if (!error && !strcmp(row->cluster_key_next, row->cluster_key)) {
            error = xstrdup("the same as cluster_key");
        }
        if (error) {
            reject_row(snap, "setting", "cluster_key_next", error);
            free(error);
        } else {
            free(snap->settings.cluster_key_next);
            snap->settings.cluster_key_next = xstrdup(row->cluster_key_next);
        }
    }

    for (size_t i = 0; i < cluster_n_setting_defs; i++) {
        const struct cluster_setting *s = &cluster_setting_defs[i];
        const struct ovsdb_idl_column *column = cluster_column(s->name);
        const struct ovsdb_datum *datum;

        if (!column || column->type.key.type != OVSDB_TYPE_INTEGER) {
            continue;
        }
        datum = ovsdb_idl_read(&row->header_, column);
        if (datum->n == 1) {
            long long int value = datum->keys[0].integer;
            if (setting_value_is_valid(s, value)) {
                cluster_setting_set(&snap->settings, s, value);
            } else {
                reject_row(snap, "setting", s->name, "value out of range");
            }
        }
    }

    /* A database written around ovslb-ctl may hold an incoherent pair: the
     * pair is refused as a whole and both fall back to their defaults,
     * which are coherent. */
    char *error = cluster_settings_check(&snap->settings);
    if (error) {
        static const char *const pair[] = {
            "syn_cookie_rate", "syn_meter_rate",
        };

        for (size_t i = 0; i < ARRAY_SIZE(pair); i++) {
            const struct cluster_setting *s = cluster_setting_find(pair[i]);
            cluster_setting_set(&snap->settings, s, s->default_value);
        }
        char *why = xasprintf("%s; using the defaults of both", error);
        reject_row(snap, "settings", "syn_cookie_rate and syn_meter_rate",
                   why);
        free(why);
        free(error);
    }
}

static bool
read_vip(struct cluster_snapshot *snap, const struct ovslbrec_vip *row,
         struct cluster_vip *vip)
{
    const struct cluster_settings *settings = &snap->settings;

    memset(vip, 0, sizeof *vip);
    if (!parse_row_address(snap, "VIP", row->name, row->address,
                           &vip->address)) {
        return false;
    }
    if (!row->n_ports) {
        reject_row(snap, "VIP", row->name, "no ports");
        return false;
    }
    char *unimplemented = cluster_vip_unimplemented(row->mode, row->protocol,
                                                    row->algorithm,
                                                    row->address);
    if (unimplemented) {
        reject_row(snap, "VIP", row->name, unimplemented);
        free(unimplemented);
        return false;
    }
    unimplemented = cluster_vip_mode_options_check(row->mode, row->n_mss,
                                                   row->n_wscale, row->n_ttl);
    if (unimplemented) {
        reject_row(snap, "VIP", row->name, unimplemented);
        free(unimplemented);
        return false;
    }
    if (!cluster_vip_mode_from_string(row->mode, &vip->mode)) {
        vip->mode = CLUSTER_VIP_TRACKED;
    }
    if (!cluster_vip_algorithm_from_string(row->algorithm,
                                           &vip->algorithm)) {
        vip->algorithm = CLUSTER_ALG_RANDOM;
    }
    vip->protocol = !strcmp(row->protocol, "udp") ? IPPROTO_UDP : IPPROTO_TCP;
    vip->mss = (row->n_mss && *row->mss >= 88 && *row->mss <= 65495
                ? *row->mss
                : cluster_default_mss(settings->fabric_mtu, &vip->address));
    vip->wscale = (row->n_wscale && *row->wscale >= 0 && *row->wscale <= 14
                   ? *row->wscale : settings->vip_wscale);
    vip->ttl = (row->n_ttl && *row->ttl >= 1 && *row->ttl <= 255
                ? *row->ttl : settings->vip_ttl);
    vip->enabled = admin_up(row->admin_state);

    vip->ports = xmalloc(row->n_ports * sizeof *vip->ports);
    for (size_t i = 0; i < row->n_ports; i++) {
        int64_t port = row->ports[i];
        if (port >= 1 && port <= 65535) {
            vip->ports[vip->n_ports++] = port;
        }
    }
    if (!vip->n_ports) {
        free(vip->ports);
        reject_row(snap, "VIP", row->name, "no valid port");
        return false;
    }
    qsort(vip->ports, vip->n_ports, sizeof *vip->ports, compare_uint16);

    char *error = cluster_vip_health_parse(&row->health_check, &vip->health);
    if (!error) {
        error = cluster_vip_health_for_protocol(&vip->health,
                                                &row->health_check,
                                                row->protocol);
    }
    if (error) {
        cluster_vip_health_destroy(&vip->health);
        free(vip->ports);
        reject_row(snap, "VIP", row->name, error);
        free(error);
        return false;
    }

    if (row->n_servers) {
        vip->servers = xmalloc(row->n_servers * sizeof *vip->servers);
    }
    for (size_t i = 0; i < row->n_servers; i++) {
        const struct ovslbrec_server_node *server = row->key_servers[i];
        int64_t weight = row->value_servers[i];
        uint32_t id = server->node_id;

        /* Only servers that made it into the snapshot. */
        if (cluster_snapshot_find_server_node(snap, id)
            && weight >= 0 && weight <= 65535) {
            vip->servers[vip->n_servers].node_id = id;
            vip->servers[vip->n_servers].weight = weight;
            vip->n_servers++;
        }
    }
    if (vip->n_servers) {
        qsort(vip->servers, vip->n_servers, sizeof *vip->servers,
              compare_vip_server);
    }
    vip->name = xstrdup(row->name);
    return true;
}

static bool
node_id_is_valid(int64_t id)
{
    return id >= 1 && id <= 65535;
}

static void
read_lb_nodes(struct cluster_snapshot *snap, const struct ovsdb_idl *idl)
{
    const struct ovslbrec_lb_node *row;
    size_t n = 0;

    OVSLBREC_LB_NODE_FOR_EACH (row, idl) {
        n++;
    }
    snap->lb_nodes = n ? xcalloc(n, sizeof *snap->lb_nodes) : NULL;
    OVSLBREC_LB_NODE_FOR_EACH (row, idl) {
        struct cluster_lb_node *node = &snap->lb_nodes[snap->n_lb_nodes];
        char name[32];

        snprintf(name, sizeof name, "%"PRId64, row->node_id);
        if (!node_id_is_valid(row->node_id)) {
            reject_row(snap, "LB node", name, "invalid node id");
            continue;
        }
        node->node_id = row->node_id;
        if (parse_row_address(snap, "LB node", name, row->north_address,
                              &node->north)
            && parse_row_address(snap, "LB node", name, row->south_address,
                                 &node->south)
            && parse_row_address(snap, "LB node", name, row->control_address,
                                 &node->control)) {
            node->zone = xstrdup(row->zone);
            node->enabled = admin_up(row->admin_state);
            snap->n_lb_nodes++;
        }
    }
    if (snap->n_lb_nodes) {
        qsort(snap->lb_nodes, snap->n_lb_nodes, sizeof *snap->lb_nodes,
              compare_lb_node);
    }
}

static void
read_server_nodes(struct cluster_snapshot *snap, const struct ovsdb_idl *idl)
{
    const struct ovslbrec_server_node *row;
    size_t n = 0;

    OVSLBREC_SERVER_NODE_FOR_EACH (row, idl) {
        n++;
    }
    snap->server_nodes = n ? xcalloc(n, sizeof *snap->server_nodes) : NULL;
    OVSLBREC_SERVER_NODE_FOR_EACH (row, idl) {
        struct cluster_server_node *node
            = &snap->server_nodes[snap->n_server_nodes];
        char name[32];

        snprintf(name, sizeof name, "%"PRId64, row->node_id);
        if (!node_id_is_valid(row->node_id)) {
            reject_row(snap, "server node", name, "invalid node id");
            continue;
        }
        /* Node ids name the sender of control messages: one id, one node. */
        if (cluster_snapshot_find_lb_node(snap, row->node_id)) {
            reject_row(snap, "server node", name,
                       "node id already used by an LB node");
            continue;
        }
        node->node_id = row->node_id;
        if (!parse_row_address(snap, "server node", name,
                               row->underlay_address, &node->underlay)
            || !parse_row_address(snap, "server node", name,
                                  row->control_address, &node->control)) {
            continue;
        }
        node->zone = xstrdup(row->zone);
        node->enabled = admin_up(row->admin_state);
        node->n_netns = row->n_netns;
        node->netns = (row->n_netns
                       ? xmalloc(row->n_netns * sizeof *node->netns)
                       : NULL);
        for (size_t i = 0; i < row->n_netns; i++) {
            node->netns[i] = xstrdup(row->netns[i]);
        }
        if (node->n_netns) {
            qsort(node->netns, node->n_netns, sizeof *node->netns,
                  compare_strings);
        }
        snap->n_server_nodes++;
    }
    if (snap->n_server_nodes) {
        qsort(snap->server_nodes, snap->n_server_nodes,
              sizeof *snap->server_nodes, compare_server_node);
    }
}

static void
read_vips(struct cluster_snapshot *snap, const struct ovsdb_idl *idl)
{
    const struct ovslbrec_vip *row;
    size_t n = 0;

    OVSLBREC_VIP_FOR_EACH (row, idl) {
        n++;
    }
    snap->vips = n ? xcalloc(n, sizeof *snap->vips) : NULL;
    OVSLBREC_VIP_FOR_EACH (row, idl) {
        if (read_vip(snap, row, &snap->vips[snap->n_vips])) {
            snap->n_vips++;
        }
    }
    if (snap->n_vips) {
        qsort(snap->vips, snap->n_vips, sizeof *snap->vips,
              compare_vip_by_name);
    }
}

static struct cluster_snapshot *
snapshot_from_idl(const struct ovsdb_idl *idl)
{
    struct cluster_snapshot *snap = xzalloc(sizeof *snap);

    snap->ref_cnt = 1;
    read_settings(snap, idl);
    read_lb_nodes(snap, idl);
    read_server_nodes(snap, idl);   /* After the LB nodes (node ids). */
    read_vips(snap, idl);           /* After the server nodes (servers). */
    return snap;
}

/* The client. */

struct cluster_config {
    struct ovsdb_idl *idl;
    char *remotes;
    unsigned int idl_seqno;     /* IDL change seqno last looked at. */
    uint64_t seqno;             /* Bumped when the snapshot changes. */
    struct cluster_snapshot *snapshot;
    int64_t cfg;                /* Cluster.cfg the snapshot came with. */
    bool connected;
    unsigned int n_connects;

    /* Acknowledgement of 'cfg' in this node's row (cluster_config_ack()). */
    struct ovsdb_idl_txn *ack_txn;      /* In flight, or NULL. */
    int64_t ack_sent;                   /* Value 'ack_txn' writes. */
    long long int ack_retry_at;         /* After a failure, ms. */
    uint64_t n_acks;                    /* Acknowledgements committed. */
    uint64_t n_ack_failures;            /* ...and failed. */
};

/* Creates a client of the config service at 'remotes': one OVSDB remote
 * ("unix:PATH", "tcp:IP:PORT", "ssl:IP:PORT") or several separated by
 * commas (the members of a Raft cluster).  It connects, and reconnects, by
 * itself as cluster_config_run() is called. */
struct cluster_config *
cluster_config_create(const char *remotes)
{
    struct cluster_config *cc = xzalloc(sizeof *cc);

    cc->remotes = xstrdup(remotes);
    cc->idl = ovsdb_idl_create(remotes, &ovslbrec_idl_class, true, true);
    /* Reads are fine from any member that is part of the cluster (and a
     * follower forwards the acknowledgements to the leader). */
    ovsdb_idl_set_leader_only(cc->idl, false);
    /* Every node's acknowledgement would otherwise wake every daemon to
     * rebuild a snapshot that does not depend on it. */
    ovsdb_idl_omit_alert(cc->idl, &ovslbrec_lb_node_col_applied_cfg);
    ovsdb_idl_omit_alert(cc->idl, &ovslbrec_server_node_col_applied_cfg);
    cc->idl_seqno = ovsdb_idl_get_seqno(cc->idl);
    return cc;
}

/* Disconnects and frees 'cc'.  Snapshots still referenced stay valid. */
void
cluster_config_destroy(struct cluster_config *cc)
{
    if (cc) {
        if (cc->ack_txn) {
            ovsdb_idl_txn_destroy(cc->ack_txn);
        }
        ovsdb_idl_destroy(cc->idl);
        cluster_snapshot_unref(cc->snapshot);
        free(cc->remotes);
        free(cc);
    }
}

/* Processes what the config service sent 'cc'; when the configuration
 * changed, replaces the snapshot and bumps the sequence number. */
void
cluster_config_run(struct cluster_config *cc)
{
    ovsdb_idl_run(cc->idl);

    bool connected = ovsdb_idl_is_connected(cc->idl);
    if (connected != cc->connected) {
        cc->connected = connected;
        if (connected) {
            cc->n_connects++;
            VLOG_INFO("%s: connected to the config service", cc->remotes);
        } else {
            VLOG_INFO("%s: connection to the config service lost, "
                      "reconnecting", cc->remotes);
        }
    }

    ack_run(cc);

    unsigned int idl_seqno = ovsdb_idl_get_seqno(cc->idl);
    if (idl_seqno == cc->idl_seqno || !ovsdb_idl_has_ever_connected(cc->idl)) {
        return;
    }
    cc->idl_seqno = idl_seqno;

    COVERAGE_INC(cluster_config_rebuild);
    struct cluster_snapshot *snap = snapshot_from_idl(cc->idl);
    const struct ovslbrec_cluster *cluster = ovslbrec_cluster_first(cc->idl);
    /* The snapshot reflects every change up to this 'cfg': what the
     * daemon acknowledges once it has applied the snapshot, even if the
     * change that raised it left the snapshot as it was. */
    cc->cfg = cluster ? cluster->cfg : 0;
    if (cc->snapshot && cluster_snapshot_equals(cc->snapshot, snap)) {
        cluster_snapshot_unref(snap);
        return;
    }
    COVERAGE_INC(cluster_config_change);
    cluster_snapshot_unref(cc->snapshot);
    cc->snapshot = snap;
    cc->seqno++;
    VLOG_DBG("configuration %"PRIu64": %"PRIuSIZE" VIPs, %"PRIuSIZE" LB "
             "nodes, %"PRIuSIZE" server nodes", cc->seqno, snap->n_vips,
             snap->n_lb_nodes, snap->n_server_nodes);
}

/* Arranges for poll_block() to wake up when cluster_config_run() has work
 * to do for 'cc'. */
void
cluster_config_wait(struct cluster_config *cc)
{
    ovsdb_idl_wait(cc->idl);
    if (cc->ack_txn) {
        ovsdb_idl_txn_wait(cc->ack_txn);
    }
    if (cc->ack_retry_at > time_msec()) {
        poll_timer_wait_until(cc->ack_retry_at);
    }
}

/* Acknowledgements (Cluster.cfg, LB_Node and Server_Node applied_cfg). */

/* Completes the acknowledgement in flight, if any. */
static void
ack_run(struct cluster_config *cc)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    enum ovsdb_idl_txn_status status;

    if (!cc->ack_txn) {
        return;
    }
    status = ovsdb_idl_txn_commit(cc->ack_txn);
    if (status == TXN_INCOMPLETE) {
        return;
    }
    if (status == TXN_SUCCESS || status == TXN_UNCHANGED) {
        cc->n_acks++;
        COVERAGE_INC(cluster_config_ack);
        VLOG_DBG("acknowledged configuration %"PRId64, cc->ack_sent);
    } else {
        /* Whatever the reason (a lost leader, a row deleted meanwhile),
         * try again a little later if the value still differs. */
        cc->n_ack_failures++;
        COVERAGE_INC(cluster_config_ack_failed);
        VLOG_WARN_RL(&rl, "acknowledging configuration %"PRId64" failed "
                     "(%s), retrying", cc->ack_sent,
                     ovsdb_idl_txn_status_to_string(status));
        cc->ack_retry_at = time_msec() + CLUSTER_ACK_RETRY_MS;
    }
    ovsdb_idl_txn_destroy(cc->ack_txn);
    cc->ack_txn = NULL;
}

/* Tells the config service that node 'node_id' of 'kind' has applied the
 * configuration of cluster_config_cfg(): its data path reflects the
 * current snapshot.  The daemon calls it whenever that is true (cheap when
 * nothing changed).  It writes the node's applied_cfg column, and nothing
 * else, when the value there differs, one transaction at a time; a node
 * without a row, a database without the column (an older schema) or a
 * configuration without a Cluster row gets no write. */
void
cluster_config_ack(struct cluster_config *cc, enum cluster_node_kind kind,
                   uint32_t node_id)
{
    const struct ovslbrec_lb_node *lb = NULL;
    const struct ovslbrec_server_node *server = NULL;
    const struct ovsdb_idl_column *column;
    int64_t applied;

    if (cc->ack_txn || !cc->cfg || !cc->snapshot
        || !ovsdb_idl_is_connected(cc->idl)
        || time_msec() < cc->ack_retry_at) {
        return;
    }
    if (kind == CLUSTER_NODE_LB) {
        const struct ovslbrec_lb_node *row;

        OVSLBREC_LB_NODE_FOR_EACH (row, cc->idl) {
            if (row->node_id == node_id) {
                lb = row;
                break;
            }
        }
        column = &ovslbrec_lb_node_col_applied_cfg;
        applied = lb ? lb->applied_cfg : 0;
    } else {
        const struct ovslbrec_server_node *row;

        OVSLBREC_SERVER_NODE_FOR_EACH (row, cc->idl) {
            if (row->node_id == node_id) {
                server = row;
                break;
            }
        }
        column = &ovslbrec_server_node_col_applied_cfg;
        applied = server ? server->applied_cfg : 0;
    }
    if ((!lb && !server) || applied == cc->cfg
        || !ovsdb_idl_server_has_column(cc->idl, column)) {
        return;
    }

    cc->ack_txn = ovsdb_idl_txn_create(cc->idl);
    ovsdb_idl_txn_add_comment(cc->ack_txn, "%s node %"PRIu32": applied "
                              "configuration %"PRId64,
                              lb ? "LB" : "server", node_id, cc->cfg);
    if (lb) {
        ovslbrec_lb_node_set_applied_cfg(lb, cc->cfg);
    } else {
        ovslbrec_server_node_set_applied_cfg(server, cc->cfg);
    }
    cc->ack_sent = cc->cfg;
    ack_run(cc);
}

/* Returns the Cluster row's 'cfg' that the current snapshot reflects (0
 * without a Cluster row or a snapshot). */
int64_t
cluster_config_cfg(const struct cluster_config *cc)
{
    return cc->snapshot ? cc->cfg : 0;
}

/* Returns how many acknowledgements 'cc' committed and how many failed. */
void
cluster_config_ack_stats(const struct cluster_config *cc, uint64_t *n_acks,
                         uint64_t *n_failures)
{
    *n_acks = cc->n_acks;
    *n_failures = cc->n_ack_failures;
}

/* Returns a number that changes whenever the configuration of 'cc' changes:
 * 0 until the first snapshot, then 1, 2, ...  A reconnection that finds the
 * same configuration does not change it. */
uint64_t
cluster_config_seqno(const struct cluster_config *cc)
{
    return cc->seqno;
}

/* Returns the current configuration of 'cc', or NULL before the first one
 * arrived.  It stays valid until the next cluster_config_run(); take a
 * reference with cluster_snapshot_ref() to keep it longer. */
const struct cluster_snapshot *
cluster_config_snapshot(const struct cluster_config *cc)
{
    return cc->snapshot;
}

/* Returns true if 'cc' is connected to a server of the config service. */
bool
cluster_config_is_connected(const struct cluster_config *cc)
{
    return cc->connected;
}

/* Returns how many times 'cc' has (re)connected, as seen by
 * cluster_config_run(). */
unsigned int
cluster_config_n_connects(const struct cluster_config *cc)
{
    return cc->n_connects;
}

/* Returns the remotes 'cc' was created with. */
const char *
cluster_config_remotes(const struct cluster_config *cc)
{
    return cc->remotes;
}

/* Returns the error of the last failed attempt to connect to (or talk with)
 * the config service, as an errno value, or 0 if there was none. */
int
cluster_config_last_error(const struct cluster_config *cc)
{
    return ovsdb_idl_get_last_error(cc->idl);
}

/* Drops 'cc''s connection, if it has one, and connects again (at once if it
 * was connected; otherwise at the next attempt of its back-off): for a
 * daemon whose TLS files changed.  The snapshot stays until the new
 * connection replaces it. */
void
cluster_config_force_reconnect(struct cluster_config *cc)
{
    ovsdb_idl_force_reconnect(cc->idl);
}
