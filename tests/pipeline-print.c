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

/* pipeline-print: prints a node pipeline for fixed parameters (those of the
 * lab's LB node 1, LAB.md) in `ovs-ofctl add-flows` format, for the golden
 * and dummy-datapath tests (tests/flows-golden.sh); "lb-hash" adds three
 * hash VIP ports (TCP 80 and UDP 53 by flow, TCP 443 by source) and their
 * slot flows, and "hash-server PORT..." ("hash-server-udp PORT...")
 * prints the slot and server that the daemons compute for each client port
 * of the TCP (UDP) one, "hash-server-source CLIENT..." for each client
 * address of the one by source (tests/lb-hash.sh); "forward SERVER" prints
 * the actions of ovslb-controller's packet-out that forwards a flow's packet
 * to the server node SERVER (an underlay address) and commits the flow to
 * the switch's connection tracker (controller/lb-actions.h), for the
 * dummy-datapath test of the ingress (tests/lb-ingress.sh). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/lb-actions.h"
#include "flows/hash-slots.h"
#include "flows/lb-pipeline.h"
#include "flow-key.h"
#include "maglev.h"
#include "openvswitch/ofp-actions.h"
#include "flows/pipeline.h"
#include "openvswitch/dynamic-string.h"
#include "flow.h"
#include "packets.h"
#include "util.h"

static struct in6_addr
v4(const char *s)
{
    struct in6_addr a;
    ovs_be32 ip;

    if (!ip_parse(s, &ip)) {
        ovs_fatal(0, "%s: bad address", s);
    }
    in6_addr_set_mapped_ipv4(&a, ip);
    return a;
}

/* The hash VIP of "lb-hash": its address, its port is 80, its table, and
 * its servers (node id, underlay address). */
#define HASH_VIP "203.0.113.20"
#define HASH_TABLE_SIZE 251
static struct hash_slots_server hash_servers[3];

static struct maglev *
hash_table_create(void)
{
    struct maglev_backend backends[ARRAY_SIZE(hash_servers)];

    for (size_t i = 0; i < ARRAY_SIZE(hash_servers); i++) {
        char addr[16];

        snprintf(addr, sizeof addr, "10.2.0.%d", 101 + (int) i);
        hash_servers[i].id = 101 + i;
        hash_servers[i].underlay = v4(addr);
        backends[i] = (struct maglev_backend) { .id = 101 + i, .weight = 1 };
    }
    return maglev_create(backends, ARRAY_SIZE(backends), HASH_TABLE_SIZE);
}

/* Prints, for each client port of 'ports' (from 198.51.100.2 to the hash
 * VIP's port 80, or for 'proto' UDP to port 53), the slot hash_slots_of()
 * gives it and the underlay address of the slot's server; if 'by_source',
 * for each client address of 'ports' (to port 443, by source). */
static int
print_hash_servers(uint8_t proto, bool by_source, int n_ports,
                   char *ports[])
{
    struct maglev *m = hash_table_create();

    for (int i = 0; i < n_ports; i++) {
        struct in6_addr client = v4(by_source ? ports[i] : "198.51.100.2");
        struct in6_addr vip = v4(HASH_VIP);
        uint16_t port = (by_source ? 443 : proto == IPPROTO_UDP ? 53 : 80);
        struct flow_key cp;
        char addr[INET6_ADDRSTRLEN];
        uint32_t slot, id;

        flow_key_init_v6(&cp, &client,
                         htons(by_source ? 40000 : atoi(ports[i])), &vip,
                         htons(port), proto);
        slot = hash_slots_of(&cp, HASH_TABLE_SIZE, by_source);
        if (!maglev_get_slot(m, slot, &id)) {
            ovs_fatal(0, "slot %"PRIu32" has no server", slot);
        }
        ipv6_string_mapped(addr, &hash_servers[id - 101].underlay);
        printf("%s %"PRIu32" %s\n", ports[i], slot, addr);
    }
    maglev_destroy(m);
    return 0;
}

int
main(int argc, char *argv[])
{
    struct pipeline p;
    struct ds s = DS_EMPTY_INITIALIZER;

    set_program_name(argv[0]);
    if (argc == 3 && !strcmp(argv[1], "forward")) {
        struct lb_actions *a = lb_actions_create();
        struct ofpact_format_params fp = { .s = &s };
        struct in6_addr server;
        const struct ofpact *ofpacts;
        size_t len;

        if (!ipv6_parse(argv[2], &server)) {
            server = v4(argv[2]);
        }
        lb_actions_set_ports(a, u16_to_ofp(1), u16_to_ofp(100));
        ofpacts = lb_actions_to_server(a, &server, &len);
        ofpacts_format(ofpacts, len, &fp);
        printf("%s\n", ds_cstr(&s));
        ds_destroy(&s);
        lb_actions_destroy(a);
        return len ? 0 : 1;
    }
    if (argc >= 2 && !strcmp(argv[1], "hash-server")) {
        return print_hash_servers(IPPROTO_TCP, false, argc - 2, argv + 2);
    }
    if (argc >= 2 && !strcmp(argv[1], "hash-server-udp")) {
        return print_hash_servers(IPPROTO_UDP, false, argc - 2, argv + 2);
    }
    if (argc >= 2 && !strcmp(argv[1], "hash-server-source")) {
        return print_hash_servers(IPPROTO_TCP, true, argc - 2, argv + 2);
    }
    bool hash = argc == 2 && !strcmp(argv[1], "lb-hash");
    if (argc != 2 || (strcmp(argv[1], "lb") && !hash)) {
        ovs_fatal(0, "usage: %s lb | lb-hash | hash-server PORT... "
                  "| hash-server-udp PORT... | hash-server-source CLIENT... "
                  "| forward SERVER", argv[0]);
    }

    const struct lb_pipeline_vip vips[] = {
        { .addr = v4("203.0.113.10"), .port = 80, .proto = IPPROTO_TCP },
        { .addr = v4("203.0.113.10"), .port = 5201, .proto = IPPROTO_TCP },
        { .addr = v4("203.0.113.11"), .port = 80, .proto = IPPROTO_TCP },
        /* lb-hash only: */
        { .addr = v4(HASH_VIP), .port = 80, .proto = IPPROTO_TCP,
          .hash_id = 1, .hash_slots = HASH_TABLE_SIZE },
        { .addr = v4(HASH_VIP), .port = 53, .proto = IPPROTO_UDP,
          .hash_id = 2, .hash_slots = HASH_TABLE_SIZE },
        { .addr = v4(HASH_VIP), .port = 443, .proto = IPPROTO_TCP,
          .hash_id = 3, .hash_slots = HASH_TABLE_SIZE,
          .hash_by_source = true },
    };
    const struct in6_addr servers[] = {
        v4("10.2.0.101"), v4("10.2.0.102"),
    };
    struct lb_pipeline_params params = {
        .north_port = u16_to_ofp(1),
        .tunnel_port = u16_to_ofp(100),
        .has_macs = true,
        .own_mac = ETH_ADDR_C(02,00,0a,01,00,0b),
        .edge_mac = ETH_ADDR_C(02,00,0a,01,00,01),
        .vips = vips, .n_vips = ARRAY_SIZE(vips) - (hash ? 0 : 3),
        .servers = servers, .n_servers = ARRAY_SIZE(servers),
    };

    pipeline_init(&p);
    lb_pipeline_build(&params, &p);
    if (hash) {
        struct maglev *m = hash_table_create();

        hash_slots_build(1, IPPROTO_TCP, true, m, hash_servers,
                         ARRAY_SIZE(hash_servers), u16_to_ofp(100), &p);
        hash_slots_build(2, IPPROTO_UDP, true, m, hash_servers,
                         ARRAY_SIZE(hash_servers), u16_to_ofp(100), &p);
        hash_slots_build(3, IPPROTO_TCP, true, m, hash_servers,
                         ARRAY_SIZE(hash_servers), u16_to_ofp(100), &p);
        maglev_destroy(m);
    }
    pipeline_format(&p, &s);
    fputs(ds_cstr(&s), stdout);
    ds_destroy(&s);
    pipeline_destroy(&p);
    return 0;
}
