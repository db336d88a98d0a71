// SPDX-License-Identifier: GPL-2.0-only
/*
 * profile.c - the neutral profile model: per thread, stacks of frame names
 * (root first) with the wall-clock time spent in each. A module fills it
 * (mod-wallclock.c); render-profile.c writes it as folded stacks, pprof,
 * speedscope or Chrome trace events. Frame names are interned once; where
 * a frame's code is (mapping and address) is kept beside, for pprof.
 */

#include "config.h"

#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static bool same_locs(const struct ls_ploc *a, const struct ls_ploc *b, int n)
{
	for (int i = 0; i < n; i++)	/* field by field: the struct has padding */
		if (a[i].map != b[i].map || a[i].addr != b[i].addr)
			return false;
	return true;
}

/* add_variant - ns at these addresses under sample s: merged with an equal set */
static void add_variant(struct ls_psample *s, const struct ls_ploc *locs, uint64_t ns)
{
	struct ls_pvariant *v;

	for (int i = 0; i < s->nvariants; i++) {
		v = &s->variants[i];
		if (same_locs(v->locs, locs, s->nframes)) {
			v->ns += ns;
			return;
		}
	}
	s->variants = ls_xrealloc(s->variants, (s->nvariants + 1) * sizeof(*s->variants));
	v = &s->variants[s->nvariants++];
	v->locs = ls_xrealloc(NULL, s->nframes * sizeof(*locs));
	memcpy(v->locs, locs, s->nframes * sizeof(*locs));
	v->ns = ns;
}

/*
 * ls_profile_add_at - ns of wall-clock time in a stack (root first; frames[0]
 * is the state marker), with where each frame's code is when locs is not
 * NULL; equal stacks of a thread are merged by name
 */
void ls_profile_add_at(struct ls_pthread *t, const int *frames, const struct ls_ploc *locs, int n,
    uint64_t ns, uint64_t count, bool running)
{
	struct ls_psample *s = NULL;

	for (int i = 0; i < t->nsamples && !s; i++)
		if (t->samples[i].nframes == n && t->samples[i].running == running &&
		    !memcmp(t->samples[i].frames, frames, n * sizeof(int)))
			s = &t->samples[i];
	if (!s) {
		t->samples = ls_xrealloc(t->samples, (t->nsamples + 1) * sizeof(*t->samples));
		s = &t->samples[t->nsamples++];
		memset(s, 0, sizeof(*s));
		s->frames = ls_xrealloc(NULL, n * sizeof(int));
		memcpy(s->frames, frames, n * sizeof(int));
		s->nframes = n;
		s->running = running;
	}
	s->ns += ns;
	s->count += count;
	if (locs)
		add_variant(s, locs, ns);
	if (running)
		t->on_ns += ns;
	else
		t->off_ns += ns;
}

void ls_profile_add(struct ls_pthread *t, const int *frames, int n, uint64_t ns, uint64_t count,
    bool running)
{
	ls_profile_add_at(t, frames, NULL, n, ns, count, running);
}

/* build_id - the GNU build id note of an ELF file, in hex; "" without one */
static void build_id(const char *path, char *hex, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *e;
	Elf_Scn *scn = NULL;

	hex[0] = '\0';
	if (fd < 0)
		return;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	while (e && !hex[0] && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		GElf_Nhdr nh;
		Elf_Data *d;
		size_t off = 0, noff, doff;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE || !(d = elf_getdata(scn, NULL)))
			continue;
		while (!hex[0] && (off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((char *)d->d_buf + noff, "GNU", 4) || nh.n_descsz * 2 >= len)
				continue;
			for (size_t i = 0; i < nh.n_descsz; i++)
				snprintf(hex + 2 * i, 3, "%02x", ((unsigned char *)d->d_buf)[doff + i]);
		}
	}
	if (e)
		elf_end(e);
	close(fd);
}

/*
 * ls_profile_map - the index of a process's executable mapping of path at
 * start, added (with the file's build id) on first use
 */
int ls_profile_map(struct ls_profile *p, const char *path, uint64_t start, uint64_t limit,
    uint64_t offset, bool main)
{
	struct ls_pmap *m;

	for (int i = 0; i < p->nmaps; i++)
		if (p->maps[i].start == start && !strcmp(p->maps[i].path, path))
			return i;
	p->maps = ls_xrealloc(p->maps, (p->nmaps + 1) * sizeof(*p->maps));
	m = &p->maps[p->nmaps];
	memset(m, 0, sizeof(*m));
	m->path = ls_xstrdup(path);
	m->start = start;
	m->limit = limit;
	m->offset = offset;
	m->main = main;
	build_id(path, m->build_id, sizeof(m->build_id));
	return p->nmaps++;
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
	if (p->nthreads)	/* qsort's array may not be NULL, even when empty */
		qsort(p->threads, p->nthreads, sizeof(*p->threads), cmp_thread);
	for (int i = 0; i < p->nthreads; i++)
		if (p->threads[i].nsamples)
			qsort(p->threads[i].samples, p->threads[i].nsamples, sizeof(struct ls_psample),
			    cmp_sample);
}

void ls_profile_free(struct ls_profile *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->nframes; i++)
		free(p->frames[i]);
	for (int i = 0; i < p->nthreads; i++) {
		for (int k = 0; k < p->threads[i].nsamples; k++) {
			struct ls_psample *sm = &p->threads[i].samples[k];

			for (int v = 0; v < sm->nvariants; v++)
				free(sm->variants[v].locs);
			free(sm->variants);
			free(sm->frames);
		}
		free(p->threads[i].samples);
	}
	for (int i = 0; i < p->nmaps; i++)
		free(p->maps[i].path);
	free(p->maps);
	free(p->threads);
	free(p->frames);
	free(p->htab);
	free(p);
}
