#!/bin/sh
# manpages.sh: the manual pages describe what the programs have.
#
#   - ovslb(5), rendered from schema/ovslb.xml, has a section for every table
#     of schema/ovslb.ovsschema and an entry for every column in it;
#   - ovslb-controller(8) and ovslb-agent(8) describe every ovs-appctl
#     command that their sources register, every counter that their
#     ovslb/stats prints (the names in the formatting code) and every option
#     of their --help, and every external_ids key of lib/node-settings.h;
#   - ovslb-ctl(8) describes every command, cluster setting and option of
#     'ovslb-ctl --help';
#   - doc/settings.md lists every cluster setting and node setting;
#   - each page renders without a warning (groff -ww), when groff is here.
#
# Run from the top of the build tree (as 'make check' does); 'srcdir' is the
# top of the source tree.
set -e
srcdir=${srcdir:-.}
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# plain PAGE: the roff source of PAGE with the escapes that the checks would
# trip over removed (\- is '-', font changes go).
plain() {
    sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(em/-/g' -e 's/\\&//g' "$1"
}

# section PAGE TITLE: the lines of section TITLE (.SH) of PAGE, plain.
section() {
    plain "$1" | awk -v title="$2" '
        /^\.SH / { t = $0; sub(/^\.SH "?/, "", t); sub(/"$/, "", t);
                   on = (t == title); next }
        on { print }'
}

# registered FILE...: the names of the ovs-appctl commands that FILE...
# register (the name may be on the line after the call).
registered() {
    cat "$@" | tr '\n' ' ' |
        grep -o 'unixctl_command_register *( *"[^"]*"' |
        sed 's/.*"\([^"]*\)"$/\1/' | sort -u
}

# check_words PAGE TEXT WHAT WORD...: every WORD is in TEXT (a file), as a
# whole word.
check_words() {
    page=$1 text=$2 what=$3
    shift 3
    for w in "$@"; do
        if ! grep -q -- "\(^\|[^a-z0-9_/-]\)$w\($\|[^a-z0-9_/-]\)" "$text"; then
            fail "$page does not describe $what $w"
        fi
    done
}

# at_least N WHAT WORD...: a search found N WORDs or more.
at_least() {
    n=$1 what=$2
    shift 2
    if [ $# -lt "$n" ]; then
        fail "found only $# $what: is the search wrong?"
    fi
}

tmp=${TMPDIR:-/tmp}/manpages.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT

controller_page=$srcdir/controller/ovslb-controller.8
agent_page=$srcdir/agent/ovslb-agent.8
ctl_page=$srcdir/utilities/ovslb-ctl.8
db_page=schema/ovslb.5
for page in "$controller_page" "$agent_page" "$ctl_page" "$db_page"; do
    if [ ! -f "$page" ]; then
        echo "FAIL: $page is missing" >&2
        exit 1
    fi
done

# The daemons' ovs-appctl commands.  lib/ modules are shared by both.
for daemon in controller agent; do
    page=$srcdir/$daemon/ovslb-$daemon.8
    section "$page" "RUNTIME MANAGEMENT COMMANDS" > "$tmp/cmds"
    commands=$(registered "$srcdir"/$daemon/*.c "$srcdir"/lib/*.c)
    check_words "$page" "$tmp/cmds" "the ovs-appctl command" $commands
    set -- $commands
    if [ $# -lt 5 ]; then
        fail "found only $# ovs-appctl commands of $daemon: is the search" \
             "wrong?"
    fi
done

# The counters of ovslb/stats, by the macros that print them.
macro_args() {
    macro=$1
    shift
    grep -ho "^ *$macro([a-z_0-9]*)" "$@" | sed 's/.*(\(.*\))/\1/' | sort -u
}
section "$controller_page" COUNTERS > "$tmp/c-counters"
counters=$(macro_args STAT "$srcdir/controller/lbnode.c"
           macro_args FIELD "$srcdir/lib/ofctrl.c")
check_words "$controller_page" "$tmp/c-counters" "the counter" $counters
set -- $counters
if [ $# -lt 60 ]; then
    fail "found only $# controller counters: is the search wrong?"
fi
section "$agent_page" COUNTERS > "$tmp/a-counters"
counters=$(macro_args PUT "$srcdir/agent/agent-core.c" "$srcdir/agent/agent.c"
           grep -o '"  [a-z_]*: %' "$srcdir/agent/xlate-path.c" |
               sed 's/"  \(.*\): %/\1/'
           grep -o 'case CTL_REJECT_[A-Z_]*: return "[^"]*"' \
               "$srcdir/lib/ctl-msg.c" | sed 's/.*"\(.*\)"/rejected_\1/')
check_words "$agent_page" "$tmp/a-counters" "the counter" $counters
set -- $counters
if [ $# -lt 40 ]; then
    fail "found only $# agent counters: is the search wrong?"
fi

# The daemons' options.
for daemon in controller/ovslb-controller agent/ovslb-agent; do
    page=$srcdir/$daemon.8
    section "$page" OPTIONS > "$tmp/options"
    options=$(./$daemon --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
    check_words "$page" "$tmp/options" "the option" $options
done

# The node settings: every external_ids key of lib/node-settings.h is in
# the NODE SETTINGS section of both daemons' pages.
keys=$(sed -n 's/^#define NODE_KEY_[A-Z_]* *"\(ovslb-[a-z-]*\)"$/\1/p' \
           "$srcdir/lib/node-settings.h")
at_least 10 "node settings keys" $keys
for page in "$controller_page" "$agent_page"; do
    section "$page" "NODE SETTINGS" > "$tmp/node-settings"
    check_words "$page" "$tmp/node-settings" "the node setting" $keys
done

# doc/settings.md, the list of every setting, names every cluster setting
# (the names in lib/cluster-config.c's table) and every node setting.
settings=$(sed -n 's/^ *\(RETIRED_\)\{0,1\}SETTING(\([a-z_0-9]*\),.*/\2/p' \
               "$srcdir/lib/cluster-config.c")
at_least 30 "cluster settings" $settings
for name in $settings $keys; do
    if ! grep -q "\`$name\`" "$srcdir/doc/settings.md"; then
        fail "doc/settings.md does not list the setting $name"
    fi
done

# ovslb-ctl: commands (the lines of the command sections indented by two
# spaces, past their '[--may-exist]' or '[--if-exists]'), cluster settings
# and options of its --help.
./utilities/ovslb-ctl --help > "$tmp/ctl-help"
commands=$(sed -n '/^Cluster commands:/,/^ALG:/p' "$tmp/ctl-help" |
           grep '^  [^ ]' | sed 's/^  \(\[--[a-z-]*\] \)\{0,1\}//' |
           awk '$1 ~ /^[a-z][a-z-]*$/ { print $1 }')
plain "$ctl_page" | grep '^\.[IT]P' > "$tmp/ctl-items" || true
plain "$ctl_page" | sed -n '/^\.TP/{n;p;}' >> "$tmp/ctl-items"
check_words "$ctl_page" "$tmp/ctl-items" "the command" $commands
set -- $commands
if [ $# -lt 20 ]; then
    fail "found only $# ovslb-ctl commands: is the search wrong?"
fi
settings=$(sed -n '/^Cluster settings/,/^$/p' "$tmp/ctl-help" |
           sed 1d | tr ' ' '\n' | grep . || true)
plain "$ctl_page" > "$tmp/ctl-plain"
check_words "$ctl_page" "$tmp/ctl-plain" "the cluster setting" \
    name cluster_key cluster_key_next $settings
options=$(sed -n '/^Options:/,$p' "$tmp/ctl-help" |
          grep -o -- '--[a-z][a-z-]*' | sort -u)
section "$ctl_page" OPTIONS > "$tmp/ctl-options"
check_words "$ctl_page" "$tmp/ctl-options" "the option" $options

# ovslb(5): a section per table, an entry per column within it.
python3 - "$srcdir/schema/ovslb.ovsschema" "$db_page" <<'EOF' || failures=$((failures + 1))
import json
import re
import sys

schema = json.load(open(sys.argv[1]))
page = open(sys.argv[2]).read().replace("\\-", "-")
# Each table's section runs from its .SH to the next .SH.
sections = {}
for m in re.finditer(r'^\.SH "(\S+) TABLE"\n(.*?)(?=^\.SH |\Z)', page,
                     re.M | re.S):
    sections[m.group(1)] = m.group(2)
ok = True
for table, t in sorted(schema["tables"].items()):
    body = sections.get(table)
    if body is None:
        print("FAIL: %s has no section for table %s" % (sys.argv[2], table),
              file=sys.stderr)
        ok = False
        continue
    for column in sorted(t["columns"]):
        if not re.search(r'^\.IP "\\fB%s\\fR: ' % re.escape(column), body,
                         re.M):
            print("FAIL: %s does not describe column %s of table %s"
                  % (sys.argv[2], column, table), file=sys.stderr)
            ok = False
sys.exit(0 if ok else 1)
EOF

# Rendering: no warning from groff (all warnings on), or from man -l.
if command -v groff > /dev/null 2>&1; then
    for page in "$controller_page" "$agent_page" "$ctl_page" "$db_page"; do
        groff -ww -z -man "$page" > "$tmp/groff" 2>&1 || true
        if [ -s "$tmp/groff" ]; then
            fail "groff warns about $page: $(head -3 "$tmp/groff")"
        fi
        if command -v man > /dev/null 2>&1; then
            MANWIDTH=80 man -l "$page" 2>&1 > /dev/null |
                grep . > "$tmp/man" || true
            if [ -s "$tmp/man" ]; then
                fail "man -l warns about $page: $(head -3 "$tmp/man")"
            fi
        fi
    done
else
    echo "groff is not installed: the pages' rendering is not checked"
fi

if [ $failures -ne 0 ]; then
    echo "$failures failure(s)" >&2
    exit 1
fi
echo "manual pages: every command, counter, option, table and column described"
