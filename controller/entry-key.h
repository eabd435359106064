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
 * entry-key: the compact key of a flow-tracker entry.
 *
 * A tracker holds an entry per connection, a million on a large node, and
 * issue 17 bounds the tier's tracker memory at 200 bytes per connection
 * (two entries, PFT and SFT).  A CP (struct flow_key) takes 40 bytes, half
 * of them its VIP end (address, port, protocol), which every connection
 * of a VIP port shares.  An entry keeps instead its client's end and a
 * 16-bit index of its VIP end in the node's table of VIP ends, 20 bytes.
 *
 * The table holds the VIP ends of the node's entries, whatever the
 * configuration says (an entry outlives its VIP's removal by a lease at
 * most), each with a count of the entries that use it, and forgets one
 * when its last entry goes.  It holds at most ENTRY_KEYS_MAX ends: a
 * node asked to track more distinct VIP ends than that (only messages
 * naming ports no VIP has could) refuses the entry, as when its table is
 * full.
 *
 * Pure and single-threaded, like the LB node core.
 */
#ifndef OVSLB_ENTRY_KEY_H
#define OVSLB_ENTRY_KEY_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include "flow-key.h"
#include "openvswitch/hmap.h"
#include "openvswitch/types.h"

/* The key of an entry: 20 bytes. */
struct entry_key {
    struct in6_addr client;     /* As in struct flow_key. */
    ovs_be16 client_port;
    uint16_t vip_end;           /* Index in the node's 'struct entry_keys'. */
};
BUILD_ASSERT_DECL(sizeof(struct entry_key) == 20);

#define ENTRY_KEYS_MAX 65536    /* VIP ends, the range of 'vip_end'. */

struct entry_keys {
    struct hmap ends;           /* struct vip_end, by address, port and
                                 * protocol. */
    struct vip_end **by_index;  /* Indexed by 'vip_end'; NULL: free. */
    size_t n_alloc;             /* Elements of 'by_index'. */
    struct id_pool *ids;        /* Free indexes. */
};

void entry_keys_init(struct entry_keys *);
void entry_keys_destroy(struct entry_keys *);

bool entry_key_ref(struct entry_keys *, const struct flow_key *,
                   struct entry_key *);
void entry_key_unref(struct entry_keys *, const struct entry_key *);
bool entry_key_find(const struct entry_keys *, const struct flow_key *,
                    struct entry_key *);
void entry_key_to_cp(const struct entry_keys *, const struct entry_key *,
                     struct flow_key *);
size_t entry_keys_count(const struct entry_keys *);

static inline bool
entry_key_equals(const struct entry_key *a, const struct entry_key *b)
{
    return (a->vip_end == b->vip_end && a->client_port == b->client_port
            && !memcmp(&a->client, &b->client, sizeof a->client));
}

#endif /* entry-key.h */
