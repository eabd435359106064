-- ovslb server node store: the journal of ovslb-agent's hot state.
--
-- This is the whole schema at the version that 'PRAGMA user_version'
-- sets at the end.  lib/store.c embeds an identical copy
-- (tests/check-store.c compares the two) and applies it to a new
-- file, and to an older file after that version's migration steps, so
-- every statement here must be idempotent.  A new version adds a
-- migration step in lib/store.c and raises user_version here.
--
-- Every table is a record table: 'key' and 'value' are blobs whose
-- layout belongs to the module that journals them, 'expires_at' is a
-- wall-clock time in ms since the epoch after which the record is
-- stale (0: never).

-- Identifies the file as a server node store ('OVSN'), so that an LB
-- node store or a foreign database is refused.
PRAGMA application_id = 1331057486;

-- Node identity and schema facts.  The 'role' key is the store's.
CREATE TABLE IF NOT EXISTS meta (
    key BLOB PRIMARY KEY NOT NULL,
    value BLOB NOT NULL,
    expires_at INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value)
    VALUES (CAST('role' AS BLOB), CAST('server-node' AS BLOB));

-- Connection translation entries (sequence offsets, options), keyed
-- by CP pair.
CREATE TABLE IF NOT EXISTS xlate (
    key BLOB PRIMARY KEY NOT NULL,
    value BLOB NOT NULL,
    expires_at INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS xlate_expires_at
    ON xlate (expires_at) WHERE expires_at != 0;

PRAGMA user_version = 2;
