#!/bin/sh
# ctl-commands.sh: every ovslb-ctl command against a private ovsdb-server
# serving schema/ovslb.ovsschema, with the errors and exit codes of
# ovslb-ctl(8): 0 success, 1 invalid command line or value, 2 not found,
# 3 already exists, 4 database unreachable or refusing.

. "${srcdir:-$(dirname "$0")/..}/tests/config-lib.sh"
cfg_init
cfg_start_db ovslb
C=$CTL

# Where the database is.
expect 4 "unreachable --db: exit 4 with the reason" \
    "database connection failed \(No such file" -- \
    $C --db=unix:$TMP/nowhere.sock show
expect 0 "default --db is unix:\$OVS_RUNDIR/ovslb.sock" -- $C lb-node-list
expect 4 "OVSLB_DB overrides the default" "nowhere2" -- \
    env OVSLB_DB=unix:$TMP/nowhere2.sock $C show
expect 0 "--db=unix:PATH" -- $C --db=unix:$TMP/ovslb.sock vip-list
expect 1 "--timeout must be a number" "not a number" -- \
    $C --timeout=soon show

# Command line.
expect 1 "no command" "missing command" -- $C
expect 1 "unknown command" "unknown command 'frobnicate'" -- $C frobnicate
expect 1 "too many arguments" "takes at most 0 arguments" -- $C show extra
expect 1 "too few arguments" "requires at least 3 arguments" -- $C vip-add web
expect 1 "option the command does not take" "has no '--zone' option" -- \
    $C lb-node-list --zone=a
expect 0 "--help lists the commands" "vip-server-add" -- $C --help
expect 0 "--version" "ovslb" -- $C --version

# init, set, get.
expect 0 "show before init prints the defaults" \
    "ring_vnodes: 64 \(default\)" -- $C show
expect 0 "get before init prints the default" "^7700$" -- \
    $C get control_port
expect 0 "init" -- $C init
expect 0 "init makes a random 64-hex-digit key" "^[0-9a-f]{64}$" -- \
    $C get cluster_key
key=$($C get cluster_key)
expect 0 "init again keeps the row" -- $C init
expect 0 "init again keeps the key" "^$key$" -- $C get cluster_key
expect 0 "get name" "^ovslb$" -- $C get name
expect 0 "set name and settings" -- \
    $C set name=lab ring_vnodes=128 lease_ms=5000
expect 0 "get name after set" "^lab$" -- $C get name
expect 0 "get a set setting" "^128$" -- $C get ring_vnodes
expect 0 "set KEY= returns to the default" -- $C set ring_vnodes=
expect 0 "get after reset is the default" "^64$" -- $C get ring_vnodes
expect 0 "set cluster_key" -- $C set cluster_key=0123456789abcdef0123
expect 0 "get cluster_key" "^0123456789abcdef0123$" -- $C get cluster_key
expect 1 "short cluster_key" "too short" -- $C set cluster_key=abc
long=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
expect 1 "long cluster_key" "cluster_key is too long \(at most 64" -- \
    $C set cluster_key=${long}0
expect 0 "...cluster_key unchanged" "^0123456789abcdef0123$" -- \
    $C get cluster_key

# Key rotation: stage, then promote.
expect 0 "no next key at first" "^$" -- $C get cluster_key_next
expect 2 "promote with nothing staged" \
    "no next key staged \(stage one with 'ovslb-ctl key-stage'" -- \
    $C key-promote
expect 0 "...cluster_key unchanged" "^0123456789abcdef0123$" -- \
    $C get cluster_key
expect 1 "stage the current key" \
    "cluster_key_next is the current cluster_key" -- \
    $C key-stage 0123456789abcdef0123
expect 1 "set the current key as next" \
    "cluster_key_next is the current cluster_key" -- \
    $C set cluster_key_next=0123456789abcdef0123
expect 1 "stage a short key" "cluster_key_next is too short" -- \
    $C key-stage abc
expect 1 "stage a long key" "cluster_key_next is too long" -- \
    $C key-stage ${long}0
expect 1 "set a short next key" "cluster_key_next is too short" -- \
    $C set cluster_key_next=abc
expect 0 "...nothing staged by the refusals" "^$" -- $C get cluster_key_next
expect 0 "stage a key of the maximum length" -- $C key-stage $long
expect 0 "get cluster_key_next" "^$long$" -- $C get cluster_key_next
expect 0 "...the current key is unchanged by a stage" \
    "^0123456789abcdef0123$" -- $C get cluster_key
expect 0 "show says a next key is staged" \
    "^cluster \"lab\" \(cluster key: set, next key staged\)$" -- $C show
expect 0 "set cluster_key_next= unstages it" -- $C set cluster_key_next=
expect 0 "...nothing staged" "^$" -- $C get cluster_key_next
expect 0 "key-stage with no KEY stages a random one and prints it" \
    "^[0-9a-f]{64}$" -- $C key-stage
next=$($C get cluster_key_next)
expect 0 "...the one it printed" "^[0-9a-f]{64}$" -- $C get cluster_key_next
expect 0 "key-promote" -- $C key-promote
expect 0 "...the staged key is current" "^$next$" -- $C get cluster_key
expect 0 "...and nothing is staged" "^$" -- $C get cluster_key_next
expect 2 "promote twice" "no next key staged" -- $C key-promote
expect 0 "set cluster_key_next=KEY stages too" -- \
    $C set cluster_key_next=0123456789abcdef0123
expect 0 "...and promotes" -- $C key-promote
expect 0 "...back to the earlier key" "^0123456789abcdef0123$" -- \
    $C get cluster_key
expect 1 "set unknown key" "bogus: unknown setting" -- $C set bogus=1
expect 1 "get unknown key" "bogus: unknown setting" -- $C get bogus
expect 1 "set out of range" "from 1 to 4096" -- $C set ring_vnodes=0
expect 1 "set not a number" "invalid value" -- $C set control_port=x
expect 1 "maglev table size must be prime" "prime" -- \
    $C set maglev_table_size=65536
expect 1 "maglev table size beyond what the switch can index" \
    "maglev_table_size" -- $C set maglev_table_size=65537
expect 1 "replay window other than 64 (built in)" "replay_window" -- \
    $C set replay_window=128
expect 0 "maglev table size a prime in range, replay window at its value" -- \
    $C set maglev_table_size=251 replay_window=64
expect 1 "a retired setting is refused, with the reason" \
    "flow_idle_timeout_s no longer applies: ingress mappings" -- \
    $C set flow_idle_timeout_s=30
expect 1 "set without =" "expected KEY=VALUE" -- $C set ring_vnodes
expect 1 "one bad pair changes nothing" -- $C set lease_ms=6000 ring_vnodes=-1
expect 0 "...lease_ms unchanged" "^5000$" -- $C get lease_ms

# The SYN meter and the SYN-cookie rate trigger: one policy, checked across
# settings after every pair of the command is applied.
expect 0 "syn_meter_rate default" "^50000$" -- $C get syn_meter_rate
expect 0 "other_meter_rate default" "^40000$" -- $C get other_meter_rate
expect 0 "syn_cookie_rate default, below the SYN meter" "^10000$" -- \
    $C get syn_cookie_rate
expect 1 "a cookie rate the SYN meter never lets a tracker count" \
    "syn_cookie_rate \(50000\) must be below syn_meter_rate \(50000\)" -- \
    $C set syn_cookie_rate=50000
expect 1 "a SYN meter below the cookie rate" \
    "syn_cookie_rate \(10000\) must be below syn_meter_rate \(5000\)" -- \
    $C set syn_meter_rate=5000
expect 0 "...syn_meter_rate unchanged" "^50000$" -- $C get syn_meter_rate
expect 1 "an incoherent pair refuses the whole command" "must be below" -- \
    $C set lease_ms=7000 syn_cookie_rate=60000
expect 0 "...lease_ms unchanged" "^5000$" -- $C get lease_ms
expect 0 "meter and cookie rate lowered together" -- \
    $C set syn_meter_rate=5000 syn_cookie_rate=4000
expect 0 "...syn_meter_rate set" "^5000$" -- $C get syn_meter_rate
expect 0 "...syn_cookie_rate set" "^4000$" -- $C get syn_cookie_rate
expect 1 "resetting to a default is checked too" \
    "syn_cookie_rate \(10000\) must be below syn_meter_rate \(5000\)" -- \
    $C set syn_cookie_rate=
expect 1 "meter rate out of range" "from 100 to 10000000" -- \
    $C set other_meter_rate=99
expect 0 "set other_meter_rate" -- $C set other_meter_rate=60000
expect 0 "...applied" "^60000$" -- $C get other_meter_rate
expect 0 "back to the defaults" -- \
    $C set syn_meter_rate= syn_cookie_rate= other_meter_rate=
expect 0 "...syn_meter_rate default" "^50000$" -- $C get syn_meter_rate

# The bounds of the per-connection tables (schema 1.3.0 and later).
expect 0 "tracker_table_max default" "^1000000$" -- $C get tracker_table_max
expect 0 "mapping_table_max default" "^1000000$" -- $C get mapping_table_max
expect 0 "pending_table_max default" "^100000$" -- $C get pending_table_max
expect 0 "xlate_table_max default" "^1000000$" -- $C get xlate_table_max
expect 0 "show lists the bounds" "tracker_table_max: 1000000 \(default\)" \
    -- $C show
expect 0 "all four bounds set to 1000" -- \
    $C set tracker_table_max=1000 mapping_table_max=1000 \
    pending_table_max=1000 xlate_table_max=1000
expect 0 "...tracker_table_max set" "^1000$" -- $C get tracker_table_max
expect 0 "...xlate_table_max set" "^1000$" -- $C get xlate_table_max
expect 1 "a tracker bound below 100" \
    "tracker_table_max.*from 100 to 100000000" \
    -- $C set tracker_table_max=99
expect 1 "a pending bound above 10000000" \
    "pending_table_max.*from 10 to 10000000" -- \
    $C set pending_table_max=10000001
expect 1 "a refused bound changes nothing" -- \
    $C set mapping_table_max=2000 xlate_table_max=0
expect 0 "...mapping_table_max unchanged" "^1000$" -- $C get mapping_table_max
expect 0 "bounds back to the defaults" -- \
    $C set tracker_table_max= mapping_table_max= pending_table_max= \
    xlate_table_max=
expect 0 "...pending_table_max default" "^100000$" -- $C get pending_table_max

# LB nodes.
expect 0 "lb-node-add (control defaults to south)" -- \
    $C lb-node-add 1 172.16.0.11 10.0.0.11
expect 0 "lb-node-add with a control address" -- \
    $C lb-node-add 2 172.16.0.12 10.0.0.12 10.1.0.12
expect 0 "lb-node-add IPv6" -- $C lb-node-add 3 2001:db8::3 fd00::3
expect 0 "lb-node-list" \
    "^1 north=172.16.0.11 south=10.0.0.11 control=10.0.0.11 admin=up$" -- \
    $C lb-node-list
expect 0 "lb-node-list shows the control address" \
    "^2 north=172.16.0.12 south=10.0.0.12 control=10.1.0.12 admin=up$" -- \
    $C lb-node-list
expect 3 "lb-node-add duplicate id" "already exists" -- \
    $C lb-node-add 1 172.16.0.21 10.0.0.21
expect 0 "lb-node-add --may-exist updates" -- \
    $C --may-exist lb-node-add 1 172.16.0.11 10.0.0.111
expect 0 "...to the new south address" "^1 north=172.16.0.11 south=10.0.0.111 " -- \
    $C lb-node-list
expect 1 "lb-node-add bad address" "10.0.0: invalid IP address" -- \
    $C lb-node-add 4 172.16.0.14 10.0.0
expect 1 "lb-node-add multicast address" "not a unicast" -- \
    $C lb-node-add 4 224.0.0.1 10.0.0.14
expect 1 "lb-node-add id 0" "invalid node id" -- \
    $C lb-node-add 0 172.16.0.14 10.0.0.14
expect 1 "lb-node-add id too large" "invalid node id" -- \
    $C lb-node-add 65536 172.16.0.14 10.0.0.14
expect 1 "lb-node-add id not a number" "invalid node id" -- \
    $C lb-node-add one 172.16.0.14 10.0.0.14
expect 0 "lb-node-set" -- $C lb-node-set 3 admin_state=down \
    north_address=2001:db8::33
expect 0 "...applied" "^3 north=2001:db8::33 .* admin=down$" -- \
    $C lb-node-list
expect 0 "lb-node-add with a zone" -- \
    $C lb-node-add 4 172.16.0.14 10.0.0.14 --zone=a
expect 0 "...listed" \
    "^4 north=172.16.0.14 south=10.0.0.14 control=10.0.0.14 zone=a admin=up$" \
    -- $C lb-node-list
expect 0 "...and shown" "^    zone: a$" -- \
    sh -c "$C show | sed -n '/^lb-node 4/,/^[^ ]/p'"
expect 0 "lb-node-set zone" -- $C lb-node-set 4 zone=b
expect 0 "...applied" "^4 north=172.16.0.14 .* zone=b admin=up$" -- \
    $C lb-node-list
expect 1 "lb-node-set zone with a space" "zone \"b c\" has a space" -- \
    $C lb-node-set 4 "zone=b c"
expect 1 "lb-node-add zone too long" "is longer than 64" -- \
    $C lb-node-add 5 172.16.0.15 10.0.0.15 \
    --zone=$(printf 'z%.0s' $(seq 65))
expect 0 "--may-exist lb-node-add without --zone keeps the zone" -- \
    $C --may-exist lb-node-add 4 172.16.0.14 10.0.0.114
expect 0 "...kept" "^4 north=172.16.0.14 south=10.0.0.114 .* zone=b admin=up$" \
    -- $C lb-node-list
expect 0 "lb-node-set zone= clears it" -- $C lb-node-set 4 zone=
expect 0 "...no zone listed" "^4 north=172.16.0.14 south=10.0.0.114 control=10.0.0.114 admin=up$" \
    -- $C lb-node-list
expect 0 "lb-node-del 4" -- $C lb-node-del 4
expect 1 "lb-node-set bad admin_state" "invalid admin_state" -- \
    $C lb-node-set 3 admin_state=off
expect 1 "lb-node-set unknown key" "unknown LB node key" -- \
    $C lb-node-set 3 colour=red
expect 2 "lb-node-set unknown id" "no LB node" -- \
    $C lb-node-set 9 admin_state=up
expect 0 "lb-node-del" -- $C lb-node-del 3
expect 2 "lb-node-del unknown id" "3: no LB node with this id" -- \
    $C lb-node-del 3
expect 0 "lb-node-del --if-exists unknown id" -- $C --if-exists lb-node-del 3
expect 1 "lb-node-del bad id" "invalid node id" -- $C lb-node-del x

# Server nodes.
expect 0 "server-add with zone and namespaces" -- \
    $C server-add 101 10.0.0.101 --zone=a --netns=ns1,ns2
expect 0 "server-add with a control address" -- \
    $C server-add 102 10.0.0.102 10.1.0.102
expect 0 "server-add plain" -- $C server-add 103 10.0.0.103
expect 0 "server-list" \
    "^101 underlay=10.0.0.101 control=10.0.0.101 zone=a netns=ns1,ns2 admin=up$" -- \
    $C server-list
expect 0 "server-list control address" \
    "^102 underlay=10.0.0.102 control=10.1.0.102 admin=up$" -- $C server-list
expect 3 "server-add duplicate id" "already exists" -- \
    $C server-add 101 10.0.0.201
expect 3 "server-add with an LB node's id" "already used by an LB node" -- \
    $C server-add 1 10.0.0.201
expect 3 "lb-node-add with a server node's id" "already used by a server" -- \
    $C lb-node-add 101 172.16.0.99 10.0.0.99
expect 1 "server-add bad address" "invalid IP address" -- \
    $C server-add 104 10.0.0.300
expect 1 "server-add bad namespace" "invalid network namespace" -- \
    $C server-add 104 10.0.0.104 --netns=a/b
expect 1 "server-add zone with a space" "zone" -- \
    $C server-add 104 10.0.0.104 "--zone=a b"
expect 0 "server-add --may-exist" -- \
    $C --may-exist server-add 103 10.0.0.113 --zone=b
expect 0 "...updates" "^103 underlay=10.0.0.113 control=10.0.0.113 zone=b" -- \
    $C server-list
expect 0 "server-set" -- $C server-set 103 netns=ns3 admin_state=down
expect 0 "...applied" "^103 .*netns=ns3 admin=down$" -- $C server-list
expect 1 "server-set unknown key" "unknown server node key" -- \
    $C server-set 103 weight=3
expect 2 "server-set unknown id" "no server node" -- \
    $C server-set 109 zone=c

# VIPs.
expect 0 "vip-add with defaults" -- $C vip-add web 192.0.2.10 80
expect 0 "vip-list" \
    "^web 192.0.2.10 80/tcp mode=tracked algorithm=random servers=none admin=up$" -- \
    $C vip-list
expect 0 "vip-add with every option" -- \
    $C vip-add dns 192.0.2.53 53 --protocol=tcp --mode=tracked \
    --algorithm=weighted-random --mss=1400 --wscale=9 --ttl=5
expect 1 "vip-add IPv6: not implemented yet" \
    "IPv6 VIP 2001:db8::10 is not implemented yet" -- \
    $C vip-add web6 2001:db8::10 443,80
expect 0 "...nothing added" -- sh -c "! $C vip-list | grep -q '^web6 '"
expect 0 "vip-add several ports" -- \
    $C vip-add web4 192.0.2.16 443,80
expect 0 "...ports sorted" "^web4 192.0.2.16 80,443/tcp " -- $C vip-list
# Accepted by the schema, not implemented: refused, not silently left
# unserved.  UDP needs mode hash.
expect 1 "vip-add protocol udp in mode tracked: refused" \
    "protocol udp needs mode hash \(this VIP's mode is tracked\)" -- \
    $C vip-add webu 192.0.2.10 80 --protocol=udp
expect 0 "vip-add mode hash (TCP)" -- \
    $C vip-add webh 192.0.2.30 80 --mode=hash
expect 0 "...listed as hash, its algorithm hash by default" \
    "^webh 192.0.2.30 80/tcp mode=hash algorithm=hash " -- $C vip-list
# Mode hash places flows by a consistent hash: algorithm hash or source.
expect 1 "vip-add mode hash, algorithm random: refused" \
    "mode hash takes algorithm hash \(by the flow's addresses and ports\) or source \(by the client's address\), not random" \
    -- $C vip-add webhr 192.0.2.32 80 --mode=hash --algorithm=random
expect 1 "vip-set algorithm=least-connections on a hash VIP: refused" \
    "not least-connections" -- $C vip-set webh algorithm=least-connections
expect 0 "vip-set algorithm=source on a hash VIP" -- \
    $C vip-set webh algorithm=source
expect 0 "...listed" "^webh 192.0.2.30 80/tcp mode=hash algorithm=source " \
    -- $C vip-list
expect 0 "vip-add mode hash, protocol udp" -- \
    $C vip-add webhu 192.0.2.31 53 --mode=hash --protocol=udp
expect 0 "...listed as udp, hash" "^webhu 192.0.2.31 53/udp mode=hash " -- \
    $C vip-list
expect 0 "...its default check is a UDP datagram" \
    "health check: udp datagram, not refused every 500 ms" -- $C show
expect 1 "...refuses mode tracked" "protocol udp needs mode hash" -- \
    $C vip-set webhu mode=tracked
expect 1 "...refuses a TCP check" "health_check:type=tcp needs a TCP VIP" \
    -- $C vip-set webhu health_check:type=tcp
expect 0 "...still hash, no check set" "^webhu 192.0.2.31 53/udp mode=hash " \
    -- $C vip-list
expect 0 "vip-set mode and protocol together (TCP, tracked)" -- \
    $C vip-set webhu mode=tracked protocol=tcp
expect 0 "...applied" "^webhu 192.0.2.31 53/tcp mode=tracked " -- \
    $C vip-list
expect 0 "vip-del the hash VIPs" -- $C vip-del webh -- vip-del webhu
expect 3 "vip-add duplicate name" "web: VIP already exists" -- \
    $C vip-add web 192.0.2.11 80
expect 3 "vip-add address:port of another VIP" \
    "VIP web already serves 192.0.2.10 port 80/tcp" -- \
    $C vip-add web2 192.0.2.10 8080,80
expect 1 "vip-add bad address" "invalid IP address" -- \
    $C vip-add x 192.0.2 80
expect 1 "vip-add port 0" "invalid port list" -- $C vip-add x 192.0.2.20 0
expect 1 "vip-add port 65536" "invalid port list" -- \
    $C vip-add x 192.0.2.20 65536
expect 1 "vip-add port not a number" "invalid port list" -- \
    $C vip-add x 192.0.2.20 http
expect 1 "vip-add empty port in list" "invalid port list" -- \
    $C vip-add x 192.0.2.20 80,,81
expect 1 "vip-add invalid mode" "invalid mode \(expected tracked or hash\)" -- \
    $C vip-add x 192.0.2.20 80 --mode=sticky
expect 1 "vip-add invalid algorithm" "invalid algorithm" -- \
    $C vip-add x 192.0.2.20 80 --algorithm=fastest
expect 1 "vip-add invalid protocol" "invalid protocol" -- \
    $C vip-add x 192.0.2.20 80 --protocol=sctp
expect 1 "vip-add MSS out of range" "invalid MSS" -- \
    $C vip-add x 192.0.2.20 80 --mss=20
expect 1 "vip-add window scale out of range" "invalid window scale" -- \
    $C vip-add x 192.0.2.20 80 --wscale=15
expect 1 "vip-add TTL 0" "invalid TTL" -- $C vip-add x 192.0.2.20 80 --ttl=0
expect 1 "vip-add bad name" "invalid VIP name" -- $C vip-add "a b" 192.0.2.20 80
expect 0 "nothing was added by the failures" -- \
    sh -c "! $C vip-list | grep -qE '^(x|webu|webh) '"
expect 0 "vip-add --may-exist updates" -- \
    $C --may-exist vip-add web 192.0.2.10 80,8080 --algorithm=round-robin
expect 0 "...ports and algorithm" "^web 192.0.2.10 80,8080/tcp mode=tracked algorithm=round-robin " -- \
    $C vip-list
expect 0 "vip-add --algorithm=nearest" -- \
    $C vip-add near 192.0.2.40 80 --algorithm=nearest
expect 0 "...listed" "^near 192.0.2.40 80/tcp mode=tracked algorithm=nearest " \
    -- $C vip-list
expect 0 "vip-del near" -- $C vip-del near
for alg in random weighted-random round-robin least-connections \
           lowest-latency hash nearest source; do
    expect 0 "vip-set algorithm=$alg" -- $C vip-set web4 algorithm=$alg
done
expect 0 "vip-set mode, ports, mss, admin_state" -- \
    $C vip-set web4 mode=tracked ports=8443 mss=1300 admin_state=down
expect 0 "...applied" "^web4 192.0.2.16 8443/tcp mode=tracked algorithm=source servers=none admin=down$" -- \
    $C vip-list
expect 1 "vip-set protocol=udp in mode tracked: refused" \
    "protocol udp needs mode hash" -- $C vip-set web4 protocol=udp
expect 0 "vip-set algorithm=random" -- $C vip-set web4 algorithm=random
expect 1 "vip-set mode=hash with algorithm random: refused" \
    "not random: .* \(set algorithm=hash\)" -- $C vip-set web4 mode=hash
expect 0 "...nothing changed" "^web4 192.0.2.16 8443/tcp mode=tracked algorithm=random " -- \
    $C vip-list
# The MSS, window scale and retry TTL are those of the LB tier's SYN/ACK
# and retries: mode tracked only.
expect 1 "vip-set mode=hash with an MSS of its own: refused" \
    "mss: mode tracked only .* \(clear with mss=\)" -- \
    $C vip-set web4 mode=hash algorithm=hash
expect 0 "vip-set mode=hash algorithm=hash mss=" -- \
    $C vip-set web4 mode=hash algorithm=hash mss=
expect 1 "...then wscale and ttl refused in mode hash" \
    "wscale, ttl: mode tracked only .* \(clear with wscale= ttl=\)" -- \
    $C vip-set web4 wscale=3 ttl=2
expect 1 "vip-add --mode=hash --mss: refused" "mss: mode tracked only" -- \
    $C vip-add webhm 192.0.2.33 80 --mode=hash --mss=1300
expect 0 "vip-set mode=tracked algorithm=source mss=1300 (back)" -- \
    $C vip-set web4 mode=tracked algorithm=source mss=1300
expect 0 "...nothing changed" "^web4 192.0.2.16 8443/tcp mode=tracked " -- \
    $C vip-list
expect 0 "vip-set mss= returns to the default" -- $C vip-set web4 mss=
expect 0 "...default MSS of an IPv4 VIP" "mss: 1402 \(default\)" -- $C show
expect 1 "vip-set invalid mode" "invalid mode" -- $C vip-set web mode=fast
expect 1 "vip-set bad ports" "invalid port list" -- $C vip-set web ports=0
expect 1 "vip-set IPv6 address: not implemented yet" \
    "IPv6 VIP 2001:db8::11 is not implemented yet" -- \
    $C vip-set web address=2001:db8::11
expect 1 "vip-set v4-mapped IPv6 address" "not a unicast IPv6" -- \
    $C vip-set web address=::ffff:1.2.3.4
expect 1 "vip-set unknown key" "unknown VIP key" -- $C vip-set web colour=red
expect 3 "vip-set onto another VIP's address:port" "already serves" -- \
    $C vip-set web4 address=192.0.2.10 ports=80
expect 2 "vip-set unknown VIP" "nope: no VIP" -- $C vip-set nope mode=hash

# Health checks (VIP column health_check): set key by key, cleared, each
# refusal with the key and what it takes, and vip-list's health= only for a
# VIP that has a map.
expect 0 "vip-list: no health= without a health check" \
    "^web4 192.0.2.16 8443/tcp mode=tracked algorithm=source servers=none admin=down$" -- \
    $C vip-list
expect 0 "show: the default health check" \
    "^    health check: tcp connect every 500 ms, timeout 500 ms, up after 2, down after 2 \(default\)$" -- \
    $C show
expect 0 "vip-set health_check:KEY=VALUE, several" -- \
    $C vip-set web4 health_check:type=http health_check:path=/healthz \
    health_check:status=204 health_check:interval_ms=2000 \
    health_check:timeout_ms=1500 health_check:rise=3 health_check:fall=4
expect 0 "...listed, keys sorted" \
    "^web4 192.0.2.16 8443/tcp mode=tracked algorithm=source servers=none admin=down health=fall=4,interval_ms=2000,path=/healthz,rise=3,status=204,timeout_ms=1500,type=http$" -- \
    $C vip-list
expect 0 "...shown in words" \
    "^    health check: http GET /healthz expecting 204 every 2000 ms, timeout 1500 ms, up after 3, down after 4$" -- \
    $C show
expect 0 "...the raw column holds the map" 'path="?/healthz"?' -- \
    $C get VIP web4 health_check
expect 0 "vip-set health_check:KEY= takes the key's default" -- \
    $C vip-set web4 health_check:path= health_check:status=
expect 0 "...gone from the map" \
    " health=fall=4,interval_ms=2000,rise=3,timeout_ms=1500,type=http$" -- \
    $C vip-list
expect 0 "...the defaults in use" "http GET / expecting 200 every 2000 ms" \
    -- $C show
hc_before=$($C vip-list)
for bad in \
    "health_check:colour=red|health_check:colour: unknown key \(expected type, path, status, interval_ms, timeout_ms, rise or fall\)" \
    "health_check:type=udp|health_check:type=udp needs a UDP VIP \(this VIP's protocol is tcp\)" \
    "health_check:type=smtp|health_check:type=smtp: invalid type \(expected tcp, udp, http or none\)" \
    "health_check:path=healthz|health_check:path=healthz: invalid path \(expected '/' then printable ASCII characters without spaces, at most 256 bytes\)" \
    "health_check:status=99|health_check:status=99: invalid value \(expected an integer from 100 to 599\)" \
    "health_check:status=600|health_check:status=600: invalid value" \
    "health_check:interval_ms=99|health_check:interval_ms=99: invalid value \(expected an integer from 100 to 60000\)" \
    "health_check:interval_ms=60001|from 100 to 60000" \
    "health_check:timeout_ms=49|health_check:timeout_ms=49: invalid value \(expected an integer from 50 to 60000\)" \
    "health_check:timeout_ms=2001|health_check:timeout_ms \(2001\) must not be above interval_ms \(2000\)" \
    "health_check:interval_ms=1000|health_check:timeout_ms \(1500\) must not be above interval_ms \(1000\)" \
    "health_check:rise=0|health_check:rise=0: invalid value \(expected an integer from 1 to 100\)" \
    "health_check:fall=101|health_check:fall=101: invalid value \(expected an integer from 1 to 100\)" \
    "health_check:fall=x|health_check:fall=x: invalid value" \
    "health_check:type=tcp|health_check:path applies to type http only \(the type is tcp\)|health_check:path=/x" \
    "health_check:type=none|health_check:interval_ms does not apply to type none" \
    "health_check=x|health_check=x: expected health_check:KEY=VALUE" \
    "health_check:=x|health_check:=x: expected health_check:KEY=VALUE"; do
    arg=${bad%%|*}
    rest=${bad#*|}
    msg=${rest%%|*}
    more=
    [ "$rest" != "$msg" ] && more=${rest#*|}
    expect 1 "vip-set $arg${more:+ $more} refused" "$msg" -- \
        $C vip-set web4 $arg $more
done
expect 0 "...nothing changed by the refusals" -- \
    test "$($C vip-list)" = "$hc_before"
expect 0 "a refused health check leaves the other keys unwritten too" -- \
    sh -c "! $C vip-set web4 ttl=9 health_check:rise=0 2>/dev/null &&
           ! $C show | grep -q 'ttl: 9\$'"
expect 0 "vip-set health_check= clears the map" -- \
    $C vip-set web4 health_check=
expect 0 "...vip-list as before any health check" \
    "^web4 192.0.2.16 8443/tcp mode=tracked algorithm=source servers=none admin=down$" -- \
    $C vip-list
expect 0 "...the default check" "^    health check: tcp connect .* \(default\)$" \
    -- $C show
expect 0 "vip-set health_check= then keys: cleared, then set" -- \
    $C vip-set web4 health_check:interval_ms=1000 health_check= \
    health_check:type=none
expect 0 "...only the keys after the clear" " health=type=none$" -- \
    $C vip-list
expect 0 "...shown" "^    health check: none \(its ports count as up\)$" \
    -- $C show
expect 0 "vip-add --health-check" -- \
    $C vip-add api 192.0.2.60 8080 --health-check=type=http,path=/ready,rise=1
expect 0 "...listed" \
    "^api 192.0.2.60 8080/tcp mode=tracked algorithm=random servers=none admin=up health=path=/ready,rise=1,type=http$" -- \
    $C vip-list
expect 0 "vip-add --may-exist --health-check replaces the map" -- \
    $C --may-exist vip-add api 192.0.2.60 8080 --health-check=fall=5
expect 0 "...replaced" " admin=up health=fall=5$" -- $C vip-list
expect 0 "vip-add --may-exist without --health-check keeps it" -- \
    $C --may-exist vip-add api 192.0.2.60 8080,8081
expect 0 "...kept" "^api 192.0.2.60 8080,8081/tcp .* health=fall=5$" -- \
    $C vip-list
expect 0 "vip-add --health-check= is the default check" -- \
    $C vip-add api2 192.0.2.61 80 --health-check=
expect 0 "...no health=" "^api2 192.0.2.61 80/tcp mode=tracked algorithm=random servers=none admin=up$" -- \
    $C vip-list
for bad in \
    "type=http,status=700|health_check:status=700: invalid value \(expected an integer from 100 to 599\)" \
    "status=204|health_check:status applies to type http only \(the type is tcp\)" \
    "type=http,type=tcp|--health-check: type given twice" \
    "type=http,,rise=2|--health-check=type=http,,rise=2: empty item" \
    "type|type: expected KEY=VALUE" \
    "speed=1|health_check:speed: unknown key"; do
    expect 1 "vip-add --health-check=${bad%%|*} refused" "${bad#*|}" -- \
        $C vip-add hc 192.0.2.62 80 "--health-check=${bad%%|*}"
done
expect 0 "...no VIP added by the refusals" -- \
    sh -c "! $C vip-list | grep -q '^hc '"
# An HTTP check needs TCP.
expect 1 "vip-set protocol=udp on a VIP with an HTTP check" \
    "health_check:type=http needs a TCP VIP \(this VIP's protocol is udp" \
    -- $C vip-set api health_check:type=http mode=hash algorithm=hash \
    protocol=udp
expect 0 "vip-del api, api2" -- $C vip-del api -- vip-del api2

# VIP servers.
expect 0 "vip-server-add default weight" -- $C vip-server-add web 101
expect 0 "vip-server-add with a weight" -- $C vip-server-add web 102 5
expect 0 "...listed" "^web .* servers=101:1,102:5 admin=up$" -- $C vip-list
expect 3 "vip-server-add twice" "already a server of VIP web" -- \
    $C vip-server-add web 101 3
expect 0 "vip-server-add --may-exist changes the weight" -- \
    $C --may-exist vip-server-add web 101 3
expect 0 "...weight changed" "servers=101:3,102:5" -- $C vip-list
expect 2 "vip-server-add unknown server" "109: no server node" -- \
    $C vip-server-add web 109
expect 2 "vip-server-add unknown VIP" "nope: no VIP" -- \
    $C vip-server-add nope 101
expect 1 "vip-server-add bad weight" "invalid weight" -- \
    $C vip-server-add web 103 70000
expect 0 "vip-server-del" -- $C vip-server-del web 102
expect 2 "vip-server-del not a server of the VIP" "not a server of VIP web" -- \
    $C vip-server-del web 102
expect 0 "vip-server-del --if-exists" -- $C --if-exists vip-server-del web 102
expect 0 "vip-server-add 103" -- $C vip-server-add web 103 2
expect 0 "server-del removes it from its VIPs" -- $C server-del 103
expect 0 "...gone from the VIP" "servers=101:3 " -- $C vip-list
expect 2 "server-del unknown id" "no server node" -- $C server-del 103
expect 0 "server-del --if-exists" -- $C --if-exists server-del 103

# show.
expect 0 "show: cluster" '^cluster "lab" \(cluster key: set\)$' -- $C show
expect 0 "show: a set setting" "^    lease_ms: 5000$" -- $C show
expect 0 "show: LB node" "^lb-node 2$" -- $C show
expect 0 "show: server node namespaces" "^    netns: ns1,ns2$" -- $C show
expect 0 "show: VIP options" "^    mss: 1400$" -- $C show
expect 0 "show: default MSS of an IPv4 VIP" "^    mss: 1402 \(default\)$" -- \
    $C show
expect 0 "show: servers" "^    servers \(id:weight\): 101:3$" -- $C show

# Deleting.
expect 0 "vip-del" -- $C vip-del dns
expect 2 "vip-del unknown" "dns: no VIP" -- $C vip-del dns
expect 0 "vip-del --if-exists" -- $C --if-exists vip-del dns
expect 0 "...gone" -- sh -c "! $C vip-list | grep -q '^dns '"

# The generic database commands of OVS's db-ctl framework.
expect 0 "list VIP" '^name +: "?web"?$' -- $C list VIP
expect 0 "get LB_Node by node id" '^2$' -- $C get LB_Node 2 node_id
expect 0 "get Cluster by name" '^"?lab"?$' -- $C get Cluster lab name
expect 1 "get a row that does not exist" 'no row "nosuch" in table VIP' -- \
    $C get VIP nosuch name
expect 0 "--columns=name find VIP" '^name +: "?web"?$' -- \
    $C --columns=name find VIP 'ports{>=}8080'
expect 0 "...finds only that one" -- \
    sh -c "[ \$($C --bare --columns=name find VIP 'ports{>=}8080' | grep -c .) = 1 ]"
expect 0 "-f csv list VIP" '^name$' -- $C -f csv --columns=name list VIP
expect 0 "...one line per VIP" '^web4?$' -- $C -f csv --columns=name list VIP
expect 0 "-f json list VIP" '"headings":\["name"\]' -- \
    $C -f json --columns=name list VIP
expect 0 "-- chains commands in one transaction" -- \
    $C vip-add chain 192.0.2.40 80 -- vip-server-add chain 101 4
expect 0 "...both applied" "^chain 192.0.2.40 80/tcp .* servers=101:4 " -- \
    $C vip-list
expect 2 "a failing command fails the whole chain" "109: no server node" -- \
    $C vip-add chain2 192.0.2.41 80 -- vip-server-add chain2 109
expect 0 "...the first command was not committed" -- \
    sh -c "! $C vip-list | grep -q '^chain2 '"
expect 0 "--dry-run vip-add" -- $C --dry-run vip-add dry 192.0.2.42 80
expect 0 "...changed nothing" -- sh -c "! $C vip-list | grep -q '^dry '"
expect 0 "--if-exists vip-del of no VIP" -- $C --if-exists vip-del nosuch
expect 0 "--oneline prints each command's output on one line" -- \
    sh -c "[ \$($C --oneline show -- vip-list | wc -l) = 2 ]"
expect 0 "generic destroy" -- $C destroy VIP chain
expect 0 "...gone" -- sh -c "! $C vip-list | grep -q '^chain '"
# Generic writes bypass the friendly checks (ovslb-ctl(8)): the schema
# bounds each value, and the daemons refuse an incoherent pair as a whole.
expect 1 "set refuses a SYN cookie rate at the SYN meter rate" \
    "syn_cookie_rate" -- $C set syn_cookie_rate=60000 syn_meter_rate=60000
expect 0 "the generic set writes it" -- \
    $C set Cluster . syn_cookie_rate=60000 syn_meter_rate=60000
expect 0 "...as written" "^60000$" -- $C get syn_cookie_rate
expect 0 "generic clear returns to the default" -- \
    $C clear Cluster . syn_cookie_rate syn_meter_rate
expect 0 "...default again" "^10000$" -- $C get syn_cookie_rate

# The database itself refuses what the schema forbids, whoever writes it.
expect 0 "ovsdb-server refuses an invalid mode from a raw client" \
    "constraint violation" -- ovsdb-client transact unix:$TMP/ovslb.sock \
    '["OVSLB",{"op":"update","table":"VIP","where":[],"row":{"mode":"sticky"}}]'

cfg_finish
