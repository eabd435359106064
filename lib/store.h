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
 * store: the per-node SQLite journal of the daemons' hot state.
 *
 * Hot state lives in memory, in the pure cores; the daemons journal it here
 * so that a restarted daemon can reload what has not expired.  The store
 * knows nothing of the records' layout: a record is (table, key, value,
 * expiry), 'key' and 'value' are byte strings, and each table of the
 * schema (schema/lb-node.sql, schema/server-node.sql) holds one kind of
 * record.  An LB node store has the tables "tracker" (flow-tracker
 * entries), "mapping" (ingress mappings), "heartbeat" (the gossip table)
 * and "meta"; a server node store has "xlate" (connection translation
 * entries) and "meta".  A record's expiry is its lease.
 *
 * Writes are write-behind: store_put() and store_delete() only queue the
 * change in memory, where later changes to one key replace earlier ones,
 * and store_run() writes the whole queue in one transaction once it is
 * 'flush_ms' old or 'batch_max' changes long.  A failed write (disk full,
 * I/O error, a locked file) is reported and counted, and the changes stay
 * queued for the next try.  The file is in WAL mode with synchronous=NORMAL:
 * a crash of the daemon loses nothing committed, a crash of the machine may
 * lose the last transactions, and the in-memory queue (at most 'flush_ms'
 * of changes) is lost either way.
 *
 * Two clocks: store_run(), store_next_deadline() and store_wait() use the
 * poll loop's clock (time_msec()); expiry times, store_load() and
 * store_expire() use a clock that survives a restart (time_wall_msec()).
 *
 * This is a driver, not a pure core: it does file I/O.  One thread (the
 * daemon's main loop) owns a store and calls all of its functions.
 */
#ifndef OVSLB_STORE_H
#define OVSLB_STORE_H 1

#include <stddef.h>
#include <stdint.h>

/* The schema version this code writes.  A file with a higher version is
 * refused; one with a lower version is migrated when opened. */
#define STORE_SCHEMA_VERSION 2

/* Bounds on one record. */
#define STORE_MAX_KEY 1024
#define STORE_MAX_VALUE 65536

/* Default write-behind limits (see store_set_limits()). */
#define STORE_DEFAULT_FLUSH_MS 100
#define STORE_DEFAULT_BATCH_MAX 4096
#define STORE_DEFAULT_QUEUE_MAX_BYTES (16 * 1024 * 1024)

enum store_role {
    STORE_LB_NODE,              /* ovslb-controller on an LB node. */
    STORE_SERVER_NODE,          /* ovslb-agent on a server node. */
};

const char *store_role_name(enum store_role);
const char *store_schema_sql(enum store_role);

struct store;

int store_open(const char *path, enum store_role, struct store **,
               char **errp);
int store_close(struct store *);

void store_set_limits(struct store *, long long int flush_ms,
                      size_t batch_max, size_t queue_max_bytes);
int store_set_max_size(struct store *, unsigned long long int max_bytes);

int store_put(struct store *, const char *table,
              const void *key, size_t key_len,
              const void *value, size_t value_len, long long int expires_ms);
int store_delete(struct store *, const char *table,
                 const void *key, size_t key_len);

int store_flush(struct store *);
int store_run(struct store *, long long int now_ms);
long long int store_next_deadline(const struct store *);
void store_wait(const struct store *);

/* One record, as store_load() passes it to its callback.  The pointers are
 * valid only during the call. */
struct store_record {
    const char *table;
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    long long int expires_ms;   /* 0: never expires. */
};

int store_load(struct store *, const char *table, long long int now_ms,
               void (*cb)(const struct store_record *, void *aux),
               void *aux);
int store_expire(struct store *, long long int now_ms, size_t *n_expired);

struct store_stats {
    uint64_t puts;              /* store_put() calls accepted. */
    uint64_t deletes;           /* store_delete() calls accepted. */
    uint64_t coalesced;         /* Accepted changes that replaced a queued
                                 * change to the same key. */
    uint64_t rejected;          /* store_put()/store_delete() refused. */
    uint64_t flushes;           /* Transactions committed by a flush. */
    uint64_t rows_written;      /* Changes those transactions wrote. */
    uint64_t flush_errors;      /* Flushes that failed (changes kept). */
    uint64_t expired;           /* Rows deleted by store_expire(). */
    uint64_t load_rejected;     /* Rows store_load() skipped as malformed. */
    size_t queued;              /* Changes waiting to be written. */
    size_t queued_bytes;        /* Memory those take. */
};

void store_get_stats(const struct store *, struct store_stats *);
const char *store_last_error(const struct store *);

#endif /* store.h */
