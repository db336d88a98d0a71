// SPDX-License-Identifier: GPL-2.0-only
/*
 * mod-irq.c - the IRQ Storm Detector, user side: hard IRQs, softirqs and
 * system vectors on the monitored CPUs, the time they took from the
 * monitored threads, and the affinity changes that move device IRQs away.
 */

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <bcc/libbpf.h>

#include "irq.h"
#include "latencyscope.h"

#define IRQ_WORST 10

static const char *const softirq_names[IRQ_NR_SOFTIRQS] = {
	"HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU",
};

/* tracepoint name and /proc/interrupts row of each system vector */
static const struct { const char *tp, *proc; } vector_names[IRQ_NR_VECTORS] = {
	[IRQ_V_LOCAL_TIMER] = { "local_timer", "LOC" },
	[IRQ_V_RESCHEDULE] = { "reschedule", "RES" },
	[IRQ_V_CALL_FUNCTION] = { "call_function", "CAL" },
	[IRQ_V_CALL_FUNCTION_SINGLE] = { "call_function_single", "CAL" },
	[IRQ_V_IRQ_WORK] = { "irq_work", "IWI" },
	[IRQ_V_THERMAL_APIC] = { "thermal_apic", "TRM" },
	[IRQ_V_SPURIOUS_APIC] = { "spurious_apic", "SPU" },
	[IRQ_V_ERROR_APIC] = { "error_apic", "ERR" },
	[IRQ_V_X86_PLATFORM_IPI] = { "x86_platform_ipi", "PLT" },
	[IRQ_V_THRESHOLD_APIC] = { "threshold_apic", "THR" },
	[IRQ_V_DEFERRED_ERROR_APIC] = { "deferred_error_apic", "DFR" },
};

static const struct ls_threshold_def irq_thresholds[] = {
	{ "irq.stolen_max", LS_T_NS, 20000,
	  "FAIL (with --pid; WARN without) when one interruption of a task, IRQ plus the "
	  "softirqs run on its way out, exceeds this" },
	{ NULL, 0, 0, NULL },
};

/* /proc/softirqs at one instant: n[v * ncpu + c], vector v on CPU c; NULL if unread */
struct softirq_snap {
	uint64_t *n;
	int	  ncpu;
};

struct irq_priv {
	/* hard IRQ names for the source strings, filled by collect */
	int		 nnames;
	struct { uint32_t irq; char name[IRQ_NAME_LEN + 1]; } names[256];
	/* the kernel's own softirq counts at the window's edges */
	struct softirq_snap at_open, at_close;
};


/*
 * read_softirqs - /proc/softirqs: a header of "CPUn" columns (online CPUs
 * only), then a row per vector, "NAME: count count ..."
 */
static void read_softirqs(struct softirq_snap *snap)
{
	char *text = ls_read_file("/proc/softirqs", NULL), *save = NULL, *line;
	int ncpu = ls_nr_possible_cpus(), *cols = ls_xcalloc(ncpu, sizeof(*cols)), ncols = 0;

	free(snap->n);
	snap->n = NULL;
	if (!text)
		goto out;
	snap->n = ls_xcalloc((size_t)IRQ_NR_SOFTIRQS * ncpu, sizeof(*snap->n));
	snap->ncpu = ncpu;
	line = strtok_r(text, "\n", &save);
	for (char *q = line; q && (q = strstr(q, "CPU")) && ncols < ncpu; q += 3)
		cols[ncols++] = atoi(q + 3);
	while ((line = strtok_r(NULL, "\n", &save))) {
		char *colon = strchr(line, ':'), *name = line, *end;
		int v;

		if (!colon)
			continue;
		*colon = '\0';
		name += strspn(name, " ");
		for (v = 0; v < IRQ_NR_SOFTIRQS && strcmp(softirq_names[v], name); v++)
			;
		end = colon + 1;
		for (int k = 0; v < IRQ_NR_SOFTIRQS && k < ncols; k++) {
			unsigned long long n = strtoull(end, &end, 10);

			if (cols[k] >= 0 && cols[k] < ncpu)
				snap->n[v * ncpu + cols[k]] = n;
		}
	}
out:
	free(cols);
	free(text);
}

/* irq_window - the kernel's softirq counts as the gates open and close */
static void irq_window(struct ls_probe *p, const struct ls_run *r, bool open)
{
	struct irq_priv *ip = p->priv;

	(void)r;
	read_softirqs(open ? &ip->at_open : &ip->at_close);
}

static void irq_cleanup(struct ls_probe *p)
{
	struct irq_priv *ip = p->priv;

	if (ip) {
		free(ip->at_open.n);
		free(ip->at_close.n);
	}
}

static int irq_setup(struct ls_probe *p, const struct ls_run *r, char *err, size_t errlen)
{
	struct irq_priv *ip = ls_xcalloc(1, sizeof(*ip));

	p->priv = ip;
	ls_probe_set_u64(p, "irq_floor", 1);
	return 0;
}

static void chain_name(const struct irq_priv *ip, const struct irq_event *e, char *buf, size_t len);

/* irq_record - an interruption as a timeline slice, named by its chain */
static bool irq_record(struct ls_probe *p, const void *rec)
{
	const struct irq_event *ev = rec;
	char chain[160], comm[IRQ_COMM_LEN + 1];

	chain_name(p->priv, ev, chain, sizeof(chain));
	ls_timeline_add(p, ev->kind == IRQ_K_HARD ? "hardirq" : ev->kind == IRQ_K_SOFT ? "softirq" :
	    "vector", chain, ev->start, ev->duration_ns, ev->cpu, ev->tid, ev->tgid,
	    ls_comm(comm, ev->comm, IRQ_COMM_LEN));
	return true;
}

static uint64_t irq_key(const void *rec)
{
	return ((const struct irq_event *)rec)->duration_ns;
}

/*
 * irq_same - one interruption may be reported more than once as it grows
 * (after the IRQ, after each softirq): records with the same CPU and start
 * are one interruption
 */
static bool irq_same(const void *a, const void *b)
{
	const struct irq_event *x = a, *y = b;

	return x->cpu == y->cpu && x->start == y->start;
}

static const char *hard_name(const struct irq_priv *ip, uint32_t irq)
{
	for (int i = 0; ip && i < ip->nnames; i++)
		if (ip->names[i].irq == irq)
			return ip->names[i].name;
	return "?";
}

/* source_name - "hardirq:38 virtio2-input.0", "softirq:NET_RX", "vector:local_timer" */
static void source_name(const struct irq_priv *ip, uint32_t kind, uint32_t id, char *buf, size_t len)
{
	if (kind == IRQ_K_HARD)
		snprintf(buf, len, "hardirq:%u %s", id, hard_name(ip, id));
	else if (kind == IRQ_K_SOFT && id < IRQ_NR_SOFTIRQS)
		snprintf(buf, len, "softirq:%s", softirq_names[id]);
	else if (kind == IRQ_K_VECTOR && id < IRQ_NR_VECTORS)
		snprintf(buf, len, "vector:%s", vector_names[id].tp);
	else
		snprintf(buf, len, "unknown:%u", id);
}

/* chain_name - what opened the interruption, then the softirqs it ran */
static void chain_name(const struct irq_priv *ip, const struct irq_event *e, char *buf, size_t len)
{
	int n;

	source_name(ip, e->kind, e->id, buf, len);
	n = strlen(buf);
	for (int v = 0; v < IRQ_NR_SOFTIRQS; v++)
		if ((e->soft_mask & (1U << v)) && !(e->kind == IRQ_K_SOFT && e->id == (uint32_t)v))
			n += snprintf(buf + n, len - n, " + softirq:%s", softirq_names[v]);
}

/*
 * irq_managed - 1 when the kernel manages the IRQ's affinity (it cannot be
 * changed), 0 when not, -1 when unknown (needs debugfs with
 * CONFIG_GENERIC_IRQ_DEBUGFS)
 */
static int irq_managed(uint32_t irq)
{
	char path[64], *s;
	int rc;

	snprintf(path, sizeof(path), "/sys/kernel/debug/irq/irqs/%u", irq);
	s = ls_read_file(path, NULL);
	if (!s)
		return -1;
	rc = strstr(s, "AFFINITY_MANAGED") != NULL;
	free(s);
	return rc;
}

/* append - add formatted text to a malloc'ed string */
__attribute__((format(printf, 2, 3)))
static void append(char **s, const char *fmt, ...)
{
	char *tail, *both;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&tail, fmt, ap) < 0)
		ls_oom();
	va_end(ap);
	both = ls_strdup_printf("%s%s", *s, tail);
	free(*s);
	free(tail);
	*s = both;
}

/*
 * ls_irq_affinity_judge - may this IRQ land on a monitored CPU, and what
 * moves it to the housekeeping CPUs (online and not monitored)
 */
void ls_irq_affinity_judge(int irq, const struct ls_cpuset *affinity,
    const struct ls_cpuset *monitored, const struct ls_cpuset *online, int managed,
    bool irqbalance, struct ls_irq_affinity *out)
{
	char *hk = ls_housekeeping(online, monitored), *mon = ls_cpulist_format(monitored);

	out->violation = false;
	out->recommendation = NULL;
	for (int c = 0; c < LS_MAX_CPUS && !out->violation; c++)
		out->violation = ls_cpuset_isset(affinity, c) && ls_cpuset_isset(monitored, c);
	if (!out->violation)
		goto out;
	if (managed == 1)
		out->recommendation = ls_strdup_printf("IRQ %d is kernel-managed and its affinity "
		    "cannot be changed: boot with `isolcpus=managed_irq,domain,%s` to keep it off "
		    "CPUs %s", irq, mon, mon);
	else if (!*hk)
		out->recommendation = ls_strdup_printf("every online CPU is monitored, so IRQ %d has "
		    "nowhere else to go: monitor fewer CPUs (--cpus) and move it there with "
		    "`echo <CPUs> > /proc/irq/%d/smp_affinity_list`", irq, irq);
	else
		out->recommendation = ls_strdup_printf("echo %s > /proc/irq/%d/smp_affinity_list", hk, irq);
	if (irqbalance && managed != 1 && *hk)
		append(&out->recommendation, "; irqbalance is running and will undo this: add "
		    "IRQBALANCE_BANNED_CPULIST=%s to /etc/default/irqbalance and restart it", mon);
	if (managed == -1 && *hk)
		append(&out->recommendation, " (if the write fails with an I/O error, the IRQ is "
		    "kernel-managed: boot with `isolcpus=managed_irq,domain,%s`)", mon);
out:
	free(hk);
	free(mon);
}

struct kv_hard {
	struct irq_key	   k;
	struct irq_hard_val v;
};

struct kv_stolen {
	struct irq_stolen_key k;
	struct irq_stolen_val v;
};

static int cmp_hard(const void *a, const void *b)
{
	const struct kv_hard *x = a, *y = b;

	return x->v.h.sum < y->v.h.sum ? 1 : x->v.h.sum > y->v.h.sum ? -1 : 0;
}

static int cmp_stolen(const void *a, const void *b)
{
	const struct kv_stolen *x = a, *y = b;

	return x->v.time_ns < y->v.time_ns ? 1 : x->v.time_ns > y->v.time_ns ? -1 : 0;
}

static void collect_hard(struct ls_probe *p, const struct ls_run *r, struct ls_section *s,
    uint64_t *count, uint64_t *time)
{
	static const struct ls_column cols[] = {
		{ "irq", "IRQ", 4 }, { "name", "NAME", 20 }, { "cpu", "CPU", 3 },
		{ "count", "COUNT", 9 }, { "time_ns", "TIME", 9 }, { "max_ns", "MAX", 9 },
		{ NULL, "P99", 9 }, LS_SUMMARY_COLUMNS("duration_ns"),
	};
	static const struct ls_column acols[] = {
		{ "irq", "IRQ", 4 }, { "name", "NAME", 18 }, { "cpu", "CPU", 3 },
		{ "smp_affinity", "AFFINITY", 9 }, { "effective_affinity", "EFFECTIVE", 9 },
		{ "managed", "MANAGED", 7 }, { "recommendation", NULL, 0 },
	};
	struct irq_priv *ip = p->priv;
	struct ls_table *t = ls_section_table(s, "hardirqs", "Hard IRQs", 7 + LS_SUMMARY_NCOLS, cols);
	struct ls_table *at = ls_section_table(s, "affinity_violations",
	    "Device IRQs that may land on the monitored CPUs", 7, acols);
	bool judge_affinity = r->opts->cpus_given || r->cpus_isolated;
	bool balance = ls_process_running("irqbalance");
	int n;
	struct kv_hard *kv = ls_probe_read_hash(p, "irq_hard", sizeof(*kv), offsetof(struct kv_hard, v), &n);
	char name[IRQ_NAME_LEN + 1];

	*count = *time = 0;
	if (ip)	/* named afresh each collect (--interval collects many times) */
		ip->nnames = 0;
	if (!kv)
		return;
	qsort(kv, n, sizeof(*kv), cmp_hard);
	for (int i = 0; i < n; i++) {
		struct ls_value *row;
		struct ls_summary sum;

		if (!kv[i].v.h.count)
			continue;
		ls_comm(name, kv[i].v.name, IRQ_NAME_LEN);
		if (ip && ip->nnames < (int)(sizeof(ip->names) / sizeof(ip->names[0]))) {
			ip->names[ip->nnames].irq = kv[i].k.irq;
			snprintf(ip->names[ip->nnames++].name, IRQ_NAME_LEN + 1, "%s", name);
		}
		ls_hist_summarize(&kv[i].v.h, ls_probe_budget(p), &sum);
		row = ls_table_row(t);
		row[0] = ls_v_uint(kv[i].k.irq, LS_F_PLAIN);
		row[1] = ls_v_str(name);
		row[2] = ls_v_uint(kv[i].k.cpu, LS_F_PLAIN);
		row[3] = ls_v_uint(sum.count, LS_F_COUNT);
		row[4] = ls_v_uint(kv[i].v.h.sum, LS_F_NS);
		row[5] = ls_v_uint(sum.max, LS_F_NS);
		row[6] = sum.pct_valid[2] ? ls_v_uint((uint64_t)sum.pct[2], LS_F_NS) : ls_v_str("n/a");
		ls_summary_cells(row + 7, &sum);
		*count += sum.count;
		*time += kv[i].v.h.sum;
	}
	/* affinity: each IRQ once, however many monitored CPUs it fired on */
	for (int i = 0; judge_affinity && i < n; i++) {
		struct ls_cpuset aff, eff;
		struct ls_irq_affinity res;
		char path[96], *sa, *ea;
		bool dup = false;
		int managed;

		for (int j = 0; j < i; j++)
			dup |= kv[j].k.irq == kv[i].k.irq;
		if (dup || !kv[i].v.h.count)
			continue;
		snprintf(path, sizeof(path), "/proc/irq/%u/smp_affinity_list", kv[i].k.irq);
		sa = ls_read_file(path, NULL);
		snprintf(path, sizeof(path), "/proc/irq/%u/effective_affinity_list", kv[i].k.irq);
		ea = ls_read_file(path, NULL);
		if (!sa || ls_cpulist_parse(sa, &aff, true, path, sizeof(path)) < 0) {
			free(sa);
			free(ea);
			continue;	/* the IRQ went away */
		}
		managed = irq_managed(kv[i].k.irq);
		ls_irq_affinity_judge(kv[i].k.irq, &aff, &r->cpus, &r->host->online, managed, balance, &res);
		if (res.violation) {
			struct ls_value *row = ls_table_row(at);

			if (ea)
				ls_cpulist_parse(ea, &eff, true, path, sizeof(path));
			row[0] = ls_v_uint(kv[i].k.irq, LS_F_PLAIN);
			row[1] = ls_v_str(ls_comm(name, kv[i].v.name, IRQ_NAME_LEN));
			row[2] = ls_v_uint(kv[i].k.cpu, LS_F_PLAIN);
			row[3] = ls_v_str(strtok(sa, "\n"));
			row[4] = ea ? ls_v_str(strtok(ea, "\n")) : ls_v_null();
			row[5] = managed < 0 ? ls_v_null() : ls_v_bool(managed);
			row[6] = ls_v_str(res.recommendation);
		}
		free(res.recommendation);
		free(sa);
		free(ea);
	}
	ls_section_metric(s, "irqbalance_running", NULL, ls_v_bool(balance));
	free(kv);
}

/* kernel_count - softirqs of vector v the kernel counted on CPU c over the window */
static uint64_t kernel_count(const struct irq_priv *ip, uint32_t v, int c)
{
	int n = ip->at_open.ncpu;

	return c < n ? ip->at_close.n[v * n + c] - ip->at_open.n[v * n + c] : 0;
}

static void collect_soft(struct ls_probe *p, const struct ls_run *r, struct ls_section *s,
    uint64_t *count, uint64_t *time)
{
	static const struct ls_column cols[] = {
		{ "vector", "SOFTIRQ", 8 }, { "cpu", "CPU", 3 }, { "count", "COUNT", 9 },
		{ "time_ns", "TIME", 9 }, { "max_ns", "MAX", 9 }, { NULL, "P99", 9 },
		{ "kernel_count", NULL, 0 }, LS_SUMMARY_COLUMNS("duration_ns"),
	};
	const struct irq_priv *ip = p->priv;
	bool known = ip && ip->at_open.n && ip->at_close.n;
	int ncpu = ls_nr_possible_cpus();
	struct ls_hist *h = ls_xcalloc(ncpu, sizeof(*h));
	struct ls_table *t = ls_section_table(s, "softirqs", "Softirqs (time excludes IRQs nested in them)",
	    7 + LS_SUMMARY_NCOLS, cols);
	uint64_t unseen = 0;

	*count = *time = 0;
	for (uint32_t v = 0; h && v < IRQ_NR_SOFTIRQS; v++) {
		if (ls_probe_read_percpu(p, "irq_soft", v, h, sizeof(*h)) < 0)
			continue;
		for (int c = 0; c < ncpu; c++) {
			struct ls_summary sum;
			struct ls_value *row;

			/* a row too when the kernel ran some that BPF did not see */
			if ((!h[c].count && !(known && kernel_count(ip, v, c) > 1)) ||
			    !ls_cpuset_isset(&r->cpus, c))
				continue;
			ls_hist_summarize(&h[c], ls_probe_budget(p), &sum);
			row = ls_table_row(t);
			row[0] = ls_v_str(softirq_names[v]);
			row[1] = ls_v_uint(c, LS_F_PLAIN);
			row[2] = ls_v_uint(sum.count, LS_F_COUNT);
			row[3] = ls_v_uint(h[c].sum, LS_F_NS);
			row[4] = ls_v_uint(sum.max, LS_F_NS);
			row[5] = sum.pct_valid[2] ? ls_v_uint((uint64_t)sum.pct[2], LS_F_NS) : ls_v_str("n/a");
			row[6] = known ? ls_v_uint(kernel_count(ip, v, c), LS_F_COUNT) : ls_v_null();
			ls_summary_cells(row + 7, &sum);
			*count += sum.count;
			*time += h[c].sum;
		}
		for (int c = 0; known && c < ncpu; c++)
			if (ls_cpuset_isset(&r->cpus, c) && kernel_count(ip, v, c) > h[c].count + 1)
				unseen += kernel_count(ip, v, c) - h[c].count;
	}
	t->max_text_rows = 20;
	free(h);
	if (unseen)
		ls_section_note(s, "the kernel ran %llu softirqs more than its softirq tracepoints "
		    "delivered to BPF (kernel_count in each softirq row, from /proc/softirqs over "
		    "the same window); their time is not in these figures",
		    (unsigned long long)unseen);
}

static void collect_vectors(struct ls_probe *p, const struct ls_run *r, struct ls_section *s,
    uint64_t *count, uint64_t *time)
{
	static const struct ls_column cols[] = {
		{ "name", "VECTOR", 20 }, { "proc", "/proc", 5 }, { "cpu", "CPU", 3 },
		{ "count", "COUNT", 9 }, { "time_ns", "TIME", 9 }, { "max_ns", "MAX", 9 },
	};
	int ncpu = ls_nr_possible_cpus();
	struct irq_vec_val *v = ls_xcalloc(ncpu, sizeof(*v));
	struct ls_table *t = ls_section_table(s, "vectors", "System vectors", 6, cols);

	*count = *time = 0;
	for (uint32_t id = 0; v && id < IRQ_NR_VECTORS; id++) {
		if (ls_probe_read_percpu(p, "irq_vec", id, v, sizeof(*v)) < 0)
			continue;
		for (int c = 0; c < ncpu; c++) {
			struct ls_value *row;

			if (!v[c].count || !ls_cpuset_isset(&r->cpus, c))
				continue;
			row = ls_table_row(t);
			row[0] = ls_v_str(vector_names[id].tp);
			row[1] = ls_v_str(vector_names[id].proc);
			row[2] = ls_v_uint(c, LS_F_PLAIN);
			row[3] = ls_v_uint(v[c].count, LS_F_COUNT);
			row[4] = ls_v_uint(v[c].time_ns, LS_F_NS);
			row[5] = ls_v_uint(v[c].max_ns, LS_F_NS);
			*count += v[c].count;
			*time += v[c].time_ns;
		}
	}
	t->max_text_rows = 20;
	free(v);
}

static void collect_stolen(struct ls_probe *p, struct ls_section *s)
{
	static const struct ls_column cols[] = {
		{ "tid", "TID", 7 }, { "pid", NULL, 0 }, { "comm", "COMM", 13 },
		{ "source", "SOURCE", 22 }, { "count", "COUNT", 7 }, { "time_ns", "TIME", 9 },
		{ "max_ns", "MAX", 9 },
	};
	struct irq_priv *ip = p->priv;
	struct ls_table *t = ls_section_table(s, "stolen_from_targets",
	    "Time taken from the monitored threads", 7, cols);
	int n;
	struct kv_stolen *kv = ls_probe_read_hash(p, "irq_stolen", sizeof(*kv),
	    offsetof(struct kv_stolen, v), &n);
	char comm[IRQ_COMM_LEN + 1], src[96];

	if (!kv)
		return;
	qsort(kv, n, sizeof(*kv), cmp_stolen);
	for (int i = 0; i < n; i++) {
		struct ls_value *row = ls_table_row(t);

		source_name(ip, kv[i].k.kind, kv[i].k.id, src, sizeof(src));
		row[0] = ls_v_uint(kv[i].k.tid, LS_F_PLAIN);
		row[1] = ls_v_uint(kv[i].v.tgid, LS_F_PLAIN);
		row[2] = ls_v_str(ls_comm(comm, kv[i].v.comm, IRQ_COMM_LEN));
		row[3] = ls_v_str(src);
		row[4] = ls_v_uint(kv[i].v.count, LS_F_COUNT);
		row[5] = ls_v_uint(kv[i].v.time_ns, LS_F_NS);
		row[6] = ls_v_uint(kv[i].v.max_ns, LS_F_NS);
	}
	free(kv);
}

static void collect_worst(struct ls_probe *p, const struct ls_run *r, struct ls_section *s)
{
	static const struct ls_column cols[] = {
		{ "time", NULL, 0 }, { NULL, "TIME (UTC)", 16 }, { "cpu", "CPU", 3 },
		{ "duration_ns", "LENGTH", 9 }, { "victim.comm", "VICTIM", 15 }, { "victim.pid", NULL, 0 },
		{ "source", "SOURCE", 24 },
	};
	struct irq_priv *ip = p->priv;
	struct ls_table *t = ls_section_table(s, "worst", "Longest interruptions of a task", 7, cols);
	char when[64], comm[IRQ_COMM_LEN + 1], src[160];

	for (int i = 0; i < p->nworst; i++) {
		const struct irq_event *e = &((const struct irq_event *)p->worst)[i];
		struct ls_value *row = ls_table_row(t);

		ls_wallclock(r, e->start, when, sizeof(when));
		chain_name(ip, e, src, sizeof(src));
		row[0] = ls_v_str(when);
		row[1] = ls_v_str(when + 11);
		row[2] = ls_v_uint(e->cpu, LS_F_PLAIN);
		row[3] = ls_v_uint(e->duration_ns, LS_F_NS);
		row[4] = ls_v_str(ls_comm(comm, e->comm, IRQ_COMM_LEN));
		row[5] = ls_v_uint(e->tid, LS_F_PLAIN);
		row[6] = ls_v_str(src);
	}
}

static int irq_collect(struct ls_probe *p, const struct ls_run *r, struct ls_section *s)
{
	uint64_t hc, ht, sc, st, vc, vt;
	struct irq_counters cnt;

	collect_hard(p, r, s, &hc, &ht);
	collect_soft(p, r, s, &sc, &st);
	collect_vectors(p, r, s, &vc, &vt);
	ls_section_metric(s, "hardirq_count", "Hard IRQs", ls_v_uint(hc, LS_F_COUNT));
	ls_section_metric(s, "hardirq_time_ns", "  time in handlers", ls_v_uint(ht, LS_F_NS));
	ls_section_metric(s, "softirq_count", "Softirqs", ls_v_uint(sc, LS_F_COUNT));
	ls_section_metric(s, "softirq_time_ns", "  time in softirqs", ls_v_uint(st, LS_F_NS));
	ls_section_metric(s, "vector_count", "System vectors", ls_v_uint(vc, LS_F_COUNT));
	ls_section_metric(s, "vector_time_ns", "  time in vectors", ls_v_uint(vt, LS_F_NS));
	if (r->opts->npids)
		collect_stolen(p, s);
	collect_worst(p, r, s);
	ls_probe_sum_percpu(p, "irq_counters", 0, &cnt, sizeof(cnt));
	if (cnt.hard_full)
		ls_section_note(s, "%llu hard IRQs not itemised: the IRQ table (256 IRQ x CPU pairs) "
		    "was full", (unsigned long long)cnt.hard_full);
	if (cnt.stolen_full)
		ls_section_note(s, "%llu interruptions not itemised per thread: the table (4096) was "
		    "full", (unsigned long long)cnt.stolen_full);
	if (r->host->preempt_rt)
		ls_section_note(s, "PREEMPT_RT kernel: a device IRQ's handler runs in its irq/N-name "
		    "thread, so the hard IRQ time here is only the short wake-up of that thread; "
		    "softirqs are timed and named here wherever they run (in the task that raised "
		    "them, ksoftirqd/N or ktimers/N), and the handler threads themselves show as "
		    "tasks in the isolation module");
	ls_debug("irq: %llu exits without their entry (the run began inside them)",
	    (unsigned long long)cnt.unmatched);
	return 0;
}

static void irq_judge(struct ls_section *s, const struct ls_run *r)
{
	const struct ls_table *aff = ls_section_find_table(s, "affinity_violations");
	const struct ls_table *worst = ls_section_find_table(s, "worst");
	const struct ls_table *stolen = ls_section_find_table(s, "stolen_from_targets");
	uint64_t lim = ls_threshold(&r->thresholds, "irq.stolen_max");
	char *cpus = ls_cpulist_format(&r->cpus);
	bool found = false;

	for (int i = 0; aff && i < aff->nrows; i++) {
		ls_section_finding(s, LS_FAIL, ls_table_cell(aff, i, "recommendation")->s,
		    "IRQ %llu (%s) fired on monitored CPU %llu; its affinity %s includes monitored CPUs %s",
		    (unsigned long long)ls_table_cell(aff, i, "irq")->u, ls_table_cell(aff, i, "name")->s,
		    (unsigned long long)ls_table_cell(aff, i, "cpu")->u,
		    ls_table_cell(aff, i, "smp_affinity")->s, cpus);
		found = true;
	}
	if (worst && worst->nrows) {
		uint64_t d = ls_table_cell(worst, 0, "duration_ns")->u;
		char dv[32], lv[32];

		ls_fmt_ns(dv, sizeof(dv), (double)d, r->opts->ascii);
		ls_fmt_ns(lv, sizeof(lv), (double)lim, r->opts->ascii);
		if (d > lim) {
			ls_section_finding(s, r->opts->npids ? LS_FAIL : LS_WARN,
			    "move device IRQs off the CPU (see the affinity findings), and keep softirq "
			    "work off it: steer packets elsewhere with RPS (/sys/class/net/<dev>/queues/"
			    "rx-*/rps_cpus) and boot with nohz_full= for fewer timer ticks",
			    "%s (tid %llu) lost %s in one interruption (%s) at %s on CPU %llu; limit %s "
			    "(irq.stolen_max)", ls_table_cell(worst, 0, "victim.comm")->s,
			    (unsigned long long)ls_table_cell(worst, 0, "victim.pid")->u, dv,
			    ls_table_cell(worst, 0, "source")->s, ls_table_cell(worst, 0, "time")->s,
			    (unsigned long long)ls_table_cell(worst, 0, "cpu")->u, lv);
			found = true;
		}
	}
	if (!found && stolen && stolen->nrows) {
		uint64_t total = 0, count = 0;
		char tv[32];

		for (int i = 0; i < stolen->nrows; i++) {
			total += ls_table_cell(stolen, i, "time_ns")->u;
			count += ls_table_cell(stolen, i, "count")->u;
		}
		ls_fmt_ns(tv, sizeof(tv), (double)total, r->opts->ascii);
		ls_section_finding(s, LS_WARN, NULL, "interrupts took %s from the monitored threads in "
		    "%llu interruptions, each under irq.stolen_max; the largest source: %s",
		    tv, (unsigned long long)count, ls_table_cell(stolen, 0, "source")->s);
		found = true;
	}
	if (!found)
		ls_section_finding(s, LS_PASS, NULL, "no device IRQ may land on CPUs %s and no "
		    "interruption exceeded irq.stolen_max", cpus);
	if (!r->opts->cpus_given && !r->cpus_isolated)
		ls_section_note(s, "IRQ affinity not judged: no CPUs are isolated and --cpus was not "
		    "given, so there is no housekeeping set to move IRQs to");
	free(cpus);
}

/* the maps collect() reads, checked against the probe when it is compiled */
static const struct ls_map_layout irq_maps[] = {
	LS_MAP("irq_counters", uint32_t, struct irq_counters),
	LS_MAP("irq_hard", struct irq_key, struct irq_hard_val),
	LS_MAP("irq_soft", uint32_t, struct ls_hist),
	LS_MAP("irq_vec", uint32_t, struct irq_vec_val),
	LS_MAP("irq_stolen", struct irq_stolen_key, struct irq_stolen_val),
	LS_MAP("irq_floor", uint32_t, uint64_t),
	{ NULL, 0, 0 },
};

/* irq_events - softirqs on the monitored CPUs so far, for the progress line */
static uint64_t irq_events(struct ls_probe *p)
{
	uint64_t n = 0;

	for (uint32_t v = 0; v < IRQ_NR_SOFTIRQS; v++) {
		struct ls_hist h;

		if (ls_probe_sum_percpu(p, "irq_soft", v, &h, sizeof(h)) == 0)
			n += h.count;
	}
	return n;
}

/* what --interval reports of this module (interval.c): totals over the interval */
static const struct ls_interval_table irq_iv_tables[] = {
	{ "softirqs", "vector,cpu", "count,time_ns,kernel_count", "max_ns" },
	{ "hardirqs", "irq,name,cpu", "count,time_ns", "max_ns" },
	{ "vectors", "name,proc,cpu", "count,time_ns", "max_ns" },
	{ "stolen_from_targets", "tid,pid,comm,source", "count,time_ns", "max_ns" },
	{ "affinity_violations", NULL, NULL, NULL },	/* the IRQs' settings: as collected */
	{ NULL, NULL, NULL, NULL },
};
/* the per-thread maps: with --interval, exited threads leave them (ls_probe_prune) */
static const struct ls_prune_map irq_prune[] = {
	{ "irq_stolen", offsetof(struct irq_stolen_key, tid), false },
	{ NULL, 0, false },
};

static const struct ls_interval_spec irq_interval = {
	.totals = "hardirq_count,hardirq_time_ns,softirq_count,softirq_time_ns,vector_count,vector_time_ns",
	.tables = irq_iv_tables,
	.prune = irq_prune,
};

const struct ls_module_ops ls_mod_irq = {
	.name = "irq",
	.title = "IRQ STORM DETECTOR",
	.summary = "hard IRQs, softirqs and system vectors on the CPUs, time they take from "
	    "the processes, IRQ affinity fixes",
	.thresholds = irq_thresholds,
	.maps = irq_maps,
	.setup = irq_setup,
	.window = irq_window,
	.rec_size = sizeof(struct irq_event),
	.record = irq_record,
	.rec_key = irq_key,
	.rec_same = irq_same,
	.worst_n = IRQ_WORST,
	.floor_map = "irq_floor",
	.collect = irq_collect,
	.events = irq_events,
	.judge = irq_judge,
	.cleanup = irq_cleanup,
	.interval = &irq_interval,
};
