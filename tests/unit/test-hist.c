// SPDX-License-Identifier: GPL-2.0-only
/* test-hist.c - bucket layout and percentile maths against exact values */

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "latencyscope.h"
#include "tap.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* exact_pct - the rank-based percentile of sorted values */
static uint64_t exact_pct(const uint64_t *v, size_t n, double p)
{
	size_t rank = (size_t)ceil(p * n - 1e-9);

	return v[(rank ? rank : 1) - 1];
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_buckets(void)
{
	int bad = 0, monotone = 1;
	unsigned prev = 0;

	/* every value lands in a bucket whose bounds contain it */
	for (uint64_t v = 0; v < 200000; v++) {
		unsigned b = ls_hist_bucket(v);

		if (v < ls_hist_bucket_low(b) || v >= ls_hist_bucket_high(b))
			bad++;
		if (b < prev)
			monotone = 0;
		prev = b;
	}
	for (int m = 4; m < LS_HIST_MAX_MSB; m++) {
		uint64_t v = 1ULL << m;
		unsigned b = ls_hist_bucket(v), b1 = ls_hist_bucket(v - 1);

		if (ls_hist_bucket_low(b) != v || ls_hist_bucket_high(b1) != v)
			bad++;
	}
	is_int(bad, 0, "every value lies inside its bucket's bounds");
	ok(monotone, "bucket index grows with the value");
	is_int(ls_hist_bucket(15), 15, "values below 16 are exact");
	is_int(ls_hist_bucket(16), 16, "16 starts the first log-linear group");
	is_int(ls_hist_bucket(1ULL << 50), LS_HIST_NBUCKETS - 1, "huge values share the last bucket");
	ok(ls_hist_bucket((1ULL << (LS_HIST_MAX_MSB + 1)) - 1) < LS_HIST_NBUCKETS,
	    "the largest tracked value has a bucket");
	/* relative width is at most 1/16 */
	bad = 0;
	for (unsigned b = LS_HIST_SUB; b < LS_HIST_NBUCKETS; b++) {
		double lo = ls_hist_bucket_low(b), hi = ls_hist_bucket_high(b);

		if ((hi - lo) / lo > 1.0 / LS_HIST_SUB + 1e-12)
			bad++;
	}
	is_int(bad, 0, "no bucket is wider than 6.25 %% of its lower bound");
}

static void test_min_samples(void)
{
	is_int(ls_pct_min_samples(0.5), 2, "P50 needs 2 samples");
	is_int(ls_pct_min_samples(0.99), 100, "P99 needs 100 samples");
	is_int(ls_pct_min_samples(0.9999), 10000, "P99.99 needs 10 000 samples");
	is_int(ls_pct_min_samples(0.99999), 100000, "P99.999 needs 100 000 samples");
}

static void test_support(void)
{
	struct ls_hist *h = calloc(1, sizeof(*h));
	struct ls_summary s;

	for (int i = 1; i <= 99999; i++)
		ls_hist_add(h, i);
	ls_hist_summarize(h, 0, &s);
	ok(s.pct_valid[4], "99 999 samples support P99.99");
	ok(!s.pct_valid[5], "99 999 samples do not support P99.999");
	ls_hist_add(h, 100000);
	ls_hist_summarize(h, 0, &s);
	ok(s.pct_valid[5], "100 000 samples support P99.999");
	memset(h, 0, sizeof(*h));
	ls_hist_summarize(h, 0, &s);
	ok(s.count == 0 && !s.pct_valid[0], "an empty histogram has no percentiles");
	ls_hist_add(h, 7);
	ls_hist_summarize(h, 0, &s);
	ok(!s.pct_valid[0] && s.min == 7 && s.max == 7 && s.mean == 7,
	    "one sample: exact min/max/mean, no percentile");
	free(h);
}

static void test_small_exact(void)
{
	struct ls_hist *h = calloc(1, sizeof(*h));
	struct ls_summary s;

	/* 1..10, each 100 times: below 16 every bucket is one value */
	for (int k = 0; k < 100; k++)
		for (int v = 1; v <= 10; v++)
			ls_hist_add(h, v);
	ls_hist_summarize(h, 0, &s);
	is_int(s.count, 1000, "count is exact");
	is_int((long long)s.pct[0], 5, "P50 of 1..10 is 5");
	is_int((long long)s.pct[1], 9, "P90 of 1..10 is 9");
	is_int((long long)s.pct[2], 10, "P99 of 1..10 is 10");
	ok(fabs(s.mean - 5.5) < 1e-9, "mean is exact");
	free(h);
}

static void test_distribution(const char *name, uint64_t (*gen)(void), size_t n)
{
	struct ls_hist *h = calloc(1, sizeof(*h)), *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	uint64_t *v = malloc(n * sizeof(*v)), sum = 0;
	struct ls_summary s;
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		v[i] = gen();
		sum += v[i];
		ls_hist_add(h, v[i]);
		ls_hist_add(i % 2 ? a : b, v[i]);	/* two "CPUs" */
	}
	ls_hist_merge(a, b);
	ok(memcmp(a, h, sizeof(*h)) == 0, "%s: merging per-CPU halves equals one histogram", name);
	qsort(v, n, sizeof(*v), cmp_u64);
	ls_hist_summarize(h, 0, &s);
	is_int(s.min, v[0] ? v[0] : 1, "%s: min is exact", name);
	is_int(s.max, v[n - 1], "%s: max is exact", name);
	ok(fabs(s.mean - (double)sum / n) < 1e-6 * s.mean + 1e-9, "%s: mean is exact", name);
	for (int i = 0; i < LS_NPCT; i++) {
		double want = exact_pct(v, n, ls_pct_values[i]);

		if (!s.pct_valid[i] || fabs(s.pct[i] - want) > want / LS_HIST_SUB + 1) {
			printf("#   %s %s: got %.0f want %.0f\n", name, ls_pct_labels[i], s.pct[i], want);
			bad++;
		}
	}
	is_int(bad, 0, "%s: every percentile within 6.25 %% of the exact one", name);
	free(h);
	free(a);
	free(b);
	free(v);
}

static uint64_t gen_uniform(void)
{
	return 1000 + xorshift() % 100000;
}

static uint64_t gen_tail(void)
{
	/* mostly ~2 us, a heavy tail up to ~50 ms */
	uint64_t r = xorshift();

	if (r % 1000 == 0)
		return 1000000 + r % 50000000;
	return 1500 + r % 1000;
}

int main(void)
{
	test_buckets();
	test_min_samples();
	test_support();
	test_small_exact();
	test_distribution("uniform", gen_uniform, 200000);
	test_distribution("heavy tail", gen_tail, 300000);
	return done_testing();
}
