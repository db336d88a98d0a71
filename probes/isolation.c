// SPDX-License-Identifier: GPL-2.0-only
/*
 * isolation.c - BPF side of the Isolation Verifier: context switches,
 * preemptions and their culprits, migrations and runqueue latency on the
 * monitored CPUs / processes. Reads tracepoint arguments only.
 *
 * Hot path (sched_switch): per-CPU and index-addressed array slots; hash
 * maps are touched only for monitored tasks and culprits.
 */
#include "latencyscope.h"
#include "isolation.h"

BPF_PERCPU_ARRAY(iso_counters, struct iso_counters, 1);
BPF_PERCPU_ARRAY(iso_runq, struct ls_hist, 1);
BPF_ARRAY(iso_cpu, struct iso_cpu, LS_NR_CPUS);
BPF_ARRAY(iso_wake, u64, LS_PID_MAX);	/* tid -> start of runqueue wait */
BPF_ARRAY(iso_floor, u64, 1);		/* emit latencies >= this (set by user space) */
BPF_HASH(iso_tasks, u32, struct iso_task, 10240);
BPF_HASH(iso_culprits, u32, struct iso_culprit, 4096);
#ifdef LS_TIMELINE
BPF_ARRAY(iso_wakers, u32, LS_PID_MAX);	/* wakee tid -> waker tid (its name: user space) */
#endif

/*
 * Which switches are itemised per task: with --pid every switch of the
 * monitored processes; without, only preemptions (every task on the CPUs
 * would put a hash lookup on each switch).
 */
#ifdef LS_PID_FILTER
#define ISO_ITEMISE(voluntary) 1
#else
#define ISO_ITEMISE(voluntary) (!(voluntary))
#endif

/* iso_task_get - the stats slot of a monitored task, created on first sight */
static __always_inline struct iso_task *iso_task_get(u32 tid, u32 tgid, const char *comm,
    struct iso_counters *c)
{
	struct iso_task *t = iso_tasks.lookup(&tid);

	if (!t) {
		struct iso_task zero = {};

		zero.tgid = tgid;
		__builtin_memcpy(zero.comm, comm, ISO_COMM_LEN);
		iso_tasks.insert(&tid, &zero);
		t = iso_tasks.lookup(&tid);
		if (!t)
			c->tasks_full++;
	}
	return t;
}

/* iso_charge - prev held the CPU while a preempted monitored task waited */
static __always_inline void iso_charge(u32 tid, const char *comm, u64 ns, struct iso_counters *c)
{
	struct iso_culprit *k = iso_culprits.lookup(&tid);

	if (!k) {
		struct iso_culprit zero = {};

		__builtin_memcpy(zero.comm, comm, ISO_COMM_LEN);
		iso_culprits.insert(&tid, &zero);
		k = iso_culprits.lookup(&tid);
		if (!k) {
			c->culprits_full++;
			return;
		}
	}
	k->count++;
	k->time_ns += ns;
}

TRACEPOINT_PROBE(sched, sched_switch)
{
	u32 zero = 0, cpu = bpf_get_smp_processor_id();
	u32 prev = args->prev_pid, next = args->next_pid;
	struct iso_counters *c;
	struct iso_cpu *st;
	struct iso_task *t;
	int voluntary, prev_mon, next_mon;
	u64 now, *ts;

	if (!ls_enabled())
		return 0;
	ls_tid_learn(prev, bpf_get_current_pid_tgid() >> 32);
	if (!LS_CPU_MATCH(cpu))
		return 0;
	c = iso_counters.lookup(&zero);
	st = iso_cpu.lookup(&cpu);
	if (!c || !st)
		return 0;
	now = bpf_ktime_get_ns();

	/* prev_state: low byte = blocked state; preemption shows as running (0) or TASK_REPORT_MAX */
	voluntary = (args->prev_state & 0xff) != 0;
	c->switches++;
	if (prev == 0 || next == 0)
		c->idle++;
	else if (voluntary)
		c->voluntary++;
	else
		c->involuntary++;

	/* a preempted monitored task waits here: prev held the CPU meanwhile */
	if (st->victim && st->victim != prev && prev != 0)
		iso_charge(prev, args->prev_comm, now - st->last_switch, c);

	prev_mon = prev != 0 && ls_current_match();
	if (prev_mon && ISO_ITEMISE(voluntary) &&
	    (t = iso_task_get(prev, bpf_get_current_pid_tgid() >> 32, args->prev_comm, c))) {
		if (voluntary) {
			t->voluntary++;
		} else {
			t->involuntary++;
			if (next != 0) {
				t->preempted++;
				c->target_preempted++;
				st->victim = prev;
			}
		}
	}
#if defined(LS_TIMELINE) && defined(LS_PID_FILTER)
	/* the timeline draws the monitored threads running, not only what stopped them */
	if (prev_mon && st->last_switch && now - st->last_switch >= LS_TRACE_THRESHOLD_NS) {
		struct iso_event ev = {};

		ev.kind = ISO_EV_RUN;
		ev.ts = now;
		ev.latency_ns = now - st->last_switch;
		ev.cpu = cpu;
		ev.victim = prev;
		bpf_get_current_comm(ev.victim_comm, sizeof(ev.victim_comm));	/* prev is current */
		ls_emit(args, &ev, sizeof(ev));
	}
#endif
	/* a preempted task is still runnable: its runqueue wait starts now */
	if (prev_mon && !voluntary && (ts = iso_wake.lookup(&prev))) {
		*ts = now;
#ifdef LS_TIMELINE
		{
			u32 *w = iso_wakers.lookup(&prev);

			if (w)
				*w = 0;	/* preempted: nobody woke it */
		}
#endif
	}

	if (next == st->victim)
		st->victim = 0;
	next_mon = ls_tid_match(next);
#ifdef LS_PID_FILTER
	if (next != 0 && !next_mon)
		c->foreign_runs++;
#endif
	if (next_mon && (ts = iso_wake.lookup(&next)) && *ts) {
		u64 lat = now - *ts, *floor = iso_floor.lookup(&zero);
		struct ls_hist *h = iso_runq.lookup(&zero);

		*ts = 0;
		if (h)
			ls_hist_add(h, lat);
		if (floor && lat >= *floor) {
			struct iso_event ev = {};

			ev.ts = now;
			ev.latency_ns = lat;
			ev.cpu = cpu;
			ev.victim = next;
			ev.culprit = prev;
			__builtin_memcpy(ev.victim_comm, args->next_comm, ISO_COMM_LEN);
			__builtin_memcpy(ev.culprit_comm, args->prev_comm, ISO_COMM_LEN);
#ifdef LS_TIMELINE
			{
				u32 *w = iso_wakers.lookup(&next);

				if (w)
					ev.waker = *w;
			}
#endif
			ls_emit(args, &ev, sizeof(ev));
		}
	}
	st->last_switch = now;
	return 0;
}

/* iso_wakeup - a monitored task became runnable on a monitored CPU */
static __always_inline int iso_wakeup(u32 pid, int target_cpu)
{
	u32 zero = 0;
	struct iso_counters *c;
	u64 *ts;

	if (!ls_enabled() || !LS_CPU_MATCH(target_cpu) || !ls_tid_match(pid))
		return 0;
	ts = iso_wake.lookup(&pid);
	if (ts)
		*ts = bpf_ktime_get_ns();
#ifdef LS_TIMELINE
	{
		u32 *w = iso_wakers.lookup(&pid);

		if (w)	/* the waker is the current task (or the one an IRQ interrupted) */
			*w = (u32)bpf_get_current_pid_tgid();
	}
#endif
	c = iso_counters.lookup(&zero);
	if (c)
		c->wakeups++;
	return 0;
}

TRACEPOINT_PROBE(sched, sched_wakeup)
{
	return iso_wakeup(args->pid, args->target_cpu);
}

TRACEPOINT_PROBE(sched, sched_wakeup_new)
{
	return iso_wakeup(args->pid, args->target_cpu);
}

TRACEPOINT_PROBE(sched, sched_migrate_task)
{
	u32 zero = 0, pid = args->pid;
	int from = args->orig_cpu, to = args->dest_cpu;
	struct iso_counters *c;
	struct iso_task *t;
	struct iso_cpu *st;
	u64 *ts;

	if (!ls_enabled() || (!(LS_CPU_MATCH(from)) && !(LS_CPU_MATCH(to))))
		return 0;
	if (!ls_tid_match(pid))
		return 0;
	c = iso_counters.lookup(&zero);
	if (!c)
		return 0;
	c->migrations++;
#ifdef LS_TIMELINE
	{
		struct iso_event ev = {};

		ev.kind = ISO_EV_MIGRATE;
		ev.ts = bpf_ktime_get_ns();
		ev.cpu = from;
		ev.culprit = to;
		ev.victim = pid;	/* the name: not an argument on every kernel (user space reads it) */
		ls_emit(args, &ev, sizeof(ev));
	}
#endif
	t = iso_tasks.lookup(&pid);	/* tasks itemised by sched_switch only */
	if (t)
		t->migrations++;
	if (LS_CPU_MATCH(from) && !(LS_CPU_MATCH(to))) {
		c->migrated_off++;
		if (t)
			t->migrated_off++;
		/* its wait continues where this module does not look */
		ts = iso_wake.lookup(&pid);
		if (ts)
			*ts = 0;
	}
	st = iso_cpu.lookup((u32 *)&from);
	if (st && st->victim == pid)
		st->victim = 0;
	return 0;
}

#ifdef LS_PID_FILTER
/* a task forked by a monitored process belongs to it until it first runs */
TRACEPOINT_PROBE(sched, sched_process_fork)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 child = args->child_pid;

	if (ls_enabled() && LS_PID_MATCH((u32)(id >> 32)))
		ls_tid_learn(child, id >> 32);
	return 0;
}
#endif

/*
 * A launcher (taskset, numactl, chrt, a shell) execs the program it starts:
 * the task keeps its tid and takes the program's name, in every table.
 */
TRACEPOINT_PROBE(sched, sched_process_exec)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct iso_task *t = iso_tasks.lookup(&tid);
	struct iso_culprit *k = iso_culprits.lookup(&tid);

	if (t)
		bpf_get_current_comm(t->comm, sizeof(t->comm));
	if (k)
		bpf_get_current_comm(k->comm, sizeof(k->comm));
	return 0;
}
