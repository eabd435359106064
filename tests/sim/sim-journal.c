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
#include "sim-journal.h"

#include <stdlib.h>
#include <unistd.h>
#include "util.h"

/* Names the journal of node 'name' in directory 'dir', closed. */
void
sim_journal_init(struct sim_journal *j, const char *dir, const char *name,
                 enum store_role role)
{
    j->path = xasprintf("%s/%s.db", dir, name);
    j->role = role;
    j->store = NULL;
}

/* Opens the journal (its file as the node left it); aborts on failure,
 * which in a temporary directory of our own is a bug or a full disk. */
void
sim_journal_open(struct sim_journal *j)
{
    char *error = NULL;

    if (store_open(j->path, j->role, &j->store, &error)) {
        ovs_fatal(0, "%s", error);
    }
    store_set_limits(j->store, 0, STORE_DEFAULT_BATCH_MAX,
                     STORE_DEFAULT_QUEUE_MAX_BYTES);
}

/* Closes the journal, as the node goes down; with 'wipe', removes its
 * files too (the node comes back with an empty disk). */
void
sim_journal_close(struct sim_journal *j, bool wipe)
{
    store_close(j->store);
    j->store = NULL;
    if (wipe) {
        static const char *suffixes[] = { "", "-wal", "-shm" };

        for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
            char *file = xasprintf("%s%s", j->path, suffixes[i]);

            unlink(file);
            free(file);
        }
    }
}

/* Closes and removes the journal. */
void
sim_journal_destroy(struct sim_journal *j)
{
    sim_journal_close(j, true);
    free(j->path);
    j->path = NULL;
}
