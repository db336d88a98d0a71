/* SPDX-License-Identifier: GPL-2.0-only */
/* syscall.h - map layouts shared by probes/syscall.c and src/mod-syscall.c */
#ifndef LS_SYSCALL_H
#define LS_SYSCALL_H

#include "ls_hist.h"

#define SC_COMM_LEN	16
#define SC_SLOTS	65536	/* task slots: tid % SC_SLOTS, tagged with the tid */

/* the syscalls that sleep on purpose */
enum sc_sleep {
	SC_S_NANOSLEEP,
	SC_S_CLOCK_NANOSLEEP,
	SC_S_SELECT,
	SC_S_PSELECT6,
	SC_S_POLL,
	SC_S_PPOLL,
	SC_S_EPOLL_WAIT,
	SC_S_EPOLL_PWAIT,
	SC_S_SCHED_YIELD,
	SC_S_PAUSE,
	SC_NR_SLEEPS
};

/* futex commands (op & FUTEX_CMD_MASK) */
#define SC_FUTEX_WAIT		0
#define SC_FUTEX_WAKE		1
#define SC_FUTEX_REQUEUE	3
#define SC_FUTEX_CMP_REQUEUE	4
#define SC_FUTEX_WAKE_OP	5
#define SC_FUTEX_LOCK_PI	6
#define SC_FUTEX_UNLOCK_PI	7
#define SC_FUTEX_TRYLOCK_PI	8
#define SC_FUTEX_WAIT_BITSET	9
#define SC_FUTEX_WAKE_BITSET	10
#define SC_FUTEX_WAIT_REQUEUE_PI 11
#define SC_FUTEX_CMP_REQUEUE_PI	12
#define SC_FUTEX_LOCK_PI2	13
#define SC_FUTEX_CMD_MASK	0x7f
#define SC_FUTEX_WAITV		100	/* futex_waitv(2), not an op */
#define SC_FUTEX_WAIT2		101	/* futex_wait(2), not an op */

/*
 * sc_slot - a monitored thread's state (array slot tid % SC_SLOTS, tagged
 * with the tid). Besides the syscall in progress it tallies what would
 * otherwise cost a hash update per syscall: calls of the last SC_TALLIES
 * syscall numbers (a loop of read and write, or epoll_wait, recvfrom and
 * sendto, stays in the slot), the thread's futex waits, waits on its
 * current futex word. The tallies move to the hash maps when a new number
 * or word takes their place, when they grow large, or when another thread
 * takes the slot; user space adds what is still in the slots at the end.
 */
#define SC_FLUSH_AT 1024

/*
 * SC_TIME_EVERY - one syscall in this many per thread is timed for the rate
 * table's time column (a clock read costs ~45 ns at entry and again at
 * exit); futex waits and sleeps are always timed, and a blocked syscall's
 * time is measured from its switch-out. A power of two.
 */
#define SC_TIME_EVERY 8
#define SC_TALLIES 4

/* sc_tally - a thread's calls of one syscall not yet in sc_rates */
struct sc_tally {
	ls_u32 nr;		/* syscall number + 1; 0: free */
	ls_u32 pad;
	ls_u64 count;
	ls_u64 timed;		/* how many of them were timed */
	ls_u64 ns;		/* their time */
};
struct sc_slot {
	ls_u32 tid;		/* tag: the slot's owner */
	ls_u32 nr;		/* syscall in progress + 1; 0 when none */
	ls_u64 enter;		/* entry time of a timed syscall; 0: not timed */
	ls_u64 since;		/* blocked from: a futex wait's or sleep's entry, else the switch-out */
	ls_u32 blocked;		/* switched out voluntarily during the syscall */
	ls_u32 seq;		/* syscalls entered, for the timing sample */
	ls_u64 futex_enter;	/* 0: not in a futex wait */
	ls_u64 futex_uaddr;
	ls_u64 sleep_enter;	/* 0: not in a sleep */
	ls_u64 sleep_req;	/* requested ns; ~0: no finite timeout */
	ls_u32 sleep_kind;
	ls_u32 tgid;		/* the owner's process */
	char	comm[SC_COMM_LEN];	/* the owner's name when it took the slot */
	ls_u32 rate_next;	/* tally to give up next (round robin) */
	ls_u32 pad;
	struct sc_tally rate[SC_TALLIES];
	ls_u64 fx_waits;	/* the owner's woken futex waits (in sc_fthreads when evicted) */
	ls_u64 fx_wait_ns;
	ls_u64 fx_max_ns;
	ls_u64 fa_uaddr;	/* futex word being tallied, not yet in sc_faddrs */
	ls_u64 fa_waits;
	ls_u64 fa_wait_ns;
	ls_u64 fa_max_ns;
};

/* sc_counters - per CPU */
struct sc_counters {
	ls_u64 syscalls;
	ls_u64 futex_waits;	/* returned 0: really waited and was woken */
	ls_u64 futex_timeouts;	/* -ETIMEDOUT */
	ls_u64 futex_eagain;	/* -EAGAIN: the value had changed, no wait */
	ls_u64 futex_intr;	/* -EINTR and other errors */
	ls_u64 futex_wakes;
	ls_u64 slot_collisions;	/* two live threads on one slot: a call not itemised */
	ls_u64 table_full;	/* a per-thread table was full */
};

/* sc_rate_key / sc_rate_val - per thread and syscall */
struct sc_rate_key {
	ls_u32 tid;
	ls_u32 nr;
};

struct sc_rate_val {
	ls_u64 count;
	ls_u64 timed;		/* calls timed (futex waits, sleeps, one in SC_TIME_EVERY) */
	ls_u64 time_ns;		/* their time */
	ls_u32 tgid;
	ls_u32 pad;
	char	comm[SC_COMM_LEN];
};

/* sc_blocked_key - a syscall that blocked, on one CPU (value: struct ls_hist) */
struct sc_blocked_key {
	ls_u32 nr;
	ls_u32 cpu;
};

/*
 * sc_blocked_ent - the same in a per-CPU array slot (nr % SC_BLOCKED_FAST),
 * kept by the first syscall to block there on each CPU: a thread that
 * blocks in the same one or two syscalls all the time (a futex, a read)
 * then costs no hash lookup; others go to the hash map
 */
#define SC_BLOCKED_FAST 16
struct sc_blocked_ent {
	ls_u32 nr;		/* syscall number + 1; 0: free */
	ls_u32 pad;
	struct ls_hist h;
};

/* sc_name - a thread's name after its last exec() in the run (key: tid) */
struct sc_name {
	char	comm[SC_COMM_LEN];
};

/* sc_fthread_val - futex waits of one thread (key: tid) */
struct sc_fthread_val {
	ls_u64 waits;
	ls_u64 wait_ns;
	ls_u64 max_ns;
	ls_u32 tgid;
	ls_u32 pad;
	char	comm[SC_COMM_LEN];
};

/* sc_faddr_key - a futex word of a process */
struct sc_faddr_key {
	ls_u32 tgid;
	ls_u32 pad;
	ls_u64 uaddr;
};

struct sc_faddr_val {
	ls_u64 waits;
	ls_u64 wait_ns;
	ls_u64 max_ns;
};

/* sc_sleep_key / sc_sleep_val - sleeps of one thread by syscall */
struct sc_sleep_key {
	ls_u32 tid;
	ls_u32 kind;	/* enum sc_sleep */
};

struct sc_sleep_val {
	struct ls_hist over;	/* oversleep: actual - requested, when it ran to its timeout */
	ls_u64 count;
	ls_u64 timed;		/* with a finite requested time */
	ls_u64 requested_ns;
	ls_u64 actual_ns;
	ls_u32 tgid;
	ls_u32 pad;
	char	comm[SC_COMM_LEN];
};

/* sc_event - one oversleep at or above the floor */
#define SC_EV_FUTEX_WAIT 1000	/* sc_event.kind of a futex wait (timeline): requested_ns holds the word */

struct sc_event {
	ls_u64 ts;		/* when the sleep ended */
	ls_u64 requested_ns;
	ls_u64 actual_ns;
	ls_u32 tid;
	ls_u32 tgid;
	ls_u32 kind;
	ls_u32 cpu;
	char	comm[SC_COMM_LEN];
};

#endif /* LS_SYSCALL_H */
