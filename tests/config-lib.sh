# shellcheck shell=sh
# config-lib.sh: helpers of the config service tests (tests/ctl-commands.sh,
# tests/cluster-config-live.sh, tests/system/config-raft.sh).
#
# Sourced by sh scripts that the automake harness runs from the top build
# directory (with $srcdir set).  Provides:
#
#   cfg_init         find ovsdb-server/ovsdb-tool (skip, exit 77, without
#                    them), the schema ($SCHEMA) and ovslb-ctl ($CTL); make
#                    a temporary directory $TMP removed on exit, with every
#                    ovsdb-server started by cfg_start_db killed.
#   cfg_start_db NAME  create $TMP/NAME.db from the schema and serve it on
#                    unix:$TMP/NAME.sock (pidfile $TMP/NAME.pid).
#   cfg_stop_db NAME   stop that server (the database file stays).
#   expect RC DESC [PATTERN] -- CMD...  run CMD; it must exit with RC and,
#                    if PATTERN is given, print (stdout + stderr) something
#                    that matches the extended regular expression PATTERN.
#                    Prints "PASS: DESC" or "FAIL: DESC" with the details.
#   cfg_vswitch_schema  set $VSCHEMA to Open vSwitch's schema (for a
#                    node's local database), or to "" if there is none.
#   cfg_wait_grep FILE PATTERN  wait (10 s at most) until FILE has a line
#                    matching the extended regular expression PATTERN;
#                    fail (return 1) if it has none by then.
#   cfg_need_vswitch  cfg_vswitch_schema, and skip (exit 77) without the
#                    schema, ovs-vsctl or ovs-appctl (tests that run the
#                    daemons on a local database of their own).
#   cfg_finish       print "N passed, M failed"; exit 0 or 1.

CFG_PASSED=0
CFG_FAILED=0

cfg_init() {
    PATH=$PATH:/usr/sbin:/usr/local/sbin
    export PATH
    for prog in ovsdb-server ovsdb-tool; do
        command -v $prog >/dev/null 2>&1 ||
            { echo "SKIP: $prog not found"; exit 77; }
    done
    srcdir=${srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
    SCHEMA=$srcdir/schema/ovslb.ovsschema
    CTL=${OVSLB_CTL:-$PWD/utilities/ovslb-ctl}
    [ -x "$CTL" ] || { echo "ERROR: no $CTL (run from the build directory)";
                       exit 99; }
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/ovslb-cfg.XXXXXX") ||
        { echo "ERROR: mktemp failed"; exit 99; }
    trap cfg_cleanup EXIT
    trap 'exit 130' INT TERM
    # The programs must not find another run directory's sockets.
    unset OVSLB_DB
    OVS_RUNDIR=$TMP
    export OVS_RUNDIR
}

cfg_cleanup() {
    for pidfile in "$TMP"/*.pid; do
        [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
    done
    rm -rf "$TMP"
}

cfg_serve() {
    ovsdb-server --detach --no-chdir --pidfile="$TMP/$1.pid" \
        --log-file="$TMP/$1.log" --remote="punix:$TMP/$1.sock" \
        --unixctl="$TMP/$1.ctl" "$TMP/$1.db" 2>"$TMP/$1.stderr" ||
        { echo "ERROR: ovsdb-server did not start: $(tail -5 "$TMP/$1.log")";
          exit 99; }
}

cfg_start_db() {
    ovsdb-tool create "$TMP/$1.db" "$SCHEMA" ||
        { echo "ERROR: ovsdb-tool create failed"; exit 99; }
    cfg_serve "$1"
}

cfg_stop_db() {
    pid=$(cat "$TMP/$1.pid" 2>/dev/null) || return 0
    kill "$pid" 2>/dev/null
    # Wait (at most 5 s) until it is gone.
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    rm -f "$TMP/$1.pid"
}

expect() {
    want_rc=$1
    desc=$2
    shift 2
    pattern=
    if [ "$1" != "--" ]; then
        pattern=$1
        shift
    fi
    shift
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -ne "$want_rc" ]; then
        echo "FAIL: $desc (exit $rc, expected $want_rc): $*"
        echo "$out" | sed 's/^/    /'
        CFG_FAILED=$((CFG_FAILED + 1))
    elif [ -n "$pattern" ] && ! echo "$out" | grep -Eq -- "$pattern"; then
        echo "FAIL: $desc (output does not match '$pattern'): $*"
        echo "$out" | sed 's/^/    /'
        CFG_FAILED=$((CFG_FAILED + 1))
    else
        echo "PASS: $desc"
        CFG_PASSED=$((CFG_PASSED + 1))
    fi
}

cfg_vswitch_schema() {
    . ./tests/atlocal
    VSCHEMA=
    for f in /usr/share/openvswitch/vswitch.ovsschema \
             "$OVS_SRCDIR/vswitchd/vswitch.ovsschema"; do
        [ -f "$f" ] && { VSCHEMA=$f; break; }
    done
}

cfg_wait_grep() {
    i=0
    while [ $i -lt 100 ]; do
        grep -Eq -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

cfg_need_vswitch() {
    cfg_vswitch_schema
    if [ -z "$VSCHEMA" ] || ! command -v ovs-vsctl >/dev/null 2>&1 ||
       ! command -v ovs-appctl >/dev/null 2>&1; then
        echo "SKIP: no ovs-vsctl, ovs-appctl or vswitch schema"
        exit 77
    fi
}

cfg_finish() {
    echo "$CFG_PASSED passed, $CFG_FAILED failed"
    [ "$CFG_FAILED" -eq 0 ]
    exit $?
}
