#!/bin/bash
# config-ssl.sh: TLS to the config service (ovslb-lab with
# OVSLB_LAB_CONFIG_SSL=1: a PKI from ovs-pki in the lab's state directory,
# the config service serving pssl: on the fabric from the fab namespace,
# every node's daemon on an ssl: remote with its own key and certificate in
# its external_ids, ovslb-ctl over ssl: with the lab's).  Every daemon must
# be connected over ssl:, changes made with ovslb-ctl over ssl: must reach
# the nodes and steer traffic, and a client certificate of another CA must
# be refused.  Root only; run by 'make check-system'.
set -u
srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/system/system-lib.sh
. "$srcdir/tests/system/system-lib.sh"

sys_init
command -v ovs-pki >/dev/null 2>&1 || sys_skip "ovs-pki not installed"
D=$OVSLB_LAB_DIR
VIP=203.0.113.10
REMOTE=ssl:10.2.0.1:6641

show() {   # show NODE: ovslb/show of NODE's daemon
    local prog=ovslb-controller
    case $1 in srv*) prog=ovslb-agent ;; esac
    ovs-appctl --timeout=5 -t "$D/$1/$prog.ctl" ovslb/show 2>/dev/null
}
all_on_ssl() {   # every daemon connected to the config service over ssl:
    local node
    for node in lb1 lb2 lb3 srv1 srv2; do
        show "$node" | grep -q "^config service: $REMOTE, connected" ||
            return 1
    done
}
own_tls_files() {   # every daemon shows its own key and certificate
    local node
    for node in lb1 lb2 lb3 srv1 srv2; do
        show "$node" | grep -q "^tls: private key $D/pki/$node-privkey.pem, certificate $D/pki/$node-cert.pem, CA certificate $D/pki/ca/switchca/cacert.pem" ||
            return 1
    done
}
web2_servers_are() {   # web2_servers_are LIST: on every LB node
    local k
    for k in 1 2 3; do
        show "lb$k" | grep -q "^VIP web2 203.0.113.11:80 up .*servers: $1\$" ||
            return 1
    done
}
has_vip() {   # has_vip LINE: every LB node shows a VIP line starting so
    local k
    for k in 1 2 3; do
        show "lb$k" | grep -q "^VIP $1" || return 1
    done
}
only_srv1_answers() {   # 20 requests to web2, every one answered by srv1
    local body
    for _ in $(seq 20); do
        body=$(in_node cli curl -s -m 3 http://203.0.113.11/) || return 1
        case $body in *srv1*) ;; *) echo "answered: $body"; return 1 ;; esac
    done
}
tls_errors() {   # the daemons' complaints about their TLS files
    cat "$D"/lb*/ovslb-controller.log "$D"/srv*/ovslb-agent.log |
        grep 'TLS to the config service: cannot'
}
rogue_ctl() {   # ovslb-ctl with the certificate of another CA: must fail
    ! ip netns exec ovslb-fab ovslb-ctl --db="$REMOTE" --timeout=10 \
        --private-key="$ROGUE/rogue-privkey.pem" \
        --certificate="$ROGUE/rogue-cert.pem" \
        --ca-cert="$D/pki/ca/switchca/cacert.pem" "$@"
}
no_rogue_vip() {
    ! octl show | grep -q rogue
}
echo_answers() {   # a line sent to 203.0.113.11:9000 comes back
    # shellcheck disable=SC2016
    in_node cli timeout 10 bash -c '
        exec 3<>/dev/tcp/203.0.113.11/9000 || exit 1
        echo "over ssl: $$" >&3
        read -r -t 5 line <&3 && [ "$line" = "over ssl: $$" ]'
}

check "lab up with TLS to the config service (3 LB nodes, 2 server nodes)" \
    env OVSLB_LAB_CONFIG_SSL=1 "$LAB" up --lb 3 --servers 2
[ "$SYS_FAILED" = 0 ] || sys_error "the lab did not come up"
check "every daemon is connected to the config service over $REMOTE" \
    wait_for 20000 all_on_ssl
check "every daemon shows its own key and certificate" own_tls_files
check "no daemon reports a TLS file it cannot read" eval '! tls_errors' 
check "every LB node's ring has 3 nodes" wait_for 10000 rings_are 3 1 2 3
check "edge routes the VIP over 3 LB nodes" wait_for 10000 hops_are 3
check_out "100 requests over new connections, all answered" \
    'latency: .*(100 requests)' lab demo --requests 100

# Changes over ssl: reach the nodes and steer the traffic.
check_out "ovslb-ctl over ssl: (ovslb-lab ctl) shows the lab's VIPs" \
    '^ *vip web2$' octl show
check "ovslb-ctl over ssl: takes server 102 out of web2 (--wait=all)" \
    octl --wait=all vip-server-del web2 102
check "every LB node follows: web2 has server 101 only" \
    web2_servers_are "101(w1)"
check "web2 is answered by srv1 only" only_srv1_answers
check "ovslb-ctl over ssl: puts server 102 back (--wait=all)" \
    octl --wait=all vip-server-add web2 102
check "every LB node follows: web2 has servers 101 and 102" \
    web2_servers_are "101(w1) 102(w1)"
check "ovslb-ctl over ssl: a new VIP (echo on 203.0.113.11:9000)" \
    octl vip-add echo2 203.0.113.11 9000
check "... server 101" octl vip-server-add echo2 101
check "... server 102 (--wait=all)" octl --wait=all vip-server-add echo2 102
check "every LB node has the new VIP" \
    has_vip "echo2 203.0.113.11:9000 up"
check "the new VIP carries traffic" wait_for 10000 echo_answers

# A client certificate signed by another CA (ovs-pki's controller CA) is
# refused by the config service.
ROGUE=$(mktemp -d /tmp/ovslb-rogue.XXXXXX)
check "a certificate of ovs-pki's other CA (controller)" \
    bash -c "cd '$ROGUE' && ovs-pki --dir='$D/pki/ca' --log='$ROGUE/ovs-pki.log' --force -u req+sign rogue controller"
check_out "the config service refuses it" 'database connection failed' \
    rogue_ctl vip-add rogue 192.0.2.66 80
check "... which changed nothing" no_rogue_vip
rm -rf "$ROGUE"

check "lab down" lab down
sys_finish
