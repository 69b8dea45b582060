/* attn_linear.c: linear attention, Performer (FAVOR+) and NormAttention (see
 * attn_linear.h). */
#include "attn_linear.h"

#include <math.h>
#include <string.h>

#include "../trace/mem.h"
#include "../trace/status.h"
#include "mat.h"

/* Line numbers shared by the three listings: the kernel core below names them. */
enum {
    L_PHIQ = 1,
    L_PHIK = 2,
    L_SUMS = 3,   /* non-causal: S and z over all keys */
    L_OUT = 4,    /* non-causal: O from S and z */
    L_INIT = 5,   /* causal: S = 0, z = 0 */
    L_LOOP = 6,   /* for i = 1..n */
    L_UPDATE = 7, /* S += fk_i v_i^T, z += fk_i */
    L_ROW = 8,    /* o_i */
    L_SHOW = 9    /* the implied n x n matrix, for display */
};

const char *const attn_linear_listing[] = {
    "phiQ = phi(Q)   (elu + 1 or relu)",
    "phiK = phi(K)",
    "S = phiK^T V;  z = phiK^T 1",
    "O = phiQ S / (phiQ z + 1e-6)",
    "causal: S = 0 (d x dv), z = 0 (d)",
    "for i = 0..n-1:",
    "    S += phi(k_i) v_i^T; z += phi(k_i)",
    "    o_i = phi(q_i)^T S / (phi(q_i).z + eps)",
    "A = phiQ phiK^T / normaliser (display)",
};
const size_t attn_linear_listing_len = sizeof attn_linear_listing / sizeof attn_linear_listing[0];

const char *const attn_performer_listing[] = {
    "x' = x / d^(1/4); W is m x d",
    "phi(x) = exp(W x' - |x'|^2/2) / sqrt(m)",
    "S = phiK^T V;  z = phiK^T 1",
    "O = phiQ S / (phiQ z)",
    "causal: S = 0 (m x dv), z = 0 (m)",
    "for i = 0..n-1:",
    "    S += phi(k_i) v_i^T; z += phi(k_i)",
    "    o_i = phi(q_i)^T S / (phi(q_i) . z)",
    "error = A - softmax(Q K^T / sqrt(d))",
};
const size_t attn_performer_listing_len =
    sizeof attn_performer_listing / sizeof attn_performer_listing[0];

const char *const attn_norm_listing[] = {
    "phiQ = 1 + elu(Q)",
    "phiK = 1 + elu(K)",
    "S = phiK^T V   (no denominator)",
    "O = RMSNorm(phiQ S)",
    "causal: S = 0 (d x dv)",
    "for i = 0..n-1:",
    "    S += phi(k_i) v_i^T",
    "    o_i = RMSNorm(phi(q_i)^T S)",
    "A = phiQ phiK^T (display only)",
};
const size_t attn_norm_listing_len = sizeof attn_norm_listing / sizeof attn_norm_listing[0];

static void rms_norm_row(double *x, size_t dv)
{
    double norm = sqrt(mat_dot(x, x, dv));
    double scale = 1.0 / (norm / sqrt((double)dv) + ATTN_RMS_EPS);
    for (size_t t = 0; t < dv; t++)
        x[t] *= scale;
}

/* Returns the j <= last maximising fq_i . fk_j: the key S weighs most for this query, which
 * the recurrence never computes itself (it only sees the sums). O(last r), traced runs only. */
static size_t strongest_key(const double *fqi, const double *fk, size_t last, size_t r)
{
    size_t best = 0;
    double top = mat_dot(fqi, fk, r);
    for (size_t j = 1; j <= last; j++) {
        double w = mat_dot(fqi, fk + j * r, r);
        if (w > top) {
            top = w;
            best = j;
        }
    }
    return best;
}

/* The shared core. o (n, dv), den (n: fq_i . z, unused when rms), fq (n, r), fk (n, r),
 * v (n, dv). rms: NormAttention's RMSNorm instead of the division by den + eps. */
static int kernel_attn(double *o, double *den, const double *fq, const double *fk, const double *v,
                       size_t n, size_t r, size_t dv, int causal, int rms, double eps, trace *tr)
{
    double *s = mat_new(r, dv), *z = mat_new(r, 1);
    /* TUTOR_ERANGE: a normaliser underflowed to 0 (only possible without eps, i.e. FAVOR+
     * on huge scores); the output row is then NaN and the caller must not use it. */
    int rc = 0;
    if (!s || !z) {
        mat_free(s);
        mat_free(z);
        return TUTOR_ENOMEM;
    }
    if (!causal) {
        /* Pass 2: S = fk^T v and z = fk^T 1, once for every query. */
        mat_gemm(s, fk, v, r, dv, n, 1, 0, 1.0, 0.0);
        for (size_t j = 0; j < n; j++)
            mat_axpy(z, 1.0, fk + j * r, r);
        if (tr) {
            trace_step(tr, L_SUMS, "S sums all %zu keys' outer products: %zu x %zu", n, r, dv);
            attn_snap(tr, "S", s, r, dv);
            if (!rms)
                attn_snap(tr, "z", z, 1, r);
        }
        /* Pass 3: every query reads S (and z): O(n r dv), no n x n matrix. */
        mat_gemm(o, fq, s, n, dv, r, 0, 0, 1.0, 0.0);
        if (!rms) {
            mat_gemv(den, fq, z, n, r, 0, 1.0, 0.0);
            for (size_t i = 0; i < n; i++) {
                if (!(den[i] + eps > 0.0))
                    rc = TUTOR_ERANGE;
                for (size_t t = 0; t < dv; t++)
                    o[i * dv + t] /= den[i] + eps;
            }
        } else {
            for (size_t i = 0; i < n; i++)
                rms_norm_row(o + i * dv, dv);
        }
        if (tr) {
            trace_step(tr, L_OUT,
                       rms ? "O = RMSNorm(phiQ S), row by row"
                           : "O = phiQ S, each row divided by its normaliser");
            if (!rms)
                attn_snap(tr, "normaliser", den, n, 1);
            attn_snap(tr, "O", o, n, dv);
        }
    } else {
        memset(o, 0, n * dv * sizeof *o);
        if (tr) {
            trace_step(tr, L_INIT, "causal: the state is %zu x %zu, whatever n is", r, dv);
            attn_snap(tr, "S", s, r, dv);
            if (!rms)
                attn_snap(tr, "z", z, 1, r);
        }
        for (size_t i = 0; i < n; i++) {
            /* Pass 2 (step i): fold key i into the running sums. */
            mat_ger(s, 1.0, fk + i * r, v + i * dv, r, dv);
            if (!rms)
                mat_axpy(z, 1.0, fk + i * r, r);
            /* Pass 3 (step i): o_i = S^T fq_i, then divide or normalise. */
            mat_gemv(o + i * dv, s, fq + i * r, r, dv, 1, 1.0, 0.0);
            if (!rms) {
                den[i] = mat_dot(fq + i * r, z, r);
                if (!(den[i] + eps > 0.0))
                    rc = TUTOR_ERANGE;
                for (size_t t = 0; t < dv; t++)
                    o[i * dv + t] /= den[i] + eps;
            } else {
                rms_norm_row(o + i * dv, dv);
            }
            if (tr && i < ATTN_TRACE_ROWS) {
                trace_step(tr, L_UPDATE, "step %zu: add phi(k_%zu) v_%zu^T to S", i, i, i);
                attn_snap(tr, "S", s, r, dv);
                if (!rms)
                    attn_snap(tr, "z", z, 1, r);
                size_t best = strongest_key(fq + i * r, fk, i, r);
                if (rms)
                    trace_step(tr, L_ROW,
                               "step %zu: o_%zu = RMSNorm(phi(q_%zu)^T S); key %zu weighs most", i,
                               i, i, best);
                else
                    trace_step(tr, L_ROW,
                               "step %zu: o_%zu = phi(q_%zu)^T S / %.4g; key %zu weighs most", i, i,
                               i, den[i] + eps, best);
                attn_snap(tr, "O", o, n, dv);
                trace_mark(tr, "O", (long)i, 0, TRACE_MOVE);
                trace_quiz(tr, "Which key j <= i has the largest weight phi(q_i) . phi(k_j)?",
                           (int64_t)best);
            }
        }
        if (tr) {
            if (n > ATTN_TRACE_ROWS)
                trace_step(tr, L_LOOP, "steps %d..%zu the same way (not recorded one by one)",
                           ATTN_TRACE_ROWS, n - 1);
            else
                trace_step(tr, L_LOOP, "all %zu steps done", n);
            /* State is inherited: S, z and O changed since they were last recorded only when
             * steps went unrecorded. */
            if (n > ATTN_TRACE_ROWS) {
                attn_snap(tr, "S", s, r, dv);
                if (!rms)
                    attn_snap(tr, "z", z, 1, r);
                attn_snap(tr, "O", o, n, dv);
            }
            if (!rms)
                attn_snap(tr, "normaliser", den, n, 1);
        }
    }
    mat_free(s);
    mat_free(z);
    return rc;
}

/* a (n, n) = fq fk^T, masked when causal; divided row-wise by den + eps when den is given. */
static void implied_matrix(double *a, const double *fq, const double *fk, const double *den,
                           size_t n, size_t r, int causal, double eps)
{
    mat_gemm(a, fq, fk, n, n, r, 0, 1, 1.0, 0.0);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            if (causal && j > i)
                a[i * n + j] = 0.0;
            else if (den)
                a[i * n + j] /= den[i] + eps;
        }
}

/* Records the implied attention matrix when n is small (allocating it only then). */
static int trace_implied(trace *tr, const double *fq, const double *fk, const double *den, size_t n,
                         size_t r, int causal, double eps, const char *msg)
{
    if (!tr || !attn_small(n, n))
        return 0;
    double *a = mat_new(n, n);
    if (!a)
        return TUTOR_ENOMEM;
    implied_matrix(a, fq, fk, den, n, r, causal, eps);
    trace_step(tr, L_SHOW, "%s", msg);
    attn_snap(tr, "A", a, n, n);
    mat_free(a);
    return 0;
}

/* ---- linear ---- */

/* fq (n, d), fk (n, d) = phi of q and k. */
static void features(double *fq, double *fk, const double *q, const double *k, size_t n, size_t d,
                     attn_fmap fmap)
{
    attn_phi(fq, q, n * d, fmap);
    attn_phi(fk, k, n * d, fmap);
}

int attn_linear(double *o, const double *q, const double *k, const double *v, size_t n, size_t d,
                size_t dv, attn_fmap fmap, int causal, trace *tr)
{
    if (!n || !d || !dv)
        return TUTOR_EINVAL;
    double *fq = mat_new(n, d), *fk = mat_new(n, d), *den = mat_new(n, 1);
    int rc = TUTOR_ENOMEM;
    if (!fq || !fk || !den)
        goto out;
    /* Pass 1: the feature maps. */
    features(fq, fk, q, k, n, d, fmap);
    if (tr) {
        trace_step(tr, L_PHIQ, "phiQ = phi(Q), phi = %s", fmap == ATTN_RELU ? "relu" : "elu + 1");
        attn_snap(tr, "phiQ", fq, n, d);
        attn_snap_inputs(tr, q, k, v, n, d, dv);
        trace_step(tr, L_PHIK, "phiK = phi(K)");
        attn_snap(tr, "phiK", fk, n, d);
    }
    rc = kernel_attn(o, den, fq, fk, v, n, d, dv, causal, 0, ATTN_LINEAR_EPS, tr);
    if (!rc)
        rc = trace_implied(tr, fq, fk, den, n, d, causal, ATTN_LINEAR_EPS,
                           "the implied attention matrix (rows sum to about 1)");
    if (!rc)
        rc = trace_status(tr);
out:
    mat_free(fq);
    mat_free(fk);
    mat_free(den);
    return rc;
}

int attn_linear_probs(double *a, const double *q, const double *k, size_t n, size_t d,
                      attn_fmap fmap, int causal)
{
    if (!n || !d)
        return TUTOR_EINVAL;
    double *fq = mat_new(n, d), *fk = mat_new(n, d);
    if (!fq || !fk) {
        mat_free(fq);
        mat_free(fk);
        return TUTOR_ENOMEM;
    }
    features(fq, fk, q, k, n, d, fmap);
    implied_matrix(a, fq, fk, NULL, n, d, causal, 0.0);
    for (size_t i = 0; i < n; i++) {
        double sum = 0.0;
        for (size_t j = 0; j < n; j++)
            sum += a[i * n + j];
        for (size_t j = 0; j < n; j++)
            a[i * n + j] /= sum + ATTN_LINEAR_EPS;
    }
    mat_free(fq);
    mat_free(fk);
    return 0;
}

static double phi1(double x, attn_fmap fmap)
{
    double y;
    attn_phi(&y, &x, 1, fmap);
    return y;
}

int attn_linear_slow(double *o, const double *q, const double *k, const double *v, size_t n,
                     size_t d, size_t dv, attn_fmap fmap, int causal)
{
    if (!n || !d || !dv)
        return TUTOR_EINVAL;
    for (size_t i = 0; i < n; i++) {
        double den = 0.0;
        for (size_t t = 0; t < dv; t++)
            o[i * dv + t] = 0.0;
        for (size_t j = 0; j < n && (!causal || j <= i); j++) {
            double a = 0.0;
            for (size_t t = 0; t < d; t++)
                a += phi1(q[i * d + t], fmap) * phi1(k[j * d + t], fmap);
            den += a;
            for (size_t t = 0; t < dv; t++)
                o[i * dv + t] += a * v[j * dv + t];
        }
        for (size_t t = 0; t < dv; t++)
            o[i * dv + t] /= den + ATTN_LINEAR_EPS;
    }
    return 0;
}

/* ---- Performer ---- */

int attn_orf(double *w, size_t m, size_t d, rng *r)
{
    if (!m || !d)
        return TUTOR_EINVAL;
    double *g = mat_new(d, d), *qm = mat_new(d, d);
    int rc = TUTOR_ENOMEM;
    if (!g || !qm)
        goto out;
    for (size_t b = 0; b < m; b += d) {
        size_t rows = m - b < d ? m - b : d;
        /* Pass 1: an orthonormal block: the columns of Q are orthonormal, so are the rows
         * of Q^T, which become the block's feature rows. */
        mat_gauss(g, d * d, r, 1.0);
        rc = mat_qr(qm, NULL, g, d, d);
        if (rc)
            goto out;
        /* Pass 2: lengths like those of Gaussian rows (chi with d degrees of freedom), so
         * the estimator stays unbiased while the directions stay orthogonal. */
        for (size_t t = 0; t < rows; t++) {
            double len = 0.0;
            for (size_t u = 0; u < d; u++) {
                double x = rng_gauss(r);
                len += x * x;
            }
            len = sqrt(len);
            for (size_t u = 0; u < d; u++)
                w[(b + t) * d + u] = len * qm[u * d + t];
        }
    }
    rc = 0;
out:
    mat_free(g);
    mat_free(qm);
    return rc;
}

int attn_favor_features(double *phi, const double *x, const double *w, size_t n, size_t d, size_t m,
                        int per_row)
{
    if (!n || !d || !m)
        return TUTOR_EINVAL;
    double scale = pow((double)d, -0.25);
    /* Pass 1: phi = (x' W^T), with x' = x d^(-1/4) folded into the product's alpha. */
    mat_gemm(phi, x, w, n, m, d, 0, 1, scale, 0.0);
    /* Pass 2: the exponents w . x' - |x'|^2 / 2. */
    for (size_t i = 0; i < n; i++) {
        double half = 0.5 * scale * scale * mat_dot(x + i * d, x + i * d, d);
        for (size_t t = 0; t < m; t++)
            phi[i * m + t] -= half;
    }
    /* Pass 3: the stabiliser, taken over the whole exponent (|x'|^2 / 2 included, which for
     * a query is itself a per-row constant): the largest feature becomes exactly 1/sqrt(m),
     * so exp neither overflows nor underflows to an all-zero row for large inputs. */
    double global = -INFINITY;
    if (!per_row)
        for (size_t i = 0; i < n * m; i++)
            global = phi[i] > global ? phi[i] : global;
    double norm = 1.0 / sqrt((double)m);
    for (size_t i = 0; i < n; i++) {
        double c = global;
        if (per_row) {
            c = -INFINITY;
            for (size_t t = 0; t < m; t++)
                c = phi[i * m + t] > c ? phi[i * m + t] : c;
        }
        for (size_t t = 0; t < m; t++)
            phi[i * m + t] = norm * exp(phi[i * m + t] - c);
    }
    return 0;
}

int attn_performer(double *o, const double *q, const double *k, const double *v, const double *w,
                   size_t n, size_t d, size_t dv, size_t m, int causal, trace *tr)
{
    if (!n || !d || !dv || !m)
        return TUTOR_EINVAL;
    double *fq = mat_new(n, m), *fk = mat_new(n, m), *den = mat_new(n, 1);
    double *a = NULL, *p = NULL;
    int rc = TUTOR_ENOMEM;
    if (!fq || !fk || !den)
        goto out;
    /* Pass 1: positive random features of the queries and the keys. */
    if ((rc = attn_favor_features(fq, q, w, n, d, m, 1)) != 0 ||
        (rc = attn_favor_features(fk, k, w, n, d, m, 0)) != 0)
        goto out;
    if (tr) {
        trace_step(tr, L_PHIQ, "%zu random features of dimension %zu", m, d);
        attn_snap(tr, "W", w, m, d);
        attn_snap_inputs(tr, q, k, v, n, d, dv);
        trace_step(tr, L_PHIK, "phiQ (%zu x %zu) and phiK: positive features", n, m);
        attn_snap(tr, "phiQ", fq, n, m);
        attn_snap(tr, "phiK", fk, n, m);
    }
    /* Pass 2: the kernel core; FAVOR+ needs no eps (its features are positive). */
    if ((rc = kernel_attn(o, den, fq, fk, v, n, m, dv, causal, 0, 0.0, tr)) != 0)
        goto out;
    /* Pass 3 (display): the approximation against exact softmax attention. */
    if (tr && attn_small(n, n)) {
        rc = TUTOR_ENOMEM;
        if (!(a = mat_new(n, n)) || !(p = mat_new(n, n)))
            goto out;
        implied_matrix(a, fq, fk, den, n, m, causal, 0.0);
        attn_softmax_probs(p, q, k, n, d, causal);
        double worst = mat_max_abs_diff(a, p, n * n);
        trace_step(tr, L_SHOW, "largest |A - P_exact| = %.3g with m = %zu features", worst, m);
        attn_snap(tr, "A", a, n, n);
        attn_snap(tr, "P_exact", p, n, n);
        for (size_t i = 0; i < n * n; i++)
            a[i] -= p[i];
        attn_snap(tr, "error", a, n, n);
        trace_real(tr, "max_error", worst);
    }
    rc = trace_status(tr);
out:
    mat_free(fq);
    mat_free(fk);
    mat_free(den);
    mat_free(a);
    mat_free(p);
    return rc;
}

int attn_performer_probs(double *a, const double *q, const double *k, const double *w, size_t n,
                         size_t d, size_t m, int causal)
{
    if (!n || !d || !m)
        return TUTOR_EINVAL;
    double *fq = mat_new(n, m), *fk = mat_new(n, m);
    int rc = TUTOR_ENOMEM;
    if (!fq || !fk)
        goto out;
    if ((rc = attn_favor_features(fq, q, w, n, d, m, 1)) != 0 ||
        (rc = attn_favor_features(fk, k, w, n, d, m, 0)) != 0)
        goto out;
    implied_matrix(a, fq, fk, NULL, n, m, causal, 0.0);
    for (size_t i = 0; i < n; i++) {
        double sum = 0.0;
        for (size_t j = 0; j < n; j++)
            sum += a[i * n + j];
        for (size_t j = 0; j < n; j++)
            a[i * n + j] /= sum;
    }
out:
    mat_free(fq);
    mat_free(fk);
    return rc;
}

/* phi (m) of one row x (d), the textbook formula: no stabiliser. */
static void favor_row(double *phi, const double *x, const double *w, size_t d, size_t m)
{
    double scale = pow((double)d, -0.25), sq = 0.0;
    for (size_t t = 0; t < d; t++)
        sq += (x[t] * scale) * (x[t] * scale);
    for (size_t f = 0; f < m; f++) {
        double dot = 0.0;
        for (size_t t = 0; t < d; t++)
            dot += w[f * d + t] * x[t] * scale;
        phi[f] = exp(dot - sq / 2) / sqrt((double)m);
    }
}

int attn_performer_slow(double *o, const double *q, const double *k, const double *v,
                        const double *w, size_t n, size_t d, size_t dv, size_t m, int causal)
{
    if (!n || !d || !dv || !m)
        return TUTOR_EINVAL;
    double *fq = mat_new(m, 1), *fk = mat_new(m, 1);
    if (!fq || !fk) {
        mat_free(fq);
        mat_free(fk);
        return TUTOR_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        favor_row(fq, q + i * d, w, d, m);
        double den = 0.0;
        for (size_t t = 0; t < dv; t++)
            o[i * dv + t] = 0.0;
        for (size_t j = 0; j < n && (!causal || j <= i); j++) {
            favor_row(fk, k + j * d, w, d, m);
            double a = 0.0;
            for (size_t f = 0; f < m; f++)
                a += fq[f] * fk[f];
            den += a;
            for (size_t t = 0; t < dv; t++)
                o[i * dv + t] += a * v[j * dv + t];
        }
        for (size_t t = 0; t < dv; t++)
            o[i * dv + t] /= den;
    }
    mat_free(fq);
    mat_free(fk);
    return 0;
}

/* ---- NormAttention ---- */

int attn_norm(double *o, const double *q, const double *k, const double *v, size_t n, size_t d,
              size_t dv, int causal, trace *tr)
{
    if (!n || !d || !dv)
        return TUTOR_EINVAL;
    double *fq = mat_new(n, d), *fk = mat_new(n, d);
    int rc = TUTOR_ENOMEM;
    if (!fq || !fk)
        goto out;
    features(fq, fk, q, k, n, d, ATTN_ELU1);
    if (tr) {
        trace_step(tr, L_PHIQ, "phiQ = 1 + elu(Q)");
        attn_snap(tr, "phiQ", fq, n, d);
        attn_snap_inputs(tr, q, k, v, n, d, dv);
        trace_step(tr, L_PHIK, "phiK = 1 + elu(K)");
        attn_snap(tr, "phiK", fk, n, d);
    }
    rc = kernel_attn(o, NULL, fq, fk, v, n, d, dv, causal, 1, 0.0, tr);
    if (!rc)
        rc = trace_implied(tr, fq, fk, NULL, n, d, causal, 0.0,
                           "A = phiQ phiK^T: unnormalised, RMSNorm fixes the scale instead");
    if (!rc)
        rc = trace_status(tr);
out:
    mat_free(fq);
    mat_free(fk);
    return rc;
}

int attn_norm_slow(double *o, const double *q, const double *k, const double *v, size_t n, size_t d,
                   size_t dv, int causal)
{
    if (!n || !d || !dv)
        return TUTOR_EINVAL;
    for (size_t i = 0; i < n; i++) {
        for (size_t t = 0; t < dv; t++)
            o[i * dv + t] = 0.0;
        for (size_t j = 0; j < n && (!causal || j <= i); j++) {
            double a = 0.0;
            for (size_t t = 0; t < d; t++)
                a += phi1(q[i * d + t], ATTN_ELU1) * phi1(k[j * d + t], ATTN_ELU1);
            for (size_t t = 0; t < dv; t++)
                o[i * dv + t] += a * v[j * dv + t];
        }
        double sq = 0.0;
        for (size_t t = 0; t < dv; t++)
            sq += o[i * dv + t] * o[i * dv + t];
        double denom = sqrt(sq) / sqrt((double)dv) + ATTN_RMS_EPS;
        for (size_t t = 0; t < dv; t++)
            o[i * dv + t] /= denom;
    }
    return 0;
}
