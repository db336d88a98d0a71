// SPDX-License-Identifier: GPL-2.0-only
/*
 * audit.c - --audit: the settings that decide what the kernel still runs on
 * the monitored CPUs, read from /proc and /sys (no BPF, no root where the
 * files are readable), each judged against what latency-critical hosts use
 * for those CPUs and given the command that changes it.
 *
 * A check is a row of the AUDIT section's table: a stable id, the value as
 * the kernel shows it, the recommended one, a status (pass, warn, fail,
 * info), the evidence (what the run measured that the setting explains;
 * null in --audit alone) and the fix. A warn or fail is also a finding, so
 * the verdict and the exit code follow the worst check.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latencyscope.h"

struct audit {
	struct ls_section	*s;
	struct ls_table		*t;
	struct ls_cpuset	 mon;	/* the monitored CPUs */
	char			*mon_list;
	char			*hk_list, *hk_mask;	/* the others online: housekeeping */
	char			*cmdline;
};

/* slurp - a small file's first line, trimmed; NULL when unreadable */
static char *slurp(const char *path)
{
	char *s = ls_read_file(path, NULL);

	if (s)
		s[strcspn(s, "\n")] = '\0';
	return s;
}

/* param - a kernel command-line parameter's value ("" for a bare flag), NULL when absent */
static char *param(const struct audit *a, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = a->cmdline; p && *p; p += strcspn(p, " "), p += *p == ' ') {
		if (!strncmp(p, name, n) && (p[n] == '=' || p[n] == ' ' || !p[n]))
			return ls_xstrndup(p[n] == '=' ? p + n + 1 : p + n,
			    p[n] == '=' ? strcspn(p + n + 1, " ") : 0);
	}
	return NULL;
}

/* check - one row, and a finding when it is not a pass */
static void check(struct audit *a, const char *id, const char *value, const char *recommended,
    const char *status, const char *fix, const char *why)
{
	struct ls_value *r = ls_table_row(a->t);

	r[0] = ls_v_str(id);
	r[1] = value ? ls_v_str(value) : ls_v_null();
	r[2] = ls_v_str(recommended);
	r[3] = ls_v_str(status);
	r[4] = ls_v_null();
	r[5] = fix ? ls_v_str(fix) : ls_v_null();
	if (!strcmp(status, "warn") || !strcmp(status, "fail"))
		ls_section_finding(a->s, *status == 'w' ? LS_WARN : LS_FAIL, fix, "%s is %s: %s", id,
		    value ? value : "unset", why);
}

/* covers - the CPU list text holds every monitored CPU */
static bool covers(const struct audit *a, const char *list)
{
	struct ls_cpuset set;
	char err[128];

	return list && ls_cpulist_parse(list, &set, true, err, sizeof(err)) == 0 &&
	    ls_cpuset_subset(&a->mon, &set);
}

/* overlaps - the CPU list text holds any monitored CPU */
static bool overlaps(const struct audit *a, const char *list)
{
	struct ls_cpuset set;
	char err[128];

	if (!list || ls_cpulist_parse(list, &set, true, err, sizeof(err)) < 0)
		return false;
	for (int c = 0; c < LS_MAX_CPUS; c++)
		if (ls_cpuset_isset(&a->mon, c) && ls_cpuset_isset(&set, c))
			return true;
	return false;
}

/* hexmask_list - a sysfs cpumask ("ff,ffffffff") as a CPU list */
static char *hexmask_list(const char *mask)
{
	struct ls_cpuset set;
	int bit = 0;

	ls_cpuset_zero(&set);
	for (const char *p = mask + strlen(mask); p-- > mask;) {
		int v;

		if (*p == ',')
			continue;
		v = isdigit((unsigned char)*p) ? *p - '0' : tolower((unsigned char)*p) - 'a' + 10;
		for (int b = 0; b < 4; b++, bit++)
			if (v >> b & 1 && bit < LS_MAX_CPUS)
				ls_cpuset_set(&set, bit);
	}
	return ls_cpulist_format(&set);
}

/* isol_list - the CPU list of isolcpus=[flag,...]LIST: from the first item that is a number */
static const char *isol_list(const char *v)
{
	for (const char *p = v; p && *p; p += strcspn(p, ","), p += *p == ',')
		if (isdigit((unsigned char)*p))
			return p;
	return NULL;
}

static void cmdline_checks(struct audit *a)
{
	char *iso = param(a, "isolcpus"), *nohz = param(a, "nohz_full"), *nocb = param(a, "rcu_nocbs");
	char *aff = param(a, "irqaffinity"), *fix, *list;

	fix = ls_strdup_printf("add isolcpus=managed_irq,domain,%s to GRUB_CMDLINE_LINUX in "
	    "/etc/default/grub, then update-grub and reboot", a->mon_list);
	list = ls_strdup_printf("managed_irq,domain,%s", a->mon_list);
	check(a, "cmdline.isolcpus", iso, list, covers(a, isol_list(iso)) ? "pass" : "warn", fix,
	    "the scheduler may still place other tasks on the monitored CPUs");
	free(list);
	free(fix);
	fix = ls_strdup_printf("add nohz_full=%s to the kernel command line and reboot", a->mon_list);
	check(a, "cmdline.nohz_full", nohz, a->mon_list, covers(a, nohz) ? "pass" : "warn", fix,
	    "the scheduler tick interrupts the monitored CPUs even with one task running");
	free(fix);
	fix = ls_strdup_printf("add rcu_nocbs=%s to the kernel command line and reboot", a->mon_list);
	check(a, "cmdline.rcu_nocbs", nocb ? nocb : nohz, a->mon_list,
	    covers(a, nocb) || covers(a, nohz) ? "pass" : "warn", fix,
	    "RCU callbacks run on the monitored CPUs (nohz_full implies rcu_nocbs for its CPUs)");
	free(fix);
	fix = ls_strdup_printf("add irqaffinity=%s to the kernel command line", a->hk_list);
	check(a, "cmdline.irqaffinity", aff, a->hk_list,
	    aff && !overlaps(a, aff) ? "pass" : "warn", fix,
	    "device interrupts may be routed to the monitored CPUs at boot");
	free(fix);
	free(iso);
	free(nohz);
	free(nocb);
	free(aff);
}

/* sysctl_check - /proc/sys/PATH against a wanted value; op '=' exact, '>' at least, '<' at most */
static void sysctl_check(struct audit *a, const char *name, char op, long want, const char *why)
{
	char path[256], id[160], rec[64], fix[256], *dot;
	char *v;
	long n;
	bool ok;

	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	for (dot = path; (dot = strchr(dot, '.')); )
		*dot = '/';
	snprintf(id, sizeof(id), "sysctl.%s", name);
	snprintf(rec, sizeof(rec), "%s%ld", op == '>' ? ">= " : op == '<' ? "<= " : "", want);
	snprintf(fix, sizeof(fix), "sysctl -w %s=%ld (and in /etc/sysctl.d/ to keep it)", name, want);
	if (!(v = slurp(path))) {
		check(a, id, NULL, rec, "info", NULL, "not readable here");
		return;
	}
	n = strtol(v, NULL, 10);
	ok = op == '>' ? n >= want : op == '<' ? n <= want : n == want;
	check(a, id, v, rec, ok ? "pass" : "warn", fix, why);
	free(v);
}

/* bracketed - the [selected] word of a sysfs choice list */
static char *bracketed(const char *s)
{
	const char *b = s ? strchr(s, '[') : NULL;

	return b ? ls_xstrndup(b + 1, strcspn(b + 1, "]")) : NULL;
}

static void thp_checks(struct audit *a)
{
	static const char *const files[] = { "enabled", "defrag" };

	for (int i = 0; i < 2; i++) {
		char path[128], id[32], fix[160], *v, *sel;

		snprintf(path, sizeof(path), "/sys/kernel/mm/transparent_hugepage/%s", files[i]);
		snprintf(id, sizeof(id), "thp.%s", files[i]);
		snprintf(fix, sizeof(fix), "echo madvise > %s%s", path, i ? "" :
		    " (transparent_hugepage=madvise on the command line to keep it)");
		v = slurp(path);
		sel = bracketed(v);
		check(a, id, sel, "madvise or never",
		    !sel ? "info" : strcmp(sel, "always") ? "pass" : "warn", fix,
		    "khugepaged and fault-time compaction stall the monitored tasks");
		free(v);
		free(sel);
	}
}

static void workqueue_check(struct audit *a)
{
	char *v = slurp("/sys/devices/virtual/workqueue/cpumask"), *list = v ? hexmask_list(v) : NULL;
	char *fix = ls_strdup_printf("echo %s > /sys/devices/virtual/workqueue/cpumask (CPUs %s)",
	    a->hk_mask, a->hk_list);

	check(a, "workqueue.cpumask", list, a->hk_list,
	    !list ? "info" : overlaps(a, list) ? "warn" : "pass", fix,
	    "unbound kernel work (vmstat, writeback) may run on the monitored CPUs");
	free(v);
	free(list);
	free(fix);
}

/* per_cpu_check - a cpufreq or cpuidle property of every monitored CPU */
static void cpufreq_check(struct audit *a)
{
	char *first = NULL, *bad = NULL;

	for (int c = 0; c < LS_MAX_CPUS; c++) {
		char path[128], *v;

		if (!ls_cpuset_isset(&a->mon, c))
			continue;
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/cpufreq/scaling_governor", c);
		if (!(v = slurp(path)))
			continue;
		if (!first)
			first = ls_xstrdup(v);
		if (strcmp(v, "performance") && !bad)
			bad = ls_strdup_printf("cpu%d: %s", c, v);
		free(v);
	}
	check(a, "cpufreq.governor", bad ? bad : first, "performance",
	    !first ? "info" : bad ? "warn" : "pass",
	    !first ? NULL : "cpupower frequency-set -g performance (or echo performance > "
	    "/sys/devices/system/cpu/cpuN/cpufreq/scaling_governor)",
	    "frequency changes and ramp-up add latency after idle");
	free(first);
	free(bad);
}

static void cpuidle_check(struct audit *a)
{
	int first = -1, deep = 0, states = 0;
	long worst = 0;
	char val[96];

	for (int c = 0; c < LS_MAX_CPUS && first < 0; c++)
		if (ls_cpuset_isset(&a->mon, c))
			first = c;
	for (int st = 0; first >= 0 && st < 16; st++) {
		char path[160], *lat, *dis;

		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/cpuidle/state%d/latency",
		    first, st);
		if (!(lat = slurp(path)))
			break;
		states++;
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/cpuidle/state%d/disable",
		    first, st);
		dis = slurp(path);
		if (strtol(lat, NULL, 10) > 10 && !(dis && !strcmp(dis, "1"))) {
			deep++;
			worst = strtol(lat, NULL, 10) > worst ? strtol(lat, NULL, 10) : worst;
		}
		free(lat);
		free(dis);
	}
	snprintf(val, sizeof(val), "%d enabled states exit in over 10 us (worst %ld us)", deep, worst);
	check(a, "cpuidle.states", states ? val : NULL, "none over 10 us",
	    !states ? "info" : deep ? "warn" : "pass", "cpupower idle-set -D 10 (or processor.max_cstate=1 "
	    "intel_idle.max_cstate=1 on the command line)",
	    "waking from a deep C-state adds its exit latency to the first event after idle");
}

static void clocksource_check(struct audit *a)
{
	char *v = slurp("/sys/devices/system/clocksource/clocksource0/current_clocksource");

	check(a, "clocksource", v, "tsc", !v ? "info" : !strcmp(v, "tsc") ? "pass" : "warn",
	    "echo tsc > /sys/devices/system/clocksource/clocksource0/current_clocksource "
	    "(tsc=reliable on the command line if the kernel refuses it)",
	    "reading the clock goes through a slower source (or a VM exit)");
	free(v);
}

/* irqbalance_check - a process named irqbalance */
static void irqbalance_check(struct audit *a)
{
	bool running = ls_process_running("irqbalance");
	char *fix = ls_strdup_printf("systemctl disable --now irqbalance, or "
	    "IRQBALANCE_BANNED_CPULIST=%s in /etc/default/irqbalance", a->mon_list);

	check(a, "irqbalance", running ? "running" : "not running", "not running, or banned from "
	    "the monitored CPUs", running ? "warn" : "pass", fix,
	    "it moves device interrupts onto the monitored CPUs as load shifts");
	free(fix);
}

static void ksm_check(struct audit *a)
{
	char *v = slurp("/sys/kernel/mm/ksm/run");

	check(a, "ksm.run", v, "0", !v ? "info" : !strcmp(v, "0") ? "pass" : "warn",
	    "echo 0 > /sys/kernel/mm/ksm/run", "ksmd scans and merges pages, faulting the "
	    "monitored tasks on write");
	free(v);
}

/* housekeeping - the online CPUs outside mon, as a list and as a sysfs hex mask */
static void housekeeping(struct audit *a, const struct ls_cpuset *online)
{
	struct ls_cpuset hk;

	ls_cpuset_zero(&hk);
	for (int c = 0; c < LS_MAX_CPUS; c++)
		if (ls_cpuset_isset(online, c) && !ls_cpuset_isset(&a->mon, c))
			ls_cpuset_set(&hk, c);
	a->hk_list = ls_cpuset_count(&hk) ? ls_cpulist_format(&hk) :
	    ls_xstrdup("(none: every CPU is monitored)");
	a->hk_mask = ls_cpuset_hexmask(&hk);
}

/* ls_audit_evidence - what the run measured that check id's setting explains */
void ls_audit_evidence(struct ls_report *rep, const char *id, const char *text)
{
	for (int i = 0; i < rep->nsections; i++) {
		struct ls_section *s = &rep->sections[i];
		const struct ls_table *t = ls_section_find_table(s, "checks");

		if (strcmp(s->name, "audit") || !t)
			continue;
		for (int j = 0; j < t->nrows; j++)
			if (!strcmp(ls_table_cell(t, j, "id")->s, id) &&
			    t->cells[j * t->ncols + 4].type == LS_V_NULL)
				t->cells[j * t->ncols + 4] = ls_v_str(text);	/* the evidence column */
	}
}

/* ls_audit_section - the AUDIT section: every check against the monitored CPUs */
void ls_audit_section(struct ls_report *rep, const struct ls_cpuset *mon,
    const struct ls_cpuset *online)
{
	static const struct ls_column cols[] = {
		{ "id", "CHECK", 33 }, { "value", "VALUE", 14 }, { "recommended", "WANT", 14 },
		{ "status", "STATUS", 6 }, { "evidence", NULL, 0 }, { "fix", NULL, 0 },
	};
	struct audit a = { .mon = *mon };

	a.mon_list = ls_cpulist_format(mon);
	housekeeping(&a, online);
	a.cmdline = slurp("/proc/cmdline");
	a.s = ls_report_add_section(rep, "audit", "TUNING AUDIT");
	ls_section_metric(a.s, "cpus", "Audited for CPUs", ls_v_str(a.mon_list));
	a.t = ls_section_table(a.s, "checks", "Checks", 6, cols);
	a.t->max_text_rows = 64;	/* every check: the audit is read whole */
	cmdline_checks(&a);
	sysctl_check(&a, "kernel.timer_migration", '=', 1,
	    "timers armed on the monitored CPUs stay there instead of moving to busy ones");
	sysctl_check(&a, "vm.stat_interval", '>', 10,
	    "vmstat_update runs on every CPU each interval (1 s by default)");
	sysctl_check(&a, "kernel.numa_balancing", '=', 0,
	    "NUMA balancing unmaps pages to sample accesses: faults and migrations");
	sysctl_check(&a, "kernel.sched_rt_runtime_us", '=', -1,
	    "RT throttling takes the CPU from a SCHED_FIFO task for 50 ms each second");
	sysctl_check(&a, "kernel.watchdog", '=', 0,
	    "the soft-lockup watchdog's timer and thread run on every CPU");
	sysctl_check(&a, "kernel.nmi_watchdog", '=', 0,
	    "the NMI watchdog interrupts every CPU periodically");
	sysctl_check(&a, "vm.swappiness", '<', 10, "the kernel swaps out pages of idle memory, "
	    "which the monitored tasks fault back in");
	thp_checks(&a);
	workqueue_check(&a);
	cpufreq_check(&a);
	cpuidle_check(&a);
	clocksource_check(&a);
	irqbalance_check(&a);
	ksm_check(&a);
	if (!a.s->nfindings)
		ls_section_finding(a.s, LS_PASS, NULL, "every setting fits CPUs %s", a.mon_list);
	ls_section_set_verdict(a.s);
	free(a.mon_list);
	free(a.hk_list);
	free(a.hk_mask);
	free(a.cmdline);
}
