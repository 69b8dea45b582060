/* The fusion exercise: QK-normed causal attention (qknorm_heads_norm, qknorm_mha) against
 * the library's. */
#include <math.h>
#include <string.h>

#include "../../models/qknorm.h"
#include "../../trace/mem.h"
#include "../../trace/rng.h"
#include "../../trace/status.h"
#include "ex.h"

EX_REF(qknorm_heads_norm);
EX_REF(qknorm_mha);

#define TOL 1e-10

/* One case's inputs: q, k, v (n, d each) and gains (4 d: q_gain, q_bias, k_gain, k_bias),
 * one block from seed; free with mem_free(in->q). */
typedef struct mha_in {
    qknorm_cfg c;
    double *q, *k, *v, *gains;
} mha_in;

static int mha_in_new(mha_in *in, size_t n, size_t d, size_t heads, int causal, int qk_norm,
                      int gains, double scale, uint64_t seed)
{
    memset(in, 0, sizeof *in);
    in->c = (qknorm_cfg){.n = n, .d = d, .heads = heads, .causal = causal, .qk_norm = qk_norm};
    size_t count = 3 * n * d + 4 * d;
    double *all = mem_alloc(count * sizeof *all);
    if (!all)
        return TUTOR_ENOMEM;
    rng r;
    rng_seed(&r, seed);
    for (size_t i = 0; i < 3 * n * d; i++)
        all[i] = scale * rng_gauss(&r);
    for (size_t i = 3 * n * d; i < count; i++)
        all[i] = 1.0 + 0.5 * rng_gauss(&r);
    in->q = all;
    in->k = all + n * d;
    in->v = all + 2 * n * d;
    in->gains = all + 3 * n * d;
    if (gains) {
        in->c.q_gain = in->gains;
        in->c.q_bias = in->gains + d;
        in->c.k_gain = in->gains + 2 * d;
        in->c.k_bias = in->gains + 3 * d;
    }
    return 0;
}

static void describe(const mha_in *in, double scale, uint64_t seed)
{
    ex_input("n = %zu, d = %zu, heads = %zu, %s, QK-Norm %s%s; q, k, v ~ N(0, %g^2) from "
             "seed %llu",
             in->c.n, in->c.d, in->c.heads, in->c.causal ? "causal" : "not causal",
             in->c.qk_norm ? "on" : "off", in->c.q_gain ? " with gains and biases" : "", scale,
             (unsigned long long)seed);
}

/* Runs both on one case and compares out, logits and entropy. */
static void mha_case(size_t n, size_t d, size_t heads, int causal, int qk_norm, int gains,
                     double scale, uint64_t seed)
{
    mha_in in;
    if (mha_in_new(&in, n, d, heads, causal, qk_norm, gains, scale, seed)) {
        ex_fail("out of memory for the inputs");
        return;
    }
    describe(&in, scale, seed);
    size_t no = n * d, nl = heads * n * n, ne = heads * n;
    double *want = mem_calloc(2 * (no + nl + ne), sizeof *want);
    if (!want) {
        ex_fail("out of memory for the outputs");
        mem_free(in.q);
        return;
    }
    double *got = want + no + nl + ne;
    for (size_t i = 0; i < no + nl + ne; i++)
        got[i] = -12345.0;
    int rc_want = exref_qknorm_mha(want, want + no, want + no + nl, in.q, in.k, in.v, &in.c, NULL);
    int rc = qknorm_mha(got, got + no, got + no + nl, in.q, in.k, in.v, &in.c, NULL);
    if (ex_status("return value", rc_want, rc) && ex_reals("out", want, got, no, TOL) &&
        ex_reals("logits", want + no, got + no, nl, TOL))
        ex_reals("entropy", want + no + nl, got + no + nl, ne, TOL);
    mem_free(want);
    mem_free(in.q);
}

static void norm_case(size_t n, size_t d, size_t heads, int gains, uint64_t seed)
{
    mha_in in;
    if (mha_in_new(&in, n, d, heads, 0, 1, gains, 2.0, seed)) {
        ex_fail("out of memory for the inputs");
        return;
    }
    ex_input("x (%zu x %zu) ~ N(0, 2^2) from seed %llu, %zu heads of %zu, eps 1e-5%s", n, d,
             (unsigned long long)seed, heads, d / heads, gains ? ", with gain and bias" : "");
    double *want = mem_calloc(2 * n * d, sizeof *want);
    if (!want) {
        ex_fail("out of memory for the outputs");
    } else {
        double *g = gains ? in.gains : NULL, *b = gains ? in.gains + d : NULL;
        exref_qknorm_heads_norm(want, in.q, n, d, heads, g, b, 1e-5);
        qknorm_heads_norm(want + n * d, in.q, n, d, heads, g, b, 1e-5);
        ex_reals("y", want, want + n * d, n * d, TOL);
    }
    mem_free(want);
    mem_free(in.q);
}

static void heads_norm(void)
{
    norm_case(1, 4, 1, 0, 1);
    for (uint64_t seed = 2; seed <= 12 && !ex_failed(); seed++)
        norm_case(1 + seed % 4, 2 * (1 + seed % 3), 1 + seed % 2, 0, seed);
}

static void heads_norm_per_head(void)
{
    /* Heads of very different scales: a norm across the whole row fails this one. */
    double x[8] = {1, 3, 100, 300, -2, 2, 0.001, 0.003}, want[8], got[8];
    ex_input("x = [1 3 100 300; -2 2 0.001 0.003], 2 heads of 2, eps 1e-5");
    exref_qknorm_heads_norm(want, x, 2, 4, 2, NULL, NULL, 1e-5);
    qknorm_heads_norm(got, x, 2, 4, 2, NULL, NULL, 1e-5);
    if (ex_reals("y", want, got, 8, TOL))
        for (uint64_t seed = 20; seed <= 26 && !ex_failed(); seed++)
            norm_case(3, 12, 1 + seed % 4, 0, seed);
}

static void heads_norm_gains(void)
{
    for (uint64_t seed = 30; seed <= 36 && !ex_failed(); seed++)
        norm_case(3, 12, 1 + seed % 4, 1, seed);
}

static void heads_norm_in_place(void)
{
    double x[6] = {3, 1, 2, 0.25, 0.5, 4}, want[6], got[6];
    ex_input("y == x (in place): x = [3 1 2 0.25 0.5 4], 1 x 6, 2 heads of 3");
    exref_qknorm_heads_norm(want, x, 1, 6, 2, NULL, NULL, 1e-5);
    memcpy(got, x, sizeof x);
    qknorm_heads_norm(got, got, 1, 6, 2, NULL, NULL, 1e-5);
    ex_reals("y", want, got, 6, TOL);
}

static void plain(void)
{
    for (uint64_t seed = 1; seed <= 12 && !ex_failed(); seed++)
        mha_case(1 + seed % 6, 2 * (1 + seed % 3), 1 + seed % 2, 0, 0, 0, 1.0, seed);
}

static void causal(void)
{
    for (uint64_t seed = 1; seed <= 12 && !ex_failed(); seed++)
        mha_case(1 + seed % 6, 2 * (1 + seed % 3), 1 + seed % 2, 1, 0, 0, 1.0, seed);
}

static void qk_norm(void)
{
    for (uint64_t seed = 1; seed <= 16 && !ex_failed(); seed++)
        mha_case(2 + seed % 6, 12, 1 + seed % 4, (int)(seed % 2), 1, 0, 1.0, seed);
}

static void qk_norm_gains(void)
{
    for (uint64_t seed = 1; seed <= 12 && !ex_failed(); seed++)
        mha_case(2 + seed % 6, 12, 1 + seed % 4, 1, 1, 1, 1.0, seed);
}

static void large(void)
{
    mha_case(6, 8, 2, 1, 0, 0, 40.0, 99);
    if (!ex_failed())
        mha_case(6, 8, 2, 1, 1, 0, 1e4, 98);
}

static void optional_outputs(void)
{
    mha_in in;
    if (mha_in_new(&in, 4, 6, 3, 1, 1, 0, 1.0, 7)) {
        ex_fail("out of memory for the inputs");
        return;
    }
    ex_input("logits = entropy = NULL; n = 4, d = 6, heads = 3, causal, QK-Norm on, seed 7");
    double want[24], got[24];
    int rc_want = exref_qknorm_mha(want, NULL, NULL, in.q, in.k, in.v, &in.c, NULL);
    int rc = qknorm_mha(got, NULL, NULL, in.q, in.k, in.v, &in.c, NULL);
    if (ex_status("return value", rc_want, rc))
        ex_reals("out", want, got, 24, TOL);
    mem_free(in.q);
}

static void bad_input(void)
{
    double x[48] = {0}, o[48];
    qknorm_cfg c = {.n = 2, .d = 6, .heads = 4};
    ex_input("d = 6, heads = 4 (6 %% 4 != 0)");
    if (!ex_status("return value", TUTOR_ESHAPE, qknorm_mha(o, NULL, NULL, x, x, x, &c, NULL)))
        return;
    c.heads = 3;
    c.n = 0;
    ex_input("n = 0");
    if (!ex_status("return value", TUTOR_EINVAL, qknorm_mha(o, NULL, NULL, x, x, x, &c, NULL)))
        return;
    c.n = QKNORM_MAX_N + 1;
    ex_input("n = QKNORM_MAX_N + 1");
    if (!ex_status("return value", TUTOR_ETOOBIG, qknorm_mha(o, NULL, NULL, x, x, x, &c, NULL)))
        return;
    c.n = 2;
    x[7] = NAN;
    ex_input("n = 2, d = 6, heads = 3, k[1][1] = NaN");
    if (!ex_status("return value", TUTOR_EINVAL,
                   qknorm_mha(o, NULL, NULL, x + 12, x, x + 24, &c, NULL)))
        return;
    x[7] = 0;
    double gain[6] = {1, 1, INFINITY, 1, 1, 1};
    c.k_gain = gain;
    ex_input("n = 2, d = 6, heads = 3, k_gain[2] = inf");
    ex_status("return value", TUTOR_EINVAL, qknorm_mha(o, NULL, NULL, x, x, x, &c, NULL));
}

static int sweep_body(void *ctx)
{
    const mha_in *in = ctx;
    double o[4 * 6], lg[3 * 16], ent[12];
    return qknorm_mha(o, lg, ent, in->q, in->k, in->v, &in->c, NULL);
}

static void alloc(void)
{
    mha_in in;
    if (mha_in_new(&in, 4, 6, 3, 1, 1, 1, 1.0, 5)) {
        ex_fail("out of memory for the inputs");
        return;
    }
    ex_input("n = 4, d = 6, heads = 3, causal, QK-Norm on, every allocation failing in turn");
    ex_alloc_sweep(sweep_body, &in);
    mem_free(in.q);
}

static void traced(void)
{
    for (int qk = 0; qk < 2 && !ex_failed(); qk++) {
        mha_in in;
        trace *ref, *got;
        if (mha_in_new(&in, 5, 6, 3, 1, qk, 0, 1.0, 2)) {
            ex_fail("out of memory for the inputs");
            return;
        }
        if (!ex_trace_pair(&ref, &got, qknorm_listing, qknorm_listing_len)) {
            mem_free(in.q);
            return;
        }
        ex_input("n = 5, d = 6, heads = 3, causal, QK-Norm %s, seed 2", qk ? "on" : "off");
        double o1[30], o2[30];
        exref_qknorm_mha(o1, NULL, NULL, in.q, in.k, in.v, &in.c, ref);
        int rc = qknorm_mha(o2, NULL, NULL, in.q, in.k, in.v, &in.c, got);
        if (ex_status("return value", 0, rc))
            ex_trace(ref, got, 1e-9);
        mem_free(in.q);
        trace_free(ref);
        trace_free(got);
    }
}

static const ex_behaviour behaviours[] = {
    {"QK-Norm: each head's piece of a row, layer-normalised",
     "For row i and head h, u = x[i][h dh .. h dh + dh - 1]: mean, then the biased variance "
     "(divide by dh), then (u - mean) / sqrt(var + eps).",
     heads_norm},
    {"QK-Norm: per head, not across the whole row",
     "Take the mean and variance over the head's dh entries only. Over the whole row, a head "
     "with large entries would squash a head with small ones.",
     heads_norm_per_head},
    {"QK-Norm: gain and bias per head and entry",
     "After normalising, multiply by gain[h dh + t] and add bias[h dh + t] (t = 0 .. dh - 1); "
     "NULL gain means 1, NULL bias means 0.",
     heads_norm_gains},
    {"QK-Norm: works in place (y == x)",
     "Compute the mean and variance of the piece before you overwrite any of it.",
     heads_norm_in_place},
    {"attention: heads side by side, no mask, no norm",
     "Head h: S = q_h k_h^T / sqrt(dh), with dh = d / heads (not d); P = row softmax; out's "
     "columns h dh .. = P v_h. logits[h] = S, entropy[h][i] = -sum_j P log P.",
     plain},
    {"attention: causal",
     "Set S[i][j] = -INFINITY for j > i before the softmax and store it so in logits; those "
     "keys get weight 0, and 0 log 0 counts as 0 in the entropy.",
     causal},
    {"attention: QK-Norm before the dot product",
     "With c->qk_norm, normalise each row of q_h and of k_h (qknorm_heads_norm, or the same "
     "per head) before S = q_h k_h^T / sqrt(dh). eps 0 in c means QKNORM_EPS.",
     qk_norm},
    {"attention: QK-Norm with gains and biases",
     "Head h uses c->q_gain + h dh, c->q_bias + h dh (and k's) for its dh entries.", qk_norm_gains},
    {"attention: large scores stay finite",
     "Use a stable softmax (attn_row_softmax subtracts the row's maximum first).", large},
    {"attention: logits and entropy may be NULL",
     "Write logits and entropy only when they are not NULL; compute into your own buffers.",
     optional_outputs},
    {"bad input: shapes, caps, non-finite values",
     "Start with rc = qknorm_check(c) (TUTOR_ESHAPE, TUTOR_EINVAL, TUTOR_ETOOBIG), then "
     "return TUTOR_EINVAL for a NaN or inf in q, k, v or a given gain or bias.",
     bad_input},
    {"an allocation failure returns TUTOR_ENOMEM",
     "Allocate with mat_new or mem_alloc, check each result, and free everything on every "
     "path (one cleanup label helps).",
     alloc},
    {"trace: the same steps as the reference",
     "Compare with the contract in the stub's header: per head lines 2, 3 (QK-Norm only), 4 "
     "or 5, 6, 7, with snapshots Q K V (head 0), Qn Kn, S, P and entropy, O.",
     traced},
    {NULL, NULL, NULL},
};

void tests_register(void)
{
    ex_register("fusion", behaviours);
}
