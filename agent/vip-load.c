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
#include "vip-load.h"

#include <string.h>

#include "agent-core.h"
#include "ctl-msg.h"
#include "hash.h"
#include "openvswitch/hmap.h"
#include "packets.h"
#include "util.h"

/* One VIP port and what the current reading found for it. */
struct port_load {
    struct hmap_node node;      /* In 'by_addr', by hash_addr_port(). */
    struct in6_addr vip;
    uint16_t port;
    bool udp;                   /* Else TCP. */
    uint32_t conns;
    uint32_t backlog;
    uint64_t rtt_sum_us;
    uint32_t n_rtt;
    bool down;                  /* The service fails its health check. */
};

struct vip_load {
    struct port_load *ports;    /* In the order of vip_load_begin(). */
    size_t n_ports;
    struct hmap by_addr;        /* Of 'ports'. */
};

static uint32_t
hash_addr_port(const struct in6_addr *addr, uint16_t port, bool udp)
{
    return hash_bytes(addr, sizeof *addr, port | (udp << 16));
}

/* Creates an empty reading. */
struct vip_load *
vip_load_create(void)
{
    struct vip_load *vl = xzalloc(sizeof *vl);

    hmap_init(&vl->by_addr);
    return vl;
}

/* Frees 'vl' (a null pointer: nothing). */
void
vip_load_destroy(struct vip_load *vl)
{
    if (vl) {
        hmap_destroy(&vl->by_addr);
        free(vl->ports);
        free(vl);
    }
}

static struct port_load *
find_port(const struct vip_load *vl, const struct in6_addr *addr,
          uint16_t port, bool udp)
{
    struct port_load *pl;

    HMAP_FOR_EACH_WITH_HASH (pl, node, hash_addr_port(addr, port, udp),
                             &vl->by_addr) {
        if (pl->port == port && pl->udp == udp
            && ipv6_addr_equals(&pl->vip, addr)) {
            return pl;
        }
    }
    return NULL;
}

/* Starts a reading of the 'n' VIP ports 'vps' (duplicates count once),
 * every figure at zero. */
void
vip_load_begin(struct vip_load *vl, const struct agent_vip_port *vps,
               size_t n)
{
    hmap_clear(&vl->by_addr);
    vl->ports = xrealloc(vl->ports, MAX(n, 1) * sizeof *vl->ports);
    vl->n_ports = 0;
    /* 'ports' has room for all: it does not move while the map grows. */
    for (size_t i = 0; i < n; i++) {
        if (find_port(vl, &vps[i].vip, vps[i].port, vps[i].udp)) {
            continue;
        }
        struct port_load *pl = &vl->ports[vl->n_ports++];

        memset(pl, 0, sizeof *pl);
        pl->vip = vps[i].vip;
        pl->port = vps[i].port;
        pl->udp = vps[i].udp;
        hmap_insert(&vl->by_addr, &pl->node,
                    hash_addr_port(&pl->vip, pl->port, pl->udp));
    }
}

static bool
is_any(const struct in6_addr *addr)
{
    struct in6_addr any4;

    in6_addr_set_mapped_ipv4(&any4, 0);
    return ipv6_addr_equals(addr, &in6addr_any)
           || ipv6_addr_equals(addr, &any4);
}

/* Counts one TCP socket of the reading: a listener on 'local':'port' with
 * 'rqueue' connections waiting to be accepted, or an established socket
 * with smoothed round-trip time 'rtt_us' (0: none).  Sockets of other
 * addresses and ports are ignored, and UDP VIP ports count none. */
void
vip_load_socket(struct vip_load *vl, const struct in6_addr *local,
                uint16_t port, bool listener, uint32_t rqueue,
                uint32_t rtt_us)
{
    if (listener && is_any(local)) {
        for (size_t i = 0; i < vl->n_ports; i++) {
            struct port_load *pl = &vl->ports[i];

            if (pl->port == port && !pl->udp) {
                pl->backlog = MIN(UINT32_MAX - rqueue, pl->backlog) + rqueue;
            }
        }
        return;
    }

    struct port_load *pl = find_port(vl, local, port, false);
    if (!pl) {
        return;
    } else if (listener) {
        pl->backlog = MIN(UINT32_MAX - rqueue, pl->backlog) + rqueue;
    } else {
        pl->conns += pl->conns < UINT32_MAX;
        if (rtt_us) {
            pl->rtt_sum_us += rtt_us;
            pl->n_rtt++;
        }
    }
}

/* Marks the service of 'vip':'port' (UDP if 'udp', else TCP) as failing
 * its health check ('down') or not, until the next vip_load_begin().
 * Other ports: ignored. */
void
vip_load_set_down(struct vip_load *vl, const struct in6_addr *vip,
                  uint16_t port, bool udp, bool down)
{
    struct port_load *pl = find_port(vl, vip, port, udp);

    if (pl) {
        pl->down = down;
    }
}

/* Returns the number of LOAD messages that report the reading. */
size_t
vip_load_n_msgs(const struct vip_load *vl)
{
    return DIV_ROUND_UP(vl->n_ports, CTL_LOAD_MAX_ENTRIES);
}

/* Fills 'msg' with LOAD message 'i' (below vip_load_n_msgs()) from node
 * 'self'. */
void
vip_load_msg(const struct vip_load *vl, size_t i, uint32_t self,
             struct ctl_msg *msg)
{
    size_t first = i * CTL_LOAD_MAX_ENTRIES;
    size_t n = first < vl->n_ports
               ? MIN(vl->n_ports - first, CTL_LOAD_MAX_ENTRIES) : 0;

    ctl_msg_init(msg, CTL_MSG_LOAD, self, 0);
    msg->load.n = n;
    for (size_t j = 0; j < n; j++) {
        const struct port_load *pl = &vl->ports[first + j];
        struct ctl_load_entry *e = &msg->load.entries[j];

        e->vip = pl->vip;
        e->port = pl->port;
        e->flags = ((pl->down ? CTL_LOAD_DOWN : 0)
                    | (pl->udp ? CTL_LOAD_UDP : 0));
        e->conns = pl->conns;
        e->backlog = pl->backlog;
        e->rtt_us = (pl->n_rtt
                     ? MAX(1, MIN(pl->rtt_sum_us / pl->n_rtt, UINT32_MAX))
                     : 0);
    }
}
