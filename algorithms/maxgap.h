/* maxgap.h: the maximum gap between neighbours of a sorted list, in linear time by the
 * bucket (pigeonhole) method, plus the sort-based reference (LeetCode 164).
 *
 * The gap is the largest difference between two consecutive values once the values are
 * sorted; fewer than two values give 0. Any ints work, INT_MIN and INT_MAX together
 * included: the widest gap, INT_MAX - INT_MIN = 2^32 - 1, does not fit in an int, so gaps
 * are int64_t and every difference is taken in 64-bit arithmetic. */
#ifndef TUTOR_MAXGAP_H
#define TUTOR_MAXGAP_H

#include <stddef.h>
#include <stdint.h>

#include "../trace/trace.h"

/* The pseudo-code the trace's line numbers refer to (maxgap_listing_len lines). */
extern const char *const maxgap_listing[];
extern const size_t maxgap_listing_len;

/* The bucket method. gap: the answer; nums is (n). With lo/hi the minimum/maximum,
 * size = max(1, (hi - lo) / (n - 1)) and count = (hi - lo) / size + 1 <= 2n buckets; the
 * answer is a difference between one bucket's min and the previous non-empty bucket's max,
 * never inside a bucket, since a bucket spans less than size <= ceil((hi - lo)/(n - 1)),
 * which the largest gap is at least.
 * Returns 0 and sets *gap; TUTOR_ENOMEM (nothing leaked, *gap untouched) when the one
 * allocation of the bucket arrays fails; TUTOR_ETOOBIG when the bucket count does not fit
 * in memory's address range; or the trace's sticky error when recording failed (the answer
 * is still set). O(n) time, O(n) extra memory allocated once. tr may be NULL. */
int maxgap_buckets(int64_t *gap, const int *nums, size_t n, trace *tr);

/* The reference: sort a copy, scan neighbours. gap: the answer; nums is (n), unchanged.
 * Returns 0, or TUTOR_ENOMEM (nothing leaked, *gap untouched). O(n log n) time, O(n) extra
 * memory. */
int maxgap_sorted(int64_t *gap, const int *nums, size_t n);

/* The bucket number (hi - lo)/size + 1 the method uses for n values spanning [lo, hi], and
 * the bucket size through *size; 0 buckets when n < 2 or lo == hi. For tests and the UI. */
size_t maxgap_bucket_count(int lo, int hi, size_t n, uint64_t *size);

/* The bucket of a number, (x - lo) / size, without a division per number: a division takes
 * longer than the multiplication and shift that give the same quotient, and the bucket pass
 * computes one quotient per number. Fill it with maxgap_index_init once per (lo, size), then
 * maxgap_index_of(ix, x) for lo <= x with x - lo < 2^32 and 1 <= size < 2^32 (the sizes
 * maxgap_bucket_count gives). The quotient is exact: with magic = ceil(2^64 / size) and
 * x - lo = q size + t, (x - lo) magic / 2^64 = q + t/size + (x - lo) e / 2^64 for some
 * 0 <= e < 1, and the last term is below 1/size because (x - lo) size < 2^64, so the floor
 * is q. Needs a 128-bit product; compilers without one divide. */
typedef struct maxgap_index {
    uint32_t lo, size;
    uint64_t magic; /* ceil(2^64 / size); 0 for size 1, where the quotient is x - lo */
} maxgap_index;

/* Prepares ix for lo and size (1 <= size < 2^32; other sizes are taken modulo 2^32, which
 * the bucket pass never asks for). O(1). */
void maxgap_index_init(maxgap_index *ix, int lo, uint64_t size);

/* (x - lo) / size for the ix of maxgap_index_init, exactly. O(1). */
static inline size_t maxgap_index_of(const maxgap_index *ix, int x)
{
    uint32_t off = (uint32_t)x - ix->lo; /* x - lo, exact modulo 2^32 */
#if defined(__SIZEOF_INT128__)
    __extension__ typedef unsigned __int128 maxgap_u128;
    if (ix->magic == 0)
        return off;
    return (size_t)(((maxgap_u128)off * ix->magic) >> 64);
#else
    return off / ix->size;
#endif
}

#endif
