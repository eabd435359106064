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
