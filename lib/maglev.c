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

#include <config.h>
#include "maglev.h"

#include <stdlib.h>
#include "bitmap.h"
#include "coverage.h"
#include "hash.h"
#include "util.h"

COVERAGE_DEFINE(maglev_build);
COVERAGE_DEFINE(maglev_rejected_input);

/* Bases of the two hashes of a backend's id (arbitrary constants; changing
 * them changes every table, see maglev.h). */
#define MAGLEV_OFFSET_BASIS 0x6d61676cu     /* "magl" */
#define MAGLEV_SKIP_BASIS   0x65763031u     /* "ev01" */

struct maglev {
    uint32_t size;              /* Number of slots, prime. */
    size_t n_backends;          /* Backends with nonzero weight. */
    uint32_t *slots;            /* 'size' backend ids; NULL if no backend. */
};

/* One backend's progress through its permutation while filling. */
struct maglev_fill {
    uint32_t id;
    uint32_t weight;
    uint32_t pos;               /* Next preferred slot. */
    uint32_t skip;              /* Step through the permutation. */
    uint64_t credit;            /* Turns earned, in units of 'weight'. */
};

/* Returns true if 'n' is a prime number. */
bool
maglev_is_prime(uint32_t n)
{
    if (n < 2) {
        return false;
    }
    if (n % 2 == 0) {
        return n == 2;
    }
    for (uint32_t d = 3; (uint64_t) d * d <= n; d += 2) {
        if (n % d == 0) {
            return false;
        }
    }
    return true;
}

/* Stores in '*offset' and '*skip' the permutation of a table of 'size' slots
 * (prime, at least 2) for the backend with id 'id': its j-th preferred slot
 * is (offset + j * skip) % size.  Both come from portable hashes of 'id', so
 * that every node computes the same permutation. */
void
maglev_permutation(uint32_t id, uint32_t size,
                   uint32_t *offset, uint32_t *skip)
{
    uint32_t h1 = mhash_finish(mhash_add(MAGLEV_OFFSET_BASIS, id) ^ 4);
    uint32_t h2 = mhash_finish(mhash_add(MAGLEV_SKIP_BASIS, id) ^ 4);

    ovs_assert(size >= 2);
    *offset = h1 % size;
    *skip = h2 % (size - 1) + 1;
}

static int
compare_backend_ids(const void *a_, const void *b_)
{
    const struct maglev_backend *a = a_;
    const struct maglev_backend *b = b_;

    return a->id < b->id ? -1 : a->id > b->id;
}

/* Fills 'm->slots' with the 'n' backends of 'fill' (all with nonzero weight,
 * sorted by id, at most 'm->size' of them). */
static void
maglev_populate(struct maglev *m, struct maglev_fill *fill, size_t n)
{
    unsigned long *taken = bitmap_allocate(m->size);
    uint32_t max_weight = 0;
    uint32_t n_filled = 0;

    for (size_t i = 0; i < n; i++) {
        max_weight = MAX(max_weight, fill[i].weight);
    }

    /* Each round, every backend earns 'weight' credit and takes a turn when
     * it has 'max_weight' of it: the heaviest backends take a turn every
     * round, so the table fills in at most 'size' rounds. */
    for (;;) {
        for (size_t i = 0; i < n; i++) {
            struct maglev_fill *f = &fill[i];
            uint32_t slot;

            f->credit += f->weight;
            if (f->credit < max_weight) {
                continue;
            }
            f->credit -= max_weight;

            /* The permutation visits every slot, and one at least is free,
             * so this ends within 'size' steps. */
            slot = f->pos;
            while (bitmap_is_set(taken, slot)) {
                slot = (slot + f->skip) % m->size;
            }
            bitmap_set1(taken, slot);
            m->slots[slot] = f->id;
            f->pos = (slot + f->skip) % m->size;

            if (++n_filled == m->size) {
                bitmap_free(taken);
                return;
            }
        }
    }
}

/* Builds and returns the Maglev table of 'size' slots over the 'n' backends
 * in 'backends' (in any order).  Backends of weight 0 get no slot; a table
 * with no backend of nonzero weight is valid and finds nothing.
 *
 * Returns NULL, without allocating anything, if 'size' is not a prime of at
 * most MAGLEV_MAX_SIZE, if 'n' exceeds 'size', or if two backends share an
 * id.  The caller must free the table with maglev_destroy(). */
struct maglev *
maglev_create(const struct maglev_backend *backends, size_t n, uint32_t size)
{
    if (size > MAGLEV_MAX_SIZE || !maglev_is_prime(size) || n > size) {
        COVERAGE_INC(maglev_rejected_input);
        return NULL;
    }

    struct maglev_backend *sorted = xmemdup(backends, n * sizeof *backends);
    qsort(sorted, n, sizeof *sorted, compare_backend_ids);
    for (size_t i = 1; i < n; i++) {
        if (sorted[i].id == sorted[i - 1].id) {
            free(sorted);
            COVERAGE_INC(maglev_rejected_input);
            return NULL;
        }
    }

    struct maglev_fill *fill = xcalloc(n ? n : 1, sizeof *fill);
    size_t n_fill = 0;
    for (size_t i = 0; i < n; i++) {
        if (sorted[i].weight) {
            struct maglev_fill *f = &fill[n_fill++];

            f->id = sorted[i].id;
            f->weight = sorted[i].weight;
            maglev_permutation(f->id, size, &f->pos, &f->skip);
        }
    }
    free(sorted);

    struct maglev *m = xzalloc(sizeof *m);
    m->size = size;
    m->n_backends = n_fill;
    if (n_fill) {
        m->slots = xmalloc(size * sizeof *m->slots);
        maglev_populate(m, fill, n_fill);
    }
    free(fill);
    COVERAGE_INC(maglev_build);
    return m;
}

/* Frees table 'm'.  'm' may be NULL. */
void
maglev_destroy(struct maglev *m)
{
    if (m) {
        free(m->slots);
        free(m);
    }
}

/* Looks up the 64-bit flow hash 'hash' in table 'm' (slot 'hash % size').
 * Stores the backend's id in '*id' and returns true, or returns false if 'm'
 * has no backend. */
bool
maglev_lookup(const struct maglev *m, uint64_t hash, uint32_t *id)
{
    return maglev_get_slot(m, hash % m->size, id);
}

/* Returns the number of slots of table 'm'. */
uint32_t
maglev_get_size(const struct maglev *m)
{
    return m->size;
}

/* Returns the number of backends of nonzero weight that table 'm' was built
 * from.  (A backend whose weight is tiny next to the others' may still own
 * no slot.) */
size_t
maglev_n_backends(const struct maglev *m)
{
    return m->n_backends;
}

/* Stores in '*id' the backend owning slot 'slot' of table 'm' and returns
 * true, or returns false if 'slot' is out of range or 'm' has no backend. */
bool
maglev_get_slot(const struct maglev *m, uint32_t slot, uint32_t *id)
{
    if (!m->slots || slot >= m->size) {
        return false;
    }
    *id = m->slots[slot];
    return true;
}
