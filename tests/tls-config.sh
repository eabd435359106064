#!/bin/sh
# tls-config.sh: TLS to the config service.  A PKI from ovs-pki (two CAs:
# the switch CA signs the server's, ovslb-ctl's and the node's certificates;
# the controller CA signs a rogue client's), an ovsdb-server serving the
# OVSLB database on pssl: only, on loopback.  ovslb-ctl works over ssl:
# with its --private-key/--certificate/--ca-cert and refuses an ssl: remote
# without them; the server refuses a client certificate of another CA and
# the client a server it cannot verify.  Then the real ovslb-controller,
# on a local Open_vSwitch database of its own (no switch, no root), refuses
# an ssl: remote without TLS files in its external_ids, connects once they
# are set, follows a VIP added over ssl:, and follows its files' paths when
# they change.

. "${srcdir:-$(dirname "$0")/..}/tests/config-lib.sh"
cfg_init
cfg_vswitch_schema
for t in ovs-pki ovs-vsctl ovs-appctl; do
    command -v $t >/dev/null 2>&1 || { echo "SKIP: $t not found"; exit 77; }
done
[ -n "$VSCHEMA" ] || { echo "SKIP: no vswitch schema"; exit 77; }

# The PKI.
P=$TMP/pki
pki() {
    (cd "$TMP" && ovs-pki --dir="$P" --log="$TMP/pki.log" "$@") \
        >>"$TMP/pki.out" 2>&1 ||
        { echo "ERROR: ovs-pki $* failed:"; tail -5 "$TMP/pki.out"; exit 99; }
}
pki init
for name in server ctl node; do
    pki -u req+sign $name switch
done
pki -u req+sign rogue controller
CA=$P/switchca/cacert.pem
OTHER_CA=$P/controllerca/cacert.pem

# The config service on pssl: only, on a port the kernel chooses.
ovsdb-tool create "$TMP/ovslb.db" "$SCHEMA" || exit 99
ovsdb-server --detach --no-chdir --pidfile="$TMP/ovslb.pid" \
    --log-file="$TMP/ovslb.log" --unixctl="$TMP/ovslb.ctl" \
    --remote=pssl:0:127.0.0.1 --private-key="$TMP/server-privkey.pem" \
    --certificate="$TMP/server-cert.pem" --ca-cert="$CA" "$TMP/ovslb.db" \
    2>"$TMP/ovslb.stderr" ||
    { echo "ERROR: ovsdb-server did not start: $(tail -5 "$TMP/ovslb.log")";
      exit 99; }
PORT=$(sed -n 's/.*0:127\.0\.0\.1: listening on port \([0-9]*\)$/\1/p' \
       "$TMP/ovslb.log" | head -n 1)
[ -n "$PORT" ] || { echo "ERROR: no port in $TMP/ovslb.log"; exit 99; }
DB=ssl:127.0.0.1:$PORT
echo "# config service on $DB"

SSLCTL="$CTL --db=$DB --timeout=10 --private-key=$TMP/ctl-privkey.pem
        --certificate=$TMP/ctl-cert.pem --ca-cert=$CA"
expect 0 "ovslb-ctl over ssl: init" -- $SSLCTL init
expect 0 "... lb-node-add" -- $SSLCTL lb-node-add 1 172.16.0.11 10.0.0.11
expect 0 "... server-add" -- $SSLCTL server-add 101 10.0.0.101
expect 0 "... vip-add" -- $SSLCTL vip-add web 192.0.2.10 80
expect 0 "... vip-server-add" -- $SSLCTL vip-server-add web 101
expect 0 "... show has what it added" 'address: 192\.0\.2\.10' -- \
    $SSLCTL show

expect 1 "ovslb-ctl refuses an ssl: remote without TLS options" \
    "$DB: an ssl: remote needs --private-key, --certificate and --ca-cert \(PEM files; missing: --private-key --certificate --ca-cert\)" -- \
    $CTL --db=$DB show
expect 1 "... and names the one missing" \
    "missing: --ca-cert\)" -- \
    $CTL --db=$DB -p "$TMP/ctl-privkey.pem" -c "$TMP/ctl-cert.pem" show
expect 1 "... also from OVSLB_DB" "an ssl: remote needs" -- \
    env OVSLB_DB="unix:$TMP/none.sock,$DB" $CTL show
expect 4 "ovslb-ctl with a key file that is not there says so" \
    "database connection failed \(Protocol not available\); the TLS private key, certificate or CA certificate could not be used" -- \
    $CTL --db=$DB --timeout=10 -p "$TMP/missing.pem" \
    -c "$TMP/ctl-cert.pem" -C "$CA" show
expect 4 "the server refuses a client certificate of another CA" \
    "database connection failed .*if the TLS handshake failed" -- \
    $CTL --db=$DB --timeout=10 -p "$TMP/rogue-privkey.pem" \
    -c "$TMP/rogue-cert.pem" -C "$CA" vip-add rogue 192.0.2.66 80
expect 1 "... which changed nothing" -- \
    sh -c "$SSLCTL show | grep -q rogue"
expect 4 "ovslb-ctl refuses a server its CA did not sign" \
    "database connection failed \(Protocol error\)" -- \
    $CTL --db=$DB --timeout=10 -p "$TMP/ctl-privkey.pem" \
    -c "$TMP/ctl-cert.pem" -C "$OTHER_CA" show

# The controller of LB node 1, on a local database with its settings.
ovsdb-tool create "$TMP/lb.db" "$VSCHEMA" || exit 99
cfg_serve lb
VS="ovs-vsctl --no-wait --db=unix:$TMP/lb.sock"
$VS init || exit 99
$VS set Open_vSwitch . external_ids:ovslb-node-id=1 \
    external_ids:ovslb-role=lb external_ids:ovslb-bridge=br-int \
    external_ids:ovslb-north-port=north0 \
    external_ids:ovslb-config="$DB" \
    external_ids:ovslb-store="$TMP/lb-store.db" \
    external_ids:ovslb-metrics-file="$TMP/lb.prom" || exit 99
controller/ovslb-controller --db="unix:$TMP/lb.sock" \
    --unixctl="$TMP/lb-d.ctl" --pidfile="$TMP/lb-d.pid" --detach \
    --no-chdir --log-file="$TMP/lb-d.log" -vconsole:off ||
    { echo "ERROR: ovslb-controller did not start"; exit 99; }

# show_has PATTERN: within 20 s (a reconnection may wait for the back-off,
# 8 s at most), the controller's ovslb/show has a line matching the
# extended regular expression PATTERN; prints the output.
show_has() {
    i=0
    while [ $i -lt 200 ]; do
        out=$(ovs-appctl -t "$TMP/lb-d.ctl" ovslb/show 2>&1)
        if echo "$out" | grep -Eq -- "$1"; then
            echo "$out"
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    echo "$out"
    return 1
}
show_lacks() {   # show_lacks PATTERN: ovslb/show has no such line now
    ! ovs-appctl -t "$TMP/lb-d.ctl" ovslb/show | grep -Eq -- "$1"
}

expect 0 "an ssl: remote without TLS files is refused, shown in ovslb/show" \
    "settings: external_ids:ovslb-config=$DB names an ssl: remote, but the node has no TLS files" -- \
    show_has "^settings: "
expect 0 "... and logged" "node settings: .*names an ssl: remote" -- \
    cat "$TMP/lb-d.log"
expect 1 "... and no connection is tried" -- \
    grep -q "ssl:127.0.0.1:$PORT: connecting" "$TMP/lb-d.log"

$VS set Open_vSwitch . \
    external_ids:ovslb-ssl-private-key="$TMP/key-link.pem" \
    external_ids:ovslb-ssl-certificate="$TMP/node-cert.pem" \
    external_ids:ovslb-ssl-ca-cert="$CA" || exit 99
expect 0 "a private key that is not there is shown" \
    "tls: cannot read the private key $TMP/key-link.pem \(No such file or directory\)" -- \
    show_has "^tls: cannot read"
expect 0 "... and the connection's failure too" \
    "config service: $DB, not connected \(0 connections\), last error: Protocol not available \(no usable TLS" -- \
    show_has "last error"

ln -s "$TMP/node-privkey.pem" "$TMP/key-link.pem"
expect 0 "once it is there, the controller connects over ssl:" \
    "config service: $DB, connected \(1 connections\)" -- \
    show_has "^config service: .*, connected"
expect 0 "... and shows its TLS files" \
    "tls: private key $TMP/key-link.pem, certificate $TMP/node-cert.pem, CA certificate $CA \(2 loads\)" -- \
    show_has "^tls: private key"
expect 0 "... without an error" -- show_lacks "^tls: cannot"
expect 0 "... and uses the configuration it read" \
    "meters: SYN 50000/s" -- show_has "^meters: "

# A change over ssl: reaches the controller.
expect 0 "the VIP added over ssl: is in the controller's metrics" -- \
    cfg_wait_grep "$TMP/lb.prom" '^ovslb_lb_vip_servers\{node="1",role="lb",vip="web"\} 1$'
expect 0 "ovslb-ctl over ssl: another VIP" -- \
    $SSLCTL vip-add web2 192.0.2.11 80
expect 0 "... and a meter" -- $SSLCTL set syn_meter_rate=60000
expect 0 "the controller follows them live" "meters: SYN 60000/s" -- \
    show_has "^meters: SYN 60000/s"
expect 0 "... the new VIP too" -- \
    cfg_wait_grep "$TMP/lb.prom" '^ovslb_lb_vip_servers\{node="1",role="lb",vip="web2"\} 0$'

# Paths changed at runtime take effect: a CA that did not sign the
# server's certificate, then the right one again.
$VS set Open_vSwitch . external_ids:ovslb-ssl-ca-cert="$OTHER_CA" || exit 99
expect 0 "another CA: the controller reconnects and cannot verify the server" \
    "not connected \([0-9]+ connections\), last error: Protocol error" -- \
    show_has "^config service: .*not connected.*Protocol error"
expect 0 "... logged" "certificate verify failed" -- cat "$TMP/lb-d.log"
$VS set Open_vSwitch . external_ids:ovslb-ssl-ca-cert="$CA" || exit 99
expect 0 "the right CA again: connected again" \
    "config service: $DB, connected \(2 connections\)" -- \
    show_has "^config service: .*, connected"

# A relative path is refused.
$VS set Open_vSwitch . external_ids:ovslb-ssl-ca-cert=cacert.pem || exit 99
expect 0 "a relative path is refused with a clear error" \
    "external_ids:ovslb-ssl-ca-cert=cacert.pem is not an absolute path" -- \
    show_has "^settings: "

cfg_finish
