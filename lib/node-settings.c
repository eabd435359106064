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
 * node-settings: a node's own settings, from its local Open vSwitch (see the
 * header).
 */

#include <config.h>

#include "node-settings.h"

#include <limits.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "ovsdb-idl.h"
#include "smap.h"
#include "stream.h"
#include "util.h"
#include "vswitch-idl.h"

/* Returns "lb" or "server". */
const char *
node_role_to_string(enum node_role role)
{
    return role == NODE_ROLE_LB ? "lb" : "server";
}

static void
add_error(struct ds *errors, const char *format, ...)
    OVS_PRINTF_FORMAT(2, 3);

static void
add_error(struct ds *errors, const char *format, ...)
{
    va_list args;

    if (errors->length) {
        ds_put_cstr(errors, "; ");
    }
    va_start(args, format);
    ds_put_format_valist(errors, format, args);
    va_end(args);
}

static const char *
get_required(const struct smap *ids, const char *key, const char *example,
             struct ds *errors)
{
    const char *value = smap_get(ids, key);
    if (!value || !value[0]) {
        add_error(errors, "external_ids:%s is %s (set it with 'ovs-vsctl set "
                  "Open_vSwitch . external_ids:%s=%s')", key,
                  value ? "empty" : "missing", key, example);
        return NULL;
    }
    return value;
}

/* An OVS port or bridge name: becomes a network device name. */
static bool
is_valid_port_name(const char *name)
{
    if (!name[0] || strlen(name) >= IFNAMSIZ) {
        return false;
    }
    for (const unsigned char *p = (const unsigned char *) name; *p; p++) {
        if (*p == '/' || *p == ':' || *p <= ' ' || *p >= 127) {
            return false;
        }
    }
    return true;
}

/* Returns the port name of optional key 'key' of 'ids', 'dflt' if it is
 * absent, or NULL after adding an error to 'errors' if it is not a port
 * name. */
static const char *
optional_port(const struct smap *ids, const char *key, const char *dflt,
              struct ds *errors)
{
    const char *value = smap_get_def(ids, key, dflt);

    if (!is_valid_port_name(value)) {
        add_error(errors, "external_ids:%s=%s is not a port name (remove "
                  "the key to use the default %s)", key, value, dflt);
        return NULL;
    }
    return value;
}

/* Returns true if 'remotes' is a list of OVSDB remotes, and then sets
 * '*has_ssl' to whether one of them is an "ssl:" one. */
static bool
is_valid_remote_list(const char *remotes, bool *has_ssl)
{
    size_t n = 0;
    bool ok = true;
    char *copy = xstrdup(remotes);
    char *save_ptr = NULL;

    *has_ssl = false;
    if (remotes[0] == ',' || remotes[strlen(remotes) - 1] == ','
        || strstr(remotes, ",,")) {
        ok = false;
    }
    for (char *r = strtok_r(copy, ",", &save_ptr); ok && r;
         r = strtok_r(NULL, ",", &save_ptr)) {
        const char *colon = strchr(r, ':');
        if (!colon || !colon[1] || stream_verify_name(r)) {
            ok = false;
        }
        if (!strncmp(r, "ssl:", 4)) {
            *has_ssl = true;
        }
        n++;
    }
    free(copy);
    return ok && n > 0;
}

/* Checks the node's TLS files: the keys of 'ssl_keys', whose values (or
 * nulls) are in 'files', must all be there or none, must be absolute paths,
 * and must be there if 'config', a valid remote list, names an ssl: remote
 * ('config_has_ssl'). */
static void
check_ssl_files(const char *const ssl_keys[3], const char *const files[3],
                const char *config, bool config_has_ssl, struct ds *errors)
{
    size_t n = 0;

    for (size_t i = 0; i < 3; i++) {
        if (files[i]) {
            n++;
            if (files[i][0] != '/' || strchr(files[i], '\n')) {
                add_error(errors, "external_ids:%s=%s is not an absolute "
                          "path (of a PEM file)", ssl_keys[i], files[i]);
            }
        }
    }
    if (n && n < 3) {
        for (size_t i = 0; i < 3; i++) {
            if (!files[i]) {
                add_error(errors, "external_ids:%s is missing (the node's "
                          "TLS files %s, %s and %s go together)",
                          ssl_keys[i], ssl_keys[0], ssl_keys[1],
                          ssl_keys[2]);
            }
        }
    } else if (!n && config_has_ssl) {
        add_error(errors, "external_ids:%s=%s names an ssl: remote, but the "
                  "node has no TLS files (set external_ids:%s, %s and %s "
                  "to its private key, its certificate and the CA "
                  "certificate, PEM files as 'ovs-pki req+sign' makes)",
                  NODE_KEY_CONFIG, config, ssl_keys[0], ssl_keys[1],
                  ssl_keys[2]);
    }
}

/* A file the node exporter's textfile collector reads: "/DIR/NAME.prom". */
static bool
is_valid_metrics_file(const char *path)
{
    size_t len = strlen(path);
    const char *base = strrchr(path, '/');

    return (path[0] == '/' && len > 5 && !strcmp(path + len - 5, ".prom")
            && base && base[1] != '.' && !strchr(path, '\n'));
}

/* Validates the ovslb-* keys of 'external_ids' (the Open_vSwitch row's) and
 * fills in 's'.  'rundir' is the run directory that the default store path
 * is in.  Returns NULL on success (the caller must then call
 * node_settings_destroy() on 's'), otherwise a message naming every missing
 * or invalid key, which the caller must free ('s' is then left empty). */
char *
node_settings_parse(const struct smap *external_ids, const char *rundir,
                    struct node_settings *s)
{
    struct ds errors = DS_EMPTY_INITIALIZER;
    const char *value;
    unsigned int id = 0;
    enum node_role role = NODE_ROLE_LB;

    memset(s, 0, sizeof *s);

    value = get_required(external_ids, NODE_KEY_NODE_ID, "1", &errors);
    if (value && (!str_to_uint(value, 10, &id) || id < 1 || id > 65535)) {
        add_error(&errors, "external_ids:%s=%s is not a node id (an integer "
                  "from 1 to 65535)", NODE_KEY_NODE_ID, value);
    }

    value = get_required(external_ids, NODE_KEY_ROLE, "lb", &errors);
    if (value) {
        if (!strcmp(value, "lb")) {
            role = NODE_ROLE_LB;
        } else if (!strcmp(value, "server")) {
            role = NODE_ROLE_SERVER;
        } else {
            add_error(&errors, "external_ids:%s=%s is not a role (expected "
                      "\"lb\" or \"server\")", NODE_KEY_ROLE, value);
        }
    }

    const char *bridge = get_required(external_ids, NODE_KEY_BRIDGE,
                                      "br-int", &errors);
    if (bridge && !is_valid_port_name(bridge)) {
        add_error(&errors, "external_ids:%s=%s is not a bridge name",
                  NODE_KEY_BRIDGE, bridge);
    }

    const char *config = get_required(external_ids, NODE_KEY_CONFIG,
                                      "unix:/var/run/ovslb/ovslb.sock",
                                      &errors);
    bool config_has_ssl = false;
    if (config && !is_valid_remote_list(config, &config_has_ssl)) {
        add_error(&errors, "external_ids:%s=%s is not a list of OVSDB "
                  "remotes (unix:PATH, tcp:IP:PORT or ssl:IP:PORT, "
                  "comma-separated)", NODE_KEY_CONFIG, config);
        config_has_ssl = false;
    }

    static const char *const ssl_keys[3] = {
        NODE_KEY_SSL_PRIVATE_KEY, NODE_KEY_SSL_CERTIFICATE,
        NODE_KEY_SSL_CA_CERT,
    };
    const char *ssl_files[3];
    for (size_t i = 0; i < 3; i++) {
        ssl_files[i] = smap_get(external_ids, ssl_keys[i]);
    }
    check_ssl_files(ssl_keys, ssl_files, config, config_has_ssl, &errors);

    const char *north_port = NULL;
    if (role == NODE_ROLE_LB) {
        north_port = get_required(external_ids, NODE_KEY_NORTH_PORT, "north0",
                                  &errors);
        if (north_port && !is_valid_port_name(north_port)) {
            add_error(&errors, "external_ids:%s=%s is not a port name",
                      NODE_KEY_NORTH_PORT, north_port);
        }
    }

    const char *tunnel_port = optional_port(external_ids,
                                            NODE_KEY_TUNNEL_PORT,
                                            NODE_DEFAULT_TUNNEL_PORT,
                                            &errors);
    const char *xlate_port = NULL;
    if (role == NODE_ROLE_SERVER) {
        xlate_port = optional_port(external_ids, NODE_KEY_XLATE_PORT,
                                   NODE_DEFAULT_XLATE_PORT, &errors);
        if (xlate_port && tunnel_port && !strcmp(xlate_port, tunnel_port)) {
            add_error(&errors, "external_ids:%s and external_ids:%s name the "
                      "same port %s (the Geneve port and the translation "
                      "port must differ)", NODE_KEY_TUNNEL_PORT,
                      NODE_KEY_XLATE_PORT, xlate_port);
        }
    }

    unsigned int conn_limit = 0, min_mem_mb = 0;
    double max_load = 0;
    if (role == NODE_ROLE_SERVER) {
        value = smap_get(external_ids, NODE_KEY_CONN_LIMIT);
        if (value && !str_to_uint(value, 10, &conn_limit)) {
            add_error(&errors, "external_ids:%s=%s is not a number of "
                      "connections (an integer from 0, no limit, to %u)",
                      NODE_KEY_CONN_LIMIT, value, UINT_MAX);
        }
        value = smap_get(external_ids, NODE_KEY_MAX_LOAD);
        if (value && (!str_to_double(value, &max_load)
                      || !(max_load >= 0 && max_load < 1e6))) {
            add_error(&errors, "external_ids:%s=%s is not a load per CPU "
                      "(a decimal number from 0, never refuse, to below "
                      "1000000)", NODE_KEY_MAX_LOAD, value);
        }
        value = smap_get(external_ids, NODE_KEY_MIN_MEM_MB);
        if (value && !str_to_uint(value, 10, &min_mem_mb)) {
            add_error(&errors, "external_ids:%s=%s is not a number of "
                      "megabytes (an integer from 0, never refuse, to %u)",
                      NODE_KEY_MIN_MEM_MB, value, UINT_MAX);
        }
    }

    const char *store = smap_get(external_ids, NODE_KEY_STORE);
    if (store && !store[0]) {
        add_error(&errors, "external_ids:%s is empty (remove it to use the "
                  "default)", NODE_KEY_STORE);
    }

    const char *metrics_file = smap_get(external_ids, NODE_KEY_METRICS_FILE);
    if (metrics_file && !is_valid_metrics_file(metrics_file)) {
        add_error(&errors, "external_ids:%s=%s is not an absolute path "
                  "ending in \".prom\" (the node exporter's textfile "
                  "collector reads only those; remove the key to write no "
                  "metrics)", NODE_KEY_METRICS_FILE, metrics_file);
    }

    if (errors.length) {
        return ds_steal_cstr(&errors);
    }
    ds_destroy(&errors);

    s->node_id = id;
    s->role = role;
    s->bridge = xstrdup(bridge);
    s->config = xstrdup(config);
    s->north_port = nullable_xstrdup(north_port);
    s->store = (store
                ? xstrdup(store)
                : xasprintf("%s/ovslb-%u.db", rundir, id));
    s->metrics_file = nullable_xstrdup(metrics_file);
    s->tunnel_port = xstrdup(tunnel_port);
    s->conn_limit = conn_limit;
    s->max_load_milli = max_load * 1000;
    s->min_mem_mb = min_mem_mb;
    s->xlate_port = nullable_xstrdup(xlate_port);
    s->ssl_private_key = nullable_xstrdup(ssl_files[0]);
    s->ssl_certificate = nullable_xstrdup(ssl_files[1]);
    s->ssl_ca_cert = nullable_xstrdup(ssl_files[2]);
    return NULL;
}

/* Makes 'idl', an IDL of the local Open_vSwitch database created without
 * monitoring everything, replicate what node_settings_read() needs. */
void
node_settings_add_columns(struct ovsdb_idl *idl)
{
    ovsdb_idl_add_table(idl, &ovsrec_table_open_vswitch);
    ovsdb_idl_add_column(idl, &ovsrec_open_vswitch_col_external_ids);
}

/* Reads and validates this node's settings from the Open_vSwitch row of
 * 'idl' into 's', as node_settings_parse() does. */
char *
node_settings_read(const struct ovsdb_idl *idl, const char *rundir,
                   struct node_settings *s)
{
    const struct ovsrec_open_vswitch *ovs = ovsrec_open_vswitch_first(idl);

    if (!ovs) {
        memset(s, 0, sizeof *s);
        return xstrdup("the local Open_vSwitch table has no row (run "
                       "'ovs-vsctl init')");
    }
    return node_settings_parse(&ovs->external_ids, rundir, s);
}

static bool
nullable_string_equals(const char *a, const char *b)
{
    return a && b ? !strcmp(a, b) : a == b;
}

/* Returns true if 'a' and 'b' are the same settings. */
bool
node_settings_equals(const struct node_settings *a,
                     const struct node_settings *b)
{
    return (a->node_id == b->node_id
            && a->role == b->role
            && nullable_string_equals(a->bridge, b->bridge)
            && nullable_string_equals(a->config, b->config)
            && nullable_string_equals(a->north_port, b->north_port)
            && nullable_string_equals(a->store, b->store)
            && nullable_string_equals(a->metrics_file, b->metrics_file)
            && nullable_string_equals(a->tunnel_port, b->tunnel_port)
            && nullable_string_equals(a->xlate_port, b->xlate_port)
            && a->conn_limit == b->conn_limit
            && a->max_load_milli == b->max_load_milli
            && a->min_mem_mb == b->min_mem_mb
            && nullable_string_equals(a->ssl_private_key, b->ssl_private_key)
            && nullable_string_equals(a->ssl_certificate, b->ssl_certificate)
            && nullable_string_equals(a->ssl_ca_cert, b->ssl_ca_cert));
}

/* Frees what 's' owns (not 's' itself).  A null 's' is a no-op. */
void
node_settings_destroy(struct node_settings *s)
{
    if (s) {
        free(s->bridge);
        free(s->config);
        free(s->north_port);
        free(s->store);
        free(s->metrics_file);
        free(s->tunnel_port);
        free(s->xlate_port);
        free(s->ssl_private_key);
        free(s->ssl_certificate);
        free(s->ssl_ca_cert);
        memset(s, 0, sizeof *s);
    }
}
