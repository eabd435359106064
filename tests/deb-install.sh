#!/bin/sh
# deb-install.sh: the Debian packages built from debian/ (dpkg-buildpackage,
# 'make deb'), unpacked and brought up the way their systemd units would:
#
#   - the packages hold what an operator needs (programs, units, defaults,
#     schema, manuals), and systemd-analyze finds nothing wrong in the units;
#   - one LB node and one server node, each a network namespace
#     (deb-test-PID-lb, deb-test-PID-srv, joined by a veth pair) with its own
#     ovsdb-server and ovs-vswitchd (the host's Open vSwitch, private run
#     directories, as the other tests);
#   - the config service started from ovslb-db.service's lines: it creates
#     the database on the first start and converts it when a later package
#     has a new schema, keeping the configuration;
#   - ovslb-controller and ovslb-agent started from their units' ExecStart
#     lines, reading /etc/default/ovslb-*: each answers ovs-appctl, is
#     connected to the config service and to its bridge, and the LB node
#     sees the server node healthy.
#
# This machine cannot run systemd, and the packages are not installed into
# its root file system: they are unpacked with dpkg-deb -x into a temporary
# directory, and the units' lines are run with their paths moved there (the
# units' Environment=, EnvironmentFile=, ExecStartPre= and ExecStart=, and
# the *Directory= they ask for).  A unit with any other [Service] setting
# stops the test, which must then learn it.
#
# Root only; skips (77) unless OVSLB_DEB_DIR names the directory of the
# built .debs.

. "${srcdir:-$(dirname "$0")/..}/tests/config-lib.sh"

if [ -z "${OVSLB_DEB_DIR:-}" ]; then
    echo "SKIP: OVSLB_DEB_DIR does not name the built packages ('make deb')"
    exit 77
fi
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: not root"
    exit 77
fi
PATH=$PATH:/usr/sbin:/sbin
for prog in dpkg-deb ip ovsdb-server ovsdb-tool ovs-vswitchd ovs-vsctl \
            ovs-appctl; do
    command -v $prog >/dev/null 2>&1 || { echo "SKIP: no $prog"; exit 77; }
done
VSCHEMA=/usr/share/openvswitch/vswitch.ovsschema
[ -f "$VSCHEMA" ] || { echo "SKIP: no $VSCHEMA"; exit 77; }

T=$(mktemp -d "${TMPDIR:-/tmp}/deb-test.XXXXXX") ||
    { echo "ERROR: mktemp failed"; exit 99; }
ROOT=$T/root
NS_LB=deb-test-$$-lb
NS_SRV=deb-test-$$-srv
PIDS=

cleanup() {
    for pid in $PIDS; do
        kill "$pid" 2>/dev/null
    done
    for pidfile in "$T"/*/*.pid "$T"/run/ovslb/*.pid; do
        [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
    done
    sleep 0.5
    ip netns del "$NS_LB" 2>/dev/null
    ip netns del "$NS_SRV" 2>/dev/null
    if [ -n "${OVSLB_KEEP:-}" ]; then
        echo "# kept $T"
    else
        rm -rf "$T"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_until SECONDS CMD...: until CMD succeeds, at most SECONDS.
wait_until() {
    n=$(($1 * 10))
    shift
    while [ "$n" -gt 0 ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}

# ---------------------------------------------------------------------------
# The packages.

mkdir -p "$ROOT"
for pkg in ovslb-common ovslb-central ovslb-controller ovslb-agent; do
    # The newest build of each, if there are several.
    deb=$(ls -t "$OVSLB_DEB_DIR/${pkg}_"*.deb 2>/dev/null | head -1)
    [ -n "$deb" ] ||
        { echo "ERROR: no ${pkg}_*.deb in $OVSLB_DEB_DIR"; exit 99; }
    echo "# $deb"
    dpkg-deb -x "$deb" "$ROOT" || { echo "ERROR: dpkg-deb -x $deb"; exit 99; }
    dpkg-deb -f "$deb" Depends >"$T/$pkg.depends"
    VERSION=$(dpkg-deb -f "$deb" Version)
done

# has FILE...: the packages hold each FILE.
has() {
    for f in "$@"; do
        [ -e "$ROOT$f" ] || { echo "missing: $f"; return 1; }
    done
}
expect 0 "ovslb-common: ovslb-ctl, the schema, the manuals" -- \
    has /usr/bin/ovslb-ctl /usr/share/ovslb/ovslb.ovsschema \
        /usr/share/man/man5/ovslb.5.gz /usr/share/man/man8/ovslb-ctl.8.gz \
        /usr/share/doc/ovslb-common/copyright
expect 0 "ovslb-central: the config service's unit, its defaults" -- \
    has /lib/systemd/system/ovslb-db.service /etc/default/ovslb-db \
        /usr/libexec/ovslb/ovslb-db-prepare
expect 0 "ovslb-controller: the daemon, its unit, defaults and manual" -- \
    has /usr/sbin/ovslb-controller /lib/systemd/system/ovslb-controller.service \
        /etc/default/ovslb-controller /usr/share/man/man8/ovslb-controller.8.gz
expect 0 "ovslb-agent: the daemon, its unit, defaults and manual" -- \
    has /usr/sbin/ovslb-agent /lib/systemd/system/ovslb-agent.service \
        /etc/default/ovslb-agent /usr/share/man/man8/ovslb-agent.8.gz
expect 0 "the daemons' packages give ovs-vswitchd its malloc tunables" -- \
    has /lib/systemd/system/ovs-vswitchd.service.d/ovslb-controller.conf \
        /lib/systemd/system/ovs-vswitchd.service.d/ovslb-agent.conf
expect 0 "...a glibc trim threshold of 64 MiB, in [Service]" -- \
    sh -c "for f in '$ROOT'/lib/systemd/system/ovs-vswitchd.service.d/*.conf; do
               grep -qx '\\[Service\\]' \"\$f\" &&
               grep -qx 'Environment=GLIBC_TUNABLES=glibc.malloc.trim_threshold=67108864' \"\$f\" || exit 1
           done"
expect 0 "the namespace lab (a test tool) is not packaged" -- \
    sh -c "! find '$ROOT' -name 'ovslb-lab*' | grep -q ."
expect 0 "the daemons' packages depend on openvswitch-switch" -- \
    sh -c "grep -q openvswitch-switch '$T/ovslb-controller.depends' &&
           grep -q openvswitch-switch '$T/ovslb-agent.depends'"

UNITS=$ROOT/lib/systemd/system
for d in controller agent; do
    u=$UNITS/ovslb-$d.service
    expect 0 "ovslb-$d.service starts after openvswitch-switch, needs it" -- \
        sh -c "grep -q '^Requires=.*openvswitch-switch.service' '$u' &&
               grep -q '^After=.*openvswitch-switch.service' '$u'"
    expect 0 "... restarts on failure, reads /etc/default/ovslb-$d" -- \
        sh -c "grep -qx 'Restart=on-failure' '$u' &&
               grep -qx 'EnvironmentFile=-/etc/default/ovslb-$d' '$u'"
    expect 0 "... runs in the foreground with a pidfile" \
        "^ExecStart=/usr/sbin/ovslb-$d .*--pidfile " -- grep '^ExecStart=' "$u"
    expect 1 "... without --detach or --monitor" -- \
        sh -c "grep '^ExecStart' '$u' | grep -Eq -- '--detach|--monitor'"
done

# systemd's own check of the units: what it says, but for the programs it
# cannot find on this machine's root (they are in the unpacked packages).
if command -v systemd-analyze >/dev/null 2>&1; then
    verify() {
        systemd-analyze verify --man=no "$UNITS"/ovslb-*.service \
            >"$T/verify.out" 2>&1
        status=0
        while read -r line; do
            prog=$(echo "$line" |
                   sed -n 's/^[^:]*: Command \(.*\) is not executable: No such file or directory$/\1/p')
            if [ -n "$prog" ] && [ -x "$ROOT$prog" ]; then
                continue
            fi
            echo "$line"
            status=1
        done <"$T/verify.out"
        return $status
    }
    expect 0 "systemd-analyze verify finds nothing wrong in the units" -- verify
fi

# ---------------------------------------------------------------------------
# A unit's lines, run here: 'unit_run UNIT NS ENV...' runs UNIT's
# ExecStartPre lines in namespace NS (each must succeed), then its ExecStart
# line in the background, with the environment ENV (VAR=VALUE...) added to
# the unit's own.  Paths of the packages and of the unit's directories are
# moved under $T.

relocate() {
    sed -e "s|/usr/sbin/ovslb-|$ROOT/usr/sbin/ovslb-|g" \
        -e "s|/usr/bin/ovslb-|$ROOT/usr/bin/ovslb-|g" \
        -e "s|/usr/libexec/ovslb/|$ROOT/usr/libexec/ovslb/|g" \
        -e "s|/usr/share/ovslb/|$ROOT/usr/share/ovslb/|g" \
        -e "s|/etc/default/|$ROOT/etc/default/|g" \
        -e "s|/run/ovslb|$T/run/ovslb|g" \
        -e "s|/var/lib/ovslb|$T/var/lib/ovslb|g" \
        -e "s|/var/log/ovslb|$T/var/log/ovslb|g"
}

# service_lines UNIT: the [Service] section's settings, continuation lines
# joined, relocated.
service_lines() {
    sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$1" |
        sed -n '/^\[Service\]/,/^\[/{/^[A-Za-z]/p}' | relocate
}

unit_run() {
    unit=$UNITS/$1 ns=$2
    shift 2
    name=$(basename "$unit" .service)
    service_lines "$unit" >"$T/$name.lines"
    (
        for kv in "$@"; do
            export "${kv?}"
        done
        pre=""
        start=""
        while IFS= read -r line; do
            key=${line%%=*}
            value=${line#*=}
            case $key in
                Type)
                    [ "$value" = simple ] || {
                        echo "ERROR: $name: Type=$value, not emulated"
                        exit 1; } ;;
                Environment)
                    export "${value?}" ;;
                EnvironmentFile)
                    file=${value#-}
                    if [ -f "$file" ]; then
                        relocate <"$file" >"$T/$name.env"
                        set -a
                        # shellcheck source=/dev/null # the unit's file, moved
                        . "$T/$name.env"
                        set +a
                    elif [ "$file" = "$value" ]; then
                        echo "ERROR: $name: no $file"
                        exit 1
                    fi ;;
                RuntimeDirectory|StateDirectory|LogsDirectory)
                    case $key in
                        Runtime*) base=$T/run ;;
                        State*) base=$T/var/lib ;;
                        Logs*) base=$T/var/log ;;
                    esac
                    for d in $value; do
                        mkdir -p "$base/$d"
                    done ;;
                ExecStartPre)
                    pre="$pre$value
" ;;
                ExecStart)
                    start=$value ;;
                Restart|RuntimeDirectoryMode) ;;
                *)
                    echo "ERROR: $name: [Service] $key= is not emulated by" \
                         "this test"
                    exit 1 ;;
            esac
        done <"$T/$name.lines"
        # systemd's expansion: ${VAR} is one argument, $VAR is split at
        # white space.
        quote() {
            sed 's/\${\([A-Za-z_][A-Za-z0-9_]*\)}/"${\1}"/g'
        }
        echo "$pre" | while IFS= read -r cmd; do
            [ -n "$cmd" ] || continue
            eval "set -- $(echo "$cmd" | quote)"
            echo "# $name: ExecStartPre: $*" | tee -a "$T/units.log"
            ip netns exec "$ns" "$@" || {
                echo "ERROR: $name: ExecStartPre failed: $*"; exit 1; }
        done || exit 1
        eval "set -- $(echo "$start" | quote)"
        echo "# $name: ExecStart: $*" | tee -a "$T/units.log"
        ip netns exec "$ns" "$@" >"$T/$name.stdout" 2>"$T/$name.stderr" &
        echo $! >"$T/$name.started"
    )
}

# ---------------------------------------------------------------------------
# Two nodes, each with its own Open vSwitch.

ip netns add "$NS_LB" && ip netns add "$NS_SRV" ||
    { echo "ERROR: ip netns add"; exit 99; }
ip -n "$NS_LB" link set lo up
ip -n "$NS_SRV" link set lo up
ip link add south0 netns "$NS_LB" type veth peer name south0 netns "$NS_SRV" ||
    { echo "ERROR: veth"; exit 99; }
ip -n "$NS_LB" addr add 10.0.0.11/24 dev south0
ip -n "$NS_SRV" addr add 10.0.0.101/24 dev south0
ip -n "$NS_LB" link set south0 up
ip -n "$NS_SRV" link set south0 up

# node_ovs NODE NS: ovsdb-server and ovs-vswitchd of NODE in $T/NODE.
node_ovs() {
    d=$T/$1
    mkdir -p "$d"
    ovsdb-tool create "$d/conf.db" "$VSCHEMA" || exit 99
    ip netns exec "$2" env OVS_RUNDIR="$d" OVS_LOGDIR="$d" OVS_DBDIR="$d" \
        ovsdb-server "$d/conf.db" --remote="punix:$d/db.sock" \
        --pidfile="$d/ovsdb-server.pid" --unixctl="$d/ovsdb-server.ctl" \
        --log-file="$d/ovsdb-server.log" -vconsole:off --detach --no-chdir ||
        { echo "ERROR: $1: ovsdb-server"; exit 99; }
    ovs-vsctl --db="unix:$d/db.sock" --no-wait init || exit 99
    ip netns exec "$2" env OVS_RUNDIR="$d" OVS_LOGDIR="$d" OVS_DBDIR="$d" \
        ovs-vswitchd "unix:$d/db.sock" --pidfile="$d/ovs-vswitchd.pid" \
        --unixctl="$d/ovs-vswitchd.ctl" --log-file="$d/ovs-vswitchd.log" \
        -vconsole:off --disable-system --detach --no-chdir ||
        { echo "ERROR: $1: ovs-vswitchd"; exit 99; }
}
node_ovs lb "$NS_LB"
node_ovs srv "$NS_SRV"
vsctl() { node=$1; shift; ovs-vsctl --db="unix:$T/$node/db.sock" --timeout=30 "$@"; }

CONFIG=unix:$T/run/ovslb/ovslb.sock
# node_config NODE ID ROLE PORT OFPORT [KEY=VALUE...]: NODE's settings, and
# its bridge br-int with the Geneve port and PORT (an internal port).
node_config() {
    node=$1 id=$2 role=$3 port=$4 ofport=$5
    shift 5
    vsctl "$node" set Open_vSwitch . external_ids:ovslb-node-id="$id" \
        external_ids:ovslb-role="$role" external_ids:ovslb-bridge=br-int \
        external_ids:ovslb-config="$CONFIG" "$@" || exit 99
    vsctl "$node" add-br br-int -- set bridge br-int datapath_type=netdev \
            fail_mode=secure protocols=OpenFlow13,OpenFlow15 \
        -- add-port br-int gnv0 -- set interface gnv0 type=geneve \
            options:remote_ip=flow options:key=flow ofport_request=100 \
        -- add-port br-int "$port" -- set interface "$port" type=internal \
            ofport_request="$ofport" || exit 99
}
node_config lb 1 lb north0 1 external_ids:ovslb-north-port=north0
# The north address, which the LB node's health socket binds.
ip -n "$NS_LB" addr add 172.16.0.11/24 dev north0 &&
    ip -n "$NS_LB" link set north0 up || exit 99
node_config srv 101 server xlt0 200

# ---------------------------------------------------------------------------
# The config service, in the LB node's namespace: first the package of an
# older schema (the same one with a lower version), then this one.

SCHEMA=$ROOT/usr/share/ovslb/ovslb.ovsschema
new=$(ovsdb-tool schema-version "$SCHEMA")
cp "$SCHEMA" "$T/new.ovsschema"
sed 's/"version": *"[^"]*"/"version": "1.0.0"/' "$T/new.ovsschema" >"$SCHEMA"
CTL="$ROOT/usr/bin/ovslb-ctl --db=$CONFIG --timeout=30"
DB_CTL=$T/run/ovslb/ovslb-db.ctl

db_stop() {
    pid=$(cat "$T/ovslb-db.started")
    kill "$pid"
    wait_until 10 sh -c "! kill -0 $pid" ||
        { echo "ERROR: the config service did not stop"; exit 99; }
}

expect 0 "ovslb-db.service: the first start creates the database" \
    "created $T/var/lib/ovslb/ovslb.db \(schema 1.0.0\)" -- \
    unit_run ovslb-db.service "$NS_LB"
expect 0 "... and serves it on ovslb-ctl's socket" -- \
    wait_until 10 ovs-appctl -t "$DB_CTL" version
$CTL init >/dev/null && $CTL lb-node-add 1 172.16.0.11 10.0.0.11 &&
    $CTL server-add 101 10.0.0.101 && $CTL vip-add web 192.0.2.10 80 &&
    $CTL vip-server-add web 101 ||
    { echo "ERROR: ovslb-ctl failed"; exit 99; }
db_stop

cp "$T/new.ovsschema" "$SCHEMA"
expect 0 "the upgrade's restart converts the database to the new schema" \
    "converted $T/var/lib/ovslb/ovslb.db from schema 1.0.0 to $new" -- \
    unit_run ovslb-db.service "$NS_LB"
expect 0 "... which serves it again" -- \
    wait_until 10 ovs-appctl -t "$DB_CTL" version
expect 0 "... with the configuration kept" "^web +192.0.2.10" -- $CTL vip-list
expect 0 "... its log in the unit's LogsDirectory" -- \
    test -s "$T/var/log/ovslb/ovslb-db.log"

# ---------------------------------------------------------------------------
# The daemons, through their units' lines; the agent's /etc/default file
# asks for a debug log file.

echo 'OVSLB_AGENT_OPTS="-vfile:dbg"' >>"$ROOT/etc/default/ovslb-agent"
LB_ENV="OVS_RUNDIR=$T/lb OVS_LOGDIR=$T/lb OVS_DBDIR=$T/lb"
SRV_ENV="OVS_RUNDIR=$T/srv OVS_LOGDIR=$T/srv OVS_DBDIR=$T/srv"
# shellcheck disable=SC2086 # VAR=VALUE words
expect 0 "ovslb-controller.service starts the controller" -- \
    unit_run ovslb-controller.service "$NS_LB" $LB_ENV
# shellcheck disable=SC2086
expect 0 "ovslb-agent.service starts the agent" -- \
    unit_run ovslb-agent.service "$NS_SRV" $SRV_ENV
PIDS="$(cat "$T/ovslb-controller.started") $(cat "$T/ovslb-agent.started")"

lb_appctl() { env OVS_RUNDIR="$T/lb" ovs-appctl -t ovslb-controller "$@"; }
srv_appctl() { env OVS_RUNDIR="$T/srv" ovs-appctl -t ovslb-agent "$@"; }

expect 0 "the controller writes its pidfile" -- \
    wait_until 10 test -s "$T/lb/ovslb-controller.pid"
expect 0 "the agent writes its pidfile" -- \
    wait_until 10 test -s "$T/srv/ovslb-agent.pid"
expect 0 "ovs-appctl -t ovslb-controller version: the package's version" \
    "$VERSION" -- lb_appctl version
expect 0 "ovs-appctl -t ovslb-agent version: the package's version" \
    "$VERSION" -- srv_appctl version

# shown NODE PATTERN: NODE's ovslb/show has a line matching PATTERN.
shown() {
    "${1}_appctl" ovslb/show 2>&1 | grep -Eq -- "$2"
}
expect 0 "the controller is connected to the config service" -- \
    wait_until 20 shown lb "^config service: $CONFIG, connected"
expect 0 "... and to its bridge" -- \
    wait_until 20 shown lb "^openflow: connected"
expect 0 "the agent is connected to the config service" -- \
    wait_until 20 shown srv "^config service: $CONFIG, connected"
expect 0 "... and to its bridge" -- \
    wait_until 20 shown srv "^openflow: connected"
# One LB node alone is never healthy (no other LB node checks it), and the
# server answers "not ready" without a server application behind its VIP;
# but the agent answers the LB node's health pings over the underlay.
expect 0 "the agent answers the LB node's pings" -- \
    wait_until 30 sh -c "env OVS_RUNDIR='$T/srv' ovs-appctl -t ovslb-agent \
        ovslb/stats | grep -Eq '^  pongs: [1-9]'"
expect 0 "the agent took OVSLB_AGENT_OPTS from /etc/default/ovslb-agent" \
    "DBG" -- srv_appctl vlog/list
expect 0 "the controller logs to its --log-file" "ovslb-controller" -- \
    cat "$T/lb/ovslb-controller.log"
expect 0 "... and nothing to the console (the journal)" -- \
    test ! -s "$T/ovslb-controller.stderr"

# The lines run, and what an operator sees, for the log.
cat "$T/units.log"
for node in lb srv; do
    echo "# ovs-appctl version / ovslb/show of the $node node:"
    "${node}_appctl" version 2>&1 | sed 's/^/#   /'
    "${node}_appctl" ovslb/show 2>&1 | head -5 | sed 's/^/#   /'
done

if [ "$CFG_FAILED" -ne 0 ]; then
    for f in "$T"/lb/ovslb-controller.log "$T"/srv/ovslb-agent.log; do
        echo "--- $f (last lines)"
        grep -v '|DBG|' "$f" 2>/dev/null | tail -n 20 | cut -c1-200
    done
    echo "--- ovslb/show of the controller"
    lb_appctl ovslb/show 2>&1 | head -30
    echo "--- ovslb/health of the controller"
    lb_appctl ovslb/health 2>&1 | head -30
    echo "--- ovslb/stats of the agent"
    srv_appctl ovslb/stats 2>&1 | sed -n '/^agent:/,$p'
fi
cfg_finish
