/* exposition: a strict parser of the Prometheus text exposition format,
 * for the tests of what lib/metrics.c renders (check-metrics and the suites
 * of the modules that export metrics).  Written for the tests, stricter than
 * Prometheus where our writer should be. */
#ifndef OVSLB_TESTS_EXPOSITION_H
#define OVSLB_TESTS_EXPOSITION_H 1

#include "openvswitch/compiler.h"

struct smap;

char *exposition_parse(const char *text, struct smap *samples)
    OVS_WARN_UNUSED_RESULT;
void assert_parses(const char *text, struct smap *samples);
double exposition_sum(const struct smap *samples, const char *name);

#endif /* tests/exposition.h */
