// SPDX-License-Identifier: GPL-2.0-only
/*
 * render-perfetto.c - the interference timeline as Chrome trace event JSON,
 * which ui.perfetto.dev and chrome://tracing open: a track per thread,
 * slices for every event timeline.c kept, wake-up flows, counters and the
 * wall-clock profile's stacks, streamed event by event.
 */

#include "config.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "latencyscope.h"

/* event_name - the slice's name: "softirq:NET_RX", "waiting for CPU: kworker/1:0" */
static void event_name(const struct ls_tevent *e, char *buf, size_t len)
{
	if (e->running)
		snprintf(buf, len, "running");
	else if (!strcmp(e->kind, "waiting for CPU"))
		snprintf(buf, len, "waiting for CPU: %s", e->culprit);
	else if (!strcmp(e->module, "irq"))
		snprintf(buf, len, "%s", e->culprit);
	else
		snprintf(buf, len, "%s", e->kind);
}

#define CPU_PID 0x7fff0000	/* the synthetic process whose threads are the CPUs */

/* tracks - the (pid, tid) pairs already named: an open-addressing set */
struct tracks {
	uint64_t *k;
	size_t	  cap, n;
};

static bool tracks_add(struct tracks *ts, uint64_t key)
{
	size_t i;

	if ((ts->n + 1) * 2 > ts->cap) {
		struct tracks nt = { ls_xcalloc(ts->cap ? ts->cap * 2 : 1024, sizeof(uint64_t)),
		    ts->cap ? ts->cap * 2 : 1024, 0 };
		for (size_t j = 0; j < ts->cap; j++)
			if (ts->k[j])
				tracks_add(&nt, ts->k[j]);
		free(ts->k);
		*ts = nt;
	}
	for (i = (key * 0x9e3779b97f4a7c15ULL) & (ts->cap - 1); ts->k[i]; i = (i + 1) & (ts->cap - 1))
		if (ts->k[i] == key)
			return false;
	ts->k[i] = key;
	ts->n++;
	return true;
}

/* tgid_of - a live thread's process (/proc/TID/status), the tid itself otherwise */
static uint32_t tgid_of(uint32_t tid)
{
	char path[64], *st, *tg;
	uint32_t pid = tid;

	snprintf(path, sizeof(path), "/proc/%u/status", tid);
	st = ls_read_file(path, NULL);
	if (st && (tg = strstr(st, "\nTgid:")))
		pid = (uint32_t)strtoul(tg + 6, NULL, 10);
	free(st);
	return pid ? pid : tid;
}

/* comm_of - a live thread's name, "tid N" once it is gone */
static void comm_of(uint32_t tid, char *buf, size_t len)
{
	char path[64], *c;

	snprintf(path, sizeof(path), "/proc/%u/comm", tid);
	c = ls_read_file(path, NULL);
	if (c)
		snprintf(buf, len, "%.*s", (int)strcspn(c, "\n"), c);
	else
		snprintf(buf, len, "tid %u", tid);
	free(c);
}

/*
 * resolve_pids - events whose probe saw only the thread (pid == tid) get
 * its process, so all of a thread's events share one track; wakers, which
 * the probe records by tid alone, get their names
 */
static void resolve_pids(struct ls_timeline *t)
{
	struct { uint32_t tid, pid; } *memo = NULL;
	struct { uint32_t tid; char comm[17]; } *wk = NULL;
	size_t n = 0, cap = 0, nw = 0, wcap = 0;

	for (int i = 0; t && i < t->n; i++) {
		struct ls_tevent *e = &t->ev[i];
		size_t k;

		if (e->waker && !e->waker_comm) {	/* one /proc read per waker */
			for (k = 0; k < nw && wk[k].tid != e->waker; k++)
				;
			if (k == nw) {
				if (nw == wcap) {
					wcap = wcap ? wcap * 2 : 64;
					wk = ls_xrealloc(wk, wcap * sizeof(*wk));
				}
				wk[nw].tid = e->waker;
				comm_of(e->waker, wk[nw++].comm, sizeof(wk[0].comm));
			}
			e->waker_comm = ls_timeline_intern(t, wk[k].comm, 17);
		}
		if (e->pid != e->tid)
			continue;
		for (k = 0; k < n && memo[k].tid != e->tid; k++)
			;
		if (k == n) {
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				memo = ls_xrealloc(memo, cap * sizeof(*memo));
			}
			memo[n].tid = e->tid;
			memo[n++].pid = tgid_of(e->tid);
		}
		e->pid = memo[k].pid;
	}
	free(memo);
	free(wk);
}

/*
 * jstream - trace events written one by one as they are made: a trace of
 * millions of events never exists as one document in memory. Timestamps
 * are nanoseconds / 1000, written with 15 significant digits: exactly the
 * decimal, so a viewer's microseconds convert back to the same nanosecond.
 */
struct jstream {
	FILE	*f;
	bool	 more;
};

static void put(struct jstream *js, json_t *o)
{
	if (!o)
		return;
	if (js->more)
		fputc(',', js->f);
	js->more = true;
	json_dumpf(o, js->f, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(o);
}

/* name_track - a thread_name record the first time a (pid, tid) appears */
static void name_track(struct jstream *ev, struct tracks *ts, uint32_t pid, uint32_t tid, const char *name)
{
	if (!tracks_add(ts, ((uint64_t)pid << 32 | tid) + 1))
		return;
	put(ev, json_pack("{s:s, s:s, s:I, s:I, s:{s:s}}", "name", "thread_name",
	    "ph", "M", "pid", (json_int_t)pid, "tid", (json_int_t)tid, "args", "name", name));
}

/*
 * Lanes. A viewer draws one track's slices as a stack: there two slices
 * must nest or be disjoint, or Perfetto draws them wrong and speedscope
 * refuses the file. A thread's running slice and its syscall overlap (the
 * call began while it ran and ends after it slept), and on a CPU's track
 * one thread runs while another waits for that CPU. So every slice has a
 * base track (a thread's state, a thread's syscalls, a CPU) and goes on the
 * first lane of it where it nests in what is open or comes after it. Lane
 * 0 of a thread's state is the thread's own track, lane 0 of a CPU the
 * CPU's; any other lane is a track of its own, named after its base.
 * Slices are written as begin/end pairs ("B"/"E") in time order: each end
 * is a timestamp of its own, so no viewer's sum of start and duration can
 * put it a rounding error past its neighbour's start.
 */
enum base_kind { BASE_STATE, BASE_SYSCALLS, BASE_CPU };

#define LANE_TID0 0x40000000u	/* lane tracks' tids: above any pid_max, below CPU_PID */

struct lane {
	uint64_t *end;		/* ends of the open slices, outermost first */
	int	  n, cap;
	uint32_t  tid;
};

struct base {
	uint32_t     pid, tid;
	int	     kind, nlanes;
	bool	     used;	/* a hash slot taken */
	struct lane *lanes;
};

/* pend - a slice's end still to be written: a heap ordered by end, the last begun first */
struct pend {
	uint64_t end, seq;
	uint32_t pid, tid;
	int	 ev;		/* index in the timeline, -1: a wake-up mark */
	bool	 counts;	/* the thread's own slice of stolen time: the counters step here */
};

struct writer {
	struct jstream	     js;
	struct ls_timeline  *t;
	const struct ls_run *r;
	struct tracks	     named;
	struct base	    *bases;
	size_t		     nbases, capbases;
	struct pend	    *heap;
	size_t		     nheap, capheap;
	uint64_t	     seq, stolen, cents;
	uint32_t	     next_tid;
	bool		     money;
};

static size_t base_hash(uint32_t pid, uint32_t tid, int kind)
{
	return (((uint64_t)pid << 32 | tid) * 0x9e3779b97f4a7c15ULL + (uint64_t)kind) >> 17;
}

static void bases_grow(struct writer *w)
{
	struct base *old = w->bases;
	size_t ocap = w->capbases;

	w->capbases = ocap ? ocap * 2 : 256;
	w->bases = ls_xcalloc(w->capbases, sizeof(*w->bases));
	for (size_t j = 0; j < ocap; j++) {
		size_t i = base_hash(old[j].pid, old[j].tid, old[j].kind) & (w->capbases - 1);

		if (!old[j].used)
			continue;
		while (w->bases[i].used)
			i = (i + 1) & (w->capbases - 1);
		w->bases[i] = old[j];
	}
	free(old);
}

/* base_of - the base track of (pid, tid, kind), made on first use; valid until the next call */
static struct base *base_of(struct writer *w, uint32_t pid, uint32_t tid, int kind)
{
	size_t i;

	if ((w->nbases + 1) * 2 > w->capbases)
		bases_grow(w);
	for (i = base_hash(pid, tid, kind) & (w->capbases - 1); w->bases[i].used;
	    i = (i + 1) & (w->capbases - 1))
		if (w->bases[i].pid == pid && w->bases[i].tid == tid && w->bases[i].kind == kind)
			return &w->bases[i];
	w->nbases++;
	w->bases[i] = (struct base){ .pid = pid, .tid = tid, .kind = kind, .used = true };
	return &w->bases[i];
}

/* lane_new - another lane of a base: its tid, named after the base */
static struct lane *lane_new(struct writer *w, struct base *b, const char *comm)
{
	struct lane *l;
	char name[96];
	int k = b->nlanes;

	b->lanes = ls_grow(b->lanes, b->nlanes, sizeof(*b->lanes));
	l = &b->lanes[b->nlanes++];
	memset(l, 0, sizeof(*l));
	if (k == 0 && b->kind != BASE_SYSCALLS) {
		l->tid = b->tid;	/* the thread's or the CPU's own track */
		if (b->kind == BASE_CPU)
			return l;	/* named with every monitored CPU at the start */
		snprintf(name, sizeof(name), "%s (%u)", comm, b->tid);
	} else {
		l->tid = w->next_tid++;
		if (b->kind == BASE_CPU)
			snprintf(name, sizeof(name), "CPU %u (%d)", b->tid - CPU_PID, k + 1);
		else if (b->kind == BASE_SYSCALLS)
			snprintf(name, sizeof(name), "%s (%u) syscalls%s", comm, b->tid, k ? " +" : "");
		else
			snprintf(name, sizeof(name), "%s (%u) (%d)", comm, b->tid, k + 1);
	}
	name_track(&w->js, &w->named, b->pid, l->tid, name);
	return l;
}

/* lane_for - the first lane of a base where [start, end] nests or follows; the slice is pushed */
static uint32_t lane_for(struct writer *w, struct base *b, const char *comm, uint64_t start,
    uint64_t end)
{
	struct lane *l = NULL;

	for (int i = 0; i < b->nlanes && !l; i++) {
		struct lane *c = &b->lanes[i];

		while (c->n && c->end[c->n - 1] <= start)
			c->n--;
		if (!c->n || end <= c->end[c->n - 1])
			l = c;
	}
	if (!l)
		l = lane_new(w, b, comm);
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->end = ls_xrealloc(l->end, l->cap * sizeof(*l->end));
	}
	l->end[l->n++] = end;
	return l->tid;
}

static bool pend_before(const struct pend *a, const struct pend *b)
{
	return a->end < b->end || (a->end == b->end && a->seq > b->seq);
}

static void pend_push(struct writer *w, struct pend p)
{
	size_t i;

	if (w->nheap == w->capheap) {
		w->capheap = w->capheap ? w->capheap * 2 : 256;
		w->heap = ls_xrealloc(w->heap, w->capheap * sizeof(*w->heap));
	}
	p.seq = w->seq++;
	for (i = w->nheap++; i && pend_before(&p, &w->heap[(i - 1) / 2]); i = (i - 1) / 2)
		w->heap[i] = w->heap[(i - 1) / 2];
	w->heap[i] = p;
}

static struct pend pend_pop(struct writer *w)
{
	struct pend top = w->heap[0], last = w->heap[--w->nheap];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= w->nheap)
			break;
		if (c + 1 < w->nheap && pend_before(&w->heap[c + 1], &w->heap[c]))
			c++;
		if (!pend_before(&w->heap[c], &last))
			break;
		w->heap[i] = w->heap[c];
		i = c;
	}
	w->heap[i] = last;
	return top;
}

static double us(uint64_t rel_ns)
{
	return rel_ns / 1000.0;
}

/* rel - nanoseconds since the run started (0 for what began before) */
static uint64_t rel(const struct writer *w, uint64_t mono_ns)
{
	return mono_ns > w->r->mono_start_ns ? mono_ns - w->r->mono_start_ns : 0;
}

/* stolen_step - the cumulative counters move where a stolen slice ends */
static void stolen_step(struct writer *w, const struct ls_tevent *e, uint64_t end)
{
	w->stolen += e->stolen;
	put(&w->js, json_pack("{s:s, s:s, s:f, s:I, s:{s:f}}", "name",
	    "stolen time (us, cumulative)", "ph", "C", "ts", us(end), "pid",
	    (json_int_t)CPU_PID, "args", "stolen", w->stolen / 1000.0));
	if (!w->money)
		return;
	w->cents += ls_money_cents(e->stolen, w->r->opts->notional, w->r->opts->bps_per_us);
	put(&w->js, json_pack("{s:s, s:s, s:f, s:I, s:{s:f}}", "name",
	    "alpha lost (USD, cumulative)", "ph", "C", "ts", us(end), "pid",
	    (json_int_t)CPU_PID, "args", "usd", w->cents / 100.0));
}

/* flush - write every end up to `upto`, the innermost of equal ends first */
static void flush(struct writer *w, uint64_t upto)
{
	char name[160];

	while (w->nheap && w->heap[0].end <= upto) {
		struct pend p = pend_pop(w);
		const struct ls_tevent *e = p.ev >= 0 ? &w->t->ev[p.ev] : NULL;

		if (e)
			event_name(e, name, sizeof(name));
		put(&w->js, json_pack("{s:s, s:s, s:f, s:I, s:I}", "name", e ? name : "wakeup",
		    "ph", "E", "ts", us(p.end), "pid", (json_int_t)p.pid, "tid", (json_int_t)p.tid));
		if (p.counts)
			stolen_step(w, e, p.end);
	}
}

/* slice - one event's slice on a base track: its begin now, its end pending; the lane's tid */
static uint32_t slice(struct writer *w, int i, uint32_t pid, uint32_t tid, int kind, uint64_t start,
    uint64_t end)
{
	const struct ls_tevent *e = &w->t->ev[i];
	uint32_t lane = lane_for(w, base_of(w, pid, tid, kind), e->comm, start, end);
	char name[160];

	event_name(e, name, sizeof(name));
	put(&w->js, json_pack("{s:s, s:s, s:s, s:f, s:I, s:I, s:{s:s, s:I, s:I, s:s, s:I, s:I}}",
	    "name", name, "cat", e->module, "ph", "B", "ts", us(start), "pid", (json_int_t)pid,
	    "tid", (json_int_t)lane, "args", "victim", e->comm, "victim_tid", (json_int_t)e->tid,
	    "duration_ns", (json_int_t)e->dur, "culprit", e->culprit, "cpu", (json_int_t)e->cpu,
	    "stolen_ns", (json_int_t)e->stolen));
	pend_push(w, (struct pend){ .end = end, .pid = pid, .tid = lane, .ev = i,
	    .counts = kind != BASE_CPU && e->stolen });
	return lane;
}

/*
 * wakeup - a flow arrow from a mark on the waker's track to the wait it
 * ended (bound to the slice that begins there, on the lane it took)
 */
static void wakeup(struct writer *w, int i, uint64_t start, uint32_t lane)
{
	const struct ls_tevent *e = &w->t->ev[i];
	uint32_t mark = lane_for(w, base_of(w, e->waker, e->waker, BASE_STATE), e->waker_comm,
	    start, start + 1);

	put(&w->js, json_pack("{s:s, s:s, s:s, s:f, s:I, s:I}", "name", "wakeup", "cat", "wakeup",
	    "ph", "B", "ts", us(start), "pid", (json_int_t)e->waker, "tid", (json_int_t)mark));
	pend_push(w, (struct pend){ .end = start + 1, .pid = e->waker, .tid = mark, .ev = -1 });
	put(&w->js, json_pack("{s:s, s:s, s:s, s:I, s:f, s:I, s:I}", "name", "wakeup", "cat",
	    "wakeup", "ph", "s", "id", (json_int_t)i, "ts", us(start), "pid", (json_int_t)e->waker,
	    "tid", (json_int_t)mark));
	put(&w->js, json_pack("{s:s, s:s, s:s, s:s, s:I, s:f, s:I, s:I}", "name", "wakeup",
	    "cat", "wakeup", "ph", "f", "bp", "e", "id", (json_int_t)i, "ts", us(start),
	    "pid", (json_int_t)e->pid, "tid", (json_int_t)lane));
}

/* one_event - a timeline event: an instant, or slices on its thread's and its CPU's tracks */
static void one_event(struct writer *w, int i)
{
	const struct ls_tevent *e = &w->t->ev[i];
	uint64_t start = rel(w, e->start), end = rel(w, e->start + e->dur);
	char name[160];
	uint32_t lane;

	flush(w, start);
	if (e->instant) {	/* a migration: a point on the thread's own track */
		snprintf(name, sizeof(name), "%s (%u)", e->comm, e->tid);
		name_track(&w->js, &w->named, e->pid, e->tid, name);
		snprintf(name, sizeof(name), "migrated CPU %u -> %s", e->cpu, e->culprit);
		put(&w->js, json_pack("{s:s, s:s, s:s, s:s, s:f, s:I, s:I}", "name", name,
		    "cat", e->module, "ph", "i", "s", "t", "ts", us(start), "pid", (json_int_t)e->pid,
		    "tid", (json_int_t)e->tid));
		return;
	}
	lane = slice(w, i, e->pid, e->tid, strcmp(e->module, "syscall") ? BASE_STATE : BASE_SYSCALLS,
	    start, end);
	slice(w, i, CPU_PID, CPU_PID + e->cpu, BASE_CPU, start, end);
	if (e->waker)
		wakeup(w, i, start, lane);
}

/* trailer - what the trace lacks (never reached user space, or did not fit in memory) and when */
static void trailer(FILE *f, const struct ls_timeline *t, const struct ls_run *r)
{
	char when[64];
	json_t *other;

	ls_wallclock(r, r->mono_start_ns, when, sizeof(when));
	fputs("],\"otherData\":", f);
	other = json_pack("{s:s, s:s, s:I, s:f, s:I, s:I, s:I, s:f}",
	    "producer", "latencyscope " PACKAGE_VERSION, "wall_clock_start", when,
	    "trace_threshold_ns", (json_int_t)(t ? t->threshold_ns : 0), "duration_s", r->duration_s,
	    "dropped_events", (json_int_t)(t ? t->dropped + t->lost : 0),
	    "lost_events", (json_int_t)(t ? t->lost : 0),
	    "timeline_overflow", (json_int_t)(t ? t->dropped : 0),
	    "timeline_full_at_s", t && t->dropped && t->full_at > r->mono_start_ns ?
	    (t->full_at - r->mono_start_ns) / 1e9 : 0.0);
	json_dumpf(other, f, JSON_COMPACT);
	json_decref(other);
	fputs("}\n", f);
}

static void writer_free(struct writer *w)
{
	for (size_t i = 0; i < w->capbases; i++) {
		for (int k = 0; k < w->bases[i].nlanes; k++)
			free(w->bases[i].lanes[k].end);
		free(w->bases[i].lanes);
	}
	free(w->bases);
	free(w->heap);
	free(w->named.k);
}

/*
 * ls_render_timeline - Chrome trace events: a track per monitored thread
 * and per CPU (and lanes beside them, see above), a slice per event on
 * both, wake-up arrows, a counter of cumulative stolen time (and money);
 * microseconds since the run started. The timeline is sorted by start.
 */
int ls_render_timeline(FILE *f, struct ls_timeline *t, const struct ls_run *r,
    const struct ls_profile *pf)
{
	struct writer w = { .js = { .f = f }, .t = t, .r = r, .next_tid = LANE_TID0,
	    .money = r->opts->notional > 0 && r->opts->bps_per_us > 0 };
	char name[64];

	fputs("{\"traceEvents\":[", f);
	put(&w.js, json_pack("{s:s, s:s, s:I, s:{s:s}}", "name", "process_name", "ph", "M",
	    "pid", (json_int_t)CPU_PID, "args", "name", "CPUs"));
	resolve_pids(t);
	for (int c = 0; c < LS_MAX_CPUS; c++)
		if (ls_cpuset_isset(&r->cpus, c)) {
			snprintf(name, sizeof(name), "CPU %d", c);
			name_track(&w.js, &w.named, CPU_PID, CPU_PID + c, name);
		}
	for (int i = 0; t && i < t->n; i++)
		one_event(&w, i);
	flush(&w, UINT64_MAX);
	for (int i = 0; t && i < t->ncounters; i++) {
		const struct ls_tcounter *c = &t->counters[i];

		put(&w.js, json_pack("{s:s, s:s, s:f, s:I, s:{s:f}}", "name", c->name,
		    "ph", "C", "ts", us(rel(&w, c->ts)), "pid", (json_int_t)CPU_PID,
		    "args", "value", c->value));
	}
	if (pf) {	/* a wall-clock profile in the same file: its stacks after the timeline */
		json_t *stacks = json_array(), *o;
		size_t i;

		ls_profile_trace_events(stacks, pf, CPU_PID + LS_MAX_CPUS);
		json_array_foreach(stacks, i, o)
			put(&w.js, json_incref(o));
		json_decref(stacks);
	}
	writer_free(&w);
	trailer(f, t, r);
	return ferror(f) ? -1 : 0;
}
