// SPDX-License-Identifier: GPL-2.0-only
/*
 * mod-noise.c - Kernel Noise, user side: what the kernel itself ran on the
 * monitored CPUs (timer and hrtimer callbacks, workqueue items, cross-CPU
 * function calls, NMI handlers) per CPU and function, the tick and what
 * kept it running, and the settings that let it: the findings name the
 * setting, and the tuning audit that follows the section in the report
 * carries this run's evidence beside each check (ls_noise_evidence).
 */

#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bcc/bcc_syms.h>

#include "latencyscope.h"
#include "noise.h"

/* a noise_fns entry as ls_probe_read_hash returns it */
struct kv_fn {
	struct noise_key k;
	struct noise_val v;
};

static const char *const kind_names[NOISE_NR_KINDS] = { "timer", "hrtimer", "work", "csd", "nmi" };
static const char *const dep_names[NOISE_NR_DEPS] = {
	"POSIX_TIMER", "PERF_EVENTS", "SCHED", "CLOCK_UNSTABLE", "RCU", "RCU_EXP",
};
/* what removes each dependency from a nohz_full CPU */
static const char *const dep_fixes[NOISE_NR_DEPS] = {
	"stop the POSIX CPU-time timers of the tasks there (timer_create/setitimer on CPU clocks)",
	"stop perf events on the CPU (perf record/stat; the NMI watchdog: sysctl -w kernel.nmi_watchdog=0)",
	"leave one runnable task on the CPU: move the others off (the isolation module names them)",
	"use a host whose TSC is stable (clocksource tsc): an unstable clock keeps the tick",
	"boot with rcu_nocbs= for the CPU so RCU callbacks run elsewhere",
	"avoid expedited RCU grace periods (synchronize_rcu_expedited) while the CPU runs",
};

static const struct ls_threshold_def noise_thresholds[] = {
	{ "noise.max", LS_T_NS, 50000,
	  "WARN when one timer callback, work item, cross-CPU call or NMI handler on a monitored "
	  "CPU runs longer than this" },
	{ NULL, 0, 0, NULL },
};

/* noise_ticks - per possible CPU: tick_sched_timer calls, filled by collect_fns */
struct noise_priv {
	uint64_t *ticks;
};

static int noise_setup(struct ls_probe *p, const struct ls_run *r, char *err, size_t errlen)
{
	struct noise_priv *np = ls_xcalloc(1, sizeof(*np));

	(void)r, (void)err, (void)errlen;
	np->ticks = ls_xcalloc(ls_nr_possible_cpus(), sizeof(*np->ticks));
	p->priv = np;
	return 0;
}

static void noise_cleanup(struct ls_probe *p)
{
	struct noise_priv *np = p->priv;

	if (np)
		free(np->ticks);
}

static int cmp_total(const void *a, const void *b)
{
	const struct kv_fn *x = a, *y = b;

	return x->v.total_ns < y->v.total_ns ? 1 : x->v.total_ns > y->v.total_ns ? -1 :
	    x->v.count < y->v.count ? 1 : x->v.count > y->v.count ? -1 : 0;
}

/* fn_name - a kernel function's name (libbcc's kallsyms cache), its address when unknown */
static void fn_name(void *cache, uint64_t addr, char *buf, size_t len)
{
	struct bcc_symbol sym;

	if (cache && bcc_symcache_resolve_no_demangle(cache, addr, &sym) == 0 && sym.name)
		snprintf(buf, len, "%s", sym.name);
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)addr);
}

/* fn_row - one function on one CPU into its table */
static void fn_row(struct ls_table *t, const struct kv_fn *e, const char *name, double secs)
{
	struct ls_value *row = ls_table_row(t);

	row[0] = ls_v_uint(e->k.cpu, LS_F_PLAIN);
	row[1] = ls_v_str(name);
	row[2] = ls_v_str(kind_names[e->k.kind]);
	row[3] = ls_v_uint(e->v.count, LS_F_COUNT);
	row[4] = secs > 0 ? ls_v_double(e->v.count / secs, LS_F_PLAIN) : ls_v_null();
	row[5] = e->v.timed ? ls_v_uint(e->v.total_ns, LS_F_NS) : ls_v_null();
	row[6] = e->v.timed ? ls_v_uint(e->v.max_ns, LS_F_NS) : ls_v_null();
	row[7] = ls_v_uint(e->v.timed, LS_F_COUNT);
}

/*
 * collect_fns - the function table into timers[] (timer and hrtimer),
 * work[], csd[] and nmi[], busiest first; the tick counted per CPU
 */
static void collect_fns(struct ls_probe *p, const struct ls_run *r, struct ls_section *s,
    uint64_t *calls, uint64_t *ns)
{
	static const struct ls_column cols[] = {
		{ "cpu", "CPU", 4 }, { "function", "FUNCTION", 26 }, { "kind", "KIND", 8 },
		{ "count", "CALLS", 8 }, { "per_s", NULL, 0 }, { "total_ns", "TOTAL", 9 },
		{ "max_ns", "MAX", 9 }, { "timed", NULL, 0 },
	};
	static const char *const keys[] = { "timers", "work", "csd", "nmi" };
	static const char *const titles[] = {
		"Timer and hrtimer callbacks", "Workqueue items (wall time, sleeps included)",
		"Cross-CPU function calls (csd)", "NMI handlers",
	};
	struct noise_priv *np = p->priv;
	struct ls_table *t[4];
	struct kv_fn *kv;
	char name[128];
	void *cache;
	int n;

	for (int i = 0; i < 4; i++) {
		t[i] = ls_section_table(s, keys[i], titles[i], 8, cols);
		t[i]->max_text_rows = 8;
	}
	kv = ls_probe_read_hash(p, "noise_fns", sizeof(*kv), offsetof(struct kv_fn, v), &n);
	cache = n > 0 ? bcc_symcache_new(-1, NULL) : NULL;
	if (kv)
		qsort(kv, n, sizeof(*kv), cmp_total);
	for (int i = 0; kv && i < n; i++) {
		uint32_t k = kv[i].k.kind;

		if (k >= NOISE_NR_KINDS || !ls_cpuset_isset(&r->cpus, (int)kv[i].k.cpu))
			continue;
		fn_name(cache, kv[i].k.function, name, sizeof(name));
		fn_row(t[k <= NOISE_HRTIMER ? 0 : k - 1], &kv[i], name, r->duration_s);
		*calls += kv[i].v.count;
		*ns += kv[i].v.total_ns;
		/* the tick's hrtimer: tick_nohz_handler since 6.9, tick_sched_timer before */
		if (k == NOISE_HRTIMER && (!strcmp(name, "tick_nohz_handler") ||
		    !strcmp(name, "tick_sched_timer")) &&
		    kv[i].k.cpu < (uint32_t)ls_nr_possible_cpus())
			np->ticks[kv[i].k.cpu] += kv[i].v.count;
	}
	if (cache)
		bcc_free_symcache(cache, -1);
	free(kv);
}

/* kept_by - "SCHED 12, RCU 3": the dependencies that kept a CPU's tick */
static void kept_by(const struct noise_cpu *c, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int d = 0; d < NOISE_NR_DEPS && off < len; d++)
		if (c->tick_dep[d])
			off += snprintf(buf + off, len - off, "%s%s %llu", off ? ", " : "", dep_names[d],
			    (unsigned long long)c->tick_dep[d]);
}

/* collect_tick - per monitored CPU: ticks, and the tick's attempts to stop */
static uint64_t collect_tick(struct ls_probe *p, const struct ls_run *r, struct ls_section *s)
{
	static const struct ls_column cols[] = {
		{ "cpu", "CPU", 4 }, { "nohz_full", "NOHZ", 5 }, { "ticks", "TICKS", 8 },
		{ "per_s", "PER S", 7 }, { "stopped", "STOPPED", 8 }, { "kept", "KEPT", 8 },
		{ "kept_by", "KEPT BY", 26 },
	};
	struct noise_priv *np = p->priv;
	int ncpu = ls_nr_possible_cpus();
	struct noise_cpu *pc = ls_xcalloc(ncpu, sizeof(*pc));
	struct ls_table *t = ls_section_table(s, "tick", "The tick on each CPU", 7, cols);
	uint64_t full = 0;
	char deps[160];

	ls_probe_read_percpu(p, "noise_cpus", 0, pc, sizeof(*pc));
	for (int c = 0; c < ncpu; c++) {
		struct ls_value *row;

		full += pc[c].full;
		if (!ls_cpuset_isset(&r->cpus, c))
			continue;
		kept_by(&pc[c], deps, sizeof(deps));
		row = ls_table_row(t);
		row[0] = ls_v_uint(c, LS_F_PLAIN);
		row[1] = ls_v_bool(ls_cpuset_isset(&r->host->nohz_full, c));
		row[2] = ls_v_uint(np->ticks[c], LS_F_COUNT);
		row[3] = r->duration_s > 0 ? ls_v_double(np->ticks[c] / r->duration_s, LS_F_PLAIN) :
		    ls_v_null();
		row[4] = ls_v_uint(pc[c].tick_stopped, LS_F_COUNT);
		row[5] = ls_v_uint(pc[c].tick_kept, LS_F_COUNT);
		row[6] = ls_v_str(deps);
	}
	free(pc);
	return full;
}

static int noise_collect(struct ls_probe *p, const struct ls_run *r, struct ls_section *s)
{
	uint64_t calls = 0, ns = 0, full;

	collect_fns(p, r, s, &calls, &ns);
	full = collect_tick(p, r, s);
	ls_section_metric(s, "total_calls", "Kernel housekeeping calls", ls_v_uint(calls, LS_F_COUNT));
	ls_section_metric(s, "total_time_ns", "  time in them", ls_v_uint(ns, LS_F_NS));
	if (full)
		ls_section_note(s, "%llu calls not itemised: the function table (4096 function x CPU "
		    "pairs) was full", (unsigned long long)full);
	ls_section_note(s, "not measured here: C-state exits (power:cpu_idle), frequency changes "
	    "and RCU callback work");
	return 0;
}

/* quiet_cpu - a CPU meant to run one task undisturbed: isolated or nohz_full */
static bool quiet_cpu(const struct ls_run *r, int c)
{
	return ls_cpuset_isset(&r->host->isolated, c) || ls_cpuset_isset(&r->host->nohz_full, c);
}

/*
 * longest - the longest call over noise.max: of the kinds that run in
 * interrupt context and cannot sleep, so their time is the CPU's (a work
 * item's wall time may be a sleep; the isolation module times kworkers)
 */
static bool longest(struct ls_section *s, const struct ls_run *r)
{
	static const char *const keys[] = { "timers", "csd", "nmi" };
	uint64_t lim = ls_threshold(&r->thresholds, "noise.max"), best = 0;
	const struct ls_table *bt = NULL;
	char dv[32], lv[32];
	int br = 0;

	for (int i = 0; i < 3; i++) {
		const struct ls_table *t = ls_section_find_table(s, keys[i]);

		for (int j = 0; t && j < t->nrows; j++) {
			const struct ls_value *m = ls_table_cell(t, j, "max_ns");

			if (m->type == LS_V_UINT && m->u > best) {
				best = m->u;
				bt = t;
				br = j;
			}
		}
	}
	if (!bt || best <= lim)
		return false;
	ls_fmt_ns(dv, sizeof(dv), (double)best, r->opts->ascii);
	ls_fmt_ns(lv, sizeof(lv), (double)lim, r->opts->ascii);
	ls_section_finding(s, LS_WARN, "a long callback belongs to a driver or a subsystem: move "
	    "its device's IRQs or its timers off the CPU (the irq module and the audit say how)",
	    "%s (%s) ran for %s on CPU %llu; limit %s (noise.max)",
	    ls_table_cell(bt, br, "function")->s, ls_table_cell(bt, br, "kind")->s, dv,
	    (unsigned long long)ls_table_cell(bt, br, "cpu")->u, lv);
	return true;
}

/* work_findings - work items on quiet CPUs: vmstat on its own, the rest per CPU */
static bool work_findings(struct ls_section *s, const struct ls_run *r)
{
	const struct ls_table *t = ls_section_find_table(s, "work");
	struct ls_cpuset set;
	char *hk, *mask;
	bool found = false;

	ls_cpuset_zero(&set);
	for (int c = 0; c < LS_MAX_CPUS; c++)
		if (ls_cpuset_isset(&r->host->online, c) && !ls_cpuset_isset(&r->cpus, c))
			ls_cpuset_set(&set, c);
	hk = ls_cpulist_format(&set);
	mask = ls_cpuset_hexmask(&set);
	for (int j = 0; t && j < t->nrows; j++) {
		int c = (int)ls_table_cell(t, j, "cpu")->u;
		const char *fn = ls_table_cell(t, j, "function")->s;
		uint64_t n = ls_table_cell(t, j, "count")->u;
		char *fix;

		if (!quiet_cpu(r, c))
			continue;
		if (!strcmp(fn, "vmstat_update"))
			fix = ls_xstrdup("sysctl -w vm.stat_interval=120 (see the audit's "
			    "sysctl.vm.stat_interval): vmstat_update then folds the CPU's counters every "
			    "2 minutes instead of every second");
		else
			fix = ls_strdup_printf("echo %s > /sys/devices/virtual/workqueue/cpumask (CPUs "
			    "%s) for unbound work; work queued on this CPU by a task running there "
			    "follows that task", mask, *hk ? hk : "none left");
		ls_section_finding(s, LS_WARN, fix, "%s ran %llu times on CPU %d (%s)", fn,
		    (unsigned long long)n, c, ls_cpuset_isset(&r->host->nohz_full, c) ?
		    "nohz_full" : "isolated");
		free(fix);
		found = true;
	}
	free(mask);
	free(hk);
	return found;
}

/* tick_findings - a nohz_full CPU whose tick would not stop, and why */
static bool tick_findings(struct ls_section *s, const struct ls_run *r)
{
	const struct ls_table *t = ls_section_find_table(s, "tick");
	bool found = false;

	for (int j = 0; t && j < t->nrows; j++) {
		int c = (int)ls_table_cell(t, j, "cpu")->u, top = -1;
		uint64_t kept = ls_table_cell(t, j, "kept")->u;
		const char *by = ls_table_cell(t, j, "kept_by")->s;

		if (!kept || !ls_cpuset_isset(&r->host->nohz_full, c))
			continue;
		for (int d = 0; d < NOISE_NR_DEPS; d++)	/* the first named is fixed first */
			if (top < 0 && strstr(by, dep_names[d]))
				top = d;
		ls_section_finding(s, LS_WARN, top >= 0 ? dep_fixes[top] : NULL,
		    "the tick did not stop on CPU %d (nohz_full) %llu times: %s", c,
		    (unsigned long long)kept, *by ? by : "no dependency given");
		found = true;
	}
	return found;
}

static void noise_judge(struct ls_section *s, const struct ls_run *r)
{
	const struct ls_value *calls = ls_section_find_metric(s, "total_calls");
	char *cpus = ls_cpulist_format(&r->cpus);
	bool quiet = false, found;

	for (int c = 0; c < LS_MAX_CPUS; c++)
		quiet |= ls_cpuset_isset(&r->cpus, c) && quiet_cpu(r, c);
	found = longest(s, r);
	found |= work_findings(s, r);
	found |= tick_findings(s, r);
	if (!found)
		ls_section_finding(s, LS_PASS, NULL, "the kernel made %llu housekeeping calls on CPUs "
		    "%s, none longer than noise.max", calls ? (unsigned long long)calls->u : 0ULL,
		    cpus);
	if (!quiet)
		ls_section_note(s, "CPUs %s are neither isolated nor nohz_full: their timers and work "
		    "are expected and only their length is judged (see the audit to isolate them)",
		    cpus);
	free(cpus);
}

/* noise_section - the report's noise section when it measured, NULL otherwise */
static const struct ls_section *noise_section(const struct ls_report *rep)
{
	for (int i = 0; i < rep->nsections; i++)
		if (!strcmp(rep->sections[i].name, "noise"))
			return rep->sections[i].verdict == LS_NOT_MEASURED ? NULL : &rep->sections[i];
	return NULL;
}

/*
 * ls_noise_evidence - after a noise section, the tuning audit, each check
 * with what this run saw that its setting explains: the tick, vmstat_update,
 * work on the monitored CPUs, the watchdogs
 */
void ls_noise_evidence(struct ls_report *rep, const struct ls_run *r)
{
	uint64_t vmstat = 0, work = 0, wd = 0, nmi = 0, ticks = 0;
	const struct ls_section *s;
	const struct ls_table *t;
	char buf[256];

	if (!noise_section(rep))
		return;
	ls_audit_section(rep, &r->cpus, &r->host->online);
	s = noise_section(rep);	/* adding a section may have moved them */
	for (int j = 0; (t = ls_section_find_table(s, "work")) && j < t->nrows; j++) {
		work += ls_table_cell(t, j, "count")->u;
		if (!strcmp(ls_table_cell(t, j, "function")->s, "vmstat_update"))
			vmstat += ls_table_cell(t, j, "count")->u;
	}
	for (int j = 0; (t = ls_section_find_table(s, "timers")) && j < t->nrows; j++)
		if (!strcmp(ls_table_cell(t, j, "function")->s, "watchdog_timer_fn"))
			wd += ls_table_cell(t, j, "count")->u;
	for (int j = 0; (t = ls_section_find_table(s, "nmi")) && j < t->nrows; j++)
		nmi += ls_table_cell(t, j, "count")->u;
	for (int j = 0; (t = ls_section_find_table(s, "tick")) && j < t->nrows; j++)
		ticks += ls_table_cell(t, j, "ticks")->u;
	snprintf(buf, sizeof(buf), "vmstat_update ran %llu times on the monitored CPUs in %.1f s",
	    (unsigned long long)vmstat, r->duration_s);
	ls_audit_evidence(rep, "sysctl.vm.stat_interval", buf);
	snprintf(buf, sizeof(buf), "%llu work items ran on the monitored CPUs", (unsigned long long)work);
	ls_audit_evidence(rep, "workqueue.cpumask", buf);
	snprintf(buf, sizeof(buf), "watchdog_timer_fn ran %llu times", (unsigned long long)wd);
	ls_audit_evidence(rep, "sysctl.kernel.watchdog", buf);
	snprintf(buf, sizeof(buf), "%llu NMI handler calls", (unsigned long long)nmi);
	ls_audit_evidence(rep, "sysctl.kernel.nmi_watchdog", buf);
	snprintf(buf, sizeof(buf), "%llu ticks (the tick's hrtimer) on the monitored CPUs, %.0f a second",
	    (unsigned long long)ticks, r->duration_s > 0 ? ticks / r->duration_s : 0);
	ls_audit_evidence(rep, "cmdline.nohz_full", buf);
}

/* the maps collect() reads, checked against the probe when it is compiled */
static const struct ls_map_layout noise_maps[] = {
	LS_MAP("noise_cpus", uint32_t, struct noise_cpu),
	LS_MAP("noise_fns", struct noise_key, struct noise_val),
	{ NULL, 0, 0 },
};

/* noise_events - housekeeping calls on the monitored CPUs so far, for the progress line */
static uint64_t noise_events(struct ls_probe *p)
{
	struct kv_fn *kv;
	uint64_t n = 0;
	int cnt;

	kv = ls_probe_read_hash(p, "noise_fns", sizeof(*kv), offsetof(struct kv_fn, v), &cnt);
	for (int i = 0; kv && i < cnt; i++)
		n += kv[i].v.count;
	free(kv);
	return n;
}

const struct ls_module_ops ls_mod_noise = {
	.name = "noise",
	.title = "KERNEL NOISE",
	.summary = "timers, work items, cross-CPU calls and NMIs the kernel runs on the CPUs, the "
	    "tick and what keeps it, with the settings that allow them",
	.thresholds = noise_thresholds,
	.maps = noise_maps,
	.setup = noise_setup,
	.collect = noise_collect,
	.events = noise_events,
	.judge = noise_judge,
	.cleanup = noise_cleanup,
};
