/*
 * agent: the drivers of ovslb-agent around its core (agent-core.h): the
 * node's shared daemon plumbing (node-daemon.h: local OVS database, config
 * service, OpenFlow connection to the bridge, control socket, SQLite
 * store), the server pipeline (flows/server-pipeline.h), the translation
 * port (xlate-path.h), the kernel's socket table (sock-diag.h), local load
 * metrics, health pings, the healthy-LB list, connection publishing and the
 * ovs-appctl commands (ovslb/show, ovslb/conns, ovslb/stats,
 * ovslb/set-limits).
 *
 * Single-threaded: ovslb-agent's main loop calls agent_run(), agent_wait()
 * and poll_block().
 */
#ifndef OVSLB_AGENT_H
#define OVSLB_AGENT_H 1

#include "agent-core.h"

struct agent_options {
    const char *geneve_port;    /* Name of the Geneve port ("gnv0"). */
    const char *xlate_port;     /* Name of the translation port ("xlt0"). */
    struct agent_limits limits; /* Admission limits; the timers that the
                                 * config service sets are overridden. */
};

void agent_options_init(struct agent_options *);

struct agent *agent_create(const char *ovs_remote,
                           const struct agent_options *);
void agent_destroy(struct agent *);
void agent_run(struct agent *);
void agent_wait(struct agent *);

#endif /* agent.h */
