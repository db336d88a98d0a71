// SPDX-License-Identifier: GPL-2.0-only
/* options.c - command line parsing and --help */

#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "latencyscope.h"

enum {
	OPT_LIST_MODULES = 256,
	OPT_PROBES_DIR,
	OPT_KERNEL_HEADERS,
	OPT_CACHE_DIR,
	OPT_NO_CACHE,
	OPT_NO_COLOR,
	OPT_ASCII,
	OPT_TRACE_THRESHOLD,
	OPT_TRACE_BUFFER,
	OPT_NOTIONAL,
	OPT_BPS_PER_US,
	OPT_VOLUME,
	OPT_SLIPPAGE,
	OPT_TRADING_DAYS,
	OPT_LATENCY_BUDGET,
	OPT_BILL_OF_HEALTH,
	OPT_BUDGET,
	OPT_BASELINE,
	OPT_AUDIT,
	OPT_FAIL_ON_REGRESSION,
	OPT_SELF_COST,
	OPT_WIDTH,
	OPT_COUNT,
	OPT_MODULE_BASE = 1024,	/* + the index of a module's option in the run's table */
};

#define LS_MAX_MODOPTS 64

static const struct option long_opts[] = {
	{ "module",		required_argument, NULL, 'm' },
	{ "list-modules",	no_argument,	   NULL, OPT_LIST_MODULES },
	{ "cpus",		required_argument, NULL, 'c' },
	{ "pid",		required_argument, NULL, 'p' },
	{ "duration",		required_argument, NULL, 'd' },
	{ "interval",		required_argument, NULL, 'i' },
	{ "count",		required_argument, NULL, OPT_COUNT },
	{ "trace-threshold",	required_argument, NULL, OPT_TRACE_THRESHOLD },
	{ "trace-buffer",	required_argument, NULL, OPT_TRACE_BUFFER },
	{ "notional",		required_argument, NULL, OPT_NOTIONAL },
	{ "bps-per-us",		required_argument, NULL, OPT_BPS_PER_US },
	{ "volume",		required_argument, NULL, OPT_VOLUME },
	{ "slippage",		required_argument, NULL, OPT_SLIPPAGE },
	{ "trading-days",	required_argument, NULL, OPT_TRADING_DAYS },
	{ "latency-budget",	required_argument, NULL, OPT_LATENCY_BUDGET },
	{ "bill-of-health",	required_argument, NULL, OPT_BILL_OF_HEALTH },
	{ "budget",		required_argument, NULL, OPT_BUDGET },
	{ "baseline",		required_argument, NULL, OPT_BASELINE },
	{ "audit",		no_argument,	   NULL, OPT_AUDIT },
	{ "fail-on-regression",	no_argument,	   NULL, OPT_FAIL_ON_REGRESSION },
	{ "self-cost",		required_argument, NULL, OPT_SELF_COST },
	{ "json",		no_argument,	   NULL, 'j' },
	{ "output",		required_argument, NULL, 'o' },
	{ "format",		required_argument, NULL, 'f' },
	{ "probes-dir",		required_argument, NULL, OPT_PROBES_DIR },
	{ "kernel-headers",	required_argument, NULL, OPT_KERNEL_HEADERS },
	{ "cache-dir",		required_argument, NULL, OPT_CACHE_DIR },
	{ "no-cache",		no_argument,	   NULL, OPT_NO_CACHE },
	{ "threshold",		required_argument, NULL, 't' },
	{ "no-color",		no_argument,	   NULL, OPT_NO_COLOR },
	{ "ascii",		no_argument,	   NULL, OPT_ASCII },
	{ "width",		required_argument, NULL, OPT_WIDTH },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "quiet",		no_argument,	   NULL, 'q' },
	{ "version",		no_argument,	   NULL, 'V' },
	{ "help",		no_argument,	   NULL, 'h' },
};
#define NLONG (sizeof(long_opts) / sizeof(long_opts[0]))

/* ls_module_opt_help - one module option as --help prints it: help from column 27 */
void ls_module_opt_help(FILE *f, const struct ls_module_opt *mo)
{
	int n = fprintf(f, "      --%s %s", mo->name, mo->arg);

	for (const char *l = mo->help; l && *l; ) {
		size_t len = strcspn(l, "\n");

		if (n > 25) {
			fputc('\n', f);
			n = 0;
		}
		fprintf(f, "%*s%.*s\n", 26 - n, "", (int)len, l);
		n = 0;
		l += len + (l[len] == '\n');
	}
}

/* module_usage - the options each module declares, under its name */
static void module_usage(FILE *f)
{
	for (int i = 0; ls_modules[i]; i++) {
		if (!ls_modules[i]->options || !ls_modules[i]->options->name)
			continue;
		fprintf(f, "%s module (options that apply when it runs):\n", ls_modules[i]->name);
		for (const struct ls_module_opt *mo = ls_modules[i]->options; mo->name; mo++)
			ls_module_opt_help(f, mo);
		fputc('\n', f);
	}
}

/* ls_opts_usage - --help: every option, with the defaults and examples */
void ls_opts_usage(FILE *f)
{
	fputs(
"Usage: latencyscope [OPTIONS]\n"
"\n"
"Find what steals time from latency-critical code: which tasks, interrupts and\n"
"kernel paths ran on the monitored CPUs or delayed the monitored processes, for\n"
"how long, when, and the command that fixes it. Needs root (or CAP_BPF and\n"
"CAP_PERFMON). Exit codes: 0 all checks passed, 1 warnings, 2 violations,\n"
"3 runtime error.\n"
"\n"
"What to watch:\n"
"  -m, --module LIST       modules to run, comma-separated (default: all but\n"
"                          wallclock, which profiles on request);\n"
"                          see --list-modules\n"
"      --list-modules      print the modules with one line each and exit\n"
"  -c, --cpus LIST         CPUs to monitor, like 4-7, 4,5,6,7 or 0-3,8\n"
"                          (default: the isolated CPUs, or all when none are)\n"
"  -p, --pid LIST          processes to monitor, like 1234,5678; all their\n"
"                          threads are included (default: every task on the CPUs)\n"
"  -d, --duration SECONDS  how long to trace, fractions allowed (default: 10;\n"
"                          with --interval: --count intervals, or until\n"
"                          stopped); Ctrl-C or SIGTERM ends the run early and\n"
"                          still reports\n"
"  -i, --interval SECONDS  also report every SECONDS, that interval alone:\n"
"                          a compact table per module (then the whole run's\n"
"                          boxes), with --json one report per line (JSON\n"
"                          Lines), with -f prometheus the run so far rewritten\n"
"                          to --output; exit code: the worst verdict seen\n"
"      --count N           stop after N intervals (default: run until Ctrl-C\n"
"                          or SIGTERM, or --duration)\n"
"      --audit             trace nothing: judge the kernel settings that decide\n"
"                          what runs on the CPUs (isolcpus, nohz_full, sysctls,\n"
"                          THP, workqueues, governor, C-states, irqbalance...),\n"
"                          each with its fix; no root needed\n"
"\n", f);
	module_usage(f);
	fputs(
"Verdicts:\n"
"  -t, --threshold KEY=VALUE\n"
"                          override a verdict threshold, repeatable; durations\n"
"                          take ns, us, ms or s (isolation.runq_p99_99=20us);\n"
"                          --list-modules shows every key and its default\n"
"      --budget FILE       limits on any value of the JSON report, checked in\n"
"                          next to your code: {\"isolation.runqueue_latency_ns.p99\":\n"
"                          {\"max\": \"50us\"}}; a breach is a violation (exit 2),\n"
"                          a key the report lacks a warning (see the man page)\n"
"      --baseline FILE     compare with a saved --json report of the same\n"
"                          modules: latency tails and event rates that got\n"
"                          worse beyond chance are regressions (warnings), a\n"
"                          changed kernel or command line is named as the cause\n"
"      --fail-on-regression\n"
"                          make a --baseline regression a violation (exit 2)\n"
"\n"
"Output:\n"
"  -j, --json              JSON on stdout instead of the boxed report\n"
"  -f, --format FORMAT     text or json (default: text; json when --output\n"
"                          ends in .json); junit (default when it ends in\n"
"                          .xml): JUnit XML for CI servers, a test case per\n"
"                          module and per --budget check; prometheus (default\n"
"                          when it ends in .prom): counters and latency\n"
"                          histograms for node_exporter's textfile collector;\n"
"                          html (default when it ends in .html): one page that\n"
"                          opens offline, with plots and flame graphs;\n"
"                          perfetto (alias chrome): the\n"
"                          interference timeline for ui.perfetto.dev; folded or\n"
"                          speedscope: the alpha flame graph\n"
"                          (module;kind;culprit);\n"
"                          with --module wallclock, folded, speedscope, chrome\n"
"                          and pprof (gzipped, needs --output) write its stacks\n"
"      --trace-threshold DURATION\n"
"                          timeline: events shorter than this are only counted\n"
"                          (default: 10us)\n"
"      --trace-buffer SIZE ring buffer per module, like 4M (default: sized from\n"
"                          --duration)\n"
"      --bill-of-health FILE\n"
"                          also write the JSON report, the jitter tax and the\n"
"                          host's fingerprint there (default with --volume:\n"
"                          bill_of_health.json)\n"
"\n"
"Money (nothing is sent anywhere):\n"
"      --notional USD      value at risk per event, for the alpha flame graph\n"
"      --bps-per-us BPS    basis points of --notional lost per microsecond of\n"
"                          delay the thread did not ask for (of a sleep, only\n"
"                          its oversleep)\n"
"      --volume USD        traded per day, for the jitter tax\n"
"      --slippage FRACTION of an order's value lost when it is late\n"
"                          (0.0001 = 1 bp)\n"
"      --trading-days N    per year (default: 252)\n"
"      --latency-budget DURATION\n"
"                          an event later than this is late (default: 100us)\n"
"  -o, --output FILE       write the report to FILE instead of stdout, at the end\n"
"                          of the run (a failed run leaves FILE as it was; a\n"
"                          symbolic link is refused, a device written in place)\n"
"      --no-color          no colour (also NO_COLOR=1; colour is only used on a\n"
"                          tty)\n"
"      --ascii             draw boxes with ASCII instead of UTF-8\n"
"      --width N           the boxes' width in columns, 60 to 1000 (default: the\n"
"                          terminal's when stdout is one and wider than 78,\n"
"                          else 78); wider boxes give long names room\n"
"      --self-cost MODE    how the probes' own cost in the footer is measured:\n"
"                          auto (default: every event if kernel.bpf_stats_enabled\n"
"                          is already 1, else not measured), full (statistics on\n"
"                          the whole run; two more clock reads per probe run),\n"
"                          sampled (on for 50 ms of every second, scaled) or off.\n"
"                          Each switch of the statistics patches kernel code and\n"
"                          interrupts every CPU: full switches before and after\n"
"                          the run, sampled twice a second during it\n"
"  -v, --verbose           show the probe file, compiler flags and libbcc's\n"
"                          diagnostics\n"
"  -q, --quiet             no progress lines on stderr: not the one that says\n"
"                          tracing started (\"latencyscope: tracing CPUs ...\"),\n"
"                          nor where files were written; warnings and errors stay\n"
"\n"
"Environment:\n"
"      --probes-dir DIR    where the BPF probe files are (default: the installed\n"
"                          ones, or the source tree's probes/ when run from the\n"
"                          build tree; also $LATENCYSCOPE_PROBES_DIR); as root,\n"
"                          only root's files that no one else can write, no\n"
"                          links, no #include of a path (probes become kernel code)\n"
"      --kernel-headers DIR\n"
"                          kernel headers to compile probes against (default:\n"
"                          $BCC_KERNEL_SOURCE, /lib/modules/$(uname -r)/build,\n"
"                          /sys/kernel/kheaders.tar.xz, then\n"
"                          /usr/src/linux-headers-*)\n"
"      --cache-dir DIR     where compiled probes are kept, keyed by the probe\n"
"                          text, flags, kernel and headers, so an unchanged probe\n"
"                          loads without compiling (default:\n"
"                          /var/cache/latencyscope, or $LATENCYSCOPE_CACHE_DIR;\n"
"                          as root only, in a directory no one else can write)\n"
"      --no-cache          compile every probe, keep nothing\n"
"  -V, --version           print the version and exit\n"
"  -h, --help              print this help and exit\n"
"\n"
"Examples:\n"
"  latencyscope --module isolation --cpus 2-3 --duration 30\n"
"  latencyscope --pid $(pidof engine) --json | jq '.isolation.verdict'\n"
"  latencyscope --cpus 4-7 --threshold isolation.runq_p99_99=20us -o run.json\n"
"  latencyscope --module network --interface eth0 --pid $(pidof feed)\n"
"  latencyscope -m wallclock --pid $(pidof engine) -f folded -o out.folded\n"
"  latencyscope --cpus 4-7 --interval 1 --count 60 --json >> runs.jsonl\n"
"  latencyscope --interval 60 -f prometheus \\\n"
"      -o /var/lib/prometheus/node-exporter/latencyscope.prom\n"
"\n"
"See latencyscope(8) for the report fields and how verdicts are decided.\n", f);
}

static int parse_modules(struct ls_opts *o, const char *arg, char *err, size_t errlen)
{
	char *copy = ls_xstrdup(arg), *save = NULL, *tok;
	int rc = 0;

	if (!*arg) {
		snprintf(err, errlen, "empty module list: see --list-modules");
		rc = -1;
	}
	for (tok = strtok_r(copy, ",", &save); !rc && tok; tok = strtok_r(NULL, ",", &save)) {
		bool dup = false;

		if (!ls_module_find(tok)) {
			snprintf(err, errlen, "unknown module '%s': see --list-modules for the modules "
			    "this build has", tok);
			rc = -1;
			break;
		}
		for (int i = 0; i < o->nmodules; i++)
			dup |= strcmp(o->modules[i], tok) == 0;
		if (dup)
			continue;
		if (o->nmodules >= LS_MAX_MODULES) {
			snprintf(err, errlen, "too many modules");
			rc = -1;
			break;
		}
		o->modules[o->nmodules++] = ls_xstrdup(tok);
	}
	if (!rc && arg[0] && (arg[0] == ',' || arg[strlen(arg) - 1] == ',' || strstr(arg, ",,"))) {
		snprintf(err, errlen, "malformed module list '%s': separate names with single commas", arg);
		rc = -1;
	}
	free(copy);
	return rc;
}

static int parse_duration(struct ls_opts *o, const char *arg, char *err, size_t errlen)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(arg, &end);
	if (end == arg || *end || errno || !isfinite(d) || d <= 0 || d > 7 * 86400) {
		snprintf(err, errlen, "invalid --duration '%s': give seconds as a positive number, "
		    "fractions allowed (like 10 or 0.5), at most one week", arg);
		return -1;
	}
	o->duration = d;
	o->duration_given = true;
	return 0;
}

/* parse_interval - --interval SECONDS (0.1 s to a day) and --count N */
static int parse_interval(struct ls_opts *o, int c, const char *arg, char *err, size_t errlen)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(arg, &end);
	if (c == OPT_COUNT) {
		if (end == arg || *end || errno || d < 1 || d > 1e6 || d != (unsigned)d) {
			snprintf(err, errlen, "invalid --count '%s': give how many intervals to report, "
			    "1 to 1000000 (with --interval)", arg);
			return -1;
		}
		o->count = (unsigned)d;
		return 0;
	}
	if (end == arg || *end || errno || !isfinite(d) || d < 0.1 || d > 86400) {
		snprintf(err, errlen, "invalid --interval '%s': give seconds from 0.1 to 86400, like 1 "
		    "or 60", arg);
		return -1;
	}
	o->interval = d;
	return 0;
}

static int parse_threshold(struct ls_opts *o, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');

	if (!eq || eq == arg || !eq[1]) {
		snprintf(err, errlen, "malformed --threshold '%s': use KEY=VALUE, like "
		    "isolation.runq_p99_99=20us (see --list-modules for the keys)", arg);
		return -1;
	}
	if (o->nthresholds >= (int)(sizeof(o->thresholds) / sizeof(o->thresholds[0]))) {
		snprintf(err, errlen, "too many --threshold options");
		return -1;
	}
	o->thresholds[o->nthresholds].key = ls_xstrndup(arg, eq - arg);
	o->thresholds[o->nthresholds].value = ls_xstrdup(eq + 1);
	o->nthresholds++;
	return 0;
}

static int parse_format(struct ls_opts *o, const char *arg, char *err, size_t errlen)
{
	static const struct { const char *name; enum ls_format f; } fmts[] = {
		{ "text", LS_FMT_TEXT }, { "json", LS_FMT_JSON }, { "junit", LS_FMT_JUNIT },
		{ "prometheus", LS_FMT_PROMETHEUS }, { "html", LS_FMT_HTML },
		{ "folded", LS_FMT_FOLDED },
		{ "pprof", LS_FMT_PPROF }, { "speedscope", LS_FMT_SPEEDSCOPE },
		{ "chrome", LS_FMT_CHROME }, { "perfetto", LS_FMT_CHROME },
	};

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		if (!strcmp(arg, fmts[i].name)) {
			o->format = fmts[i].f;
			o->format_given = true;
			return 0;
		}
	}
	snprintf(err, errlen, "unknown --format '%s': use text, json, junit, prometheus, html, perfetto (chrome), folded, "
	    "speedscope, or pprof with a module that records stacks (see --list-modules)", arg);
	return -1;
}

/* parse_size_kib - "4M", "512K", "1048576" (bytes) as KiB, 4 KiB to 1 GiB */
static int parse_size_kib(const char *arg, unsigned *kib, char *err, size_t errlen)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (end != arg && (*end == 'K' || *end == 'k') && !end[1])
		v *= 1024;
	else if (end != arg && (*end == 'M' || *end == 'm') && !end[1])
		v *= 1024 * 1024;
	else if (end != arg && (*end == 'G' || *end == 'g') && !end[1])
		v *= 1024.0 * 1024 * 1024;
	else if (end == arg || *end)
		v = -1;
	if (errno || !isfinite(v) || v < 4096 || v > 1024.0 * 1024 * 1024) {
		snprintf(err, errlen, "invalid --trace-buffer '%s': give a size from 4K to 1G, like 4M", arg);
		return -1;
	}
	*kib = (unsigned)(v / 1024);
	return 0;
}

static bool ends_with(const char *s, const char *sfx)
{
	size_t a = strlen(s), b = strlen(sfx);

	return a >= b && strcmp(s + a - b, sfx) == 0;
}

/* parse_money - dollars for the alpha flame graph and the jitter tax, bounded so the maths stays finite */
static int parse_money(struct ls_opts *o, int c, const char *arg, char *err, size_t errlen)
{
	double *dst = c == OPT_NOTIONAL ? &o->notional : c == OPT_BPS_PER_US ? &o->bps_per_us :
	    c == OPT_VOLUME ? &o->volume : &o->slippage;
	const char *name = c == OPT_NOTIONAL ? "--notional" : c == OPT_BPS_PER_US ?
	    "--bps-per-us" : c == OPT_VOLUME ? "--volume" : "--slippage";
	char *end;

	if (c == OPT_TRADING_DAYS) {
		unsigned long d = strtoul(arg, &end, 10);

		if (end == arg || *end || d < 1 || d > 366 || arg[0] == '-') {
			snprintf(err, errlen, "invalid --trading-days '%s': give days per year, 1 to 366",
			    arg);
			return -1;
		}
		o->trading_days = (unsigned)d;
		return 0;
	}
	errno = 0;
	*dst = strtod(arg, &end);
	/* a quadrillion dollars, 100 % */
	if (end == arg || *end || errno || !isfinite(*dst) || *dst <= 0 || *dst > 1e15 ||
	    (c == OPT_SLIPPAGE && *dst > 1) || (c == OPT_BPS_PER_US && *dst > 10000)) {
		snprintf(err, errlen, "invalid %s '%s': give a positive number%s", name, arg,
		    c == OPT_SLIPPAGE ? " up to 1 (a fraction: 0.0001 is one basis point)" :
		    c == OPT_BPS_PER_US ? " of basis points up to 10000, like 0.5" :
		    " of US dollars up to 1e15, like 1e6");
		return -1;
	}
	return 0;
}

static int parse_width(struct ls_opts *o, const char *arg, char *err, size_t errlen)
{
	char *end;
	long w;

	errno = 0;
	w = strtol(arg, &end, 10);
	if (end == arg || *end || errno || w < 60 || w > 1000) {
		snprintf(err, errlen, "invalid --width '%s': give the report's columns, 60 to 1000",
		    arg);
		return -1;
	}
	o->width = (int)w;
	return 0;
}

static int parse_self_cost(struct ls_opts *o, const char *arg, char *err, size_t errlen)
{
	static const char *const modes[] = { "auto", "sampled", "full", "off" };
	static const enum ls_self_cost mode[] = { LS_SELF_COST_AUTO, LS_SELF_COST_SAMPLED,
	    LS_SELF_COST_FULL, LS_SELF_COST_OFF };

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (!strcmp(arg, modes[i])) {
			o->self_cost = mode[i];
			return 0;
		}
	}
	snprintf(err, errlen, "invalid --self-cost '%s': give auto, sampled, full or off", arg);
	return -1;
}

/* set_file - --output and --bill-of-health: a file name, not empty */
static int set_file(char **dst, const char *opt, const char *arg, char *err, size_t errlen)
{
	if (!*arg) {
		snprintf(err, errlen, "empty %s file name", opt);
		return -1;
	}
	free(*dst);
	*dst = ls_xstrdup(arg);
	return 0;
}

/* parse_common - one of the options every run has (c from getopt_long) */
static int parse_common(struct ls_opts *o, int c, bool *json_flag, char **argv, char *err,
    size_t errlen)
{
	switch (c) {
	case 'm':
		return parse_modules(o, optarg, err, errlen);
	case OPT_LIST_MODULES:
		o->list_modules = true;
		return 0;
	case 'c':
		o->cpus_given = true;
		return ls_cpulist_parse(optarg, &o->cpus, false, err, errlen);
	case 'p':
		return ls_pidlist_parse(optarg, o->pids, &o->npids, err, errlen);
	case 'd':
		return parse_duration(o, optarg, err, errlen);
	case 'i': case OPT_COUNT:
		return parse_interval(o, c, optarg, err, errlen);
	case 'j':
		*json_flag = true;
		return 0;
	case 'o':
		return set_file(&o->output, "--output", optarg, err, errlen);
	case OPT_BILL_OF_HEALTH:
		return set_file(&o->bill_of_health, "--bill-of-health", optarg, err, errlen);
	case OPT_BUDGET:
		return set_file(&o->budget, "--budget", optarg, err, errlen);
	case OPT_BASELINE:
		return set_file(&o->baseline, "--baseline", optarg, err, errlen);
	case OPT_AUDIT:
		o->audit = true;
		return 0;
	case OPT_FAIL_ON_REGRESSION:
		o->fail_on_regression = true;
		return 0;
	case 'f':
		return parse_format(o, optarg, err, errlen);
	case OPT_TRACE_THRESHOLD:
		return ls_parse_duration_ns(optarg, &o->trace_threshold_ns, err, errlen);
	case OPT_LATENCY_BUDGET:
		if (ls_parse_duration_ns(optarg, &o->latency_budget_ns, err, errlen) < 0)
			return -1;
		if (!o->latency_budget_ns) {
			snprintf(err, errlen, "--latency-budget must be more than 0, like 50us");
			return -1;
		}
		return 0;
	case OPT_TRACE_BUFFER:
		return parse_size_kib(optarg, &o->trace_buffer_kib, err, errlen);
	case OPT_NOTIONAL: case OPT_BPS_PER_US: case OPT_VOLUME: case OPT_SLIPPAGE:
	case OPT_TRADING_DAYS:
		return parse_money(o, c, optarg, err, errlen);
	case OPT_SELF_COST:
		return parse_self_cost(o, optarg, err, errlen);
	case OPT_PROBES_DIR:
		free(o->probes_dir);
		o->probes_dir = ls_xstrdup(optarg);
		return 0;
	case OPT_CACHE_DIR:
		free(o->cache_dir);
		o->cache_dir = ls_xstrdup(optarg);
		return 0;
	case OPT_NO_CACHE:
		o->no_cache = true;
		return 0;
	case OPT_KERNEL_HEADERS:
		free(o->kernel_headers);
		o->kernel_headers = ls_xstrdup(optarg);
		return 0;
	case 't':
		return parse_threshold(o, optarg, err, errlen);
	case OPT_NO_COLOR:
		o->no_color = true;
		return 0;
	case OPT_ASCII:
		o->ascii = true;
		return 0;
	case OPT_WIDTH:
		return parse_width(o, optarg, err, errlen);
	case 'v':
		o->verbose++;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	case 'V':
		o->version = true;
		return 0;
	case 'h':
		o->help = true;
		return 0;
	case ':':
		snprintf(err, errlen, "option '%s' needs a value: see latencyscope --help",
		    argv[optind - 1]);
		return -1;
	default:
		snprintf(err, errlen, "unknown option '%s': see latencyscope --help", argv[optind - 1]);
		return -1;
	}
}

/*
 * defaults - the common options' defaults, and each module's options struct
 * with its own (so a module reads its options whether or not any was given)
 */
static void defaults(struct ls_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->duration = 10;
	o->trace_threshold_ns = 10000;
	o->trading_days = 252;
	o->latency_budget_ns = 100000;
	for (int i = 0; ls_modules[i] && i < LS_MAX_MODULES; i++) {
		if (!ls_modules[i]->opts_size)
			continue;
		o->modopts[i] = ls_xcalloc(1, ls_modules[i]->opts_size);
		if (ls_modules[i]->opts_init)
			ls_modules[i]->opts_init(o->modopts[i]);
	}
}

/*
 * long_options - getopt_long's table: the common options, then every
 * module's, numbered from OPT_MODULE_BASE; mo and mod say whose each is
 */
static int long_options(struct option *all, const struct ls_module_opt **mo, int *mod)
{
	int n = 0;

	memcpy(all, long_opts, sizeof(long_opts));
	for (int i = 0; ls_modules[i]; i++) {
		for (const struct ls_module_opt *m = ls_modules[i]->options; m && m->name; m++) {
			if (n == LS_MAX_MODOPTS)
				break;
			all[NLONG + n] = (struct option){ m->name, m->arg ? required_argument :
			    no_argument, NULL, OPT_MODULE_BASE + n };
			mo[n] = m;
			mod[n++] = i;
		}
	}
	all[NLONG + n] = (struct option){ NULL, 0, NULL, 0 };
	return n;
}

/*
 * check_interval - --interval reports counters, distributions and verdicts
 * per interval, on stdout (JSON Lines or text) or as the run so far
 * (prometheus); what covers one whole run is refused with the way to get it
 */
static int check_interval(struct ls_opts *o, char *err, size_t errlen)
{
	const char *one_run = o->format >= LS_FMT_FOLDED ? "the trace and profile formats" :
	    o->format == LS_FMT_HTML ? "-f html" : o->format == LS_FMT_JUNIT ? "-f junit" :
	    o->budget ? "--budget" : o->baseline ? "--baseline" : o->bill_of_health ?
	    "--bill-of-health" : o->volume > 0 ? "--volume (the jitter tax)" : NULL;

	if (o->count && o->interval <= 0) {
		snprintf(err, errlen, "--count needs --interval: like --interval 1 --count 10");
		return -1;
	}
	if (o->interval <= 0)
		return 0;
	if (o->count && o->duration_given) {
		snprintf(err, errlen, "--count and --duration both say how long to run: give one");
		return -1;
	}
	if (o->duration_given && o->interval > o->duration) {
		snprintf(err, errlen, "--interval %g is longer than --duration %g: shorten it or drop "
		    "--duration", o->interval, o->duration);
		return -1;
	}
	if (one_run) {
		snprintf(err, errlen, "--interval with %s: it covers one whole run; run "
		    "without --interval for it", one_run);
		return -1;
	}
	if (o->output && o->format != LS_FMT_PROMETHEUS) {
		snprintf(err, errlen, "with --interval, --output is for -f prometheus (rewritten every "
		    "interval); text and JSON Lines go to stdout: redirect it (>> FILE)");
		return -1;
	}
	for (int i = 0; i < o->nmodules; i++)
		if (!ls_module_find(o->modules[i])->interval) {
			snprintf(err, errlen, "the %s module reports one whole run (a profile), not "
			    "intervals: run it without --interval", o->modules[i]);
			return -1;
		}
	if (!o->duration_given)	/* until the count is done, or a signal */
		o->duration = o->count ? o->interval * o->count : 0;
	return 0;
}

/* finish - what the options mean together, and what they leave to defaults */
static int finish(struct ls_opts *o, bool json_flag, char *err, size_t errlen)
{
	const struct ls_module_ops *prof = NULL;

	if (json_flag) {
		if (o->format_given && o->format != LS_FMT_JSON) {
			snprintf(err, errlen, "--json conflicts with --format text: give one of them");
			return -1;
		}
		o->format = LS_FMT_JSON;
		o->format_given = true;
	}
	if (!o->format_given && o->output && ends_with(o->output, ".json"))
		o->format = LS_FMT_JSON;
	else if (!o->format_given && o->output && ends_with(o->output, ".xml"))
		o->format = LS_FMT_JUNIT;
	else if (!o->format_given && o->output && ends_with(o->output, ".prom"))
		o->format = LS_FMT_PROMETHEUS;
	else if (!o->format_given && o->output && (ends_with(o->output, ".html") ||
	    ends_with(o->output, ".htm")))
		o->format = LS_FMT_HTML;
	if (o->audit && (o->nmodules || o->npids || o->format >= LS_FMT_FOLDED || o->baseline ||
	    o->budget)) {
		snprintf(err, errlen, "--audit traces nothing: drop %s, or run without --audit",
		    o->nmodules ? "--module" : o->npids ? "--pid" : o->baseline ? "--baseline" :
		    o->budget ? "--budget" : "the trace or profile --format");
		return -1;
	}
	if (!o->nmodules)
		for (int i = 0; ls_modules[i]; i++)
			if (!ls_modules[i]->on_request)
				o->modules[o->nmodules++] = ls_xstrdup(ls_modules[i]->name);
	if (check_interval(o, err, errlen) < 0)
		return -1;
	if ((o->notional > 0) != (o->bps_per_us > 0)) {
		snprintf(err, errlen, "--notional and --bps-per-us go together: give both");
		return -1;
	}
	if ((o->volume > 0) != (o->slippage > 0)) {
		snprintf(err, errlen, "--volume and --slippage go together: give both");
		return -1;
	}
	if (o->volume > 0 && !o->bill_of_health)
		o->bill_of_health = ls_xstrdup("bill_of_health.json");
	for (int i = 0; ls_modules[i] && !prof; i++)
		prof = ls_modules[i]->profiles ? ls_modules[i] : NULL;
	if (o->format == LS_FMT_PPROF && !ls_profiling_module(o)) {
		snprintf(err, errlen, "--format pprof writes a stack profile: add --module %s",
		    prof ? prof->name : "(none in this build)");
		return -1;
	}
	if (o->format == LS_FMT_PPROF && !o->output) {
		snprintf(err, errlen, "pprof output is gzipped binary: give --output FILE (like "
		    "profile.pb.gz)");
		return -1;
	}
	return 0;
}

/*
 * ls_opts_parse - fill o from argv. On error, err says what is wrong and
 * how to write it instead; the caller exits 3. A module's option goes to its
 * parse(); options.c knows no module by name.
 */
int ls_opts_parse(struct ls_opts *o, int argc, char **argv, char *err, size_t errlen)
{
	struct option all[NLONG + LS_MAX_MODOPTS + 1];
	const struct ls_module_opt *mo[LS_MAX_MODOPTS];
	int mod[LS_MAX_MODOPTS], nmo, c;
	bool json_flag = false;

	defaults(o);
	nmo = long_options(all, mo, mod);
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":m:c:p:d:i:jo:f:t:vqVh", all, NULL)) != -1) {
		if (c >= OPT_MODULE_BASE && c < OPT_MODULE_BASE + nmo) {
			int k = c - OPT_MODULE_BASE;

			if (mo[k]->parse(o->modopts[mod[k]], optarg, err, errlen) < 0)
				return -1;
			o->modopt_given[mod[k]] = mo[k]->name;
		} else if (parse_common(o, c, &json_flag, argv, err, errlen) < 0) {
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s': options take the form --name VALUE "
		    "(see latencyscope --help)", argv[optind]);
		return -1;
	}
	return finish(o, json_flag, err, errlen);
}

/* ls_opts_warn_unused - an option of a module that is not in the run does nothing: say so */
void ls_opts_warn_unused(const struct ls_opts *o)
{
	for (int i = 0; ls_modules[i]; i++)
		if (o->modopt_given[i] && !ls_module_selected(o, ls_modules[i]))
			ls_warn("--%s only applies to the %s module, which is not in this run (add it "
			    "with --module ...,%s)", o->modopt_given[i], ls_modules[i]->name,
			    ls_modules[i]->name);
}

/* ls_opts_free - what ls_opts_parse allocated */
void ls_opts_free(struct ls_opts *o)
{
	for (int i = 0; i < o->nmodules; i++)
		free(o->modules[i]);
	for (int i = 0; i < o->nthresholds; i++) {
		free(o->thresholds[i].key);
		free(o->thresholds[i].value);
	}
	for (int i = 0; ls_modules[i] && i < LS_MAX_MODULES; i++) {
		if (o->modopts[i] && ls_modules[i]->opts_free)
			ls_modules[i]->opts_free(o->modopts[i]);
		free(o->modopts[i]);
	}
	free(o->bill_of_health);
	free(o->budget);
	free(o->baseline);
	free(o->output);
	free(o->probes_dir);
	free(o->cache_dir);
	free(o->kernel_headers);
	memset(o, 0, sizeof(*o));
}
