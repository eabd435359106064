# tests: Check suites of the lib/ modules (unit), the OVS configuration
# agreement check, and later the dummy-datapath and namespace system tests.

TEST_LDADD = lib/libovslb.la $(OVS_LIBS) $(CHECK_LIBS) $(SQLITE3_LIBS) \
	$(PCAP_LIBS) $(LIBCRYPTO_LIBS)
TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)

UNIT_TESTS += \
	tests/check-bgp-speaker \
	tests/check-ctl-msg \
	tests/check-ctl-sock \
	tests/check-deadline-queue \
	tests/check-entry-key \
	tests/check-event-rate \
	tests/check-flow-key \
	tests/check-health \
	tests/check-lbnode \
	tests/check-maglev \
	tests/check-metrics \
	tests/check-ofctrl \
	tests/check-ring \
	tests/check-selection \
	tests/check-seq-xlate \
	tests/check-server-load \
	tests/check-store \
	tests/check-syn-cookie \
	tests/check-tcp-seg \
	tests/check-tls-files
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS) tests/ovs-config-agree.sh
EXTRA_DIST += tests/ovs-config-agree.sh tests/atlocal.in

tests_check_bgp_speaker_SOURCES = tests/check-bgp-speaker.c
tests_check_bgp_speaker_CFLAGS = $(TEST_CFLAGS)
tests_check_bgp_speaker_LDADD = $(TEST_LDADD)
tests_check_tls_files_SOURCES = tests/check-tls-files.c
tests_check_tls_files_CFLAGS = $(TEST_CFLAGS)
tests_check_tls_files_LDADD = $(TEST_LDADD)
tests_check_ctl_msg_SOURCES = tests/check-ctl-msg.c
tests_check_ctl_msg_CFLAGS = $(TEST_CFLAGS)
tests_check_ctl_msg_LDADD = $(TEST_LDADD)
tests_check_ctl_sock_SOURCES = tests/check-ctl-sock.c
tests_check_ctl_sock_CFLAGS = $(TEST_CFLAGS)
tests_check_ctl_sock_LDADD = $(TEST_LDADD)
tests_check_deadline_queue_SOURCES = tests/check-deadline-queue.c
tests_check_deadline_queue_CFLAGS = $(TEST_CFLAGS)
tests_check_deadline_queue_LDADD = $(TEST_LDADD)
tests_check_entry_key_SOURCES = tests/check-entry-key.c
tests_check_entry_key_CFLAGS = $(TEST_CFLAGS)
tests_check_entry_key_LDADD = controller/libcontroller.la $(TEST_LDADD)
tests_check_event_rate_SOURCES = tests/check-event-rate.c
tests_check_event_rate_CFLAGS = $(TEST_CFLAGS)
tests_check_event_rate_LDADD = $(TEST_LDADD)
tests_check_flow_key_SOURCES = tests/check-flow-key.c
tests_check_flow_key_CFLAGS = $(TEST_CFLAGS)
tests_check_flow_key_LDADD = $(TEST_LDADD)
tests_check_server_load_SOURCES = tests/check-server-load.c
tests_check_server_load_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/controller
tests_check_server_load_LDADD = controller/libcontroller.la $(TEST_LDADD)
tests_check_lbnode_SOURCES = tests/check-lbnode.c tests/exposition.c \
	tests/exposition.h tests/sim/sim-bus.c tests/sim/sim-bus.h
tests_check_lbnode_CFLAGS = $(TEST_CFLAGS)
tests_check_lbnode_LDADD = controller/libcontroller.la $(TEST_LDADD)
tests_check_health_SOURCES = tests/check-health.c tests/exposition.c \
	tests/exposition.h
tests_check_health_CFLAGS = $(TEST_CFLAGS)
tests_check_health_LDADD = $(TEST_LDADD)
tests_check_maglev_SOURCES = tests/check-maglev.c
tests_check_maglev_CFLAGS = $(TEST_CFLAGS)
tests_check_maglev_LDADD = $(TEST_LDADD)
tests_check_metrics_SOURCES = tests/check-metrics.c tests/exposition.c \
	tests/exposition.h
tests_check_metrics_CFLAGS = $(TEST_CFLAGS)
tests_check_metrics_LDADD = $(TEST_LDADD)
tests_check_ring_SOURCES = tests/check-ring.c
tests_check_ring_CFLAGS = $(TEST_CFLAGS)
tests_check_ring_LDADD = $(TEST_LDADD)
tests_check_selection_SOURCES = tests/check-selection.c
tests_check_selection_CFLAGS = $(TEST_CFLAGS)
tests_check_selection_LDADD = $(TEST_LDADD)
tests_check_seq_xlate_SOURCES = tests/check-seq-xlate.c
tests_check_seq_xlate_CFLAGS = $(TEST_CFLAGS)
tests_check_seq_xlate_LDADD = $(TEST_LDADD)
tests_check_ofctrl_SOURCES = tests/check-ofctrl.c tests/ovs-dummy.c \
	tests/ovs-dummy.h
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

# The metrics file served by the real node exporter (Debian's
# prometheus-node-exporter, on loopback); skips without it.
check_PROGRAMS += tests/metrics-sample
tests_metrics_sample_SOURCES = tests/metrics-sample.c
tests_metrics_sample_LDADD = lib/libovslb.la $(OVS_LIBS)
TESTS += tests/metrics-exporter.sh tests/metrics-daemons.sh
EXTRA_DIST += tests/metrics-exporter.sh tests/metrics-daemons.sh

# The daemons under --user: capabilities kept, files kept from other users
# (root only, skips otherwise).
TESTS += tests/privileges-daemons.sh
EXTRA_DIST += tests/privileges-daemons.sh

# The unit suites alone (the ASan/UBSan build runs these).
check-unit:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(UNIT_TESTS)'
.PHONY: check-unit

# System tests: the namespace lab (LAB.md).  Root only; 'make check-system'.
# They are in TESTS (so that automake writes their rules) but skip unless
# OVSLB_SYSTEM_TESTS is set, which check-system does.
SYSTEM_TESTS = tests/system/lab-topology.sh tests/system/controller-e2e.sh \
	tests/system/agent-limits.sh tests/system/bgp.sh \
	tests/system/lb-failover.sh tests/system/conn-survival.sh \
	tests/system/control-net.sh tests/system/key-rotation.sh \
	tests/system/bounds.sh tests/system/metrics-lab.sh \
	tests/system/syn-flood.sh tests/system/config-ssl.sh \
	tests/system/privileges.sh tests/system/least-conn.sh \
	tests/system/service-health.sh tests/system/nearest.sh \
	tests/system/hash-mode.sh tests/system/owner-gossip.sh \
	tests/system/udp-hash.sh
TESTS += $(SYSTEM_TESTS)
OVSLB_SYSTEM_TESTS =
# Check's own per-test timeout (4 s unless a suite sets one) is there to
# catch hangs, not to time the tests: on a loaded 2-core machine, or under
# AddressSanitizer, a correct test may take longer.
AM_TESTS_ENVIRONMENT = OVSLB_SYSTEM_TESTS='$(OVSLB_SYSTEM_TESTS)'; \
	export OVSLB_SYSTEM_TESTS; \
	CK_DEFAULT_TIMEOUT=300; export CK_DEFAULT_TIMEOUT;
EXTRA_DIST += $(SYSTEM_TESTS) tests/system/system-lib.sh \
	tests/system/streams.py tests/system/keepalive.py \
	tests/system/dns-client.py tests/system/rerun-lib.sh
check-system: all
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(SYSTEM_TESTS)' \
	    OVSLB_SYSTEM_TESTS=1
.PHONY: check-system
# Their names, for utilities/ovslb-dev (which runs again those that failed
# only timing checks: tests/system/rerun-lib.sh).
system-tests-list:
	@echo $(SYSTEM_TESTS)
.PHONY: system-tests-list

# What utilities/ovslb-dev does with failed system tests (rerun-lib.sh),
# on made-up ones: no root, no lab.
TESTS += tests/ovslb-dev-rerun.sh
EXTRA_DIST += tests/ovslb-dev-rerun.sh

# Dummy-datapath tests: a real ovs-vswitchd --enable-dummy, no root.
DP_TESTS = tests/flows-golden.sh tests/lb-ingress.sh tests/lb-hash.sh
TESTS += $(DP_TESTS)
check_PROGRAMS += tests/pipeline-print
tests_pipeline_print_SOURCES = tests/pipeline-print.c
tests_pipeline_print_LDADD = controller/libcontroller.la flows/libflows.la \
	lib/libovslb.la $(OVS_LIBS)
EXTRA_DIST += $(DP_TESTS) tests/ovs-sandbox.sh flows/lb-pipeline.golden

# Fuzzing (clang's libFuzzer): 'make fuzz' builds the targets, one per
# decoder, 'make fuzz-run' runs each for FUZZ_SECONDS (CI's short run) and
# 'make fuzz-long' for FUZZ_LONG_SECONDS, from its checked-in seed corpus
# (tests/corpus/NAME, copied first: new inputs are not written back), and
# print the executions and coverage reached per target (tests/fuzz-run.sh).
# 'make fuzz-corpus' writes the seeds of the targets that read event streams
# again (tests/fuzz-corpus.c).
FUZZ_TARGETS = tests/fuzz-ctl-msg tests/fuzz-tcp-opts tests/fuzz-lbnode \
	tests/fuzz-agent-core tests/fuzz-health tests/fuzz-config \
	tests/fuzz-owners
FUZZ_SECONDS = 20
FUZZ_LONG_SECONDS = 600
FUZZ_CC = clang
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined
FUZZ_BUILD = $(FUZZ_CC) $(FUZZ_CFLAGS) -I. -Ilib -I$(srcdir)/lib -I$(srcdir) \
	-I$(srcdir)/agent -I$(srcdir)/tests \
	$(OVS_CPPFLAGS) -o $@ $^ $(OVS_BUILDDIR)/lib/.libs/libopenvswitch.a \
	`sed -n "s/^dependency_libs='\(.*\)'/\1/p" \
	    $(OVS_BUILDDIR)/lib/libopenvswitch.la | sed 's/[^ ]*\.la//g'`
tests/fuzz-ctl-msg: tests/fuzz-ctl-msg.c lib/ctl-msg.c lib/flow-key.c
	$(AM_V_CCLD)$(FUZZ_BUILD)
tests/fuzz-tcp-opts: tests/fuzz-tcp-opts.c lib/tcp-seg.c lib/seq-xlate.c \
		lib/flow-key.c
	$(AM_V_CCLD)$(FUZZ_BUILD)
FUZZ_STREAM = tests/fuzz-stream.c lib/ctl-msg.c lib/flow-key.c lib/metrics.c
tests/fuzz-lbnode: tests/fuzz-lbnode.c $(FUZZ_STREAM) controller/lbnode.c \
		controller/ingress.c controller/tracker.c controller/lease.c \
		controller/entry-key.c \
		controller/server-load.c \
		lib/tcp-seg.c lib/ring.c lib/selection.c lib/maglev.c \
		lib/syn-cookie.c lib/deadline-queue.c lib/event-rate.c
	$(AM_V_CCLD)$(FUZZ_BUILD)
tests/fuzz-agent-core: tests/fuzz-agent-core.c $(FUZZ_STREAM) \
		agent/agent-core.c agent/tombstones.c lib/deadline-queue.c \
		lib/tcp-seg.c lib/seq-xlate.c lib/ring.c
	$(AM_V_CCLD)$(FUZZ_BUILD)
tests/fuzz-health: tests/fuzz-health.c $(FUZZ_STREAM) lib/health.c \
		lib/tcp-seg.c lib/ring.c
	$(AM_V_CCLD)$(FUZZ_BUILD)
tests/fuzz-owners: tests/fuzz-owners.c $(FUZZ_STREAM) agent/owners.c \
		lib/tcp-seg.c
	$(AM_V_CCLD)$(FUZZ_BUILD)
tests/fuzz-config: tests/fuzz-config.c lib/cluster-config.c \
		lib/ovslb-idl.c lib/node-settings.c lib/selection.c \
		lib/maglev.c lib/flow-key.c
	$(AM_V_CCLD)$(FUZZ_BUILD)
# The seed writer is built with the targets, so that CI builds it.
fuzz: $(FUZZ_TARGETS) tests/fuzz-corpus
fuzz-run: fuzz
	@$(SHELL) $(srcdir)/tests/fuzz-run.sh $(srcdir) $(FUZZ_SECONDS) \
	    $(FUZZ_TARGETS)
fuzz-long: fuzz
	@$(SHELL) $(srcdir)/tests/fuzz-run.sh $(srcdir) $(FUZZ_LONG_SECONDS) \
	    $(FUZZ_TARGETS)
EXTRA_PROGRAMS = tests/fuzz-corpus
tests_fuzz_corpus_SOURCES = tests/fuzz-corpus.c tests/fuzz-stream.c \
	tests/fuzz-stream.h
tests_fuzz_corpus_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/agent
tests_fuzz_corpus_LDADD = controller/libcontroller.la agent/libagent.la \
	flows/libflows.la $(TEST_LDADD)
fuzz-corpus: tests/fuzz-corpus
	./tests/fuzz-corpus $(srcdir)/tests/corpus
CLEANFILES += $(FUZZ_TARGETS) tests/fuzz-corpus
EXTRA_DIST += tests/fuzz-ctl-msg.c tests/fuzz-tcp-opts.c tests/fuzz-lbnode.c \
	tests/fuzz-agent-core.c tests/fuzz-health.c tests/fuzz-config.c \
	tests/fuzz-owners.c \
	tests/fuzz-run.sh tests/corpus
.PHONY: fuzz fuzz-run fuzz-long fuzz-corpus

# The config service (schema/ovslb.ovsschema): Check suites of
# cluster-config and node-settings, ovslb-ctl's commands against a private
# ovsdb-server, a running cluster-config client following ovslb-ctl's changes
# across ovsdb-server restarts, a 3-member Raft cluster, and TLS (ovs-pki,
# ovslb-ctl and ovslb-controller over ssl:) (no root needed).
# These programs are built from the sources they test (and the generated
# IDL), not from libovslb.la.
UNIT_TESTS += tests/check-cluster-config tests/check-node-settings
tests_check_cluster_config_SOURCES = tests/check-cluster-config.c \
	lib/cluster-config.c lib/cluster-config.h
nodist_tests_check_cluster_config_SOURCES = lib/ovslb-idl.c lib/ovslb-idl.h
tests_check_cluster_config_CPPFLAGS = $(AM_CPPFLAGS)
tests_check_cluster_config_CFLAGS = $(TEST_CFLAGS)
tests_check_cluster_config_LDADD = $(OVS_LIBS) $(CHECK_LIBS)
tests_check_node_settings_SOURCES = tests/check-node-settings.c \
	lib/node-settings.c lib/node-settings.h
tests_check_node_settings_CPPFLAGS = $(AM_CPPFLAGS)
tests_check_node_settings_CFLAGS = $(TEST_CFLAGS)
tests_check_node_settings_LDADD = $(OVS_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/test-cluster-config
tests_test_cluster_config_SOURCES = tests/test-cluster-config.c \
	lib/cluster-config.c lib/cluster-config.h \
	lib/node-settings.c lib/node-settings.h
nodist_tests_test_cluster_config_SOURCES = lib/ovslb-idl.c lib/ovslb-idl.h
tests_test_cluster_config_CPPFLAGS = $(AM_CPPFLAGS)
tests_test_cluster_config_LDADD = $(OVS_LIBS)
$(tests_check_cluster_config_OBJECTS) $(tests_test_cluster_config_OBJECTS): \
	lib/ovslb-idl.h

CONFIG_SERVICE_TESTS = \
	tests/ctl-commands.sh \
	tests/db-prepare.sh \
	tests/cluster-config-live.sh \
	tests/system/config-raft.sh \
	tests/tls-config.sh
TESTS += $(CONFIG_SERVICE_TESTS)
EXTRA_DIST += $(CONFIG_SERVICE_TESTS) tests/config-lib.sh \
	tests/ovslb-1.6.0.ovsschema tests/ovslb-1.7.0.ovsschema
# The scripts need ovslb-ctl and the client program.
$(CONFIG_SERVICE_TESTS:.sh=.log): utilities/ovslb-ctl tests/test-cluster-config
tests/tls-config.log: controller/ovslb-controller
check-config-service: utilities/ovslb-ctl tests/test-cluster-config
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(CONFIG_SERVICE_TESTS)'
.PHONY: check-config-service

# ovslb-agent (agent/ and flows/server-pipeline): the core's suite and the
# server pipeline's golden and trace tests.
UNIT_TESTS += tests/check-agent-core tests/check-agent-pipeline \
	tests/check-vip-load tests/check-service-probe tests/check-owners
tests_check_owners_SOURCES = tests/check-owners.c
tests_check_owners_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/agent
tests_check_owners_LDADD = agent/libagent.la flows/libflows.la \
	$(TEST_LDADD)
tests_check_service_probe_SOURCES = tests/check-service-probe.c
tests_check_service_probe_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/agent
tests_check_service_probe_LDADD = agent/libagent.la flows/libflows.la \
	$(TEST_LDADD)
tests_check_vip_load_SOURCES = tests/check-vip-load.c
tests_check_vip_load_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/agent
tests_check_vip_load_LDADD = agent/libagent.la flows/libflows.la \
	$(TEST_LDADD)
tests_check_agent_core_SOURCES = tests/check-agent-core.c \
	tests/exposition.c tests/exposition.h
tests_check_agent_core_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/agent \
	-I$(top_srcdir)/flows
tests_check_agent_core_LDADD = agent/libagent.la flows/libflows.la \
	$(TEST_LDADD)
tests_check_agent_pipeline_SOURCES = tests/check-agent-pipeline.c \
	tests/ovs-dummy.c tests/ovs-dummy.h
tests_check_agent_pipeline_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/flows \
	-DOVSLB_SRCDIR='"$(abs_top_srcdir)"'
tests_check_agent_pipeline_LDADD = flows/libflows.la $(TEST_LDADD)

# The translation port's drops counted (root: a tap in a namespace of the
# test's own; skipped otherwise).
UNIT_TESTS += tests/check-xlate-path
tests_check_xlate_path_SOURCES = tests/check-xlate-path.c
tests_check_xlate_path_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/agent
tests_check_xlate_path_LDADD = agent/libagent.la $(TEST_LDADD)
EXTRA_DIST += flows/server-pipeline.golden

# The system test of the agent alone (root; namespaces agt-*), with its
# stand-in for the LB tier.
check_PROGRAMS += tests/agent-lb-peer
tests_agent_lb_peer_SOURCES = tests/agent-lb-peer.c
tests_agent_lb_peer_CFLAGS = $(TEST_CFLAGS)
tests_agent_lb_peer_LDADD = $(TEST_LDADD)
SYSTEM_TESTS += tests/agent-system.sh
EXTRA_DIST += tests/agent-system.sh

# ovslb-ctl --wait against a running ovslb-controller and ovslb-agent, each
# on its own ovs-vswitchd with the dummy datapath (no root).
TESTS += tests/ctl-wait.sh
EXTRA_DIST += tests/ctl-wait.sh
tests/ctl-wait.log: utilities/ovslb-ctl controller/ovslb-controller \
	agent/ovslb-agent

# The Debian packages (debian/, 'make deb') unpacked and brought up as their
# systemd units would: root only, and skips unless OVSLB_DEB_DIR names the
# built packages (utilities/ovslb-dev test does both).
TESTS += tests/deb-install.sh
EXTRA_DIST += tests/deb-install.sh

# The manual pages describe every table, column, ovs-appctl command,
# counter, option and ovslb-ctl command, and render without a warning.
TESTS += tests/manpages.sh
EXTRA_DIST += tests/manpages.sh
tests/manpages.log: schema/ovslb.5 utilities/ovslb-ctl \
	controller/ovslb-controller agent/ovslb-agent
