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

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bcc/bcc_syms.h>
#include <bcc/libbpf.h>

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

struct noise_priv {
	uint64_t *ticks;	/* per possible CPU: the tick's hrtimer calls, filled by collect_fns */
	bool	  wq_names;	/* the probe names workqueues (NOISE_WQ_NAME) */
};

/* has_field - the tracepoint's format declares the field as decl ("__data_loc char[] workqueue") */
static bool has_field(const struct ls_run *r, const char *cat, const char *ev, const char *decl)
{
	char path[512], want[128], *fmt;
	bool found;

	snprintf(path, sizeof(path), "%s/events/%s/%s/format", r->host->tracefs, cat, ev);
	snprintf(want, sizeof(want), "field:%s;", decl);
	fmt = ls_read_file(path, NULL);
	found = fmt && strstr(fmt, want);
	free(fmt);
	return found;
}

static int noise_prepare(struct ls_probe *p, const struct ls_run *r, char *err, size_t errlen)
{
	struct noise_priv *np = ls_xcalloc(1, sizeof(*np));

	(void)err, (void)errlen;
	np->ticks = ls_xcalloc(ls_nr_possible_cpus(), sizeof(*np->ticks));
	p->priv = np;
	/* a workqueue's name is a string in the queueing event since 5.19, a pointer before */
	np->wq_names = has_field(r, "workqueue", "workqueue_queue_work", "__data_loc char[] workqueue");
	if (np->wq_names)
		ls_probe_cflag(p, "-DNOISE_WQ_NAME=1");
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

/*
 * period - a function's period: the mean gap between its calls when their
 * spread is under a quarter of it (three calls at least), else 0. A periodic
 * timer that is late now and then (its rearming task was delayed, so the
 * next call comes early on the timer's grid) keeps its period; calls at
 * unrelated times have gaps that spread as far as their mean.
 */
static uint64_t period(const struct noise_val *v)
{
	double n, mean, var;	/* in the probe's 1024 ns units */

	if (v->count < 3 || !v->gap_sum || v->gap_sq == UINT64_MAX)
		return 0;
	n = (double)(v->count - 1);
	mean = v->gap_sum / n / 1024;
	var = v->gap_sq / n - mean * mean;
	return var * 16 < mean * mean ? (uint64_t)(v->gap_sum / n) : 0;
}

/* fn_row - one function on one CPU into its table */
static void fn_row(struct ls_table *t, const struct kv_fn *e, const char *name, double secs)
{
	struct ls_value *row = ls_table_row(t);
	uint64_t per = period(&e->v);
	char wq[NOISE_WQ_LEN + 1];

	row[0] = ls_v_uint(e->k.cpu, LS_F_PLAIN);
	row[1] = ls_v_str(name);
	row[2] = ls_v_str(kind_names[e->k.kind]);
	row[3] = ls_v_uint(e->v.count, LS_F_COUNT);
	row[4] = secs > 0 ? ls_v_double(e->v.count / secs, LS_F_PLAIN) : ls_v_null();
	row[5] = per ? ls_v_uint(per, LS_F_NS) : ls_v_null();
	row[6] = e->v.timed ? ls_v_uint(e->v.total_ns, LS_F_NS) : ls_v_null();
	row[7] = e->v.timed ? ls_v_uint(e->v.max_ns, LS_F_NS) : ls_v_null();
	row[8] = ls_v_uint(e->v.timed, LS_F_COUNT);
	memcpy(wq, e->v.wq, NOISE_WQ_LEN);
	wq[NOISE_WQ_LEN] = '\0';
	row[9] = e->k.kind == NOISE_WORK && wq[0] ? ls_v_str(wq) : ls_v_null();
}

/*
 * collect_fns - the function table into timers[] (timer and hrtimer),
 * work[], csd[] and nmi[], busiest first; the tick counted per CPU
 */
static void collect_fns(struct ls_probe *p, const struct ls_run *r, struct ls_section *s,
    uint64_t *calls, uint64_t *ns)
{
	static const struct ls_column cols[] = {
		{ "cpu", "CPU", 4 }, { "function", "FUNCTION", 26 }, { "kind", NULL, 0 },
		{ "count", "CALLS", 8 }, { "per_s", NULL, 0 }, { "period_ns", "EVERY", 9 },
		{ "total_ns", "TOTAL", 9 }, { "max_ns", "MAX", 9 }, { "timed", NULL, 0 },
		{ "workqueue", NULL, 0 },
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
		t[i] = ls_section_table(s, keys[i], titles[i], 10, cols);
		t[i]->max_text_rows = 8;
	}
	/* the tick's calls are counted afresh each collect (--interval collects many times) */
	memset(np->ticks, 0, ls_nr_possible_cpus() * sizeof(*np->ticks));
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

/* kept_tasks - "engine (4242), kworker/3:1 (97)": who ran when SCHED kept the tick */
static void kept_tasks(const struct noise_cpu *c, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < NOISE_KEPT_TASKS && c->kept_tasks[i].tid && off < len; i++) {
		char comm[17];

		off += snprintf(buf + off, len - off, "%s%s (%u)", off ? ", " : "",
		    ls_comm(comm, c->kept_tasks[i].comm, 16), c->kept_tasks[i].tid);
	}
}

/* collect_tick - per monitored CPU: ticks, and the tick's attempts to stop */
static void collect_tick(struct ls_probe *p, const struct ls_run *r, struct ls_section *s,
    const struct noise_cpu *pc)
{
	static const struct ls_column cols[] = {
		{ "cpu", "CPU", 4 }, { "nohz_full", "NOHZ", 5 }, { "ticks", "TICKS", 8 },
		{ "per_s", "PER S", 7 }, { "stopped", "STOPPED", 8 }, { "kept", "KEPT", 8 },
		{ "kept_by", "KEPT BY", 26 }, { "sched_tasks", NULL, 0 },
	};
	struct noise_priv *np = p->priv;
	struct ls_table *t = ls_section_table(s, "tick", "The tick on each CPU", 8, cols);
	char deps[160], tasks[160];

	for (int c = 0; c < ls_nr_possible_cpus(); c++) {
		struct ls_value *row;

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
		kept_tasks(&pc[c], tasks, sizeof(tasks));
		row[7] = tasks[0] ? ls_v_str(tasks) : ls_v_null();
	}
}

/* sysfs_line - the first line of a small sysfs file, "" when unreadable */
static void sysfs_line(const char *path, char *buf, size_t len)
{
	char *v = ls_read_file(path, NULL);

	snprintf(buf, len, "%s", v ? v : "");
	buf[strcspn(buf, "\n")] = '\0';
	free(v);
}

/* idle_row - CPU c's time in idle state i, named and with its exit latency from cpuidle */
static void idle_row(struct ls_table *t, int c, int i, const struct noise_cpu *pc, double secs)
{
	struct ls_value *row = ls_table_row(t);
	char path[160], name[32], lat[32];

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/cpuidle/state%d/name", c, i);
	sysfs_line(path, name, sizeof(name));
	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/cpuidle/state%d/latency", c, i);
	sysfs_line(path, lat, sizeof(lat));
	row[0] = ls_v_uint(c, LS_F_PLAIN);
	row[1] = ls_v_uint(i, LS_F_PLAIN);
	row[2] = name[0] ? ls_v_str(name) : ls_v_null();
	row[3] = lat[0] ? ls_v_uint(strtoull(lat, NULL, 10) * 1000, LS_F_NS) : ls_v_null();
	row[4] = ls_v_uint(pc->idle_entries[i], LS_F_COUNT);
	row[5] = ls_v_uint(pc->idle_ns[i], LS_F_NS);
	row[6] = secs > 0 ? ls_v_double(pc->idle_ns[i] / 1e9 / secs, LS_F_PERCENT) : ls_v_null();
}

/* collect_idle - power:cpu_idle per monitored CPU and state: entries and residency */
static void collect_idle(const struct ls_run *r, struct ls_section *s, const struct noise_cpu *pc)
{
	static const struct ls_column cols[] = {
		{ "cpu", "CPU", 4 }, { "state", "STATE", 5 }, { "name", "NAME", 10 },
		{ "exit_latency_ns", "EXIT LAT", 9 }, { "entries", "ENTRIES", 9 },
		{ "residency_ns", "TIME", 9 }, { "share", "SHARE", 7 },
	};
	struct ls_table *t = ls_section_table(s, "idle", "Idle states entered", 7, cols);
	char drv[32];

	for (int c = 0; c < ls_nr_possible_cpus(); c++)
		for (int i = 0; ls_cpuset_isset(&r->cpus, c) && i < NOISE_NR_CSTATES; i++)
			if (pc[c].idle_entries[i])
				idle_row(t, c, i, &pc[c], r->duration_s);
	sysfs_line("/sys/devices/system/cpu/cpuidle/current_driver", drv, sizeof(drv));
	if (!drv[0] || !strcmp(drv, "none"))
		ls_section_note(s, "no cpuidle driver: the CPUs idle in the kernel's default loop "
		    "(halt), so the idle states have no names or exit latencies");
}

/* collect_freq - power:cpu_frequency per monitored CPU: changes and the range */
static void collect_freq(struct ls_probe *p, const struct ls_run *r, struct ls_section *s)
{
	static const struct ls_column cols[] = {
		{ "cpu", "CPU", 4 }, { "changes", "CHANGES", 9 }, { "min_khz", "MIN KHZ", 9 },
		{ "max_khz", "MAX KHZ", 9 },
	};
	struct ls_table *t = ls_section_table(s, "frequency", "Frequency changes", 4, cols);
	int fd = ls_probe_table_fd(p, "noise_freq");

	for (uint32_t c = 0; fd >= 0 && c < NOISE_MAX_CPUS && (int)c < ls_nr_possible_cpus(); c++) {
		struct noise_freq f;
		struct ls_value *row;

		if (!ls_cpuset_isset(&r->cpus, (int)c) || bpf_lookup_elem(fd, &c, &f) < 0 || !f.changes)
			continue;
		row = ls_table_row(t);
		row[0] = ls_v_uint(c, LS_F_PLAIN);
		row[1] = ls_v_uint(f.changes, LS_F_COUNT);
		row[2] = ls_v_uint(f.min_khz, LS_F_PLAIN);
		row[3] = ls_v_uint(f.max_khz, LS_F_PLAIN);
	}
	if (access("/sys/devices/system/cpu/cpu0/cpufreq", F_OK) != 0)
		ls_section_note(s, "no cpufreq driver: the kernel does not set the frequency here "
		    "(a VM, or fixed by firmware), so it cannot change it");
}

/* collect_rcu - rcu_core() per monitored CPU: runs, total and longest */
static void collect_rcu(const struct ls_run *r, struct ls_section *s, const struct noise_cpu *pc)
{
	static const struct ls_column cols[] = {
		{ "cpu", "CPU", 4 }, { "count", "RUNS", 9 }, { "total_ns", "TOTAL", 9 },
		{ "max_ns", "MAX", 9 },
	};
	struct ls_table *t;

	if (!ls_tracepoint_exists(r->host, "rcu", "rcu_utilization")) {
		ls_section_note(s, "this kernel has no rcu:rcu_utilization tracepoint: RCU's own "
		    "work is not measured");
		return;
	}
	t = ls_section_table(s, "rcu", "RCU core processing (rcu_core)", 4, cols);
	for (int c = 0; c < ls_nr_possible_cpus(); c++) {
		struct ls_value *row;

		if (!ls_cpuset_isset(&r->cpus, c) || !pc[c].rcu_count)
			continue;
		row = ls_table_row(t);
		row[0] = ls_v_uint(c, LS_F_PLAIN);
		row[1] = ls_v_uint(pc[c].rcu_count, LS_F_COUNT);
		row[2] = ls_v_uint(pc[c].rcu_ns, LS_F_NS);
		row[3] = ls_v_uint(pc[c].rcu_max_ns, LS_F_NS);
	}
}

static int noise_collect(struct ls_probe *p, const struct ls_run *r, struct ls_section *s)
{
	struct noise_priv *np = p->priv;
	int ncpu = ls_nr_possible_cpus();
	struct noise_cpu *pc = ls_xcalloc(ncpu, sizeof(*pc));
	uint64_t calls = 0, ns = 0, full = 0;

	ls_probe_read_percpu(p, "noise_cpus", 0, pc, sizeof(*pc));
	for (int c = 0; c < ncpu; c++)
		full += pc[c].full;
	collect_fns(p, r, s, &calls, &ns);
	collect_tick(p, r, s, pc);
	collect_idle(r, s, pc);
	collect_freq(p, r, s);
	collect_rcu(r, s, pc);
	free(pc);
	ls_section_metric(s, "total_calls", "Kernel housekeeping calls", ls_v_uint(calls, LS_F_COUNT));
	ls_section_metric(s, "total_time_ns", "  time in them", ls_v_uint(ns, LS_F_NS));
	if (full)
		ls_section_note(s, "%llu calls not itemised: the function table (4096 function x CPU "
		    "pairs) was full", (unsigned long long)full);
	if (!np->wq_names)
		ls_section_note(s, "this kernel's workqueue_queue_work gives no workqueue name "
		    "(a string since 5.19): work items are named by function only");
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
		const struct ls_value *wq;
		char *fix;

		if (!quiet_cpu(r, c))
			continue;
		if (!strcmp(fn, "vmstat_update"))
			fix = ls_xstrdup("sysctl -w vm.stat_interval=120 (see the audit's "
			    "sysctl.vm.stat_interval): vmstat_update then folds the CPU's counters every "
			    "2 minutes instead of every second");
		else
			fix = ls_strdup_printf("echo %s > /sys/devices/virtual/workqueue/cpumask (CPUs "
			    "%s) moves unbound work off it; work queued for this CPU by number "
			    "(per-CPU work such as refresh_vm_stats, or a driver's) stays: stop or move "
			    "what queues it", mask, *hk ? hk : "none left");
		wq = ls_table_cell(t, j, "workqueue");
		ls_section_finding(s, LS_WARN, fix, "%s%s%s%s ran %llu times on CPU %d (%s)", fn,
		    wq->type == LS_V_STR ? " (workqueue " : "", wq->type == LS_V_STR ? wq->s : "",
		    wq->type == LS_V_STR ? ")" : "", (unsigned long long)n, c,
		    ls_cpuset_isset(&r->host->nohz_full, c) ?
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
		const struct ls_value *tasks;

		if (!kept || !ls_cpuset_isset(&r->host->nohz_full, c))
			continue;
		for (int d = 0; d < NOISE_NR_DEPS; d++)	/* the first named is fixed first */
			if (top < 0 && strstr(by, dep_names[d]))
				top = d;
		tasks = ls_table_cell(t, j, "sched_tasks");
		ls_section_finding(s, LS_WARN, top >= 0 ? dep_fixes[top] : NULL,
		    "the tick did not stop on CPU %d (nohz_full) %llu times: %s%s%s", c,
		    (unsigned long long)kept, *by ? by : "no dependency given",
		    tasks->type == LS_V_STR ? "; running then: " : "",
		    tasks->type == LS_V_STR ? tasks->s : "");
		found = true;
	}
	return found;
}

/* idle_findings - deep idle states on quiet CPUs: each wake-up from them pays the exit latency */
static bool idle_findings(struct ls_section *s, const struct ls_run *r)
{
	const struct ls_table *t = ls_section_find_table(s, "idle");
	bool found = false;

	for (int j = 0; t && j < t->nrows; j++) {
		const struct ls_value *lat = ls_table_cell(t, j, "exit_latency_ns");
		int c = (int)ls_table_cell(t, j, "cpu")->u;
		char lv[32], fix[160];

		if (lat->type != LS_V_UINT || lat->u <= 10000 || !quiet_cpu(r, c))
			continue;
		ls_fmt_ns(lv, sizeof(lv), (double)lat->u, r->opts->ascii);
		snprintf(fix, sizeof(fix), "cpupower -c %d idle-set -D 10 (no state that takes over "
		    "10 us to leave; see the audit's cpuidle.states)", c);
		ls_section_finding(s, LS_WARN, fix, "CPU %d entered %s (exit latency %s) %llu times: "
		    "each wake-up from it waits that long", c, ls_table_cell(t, j, "name")->s, lv,
		    (unsigned long long)ls_table_cell(t, j, "entries")->u);
		found = true;
	}
	return found;
}

/* rcu_findings - RCU's own work on a quiet CPU: its callbacks can run elsewhere */
static bool rcu_findings(struct ls_section *s, const struct ls_run *r)
{
	const struct ls_table *t = ls_section_find_table(s, "rcu");
	bool found = false;

	for (int j = 0; t && j < t->nrows; j++) {
		int c = (int)ls_table_cell(t, j, "cpu")->u;
		char tv[32], fix[200];

		if (!quiet_cpu(r, c))
			continue;
		ls_fmt_ns(tv, sizeof(tv), (double)ls_table_cell(t, j, "total_ns")->u, r->opts->ascii);
		snprintf(fix, sizeof(fix), "boot with rcu_nocbs=%d (nohz_full= implies it on most "
		    "kernels) so its callbacks run in rcuo threads elsewhere; see the audit's "
		    "cmdline.rcu_nocbs", c);
		ls_section_finding(s, LS_WARN, fix, "RCU core processing ran %llu times on CPU %d "
		    "(%s), %s in all", (unsigned long long)ls_table_cell(t, j, "count")->u, c,
		    ls_cpuset_isset(&r->host->nohz_full, c) ? "nohz_full" : "isolated", tv);
		found = true;
	}
	return found;
}

/* freq_findings - a monitored CPU whose frequency changed: its code ran at two speeds */
static bool freq_findings(struct ls_section *s, const struct ls_run *r)
{
	const struct ls_table *t = ls_section_find_table(s, "frequency");

	(void)r;
	for (int j = 0; t && j < t->nrows; j++) {
		int c = (int)ls_table_cell(t, j, "cpu")->u;
		char fix[160];

		snprintf(fix, sizeof(fix), "cpupower -c %d frequency-set -g performance (see the "
		    "audit's cpufreq.governor)", c);
		ls_section_finding(s, LS_WARN, fix, "CPU %d changed frequency %llu times (%llu to "
		    "%llu MHz)", c, (unsigned long long)ls_table_cell(t, j, "changes")->u,
		    (unsigned long long)ls_table_cell(t, j, "min_khz")->u / 1000,
		    (unsigned long long)ls_table_cell(t, j, "max_khz")->u / 1000);
	}
	return t && t->nrows;
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
	found |= idle_findings(s, r);
	found |= freq_findings(s, r);
	found |= rcu_findings(s, r);
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

/* sum_rows - a column over a table's rows, those of function fn only when fn is given */
static uint64_t sum_rows(const struct ls_section *s, const char *table, const char *col,
    const char *fn)
{
	const struct ls_table *t = ls_section_find_table(s, table);
	uint64_t n = 0;

	for (int j = 0; t && j < t->nrows; j++)
		if (!fn || !strcmp(ls_table_cell(t, j, "function")->s, fn))
			n += ls_table_cell(t, j, col)->u;
	return n;
}

/* evidence - one check's evidence, printf-style */
static void evidence(struct ls_report *rep, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void evidence(struct ls_report *rep, const char *id, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ls_audit_evidence(rep, id, buf);
}

/*
 * ls_noise_evidence - after a noise section, the tuning audit, each check
 * with what this run saw that its setting explains: the tick, vmstat_update,
 * work on the monitored CPUs, the watchdogs
 */
void ls_noise_evidence(struct ls_report *rep, const struct ls_run *r)
{
	const struct ls_section *s;
	uint64_t ticks;

	if (!noise_section(rep))
		return;
	ls_audit_section(rep, &r->cpus, &r->host->online);
	s = noise_section(rep);	/* adding a section may have moved them */
	ticks = sum_rows(s, "tick", "ticks", NULL);
	evidence(rep, "cmdline.nohz_full", "%llu ticks (the tick's hrtimer) on the monitored CPUs, "
	    "%.0f a second", (unsigned long long)ticks, r->duration_s > 0 ? ticks / r->duration_s : 0);
	if (ls_section_find_table(s, "rcu"))
		evidence(rep, "cmdline.rcu_nocbs", "RCU core processing ran %llu times on the "
		    "monitored CPUs", (unsigned long long)sum_rows(s, "rcu", "count", NULL));
	evidence(rep, "sysctl.vm.stat_interval", "vmstat_update ran %llu times on the monitored "
	    "CPUs in %.1f s", (unsigned long long)sum_rows(s, "work", "count", "vmstat_update"),
	    r->duration_s);
	evidence(rep, "workqueue.cpumask", "%llu work items ran on the monitored CPUs",
	    (unsigned long long)sum_rows(s, "work", "count", NULL));
	evidence(rep, "sysctl.kernel.watchdog", "watchdog_timer_fn ran %llu times",
	    (unsigned long long)sum_rows(s, "timers", "count", "watchdog_timer_fn"));
	evidence(rep, "sysctl.kernel.nmi_watchdog", "%llu NMI handler calls",
	    (unsigned long long)sum_rows(s, "nmi", "count", NULL));
}

/* the maps collect() reads, checked against the probe when it is compiled */
static const struct ls_map_layout noise_maps[] = {
	LS_MAP("noise_cpus", uint32_t, struct noise_cpu),
	LS_MAP("noise_fns", struct noise_key, struct noise_val),
	LS_MAP("noise_freq", uint32_t, struct noise_freq),
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

/* what --interval reports of this module (interval.c): totals over the interval */
static const struct ls_interval_table noise_iv_tables[] = {
	{ "timers", "cpu,function,kind,workqueue", "count,total_ns,timed", "max_ns" },
	{ "work", "cpu,function,kind,workqueue", "count,total_ns,timed", "max_ns" },
	{ "csd", "cpu,function,kind,workqueue", "count,total_ns,timed", "max_ns" },
	{ "nmi", "cpu,function,kind,workqueue", "count,total_ns,timed", "max_ns" },
	{ "tick", "cpu,nohz_full", "ticks,stopped,kept", NULL },
	{ "idle", "cpu,state,name", "entries,residency_ns", NULL },
	{ "frequency", "cpu", "changes", NULL },
	{ "rcu", "cpu", "count,total_ns", "max_ns" },
	{ NULL, NULL, NULL, NULL },
};
static const struct ls_interval_spec noise_interval = {
	.totals = "total_calls,total_time_ns",
	.tables = noise_iv_tables,
};

const struct ls_module_ops ls_mod_noise = {
	.name = "noise",
	.title = "KERNEL NOISE",
	.summary = "timers, work items, cross-CPU calls and NMIs the kernel runs on the CPUs, the "
	    "tick and what keeps it, with the settings that allow them",
	.thresholds = noise_thresholds,
	.maps = noise_maps,
	.prepare = noise_prepare,
	.collect = noise_collect,
	.events = noise_events,
	.judge = noise_judge,
	.cleanup = noise_cleanup,
	.interval = &noise_interval,
};
