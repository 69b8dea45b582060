/* flow.c: rectified flow on a Gaussian mixture: the exact field, Euler and Heun sampling,
 * guidance, quality measures and an EM fit (see flow.h). */
#include "flow.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../trace/mem.h"
#include "../trace/status.h"
#include "mat.h"

#define LOG_2PI 1.8378770664093454836

/* ---- mixtures ---- */

void flow_mixture_free(flow_mixture *m)
{
    if (!m)
        return;
    mem_free(m->weight);
    mem_free(m->mean);
    mem_free(m->sigma);
    memset(m, 0, sizeof *m);
}

static int mixture_ok(const flow_mixture *m)
{
    return m && m->k && m->d && m->weight && m->mean && m->sigma;
}

int flow_mixture_set(flow_mixture *m, const double *weight, const double *mean, const double *sigma,
                     size_t k, size_t d)
{
    memset(m, 0, sizeof *m);
    if (!k || !d)
        return TUTOR_EINVAL;
    if (k > FLOW_MAX_COMPONENTS || d > FLOW_MAX_DIM)
        return TUTOR_ETOOBIG;
    double total = 0.0;
    for (size_t j = 0; j < k; j++) {
        if (!isfinite(weight[j]) || !(weight[j] > 0.0) || !isfinite(sigma[j]) ||
            !(sigma[j] >= FLOW_SIGMA_MIN))
            return TUTOR_EINVAL;
        total += weight[j];
        for (size_t i = 0; i < d; i++)
            if (!isfinite(mean[j * d + i]))
                return TUTOR_EINVAL;
    }
    if (!isfinite(total))
        return TUTOR_EINVAL;
    m->weight = mem_alloc(k * sizeof *m->weight);
    m->sigma = mem_alloc(k * sizeof *m->sigma);
    m->mean = mat_dup(mean, k, d);
    if (!m->weight || !m->sigma || !m->mean) {
        flow_mixture_free(m);
        return TUTOR_ENOMEM;
    }
    for (size_t j = 0; j < k; j++) {
        m->weight[j] = weight[j] / total;
        m->sigma[j] = sigma[j];
    }
    m->k = k;
    m->d = d;
    return 0;
}

int flow_mixture_default(flow_mixture *m, size_t k, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    if (!k)
        return TUTOR_EINVAL;
    if (k > FLOW_MAX_COMPONENTS)
        return TUTOR_ETOOBIG;
    double w[FLOW_MAX_COMPONENTS], s[FLOW_MAX_COMPONENTS], mu[2 * FLOW_MAX_COMPONENTS];
    rng r;
    rng_seed(&r, seed);
    double spacing = 2.0 * M_PI / (double)k;
    for (size_t j = 0; j < k; j++) {
        double angle = spacing * ((double)j + 0.5 * (rng_uniform(&r) - 0.5));
        mu[2 * j] = 3.0 * cos(angle);
        mu[2 * j + 1] = 3.0 * sin(angle);
        s[j] = 0.25 + 0.25 * rng_uniform(&r);
        w[j] = 0.5 + rng_uniform(&r);
    }
    return flow_mixture_set(m, w, mu, s, k, 2);
}

int flow_mixture_load(flow_mixture *out, const char *path, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (errlen)
        err[0] = '\0';
    double *a = NULL;
    size_t rows = 0, cols = 0;
    int rc = mat_load(path, (size_t)4 * (FLOW_MAX_COMPONENTS + 1), &a, &rows, &cols, err, errlen);
    if (rc == TUTOR_ETOOBIG) {
        snprintf(err, errlen, "%s: more than %d components", path, FLOW_MAX_COMPONENTS);
        return rc;
    }
    if (rc)
        return rc;
    if (cols != 4) {
        snprintf(err, errlen, "%s: %zu values per row; expected 4 (weight mu_x mu_y sigma)", path,
                 cols);
        rc = TUTOR_ESHAPE;
    } else if (rows > FLOW_MAX_COMPONENTS) {
        snprintf(err, errlen, "%s: %zu components; at most %d", path, rows, FLOW_MAX_COMPONENTS);
        rc = TUTOR_ETOOBIG;
    }
    double w[FLOW_MAX_COMPONENTS], s[FLOW_MAX_COMPONENTS], mu[2 * FLOW_MAX_COMPONENTS];
    for (size_t j = 0; !rc && j < rows; j++) {
        w[j] = a[4 * j];
        mu[2 * j] = a[4 * j + 1];
        mu[2 * j + 1] = a[4 * j + 2];
        s[j] = a[4 * j + 3];
        /* mat_load has already refused non-finite values; rows are counted among the
         * data rows (comments and blank lines skipped). */
        if (!(w[j] > 0.0)) {
            snprintf(err, errlen, "%s: component %zu: weight %g; expected > 0", path, j + 1, w[j]);
            rc = TUTOR_EINVAL;
        } else if (!(s[j] >= FLOW_SIGMA_MIN)) {
            snprintf(err, errlen, "%s: component %zu: sigma %g; expected > 0", path, j + 1, s[j]);
            rc = TUTOR_EINVAL;
        }
    }
    mat_free(a);
    if (!rc) {
        rc = flow_mixture_set(out, w, mu, s, rows, 2);
        if (rc)
            snprintf(err, errlen, "%s: %s", path, status_strerror(rc));
    }
    return rc;
}

int flow_mixture_class(flow_mixture *out, const flow_mixture *m, const size_t *members,
                       size_t count)
{
    memset(out, 0, sizeof *out);
    if (!mixture_ok(m) || !count || count > m->k)
        return TUTOR_EINVAL;
    double w[FLOW_MAX_COMPONENTS], s[FLOW_MAX_COMPONENTS];
    unsigned char seen[FLOW_MAX_COMPONENTS] = {0};
    for (size_t c = 0; c < count; c++) {
        if (members[c] >= m->k || seen[members[c]])
            return TUTOR_EINVAL;
        seen[members[c]] = 1;
    }
    double *mu = mat_new(count, m->d);
    if (!mu)
        return TUTOR_ENOMEM;
    for (size_t c = 0; c < count; c++) {
        w[c] = m->weight[members[c]];
        s[c] = m->sigma[members[c]];
        memcpy(mu + c * m->d, m->mean + members[c] * m->d, m->d * sizeof *mu);
    }
    int rc = flow_mixture_set(out, w, mu, s, count, m->d);
    mat_free(mu);
    return rc;
}

static int points_ok(size_t n, size_t d)
{
    if (n > FLOW_MAX_PARTICLES || d > FLOW_MAX_DIM || n * d > FLOW_MAX_VALUES)
        return TUTOR_ETOOBIG;
    return 0;
}

int flow_mixture_sample(double *x, int *comp, const flow_mixture *m, size_t n, rng *r)
{
    if (!mixture_ok(m))
        return TUTOR_EINVAL;
    if (points_ok(n, m->d))
        return TUTOR_ETOOBIG;
    for (size_t p = 0; p < n; p++) {
        /* Inverse CDF over the weights; the last component takes any rounding slack. */
        double u = rng_uniform(r), acc = 0.0;
        size_t j = 0;
        for (; j + 1 < m->k; j++) {
            acc += m->weight[j];
            if (u < acc)
                break;
        }
        if (comp)
            comp[p] = (int)j;
        for (size_t i = 0; i < m->d; i++)
            x[p * m->d + i] = m->mean[j * m->d + i] + m->sigma[j] * rng_gauss(r);
    }
    return 0;
}

void flow_mixture_moments(double *mean, double *cov, const flow_mixture *m)
{
    size_t d = m->d;
    for (size_t i = 0; i < d; i++)
        mean[i] = 0.0;
    for (size_t j = 0; j < m->k; j++)
        mat_axpy(mean, m->weight[j], m->mean + j * d, d);
    if (!cov)
        return;
    for (size_t i = 0; i < d * d; i++)
        cov[i] = 0.0;
    for (size_t j = 0; j < m->k; j++) {
        const double *mu = m->mean + j * d;
        for (size_t i = 0; i < d; i++)
            cov[i * d + i] += m->weight[j] * m->sigma[j] * m->sigma[j];
        mat_ger(cov, m->weight[j], mu, mu, d, d);
    }
    mat_ger(cov, -1.0, mean, mean, d, d);
}

/* Returns log(sum_j exp(l_j)) over k values, stably: the largest term factors out, so the
 * largest exponent is exp(0) = 1. */
static double log_sum_exp(const double *l, size_t k)
{
    double mx = -INFINITY;
    for (size_t j = 0; j < k; j++)
        mx = l[j] > mx ? l[j] : mx;
    if (mx == -INFINITY)
        return mx;
    double sum = 0.0;
    for (size_t j = 0; j < k; j++)
        sum += exp(l[j] - mx);
    return mx + log(sum);
}

/* Squared distance between a and b over d values. */
static double dist2(const double *a, const double *b, size_t d)
{
    double s = 0.0;
    for (size_t i = 0; i < d; i++) {
        double e = a[i] - b[i];
        s += e * e;
    }
    return s;
}

/* l (k values) = log pi_j + log N(x; scale mu_j, var_j I) with var_j = s2[j]. */
static void log_terms(double *l, const flow_mixture *m, const double *x, double scale,
                      const double *s2)
{
    size_t d = m->d;
    for (size_t j = 0; j < m->k; j++) {
        const double *mu = m->mean + j * d;
        double e2 = 0.0;
        for (size_t i = 0; i < d; i++) {
            double e = x[i] - scale * mu[i];
            e2 += e * e;
        }
        l[j] = log(m->weight[j]) - 0.5 * (double)d * (LOG_2PI + log(s2[j])) - 0.5 * e2 / s2[j];
    }
}

int flow_mixture_loglik(double *ll, const flow_mixture *m, const double *x, size_t n)
{
    if (!mixture_ok(m) || !n)
        return TUTOR_EINVAL;
    double l[FLOW_MAX_COMPONENTS], s2[FLOW_MAX_COMPONENTS];
    for (size_t j = 0; j < m->k; j++)
        s2[j] = m->sigma[j] * m->sigma[j];
    double total = 0.0;
    for (size_t p = 0; p < n; p++) {
        log_terms(l, m, x + p * m->d, 1.0, s2);
        total += log_sum_exp(l, m->k);
    }
    *ll = total / (double)n;
    return 0;
}

/* ---- the exact field ---- */

/* Listing lines stay within 33 characters, what the UI's listing pane shows at 80 columns;
 * the full formulas are in flow.h and the notes. */
const char *const flow_velocity_listing[] = {
    "for each component k:",
    "  s2[k] = t^2 sigma_k^2+(1-t)^2",
    "  logw[k] = log pi_k + log N_k(x)",
    "w = softmax(logw)  (log-sum-exp)",
    "v = sum_k w[k] E[x1-x0 | x, k]",
};
const size_t flow_velocity_listing_len =
    sizeof flow_velocity_listing / sizeof flow_velocity_listing[0];

static int all_finite(const double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i]))
            return 0;
    return 1;
}

static int t_ok(double t)
{
    return t >= 0.0 && t <= 1.0; /* false for NaN too */
}

/* The field at one point with no checks and no trace; w (k values) is the workspace and
 * returns the posterior. */
static void velocity_point(double *v, double *w, const flow_mixture *m, const double *x, double t)
{
    size_t d = m->d, k = m->k;
    double s2[FLOW_MAX_COMPONENTS];
    double u = 1.0 - t;
    /* s2 >= min(sigma^2, 1/4) > 0: at t = 1 it is sigma^2, which the floor on sigma keeps
     * a normal double, so the division below is finite. */
    s2[0] = t * t * m->sigma[0] * m->sigma[0] + u * u;
    for (size_t j = 1; j < k; j++)
        s2[j] = t * t * m->sigma[j] * m->sigma[j] + u * u;
    log_terms(w, m, x, t, s2);
    double lse = log_sum_exp(w, k);
    for (size_t j = 0; j < k; j++)
        w[j] = exp(w[j] - lse);
    for (size_t i = 0; i < d; i++)
        v[i] = 0.0;
    for (size_t j = 0; j < k; j++) {
        const double *mu = m->mean + j * d;
        double c = (t * m->sigma[j] * m->sigma[j] - u) / s2[j];
        for (size_t i = 0; i < d; i++)
            v[i] += w[j] * (mu[i] + c * (x[i] - t * mu[i]));
    }
}

int flow_velocity(double *v, double *post, const flow_mixture *m, const double *x, double t,
                  trace *tr)
{
    if (!mixture_ok(m) || !t_ok(t) || !all_finite(x, m->d))
        return TUTOR_EINVAL;
    double w[FLOW_MAX_COMPONENTS];
    velocity_point(v, w, m, x, t);
    if (post)
        memcpy(post, w, m->k * sizeof *w);
    if (tr) {
        size_t k = m->k;
        double s2[FLOW_MAX_COMPONENTS], logw[FLOW_MAX_COMPONENTS];
        for (size_t j = 0; j < k; j++)
            s2[j] = t * t * m->sigma[j] * m->sigma[j] + (1.0 - t) * (1.0 - t);
        log_terms(logw, m, x, t, s2);
        trace_step(tr, 2, "t = %.4g: each component's x_t has variance t^2 sigma^2 + (1-t)^2", t);
        trace_reals(tr, "x", x, m->d);
        trace_reals(tr, "s2", s2, k);
        trace_step(tr, 3, "log-weights: log prior + log density of x under t mu_k, s2");
        trace_reals(tr, "logw", logw, k);
        size_t best = 0;
        for (size_t j = 1; j < k; j++)
            best = w[j] > w[best] ? j : best;
        trace_step(tr, 4, "posterior weights by log-sum-exp: component %zu leads (w = %.4g)", best,
                   w[best]);
        trace_reals(tr, "w", w, k);
        trace_mark(tr, "w", (long)best, -1, TRACE_WINNER);
        trace_quiz(tr, "Which component has the largest posterior weight?", (int64_t)best);
        trace_step(tr, 5, "v = the posterior mean of x1 - x0");
        trace_reals(tr, "v", v, m->d);
        return trace_status(tr);
    }
    return 0;
}

/* Rows of particles flow_field handles at a time: the workspaces are O(FIELD_BLOCK (k + d))
 * whatever n is, and a block is large enough for the products to run at CBLAS speed. */
#define FIELD_BLOCK 512

/* The field at n points at once, the fast form of velocity_point. With
 * |x - t mu_j|^2 = |x|^2 - 2 t x.mu_j + t^2 |mu_j|^2, the only term mixing points and
 * components is the product L = X M^T (n, k), one dgemm. Then, row by row,
 *   logw_pj = base_j + (t / s2_j) L_pj - |x_p|^2 / (2 s2_j),
 *   base_j  = log pi_j - (d/2) log(2 pi s2_j) - t^2 |mu_j|^2 / (2 s2_j),
 * w = softmax over j (log-sum-exp), and since the field is
 *   v_p = sum_j w_pj (1 - c_j t) mu_j + (sum_j w_pj c_j) x_p,  c_j = (t sigma_j^2 - (1-t)) / s2_j,
 * it is a second dgemm, G M with G_pj = w_pj (1 - c_j t), plus a multiple of x_p.
 * ws holds n * k values (L, then G). O(n k d). */
static void field_block(double *v, double *ws, const flow_mixture *m, const double *x, size_t n,
                        double t)
{
    size_t k = m->k, d = m->d;
    double base[FLOW_MAX_COMPONENTS], a[FLOW_MAX_COMPONENTS], b[FLOW_MAX_COMPONENTS],
        c[FLOW_MAX_COMPONENTS];
    double u = 1.0 - t;
    for (size_t j = 0; j < k; j++) {
        double sg2 = m->sigma[j] * m->sigma[j], s2 = t * t * sg2 + u * u;
        double mu2 = mat_dot(m->mean + j * d, m->mean + j * d, d);
        a[j] = t / s2;
        b[j] = 0.5 / s2;
        c[j] = (t * sg2 - u) / s2;
        base[j] = log(m->weight[j]) - 0.5 * (double)d * (LOG_2PI + log(s2)) - t * t * mu2 * b[j];
    }
    mat_gemm(ws, x, m->mean, n, k, d, 0, 1, 1.0, 0.0);
    for (size_t p = 0; p < n; p++) {
        double *row = ws + p * k;
        double x2 = mat_dot(x + p * d, x + p * d, d);
        for (size_t j = 0; j < k; j++)
            row[j] = base[j] + a[j] * row[j] - b[j] * x2;
        double lse = log_sum_exp(row, k), g = 0.0;
        for (size_t j = 0; j < k; j++) {
            double w = exp(row[j] - lse);
            g += w * c[j];
            row[j] = w * (1.0 - c[j] * t);
        }
        /* v_p starts as g x_p; the product below adds G M. */
        for (size_t i = 0; i < d; i++)
            v[p * d + i] = g * x[p * d + i];
    }
    mat_gemm(v, ws, m->mean, n, d, k, 0, 0, 1.0, 1.0);
}

int flow_field(double *v, const flow_mixture *m, const flow_mixture *cond, double guidance,
               const double *x, size_t n, double t)
{
    if (!mixture_ok(m) || !n || !t_ok(t) || (cond && (!mixture_ok(cond) || cond->d != m->d)) ||
        !isfinite(guidance))
        return TUTOR_EINVAL;
    size_t d = m->d;
    if (points_ok(n, d))
        return TUTOR_ETOOBIG;
    if (!all_finite(x, n * d))
        return TUTOR_EINVAL;
    size_t block = n < FIELD_BLOCK ? n : FIELD_BLOCK;
    size_t kmax = cond && cond->k > m->k ? cond->k : m->k;
    double *ws = mat_new(block, kmax);
    double *vc = cond ? mat_new(block, d) : NULL;
    if (!ws || (cond && !vc)) {
        mat_free(ws);
        mat_free(vc);
        return TUTOR_ENOMEM;
    }
    for (size_t p0 = 0; p0 < n; p0 += block) {
        size_t rows = n - p0 < block ? n - p0 : block;
        double *vb = v + p0 * d;
        const double *xb = x + p0 * d;
        field_block(vb, ws, m, xb, rows, t);
        if (cond) {
            field_block(vc, ws, cond, xb, rows, t);
            for (size_t i = 0; i < rows * d; i++)
                vb[i] += guidance * (vc[i] - vb[i]);
        }
    }
    mat_free(ws);
    mat_free(vc);
    return 0;
}

/* ---- sampling ---- */

double flow_shift(double t, double s)
{
    return s * t / (1.0 + (s - 1.0) * t);
}

int flow_schedule(double *ts, size_t steps, double shift)
{
    if (!steps || !isfinite(shift) || !(shift > 0.0))
        return TUTOR_EINVAL;
    if (steps > FLOW_MAX_STEPS)
        return TUTOR_ETOOBIG;
    for (size_t i = 0; i < steps; i++)
        ts[i] = flow_shift((double)i / (double)steps, shift);
    ts[steps] = 1.0;
    return 0;
}

int flow_noise(double *x, size_t n, size_t d, uint64_t seed)
{
    if (points_ok(n, d))
        return TUTOR_ETOOBIG;
    rng r;
    rng_seed(&r, seed);
    mat_gauss(x, n * d, &r, 1.0);
    return 0;
}

/* Rows of an (n, d) particle set shown in a snapshot. */
static size_t shown(size_t n)
{
    return n < FLOW_TRACE_PARTICLES ? n : FLOW_TRACE_PARTICLES;
}

const char *const flow_euler_listing[] = {
    "for each particle x_p:",
    "    v_p = v(x_p, t)   (exact)",
    "    x_p = x_p + h v_p",
};
const size_t flow_euler_listing_len = sizeof flow_euler_listing / sizeof flow_euler_listing[0];

int flow_euler_step(double *x, const flow_mixture *m, size_t n, double t, double h, trace *tr)
{
    if (!mixture_ok(m) || !n || !t_ok(t) || !isfinite(h) || !t_ok(t + h))
        return TUTOR_EINVAL;
    size_t d = m->d;
    if (points_ok(n, d))
        return TUTOR_ETOOBIG;
    if (!all_finite(x, n * d))
        return TUTOR_EINVAL;
    double w[FLOW_MAX_COMPONENTS];
    /* Traced, every particle's velocity is kept for the snapshot; untraced, one at a time. */
    double *v = mem_alloc(mem_mul(tr ? n : 1, d * sizeof *v));
    if (!v)
        return TUTOR_ENOMEM;
    for (size_t p = 0; p < n; p++) {
        double *vp = tr ? v + p * d : v;
        velocity_point(vp, w, m, x + p * d, t);
        mat_axpy(x + p * d, h, vp, d);
    }
    int rc = 0;
    if (tr) {
        trace_step(tr, 3, "Euler step from t = %.4g to %.4g (h = %.4g)", t, t + h, h);
        trace_real(tr, "t", t);
        trace_real(tr, "h", h);
        trace_matrix(tr, "v", v, shown(n), d);
        trace_matrix(tr, "x", x, shown(n), d);
        rc = trace_status(tr);
    }
    mem_free(v);
    return rc;
}

/* The window of the density snapshot: both axes cover the noise (+-3 around 0) and every
 * component's mean +- 3 sigma. win = {x_lo, x_hi, y_lo, y_hi}. */
static void density_window(double *win, const flow_mixture *m)
{
    win[0] = win[2] = -3.0;
    win[1] = win[3] = 3.0;
    for (size_t j = 0; j < m->k; j++)
        for (int a = 0; a < 2; a++) {
            double lo = m->mean[2 * j + a] - 3.0 * m->sigma[j];
            double hi = m->mean[2 * j + a] + 3.0 * m->sigma[j];
            win[2 * a] = lo < win[2 * a] ? lo : win[2 * a];
            win[2 * a + 1] = hi > win[2 * a + 1] ? hi : win[2 * a + 1];
        }
}

/* Records `density`: how many of the n 2-D particles fall in each cell of a
 * FLOW_DENSITY_ROWS x FLOW_DENSITY_COLS grid over win (top row = largest y), so every
 * particle is seen, not only the first FLOW_TRACE_PARTICLES. Particles outside are left
 * out. O(n). */
static void trace_density(trace *tr, const double *x, size_t n, const double *win)
{
    double grid[FLOW_DENSITY_ROWS * FLOW_DENSITY_COLS] = {0};
    double wx = win[1] - win[0], wy = win[3] - win[2];
    for (size_t p = 0; p < n; p++) {
        double cx = (x[2 * p] - win[0]) / wx * FLOW_DENSITY_COLS;
        double cy = (win[3] - x[2 * p + 1]) / wy * FLOW_DENSITY_ROWS;
        if (cx >= 0 && cx < FLOW_DENSITY_COLS && cy >= 0 && cy < FLOW_DENSITY_ROWS)
            grid[(size_t)cy * FLOW_DENSITY_COLS + (size_t)cx] += 1.0;
    }
    trace_matrix(tr, "density", grid, FLOW_DENSITY_ROWS, FLOW_DENSITY_COLS);
}

const char *const flow_sample_listing[] = {
    "t_i = shift(i / S), i = 0..S",
    "x = x0 ~ N(0, I)  (P particles)",
    "for i = 0 .. S-1:",
    "    h = t_{i+1} - t_i",
    "    v = v(x, t_i), or guided",
    "    euler: x = x + h v",
    "    heun: x += h/2 (v + v(x+hv))",
    "return x          (the samples)",
};
const size_t flow_sample_listing_len = sizeof flow_sample_listing / sizeof flow_sample_listing[0];

void flow_sample_opts_default(flow_sample_opts *o)
{
    o->steps = 32;
    o->method = FLOW_EULER;
    o->shift = 1.0;
    o->cond = NULL;
    o->guidance = 0.0;
}

static int opts_ok(const flow_sample_opts *o, const flow_mixture *m)
{
    if (!o || !o->steps || !isfinite(o->shift) || !(o->shift > 0.0) ||
        (o->method != FLOW_EULER && o->method != FLOW_HEUN) || !isfinite(o->guidance))
        return TUTOR_EINVAL;
    if (o->cond && (!mixture_ok(o->cond) || o->cond->d != m->d))
        return TUTOR_EINVAL;
    if (o->steps > FLOW_MAX_STEPS)
        return TUTOR_ETOOBIG;
    return 0;
}

int flow_sample(double *x, double *traj, const flow_mixture *m, const flow_sample_opts *o, size_t n,
                trace *tr)
{
    if (!mixture_ok(m) || !n)
        return TUTOR_EINVAL;
    int rc = opts_ok(o, m);
    if (rc)
        return rc;
    size_t d = m->d, S = o->steps, nd = n * d;
    if (points_ok(n, d) || (traj && nd > FLOW_MAX_VALUES / (S + 1)))
        return TUTOR_ETOOBIG;
    if (!all_finite(x, nd))
        return TUTOR_EINVAL;
    int heun = o->method == FLOW_HEUN;
    double *ts = mem_alloc((S + 1) * sizeof *ts);
    double *v = mat_new(n, d);
    double *v2 = heun ? mat_new(n, d) : NULL;
    double *xp = heun ? mat_new(n, d) : NULL;
    if (!ts || !v || (heun && (!v2 || !xp))) {
        rc = TUTOR_ENOMEM;
        goto out;
    }
    flow_schedule(ts, S, o->shift);
    double win[4];
    if (tr && d == 2)
        density_window(win, m);
    if (traj)
        memcpy(traj, x, nd * sizeof *x);
    if (tr) {
        trace_step(tr, 1, "%zu steps on the time grid (shift %g)", S, o->shift);
        trace_reals(tr, "ts", ts, S + 1);
        if (n > FLOW_TRACE_PARTICLES)
            trace_step(tr, 2, "%zu particles start as Gaussian noise (x: the first %d)", n,
                       FLOW_TRACE_PARTICLES);
        else
            trace_step(tr, 2, "%zu particles start as Gaussian noise", n);
        if (d == 2)
            trace_density(tr, x, n, win);
        trace_matrix(tr, "x", x, shown(n), d);
    }
    const flow_mixture *cond = o->guidance != 0.0 ? o->cond : NULL;
    for (size_t i = 0; i < S; i++) {
        double t = ts[i], h = ts[i + 1] - ts[i];
        if ((rc = flow_field(v, m, cond, o->guidance, x, n, t)))
            goto out;
        if (!heun) {
            mat_axpy(x, h, v, nd);
        } else {
            /* Predict with Euler, then average the slopes at both ends (trapezoid). */
            memcpy(xp, x, nd * sizeof *x);
            mat_axpy(xp, h, v, nd);
            if ((rc = flow_field(v2, m, cond, o->guidance, xp, n, ts[i + 1])))
                goto out;
            mat_axpy(x, 0.5 * h, v, nd);
            mat_axpy(x, 0.5 * h, v2, nd);
        }
        if (traj)
            memcpy(traj + (i + 1) * nd, x, nd * sizeof *x);
        if (tr && i < FLOW_TRACE_STEPS) {
            trace_step(tr, heun ? 7 : 6, "step %zu: t = %.4g -> %.4g (h = %.4g)", i + 1, t,
                       ts[i + 1], h);
            trace_real(tr, "t", ts[i + 1]);
            trace_real(tr, "h", h);
            if (d == 2)
                trace_density(tr, x, n, win);
            trace_matrix(tr, "v", v, shown(n), d);
            trace_matrix(tr, "x", x, shown(n), d);
        } else if (tr && i + 1 == S) {
            trace_step(tr, 3, "steps %d..%zu the same way (not recorded one by one)",
                       FLOW_TRACE_STEPS + 1, S);
            trace_real(tr, "t", 1.0);
            if (d == 2)
                trace_density(tr, x, n, win);
            trace_matrix(tr, "x", x, shown(n), d);
        }
    }
    if (tr) {
        trace_step(tr, 8, "t = 1: the particles are the samples");
        rc = trace_status(tr);
    }
out:
    mem_free(ts);
    mat_free(v);
    mat_free(v2);
    mat_free(xp);
    return rc;
}

/* ---- quality and diversity ---- */

int flow_quality(double *mean_dist, double *frac, double *tv, const flow_mixture *m,
                 const double *x, size_t n, flow_assign assign)
{
    if (!mixture_ok(m) || !n)
        return TUTOR_EINVAL;
    size_t k = m->k, d = m->d;
    double share[FLOW_MAX_COMPONENTS] = {0}, l[FLOW_MAX_COMPONENTS], s2[FLOW_MAX_COMPONENTS];
    for (size_t j = 0; j < k; j++)
        s2[j] = m->sigma[j] * m->sigma[j];
    double dist = 0.0;
    for (size_t p = 0; p < n; p++) {
        const double *xp = x + p * d;
        size_t best = 0;
        double bd = INFINITY;
        for (size_t j = 0; j < k; j++) {
            double e = dist2(xp, m->mean + j * d, d);
            if (e < bd) {
                bd = e;
                best = j;
            }
        }
        dist += sqrt(bd);
        if (assign == FLOW_NEAREST) {
            share[best] += 1.0;
        } else {
            log_terms(l, m, xp, 1.0, s2);
            double lse = log_sum_exp(l, k);
            for (size_t j = 0; j < k; j++)
                share[j] += exp(l[j] - lse);
        }
    }
    double total_variation = 0.0;
    for (size_t j = 0; j < k; j++) {
        share[j] /= (double)n;
        total_variation += 0.5 * fabs(share[j] - m->weight[j]);
    }
    if (mean_dist)
        *mean_dist = dist / (double)n;
    if (frac)
        memcpy(frac, share, k * sizeof *frac);
    if (tv)
        *tv = total_variation;
    return 0;
}

int flow_moments(double *mean, double *cov, double *spread, const double *x, size_t n, size_t d)
{
    if (!n || !d)
        return TUTOR_EINVAL;
    for (size_t i = 0; i < d; i++)
        mean[i] = 0.0;
    for (size_t p = 0; p < n; p++)
        mat_axpy(mean, 1.0 / (double)n, x + p * d, d);
    double sp = 0.0;
    for (size_t p = 0; p < n; p++)
        sp += dist2(x + p * d, mean, d);
    if (spread)
        *spread = sp / (double)n;
    if (cov) {
        /* Centred sums: two passes, so a large common offset does not cancel digits. */
        for (size_t i = 0; i < d * d; i++)
            cov[i] = 0.0;
        for (size_t p = 0; p < n; p++)
            for (size_t i = 0; i < d; i++)
                for (size_t j = 0; j < d; j++)
                    cov[i * d + j] += (x[p * d + i] - mean[i]) * (x[p * d + j] - mean[j]);
        for (size_t i = 0; i < d * d; i++)
            cov[i] /= (double)n;
    }
    return 0;
}

/* ---- fitting a mixture (EM) ---- */

/* k-means++ seeding: mu (k, d) from the n points y (n, d); sig (k) the RMS per-dimension
 * distance of the points to their nearest seed, floored. near (n) is workspace. */
static void gmm_init(double *mu, double *sig, double *near, const double *y, size_t n, size_t d,
                     size_t k, double floor, rng *r)
{
    size_t first = (size_t)rng_range(r, 0, (int64_t)n - 1);
    memcpy(mu, y + first * d, d * sizeof *mu);
    for (size_t p = 0; p < n; p++)
        near[p] = dist2(y + p * d, mu, d);
    for (size_t j = 1; j < k; j++) {
        double total = 0.0;
        for (size_t p = 0; p < n; p++)
            total += near[p];
        size_t pick = (size_t)rng_range(r, 0, (int64_t)n - 1);
        if (total > 0.0) {
            /* Draw a point with probability near[p] / total (points already chosen have
             * near = 0 and are never drawn again). */
            double u = rng_uniform(r) * total, acc = 0.0;
            for (size_t p = 0; p < n; p++) {
                acc += near[p];
                if (u < acc && near[p] > 0.0) {
                    pick = p;
                    break;
                }
            }
        }
        memcpy(mu + j * d, y + pick * d, d * sizeof *mu);
        for (size_t p = 0; p < n; p++) {
            double e = dist2(y + p * d, mu + j * d, d);
            near[p] = e < near[p] ? e : near[p];
        }
    }
    double total = 0.0;
    for (size_t p = 0; p < n; p++)
        total += near[p];
    double s = sqrt(total / ((double)n * (double)d));
    for (size_t j = 0; j < k; j++)
        sig[j] = s > floor ? s : floor;
}

/* E-step: resp (n, k) = posterior of each component for each point; returns the mean
 * log-likelihood. cross (n, k) is workspace for y mu^T, ynorm (n) holds |y_p|^2. */
static double gmm_estep(double *resp, double *cross, const double *y, const double *ynorm,
                        const flow_mixture *m, size_t n)
{
    size_t k = m->k, d = m->d;
    double munorm[FLOW_MAX_COMPONENTS], base[FLOW_MAX_COMPONENTS];
    mat_gemm(cross, y, m->mean, n, k, d, 0, 1, 1.0, 0.0);
    for (size_t j = 0; j < k; j++) {
        double s2 = m->sigma[j] * m->sigma[j];
        munorm[j] = mat_dot(m->mean + j * d, m->mean + j * d, d);
        base[j] = log(m->weight[j]) - 0.5 * (double)d * (LOG_2PI + log(s2));
    }
    double total = 0.0;
    for (size_t p = 0; p < n; p++) {
        double *rp = resp + p * k;
        for (size_t j = 0; j < k; j++) {
            /* |y - mu|^2 from the product; rounding can make it slightly negative. */
            double e2 = ynorm[p] - 2.0 * cross[p * k + j] + munorm[j];
            e2 = e2 > 0.0 ? e2 : 0.0;
            rp[j] = base[j] - 0.5 * e2 / (m->sigma[j] * m->sigma[j]);
        }
        double lse = log_sum_exp(rp, k);
        total += lse;
        for (size_t j = 0; j < k; j++)
            rp[j] = exp(rp[j] - lse);
    }
    return total / (double)n;
}

/* M-step: weights, means (r^T y / N_k through dgemm) and sigmas from resp. */
static void gmm_mstep(flow_mixture *m, const double *resp, const double *y, const double *ynorm,
                      size_t n, double floor)
{
    size_t k = m->k, d = m->d;
    double nk[FLOW_MAX_COMPONENTS] = {0}, sq[FLOW_MAX_COMPONENTS] = {0};
    for (size_t p = 0; p < n; p++)
        for (size_t j = 0; j < k; j++) {
            nk[j] += resp[p * k + j];
            sq[j] += resp[p * k + j] * ynorm[p];
        }
    mat_gemm(m->mean, resp, y, k, d, n, 1, 0, 1.0, 0.0);
    for (size_t j = 0; j < k; j++) {
        /* A component no point claims keeps a tiny weight (the log stays finite) and its
         * centre at the origin of the centred data. */
        double nj = nk[j] > 1e-300 ? nk[j] : 1e-300;
        m->weight[j] = nj / (double)n;
        for (size_t i = 0; i < d; i++)
            m->mean[j * d + i] /= nj;
        /* sum_p r |y - mu|^2 = sum_p r |y|^2 - N_k |mu|^2, since sum_p r y = N_k mu. */
        double var = (sq[j] - nj * mat_dot(m->mean + j * d, m->mean + j * d, d)) / (nj * (double)d);
        double s = var > 0.0 ? sqrt(var) : 0.0;
        m->sigma[j] = s > floor ? s : floor;
    }
}

int flow_gmm_fit(flow_mixture *out, double *ll, size_t *iters, const double *x, size_t n, size_t d,
                 size_t k, size_t max_iter, double tol, double sigma_floor, uint64_t seed)
{
    memset(out, 0, sizeof *out);
    if (!k || !d || n < k || !isfinite(tol) || tol < 0.0 || !isfinite(sigma_floor) ||
        !(sigma_floor >= FLOW_SIGMA_MIN))
        return TUTOR_EINVAL;
    if (k > FLOW_MAX_COMPONENTS || points_ok(n, d) || max_iter > FLOW_MAX_STEPS ||
        n * k > FLOW_MAX_VALUES)
        return TUTOR_ETOOBIG;
    if (!all_finite(x, n * d))
        return TUTOR_EINVAL;
    int rc = 0;
    /* The fit runs on centred data, so |y|^2 - 2 y.mu + |mu|^2 loses no digits to a large
     * common offset; the centre is added back to the means at the end. */
    double *y = mat_new(n, d), *ynorm = mem_alloc(n * sizeof *ynorm);
    double *resp = mat_new(n, k), *cross = mat_new(n, k), *centre = mem_alloc(d * sizeof *centre);
    out->weight = mem_alloc(k * sizeof *out->weight);
    out->sigma = mem_alloc(k * sizeof *out->sigma);
    out->mean = mat_new(k, d);
    if (!y || !ynorm || !resp || !cross || !centre || !out->weight || !out->sigma || !out->mean) {
        rc = TUTOR_ENOMEM;
        flow_mixture_free(out);
        goto done;
    }
    out->k = k;
    out->d = d;
    flow_moments(centre, NULL, NULL, x, n, d);
    for (size_t p = 0; p < n; p++) {
        for (size_t i = 0; i < d; i++)
            y[p * d + i] = x[p * d + i] - centre[i];
        ynorm[p] = mat_dot(y + p * d, y + p * d, d);
    }
    rng r;
    rng_seed(&r, seed);
    gmm_init(out->mean, out->sigma, resp, y, n, d, k, sigma_floor, &r);
    for (size_t j = 0; j < k; j++)
        out->weight[j] = 1.0 / (double)k;
    double prev = gmm_estep(resp, cross, y, ynorm, out, n);
    size_t it = 0;
    if (ll)
        ll[0] = prev;
    while (it < max_iter) {
        gmm_mstep(out, resp, y, ynorm, n, sigma_floor);
        double cur = gmm_estep(resp, cross, y, ynorm, out, n);
        it++;
        if (ll)
            ll[it] = cur;
        int done = cur - prev < tol;
        prev = cur;
        if (done)
            break;
    }
    for (size_t j = 0; j < k; j++)
        mat_axpy(out->mean + j * d, 1.0, centre, d);
    if (iters)
        *iters = it;
done:
    mat_free(y);
    mem_free(ynorm);
    mat_free(resp);
    mat_free(cross);
    mem_free(centre);
    return rc;
}
