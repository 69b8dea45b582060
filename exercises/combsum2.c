/* Exercise combsum2: every combination of candidates summing to a target, each element used
 * at most once and no combination reported twice, by backtracking (LeetCode 40).
 *
 * Task: implement combsum2 below. Run the tests with `tutor exercise combsum2` (or
 * `make exercise TOPIC=combsum2`); `tutor exercise combsum2 --hint` gives hints one at a time.
 *
 * Contract (algorithms/combsum.h):
 *   - candidates[0..n) are > 0 and may repeat, in any order; target > 0. Every distinct
 *     non-decreasing combination of elements (each element at most once) summing to target
 *     goes into *res, in lexicographic order, once: equal values at the same depth of the
 *     search are skipped.
 *   - res's previous contents are ignored. Store combination k as values[offsets[k] ..
 *     offsets[k + 1]) (offsets has count + 1 entries), grown with mem_realloc_array, and keep
 *     values_cap / offsets_cap up to date; combsum_len, combsum_at and combsum_result_free
 *     (already written for you) read and free that layout. Set res->calls to the number of
 *     calls of the recursive search (search-tree nodes, the root included).
 *   - lim may be NULL; a 0 field means its default (COMBSUM_DEFAULT_MAX_RESULTS,
 *     COMBSUM_DEFAULT_MAX_CALLS). Finding one combination more than max_results, or making
 *     one call more than max_calls, stops the search: res->cap names the cap and the
 *     function returns TUTOR_ELIMIT with the combinations found so far.
 *   - Returns 0; TUTOR_ELIMIT (above); TUTOR_EINVAL for a candidate <= 0 or target <= 0;
 *     TUTOR_ENOMEM. On any error but TUTOR_ELIMIT res is empty.
 *   - tr may be NULL. The last behaviour compares your trace with the library's (see
 *     `tutor run combsum2 --candidates "10 1 2 7 6 1 5" --target 8 --trace`). Start with tr
 *     ignored. */
#include "algorithms/combsum.h"
#include "trace/mem.h"
#include "trace/status.h"

int combsum2(combsum_result *res, const int *candidates, size_t n, int target,
             const combsum_limits *lim, trace *tr)
{
    /* Replace this body with yours. */
    (void)candidates;
    (void)n;
    (void)target;
    (void)lim;
    (void)tr;
    *res = (combsum_result){0};
    return TUTOR_EINVAL;
}
