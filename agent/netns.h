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
 * netns: doing something (making a socket) inside another network
 * namespace, which the socket keeps once made.
 *
 * Entering another namespace takes CAP_SYS_ADMIN, which an agent running
 * as another user (--user) keeps, only permitted, with --netns-access:
 * raised for the two setns() calls.
 */
#ifndef OVSLB_NETNS_H
#define OVSLB_NETNS_H 1

#include "openvswitch/compiler.h"

char *netns_call(const char *netns, int (*fn)(void *aux), void *aux,
                 int *errorp) OVS_WARN_UNUSED_RESULT;

#endif /* netns.h */
