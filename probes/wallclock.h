/* SPDX-License-Identifier: GPL-2.0-only */
/* wallclock.h - map layouts shared by probes/wallclock.c and src/mod-wallclock.c */
#ifndef LS_WALLCLOCK_H
#define LS_WALLCLOCK_H

#include "ls_hist.h"

#define WC_COMM_LEN	16
#define WC_STACKS	16384	/* distinct stacks kept */
#define WC_MAX_DEPTH	127	/* frames per stack (the kernel's perf_event_max_stack) */
#define WC_EFAULT	14	/* stack id -EFAULT: no such stack (a kernel thread's user stack) */
#define WC_LEAF_FRAMES	2	/* callers of frameless leaves kept per sample */
#define WC_LEAF_SCAN	12	/* stack words scanned for them */
#define WC_LEAF_HOP	(1ULL << 63)	/* found past the first frame: a caller of the walk's first */
#define WC_SHORT	1000	/* stack id -WC_SHORT: blocks under --min-block, summed without stacks */

/*
 * wc_state - how a thread spent the time: running (an on-CPU sample), or
 * off CPU in a task state. From sched_switch's prev_state: bit 0x100 means
 * preempted (runnable), 0 runnable (it yielded), otherwise one state bit
 * (S, D, T, t, X, Z, P, I as the tracepoint's format names them):
 * WC_ST_BIT0 + the bit's index.
 */
enum wc_state {
	WC_ST_RUNNING,		/* on CPU: a cpu-clock sample */
	WC_ST_PREEMPTED,	/* R+ */
	WC_ST_RUNNABLE,		/* R: switched out while runnable, not preempted */
	WC_ST_BIT0,		/* 0x1 ... */
	WC_NR_STATES = WC_ST_BIT0 + 8,
};

/* wc_key - one (thread, stacks, state) and where its time is summed */
struct wc_key {
	ls_u32	tgid;
	ls_u32	tid;
	ls_s32	kstack;		/* stack ids in wc_stacks, < 0: not captured (error) */
	ls_s32	ustack;
	ls_u32	state;		/* enum wc_state */
	ls_u32	pad;
	/*
	 * return addresses an on-CPU sample's frame-pointer walk skips,
	 * innermost first: callers of functions that keep no frame pointer
	 * (libc, the vDSO); WC_LEAF_HOP set when found past the first walked
	 * frame (0: none)
	 */
	ls_u64	leaf[WC_LEAF_FRAMES];
};

/*
 * wc_calls - for an on-CPU key's leaf[] addresses: the function the call
 * before each entered, and the ones the calls before the walk's second and
 * third return addresses entered (a PLT stub followed to its target; 0: an
 * indirect call). The front end checks the found callers against them,
 * since a scan also meets addresses earlier calls left in a frame's locals.
 * They follow from the key's addresses, so they live in the value: the key
 * that every off-CPU block hashes stays small.
 */
struct wc_calls {
	ls_u64	leaf_to[WC_LEAF_FRAMES];
	ls_u64	frame_to[2];
};

struct wc_val {
	ls_u64	ns;		/* wall-clock time: samples x period, or blocked time */
	ls_u64	count;		/* samples, or blocks */
	char	comm[WC_COMM_LEN];
	struct wc_calls calls;	/* on-CPU samples only */
};

/* wc_block - a monitored thread off CPU since ts (slot by tid, tagged) */
struct wc_block {
	ls_u64	ts;
	ls_u32	tid;
	ls_u32	tgid;
	ls_s32	kstack;
	ls_s32	ustack;
	ls_u32	state;
	ls_u32	pad;
	char	comm[WC_COMM_LEN];
};

/* per CPU: the task on it and since when (the gate's opening if no switch since) */
struct wc_cur {
	ls_u64	ts;
	ls_u32	tid;
	ls_u32	pad;
};

/* a monitored thread's exact on-CPU time, switch-in to switch-out */
struct wc_on {
	ls_u64	ns;
	ls_u64	last_out;	/* its last switch-out */
	ls_u32	tgid;
	ls_u32	pad;
};

struct wc_counters {
	ls_u64	samples;	/* on-CPU samples of monitored threads */
	ls_u64	idle_samples;	/* samples of idle CPUs (not in the profile) */
	ls_u64	blocks;		/* blocks at least --min-block long */
	ls_u64	short_blocks;	/* blocks under --min-block: time kept, stacks not */
	ls_u64	stack_errors;	/* stacks not captured (table full, collisions, faults) */
	ls_u64	table_full;	/* (thread, stack) records not kept */
	ls_u64	on_full;	/* threads whose exact on-CPU time was not kept */
	ls_u64	unseen_in;	/* switch-ins not recorded: a stint's start bounded, not known */
	ls_u64	slot_busy;	/* a block lost its slot to another thread */
	ls_u64	leaf_samples;	/* on-CPU samples with callers recovered from the stack */
	ls_u64	ustacks_reused;	/* off-CPU user stacks found in the thread's slot, not walked */
};

#endif /* LS_WALLCLOCK_H */
