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
 * sim-clock: the simulator's virtual clock, and each simulated node's view
 * of it.
 *
 * One global time, in ms, that only the main loop advances, jumping from
 * one event to the next: a 10-minute scenario runs as fast as its events
 * can be handled.  Every node reads two clocks off it, as the daemons do:
 * a monotonic one ('now' of the cores), whose origin differs from node to
 * node (so that a core mixing its own 'now' with another node's is seen),
 * and a wall clock shared by all nodes but for the skew a scenario gives a
 * node (the clocks the cores compare across nodes: SYN cookies, heartbeat
 * values, LB_LIST versions).
 *
 * Single-threaded: the simulator's main loop owns the clock.
 */
#ifndef OVSLB_SIM_CLOCK_H
#define OVSLB_SIM_CLOCK_H 1

#include <stdint.h>

/* Where the global time starts, and the wall clock's reading then (a date
 * in 2026, in ms since the epoch). */
#define SIM_CLOCK_START 0
#define SIM_CLOCK_WALL_EPOCH 1780000000000LL

struct sim_clock {
    long long int now;          /* Global virtual time, ms. */
};

/* One node's clocks. */
struct sim_node_clock {
    long long int mono_base;    /* Its monotonic clock at global time 0. */
    long long int skew_ms;      /* Its wall clock minus the true one. */
};

void sim_clock_init(struct sim_clock *);
void sim_clock_advance(struct sim_clock *, long long int to);

void sim_node_clock_init(struct sim_node_clock *, uint64_t seed);
long long int sim_node_mono(const struct sim_clock *,
                            const struct sim_node_clock *);
long long int sim_node_wall(const struct sim_clock *,
                            const struct sim_node_clock *);
long long int sim_node_wall_minus_mono(const struct sim_node_clock *);
long long int sim_node_to_global(const struct sim_node_clock *,
                                 long long int mono);

#endif /* sim-clock.h */
