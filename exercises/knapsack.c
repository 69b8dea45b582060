/* Exercise knapsack: the 0/1 knapsack by dynamic programming, once with the full 2-D table
 * (so the chosen items can be read back) and once with a single row.
 *
 * Task: implement knap_2d and knap_1d below. Run the tests with `tutor exercise knapsack`
 * (or `make exercise TOPIC=knapsack`); `tutor exercise knapsack --hint` gives hints.
 *
 * Contract (algorithms/knapsack.h): items are (volume[k], value[k]), k < n, each taken at
 * most once; volumes >= 0, values any int; sums are int64_t.
 *   knap_2d: f[i][j] = the best value of a subset of items 0..i-1 of total volume at most j
 *     (exact != 0: exactly j, KNAP_NONE when no subset has that volume):
 *       f[i][j] = max(f[i-1][j], f[i-1][j - v] + w)  for item i-1 = (v, w), j >= v.
 *     *best = f[n][capacity]; chosen (room for n) receives the items of one optimal subset,
 *     ascending, *nchosen of them (0 when best is KNAP_NONE). Ties leave the item out: item
 *     i-1 is taken exactly where f[i][j] != f[i-1][j] on the walk back from (n, capacity).
 *   knap_1d: the same *best from one row f[0..capacity] updated in place, j running DOWN
 *     from capacity to v (no chosen set).
 *   Both return 0; TUTOR_EINVAL for capacity < 0, a volume < 0 or n >= 2^31; TUTOR_ETOOBIG
 *   when the table (knap_2d_bytes) or row (knap_1d_bytes) would exceed KNAP_MEM_CAP, before
 *   allocating; TUTOR_ENOMEM when mem_alloc fails (nothing leaked, outputs untouched); or,
 *   when tracing, trace_status(tr). O(n C) time; O(n C) and O(C) memory.
 *   tr may be NULL. The last behaviours compare your traces with the library's (see
 *   `tutor run knapsack --capacity 5 --items "1:2 2:4 3:4 4:5" --trace`). Start with tr
 *   ignored. */
#include "algorithms/knapsack.h"
#include "trace/mem.h"
#include "trace/status.h"

int knap_2d(int64_t *best, size_t *chosen, size_t *nchosen, const int *volume, const int *value,
            size_t n, int capacity, int exact, trace *tr)
{
    /* Replace this body with yours. */
    (void)best;
    (void)chosen;
    (void)nchosen;
    (void)volume;
    (void)value;
    (void)n;
    (void)capacity;
    (void)exact;
    (void)tr;
    return TUTOR_EINVAL;
}

int knap_1d(int64_t *best, const int *volume, const int *value, size_t n, int capacity, int exact,
            trace *tr)
{
    /* Replace this body with yours. */
    (void)best;
    (void)volume;
    (void)value;
    (void)n;
    (void)capacity;
    (void)exact;
    (void)tr;
    return TUTOR_EINVAL;
}
