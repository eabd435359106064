#!/bin/sh
# boot.sh: generate configure and Makefile.in from a git checkout.
#
# ovslb's configure runs the same configuration checks as Open vSwitch's own
# (OVS's headers depend on them), using the macros of the OVS source tree:
# build-aux/ovs-prepare unpacks that tree and aclocal reads its macros from
# there, so that they are expanded into aclocal.m4.
set -e
cd "$(dirname "$0")"
ovs=$(build-aux/ovs-prepare --unpack-only)
# OVS keeps its configuration macros in acinclude.m4 and m4/*.m4; link them
# into m4/ under names aclocal scans (the links are not in git; automake
# puts the files themselves in the distribution tarball).
ln -sf "$ovs/acinclude.m4" m4/ovs-acinclude.m4
for f in openvswitch.m4 compat.m4 ax_check_openssl.m4 \
         ax_func_posix_memalign.m4; do
    ln -sf "$ovs/m4/$f" "m4/$f"
done
autoreconf --install --force
