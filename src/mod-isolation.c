// SPDX-License-Identifier: GPL-2.0-only
/*
 * mod-isolation.c - the Isolation Verifier, user side: turns the maps of
 * probes/isolation.c into the report model and judges whether the
 * monitored CPUs / processes kept their CPUs to themselves.
 */

#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bcc/libbpf.h>

#include "isolation.h"
#include "latencyscope.h"

#define ISO_WORST 10

static const struct ls_threshold_def iso_thresholds[] = {
	{ "isolation.runq_p99_99", LS_T_NS, 50000,
	  "WARN when the P99.99 runqueue latency (wakeup to running) exceeds this" },
	{ "isolation.runq_p99_999", LS_T_NS, 100000,
	  "FAIL when the P99.999 runqueue latency exceeds this (needs 100 000 samples)" },
	{ "isolation.preemptions", LS_T_COUNT, 0,
	  "with --pid: FAIL when a monitored task is preempted more often than this" },
	{ NULL, 0, 0, NULL },
};


/* seed_threads - with --pid, tell the probe which existing threads belong to which process */
static int seed_threads(struct ls_probe *p, const struct ls_run *r)
{
	int fd = ls_probe_table_fd(p, "ls_tgid");

	if (fd < 0)
		return 0;
	for (int i = 0; i < r->opts->npids; i++) {
		char path[64];
		struct dirent *e;
		DIR *d;

		snprintf(path, sizeof(path), "/proc/%d/task", r->opts->pids[i]);
		d = opendir(path);
		if (!d)
			continue;	/* exited since preflight: nothing to seed */
		while ((e = readdir(d))) {
			uint32_t tid = (uint32_t)atoi(e->d_name), tgid = (uint32_t)r->opts->pids[i];

			if (tid && tid < r->host->pid_max && bpf_update_elem(fd, &tid, &tgid, 0) < 0) {
				closedir(d);
				return -1;
			}
		}
		closedir(d);
	}
	return 0;
}

static int iso_setup(struct ls_probe *p, const struct ls_run *r, char *err, size_t errlen)
{
	ls_probe_set_u64(p, "iso_floor", 1);
	return seed_threads(p, r);
}

/*
 * iso_record - a wait as a timeline slice; a migration or a run of the
 * monitored thread is drawn but not ranked among the worst waits
 */
static uint64_t iso_key(const void *rec)
{
	return ((const struct iso_event *)rec)->latency_ns;
}

static bool iso_record(struct ls_probe *p, const void *rec)
{
	const struct iso_event *ev = rec;

	{
		char victim[ISO_COMM_LEN + 1], culprit[ISO_COMM_LEN + 1];
		struct ls_tevent *te;

		ls_comm(victim, ev->victim_comm, ISO_COMM_LEN);
		if (ev->kind == ISO_EV_MIGRATE) {	/* timeline only: a point, not a wait */
			char path[64], *c;

			snprintf(path, sizeof(path), "/proc/%u/comm", ev->victim);
			if ((c = ls_read_file(path, NULL))) {
				snprintf(victim, sizeof(victim), "%.*s", (int)strcspn(c, "\n"), c);
				free(c);
			}
			snprintf(culprit, sizeof(culprit), "CPU %u", ev->culprit);
			ls_timeline_instant(p, "migration", culprit, ev->ts, ev->cpu, ev->victim, 0, victim);
			return false;
		}
		if (ev->kind == ISO_EV_RUN) {	/* timeline only: the monitored thread ran */
			if ((te = ls_timeline_add(p, "running", victim, ev->ts - ev->latency_ns,
			    ev->latency_ns, ev->cpu, ev->victim, 0, victim))) {
				te->running = true;
				te->stolen = 0;
			}
			return false;
		}
		te = ls_timeline_add(p, "waiting for CPU", ls_comm(culprit, ev->culprit_comm, ISO_COMM_LEN),
		    ev->ts - ev->latency_ns, ev->latency_ns, ev->cpu, ev->victim, 0, victim);
		if (te && ev->waker)
			te->waker = ev->waker;	/* its name: when the timeline is written */
	}
	return true;
}

/* is_kthread - PF_KTHREAD in /proc/<tid>/stat flags: kernel threads cannot be moved */
static int is_kthread(uint32_t tid)
{
	char path[64], *s, *rp;
	unsigned long flags = 0;
	int rc = -1;

	if (tid == 0)
		return 1;
	snprintf(path, sizeof(path), "/proc/%u/stat", tid);
	s = ls_read_file(path, NULL);
	if (!s)
		return -1;
	rp = strrchr(s, ')');
	/* after comm: state ppid pgrp session tty_nr tpgid flags */
	if (rp && sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %lu", &flags) == 1)
		rc = (flags & 0x00200000) != 0;
	free(s);
	return rc;
}

struct kv_task {
	uint32_t	tid;
	struct iso_task	t;
};

struct kv_culprit {
	uint32_t	  tid;
	struct iso_culprit c;
};

static int cmp_task(const void *a, const void *b)
{
	const struct iso_task *x = &((const struct kv_task *)a)->t, *y = &((const struct kv_task *)b)->t;
	uint64_t dx = x->involuntary + x->voluntary, dy = y->involuntary + y->voluntary;

	if (x->preempted != y->preempted)
		return x->preempted < y->preempted ? 1 : -1;
	return dx < dy ? 1 : dx > dy ? -1 : 0;
}

static int cmp_culprit(const void *a, const void *b)
{
	const struct iso_culprit *x = &((const struct kv_culprit *)a)->c;
	const struct iso_culprit *y = &((const struct kv_culprit *)b)->c;

	return x->time_ns < y->time_ns ? 1 : x->time_ns > y->time_ns ? -1 : 0;
}

static void collect_counters(struct ls_probe *p, const struct ls_run *r, struct ls_section *s,
    struct iso_counters *sum)
{
	static const struct ls_column cols[] = {
		{ "cpu", "CPU", 4 }, { "switches", "SWITCHES", 10 }, { "voluntary", "VOLUNTARY", 10 },
		{ "involuntary", "INVOLUNT.", 10 }, { "idle", "IDLE", 10 },
	};
	int ncpu = ls_nr_possible_cpus();
	struct iso_counters *c = ls_xcalloc(ncpu, sizeof(*c));
	struct ls_table *t = ls_section_table(s, "per_cpu", "Per monitored CPU", 5, cols);

	memset(sum, 0, sizeof(*sum));
	if (!c || ls_probe_read_percpu(p, "iso_counters", 0, c, sizeof(*c)) < 0) {
		free(c);
		return;
	}
	for (int i = 0; i < ncpu; i++) {
		uint64_t *d = (uint64_t *)sum, *v = (uint64_t *)&c[i];
		struct ls_value *row;

		for (size_t k = 0; k < sizeof(*sum) / sizeof(uint64_t); k++)
			d[k] += v[k];
		/* migrations count on the CPU that moved the task: totals only */
		if (!ls_cpuset_isset(&r->cpus, i))
			continue;
		row = ls_table_row(t);
		row[0] = ls_v_uint(i, LS_F_PLAIN);
		row[1] = ls_v_uint(c[i].switches, LS_F_COUNT);
		row[2] = ls_v_uint(c[i].voluntary, LS_F_COUNT);
		row[3] = ls_v_uint(c[i].involuntary, LS_F_COUNT);
		row[4] = ls_v_uint(c[i].idle, LS_F_COUNT);
	}
	free(c);
}

static void collect_runq(struct ls_probe *p, struct ls_section *s)
{
	int ncpu = ls_nr_possible_cpus();
	struct ls_hist *h = ls_xcalloc(ncpu, sizeof(*h)), all;
	struct ls_summary sum;

	memset(&all, 0, sizeof(all));
	if (h && ls_probe_read_percpu(p, "iso_runq", 0, h, sizeof(*h)) == 0)
		for (int i = 0; i < ncpu; i++)
			ls_hist_merge(&all, &h[i]);
	free(h);
	ls_hist_summarize(&all, ls_probe_budget(p), &sum);
	ls_section_histo(s, "runqueue_latency_ns", "Runqueue latency (wakeup or preemption to running)",
	    &sum, &all);
	ls_section_metric(s, "p99_999_runqueue_ns", NULL,
	    sum.pct_valid[5] ? ls_v_uint((uint64_t)(sum.pct[5] + 0.5), LS_F_NS) : ls_v_null());
}

static void collect_tasks(struct ls_probe *p, struct ls_section *s, bool with_pids)
{
	static const struct ls_column cols[] = {
		{ "tid", "TID", 7 }, { "pid", "PID", 7 }, { "comm", "COMM", 16 },
		{ "voluntary_switches", "VOL", 8 }, { "involuntary_switches", "INVOL", 7 },
		{ "preempted", "PREEMPT", 7 }, { "migrations", "MIGR", 5 },
		{ "migrated_off", NULL, 0 },
	};
	int n;
	struct kv_task *kv = ls_probe_read_hash(p, "iso_tasks", sizeof(*kv),
	    offsetof(struct kv_task, t), &n);
	struct ls_table *t = ls_section_table(s, "targets", with_pids ? "Monitored tasks" :
	    "Preempted tasks (without --pid only preemptions are itemised)", 8, cols);
	char comm[ISO_COMM_LEN + 1];

	if (!kv)
		return;
	qsort(kv, n, sizeof(*kv), cmp_task);
	for (int i = 0; i < n; i++) {
		struct ls_value *row = ls_table_row(t);

		row[0] = ls_v_uint(kv[i].tid, LS_F_PLAIN);
		row[1] = ls_v_uint(kv[i].t.tgid, LS_F_PLAIN);
		row[2] = ls_v_str(ls_comm(comm, kv[i].t.comm, ISO_COMM_LEN));
		row[3] = with_pids ? ls_v_uint(kv[i].t.voluntary, LS_F_COUNT) : ls_v_null();
		row[4] = ls_v_uint(kv[i].t.involuntary, LS_F_COUNT);
		row[5] = ls_v_uint(kv[i].t.preempted, LS_F_COUNT);
		row[6] = ls_v_uint(kv[i].t.migrations, LS_F_COUNT);
		row[7] = ls_v_uint(kv[i].t.migrated_off, LS_F_COUNT);
	}
	free(kv);
}

static void collect_culprits(struct ls_probe *p, struct ls_section *s)
{
	static const struct ls_column cols[] = {
		{ "comm", "COMM", 16 }, { "pid", "PID", 7 }, { "count", "COUNT", 8 },
		{ "time_ns", "CPU TIME", 10 }, { "kernel_thread", "KTHREAD", 7 },
	};
	int n;
	struct kv_culprit *kv = ls_probe_read_hash(p, "iso_culprits", sizeof(*kv),
	    offsetof(struct kv_culprit, c), &n);
	struct ls_table *t = ls_section_table(s, "culprits",
	    "Culprits: tasks that ran while a preempted task waited", 5, cols);
	char comm[ISO_COMM_LEN + 1];

	if (!kv)
		return;
	qsort(kv, n, sizeof(*kv), cmp_culprit);
	for (int i = 0; i < n; i++) {
		struct ls_value *row = ls_table_row(t);
		int kt = is_kthread(kv[i].tid);

		row[0] = ls_v_str(ls_comm(comm, kv[i].c.comm, ISO_COMM_LEN));
		row[1] = ls_v_uint(kv[i].tid, LS_F_PLAIN);
		row[2] = ls_v_uint(kv[i].c.count, LS_F_COUNT);
		row[3] = ls_v_uint(kv[i].c.time_ns, LS_F_NS);
		row[4] = kt < 0 ? ls_v_null() : ls_v_bool(kt);
	}
	free(kv);
}

static void collect_worst(struct ls_probe *p, const struct ls_run *r, struct ls_section *s)
{
	static const struct ls_column cols[] = {
		{ "time", NULL, 0 }, { NULL, "TIME (UTC)", 16 }, { "cpu", "CPU", 3 },
		{ "latency_ns", "LATENCY", 9 },
		{ "victim.comm", "VICTIM", 15 }, { "victim.pid", "PID", 7 },
		{ "culprit.comm", "RAN INSTEAD", 15 }, { "culprit.pid", NULL, 0 },
	};
	const struct iso_event *worst = p->worst;
	struct ls_table *t = ls_section_table(s, "worst", "Worst runqueue latencies", 8, cols);
	char comm[ISO_COMM_LEN + 1], when[64];

	for (int i = 0; i < p->nworst; i++) {
		struct ls_value *row = ls_table_row(t);
		const struct iso_event *e = &worst[i];

		ls_wallclock(r, e->ts, when, sizeof(when));
		row[0] = ls_v_str(when);
		row[1] = ls_v_str(when + 11);	/* HH:MM:SS.uuuuuu */
		row[2] = ls_v_uint(e->cpu, LS_F_PLAIN);
		row[3] = ls_v_uint(e->latency_ns, LS_F_NS);
		row[4] = ls_v_str(ls_comm(comm, e->victim_comm, ISO_COMM_LEN));
		row[5] = ls_v_uint(e->victim, LS_F_PLAIN);
		row[6] = ls_v_str(e->culprit ? ls_comm(comm, e->culprit_comm, ISO_COMM_LEN) : "<idle>");
		row[7] = ls_v_uint(e->culprit, LS_F_PLAIN);
	}
}

/*
 * running_undisturbed - threads of the --pid processes running now on a
 * monitored CPU (state R, last CPU in the set, /proc/PID/task/TID/stat). On
 * a nohz_full CPU a thread alone never switches: no sched_switch names it,
 * and without this it would look absent rather than perfectly isolated.
 */
static uint64_t running_undisturbed(const struct ls_run *r)
{
	uint64_t n = 0;

	for (int i = 0; i < r->opts->npids; i++) {
		char dir[64], path[PATH_MAX + 64];
		struct dirent *e;
		DIR *d;

		snprintf(dir, sizeof(dir), "/proc/%d/task", r->opts->pids[i]);
		if (!(d = opendir(dir)))
			continue;
		while ((e = readdir(d))) {
			char *stat, *q, state = 0;
			int cpu = -1;

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s/stat", dir, e->d_name);
			if (!(stat = ls_read_file(path, NULL)))
				continue;
			/* after the ")" closing comm: field 3 is the state, field 39 the CPU */
			if ((q = strrchr(stat, ')')) && sscanf(q + 1, " %c", &state) == 1) {
				for (int f = 3; f <= 39 && q; f++)
					q = strchr(q + 1, ' ');
				if (q)
					cpu = atoi(q + 1);
			}
			if (state == 'R' && cpu >= 0 && ls_cpuset_isset(&r->cpus, cpu))
				n++;
			free(stat);
		}
		closedir(d);
	}
	return n;
}

static int iso_collect(struct ls_probe *p, const struct ls_run *r, struct ls_section *s)
{
	struct iso_counters c;

	collect_counters(p, r, s, &c);
	ls_section_metric(s, "context_switches", "Context switches", ls_v_uint(c.switches, LS_F_COUNT));
	ls_section_metric(s, "voluntary_switches", "  task blocked", ls_v_uint(c.voluntary, LS_F_COUNT));
	ls_section_metric(s, "involuntary_switches", "  task preempted",
	    ls_v_uint(c.involuntary, LS_F_COUNT));
	ls_section_metric(s, "idle_switches", "  to or from idle", ls_v_uint(c.idle, LS_F_COUNT));
	ls_section_metric(s, "migrations", "Migrations", ls_v_uint(c.migrations, LS_F_COUNT));
	ls_section_metric(s, "migrated_off", NULL, ls_v_uint(c.migrated_off, LS_F_COUNT));
	ls_section_metric(s, "wakeups", "Wakeups", ls_v_uint(c.wakeups, LS_F_COUNT));
	ls_section_metric(s, "target_preemptions", NULL, ls_v_uint(c.target_preempted, LS_F_COUNT));
	if (r->opts->npids)
		ls_section_metric(s, "foreign_switch_ins", "Other tasks switched in",
		    ls_v_uint(c.foreign_runs, LS_F_COUNT));
	collect_runq(p, s);
	collect_tasks(p, s, r->opts->npids > 0);
	if (r->opts->npids && ls_section_find_table(s, "targets") &&
	    !ls_section_find_table(s, "targets")->nrows)
		ls_section_metric(s, "undisturbed_targets", "Targets never switched out",
		    ls_v_uint(running_undisturbed(r), LS_F_COUNT));
	collect_culprits(p, s);
	collect_worst(p, r, s);
	if (c.tasks_full)
		ls_section_note(s, "%llu switches of tasks not itemised: the per-task table (10240) "
		    "was full; totals are complete", (unsigned long long)c.tasks_full);
	if (c.culprits_full)
		ls_section_note(s, "%llu culprit intervals not itemised: the culprit table (4096) was "
		    "full", (unsigned long long)c.culprits_full);
	return 0;
}

/* culprit_fix - the command that removes the top culprit from the monitored CPUs */
static char *culprit_fix(const struct ls_run *r, const struct ls_table *cul, const char *target)
{
	char *hk = ls_housekeeping(&r->host->online, &r->cpus), *cpus = ls_cpulist_format(&r->cpus), *fix;
	const struct ls_value *kt, *pid, *comm;

	if (!cul || !cul->nrows) {
		fix = ls_strdup_printf("give the task a real-time policy so normal tasks cannot preempt "
		    "it: `chrt -f -p 50 %s`", target);
		goto out;
	}
	kt = ls_table_cell(cul, 0, "kernel_thread");
	pid = ls_table_cell(cul, 0, "pid");
	comm = ls_table_cell(cul, 0, "comm");
	if (kt->type == LS_V_BOOL && kt->b && !r->host->nohz_full_capable)
		fix = ls_strdup_printf("%s is a kernel thread and cannot be moved with taskset; this "
		    "kernel is built without CONFIG_NO_HZ_FULL, so its tick and per-CPU kernel "
		    "threads keep running on CPUs %s: boot a kernel that has it (Debian 12's and "
		    "later do) with `isolcpus=nohz,domain,managed_irq,%s nohz_full=%s rcu_nocbs=%s`",
		    comm->s, cpus, cpus, cpus, cpus);
	else if (kt->type == LS_V_BOOL && kt->b)
		fix = ls_strdup_printf("%s is a kernel thread and cannot be moved with taskset: boot "
		    "with `isolcpus=nohz,domain,managed_irq,%s nohz_full=%s rcu_nocbs=%s` to keep "
		    "kernel housekeeping off CPUs %s", comm->s, cpus, cpus, cpus, cpus);
	else if (*hk)
		fix = ls_strdup_printf("move %s off the monitored CPUs: `taskset -acp %s %llu`, and keep "
		    "new tasks off them with `isolcpus=domain,%s` (or a cpuset)", comm->s, hk,
		    (unsigned long long)pid->u, cpus);
	else
		fix = ls_strdup_printf("every online CPU is monitored, so %s has nowhere else to run: "
		    "monitor fewer CPUs (--cpus) and move it with `taskset -acp <other CPUs> %llu`, "
		    "or give %s a real-time policy: `chrt -f -p 50 %s`", comm->s,
		    (unsigned long long)pid->u, target, target);
out:
	free(hk);
	free(cpus);
	return fix;
}

static void judge_targets(struct ls_section *s, const struct ls_run *r)
{
	const struct ls_table *tg = ls_section_find_table(s, "targets");
	const struct ls_table *cul = ls_section_find_table(s, "culprits");
	uint64_t allowed = ls_threshold(&r->thresholds, "isolation.preemptions");
	char *cpus = ls_cpulist_format(&r->cpus);
	bool clean = true;

	for (int i = 0; tg && i < tg->nrows; i++) {
		const char *comm = ls_table_cell(tg, i, "comm")->s;
		uint64_t tid = ls_table_cell(tg, i, "tid")->u, pid = ls_table_cell(tg, i, "pid")->u;
		uint64_t pre = ls_table_cell(tg, i, "preempted")->u;
		uint64_t off = ls_table_cell(tg, i, "migrated_off")->u;
		char target[32], *fix;

		snprintf(target, sizeof(target), "%llu", (unsigned long long)tid);
		if (pre > allowed) {
			const char *who = cul && cul->nrows ? ls_table_cell(cul, 0, "comm")->s : "another task";

			fix = culprit_fix(r, cul, target);
			ls_section_finding(s, LS_FAIL, fix, "%s (tid %llu) was preempted %llu times on CPUs %s; "
			    "top culprit: %s", comm, (unsigned long long)tid, (unsigned long long)pre,
			    cpus, who);
			free(fix);
			clean = false;
		}
		if (off) {
			fix = ls_strdup_printf("pin it to the monitored CPUs: `taskset -acp %s %llu`", cpus,
			    (unsigned long long)pid);
			ls_section_finding(s, LS_FAIL, fix, "%s (tid %llu) migrated off CPUs %s %llu times",
			    comm, (unsigned long long)tid, cpus, (unsigned long long)off);
			free(fix);
			clean = false;
		}
	}
	if (tg && !tg->nrows && ls_section_find_metric(s, "undisturbed_targets")->u) {
		ls_section_finding(s, LS_PASS, NULL, "the monitored processes ran on CPUs %s for the "
		    "whole run without a single context switch (%llu threads running there)", cpus,
		    (unsigned long long)ls_section_find_metric(s, "undisturbed_targets")->u);
	} else if (tg && !tg->nrows && r->targets && r->targets->nexited == r->targets->n) {
		ls_section_note(s, "the monitored processes never switched on CPUs %s before they "
		    "exited", cpus);
	} else if (tg && !tg->nrows) {
		char *fix = ls_strdup_printf("check where it may run: `taskset -cp %d`; pin it with "
		    "`taskset -acp %s %d`", r->opts->pids[0], cpus, r->opts->pids[0]);

		ls_section_finding(s, LS_WARN, fix, "the monitored processes never switched on CPUs %s "
		    "during the run: they run elsewhere or slept throughout", cpus);
		free(fix);
	} else if (clean)
		ls_section_finding(s, LS_PASS, NULL, "monitored tasks were never preempted on or "
		    "migrated off CPUs %s", cpus);
	if (r->cpus_isolated && ls_section_find_metric(s, "foreign_switch_ins")->u) {
		char *fix = culprit_fix(r, cul, "<tid>");

		ls_section_finding(s, LS_WARN, fix, "other tasks were switched in %llu times on isolated "
		    "CPUs %s", (unsigned long long)ls_section_find_metric(s, "foreign_switch_ins")->u, cpus);
		free(fix);
	}
	free(cpus);
}

static void judge_cpus(struct ls_section *s, const struct ls_run *r)
{
	const struct ls_table *cul = ls_section_find_table(s, "culprits");
	uint64_t inv = ls_section_find_metric(s, "involuntary_switches")->u;
	char *cpus = ls_cpulist_format(&r->cpus);

	if (inv) {
		char *fix = culprit_fix(r, cul, "<tid>");

		ls_section_finding(s, LS_WARN, fix, "%llu preemptions on CPUs %s (%s); run with --pid to "
		    "judge your own process", (unsigned long long)inv, cpus,
		    r->cpus_isolated ? "isolated" : "not isolated");
		free(fix);
	} else {
		ls_section_finding(s, LS_PASS, NULL, "no task was preempted on CPUs %s", cpus);
	}
	free(cpus);
}

static void judge_runq(struct ls_section *s, const struct ls_run *r)
{
	const struct ls_summary *q = ls_section_find_histo(s, "runqueue_latency_ns");
	static const struct { int pct; const char *key; enum ls_level level; } rules[] = {
		{ 5, "isolation.runq_p99_999", LS_FAIL },
		{ 4, "isolation.runq_p99_99", LS_WARN },
	};

	if (!q)
		return;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		uint64_t lim = ls_threshold(&r->thresholds, rules[i].key);
		char v[32], l[32];

		if (!q->pct_valid[rules[i].pct]) {
			ls_section_note(s, "%s runqueue latency not judged: it needs %llu samples, the run "
			    "had %llu (run longer)", ls_pct_labels[rules[i].pct],
			    (unsigned long long)ls_pct_min_samples(ls_pct_values[rules[i].pct]),
			    (unsigned long long)q->count);
			continue;
		}
		if (q->pct[rules[i].pct] <= lim)
			continue;
		ls_fmt_ns(v, sizeof(v), q->pct[rules[i].pct], r->opts->ascii);
		ls_fmt_ns(l, sizeof(l), (double)lim, r->opts->ascii);
		ls_section_finding(s, rules[i].level, "give the latency-critical task a CPU of its own "
		    "(isolcpus= / cpusets) or a real-time policy (`chrt -f -p 50 <tid>`)",
		    "%s runqueue latency %s exceeds %s (%s)", ls_pct_labels[rules[i].pct], v, l,
		    rules[i].key);
		break;
	}
}

static void iso_judge(struct ls_section *s, const struct ls_run *r)
{
	if (r->opts->npids)
		judge_targets(s, r);
	else
		judge_cpus(s, r);
	judge_runq(s, r);
}

/* the maps collect() reads, checked against the probe when it is compiled */
static const struct ls_map_layout iso_maps[] = {
	LS_MAP("iso_counters", uint32_t, struct iso_counters),
	LS_MAP("iso_runq", uint32_t, struct ls_hist),
	LS_MAP("iso_floor", uint32_t, uint64_t),
	LS_MAP("iso_tasks", uint32_t, struct iso_task),
	LS_MAP("iso_culprits", uint32_t, struct iso_culprit),
	{ NULL, 0, 0 },
};

/* iso_events - context switches on the monitored CPUs so far, for the progress line */
static uint64_t iso_events(struct ls_probe *p)
{
	struct iso_counters c;

	return ls_probe_sum_percpu(p, "iso_counters", 0, &c, sizeof(c)) < 0 ? 0 : c.switches + c.wakeups;
}

/* what --interval reports of this module (interval.c): totals over the interval */
static const struct ls_interval_table iso_iv_tables[] = {
	{ "per_cpu", "cpu", "switches,voluntary,involuntary,idle", NULL },
	{ "targets", "tid,pid,comm", "voluntary_switches,involuntary_switches,preempted,migrations,"
	    "migrated_off", NULL },
	{ "culprits", "comm,pid,kernel_thread", "count,time_ns", NULL },
	{ NULL, NULL, NULL, NULL },
};
/* the per-thread maps: with --interval, exited threads leave them (ls_probe_prune) */
static const struct ls_prune_map iso_prune[] = {
	{ "iso_tasks", 0, false },	/* tid */
	{ "iso_culprits", 0, false },	/* tid */
	{ NULL, 0, false },
};

static const struct ls_interval_spec iso_interval = {
	.totals = "context_switches,voluntary_switches,involuntary_switches,idle_switches,migrations,"
	    "migrated_off,wakeups,target_preemptions,foreign_switch_ins",
	.tables = iso_iv_tables,
	.prune = iso_prune,
};

const struct ls_module_ops ls_mod_isolation = {
	.name = "isolation",
	.title = "ISOLATION VERIFIER",
	.summary = "context switches, preemptions and their culprits, migrations, runqueue latency",
	.thresholds = iso_thresholds,
	.maps = iso_maps,
	.setup = iso_setup,
	.rec_size = sizeof(struct iso_event),
	.record = iso_record,
	.rec_key = iso_key,
	.worst_n = ISO_WORST,
	.floor_map = "iso_floor",
	.collect = iso_collect,
	.events = iso_events,
	.judge = iso_judge,
	.interval = &iso_interval,
};
