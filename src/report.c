// SPDX-License-Identifier: GPL-2.0-only
/* report.c - the neutral report model: sections of metrics, histograms, tables, findings */

#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "latencyscope.h"

static void *xrealloc(void *p, size_t n)
{
	p = ls_xrealloc(p, n);
	return p;
}

static char *xstrdup(const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = ls_xstrdup(s);
	return d;
}

/* ls_value_text - a value as the text renderers show it ("12.4 µs", "1.2 K", "-") */
void ls_value_text(const struct ls_value *v, bool ascii, char *buf, size_t len)
{
	switch (v->type) {
	case LS_V_UINT:
		if (v->fmt == LS_F_NS)
			ls_fmt_ns(buf, len, (double)v->u, ascii);
		else if (v->fmt == LS_F_HEX)
			snprintf(buf, len, "0x%llx", (unsigned long long)v->u);
		else if (v->fmt == LS_F_COUNT)
			ls_fmt_count(buf, len, v->u);
		else
			snprintf(buf, len, "%llu", (unsigned long long)v->u);
		break;
	case LS_V_DOUBLE:
		if (v->fmt == LS_F_NS)
			ls_fmt_ns(buf, len, v->d, ascii);
		else if (v->fmt == LS_F_COUNT)
			ls_fmt_count(buf, len, (uint64_t)(v->d + 0.5));
		else if (v->fmt == LS_F_PERCENT)
			snprintf(buf, len, "%.3g %%", v->d * 100);
		else if (v->fmt == LS_F_USD)
			ls_fmt_usd(buf, len, v->d);
		else
			snprintf(buf, len, "%.3f", v->d);
		break;
	case LS_V_STR:
		snprintf(buf, len, "%s", v->s);
		break;
	case LS_V_BOOL:
		snprintf(buf, len, "%s", v->b ? "yes" : "no");
		break;
	default:
		snprintf(buf, len, "-");
	}
}

/* ls_level_name - the JSON spelling of a verdict */
const char *ls_level_name(enum ls_level l)
{
	switch (l) {
	case LS_PASS:
		return "pass";
	case LS_WARN:
		return "warn";
	case LS_FAIL:
		return "fail";
	default:
		return "not_measured";
	}
}

struct ls_value ls_v_null(void)
{
	return (struct ls_value){ .type = LS_V_NULL };
}

struct ls_value ls_v_uint(uint64_t u, enum ls_vfmt f)
{
	return (struct ls_value){ .type = LS_V_UINT, .fmt = f, .u = u };
}

struct ls_value ls_v_double(double d, enum ls_vfmt f)
{
	return (struct ls_value){ .type = LS_V_DOUBLE, .fmt = f, .d = d };
}

/* ls_v_str - a string value; the model keeps its own copy */
struct ls_value ls_v_str(const char *s)
{
	if (!s)
		return ls_v_null();
	return (struct ls_value){ .type = LS_V_STR, .fmt = LS_F_PLAIN, .s = ls_strdup_printable(s) };
}

/* ls_v_json - a JSON fragment (an array of objects, say) for a JSON-only cell */
struct ls_value ls_v_json(const char *json)
{
	return (struct ls_value){ .type = LS_V_JSON, .fmt = LS_F_PLAIN, .s = xstrdup(json) };
}

struct ls_value ls_v_bool(bool b)
{
	return (struct ls_value){ .type = LS_V_BOOL, .b = b };
}

static void value_free(struct ls_value *v)
{
	if (v->type == LS_V_STR || v->type == LS_V_JSON)
		free(v->s);
}

/* ls_report_add_section - a new, passing, empty section */
struct ls_section *ls_report_add_section(struct ls_report *r, const char *name, const char *title)
{
	struct ls_section *s;

	r->sections = xrealloc(r->sections, (r->nsections + 1) * sizeof(*r->sections));
	s = &r->sections[r->nsections++];
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	s->title = xstrdup(title);
	s->verdict = LS_PASS;
	return s;
}

/* ls_section_metric - one scalar; label NULL keeps it out of the text report */
void ls_section_metric(struct ls_section *s, const char *key, const char *label, struct ls_value v)
{
	struct ls_metric *m;

	s->metrics = xrealloc(s->metrics, (s->nmetrics + 1) * sizeof(*s->metrics));
	m = &s->metrics[s->nmetrics++];
	m->key = xstrdup(key);
	m->label = xstrdup(label);
	m->v = v;
}

/* ls_section_histo - a latency distribution: its summary and, when given, its buckets */
void ls_section_histo(struct ls_section *s, const char *key, const char *label,
    const struct ls_summary *sum, const struct ls_hist *dist)
{
	struct ls_histo *h;

	s->histos = xrealloc(s->histos, (s->nhistos + 1) * sizeof(*s->histos));
	h = &s->histos[s->nhistos++];
	h->key = xstrdup(key);
	h->label = xstrdup(label);
	h->s = *sum;
	h->dist = NULL;
	if (dist) {
		h->dist = ls_xcalloc(1, sizeof(*dist));
		*h->dist = *dist;
	}
}

/* ls_section_table - a table with fixed columns; rows are added with ls_table_row */
struct ls_table *ls_section_table(struct ls_section *s, const char *key, const char *title,
    int ncols, const struct ls_column *cols)
{
	struct ls_table *t;

	s->tables = xrealloc(s->tables, (s->ntables + 1) * sizeof(*s->tables));
	t = ls_xcalloc(1, sizeof(*t));
	s->tables[s->ntables++] = t;
	t->key = xstrdup(key);
	t->title = xstrdup(title);
	t->ncols = ncols;
	t->cols = xrealloc(NULL, ncols * sizeof(*t->cols));
	for (int i = 0; i < ncols; i++) {
		t->cols[i].key = xstrdup(cols[i].key);
		t->cols[i].label = xstrdup(cols[i].label);
		t->cols[i].width = cols[i].width;
	}
	t->max_text_rows = 10;
	return t;
}

/* ls_table_row - a new row of null cells; fill ncols values */
struct ls_value *ls_table_row(struct ls_table *t)
{
	struct ls_value *row;

	t->cells = xrealloc(t->cells, (size_t)(t->nrows + 1) * t->ncols * sizeof(*t->cells));
	row = &t->cells[(size_t)t->nrows * t->ncols];
	for (int i = 0; i < t->ncols; i++)
		row[i] = ls_v_null();
	t->nrows++;
	return row;
}

/* ls_section_finding - a judged observation and, if any, the fix */
void ls_section_finding(struct ls_section *s, enum ls_level l, const char *rec, const char *fmt, ...)
{
	struct ls_finding *f;
	va_list ap;
	char *msg;

	s->findings = xrealloc(s->findings, (s->nfindings + 1) * sizeof(*s->findings));
	f = &s->findings[s->nfindings++];
	f->level = l;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		ls_oom();
	va_end(ap);
	/* messages and fixes quote task names: no control character reaches a terminal */
	f->message = ls_strdup_printable(msg);
	f->recommendation = ls_strdup_printable(rec);
	free(msg);
}

/* ls_section_note - a caveat: what was not measured and why */
void ls_section_note(struct ls_section *s, const char *fmt, ...)
{
	va_list ap;
	char *n;

	va_start(ap, fmt);
	if (vasprintf(&n, fmt, ap) < 0)
		ls_oom();
	va_end(ap);
	s->notes = xrealloc(s->notes, (s->nnotes + 1) * sizeof(*s->notes));
	s->notes[s->nnotes++] = ls_strdup_printable(n);
	free(n);
}

/* ls_section_set_verdict - the worst finding decides; not-measured stays */
void ls_section_set_verdict(struct ls_section *s)
{
	if (s->verdict == LS_NOT_MEASURED)
		return;
	s->verdict = LS_PASS;
	for (int i = 0; i < s->nfindings; i++) {
		if (s->findings[i].level == LS_FAIL)
			s->verdict = LS_FAIL;
		else if (s->findings[i].level == LS_WARN && s->verdict == LS_PASS)
			s->verdict = LS_WARN;
	}
}

/*
 * ls_report_summarize - count violations and warnings over all findings and
 * derive the exit code. A run where no module could measure anything is a
 * runtime error.
 */
void ls_report_summarize(struct ls_report *r)
{
	int measured = 0;

	r->violations = r->warnings = 0;
	for (int i = 0; i < r->nsections; i++) {
		struct ls_section *s = &r->sections[i];

		if (s->verdict != LS_NOT_MEASURED)
			measured++;
		for (int j = 0; j < s->nfindings; j++) {
			if (s->findings[j].level == LS_FAIL)
				r->violations++;
			else if (s->findings[j].level == LS_WARN)
				r->warnings++;
		}
	}
	if (!measured)
		r->exit_code = LS_EXIT_ERROR;
	else if (r->violations)
		r->exit_code = LS_EXIT_FAIL;
	else if (r->warnings)
		r->exit_code = LS_EXIT_WARN;
	else
		r->exit_code = LS_EXIT_PASS;
}

static void section_free(struct ls_section *s)
{
	free(s->name);
	free(s->title);
	for (int i = 0; i < s->nmetrics; i++) {
		free(s->metrics[i].key);
		free(s->metrics[i].label);
		value_free(&s->metrics[i].v);
	}
	free(s->metrics);
	for (int i = 0; i < s->nhistos; i++) {
		free(s->histos[i].key);
		free(s->histos[i].label);
		free(s->histos[i].dist);
	}
	free(s->histos);
	for (int i = 0; i < s->ntables; i++) {
		struct ls_table *t = s->tables[i];

		for (int c = 0; c < t->ncols; c++) {
			free(t->cols[c].key);
			free(t->cols[c].label);
		}
		for (size_t c = 0; c < (size_t)t->nrows * t->ncols; c++)
			value_free(&t->cells[c]);
		free(t->cols);
		free(t->cells);
		free(t->key);
		free(t->title);
		free(t);
	}
	free(s->tables);
	for (int i = 0; i < s->nfindings; i++) {
		free(s->findings[i].message);
		free(s->findings[i].recommendation);
	}
	free(s->findings);
	for (int i = 0; i < s->nnotes; i++)
		free(s->notes[i]);
	free(s->notes);
	ls_profile_free(s->profile);
}

/* ls_report_free - everything the report owns */
void ls_report_free(struct ls_report *r)
{
	if (r->kept) {	/* everything it points to is in that memory */
		ls_keep_free(r->kept);
		memset(r, 0, sizeof(*r));
		return;
	}
	free(r->lost_per_cpu);
	for (int i = 0; i < r->nsections; i++)
		section_free(&r->sections[i]);
	free(r->sections);
	free(r->kernel);
	free(r->cmdline);
	free(r->hostname);
	free(r->boot_id);
	free(r->isolated_cpus);
	free(r->nohz_full_cpus);
	free(r->started_at);
	free(r->ended_by);
	free(r->cpus);
	free(r->cpu_ids);
	free(r->pids);
	free(r->overhead.why_not);
	free(r->interval.start);
	free(r->interval.end);
	memset(r, 0, sizeof(*r));
}

/* ls_section_find_table - a table of the section by key, NULL if absent */
const struct ls_table *ls_section_find_table(const struct ls_section *s, const char *key)
{
	for (int i = 0; i < s->ntables; i++)
		if (strcmp(s->tables[i]->key, key) == 0)
			return s->tables[i];
	return NULL;
}

/* ls_table_cell - row r's value in the column named key (a null value if none) */
const struct ls_value *ls_table_cell(const struct ls_table *t, int r, const char *key)
{
	static const struct ls_value null = { .type = LS_V_NULL };

	for (int c = 0; c < t->ncols; c++)
		if (t->cols[c].key && strcmp(t->cols[c].key, key) == 0)
			return &t->cells[(size_t)r * t->ncols + c];
	return &null;
}

/* ls_section_find_metric - a metric's value by key (a null value if none) */
const struct ls_value *ls_section_find_metric(const struct ls_section *s, const char *key)
{
	static const struct ls_value null = { .type = LS_V_NULL };

	for (int i = 0; i < s->nmetrics; i++)
		if (s->metrics[i].key && strcmp(s->metrics[i].key, key) == 0)
			return &s->metrics[i].v;
	return &null;
}

/* ls_section_find_histo - a histogram summary by key, NULL if absent */
const struct ls_summary *ls_section_find_histo(const struct ls_section *s, const char *key)
{
	for (int i = 0; i < s->nhistos; i++)
		if (strcmp(s->histos[i].key, key) == 0)
			return &s->histos[i].s;
	return NULL;
}

/* ls_section_find_dist - the buckets of a histogram by key, NULL when it has none */
const struct ls_hist *ls_section_find_dist(const struct ls_section *s, const char *key)
{
	for (int i = 0; i < s->nhistos; i++)
		if (strcmp(s->histos[i].key, key) == 0)
			return s->histos[i].dist;
	return NULL;
}

/* ls_summary_cells - fill LS_SUMMARY_NCOLS cells from a summary (null where unsupported) */
void ls_summary_cells(struct ls_value *cells, const struct ls_summary *s)
{
	cells[0] = ls_v_uint(s->count, LS_F_COUNT);
	cells[1] = s->count ? ls_v_uint(s->min, LS_F_NS) : ls_v_null();
	cells[2] = s->count ? ls_v_uint(s->max, LS_F_NS) : ls_v_null();
	cells[3] = s->count ? ls_v_double(s->mean, LS_F_NS) : ls_v_null();
	for (int i = 0; i < LS_NPCT; i++)
		cells[4 + i] = s->pct_valid[i] ? ls_v_uint((uint64_t)(s->pct[i] + 0.5), LS_F_NS) :
		    ls_v_null();
}
