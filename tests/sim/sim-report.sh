#!/bin/sh
# tests/sim/sim-report.sh SIM OUTDIR [--big]: the simulator's scale report
# (issue 17), a markdown file OUTDIR/sim-report-DATE.md and gnuplot PNGs
# beside it (OUTDIR/sim-report-DATE-*.png), from runs of SIM (seed 1):
#
#   - one LB node lost, then back with an empty disk, out of N = 8, 16, 32,
#     64 LB nodes (64 servers, 10,000 long-lived connections): how long
#     until a live LB node, then every one, had it out of its healthy set
#     and ring; the tracker entries moved by the leave and by the join
#     (entries on LB nodes that held none for the flow before), and the
#     TRACKER_SYNCs sent, against the tracker entries before and the ideal
#     1/N; health, gossip and all control bytes per node and second;
#     the cores' entries and the tracker's bytes per connection; the wall
#     clock;
#   - 1, 2 and 3 LB nodes lost at once out of 64: the connections kept;
#   - with --big, the issue's scenario: 64 LB nodes, 1,024 servers and
#     1,000,000 long-lived connections, one LB node lost ('make
#     sim-report-big'; the report says how long it took and how much
#     memory).
#
# Every figure is what the run printed on its "report:" line (ovslb-sim.c,
# print_summary()).  Without gnuplot the report is written without plots
# and says so.
set -u
sim=${1:-tests/sim/ovslb-sim}
outdir=${2:-bench/reports}
big=${3:-}
date=$(date -u +%Y-%m-%d)
load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
report=$outdir/sim-report-$date.md
# SIM_REPORT_DIR: keep the runs' outputs there, and reuse those found
# (to write the report again without running).
if [ -n "${SIM_REPORT_DIR:-}" ]; then
    tmp=$SIM_REPORT_DIR
    mkdir -p "$tmp"
    rm -f "$tmp"/*.dat
else
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
fi
mkdir -p "$outdir"

# run NAME SCENARIO-TEXT: runs it, keeps its "report:" line as
# $tmp/NAME.kv (a key=value a line), says how it went on stderr.
run() {
    if [ -n "${SIM_REPORT_DIR:-}" ] && [ -s "$tmp/$1.kv" ]; then
        echo "sim-report: $1: reusing $tmp/$1.out" >&2
        return
    fi
    printf '%s\n' "$2" > "$tmp/$1.txt"
    echo "sim-report: $1..." >&2
    "$sim" --seed 1 "$tmp/$1.txt" > "$tmp/$1.out" 2>&1
    sed -n 's/^report: //p' "$tmp/$1.out" | tr ' ' '\n' > "$tmp/$1.kv"
    if [ ! -s "$tmp/$1.kv" ]; then
        echo "sim-report: $1 printed no report line:" >&2
        cat "$tmp/$1.out" >&2
        exit 1
    fi
    echo "sim-report: $1: $(v "$1" wall_s) s, $(v "$1" failures) invariant failures" >&2
}

# v NAME KEY: the value of KEY in run NAME.
v() {
    sed -n "s/^$2=//p" "$tmp/$1.kv"
}

# ratio A B [DIGITS]: A / B.
# est RUN: tracker bytes per flow at the checks with no handshake in
# progress, or why there is none.
est() {
    if [ "$(v "$1" tracker_bytes_established)" -gt 0 ] 2>/dev/null; then
        v "$1" tracker_bytes_established
    else
        echo "none such (a handshake was in progress at every check)"
    fi
}

ratio() {
    awk -v a="$1" -v b="$2" -v d="${3:-3}" \
        'BEGIN { if (b > 0) printf "%.*f", d, a / b; else printf "-" }'
}

# The common part of the scenarios.
base='set lease_ms 3000
set publish_interval_ms 500
set stall_ms 6000
set check_every_ms 100
set batch_passes 1
set sample_flows 2000'

# One LB node out of N leaves (crash), then joins again with an empty
# disk.
for n in 8 16 32 64; do
    run "n$n" "$base
set lbs $n
set servers 64
set end_ms 14000
flows 10000 at 0 over 2000 close never interval 2000
at 5000 crash lb2 wipe
at 9000 restart lb2"
done

# 1, 2, 3 LB nodes out of 64 lost at once, after convergence.
for k in 1 2 3; do
    crashes=
    i=2
    while [ "$i" -le $((k + 1)) ]; do
        crashes="$crashes
at 5000 crash lb$i"
        i=$((i + 1))
    done
    run "loss$k" "$base
set lbs 64
set servers 64
set end_ms 14000
flows 10000 at 0 over 2000 close never interval 1000$crashes"
done

if [ "$big" = --big ]; then
    run big "$base
set lbs 64
set servers 1024
set sample_flows 5000
set check_every_ms 500
set end_ms 15000
flows 1000000 at 0 over 8000 close never interval 30000
at 11000 crash lb2"
fi

# The data of the plots.
for n in 8 16 32 64; do
    r=n$n
    echo "$n $(v $r lb_first_detect_max_ms) $(v $r lb_detect_max_ms)" >> "$tmp/detect.dat"
    echo "$n $(ratio "$(v $r moved_leave)" "$(v $r entries_before_leave)" 4) $(ratio "$(v $r moved_join)" "$(v $r entries_before_join)" 4) $(ratio 1 $n 4) $(ratio "$(v $r syncs_leave)" "$(v $r entries_before_leave)" 4) $(ratio "$(v $r syncs_join)" "$(v $r entries_before_join)" 4)" >> "$tmp/moved.dat"
    echo "$n $(v $r health_bytes_per_lb_s) $(v $r gossip_bytes_per_lb_s) $(v $r ctl_bytes_per_lb_s) $(v $r ctl_bytes_per_node_s)" >> "$tmp/bytes.dat"
done
for k in 1 2 3; do
    r=loss$k
    echo "$k $(awk -v e="$(v $r established)" -v l="$(v $r lost)" 'BEGIN { printf "%.3f", e ? 100 * (e - l) / e : 0 }')" >> "$tmp/kept.dat"
done

plots=
if command -v gnuplot > /dev/null 2>&1; then
    prefix=$outdir/sim-report-$date
    gnuplot <<EOG
set terminal pngcairo size 800,500 noenhanced
set grid
set key top left
set xlabel "LB nodes (N)"
set xtics (8, 16, 32, 64)
set logscale x 2
set xrange [7:73]

set output "$prefix-detect.png"
set title "One LB node lost out of N (64 servers): ms of virtual time after the crash"
set ylabel "ms"
set yrange [0:*]
set key bottom right
plot "$tmp/detect.dat" using 1:2 with linespoints title "out of one live LB node's healthy set", \
     "" using 1:3 with linespoints title "out of every live LB node's ring"

set output "$prefix-moved.png"
set title "Tracker entries moved / tracker entries before (64 servers, 10,000 connections)"
set ylabel "fraction"
set logscale y
set yrange [0.005:2]
set key bottom left
plot "$tmp/moved.dat" using 1:2 with linespoints title "moved: an LB node leaves", \
     "" using 1:3 with linespoints title "moved: an LB node joins (empty disk)", \
     "" using 1:4 with lines dashtype 2 title "ideal 1/N", \
     "" using 1:5 with linespoints title "TRACKER_SYNCs sent: leave", \
     "" using 1:6 with linespoints title "TRACKER_SYNCs sent: join"
unset logscale y

set output "$prefix-bytes.png"
set title "Control bytes per node per second of virtual time (64 servers)"
set ylabel "bytes/s"
set yrange [*:*]
set logscale y
set key top left
plot "$tmp/bytes.dat" using 1:3 with linespoints title "gossip, per LB node", \
     "" using 1:2 with linespoints title "health (PING, PONG, GOSSIP, LB_LIST), per LB node", \
     "" using 1:4 with linespoints title "all control, per LB node", \
     "" using 1:5 with linespoints title "all control, per node (LB and server)"
unset logscale y

set output "$prefix-kept.png"
unset logscale x
set title "Connections kept through simultaneous LB node losses (64 LB nodes)"
set xlabel "LB nodes lost at once"
set xtics (1, 2, 3)
set xrange [0.5:3.5]
set ylabel "% of established connections"
set yrange [0:105]
set style fill solid 0.5
set boxwidth 0.5
plot "$tmp/kept.dat" using 1:2 with boxes notitle, \
     "" using 1:2:(sprintf("%.2f %%", \$2)) with labels offset 0,1 notitle
EOG
    plots=yes
fi

# The report.
{
    echo "# ovslb-sim scale report, $date"
    echo
    echo "\`make sim-report\` (tests/sim/sim-report.sh$( [ "$big" = --big ] && echo ' with --big: `make sim-report-big`')),"
    echo "seed 1, $(uname -m), $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') CPUs (load average when the"
    echo "report was written: $load; wall-clock figures count what other jobs took)."
    echo "Times are of virtual time unless said; every figure is one run's"
    echo "\`report:\` line.  Settings common to the runs: lease 3 s, publishing"
    echo "every 500 ms, a connection without progress for 6 s is lost, the"
    echo "health defaults (PROTOCOL.md §8), one pass per node and step"
    echo "(\`batch_passes\`), one-server on 2,000 flows a check in turn"
    echo "(\`sample_flows\`), the other invariants complete."
    echo
    if [ -z "$plots" ]; then
        echo "**No plots: gnuplot was not found** (\`apt-get install gnuplot-nox\`)."
        echo
    fi
    if [ "$big" = --big ]; then
        r=big
        echo "## 64 LB nodes, 1,024 servers, 1,000,000 connections"
        echo
        echo "The connections open over 8 s and stay open (a request every 30 s),"
        echo "lb2 crashes at 11 s, the run ends at 15 s; one-server looks at 5,000"
        echo "flows every 500 ms, the other flow invariants at every flow then."
        echo
        echo "| figure | value |"
        echo "| --- | ---: |"
        echo "| connections established | $(v $r established) of $(v $r flows) |"
        echo "| connections lost | $(v $r lost) |"
        echo "| lb2 out of one live LB node's healthy set after | $(v $r lb_first_detect_max_ms) ms |"
        echo "| lb2 out of every live LB node's ring after | $(v $r lb_detect_max_ms) ms |"
        if [ -n "$(v $r moved_leave)" ]; then
            echo "| tracker entries moved by the loss / tracker entries before | $(v $r moved_leave) / $(v $r entries_before_leave) = $(ratio "$(v $r moved_leave)" "$(v $r entries_before_leave)" 4) (ideal 1/64 = 0.0156) |"
        else
            echo "| tracker entries moved by the loss | not measured (this run's simulator had no moved_leave) |"
        fi
        echo "| TRACKER_SYNCs after the loss / tracker entries before | $(v $r syncs_leave) / $(v $r entries_before_leave) = $(ratio "$(v $r syncs_leave)" "$(v $r entries_before_leave)" 4) |"
        echo "| tracker bytes per connection, the most at any check (the tier's \`struct entry\`s, handshake parts and bucket pointers) | $(v $r tracker_bytes_per_flow) |"
        echo "| tracker bytes per connection at checks with no handshake in progress | $(est $r) |"
        echo "| core entries per connection (trackers, pending, mappings, agents) | $(v $r entries_per_flow) |"
        echo "| gossip bytes per LB node per s | $(v $r gossip_bytes_per_lb_s) |"
        echo "| health bytes per LB node per s | $(v $r health_bytes_per_lb_s) |"
        echo "| control bytes per LB node per s | $(v $r ctl_bytes_per_lb_s) |"
        echo "| control bytes per node (LB or server) per s | $(v $r ctl_bytes_per_node_s) |"
        echo "| invariant failures | $(v $r failures) |"
        echo "| wall clock | $(v $r wall_s) s for $(v $r virtual_s) s: $(ratio "$(v $r virtual_s)" "$(v $r wall_s)" 4) simulated s per wall s |"
        echo "| the simulator's peak memory | $(v $r max_rss_mb) MiB ($(ratio "$(v $r max_rss_mb)" 0.953674 0) bytes per connection, every node and the clients) |"
        echo
        echo "Issue 17's bounds: tracker memory per flow ≤ 200 bytes (the most"
        echo "at any check, $(v $r tracker_bytes_per_flow): $( [ "$(v $r tracker_bytes_per_flow)" -le 200 ] && echo met || echo 'not met')), ring convergence"
        echo "after one LB node loss ≤ 1 s ($(v $r lb_detect_max_ms) ms: $( [ "$(v $r lb_detect_max_ms)" -le 1000 ] && echo met || echo 'not met'))."
        echo
        echo '```'
        sed -n '/^report:/!p' "$tmp/big.out"
        echo '```'
        echo
    fi
    echo "## One LB node lost, then back, against N"
    echo
    echo "64 servers, 10,000 long-lived connections (opened over 2 s, a request"
    echo "every 2 s); lb2 crashes at 5 s, restarts at 9 s with an empty disk;"
    echo "the run ends at 14 s.  \"Moved\": tracker entries on LB nodes that"
    echo "held none for their flow at the change, counted at the next change"
    echo "(leave: at the restart) or at the end (join), over the tracker entries"
    echo "just before the change; the ideal is 1/N.  \"Syncs\": the TRACKER_SYNCs"
    echo "sent over the same entries: lbnode_rebalance() hands over the entries"
    echo "whose PFT or SFT the ring change changed (every entry, before 858ced7)."
    echo
    echo "| N | detected (ms) | out of every ring (ms) | moved on leave | moved on join | ideal 1/N | syncs on leave | syncs on join | gossip B/LB/s | health B/LB/s | control B/LB/s | control B/node/s | tracker B/conn (most) | core entries/conn | lost conns | failures | wall (s) | sim s / wall s |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for n in 8 16 32 64; do
        r=n$n
        echo "| $n | $(v $r lb_first_detect_max_ms) | $(v $r lb_detect_max_ms) | $(ratio "$(v $r moved_leave)" "$(v $r entries_before_leave)" 4) | $(ratio "$(v $r moved_join)" "$(v $r entries_before_join)" 4) | $(ratio 1 $n 4) | $(ratio "$(v $r syncs_leave)" "$(v $r entries_before_leave)" 4) | $(ratio "$(v $r syncs_join)" "$(v $r entries_before_join)" 4) | $(v $r gossip_bytes_per_lb_s) | $(v $r health_bytes_per_lb_s) | $(v $r ctl_bytes_per_lb_s) | $(v $r ctl_bytes_per_node_s) | $(v $r tracker_bytes_per_flow) | $(v $r entries_per_flow) | $(v $r lost) | $(v $r failures) | $(v $r wall_s) | $(ratio "$(v $r virtual_s)" "$(v $r wall_s)" 2) |"
    done
    echo
    if [ -n "$plots" ]; then
        echo "![detection](sim-report-$date-detect.png)"
        echo "![moved](sim-report-$date-moved.png)"
        echo "![bytes](sim-report-$date-bytes.png)"
        echo
    fi
    echo "## Connections kept through simultaneous LB node losses"
    echo
    echo "64 LB nodes, 64 servers, 10,000 long-lived connections (a request"
    echo "every second); k LB nodes crash at 5 s; the run ends at 14 s.  Lost:"
    echo "reset, or no progress for 6 s (no-loss allows losses after more than"
    echo "one fault)."
    echo
    echo "| LB nodes lost | established | lost | kept | failures | wall (s) |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
    for k in 1 2 3; do
        r=loss$k
        echo "| $k | $(v $r established) | $(v $r lost) | $(awk -v e="$(v $r established)" -v l="$(v $r lost)" 'BEGIN { printf "%.2f %%", e ? 100 * (e - l) / e : 0 }') | $(v $r failures) | $(v $r wall_s) |"
    done
    echo
    if [ -n "$plots" ]; then
        echo "![kept](sim-report-$date-kept.png)"
        echo
    fi
} > "$report"
echo "sim-report: wrote $report${plots:+ and its plots}" >&2
[ -n "$plots" ] || echo "sim-report: gnuplot not found: no plots (apt-get install gnuplot-nox)" >&2
