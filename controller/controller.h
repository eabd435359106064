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
 * controller: the LB node's daemon (ovslb-controller) around the lbnode
 * core: its OpenFlow connection, control sockets, health checking, BGP,
 * journal and config service, and its ovs-appctl commands.  main() builds
 * one and runs its loop.
 *
 * Single-threaded: the daemon's main thread owns the controller.
 */
#ifndef OVSLB_CONTROLLER_H
#define OVSLB_CONTROLLER_H 1

struct controller;

struct controller *controller_create(const char *ovs_remote);
void controller_destroy(struct controller *);
void controller_run(struct controller *);
void controller_wait(struct controller *);

#endif /* controller/controller.h */
