/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * latencyscope.h - what every probe file includes: filter macros with
 * pass-all defaults, the histogram update, task-to-process tracking and the
 * event channel to user space.
 *
 * libbcc rewrites map calls only in the main file, so the front end splices
 * `#include "..."` of files in the probes directory into the probe's text
 * (with #line directives, so diagnostics still name this file).
 *
 * The front end passes, as -D cflags:
 *	LS_CPU_MATCH(c)		true for a monitored CPU		(default: all)
 *	LS_PID_FILTER		defined when --pid was given: the processes
 *				themselves are bits in the map ls_pidbits
 *	LS_PID_MAX		the kernel's pid_max (tid-indexed arrays)
 *	LS_NR_CPUS		possible CPUs (cpu-indexed arrays)
 *	LS_HAVE_TP_<cat>__<event>	for each tracepoint present in tracefs
 *	LS_HAVE_RINGBUF		when the kernel has BPF ring buffers (5.8+)
 *	LS_TIMELINE, LS_TRACE_THRESHOLD_NS
 *				when a trace format was asked for: emit every
 *				event at or above the threshold
 *	LS_PERF_SAMPLE_PERIOD_OFF, LS_PERF_ADDR_OFF
 *				offsets in struct bpf_perf_event_data
 *	LS_PERF_REGS_SP_OFF, LS_PERF_REGS_BP_OFF, LS_PERF_REGS_CS_OFF
 *				... of the interrupted stack and frame pointers
 *				and code segment (x86-64 only)
 *	LS_BPF			always: headers shared with the front end test it
 *	LS_EVENT_PAGES		pages of the ls_events channel (--trace-buffer)
 * (src/probe-source.c, ls_probe_engine_flags(), is the full list.)
 *
 * Programs are found by name: TRACEPOINT_PROBE(cat, ev) and
 * RAW_TRACEPOINT_PROBE(ev) (libbcc's macros) and LS_SOFTWARE_EVENT_PROBE(ev).
 */
#ifndef LATENCYSCOPE_BPF_H
#define LATENCYSCOPE_BPF_H

#include "ls_hist.h"

#ifndef LS_CPU_MATCH
#define LS_CPU_MATCH(c) 1
#endif
#ifndef LS_PID_MAX
#define LS_PID_MAX 32768
#endif
#ifdef LS_PID_FILTER
/*
 * The monitored processes (--pid), a bit per process id that the front end
 * sets: a map rather than a -D flag, so another process loads the same
 * compiled probe from the cache, and a match is one array lookup the
 * verifier inlines (pid_max bits: 512 KiB at the largest pid_max)
 */
BPF_ARRAY(ls_pidbits, u64, (LS_PID_MAX + 63) / 64);

static __always_inline int ls_pid_match(u32 tgid)
{
	u32 word = tgid >> 6;
	u64 *bits = ls_pidbits.lookup(&word);

	return bits && ((*bits >> (tgid & 63)) & 1);
}
#define LS_PID_MATCH(p) ls_pid_match(p)
#else
#define LS_PID_MATCH(p) 1
#endif
/* LS_MONITORED - a process whose tasks the probes judge: matched, and not the observer */
#define LS_MONITORED(p) (LS_PID_MATCH(p) && !ls_is_self(p))
#ifndef LS_NR_CPUS
#define LS_NR_CPUS 256
#endif
#ifndef LS_EVENT_PAGES
#define LS_EVENT_PAGES 64
#endif

/*
 * LS_SOFTWARE_EVENT_PROBE(name) - a program the front end attaches to the
 * software perf event `name` (page_faults_min, page_faults_maj, page_faults,
 * page_faults_kernel: page_faults in kernel mode only, context_switches,
 * cpu_migrations, cpu_clock, task_clock) on every
 * monitored CPU with a sample period of 1: it runs on each occurrence, in
 * the context of the task that caused it. ctx->addr is the event's address
 * (the faulting address for page faults). cpu_clock and task_clock run at
 * the frequency the module's prepare() puts in p->sample_freq instead.
 */
struct bpf_perf_event_data;
#define LS_SOFTWARE_EVENT_PROBE(name) int ls_swev__##name(struct bpf_perf_event_data *ctx)
/*
 * Its fields by offset (LS_PERF_*_OFF, from the front end's own uapi
 * header): including <uapi/linux/bpf_perf_event.h> here would pull in
 * enough of the kernel's headers to triple every probe's compile time.
 */
#define LS_PERF_SAMPLE_PERIOD(ctx) (*(u64 *)((char *)(ctx) + LS_PERF_SAMPLE_PERIOD_OFF))
#define LS_PERF_ADDR(ctx) (*(u64 *)((char *)(ctx) + LS_PERF_ADDR_OFF))

/*
 * The gate: user space opens it once every program is attached and closes
 * it when the run ends, so all maps describe exactly the same window.
 * Every probe starts with `if (!ls_enabled()) return 0;`.
 */
BPF_ARRAY(ls_gate, u32, 1);
BPF_ARRAY(ls_start, u64, 1);	/* bpf_ktime_get_ns() when the gate opened */

static __always_inline int ls_enabled(void)
{
	u32 zero = 0, *on = ls_gate.lookup(&zero);

	return on && *on;
}

/*
 * latencyscope's own process, never a monitored one: a map the front end
 * sets, not a -D flag, so the compiled probe is the same from run to run
 * and the probe cache can keep it
 */
BPF_ARRAY(ls_self, u32, 1);

static __always_inline int ls_is_self(u32 tgid)
{
	u32 zero = 0, *self = ls_self.lookup(&zero);

	return self && *self == tgid;
}

/*
 * Task -> process. Tracepoints name tasks by thread id only; the process id
 * of the current task comes from bpf_get_current_pid_tgid(). With --pid, a
 * tid-indexed array remembers each task's process: user space seeds the
 * threads that exist at start, sched_switch learns every task that runs,
 * and fork hands a new task its parent's process until it first runs.
 */
#ifdef LS_PID_FILTER
BPF_ARRAY(ls_tgid, u32, LS_PID_MAX);

static __always_inline int ls_tid_match(u32 tid)
{
	u32 *t = ls_tgid.lookup(&tid);

	return t && *t && LS_PID_MATCH(*t);
}

static __always_inline void ls_tid_learn(u32 tid, u32 tgid)
{
	u32 *t = ls_tgid.lookup(&tid);

	if (t && *t != tgid)
		*t = tgid;
}
#else
#define ls_tid_match(tid) ((tid) != 0)
#define ls_tid_learn(tid, tgid) do { } while (0)
#endif

/* ls_current_match - the current task belongs to a monitored process */
#ifdef LS_PID_FILTER
static __always_inline int ls_current_match(void)
{
	u64 id = bpf_get_current_pid_tgid();

	return (u32)id != 0 && LS_MONITORED((u32)(id >> 32));
}
#else
#define ls_current_match() 1
#endif

/*
 * Events: rare records for user space (worst spikes, culprits). A record
 * that does not fit is counted in ls_lost, never dropped silently:
 * ls_emit(args, &ev, sizeof(ev)) with a constant size. Kernels before 5.8
 * have no ring buffer and get a perf buffer instead.
 */
BPF_PERCPU_ARRAY(ls_lost, u64, 1);

#ifdef LS_HAVE_RINGBUF
BPF_RINGBUF_OUTPUT(ls_events, LS_EVENT_PAGES);
#else
BPF_PERF_OUTPUT(ls_events);
#endif

static __always_inline void ls_count_lost(void)
{
	u32 zero = 0;
	u64 *l = ls_lost.lookup(&zero);

	if (l)
		(*l)++;
}

/*
 * ls_emit - send one record; count it when it does not fit. No wake-up per
 * record: waking the reader raises an irq_work interrupt on this CPU, a
 * monitored one, and runs latencyscope (measured: 2,902 such interrupts in
 * 1.7 s on a CPU with the event stream on). User space drains the buffer
 * at every poll (100 ms at most); every LS_WAKE_EVERY-th record of a CPU
 * wakes it at once, so a burst is read before the buffer fills. Perf
 * buffers (before 5.8) wake the reader every LS_WAKE_EVERY records too.
 */
#define LS_WAKE_EVERY		256
#define LS_RB_NO_WAKEUP		1	/* bpf_ringbuf_output() flags */
#define LS_RB_FORCE_WAKEUP	2
BPF_PERCPU_ARRAY(ls_emitted, u64, 1);

static __always_inline void ls_emit(void *ctx, void *ev, u32 size)
{
#ifdef LS_HAVE_RINGBUF
	u32 zero = 0;
	u64 *n = ls_emitted.lookup(&zero), flags = LS_RB_NO_WAKEUP;

	if (n && (++*n & (LS_WAKE_EVERY - 1)) == 0)
		flags = LS_RB_FORCE_WAKEUP;
	if (ls_events.ringbuf_output(ev, size, flags) != 0)
		ls_count_lost();
#else
	if (ls_events.perf_submit(ctx, ev, size) != 0)
		ls_count_lost();
#endif
}

#endif /* LATENCYSCOPE_BPF_H */
