// SPDX-License-Identifier: GPL-2.0-only
/* hist.c - log-linear histogram maths: buckets, merging, percentiles */

#include "config.h"

#include <math.h>
#include <string.h>

#include "latencyscope.h"

const double ls_pct_values[LS_NPCT] = { 0.50, 0.90, 0.99, 0.999, 0.9999, 0.99999 };
const char *const ls_pct_keys[LS_NPCT] = { "p50", "p90", "p99", "p99_9", "p99_99", "p99_999" };
const char *const ls_pct_labels[LS_NPCT] = { "P50", "P90", "P99", "P99.9", "P99.99", "P99.999" };

/* ls_hist_bucket_low - smallest value that lands in bucket idx */
uint64_t ls_hist_bucket_low(unsigned idx)
{
	unsigned g = idx / LS_HIST_SUB, s = idx % LS_HIST_SUB, m;

	if (g == 0)
		return idx;
	m = g + LS_HIST_SUB_BITS - 1;
	return (uint64_t)(LS_HIST_SUB + s) << (m - LS_HIST_SUB_BITS);
}

/* ls_hist_bucket_high - one past the largest value of bucket idx */
uint64_t ls_hist_bucket_high(unsigned idx)
{
	unsigned g = idx / LS_HIST_SUB, m;

	if (g == 0)
		return idx + 1;
	m = g + LS_HIST_SUB_BITS - 1;
	return ls_hist_bucket_low(idx) + (1ULL << (m - LS_HIST_SUB_BITS));
}

/* ls_hist_merge - add src (one CPU's slot) into dst */
void ls_hist_merge(struct ls_hist *dst, const struct ls_hist *src)
{
	if (!src->count)
		return;
	for (unsigned i = 0; i < LS_HIST_NBUCKETS; i++)
		dst->b[i] += src->b[i];
	if (dst->count == 0 || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum += src->sum;
}

/*
 * ls_pct_min_samples - samples needed before percentile p means anything:
 * at least one sample must lie beyond it (P99.999 needs 100 000).
 */
uint64_t ls_pct_min_samples(double p)
{
	return (uint64_t)llround(1.0 / (1.0 - p));
}

/*
 * ls_hist_summarize - count, min, max, mean and percentiles. A percentile is
 * found by rank (ceil(p * count)) and interpolated linearly inside its
 * bucket, then clamped to the exact min and max.
 */

/*
 * tail_share - the share of samples above b: whole buckets above it, and the
 * part of the bucket holding b above it (values spread evenly inside)
 */
static double tail_share(const struct ls_hist *h, uint64_t b)
{
	double above = 0;

	if (h->max <= b)
		return 0;
	if (h->min > b)
		return 1;
	for (unsigned i = 0; i < LS_HIST_NBUCKETS; i++) {
		double lo = ls_hist_bucket_low(i), hi = ls_hist_bucket_high(i);

		if (!h->b[i] || hi <= b)
			continue;
		above += lo > b ? h->b[i] : h->b[i] * (hi - b) / (hi - lo);
	}
	return above / h->count;
}

void ls_hist_summarize(const struct ls_hist *h, uint64_t budget_ns, struct ls_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->count = h->count;
	s->min = h->min;
	s->max = h->max;
	if (!h->count)
		return;
	s->mean = (double)h->sum / h->count;
	if (budget_ns)
		s->above_budget = tail_share(h, budget_ns);
	for (int i = 0; i < LS_NPCT; i++) {
		uint64_t rank = (uint64_t)ceil(ls_pct_values[i] * h->count - 1e-9), seen = 0;
		double v = h->max;

		if (h->count < ls_pct_min_samples(ls_pct_values[i]))
			continue;
		if (rank < 1)
			rank = 1;
		for (unsigned b = 0; b < LS_HIST_NBUCKETS; b++) {
			if (!h->b[b])
				continue;
			if (seen + h->b[b] >= rank) {
				double lo = ls_hist_bucket_low(b), hi = ls_hist_bucket_high(b);

				if (b < LS_HIST_SUB)
					v = lo;
				else
					v = lo + (hi - lo) * ((double)(rank - seen) / h->b[b]);
				break;
			}
			seen += h->b[b];
		}
		if (v < h->min)
			v = h->min;
		if (v > h->max)
			v = h->max;
		s->pct[i] = v;
		s->pct_valid[i] = true;
	}
}
