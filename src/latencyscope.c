// SPDX-License-Identifier: GPL-2.0-only
/*
 * latencyscope.c - main: a run's phases, each a function every module goes
 * through: prepare (options, preflight, outputs), load (compile, setup), run
 * (attach, gate, trace, detach), report (collect, judge, render); one
 * cleanup path closes whatever was opened.
 */

#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <malloc.h>
#include <limits.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "latencyscope.h"
#include "probe.h"

#ifndef LS_PROBES_DIR
#define LS_PROBES_DIR "/usr/local/share/latencyscope/probes"
#endif

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t tracing_may_start;	/* set once cleanup matters (stats, attach) */
static int signal_stderr = STDERR_FILENO;	/* a copy: libbcc's compile redirects fd 2 */

/*
 * on_signal - before anything needs undoing (options, checks, compiling,
 * which takes seconds per module inside libbcc), a signal ends the process
 * at once; later the first one ends the run with a report and a second one
 * exits at once (the kernel detaches every program when its fd closes)
 */
static void on_signal(int sig)
{
	static const char before[] = "latencyscope: interrupted before tracing started: nothing was "
	    "measured or written (exit 3)\n";
	static const char again[] = "latencyscope: second signal: exiting at once, no report (exit 3)\n";

	if (!tracing_may_start || stop_signal) {
		ssize_t n = write(signal_stderr, stop_signal ? again : before,
		    stop_signal ? sizeof(again) - 1 : sizeof(before) - 1);

		(void)n;
		_exit(LS_EXIT_ERROR);
	}
	stop_signal = sig;
}

static void list_modules(void)
{
	for (int i = 0; ls_modules[i]; i++) {
		const struct ls_module_ops *m = ls_modules[i];

		printf("%-12s %s\n", m->name, m->summary);
		for (const struct ls_threshold_def *d = m->thresholds; d && d->key; d++) {
			char v[32];

			if (d->unit == LS_T_NS)
				ls_fmt_ns(v, sizeof(v), (double)d->def, true);
			else
				snprintf(v, sizeof(v), "%llu", (unsigned long long)d->def);
			printf("  --threshold %s=%s\n      %s\n", d->key, v, d->help);
		}
		for (const struct ls_module_opt *mo = m->options; mo && mo->name; mo++)
			ls_module_opt_help(stdout, mo);
	}
}

/*
 * probes_dir - --probes-dir, $LATENCYSCOPE_PROBES_DIR, the source tree's
 * probes/ when this binary is the one in the build tree, else the installed
 */
static char *probes_dir(const struct ls_opts *o)
{
	const char *env = getenv("LATENCYSCOPE_PROBES_DIR");
	char exe[PATH_MAX], *slash;
	ssize_t n;

	if (o->probes_dir)
		return ls_xstrdup(o->probes_dir);
	if (env && *env)
		return ls_xstrdup(env);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			if (strcmp(exe, LS_BUILDDIR) == 0)
				return ls_xstrdup(LS_SRC_PROBES_DIR);
		}
	}
	return ls_xstrdup(LS_PROBES_DIR);
}

/*
 * timeline_max - LS_TIMELINE_MAX, or fewer with LATENCYSCOPE_TIMELINE_MAX
 * (tests fill the timeline in seconds rather than minutes: the bound is the
 * same code either way); the store grows by doubling from 1024 events
 */
static int timeline_max(void)
{
	const char *env = getenv("LATENCYSCOPE_TIMELINE_MAX");
	long v = env ? strtol(env, NULL, 10) : 0;

	return v >= 1024 && v < LS_TIMELINE_MAX ? (int)v : LS_TIMELINE_MAX;
}

/* pin_self - keep our own threads off the CPUs we watch, when others exist */
static void pin_self(const struct ls_run *r)
{
	cpu_set_t set;
	int n = 0;

	CPU_ZERO(&set);
	for (int c = 0; c < r->host->nr_possible && c < CPU_SETSIZE; c++) {
		if (ls_cpuset_isset(&r->host->online, c) && !ls_cpuset_isset(&r->cpus, c)) {
			CPU_SET(c, &set);
			n++;
		}
	}
	if (n && sched_setaffinity(0, sizeof(set), &set) == 0)
		ls_debug("pinned latencyscope to the %d CPUs it does not monitor", n);
}

static void fill_report_header(struct ls_report *rep, const struct ls_run *r, const struct ls_opts *o)
{
	char when[64];

	rep->tool_version = PACKAGE_VERSION;
	rep->kernel = ls_xstrdup(r->host->kernel);
	rep->hostname = ls_xstrdup(r->host->hostname);
	rep->boot_id = ls_xstrdup(r->host->boot_id);
	/* the kernel's parameters only: what follows " -- " is init's */
	if ((rep->cmdline = ls_read_file("/proc/cmdline", NULL))) {
		char *init = strstr(rep->cmdline, " -- ");

		rep->cmdline[init ? (size_t)(init - rep->cmdline) : strcspn(rep->cmdline, "\n")] = '\0';
	}
	rep->nr_cpus = r->host->nr_online;
	rep->isolated_cpus = ls_cpulist_format(&r->host->isolated);
	rep->nohz_full_cpus = ls_cpulist_format(&r->host->nohz_full);
	ls_wallclock(r, r->mono_start_ns, when, sizeof(when));
	rep->started_at = ls_xstrdup(when);
	rep->cpus = ls_cpulist_format(&r->cpus);
	rep->cpus_isolated = r->cpus_isolated;
	rep->npids = o->npids;
	rep->pids = ls_xcalloc(o->npids ? o->npids : 1, sizeof(int));
	memcpy(rep->pids, o->pids, o->npids * sizeof(int));
}

/* note_missing_tps - one note naming every optional tracepoint the kernel lacks */
static void note_missing_tps(struct ls_section *s, const struct ls_probe *p)
{
	char list[1024] = "";
	int n = 0, len = 0;

	for (int t = 0; t < p->ntps; t++) {
		if (p->tps[t].present)
			continue;
		len += snprintf(list + len, sizeof(list) - len, "%s%s:%s", n++ ? ", " : "",
		    p->tps[t].cat, p->tps[t].ev);
		if (len >= (int)sizeof(list))
			break;
	}
	if (n)
		ls_section_note(s, "not available on this kernel, so not measured: %s", list);
}

/*
 * write_trace_format - the formats for other tools: chrome/perfetto is the
 * timeline (with the wall-clock profile's stacks, if any); folded,
 * speedscope and pprof write the wall-clock profile, or without one the
 * alpha flame graph built from the timeline
 */
static int write_trace_format(FILE *out, const struct ls_opts *o, const struct ls_report *rep,
    struct ls_timeline *tl, const struct ls_run *r)
{
	const struct ls_profile *pf = NULL;
	struct ls_profile *alpha = NULL;
	int rc;

	for (int i = 0; i < rep->nsections && !pf; i++)
		pf = rep->sections[i].profile;
	if (o->format == LS_FMT_CHROME)
		return ls_render_timeline(out, tl, r, pf);
	if (!pf && tl->on)
		pf = alpha = ls_timeline_alpha(tl, r);
	if (!pf) {	/* pprof needs the wallclock module (options.c), which found nothing */
		ls_err("the wallclock module measured nothing: no profile written");
		return 0;
	}
	rc = o->format == LS_FMT_FOLDED ? ls_render_folded(out, pf) :
	    o->format == LS_FMT_SPEEDSCOPE ? ls_render_speedscope(out, pf) : ls_render_pprof(out, pf);
	ls_profile_free(alpha);
	return rc;
}

/* write_html - the page, with the budget's limits and the timeline's flame graph and strip */
static int write_html(FILE *out, const struct ls_report *rep, const struct ls_budget *budget,
    const struct ls_timeline *tl, const struct ls_run *r)
{
	struct ls_html_input in = { .budget = budget, .tl = tl, .mono_start_ns = r->mono_start_ns };
	struct ls_profile *alpha = tl->on ? ls_timeline_alpha(tl, r) : NULL;
	int rc;

	in.alpha = alpha;
	rc = ls_render_html(out, rep, &in);
	ls_profile_free(alpha);
	return rc;
}

/*
 * box_width - --width, else the terminal's columns when the box goes to one
 * (and it is wider than the default), else 0: the default 78
 */
static int box_width(const struct ls_opts *o, int fd)
{
	struct winsize ws;

	if (o->width)
		return o->width;
	if (fd >= 0 && isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 78)
		return ws.ws_col > 1000 ? 1000 : ws.ws_col;
	return 0;
}

/* write_junit - JUnit XML with the boxed report, as a terminal would show it, inside */
static int write_junit(FILE *out, const struct ls_report *rep, const struct ls_render_opts *ro)
{
	struct ls_render_opts plain = *ro;
	char *box = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&box, &len);
	int rc;

	if (!mem)
		ls_oom();
	plain.color = false;
	ls_render_box(mem, rep, &plain);
	fclose(mem);
	rc = ls_render_junit(out, rep, box);
	free(box);
	return rc;
}

/*
 * write_report - the report in the asked-for format to stdout or --output,
 * then the bill of health; -1 when an asked-for file could not be written
 * in full (the run then exits 3: a report that is not there is no pass)
 */
static int write_report(const struct ls_opts *o, const struct ls_report *rep, struct ls_timeline *tl,
    const struct ls_run *r, const struct ls_budget *budget)
{
	struct ls_render_opts ro = { 0 };
	struct ls_output file;
	char err[512];
	FILE *out = stdout;
	int rc = 0;

	if (o->output && !(out = ls_output_open(&file, o->output, err, sizeof(err)))) {
		ls_err("%s", err);
		return -1;
	}
	ro.ascii = o->ascii;
	/* where the boxes go: the report, or beside a trace format the other stream */
	ro.width = box_width(o, o->format >= LS_FMT_FOLDED ? (out == stdout ? STDERR_FILENO :
	    STDOUT_FILENO) : out == stdout ? STDOUT_FILENO : -1);
	ro.color = !o->no_color && !getenv("NO_COLOR") && out == stdout && isatty(STDOUT_FILENO);
	if (o->format >= LS_FMT_FOLDED) {
		if (write_trace_format(out, o, rep, tl, r) < 0)
			rc = -1;
		/* the verdicts still go somewhere readable */
		ls_render_box(out == stdout ? stderr : stdout, rep, &ro);
	} else if (o->format == LS_FMT_JSON) {
		ls_render_json(out, rep);
	} else if (o->format == LS_FMT_JUNIT) {
		if (write_junit(out, rep, &ro) < 0)
			rc = -1;
	} else if (o->format == LS_FMT_PROMETHEUS) {
		if (ls_render_prometheus(out, rep) < 0)
			rc = -1;
	} else if (o->format == LS_FMT_HTML) {
		if (write_html(out, rep, budget, tl, r) < 0)
			rc = -1;
	} else {
		ls_render_box(out, rep, &ro);
	}
	if (out != stdout) {
		if (rc < 0) {
			ls_err("writing %s failed: %s", o->output, strerror(errno));
			ls_output_abort(&file);
		} else if ((rc = ls_output_commit(&file, err, sizeof(err))) < 0) {
			ls_err("%s: the report is lost (exit 3)", err);
		} else if (!o->quiet && o->interval <= 0) {	/* not once a minute for hours */
			fprintf(stderr, "latencyscope: report written to %s (exit code %d)\n", o->output,
			    rep->exit_code);
		}
	} else if (fflush(stdout) != 0 || ferror(stdout)) {
		ls_err("writing the report to stdout failed: %s", strerror(errno));
		rc = -1;
	}
	if (o->bill_of_health) {
		if (ls_bill_of_health(o->bill_of_health, rep, r, err, sizeof(err)) < 0) {
			ls_err("cannot write the bill of health: %s", err);
			rc = -1;
		} else if (!o->quiet) {
			fprintf(stderr, "latencyscope: bill of health written to %s\n", o->bill_of_health);
		}
	}
	return rc;
}

static void set_signals(void)
{
	struct sigaction sa;
	int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);

	if (fd >= 0)
		signal_stderr = fd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* one run: what the phases share, and what the one cleanup path frees */
struct run {
	struct ls_opts	 o;
	struct ls_host	 h;
	struct ls_run	 r;
	struct ls_timeline tl;
	struct ls_targets targets;
	struct ls_probe	 probes[LS_MAX_MODULES];
	int		 nprobes;
	int		 stats;	/* ls_overhead_enable()'s answer: 0 = we switched them on */
	uint64_t	 t0;	/* when the process started, for the attach time */
	struct {			/* the status line on a terminal */
		bool	 on;
		uint64_t at, events;	/* the last one: when, and the events then */
	} status;
	struct {			/* --interval */
		int	 index;		/* of the interval being traced, from 1 */
		uint64_t start;		/* when it began (monotonic) */
		struct ls_report before;	/* the run up to its start (nsections 0: none yet) */
		int	 worst_exit;	/* the worst exit code of the intervals reported */
		bool	 failed;	/* an interval's report could not be written */
	} iv;
	struct ls_budget budget;	/* --budget: read before the compile, judged at the end */
	struct ls_baseline baseline;	/* --baseline: read before the compile, compared at the end */
	char		 err[2048];
};

/* check_outputs - the files the run will write, checked now, written at its end */
static int check_outputs(struct run *x)
{
	const struct ls_opts *o = &x->o;

	if ((o->output && ls_output_check(o->output, "--output", x->err, sizeof(x->err)) < 0) ||
	    (o->bill_of_health && ls_output_check(o->bill_of_health, "--bill-of-health", x->err,
	    sizeof(x->err)) < 0))
		return -1;
	if (o->output && o->bill_of_health && ls_output_same(o->output, o->bill_of_health)) {
		snprintf(x->err, sizeof(x->err), "--output and --bill-of-health both name %s: the bill "
		    "of health would overwrite the report; give it another file", o->output);
		return -1;
	}
	return 0;
}

/*
 * prepare - everything that can refuse the run before a probe compiles
 * (seconds each): thresholds, the host, CPUs and PIDs, privileges, tracefs,
 * headers, the output files, each module's own check
 */
static int prepare(struct run *x)
{
	struct ls_opts *o = &x->o;
	struct ls_run *r = &x->r;

	ls_verbose = o->verbose;
	r->opts = o;
	r->host = &x->h;
	r->timeline = &x->tl;
	r->targets = &x->targets;
	if (ls_thresholds_init(&r->thresholds, o, x->err, sizeof(x->err)) < 0)
		return -1;
	ls_host_probe(&x->h);
	r->cpus = o->cpus_given ? o->cpus : ls_cpuset_count(&x->h.isolated) ? x->h.isolated :
	    x->h.online;
	r->cpus_isolated = ls_cpuset_subset(&r->cpus, &x->h.isolated);
	if (ls_preflight_cpus(&x->h, &r->cpus, x->err, sizeof(x->err)) < 0 ||
	    ls_preflight_pids(o->pids, o->npids, x->err, sizeof(x->err)) < 0 ||
	    ls_preflight_privileges(x->err, sizeof(x->err)) < 0 ||
	    ls_preflight_tracefs(&x->h, x->err, sizeof(x->err)) < 0 ||
	    ls_preflight_headers(&x->h, o->kernel_headers, x->err, sizeof(x->err)) < 0)
		return -1;
	ls_targets_init(&x->targets, o->pids, o->npids);	/* their start times, before the compile */
	if (check_outputs(x) < 0 ||
	    (o->budget && ls_budget_load(o->budget, &x->budget, x->err, sizeof(x->err)) < 0) ||
	    (o->baseline && ls_baseline_load(o->baseline, o, &x->baseline, x->err, sizeof(x->err)) < 0))
		return -1;
	ls_opts_warn_unused(o);
	for (int i = 0; i < o->nmodules; i++) {
		const struct ls_module_ops *m = ls_module_find(o->modules[i]);

		if (m->check && m->check(r, x->err, sizeof(x->err)) < 0)
			return -1;
	}
	/* the trace formats need every event above --trace-threshold, not the worst few */
	x->tl.on = o->format == LS_FMT_CHROME || o->format == LS_FMT_HTML || (!ls_profiling_module(o) &&
	    (o->format == LS_FMT_FOLDED || o->format == LS_FMT_SPEEDSCOPE));
	x->tl.threshold_ns = o->trace_threshold_ns;
	x->tl.max = timeline_max();
	r->probes_dir = probes_dir(o);
	if (ls_trust_probes_dir(&r->probes_dir, x->err, sizeof(x->err)) < 0)
		return -1;
	r->cache_dir = ls_cache_dir(o);
	pin_self(r);
	return 0;
}

/*
 * compile_width - how many probes compile at once: one child per CPU this
 * process may run on (the housekeeping CPUs, never the isolated ones it
 * measures), at most four (each child peaks near 120 MiB)
 */
static int compile_width(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 1;
	n = CPU_COUNT(&set);
	return n < 1 ? 1 : n > 4 ? 4 : n;
}

/* compiling - of the probes begun from first to end, how many compile in a child now */
static int compiling(const struct run *x, int first, int end)
{
	int n = 0;

	for (int i = first; i < end; i++)
		n += x->probes[i].compiling != NULL;
	return n;
}

/* setup_probe - the module seeds its loaded probe's maps */
static int setup_probe(struct run *x, struct ls_probe *p)
{
	const struct ls_module_ops *m = p->ops;

	x->err[0] = '\0';
	if (!m->setup || m->setup(p, &x->r, x->err, sizeof(x->err)) == 0)
		return 0;
	if (!x->err[0])
		snprintf(x->err, sizeof(x->err), "%s: cannot prepare the maps of %s (%s): "
		    "restore the probe file or point --probes-dir at a working copy",
		    m->name, p->path, strerror(errno ? errno : EINVAL));
	return -1;
}

/*
 * load - compile, load and set up each module's probe, the compiles of
 * several modules side by side; one the kernel cannot run is noted
 */
static int load(struct run *x)
{
	int n = x->o.nmodules, width = compile_width();
	int *rc = ls_xcalloc((size_t)n, sizeof(*rc));

	for (int i = 0; i < n; i++) {
		while (x->nprobes < n && (x->nprobes == i || compiling(x, i, x->nprobes) < width)) {
			const struct ls_module_ops *m = ls_module_find(x->o.modules[x->nprobes]);
			struct ls_probe *p = &x->probes[x->nprobes];

			rc[x->nprobes++] = ls_probe_begin(p, m, &x->r, x->err, sizeof(x->err));
			if (rc[x->nprobes - 1] < 0)
				goto fail;
		}
		if (rc[i] == 0 && ((rc[i] = ls_probe_end(&x->probes[i], x->err, sizeof(x->err))) < 0 ||
		    setup_probe(x, &x->probes[i]) < 0))
			goto fail;
	}
	free(rc);
	/* compiling left LLVM's freed working memory in the heap: give it back to the host */
	malloc_trim(0);
	return 0;
fail:
	free(rc);
	return -1;
}

/*
 * tracing_started - the line scripts and tests wait for: printed once every
 * probe is attached and the gates are open (not with --quiet)
 */
static void tracing_started(const struct run *x)
{
	char *cpus = ls_cpulist_format(&x->r.cpus);

	if (!x->o.quiet) {
		fprintf(stderr, "latencyscope: tracing CPUs %s%s", cpus,
		    x->r.cpus_isolated ? " (isolated)" : "");
		for (int i = 0; i < x->o.npids; i++)
			fprintf(stderr, "%s%d", i ? "," : ", PIDs ", x->o.pids[i]);
		if (x->o.interval > 0)
			fprintf(stderr, ", a report every %g s", x->o.interval);
		if (x->o.duration > 0)
			fprintf(stderr, " for %g s; Ctrl-C ends early and still reports\n", x->o.duration);
		else
			fprintf(stderr, " until Ctrl-C or SIGTERM, which still report\n");
	}
	free(cpus);
}

/*
 * status - on a terminal, one line redrawn about every second while the run
 * traces: time, events per second (those the modules count) and losses;
 * erased (done) before anything else is written
 */
static void status(struct run *x, uint64_t now, bool done)
{
	uint64_t events = 0, lost = 0;
	char rate[32], lst[32];

	if (!x->status.on || (!done && now - x->status.at < 1000000000ULL))
		return;
	if (done) {
		fputs("\r\033[K", stderr);
		return;
	}
	for (int i = 0; i < x->nprobes; i++)
		if (x->probes[i].obj) {
			if (x->probes[i].ops->events)
				events += x->probes[i].ops->events(&x->probes[i]);
			lost += ls_probe_lost(&x->probes[i], NULL);
		}
	ls_fmt_count(rate, sizeof(rate), (uint64_t)((events - x->status.events) * 1e9 /
	    (double)(now - x->status.at)));
	ls_fmt_count(lst, sizeof(lst), lost);
	if (x->o.duration > 0)
		fprintf(stderr, "\r\033[Klatencyscope: %.0f / %g s, %s events/s, %s lost",
		    (now - x->r.mono_start_ns) / 1e9, x->o.duration, rate, lst);
	else
		fprintf(stderr, "\r\033[Klatencyscope: %.0f s, %s events/s, %s lost",
		    (now - x->r.mono_start_ns) / 1e9, rate, lst);
	fflush(stderr);
	x->status.at = now;
	x->status.events = events;
}

static void interval_end(struct run *x, uint64_t now);

/* next_interval - when the interval being traced ends; UINT64_MAX: no --interval */
static uint64_t next_interval(const struct run *x)
{
	if (x->o.interval <= 0)
		return UINT64_MAX;
	return x->r.mono_start_ns + (uint64_t)(x->iv.index * x->o.interval * 1e9);
}

/*
 * trace - until the time is up, a signal comes or every --pid process is
 * gone; with --interval, each interval that ends before then is reported
 * as it ends (the last one is the run's end, reported by report())
 */
static void trace(struct run *x)
{
	uint64_t end_ns = x->o.duration > 0 ? x->r.mono_start_ns + (uint64_t)(x->o.duration * 1e9) :
	    UINT64_MAX;

	x->status.on = !x->o.quiet && isatty(STDERR_FILENO);
	x->status.at = x->r.mono_start_ns;
	x->iv.index = 1;
	x->iv.start = x->r.mono_start_ns;

	while (!stop_signal) {
		uint64_t now = ls_now_ns(CLOCK_MONOTONIC), next, iv_end = next_interval(x);
		int slice;

		if (now >= end_ns || ls_targets_check(&x->targets, (now - x->r.mono_start_ns) / 1e9))
			break;
		if (now >= iv_end && iv_end < end_ns) {
			interval_end(x, now);
			continue;
		}
		next = ls_overhead_tick(x->probes, x->nprobes, now);
		next = next < end_ns - now ? next : end_ns - now;
		next = next < iv_end - now ? next : iv_end - now;
		slice = (int)(next / 1000000ULL);
		slice = slice > 100 ? 100 : slice < 1 ? 1 : slice;
		for (int i = 0; i < x->nprobes; i++)
			if (x->probes[i].obj)
				ls_probe_poll(&x->probes[i], slice / x->nprobes ? slice / x->nprobes : 1);
		if (!x->nprobes)
			usleep(slice * 1000);
		for (int i = 0; i < x->nprobes; i++)
			if (x->probes[i].obj && x->probes[i].ops->tick)
				x->probes[i].ops->tick(&x->probes[i], &x->r);
		status(x, ls_now_ns(CLOCK_MONOTONIC), false);
	}
	status(x, 0, true);
}

/* window_edge - each module that reads a kernel counter over the window, at its edge */
static void window_edge(struct run *x, bool open)
{
	for (int i = 0; i < x->nprobes; i++)
		if (x->probes[i].obj && x->probes[i].ops->window)
			x->probes[i].ops->window(&x->probes[i], &x->r, open);
}

/*
 * run - attach, open every gate at one instant, trace, close them, detach.
 * Switching the BPF statistics on interrupts every CPU, so it is done before
 * the gates open and after they close.
 */
static int run(struct run *x)
{
	tracing_may_start = 1;
	x->stats = ls_overhead_enable(x->o.self_cost);
	for (int i = 0; i < x->nprobes; i++)
		if (x->probes[i].obj && ls_probe_attach(&x->probes[i], x->err, sizeof(x->err)) < 0)
			return -1;
	if (stop_signal) {	/* while attaching: no window was traced, so no report */
		snprintf(x->err, sizeof(x->err), "interrupted before tracing started: nothing was "
		    "measured or written");
		return -1;
	}
	ls_overhead_start(x->probes, x->nprobes, ls_now_ns(CLOCK_MONOTONIC));
	/* the kernel's counters are read just outside the gates: they cover all that is traced */
	window_edge(x, true);
	/*
	 * the window starts before the first gate opens and ends after the last
	 * closes, so it holds all that is traced even when this process is
	 * preempted between gates (a busy machine): an oracle read over the
	 * window never counts less than the probes saw
	 */
	x->r.mono_start_ns = ls_now_ns(CLOCK_MONOTONIC);
	x->r.real_start_ns = ls_now_ns(CLOCK_REALTIME);
	for (int i = 0; i < x->nprobes; i++)
		ls_probe_gate(&x->probes[i], 1);
	ls_debug("probes attached %.3f s after start", (x->r.mono_start_ns - x->t0) / 1e9);
	ls_targets_check(&x->targets, 0);	/* those gone during the compile */
	tracing_started(x);
	trace(x);
	for (int i = 0; i < x->nprobes; i++)
		ls_probe_gate(&x->probes[i], 0);
	/* the window ends as the last gate closes, before anything slower runs */
	x->r.duration_s = (ls_now_ns(CLOCK_MONOTONIC) - x->r.mono_start_ns) / 1e9;
	window_edge(x, false);
	ls_overhead_stop(x->probes, x->nprobes, ls_now_ns(CLOCK_MONOTONIC));
	ls_debug("probes stopped after %.3f s", x->r.duration_s);
	for (int i = 0; i < x->nprobes; i++)
		ls_probe_detach(&x->probes[i]);
	return 0;
}

/*
 * note_missed - events the kernel did not hand to the module's programs at
 * all: nothing lost silently, though the count is over the programs' whole
 * life, attach to now, so it bounds what the window missed from above
 */
static void note_missed(struct ls_section *s, const struct ls_probe *p)
{
	struct ls_prog_stats st = { 0 };
	uint64_t missed;

	ls_probe_stats(p, &st);
	if (!(missed = st.missed))
		return;
	ls_section_metric(s, "missed_events", "Skipped by the kernel", ls_v_uint(missed, LS_F_COUNT));
	ls_section_note(s, "the kernel skipped this module's programs %llu times while another BPF "
	    "program ran on the same CPU (its recursion protection): up to that many events are "
	    "missing from the counts above", (unsigned long long)missed);
}

/* note_pruned - with --interval, the threads that left the per-thread tables */
static void note_pruned(struct ls_section *s, const struct ls_probe *p)
{
	if (p->pruned)
		ls_section_note(s, "%llu map entries of threads that exited were removed after the "
		    "interval that last reported them: the per-thread and per-process tables list "
		    "what was alive at an interval's end or started since", (unsigned long long)p->pruned);
}

/* collect_one - one module's section: its maps read, judged, its notes */
static void collect_one(struct run *x, struct ls_report *rep, struct ls_probe *p)
{
	struct ls_section *s = ls_report_add_section(rep, p->ops->name, p->ops->title);

	if (!p->obj) {
		s->verdict = LS_NOT_MEASURED;
		ls_section_note(s, "not measured: %s", p->not_measured);
		return;
	}
	ls_probe_poll(p, 0);	/* drain what is left */
	if (p->ops->collect(p, &x->r, s) < 0) {
		s->verdict = LS_NOT_MEASURED;
		ls_section_note(s, "not measured: reading the probe's maps failed (%s)", strerror(errno));
		return;
	}
	note_missing_tps(s, p);
	if (p->ops->judge && !ls_targets_gone_before(&x->targets))
		p->ops->judge(s, &x->r);
	ls_section_set_verdict(s);
	ls_targets_notes(&x->targets, s);
	if (!rep->lost_per_cpu) {
		rep->nlost_cpus = ls_nr_possible_cpus();
		rep->lost_per_cpu = ls_xcalloc(rep->nlost_cpus, sizeof(*rep->lost_per_cpu));
	}
	rep->lost_events += ls_probe_lost(p, rep->lost_per_cpu);
	note_missed(s, p);
	note_pruned(s, p);
}

/* ended_by - why tracing stopped */
static const char *ended_by(const struct run *x)
{
	return stop_signal == SIGINT ? "SIGINT" : stop_signal == SIGTERM ? "SIGTERM" :
	    stop_signal == SIGHUP ? "SIGHUP" : x->targets.n && x->targets.nexited == x->targets.n ?
	    "targets exited" : "duration";
}

/*
 * build_report - collect and judge every module over the run so far (up
 * to r.duration_s), with everything judged on the whole report after them
 */
static void build_report(struct run *x, struct ls_report *rep, const char *why)
{
	struct ls_timeline *tl = &x->tl;

	fill_report_header(rep, &x->r, &x->o);
	rep->duration_s = x->r.duration_s;
	rep->ended_by = ls_xstrdup(why);
	rep->targets = x->targets;
	for (int i = 0; i < x->nprobes; i++)
		collect_one(x, rep, &x->probes[i]);
	ls_noise_evidence(rep, &x->r);
	ls_overhead_collect(x->probes, x->nprobes, x->r.duration_s, ls_cpuset_count(&x->r.cpus),
	    &rep->overhead);
	if (x->o.volume > 0)
		ls_jitter_section(rep, &x->r);
	ls_timeline_sort(tl);
	tl->lost = rep->lost_events;
	rep->timeline_overflow = tl->dropped;
	rep->timeline_max = tl->n;
	if (tl->dropped)
		rep->timeline_full_at_s = tl->full_at > x->r.mono_start_ns ?
		    (tl->full_at - x->r.mono_start_ns) / 1e9 : 0;
	ls_report_summarize(rep);
	if (x->budget.n && rep->exit_code != LS_EXIT_ERROR) {	/* judged on the report as it stands */
		ls_budget_section(rep, &x->budget);
		ls_report_summarize(rep);
	}
	if (x->baseline.doc && rep->exit_code != LS_EXIT_ERROR) {
		ls_baseline_section(rep, &x->baseline);
		ls_report_summarize(rep);
	}
}

/*
 * write_interval - one interval's report: JSON Lines or the compact text
 * on stdout; -f prometheus writes the run so far instead (counters stay
 * cumulative, for rate()) with the interval's verdicts, to --output
 * through a temporary and a rename
 */
static void write_interval(struct run *x, struct ls_report *now)
{
	struct ls_report iv = { 0 };
	int rc = 0;

	ls_report_interval(&iv, now, x->iv.before.nsections ? &x->iv.before : NULL, &x->r);
	x->iv.worst_exit = iv.exit_code > x->iv.worst_exit ? iv.exit_code : x->iv.worst_exit;
	if (x->o.format == LS_FMT_PROMETHEUS) {
		/* counters of the run so far, verdicts of the interval (an alert's question) */
		for (int i = 0; i < now->nsections && i < iv.nsections; i++)
			now->sections[i].verdict = iv.sections[i].verdict;
		rc = write_report(&x->o, now, &x->tl, &x->r, NULL);
	} else {
		status(x, 0, true);
		if (x->o.format == LS_FMT_JSON)
			rc = ls_render_json_line(stdout, &iv);
		else
			ls_render_interval(stdout, &iv, x->o.ascii);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			ls_err("writing interval %d to stdout failed: %s", iv.interval.index, strerror(errno));
			rc = -1;
		}
	}
	ls_report_free(&iv);
	if (rc < 0)
		x->iv.failed = true;
}

/*
 * interval_report - the run so far as the interval x->iv.index ends at
 * end_ns (monotonic): collected with each module's worst list of the
 * interval, written, kept as the next interval's start, the lists emptied
 */
static void interval_report(struct run *x, uint64_t end_ns, const char *why, bool last)
{
	struct ls_report now = { 0 };
	uint64_t t0 = ls_now_ns(CLOCK_MONOTONIC);
	char a[64], b[64];

	for (int i = 0; i < x->nprobes; i++)
		ls_probe_interval_worst(&x->probes[i], true);
	build_report(x, &now, why);
	for (int i = 0; i < x->nprobes; i++)
		ls_probe_interval_worst(&x->probes[i], false);
	ls_wallclock(&x->r, x->iv.start, a, sizeof(a));
	ls_wallclock(&x->r, end_ns, b, sizeof(b));
	now.interval.index = x->iv.index;
	now.interval.start = ls_xstrdup(a);
	now.interval.end = ls_xstrdup(b);
	now.interval.start_s = (x->iv.start - x->r.mono_start_ns) / 1e9;
	write_interval(x, &now);
	ls_report_free(&x->iv.before);
	ls_report_keep(&x->iv.before, &now);	/* off the heap: see report-keep.c */
	ls_report_free(&now);
	/* what exited was in this report for the last time (the whole run's report keeps the last's) */
	for (int i = 0; i < x->nprobes && !last; i++)
		ls_probe_prune(&x->probes[i]);
	x->iv.index++;
	x->iv.start = end_ns;
	/* reading the maps took tens of MiB for a moment: give them back until the next interval */
	malloc_trim(0);
	ls_debug("interval %d reported in %.3f s", x->iv.index - 1,
	    (ls_now_ns(CLOCK_MONOTONIC) - t0) / 1e9);
}

/*
 * interval_end - an interval ends while the gates are open: the events
 * already sent are read, each module's kernel counters taken as at a
 * window's end, then the run so far is collected (an event that lands
 * meanwhile is in this interval or the next: the maps are never cleared)
 */
static void interval_end(struct run *x, uint64_t end_ns)
{
	for (int i = 0; i < x->nprobes; i++)
		if (x->probes[i].obj)
			ls_probe_poll(&x->probes[i], 0);
	window_edge(x, false);
	x->r.duration_s = (end_ns - x->r.mono_start_ns) / 1e9;
	interval_report(x, end_ns, "interval", false);
}

/* report - collect and judge every module, then write what was asked for; the exit code */
static int report(struct run *x)
{
	struct ls_report rep = { 0 };
	int rc;

	if (x->o.interval > 0) {	/* the last interval: up to the run's end */
		interval_report(x, x->r.mono_start_ns + (uint64_t)(x->r.duration_s * 1e9), ended_by(x), true);
		if (x->o.format != LS_FMT_TEXT) {
			rc = x->iv.failed ? LS_EXIT_ERROR : x->iv.worst_exit;
			goto out;
		}
	}
	build_report(x, &rep, ended_by(x));
	if (x->o.interval > 0)
		printf("\n");	/* text: the whole run's boxes after the intervals' tables */
	if (write_report(&x->o, &rep, &x->tl, &x->r, &x->budget) < 0 || x->iv.failed)
		rc = LS_EXIT_ERROR;
	else if ((rc = rep.exit_code) == LS_EXIT_ERROR && ls_targets_gone_before(&x->targets))
		ls_err("every --pid process exited before tracing started: nothing was measured; "
		    "start latencyscope while the process runs");
	else if (rc == LS_EXIT_ERROR)
		ls_err("no module could measure anything on this machine: see the notes in the report");
	if (rc != LS_EXIT_ERROR && x->iv.worst_exit > rc)
		rc = x->iv.worst_exit;
	ls_report_free(&rep);
out:
	ls_report_free(&x->iv.before);
	return rc;
}

/* cleanup - the one way out: every probe closed (detached), the statistics as they were */
static void cleanup(struct run *x)
{
	for (int i = 0; i < x->nprobes; i++)
		ls_probe_close(&x->probes[i]);
	if (x->stats == 0)
		ls_overhead_disable();
	ls_timeline_free(&x->tl);
	ls_budget_free(&x->budget);
	ls_baseline_free(&x->baseline);
	free(x->r.probes_dir);
	free(x->r.cache_dir);
	ls_host_free(&x->h);
	ls_opts_free(&x->o);
}

/* info - --help, --version, --list-modules */
static int info(const struct ls_opts *o)
{
	if (o->help)
		ls_opts_usage(stdout);
	else if (o->version)
		printf("latencyscope %s\n", PACKAGE_VERSION);
	else
		list_modules();
	return LS_EXIT_PASS;
}

/*
 * audit - --audit alone: the settings for the monitored CPUs (--cpus, else
 * the isolated ones, else every online CPU), judged without BPF or root
 */
static int audit(struct run *x)
{
	struct ls_report rep = { 0 };
	int rc;

	ls_host_probe(&x->h);
	x->r.host = &x->h;
	x->r.cpus = x->o.cpus_given ? x->o.cpus : ls_cpuset_count(&x->h.isolated) ? x->h.isolated :
	    x->h.online;
	x->r.cpus_isolated = ls_cpuset_subset(&x->r.cpus, &x->h.isolated);
	x->r.mono_start_ns = ls_now_ns(CLOCK_MONOTONIC);
	x->r.real_start_ns = ls_now_ns(CLOCK_REALTIME);
	fill_report_header(&rep, &x->r, &x->o);
	rep.ended_by = ls_xstrdup("audit");
	ls_audit_section(&rep, &x->r.cpus, &x->h.online);
	ls_report_summarize(&rep);
	rc = write_report(&x->o, &rep, &x->tl, &x->r, NULL) < 0 ? LS_EXIT_ERROR : rep.exit_code;
	ls_report_free(&rep);
	ls_host_free(&x->h);
	return rc;
}

/* under a sanitizer, its leak check; nothing otherwise */
extern void __lsan_do_leak_check(void) __attribute__((weak));

/*
 * finish - leave with rc. libbcc (the compiler) and libbcc_bpf, which
 * latencyscope links, both define the same C++ objects (the USDT argument
 * parser's register table among them); once both are loaded each library's
 * constructor builds the one the process binds to and each destructor
 * frees it, so returning from main after a compile crashes in exit()
 * about one time in three. Everything is written and closed by now: skip
 * the libraries' destructors.
 */
static int finish(int rc)
{
	if (!ls_bcc_cc_loaded())
		return rc;
	fflush(NULL);
	if (__lsan_do_leak_check)
		__lsan_do_leak_check();
	_exit(rc);
}

int main(int argc, char **argv)
{
	static struct run x = { .stats = -1 };	/* static: the probes table is large */
	int rc;

	x.t0 = ls_now_ns(CLOCK_MONOTONIC);
	if (ls_opts_parse(&x.o, argc, argv, x.err, sizeof(x.err)) < 0) {
		ls_err("%s", x.err);
		ls_opts_free(&x.o);
		return LS_EXIT_ERROR;
	}
	if (x.o.help || x.o.version || x.o.list_modules) {
		rc = info(&x.o);
		ls_opts_free(&x.o);
		return rc;
	}
	if (x.o.audit) {
		rc = audit(&x);
		ls_opts_free(&x.o);
		return rc;
	}
	/* from here on a signal ends the process (before tracing) or the run, with a report */
	set_signals();
	if (prepare(&x) < 0 || load(&x) < 0 || run(&x) < 0) {
		ls_err("%s", x.err);
		rc = LS_EXIT_ERROR;
	} else {
		rc = report(&x);
	}
	cleanup(&x);
	return finish(rc);
}
