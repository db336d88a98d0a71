// SPDX-License-Identifier: GPL-2.0-only
/* test-options.c - option, CPU list, PID list, duration and threshold parsing */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "latencyscope.h"
#include "tap.h"

/* parse - run ls_opts_parse on a command line given as one string */
static int parse(struct ls_opts *o, const char *line, char *err, size_t errlen)
{
	char *copy = strdup(line), *argv[32], *save = NULL;
	int argc = 0, rc;

	argv[argc++] = "latencyscope";
	for (char *t = strtok_r(copy, " ", &save); t && argc < 31; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	err[0] = '\0';
	rc = ls_opts_parse(o, argc, argv, err, errlen);
	free(copy);
	return rc;
}

static void cpulist_ok(const char *in, const char *want)
{
	struct ls_cpuset s;
	char err[256];
	char *got;

	if (ls_cpulist_parse(in, &s, false, err, sizeof(err)) < 0) {
		ok(0, "cpu list '%s' parses (%s)", in, err);
		return;
	}
	got = ls_cpulist_format(&s);
	is_str(got, want, "cpu list '%s' is %s", in, want);
	free(got);
}

static void cpulist_bad(const char *in, const char *needle)
{
	struct ls_cpuset s;
	char err[256] = "";
	int rc = ls_cpulist_parse(in, &s, false, err, sizeof(err));

	ok(rc < 0 && strstr(err, needle), "cpu list '%s' is rejected naming '%s' (%s)", in, needle, err);
}

static void line_bad(const char *line, const char *needle)
{
	struct ls_opts o;
	char err[512];
	int rc = parse(&o, line, err, sizeof(err));

	ok(rc < 0 && strstr(err, needle), "'%s' is rejected naming '%s' (%s)", line, needle, err);
	ls_opts_free(&o);
}

static void test_cpulists(void)
{
	cpulist_ok("4-7", "4-7");
	cpulist_ok("4,5,6,7", "4-7");
	cpulist_ok("0-3,8", "0-3,8");
	cpulist_ok("9,1,3-4", "1,3-4,9");
	cpulist_ok("1", "1");
	cpulist_ok("2-2", "2");
	cpulist_bad("", "empty");
	cpulist_bad("7-4", "reversed");
	cpulist_bad("1,", "separate");
	cpulist_bad(",1", "expected a CPU number");
	cpulist_bad("1,,2", "expected a CPU number");
	cpulist_bad("a", "expected a CPU number");
	cpulist_bad("1-", "needs an end");
	cpulist_bad("1 2", "separate");
	cpulist_bad("-1", "expected a CPU number");
	cpulist_bad("99999", "too large");
	cpulist_bad("0x3", "separate");
}

static void test_sysfs_lists(void)
{
	struct ls_cpuset s;
	char err[128];

	ok(ls_cpulist_parse("\n", &s, true, err, sizeof(err)) == 0 && ls_cpuset_count(&s) == 0,
	    "an empty sysfs list (just a newline) is an empty set");
	ok(ls_cpulist_parse("2-3\n", &s, true, err, sizeof(err)) == 0 && ls_cpuset_count(&s) == 2,
	    "a sysfs list with a trailing newline parses");
}

static void test_pidlists(void)
{
	int pids[LS_MAX_PIDS], n = 0;
	char err[256];

	ok(ls_pidlist_parse("12,34", pids, &n, err, sizeof(err)) == 0 && n == 2 && pids[0] == 12 &&
	    pids[1] == 34, "pid list 12,34");
	n = 0;
	ok(ls_pidlist_parse("0", pids, &n, err, sizeof(err)) < 0 && strstr(err, "between 1"),
	    "pid 0 is rejected");
	n = 0;
	ok(ls_pidlist_parse("12,", pids, &n, err, sizeof(err)) < 0, "pid list with a trailing comma");
	n = 0;
	ok(ls_pidlist_parse("1-5", pids, &n, err, sizeof(err)) < 0, "pid ranges are rejected");
	n = 0;
	ok(ls_pidlist_parse("abc", pids, &n, err, sizeof(err)) < 0 && strstr(err, "expected a process id"),
	    "a pid list of letters is rejected");
	n = 0;
	ok(ls_pidlist_parse("99999999999", pids, &n, err, sizeof(err)) < 0, "an absurd pid is rejected");
}

static void test_durations(void)
{
	uint64_t ns;
	char err[256];

	ok(ls_parse_duration_ns("20us", &ns, err, sizeof(err)) == 0 && ns == 20000, "20us");
	ok(ls_parse_duration_ns("1.5ms", &ns, err, sizeof(err)) == 0 && ns == 1500000, "1.5ms");
	ok(ls_parse_duration_ns("2s", &ns, err, sizeof(err)) == 0 && ns == 2000000000ULL, "2s");
	ok(ls_parse_duration_ns("250", &ns, err, sizeof(err)) == 0 && ns == 250, "a bare number is ns");
	ok(ls_parse_duration_ns("20 us", &ns, err, sizeof(err)) < 0, "'20 us' is rejected");
	ok(ls_parse_duration_ns("20h", &ns, err, sizeof(err)) < 0 && strstr(err, "unknown unit"),
	    "unit h is rejected");
	ok(ls_parse_duration_ns("-5us", &ns, err, sizeof(err)) < 0, "negative durations are rejected");
	/* the range is checked after the unit: 1e11 s used to wrap to a tiny limit */
	ok(ls_parse_duration_ns("1e11s", &ns, err, sizeof(err)) < 0 && strstr(err, "out of range"),
	    "1e11s is out of range, not wrapped");
	ok(ls_parse_duration_ns("1e18s", &ns, err, sizeof(err)) < 0, "1e18s is out of range");
	ok(ls_parse_duration_ns("nan", &ns, err, sizeof(err)) < 0, "NaN is rejected");
	ok(ls_parse_duration_ns("inf", &ns, err, sizeof(err)) < 0, "infinity is rejected");
	ok(ls_parse_duration_ns("31y", &ns, err, sizeof(err)) < 0, "an unknown unit is rejected");
	ok(ls_parse_duration_ns("1e9s", &ns, err, sizeof(err)) == 0 && ns == 1000000000000000000ULL,
	    "1e9 s is the largest");
}

/* every numeric option and threshold: range, NaN and overflow are exit-3 errors */
static void test_numeric_ranges(void)
{
	static const char *bad[] = {
		"-t irq.stolen_max=1e11s", "--trace-threshold 1e11s", "--latency-budget 1e18s",
		"--notional 1e300", "--volume inf", "--bps-per-us 1e5", "--slippage nan",
		"-t isolation.preemptions=99999999999999999999999", "--duration 1e400",
		"--trace-buffer 1e30", "--frequency 99999999999999999999",
	};
	struct ls_opts o;
	struct ls_thresholds t;
	char err[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(&o, bad[i], err, sizeof(err));

		if (rc == 0)
			rc = ls_thresholds_init(&t, &o, err, sizeof(err));
		ok(rc < 0 && err[0], "'%s' is refused (%s)", bad[i], err);
		ls_opts_free(&o);
	}
}

static void test_options(void)
{
	struct ls_opts o;
	char err[512];

	ok(parse(&o, "", err, sizeof(err)) == 0, "no options");
	ok(o.duration == 10 && o.format == LS_FMT_TEXT && !o.cpus_given && o.nmodules >= 1,
	    "defaults: 10 s, text, all modules, default CPUs");
	ls_opts_free(&o);

	ok(parse(&o, "--module isolation --cpus 4-7 --pid 12,34 --duration 0.5 --json", err,
	    sizeof(err)) == 0, "a full command line parses (%s)", err);
	ok(o.nmodules == 1 && !strcmp(o.modules[0], "isolation") && o.cpus_given &&
	    ls_cpuset_count(&o.cpus) == 4 && o.npids == 2 && o.duration == 0.5 &&
	    o.format == LS_FMT_JSON, "and every value lands");
	ls_opts_free(&o);

	ok(parse(&o, "-m isolation,isolation -c 1 -d 3", err, sizeof(err)) == 0 && o.nmodules == 1,
	    "short options; a repeated module counts once");
	ls_opts_free(&o);

	ok(parse(&o, "--output run.json", err, sizeof(err)) == 0 && o.format == LS_FMT_JSON,
	    "--output *.json selects JSON");
	ls_opts_free(&o);
	ok(parse(&o, "--output run.json --format text", err, sizeof(err)) == 0 && o.format == LS_FMT_TEXT,
	    "--format wins over the file name");
	ls_opts_free(&o);
	ok(parse(&o, "--output report.html", err, sizeof(err)) == 0 && o.format == LS_FMT_HTML,
	    "--output *.html selects the HTML page");
	ls_opts_free(&o);
	ok(parse(&o, "-f html", err, sizeof(err)) == 0 && o.format == LS_FMT_HTML, "-f html too");
	ls_opts_free(&o);
	ok(parse(&o, "--threshold isolation.runq_p99_99=20us -t isolation.preemptions=3", err,
	    sizeof(err)) == 0 && o.nthresholds == 2, "thresholds are collected");
	ls_opts_free(&o);
	{	/* what the network module makes of it: the match its probe compiles in */
		struct ls_run r = { .opts = &o };
		struct ls_probe p = { .ops = &ls_mod_network };
		const char *m = NULL;

		ok(parse(&o, "--interface eth0,veth-a.1", err, sizeof(err)) == 0 &&
		    ls_mod_network.prepare(&p, &r, err, sizeof(err)) == 0 && p.cflags.n >= 1 &&
		    (m = p.cflags.v[0]) && strstr(m, "0x312e612d68746576ULL") &&	/* "veth-a.1" */
		    strstr(m, "0x306874650ULL") == NULL && strstr(m, "0x30687465ULL") &&	/* "eth0" */
		    strstr(strstr(m, "||") + 2, "||") && !strstr(strstr(strstr(m, "||") + 2, "||") + 2, "||"),
		    "--interface takes a list of device names");
		for (int i = 0; i < p.cflags.n; i++)
			free(p.cflags.v[i]);
		free(p.cflags.v);
		ls_opts_free(&o);
	}
	ok(parse(&o, "", err, sizeof(err)) == 0 && o.self_cost == LS_SELF_COST_AUTO,
	    "the probes' own cost: auto by default");
	ls_opts_free(&o);
	ok(parse(&o, "--self-cost sampled", err, sizeof(err)) == 0 &&
	    o.self_cost == LS_SELF_COST_SAMPLED, "--self-cost sampled");
	ls_opts_free(&o);
	ok(parse(&o, "--self-cost sampled --self-cost auto", err, sizeof(err)) == 0 &&
	    o.self_cost == LS_SELF_COST_AUTO, "--self-cost auto");
	ls_opts_free(&o);
	ok(parse(&o, "--self-cost full", err, sizeof(err)) == 0 && o.self_cost == LS_SELF_COST_FULL,
	    "--self-cost full");
	ls_opts_free(&o);
	ok(parse(&o, "--self-cost off", err, sizeof(err)) == 0 && o.self_cost == LS_SELF_COST_OFF,
	    "--self-cost off");
	ls_opts_free(&o);
	ok(parse(&o, "--no-color --ascii -v -v", err, sizeof(err)) == 0 && o.no_color && o.ascii &&
	    o.verbose == 2, "flags");
	ls_opts_free(&o);

	line_bad("--module nosuch", "unknown module 'nosuch'");
	line_bad("--module isolation,", "malformed module list");
	line_bad("--module ,isolation", "malformed module list");
	line_bad("--module", "needs a value");
	line_bad("--self-cost some", "give auto, sampled, full or off");
	line_bad("--cpus 3-1", "reversed");
	line_bad("--cpus", "needs a value");
	line_bad("--pid x", "expected a process id");
	line_bad("--duration 0", "invalid --duration");
	line_bad("--duration -1", "invalid --duration");
	line_bad("--duration 5s", "invalid --duration");
	line_bad("--duration nan", "invalid --duration");
	line_bad("--duration inf", "invalid --duration");
	line_bad("--format xml", "unknown --format");
	line_bad("--json --format text", "conflicts");
	line_bad("--threshold foo", "malformed --threshold");
	line_bad("--threshold =1", "malformed --threshold");
	line_bad("--frobnicate", "unknown option '--frobnicate'");
	line_bad("--interface eth0,", "bad --interface name ''");
	line_bad("--allow-block read,,write", "no empty entry");
	line_bad("--allow-block ,read", "bad --allow-block list");
	line_bad("--interface averyveryverylongname0", "1 to 15 characters");
	line_bad("--interface ../eth0", "no '/'");
	line_bad("stray", "unexpected argument 'stray'");
	line_bad("--interval 0", "invalid --interval");
	line_bad("--interval 1s", "invalid --interval");
	line_bad("--interval 1 --count 0", "invalid --count");
	line_bad("--interval 1 --count 2.5", "invalid --count");
	line_bad("--count 3", "--count needs --interval");
	line_bad("--interval 1 --count 3 --duration 3", "give one");
	line_bad("--interval 5 --duration 2", "longer than --duration");
	line_bad("--interval 1 -f html -o r.html", "covers one whole run");
	line_bad("--interval 1 --budget b.json", "covers one whole run");
	line_bad("--interval 1 -m wallclock", "not intervals");
	line_bad("--interval 1 --json -o r.json", "--output is for -f prometheus");
}

/* test_intervals - how long --interval runs: --count intervals, --duration, or until stopped */
static void test_intervals(void)
{
	struct ls_opts o;
	char err[512];

	ok(parse(&o, "--interval 2 --count 5 --json", err, sizeof(err)) == 0 && o.interval == 2 &&
	    o.count == 5 && o.duration == 10, "--interval 2 --count 5: 10 s");
	ls_opts_free(&o);
	ok(parse(&o, "-i 0.5", err, sizeof(err)) == 0 && o.interval == 0.5 && o.duration == 0,
	    "-i 0.5 alone: until stopped (duration 0)");
	ls_opts_free(&o);
	ok(parse(&o, "--interval 1 --duration 7", err, sizeof(err)) == 0 && o.duration == 7,
	    "--interval 1 --duration 7: 7 s");
	ls_opts_free(&o);
	ok(parse(&o, "--interval 60 -o x.prom", err, sizeof(err)) == 0 &&
	    o.format == LS_FMT_PROMETHEUS, "--interval 60 -o x.prom: prometheus, rewritten");
	ls_opts_free(&o);
}

static void test_thresholds(void)
{
	struct ls_thresholds t;
	struct ls_opts o;
	char err[1024];

	parse(&o, "", err, sizeof(err));
	ok(ls_thresholds_init(&t, &o, err, sizeof(err)) == 0 &&
	    ls_threshold(&t, "isolation.runq_p99_99") == 50000, "default isolation.runq_p99_99 is 50us");
	ls_opts_free(&o);

	parse(&o, "-t isolation.runq_p99_99=20us -t isolation.preemptions=3", err, sizeof(err));
	ok(ls_thresholds_init(&t, &o, err, sizeof(err)) == 0 &&
	    ls_threshold(&t, "isolation.runq_p99_99") == 20000 &&
	    ls_threshold(&t, "isolation.preemptions") == 3, "overrides take effect");
	ls_opts_free(&o);

	parse(&o, "-t isolation.nosuch=1", err, sizeof(err));
	ok(ls_thresholds_init(&t, &o, err, sizeof(err)) < 0 && strstr(err, "unknown threshold") &&
	    strstr(err, "isolation.runq_p99_99"), "an unknown key lists the known ones");
	ls_opts_free(&o);

	parse(&o, "-t isolation.runq_p99_99=fast", err, sizeof(err));
	ok(ls_thresholds_init(&t, &o, err, sizeof(err)) < 0 && strstr(err, "invalid duration"),
	    "a duration threshold needs a duration");
	ls_opts_free(&o);

	parse(&o, "-t isolation.preemptions=-1", err, sizeof(err));
	ok(ls_thresholds_init(&t, &o, err, sizeof(err)) < 0 && strstr(err, "not a count"),
	    "a count threshold needs a whole number");
	ls_opts_free(&o);
}

/* ls_headers_cmp: the running kernel's flavour before a newer or "greater" one */
static void test_headers_rank(void)
{
	ok(ls_headers_cmp("6.1.0-57-amd64", "6.1.0-57-amd64", "6.1.0-57-rt-amd64") > 0,
	    "the exact release wins over the -rt flavour of the same version");
	ok(ls_headers_cmp("6.1.0-57-rt-amd64", "6.1.0-57-rt-amd64", "6.1.0-57-amd64") > 0,
	    "an -rt kernel takes the -rt headers");
	ok(ls_headers_cmp("6.1.0-57-amd64", "6.1.0-58-amd64", "6.1.0-58-rt-amd64") > 0,
	    "without its own release, a stock kernel takes the stock flavour of a newer one");
	ok(ls_headers_cmp("6.1.0-57-cloud-amd64", "6.1.0-58-cloud-amd64", "6.1.0-59-amd64") > 0,
	    "a cloud kernel prefers cloud headers to newer stock ones");
	ok(ls_headers_cmp("6.12.118+deb13-rt-amd64", "6.12.120+deb13-rt-amd64",
	    "6.12.120+deb13-amd64") > 0, "trixie's version scheme keeps its flavour");
	ok(ls_headers_cmp("6.18.44-fc-v857", "6.1.0-57-amd64", "6.1.0-56-amd64") > 0,
	    "with no flavour match the newest is taken");
}

int main(void)
{
	test_headers_rank();
	test_cpulists();
	test_sysfs_lists();
	test_pidlists();
	test_durations();
	test_numeric_ranges();
	test_options();
	test_intervals();
	test_thresholds();
	return done_testing();
}
