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
 * store: the per-node SQLite journal (see store.h).
 */
#include <config.h>
#include "store.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "coverage.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(store);

COVERAGE_DEFINE(store_coalesced);
COVERAGE_DEFINE(store_flush);
COVERAGE_DEFINE(store_flush_error);
COVERAGE_DEFINE(store_load_rejected);
COVERAGE_DEFINE(store_rejected);

/* How long one SQLite call waits for a lock held by another connection
 * (e.g. ovslb-ctl reading the file) before the write fails and is retried
 * later.  The daemon's loop is blocked meanwhile, so keep it short. */
#define STORE_BUSY_TIMEOUT_MS 100

/* Retry delays after a failed flush: doubling from 'flush_ms' (at least
 * STORE_RETRY_MIN_MS) up to STORE_RETRY_MAX_MS. */
#define STORE_RETRY_MIN_MS 100
#define STORE_RETRY_MAX_MS 5000

/* Bounds on what the store accepts from a file's schema. */
#define STORE_MAX_TABLES 64
#define STORE_MAX_TABLE_NAME 64

/* The schemas.  Each text is identical to schema/<role>.sql, which
 * tests/check-store.c verifies. */
static const char lb_node_sql[] =
    "-- ovslb LB node store: the journal of ovslb-controller's hot state.\n"
    "--\n"
    "-- This is the whole schema at the version that 'PRAGMA user_version'\n"
    "-- sets at the end.  lib/store.c embeds an identical copy\n"
    "-- (tests/check-store.c compares the two) and applies it to a new\n"
    "-- file, and to an older file after that version's migration steps, so\n"
    "-- every statement here must be idempotent.  A new version adds a\n"
    "-- migration step in lib/store.c and raises user_version here.\n"
    "--\n"
    "-- Every table is a record table: 'key' and 'value' are blobs whose\n"
    "-- layout belongs to the module that journals them, 'expires_at' is a\n"
    "-- wall-clock time in ms since the epoch after which the record is\n"
    "-- stale (0: never).\n"
    "\n"
    "-- Identifies the file as an LB node store ('OVLB'), so that a server\n"
    "-- node store or a foreign database is refused.\n"
    "PRAGMA application_id = 1331055682;\n"
    "\n"
    "-- Node identity and schema facts.  The 'role' key is the store's.\n"
    "CREATE TABLE IF NOT EXISTS meta (\n"
    "    key BLOB PRIMARY KEY NOT NULL,\n"
    "    value BLOB NOT NULL,\n"
    "    expires_at INTEGER NOT NULL DEFAULT 0\n"
    ") WITHOUT ROWID;\n"
    "INSERT OR IGNORE INTO meta (key, value)\n"
    "    VALUES (CAST('role' AS BLOB), CAST('lb-node' AS BLOB));\n"
    "\n"
    "-- Flow-tracker entries (this node as PFT or SFT), keyed by CP pair.\n"
    "CREATE TABLE IF NOT EXISTS tracker (\n"
    "    key BLOB PRIMARY KEY NOT NULL,\n"
    "    value BLOB NOT NULL,\n"
    "    expires_at INTEGER NOT NULL DEFAULT 0\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX IF NOT EXISTS tracker_expires_at\n"
    "    ON tracker (expires_at) WHERE expires_at != 0;\n"
    "\n"
    "-- Ingress mappings this node installed, keyed by CP pair.\n"
    "CREATE TABLE IF NOT EXISTS mapping (\n"
    "    key BLOB PRIMARY KEY NOT NULL,\n"
    "    value BLOB NOT NULL,\n"
    "    expires_at INTEGER NOT NULL DEFAULT 0\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX IF NOT EXISTS mapping_expires_at\n"
    "    ON mapping (expires_at) WHERE expires_at != 0;\n"
    "\n"
    "-- (Version 1 had a table 'lease' for received connection publications;\n"
    "-- a lease is the 'expires_at' of a tracker or mapping record, so version\n"
    "-- 2 drops it.)\n"
    "\n"
    "-- The gossip heartbeat table, keyed by node.\n"
    "CREATE TABLE IF NOT EXISTS heartbeat (\n"
    "    key BLOB PRIMARY KEY NOT NULL,\n"
    "    value BLOB NOT NULL,\n"
    "    expires_at INTEGER NOT NULL DEFAULT 0\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX IF NOT EXISTS heartbeat_expires_at\n"
    "    ON heartbeat (expires_at) WHERE expires_at != 0;\n"
    "\n"
    "PRAGMA user_version = 2;\n";

static const char server_node_sql[] =
    "-- ovslb server node store: the journal of ovslb-agent's hot state.\n"
    "--\n"
    "-- This is the whole schema at the version that 'PRAGMA user_version'\n"
    "-- sets at the end.  lib/store.c embeds an identical copy\n"
    "-- (tests/check-store.c compares the two) and applies it to a new\n"
    "-- file, and to an older file after that version's migration steps, so\n"
    "-- every statement here must be idempotent.  A new version adds a\n"
    "-- migration step in lib/store.c and raises user_version here.\n"
    "--\n"
    "-- Every table is a record table: 'key' and 'value' are blobs whose\n"
    "-- layout belongs to the module that journals them, 'expires_at' is a\n"
    "-- wall-clock time in ms since the epoch after which the record is\n"
    "-- stale (0: never).\n"
    "\n"
    "-- Identifies the file as a server node store ('OVSN'), so that an LB\n"
    "-- node store or a foreign database is refused.\n"
    "PRAGMA application_id = 1331057486;\n"
    "\n"
    "-- Node identity and schema facts.  The 'role' key is the store's.\n"
    "CREATE TABLE IF NOT EXISTS meta (\n"
    "    key BLOB PRIMARY KEY NOT NULL,\n"
    "    value BLOB NOT NULL,\n"
    "    expires_at INTEGER NOT NULL DEFAULT 0\n"
    ") WITHOUT ROWID;\n"
    "INSERT OR IGNORE INTO meta (key, value)\n"
    "    VALUES (CAST('role' AS BLOB), CAST('server-node' AS BLOB));\n"
    "\n"
    "-- Connection translation entries (sequence offsets, options), keyed\n"
    "-- by CP pair.\n"
    "CREATE TABLE IF NOT EXISTS xlate (\n"
    "    key BLOB PRIMARY KEY NOT NULL,\n"
    "    value BLOB NOT NULL,\n"
    "    expires_at INTEGER NOT NULL DEFAULT 0\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX IF NOT EXISTS xlate_expires_at\n"
    "    ON xlate (expires_at) WHERE expires_at != 0;\n"
    "\n"
    "PRAGMA user_version = 2;\n";

struct store_schema {
    const char *role_name;      /* "lb-node" or "server-node". */
    uint32_t application_id;    /* Set by 'sql' ('PRAGMA application_id'). */
    const char *sql;            /* The whole schema at STORE_SCHEMA_VERSION,
                                 * idempotent. */

    /* migrations[v] takes a file from version 'v' to 'v + 1' (all of them,
     * in one transaction, then 'sql').  NULL: 'sql' alone does it.
     *
     * To add version 2: write its whole schema in schema/<role>.sql and in
     * 'sql' (raising 'PRAGMA user_version'), raise STORE_SCHEMA_VERSION, and
     * set migrations[1] to the statements that change what 'sql' cannot
     * (ALTER TABLE ... ADD COLUMN, data conversions); new tables and
     * indexes come from 'sql' itself. */
    const char *migrations[STORE_SCHEMA_VERSION];
};

static const struct store_schema store_schemas[] = {
    [STORE_LB_NODE] = {
        .role_name = "lb-node",
        .application_id = 0x4f564c42,   /* 'OVLB' */
        .sql = lb_node_sql,
        .migrations = {
            [0] = NULL,         /* 0 -> 1: everything comes from 'sql'. */
            [1] = "DROP INDEX IF EXISTS lease_expires_at;\n"
                  "DROP TABLE IF EXISTS lease;\n",
        },
    },
    [STORE_SERVER_NODE] = {
        .role_name = "server-node",
        .application_id = 0x4f56534e,   /* 'OVSN' */
        .sql = server_node_sql,
        .migrations = {
            [0] = NULL,         /* 0 -> 1: everything comes from 'sql'. */
            [1] = NULL,         /* 1 -> 2: no change. */
        },
    },
};

/* One table of records and its statements. */
struct store_table {
    char *name;
    uint32_t basis;             /* Hash basis of its keys in the queue. */
    sqlite3_stmt *put;          /* ?1 key, ?2 value, ?3 expires_at. */
    sqlite3_stmt *del;          /* ?1 key. */
    sqlite3_stmt *load;         /* ?1 now. */
    sqlite3_stmt *expire;       /* ?1 now. */
};

/* A queued change: the latest put or delete of one key. */
struct store_change {
    struct hmap_node hmap_node; /* In store's 'queue', by table and key. */
    const struct store_table *table;
    bool is_delete;
    void *value;                /* NULL if 'value_len' is 0 or is_delete. */
    size_t value_len;
    long long int expires_ms;
    size_t key_len;
    uint8_t key[];
};

struct store {
    char *path;
    enum store_role role;
    sqlite3 *db;
    struct shash tables;        /* Name -> struct store_table. */

    struct hmap queue;          /* struct store_change's. */
    size_t queued_bytes;        /* Memory the queue takes. */
    long long int last_now;     /* 'now_ms' of the latest store_run(). */
    long long int batch_start;  /* 'last_now' when the queue last became
                                 * non-empty. */
    long long int retry_at;     /* After a failed flush: when to retry. */
    long long int retry_ms;     /* Delay before that retry (0: none). */
    bool loading;               /* Inside store_load()'s callback? */

    long long int flush_ms;
    size_t batch_max;
    size_t queue_max_bytes;

    struct store_stats stats;
    char *last_error;
};

/* Returns the name of 'role': "lb-node" or "server-node". */
const char *
store_role_name(enum store_role role)
{
    return (role == STORE_LB_NODE ? "lb-node"
            : role == STORE_SERVER_NODE ? "server-node"
            : "unknown");
}

/* Returns the SQL text of the schema of a store of 'role' at
 * STORE_SCHEMA_VERSION, identical to the installed schema/<role>.sql, or
 * NULL if 'role' is not valid. */
const char *
store_schema_sql(enum store_role role)
{
    return (role == STORE_LB_NODE || role == STORE_SERVER_NODE
            ? store_schemas[role].sql : NULL);
}

/* Returns the errno value that stands for SQLite result code 'rc'. */
static int
store_errno(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return 0;
    case SQLITE_FULL:
        return ENOSPC;
    case SQLITE_IOERR:
        return EIO;
    case SQLITE_NOMEM:
        return ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return EBUSY;
    case SQLITE_READONLY:
        return EROFS;
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return EACCES;
    case SQLITE_CANTOPEN:
        return ENOENT;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return EBADMSG;
    case SQLITE_TOOBIG:
        return EMSGSIZE;
    default:
        return EPROTO;
    }
}

/* Records 'msg' (which is freed) as the last error of 'store' and logs
 * it. */
static void
store_set_error(struct store *store, char *msg)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

    VLOG_WARN_RL(&rl, "%s", msg);
    free(store->last_error);
    store->last_error = msg;
}

/* Records SQLite's error 'rc' in doing 'what' as the last error of 'store'
 * and returns the errno value for it. */
static int
store_sqlite_error(struct store *store, const char *what, int rc)
{
    store_set_error(store, xasprintf("%s: %s: %s (%s)", store->path, what,
                                     sqlite3_errmsg(store->db),
                                     sqlite3_errstr(rc)));
    return store_errno(rc);
}

/* Runs 'sql', which may hold several statements, on 'db'. */
static int
store_exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* Runs the one-row query 'sql' on 'db' and stores the integer in its first
 * column in '*value' (0 if there is no row). */
static int
store_query_int(sqlite3 *db, const char *sql, long long int *value)
{
    sqlite3_stmt *stmt;
    int rc;

    *value = 0;
    rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK) {
        return rc;
    }
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *value = sqlite3_column_int64(stmt, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* Runs the one-row query 'sql' on 'db' and stores the text in its first
 * column, at most 'max' bytes of it, in 's' (empty if there is no row). */
static int
store_query_text(sqlite3 *db, const char *sql, size_t max, struct ds *s)
{
    sqlite3_stmt *stmt;
    int rc;

    ds_clear(s);
    rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK) {
        return rc;
    }
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        const unsigned char *text = sqlite3_column_text(stmt, 0);
        size_t len = sqlite3_column_bytes(stmt, 0);

        if (text) {
            ds_put_buffer(s, (const char *) text, MIN(len, max));
        }
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* What the header and catalogue of a file say. */
struct store_identity {
    long long int application_id;
    long long int version;      /* 'PRAGMA user_version'. */
    long long int n_objects;    /* Entries in sqlite_master. */
};

static int
store_read_identity(sqlite3 *db, struct store_identity *id)
{
    int rc = store_query_int(db, "PRAGMA application_id",
                             &id->application_id);
    if (rc == SQLITE_OK) {
        rc = store_query_int(db, "PRAGMA user_version", &id->version);
    }
    if (rc == SQLITE_OK) {
        rc = store_query_int(db, "SELECT count(*) FROM sqlite_master",
                             &id->n_objects);
    }
    return rc;
}

/* Checks that 'id' is that of a store 'schema' may open (perhaps after a
 * migration) or of an empty file.  On failure, returns an errno value and
 * stores an error message in '*msgp'. */
static int
store_check_identity(const struct store *store,
                     const struct store_schema *schema,
                     const struct store_identity *id, char **msgp)
{
    if (id->application_id == 0 && id->version == 0 && id->n_objects == 0) {
        return 0;               /* An empty file: it becomes a store. */
    }
    if (id->application_id != schema->application_id) {
        for (size_t i = 0; i < ARRAY_SIZE(store_schemas); i++) {
            if (id->application_id == store_schemas[i].application_id) {
                *msgp = xasprintf("%s: this is an ovslb %s store, not the "
                                  "%s store expected", store->path,
                                  store_schemas[i].role_name,
                                  schema->role_name);
                return EINVAL;
            }
        }
        *msgp = xasprintf("%s: this is an SQLite database but not an ovslb "
                          "store (application_id %#"PRIx32")",
                          store->path, (uint32_t) id->application_id);
        return EBADMSG;
    }
    if (id->version > STORE_SCHEMA_VERSION) {
        *msgp = xasprintf("%s: store schema version %lld is newer than "
                          "version %d, the newest this ovslb knows; "
                          "refusing to open it (a downgrade needs a new "
                          "store)", store->path, id->version,
                          STORE_SCHEMA_VERSION);
        return ENOTSUP;
    }
    if (id->version < 0) {
        *msgp = xasprintf("%s: store schema version %lld is not valid",
                          store->path, id->version);
        return EBADMSG;
    }
    return 0;
}

/* Brings the file of 'store', whose identity is 'id', to the current
 * version of 'schema'.  The caller holds a write transaction. */
static int
store_migrate(struct store *store, const struct store_schema *schema,
              const struct store_identity *id, char **msgp)
{
    long long int version;
    int rc;

    if (id->n_objects) {
        for (long long int v = id->version; v < STORE_SCHEMA_VERSION; v++) {
            const char *step = schema->migrations[v];

            if (step) {
                rc = store_exec(store->db, step);
                if (rc != SQLITE_OK) {
                    *msgp = xasprintf("%s: migrating store from schema "
                                      "version %lld to %lld: %s",
                                      store->path, v, v + 1,
                                      sqlite3_errmsg(store->db));
                    return store_errno(rc);
                }
            }
        }
    }

    rc = store_exec(store->db, schema->sql);
    if (rc == SQLITE_OK) {
        rc = store_query_int(store->db, "PRAGMA user_version", &version);
    }
    if (rc != SQLITE_OK) {
        *msgp = xasprintf("%s: applying %s schema version %d: %s",
                          store->path, schema->role_name,
                          STORE_SCHEMA_VERSION, sqlite3_errmsg(store->db));
        return store_errno(rc);
    }
    if (version != STORE_SCHEMA_VERSION) {
        *msgp = xasprintf("%s: %s schema set version %lld, expected %d",
                          store->path, schema->role_name, version,
                          STORE_SCHEMA_VERSION);
        return EPROTO;
    }
    if (id->n_objects) {
        VLOG_INFO("%s: migrated store from schema version %lld to %d",
                  store->path, id->version, STORE_SCHEMA_VERSION);
    } else {
        VLOG_INFO("%s: created %s store, schema version %d", store->path,
                  schema->role_name, STORE_SCHEMA_VERSION);
    }
    return 0;
}

static int
store_prepare(struct store *store, sqlite3_stmt **stmtp, const char *format,
              const char *table)
{
    char *sql = sqlite3_mprintf(format, table);
    int rc;

    if (!sql) {
        *stmtp = NULL;
        return SQLITE_NOMEM;
    }
    rc = sqlite3_prepare_v3(store->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                            stmtp, NULL);
    sqlite3_free(sql);
    return rc;
}

static void
store_table_destroy(struct store_table *t)
{
    if (t) {
        sqlite3_finalize(t->put);
        sqlite3_finalize(t->del);
        sqlite3_finalize(t->load);
        sqlite3_finalize(t->expire);
        free(t->name);
        free(t);
    }
}

/* Finds the record tables of the file of 'store' and prepares their
 * statements. */
static int
store_add_tables(struct store *store, char **msgp)
{
    sqlite3_stmt *list;
    int rc;

    rc = sqlite3_prepare_v2(store->db,
                            "SELECT name FROM sqlite_master "
                            "WHERE type = 'table' "
                            "AND name NOT LIKE 'sqlite!_%' ESCAPE '!' "
                            "ORDER BY name", -1, &list, NULL);
    if (rc != SQLITE_OK) {
        *msgp = xasprintf("%s: listing tables: %s", store->path,
                          sqlite3_errmsg(store->db));
        return store_errno(rc);
    }
    while ((rc = sqlite3_step(list)) == SQLITE_ROW) {
        const char *name = (const char *) sqlite3_column_text(list, 0);
        struct store_table *t;

        if (!name || !name[0] || strlen(name) > STORE_MAX_TABLE_NAME
            || shash_count(&store->tables) >= STORE_MAX_TABLES) {
            *msgp = xasprintf("%s: unexpected table in store", store->path);
            sqlite3_finalize(list);
            return EBADMSG;
        }

        t = xzalloc(sizeof *t);
        t->name = xstrdup(name);
        t->basis = hash_string(name, 0);
        shash_add(&store->tables, name, t);

        rc = store_prepare(store, &t->put,
                           "INSERT OR REPLACE INTO \"%w\" "
                           "(key, value, expires_at) VALUES (?1, ?2, ?3)",
                           name);
        if (rc == SQLITE_OK) {
            rc = store_prepare(store, &t->del,
                               "DELETE FROM \"%w\" WHERE key = ?1", name);
        }
        if (rc == SQLITE_OK) {
            rc = store_prepare(store, &t->load,
                               "SELECT key, value, expires_at FROM \"%w\" "
                               "WHERE expires_at = 0 OR expires_at > ?1",
                               name);
        }
        if (rc == SQLITE_OK) {
            rc = store_prepare(store, &t->expire,
                               "DELETE FROM \"%w\" WHERE expires_at != 0 "
                               "AND expires_at <= ?1", name);
        }
        if (rc != SQLITE_OK) {
            *msgp = xasprintf("%s: table \"%s\" is not a record table: %s",
                              store->path, name, sqlite3_errmsg(store->db));
            sqlite3_finalize(list);
            return EBADMSG;
        }
    }
    sqlite3_finalize(list);
    if (rc != SQLITE_DONE) {
        *msgp = xasprintf("%s: listing tables: %s", store->path,
                          sqlite3_errmsg(store->db));
        return store_errno(rc);
    }
    return 0;
}

static void
store_destroy(struct store *store)
{
    struct store_change *c;
    struct shash_node *node;

    HMAP_FOR_EACH_POP (c, hmap_node, &store->queue) {
        free(c->value);
        free(c);
    }
    hmap_destroy(&store->queue);
    SHASH_FOR_EACH (node, &store->tables) {
        store_table_destroy(node->data);
    }
    shash_destroy(&store->tables);
    if (store->db) {
        int rc = sqlite3_close(store->db);
        if (rc != SQLITE_OK) {
            VLOG_ERR("%s: closing: %s", store->path, sqlite3_errstr(rc));
        }
    }
    free(store->last_error);
    free(store->path);
    free(store);
}

/* Does the part of store_open() that may fail after 'store' is
 * allocated. */
static int
store_open__(struct store *store, char **msgp)
{
    const struct store_schema *schema = &store_schemas[store->role];
    struct ds text = DS_EMPTY_INITIALIZER;
    struct store_identity id;
    const char *what;
    int error, rc;

    rc = sqlite3_open_v2(store->path, &store->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                         | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        int sys_errno = store->db ? sqlite3_system_errno(store->db) : 0;

        *msgp = xasprintf("%s: cannot open store: %s%s%s", store->path,
                          store->db ? sqlite3_errmsg(store->db)
                                    : sqlite3_errstr(rc),
                          sys_errno ? ": " : "",
                          sys_errno ? ovs_strerror(sys_errno) : "");
        return sys_errno ? sys_errno : store_errno(rc);
    }
    if (sqlite3_db_readonly(store->db, "main") == 1) {
        *msgp = xasprintf("%s: cannot open store for writing (file is "
                          "read-only)", store->path);
        return EACCES;
    }
    sqlite3_extended_result_codes(store->db, 1);
    sqlite3_busy_timeout(store->db, STORE_BUSY_TIMEOUT_MS);
    sqlite3_db_config(store->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(store->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);

    /* Look before changing anything, so that a file that is not ours, or
     * is damaged, is left as it is. */
    what = "checking store";
    rc = store_query_text(store->db, "PRAGMA quick_check(1)", 200, &text);
    if (rc != SQLITE_OK) {
        goto sqlite_error;
    }
    if (strcmp(ds_cstr(&text), "ok")) {
        *msgp = xasprintf("%s: store is corrupt (%s); move it aside to "
                          "start with an empty one", store->path,
                          ds_cstr(&text));
        error = EBADMSG;
        goto out;
    }
    what = "reading store header";
    rc = store_read_identity(store->db, &id);
    if (rc != SQLITE_OK) {
        goto sqlite_error;
    }
    error = store_check_identity(store, schema, &id, msgp);
    if (error) {
        goto out;
    }

    what = "setting WAL mode";
    rc = store_query_text(store->db, "PRAGMA journal_mode = WAL", 16, &text);
    if (rc != SQLITE_OK) {
        goto sqlite_error;
    }
    if (strcmp(ds_cstr(&text), "wal")) {
        VLOG_WARN("%s: file system does not support WAL mode, store uses "
                  "journal mode \"%s\"", store->path, ds_cstr(&text));
    }
    what = "setting synchronous mode";
    rc = store_exec(store->db, "PRAGMA synchronous = NORMAL");
    if (rc != SQLITE_OK) {
        goto sqlite_error;
    }

    /* Create or migrate.  Look again inside the transaction, in case
     * another process created the store meanwhile. */
    what = "starting transaction";
    rc = store_exec(store->db, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK) {
        goto sqlite_error;
    }
    what = "reading store header";
    rc = store_read_identity(store->db, &id);
    if (rc != SQLITE_OK) {
        goto sqlite_error;
    }
    error = store_check_identity(store, schema, &id, msgp);
    if (!error && id.version < STORE_SCHEMA_VERSION) {
        error = store_migrate(store, schema, &id, msgp);
    }
    if (error) {
        goto out;
    }
    what = "committing schema";
    rc = store_exec(store->db, "COMMIT");
    if (rc != SQLITE_OK) {
        goto sqlite_error;
    }

    error = store_add_tables(store, msgp);
    goto out;

sqlite_error:
    *msgp = xasprintf("%s: %s: %s%s", store->path, what,
                      sqlite3_errmsg(store->db),
                      ((rc & 0xff) == SQLITE_CORRUPT
                       || (rc & 0xff) == SQLITE_NOTADB
                       ? " (if this is the store, move it aside to start "
                         "with an empty one)"
                       : ""));
    error = store_errno(rc);
out:
    if (error && !sqlite3_get_autocommit(store->db)) {
        store_exec(store->db, "ROLLBACK");
    }
    ds_destroy(&text);
    return error;
}

/* Opens the store of a node of 'role' in the file named 'path', creating
 * it if it does not exist or is empty and migrating it if its schema is
 * older than STORE_SCHEMA_VERSION, and stores it in '*storep'.
 *
 * Returns 0 if successful.  On failure, returns a positive errno value
 * (EBADMSG: not an SQLite file, damaged, or not an ovslb store; EINVAL: a
 * store of the other role; ENOTSUP: a newer schema; EACCES: read-only;
 * others: from the file system), stores NULL in '*storep' and, if 'errp'
 * is nonnull, stores in '*errp' a message naming 'path' that the caller
 * must free.  Never modifies a file that it refuses. */
int
store_open(const char *path, enum store_role role, struct store **storep,
           char **errp)
{
    struct store *store;
    char *msg = NULL;
    int error;

    *storep = NULL;
    if (errp) {
        *errp = NULL;
    }
    if (role != STORE_LB_NODE && role != STORE_SERVER_NODE) {
        if (errp) {
            *errp = xasprintf("%s: unknown store role %d", path, (int) role);
        }
        return EINVAL;
    }

    store = xzalloc(sizeof *store);
    store->path = xstrdup(path);
    store->role = role;
    shash_init(&store->tables);
    hmap_init(&store->queue);
    store->flush_ms = STORE_DEFAULT_FLUSH_MS;
    store->batch_max = STORE_DEFAULT_BATCH_MAX;
    store->queue_max_bytes = STORE_DEFAULT_QUEUE_MAX_BYTES;

    error = store_open__(store, &msg);
    if (error) {
        VLOG_WARN("%s", msg);
        if (errp) {
            *errp = msg;
        } else {
            free(msg);
        }
        store_destroy(store);
        return error;
    }
    *storep = store;
    return 0;
}

/* Writes the changes queued in 'store', then closes and frees it.  Returns 0
 * if the last changes were written, otherwise a positive errno value (the
 * store is closed all the same, and the changes lost are logged).  Does
 * nothing and returns 0 if 'store' is NULL. */
int
store_close(struct store *store)
{
    int error = 0;

    if (store) {
        size_t n = hmap_count(&store->queue);

        error = store_flush(store);
        if (error) {
            VLOG_ERR("%s: closing store lost %"PRIuSIZE" changes: %s",
                     store->path, n, ovs_strerror(error));
        }
        store_destroy(store);
    }
    return error;
}

/* Sets the write-behind limits of 'store': store_run() writes the queued
 * changes once the first of them is 'flush_ms' old or there are
 * 'batch_max' of them, and store_put() writes them at once when they would
 * take more than 'queue_max_bytes' of memory.  A 'flush_ms' below 0, or a
 * 'batch_max' or 'queue_max_bytes' of 0, leaves that limit as it is. */
void
store_set_limits(struct store *store, long long int flush_ms,
                 size_t batch_max, size_t queue_max_bytes)
{
    if (flush_ms >= 0) {
        store->flush_ms = flush_ms;
    }
    if (batch_max) {
        store->batch_max = batch_max;
    }
    if (queue_max_bytes) {
        store->queue_max_bytes = queue_max_bytes;
    }
}

/* Limits the file of 'store' to about 'max_bytes' (0: no limit, the
 * default).  A write that would grow the file beyond it fails as if the
 * disk were full.  The file is not shrunk below its present size.
 * Returns 0 or a positive errno value. */
int
store_set_max_size(struct store *store, unsigned long long int max_bytes)
{
    unsigned long long int pages = UINT32_MAX - 1;
    long long int page_size, result;
    char *sql;
    int rc;

    rc = store_query_int(store->db, "PRAGMA page_size", &page_size);
    if (rc != SQLITE_OK) {
        return store_sqlite_error(store, "reading page size", rc);
    }
    if (max_bytes && page_size > 0) {
        pages = max_bytes / (unsigned long long int) page_size;
        pages = (pages < 1 ? 1
                 : pages > UINT32_MAX - 1 ? UINT32_MAX - 1
                 : pages);
    }
    sql = xasprintf("PRAGMA max_page_count = %llu", pages);
    rc = store_query_int(store->db, sql, &result);
    free(sql);
    if (rc != SQLITE_OK) {
        return store_sqlite_error(store, "setting size limit", rc);
    }
    return 0;
}

static size_t
store_change_size(size_t key_len, size_t value_len)
{
    return sizeof(struct store_change) + key_len + value_len;
}

static struct store_change *
store_find_change(const struct store *store, const struct store_table *t,
                  const void *key, size_t key_len, uint32_t hash)
{
    struct store_change *c;

    HMAP_FOR_EACH_WITH_HASH (c, hmap_node, hash, &store->queue) {
        if (c->table == t && c->key_len == key_len
            && !memcmp(c->key, key, key_len)) {
            return c;
        }
    }
    return NULL;
}

static int
store_reject(struct store *store, int error, char *msg)
{
    COVERAGE_INC(store_rejected);
    store->stats.rejected++;
    if (msg) {
        store_set_error(store, msg);
    }
    return error;
}

/* Queues a put ('is_delete' false) or delete of the record with 'key' in
 * 'table'. */
static int
store_queue(struct store *store, const char *table, const void *key,
            size_t key_len, bool is_delete, const void *value,
            size_t value_len, long long int expires_ms)
{
    const struct store_table *t = shash_find_data(&store->tables, table);
    struct store_change *c;
    size_t old_size, new_size;
    uint32_t hash;

    if (!t) {
        return store_reject(store, EINVAL,
                            xasprintf("%s: no table \"%s\" in %s store",
                                      store->path, table,
                                      store_role_name(store->role)));
    }
    if (!key || !key_len || key_len > STORE_MAX_KEY) {
        return store_reject(store, EINVAL,
                            xasprintf("%s: %s: key of %"PRIuSIZE" bytes "
                                      "(must be 1 to %d)", store->path,
                                      table, key_len, STORE_MAX_KEY));
    }
    if (value_len > STORE_MAX_VALUE || (value_len && !value)) {
        return store_reject(store, EINVAL,
                            xasprintf("%s: %s: value of %"PRIuSIZE" bytes "
                                      "(at most %d)", store->path, table,
                                      value_len, STORE_MAX_VALUE));
    }
    if (expires_ms < 0) {
        return store_reject(store, EINVAL,
                            xasprintf("%s: %s: expiry %lld before the epoch",
                                      store->path, table, expires_ms));
    }

    hash = hash_bytes(key, key_len, t->basis);
    c = store_find_change(store, t, key, key_len, hash);
    old_size = c ? store_change_size(key_len, c->value_len) : 0;
    new_size = store_change_size(key_len, value_len);
    if (new_size > old_size && hmap_count(&store->queue)
        && store->queued_bytes - old_size + new_size
           > store->queue_max_bytes) {
        /* The queue is full: write it now.  If that fails, keep the queue
         * and refuse this change, which the caller is told about. */
        int error = store->loading ? ENOBUFS : store_flush(store);
        if (error) {
            return store_reject(store, error, NULL);
        }
        c = NULL;
        old_size = 0;
    }

    if (c) {
        COVERAGE_INC(store_coalesced);
        store->stats.coalesced++;
        free(c->value);
    } else {
        if (hmap_is_empty(&store->queue)) {
            store->batch_start = store->last_now;
        }
        c = xmalloc(sizeof *c + key_len);
        c->table = t;
        c->key_len = key_len;
        memcpy(c->key, key, key_len);
        hmap_insert(&store->queue, &c->hmap_node, hash);
    }
    c->is_delete = is_delete;
    c->value = value_len ? xmemdup(value, value_len) : NULL;
    c->value_len = value_len;
    c->expires_ms = expires_ms;
    store->queued_bytes = store->queued_bytes - old_size + new_size;
    if (is_delete) {
        store->stats.deletes++;
    } else {
        store->stats.puts++;
    }
    return 0;
}

/* Queues writing the record with 'key' ('key_len' bytes, 1 to
 * STORE_MAX_KEY) and 'value' ('value_len' bytes, at most STORE_MAX_VALUE)
 * to 'table' of 'store', replacing any record with that key, to expire at
 * 'expires_ms' (wall clock, ms since the epoch; 0: never).  The record
 * replaces any change to the same key still queued.
 *
 * Returns 0 if the change is queued (it is written later).  Returns EINVAL,
 * without queueing it, if 'table' is not a table of the store or a length
 * or 'expires_ms' is out of range.  If the queue is full, writes it first;
 * if that fails, returns the error (ENOSPC, EIO, ...) without queueing
 * the change, and the queue is kept. */
int
store_put(struct store *store, const char *table,
          const void *key, size_t key_len,
          const void *value, size_t value_len, long long int expires_ms)
{
    return store_queue(store, table, key, key_len, false, value, value_len,
                       expires_ms);
}

/* Queues deleting the record with 'key' ('key_len' bytes) from 'table' of
 * 'store' (which need not hold one).  Returns as store_put() does. */
int
store_delete(struct store *store, const char *table,
             const void *key, size_t key_len)
{
    return store_queue(store, table, key, key_len, true, NULL, 0, 0);
}

static void
store_clear_queue(struct store *store)
{
    struct store_change *c;

    HMAP_FOR_EACH_POP (c, hmap_node, &store->queue) {
        free(c->value);
        free(c);
    }
    hmap_shrink(&store->queue);
    store->queued_bytes = 0;
}

static int
store_write_change(const struct store_change *c)
{
    const struct store_table *t = c->table;
    sqlite3_stmt *stmt = c->is_delete ? t->del : t->put;
    int rc;

    rc = sqlite3_bind_blob(stmt, 1, c->key, c->key_len, SQLITE_STATIC);
    if (rc == SQLITE_OK && !c->is_delete) {
        rc = (c->value_len
              ? sqlite3_bind_blob(stmt, 2, c->value, c->value_len,
                                  SQLITE_STATIC)
              : sqlite3_bind_zeroblob(stmt, 2, 0));
        if (rc == SQLITE_OK) {
            rc = sqlite3_bind_int64(stmt, 3, c->expires_ms);
        }
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_DONE) {
            rc = SQLITE_OK;
        }
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rc;
}

/* qsort() comparison function for pointers to struct store_change: by
 * table, then by key as SQLite orders blobs. */
static int
store_change_cmp(const void *a_, const void *b_)
{
    const struct store_change *const *ap = a_;
    const struct store_change *const *bp = b_;
    const struct store_change *a = *ap, *b = *bp;
    int cmp;

    if (a->table != b->table) {
        return a->table < b->table ? -1 : 1;
    }
    cmp = memcmp(a->key, b->key, MIN(a->key_len, b->key_len));
    return (cmp ? cmp
            : a->key_len < b->key_len ? -1
            : a->key_len > b->key_len);
}

/* Rolls back the transaction of 'store', if one is open. */
static void
store_rollback(struct store *store)
{
    if (!sqlite3_get_autocommit(store->db)) {
        int rc = store_exec(store->db, "ROLLBACK");
        if (rc != SQLITE_OK) {
            VLOG_ERR("%s: rollback: %s", store->path,
                     sqlite3_errmsg(store->db));
        }
    }
}

/* Writes all the changes queued in 'store' in one transaction.
 *
 * Returns 0 if successful (or nothing was queued).  On failure, returns a
 * positive errno value (ENOSPC: disk full or over store_set_max_size(),
 * EIO, EBUSY: locked by another process, ...), counts and logs it, records
 * it for store_last_error(), and keeps the changes queued: store_run()
 * tries again later.  Returns EBUSY, writing nothing, if called from a
 * store_load() callback. */
int
store_flush(struct store *store)
{
    struct store_change **changes = NULL;
    struct store_change *c;
    const char *what;
    int error, rc;
    size_t i, n;

    if (store->loading) {
        return EBUSY;
    }
    n = hmap_count(&store->queue);
    if (!n) {
        return 0;
    }

    what = "starting transaction";
    rc = store_exec(store->db, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK) {
        goto error;
    }
    /* In key order, which SQLite's B-trees take much faster than hash
     * order. */
    what = "writing";
    changes = xmalloc(n * sizeof *changes);
    i = 0;
    HMAP_FOR_EACH (c, hmap_node, &store->queue) {
        changes[i++] = c;
    }
    qsort(changes, n, sizeof *changes, store_change_cmp);
    for (i = 0; i < n; i++) {
        rc = store_write_change(changes[i]);
        if (rc != SQLITE_OK) {
            goto error;
        }
    }
    what = "committing";
    rc = store_exec(store->db, "COMMIT");
    if (rc != SQLITE_OK) {
        goto error;
    }

    free(changes);
    COVERAGE_INC(store_flush);
    store->stats.flushes++;
    store->stats.rows_written += n;
    store->retry_ms = 0;
    store_clear_queue(store);
    return 0;

error:
    free(changes);
    COVERAGE_INC(store_flush_error);
    store->stats.flush_errors++;
    error = store_sqlite_error(store, what, rc);
    store_rollback(store);
    store->retry_ms = (store->retry_ms
                       ? MIN(store->retry_ms * 2, STORE_RETRY_MAX_MS)
                       : MIN(MAX(store->flush_ms, STORE_RETRY_MIN_MS),
                             STORE_RETRY_MAX_MS));
    store->retry_at = store->last_now + store->retry_ms;
    return error;
}

/* Returns when store_run() should next be called to write what 'store' has
 * queued, on the clock of store_run()'s 'now_ms': LLONG_MAX if nothing is
 * queued; a time not after the latest 'now_ms' if the batch is due now. */
long long int
store_next_deadline(const struct store *store)
{
    if (hmap_is_empty(&store->queue)) {
        return LLONG_MAX;
    } else if (store->retry_ms) {
        return store->retry_at;
    } else if (hmap_count(&store->queue) >= store->batch_max) {
        return store->batch_start;
    } else {
        return store->batch_start + store->flush_ms;
    }
}

/* Writes what 'store' has queued if the batch is due at 'now_ms' (the poll
 * loop's clock, time_msec()): when its first change is 'flush_ms' old or it
 * holds 'batch_max' changes, or, after a failure, when the retry is due.
 * Call it from the main loop, with store_wait().  Returns 0 or the error of
 * store_flush(). */
int
store_run(struct store *store, long long int now_ms)
{
    store->last_now = now_ms;
    if (hmap_is_empty(&store->queue) || store->loading
        || now_ms < store_next_deadline(store)) {
        return 0;
    }
    return store_flush(store);
}

/* Makes the poll loop wake up when store_run() should be called. */
void
store_wait(const struct store *store)
{
    long long int deadline = store_next_deadline(store);

    if (deadline != LLONG_MAX) {
        poll_timer_wait_until(deadline);
    }
}

/* Writes what 'store' has queued, then calls 'cb' with each record of
 * 'table' that has not expired at 'now_ms' (wall clock, ms since the epoch)
 * and with 'aux'.  'cb' may call store_put() and store_delete(), whose
 * changes are written after the load (while it lasts store_put() refuses a
 * change that would overflow the queue, with ENOBUFS); store_flush(),
 * store_load() and store_expire() return EBUSY meanwhile.
 * Records that are not well-formed (damaged or written by someone else)
 * are skipped and counted in 'load_rejected'.
 *
 * Returns 0 if successful, EINVAL if 'table' is not a table of the store,
 * otherwise a positive errno value (the callback may have seen some
 * records). */
int
store_load(struct store *store, const char *table, long long int now_ms,
           void (*cb)(const struct store_record *, void *aux), void *aux)
{
    const struct store_table *t = shash_find_data(&store->tables, table);
    sqlite3_stmt *stmt;
    int error, rc;

    if (!t) {
        return EINVAL;
    }
    if (store->loading) {
        return EBUSY;
    }
    error = store_flush(store);
    if (error) {
        return error;
    }

    stmt = t->load;
    rc = sqlite3_bind_int64(stmt, 1, now_ms);
    store->loading = true;
    while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct store_record r;

        rc = SQLITE_OK;
        if (sqlite3_column_type(stmt, 0) != SQLITE_BLOB
            || sqlite3_column_type(stmt, 1) != SQLITE_BLOB
            || sqlite3_column_type(stmt, 2) != SQLITE_INTEGER) {
            goto reject;
        }
        r.table = t->name;
        r.key = sqlite3_column_blob(stmt, 0);
        r.key_len = sqlite3_column_bytes(stmt, 0);
        r.value = sqlite3_column_blob(stmt, 1);
        r.value_len = sqlite3_column_bytes(stmt, 1);
        r.expires_ms = sqlite3_column_int64(stmt, 2);
        if (!r.key || !r.key_len || r.key_len > STORE_MAX_KEY
            || r.value_len > STORE_MAX_VALUE || r.expires_ms < 0) {
            goto reject;
        }
        if (!r.value) {
            r.value = "";
        }
        cb(&r, aux);
        continue;

    reject:
        COVERAGE_INC(store_load_rejected);
        store->stats.load_rejected++;
    }
    store->loading = false;
    if (rc != SQLITE_DONE) {
        error = store_sqlite_error(store, "loading", rc);
    }
    sqlite3_reset(stmt);
    return error;
}

/* Writes what 'store' has queued, then deletes from every table the
 * records that have expired at 'now_ms' (wall clock, ms since the epoch),
 * in one transaction, and stores how many in '*n_expired' if it is
 * nonnull.  Returns 0 or a positive errno value. */
int
store_expire(struct store *store, long long int now_ms, size_t *n_expired)
{
    struct shash_node *node;
    const char *what;
    size_t n = 0;
    int error, rc;

    if (n_expired) {
        *n_expired = 0;
    }
    if (store->loading) {
        return EBUSY;
    }
    error = store_flush(store);
    if (error) {
        return error;
    }

    what = "starting transaction";
    rc = store_exec(store->db, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK) {
        goto error;
    }
    what = "expiring";
    SHASH_FOR_EACH (node, &store->tables) {
        const struct store_table *t = node->data;

        rc = sqlite3_bind_int64(t->expire, 1, now_ms);
        if (rc == SQLITE_OK) {
            rc = sqlite3_step(t->expire);
        }
        sqlite3_reset(t->expire);
        if (rc != SQLITE_DONE) {
            goto error;
        }
        n += sqlite3_changes(store->db);
    }
    what = "committing";
    rc = store_exec(store->db, "COMMIT");
    if (rc != SQLITE_OK) {
        goto error;
    }
    store->stats.expired += n;
    if (n_expired) {
        *n_expired = n;
    }
    return 0;

error:
    error = store_sqlite_error(store, what, rc);
    store_rollback(store);
    return error;
}

/* Stores the counters of 'store' in '*stats'. */
void
store_get_stats(const struct store *store, struct store_stats *stats)
{
    *stats = store->stats;
    stats->queued = hmap_count(&store->queue);
    stats->queued_bytes = store->queued_bytes;
}

/* Returns a message describing the latest error of 'store' (a refused
 * change or a failed write or load), or NULL if there has been none.  The
 * message is valid until the next call into 'store'. */
const char *
store_last_error(const struct store *store)
{
    return store->last_error;
}
