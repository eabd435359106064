#!/bin/bash
# agent-limits.sh: admission on the namespace lab (issue 6).  The agents get
# per-VIP limits of 2, 10 and 18 connections; 30 long-lived connections are
# then all accepted, each server holding exactly its limit, although the
# VIP picks servers at random: a server at its limit rejects and the PFT
# moves on to another.  (Unequal limits make the rejections certain: with
# three limits of 10, 30 random picks fall exactly 10, 10 and 10, with no
# rejection at all, about once in 37 runs.)  With every server full, the
# 31st connection is refused with a RST once the VIP's TTL of retries is
# spent.  Root only; run by 'make check-system'.
set -u
srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/system/system-lib.sh
. "$srcdir/tests/system/system-lib.sh"

sys_init
D=$OVSLB_LAB_DIR
VIP=203.0.113.10

check "lab up (3 LB nodes, 3 server nodes, daemons)" lab up
[ "$SYS_FAILED" = 0 ] || sys_error "the lab did not come up"
check "warm-up: the VIP answers" lab demo --requests 20

limits=(0 2 10 18)   # limits[K]: server node K's
for k in 1 2 3; do
    check "srv$k: per-VIP limit of ${limits[k]} connections" \
        ovs-appctl -t "$D/srv$k/ovslb-agent.ctl" ovslb/set-limits \
            "conn=${limits[k]}"
done

established() {   # established K: connections to port 80 on server node K
    in_node "srv$1" ss -Htn state established '( sport = :80 )' | wc -l
}

pids=()
cleanup_curls() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
}
trap 'cleanup_curls; sys_cleanup' EXIT

# 30 slow downloads: each holds its connection for a minute.
for _ in $(seq 30); do
    in_node cli curl -s -o /dev/null --max-time 60 --limit-rate 4k \
        "http://$VIP/big" &
    pids+=($!)
    sleep 0.1
done
for _ in $(seq 50); do
    total=$(( $(established 1) + $(established 2) + $(established 3) ))
    [ "$total" -ge 30 ] && break
    sleep 0.2
done
for k in 1 2 3; do
    n=$(established "$k")
    echo "# srv$k: $n established connections"
    check "srv$k holds exactly its limit of ${limits[k]}" \
        [ "$n" = "${limits[k]}" ]
done
rejected=$(for k in 1 2 3; do
               ovs-appctl -t "$D/lb$k/ovslb-controller.ctl" ovslb/stats
           done | awk '$1 == "rejected" { s += $2 } END { print s + 0 }')
echo "# rejections seen by the SFTs: $rejected"
check "full servers rejected, and the PFTs chose others" [ "$rejected" -gt 0 ]

rsts0=$(for k in 1 2 3; do
            ovs-appctl -t "$D/lb$k/ovslb-controller.ctl" ovslb/stats
        done | awk '$1 == "rsts_sent" { s += $2 } END { print s + 0 }')
in_node cli curl -s -o /dev/null --max-time 10 "http://$VIP/"
rc=$?
echo "# 31st connection: curl exit $rc"
check "with every server full the 31st connection is reset" \
    bash -c "[ $rc = 7 ] || [ $rc = 56 ]"
rsts1=$(for k in 1 2 3; do
            ovs-appctl -t "$D/lb$k/ovslb-controller.ctl" ovslb/stats
        done | awk '$1 == "rsts_sent" { s += $2 } END { print s + 0 }')
check "the RST came from the LB tier after the retries" [ "$rsts1" -gt "$rsts0" ]

cleanup_curls
check "lab down" lab down
sys_finish
