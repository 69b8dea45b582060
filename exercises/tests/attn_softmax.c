/* The attn_softmax exercise: the stable row softmax and softmax attention against the
 * library's. */
#include "../../models/attention.h"
#include "attn_common.h"

EX_REF(attn_row_softmax);
EX_REF(attn_softmax);

#define TOL 1e-10

static void rows_case(const double *s, size_t rows, size_t cols, int causal, const char *what)
{
    double want[64], got[64];
    strbuf sb = STRBUF_INIT;
    ex_fmt_reals(&sb, s, rows * cols);
    ex_input("%s: s (%zu x %zu) = %s%s", what, rows, cols, strbuf_str(&sb),
             causal ? ", causal" : "");
    strbuf_free(&sb);
    for (size_t i = 0; i < rows * cols; i++)
        got[i] = -12345.0;
    exref_attn_row_softmax(want, s, rows, cols, causal);
    attn_row_softmax(got, s, rows, cols, causal);
    ex_reals("p", want, got, rows * cols, TOL);
}

static void row_small(void)
{
    double s[] = {1, 2, 3, 0, 0, 0};
    double t[] = {0.5, -1, 2, 4};
    rows_case(s, 2, 3, 0, "two rows");
    if (!ex_failed())
        rows_case(t, 1, 4, 0, "one row");
}

static void row_stable(void)
{
    double s[] = {1000, 1001, 1002, -1000, -1001, -1002};
    rows_case(s, 2, 3, 0, "large scores");
}

static void row_causal(void)
{
    double s[] = {1, 5, 9, 2, 3, 7, 4, 4, 4};
    rows_case(s, 3, 3, 1, "causal");
}

static void row_neg_inf(void)
{
    double s[] = {-INFINITY, 0, 1, 2, -INFINITY, -INFINITY};
    rows_case(s, 2, 3, 0, "-inf entries");
}

static void row_in_place(void)
{
    double s[] = {3, 1, 2, 0.25, 0.5, 0.75}, want[6], got[6];
    ex_input("p == s (in place): s = [3 1 2 0.25 0.5 0.75], 2 x 3");
    exref_attn_row_softmax(want, s, 2, 3, 0);
    for (int i = 0; i < 6; i++)
        got[i] = s[i];
    attn_row_softmax(got, got, 2, 3, 0);
    ex_reals("p", want, got, 6, TOL);
}

static void attention_case(size_t n, size_t d, size_t dv, int causal, uint64_t seed, double scale)
{
    double *q, *k, *v;
    if (qkv(&q, &k, &v, n, d, dv, seed, scale)) {
        ex_fail("out of memory for the inputs");
        return;
    }
    double *want = mem_calloc(n * dv, sizeof *want), *got = mem_calloc(n * dv, sizeof *got);
    ex_input("n = %zu, d = %zu, dv = %zu, %s, Q, K, V ~ N(0, %g^2) from seed %llu", n, d, dv,
             causal ? "causal" : "not causal", scale, (unsigned long long)seed);
    if (!want || !got) {
        ex_fail("out of memory for the outputs");
    } else {
        int rc_want = exref_attn_softmax(want, q, k, v, n, d, dv, causal, NULL);
        int rc = attn_softmax(got, q, k, v, n, d, dv, causal, NULL);
        if (ex_status("return value", rc_want, rc))
            ex_reals("o", want, got, n * dv, TOL);
    }
    mem_free(want);
    mem_free(got);
    mem_free(q);
}

static void attention(void)
{
    for (uint64_t seed = 1; seed <= 20 && !ex_failed(); seed++)
        attention_case(1 + seed % 9, 1 + seed % 5, 1 + seed % 4, 0, seed, 1.0);
}

static void attention_causal(void)
{
    for (uint64_t seed = 1; seed <= 20 && !ex_failed(); seed++)
        attention_case(1 + seed % 9, 1 + seed % 5, 1 + seed % 4, 1, seed, 1.0);
}

static void attention_large(void)
{
    attention_case(6, 4, 3, 0, 99, 40.0);
    if (!ex_failed())
        attention_case(6, 4, 3, 1, 98, 40.0);
}

static void sizes(void)
{
    double x[4] = {0}, o[4];
    ex_input("n = 0, or d = 0, or dv = 0");
    if (ex_status("return value (n = 0)", TUTOR_EINVAL,
                  attn_softmax(o, x, x, x, 0, 2, 2, 0, NULL)) &&
        ex_status("return value (d = 0)", TUTOR_EINVAL, attn_softmax(o, x, x, x, 2, 0, 2, 0, NULL)))
        ex_status("return value (dv = 0)", TUTOR_EINVAL,
                  attn_softmax(o, x, x, x, 2, 2, 0, 0, NULL));
}

static int sweep_body(void *ctx)
{
    double *q = ctx, o[4 * 3];
    return attn_softmax(o, q, q + 12, q + 24, 4, 3, 3, 1, NULL);
}

static void alloc(void)
{
    alloc_sweep_qkv(sweep_body);
}

static void traced(void)
{
    for (int causal = 0; causal < 2 && !ex_failed(); causal++) {
        double *q, *k, *v, o1[5 * 3], o2[5 * 3];
        trace *ref, *got;
        if (!traced_setup(&q, &k, &v, &ref, &got, attn_softmax_listing, attn_softmax_listing_len))
            return;
        ex_input("n = 5, d = 4, dv = 3, %s, seed 2", causal ? "causal" : "not causal");
        exref_attn_softmax(o1, q, k, v, 5, 4, 3, causal, ref);
        int rc = attn_softmax(o2, q, k, v, 5, 4, 3, causal, got);
        if (ex_status("return value", 0, rc))
            ex_trace(ref, got, 1e-9);
        mem_free(q);
        trace_free(ref);
        trace_free(got);
    }
}

static const ex_behaviour behaviours[] = {
    {"row softmax: each row's weights",
     "p[i][j] = exp(s[i][j]) / sum_j exp(s[i][j]) row by row; every row sums to 1.", row_small},
    {"row softmax: stable with large scores",
     "exp(1000) overflows to inf and inf/inf is NaN: subtract the row's maximum first (the "
     "result does not change, the largest exponent becomes exp(0) = 1).",
     row_stable},
    {"row softmax: causal rows stop at the diagonal",
     "With causal, row i uses columns 0..i only; columns after i get weight exactly 0.",
     row_causal},
    {"row softmax: -inf scores get weight 0",
     "exp(-inf - m) is 0 as long as m is finite: take the max over the row, -inf included.",
     row_neg_inf},
    {"row softmax: works in place (p == s)",
     "Read s[i][j] before you write p[i][j], or compute into the row in passes that allow it.",
     row_in_place},
    {"attention: O = softmax(Q K^T / sqrt(d)) V",
     "Three passes: S = Q K^T / sqrt(d) (n x n), P = row softmax of S, O = P V (n x dv). "
     "Divide by sqrt(d), not d.",
     attention},
    {"attention: causal",
     "Set S[i][j] = -inf for j > i (or pass causal to your row softmax): row i then mixes the "
     "values of rows 0..i only.",
     attention_causal},
    {"attention: large scores stay finite",
     "Use your stable row softmax for P: scores of size 40^2 * 4 overflow exp otherwise.",
     attention_large},
    {"zero sizes return TUTOR_EINVAL", "n, d or dv of 0: return TUTOR_EINVAL before allocating.",
     sizes},
    {"an allocation failure returns TUTOR_ENOMEM",
     "Allocate the n x n matrix with mem_alloc (or mat_new) and return TUTOR_ENOMEM when it "
     "gives NULL, freeing what you already have.",
     alloc},
    {"trace: the same steps as the reference",
     "Compare with `tutor run attention --n 5 --d 4 --trace`: matrices Q, K, V, S, P, O "
     "(attn_snap), one step per pass and, per row, the max and the weights (lines 3-6).",
     traced},
    {NULL, NULL, NULL},
};

void tests_register(void)
{
    ex_register("attn_softmax", behaviours);
}
