// SPDX-License-Identifier: GPL-2.0-only
/*
 * baseline.c - --baseline OLD.json: this run against a saved report of the
 * same modules, so a build is gated on "no worse than the last good one".
 *
 * Two runs of the same quiet workload never give the same numbers, so a
 * difference counts only when it is both large and unlikely to be chance,
 * judged from the sample counts:
 *
 * - latency distributions (every histogram of a module, with its buckets):
 *   at each of P50, P90, P99 and P99.9 that both runs have at least 10
 *   samples beyond, a regression is a percentile that at least tripled:
 *   this run has more than the percentile's share of samples (1 % for P99)
 *   at or above three times the baseline's value, and a one-sided two-proportion
 *   z-test on the two runs' shares there gives a p-value under 0.001
 *   divided by the number of tests. Sampling noise alone is not the bar:
 *   two quiet runs of the same workload on a VM differ by up to ~3x in
 *   their P90 and P99 (measured), which a test of chance alone flags.
 *   Nor are the samples independent: a VM's speed changes between runs
 *   and a host stall delays many wakeups in a row. Across 20 quiet runs of
 *   the gating test's sleeper, the share of samples beyond three times a
 *   percentile varied 6 to 18 times as much as independent samples would
 *   (the dispersion of a binomial count); the test takes the variance of
 *   each share as 32 times the binomial one, twice what was measured, so
 *   a tail regression needs more samples (a longer run) to be called.
 *   An improvement is the same test the other way (a percentile down to a third).
 * - counters of events that are worse when more frequent (interrupts,
 *   context switches on the monitored CPUs, faults, drops, lost events):
 *   as rates per second, by the conditional binomial test on the two counts
 *   over the two durations; a regression is a rate at least tripled, by at
 *   least 100 events a second, with a p-value under the same bound. The
 *   floor is there because these counts come in bursts (a kworker, a
 *   timer) that a Poisson test takes for signal: a quiet CI run once went
 *   from a few involuntary switches a second to three times as many.
 * - the host: kernel, command line, CPUs, isolation settings and version.
 *   A change is listed, and named as the likely cause of any regression.
 *
 * The thresholds are the man page's; tests/kernel/gating.sh measures the
 * false alarms of ten quiet runs against one baseline.
 */
#include "config.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latencyscope.h"

#define BL_ALPHA	0.001	/* family-wise false-alarm bound, split over the tests */
#define BL_MIN_TAIL	10	/* samples each run must have beyond a percentile to test it */
#define BL_RATIO	3.0	/* a percentile or a rate at least tripled (or down to a third) */
#define BL_MIN_EVENTS	20	/* events in the two runs together to compare a rate */
#define BL_MIN_RATE	100	/* a rate must change by this many events a second to count */
#define BL_DISPERSION	32	/* samples counted as one by the tail test: see the top */

static const double bl_levels[] = { 0.5, 0.9, 0.99, 0.999 };
static const char *const bl_level_keys[] = { "p50", "p90", "p99", "p99_9" };
#define BL_NLEVELS (int)(sizeof(bl_levels) / sizeof(bl_levels[0]))

/* counters compared as rates: events a latency-critical host wants fewer of */
static const char *const bl_counters[] = {
	"lost_events",
	"isolation.context_switches", "isolation.involuntary_switches", "isolation.migrations",
	"isolation.target_preemptions",
	"irq.hardirq_count", "irq.softirq_count", "irq.vector_count",
	"memory.page_faults.minor", "memory.page_faults.major", "memory.numa.migrations",
	"network.drops_total", "network.rcvqueue_full_total",
};

/* host properties whose change explains a regression */
static const char *const bl_host_keys[] = {
	"host.kernel", "host.cmdline", "host.nr_cpus", "host.isolated_cpus", "host.nohz_full_cpus",
	"run.cpus", "tool.version",
};

struct bl_ctx {
	json_t			*old, *now;
	double			 d0, d1;	/* durations, s */
	int			 ntests;	/* comparisons made: the bound is split over them */
	struct ls_section	*s;
	struct ls_table		*reg, *imp;
	char			*changed;	/* host changes, "kernel: a -> b; ..." (NULL: none) */
};

/* get - the value at a dotted path (no arrays), NULL when absent */
static json_t *get(json_t *v, const char *path)
{
	char name[256];

	while (v && *path) {
		size_t n = strcspn(path, ".");

		snprintf(name, sizeof(name), "%.*s", (int)n, path);
		v = json_object_get(v, name);
		path += n + (path[n] == '.');
	}
	return v;
}

/* ls_baseline_load - read OLD.json and check it is a report sharing a module with this run */
int ls_baseline_load(const char *path, const struct ls_opts *o, struct ls_baseline *b, char *err,
    size_t errlen)
{
	json_t *mods;
	int common = 0;

	memset(b, 0, sizeof(*b));
	if (!(b->doc = ls_json_file("--baseline", path, 0, err, errlen)))
		return -1;
	if (json_is_object(json_object_get(b->doc, "report")) && get(b->doc, "bill_of_health")) {
		json_t *rep = json_incref(json_object_get(b->doc, "report"));	/* --bill-of-health */

		json_decref(b->doc);
		b->doc = rep;
	}
	mods = get(b->doc, "run.modules");
	if (!json_is_object(b->doc) || !json_is_array(mods) ||
	    !(json_number_value(get(b->doc, "run.duration_s")) > 0)) {
		snprintf(err, errlen, "--baseline %s: not a latencyscope JSON report (no run.modules "
		    "or run.duration_s): save one with --json -o FILE", path);
		ls_baseline_free(b);
		return -1;
	}
	for (int i = 0; i < o->nmodules; i++) {
		size_t j;
		json_t *m;

		json_array_foreach(mods, j, m)
			common += json_is_string(m) && !strcmp(json_string_value(m), o->modules[i]);
	}
	if (!common) {
		snprintf(err, errlen, "--baseline %s: it has none of this run's modules: compare with "
		    "a report of the same --module list", path);
		ls_baseline_free(b);
		return -1;
	}
	b->path = ls_xstrdup(path);
	b->fail = o->fail_on_regression;
	return 0;
}

void ls_baseline_free(struct ls_baseline *b)
{
	json_decref(b->doc);
	free(b->path);
	memset(b, 0, sizeof(*b));
}

/* upper - P(Z >= z) for a standard normal Z */
static double upper(double z)
{
	return 0.5 * erfc(z / M_SQRT2);
}

/* buckets - a JSON histogram's buckets into b[], its sample count returned (0: none or bad) */
static uint64_t buckets(json_t *h, uint64_t *b)
{
	json_t *arr = json_object_get(h, "buckets"), *e;
	uint64_t n = 0;
	size_t i;

	memset(b, 0, LS_HIST_NBUCKETS * sizeof(*b));
	json_array_foreach(arr, i, e) {
		json_int_t low = json_integer_value(json_array_get(e, 0));
		json_int_t cnt = json_integer_value(json_array_get(e, 1));
		unsigned idx = ls_hist_bucket((uint64_t)low);

		if (low < 0 || cnt < 0 || idx >= LS_HIST_NBUCKETS || ls_hist_bucket_low(idx) != (uint64_t)low)
			return 0;	/* not our bucket layout: not compared */
		b[idx] += (uint64_t)cnt;
		n += (uint64_t)cnt;
	}
	return n;
}

/* quantile_bucket - the bucket holding the level-th quantile of n samples */
static unsigned quantile_bucket(const uint64_t *b, uint64_t n, double level)
{
	uint64_t want = (uint64_t)ceil(level * (double)n), seen = 0;

	for (unsigned i = 0; i < LS_HIST_NBUCKETS; i++)
		if ((seen += b[i]) >= want && want)
			return i;
	return LS_HIST_NBUCKETS - 1;
}

/* at_least - samples in buckets whose values are all v or more */
static uint64_t at_least(const uint64_t *b, double v)
{
	uint64_t k = 0;

	for (unsigned i = 0; i < LS_HIST_NBUCKETS; i++)
		if ((double)ls_hist_bucket_low(i) >= v)
			k += b[i];
	return k;
}

/* tail_p - one-sided p-value that the share k1/n1 exceeds k0/n0 by chance */
static double tail_p(uint64_t k0, uint64_t n0, uint64_t k1, uint64_t n1)
{
	double p0 = (double)k0 / n0, p1 = (double)k1 / n1, p = (double)(k0 + k1) / (n0 + n1);
	/* the variance of a share, inflated by how much more runs vary than samples */
	double se = sqrt(BL_DISPERSION * p * (1 - p) * (1.0 / n0 + 1.0 / n1));

	return se > 0 ? upper((p1 - p0) / se) : (p1 > p0 ? 0 : 1);
}

static void row(struct ls_table *t, const char *key, const char *unit, double was, double now,
    double p)
{
	struct ls_value *r = ls_table_row(t);
	bool ns = !strcmp(unit, "ns");

	char change[32];

	if (!(was > 0))
		snprintf(change, sizeof(change), "new");
	else if (now / was >= 10)
		snprintf(change, sizeof(change), "x%.0f", now / was);
	else
		snprintf(change, sizeof(change), "%+.0f %%", 100 * (now / was - 1));
	r[0] = ls_v_str(key);
	r[1] = ls_v_str(unit);
	r[2] = ls_v_double(was, ns ? LS_F_NS : LS_F_PLAIN);
	r[3] = ls_v_double(now, ns ? LS_F_NS : LS_F_PLAIN);
	r[4] = was > 0 ? ls_v_double(now / was - 1, LS_F_PERCENT) : ls_v_null();
	r[5] = ls_v_str(change);
	r[6] = ls_v_double(1 - p, LS_F_PERCENT);
}

/* pct - a report's percentile value at path.level (NaN when null) */
static double pct(json_t *doc, const char *path, const char *level)
{
	json_t *v = json_object_get(get(doc, path), level);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* compare_histo - one distribution at each level both runs have the samples for */
static void compare_histo(struct bl_ctx *c, const char *path, const uint64_t *b0, uint64_t n0,
    const uint64_t *b1, uint64_t n1)
{
	double bound = BL_ALPHA / (c->ntests ? c->ntests : 1);

	for (int l = 0; l < BL_NLEVELS; l++) {
		double tail = 1 - bl_levels[l];
		/* three times the upper end of each run's percentile bucket */
		double t0 = BL_RATIO * ls_hist_bucket_high(quantile_bucket(b0, n0, bl_levels[l]));
		double t1 = BL_RATIO * ls_hist_bucket_high(quantile_bucket(b1, n1, bl_levels[l]));
		uint64_t k0 = at_least(b0, t0), k1 = at_least(b1, t0);
		uint64_t j0 = at_least(b0, t1), j1 = at_least(b1, t1);
		char key[320];

		if (tail * n0 < BL_MIN_TAIL || tail * n1 < BL_MIN_TAIL)
			continue;
		snprintf(key, sizeof(key), "%s.%s", path, bl_level_keys[l]);
		if ((double)k1 / n1 > tail && tail_p(k0, n0, k1, n1) < bound)
			row(c->reg, key, "ns", pct(c->old, path, bl_level_keys[l]),
			    pct(c->now, path, bl_level_keys[l]), tail_p(k0, n0, k1, n1));
		else if ((double)j0 / n0 > tail && tail_p(j1, n1, j0, n0) < bound)
			row(c->imp, key, "ns", pct(c->old, path, bl_level_keys[l]),
			    pct(c->now, path, bl_level_keys[l]), tail_p(j1, n1, j0, n0));
	}
}

/* compare_rate - a counter as events per second, by the binomial test on the two counts */
static void compare_rate(struct bl_ctx *c, const char *path, double k0, double k1)
{
	double n = k0 + k1, pi = c->d1 / (c->d0 + c->d1), sd = sqrt(n * pi * (1 - pi));
	double r0 = k0 / c->d0, r1 = k1 / c->d1, bound = BL_ALPHA / (c->ntests ? c->ntests : 1);

	if (n < BL_MIN_EVENTS || sd <= 0)
		return;
	if (r1 >= BL_RATIO * r0 && r1 - r0 >= BL_MIN_RATE && upper((k1 - n * pi) / sd) < bound)
		row(c->reg, path, "per s", r0, r1, upper((k1 - n * pi) / sd));
	else if (r0 >= BL_RATIO * r1 && r0 - r1 >= BL_MIN_RATE && upper((n * pi - k1) / sd) < bound)
		row(c->imp, path, "per s", r0, r1, upper((n * pi - k1) / sd));
}

/* each_histo - calls fn (or counts the tests) for every histogram both reports have */
static void each_histo(struct bl_ctx *c, const struct ls_report *rep, bool run)
{
	uint64_t *b0 = ls_xcalloc(LS_HIST_NBUCKETS, sizeof(*b0));
	uint64_t *b1 = ls_xcalloc(LS_HIST_NBUCKETS, sizeof(*b1));

	for (int i = 0; i < rep->nsections; i++)
		for (int h = 0; h < rep->sections[i].nhistos; h++) {
			char path[256];
			uint64_t n0, n1;

			snprintf(path, sizeof(path), "%s.%s", rep->sections[i].name,
			    rep->sections[i].histos[h].key);
			n0 = buckets(get(c->old, path), b0);
			n1 = buckets(get(c->now, path), b1);
			if (!n0 || !n1)
				continue;
			if (!run) {
				for (int l = 0; l < BL_NLEVELS; l++)
					c->ntests += (1 - bl_levels[l]) * n0 >= BL_MIN_TAIL &&
					    (1 - bl_levels[l]) * n1 >= BL_MIN_TAIL;
			} else {
				compare_histo(c, path, b0, n0, b1, n1);
			}
		}
	free(b0);
	free(b1);
}

static void each_counter(struct bl_ctx *c, bool run)
{
	for (size_t i = 0; i < sizeof(bl_counters) / sizeof(bl_counters[0]); i++) {
		json_t *a = get(c->old, bl_counters[i]), *b = get(c->now, bl_counters[i]);

		if (!json_is_number(a) || !json_is_number(b))
			continue;
		if (!run)
			c->ntests++;
		else
			compare_rate(c, bl_counters[i], json_number_value(a), json_number_value(b));
	}
}

/* host_changes - the host table, and "key: was -> now; ..." for the findings */
static void host_changes(struct bl_ctx *c)
{
	static const struct ls_column cols[] = {
		{ "key", "CHANGED", 20 }, { "baseline", "BASELINE", 28 }, { "now", "NOW", 28 },
	};
	struct ls_table *t = NULL;

	for (size_t i = 0; i < sizeof(bl_host_keys) / sizeof(bl_host_keys[0]); i++) {
		char *a = json_dumps(get(c->old, bl_host_keys[i]), JSON_ENCODE_ANY | JSON_COMPACT);
		char *b = json_dumps(get(c->now, bl_host_keys[i]), JSON_ENCODE_ANY | JSON_COMPACT);
		struct ls_value *r;
		char *was;

		if (a && b && strcmp(a, b)) {
			if (!t)
				t = ls_section_table(c->s, "host_changes", "The host since the baseline", 3,
				    cols);
			r = ls_table_row(t);
			r[0] = ls_v_str(bl_host_keys[i]);
			r[1] = ls_v_str(a);
			r[2] = ls_v_str(b);
			was = c->changed;
			c->changed = ls_strdup_printf("%s%s%s: %s -> %s", was ? was : "", was ? "; " : "",
			    strchr(bl_host_keys[i], '.') + 1, a, b);
			free(was);
		}
		free(a);
		free(b);
	}
}

/* findings - one per regression, and a note per improvement */
static void findings(struct bl_ctx *c, const struct ls_baseline *b)
{
	char rec[1024];

	if (c->changed)
		snprintf(rec, sizeof(rec), "the host changed since the baseline (%s): that is the "
		    "likely cause; compare on the same configuration", c->changed);
	else
		snprintf(rec, sizeof(rec), "the modules' findings name the culprits: compare them with "
		    "the baseline's report");
	/* rates print as %.4g/s, durations in their unit */
	for (int i = 0; i < c->reg->nrows; i++) {
		const struct ls_value *r = &c->reg->cells[(size_t)i * c->reg->ncols];
		char was[32], now[32];

		if (!strcmp(r[1].s, "ns")) {
			ls_fmt_ns(was, sizeof(was), r[2].d, true);
			ls_fmt_ns(now, sizeof(now), r[3].d, true);
		} else {
			snprintf(was, sizeof(was), "%.4g/s", r[2].d);
			snprintf(now, sizeof(now), "%.4g/s", r[3].d);
		}
		ls_section_finding(c->s, b->fail ? LS_FAIL : LS_WARN, rec, "%s regressed: %s in the "
		    "baseline, %s now (confidence %.4g %%)", r[0].s, was, now, 100 * r[6].d);
	}
	for (int i = 0; i < c->imp->nrows; i++)
		ls_section_note(c->s, "%s improved since the baseline",
		    c->imp->cells[(size_t)i * c->imp->ncols].s);
	if (!c->reg->nrows)
		ls_section_finding(c->s, LS_PASS, NULL, "no regression against %s (%d comparisons)",
		    b->path, c->ntests);
}

/* ls_baseline_section - the BASELINE box: this report against the saved one */
void ls_baseline_section(struct ls_report *rep, const struct ls_baseline *b)
{
	/* change: a number in JSON (now / baseline - 1), "+35 %" or "x566" in text */
	static const struct ls_column cols[] = {
		{ "key", "KEY", 33 }, { "unit", "UNIT", 5 }, { "baseline", "BASELINE", 9 },
		{ "now", "NOW", 9 }, { "change", NULL, 0 }, { NULL, "CHANGE", 6 },
		{ "confidence", "CONF", 6 },
	};
	struct bl_ctx c = { .old = b->doc };

	c.now = ls_report_json(rep);
	c.d0 = json_number_value(get(c.old, "run.duration_s"));
	c.d1 = rep->duration_s > 0 ? rep->duration_s : 1e-9;
	c.s = ls_report_add_section(rep, "baseline", "BASELINE");
	ls_section_metric(c.s, "file", "Baseline", ls_v_str(b->path));
	ls_section_metric(c.s, "started_at", "Its run started",
	    ls_v_str(json_string_value(get(c.old, "run.started_at")) ?
	    json_string_value(get(c.old, "run.started_at")) : "?"));
	c.reg = ls_section_table(c.s, "regressions", "Regressions", 7, cols);
	c.imp = ls_section_table(c.s, "improvements", "Improvements", 7, cols);
	each_histo(&c, rep, false);	/* count the tests first: the bound is split over them */
	each_counter(&c, false);
	each_histo(&c, rep, true);
	each_counter(&c, true);
	ls_section_metric(c.s, "comparisons", "Comparisons", ls_v_uint((uint64_t)c.ntests, LS_F_COUNT));
	host_changes(&c);
	findings(&c, b);
	ls_section_set_verdict(c.s);
	free(c.changed);
	json_decref(c.now);
}
