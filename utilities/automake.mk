# utilities: operator tools and the developer entry points.

bin_SCRIPTS += utilities/ovslb-lab
EXTRA_DIST += utilities/ovslb-bootstrap utilities/ovslb-dev utilities/ovslb-lab
