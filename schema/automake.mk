# schema: the per-node SQLite schemas and the OVSLB OVSDB schema of the
# config service, with the C IDL generated from it by OVS's ovsdb-idlc.

dist_pkgdata_DATA = schema/lb-node.sql schema/server-node.sql \
	schema/ovslb.ovsschema
EXTRA_DIST += schema/ovslb-idl.ann

# The schema's "cksum" must match its content: a change to the schema must
# come with a new version and checksum.  The checksum is POSIX cksum(1) of
# the schema without its "cksum" line (as OVS computes it); the message names
# the right value.
schema/ovslb.ovsschema.stamp: schema/ovslb.ovsschema
	$(AM_V_GEN)sum=`sed '/"cksum": *"[0-9][0-9]* [0-9][0-9]*",/d' \
	    $(srcdir)/schema/ovslb.ovsschema | cksum` && \
	expected=`sed -n 's/.*"cksum": *"\(.*\)".*/\1/p' \
	    $(srcdir)/schema/ovslb.ovsschema` && \
	if test "X$$sum" != "X$$expected"; then \
	    echo >&2 "$(srcdir)/schema/ovslb.ovsschema: \"cksum\" is" \
	        "\"$$expected\" but the schema's checksum is \"$$sum\":" \
	        "raise \"version\" and set \"cksum\" to \"$$sum\""; \
	    exit 1; \
	fi && \
	$(MKDIR_P) schema && touch $@
BUILT_SOURCES += schema/ovslb.ovsschema.stamp
CLEANFILES += schema/ovslb.ovsschema.stamp

# The C IDL, generated at build time (into the build directory) with the
# ovsdb-idlc of the OVS source tree, run by the system's Python 3 (or the one
# configure found) with OVS's python package from that tree.
OVS_PYTHON_RUN = py=/usr/bin/python3; test -x $$py || py='$(PYTHON3)'; \
	PYTHONPATH=$(OVS_SRCDIR)/python$${PYTHONPATH:+:$$PYTHONPATH} $$py
OVSDB_IDLC_RUN = $(OVS_PYTHON_RUN) $(OVSDB_IDLC)
lib/ovslb-idl.ovsidl: schema/ovslb.ovsschema schema/ovslb-idl.ann \
		schema/ovslb.ovsschema.stamp
	@$(MKDIR_P) lib
	$(AM_V_GEN)$(OVSDB_IDLC_RUN) annotate $(srcdir)/schema/ovslb.ovsschema \
	    $(srcdir)/schema/ovslb-idl.ann > $@.tmp && mv $@.tmp $@
lib/ovslb-idl.h: lib/ovslb-idl.ovsidl
	$(AM_V_GEN)$(OVSDB_IDLC_RUN) c-idl-header lib/ovslb-idl.ovsidl \
	    > $@.tmp && mv $@.tmp $@
lib/ovslb-idl.c: lib/ovslb-idl.ovsidl
	$(AM_V_GEN)$(OVSDB_IDLC_RUN) c-idl-source lib/ovslb-idl.ovsidl \
	    > $@.tmp && mv $@.tmp $@
OVSLB_IDL_BUILT = lib/ovslb-idl.ovsidl lib/ovslb-idl.h lib/ovslb-idl.c
BUILT_SOURCES += $(OVSLB_IDL_BUILT)
CLEANFILES += $(OVSLB_IDL_BUILT)
nodist_lib_libovslb_la_SOURCES = lib/ovslb-idl.c lib/ovslb-idl.h
# Without dependency tracking, what includes the generated header says so
# (the programs built from lib/cluster-config.c do the same).
lib/cluster-config.lo: lib/ovslb-idl.h

# ovslb(5): the database's manual, rendered at build time from its XML
# description (schema/ovslb.xml) by the ovsdb-doc of the OVS source tree, as
# OVS renders ovs-vswitchd.conf.db(5).  ovsdb-doc fails on a table or column
# of the schema that the XML does not describe.  Its output is adjusted: the
# header names ovslb, not Open vSwitch, and indents get a groff unit ('1in'
# is read as '1i' followed by garbage, which groff warns about).
OVSDB_DOC = $(OVS_SRCDIR)/ovsdb/ovsdb-doc
EXTRA_DIST += schema/ovslb.xml
man_MANS += schema/ovslb.5
CLEANFILES += schema/ovslb.5
schema/ovslb.5: schema/ovslb.xml schema/ovslb.ovsschema
	@$(MKDIR_P) schema
	$(AM_V_GEN)$(OVS_PYTHON_RUN) $(OVSDB_DOC) --version=$(VERSION) \
	    $(srcdir)/schema/ovslb.ovsschema $(srcdir)/schema/ovslb.xml \
	    > $@.tmp && \
	sed -e '/^\.TH /s/"Open vSwitch \([^"]*\)" "Open vSwitch Manual"/"ovslb \1" "ovslb Manual"/' \
	    -e '/^\./s/\([0-9]\)in$$/\1i/' $@.tmp > $@.tmp2 && \
	rm $@.tmp && mv $@.tmp2 $@
