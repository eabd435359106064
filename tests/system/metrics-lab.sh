#!/bin/bash
# metrics-lab.sh: the running daemons' metrics through the real node
# exporter (issue 19).  The lab sets every node's ovslb-metrics-file; after
# 200 requests through the VIP, the node exporter's textfile collector
# serves the six daemons' files, and its HTTP output holds the connections
# accepted, the packet-ins, every peer's health and the agents' translated
# segments, agreeing with what ovslb/stats says.  Root only (the lab); run
# by 'make check-system'.
set -u
srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/system/system-lib.sh
. "$srcdir/tests/system/system-lib.sh"

sys_init
D=$OVSLB_LAB_DIR
exporter=$(command -v prometheus-node-exporter || command -v node_exporter) \
    || sys_skip "prometheus-node-exporter not installed (utilities/ovslb-bootstrap)"
dir=$(mktemp -d /tmp/metrics-lab.XXXXXX)
exporter_pid=
trap '[ -z "$exporter_pid" ] || kill "$exporter_pid" 2>/dev/null; rm -rf "$dir"; sys_cleanup' EXIT

check "lab up (3 LB nodes, 3 server nodes)" lab up
[ "$SYS_FAILED" = 0 ] || sys_error "the lab did not come up"
check_out "200 requests through the VIP" 'latency: .*(200 requests)' \
    lab demo --requests 200
sleep 2    # every daemon rewrites its file once a second

# The textfile collector reads one directory: a copy of each node's file.
nodes="lb1 lb2 lb3 srv1 srv2 srv3"
for n in $nodes; do
    check "$n wrote $D/$n/ovslb.prom" cp "$D/$n/ovslb.prom" "$dir/$n.prom"
done
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$exporter" --collector.disable-defaults --collector.textfile \
    --collector.textfile.directory="$dir" --web.disable-exporter-metrics \
    --web.listen-address="127.0.0.1:$port" >"$dir/exporter.log" 2>&1 &
exporter_pid=$!
scrape() { curl -sf "http://127.0.0.1:$port/metrics" -o "$dir/scrape"; }
check "the node exporter serves the files" wait_for 10000 scrape
S=$dir/scrape
check "no textfile scrape error" grep -qx 'node_textfile_scrape_error 0' "$S"

# sum METRIC [LABEL-REGEX]: the sum of a family's samples over every node.
sum() {
    awk -v m="$1" -v l="${2:-}" '
        index($0, m "{") == 1 && (l == "" || $0 ~ l) { s += $NF }
        END { printf "%d\n", s }' "$S"
}
accepted=$(sum ovslb_lb_connections_accepted_total)
syn=$(sum ovslb_lb_packet_ins_total 'kind="syn"')
to_server=$(sum ovslb_agent_translated_to_server_total)
to_client=$(sum ovslb_agent_translated_to_client_total)
echo "# from the exporter: $accepted connections accepted, $syn SYN packet-ins, $to_server + $to_client segments translated"
check "connections accepted: at least the 200 requests" [ "$accepted" -ge 200 ]
check "SYN packet-ins: at least one per connection" [ "$syn" -ge "$accepted" ]
check "the agents translated segments both ways" \
    eval "[ $to_server -ge 400 ] && [ $to_client -ge 400 ]"
# Agreement with ovslb/stats at the moment of the copy is not exact (the
# daemons kept running): the exporter's count is at most the live one.
live=0
for k in 1 2 3; do
    n=$(ovs-appctl -t "$D/lb$k/ovslb-controller.ctl" ovslb/stats \
            | awk '$1 == "packet-ins:" { gsub(",", "", $3); print $3 }')
    live=$((live + ${n:-0}))
done
check "SYN packet-ins agree with ovslb/stats ($syn of $live)" \
    eval "[ $syn -gt 0 ] && [ $syn -le $live ]"
for k in 1 2 3; do
    for p in 1 2 3; do
        check "lb$k reports LB node $p healthy" \
            grep -q "^ovslb_health_peer_healthy{kind=\"lb\",node=\"$k\",peer=\"$p\",role=\"lb\"} 1$" "$S"
    done
done
check "every agent is ready" \
    eval '[ "$(grep -c "^ovslb_node_ready{.*role=\"server\"} 1$" "$S")" = 3 ]'

check "lab down" lab down
sys_finish
