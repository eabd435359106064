/*
 * Copyright (c) 2026 The ovslb authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at:
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

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
