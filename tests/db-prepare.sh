#!/bin/sh
# db-prepare.sh: utilities/ovslb-db-prepare, which ovslb-db.service runs
# before the config service's ovsdb-server: it creates the database on the
# first start, leaves it alone on the next ones, and converts it, keeping a
# copy, when the installed schema changed (a package upgrade), with the data
# kept.  No root needed.

. "${srcdir:-$(dirname "$0")/..}/tests/config-lib.sh"
cfg_init
PREP=$srcdir/utilities/ovslb-db-prepare
DB=$TMP/lib/ovslb.db
new=$(ovsdb-tool schema-version "$SCHEMA")

expect 1 "a missing schema is an error" "the schema $TMP/none does not exist" \
    -- sh "$PREP" "$DB" "$TMP/none"
expect 1 "two arguments" "usage" -- sh "$PREP" "$DB"
expect 0 "first start: the database is created, in a new directory" \
    "created $DB \(schema $new\)" -- sh "$PREP" "$DB" "$SCHEMA"
expect 0 "... from the schema" "^$new\$" -- ovsdb-tool db-version "$DB"

before=$(cksum <"$DB")
expect 0 "next start: nothing to do, nothing said" -- \
    sh -c "test -z \"\$(sh '$PREP' '$DB' '$SCHEMA')\""
expect 0 "... the database is untouched" -- \
    test "$(cksum <"$DB")" = "$before"
expect 0 "... and no copy is made" -- \
    sh -c "! ls '$TMP/lib' | grep -q backup"

# An upgrade: a database of an older schema (its version lowered), with a
# configuration in it.
sed 's/"version": *"[^"]*"/"version": "1.0.0"/' "$SCHEMA" >"$TMP/old.ovsschema"
ovsdb-tool create "$TMP/ovslb.db" "$TMP/old.ovsschema" || exit 99
cfg_serve ovslb
$CTL --db="unix:$TMP/ovslb.sock" init >/dev/null &&
    $CTL --db="unix:$TMP/ovslb.sock" lb-node-add 7 172.16.0.17 10.0.0.17 ||
    { echo "ERROR: ovslb-ctl failed"; exit 99; }
cfg_stop_db ovslb
expect 0 "upgrade: the database is converted, the copy named" \
    "converted $TMP/ovslb.db from schema 1.0.0 to $new \(the database before: $TMP/ovslb.db.backup-1.0.0-[0-9]+\)" \
    -- sh "$PREP" "$TMP/ovslb.db" "$SCHEMA"
expect 0 "... to the new schema" "^$new\$" -- ovsdb-tool db-version "$TMP/ovslb.db"
expect 0 "... the copy keeps the old one" "^1.0.0\$" -- \
    sh -c "ovsdb-tool db-version '$TMP'/ovslb.db.backup-1.0.0-*"
cfg_serve ovslb
expect 0 "... and the configuration survives" "^7 north=172.16.0.17 south=10.0.0.17 " -- \
    $CTL --db="unix:$TMP/ovslb.sock" lb-node-list
cfg_stop_db ovslb
expect 0 "... a second start has nothing to do" -- \
    sh -c "test -z \"\$(sh '$PREP' '$TMP/ovslb.db' '$SCHEMA')\""

# A Raft member's database is not converted offline.
ovsdb-tool create-cluster "$TMP/raft.db" "$TMP/old.ovsschema" \
    unix:"$TMP/raft.raft" || exit 99
before=$(cksum <"$TMP/raft.db")
expect 0 "a clustered database is left as it is" "is clustered: left as it is" \
    -- sh "$PREP" "$TMP/raft.db" "$SCHEMA"
expect 0 "... untouched, no copy made" -- \
    sh -c "test '$(cksum <"$TMP/raft.db")' = '$before' &&
           ! ls '$TMP' | grep -q raft.db.backup"

cfg_finish
