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

#endif
