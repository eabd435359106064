#!/bin/sh
# metrics-daemons.sh: the real ovslb-controller and ovslb-agent write their
# metrics file (external_ids:ovslb-metrics-file) once a second, labelled
# with their node and role, and refuse a path the node exporter would not
# read.  Each daemon has its own local Open_vSwitch database
# (ovsdb-server) and follows a config service; no switch, no root.  When
# Debian's node exporter is installed it serves both files.

. "${srcdir:-$(dirname "$0")/..}/tests/config-lib.sh"
cfg_init
cfg_need_vswitch

cfg_start_db ovslb
OCTL="$CTL --db=unix:$TMP/ovslb.sock"
$OCTL init >/dev/null &&
    $OCTL lb-node-add 1 172.16.0.11 10.0.0.11 &&
    $OCTL server-add 101 10.0.0.101 &&
    $OCTL vip-add web 192.0.2.10 80 &&
    $OCTL vip-server-add web 101 ||
    { echo "ERROR: ovslb-ctl failed"; exit 99; }
mkdir "$TMP/metrics"

# start NAME PROGRAM ROLE ID [KEY=VALUE...]: a local database NAME with the
# node's settings, and the daemon PROGRAM on it.
start() {
    name=$1 program=$2 role=$3 id=$4
    shift 4
    ovsdb-tool create "$TMP/$name.db" "$VSCHEMA" || exit 99
    cfg_serve "$name"
    vs="ovs-vsctl --no-wait --db=unix:$TMP/$name.sock"
    $vs init || exit 99
    $vs set Open_vSwitch . external_ids:ovslb-node-id="$id" \
        external_ids:ovslb-role="$role" external_ids:ovslb-bridge=br-int \
        external_ids:ovslb-config="unix:$TMP/ovslb.sock" \
        external_ids:ovslb-store="$TMP/$name-store.db" \
        external_ids:ovslb-metrics-file="$TMP/metrics/$name.prom" "$@" ||
        exit 99
    "$program" --db="unix:$TMP/$name.sock" --unixctl="$TMP/$name-d.ctl" \
        --pidfile="$TMP/$name-d.pid" --detach --no-chdir \
        --log-file="$TMP/$name-d.log" -vconsole:off ||
        { echo "ERROR: $program did not start"; exit 99; }
}
start lb controller/ovslb-controller lb 1 \
    external_ids:ovslb-north-port=north0
start server agent/ovslb-agent server 101

# writes FILE: the file's ovslb_metrics_writes_total.
writes() {
    sed -n 's/^ovslb_metrics_writes_total{[^}]*} //p' "$1"
}

LB=$TMP/metrics/lb.prom
SRV=$TMP/metrics/server.prom
expect 0 "the controller writes its metrics file" -- \
    cfg_wait_grep "$LB" '^ovslb_lb_packet_ins_total\{node="1",role="lb",kind="syn"\} 0$'
expect 0 "... HELP and TYPE before the samples" -- \
    grep -qx '# TYPE ovslb_lb_packet_ins_total counter' "$LB"
expect 0 "... with the shared drivers' metrics" -- \
    grep -q '^ovslb_node_ready{node="1",role="lb"} [01]$' "$LB"
expect 0 "... the VIP's gauges, once configured" -- \
    cfg_wait_grep "$LB" '^ovslb_lb_vip_servers\{node="1",role="lb",vip="web"\} 1$'
expect 0 "... the health state per peer" -- \
    cfg_wait_grep "$LB" '^ovslb_health_peer_healthy\{node="1",role="lb",peer="101",kind="server"\} [01]$'
expect 0 "the agent writes its metrics file" -- \
    cfg_wait_grep "$SRV" '^ovslb_agent_frames_to_server_total\{node="101",role="server"\} 0$'
expect 0 "... with its translation counters, once configured" -- \
    cfg_wait_grep "$SRV" '^ovslb_agent_translated_to_server_total\{node="101",role="server"\} 0$'
expect 0 "no temporary file is left" -- \
    sh -c "! ls '$TMP/metrics' | grep -q tmp"

first=$(writes "$LB")
sleep 2.2
expect 0 "the file is written again every second" -- \
    test "$(writes "$LB")" -ge $((first + 2))
expect 0 "ovslb/show names the file and its writes" \
    "metrics: $TMP/metrics/lb.prom, [0-9]+ writes, 0 failed" -- \
    ovs-appctl -t "$TMP/lb-d.ctl" ovslb/show

# A directory that does not exist: counted, shown, the daemon carries on.
ovs-vsctl --no-wait --db="unix:$TMP/server.sock" set Open_vSwitch . \
    external_ids:ovslb-metrics-file="$TMP/nowhere/server.prom"
expect 0 "a failing write is counted and shown" \
    "metrics: $TMP/nowhere/server.prom, 0 writes, [1-9][0-9]* failed \(last: No such file or directory\)" -- \
    sh -c "sleep 1.5; ovs-appctl -t '$TMP/server-d.ctl' ovslb/show"

# A path the node exporter would not read is refused with a clear error.
ovs-vsctl --no-wait --db="unix:$TMP/server.sock" set Open_vSwitch . \
    external_ids:ovslb-metrics-file=metrics.txt
expect 0 "a bad path is refused with a clear error" \
    "ovslb-metrics-file=metrics.txt is not an absolute path ending in \".prom\"" -- \
    sh -c "sleep 0.5; ovs-appctl -t '$TMP/server-d.ctl' ovslb/show"

exporter=$(command -v prometheus-node-exporter || command -v node_exporter)
if [ -n "$exporter" ] && command -v curl >/dev/null &&
   command -v python3 >/dev/null; then
    port=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
    "$exporter" --collector.disable-defaults --collector.textfile \
        --collector.textfile.directory="$TMP/metrics" \
        --web.disable-exporter-metrics \
        --web.listen-address="127.0.0.1:$port" >"$TMP/exporter.log" 2>&1 &
    echo $! >"$TMP/exporter.pid"
    scrape() {
        i=0
        while [ $i -lt 100 ]; do
            curl -sf "http://127.0.0.1:$port/metrics" -o "$TMP/scrape" &&
                return 0
            sleep 0.1
            i=$((i + 1))
        done
        return 1
    }
    expect 0 "the node exporter serves both daemons' files" -- scrape
    expect 0 "... without a scrape error" -- \
        grep -qx 'node_textfile_scrape_error 0' "$TMP/scrape"
    expect 0 "... packet-ins of the controller" -- grep -q \
        '^ovslb_lb_packet_ins_total{kind="syn",node="1",role="lb"} 0$' \
        "$TMP/scrape"
    expect 0 "... translation counters of the agent" -- grep -q \
        '^ovslb_agent_translated_to_client_total{node="101",role="server"} 0$' \
        "$TMP/scrape"
else
    echo "# no node exporter: files not served"
fi

cfg_finish
