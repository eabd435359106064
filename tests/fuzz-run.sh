#! /bin/sh
# fuzz-run.sh SRCDIR SECONDS TARGET...: runs each libFuzzer TARGET (a
# program tests/fuzz-NAME) for SECONDS from a copy of its checked-in seed
# corpus SRCDIR/tests/corpus/NAME (new inputs are kept in TARGET.corpus, not
# written back), its log in TARGET.log, and prints per target the
# executions (libFuzzer's stat::number_of_executed_units), the coverage
# (cov: and ft: of its last status line) and the corpus size reached.
# Stops at the first target that fails (a crash, a leak or a failed check:
# the end of its log is printed, and the input that failed is in the
# current directory as crash-*, leak-* or timeout-*).  'make fuzz-run' and
# 'make fuzz-long' run it.
set -e
srcdir=$1 seconds=$2
shift 2
for f in "$@"; do
    name=`basename $f | sed 's/^fuzz-//'`
    rm -rf $f.corpus
    mkdir -p $f.corpus
    cp "$srcdir"/tests/corpus/$name/* $f.corpus/
    echo "fuzzing $name for $seconds s"
    if ! ./$f -max_total_time=$seconds -print_final_stats=1 -timeout=30 \
            $f.corpus > $f.log 2>&1; then
        tail -40 $f.log
        echo "fuzz-run: $name failed (log: $f.log)"
        exit 1
    fi
    execs=`sed -n 's/^stat::number_of_executed_units: *//p' $f.log`
    last=`grep -E '^#[0-9]+' $f.log | tail -1`
    cov=`echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p'`
    ft=`echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p'`
    corp=`echo "$last" | sed -n 's/.* corp: \([^ ]*\).*/\1/p'`
    echo "  $name: $execs executions in $seconds s," \
        "cov $cov, ft $ft, corpus $corp"
done
