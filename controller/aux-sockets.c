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
 * aux-sockets: the daemon's control sockets besides the node daemon's own
 * (node-daemon.h): one on the north address and one on the south address
 * (each unless it is the control address), for the health checks of the
 * north and south paths, and one on the forwarding port, for PUBLISH_FWD.  Opened,
 * moved and keyed as the configuration says.  Part of the daemon
 * (controller-private.h).
 */
#include <config.h>
#include "controller/controller-private.h"

#include <stdlib.h>
#include <string.h>

#include "cluster-config.h"
#include "ctl-sock.h"
#include "node-daemon.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(aux_sockets);

/* Keeps '*sockp' open on 'addr' (NULL: closed), port 'port', keyed with
 * the cluster key; 'what' names it in logs. */
static void
update_aux_socket(struct controller *c, struct ctl_sock **sockp,
                  const struct in6_addr *addr, uint16_t port,
                  const char *what)
{
    const struct cluster_snapshot *snap = node_daemon_config(c->nd);
    const struct node_settings *ns = node_daemon_settings(c->nd);

    if (!addr) {
        ctl_sock_close(*sockp);
        *sockp = NULL;
        return;
    }
    if (!*sockp || !ipv6_addr_equals(ctl_sock_addr(*sockp), addr)
        || ctl_sock_port(*sockp) != port) {
        char *error;

        ctl_sock_close(*sockp);
        *sockp = NULL;
        error = ctl_sock_open(addr, port, ns->node_id, sockp);
        if (error) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
            VLOG_WARN_RL(&rl, "%s socket: %s", what, error);
            free(error);
            return;
        }
    }
    char *error = node_daemon_set_sock_keys(*sockp, &snap->settings);
    if (error) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "%s socket: %s", what, error);
        free(error);
    }
}

/* Opens (or moves) the sockets on this node's own addresses: on the north
 * and south addresses, each if it is not the control address (control
 * traffic on a management network of its own), so that the health checks
 * of the north and south paths reach us and answers go out from them; and
 * on the forwarding port of the control address, for PUBLISH_FWD. */
void
aux_sockets_update(struct controller *c)
{
    const struct cluster_snapshot *snap = node_daemon_config(c->nd);
    const struct node_settings *ns = node_daemon_settings(c->nd);
    const struct cluster_lb_node *self;

    /* (Not waiting for the node daemon's own socket: when the control
     * address moves to our north or south address, that socket can bind
     * only once ours there is closed.) */
    if (!snap || !ns) {
        return;
    }
    self = cluster_snapshot_find_lb_node(snap, ns->node_id);
    update_aux_socket(c, &c->north_sock,
                      (self && !ipv6_addr_equals(&self->north, &self->control)
                       ? &self->north : NULL),
                      snap->settings.control_port, "north health");
    update_aux_socket(c, &c->south_sock,
                      (self && !ipv6_addr_equals(&self->south, &self->control)
                       ? &self->south : NULL),
                      snap->settings.control_port, "south health");
    update_aux_socket(c, &c->fwd_sock, self ? &self->control : NULL,
                      snap->settings.publish_port, "publication forwarding");
}
