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
 * sim-scenario: what a simulation does, read from a small text format
 * (tests/sim/README.md has the full description), or drawn at random from
 * a seed.
 *
 * One statement per line, '#' starts a comment:
 *
 *   set NAME VALUE          a setting (sim.h, struct sim_settings)
 *   flows N [at T] [over MS] [requests K] [interval MS]
 *         [close fin|rst|never]
 *                           N clients starting evenly over MS from T
 *   at T crash NODE [wipe]  NODE (lbN, srvN) crashes; 'wipe': its
 *                           journal is lost too
 *   at T restart NODE
 *   at T partition A B      nodes of A and of B cannot talk (A, B: lists
 *                           of lbN, srvN, lb*, srv*, edge, *)
 *   at T partition A -> B   A's packets do not reach B
 *   at T heal               every partition ends
 *   at T faults P           every link loses, duplicates and reorders
 *                           P % of its packets (P = 0 ends it)
 *   at T stage NAME send|recv SRC DST drop P | dup P | delay MS [JITTER]
 *         | reorder P MS    a stage of its own on the links SRC -> DST
 *   at T unstage NAME
 *   at T skew NODE MS       NODE's wall clock is MS ahead (or behind)
 *   expect-failure INV      invariant INV is expected to fail in this
 *                           scenario (a bug not fixed yet, or a scenario
 *                           made to show that the check fires): the run
 *                           passes only if INV, and no other, fails
 *   tolerate INV            failures of INV are printed but do not fail
 *                           the run (a known bug that this scenario's
 *                           faults meet at some seeds only)
 *
 * Times are in ms of virtual time from the start.
 *
 * Single-threaded.
 */
#ifndef OVSLB_SIM_SCENARIO_H
#define OVSLB_SIM_SCENARIO_H 1

#include <stddef.h>
#include <stdint.h>
#include "openvswitch/compiler.h"
#include "sim.h"

struct ds;

struct sim_scenario {
    struct sim_settings set;
    struct sim_action *actions; /* By time, then by line. */
    size_t n_actions;
    size_t next;                /* First action not done yet. */
    uint32_t expected_failures; /* 1 << enum sim_invariant. */
    uint32_t tolerated_failures; /* 1 << enum sim_invariant. */
};

char *sim_scenario_parse(const char *text, struct sim_scenario *)
    OVS_WARN_UNUSED_RESULT;
char *sim_scenario_read(const char *file_name, struct sim_scenario *)
    OVS_WARN_UNUSED_RESULT;
void sim_scenario_random(uint64_t seed, struct ds *text);
void sim_scenario_destroy(struct sim_scenario *);

long long int sim_scenario_next(const struct sim_scenario *);
void sim_scenario_run(struct sim_scenario *, struct sim *);

#endif /* sim-scenario.h */
