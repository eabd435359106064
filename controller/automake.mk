# controller: ovslb-controller, the LB node's daemon.

sbin_PROGRAMS += controller/ovslb-controller
controller_ovslb_controller_SOURCES = \
	controller/aux-sockets.c \
	controller/bgp-control.c \
	controller/commands.c \
	controller/controller.c controller/controller.h \
	controller/controller-private.h \
	controller/edge-mac.c \
	controller/hash-vips.c controller/hash-vips.h \
	controller/health-control.c \
	controller/journal.c \
	controller/lb-io.c \
	controller/ovslb-controller.c \
	controller/static-flows.c
controller_ovslb_controller_LDADD = controller/libcontroller.la \
	flows/libflows.la lib/libovslb.la $(OVS_LIBS)
dist_man_MANS += controller/ovslb-controller.8

# The pure cores, also linked by the unit tests and the simulator.
noinst_LTLIBRARIES += controller/libcontroller.la
controller_libcontroller_la_SOURCES = \
	controller/entry-key.c controller/entry-key.h \
	controller/ingress.c \
	controller/lb-actions.c controller/lb-actions.h \
	controller/lbnode.c controller/lbnode.h controller/lbnode-private.h \
	controller/lease.c \
	controller/server-load.c controller/server-load.h \
	controller/tracker.c
