# schema: the per-node SQLite schemas (and, with the config service, the
# OVSLB OVSDB schema).

dist_pkgdata_DATA = schema/lb-node.sql schema/server-node.sql
