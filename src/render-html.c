// SPDX-License-Identifier: GPL-2.0-only
/*
 * render-html.c - the report model as one self-contained HTML page: the run
 * header and the verdicts, then a section per module (findings and fixes
 * first, then its numbers, histograms drawn as SVG, tables and per-CPU
 * bars), the flame graphs of a profile or of the interference the timeline
 * recorded, and a strip of the worst interruptions.
 *
 * Nothing is fetched: the stylesheet and the script are ours (src/html/,
 * inlined at build time), the plots are inline SVG, the flame graphs' data
 * inline JSON. The page is also well-formed XML (every tag closed, style and
 * script in CDATA), so XML tools read it. Every number shown carries its
 * path in the JSON report and its exact value (data-key, data-value): the
 * tests compare the page with the JSON report of the same run.
 */

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "latencyscope.h"
#include "html-assets.h"

#define TABLE_ROWS	200	/* rows of a table the page shows; the JSON report has all */
#define WORST_EVENTS	60	/* interruptions drawn on the timeline strip */
/* the plots' coordinates (viewBox units; the SVG scales to the page) */
#define PW	640
#define PL	64	/* left: the count axis */
#define PR	16
#define PT	40	/* top: the percentile labels */
#define PB	34	/* bottom: the time axis */
#define PH	230

struct page {
	FILE			*f;
	const struct ls_report	*r;
	const struct ls_html_input *in;
	int			 nflames;
};

/* esc - text or an attribute value with the five XML specials escaped */
static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

static void ns_text(char *buf, size_t len, double ns)
{
	ls_fmt_ns(buf, len, ns, false);
}

/* lines - a generated asset (html-assets.h): an array of lines, NULL-terminated */
static void lines(FILE *f, const char *const *l)
{
	for (; *l; l++)
		fputs(*l, f);
}

/* data - data-key and data-value of a number shown: its JSON path and exact value */
static void data(FILE *f, const char *key, const struct ls_value *v)
{
	if (v->type == LS_V_UINT)
		fprintf(f, " data-key=\"%s\" data-value=\"%llu\"", key, (unsigned long long)v->u);
	else if (v->type == LS_V_DOUBLE && isfinite(v->d))
		fprintf(f, " data-key=\"%s\" data-value=\"%.*g\"", key, LS_JSON_REAL_DIGITS, v->d);
}

static bool numeric(const struct ls_value *v)
{
	return v->type == LS_V_UINT || v->type == LS_V_DOUBLE;
}

/* cell - one value in an element of class cls, with its JSON path when it has one */
static void cell(FILE *f, const char *tag, const char *key, const struct ls_value *v)
{
	char text[256];

	ls_value_text(v, false, text, sizeof(text));
	fprintf(f, "<%s%s", tag, numeric(v) ? " class=\"num\"" : "");
	if (key)
		data(f, key, v);
	fputc('>', f);
	esc(f, text);
	fprintf(f, "</%s>", tag);
}

static void badge(FILE *f, enum ls_level l)
{
	static const char *const word[] = { "PASS", "WARN", "FAIL", "NOT MEASURED" };

	fprintf(f, "<span class=\"badge %s\">%s</span>", ls_level_name(l), word[l]);
}

/* header - who ran what, where and when */
static void header(const struct page *p)
{
	const struct ls_report *r = p->r;
	FILE *f = p->f;
	char dur[32];

	ns_text(dur, sizeof(dur), r->duration_s * 1e9);
	fputs("<header id=\"run\"><h1>latencyscope report: ", f);
	esc(f, r->hostname ? r->hostname : "this host");
	fputs("</h1><dl class=\"run\">", f);
	fputs("<dt>kernel</dt><dd>", f);
	esc(f, r->kernel);
	fprintf(f, "</dd><dt>CPUs</dt><dd>%d; isolated: ", r->nr_cpus);
	esc(f, r->isolated_cpus && *r->isolated_cpus ? r->isolated_cpus : "none");
	fputs("; nohz_full: ", f);
	esc(f, r->nohz_full_cpus && *r->nohz_full_cpus ? r->nohz_full_cpus : "none");
	fputs("</dd><dt>traced</dt><dd>CPUs ", f);
	esc(f, r->cpus);
	fprintf(f, " (%s)", r->cpus_isolated ? "isolated" : "not isolated");
	for (int i = 0; i < r->npids; i++)
		fprintf(f, "%s%d", i ? "," : ", PIDs ", r->pids[i]);
	fputs("</dd><dt>started</dt><dd>", f);
	esc(f, r->started_at);
	fprintf(f, "</dd><dt>ran</dt><dd data-key=\"run.duration_s\" data-value=\"%.*g\">",
	    LS_JSON_REAL_DIGITS, r->duration_s);
	esc(f, dur);
	fputs(", ended by ", f);
	esc(f, r->ended_by);
	fputs("</dd><dt>latencyscope</dt><dd>", f);
	esc(f, r->tool_version);
	fputs("</dd></dl></header>\n", f);
}

/* summary - every section's verdict, linked, and the run's exit code */
static void summary(const struct page *p)
{
	const struct ls_report *r = p->r;
	FILE *f = p->f;

	fputs("<nav id=\"summary\" class=\"toc\" aria-label=\"Verdicts\"><table><caption>Verdicts"
	    "</caption><thead><tr><th scope=\"col\">module</th><th scope=\"col\">verdict</th>"
	    "<th scope=\"col\" class=\"num\">violations</th><th scope=\"col\" class=\"num\">warnings"
	    "</th></tr></thead><tbody>", f);
	for (int i = 0; i < r->nsections; i++) {
		const struct ls_section *s = &r->sections[i];
		int fails = 0, warns = 0;

		for (int k = 0; k < s->nfindings; k++) {
			fails += s->findings[k].level == LS_FAIL;
			warns += s->findings[k].level == LS_WARN;
		}
		fprintf(f, "<tr><td><a href=\"#%s\">", s->name);
		esc(f, s->title);
		fputs("</a></td><td>", f);
		badge(f, s->verdict);
		fprintf(f, "</td><td class=\"num\">%d</td><td class=\"num\">%d</td></tr>", fails, warns);
	}
	fprintf(f, "</tbody></table><p><strong>SUMMARY:</strong> <span data-key=\"summary.violations\" "
	    "data-value=\"%d\">%d violations</span>, <span data-key=\"summary.warnings\" "
	    "data-value=\"%d\">%d warnings</span> | exit code <span data-key=\"summary.exit_code\" "
	    "data-value=\"%d\">%d</span></p></nav>\n", r->violations, r->violations, r->warnings,
	    r->warnings, r->exit_code, r->exit_code);
}

/* findings - each with its level, and the fix to paste */
static void findings(FILE *f, const struct ls_section *s)
{
	if (!s->nfindings)
		return;
	fputs("<ul class=\"findings\">", f);
	for (int i = 0; i < s->nfindings; i++) {
		const struct ls_finding *fd = &s->findings[i];

		fprintf(f, "<li class=\"%s\">", ls_level_name(fd->level));
		badge(f, fd->level);
		fputc(' ', f);
		esc(f, fd->message);
		if (fd->recommendation) {
			fputs("<div class=\"fix\">fix: <code>", f);
			esc(f, fd->recommendation);
			fputs("</code></div>", f);
		}
		fputs("</li>", f);
	}
	fputs("</ul>\n", f);
}

static void metrics(FILE *f, const struct ls_section *s)
{
	int shown = 0;

	for (int i = 0; i < s->nmetrics; i++) {
		const struct ls_metric *m = &s->metrics[i];
		char *key;

		if (!m->label)
			continue;
		fputs(shown++ ? "" : "<dl class=\"metrics\">", f);
		fputs("<dt>", f);
		esc(f, m->label);
		fputs("</dt>", f);
		key = m->key ? ls_strdup_printf("%s.%s", s->name, m->key) : NULL;
		cell(f, "dd", key, &m->v);
		free(key);
	}
	if (shown)
		fputs("</dl>\n", f);
}

/* plot geometry of a histogram: decades lo..hi on x, log10(peak) + 1 on y */
struct axes {
	double lo, hi, ymax;
};

static double px(const struct axes *a, double v)
{
	double l = log10(v < 1 ? 1 : v);

	return PL + (l - a->lo) / (a->hi - a->lo) * (PW - PL - PR);
}

static double py(const struct axes *a, double count)
{
	return PT + (PH - PT - PB) * (1 - (log10(count) + 1) / a->ymax);
}

/* budget_of - the next --budget limit (a duration) on a statistic of this histogram */
static const struct ls_budget_check *budget_of(const struct page *p, const char *prefix, int *from)
{
	const struct ls_budget *b = p->in ? p->in->budget : NULL;

	for (; b && *from < b->n; (*from)++) {
		const struct ls_budget_check *c = &b->checks[*from];

		if (c->duration && c->has_max && c->max > 0 && !strncmp(c->key, prefix, strlen(prefix))) {
			(*from)++;
			return c;
		}
	}
	return NULL;
}

static void plot_axes(FILE *f, const struct axes *a, uint64_t peak)
{
	char t[32];

	for (int e = (int)a->lo; e <= (int)a->hi; e++) {
		double x = px(a, pow(10, e));

		ns_text(t, sizeof(t), pow(10, e));
		fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
		    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>", x, PT, x, PH - PB, x,
		    PH - PB + 16, t);
	}
	for (double c = 1; c <= (double)peak; c *= 10)
		fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>", PL - 6,
		    py(a, c) + 4, c);
	fprintf(f, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
	    "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
	    "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">latency (log scale)</text>"
	    "<text x=\"12\" y=\"%d\" transform=\"rotate(-90 12 %d)\" text-anchor=\"middle\">"
	    "samples (log)</text>", PL, PH - PB, PW - PR, PH - PB, PL, PT, PL, PH - PB,
	    (PW + PL) / 2, PH - 4, (PH + PT - PB) / 2, (PH + PT - PB) / 2);
}

/* plot_marks - the percentiles (dashed) and the budget's limits (solid) */
static void plot_marks(const struct page *p, const struct axes *a, const struct ls_histo *h,
    const char *prefix)
{
	const struct ls_budget_check *c;
	FILE *f = p->f;
	char t[32];
	int at = 0, k = 0;

	for (int i = 0; i < LS_NPCT; i++) {
		double x;

		if (!h->s.pct_valid[i])
			continue;
		x = px(a, h->s.pct[i]);
		ns_text(t, sizeof(t), h->s.pct[i]);
		fprintf(f, "<line class=\"pct\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"><title>%s %s"
		    "</title></line><text class=\"pct\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s"
		    "</text>", x, PT - 2 - 11 * (k % 3), x, PH - PB, ls_pct_labels[i], t, x,
		    PT - 5 - 11 * (k % 3), ls_pct_labels[i]);
		k++;
	}
	while ((c = budget_of(p, prefix, &at))) {
		double x = px(a, c->max);

		fprintf(f, "<line class=\"budget\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
		    "<text class=\"budget\" x=\"%.1f\" y=\"%d\" text-anchor=\"end\">budget: ", x, PT, x,
		    PH - PB, x - 4, PT + 12);
		esc(f, c->key + strlen(prefix));
		fputc(' ', f);
		esc(f, c->limit);
		fputs("</text>", f);
	}
}

/*
 * plot_histo - the distribution as bars over its log-linear buckets, on a
 * log time axis (every power of two is 16 buckets) and a log count axis
 * (a tail of single samples stays visible beside a peak of millions)
 */
static void plot_histo(const struct page *p, const struct ls_section *s, const struct ls_histo *h)
{
	const struct ls_hist *d = h->dist;
	const struct ls_budget_check *c;
	char *prefix = ls_strdup_printf("%s.%s.", s->name, h->key), lo[32], hi[32];
	unsigned first = LS_HIST_NBUCKETS, last = 0;
	struct axes a;
	uint64_t peak = 0;
	FILE *f = p->f;
	int at = 0;

	for (unsigned i = 0; i < LS_HIST_NBUCKETS; i++) {
		if (!d->b[i])
			continue;
		first = first == LS_HIST_NBUCKETS ? i : first;
		last = i;
		peak = d->b[i] > peak ? d->b[i] : peak;
	}
	a.lo = floor(log10(ls_hist_bucket_low(first) ? (double)ls_hist_bucket_low(first) : 1));
	a.hi = ceil(log10((double)ls_hist_bucket_high(last)));
	while ((c = budget_of(p, prefix, &at))) {	/* a limit off the data still shows */
		a.lo = fmin(a.lo, floor(log10(c->max)));
		a.hi = fmax(a.hi, ceil(log10(c->max * 1.01)));
	}
	a.hi = a.hi <= a.lo ? a.lo + 1 : a.hi;
	a.ymax = log10((double)peak) + 1;
	fprintf(f, "<svg class=\"plot\" viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"%s%s-t\">"
	    "<title id=\"%s%s-t\">", PW, PH, prefix, "plot", prefix, "plot");
	esc(f, h->label);
	fprintf(f, ": %llu samples</title>", (unsigned long long)h->s.count);
	plot_axes(f, &a, peak);
	for (unsigned i = first; i <= last; i++) {
		double x1, x2;

		if (!d->b[i])
			continue;
		x1 = px(&a, (double)ls_hist_bucket_low(i));
		x2 = px(&a, (double)ls_hist_bucket_high(i));
		ns_text(lo, sizeof(lo), (double)ls_hist_bucket_low(i));
		ns_text(hi, sizeof(hi), (double)ls_hist_bucket_high(i));
		fprintf(f, "<rect class=\"bar\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\">"
		    "<title>%s to %s: %llu</title></rect>", x1, py(&a, (double)d->b[i]),
		    x2 - x1 < 1 ? 1 : x2 - x1, PH - PB - py(&a, (double)d->b[i]), lo, hi,
		    (unsigned long long)d->b[i]);
	}
	plot_marks(p, &a, h, prefix);
	fputs("</svg>", f);
	free(prefix);
}

/* histo - a distribution: the plot, then its summary with the JSON's paths */
static void histo(const struct page *p, const struct ls_section *s, const struct ls_histo *h)
{
	const char *col[] = { "count", "min", "mean", "max" };
	FILE *f = p->f;
	char key[256];

	fputs("<figure class=\"histo\"><figcaption>", f);
	esc(f, h->label);
	fputs("</figcaption>", f);
	if (h->dist && h->s.count)
		plot_histo(p, s, h);
	fputs("<div class=\"scroll\"><table><thead><tr>", f);
	for (int i = 0; i < 4; i++)
		fprintf(f, "<th scope=\"col\" class=\"num\">%s</th>", col[i]);
	for (int i = 0; i < LS_NPCT; i++)
		fprintf(f, "<th scope=\"col\" class=\"num\">%s</th>", ls_pct_labels[i]);
	fputs("</tr></thead><tbody><tr>", f);
	for (int i = 0; i < 4; i++) {
		struct ls_value v = i == 0 ? ls_v_uint(h->s.count, LS_F_PLAIN) : !h->s.count ? ls_v_null() :
		    i == 1 ? ls_v_uint(h->s.min, LS_F_NS) : i == 2 ? ls_v_double(h->s.mean, LS_F_NS) :
		    ls_v_uint(h->s.max, LS_F_NS);

		snprintf(key, sizeof(key), "%s.%s.%s", s->name, h->key, col[i]);
		cell(f, "td", key, &v);
	}
	for (int i = 0; i < LS_NPCT; i++) {
		struct ls_value v = h->s.pct_valid[i] ?
		    ls_v_uint((uint64_t)(h->s.pct[i] + 0.5), LS_F_NS) : ls_v_null();

		snprintf(key, sizeof(key), "%s.%s.%s", s->name, h->key, ls_pct_keys[i]);
		cell(f, "td", key, &v);
	}
	fputs("</tr></tbody></table></div></figure>\n", f);
}

/*
 * bar_column - a per-CPU table (a distinct "cpu" first in each row) draws
 * its first time column as bars, else its first count; -1: not one to draw
 */
static int bar_column(const struct ls_table *t)
{
	int count = -1;

	if (t->nrows < 1 || t->nrows > 64 || t->ncols < 2 || !t->cols[0].key ||
	    strcmp(t->cols[0].key, "cpu") || t->cells[0].type != LS_V_UINT)
		return -1;
	for (int r = 1; r < t->nrows; r++)
		for (int q = 0; q < r; q++)
			if (t->cells[(size_t)r * t->ncols].u == t->cells[(size_t)q * t->ncols].u)
				return -1;	/* a CPU per row only */
	for (int c = 1; c < t->ncols; c++) {
		const struct ls_value *v = &t->cells[c];

		if (!t->cols[c].label || !numeric(v))
			continue;
		if (v->fmt == LS_F_NS)
			return c;
		if (count < 0 && (v->fmt == LS_F_COUNT || v->fmt == LS_F_PLAIN))
			count = c;
	}
	return count;
}

static double num_of(const struct ls_value *v)
{
	return v->type == LS_V_UINT ? (double)v->u : v->type == LS_V_DOUBLE ? v->d : 0;
}

/* bars - a table's per-CPU column as horizontal bars */
static void bars(FILE *f, const struct ls_table *t, int c)
{
	double max = 0;
	int h = 22 * t->nrows + 8;

	for (int r = 0; r < t->nrows; r++)
		max = fmax(max, num_of(&t->cells[(size_t)r * t->ncols + c]));
	fprintf(f, "<svg class=\"plot\" viewBox=\"0 0 %d %d\" role=\"img\"><title>", PW, h);
	esc(f, t->cols[c].label);
	fputs(" per CPU</title>", f);
	for (int r = 0; r < t->nrows; r++) {
		const struct ls_value *v = &t->cells[(size_t)r * t->ncols + c];
		double w = max > 0 ? num_of(v) / max * (PW - 200) : 0;
		char text[64];

		ls_value_text(v, false, text, sizeof(text));
		fprintf(f, "<text x=\"56\" y=\"%d\" text-anchor=\"end\">CPU %llu</text><rect class=\"bar\" "
		    "x=\"64\" y=\"%d\" width=\"%.2f\" height=\"16\"><title>CPU %llu: %s</title></rect>"
		    "<text x=\"%.2f\" y=\"%d\">%s</text>", 22 * r + 20,
		    (unsigned long long)t->cells[(size_t)r * t->ncols].u, 22 * r + 8, w < 1 && num_of(v) > 0 ?
		    1 : w, (unsigned long long)t->cells[(size_t)r * t->ncols].u, text, 70 + w, 22 * r + 20,
		    text);
	}
	fputs("</svg>", f);
}

/* table - the labelled columns (the JSON-only ones stay in the JSON), at most TABLE_ROWS rows */
static void table(FILE *f, const struct ls_section *s, const struct ls_table *t)
{
	int shown = t->nrows < TABLE_ROWS ? t->nrows : TABLE_ROWS, bc = bar_column(t);
	char key[320];

	fputs("<h3>", f);
	esc(f, t->title);
	fputs("</h3>", f);
	if (!t->nrows) {
		fputs("<p>none</p>\n", f);
		return;
	}
	if (bc > 0)
		bars(f, t, bc);
	fputs("<div class=\"scroll\"><table><thead><tr>", f);
	for (int c = 0; c < t->ncols; c++) {
		if (!t->cols[c].label)
			continue;
		fprintf(f, "<th scope=\"col\"%s>", numeric(&t->cells[c]) ? " class=\"num\"" : "");
		esc(f, t->cols[c].label);
		fputs("</th>", f);
	}
	fputs("</tr></thead><tbody>", f);
	for (int r = 0; r < shown; r++) {
		fputs("<tr>", f);
		for (int c = 0; c < t->ncols; c++) {
			if (!t->cols[c].label)
				continue;
			if (t->cols[c].key)
				snprintf(key, sizeof(key), "%s.%s[%d].%s", s->name, t->key, r, t->cols[c].key);
			cell(f, "td", t->cols[c].key ? key : NULL, &t->cells[(size_t)r * t->ncols + c]);
		}
		fputs("</tr>", f);
	}
	fputs("</tbody></table></div>", f);
	if (shown < t->nrows)
		fprintf(f, "<p class=\"notes\">The first %d of %d rows; the JSON report (-f json) has "
		    "all.</p>", shown, t->nrows);
	fputc('\n', f);
}

/* the flame graph's tree: first-child, next-sibling, in one growing array */
struct fnode {
	int	 name, child, next;
	uint64_t value;
};
struct ftree {
	struct fnode	*n;
	int		 len, cap;
};

static int fnode_add(struct ftree *t, int name)
{
	if (t->len == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 256;
		t->n = ls_xrealloc(t->n, (size_t)t->cap * sizeof(*t->n));
	}
	t->n[t->len] = (struct fnode){ .name = name, .child = -1, .next = -1 };
	return t->len++;
}

/* fchild - the child of parent named name, made when new */
static int fchild(struct ftree *t, int parent, int name)
{
	int c;

	for (c = t->n[parent].child; c >= 0; c = t->n[c].next)
		if (t->n[c].name == name)
			return c;
	c = fnode_add(t, name);
	t->n[c].next = t->n[parent].child;
	t->n[parent].child = c;
	return c;
}

/* fjson - [name, value, [children]], the heaviest child first */
static json_t *fjson(const struct ftree *t, int i)
{
	json_t *a = json_pack("[i, I]", t->n[i].name, (json_int_t)t->n[i].value), *kids;
	int *order, n = 0;

	if (t->n[i].child < 0)
		return a;
	for (int c = t->n[i].child; c >= 0; c = t->n[c].next)
		n++;
	order = ls_xcalloc((size_t)n, sizeof(*order));
	n = 0;
	for (int c = t->n[i].child; c >= 0; c = t->n[c].next)
		order[n++] = c;
	for (int x = 1; x < n; x++)	/* insertion sort: a node has few children */
		for (int y = x; y > 0 && t->n[order[y]].value > t->n[order[y - 1]].value; y--) {
			int tmp = order[y];

			order[y] = order[y - 1];
			order[y - 1] = tmp;
		}
	kids = json_array();
	for (int k = 0; k < n; k++)
		json_array_append_new(kids, fjson(t, order[k]));
	json_array_append_new(a, kids);
	free(order);
	return a;
}

/* flame_data - the profile as the page's script reads it: names, unit and the tree */
static json_t *flame_data(const struct ls_profile *pf)
{
	struct ftree t = { 0 };
	json_t *names = json_array(), *o;
	int all = pf->nframes + pf->nthreads, root;

	for (int i = 0; i < pf->nframes; i++)
		json_array_append_new(names, json_string(pf->frames[i]));
	for (int i = 0; i < pf->nthreads; i++)
		json_array_append_new(names, json_sprintf("%s-%u", pf->threads[i].comm, pf->threads[i].tid));
	json_array_append_new(names, json_string("all"));
	root = fnode_add(&t, all);
	for (int i = 0; i < pf->nthreads; i++) {
		const struct ls_pthread *th = &pf->threads[i];
		int top = pf->no_thread_root ? root : fchild(&t, root, pf->nframes + i);

		for (int k = 0; k < th->nsamples; k++) {
			const struct ls_psample *s = &th->samples[k];
			int at = top;

			t.n[root].value += s->ns;
			if (at != root)
				t.n[at].value += s->ns;
			for (int j = 0; j < s->nframes; j++) {
				at = fchild(&t, at, s->frames[j]);
				t.n[at].value += s->ns;
			}
		}
	}
	o = json_pack("{s:s, s:o, s:o}", "unit", pf->unit && !strcmp(pf->unit, "none") ? "cents" : "ns",
	    "names", names, "root", fjson(&t, root));
	free(t.n);
	return o;
}

/*
 * json_out - JSON inside <script>: '<', '>' and '&' (only ever in strings)
 * as \u escapes, so neither an HTML nor an XML parser sees markup in it
 */
static void json_out(FILE *f, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);

	for (const char *c = s; c && *c; c++) {
		if (*c == '<' || *c == '>' || *c == '&')
			fprintf(f, "\\u%04x", *c);
		else
			fputc(*c, f);
	}
	free(s);
}

/* flame - an interactive flame graph of pf (the script in src/html/report.js draws it) */
static void flame(struct page *p, const char *what, const struct ls_profile *pf)
{
	json_t *j = flame_data(pf);
	int id = ++p->nflames;
	FILE *f = p->f;

	fprintf(f, "<div class=\"flame\" data-flame=\"flame-%d\" role=\"group\" aria-label=\"", id);
	esc(f, what);
	fprintf(f, "\"><div class=\"flame-tools\"><label>Search frames <input type=\"search\" "
	    "aria-controls=\"flame-%d-graph\"/></label><button type=\"button\">Reset zoom</button>"
	    "<span class=\"flame-match\" aria-live=\"polite\"></span></div><div class=\"flame-info\" aria-live=\"polite\">Click a frame (or focus it and "
	    "press Enter) to zoom; Escape resets.</div><div class=\"flame-graph\" id=\"flame-%d-graph\">"
	    "</div><noscript><p>The flame graph needs JavaScript; -f folded or -f speedscope write "
	    "the same stacks for other tools.</p></noscript><script type=\"application/json\" "
	    "id=\"flame-%d\">", id, id, id);
	json_out(f, j);
	fputs("</script></div>\n", f);
	json_decref(j);
}

static void notes(FILE *f, const struct ls_section *s)
{
	if (!s->nnotes)
		return;
	fputs("<ul class=\"notes\">", f);
	for (int i = 0; i < s->nnotes; i++) {
		fputs("<li>", f);
		esc(f, s->notes[i]);
		fputs("</li>", f);
	}
	fputs("</ul>\n", f);
}

/* section - one module: verdict, findings and fixes, numbers, plots, tables, notes */
static void section(struct page *p, const struct ls_section *s)
{
	FILE *f = p->f;

	fprintf(f, "<section class=\"module\" id=\"%s\" aria-labelledby=\"%s-h\"><header><h2 id=\"%s-h\">",
	    s->name, s->name, s->name);
	esc(f, s->title);
	fputc(' ', f);
	badge(f, s->verdict);
	fputs("</h2></header>\n", f);
	findings(f, s);
	metrics(f, s);
	for (int i = 0; i < s->nhistos; i++)
		histo(p, s, &s->histos[i]);
	for (int i = 0; i < s->ntables; i++)
		table(f, s, s->tables[i]);
	if (s->profile) {
		fputs("<h3>Where the time went: running and blocked stacks</h3>", f);
		flame(p, "wall-clock flame graph", s->profile);
	}
	notes(f, s);
	fputs("</section>\n", f);
}

static int by_dur(const void *a, const void *b)
{
	const struct ls_tevent *x = *(const struct ls_tevent *const *)a;
	const struct ls_tevent *y = *(const struct ls_tevent *const *)b;

	return x->dur < y->dur ? 1 : x->dur > y->dur ? -1 : x->start < y->start ? -1 : x->start > y->start;
}

/* worst_events - the longest interruptions of the timeline, longest first; *n of them */
static const struct ls_tevent **worst_events(const struct ls_timeline *tl, int *n)
{
	const struct ls_tevent **w = ls_xcalloc((size_t)tl->n + 1, sizeof(*w));

	*n = 0;
	for (int i = 0; i < tl->n; i++)
		if (!tl->ev[i].instant && tl->ev[i].stolen)
			w[(*n)++] = &tl->ev[i];
	qsort(w, (size_t)*n, sizeof(*w), by_dur);
	*n = *n < WORST_EVENTS ? *n : WORST_EVENTS;
	return w;
}

/* strip - the worst interruptions on the run's time axis, a lane per CPU */
static void strip(const struct page *p, const struct ls_tevent **w, int n)
{
	double span = p->r->duration_s > 0 ? p->r->duration_s * 1e9 : 1;
	int cpus[WORST_EVENTS], nc = 0, h;
	FILE *f = p->f;
	char d[32];

	for (int i = 0; i < n; i++) {
		int k = 0;

		while (k < nc && cpus[k] != (int)w[i]->cpu)
			k++;
		if (k == nc)
			cpus[nc++] = (int)w[i]->cpu;
	}
	h = 24 * nc + PB + 10;
	fprintf(f, "<svg class=\"plot\" viewBox=\"0 0 %d %d\" role=\"img\"><title>The %d longest "
	    "interruptions over the run, a lane per CPU</title>", PW, h, n);
	for (int k = 0; k <= 4; k++) {
		double x = PL + k * (PW - PL - PR) / 4.0;

		fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"4\" x2=\"%.1f\" y2=\"%d\"/><text x=\"%.1f\" "
		    "y=\"%d\" text-anchor=\"middle\">+%.3g s</text>", x, x, h - PB + 6, x, h - PB + 22,
		    span / 1e9 * k / 4);
	}
	for (int k = 0; k < nc; k++)
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">CPU %d</text>", PL - 6, 24 * k + 22,
		    cpus[k]);
	for (int i = 0; i < n; i++) {
		const struct ls_tevent *e = w[i];
		double at = e->start > p->in->mono_start_ns ? (double)(e->start - p->in->mono_start_ns) : 0;
		double x = PL + at / span * (PW - PL - PR), wd = (double)e->dur / span * (PW - PL - PR);
		int k = 0;

		while (cpus[k] != (int)e->cpu)
			k++;
		ns_text(d, sizeof(d), (double)e->dur);
		fprintf(f, "<rect class=\"ev%s\" x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"18\"><title>",
		    i < 5 ? " fail" : "", x, 24 * k + 8, wd < 2 ? 2 : wd);
		esc(f, e->kind);
		fputs(" by ", f);
		esc(f, e->culprit && *e->culprit ? e->culprit : "?");
		fprintf(f, " on CPU %u: %s at +%.6f s</title></rect>", e->cpu, d, at / 1e9);
	}
	fputs("</svg>", f);
}

/* worst_table - the same interruptions, the longest twenty, as a table */
static void worst_table(const struct page *p, const struct ls_tevent **w, int n)
{
	FILE *f = p->f;
	char d[32];

	fputs("<div class=\"scroll\"><table><thead><tr><th scope=\"col\" class=\"num\">at</th><th scope="
	    "\"col\" class=\"num\">CPU</th><th scope=\"col\" class=\"num\">took</th><th scope=\"col\">"
	    "what</th><th scope=\"col\">culprit</th><th scope=\"col\">victim</th></tr></thead><tbody>", f);
	for (int i = 0; i < n && i < 20; i++) {
		const struct ls_tevent *e = w[i];
		double at = e->start > p->in->mono_start_ns ? (e->start - p->in->mono_start_ns) / 1e9 : 0;

		ns_text(d, sizeof(d), (double)e->dur);
		fprintf(f, "<tr><td class=\"num\">+%.6f s</td><td class=\"num\">%u</td><td class=\"num\">%s"
		    "</td><td>", at, e->cpu, d);
		esc(f, e->module);
		fputs(": ", f);
		esc(f, e->kind);
		fputs("</td><td>", f);
		esc(f, e->culprit && *e->culprit ? e->culprit : "?");
		fputs("</td><td>", f);
		esc(f, e->comm ? e->comm : "");
		fprintf(f, " (%u)</td></tr>", e->tid);
	}
	fputs("</tbody></table></div>\n", f);
}

/* interference - with a timeline: the alpha flame graph and the worst interruptions */
static void interference(struct page *p)
{
	const struct ls_timeline *tl = p->in ? p->in->tl : NULL;
	const struct ls_tevent **w;
	FILE *f = p->f;
	int n;

	if (!tl || !tl->on)
		return;
	if (p->in->alpha && p->in->alpha->nthreads) {
		fputs("<section class=\"module\" id=\"alpha\" aria-labelledby=\"alpha-h\"><header><h2 "
		    "id=\"alpha-h\">INTERFERENCE FLAME GRAPH</h2></header><p>The time taken from the "
		    "traced threads, by module, kind and culprit", f);
		fprintf(f, " (every event at or above %llu ns)%s.</p>",
		    (unsigned long long)tl->threshold_ns, p->in->alpha->unit ? ", priced in US cents" : "");
		flame(p, "interference flame graph", p->in->alpha);
		fputs("</section>\n", f);
	}
	w = worst_events(tl, &n);
	fputs("<section class=\"module\" id=\"timeline\" aria-labelledby=\"timeline-h\"><header><h2 "
	    "id=\"timeline-h\">WORST INTERRUPTIONS</h2></header>", f);
	if (n) {
		strip(p, w, n);
		worst_table(p, w, n);
	} else {
		fputs("<p>No interruption at or above the trace threshold.</p>", f);
	}
	if (tl->dropped)
		fprintf(f, "<p class=\"notes\">The timeline was full: %llu later events were counted, "
		    "not kept.</p>", (unsigned long long)tl->dropped);
	fputs("</section>\n", f);
	free(w);
}

/* footer - what the tool itself cost and lost */
static void footer(const struct page *p)
{
	const struct ls_report *r = p->r;
	FILE *f = p->f;
	char t[32], m[32];

	fputs("<footer><p>", f);
	if (r->overhead.available) {
		ns_text(t, sizeof(t), (double)r->overhead.run_time_ns);
		ns_text(m, sizeof(m), r->overhead.mean_ns);
		fprintf(f, "Overhead: %d BPF programs ran %s (%s per event), %.4f %% of the monitored CPU "
		    "time.", r->overhead.nprogs, t, m, r->overhead.share * 100);
	} else {
		fputs("Overhead: not measured (", f);
		esc(f, r->overhead.why_not ? r->overhead.why_not : "unknown");
		fputs(").", f);
	}
	fprintf(f, " Lost events: <span data-key=\"lost_events\" data-value=\"%llu\">%llu</span>.",
	    (unsigned long long)r->lost_events, (unsigned long long)r->lost_events);
	fputs("</p><p>Written by latencyscope ", f);
	esc(f, r->tool_version);
	fputs("; this page is one file and fetches nothing.</p></footer>\n", f);
}

/* ls_render_html - the page: head with our style, header, verdicts, sections, script */
int ls_render_html(FILE *f, const struct ls_report *r, const struct ls_html_input *in)
{
	struct page p = { .f = f, .r = r, .in = in };

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\"/><title>latencyscope: ", f);
	esc(f, r->hostname ? r->hostname : "report");
	fputs(", ", f);
	esc(f, r->started_at);
	fputs("</title><style>/*<![CDATA[*/\n", f);
	lines(f, ls_html_css);
	fputs("/*]]>*/</style></head>\n<body><a class=\"skip\" href=\"#summary\">Skip to the "
	    "verdicts</a>\n", f);
	header(&p);
	summary(&p);
	fputs("<main>\n", f);
	for (int i = 0; i < r->nsections; i++)
		section(&p, &r->sections[i]);
	interference(&p);
	fputs("</main>\n", f);
	footer(&p);
	fputs("<script>//<![CDATA[\n", f);
	lines(f, ls_html_js);
	fputs("//]]>\n</script></body></html>\n", f);
	return ferror(f) ? -1 : 0;
}
