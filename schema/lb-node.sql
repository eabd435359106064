-- ovslb LB node store: the journal of ovslb-controller's hot state.
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

-- Identifies the file as an LB node store ('OVLB'), so that a server
-- node store or a foreign database is refused.
PRAGMA application_id = 1331055682;

-- Node identity and schema facts.  The 'role' key is the store's.
CREATE TABLE IF NOT EXISTS meta (
    key BLOB PRIMARY KEY NOT NULL,
    value BLOB NOT NULL,
    expires_at INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value)
    VALUES (CAST('role' AS BLOB), CAST('lb-node' AS BLOB));

-- Flow-tracker entries (this node as PFT or SFT), keyed by CP pair.
CREATE TABLE IF NOT EXISTS tracker (
    key BLOB PRIMARY KEY NOT NULL,
    value BLOB NOT NULL,
    expires_at INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tracker_expires_at
    ON tracker (expires_at) WHERE expires_at != 0;

-- Ingress mappings this node installed, keyed by CP pair.
CREATE TABLE IF NOT EXISTS mapping (
    key BLOB PRIMARY KEY NOT NULL,
    value BLOB NOT NULL,
    expires_at INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS mapping_expires_at
    ON mapping (expires_at) WHERE expires_at != 0;

-- (Version 1 had a table 'lease' for received connection publications;
-- a lease is the 'expires_at' of a tracker or mapping record, so version
-- 2 drops it.)

-- The gossip heartbeat table, keyed by node.
CREATE TABLE IF NOT EXISTS heartbeat (
    key BLOB PRIMARY KEY NOT NULL,
    value BLOB NOT NULL,
    expires_at INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS heartbeat_expires_at
    ON heartbeat (expires_at) WHERE expires_at != 0;

PRAGMA user_version = 2;
