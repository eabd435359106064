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
#include "deadline-queue.h"

#include <limits.h>
#include "util.h"

/* The heap's priority of a timer due at 'when': lib/heap.h keeps a
 * max-heap of unsigned priorities, so the earliest deadline must have the
 * largest.  Flipping the sign bit maps signed order onto unsigned order;
 * the complement reverses it. */
static uint64_t
heap_priority(long long int when)
{
    return ~((uint64_t) when ^ (UINT64_C(1) << 63));
}

static struct deadline *
fifo_front(const struct deadline_queue *q)
{
    return (ovs_list_is_empty(&q->fifo) ? NULL
            : CONTAINER_OF(ovs_list_front(&q->fifo), struct deadline,
                           list_node));
}

static struct deadline *
fifo_back(const struct deadline_queue *q)
{
    return (ovs_list_is_empty(&q->fifo) ? NULL
            : CONTAINER_OF(ovs_list_back(&q->fifo), struct deadline,
                           list_node));
}

/* Initializes 'q' as an empty queue. */
void
deadline_queue_init(struct deadline_queue *q)
{
    ovs_list_init(&q->fifo);
    heap_init(&q->early);
    q->n = 0;
}

/* Frees what 'q' itself allocated.  The timers still in it belong to their
 * owners, who must not use them again (but may free them). */
void
deadline_queue_destroy(struct deadline_queue *q)
{
    if (q) {
        heap_destroy(&q->early);
    }
}

/* Initializes 'd' as in no queue (as zeroing it does). */
void
deadline_init(struct deadline *d)
{
    d->when = 0;
    d->queue = NULL;
}

/* Returns true if 'd' is in a queue. */
bool
deadline_is_set(const struct deadline *d)
{
    return d->queue != NULL;
}

/* Returns where 'd' is: in no queue, in its queue's list or in its heap.
 * The heap's slot 'heap_node.idx' points back to 'd' only in the heap: in
 * the list, the same bytes are the list node's 'prev' pointer, and no slot
 * of the heap points to a timer that is not in it.  O(1). */
enum deadline_place
deadline_place(const struct deadline *d)
{
    const struct heap *h;
    size_t idx;

    if (!d->queue) {
        return DEADLINE_NONE;
    }
    h = &d->queue->early;
    idx = d->heap_node.idx;
    return (idx >= 1 && idx <= h->n && h->array[idx] == &d->heap_node
            ? DEADLINE_HEAP : DEADLINE_FIFO);
}

/* Takes 'd' out of its queue's list or heap, leaving the count alone. */
static void
unlink_deadline(struct deadline *d)
{
    if (deadline_place(d) == DEADLINE_FIFO) {
        ovs_list_remove(&d->list_node);
    } else {
        heap_remove(&d->queue->early, &d->heap_node);
    }
}

/* Puts 'd' into 'q' so that it falls due at 'when', moving it if it is
 * already in 'q' or in another queue.  O(1) if 'when' is no earlier than
 * every other deadline in 'q''s list (the common case: now plus a fixed
 * period) or if 'd' stays where it is, otherwise O(log n). */
void
deadline_queue_set(struct deadline_queue *q, struct deadline *d,
                   long long int when)
{
    if (d->queue == q) {
        if (when == d->when
            || (when > d->when && d == fifo_back(q))) {
            d->when = when;
            return;
        }
        unlink_deadline(d);
    } else {
        deadline_cancel(d);
        d->queue = q;
        q->n++;
    }

    const struct deadline *back = fifo_back(q);
    d->when = when;
    if (!back || when >= back->when) {
        ovs_list_push_back(&q->fifo, &d->list_node);
    } else {
        heap_insert(&q->early, &d->heap_node, heap_priority(when));
    }
}

/* Takes 'd' out of the queue it is in, if any. */
void
deadline_cancel(struct deadline *d)
{
    if (d->queue) {
        unlink_deadline(d);
        d->queue->n--;
        d->queue = NULL;
    }
}

/* Returns the timer in 'q' that falls due first (of those due at the same
 * time, the one set in order first), or NULL if 'q' is empty.  O(1). */
struct deadline *
deadline_queue_first(const struct deadline_queue *q)
{
    struct deadline *f = fifo_front(q);
    struct deadline *h = (heap_is_empty(&q->early) ? NULL
                          : CONTAINER_OF(heap_max(&q->early), struct deadline,
                                         heap_node));

    return !h ? f : !f ? h : h->when < f->when ? h : f;
}

/* Returns the first timer in 'q' if it is due at 'now', otherwise NULL.
 * The caller must cancel it, or set it to a time after 'now', before the
 * next call, or it gets it again. */
struct deadline *
deadline_queue_due(const struct deadline_queue *q, long long int now)
{
    struct deadline *d = deadline_queue_first(q);

    return d && d->when <= now ? d : NULL;
}

/* Returns when the first timer in 'q' falls due, or LLONG_MAX if 'q' is
 * empty. */
long long int
deadline_queue_next(const struct deadline_queue *q)
{
    const struct deadline *d = deadline_queue_first(q);

    return d ? d->when : LLONG_MAX;
}

/* Returns the number of timers in 'q'. */
size_t
deadline_queue_count(const struct deadline_queue *q)
{
    return q->n;
}
