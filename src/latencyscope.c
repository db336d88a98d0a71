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

static void on_signal(int sig)
{
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
		return strdup(o->probes_dir);
	if (env && *env)
		return strdup(env);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			if (strcmp(exe, LS_BUILDDIR) == 0)
				return strdup(LS_SRC_PROBES_DIR);
		}
	}
	return strdup(LS_PROBES_DIR);
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
	rep->kernel = strdup(r->host->kernel);
	rep->nr_cpus = r->host->nr_online;
	rep->isolated_cpus = ls_cpulist_format(&r->host->isolated);
	rep->nohz_full_cpus = ls_cpulist_format(&r->host->nohz_full);
	ls_wallclock(r, r->mono_start_ns, when, sizeof(when));
	rep->started_at = strdup(when);
	rep->cpus = ls_cpulist_format(&r->cpus);
	rep->cpus_isolated = r->cpus_isolated;
	rep->npids = o->npids;
	rep->pids = calloc(o->npids ? o->npids : 1, sizeof(int));
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
 * check_writable - a file written at the end of the run can be: the file if
 * it exists, else its directory (nothing is created before the run)
 */
static int check_writable(const char *path, const char *opt, char *err, size_t errlen)
{
	char *copy = strdup(path), *dir;
	int rc;

	if (!copy)
		return -1;
	errno = 0;
	if (access(path, F_OK) == 0) {
		rc = access(path, W_OK);
	} else {
		dir = dirname(copy);
		rc = access(dir, W_OK);
	}
	if (rc < 0)
		snprintf(err, errlen, "cannot write %s (%s): pick a writable path for %s", path,
		    strerror(errno), opt);
	free(copy);
	return rc;
}

static FILE *open_output(const struct ls_opts *o, char *err, size_t errlen)
{
	FILE *f;

	if (!o->output)
		return stdout;
	f = fopen(o->output, "w");
	if (!f)
		snprintf(err, errlen, "cannot write the report to %s (%s): pick a writable path for "
		    "--output", o->output, strerror(errno));
	return f;
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

static void set_signals(void)
{
	struct sigaction sa;

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
	struct ls_opts o;
	struct ls_host h = { 0 };
	struct ls_run r = { 0 };
	struct ls_render_opts ro = { 0 };
	char err[2048] = "";
	int nprobes = 0, rc = LS_EXIT_ERROR, stats = -1;
	uint64_t t0 = ls_now_ns(CLOCK_MONOTONIC), end_ns, attached_ns;
	FILE *out = NULL;

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
	/* from here on a signal ends the run with a report, even one before it starts */
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
	if (o.bill_of_health && check_writable(o.bill_of_health, "--bill-of-health", err,
	    sizeof(err)) < 0)
		goto fail;
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
	out = open_output(&o, err, sizeof(err));
	if (!out)
		goto fail;
	r.probes_dir = probes_dir(&o);
	pin_self(&r);

	/* load: a module whose tracepoints are missing is reported, not fatal */
	for (int i = 0; i < o.nmodules; i++) {
		const struct ls_module_ops *m = ls_module_find(o.modules[i]);
		struct ls_probe *p = &probes[nprobes];
		int prc = ls_probe_open(p, m, &r, err, sizeof(err));

		nprobes++;
		if (prc < 0)
			goto fail;
		if (prc == 0 && m->setup && m->setup(p, &r) < 0) {
			snprintf(err, sizeof(err), "%s: cannot prepare the maps of %s (%s): restore the "
			    "probe file or point --probes-dir at a working copy", m->name, p->path,
			    strerror(errno ? errno : EINVAL));
			goto fail;
		}
	}
	/*
	 * Compiling left LLVM's freed working memory in the heap: give it back,
	 * so the tracer does not hold memory the traced code could use
	 */
	malloc_trim(0);
	stats = ls_overhead_enable(o.self_cost);
	for (int i = 0; i < nprobes; i++)
		if (probes[i].mod && ls_probe_attach(&probes[i], err, sizeof(err)) < 0)
			goto fail;
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
	ls_debug("probes attached %.3f s after start", (attached_ns - t0) / 1e9);
	end_ns = r.mono_start_ns + (uint64_t)(o.duration * 1e9);
	while (!stop_signal) {
		uint64_t now = ls_now_ns(CLOCK_MONOTONIC), next;
		int slice;

		if (now >= end_ns)
			break;
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
	rep.ended_by = strdup(stop_signal == SIGINT ? "SIGINT" : stop_signal == SIGTERM ? "SIGTERM" :
	    stop_signal == SIGHUP ? "SIGHUP" : "duration");
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
		if (p->ops->judge)
			p->ops->judge(s, &r);
		ls_section_set_verdict(s);
		if (!rep.lost_per_cpu) {
			rep.nlost_cpus = ls_nr_possible_cpus();
			rep.lost_per_cpu = calloc(rep.nlost_cpus, sizeof(*rep.lost_per_cpu));
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
	if (tl.dropped)
		ls_warn("%llu timeline events were dropped (more than %d): raise --trace-threshold",
		    (unsigned long long)tl.dropped, LS_TIMELINE_MAX);
	ls_report_summarize(&rep);

	ro.ascii = o.ascii;
	ro.color = !o.no_color && !getenv("NO_COLOR") && out == stdout && isatty(STDOUT_FILENO);
	if (o.format >= LS_FMT_FOLDED) {
		if (write_trace_format(out, &o, &rep, &tl, &r) < 0)
			ls_err("writing %s failed: %s", o.output ? o.output : "the output", strerror(errno));
		/* the verdicts still go somewhere readable */
		ls_render_box(out == stdout ? stderr : stdout, &rep, &ro);
	} else if (o.format == LS_FMT_JSON) {
		ls_render_json(out, &rep);
	} else {
		ls_render_box(out, &rep, &ro);
	}
	if (out != stdout) {
		if (fclose(out) != 0)
			ls_err("writing %s failed: %s", o.output, strerror(errno));
		else
			fprintf(stderr, "latencyscope: report written to %s (exit code %d)\n", o.output,
			    rep.exit_code);
	} else {
		fflush(stdout);
	}
	if (o.bill_of_health) {
		if (ls_bill_of_health(o.bill_of_health, &rep, &r) < 0)
			ls_err("cannot write the bill of health to %s: %s", o.bill_of_health, strerror(errno));
		else
			fprintf(stderr, "latencyscope: bill of health written to %s\n", o.bill_of_health);
	}
	rc = rep.exit_code;
	if (rc == LS_EXIT_ERROR)
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
	if (out && out != stdout) {
		fclose(out);
		unlink(o.output);	/* no empty report left behind */
	}
done:
	ls_timeline_free(&tl);
	free(r.probes_dir);
	ls_host_free(&h);
	ls_opts_free(&o);
	return rc;
}
