#!/bin/bash
# service-health.sh: per-VIP-port service health (issue 16).  The web VIP
# gets an HTTP health check; nginx on server 101 is stopped (kill -STOP:
# the process exists, the port listens, nothing answers).  Every LB node
# must see that service down within 2 s of the stop, no new web request may
# reach server 101 (and none may fail), while server 101 keeps serving the
# echo VIP, whose service still answers; after kill -CONT server 101 is
# back in the web VIP.  The same for the web2 VIP in mode hash: server 101
# leaves its Maglev table at every LB node while its nginx is stopped,
# and comes back.  Root only; run by 'make check-system'.
set -u
srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/system/system-lib.sh
. "$srcdir/tests/system/system-lib.sh"

sys_init
D=$OVSLB_LAB_DIR
VIP=203.0.113.10
PY=${PYTHON:-python3}
NGINX_STOPPED=
trap '[ -z "$NGINX_STOPPED" ] || nginx_signal CONT; sys_cleanup' EXIT

# nginx_signal SIG: SIG to server 101's nginx, master and workers.
nginx_signal() {
    local master
    master=$(cat "$D/srv1/nginx.pid")
    pkill "-$1" -P "$master"
    kill "-$1" "$master"
}
# web N [ADDR]: N requests to the web VIP (or to ADDR), each on a new
# connection; prints one line per request: the node that answered, or
# "fail".
web() {
    local i
    for i in $(seq "$1"); do
        in_node cli curl -s -m 3 "http://${2:-$VIP}/" || echo fail
    done
}
WEB2=203.0.113.11
# down_everywhere / up_everywhere: whether every LB node holds server
# 101's web service down (up).
lb_sees_down() {
    ovs-appctl --timeout=5 -t "$D/lb$1/ovslb-controller.ctl" ovslb/flows \
        | grep -q "^  $VIP:80/tcp server 101: SERVICE DOWN"
}
down_everywhere() {
    lb_sees_down 1 && lb_sees_down 2 && lb_sees_down 3
}
up_everywhere() {
    ! lb_sees_down 1 && ! lb_sees_down 2 && ! lb_sees_down 3
}
accepted() {
    ovs-appctl --timeout=5 -t "$D/srv$1/ovslb-agent.ctl" ovslb/stats \
        | awk '$1 == "accepted:" { print $2; exit }'
}

check "lab up (3 LB nodes, 3 server nodes)" lab up
[ "$SYS_FAILED" = 0 ] || sys_error "the lab did not come up"
check "warm-up (demo of 20 requests)" lab demo --requests 20
check "web VIP: an HTTP health check" \
    octl --wait=all vip-set web health_check:type=http
check "web2 VIP: mode hash, an HTTP health check" \
    octl --wait=all vip-set web2 mode=hash algorithm=hash health_check:type=http
check "every LB node has web2's table of 3 servers" \
    wait_for 10000 every_lb_shows "^hash VIP web2 $WEB2 port 80: .* 3 servers"
check_out "the agent shows the check" \
    "$VIP:80/tcp http GET / -> 200: up" \
    ovs-appctl -t "$D/srv1/ovslb-agent.ctl" ovslb/show
check_out "server 101 serves the web VIP" "^srv1$" web 30

t0=$(date +%s%N)
nginx_signal STOP
NGINX_STOPPED=1
t=$(wait_for 10000 down_everywhere)
echo "# every LB node held server 101's web service down after $t ms"
check_timing "every LB node holds it down within 2 s" within 2000 "$t"
check "the agent counts it down" bash -c \
    "ovs-appctl -t '$D/srv1/ovslb-agent.ctl' ovslb/stats \
     | grep -q 'service checks: .* [1-9][0-9]* downs'"
out=$(web 60)
served=$(printf '%s\n' "$out" | grep -c '^srv1$')
failed=$(printf '%s\n' "$out" | grep -c '^fail$')
echo "# 60 web requests while stopped: $served on server 101, $failed failed"
check "no web request reaches the stopped nginx, none fails" \
    bash -c "[ $served = 0 ] && [ $failed = 0 ]"
e1=$(accepted 1)
ok=$(echo_conns 60)
e1=$(( $(accepted 1) - e1 ))
echo "# echo VIP meanwhile: $ok of 60 echoed, $e1 on server 101"
check "server 101 keeps serving the echo VIP" \
    bash -c "[ $ok = 60 ] && [ $e1 -ge 5 ]"
check "every LB node takes server 101 out of web2's table" \
    wait_for 10000 every_lb_shows "^hash VIP web2 $WEB2 port 80: .* 2 servers"
out=$(web 60 "$WEB2")
served=$(printf '%s\n' "$out" | grep -c '^srv1$')
failed=$(printf '%s\n' "$out" | grep -c '^fail$')
echo "# 60 web2 (hash) requests while stopped: $served on server 101," \
     "$failed failed"
check "no web2 request reaches the stopped nginx, none fails" \
    bash -c "[ $served = 0 ] && [ $failed = 0 ]"

nginx_signal CONT
NGINX_STOPPED=
t=$(wait_for 10000 up_everywhere)
echo "# every LB node held it up again after $t ms"
check_timing "back within 3 s of kill -CONT" within 3000 "$t"
check_out "server 101 serves the web VIP again" "^srv1$" web 30
check "every LB node puts server 101 back in web2's table" \
    wait_for 10000 every_lb_shows "^hash VIP web2 $WEB2 port 80: .* 3 servers"
check_out "server 101 serves the web2 VIP again" "^srv1$" web 30 "$WEB2"

check "lab down" lab down
sys_finish
