// SPDX-License-Identifier: GPL-2.0-only
/*
 * report-keep.c - --interval's report of the run so far, kept until the
 * next interval subtracts it (interval.c), in memory of its own.
 *
 * Collecting a report allocates tens of MiB of temporaries (the maps' keys
 * and values, row names, symbol lookups) among the report's own thousands
 * of small strings and arrays. Kept on the heap, those few live chunks end
 * up spread over pages the temporaries used, which malloc_trim() cannot
 * give back while one byte of them lives: hour by hour more of the heap
 * stays resident (doc/PERFORMANCE.md, the soak). So the kept report is a
 * copy of what the subtraction reads, laid end to end in blocks mapped for
 * it alone and unmapped whole when the next one replaces it; the heap then
 * holds nothing of it between intervals.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "latencyscope.h"

#define BLOCK_SIZE	(256u << 10)	/* a block's usual size; a larger request gets its own */

struct block {
	struct block	*next;
	size_t		 size, used;	/* of the whole block, header included */
};

struct ls_keep {
	struct block	*blocks;	/* the newest first: allocations come from it */
};

static struct block *block_new(struct ls_keep *k, size_t need)
{
	size_t size = need + sizeof(struct block) > BLOCK_SIZE ?
	    (need + sizeof(struct block) + 4095) & ~(size_t)4095 : BLOCK_SIZE;
	struct block *b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (b == MAP_FAILED)
		ls_oom();
	b->size = size;
	b->used = (sizeof(*b) + 15) & ~(size_t)15;
	b->next = k->blocks;
	k->blocks = b;
	return b;
}

/* alloc - n zeroed bytes, 16-aligned (fresh mappings are zero) */
static void *alloc(struct ls_keep *k, size_t n)
{
	struct block *b = k->blocks;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (!b || b->size - b->used < n)
		b = block_new(k, n);
	p = (char *)b + b->used;
	b->used += n;
	return p;
}

static char *str(struct ls_keep *k, const char *s)
{
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	return memcpy(alloc(k, n), s, n);
}

static struct ls_value value(struct ls_keep *k, const struct ls_value *v)
{
	struct ls_value c = *v;

	if (v->type == LS_V_STR || v->type == LS_V_JSON)
		c.s = str(k, v->s);
	return c;
}

static struct ls_table *table(struct ls_keep *k, const struct ls_table *t)
{
	struct ls_table *c = alloc(k, sizeof(*c));
	size_t ncells = (size_t)t->nrows * t->ncols;

	*c = (struct ls_table){ .key = str(k, t->key), .title = str(k, t->title), .ncols = t->ncols,
	    .nrows = t->nrows, .max_text_rows = t->max_text_rows };
	c->cols = alloc(k, t->ncols * sizeof(*c->cols));
	for (int i = 0; i < t->ncols; i++)
		c->cols[i] = (struct ls_column){ str(k, t->cols[i].key), str(k, t->cols[i].label),
		    t->cols[i].width };
	c->cells = alloc(k, ncells * sizeof(*c->cells));
	for (size_t i = 0; i < ncells; i++)
		c->cells[i] = value(k, &t->cells[i]);
	return c;
}

/* section - its metrics, distributions and tables: findings and notes are judged afresh */
static void section(struct ls_keep *k, struct ls_section *c, const struct ls_section *s)
{
	*c = (struct ls_section){ .name = str(k, s->name), .title = str(k, s->title),
	    .verdict = s->verdict, .nmetrics = s->nmetrics, .nhistos = s->nhistos,
	    .ntables = s->ntables };
	c->metrics = alloc(k, s->nmetrics * sizeof(*c->metrics));
	for (int i = 0; i < s->nmetrics; i++)
		c->metrics[i] = (struct ls_metric){ str(k, s->metrics[i].key),
		    str(k, s->metrics[i].label), value(k, &s->metrics[i].v) };
	c->histos = alloc(k, s->nhistos * sizeof(*c->histos));
	for (int i = 0; i < s->nhistos; i++) {
		const struct ls_histo *h = &s->histos[i];

		c->histos[i] = (struct ls_histo){ str(k, h->key), str(k, h->label), h->s, NULL };
		if (h->dist)
			c->histos[i].dist = memcpy(alloc(k, sizeof(*h->dist)), h->dist, sizeof(*h->dist));
	}
	c->tables = alloc(k, s->ntables * sizeof(*c->tables));
	for (int i = 0; i < s->ntables; i++)
		c->tables[i] = table(k, s->tables[i]);
}

/*
 * ls_report_keep - dst: src as the next interval subtracts it (its
 * sections' metrics, distributions and tables, its duration and lost
 * events, the interval it ended), in memory of its own that
 * ls_report_free() unmaps
 */
void ls_report_keep(struct ls_report *dst, const struct ls_report *src)
{
	struct ls_keep k = { 0 };

	*dst = (struct ls_report){ .tool_version = src->tool_version, .duration_s = src->duration_s,
	    .lost_events = src->lost_events, .nsections = src->nsections,
	    .violations = src->violations, .warnings = src->warnings, .exit_code = src->exit_code };
	dst->interval.index = src->interval.index;
	dst->interval.start = str(&k, src->interval.start);
	dst->interval.end = str(&k, src->interval.end);
	dst->interval.start_s = src->interval.start_s;
	dst->sections = alloc(&k, src->nsections * sizeof(*dst->sections));
	for (int i = 0; i < src->nsections; i++)
		section(&k, &dst->sections[i], &src->sections[i]);
	dst->kept = alloc(&k, sizeof(k));
	*dst->kept = k;
}

/* ls_keep_free - the kept report's memory, all of it */
void ls_keep_free(struct ls_keep *k)
{
	struct block *b = k->blocks, *next;

	for (; b; b = next) {
		next = b->next;
		munmap(b, b->size);
	}
}
