/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ls_hist.h - the log-linear histogram layout both sides agree on.
 *
 * A value v < LS_HIST_SUB lands in bucket v (exact). Above that, with
 * m = floor(log2(v)), it lands in bucket
 *	(m - LS_HIST_SUB_BITS + 1) * LS_HIST_SUB + ((v >> (m - LS_HIST_SUB_BITS)) & (LS_HIST_SUB - 1))
 * so every power of two is split into LS_HIST_SUB linear sub-buckets
 * (relative error <= 1 / LS_HIST_SUB = 6.25 %). Values of 2^LS_HIST_MAX_MSB and
 * above (about 18 minutes in nanoseconds) share the last bucket; the exact
 * count, sum, min and max are kept beside the buckets.
 */
#ifndef LS_HIST_H
#define LS_HIST_H

#define LS_HIST_SUB_BITS	4
#define LS_HIST_SUB		(1 << LS_HIST_SUB_BITS)
#define LS_HIST_MAX_MSB		40
#define LS_HIST_NBUCKETS	((LS_HIST_MAX_MSB - LS_HIST_SUB_BITS + 2) * LS_HIST_SUB)

#ifndef LS_BPF
#include <stdint.h>
typedef uint64_t ls_u64;
#else
typedef u64 ls_u64;
#endif

struct ls_hist {
	ls_u64 count;
	ls_u64 sum;
	ls_u64 min;	/* 0 while count == 0 */
	ls_u64 max;
	ls_u64 b[LS_HIST_NBUCKETS];
};

#endif /* LS_HIST_H */
