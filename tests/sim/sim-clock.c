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
#include "sim-clock.h"

#include <limits.h>
#include "util.h"

/* Starts 'clock' at SIM_CLOCK_START. */
void
sim_clock_init(struct sim_clock *clock)
{
    clock->now = SIM_CLOCK_START;
}

/* Moves 'clock' forward to 'to'; time never goes back. */
void
sim_clock_advance(struct sim_clock *clock, long long int to)
{
    ovs_assert(to >= clock->now);
    clock->now = to;
}

/* Gives a node's clock an origin of its own, drawn from 'seed' (between 1
 * and about 12 days: large enough that a value of one node's clock is
 * never plausible on another's), and no skew. */
void
sim_node_clock_init(struct sim_node_clock *nc, uint64_t seed)
{
    nc->mono_base = 1000000 + (long long int) (seed % 1000000000ULL);
    nc->skew_ms = 0;
}

/* The monotonic clock of node 'nc' now. */
long long int
sim_node_mono(const struct sim_clock *clock, const struct sim_node_clock *nc)
{
    return clock->now + nc->mono_base;
}

/* The wall clock of node 'nc' now. */
long long int
sim_node_wall(const struct sim_clock *clock, const struct sim_node_clock *nc)
{
    return clock->now + SIM_CLOCK_WALL_EPOCH + nc->skew_ms;
}

/* What the daemons give the cores as their clock offset: the wall clock
 * minus the monotonic one. */
long long int
sim_node_wall_minus_mono(const struct sim_node_clock *nc)
{
    return SIM_CLOCK_WALL_EPOCH + nc->skew_ms - nc->mono_base;
}

/* The global time at which node 'nc''s monotonic clock reads 'mono'
 * (LLONG_MAX stays LLONG_MAX: no deadline). */
long long int
sim_node_to_global(const struct sim_node_clock *nc, long long int mono)
{
    return mono == LLONG_MAX ? LLONG_MAX : mono - nc->mono_base;
}
