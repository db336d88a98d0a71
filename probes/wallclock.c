// SPDX-License-Identifier: GPL-2.0-only
/*
 * wallclock.c - BPF side of the wall-clock profiler: where a thread's time
 * goes, running or waiting, with stacks. Reads tracepoint arguments and
 * perf sample registers only.
 *
 * On CPU: the cpu-clock software event samples every monitored CPU at
 * --frequency; a sample of a monitored thread adds its period (the time it
 * stands for, which the kernel adjusts in frequency mode) to its (thread,
 * kernel stack, user stack) record. Samples only share a thread's running
 * time among its stacks: the time itself is exact, summed from switch-in
 * to switch-out (wc_oncpu; user space adds what still runs at the end).
 * Off CPU: sched_switch takes the stacks of a monitored thread as it
 * leaves the CPU (in its own context) and the time; when it comes back, a
 * block of at least --min-block adds the time to (thread, stacks, task
 * state), a shorter one to (thread, state) without stacks. Stack capture
 * is the expensive part, so threads are filtered first and --state is
 * checked before it.
 *
 * The front end passes WC_PERIOD_NS (10^9 / frequency), WC_MIN_BLOCK_NS
 * and WC_STATE_MASK (bit per enum wc_state to keep off CPU).
 */

#include "latencyscope.h"
#include "wallclock.h"

#ifndef WC_PERIOD_NS
#define WC_PERIOD_NS 10101010
#endif
#ifndef WC_MIN_BLOCK_NS
#define WC_MIN_BLOCK_NS 1000
#endif
#ifndef WC_STATE_MASK
#define WC_STATE_MASK 0xffffffff
#endif
/* tid-indexed block slots: a power of two >= pid_max, at most 65536 */
#if LS_PID_MAX <= 32768
#define WC_SLOTS 32768
#else
#define WC_SLOTS 65536
#endif

BPF_STACK_TRACE(wc_stacks, WC_STACKS);
BPF_HASH(wc_time, struct wc_key, struct wc_val, 40960);
BPF_ARRAY(wc_blocks, struct wc_block, WC_SLOTS);
BPF_PERCPU_ARRAY(wc_counters, struct wc_counters, 1);
BPF_PERCPU_ARRAY(wc_curs, struct wc_cur, 1);
BPF_HASH(wc_oncpu, u32, struct wc_on, 16384);

/*
 * Off-CPU user stacks are remembered per CPU and thread. A thread mostly
 * blocks where it blocked before (its loop's epoll_wait, futex or read),
 * and the user-stack walk costs little per frame: what costs is its end.
 * The kernel's frame-pointer walk stops where reading the next frame
 * faults (the outermost frame pointer is 0 or junk), and that fault, taken
 * with page faults disabled, is microseconds on some hosts (5 us on a
 * paravirtualized guest, 70 % of a block's cost). A walk limited to the
 * depth of the thread's last full walk stops before the fault; when it
 * returns the same frames the stack is that one and its id is reused.
 * Otherwise one full walk gives the frames, and a stack seen before (by
 * any thread) is found by their hash in wc_uids; only a new one is walked
 * again by bpf_get_stackid to be stored. Per CPU, so a slot is never read
 * while another CPU writes it; a pinned thread always finds its own.
 */
#define WC_UC_DEPTH	32	/* deeper stacks are always walked in full */
#define WC_UC_SLOTS	512	/* per CPU, by tid */
#define WC_UC_DEEP	16	/* blocks walked in full before a too-deep stack is tried again */

struct wc_ucache {
	u32	tid;
	s32	ustack;		/* its id in wc_stacks */
	u32	n;		/* frames of the full walk, 0: none kept */
	u32	deep;		/* blocks left to walk in full: the stack was too deep */
	u64	ip[WC_UC_DEPTH];
};

struct wc_uframes {
	u64	ip[2 * WC_UC_DEPTH];	/* room for any size the verifier can bound by a mask */
};

BPF_PERCPU_ARRAY(wc_ucache, struct wc_ucache, WC_UC_SLOTS);
BPF_PERCPU_ARRAY(wc_uframes, struct wc_uframes, 1);
BPF_HASH(wc_uids, u64, s32, WC_STACKS);	/* hash of a user stack's frames -> its id */

/* wc_start - when the gate opened: the start of whatever was running then */
static __always_inline u64 wc_start(void)
{
	u32 zero = 0;
	u64 *t = ls_start.lookup(&zero);

	return t ? *t : 0;
}

static __always_inline struct wc_counters *wc_cnt(void)
{
	u32 zero = 0;

	return wc_counters.lookup(&zero);
}

/* wc_add - ns more for a (thread, stacks, state) record */
static __always_inline void wc_add(struct wc_key *k, u64 ns, const char *comm,
    const struct wc_calls *calls, struct wc_counters *c)
{
	struct wc_val *v = wc_time.lookup(k);

	if (!v) {
		struct wc_val init = {};

		__builtin_memcpy(init.comm, comm, WC_COMM_LEN);
		if (calls)
			init.calls = *calls;
		wc_time.insert(k, &init);
		v = wc_time.lookup(k);
		if (!v) {
			c->table_full++;
			return;
		}
	}
	/* one CPU at a time updates a key: its thread runs (or comes back) on one CPU */
	v->ns += ns;
	v->count++;
}

/* wc_rel32 - the little-endian 32-bit displacement at b */
static __always_inline s64 wc_rel32(const u8 *b)
{
	return (s32)((u32)b[0] | (u32)b[1] << 8 | (u32)b[2] << 16 | (u32)b[3] << 24);
}

/*
 * wc_plt - where a direct call to t goes: a PLT stub (jmp *GOT(%rip),
 * after an endbr64 and a bnd prefix or not) is followed to the address its
 * GOT slot holds; anything else is t itself
 */
static __always_inline u64 wc_plt(u64 t)
{
	u8 b[12];
	u64 slot = 0, to = 0;

	if (bpf_probe_read_user(b, sizeof(b), (void *)t) < 0)
		return t;
	if (b[0] == 0xff && b[1] == 0x25)
		slot = t + 6 + wc_rel32(b + 2);
	else if (b[0] == 0xf2 && b[1] == 0xff && b[2] == 0x25)
		slot = t + 7 + wc_rel32(b + 3);
	else if (b[0] == 0xf3 && b[1] == 0x0f && b[2] == 0x1e && b[3] == 0xfa &&
	    b[4] == 0xff && b[5] == 0x25)
		slot = t + 10 + wc_rel32(b + 6);
	else if (b[0] == 0xf3 && b[1] == 0x0f && b[2] == 0x1e && b[3] == 0xfa &&
	    b[4] == 0xf2 && b[5] == 0xff && b[6] == 0x25)
		slot = t + 11 + wc_rel32(b + 7);
	if (slot && bpf_probe_read_user(&to, sizeof(to), (void *)slot) == 0 && to)
		return to;
	return t;
}

/*
 * wc_call - w is a return address: the instruction before it is a call
 * (rel32; *disp32(%rip); *%reg; *(%reg); *disp8(%reg)); *to is the
 * function a direct call entered, 0 for the others
 */
static __always_inline int wc_call(u64 w, u64 *to)
{
	u8 b[8];

	*to = 0;
	if (w < 4096 || bpf_probe_read_user(b, sizeof(b), (void *)(w - 8)) < 0)
		return 0;
	if (b[3] == 0xe8) {
		*to = wc_plt(w + wc_rel32(b + 4));
		return 1;
	}
	return (b[2] == 0xff && b[3] == 0x15) ||
	    (b[6] == 0xff && ((b[7] & 0xf8) == 0xd0 || (b[7] & 0xf8) == 0x10)) ||
	    (b[5] == 0xff && (b[6] & 0xf8) == 0x50) || (b[4] == 0xff && b[5] == 0x54);
}

/*
 * wc_frame_ret - the return address in the frame record at fp, and in *to
 * the function its call entered
 */
static __always_inline u64 wc_frame_ret(u64 fp, u64 *to)
{
	u64 ret = 0;

	*to = 0;
	if (bpf_probe_read_user(&ret, sizeof(ret), (void *)(fp + 8)) == 0)
		wc_call(ret, to);
	return ret;
}

/*
 * wc_leaf_callers - a sample in user code: the return addresses the
 * frame-pointer walk skips. A function that sets up no frame (a libc or
 * vDSO leaf, or a libc wrapper between two framed functions) leaves the
 * frame pointer at its caller's frame, so the walk goes from the function
 * below it straight to its caller's caller; its own return address lies on
 * the stack between two frames. Scanned: from the stack pointer to the
 * frame pointer (callers of the sampled leaf), then past that frame to the
 * one it saved (callers between the first two walked frames, tagged
 * WC_LEAF_HOP), WC_LEAF_SCAN words in all.
 */
static __always_inline void wc_leaf_callers(struct bpf_perf_event_data *ctx, struct wc_key *k,
    struct wc_calls *calls)
{
#ifdef LS_PERF_REGS_SP_OFF
	u64 a = *(u64 *)((char *)ctx + LS_PERF_REGS_SP_OFF);
	u64 end = *(u64 *)((char *)ctx + LS_PERF_REGS_BP_OFF);
	u64 cs = *(u64 *)((char *)ctx + LS_PERF_REGS_CS_OFF);
	u64 tag = 0, anchor = 0, to;
	int n = 0, hop = 0;

	if ((cs & 3) != 3)
		return;		/* in the kernel: the user stack is walked from the syscall */
	if (end <= a || end - a > 4096) {
		end = a + WC_LEAF_SCAN * 8;	/* no frame pointer in reach: a bounded scan */
		hop = 1;
	} else {
		anchor = wc_frame_ret(end, &calls->frame_to[0]);
	}
#pragma unroll
	for (int i = 0; i < WC_LEAF_SCAN; i++) {
		u64 w = 0;

		if (n >= WC_LEAF_FRAMES)
			break;
		if (a >= end) {
			u64 next = 0;

			/* past the frame: its saved frame pointer, then its return (the walk's) */
			if (hop || bpf_probe_read_user(&next, sizeof(next), (void *)end) < 0 ||
			    next <= end + 16 || next - end > 4096)
				break;
			a = end + 16;
			end = next;
			anchor = wc_frame_ret(end, &calls->frame_to[1]);
			tag = WC_LEAF_HOP;
			hop = 1;
		}
		/* a copy of the walk's own return address is no caller of its own */
		if (bpf_probe_read_user(&w, sizeof(w), (void *)a) == 0 && w != anchor &&
		    wc_call(w, &to)) {
			/* constant indexes: a variable one into the stack key confuses the verifier */
			_Static_assert(WC_LEAF_FRAMES == 2, "one branch per kept caller");
			if (n == 0) {
				k->leaf[0] = w | tag;
				calls->leaf_to[0] = to;
			} else {
				k->leaf[1] = w | tag;
				calls->leaf_to[1] = to;
			}
			n++;
		}
		a += 8;
	}
#endif
}

LS_SOFTWARE_EVENT_PROBE(cpu_clock)
{
	u64 id = bpf_get_current_pid_tgid(), period;
	struct wc_counters *c = wc_cnt();
	struct wc_key k = {};
	struct wc_calls calls = {};
	char comm[WC_COMM_LEN];

	if (!c || !ls_enabled())
		return 0;
	if ((u32)id == 0) {
		c->idle_samples++;
		return 0;
	}
	if (!LS_MONITORED((u32)(id >> 32)))
		return 0;
	c->samples++;
	{
		u32 zero = 0;
		struct wc_cur *cur = wc_curs.lookup(&zero);

		/* no switch on this CPU yet: this thread has run since the gate opened */
		if (cur && !cur->ts) {
			cur->ts = wc_start();
			cur->tid = (u32)id;
		}
	}
	k.tgid = id >> 32;
	k.tid = (u32)id;
	k.state = WC_ST_RUNNING;
	k.kstack = wc_stacks.get_stackid(ctx, BPF_F_FAST_STACK_CMP);
	k.ustack = wc_stacks.get_stackid(ctx, BPF_F_USER_STACK | BPF_F_FAST_STACK_CMP);
	if (k.kstack < 0 && k.kstack != -WC_EFAULT)
		c->stack_errors++;
	if (k.ustack < 0 && k.ustack != -WC_EFAULT)
		c->stack_errors++;
	wc_leaf_callers(ctx, &k, &calls);
	if (k.leaf[0])
		c->leaf_samples++;
	bpf_get_current_comm(comm, sizeof(comm));
	/* the period this sample stands for: in frequency mode the kernel adjusts it */
	period = LS_PERF_SAMPLE_PERIOD(ctx);
	wc_add(&k, period ? period : WC_PERIOD_NS, comm, &calls, c);
	return 0;
}

/* wc_state_of - enum wc_state of sched_switch's prev_state */
static __always_inline u32 wc_state_of(long st)
{
	if (st & 0x100)
		return WC_ST_PREEMPTED;
	st &= 0xff;
	if (!st)
		return WC_ST_RUNNABLE;
#pragma unroll
	for (int i = 0; i < 8; i++)
		if (st & (1 << i))
			return WC_ST_BIT0 + i;
	return WC_ST_RUNNABLE;
}

/* wc_block_end - thread tid comes back on CPU: its block, if one was open, ends now */
static __always_inline void wc_block_end(u32 tid, u64 now, struct wc_counters *c)
{
	u32 idx = tid & (WC_SLOTS - 1);
	struct wc_block *b = wc_blocks.lookup(&idx);
	struct wc_key k = {};
	u64 d;

	if (!b || !tid || b->tid != tid || !b->ts)
		return;
	d = now - b->ts;
	b->ts = 0;
	k.tgid = b->tgid;
	k.tid = tid;
	k.state = b->state;
	if (d >= WC_MIN_BLOCK_NS) {
		k.kstack = b->kstack;
		k.ustack = b->ustack;
		c->blocks++;
	} else {
		/* too short to list with its stacks, still part of the thread's time */
		k.kstack = k.ustack = -WC_SHORT;
		c->short_blocks++;
	}
	wc_add(&k, d, b->comm, NULL, c);
}

/*
 * wc_ran - the current thread leaves the CPU: it ran since it came on (or
 * since the gate opened). A switch-in this CPU did not record (it happens,
 * rarely) leaves the latest bound known: after the CPU's last recorded
 * switch and after the thread's own last switch-out.
 */
static __always_inline void wc_ran(u32 tid, u32 tgid, u64 now, const struct wc_cur *cur,
    struct wc_counters *c)
{
	struct wc_on *o = wc_oncpu.lookup(&tid);
	u64 since;

	if (!o) {
		struct wc_on init = {};

		init.tgid = tgid;
		wc_oncpu.insert(&tid, &init);
		o = wc_oncpu.lookup(&tid);
		if (!o) {
			c->on_full++;
			return;
		}
	}
	if (!cur || !cur->ts) {
		since = wc_start();
	} else if (cur->tid == tid) {
		since = cur->ts;
	} else {
		since = cur->ts > o->last_out ? cur->ts : o->last_out;
		c->unseen_in++;
	}
	if (since && now > since)
		o->ns += now - since;
	o->last_out = now;
}

/* wc_same - the first n frames just walked are the slot's */
static __always_inline int wc_same(const struct wc_uframes *f, const struct wc_ucache *s, u32 n)
{
	u64 diff = 0;

	/* all of them, no early exit: a loop the compiler cannot reshape past the verifier */
#pragma unroll
	for (int i = 0; i < WC_UC_DEPTH; i++)
		diff |= i < n ? f->ip[i] ^ s->ip[i] : 0;
	return !diff;
}

/* wc_uhash - a 64-bit hash of n frames (FNV-1a over words, mixed) */
static __always_inline u64 wc_uhash(const struct wc_uframes *f, u32 n)
{
	u64 h = 0xcbf29ce484222325ULL;

#pragma unroll
	for (int i = 0; i < WC_UC_DEPTH; i++) {
		u64 x = i < n ? (h ^ f->ip[i]) * 0x100000001b3ULL : h;

		h = x ^ (x >> 29);
	}
	return h ^ n;
}

/* wc_ufull - a full walk's id: a stack seen before by its hash, a new one stored */
static __always_inline s32 wc_ufull(void *ctx, struct wc_ucache *s, struct wc_uframes *f)
{
	/* one frame more than kept: a stack that fills it is too deep to keep */
	long r = bpf_get_stack(ctx, f->ip, (WC_UC_DEPTH + 1) * sizeof(u64), BPF_F_USER_STACK);
	u32 n;
	u64 h;
	s32 id, *known;

	s->n = 0;
	if (r > WC_UC_DEPTH * sizeof(u64))
		s->deep = WC_UC_DEEP;
	if (r <= 0 || r > WC_UC_DEPTH * sizeof(u64))	/* none (a kernel thread), or deep */
		return wc_stacks.get_stackid(ctx, BPF_F_USER_STACK | BPF_F_FAST_STACK_CMP);
	n = r / sizeof(u64);
	h = wc_uhash(f, n);
	known = wc_uids.lookup(&h);
	if (known) {
		id = *known;
	} else {
		id = wc_stacks.get_stackid(ctx, BPF_F_USER_STACK | BPF_F_FAST_STACK_CMP);
		if (id >= 0)
			wc_uids.update(&h, &id);
	}
	if (id >= 0) {
#pragma unroll
		for (int i = 0; i < WC_UC_DEPTH; i++)
			s->ip[i] = f->ip[i];
		s->ustack = id;
		s->n = n;
	}
	return id;
}

/* wc_ustack - the current thread's user stack id, from its slot when the stack is the same */
static __always_inline s32 wc_ustack(void *ctx, u32 tid, struct wc_counters *c)
{
	u32 idx = tid & (WC_UC_SLOTS - 1), zero = 0, n;
	struct wc_ucache *s = wc_ucache.lookup(&idx);
	struct wc_uframes *f = wc_uframes.lookup(&zero);

	if (!s || !f)
		return wc_stacks.get_stackid(ctx, BPF_F_USER_STACK | BPF_F_FAST_STACK_CMP);
	if (s->tid != tid) {
		s->tid = tid;
		s->n = 0;
		s->deep = 0;
	}
	if (s->deep) {
		s->deep--;
		return wc_stacks.get_stackid(ctx, BPF_F_USER_STACK | BPF_F_FAST_STACK_CMP);
	}
	n = s->n;
	if (n && n <= WC_UC_DEPTH) {
		/* the mask is a no-op the verifier can follow */
		long r = bpf_get_stack(ctx, f->ip, (n & (2 * WC_UC_DEPTH - 1)) * sizeof(u64),
		    BPF_F_USER_STACK);

		if (r == n * sizeof(u64) && wc_same(f, s, n)) {
			c->ustacks_reused++;
			return s->ustack;
		}
	}
	return wc_ufull(ctx, s, f);
}

/* wc_block_slot - the slot the current thread's block opens in, stamped; stacks are the caller's */
static __always_inline struct wc_block *wc_block_slot(u32 tid, u32 tgid, u32 st, u64 now,
    struct wc_counters *c)
{
	u32 idx = tid & (WC_SLOTS - 1);
	struct wc_block *b = wc_blocks.lookup(&idx);

	if (!b)
		return 0;
	if (b->ts && b->tid != tid)
		c->slot_busy++;
	b->ts = now;
	b->tid = tid;
	b->tgid = tgid;
	b->state = st;
	return b;
}

TRACEPOINT_PROBE(sched, sched_switch)
{
	u64 id = bpf_get_current_pid_tgid(), now;
	u32 prev = args->prev_pid, next = args->next_pid, tgid = id >> 32, zero = 0;
	struct wc_counters *c;
	struct wc_cur *cur;
	int mon;

	if (!ls_enabled() || !(c = wc_cnt()))
		return 0;
	now = bpf_ktime_get_ns();
	wc_block_end(next, now, c);
	cur = wc_curs.lookup(&zero);
	mon = prev && LS_MONITORED(tgid);
	if (mon)
		wc_ran(prev, tgid, now, cur, c);
	if (cur) {
		cur->ts = now;
		cur->tid = next;
	}
	if (mon) {
		u32 st = wc_state_of(args->prev_state);

		struct wc_block *b;

		/* the stacks, in the leaving thread's own context */
		if (!((WC_STATE_MASK >> st) & 1) || !(b = wc_block_slot(prev, tgid, st, now, c)))
			return 0;
		b->kstack = wc_stacks.get_stackid(args, BPF_F_FAST_STACK_CMP);
		b->ustack = wc_ustack(args, prev, c);
		if (b->kstack < 0 && b->kstack != -WC_EFAULT)
			c->stack_errors++;
		if (b->ustack < 0 && b->ustack != -WC_EFAULT)
			c->stack_errors++;
		__builtin_memcpy(b->comm, args->prev_comm, WC_COMM_LEN);
	}
	return 0;
}
