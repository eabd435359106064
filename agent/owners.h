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
 * owners: connection ownership gossip between the agents of `hash` VIPs
 * (PROTOCOL.md §4, PRIOR-ART.md §2), the second line of defence when the LB
 * tier sends a connection to a server that does not hold its socket.
 *
 * What this node owns: the sockets of its `hash` VIP ports that the agent's
 * full dumps report (the publishing states), fed between
 * owners_dump_begin() and owners_dump_end().  Each dump's difference is
 * sent as OWNER deltas (opened, closed) to the targets: the other server
 * nodes of the VIPs.  Every OWNERS_REFRESH_DIV-th of the lease every owned
 * socket is sent again as opened, and at least one OWNER goes to each
 * target, so that a receiver can tell a live peer from a departed one and a
 * lost delta is repaired; a new target gets the whole set at once.
 *
 * What others own: an association CP -> owner per socket another agent
 * announced, with a lease renewed by each announcement.  An association
 * ends when the owner says the socket closed, when its lease lapses, when
 * the owner departs (nothing heard for a lease, or no longer a server node
 * of the configuration), or when this node finds the socket in its own
 * table (a local socket wins: a SYN reaching this node is always served
 * here, and PROTOCOL.md §4 redirects only the other segments).  The switch
 * learns each association through ops->redirect() (the agent commits a
 * conntrack entry whose mark names the owner: flows/server-pipeline.h) and
 * forgets it through ops->unredirect(); ops->redirect() is called again for
 * a live association every OWNERS_RECOMMIT_MS, since the switch's entry
 * expires when no segment uses it.
 *
 * An OWNER is accepted only from a server node of the configuration,
 * speaking for itself (its 'server' is its sender); anything else is
 * counted and dropped.
 *
 * Pure: no I/O other than through 'ops', time passed in.  Single-threaded.
 */
#ifndef OVSLB_OWNERS_H
#define OVSLB_OWNERS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "flow-key.h"

struct ctl_msg;
struct ds;
struct metrics;

/* The refresh period is the lease divided by this. */
#define OWNERS_REFRESH_DIV 3
/* How often a live association is committed again to the switch: well
 * within the userspace connection tracker's 30 s for a connection that
 * has seen one direction only. */
#define OWNERS_RECOMMIT_MS 10000
/* Associations held at most. */
#define OWNERS_MAX_ASSOCIATIONS 262144

struct owners_ops {
    void (*send)(void *aux, uint32_t dst, struct ctl_msg *);
    /* The switch should send the non-SYN segments of 'cp' to 'owner'.
     * Returns false if the switch could not be told (tried again at the
     * next announcement). */
    bool (*redirect)(void *aux, const struct flow_key *cp, uint32_t owner);
    /* ...and no longer. */
    void (*unredirect)(void *aux, const struct flow_key *cp);
};

struct owners_stats {
    uint64_t msgs_sent;
    uint64_t msgs_received;
    uint64_t msgs_refused;      /* Not from a server node speaking for
                                 * itself. */
    uint64_t opened_sent;
    uint64_t closed_sent;
    uint64_t refreshes;         /* Rounds that sent the whole set. */
    uint64_t opened_received;
    uint64_t closed_received;
    uint64_t closed_unknown;    /* A close of no association of its sender. */
    uint64_t conflicts;         /* Announced by a peer, owned here. */
    uint64_t local_wins;        /* Associations ended by a local socket. */
    uint64_t moved;             /* Associations whose owner changed. */
    uint64_t expired;           /* Leases lapsed. */
    uint64_t peers_departed;
    uint64_t table_full;        /* Announcements dropped: no room. */
    uint64_t redirects;         /* ops->redirect() calls. */
    uint64_t unredirects;       /* ops->unredirect() calls. */
};

struct owners *owners_create(uint32_t self, const struct owners_ops *,
                             void *aux);
void owners_destroy(struct owners *);

void owners_set_config(struct owners *, const uint32_t *targets,
                       size_t n_targets, const uint32_t *servers,
                       size_t n_servers, long long int lease_ms,
                       long long int now);

void owners_dump_begin(struct owners *);
void owners_dump_socket(struct owners *, const struct flow_key *cp);
void owners_dump_end(struct owners *, long long int now);

void owners_receive(struct owners *, const struct ctl_msg *,
                    long long int now);

void owners_run(struct owners *, long long int now);
long long int owners_next_deadline(const struct owners *);

size_t owners_n_owned(const struct owners *);
size_t owners_n_associations(const struct owners *);
bool owners_lookup(const struct owners *, const struct flow_key *,
                   uint32_t *owner);
size_t owners_live_peers(const struct owners *, uint32_t *ids, size_t max);
uint64_t owners_peers_seqno(const struct owners *);

const struct owners_stats *owners_get_stats(const struct owners *);
void owners_format(const struct owners *, struct ds *);
void owners_format_stats(const struct owners *, struct ds *);
void owners_put_metrics(const struct owners *, struct metrics *);

#endif /* owners.h */
