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
 * journal: the daemon's side of the LB node's journal, in the node's store
 * (store.h, SQLite): writes the records that the lbnode core hands it
 * (established tracker entries and ingress mappings) and the health
 * checker's heartbeats, and reads them back, with the edge router's MAC,
 * when the daemon starts.  Part of the daemon (controller-private.h).
 */
#include <config.h>
#include "controller/controller-private.h"

#include <string.h>

#include "health.h"
#include "node-daemon.h"
#include "openvswitch/vlog.h"
#include "store.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(journal);

#define HEARTBEAT_JOURNAL_INTERVAL_MS 1000

/* Writes (or, with a null 'data', deletes) the record of 'cp' in 'table':
 * 'len' bytes at 'data', valid for 'ttl_ms' (the lbnode core's
 * lbnode_journal_func, with the controller as 'c_'). */
void
journal_write(void *c_, const char *table, const struct flow_key *cp,
              const void *data, size_t len, long long int ttl_ms)
{
    struct controller *c = c_;
    struct store *store = node_daemon_store(c->nd);
    int error;

    if (!store) {
        return;
    }
    error = (data
             ? store_put(store, table, cp, sizeof *cp, data, len,
                         time_wall_msec() + ttl_ms)
             : store_delete(store, table, cp, sizeof *cp));
    if (error) {
        c->journal_errors++;
    }
}

static void restore_heartbeat(const struct store_record *, void *c_);

static void
restore_meta(const struct store_record *r, void *c_)
{
    struct controller *c = c_;

    if (r->key_len == strlen(EDGE_MAC_KEY)
        && !memcmp(r->key, EDGE_MAC_KEY, r->key_len)
        && r->value_len == ETH_ADDR_LEN) {
        memcpy(c->edge_mac.ea, r->value, ETH_ADDR_LEN);
        c->has_edge_mac = !eth_addr_is_zero(c->edge_mac);
    }
}

struct restore_ctx {
    struct controller *c;
    long long int now, wall;
    size_t n, rejected;
};

static void
restore_record(const struct store_record *r, void *ctx_)
{
    struct restore_ctx *ctx = ctx_;
    struct flow_key cp;
    long long int ttl;

    if (r->key_len != sizeof cp) {
        ctx->rejected++;
        return;
    }
    memcpy(&cp, r->key, sizeof cp);
    ttl = r->expires_ms ? r->expires_ms - ctx->wall : 60000;
    if (ttl > 0 && lbnode_restore(ctx->c->lb, r->table, &cp, r->value,
                                  r->value_len, ttl, ctx->now,
                                  &lb_io, ctx->c)) {
        ctx->n++;
    } else {
        ctx->rejected++;
    }
}

/* Reads back what the journal holds, before the first OpenFlow commit, so
 * that the ingress flows of established connections are in the desired
 * table when ofctrl first compares it with the switch. */
void
journal_restore(struct controller *c)
{
    struct store *store = node_daemon_store(c->nd);
    struct restore_ctx ctx = {
        .c = c, .now = time_msec(), .wall = time_wall_msec(),
    };

    c->restored = true;
    if (!store) {
        return;
    }
    store_load(store, "meta", ctx.wall, restore_meta, c);
    store_load(store, "heartbeat", ctx.wall, restore_heartbeat, c);
    store_load(store, LBNODE_JOURNAL_TRACKER, ctx.wall, restore_record, &ctx);
    store_load(store, LBNODE_JOURNAL_MAPPING, ctx.wall, restore_record, &ctx);
    c->restored_records = ctx.n;
    VLOG_INFO("journal: restored %"PRIuSIZE" tracker entries and mappings "
              "(%"PRIuSIZE" expired or unreadable)", ctx.n, ctx.rejected);
    c->flows_changed = true;
}

/* Writes the health checker's heartbeats to the store, at most once per
 * HEARTBEAT_JOURNAL_INTERVAL_MS. */
void
journal_heartbeats(struct controller *c, long long int now)
{
    struct store *store = node_daemon_store(c->nd);
    struct health_record *recs;
    size_t n;

    if (!c->health || !store || now < c->next_heartbeat_journal) {
        return;
    }
    c->next_heartbeat_journal = now + HEARTBEAT_JOURNAL_INTERVAL_MS;
    n = health_export(c->health, &recs);
    for (size_t i = 0; i < n; i++) {
        uint8_t key[HEALTH_RECORD_KEY_LEN], value[HEALTH_RECORD_VALUE_LEN];

        health_record_encode(&recs[i], key, value);
        if (store_put(store, "heartbeat", key, sizeof key, value,
                      sizeof value, 0)) {
            c->journal_errors++;
        }
    }
    free(recs);
}

static void
restore_heartbeat(const struct store_record *r, void *c_)
{
    struct controller *c = c_;
    struct health_record rec;

    if (c->health && health_record_decode(r->key, r->key_len, r->value,
                                          r->value_len, &rec)) {
        health_import(c->health, &rec, 1);
    }
}
