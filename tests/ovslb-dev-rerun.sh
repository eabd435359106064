#!/bin/bash
# ovslb-dev-rerun.sh: what utilities/ovslb-dev does with failed system
# tests (tests/system/rerun-lib.sh), on made-up system tests that use
# system-lib.sh's check and check_timing for real, run by a stand-in for
# automake's test driver (TEST.log, TEST.trs) in a temporary directory.
# No root, no lab: run by 'make check'.
set -u
srcdir=${srcdir:-$(dirname "$0")/..}
srcdir=$(cd "$srcdir" && pwd)
# shellcheck source=tests/system/rerun-lib.sh
. "$srcdir/tests/system/rerun-lib.sh"

passed=0
failed=0
ok() {
    passed=$((passed + 1))
    echo "PASS: $1"
}
not_ok() {
    failed=$((failed + 1))
    echo "FAIL: $1"
}
expect() {   # expect DESC CMD...
    local desc=$1
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

work=$(mktemp -d /tmp/ovslb-dev-rerun.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 99
mkdir -p tests/system

# fake_test NAME FIRST SECOND: tests/system/NAME.sh, a system test whose
# checks are the shell commands FIRST on its first run, SECOND on later
# runs, followed by sys_finish.
fake_test() {
    cat >"tests/system/$1.sh" <<EOF
. "$srcdir/tests/system/system-lib.sh"
SYS_OUT=\$(mktemp)
trap 'rm -f "\$SYS_OUT"' EXIT
runs=\$(( \$(cat "\$0.runs" 2>/dev/null || echo 0) + 1 ))
echo "\$runs" >"\$0.runs"
if [ "\$runs" = 1 ]; then
    $2
else
    $3
fi
sys_finish
EOF
}

# harness TEST...: runs each TEST as automake's test driver does.
harness() {
    local t rc r
    for t in "$@"; do
        bash "$t" >"$t.log" 2>&1
        rc=$?
        case $rc in
            0) r=PASS ;;
            77) r=SKIP ;;
            99) r=ERROR ;;
            *) r=FAIL ;;
        esac
        echo "$r $t (exit status: $rc)" >>"$t.log"
        echo ":test-result: $r" >"$t.trs"
    done
}

# The second run, as ovslb-dev's system_run_again: records what it ran.
run_again() {
    echo "$*" >>rerun.args
    harness "$@"
}

fake_test passing \
    'check "lab up" true; check_timing "fast enough" true' \
    'check "lab up" true'
fake_test skipped 'sys_skip "not here"' 'sys_skip "not here"'
fake_test lost-request \
    'echo "# 3 requests lost, all to srv2"; check "1000 requests: all succeed" false; check_timing "under 1 s" false' \
    'check "1000 requests: all succeed" true; check_timing "under 1 s" true'
fake_test slow-once \
    'check "lab up" true; check_timing "lb3 out of every ring within 1 s" false; check_timing "up + down under 60 s" false' \
    'check "lab up" true; check_timing "lb3 out of every ring within 1 s" true; check_timing "up + down under 60 s" true'
fake_test slow-twice \
    'check_timing "withdrawal under 1 s" false' \
    'check_timing "withdrawal under 1 s" false'
fake_test broken-on-rerun \
    'check_timing "back to 100 % within 2 s" false' \
    'check "0 of 200 connections broken" false; check_timing "back to 100 % within 2 s" true'
fake_test error-after-timing \
    'check_timing "within 2 s" false; sys_error "the lab did not come up"' \
    'true'
fake_test ended-early \
    'check_timing "within 2 s" false; exit 1' \
    'true'

all="tests/system/passing.sh tests/system/skipped.sh
     tests/system/lost-request.sh tests/system/slow-once.sh
     tests/system/slow-twice.sh tests/system/broken-on-rerun.sh
     tests/system/error-after-timing.sh tests/system/ended-early.sh"
# shellcheck disable=SC2086
harness $all

# What system-lib.sh prints.
expect "check_timing prints 'FAIL (timing): DESC'" \
    grep -qx 'FAIL (timing): withdrawal under 1 s' tests/system/slow-twice.sh.log
expect "check_timing prints 'PASS (timing): DESC'" \
    grep -qx 'PASS (timing): fast enough' tests/system/passing.sh.log
expect "sys_finish counts the timing failures" \
    grep -qx '1 passed, 2 failed, 2 of them timing' tests/system/slow-once.sh.log

# The decision, test by test.
for t in lost-request error-after-timing ended-early; do
    expect "$t: correctness, not run again" \
        [ "$(rerun_kind "tests/system/$t.sh")" = correctness ]
done
for t in slow-once slow-twice broken-on-rerun; do
    expect "$t: timing only, run again" \
        [ "$(rerun_kind "tests/system/$t.sh")" = timing ]
done

# The whole: one second run, of the timing-only failures alone.
# shellcheck disable=SC2086
rerun_system_tests report run_again $all >out
rc=$?
sed 's/^/# /' out
expect "a failure that is not FLAKY fails the run" [ "$rc" = 1 ]
expect "one second run, of the timing-only failures" \
    [ "$(cat rerun.args)" = "tests/system/slow-once.sh tests/system/slow-twice.sh tests/system/broken-on-rerun.sh" ]
expect "the report is printed" eval "grep -v '^#' out | cmp -s - report"
expect "a line per failed test, none for the passing and skipped ones" \
    [ "$(grep -c . report)" = 6 ]
expect "lost request: FAIL at once, naming the check" \
    grep -qx 'FAIL: tests/system/lost-request.sh: not run again, correctness checks failed: "1000 requests: all succeed"' report
expect "timing failures that pass on a second run: FLAKY, naming them" \
    grep -qx 'FLAKY: tests/system/slow-once.sh: passed on a second run; timing checks failed in the first: "lb3 out of every ring within 1 s"; "up + down under 60 s"' report
expect "timing failures that repeat: FAIL" \
    grep -qx 'FAIL: tests/system/slow-twice.sh: failed again on a second run: "withdrawal under 1 s" (timing) (first run: "withdrawal under 1 s")' report
expect "a correctness failure on the second run: FAIL, naming it" \
    grep -qx 'FAIL: tests/system/broken-on-rerun.sh: failed again on a second run: "0 of 200 connections broken" (first run: "back to 100 % within 2 s")' report
expect "ERROR after a timing failure: FAIL at once" \
    grep -q '^FAIL: tests/system/error-after-timing.sh: not run again, ERROR' report
expect "a test that ended before its count: FAIL at once" \
    grep -qx 'FAIL: tests/system/ended-early.sh: not run again, ended before its count of passed and failed checks' report
# What CI prints to explain the failures: each failed test's comments
# and failures, from its first run's log (here, with no copy of the first
# run, from its log in place).
rerun_evidence report no-such-dir >evidence
sed 's/^/# /' evidence
expect "the evidence names the failed test" \
    grep -qx -- '--- tests/system/lost-request.sh: the lines before its failed checks (tests/system/lost-request.sh.log)' evidence
expect "... with the comment printed before its failed check" \
    grep -qx '# 3 requests lost, all to srv2' evidence
expect "... and the failed check" \
    grep -qx 'FAIL: 1000 requests: all succeed' evidence
expect "... and the FLAKY tests too" \
    grep -q -- '^--- tests/system/slow-once.sh: ' evidence
expect "... but not the passing ones" \
    eval '! grep -q passing.sh evidence'

expect "the tests not run again ran once" \
    [ "$(cat tests/system/lost-request.sh.runs)" = 1 ]

# Only FLAKY ones: the run passes, and says so.
fake_test slow-again \
    'check_timing "re-announcement under 2 s" false' \
    'check_timing "re-announcement under 2 s" true'
harness tests/system/passing.sh tests/system/slow-again.sh
rm -f rerun.args
rerun_system_tests report run_again tests/system/passing.sh \
    tests/system/slow-again.sh >out
rc=$?
sed 's/^/# /' out
expect "only FLAKY failures: the run passes" [ "$rc" = 0 ]
expect "... with its FLAKY line" \
    grep -qx 'FLAKY: tests/system/slow-again.sh: passed on a second run; timing checks failed in the first: "re-announcement under 2 s"' report
expect "... and no second run of the passing test" \
    [ "$(cat rerun.args)" = tests/system/slow-again.sh ]

# Nothing failed: no second run, an empty report.
harness tests/system/passing.sh
rm -f rerun.args
rerun_system_tests report run_again tests/system/passing.sh >out
expect "nothing failed: success" [ "$?" = 0 ]
expect "... no second run" [ ! -e rerun.args ]
expect "... an empty report" [ ! -s report ]

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
