/* SPDX-License-Identifier: GPL-2.0-only */
/* isolation.h - map layouts shared by probes/isolation.c and src/mod-isolation.c */
#ifndef LS_ISOLATION_H
#define LS_ISOLATION_H

#ifndef LS_BPF
#include <stdint.h>
typedef uint32_t iso_u32;
typedef uint64_t iso_u64;
#else
typedef u32 iso_u32;
typedef u64 iso_u64;
#endif

#define ISO_COMM_LEN 16

/* iso_counters - one per CPU (per-CPU array, key 0) */
struct iso_counters {
	iso_u64 switches;	/* every context switch on a monitored CPU */
	iso_u64 voluntary;	/* prev blocked (neither side idle) */
	iso_u64 involuntary;	/* prev preempted while runnable (neither side idle) */
	iso_u64 idle;		/* to or from the idle task */
	iso_u64 wakeups;	/* wakeups of monitored tasks onto monitored CPUs */
	iso_u64 migrations;	/* monitored tasks moved to/from a monitored CPU */
	iso_u64 migrated_off;	/* ... from a monitored CPU to one that is not */
	iso_u64 target_preempted;	/* a monitored task preempted by another task */
	iso_u64 foreign_runs;	/* with --pid: other tasks switched in */
	iso_u64 tasks_full;	/* per-task table full: task not itemised */
	iso_u64 culprits_full;	/* culprit table full */
};

/* iso_cpu - per CPU bookkeeping (array indexed by CPU) */
struct iso_cpu {
	iso_u64 last_switch;	/* when the current task was switched in */
	iso_u32 victim;		/* monitored task preempted here, waiting */
	iso_u32 pad;
};

/* iso_task - per monitored task (hash keyed by tid) */
struct iso_task {
	iso_u32 tgid;
	iso_u32 pad;
	iso_u64 voluntary;
	iso_u64 involuntary;
	iso_u64 preempted;	/* involuntary switches that let another task run */
	iso_u64 migrations;
	iso_u64 migrated_off;
	char	comm[ISO_COMM_LEN];
};

/* iso_culprit - a task that ran while a preempted monitored task waited (hash keyed by tid) */
struct iso_culprit {
	iso_u64 count;
	iso_u64 time_ns;
	char	comm[ISO_COMM_LEN];
};

/* iso_event - one runqueue latency at or above the floor user space sets */
enum iso_event_kind {
	ISO_EV_WAIT,		/* a monitored task waited for the CPU (latency_ns) */
	ISO_EV_MIGRATE,		/* a monitored task moved from cpu to culprit (a CPU number) */
	ISO_EV_RUN,		/* with --pid: a monitored task ran latency_ns until ts */
};

struct iso_event {
	iso_u64 ts;		/* bpf_ktime_get_ns() at switch-in */
	iso_u64 latency_ns;
	iso_u32 cpu;
	iso_u32 victim;
	iso_u32 culprit;	/* the task that ran before the victim got the CPU */
	iso_u32 kind;		/* enum iso_event_kind */
	char	victim_comm[ISO_COMM_LEN];
	char	culprit_comm[ISO_COMM_LEN];
	/* with a timeline (LS_TIMELINE): who woke the victim, 0 after a preemption */
	iso_u32 waker;
	iso_u32 pad;
};


#endif /* LS_ISOLATION_H */
