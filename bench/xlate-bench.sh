#!/bin/sh
# xlate-bench.sh: the agent's translation path on its own: segments per
# second (bench/xlate-bench), then instructions per segment counted by
# callgrind (repeatable whatever else the machine does).
# Usage: bench/xlate-bench.sh [BUILDDIR]   (default ./_build)
set -e
build=${1:-_build}
make -C "$build" bench/xlate-bench >/dev/null
"$build/bench/xlate-bench" 20000000
n=200000
out=$(mktemp)
valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$build/bench/.libs/xlate-bench" "$n" >/dev/null 2>&1 \
    || valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$build/bench/xlate-bench" "$n" >/dev/null 2>&1
total=$(callgrind_annotate "$out" 2>/dev/null \
        | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
base=$(mktemp)
valgrind --tool=callgrind --callgrind-out-file="$base" \
    "$build/bench/xlate-bench" 2 >/dev/null 2>&1
zero=$(callgrind_annotate "$base" 2>/dev/null \
       | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
rm -f "$out" "$base"
echo "callgrind: $(( (total - zero) / n )) instructions per segment" \
     "(($total - $zero) / $n)"
