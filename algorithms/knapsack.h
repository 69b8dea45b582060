/* knapsack.h: the 0/1 knapsack by dynamic programming: the 2-D table with the chosen items
 * reconstructed, the 1-D array (j running downwards), the "exactly full" variant, and the
 * 1-D loop with j running upwards, which silently solves the unbounded knapsack instead.
 *
 * Items are (volume, value) pairs; item k may be taken at most once. Volumes are >= 0,
 * values any int. Sums are int64: n items of value up to INT_MAX (or C copies of one item,
 * upwards) stay below 2^62 for every input these functions accept. */
#ifndef TUTOR_KNAPSACK_H
#define TUTOR_KNAPSACK_H

#include <stddef.h>
#include <stdint.h>

#include "../trace/trace.h"

/* The largest table or array the functions allocate; a larger one is refused up front
 * with TUTOR_ETOOBIG (see knap_2d_bytes and knap_1d_bytes for what it would need). */
#define KNAP_MEM_CAP ((uint64_t)256 << 20)

/* The value of a state no subset reaches (exact variant): minus infinity. It equals
 * TRACE_NONE, so tables snapshot as they are and unreachable cells show blank. */
#define KNAP_NONE INT64_MIN

/* The pseudo-code listings the traces' line numbers refer to. The three share their line
 * numbers; only the 1-D loop's direction (line 5) differs between the two 1-D ones. */
extern const char *const knap_2d_listing[];
extern const size_t knap_2d_listing_len;
extern const char *const knap_1d_listing[];
extern const size_t knap_1d_listing_len;
extern const char *const knap_1d_ascending_listing[];
extern const size_t knap_1d_ascending_listing_len;

/* Bytes the 2-D table, (n + 1) x (capacity + 1) int64, and the 1-D array, capacity + 1
 * int64, would take; UINT64_MAX when that does not even fit in 64 bits, 0 for a negative
 * capacity. O(1). */
uint64_t knap_2d_bytes(size_t n, int capacity);
uint64_t knap_1d_bytes(int capacity);

/* The 2-D table. f[i][j] = the best value of a subset of items 0..i-1 with total volume
 * at most j (exact != 0: exactly j, KNAP_NONE when no subset has that volume):
 *   f[i][j] = max(f[i-1][j], f[i-1][j - v] + w)   for item i-1 = (v, w), j >= v.
 * best: f[n][capacity] (KNAP_NONE: exact and no subset fills the capacity exactly);
 * chosen: room for n indices, gets the items of one optimal subset, ascending, *nchosen
 * of them (0 when best is KNAP_NONE); volume, value are (n).
 * Ties prefer leaving the item out, so the subset is the one the walk back from
 * f[n][capacity] finds (an item is taken exactly where f[i][j] != f[i-1][j]).
 * Returns 0; TUTOR_EINVAL for capacity < 0, a volume < 0 or n >= 2^31; TUTOR_ETOOBIG when
 * the table would exceed KNAP_MEM_CAP (nothing allocated); TUTOR_ENOMEM (nothing leaked,
 * outputs untouched); or the trace's sticky error (outputs set). O(n C) time, one
 * allocation of O(n C) memory. tr may be NULL. */
int knap_2d(int64_t *best, size_t *chosen, size_t *nchosen, const int *volume, const int *value,
            size_t n, int capacity, int exact, trace *tr);

/* The same answer from one row f[j] updated in place item by item, j from capacity down
 * to v, so f[j - v] still holds the previous row's value (the item is not yet in it).
 * No chosen set: the overwritten rows are gone. Returns and errors as knap_2d (ETOOBIG
 * against knap_1d_bytes). O(n C) time, one allocation of O(C) memory. tr may be NULL. */
int knap_1d(int64_t *best, const int *volume, const int *value, size_t n, int capacity, int exact,
            trace *tr);

/* The classic mistake, kept to be shown: j running upwards, from v to capacity. Then
 * f[j - v] may already include item k, so f[j] can take k again: the result is the
 * UNBOUNDED knapsack (each item any number of times), not the 0/1 one. (A volume-0 item is
 * the exception: its loop visits each j once and adds it at most once.) Returns and errors
 * as knap_1d. */
int knap_1d_ascending(int64_t *best, const int *volume, const int *value, size_t n, int capacity,
                      int exact, trace *tr);

#endif
