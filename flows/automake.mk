# flows: the OpenFlow pipelines of LB nodes and server nodes, as code, with
# golden dumps (tests/flows-golden.sh compares them).

noinst_LTLIBRARIES += flows/libflows.la
flows_libflows_la_SOURCES = \
	flows/hash-slots.c flows/hash-slots.h \
	flows/lb-pipeline.c flows/lb-pipeline.h \
	flows/server-pipeline.c flows/server-pipeline.h \
	flows/pipeline.c flows/pipeline.h
