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
	OPT_NO_COLOR,
	OPT_ASCII,
	OPT_INTERFACE,
	OPT_FREQUENCY,
	OPT_MIN_BLOCK,
	OPT_STATE,
	OPT_ALLOW_BLOCK,
	OPT_TRACE_THRESHOLD,
	OPT_TRACE_BUFFER,
	OPT_NOTIONAL,
	OPT_BPS_PER_US,
	OPT_VOLUME,
	OPT_SLIPPAGE,
	OPT_TRADING_DAYS,
	OPT_LATENCY_BUDGET,
	OPT_BILL_OF_HEALTH,
	OPT_SELF_COST,
};

static const struct option long_opts[] = {
	{ "module",		required_argument, NULL, 'm' },
	{ "list-modules",	no_argument,	   NULL, OPT_LIST_MODULES },
	{ "cpus",		required_argument, NULL, 'c' },
	{ "pid",		required_argument, NULL, 'p' },
	{ "duration",		required_argument, NULL, 'd' },
	{ "interface",		required_argument, NULL, OPT_INTERFACE },
	{ "frequency",		required_argument, NULL, OPT_FREQUENCY },
	{ "min-block",		required_argument, NULL, OPT_MIN_BLOCK },
	{ "state",		required_argument, NULL, OPT_STATE },
	{ "allow-block",	required_argument, NULL, OPT_ALLOW_BLOCK },
	{ "trace-threshold",	required_argument, NULL, OPT_TRACE_THRESHOLD },
	{ "trace-buffer",	required_argument, NULL, OPT_TRACE_BUFFER },
	{ "notional",		required_argument, NULL, OPT_NOTIONAL },
	{ "bps-per-us",		required_argument, NULL, OPT_BPS_PER_US },
	{ "volume",		required_argument, NULL, OPT_VOLUME },
	{ "slippage",		required_argument, NULL, OPT_SLIPPAGE },
	{ "trading-days",	required_argument, NULL, OPT_TRADING_DAYS },
	{ "latency-budget",	required_argument, NULL, OPT_LATENCY_BUDGET },
	{ "bill-of-health",	required_argument, NULL, OPT_BILL_OF_HEALTH },
	{ "self-cost",		required_argument, NULL, OPT_SELF_COST },
	{ "json",		no_argument,	   NULL, 'j' },
	{ "output",		required_argument, NULL, 'o' },
	{ "format",		required_argument, NULL, 'f' },
	{ "probes-dir",		required_argument, NULL, OPT_PROBES_DIR },
	{ "kernel-headers",	required_argument, NULL, OPT_KERNEL_HEADERS },
	{ "threshold",		required_argument, NULL, 't' },
	{ "no-color",		no_argument,	   NULL, OPT_NO_COLOR },
	{ "ascii",		no_argument,	   NULL, OPT_ASCII },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "version",		no_argument,	   NULL, 'V' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

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
"  -d, --duration SECONDS  how long to trace, fractions allowed (default: 10);\n"
"                          Ctrl-C or SIGTERM ends the run early and still reports\n"
"      --interface LIST    network module: only these devices, like eth0,eth1\n"
"                          (default: all; see ip link)\n"
"\n"
"Wall-clock profile (--module wallclock):\n"
"      --frequency HZ      on-CPU samples per second on each CPU (default: 99)\n"
"      --min-block DURATION\n"
"                          leave out off-CPU blocks shorter than this (default:\n"
"                          1us; ns, us, ms or s)\n"
"      --state LIST        off-CPU task states to keep, like S,D (R+ preempted,\n"
"                          R runnable, S sleeping, D disk wait, T, t, I idle...;\n"
"                          default: all)\n"
"\n"
"Verdicts:\n"
"  -t, --threshold KEY=VALUE\n"
"                          override a verdict threshold, repeatable; durations\n"
"                          take ns, us, ms or s (isolation.runq_p99_99=20us);\n"
"                          --list-modules shows every key and its default\n"
"      --allow-block LIST  syscall module: syscalls the monitored threads are\n"
"                          meant to block or sleep in, like epoll_wait for an\n"
"                          event loop (futex for its lock waits): measured and\n"
"                          listed, never a verdict\n"
"\n"
"Output:\n"
"  -j, --json              JSON on stdout instead of the boxed report\n"
"  -f, --format FORMAT     text or json (default: text; json when --output\n"
"                          ends in .json); perfetto (alias chrome): the\n"
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
"                          delay\n"
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
"  -V, --version           print the version and exit\n"
"  -h, --help              print this help and exit\n"
"\n"
"Examples:\n"
"  latencyscope --module isolation --cpus 2-3 --duration 30\n"
"  latencyscope --pid $(pidof engine) --json | jq '.isolation.verdict'\n"
"  latencyscope --cpus 4-7 --threshold isolation.runq_p99_99=20us -o run.json\n"
"  latencyscope --module network --interface eth0 --pid $(pidof feed)\n"
"  latencyscope -m wallclock --pid $(pidof engine) -f folded -o out.folded\n"
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

/* parse_interfaces - a comma-separated list of device names (checked in preflight) */
static int parse_interfaces(struct ls_opts *o, const char *arg, char *err, size_t errlen)
{
	char *copy = ls_xstrdup(arg), *save = NULL;
	size_t len = strlen(arg);

	if (!len || arg[0] == ',' || arg[len - 1] == ',' || strstr(arg, ",,")) {
		snprintf(err, errlen, "bad --interface name '': give names like eth0,eth1 with no "
		    "empty entry");
		free(copy);
		return -1;
	}
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (strlen(t) >= 16 || strchr(t, '/') || !*t) {
			snprintf(err, errlen, "bad --interface name '%s': device names have 1 to 15 "
			    "characters and no '/' (see ip link)", t);
			free(copy);
			return -1;
		}
		if (o->ninterfaces == LS_MAX_IFACES) {
			snprintf(err, errlen, "too many --interface names: at most %d", LS_MAX_IFACES);
			free(copy);
			return -1;
		}
		o->interfaces[o->ninterfaces++] = ls_xstrdup(t);
	}
	free(copy);
	if (!o->ninterfaces) {
		snprintf(err, errlen, "empty --interface list: give names like eth0,eth1");
		return -1;
	}
	return 0;
}

static int parse_format(struct ls_opts *o, const char *arg, char *err, size_t errlen)
{
	static const struct { const char *name; enum ls_format f; } fmts[] = {
		{ "text", LS_FMT_TEXT }, { "json", LS_FMT_JSON }, { "folded", LS_FMT_FOLDED },
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
	snprintf(err, errlen, "unknown --format '%s': use text, json, perfetto (chrome), folded, "
	    "speedscope, or with --module wallclock pprof", arg);
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

/* parse_states - task state letters as sched_switch prints them */
static int parse_states(struct ls_opts *o, const char *arg, char *err, size_t errlen)
{
	static const char *const known[] = { "R+", "R", "S", "D", "T", "t", "X", "Z", "P", "I" };
	char *copy = ls_xstrdup(arg), *save = NULL;
	int n = 0;

	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save), n++) {
		size_t i;

		for (i = 0; i < sizeof(known) / sizeof(known[0]) && strcmp(known[i], t); i++)
			;
		if (i == sizeof(known) / sizeof(known[0])) {
			snprintf(err, errlen, "unknown task state '%s' in --state: use R+ (preempted), R "
			    "(runnable), S (sleeping), D (uninterruptible), T, t, X, Z, P, I, like S,D", t);
			free(copy);
			return -1;
		}
	}
	free(copy);
	if (!n) {
		snprintf(err, errlen, "empty --state list: give states like S,D");
		return -1;
	}
	free(o->states);
	o->states = ls_xstrdup(arg);
	return 0;
}

static bool ends_with(const char *s, const char *sfx)
{
	size_t a = strlen(s), b = strlen(sfx);

	return a >= b && strcmp(s + a - b, sfx) == 0;
}

/*
 * ls_opts_parse - fill o from argv. On error, err says what is wrong and
 * how to write it instead; the caller exits 3.
 */
int ls_opts_parse(struct ls_opts *o, int argc, char **argv, char *err, size_t errlen)
{
	bool json_flag = false;
	int c;

	memset(o, 0, sizeof(*o));
	o->duration = 10;
	o->frequency = 99;
	o->min_block_ns = 1000;
	o->trace_threshold_ns = 10000;
	o->trading_days = 252;
	o->latency_budget_ns = 100000;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":m:c:p:d:jo:f:t:vVh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (parse_modules(o, optarg, err, errlen) < 0)
				return -1;
			break;
		case OPT_LIST_MODULES:
			o->list_modules = true;
			break;
		case 'c':
			if (ls_cpulist_parse(optarg, &o->cpus, false, err, errlen) < 0)
				return -1;
			o->cpus_given = true;
			break;
		case 'p':
			if (ls_pidlist_parse(optarg, o->pids, &o->npids, err, errlen) < 0)
				return -1;
			break;
		case 'd':
			if (parse_duration(o, optarg, err, errlen) < 0)
				return -1;
			break;
		case OPT_INTERFACE:
			if (parse_interfaces(o, optarg, err, errlen) < 0)
				return -1;
			break;
		case 'j':
			json_flag = true;
			break;
		case 'o':
			if (!*optarg) {
				snprintf(err, errlen, "empty --output file name");
				return -1;
			}
			free(o->output);
			o->output = ls_xstrdup(optarg);
			break;
		case 'f':
			if (parse_format(o, optarg, err, errlen) < 0)
				return -1;
			break;
		case OPT_FREQUENCY: {
			char *end;
			unsigned long hz;

			errno = 0;
			hz = strtoul(optarg, &end, 10);
			if (end == optarg || *end || errno || hz < 1 || hz > 10000 || optarg[0] == '-') {
				snprintf(err, errlen, "invalid --frequency '%s': give samples per second "
				    "from 1 to 10000, like 99", optarg);
				return -1;
			}
			o->frequency = (unsigned)hz;
			o->wallclock_opt = "--frequency";
			break;
		}
		case OPT_MIN_BLOCK:
			if (ls_parse_duration_ns(optarg, &o->min_block_ns, err, errlen) < 0)
				return -1;
			o->wallclock_opt = "--min-block";
			break;
		case OPT_STATE:
			if (parse_states(o, optarg, err, errlen) < 0)
				return -1;
			o->wallclock_opt = "--state";
			break;
		case OPT_ALLOW_BLOCK: {	/* names are checked against the syscall table */
			size_t len = strlen(optarg);

			if (!len || optarg[0] == ',' || optarg[len - 1] == ',' || strstr(optarg, ",,")) {
				snprintf(err, errlen, "bad --allow-block list '%s': give syscall names "
				    "like epoll_wait,read with no empty entry", optarg);
				return -1;
			}
			free(o->allow_block);
			o->allow_block = ls_xstrdup(optarg);
			break;
		}
		case OPT_TRACE_THRESHOLD:
			if (ls_parse_duration_ns(optarg, &o->trace_threshold_ns, err, errlen) < 0)
				return -1;
			break;
		case OPT_LATENCY_BUDGET:
			if (ls_parse_duration_ns(optarg, &o->latency_budget_ns, err, errlen) < 0)
				return -1;
			if (!o->latency_budget_ns) {
				snprintf(err, errlen, "--latency-budget must be more than 0, like 50us");
				return -1;
			}
			break;
		case OPT_TRACE_BUFFER:
			if (parse_size_kib(optarg, &o->trace_buffer_kib, err, errlen) < 0)
				return -1;
			break;
		case OPT_NOTIONAL:
		case OPT_BPS_PER_US:
		case OPT_VOLUME:
		case OPT_SLIPPAGE: {
			double *dst = c == OPT_NOTIONAL ? &o->notional : c == OPT_BPS_PER_US ? &o->bps_per_us :
			    c == OPT_VOLUME ? &o->volume : &o->slippage;
			const char *name = c == OPT_NOTIONAL ? "--notional" : c == OPT_BPS_PER_US ?
			    "--bps-per-us" : c == OPT_VOLUME ? "--volume" : "--slippage";
			char *end;

			errno = 0;
			*dst = strtod(optarg, &end);
			/* bounded so the money maths stays finite: a quadrillion dollars, 100 % */
			if (end == optarg || *end || errno || !isfinite(*dst) || *dst <= 0 || *dst > 1e15 ||
			    (c == OPT_SLIPPAGE && *dst > 1) || (c == OPT_BPS_PER_US && *dst > 10000)) {
				snprintf(err, errlen, "invalid %s '%s': give a positive number%s", name, optarg,
				    c == OPT_SLIPPAGE ? " up to 1 (a fraction: 0.0001 is one basis point)" :
				    c == OPT_BPS_PER_US ? " of basis points up to 10000, like 0.5" :
				    " of US dollars up to 1e15, like 1e6");
				return -1;
			}
			break;
		}
		case OPT_TRADING_DAYS: {
			char *end;
			unsigned long d = strtoul(optarg, &end, 10);

			if (end == optarg || *end || d < 1 || d > 366 || optarg[0] == '-') {
				snprintf(err, errlen, "invalid --trading-days '%s': give days per year, 1 to 366",
				    optarg);
				return -1;
			}
			o->trading_days = (unsigned)d;
			break;
		}
		case OPT_BILL_OF_HEALTH:
			if (!*optarg) {
				snprintf(err, errlen, "empty --bill-of-health file name");
				return -1;
			}
			free(o->bill_of_health);
			o->bill_of_health = ls_xstrdup(optarg);
			break;
		case OPT_SELF_COST:
			if (!strcmp(optarg, "auto"))
				o->self_cost = LS_SELF_COST_AUTO;
			else if (!strcmp(optarg, "sampled"))
				o->self_cost = LS_SELF_COST_SAMPLED;
			else if (!strcmp(optarg, "full"))
				o->self_cost = LS_SELF_COST_FULL;
			else if (!strcmp(optarg, "off"))
				o->self_cost = LS_SELF_COST_OFF;
			else {
				snprintf(err, errlen, "invalid --self-cost '%s': give auto, sampled, full or off",
				    optarg);
				return -1;
			}
			break;
		case OPT_PROBES_DIR:
			free(o->probes_dir);
			o->probes_dir = ls_xstrdup(optarg);
			break;
		case OPT_KERNEL_HEADERS:
			free(o->kernel_headers);
			o->kernel_headers = ls_xstrdup(optarg);
			break;
		case 't':
			if (parse_threshold(o, optarg, err, errlen) < 0)
				return -1;
			break;
		case OPT_NO_COLOR:
			o->no_color = true;
			break;
		case OPT_ASCII:
			o->ascii = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'V':
			o->version = true;
			break;
		case 'h':
			o->help = true;
			break;
		case ':':
			snprintf(err, errlen, "option '%s' needs a value: see latencyscope --help",
			    argv[optind - 1]);
			return -1;
		default:
			snprintf(err, errlen, "unknown option '%s': see latencyscope --help",
			    argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s': options take the form --name VALUE "
		    "(see latencyscope --help)", argv[optind]);
		return -1;
	}
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
	if (!o->nmodules)
		for (int i = 0; ls_modules[i]; i++)
			if (!ls_modules[i]->on_request)
				o->modules[o->nmodules++] = ls_xstrdup(ls_modules[i]->name);
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
	if (o->format >= LS_FMT_FOLDED) {
		bool wc = false;

		for (int i = 0; i < o->nmodules; i++)
			wc = wc || !strcmp(o->modules[i], "wallclock");
		if (!wc && o->format == LS_FMT_PPROF) {
			snprintf(err, errlen, "--format pprof writes the wall-clock profile: add --module "
			    "wallclock");
			return -1;
		}
		if (o->format == LS_FMT_PPROF && !o->output) {
			snprintf(err, errlen, "pprof output is gzipped binary: give --output FILE "
			    "(like profile.pb.gz)");
			return -1;
		}
	}
	return 0;
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
	for (int i = 0; i < o->ninterfaces; i++)
		free(o->interfaces[i]);
	free(o->states);
	free(o->allow_block);
	free(o->bill_of_health);
	free(o->output);
	free(o->probes_dir);
	free(o->kernel_headers);
	memset(o, 0, sizeof(*o));
}
