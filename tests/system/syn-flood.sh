#!/bin/bash
# syn-flood.sh: the LB tier under a flood of spoofed SYNs, then of spoofed
# ACKs with bad cookies, while a legitimate client opens new HTTP
# connections (issue 18).
#
# hping3 --flood --rand-source, in the client namespace, FLOOD_PROCS
# processes (1) for FLOOD_SECONDS: about 30,000 SYNs a second on this
# machine, above the 20,000 that issue 18 asks for; what is reached is
# measured and reported, and nothing asserted depends on it but "more than
# 1,000 a second reach the controllers".  So that SYN cookies start
# whatever rate is reached, the test sets syn_cookie_rate (the tier's SYN
# rate that starts them) to 500, below any flood that deserves the name
# and far above the legitimate client's 10 connections per second; the
# unit tests check the default's arithmetic (tests/check-lbnode.c,
# test_cookie_rate_of_the_tier).  Health checks keep their defaults.
#
# Checked: at least 99 % of 200 legitimate connections succeed; from 2 s
# into the flood the ingresses answer the SYNs with cookies themselves,
# with no message to a flow tracker (0.1 % allowed: see below), and the
# handshakes kept are only those of the flood's first moments (at most
# 1 %); the ingresses keep nothing per SYN; the controllers' memory grows
# by less than 10 MiB; the ACK flood is dropped and counted by the
# ingresses, passes no cookie check, and the legitimate client still gets
# through; with cookies from the first SYN (syn_cookie_rate=1), a second
# SYN flood as long reaches no flow tracker at all while at least 99 % of
# 200 more legitimate connections succeed and the controllers' memory grows
# by less than 10 MiB (issue 18's "done when" in one scenario);
# at the end, a client that reuses its port while the ingresses answer
# every SYN with a cookie gets each answer.  Reported: flood rates sent
# and reaching the controllers, cookies, the controllers' CPU and memory,
# the client's times.  Root only; run by 'make check-system'.
set -u
srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/system/system-lib.sh
. "$srcdir/tests/system/system-lib.sh"

FLOOD_SECONDS=${FLOOD_SECONDS:-20}
FLOOD_PROCS=${FLOOD_PROCS:-1}
FLOOD_INTERVAL_US=${FLOOD_INTERVAL_US:-}
LEGIT=200
command -v hping3 >/dev/null 2>&1 || sys_skip "hping3 not installed (utilities/ovslb-bootstrap)"

sys_init
D=$OVSLB_LAB_DIR
VIP=203.0.113.10
PY=${PYTHON:-python3}
FLOOD_PIDS=
SAMPLER_PID=
stop_background() {
    local p
    for p in $FLOOD_PIDS $SAMPLER_PID; do
        kill -INT "$p" 2>/dev/null
    done
    FLOOD_PIDS=
    SAMPLER_PID=
}
trap 'stop_background; sys_cleanup' EXIT

lbctl() {
    ovs-appctl --timeout=5 -t "$D/lb$1/ovslb-controller.ctl" "$2" 2>/dev/null
}
sum_stat() {   # sum_stat NAME: an LB node counter summed over the nodes
    local k
    for k in 1 2 3; do lbctl "$k" ovslb/stats; done \
        | awk -v n="$1" '$1 == n { s += $2 } END { print s + 0 }'
}
# stats_line: "syns cookies kept handed" summed over the LB nodes: the
# SYNs that reached the ingresses, those answered with a cookie (by the
# ingress or by the flow tracker), those for which a flow tracker kept a
# handshake (SYN_INFOs answered without a cookie, less repeated SYNs of a
# kept handshake and those refused for a full table), and those that the
# ingresses handed to a flow tracker instead of answering with a cookie.
stats_line() {
    local k
    for k in 1 2 3; do lbctl "$k" ovslb/stats; done | awk '
        $1 == "syns" { a += $2 } $1 == "cookies_issued" { b += $2 }
        $1 == "syn_infos" { i += $2 } $1 == "syn_cookies_at_ingress" { g += $2 }
        $1 == "syn_retransmits" { r += $2 } $1 == "table_full" { f += $2 }
        $1 == "syn_late_duplicates" { r += $2 }
        $1 == "msgs_ignored" { m += $2 } $1 == "syns_no_tracker" { t += $2 }
        END { print a + 0, b + 0, i - (b - g) - r - f - m, a - g - t }'
}
# ack_stats: "non_syns dropped cookies_valid cookies_issued acks_no_state"
# summed over the LB nodes, 'dropped' being the segments an ingress
# dropped, and counted, after asking the flow trackers in vain (or
# buffering too long or too much).
ack_stats() {
    local k
    for k in 1 2 3; do lbctl "$k" ovslb/stats; done | awk '
        $1 == "non_syns" { n += $2 } $1 == "cookies_valid" { v += $2 }
        $1 == "unknown_flows" || $1 == "buffer_timeouts" \
            || $1 == "buffer_drops" || $1 == "pending_evicted" { d += $2 }
        $1 == "cookies_issued" { i += $2 } $1 == "acks_no_state" { a += $2 }
        END { print n + 0, d + 0, v + 0, i + 0, a + 0 }'
}
pending_total() {   # the ingresses' pending flows, summed
    local k
    for k in 1 2 3; do lbctl "$k" ovslb/show; done \
        | sed -n 's/^roles: ingress ([0-9]* mappings, \([0-9]*\) pending).*/\1/p' \
        | awk '{ s += $1 } END { print s + 0 }'
}
controller_pids() {
    local k
    for k in 1 2 3; do cat "$D/lb$k/ovslb-controller.pid"; done
}
rss_kb() {   # the controllers' resident memory, in KiB, summed
    local pid total=0
    for pid in $(controller_pids); do
        total=$((total + $(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")))
    done
    echo "$total"
}
cpu_ticks() {   # the controllers' user + system CPU, in clock ticks, summed
    local pid total=0
    for pid in $(controller_pids); do
        total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
    done
    echo "$total"
}
cookie_rate_is() {
    local k
    for k in 1 2 3; do
        lbctl "$k" ovslb/show | grep -q "cookies above $1 SYN/s" || return 1
    done
}
# legit N RATE OUT: N new HTTP connections through the VIP, RATE a second,
# each given 60 s, as a client with the kernel's default retransmissions
# (SYN again after 1, 3, 7, 15 and 31 s; connect() gives up after about
# 127 s) would: a SYN that the saturated switches drop is retried, one for
# which the LB tier kept or answered wrongly fails.  How long they take is
# reported: that depends on the machine.  Writes "ok failed p50_ms p90_ms
# max_ms errors" (the time to connect and get the whole answer; the
# failures by kind) to OUT.
legit() {
    ip netns exec ovslb-cli "$PY" - "$VIP" "$1" "$2" >"$3" 2>&1 <<'EOF'
import socket, sys, time
from concurrent.futures import ThreadPoolExecutor
vip, n, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
def one(i):
    time.sleep(i / rate)
    t0 = time.monotonic()
    try:
        s = socket.create_connection((vip, 80), timeout=60)
        s.settimeout(60)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        if data.startswith(b"HTTP/1.1 200") or data.startswith(b"HTTP/1.0 200"):
            return time.monotonic() - t0
        return "bad-answer(%d-bytes)" % len(data)
    except OSError as e:
        return type(e).__name__
with ThreadPoolExecutor(n) as ex:
    results = list(ex.map(one, range(n)))
times = sorted(t for t in results if isinstance(t, float))
errors = {}
for r in results:
    if not isinstance(r, float):
        errors[r] = errors.get(r, 0) + 1
def pct(p):
    return int(times[min(len(times) - 1, int(len(times) * p))] * 1000) if times else -1
print(len(times), n - len(times), pct(0.5), pct(0.9), pct(1.0),
      ",".join("%s:%d" % kv for kv in sorted(errors.items())) or "-")
EOF
}
# flood KIND SECONDS: FLOOD_PROCS hping3 processes sending spoofed
# segments (KIND: -S or -A) to the VIP as fast as they can (--flood), or,
# with FLOOD_INTERVAL_US set, one every that many microseconds each; their
# outputs in $D/hping.N.  One hping3 --flood sends about 37,000 a second
# on this machine (hping3's paced mode sleeps between packets and reaches
# about 4,000 a process, so no rate between can be asked for exactly).
flood() {
    local i pace=--flood
    if [ -n "$FLOOD_INTERVAL_US" ]; then
        pace="-i u$FLOOD_INTERVAL_US"
    fi
    FLOOD_PIDS=
    for i in $(seq 1 "$FLOOD_PROCS"); do
        # shellcheck disable=SC2086
        ip netns exec ovslb-cli timeout -s INT "$2" hping3 "$1" --rand-source \
            -p 80 $pace -q "$VIP" >"$D/hping.$i" 2>&1 &
        FLOOD_PIDS="$FLOOD_PIDS $!"
    done
}
flood_sent() {   # packets hping3 says it sent, summed
    cat "$D"/hping.* 2>/dev/null \
        | sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' \
        | awk '{ s += $1 } END { print s + 0 }'
}
# sampler OUT: every 0.5 s, "ms syns cookies kept handed
# pending rss_kb" to OUT.
sampler() {
    local t0 t
    t0=$(date +%s%N)
    while :; do
        t=$(( ($(date +%s%N) - t0) / 1000000 ))
        echo "$t $(stats_line) $(pending_total) $(rss_kb)" >>"$1"
        sleep 0.5
    done
}

echo "# lab up"
lab up >"$SYS_OUT" 2>&1 || { cat "$SYS_OUT"; sys_error "lab up failed"; }
check "the lab answers through the VIP" \
    ip netns exec ovslb-cli curl -sf --max-time 5 -o /dev/null "http://$VIP/"
# Health checks at their defaults (a node suspect after 300 ms without an
# answer and unhealthy 300 ms later, a server after 1.5 s): the probes
# share the flooded datapath.  Late answers count, and a checker's own
# stalls are not held against the others (lib/health.h); with them, a
# flood of about 30,000 SYNs a second on the lab logged no health change
# (before them, 250 health log lines in 20 s at 10,000 a second, and the
# test had to set 2 s thresholds).
octl --wait=all set syn_cookie_rate=500 >"$SYS_OUT" 2>&1 \
    || { cat "$SYS_OUT"; sys_error "ovslb-ctl set failed"; }
check "every LB node applies syn_cookie_rate=500" cookie_rate_is 500

# --- The SYN flood ---
rss0=$(rss_kb)
cpu0=$(cpu_ticks)
read -r s0 c0 k0 _ < <(stats_line)
ing0=$(sum_stat syn_cookies_at_ingress)
sampler "$D/samples" &
SAMPLER_PID=$!
t0=$(date +%s%N)
flood -S "$((FLOOD_SECONDS + 2))"
sleep 1
legit "$LEGIT" 10 "$D/legit.out" &
legit_pid=$!
wait "$legit_pid"
wait $FLOOD_PIDS
FLOOD_PIDS=
flood_ms=$(ms_since "$t0")
kill "$SAMPLER_PID" 2>/dev/null
wait "$SAMPLER_PID" 2>/dev/null
SAMPLER_PID=
read -r s1 c1 k1 _ < <(stats_line)
ing1=$(sum_stat syn_cookies_at_ingress)
cpu1=$(cpu_ticks)
rss_max=$(awk -v m="$rss0" '$7 > m { m = $7 } END { print m }' "$D/samples")
sent=$(flood_sent)
read -r ok failed p50 p90 pmax errors <"$D/legit.out" \
    || { ok=0; failed=$LEGIT; p50=-1; p90=-1; pmax=-1; errors=?; }
syns=$((s1 - s0))
cookies=$((c1 - c0))
kept=$((k1 - k0))
# The samples from 2 s into the flood to its end: the SYNs that an ingress
# handed to a flow tracker then.  (A tracker may still keep handshakes for
# SYNs handed over at the flood's start, whose messages the saturated
# switches deliver seconds late.)
handed_steady=$(awk -v from=2000 -v to=$((flood_ms - 1000)) '
    $1 >= from && $1 <= to {
        if (!started) { h = $5; started = 1 }
        lh = $5
    }
    END { print lh - h }' "$D/samples")
health_changes=$(cat "$D"/lb*/ovslb-controller.log | grep -c 'health changed')
pending_max=$(awk 'BEGIN { m = 0 } $6 > m { m = $6 } END { print m }' "$D/samples")
hz=$(getconf CLK_TCK)
echo "# SYN flood: $sent SYNs sent in ${flood_ms} ms ($((sent * 1000 / flood_ms))/s) by $FLOOD_PROCS hping3; $syns reached the controllers ($((syns * 1000 / flood_ms))/s), $cookies answered with cookies ($((ing1 - ing0)) by their ingress), $kept kept handshakes (for SYNs of the flood's first moments); from 2 s on, $handed_steady SYNs handed to a flow tracker"
echo "# legitimate client: $ok of $LEGIT connections succeeded; time to the whole answer p50 $p50 ms, p90 $p90 ms, max $pmax ms; failures: $errors"
echo "# controllers: memory $((rss0 / 1024)) MiB before, at most $((rss_max / 1024)) MiB during; CPU $(( (cpu1 - cpu0) * 1000 / hz )) ms over the three in ${flood_ms} ms; pending flows at most $pending_max"

check "the flood reached the controllers (more than 1,000 SYNs a second)" \
    test "$((syns * 1000 / flood_ms))" -gt 1000
check "at least 99 % of $LEGIT legitimate connections succeed under the SYN flood ($ok)" \
    test "$ok" -ge $((LEGIT * 99 / 100))
# The flood delays the LB nodes' health checks, which share its datapath: a
# node found unhealthy is withdrawn from the edge router's routes and sees
# no SYN for a while.  Cookies go on for 10 s after a node last saw the
# flood, so that it does not hand its trackers SYNs on its return; only an
# absence longer than that could (0.1 % allowed, for a machine so loaded).
check "from 2 s into the flood, a cookie answers every SYN ($handed_steady of $syns handed to a flow tracker, $health_changes health changes)" \
    test "$handed_steady" -le $((syns / 1000))
check "the handshakes kept are those of the flood's first moments (at most 1 % of $syns: $kept)" \
    test "$kept" -le $((syns / 100))
check "cookies answer the flood (at least 90 % of $syns SYNs: $cookies)" \
    test "$cookies" -ge $((syns * 9 / 10))
check "the ingresses keep nothing per SYN (pending flows at most $pending_max)" \
    test "$pending_max" -le 20
check "the controllers' memory grows by less than 10 MiB ($(( (rss_max - rss0) / 1024 )) MiB)" \
    test $((rss_max - rss0)) -lt $((10 * 1024))

# --- The ACK flood: spoofed ACKs, none of which carries a valid cookie ---
sleep 2
read -r n0 d0 v0 i0 a0 < <(ack_stats)
rm -f "$D"/hping.*
flood -A 12
sleep 1
legit 50 10 "$D/legit-ack.out"
wait $FLOOD_PIDS
FLOOD_PIDS=
sleep 4     # Past the ingresses' buffer timeout (3 s): every ACK counted.
read -r n1 d1 v1 i1 a1 < <(ack_stats)
read -r ok2 failed2 _ _ _ errors2 <"$D/legit-ack.out" \
    || { ok2=0; failed2=50; errors2=?; }
echo "# ACK flood: $(flood_sent) ACKs sent; $((n1 - n0)) segments reached the ingresses' controllers, $((d1 - d0)) dropped and counted by the ingresses (the flow trackers found $((a1 - a0)) ACKs matching no handshake and no cookie), $((v1 - v0)) valid cookies of $((i1 - i0)) issued; legitimate client: $ok2 of 50 (failures: $errors2)"
# Each of the client's 50 connections sends its controller a few segments
# (its first ACK, its request) that are not dropped.
check "the spoofed ACKs are dropped and counted ($((d1 - d0)) of $((n1 - n0)))" \
    test $((d1 - d0)) -ge $(( (n1 - n0 - 4 * 50) * 99 / 100 ))
# (A cookie of the SYN flood's may still come back from the client.)
check "no spoofed ACK passes for a cookie (valid cookies $((v1 - v0)), at most the client's 50)" \
    test $((v1 - v0)) -le 50
check "at least 49 of 50 legitimate connections succeed under the ACK flood ($ok2)" \
    test "$ok2" -ge 49

# --- Cookies from the first SYN: no tracker entry for any spoofed SYN ---
# (Last but one: syn_cookie_rate=1 holds cookies on for SYN_FLOOD_HOLD_MS,
# which would hide the first flood's first moments from the counts above.)
# A rate trigger cannot tell the first SYNs of a flood from a client's:
# the flood above left handshakes for its first tenth of a second.  An
# operator under attack, or one who wants no SYN state at all, sets
# syn_cookie_rate=1 (any rate is a flood: cookies from the first SYN, as
# Linux's tcp_syncookies=2); every SYN is then answered by its ingress and
# no SYN reaches a flow tracker.
octl --wait=all set syn_cookie_rate=1 >"$SYS_OUT" 2>&1 \
    || { cat "$SYS_OUT"; sys_error "ovslb-ctl set failed"; }
check "every LB node applies syn_cookie_rate=1" cookie_rate_is 1
sleep 2
rm -f "$D"/hping.*
read -r s0 c0 _ h0 < <(stats_line)
si0=$(sum_stat syn_infos)
rss0=$(rss_kb)
sampler "$D/samples-always" &
SAMPLER_PID=$!
flood -S "$((FLOOD_SECONDS + 2))"
sleep 1
legit "$LEGIT" 10 "$D/legit-always.out"
wait $FLOOD_PIDS
FLOOD_PIDS=
kill "$SAMPLER_PID" 2>/dev/null
wait "$SAMPLER_PID" 2>/dev/null
SAMPLER_PID=
read -r s1 c1 _ h1 < <(stats_line)
si1=$(sum_stat syn_infos)
rss_max=$(awk -v m="$rss0" '$7 > m { m = $7 } END { print m }' "$D/samples-always")
read -r ok3 _ p50 p90 pmax errors3 <"$D/legit-always.out" \
    || { ok3=0; p50=-1; p90=-1; pmax=-1; errors3=?; }
echo "# SYN flood with cookies from the first SYN: $(flood_sent) SYNs sent; $((s1 - s0)) reached the controllers, $((c1 - c0)) answered with cookies, $((si1 - si0)) reached a flow tracker; legitimate client: $ok3 of $LEGIT (p50 $p50 ms, p90 $p90 ms, max $pmax ms; failures: $errors3); controllers' memory $((rss0 / 1024)) MiB before, at most $((rss_max / 1024)) MiB during"
check "with cookies from the first SYN, no SYN reaches a flow tracker (SYN_INFOs $((si1 - si0)), handed $((h1 - h0)))" \
    test $((si1 - si0)) -eq 0 -a $((h1 - h0)) -eq 0
check "with cookies from the first SYN, every SYN is answered by a cookie ($((c1 - c0)) of $((s1 - s0)))" \
    test $((c1 - c0)) -ge $((s1 - s0))
check "at least 99 % of $LEGIT legitimate connections succeed under it ($ok3)" \
    test "$ok3" -ge $((LEGIT * 99 / 100))
check "the controllers' memory grows by less than 10 MiB under it ($(( (rss_max - rss0) / 1024 )) MiB)" \
    test $((rss_max - rss0)) -lt $((10 * 1024))

# --- A client reusing its port while the ingresses answer with cookies ---
# With every SYN answered by its ingress (syn_cookie_rate=1, still set), no
# SYN reaches the flow tracker that still holds the client's previous
# connection on that port (its lease runs on after the close).
# The new connection's ACK must start a new connection: before the fix it
# got the old one's mapping, its request reached the old server's
# TIME_WAIT socket, and the client waited out the lease.  "Connection:
# close" makes the server close first, so the client's port is free at
# once, as under wrk or any busy client.
reused0=$(sum_stat cookies_cp_reused)
reuse_ok=0
for port in 45001 45002 45003 45004 45005; do
    for round in 1 2; do
        if ip netns exec ovslb-cli curl -sf -o /dev/null --max-time 10 \
            --local-port "$port" -H "Connection: close" "http://$VIP/"; then
            reuse_ok=$((reuse_ok + 1))
        else
            echo "#   client port $port, connection $round: no answer within 10 s"
        fi
    done
done
reused=$(( $(sum_stat cookies_cp_reused) - reused0 ))
echo "# port reuse with cookies at the ingress: $reuse_ok of 10 answered, $reused old entries retired (cookies_cp_reused)"
check "port reuse with cookies: 10 of 10 connections answered" test "$reuse_ok" -eq 10
check "port reuse with cookies: the trackers retired old entries (cookies_cp_reused > 0)" test "$reused" -gt 0

sys_finish
