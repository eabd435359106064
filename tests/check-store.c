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
 * Check suite of lib/store: records survive closing and reopening the
 * store (a daemon restart), write-behind and coalescing, expiry, failed
 * writes, and damaged, foreign, newer and older files.
 */
#include <config.h>
#include "store.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "openvswitch/vlog.h"
#include "util.h"

/* A temporary directory for the suite, made by main() and removed with
 * all it holds when the suite ends (even if a test failed), and one in it
 * per test, with the path of a store file. */
static char suite_dir[64];
static char tmpdir[128];
static char lb_path[160];

static void
setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/test-XXXXXX", suite_dir);
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(lb_path, sizeof lb_path, "%s/lb.db", tmpdir);
}

static int
remove_entry(const char *path, const struct stat *st OVS_UNUSED,
             int type OVS_UNUSED, struct FTW *ftw OVS_UNUSED)
{
    remove(path);
    return 0;
}

static void
remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
teardown(void)
{
    remove_tree(tmpdir);
}

static struct store *
open_ok(const char *path, enum store_role role)
{
    struct store *store;
    char *err;
    int error = store_open(path, role, &store, &err);

    ck_assert_msg(!error, "store_open(%s): %s (%s)", path,
                  err ? err : "no message", ovs_strerror(error));
    ck_assert_ptr_null(err);
    ck_assert_ptr_nonnull(store);
    return store;
}

/* Opens 'path' as 'role', which must fail with 'expected_error', and
 * returns the error message (which the caller frees). */
static char *
open_fails(const char *path, enum store_role role, int expected_error)
{
    struct store *store = (struct store *) 1;
    char *err = NULL;
    int error = store_open(path, role, &store, &err);

    ck_assert_msg(error == expected_error, "store_open(%s): %s (%s), "
                  "expected %s", path, err ? err : "success",
                  ovs_strerror(error), ovs_strerror(expected_error));
    ck_assert_ptr_null(store);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, path), "message does not name the file: %s",
                  err);
    return err;
}

static void
close_ok(struct store *store)
{
    ck_assert_int_eq(store_close(store), 0);
}

/* Direct access to a store file, as another process would have. */
static sqlite3 *
raw_open(const char *path)
{
    sqlite3 *db;

    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 1000);
    return db;
}

static void
raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = raw_open(path);
    char *msg = NULL;

    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK,
                  "%s: %s", sql, msg ? msg : "?");
    sqlite3_close(db);
}

static long long int
raw_int(const char *path, const char *sql)
{
    sqlite3 *db = raw_open(path);
    sqlite3_stmt *stmt;
    long long int value;

    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
    value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
}

static long long int
raw_count(const char *path, const char *table)
{
    char *sql = xasprintf("SELECT count(*) FROM %s", table);
    long long int n = raw_int(path, sql);

    free(sql);
    return n;
}

static off_t
file_size(const char *path)
{
    struct stat st;

    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_size;
}

static void
write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");

    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, size, f), size);
    ck_assert_int_eq(fclose(f), 0);
}

static void
copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    FILE *out = fopen(to, "wb");
    char buf[4096];
    size_t n;

    ck_assert_ptr_nonnull(in);
    ck_assert_ptr_nonnull(out);
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
    }
    ck_assert(!ferror(in));
    fclose(in);
    ck_assert_int_eq(fclose(out), 0);
}

/* Deterministic pseudo-random bytes (xorshift64). */
static void
fill_random(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t x = seed;

    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = x;
    }
}

/* Records as store_load() delivers them: key "k<i>" with value "v<i>"
 * (padded to 'value_len' bytes) and expiry 'i' * 1000, marked in 'seen'. */
#define MAX_SEEN 100000
struct collect {
    size_t n;                   /* Records delivered. */
    size_t bad;                 /* Records not as written. */
    size_t value_len;           /* Expected value length. */
    bool expiry_by_index;       /* Expect expires_ms == i * 1000? */
    uint8_t *seen;              /* MAX_SEEN flags, or NULL. */
    char last_value[64];        /* Value of the latest record. */
    char table[16];             /* Its table. */
};

static void
collect_cb(const struct store_record *r, void *c_)
{
    struct collect *c = c_;
    char key[32], value[64];
    unsigned int i;

    c->n++;
    ovs_strlcpy(c->table, r->table, sizeof c->table);
    memset(c->last_value, 0, sizeof c->last_value);
    memcpy(c->last_value, r->value,
           MIN(r->value_len, sizeof c->last_value - 1));
    if (r->key_len >= sizeof key) {
        c->bad++;
        return;
    }
    memcpy(key, r->key, r->key_len);
    key[r->key_len] = '\0';
    if (sscanf(key, "k%u", &i) != 1 || i >= MAX_SEEN) {
        c->bad++;
        return;
    }
    snprintf(value, sizeof value, "v%u", i);
    if (c->value_len && (r->value_len != c->value_len
                         || strncmp(r->value, value, strlen(value)))) {
        c->bad++;
    }
    if (c->expiry_by_index && r->expires_ms != i * 1000LL) {
        c->bad++;
    }
    if (c->seen) {
        if (c->seen[i]) {
            c->bad++;
        }
        c->seen[i] = 1;
    }
}

/* Queues records "k<first>".."k<first + n - 1>" in 'table', with values
 * "v<i>" padded with zeros to 'value_len' bytes, expiring at 'i' * 1000
 * if 'expiry' (never otherwise). */
static void
put_range(struct store *store, const char *table, unsigned int first,
          unsigned int n, size_t value_len, bool expiry)
{
    uint8_t *value = xzalloc(value_len);

    for (unsigned int i = first; i < first + n; i++) {
        char key[32];
        int key_len = snprintf(key, sizeof key, "k%u", i);

        memset(value, 0, value_len);
        snprintf((char *) value, value_len, "v%u", i);
        ck_assert_int_eq(store_put(store, table, key, key_len, value,
                                   value_len, expiry ? i * 1000LL : 0), 0);
    }
    free(value);
}

static void
count_cb(const struct store_record *r OVS_UNUSED, void *n_)
{
    size_t *n = n_;

    (*n)++;
}

/* Returns the number of records store_load() delivers from 'table'. */
static size_t
count(struct store *store, const char *table, long long int now)
{
    size_t n = 0;

    ck_assert_int_eq(store_load(store, table, now, count_cb, &n), 0);
    return n;
}

static struct collect
load(struct store *store, const char *table, long long int now,
     size_t value_len)
{
    struct collect c;

    memset(&c, 0, sizeof c);
    c.value_len = value_len;
    ck_assert_int_eq(store_load(store, table, now, collect_cb, &c), 0);
    ck_assert_uint_eq(c.bad, 0);
    return c;
}

/* Write, close, reopen: the records come back ("restart"). */
START_TEST(test_restart)
{
    char *server_path = xasprintf("%s/server.db", tmpdir);
    struct store *store;
    struct collect c;

    store = open_ok(lb_path, STORE_LB_NODE);
    put_range(store, "tracker", 0, 1000, 32, true);
    put_range(store, "mapping", 0, 50, 16, false);
    put_range(store, "heartbeat", 0, 7, 8, false);
    ck_assert_int_eq(store_flush(store), 0);
    put_range(store, "mapping", 50, 50, 16, false);   /* Close writes it. */
    close_ok(store);

    store = open_ok(lb_path, STORE_LB_NODE);
    memset(&c, 0, sizeof c);
    c.value_len = 32;
    c.expiry_by_index = true;
    c.seen = xzalloc(MAX_SEEN);
    ck_assert_int_eq(store_load(store, "tracker", 0, collect_cb, &c), 0);
    ck_assert_uint_eq(c.bad, 0);
    ck_assert_uint_eq(c.n, 1000);
    ck_assert_str_eq(c.table, "tracker");
    for (int i = 0; i < 1000; i++) {
        ck_assert_int_eq(c.seen[i], 1);
    }
    free(c.seen);
    ck_assert_uint_eq(load(store, "mapping", 0, 16).n, 100);
    ck_assert_uint_eq(load(store, "heartbeat", 0, 8).n, 7);

    /* The store writes its role in "meta"; the caller's entries live
     * alongside. */
    ck_assert_int_eq(store_put(store, "meta", "node-id", 7, "lb1", 3, 0), 0);
    close_ok(store);
    store = open_ok(lb_path, STORE_LB_NODE);
    ck_assert_uint_eq(count(store, "meta", 0), 2);
    close_ok(store);
    ck_assert_int_eq(raw_int(lb_path, "SELECT count(*) FROM meta WHERE "
                             "key = CAST('role' AS BLOB) AND "
                             "value = CAST('lb-node' AS BLOB)"), 1);

    /* The server node store, likewise. */
    store = open_ok(server_path, STORE_SERVER_NODE);
    put_range(store, "xlate", 0, 300, 24, true);
    close_ok(store);
    store = open_ok(server_path, STORE_SERVER_NODE);
    memset(&c, 0, sizeof c);
    c.value_len = 24;
    c.expiry_by_index = true;
    ck_assert_int_eq(store_load(store, "xlate", 0, collect_cb, &c), 0);
    ck_assert_uint_eq(c.bad, 0);
    ck_assert_uint_eq(c.n, 300);
    close_ok(store);
    free(server_path);
}
END_TEST

/* A daemon that dies without closing its store: what it flushed comes
 * back, what was still queued is lost, and a torn write-ahead log loses
 * only its incomplete transaction. */
START_TEST(test_crash)
{
    char *wal = xasprintf("%s-wal", lb_path);
    off_t wal_size;
    pid_t pid;
    int status;

    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (!pid) {
        struct store *store = open_ok(lb_path, STORE_LB_NODE);

        put_range(store, "tracker", 0, 100, 16, false);
        ck_assert_int_eq(store_flush(store), 0);
        put_range(store, "mapping", 0, 300, 400, false);
        ck_assert_int_eq(store_flush(store), 0);
        put_range(store, "heartbeat", 0, 10, 16, false);   /* Lost. */
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* Both transactions are in the log, not yet in the main file. */
    wal_size = file_size(wal);
    ck_assert_int_gt(wal_size, 300 * 400);

    /* Tear the end of the second transaction off a copy of the log. */
    char *torn = xasprintf("%s/torn.db", tmpdir);
    char *torn_wal = xasprintf("%s-wal", torn);
    copy_file(lb_path, torn);
    copy_file(wal, torn_wal);
    ck_assert_int_eq(truncate(torn_wal, wal_size - 1000), 0);

    struct store *store = open_ok(lb_path, STORE_LB_NODE);
    ck_assert_uint_eq(load(store, "tracker", 0, 16).n, 100);
    ck_assert_uint_eq(load(store, "mapping", 0, 400).n, 300);
    ck_assert_uint_eq(load(store, "heartbeat", 0, 16).n, 0);
    close_ok(store);

    store = open_ok(torn, STORE_LB_NODE);
    ck_assert_uint_eq(load(store, "tracker", 0, 16).n, 100);
    ck_assert_uint_eq(load(store, "mapping", 0, 400).n, 0);
    close_ok(store);

    free(torn_wal);
    free(torn);
    free(wal);
}
END_TEST

/* The file is in WAL mode and carries the schema version. */
START_TEST(test_wal_and_version)
{
    struct store *store = open_ok(lb_path, STORE_LB_NODE);
    sqlite3 *db = raw_open(lb_path);
    sqlite3_stmt *stmt;

    ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1,
                                        &stmt, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
    ck_assert_str_eq((const char *) sqlite3_column_text(stmt, 0), "wal");
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    ck_assert_int_eq(raw_int(lb_path, "PRAGMA user_version"),
                     STORE_SCHEMA_VERSION);
    close_ok(store);

    /* Reopening a current store changes nothing. */
    store = open_ok(lb_path, STORE_LB_NODE);
    close_ok(store);
    ck_assert_int_eq(raw_int(lb_path, "PRAGMA user_version"),
                     STORE_SCHEMA_VERSION);
}
END_TEST

START_TEST(test_delete)
{
    struct store *store = open_ok(lb_path, STORE_LB_NODE);
    struct store_stats stats;
    struct collect c;

    put_range(store, "tracker", 0, 10, 8, false);
    ck_assert_int_eq(store_flush(store), 0);
    ck_assert_int_eq(raw_count(lb_path, "tracker"), 10);

    /* Delete two written records, a queued one, and one never written. */
    ck_assert_int_eq(store_delete(store, "tracker", "k1", 2), 0);
    ck_assert_int_eq(store_delete(store, "tracker", "k2", 2), 0);
    put_range(store, "tracker", 10, 1, 8, false);
    ck_assert_int_eq(store_delete(store, "tracker", "k10", 3), 0);
    ck_assert_int_eq(store_delete(store, "tracker", "k99", 3), 0);
    /* Deleting a key in one table leaves the same key in another. */
    put_range(store, "mapping", 3, 1, 8, false);
    ck_assert_int_eq(store_delete(store, "tracker", "k3", 2), 0);
    ck_assert_int_eq(store_flush(store), 0);
    store_get_stats(store, &stats);
    ck_assert_uint_eq(stats.deletes, 5);
    ck_assert_uint_eq(stats.coalesced, 1);
    close_ok(store);

    ck_assert_int_eq(raw_count(lb_path, "tracker"), 7);
    store = open_ok(lb_path, STORE_LB_NODE);
    memset(&c, 0, sizeof c);
    c.seen = xzalloc(MAX_SEEN);
    ck_assert_int_eq(store_load(store, "tracker", 0, collect_cb, &c), 0);
    ck_assert_uint_eq(c.n, 7);
    ck_assert(!c.seen[1] && !c.seen[2] && !c.seen[3] && !c.seen[10]);
    ck_assert(c.seen[0] && c.seen[4] && c.seen[9]);
    free(c.seen);
    ck_assert_uint_eq(load(store, "mapping", 0, 8).n, 1);
    close_ok(store);
}
END_TEST

/* Repeated changes to one key are one row and one write. */
START_TEST(test_coalesce)
{
    struct store *store = open_ok(lb_path, STORE_LB_NODE);
    struct store_stats stats;
    struct collect c;

    for (int i = 0; i < 1000; i++) {
        char value[16];
        int len = snprintf(value, sizeof value, "value %d", i);

        ck_assert_int_eq(store_put(store, "tracker", "k0", 2, value, len,
                                   0), 0);
    }
    store_get_stats(store, &stats);
    ck_assert_uint_eq(stats.puts, 1000);
    ck_assert_uint_eq(stats.coalesced, 999);
    ck_assert_uint_eq(stats.queued, 1);
    ck_assert_int_eq(store_flush(store), 0);
    store_get_stats(store, &stats);
    ck_assert_uint_eq(stats.flushes, 1);
    ck_assert_uint_eq(stats.rows_written, 1);
    ck_assert_uint_eq(stats.queued, 0);
    ck_assert_uint_eq(stats.queued_bytes, 0);
    ck_assert_int_eq(raw_count(lb_path, "tracker"), 1);

    c = load(store, "tracker", 0, 0);
    ck_assert_uint_eq(c.n, 1);
    ck_assert_str_eq(c.last_value, "value 999");

    /* A put then a delete of one key writes only the delete. */
    ck_assert_int_eq(store_put(store, "mapping", "k5", 2, "x", 1, 0), 0);
    ck_assert_int_eq(store_delete(store, "mapping", "k5", 2), 0);
    ck_assert_int_eq(store_flush(store), 0);
    ck_assert_int_eq(raw_count(lb_path, "mapping"), 0);
    store_get_stats(store, &stats);
    ck_assert_uint_eq(stats.rows_written, 2);

    /* An empty flush writes nothing. */
    ck_assert_int_eq(store_flush(store), 0);
    store_get_stats(store, &stats);
    ck_assert_uint_eq(stats.flushes, 2);
    close_ok(store);
}
END_TEST

/* Nothing reaches the file before the batch is due. */
START_TEST(test_write_behind)
{
    struct store *store = open_ok(lb_path, STORE_LB_NODE);
    struct store_stats stats;

    store_set_limits(store, 100, 4096, 0);
    ck_assert_int_eq(store_next_deadline(store), LLONG_MAX);
    ck_assert_int_eq(store_run(store, 1000), 0);

    put_range(store, "tracker", 0, 10, 8, false);
    ck_assert_int_eq(raw_count(lb_path, "tracker"), 0);
    ck_assert_int_eq(store_next_deadline(store), 1100);
    ck_assert_int_eq(store_run(store, 1050), 0);
    put_range(store, "tracker", 10, 10, 8, false);
    ck_assert_int_eq(store_run(store, 1099), 0);
    ck_assert_int_eq(raw_count(lb_path, "tracker"), 0);
    store_get_stats(store, &stats);
    ck_assert_uint_eq(stats.flushes, 0);
    ck_assert_uint_eq(stats.queued, 20);

    ck_assert_int_eq(store_run(store, 1100), 0);
    ck_assert_int_eq(raw_count(lb_path, "tracker"), 20);
    store_get_stats(store, &stats);
    ck_assert_uint_eq(stats.flushes, 1);
    ck_assert_uint_eq(stats.queued, 0);
    ck_assert_int_eq(store_next_deadline(store), LLONG_MAX);

    /* The next batch's age counts from the latest store_run(). */
    ck_assert_int_eq(store_run(store, 5000), 0);
    put_range(store, "tracker", 20, 1, 8, false);
    ck_assert_int_eq(store_next_deadline(store), 5100);

    /* A batch of 'batch_max' changes is due at once. */
    store_set_limits(store, 100, 5, 0);
    put_range(store, "tracker", 21, 3, 8, false);
    ck_assert_int_eq(store_next_deadline(store), 5100);
    put_range(store, "tracker", 24, 1, 8, false);
    ck_assert_int_le(store_next_deadline(store), 5000);
    ck_assert_int_eq(store_run(store, 5000), 0);
    ck_assert_int_eq(raw_count(lb_path, "tracker"), 25);

    /* A queue over 'queue_max_bytes' is written by store_put() itself. */
    store_set_limits(store, 100000, 100000, 4096);
    put_range(store, "mapping", 0, 200, 64, false);
    ck_assert_int_gt(raw_count(lb_path, "mapping"), 0);
    store_get_stats(store, &stats);
    ck_assert_uint_gt(stats.flushes, 2);
    ck_assert_uint_le(stats.queued_bytes, 4096);
    close_ok(store);
    ck_assert_int_eq(raw_count(lb_path, "mapping"), 200);
}
END_TEST

START_TEST(test_expiry)
{
    struct store *store = open_ok(lb_path, STORE_LB_NODE);
    struct store_stats stats;
    size_t n;

    ck_assert_int_eq(store_put(store, "tracker", "k5", 2, "v5", 2, 5000), 0);
    ck_assert_int_eq(store_put(store, "tracker", "k0", 2, "v0", 2, 0), 0);
    ck_assert_int_eq(store_put(store, "tracker", "k20", 3, "v20", 3,
                               20000), 0);
    ck_assert_int_eq(store_put(store, "mapping", "k7", 2, "v7", 2, 7000), 0);

    /* store_load() writes the queue first, then skips expired records. */
    ck_assert_uint_eq(load(store, "tracker", 4999, 0).n, 3);
    ck_assert_uint_eq(load(store, "tracker", 5000, 0).n, 2);
    ck_assert_uint_eq(load(store, "tracker", 10000, 0).n, 2);
    ck_assert_uint_eq(load(store, "tracker", 20000, 0).n, 1);
    ck_assert_uint_eq(load(store, "mapping", 10000, 0).n, 0);
    ck_assert_int_eq(raw_count(lb_path, "tracker"), 3);

    ck_assert_int_eq(store_expire(store, 10000, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(raw_count(lb_path, "tracker"), 2);
    ck_assert_int_eq(raw_count(lb_path, "mapping"), 0);
    ck_assert_int_eq(store_expire(store, 10000, &n), 0);
    ck_assert_uint_eq(n, 0);
    store_get_stats(store, &stats);
    ck_assert_uint_eq(stats.expired, 2);
    close_ok(store);

    store = open_ok(lb_path, STORE_LB_NODE);
    ck_assert_uint_eq(load(store, "tracker", 0, 0).n, 2);
    ck_assert_int_eq(store_expire(store, LLONG_MAX, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(load(store, "tracker", LLONG_MAX, 0).n, 1);
    close_ok(store);
}
END_TEST

/* 100k changes in one transaction. */
START_TEST(test_big_batch)
{
    struct store *store = open_ok(lb_path, STORE_LB_NODE);
    struct store_stats stats;
    struct collect c;

    store_set_limits(store, 1000000, 1000000, 256 * 1024 * 1024);
    put_range(store, "tracker", 0, 100000, 48, false);
    ck_assert_int_eq(raw_count(lb_path, "tracker"), 0);
    ck_assert_int_eq(store_flush(store), 0);
    store_get_stats(store, &stats);
    ck_assert_uint_eq(stats.flushes, 1);
    ck_assert_uint_eq(stats.rows_written, 100000);
    ck_assert_int_eq(raw_count(lb_path, "tracker"), 100000);
    close_ok(store);

    store = open_ok(lb_path, STORE_LB_NODE);
    memset(&c, 0, sizeof c);
    c.value_len = 48;
    c.seen = xzalloc(MAX_SEEN);
    ck_assert_int_eq(store_load(store, "tracker", 0, collect_cb, &c), 0);
    ck_assert_uint_eq(c.bad, 0);
    ck_assert_uint_eq(c.n, 100000);
    free(c.seen);
    close_ok(store);
}
END_TEST

/* Writes an LB node store with enough records to span many pages and
 * returns its size. */
static off_t
write_store(const char *path)
{
    struct store *store = open_ok(path, STORE_LB_NODE);
    char *wal = xasprintf("%s-wal", path);

    put_range(store, "tracker", 0, 2000, 100, true);
    put_range(store, "mapping", 0, 500, 100, false);
    close_ok(store);
    ck_assert_int_eq(access(wal, F_OK), -1);   /* All in the main file. */
    free(wal);
    return file_size(path);
}

START_TEST(test_truncated)
{
    off_t size = write_store(lb_path);
    char *err;

    ck_assert_int_gt(size, 100000);

    /* Half a file: the header promises pages that are missing. */
    ck_assert_int_eq(truncate(lb_path, size / 2), 0);
    err = open_fails(lb_path, STORE_LB_NODE, EBADMSG);
    ck_assert_msg(strstr(err, "malformed") && strstr(err, "move it aside"),
                  "%s", err);
    free(err);
    ck_assert_int_eq(file_size(lb_path), size / 2);     /* Left as is. */

    /* Less than a page. */
    ck_assert_int_eq(truncate(lb_path, 100), 0);
    err = open_fails(lb_path, STORE_LB_NODE, EBADMSG);
    ck_assert_msg(strstr(err, "malformed"), "%s", err);
    free(err);
    ck_assert_int_eq(file_size(lb_path), 100);

    /* Less than a header. */
    ck_assert_int_eq(truncate(lb_path, 10), 0);
    err = open_fails(lb_path, STORE_LB_NODE, EBADMSG);
    ck_assert_msg(strstr(err, "not a database"), "%s", err);
    free(err);

    /* An empty file (e.g. a crash while creating it) becomes a store. */
    ck_assert_int_eq(truncate(lb_path, 0), 0);
    struct store *store = open_ok(lb_path, STORE_LB_NODE);
    put_range(store, "tracker", 0, 5, 8, false);
    close_ok(store);
    ck_assert_int_eq(raw_count(lb_path, "tracker"), 5);
}
END_TEST

START_TEST(test_garbage)
{
    size_t size = 65536;
    uint8_t *data = xmalloc(size);
    char *err;

    /* Random bytes. */
    fill_random(data, size, 42);
    unlink(lb_path);
    write_file(lb_path, data, size);
    err = open_fails(lb_path, STORE_LB_NODE, EBADMSG);
    ck_assert_msg(strstr(err, "not a database"), "%s", err);
    free(err);

    /* A valid SQLite header followed by garbage. */
    ck_assert_int_eq(unlink(lb_path), 0);
    write_store(lb_path);
    fill_random(data, size, 43);
    int fd = open(lb_path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, data + 100, 4096 - 100, 100), 4096 - 100);
    ck_assert_int_eq(close(fd), 0);
    err = open_fails(lb_path, STORE_LB_NODE, EBADMSG);
    ck_assert_msg(strstr(err, "move it aside"), "%s", err);
    free(err);

    /* Pages in the middle overwritten: caught by the check on open. */
    ck_assert_int_eq(unlink(lb_path), 0);
    off_t file = write_store(lb_path);
    fd = open(lb_path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, data, 3 * 4096, file / 2 / 4096 * 4096),
                     3 * 4096);
    ck_assert_int_eq(close(fd), 0);
    err = open_fails(lb_path, STORE_LB_NODE, EBADMSG);
    ck_assert_msg(strstr(err, "corrupt") || strstr(err, "malformed"),
                  "%s", err);
    free(err);
    free(data);
}
END_TEST

/* Records that the store did not write, of the wrong type or size, are
 * skipped by store_load() and counted. */
START_TEST(test_hostile_rows)
{
    struct store *store = open_ok(lb_path, STORE_LB_NODE);
    struct store_stats stats;
    struct collect c;

    put_range(store, "tracker", 0, 3, 8, false);
    ck_assert_int_eq(store_flush(store), 0);
    raw_exec(lb_path,
             "INSERT INTO tracker VALUES ('k100', X'00', 0);"
             "INSERT INTO tracker VALUES (X'6b313031', 'text', 0);"
             "INSERT INTO tracker VALUES (X'6b313032', X'00', 'soon');"
             "INSERT INTO tracker VALUES (randomblob(2000), X'00', 0);"
             "INSERT INTO tracker VALUES (X'6b313033', zeroblob(70000), 0);"
             "INSERT INTO tracker VALUES (X'', X'00', 0);"
             "INSERT INTO tracker VALUES (X'6b313034', X'', 0);");
    c = load(store, "tracker", 0, 0);
    ck_assert_uint_eq(c.n, 4);          /* k0..k2 and k104. */
    store_get_stats(store, &stats);
    ck_assert_uint_eq(stats.load_rejected, 6);
    close_ok(store);
}
END_TEST

static void
load_and_put_cb(const struct store_record *r, void *store_)
{
    struct store *store = store_;

    ck_assert_int_eq(store_flush(store), EBUSY);
    ck_assert_int_eq(store_load(store, "mapping", 0, load_and_put_cb, store),
                     EBUSY);
    ck_assert_int_eq(store_put(store, "mapping", r->key, r->key_len,
                               r->value, r->value_len, 0), 0);
}

struct put_results {
    struct store *store;
    size_t ok, enobufs;
};

static void
load_and_count_puts_cb(const struct store_record *r, void *results_)
{
    struct put_results *results = results_;
    int error = store_put(results->store, "heartbeat", r->key, r->key_len,
                          r->value, r->value_len, 0);

    if (!error) {
        results->ok++;
    } else if (error == ENOBUFS) {
        results->enobufs++;
    }
}

/* A load callback may queue changes, but cannot make the store write. */
START_TEST(test_load_callback_puts)
{
    struct store *store = open_ok(lb_path, STORE_LB_NODE);
    struct put_results results = { .store = store };
    struct store_stats stats;

    put_range(store, "tracker", 0, 20, 8, false);
    ck_assert_int_eq(store_load(store, "tracker", 0, load_and_put_cb, store),
                     0);
    ck_assert_int_eq(raw_count(lb_path, "mapping"), 0);
    ck_assert_int_eq(store_flush(store), 0);
    ck_assert_int_eq(raw_count(lb_path, "mapping"), 20);

    /* With a full queue, changes are refused until the load is over. */
    store_set_limits(store, -1, 0, 1);
    ck_assert_int_eq(store_load(store, "tracker", 0, load_and_count_puts_cb,
                                &results), 0);
    ck_assert_uint_eq(results.ok, 1);
    ck_assert_uint_eq(results.enobufs, 19);
    store_get_stats(store, &stats);
    ck_assert_uint_eq(stats.rejected, 19);
    close_ok(store);
    ck_assert_int_eq(raw_count(lb_path, "heartbeat"), 1);
}
END_TEST

START_TEST(test_bad_input)
{
    char *server_path = xasprintf("%s/server.db", tmpdir);
    struct store *store = open_ok(lb_path, STORE_LB_NODE);
    uint8_t *big = xzalloc(STORE_MAX_VALUE + 1);
    struct store_stats stats;
    struct collect c;

    ck_assert_ptr_null(store_last_error(store));
    ck_assert_int_eq(store_put(store, "nosuch", "k", 1, "v", 1, 0), EINVAL);
    ck_assert_ptr_nonnull(strstr(store_last_error(store), "nosuch"));
    ck_assert_int_eq(store_put(store, "xlate", "k", 1, "v", 1, 0), EINVAL);
    ck_assert_int_eq(store_delete(store, "sqlite_master", "k", 1), EINVAL);
    ck_assert_int_eq(store_put(store, "tracker", "", 0, "v", 1, 0), EINVAL);
    ck_assert_int_eq(store_put(store, "tracker", NULL, 4, "v", 1, 0),
                     EINVAL);
    ck_assert_int_eq(store_put(store, "tracker", big, STORE_MAX_KEY + 1,
                               "v", 1, 0), EINVAL);
    ck_assert_int_eq(store_put(store, "tracker", "k", 1, big,
                               STORE_MAX_VALUE + 1, 0), EINVAL);
    ck_assert_int_eq(store_put(store, "tracker", "k", 1, NULL, 5, 0),
                     EINVAL);
    ck_assert_int_eq(store_put(store, "tracker", "k", 1, "v", 1, -1),
                     EINVAL);
    store_get_stats(store, &stats);
    ck_assert_uint_eq(stats.rejected, 9);
    ck_assert_uint_eq(stats.puts + stats.deletes + stats.queued, 0);
    ck_assert_int_eq(store_load(store, "nosuch", 0, collect_cb, &c), EINVAL);

    /* The largest key and value, and an empty value, are fine. */
    ck_assert_int_eq(store_put(store, "tracker", big, STORE_MAX_KEY, big,
                               STORE_MAX_VALUE, 0), 0);
    ck_assert_int_eq(store_put(store, "mapping", "k1", 2, NULL, 0, 0), 0);
    close_ok(store);
    store = open_ok(lb_path, STORE_LB_NODE);
    ck_assert_uint_eq(count(store, "tracker", 0), 1);
    c = load(store, "mapping", 0, 0);
    ck_assert_uint_eq(c.n, 1);
    ck_assert_str_eq(c.last_value, "");
    close_ok(store);

    /* A server node store has no LB node tables. */
    store = open_ok(server_path, STORE_SERVER_NODE);
    ck_assert_int_eq(store_put(store, "tracker", "k", 1, "v", 1, 0), EINVAL);
    ck_assert_int_eq(store_put(store, "xlate", "k", 1, "v", 1, 0), 0);
    close_ok(store);

    ck_assert_int_eq(store_close(NULL), 0);
    free(big);
    free(server_path);
}
END_TEST

/* A failed write is reported and kept for the next try. */
START_TEST(test_disk_full)
{
    struct store *store = open_ok(lb_path, STORE_LB_NODE);
    struct store_stats stats;
    struct collect c;

    put_range(store, "heartbeat", 0, 3, 8, false);
    ck_assert_int_eq(store_flush(store), 0);
    ck_assert_int_eq(store_set_max_size(store, 1), 0);   /* "Disk full". */

    ck_assert_int_eq(store_run(store, 1000), 0);
    put_range(store, "tracker", 0, 2000, 500, false);
    ck_assert_int_eq(store_run(store, 1100), ENOSPC);
    store_get_stats(store, &stats);
    ck_assert_uint_eq(stats.flush_errors, 1);
    ck_assert_uint_eq(stats.flushes, 1);
    ck_assert_uint_eq(stats.queued, 2000);
    ck_assert_ptr_nonnull(store_last_error(store));
    ck_assert_msg(strstr(store_last_error(store), "full"), "%s",
                  store_last_error(store));
    ck_assert_int_eq(raw_count(lb_path, "tracker"), 0);

    /* The retry waits; store_flush() itself may try at any time. */
    ck_assert_int_gt(store_next_deadline(store), 1100);
    ck_assert_int_eq(store_run(store, 1101), 0);
    ck_assert_int_eq(store_flush(store), ENOSPC);
    store_get_stats(store, &stats);
    ck_assert_uint_eq(stats.flush_errors, 2);

    /* With the queue full too, a new change is refused, not dropped
     * silently; changes to queued keys still coalesce. */
    store_set_limits(store, -1, 0, 1);
    ck_assert_int_eq(store_put(store, "tracker", "new", 3, "v", 1, 0),
                     ENOSPC);
    ck_assert_int_eq(store_put(store, "tracker", "k7", 2, "v7", 2, 0), 0);
    store_get_stats(store, &stats);
    ck_assert_uint_eq(stats.rejected, 1);
    ck_assert_uint_eq(stats.queued, 2000);

    /* Space again: everything queued is written. */
    ck_assert_int_eq(store_set_max_size(store, 0), 0);
    long long int deadline = store_next_deadline(store);
    ck_assert_int_eq(store_run(store, deadline), 0);
    store_get_stats(store, &stats);
    ck_assert_uint_eq(stats.queued, 0);
    ck_assert_uint_eq(stats.flushes, 2);
    close_ok(store);

    store = open_ok(lb_path, STORE_LB_NODE);
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(store_load(store, "tracker", 0, collect_cb, &c), 0);
    ck_assert_uint_eq(c.n, 2000);
    ck_assert_uint_eq(load(store, "heartbeat", 0, 8).n, 3);
    close_ok(store);
}
END_TEST

START_TEST(test_newer_version)
{
    char *err;

    write_store(lb_path);
    raw_exec(lb_path, "PRAGMA user_version = 3");
    err = open_fails(lb_path, STORE_LB_NODE, ENOTSUP);
    ck_assert_msg(strstr(err, "version 3") && strstr(err, "version 2"),
                  "%s", err);
    free(err);
    ck_assert_int_eq(raw_int(lb_path, "PRAGMA user_version"), 3);

    raw_exec(lb_path, "PRAGMA user_version = 1000");
    err = open_fails(lb_path, STORE_LB_NODE, ENOTSUP);
    ck_assert_msg(strstr(err, "version 1000"), "%s", err);
    free(err);

    raw_exec(lb_path, "PRAGMA user_version = -1");
    free(open_fails(lb_path, STORE_LB_NODE, EBADMSG));
}
END_TEST

/* A store at an older version is migrated, keeping its records. */
START_TEST(test_older_version)
{
    struct store *store;

    write_store(lb_path);
    /* Version 0 had no heartbeat table. */
    raw_exec(lb_path, "DROP TABLE heartbeat; PRAGMA user_version = 0");

    store = open_ok(lb_path, STORE_LB_NODE);
    ck_assert_int_eq(raw_int(lb_path, "PRAGMA user_version"),
                     STORE_SCHEMA_VERSION);
    ck_assert_uint_eq(load(store, "tracker", 0, 0).n, 2000);
    ck_assert_uint_eq(load(store, "mapping", 0, 0).n, 500);
    put_range(store, "heartbeat", 0, 4, 8, false);
    close_ok(store);
    ck_assert_int_eq(raw_count(lb_path, "heartbeat"), 4);
    ck_assert_int_eq(raw_int(lb_path, "SELECT count(*) FROM sqlite_master "
                             "WHERE name = 'heartbeat_expires_at'"), 1);
}
END_TEST

/* Version 1 had a 'lease' table, which version 2 drops; the other records
 * stay. */
START_TEST(test_version_1_lease_dropped)
{
    struct store *store;

    write_store(lb_path);
    raw_exec(lb_path,
             "CREATE TABLE lease (key BLOB PRIMARY KEY NOT NULL, "
             "value BLOB NOT NULL, expires_at INTEGER NOT NULL DEFAULT 0) "
             "WITHOUT ROWID; "
             "CREATE INDEX lease_expires_at ON lease (expires_at) "
             "WHERE expires_at != 0; "
             "INSERT INTO lease VALUES (x'01', x'02', 0); "
             "PRAGMA user_version = 1");
    store = open_ok(lb_path, STORE_LB_NODE);
    ck_assert_int_eq(raw_int(lb_path, "PRAGMA user_version"), 2);
    ck_assert_int_eq(raw_int(lb_path, "SELECT count(*) FROM sqlite_master "
                             "WHERE name LIKE 'lease%'"), 0);
    ck_assert_uint_eq(load(store, "tracker", 0, 0).n, 2000);
    ck_assert_uint_eq(load(store, "mapping", 0, 0).n, 500);
    close_ok(store);
}
END_TEST

START_TEST(test_wrong_role)
{
    char *server_path = xasprintf("%s/server.db", tmpdir);
    char *foreign_path = xasprintf("%s/foreign.db", tmpdir);
    struct store *store;
    char *err;

    store = open_ok(lb_path, STORE_LB_NODE);
    close_ok(store);
    err = open_fails(lb_path, STORE_SERVER_NODE, EINVAL);
    ck_assert_msg(strstr(err, "lb-node") && strstr(err, "server-node"),
                  "%s", err);
    free(err);

    store = open_ok(server_path, STORE_SERVER_NODE);
    close_ok(store);
    err = open_fails(server_path, STORE_LB_NODE, EINVAL);
    ck_assert_msg(strstr(err, "lb-node") && strstr(err, "server-node"),
                  "%s", err);
    free(err);

    /* Another program's database is refused and left untouched. */
    raw_exec(foreign_path, "CREATE TABLE tracker (x); "
             "INSERT INTO tracker VALUES (1)");
    err = open_fails(foreign_path, STORE_LB_NODE, EBADMSG);
    ck_assert_msg(strstr(err, "not an ovslb store"), "%s", err);
    free(err);
    ck_assert_int_eq(raw_int(foreign_path, "SELECT count(*) FROM "
                             "sqlite_master"), 1);
    ck_assert_int_eq(raw_int(foreign_path, "SELECT count(*) FROM "
                             "pragma_journal_mode WHERE journal_mode = "
                             "'delete'"), 1);

    /* Not a role at all. */
    ck_assert_int_eq(store_open(lb_path, (enum store_role) 7, &store, &err),
                     EINVAL);
    ck_assert_ptr_null(store);
    ck_assert_ptr_nonnull(err);
    free(err);
    ck_assert_ptr_null(store_schema_sql((enum store_role) 7));

    free(server_path);
    free(foreign_path);
}
END_TEST

START_TEST(test_open_errors)
{
    char *path = xasprintf("%s/no/such/dir/lb.db", tmpdir);
    struct store *store;
    char *err;
    int error;

    error = store_open(path, STORE_LB_NODE, &store, &err);
    ck_assert_int_ne(error, 0);
    ck_assert_ptr_null(store);
    ck_assert_msg(strstr(err, path), "%s", err);
    free(err);
    free(path);

    /* A directory. */
    error = store_open(tmpdir, STORE_LB_NODE, &store, &err);
    ck_assert_int_ne(error, 0);
    ck_assert_ptr_null(store);
    ck_assert_ptr_nonnull(err);
    free(err);

    /* No 'errp'. */
    ck_assert_int_ne(store_open(tmpdir, STORE_LB_NODE, &store, NULL), 0);

    /* A file we may not write (root may write anything). */
    if (geteuid()) {
        write_store(lb_path);
        ck_assert_int_eq(chmod(lb_path, 0444), 0);
        free(open_fails(lb_path, STORE_LB_NODE, EACCES));
    }
}
END_TEST

/* The schema the store applies is the one installed in pkgdatadir. */
static char *
read_file(const char *name)
{
    const char *srcdir = getenv("srcdir");
    char *path = xasprintf("%s/schema/%s", srcdir ? srcdir : "/work/main",
                           name);
    FILE *f = fopen(path, "rb");
    char *text = xzalloc(1024 * 1024);
    size_t n;

    ck_assert_msg(f != NULL, "%s: %s", path, ovs_strerror(errno));
    n = fread(text, 1, 1024 * 1024 - 1, f);
    ck_assert(feof(f));
    text[n] = '\0';
    fclose(f);
    free(path);
    return text;
}

START_TEST(test_schema_files)
{
    char *lb = read_file("lb-node.sql");
    char *server = read_file("server-node.sql");

    ck_assert_str_eq(store_schema_sql(STORE_LB_NODE), lb);
    ck_assert_str_eq(store_schema_sql(STORE_SERVER_NODE), server);
    ck_assert_str_eq(store_role_name(STORE_LB_NODE), "lb-node");
    ck_assert_str_eq(store_role_name(STORE_SERVER_NODE), "server-node");
    free(lb);
    free(server);
}
END_TEST

static Suite *
store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("store");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_restart);
    tcase_add_test(tc, test_crash);
    tcase_add_test(tc, test_wal_and_version);
    tcase_add_test(tc, test_delete);
    tcase_add_test(tc, test_coalesce);
    tcase_add_test(tc, test_write_behind);
    tcase_add_test(tc, test_expiry);
    tcase_add_test(tc, test_big_batch);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_garbage);
    tcase_add_test(tc, test_hostile_rows);
    tcase_add_test(tc, test_load_callback_puts);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_disk_full);
    tcase_add_test(tc, test_newer_version);
    tcase_add_test(tc, test_older_version);
    tcase_add_test(tc, test_version_1_lease_dropped);
    tcase_add_test(tc, test_wrong_role);
    tcase_add_test(tc, test_open_errors);
    tcase_add_test(tc, test_schema_files);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(store_suite());
    int n_failed;

    ovs_strlcpy(suite_dir, "/tmp/check-store-XXXXXX", sizeof suite_dir);
    if (!mkdtemp(suite_dir)) {
        ovs_fatal(errno, "mkdtemp");
    }

    /* The store logs the failures these tests provoke; the tests check
     * the errors it returns instead. */
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);

    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    remove_tree(suite_dir);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
