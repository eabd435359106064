# agent: ovslb-agent, the server node's daemon.

sbin_PROGRAMS += agent/ovslb-agent
agent_ovslb_agent_SOURCES = \
	agent/ovslb-agent.c
agent_ovslb_agent_LDADD = agent/libagent.la flows/libflows.la \
	lib/libovslb.la $(OVS_LIBS) $(PCAP_LIBS)
dist_man_MANS += agent/ovslb-agent.8

# The core (pure) and the drivers, also linked by the unit tests.
noinst_LTLIBRARIES += agent/libagent.la
agent_libagent_la_SOURCES = \
	agent/agent-core.c agent/agent-core.h \
	agent/agent.c agent/agent.h \
	agent/netns.c agent/netns.h \
	agent/owners.c agent/owners.h \
	agent/service-probe.c agent/service-probe.h \
	agent/sock-diag.c agent/sock-diag.h \
	agent/tombstones.c agent/tombstones.h \
	agent/vip-load.c agent/vip-load.h \
	agent/xlate-path.c agent/xlate-path.h
