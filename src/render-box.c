// SPDX-License-Identifier: GPL-2.0-only
/* render-box.c - the report model as boxed terminal text */

#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "latencyscope.h"

#define BOX_WIDTH 78	/* outer width, borders included, unless the terminal or --width says */

struct box {
	FILE *f;
	const struct ls_render_opts *o;
	int width, inner;	/* outer width, and the text inside the borders */
	const char *v, *h, *tl, *tr, *bl, *br, *ml, *mr;
};

static const char *color(const struct box *b, enum ls_level l)
{
	if (!b->o->color)
		return "";
	switch (l) {
	case LS_PASS:
		return "\033[32m";
	case LS_WARN:
		return "\033[33m";
	case LS_FAIL:
		return "\033[1;31m";
	default:
		return "\033[2m";
	}
}

static const char *reset(const struct box *b)
{
	return b->o->color ? "\033[0m" : "";
}

/* display_width - terminal columns of a UTF-8 string without ANSI escapes */
static int display_width(const char *s)
{
	int w = 0;

	while (*s) {
		if (*s == '\033') {
			while (*s && *s != 'm')
				s++;
			if (*s)
				s++;
			continue;
		}
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
		s++;
	}
	return w;
}

/* append_padded - append s to buf at n, padded with spaces to width display columns */
static int append_padded(char *buf, size_t cap, int n, const char *s, int width)
{
	int w = display_width(s);

	n += snprintf(buf + n, cap - n, "%s", s);
	while (w++ < width && (size_t)n + 1 < cap)
		buf[n++] = ' ';
	buf[n] = '\0';
	return n;
}

/*
 * fit_text - cut a text cell to width display columns, its last one an
 * ellipsis ("~" with --ascii), so the columns after it stay in place
 */
static void fit_text(const struct box *b, char *s, int width)
{
	int w = 0;
	char *p = s;

	if (width < 2 || display_width(s) <= width)
		return;
	for (; *p; p++) {
		if (((unsigned char)*p & 0xc0) != 0x80 && ++w == width)
			break;	/* p starts the width-th column: the ellipsis goes here */
	}
	strcpy(p, b->o->ascii ? "~" : "\u2026");
}

static void rule(const struct box *b, const char *l, const char *r)
{
	fputs(l, b->f);
	for (int i = 0; i < b->width - 2; i++)
		fputs(b->h, b->f);
	fputs(r, b->f);
	fputc('\n', b->f);
}

/* line_raw - one boxed line; s must fit (callers wrap) */
static void line_raw(const struct box *b, const char *s)
{
	int pad = b->inner - display_width(s);

	fprintf(b->f, "%s %s%*s %s\n", b->v, s, pad > 0 ? pad : 0, "", b->v);
}

/*
 * line - a boxed line of text, word-wrapped; continuation lines are indented
 * by indent columns. ANSI escapes are only used in text that fits.
 */
__attribute__((format(printf, 3, 4)))
static void line(const struct box *b, int indent, const char *fmt, ...)
{
	char *text, *p;
	va_list ap;
	int first = 1;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		ls_oom();
	va_end(ap);
	p = text;
	do {
		int avail = b->inner - (first ? 0 : indent), cols = 0;
		char *cut = NULL, *q = p, buf[1024];

		if (display_width(p) <= avail) {
			snprintf(buf, sizeof(buf), "%*s%s", first ? 0 : indent, "", p);
			line_raw(b, buf);
			break;
		}
		while (*q && cols < avail) {
			if (*q == ' ')
				cut = q;
			if (((unsigned char)*q & 0xc0) != 0x80)
				cols++;
			q++;
		}
		while (*q && ((unsigned char)*q & 0xc0) == 0x80)
			q++;
		if (!cut || cut == p)
			cut = q;
		snprintf(buf, sizeof(buf), "%*s%.*s", first ? 0 : indent, "", (int)(cut - p), p);
		line_raw(b, buf);
		p = cut;
		while (*p == ' ')
			p++;
		first = 0;
	} while (*p);
	free(text);
}

static void render_histo(const struct box *b, const struct ls_histo *h)
{
	char mn[32], mean[32], mx[32], cnt[32], row[256];
	int n = 0;

	ls_fmt_count(cnt, sizeof(cnt), h->s.count);
	line(b, 2, "%s  (%s samples)", h->label, cnt);
	if (!h->s.count) {
		line(b, 2, "  no samples");
		return;
	}
	ls_fmt_ns(mn, sizeof(mn), (double)h->s.min, b->o->ascii);
	ls_fmt_ns(mean, sizeof(mean), h->s.mean, b->o->ascii);
	ls_fmt_ns(mx, sizeof(mx), (double)h->s.max, b->o->ascii);
	line(b, 2, "  min %s   mean %s   max %s", mn, mean, mx);
	for (int i = 0; i < LS_NPCT; i++) {
		char v[48];

		if (h->s.pct_valid[i])
			ls_fmt_ns(v, sizeof(v), h->s.pct[i], b->o->ascii);
		else
			snprintf(v, sizeof(v), "n/a (%llu samples)", (unsigned long long)h->s.count);
		n += snprintf(row + n, sizeof(row) - n, "  %-7s ", ls_pct_labels[i]);
		n = append_padded(row, sizeof(row), n, v, i % 2 ? 0 : 26);
		if (i % 2 == 1 || i == LS_NPCT - 1) {
			line_raw(b, row);
			n = 0;
		}
	}
}

/*
 * widths - the columns' widths: as the module declared them for the
 * 78-column box; a wider box gives its extra room to the widest text column
 * (names are what gets cut)
 */
static void widths(const struct box *b, const struct ls_table *t, int *w)
{
	int natural = 1, wide = -1;

	for (int c = 0; c < t->ncols && c < 64; c++) {
		w[c] = t->cols[c].width;
		if (!t->cols[c].label)
			continue;
		natural += 1 + w[c];
		if (t->nrows && t->cells[c].type == LS_V_STR && (wide < 0 || w[c] > w[wide]))
			wide = c;
	}
	if (wide >= 0 && b->inner > BOX_WIDTH - 4 && b->inner > natural)
		w[wide] += b->inner - natural;
}

static void render_table(const struct box *b, const struct ls_table *t)
{
	char row[1024], cell[256];
	int n = 0, shown = t->nrows < t->max_text_rows ? t->nrows : t->max_text_rows;
	int w[64];

	if (t->nrows > shown)
		line(b, 2, "%s (top %d of %d)", t->title, shown, t->nrows);
	else
		line(b, 2, "%s", t->title);
	if (!t->nrows) {
		line(b, 2, "  none");
		return;
	}
	n = snprintf(row, sizeof(row), " ");
	widths(b, t, w);
	for (int c = 0; c < t->ncols; c++)
		if (t->cols[c].label)
			n += snprintf(row + n, sizeof(row) - n, " %-*s", w[c], t->cols[c].label);
	while (n > 0 && display_width(row) > b->inner)
		row[--n] = '\0';
	line_raw(b, row);
	for (int r = 0; r < shown; r++) {
		n = snprintf(row, sizeof(row), " ");
		for (int c = 0; c < t->ncols; c++) {
			if (!t->cols[c].label)
				continue;
			ls_value_text(&t->cells[(size_t)r * t->ncols + c], b->o->ascii, cell, sizeof(cell));
			if (t->cells[(size_t)r * t->ncols + c].type == LS_V_STR)
				fit_text(b, cell, w[c]);
			n = append_padded(row, sizeof(row), n, " ", 1);
			n = append_padded(row, sizeof(row), n, cell, w[c]);
		}
		while (n > 0 && display_width(row) > b->inner)
			row[--n] = '\0';
		line_raw(b, row);
	}
}

static const char *mark(const struct box *b, enum ls_level l)
{
	switch (l) {
	case LS_PASS:
		return b->o->ascii ? "[ok]" : "\u2713";
	case LS_WARN:
		return b->o->ascii ? "[!]" : "!";
	case LS_FAIL:
		return b->o->ascii ? "[x]" : "\u2717";
	default:
		return "-";
	}
}

static void render_section(const struct box *b, const struct ls_section *s)
{
	char title[160], tag[64];

	snprintf(tag, sizeof(tag), "[ %s%s%s ]", color(b, s->verdict),
	    s->verdict == LS_NOT_MEASURED ? "NOT MEASURED" : s->verdict == LS_FAIL ? "FAIL" :
	    s->verdict == LS_WARN ? "WARN" : "PASS", reset(b));
	snprintf(title, sizeof(title), "%s%*s%s", s->title,
	    b->inner - display_width(s->title) - display_width(tag), "", tag);
	rule(b, b->tl, b->tr);
	line_raw(b, title);
	rule(b, b->ml, b->mr);

	for (int i = 0; i < s->nmetrics; i++) {
		char v[128];

		if (!s->metrics[i].label)
			continue;
		ls_value_text(&s->metrics[i].v, b->o->ascii, v, sizeof(v));
		line(b, 26, "%-24s  %s", s->metrics[i].label, v);
	}
	for (int i = 0; i < s->nhistos; i++) {
		line_raw(b, "");
		render_histo(b, &s->histos[i]);
	}
	for (int i = 0; i < s->ntables; i++) {
		line_raw(b, "");
		render_table(b, s->tables[i]);
	}
	if (s->nfindings)
		line_raw(b, "");
	for (int i = 0; i < s->nfindings; i++) {
		const struct ls_finding *f = &s->findings[i];

		const char *word = f->level == LS_FAIL ? "FAIL" : f->level == LS_WARN ? "WARN" : "PASS";

		/* colour only when the line does not wrap (escapes would be split) */
		if (display_width(f->message) + 12 <= b->inner)
			line(b, 10, "%s%s %s%s %s", color(b, f->level), mark(b, f->level), word,
			    reset(b), f->message);
		else
			line(b, 10, "%s %s %s", mark(b, f->level), word, f->message);
		if (f->recommendation)
			line(b, 10, "     fix: %s", f->recommendation);
	}
	if (s->nnotes)
		line_raw(b, "");
	for (int i = 0; i < s->nnotes; i++)
		line(b, 6, "note: %s", s->notes[i]);
	rule(b, b->bl, b->br);
}

/* ls_render_box - header, one box per module, overhead and summary lines */
void ls_render_box(FILE *f, const struct ls_report *r, const struct ls_render_opts *o)
{
	struct box b = { .f = f, .o = o, .width = o->width >= 60 ? o->width : BOX_WIDTH };
	char dur[32];

	b.inner = b.width - 4;
	if (o->ascii) {
		b.v = "|"; b.h = "-"; b.tl = b.tr = b.bl = b.br = b.ml = b.mr = "+";
	} else {
		b.v = "\u2551"; b.h = "\u2550"; b.tl = "\u2554"; b.tr = "\u2557";
		b.bl = "\u255a"; b.br = "\u255d"; b.ml = "\u2560"; b.mr = "\u2563";
	}
	ls_fmt_ns(dur, sizeof(dur), r->duration_s * 1e9, o->ascii);
	fprintf(f, "latencyscope %s | kernel %s | %d CPUs | isolated: %s | nohz_full: %s\n",
	    r->tool_version, r->kernel, r->nr_cpus,
	    r->isolated_cpus && *r->isolated_cpus ? r->isolated_cpus : "none",
	    r->nohz_full_cpus && *r->nohz_full_cpus ? r->nohz_full_cpus : "none");
	fprintf(f, "target: CPUs %s (%s)", r->cpus, r->cpus_isolated ? "isolated" : "not isolated");
	if (r->npids) {
		fprintf(f, ", PIDs ");
		for (int i = 0; i < r->npids; i++)
			fprintf(f, "%s%d", i ? "," : "", r->pids[i]);
	}
	fprintf(f, " | started %s | ran %s, ended by %s\n\n", r->started_at, dur, r->ended_by);

	for (int i = 0; i < r->nsections; i++) {
		render_section(&b, &r->sections[i]);
		fputc('\n', f);
	}

	if (r->overhead.available) {
		char t[32], m[32], n[32];

		ls_fmt_ns(t, sizeof(t), (double)r->overhead.run_time_ns, o->ascii);
		ls_fmt_ns(m, sizeof(m), r->overhead.mean_ns, o->ascii);
		ls_fmt_count(n, sizeof(n), r->overhead.run_cnt);
		if (r->overhead.sampled && r->overhead.fraction < 1)
			fprintf(f, "overhead: %d BPF programs, %s/event; about %s for %s events, %.4f %% of "
			    "monitored CPU time (statistics sampled on %.0f %% of the run, switched %u "
			    "times, each switch interrupting every CPU; --self-cost full counts every "
			    "event)\n", r->overhead.nprogs, m, t, n, r->overhead.share * 100,
			    r->overhead.fraction * 100, r->overhead.switches);
		else
			fprintf(f, "overhead: %d BPF programs ran %s for %s events (%s/event), %.4f %% of "
			    "monitored CPU time\n", r->overhead.nprogs, t, n, m, r->overhead.share * 100);
	} else {
		fprintf(f, "overhead: not measured (%s)\n", r->overhead.why_not ? r->overhead.why_not : "unknown");
	}
	if (r->lost_events) {
		fprintf(f, "%slost events: %llu (ring buffer full; worst-case tables may miss entries;",
		    color(&b, LS_WARN), (unsigned long long)r->lost_events);
		for (int c = 0; c < r->nlost_cpus && r->lost_per_cpu; c++)
			if (r->lost_per_cpu[c])
				fprintf(f, " cpu%d %llu", c, (unsigned long long)r->lost_per_cpu[c]);
		fprintf(f, ")%s\n", reset(&b));
	}
	if (r->timeline_overflow)
		fprintf(f, "%stimeline full: %llu events from +%.2f s on were not kept (at most %d in "
		    "memory); raise --trace-threshold or shorten --duration%s\n", color(&b, LS_WARN),
		    (unsigned long long)r->timeline_overflow, r->timeline_full_at_s, r->timeline_max,
		    reset(&b));
	fprintf(f, "%sSUMMARY: %d violations, %d warnings | Exit code: %d%s\n",
	    color(&b, r->violations ? LS_FAIL : r->warnings ? LS_WARN : LS_PASS),
	    r->violations, r->warnings, r->exit_code, reset(&b));
}
