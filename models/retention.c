#include "retention.h"

#include <math.h>
#include <string.h>

#include "../trace/mem.h"
#include "../trace/status.h"
#include "mat.h"
#include "ssm.h"

const char *const retention_listing[] = {
    "parallel: Dm[i][j] = gamma^(i-j) if i >= j else 0              (L x L)",
    "    P = (Q K^T) .* Dm                                            (L x L)",
    "    O = P V                                                      (L x dv)",
    "recurrent: S = 0                                                 (d x dv)",
    "for n = 1 .. L:  S = gamma S + K[n]^T V[n]",
    "    O[n] = Q[n] S",
};
const size_t retention_listing_len = sizeof retention_listing / sizeof retention_listing[0];

static int bad(double gamma, size_t L, size_t d, size_t dv)
{
    return !(gamma >= 0 && gamma <= 1) || L == 0 || d == 0 || dv == 0;
}

int retention_parallel(double *O, const double *Q, const double *K, const double *V, double gamma,
                       size_t L, size_t d, size_t dv, trace *tr)
{
    if (bad(gamma, L, d, dv))
        return TUTOR_EINVAL;
    double *p = mem_alloc(mem_mul(mem_mul(L, L), sizeof *p));
    if (!p)
        return TUTOR_ENOMEM;
    mat_gemm(p, Q, K, L, L, d, 0, 1, 1.0, 0.0);
    if (tr) {
        trace_step(tr, 1, "Q K^T: every query against every key");
        trace_matrix(tr, "QK^T", p, L, L);
    }
    /* The decay mask, row by row: gamma^(i-j) from the diagonal leftwards; the powers are
     * built by repeated products, which underflow gracefully to 0 for long distances. */
    for (size_t i = 0; i < L; i++) {
        double g = 1;
        for (size_t j = i + 1; j-- > 0;) {
            p[i * L + j] *= g;
            g *= gamma;
        }
        for (size_t j = i + 1; j < L; j++)
            p[i * L + j] = 0;
    }
    if (tr) {
        trace_step(tr, 2, "P = QK^T .* Dm: causal, and older keys decayed by gamma^(i-j)");
        trace_matrix(tr, "P", p, L, L);
        trace_mark(tr, "P", (long)L - 1, 0, TRACE_CURRENT);
        trace_quiz(tr, "How many entries of the last row of Dm are nonzero (gamma > 0)?",
                   gamma > 0 ? (int64_t)L : 1);
    }
    mat_gemm(O, p, V, L, dv, L, 0, 0, 1.0, 0.0);
    if (tr) {
        trace_step(tr, 3, "O = P V");
        trace_matrix(tr, "O", O, L, dv);
    }
    mem_free(p);
    return trace_status(tr);
}

int retention_recurrent(double *O, const double *Q, const double *K, const double *V, double gamma,
                        size_t L, size_t d, size_t dv, trace *tr)
{
    if (bad(gamma, L, d, dv))
        return TUTOR_EINVAL;
    double *S = mem_calloc(mem_mul(d, dv), sizeof *S);
    if (!S)
        return TUTOR_ENOMEM;
    if (tr) {
        trace_step(tr, 4, "S = 0: a %zu x %zu state, whatever the length", d, dv);
        trace_matrix(tr, "S", S, d, dv);
    }
    for (size_t n = 0; n < L; n++) {
        for (size_t i = 0; i < d * dv; i++)
            S[i] *= gamma;
        mat_ger(S, 1.0, K + n * d, V + n * dv, d, dv);
        mat_gemv(O + n * dv, S, Q + n * d, d, dv, 1, 1.0, 0.0); /* O_n = S^T Q_n */
        if (tr && ssm_trace_this(n, L)) {
            trace_step(tr, 5, "n = %zu: S = gamma S + K[n]^T V[n]", n + 1);
            trace_matrix(tr, "S", S, d, dv);
            trace_step(tr, 6, "O[%zu] = Q[%zu] S", n + 1, n + 1);
            trace_matrix(tr, "O", O, n + 1, dv);
            trace_mark(tr, "O", (long)n, 0, TRACE_MOVE);
        }
    }
    mem_free(S);
    return trace_status(tr);
}
