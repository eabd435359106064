#!/bin/sh
# cluster-config-live.sh: a running cluster-config client (the module the
# daemons follow the configuration with) sees ovslb-ctl's changes without a
# restart, and reconnects by itself when ovsdb-server restarts; a SYN
# meter and cookie rate that break cluster_settings_check(), written around
# ovslb-ctl, fall back to their defaults; a staged cluster key follows
# key-stage and key-promote, and one equal to the current key, written
# around ovslb-ctl, is ignored; so is a VIP of a protocol or an address
# family not implemented yet (UDP, IPv6), or with a health check that does not
# parse, written around
# ovslb-ctl, while ovslb-ctl's health checks reach the snapshot; so do the
# LB and server nodes' zones and the nearest algorithm.  Then
# node-settings reads a node's settings from a local Open_vSwitch table that
# ovs-vsctl set.

. "${srcdir:-$(dirname "$0")/..}/tests/config-lib.sh"
cfg_init
cfg_start_db ovslb
DB=unix:$TMP/ovslb.sock
TEST=$PWD/tests/test-cluster-config

cat > "$TMP/restart.sh" <<EOS
#!/bin/sh
# Stops ovsdb-server and starts it again on the same database file.
pid=\$(cat "$TMP/ovslb.pid")
kill \$pid
while kill -0 \$pid 2>/dev/null; do sleep 0.05; done
sleep 0.3
exec ovsdb-server --detach --no-chdir --pidfile="$TMP/ovslb.pid" \
    --log-file="$TMP/ovslb.log" --remote="punix:$TMP/ovslb.sock" \
    --unixctl="$TMP/ovslb.ctl" "$TMP/ovslb.db" 2>>"$TMP/ovslb.stderr"
EOS
chmod +x "$TMP/restart.sh"

"$TEST" "$DB" "$CTL --db=$DB" > "$TMP/live.out" 2>&1 \
    "has:setting ring_vnodes=64" \
    "ctl:init" \
    "ctl:set name=lab ring_vnodes=32 ping_interval_ms=50" \
    "has:setting ring_vnodes=32" \
    "has:setting ping_interval_ms=50" \
    "ctl:lb-node-add 1 172.16.0.11 10.0.0.11" \
    "ctl:lb-node-add 2 172.16.0.12 10.0.0.12 10.1.0.12" \
    "ctl:server-add 101 10.0.0.101 --zone=a --netns=ns2,ns1" \
    "ctl:server-add 102 10.0.0.102" \
    "has:lb-node 1 north=172.16.0.11 south=10.0.0.11 control=10.0.0.11 zone= up" \
    "has:lb-node 2 north=172.16.0.12 south=10.0.0.12 control=10.1.0.12 zone= up" \
    "has:server-node 101 underlay=10.0.0.101 control=10.0.0.101 zone=a netns=ns1,ns2 up" \
    "ctl:vip-add web 192.0.2.10 443,80" \
    "has:vip web 192.0.2.10 ports=80,443 tcp mode=tracked algorithm=random mss=1402 wscale=7 ttl=3 up servers=" \
    "ctl:vip-server-add web 101" \
    "ctl:vip-server-add web 102 5" \
    "has:vip web 192.0.2.10 ports=80,443 tcp mode=tracked algorithm=random mss=1402 wscale=7 ttl=3 up servers=101:1,102:5" \
    "ctl:--may-exist vip-server-add web 101 9" \
    "has:vip web 192.0.2.10 ports=80,443 tcp mode=tracked algorithm=random mss=1402 wscale=7 ttl=3 up servers=101:9,102:5" \
    "ctl:vip-set web algorithm=source mss=1300 wscale=2 ttl=4 admin_state=down" \
    "has:vip web 192.0.2.10 ports=80,443 tcp mode=tracked algorithm=source mss=1300 wscale=2 ttl=4 down servers=101:9,102:5" \
    "ctl:set fabric_mtu=9000 vip_ttl=6" \
    "ctl:vip-add dns 192.0.2.53 53" \
    "has:vip dns 192.0.2.53 ports=53 tcp mode=tracked algorithm=random mss=8902 wscale=7 ttl=6 up servers=" \
    "ctl:server-del 102" \
    "lacks:server-node 102" \
    "has:vip web 192.0.2.10 ports=80,443 tcp mode=tracked algorithm=source mss=1300 wscale=2 ttl=4 down servers=101:9" \
    "ctl:lb-node-del 2" \
    "lacks:lb-node 2" \
    "has:lb-node 1 north=172.16.0.11 south=10.0.0.11 control=10.0.0.11 zone= up" \
    "restart:$TMP/restart.sh" \
    "ctl:vip-del dns" \
    "lacks:vip dns" \
    "ctl:lb-node-set 1 admin_state=down" \
    "has:lb-node 1 north=172.16.0.11 south=10.0.0.11 control=10.0.0.11 zone= down" \
    "restart:$TMP/restart.sh" \
    "ctl:set cluster_key=0123456789abcdef-after-restart" \
    "has:cluster name=lab key=0123456789abcdef-after-restart next=" \
    "ctl:key-stage 0123456789abcdef-the-next-one" \
    "has:cluster name=lab key=0123456789abcdef-after-restart next=0123456789abcdef-the-next-one" \
    "ctl:key-promote" \
    "has:cluster name=lab key=0123456789abcdef-the-next-one next=" \
    "has:rejected 0" \
    "sh:ovsdb-client transact $DB '[\"OVSLB\",{\"op\":\"update\",\"table\":\"Cluster\",\"where\":[],\"row\":{\"cluster_key_next\":\"0123456789abcdef-the-next-one\"}}]' >/dev/null" \
    "has:rejected 1" \
    "has:cluster name=lab key=0123456789abcdef-the-next-one next=" \
    "sh:ovsdb-client transact $DB '[\"OVSLB\",{\"op\":\"update\",\"table\":\"Cluster\",\"where\":[],\"row\":{\"cluster_key_next\":[\"set\",[]]}}]' >/dev/null" \
    "has:rejected 0" \
    "has:setting syn_meter_rate=50000" \
    "ctl:set syn_meter_rate=80000 syn_cookie_rate=30000 other_meter_rate=90000" \
    "has:setting syn_meter_rate=80000" \
    "has:setting syn_cookie_rate=30000" \
    "has:setting other_meter_rate=90000" \
    "has:rejected 0" \
    "sh:ovsdb-client transact $DB '[\"OVSLB\",{\"op\":\"update\",\"table\":\"Cluster\",\"where\":[],\"row\":{\"syn_cookie_rate\":90000}}]' >/dev/null" \
    "has:setting syn_cookie_rate=10000" \
    "has:setting syn_meter_rate=50000" \
    "has:setting other_meter_rate=90000" \
    "has:rejected 1" \
    "sh:ovsdb-client transact $DB '[\"OVSLB\",{\"op\":\"update\",\"table\":\"VIP\",\"where\":[[\"name\",\"==\",\"web\"]],\"row\":{\"protocol\":\"udp\"}}]' >/dev/null" \
    "lacks:vip web " \
    "has:rejected 2" \
    "sh:ovsdb-client transact $DB '[\"OVSLB\",{\"op\":\"update\",\"table\":\"VIP\",\"where\":[[\"name\",\"==\",\"web\"]],\"row\":{\"protocol\":\"tcp\"}}]' >/dev/null" \
    "has:vip web 192.0.2.10 ports=80,443 tcp mode=tracked algorithm=source mss=1300 wscale=2 ttl=4 down servers=101:9" \
    "has:rejected 1" \
    "sh:ovsdb-client transact $DB '[\"OVSLB\",{\"op\":\"update\",\"table\":\"VIP\",\"where\":[[\"name\",\"==\",\"web\"]],\"row\":{\"address\":\"2001:db8::10\"}}]' >/dev/null" \
    "lacks:vip web " \
    "has:rejected 2" \
    "sh:ovsdb-client transact $DB '[\"OVSLB\",{\"op\":\"update\",\"table\":\"VIP\",\"where\":[[\"name\",\"==\",\"web\"]],\"row\":{\"address\":\"192.0.2.10\"}}]' >/dev/null" \
    "has:vip web 192.0.2.10 ports=80,443 tcp mode=tracked algorithm=source mss=1300 wscale=2 ttl=4 down servers=101:9" \
    "has:rejected 1" \
    "has:vip-health web tcp path=/ status=200 interval_ms=500 timeout_ms=500 rise=2 fall=2" \
    "ctl:vip-set web health_check:type=http health_check:path=/healthz health_check:status=204 health_check:interval_ms=1000 health_check:timeout_ms=300 health_check:rise=3 health_check:fall=4" \
    "has:vip-health web http path=/healthz status=204 interval_ms=1000 timeout_ms=300 rise=3 fall=4" \
    "ctl:vip-set web health_check:path=" \
    "has:vip-health web http path=/ status=204 interval_ms=1000 timeout_ms=300 rise=3 fall=4" \
    "sh:ovsdb-client transact $DB '[\"OVSLB\",{\"op\":\"update\",\"table\":\"VIP\",\"where\":[[\"name\",\"==\",\"web\"]],\"row\":{\"health_check\":[\"map\",[[\"type\",\"http\"],[\"timeout_ms\",\"900\"],[\"interval_ms\",\"500\"]]]}}]' >/dev/null" \
    "lacks:vip web " \
    "lacks:vip-health web " \
    "has:rejected 2" \
    "ctl:vip-set web health_check=" \
    "has:vip-health web tcp path=/ status=200 interval_ms=500 timeout_ms=500 rise=2 fall=2" \
    "has:rejected 1" \
    "sh:ovsdb-client transact $DB '[\"OVSLB\",{\"op\":\"update\",\"table\":\"VIP\",\"where\":[[\"name\",\"==\",\"web\"]],\"row\":{\"health_check\":[\"map\",[[\"type\",\"tcp\"],[\"path\",\"/x\"]]]}}]' >/dev/null" \
    "lacks:vip web " \
    "has:rejected 2" \
    "ctl:vip-set web health_check=" \
    "has:vip-health web tcp path=/ status=200 interval_ms=500 timeout_ms=500 rise=2 fall=2" \
    "has:vip web 192.0.2.10 ports=80,443 tcp mode=tracked algorithm=source mss=1300 wscale=2 ttl=4 down servers=101:9" \
    "has:rejected 1" \
    "ctl:lb-node-set 1 zone=a" \
    "has:lb-node 1 north=172.16.0.11 south=10.0.0.11 control=10.0.0.11 zone=a down" \
    "ctl:lb-node-add 3 172.16.0.13 10.0.0.13 --zone=b" \
    "has:lb-node 3 north=172.16.0.13 south=10.0.0.13 control=10.0.0.13 zone=b up" \
    "ctl:server-set 101 zone=b" \
    "has:server-node 101 underlay=10.0.0.101 control=10.0.0.101 zone=b netns=ns1,ns2 up" \
    "ctl:vip-set web algorithm=nearest" \
    "has:vip web 192.0.2.10 ports=80,443 tcp mode=tracked algorithm=nearest mss=1300 wscale=2 ttl=4 down servers=101:9" \
    "ctl:lb-node-set 1 zone=" \
    "has:lb-node 1 north=172.16.0.11 south=10.0.0.11 control=10.0.0.11 zone= down"
rc=$?
# Fold the program's cases into this script's count.
grep -v '^[0-9]* passed, [0-9]* failed$' "$TMP/live.out"
set -- $(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' \
             "$TMP/live.out")
CFG_PASSED=${1:-0}
CFG_FAILED=${2:-0}
if [ $rc -ne 0 ] && [ "$CFG_FAILED" -eq 0 ]; then
    CFG_FAILED=1
fi

# node-settings: the node's own keys in its local Open_vSwitch table.
cfg_vswitch_schema
if [ -z "$VSCHEMA" ] || ! command -v ovs-vsctl >/dev/null 2>&1; then
    echo "SKIP: no ovs-vsctl or vswitch schema: node-settings not tested"
    cfg_finish
fi
ovsdb-tool create "$TMP/vswitch.db" "$VSCHEMA"
cfg_serve vswitch
VS="ovs-vsctl --no-wait --db=unix:$TMP/vswitch.sock"
$VS init
NS="$TEST --node-settings unix:$TMP/vswitch.sock /run/x"

expect 1 "node-settings: every missing key is named" \
    "ovslb-node-id is missing.*ovslb-role is missing.*ovslb-bridge is missing.*ovslb-config is missing" -- \
    $NS
$VS set Open_vSwitch . external_ids:ovslb-node-id=1 \
    external_ids:ovslb-role=lb external_ids:ovslb-bridge=br-int \
    external_ids:ovslb-config=unix:/run/ovslb/ovslb.sock
expect 1 "node-settings: an LB node needs its north port" \
    "ovslb-north-port is missing" -- $NS
$VS set Open_vSwitch . external_ids:ovslb-north-port=north0
expect 0 "node-settings: an LB node" \
    "^node_id=1 role=lb bridge=br-int config=unix:/run/ovslb/ovslb.sock north_port=north0 store=/run/x/ovslb-1.db$" -- \
    $NS
$VS set Open_vSwitch . external_ids:ovslb-node-id=101 \
    external_ids:ovslb-role=server \
    external_ids:ovslb-config=unix:/a.sock,unix:/b.sock,unix:/c.sock \
    external_ids:ovslb-store=/var/lib/ovslb/s.db
expect 0 "node-settings: a server node with three remotes" \
    "^node_id=101 role=server bridge=br-int config=unix:/a.sock,unix:/b.sock,unix:/c.sock north_port=\(none\) store=/var/lib/ovslb/s.db$" -- \
    $NS
$VS set Open_vSwitch . external_ids:ovslb-node-id=0 \
    external_ids:ovslb-role=edge external_ids:ovslb-config=bogus:x
expect 1 "node-settings: invalid values are named" \
    "ovslb-node-id=0 is not a node id.*ovslb-role=edge is not a role.*ovslb-config=bogus:x is not a list" -- \
    $NS
cfg_stop_db vswitch

cfg_finish
