#!/bin/bash
# hash-mode.sh: a `hash` VIP (issue 15, PROTOCOL.md §4) on the 3+3 lab.
# The lab's web2 VIP (203.0.113.11:80, nginx on every server node) turned
# to mode hash (20 keep-alive connections of mode tracked going on
# unbroken): 1000 HTTP requests over new connections all succeed,
# spread over the three servers, with no packet-in at any controller (the
# switches map every segment by the VIP's Maglev table) and nothing
# through the agents.  Then 100 keep-alive connections go on unbroken,
# each on its server, while srv3 leaves the VIP (its nginx running on) and
# comes back; new connections follow the new server set; and when the VIP
# goes back to mode tracked.  Root only; run by 'make check-system'.
set -u
srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/system/system-lib.sh
. "$srcdir/tests/system/system-lib.sh"

sys_init
D=$OVSLB_LAB_DIR
VIP=203.0.113.11
KA_PID=
trap '[ -z "$KA_PID" ] || kill -KILL "$KA_PID" 2>/dev/null; sys_cleanup' EXIT

lb_stat() { lb_stat_sum "$1"; }
agent_stat() { agent_stat_sum "$1:"; }
# requests N: N requests over new connections; prints the number answered
# and how many of them each server node (srv1 to srv3) answered.
requests() {
    local tmp i
    tmp=$(mktemp -d)
    for ((i = 0; i < $1; i++)); do
        printf 'url = "http://%s/"\noutput = "/dev/null"\n' "$VIP"
    done >"$tmp/urls"
    ip netns exec ovslb-cli curl -s -Z --parallel-max 4 -K "$tmp/urls" \
        -H 'Connection: close' --connect-timeout 3 --max-time 10 \
        -w '%{http_code} %header{x-ovslb-server}\n' >"$tmp/out" || true
    awk '$1 == 200 { ok++; n[$2]++ }
         END { printf "%d %d %d %d\n", ok, n["srv1"], n["srv2"], n["srv3"] }' \
        "$tmp/out"
    rm -rf "$tmp"
}

check "lab up (3 LB nodes, 3 server nodes)" lab up
[ "$SYS_FAILED" = 0 ] || sys_error "the lab did not come up"
check "warm-up (demo of 20 requests)" lab demo --requests 20

# 20 keep-alive connections of tracked mode go on while web2 turns to mode
# hash: the LB nodes pin them, their agents go on translating them.
keepalive_start tracked "$VIP" 20
check "20 keep-alive connections established in mode tracked" \
    wait_for 30000 grep -q established "$D/tracked.out"
check "web2 to mode hash" octl --wait=all vip-set web2 mode=hash algorithm=hash
check "every LB node has its table of 3 servers" \
    wait_for 10000 every_lb_shows "^hash VIP web2 $VIP port 80: .* 3 servers"
ovs-appctl -t "$D/lb1/ovslb-controller.ctl" ovslb/show | grep "^hash VIP"
sleep 3
keepalive_stop tracked
check "the tracked connections ran on unbroken across the change of mode" \
    [ "$KA_RC" = 0 ]
no_translation() {
    [ "$(agent_stat entries)" = 0 ] \
        && every_lb_shows "^hash VIP web2 .* 0 pinned, window closed"
}
check "their translations and pins go once they closed" \
    wait_for 40000 no_translation

# Warm-up of the new path, not counted.
requests 20 >/dev/null
p0=$(lb_packet_ins) x0=$(agent_stat passed_to_server)
read -r ok n1 n2 n3 <<<"$(requests 1000)"
p1=$(lb_packet_ins) x1=$(agent_stat passed_to_server)
echo "# 1000 requests: $ok answered; srv1: $n1, srv2: $n2, srv3: $n3;" \
     "packet-ins $((p1 - p0)); agent pass-throughs $((x1 - x0))"
check "all 1000 requests answered" [ "$ok" = 1000 ]
check "spread over the three servers (at least 200 each)" \
    bash -c "[ $n1 -ge 200 ] && [ $n2 -ge 200 ] && [ $n3 -ge 200 ]"
check "no packet-in at the controllers for them" [ "$((p1 - p0))" = 0 ]
check "none through the agents" [ "$((x1 - x0))" = 0 ]
echo "# LB nodes: $(lb_stat publish_hash_in_place) published connections" \
     "on their slot's server, $(lb_stat entries_restored) tracker entries" \
     "made from publications"

# 100 keep-alive connections, a request every 200 ms each, while server
# srv3 (node 103) leaves the VIP (its nginx runs on) and comes back.
keepalive_start keepalive "$VIP" 100
check "100 keep-alive connections established" \
    wait_for 30000 grep -q established "$D/keepalive.out"
head -1 "$D/keepalive.out"
sleep 3         # A publication or two: none is kept (in place).

echo "# srv3 leaves web2 at $(date +%s.%N)"
check "srv3 (103) removed from web2, its nginx running on" \
    octl --wait=all vip-server-del web2 103
read -r ok n1 n2 n3 <<<"$(requests 200)"
echo "# 200 new connections after the removal: $ok answered; srv1: $n1," \
     "srv2: $n2, srv3: $n3"
check "all answered, none on srv3" bash -c "[ $ok = 200 ] && [ $n3 = 0 ]"
sleep 5
echo "# srv3 back in web2 at $(date +%s.%N)"
check "srv3 (103) back in web2" octl --wait=all vip-server-add web2 103
read -r ok n1 n2 n3 <<<"$(requests 200)"
echo "# 200 new connections after it came back: $ok answered; srv1: $n1," \
     "srv2: $n2, srv3: $n3"
check "all answered, srv3 among them" bash -c "[ $ok = 200 ] && [ $n3 -gt 0 ]"
# The keep-alive connections go on while the window closes and the 21,856
# pins of the change go (a removal that once blocked the LB nodes' switches
# for half a minute).
check "every LB node closes its window and removes its pins within 30 s" \
    wait_for 30000 every_lb_shows "^hash VIP web2 .* 0 pinned, window closed"
sleep 3
ovs-appctl -t "$D/lb1/ovslb-controller.ctl" ovslb/show | grep "^hash VIP"

# The VIP goes back to mode tracked under its live connections: they go
# on, untranslated, and new connections are tracked.
u0=$(agent_stat passed_untranslated)
check "web2 back to mode tracked" octl --wait=all vip-set web2 mode=tracked algorithm=random
read -r ok n1 n2 n3 <<<"$(requests 100)"
echo "# 100 new connections in mode tracked: $ok answered"
check "all answered" [ "$ok" = 100 ]
sleep 3
u1=$(agent_stat passed_untranslated)
echo "# segments of the hash-mode connections passed untranslated by the" \
     "agents: $((u1 - u0))"
check "the agents pass the hash-mode connections' segments untranslated" \
    [ "$((u1 - u0))" -gt 0 ]
keepalive_stop keepalive
echo "# LB nodes: $(lb_stat queries) queries, $(lb_stat mappings_installed)" \
     "mappings, $(lb_stat hash_unknown_to_slot) unknown flows to their" \
     "slot, $(lb_stat hash_mappings_revalidated) revalidated," \
     "$(lb_stat publish_hash_in_place) published in place"
errors=$(lb_stat n_errors:)
echo "# OpenFlow errors at the LB nodes' controllers: $errors"
check "the switches took every flow (no OpenFlow error)" [ "$errors" = 0 ]
check "the keep-alive connections ran on unbroken, each on its server" \
    [ "$KA_RC" = 0 ]
on3=$(tail -1 "$D/keepalive.out" | awk '$1 == "requests" { print $6 }')
# (That each kept its server is the check above: the client fails a
# connection whose answers come from another server.)
check "some of them were on srv3: the change moved live connections" \
    [ "${on3:-0}" -gt 0 ]

check "lab down" lab down
sys_finish
