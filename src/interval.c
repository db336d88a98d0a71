// SPDX-License-Identifier: GPL-2.0-only
/*
 * interval.c - --interval: one interval's report as the difference of two
 * reports of the run so far, and the compact table text mode prints for it.
 *
 * The probes' maps are never cleared while they trace. Clearing a map from
 * user space races with the programs updating it (an event between the read
 * and the clear of its slot would be lost), and the kernel's per-CPU maps
 * have no atomic read-and-reset. So the maps only grow, each interval's end
 * collects a report of the run so far, and this file subtracts the report of
 * the interval before: an event landing while the maps are read is in one
 * report or the next, never lost and never counted twice. What a module's
 * collect() derives (a thread still on a CPU counted up to now, a batch
 * still in a per-thread slot) is subtracted after it is derived, so it is
 * right too.
 *
 * Only what subtracts exactly is kept, as each module's ls_interval_spec
 * says: running totals (counts, times), distributions (buckets, count and
 * sum; percentiles recomputed from the difference; min and max exact when
 * the interval moved the run's, else the edge of the interval's outermost
 * bucket, within 6.25 %), the maxima an interval raised, and the worst list
 * (ranked from the event stream per interval by the engine). Means, rates
 * and shares of the run so far are left out rather than shown wrong.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latencyscope.h"

static const struct ls_section *find_section(const struct ls_report *r, const char *name)
{
	for (int i = 0; r && i < r->nsections; i++)
		if (!strcmp(r->sections[i].name, name))
			return &r->sections[i];
	return NULL;
}

/* copy - a value the new report owns */
static struct ls_value copy(const struct ls_value *v)
{
	if (v->type == LS_V_STR)
		return ls_v_str(v->s);
	if (v->type == LS_V_JSON)
		return ls_v_json(v->s);
	return *v;
}

/* minus - a running total over the interval: now - before (before absent: now) */
static struct ls_value minus(const struct ls_value *now, const struct ls_value *before)
{
	if (now->type == LS_V_UINT)
		return ls_v_uint(now->u - (before->type == LS_V_UINT && before->u <= now->u ?
		    before->u : 0), now->fmt);
	if (now->type == LS_V_DOUBLE)
		return ls_v_double(now->d - (before->type == LS_V_DOUBLE ? before->d : 0), now->fmt);
	return copy(now);
}

/* zero - a total that did not move */
static bool zero(const struct ls_value *v)
{
	return (v->type == LS_V_UINT && !v->u) || (v->type == LS_V_DOUBLE && v->d == 0) ||
	    v->type == LS_V_NULL;
}

/*
 * hist_minus - the interval's distribution: buckets, count and sum subtract;
 * min and max are the run's when the interval moved them, else the edges of
 * its outermost buckets
 */
static void hist_minus(struct ls_hist *d, const struct ls_hist *now, const struct ls_hist *before)
{
	int lo = -1, hi = -1;

	memset(d, 0, sizeof(*d));
	d->count = now->count - (before ? before->count : 0);
	d->sum = now->sum - (before ? before->sum : 0);
	for (int b = 0; b < LS_HIST_NBUCKETS; b++) {
		d->b[b] = now->b[b] - (before ? before->b[b] : 0);
		if (d->b[b]) {
			lo = lo < 0 ? b : lo;
			hi = b;
		}
	}
	if (!d->count || lo < 0)
		return;
	d->min = !before || !before->count || now->min < before->min ? now->min :
	    ls_hist_bucket_low((unsigned)lo);
	d->max = !before || now->max > before->max ? now->max : ls_hist_bucket_high((unsigned)hi) - 1;
	d->min = d->min < now->min ? now->min : d->min;
	d->max = d->max > now->max ? now->max : d->max;
}

static const struct ls_histo *find_histo(const struct ls_section *s, const char *key)
{
	for (int i = 0; s && i < s->nhistos; i++)
		if (!strcmp(s->histos[i].key, key))
			return &s->histos[i];
	return NULL;
}

static void histos(struct ls_section *d, const struct ls_section *now, const struct ls_section *before,
    const struct ls_run *r)
{
	for (int i = 0; i < now->nhistos; i++) {
		const struct ls_histo *h = &now->histos[i], *b = find_histo(before, h->key);
		struct ls_summary sum;
		struct ls_hist *dist;

		if (!h->dist)	/* a summary without buckets does not subtract */
			continue;
		dist = ls_xmalloc(sizeof(*dist));
		hist_minus(dist, h->dist, b ? b->dist : NULL);
		ls_hist_summarize(dist, r->opts->latency_budget_ns, &sum);
		ls_section_histo(d, h->key, h->label, &sum, dist);
		free(dist);
	}
}

static void metrics(struct ls_section *d, const struct ls_section *now, const struct ls_section *before,
    const struct ls_interval_spec *sp)
{
	for (int i = 0; i < now->nmetrics; i++) {
		const struct ls_metric *m = &now->metrics[i];

		/* missed_events: the engine's, in every section that has it */
		if (m->key && (ls_list_has(sp->totals, m->key) || !strcmp(m->key, "missed_events")))
			ls_section_metric(d, m->key, m->label, minus(&m->v, before ?
			    ls_section_find_metric(before, m->key) : &(struct ls_value){ 0 }));
		else if (m->v.type == LS_V_STR || m->v.type == LS_V_BOOL)	/* settings, not counts */
			ls_section_metric(d, m->key, m->label, copy(&m->v));
	}
}

/* what an interval's table does with each column of the run's */
enum col_kind { COL_DROP, COL_KEY, COL_TOTAL, COL_MAX };

static enum col_kind col_kind(const struct ls_interval_table *it, const char *key)
{
	return !key ? COL_DROP : ls_list_has(it->keys, key) ? COL_KEY :
	    ls_list_has(it->totals, key) ? COL_TOTAL : ls_list_has(it->maxima, key) ? COL_MAX : COL_DROP;
}

/* a row's name: its key cells as text, for sorting and finding rows by it */
struct row_name {
	char	*name;
	int	 row;
};

static char *row_name(const struct ls_table *t, int r, const struct ls_interval_table *it)
{
	char *buf = NULL, cell[512];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		ls_oom();
	for (int c = 0; c < t->ncols; c++) {
		const struct ls_value *v = &t->cells[(size_t)r * t->ncols + c];

		if (col_kind(it, t->cols[c].key) != COL_KEY)
			continue;
		ls_value_text(v, true, cell, sizeof(cell));
		fprintf(f, "%s=%d:%s\x1f", t->cols[c].key, (int)v->type, cell);
	}
	fclose(f);
	return buf;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct row_name *)a)->name, ((const struct row_name *)b)->name);
}

/* names - the rows of t by name, sorted (n: t's rows) */
static struct row_name *names(const struct ls_table *t, const struct ls_interval_table *it)
{
	struct row_name *n = ls_xcalloc(t && t->nrows ? t->nrows : 1, sizeof(*n));

	for (int r = 0; t && r < t->nrows; r++) {
		n[r].name = row_name(t, r, it);
		n[r].row = r;
	}
	if (t)
		qsort(n, t->nrows, sizeof(*n), by_name);
	return n;
}

static void names_free(struct row_name *n, int count)
{
	for (int i = 0; i < count; i++)
		free(n[i].name);
	free(n);
}

/* row - one row of the interval's table; false: none of its totals moved */
static bool row(struct ls_value *out, const struct ls_table *now, int r, const struct ls_table *before,
    int br, const enum col_kind *kind, const int *col, int ncol)
{
	static const struct ls_value none = { .type = LS_V_NULL };
	bool moved = false;

	for (int k = 0; k < ncol; k++) {
		const struct ls_value *v = &now->cells[(size_t)r * now->ncols + col[k]];
		const struct ls_value *b = br >= 0 ? ls_table_cell(before, br, now->cols[col[k]].key) : &none;

		if (kind[k] == COL_TOTAL) {
			out[k] = minus(v, b);
			moved |= !zero(&out[k]);
		} else if (kind[k] == COL_MAX) {	/* the interval's only if it raised it */
			out[k] = v->type == LS_V_UINT && (b->type != LS_V_UINT || v->u > b->u) ?
			    copy(v) : ls_v_null();
		} else {
			out[k] = copy(v);
		}
	}
	return moved;
}

/*
 * table - the interval's rows of a table: each row of now matched with
 * before's by its key cells (sorted names, so a table of thousands of
 * threads costs n log n), kept when one of its totals moved
 */
static void table(struct ls_section *d, const struct ls_table *now, const struct ls_table *before,
    const struct ls_interval_table *it)
{
	struct ls_column cols[64] = { { 0 } };
	enum col_kind kind[64];
	int col[64], n = 0, nb = before ? before->nrows : 0;
	struct row_name *bn = names(before, it), key;
	struct ls_value *cells;
	struct ls_table *t;

	for (int c = 0; c < now->ncols && n < 64; c++) {
		if ((kind[n] = col_kind(it, now->cols[c].key)) == COL_DROP)
			continue;
		cols[n] = now->cols[c];
		col[n++] = c;
	}
	t = ls_section_table(d, now->key, now->title, n, cols);
	t->max_text_rows = now->max_text_rows;
	cells = ls_xcalloc(n ? n : 1, sizeof(*cells));
	for (int r = 0; r < now->nrows; r++) {
		const struct row_name *hit;

		key.name = row_name(now, r, it);
		hit = nb ? bsearch(&key, bn, nb, sizeof(*bn), by_name) : NULL;
		free(key.name);
		if (row(cells, now, r, before, hit ? hit->row : -1, kind, col, n)) {
			memcpy(ls_table_row(t), cells, n * sizeof(*cells));
			continue;
		}
		for (int k = 0; k < n; k++)
			if (cells[k].type == LS_V_STR || cells[k].type == LS_V_JSON)
				free(cells[k].s);
	}
	free(cells);
	names_free(bn, nb);
}

static const struct ls_table *find_table(const struct ls_section *s, const char *key)
{
	return s ? ls_section_find_table(s, key) : NULL;
}

/* copy_table - a table as collected */
static void copy_table(struct ls_section *d, const struct ls_table *w)
{
	struct ls_table *t = ls_section_table(d, w->key, w->title, w->ncols, w->cols);

	t->max_text_rows = w->max_text_rows;
	for (int r = 0; r < w->nrows; r++) {
		struct ls_value *row = ls_table_row(t);

		for (int c = 0; c < w->ncols; c++)
			row[c] = copy(&w->cells[(size_t)r * w->ncols + c]);
	}
}

static void tables(struct ls_section *d, const struct ls_section *now, const struct ls_section *before,
    const struct ls_interval_spec *sp)
{
	const struct ls_table *w = find_table(now, "worst");

	for (const struct ls_interval_table *it = sp->tables; it && it->table; it++) {
		const struct ls_table *t = find_table(now, it->table);

		if (t && !it->keys)	/* settings rather than counts */
			copy_table(d, t);
		else if (t)
			table(d, t, find_table(before, it->table), it);
	}
	if (w)	/* ranked per interval by the engine: as collected */
		copy_table(d, w);
}

/* copy_section - a section no module collects (the audit: settings) as it is */
static void copy_section(struct ls_section *d, const struct ls_section *s)
{
	for (int i = 0; i < s->nmetrics; i++)
		ls_section_metric(d, s->metrics[i].key, s->metrics[i].label, copy(&s->metrics[i].v));
	for (int i = 0; i < s->nhistos; i++)
		ls_section_histo(d, s->histos[i].key, s->histos[i].label, &s->histos[i].s,
		    s->histos[i].dist);
	for (int i = 0; i < s->ntables; i++)
		copy_table(d, s->tables[i]);
	for (int i = 0; i < s->nfindings; i++)
		ls_section_finding(d, s->findings[i].level, s->findings[i].recommendation, "%s",
		    s->findings[i].message);
	for (int i = 0; i < s->nnotes; i++)
		ls_section_note(d, "%s", s->notes[i]);
	d->verdict = s->verdict;
}

/* section - one module's section for the interval, judged on the interval's figures */
static void section(struct ls_report *iv, const struct ls_section *now, const struct ls_section *before,
    const struct ls_run *r)
{
	const struct ls_module_ops *m = ls_module_find(now->name);
	struct ls_section *d = ls_report_add_section(iv, now->name, now->title);

	if (!m) {
		copy_section(d, now);
		return;
	}
	if (now->verdict == LS_NOT_MEASURED || !m->interval) {
		d->verdict = LS_NOT_MEASURED;
		for (int i = 0; i < now->nnotes; i++)
			ls_section_note(d, "%s", now->notes[i]);
		return;
	}
	metrics(d, now, before, m->interval);
	histos(d, now, before, r);
	tables(d, now, before, m->interval);
	if (m->judge)
		m->judge(d, r);
	ls_section_set_verdict(d);
}

/*
 * ls_report_interval - iv: the interval from before (NULL: the start) to
 * now, two reports of the run so far; its header is now's, its duration
 * the interval's
 */
void ls_report_interval(struct ls_report *iv, const struct ls_report *now,
    const struct ls_report *before, const struct ls_run *r)
{
	iv->tool_version = now->tool_version;
	iv->kernel = ls_xstrdup(now->kernel);
	iv->hostname = ls_xstrdup(now->hostname);
	iv->boot_id = ls_xstrdup(now->boot_id);
	iv->cmdline = now->cmdline ? ls_xstrdup(now->cmdline) : NULL;
	iv->nr_cpus = now->nr_cpus;
	iv->isolated_cpus = ls_xstrdup(now->isolated_cpus);
	iv->nohz_full_cpus = ls_xstrdup(now->nohz_full_cpus);
	iv->started_at = ls_xstrdup(now->started_at);
	iv->duration_s = now->duration_s - (before ? before->duration_s : 0);
	iv->ended_by = ls_xstrdup(now->ended_by);
	iv->cpus = ls_xstrdup(now->cpus);
	iv->cpus_isolated = now->cpus_isolated;
	iv->npids = now->npids;
	iv->pids = ls_xcalloc(now->npids ? now->npids : 1, sizeof(int));
	memcpy(iv->pids, now->pids, now->npids * sizeof(int));
	iv->targets = now->targets;
	iv->overhead = now->overhead;
	iv->overhead.why_not = now->overhead.why_not ? ls_xstrdup(now->overhead.why_not) : NULL;
	iv->lost_events = now->lost_events - (before ? before->lost_events : 0);
	iv->interval = now->interval;
	iv->interval.start = ls_xstrdup(now->interval.start);
	iv->interval.end = ls_xstrdup(now->interval.end);
	for (int i = 0; i < now->nsections; i++)
		section(iv, &now->sections[i], find_section(before, now->sections[i].name), r);
	ls_report_summarize(iv);
}

static const char *verdict_word(enum ls_level l)
{
	return l == LS_FAIL ? "FAIL" : l == LS_WARN ? "WARN" : l == LS_PASS ? "PASS" : "N/A";
}

/* compact_table - the spec's first table: its label columns, ten rows at most */
static void compact_table(FILE *f, const struct ls_table *t, bool ascii)
{
	char buf[64];
	int shown = 0;

	fputs("   ", f);
	for (int c = 0; c < t->ncols; c++)
		if (t->cols[c].label)
			fprintf(f, " %*s", t->cols[c].width, t->cols[c].label);
	fputc('\n', f);
	for (int r = 0; r < t->nrows && shown < t->max_text_rows; r++, shown++) {
		fputs("   ", f);
		for (int c = 0; c < t->ncols; c++) {
			if (!t->cols[c].label)
				continue;
			ls_value_text(&t->cells[(size_t)r * t->ncols + c], ascii, buf, sizeof(buf));
			fprintf(f, " %*.*s", t->cols[c].width, t->cols[c].width > 0 ?
			    t->cols[c].width : 1, buf);
		}
		fputc('\n', f);
	}
	if (t->nrows > shown)
		fprintf(f, "    ... %d more rows in --json\n", t->nrows - shown);
}

/* compact_section - one line per module, its distributions, its table, its findings */
static void compact_section(FILE *f, const struct ls_section *s, bool ascii)
{
	const struct ls_module_ops *m = ls_module_find(s->name);
	const struct ls_table *t = m && m->interval && m->interval->tables ?
	    ls_section_find_table(s, m->interval->tables->table) : NULL;

	if (!m)	/* the audit: settings, in the whole run's report */
		return;
	fprintf(f, "  %-10s %-4s", s->name, verdict_word(s->verdict));
	for (int i = 0; i < s->nhistos; i++) {
		const struct ls_summary *q = &s->histos[i].s;
		char p50[32] = "-", p99[32] = "-", max[32];

		if (!q->count)
			continue;
		if (q->pct_valid[0])	/* P50 and P99, when the count supports them */
			ls_fmt_ns(p50, sizeof(p50), q->pct[0], ascii);
		if (q->pct_valid[2])
			ls_fmt_ns(p99, sizeof(p99), q->pct[2], ascii);
		ls_fmt_ns(max, sizeof(max), (double)q->max, ascii);
		fprintf(f, "  %s: n %llu p50 %s p99 %s max %s", s->histos[i].key,
		    (unsigned long long)q->count, p50, p99, max);
	}
	fputc('\n', f);
	if (t && t->nrows)
		compact_table(f, t, ascii);
	for (int i = 0; i < s->nfindings; i++)
		if (s->findings[i].level >= LS_WARN && s->findings[i].level <= LS_FAIL)
			fprintf(f, "    %s: %s\n", verdict_word(s->findings[i].level), s->findings[i].message);
}

/*
 * ls_render_interval - text mode's report of one interval: a heading, and
 * per module its verdict, distributions and compact table (like runqlat 1)
 */
void ls_render_interval(FILE *f, const struct ls_report *iv, bool ascii)
{
	fprintf(f, "%s interval %d: %s to %s (%.2f s), exit %d\n", ascii ? "--" : "──",
	    iv->interval.index, iv->interval.start ? iv->interval.start : "?",
	    iv->interval.end ? iv->interval.end : "?", iv->duration_s, iv->exit_code);
	for (int i = 0; i < iv->nsections; i++)
		compact_section(f, &iv->sections[i], ascii);
	fflush(f);
}
