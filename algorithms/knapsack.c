/* knapsack.c: 0/1 knapsack, 2-D table and 1-D array, at-most and exactly-full. */
#include "knapsack.h"

#include <stdio.h>

#include "../trace/mem.h"
#include "../trace/status.h"

const char *const knap_2d_listing[] = {
    "knapsack_2d(items, C):",
    "  f[0][j] = 0 for j = 0..C         (at most j)",
    "  f[0][0] = 0, f[0][j>0] = -inf    (exactly j)",
    "  for i = 1..n: (v, w) = item i-1",
    "    for j = 0..C:",
    "      f[i][j] = f[i-1][j]          (skip item i-1)",
    "      if j >= v and f[i-1][j-v] + w > f[i][j]:",
    "        f[i][j] = f[i-1][j-v] + w  (take item i-1)",
    "  j = C",
    "  for i = n down to 1:",
    "    if f[i][j] != f[i-1][j]:",
    "      choose item i-1; j = j - v",
    "  return f[n][C]",
};
const size_t knap_2d_listing_len = sizeof knap_2d_listing / sizeof knap_2d_listing[0];

const char *const knap_1d_listing[] = {
    "knapsack_1d(items, C):",
    "  f[j] = 0 for j = 0..C            (at most j)",
    "  f[0] = 0, f[j>0] = -inf          (exactly j)",
    "  for each item (v, w):",
    "    for j = C down to v:           (f[j-v]: item not in yet)",
    "      if f[j-v] + w > f[j]:",
    "        f[j] = f[j-v] + w",
    "  return f[C]",
};
const size_t knap_1d_listing_len = sizeof knap_1d_listing / sizeof knap_1d_listing[0];

const char *const knap_1d_ascending_listing[] = {
    "knapsack_1d_ascending(items, C):",
    "  f[j] = 0 for j = 0..C            (at most j)",
    "  f[0] = 0, f[j>0] = -inf          (exactly j)",
    "  for each item (v, w):",
    "    for j = v up to C:             (WRONG for 0/1: reuses items)",
    "      if f[j-v] + w > f[j]:",
    "        f[j] = f[j-v] + w",
    "  return f[C]",
};
const size_t knap_1d_ascending_listing_len =
    sizeof knap_1d_ascending_listing / sizeof knap_1d_ascending_listing[0];

/* Line numbers: the 2-D listing, then the 1-D ones (which share theirs). */
enum {
    L2_INIT = 2,
    L2_INIT_EXACT = 3,
    L2_ITEM = 4,
    L2_SKIP = 6,
    L2_COMPARE = 7,
    L2_TAKE = 8,
    L2_WALK = 9,
    L2_CHECK = 11,
    L2_CHOOSE = 12,
    L2_RETURN = 13,
};
enum {
    L1_INIT = 2,
    L1_INIT_EXACT = 3,
    L1_ITEM = 4,
    L1_KEEP = 6,
    L1_TAKE = 7,
    L1_RETURN = 8,
};

uint64_t knap_1d_bytes(int capacity)
{
    return capacity < 0 ? 0 : ((uint64_t)capacity + 1) * sizeof(int64_t);
}

uint64_t knap_2d_bytes(size_t n, int capacity)
{
    uint64_t row = knap_1d_bytes(capacity); /* < 2^35 */
    uint64_t rows = (uint64_t)n + 1;
    if (row == 0)
        return 0;
    if (rows == 0 || rows > UINT64_MAX / row)
        return UINT64_MAX;
    return rows * row;
}

static int live(const trace *tr)
{
    return tr && !trace_truncated(tr) && !trace_status(tr);
}

/* Checks what every variant requires. n < 2^31 keeps n * INT_MAX (and C * INT_MAX, for the
 * unbounded demonstration) below 2^62, so no sum can overflow or reach KNAP_NONE. */
static int check_args(const int *volume, size_t n, int capacity)
{
    if (capacity < 0 || (uint64_t)n >= ((uint64_t)1 << 31))
        return TUTOR_EINVAL;
    for (size_t k = 0; k < n; k++)
        if (volume[k] < 0)
            return TUTOR_EINVAL;
    return 0;
}

/* Formats a DP value for messages: "-inf" for KNAP_NONE. buf has room for 24 bytes. */
static const char *val(char *buf, int64_t x)
{
    if (x == KNAP_NONE)
        return "-inf";
    snprintf(buf, 24, "%lld", (long long)x);
    return buf;
}

static void trace_items(trace *tr, const int *volume, const int *value, size_t n)
{
    trace_ints(tr, "volume", volume, n);
    trace_ints(tr, "value", value, n);
}

/* The value of taking an item worth w on top of state `from`. Without exact no cell is ever
 * -inf (row 0 is all zeros), so the test drops out of the hot loops; with it, -inf + w
 * (an overflow for w < 0) is never computed. Both paths, traced and not, use it, and both
 * let ties keep "skip". */
static int64_t take_value(int64_t from, int64_t w, int exact)
{
    return exact && from == KNAP_NONE ? KNAP_NONE : from + w;
}

/* Row i of the table from row i-1 (up), for item (v, w). row and up do not overlap. */
static void fill_row(int64_t *restrict row, const int64_t *restrict up, size_t cols, size_t v,
                     int64_t w, int exact)
{
    size_t fit = v < cols ? v : cols;
    for (size_t j = 0; j < fit; j++)
        row[j] = up[j];
    for (size_t j = fit; j < cols; j++) {
        int64_t take = take_value(up[j - v], w, exact);
        row[j] = take > up[j] ? take : up[j];
    }
}

/* One item's in-place pass over the 1-D array (v < cols). Downwards, f[j - v] (j - v < j)
 * is read before this item writes it, so it is still row i-1: 0/1. Upwards it has been
 * written for this item already, so the item can be added again: unbounded. */
static void relax(int64_t *f, size_t cols, size_t v, int64_t w, int exact, int ascending)
{
    if (ascending) {
        for (size_t j = v; j < cols; j++) {
            int64_t take = take_value(f[j - v], w, exact);
            if (take > f[j])
                f[j] = take;
        }
    } else {
        for (size_t j = cols; j-- > v;) {
            int64_t take = take_value(f[j - v], w, exact);
            if (take > f[j])
                f[j] = take;
        }
    }
}

/* One cell's step of the 2-D table: the sources, the winner, the value, the quiz. */
static void trace_cell(trace *tr, const int64_t *f, size_t n, size_t cols, size_t i, size_t j,
                       int v, int w, int64_t skip, int64_t take, int fits, int took)
{
    char a[24], b[24], c[24];
    int64_t got = f[i * cols + j];
    if (!fits)
        trace_step(tr, L2_SKIP, "f[%zu][%zu] = f[%zu][%zu] = %s: item %zu (volume %d) does not fit",
                   i, j, i - 1, j, val(a, got), i - 1, v);
    else if (take == KNAP_NONE)
        trace_step(tr, L2_COMPARE, "f[%zu][%zu] = f[%zu][%zu] = %s: f[%zu][%zu] is -inf", i, j,
                   i - 1, j, val(a, got), i - 1, j - (size_t)v);
    else
        trace_step(tr, took ? L2_TAKE : L2_COMPARE,
                   "f[%zu][%zu] = max(f[%zu][%zu] = %s, f[%zu][%zu] + %d = %s) = %s: %s item %zu",
                   i, j, i - 1, j, val(a, skip), i - 1, j - (size_t)v, w, val(b, take), val(c, got),
                   took ? "take" : "skip", i - 1);
    trace_table(tr, "f", f, n + 1, cols);
    trace_mark(tr, "f", (long)(i - 1), (long)j, TRACE_SOURCE);
    if (fits)
        trace_mark(tr, "f", (long)(i - 1), (long)(j - (size_t)v), TRACE_SOURCE);
    if (took)
        trace_mark(tr, "f", (long)(i - 1), (long)(j - (size_t)v), TRACE_WINNER);
    else
        trace_mark(tr, "f", (long)(i - 1), (long)j, TRACE_WINNER);
    trace_mark(tr, "f", (long)i, (long)j, TRACE_CURRENT);
    if (got != KNAP_NONE) {
        char q[64];
        snprintf(q, sizeof q, "what is f[%zu][%zu]?", i, j);
        trace_quiz(tr, q, got);
    }
}

int knap_2d(int64_t *best, size_t *chosen, size_t *nchosen, const int *volume, const int *value,
            size_t n, int capacity, int exact, trace *tr)
{
    int rc = check_args(volume, n, capacity);
    if (rc)
        return rc;
    if (knap_2d_bytes(n, capacity) > KNAP_MEM_CAP)
        return TUTOR_ETOOBIG;
    size_t cols = (size_t)capacity + 1;
    /* f is (n + 1, C + 1), row-major: f[i * cols + j]. */
    int64_t *f = mem_alloc((n + 1) * cols * sizeof *f);
    if (!f)
        return TUTOR_ENOMEM;
    for (size_t j = 0; j < cols; j++)
        f[j] = exact && j > 0 ? KNAP_NONE : 0;
    if (live(tr)) {
        /* Rows not computed yet show blank. */
        for (size_t x = cols; x < (n + 1) * cols; x++)
            f[x] = KNAP_NONE;
        if (exact)
            trace_step(tr, L2_INIT_EXACT, "row 0, no items: only volume 0 is reachable exactly");
        else
            trace_step(tr, L2_INIT, "row 0, no items: value 0 for every capacity");
        trace_items(tr, volume, value, n);
        trace_table(tr, "f", f, n + 1, cols);
    }

    /* Pass 1: fill the table row by row. */
    for (size_t i = 1; i <= n; i++) {
        int v = volume[i - 1], w = value[i - 1];
        const int64_t *up = f + (i - 1) * cols;
        int64_t *row = f + i * cols;
        if (!live(tr)) {
            fill_row(row, up, cols, (size_t)v, w, exact);
            continue;
        }
        /* Traced: the same recurrence, one step per cell. */
        trace_step(tr, L2_ITEM, "i = %zu: item %zu has volume %d, value %d", i, i - 1, v, w);
        trace_mark(tr, "volume", (long)(i - 1), -1, TRACE_CURRENT);
        trace_mark(tr, "value", (long)(i - 1), -1, TRACE_CURRENT);
        for (size_t j = 0; j < cols; j++) {
            int fits = j >= (size_t)v;
            int64_t skip = up[j];
            int64_t take = fits ? take_value(up[j - (size_t)v], w, exact) : KNAP_NONE;
            int took = take > skip;
            row[j] = took ? take : skip;
            trace_cell(tr, f, n, cols, i, j, v, w, skip, take, fits, took);
        }
    }

    /* Pass 2: walk back. f[i][j] != f[i-1][j] means the max came from taking item i-1,
     * so it is in this optimal subset and the rest fills j - v; equal means leaving it out
     * is optimal. Indices come out descending; reversing them gives ascending order. */
    int64_t answer = f[n * cols + (size_t)capacity];
    size_t k = 0;
    char a[24], b[24];
    if (answer == KNAP_NONE) {
        if (live(tr))
            trace_step(tr, L2_RETURN, "f[%zu][%d] = -inf: no subset fills %d exactly", n, capacity,
                       capacity);
    } else {
        size_t j = (size_t)capacity;
        if (live(tr)) {
            trace_step(tr, L2_WALK, "walk back from f[%zu][%zu] = %lld", n, j, (long long)answer);
            trace_mark(tr, "f", (long)n, (long)j, TRACE_FOUND);
        }
        for (size_t i = n; i >= 1; i--) {
            int64_t here = f[i * cols + j], above = f[(i - 1) * cols + j];
            int take = here != above;
            if (live(tr)) {
                if (take)
                    trace_step(
                        tr, L2_CHOOSE,
                        "f[%zu][%zu] = %s != f[%zu][%zu] = %s: take item %zu, j = %zu - %d = %zu",
                        i, j, val(a, here), i - 1, j, val(b, above), i - 1, j, volume[i - 1],
                        j - (size_t)volume[i - 1]);
                else
                    trace_step(tr, L2_CHECK,
                               "f[%zu][%zu] = f[%zu][%zu] = %s: item %zu is not needed", i, j,
                               i - 1, j, val(a, here), i - 1);
                trace_mark(tr, "f", (long)i, (long)j, take ? TRACE_CHOSEN : TRACE_COMPARE);
                trace_mark(tr, "f", (long)(i - 1), (long)j, TRACE_COMPARE);
                if (take)
                    trace_mark(tr, "volume", (long)(i - 1), -1, TRACE_CHOSEN);
                char q[64];
                snprintf(q, sizeof q, "is item %zu in the answer (1 yes, 0 no)?", i - 1);
                trace_quiz(tr, q, take);
            }
            if (take) {
                chosen[k++] = i - 1;
                j -= (size_t)volume[i - 1];
            }
        }
        for (size_t x = 0; x < k / 2; x++) {
            size_t t = chosen[x];
            chosen[x] = chosen[k - 1 - x];
            chosen[k - 1 - x] = t;
        }
        if (live(tr)) {
            trace_step(tr, L2_RETURN, "best value %lld from %zu item%s", (long long)answer, k,
                       k == 1 ? "" : "s");
            for (size_t x = 0; x < k; x++)
                trace_mark(tr, "volume", (long)chosen[x], -1, TRACE_CHOSEN);
            trace_quiz(tr, "what is the best value?", answer);
        }
    }
    mem_free(f);
    *best = answer;
    *nchosen = k;
    return trace_status(tr);
}

/* The 1-D trace's step for item k = (v, w). */
static void trace_item_1d(trace *tr, size_t k, int v, int w, int capacity, int ascending)
{
    if (v > capacity)
        trace_step(tr, L1_ITEM, "item %zu: volume %d > capacity %d, nothing changes", k, v,
                   capacity);
    else
        trace_step(tr, L1_ITEM, "item %zu: volume %d, value %d; j runs %s", k, v, w,
                   ascending ? "up" : "down");
    trace_mark(tr, "volume", (long)k, -1, TRACE_CURRENT);
    trace_mark(tr, "value", (long)k, -1, TRACE_CURRENT);
}

/* The 1-D loop in either direction. */
static int run_1d(int64_t *best, const int *volume, const int *value, size_t n, int capacity,
                  int exact, int ascending, trace *tr)
{
    int rc = check_args(volume, n, capacity);
    if (rc)
        return rc;
    if (knap_1d_bytes(capacity) > KNAP_MEM_CAP)
        return TUTOR_ETOOBIG;
    size_t cols = (size_t)capacity + 1;
    int64_t *f = mem_alloc(mem_mul(cols, sizeof *f));
    if (!f)
        return TUTOR_ENOMEM;
    for (size_t j = 0; j < cols; j++)
        f[j] = exact && j > 0 ? KNAP_NONE : 0;
    if (live(tr)) {
        if (exact)
            trace_step(tr, L1_INIT_EXACT, "no items yet: only volume 0 is reachable exactly");
        else
            trace_step(tr, L1_INIT, "no items yet: value 0 for every capacity");
        trace_items(tr, volume, value, n);
        trace_int64s(tr, "f", f, cols);
    }
    char a[24], b[24], c[24];
    for (size_t k = 0; k < n; k++) {
        int v = volume[k], w = value[k];
        if (!live(tr)) {
            if ((size_t)v < cols)
                relax(f, cols, (size_t)v, w, exact, ascending);
            continue;
        }
        /* Traced: the same pass, one step per cell it visits. */
        trace_item_1d(tr, k, v, w, capacity, ascending);
        if ((size_t)v >= cols)
            continue;
        for (size_t step = 0; step < cols - (size_t)v; step++) {
            size_t j = ascending ? (size_t)v + step : cols - 1 - step;
            int64_t old = f[j], take = take_value(f[j - (size_t)v], w, exact);
            int took = take > old;
            if (took)
                f[j] = take;
            trace_step(tr, took ? L1_TAKE : L1_KEEP,
                       "f[%zu] = max(f[%zu] = %s, f[%zu] + %d = %s) = %s: %s item %zu", j, j,
                       val(a, old), j - (size_t)v, w, val(b, take), val(c, f[j]),
                       took ? "take" : "keep, without", k);
            if (took)
                trace_int64s(tr, "f", f, cols);
            trace_mark(tr, "f", (long)j, -1, TRACE_SOURCE);
            trace_mark(tr, "f", (long)(j - (size_t)v), -1, TRACE_SOURCE);
            trace_mark(tr, "f", (long)(took ? j - (size_t)v : j), -1, TRACE_WINNER);
            trace_mark(tr, "f", (long)j, -1, TRACE_CURRENT);
            if (f[j] != KNAP_NONE) {
                char q[64];
                snprintf(q, sizeof q, "what is f[%zu] after item %zu?", j, k);
                trace_quiz(tr, q, f[j]);
            }
        }
    }
    int64_t answer = f[capacity];
    if (live(tr)) {
        if (answer == KNAP_NONE)
            trace_step(tr, L1_RETURN, "f[%d] = -inf: no %s fills %d exactly", capacity,
                       ascending ? "multiset" : "subset", capacity);
        else
            trace_step(tr, L1_RETURN, "best value f[%d] = %lld", capacity, (long long)answer);
        trace_mark(tr, "f", capacity, -1, TRACE_FOUND);
        if (answer != KNAP_NONE)
            trace_quiz(tr, "what is the best value?", answer);
    }
    mem_free(f);
    *best = answer;
    return trace_status(tr);
}

int knap_1d(int64_t *best, const int *volume, const int *value, size_t n, int capacity, int exact,
            trace *tr)
{
    return run_1d(best, volume, value, n, capacity, exact, 0, tr);
}

int knap_1d_ascending(int64_t *best, const int *volume, const int *value, size_t n, int capacity,
                      int exact, trace *tr)
{
    return run_1d(best, volume, value, n, capacity, exact, 1, tr);
}
