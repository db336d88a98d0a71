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
typedef uint32_t ls_u32;
typedef int32_t ls_s32;
#define LS_INLINE static inline
#else
typedef u64 ls_u64;
typedef u32 ls_u32;
typedef s32 ls_s32;
#define LS_INLINE static __always_inline
#endif

struct ls_hist {
	ls_u64 count;
	ls_u64 sum;
	ls_u64 min;	/* 0 while count == 0 */
	ls_u64 max;
	ls_u64 b[LS_HIST_NBUCKETS];
};

/* ls_msb - floor(log2(v)) for v > 0, without loops (old verifiers) */
LS_INLINE ls_u32 ls_msb(ls_u64 v)
{
	ls_u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) { r += 1; }
	return r;
}

/* ls_hist_bucket - the bucket of v, the one formula both sides use */
LS_INLINE ls_u32 ls_hist_bucket(ls_u64 v)
{
	ls_u32 m;

	if (v < LS_HIST_SUB)
		return (ls_u32)v;
	m = ls_msb(v);
	if (m > LS_HIST_MAX_MSB)
		return LS_HIST_NBUCKETS - 1;
	return (m - LS_HIST_SUB_BITS + 1) * LS_HIST_SUB +
	    ((v >> (m - LS_HIST_SUB_BITS)) & (LS_HIST_SUB - 1));
}

/*
 * ls_hist_add - record v. In BPF the histogram lives in a per-CPU map slot
 * that no other CPU writes, so plain stores are safe.
 */
LS_INLINE void ls_hist_add(struct ls_hist *h, ls_u64 v)
{
	/*
	 * A 64-bit index, checked in the register that indexes: with a 32-bit
	 * one the compiler zero-extends two copies, compares one and indexes
	 * with the other, and verifiers before 6.x (5.10, 6.1) lose the bound
	 * between them ("R0 unbounded memory access").
	 */
	ls_u64 idx = ls_hist_bucket(v);

#ifdef LS_BPF
	asm volatile("" : "+r"(idx));	/* one register from here on */
#endif
	if (idx >= LS_HIST_NBUCKETS)	/* for the verifier */
		idx = LS_HIST_NBUCKETS - 1;
	h->b[idx]++;
	h->count++;
	h->sum += v;
	if (h->min == 0 || v < h->min)
		h->min = v ? v : 1;
	if (v > h->max)
		h->max = v;
}

#endif /* LS_HIST_H */
