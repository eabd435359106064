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
 * event-rate: events per second over the last second, in 100 ms slots.  See
 * event-rate.h.
 */
#include <config.h>
#include "event-rate.h"

#include <string.h>
#include "util.h"

void
event_rate_init(struct event_rate *er)
{
    memset(er, 0, sizeof *er);
}

/* Moves 'er' to the slot of 'now_ms', emptying the slots it passes. */
static void
advance(struct event_rate *er, long long int now_ms)
{
    long long int slot = now_ms / EVENT_RATE_SLOT_MS;

    if (slot <= er->slot) {
        return;                 /* The same slot, or a clock gone back. */
    }
    if (slot - er->slot >= EVENT_RATE_N_SLOTS) {
        memset(er->counts, 0, sizeof er->counts);
        er->sum = 0;
    } else {
        for (long long int s = er->slot + 1; s <= slot; s++) {
            uint64_t *c = &er->counts[s % EVENT_RATE_N_SLOTS];

            er->sum -= *c;
            *c = 0;
        }
    }
    er->slot = slot;
}

/* Counts 'n' events at 'now_ms'. */
void
event_rate_add(struct event_rate *er, long long int now_ms, uint64_t n)
{
    advance(er, now_ms);
    er->counts[er->slot % EVENT_RATE_N_SLOTS] += n;
    er->sum += n;
}

/* Returns the events per second seen lately (see event-rate.h). */
uint64_t
event_rate_per_s(struct event_rate *er, long long int now_ms)
{
    advance(er, now_ms);

    uint64_t busiest = 0;
    for (size_t i = 0; i < EVENT_RATE_N_SLOTS; i++) {
        busiest = MAX(busiest, er->counts[i]);
    }
    uint64_t burst = busiest > UINT64_MAX / EVENT_RATE_N_SLOTS
                     ? UINT64_MAX : busiest * EVENT_RATE_N_SLOTS;
    return MAX(er->sum, burst);
}
