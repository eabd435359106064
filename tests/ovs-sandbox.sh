# ovs-sandbox.sh: sourced by the dummy-datapath tests.  Starts a private
# ovsdb-server and `ovs-vswitchd --enable-dummy` in a temporary directory
# (no root needed) and stops them on exit.
#
#   sandbox_start      sets $SANDBOX and OVS_RUNDIR/OVS_LOGDIR/OVS_DBDIR
#   vsctl ARGS...      ovs-vsctl on the sandbox's database
#   ofctl ARGS...      ovs-ofctl -O OpenFlow15
#   appctl ARGS...     ovs-appctl on the sandbox's ovs-vswitchd
#   check NAME CMD...  runs CMD, counting and printing the outcome
#   finish             prints "N passed, M failed" and exits accordingly

n_passed=0
n_failed=0

sandbox_stop() {
    for d in ovs-vswitchd ovsdb-server; do
        if [ -f "$SANDBOX/$d.pid" ]; then
            kill "$(cat "$SANDBOX/$d.pid")" 2>/dev/null || true
        fi
    done
    if [ -n "$SANDBOX" ] && [ -z "$OVSLB_KEEP_SANDBOX" ]; then
        rm -rf "$SANDBOX"
    fi
}

sandbox_start() {
    SANDBOX=$(mktemp -d "${TMPDIR:-/tmp}/ovslb-sandbox.XXXXXX")
    trap sandbox_stop EXIT
    OVS_RUNDIR=$SANDBOX OVS_LOGDIR=$SANDBOX OVS_DBDIR=$SANDBOX
    export OVS_RUNDIR OVS_LOGDIR OVS_DBDIR
    ovsdb-tool create "$SANDBOX/conf.db" \
        /usr/share/openvswitch/vswitch.ovsschema
    ovsdb-server "$SANDBOX/conf.db" --remote="punix:$SANDBOX/db.sock" \
        --pidfile="$SANDBOX/ovsdb-server.pid" \
        --unixctl="$SANDBOX/ovsdb-server.ctl" \
        --log-file="$SANDBOX/ovsdb-server.log" --detach --no-chdir \
        -vconsole:off
    vsctl --no-wait init
    ovs-vswitchd --enable-dummy "unix:$SANDBOX/db.sock" \
        --pidfile="$SANDBOX/ovs-vswitchd.pid" \
        --unixctl="$SANDBOX/ovs-vswitchd.ctl" \
        --log-file="$SANDBOX/ovs-vswitchd.log" --detach --no-chdir \
        -vconsole:off
}

# The LB node's ovslb bridge as the controller finds it: br0 with the north
# port (OpenFlow port 1) and the flow-based Geneve port (100), and the two
# meters of the pipeline's packet-in paths (1: SYNs, 2: other segments) at
# the default syn_meter_rate and other_meter_rate.
sandbox_lb_bridge() {
    vsctl add-br br0 -- set bridge br0 datapath_type=dummy fail-mode=secure \
            protocols=OpenFlow13,OpenFlow15 \
        -- add-port br0 north0 -- set interface north0 type=dummy \
            ofport_request=1 \
        -- add-port br0 gnv0 -- set interface gnv0 type=geneve \
            options:remote_ip=flow options:key=flow ofport_request=100
    ofctl add-meter br0 meter=1,pktps,band=type=drop,rate=50000
    ofctl add-meter br0 meter=2,pktps,band=type=drop,rate=40000
}

# sandbox_need_python MODULE...: skips the test (exit 77) unless Debian's
# python3 imports every MODULE (scapy: utilities/ovslb-bootstrap installs
# it).
sandbox_need_python() {
    for m in "$@"; do
        if ! /usr/bin/python3 -c "import $m" 2>/dev/null; then
            echo "python3 module $m is needed (utilities/ovslb-bootstrap installs python3-scapy)"
            exit 77
        fi
    done
}

# sandbox_underlay: an underlay bridge br-phy (10.2.0.11/24, the lab's LB
# node 1) whose port p0 records in $SANDBOX/p0.pcap what br0's Geneve port
# sends, with the LB bridge br0 (sandbox_lb_bridge).  The caller sets the
# tunnel neighbours (appctl tnl/neigh/set br-phy ADDR MAC).
sandbox_underlay() {
    vsctl add-br br-phy -- set bridge br-phy datapath_type=dummy \
            fail-mode=secure \
        -- add-port br-phy p0 -- set interface p0 type=dummy \
            ofport_request=1 options:tx_pcap="$SANDBOX/p0.pcap"
    sandbox_lb_bridge
    ofctl add-flow br-phy "priority=0,actions=NORMAL"
    appctl netdev-dummy/ip4addr br-phy 10.2.0.11/24 >/dev/null
    appctl ovs/route/add 10.2.0.0/24 br-phy >/dev/null
}

vsctl() { ovs-vsctl --db="unix:$SANDBOX/db.sock" --timeout=10 "$@"; }
ofctl() { ovs-ofctl -O OpenFlow15 "$@"; }
appctl() { ovs-appctl -t "$SANDBOX/ovs-vswitchd.ctl" "$@"; }

check() {
    name=$1; shift
    if "$@"; then
        echo "ok: $name"
        n_passed=$((n_passed + 1))
    else
        echo "FAILED: $name"
        n_failed=$((n_failed + 1))
    fi
}

finish() {
    echo "$n_passed passed, $n_failed failed"
    [ "$n_failed" -eq 0 ]
}
