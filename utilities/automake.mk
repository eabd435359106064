# utilities: operator tools and the developer entry points.

EXTRA_DIST += utilities/ovslb-bootstrap utilities/ovslb-dev
