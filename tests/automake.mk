# tests: Check suites of the lib/ modules (unit), the OVS configuration
# agreement check, and later the dummy-datapath and namespace system tests.

TEST_LDADD = lib/libovslb.la $(OVS_LIBS) $(CHECK_LIBS) $(SQLITE3_LIBS) \
	$(PCAP_LIBS) $(LIBCRYPTO_LIBS)
TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)

UNIT_TESTS += \
	tests/check-ctl-msg \
	tests/check-flow-key \
	tests/check-maglev \
	tests/check-ofctrl \
	tests/check-ring \
	tests/check-selection \
	tests/check-seq-xlate \
	tests/check-store \
	tests/check-syn-cookie \
	tests/check-tcp-seg
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS) tests/ovs-config-agree.sh
EXTRA_DIST += tests/ovs-config-agree.sh tests/atlocal.in

tests_check_ctl_msg_SOURCES = tests/check-ctl-msg.c
tests_check_ctl_msg_CFLAGS = $(TEST_CFLAGS)
tests_check_ctl_msg_LDADD = $(TEST_LDADD)
tests_check_flow_key_SOURCES = tests/check-flow-key.c
tests_check_flow_key_CFLAGS = $(TEST_CFLAGS)
tests_check_flow_key_LDADD = $(TEST_LDADD)
tests_check_maglev_SOURCES = tests/check-maglev.c
tests_check_maglev_CFLAGS = $(TEST_CFLAGS)
tests_check_maglev_LDADD = $(TEST_LDADD)
tests_check_ring_SOURCES = tests/check-ring.c
tests_check_ring_CFLAGS = $(TEST_CFLAGS)
tests_check_ring_LDADD = $(TEST_LDADD)
tests_check_selection_SOURCES = tests/check-selection.c
tests_check_selection_CFLAGS = $(TEST_CFLAGS)
tests_check_selection_LDADD = $(TEST_LDADD)
tests_check_seq_xlate_SOURCES = tests/check-seq-xlate.c
tests_check_seq_xlate_CFLAGS = $(TEST_CFLAGS)
tests_check_seq_xlate_LDADD = $(TEST_LDADD)
tests_check_ofctrl_SOURCES = tests/check-ofctrl.c
tests_check_ofctrl_CFLAGS = $(TEST_CFLAGS)
tests_check_ofctrl_LDADD = $(TEST_LDADD)
tests_check_syn_cookie_SOURCES = tests/check-syn-cookie.c
tests_check_syn_cookie_CFLAGS = $(TEST_CFLAGS)
tests_check_syn_cookie_LDADD = $(TEST_LDADD)
tests_check_store_SOURCES = tests/check-store.c
tests_check_store_CFLAGS = $(TEST_CFLAGS)
tests_check_store_LDADD = $(TEST_LDADD)
tests_check_tcp_seg_SOURCES = tests/check-tcp-seg.c
tests_check_tcp_seg_CFLAGS = $(TEST_CFLAGS)
tests_check_tcp_seg_LDADD = $(TEST_LDADD)

# The unit suites alone (the ASan/UBSan build runs these).
check-unit:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(UNIT_TESTS)'
.PHONY: check-unit

# System tests: the namespace lab (LAB.md).  Root only; 'make check-system'.
SYSTEM_TESTS = tests/system/lab-topology.sh
EXTRA_DIST += $(SYSTEM_TESTS) tests/system/system-lib.sh
check-system: all
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(SYSTEM_TESTS)'
.PHONY: check-system
