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
 * deadline-queue: timers kept in deadline order, so that a module's run()
 * touches only the timers that are due and finds the next deadline in O(1),
 * whatever the number of timers.
 *
 * Made for timers whose deadlines mostly come in nondecreasing order: "now
 * plus a fixed period" (a buffer timeout, a retry, a lease renewed to now
 * plus the lease).  Those go to the back of a FIFO list, in O(1), as
 * agent/agent-core.c keeps its SYN retransmissions; moving a timer to a
 * later deadline (renewing a lease) is O(1) too.  The few that come out of
 * order (records restored with what is left of their lease, a period that
 * the configuration shortened) go to a binary heap (lib/heap.h), in
 * O(log n), and move to the list the next time they are set in order.
 *
 * The caller embeds a 'struct deadline' per timer in its own objects; a
 * zeroed (or deadline_init()ed) one is in no queue.  A timer is in one
 * queue at a time and knows which, so that it can move from one queue to
 * another (a handshake timeout that becomes a lease) and be cancelled
 * without naming its queue.  A module's run() takes the due timers one by
 * one with deadline_queue_due() and must cancel each or set it later than
 * 'now' before it asks for the next one.
 *
 * Pure and single-threaded: the owner of a queue calls it from one thread.
 */
#ifndef OVSLB_DEADLINE_QUEUE_H
#define OVSLB_DEADLINE_QUEUE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "heap.h"
#include "openvswitch/list.h"

struct deadline_queue;

enum deadline_place {
    DEADLINE_NONE,              /* In no queue. */
    DEADLINE_FIFO,              /* In the queue's 'fifo'. */
    DEADLINE_HEAP,              /* In the queue's 'early' heap. */
};

/* A timer, embedded in the object it belongs to: 32 bytes, since objects
 * with a timer can be many (a tracker entry per connection).  Where in
 * its queue it is, deadline_place() tells from the queue's heap rather
 * than from a member of its own. */
struct deadline {
    long long int when;         /* Due then, if queued. */
    struct deadline_queue *queue;   /* The queue it is in, or NULL. */
    union {
        struct ovs_list list_node;  /* DEADLINE_FIFO. */
        struct heap_node heap_node; /* DEADLINE_HEAP. */
    };
};

struct deadline_queue {
    struct ovs_list fifo;       /* "struct deadline"s by nondecreasing
                                 * 'when'. */
    struct heap early;          /* Those set out of order: earlier than the
                                 * back of 'fifo' then. */
    size_t n;                   /* Timers in 'fifo' and 'early'. */
};

void deadline_queue_init(struct deadline_queue *);
void deadline_queue_destroy(struct deadline_queue *);

void deadline_init(struct deadline *);
bool deadline_is_set(const struct deadline *);
enum deadline_place deadline_place(const struct deadline *);

void deadline_queue_set(struct deadline_queue *, struct deadline *,
                        long long int when);
void deadline_cancel(struct deadline *);

struct deadline *deadline_queue_first(const struct deadline_queue *);
struct deadline *deadline_queue_due(const struct deadline_queue *,
                                    long long int now);
long long int deadline_queue_next(const struct deadline_queue *);
size_t deadline_queue_count(const struct deadline_queue *);

#endif /* deadline-queue.h */
