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

/*
 * ovs-dummy: the harness of the dummy-datapath Check suites.  A real
 * ovsdb-server and "ovs-vswitchd --enable-dummy" run in a fresh temporary
 * directory (no root needed, nothing touches the host's Open vSwitch), with
 * one bridge of dummy ports; shell helpers drive ovs-ofctl and ovs-appctl
 * against it.
 *
 * Start and stop it from unchecked fixtures, which run in the parent
 * process, so that the daemons are stopped (by pid file) even when a test
 * fails or crashes in its forked child.
 */
#ifndef OVSLB_TESTS_OVS_DUMMY_H
#define OVSLB_TESTS_OVS_DUMMY_H 1

#include <stdbool.h>
#include "openvswitch/compiler.h"

/* The run directory of the daemons ("" before ovs_dummy_tmpdir()).  The
 * harness is for test programs only, hence the short names here and of the
 * shell helpers below. */
extern char rundir[64];

/* A dummy port of the bridge and the OpenFlow port number it asks for. */
struct ovs_dummy_port {
    const char *name;
    int ofport;
};

void ovs_dummy_tmpdir(const char *prefix);
void ovs_dummy_start(const char *prefix, const char *bridge,
                     const struct ovs_dummy_port *, size_t n_ports);
void ovs_dummy_start_vswitchd(void);
void ovs_dummy_stop_daemon(const char *pidfile);
void ovs_dummy_stop(void);

int sh(const char *format, ...) OVS_PRINTF_FORMAT(1, 2);
char *sh_output(const char *format, ...) OVS_PRINTF_FORMAT(1, 2);
char *read_file(const char *path);

#endif /* tests/ovs-dummy.h */
