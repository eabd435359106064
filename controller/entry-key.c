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

#include "controller/entry-key.h"

#include "hash.h"
#include "id-pool.h"
#include "util.h"

/* A VIP end that entries use. */
struct vip_end {
    struct hmap_node node;      /* In 'struct entry_keys''s 'ends'. */
    struct in6_addr vip;
    ovs_be16 vip_port;
    uint8_t proto;
    uint16_t index;
    uint32_t n_refs;            /* Entries whose key names it. */
};

static uint32_t
vip_end_hash(const struct flow_key *cp)
{
    uint32_t hash = hash_bytes(&cp->vip, sizeof cp->vip, 0);

    return hash_int(((uint32_t) ntohs(cp->vip_port) << 8) | cp->proto, hash);
}

static struct vip_end *
vip_end_find(const struct entry_keys *keys, const struct flow_key *cp)
{
    struct vip_end *end;

    HMAP_FOR_EACH_WITH_HASH (end, node, vip_end_hash(cp), &keys->ends) {
        if (end->vip_port == cp->vip_port && end->proto == cp->proto
            && !memcmp(&end->vip, &cp->vip, sizeof end->vip)) {
            return end;
        }
    }
    return NULL;
}

void
entry_keys_init(struct entry_keys *keys)
{
    hmap_init(&keys->ends);
    keys->by_index = NULL;
    keys->n_alloc = 0;
    keys->ids = id_pool_create(0, ENTRY_KEYS_MAX);
}

void
entry_keys_destroy(struct entry_keys *keys)
{
    struct vip_end *end;

    HMAP_FOR_EACH_POP (end, node, &keys->ends) {
        free(end);
    }
    hmap_destroy(&keys->ends);
    free(keys->by_index);
    id_pool_destroy(keys->ids);
}

static void
entry_key_init(struct entry_key *key, const struct flow_key *cp,
               const struct vip_end *end)
{
    key->client = cp->client;
    key->client_port = cp->client_port;
    key->vip_end = end->index;
}

/* Makes 'key' the key of 'cp', counting one more entry that uses its VIP
 * end (entry_key_unref() counts it off).  Returns false, with nothing
 * counted, if 'cp''s VIP end is new and the table already holds
 * ENTRY_KEYS_MAX. */
bool
entry_key_ref(struct entry_keys *keys, const struct flow_key *cp,
              struct entry_key *key)
{
    struct vip_end *end = vip_end_find(keys, cp);

    if (!end) {
        uint32_t index;

        if (!id_pool_alloc_id(keys->ids, &index)) {
            return false;
        }
        if (index >= keys->n_alloc) {
            size_t old = keys->n_alloc;

            keys->by_index = x2nrealloc(keys->by_index, &keys->n_alloc,
                                        sizeof *keys->by_index);
            keys->n_alloc = MIN(MAX(keys->n_alloc, index + 1),
                                ENTRY_KEYS_MAX);
            for (size_t i = old; i < keys->n_alloc; i++) {
                keys->by_index[i] = NULL;
            }
        }
        end = xzalloc(sizeof *end);
        end->vip = cp->vip;
        end->vip_port = cp->vip_port;
        end->proto = cp->proto;
        end->index = index;
        hmap_insert(&keys->ends, &end->node, vip_end_hash(cp));
        keys->by_index[index] = end;
    }
    end->n_refs++;
    entry_key_init(key, cp, end);
    return true;
}

/* Counts off one entry that used the VIP end of 'key', which
 * entry_key_ref() made; the table forgets the end with its last entry. */
void
entry_key_unref(struct entry_keys *keys, const struct entry_key *key)
{
    struct vip_end *end = keys->by_index[key->vip_end];

    ovs_assert(end && end->n_refs);
    if (!--end->n_refs) {
        hmap_remove(&keys->ends, &end->node);
        keys->by_index[end->index] = NULL;
        id_pool_free_id(keys->ids, end->index);
        free(end);
    }
}

/* Makes 'key' the key that an entry of 'cp' has.  Returns false if no
 * entry has 'cp''s VIP end, so that none can have 'cp'. */
bool
entry_key_find(const struct entry_keys *keys, const struct flow_key *cp,
               struct entry_key *key)
{
    const struct vip_end *end = vip_end_find(keys, cp);

    if (!end) {
        return false;
    }
    entry_key_init(key, cp, end);
    return true;
}

/* Sets 'cp' to the CP whose key is 'key', one that entry_key_ref() made
 * and that is still referenced. */
void
entry_key_to_cp(const struct entry_keys *keys, const struct entry_key *key,
                struct flow_key *cp)
{
    const struct vip_end *end = keys->by_index[key->vip_end];

    memset(cp, 0, sizeof *cp);
    cp->client = key->client;
    cp->client_port = key->client_port;
    cp->vip = end->vip;
    cp->vip_port = end->vip_port;
    cp->proto = end->proto;
}

/* The number of VIP ends in use. */
size_t
entry_keys_count(const struct entry_keys *keys)
{
    return hmap_count(&keys->ends);
}
