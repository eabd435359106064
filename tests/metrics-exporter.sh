#!/bin/bash
# metrics-exporter.sh: the real node exporter (Debian's
# prometheus-node-exporter) serves a metrics file that lib/metrics wrote
# (tests/metrics-sample): its textfile collector parses it without error,
# and the values and labels come back over HTTP, after a rewrite too.
# Loopback only, no root; skips (77) without the exporter.
set -u

exporter=$(command -v prometheus-node-exporter || command -v node_exporter)
if [ -z "$exporter" ]; then
    echo "SKIP: prometheus-node-exporter not installed"
    exit 77
fi
for tool in curl python3; do
    if ! command -v $tool >/dev/null; then
        echo "SKIP: $tool not installed"
        exit 77
    fi
done
sample=tests/metrics-sample
if [ ! -x "$sample" ]; then
    echo "FAIL: $sample not built"
    exit 99
fi

passed=0
failed=0
expect() {   # expect DESC CMD...
    local desc=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
        echo "PASS: $desc"
    else
        failed=$((failed + 1))
        echo "FAIL: $desc"
    fi
}

dir=$(mktemp -d /tmp/metrics-exporter.XXXXXX)
exporter_pid=
cleanup() {
    if [ -n "$exporter_pid" ]; then
        kill "$exporter_pid" 2>/dev/null
        wait "$exporter_pid" 2>/dev/null
    fi
    rm -rf "$dir"
}
trap cleanup EXIT

# A free port on loopback (the kernel's choice).
port=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')

"$sample" "$dir/ovslb.prom" 1 || exit 99
# The exporter's own flags, as its version (1.5.0 in Debian 12) has them.
"$exporter" --collector.disable-defaults --collector.textfile \
    --collector.textfile.directory="$dir" \
    --web.disable-exporter-metrics \
    --web.listen-address="127.0.0.1:$port" >"$dir/exporter.log" 2>&1 &
exporter_pid=$!
echo "# $("$exporter" --version 2>&1 | head -1), port $port"

scrape() {   # scrape FILE: the exporter's /metrics into FILE

    for _ in $(seq 100); do
        if curl -sf "http://127.0.0.1:$port/metrics" -o "$1"; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}
has() {      # has FILE LINE: LINE is a line of FILE
    grep -qxF -- "$2" "$1"
}

expect "the exporter answers" scrape "$dir/scrape1"
if [ ! -s "$dir/scrape1" ]; then
    sed 's/^/# /' "$dir/exporter.log"
    echo "$passed passed, $failed failed"
    exit 1
fi
s=$dir/scrape1
expect "no textfile scrape error" has "$s" 'node_textfile_scrape_error 0'
expect "the file's mtime is reported" \
    grep -q "^node_textfile_mtime_seconds{file=\"$dir/ovslb.prom\"} " "$s"
expect "HELP of a family" has "$s" \
    '# HELP ovslb_lb_packet_ins_total Packet-ins handled, by kind (client SYN, other client segment, ARP).'
expect "TYPE counter" has "$s" '# TYPE ovslb_lb_packet_ins_total counter'
expect "TYPE gauge" has "$s" '# TYPE ovslb_agent_load_ratio gauge'
expect "packet-ins per kind" has "$s" \
    'ovslb_lb_packet_ins_total{kind="syn",node="1",role="lb"} 1000'
expect "... arp" has "$s" \
    'ovslb_lb_packet_ins_total{kind="arp",node="1",role="lb"} 3'
expect "connections accepted (connections/s is its rate)" has "$s" \
    'ovslb_lb_connections_accepted_total{node="1",role="lb"} 900'
expect "rejects per reason" has "$s" \
    'ovslb_lb_rejected_by_reason_total{node="1",reason="limit",role="lb"} 7'
expect "per VIP" has "$s" \
    'ovslb_lb_vip_healthy_servers{node="1",role="lb",vip="web"} 2'
expect "an escaped label value survives" has "$s" \
    'ovslb_lb_vip_healthy_servers{node="1",role="lb",vip="odd \"name\"\\with\nnewline"} 1'
expect "control messages per type" has "$s" \
    'ovslb_ctl_messages_sent_total{node="1",role="lb",socket="control",type="SYN_INFO"} 42'
expect "agent translation counters" has "$s" \
    'ovslb_agent_translated_to_server_total{node="1",role="lb"} 1.23456789012e+11'
expect "... to the client" has "$s" \
    'ovslb_agent_translated_to_client_total{node="1",role="lb"} 98765'
expect "health per peer: LB node 2 healthy" has "$s" \
    'ovslb_health_peer_healthy{kind="lb",node="1",peer="2",role="lb"} 1'
expect "health per peer: server 101 healthy" has "$s" \
    'ovslb_health_peer_healthy{kind="server",node="1",peer="101",role="lb"} 1'
expect "health state" has "$s" \
    'ovslb_health_peer_state{kind="server",node="1",peer="101",role="lb",state="healthy"} 1'
expect "health counters with reasons" \
    grep -q '^ovslb_health_rejected_total{node="1",reason=".*",role="lb"} 0$' "$s"

# Rewritten (atomically): the next scrape has the new values.
"$sample" "$dir/ovslb.prom" 2 || exit 99
expect "no temporary file left" [ ! -e "$dir/ovslb.prom.tmp" ]
expect "the exporter answers again" scrape "$dir/scrape2"
s=$dir/scrape2
expect "no textfile scrape error after the rewrite" \
    has "$s" 'node_textfile_scrape_error 0'
expect "new packet-in count" has "$s" \
    'ovslb_lb_packet_ins_total{kind="syn",node="1",role="lb"} 2000'
expect "LB node 2 now unhealthy" has "$s" \
    'ovslb_health_peer_healthy{kind="lb",node="1",peer="2",role="lb"} 0'
expect "... in state unhealthy" has "$s" \
    'ovslb_health_peer_state{kind="lb",node="1",peer="2",role="lb",state="unhealthy"} 1'

# The exporter does find errors in a file: a broken one beside ours.
printf 'ovslb_broken{a="1" 1\n' >"$dir/broken.prom"
expect "the exporter answers with a broken file" scrape "$dir/scrape3"
expect "... and reports the scrape error" \
    has "$dir/scrape3" 'node_textfile_scrape_error 1'

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
