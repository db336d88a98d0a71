// SPDX-License-Identifier: GPL-2.0-only
/*
 * mod-memory.c - the Memory Stall Profiler, user side: minor and major page
 * faults per process, CPU and second; TLB flushes and the IPIs that cause
 * them, with their senders symbolized; direct reclaim and compaction stalls;
 * page migrations, NUMA balancing and THP collapses.
 */

#include "config.h"

#include <dirent.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

#include <bcc/bcc_common.h>
#include <bcc/bcc_syms.h>
#include <bcc/libbpf.h>
#include <jansson.h>

#include "latencyscope.h"
#include "memory.h"

#define MEM_WORST 10

static const char *const stall_names[MEM_NR_STALLS] = { "reclaim", "compaction" };

static const struct ls_threshold_def mem_thresholds[] = {
	{ "memory.major_faults", LS_T_COUNT, 0,
	  "FAIL (with --pid; WARN without) when a monitored process takes more major faults "
	  "(faults that waited for I/O)" },
	{ "memory.minor_per_s", LS_T_COUNT, 0,
	  "WARN when minor faults per second after the warm-up exceed this (steady-state "
	  "faulting)" },
	{ "memory.warmup", LS_T_NS, 1000000000ULL,
	  "faults in this first part of the run are start-up, not judged as steady state" },
	{ "memory.stall_max", LS_T_NS, 0,
	  "FAIL (with --pid; WARN without) when a direct reclaim or compaction stall of a "
	  "monitored task exceeds this (0: any stall)" },
	{ "memory.shootdowns", LS_T_COUNT, 0,
	  "FAIL when isolated (or --cpus) CPUs do more remote TLB shootdowns than this; WARN "
	  "on other CPUs" },
	{ NULL, 0, 0, NULL },
};

#define MEM_RATE_SLOTS 3600	/* seconds in the fault-rate series; later ones share the last */

struct mem_priv {
	uint64_t		cum[MEM_RATE_SLOTS];	/* faults before the end of second i */
	int			ncum;
	uint64_t		stalls[MEM_NR_STALLS];
};

/* mem_prepare - the monitored CPUs as bit masks, for multi-CPU IPI targets */
static int mem_prepare(struct ls_probe *p, const struct ls_run *r, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	for (int w = 0; w < MEM_MASK_WORDS; w++) {
		uint64_t m = 0;

		for (int b = 0; b < 64; b++)
			if (ls_cpuset_isset(&r->cpus, w * 64 + b))
				m |= 1ULL << b;
		ls_probe_cflag(p, "-DMEM_MONITORED_WORD%d=0x%llxULL", w, (unsigned long long)m);
	}
	return 0;
}

static int mem_setup(struct ls_probe *p, const struct ls_run *r, char *err, size_t errlen)
{
	p->priv = ls_xcalloc(1, sizeof(struct mem_priv));
	return p->priv ? 0 : -1;
}

static uint64_t mem_key(const void *rec)
{
	return ((const struct mem_stall_event *)rec)->duration_ns;
}

/* mem_event - every stall is counted; the MEM_WORST longest are kept */
/* mem_record - a stall as a timeline slice, counted by kind */
static bool mem_record(struct ls_probe *p, const void *rec)
{
	struct mem_priv *mp = p->priv;
	const struct mem_stall_event *ev = rec;
	char comm[MEM_COMM_LEN + 1];

	if (ev->kind >= MEM_NR_STALLS)
		return false;
	ls_comm(comm, ev->comm, MEM_COMM_LEN);
	ls_timeline_add(p, stall_names[ev->kind], comm, ev->start, ev->duration_ns, ev->cpu,
	    ev->tid, ev->tgid, comm);
	mp->stalls[ev->kind]++;
	return true;
}

/* total_faults - every fault counted so far, all CPUs */
static uint64_t total_faults(const struct ls_probe *p)
{
	int ncpu = ls_nr_possible_cpus();
	struct mem_cpu *pc = ls_xcalloc(ncpu, sizeof(*pc));
	uint64_t t = 0;

	if (pc && ls_probe_read_percpu(p, "mem_cpu", 0, pc, sizeof(*pc)) == 0)
		for (int c = 0; c < ncpu; c++)
			t += pc[c].faults;
	free(pc);
	return t;
}

/* mem_tick - at each second boundary, the running total: the per-second series */
static void mem_tick(struct ls_probe *p, const struct ls_run *r)
{
	struct mem_priv *mp = p->priv;
	uint64_t sec = (ls_now_ns(CLOCK_MONOTONIC) - r->mono_start_ns) / 1000000000ULL;
	uint64_t t;

	if (!mp || sec <= (uint64_t)mp->ncum || mp->ncum >= MEM_RATE_SLOTS - 1)
		return;
	t = total_faults(p);
	while ((uint64_t)mp->ncum < sec && mp->ncum < MEM_RATE_SLOTS - 1)
		mp->cum[mp->ncum++] = t;
}

/* tlb_reason_names - the kernel's names for tlb_flush reasons, from its print format */
static int tlb_reason_names(const struct ls_run *r, char names[MEM_NR_TLB_REASONS][32])
{
	char path[512], *fmt, *s;
	int n = 0;

	snprintf(path, sizeof(path), "%s/events/tlb/tlb_flush/format", r->host->tracefs);
	for (int i = 0; i < MEM_NR_TLB_REASONS; i++)
		snprintf(names[i], 32, "reason %d", i);
	fmt = ls_read_file(path, NULL);
	s = fmt ? strstr(fmt, "__print_symbolic") : NULL;
	while (s && (s = strchr(s, '{'))) {
		int v;
		char name[32];

		if (sscanf(s, "{ %d, \"%31[^\"]\" }", &v, name) == 2 && v >= 0 && v < MEM_NR_TLB_REASONS) {
			snprintf(names[v], 32, "%s", name);
			n++;
		}
		s++;
	}
	free(fmt);
	return n;
}

/* proc_comm - a live process's name, else the one the probe saw */
static const char *proc_comm(char *buf, size_t len, uint32_t pid, const char *seen)
{
	char path[64], *c;

	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	c = ls_read_file(path, NULL);
	if (c) {
		c[strcspn(c, "\n")] = '\0';
		snprintf(buf, len, "%s", c);
		free(c);
		return buf;
	}
	return ls_comm(buf, seen, MEM_COMM_LEN);
}

static int cmp_proc(const void *a, const void *b)
{
	const struct mem_proc *x = a, *y = b;
	uint64_t tx = x->faults + x->major * 1000, ty = y->faults + y->major * 1000;

	return tx < ty ? 1 : tx > ty ? -1 : 0;
}

/*
 * counted_at - where the probe counted faults: "trap" (the exceptions
 * tracepoints: every trap, minor = traps - major) or "accounting" (the
 * kernel's fault events, as /proc/<pid>/stat counts them)
 */
static const char *counted_at(const struct ls_probe *p)
{
	for (int i = 0; i < p->nprogs; i++)
		if (!strcmp(p->progs[i].ev, "page_fault_user"))
			return "trap";
	return "accounting";
}

static void collect_faults(struct ls_probe *p, const struct ls_run *r, struct ls_section *s,
    const struct mem_cpu *pc, int ncpu)
{
	struct mem_priv *mp = p->priv;
	static const struct ls_column pcols[] = {
		{ "pid", "PID", 7 }, { "comm", "COMM", 15 }, { "minor", "MINOR", 10 },
		{ "major", "MAJOR", 8 },
	};
	static const struct ls_column ccols[] = {
		{ "cpu", "CPU", 4 }, { "minor", "MINOR", 10 }, { "major", "MAJOR", 8 },
	};
	int fd = ls_probe_table_fd(p, "mem_procs"), majfd = ls_probe_table_fd(p, "mem_major_cpu");
	int nprocs = 0, nsec;
	uint64_t *cminor = ls_xcalloc(2 * (size_t)ncpu, sizeof(*cminor));
	uint64_t *cmajor = cminor ? cminor + ncpu : NULL;
	uint32_t max = fd < 0 ? 0 : (uint32_t)ls_probe_table_max_entries(p, "mem_procs");
	struct mem_proc *procs = ls_xcalloc(max ? max : 1, sizeof(*procs));
	uint64_t minor = 0, major = 0, busy = 0, *series;
	struct ls_table *t;
	json_t *rate = json_array();
	char comm[64], *js, text[256];
	int tl = 0;

	/* minor = faults - major; a major fault is counted on the CPU it trapped on */
	for (int c = 0; cminor && c < ncpu; c++) {
		uint32_t k = c;

		if (majfd < 0 || bpf_lookup_elem(majfd, &k, &cmajor[c]) < 0)
			cmajor[c] = 0;
		cminor[c] = pc[c].faults > cmajor[c] ? pc[c].faults - cmajor[c] : 0;
		minor += cminor[c];
		major += cmajor[c];
		busy += pc[c].slot_busy;
	}
	ls_section_metric(s, "page_faults.counted_at", NULL, ls_v_str(counted_at(p)));
	ls_section_metric(s, "page_faults.minor", "Minor page faults", ls_v_uint(minor, LS_F_COUNT));
	ls_section_metric(s, "page_faults.major", "Major page faults", ls_v_uint(major, LS_F_COUNT));

	/*
	 * per second since the run started (a start-up burst vs steady
	 * faulting), from the totals mem_tick() took at each second's end
	 */
	nsec = (int)r->duration_s + 1;
	if (nsec > MEM_RATE_SLOTS)
		nsec = MEM_RATE_SLOTS;
	series = ls_xcalloc(nsec, sizeof(*series));
	for (int i = 0; series && i < nsec; i++) {
		uint64_t end = i < mp->ncum && i < nsec - 1 ? mp->cum[i] : minor + major;
		uint64_t begin = i == 0 ? 0 : i - 1 < mp->ncum ? mp->cum[i - 1] : minor + major;

		series[i] = end > begin ? end - begin : 0;
		/* a burst shows on the timeline as a step of this counter */
		ls_timeline_counter(p, "page faults per second", r->mono_start_ns + (uint64_t)i * 1000000000ULL,
		    (double)series[i]);
		json_array_append_new(rate, json_integer((json_int_t)series[i]));
		if (tl < 120)
			tl += snprintf(text + tl, sizeof(text) - tl, "%s%llu", i ? " " : "",
			    (unsigned long long)series[i]);
	}
	if (nsec > 1 && tl >= 120)
		snprintf(text + tl, sizeof(text) - tl, " ...");
	free(series);
	js = json_dumps(rate, JSON_COMPACT);
	ls_section_metric(s, "page_faults.rate_per_s", NULL, ls_v_json(js ? js : "[]"));
	ls_section_metric(s, NULL, "Faults in each second", ls_v_str(text));
	free(js);
	json_decref(rate);

	for (uint32_t i = 0; procs && i < max; i++)
		if (bpf_lookup_elem(fd, &i, &procs[nprocs]) == 0 && procs[nprocs].tgid &&
		    procs[nprocs].faults + procs[nprocs].major)
			nprocs++;
	if (procs)
		qsort(procs, nprocs, sizeof(*procs), cmp_proc);
	t = ls_section_table(s, "page_faults.per_pid", "Page faults per process", 4, pcols);
	t->max_text_rows = 8;
	for (int i = 0; i < nprocs; i++) {
		struct ls_value *row = ls_table_row(t);

		row[0] = ls_v_uint(procs[i].tgid, LS_F_PLAIN);
		row[1] = ls_v_str(proc_comm(comm, sizeof(comm), procs[i].tgid, procs[i].comm));
		row[2] = ls_v_uint(procs[i].faults > procs[i].major ? procs[i].faults - procs[i].major : 0,
		    LS_F_COUNT);
		row[3] = ls_v_uint(procs[i].major, LS_F_COUNT);
	}
	free(procs);
	t = ls_section_table(s, "page_faults.per_cpu", "Page faults per CPU", 3, ccols);
	for (int c = 0; cminor && c < ncpu; c++) {
		struct ls_value *row;

		if (!ls_cpuset_isset(&r->cpus, c))
			continue;
		row = ls_table_row(t);
		row[0] = ls_v_uint(c, LS_F_PLAIN);
		row[1] = ls_v_uint(cminor[c], LS_F_COUNT);
		row[2] = ls_v_uint(cmajor[c], LS_F_COUNT);
	}
	free(cminor);
	if (busy)
		ls_section_note(s, "%llu faults counted per CPU but not per process: their process "
		    "shared a table slot with another (pid_max above %u)", (unsigned long long)busy,
		    max);
}

struct kv_ipi {
	struct mem_ipi_key k;
	struct mem_ipi_val v;
};

static int cmp_ipi(const void *a, const void *b)
{
	const struct kv_ipi *x = a, *y = b;

	return x->v.count < y->v.count ? 1 : x->v.count > y->v.count ? -1 : 0;
}

/*
 * ksym - "function+0xoff" for a kernel address (libbcc's kallsyms cache),
 * the hex address when unknown, "-" for none
 */
static void ksym(void *cache, uint64_t addr, char *buf, size_t len)
{
	struct bcc_symbol sym;

	if (!addr)
		snprintf(buf, len, "-");
	else if (cache && bcc_symcache_resolve_no_demangle(cache, addr, &sym) == 0 && sym.name)
		snprintf(buf, len, sym.offset ? "%s+0x%llx" : "%s", sym.name,
		    (unsigned long long)sym.offset);
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)addr);
}

static void collect_tlb(struct ls_probe *p, const struct ls_run *r, struct ls_section *s,
    const struct mem_cpu *pc, int ncpu)
{
	static const struct ls_column fcols[] = {
		{ "reason", "REASON", 22 }, { "cpu", "CPU", 4 }, { "count", "FLUSHES", 9 },
		{ "pages", "PAGES", 9 },
	};
	static const struct ls_column scols[] = {
		{ "cpu", "CPU", 4 }, { "comm", "SENDER", 15 }, { "pid", "PID", 7 },
		{ "context", NULL, 0 }, { "callback", NULL, 0 }, { "callsite", "CALLSITE", 32 },
		{ "count", "IPIS", 8 },
	};
	/* an IPI sent from an interrupt has no sending process: the context is named instead */
	static const char *const contexts[] = { "task", "hardirq", "softirq" };
	char names[MEM_NR_TLB_REASONS][32], comm[MEM_COMM_LEN + 1], a[128], b[128];
	uint64_t shootdowns = 0, ipis = 0, full = 0;
	bool sends;
	struct ls_table *t = ls_section_table(s, "tlb.flushes", "TLB flushes by reason", 4, fcols);
	struct kv_ipi *kv;
	void *cache;
	int n;

	tlb_reason_names(r, names);
	for (int c = 0; c < ncpu; c++) {
		if (!ls_cpuset_isset(&r->cpus, c))
			continue;
		shootdowns += pc[c].tlb[MEM_TLB_REMOTE_SHOOTDOWN];
		for (int k = 0; k < MEM_NR_TLB_REASONS; k++) {
			struct ls_value *row;

			if (!pc[c].tlb[k])
				continue;
			row = ls_table_row(t);
			row[0] = ls_v_str(names[k]);
			row[1] = ls_v_uint(c, LS_F_PLAIN);
			row[2] = ls_v_uint(pc[c].tlb[k], LS_F_COUNT);
			row[3] = ls_v_uint(pc[c].tlb_pages[k], LS_F_COUNT);
		}
	}
	for (int c = 0; c < ncpu; c++) {
		ipis += pc[c].ipis_to_monitored;
		full += pc[c].ipi_full;
	}
	ls_section_metric(s, "tlb.shootdown_ipis", "TLB shootdowns received",
	    ls_v_uint(shootdowns, LS_F_COUNT));
	/* older kernels have no IPI tracepoints: no sender is seen there, and 0 would lie */
	sends = ls_tracepoint_exists(r->host, "ipi", "ipi_send_cpu") ||
	    ls_tracepoint_exists(r->host, "ipi", "ipi_send_cpumask");
	ls_section_metric(s, "tlb.ipis_received", "IPIs sent to these CPUs",
	    sends ? ls_v_uint(ipis, LS_F_COUNT) : ls_v_null());
	if (!sends)
		ls_section_note(s, "this kernel has no ipi:ipi_send_cpu or ipi:ipi_send_cpumask "
		    "tracepoint (newer kernels have them): who sends IPIs is not measured; "
		    "the TLB shootdowns received still are");

	t = ls_section_table(s, "tlb.senders", "Who sent IPIs to the monitored CPUs", 7, scols);
	t->max_text_rows = 6;
	kv = ls_probe_read_hash(p, "mem_ipis", sizeof(*kv), offsetof(struct kv_ipi, v), &n);
	cache = n > 0 ? bcc_symcache_new(-1, NULL) : NULL;
	if (kv)
		qsort(kv, n, sizeof(*kv), cmp_ipi);
	for (int i = 0; kv && i < n; i++) {
		struct ls_value *row = ls_table_row(t);
		uint32_t ctx = kv[i].k.context < 3 ? kv[i].k.context : MEM_IPI_TASK;
		char who[24];

		ksym(cache, kv[i].k.callback, a, sizeof(a));
		ksym(cache, kv[i].k.callsite, b, sizeof(b));
		if (ctx != MEM_IPI_TASK)
			snprintf(who, sizeof(who), "(%s)", contexts[ctx]);
		row[0] = ls_v_uint(kv[i].k.cpu, LS_F_PLAIN);
		row[1] = ls_v_str(ctx == MEM_IPI_TASK ? ls_comm(comm, kv[i].v.comm, MEM_COMM_LEN) : who);
		row[2] = ls_v_uint(kv[i].k.tgid, LS_F_PLAIN);
		row[3] = ls_v_str(contexts[ctx]);
		row[4] = ls_v_str(a);
		row[5] = ls_v_str(b);
		row[6] = ls_v_uint(kv[i].v.count, LS_F_COUNT);
	}
	if (cache)
		bcc_free_symcache(cache, -1);
	free(kv);
	if (full)
		ls_section_note(s, "%llu IPIs counted but not itemised by sender: the sender table "
		    "was full", (unsigned long long)full);
}

static void collect_stalls(struct ls_probe *p, const struct ls_run *r, struct ls_section *s,
    const struct mem_cpu *pc, int ncpu)
{
	static const struct ls_column cols[] = {
		{ "time", NULL, 0 }, { NULL, "TIME (UTC)", 16 }, { "kind", "STALL", 15 },
		{ "comm", "COMM", 15 }, { "tid", "TID", 7 }, { "pid", NULL, 0 }, { "cpu", "CPU", 4 },
		{ "duration_ns", "LENGTH", 9 }, { "detail", NULL, 0 },
	};
	static const char *const keys[MEM_NR_STALLS] = { "reclaim_ns", "compaction_ns" };
	static const char *const labels[MEM_NR_STALLS] = {
		"Reclaim stalls (direct and cgroup limit)", "Compaction stalls" };
	struct ls_hist *h = ls_xcalloc(ncpu, sizeof(*h)), all;
	char when[64], comm[MEM_COMM_LEN + 1];
	uint64_t unmatched = 0;
	struct ls_table *t;

	for (int k = 0; k < MEM_NR_STALLS; k++) {
		struct ls_summary sum;

		memset(&all, 0, sizeof(all));
		if (h && ls_probe_read_percpu(p, "mem_stall_hist", k, h, sizeof(*h)) == 0)
			for (int c = 0; c < ncpu; c++)
				ls_hist_merge(&all, &h[c]);
		ls_hist_summarize(&all, ls_probe_budget(p), &sum);
		ls_section_histo(s, keys[k], labels[k], &sum, &all);
	}
	free(h);
	t = ls_section_table(s, "worst", "Longest memory stalls", 9, cols);
	for (int i = 0; i < p->nworst; i++) {
		const struct mem_stall_event *e = &((const struct mem_stall_event *)p->worst)[i];
		struct ls_value *row = ls_table_row(t);

		ls_wallclock(r, e->start, when, sizeof(when));
		row[0] = ls_v_str(when);
		row[1] = ls_v_str(when + 11);
		row[2] = ls_v_str(stall_names[e->kind]);
		row[3] = ls_v_str(ls_comm(comm, e->comm, MEM_COMM_LEN));
		row[4] = ls_v_uint(e->tid, LS_F_PLAIN);
		row[5] = ls_v_uint(e->tgid, LS_F_PLAIN);
		row[6] = ls_v_uint(e->cpu, LS_F_PLAIN);
		row[7] = ls_v_uint(e->duration_ns, LS_F_NS);
		row[8] = ls_v_uint(e->detail, LS_F_PLAIN);
	}
	for (int c = 0; c < ncpu; c++)
		unmatched += pc[c].stall_unmatched;
	if (unmatched)
		ls_section_note(s, "%llu stalls were under way when the run started: not measured",
		    (unsigned long long)unmatched);
}

/* numa_nodes - online NUMA nodes (1 when the kernel has no NUMA) */
static int numa_nodes(void)
{
	struct ls_cpuset nodes;

	if (ls_read_cpulist_file("/sys/devices/system/node/online", &nodes) < 0)
		return 1;
	return ls_cpuset_count(&nodes) ? ls_cpuset_count(&nodes) : 1;
}

/* thp_setting - "always", "madvise" or "never": the bracketed word of a THP knob */
static void thp_setting(const char *knob, char *buf, size_t len)
{
	char path[128], *s, *a, *b;

	snprintf(path, sizeof(path), "/sys/kernel/mm/transparent_hugepage/%s", knob);
	snprintf(buf, len, "unknown");
	s = ls_read_file(path, NULL);
	if (s && (a = strchr(s, '[')) && (b = strchr(a, ']')))
		snprintf(buf, len, "%.*s", (int)(b - a - 1), a + 1);
	free(s);
}

static void collect_numa_thp(struct ls_section *s, const struct mem_cpu *pc, int ncpu)
{
	uint64_t mig = 0, failed = 0, moves = 0, swaps = 0, sticks = 0, thp = 0;
	int nodes = numa_nodes();
	char buf[32];

	for (int c = 0; c < ncpu; c++) {
		mig += pc[c].migrated_pages;
		failed += pc[c].migrate_failed;
		moves += pc[c].numa_moves;
		swaps += pc[c].numa_swaps;
		sticks += pc[c].numa_sticks;
		thp += pc[c].thp_collapses;
	}
	ls_section_metric(s, "numa.nodes", "NUMA nodes", ls_v_uint(nodes, LS_F_PLAIN));
	ls_section_metric(s, "numa.migrations", "Pages migrated", ls_v_uint(mig, LS_F_COUNT));
	ls_section_metric(s, "numa.migrations_failed", NULL, ls_v_uint(failed, LS_F_COUNT));
	if (nodes > 1) {
		ls_section_metric(s, "numa.task_moves", "NUMA balancing task moves", ls_v_uint(moves, LS_F_COUNT));
		ls_section_metric(s, "numa.task_swaps", "NUMA balancing task swaps", ls_v_uint(swaps, LS_F_COUNT));
		ls_section_metric(s, "numa.task_sticks", NULL, ls_v_uint(sticks, LS_F_COUNT));
		ls_section_note(s, "remote fault share not measured: the node a faulting page lives on "
		    "is not among the tracepoint arguments");
	} else {
		ls_section_metric(s, "numa.task_moves", NULL, ls_v_null());
		ls_section_note(s, "single NUMA node: remote access not possible");
	}
	ls_section_metric(s, "numa.remote_fault_share", NULL, ls_v_null());
	ls_section_metric(s, "thp.collapses", "khugepaged collapses", ls_v_uint(thp, LS_F_COUNT));
	thp_setting("enabled", buf, sizeof(buf));
	ls_section_metric(s, "thp.enabled", "Transparent hugepages", ls_v_str(buf));
	thp_setting("defrag", buf, sizeof(buf));
	ls_section_metric(s, "thp.defrag", NULL, ls_v_str(buf));
}

static int mem_collect(struct ls_probe *p, const struct ls_run *r, struct ls_section *s)
{
	int ncpu = ls_nr_possible_cpus();
	struct mem_cpu *pc = ls_xcalloc(ncpu, sizeof(*pc));

	if (!pc || ls_probe_read_percpu(p, "mem_cpu", 0, pc, sizeof(*pc)) < 0) {
		free(pc);
		return -1;
	}
	collect_faults(p, r, s, pc, ncpu);
	collect_tlb(p, r, s, pc, ncpu);
	collect_stalls(p, r, s, pc, ncpu);
	collect_numa_thp(s, pc, ncpu);
	free(pc);
	return 0;
}

/* steady_minor_rate - faults per second after the warm-up; < 0 when the run was too short */
static double steady_rate(const struct ls_section *s, const struct ls_run *r, uint64_t warmup_ns)
{
	const struct ls_value *v = ls_section_find_metric(s, "page_faults.rate_per_s");
	json_t *a = v->type == LS_V_JSON ? json_loads(v->s, 0, NULL) : NULL;
	double from = warmup_ns / 1e9, sum = 0;
	size_t i;
	json_t *x;

	if (!a || r->duration_s - from < 1) {
		json_decref(a);
		return -1;
	}
	json_array_foreach(a, i, x) {
		/* whole seconds after the warm-up; the last second is partial */
		if (i >= (size_t)(from + 0.999) && i + 1 <= (size_t)r->duration_s)
			sum += (double)json_integer_value(x);
	}
	from = (double)(size_t)(from + 0.999);
	json_decref(a);
	return (size_t)r->duration_s > (size_t)from ? sum / ((size_t)r->duration_s - (size_t)from) : -1;
}

static void mem_judge(struct ls_section *s, const struct ls_run *r)
{
	enum ls_level hard = r->opts->npids ? LS_FAIL : LS_WARN;
	const struct ls_table *pp = ls_section_find_table(s, "page_faults.per_pid");
	const struct ls_table *w = ls_section_find_table(s, "worst");
	uint64_t majmax = ls_threshold(&r->thresholds, "memory.major_faults");
	uint64_t minps = ls_threshold(&r->thresholds, "memory.minor_per_s");
	uint64_t warm = ls_threshold(&r->thresholds, "memory.warmup");
	uint64_t smax = ls_threshold(&r->thresholds, "memory.stall_max");
	uint64_t shmax = ls_threshold(&r->thresholds, "memory.shootdowns");
	uint64_t sd = ls_section_find_metric(s, "tlb.shootdown_ipis")->u;
	const struct ls_value *moves = ls_section_find_metric(s, "numa.task_moves");
	const char *thp = ls_section_find_metric(s, "thp.enabled")->s;
	bool found = false;
	double rate;
	char v[32];

	for (int i = 0, shown = 0; pp && i < pp->nrows; i++) {
		uint64_t maj = ls_table_cell(pp, i, "major")->u;

		if (maj <= majmax || shown++ == 5)
			continue;
		ls_section_finding(s, hard, "lock the working set in memory: mlockall(MCL_CURRENT | "
		    "MCL_FUTURE) after start-up, read files the hot path needs before it starts "
		    "(or keep them on tmpfs), and avoid swap for this process",
		    "%s (pid %llu) took %llu major faults: each one waited for I/O "
		    "(memory.major_faults %llu)", ls_table_cell(pp, i, "comm")->s,
		    (unsigned long long)ls_table_cell(pp, i, "pid")->u, (unsigned long long)maj,
		    (unsigned long long)majmax);
		found = true;
	}
	rate = steady_rate(s, r, warm);
	if (rate > (double)minps) {
		ls_fmt_ns(v, sizeof(v), (double)warm, r->opts->ascii);
		ls_section_finding(s, LS_WARN, "pre-fault at start-up: allocate and touch (memset) "
		    "buffers, MAP_POPULATE mappings, mlockall(MCL_CURRENT | MCL_FUTURE); keep "
		    "malloc/free and new mappings off the hot path",
		    "%.0f page faults per second after the first %s (memory.minor_per_s %llu): the "
		    "monitored code still faults in steady state", rate, v, (unsigned long long)minps);
		found = true;
	} else if (rate < 0) {
		ls_section_note(s, "run shorter than memory.warmup plus one second: steady-state "
		    "faulting not judged");
	}
	for (int i = 0; w && i < w->nrows; i++) {
		uint64_t d = ls_table_cell(w, i, "duration_ns")->u;

		if (d <= smax)
			continue;
		ls_fmt_ns(v, sizeof(v), (double)d, r->opts->ascii);
		ls_section_finding(s, hard, "keep free memory above the watermarks: raise "
		    "vm.min_free_kbytes (sysctl vm.min_free_kbytes=...), protect the process with a "
		    "cgroup memory.min, mlock its memory; compaction stalls: echo never > "
		    "/sys/kernel/mm/transparent_hugepage/defrag",
		    "%s (tid %llu) stalled %s in %s", ls_table_cell(w, i, "comm")->s,
		    (unsigned long long)ls_table_cell(w, i, "tid")->u, v, ls_table_cell(w, i, "kind")->s);
		found = true;
		break;	/* the longest stands for the rest */
	}
	if (sd > shmax) {
		ls_section_finding(s, r->cpus_isolated || r->opts->cpus_given ? LS_FAIL : LS_WARN,
		    "another thread of the same process unmaps or changes memory (munmap, madvise, "
		    "mprotect; see the senders): keep that off while the hot thread runs (pool and "
		    "reuse buffers); if khugepaged is the sender, echo never > "
		    "/sys/kernel/mm/transparent_hugepage/enabled",
		    "%llu remote TLB shootdowns interrupted CPUs %s (memory.shootdowns %llu)",
		    (unsigned long long)sd, r->opts->cpus_given || r->cpus_isolated ? "monitored" : "in scope",
		    (unsigned long long)shmax);
		found = true;
	}
	if (moves->type == LS_V_UINT && moves->u + ls_section_find_metric(s, "numa.task_swaps")->u) {
		ls_section_finding(s, LS_WARN, "sysctl kernel.numa_balancing=0, and bind the process "
		    "to one node: numactl --cpunodebind=N --membind=N",
		    "NUMA balancing moved monitored tasks %llu times",
		    (unsigned long long)(moves->u + ls_section_find_metric(s, "numa.task_swaps")->u));
		found = true;
	}
	if (thp && !strcmp(thp, "always") && ls_section_find_metric(s, "thp.collapses")->u) {
		ls_section_finding(s, LS_WARN, "echo madvise > /sys/kernel/mm/transparent_hugepage/"
		    "enabled and madvise(MADV_HUGEPAGE) only the regions that want huge pages",
		    "khugepaged collapsed pages of monitored processes %llu times (THP enabled=always)",
		    (unsigned long long)ls_section_find_metric(s, "thp.collapses")->u);
		found = true;
	}
	if (!found)
		ls_section_finding(s, LS_PASS, NULL, "no major faults, steady-state faulting, memory "
		    "stalls or TLB shootdowns above the thresholds");
}

/* the maps collect() reads, checked against the probe when it is compiled */
static const struct ls_map_layout mem_maps[] = {
	LS_MAP("mem_procs", uint32_t, struct mem_proc),
	LS_MAP("mem_cpu", uint32_t, struct mem_cpu),
	LS_MAP("mem_major_cpu", uint32_t, uint64_t),
	LS_MAP("mem_stall_hist", uint32_t, struct ls_hist),
	LS_MAP("mem_ipis", struct mem_ipi_key, struct mem_ipi_val),
	{ NULL, 0, 0 },
};

/* mem_events - page faults so far, for the progress line */
static uint64_t mem_events(struct ls_probe *p)
{
	struct mem_cpu c;

	return ls_probe_sum_percpu(p, "mem_cpu", 0, &c, sizeof(c)) < 0 ? 0 : c.faults;
}

/* what --interval reports of this module (interval.c): totals over the interval */
static const struct ls_interval_table mem_iv_tables[] = {
	{ "page_faults.per_cpu", "cpu", "minor,major", NULL },
	{ "page_faults.per_pid", "pid,comm", "minor,major", NULL },
	{ "tlb.flushes", "reason,cpu", "count,pages", NULL },
	{ "tlb.senders", "cpu,comm,pid,context,callback,callsite", "count", NULL },
	{ NULL, NULL, NULL, NULL },
};
/* the per-thread maps: with --interval, exited threads leave them (ls_probe_prune) */
static const struct ls_prune_map mem_prune[] = {
	{ "mem_procs", offsetof(struct mem_proc, tgid), true },
	{ "mem_ipis", offsetof(struct mem_ipi_key, tgid), false },	/* 0: from an interrupt, kept */
	{ NULL, 0, false },
};

static const struct ls_interval_spec mem_interval = {
	.totals = "page_faults.minor,page_faults.major,tlb.shootdown_ipis,tlb.ipis_received,numa.migrations,"
	    "numa.migrations_failed,numa.task_moves,numa.task_swaps,numa.task_sticks,thp.collapses",
	.tables = mem_iv_tables,
	.prune = mem_prune,
};

const struct ls_module_ops ls_mod_memory = {
	.name = "memory",
	.title = "MEMORY STALL PROFILER",
	.summary = "minor/major page faults per process and second, TLB shootdowns and their "
	    "senders, reclaim and compaction stalls, NUMA and THP activity",
	.thresholds = mem_thresholds,
	.maps = mem_maps,
	.prepare = mem_prepare,
	.setup = mem_setup,
	.rec_size = sizeof(struct mem_stall_event),
	.record = mem_record,
	.rec_key = mem_key,
	.worst_n = MEM_WORST,
	.tick = mem_tick,
	.collect = mem_collect,
	.events = mem_events,
	.judge = mem_judge,
	.interval = &mem_interval,
};
