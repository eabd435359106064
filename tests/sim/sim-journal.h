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
 * sim-journal: the SQLite journal (lib/store.h) of a simulated node, in a
 * temporary directory of the run: the disk that survives the node's crash
 * unless the scenario wipes it.
 *
 * The store's write-behind queue lives in memory; a real crash loses it,
 * but a simulated crash closes the store, which writes it: the simulator is
 * optimistic by at most the store's flush interval (100 ms).
 *
 * Single-threaded.
 */
#ifndef OVSLB_SIM_JOURNAL_H
#define OVSLB_SIM_JOURNAL_H 1

#include <stdbool.h>
#include "store.h"

struct sim_journal {
    char *path;
    enum store_role role;
    struct store *store;        /* NULL while the node is down. */
};

void sim_journal_init(struct sim_journal *, const char *dir,
                      const char *name, enum store_role);
void sim_journal_open(struct sim_journal *);
void sim_journal_close(struct sim_journal *, bool wipe);
void sim_journal_destroy(struct sim_journal *);

#endif /* sim-journal.h */
