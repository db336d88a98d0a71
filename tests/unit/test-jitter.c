// SPDX-License-Identifier: GPL-2.0-only
/*
 * test-jitter.c - the money: the alpha flame graph's cents and the jitter
 * tax L = V x F x P(J) against figures worked out by hand, and the share of
 * a histogram above a budget.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "latencyscope.h"
#include "tap.h"

static void add(struct ls_hist *h, uint64_t v, int n)
{
	while (n--)
		ls_hist_add(h, v);
}

int main(void)
{
	double p[3], pj;
	int dom;
	struct ls_hist h;
	struct ls_summary s;

	/* $1,000,000 notional, 0.5 bp per microsecond: $50 per us */
	ok(ls_money_cents(1000, 1e6, 0.5) == 5000, "1 us at 0.5 bp/us of $1M costs $50.00");
	ok(ls_money_cents(20000, 1e6, 0.5) == 100000, "20 us cost $1,000.00");
	ok(ls_money_cents(1, 1e6, 0.5) == 5, "1 ns costs 5 cents (rounded)");
	ok(ls_money_cents(0, 1e6, 0.5) == 0, "no delay, no cost");
	/* 0.2 bp/us of $250,000 = $5/us; 3.3 us = $16.50 */
	ok(ls_money_cents(3300, 250000, 0.2) == 1650, "3.3 us at 0.2 bp/us of $250k costs $16.50");

	/* V = $100M/day, F = 1 bp, two distributions late 10 % and 20 % of the time:
	 * P(J) = 1 - 0.9 x 0.8 = 0.28, L = 1e8 x 1e-4 x 0.28 = $2,800/day */
	p[0] = 0.1;
	p[1] = 0.2;
	ok(fabs(ls_jitter_tax(1e8, 1e-4, p, 2, &pj, &dom) - 2800) < 1e-6, "L = V x F x P(J): $2,800 a day");
	ok(fabs(pj - 0.28) < 1e-12, "P(J) combines the distributions as independent chances");
	ok(dom == 1, "the 20 %% distribution dominates");
	p[0] = p[1] = p[2] = 0;
	ok(ls_jitter_tax(1e8, 1e-4, p, 3, &pj, &dom) == 0 && pj == 0 && dom == -1,
	    "nothing late: no tax, nothing dominates");
	ok(ls_jitter_tax(1e8, 1e-4, p, 0, &pj, &dom) == 0, "no distribution measured: no tax");

	/* a distribution half of whose samples exceed the budget */
	memset(&h, 0, sizeof(h));
	add(&h, 10000, 100);
	add(&h, 50000, 100);
	ls_hist_summarize(&h, 20000, &s);
	ok(fabs(s.above_budget - 0.5) < 1e-9, "half the samples are above a 20 us budget (%g)", s.above_budget);
	ls_hist_summarize(&h, 100000, &s);
	ok(s.above_budget == 0, "none above 100 us");
	ls_hist_summarize(&h, 1000, &s);
	ok(s.above_budget == 1, "all above 1 us");
	ls_hist_summarize(&h, 0, &s);
	ok(s.above_budget == 0, "no budget, no share");
	return done_testing();
}
