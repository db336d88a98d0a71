// SPDX-License-Identifier: GPL-2.0-only
/*
 * latencyscope.c - main: every module goes through the same phases
 * (parse -> preflight -> load -> attach -> run -> collect -> judge ->
 * detach -> render), and every exit path detaches what was attached.
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

#include "latencyscope.h"

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

/*
 * write_report - the report in the asked-for format to stdout or --output,
 * then the bill of health; -1 when an asked-for file could not be written
 * in full (the run then exits 3: a report that is not there is no pass)
 */
static int write_report(const struct ls_opts *o, const struct ls_report *rep, struct ls_timeline *tl,
    const struct ls_run *r)
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
	ro.color = !o->no_color && !getenv("NO_COLOR") && out == stdout && isatty(STDOUT_FILENO);
	if (o->format >= LS_FMT_FOLDED) {
		if (write_trace_format(out, o, rep, tl, r) < 0)
			rc = -1;
		/* the verdicts still go somewhere readable */
		ls_render_box(out == stdout ? stderr : stdout, rep, &ro);
	} else if (o->format == LS_FMT_JSON) {
		ls_render_json(out, rep);
	} else {
		ls_render_box(out, rep, &ro);
	}
	if (out != stdout) {
		if (rc < 0) {
			ls_err("writing %s failed: %s", o->output, strerror(errno));
			ls_output_abort(&file);
		} else if ((rc = ls_output_commit(&file, err, sizeof(err))) < 0) {
			ls_err("%s: the report is lost (exit 3)", err);
		} else {
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
		} else {
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

int main(int argc, char **argv)
{
	struct ls_probe probes[LS_MAX_MODULES];
	struct ls_report rep = { 0 };
	struct ls_timeline tl = { 0 };
	struct ls_targets targets;
	struct ls_opts o;
	struct ls_host h = { 0 };
	struct ls_run r = { 0 };
	char err[2048] = "";
	int nprobes = 0, rc = LS_EXIT_ERROR, stats = -1;
	uint64_t t0 = ls_now_ns(CLOCK_MONOTONIC), end_ns, attached_ns;

	if (ls_opts_parse(&o, argc, argv, err, sizeof(err)) < 0) {
		ls_err("%s", err);
		ls_opts_free(&o);
		return LS_EXIT_ERROR;
	}
	if (o.help || o.version || o.list_modules) {
		if (o.help)
			ls_opts_usage(stdout);
		else if (o.version)
			printf("latencyscope %s\n", PACKAGE_VERSION);
		else
			list_modules();
		ls_opts_free(&o);
		return LS_EXIT_PASS;
	}
	/* from here on a signal ends the process (before tracing) or the run, with a report */
	set_signals();
	ls_verbose = o.verbose;
	r.opts = &o;
	r.host = &h;
	if (ls_thresholds_init(&r.thresholds, &o, err, sizeof(err)) < 0)
		goto fail;

	ls_host_probe(&h);
	if (o.cpus_given)
		r.cpus = o.cpus;
	else if (ls_cpuset_count(&h.isolated))
		r.cpus = h.isolated;
	else
		r.cpus = h.online;
	r.cpus_isolated = ls_cpuset_subset(&r.cpus, &h.isolated);
	if (ls_preflight_cpus(&h, &r.cpus, err, sizeof(err)) < 0 ||
	    ls_preflight_pids(o.pids, o.npids, err, sizeof(err)) < 0 ||
	    ls_preflight_interfaces(o.interfaces, o.ninterfaces, err, sizeof(err)) < 0 ||
	    ls_preflight_privileges(err, sizeof(err)) < 0 ||
	    ls_preflight_tracefs(&h, err, sizeof(err)) < 0 ||
	    ls_preflight_headers(&h, o.kernel_headers, err, sizeof(err)) < 0)
		goto fail;
	ls_targets_init(&targets, o.pids, o.npids);	/* their start times, before the compile */
	r.targets = &targets;
	/* checked now, written at the end: a run that fails leaves both paths as they were */
	if ((o.output && ls_output_check(o.output, "--output", err, sizeof(err)) < 0) ||
	    (o.bill_of_health && ls_output_check(o.bill_of_health, "--bill-of-health", err,
	    sizeof(err)) < 0))
		goto fail;
	if (o.output && o.bill_of_health && ls_output_same(o.output, o.bill_of_health)) {
		snprintf(err, sizeof(err), "--output and --bill-of-health both name %s: the bill of "
		    "health would overwrite the report; give it another file", o.output);
		goto fail;
	}
	{
		bool net = false, wc = false, sc = false;

		for (int i = 0; i < o.nmodules; i++) {
			net = net || !strcmp(o.modules[i], "network");
			wc = wc || !strcmp(o.modules[i], "wallclock");
			sc = sc || !strcmp(o.modules[i], "syscall");
		}
		if (o.allow_block && !sc)
			ls_warn("--allow-block only applies to the syscall module, which is not in this "
			    "run (add it with --module ...,syscall)");
		if (o.ninterfaces && !net)
			ls_warn("--interface only applies to the network module, which is not in this run "
			    "(add it with --module ...,network)");
		if (o.wallclock_opt && !wc)
			ls_warn("%s only applies to the wallclock module, which is not in this run (add it "
			    "with --module ...,wallclock)", o.wallclock_opt);
		/* the trace formats need every event above --trace-threshold, not the worst few */
		tl.on = o.format == LS_FMT_CHROME ||
		    (!wc && (o.format == LS_FMT_FOLDED || o.format == LS_FMT_SPEEDSCOPE));
		tl.threshold_ns = o.trace_threshold_ns;
		r.timeline = &tl;
	}
	if (o.volume > 0)
		ls_tail_budget_ns = o.latency_budget_ns;
	r.probes_dir = probes_dir(&o);
	if (ls_trust_probes_dir(&r.probes_dir, err, sizeof(err)) < 0)
		goto fail;
	pin_self(&r);

	/* load: a module whose tracepoints are missing is reported, not fatal */
	for (int i = 0; i < o.nmodules; i++) {
		const struct ls_module_ops *m = ls_module_find(o.modules[i]);
		struct ls_probe *p = &probes[nprobes];
		int prc = ls_probe_open(p, m, &r, err, sizeof(err));

		nprobes++;
		if (prc < 0)
			goto fail;
		err[0] = '\0';
		if (prc == 0 && m->setup && m->setup(p, &r, err, sizeof(err)) < 0) {
			if (!err[0])
				snprintf(err, sizeof(err), "%s: cannot prepare the maps of %s (%s): "
				    "restore the probe file or point --probes-dir at a working copy",
				    m->name, p->path, strerror(errno ? errno : EINVAL));
			goto fail;
		}
	}
	/*
	 * Compiling left LLVM's freed working memory in the heap: give it back,
	 * so the tracer does not hold memory the traced code could use
	 */
	malloc_trim(0);
	tracing_may_start = 1;
	stats = ls_overhead_enable(o.self_cost);
	for (int i = 0; i < nprobes; i++)
		if (probes[i].mod && ls_probe_attach(&probes[i], err, sizeof(err)) < 0)
			goto fail;
	if (stop_signal) {	/* while attaching: no window was traced, so no report */
		snprintf(err, sizeof(err), "interrupted before tracing started: nothing was measured "
		    "or written");
		goto fail;
	}
	/*
	 * run: every probe's gate opens (and closes) at one instant; switching
	 * the statistics on interrupts every CPU, so it is done before
	 */
	ls_overhead_start(probes, nprobes, ls_now_ns(CLOCK_MONOTONIC));
	for (int i = 0; i < nprobes; i++)
		ls_probe_gate(&probes[i], 1);
	r.mono_start_ns = ls_now_ns(CLOCK_MONOTONIC);
	r.real_start_ns = ls_now_ns(CLOCK_REALTIME);
	attached_ns = r.mono_start_ns;
	ls_targets_check(&targets, 0);	/* those gone during the compile */
	ls_debug("probes attached %.3f s after start", (attached_ns - t0) / 1e9);
	end_ns = r.mono_start_ns + (uint64_t)(o.duration * 1e9);
	while (!stop_signal) {
		uint64_t now = ls_now_ns(CLOCK_MONOTONIC), next;
		int slice;

		if (now >= end_ns || ls_targets_check(&targets, (now - r.mono_start_ns) / 1e9))
			break;	/* the time is up, or every --pid process has exited */
		next = ls_overhead_tick(probes, nprobes, now);
		next = next < end_ns - now ? next : end_ns - now;
		slice = (int)(next / 1000000ULL);
		slice = slice > 100 ? 100 : slice < 1 ? 1 : slice;
		for (int i = 0; i < nprobes; i++)
			if (probes[i].mod)
				ls_probe_poll(&probes[i], slice / nprobes ? slice / nprobes : 1);
		if (!nprobes)
			usleep(slice * 1000);
		for (int i = 0; i < nprobes; i++)
			if (probes[i].mod && probes[i].ops->tick)
				probes[i].ops->tick(&probes[i], &r);
	}
	for (int i = 0; i < nprobes; i++)
		ls_probe_gate(&probes[i], 0);
	ls_overhead_stop(probes, nprobes, ls_now_ns(CLOCK_MONOTONIC));
	r.duration_s = (ls_now_ns(CLOCK_MONOTONIC) - r.mono_start_ns) / 1e9;
	ls_debug("probes stopped after %.3f s", r.duration_s);
	for (int i = 0; i < nprobes; i++)
		ls_probe_detach(&probes[i]);

	/* collect and judge */
	fill_report_header(&rep, &r, &o);
	rep.duration_s = r.duration_s;
	rep.ended_by = ls_xstrdup(stop_signal == SIGINT ? "SIGINT" : stop_signal == SIGTERM ? "SIGTERM" :
	    stop_signal == SIGHUP ? "SIGHUP" : targets.n && targets.nexited == targets.n ?
	    "targets exited" : "duration");
	rep.targets = targets;
	for (int i = 0; i < nprobes; i++) {
		struct ls_probe *p = &probes[i];
		struct ls_section *s = ls_report_add_section(&rep, p->ops->name, p->ops->title);

		if (!p->mod) {
			s->verdict = LS_NOT_MEASURED;
			ls_section_note(s, "not measured: %s", p->not_measured);
			continue;
		}
		ls_probe_poll(p, 0);	/* drain what is left */
		if (p->ops->collect(p, &r, s) < 0) {
			s->verdict = LS_NOT_MEASURED;
			ls_section_note(s, "not measured: reading the probe's maps failed (%s)",
			    strerror(errno));
			continue;
		}
		note_missing_tps(s, p);
		if (p->ops->judge && !ls_targets_gone_before(&targets))
			p->ops->judge(s, &r);
		ls_section_set_verdict(s);
		ls_targets_notes(&targets, s);
		if (!rep.lost_per_cpu) {
			rep.nlost_cpus = ls_nr_possible_cpus();
			rep.lost_per_cpu = ls_xcalloc(rep.nlost_cpus, sizeof(*rep.lost_per_cpu));
		}
		rep.lost_events += ls_probe_lost(p, rep.lost_per_cpu);
	}
	ls_overhead_collect(probes, nprobes, r.duration_s, ls_cpuset_count(&r.cpus), &rep.overhead);
	if (stats == 0)
		ls_overhead_disable();
	for (int i = 0; i < nprobes; i++)
		ls_probe_close(&probes[i]);
	nprobes = 0;
	if (o.volume > 0)
		ls_jitter_section(&rep, &r);
	ls_timeline_sort(&tl);
	tl.lost = rep.lost_events;
	rep.timeline_overflow = tl.dropped;
	if (tl.dropped)
		rep.timeline_full_at_s = tl.full_at > r.mono_start_ns ?
		    (tl.full_at - r.mono_start_ns) / 1e9 : 0;
	ls_report_summarize(&rep);

	if (write_report(&o, &rep, &tl, &r) < 0)
		rc = LS_EXIT_ERROR;
	else if ((rc = rep.exit_code) == LS_EXIT_ERROR && ls_targets_gone_before(&targets))
		ls_err("every --pid process exited before tracing started: nothing was measured; "
		    "start latencyscope while the process runs");
	else if (rc == LS_EXIT_ERROR)
		ls_err("no module could measure anything on this machine: see the notes in the report");
	ls_report_free(&rep);
	goto done;
fail:
	ls_err("%s", err);
	rc = LS_EXIT_ERROR;
	for (int i = 0; i < nprobes; i++)
		ls_probe_close(&probes[i]);
	if (stats == 0)
		ls_overhead_disable();
done:
	ls_timeline_free(&tl);
	free(r.probes_dir);
	ls_host_free(&h);
	ls_opts_free(&o);
	return rc;
}
