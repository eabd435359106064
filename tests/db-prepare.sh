#!/bin/sh
# db-prepare.sh: utilities/ovslb-db-prepare, which ovslb-db.service runs
# before the config service's ovsdb-server: it creates the database on the
# first start, leaves it alone on the next ones, and converts it, keeping a
# copy, when the installed schema changed (a package upgrade), with the data
# kept, from databases of the two previous releases' schemas too.  No root
# needed.

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

# An upgrade from the schema of the previous release (1.6.0, kept as
# tests/ovslb-1.6.0.ovsschema), which has no VIP health_check column: the
# VIPs, their servers and options survive, and health checks can be set
# only once the database is converted.
ovsdb-tool create "$TMP/v16.db" "$srcdir/tests/ovslb-1.6.0.ovsschema" ||
    exit 99
cfg_serve v16
V16="$CTL --db=unix:$TMP/v16.sock"
$V16 init >/dev/null && $V16 server-add 101 10.0.0.101 &&
    $V16 vip-add web 192.0.2.10 443,80 --algorithm=round-robin --mss=1300 &&
    $V16 vip-server-add web 101 4 ||
    { echo "ERROR: ovslb-ctl failed on the 1.6.0 database"; exit 99; }
expect 4 "1.6.0: a health check is refused, saying why" \
    "database has no VIP health_check column: its schema predates" -- \
    $V16 vip-set web health_check:type=http
expect 4 "1.6.0: ... by vip-add too" "no VIP health_check column" -- \
    $V16 vip-add api 192.0.2.11 80 --health-check=type=http
vips=$($V16 vip-list)
cfg_stop_db v16
expect 0 "upgrade from 1.6.0: converted" \
    "converted $TMP/v16.db from schema 1.6.0 to $new" -- \
    sh "$PREP" "$TMP/v16.db" "$SCHEMA"
expect 0 "... to the new schema" "^$new\$" -- ovsdb-tool db-version "$TMP/v16.db"
cfg_serve v16
expect 0 "... the VIPs are as they were" -- \
    test "$($V16 vip-list)" = "$vips"
expect 0 "... with their servers and options" \
    "^web 192.0.2.10 80,443/tcp mode=tracked algorithm=round-robin servers=101:4 admin=up$" -- \
    $V16 vip-list
expect 0 "... and the default health check" \
    "health check: tcp connect every 500 ms, .* \(default\)" -- $V16 show
expect 0 "... which can now be set" -- \
    $V16 vip-set web health_check:type=http health_check:path=/healthz
expect 0 "... and is kept" " health=path=/healthz,type=http$" -- $V16 vip-list
cfg_stop_db v16

# An upgrade from schema 1.7.0 (kept as tests/ovslb-1.7.0.ovsschema),
# which has no LB node zone and no nearest algorithm: ovslb-ctl refuses
# both, saying why, the nodes, their zones and the VIPs survive the
# conversion, and both can be set once it is done.
ovsdb-tool create "$TMP/v17.db" "$srcdir/tests/ovslb-1.7.0.ovsschema" ||
    exit 99
cfg_serve v17
V17="$CTL --db=unix:$TMP/v17.sock"
$V17 init >/dev/null && $V17 lb-node-add 1 172.16.0.11 10.0.0.11 &&
    $V17 server-add 101 10.0.0.101 --zone=a &&
    $V17 vip-add web 192.0.2.10 80 --algorithm=weighted-random &&
    $V17 vip-server-add web 101 2 ||
    { echo "ERROR: ovslb-ctl failed on the 1.7.0 database"; exit 99; }
expect 4 "1.7.0: an LB node's zone is refused, saying why" \
    "database has no LB node zone column: its schema predates" -- \
    $V17 lb-node-set 1 zone=a
expect 4 "1.7.0: ... by lb-node-add too" "no LB node zone column" -- \
    $V17 lb-node-add 2 172.16.0.12 10.0.0.12 --zone=a
expect 4 "1.7.0: the nearest algorithm is refused, saying why" \
    "database has no VIP algorithm nearest: its schema predates" -- \
    $V17 vip-set web algorithm=nearest
expect 4 "1.7.0: ... by vip-add too" "no VIP algorithm nearest" -- \
    $V17 vip-add api 192.0.2.11 80 --algorithm=nearest
nodes=$($V17 lb-node-list; $V17 server-list)
cfg_stop_db v17
expect 0 "upgrade from 1.7.0: converted" \
    "converted $TMP/v17.db from schema 1.7.0 to $new" -- \
    sh "$PREP" "$TMP/v17.db" "$SCHEMA"
cfg_serve v17
expect 0 "... the nodes and the servers' zones are as they were" -- \
    test "$($V17 lb-node-list; $V17 server-list)" = "$nodes"
expect 0 "... and so is the VIP" \
    "^web 192.0.2.10 80/tcp mode=tracked algorithm=weighted-random servers=101:2 admin=up$" -- \
    $V17 vip-list
expect 0 "... an LB node's zone can now be set" -- $V17 lb-node-set 1 zone=a
expect 0 "... and is kept" "^1 north=172.16.0.11 .* zone=a admin=up$" -- \
    $V17 lb-node-list
expect 0 "... and so can the nearest algorithm" -- \
    $V17 vip-set web algorithm=nearest
expect 0 "... which is kept" "^web .* algorithm=nearest servers=101:2 " -- \
    $V17 vip-list
cfg_stop_db v17

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
