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

/* metrics-sample: writes a metrics file as an LB node's controller would
 * (lib/metrics.c), for tests/metrics-exporter.sh to have the real node
 * exporter serve it.
 *
 *     metrics-sample PATH ROUND
 *
 * ROUND 1 and 2 write different values: in round 1 every peer is healthy
 * (start-up), in round 2 (10 s later, no answers) none is.  The health
 * families come from a real 'struct health' (lib/health.c); the others are
 * representative families of the controller and the agent with fixed
 * values, under their real names. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "metrics.h"
#include "util.h"

static void
drop_send(void *aux OVS_UNUSED, uint32_t dst OVS_UNUSED,
          enum health_via via OVS_UNUSED,
          const struct in6_addr *addr OVS_UNUSED,
          struct ctl_msg *msg OVS_UNUSED)
{
}

static const struct health_io drop_io = { drop_send };

/* LB nodes 1 (this one) and 2, server node 101. */
static void
put_health(struct metrics *m, int round)
{
    struct health_lb lbs[2];
    struct health_server server;
    struct health_config cfg;
    struct health *h;

    memset(lbs, 0, sizeof lbs);
    memset(&server, 0, sizeof server);
    memset(&cfg, 0, sizeof cfg);
    lbs[0].node = 1;
    lbs[1].node = 2;
    server.node = 101;
    cfg.lbs = lbs;
    cfg.n_lbs = 2;
    cfg.servers = &server;
    cfg.n_servers = 1;
    cfg.ring_key = 0x1234;

    h = health_create(1, &cfg, 1, 0);
    if (round > 1) {
        for (long long int now = 0; now <= 10000; now += 50) {
            health_run(h, now, &drop_io, NULL);
        }
    }
    health_put_metrics(h, m);
    health_destroy(h);
}

int
main(int argc, char *argv[])
{
    struct metrics *m;
    struct metrics_family *f;
    int round;

    set_program_name(argv[0]);
    if (argc != 3 || (round = atoi(argv[2])) < 1) {
        ovs_fatal(0, "usage: %s PATH ROUND", argv[0]);
    }

    m = metrics_create();
    metrics_set_common_label(m, "node", "1");
    metrics_set_common_label(m, "role", "lb");

    f = metrics_family(m, "ovslb_lb_packet_ins_total", METRICS_COUNTER,
                       "Packet-ins handled, by kind (client SYN, other "
                       "client segment, ARP).");
    metrics_add(f, 1000 * round, "kind", "syn", NULL);
    metrics_add(f, 50 * round, "kind", "other", NULL);
    metrics_add(f, 3, "kind", "arp", NULL);
    metrics_put(m, "ovslb_lb_connections_accepted_total", METRICS_COUNTER,
                "Connections accepted by a server (ACCEPTED received).",
                900 * round, NULL);
    f = metrics_family(m, "ovslb_lb_rejected_by_reason_total",
                       METRICS_COUNTER,
                       "Connection requests rejected by a server, by "
                       "reason.");
    metrics_add(f, 7, "reason", "limit", NULL);
    metrics_add(f, 0, "reason", "not-listening", NULL);
    f = metrics_family(m, "ovslb_lb_vip_healthy_servers", METRICS_GAUGE,
                       "Servers of the VIP that are healthy.");
    metrics_add(f, 2, "vip", "web", NULL);
    metrics_add(f, 1, "vip", "odd \"name\"\\with\nnewline", NULL);
    f = metrics_family(m, "ovslb_ctl_messages_sent_total", METRICS_COUNTER,
                       "Control messages sent, by type.");
    metrics_add(f, 42, "socket", "control", "type", "SYN_INFO", NULL);
    metrics_add(f, 17, "socket", "control", "type", "MAPPING", NULL);
    metrics_put(m, "ovslb_agent_translated_to_server_total",
                METRICS_COUNTER, "Segments translated, client to server.",
                123456789012, NULL);
    metrics_put(m, "ovslb_agent_translated_to_client_total",
                METRICS_COUNTER, "Segments translated, server to client.",
                98765 * round, NULL);
    metrics_put(m, "ovslb_agent_load_ratio", METRICS_GAUGE,
                "Runnable tasks per CPU, as admission sees it.", 0.25,
                NULL);
    put_health(m, round);

    int error = metrics_write(m, argv[1], true);
    metrics_destroy(m);
    if (error) {
        ovs_fatal(error, "%s", argv[1]);
    }
    return 0;
}
