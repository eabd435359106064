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
 * ring: consistent-hash ring of LB nodes.  See ring.h.
 */
#include <config.h>
#include "ring.h"

#include <stdlib.h>
#include <string.h>
#include "flow-key.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/util.h"
#include "util.h"

/* Second halves of the SipHash keys (the first half is the ring key), one per
 * use, so that the uses are independent.  ASCII "ovslb-pt", "ovslb-eg",
 * "ovslb-sv", "ovslb-dg".  Changing any of them changes every node's answers:
 * never change them (the unit test pins the results). */
#define RING_POINT_K1   UINT64_C(0x6f76736c622d7074)
#define RING_EGRESS_K1  UINT64_C(0x6f76736c622d6567)
#define RING_SERVER_K1  UINT64_C(0x6f76736c622d7376)
#define RING_DIGEST_K1  UINT64_C(0x6f76736c622d6467)

struct ring {
    uint64_t key;               /* The cluster's ring key. */
    uint64_t egress_key;        /* Key of flow_key_hash64() for egress. */
    unsigned int vnodes;        /* Points per node. */
    uint64_t digest;            /* ring_digest(). */

    uint32_t *nodes;            /* Distinct node ids, ascending. */
    size_t n_nodes;

    /* The points, sorted by (position, owner): points[i] is owned by
     * owners[i].  n_points == n_nodes * vnodes. */
    uint64_t *points;
    uint32_t *owners;
    size_t n_points;
};

struct ring_point {
    uint64_t position;
    uint32_t owner;
};

static int
compare_node_ids(const void *a_, const void *b_)
{
    uint32_t a = *(const uint32_t *) a_;
    uint32_t b = *(const uint32_t *) b_;

    return a < b ? -1 : a > b;
}

static int
compare_points(const void *a_, const void *b_)
{
    const struct ring_point *a = a_;
    const struct ring_point *b = b_;

    if (a->position != b->position) {
        return a->position < b->position ? -1 : 1;
    }
    return a->owner < b->owner ? -1 : a->owner > b->owner;
}

static void
put_be32(uint8_t *p, uint32_t x)
{
    p[0] = x >> 24;
    p[1] = x >> 16;
    p[2] = x >> 8;
    p[3] = x;
}

/* Position of point 'vnode' of 'node': SipHash of the two as big-endian
 * 32-bit numbers. */
static uint64_t
ring_point_position(uint64_t key, uint32_t node, uint32_t vnode)
{
    uint8_t buf[8];

    put_be32(buf, node);
    put_be32(buf + 4, vnode);
    return flow_key_siphash(buf, sizeof buf, key, RING_POINT_K1);
}

/* Digest of (vnodes, nodes): SipHash of them as big-endian 32-bit numbers. */
static uint64_t
ring_compute_digest(const struct ring *ring)
{
    size_t len = 4 * (ring->n_nodes + 1);
    uint8_t *buf = xmalloc(len);
    uint64_t digest;

    put_be32(buf, ring->vnodes);
    for (size_t i = 0; i < ring->n_nodes; i++) {
        put_be32(buf + 4 * (i + 1), ring->nodes[i]);
    }
    digest = flow_key_siphash(buf, len, ring->key, RING_DIGEST_K1);
    free(buf);
    return digest;
}

/* Creates and returns the ring of the 'n' node ids in 'nodes' (in any order;
 * duplicates count once) under the cluster's ring key 'key', with 'vnodes'
 * points per node (RING_DEFAULT_VNODES if 'vnodes' is 0).  'n' may be 0: the
 * empty ring answers every lookup with no node.
 *
 * Returns NULL, creating nothing, if a node id is 0 (0 means "no node" in
 * this API), if there are more than RING_MAX_NODES distinct ids, or if
 * 'vnodes' exceeds RING_MAX_VNODES.  The caller must ring_destroy() the
 * ring. */
struct ring *
ring_create(const uint32_t *nodes, size_t n, uint64_t key,
            unsigned int vnodes)
{
    uint32_t *ids;
    size_t n_ids;

    if (!vnodes) {
        vnodes = RING_DEFAULT_VNODES;
    }
    if (vnodes > RING_MAX_VNODES) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!nodes[i]) {
            return NULL;
        }
    }

    ids = xmalloc(MAX(n, 1) * sizeof *ids);
    if (n) {
        memcpy(ids, nodes, n * sizeof *ids);
    }
    qsort(ids, n, sizeof *ids, compare_node_ids);
    n_ids = 0;
    for (size_t i = 0; i < n; i++) {
        if (!n_ids || ids[n_ids - 1] != ids[i]) {
            ids[n_ids++] = ids[i];
        }
    }
    if (n_ids > RING_MAX_NODES) {
        free(ids);
        return NULL;
    }

    struct ring *ring = xzalloc(sizeof *ring);
    ring->key = key;
    ring->egress_key = flow_key_siphash(NULL, 0, key, RING_EGRESS_K1);
    ring->vnodes = vnodes;
    ring->nodes = ids;
    ring->n_nodes = n_ids;

    ring->n_points = n_ids * vnodes;
    struct ring_point *points = xmalloc((ring->n_points ? ring->n_points : 1)
                                        * sizeof *points);
    size_t k = 0;
    for (size_t i = 0; i < n_ids; i++) {
        for (unsigned int v = 0; v < vnodes; v++) {
            points[k].position = ring_point_position(key, ids[i], v);
            points[k].owner = ids[i];
            k++;
        }
    }
    qsort(points, ring->n_points, sizeof *points, compare_points);

    ring->points = xmalloc((ring->n_points ? ring->n_points : 1)
                           * sizeof *ring->points);
    ring->owners = xmalloc((ring->n_points ? ring->n_points : 1)
                           * sizeof *ring->owners);
    for (size_t i = 0; i < ring->n_points; i++) {
        ring->points[i] = points[i].position;
        ring->owners[i] = points[i].owner;
    }
    free(points);

    ring->digest = ring_compute_digest(ring);
    return ring;
}

/* Frees 'ring'.  ring_destroy(NULL) does nothing. */
void
ring_destroy(struct ring *ring)
{
    if (ring) {
        free(ring->nodes);
        free(ring->points);
        free(ring->owners);
        free(ring);
    }
}

/* Returns the number of distinct nodes in 'ring'. */
size_t
ring_n_nodes(const struct ring *ring)
{
    return ring->n_nodes;
}

/* Returns the node ids of 'ring', ascending, ring_n_nodes() of them.  The
 * array belongs to 'ring'. */
const uint32_t *
ring_nodes(const struct ring *ring)
{
    return ring->nodes;
}

/* Returns the number of points per node of 'ring'. */
unsigned int
ring_vnodes(const struct ring *ring)
{
    return ring->vnodes;
}

/* Returns the index in 'ring->nodes' of the first id >= 'node' (n_nodes if
 * none). */
static size_t
ring_node_lower_bound(const struct ring *ring, uint32_t node)
{
    size_t lo = 0, hi = ring->n_nodes;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (ring->nodes[mid] < node) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* Returns true if 'node' is one of the nodes of 'ring'. */
bool
ring_contains(const struct ring *ring, uint32_t node)
{
    size_t i = ring_node_lower_bound(ring, node);

    return node && i < ring->n_nodes && ring->nodes[i] == node;
}

/* Stores in 'out' the first 'n' distinct nodes that own points at or after
 * position 'hash', walking clockwise around 'ring' (wrapping past the top),
 * and returns how many were stored: min('n', ring_n_nodes('ring')), so 0 for
 * the empty ring.  out[0] is the owner of 'hash'. */
size_t
ring_lookup_n(const struct ring *ring, uint64_t hash, uint32_t out[],
              size_t n)
{
    size_t lo = 0, hi = ring->n_points;
    size_t n_out = 0;

    n = MIN(n, ring->n_nodes);
    if (!n) {
        return 0;
    }

    /* First point >= 'hash'. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (ring->points[mid] < hash) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }

    for (size_t step = 0; step < ring->n_points && n_out < n; step++) {
        uint32_t owner = ring->owners[(lo + step) % ring->n_points];
        size_t j;

        for (j = 0; j < n_out; j++) {
            if (out[j] == owner) {
                break;
            }
        }
        if (j == n_out) {
            out[n_out++] = owner;
        }
    }
    return n_out;
}

/* Returns the owner of position 'hash' on 'ring', or 0 if 'ring' is empty. */
uint32_t
ring_lookup(const struct ring *ring, uint64_t hash)
{
    uint32_t owner;

    return ring_lookup_n(ring, hash, &owner, 1) ? owner : 0;
}

/* Stores in '*pft' and '*sft' the primary and secondary flow trackers of the
 * flow whose CP pair is 'key': the first two distinct owners at
 * flow_key_hash64('key', ring key).  Returns the number of trackers: 2, or 1
 * for a single-node ring (then '*sft' is 0), or 0 for the empty ring (both
 * 0).  '*pft' and '*sft' are never the same node. */
size_t
ring_trackers(const struct ring *ring, const struct flow_key *key,
              uint32_t *pft, uint32_t *sft)
{
    uint32_t out[2] = { 0, 0 };
    size_t n;

    n = ring_lookup_n(ring, flow_key_hash64(key, ring->key), out, 2);
    *pft = out[0];
    *sft = out[1];
    return n;
}

/* Returns the egress node of the flow whose CP pair is 'key' (PROTOCOL.md
 * section 5), or 0 if 'ring' is empty.  It is the owner of the flow's hash
 * under a key derived from the ring key, so it is independent of the flow's
 * trackers: a node's egress share does not follow its tracker share. */
uint32_t
ring_egress(const struct ring *ring, const struct flow_key *key)
{
    return ring_lookup(ring, flow_key_hash64(key, ring->egress_key));
}

/* Stores in '*first' and '*second' the two LB nodes of 'ring' that check
 * server node 'server' and send it the LB list (PROTOCOL.md section 8): the
 * first two distinct owners at a keyed hash of 'server'.  Returns how many
 * there are (2, or fewer for a ring of fewer nodes; missing ones are 0). */
size_t
ring_server_checkers(const struct ring *ring, uint32_t server,
                     uint32_t *first, uint32_t *second)
{
    uint32_t out[2] = { 0, 0 };
    uint8_t buf[4];
    size_t n;

    put_be32(buf, server);
    n = ring_lookup_n(ring,
                      flow_key_siphash(buf, sizeof buf, ring->key,
                                       RING_SERVER_K1),
                      out, 2);
    *first = out[0];
    *second = out[1];
    return n;
}

/* Stores in '*prev' and '*next' the neighbours of 'node' among the nodes of
 * 'ring' taken in ascending id order, circularly: '*prev' is the greatest id
 * below 'node' (or, if none, the greatest id), '*next' the smallest id above
 * it (or, if none, the smallest id), never 'node' itself.  'node' need not be
 * in 'ring': then these are the nodes it would sit between.
 *
 * Returns the number of distinct neighbours: 2; 1 when 'ring' has only one
 * node other than 'node' (then '*prev' == '*next'); 0 when it has none (then
 * both are 0). */
size_t
ring_neighbours(const struct ring *ring, uint32_t node, uint32_t *prev,
                uint32_t *next)
{
    size_t n = ring->n_nodes;
    size_t lo = ring_node_lower_bound(ring, node);
    size_t hi = lo < n && ring->nodes[lo] == node ? lo + 1 : lo;
    size_t n_others = n - (hi - lo);

    if (!n_others) {
        *prev = *next = 0;
        return 0;
    }
    /* The others are nodes[0..lo) and nodes[hi..n). */
    *prev = lo > 0 ? ring->nodes[lo - 1] : ring->nodes[n - 1];
    *next = hi < n ? ring->nodes[hi] : ring->nodes[0];
    return n_others == 1 ? 1 : 2;
}

/* Returns true if 'a' and 'b' give the same answers: same nodes, key and
 * vnodes. */
bool
ring_equals(const struct ring *a, const struct ring *b)
{
    return (a->key == b->key
            && a->vnodes == b->vnodes
            && a->n_nodes == b->n_nodes
            && !memcmp(a->nodes, b->nodes, a->n_nodes * sizeof *a->nodes));
}

/* Returns a 64-bit digest of 'ring' (its nodes and vnodes, hashed under its
 * key), equal on every node that built the same ring.  Nodes may exchange it
 * to detect disagreeing membership; it does not reveal the key. */
uint64_t
ring_digest(const struct ring *ring)
{
    return ring->digest;
}

/* Appends to 's' a one-line description of 'ring' for logs and unixctl:
 * node count, vnodes, digest and the node ids.  The key is not shown. */
void
ring_format(const struct ring *ring, struct ds *s)
{
    ds_put_format(s, "%"PRIuSIZE" nodes, %u vnodes, digest %016"PRIx64":",
                  ring->n_nodes, ring->vnodes, ring->digest);
    for (size_t i = 0; i < ring->n_nodes; i++) {
        ds_put_format(s, " %"PRIu32, ring->nodes[i]);
    }
}
