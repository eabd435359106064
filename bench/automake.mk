# bench: see DESIGN.md (Code layout).

# The lab benchmark (root; not part of 'make check'): bench/lab-bench.sh,
# reports kept in bench/reports/.  'make bench' builds everything, then
# runs it on the programs of this build tree; it brings up a lab of its own
# (refusing while one is up) and writes its report and plot to the next
# free bench/reports/lab-bench-YYYY-MM-DD[-N].{txt,png} of the source tree.
EXTRA_DIST += bench/lab-bench.sh bench/reports
bench: all
	OVSLB_BUILDDIR='$(abs_top_builddir)' \
	    $(srcdir)/bench/lab-bench.sh $(srcdir)/bench/reports/
.PHONY: bench

# The translation microbenchmark (bench/xlate-bench.sh runs it, and under
# callgrind).
noinst_PROGRAMS += bench/xlate-bench
bench_xlate_bench_SOURCES = bench/xlate-bench.c
bench_xlate_bench_LDADD = lib/libovslb.la $(OVS_LIBS)
EXTRA_DIST += bench/xlate-bench.sh

# The control-message microbenchmark: encoding and decoding, with the MAC.
noinst_PROGRAMS += bench/ctl-msg-bench
bench_ctl_msg_bench_SOURCES = bench/ctl-msg-bench.c
bench_ctl_msg_bench_LDADD = lib/libovslb.la $(OVS_LIBS)

# The LB node timers' microbenchmark: renewals and loop passes of a busy
# node (bench/lbnode-bench.c says what it simulates).
noinst_PROGRAMS += bench/lbnode-bench
bench_lbnode_bench_SOURCES = bench/lbnode-bench.c
bench_lbnode_bench_LDADD = controller/libcontroller.la lib/libovslb.la \
	$(OVS_LIBS)

# The agent's own packet I/O ceiling on a veth pair, OVS out of the way
# (root; not part of 'make bench'): 'make bench-xlate-io'.
noinst_PROGRAMS += bench/xlate-io-bench
bench_xlate_io_bench_SOURCES = bench/xlate-io-bench.c
bench_xlate_io_bench_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/agent
bench_xlate_io_bench_LDADD = agent/libagent.la lib/libovslb.la $(OVS_LIBS) \
	$(PCAP_LIBS)
EXTRA_DIST += bench/xlate-io-bench.sh
bench-xlate-io: bench/xlate-io-bench
	$(srcdir)/bench/xlate-io-bench.sh '$(abs_top_builddir)'
.PHONY: bench-xlate-io
