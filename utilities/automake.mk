# utilities: operator tools and the developer entry points.

bin_SCRIPTS += utilities/ovslb-lab
EXTRA_DIST += utilities/ovslb-bootstrap utilities/ovslb-dev utilities/ovslb-lab

# ovslb-db-prepare: creates or converts the config service's database
# before its ovsdb-server starts (ExecStartPre of debian/'s ovslb-db.service).
dist_pkglibexec_SCRIPTS = utilities/ovslb-db-prepare

# ovslb-ctl: the config service's CLI (ovslb-ctl(8)).  It needs only the
# IDL and cluster-config's shared tables, not the rest of libovslb, so it is
# built from those sources (its own objects, through its own CPPFLAGS).
bin_PROGRAMS += utilities/ovslb-ctl
utilities_ovslb_ctl_SOURCES = utilities/ovslb-ctl.c \
	lib/cluster-config.c lib/cluster-config.h
nodist_utilities_ovslb_ctl_SOURCES = lib/ovslb-idl.c lib/ovslb-idl.h
utilities_ovslb_ctl_CPPFLAGS = $(AM_CPPFLAGS)
utilities_ovslb_ctl_LDADD = $(OVS_LIBS)
dist_man_MANS += utilities/ovslb-ctl.8
$(utilities_ovslb_ctl_OBJECTS): lib/ovslb-idl.h
