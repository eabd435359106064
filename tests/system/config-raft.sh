#!/bin/sh
# config-raft.sh: the config service as a 3-member Raft cluster (created with
# ovsdb-tool create-cluster / join-cluster, on unix sockets in a temporary
# directory).  A cluster-config client and ovslb-ctl are given all three
# remotes; each member in turn is stopped, the configuration is changed, and
# the running client must see the change, keep what it had, and never need a
# restart.  No root needed.

. "${srcdir:-$(dirname "$0")/../..}/tests/config-lib.sh"
cfg_init
TEST=$PWD/tests/test-cluster-config

cat > "$TMP/member.sh" <<EOS
#!/bin/sh
# member.sh start|stop|wait N: one member of the Raft cluster.
n=\$2
case \$1 in
start)
    exec ovsdb-server --detach --no-chdir --pidfile="$TMP/s\$n.pid" \
        --log-file="$TMP/s\$n.log" --remote="punix:$TMP/s\$n.sock" \
        --unixctl="$TMP/s\$n.ctl" "$TMP/s\$n.db" 2>>"$TMP/s\$n.stderr" ;;
stop)
    pid=\$(cat "$TMP/s\$n.pid") && kill \$pid &&
    while kill -0 \$pid 2>/dev/null; do sleep 0.05; done
    rm -f "$TMP/s\$n.pid" ;;
wait)
    exec ovsdb-client -vconsole:off --timeout=20 wait "unix:$TMP/s\$n.sock" OVSLB \
        connected ;;
esac
EOS
chmod +x "$TMP/member.sh"
M=$TMP/member.sh

ovsdb-tool create-cluster "$TMP/s1.db" "$SCHEMA" "unix:$TMP/s1.raft" ||
    { echo "ERROR: create-cluster failed"; exit 99; }
$M start 1 || exit 99
for n in 2 3; do
    ovsdb-tool join-cluster "$TMP/s$n.db" OVSLB "unix:$TMP/s$n.raft" \
        "unix:$TMP/s1.raft" || { echo "ERROR: join-cluster failed"; exit 99; }
    $M start $n || exit 99
done
for n in 1 2 3; do
    $M wait $n || { echo "ERROR: member $n did not join"; exit 99; }
done
expect 0 "the cluster has 3 members" "unix:.*s3.raft" -- \
    ovs-appctl -t "$TMP/s1.ctl" cluster/status OVSLB

DB=unix:$TMP/s1.sock,unix:$TMP/s2.sock,unix:$TMP/s3.sock
VIP="192.0.2.10 ports=80 tcp mode=tracked algorithm=random mss=1402 wscale=7 ttl=3 up"
"$TEST" "$DB" "$CTL --db=$DB --timeout=30" \
    "ctl:init" \
    "ctl:set name=raft" \
    "ctl:server-add 101 10.0.0.101" \
    "ctl:server-add 102 10.0.0.102" \
    "ctl:vip-add web 192.0.2.10 80" \
    "ctl:vip-server-add web 101" \
    "has:vip web $VIP servers=101:1" \
    "sh:$M stop 1" \
    "has:vip web $VIP servers=101:1" \
    "ctl:vip-server-add web 102 2" \
    "has:vip web $VIP servers=101:1,102:2" \
    "sh:$M start 1 && $M wait 1" \
    "sh:$M stop 2" \
    "ctl:--may-exist vip-server-add web 101 7" \
    "has:vip web $VIP servers=101:7,102:2" \
    "sh:$M start 2 && $M wait 2" \
    "sh:$M stop 3" \
    "ctl:lb-node-add 1 172.16.0.11 10.0.0.11" \
    "has:lb-node 1 north=172.16.0.11 south=10.0.0.11 control=10.0.0.11 zone= up" \
    "ctl:server-del 102" \
    "has:vip web $VIP servers=101:7" \
    "lacks:server-node 102" \
    "sh:$M start 3 && $M wait 3" \
    "ctl:set ring_vnodes=16" \
    "has:setting ring_vnodes=16" \
    "acked:1:--wait=lb --may-exist vip-server-add web 101 3" \
    "acked:2:--wait=lb vip-set web ttl=5" \
    "acked:3:--wait=lb sync" \
    > "$TMP/raft.out" 2>&1
rc=$?
grep -v '^[0-9]* passed, [0-9]* failed$' "$TMP/raft.out"
passed=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$TMP/raft.out")
failed=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$TMP/raft.out")
CFG_PASSED=$((CFG_PASSED + ${passed:-0}))
CFG_FAILED=$((CFG_FAILED + ${failed:-0}))
if [ $rc -ne 0 ] && [ "${failed:-0}" -eq 0 ]; then
    CFG_FAILED=$((CFG_FAILED + 1))
fi

# The acknowledgements went through whichever member each client had (two
# of the three are followers, which pass writes to the leader).
expect 0 "LB node 1's applied_cfg is the last --wait's (3)" "^3$" -- \
    sh -c "ovsdb-client -f csv --no-headings dump unix:$TMP/s1.sock OVSLB LB_Node applied_cfg | tail -n 1"

# The member restarted last has caught up with what it missed.
expect 0 "a restarted member has the changes made while it was down" \
    "^1 north=172.16.0.11" -- $CTL --db=unix:$TMP/s3.sock lb-node-list
cfg_finish
