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
 * lb-io: how the lbnode core's requests (lbnode_io, lbnode.h) reach the
 * switch and the network: messages to other nodes on the control or the
 * forwarding socket, packet-outs north and to servers, and the switch's
 * connection-tracker entries.  Part of the daemon (controller-private.h).
 */
#include <config.h>
#include "controller/controller-private.h"

#include <sys/socket.h>

#include "cluster-config.h"
#include "ctl-msg.h"
#include "flow-key.h"
#include "flows/lb-pipeline.h"
#include "controller/hash-vips.h"
#include "controller/lb-actions.h"
#include "controller/lbnode.h"
#include "node-daemon.h"
#include "ofctrl.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-ct.h"
#include "timeval.h"
#include "util.h"

static void
io_send(void *c_, uint32_t dst, struct ctl_msg *msg)
{
    struct controller *c = c_;
    int error;

    if (msg->type == CTL_MSG_PUBLISH_FWD) {
        const struct cluster_snapshot *snap = node_daemon_config(c->nd);

        error = node_daemon_send_via(c->nd, c->fwd_sock,
                                     snap ? snap->settings.publish_port : 0,
                                     dst, msg);
    } else {
        error = node_daemon_send(c->nd, dst, msg);
    }
    if (error) {
        c->msgs_no_route++;
    }
}

static void
send_packet_out(struct controller *c, const void *frame, size_t len,
                const struct ofpact *ofpacts, size_t ofpacts_len)
{
    struct ofctrl *ofctrl = node_daemon_ofctrl(c->nd);

    if (!ofctrl || !ofpacts_len
        || ofctrl_send_packet_out(ofctrl, frame, len, OFPP_CONTROLLER,
                                  ofpacts, ofpacts_len)) {
        c->packet_outs_failed++;
    }
}

/* Sends the Ethernet frame 'frame' of 'len' bytes out of the north port of
 * the controller 'c_' (lbnode_io's 'send_north'). */
void
lb_io_send_north(void *c_, const void *frame, size_t len)
{
    struct controller *c = c_;
    const struct ofpact *ofpacts;
    size_t ofpacts_len;

    ofpacts = lb_actions_north(c->actions, &ofpacts_len);
    send_packet_out(c, frame, len, ofpacts, ofpacts_len);
}

/* The switch learns a mapping from the packet-out that forwards the flow's
 * first packet after it (io_forward() commits it to the connection
 * tracker): nothing to do before. */
static void
io_install_mapping(void *c_ OVS_UNUSED, const struct flow_key *cp OVS_UNUSED,
                   const struct in6_addr *server OVS_UNUSED)
{
}

/* Forgets the switch's connection-tracker entry of 'cp': the connection's
 * lease lapsed, or a new connection reuses its CP. */
static void
io_remove_mapping(void *c_, const struct flow_key *cp)
{
    struct controller *c = c_;
    struct ofctrl *ofctrl = node_daemon_ofctrl(c->nd);
    struct ofp_ct_match match;

    flow_key_to_ct_match(cp, &match);
    if (!ofctrl || ofctrl_flush_conntrack(ofctrl, LB_CT_ZONE, &match)) {
        c->ct_flushes_failed++;
    }
}

/* Sends the client's frame on to 'server', committing its connection to the
 * switch's connection tracker with the server as its mark, so that the
 * connection's next packets go there without the controller. */
static void
io_forward(void *c_, const struct flow_key *cp OVS_UNUSED, const void *frame,
           size_t len, const struct in6_addr *server)
{
    struct controller *c = c_;
    const struct ofpact *ofpacts;
    size_t ofpacts_len;

    ofpacts = lb_actions_to_server(c->actions, server, &ofpacts_len);
    send_packet_out(c, frame, len, ofpacts, ofpacts_len);
}

static bool
io_hash_target(void *c_, const struct flow_key *cp, bool settled,
               struct in6_addr *server_addr)
{
    struct controller *c = c_;

    return hash_vips_target(c->hash_vips, cp,
                            settled ? time_msec() : LLONG_MAX, server_addr);
}

const struct lbnode_io lb_io = {
    .send = io_send,
    .send_north = lb_io_send_north,
    .install_mapping = io_install_mapping,
    .remove_mapping = io_remove_mapping,
    .forward = io_forward,
    .hash_target = io_hash_target,
};
