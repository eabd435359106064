#!/bin/bash
# key-rotation.sh: the cluster key rotated under load (issue 18).  100
# long-lived checked streams through the echo VIP and 20 new HTTP
# connections a second run while 'ovslb-ctl key-stage' and 'key-promote'
# replace the key every node signs and checks its control messages with:
# no stream breaks, no request fails, no message is rejected for its MAC,
# and every node ends with the new key alone.  Root only; run by 'make
# check-system'.
set -u
srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/system/system-lib.sh
. "$srcdir/tests/system/system-lib.sh"

sys_init
D=$OVSLB_LAB_DIR
VIP=203.0.113.10
PY=${PYTHON:-python3}
STREAMS=$srcdir/tests/system/streams.py
STREAMS_PID=
trap '[ -z "$STREAMS_PID" ] || kill -KILL "$STREAMS_PID" 2>/dev/null; sys_cleanup' EXIT

# Every daemon's ovslb/stats, one "NODE: LINE" per line.
all_stats() {
    local k
    for k in 1 2 3; do
        ovs-appctl --timeout=5 -t "$D/lb$k/ovslb-controller.ctl" ovslb/stats \
            2>/dev/null | sed "s/^/lb$k: /"
        ovs-appctl --timeout=5 -t "$D/srv$k/ovslb-agent.ctl" ovslb/stats \
            2>/dev/null | sed "s/^/srv$k: /"
    done
}
# The distinct values of one key slot's fingerprint over every socket of
# every daemon ("none" if a slot is empty).
slot_values() {
    all_stats | sed -nE "s/.* keys:.* $1 (none|[0-9a-f]+).*/\1/p" | sort -u
}
# Sum of one counter over every socket: the Nth field after "messages by key:".
by_key() {
    all_stats | sed -n "s/.*messages by key: current \([0-9]*\) next \([0-9]*\) previous \([0-9]*\);.*/\\$1/p" \
        | awk '{ s += $1 } END { print s + 0 }'
}
mac_rejections() {
    all_stats | sed -n 's/.*rejected (MAC mismatch): \([0-9]*\).*/\1/p' \
        | awk '{ s += $1 } END { print s + 0 }'
}
sockets() {   # how many control sockets report keys
    all_stats | grep -c ' keys:'
}
st() { streams_status "$D/streams.status" "$1"; }
one_next() {   # every socket holds the same staged key, $1
    [ "$(slot_values next)" = "$1" ]
}
one_current() {   # every socket signs with $1, and none holds a next key
    [ "$(slot_values current)" = "$1" ] && [ "$(slot_values next)" = none ]
}
no_previous() {
    [ "$(slot_values previous)" = none ]
}
established() {
    [ "$(st established)" = 100 ]
}

check "lab up (3 LB nodes, 3 server nodes)" lab up
[ "$SYS_FAILED" = 0 ] || sys_error "the lab did not come up"
check "warm-up (demo of 20 requests)" lab demo --requests 20
old=$(slot_values current)
n_socks=$(sockets)
echo "# $n_socks control sockets, all with key $old"
check "every control socket has one current key" \
    eval '[ "$(printf "%s\n" "$old" | wc -l)" = 1 ] && [ "$old" != none ]'

# 1 KiB every 0.2 s a stream: busy streams, at a volume that leaves this
# 2-core machine's CPUs room (the volume is not what this test is about).
ip netns exec ovslb-cli "$PY" "$STREAMS" run --vip "$VIP" --conns 100 \
    --chunk 1024 --interval 0.2 --http-rate 20 --stall 5 --duration 45 --req-log "$D/requests.log" \
    --status "$D/streams.status" --events "$D/streams.events" \
    >"$D/streams.summary" 2>"$D/streams.stderr" &
STREAMS_PID=$!
check "100 streams established" wait_for 30000 established
mac0=$(mac_rejections)
sleep 3     # Traffic on the first key alone, before the stage.

# Stage: every node accepts the new key, none signs with it yet.
new=$(octl --wait=all key-stage)
check "ovslb-ctl key-stage prints the new key" [ -n "$new" ]
check "the config service holds the staged key" \
    eval 'octl get cluster_key_next | grep -qx "$new"'
t=$(wait_for 10000 eval '[ "$(slot_values next)" != none ] && [ "$(slot_values next | wc -l)" = 1 ]')
staged=$(slot_values next)
echo "# staged key $staged on every socket after $t ms"
check "every control socket holds the staged key" [ "$t" != timeout ]
sleep 2     # Traffic while every node holds both keys, before the promotion.

# Promote: nodes switch one by one; messages from the ones already on the
# new key are accepted by the others as their next key, and the others'
# as the previous key.
check "ovslb-ctl --wait=all key-promote" octl --wait=all key-promote
t=$(wait_for 10000 one_current "$staged")
echo "# every socket signs with $staged after $t ms"
check "every control socket signs with the new key, nothing staged" \
    [ "$t" != timeout ]
sleep 3     # Traffic signed with the new key alone, while the streams run.
echo "# messages verified by key over the run: current $(by_key 1), next $(by_key 2), previous $(by_key 3)"

wait "$STREAMS_PID"
rc=$?
STREAMS_PID=
summary=$(tail -n 1 "$D/streams.summary")
echo "# streams.py exit $rc: $summary"
js() { json_num "$summary" "$1"; }
check "0 of 100 long-lived connections broken" [ "$(js broken)" = 0 ]
check "every byte sent was echoed and verified" \
    eval "[ $(js bytes_sent) = $(js bytes_verified) ] && [ $(js bytes_sent) -gt 0 ]"
check "every new HTTP connection succeeded ($(js requests_ok) requests)" \
    eval "[ $(js requests_fail) = 0 ] && [ $(js requests_ok) -gt 500 ]"
check "streams.py exited 0" [ "$rc" = 0 ]
mac1=$(mac_rejections)
echo "# messages rejected for their MAC: $mac0 before the rotation, $mac1 after"
check "no control message rejected for its MAC during the rotation" \
    [ "$mac1" = "$mac0" ]

# The old key is dropped once its grace period is over.
t=$(wait_for 30000 no_previous)
echo "# old key dropped by every socket after $t ms more"
check "the old key is dropped everywhere after its grace period" \
    [ "$t" != timeout ]
check "the old key is not the new one" [ "$old" != "$staged" ]

check "lab down" lab down
sys_finish
