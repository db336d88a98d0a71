// SPDX-License-Identifier: GPL-2.0-only
/*
 * render-prometheus.c - the report in Prometheus' text exposition format
 * (-f prometheus), for node_exporter's textfile collector or a Pushgateway:
 * a fleet's Prometheus scrapes what each host's runs found, and nothing of
 * latencyscope listens on a socket.
 *
 * Counters are totals over the run (the run's window is
 * latencyscope_run_duration_seconds); latencies are histograms whose le
 * bounds fall on the log-linear buckets' edges (2^k - 1 ns), so every
 * cumulative count is exact. Every family has HELP and TYPE, label values
 * are escaped, and a family the run did not measure is left out.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "latencyscope.h"

#define PR_LE_MIN_BITS	10	/* the first bound: 2^10 - 1 ns, ~1 us */
#define PR_LE_MAX_BITS	35	/* the last finite one: 2^35 - 1 ns, ~34 s */

/* label - a label value with \, " and newlines escaped */
static void label(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const struct ls_section *section(const struct ls_report *r, const char *name)
{
	for (int i = 0; i < r->nsections; i++)
		if (!strcmp(r->sections[i].name, name))
			return &r->sections[i];
	return NULL;
}

/* cell_u - a table cell as a number (0 when null) */
static double cell_u(const struct ls_table *t, int row, const char *key)
{
	const struct ls_value *v = ls_table_cell(t, row, key);

	return v->type == LS_V_UINT ? (double)v->u : v->type == LS_V_DOUBLE ? v->d : 0;
}

/* histogram - NAME_bucket/_sum/_count in seconds from a module's distribution */
static void histogram(FILE *f, const struct ls_report *r, const char *mod, const char *key,
    const char *name, const char *help)
{
	const struct ls_section *s = section(r, mod);
	const struct ls_hist *h = s ? ls_section_find_dist(s, key) : NULL;
	uint64_t cum = 0;
	unsigned b = 0;

	if (!h)
		return;
	family(f, name, "histogram", help);
	for (int k = PR_LE_MIN_BITS; k <= PR_LE_MAX_BITS; k++) {
		uint64_t le = (1ULL << k) - 1;

		/* every bucket whose values all lie at or below le */
		for (; b < LS_HIST_NBUCKETS && ls_hist_bucket_high(b) - 1 <= le; b++)
			cum += h->b[b];
		fprintf(f, "%s_bucket{le=\"%.10g\"} %" PRIu64 "\n", name, le / 1e9, cum);
	}
	fprintf(f, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, (uint64_t)h->count);
	fprintf(f, "%s_sum %.9f\n", name, h->sum / 1e9);
	fprintf(f, "%s_count %" PRIu64 "\n", name, (uint64_t)h->count);
}

static void context_switches(FILE *f, const struct ls_report *r)
{
	static const char *const kinds[] = { "voluntary", "involuntary", "idle" };
	const struct ls_section *s = section(r, "isolation");
	const struct ls_table *t = s ? ls_section_find_table(s, "per_cpu") : NULL;

	if (!t)
		return;
	family(f, "latencyscope_context_switches_total", "counter",
	    "Context switches on each monitored CPU over the run, by kind (voluntary: the task "
	    "blocked; involuntary: it was preempted; idle: the CPU went idle).");
	for (int i = 0; i < t->nrows; i++)
		for (int k = 0; k < 3; k++)
			fprintf(f, "latencyscope_context_switches_total{cpu=\"%.0f\",kind=\"%s\"} %.0f\n",
			    cell_u(t, i, "cpu"), kinds[k], cell_u(t, i, kinds[k]));
}

/* a label and the table column its value comes from */
struct pr_label {
	const char *name, *col;
};

/* rows - a family with a sample per table row: its labels from columns, its value from col x scale */
static void rows(FILE *f, const struct ls_table *t, const char *name, const char *help,
    const struct pr_label *labels, const char *col, double scale)
{
	family(f, name, "counter", help);
	for (int i = 0; i < t->nrows; i++) {
		fprintf(f, "%s{", name);
		for (const struct pr_label *l = labels; l->name; l++) {
			const struct ls_value *v = ls_table_cell(t, i, l->col);

			fprintf(f, "%s%s=\"", l == labels ? "" : ",", l->name);
			if (v->type == LS_V_STR)
				label(f, v->s);
			else if (v->type != LS_V_NULL)	/* a null one stays empty */
				fprintf(f, "%.0f", cell_u(t, i, l->col));
			fputc('"', f);
		}
		fprintf(f, scale == 1 ? "} %.0f\n" : "} %.9f\n", cell_u(t, i, col) * scale);
	}
}

static void irqs(FILE *f, const struct ls_report *r)
{
	static const struct pr_label hard[] = { { "cpu", "cpu" }, { "irq", "irq" }, { "name", "name" },
		{ NULL, NULL } };
	static const struct pr_label soft[] = { { "cpu", "cpu" }, { "vector", "vector" }, { NULL, NULL } };
	const struct ls_section *s = section(r, "irq");
	const struct ls_table *t = s ? ls_section_find_table(s, "hardirqs") : NULL;

	if (t) {
		rows(f, t, "latencyscope_irq_seconds_total", "Time in each hardware interrupt's "
		    "handlers on each monitored CPU over the run.", hard, "time_ns", 1e-9);
		rows(f, t, "latencyscope_irqs_total", "Hardware interrupts handled on each monitored "
		    "CPU over the run.", hard, "count", 1);
	}
	if ((t = s ? ls_section_find_table(s, "softirqs") : NULL)) {
		rows(f, t, "latencyscope_softirq_seconds_total", "Time in each softirq vector on each "
		    "monitored CPU over the run.", soft, "time_ns", 1e-9);
		rows(f, t, "latencyscope_softirqs_total", "Softirqs run, by vector, on each monitored "
		    "CPU over the run.", soft, "count", 1);
	}
}

static void faults(FILE *f, const struct ls_report *r)
{
	const struct ls_section *s = section(r, "memory");
	const struct ls_value *mi = s ? ls_section_find_metric(s, "page_faults.minor") : NULL;
	const struct ls_value *ma = s ? ls_section_find_metric(s, "page_faults.major") : NULL;

	if (!mi || mi->type != LS_V_UINT)
		return;
	family(f, "latencyscope_page_faults_total", "counter",
	    "Page faults of the monitored tasks over the run, by kind.");
	fprintf(f, "latencyscope_page_faults_total{kind=\"minor\"} %" PRIu64 "\n", mi->u);
	if (ma && ma->type == LS_V_UINT)
		fprintf(f, "latencyscope_page_faults_total{kind=\"major\"} %" PRIu64 "\n", ma->u);
}

/* run - what ran: info, window, verdicts, losses, the probes' own time */
static void run(FILE *f, const struct ls_report *r)
{
	family(f, "latencyscope_info", "gauge", "The run: latencyscope's version and the kernel it traced.");
	fputs("latencyscope_info{version=\"", f);
	label(f, r->tool_version);
	fputs("\",kernel=\"", f);
	label(f, r->kernel);
	fputs("\"} 1\n", f);
	family(f, "latencyscope_run_duration_seconds", "gauge", "Length of the traced window.");
	fprintf(f, "latencyscope_run_duration_seconds %.6f\n", r->duration_s);
	family(f, "latencyscope_verdict", "gauge",
	    "Each module's verdict (with --interval, the last interval's): 0 pass, 1 warn, 2 fail, "
	    "3 not measured.");
	for (int i = 0; i < r->nsections; i++) {
		fputs("latencyscope_verdict{module=\"", f);
		label(f, r->sections[i].name);
		fprintf(f, "\"} %d\n", (int)r->sections[i].verdict);
	}
	family(f, "latencyscope_lost_events_total", "counter",
	    "Records the probes could not hand to user space over the run.");
	fprintf(f, "latencyscope_lost_events_total %" PRIu64 "\n", r->lost_events);
	if (r->overhead.available) {
		family(f, "latencyscope_probe_seconds_total", "counter",
		    "CPU time latencyscope's BPF programs ran over the run, all modules together "
		    "(--self-cost).");
		fprintf(f, "latencyscope_probe_seconds_total %.9f\n", r->overhead.run_time_ns / 1e9);
	}
}

/* ls_render_prometheus - the exposition; -1 when the stream failed */
int ls_render_prometheus(FILE *f, const struct ls_report *r)
{
	run(f, r);
	histogram(f, r, "isolation", "runqueue_latency_ns", "latencyscope_runqueue_latency_seconds",
	    "Runqueue latency of the monitored tasks: wakeup or preemption to running.");
	context_switches(f, r);
	irqs(f, r);
	faults(f, r);
	histogram(f, r, "syscall", "futex.wait_ns", "latencyscope_futex_wait_seconds",
	    "Futex wait time of the monitored threads (waits that were woken).");
	return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}
