// SPDX-License-Identifier: GPL-2.0-only
/*
 * irq.c - BPF side of the IRQ Storm Detector: hard IRQs, softirqs and the
 * system vectors (/proc/interrupts' LOC, RES, CAL, ...) on the monitored
 * CPUs, and with --pid the time they took from the monitored threads.
 * Reads tracepoint arguments only.
 *
 * The interrupted task is the current task inside an interrupt, so the
 * victim comes from bpf_get_current_pid_tgid(): no sched_switch tracking,
 * nothing added to context switches. Per-CPU state lives in a per-CPU
 * array; hash maps are touched per hard IRQ (its stats) and, with --pid,
 * per interruption of a monitored thread.
 */
#include "latencyscope.h"
#include "irq.h"

BPF_PERCPU_ARRAY(irq_state, struct irq_cpu_state, 1);
BPF_PERCPU_ARRAY(irq_counters, struct irq_counters, 1);
BPF_PERCPU_ARRAY(irq_zero, struct irq_hard_val, 1);	/* zeroed template for inserts */
BPF_HASH(irq_hard, struct irq_key, struct irq_hard_val, 256);
BPF_PERCPU_ARRAY(irq_soft, struct ls_hist, IRQ_NR_SOFTIRQS);
BPF_PERCPU_ARRAY(irq_vec, struct irq_vec_val, IRQ_NR_VECTORS);
BPF_HASH(irq_stolen, struct irq_stolen_key, struct irq_stolen_val, 4096);
BPF_ARRAY(irq_floor, u64, 1);	/* emit interruptions >= this (set by user space) */

static __always_inline struct irq_counters *irq_cnt(void)
{
	u32 zero = 0;

	return irq_counters.lookup(&zero);
}

/* irq_state_here - this CPU's state, NULL when the CPU is not monitored */
static __always_inline struct irq_cpu_state *irq_state_here(void)
{
	u32 zero = 0;

	if (!ls_enabled() || !LS_CPU_MATCH(bpf_get_smp_processor_id()))
		return 0;
	return irq_state.lookup(&zero);
}

/* irq_hard_enter - a hard IRQ or vector starts, maybe a new interruption */
static __always_inline void irq_hard_enter(struct irq_cpu_state *s, u32 kind, u32 id, u64 now)
{
	s->hard_start = now;
	s->hard_kind = kind;
	s->hard_id = id;
	if (!s->soft.active && (s->chain_start == 0 || now - s->chain_end > IRQ_CHAIN_GAP_NS)) {
		s->chain_start = now;
		s->chain_kind = kind;
		s->chain_id = id;
		s->chain_soft = 0;
	}
}

/*
 * irq_victim - d ns of (kind, id) ran on top of the current task: charge it
 * to a monitored thread and report the interruption when it is long
 */
static __always_inline void irq_victim(void *ctx, struct irq_cpu_state *s, u32 kind, u32 id,
    u64 d, u64 now)
{
	u64 pid_tgid = bpf_get_current_pid_tgid(), *floor, start;
	u32 tid = (u32)pid_tgid, tgid = pid_tgid >> 32, zero = 0;

	if (tid == 0 || !LS_MONITORED(tgid))
		return;	/* the idle task loses nothing */
#ifdef LS_PID_FILTER
	{
		struct irq_stolen_key k = { .tid = tid, .kind = kind, .id = id };
		struct irq_stolen_val *v = irq_stolen.lookup(&k);

		if (!v) {
			struct irq_stolen_val init = { .tgid = tgid };

			bpf_get_current_comm(init.comm, sizeof(init.comm));
			irq_stolen.insert(&k, &init);
			v = irq_stolen.lookup(&k);
		}
		if (v) {
			__sync_fetch_and_add(&v->count, 1);
			__sync_fetch_and_add(&v->time_ns, d);
			if (d > v->max_ns)
				v->max_ns = d;
		} else {
			struct irq_counters *c = irq_cnt();

			if (c)
				c->stolen_full++;
		}
	}
#endif
	/*
	 * Softirq probes run with interrupts on: an IRQ arriving in the middle
	 * of this one may open a chain that starts after `now`. Read the start
	 * once and leave such an interleaving out.
	 */
	start = *(volatile u64 *)&s->chain_start;
	floor = irq_floor.lookup(&zero);
	if (floor && start && start <= now && now - start >= *floor) {
		struct irq_event ev = {};

		ev.start = start;
		ev.duration_ns = now - start;
		ev.cpu = bpf_get_smp_processor_id();
		ev.tid = tid;
		ev.tgid = tgid;
		ev.kind = s->chain_kind;
		ev.id = s->chain_id;
		ev.soft_mask = s->chain_soft;
		bpf_get_current_comm(ev.comm, sizeof(ev.comm));
		ls_emit(ctx, &ev, sizeof(ev));
	}
}

/* irq_hard_exit - a hard IRQ or vector ends: its duration, or 0 if its entry was not seen */
static __always_inline u64 irq_hard_exit(void *ctx, struct irq_cpu_state *s, u32 kind, u32 id, u64 now)
{
	u64 d;

	if (s->hard_kind != kind || s->hard_id != id || !s->hard_start) {
		struct irq_counters *c = irq_cnt();

		if (c)
			c->unmatched++;
		return 0;
	}
	d = now - s->hard_start;
	s->hard_start = 0;
	s->hard_kind = 0;
	if (s->soft.active)
		s->soft.nested_ns += d;
	s->chain_end = now;
	s->last_exit_kind = kind;
	irq_victim(ctx, s, kind, id, d, now);
	return d;
}

TRACEPOINT_PROBE(irq, irq_handler_entry)
{
	struct irq_cpu_state *s = irq_state_here();
	struct irq_key k;
	u32 zero = 0;

	if (!s)
		return 0;
	k.irq = args->irq;
	k.cpu = bpf_get_smp_processor_id();
	if (!irq_hard.lookup(&k)) {
		struct irq_hard_val *init = irq_zero.lookup(&zero), *v;

		if (init) {
			irq_hard.insert(&k, init);
			v = irq_hard.lookup(&k);
			if (v)
				TP_DATA_LOC_READ_STR(v->name, name, IRQ_NAME_LEN);
		}
	}
	irq_hard_enter(s, IRQ_K_HARD, args->irq, bpf_ktime_get_ns());
	return 0;
}

TRACEPOINT_PROBE(irq, irq_handler_exit)
{
	struct irq_cpu_state *s = irq_state_here();
	struct irq_hard_val *v;
	struct irq_key k;
	u64 d;

	if (!s)
		return 0;
	d = irq_hard_exit(args, s, IRQ_K_HARD, args->irq, bpf_ktime_get_ns());
	if (!d)
		return 0;
	k.irq = args->irq;
	k.cpu = bpf_get_smp_processor_id();
	v = irq_hard.lookup(&k);
	if (v) {
		ls_hist_add(&v->h, d);
	} else {
		struct irq_counters *c = irq_cnt();

		if (c)
			c->hard_full++;
	}
	return 0;
}

/* softirqs and vectors are raw tracepoints: their one argument is a number */
RAW_TRACEPOINT_PROBE(softirq_entry)
{
	struct irq_cpu_state *s = irq_state_here();
	u32 vec = (u32)ctx->args[0];
	u64 now;

	if (!s || vec >= IRQ_NR_SOFTIRQS)
		return 0;
	now = bpf_ktime_get_ns();
	ls_softirq_enter(&s->soft, vec, now);
	/*
	 * Joins the open chain: the softirqs run on the way out of an IRQ, and
	 * the next vector of the same __do_softirq() pass (a pass runs pending
	 * vectors in ascending order, so a repeat of a vector, as when a task
	 * sends packet after packet with local_bh_enable, starts anew).
	 */
	if (s->chain_start &&
	    ((s->last_exit_kind != IRQ_K_SOFT && now - s->chain_end <= IRQ_SOFT_AFTER_IRQ_NS) ||
	     (s->last_exit_kind == IRQ_K_SOFT && vec > s->last_soft_vec &&
	      now - s->chain_end <= IRQ_CHAIN_GAP_NS))) {
		s->chain_soft |= 1 << vec;
	} else {
		s->chain_start = now;
		s->chain_kind = IRQ_K_SOFT;
		s->chain_id = vec;
		s->chain_soft = 1 << vec;
	}
	return 0;
}

RAW_TRACEPOINT_PROBE(softirq_exit)
{
	struct irq_cpu_state *s = irq_state_here();
	u32 vec = (u32)ctx->args[0];
	struct ls_hist *h;
	u64 now, d;

	if (!s || vec >= IRQ_NR_SOFTIRQS)
		return 0;
	now = bpf_ktime_get_ns();
	d = ls_softirq_exit(&s->soft, vec, now);
	if (!d) {
		struct irq_counters *c = irq_cnt();

		if (c)
			c->unmatched++;
		return 0;
	}
	s->chain_end = now;
	s->last_exit_kind = IRQ_K_SOFT;
	s->last_soft_vec = vec;
	h = irq_soft.lookup(&vec);
	if (h)
		ls_hist_add(h, d);
	irq_victim(ctx, s, IRQ_K_SOFT, vec, d, now);
	return 0;
}

/*
 * System vectors: the same bookkeeping as hard IRQs, stats in a per-CPU
 * array. irq_work has tracepoints too, but the kernel refuses BPF on them
 * (perf itself runs from irq_work), so IWI is not measured.
 */
static __always_inline int irq_vec_enter(u32 id)
{
	struct irq_cpu_state *s = irq_state_here();

	if (s)
		irq_hard_enter(s, IRQ_K_VECTOR, id, bpf_ktime_get_ns());
	return 0;
}

static __always_inline int irq_vec_exit(void *ctx, u32 id)
{
	struct irq_cpu_state *s = irq_state_here();
	struct irq_vec_val *v;
	u64 d;

	if (!s)
		return 0;
	d = irq_hard_exit(ctx, s, IRQ_K_VECTOR, id, bpf_ktime_get_ns());
	v = irq_vec.lookup(&id);
	if (!d || !v)
		return 0;
	v->count++;
	v->time_ns += d;
	if (d > v->max_ns)
		v->max_ns = d;
	return 0;
}

#ifdef LS_HAVE_TP_irq_vectors__local_timer_entry
RAW_TRACEPOINT_PROBE(local_timer_entry)
{
	return irq_vec_enter(IRQ_V_LOCAL_TIMER);
}
#endif
#ifdef LS_HAVE_TP_irq_vectors__local_timer_exit
RAW_TRACEPOINT_PROBE(local_timer_exit)
{
	return irq_vec_exit(ctx, IRQ_V_LOCAL_TIMER);
}
#endif

#ifdef LS_HAVE_TP_irq_vectors__reschedule_entry
RAW_TRACEPOINT_PROBE(reschedule_entry)
{
	return irq_vec_enter(IRQ_V_RESCHEDULE);
}
#endif
#ifdef LS_HAVE_TP_irq_vectors__reschedule_exit
RAW_TRACEPOINT_PROBE(reschedule_exit)
{
	return irq_vec_exit(ctx, IRQ_V_RESCHEDULE);
}
#endif

#ifdef LS_HAVE_TP_irq_vectors__call_function_entry
RAW_TRACEPOINT_PROBE(call_function_entry)
{
	return irq_vec_enter(IRQ_V_CALL_FUNCTION);
}
#endif
#ifdef LS_HAVE_TP_irq_vectors__call_function_exit
RAW_TRACEPOINT_PROBE(call_function_exit)
{
	return irq_vec_exit(ctx, IRQ_V_CALL_FUNCTION);
}
#endif

#ifdef LS_HAVE_TP_irq_vectors__call_function_single_entry
RAW_TRACEPOINT_PROBE(call_function_single_entry)
{
	return irq_vec_enter(IRQ_V_CALL_FUNCTION_SINGLE);
}
#endif
#ifdef LS_HAVE_TP_irq_vectors__call_function_single_exit
RAW_TRACEPOINT_PROBE(call_function_single_exit)
{
	return irq_vec_exit(ctx, IRQ_V_CALL_FUNCTION_SINGLE);
}
#endif


#ifdef LS_HAVE_TP_irq_vectors__thermal_apic_entry
RAW_TRACEPOINT_PROBE(thermal_apic_entry)
{
	return irq_vec_enter(IRQ_V_THERMAL_APIC);
}
#endif
#ifdef LS_HAVE_TP_irq_vectors__thermal_apic_exit
RAW_TRACEPOINT_PROBE(thermal_apic_exit)
{
	return irq_vec_exit(ctx, IRQ_V_THERMAL_APIC);
}
#endif

#ifdef LS_HAVE_TP_irq_vectors__spurious_apic_entry
RAW_TRACEPOINT_PROBE(spurious_apic_entry)
{
	return irq_vec_enter(IRQ_V_SPURIOUS_APIC);
}
#endif
#ifdef LS_HAVE_TP_irq_vectors__spurious_apic_exit
RAW_TRACEPOINT_PROBE(spurious_apic_exit)
{
	return irq_vec_exit(ctx, IRQ_V_SPURIOUS_APIC);
}
#endif

#ifdef LS_HAVE_TP_irq_vectors__error_apic_entry
RAW_TRACEPOINT_PROBE(error_apic_entry)
{
	return irq_vec_enter(IRQ_V_ERROR_APIC);
}
#endif
#ifdef LS_HAVE_TP_irq_vectors__error_apic_exit
RAW_TRACEPOINT_PROBE(error_apic_exit)
{
	return irq_vec_exit(ctx, IRQ_V_ERROR_APIC);
}
#endif

#ifdef LS_HAVE_TP_irq_vectors__x86_platform_ipi_entry
RAW_TRACEPOINT_PROBE(x86_platform_ipi_entry)
{
	return irq_vec_enter(IRQ_V_X86_PLATFORM_IPI);
}
#endif
#ifdef LS_HAVE_TP_irq_vectors__x86_platform_ipi_exit
RAW_TRACEPOINT_PROBE(x86_platform_ipi_exit)
{
	return irq_vec_exit(ctx, IRQ_V_X86_PLATFORM_IPI);
}
#endif

#ifdef LS_HAVE_TP_irq_vectors__threshold_apic_entry
RAW_TRACEPOINT_PROBE(threshold_apic_entry)
{
	return irq_vec_enter(IRQ_V_THRESHOLD_APIC);
}
#endif
#ifdef LS_HAVE_TP_irq_vectors__threshold_apic_exit
RAW_TRACEPOINT_PROBE(threshold_apic_exit)
{
	return irq_vec_exit(ctx, IRQ_V_THRESHOLD_APIC);
}
#endif

#ifdef LS_HAVE_TP_irq_vectors__deferred_error_apic_entry
RAW_TRACEPOINT_PROBE(deferred_error_apic_entry)
{
	return irq_vec_enter(IRQ_V_DEFERRED_ERROR_APIC);
}
#endif
#ifdef LS_HAVE_TP_irq_vectors__deferred_error_apic_exit
RAW_TRACEPOINT_PROBE(deferred_error_apic_exit)
{
	return irq_vec_exit(ctx, IRQ_V_DEFERRED_ERROR_APIC);
}
#endif
