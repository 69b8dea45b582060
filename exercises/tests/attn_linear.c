/* The attn_linear exercise: linear attention, causal in recurrent form, against the
 * library's and against the masked quadratic form (attn_linear_slow). */
#include "../../models/attn_linear.h"
#include "attn_common.h"

EX_REF(attn_linear);

#define TOL 1e-9

static void run_case(size_t n, size_t d, size_t dv, attn_fmap fmap, int causal, uint64_t seed)
{
    double *q, *k, *v;
    if (qkv(&q, &k, &v, n, d, dv, seed, 1.0)) {
        ex_fail("out of memory for the inputs");
        return;
    }
    double *want = mem_calloc(n * dv, sizeof *want), *got = mem_calloc(n * dv, sizeof *got);
    ex_input("n = %zu, d = %zu, dv = %zu, phi = %s, %s, Q, K, V ~ N(0, 1) from seed %llu", n, d, dv,
             fmap == ATTN_RELU ? "relu" : "elu + 1", causal ? "causal" : "not causal",
             (unsigned long long)seed);
    if (!want || !got) {
        ex_fail("out of memory for the outputs");
    } else {
        int rc_want = exref_attn_linear(want, q, k, v, n, d, dv, fmap, causal, NULL);
        int rc = attn_linear(got, q, k, v, n, d, dv, fmap, causal, NULL);
        if (ex_status("return value", rc_want, rc))
            ex_reals("o", want, got, n * dv, TOL);
    }
    mem_free(want);
    mem_free(got);
    mem_free(q);
}

static void first_row(void)
{
    run_case(1, 3, 2, ATTN_ELU1, 1, 4);
}

static void causal_elu(void)
{
    for (uint64_t seed = 1; seed <= 20 && !ex_failed(); seed++)
        run_case(2 + seed % 12, 1 + seed % 5, 1 + seed % 4, ATTN_ELU1, 1, seed);
}

static void causal_relu(void)
{
    for (uint64_t seed = 1; seed <= 20 && !ex_failed(); seed++)
        run_case(2 + seed % 12, 1 + seed % 5, 1 + seed % 4, ATTN_RELU, 1, seed);
}

static void not_causal(void)
{
    for (uint64_t seed = 1; seed <= 10 && !ex_failed(); seed++)
        run_case(2 + seed % 12, 1 + seed % 5, 1 + seed % 4, seed % 2 ? ATTN_RELU : ATTN_ELU1, 0,
                 seed);
}

/* Causality itself: changing the last key and value must not change earlier outputs. */
static void no_future(void)
{
    size_t n = 8, d = 3, dv = 2;
    double *q, *k, *v, a[8 * 2], b[8 * 2];
    if (qkv(&q, &k, &v, n, d, dv, 12, 1.0)) {
        ex_fail("out of memory for the inputs");
        return;
    }
    ex_input("n = 8, d = 3, dv = 2, causal, then the last row of K and V changed");
    int rc = attn_linear(a, q, k, v, n, d, dv, ATTN_ELU1, 1, NULL);
    for (size_t j = 0; j < d; j++)
        k[(n - 1) * d + j] += 3.0;
    for (size_t j = 0; j < dv; j++)
        v[(n - 1) * dv + j] -= 5.0;
    if (ex_status("return value", 0, rc) &&
        ex_status("return value", 0, attn_linear(b, q, k, v, n, d, dv, ATTN_ELU1, 1, NULL)))
        ex_reals("rows 0..6 of o (they must not see row 7)", a, b, (n - 1) * dv, 1e-12);
    mem_free(q);
}

static void long_sequence(void)
{
    size_t n = 300, d = 4, dv = 3;
    double *q, *k, *v;
    if (qkv(&q, &k, &v, n, d, dv, 77, 1.0)) {
        ex_fail("out of memory for the inputs");
        return;
    }
    double *want = mem_calloc(n * dv, sizeof *want), *got = mem_calloc(n * dv, sizeof *got);
    ex_input("n = 300, d = 4, dv = 3, causal, against the masked quadratic form");
    if (!want || !got) {
        ex_fail("out of memory for the outputs");
    } else if (ex_status("return value", 0,
                         attn_linear(got, q, k, v, n, d, dv, ATTN_ELU1, 1, NULL))) {
        attn_linear_slow(want, q, k, v, n, d, dv, ATTN_ELU1, 1);
        ex_reals("o", want, got, n * dv, 1e-9);
    }
    mem_free(want);
    mem_free(got);
    mem_free(q);
}

static void sizes(void)
{
    double x[4] = {0}, o[4];
    ex_input("n = 0, or d = 0, or dv = 0");
    if (ex_status("return value (n = 0)", TUTOR_EINVAL,
                  attn_linear(o, x, x, x, 0, 2, 2, ATTN_ELU1, 1, NULL)) &&
        ex_status("return value (d = 0)", TUTOR_EINVAL,
                  attn_linear(o, x, x, x, 2, 0, 2, ATTN_ELU1, 1, NULL)))
        ex_status("return value (dv = 0)", TUTOR_EINVAL,
                  attn_linear(o, x, x, x, 2, 2, 0, ATTN_ELU1, 1, NULL));
}

static int sweep_body(void *ctx)
{
    double *q = ctx, o[4 * 3];
    return attn_linear(o, q, q + 12, q + 24, 4, 3, 3, ATTN_ELU1, 1, NULL);
}

static void alloc(void)
{
    alloc_sweep_qkv(sweep_body);
}

static void traced(void)
{
    double *q, *k, *v, o1[5 * 3], o2[5 * 3];
    trace *ref, *got;
    if (!traced_setup(&q, &k, &v, &ref, &got, attn_linear_listing, attn_linear_listing_len))
        return;
    ex_input("n = 5, d = 4, dv = 3, phi = elu + 1, causal, seed 2");
    exref_attn_linear(o1, q, k, v, 5, 4, 3, ATTN_ELU1, 1, ref);
    int rc = attn_linear(o2, q, k, v, 5, 4, 3, ATTN_ELU1, 1, got);
    if (ex_status("return value", 0, rc))
        ex_trace(ref, got, 1e-9);
    mem_free(q);
    trace_free(ref);
    trace_free(got);
}

static const ex_behaviour behaviours[] = {
    {"causal, one row: o_0 is about v_0",
     "With one key, o_0 = phi(q_0).phi(k_0) v_0 / (phi(q_0).phi(k_0) + 1e-6): the state after "
     "step 0 is S = phi(k_0) v_0^T, z = phi(k_0).",
     first_row},
    {"causal (elu + 1): the recurrence",
     "For i = 0..n-1: S += phi(k_i) v_i^T (d x dv), z += phi(k_i); then "
     "o_i = phi(q_i)^T S / (phi(q_i).z + ATTN_LINEAR_EPS). Update S and z BEFORE reading them.",
     causal_elu},
    {"causal (relu)",
     "relu can zero a whole feature row: the + ATTN_LINEAR_EPS in the denominator keeps it "
     "finite. attn_phi (models/attention.h) applies either map.",
     causal_relu},
    {"not causal",
     "Without the mask, S and z sum over all n keys once, then every o_i reads the same S, z.",
     not_causal},
    {"causal: row i never sees a later key or value",
     "Output row i may only use rows 0..i of K and V: compute o_i right after adding row i.",
     no_future},
    {"causal, n = 300: agrees with the masked quadratic form",
     "The recurrence and the quadratic sum are the same numbers in a different order: they "
     "agree to rounding when each keeps the 1e-6 inside the denominator.",
     long_sequence},
    {"zero sizes return TUTOR_EINVAL", "n, d or dv of 0: return TUTOR_EINVAL before allocating.",
     sizes},
    {"an allocation failure returns TUTOR_ENOMEM",
     "Allocate the features and the (d x dv) state with mem_alloc (or mat_new) and return "
     "TUTOR_ENOMEM when one gives NULL, freeing the others.",
     alloc},
    {"trace: the same steps as the reference",
     "Compare with `tutor run attention --variant linear --causal --n 5 --d 4 --trace`: phiQ, "
     "phiK, then per time step S, z and the output row, then the implied matrix A.",
     traced},
    {NULL, NULL, NULL},
};

void tests_register(void)
{
    ex_register("attn_linear", behaviours);
}
