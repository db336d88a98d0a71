/* SPDX-License-Identifier: GPL-2.0-only */
/* memory.h - map layouts shared by probes/memory.c and src/mod-memory.c */
#ifndef LS_MEMORY_H
#define LS_MEMORY_H

#include "ls_hist.h"

#define MEM_COMM_LEN	16
#define MEM_NR_TLB_REASONS 8	/* tlb_flush reasons (0..5 on 6.x: see its print fmt) */
#define MEM_TLB_REMOTE_SHOOTDOWN 1	/* the flush an IPI asked this CPU to do */
#define MEM_MASK_WORDS	4	/* ipi_send_cpumask: targets among the first 256 CPUs */

/* mem_slot_count - process slots: a power of two >= pid_max, at most 65536 */
#ifdef LS_PID_MAX
#if LS_PID_MAX <= 32768
#define MEM_NSLOTS 32768
#else
#define MEM_NSLOTS 65536
#endif
#endif

enum mem_stall_kind { MEM_STALL_RECLAIM, MEM_STALL_COMPACTION, MEM_NR_STALLS };

/*
 * mem_proc - one process's faults (slot tgid % MEM_NSLOTS, tagged with the
 * tgid): every fault, and of those the major ones; minor = faults - major
 */
struct mem_proc {
	ls_u32	tgid;
	ls_u32	pad;
	ls_u64	faults;
	ls_u64	major;
	char	comm[MEM_COMM_LEN];
};

/* mem_cpu - per CPU counters */
struct mem_cpu {
	ls_u64	faults;	/* every fault; the major ones are in mem_major_cpu */
	ls_u64	slot_busy;	/* faults of a process whose slot another one holds */
	ls_u64	tlb[MEM_NR_TLB_REASONS];
	ls_u64	tlb_pages[MEM_NR_TLB_REASONS];	/* pages flushed (TLB_FLUSH_ALL counts as 0) */
	ls_u64	ipis_to_monitored;	/* IPIs sent from this CPU to a monitored CPU */
	ls_u64	ipi_full;	/* sender table full */
	ls_u64	migrated_pages;
	ls_u64	migrate_failed;
	ls_u64	numa_moves;
	ls_u64	numa_swaps;
	ls_u64	numa_sticks;
	ls_u64	thp_collapses;
	ls_u64	stall_unmatched;	/* an end without its begin (the run started mid-stall) */
};

/* mem_ipi_key - who sent IPIs to the monitored CPUs, and why */
struct mem_ipi_key {
	ls_u32	cpu;		/* sender CPU */
	ls_u32	tgid;		/* 0 when sent from an interrupt */
	ls_u64	callsite;	/* kernel address that sent the IPI */
	ls_u64	callback;	/* function the target ran */
	ls_u32	context;	/* MEM_IPI_TASK, MEM_IPI_HARDIRQ or MEM_IPI_SOFTIRQ */
	ls_u32	unused;
};
#define MEM_IPI_TASK	0	/* sent by the current task */
#define MEM_IPI_HARDIRQ	1	/* from an interrupt handler (a timer's wake-up, the tick) */
#define MEM_IPI_SOFTIRQ	2	/* from a softirq (timers, RCU, NET_RX...) */

struct mem_ipi_val {
	ls_u64	count;		/* target CPUs reached, monitored ones only */
	char	comm[MEM_COMM_LEN];
};

/* mem_stall_event - one reclaim or compaction stall of a monitored task */
struct mem_stall_event {
	ls_u64	start;
	ls_u64	duration_ns;
	ls_u32	tid;
	ls_u32	tgid;
	ls_u32	cpu;
	ls_u32	kind;	/* enum mem_stall_kind */
	ls_u64	detail;	/* reclaim: pages reclaimed; compaction: status */
	char	comm[MEM_COMM_LEN];
};

#endif /* LS_MEMORY_H */
