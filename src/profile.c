// SPDX-License-Identifier: GPL-2.0-only
/*
 * profile.c - the neutral profile model: per thread, stacks of frame names
 * (root first) with the wall-clock time spent in each. A module fills it
 * (mod-wallclock.c); render-profile.c writes it as folded stacks, pprof,
 * speedscope or Chrome trace events. Frame names are interned once.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "latencyscope.h"

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

struct ls_profile *ls_profile_new(uint64_t period_ns)
{
	struct ls_profile *p = ls_xcalloc(1, sizeof(*p));

	p->period_ns = period_ns;
	p->hcap = 1024;
	p->htab = ls_xcalloc(p->hcap, sizeof(*p->htab));
	for (int i = 0; i < p->hcap; i++)
		p->htab[i] = -1;
	return p;
}

/* ls_profile_frame - the index of a frame name, added on first use */
int ls_profile_frame(struct ls_profile *p, const char *raw)
{
	/* frames are task names too (folded output is text): kept printable */
	bool ctrl = false;
	char *esc;
	const char *name;

	for (const unsigned char *c = (const unsigned char *)raw; *c && !ctrl; c++)
		ctrl = *c < 0x20 || *c == 0x7f;
	esc = ctrl ? ls_strdup_printable(raw) : NULL;
	name = esc ? esc : raw;
	uint64_t h = hash_str(name);
	int i = (int)(h & (uint64_t)(p->hcap - 1)), idx;

	while (p->htab[i] >= 0) {
		if (!strcmp(p->frames[p->htab[i]], name)) {
			free(esc);
			return p->htab[i];
		}
		i = (i + 1) & (p->hcap - 1);
	}
	p->frames = ls_xrealloc(p->frames, (p->nframes + 1) * sizeof(*p->frames));
	p->frames[p->nframes] = esc ? esc : ls_xstrdup(raw);
	idx = p->nframes++;
	p->htab[i] = idx;
	if (p->nframes * 2 > p->hcap) {	/* grow and rehash */
		int ncap = p->hcap * 2;
		int *nt = ls_xmalloc(ncap * sizeof(*nt));

		for (int k = 0; k < ncap; k++)
			nt[k] = -1;
		for (int f = 0; f < p->nframes; f++) {
			int j = (int)(hash_str(p->frames[f]) & (uint64_t)(ncap - 1));

			while (nt[j] >= 0)
				j = (j + 1) & (ncap - 1);
			nt[j] = f;
		}
		free(p->htab);
		p->htab = nt;
		p->hcap = ncap;
	}
	return idx;
}

/* ls_profile_thread - a thread's record, created on first use */
struct ls_pthread *ls_profile_thread(struct ls_profile *p, uint32_t tid, uint32_t pid, const char *comm)
{
	struct ls_pthread *t;

	for (int i = 0; i < p->nthreads; i++)
		if (p->threads[i].tid == tid)
			return &p->threads[i];
	p->threads = ls_xrealloc(p->threads, (p->nthreads + 1) * sizeof(*p->threads));
	t = &p->threads[p->nthreads++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->pid = pid;
	snprintf(t->comm, sizeof(t->comm), "%s", comm);
	return t;
}

/*
 * ls_profile_add - ns of wall-clock time in a stack (root first; frames[0]
 * is the state marker); equal stacks of a thread are merged
 */
void ls_profile_add(struct ls_pthread *t, const int *frames, int n, uint64_t ns, uint64_t count,
    bool running)
{
	struct ls_psample *s;

	for (int i = 0; i < t->nsamples; i++) {
		s = &t->samples[i];
		if (s->nframes == n && s->running == running && !memcmp(s->frames, frames, n * sizeof(int))) {
			s->ns += ns;
			s->count += count;
			goto total;
		}
	}
	t->samples = ls_xrealloc(t->samples, (t->nsamples + 1) * sizeof(*t->samples));
	s = &t->samples[t->nsamples++];
	s->frames = ls_xrealloc(NULL, n * sizeof(int));
	memcpy(s->frames, frames, n * sizeof(int));
	s->nframes = n;
	s->ns = ns;
	s->count = count;
	s->running = running;
total:
	if (running)
		t->on_ns += ns;
	else
		t->off_ns += ns;
}

static int cmp_sample(const void *a, const void *b)
{
	const struct ls_psample *x = a, *y = b;

	return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : 0;
}

static int cmp_thread(const void *a, const void *b)
{
	const struct ls_pthread *x = a, *y = b;
	uint64_t tx = x->on_ns + x->off_ns, ty = y->on_ns + y->off_ns;

	return tx < ty ? 1 : tx > ty ? -1 : (x->tid > y->tid) - (x->tid < y->tid);
}

/* ls_profile_sort - threads by total time, each one's stacks heaviest first */
void ls_profile_sort(struct ls_profile *p)
{
	qsort(p->threads, p->nthreads, sizeof(*p->threads), cmp_thread);
	for (int i = 0; i < p->nthreads; i++)
		qsort(p->threads[i].samples, p->threads[i].nsamples, sizeof(struct ls_psample), cmp_sample);
}

void ls_profile_free(struct ls_profile *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->nframes; i++)
		free(p->frames[i]);
	for (int i = 0; i < p->nthreads; i++) {
		for (int k = 0; k < p->threads[i].nsamples; k++)
			free(p->threads[i].samples[k].frames);
		free(p->threads[i].samples);
	}
	free(p->threads);
	free(p->frames);
	free(p->htab);
	free(p);
}
