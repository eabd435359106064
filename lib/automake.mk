# libovslb: the protocol cores (pure) and the drivers shared by the daemons.
# Not installed.

noinst_LTLIBRARIES += lib/libovslb.la
lib_libovslb_la_SOURCES = \
	lib/bgp-speaker.c lib/bgp-speaker.h \
	lib/cluster-config.c lib/cluster-config.h \
	lib/ctl-msg.c lib/ctl-msg.h \
	lib/ctl-sock.c lib/ctl-sock.h \
	lib/deadline-queue.c lib/deadline-queue.h \
	lib/event-rate.c lib/event-rate.h \
	lib/flow-key.c lib/flow-key.h \
	lib/health.c lib/health.h \
	lib/maglev.c lib/maglev.h \
	lib/metrics.c lib/metrics.h \
	lib/node-daemon.c lib/node-daemon.h \
	lib/node-settings.c lib/node-settings.h \
	lib/ofctrl.c lib/ofctrl.h \
	lib/privileges.c lib/privileges.h \
	lib/ring.c lib/ring.h \
	lib/selection.c lib/selection.h \
	lib/seq-xlate.c lib/seq-xlate.h \
	lib/store.c lib/store.h \
	lib/switch-conntrack.c lib/switch-conntrack.h \
	lib/syn-cookie.c lib/syn-cookie.h \
	lib/tcp-seg.c lib/tcp-seg.h \
	lib/tls-files.c lib/tls-files.h
lib_libovslb_la_LIBADD = $(OVS_LIBS) $(SQLITE3_LIBS) $(PCAP_LIBS) \
	$(LIBCRYPTO_LIBS) $(CAPNG_LDADD)
