// SPDX-License-Identifier: GPL-2.0-only
/*
 * timeline.c - the interference timeline: every event at or above
 * --trace-threshold that a module saw (a wait for the CPU and who held it,
 * an interruption, an oversleep, a memory stall, a slow packet delivery),
 * written as Chrome trace events for ui.perfetto.dev, or folded into the
 * "alpha" flame graph module;kind;culprit, in nanoseconds or in money.
 */

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "latencyscope.h"

/*
 * ls_event_floor - the probe floor a module with a worst-N list should set:
 * its own (the N-th worst so far), or lower to feed the timeline
 */
uint64_t ls_event_floor(const struct ls_probe *p, uint64_t worst_floor)
{
	const struct ls_timeline *t = p->run ? p->run->timeline : NULL;

	if (t && t->on && t->threshold_ns < worst_floor)
		return t->threshold_ns ? t->threshold_ns : 1;
	return worst_floor;
}

/* ls_strings - each distinct name once: events point into it */
struct ls_strings {
	char	**v;
	size_t	  cap, n;
};

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* ls_timeline_intern - the stored copy of s (at most max bytes of it), added on first use */
const char *ls_timeline_intern(struct ls_timeline *t, const char *s, size_t max)
{
	struct ls_strings *st = t->names;
	char buf[128];
	size_t i;

	snprintf(buf, sizeof(buf) < max ? sizeof(buf) : max, "%s", s ? s : "");
	if (!st)
		st = t->names = ls_xcalloc(1, sizeof(*st));
	if ((st->n + 1) * 2 > st->cap) {	/* grow and rehash */
		struct ls_strings ns = { ls_xcalloc(st->cap ? st->cap * 2 : 256, sizeof(char *)),
		    st->cap ? st->cap * 2 : 256, st->n };
		for (size_t j = 0; j < st->cap; j++) {
			if (!st->v[j])
				continue;
			for (i = name_hash(st->v[j]) & (ns.cap - 1); ns.v[i]; i = (i + 1) & (ns.cap - 1))
				;
			ns.v[i] = st->v[j];
		}
		free(st->v);
		*st = ns;
	}
	for (i = name_hash(buf) & (st->cap - 1); st->v[i]; i = (i + 1) & (st->cap - 1))
		if (!strcmp(st->v[i], buf))
			return st->v[i];
	st->v[i] = ls_strdup_printf("%s", buf);
	st->n++;
	return st->v[i];
}

/*
 * timeline_add - one event of module; an event with the same module,
 * kind, CPU, thread and start as a recent one (an interruption reported
 * again as it grew) replaces it when longer
 */
static struct ls_tevent *timeline_add(struct ls_probe *p, const char *kind, const char *culprit,
    uint64_t start, uint64_t dur, uint32_t cpu, uint32_t tid, uint32_t pid, const char *comm,
    bool instant)
{
	struct ls_timeline *t = p->run ? p->run->timeline : NULL;
	struct ls_tevent *e;

	if (!t || !t->on || (!instant && dur < t->threshold_ns))
		return NULL;
	for (int i = t->n - 1; !instant && i >= 0 && i >= t->n - 64; i--) {
		e = &t->ev[i];
		if (e->start == start && e->cpu == cpu && e->tid == tid && e->module == p->ops->name &&
		    !e->instant && !strcmp(e->kind, kind)) {
			if (dur > e->dur) {
				if (e->stolen == e->dur)
					e->stolen = dur;
				e->dur = dur;
			}
			return e;
		}
	}
	if (t->n == t->cap) {
		int ncap = t->cap ? t->cap * 2 : 1024;
		struct ls_tevent *ne = ncap <= (t->max ? t->max : LS_TIMELINE_MAX) ? ls_xrealloc(t->ev, ncap * sizeof(*ne)) : NULL;

		if (!ne) {
			if (!t->dropped++) {	/* counted, reported with when it began */
				t->full_at = start;
				/* said now too: an operator can stop here and lose nothing */
				ls_warn("timeline full (%d events): later ones are counted, not kept; "
				    "raise --trace-threshold to keep the longest", t->n);
			}
			return NULL;
		}
		t->ev = ne;
		t->cap = ncap;
	}
	e = &t->ev[t->n++];
	memset(e, 0, sizeof(*e));
	e->module = p->ops->name;
	e->kind = ls_timeline_intern(t, kind, 32);
	e->culprit = ls_timeline_intern(t, culprit, 64);
	e->comm = ls_timeline_intern(t, comm, 17);
	e->start = start;
	e->dur = dur;
	e->stolen = dur;	/* all of it unless the module says the thread asked for some */
	e->cpu = cpu;
	e->tid = tid;
	e->pid = pid ? pid : tid;
	e->instant = instant;
	return e;
}

/* ls_timeline_add - see timeline_add; the event stored or updated, NULL when none */
struct ls_tevent *ls_timeline_add(struct ls_probe *p, const char *kind, const char *culprit,
    uint64_t start, uint64_t dur, uint32_t cpu, uint32_t tid, uint32_t pid, const char *comm)
{
	return timeline_add(p, kind, culprit, start, dur, cpu, tid, pid, comm, false);
}

/* ls_timeline_instant - a point in time (a migration), whatever the threshold */
void ls_timeline_instant(struct ls_probe *p, const char *kind, const char *culprit, uint64_t ts,
    uint32_t cpu, uint32_t tid, uint32_t pid, const char *comm)
{
	timeline_add(p, kind, culprit, ts, 0, cpu, tid, pid, comm, true);
}

/* ls_timeline_counter - one point of a series a module measured */
void ls_timeline_counter(struct ls_probe *p, const char *name, uint64_t ts, double value)
{
	struct ls_timeline *t = p->run ? p->run->timeline : NULL;
	struct ls_tcounter *c;

	if (!t || !t->on)
		return;
	c = ls_xrealloc(t->counters, (t->ncounters + 1) * sizeof(*c));
	if (!c) {
		t->dropped++;
		return;
	}
	t->counters = c;
	c = &t->counters[t->ncounters++];
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->ts = ts;
	c->value = value;
}

/* by start, the longer of two that start together first: the one that encloses the other */
static int cmp_start(const void *a, const void *b)
{
	const struct ls_tevent *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->dur > y->dur ? -1 : x->dur < y->dur;
}

void ls_timeline_sort(struct ls_timeline *t)
{
	if (t && t->n)
		qsort(t->ev, t->n, sizeof(*t->ev), cmp_start);
}

void ls_timeline_free(struct ls_timeline *t)
{
	if (t) {
		for (size_t i = 0; t->names && i < t->names->cap; i++)
			free(t->names->v[i]);
		if (t->names)
			free(t->names->v);
		free(t->names);
		free(t->counters);
		free(t->ev);
		memset(t, 0, sizeof(*t));
	}
}

/* ls_money_cents - what dur of delay cost: notional x bps per us x us, in cents */
uint64_t ls_money_cents(uint64_t dur_ns, double notional, double bps_per_us)
{
	double dollars = notional * bps_per_us * 1e-4 * (dur_ns / 1000.0);

	return dollars > 0 ? (uint64_t)llround(dollars * 100.0) : 0;
}

/*
 * ls_timeline_alpha - the alpha flame graph as a profile: one stack per
 * (module, kind, culprit), valued in nanoseconds or, with --notional and
 * --bps-per-us, in cents; only the delay each event stole (a sleep's
 * oversleep, not the sleep it asked for)
 */
struct ls_profile *ls_timeline_alpha(const struct ls_timeline *t, const struct ls_run *r)
{
	bool money = r->opts->notional > 0 && r->opts->bps_per_us > 0;
	struct ls_profile *pf = ls_profile_new(0);
	struct ls_pthread *th = ls_profile_thread(pf, 0, 0, money ? "alpha (US cents)" :
	    "interference, ns");

	pf->no_thread_root = true;
	pf->unit = money ? "none" : NULL;
	pf->start_real_ns = r->real_start_ns;
	pf->duration_ns = (uint64_t)(r->duration_s * 1e9);
	for (int i = 0; t && i < t->n; i++) {
		const struct ls_tevent *e = &t->ev[i];
		int frames[3];
		uint64_t v = money ? ls_money_cents(e->stolen, r->opts->notional, r->opts->bps_per_us) :
		    e->stolen;

		if (!e->stolen)
			continue;	/* the thread's own time (running), or a wait it asked for */
		frames[0] = ls_profile_frame(pf, e->module);
		frames[1] = ls_profile_frame(pf, e->kind);
		frames[2] = ls_profile_frame(pf, e->culprit && e->culprit[0] ? e->culprit : "?");
		if (v)
			ls_profile_add(th, frames, 3, v, 1, false);
	}
	ls_profile_sort(pf);
	return pf;
}
