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
 * ovslb-ctl: edits the configuration of an ovslb cluster in the config
 * service (the OVSLB database, schema/ovslb.ovsschema).  See ovslb-ctl(8).
 */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cluster-config.h"
#include "command-line.h"
#include "db-ctl-base.h"
#include "fatal-signal.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "ovsdb-data.h"
#include "ovsdb-idl.h"
#include "ovslb-idl.h"
#include "packets.h"
#include "smap.h"
#include "sset.h"
#include "stream-ssl.h"
#include "table.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ovslb_ctl);

/* Exit codes (ovslb-ctl(8) documents them). */
enum {
    EXIT_OK = 0,
    EXIT_INVALID = 1,           /* Bad command line or argument value. */
    EXIT_NOT_FOUND = 2,         /* No such VIP, node or VIP server. */
    EXIT_EXISTS = 3,            /* Duplicate name, id or address:port. */
    EXIT_DB = 4,                /* Database unreachable, timeout, or the
                                 * database refused the transaction. */
    EXIT_WAIT = 5,              /* Committed, but --wait timed out. */
};

/* Which nodes --wait waits for. */
enum wait_scope {
    WAIT_NONE,                  /* None (the default). */
    WAIT_LB,                    /* LB nodes. */
    WAIT_ALL,                   /* LB nodes and server nodes. */
};

#define DEFAULT_RUNDIR "/var/run/ovslb"
#define MAX_NAME_LEN 64

/* What one run of a command has to work with. */
struct ctl_ctx {
    struct ovsdb_idl *idl;
    struct ovsdb_idl_txn *txn;  /* NULL for read-only commands. */
    int argc;
    char **argv;                /* The command's arguments (not its name). */
    const struct shash *options;        /* Option name -> value or NULL. */
    struct ds output;
    int exit_code;
    char *error;
};


static void verb_error(struct ctl_ctx *, int exit_code, const char *, ...)
    OVS_PRINTF_FORMAT(3, 4);

/* Records the first error of a command run: the message is printed and the
 * program exits with 'exit_code' instead of committing. */
static void
verb_error(struct ctl_ctx *ctx, int exit_code, const char *format, ...)
{
    if (!ctx->error) {
        va_list args;

        va_start(args, format);
        ctx->error = xvasprintf(format, args);
        va_end(args);
        ctx->exit_code = exit_code;
    }
}

static const char *
option(const struct ctl_ctx *ctx, const char *name)
{
    return shash_find_data(ctx->options, name);
}

static bool
has_option(const struct ctl_ctx *ctx, const char *name)
{
    return shash_find(ctx->options, name) != NULL;
}

/* Argument parsers: each returns false after recording an error. */

static bool
parse_uint(struct ctl_ctx *ctx, const char *what, const char *s,
           long long int min, long long int max, long long int *valuep)
{
    long long int value;

    if (!str_to_llong(s, 10, &value) || value < min || value > max) {
        verb_error(ctx, EXIT_INVALID, "%s: invalid %s (expected an integer "
                  "from %lld to %lld)", s, what, min, max);
        return false;
    }
    *valuep = value;
    return true;
}

static bool
parse_node_id(struct ctl_ctx *ctx, const char *s, int64_t *idp)
{
    long long int id;

    if (!parse_uint(ctx, "node id", s, 1, 65535, &id)) {
        return false;
    }
    *idp = id;
    return true;
}

/* Takes 'error', a parser's result: if it is nonnull, records it as an
 * invalid value, frees it and returns false; otherwise returns true. */
static bool
valid_unless(struct ctl_ctx *ctx, char *error)
{
    if (error) {
        verb_error(ctx, EXIT_INVALID, "%s", error);
        free(error);
        return false;
    }
    return true;
}

static bool
parse_address(struct ctl_ctx *ctx, const char *s, struct in6_addr *addr)
{
    return valid_unless(ctx, cluster_parse_address(s, addr));
}

static bool
check_address(struct ctl_ctx *ctx, const char *s)
{
    struct in6_addr addr;
    return parse_address(ctx, s, &addr);
}

static bool
parse_name(struct ctl_ctx *ctx, const char *what, const char *s)
{
    size_t len = strlen(s);

    if (!len || len > MAX_NAME_LEN
        || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789_.-") != len) {
        verb_error(ctx, EXIT_INVALID, "\"%s\": invalid %s (1 to %d letters, "
                  "digits, '_', '.' or '-')", s, what, MAX_NAME_LEN);
        return false;
    }
    return true;
}

/* Parses "PORT[,PORT...]" into a sorted, duplicate-free array. */
static bool
parse_ports(struct ctl_ctx *ctx, const char *s, int64_t **portsp,
            size_t *n_portsp)
{
    char *copy = xstrdup(s);
    char *save_ptr = NULL;
    int64_t *ports = xmalloc((strlen(s) / 2 + 1) * sizeof *ports);
    size_t n = 0;
    bool ok = s[0] && s[0] != ',' && s[strlen(s) - 1] != ','
              && !strstr(s, ",,");

    for (char *p = strtok_r(copy, ",", &save_ptr); ok && p;
         p = strtok_r(NULL, ",", &save_ptr)) {
        long long int port;

        if (!str_to_llong(p, 10, &port) || port < 1 || port > 65535) {
            ok = false;
            break;
        }
        bool dup = false;
        for (size_t i = 0; i < n; i++) {
            dup = dup || ports[i] == port;
        }
        if (!dup) {
            ports[n++] = port;
        }
    }
    free(copy);
    if (!ok || !n) {
        free(ports);
        verb_error(ctx, EXIT_INVALID, "%s: invalid port list (expected "
                  "PORT[,PORT...] with ports from 1 to 65535)", s);
        return false;
    }
    *portsp = ports;
    *n_portsp = n;
    return true;
}

/* A VIP of 'mode', 'protocol', 'algorithm' or 'address' (any may be NULL)
 * that this version would accept and not serve is refused
 * (cluster_vip_unimplemented()). */
static bool
check_implemented(struct ctl_ctx *ctx, const char *mode,
                  const char *protocol, const char *algorithm,
                  const char *address)
{
    return valid_unless(ctx, cluster_vip_unimplemented(mode, protocol,
                                                       algorithm, address));
}

/* The options of 'vip' (as this transaction leaves them) that its mode
 * uses: cluster_vip_mode_options_check(). */
static bool
check_mode_options(struct ctl_ctx *ctx, const struct ovslbrec_vip *vip)
{
    return valid_unless(ctx, cluster_vip_mode_options_check(
                            vip->mode, vip->n_mss, vip->n_wscale,
                            vip->n_ttl));
}

/* A VIP address: well-formed, and of a family this version serves. */
static bool
check_vip_address(struct ctl_ctx *ctx, const char *s)
{
    return (check_address(ctx, s)
            && check_implemented(ctx, NULL, NULL, NULL, s));
}

static bool
check_protocol(struct ctl_ctx *ctx, const char *s)
{
    if (strcmp(s, "tcp") && strcmp(s, "udp")) {
        verb_error(ctx, EXIT_INVALID, "%s: invalid protocol (expected tcp or "
                  "udp)", s);
        return false;
    }
    return check_implemented(ctx, NULL, s, NULL, NULL);
}

static bool
check_mode(struct ctl_ctx *ctx, const char *s)
{
    enum cluster_vip_mode mode;

    if (!cluster_vip_mode_from_string(s, &mode)) {
        verb_error(ctx, EXIT_INVALID, "%s: invalid mode (expected tracked or "
                  "hash)", s);
        return false;
    }
    return check_implemented(ctx, s, NULL, NULL, NULL);
}

static bool
check_algorithm(struct ctl_ctx *ctx, const char *s)
{
    enum cluster_vip_algorithm alg;

    if (!cluster_vip_algorithm_from_string(s, &alg)) {
        struct ds names = DS_EMPTY_INITIALIZER;
        for (int i = 0; i < CLUSTER_N_ALGS; i++) {
            ds_put_format(&names, "%s%s", i ? ", " : "",
                          cluster_vip_algorithm_to_string(i));
        }
        verb_error(ctx, EXIT_INVALID, "%s: invalid algorithm (expected one "
                  "of %s)", s, ds_cstr(&names));
        ds_destroy(&names);
        return false;
    }
    return true;
}

/* Fails, saying why, unless the config service's database has 'column',
 * that is, unless its schema has what 'what' names ("VIP health_check
 * column"), which came with 'column'. */
static bool
check_server_has(struct ctl_ctx *ctx, const struct ovsdb_idl_column *column,
                 const char *what)
{
    if (ovsdb_idl_server_has_column(ctx->idl, column)) {
        return true;
    }
    verb_error(ctx, EXIT_DB, "the config service's database has no %s: its "
               "schema predates this ovslb-ctl (convert it with "
               "ovslb-db-prepare, or 'ovsdb-client convert' for a cluster)",
               what);
    return false;
}

static bool
check_admin_state(struct ctl_ctx *ctx, const char *s)
{
    if (strcmp(s, "up") && strcmp(s, "down")) {
        verb_error(ctx, EXIT_INVALID, "%s: invalid admin_state (expected up "
                  "or down)", s);
        return false;
    }
    return true;
}

static bool
check_zone(struct ctl_ctx *ctx, const char *s)
{
    if (strlen(s) > MAX_NAME_LEN) {
        verb_error(ctx, EXIT_INVALID, "zone \"%s\" is longer than %d "
                  "characters", s, MAX_NAME_LEN);
        return false;
    }
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        if (*p <= ' ' || *p >= 127) {
            verb_error(ctx, EXIT_INVALID, "zone \"%s\" has a space or a "
                      "non-printable character", s);
            return false;
        }
    }
    return true;
}

/* check_zone() for an LB node's zone, which the database must have a
 * column for (schema 1.8.0 or later). */
static bool
check_lb_zone(struct ctl_ctx *ctx, const char *s)
{
    return (check_zone(ctx, s)
            && check_server_has(ctx, &ovslbrec_lb_node_col_zone,
                                "LB node zone column"));
}

/* Parses "NS[,NS...]" (an empty string: none). */
static bool
parse_netns(struct ctl_ctx *ctx, const char *s, struct sset *netns)
{
    char *copy = xstrdup(s);
    char *save_ptr = NULL;
    bool ok = !s[0] || (s[0] != ',' && s[strlen(s) - 1] != ','
                        && !strstr(s, ",,"));

    for (char *p = strtok_r(copy, ",", &save_ptr); ok && p;
         p = strtok_r(NULL, ",", &save_ptr)) {
        if (strlen(p) > 255 || strchr(p, '/') || !strcmp(p, ".")
            || !strcmp(p, "..") || strpbrk(p, " \t\n")) {
            ok = false;
        } else {
            sset_add(netns, p);
        }
    }
    free(copy);
    if (!ok) {
        verb_error(ctx, EXIT_INVALID, "%s: invalid network namespace list "
                  "(expected NS[,NS...], names without '/' or spaces)", s);
    }
    return ok;
}

/* Parses "KEY=VALUE". */
static bool
split_key_value(struct ctl_ctx *ctx, const char *arg, char **keyp,
                const char **valuep)
{
    const char *eq = strchr(arg, '=');

    if (!eq || eq == arg) {
        verb_error(ctx, EXIT_INVALID, "%s: expected KEY=VALUE", arg);
        return false;
    }
    *keyp = xmemdup0(arg, eq - arg);
    *valuep = eq + 1;
    return true;
}

/* Lookups. */

static const struct ovslbrec_cluster *
cluster_row(const struct ctl_ctx *ctx)
{
    return ovslbrec_cluster_first(ctx->idl);
}

static const struct ovslbrec_vip *
find_vip(const struct ctl_ctx *ctx, const char *name)
{
    const struct ovslbrec_vip *vip;

    OVSLBREC_VIP_FOR_EACH (vip, ctx->idl) {
        if (!strcmp(vip->name, name)) {
            return vip;
        }
    }
    return NULL;
}

static const struct ovslbrec_vip *
get_vip(struct ctl_ctx *ctx, const char *name)
{
    const struct ovslbrec_vip *vip = find_vip(ctx, name);
    if (!vip) {
        verb_error(ctx, EXIT_NOT_FOUND, "%s: no VIP with this name", name);
    }
    return vip;
}

static const struct ovslbrec_lb_node *
find_lb_node(const struct ctl_ctx *ctx, int64_t id)
{
    const struct ovslbrec_lb_node *node;

    OVSLBREC_LB_NODE_FOR_EACH (node, ctx->idl) {
        if (node->node_id == id) {
            return node;
        }
    }
    return NULL;
}

static const struct ovslbrec_server_node *
find_server_node(const struct ctl_ctx *ctx, int64_t id)
{
    const struct ovslbrec_server_node *node;

    OVSLBREC_SERVER_NODE_FOR_EACH (node, ctx->idl) {
        if (node->node_id == id) {
            return node;
        }
    }
    return NULL;
}

/* Generic access to the integer settings of the Cluster row. */

/* Returns true and stores the value if 'row' sets setting 's'. */
static bool
read_setting(const struct ovslbrec_cluster *row,
             const struct cluster_setting *s, long long int *valuep)
{
    const struct ovsdb_idl_column *column = cluster_column(s->name);

    if (row && column) {
        const struct ovsdb_datum *datum = ovsdb_idl_read(&row->header_,
                                                         column);
        if (datum->n == 1) {
            *valuep = datum->keys[0].integer;
            return true;
        }
    }
    return false;
}

static uint32_t
effective_setting(const struct ovslbrec_cluster *row,
                  const struct cluster_setting *s)
{
    long long int value;
    return read_setting(row, s, &value) ? value : s->default_value;
}

/* Sets setting 's' of 'row' to 'value', or to its default when 'value' is
 * null. */
static void
write_setting(const struct ovslbrec_cluster *row,
              const struct cluster_setting *s, const uint32_t *value)
{
    const struct ovsdb_idl_column *column = cluster_column(s->name);
    struct ovsdb_datum datum;

    ovsdb_datum_init_empty(&datum);
    if (value) {
        union ovsdb_atom atom = { .integer = *value };
        ovsdb_datum_add_unsafe(&datum, &atom, NULL, &column->type, NULL);
    }
    ovsdb_idl_txn_write(&row->header_, column, &datum);
}

static char *
random_key(void)
{
    uint8_t bytes[32];
    struct ds key = DS_EMPTY_INITIALIZER;
    int fd = open("/dev/urandom", O_RDONLY);

    if (fd < 0 || read(fd, bytes, sizeof bytes) != sizeof bytes) {
        ctl_fatal("/dev/urandom: could not read a cluster key (%s)",
                  ovs_strerror(errno));
    }
    close(fd);
    for (size_t i = 0; i < sizeof bytes; i++) {
        ds_put_format(&key, "%02x", bytes[i]);
    }
    return ds_steal_cstr(&key);
}

/* Returns the Cluster row, creating it (named "ovslb", with a random key)
 * if there is none. */
static const struct ovslbrec_cluster *
ensure_cluster_row(struct ctl_ctx *ctx)
{
    const struct ovslbrec_cluster *row = cluster_row(ctx);

    if (!row) {
        struct ovslbrec_cluster *new = ovslbrec_cluster_insert(ctx->txn);
        char *key = random_key();

        ovslbrec_cluster_set_name(new, "ovslb");
        ovslbrec_cluster_set_cluster_key(new, key);
        free(key);
        row = new;
    }
    return row;
}

/* init */

static void
cmd_init(struct ctl_ctx *ctx)
{
    ensure_cluster_row(ctx);
}

/* set, get */

/* Fails unless 'key' can serve as the value of 'name', "cluster_key" or
 * "cluster_key_next"; a next key must also differ from the current one
 * of 'row' (if any). */
static bool
check_cluster_key(struct ctl_ctx *ctx, const char *name, const char *key,
                  const struct ovslbrec_cluster *row)
{
    char *error = cluster_key_check(name, key);

    if (error) {
        verb_error(ctx, EXIT_INVALID, "%s", error);
        free(error);
        return false;
    }
    if (!strcmp(name, "cluster_key_next") && row
        && !strcmp(key, row->cluster_key)) {
        verb_error(ctx, EXIT_INVALID, "cluster_key_next is the current "
                  "cluster_key: stage a different key");
        return false;
    }
    return true;
}

static void
unknown_setting(struct ctl_ctx *ctx, const char *key)
{
    verb_error(ctx, EXIT_INVALID, "%s: unknown setting (see 'ovslb-ctl "
              "--help' or ovslb-ctl(8) for the list)", key);
}

/* Fails if the settings of 'row', as this command leaves them, break a rule
 * that ties settings together (cluster_settings_check()), so that a value
 * the daemons would have to ignore never reaches the database. */
static void
check_settings(struct ctl_ctx *ctx, const struct ovslbrec_cluster *row)
{
    struct cluster_settings settings;
    char *error;

    cluster_settings_init(&settings);
    for (size_t i = 0; i < cluster_n_setting_defs; i++) {
        const struct cluster_setting *s = &cluster_setting_defs[i];
        cluster_setting_set(&settings, s, effective_setting(row, s));
    }
    error = cluster_settings_check(&settings);
    if (error) {
        verb_error(ctx, EXIT_INVALID, "%s", error);
        free(error);
    }
    cluster_settings_destroy(&settings);
}

static void
cmd_set(struct ctl_ctx *ctx)
{
    const struct ovslbrec_cluster *row = ensure_cluster_row(ctx);

    for (int i = 0; i < ctx->argc && !ctx->error; i++) {
        const struct cluster_setting *s;
        const char *value;
        char *key;

        if (!split_key_value(ctx, ctx->argv[i], &key, &value)) {
            break;
        }
        if (!strcmp(key, "name")) {
            if (parse_name(ctx, "cluster name", value)) {
                ovslbrec_cluster_set_name(row, value);
            }
        } else if (!strcmp(key, "cluster_key")) {
            if (check_cluster_key(ctx, key, value, row)) {
                ovslbrec_cluster_set_cluster_key(row, value);
            }
        } else if (!strcmp(key, "cluster_key_next")) {
            if (!value[0]) {
                ovslbrec_cluster_set_cluster_key_next(row, NULL);
            } else if (check_cluster_key(ctx, key, value, row)) {
                ovslbrec_cluster_set_cluster_key_next(row, value);
            }
        } else if ((s = cluster_setting_find(key)) != NULL) {
            if (!value[0]) {
                write_setting(row, s, NULL);
            } else {
                uint32_t n;
                char *error = cluster_setting_parse(s, value, &n);
                if (error) {
                    verb_error(ctx, EXIT_INVALID, "%s", error);
                    free(error);
                } else {
                    write_setting(row, s, &n);
                }
            }
        } else {
            unknown_setting(ctx, key);
        }
        free(key);
    }
    if (!ctx->error) {
        check_settings(ctx, row);
    }
}

static void
cmd_get(struct ctl_ctx *ctx)
{
    const struct ovslbrec_cluster *row = cluster_row(ctx);
    const char *key = ctx->argv[0];
    const struct cluster_setting *s;

    if (!strcmp(key, "name")) {
        ds_put_format(&ctx->output, "%s\n", row ? row->name : "");
    } else if (!strcmp(key, "cluster_key")) {
        ds_put_format(&ctx->output, "%s\n", row ? row->cluster_key : "");
    } else if (!strcmp(key, "cluster_key_next")) {
        ds_put_format(&ctx->output, "%s\n",
                      row && row->cluster_key_next ? row->cluster_key_next
                                                   : "");
    } else if ((s = cluster_setting_find(key)) != NULL) {
        ds_put_format(&ctx->output, "%"PRIu32"\n", effective_setting(row, s));
    } else {
        unknown_setting(ctx, key);
    }
}

/* key-stage, key-promote: rotating the cluster key in two steps (README.md,
 * "Rotating the cluster key").  Staging makes every node accept the next key
 * while still signing with the current one; promoting, once the stage has
 * reached every node, makes the next key the current one, and the nodes
 * keep accepting the replaced key for a grace period. */

static void
cmd_key_stage(struct ctl_ctx *ctx)
{
    const struct ovslbrec_cluster *row = cluster_row(ctx);
    char *key;

    if (!row) {
        verb_error(ctx, EXIT_NOT_FOUND, "no cluster key to rotate (run "
                  "'ovslb-ctl init' first)");
        return;
    }
    ovslbrec_cluster_verify_cluster_key(row);
    key = ctx->argc ? xstrdup(ctx->argv[0]) : random_key();
    if (check_cluster_key(ctx, "cluster_key_next", key, row)) {
        ovslbrec_cluster_set_cluster_key_next(row, key);
        if (!ctx->argc) {
            ds_put_format(&ctx->output, "%s\n", key);
        }
    }
    free(key);
}

static void
cmd_key_promote(struct ctl_ctx *ctx)
{
    const struct ovslbrec_cluster *row = cluster_row(ctx);

    if (!row || !row->cluster_key_next) {
        verb_error(ctx, EXIT_NOT_FOUND, "no next key staged (stage one with "
                  "'ovslb-ctl key-stage', and wait until every node "
                  "accepts it before promoting it)");
        return;
    }
    ovslbrec_cluster_verify_cluster_key_next(row);
    ovslbrec_cluster_set_cluster_key(row, row->cluster_key_next);
    ovslbrec_cluster_set_cluster_key_next(row, NULL);
}

/* Nodes. */

/* Fails if node id 'id' is taken by another kind of node than the one
 * being added. */
static bool
check_id_unused_by(struct ctl_ctx *ctx, int64_t id, bool lb)
{
    if (lb ? find_server_node(ctx, id) != NULL
           : find_lb_node(ctx, id) != NULL) {
        verb_error(ctx, EXIT_EXISTS, "%"PRId64": node id already used by %s "
                  "node (node ids are unique across LB and server nodes)",
                  id, lb ? "a server" : "an LB");
        return false;
    }
    return true;
}

static void
cmd_lb_node_add(struct ctl_ctx *ctx)
{
    const char *control = ctx->argc > 3 ? ctx->argv[3] : ctx->argv[2];
    const char *zone = option(ctx, "--zone");
    int64_t id;

    if (!parse_node_id(ctx, ctx->argv[0], &id)
        || !check_address(ctx, ctx->argv[1])
        || !check_address(ctx, ctx->argv[2])
        || !check_address(ctx, control)
        || (zone && !check_lb_zone(ctx, zone))
        || !check_id_unused_by(ctx, id, true)) {
        return;
    }

    const struct ovslbrec_lb_node *node = find_lb_node(ctx, id);
    if (node) {
        if (!has_option(ctx, "--may-exist")) {
            verb_error(ctx, EXIT_EXISTS, "%"PRId64": LB node already exists",
                      id);
            return;
        }
    } else {
        struct ovslbrec_lb_node *new = ovslbrec_lb_node_insert(ctx->txn);
        ovslbrec_lb_node_set_node_id(new, id);
        node = new;
    }
    ovslbrec_lb_node_set_north_address(node, ctx->argv[1]);
    ovslbrec_lb_node_set_south_address(node, ctx->argv[2]);
    ovslbrec_lb_node_set_control_address(node, control);
    if (zone) {
        ovslbrec_lb_node_set_zone(node, zone);
    }
}

static void
cmd_lb_node_del(struct ctl_ctx *ctx)
{
    const struct ovslbrec_lb_node *node;
    int64_t id;

    if (!parse_node_id(ctx, ctx->argv[0], &id)) {
        return;
    }
    node = find_lb_node(ctx, id);
    if (node) {
        ovslbrec_lb_node_delete(node);
    } else if (!has_option(ctx, "--if-exists")) {
        verb_error(ctx, EXIT_NOT_FOUND, "%"PRId64": no LB node with this id",
                  id);
    }
}

static void
cmd_lb_node_set(struct ctl_ctx *ctx)
{
    const struct ovslbrec_lb_node *node;
    int64_t id;

    if (!parse_node_id(ctx, ctx->argv[0], &id)) {
        return;
    }
    node = find_lb_node(ctx, id);
    if (!node) {
        verb_error(ctx, EXIT_NOT_FOUND, "%"PRId64": no LB node with this id",
                  id);
        return;
    }
    for (int i = 1; i < ctx->argc && !ctx->error; i++) {
        const char *value;
        char *key;

        if (!split_key_value(ctx, ctx->argv[i], &key, &value)) {
            break;
        }
        if (!strcmp(key, "north_address")) {
            if (check_address(ctx, value)) {
                ovslbrec_lb_node_set_north_address(node, value);
            }
        } else if (!strcmp(key, "south_address")) {
            if (check_address(ctx, value)) {
                ovslbrec_lb_node_set_south_address(node, value);
            }
        } else if (!strcmp(key, "control_address")) {
            if (check_address(ctx, value)) {
                ovslbrec_lb_node_set_control_address(node, value);
            }
        } else if (!strcmp(key, "zone")) {
            if (check_lb_zone(ctx, value)) {
                ovslbrec_lb_node_set_zone(node, value);
            }
        } else if (!strcmp(key, "admin_state")) {
            if (check_admin_state(ctx, value)) {
                ovslbrec_lb_node_set_admin_state(node, value);
            }
        } else {
            verb_error(ctx, EXIT_INVALID, "%s: unknown LB node key (expected "
                      "north_address, south_address, control_address, zone "
                      "or admin_state)", key);
        }
        free(key);
    }
}

static int
compare_lb_nodes(const void *a_, const void *b_)
{
    const struct ovslbrec_lb_node *const *a = a_;
    const struct ovslbrec_lb_node *const *b = b_;
    return (*a)->node_id < (*b)->node_id ? -1 : (*a)->node_id > (*b)->node_id;
}

static const struct ovslbrec_lb_node **
sorted_lb_nodes(const struct ctl_ctx *ctx, size_t *np)
{
    const struct ovslbrec_lb_node **nodes = NULL;
    const struct ovslbrec_lb_node *node;
    size_t n = 0, allocated = 0;

    OVSLBREC_LB_NODE_FOR_EACH (node, ctx->idl) {
        if (n >= allocated) {
            nodes = x2nrealloc(nodes, &allocated, sizeof *nodes);
        }
        nodes[n++] = node;
    }
    if (n) {
        qsort(nodes, n, sizeof *nodes, compare_lb_nodes);
    }
    *np = n;
    return nodes;
}

static const char *
admin_state(const char *state)
{
    return state ? state : "up";
}

static void
cmd_lb_node_list(struct ctl_ctx *ctx)
{
    size_t n;
    const struct ovslbrec_lb_node **nodes = sorted_lb_nodes(ctx, &n);

    for (size_t i = 0; i < n; i++) {
        ds_put_format(&ctx->output, "%"PRId64" north=%s south=%s control=%s",
                      nodes[i]->node_id, nodes[i]->north_address,
                      nodes[i]->south_address, nodes[i]->control_address);
        if (nodes[i]->zone[0]) {
            ds_put_format(&ctx->output, " zone=%s", nodes[i]->zone);
        }
        ds_put_format(&ctx->output, " admin=%s\n",
                      admin_state(nodes[i]->admin_state));
    }
    free(nodes);
}

static void
set_server_netns(const struct ovslbrec_server_node *node,
                 const struct sset *netns)
{
    const char **names = sset_array(netns);
    ovslbrec_server_node_set_netns(node, names, sset_count(netns));
    free(names);
}

static void
cmd_server_add(struct ctl_ctx *ctx)
{
    const char *control = ctx->argc > 2 ? ctx->argv[2] : ctx->argv[1];
    const char *zone = option(ctx, "--zone");
    const char *netns_arg = option(ctx, "--netns");
    struct sset netns = SSET_INITIALIZER(&netns);
    int64_t id;

    if (!parse_node_id(ctx, ctx->argv[0], &id)
        || !check_address(ctx, ctx->argv[1])
        || !check_address(ctx, control)
        || (zone && !check_zone(ctx, zone))
        || (netns_arg && !parse_netns(ctx, netns_arg, &netns))
        || !check_id_unused_by(ctx, id, false)) {
        goto out;
    }

    const struct ovslbrec_server_node *node = find_server_node(ctx, id);
    if (node) {
        if (!has_option(ctx, "--may-exist")) {
            verb_error(ctx, EXIT_EXISTS, "%"PRId64": server node already "
                      "exists", id);
            goto out;
        }
    } else {
        struct ovslbrec_server_node *new
            = ovslbrec_server_node_insert(ctx->txn);
        ovslbrec_server_node_set_node_id(new, id);
        node = new;
    }
    ovslbrec_server_node_set_underlay_address(node, ctx->argv[1]);
    ovslbrec_server_node_set_control_address(node, control);
    if (zone) {
        ovslbrec_server_node_set_zone(node, zone);
    }
    if (netns_arg) {
        set_server_netns(node, &netns);
    }
out:
    sset_destroy(&netns);
}

static void
cmd_server_del(struct ctl_ctx *ctx)
{
    const struct ovslbrec_server_node *node;
    int64_t id;

    if (!parse_node_id(ctx, ctx->argv[0], &id)) {
        return;
    }
    node = find_server_node(ctx, id);
    if (node) {
        /* The VIPs' references to it are weak: they go with it. */
        ovslbrec_server_node_delete(node);
    } else if (!has_option(ctx, "--if-exists")) {
        verb_error(ctx, EXIT_NOT_FOUND, "%"PRId64": no server node with this "
                  "id", id);
    }
}

static void
cmd_server_set(struct ctl_ctx *ctx)
{
    const struct ovslbrec_server_node *node;
    int64_t id;

    if (!parse_node_id(ctx, ctx->argv[0], &id)) {
        return;
    }
    node = find_server_node(ctx, id);
    if (!node) {
        verb_error(ctx, EXIT_NOT_FOUND, "%"PRId64": no server node with this "
                  "id", id);
        return;
    }
    for (int i = 1; i < ctx->argc && !ctx->error; i++) {
        const char *value;
        char *key;

        if (!split_key_value(ctx, ctx->argv[i], &key, &value)) {
            break;
        }
        if (!strcmp(key, "underlay_address")) {
            if (check_address(ctx, value)) {
                ovslbrec_server_node_set_underlay_address(node, value);
            }
        } else if (!strcmp(key, "control_address")) {
            if (check_address(ctx, value)) {
                ovslbrec_server_node_set_control_address(node, value);
            }
        } else if (!strcmp(key, "zone")) {
            if (check_zone(ctx, value)) {
                ovslbrec_server_node_set_zone(node, value);
            }
        } else if (!strcmp(key, "netns")) {
            struct sset netns = SSET_INITIALIZER(&netns);
            if (parse_netns(ctx, value, &netns)) {
                set_server_netns(node, &netns);
            }
            sset_destroy(&netns);
        } else if (!strcmp(key, "admin_state")) {
            if (check_admin_state(ctx, value)) {
                ovslbrec_server_node_set_admin_state(node, value);
            }
        } else {
            verb_error(ctx, EXIT_INVALID, "%s: unknown server node key "
                      "(expected underlay_address, control_address, zone, "
                      "netns or admin_state)", key);
        }
        free(key);
    }
}

static int
compare_server_nodes(const void *a_, const void *b_)
{
    const struct ovslbrec_server_node *const *a = a_;
    const struct ovslbrec_server_node *const *b = b_;
    return (*a)->node_id < (*b)->node_id ? -1 : (*a)->node_id > (*b)->node_id;
}

static const struct ovslbrec_server_node **
sorted_server_nodes(const struct ctl_ctx *ctx, size_t *np)
{
    const struct ovslbrec_server_node **nodes = NULL;
    const struct ovslbrec_server_node *node;
    size_t n = 0, allocated = 0;

    OVSLBREC_SERVER_NODE_FOR_EACH (node, ctx->idl) {
        if (n >= allocated) {
            nodes = x2nrealloc(nodes, &allocated, sizeof *nodes);
        }
        nodes[n++] = node;
    }
    if (n) {
        qsort(nodes, n, sizeof *nodes, compare_server_nodes);
    }
    *np = n;
    return nodes;
}

static void
put_netns(struct ds *s, const struct ovslbrec_server_node *node)
{
    struct sset netns = SSET_INITIALIZER(&netns);
    const char **names;

    for (size_t i = 0; i < node->n_netns; i++) {
        sset_add(&netns, node->netns[i]);
    }
    names = sset_sort(&netns);
    for (size_t i = 0; i < sset_count(&netns); i++) {
        ds_put_format(s, "%s%s", i ? "," : "", names[i]);
    }
    free(names);
    sset_destroy(&netns);
}

static void
cmd_server_list(struct ctl_ctx *ctx)
{
    size_t n;
    const struct ovslbrec_server_node **nodes = sorted_server_nodes(ctx, &n);

    for (size_t i = 0; i < n; i++) {
        const struct ovslbrec_server_node *node = nodes[i];

        ds_put_format(&ctx->output, "%"PRId64" underlay=%s control=%s",
                      node->node_id, node->underlay_address,
                      node->control_address);
        if (node->zone[0]) {
            ds_put_format(&ctx->output, " zone=%s", node->zone);
        }
        if (node->n_netns) {
            ds_put_cstr(&ctx->output, " netns=");
            put_netns(&ctx->output, node);
        }
        ds_put_format(&ctx->output, " admin=%s\n",
                      admin_state(node->admin_state));
    }
    free(nodes);
}

/* VIPs. */

/* Fails if another VIP than 'self' already serves one of 'ports' of
 * 'address' with 'protocol'. */
static bool
check_vip_unique(struct ctl_ctx *ctx, const struct ovslbrec_vip *self,
                 const char *address, const int64_t *ports, size_t n_ports,
                 const char *protocol)
{
    const struct ovslbrec_vip *vip;
    struct in6_addr addr;

    if (!parse_address(ctx, address, &addr)) {
        return false;
    }
    OVSLBREC_VIP_FOR_EACH (vip, ctx->idl) {
        struct in6_addr other;
        char *error;

        if (vip == self || strcmp(vip->protocol, protocol)) {
            continue;
        }
        error = cluster_parse_address(vip->address, &other);
        if (error) {
            free(error);
            continue;
        }
        if (!ipv6_addr_equals(&addr, &other)) {
            continue;
        }
        for (size_t i = 0; i < n_ports; i++) {
            for (size_t j = 0; j < vip->n_ports; j++) {
                if (ports[i] == vip->ports[j]) {
                    verb_error(ctx, EXIT_EXISTS, "VIP %s already serves %s "
                              "port %"PRId64"/%s", vip->name, address,
                              ports[i], protocol);
                    return false;
                }
            }
        }
    }
    return true;
}

static bool
set_vip_option(struct ctl_ctx *ctx, const struct ovslbrec_vip *vip,
               const char *key, const char *value)
{
    long long int n;
    int64_t v;

    if (!strcmp(key, "protocol")) {
        if (!check_protocol(ctx, value)) {
            return false;
        }
        ovslbrec_vip_set_protocol(vip, value);
    } else if (!strcmp(key, "mode")) {
        if (!check_mode(ctx, value)) {
            return false;
        }
        ovslbrec_vip_set_mode(vip, value);
    } else if (!strcmp(key, "algorithm")) {
        /* "nearest" came with the LB nodes' zones (schema 1.8.0): an older
         * database's enum refuses it. */
        if (!check_algorithm(ctx, value)
            || (!strcmp(value, "nearest")
                && !check_server_has(ctx, &ovslbrec_lb_node_col_zone,
                                     "VIP algorithm nearest"))) {
            return false;
        }
        ovslbrec_vip_set_algorithm(vip, value);
    } else if (!strcmp(key, "mss")) {
        if (value[0] && !parse_uint(ctx, "MSS", value, 88, 65495, &n)) {
            return false;
        }
        v = value[0] ? n : 0;
        ovslbrec_vip_set_mss(vip, &v, value[0] ? 1 : 0);
    } else if (!strcmp(key, "wscale")) {
        if (value[0] && !parse_uint(ctx, "window scale", value, 0, 14, &n)) {
            return false;
        }
        v = value[0] ? n : 0;
        ovslbrec_vip_set_wscale(vip, &v, value[0] ? 1 : 0);
    } else if (!strcmp(key, "ttl")) {
        if (value[0] && !parse_uint(ctx, "TTL", value, 1, 255, &n)) {
            return false;
        }
        v = value[0] ? n : 0;
        ovslbrec_vip_set_ttl(vip, &v, value[0] ? 1 : 0);
    } else if (!strcmp(key, "admin_state")) {
        if (!check_admin_state(ctx, value)) {
            return false;
        }
        ovslbrec_vip_set_admin_state(vip, value);
    } else {
        verb_error(ctx, EXIT_INVALID, "%s: unknown VIP key (expected address, "
                  "ports, protocol, mode, algorithm, mss, wscale, ttl, "
                  "admin_state or health_check:KEY)", key);
        return false;
    }
    return true;
}

/* Fails unless 'health_check', a VIP's whole health_check map, parses
 * (cluster_vip_health_parse()) and suits a VIP of 'protocol'. */
static bool
check_health(struct ctl_ctx *ctx, const struct smap *health_check,
             const char *protocol)
{
    struct cluster_vip_health health;
    char *error = cluster_vip_health_parse(health_check, &health);

    if (!error) {
        error = cluster_vip_health_for_protocol(&health, health_check,
                                                protocol);
    }
    cluster_vip_health_destroy(&health);
    return valid_unless(ctx, error);
}

/* Writes 'health_check' into 'vip', if the config service's database has
 * the column (schema 1.7.0 or later). */
static bool
write_health(struct ctl_ctx *ctx, const struct ovslbrec_vip *vip,
             const struct smap *health_check)
{
    if (!check_server_has(ctx, &ovslbrec_vip_col_health_check,
                          "VIP health_check column")) {
        return false;
    }
    ovslbrec_vip_set_health_check(vip, health_check);
    return true;
}

/* Parses 's', "KEY=VALUE[,KEY=VALUE...]" (vip-add's --health-check), into
 * 'health_check'; an empty 's' is an empty map. */
static bool
parse_health_option(struct ctl_ctx *ctx, const char *s,
                    struct smap *health_check)
{
    char *copy = xstrdup(s);
    bool ok = true;

    for (char *item = copy; ok && *s; ) {
        char *comma = strchr(item, ',');
        const char *value;
        char *key;

        if (comma) {
            *comma = '\0';
        }
        if (!item[0]) {
            verb_error(ctx, EXIT_INVALID, "--health-check=%s: empty item "
                       "(expected KEY=VALUE[,KEY=VALUE...])", s);
            break;
        }
        if (!split_key_value(ctx, item, &key, &value)) {
            break;
        }
        if (smap_get(health_check, key)) {
            verb_error(ctx, EXIT_INVALID, "--health-check: %s given twice",
                       key);
            ok = false;
        } else {
            smap_add(health_check, key, value);
        }
        free(key);
        if (!comma) {
            break;
        }
        item = comma + 1;
    }
    free(copy);
    return ok && !ctx->error;
}

static void
cmd_vip_add(struct ctl_ctx *ctx)
{
    static const char *const vip_options[] = {
        "mode", "algorithm", "mss", "wscale", "ttl",
    };
    const char *name = ctx->argv[0];
    const char *address = ctx->argv[1];
    const char *protocol = option(ctx, "--protocol");
    struct smap health_check = SMAP_INITIALIZER(&health_check);
    int64_t *ports = NULL;
    size_t n_ports;

    protocol = protocol ? protocol : "tcp";
    if (!parse_name(ctx, "VIP name", name)
        || !check_vip_address(ctx, address)
        || !parse_ports(ctx, ctx->argv[2], &ports, &n_ports)
        || !check_protocol(ctx, protocol)) {
        goto out;
    }

    const struct ovslbrec_vip *vip = find_vip(ctx, name);
    if (vip && !has_option(ctx, "--may-exist")) {
        verb_error(ctx, EXIT_EXISTS, "%s: VIP already exists", name);
        goto out;
    }
    if (!check_vip_unique(ctx, vip, address, ports, n_ports, protocol)) {
        goto out;
    }
    if (!vip) {
        struct ovslbrec_vip *new = ovslbrec_vip_insert(ctx->txn);
        ovslbrec_vip_set_name(new, name);
        /* The default algorithm is the mode's: hash takes no other
         * choice per connection (cluster_vip_unimplemented()). */
        const char *mode = option(ctx, "--mode");
        ovslbrec_vip_set_mode(new, "tracked");
        ovslbrec_vip_set_algorithm(new, (mode && !strcmp(mode, "hash")
                                         ? "hash" : "random"));
        vip = new;
    }
    ovslbrec_vip_set_address(vip, address);
    ovslbrec_vip_set_ports(vip, ports, n_ports);
    ovslbrec_vip_set_protocol(vip, protocol);
    for (size_t i = 0; i < ARRAY_SIZE(vip_options); i++) {
        char *opt = xasprintf("--%s", vip_options[i]);
        const char *value = option(ctx, opt);

        free(opt);
        if (value && !set_vip_option(ctx, vip, vip_options[i], value)) {
            goto out;
        }
    }
    /* The protocol, the mode, the algorithm and the options together. */
    if (!check_implemented(ctx, vip->mode, protocol, vip->algorithm, NULL)
        || !check_mode_options(ctx, vip)) {
        goto out;
    }

    /* The health check given, or the one the VIP has (--may-exist). */
    const char *health_option = option(ctx, "--health-check");
    if (health_option) {
        if (parse_health_option(ctx, health_option, &health_check)
            && check_health(ctx, &health_check, protocol)) {
            write_health(ctx, vip, &health_check);
        }
    } else {
        check_health(ctx, &vip->health_check, protocol);
    }
out:
    smap_destroy(&health_check);
    free(ports);
}

static void
cmd_vip_del(struct ctl_ctx *ctx)
{
    const struct ovslbrec_vip *vip = find_vip(ctx, ctx->argv[0]);

    if (vip) {
        ovslbrec_vip_delete(vip);
    } else if (!has_option(ctx, "--if-exists")) {
        verb_error(ctx, EXIT_NOT_FOUND, "%s: no VIP with this name",
                  ctx->argv[0]);
    }
}

static void
cmd_vip_set(struct ctl_ctx *ctx)
{
    const struct ovslbrec_vip *vip = get_vip(ctx, ctx->argv[0]);
    const char *address, *protocol;
    const int64_t *ports;
    int64_t *new_ports = NULL;
    size_t n_ports;
    struct smap health_check;
    bool health_changed = false;

    if (!vip) {
        return;
    }
    smap_clone(&health_check, &vip->health_check);
    address = vip->address;
    protocol = vip->protocol;
    ports = vip->ports;
    n_ports = vip->n_ports;
    for (int i = 1; i < ctx->argc && !ctx->error; i++) {
        const char *value;
        char *key;

        if (!split_key_value(ctx, ctx->argv[i], &key, &value)) {
            break;
        }
        if (!strcmp(key, "address")) {
            if (check_vip_address(ctx, value)) {
                address = value;
            }
        } else if (!strcmp(key, "ports")) {
            free(new_ports);
            new_ports = NULL;
            if (parse_ports(ctx, value, &new_ports, &n_ports)) {
                ports = new_ports;
            }
        } else if (!strcmp(key, "protocol")) {
            if (check_protocol(ctx, value)) {
                protocol = value;
            }
        } else if (!strcmp(key, "health_check")) {
            /* "health_check=": back to the defaults. */
            if (value[0]) {
                verb_error(ctx, EXIT_INVALID, "health_check=%s: expected "
                           "health_check:KEY=VALUE, or health_check= to "
                           "clear the whole check", value);
            }
            smap_clear(&health_check);
            health_changed = true;
        } else if (!strncmp(key, "health_check:", 13)) {
            /* "health_check:KEY=VALUE", or "health_check:KEY=" to take
             * KEY's default. */
            const char *health_key = key + 13;

            if (!health_key[0]) {
                verb_error(ctx, EXIT_INVALID, "%s=%s: expected "
                           "health_check:KEY=VALUE", key, value);
            } else if (value[0]) {
                smap_replace(&health_check, health_key, value);
            } else {
                smap_remove(&health_check, health_key);
            }
            health_changed = true;
        } else {
            set_vip_option(ctx, vip, key, value);
        }
        free(key);
    }
    /* The protocol, the mode and the algorithm together, as they will
     * be. */
    if (!ctx->error
        && check_implemented(ctx, vip->mode, protocol, vip->algorithm,
                             NULL)) {
        check_mode_options(ctx, vip);
    }
    /* The whole check, as it will be, for the protocol it will have. */
    if (!ctx->error && (health_changed || strcmp(protocol, vip->protocol))
        && check_health(ctx, &health_check, protocol) && health_changed) {
        write_health(ctx, vip, &health_check);
    }
    if (!ctx->error
        && check_vip_unique(ctx, vip, address, ports, n_ports, protocol)) {
        ovslbrec_vip_set_address(vip, address);
        ovslbrec_vip_set_ports(vip, ports, n_ports);
        ovslbrec_vip_set_protocol(vip, protocol);
    }
    smap_destroy(&health_check);
    free(new_ports);
}

static int
compare_vips(const void *a_, const void *b_)
{
    const struct ovslbrec_vip *const *a = a_;
    const struct ovslbrec_vip *const *b = b_;
    return strcmp((*a)->name, (*b)->name);
}

static const struct ovslbrec_vip **
sorted_vips(const struct ctl_ctx *ctx, size_t *np)
{
    const struct ovslbrec_vip **vips = NULL;
    const struct ovslbrec_vip *vip;
    size_t n = 0, allocated = 0;

    OVSLBREC_VIP_FOR_EACH (vip, ctx->idl) {
        if (n >= allocated) {
            vips = x2nrealloc(vips, &allocated, sizeof *vips);
        }
        vips[n++] = vip;
    }
    if (n) {
        qsort(vips, n, sizeof *vips, compare_vips);
    }
    *np = n;
    return vips;
}

static int
compare_int64(const void *a_, const void *b_)
{
    const int64_t *a = a_;
    const int64_t *b = b_;
    return *a < *b ? -1 : *a > *b;
}

static void
put_ports(struct ds *s, const struct ovslbrec_vip *vip)
{
    int64_t *ports = xmemdup(vip->ports, vip->n_ports * sizeof *ports);

    qsort(ports, vip->n_ports, sizeof *ports, compare_int64);
    for (size_t i = 0; i < vip->n_ports; i++) {
        ds_put_format(s, "%s%"PRId64, i ? "," : "", ports[i]);
    }
    free(ports);
}

/* A VIP's servers, "ID:WEIGHT" sorted by id. */
static void
put_vip_servers(struct ds *s, const struct ovslbrec_vip *vip,
                const char *separator)
{
    int64_t *pairs = xmalloc((vip->n_servers + 1) * 2 * sizeof *pairs);

    for (size_t i = 0; i < vip->n_servers; i++) {
        pairs[2 * i] = vip->key_servers[i]->node_id;
        pairs[2 * i + 1] = vip->value_servers[i];
    }
    qsort(pairs, vip->n_servers, 2 * sizeof *pairs, compare_int64);
    for (size_t i = 0; i < vip->n_servers; i++) {
        ds_put_format(s, "%s%"PRId64":%"PRId64, i ? separator : "",
                      pairs[2 * i], pairs[2 * i + 1]);
    }
    free(pairs);
}

/* A VIP's health_check map as written: "KEY=VALUE,..." sorted by key (what
 * vip-add's --health-check takes). */
static void
put_health_map(struct ds *s, const struct smap *health_check)
{
    const struct smap_node **nodes = smap_sort(health_check);
    size_t n = smap_count(health_check);

    for (size_t i = 0; i < n; i++) {
        ds_put_format(s, "%s%s=%s", i ? "," : "", nodes[i]->key,
                      nodes[i]->value);
    }
    free(nodes);
}

/* The check that a VIP's health_check map asks for, in words, with every
 * default filled in. */
static void
put_health_check(struct ds *s, const struct ovslbrec_vip *vip)
{
    struct cluster_vip_health health;
    char *error = cluster_vip_health_parse(&vip->health_check, &health);

    if (!error) {
        error = cluster_vip_health_for_protocol(&health, &vip->health_check,
                                                vip->protocol);
    }
    ds_put_cstr(s, "    health check: ");
    if (error) {
        ds_put_format(s, "INVALID (%s): the nodes ignore this VIP", error);
    } else if (health.type == CLUSTER_HEALTH_NONE) {
        ds_put_cstr(s, "none (its ports count as up)");
    } else {
        if (health.type == CLUSTER_HEALTH_HTTP) {
            ds_put_format(s, "http GET %s expecting %"PRIu16,
                          health.http_path, health.http_status);
        } else if (health.type == CLUSTER_HEALTH_UDP) {
            ds_put_cstr(s, "udp datagram, not refused");
        } else {
            ds_put_cstr(s, "tcp connect");
        }
        ds_put_format(s, " every %"PRIu32" ms, timeout %"PRIu32" ms, up "
                      "after %"PRIu32", down after %"PRIu32,
                      health.interval_ms, health.timeout_ms, health.rise,
                      health.fall);
        if (smap_is_empty(&vip->health_check)) {
            ds_put_cstr(s, " (default)");
        }
    }
    ds_put_char(s, '\n');
    free(error);
    cluster_vip_health_destroy(&health);
}

static void
cmd_vip_list(struct ctl_ctx *ctx)
{
    size_t n;
    const struct ovslbrec_vip **vips = sorted_vips(ctx, &n);

    for (size_t i = 0; i < n; i++) {
        const struct ovslbrec_vip *vip = vips[i];

        ds_put_format(&ctx->output, "%s %s ", vip->name, vip->address);
        put_ports(&ctx->output, vip);
        ds_put_format(&ctx->output, "/%s mode=%s algorithm=%s servers=",
                      vip->protocol, vip->mode, vip->algorithm);
        if (vip->n_servers) {
            put_vip_servers(&ctx->output, vip, ",");
        } else {
            ds_put_cstr(&ctx->output, "none");
        }
        ds_put_format(&ctx->output, " admin=%s",
                      admin_state(vip->admin_state));
        if (!smap_is_empty(&vip->health_check)) {
            ds_put_cstr(&ctx->output, " health=");
            put_health_map(&ctx->output, &vip->health_check);
        }
        ds_put_char(&ctx->output, '\n');
    }
    free(vips);
}

static void
cmd_vip_server_add(struct ctl_ctx *ctx)
{
    const struct ovslbrec_vip *vip = get_vip(ctx, ctx->argv[0]);
    const struct ovslbrec_server_node *server;
    long long int weight = 1;
    int64_t id;

    if (!vip || !parse_node_id(ctx, ctx->argv[1], &id)
        || (ctx->argc > 2
            && !parse_uint(ctx, "weight", ctx->argv[2], 0, 65535, &weight))) {
        return;
    }
    server = find_server_node(ctx, id);
    if (!server) {
        verb_error(ctx, EXIT_NOT_FOUND, "%"PRId64": no server node with this "
                  "id", id);
        return;
    }
    for (size_t i = 0; i < vip->n_servers; i++) {
        if (vip->key_servers[i] == server
            && !has_option(ctx, "--may-exist")) {
            verb_error(ctx, EXIT_EXISTS, "server node %"PRId64" is already a "
                      "server of VIP %s", id, vip->name);
            return;
        }
    }
    ovslbrec_vip_update_servers_setkey(vip, server, weight);
}

static void
cmd_vip_server_del(struct ctl_ctx *ctx)
{
    const struct ovslbrec_vip *vip = get_vip(ctx, ctx->argv[0]);
    int64_t id;

    if (!vip || !parse_node_id(ctx, ctx->argv[1], &id)) {
        return;
    }
    for (size_t i = 0; i < vip->n_servers; i++) {
        if (vip->key_servers[i]->node_id == id) {
            ovslbrec_vip_update_servers_delkey(vip, vip->key_servers[i]);
            return;
        }
    }
    if (!has_option(ctx, "--if-exists")) {
        verb_error(ctx, EXIT_NOT_FOUND, "server node %"PRId64" is not a "
                  "server of VIP %s", id, vip->name);
    }
}

/* show */

static void
cmd_show(struct ctl_ctx *ctx)
{
    const struct ovslbrec_cluster *row = cluster_row(ctx);
    struct ds *s = &ctx->output;
    uint32_t fabric_mtu, vip_wscale, vip_ttl;

    if (row) {
        ds_put_format(s, "cluster \"%s\" (cluster key: %s%s)\n", row->name,
                      strlen(row->cluster_key) ? "set" : "NOT SET",
                      row->cluster_key_next ? ", next key staged" : "");
    } else {
        ds_put_cstr(s, "cluster not initialized (run 'ovslb-ctl init'), "
                    "defaults:\n");
    }
    for (size_t i = 0; i < cluster_n_setting_defs; i++) {
        const struct cluster_setting *setting = &cluster_setting_defs[i];
        long long int value;

        if (read_setting(row, setting, &value)) {
            ds_put_format(s, "    %s: %lld\n", setting->name, value);
        } else {
            ds_put_format(s, "    %s: %"PRIu32" (default)\n", setting->name,
                          setting->default_value);
        }
    }
    fabric_mtu = effective_setting(row, cluster_setting_find("fabric_mtu"));
    vip_wscale = effective_setting(row, cluster_setting_find("vip_wscale"));
    vip_ttl = effective_setting(row, cluster_setting_find("vip_ttl"));

    size_t n;
    const struct ovslbrec_lb_node **lbs = sorted_lb_nodes(ctx, &n);
    for (size_t i = 0; i < n; i++) {
        ds_put_format(s, "lb-node %"PRId64"%s\n", lbs[i]->node_id,
                      strcmp(admin_state(lbs[i]->admin_state), "up")
                      ? " (admin down)" : "");
        ds_put_format(s, "    north: %s\n    south: %s\n    control: %s\n",
                      lbs[i]->north_address, lbs[i]->south_address,
                      lbs[i]->control_address);
        if (lbs[i]->zone[0]) {
            ds_put_format(s, "    zone: %s\n", lbs[i]->zone);
        }
    }
    free(lbs);

    const struct ovslbrec_server_node **servers = sorted_server_nodes(ctx,
                                                                      &n);
    for (size_t i = 0; i < n; i++) {
        const struct ovslbrec_server_node *node = servers[i];

        ds_put_format(s, "server-node %"PRId64"%s\n", node->node_id,
                      strcmp(admin_state(node->admin_state), "up")
                      ? " (admin down)" : "");
        ds_put_format(s, "    underlay: %s\n    control: %s\n",
                      node->underlay_address, node->control_address);
        if (node->zone[0]) {
            ds_put_format(s, "    zone: %s\n", node->zone);
        }
        if (node->n_netns) {
            ds_put_cstr(s, "    netns: ");
            put_netns(s, node);
            ds_put_char(s, '\n');
        }
    }
    free(servers);

    const struct ovslbrec_vip **vips = sorted_vips(ctx, &n);
    for (size_t i = 0; i < n; i++) {
        const struct ovslbrec_vip *vip = vips[i];
        struct in6_addr addr;
        char *error;

        ds_put_format(s, "vip %s%s\n    address: %s\n    ports: ", vip->name,
                      strcmp(admin_state(vip->admin_state), "up")
                      ? " (admin down)" : "", vip->address);
        put_ports(s, vip);
        ds_put_format(s, "/%s\n    mode: %s\n    algorithm: %s\n",
                      vip->protocol, vip->mode, vip->algorithm);
        if (vip->n_mss) {
            ds_put_format(s, "    mss: %"PRId64"\n", *vip->mss);
        } else {
            error = cluster_parse_address(vip->address, &addr);
            if (!error) {
                ds_put_format(s, "    mss: %d (default)\n",
                              cluster_default_mss(fabric_mtu, &addr));
            }
            free(error);
        }
        if (vip->n_wscale) {
            ds_put_format(s, "    wscale: %"PRId64"\n", *vip->wscale);
        } else {
            ds_put_format(s, "    wscale: %"PRIu32" (default)\n", vip_wscale);
        }
        if (vip->n_ttl) {
            ds_put_format(s, "    ttl: %"PRId64"\n", *vip->ttl);
        } else {
            ds_put_format(s, "    ttl: %"PRIu32" (default)\n", vip_ttl);
        }
        ds_put_cstr(s, "    servers (id:weight): ");
        if (vip->n_servers) {
            put_vip_servers(s, vip, " ");
        } else {
            ds_put_cstr(s, "none");
        }
        ds_put_char(s, '\n');
        put_health_check(s, vip);
    }
    free(vips);
}

/* sync: changes nothing; with --wait (which parse_options() requires), the
 * increment of Cluster.cfg alone makes it wait for every change made
 * before. */
static void
cmd_sync(struct ctl_ctx *ctx OVS_UNUSED)
{
}

/* The friendly verbs as commands of OVS's db-ctl framework, next to its
 * generic ones (list, get, set, find, ...).  A verb runs on a 'struct
 * ctl_ctx' built from the framework's context, whose error it reports with
 * the verb's exit code. */

struct lbctl_context {
    struct ctl_context base;
    int exit_code;              /* Exit code for base.error. */
};

static void
run_verb(struct ctl_context *base, void (*run)(struct ctl_ctx *))
{
    struct lbctl_context *lctx = CONTAINER_OF(base, struct lbctl_context,
                                              base);
    struct ctl_ctx ctx = {
        .idl = base->idl,
        .txn = base->txn,
        .argc = base->argc - 1,
        .argv = base->argv + 1,
        .options = &base->options,
        .output = DS_EMPTY_INITIALIZER,
    };

    ds_swap(&ctx.output, &base->output);
    run(&ctx);
    ds_swap(&ctx.output, &base->output);
    ds_destroy(&ctx.output);
    if (ctx.error) {
        lctx->exit_code = ctx.exit_code;
        ctl_error(base, "%s", ctx.error);
        free(ctx.error);
    }
}

#define VERB(NAME)                              \
    static void                                 \
    run_##NAME(struct ctl_context *base)        \
    {                                           \
        run_verb(base, cmd_##NAME);             \
    }
VERB(init)
VERB(sync)
VERB(set)
VERB(get)
VERB(show)
VERB(key_stage)
VERB(key_promote)
VERB(lb_node_add)
VERB(lb_node_del)
VERB(lb_node_set)
VERB(lb_node_list)
VERB(server_add)
VERB(server_del)
VERB(server_set)
VERB(server_list)
VERB(vip_add)
VERB(vip_del)
VERB(vip_set)
VERB(vip_list)
VERB(vip_server_add)
VERB(vip_server_del)
#undef VERB

/* "get KEY" and "set KEY=VALUE..." on the cluster settings are registered
 * as "cluster-get" and "cluster-set", since the generic "get" and "set"
 * have those names; rename_cluster_verbs() tells them apart. */
static const struct ctl_command_syntax verbs[] = {
    { "init", 0, 0, "", NULL, run_init, NULL, "", RW },
    { "sync", 0, 0, "", NULL, run_sync, NULL, "", RW },
    { "cluster-set", 1, INT_MAX, "KEY=VALUE...", NULL, run_set, NULL, "",
      RW },
    { "cluster-get", 1, 1, "KEY", NULL, run_get, NULL, "", RO },
    { "show", 0, 0, "", NULL, run_show, NULL, "", RO },
    { "key-stage", 0, 1, "[KEY]", NULL, run_key_stage, NULL, "", RW },
    { "key-promote", 0, 0, "", NULL, run_key_promote, NULL, "", RW },
    { "lb-node-add", 3, 4, "ID NORTH_IP SOUTH_IP [CONTROL_IP]", NULL,
      run_lb_node_add, NULL, "--may-exist,--zone=", RW },
    { "lb-node-del", 1, 1, "ID", NULL, run_lb_node_del, NULL, "--if-exists",
      RW },
    { "lb-node-set", 2, INT_MAX, "ID KEY=VALUE...", NULL, run_lb_node_set,
      NULL, "", RW },
    { "lb-node-list", 0, 0, "", NULL, run_lb_node_list, NULL, "", RO },
    { "server-add", 2, 3, "ID UNDERLAY_IP [CONTROL_IP]", NULL,
      run_server_add, NULL, "--may-exist,--zone=,--netns=", RW },
    { "server-del", 1, 1, "ID", NULL, run_server_del, NULL, "--if-exists",
      RW },
    { "server-set", 2, INT_MAX, "ID KEY=VALUE...", NULL, run_server_set,
      NULL, "", RW },
    { "server-list", 0, 0, "", NULL, run_server_list, NULL, "", RO },
    { "vip-add", 3, 3, "NAME ADDRESS PORT[,PORT...]", NULL, run_vip_add,
      NULL, "--may-exist,--protocol=,--mode=,--algorithm=,--mss=,--wscale=,"
      "--ttl=,--health-check=", RW },
    { "vip-del", 1, 1, "NAME", NULL, run_vip_del, NULL, "--if-exists", RW },
    { "vip-set", 2, INT_MAX, "NAME KEY=VALUE...", NULL, run_vip_set, NULL,
      "", RW },
    { "vip-list", 0, 0, "", NULL, run_vip_list, NULL, "", RO },
    { "vip-server-add", 2, 3, "NAME SERVER_ID [WEIGHT]", NULL,
      run_vip_server_add, NULL, "--may-exist", RW },
    { "vip-server-del", 2, 2, "NAME SERVER_ID", NULL, run_vip_server_del,
      NULL, "--if-exists", RW },
    { NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, RO },
};

/* How the generic commands name a row besides its UUID: the cluster by its
 * name (or "."), a node by its id, a VIP by its name. */
static const struct ctl_table_class table_classes[OVSLBREC_N_TABLES] = {
    [OVSLBREC_TABLE_CLUSTER] = {{
        { &ovslbrec_cluster_col_name, NULL, NULL },
    }},
    [OVSLBREC_TABLE_LB_NODE] = {{
        { &ovslbrec_lb_node_col_node_id, NULL, NULL },
    }},
    [OVSLBREC_TABLE_SERVER_NODE] = {{
        { &ovslbrec_server_node_col_node_id, NULL, NULL },
    }},
    [OVSLBREC_TABLE_VIP] = {{
        { &ovslbrec_vip_col_name, NULL, NULL },
    }},
};

OVS_NO_RETURN static void
usage_error(const char *format, ...) OVS_PRINTF_FORMAT(1, 2);

OVS_NO_RETURN static void
usage_error(const char *format, ...)
{
    va_list args;

    va_start(args, format);
    fprintf(stderr, "%s: ", program_name);
    vfprintf(stderr, format, args);
    fprintf(stderr, " (use --help for help)\n");
    va_end(args);
    exit(EXIT_INVALID);
}

OVS_NO_RETURN static void
db_error(const char *format, ...) OVS_PRINTF_FORMAT(1, 2);

OVS_NO_RETURN static void
db_error(const char *format, ...)
{
    va_list args;

    va_start(args, format);
    fprintf(stderr, "%s: ", program_name);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
    exit(EXIT_DB);
}

static char *
default_db(void)
{
    const char *env = getenv("OVSLB_DB");
    const char *rundir = getenv("OVS_RUNDIR");

    if (env && env[0]) {
        return xstrdup(env);
    }
    return xasprintf("unix:%s/ovslb.sock",
                     rundir && rundir[0] ? rundir : DEFAULT_RUNDIR);
}

OVS_NO_RETURN static void
usage(void)
{
    char *db = default_db();

    printf("%s: configures an ovslb cluster (the OVSLB database)\n"
           "usage: %s [OPTIONS] COMMAND [ARG...] [COMMAND-OPTION...]\n"
           "\nCluster commands:\n"
           "  init                        create the cluster row (random "
           "key) if missing\n"
           "  set KEY=VALUE...            set cluster settings (empty "
           "VALUE: default)\n"
           "  get KEY                     print a cluster setting\n"
           "  show                        print the whole configuration\n"
           "  sync                        with --wait: wait until the nodes "
           "have applied\n"
           "                              every change made so far\n"
           "  key-stage [KEY]             stage the next cluster key (random "
           "if no KEY):\n"
           "                              accepted by every node, not used "
           "to sign yet\n"
           "  key-promote                 make the staged key the current "
           "one\n"
           "\nLB node commands:\n"
           "  [--may-exist] lb-node-add ID NORTH_IP SOUTH_IP [CONTROL_IP] "
           "[--zone=Z]\n"
           "  [--if-exists] lb-node-del ID\n"
           "  lb-node-set ID KEY=VALUE... (north_address, south_address,\n"
           "                               control_address, zone, "
           "admin_state)\n"
           "  lb-node-list\n"
           "\nServer node commands:\n"
           "  [--may-exist] server-add ID UNDERLAY_IP [CONTROL_IP] "
           "[--zone=Z]\n"
           "                           [--netns=NS[,NS...]]\n"
           "  [--if-exists] server-del ID\n"
           "  server-set ID KEY=VALUE...  (underlay_address, "
           "control_address, zone,\n"
           "                               netns, admin_state)\n"
           "  server-list\n"
           "\nVIP commands:\n"
           "  [--may-exist] vip-add NAME ADDRESS PORT[,PORT...] "
           "[--protocol=tcp|udp]\n"
           "      [--mode=tracked|hash] [--algorithm=ALG] [--mss=N] "
           "[--wscale=N] [--ttl=N]\n"
           "      [--health-check=HKEY=VALUE[,HKEY=VALUE...]]\n"
           "  [--if-exists] vip-del NAME\n"
           "  vip-set NAME KEY=VALUE...   (address, ports, protocol, mode, "
           "algorithm,\n"
           "                               mss, wscale, ttl, admin_state,\n"
           "                               health_check:HKEY; "
           "health_check= clears)\n"
           "  vip-list\n"
           "  [--may-exist] vip-server-add NAME SERVER_ID [WEIGHT]\n"
           "  [--if-exists] vip-server-del NAME SERVER_ID\n"
           "\nDatabase commands (any table, see ovslb(5); REC: a UUID, a "
           "VIP's name,\na node's id, the cluster's name or \".\"):\n"
           "  list TABLE [REC...]         print whole rows "
           "[--columns=COL,...] [--if-exists]\n"
           "  find TABLE COL[:KEY]=VALUE...  print the rows that match "
           "[--columns=...]\n"
           "  get TABLE REC COL[:KEY]...  print values "
           "[--if-exists] [--id=@NAME]\n"
           "  set TABLE REC COL[:KEY]=VALUE...  write values "
           "[--if-exists]\n"
           "  add TABLE REC COL [KEY=]VALUE...  add to a set or map "
           "column [--if-exists]\n"
           "  remove TABLE REC COL [KEY=]VALUE...  remove from one "
           "[--if-exists]\n"
           "  clear TABLE REC COL...      empty columns [--if-exists]\n"
           "  create TABLE COL[:KEY]=VALUE...  insert a row "
           "[--id=@NAME]\n"
           "  destroy TABLE REC...        delete rows [--if-exists] "
           "[--all]\n"
           "  wait-until TABLE REC [COL[:KEY]=VALUE...]  wait until "
           "the row exists and\n"
           "                              matches\n"
           "  comment [ARG...]            nothing (a note in the "
           "transaction)\n"
           "Join commands with \"--\" to run them in one transaction.  "
           "Generic writes skip\nthe checks of the commands above "
           "(ovslb-ctl(8)).\n"
           "\nALG: random weighted-random round-robin least-connections "
           "lowest-latency\n     hash source nearest\n"
           "HKEY (health check): type=tcp|http|none path status "
           "interval_ms timeout_ms\n     rise fall\n"
           "\nCluster settings (KEY of set/get): name cluster_key "
           "cluster_key_next",
           program_name, program_name);
    for (size_t i = 0; i < cluster_n_setting_defs; i++) {
        printf("%s%s", i % 4 ? " " : "\n  ", cluster_setting_defs[i].name);
    }
    printf("\n\nOptions:\n"
           "  --db=DB             config service: unix:PATH, tcp:IP:PORT, "
           "ssl:IP:PORT,\n"
           "                      comma-separated for a cluster\n"
           "                      (default: %s)\n"
           "  --timeout=SECS      give up after SECS seconds (default: 0, "
           "never)\n"
           "  --wait=none|lb|all  after a change, wait until every LB node "
           "(lb) or every\n"
           "                      LB and server node (all) that is "
           "administratively up\n"
           "                      has applied it (default: none)\n"
           "  -p, --private-key=FILE, -c, --certificate=FILE, "
           "-C, --ca-cert=FILE\n"
           "                      TLS key, certificate and CA certificate "
           "(PEM files),\n"
           "                      required with an ssl: remote\n"
           "  --dry-run           run the commands, commit nothing\n"
           "  --oneline           print each command's output on one "
           "line\n"
           "  -f, --format=table|list|html|csv|json  output format of "
           "list, find\n"
           "  -d, --data=string|bare|json  format of the cells\n"
           "  --no-headings, --pretty, --bare, --max-column-width=N\n"
           "                      more of the output format of list and "
           "find\n"
           "  -v, --verbose[=SPEC] log more\n"
           "  -h, --help          print this help\n"
           "  -V, --version       print the version\n"
           "\nExit status: 0 success, 1 invalid command line or value, "
           "2 not found,\n3 already exists, 4 database unreachable, timeout "
           "or refusal,\n5 committed but --wait timed out.\n", db);
    free(db);
    exit(EXIT_OK);
}

/* --wait: Cluster.cfg, raised by the change's transaction, and the nodes'
 * applied_cfg, which their daemons write once their data path reflects it
 * (ovslb(5)).  Raised once per transaction, whatever commands it chains,
 * and waited for after the commit. */

static bool
wait_scope_from_string(const char *s, enum wait_scope *scope)
{
    if (!strcmp(s, "none")) {
        *scope = WAIT_NONE;
    } else if (!strcmp(s, "lb")) {
        *scope = WAIT_LB;
    } else if (!strcmp(s, "all")) {
        *scope = WAIT_ALL;
    } else {
        return false;
    }
    return true;
}

/* Adds to 'txn' the increment of the Cluster row's 'cfg' in 'idl' (a row
 * that 'txn' may have just inserted).  Returns false if there is no
 * Cluster row. */
static bool
wait_add_increment(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn)
{
    const struct ovslbrec_cluster *row = ovslbrec_cluster_first(idl);

    if (!row) {
        return false;
    }
    /* Forced: a change that turns out to change nothing still waits for
     * the changes before it. */
    ovsdb_idl_txn_increment(txn, &row->header_, &ovslbrec_cluster_col_cfg,
                            true);
    return true;
}

/* A node that has not applied the configuration waited for. */
struct wait_lag {
    bool lb;                    /* LB node, or server node? */
    int64_t node_id;
    int64_t applied_cfg;
};

static int
compare_wait_lags(const void *a_, const void *b_)
{
    const struct wait_lag *a = a_, *b = b_;

    if (a->lb != b->lb) {
        return a->lb ? -1 : 1;
    }
    return a->node_id < b->node_id ? -1 : a->node_id > b->node_id;
}

static bool
wait_node_counts(const char *admin_state)
{
    return !admin_state || strcmp(admin_state, "down");
}

/* Returns the nodes of 'scope' in 'idl' that are administratively up and
 * whose applied_cfg is below 'cfg', sorted (LB nodes first, by id), and
 * their number in '*np'. */
static struct wait_lag *
wait_find_lagging(struct ovsdb_idl *idl, enum wait_scope scope, int64_t cfg,
                  size_t *np)
{
    const struct ovslbrec_lb_node *lb;
    const struct ovslbrec_server_node *server;
    struct wait_lag *lags = NULL;
    size_t n = 0, allocated = 0;

    OVSLBREC_LB_NODE_FOR_EACH (lb, idl) {
        if (wait_node_counts(lb->admin_state) && lb->applied_cfg < cfg) {
            if (n >= allocated) {
                lags = x2nrealloc(lags, &allocated, sizeof *lags);
            }
            lags[n++] = (struct wait_lag) { true, lb->node_id,
                                            lb->applied_cfg };
        }
    }
    if (scope == WAIT_ALL) {
        OVSLBREC_SERVER_NODE_FOR_EACH (server, idl) {
            if (wait_node_counts(server->admin_state)
                && server->applied_cfg < cfg) {
                if (n >= allocated) {
                    lags = x2nrealloc(lags, &allocated, sizeof *lags);
                }
                lags[n++] = (struct wait_lag) { false, server->node_id,
                                                server->applied_cfg };
            }
        }
    }
    if (n) {
        qsort(lags, n, sizeof *lags, compare_wait_lags);
    }
    *np = n;
    return lags;
}

/* Waits until every node of 'scope' that is administratively up has
 * applied configuration 'cfg' or a later one.  At 'deadline' (LLONG_MAX:
 * none), exits with EXIT_WAIT and a message naming the nodes that lag. */
static void
wait_for_nodes(struct ovsdb_idl *idl, enum wait_scope scope, int64_t cfg,
               long long int deadline, const char *db)
{
    for (;;) {
        struct wait_lag *lags;
        size_t n;

        ovsdb_idl_run(idl);
        if (!ovsdb_idl_is_alive(idl)) {
            db_error("%s: database connection failed while waiting for the "
                     "nodes (%s); the change was committed", db,
                     ovs_retval_to_string(ovsdb_idl_get_last_error(idl)));
        }
        lags = wait_find_lagging(idl, scope, cfg, &n);
        if (!n) {
            return;
        }
        if (time_msec() >= deadline) {
            struct ds s = DS_EMPTY_INITIALIZER;

            for (size_t i = 0; i < n; i++) {
                ds_put_format(&s, "%s%s %"PRId64, i ? ", " : "",
                              lags[i].lb ? "lb-node" : "server-node",
                              lags[i].node_id);
                if (lags[i].applied_cfg > 0) {
                    ds_put_format(&s, " (at %"PRId64")",
                                  lags[i].applied_cfg);
                } else {
                    ds_put_cstr(&s, " (never acknowledged)");
                }
            }
            fprintf(stderr, "%s: timeout: the change was committed as "
                    "configuration %"PRId64", but %"PRIuSIZE" node%s not "
                    "applied it: %s\n", program_name, cfg, n,
                    n == 1 ? " has" : "s have", ds_cstr(&s));
            ds_destroy(&s);
            free(lags);
            exit(EXIT_WAIT);
        }
        free(lags);
        ovsdb_idl_wait(idl);
        if (deadline != LLONG_MAX) {
            poll_timer_wait_until(deadline);
        }
        poll_block();
    }
}

enum {
    OPT_DB = UCHAR_MAX + 1,
    OPT_TIMEOUT,
    OPT_WAIT,
    OPT_DRY_RUN,
    OPT_ONELINE,
    OPT_LOCAL,                  /* An option of the first command. */
    VLOG_OPTION_ENUMS,
    TABLE_OPTION_ENUMS,
};

struct parsed_args {
    char *db;
    int timeout;
    enum wait_scope wait;
    bool dry_run;
    bool oneline;
    struct table_style table_style;
    struct ctl_command *commands;
    size_t n_commands;
};

/* Returns true if 'db', one remote or several separated by commas, names an
 * "ssl:" remote. */
static bool
db_uses_ssl(const char *db)
{
    return !strncmp(db, "ssl:", 4) || strstr(db, ",ssl:");
}

/* The options of a command may follow its arguments ("vip-add web
 * 192.0.2.1 80 --mode=hash"), as before the framework, which wants them
 * first: moves every "--NAME..." argument of a command of argv[0...argc-1]
 * (commands separated by "--") in front of the command's name. */
static void
move_command_options(int argc, char *argv[])
{
    for (int start = 0; start < argc; ) {
        int end = start;

        while (end < argc && strcmp(argv[end], "--")) {
            end++;
        }
        /* Stable partition of argv[start...end-1]: options first. */
        char **copy = xmemdup(&argv[start], (end - start) * sizeof *argv);
        int n = start;
        for (int i = 0; i < end - start; i++) {
            if (!strncmp(copy[i], "--", 2) && copy[i][2]) {
                argv[n++] = copy[i];
            }
        }
        for (int i = 0; i < end - start; i++) {
            if (strncmp(copy[i], "--", 2) || !copy[i][2]) {
                argv[n++] = copy[i];
            }
        }
        free(copy);
        start = end + 1;
    }
}

static bool
is_table_name(const char *s)
{
    for (size_t i = 0; i < ovslbrec_idl_class.n_tables; i++) {
        if (!strcasecmp(ovslbrec_idl_class.tables[i].name, s)) {
            return true;
        }
    }
    return false;
}

/* Renames the cluster settings' "get KEY" and "set KEY=VALUE..." in
 * argv[0...argc-1] to "cluster-get" and "cluster-set": the generic "get"
 * takes at least two arguments (TABLE RECORD) and the generic "set" a TABLE
 * first. */
static void
rename_cluster_verbs(int argc, char *argv[])
{
    for (int start = 0; start < argc; ) {
        int end = start, name = -1;

        while (end < argc && strcmp(argv[end], "--")) {
            if (name < 0 && strncmp(argv[end], "--", 2)) {
                name = end;
            }
            end++;
        }
        if (name >= 0) {
            int n_args = end - name - 1;

            if (!strcmp(argv[name], "get") && n_args == 1) {
                argv[name] = CONST_CAST(char *, "cluster-get");
            } else if (!strcmp(argv[name], "set") && n_args >= 1
                       && !is_table_name(argv[name + 1])) {
                argv[name] = CONST_CAST(char *, "cluster-set");
            }
        }
        start = end + 1;
    }
}

static void
parse_options(int argc, char *argv[], struct parsed_args *pa)
{
    static const struct option global_options[] = {
        {"db", required_argument, NULL, OPT_DB},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"wait", required_argument, NULL, OPT_WAIT},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"oneline", no_argument, NULL, OPT_ONELINE},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"private-key", required_argument, NULL, 'p'},
        {"certificate", required_argument, NULL, 'c'},
        {"ca-cert", required_argument, NULL, 'C'},
        VLOG_LONG_OPTIONS,
        TABLE_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct shash local_options = SHASH_INITIALIZER(&local_options);
    size_t n_options = ARRAY_SIZE(global_options) - 1;
    size_t allocated = ARRAY_SIZE(global_options);
    struct option *options = xmemdup(global_options, sizeof global_options);
    char *short_options, *tmp, *error;
    bool show_help = false;
    bool has_key = false, has_cert = false, has_ca_cert = false;

    memset(pa, 0, sizeof *pa);
    pa->table_style = (struct table_style) TABLE_STYLE_DEFAULT;

    /* The options of the commands, for the first command's options given
     * before its name. */
    ctl_add_cmd_options(&options, &n_options, &allocated, OPT_LOCAL);
    tmp = ovs_cmdl_long_options_to_short_options(options);
    short_options = xasprintf("+%s", tmp);
    free(tmp);

    move_command_options(argc - 1, argv + 1);
    for (;;) {
        int idx;
        int c = getopt_long(argc, argv, short_options, options, &idx);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_DB:
            free(pa->db);
            pa->db = xstrdup(optarg);
            break;

        case OPT_TIMEOUT:
            if (!str_to_int(optarg, 10, &pa->timeout) || pa->timeout < 0) {
                usage_error("--timeout: \"%s\" is not a number of seconds",
                            optarg);
            }
            break;

        case OPT_WAIT:
            if (!wait_scope_from_string(optarg, &pa->wait)) {
                usage_error("--wait: \"%s\" is not none, lb or all",
                            optarg);
            }
            break;

        case OPT_DRY_RUN:
            pa->dry_run = true;
            break;

        case OPT_ONELINE:
            pa->oneline = true;
            break;

        case OPT_LOCAL: {
            char *name = xasprintf("--%s", options[idx].name);
            if (shash_find(&local_options, name)) {
                usage_error("%s given twice", name);
            }
            shash_add_nocopy(&local_options, name,
                             nullable_xstrdup(optarg));
            break;
        }

        case 'h':
            show_help = true;
            break;

        case 'V':
            printf("%s (ovslb) %s\n", program_name, PACKAGE_VERSION);
            exit(EXIT_OK);

        case 'p':
            stream_ssl_set_private_key_file(optarg);
            has_key = true;
            break;

        case 'c':
            stream_ssl_set_certificate_file(optarg);
            has_cert = true;
            break;

        case 'C':
            stream_ssl_set_ca_cert_file(optarg, false);
            has_ca_cert = true;
            break;

        VLOG_OPTION_HANDLERS
        TABLE_OPTION_HANDLERS(&pa->table_style)

        case '?':
            exit(EXIT_INVALID);

        default:
            OVS_NOT_REACHED();
        }
    }
    for (size_t i = ARRAY_SIZE(global_options) - 1; i < n_options; i++) {
        free(CONST_CAST(char *, options[i].name));
    }
    free(short_options);
    free(options);
    if (show_help) {
        shash_destroy_free_data(&local_options);
        free(pa->db);
        usage();
    }

    rename_cluster_verbs(argc - optind, argv + optind);
    error = ctl_parse_commands(argc - optind, argv + optind, &local_options,
                               &pa->commands, &pa->n_commands);
    if (error) {
        /* The framework's message already points to --help. */
        fprintf(stderr, "%s: %s\n", program_name, error);
        free(error);
        exit(EXIT_INVALID);
    }
    shash_destroy_free_data(&local_options);

    for (size_t i = 0; i < pa->n_commands; i++) {
        ds_init(&pa->commands[i].output);
        pa->commands[i].table = NULL;
        if (!strcmp(pa->commands[i].syntax->name, "sync")
            && pa->wait == WAIT_NONE) {
            usage_error("'sync' does nothing without --wait=lb or "
                        "--wait=all");
        }
    }
    if (!pa->db) {
        pa->db = default_db();
    }
    if (db_uses_ssl(pa->db) && (!has_key || !has_cert || !has_ca_cert)) {
        usage_error("%s: an ssl: remote needs --private-key, --certificate "
                    "and --ca-cert (PEM files; missing:%s%s%s)", pa->db,
                    has_key ? "" : " --private-key",
                    has_cert ? "" : " --certificate",
                    has_ca_cert ? "" : " --ca-cert");
    }
}

/* What to add to the error 'retval' of a connection to 'db', to help. */
static const char *
connection_hint(const char *db, int retval)
{
    if (!db_uses_ssl(db)) {
        return "";
    } else if (retval == ENOPROTOOPT) {
        return "; the TLS private key, certificate or CA certificate could "
               "not be used (see the errors above)";
    } else if (retval == EPROTO || retval == EIO || retval == EPIPE
               || retval == ECONNRESET) {
        /* The server drops a client whose certificate it does not trust
         * during the handshake, which the client sees as any of these. */
        return "; if the TLS handshake failed, check that --ca-cert signed "
               "the server's certificate and that the server trusts the CA "
               "that signed --certificate";
    }
    return "";
}

static void
check_deadline(long long int deadline, const char *db)
{
    if (deadline != LLONG_MAX) {
        if (time_msec() >= deadline) {
            db_error("%s: timeout: the config service did not answer in "
                     "time", db);
        }
        poll_timer_wait_until(deadline);
    }
}

/* Prints 'output' of one command, with --oneline on one line: its newlines
 * but the last become "\n" and its backslashes "\\". */
static void
print_output(const struct ds *output, bool oneline)
{
    if (!oneline) {
        fputs(ds_cstr_ro(output), stdout);
        return;
    }
    for (size_t i = 0; i < output->length; i++) {
        char c = output->string[i];

        if (c == '\n' && i + 1 < output->length) {
            fputs("\\n", stdout);
        } else if (c == '\\') {
            fputs("\\\\", stdout);
        } else if (c != '\n') {
            putchar(c);
        }
    }
    putchar('\n');
}

static void
free_commands(struct parsed_args *pa)
{
    for (size_t i = 0; i < pa->n_commands; i++) {
        struct ctl_command *c = &pa->commands[i];

        shash_destroy_free_data(&c->options);
        ds_destroy(&c->output);
        table_destroy(c->table);
        free(c->table);
    }
    free(pa->commands);
}

/* Runs the commands once, in one transaction, against the replica in 'idl'.
 * Returns true if done (success), false if they must be retried after the
 * next change; exits on error.  With --wait, a change also raises
 * Cluster.cfg, whose new value goes into '*cfgp' (otherwise 0). */
static bool
run_commands(struct ovsdb_idl *idl, struct parsed_args *pa,
             long long int deadline, int64_t *cfgp)
{
    struct ovsdb_symbol_table *symtab = ovsdb_symbol_table_create();
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(idl);
    enum ovsdb_idl_txn_status status;
    struct ds comment = DS_EMPTY_INITIALIZER;
    bool writes = ctl_might_write_to_db(pa->commands, pa->n_commands);
    struct lbctl_context ctx;
    char *error = NULL;
    int exit_code = EXIT_INVALID;

    ds_put_cstr(&comment, "ovslb-ctl:");
    for (size_t i = 0; i < pa->n_commands; i++) {
        const struct ctl_command *c = &pa->commands[i];

        ds_put_format(&comment, "%s %s", i ? " --" : "", c->syntax->name);
        for (int j = 1; j < c->argc; j++) {
            ds_put_format(&comment, " %s", c->argv[j]);
        }
    }
    ovsdb_idl_txn_add_comment(txn, "%s", ds_cstr(&comment));
    ds_destroy(&comment);
    if (pa->dry_run) {
        ovsdb_idl_txn_set_dry_run(txn);
    }

    *cfgp = 0;
    for (size_t i = 0; i < pa->n_commands && !error; i++) {
        struct ctl_command *c = &pa->commands[i];

        ds_clear(&c->output);
        table_destroy(c->table);
        free(c->table);
        c->table = NULL;

        memset(&ctx, 0, sizeof ctx);
        ds_init(&ctx.base.output);
        ctl_context_init(&ctx.base, c, idl, txn, symtab, NULL);
        ctx.exit_code = EXIT_INVALID;
        if (c->syntax->run) {
            c->syntax->run(&ctx.base);
        }
        if (ctx.base.error) {
            error = xstrdup(ctx.base.error);
            exit_code = ctx.exit_code;
        } else if (ctx.base.try_again) {
            ctl_context_done(&ctx.base, c);
            goto try_again;
        }
        ctl_context_done(&ctx.base, c);
    }
    if (!error) {
        const struct shash_node *node;

        SHASH_FOR_EACH (node, &symtab->sh) {
            const struct ovsdb_symbol *symbol = node->data;

            if (!symbol->created) {
                error = xasprintf("row id \"%s\" is referenced but never "
                                  "created (e.g. with \"-- --id=%s create "
                                  "...\")", node->name, node->name);
                break;
            }
        }
    }
    if (!error && writes && pa->wait != WAIT_NONE && !pa->dry_run
        && !wait_add_increment(idl, txn)) {
        error = xstrdup("--wait needs the Cluster row (run 'ovslb-ctl "
                        "init' first)");
        exit_code = EXIT_NOT_FOUND;
    }
    if (error) {
        fprintf(stderr, "%s: %s\n", program_name, error);
        free(error);
        exit(exit_code);
    }

    for (;;) {
        status = ovsdb_idl_txn_commit(txn);
        if (status != TXN_INCOMPLETE) {
            break;
        }
        ovsdb_idl_run(idl);
        ovsdb_idl_wait(idl);
        ovsdb_idl_txn_wait(txn);
        check_deadline(deadline, pa->db);
        poll_block();
    }
    switch (status) {
    case TXN_UNCOMMITTED:
    case TXN_INCOMPLETE:
        OVS_NOT_REACHED();

    case TXN_UNCHANGED:
    case TXN_SUCCESS:
        break;

    case TXN_TRY_AGAIN:
        goto try_again;

    case TXN_ABORTED:
    case TXN_ERROR:
    case TXN_NOT_LOCKED:
        db_error("transaction error: %s", ovsdb_idl_txn_get_error(txn));
    }

    for (size_t i = 0; i < pa->n_commands; i++) {
        struct ctl_command *c = &pa->commands[i];

        if (c->syntax->postprocess) {
            memset(&ctx, 0, sizeof ctx);
            ds_init(&ctx.base.output);
            ctl_context_init(&ctx.base, c, idl, txn, symtab, NULL);
            c->syntax->postprocess(&ctx.base);
            if (ctx.base.error) {
                db_error("%s", ctx.base.error);
            }
            ctl_context_done(&ctx.base, c);
        }
    }
    if (status == TXN_SUCCESS && writes && pa->wait != WAIT_NONE) {
        *cfgp = ovsdb_idl_txn_get_increment_new_value(txn);
    }
    ovsdb_idl_txn_destroy(txn);
    ovsdb_symbol_table_destroy(symtab);

    for (size_t i = 0; i < pa->n_commands; i++) {
        struct ctl_command *c = &pa->commands[i];

        if (c->table) {
            table_print(c->table, &pa->table_style);
        } else if (c->output.length || pa->oneline) {
            print_output(&c->output, pa->oneline);
        }
    }
    fflush(stdout);
    return true;

try_again:
    ovsdb_idl_txn_abort(txn);
    ovsdb_idl_txn_destroy(txn);
    ovsdb_symbol_table_destroy(symtab);
    return false;
}

int
main(int argc, char *argv[])
{
    struct parsed_args pa;
    struct ovsdb_idl *idl;
    long long int deadline;
    unsigned int seqno;
    bool cluster;

    set_program_name(argv[0]);
    fatal_ignore_sigpipe();
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_ERR);
    ctl_init__(&ovslbrec_idl_class, table_classes, NULL, NULL);
    ctl_register_commands(verbs);
    parse_options(argc, argv, &pa);

    deadline = pa.timeout ? time_msec() + pa.timeout * 1000LL : LLONG_MAX;
    /* One remote: fail at once if it cannot be reached.  Several (a Raft
     * cluster): keep trying them, and write through the leader.  Every
     * column is replicated, so the commands need no prerequisites. */
    cluster = strchr(pa.db, ',') != NULL;
    idl = ovsdb_idl_create(pa.db, &ovslbrec_idl_class, true, cluster);
    ovsdb_idl_set_leader_only(idl, cluster);

    int64_t cfg = 0;
    seqno = ovsdb_idl_get_seqno(idl);
    for (;;) {
        ovsdb_idl_run(idl);
        if (!ovsdb_idl_is_alive(idl)) {
            int retval = ovsdb_idl_get_last_error(idl);

            ovsdb_idl_destroy(idl);
            db_error("%s: database connection failed (%s)%s", pa.db,
                     ovs_retval_to_string(retval),
                     connection_hint(pa.db, retval));
        }
        if (seqno != ovsdb_idl_get_seqno(idl)) {
            seqno = ovsdb_idl_get_seqno(idl);
            if (run_commands(idl, &pa, deadline, &cfg)) {
                break;
            }
        }
        if (seqno == ovsdb_idl_get_seqno(idl)) {
            ovsdb_idl_wait(idl);
            check_deadline(deadline, pa.db);
            poll_block();
        }
    }

    if (cfg > 0) {
        wait_for_nodes(idl, pa.wait, cfg, deadline, pa.db);
    }

    ovsdb_idl_destroy(idl);
    free_commands(&pa);
    free(pa.db);
    return EXIT_OK;
}
