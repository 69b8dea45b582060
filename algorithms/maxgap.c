/* maxgap.c: maximum gap by buckets (O(n)) and by sorting (the reference). */
#include "maxgap.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../trace/mem.h"
#include "../trace/status.h"

const char *const maxgap_listing[] = {
    "maxgap(nums):",
    "  if n < 2: return 0",
    "  lo = min(nums); hi = max(nums)",
    "  if lo == hi: return 0",
    "  size = max(1, (hi - lo) / (n - 1))",
    "  count = (hi - lo) / size + 1",
    "  every bucket starts empty: min = +inf, max = -inf",
    "  for x in nums:",
    "    b = (x - lo) / size",
    "    bucket_min[b] = min(bucket_min[b], x)",
    "    bucket_max[b] = max(bucket_max[b], x)",
    "  best = 0; prev = bucket_max[0]",
    "  for b = 1 .. count - 1:",
    "    if bucket b is empty: skip it",
    "    best = max(best, bucket_min[b] - prev)",
    "    prev = bucket_max[b]",
    "  return best",
};
const size_t maxgap_listing_len = sizeof maxgap_listing / sizeof maxgap_listing[0];

enum {
    L_SMALL = 2,
    L_MINMAX = 3,
    L_EQUAL = 4,
    L_SIZE = 5,
    L_COUNT = 6,
    L_EMPTY = 7,
    L_LAND = 9,
    L_MIN = 10,
    L_MAX = 11,
    L_START = 12,
    L_SKIP = 14,
    L_GAP = 15,
    L_PREV = 16,
    L_RETURN = 17,
};

size_t maxgap_bucket_count(int lo, int hi, size_t n, uint64_t *size)
{
    *size = 1;
    if (n < 2 || lo >= hi)
        return 0;
    /* hi - lo can be 2^32 - 1: take it in 64 bits, where it cannot overflow. */
    uint64_t range = (uint64_t)((int64_t)hi - (int64_t)lo);
    uint64_t s = range / (uint64_t)(n - 1);
    if (s == 0)
        s = 1;
    *size = s;
    uint64_t count = range / s + 1;
    /* count <= 2(n - 1) always, so it fits in size_t; the check only documents that. */
    return count > SIZE_MAX ? SIZE_MAX : (size_t)count;
}

void maxgap_index_init(maxgap_index *ix, int lo, uint64_t size)
{
    ix->lo = (uint32_t)lo;
    ix->size = (uint32_t)size;
    /* floor((2^64 - 1) / size) + 1 is ceil(2^64 / size) for every size >= 2 (a power of
     * two divides 2^64 but not 2^64 - 1); size 1 would need 2^64 and gets its own case. */
    ix->magic = ix->size <= 1 ? 0 : UINT64_MAX / ix->size + 1;
}

/* Recording stops once the trace is truncated or failed; checking first spares the
 * O(count) snapshot copies a step would otherwise prepare for nothing. */
static int live(const trace *tr)
{
    return tr && !trace_truncated(tr) && !trace_status(tr);
}

/* The bucket arrays: a bucket is empty while its min is above its max (+inf > -inf).
 * scratch (count int64, tracing only) is where snapshots are prepared. */
/* A bucket's min and max side by side: dropping a number into its bucket touches one cache
 * line, not one in each of two arrays. */
typedef struct bucket {
    int min, max;
} bucket;

typedef struct buckets {
    bucket *b;
    size_t count;
    int64_t *scratch;
} buckets;

/* How many numbers ahead the untraced pass 3 asks for a bucket (a guess at the memory
 * latency over the work per number), and the request itself where the compiler has one. */
#define MAXGAP_AHEAD 32
#if defined(__GNUC__)
#define MAXGAP_PREFETCH(p) __builtin_prefetch((p), 1)
#else
#define MAXGAP_PREFETCH(p) ((void)(p))
#endif

/* Snapshots bucket_max (is_max) or bucket_min, with TRACE_NONE for empty buckets. */
static void snap_buckets(trace *tr, const buckets *bk, int is_max)
{
    for (size_t b = 0; b < bk->count; b++)
        bk->scratch[b] = bk->b[b].min > bk->b[b].max ? TRACE_NONE
                         : is_max                    ? bk->b[b].max
                                                     : bk->b[b].min;
    trace_int64s(tr, is_max ? "bucket_max" : "bucket_min", bk->scratch, bk->count);
}

/* The step for a bucket's min (or max) changing from old to x. */
static void trace_bound(trace *tr, const buckets *bk, int is_max, size_t b, int was_empty, int old,
                        int x)
{
    const char *what = is_max ? "max" : "min";
    if (was_empty)
        trace_step(tr, is_max ? L_MAX : L_MIN, "bucket %zu: %s empty -> %d", b, what, x);
    else
        trace_step(tr, is_max ? L_MAX : L_MIN, "bucket %zu: %s %d -> %d", b, what, old, x);
    snap_buckets(tr, bk, is_max);
    trace_mark(tr, is_max ? "bucket_max" : "bucket_min", (long)b, -1, TRACE_MOVE);
}

int maxgap_buckets(int64_t *gap, const int *nums, size_t n, trace *tr)
{
    if (n < 2) {
        if (live(tr)) {
            trace_step(tr, L_SMALL, "fewer than two numbers: the gap is 0");
            trace_ints(tr, "nums", nums, n);
            trace_quiz(tr, "what is the maximum gap?", 0);
        }
        *gap = 0;
        return trace_status(tr);
    }

    /* Pass 1: the range. */
    size_t at_lo = 0, at_hi = 0;
    for (size_t i = 1; i < n; i++) {
        if (nums[i] < nums[at_lo])
            at_lo = i;
        if (nums[i] > nums[at_hi])
            at_hi = i;
    }
    int lo = nums[at_lo], hi = nums[at_hi];
    if (live(tr)) {
        trace_step(tr, L_MINMAX, "lo = %d, hi = %d", lo, hi);
        trace_ints(tr, "nums", nums, n);
        trace_scalar(tr, "lo", lo);
        trace_scalar(tr, "hi", hi);
        trace_mark(tr, "nums", (long)at_lo, -1, TRACE_FOUND);
        trace_mark(tr, "nums", (long)at_hi, -1, TRACE_FOUND);
    }
    if (lo == hi) {
        if (live(tr)) {
            trace_step(tr, L_EQUAL, "all numbers equal %d: the gap is 0", lo);
            trace_quiz(tr, "what is the maximum gap?", 0);
        }
        *gap = 0;
        return trace_status(tr);
    }

    /* Pass 2: bucket size and count, and the one allocation: bucket_min, bucket_max and,
     * only when tracing, a scratch row for snapshots (int64 after an even number of ints,
     * so it is aligned). */
    uint64_t size;
    size_t count = maxgap_bucket_count(lo, hi, n, &size);
    uint64_t range = (uint64_t)((int64_t)hi - (int64_t)lo);
    size_t per_bucket = sizeof(bucket) + (tr ? sizeof(int64_t) : 0);
    if (count > SIZE_MAX / per_bucket)
        return TUTOR_ETOOBIG;
    bucket *bkt = mem_alloc(count * per_bucket);
    if (!bkt)
        return TUTOR_ENOMEM;
    mem_advise_random(bkt, count * per_bucket);
    buckets bk = {bkt, count, tr ? (int64_t *)(void *)(bkt + count) : NULL};
    for (size_t b = 0; b < count; b++) {
        bkt[b].min = INT_MAX;
        bkt[b].max = INT_MIN;
    }
    if (live(tr)) {
        trace_step(tr, L_SIZE, "size = max(1, (%d - %d) / %zu) = %llu", hi, lo, n - 1,
                   (unsigned long long)size);
        trace_scalar(tr, "size", (int64_t)size);
        trace_quiz(tr, "what is the bucket size?", (int64_t)size);
        trace_step(tr, L_COUNT, "count = %llu / %llu + 1 = %zu buckets", (unsigned long long)range,
                   (unsigned long long)size, count);
        trace_scalar(tr, "count", (int64_t)count);
        trace_quiz(tr, "how many buckets are there?", (int64_t)count);
        trace_step(tr, L_EMPTY, "%zu empty buckets", count);
        snap_buckets(tr, &bk, 0);
        snap_buckets(tr, &bk, 1);
    }

    /* Pass 3: drop every number into its bucket, keeping only each bucket's min and max.
     * Untraced, each number's bucket is a random place in a table of up to 2n buckets, a
     * cache miss per number: the bucket of the number MAXGAP_AHEAD places on is requested
     * early so that the misses overlap, the table asks for huge pages (one page fault and
     * TLB entry per 2 MiB of buckets instead of per 4 KiB: the faults alone were half of
     * the time at n = 10^7), and the quotient is a multiplication (maxgap_index). */
    maxgap_index ix;
    maxgap_index_init(&ix, lo, size);
    if (!tr) {
        for (size_t i = 0; i < n; i++) {
            if (i + MAXGAP_AHEAD < n)
                MAXGAP_PREFETCH(&bkt[maxgap_index_of(&ix, nums[i + MAXGAP_AHEAD])]);
            int x = nums[i];
            bucket *into = &bkt[maxgap_index_of(&ix, x)];
            if (x < into->min)
                into->min = x;
            if (x > into->max)
                into->max = x;
        }
    }
    for (size_t i = 0; tr && i < n; i++) {
        int x = nums[i];
        size_t b = maxgap_index_of(&ix, x);
        int was_empty = bkt[b].min > bkt[b].max;
        int old_min = bkt[b].min, old_max = bkt[b].max;
        if (x < bkt[b].min)
            bkt[b].min = x;
        if (x > bkt[b].max)
            bkt[b].max = x;
        if (live(tr)) {
            trace_step(tr, L_LAND, "%d lands in bucket %zu = (%d - %d) / %llu", x, b, x, lo,
                       (unsigned long long)size);
            trace_mark(tr, "nums", (long)i, -1, TRACE_CURRENT);
            trace_mark(tr, "bucket_min", (long)b, -1, TRACE_CURRENT);
            trace_mark(tr, "bucket_max", (long)b, -1, TRACE_CURRENT);
            char q[96];
            snprintf(q, sizeof q, "which bucket does %d land in?", x);
            trace_quiz(tr, q, (int64_t)b);
            if (bkt[b].min != old_min)
                trace_bound(tr, &bk, 0, b, was_empty, old_min, x);
            if (bkt[b].max != old_max)
                trace_bound(tr, &bk, 1, b, was_empty, old_max, x);
        }
    }

    /* Pass 4: the answer is a jump from one non-empty bucket's max to the next one's min.
     * Bucket 0 holds lo and the last bucket holds hi, so both ends are non-empty. */
    int64_t best = 0;
    int prev = bkt[0].max;
    size_t prev_b = 0;
    if (live(tr)) {
        trace_step(tr, L_START, "best = 0, prev = max of bucket 0 = %d", prev);
        trace_scalar(tr, "best", 0);
        trace_scalar(tr, "prev", prev);
        trace_mark(tr, "bucket_max", 0, -1, TRACE_CURRENT);
    }
    for (size_t b = 1; b < count; b++) {
        if (bkt[b].min > bkt[b].max) {
            if (live(tr)) {
                trace_step(tr, L_SKIP, "bucket %zu is empty: skip it", b);
                trace_mark(tr, "bucket_min", (long)b, -1, TRACE_SKIPPED);
            }
            continue;
        }
        int64_t d = (int64_t)bkt[b].min - prev;
        int improved = d > best;
        if (improved)
            best = d;
        if (live(tr)) {
            trace_step(tr, L_GAP, "bucket %zu: gap %d - %d = %lld%s, best %lld", b, bkt[b].min,
                       prev, (long long)d, improved ? " is larger" : "", (long long)best);
            trace_mark(tr, "bucket_min", (long)b, -1, TRACE_CURRENT);
            trace_mark(tr, "bucket_max", (long)prev_b, -1, TRACE_COMPARE);
            char q[112];
            snprintf(q, sizeof q, "what is the gap between bucket %zu's min and the previous max?",
                     b);
            trace_quiz(tr, q, d);
            if (improved)
                trace_scalar(tr, "best", best);
        }
        prev = bkt[b].max;
        prev_b = b;
        if (live(tr)) {
            trace_step(tr, L_PREV, "prev = max of bucket %zu = %d", b, prev);
            trace_scalar(tr, "prev", prev);
            trace_mark(tr, "bucket_max", (long)b, -1, TRACE_CURRENT);
        }
    }
    if (live(tr)) {
        trace_step(tr, L_RETURN, "the maximum gap is %lld", (long long)best);
        trace_quiz(tr, "what is the maximum gap?", best);
    }
    mem_free(bkt);
    *gap = best;
    return trace_status(tr);
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y); /* x - y could overflow */
}

int maxgap_sorted(int64_t *gap, const int *nums, size_t n)
{
    if (n < 2) {
        *gap = 0;
        return 0;
    }
    int *copy = mem_alloc(mem_mul(n, sizeof *copy));
    if (!copy)
        return TUTOR_ENOMEM;
    memcpy(copy, nums, n * sizeof *copy);
    qsort(copy, n, sizeof *copy, cmp_int);
    int64_t best = 0;
    for (size_t i = 1; i < n; i++) {
        int64_t d = (int64_t)copy[i] - copy[i - 1];
        if (d > best)
            best = d;
    }
    mem_free(copy);
    *gap = best;
    return 0;
}
