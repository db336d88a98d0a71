/* SPDX-License-Identifier: GPL-2.0-only */
/* irq.h - map layouts shared by probes/irq.c and src/mod-irq.c */
#ifndef LS_IRQ_H
#define LS_IRQ_H

#include "ls_hist.h"
#include "ls_softirq.h"

#define IRQ_NR_SOFTIRQS	LS_NR_SOFTIRQS
#define IRQ_NAME_LEN	32
#define IRQ_COMM_LEN	16

/* the x86 system vectors that have tracepoints, as /proc/interrupts names them */
enum irq_vector_id {
	IRQ_V_LOCAL_TIMER,	/* LOC */
	IRQ_V_RESCHEDULE,	/* RES */
	IRQ_V_CALL_FUNCTION,	/* CAL */
	IRQ_V_CALL_FUNCTION_SINGLE,	/* CAL */
	IRQ_V_IRQ_WORK,		/* IWI */
	IRQ_V_THERMAL_APIC,	/* TRM */
	IRQ_V_SPURIOUS_APIC,	/* SPU */
	IRQ_V_ERROR_APIC,	/* ERR */
	IRQ_V_X86_PLATFORM_IPI,	/* PLT */
	IRQ_V_THRESHOLD_APIC,	/* THR */
	IRQ_V_DEFERRED_ERROR_APIC,	/* DFR */
	IRQ_NR_VECTORS
};

/* what interrupted a task */
enum irq_kind { IRQ_K_HARD = 1, IRQ_K_SOFT = 2, IRQ_K_VECTOR = 3 };

/* irq_counters - per CPU */
struct irq_counters {
	ls_u64 hard_full;	/* hard IRQ table full: not itemised */
	ls_u64 stolen_full;	/* stolen-time table full */
	ls_u64 unmatched;	/* exits without their entry (run started mid-interrupt) */
};

/* irq_key - one hard IRQ on one CPU */
struct irq_key {
	ls_u32 irq;
	ls_u32 cpu;
};

/* irq_hard_val - a hard IRQ's durations on one CPU, and its handler's name */
struct irq_hard_val {
	struct ls_hist h;
	char	name[IRQ_NAME_LEN];
};

/* irq_vec_val - a system vector's durations on one CPU (per-CPU array slot) */
struct irq_vec_val {
	ls_u64 count;
	ls_u64 time_ns;
	ls_u64 max_ns;
};

/* irq_stolen_key - a monitored thread and what interrupted it */
struct irq_stolen_key {
	ls_u32 tid;
	ls_u32 kind;	/* enum irq_kind */
	ls_u32 id;	/* IRQ number, softirq vector or enum irq_vector_id */
	ls_u32 pad;
};

struct irq_stolen_val {
	ls_u64 count;
	ls_u64 time_ns;
	ls_u64 max_ns;
	ls_u32 tgid;
	ls_u32 pad;
	char	comm[IRQ_COMM_LEN];
};

/*
 * irq_cpu_state - per CPU: what is running now. Hard IRQs and system vectors
 * do not nest; both can interrupt a softirq, whose time then excludes theirs.
 * A chain is one interruption of a task: an IRQ or vector, the softirqs run
 * on its way out (starting within IRQ_SOFT_AFTER_IRQ_NS of its exit), and
 * whatever follows back to back (within IRQ_CHAIN_GAP_NS; a softirq only when
 * its vector is higher than the last one's, as in one __do_softirq() pass).
 * A softirq a task runs itself (local_bh_enable) opens a chain of its own.
 */
#define IRQ_SOFT_AFTER_IRQ_NS 10000
#define IRQ_CHAIN_GAP_NS 1000
struct irq_cpu_state {
	ls_u64 hard_start;
	struct ls_softirq_clock soft;	/* the running softirq */
	ls_u64 chain_start;
	ls_u64 chain_end;
	ls_u32 hard_id;		/* IRQ number or vector id of the running hard IRQ / vector */
	ls_u32 hard_kind;	/* 0 when none */
	ls_u32 chain_kind;	/* what opened the chain */
	ls_u32 chain_id;
	ls_u32 chain_soft;	/* bit per softirq vector that ran in the chain */
	ls_u32 last_exit_kind;	/* what ended at chain_end: enum irq_kind */
	ls_u32 last_soft_vec;	/* the last softirq that ended */
	ls_u32 pad;
};

/* irq_event - one interruption of a monitored task at or above the floor */
struct irq_event {
	ls_u64 start;		/* bpf_ktime_get_ns() at the chain's first entry */
	ls_u64 duration_ns;	/* chain so far */
	ls_u32 cpu;
	ls_u32 tid;
	ls_u32 tgid;
	ls_u32 kind;		/* what opened the chain */
	ls_u32 id;
	ls_u32 soft_mask;	/* softirqs in the chain */
	char	comm[IRQ_COMM_LEN];
};

#endif /* LS_IRQ_H */
