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

#include <config.h>
#include "sim-scenario.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "openvswitch/dynamic-string.h"
#include "sim-agent.h"
#include "sim-bus.h"
#include "sim-edge.h"
#include "sim-invariants.h"
#include "sim-lb.h"
#include "util.h"

enum action_kind {
    ACT_FLOWS,
    ACT_CRASH,
    ACT_RESTART,
    ACT_PARTITION,
    ACT_HEAL,
    ACT_FAULTS,
    ACT_STAGE,
    ACT_UNSTAGE,
    ACT_SKEW,
    ACT_SERVING,
    ACT_READY,
};

struct sim_action {
    long long int at;
    size_t line;
    enum action_kind kind;
    uint32_t node;              /* CRASH, RESTART, SKEW, SERVING, READY. */
    bool wipe;                  /* CRASH. */
    bool on;                    /* SERVING, READY. */
    long long int ms;           /* SKEW: skew; FLOWS: 'over'. */
    unsigned int permille;      /* FAULTS. */
    char *name;                 /* STAGE, UNSTAGE. */
    struct sim_node_set a, b;   /* PARTITION, STAGE. */
    bool one_way;               /* PARTITION. */
    struct sim_stage_spec spec; /* STAGE. */
    uint32_t n, requests, interval_ms;  /* FLOWS. */
    enum sim_close close;       /* FLOWS. */
};

/* Settings. */

struct setting {
    const char *name;
    size_t offset;
};

#define SETTING(NAME) { #NAME, offsetof(struct sim_settings, NAME) }
static const struct setting settings[] = {
    SETTING(lbs), SETTING(servers), SETTING(latency_ms), SETTING(lease_ms),
    SETTING(publish_interval_ms), SETTING(handshake_timeout_ms),
    SETTING(vnodes), SETTING(linger_ms), SETTING(bgp_withdraw_ms),
    SETTING(bgp_announce_ms), SETTING(stall_ms), SETTING(lb_detect_ms),
    SETTING(server_detect_ms), SETTING(converge_ms),
    SETTING(entries_per_flow), SETTING(check_every_ms), SETTING(end_ms),
    SETTING(batch_passes), SETTING(sample_flows),
};

/* The defaults: a small cluster, the daemons' defaults where the cores
 * have them, bounds from PROTOCOL.md §8 with a margin. */
void
sim_settings_init(struct sim_settings *set)
{
    *set = (struct sim_settings) {
        .lbs = 4, .servers = 4, .latency_ms = 1,
        .lease_ms = 10000, .publish_interval_ms = 1000,
        .handshake_timeout_ms = 30000, .vnodes = 64, .linger_ms = 10000,
        .bgp_withdraw_ms = 300, .bgp_announce_ms = 1000,
        .stall_ms = 10000, .lb_detect_ms = 1200, .server_detect_ms = 2500,
        .converge_ms = 2000, .entries_per_flow = 8, .end_ms = 20000,
    };
}

/* Sets 'name' to 'value' in 'set'; returns NULL or an error message. */
char *
sim_settings_set(struct sim_settings *set, const char *name,
                 const char *value)
{
    for (size_t i = 0; i < ARRAY_SIZE(settings); i++) {
        if (!strcmp(settings[i].name, name)) {
            char *end;
            unsigned long int v;

            errno = 0;
            v = strtoul(value, &end, 10);
            if (errno || *end || end == value || v > UINT32_MAX) {
                return xasprintf("%s: not a number", value);
            }
            *(uint32_t *) ((char *) set + settings[i].offset) = v;
            return NULL;
        }
    }
    return xasprintf("%s: no such setting", name);
}

/* Parsing. */

static char *
parse_ms(const char *s, long long int *ms)
{
    char *end;

    errno = 0;
    *ms = s ? strtoll(s, &end, 10) : 0;
    if (!s || errno || *end || end == s || *ms < 0) {
        return xasprintf("%s: not a time in ms", s ? s : "(nothing)");
    }
    return NULL;
}

static char *
parse_uint(const char *s, uint32_t *v)
{
    long long int ll;
    char *error = parse_ms(s, &ll);

    if (!error && ll > UINT32_MAX) {
        error = xasprintf("%s: too large", s);
    }
    *v = error ? 0 : ll;
    return error;
}

/* A percentage with up to one decimal ("5", "0.5"), as permille. */
static char *
parse_percent(const char *s, unsigned int *permille)
{
    char *end;
    double pct;

    errno = 0;
    pct = s ? strtod(s, &end) : -1;
    if (!s || errno || *end || end == s || pct < 0 || pct > 100) {
        return xasprintf("%s: not a percentage", s ? s : "(nothing)");
    }
    *permille = pct * 10 + 0.5;
    return NULL;
}

static char *
parse_node(const char *s, uint32_t *node)
{
    struct sim_node_set set;
    char *error = s ? sim_node_set_parse(s, &set) : xstrdup("node missing");

    if (error) {
        return error;
    }
    if (set.n_ids != 1 || set.all_lbs || set.all_servers || set.edge) {
        error = xasprintf("%s: not one LB or server node", s);
    } else {
        *node = set.ids[0];
    }
    sim_node_set_destroy(&set);
    return error;
}

static char *
parse_flows(char *save, struct sim_action *act)
{
    char *tok, *error = parse_uint(strtok_r(NULL, " \t", &save), &act->n);

    act->interval_ms = 500;
    act->close = SIM_CLOSE_FIN;
    act->requests = 3;
    while (!error && (tok = strtok_r(NULL, " \t", &save))) {
        char *arg = strtok_r(NULL, " \t", &save);

        if (!strcmp(tok, "at")) {
            error = parse_ms(arg, &act->at);
        } else if (!strcmp(tok, "over")) {
            error = parse_ms(arg, &act->ms);
        } else if (!strcmp(tok, "requests")) {
            error = parse_uint(arg, &act->requests);
        } else if (!strcmp(tok, "interval")) {
            error = parse_uint(arg, &act->interval_ms);
        } else if (!strcmp(tok, "close") && arg) {
            if (!strcmp(arg, "fin")) {
                act->close = SIM_CLOSE_FIN;
            } else if (!strcmp(arg, "rst")) {
                act->close = SIM_CLOSE_RST;
            } else if (!strcmp(arg, "never")) {
                act->close = SIM_CLOSE_NEVER;
            } else {
                error = xasprintf("%s: close fin, rst or never", arg);
            }
        } else {
            error = xasprintf("%s: unknown flows option", tok);
        }
    }
    if (!error && act->close == SIM_CLOSE_NEVER) {
        act->requests = 0;
    }
    return error;
}

static char *
parse_stage(char *save, struct sim_action *act)
{
    const char *name = strtok_r(NULL, " \t", &save);
    const char *side = strtok_r(NULL, " \t", &save);
    const char *src = strtok_r(NULL, " \t", &save);
    const char *dst = strtok_r(NULL, " \t", &save);
    const char *kind = strtok_r(NULL, " \t", &save);
    const char *arg1 = strtok_r(NULL, " \t", &save);
    const char *arg2 = strtok_r(NULL, " \t", &save);
    struct sim_stage_spec *spec = &act->spec;
    long long int ms = 0, jitter = 0;
    char *error;

    if (!kind) {
        return xstrdup("stage NAME send|recv SRC DST KIND ARGS");
    }
    act->name = xstrdup(name);
    if (!strcmp(side, "send") || !strcmp(side, "recv")) {
        spec->side = side[0] == 's' ? SIM_SIDE_SEND : SIM_SIDE_RECV;
    } else {
        return xasprintf("%s: send or recv", side);
    }
    error = sim_node_set_parse(src, &act->a);
    if (!error) {
        error = sim_node_set_parse(dst, &act->b);
    }
    if (error) {
        return error;
    }
    if (!strcmp(kind, "drop")) {
        spec->kind = SIM_STAGE_DROP;
        return parse_percent(arg1, &spec->permille);
    } else if (!strcmp(kind, "dup")) {
        spec->kind = SIM_STAGE_DUP;
        error = parse_percent(arg1, &spec->permille);
        if (!error && arg2) {
            error = parse_ms(arg2, &ms);
        }
    } else if (!strcmp(kind, "delay")) {
        spec->kind = SIM_STAGE_DELAY;
        error = parse_ms(arg1, &ms);
        if (!error && arg2) {
            error = parse_ms(arg2, &jitter);
        }
    } else if (!strcmp(kind, "reorder")) {
        spec->kind = SIM_STAGE_REORDER;
        error = parse_percent(arg1, &spec->permille);
        if (!error) {
            error = parse_ms(arg2, &ms);
        }
    } else {
        return xasprintf("%s: drop, dup, delay or reorder", kind);
    }
    spec->ms = ms;
    spec->jitter_ms = jitter;
    return error;
}

static char *
parse_at(char *save, struct sim_action *act)
{
    const char *what;
    char *error = parse_ms(strtok_r(NULL, " \t", &save), &act->at);

    if (error) {
        return error;
    }
    what = strtok_r(NULL, " \t", &save);
    if (!what) {
        return xstrdup("at T: what happens is missing");
    } else if (!strcmp(what, "crash") || !strcmp(what, "restart")) {
        act->kind = what[0] == 'c' ? ACT_CRASH : ACT_RESTART;
        error = parse_node(strtok_r(NULL, " \t", &save), &act->node);
        const char *opt = strtok_r(NULL, " \t", &save);
        if (!error && opt) {
            if (act->kind == ACT_CRASH && !strcmp(opt, "wipe")) {
                act->wipe = true;
            } else {
                error = xasprintf("%s: unexpected", opt);
            }
        }
    } else if (!strcmp(what, "partition")) {
        const char *a = strtok_r(NULL, " \t", &save);
        const char *b = strtok_r(NULL, " \t", &save);

        act->kind = ACT_PARTITION;
        if (b && !strcmp(b, "->")) {
            act->one_way = true;
            b = strtok_r(NULL, " \t", &save);
        }
        if (!a || !b) {
            return xstrdup("partition A B, or partition A -> B");
        }
        error = sim_node_set_parse(a, &act->a);
        if (!error) {
            error = sim_node_set_parse(b, &act->b);
        }
    } else if (!strcmp(what, "heal")) {
        act->kind = ACT_HEAL;
    } else if (!strcmp(what, "faults")) {
        act->kind = ACT_FAULTS;
        error = parse_percent(strtok_r(NULL, " \t", &save), &act->permille);
    } else if (!strcmp(what, "stage")) {
        act->kind = ACT_STAGE;
        error = parse_stage(save, act);
    } else if (!strcmp(what, "unstage")) {
        const char *name = strtok_r(NULL, " \t", &save);

        act->kind = ACT_UNSTAGE;
        if (!name) {
            return xstrdup("unstage NAME");
        }
        act->name = xstrdup(name);
    } else if (!strcmp(what, "serving") || !strcmp(what, "ready")) {
        const char *on;

        act->kind = what[0] == 's' ? ACT_SERVING : ACT_READY;
        error = parse_node(strtok_r(NULL, " \t", &save), &act->node);
        on = strtok_r(NULL, " \t", &save);
        if (!error) {
            if (!on || (strcmp(on, "on") && strcmp(on, "off"))) {
                error = xasprintf("%s NODE on|off", what);
            } else if (act->kind == ACT_SERVING
                       ? !sim_id_is_lb(act->node)
                       : !sim_id_is_server(act->node)) {
                error = xasprintf("%s: only %s", what,
                                  act->kind == ACT_SERVING
                                  ? "LB nodes serve" : "servers are ready");
            }
            act->on = on && !strcmp(on, "on");
        }
    } else if (!strcmp(what, "skew")) {
        act->kind = ACT_SKEW;
        error = parse_node(strtok_r(NULL, " \t", &save), &act->node);
        const char *ms = strtok_r(NULL, " \t", &save);
        if (!error) {
            char *end;

            act->ms = ms ? strtoll(ms, &end, 10) : 0;
            if (!ms || *end) {
                error = xstrdup("skew NODE MS");
            }
        }
    } else {
        error = xasprintf("%s: unknown event", what);
    }
    return error;
}

static void
action_destroy(struct sim_action *act)
{
    free(act->name);
    sim_node_set_destroy(&act->a);
    sim_node_set_destroy(&act->b);
}

static int
compare_actions(const void *a_, const void *b_)
{
    const struct sim_action *a = a_, *b = b_;

    return (a->at != b->at ? (a->at < b->at ? -1 : 1)
            : a->line < b->line ? -1 : a->line > b->line);
}

static char *
check_node(const struct sim_scenario *scn, uint32_t node)
{
    if ((sim_id_is_lb(node) && node - SIM_LB_ID(0) >= scn->set.lbs)
        || (sim_id_is_server(node)
            && node - SIM_SERVER_ID(0) >= scn->set.servers)) {
        return xasprintf("node %"PRIu32" beyond the cluster's", node);
    }
    return NULL;
}

/* Parses scenario 'text' into 'scn'.  Returns NULL, or an error message
 * (with its line) that the caller must free. */
char *
sim_scenario_parse(const char *text, struct sim_scenario *scn)
{
    char *copy = xstrdup(text), *line_save = NULL, *error = NULL;
    size_t allocated = 0, line_no = 0;
    char *line = copy;

    memset(scn, 0, sizeof *scn);
    sim_settings_init(&scn->set);
    while (line && !error) {
        char *next = strchr(line, '\n');
        char *save = NULL, *tok;

        if (next) {
            *next++ = '\0';
        }
        line_no++;
        char *hash = strchr(line, '#');
        if (hash) {
            *hash = '\0';
        }
        tok = strtok_r(line, " \t\r", &save);
        if (!tok) {
            line = next;
            continue;
        }
        if (!strcmp(tok, "set")) {
            const char *name = strtok_r(NULL, " \t\r", &save);
            const char *value = strtok_r(NULL, " \t\r", &save);

            error = (name && value ? sim_settings_set(&scn->set, name, value)
                     : xstrdup("set NAME VALUE"));
        } else if (!strcmp(tok, "expect-failure")
                   || !strcmp(tok, "tolerate")) {
            const char *name = strtok_r(NULL, " \t\r", &save);
            size_t i;

            for (i = 0; i < SIM_N_INVARIANTS; i++) {
                if (name && !strcmp(name, sim_invariant_name(i))) {
                    if (tok[0] == 'e') {
                        scn->expected_failures |= 1u << i;
                    } else {
                        scn->tolerated_failures |= 1u << i;
                    }
                    break;
                }
            }
            if (i == SIM_N_INVARIANTS) {
                error = xasprintf("%s: no such invariant",
                                  name ? name : "(nothing)");
            }
        } else if (!strcmp(tok, "flows") || !strcmp(tok, "at")) {
            struct sim_action *act;

            if (scn->n_actions >= allocated) {
                scn->actions = x2nrealloc(scn->actions, &allocated,
                                          sizeof *scn->actions);
            }
            act = &scn->actions[scn->n_actions++];
            memset(act, 0, sizeof *act);
            act->line = line_no;
            if (tok[0] == 'f') {
                act->kind = ACT_FLOWS;
                error = parse_flows(save, act);
            } else {
                error = parse_at(save, act);
            }
            if (!error && act->node) {
                error = check_node(scn, act->node);
            }
        } else {
            error = xasprintf("%s: unknown statement", tok);
        }
        line = next;
    }
    (void) line_save;
    free(copy);
    if (error) {
        char *msg = xasprintf("line %"PRIuSIZE": %s", line_no, error);

        free(error);
        sim_scenario_destroy(scn);
        return msg;
    }
    if (!scn->set.lbs || scn->set.lbs > SIM_MAX_LBS || !scn->set.servers) {
        sim_scenario_destroy(scn);
        return xstrdup("lbs must be 1 to 999, servers at least 1");
    }
    qsort(scn->actions, scn->n_actions, sizeof *scn->actions,
          compare_actions);
    return NULL;
}

/* Reads and parses the scenario in 'file_name'. */
char *
sim_scenario_read(const char *file_name, struct sim_scenario *scn)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    struct ds line = DS_EMPTY_INITIALIZER;
    FILE *file = fopen(file_name, "r");
    char *error;

    if (!file) {
        return xasprintf("%s: %s", file_name, ovs_strerror(errno));
    }
    while (!ds_get_line(&line, file)) {
        ds_put_format(&text, "%s\n", ds_cstr(&line));
    }
    ds_destroy(&line);
    fclose(file);
    error = sim_scenario_parse(ds_cstr(&text), scn);
    ds_destroy(&text);
    if (error) {
        char *msg = xasprintf("%s: %s", file_name, error);

        free(error);
        return msg;
    }
    return NULL;
}

void
sim_scenario_destroy(struct sim_scenario *scn)
{
    for (size_t i = 0; i < scn->n_actions; i++) {
        action_destroy(&scn->actions[i]);
    }
    free(scn->actions);
    scn->actions = NULL;
    scn->n_actions = 0;
}

/* A scenario drawn from 'seed', as text: the "done when" scenario of the
 * simulator's issue (5 % loss, duplication and reordering on every link,
 * one random crash after convergence, its node restarting with or without
 * its journal), on a cluster of random size, with short and long-lived
 * clients. */
static uint64_t
xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

void
sim_scenario_random(uint64_t seed, struct ds *text)
{
    uint64_t x = seed * UINT64_C(0x9e3779b97f4a7c15) + 1;
#define NEXT() xorshift(&x)
    unsigned int lbs = 3 + NEXT() % 6, servers = 2 + NEXT() % 7;
    unsigned int crash_at = 4000 + NEXT() % 12000;
    unsigned int down_for = 1000 + NEXT() % 6000;
    bool crash_lb = NEXT() % 3 != 0;
    unsigned int victim = 1 + NEXT() % (crash_lb ? lbs : servers);

    NEXT();
    ds_put_format(text, "# random scenario of seed %"PRIu64"\n", seed);
    ds_put_format(text, "set lbs %u\nset servers %u\n", lbs, servers);
    ds_put_cstr(text, "set lease_ms 3000\nset publish_interval_ms 500\n"
                "set linger_ms 2000\nset end_ms 30000\n");
    ds_put_cstr(text, "at 0 faults 5\n");
    ds_put_format(text, "flows %u at 0 over 3000 close never interval 300\n",
                  10 + (unsigned int) (NEXT() % 20));
    ds_put_format(text, "flows %u at 1000 over 15000 requests 4 "
                  "interval 200 close %s\n",
                  20 + (unsigned int) (NEXT() % 40),
                  NEXT() % 4 ? "fin" : "rst");
    ds_put_format(text, "at %u crash %s%u%s\n", crash_at,
                  crash_lb ? "lb" : "srv", victim,
                  NEXT() % 2 ? " wipe" : "");
    ds_put_format(text, "at %u restart %s%u\n", crash_at + down_for,
                  crash_lb ? "lb" : "srv", victim);
#undef NEXT
}

/* Running. */

/* When the next action is due (LLONG_MAX: none left). */
long long int
sim_scenario_next(const struct sim_scenario *scn)
{
    return scn->next < scn->n_actions ? scn->actions[scn->next].at
                                      : LLONG_MAX;
}

static void
apply_faults(struct sim *sim, unsigned int permille)
{
    struct sim_node_set all = { .all_lbs = true, .all_servers = true,
                                .edge = true };
    struct sim_stage_spec drop = {
        .kind = SIM_STAGE_DROP, .side = SIM_SIDE_SEND, .permille = permille,
    };
    struct sim_stage_spec dup = drop, reorder = drop;

    dup.kind = SIM_STAGE_DUP;
    reorder.kind = SIM_STAGE_REORDER;
    reorder.ms = 10;
    sim_bus_remove_stages(sim->bus, "faults");
    if (permille) {
        sim_bus_add_stage(sim->bus, "faults", &all, &all, &drop);
        sim_bus_add_stage(sim->bus, "faults", &all, &all, &dup);
        sim_bus_add_stage(sim->bus, "faults", &all, &all, &reorder);
    }
}

static void
count_fault(struct sim *sim)
{
    sim->n_faults++;
    sim->last_fault = sim->clock.now;
}

/* An LB node leaves or joins: the TRACKER_SYNCs from now on, and the
 * entries moved (sim_invariants_count_moved()) by the next change or the
 * end, are counted as that change's, against the tracker entries there
 * were before the first change of its kind. */
static void
lb_change(struct sim *sim, enum sim_lb_change change)
{
    if (!sim->entries_before[change]) {
        sim->entries_before[change] = sim_invariants_tracker_entries(sim);
    }
    sim_invariants_count_moved(sim);
    sim->lb_change = change;
}

static void
apply(struct sim *sim, const struct sim_action *act)
{
    struct sim_lb *lb = sim_find_lb(sim, act->node);
    struct sim_agent *agent = sim_find_agent(sim, act->node);

    sim_trace(sim, 0, "scenario line %"PRIuSIZE, act->line);
    switch (act->kind) {
    case ACT_FLOWS:
        sim_edge_add_flows(sim->edge, act->n, act->at, act->ms,
                           act->requests, act->interval_ms, act->close);
        break;
    case ACT_CRASH:
        if (lb && lb->alive) {
            lb_change(sim, SIM_LB_LEAVE);
            sim_lb_crash(lb, act->wipe);
            count_fault(sim);
        } else if (agent && agent->alive) {
            sim_agent_crash(agent, act->wipe);
            count_fault(sim);
        }
        break;
    case ACT_RESTART:
        if (lb && !lb->alive) {
            lb_change(sim, SIM_LB_JOIN);
            sim_lb_start(lb);
        } else if (agent && !agent->alive) {
            sim_agent_start(agent);
        }
        break;
    case ACT_PARTITION:
        sim_bus_partition(sim->bus, "partition", &act->a, &act->b,
                          act->one_way);
        count_fault(sim);
        break;
    case ACT_HEAL:
        sim_bus_remove_stages(sim->bus, "partition");
        break;
    case ACT_FAULTS:
        apply_faults(sim, act->permille);
        break;
    case ACT_STAGE:
        sim_bus_add_stage(sim->bus, act->name, &act->a, &act->b, &act->spec);
        break;
    case ACT_UNSTAGE:
        sim_bus_remove_stages(sim->bus, act->name);
        break;
    case ACT_SKEW:
        if (lb) {
            lb->clock.skew_ms = act->ms;
        } else if (agent) {
            agent->clock.skew_ms = act->ms;
        }
        break;
    case ACT_SERVING:
        if (lb) {
            sim_lb_set_serving(lb, act->on);
        }
        break;
    case ACT_READY:
        if (agent) {
            sim_agent_set_ready(agent, act->on);
        }
        break;
    }

    /* Links cut or changed by a scenario suspend the health invariant
     * until they are all gone (and it gives health checking time). */
    if (sim_bus_count_stages_but(sim->bus, "faults")) {
        sim->links_calm_since = LLONG_MAX;
    } else if (sim->links_calm_since == LLONG_MAX) {
        sim->links_calm_since = sim->clock.now;
    }
}

/* Does the actions of 'scn' that are due in 'sim'. */
void
sim_scenario_run(struct sim_scenario *scn, struct sim *sim)
{
    while (scn->next < scn->n_actions
           && scn->actions[scn->next].at <= sim->clock.now) {
        apply(sim, &scn->actions[scn->next++]);
    }
}
