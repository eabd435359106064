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

/* Unit tests of agent/owners.c, the ownership gossip of `hash` VIPs
 * (PROTOCOL.md §4, PRIOR-ART.md §2 "What to test"): two or three agents'
 * cores wired to each other through their messages, as the agents are
 * through authenticated UDP, with the switch's side recorded. */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-msg.h"
#include "flow-key.h"
#include "openvswitch/dynamic-string.h"
#include "owners.h"
#include "util.h"

#define LEASE 9000
#define N_NODES 3

/* A node under test: its core and what it did. */
struct node {
    uint32_t id;
    struct owners *o;
    /* Messages sent, kept until delivered. */
    struct sent {
        uint32_t dst;
        struct ctl_msg msg;
    } *sent;
    size_t n_sent;
    /* The switch: CP -> owner, as told. */
    struct flow_key redirected[64];
    uint32_t owner_of[64];
    size_t n_redirected;
    size_t n_redirect_calls;
    bool switch_down;           /* Refuses redirects. */
};

static struct node nodes[N_NODES];

static void
io_send(void *aux, uint32_t dst, struct ctl_msg *msg)
{
    struct node *n = aux;

    n->sent = xrealloc(n->sent, (n->n_sent + 1) * sizeof *n->sent);
    n->sent[n->n_sent].dst = dst;
    n->sent[n->n_sent].msg = *msg;
    n->n_sent++;
}

static size_t
switch_find(const struct node *n, const struct flow_key *cp)
{
    for (size_t i = 0; i < n->n_redirected; i++) {
        if (flow_key_equals(&n->redirected[i], cp)) {
            return i;
        }
    }
    return SIZE_MAX;
}

static bool
io_redirect(void *aux, const struct flow_key *cp, uint32_t owner)
{
    struct node *n = aux;
    size_t i = switch_find(n, cp);

    n->n_redirect_calls++;
    if (n->switch_down) {
        return false;
    }

    if (i == SIZE_MAX) {
        ck_assert_uint_lt(n->n_redirected, 64);
        i = n->n_redirected++;
        n->redirected[i] = *cp;
    }
    n->owner_of[i] = owner;
    return true;
}

static void
io_unredirect(void *aux, const struct flow_key *cp)
{
    struct node *n = aux;
    size_t i = switch_find(n, cp);

    if (i != SIZE_MAX) {
        n->n_redirected--;
        n->redirected[i] = n->redirected[n->n_redirected];
        n->owner_of[i] = n->owner_of[n->n_redirected];
    }
}

static const struct owners_ops ops = {
    .send = io_send,
    .redirect = io_redirect,
    .unredirect = io_unredirect,
};

static const uint32_t ids[N_NODES] = { 101, 102, 103 };

static void
setup(void)
{
    for (size_t i = 0; i < N_NODES; i++) {
        memset(&nodes[i], 0, sizeof nodes[i]);
        nodes[i].id = ids[i];
        nodes[i].o = owners_create(ids[i], &ops, &nodes[i]);
        owners_set_config(nodes[i].o, ids, N_NODES, ids, N_NODES, LEASE, 0);
    }
}

static void
teardown(void)
{
    for (size_t i = 0; i < N_NODES; i++) {
        owners_destroy(nodes[i].o);
        free(nodes[i].sent);
    }
}

static struct node *
node_by_id(uint32_t id)
{
    for (size_t i = 0; i < N_NODES; i++) {
        if (nodes[i].id == id) {
            return &nodes[i];
        }
    }
    return NULL;
}

/* Delivers every message sent so far, each to its destination; returns
 * how many. */
static size_t
deliver(long long int now)
{
    size_t n = 0;

    for (size_t i = 0; i < N_NODES; i++) {
        struct sent *sent = nodes[i].sent;
        size_t n_sent = nodes[i].n_sent;

        nodes[i].sent = NULL;
        nodes[i].n_sent = 0;
        for (size_t j = 0; j < n_sent; j++) {
            struct node *dst = node_by_id(sent[j].dst);

            ck_assert_msg(dst != NULL, "sent to unknown node %"PRIu32,
                          sent[j].dst);
            ck_assert_int_eq(sent[j].msg.type, CTL_MSG_OWNER);
            ck_assert_uint_eq(sent[j].msg.sender, nodes[i].id);
            owners_receive(dst->o, &sent[j].msg, now);
            n++;
        }
        free(sent);
    }
    return n;
}

static struct flow_key
cp_n(int i)
{
    struct flow_key cp;

    flow_key_init_v4(&cp, htonl(0xc6336400 + i), htons(40000 + i),
                     htonl(0xcb00710b), htons(80), IPPROTO_TCP);
    return cp;
}

/* One full dump of node 'n' that finds sockets 'first'..'last'. */
static void
dump(struct node *n, int first, int last, long long int now)
{
    owners_dump_begin(n->o);
    for (int i = first; i <= last; i++) {
        struct flow_key cp = cp_n(i);
        owners_dump_socket(n->o, &cp);
    }
    owners_dump_end(n->o, now);
}

static uint32_t
switch_owner(const struct node *n, int i)
{
    struct flow_key cp = cp_n(i);
    size_t j = switch_find(n, &cp);

    return j == SIZE_MAX ? 0 : n->owner_of[j];
}

/* Announcement and close: a socket opened on A is redirected to A by the
 * others once A's dump is delivered; closed, it no longer is. */
START_TEST(test_announce_and_close)
{
    struct node *a = &nodes[0], *b = &nodes[1], *c = &nodes[2];
    uint32_t owner;

    dump(a, 1, 40, 1000);           /* More than one message holds. */
    ck_assert_uint_eq(a->n_sent, 4);   /* 2 targets x 2 messages. */
    deliver(1000);
    for (int i = 1; i <= 40; i++) {
        ck_assert_uint_eq(switch_owner(b, i), a->id);
        ck_assert_uint_eq(switch_owner(c, i), a->id);
    }
    struct flow_key cp = cp_n(7);
    ck_assert(owners_lookup(b->o, &cp, &owner));
    ck_assert_uint_eq(owner, a->id);
    ck_assert(!owners_lookup(a->o, &cp, &owner));
    ck_assert_uint_eq(owners_n_owned(a->o), 40);
    ck_assert_uint_eq(owners_n_associations(b->o), 40);

    /* 1..10 close. */
    dump(a, 11, 40, 2000);
    deliver(2000);
    for (int i = 1; i <= 10; i++) {
        ck_assert_uint_eq(switch_owner(b, i), 0);
    }
    ck_assert_uint_eq(switch_owner(b, 11), a->id);
    ck_assert_uint_eq(owners_n_associations(c->o), 30);
    ck_assert_uint_eq(owners_get_stats(b->o)->closed_received, 10);

    /* A dump with nothing new sends nothing before the refresh. */
    dump(a, 11, 40, 2100);
    ck_assert_uint_eq(a->n_sent, 0);
}
END_TEST

/* A local socket wins: an association of B for a CP that B's own dump
 * then finds is ended, and A's later announcements of it are ignored. */
START_TEST(test_local_socket_wins)
{
    struct node *a = &nodes[0], *b = &nodes[1];

    dump(a, 1, 3, 1000);
    deliver(1000);
    ck_assert_uint_eq(switch_owner(b, 2), a->id);

    dump(b, 2, 2, 1100);
    ck_assert_uint_eq(switch_owner(b, 2), 0);
    ck_assert_uint_eq(owners_get_stats(b->o)->local_wins, 1);
    deliver(1100);                  /* B's own announcement of 2. */

    /* A's refresh claims 2 again: B keeps it. */
    dump(a, 1, 3, 1000 + LEASE);
    deliver(1000 + LEASE);
    ck_assert_uint_eq(switch_owner(b, 2), 0);
    ck_assert_uint_ge(owners_get_stats(b->o)->conflicts, 1);
    ck_assert_uint_eq(switch_owner(b, 1), a->id);
}
END_TEST

/* Refreshes renew the leases, commit live associations to the switch
 * again now and then, and a silent owner's associations end after a lease,
 * with the peer: the pipeline learns both. */
START_TEST(test_refresh_and_departure)
{
    struct node *a = &nodes[0], *b = &nodes[1];
    long long int now = 1000;

    dump(a, 1, 2, now);
    deliver(now);
    size_t calls = b->n_redirect_calls;
    uint64_t seqno = owners_peers_seqno(b->o);
    uint32_t live[4];
    ck_assert_uint_eq(owners_live_peers(b->o, live, 4), 1);
    ck_assert_uint_eq(live[0], a->id);

    /* Three leases of refreshes: still associated, committed again. */
    for (; now < 1000 + 3 * LEASE; now += 1000) {
        owners_run(a->o, now);
        owners_run(b->o, now);
        deliver(now);
    }
    ck_assert_uint_eq(switch_owner(b, 1), a->id);
    ck_assert_uint_gt(b->n_redirect_calls, calls);
    ck_assert_uint_eq(owners_get_stats(b->o)->expired, 0);
    ck_assert_uint_eq(owners_peers_seqno(b->o), seqno);

    /* A goes silent. */
    long long int silent = now;
    for (; now < silent + 2 * LEASE; now += 1000) {
        owners_run(b->o, now);
    }
    ck_assert_uint_eq(switch_owner(b, 1), 0);
    ck_assert_uint_eq(owners_n_associations(b->o), 0);
    ck_assert_uint_eq(owners_live_peers(b->o, live, 4), 0);
    ck_assert_uint_ne(owners_peers_seqno(b->o), seqno);
    ck_assert_uint_eq(owners_get_stats(b->o)->peers_departed, 1);
}
END_TEST

/* A redirect the switch could not take is tried again at the next
 * announcement, not only after OWNERS_RECOMMIT_MS. */
START_TEST(test_redirect_retried)
{
    struct node *a = &nodes[0], *b = &nodes[1];

    b->switch_down = true;
    dump(a, 1, 1, 1000);
    deliver(1000);
    ck_assert_uint_eq(switch_owner(b, 1), 0);
    b->switch_down = false;
    owners_run(a->o, 1000 + LEASE / OWNERS_REFRESH_DIV);
    deliver(1000 + LEASE / OWNERS_REFRESH_DIV);
    ck_assert_uint_eq(switch_owner(b, 1), a->id);
}
END_TEST

/* A peer that leaves the configuration takes its associations with it. */
START_TEST(test_peer_leaves_configuration)
{
    struct node *a = &nodes[0], *b = &nodes[1];
    const uint32_t rest[] = { 102, 103 };

    dump(a, 1, 5, 1000);
    deliver(1000);
    ck_assert_uint_eq(owners_n_associations(b->o), 5);
    owners_set_config(b->o, rest, 2, rest, 2, LEASE, 1100);
    ck_assert_uint_eq(owners_n_associations(b->o), 0);
    ck_assert_uint_eq(b->n_redirected, 0);

    /* Its messages are refused from then on (one of opened sockets, one
     * of closed ones). */
    dump(a, 6, 6, 1200);
    deliver(1200);
    ck_assert_uint_eq(owners_n_associations(b->o), 0);
    ck_assert_uint_eq(owners_get_stats(b->o)->msgs_refused, 2);

    /* No hash VIP and no other server node left: nothing to gossip. */
    owners_set_config(b->o, NULL, 0, NULL, 0, LEASE, 1300);
    owners_run(b->o, 1300 + LEASE);
    ck_assert_uint_eq(b->n_sent, 0);
}
END_TEST

/* A new target gets the whole set at once, not only the next deltas. */
START_TEST(test_new_target_gets_everything)
{
    struct node *a = &nodes[0], *c = &nodes[2];
    const uint32_t two[] = { 101, 102 };

    owners_set_config(a->o, two, 2, ids, N_NODES, LEASE, 0);
    dump(a, 1, 5, 1000);
    deliver(1000);
    ck_assert_uint_eq(owners_n_associations(c->o), 0);

    owners_set_config(a->o, ids, N_NODES, ids, N_NODES, LEASE, 1100);
    dump(a, 1, 6, 1200);
    deliver(1200);
    ck_assert_uint_eq(owners_n_associations(c->o), 6);
    ck_assert_uint_eq(owners_n_associations(nodes[1].o), 6);
}
END_TEST

/* Messages that do not speak for their sender, or come from a node that
 * is not a server node, change nothing. */
START_TEST(test_refused)
{
    struct node *b = &nodes[1];
    struct ctl_msg msg;

    ctl_msg_init(&msg, CTL_MSG_OWNER, 101, 0);
    msg.owner.server = 103;             /* Not its sender. */
    msg.owner.n = 1;
    msg.owner.entries[0].cp = cp_n(1);
    msg.owner.entries[0].opened = true;
    owners_receive(b->o, &msg, 1000);
    ck_assert_uint_eq(owners_n_associations(b->o), 0);

    ctl_msg_init(&msg, CTL_MSG_OWNER, 7, 0);    /* Not a server node. */
    msg.owner.server = 7;
    msg.owner.n = 1;
    msg.owner.entries[0].cp = cp_n(1);
    msg.owner.entries[0].opened = true;
    owners_receive(b->o, &msg, 1000);
    ck_assert_uint_eq(owners_n_associations(b->o), 0);
    ck_assert_uint_eq(owners_get_stats(b->o)->msgs_refused, 2);

    /* A close of what the sender never announced. */
    ctl_msg_init(&msg, CTL_MSG_OWNER, 101, 0);
    msg.owner.server = 101;
    msg.owner.n = 1;
    msg.owner.entries[0].cp = cp_n(1);
    msg.owner.entries[0].opened = false;
    owners_receive(b->o, &msg, 1000);
    ck_assert_uint_eq(owners_get_stats(b->o)->closed_unknown, 1);
    ck_assert_uint_eq(b->n_redirected, 0);

    struct ds s = DS_EMPTY_INITIALIZER;
    owners_format_stats(b->o, &s);
    ck_assert(strstr(ds_cstr(&s), "owner_msgs_refused: 2") != NULL);
    ds_destroy(&s);
}
END_TEST

/* A connection that moves from one owner to another follows its latest
 * announcement. */
START_TEST(test_moved)
{
    struct node *a = &nodes[0], *b = &nodes[1], *c = &nodes[2];

    dump(a, 1, 1, 1000);
    deliver(1000);
    ck_assert_uint_eq(switch_owner(b, 1), a->id);
    dump(c, 1, 1, 1100);
    deliver(1100);
    ck_assert_uint_eq(switch_owner(b, 1), c->id);
    ck_assert_uint_eq(owners_get_stats(b->o)->moved, 1);
    /* A's close of it, late, does not end C's. */
    dump(a, 2, 1, 1200);
    deliver(1200);
    ck_assert_uint_eq(switch_owner(b, 1), c->id);
}
END_TEST

static Suite *
owners_suite(void)
{
    Suite *s = suite_create("owners");
    TCase *tc = tcase_create("gossip");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_announce_and_close);
    tcase_add_test(tc, test_local_socket_wins);
    tcase_add_test(tc, test_refresh_and_departure);
    tcase_add_test(tc, test_redirect_retried);
    tcase_add_test(tc, test_peer_leaves_configuration);
    tcase_add_test(tc, test_new_target_gets_everything);
    tcase_add_test(tc, test_refused);
    tcase_add_test(tc, test_moved);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(owners_suite());
    int n_failed;

    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
