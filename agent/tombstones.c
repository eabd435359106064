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

/* tombstones: see tombstones.h. */
#include <config.h>
#include "tombstones.h"

#include <limits.h>

#include "util.h"

struct tombstone {
    struct hmap_node node;      /* In 'by_cp'. */
    struct deadline expiry;     /* In 'expiry': forgotten then. */
    struct flow_key cp;
    uint32_t client_isn;
    uint32_t isn_lb;
};

void
tombstones_init(struct tombstones *t)
{
    hmap_init(&t->by_cp);
    deadline_queue_init(&t->expiry);
    t->max = 0;
}

static void
tombstone_free(struct tombstones *t, struct tombstone *ts)
{
    hmap_remove(&t->by_cp, &ts->node);
    deadline_cancel(&ts->expiry);
    free(ts);
}

void
tombstones_destroy(struct tombstones *t)
{
    struct tombstone *ts;

    HMAP_FOR_EACH_SAFE (ts, node, &t->by_cp) {
        tombstone_free(t, ts);
    }
    hmap_destroy(&t->by_cp);
    deadline_queue_destroy(&t->expiry);
}

/* Removes the tombstones that expire first until 't' has room for 'room'
 * more within its bound; returns how many went. */
static size_t
make_room(struct tombstones *t, size_t room)
{
    size_t n = 0;
    struct deadline *d;

    while (hmap_count(&t->by_cp) + room > t->max
           && (d = deadline_queue_first(&t->expiry))) {
        tombstone_free(t, CONTAINER_OF(d, struct tombstone, expiry));
        n++;
    }
    return n;
}

/* Bounds 't' to 'max' tombstones (0: none), removing those beyond; returns
 * how many went. */
size_t
tombstones_set_max(struct tombstones *t, size_t max)
{
    t->max = max;
    return make_room(t, 0);
}

static struct tombstone *
tombstone_find(const struct tombstones *t, const struct flow_key *cp)
{
    struct tombstone *ts;

    HMAP_FOR_EACH_WITH_HASH (ts, node, flow_key_hash(cp, 0), &t->by_cp) {
        if (flow_key_equals(&ts->cp, cp)) {
            return ts;
        }
    }
    return NULL;
}

/* Remembers until 'until' that the connection 'cp' of the handshake with
 * 'client_isn' and 'isn_lb' is over and forgotten.  Returns how many other
 * tombstones went to make room for it. */
size_t
tombstones_add(struct tombstones *t, const struct flow_key *cp,
               uint32_t client_isn, uint32_t isn_lb, long long int until)
{
    struct tombstone *ts;
    size_t n_evicted;

    tombstones_remove(t, cp);
    if (!t->max) {
        return 0;
    }
    n_evicted = make_room(t, 1);
    ts = xzalloc(sizeof *ts);
    ts->cp = *cp;
    ts->client_isn = client_isn;
    ts->isn_lb = isn_lb;
    hmap_insert(&t->by_cp, &ts->node, flow_key_hash(cp, 0));
    deadline_queue_set(&t->expiry, &ts->expiry, until);
    return n_evicted;
}

/* Returns true if 't' has a tombstone of 'cp' for the handshake with
 * 'client_isn' and 'isn_lb'. */
bool
tombstones_match(const struct tombstones *t, const struct flow_key *cp,
                 uint32_t client_isn, uint32_t isn_lb)
{
    const struct tombstone *ts = tombstone_find(t, cp);

    return ts && ts->client_isn == client_isn && ts->isn_lb == isn_lb;
}

/* Removes the tombstone of 'cp', if any (a new connection reuses the CP).
 * Returns true if there was one. */
bool
tombstones_remove(struct tombstones *t, const struct flow_key *cp)
{
    struct tombstone *ts = tombstone_find(t, cp);

    if (ts) {
        tombstone_free(t, ts);
    }
    return ts != NULL;
}

/* Removes the tombstones whose time is over at 'now'. */
void
tombstones_expire(struct tombstones *t, long long int now)
{
    struct deadline *d;

    while ((d = deadline_queue_due(&t->expiry, now))) {
        tombstone_free(t, CONTAINER_OF(d, struct tombstone, expiry));
    }
}

/* Returns when tombstones_expire() next has work, or LLONG_MAX. */
long long int
tombstones_next_expiry(const struct tombstones *t)
{
    return deadline_queue_next(&t->expiry);
}

size_t
tombstones_count(const struct tombstones *t)
{
    return hmap_count(&t->by_cp);
}
