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
 * lb-actions: the OpenFlow actions that ovslb-controller sends with its
 * packet-outs, encoded once and kept, so that no packet-out parses text:
 *
 *   - out of the north port (SYN/ACKs, RSTs, ARP requests to the edge);
 *   - to a server node through the Geneve port, committing the connection
 *     to the switch's connection tracker (zone LB_CT_ZONE) with the server
 *     in ct_mark (IPv4 underlay) or in ct_label with ct_mark
 *     LB_CT_MARK_V6 (IPv6 underlay), so that the static flows of table 11
 *     forward the connection's later packets by themselves (flows/
 *     lb-pipeline.h).
 *
 * A cache keyed by the server's underlay address, emptied when the ports
 * change.  Single-threaded.
 */
#ifndef OVSLB_LB_ACTIONS_H
#define OVSLB_LB_ACTIONS_H 1

#include <netinet/in.h>
#include <stddef.h>
#include "openvswitch/types.h"

struct ofpact;
struct ofpbuf;
struct lb_actions;

struct lb_actions *lb_actions_create(void);
void lb_actions_destroy(struct lb_actions *);
void lb_actions_set_ports(struct lb_actions *, ofp_port_t north,
                          ofp_port_t tunnel);

const struct ofpact *lb_actions_north(const struct lb_actions *,
                                      size_t *len);
const struct ofpact *lb_actions_to_server(struct lb_actions *,
                                          const struct in6_addr *server,
                                          size_t *len);
size_t lb_actions_n_servers(const struct lb_actions *);

void lb_actions_parse(const char *text, struct ofpbuf *ofpacts);

#endif /* lb-actions.h */
