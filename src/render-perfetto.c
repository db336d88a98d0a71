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
 * millions of events never exists as one document in memory
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
	json_dumpf(o, js->f, JSON_COMPACT);
	json_decref(o);
}

/* name_track - a thread_name record the first time a (pid, tid) appears */
static void name_track(struct jstream *ev, struct tracks *ts, uint32_t pid, uint32_t tid, const char *comm)
{
	char name[64];

	if (!tracks_add(ts, ((uint64_t)pid << 32 | tid) + 1))
		return;
	snprintf(name, sizeof(name), "%s (%u)", comm, tid);
	put(ev, json_pack("{s:s, s:s, s:I, s:I, s:{s:s}}", "name", "thread_name",
	    "ph", "M", "pid", (json_int_t)pid, "tid", (json_int_t)tid, "args", "name", name));
}

/*
 * ls_render_timeline - Chrome trace events: a track per monitored thread
 * and per CPU, a slice per event on both, a counter of cumulative stolen
 * time (and money); microseconds since the run started
 */
int ls_render_timeline(FILE *f, struct ls_timeline *t, const struct ls_run *r,
    const struct ls_profile *pf)
{
	struct jstream js = { .f = f }, *ev = &js;
	struct tracks named = { 0 };
	json_t *other;
	uint64_t stolen = 0, cents = 0;
	bool money = r->opts->notional > 0 && r->opts->bps_per_us > 0;
	char name[160], when[64];

	fputs("{\"traceEvents\":[", f);
	put(ev, json_pack("{s:s, s:s, s:I, s:{s:s}}", "name", "process_name", "ph", "M",
	    "pid", (json_int_t)CPU_PID, "args", "name", "CPUs"));
	resolve_pids(t);
	for (int c = 0; c < LS_MAX_CPUS; c++)
		if (ls_cpuset_isset(&r->cpus, c)) {
			snprintf(name, sizeof(name), "CPU %d", c);
			put(ev, json_pack("{s:s, s:s, s:I, s:I, s:{s:s}}", "name",
			    "thread_name", "ph", "M", "pid", (json_int_t)CPU_PID, "tid", (json_int_t)(CPU_PID + c),
			    "args", "name", name));
		}
	for (int i = 0; t && i < t->n; i++) {
		const struct ls_tevent *e = &t->ev[i];
		double ts = e->start > r->mono_start_ns ? (e->start - r->mono_start_ns) / 1000.0 : 0;

		name_track(ev, &named, e->pid, e->tid, e->comm);
		if (e->instant) {	/* a migration: a point on the thread's track */
			snprintf(name, sizeof(name), "migrated CPU %u -> %s", e->cpu, e->culprit);
			put(ev, json_pack("{s:s, s:s, s:s, s:s, s:f, s:I, s:I}", "name", name,
			    "cat", e->module, "ph", "i", "s", "t", "ts", ts, "pid", (json_int_t)e->pid,
			    "tid", (json_int_t)e->tid));
			continue;
		}
		if (e->waker) {	/* a flow arrow from the waker's track to the wait it ended */
			name_track(ev, &named, e->waker, e->waker, e->waker_comm);
			put(ev, json_pack("{s:s, s:s, s:s, s:f, s:f, s:I, s:I}", "name",
			    "wakeup", "cat", "wakeup", "ph", "X", "ts", ts, "dur", 0.001, "pid",
			    (json_int_t)e->waker, "tid", (json_int_t)e->waker));
			put(ev, json_pack("{s:s, s:s, s:s, s:I, s:f, s:I, s:I}", "name",
			    "wakeup", "cat", "wakeup", "ph", "s", "id", (json_int_t)i, "ts", ts, "pid",
			    (json_int_t)e->waker, "tid", (json_int_t)e->waker));
			put(ev, json_pack("{s:s, s:s, s:s, s:s, s:I, s:f, s:I, s:I}", "name",
			    "wakeup", "cat", "wakeup", "ph", "f", "bp", "e", "id", (json_int_t)i, "ts", ts,
			    "pid", (json_int_t)e->pid, "tid", (json_int_t)e->tid));
		}
		event_name(e, name, sizeof(name));
		for (int track = 0; track < 2; track++)
			put(ev, json_pack("{s:s, s:s, s:s, s:f, s:f, s:I, s:I, s:{s:s, s:I, s:I, s:s}}",
			    "name", name, "cat", e->module, "ph", "X", "ts", ts, "dur", e->dur / 1000.0,
			    "pid", (json_int_t)(track ? CPU_PID : e->pid),
			    "tid", (json_int_t)(track ? CPU_PID + e->cpu : e->tid),
			    "args", "victim", e->comm, "victim_tid", (json_int_t)e->tid, "duration_ns",
			    (json_int_t)e->dur, "culprit", e->culprit));
		if (e->running)	/* the thread's own time: not stolen */
			continue;
		stolen += e->dur;
		put(ev, json_pack("{s:s, s:s, s:f, s:I, s:{s:f}}", "name",
		    "stolen time (us, cumulative)", "ph", "C", "ts", ts + e->dur / 1000.0, "pid",
		    (json_int_t)CPU_PID, "args", "stolen", stolen / 1000.0));
		if (money) {
			cents += ls_money_cents(e->dur, r->opts->notional, r->opts->bps_per_us);
			put(ev, json_pack("{s:s, s:s, s:f, s:I, s:{s:f}}", "name",
			    "alpha lost (USD, cumulative)", "ph", "C", "ts", ts + e->dur / 1000.0, "pid",
			    (json_int_t)CPU_PID, "args", "usd", cents / 100.0));
		}
	}
	free(named.k);
	for (int i = 0; t && i < t->ncounters; i++) {
		const struct ls_tcounter *c = &t->counters[i];

		put(ev, json_pack("{s:s, s:s, s:f, s:I, s:{s:f}}", "name", c->name,
		    "ph", "C", "ts", c->ts > r->mono_start_ns ? (c->ts - r->mono_start_ns) / 1000.0 : 0,
		    "pid", (json_int_t)CPU_PID, "args", "value", c->value));
	}
	if (pf) {	/* a wall-clock profile in the same file: its stacks after the timeline */
		json_t *stacks = json_array(), *o;
		size_t i;

		ls_profile_trace_events(stacks, pf, CPU_PID + LS_MAX_CPUS);
		json_array_foreach(stacks, i, o)
			put(ev, json_incref(o));
		json_decref(stacks);
	}
	ls_wallclock(r, r->mono_start_ns, when, sizeof(when));
	fputs("],\"displayTimeUnit\":\"ns\",\"otherData\":", f);
	/* one count of what the trace lacks: never reached user space, or did not fit in memory */
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
	return ferror(f) ? -1 : 0;
}
