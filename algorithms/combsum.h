/* combsum.h: combination sum by backtracking over sorted candidates (LeetCode 39 and 40).
 *
 * combsum:  distinct positive candidates, each usable any number of times.
 * combsum2: positive candidates that may repeat, each used at most once, and no combination
 *           reported twice (equal values at the same depth are skipped).
 *
 * Both enumerate, in lexicographic order, every non-decreasing sequence of candidates that
 * sums to the target. The search is iterative (an explicit stack of frames), so the depth of
 * the search tree, up to target / min(candidates), never touches the C stack. The number of
 * answers can grow exponentially with the target, so four caps bound the work: the number of
 * combinations kept, the number of calls (nodes of the search tree) made, the values the
 * kept combinations hold in all (each can be as long as target / min(candidates)), which is
 * fixed at COMBSUM_MAX_VALUES, and the depth, fixed at COMBSUM_MAX_DEPTH. */
#ifndef TUTOR_COMBSUM_H
#define TUTOR_COMBSUM_H

#include <stddef.h>
#include <stdint.h>

#include "../trace/trace.h"

/* Defaults used when a limit is 0. */
#define COMBSUM_DEFAULT_MAX_RESULTS ((size_t)10000)
#define COMBSUM_DEFAULT_MAX_CALLS   ((uint64_t)1000000)

/* The values all kept combinations may hold together (64 MiB of ints); a fixed cap. */
#define COMBSUM_MAX_VALUES ((size_t)1 << 24)

/* The deepest the search goes: the longest combination it can build. The explicit stack
 * holds a frame per level (about 40 MiB at this depth), and target / min(candidates) levels
 * (up to 2^31) would otherwise be tried when --max-calls allows; a fixed cap. */
#define COMBSUM_MAX_DEPTH ((size_t)1 << 20)

/* Bounds on the work: 0 in a field means its default. */
typedef struct combsum_limits {
    size_t max_results; /* combinations kept; finding one more stops the search */
    uint64_t max_calls; /* calls of solve() (search-tree nodes), the root included */
} combsum_limits;

/* Which cap stopped the search, if any. */
typedef enum combsum_cap {
    COMBSUM_CAP_NONE = 0,
    COMBSUM_CAP_RESULTS,
    COMBSUM_CAP_CALLS,
    COMBSUM_CAP_VALUES,
    COMBSUM_CAP_DEPTH
} combsum_cap;

/* The combinations, flat: combination k is values[offsets[k] .. offsets[k + 1]), so offsets
 * has count + 1 entries (offsets is NULL when nothing was ever found). Owned by the struct:
 * free with combsum_result_free. */
typedef struct combsum_result {
    int *values;
    size_t *offsets;
    size_t count;       /* number of combinations */
    uint64_t calls;     /* calls of solve() made, the root included */
    combsum_cap cap;    /* the cap that stopped the search, or COMBSUM_CAP_NONE */
    size_t values_cap;  /* allocated entries of values (private) */
    size_t offsets_cap; /* allocated entries of offsets (private) */
} combsum_result;

/* The pseudo-code listings the traces' line numbers refer to (combsum, combsum2). */
extern const char *const combsum_listing[];
extern const size_t combsum_listing_len;
extern const char *const combsum2_listing[];
extern const size_t combsum2_listing_len;

/* Every combination of candidates[0..n) (distinct, each > 0, any order; each reusable)
 * summing to target (> 0), in lexicographic order, each non-decreasing, into *res (whose
 * previous contents are ignored: initialise or free it first). lim may be NULL (defaults).
 *
 * Returns 0; TUTOR_ELIMIT when a cap stopped the search: res->cap names it and the
 * combinations in res are valid answers, the first ones in order; TUTOR_EINVAL when a
 * candidate is <= 0, two candidates are equal or target <= 0; TUTOR_ENOMEM, also when the
 * trace failed to record (its sticky error wins over TUTOR_ELIMIT). On any error other
 * than TUTOR_ELIMIT res is left empty. Always safe to pass res to combsum_result_free.
 *
 * O(n log n) for the sort, then O(1) amortised per loop step (a choice, which is a call, or
 * the one prune per call) and per output value. The number of calls (tree nodes) can be
 * exponential in target / min(candidates), hence the caps. Memory: the sorted copy, the explicit
 * stack (depth <= target / min candidate, <= max_calls and <= COMBSUM_MAX_DEPTH), and the
 * output. tr may be NULL; when
 * not, every call, choice, undo, prune and find is recorded against combsum_listing (set by the
 * caller). */
int combsum(combsum_result *res, const int *candidates, size_t n, int target,
            const combsum_limits *lim, trace *tr);

/* Like combsum, for combsum2: candidates may repeat, each element is used at most once, and
 * equal combinations are reported once (so duplicates are not an error). Depth <= n.
 * Each duplicate skip is one more O(1) loop step (O(n^2) in all for n equal values).
 * Records the skips too, against combsum2_listing. */
int combsum2(combsum_result *res, const int *candidates, size_t n, int target,
             const combsum_limits *lim, trace *tr);

/* Length of combination k (< res->count) and a pointer to its first value. O(1). */
size_t combsum_len(const combsum_result *res, size_t k);
const int *combsum_at(const combsum_result *res, size_t k);

/* Frees what res owns and empties it (res itself is the caller's). NULL is fine. */
void combsum_result_free(combsum_result *res);

#endif
