#include "hippo.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "../trace/mem.h"
#include "../trace/status.h"
#include "linalg.h"
#include "mat.h"

/* Above this N a traced LegS run does not show each step's Abar: forming it costs O(N^3)
 * per traced step and N^2 doubles of trace each. */
#define HIPPO_TRACE_ABAR_MAX 64

const char *const hippo_legs_listing[] = {
    "A[n][k] = -sqrt(2n+1) sqrt(2k+1) (n > k), -(n+1) (n = k);  B[n] = sqrt(2n+1)",
    "c = 0",
    "for k = 1 .. L:",
    "    Abar, Bbar = discretize(A/k, B/k, 1)   (zoh: exp(A ln((k+1)/k)) over log-time)",
    "    c = Abar c + Bbar f[k]",
    "f(s L) ~ sum_n c[n] sqrt(2n+1) P_n(2s - 1),  s in [0, 1]",
};
const size_t hippo_legs_listing_len = sizeof hippo_legs_listing / sizeof hippo_legs_listing[0];

const char *const hippo_lti_listing[] = {
    "A, B = the measure's matrices (LegT: window theta; LagT: Laguerre)",
    "Abar, Bbar = discretize(A, B, dt)   (euler | backward | bilinear | zoh)",
    "c = 0",
    "for k = 1 .. L:",
    "    c = Abar c + Bbar f[k]",
    "reconstruct f over the measure's support from c",
};
const size_t hippo_lti_listing_len = sizeof hippo_lti_listing / sizeof hippo_lti_listing[0];

static const char *const measure_names[] = {"legs", "legt", "lagt"};

const char *hippo_measure_name(hippo_measure m)
{
    return (unsigned)m < 3 ? measure_names[m] : "?";
}

int hippo_measure_parse(const char *name, hippo_measure *m)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(name, measure_names[i]) == 0) {
            *m = (hippo_measure)i;
            return 0;
        }
    return TUTOR_EINVAL;
}

void hippo_legs_matrices(double *A, double *B, size_t N)
{
    for (size_t n = 0; n < N; n++) {
        double rn = sqrt(2.0 * (double)n + 1);
        for (size_t k = 0; k < N; k++)
            A[n * N + k] = n > k    ? -rn * sqrt(2.0 * (double)k + 1)
                           : n == k ? -((double)n + 1)
                                    : 0.0;
        B[n] = rn;
    }
}

void hippo_legt_matrices(double *A, double *B, size_t N, double theta)
{
    for (size_t n = 0; n < N; n++) {
        double rn = sqrt(2.0 * (double)n + 1);
        for (size_t k = 0; k < N; k++) {
            /* (-1)^(n-k) above the diagonal: the window's far end enters with alternating
             * signs because P_n(-1) = (-1)^n. */
            double sign = k <= n ? 1.0 : ((k - n) % 2 ? -1.0 : 1.0);
            A[n * N + k] = -rn * sqrt(2.0 * (double)k + 1) * sign / theta;
        }
        B[n] = rn / theta;
    }
}

void hippo_lagt_matrices(double *A, double *B, size_t N)
{
    for (size_t n = 0; n < N; n++) {
        for (size_t k = 0; k < N; k++)
            A[n * N + k] = k <= n ? -1.0 : 0.0;
        B[n] = 1.0;
    }
}

/* The fast step works through c in blocks of LEGS_BLOCK entries, so that its per-entry
 * constants (r_n = sqrt(2n+1), the substitution's reciprocals) are computed in loops the
 * compiler vectorises, off the one serial chain each pass must carry. */
#define LEGS_BLOCK 256

/* r_n = sqrt(2n+1) for n < LEGS_TABLE, computed once per process: the N square roots a
 * step needs cost more than the rest of the step (a scalar sqrt issues every few cycles,
 * and -O2 does not vectorise the loop). The same sqrt gives the same bits, so the table
 * changes no result; larger n are computed as before. */
#define LEGS_TABLE 4096
static double legs_r_table[LEGS_TABLE];
static pthread_once_t legs_r_once = PTHREAD_ONCE_INIT;

/* The block loops below are compiled twice: for the build's target and, on x86-64 with gcc
 * or clang, for AVX2 (picked at run time when the CPU has it). Every helper is inlined
 * into both, so each copy's loops get that copy's vector width. The AVX2 copy is not built
 * for FMA: no multiply-add is fused (C11 mode), so both give the same bits. */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define LEGS_AVX2 1
#if defined(__clang__)
#define LEGS_AVX2_ATTR __attribute__((target("avx2")))
#else
/* optimize("O3"): gcc 12's -O2 vectorises only the cheapest loops, and for AVX2 few. */
#define LEGS_AVX2_ATTR __attribute__((target("avx2"), optimize("O3")))
#endif
#define LEGS_INLINE static inline __attribute__((always_inline))
#else
#define LEGS_AVX2   0
#define LEGS_INLINE static inline
#endif

static void legs_r_init(void)
{
    for (size_t n = 0; n < LEGS_TABLE; n++)
        legs_r_table[n] = sqrt(2.0 * (double)n + 1);
}

/* y = c + e A c + d B f, in place (euler: e = d; bilinear: e = d/2). (A c)_n needs the
 * prefix sum S_n over j <= n of r_j c_j of the OLD c, carried from block to block in *sum.
 * A single running sum would make every entry wait for the previous addition, so the block
 * is cut into four quarters: their totals first (four independent sums), then their prefix
 * sums side by side from the right offsets. The additions are regrouped, so S_n may differ
 * from the one-chain sum by rounding. */
LEGS_INLINE void legs_explicit_n(double *c, const double *r, int len, double n0, double e, double d,
                                 double f, double *sum)
{
    double p[LEGS_BLOCK], S[LEGS_BLOCK];
    for (int i = 0; i < len; i++)
        p[i] = r[i] * c[i];
    int q = len / 4;
    double t0 = 0, t1 = 0, t2 = 0;
    for (int i = 0; i < q; i++) {
        t0 += p[i];
        t1 += p[q + i];
        t2 += p[2 * q + i];
    }
    double s0 = *sum, s1 = s0 + t0, s2 = s1 + t1, s3 = s2 + t2;
    for (int i = 0; i < q; i++) {
        S[i] = s0 += p[i];
        S[q + i] = s1 += p[q + i];
        S[2 * q + i] = s2 += p[2 * q + i];
        S[3 * q + i] = s3 += p[3 * q + i];
    }
    for (int i = 4 * q; i < len; i++)
        S[i] = s3 += p[i];
    *sum = s3;
    /* c_n + e (n c_n - r_n S_n) + d r_n f, grouped as c_n (1 + e n) - r_n (e S_n - d f). */
    double df = d * f, en = e * n0;
    for (int i = 0; i < len; i++)
        c[i] = c[i] * (1.0 + en + e * (double)i) - r[i] * (e * S[i] - df);
}

/* A full block goes through a copy of the loops with its length a constant, which -O2's
 * vectoriser takes (it skips loops whose length it does not know). */
LEGS_INLINE void legs_explicit(double *c, const double *r, size_t len, size_t n0, double e,
                               double d, double f, double *sum)
{
    if (len == LEGS_BLOCK)
        legs_explicit_n(c, r, LEGS_BLOCK, (double)n0, e, d, f, sum);
    else
        legs_explicit_n(c, r, (int)len, (double)n0, e, d, f, sum);
}

/* Forward substitution for (I - d A) x = y, in place over one block. Row n reads
 * x_n (1 + d (n+1)) + d r_n S_n = y_n with S_n = sum_{j<n} r_j x_j, so, with
 * a_n = y_n / (1 + d (n+1)) and b_n = d r_n / (1 + d (n+1)), x_n = a_n - b_n S_n and
 * S_{n+1} = (1 - r_n b_n) S_n + r_n a_n: one multiply-add per entry on the chain, where
 * the textbook loop carries a division. Pass 1 (vectorised): alpha_n, beta_n, b_n.
 * Pass 2 (serial): the S recurrence. Pass 3 (vectorised): x_n. */
LEGS_INLINE void legs_substitute_n(double *c, const double *r, int len, double n0, double d,
                                   double *sum)
{
    double alpha[LEGS_BLOCK], beta[LEGS_BLOCK], b[LEGS_BLOCK], S[LEGS_BLOCK];
    for (int i = 0; i < len; i++) {
        double inv = 1.0 / (1.0 + d * (n0 + (double)i + 1));
        double a = c[i] * inv;
        b[i] = d * r[i] * inv;
        alpha[i] = 1.0 - r[i] * b[i];
        beta[i] = r[i] * a;
        c[i] = a;
    }
    double s = *sum;
    for (int i = 0; i < len; i++) {
        S[i] = s;
        s = alpha[i] * s + beta[i];
    }
    for (int i = 0; i < len; i++)
        c[i] -= b[i] * S[i];
    *sum = s;
}

LEGS_INLINE void legs_substitute(double *c, const double *r, size_t len, size_t n0, double d,
                                 double *sum)
{
    if (len == LEGS_BLOCK)
        legs_substitute_n(c, r, LEGS_BLOCK, (double)n0, d, sum);
    else
        legs_substitute_n(c, r, (int)len, (double)n0, d, sum);
}

/* The step's block loop, method already checked. */
LEGS_INLINE void legs_blocks(double *c, double f, size_t k, size_t N, ssm_method method)
{
    double d = 1.0 / (double)k;
    double rbuf[LEGS_BLOCK];
    double explicit_sum = 0, solve_sum = 0;
    for (size_t n0 = 0; n0 < N; n0 += LEGS_BLOCK) {
        size_t len = N - n0 < LEGS_BLOCK ? N - n0 : LEGS_BLOCK;
        const double *r = legs_r_table + n0;
        if (n0 + len > LEGS_TABLE) {
            for (size_t i = 0; i < len; i++)
                rbuf[i] = sqrt(2.0 * (double)(n0 + i) + 1);
            r = rbuf;
        }
        double *block = c + n0;
        if (method == SSM_BACKWARD) {
            for (size_t i = 0; i < len; i++)
                block[i] += d * r[i] * f;
            legs_substitute(block, r, len, n0, d, &solve_sum);
        } else if (method == SSM_EULER) {
            legs_explicit(block, r, len, n0, d, d, f, &explicit_sum);
        } else {
            /* Bilinear: y = (I + d/2 A) c + d B f, then solve (I - d/2 A) x = y. Block by
             * block is exact: the explicit pass reads only old entries at or before n, and
             * the substitution only new entries before n, both carried in their sums. */
            legs_explicit(block, r, len, n0, d / 2, d, f, &explicit_sum);
            legs_substitute(block, r, len, n0, d / 2, &solve_sum);
        }
    }
}

static void legs_blocks_base(double *c, double f, size_t k, size_t N, ssm_method method)
{
    legs_blocks(c, f, k, N, method);
}

#if LEGS_AVX2
LEGS_AVX2_ATTR static void legs_blocks_avx2(double *c, double f, size_t k, size_t N,
                                            ssm_method method)
{
    legs_blocks(c, f, k, N, method);
}
#endif

static int legs_use_avx2;

static void legs_init(void)
{
    legs_r_init();
#if LEGS_AVX2
    __builtin_cpu_init();
    legs_use_avx2 = __builtin_cpu_supports("avx2");
#endif
}

int hippo_legs_step_fast(double *c, double f, size_t k, size_t N, ssm_method method)
{
    if (method != SSM_EULER && method != SSM_BILINEAR && method != SSM_BACKWARD)
        return TUTOR_EINVAL;
    pthread_once(&legs_r_once, legs_init);
#if LEGS_AVX2
    if (legs_use_avx2) {
        legs_blocks_avx2(c, f, k, N, method);
        return 0;
    }
#endif
    legs_blocks_base(c, f, k, N, method);
    return 0;
}

int hippo_legs_step_dense(double *c, const double *A, const double *B, double f, size_t k, size_t N,
                          ssm_method method, double *work)
{
    double d = 1.0 / (double)k;
    double *m = work, *v = work + (N + 1) * (N + 1);
    if (method == SSM_ZOH) {
        /* Over log-time s = ln t the LegS ODE is c' = A c + B f, time-invariant, and sample k
         * spans s from ln k to ln(k+1). */
        double *bbar = m + N * N;
        int rc = ssm_discretize(m, bbar, A, B, N, log1p(d), SSM_ZOH);
        if (rc)
            return rc;
        mat_gemv(v, m, c, N, N, 0, 1.0, 0.0);
        for (size_t n = 0; n < N; n++)
            c[n] = v[n] + bbar[n] * f;
        return 0;
    }
    if (method != SSM_EULER && method != SSM_BACKWARD && method != SSM_BILINEAR)
        return TUTOR_EINVAL;
    double e = method == SSM_EULER ? d : method == SSM_BILINEAR ? d / 2 : 0;
    if (e != 0) {
        mat_gemv(v, A, c, N, N, 0, 1.0, 0.0); /* v = A c */
        for (size_t n = 0; n < N; n++)
            c[n] += e * v[n];
    }
    for (size_t n = 0; n < N; n++)
        c[n] += d * B[n] * f;
    if (method == SSM_EULER)
        return 0;
    double a = method == SSM_BILINEAR ? d / 2 : d;
    for (size_t i = 0; i < N * N; i++)
        m[i] = -a * A[i];
    for (size_t i = 0; i < N; i++)
        m[i * N + i] += 1;
    /* A is lower triangular, so I - a A is too: a triangular solve, O(N^2). */
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (int)N, m, (int)N, c, 1);
    return 0;
}

void hippo_result_free(hippo_result *res)
{
    mem_free(res->A);
    mem_free(res->B);
    mem_free(res->Abar);
    mem_free(res->Bbar);
    mem_free(res->coefs);
    mem_free(res->recon);
    memset(res, 0, sizeof *res);
}

void hippo_reconstruct(double *out, const double *c, const hippo_cfg *cfg, size_t L, double *work)
{
    size_t N = cfg->N;
    for (size_t i = 0; i < L; i++) {
        double v = 0;
        if (cfg->measure == HIPPO_LAGT) {
            linalg_laguerre(work, (double)(L - 1 - i) * cfg->dt, N);
            for (size_t n = 0; n < N; n++)
                v += c[n] * work[n];
            out[i] = v;
            continue;
        }
        double s;
        if (cfg->measure == HIPPO_LEGS) {
            s = (double)(i + 1) / (double)L;
        } else {
            double t = (double)L * cfg->dt, x = (double)(i + 1) * cfg->dt;
            s = (x - (t - cfg->theta)) / cfg->theta;
            if (s < 0) {
                out[i] = NAN;
                continue;
            }
        }
        linalg_legendre(work, 2 * s - 1, N);
        for (size_t n = 0; n < N; n++)
            v += c[n] * sqrt(2.0 * (double)n + 1) * work[n];
        out[i] = v;
    }
}

int hippo_legs_exact(double *c, double (*g)(double s, void *ctx), void *ctx, size_t N, size_t m)
{
    double *x = mem_alloc((2 * m + N) * sizeof *x);
    if (!x)
        return TUTOR_ENOMEM;
    double *w = x + m, *p = w + m;
    linalg_gauss_legendre(x, w, m);
    memset(c, 0, N * sizeof *c);
    for (size_t j = 0; j < m; j++) {
        double gv = g(x[j], ctx) * w[j];
        linalg_legendre(p, 2 * x[j] - 1, N);
        for (size_t n = 0; n < N; n++)
            c[n] += gv * sqrt(2.0 * (double)n + 1) * p[n];
    }
    mem_free(x);
    return 0;
}

/* Index of the largest |c_n|: the quiz asks for it. */
static void trace_update(trace *tr, int line, size_t k, double f, const double *c, double c0_old,
                         size_t N)
{
    trace_step(tr, line, "k = %zu: c = Abar c + Bbar f[%zu] (f = %.4g): c[0] %.4g -> %.4g", k, k, f,
               c0_old, c[0]);
    trace_reals(tr, "c", c, N);
    trace_mark(tr, "f", (long)k - 1, -1, TRACE_CURRENT);
    trace_mark(tr, "c", 0, -1, TRACE_MOVE);
    if ((k & (k - 1)) == 0 && k >= 2) /* a question at k = 2, 4, 8...: a few per run */
        trace_quiz(tr, "Does c[0] go up (1) or down (0) with this sample?", c[0] > c0_old);
}

int hippo_run(hippo_result *res, const hippo_cfg *cfg, const double *f, size_t L, trace *tr)
{
    memset(res, 0, sizeof *res);
    size_t N = cfg->N;
    int legs = cfg->measure == HIPPO_LEGS;
    if (N == 0 || L == 0 || (unsigned)cfg->measure > HIPPO_LAGT || (unsigned)cfg->method > SSM_ZOH)
        return TUTOR_EINVAL;
    if (!legs && (!(cfg->dt > 0) || !isfinite(cfg->dt)))
        return TUTOR_EINVAL;
    if (cfg->measure == HIPPO_LEGT && (!(cfg->theta > 0) || !isfinite(cfg->theta)))
        return TUTOR_EINVAL;
    for (size_t i = 0; i < L; i++)
        if (!isfinite(f[i]))
            return TUTOR_EINVAL;
    res->N = N;
    res->L = L;
    int rc = TUTOR_ENOMEM;
    double *work = NULL, *c = NULL;
    res->A = mem_alloc(mem_mul(mem_mul(N, N), sizeof(double)));
    res->B = mem_alloc(mem_mul(N, sizeof(double)));
    res->coefs = mem_alloc(mem_mul(mem_mul(L, N), sizeof(double)));
    res->recon = mem_alloc(mem_mul(L, sizeof(double)));
    work = mem_alloc(mem_mul(mem_add(mem_mul(N + 1, N + 1), N), sizeof *work));
    c = mem_calloc(N, sizeof *c);
    if (!res->A || !res->B || !res->coefs || !res->recon || !work || !c)
        goto out;
    if (!legs) {
        res->Abar = mem_alloc(mem_mul(mem_mul(N, N), sizeof(double)));
        res->Bbar = mem_alloc(mem_mul(N, sizeof(double)));
        if (!res->Abar || !res->Bbar)
            goto out;
    }
    if (legs)
        hippo_legs_matrices(res->A, res->B, N);
    else if (cfg->measure == HIPPO_LEGT)
        hippo_legt_matrices(res->A, res->B, N, cfg->theta);
    else
        hippo_lagt_matrices(res->A, res->B, N);
    if (tr) {
        trace_step(tr, 1, "%s matrices, N = %zu", hippo_measure_name(cfg->measure), N);
        trace_matrix(tr, "A", res->A, N, N);
        trace_reals(tr, "B", res->B, N);
        trace_reals(tr, "f", f, L);
    }
    if (!legs) {
        rc = ssm_discretize(res->Abar, res->Bbar, res->A, res->B, N, cfg->dt, cfg->method);
        if (rc)
            goto out;
        if (tr) {
            trace_step(tr, 2, "%s discretisation with dt = %g", ssm_method_name(cfg->method),
                       cfg->dt);
            trace_matrix(tr, "Abar", res->Abar, N, N);
            trace_reals(tr, "Bbar", res->Bbar, N);
        }
    }
    if (tr) {
        trace_step(tr, legs ? 2 : 3, "c = 0: no history yet");
        trace_reals(tr, "c", c, N);
    }
    for (size_t k = 1; k <= L; k++) {
        double c0 = c[0];
        int traced = tr && ssm_trace_this(k - 1, L);
        if (legs) {
            if (traced && N > HIPPO_TRACE_ABAR_MAX) {
                trace_step(tr, 4, "k = %zu: discretise (A/%zu, B/%zu) (not shown for N > %d)", k, k,
                           k, HIPPO_TRACE_ABAR_MAX);
            } else if (traced) {
                /* The step's own Abar, Bbar, for display only (the step below never forms
                 * them on the fast path): the LTI discretisation with dt = 1/k, or
                 * ln((k+1)/k) over log-time for zoh. */
                double dtk = cfg->method == SSM_ZOH ? log1p(1.0 / (double)k) : 1.0 / (double)k;
                double *ab = work, *bb = work + N * N;
                rc = ssm_discretize(ab, bb, res->A, res->B, N, dtk, cfg->method);
                if (rc)
                    goto out;
                trace_step(tr, 4, "k = %zu: discretise (A/%zu, B/%zu)", k, k, k);
                trace_matrix(tr, "Abar", ab, N, N);
                trace_reals(tr, "Bbar", bb, N);
            }
            if (cfg->dense || cfg->method == SSM_ZOH)
                rc = hippo_legs_step_dense(c, res->A, res->B, f[k - 1], k, N, cfg->method, work);
            else
                rc = hippo_legs_step_fast(c, f[k - 1], k, N, cfg->method);
            if (rc)
                goto out;
        } else {
            mat_gemv(work, res->Abar, c, N, N, 0, 1.0, 0.0);
            for (size_t n = 0; n < N; n++)
                c[n] = work[n] + res->Bbar[n] * f[k - 1];
        }
        memcpy(res->coefs + (k - 1) * N, c, N * sizeof *c);
        if (traced) /* "c = Abar c + Bbar f[k]" is line 5 of both listings */
            trace_update(tr, 5, k, f[k - 1], c, c0, N);
    }
    hippo_reconstruct(res->recon, c, cfg, L, work);
    if (tr) {
        trace_step(tr, 6, "reconstruct the signal from the %zu final coefficients", N);
        trace_reals(tr, "reconstruction", res->recon, L);
    }
    rc = trace_status(tr);
out:
    mem_free(work);
    mem_free(c);
    if (rc)
        hippo_result_free(res);
    return rc;
}
