// SPDX-License-Identifier: GPL-2.0-only
/*
 * jitter.c - the jitter tax, measured rather than assumed, and the bill of
 * health that carries it.
 *
 *	L = V x F x P(J)
 *
 * V is the volume traded per day (--volume, USD), F the fraction of an
 * order's value lost when it is late (--slippage), and P(J) the probability
 * that an event of the monitored code is delayed beyond the latency budget
 * (--latency-budget), taken from this run's distributions: each one's share
 * of samples above the budget, combined as independent chances,
 * P(J) = 1 - prod(1 - p_i). The daily figure times --trading-days is the
 * annual one. Nothing leaves the machine: the bill of health is a file.
 */

#include "config.h"
#include <errno.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "latencyscope.h"

/* the distributions that delay the monitored code, by section and histogram key */
static const struct { const char *section, *key, *what; } delays[] = {
	{ "isolation", "runqueue_latency_ns", "waiting for a CPU (runqueue latency)" },
	{ "syscall", "futex.wait_ns", "futex waits" },
	{ "network", "delivery_ns", "packet arrival to thread" },
	{ "memory", "reclaim_ns", "reclaim stalls" },
	{ "memory", "compaction_ns", "compaction stalls" },
};

/* ls_jitter_tax - L = V x F x P(J); p[] gets each distribution's share, dominant its index */
double ls_jitter_tax(double volume, double slippage, const double *p, int n, double *pj, int *dominant)
{
	double none = 1;

	*dominant = -1;
	for (int i = 0; i < n; i++) {
		none *= 1 - p[i];
		if (p[i] > 0 && (*dominant < 0 || p[i] > p[*dominant]))
			*dominant = i;
	}
	*pj = 1 - none;
	return volume * slippage * *pj;
}

/*
 * jitter_finding - the rule the man page states: PASS when no event of the
 * monitored code was late beyond the budget (the tax is 0), WARN when some
 * were (the tax says what they cost); never a violation by itself
 */
static void jitter_finding(struct ls_section *s, const struct ls_opts *o, double pj, double daily)
{
	char budget[32], day[48], year[48];

	ls_fmt_ns(budget, sizeof(budget), (double)o->latency_budget_ns, o->ascii);
	ls_fmt_usd(day, sizeof(day), daily);
	ls_fmt_usd(year, sizeof(year), daily * o->trading_days);
	if (pj > 0)
		ls_section_finding(s, LS_WARN, "find the dominant distribution's module above and "
		    "apply its fix", "%.4f %% of events were late by more than %s: a tax of about "
		    "%s USD a day, %s USD a year", pj * 100, budget, day, year);
	else
		ls_section_finding(s, LS_PASS, NULL, "no event was late by more than %s: no tax",
		    budget);
}

/* ls_jitter_section - the JITTER TAX box, from the modules' sections already in r */
void ls_jitter_section(struct ls_report *rep, const struct ls_run *run)
{
	static const struct ls_column cols[] = {
		{ "distribution", "DISTRIBUTION", 37 }, { "module", NULL, 0 }, { "samples", "SAMPLES", 9 },
		{ "p_late", "P(LATE)", 10 },
	};
	const struct ls_opts *o = run->opts;
	double p[sizeof(delays) / sizeof(delays[0])], pj, daily;
	const struct ls_summary *sums[sizeof(delays) / sizeof(delays[0])];
	int idx[sizeof(delays) / sizeof(delays[0])], n = 0, dom;
	struct ls_section *s;
	struct ls_table *t;
	char b[32];

	for (size_t d = 0; d < sizeof(delays) / sizeof(delays[0]); d++) {
		for (int i = 0; i < rep->nsections; i++) {
			const struct ls_summary *sum;

			if (strcmp(rep->sections[i].name, delays[d].section))
				continue;
			sum = ls_section_find_histo(&rep->sections[i], delays[d].key);
			if (sum && sum->count) {
				p[n] = sum->above_budget;
				sums[n] = sum;
				idx[n++] = (int)d;
			}
		}
	}
	daily = ls_jitter_tax(o->volume, o->slippage, p, n, &pj, &dom);
	s = ls_report_add_section(rep, "jitter_tax", "JITTER TAX");
	ls_section_metric(s, "volume_usd_per_day", "Volume per day (USD)", ls_v_double(o->volume, LS_F_USD));
	ls_section_metric(s, "slippage", NULL, ls_v_double(o->slippage, LS_F_PLAIN));
	snprintf(b, sizeof(b), "%g", o->slippage);
	ls_section_metric(s, NULL, "Slippage when late", ls_v_str(b));
	ls_section_metric(s, "latency_budget_ns", "Latency budget", ls_v_uint(o->latency_budget_ns, LS_F_NS));
	ls_section_metric(s, "trading_days", "Trading days per year", ls_v_uint(o->trading_days, LS_F_PLAIN));
	ls_section_metric(s, "p_late", "P(J): an event is late", ls_v_double(pj, LS_F_PERCENT));
	ls_section_metric(s, "daily_usd", "Tax per day (USD)", ls_v_double(daily, LS_F_USD));
	ls_section_metric(s, "annual_usd", "Tax per year (USD)", ls_v_double(daily * o->trading_days,
	    LS_F_USD));
	ls_section_metric(s, "dominant", "Dominated by", dom >= 0 ? ls_v_str(delays[idx[dom]].what) :
	    ls_v_str("none: nothing was late"));
	ls_section_metric(s, "formula", NULL, ls_v_str("L = V x F x P(J), P(J) = 1 - prod(1 - p_i)"));
	t = ls_section_table(s, "distributions", "Measured distributions (share of samples above "
	    "the budget)", 4, cols);
	for (int i = 0; i < n; i++) {
		struct ls_value *row = ls_table_row(t);

		row[2] = ls_v_uint(sums[i]->count, LS_F_COUNT);
		row[0] = ls_v_str(delays[idx[i]].what);
		row[1] = ls_v_str(delays[idx[i]].section);
		row[3] = ls_v_double(p[i], LS_F_PERCENT);
	}
	if (!n)
		ls_section_note(s, "no module measured a delay distribution of the monitored code "
		    "(isolation, syscall, network or memory): P(J) is 0 for lack of data");
	jitter_finding(s, o, pj, daily);
	ls_section_set_verdict(s);
}

/* first_line - a file's first line matching prefix, after ':' ("model name : X" -> "X") */
static char *file_field(const char *path, const char *prefix)
{
	char *text = ls_read_file(path, NULL), *l, *out = NULL, *save = NULL;

	for (l = text ? strtok_r(text, "\n", &save) : NULL; l && !out; l = strtok_r(NULL, "\n", &save)) {
		if (prefix && strncmp(l, prefix, strlen(prefix)))
			continue;
		if (prefix && strchr(l, ':'))
			l = strchr(l, ':') + 1;
		while (*l == ' ' || *l == '\t')
			l++;
		out = ls_xstrdup(l);
	}
	free(text);
	return out;
}

/* host_fingerprint - what the numbers depend on: kernel, CPU, isolation, governor, THP */
static json_t *host_fingerprint(const struct ls_run *r)
{
	char *model = file_field("/proc/cpuinfo", "model name");
	char *gov = file_field("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", NULL);
	char *thp = file_field("/sys/kernel/mm/transparent_hugepage/enabled", NULL), *a, *z;
	char *iso = ls_cpulist_format(&r->host->isolated), *nohz = ls_cpulist_format(&r->host->nohz_full);
	json_t *h;

	if (thp && (a = strchr(thp, '[')) && (z = strchr(a, ']'))) {	/* "always [madvise] never" */
		*z = '\0';
		memmove(thp, a + 1, strlen(a + 1) + 1);
	}
	/* the same shape as the report's "host": CPU lists as arrays */
	h = json_pack("{s:s, s:s?, s:s, s:s?, s:i, s:o, s:o, s:s?, s:s?}", "hostname",
	    r->host->hostname, "boot_id", r->host->boot_id[0] ? r->host->boot_id : NULL,
	    "kernel", r->host->kernel, "cpu_model", model, "cpus_online", r->host->nr_online,
	    "isolated_cpus", ls_cpulist_json(iso), "nohz_full_cpus", ls_cpulist_json(nohz),
	    "cpufreq_governor", gov, "transparent_hugepage", thp);

	free(model);
	free(gov);
	free(thp);
	free(iso);
	free(nohz);
	return h;
}

/*
 * ls_bill_of_health - the run's JSON report with the host's fingerprint,
 * written to path (through a temporary file, so a reader never sees half)
 */
int ls_bill_of_health(const char *path, const struct ls_report *rep, const struct ls_run *r,
    char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len), *f;
	struct ls_output out;
	json_t *report, *root;
	int rc = -1;

	if (!m) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	ls_render_json(m, rep);
	fclose(m);
	report = json_loads(buf, 0, NULL);
	free(buf);
	if (!report) {
		snprintf(err, errlen, "the JSON report does not parse back");
		return -1;
	}
	root = json_pack("{s:s, s:o, s:o}", "bill_of_health", "latencyscope " PACKAGE_VERSION,
	    "host", host_fingerprint(r), "report", report);
	if ((f = ls_output_open(&out, path, err, errlen))) {
		if (json_dumpf(root, f, JSON_INDENT(2)) == 0 && fputc('\n', f) != EOF)
			rc = ls_output_commit(&out, err, errlen);
		else {
			snprintf(err, errlen, "writing %s failed (%s)", path, strerror(errno));
			ls_output_abort(&out);
		}
	}
	json_decref(root);
	return rc;
}
