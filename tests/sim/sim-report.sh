#!/bin/sh
# tests/sim/sim-report.sh [SIM]: the skeleton of the simulator's scale
# report (issue 17): one LB node lost out of N (8 to 64), with 64 servers
# and 20 long-lived connections per LB node, seed 1.  Prints a markdown
# table: how long until every live LB node had the dead one out of its
# ring, the LB nodes' control bytes per node and second, the cores'
# entries per connection, the wall-clock time.  Not yet: 1,024 servers and
# a million flows (the invariants that scan every flow each step need to
# become event-driven first), the plots.
set -u
sim=${1:-tests/sim/ovslb-sim}
scenario=$(mktemp)
trap 'rm -f "$scenario"' EXIT

echo "| LB nodes | servers | connections | out of every ring after (ms) | LB control bytes per LB node per s | core entries per connection | tracker bytes per connection (the tier) | invariant failures | wall clock (s) |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for n in 8 16 32 64; do
    cat > "$scenario" <<EOS
set lbs $n
set servers 64
set lease_ms 3000
set publish_interval_ms 500
set end_ms 12000
set check_every_ms 100
flows $((n * 20)) at 0 over 2000 close never interval 500
at 5000 crash lb2
EOS
    "$sim" --seed 1 "$scenario" | sed -n 's/^report: //p' | tr ' ' '\n' \
        | awk -F= '{ v[$1] = $2 }
                   END { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
                         v["lbs"], v["servers"], v["flows"],
                         v["lb_detect_max_ms"], v["ctl_bytes_per_lb_s"],
                         v["entries_per_flow"], v["tracker_bytes_per_flow"],
                         v["failures"], v["wall_s"] }'
done
