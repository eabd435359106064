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
 * vip-load: the load of this server's VIP ports, as ovslb-agent reports it
 * to every healthy LB node in LOAD messages (lib/ctl-msg.h) after each
 * reading of the kernel's socket table (every publish_interval_ms), for the
 * VIPs' least-connections and lowest-latency algorithms (lib/selection.h).
 *
 * Per VIP port: whether its service fails its health check
 * (service-probe.h), the established sockets, the connections waiting in the
 * accept queues of its listeners (a listener on the wildcard address counts
 * for every VIP with its port), and the mean of the kernel's smoothed
 * round-trip times of those established sockets that have one.  Every VIP
 * port is reported, idle ones with zeros, so that an LB node can tell an
 * idle server from one that stopped reporting.
 *
 * Pure: no I/O, no clock.  Single-threaded.
 */
#ifndef OVSLB_VIP_LOAD_H
#define OVSLB_VIP_LOAD_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct agent_vip_port;
struct ctl_msg;

struct vip_load *vip_load_create(void);
void vip_load_destroy(struct vip_load *);

void vip_load_begin(struct vip_load *, const struct agent_vip_port *,
                    size_t n);
void vip_load_socket(struct vip_load *, const struct in6_addr *local,
                     uint16_t port, bool listener, uint32_t rqueue,
                     uint32_t rtt_us);
void vip_load_set_down(struct vip_load *, const struct in6_addr *vip,
                       uint16_t port, bool udp, bool down);
size_t vip_load_n_msgs(const struct vip_load *);
void vip_load_msg(const struct vip_load *, size_t i, uint32_t self,
                  struct ctl_msg *);

#endif /* vip-load.h */
