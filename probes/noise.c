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
/* by work address; least recently queued dropped first (work that ran elsewhere) */
BPF_TABLE("lru_hash", u64, struct noise_queued, noise_queued, 2048);
BPF_ARRAY(noise_freq, struct noise_freq, NOISE_MAX_CPUS);	/* by CPU */

/* noise_here - this CPU's state, NULL when the CPU is not monitored */
static __always_inline struct noise_cpu *noise_here(void)
{
	u32 zero = 0;

	if (!ls_enabled() || !LS_CPU_MATCH(bpf_get_smp_processor_id()))
		return 0;
	return noise_cpus.lookup(&zero);
}

/*
 * noise_gap - the time since the function's last call. Its sum and the sum
 * of its squares give the gaps' mean and spread: a periodic timer's gaps
 * are all near the mean, even when one call is late (the next is then early).
 * Squares are of 1024 ns units (a shift: no division on every callback),
 * capped so one fits, and their sum saturates.
 */
static __always_inline void noise_gap(struct noise_val *v, u64 now)
{
	u64 gap = now - v->last_ns, u, sq;

	if (v->last_ns && now > v->last_ns) {
		u = gap >> 10;
		if (u > (1ULL << 31))
			u = 1ULL << 31;
		sq = v->gap_sq + u * u;
		v->gap_sq = sq < v->gap_sq ? ~0ULL : sq;
		v->gap_sum += gap;
	}
	v->last_ns = now;
}

/* noise_fn - the function's entry on this CPU, created on first sight; NULL when full */
static __always_inline struct noise_val *noise_fn(struct noise_cpu *c, struct noise_key *k)
{
	struct noise_val *v = noise_fns.lookup(k);

	if (!v) {
		struct noise_val init = {};

		noise_fns.insert(k, &init);
		v = noise_fns.lookup(k);
	}
	if (!v)
		c->full++;
	return v;
}

/* noise_start - kind's call of fn on obj begins: counted now, timed at its end */
static __always_inline struct noise_val *noise_start(u32 kind, u64 obj, u64 fn)
{
	struct noise_cpu *c = noise_here();
	struct noise_key k = { .function = fn, .kind = kind };
	struct noise_val *v;
	u64 now;

	if (!c || kind >= NOISE_NR_KINDS)
		return 0;
	k.cpu = bpf_get_smp_processor_id();
	if (!(v = noise_fn(c, &k)))
		return 0;
	now = bpf_ktime_get_ns();
	v->count++;	/* this CPU's own key: no other CPU writes it */
	noise_gap(v, now);
	c->start[kind] = now;
	c->obj[kind] = obj;
	c->fn[kind] = fn;
	return v;
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

/*
 * The workqueue's name is only in the queueing event, as a string since
 * 5.19 (NOISE_WQ_NAME, from the format file): kept by work address for
 * work bound to a monitored CPU or unbound (cpu < 0), until it runs.
 */
#ifdef NOISE_WQ_NAME
TRACEPOINT_PROBE(workqueue, workqueue_queue_work)
{
	struct noise_queued q = {};
	u64 work = (u64)args->work;

	if (!ls_enabled() || (args->cpu >= 0 && !LS_CPU_MATCH(args->cpu)))
		return 0;
	TP_DATA_LOC_READ_STR(q.wq, workqueue, NOISE_WQ_LEN);
	noise_queued.update(&work, &q);
	return 0;
}
#endif

TRACEPOINT_PROBE(workqueue, workqueue_execute_start)
{
	u64 work = (u64)args->work;
	struct noise_val *v = noise_start(NOISE_WORK, work, (u64)args->function);
#ifdef NOISE_WQ_NAME
	struct noise_queued *q = v ? noise_queued.lookup(&work) : 0;

	if (q && !v->wq[0])
		__builtin_memcpy(v->wq, q->wq, NOISE_WQ_LEN);
#endif
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

/* idle: the state entered (an index into cpuidle's states) until the exit event */
TRACEPOINT_PROBE(power, cpu_idle)
{
	struct noise_cpu *c = noise_here();
	u32 state = (u32)args->state;
	u64 now, i;

	if (!c)
		return 0;
	now = bpf_ktime_get_ns();
	if (state != NOISE_IDLE_EXIT) {
		c->idle_state = state < NOISE_NR_CSTATES ? state : NOISE_NR_CSTATES - 1;
		c->idle_start = now;
		return 0;
	}
	i = c->idle_state;
	if (c->idle_start && i < NOISE_NR_CSTATES) {
		c->idle_entries[i]++;
		c->idle_ns[i] += now - c->idle_start;
	}
	c->idle_start = 0;
	return 0;
}

TRACEPOINT_PROBE(power, cpu_frequency)
{
	u32 cpu = (u32)args->cpu_id;
	u64 khz = (u32)args->state;
	struct noise_freq *f;

	if (!ls_enabled() || !LS_CPU_MATCH(cpu) || !(f = noise_freq.lookup(&cpu)))
		return 0;
	__sync_fetch_and_add(&f->changes, 1);
	if (!f->min_khz || khz < f->min_khz)
		f->min_khz = khz;
	if (khz > f->max_khz)
		f->max_khz = khz;
	return 0;
}

/*
 * RCU's own work on the CPU: rcu_core() (callbacks, grace-period
 * bookkeeping), between the "Start RCU core" and "End RCU core" marks of
 * rcu:rcu_utilization, the one RCU tracepoint kernels have without
 * CONFIG_RCU_TRACE. The mark is a string constant: a few bytes tell them apart.
 */
#ifdef LS_HAVE_TP_rcu__rcu_utilization
TRACEPOINT_PROBE(rcu, rcu_utilization)
{
	struct noise_cpu *c = noise_here();
	char m[12] = {};
	u64 now, d;

	if (!c)
		return 0;
	bpf_probe_read_kernel(m, sizeof(m), (void *)args->s);
	now = bpf_ktime_get_ns();
	if (m[0] == 'S' && m[6] == 'R' && m[7] == 'C' && m[8] == 'U' && m[10] == 'c') {
		c->rcu_start = now;	/* "Start RCU core" */
	} else if (m[0] == 'E' && m[4] == 'R' && m[5] == 'C' && m[6] == 'U' && m[8] == 'c' &&
	    c->rcu_start) {
		d = now - c->rcu_start;	/* "End RCU core" */
		c->rcu_start = 0;
		c->rcu_count++;
		c->rcu_ns += d;
		if (d > c->rcu_max_ns)
			c->rcu_max_ns = d;
	}
	return 0;
}
#endif

/* noise_kept_task - note the running task when SCHED kept the tick (the first few) */
static __always_inline void noise_kept_task(struct noise_cpu *c)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = (u32)id;

	if (!tid)
		return;
#pragma unroll
	for (int i = 0; i < NOISE_KEPT_TASKS; i++) {
		if (c->kept_tasks[i].tid == tid)
			return;
		if (!c->kept_tasks[i].tid) {
			c->kept_tasks[i].tid = tid;
			c->kept_tasks[i].tgid = id >> 32;
			bpf_get_current_comm(c->kept_tasks[i].comm, sizeof(c->kept_tasks[i].comm));
			return;
		}
	}
}

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
	if (dep & (1u << NOISE_DEP_SCHED))	/* it runs in the interrupt's exit: current ran */
		noise_kept_task(c);
	return 0;
}
