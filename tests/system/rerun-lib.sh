# shellcheck shell=bash
# rerun-lib.sh: what utilities/ovslb-dev does with a failed system test.
#
# A system test's check is either about correctness ("FAIL: DESC": a lost
# request, a broken connection, a wrong server, a counter, state left
# behind) or about timing ("FAIL (timing): DESC", from system-lib.sh's
# check_timing: a duration or a deadline, which this shared 2-core machine
# can miss under load).  A test whose failed checks are all timing checks
# is run once more: passing then, it is FLAKY; failing again, it fails.  A
# test with any other failure (a correctness check, an ERROR, an exit
# before its "N passed, M failed" line) fails at once, without a rerun.
#
# Sourced by utilities/ovslb-dev and by tests/ovslb-dev-rerun.sh, which
# tests it on made-up results.  Works on the automake harness's files in
# the current directory (the top build directory): TEST.log and TEST.trs
# for a test TEST such as tests/system/bgp.sh.  Provides:
#
#   rerun_failed_checks KIND TEST  the descriptions of TEST's failed
#                    checks of KIND (timing or correctness), a line each.
#   rerun_kind TEST  for a failed test: "timing" if it may run again,
#                    else "correctness".
#   rerun_system_tests REPORT RUN TEST...  of the TESTs just run, those
#                    that failed: runs the timing-only ones again with
#                    the command RUN (given the tests' names as arguments;
#                    its exit status is not used, the .trs files are);
#                    prints and writes to the file REPORT a line per
#                    failed test, "FLAKY: TEST: ..." or "FAIL: TEST: ...".
#                    Returns 0 if every failed test is FLAKY.
#   rerun_evidence REPORT DIR  for each test that REPORT names, what its
#                    log in DIR (a copy of the first run's logs) printed
#                    before each failed check: the comments (the test's
#                    figures and diagnostics) and the failures, at most
#                    80 lines a test, so that CI's output explains them.

rerun_failed_checks() {
    case $1 in
        timing) sed -n 's/^FAIL (timing): //p' "$2.log" 2>/dev/null ;;
        *) sed -n 's/^FAIL: //p' "$2.log" 2>/dev/null ;;
    esac
}

# The harness's verdict of TEST: PASS, FAIL, SKIP, ERROR... or "none".
rerun_result() {
    local r
    r=$(sed -n 's/^:test-result: *//p' "$1.trs" 2>/dev/null | head -n 1)
    echo "${r:-none}"
}

rerun_kind() {
    local test=$1 failed timing
    # An ERROR (exit 99: the lab did not come up, a lab in the way...) or
    # anything but an ordinary failure is not about timing.
    [ "$(rerun_result "$test")" = FAIL ] || { echo correctness; return; }
    # The test ran to its end: its last count names as many failures as
    # there are timing checks failed, and no other check failed.
    failed=$(sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p' \
                 "$test.log" 2>/dev/null | tail -n 1)
    timing=$(rerun_failed_checks timing "$test" | wc -l)
    if [ -n "$failed" ] && [ "$failed" -gt 0 ] && [ "$failed" = "$timing" ] \
       && [ -z "$(rerun_failed_checks correctness "$test")" ]; then
        echo timing
    else
        echo correctness
    fi
}

# The failed checks of TEST on one line, each quoted: of KIND (timing or
# correctness), or all of them ("DESC" (timing); "DESC"...).
rerun_check_list() {
    case $1 in
        all) sed -n 's/^FAIL: \(.*\)/"\1"/p; s/^FAIL (timing): \(.*\)/"\1" (timing)/p' \
                 "$2.log" 2>/dev/null ;;
        *) rerun_failed_checks "$1" "$2" | sed 's/.*/"&"/' ;;
    esac | awk '{ printf "%s%s", (NR > 1 ? "; " : ""), $0 }'
}

# Why failed TEST is not run again.
rerun_why_not() {
    local list
    if [ "$(rerun_result "$1")" != FAIL ]; then
        echo "$(rerun_result "$1") (the test could not run to its end)"
    elif list=$(rerun_check_list correctness "$1") && [ -n "$list" ]; then
        echo "correctness checks failed: $list"
    else
        echo "ended before its count of passed and failed checks"
    fi
}

rerun_system_tests() {
    local report=$1 run=$2 test again=() reasons=() i rc=0 list
    shift 2
    : >"$report"
    for test in "$@"; do
        case $(rerun_result "$test") in
            FAIL|ERROR) ;;
            *) continue ;;
        esac
        if [ "$(rerun_kind "$test")" = timing ]; then
            again+=("$test")
            reasons+=("$(rerun_check_list timing "$test")")
        else
            echo "FAIL: $test: not run again, $(rerun_why_not "$test")" \
                >>"$report"
            rc=1
        fi
    done
    if [ ${#again[@]} -gt 0 ]; then
        echo "# only timing checks failed in ${again[*]}: a second run of those"
        "$run" "${again[@]}" || true
        for i in "${!again[@]}"; do
            test=${again[$i]}
            if [ "$(rerun_result "$test")" = PASS ]; then
                echo "FLAKY: $test: passed on a second run; timing checks failed in the first: ${reasons[$i]}" \
                    >>"$report"
            else
                list=$(rerun_check_list all "$test")
                echo "FAIL: $test: failed again on a second run: ${list:-$(rerun_result "$test")} (first run: ${reasons[$i]})" \
                    >>"$report"
                rc=1
            fi
        done
    fi
    cat "$report"
    return $rc
}

rerun_evidence() {
    local report=$1 dir=$2 test log
    sed -n 's/^\(FAIL\|FLAKY\): \([^:]*\): .*/\2/p' "$report" 2>/dev/null \
        | sort -u | while read -r test; do
            log="$dir/$(basename "$test").log"
            [ -f "$log" ] || log="$test.log"
            [ -f "$log" ] || continue
            echo "--- $test: the lines before its failed checks ($log)"
            grep -B 25 -E '^FAIL' "$log" | grep -E '^(#|FAIL)' | tail -n 80
        done
}
