// SPDX-License-Identifier: GPL-2.0-only
/*
 * noise.c - BPF side of the Kernel Noise module: what the kernel itself
 * runs on the monitored CPUs, per CPU and per function: timer and hrtimer
 * callbacks, workqueue items, cross-CPU function calls and NMI handlers,
 * each counted and timed from its entry to its exit tracepoint; and the
 * tick's attempts to stop on nohz_full CPUs, with the dependencies that
 * kept it running. The tick itself is an hrtimer callback
 * (tick_sched_timer), so it is counted like any other.
 *
 * A hash update per call (~275 ns here) on events that are themselves the
 * noise being measured; nothing runs on the scheduler's or syscalls' paths.
 * Entry and exit are matched by the object they run (timer, work, csd), so
 * an exit whose entry came before the run, or a work item that slept while
 * another ran on its CPU, is counted but not timed.
 */
#include "latencyscope.h"
#include "noise.h"

BPF_PERCPU_ARRAY(noise_cpus, struct noise_cpu, 1);
BPF_HASH(noise_fns, struct noise_key, struct noise_val, 4096);

/* noise_here - this CPU's state, NULL when the CPU is not monitored */
static __always_inline struct noise_cpu *noise_here(void)
{
	u32 zero = 0;

	if (!ls_enabled() || !LS_CPU_MATCH(bpf_get_smp_processor_id()))
		return 0;
	return noise_cpus.lookup(&zero);
}

/* noise_start - kind's call of fn on obj begins: counted now, timed at its end */
static __always_inline void noise_start(u32 kind, u64 obj, u64 fn)
{
	struct noise_cpu *c = noise_here();
	struct noise_key k = { .function = fn, .kind = kind };
	struct noise_val *v;

	if (!c || kind >= NOISE_NR_KINDS)
		return;
	k.cpu = bpf_get_smp_processor_id();
	v = noise_fns.lookup(&k);
	if (!v) {
		struct noise_val init = {};

		noise_fns.insert(&k, &init);
		v = noise_fns.lookup(&k);
	}
	if (!v) {
		c->full++;
		return;
	}
	v->count++;	/* this CPU's own key: no other CPU writes it */
	c->start[kind] = bpf_ktime_get_ns();
	c->obj[kind] = obj;
	c->fn[kind] = fn;
}

/* noise_end - kind's call on obj ends: its time, when its start was seen on this CPU */
static __always_inline void noise_end(u32 kind, u64 obj, u64 now)
{
	struct noise_cpu *c = noise_here();
	struct noise_key k = { .kind = kind };
	struct noise_val *v;
	u64 d;

	if (!c || kind >= NOISE_NR_KINDS || !c->start[kind] || c->obj[kind] != obj)
		return;
	d = now - c->start[kind];
	c->start[kind] = 0;
	k.function = c->fn[kind];
	k.cpu = bpf_get_smp_processor_id();
	v = noise_fns.lookup(&k);
	if (!v)
		return;
	v->timed++;
	v->total_ns += d;
	if (d > v->max_ns)
		v->max_ns = d;
}

TRACEPOINT_PROBE(timer, timer_expire_entry)
{
	noise_start(NOISE_TIMER, (u64)args->timer, (u64)args->function);
	return 0;
}

TRACEPOINT_PROBE(timer, timer_expire_exit)
{
	noise_end(NOISE_TIMER, (u64)args->timer, bpf_ktime_get_ns());
	return 0;
}

TRACEPOINT_PROBE(timer, hrtimer_expire_entry)
{
	noise_start(NOISE_HRTIMER, (u64)args->hrtimer, (u64)args->function);
	return 0;
}

TRACEPOINT_PROBE(timer, hrtimer_expire_exit)
{
	noise_end(NOISE_HRTIMER, (u64)args->hrtimer, bpf_ktime_get_ns());
	return 0;
}

TRACEPOINT_PROBE(workqueue, workqueue_execute_start)
{
	noise_start(NOISE_WORK, (u64)args->work, (u64)args->function);
	return 0;
}

TRACEPOINT_PROBE(workqueue, workqueue_execute_end)
{
	noise_end(NOISE_WORK, (u64)args->work, bpf_ktime_get_ns());
	return 0;
}

/* csd: since 6.3 */
#ifdef LS_HAVE_TP_csd__csd_function_entry
TRACEPOINT_PROBE(csd, csd_function_entry)
{
	noise_start(NOISE_CSD, (u64)args->csd, (u64)args->func);
	return 0;
}
#endif

#ifdef LS_HAVE_TP_csd__csd_function_exit
TRACEPOINT_PROBE(csd, csd_function_exit)
{
	noise_end(NOISE_CSD, (u64)args->csd, bpf_ktime_get_ns());
	return 0;
}
#endif

/* an NMI handler reports its own length once it returned */
#ifdef LS_HAVE_TP_nmi__nmi_handler
TRACEPOINT_PROBE(nmi, nmi_handler)
{
	u64 now = bpf_ktime_get_ns(), d = args->delta_ns > 0 ? (u64)args->delta_ns : 0;
	struct noise_cpu *c = noise_here();

	if (!c)
		return 0;
	noise_start(NOISE_NMI, 0, (u64)args->handler);
	c->start[NOISE_NMI] = now - d;	/* NMIs do not nest: the slot is free again at once */
	noise_end(NOISE_NMI, 0, now);
	return 0;
}
#endif

/* the tick tried to stop (nohz_full, or idle): kept by the dependency bits when it failed */
TRACEPOINT_PROBE(timer, tick_stop)
{
	struct noise_cpu *c = noise_here();
	u32 dep = (u32)args->dependency;

	if (!c)
		return 0;
	if (args->success) {
		c->tick_stopped++;
		return 0;
	}
	c->tick_kept++;
#pragma unroll
	for (int i = 0; i < NOISE_NR_DEPS; i++)
		if (dep & (1u << i))
			c->tick_dep[i]++;
	return 0;
}
