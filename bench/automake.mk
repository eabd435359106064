# bench: see DESIGN.md (Code layout).

# The lab benchmark (root; not part of 'make check'): bench/lab-bench.sh,
# reports kept in bench/reports/.
EXTRA_DIST += bench/lab-bench.sh bench/reports
