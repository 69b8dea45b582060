/* The knapsack exercise: knap_2d (with the chosen items) and knap_1d against the library's. */
#include <limits.h>

#include "../../algorithms/knapsack.h"
#include "../../trace/rng.h"
#include "../../trace/status.h"
#include "ex.h"

EX_REF(knap_2d);
EX_REF(knap_1d);

static void describe(const int *vol, const int *val, size_t n, int capacity, int exact)
{
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < n && i < 16; i++)
        strbuf_printf(&sb, i ? " %d:%d" : "%d:%d", vol[i], val[i]);
    ex_input("capacity = %d, items (volume:value) = [%s%s]%s", capacity, strbuf_str(&sb),
             n > 16 ? " ..." : "", exact ? ", exact" : "");
    strbuf_free(&sb);
}

/* knap_2d, student against reference: status, best, chosen items. */
static int same_2d(const int *vol, const int *val, size_t n, int capacity, int exact)
{
    int64_t want = -1, got = -1;
    size_t cw[64], cg[64], nw = 0, ng = 0;
    describe(vol, val, n, capacity, exact);
    int rc_want = exref_knap_2d(&want, cw, &nw, vol, val, n, capacity, exact, NULL);
    int rc = knap_2d(&got, cg, &ng, vol, val, n, capacity, exact, NULL);
    if (!ex_status("knap_2d's return value", rc_want, rc) || rc)
        return !ex_failed();
    if (!ex_i64("the best value", want, got))
        return 0;
    int iw[64], ig[64];
    for (size_t i = 0; i < nw; i++)
        iw[i] = (int)cw[i];
    for (size_t i = 0; i < ng && i < 64; i++)
        ig[i] = (int)cg[i];
    return ex_ints("the chosen items (indices)", iw, nw, ig, ng < 64 ? ng : 64);
}

static int same_1d(const int *vol, const int *val, size_t n, int capacity, int exact)
{
    int64_t want = -1, got = -1;
    describe(vol, val, n, capacity, exact);
    int rc_want = exref_knap_1d(&want, vol, val, n, capacity, exact, NULL);
    int rc = knap_1d(&got, vol, val, n, capacity, exact, NULL);
    return ex_status("knap_1d's return value", rc_want, rc) &&
           (rc || ex_i64("the best value", want, got));
}

static const int cvol[] = {1, 2, 3, 4}, cval[] = {2, 4, 4, 5};

static void classic_2d(void)
{
    int vol[] = {2, 3, 4, 5}, val[] = {3, 4, 5, 6};
    if (same_2d(cvol, cval, 4, 5, 0))
        same_2d(vol, val, 4, 5, 0);
}

static void classic_1d(void)
{
    int vol[] = {2, 3, 4, 5}, val[] = {3, 4, 5, 6};
    if (same_1d(cvol, cval, 4, 5, 0))
        same_1d(vol, val, 4, 5, 0);
}

static void once(void)
{
    int vol[] = {1}, val[] = {10};
    if (same_2d(vol, val, 1, 5, 0))
        same_1d(vol, val, 1, 5, 0);
}

static void ties(void)
{
    int vol[] = {2, 2, 1, 1}, val[] = {3, 3, 2, 1};
    same_2d(vol, val, 4, 4, 0);
}

static void exact(void)
{
    int vol[] = {4, 6}, val[] = {5, 7};
    if (same_2d(vol, val, 2, 5, 1) && same_1d(vol, val, 2, 5, 1) && same_2d(cvol, cval, 4, 5, 1))
        same_1d(cvol, cval, 4, 5, 1);
}

static void edges(void)
{
    int vol[] = {0, 3, -1}, val[] = {5, -2, 1};
    if (same_2d(vol, val, 2, 0, 0) && same_1d(vol, val, 2, 0, 0) && same_2d(NULL, NULL, 0, 7, 0) &&
        same_2d(vol, val, 2, -1, 0) && same_1d(vol, val, 2, -1, 0) && same_2d(vol, val, 3, 4, 0))
        same_1d(vol, val, 3, 4, 0);
}

static void too_big(void)
{
    if (same_2d(cvol, cval, 4, INT_MAX, 0))
        same_1d(cvol, cval, 4, INT_MAX, 0);
}

static void random_inputs(void)
{
    rng r;
    rng_seed(&r, 1);
    int vol[20], val[20];
    for (int round = 0; round < 300 && !ex_failed(); round++) {
        size_t n = (size_t)rng_range(&r, 0, 20);
        for (size_t i = 0; i < n; i++) {
            vol[i] = (int)rng_range(&r, 0, 15);
            val[i] = (int)rng_range(&r, -5, 40);
        }
        int capacity = (int)rng_range(&r, 0, 60), ex = round % 4 == 3;
        if (same_2d(vol, val, n, capacity, ex))
            same_1d(vol, val, n, capacity, ex);
    }
}

static int sweep_2d(void *ctx)
{
    (void)ctx;
    int64_t best;
    size_t chosen[4], nchosen;
    return knap_2d(&best, chosen, &nchosen, cvol, cval, 4, 5, 0, NULL);
}

static int sweep_1d(void *ctx)
{
    (void)ctx;
    int64_t best;
    return knap_1d(&best, cvol, cval, 4, 5, 0, NULL);
}

static void alloc(void)
{
    ex_input("capacity = 5, items = [1:2 2:4 3:4 4:5], every allocation failing in turn");
    if (ex_alloc_sweep(sweep_2d, NULL))
        ex_alloc_sweep(sweep_1d, NULL);
}

static void traced_one(int two_d, const int *vol, const int *val, size_t n, int capacity, int exact)
{
    trace *ref, *got;
    if (!ex_trace_pair(&ref, &got, two_d ? knap_2d_listing : knap_1d_listing,
                       two_d ? knap_2d_listing_len : knap_1d_listing_len))
        return;
    describe(vol, val, n, capacity, exact);
    int64_t b1, b2;
    size_t c1[8], c2[8], n1, n2;
    int rc;
    if (two_d) {
        exref_knap_2d(&b1, c1, &n1, vol, val, n, capacity, exact, ref);
        rc = knap_2d(&b2, c2, &n2, vol, val, n, capacity, exact, got);
    } else {
        exref_knap_1d(&b1, vol, val, n, capacity, exact, ref);
        rc = knap_1d(&b2, vol, val, n, capacity, exact, got);
    }
    if (ex_status("return value", 0, rc))
        ex_trace(ref, got, 0);
    trace_free(ref);
    trace_free(got);
}

static void traced_2d(void)
{
    traced_one(1, cvol, cval, 4, 5, 0);
    if (!ex_failed())
        traced_one(1, cvol, cval, 4, 5, 1);
}

static void traced_1d(void)
{
    traced_one(0, cvol, cval, 4, 5, 0);
}

static const ex_behaviour behaviours[] = {
    {"knap_2d: the classic examples",
     "f[i][j] = max(f[i-1][j], f[i-1][j - v] + w) for item i-1 = (v, w) when j >= v; row 0 is "
     "all 0. The answer is f[n][capacity].",
     classic_2d},
    {"knap_1d: the classic examples",
     "One row f[0..C], updated item by item with j running DOWN from C to v: f[j - v] then "
     "still holds the previous row's value.",
     classic_1d},
    {"each item is taken at most once",
     "Taking item (1, 10) five times would give 50: in 1-D, j must run downwards.", once},
    {"knap_2d: the chosen items, ties leaving the item out",
     "Walk back from (n, capacity): item i-1 was taken exactly where f[i][j] != f[i-1][j]; then "
     "j -= its volume. Report the indices ascending.",
     ties},
    {"exact: the capacity filled exactly, KNAP_NONE when impossible",
     "With exact, row 0 is KNAP_NONE except f[0][0] = 0, and a KNAP_NONE source cannot be "
     "improved by adding a value.",
     exact},
    {"edge cases: capacity 0, no items, volume 0, negative input",
     "capacity < 0 or a volume < 0 is TUTOR_EINVAL; a volume-0 item fits everywhere (once).",
     edges},
    {"a table beyond KNAP_MEM_CAP is refused with TUTOR_ETOOBIG",
     "Check knap_2d_bytes / knap_1d_bytes against KNAP_MEM_CAP before allocating anything.",
     too_big},
    {"agrees with the reference on 300 random inputs",
     "Values may be negative and volumes 0: let max() decide, never assume taking is better.",
     random_inputs},
    {"an allocation failure returns TUTOR_ENOMEM",
     "Allocate with mem_alloc / mem_calloc and return TUTOR_ENOMEM when it gives NULL.", alloc},
    {"trace (2-D): the same steps as the reference",
     "Compare with `tutor run knapsack --capacity 5 --items \"1:2 2:4 3:4 4:5\" --trace`: the "
     "table snapshot is (n+1) x (C+1) int64, unreachable cells KNAP_NONE.",
     traced_2d},
    {"trace (1-D): the same steps as the reference",
     "Compare with `tutor run knapsack --capacity 5 --items \"1:2 2:4 3:4 4:5\" --method 1d "
     "--trace`.",
     traced_1d},
    {NULL, NULL, NULL},
};

void tests_register(void)
{
    ex_register("knapsack", behaviours);
}
