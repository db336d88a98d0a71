// SPDX-License-Identifier: GPL-2.0-only
/*
 * syscall.c - BPF side of Lock & Syscall Contention: futex waits, syscalls
 * that blocked, deliberate sleeps with their oversleep, and syscall rates,
 * for the monitored processes (or every task on the monitored CPUs).
 * Reads tracepoint arguments only (and the user's timespec a sleep passes).
 *
 * Hot path (raw_syscalls enter/exit): a tid-tagged array slot per thread
 * holds the syscall in progress and tallies per-thread counts; hash maps
 * are touched only when a tally is handed over (see syscall.h). The clock
 * is read only for what needs it: futex waits, sleeps, a thread switching
 * out inside a syscall, and one syscall in SC_TIME_EVERY for the rates.
 * Futexes and sleeps are recognised by syscall number in the same two
 * probes (SC_NR_<name>, passed by the front end).
 */
#include "latencyscope.h"
#include "syscall.h"

#define SC_ETIMEDOUT 110
#define SC_EAGAIN 11
#define SC_NO_TIMEOUT (~0ULL)
#define SC_NSLOTS (LS_PID_MAX < SC_SLOTS ? LS_PID_MAX : SC_SLOTS)

BPF_ARRAY(sc_slots, struct sc_slot, SC_NSLOTS);
BPF_PERCPU_ARRAY(sc_counters, struct sc_counters, 1);
BPF_HASH(sc_rates, struct sc_rate_key, struct sc_rate_val, 16384);
BPF_PERCPU_ARRAY(sc_zero_hist, struct ls_hist, 1);	/* zeroed templates for inserts */
BPF_PERCPU_ARRAY(sc_zero_sleep, struct sc_sleep_val, 1);
BPF_HASH(sc_blocked, struct sc_blocked_key, struct ls_hist, 512);
BPF_PERCPU_ARRAY(sc_blocked_fast, struct sc_blocked_ent, SC_BLOCKED_FAST);
BPF_PERCPU_ARRAY(sc_futex_hist, struct ls_hist, 1);
BPF_HASH(sc_fthreads, u32, struct sc_fthread_val, 4096);
BPF_HASH(sc_faddrs, struct sc_faddr_key, struct sc_faddr_val, 4096);
BPF_HASH(sc_sleeps, struct sc_sleep_key, struct sc_sleep_val, 256);
BPF_HASH(sc_names, u32, struct sc_name, 4096);	/* tid -> name after exec(): user space renames */
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

/* sc_flush_rate - move a tally of the slot (one syscall number) into sc_rates */
static __always_inline void sc_flush_rate(struct sc_slot *s, struct sc_tally *t,
    struct sc_counters *c)
{
	struct sc_rate_key k = { .tid = s->tid, .nr = t->nr - 1 };
	struct sc_rate_val *v;

	if (!t->count)
		return;
	v = sc_rates.lookup(&k);
	if (!v) {
		struct sc_rate_val init = { .tgid = s->tgid };

		__builtin_memcpy(init.comm, s->comm, SC_COMM_LEN);
		sc_rates.insert(&k, &init);
		v = sc_rates.lookup(&k);
	}
	if (v) {
		v->count += t->count;
		v->timed += t->timed;
		v->time_ns += t->ns;
	} else if (c) {
		c->table_full++;
	}
	t->count = 0;
	t->timed = 0;
	t->ns = 0;
}

/* sc_tally_of - the slot's tally for syscall nr, taking the next one's place if none */
static __always_inline struct sc_tally *sc_tally_of(struct sc_slot *s, u32 nr,
    struct sc_counters *c)
{
	struct sc_tally *t;

#pragma unroll
	for (int i = 0; i < SC_TALLIES; i++) {
		if (s->rate[i].nr == nr + 1)
			return &s->rate[i];
	}
	t = &s->rate[s->rate_next & (SC_TALLIES - 1)];
	s->rate_next++;
	sc_flush_rate(s, t, c);
	t->nr = nr + 1;
	return t;
}

/* sc_flush_faddr - move the slot's tally of one futex word into sc_faddrs */
static __always_inline void sc_flush_faddr(struct sc_slot *s, struct sc_counters *c)
{
	struct sc_faddr_key k = { .tgid = s->tgid, .uaddr = s->fa_uaddr };
	struct sc_faddr_val *a;

	if (!s->fa_waits)
		return;
	a = sc_faddrs.lookup(&k);
	if (!a) {
		struct sc_faddr_val init = {};

		sc_faddrs.insert(&k, &init);
		a = sc_faddrs.lookup(&k);
	}
	if (a) {	/* threads of one process share the word */
		__sync_fetch_and_add(&a->waits, s->fa_waits);
		__sync_fetch_and_add(&a->wait_ns, s->fa_wait_ns);
		if (s->fa_max_ns > a->max_ns)
			a->max_ns = s->fa_max_ns;
	} else if (c) {
		c->table_full++;
	}
	s->fa_waits = 0;
	s->fa_wait_ns = 0;
	s->fa_max_ns = 0;
}

/* sc_evict - another thread takes the slot: keep what its owner tallied */
static __always_inline void sc_evict(struct sc_slot *s, struct sc_counters *c)
{
	/*
	 * Checked first: with `&& c` at each use the compiler computes
	 * &c->table_full before the test, and verifiers before 6.x refuse
	 * pointer arithmetic on a value that may be NULL. The per-CPU array
	 * always has key 0, so nothing is lost.
	 */
	if (!c)
		return;
#pragma unroll
	for (int i = 0; i < SC_TALLIES; i++)
		sc_flush_rate(s, &s->rate[i], c);
	sc_flush_faddr(s, c);
	if (s->fx_waits) {
		struct sc_fthread_val v = { .waits = s->fx_waits, .wait_ns = s->fx_wait_ns,
		    .max_ns = s->fx_max_ns, .tgid = s->tgid };
		u32 tid = s->tid;

		__builtin_memcpy(v.comm, s->comm, SC_COMM_LEN);
		if (sc_fthreads.update(&tid, &v) != 0 && c)
			c->table_full++;
	}
	if (s->nr && c)
		c->slot_collisions++;
}

/*
 * sc_enter_slot - the slot of the current task when it is monitored and on
 * a monitored CPU, claimed for it
 */
static __always_inline struct sc_slot *sc_enter_slot(u32 *tidp)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = (u32)id, idx = tid % SC_NSLOTS;
	struct sc_slot *s;

	if (!ls_enabled() || tid == 0 || !LS_MONITORED((u32)(id >> 32)) ||
	    !LS_CPU_MATCH(bpf_get_smp_processor_id()))
		return 0;
	s = sc_slots.lookup(&idx);
	if (s && s->tid != tid) {
		if (s->tid)
			sc_evict(s, sc_cnt());
		__builtin_memset(s, 0, sizeof(*s));
		s->tid = tid;
		s->tgid = id >> 32;
		bpf_get_current_comm(s->comm, sizeof(s->comm));
	}
	*tidp = tid;
	return s;
}

/* sc_exit_slot - the current task's slot if it holds its state (on any CPU) */
static __always_inline struct sc_slot *sc_exit_slot(u32 *tidp)
{
	u32 tid = (u32)bpf_get_current_pid_tgid(), idx = tid % SC_NSLOTS;
	struct sc_slot *s;

	if (!ls_enabled() || tid == 0)
		return 0;
	s = sc_slots.lookup(&idx);
	if (!s || s->tid != tid)
		return 0;
	*tidp = tid;
	return s;
}


/*
 * A thread in a syscall that switches out without being preempted has
 * blocked; its blocked time starts now unless the call is a futex wait or
 * a sleep, timed from its entry. A raw tracepoint: its arguments are not
 * copied for perf, and `preempt` (args[0]) is there on every kernel; the
 * thread switching out is the current one. sched_yield switches out still
 * runnable (prev_state is in args[3] only since 5.18): it is a sleep, not
 * a block, and is told apart by its number.
 */
#ifdef SC_NR_sched_yield
#define SC_YIELDING(s) ((s)->nr == SC_NR_sched_yield + 1)
#else
#define SC_YIELDING(s) 0
#endif
RAW_TRACEPOINT_PROBE(sched_switch)
{
	u32 tid, idx;
	struct sc_slot *s;

	if (!ls_enabled() || ctx->args[0])
		return 0;
	tid = (u32)bpf_get_current_pid_tgid();
	idx = tid % SC_NSLOTS;
	s = sc_slots.lookup(&idx);
	if (s && s->tid == tid && s->nr && !s->blocked && !SC_YIELDING(s)) {
		s->blocked = 1;
		if (!s->since)
			s->since = bpf_ktime_get_ns();
	}
	return 0;
}

/* --- futexes ------------------------------------------------------------ */

/* sc_clock - the entry time, read once for whichever decode needs it first */
static __always_inline u64 sc_clock(u64 *nowp)
{
	if (!*nowp)
		*nowp = bpf_ktime_get_ns();
	return *nowp;
}

static __always_inline int sc_futex_is_wait(u32 cmd)
{
	return cmd == SC_FUTEX_WAIT || cmd == SC_FUTEX_WAIT_BITSET || cmd == SC_FUTEX_LOCK_PI ||
	    cmd == SC_FUTEX_LOCK_PI2 || cmd == SC_FUTEX_WAIT_REQUEUE_PI || cmd == SC_FUTEX_WAITV ||
	    cmd == SC_FUTEX_WAIT2;
}

/* sc_futex_enter - a wait is timed from here; wakes (every other op) are counted */
static __always_inline void sc_futex_enter(struct sc_slot *s, u64 *nowp, u64 uaddr, u32 cmd)
{
	struct sc_counters *c;

	if (!sc_futex_is_wait(cmd)) {
		c = sc_cnt();
		if (c)
			c->futex_wakes++;
		return;
	}
	s->futex_enter = sc_clock(nowp);
	s->since = s->futex_enter;
	s->futex_uaddr = uaddr;
}

static __always_inline int sc_futex_exit(void *ctx, struct sc_slot *s, u32 tid, u64 now, long ret,
    struct sc_counters *c)
{
	u32 zero = 0;
	u64 d, uaddr;

	if (!s->futex_enter || !c)
		return 0;
	d = now - s->futex_enter;
	uaddr = s->futex_uaddr;
	s->futex_enter = 0;
	if (ret == -SC_ETIMEDOUT) {
		c->futex_timeouts++;
	} else if (ret == -SC_EAGAIN) {
		c->futex_eagain++;
	} else if (ret < 0) {
		c->futex_intr++;
	} else {
		struct ls_hist *h = sc_futex_hist.lookup(&zero);

		c->futex_waits++;
		if (h)
			ls_hist_add(h, d);
		s->fx_waits++;
		s->fx_wait_ns += d;
		if (d > s->fx_max_ns)
			s->fx_max_ns = d;
		if (s->fa_waits && s->fa_uaddr != uaddr)
			sc_flush_faddr(s, c);
		s->fa_uaddr = uaddr;
		s->fa_waits++;
		s->fa_wait_ns += d;
		if (d > s->fa_max_ns)
			s->fa_max_ns = d;
		if (s->fa_waits >= SC_FLUSH_AT)
			sc_flush_faddr(s, c);
#ifdef LS_TIMELINE
		if (d >= LS_TRACE_THRESHOLD_NS) {	/* a long wait, for the timeline */
			struct sc_event ev = {};
			u64 id = bpf_get_current_pid_tgid();

			ev.ts = now;
			ev.actual_ns = d;
			ev.requested_ns = uaddr;	/* the futex word */
			ev.tid = tid;
			ev.tgid = id >> 32;
			ev.kind = SC_EV_FUTEX_WAIT;
			ev.cpu = bpf_get_smp_processor_id();
			bpf_get_current_comm(ev.comm, sizeof(ev.comm));
			ls_emit(ctx, &ev, sizeof(ev));
		}
#endif
	}
	return 0;
}

/* --- sleeps --------------------------------------------------------------- */

/* sc_user_ns - a user timespec (or timeval when usec) in ns; SC_NO_TIMEOUT for NULL */
static __always_inline u64 sc_user_ns(u64 p, int usec)
{
	struct sc_timespec ts = {};

	if (!p)
		return SC_NO_TIMEOUT;
	if (bpf_probe_read_user(&ts, sizeof(ts), (void *)p) < 0 || ts.sec < 0 || ts.nsec < 0)
		return SC_NO_TIMEOUT;
	return (u64)ts.sec * 1000000000ULL + (u64)ts.nsec * (usec ? 1000 : 1);
}

/* sc_ms - a poll/epoll timeout in ms: negative waits forever */
static __always_inline u64 sc_ms(u64 arg)
{
	int ms = (int)arg;

	return ms < 0 ? SC_NO_TIMEOUT : (u64)ms * 1000000ULL;
}

/* sc_sleep_enter - a deliberate sleep of req ns starts (req 0 with a timeout: a poll) */
static __always_inline void sc_sleep_enter(struct sc_slot *s, u64 *nowp, u32 kind, u64 req,
    int zero_is_poll)
{
	if (zero_is_poll && req == 0)
		return;	/* a non-blocking poll, not a sleep */
	s->sleep_enter = sc_clock(nowp);
	s->since = s->sleep_enter;
	s->sleep_req = req;
	s->sleep_kind = kind;
}

/* sc_sleep_exit - the sleep ends; it overslept only if it ran to its timeout */
static __always_inline void sc_sleep_exit(void *ctx, struct sc_slot *s, u32 tid, u64 now,
    long ret, struct sc_counters *c)
{
	struct sc_sleep_key k = {};
	struct sc_sleep_val *v;
	u32 zero = 0, kind = s->sleep_kind;
	u64 d, req, *floor;
	int timed_out;

	if (!s->sleep_enter)
		return;
	d = now - s->sleep_enter;
	req = s->sleep_req;
	s->sleep_enter = 0;
	/* sleeps return 0 when their time is up; select/poll/epoll 0 when nothing came */
	timed_out = kind == SC_S_SCHED_YIELD || (kind != SC_S_PAUSE && ret == 0);
	k.tid = tid;
	k.kind = kind;
	v = sc_sleeps.lookup(&k);
	if (!v) {
		struct sc_sleep_val *init = sc_zero_sleep.lookup(&zero);

		if (!init)
			return;
		sc_sleeps.insert(&k, init);
		v = sc_sleeps.lookup(&k);
		if (!v) {
			if (c)
				c->table_full++;
			return;
		}
		v->tgid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(v->comm, sizeof(v->comm));
	}
	v->count++;
	v->actual_ns += d;
	if (req == SC_NO_TIMEOUT)
		return;
	v->timed++;
	v->requested_ns += req;
	if (!timed_out)
		return;
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
}

/*
 * The syscalls of interest are told apart by number in the raw syscall
 * tracepoints: one probe on entry and one on exit instead of a pair per
 * syscall (each syscalls:* event costs every syscall a lookup). The front
 * end passes each number as SC_NR_<name> from the kernel's syscall table;
 * one this architecture lacks is simply not defined.
 *
 * On x86-64, sys_enter is a raw tracepoint too: the perf tracepoint copies
 * all six arguments into a perf buffer on every syscall of every task,
 * which measured 60-100 ns more per syscall than the raw one here. The
 * raw tracepoint's arguments are the user register frame and the number;
 * the few syscalls decoded below read their arguments from that frame in
 * one read. struct pt_regs is the architecture's syscall ABI (di, si, dx,
 * r10, r8 hold arguments 0-4 on every x86-64 kernel), not a kernel data
 * structure whose layout moves, so the probe contract holds. Other
 * architectures keep the perf tracepoint's args[].
 */
struct sc_args {
	u64 a[5];
};

/*
 * SC_DECODED(nr) - a syscall whose arguments the probe reads: the front end
 * passes it with the SC_NR_<name> numbers; without it every syscall's are
 */
#ifndef SC_DECODED
#define SC_DECODED(nr) 1
#endif

/* sc_enter - a monitored thread enters syscall nr: its slot */
static __always_inline struct sc_slot *sc_enter(u32 nr)
{
	struct sc_slot *s;
	u32 tid;

	s = sc_enter_slot(&tid);
	if (!s)
		return 0;
	s->nr = nr + 1;
	s->enter = 0;
	s->since = 0;
	s->blocked = 0;
	return s;
}

/* sc_entered - after any decode: time the call if it is one in SC_TIME_EVERY */
static __always_inline void sc_entered(struct sc_slot *s, u64 now)
{
	if (!now && (++s->seq & (SC_TIME_EVERY - 1)) == 0)
		now = bpf_ktime_get_ns();
	s->enter = now;
}

/* sc_decode - a decoded syscall's arguments; *nowp is set if it is timed */
static __always_inline void sc_decode(struct sc_slot *s, u32 nr, u64 *nowp, const struct sc_args *a)
{
	switch (nr) {
#ifdef SC_NR_futex
	case SC_NR_futex:
		sc_futex_enter(s, nowp, a->a[0], a->a[1] & SC_FUTEX_CMD_MASK);
		break;
#endif
#ifdef SC_NR_futex_waitv
	case SC_NR_futex_waitv:
		sc_futex_enter(s, nowp, a->a[0], SC_FUTEX_WAITV);
		break;
#endif
#ifdef SC_NR_futex_wait
	case SC_NR_futex_wait:
		sc_futex_enter(s, nowp, a->a[0], SC_FUTEX_WAIT2);
		break;
#endif
#ifdef SC_NR_nanosleep
	case SC_NR_nanosleep:
		sc_sleep_enter(s, nowp, SC_S_NANOSLEEP, sc_user_ns(a->a[0], 0), 0);
		break;
#endif
#ifdef SC_NR_clock_nanosleep
	case SC_NR_clock_nanosleep: {
		u64 req = sc_user_ns(a->a[2], 0), now = sc_clock(nowp);

		if ((a->a[1] & 1) && req != SC_NO_TIMEOUT)	/* TIMER_ABSTIME */
			req = a->a[0] != 1 ? SC_NO_TIMEOUT :	/* only CLOCK_MONOTONIC is ktime */
			    req > now ? req - now : 0;
		sc_sleep_enter(s, nowp, SC_S_CLOCK_NANOSLEEP, req, 0);
		break;
	}
#endif
#ifdef SC_NR_select
	case SC_NR_select:
		sc_sleep_enter(s, nowp, SC_S_SELECT, sc_user_ns(a->a[4], 1), 1);
		break;
#endif
#ifdef SC_NR_pselect6
	case SC_NR_pselect6:
		sc_sleep_enter(s, nowp, SC_S_PSELECT6, sc_user_ns(a->a[4], 0), 1);
		break;
#endif
#ifdef SC_NR_poll
	case SC_NR_poll:
		sc_sleep_enter(s, nowp, SC_S_POLL, sc_ms(a->a[2]), 1);
		break;
#endif
#ifdef SC_NR_ppoll
	case SC_NR_ppoll:
		sc_sleep_enter(s, nowp, SC_S_PPOLL, sc_user_ns(a->a[2], 0), 1);
		break;
#endif
#ifdef SC_NR_epoll_wait
	case SC_NR_epoll_wait:
		sc_sleep_enter(s, nowp, SC_S_EPOLL_WAIT, sc_ms(a->a[3]), 1);
		break;
#endif
#ifdef SC_NR_epoll_pwait
	case SC_NR_epoll_pwait:
		sc_sleep_enter(s, nowp, SC_S_EPOLL_PWAIT, sc_ms(a->a[3]), 1);
		break;
#endif
#ifdef SC_NR_sched_yield
	case SC_NR_sched_yield:
		sc_sleep_enter(s, nowp, SC_S_SCHED_YIELD, 0, 0);
		break;
#endif
#ifdef SC_NR_pause
	case SC_NR_pause:
		sc_sleep_enter(s, nowp, SC_S_PAUSE, SC_NO_TIMEOUT, 0);
		break;
#endif
	default:
		break;
	}
}

#if defined(__x86_64__)
/*
 * The frame from r10 to di. struct pt_regs begins r15, r14, r13, r12, bp,
 * bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax, ip... on every x86-64
 * kernel: the order ptrace(2) exports as struct user_regs_struct. Spelled
 * out here instead of including <asm/ptrace.h>, which costs every compile
 * a third of a second.
 */
#define SC_X86_R10_OFF (7 * 8)
struct sc_x86_frame {
	u64 r10, r9, r8, ax, cx, dx, si, di;
};

/*
 * raw: (struct pt_regs *regs, long id). A futex call needs only si and di,
 * the frame's last 16 bytes: the smaller read saves ~10 ns on the calls
 * this probe decodes most.
 */
RAW_TRACEPOINT_PROBE(sys_enter)
{
	u64 frame = ctx->args[0] + SC_X86_R10_OFF, now = 0;
	struct sc_x86_frame f = {};
	struct sc_args a;
	struct sc_slot *s;
	u32 nr = (u32)ctx->args[1];
	long err;

	s = sc_enter(nr);
	if (!s)
		return 0;
	if (SC_DECODED(nr)) {
#ifdef SC_NR_futex
		if (nr == SC_NR_futex)
			err = bpf_probe_read_kernel(&f.si, 2 * sizeof(u64),
			    (void *)(frame + __builtin_offsetof(struct sc_x86_frame, si)));
		else
#endif
			err = bpf_probe_read_kernel(&f, sizeof(f), (void *)frame);
		if (err == 0) {
			a.a[0] = f.di;
			a.a[1] = f.si;
			a.a[2] = f.dx;
			a.a[3] = f.r10;
			a.a[4] = f.r8;
			sc_decode(s, nr, &now, &a);
		}
	}
	sc_entered(s, now);
	return 0;
}
#else
TRACEPOINT_PROBE(raw_syscalls, sys_enter)
{
	struct sc_args a;
	struct sc_slot *s;
	u32 nr = (u32)args->id;
	u64 now = 0;

	s = sc_enter(nr);
	if (!s)
		return 0;
	if (SC_DECODED(nr)) {
		for (int i = 0; i < 5; i++)
			a.a[i] = args->args[i];
		sc_decode(s, nr, &now, &a);
	}
	sc_entered(s, now);
	return 0;
}
#endif

/*
 * raw: (struct pt_regs *regs, long ret); the number is in the slot already.
 * The clock is read only when the call was timed or blocked.
 */
RAW_TRACEPOINT_PROBE(sys_exit)
{
	long ret = (long)ctx->args[1];
	struct sc_rate_key k = {};
	struct sc_counters *c;
	struct sc_tally *t;
	struct sc_slot *s;
	u32 tid;
	u64 now = 0;

	s = sc_exit_slot(&tid);
	if (!s || !s->nr)
		return 0;
	if (s->enter || s->blocked)
		now = bpf_ktime_get_ns();
	k.tid = tid;
	k.nr = s->nr - 1;
	s->nr = 0;
	c = sc_cnt();
	if (c)
		c->syscalls++;
	if (s->futex_enter)
		sc_futex_exit(ctx, s, tid, now, ret, c);
	if (s->sleep_enter)
		sc_sleep_exit(ctx, s, tid, now, ret, c);
	t = sc_tally_of(s, k.nr, c);
	if (t->count >= SC_FLUSH_AT)
		sc_flush_rate(s, t, c);
	t->count++;
	if (s->enter) {
		t->timed++;
		t->ns += now - s->enter;
	}
	if (s->blocked && s->since) {
		u64 d = now - s->since;
		u32 fi = k.nr & (SC_BLOCKED_FAST - 1), zero = 0;
		struct sc_blocked_ent *e = sc_blocked_fast.lookup(&fi);
		struct sc_blocked_key bk = {};
		struct ls_hist *h;

		if (e && (e->nr == k.nr + 1 || e->nr == 0)) {
			e->nr = k.nr + 1;
			ls_hist_add(&e->h, d);
			return 0;
		}
		bk.nr = k.nr;
		bk.cpu = bpf_get_smp_processor_id();
		h = sc_blocked.lookup(&bk);
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

/*
 * A launcher (taskset, numactl, chrt, a shell) execs the program it starts:
 * the thread keeps its tid and takes the program's name. Tallies made
 * before carry the old name; user space renames every row of the tid.
 */
TRACEPOINT_PROBE(sched, sched_process_exec)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = (u32)id, idx = tid % SC_NSLOTS;
	struct sc_slot *s;
	struct sc_name n = {};

	if (!ls_enabled() || !LS_MONITORED((u32)(id >> 32)))
		return 0;
	bpf_get_current_comm(n.comm, sizeof(n.comm));
	sc_names.update(&tid, &n);
	s = sc_slots.lookup(&idx);
	if (s && s->tid == tid)
		bpf_get_current_comm(s->comm, sizeof(s->comm));
	return 0;
}
