/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ls_softirq.h - the softirq clock every module that times softirqs keeps
 * (irq, network): which softirq runs on this CPU, since when, and how much
 * hard IRQ time interrupted it. One per-CPU slot, no map of its own.
 */
#ifndef LS_SOFTIRQ_H
#define LS_SOFTIRQ_H

#include "ls_hist.h"

#define LS_NR_SOFTIRQS		10	/* HI .. RCU, as softirq_entry numbers them */
#define LS_SOFTIRQ_NET_TX	2
#define LS_SOFTIRQ_NET_RX	3

struct ls_softirq_clock {
	ls_u64	start;
	ls_u64	nested_ns;	/* hard IRQ/vector time inside it (modules that track them) */
	ls_u32	vec;
	ls_u32	active;
};

/* ls_softirq_enter - softirq vec starts now */
LS_INLINE void ls_softirq_enter(struct ls_softirq_clock *c, ls_u32 vec, ls_u64 now)
{
	c->start = now;
	c->vec = vec;
	c->active = 1;
	c->nested_ns = 0;
}

/*
 * ls_softirq_exit - softirq vec ends now: its own run time (nested hard IRQ
 * time taken out); 0 when its entry was not seen (the run began inside it)
 */
LS_INLINE ls_u64 ls_softirq_exit(struct ls_softirq_clock *c, ls_u32 vec, ls_u64 now)
{
	ls_u64 d;

	if (!c->active || c->vec != vec)
		return 0;
	c->active = 0;
	d = now - c->start;
	return d > c->nested_ns ? d - c->nested_ns : 1;
}

#endif /* LS_SOFTIRQ_H */
