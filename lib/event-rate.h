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
 * event-rate: how many events per second something has seen lately, made
 * to notice a flood within a tenth of a second rather than after a whole
 * second has gone by.
 *
 * Events are counted in ten slots of 100 ms.  event_rate_per_s() is the
 * larger of two views:
 *
 *   - the events of the last second: the nine slots before the current one
 *     plus the current one so far;
 *   - the busiest slot of that second, times ten, the current one so far
 *     included: once a slot has counted more than a tenth of a threshold,
 *     the rate is above it on that slot alone, whatever the slot's
 *     remaining time brings.  (A partly filled slot only holds fewer events
 *     than it will, so this never overestimates a slot.)
 *
 * So a step from nothing to R events per second shows as R within 100 ms of
 * its start, and keeps showing for a second after it stops, however short
 * it was: a decision taken on it does not flap from one slot to the next.
 *
 * The caller passes a clock in milliseconds; a clock that goes back is
 * treated as not moving.  Pure and single-threaded.
 */
#ifndef OVSLB_EVENT_RATE_H
#define OVSLB_EVENT_RATE_H 1

#include <stdint.h>

#define EVENT_RATE_SLOT_MS 100
#define EVENT_RATE_N_SLOTS 10   /* One second. */

struct event_rate {
    long long int slot;         /* Current slot: now / EVENT_RATE_SLOT_MS. */
    uint64_t counts[EVENT_RATE_N_SLOTS];   /* Indexed by slot modulo N. */
    uint64_t sum;               /* Of 'counts'. */
};

void event_rate_init(struct event_rate *);
void event_rate_add(struct event_rate *, long long int now_ms, uint64_t n);
uint64_t event_rate_per_s(struct event_rate *, long long int now_ms);

#endif /* event-rate.h */
