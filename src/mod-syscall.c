// SPDX-License-Identifier: GPL-2.0-only
/*
 * mod-syscall.c - Lock & Syscall Contention, user side: futex waits and
 * their hottest words, syscalls that blocked, deliberate sleeps and their
 * oversleep, syscall rates per thread.
 */

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <bcc/bcc_common.h>
#include <bcc/libbpf.h>
#include <jansson.h>

#include "latencyscope.h"
#include "syscall.h"
#include "mod-syscall.h"

static const char *const sleep_names[SC_NR_SLEEPS] = {
	"nanosleep", "clock_nanosleep", "select", "pselect6", "poll", "ppoll", "epoll_wait",
	"epoll_pwait", "sched_yield", "pause",
};

static const struct ls_threshold_def sc_thresholds[] = {
	{ "syscall.futex_wait_max", LS_T_NS, 100000,
	  "FAIL (with --pid; WARN without) when a futex wait of a monitored thread exceeds this; "
	  "shorter waits WARN as contention" },
	{ "syscall.blocked_max", LS_T_NS, 100000,
	  "FAIL (with --pid; WARN without) when a monitored thread blocks in one syscall longer "
	  "than this; --allow-block names syscalls meant to block (epoll_wait of an event loop)" },
	{ "syscall.sleeps", LS_T_COUNT, 0,
	  "FAIL (with --pid; WARN without) when a monitored thread calls a sleeping syscall "
	  "(nanosleep, select/poll/epoll with a timeout, sched_yield, pause) more often" },
	{ "syscall.rate_max", LS_T_COUNT, 200000,
	  "WARN when a thread makes more syscalls per second than this" },
	{ NULL, 0, 0, NULL },
};

/*
 * sc_prepare - the numbers of the syscalls the probe tells apart, as
 * SC_NR_<name>, and SC_DECODED(nr), true for any of them
 */
static int sc_prepare(struct ls_probe *p, const struct ls_run *r, char *err, size_t errlen)
{
	static const char *const wanted[] = {
		"futex", "futex_waitv", "futex_wait", "nanosleep", "clock_nanosleep", "select",
		"pselect6", "poll", "ppoll", "epoll_wait", "epoll_pwait", "sched_yield", "pause",
	};
	struct sc_priv *sp = ls_xcalloc(1, sizeof(*sp));

	p->priv = sp;
	sc_load_names(sp, r);
	const struct sc_opts *so = ls_module_opts(r->opts, p->ops);

	if (so->allow_block && sc_check_allow_block(sp, so->allow_block, err, errlen) < 0)
		return -1;
	char decoded[512] = "";
	size_t len = 0;

	for (int nr = 0; nr < SC_MAX_NR; nr++)
		for (size_t i = 0; sp->names[nr] && i < sizeof(wanted) / sizeof(wanted[0]); i++)
			if (!strcmp(sp->names[nr], wanted[i])) {
				ls_probe_cflag(p, "-DSC_NR_%s=%d", wanted[i], nr);
				if (len < sizeof(decoded))
					len += snprintf(decoded + len, sizeof(decoded) - len, "%s(n)==%d",
					    len ? "||" : "", nr);
			}
	if (len && len < sizeof(decoded))
		ls_probe_cflag(p, "-DSC_DECODED(n)=(%s)", decoded);
	return 0;
}

static int sc_setup(struct ls_probe *p, const struct ls_run *r, char *err, size_t errlen)
{
	return ls_probe_set_u64(p, "sc_floor", 1);
}

/* sc_key - a sleep ranks by its oversleep */
static uint64_t sc_key(const void *rec)
{
	const struct sc_event *e = rec;

	return e->actual_ns - e->requested_ns;
}

/* sc_event - keep the SC_WORST worst oversleeps; raise the floor when full */
/* sc_record - a sleep as a timeline slice; a futex wait is drawn, not ranked */
static bool sc_record(struct ls_probe *p, const void *rec)
{
	const struct sc_event *ev = rec;
	char comm[SC_COMM_LEN + 1], word[32];
	struct ls_tevent *te;

	ls_comm(comm, ev->comm, SC_COMM_LEN);
	if (ev->kind == SC_EV_FUTEX_WAIT) {	/* the culprit is the futex word */
		snprintf(word, sizeof(word), "0x%llx", (unsigned long long)ev->requested_ns);
		te = ls_timeline_add(p, "futex wait", word, ev->ts - ev->actual_ns, ev->actual_ns,
		    ev->cpu, ev->tid, ev->tgid, comm);
		if (te)		/* waiting for a wake-up the thread asked for: drawn, not priced */
			te->stolen = 0;
		return false;
	}
	te = ls_timeline_add(p, ev->kind < SC_NR_SLEEPS ? sleep_names[ev->kind] : "sleep", comm,
	    ev->ts - ev->actual_ns, ev->actual_ns, ev->cpu, ev->tid, ev->tgid, comm);
	if (te)		/* the sleep it asked for is its own; only the oversleep is stolen */
		te->stolen = ev->actual_ns > ev->requested_ns ? ev->actual_ns - ev->requested_ns : 0;
	return true;
}

struct kv_rate {
	struct sc_rate_key k;
	struct sc_rate_val v;
	int picked;	/* already in the thread's top by time */
};

struct kv_blocked {
	struct sc_blocked_key k;
	struct ls_hist	      v;
};

struct kv_fthread {
	uint32_t	      tid;
	uint32_t	      pad;
	struct sc_fthread_val v;
};

struct kv_faddr {
	struct sc_faddr_key k;
	struct sc_faddr_val v;
};

struct kv_sleep {
	struct sc_sleep_key k;
	struct sc_sleep_val v;
};

struct kv_name {
	uint32_t      tid;
	struct sc_name v;
};

/* the threads renamed by exec() during the run (a launcher became its program) */
struct sc_names {
	struct kv_name *kv;
	int		n;
};

/* cmp_tid - records that start with their tid (kv_name, kv_fthread), by tid */
static int cmp_tid(const void *a, const void *b)
{
	uint32_t x, y;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return x < y ? -1 : x > y;
}
_Static_assert(offsetof(struct kv_name, tid) == 0 && offsetof(struct kv_fthread, tid) == 0,
    "cmp_tid reads a leading tid");

/*
 * sc_comm - a thread's name for the report: the one it took last, by exec()
 * or before (nm sorted by tid: a row per thread, thousands of them)
 */
static const char *sc_comm(const struct sc_names *nm, uint32_t tid, const char *comm, char *buf)
{
	struct kv_name key = { .tid = tid };
	const struct kv_name *hit = nm->kv ? bsearch(&key, nm->kv, nm->n, sizeof(key), cmp_tid) : NULL;

	return ls_comm(buf, hit ? hit->v.comm : comm, SC_COMM_LEN);
}

/*
 * find_or_add - the entry of key in the array *kv of *n: bsearch in its
 * sorted part kv[0..sorted), else among kv[from..*n) (what this slot added:
 * a thread owns one slot, so no other slot adds its keys), else a new zeroed
 * entry at the end. Folding the slots in stays O(n log n) with thousands of
 * threads, which a long --interval run collects every interval.
 */
static void *find_or_add(void *kv_, int *n, int sorted, int from, size_t size, const void *key,
    int (*cmp)(const void *, const void *))
{
	void **kv = kv_;
	char *base = *kv, *hit = base && sorted ? bsearch(key, base, sorted, size, cmp) : NULL;

	if (hit)
		return hit;
	for (int j = from; j < *n; j++)
		if (!cmp(key, base + (size_t)j * size))
			return base + (size_t)j * size;
	*kv = base = ls_grow(base, *n, size);
	hit = base + (size_t)(*n)++ * size;
	memset(hit, 0, size);
	return hit;
}

/* read_slots - the slots that have an owner; their tallies complete the hash maps */
static struct sc_slot *read_slots(const struct ls_probe *p, int *n)
{
	int fd = ls_probe_table_fd(p, "sc_slots");
	uint32_t max = fd < 0 ? 0 : (uint32_t)ls_probe_table_max_entries(p, "sc_slots");
	struct sc_slot *out = ls_xcalloc(max ? max : 1, sizeof(*out));

	*n = 0;
	for (uint32_t i = 0; out && i < max; i++)
		if (bpf_lookup_elem(fd, &i, &out[*n]) == 0 && out[*n].tid)
			(*n)++;
	return out;
}

static int cmp_faddr_key(const void *a, const void *b)
{
	const struct sc_faddr_key *x = &((const struct kv_faddr *)a)->k, *y = &((const struct kv_faddr *)b)->k;

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	return x->uaddr < y->uaddr ? -1 : x->uaddr > y->uaddr;
}

static int cmp_fthread(const void *a, const void *b)
{
	const struct kv_fthread *x = a, *y = b;

	return x->v.wait_ns < y->v.wait_ns ? 1 : x->v.wait_ns > y->v.wait_ns ? -1 : 0;
}

static int cmp_faddr(const void *a, const void *b)
{
	const struct kv_faddr *x = a, *y = b;

	return x->v.wait_ns < y->v.wait_ns ? 1 : x->v.wait_ns > y->v.wait_ns ? -1 : 0;
}

static void collect_futex(struct ls_probe *p, struct ls_section *s, const struct sc_counters *c,
    const struct sc_slot *slots, int nslots, const struct sc_names *nm)
{
	static const struct ls_column tcols[] = {
		{ "tid", "TID", 7 }, { "pid", "PID", 7 }, { "comm", "COMM", 15 },
		{ "waits", "WAITS", 9 }, { "wait_ns_total", "WAITED", 10 }, { "max_ns", "MAX", 10 },
	};
	static const struct ls_column acols[] = {
		{ "pid", "PID", 7 }, { "uaddr", "ADDRESS", 16 }, { "waits", "WAITS", 9 },
		{ "wait_ns_total", "WAITED", 10 }, { "max_ns", "MAX", 10 },
	};
	int ncpu = ls_nr_possible_cpus(), n;
	struct ls_hist *h = ls_xcalloc(ncpu, sizeof(*h)), all;
	struct ls_summary sum;
	struct ls_table *t;
	struct kv_fthread *ft;
	struct kv_faddr *fa;
	char comm[SC_COMM_LEN + 1];

	ls_section_metric(s, "futex.waits", "Futex waits (woken)", ls_v_uint(c->futex_waits, LS_F_COUNT));
	ls_section_metric(s, "futex.wakes", "Futex wakes", ls_v_uint(c->futex_wakes, LS_F_COUNT));
	ls_section_metric(s, "futex.timeouts", "Futex waits timed out",
	    ls_v_uint(c->futex_timeouts, LS_F_COUNT));
	ls_section_metric(s, "futex.eagain", "Futex EAGAIN (no wait)",
	    ls_v_uint(c->futex_eagain, LS_F_COUNT));
	ls_section_metric(s, "futex.interrupted", NULL, ls_v_uint(c->futex_intr, LS_F_COUNT));
	memset(&all, 0, sizeof(all));
	if (h && ls_probe_read_percpu(p, "sc_futex_hist", 0, h, sizeof(*h)) == 0)
		for (int i = 0; i < ncpu; i++)
			ls_hist_merge(&all, &h[i]);
	free(h);
	ls_hist_summarize(&all, ls_probe_budget(p), &sum);
	ls_section_histo(s, "futex.wait_ns", "Futex wait time (woken waits)", &sum, &all);

	t = ls_section_table(s, "futex.per_thread", "Futex waits per thread", 6, tcols);
	ft = ls_probe_read_hash(p, "sc_fthreads", sizeof(*ft), offsetof(struct kv_fthread, v), &n);
	if (ft)
		qsort(ft, n, sizeof(*ft), cmp_tid);
	for (int i = 0, sorted = n; ft && i < nslots; i++) {	/* threads still holding their slot */
		const struct sc_slot *sl = &slots[i];
		struct kv_fthread key = { .tid = sl->tid }, *e;

		if (!sl->fx_waits)
			continue;
		e = find_or_add(&ft, &n, sorted, n, sizeof(*ft), &key, cmp_tid);
		if (!e->tid) {
			e->tid = sl->tid;
			e->v.tgid = sl->tgid;
			memcpy(e->v.comm, sl->comm, SC_COMM_LEN);
		}
		e->v.waits += sl->fx_waits;
		e->v.wait_ns += sl->fx_wait_ns;
		if (sl->fx_max_ns > e->v.max_ns)
			e->v.max_ns = sl->fx_max_ns;
	}
	if (ft)
		qsort(ft, n, sizeof(*ft), cmp_fthread);
	for (int i = 0; ft && i < n; i++) {
		struct ls_value *row = ls_table_row(t);

		row[0] = ls_v_uint(ft[i].tid, LS_F_PLAIN);
		row[1] = ls_v_uint(ft[i].v.tgid, LS_F_PLAIN);
		row[2] = ls_v_str(sc_comm(nm, ft[i].tid, ft[i].v.comm, comm));
		row[3] = ls_v_uint(ft[i].v.waits, LS_F_COUNT);
		row[4] = ls_v_uint(ft[i].v.wait_ns, LS_F_NS);
		row[5] = ls_v_uint(ft[i].v.max_ns, LS_F_NS);
	}
	free(ft);
	t = ls_section_table(s, "futex.hot_addresses", "Most contended futex words", 5, acols);
	fa = ls_probe_read_hash(p, "sc_faddrs", sizeof(*fa), offsetof(struct kv_faddr, v), &n);
	if (fa)
		qsort(fa, n, sizeof(*fa), cmp_faddr_key);
	/* waits not yet handed over; threads of a process share its words: search all added */
	for (int i = 0, sorted = n; fa && i < nslots; i++) {
		const struct sc_slot *sl = &slots[i];
		struct kv_faddr key = { .k = { .tgid = sl->tgid, .uaddr = sl->fa_uaddr } }, *e;

		if (!sl->fa_waits)
			continue;
		e = find_or_add(&fa, &n, sorted, sorted, sizeof(*fa), &key, cmp_faddr_key);
		e->k = key.k;
		e->v.waits += sl->fa_waits;
		e->v.wait_ns += sl->fa_wait_ns;
		if (sl->fa_max_ns > e->v.max_ns)
			e->v.max_ns = sl->fa_max_ns;
	}
	if (fa)
		qsort(fa, n, sizeof(*fa), cmp_faddr);
	for (int i = 0; fa && i < n; i++) {
		struct ls_value *row = ls_table_row(t);

		row[0] = ls_v_uint(fa[i].k.tgid, LS_F_PLAIN);
		row[1] = ls_v_uint(fa[i].k.uaddr, LS_F_HEX);
		row[2] = ls_v_uint(fa[i].v.waits, LS_F_COUNT);
		row[3] = ls_v_uint(fa[i].v.wait_ns, LS_F_NS);
		row[4] = ls_v_uint(fa[i].v.max_ns, LS_F_NS);
	}
	free(fa);
}

static void collect_blocking(struct ls_probe *p, struct ls_section *s)
{
	static const struct ls_column cols[] = {
		{ "syscall", "SYSCALL", 16 }, { "count", "COUNT", 9 },
		{ "blocked_ns_total", "TIME", 10 }, { "max_ns", "MAX", 10 }, { NULL, "P99", 10 },
		LS_SUMMARY_COLUMNS("duration_ns"),
	};
	struct sc_priv *sp = p->priv;
	struct ls_table *t = ls_section_table(s, "blocking", "Syscalls that blocked (switched out "
	    "while not runnable)", 5 + LS_SUMMARY_NCOLS, cols);
	int n;
	struct kv_blocked *kv = ls_probe_read_hash(p, "sc_blocked", sizeof(*kv),
	    offsetof(struct kv_blocked, v), &n);
	int ncpu = ls_nr_possible_cpus();
	struct sc_blocked_ent *fast = kv ? ls_xcalloc(ncpu, sizeof(*fast)) : NULL;
	bool *done;
	char buf[32];

	/* the per-CPU array slots, as if they were hash entries */
	for (uint32_t fi = 0; fast && fi < SC_BLOCKED_FAST; fi++) {
		if (ls_probe_read_percpu(p, "sc_blocked_fast", fi, fast, sizeof(*fast)) < 0)
			break;
		for (int c = 0; c < ncpu; c++) {
			if (!fast[c].nr)
				continue;
			kv = ls_grow(kv, n, sizeof(*kv));
			kv[n].k.nr = fast[c].nr - 1;
			kv[n].k.cpu = c;
			kv[n].v = fast[c].h;
			n++;
		}
	}
	free(fast);
	done = ls_xcalloc(n ? n : 1, sizeof(*done));

	/* merge the per-CPU entries of each syscall, largest total first */
	for (int round = 0; kv && done; round++) {
		struct ls_hist *m = ls_xcalloc(1, sizeof(*m));
		int best = -1;
		uint64_t best_sum = 0;
		struct ls_summary sum;
		struct ls_value *row;

		for (int i = 0; i < n; i++) {
			uint64_t tot = 0;

			if (done[i])
				continue;
			for (int j = 0; j < n; j++)
				if (!done[j] && kv[j].k.nr == kv[i].k.nr)
					tot += kv[j].v.sum;
			if (best < 0 || tot > best_sum) {
				best = i;
				best_sum = tot;
			}
		}
		if (best < 0 || !m) {
			free(m);
			break;
		}
		for (int j = 0; j < n; j++) {
			if (!done[j] && kv[j].k.nr == kv[best].k.nr) {
				ls_hist_merge(m, &kv[j].v);
				done[j] = true;
			}
		}
		ls_hist_summarize(m, ls_probe_budget(p), &sum);
		row = ls_table_row(t);
		row[0] = ls_v_str(sc_name(sp, kv[best].k.nr, buf, sizeof(buf)));
		row[1] = ls_v_uint(sum.count, LS_F_COUNT);
		row[2] = ls_v_uint(m->sum, LS_F_NS);
		row[3] = ls_v_uint(sum.max, LS_F_NS);
		row[4] = sum.pct_valid[2] ? ls_v_uint((uint64_t)sum.pct[2], LS_F_NS) : ls_v_str("n/a");
		ls_summary_cells(row + 5, &sum);
		free(m);
	}
	free(done);
	free(kv);
}

static void collect_sleeps(struct ls_probe *p, struct ls_section *s, const struct sc_names *nm)
{
	static const struct ls_column cols[] = {
		{ "syscall", "SYSCALL", 15 }, { "tid", "TID", 7 }, { "pid", NULL, 0 },
		{ "comm", "COMM", 11 }, { "count", "COUNT", 6 },
		{ "requested_ns_total", "ASKED", 9 }, { "actual_ns_total", "SLEPT", 9 },
		{ NULL, "OVER P50", 9 }, LS_SUMMARY_COLUMNS("oversleep_ns"),
	};
	struct ls_table *t = ls_section_table(s, "sleeps", "Sleeps (oversleep = slept - asked, for "
	    "sleeps that ran to their timeout)", 8 + LS_SUMMARY_NCOLS, cols);
	int n;
	struct kv_sleep *kv = ls_probe_read_hash(p, "sc_sleeps", sizeof(*kv),
	    offsetof(struct kv_sleep, v), &n);
	char comm[SC_COMM_LEN + 1];

	for (int i = 0; kv && i < n; i++) {
		struct ls_value *row = ls_table_row(t);
		struct ls_summary sum;

		ls_hist_summarize(&kv[i].v.over, ls_probe_budget(p), &sum);
		row[0] = ls_v_str(kv[i].k.kind < SC_NR_SLEEPS ? sleep_names[kv[i].k.kind] : "?");
		row[1] = ls_v_uint(kv[i].k.tid, LS_F_PLAIN);
		row[2] = ls_v_uint(kv[i].v.tgid, LS_F_PLAIN);
		row[3] = ls_v_str(sc_comm(nm, kv[i].k.tid, kv[i].v.comm, comm));
		row[4] = ls_v_uint(kv[i].v.count, LS_F_COUNT);
		row[5] = kv[i].v.timed ? ls_v_uint(kv[i].v.requested_ns, LS_F_NS) : ls_v_null();
		row[6] = ls_v_uint(kv[i].v.actual_ns, LS_F_NS);
		row[7] = sum.pct_valid[0] ? ls_v_uint((uint64_t)sum.pct[0], LS_F_NS) : ls_v_str("n/a");
		ls_summary_cells(row + 8, &sum);
	}
	free(kv);
}

static int cmp_rate(const void *a, const void *b)
{
	const struct kv_rate *x = a, *y = b;

	if (x->k.tid != y->k.tid)
		return x->k.tid < y->k.tid ? -1 : 1;
	return x->v.count < y->v.count ? 1 : x->v.count > y->v.count ? -1 : 0;
}

static int cmp_rate_key(const void *a, const void *b)
{
	const struct sc_rate_key *x = &((const struct kv_rate *)a)->k, *y = &((const struct kv_rate *)b)->k;

	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->nr < y->nr ? -1 : x->nr > y->nr;
}

/* rate_group - a thread's entries kv[first..end) and their calls */
struct rate_group {
	int	 first, end;
	uint64_t total;
};

/* cmp_group - the busiest thread first; among equals, by tid (the order kv had) */
static int cmp_group(const void *a, const void *b)
{
	const struct rate_group *x = a, *y = b;

	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return x->first - y->first;
}

/* rate_est_ns - the time of the timed calls, scaled to all of them */
static double rate_est_ns(const struct sc_rate_val *v)
{
	return v->timed ? (double)v->time_ns * v->count / v->timed : 0;
}

static json_t *rate_json(struct sc_priv *sp, const struct kv_rate *r)
{
	char buf[32];

	return json_pack("{s:s, s:I, s:I, s:o}", "syscall", sc_name(sp, r->k.nr, buf, sizeof(buf)),
	    "count", (json_int_t)r->v.count, "timed", (json_int_t)r->v.timed, "time_ns",
	    r->v.timed ? json_integer((json_int_t)rate_est_ns(&r->v)) : json_null());
}

/* collect_rates - per thread: syscalls per second, its top five syscalls by count and by time */
static void collect_rates(struct ls_probe *p, const struct ls_run *r, struct ls_section *s,
    const struct sc_slot *slots, int nslots, const struct sc_names *nm)
{
	static const struct ls_column cols[] = {
		{ "tid", "TID", 7 }, { "pid", NULL, 0 }, { "comm", "COMM", 15 },
		{ "syscalls", "SYSCALLS", 10 }, { "per_s", "PER S", 9 }, { "top", NULL, 0 },
		{ "top_by_time", NULL, 0 }, { NULL, "TOP", 24 },
	};
	struct sc_priv *sp = p->priv;
	struct ls_table *t = ls_section_table(s, "rates", "Syscall rates per thread", 8, cols);
	struct rate_group *groups;
	int n, ngroups = 0;
	struct kv_rate *kv = ls_probe_read_hash(p, "sc_rates", sizeof(*kv), offsetof(struct kv_rate, v), &n);
	char comm[SC_COMM_LEN + 1], buf[32];

	if (!kv)
		return;
	qsort(kv, n, sizeof(*kv), cmp_rate_key);
	for (int i = 0, sorted = n; i < nslots; i++) {	/* calls not yet handed over */
		const struct sc_slot *sl = &slots[i];
		int from = n;

		for (int ti = 0; ti < SC_TALLIES; ti++) {
			const struct sc_tally *tl = &sl->rate[ti];
			struct kv_rate key = { .k = { .tid = sl->tid, .nr = tl->nr - 1 } }, *e;

			if (!tl->count)
				continue;
			e = find_or_add(&kv, &n, sorted, from, sizeof(*kv), &key, cmp_rate_key);
			if (!e->v.count) {
				e->k = key.k;
				e->v.tgid = sl->tgid;
				memcpy(e->v.comm, sl->comm, SC_COMM_LEN);
			}
			e->v.count += tl->count;
			e->v.timed += tl->timed;
			e->v.time_ns += tl->ns;
		}
	}
	qsort(kv, n, sizeof(*kv), cmp_rate);
	groups = ls_xcalloc(n ? n : 1, sizeof(*groups));
	for (int i = 0, j; i < n; i = j) {	/* a thread's run of kv, busiest threads first */
		groups[ngroups] = (struct rate_group){ .first = i };
		for (j = i; j < n && kv[j].k.tid == kv[i].k.tid; j++)
			groups[ngroups].total += kv[j].v.count;
		groups[ngroups++].end = j;
	}
	qsort(groups, ngroups, sizeof(*groups), cmp_group);
	for (int g = 0; g < ngroups; g++) {
		int i = groups[g].first;
		uint64_t total = 0;
		json_t *top = json_array(), *by_time = json_array();
		char text[128] = "", *js, *jt;
		int j, tl = 0;
		struct ls_value *row;

		for (j = i; j < groups[g].end; j++) {
			const char *name = sc_name(sp, kv[j].k.nr, buf, sizeof(buf));

			total += kv[j].v.count;
			if (j - i < 5) {
				json_array_append_new(top, rate_json(sp, &kv[j]));
				if (j - i < 2 && tl < (int)sizeof(text))
					tl += snprintf(text + tl, sizeof(text) - tl, "%s%s", j > i ? "," : "", name);
			}
		}
		/* the five with the most time, a few slow calls as well as many quick ones */
		for (int picked = 0; picked < 5; picked++) {
			int best = -1;

			for (int k = i; k < j; k++) {
				if (kv[k].v.timed && !kv[k].picked &&
				    (best < 0 || rate_est_ns(&kv[k].v) > rate_est_ns(&kv[best].v)))
					best = k;
			}
			if (best < 0)
				break;
			kv[best].picked = 1;
			json_array_append_new(by_time, rate_json(sp, &kv[best]));
		}
		row = ls_table_row(t);
		row[0] = ls_v_uint(kv[i].k.tid, LS_F_PLAIN);
		row[1] = ls_v_uint(kv[i].v.tgid, LS_F_PLAIN);
		row[2] = ls_v_str(sc_comm(nm, kv[i].k.tid, kv[i].v.comm, comm));
		row[3] = ls_v_uint(total, LS_F_COUNT);
		row[4] = ls_v_double(r->duration_s > 0 ? total / r->duration_s : 0, LS_F_COUNT);
		js = json_dumps(top, JSON_COMPACT);
		jt = json_dumps(by_time, JSON_COMPACT);
		row[5] = ls_v_json(js ? js : "[]");
		row[6] = ls_v_json(jt ? jt : "[]");
		row[7] = ls_v_str(text);
		free(js);
		free(jt);
		json_decref(top);
		json_decref(by_time);
	}
	free(groups);
	free(kv);
}

static void collect_worst(struct ls_probe *p, const struct ls_run *r, struct ls_section *s)
{
	static const struct ls_column cols[] = {
		{ "time", NULL, 0 }, { NULL, "TIME (UTC)", 16 }, { "syscall", "SYSCALL", 15 },
		{ "comm", "COMM", 11 }, { "tid", "TID", 7 }, { "pid", NULL, 0 }, { "cpu", NULL, 0 },
		{ "requested_ns", "ASKED", 9 }, { "actual_ns", NULL, 0 }, { "oversleep_ns", "OVER", 9 },
	};
	struct ls_table *t = ls_section_table(s, "worst", "Worst oversleeps", 10, cols);
	char when[64], comm[SC_COMM_LEN + 1];

	for (int i = 0; i < p->nworst; i++) {
		const struct sc_event *e = &((const struct sc_event *)p->worst)[i];
		struct ls_value *row = ls_table_row(t);

		ls_wallclock(r, e->ts, when, sizeof(when));
		row[0] = ls_v_str(when);
		row[1] = ls_v_str(when + 11);
		row[2] = ls_v_str(e->kind < SC_NR_SLEEPS ? sleep_names[e->kind] : "?");
		row[3] = ls_v_str(ls_comm(comm, e->comm, SC_COMM_LEN));
		row[4] = ls_v_uint(e->tid, LS_F_PLAIN);
		row[5] = ls_v_uint(e->tgid, LS_F_PLAIN);
		row[6] = ls_v_uint(e->cpu, LS_F_PLAIN);
		row[7] = ls_v_uint(e->requested_ns, LS_F_NS);
		row[8] = ls_v_uint(e->actual_ns, LS_F_NS);
		row[9] = ls_v_uint(e->actual_ns - e->requested_ns, LS_F_NS);
	}
}

static int sc_collect(struct ls_probe *p, const struct ls_run *r, struct ls_section *s)
{
	struct sc_counters c;
	struct sc_slot *slots;
	struct sc_names nm = { 0 };
	int nslots;

	ls_probe_sum_percpu(p, "sc_counters", 0, &c, sizeof(c));
	ls_section_metric(s, "syscalls", "Syscalls", ls_v_uint(c.syscalls, LS_F_COUNT));
	if (!p->cflags.n)
		ls_section_note(s, "no syscall table found (asm/unistd header): futexes and sleeps "
		    "were not measured, syscalls are named by number; install linux-libc-dev");
	slots = read_slots(p, &nslots);
	nm.kv = ls_probe_read_hash(p, "sc_names", sizeof(*nm.kv), offsetof(struct kv_name, v), &nm.n);
	if (nm.kv)
		qsort(nm.kv, nm.n, sizeof(*nm.kv), cmp_tid);
	collect_futex(p, s, &c, slots, nslots, &nm);
	collect_blocking(p, s);
	collect_sleeps(p, s, &nm);
	collect_rates(p, r, s, slots, nslots, &nm);
	free(nm.kv);
	free(slots);
	collect_worst(p, r, s);
	if (c.slot_collisions)
		ls_section_note(s, "%llu syscalls in progress lost their state when another thread "
		    "took the slot (tids a multiple of %d apart)", (unsigned long long)c.slot_collisions,
		    SC_SLOTS);
	if (c.table_full)
		ls_section_note(s, "%llu records not itemised: a per-thread table was full",
		    (unsigned long long)c.table_full);
	return 0;
}

/* waits_on_purpose - futexes and sleeps block by design; they are judged on their own */
static bool waits_on_purpose(const char *name)
{
	if (!strncmp(name, "futex", 5))
		return true;
	for (int i = 0; i < SC_NR_SLEEPS; i++)
		if (!strcmp(name, sleep_names[i]))
			return true;
	return false;
}

/*
 * Without --pid every thread of every process is judged, and one kind of
 * finding over many threads (a shell's wait4, make's pselect6) would fill
 * the box: system-wide, each kind is one finding that counts the threads
 * and names the top three, with its fix once. With --pid each thread of
 * the monitored processes gets its own finding.
 */
struct sc_group {
	enum ls_level	 level;
	const char	*fix, *what;	/* "threads waited on futexes" */
	int		 n;
	char		 top[320];
	size_t		 len;
};

__attribute__((format(printf, 4, 5)))
static void sc_finding(struct ls_section *s, struct sc_group *g, bool grouped, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!grouped) {
		ls_section_finding(s, g->level, g->fix, "%s", msg);
	} else if (g->n++ < 3 && g->len < sizeof(g->top)) {
		g->len += snprintf(g->top + g->len, sizeof(g->top) - g->len, "%s%s", g->len ? "; " : "",
		    msg);
	}
}

static void sc_group_flush(struct ls_section *s, const struct sc_group *g)
{
	if (g->n)
		ls_section_finding(s, g->level, g->fix, "%d %s%s: %s", g->n, g->what,
		    g->n > 3 ? " (top 3)" : "", g->top);
}

static void sc_judge(struct ls_section *s, const struct ls_run *r)
{
	bool grouped = !r->opts->npids;
	enum ls_level hard = grouped ? LS_WARN : LS_FAIL;
	const struct ls_table *ft = ls_section_find_table(s, "futex.per_thread");
	const struct ls_table *bl = ls_section_find_table(s, "blocking");
	const struct ls_table *sl = ls_section_find_table(s, "sleeps");
	const struct ls_table *rt = ls_section_find_table(s, "rates");
	uint64_t fmax = ls_threshold(&r->thresholds, "syscall.futex_wait_max");
	uint64_t bmax = ls_threshold(&r->thresholds, "syscall.blocked_max");
	uint64_t smax = ls_threshold(&r->thresholds, "syscall.sleeps");
	uint64_t rmax = ls_threshold(&r->thresholds, "syscall.rate_max");
	const struct sc_opts *so = ls_module_opts(r->opts, &ls_mod_syscall);
	const char *allow = so->allow_block;
	struct sc_group fut = { hard, "replace the lock on the hot path with a lock-free queue "
	    "(single producer/consumer ring) or spin with a bounded backoff instead of sleeping in "
	    "the kernel", "threads waited on futexes", 0, "", 0 };
	struct sc_group blk = { hard, "make the descriptor non-blocking and busy-poll it "
	    "(O_NONBLOCK; for sockets SO_BUSY_POLL or sysctl net.core.busy_poll=50)",
	    "syscalls blocked longer than syscall.blocked_max", 0, "", 0 };
	struct sc_group slp = { hard, "do not sleep on the hot path: spin on the condition; if a "
	    "delay is needed, clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, ...) against a "
	    "deadline drifts less than relative sleeps, and a spin-wait on the TSC is exact",
	    "threads called sleeping syscalls more than syscall.sleeps allows", 0, "", 0 };
	struct sc_group rat = { LS_WARN, "batch the work (recvmmsg/sendmmsg, io_uring) or move it "
	    "off the hot thread; vDSO clock_gettime needs no syscall",
	    "threads made more syscalls per second than syscall.rate_max", 0, "", 0 };
	bool allowed = false;
	char v[32], l[32];

	if (ft && ft->nrows && ls_list_has(allow, "futex")) {
		ls_section_note(s, "futex waits are not judged (--allow-block futex)");
		ft = NULL;
		allowed = true;
	}
	ls_fmt_ns(l, sizeof(l), (double)fmax, r->opts->ascii);
	for (int i = 0; ft && i < ft->nrows && i < 5; i++) {
		uint64_t mx = ls_table_cell(ft, i, "max_ns")->u;

		ls_fmt_ns(v, sizeof(v), (double)mx, r->opts->ascii);
		fut.level = mx > fmax ? hard : LS_WARN;
		sc_finding(s, &fut, grouped, "%s (tid %llu) waited on futexes %llu times, longest %s "
		    "(syscall.futex_wait_max %s)", ls_table_cell(ft, i, "comm")->s,
		    (unsigned long long)ls_table_cell(ft, i, "tid")->u,
		    (unsigned long long)ls_table_cell(ft, i, "waits")->u, v, l);
	}
	for (int i = 0; bl && i < bl->nrows; i++) {
		const char *sc = ls_table_cell(bl, i, "syscall")->s;
		uint64_t mx = ls_table_cell(bl, i, "max_ns")->u;
		unsigned long long n = ls_table_cell(bl, i, "count")->u;

		if (mx <= bmax || waits_on_purpose(sc))
			continue;
		ls_fmt_ns(v, sizeof(v), (double)mx, r->opts->ascii);
		if (ls_list_has(allow, sc)) {
			ls_section_note(s, "%s blocked %llu times, up to %s: allowed (--allow-block)", sc, n,
			    v);
			allowed = true;
		} else {
			sc_finding(s, &blk, grouped, "%s blocked %llu times, up to %s%s", sc, n, v,
			    grouped ? "" : " (syscall.blocked_max)");
		}
	}
	for (int i = 0; sl && i < sl->nrows; i++) {
		const char *sc = ls_table_cell(sl, i, "syscall")->s, *comm = ls_table_cell(sl, i, "comm")->s;
		unsigned long long n = ls_table_cell(sl, i, "count")->u, tid = ls_table_cell(sl, i, "tid")->u;

		if (n <= smax)
			continue;
		if (ls_list_has(allow, sc)) {
			ls_section_note(s, "%s (tid %llu) called %s %llu times: allowed (--allow-block)",
			    comm, tid, sc, n);
			allowed = true;
		} else {
			char lim[40] = "";

			if (!grouped)
				snprintf(lim, sizeof(lim), " (syscall.sleeps %llu)", (unsigned long long)smax);
			sc_finding(s, &slp, grouped, "%s (tid %llu) called %s %llu times%s", comm, tid, sc, n,
			    lim);
		}
	}
	for (int i = 0; rt && i < rt->nrows; i++) {
		double ps = ls_table_cell(rt, i, "per_s")->d;

		if (ps > (double)rmax)
			sc_finding(s, &rat, grouped, "%s (tid %llu) made %.0f syscalls per second%s",
			    ls_table_cell(rt, i, "comm")->s,
			    (unsigned long long)ls_table_cell(rt, i, "tid")->u, ps,
			    grouped ? "" : " (syscall.rate_max)");
	}
	sc_group_flush(s, &fut);
	sc_group_flush(s, &blk);
	sc_group_flush(s, &slp);
	sc_group_flush(s, &rat);
	if (grouped && (fut.n || blk.n || slp.n || rat.n))
		ls_section_note(s, "without --pid every process's threads are judged together, so "
		    "these are warnings grouped by kind; --pid PID judges one process (violations "
		    "for its own threads)");
	if (!s->nfindings)
		ls_section_finding(s, LS_PASS, NULL, "no futex waits, blocking syscalls above "
		    "syscall.blocked_max, or sleeps%s", allowed ? " but what --allow-block allows" : "");
}

static void sc_cleanup(struct ls_probe *p)
{
	struct sc_priv *sp = p->priv;

	for (int i = 0; sp && i < SC_MAX_NR; i++)
		free(sp->names[i]);
}

/* the maps collect() reads, checked against the probe when it is compiled */
static const struct ls_map_layout sc_maps[] = {
	LS_MAP("sc_slots", uint32_t, struct sc_slot),
	LS_MAP("sc_counters", uint32_t, struct sc_counters),
	LS_MAP("sc_rates", struct sc_rate_key, struct sc_rate_val),
	LS_MAP("sc_blocked", struct sc_blocked_key, struct ls_hist),
	LS_MAP("sc_blocked_fast", uint32_t, struct sc_blocked_ent),
	LS_MAP("sc_futex_hist", uint32_t, struct ls_hist),
	LS_MAP("sc_fthreads", uint32_t, struct sc_fthread_val),
	LS_MAP("sc_faddrs", struct sc_faddr_key, struct sc_faddr_val),
	LS_MAP("sc_sleeps", struct sc_sleep_key, struct sc_sleep_val),
	LS_MAP("sc_names", uint32_t, struct sc_name),
	LS_MAP("sc_floor", uint32_t, uint64_t),
	{ NULL, 0, 0 },
};

/* sc_events - system calls of the monitored threads so far, for the progress line */
static uint64_t sc_events(struct ls_probe *p)
{
	struct sc_counters c;

	return ls_probe_sum_percpu(p, "sc_counters", 0, &c, sizeof(c)) < 0 ? 0 : c.syscalls;
}

/* what --interval reports of this module (interval.c): totals over the interval */
static const struct ls_interval_table sc_iv_tables[] = {
	{ "rates", "tid,pid,comm", "syscalls", NULL },
	{ "blocking", "syscall", "count,blocked_ns_total", "max_ns" },
	{ "futex.per_thread", "tid,pid,comm", "waits,wait_ns_total", "max_ns" },
	{ "futex.hot_addresses", "pid,uaddr", "waits,wait_ns_total", "max_ns" },
	{ "sleeps", "syscall,tid,pid,comm", "count,requested_ns_total,actual_ns_total", NULL },
	{ NULL, NULL, NULL, NULL },
};
/* the per-thread maps: with --interval, exited threads leave them (ls_probe_prune) */
static const struct ls_prune_map sc_prune[] = {
	{ "sc_slots", offsetof(struct sc_slot, tid), true },
	{ "sc_rates", offsetof(struct sc_rate_key, tid), false },
	{ "sc_fthreads", 0, false },	/* tid */
	{ "sc_faddrs", offsetof(struct sc_faddr_key, tgid), false },
	{ "sc_sleeps", offsetof(struct sc_sleep_key, tid), false },
	{ "sc_names", 0, false },	/* tid */
	{ NULL, 0, false },
};

static const struct ls_interval_spec sc_interval = {
	.totals = "futex.waits,futex.wakes,futex.timeouts,futex.eagain,futex.interrupted,syscalls",
	.tables = sc_iv_tables,
	.prune = sc_prune,
};

const struct ls_module_ops ls_mod_syscall = {
	.name = "syscall",
	.title = "LOCK & SYSCALL CONTENTION",
	.summary = "futex waits and hot futex words, syscalls that blocked, sleeps and "
	    "oversleep, syscall rates",
	.thresholds = sc_thresholds,
	.maps = sc_maps,
	.options = sc_options,
	.opts_size = sizeof(struct sc_opts),
	.opts_free = sc_opts_free,
	.prepare = sc_prepare,
	.setup = sc_setup,
	.rec_size = sizeof(struct sc_event),
	.record = sc_record,
	.rec_key = sc_key,
	.worst_n = SC_WORST,
	.floor_map = "sc_floor",
	.collect = sc_collect,
	.events = sc_events,
	.judge = sc_judge,
	.cleanup = sc_cleanup,
	.interval = &sc_interval,
};
