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
 * edge-mac: the MAC of the edge router (this node's default gateway), which
 * the SYN/ACKs and RSTs that the LB node sends north are addressed to.
 * Learnt from the router's ARP and the frames it brings, asked for by ARP
 * while unknown and now and then after, kept in the store's meta table.
 * Part of the daemon (controller-private.h).
 */
#include <config.h>
#include "controller/controller-private.h"

#include <stdio.h>
#include <string.h>

#include "dp-packet.h"
#include "node-daemon.h"
#include "openvswitch/ofp-port.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "store.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(edge_mac);

/* How often to ask for the edge router's MAC while it is not known. */
#define ARP_INTERVAL_MS 1000
#define ARP_REFRESH_MS 30000

/* Takes 'mac' as the edge router's, if it is a unicast address, and
 * installs what depends on it. */
void
edge_mac_learn(struct controller *c, struct eth_addr mac)
{
    if (eth_addr_is_multicast(mac) || eth_addr_is_zero(mac)) {
        return;
    }
    if (!c->has_edge_mac || !eth_addr_equals(mac, c->edge_mac)) {
        VLOG_INFO("edge router MAC "ETH_ADDR_FMT, ETH_ADDR_ARGS(mac));
        c->edge_mac = mac;
        c->has_edge_mac = true;
        if (node_daemon_store(c->nd)) {
            store_put(node_daemon_store(c->nd), "meta", EDGE_MAC_KEY,
                      strlen(EDGE_MAC_KEY), mac.ea, ETH_ADDR_LEN, 0);
        }
        if (c->has_own_mac) {
            lbnode_set_macs(c->lb, c->own_mac, c->edge_mac);
        }
        static_flows_install(c);
    }
}

/* Returns the IPv4 default gateway of this network namespace, from the
 * kernel's routing table, or 0. */
ovs_be32
edge_mac_default_gateway(void)
{
    FILE *f = fopen("/proc/net/route", "r");
    char line[256];
    ovs_be32 gw = 0;

    if (!f) {
        return 0;
    }
    while (fgets(line, sizeof line, f)) {
        char ifname[32];
        unsigned int dst, gateway;

        if (sscanf(line, "%31s %x %x", ifname, &dst, &gateway) == 3
            && dst == 0 && gateway) {
            /* /proc/net/route prints addresses in host byte order of the
             * raw network-order value. */
            gw = (ovs_be32) gateway;
            break;
        }
    }
    fclose(f);
    return gw;
}

/* Asks the default gateway for its MAC, if it is time at 'now'. */
void
edge_mac_send_arp_request(struct controller *c, long long int now)
{
    ovs_be32 gw;
    struct dp_packet b;

    /* Ask while the MAC is unknown, and now and then when it is known (it
     * may come from the journal of an earlier run, or change). */
    if (!c->has_own_mac || now < c->next_arp
        || c->north_port == OFPP_NONE
        || !IN6_IS_ADDR_V4MAPPED(&c->north_addr)) {
        return;
    }
    c->next_arp = now + (c->has_edge_mac ? ARP_REFRESH_MS : ARP_INTERVAL_MS);
    gw = edge_mac_default_gateway();
    if (!gw) {
        return;
    }
    dp_packet_init(&b, 64);
    compose_arp(&b, ARP_OP_REQUEST, c->own_mac, eth_addr_zero, true,
                in6_addr_get_mapped_ipv4(&c->north_addr), gw);
    lb_io_send_north(c, dp_packet_data(&b), dp_packet_size(&b));
    dp_packet_uninit(&b);
}

/* Returns true if 'frame' is an ARP packet whose sender is this node's
 * default gateway (the edge router). */
bool
edge_mac_arp_from_gateway(const void *frame, size_t len)
{
    const struct eth_header *eth = frame;
    const struct arp_eth_header *arp;
    ovs_be32 gw = edge_mac_default_gateway();

    if (!gw || len < ETH_HEADER_LEN + ARP_ETH_HEADER_LEN
        || eth->eth_type != htons(ETH_TYPE_ARP)) {
        return false;
    }
    arp = (const struct arp_eth_header *) ((const uint8_t *) frame
                                           + ETH_HEADER_LEN);
    return get_16aligned_be32(&arp->ar_spa) == gw;
}
