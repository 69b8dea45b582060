/* Exercise maxgap: the maximum gap between neighbours of the sorted values, in O(n) time by
 * the bucket (pigeonhole) method, without sorting (LeetCode 164).
 *
 * Task: implement maxgap_buckets below. Run the tests with `tutor exercise maxgap` (or
 * `make exercise TOPIC=maxgap`); `tutor exercise maxgap --hint` gives hints one at a time.
 *
 * Contract (algorithms/maxgap.h):
 *   - gap receives the largest difference between two consecutive values once nums[0..n) is
 *     sorted; fewer than two values, or all values equal, give 0. nums is not modified.
 *   - Any ints, INT_MIN and INT_MAX together included: the gap can be 2^32 - 1, so it is an
 *     int64_t and every difference is taken in 64 bits.
 *   - Returns 0; TUTOR_ENOMEM when an allocation (mem_alloc, trace/mem.h) fails, with
 *     nothing leaked and *gap untouched; TUTOR_ETOOBIG when the bucket arrays cannot be
 *     sized; or, when tracing, trace_status(tr) at the end.
 *   - O(n) time and O(n) extra memory: with lo, hi the min and max, size =
 *     max(1, (hi - lo) / (n - 1)) and count = (hi - lo) / size + 1 buckets, each keeping only
 *     its min and max (maxgap_bucket_count computes both for you).
 *   - tr may be NULL (no tracing). The last behaviour compares your trace with the
 *     library's: one trace_step(tr, LINE, ...) per line of maxgap_listing that runs, and the
 *     snapshots nums, lo, hi, size, count, bucket_min, bucket_max, best, prev (see
 *     `tutor run maxgap --nums "3 6 9 1" --trace`). Start with tr ignored. */
#include "algorithms/maxgap.h"
#include "trace/mem.h"
#include "trace/status.h"

int maxgap_buckets(int64_t *gap, const int *nums, size_t n, trace *tr)
{
    /* Replace this body with yours. */
    (void)gap;
    (void)nums;
    (void)n;
    (void)tr;
    return TUTOR_EINVAL;
}
