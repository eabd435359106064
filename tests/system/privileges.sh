#!/bin/bash
# privileges.sh: in the lab, the ovslb daemons run as the unprivileged user
# ovslb (OVSLB_LAB_USER's default) with only the capabilities their manuals
# list, and still do their work: OpenFlow in sync, the agent's translation
# port open, the controllers driving their bgpd through vtysh (with FRR),
# requests through the VIP answered.  Another local user (nobody) can read
# none of their files (SQLite store, its -wal and -shm, metrics file, pid
# file, log) nor talk to their unixctl sockets, which root can.  Root only
# (the lab); run by 'make check-system'.
set -u
srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/system/system-lib.sh
. "$srcdir/tests/system/system-lib.sh"

sys_init
D=$OVSLB_LAB_DIR
unset OVSLB_LAB_USER
OTHER=nobody

check "lab up --lb 2 --servers 1 (daemons as the default user)" \
    lab up --lb 2 --servers 1
[ "$SYS_FAILED" = 0 ] || sys_error "the lab did not come up"
check_out "lab.env records the daemons' user" '^DAEMON_USER=ovslb$' \
    cat "$D/lab.env"
DUID=$(id -u ovslb) || sys_error "the lab did not create user ovslb"

# status_is PID FIELD VALUE: /proc/PID/status has "FIELD:" with VALUE.
status_is() {
    local got
    got=$(sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s '\t' ' ')
    [ "$got" = "$3" ] || { echo "$2: $got, expected $3"; return 1; }
}

# mode_is FILE: FILE is 0640 and ovslb's.
mode_is() {
    local got
    got=$(stat -c '%a %U' "$1")
    [ "$got" = "640 ovslb" ] || { echo "$1: $got, expected 640 ovslb"; return 1; }
}

# daemon NODE PROG CAPEFF: the checks of one daemon.
daemon() {
    local node=$1 prog=$2 capeff=$3 pid f
    pid=$(cat "$D/$node/$prog.pid")
    check "$node: $prog runs as ovslb" \
        status_is "$pid" Uid "$DUID $DUID $DUID $DUID"
    check "$node: $prog's effective capabilities are $capeff" \
        status_is "$pid" CapEff "$capeff"
    check "$node: ... and nothing more is permitted" \
        status_is "$pid" CapPrm "$capeff"
    check "$node: ... its bounding set is empty" \
        status_is "$pid" CapBnd 0000000000000000
    for f in ovslb.db ovslb.db-wal ovslb.db-shm ovslb.prom "$prog.pid" \
             "$prog.log"; do
        check "$node: $f is 0640, ovslb's" mode_is "$D/$node/$f"
        check "$node: $OTHER cannot read $f" \
            eval "! runuser -u $OTHER -- cat $D/$node/$f >/dev/null 2>&1"
    done
    check "$node: $OTHER cannot talk to $prog.ctl" \
        eval "! runuser -u $OTHER -- ovs-appctl --timeout=5 -t $D/$node/$prog.ctl version >/dev/null 2>&1"
    check "$node: root can" \
        ovs-appctl --timeout=5 -t "$D/$node/$prog.ctl" version
}

for k in 1 2; do
    daemon "lb$k" ovslb-controller 0000000000000400
    check_out "lb$k: OpenFlow connected, flows in sync, as ovslb" \
        '^openflow: connected, flows in sync$' \
        ovs-appctl --timeout=5 -t "$D/lb$k/ovslb-controller.ctl" ovslb/show
done
daemon srv1 ovslb-agent 0000000000003400
check_out "srv1: the translation port is open, as ovslb" \
    '^translation port: open$' \
    ovs-appctl --timeout=5 -t "$D/srv1/ovslb-agent.ctl" ovslb/show

if grep -qx 'ROUTES=bgp' "$D/lab.env" && grep -qx 'ANNOUNCE=controller' "$D/lab.env"; then
    # bgp_applied K: LB node K's speaker applied its sessions (vtysh as
    # ovslb on bgpd.vty), without a failure.
    bgp_applied() {
        ovs-appctl --timeout=5 -t "$D/lb$1/ovslb-controller.ctl" ovslb/show \
            | grep -Eq 'applies [1-9][0-9]* applied [1-9][0-9]* failures 0 '
    }
    for k in 1 2; do
        check "lb$k: its BGP speaker drives bgpd as ovslb (vtysh applied, no failure)" \
            wait_for 10000 bgp_applied "$k"
    done
else
    echo "# no BGP in this lab (FRR not installed): vtysh as ovslb not checked"
fi

check_out "100 requests through the VIP" 'latency: .*(100 requests)' \
    lab demo --requests 100

check "lab down" lab down
sys_finish
