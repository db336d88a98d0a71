// SPDX-License-Identifier: GPL-2.0-only
/*
 * syscall.c - BPF side of Lock & Syscall Contention: futex waits, syscalls
 * that blocked, deliberate sleeps with their oversleep, and syscall rates,
 * for the monitored processes (or every task on the monitored CPUs).
 * Reads tracepoint arguments only (and the user's timespec a sleep passes).
 *
 * Hot path (raw_syscalls enter/exit): a tid-tagged array slot per thread;
 * one hash lookup per syscall for the per-thread rates (inserted once).
 */
#include <linux/signal.h>	/* sigset_t, in the args of ppoll and epoll_pwait */

#include "latencyscope.h"
#include "syscall.h"

#define SC_ETIMEDOUT 110
#define SC_EAGAIN 11
#define SC_NO_TIMEOUT (~0ULL)

BPF_ARRAY(sc_slots, struct sc_slot, SC_SLOTS);
BPF_PERCPU_ARRAY(sc_counters, struct sc_counters, 1);
BPF_HASH(sc_rates, struct sc_rate_key, struct sc_rate_val, 16384);
BPF_PERCPU_ARRAY(sc_zero_hist, struct ls_hist, 1);	/* zeroed templates for inserts */
BPF_PERCPU_ARRAY(sc_zero_sleep, struct sc_sleep_val, 1);
BPF_HASH(sc_blocked, struct sc_blocked_key, struct ls_hist, 512);
BPF_PERCPU_ARRAY(sc_futex_hist, struct ls_hist, 1);
BPF_HASH(sc_fthreads, u32, struct sc_fthread_val, 4096);
BPF_HASH(sc_faddrs, struct sc_faddr_key, struct sc_faddr_val, 4096);
BPF_HASH(sc_sleeps, struct sc_sleep_key, struct sc_sleep_val, 256);
BPF_ARRAY(sc_floor, u64, 1);	/* emit oversleeps >= this (set by user space) */

struct sc_timespec {
	s64 sec;
	s64 nsec;
};

static __always_inline struct sc_counters *sc_cnt(void)
{
	u32 zero = 0;

	return sc_counters.lookup(&zero);
}

/*
 * sc_enter_slot - the slot of the current task when it is monitored and on
 * a monitored CPU, claimed for it (a stale owner's state is dropped)
 */
static __always_inline struct sc_slot *sc_enter_slot(u32 *tidp)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = (u32)id, idx = tid % SC_SLOTS;
	struct sc_slot *s;

	if (!ls_enabled() || tid == 0 || !LS_PID_MATCH((u32)(id >> 32)) ||
	    !LS_CPU_MATCH(bpf_get_smp_processor_id()))
		return 0;
	s = sc_slots.lookup(&idx);
	if (s && s->tid != tid) {
		if (s->nr) {
			struct sc_counters *c = sc_cnt();

			if (c)
				c->slot_collisions++;
		}
		s->tid = tid;
		s->nr = 0;
		s->futex_enter = 0;
		s->sleep_enter = 0;
	}
	*tidp = tid;
	return s;
}

/* sc_exit_slot - the current task's slot if it holds its state (on any CPU) */
static __always_inline struct sc_slot *sc_exit_slot(u32 *tidp)
{
	u32 tid = (u32)bpf_get_current_pid_tgid(), idx = tid % SC_SLOTS;
	struct sc_slot *s;

	if (!ls_enabled() || tid == 0)
		return 0;
	s = sc_slots.lookup(&idx);
	if (!s || s->tid != tid)
		return 0;
	*tidp = tid;
	return s;
}

TRACEPOINT_PROBE(raw_syscalls, sys_enter)
{
	u32 tid;
	struct sc_slot *s = sc_enter_slot(&tid);

	if (!s)
		return 0;
	s->nr = (u32)args->id + 1;
	s->enter = bpf_ktime_get_ns();
	s->blocked = 0;
	return 0;
}

TRACEPOINT_PROBE(raw_syscalls, sys_exit)
{
	struct sc_rate_key k = {};
	struct sc_rate_val *v;
	struct sc_counters *c;
	struct sc_slot *s;
	u32 tid;
	u64 d;

	s = sc_exit_slot(&tid);
	if (!s || !s->nr)
		return 0;
	d = bpf_ktime_get_ns() - s->enter;
	k.tid = tid;
	k.nr = s->nr - 1;
	s->nr = 0;
	c = sc_cnt();
	if (c)
		c->syscalls++;
	v = sc_rates.lookup(&k);
	if (!v) {
		struct sc_rate_val init = {};

		init.tgid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(init.comm, sizeof(init.comm));
		sc_rates.insert(&k, &init);
		v = sc_rates.lookup(&k);
	}
	if (v) {
		v->count++;
		v->time_ns += d;
	} else if (c) {
		c->table_full++;
	}
	if (s->blocked) {
		struct sc_blocked_key bk = { .nr = k.nr, .cpu = bpf_get_smp_processor_id() };
		struct ls_hist *h = sc_blocked.lookup(&bk);
		u32 zero = 0;

		if (!h) {
			struct ls_hist *init = sc_zero_hist.lookup(&zero);

			if (init) {
				sc_blocked.insert(&bk, init);
				h = sc_blocked.lookup(&bk);
			}
		}
		if (h)
			ls_hist_add(h, d);
		else if (c)
			c->table_full++;
	}
	return 0;
}

/* a thread in a syscall that switches out while not runnable has blocked */
TRACEPOINT_PROBE(sched, sched_switch)
{
	u32 tid = args->prev_pid, idx = tid % SC_SLOTS;
	struct sc_slot *s;

	if (!ls_enabled() || !(args->prev_state & 0xff))
		return 0;
	s = sc_slots.lookup(&idx);
	if (s && s->tid == tid && s->nr)
		s->blocked = 1;
	return 0;
}

/* --- futexes ------------------------------------------------------------ */

static __always_inline int sc_futex_enter(u64 uaddr, u32 cmd)
{
	u32 tid;
	struct sc_slot *s = sc_enter_slot(&tid);

	if (!s)
		return 0;
	s->futex_enter = bpf_ktime_get_ns();
	s->futex_uaddr = uaddr;
	s->futex_cmd = cmd;
	return 0;
}

static __always_inline int sc_futex_is_wait(u32 cmd)
{
	return cmd == SC_FUTEX_WAIT || cmd == SC_FUTEX_WAIT_BITSET || cmd == SC_FUTEX_LOCK_PI ||
	    cmd == SC_FUTEX_LOCK_PI2 || cmd == SC_FUTEX_WAIT_REQUEUE_PI || cmd == SC_FUTEX_WAITV ||
	    cmd == SC_FUTEX_WAIT2;
}

static __always_inline int sc_futex_exit(long ret)
{
	struct sc_counters *c;
	struct sc_slot *s;
	u32 tid, zero = 0;
	u64 d, uaddr;

	s = sc_exit_slot(&tid);
	if (!s || !s->futex_enter)
		return 0;
	d = bpf_ktime_get_ns() - s->futex_enter;
	uaddr = s->futex_uaddr;
	s->futex_enter = 0;
	c = sc_cnt();
	if (!c)
		return 0;
	if (!sc_futex_is_wait(s->futex_cmd)) {
		c->futex_wakes++;
		return 0;
	}
	if (ret == -SC_ETIMEDOUT) {
		c->futex_timeouts++;
	} else if (ret == -SC_EAGAIN) {
		c->futex_eagain++;
	} else if (ret < 0) {
		c->futex_intr++;
	} else {
		u32 tgid = bpf_get_current_pid_tgid() >> 32;
		struct sc_faddr_key ak = { .tgid = tgid, .uaddr = uaddr };
		struct ls_hist *h = sc_futex_hist.lookup(&zero);
		struct sc_fthread_val *t = sc_fthreads.lookup(&tid);
		struct sc_faddr_val *a = sc_faddrs.lookup(&ak);

		c->futex_waits++;
		if (h)
			ls_hist_add(h, d);
		if (!t) {
			struct sc_fthread_val init = { .tgid = tgid };

			bpf_get_current_comm(init.comm, sizeof(init.comm));
			sc_fthreads.insert(&tid, &init);
			t = sc_fthreads.lookup(&tid);
		}
		if (t) {
			t->waits++;
			t->wait_ns += d;
			if (d > t->max_ns)
				t->max_ns = d;
		}
		if (!a) {
			struct sc_faddr_val init = {};

			sc_faddrs.insert(&ak, &init);
			a = sc_faddrs.lookup(&ak);
		}
		if (a) {	/* threads of one process share the word */
			__sync_fetch_and_add(&a->waits, 1);
			__sync_fetch_and_add(&a->wait_ns, d);
			if (d > a->max_ns)
				a->max_ns = d;
		}
		if (!t || !a)
			c->table_full++;
	}
	return 0;
}

TRACEPOINT_PROBE(syscalls, sys_enter_futex)
{
	return sc_futex_enter((u64)args->uaddr, args->op & SC_FUTEX_CMD_MASK);
}

TRACEPOINT_PROBE(syscalls, sys_exit_futex)
{
	return sc_futex_exit(args->ret);
}

#ifdef LS_HAVE_TP_syscalls__sys_enter_futex_waitv
TRACEPOINT_PROBE(syscalls, sys_enter_futex_waitv)
{
	return sc_futex_enter((u64)args->waiters, SC_FUTEX_WAITV);
}
#endif
#ifdef LS_HAVE_TP_syscalls__sys_exit_futex_waitv
TRACEPOINT_PROBE(syscalls, sys_exit_futex_waitv)
{
	return sc_futex_exit(args->ret);
}
#endif
#ifdef LS_HAVE_TP_syscalls__sys_enter_futex_wait
TRACEPOINT_PROBE(syscalls, sys_enter_futex_wait)
{
	return sc_futex_enter((u64)args->uaddr, SC_FUTEX_WAIT2);
}
#endif
#ifdef LS_HAVE_TP_syscalls__sys_exit_futex_wait
TRACEPOINT_PROBE(syscalls, sys_exit_futex_wait)
{
	return sc_futex_exit(args->ret);
}
#endif

/* --- sleeps --------------------------------------------------------------- */

/* sc_user_ns - a user timespec (or timeval when usec) in ns; SC_NO_TIMEOUT for NULL */
static __always_inline u64 sc_user_ns(const void *p, int usec)
{
	struct sc_timespec ts = {};

	if (!p)
		return SC_NO_TIMEOUT;
	if (bpf_probe_read_user(&ts, sizeof(ts), p) < 0 || ts.sec < 0 || ts.nsec < 0)
		return SC_NO_TIMEOUT;
	return (u64)ts.sec * 1000000000ULL + (u64)ts.nsec * (usec ? 1000 : 1);
}

/* sc_sleep_enter - a deliberate sleep of req ns starts (0 with a timeout: not a sleep) */
static __always_inline int sc_sleep_enter(u32 kind, u64 req, int zero_is_poll)
{
	u32 tid;
	struct sc_slot *s;

	if (zero_is_poll && req == 0)
		return 0;	/* a non-blocking poll, not a sleep */
	s = sc_enter_slot(&tid);
	if (!s)
		return 0;
	s->sleep_enter = bpf_ktime_get_ns();
	s->sleep_req = req;
	s->sleep_kind = kind;
	return 0;
}

/* sc_sleep_exit - timed_out: the sleep ran to its requested end */
static __always_inline int sc_sleep_exit(void *ctx, u32 kind, int timed_out)
{
	struct sc_sleep_key k = {};
	struct sc_sleep_val *v;
	struct sc_slot *s;
	u32 tid, zero = 0;
	u64 now, d, req, *floor;

	s = sc_exit_slot(&tid);
	if (!s || !s->sleep_enter || s->sleep_kind != kind)
		return 0;
	now = bpf_ktime_get_ns();
	d = now - s->sleep_enter;
	req = s->sleep_req;
	s->sleep_enter = 0;
	k.tid = tid;
	k.kind = kind;
	v = sc_sleeps.lookup(&k);
	if (!v) {
		struct sc_sleep_val *init = sc_zero_sleep.lookup(&zero);

		if (!init)
			return 0;
		sc_sleeps.insert(&k, init);
		v = sc_sleeps.lookup(&k);
		if (!v) {
			struct sc_counters *c = sc_cnt();

			if (c)
				c->table_full++;
			return 0;
		}
		v->tgid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(v->comm, sizeof(v->comm));
	}
	v->count++;
	v->actual_ns += d;
	if (req == SC_NO_TIMEOUT)
		return 0;
	v->timed++;
	v->requested_ns += req;
	if (!timed_out)
		return 0;
	ls_hist_add(&v->over, d > req ? d - req : 0);
	floor = sc_floor.lookup(&zero);
	if (floor && d > req && d - req >= *floor) {
		struct sc_event ev = {};

		ev.ts = now;
		ev.requested_ns = req;
		ev.actual_ns = d;
		ev.tid = tid;
		ev.tgid = v->tgid;
		ev.kind = kind;
		ev.cpu = bpf_get_smp_processor_id();
		bpf_get_current_comm(ev.comm, sizeof(ev.comm));
		ls_emit(ctx, &ev, sizeof(ev));
	}
	return 0;
}

TRACEPOINT_PROBE(syscalls, sys_enter_nanosleep)
{
	return sc_sleep_enter(SC_S_NANOSLEEP, sc_user_ns(args->rqtp, 0), 0);
}

TRACEPOINT_PROBE(syscalls, sys_exit_nanosleep)
{
	return sc_sleep_exit(args, SC_S_NANOSLEEP, args->ret == 0);
}

TRACEPOINT_PROBE(syscalls, sys_enter_clock_nanosleep)
{
	u64 req = sc_user_ns(args->rqtp, 0);

	if ((args->flags & 1) && req != SC_NO_TIMEOUT) {	/* TIMER_ABSTIME */
		u64 now = bpf_ktime_get_ns();

		if (args->which_clock != 1)	/* only CLOCK_MONOTONIC compares with ktime */
			req = SC_NO_TIMEOUT;
		else
			req = req > now ? req - now : 0;
	}
	return sc_sleep_enter(SC_S_CLOCK_NANOSLEEP, req, 0);
}

TRACEPOINT_PROBE(syscalls, sys_exit_clock_nanosleep)
{
	return sc_sleep_exit(args, SC_S_CLOCK_NANOSLEEP, args->ret == 0);
}

TRACEPOINT_PROBE(syscalls, sys_enter_select)
{
	return sc_sleep_enter(SC_S_SELECT, sc_user_ns(args->tvp, 1), 1);
}

TRACEPOINT_PROBE(syscalls, sys_exit_select)
{
	return sc_sleep_exit(args, SC_S_SELECT, args->ret == 0);
}

TRACEPOINT_PROBE(syscalls, sys_enter_pselect6)
{
	return sc_sleep_enter(SC_S_PSELECT6, sc_user_ns(args->tsp, 0), 1);
}

TRACEPOINT_PROBE(syscalls, sys_exit_pselect6)
{
	return sc_sleep_exit(args, SC_S_PSELECT6, args->ret == 0);
}

TRACEPOINT_PROBE(syscalls, sys_enter_poll)
{
	int ms = args->timeout_msecs;

	return sc_sleep_enter(SC_S_POLL, ms < 0 ? SC_NO_TIMEOUT : (u64)ms * 1000000ULL, 1);
}

TRACEPOINT_PROBE(syscalls, sys_exit_poll)
{
	return sc_sleep_exit(args, SC_S_POLL, args->ret == 0);
}

TRACEPOINT_PROBE(syscalls, sys_enter_ppoll)
{
	return sc_sleep_enter(SC_S_PPOLL, sc_user_ns(args->tsp, 0), 1);
}

TRACEPOINT_PROBE(syscalls, sys_exit_ppoll)
{
	return sc_sleep_exit(args, SC_S_PPOLL, args->ret == 0);
}

TRACEPOINT_PROBE(syscalls, sys_enter_epoll_wait)
{
	int ms = args->timeout;

	return sc_sleep_enter(SC_S_EPOLL_WAIT, ms < 0 ? SC_NO_TIMEOUT : (u64)ms * 1000000ULL, 1);
}

TRACEPOINT_PROBE(syscalls, sys_exit_epoll_wait)
{
	return sc_sleep_exit(args, SC_S_EPOLL_WAIT, args->ret == 0);
}

TRACEPOINT_PROBE(syscalls, sys_enter_epoll_pwait)
{
	int ms = args->timeout;

	return sc_sleep_enter(SC_S_EPOLL_PWAIT, ms < 0 ? SC_NO_TIMEOUT : (u64)ms * 1000000ULL, 1);
}

TRACEPOINT_PROBE(syscalls, sys_exit_epoll_pwait)
{
	return sc_sleep_exit(args, SC_S_EPOLL_PWAIT, args->ret == 0);
}

TRACEPOINT_PROBE(syscalls, sys_enter_sched_yield)
{
	return sc_sleep_enter(SC_S_SCHED_YIELD, 0, 0);
}

TRACEPOINT_PROBE(syscalls, sys_exit_sched_yield)
{
	return sc_sleep_exit(args, SC_S_SCHED_YIELD, 1);
}

TRACEPOINT_PROBE(syscalls, sys_enter_pause)
{
	return sc_sleep_enter(SC_S_PAUSE, SC_NO_TIMEOUT, 0);
}

TRACEPOINT_PROBE(syscalls, sys_exit_pause)
{
	return sc_sleep_exit(args, SC_S_PAUSE, 0);
}
