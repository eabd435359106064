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
 * and dummy-datapath tests (tests/flows-golden.sh); "forward SERVER" prints
 * the actions of ovslb-controller's packet-out that forwards a flow's packet
 * to the server node SERVER (an underlay address) and commits the flow to
 * the switch's connection tracker (controller/lb-actions.h), for the
 * dummy-datapath test of the ingress (tests/lb-ingress.sh). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/lb-actions.h"
#include "flows/lb-pipeline.h"
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
    if (argc != 2 || strcmp(argv[1], "lb")) {
        ovs_fatal(0, "usage: %s lb | forward SERVER", argv[0]);
    }

    const struct lb_pipeline_vip vips[] = {
        { .addr = v4("203.0.113.10"), .port = 80, .proto = IPPROTO_TCP },
        { .addr = v4("203.0.113.10"), .port = 5201, .proto = IPPROTO_TCP },
        { .addr = v4("203.0.113.11"), .port = 80, .proto = IPPROTO_TCP },
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
        .vips = vips, .n_vips = ARRAY_SIZE(vips),
        .servers = servers, .n_servers = ARRAY_SIZE(servers),
    };

    pipeline_init(&p);
    lb_pipeline_build(&params, &p);
    pipeline_format(&p, &s);
    fputs(ds_cstr(&s), stdout);
    ds_destroy(&s);
    pipeline_destroy(&p);
    return 0;
}
