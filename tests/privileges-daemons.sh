#!/bin/sh
# privileges-daemons.sh: ovslb-controller and ovslb-agent started as root
# with --user run as that user with only the capabilities their manuals
# list, and keep other local users out of their files: a second user
# (nobody) can neither read the SQLite store (nor its -wal and -shm files,
# the metrics file, the pid file, the log) nor talk to the unixctl socket,
# which the daemon's own user and root can.  The capabilities kept are the
# ones the daemons use: the agent opens its translation port (a veth
# device, with libpcap) and both bind a control port below 1024; the agent
# enters the network namespace that the config service names for it only
# with --netns-access (CAP_SYS_ADMIN, only permitted) and says why not
# without it.  --user is refused with a clear message for a user or group
# that does not exist, and when not started as root.
#
# Each daemon has its own local Open_vSwitch database (ovsdb-server) and
# follows a config service, in a network namespace of the test's own; no
# switch.  Root only (skips otherwise).  The daemon user is OVSLB_TEST_USER,
# else "ovslb" (which ovslb-lab creates) if it exists, else "daemon".

. "${srcdir:-$(dirname "$0")/..}/tests/config-lib.sh"
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root (--user, network namespaces)"
    exit 77
fi
for prog in runuser ip; do
    command -v $prog >/dev/null 2>&1 || { echo "SKIP: no $prog"; exit 77; }
done
cfg_init
cfg_need_vswitch

DUSER=${OVSLB_TEST_USER:-}
if [ -z "$DUSER" ]; then
    if getent passwd ovslb >/dev/null; then DUSER=ovslb; else DUSER=daemon; fi
fi
OTHER=nobody
DGROUP=$(id -gn "$DUSER") && DUID=$(id -u "$DUSER") && DGID=$(id -g "$DUSER") ||
    { echo "ERROR: no user $DUSER"; exit 99; }
if id -nG "$OTHER" | tr ' ' '\n' | grep -qx "$DGROUP"; then
    echo "ERROR: $OTHER is in $DUSER's group $DGROUP"
    exit 99
fi
echo "# daemons run as $DUSER:$DGROUP, the other user is $OTHER"

NS=priv-test-$$
cleanup() {
    for pidfile in "$TMP"/*/*.pid; do
        [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
    done
    ip netns del "$NS" 2>/dev/null
    cfg_cleanup
}
trap cleanup EXIT
ip netns add "$NS" || { echo "ERROR: ip netns add $NS"; exit 99; }
ip -n "$NS" link set lo up &&
    ip -n "$NS" addr add 10.0.0.11/32 dev lo &&
    ip -n "$NS" addr add 172.16.0.11/32 dev lo &&
    ip -n "$NS" addr add 10.0.0.101/32 dev lo &&
    ip -n "$NS" link add xlt0 type veth peer name xlt1 ||
    { echo "ERROR: cannot set up namespace $NS"; exit 99; }

# The daemon's user must reach its directory; other users may list the
# test's directories, so that only the files' own modes keep them out.
chmod 0755 "$TMP"

# grant SOCKET: lets the daemon's group connect to an ovsdb-server's
# socket (ovsdb-server as root makes it 0750 root:root).
grant() {
    chgrp "$DGROUP" "$1" && chmod g+w "$1" || exit 99
}

cfg_start_db ovslb
grant "$TMP/ovslb.sock"
OCTL="$CTL --db=unix:$TMP/ovslb.sock"
$OCTL init >/dev/null &&
    $OCTL set control_port=700 publish_port=701 &&
    $OCTL lb-node-add 1 172.16.0.11 10.0.0.11 &&
    $OCTL server-add 101 10.0.0.101 --netns="$NS" &&
    $OCTL vip-add web 192.0.2.10 80 &&
    $OCTL vip-server-add web 101 ||
    { echo "ERROR: ovslb-ctl failed"; exit 99; }

# start NAME PROGRAM ROLE ID [OPTION...]: a local database NAME with the
# node's settings (the agent's translation port xlt0 as OpenFlow port 200),
# a state directory $TMP/NAME owned by the daemon's user, and the daemon
# PROGRAM in the test's namespace with OPTIONs.  Sets PID.
start() {
    name=$1 program=$2 role=$3 id=$4
    shift 4
    S=$TMP/$name
    mkdir -m 0755 "$S" && chown "$DUSER:$DGROUP" "$S" || exit 99
    ovsdb-tool create "$TMP/$name.db" "$VSCHEMA" || exit 99
    cfg_serve "$name"
    grant "$TMP/$name.sock"
    vs="ovs-vsctl --no-wait --db=unix:$TMP/$name.sock"
    $vs init &&
        $vs add-br br-int -- add-port br-int xlt0 \
            -- set interface xlt0 ofport=200 &&
        $vs set Open_vSwitch . external_ids:ovslb-node-id="$id" \
            external_ids:ovslb-role="$role" external_ids:ovslb-bridge=br-int \
            external_ids:ovslb-config="unix:$TMP/ovslb.sock" \
            external_ids:ovslb-store="$S/store.db" \
            external_ids:ovslb-metrics-file="$S/node.prom" || exit 99
    if [ "$role" = lb ]; then
        $vs set Open_vSwitch . external_ids:ovslb-north-port=north0 || exit 99
    fi
    ip netns exec "$NS" "$program" --db="unix:$TMP/$name.sock" \
        --unixctl="$S/daemon.ctl" --pidfile="$S/daemon.pid" --detach \
        --no-chdir --log-file="$S/daemon.log" -vconsole:off "$@" \
        2>"$TMP/$name.stderr" ||
        { echo "ERROR: $program did not start: $(cat "$TMP/$name.stderr")";
          exit 99; }
    PID=$(cat "$S/daemon.pid")
}

# wait_for CMD...: at most 10 s until CMD succeeds.
wait_for() {
    i=0
    while [ $i -lt 100 ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# status_is PID FIELD VALUE: /proc/PID/status has "FIELD:" with VALUE
# (tabs between the values of Uid and Gid).
status_is() {
    got=$(sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s '\t' ' ')
    [ "$got" = "$3" ] || { echo "$2: $got, expected $3"; return 1; }
}

# show NAME PATTERN: the daemon's ovslb/show matches PATTERN.
show() {
    ovs-appctl -t "$TMP/$1/daemon.ctl" ovslb/show | grep -Eq -- "$2"
}

# mode_is FILE MODE: FILE has octal MODE and belongs to the daemon's user.
mode_is() {
    got=$(stat -c '%a %U' "$1")
    [ "$got" = "$2 $DUSER" ] || { echo "$1: $got, expected $2 $DUSER";
                                  return 1; }
}

# check_files NAME: the daemon's files and socket keep $OTHER out.
check_files() {
    S=$TMP/$1
    expect 0 "$1: the store, its -wal and -shm exist" -- \
        wait_for test -f "$S/store.db" -a -f "$S/store.db-wal" \
                      -a -f "$S/store.db-shm"
    expect 0 "$1: ... the metrics file too" -- wait_for test -f "$S/node.prom"
    for f in store.db store.db-wal store.db-shm node.prom daemon.pid \
             daemon.log; do
        expect 0 "$1: $f is 0640, the daemon user's" -- mode_is "$S/$f" 640
        expect 1 "$1: $OTHER cannot read $f" "Permission denied" -- \
            runuser -u "$OTHER" -- cat "$S/$f"
    done
    expect 0 "$1: $DUSER reads the store (the check above can pass)" -- \
        runuser -u "$DUSER" -- cat "$S/store.db"
    expect 0 "$1: the unixctl socket is 0750, the daemon user's" -- \
        mode_is "$S/daemon.ctl" 750
    expect 1 "$1: $OTHER cannot talk to the unixctl socket" \
        "Permission denied" -- \
        runuser -u "$OTHER" -- ovs-appctl -t "$S/daemon.ctl" version
    expect 0 "$1: $DUSER can" -- \
        runuser -u "$DUSER" -- ovs-appctl -t "$S/daemon.ctl" version
    expect 0 "$1: root can" "ovs-vswitchd|Open vSwitch" -- \
        ovs-appctl -t "$S/daemon.ctl" version
}

# --- ovslb-controller ---------------------------------------------------
start lb controller/ovslb-controller lb 1 --user="$DUSER"
expect 0 "controller: runs as $DUSER" -- \
    status_is "$PID" Uid "$DUID $DUID $DUID $DUID"
expect 0 "controller: ... with $DUSER's group" -- \
    status_is "$PID" Gid "$DGID $DGID $DGID $DGID"
expect 0 "controller: effective capabilities: CAP_NET_BIND_SERVICE only" -- \
    status_is "$PID" CapEff 0000000000000400
expect 0 "controller: permitted: the same" -- \
    status_is "$PID" CapPrm 0000000000000400
expect 0 "controller: bounding set empty (nothing for vtysh)" -- \
    status_is "$PID" CapBnd 0000000000000000
expect 0 "controller: ... no ambient capability" -- \
    status_is "$PID" CapAmb 0000000000000000
expect 0 "controller: binds control port 700 as $DUSER" -- \
    wait_for show lb '^control socket: \[10\.0\.0\.11\]:700$'
expect 0 "controller: the log names the capability and why" -- \
    grep -q "keeping CAP_NET_BIND_SERVICE: binding the control" \
    "$TMP/lb/daemon.log"
check_files lb

# --- ovslb-agent, without --netns-access --------------------------------
start srv agent/ovslb-agent server 101 --user="$DUSER"
expect 0 "agent: runs as $DUSER" -- \
    status_is "$PID" Uid "$DUID $DUID $DUID $DUID"
expect 0 "agent: effective capabilities: NET_RAW, NET_ADMIN, NET_BIND_SERVICE" -- \
    status_is "$PID" CapEff 0000000000003400
expect 0 "agent: permitted: the same (no CAP_SYS_ADMIN)" -- \
    status_is "$PID" CapPrm 0000000000003400
expect 0 "agent: opens its translation port with them" -- \
    wait_for show srv '^translation port: open$'
expect 0 "agent: ... and brought it up" -- \
    wait_for sh -c "ip -n $NS link show xlt0 | grep -q ',UP'"
expect 0 "agent: binds control port 700 as $DUSER" -- \
    wait_for show srv '^control socket: \[10\.0\.0\.101\]:700$'
expect 0 "agent: refuses the netns it cannot enter, saying why" -- \
    wait_for show srv "network namespace $NS: entering it needs CAP_SYS_ADMIN, which ovslb-agent keeps under --user only with --netns-access"
expect 0 "agent: ... counted (coverage privileges_refused)" -- \
    wait_for sh -c "ovs-appctl -t '$TMP/srv/daemon.ctl' coverage/show |
                    grep -Eq 'privileges_refused .*total: [1-9]'"
check_files srv
pid=$PID
ovs-appctl -t "$TMP/srv/daemon.ctl" exit
wait_for sh -c "! kill -0 $pid" || { echo "ERROR: the agent did not exit"; exit 99; }

# --- ovslb-agent --netns-access ------------------------------------------
cfg_stop_db srv
rm -rf "$TMP/srv" "$TMP/srv.db"
start srv agent/ovslb-agent server 101 --user="$DUSER" --netns-access
expect 0 "agent --netns-access: effective capabilities unchanged" -- \
    status_is "$PID" CapEff 0000000000003400
expect 0 "agent --netns-access: CAP_SYS_ADMIN only permitted" -- \
    status_is "$PID" CapPrm 0000000000203400
expect 0 "agent --netns-access: reads the socket table of $NS" -- \
    wait_for show srv "^socket tables: $NS\$"
expect 0 "agent --netns-access: ... and dumps it" -- \
    wait_for sh -c "ovs-appctl -t '$TMP/srv/daemon.ctl' ovslb/stats |
        grep -Eq '^socket table $NS: [1-9][0-9]* dumps, [0-9]+ sockets, 0 errors'"
expect 0 "agent --netns-access: CAP_SYS_ADMIN lowered again after setns()" -- \
    status_is "$PID" CapEff 0000000000003400
expect 0 "agent --netns-access: the log says it is only permitted" -- \
    grep -q "keeping CAP_SYS_ADMIN (permitted, raised only when used)" \
    "$TMP/srv/daemon.log"

# --- refusals --------------------------------------------------------------
expect 1 "--user of a user that does not exist is refused" \
    "no user ovslb-no-such-user" -- \
    controller/ovslb-controller --user=ovslb-no-such-user --db=unix:/nowhere
expect 1 "--user with a group the user is not in is refused" \
    "user $DUSER is not in group root" -- \
    agent/ovslb-agent --user="$DUSER:root" --db=unix:/nowhere
expect 1 "--user is refused when not started as root" \
    "only root can switch to another user" -- \
    runuser -u "$OTHER" -- controller/ovslb-controller --user="$DUSER" \
    --db=unix:/nowhere

cfg_finish
