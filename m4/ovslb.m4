# ovslb.m4: configure macros of ovslb.                      -*- autoconf -*-

dnl OVSLB_CHECK_OVS
dnl
dnl Locates a configured and built Open vSwitch source tree to compile
dnl against.  --with-ovs-source names the source tree, --with-ovs-build its
dnl build directory (the source tree by default).  Without either, the
dnl build-aux/ovs-prepare script unpacks and builds the tarball of Debian's
dnl openvswitch-source package once, into a cache it reuses.
AC_DEFUN([OVSLB_CHECK_OVS], [
  AC_ARG_WITH([ovs-source],
    [AS_HELP_STRING([--with-ovs-source=DIR],
                    [Open vSwitch source tree to build against
                     (default: prepared from Debian's openvswitch-source)])],
    [], [with_ovs_source=no])
  AC_ARG_WITH([ovs-build],
    [AS_HELP_STRING([--with-ovs-build=DIR],
                    [build directory of that tree, if not the tree itself])],
    [], [with_ovs_build=no])

  AC_MSG_CHECKING([for an Open vSwitch source tree])
  if test "$with_ovs_source" = no || test "$with_ovs_source" = yes; then
    AC_MSG_RESULT([preparing one with build-aux/ovs-prepare])
    OVS_SRCDIR=`$srcdir/build-aux/ovs-prepare` ||
      AC_MSG_ERROR([could not prepare an Open vSwitch tree; see above])
  else
    OVS_SRCDIR=`cd "$with_ovs_source" 2>/dev/null && pwd` ||
      AC_MSG_ERROR([--with-ovs-source: $with_ovs_source is not a directory])
    AC_MSG_RESULT([$OVS_SRCDIR])
  fi
  if test "$with_ovs_build" = no || test "$with_ovs_build" = yes; then
    OVS_BUILDDIR=$OVS_SRCDIR
  else
    OVS_BUILDDIR=`cd "$with_ovs_build" 2>/dev/null && pwd` ||
      AC_MSG_ERROR([--with-ovs-build: $with_ovs_build is not a directory])
  fi

  test -f "$OVS_SRCDIR/include/openvswitch/hmap.h" ||
    AC_MSG_ERROR([$OVS_SRCDIR is not an Open vSwitch source tree])
  test -f "$OVS_BUILDDIR/config.h" ||
    AC_MSG_ERROR([$OVS_BUILDDIR is not configured: run its ./configure])
  test -f "$OVS_BUILDDIR/lib/libopenvswitch.la" ||
    AC_MSG_ERROR([$OVS_BUILDDIR has no lib/libopenvswitch.la: run
      'make lib/libopenvswitch.la ovsdb/ovsdb-idlc' there])

  AC_MSG_CHECKING([the Open vSwitch version])
  OVS_VERSION=`sed -n 's/^#define PACKAGE_VERSION "\(.*\)"/\1/p' \
                   "$OVS_BUILDDIR/config.h"`
  AC_MSG_RESULT([$OVS_VERSION])
  case $OVS_VERSION in
    3.*) ;;
    *) AC_MSG_ERROR([ovslb needs Open vSwitch 3.x, found $OVS_VERSION]) ;;
  esac
  AC_PATH_PROG([OVS_VSWITCHD], [ovs-vswitchd], [],
               [$PATH:/usr/sbin:/usr/local/sbin])
  if test -n "$OVS_VSWITCHD"; then
    installed=`$OVS_VSWITCHD --version | sed -n '1s/.* //p'`
    if test "$installed" != "$OVS_VERSION"; then
      AC_MSG_WARN([the installed ovs-vswitchd is $installed but the library
        is built from $OVS_VERSION: OpenFlow and OVSDB are compatible, but
        prefer the same version])
    fi
  fi

  OVS_CPPFLAGS="-I$OVS_SRCDIR/include -I$OVS_BUILDDIR/include"
  OVS_CPPFLAGS="$OVS_CPPFLAGS -I$OVS_SRCDIR/lib -I$OVS_BUILDDIR/lib"
  OVS_LIBS="$OVS_BUILDDIR/lib/libopenvswitch.la"
  OVSDB_IDLC="$OVS_BUILDDIR/ovsdb/ovsdb-idlc"
  test -f "$OVSDB_IDLC" || OVSDB_IDLC="$OVS_SRCDIR/ovsdb/ovsdb-idlc"
  AC_SUBST([OVS_SRCDIR])
  AC_SUBST([OVS_BUILDDIR])
  AC_SUBST([OVS_VERSION])
  AC_SUBST([OVS_CPPFLAGS])
  AC_SUBST([OVS_LIBS])
  AC_SUBST([OVSDB_IDLC])
])

dnl OVSLB_CHECK_LIBS
dnl
dnl SQLite 3, libpcap, Check; OpenSSL's libcrypto comes with OVS_CHECK_OPENSSL.
AC_DEFUN([OVSLB_CHECK_LIBS], [
  PKG_PROG_PKG_CONFIG
  PKG_CHECK_MODULES([SQLITE3], [sqlite3 >= 3.31], [],
    [AC_MSG_ERROR([SQLite 3 development files not found (libsqlite3-dev)])])
  PKG_CHECK_MODULES([PCAP], [libpcap >= 1.9], [],
    [AC_MSG_ERROR([libpcap development files not found (libpcap-dev)])])
  PKG_CHECK_MODULES([CHECK], [check >= 0.15], [],
    [AC_MSG_ERROR([the Check unit test framework was not found (check)])])
  PKG_CHECK_MODULES([LIBCRYPTO], [libcrypto >= 1.1], [],
    [AC_MSG_ERROR([OpenSSL's libcrypto was not found (libssl-dev)])])
  if test "$HAVE_OPENSSL" != yes; then
    AC_MSG_ERROR([ovslb authenticates control messages with OpenSSL])
  fi
])

dnl OVSLB_ENABLE_WARNINGS
dnl
dnl -Wall -Wextra always; --enable-Werror turns warnings into errors (CI).
AC_DEFUN([OVSLB_ENABLE_WARNINGS], [
  AC_ARG_ENABLE([Werror],
    [AS_HELP_STRING([--enable-Werror], [treat compiler warnings as errors])],
    [], [enable_Werror=no])
  WARNING_CFLAGS="-Wall -Wextra -Wno-sign-compare -Wpointer-arith"
  WARNING_CFLAGS="$WARNING_CFLAGS -Wformat -Wformat-security"
  WARNING_CFLAGS="$WARNING_CFLAGS -Wstrict-prototypes -Wold-style-definition"
  WARNING_CFLAGS="$WARNING_CFLAGS -Wmissing-prototypes -Wshadow"
  WARNING_CFLAGS="$WARNING_CFLAGS -fno-strict-aliasing"
  if test "$enable_Werror" = yes; then
    WARNING_CFLAGS="$WARNING_CFLAGS -Werror"
  fi
  AC_SUBST([WARNING_CFLAGS])
])
