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
 * flow-key: the "CP pair" of PROTOCOL.md, the key of every per-flow state in
 * ovslb (client address and port, VIP and VIP port, protocol).
 *
 * Pure: no I/O.  Any thread may call these functions on its own keys.
 *
 * Addresses are stored as IPv6 (IPv4 as v4-mapped ::ffff:a.b.c.d) so that the
 * key has one layout for both families; the structure has no padding holes,
 * so it may be hashed and compared as bytes, and written to the wire and to
 * the store as its 40 bytes in network byte order.
 */
#ifndef OVSLB_FLOW_KEY_H
#define OVSLB_FLOW_KEY_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openvswitch/types.h"

struct ds;

struct flow_key {
    struct in6_addr client;     /* Client address (v4-mapped for IPv4). */
    struct in6_addr vip;        /* Virtual (public) address. */
    ovs_be16 client_port;       /* Client's TCP/UDP port. */
    ovs_be16 vip_port;          /* VIP's TCP/UDP port. */
    uint8_t proto;              /* IPPROTO_TCP or IPPROTO_UDP. */
    uint8_t pad[3];             /* Always zero. */
};
BUILD_ASSERT_DECL(sizeof(struct flow_key) == 40);

#define FLOW_KEY_WIRE_LEN 40

/* Which end of a packet is the client. */
enum flow_key_dir {
    FLOW_KEY_TO_VIP,            /* Client -> VIP: source is the client. */
    FLOW_KEY_FROM_VIP,          /* VIP -> client: destination is client. */
};

void flow_key_init_v4(struct flow_key *, ovs_be32 client, ovs_be16 client_port,
                      ovs_be32 vip, ovs_be16 vip_port, uint8_t proto);
void flow_key_init_v6(struct flow_key *, const struct in6_addr *client,
                      ovs_be16 client_port, const struct in6_addr *vip,
                      ovs_be16 vip_port, uint8_t proto);

bool flow_key_is_valid(const struct flow_key *);
bool flow_key_is_v4(const struct flow_key *);
ovs_be32 flow_key_client_v4(const struct flow_key *);
ovs_be32 flow_key_vip_v4(const struct flow_key *);

int flow_key_from_ip(struct flow_key *, const void *l3, size_t l3_len,
                     enum flow_key_dir);

bool flow_key_equals(const struct flow_key *, const struct flow_key *);
uint32_t flow_key_hash(const struct flow_key *, uint32_t basis);
uint64_t flow_key_hash64(const struct flow_key *, uint64_t key);
uint64_t flow_key_siphash(const void *, size_t n, uint64_t k0, uint64_t k1);

struct ofp_ct_match;
void flow_key_to_ct_match(const struct flow_key *, struct ofp_ct_match *);

void flow_key_format(const struct flow_key *, struct ds *);
char *flow_key_parse(struct flow_key *, const char *s)
    OVS_WARN_UNUSED_RESULT;

#endif /* flow-key.h */
