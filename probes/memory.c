// SPDX-License-Identifier: GPL-2.0-only
/*
 * memory.c - BPF side of the Memory Stall Profiler: page faults (minor and
 * major, per process and CPU, per second), TLB flushes by reason, who sends
 * IPIs to the monitored CPUs, direct reclaim and compaction stalls, page
 * migrations and NUMA balancing moves. Reads tracepoint arguments and perf
 * sample data only.
 *
 * Faults are counted at the trap where the kernel has the exceptions
 * tracepoints (x86: page_fault_user, a raw tracepoint: the cheapest hook on
 * the path, ~90 ns per fault less than a software perf event, whose
 * overflow path runs before the program); a system call's faults on user
 * memory by the page-faults software event in kernel mode only. The trap does not tell minor from major: the kernel's
 * major-faults software event, where it accounts /proc/<pid>/stat's majflt
 * (mm_account_fault), runs a program per major fault, and minor = faults -
 * major. A trap the kernel rejects (a segfault, a system call's -EFAULT)
 * counts as a minor fault here and not in minflt: it costs the thread a
 * trap all the same. Without those tracepoints (other architectures) the
 * minor-faults software event counts the rest. Hot path: a store to the
 * thread's array slot, one array slot per process and one per-CPU counter;
 * user space reads the counters every 100 ms for the per-second series.
 */
#include "latencyscope.h"
#include "memory.h"

BPF_ARRAY(mem_procs, struct mem_proc, MEM_NSLOTS);
BPF_PERCPU_ARRAY(mem_cpu, struct mem_cpu, 1);
BPF_ARRAY(mem_major_cpu, u64, LS_NR_CPUS);	/* major faults by the CPU they trapped on */
#ifdef LS_HAVE_TP_exceptions__page_fault_user
BPF_ARRAY(mem_trap_cpu, u64, MEM_NSLOTS);	/* tid slot -> tid << 32 | CPU of its last trap */
#endif
BPF_PERCPU_ARRAY(mem_stall_hist, struct ls_hist, MEM_NR_STALLS);
BPF_HASH(mem_stall_begin, u32, u64, 4096);	/* tid -> stall start */
BPF_HASH(mem_ipis, struct mem_ipi_key, struct mem_ipi_val, 1024);

static __always_inline struct mem_cpu *mem_cpu_here(void)
{
	u32 zero = 0;

	return mem_cpu.lookup(&zero);
}

/* mem_count - a fault of process tgid: every fault, and whether it was major */
static __always_inline void mem_count(u32 tgid, struct mem_cpu *c, int fault, int major)
{
	u32 slot = tgid & (MEM_NSLOTS - 1);
	struct mem_proc *pr = mem_procs.lookup(&slot);

	if (!pr)
		return;
	if (pr->tgid != tgid && pr->tgid == 0) {
		pr->tgid = tgid;
		bpf_get_current_comm(pr->comm, sizeof(pr->comm));
	}
	if (pr->tgid == tgid) {
		/* a process may fault before exec() renames it: refresh now and then */
		if ((pr->faults & 1023) == 1)
			bpf_get_current_comm(pr->comm, sizeof(pr->comm));
		if (fault)
			__sync_fetch_and_add(&pr->faults, 1);
		if (major)
			__sync_fetch_and_add(&pr->major, 1);
	} else if (c) {
		c->slot_busy++;
	}
}

/* mem_major_at - a major fault, counted for the CPU where the fault was counted */
static __always_inline void mem_major_at(u32 cpu)
{
	u64 *n = mem_major_cpu.lookup(&cpu);

	if (n)
		__sync_fetch_and_add(n, 1);
}

#ifdef LS_HAVE_TP_exceptions__page_fault_user
/*
 * mem_trap - a page-fault trap of the current task. It runs on every CPU
 * (the CPU filter is ours to apply) and notes the CPU per thread first: a
 * major fault sleeps for its I/O and may finish on another CPU, and it is
 * counted where it trapped, so that minor = faults - major holds per CPU.
 */
static __always_inline int mem_trap(void)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = id, cpu = bpf_get_smp_processor_id(), slot = tid & (MEM_NSLOTS - 1);
	u64 *at = mem_trap_cpu.lookup(&slot);
	struct mem_cpu *c;

	if (!ls_enabled() || tid == 0 || !LS_MONITORED(id >> 32))
		return 0;
	if (at)
		*at = (u64)tid << 32 | cpu;	/* also on a CPU not monitored: see page_faults_maj */
	if (!LS_CPU_MATCH(cpu))
		return 0;
	c = mem_cpu_here();
	if (!c)
		return 0;
	c->faults++;
	mem_count(id >> 32, c, 1, 0);
	return 0;
}

RAW_TRACEPOINT_PROBE(page_fault_user)
{
	return mem_trap();
}

/*
 * A system call's copy to or from a user page not yet there is a fault of
 * its task too. Not at the page_fault_kernel trap: that one also fires for
 * the reads of a task's user stack that a BPF program or perf makes on its
 * behalf (a profiler's stack walk), which the kernel refuses with page
 * faults disabled and never charges to the task. The page-faults software
 * event in kernel mode only is counted after that refusal.
 */
LS_SOFTWARE_EVENT_PROBE(page_faults_kernel)
{
	return mem_trap();
}

/* a major fault whose trap was counted (a monitored CPU), at that CPU */
LS_SOFTWARE_EVENT_PROBE(page_faults_maj)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = id, cpu = bpf_get_smp_processor_id(), slot = tid & (MEM_NSLOTS - 1);
	u64 *at = mem_trap_cpu.lookup(&slot);

	if (!ls_enabled() || tid == 0 || !LS_MONITORED(id >> 32))
		return 0;
	if (at && *at >> 32 == tid) {
		cpu = (u32)*at;
		if (!LS_CPU_MATCH(cpu))
			return 0;
	}
	mem_major_at(cpu);
	mem_count(id >> 32, NULL, 0, 1);
	return 0;
}
#else
/* no trap tracepoints: the kernel's minor and major fault events, on the monitored CPUs */
static __always_inline int mem_accounted(int major)
{
	u64 id = bpf_get_current_pid_tgid();
	struct mem_cpu *c;

	if (!ls_enabled() || (u32)id == 0 || !LS_MONITORED(id >> 32))
		return 0;
	c = mem_cpu_here();
	if (!c)
		return 0;
	c->faults++;
	if (major)
		mem_major_at(bpf_get_smp_processor_id());
	mem_count(id >> 32, c, 1, major);
	return 0;
}

LS_SOFTWARE_EVENT_PROBE(page_faults_min)
{
	return mem_accounted(0);
}

LS_SOFTWARE_EVENT_PROBE(page_faults_maj)
{
	return mem_accounted(1);
}
#endif

/* mem_here - counters of this CPU when it and the current task are monitored */
static __always_inline struct mem_cpu *mem_here(void)
{
	if (!ls_enabled() || !LS_CPU_MATCH(bpf_get_smp_processor_id()) || !ls_current_match())
		return 0;
	return mem_cpu_here();
}

#ifdef LS_HAVE_TP_tlb__tlb_flush
TRACEPOINT_PROBE(tlb, tlb_flush)
{
	struct mem_cpu *c = mem_here();
	u32 reason = args->reason;

	if (!c || reason >= MEM_NR_TLB_REASONS)
		return 0;
	c->tlb[reason]++;
	if (args->pages != (unsigned long)-1)
		c->tlb_pages[reason] += args->pages;
	return 0;
}
#endif

/*
 * The sending CPU's context. An IPI the kernel sends from an interrupt (a
 * timer waking a task on another CPU, the tick) is not the doing of the
 * task it interrupted. The irq and irq_vectors tracepoints mark it: hard
 * and soft interrupts do not nest on a CPU, so one flag each, set at entry
 * and cleared at exit (an exit missed while attaching is mended by the
 * next one). Interrupt rates are low: these cost nothing measurable.
 */
#if defined(LS_HAVE_TP_ipi__ipi_send_cpu) || defined(LS_HAVE_TP_ipi__ipi_send_cpumask)
struct mem_irqctx {
	u32 hard, soft;
};
BPF_PERCPU_ARRAY(mem_irqctx, struct mem_irqctx, 1);

static __always_inline int mem_in_irq(int hard, u32 on)
{
	u32 zero = 0;
	struct mem_irqctx *x = mem_irqctx.lookup(&zero);

	if (x && hard)
		x->hard = on;
	else if (x)
		x->soft = on;
	return 0;
}

#if defined(LS_HAVE_TP_irq__irq_handler_entry) && defined(LS_HAVE_TP_irq__irq_handler_exit)
RAW_TRACEPOINT_PROBE(irq_handler_entry)
{
	return mem_in_irq(1, 1);
}

RAW_TRACEPOINT_PROBE(irq_handler_exit)
{
	return mem_in_irq(1, 0);
}
#endif
#if defined(LS_HAVE_TP_irq__softirq_entry) && defined(LS_HAVE_TP_irq__softirq_exit)
RAW_TRACEPOINT_PROBE(softirq_entry)
{
	return mem_in_irq(0, 1);
}

RAW_TRACEPOINT_PROBE(softirq_exit)
{
	return mem_in_irq(0, 0);
}
#endif
#if defined(LS_HAVE_TP_irq_vectors__local_timer_entry) && defined(LS_HAVE_TP_irq_vectors__local_timer_exit)
RAW_TRACEPOINT_PROBE(local_timer_entry)
{
	return mem_in_irq(1, 1);
}

RAW_TRACEPOINT_PROBE(local_timer_exit)
{
	return mem_in_irq(1, 0);
}
#endif
#if defined(LS_HAVE_TP_irq_vectors__irq_work_entry) && defined(LS_HAVE_TP_irq_vectors__irq_work_exit)
RAW_TRACEPOINT_PROBE(irq_work_entry)
{
	return mem_in_irq(1, 1);
}

RAW_TRACEPOINT_PROBE(irq_work_exit)
{
	return mem_in_irq(1, 0);
}
#endif
#if defined(LS_HAVE_TP_irq_vectors__call_function_entry) && defined(LS_HAVE_TP_irq_vectors__call_function_exit)
RAW_TRACEPOINT_PROBE(call_function_entry)
{
	return mem_in_irq(1, 1);
}

RAW_TRACEPOINT_PROBE(call_function_exit)
{
	return mem_in_irq(1, 0);
}
#endif
#if defined(LS_HAVE_TP_irq_vectors__call_function_single_entry) && defined(LS_HAVE_TP_irq_vectors__call_function_single_exit)
RAW_TRACEPOINT_PROBE(call_function_single_entry)
{
	return mem_in_irq(1, 1);
}

RAW_TRACEPOINT_PROBE(call_function_single_exit)
{
	return mem_in_irq(1, 0);
}
#endif

/* mem_ipi_context - MEM_IPI_TASK, or the interrupt the IPI is sent from */
static __always_inline u32 mem_ipi_context(void)
{
	u32 zero = 0;
	struct mem_irqctx *x = mem_irqctx.lookup(&zero);

	if (!x)
		return MEM_IPI_TASK;
	return x->hard ? MEM_IPI_HARDIRQ : x->soft ? MEM_IPI_SOFTIRQ : MEM_IPI_TASK;
}
#else
#define mem_ipi_context() MEM_IPI_TASK
#endif

/* mem_ipi - count n IPIs sent to monitored CPUs by the current task or an interrupt */
static __always_inline void mem_ipi(u64 callsite, u64 callback, u64 n)
{
	u32 zero = 0;
	struct mem_cpu *c = mem_cpu.lookup(&zero);
	struct mem_ipi_key k = {};
	struct mem_ipi_val *v;

	if (!c || !n)
		return;
	c->ipis_to_monitored += n;
	k.cpu = bpf_get_smp_processor_id();
	k.context = mem_ipi_context();
	if (k.context == MEM_IPI_TASK)
		k.tgid = bpf_get_current_pid_tgid() >> 32;
	k.callsite = callsite;
	k.callback = callback;
	v = mem_ipis.lookup(&k);
	if (!v) {
		struct mem_ipi_val init = {};

		if (k.context == MEM_IPI_TASK)
			bpf_get_current_comm(init.comm, sizeof(init.comm));
		mem_ipis.insert(&k, &init);
		v = mem_ipis.lookup(&k);
	}
	if (v)
		__sync_fetch_and_add(&v->count, n);
	else
		c->ipi_full++;
}

#ifdef LS_HAVE_TP_ipi__ipi_send_cpu
TRACEPOINT_PROBE(ipi, ipi_send_cpu)
{
	if (ls_enabled() && LS_CPU_MATCH(args->cpu))
		mem_ipi((u64)args->callsite, (u64)args->callback, 1);
	return 0;
}
#endif

#ifdef LS_HAVE_TP_ipi__ipi_send_cpumask
/*
 * The targets of a multi-CPU IPI, monitored ones only: the cpumask words
 * ANDed with MEM_MONITORED_WORD<i> (set by the front end), bits counted.
 */
static __always_inline u64 mem_popcount(u64 x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (x * 0x0101010101010101ULL) >> 56;
}

#define MEM_MASK_WORD(i, mon) do { \
	u64 w = 0; \
	if (len >= ((i) + 1) * 8) { \
		bpf_probe_read_kernel(&w, sizeof(w), (char *)args + off + (i) * 8); \
		n += mem_popcount(w & (mon)); \
	} else if (len > (i) * 8) { \
		bpf_probe_read_kernel(&w, 4, (char *)args + off + (i) * 8); \
		n += mem_popcount(w & 0xffffffffULL & (mon)); \
	} \
} while (0)

TRACEPOINT_PROBE(ipi, ipi_send_cpumask)
{
	u32 loc = args->data_loc_cpumask, off = loc & 0xffff, len = loc >> 16;
	u64 n = 0;

	if (!ls_enabled())
		return 0;
	MEM_MASK_WORD(0, MEM_MONITORED_WORD0);
	MEM_MASK_WORD(1, MEM_MONITORED_WORD1);
	MEM_MASK_WORD(2, MEM_MONITORED_WORD2);
	MEM_MASK_WORD(3, MEM_MONITORED_WORD3);
	mem_ipi((u64)args->callsite, (u64)args->callback, n);
	return 0;
}
#endif

/* stalls: begin/end pairs of the same task */
static __always_inline void mem_stall_start(void)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	u64 now = bpf_ktime_get_ns();

	if (mem_here())
		mem_stall_begin.update(&tid, &now);
}

static __always_inline void mem_stall_end(void *ctx, u32 kind, u64 detail)
{
	u64 id = bpf_get_current_pid_tgid(), *t0, now = bpf_ktime_get_ns();
	u32 tid = (u32)id;
	struct mem_stall_event ev = {};
	struct mem_cpu *c = mem_here();
	struct ls_hist *h;

	if (!c)
		return;
	t0 = mem_stall_begin.lookup(&tid);
	if (!t0) {
		c->stall_unmatched++;
		return;
	}
	ev.start = *t0;
	mem_stall_begin.delete(&tid);
	ev.duration_ns = now > ev.start ? now - ev.start : 0;
	h = mem_stall_hist.lookup(&kind);
	if (h)
		ls_hist_add(h, ev.duration_ns);
	ev.tid = tid;
	ev.tgid = id >> 32;
	ev.cpu = bpf_get_smp_processor_id();
	ev.kind = kind;
	ev.detail = detail;
	bpf_get_current_comm(ev.comm, sizeof(ev.comm));
	ls_emit(ctx, &ev, sizeof(ev));	/* stalls are rare and each one matters */
}

#ifdef LS_HAVE_TP_vmscan__mm_vmscan_direct_reclaim_begin
TRACEPOINT_PROBE(vmscan, mm_vmscan_direct_reclaim_begin)
{
	mem_stall_start();
	return 0;
}
#endif
#ifdef LS_HAVE_TP_vmscan__mm_vmscan_direct_reclaim_end
TRACEPOINT_PROBE(vmscan, mm_vmscan_direct_reclaim_end)
{
	mem_stall_end(args, MEM_STALL_RECLAIM, args->nr_reclaimed);
	return 0;
}
#endif
/* a cgroup at its memory limit makes the allocating task reclaim the same way */
#ifdef LS_HAVE_TP_vmscan__mm_vmscan_memcg_reclaim_begin
TRACEPOINT_PROBE(vmscan, mm_vmscan_memcg_reclaim_begin)
{
	mem_stall_start();
	return 0;
}
#endif
#ifdef LS_HAVE_TP_vmscan__mm_vmscan_memcg_reclaim_end
TRACEPOINT_PROBE(vmscan, mm_vmscan_memcg_reclaim_end)
{
	mem_stall_end(args, MEM_STALL_RECLAIM, args->nr_reclaimed);
	return 0;
}
#endif
#ifdef LS_HAVE_TP_compaction__mm_compaction_begin
TRACEPOINT_PROBE(compaction, mm_compaction_begin)
{
	mem_stall_start();
	return 0;
}
#endif
#ifdef LS_HAVE_TP_compaction__mm_compaction_end
TRACEPOINT_PROBE(compaction, mm_compaction_end)
{
	mem_stall_end(args, MEM_STALL_COMPACTION, (u64)(u32)args->status);
	return 0;
}
#endif

/* migrations, NUMA balancing and THP collapses: counted where they happen */
/*
 * A raw tracepoint: (succeeded, failed, ...) lead its arguments on every
 * kernel that has it, and the plain one's format names an enum
 * (migrate_mode) the probe's headers do not define.
 */
#ifdef LS_HAVE_TP_migrate__mm_migrate_pages
RAW_TRACEPOINT_PROBE(mm_migrate_pages)
{
	struct mem_cpu *c = mem_here();

	if (c) {
		c->migrated_pages += ctx->args[0];
		c->migrate_failed += ctx->args[1];
	}
	return 0;
}
#endif
#ifdef LS_HAVE_TP_sched__sched_move_numa
TRACEPOINT_PROBE(sched, sched_move_numa)
{
	struct mem_cpu *c = mem_here();

	if (c)
		c->numa_moves++;
	return 0;
}
#endif
#ifdef LS_HAVE_TP_sched__sched_swap_numa
TRACEPOINT_PROBE(sched, sched_swap_numa)
{
	struct mem_cpu *c = mem_here();

	if (c)
		c->numa_swaps++;
	return 0;
}
#endif
#ifdef LS_HAVE_TP_sched__sched_stick_numa
TRACEPOINT_PROBE(sched, sched_stick_numa)
{
	struct mem_cpu *c = mem_here();

	if (c)
		c->numa_sticks++;
	return 0;
}
#endif
#ifdef LS_HAVE_TP_huge_memory__mm_collapse_huge_page
TRACEPOINT_PROBE(huge_memory, mm_collapse_huge_page)
{
	struct mem_cpu *c = mem_here();

	if (c)
		c->thp_collapses++;
	return 0;
}
#endif
