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

/*
 * ovslb-sim: a whole ovslb cluster in one process, on a virtual clock and a
 * message bus with faults, run by a scenario and checked by invariants
 * (tests/sim/README.md).
 *
 *   ovslb-sim [--seed N] [--trace[=health]] SCENARIO
 *   ovslb-sim --random [--seed N] [--runs K] [--trace]
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>
#include "command-line.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "sim-agent.h"
#include "sim-bus.h"
#include "sim-edge.h"
#include "sim-invariants.h"
#include "sim-lb.h"
#include "sim-scenario.h"
#include "sim.h"
#include "tcp-seg.h"
#include "util.h"

/* The world's services to its modules. */

uint64_t
sim_random(struct sim *sim)
{
    return sim_splitmix(&sim->prng);
}

/* Prints a step of node 'node' (0: the simulator itself) if tracing. */
void
sim_trace(const struct sim *sim, uint32_t node, const char *format, ...)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    va_list args;

    if (!sim->trace) {
        return;
    }
    ds_put_format(&s, "%10.3f ", sim->clock.now / 1000.0);
    if (node) {
        sim_id_format(node, &s);
    } else {
        ds_put_cstr(&s, "sim");
    }
    ds_put_char_multiple(&s, ' ', MAX(0, 18 - (int) s.length));
    va_start(args, format);
    ds_put_format_valist(&s, format, args);
    va_end(args);
    ds_put_char(&s, '\n');
    fputs(ds_cstr(&s), sim->trace);
    ds_destroy(&s);
}

static bool trace_health;

/* Sends control message 'msg' from 'src' to 'dst' on the bus, encoded as
 * ctl-sock would (numbered from '*tx_seq'). */
void
sim_send_ctl(struct sim *sim, uint32_t src, uint32_t dst,
             struct ctl_msg *msg, uint64_t *tx_seq)
{
    struct ofpbuf *wire = ofpbuf_new(CTL_MSG_MAX_LEN);
    int error;

    msg->sender = src;
    msg->seq = ++*tx_seq;
    error = ctl_msg_encode(msg, &sim->key, wire);
    if (error) {
        ovs_fatal(error, "cannot encode %s",
                  ctl_msg_type_to_string(msg->type));
    }
    if (sim->trace
        && (trace_health || (msg->type != CTL_MSG_PING
                             && msg->type != CTL_MSG_PONG
                             && msg->type != CTL_MSG_GOSSIP))) {
        struct ds to = DS_EMPTY_INITIALIZER;
        struct ds what = DS_EMPTY_INITIALIZER;

        sim_id_format(dst, &to);
        ctl_msg_format(msg, &what);
        sim_trace(sim, src, "sends to %s: %s", ds_cstr(&to), ds_cstr(&what));
        ds_destroy(&what);
        ds_destroy(&to);
    }
    if (sim_id_is_lb(src)) {
        if (msg->type == CTL_MSG_PING || msg->type == CTL_MSG_PONG
            || msg->type == CTL_MSG_GOSSIP || msg->type == CTL_MSG_LB_LIST) {
            sim->health_bytes_lbs += wire->size;
            sim->gossip_bytes_lbs += (msg->type == CTL_MSG_GOSSIP
                                      ? wire->size : 0);
        } else if (msg->type == CTL_MSG_TRACKER_SYNC) {
            sim->tracker_syncs[sim->lb_change]++;
        }
    }
    sim_bus_send(sim->bus, sim->clock.now, src, dst, SIM_PKT_CTL, wire);
}

struct sim_lb *
sim_find_lb(const struct sim *sim, uint32_t id)
{
    return (sim_id_is_lb(id) && id - SIM_LB_ID(0) < sim->n_lbs
            ? sim->lbs[id - SIM_LB_ID(0)] : NULL);
}

struct sim_agent *
sim_find_agent(const struct sim *sim, uint32_t id)
{
    return (sim_id_is_server(id) && id - SIM_SERVER_ID(0) < sim->n_agents
            ? sim->agents[id - SIM_SERVER_ID(0)] : NULL);
}

static struct in6_addr
v4(uint32_t addr)
{
    struct in6_addr a;

    in6_addr_set_mapped_ipv4(&a, htonl(addr));
    return a;
}

/* 203.0.113.10. */
struct in6_addr
sim_vip_addr(void)
{
    return v4(203u << 24 | 113 << 8 | 10);
}

/* LB node 'i''s address on network 'net' (0: north, 1: south, 2:
 * control): 10.(1 + net).0.0 + i + 1. */
struct in6_addr
sim_lb_addr(size_t i, int net)
{
    return v4((10u << 24 | (1u + net) << 16) + i + 1);
}

/* Server node 'j''s underlay and control address: 10.8.0.0 + j + 1. */
struct in6_addr
sim_server_addr(size_t j)
{
    return v4((10u << 24 | 8u << 16) + j + 1);
}

/* The index of the server whose address is 'addr'. */
bool
sim_server_index(const struct in6_addr *addr, size_t *j)
{
    ovs_be32 a4 = in6_addr_get_mapped_ipv4(addr);
    uint32_t a = ntohl(a4);

    if (!a4 || (a >> 16) != (10u << 8 | 8u) || !(a & 0xffff)) {
        return false;
    }
    *j = (a & 0xffff) - 1;
    return true;
}

/* The options a Linux host puts in its SYN and SYN/ACK (the timestamps
 * aside): the simulator's clients and servers use them. */
void
sim_syn_opts(struct tcp_opts *opts)
{
    opts->has_mss = true;
    opts->mss = 1460;
    opts->has_wscale = true;
    opts->wscale = 7;
    opts->sack_permitted = true;
}

/* The simulation. */

static void
sim_init(struct sim *sim, const struct sim_settings *set, uint64_t seed,
         const char *name, FILE *trace, const char *dir)
{
    memset(sim, 0, sizeof *sim);
    sim_clock_init(&sim->clock);
    sim->seed = seed;
    sim->prng = seed;
    sim->scenario_name = name;
    sim->trace = trace;
    sim->set = *set;
    sim->last_fault = LLONG_MIN;
    sim->links_calm_since = LLONG_MIN;
    if (ctl_key_init(&sim->key, SIM_CLUSTER_KEY, strlen(SIM_CLUSTER_KEY))) {
        ovs_fatal(0, "cannot make the cluster key");
    }
    /* At least 1 ms: the cores' answers come after what they answer. */
    sim->bus = sim_bus_create(sim_random(sim), MAX(set->latency_ms, 1));
    sim_bus_set_trace(sim->bus, trace);
    sim->inv = xzalloc(sizeof *sim->inv);
    sim->edge = sim_edge_create(sim);
    sim->n_lbs = set->lbs;
    sim->lbs = xcalloc(sim->n_lbs, sizeof *sim->lbs);
    sim->n_agents = set->servers;
    sim->agents = xcalloc(sim->n_agents, sizeof *sim->agents);
    for (size_t i = 0; i < sim->n_lbs; i++) {
        sim->lbs[i] = sim_lb_create(sim, i, dir);
    }
    for (size_t j = 0; j < sim->n_agents; j++) {
        sim->agents[j] = sim_agent_create(sim, j, dir);
    }
    for (size_t i = 0; i < sim->n_lbs; i++) {
        sim_lb_start(sim->lbs[i]);
    }
    for (size_t j = 0; j < sim->n_agents; j++) {
        sim_agent_start(sim->agents[j]);
    }
}

static void
sim_destroy(struct sim *sim)
{
    for (size_t i = 0; i < sim->n_lbs; i++) {
        sim_lb_destroy(sim->lbs[i]);
    }
    for (size_t j = 0; j < sim->n_agents; j++) {
        sim_agent_destroy(sim->agents[j]);
    }
    free(sim->lbs);
    free(sim->agents);
    sim_edge_destroy(sim->edge);
    sim_bus_destroy(sim->bus);
    sim_invariants_destroy(sim->inv);
    ctl_key_destroy(&sim->key);
}

static void
deliver(struct sim *sim, struct sim_pkt *pkt)
{
    struct sim_lb *lb = sim_find_lb(sim, pkt->dst);
    struct sim_agent *agent = sim_find_agent(sim, pkt->dst);

    if (lb) {
        sim_lb_receive(lb, pkt);
    } else if (agent) {
        sim_agent_receive(agent, pkt);
    } else if (pkt->dst == SIM_EDGE_ID) {
        sim_edge_receive(sim->edge, pkt);
    }
    sim_pkt_destroy(pkt);
}

/* Does everything due at the current time: the scenario's actions, the
 * clients' timers, the packets arriving, the nodes' timers. */
static void
run_step(struct sim *sim, struct sim_scenario *scn)
{
    long long int now = sim->clock.now;
    struct sim_pkt *pkt;

    sim_scenario_run(scn, sim);
    sim_edge_run(sim->edge);
    while ((pkt = sim_bus_pop(sim->bus, now))) {
        deliver(sim, pkt);
    }
    for (size_t i = 0; i < sim->n_lbs; i++) {
        /* A timer due, or (batch_passes) packets that came this step. */
        if (sim->lbs[i]->pass_due
            || sim_lb_next_deadline(sim->lbs[i]) <= now) {
            sim_lb_run(sim->lbs[i]);
        }
    }
    for (size_t j = 0; j < sim->n_agents; j++) {
        if (sim->agents[j]->pass_due
            || sim_agent_next_deadline(sim->agents[j]) <= now) {
            sim_agent_run(sim->agents[j]);
        }
    }
}

/* The time of the next event after the current step. */
static long long int
next_event(const struct sim *sim, const struct sim_scenario *scn)
{
    long long int next = MIN(sim_bus_next(sim->bus),
                             sim_edge_next_deadline(sim->edge));

    next = MIN(next, sim_scenario_next(scn));
    for (size_t i = 0; i < sim->n_lbs; i++) {
        next = MIN(next, sim_lb_next_deadline(sim->lbs[i]));
    }
    for (size_t j = 0; j < sim->n_agents; j++) {
        next = MIN(next, sim_agent_next_deadline(sim->agents[j]));
    }
    /* A timer that its pass left due runs again a millisecond later
     * rather than at once, so that it cannot stall the clock. */
    return MAX(next, sim->clock.now + 1);
}

struct run_result {
    uint64_t failures;
    uint64_t steps;
    double wall_s;
};

static void
print_summary(const struct sim *sim, const struct run_result *r, FILE *out)
{
    const struct sim_bus_stats *bs = sim_bus_get_stats(sim->bus);
    const struct sim_edge *e = sim->edge;

    fprintf(out, "%s, seed %"PRIu64": %.1f s of virtual time in %.2f s "
            "(%"PRIu64" steps), %"PRIuSIZE" LB nodes, %"PRIuSIZE
            " servers, %u faults\n", sim->scenario_name, sim->seed,
            sim->clock.now / 1000.0, r->wall_s, r->steps, sim->n_lbs,
            sim->n_agents, sim->n_faults);
    fprintf(out, "  clients: %"PRIuSIZE", handshakes %"PRIu64", echoes %"
            PRIu64", closed %"PRIu64", handshakes failed %"PRIu64", reset %"
            PRIu64", stalled %"PRIu64", no route %"PRIu64"\n", e->n_flows,
            e->handshakes, e->echoes, e->closes, e->failed, e->resets,
            e->stalls, e->no_route);
    fprintf(out, "  bus: %"PRIu64" sent, %"PRIu64" delivered, %"PRIu64
            " dropped, %"PRIu64" duplicated, %"PRIu64" reordered, %"PRIu64
            " control bytes\n", bs->sent, bs->delivered, bs->dropped,
            bs->duplicated, bs->reordered, bs->ctl_bytes);
    sim_invariants_print(sim->inv, out);

    /* One line for scripts (tests/sim/sim-report.sh). */
    double seconds = MAX(sim->clock.now, 1) / 1000.0;
    size_t established = 0, lost = 0;
    for (size_t f = 0; f < e->n_flows; f++) {
        const struct sim_flow *flow = e->flows[f];

        if (flow->established != LLONG_MAX) {
            established++;
            lost += (flow->state == SIM_FLOW_RESET
                     || flow->state == SIM_FLOW_STALLED);
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(out, "report: lbs=%"PRIuSIZE" servers=%"PRIuSIZE" flows=%"
            PRIuSIZE" virtual_s=%.1f wall_s=%.2f ctl_bytes_per_lb_s=%.0f "
            "ctl_bytes_per_node_s=%.0f health_bytes_per_lb_s=%.0f "
            "gossip_bytes_per_lb_s=%.0f "
            "lb_losses=%"PRIu64" lb_first_detect_max_ms=%lld "
            "lb_detect_max_ms=%lld "
            "entries_per_flow=%.2f tracker_bytes_per_flow=%"PRIu64" "
            "tracker_bytes_established=%"PRIu64" "
            "established=%"PRIuSIZE" lost=%"PRIuSIZE" "
            "entries_before_leave=%"PRIu64" syncs_leave=%"PRIu64" "
            "moved_leave=%"PRIu64" "
            "entries_before_join=%"PRIu64" syncs_join=%"PRIu64" "
            "moved_join=%"PRIu64" "
            "max_rss_mb=%ld failures=%"PRIu64"\n",
            sim->n_lbs, sim->n_agents, e->n_flows, seconds, r->wall_s,
            bs->ctl_bytes_lbs / (double) sim->n_lbs / seconds,
            bs->ctl_bytes / (double) (sim->n_lbs + sim->n_agents) / seconds,
            sim->health_bytes_lbs / (double) sim->n_lbs / seconds,
            sim->gossip_bytes_lbs / (double) sim->n_lbs / seconds,
            sim->inv->n_lb_losses, sim->inv->lb_first_detect_max_ms,
            sim->inv->lb_detect_max_ms,
            sim->inv->max_entries_per_flow_x100 / 100.0,
            sim->inv->max_tracker_bytes_per_flow,
            sim->inv->max_tracker_bytes_established, established, lost,
            sim->entries_before[SIM_LB_LEAVE],
            sim->tracker_syncs[SIM_LB_LEAVE],
            sim->entries_moved[SIM_LB_LEAVE],
            sim->entries_before[SIM_LB_JOIN],
            sim->tracker_syncs[SIM_LB_JOIN],
            sim->entries_moved[SIM_LB_JOIN],
            ru.ru_maxrss / 1024, r->failures);
}

static double
wall_seconds(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return tv.tv_sec + tv.tv_usec / 1e6;
}

/* Runs scenario 'scn' ('name') with 'seed'. */
static struct run_result
run(struct sim_scenario *scn, const char *name, uint64_t seed, FILE *trace,
    bool quiet)
{
    /* The nodes' journals: in memory (tmpfs) if the machine has one,
     * where SQLite's syncs cost nothing. */
    char *dir = xasprintf("%s/ovslb-sim-XXXXXX",
                          access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
    struct run_result r = { .failures = 0 };
    double start = wall_seconds();
    struct sim sim;

    if (!mkdtemp(dir)) {
        ovs_fatal(errno, "cannot make a temporary directory");
    }
    scn->next = 0;
    sim_init(&sim, &scn->set, seed, name, trace, dir);
    long long int next_check = 0;
    while (sim.clock.now <= scn->set.end_ms) {
        run_step(&sim, scn);
        if (sim.clock.now >= next_check) {
            sim_invariants_check(&sim, true);
            next_check = sim.clock.now + scn->set.check_every_ms;
        } else {
            sim_invariants_check(&sim, false);  /* ring: at every step. */
        }
        r.steps++;
        sim_clock_advance(&sim.clock, MIN(next_event(&sim, scn),
                                          (long long int) scn->set.end_ms
                                          + 1));
    }
    sim_invariants_count_moved(&sim);
    r.failures = sim_invariants_n_failures(sim.inv);
    r.wall_s = wall_seconds() - start;
    if (scn->expected_failures) {
        /* A known bug: the run passes if the invariants expected to fail,
         * and no others, do; once it is fixed, the scenario says so. */
        uint64_t expected = 0;

        for (size_t i = 0; i < SIM_N_INVARIANTS; i++) {
            if (scn->expected_failures & (1u << i)) {
                expected += sim.inv->failures[i];
                if (!sim.inv->failures[i]) {
                    printf("%s: invariant %s was expected to fail "
                           "(expect-failure) but held: update the "
                           "scenario\n", name, sim_invariant_name(i));
                    r.failures++;
                }
            }
        }
        r.failures -= expected;
        if (expected) {
            printf("%s: %"PRIu64" expected failures (expect-failure)\n",
                   name, expected);
        }
    }
    uint64_t tolerated = 0;
    for (size_t i = 0; i < SIM_N_INVARIANTS; i++) {
        if (scn->tolerated_failures & (1u << i)) {
            tolerated += sim.inv->failures[i];
        }
    }
    if (tolerated) {
        r.failures -= tolerated;
        printf("%s: %"PRIu64" tolerated failures (known bugs)\n", name,
               tolerated);
    }
    if (!quiet || r.failures) {
        print_summary(&sim, &r, stdout);
    }
    sim.trace = NULL;
    sim_bus_set_trace(sim.bus, NULL);
    sim_destroy(&sim);
    rmdir(dir);
    free(dir);
    return r;
}

static void
usage(void)
{
    printf("%s: simulates an ovslb cluster on a message bus\n"
           "usage: %s [OPTIONS] SCENARIO\n"
           "       %s --random [OPTIONS]\n"
           "\n"
           "  --seed N         seed of every random choice (default 1)\n"
           "  --random         a random scenario drawn from the seed\n"
           "  --runs K         with --random: K runs, seeds N to N+K-1\n"
           "  --trace          print what every node does, step by step\n"
           "  --trace=health   ...including health checks and gossip\n"
           "  --print-scenario print the random scenario and exit\n"
           "  --quiet          print only runs that fail an invariant\n"
           "  -h, --help       this help\n"
           "\nExit status: 0 if every invariant held, 1 otherwise.\n",
           program_name, program_name, program_name);
    exit(EXIT_SUCCESS);
}

int
main(int argc, char *argv[])
{
    static const struct option long_options[] = {
        {"seed", required_argument, NULL, 's'},
        {"random", no_argument, NULL, 'r'},
        {"runs", required_argument, NULL, 'n'},
        {"trace", optional_argument, NULL, 't'},
        {"print-scenario", no_argument, NULL, 'p'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t seed = 1, runs = 1, failed_runs = 0;
    bool random_scn = false, print = false, quiet = false;
    FILE *trace = NULL;

    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_WARN);
    for (;;) {
        int c = getopt_long(argc, argv, "h", long_options, NULL);

        if (c == -1) {
            break;
        }
        switch (c) {
        case 's':
            seed = strtoull(optarg, NULL, 10);
            break;
        case 'r':
            random_scn = true;
            break;
        case 'n':
            runs = strtoull(optarg, NULL, 10);
            break;
        case 't':
            trace = stdout;
            trace_health = optarg && !strcmp(optarg, "health");
            break;
        case 'p':
            print = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            usage();
            break;
        default:
            exit(EXIT_FAILURE);
        }
    }
    if (random_scn ? optind != argc : optind != argc - 1) {
        ovs_fatal(0, "one scenario file, or --random (--help for help)");
    }

    double start = wall_seconds();
    for (uint64_t k = 0; k < (random_scn ? runs : 1); k++) {
        struct sim_scenario scn;
        struct ds text = DS_EMPTY_INITIALIZER;
        char *name, *error;

        if (random_scn) {
            sim_scenario_random(seed + k, &text);
            if (print) {
                fputs(ds_cstr(&text), stdout);
                ds_destroy(&text);
                continue;
            }
            error = sim_scenario_parse(ds_cstr(&text), &scn);
            name = xasprintf("random(%"PRIu64")", seed + k);
        } else {
            error = sim_scenario_read(argv[optind], &scn);
            name = xstrdup(argv[optind]);
        }
        if (error) {
            ovs_fatal(0, "%s", error);
        }
        if (trace && random_scn) {
            fputs(ds_cstr(&text), trace);
        }
        struct run_result r = run(&scn, name, seed + k, trace, quiet);
        if (r.failures) {
            failed_runs++;
            if (random_scn) {
                printf("  scenario (ovslb-sim --random --seed %"PRIu64
                       " --print-scenario):\n%s", seed + k, ds_cstr(&text));
            }
        }
        sim_scenario_destroy(&scn);
        ds_destroy(&text);
        free(name);
    }
    if (random_scn && runs > 1 && !print) {
        printf("%"PRIu64" runs (seeds %"PRIu64" to %"PRIu64") in %.1f s: "
               "%"PRIu64" failed an invariant\n", runs, seed,
               seed + runs - 1, wall_seconds() - start, failed_runs);
    }
    return failed_runs ? EXIT_FAILURE : EXIT_SUCCESS;
}
