/* SPDX-License-Identifier: GPL-2.0-only */
/* noise.h - map layouts shared by probes/noise.c and src/mod-noise.c */
#ifndef LS_NOISE_H
#define LS_NOISE_H

#include "ls_hist.h"

/* what the kernel ran: the kind of housekeeping a function was called as */
enum noise_kind {
	NOISE_TIMER,	/* timer:timer_expire_entry/exit (timer_list, in the TIMER softirq) */
	NOISE_HRTIMER,	/* timer:hrtimer_expire_entry/exit (in the timer interrupt) */
	NOISE_WORK,	/* workqueue:workqueue_execute_start/end (in a kworker) */
	NOISE_CSD,	/* csd:csd_function_entry/exit (a cross-CPU function call) */
	NOISE_NMI,	/* nmi:nmi_handler */
	NOISE_NR_KINDS
};

/* the tick dependencies of timer:tick_stop (include/linux/tick.h, TICK_DEP_MASK_*) */
#define NOISE_NR_DEPS	6	/* POSIX_TIMER, PERF_EVENTS, SCHED, CLOCK_UNSTABLE, RCU, RCU_EXP */

/* noise_key - one function on one CPU */
struct noise_key {
	ls_u64	function;
	ls_u32	cpu;
	ls_u32	kind;
};

#define NOISE_WQ_LEN	24	/* a workqueue's name (WQ_NAME_LEN is 24 since 6.8, 32 before) */

struct noise_val {
	ls_u64	count;		/* calls started */
	ls_u64	timed;		/* ... whose end was seen: total_ns and max_ns are theirs */
	ls_u64	total_ns;
	ls_u64	max_ns;
	ls_u64	last_ns;	/* the last call's start: the gaps between calls show a period */
	ls_u64	gap_sum;	/* ns */
	ls_u64	gap_sq;		/* the gaps' squares in (1024 ns)^2, saturating: their spread */
	char	wq[NOISE_WQ_LEN];	/* work: the workqueue it was queued on, "" unknown */
};

/* a work item queued for a monitored CPU (or unbound), until it runs */
struct noise_queued {
	char	wq[NOISE_WQ_LEN];
};

#define NOISE_NR_CSTATES	10	/* idle state indexes kept; deeper ones go to the last */
#define NOISE_IDLE_EXIT		0xffffffffU	/* power:cpu_idle's state when the CPU leaves idle */

#define NOISE_DEP_SCHED		2	/* bit of TICK_DEP_MASK_SCHED */
#define NOISE_KEPT_TASKS	4

/* a task that was running when the SCHED dependency kept the tick */
struct noise_task {
	ls_u32	tid, tgid;
	char	comm[16];
};

/* noise_cpu - per CPU: the calls under way (they nest: a work item, a timer, an hrtimer) and the tick */
struct noise_cpu {
	ls_u64	start[NOISE_NR_KINDS];
	ls_u64	obj[NOISE_NR_KINDS];	/* the timer, hrtimer, work or csd being run */
	ls_u64	fn[NOISE_NR_KINDS];
	ls_u64	tick_stopped;		/* timer:tick_stop with success */
	ls_u64	tick_kept;		/* ... without: a dependency kept the tick */
	ls_u64	tick_dep[NOISE_NR_DEPS];	/* ... by each dependency bit */
	struct noise_task kept_tasks[NOISE_KEPT_TASKS];	/* running when SCHED kept it, first seen */
	ls_u64	full;			/* calls not itemised: the function table was full */
	ls_u64	idle_start;		/* power:cpu_idle: in idle state idle_state since */
	ls_u64	idle_state;
	ls_u64	idle_entries[NOISE_NR_CSTATES];
	ls_u64	idle_ns[NOISE_NR_CSTATES];
	ls_u64	rcu_start;		/* rcu:rcu_utilization "Start RCU core" */
	ls_u64	rcu_count, rcu_ns, rcu_max_ns;	/* ... to "End RCU core" */
};

/* noise_freq - power:cpu_frequency, by the CPU it names (it may run on another) */
#define NOISE_MAX_CPUS	1024
struct noise_freq {
	ls_u64	changes;
	ls_u64	min_khz, max_khz;
};

#endif
