#!/bin/sh
# ovs-config-agree.sh: ovslb's config.h must agree with the config.h that
# libopenvswitch was built with on every macro that OVS's headers test,
# since those macros change the layout of OVS's structures and the choice of
# its inline functions.  Fails naming each macro that differs.
set -e
. ./tests/atlocal

ours=config.h
theirs=$OVS_BUILDDIR/config.h
[ -f "$ours" ] || { echo "no $ours (run from the build directory)"; exit 99; }

# Macros that OVS's installed-style headers and lib/ headers test.
used=$(cat "$OVS_SRCDIR"/include/openvswitch/*.h "$OVS_SRCDIR"/lib/*.h \
           "$OVS_BUILDDIR"/include/openvswitch/*.h 2>/dev/null |
       grep -hoE '^[[:space:]]*#[[:space:]]*(if|ifdef|ifndef|elif).*' |
       grep -oE '\b(HAVE|USE|ATOMIC|DPDK|OPENSSL)_[A-Z0-9_]+' | sort -u)

value() {
    sed -n "s/^#define $1\( \(.*\)\)\{0,1\}\$/=\2/p" "$2" | head -1
}

bad=0
checked=0
for m in $used; do
    a=$(value "$m" "$ours")
    b=$(value "$m" "$theirs")
    checked=$((checked + 1))
    if [ "$a" != "$b" ]; then
        echo "MISMATCH $m: ovslb '${a#=}' (${a:+defined}${a:-undefined}), OVS '${b#=}' (${b:+defined}${b:-undefined})"
        bad=$((bad + 1))
    fi
done
echo "ovs-config-agree: $checked macros tested by OVS headers, $bad differ"
[ "$bad" -eq 0 ]
