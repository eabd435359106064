#!/bin/bash
# owner-gossip.sh: the server agents' ownership gossip of a `hash` VIP
# (issue 15, PROTOCOL.md §4, PRIOR-ART.md §2 "What to test"), on the 3+3
# lab with web2 (203.0.113.11:80) in mode hash.
#   - Announcement: every connection of srv3 is known to srv1 and srv2
#     (ovslb/owners) within 5 s of its opening.
#   - Per owner, not per connection: the redirect table of a server node
#     holds one flow per peer plus its default, whatever the connections.
#   - Second chance: all three controllers are killed, their stores
#     removed, srv3 (103) is taken out of web2 (its nginx running on), and
#     the controllers restarted: the LB tier, which knows none of the
#     connections, sends srv3's to srv1 and srv2, which re-encapsulate them
#     to srv3 (the switch's counter of the redirect flow), and 30 keep-alive
#     connections go on unbroken, each on its server.
#   - Close: once the client closes them, srv1 and srv2 hold no
#     redirect within 5 s.
#   - Departed owner: an agent that falls silent (killed) for a lease is
#     forgotten by the others, with its redirects and its flow.
# Root only; run by 'make check-system'.
set -u
srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/system/system-lib.sh
. "$srcdir/tests/system/system-lib.sh"

sys_init
D=$OVSLB_LAB_DIR
VIP=203.0.113.11
KA_PID=
trap '[ -z "$KA_PID" ] || kill -KILL "$KA_PID" 2>/dev/null; sys_cleanup' EXIT

owners() {      # owners K: ovslb/owners of srvK
    ovs-appctl --timeout=5 -t "$D/srv$1/ovslb-agent.ctl" ovslb/owners
}
# owned_by K OWNER: the connections srvK redirects to OWNER, sorted.
owned_by() {
    owners "$1" | awk -v o="owner=$2" '$2 == o { print $1 }' | sort
}
# own K: the connections srvK announces, sorted.
own() {
    owners "$1" | awk '/^owned:/ { on = 1; next } /^[a-z]/ { on = 0 }
                       on { print $1 }' | sort
}
# known_to K OWNER: srvK redirects every connection OWNER announces.
known_to() {
    local mine theirs
    mine=$(own "$((${2} - 100))")
    theirs=$(owned_by "$1" "$2")
    [ -n "$mine" ] && [ "$mine" = "$theirs" ]
}
both_know() {   # both_know OWNER: srv1 and srv2 redirect all of OWNER's
    known_to 1 "$1" && known_to 2 "$1"
}
n_assoc() {     # n_assoc K: srvK's redirects
    owners "$1" | awk '/^associations:/ { print $2 }'
}
# redirected K OWNER: packets srvK's switch re-encapsulated to OWNER.
redirected() {
    lab exec "srv$1" ovs-ofctl -O OpenFlow15 dump-flows br-int table=22 \
        | awk -v m="$(printf 'ct_mark=0x6f77%04x' "$2")" '
              index($0, m " ") || index($0, m ",") {
                  for (i = 1; i <= NF; i++)
                      if ($i ~ /^n_packets=/) { sub(/n_packets=/, "", $i);
                                                 sub(/,$/, "", $i); s += $i }
              } END { print s + 0 }'
}
table22_flows() {
    lab exec "srv$1" ovs-ofctl -O OpenFlow15 dump-flows br-int table=22 \
        | grep -c 'table=22'
}
no_redirects() { [ "$(n_assoc 1)" = 0 ] && [ "$(n_assoc 2)" = 0 ]; }
forgotten() {           # forgotten K OWNER: srvK has no peer OWNER
    ! owners "$1" | grep -q "^  server $2:" \
        && [ "$(redirected_flow "$1" "$2")" = 0 ]
}
redirected_flow() {     # redirected_flow K OWNER: srvK's flows for OWNER
    lab exec "srv$1" ovs-ofctl -O OpenFlow15 dump-flows br-int table=22 \
        | grep -c "$(printf 'ct_mark=0x6f77%04x' "$2")"
}

check "lab up (3 LB nodes, 3 server nodes)" lab up
[ "$SYS_FAILED" = 0 ] || sys_error "the lab did not come up"
check "web2 to mode hash" octl --wait=all vip-set web2 mode=hash algorithm=hash
check "every LB node has its table of 3 servers" \
    wait_for 10000 every_lb_shows "^hash VIP web2 $VIP port 80: .* 3 servers"

keepalive_start keepalive "$VIP" 30
check "30 keep-alive connections established" \
    wait_for 30000 grep -q established "$D/keepalive.out"
head -1 "$D/keepalive.out"
on3=$(awk '$1 == "established" { print $5 }' "$D/keepalive.out")
check "some of them on srv3" [ "${on3:-0}" -gt 0 ]

t=$(wait_for 5000 both_know 103)
echo "# srv3's connections known to srv1 and srv2 after $t ms"
check "announcement: srv1 and srv2 know each of srv3's connections within 5 s" \
    [ "$t" != timeout ]
check "one redirect flow per peer and a default on srv1, whatever the connections" \
    [ "$(table22_flows 1)" = 3 ]

# The LB tier loses every connection's state while the server set changes.
echo "# controllers killed, stores removed, srv3 out of web2 at $(date +%s.%N)"
for k in 1 2 3; do
    lab kill-daemon "lb$k" >/dev/null
    rm -f "$D/lb$k/ovslb.db" "$D/lb$k/ovslb.db-wal" "$D/lb$k/ovslb.db-shm"
done
check "srv3 (103) removed from web2 while no controller runs" \
    octl vip-server-del web2 103
for k in 1 2 3; do
    lab start-daemon "lb$k" >/dev/null
done
check "every LB node has its table of 2 servers" \
    wait_for 20000 every_lb_shows "^hash VIP web2 $VIP port 80: .* 2 servers"
r0=$(( $(redirected 1 103) + $(redirected 2 103) ))
sleep 5
r1=$(( $(redirected 1 103) + $(redirected 2 103) ))
echo "# segments re-encapsulated to srv3 by srv1 and srv2 in 5 s: $((r1 - r0))" \
     "($r1 in all); LB nodes: $(lb_stat_sum mappings_installed) mappings," \
     "$(lb_stat_sum hash_unknown_to_slot) unknown flows to their slot"
check "second chance: srv1 and srv2 re-encapsulate srv3's connections to it" \
    [ "$((r1 - r0))" -gt 0 ]
echo "# agents: $(agent_stat_sum owner_redirects:) redirects committed," \
     "$(agent_stat_sum owner_opened_sent:) opened and" \
     "$(agent_stat_sum owner_closed_sent:) closed announcements sent," \
     "$(agent_stat_sum owner_msgs_refused:) refused"

keepalive_stop keepalive
check "the keep-alive connections ran on unbroken, each on its server" \
    [ "$KA_RC" = 0 ]
check "close: srv1 and srv2 hold no redirect within 5 s of the closes" \
    wait_for 5000 no_redirects

# Departed owner: srv2's agent falls silent while srv1 redirects to it.
keepalive_start keepalive "$VIP" 20
check "20 keep-alive connections established" \
    wait_for 30000 grep -q established "$D/keepalive.out"
check "srv1 redirects srv2's connections" wait_for 5000 known_to 1 102
lease=$(octl get Cluster . lease_ms 2>/dev/null | tr -dc 0-9)
lease=${lease:-10000}           # Unset ([]): the default.
lab kill-daemon srv2 >/dev/null
check "a silent srv2 is forgotten by srv1 within a lease and a refresh, with its flow" \
    wait_for $((lease + lease / 3 + 3000)) forgotten 1 102
lab start-daemon srv2 >/dev/null
# (Its connections may break meanwhile: the LB nodes took srv2, whose agent
# no longer answers their checks, out of web2, and srv1 no longer sends
# them back to it.)
keepalive_stop keepalive

check "lab down" lab down
sys_finish
