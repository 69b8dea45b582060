/* The maxgap exercise: maxgap_buckets against the library's (exref_maxgap_buckets). */
#include <limits.h>

#include "../../algorithms/maxgap.h"
#include "../../trace/rng.h"
#include "../../trace/status.h"
#include "ex.h"

EX_REF(maxgap_buckets);

static void describe(const int *nums, size_t n)
{
    strbuf sb = STRBUF_INIT;
    ex_fmt_ints(&sb, nums, n);
    ex_input("nums = %s (n = %zu)", strbuf_str(&sb), n);
    strbuf_free(&sb);
}

/* Runs both on nums; checks the student's status and gap against the reference's. */
static int same(const int *nums, size_t n)
{
    int64_t want = -1, got = -1;
    describe(nums, n);
    int rc_want = exref_maxgap_buckets(&want, nums, n, NULL);
    int rc = maxgap_buckets(&got, nums, n, NULL);
    return ex_status("return value", rc_want, rc) && ex_i64("the gap", want, got);
}

static void small(void)
{
    int one[] = {10};
    if (same(NULL, 0))
        same(one, 1);
}

static void equal(void)
{
    int a[] = {7, 7, 7};
    same(a, 3);
}

static void classic(void)
{
    int a[] = {3, 6, 9, 1};
    int b[] = {1, 10000000};
    int c[] = {1, 1, 1, 5, 5, 2};
    if (same(a, 4) && same(b, 2))
        same(c, 6);
}

static void negative(void)
{
    int a[] = {-10, -3, -7, 4};
    int b[] = {-1, -100, -50, -51};
    if (same(a, 4))
        same(b, 4);
}

static void extremes(void)
{
    int a[] = {INT_MIN, INT_MAX};
    int b[] = {INT_MAX, 0, INT_MIN};
    int c[] = {INT_MIN, INT_MIN + 1, INT_MAX - 1, INT_MAX, INT_MIN, INT_MAX};
    if (same(a, 2) && same(b, 3))
        same(c, 6);
}

static void random_inputs(void)
{
    rng r;
    rng_seed(&r, 164);
    int nums[300];
    for (int round = 0; round < 400 && !ex_failed(); round++) {
        size_t n = (size_t)rng_range(&r, 2, 300);
        int64_t span = round % 3 == 0 ? 10 : round % 3 == 1 ? 100000 : INT_MAX;
        for (size_t i = 0; i < n; i++)
            nums[i] = (int)rng_range(&r, -span - (span == INT_MAX), span);
        same(nums, n);
    }
}

static int sweep_body(void *ctx)
{
    (void)ctx;
    int nums[] = {5, 1, 9, 2, 40, 33};
    int64_t gap;
    return maxgap_buckets(&gap, nums, 6, NULL);
}

static void alloc(void)
{
    ex_input("nums = [5 1 9 2 40 33], every allocation failing in turn");
    ex_alloc_sweep(sweep_body, NULL);
}

static void traced(void)
{
    int a[] = {3, 6, 9, 1};
    int b[] = {1, 3, 100, 2, 50, 51};
    int c[] = {4, 4};
    const int *inputs[] = {a, b, c};
    size_t lens[] = {4, 6, 2};
    for (size_t t = 0; t < 3 && !ex_failed(); t++) {
        trace *ref, *got;
        if (!ex_trace_pair(&ref, &got, maxgap_listing, maxgap_listing_len))
            return;
        int64_t g1, g2;
        describe(inputs[t], lens[t]);
        exref_maxgap_buckets(&g1, inputs[t], lens[t], ref);
        int rc = maxgap_buckets(&g2, inputs[t], lens[t], got);
        if (ex_status("return value", 0, rc))
            ex_trace(ref, got, 0);
        trace_free(ref);
        trace_free(got);
    }
}

static const ex_behaviour behaviours[] = {
    {"fewer than two numbers give 0",
     "With n < 2 there is no neighbour pair: set *gap = 0, return 0.", small},
    {"equal numbers give 0",
     "When lo == hi every gap is 0; return before computing a bucket size (it would divide by a "
     "zero range).",
     equal},
    {"the classic examples", "[3 6 9 1] sorted is [1 3 6 9]: the gaps are 2, 3, 3, so 3.", classic},
    {"negative numbers", "Bucket b = (x - lo) / size is never negative, since x >= lo.", negative},
    {"INT_MIN and INT_MAX together",
     "hi - lo can be 2^32 - 1: compute every difference in int64_t (or uint64_t), never in int.",
     extremes},
    {"agrees with the reference on 400 random inputs",
     "The gap is never inside a bucket: compare each non-empty bucket's min with the max of the "
     "previous NON-EMPTY bucket, skipping empty ones.",
     random_inputs},
    {"an allocation failure returns TUTOR_ENOMEM",
     "Allocate with mem_alloc (trace/mem.h) and return TUTOR_ENOMEM when it gives NULL, freeing "
     "whatever you already allocated.",
     alloc},
    {"trace: the same steps as the reference",
     "Compare with `tutor run maxgap --nums \"3 6 9 1\" --trace`: one trace_step per listing "
     "line that runs (the number is the line in maxgap_listing), snapshots only when they "
     "change, empty buckets as TRACE_NONE.",
     traced},
    {NULL, NULL, NULL},
};

void tests_register(void)
{
    ex_register("maxgap", behaviours);
}
