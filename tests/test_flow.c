/* Tests of rectified flow on Gaussian mixtures (models/flow.h) and of the bigram model
 * (models/bigram.h): the exact field against its slow form, a Monte Carlo estimate and its
 * values at t = 0 and t = 1; Euler sampling landing on the mixture's moments; Heun against
 * the closed-form flow of one Gaussian; guidance; the schedule; quality measures; EM; the
 * mixture file; validation and caps; traces; allocation failures; and the command line
 * (`tutor run flow`, its three modes, refusals, `tutor plot flow`). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../models/bigram.h"
#include "../models/flow.h"
#include "../models/mat.h"
#include "../models/vq.h"
#include "../trace/mem.h"
#include "../trace/rng.h"
#include "../trace/status.h"
#include "../trace/trace.h"
#include "harness.h"

/* Closed forms against the code: both sum the same few terms in possibly different orders. */
#define TOL_EXACT 1e-12

/* A 3-component 2-D mixture used throughout (weights normalised from 1 : 2 : 1). */
static const double W3[] = {1.0, 2.0, 1.0};
static const double MU3[] = {-2.0, 0.0, 1.5, 1.0, 0.5, -2.5};
static const double SG3[] = {0.4, 0.6, 0.3};

static void mix3(flow_mixture *m)
{
    CU_ASSERT_EQUAL_FATAL(flow_mixture_set(m, W3, MU3, SG3, 3, 2), 0);
}

/* The field written the obvious way: weights by exp without the max shift, then the sum.
 * Fine where no density underflows (points near the data). */
static void velocity_slow(double *v, const flow_mixture *m, const double *x, double t)
{
    size_t d = m->d;
    double w[FLOW_MAX_COMPONENTS], total = 0.0;
    for (size_t j = 0; j < m->k; j++) {
        double s2 = t * t * m->sigma[j] * m->sigma[j] + (1 - t) * (1 - t), e2 = 0.0;
        for (size_t i = 0; i < d; i++)
            e2 += (x[i] - t * m->mean[j * d + i]) * (x[i] - t * m->mean[j * d + i]);
        w[j] = m->weight[j] * pow(2 * M_PI * s2, -0.5 * (double)d) * exp(-0.5 * e2 / s2);
        total += w[j];
    }
    for (size_t i = 0; i < d; i++)
        v[i] = 0.0;
    for (size_t j = 0; j < m->k; j++) {
        double s2 = t * t * m->sigma[j] * m->sigma[j] + (1 - t) * (1 - t);
        double c = (t * m->sigma[j] * m->sigma[j] - (1 - t)) / s2;
        for (size_t i = 0; i < d; i++) {
            double mu = m->mean[j * d + i];
            v[i] += w[j] / total * (mu + c * (x[i] - t * mu));
        }
    }
}

/* ---- mixtures ---- */

static void test_mixture_set_validation(void)
{
    flow_mixture m;
    mix3(&m);
    CU_ASSERT_DOUBLE_EQUAL(m.weight[0], 0.25, TOL_EXACT);
    CU_ASSERT_DOUBLE_EQUAL(m.weight[1], 0.5, TOL_EXACT);
    CU_ASSERT_DOUBLE_EQUAL(m.weight[2], 0.25, TOL_EXACT);
    flow_mixture_free(&m);
    flow_mixture_free(&m); /* empty: fine */
    double w[] = {1, 0}, w2[] = {1, -1}, wn[] = {1, NAN}, s[] = {1, 1}, s0[] = {1, 0},
           sn[] = {1, -0.5}, si[] = {1, INFINITY}, mu[] = {0, 0, 1, 1}, mun[] = {0, NAN, 1, 1};
    double one[] = {1, 1};
    CU_ASSERT_EQUAL(flow_mixture_set(&m, w, mu, s, 2, 2), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_mixture_set(&m, w2, mu, s, 2, 2), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_mixture_set(&m, wn, mu, s, 2, 2), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_mixture_set(&m, one, mu, s0, 2, 2), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_mixture_set(&m, one, mu, sn, 2, 2), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_mixture_set(&m, one, mu, si, 2, 2), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_mixture_set(&m, one, mun, s, 2, 2), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_mixture_set(&m, one, mu, s, 0, 2), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_mixture_set(&m, one, mu, s, 2, 0), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_mixture_set(&m, one, mu, s, FLOW_MAX_COMPONENTS + 1, 2), TUTOR_ETOOBIG);
    CU_ASSERT_EQUAL(flow_mixture_set(&m, one, mu, s, 1, FLOW_MAX_DIM + 1), TUTOR_ETOOBIG);
    CU_ASSERT_PTR_NULL(m.weight);
    CU_ASSERT_EQUAL(flow_mixture_default(&m, 0, 1), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_mixture_default(&m, FLOW_MAX_COMPONENTS + 1, 1), TUTOR_ETOOBIG);
}

static void test_mixture_default(void)
{
    flow_mixture a, b, c;
    CU_ASSERT_EQUAL_FATAL(flow_mixture_default(&a, 5, 7), 0);
    CU_ASSERT_EQUAL_FATAL(flow_mixture_default(&b, 5, 7), 0);
    CU_ASSERT_EQUAL_FATAL(flow_mixture_default(&c, 5, 8), 0);
    CU_ASSERT_EQUAL(a.k, 5);
    CU_ASSERT_EQUAL(a.d, 2);
    CU_ASSERT_EQUAL(mat_max_abs_diff(a.mean, b.mean, 10), 0.0);
    CU_ASSERT(mat_max_abs_diff(a.mean, c.mean, 10) > 0.0);
    double total = 0.0;
    for (size_t j = 0; j < a.k; j++) {
        total += a.weight[j];
        CU_ASSERT(a.sigma[j] >= 0.25 && a.sigma[j] <= 0.5);
        CU_ASSERT_DOUBLE_EQUAL(hypot(a.mean[2 * j], a.mean[2 * j + 1]), 3.0, 1e-12);
    }
    CU_ASSERT_DOUBLE_EQUAL(total, 1.0, 1e-12);
    flow_mixture_free(&a);
    flow_mixture_free(&b);
    flow_mixture_free(&c);
}

/* Writes text to a fresh temporary file; path gets its name. */
static void temp_file(char *path, const char *text)
{
    strcpy(path, "/tmp/tutor_flow_XXXXXX");
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    size_t len = strlen(text);
    CU_ASSERT_FATAL(write(fd, text, len) == (ssize_t)len);
    close(fd);
}

static int load_text(flow_mixture *m, const char *text, char *err, size_t errlen)
{
    char path[64];
    temp_file(path, text);
    int rc = flow_mixture_load(m, path, err, errlen);
    unlink(path);
    return rc;
}

static void test_mixture_file(void)
{
    flow_mixture m;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(
        load_text(&m, "# weight mu_x mu_y sigma\n2 -1 0 0.5\n\n6, 1, 2, 0.25\n", err, sizeof err),
        0);
    CU_ASSERT_EQUAL(m.k, 2);
    CU_ASSERT_EQUAL(m.d, 2);
    CU_ASSERT_DOUBLE_EQUAL(m.weight[0], 0.25, TOL_EXACT);
    CU_ASSERT_DOUBLE_EQUAL(m.weight[1], 0.75, TOL_EXACT);
    CU_ASSERT_DOUBLE_EQUAL(m.mean[3], 2.0, 0.0);
    CU_ASSERT_DOUBLE_EQUAL(m.sigma[1], 0.25, 0.0);
    flow_mixture_free(&m);

    struct {
        const char *text, *needle;
        int rc;
    } bad[] = {
        {"1 0 0 1\n0 1 1 1\n", "component 2: weight 0", TUTOR_EINVAL},
        {"1 0 0 1\n-2 1 1 1\n", "weight -2", TUTOR_EINVAL},
        {"1 0 0 0\n", "component 1: sigma 0", TUTOR_EINVAL},
        {"1 0 0 -1\n", "sigma -1", TUTOR_EINVAL},
        {"1 0 0\n", "expected 4", TUTOR_ESHAPE},
        {"1 0 0 1\n1 0 0\n", NULL, TUTOR_ESHAPE},
        {"1 0 nan 1\n", NULL, TUTOR_EFORMAT},
        {"# nothing\n", NULL, TUTOR_EEMPTY},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = load_text(&m, bad[i].text, err, sizeof err);
        CU_ASSERT_EQUAL(rc, bad[i].rc);
        CU_ASSERT_PTR_NULL(m.weight);
        CU_ASSERT(strchr(err, '\n') == NULL && strlen(err) > 0);
        if (bad[i].needle && !strstr(err, bad[i].needle)) {
            fprintf(stderr, "\n  mixture file %zu: \"%s\" lacks \"%s\"\n", i, err, bad[i].needle);
            CU_FAIL("error message");
        }
    }
    /* Too many components. */
    strbuf sb = STRBUF_INIT;
    for (int j = 0; j <= FLOW_MAX_COMPONENTS; j++)
        strbuf_printf(&sb, "1 %d 0 1\n", j);
    CU_ASSERT_EQUAL(load_text(&m, strbuf_str(&sb), err, sizeof err), TUTOR_ETOOBIG);
    strbuf_free(&sb);
    CU_ASSERT_EQUAL(flow_mixture_load(&m, "/tmp/no/such/mixture.txt", err, sizeof err),
                    TUTOR_ENOTFOUND);
}

static void test_mixture_class_and_sample(void)
{
    flow_mixture m, c;
    mix3(&m);
    size_t members[] = {2, 0};
    CU_ASSERT_EQUAL_FATAL(flow_mixture_class(&c, &m, members, 2), 0);
    CU_ASSERT_EQUAL(c.k, 2);
    CU_ASSERT_DOUBLE_EQUAL(c.weight[0], 0.5, TOL_EXACT);
    CU_ASSERT_DOUBLE_EQUAL(c.mean[0], 0.5, 0.0);
    CU_ASSERT_DOUBLE_EQUAL(c.sigma[1], 0.4, 0.0);
    flow_mixture_free(&c);
    size_t dup[] = {1, 1}, far[] = {3};
    CU_ASSERT_EQUAL(flow_mixture_class(&c, &m, dup, 2), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_mixture_class(&c, &m, far, 1), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_mixture_class(&c, &m, members, 0), TUTOR_EINVAL);

    /* Component shares of a sample: binomial, standard error sqrt(p (1 - p) / n) <= 0.0035
     * at n = 20000; 5 standard errors. */
    size_t n = 20000;
    double *x = mat_new(n, 2);
    int *comp = mem_alloc(n * sizeof *comp);
    CU_ASSERT_FATAL(x && comp);
    rng r;
    rng_seed(&r, 3);
    CU_ASSERT_EQUAL(flow_mixture_sample(x, comp, &m, n, &r), 0);
    double count[3] = {0};
    for (size_t p = 0; p < n; p++)
        count[comp[p]] += 1.0;
    for (int j = 0; j < 3; j++)
        CU_ASSERT_DOUBLE_EQUAL(count[j] / (double)n, m.weight[j], 5 * 0.0036);
    /* The sample's moments against the mixture's (5 standard errors of the mean). */
    double mean[2], cov[4], want[2], wcov[4];
    flow_moments(mean, cov, NULL, x, n, 2);
    flow_mixture_moments(want, wcov, &m);
    for (int i = 0; i < 2; i++)
        CU_ASSERT_DOUBLE_EQUAL(mean[i], want[i], 5 * sqrt(wcov[3 * i] / (double)n));
    mat_free(x);
    mem_free(comp);
    flow_mixture_free(&m);
}

static void test_moments_by_hand(void)
{
    /* Two components (1/2 each) at (-1, 0) and (1, 0), sigma 1 and 0: not allowed, so
     * sigma 1 and 0.5: mean 0, cov = diag(0.5 (1 + 0.25) + 1, 0.5 (1 + 0.25)). */
    double w[] = {1, 1}, mu[] = {-1, 0, 1, 0}, s[] = {1, 0.5};
    flow_mixture m;
    CU_ASSERT_EQUAL_FATAL(flow_mixture_set(&m, w, mu, s, 2, 2), 0);
    double mean[2], cov[4];
    flow_mixture_moments(mean, cov, &m);
    CU_ASSERT_DOUBLE_EQUAL(mean[0], 0.0, TOL_EXACT);
    CU_ASSERT_DOUBLE_EQUAL(mean[1], 0.0, TOL_EXACT);
    CU_ASSERT_DOUBLE_EQUAL(cov[0], 1.625, TOL_EXACT);
    CU_ASSERT_DOUBLE_EQUAL(cov[1], 0.0, TOL_EXACT);
    CU_ASSERT_DOUBLE_EQUAL(cov[3], 0.625, TOL_EXACT);
    double x[] = {0, 0, 2, 2}, xm[2], xc[4], spread;
    CU_ASSERT_EQUAL(flow_moments(xm, xc, &spread, x, 2, 2), 0);
    CU_ASSERT_DOUBLE_EQUAL(xm[0], 1.0, TOL_EXACT);
    CU_ASSERT_DOUBLE_EQUAL(xc[1], 1.0, TOL_EXACT);
    CU_ASSERT_DOUBLE_EQUAL(spread, 2.0, TOL_EXACT);
    CU_ASSERT_EQUAL(flow_moments(xm, xc, &spread, x, 0, 2), TUTOR_EINVAL);
    flow_mixture_free(&m);
}

/* ---- the exact field ---- */

static void test_velocity_t0_and_t1(void)
{
    flow_mixture m;
    mix3(&m);
    double mean[2];
    flow_mixture_moments(mean, NULL, &m);
    rng r;
    rng_seed(&r, 11);
    for (int trial = 0; trial < 50; trial++) {
        double x[2] = {3 * rng_gauss(&r), 3 * rng_gauss(&r)}, v[2], post[3];
        /* t = 0: x_0 is pure noise, independent of the component, so w = pi and
         * v = E[x1] - x. */
        CU_ASSERT_EQUAL(flow_velocity(v, post, &m, x, 0.0, NULL), 0);
        CU_ASSERT_DOUBLE_EQUAL(v[0], mean[0] - x[0], TOL_EXACT);
        CU_ASSERT_DOUBLE_EQUAL(v[1], mean[1] - x[1], TOL_EXACT);
        for (int j = 0; j < 3; j++)
            CU_ASSERT_DOUBLE_EQUAL(post[j], m.weight[j], TOL_EXACT);
        /* t = 1: x_1 is the data itself and x0 is independent of it: v = x - E[x0] = x. */
        CU_ASSERT_EQUAL(flow_velocity(v, NULL, &m, x, 1.0, NULL), 0);
        CU_ASSERT_DOUBLE_EQUAL(v[0], x[0], 1e-10);
        CU_ASSERT_DOUBLE_EQUAL(v[1], x[1], 1e-10);
    }
    flow_mixture_free(&m);
}

static void test_velocity_vs_slow(void)
{
    flow_mixture m;
    mix3(&m);
    rng r;
    rng_seed(&r, 12);
    for (int trial = 0; trial < 200; trial++) {
        double t = rng_uniform(&r), x[2] = {2 * rng_gauss(&r), 2 * rng_gauss(&r)}, v[2], want[2];
        CU_ASSERT_EQUAL(flow_velocity(v, NULL, &m, x, t, NULL), 0);
        velocity_slow(want, &m, x, t);
        CU_ASSERT(mat_max_abs_diff(v, want, 2) < 1e-10);
    }
    /* Far away every density underflows in the slow form (0 / 0); log-sum-exp keeps the
     * weights finite: the nearest scaled mean takes all of it. */
    double x[2] = {400, 0}, v[2], post[3];
    CU_ASSERT_EQUAL(flow_velocity(v, post, &m, x, 0.9, NULL), 0);
    CU_ASSERT(isfinite(v[0]) && isfinite(v[1]));
    CU_ASSERT_DOUBLE_EQUAL(post[0] + post[1] + post[2], 1.0, TOL_EXACT);
    double slow[2];
    velocity_slow(slow, &m, x, 0.9);
    CU_ASSERT(isnan(slow[0])); /* the reason for log-sum-exp */
    flow_mixture_free(&m);
}

/* E[x1 - x0 | x_t = x] by Monte Carlo from Bayes' rule alone: draw x1 from the data; given
 * x1, x_t = t x1 + (1 - t) x0 has density N(x; t x1, (1 - t)^2 I), so weighting each draw
 * by that density gives the posterior expectation, with x0 = (x - t x1) / (1 - t) fixed by
 * x and x1. This uses neither the posterior over components nor the conditional Gaussian
 * algebra of the closed form. The standard error comes from the weights (delta method). */
static void mc_velocity(double *v, double *se, const flow_mixture *m, const double *x, double t,
                        size_t n, rng *r)
{
    double x1[2], sw = 0, sw2 = 0, swf[2] = {0}, swf2[2] = {0};
    double u = 1.0 - t;
    for (size_t p = 0; p < n; p++) {
        flow_mixture_sample(x1, NULL, m, 1, r);
        double e2 = 0.0, f[2];
        for (int i = 0; i < 2; i++) {
            double e = x[i] - t * x1[i];
            e2 += e * e;
            f[i] = x1[i] - e / u; /* x1 - x0 */
        }
        double w = exp(-0.5 * e2 / (u * u));
        sw += w;
        sw2 += w * w;
        for (int i = 0; i < 2; i++) {
            swf[i] += w * f[i];
            swf2[i] += w * f[i] * f[i];
        }
    }
    double ess = sw * sw / sw2;
    for (int i = 0; i < 2; i++) {
        v[i] = swf[i] / sw;
        double var = swf2[i] / sw - v[i] * v[i];
        se[i] = sqrt(var / ess);
    }
}

static void test_velocity_monte_carlo(void)
{
    flow_mixture m;
    mix3(&m);
    rng r;
    rng_seed(&r, 13);
    const double cases[][3] = {
        {0.0, 0.0, 0.3}, {1.0, 0.5, 0.5}, {-1.0, 0.2, 0.6}, {0.3, -1.5, 0.7}, {2.0, 2.0, 0.2}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double x[2] = {cases[c][0], cases[c][1]}, t = cases[c][2], v[2], mc[2], se[2];
        CU_ASSERT_EQUAL(flow_velocity(v, NULL, &m, x, t, NULL), 0);
        mc_velocity(mc, se, &m, x, t, 200000, &r);
        /* 5 standard errors (plus 1e-3 for the error of the error estimate): a seeded run
         * fails by chance with probability under 1e-5 per coordinate. */
        for (int i = 0; i < 2; i++) {
            double tol = 5 * se[i] + 1e-3;
            if (!(fabs(v[i] - mc[i]) <= tol)) {
                fprintf(stderr, "\n  case %zu coord %d: exact %.5f, MC %.5f (tol %.5f)\n", c, i,
                        v[i], mc[i], tol);
                CU_FAIL("field against Monte Carlo");
            }
            CU_ASSERT(se[i] < 0.05); /* the check has teeth */
        }
    }
    flow_mixture_free(&m);
}

/* flow_field (two dgemms per block) against flow_velocity point by point, in 1 to 16
 * dimensions, across the 512-point block boundary, with and without guidance. */
static void test_field_fast_vs_point(void)
{
    rng r;
    rng_seed(&r, 19);
    for (int trial = 0; trial < 30; trial++) {
        size_t k = (size_t)rng_range(&r, 1, 12), d = (size_t)rng_range(&r, 1, 16);
        size_t n = trial < 3 ? 1100 : (size_t)rng_range(&r, 1, 40);
        double w[12], s[12], *mu = mat_new(k, d), *x = mat_new(n, d), *v = mat_new(n, d);
        double *vg = mat_new(n, d), p1[16], p2[16];
        CU_ASSERT_FATAL(mu && x && v && vg);
        for (size_t j = 0; j < k; j++) {
            w[j] = 0.1 + rng_uniform(&r);
            s[j] = 0.05 + rng_uniform(&r);
        }
        mat_gauss(mu, k * d, &r, 3.0);
        mat_gauss(x, n * d, &r, 3.0);
        flow_mixture m, c;
        CU_ASSERT_EQUAL_FATAL(flow_mixture_set(&m, w, mu, s, k, d), 0);
        size_t members[] = {0};
        CU_ASSERT_EQUAL_FATAL(flow_mixture_class(&c, &m, members, 1), 0);
        double t = trial == 0 ? 0.0 : trial == 1 ? 1.0 : rng_uniform(&r), g = 2.5;
        CU_ASSERT_EQUAL(flow_field(v, &m, NULL, 0, x, n, t), 0);
        CU_ASSERT_EQUAL(flow_field(vg, &m, &c, g, x, n, t), 0);
        double worst = 0.0;
        for (size_t p = 0; p < n; p++) {
            CU_ASSERT_EQUAL(flow_velocity(p1, NULL, &m, x + p * d, t, NULL), 0);
            CU_ASSERT_EQUAL(flow_velocity(p2, NULL, &c, x + p * d, t, NULL), 0);
            for (size_t i = 0; i < d; i++) {
                double scale = 1.0 + fabs(x[p * d + i]);
                worst = fmax(worst, fabs(v[p * d + i] - p1[i]) / scale);
                worst = fmax(worst, fabs(vg[p * d + i] - (p1[i] + g * (p2[i] - p1[i]))) / scale);
            }
        }
        if (!(worst < 1e-9)) {
            fprintf(stderr, "\n  trial %d (k %zu, d %zu, n %zu, t %.3f): error %.3g\n", trial, k, d,
                    n, t, worst);
            CU_FAIL("fast field against the point form");
        }
        flow_mixture_free(&m);
        flow_mixture_free(&c);
        mat_free(mu);
        mat_free(x);
        mat_free(v);
        mat_free(vg);
    }
}

static void test_velocity_invalid(void)
{
    flow_mixture m, empty = {0};
    mix3(&m);
    double x[2] = {0, 0}, xn[2] = {NAN, 0}, v[2];
    CU_ASSERT_EQUAL(flow_velocity(v, NULL, &m, x, -0.01, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_velocity(v, NULL, &m, x, 1.01, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_velocity(v, NULL, &m, x, NAN, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_velocity(v, NULL, &m, xn, 0.5, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_velocity(v, NULL, &empty, x, 0.5, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_field(v, &m, NULL, 0, x, 0, 0.5), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_field(v, &m, NULL, 0, x, 1, 2.0), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_field(v, &m, &m, INFINITY, x, 1, 0.5), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_field(v, &m, NULL, 0, x, FLOW_MAX_PARTICLES + 1, 0.5), TUTOR_ETOOBIG);
    CU_ASSERT_EQUAL(flow_euler_step(x, &m, 1, 0.9, 0.2, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_euler_step(x, &m, 1, 0.5, NAN, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_euler_step(xn, &m, 1, 0.5, 0.1, NULL), TUTOR_EINVAL);
    flow_mixture_free(&m);
}

/* ---- guidance ---- */

static void test_guidance_fields(void)
{
    flow_mixture m, c;
    mix3(&m);
    size_t members[] = {0};
    CU_ASSERT_EQUAL_FATAL(flow_mixture_class(&c, &m, members, 1), 0);
    rng r;
    rng_seed(&r, 14);
    double x[20], v1[20], vc[20], vu[20], v0[20], v3[20];
    for (int i = 0; i < 20; i++)
        x[i] = 2 * rng_gauss(&r);
    for (double t = 0.0; t <= 1.0; t += 0.25) {
        CU_ASSERT_EQUAL(flow_field(vc, &c, NULL, 0, x, 10, t), 0);
        CU_ASSERT_EQUAL(flow_field(vu, &m, NULL, 0, x, 10, t), 0);
        CU_ASSERT_EQUAL(flow_field(v1, &m, &c, 1.0, x, 10, t), 0);
        CU_ASSERT_EQUAL(flow_field(v0, &m, &c, 0.0, x, 10, t), 0);
        CU_ASSERT_EQUAL(flow_field(v3, &m, &c, 3.0, x, 10, t), 0);
        CU_ASSERT(mat_max_abs_diff(v1, vc, 20) < TOL_EXACT); /* w = 1: the conditional field */
        CU_ASSERT(mat_max_abs_diff(v0, vu, 20) < TOL_EXACT); /* w = 0: the unconditional */
        for (int i = 0; i < 20; i++)
            CU_ASSERT_DOUBLE_EQUAL(v3[i], vu[i] + 3 * (vc[i] - vu[i]), 1e-10);
    }
    flow_mixture_free(&c);
    flow_mixture_free(&m);
}

/* Guidance above 1 trades diversity for fidelity: the class's samples crowd together. */
static void test_guidance_diversity(void)
{
    flow_mixture m, c;
    mix3(&m);
    size_t members[] = {0};
    CU_ASSERT_EQUAL_FATAL(flow_mixture_class(&c, &m, members, 1), 0);
    size_t n = 2000;
    double *x = mat_new(n, 2);
    CU_ASSERT_FATAL(x != NULL);
    flow_sample_opts o;
    flow_sample_opts_default(&o);
    o.steps = 100;
    o.cond = &c;
    double spread[3], in_class[3];
    const double ws[] = {1.0, 2.0, 4.0};
    for (int i = 0; i < 3; i++) {
        o.guidance = ws[i];
        CU_ASSERT_EQUAL(flow_noise(x, n, 2, 21), 0);
        CU_ASSERT_EQUAL(flow_sample(x, NULL, &m, &o, n, NULL), 0);
        double mean[2], frac[3];
        flow_moments(mean, NULL, &spread[i], x, n, 2);
        flow_quality(NULL, frac, NULL, &m, x, n, FLOW_NEAREST);
        in_class[i] = frac[0];
    }
    /* w = 1 samples the class: (almost) nothing lands on component 0. */
    CU_ASSERT(in_class[0] > 0.99);
    /* w = 1 draws from the class's Gaussian: spread = 2 sigma^2 = 0.32; |x - mu|^2 / sigma^2
     * is chi-squared with 2 degrees of freedom (variance 4), so the standard error is
     * 2 sigma^2 / sqrt(n) = 0.007; 5 of them. */
    CU_ASSERT_DOUBLE_EQUAL(spread[0], 2 * 0.4 * 0.4, 0.036);
    CU_ASSERT(in_class[2] > 0.99);
    CU_ASSERT(spread[1] < spread[0]);
    CU_ASSERT(spread[2] < spread[1]);
    mat_free(x);
    flow_mixture_free(&c);
    flow_mixture_free(&m);
}

/* ---- sampling ---- */

static void test_schedule(void)
{
    double ts[9];
    CU_ASSERT_DOUBLE_EQUAL(flow_shift(0.5, 3.0), 0.75, TOL_EXACT);
    CU_ASSERT_DOUBLE_EQUAL(flow_shift(0.25, 1.0), 0.25, TOL_EXACT);
    CU_ASSERT_EQUAL(flow_schedule(ts, 8, 1.0), 0);
    for (int i = 0; i <= 8; i++)
        CU_ASSERT_DOUBLE_EQUAL(ts[i], i / 8.0, TOL_EXACT);
    CU_ASSERT_EQUAL(flow_schedule(ts, 8, 3.0), 0);
    CU_ASSERT_EQUAL(ts[0], 0.0);
    CU_ASSERT_EQUAL(ts[8], 1.0);
    for (int i = 0; i < 8; i++)
        CU_ASSERT(ts[i + 1] > ts[i]);
    /* s > 1: the first step is s times the uniform one, the last 1/s times (up to O(h)). */
    CU_ASSERT(ts[1] - ts[0] > 2.0 / 8);
    CU_ASSERT(ts[8] - ts[7] < 0.5 / 8);
    CU_ASSERT_EQUAL(flow_schedule(ts, 0, 1.0), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_schedule(ts, 8, 0.0), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_schedule(ts, 8, NAN), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_schedule(ts, FLOW_MAX_STEPS + 1, 1.0), TUTOR_ETOOBIG);
}

/* Euler with many steps lands the particles on the mixture: their mean and covariance match
 * the mixture's within 5 standard errors (estimated from the samples themselves) plus the
 * O(1/S) bias of Euler, measured below 0.02 at S = 400 for this mixture. */
static void test_euler_moments(void)
{
    flow_mixture m;
    mix3(&m);
    size_t n = 20000;
    double *x = mat_new(n, 2);
    CU_ASSERT_FATAL(x != NULL);
    CU_ASSERT_EQUAL(flow_noise(x, n, 2, 5), 0);
    flow_sample_opts o;
    flow_sample_opts_default(&o);
    o.steps = 400;
    CU_ASSERT_EQUAL_FATAL(flow_sample(x, NULL, &m, &o, n, NULL), 0);
    double mean[2], cov[4], want[2], wcov[4];
    flow_moments(mean, cov, NULL, x, n, 2);
    flow_mixture_moments(want, wcov, &m);
    for (int i = 0; i < 2; i++) {
        double se = sqrt(cov[3 * i] / (double)n);
        CU_ASSERT_DOUBLE_EQUAL(mean[i], want[i], 5 * se + 0.02);
    }
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
            double s = 0, s2 = 0;
            for (size_t p = 0; p < n; p++) {
                double f = (x[2 * p + a] - mean[a]) * (x[2 * p + b] - mean[b]);
                s += f;
                s2 += f * f;
            }
            double se = sqrt((s2 / (double)n - (s / (double)n) * (s / (double)n)) / (double)n);
            if (!(fabs(cov[2 * a + b] - wcov[2 * a + b]) <= 5 * se + 0.02)) {
                fprintf(stderr, "\n  cov[%d][%d]: %.4f against %.4f (se %.4f)\n", a, b,
                        cov[2 * a + b], wcov[2 * a + b], se);
                CU_FAIL("covariance");
            }
        }
    mat_free(x);
    flow_mixture_free(&m);
}

/* One Gaussian N(mu, sigma^2 I): the field is linear and the flow has a closed form,
 * x_t = t mu + sqrt(t^2 sigma^2 + (1 - t)^2) x0, so x_1 = mu + sigma x0 exactly. Euler's
 * error falls like 1/S, Heun's like 1/S^2, and Heun is more accurate at every S. */
static void test_heun_vs_euler(void)
{
    double w[] = {1}, mu[] = {1.0, -2.0}, s[] = {0.3};
    flow_mixture m;
    CU_ASSERT_EQUAL_FATAL(flow_mixture_set(&m, w, mu, s, 1, 2), 0);
    size_t n = 50;
    double x0[100], x[100], err[2][4];
    CU_ASSERT_EQUAL(flow_noise(x0, n, 2, 9), 0);
    flow_sample_opts o;
    flow_sample_opts_default(&o);
    const size_t steps[] = {8, 16, 32, 64};
    for (int method = 0; method < 2; method++)
        for (int i = 0; i < 4; i++) {
            o.method = method ? FLOW_HEUN : FLOW_EULER;
            o.steps = steps[i];
            memcpy(x, x0, sizeof x);
            CU_ASSERT_EQUAL(flow_sample(x, NULL, &m, &o, n, NULL), 0);
            double e = 0.0;
            for (size_t p = 0; p < 2 * n; p++) {
                double exact = mu[p % 2] + s[0] * x0[p];
                e = fmax(e, fabs(x[p] - exact));
            }
            err[method][i] = e;
        }
    for (int i = 0; i < 4; i++)
        CU_ASSERT(err[1][i] < err[0][i]);
    for (int i = 0; i < 3; i++) {
        double euler = err[0][i] / err[0][i + 1], heun = err[1][i] / err[1][i + 1];
        if (!(euler > 1.7 && euler < 2.3 && heun > 3.0 && heun < 5.0)) {
            fprintf(stderr, "\n  S %zu -> %zu: Euler error ratio %.3f, Heun %.3f\n", steps[i],
                    steps[i + 1], euler, heun);
            CU_FAIL("convergence orders");
        }
    }
    flow_mixture_free(&m);
}

static void test_euler_step_and_traj(void)
{
    flow_mixture m;
    mix3(&m);
    size_t n = 7, S = 5;
    double x[14], y[14], v[14], traj[6 * 14];
    CU_ASSERT_EQUAL(flow_noise(x, n, 2, 4), 0);
    memcpy(y, x, sizeof x);
    /* flow_sample with Euler is S flow_euler_steps on the same grid. */
    flow_sample_opts o;
    flow_sample_opts_default(&o);
    o.steps = S;
    o.shift = 2.0;
    double ts[6];
    flow_schedule(ts, S, 2.0);
    CU_ASSERT_EQUAL(flow_sample(x, traj, &m, &o, n, NULL), 0);
    CU_ASSERT(mat_max_abs_diff(traj + S * 14, x, 14) == 0.0);
    for (size_t i = 0; i < S; i++) {
        CU_ASSERT(mat_max_abs_diff(traj + i * 14, y, 14) < TOL_EXACT);
        CU_ASSERT_EQUAL(flow_euler_step(y, &m, n, ts[i], ts[i + 1] - ts[i], NULL), 0);
    }
    CU_ASSERT(mat_max_abs_diff(x, y, 14) < TOL_EXACT);
    /* S = 1: x0 + v(x0, 0) = sum_k pi_k mu_k for every particle, whatever x0. */
    double mean[2];
    flow_mixture_moments(mean, NULL, &m);
    o.steps = 1;
    o.shift = 1.0;
    flow_noise(x, n, 2, 6);
    CU_ASSERT_EQUAL(flow_sample(x, NULL, &m, &o, n, NULL), 0);
    for (size_t p = 0; p < n; p++) {
        CU_ASSERT_DOUBLE_EQUAL(x[2 * p], mean[0], TOL_EXACT);
        CU_ASSERT_DOUBLE_EQUAL(x[2 * p + 1], mean[1], TOL_EXACT);
    }
    /* One step by hand: x + h v(x, t). */
    double z[14];
    CU_ASSERT_EQUAL(flow_noise(z, n, 2, 4), 0);
    memcpy(y, z, sizeof z);
    CU_ASSERT_EQUAL(flow_field(v, &m, NULL, 0, z, n, 0.3), 0);
    CU_ASSERT_EQUAL(flow_euler_step(y, &m, n, 0.3, 0.1, NULL), 0);
    for (size_t p = 0; p < 14; p++)
        CU_ASSERT_DOUBLE_EQUAL(y[p], z[p] + 0.1 * v[p], TOL_EXACT);
    flow_mixture_free(&m);
}

static void test_sample_invalid_and_caps(void)
{
    flow_mixture m, m3;
    mix3(&m);
    double w[] = {1}, mu[3] = {0}, s[] = {1};
    CU_ASSERT_EQUAL_FATAL(flow_mixture_set(&m3, w, mu, s, 1, 3), 0);
    double x[4] = {0}, traj[4];
    flow_sample_opts o;
    flow_sample_opts_default(&o);
    o.steps = 0;
    CU_ASSERT_EQUAL(flow_sample(x, NULL, &m, &o, 2, NULL), TUTOR_EINVAL);
    flow_sample_opts_default(&o);
    o.shift = -1;
    CU_ASSERT_EQUAL(flow_sample(x, NULL, &m, &o, 2, NULL), TUTOR_EINVAL);
    flow_sample_opts_default(&o);
    o.method = (flow_method)7;
    CU_ASSERT_EQUAL(flow_sample(x, NULL, &m, &o, 2, NULL), TUTOR_EINVAL);
    flow_sample_opts_default(&o);
    o.cond = &m3; /* another dimension */
    o.guidance = 2;
    CU_ASSERT_EQUAL(flow_sample(x, NULL, &m, &o, 2, NULL), TUTOR_EINVAL);
    flow_sample_opts_default(&o);
    CU_ASSERT_EQUAL(flow_sample(x, NULL, &m, &o, 0, NULL), TUTOR_EINVAL);
    o.steps = FLOW_MAX_STEPS + 1;
    CU_ASSERT_EQUAL(flow_sample(x, NULL, &m, &o, 2, NULL), TUTOR_ETOOBIG);
    flow_sample_opts_default(&o);
    CU_ASSERT_EQUAL(flow_sample(x, NULL, &m, &o, FLOW_MAX_PARTICLES + 1, NULL), TUTOR_ETOOBIG);
    o.steps = FLOW_MAX_STEPS;
    CU_ASSERT_EQUAL(flow_sample(x, traj, &m, &o, 1000, NULL), TUTOR_ETOOBIG);
    CU_ASSERT_EQUAL(flow_noise(x, FLOW_MAX_PARTICLES + 1, 2, 1), TUTOR_ETOOBIG);
    CU_ASSERT_EQUAL(flow_noise(x, 1, FLOW_MAX_DIM + 1, 1), TUTOR_ETOOBIG);
    x[1] = INFINITY;
    flow_sample_opts_default(&o);
    CU_ASSERT_EQUAL(flow_sample(x, NULL, &m, &o, 2, NULL), TUTOR_EINVAL);
    flow_mixture_free(&m3);
    flow_mixture_free(&m);
}

/* More steps, better samples: the mean distance to the nearest mode falls from S = 1 to
 * S = 64, and the per-component shares approach the weights. */
static void test_quality_vs_steps(void)
{
    flow_mixture m;
    mix3(&m);
    size_t n = 4000;
    double *x = mat_new(n, 2);
    CU_ASSERT_FATAL(x != NULL);
    flow_sample_opts o;
    flow_sample_opts_default(&o);
    double dist[2], tv[2], frac[3];
    const size_t steps[] = {1, 64};
    for (int i = 0; i < 2; i++) {
        o.steps = steps[i];
        flow_noise(x, n, 2, 8);
        CU_ASSERT_EQUAL(flow_sample(x, NULL, &m, &o, n, NULL), 0);
        CU_ASSERT_EQUAL(flow_quality(&dist[i], frac, &tv[i], &m, x, n, FLOW_NEAREST), 0);
    }
    CU_ASSERT(dist[1] < 0.7 * dist[0]);
    /* Exact samples: E|x - mu_k| = sigma_k sqrt(pi / 2) for a 2-D Gaussian (the modes are
     * far apart, so the nearest mean is almost always the own one): 0.595 here; the
     * standard error at n = 4000 is about 0.006. */
    double want = 0.0;
    for (int j = 0; j < 3; j++)
        want += m.weight[j] * m.sigma[j] * sqrt(M_PI / 2);
    CU_ASSERT_DOUBLE_EQUAL(dist[1], want, 0.03);
    /* Share error of n = 4000 samples: standard error <= 0.008 per component. */
    CU_ASSERT(tv[1] < 0.04);
    /* Posterior assignment of exact data samples: shares within 5 standard errors. */
    rng r;
    rng_seed(&r, 2);
    flow_mixture_sample(x, NULL, &m, n, &r);
    CU_ASSERT_EQUAL(flow_quality(NULL, frac, NULL, &m, x, n, FLOW_POSTERIOR), 0);
    for (int j = 0; j < 3; j++)
        CU_ASSERT_DOUBLE_EQUAL(frac[j], m.weight[j], 0.04);
    /* Hand case: points on the means. */
    double on[] = {-2, 0, 1.5, 1, 1.5, 1, 0.5, -1.5};
    CU_ASSERT_EQUAL(flow_quality(&dist[0], frac, &tv[0], &m, on, 4, FLOW_NEAREST), 0);
    CU_ASSERT_DOUBLE_EQUAL(dist[0], 0.25, TOL_EXACT); /* the last is 1 from its mean */
    CU_ASSERT_DOUBLE_EQUAL(frac[1], 0.5, TOL_EXACT);
    CU_ASSERT_DOUBLE_EQUAL(tv[0], 0.0, TOL_EXACT);
    CU_ASSERT_EQUAL(flow_quality(&dist[0], frac, &tv[0], &m, on, 0, FLOW_NEAREST), TUTOR_EINVAL);
    mat_free(x);
    flow_mixture_free(&m);
}

/* ---- EM ---- */

static int cmp_first(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_gmm_fit(void)
{
    flow_mixture m, fit;
    mix3(&m);
    size_t n = 3000, iters = 0;
    double *x = mat_new(n, 2), ll[201];
    CU_ASSERT_FATAL(x != NULL);
    rng r;
    rng_seed(&r, 17);
    flow_mixture_sample(x, NULL, &m, n, &r);
    CU_ASSERT_EQUAL_FATAL(flow_gmm_fit(&fit, ll, &iters, x, n, 2, 3, 200, 1e-10, 1e-3, 1), 0);
    CU_ASSERT(iters >= 2 && iters <= 200);
    /* EM never lowers the likelihood (rounding aside). */
    for (size_t i = 0; i < iters; i++)
        CU_ASSERT(ll[i + 1] >= ll[i] - 1e-12);
    CU_ASSERT(ll[iters] > ll[0]);
    double final, truth;
    CU_ASSERT_EQUAL(flow_mixture_loglik(&final, &fit, x, n), 0);
    CU_ASSERT_EQUAL(flow_mixture_loglik(&truth, &m, x, n), 0);
    CU_ASSERT_DOUBLE_EQUAL(final, ll[iters], 1e-9);
    /* The maximum likelihood fit beats the true parameters on the data it was fitted to,
     * by about (parameters) / (2 n) = 11 / 6000 nats per point. */
    CU_ASSERT(final >= truth - 1e-9);
    CU_ASSERT(final - truth < 0.01);
    /* The means are recovered to a few standard errors (sigma / sqrt(n pi) <= 0.02). */
    double got[6], want[6];
    memcpy(got, fit.mean, sizeof got);
    memcpy(want, MU3, sizeof want);
    qsort(got, 3, 2 * sizeof(double), cmp_first);
    qsort(want, 3, 2 * sizeof(double), cmp_first);
    CU_ASSERT(mat_max_abs_diff(got, want, 6) < 0.1);
    flow_mixture_free(&fit);
    /* Same seed, same fit. */
    flow_mixture again;
    CU_ASSERT_EQUAL(flow_gmm_fit(&fit, NULL, NULL, x, n, 2, 3, 50, 0, 1e-3, 4), 0);
    CU_ASSERT_EQUAL(flow_gmm_fit(&again, NULL, NULL, x, n, 2, 3, 50, 0, 1e-3, 4), 0);
    CU_ASSERT_EQUAL(mat_max_abs_diff(fit.mean, again.mean, 6), 0.0);
    flow_mixture_free(&fit);
    flow_mixture_free(&again);
    CU_ASSERT_EQUAL(flow_gmm_fit(&fit, NULL, NULL, x, 2, 2, 3, 10, 0, 1e-3, 1), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_gmm_fit(&fit, NULL, NULL, x, n, 2, 0, 10, 0, 1e-3, 1), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(flow_gmm_fit(&fit, NULL, NULL, x, n, 2, 3, 10, 0, 0.0, 1), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(
        flow_gmm_fit(&fit, NULL, NULL, x, n, 2, FLOW_MAX_COMPONENTS + 1, 10, 0, 1e-3, 1),
        TUTOR_ETOOBIG);
    mat_free(x);
    flow_mixture_free(&m);
}

/* In 16 dimensions (4 x 4 patch vectors) with a large common offset: the centring keeps
 * the distances exact, and a collapsed cluster (identical points) stops at the floor. */
static void test_gmm_high_dim(void)
{
    size_t n = 600, d = 16, iters;
    double *x = mat_new(n, d), ll[101];
    CU_ASSERT_FATAL(x != NULL);
    rng r;
    rng_seed(&r, 23);
    for (size_t p = 0; p < n; p++)
        for (size_t i = 0; i < d; i++) {
            int c = (int)(p % 3);
            x[p * d + i] = c == 2 ? 1000.0 : 1000.0 + (c ? 2.0 : -2.0) + 0.1 * rng_gauss(&r);
        }
    flow_mixture fit;
    CU_ASSERT_EQUAL_FATAL(flow_gmm_fit(&fit, ll, &iters, x, n, d, 3, 100, 1e-12, 1e-3, 2), 0);
    for (size_t i = 0; i < iters; i++)
        CU_ASSERT(ll[i + 1] >= ll[i] - 1e-9);
    int at_floor = 0;
    for (size_t j = 0; j < 3; j++) {
        CU_ASSERT_DOUBLE_EQUAL(fit.weight[j], 1.0 / 3, 0.01);
        at_floor += fit.sigma[j] == 1e-3;
        CU_ASSERT(fit.sigma[j] < 0.2);
    }
    CU_ASSERT_EQUAL(at_floor, 1);
    flow_mixture_free(&fit);
    mat_free(x);
}

/* ---- bigram ---- */

static void test_bigram_counts(void)
{
    /* Two sequences over {0, 1, 2}: 0 1 1 2 and 1 1 0 1.
     * first: 0 -> 1, 1 -> 1. pairs: 0->1 twice, 1->1 twice, 1->2 once, 1->0 once. */
    const int seqs[] = {0, 1, 1, 2, 1, 1, 0, 1};
    bigram b;
    CU_ASSERT_EQUAL_FATAL(bigram_fit(&b, seqs, 2, 4, 3, 1.0), 0);
    const int64_t first[] = {1, 1, 0}, pair[] = {0, 2, 0, 1, 2, 1, 0, 0, 0};
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(b.first[i], first[i]);
    for (int i = 0; i < 9; i++)
        CU_ASSERT_EQUAL(b.pair[i], pair[i]);
    /* Add-one: start = (1+1, 1+1, 0+1) / 5; row 0 = (1, 3, 1) / 5; row 1 = (2, 3, 2) / 7;
     * row 2 was never followed: uniform. */
    CU_ASSERT_DOUBLE_EQUAL(b.start[2], 0.2, TOL_EXACT);
    CU_ASSERT_DOUBLE_EQUAL(b.trans[1], 0.6, TOL_EXACT);
    CU_ASSERT_DOUBLE_EQUAL(b.trans[4], 3.0 / 7, TOL_EXACT);
    CU_ASSERT_DOUBLE_EQUAL(b.trans[8], 1.0 / 3, TOL_EXACT);
    double ll, want = log(0.4) + log(0.6) + log(3.0 / 7) + log(2.0 / 7);
    const int one[] = {0, 1, 1, 2};
    CU_ASSERT_EQUAL(bigram_loglik(&ll, &b, one, 1, 4), 0);
    CU_ASSERT_DOUBLE_EQUAL(ll, want, TOL_EXACT);
    bigram_free(&b);
    /* alpha = 0.5. */
    CU_ASSERT_EQUAL_FATAL(bigram_fit(&b, seqs, 2, 4, 3, 0.5), 0);
    CU_ASSERT_DOUBLE_EQUAL(b.trans[1], 2.5 / 3.5, TOL_EXACT);
    bigram_free(&b);
    const int badtok[] = {0, 3};
    CU_ASSERT_EQUAL(bigram_fit(&b, badtok, 1, 2, 3, 1.0), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(bigram_fit(&b, seqs, 2, 4, 3, 0.0), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(bigram_fit(&b, seqs, 2, 4, 3, NAN), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(bigram_fit(&b, seqs, 0, 4, 3, 1.0), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(bigram_fit(&b, seqs, 2, 4, BIGRAM_MAX_VOCAB + 1, 1.0), TUTOR_ETOOBIG);
    CU_ASSERT_PTR_NULL(b.pair);
}

/* Sampling follows the fitted model: a long sample's transition frequencies match trans
 * (5 standard errors), and refitting on the samples nearly recovers the model. */
static void test_bigram_sample(void)
{
    const int seqs[] = {0, 1, 2, 0, 1, 2, 2, 2, 1, 0, 0, 1};
    bigram b, b2;
    CU_ASSERT_EQUAL_FATAL(bigram_fit(&b, seqs, 2, 6, 3, 1.0), 0);
    size_t n = 400, len = 100;
    int *out = mem_alloc(n * len * sizeof *out);
    CU_ASSERT_FATAL(out != NULL);
    rng r;
    rng_seed(&r, 31);
    CU_ASSERT_EQUAL(bigram_sample(out, &b, n, len, &r), 0);
    CU_ASSERT_EQUAL_FATAL(bigram_fit(&b2, out, n, len, 3, 1e-9), 0);
    for (size_t a = 0; a < 3; a++) {
        double row = 0;
        for (size_t c = 0; c < 3; c++)
            row += (double)b2.pair[a * 3 + c];
        for (size_t c = 0; c < 3; c++) {
            double p = b.trans[a * 3 + c], se = sqrt(p * (1 - p) / row);
            CU_ASSERT_DOUBLE_EQUAL(b2.trans[a * 3 + c], p, 5 * se);
        }
    }
    /* The model's own samples score better under it than under a uniform model. */
    double ll;
    CU_ASSERT_EQUAL(bigram_loglik(&ll, &b, out, n, len), 0);
    CU_ASSERT(ll > (double)(n * len) * log(1.0 / 3));
    const int bad[] = {5};
    CU_ASSERT_EQUAL(bigram_loglik(&ll, &b, bad, 1, 1), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(bigram_sample(out, &b, 1, 0, &r), TUTOR_EINVAL);
    mem_free(out);
    bigram_free(&b);
    bigram_free(&b2);
}

/* ---- traces ---- */

static void test_trace_velocity(void)
{
    flow_mixture m;
    mix3(&m);
    trace *tr = trace_new(0);
    CU_ASSERT_FATAL(tr != NULL);
    trace_set_listing(tr, flow_velocity_listing, flow_velocity_listing_len);
    double x[2] = {0.5, 0.2}, v[2], post[3];
    CU_ASSERT_EQUAL(flow_velocity(v, post, &m, x, 0.6, tr), 0);
    CU_ASSERT_EQUAL(trace_len(tr), 4);
    size_t last = trace_len(tr) - 1;
    const trace_snap *sv = trace_latest(tr, last, "v"), *sw = trace_latest(tr, last, "w");
    const trace_snap *ss = trace_latest(tr, last, "s2");
    CU_ASSERT_FATAL(sv && sw && ss);
    CU_ASSERT(mat_max_abs_diff(sv->reals, v, 2) == 0.0);
    CU_ASSERT(mat_max_abs_diff(sw->reals, post, 3) == 0.0);
    CU_ASSERT_DOUBLE_EQUAL(ss->reals[0], 0.36 * 0.16 + 0.16, TOL_EXACT);
    for (size_t i = 0; i < trace_len(tr); i++) {
        int line = trace_at(tr, i)->line;
        CU_ASSERT(line >= 1 && (size_t)line <= flow_velocity_listing_len);
    }
    trace_free(tr);
    flow_mixture_free(&m);
}

static void test_trace_sample(void)
{
    flow_mixture m;
    mix3(&m);
    const size_t steps[] = {5, FLOW_TRACE_STEPS + 10};
    for (int h = 0; h < 2; h++)
        for (int c = 0; c < 2; c++) {
            size_t n = 300, S = steps[c];
            double *x = mat_new(n, 2), *y = mat_new(n, 2);
            CU_ASSERT_FATAL(x && y);
            trace *tr = trace_new(0);
            CU_ASSERT_FATAL(tr != NULL);
            trace_set_listing(tr, flow_sample_listing, flow_sample_listing_len);
            flow_sample_opts o;
            flow_sample_opts_default(&o);
            o.steps = S;
            o.method = h ? FLOW_HEUN : FLOW_EULER;
            flow_noise(x, n, 2, 3);
            memcpy(y, x, n * 2 * sizeof *x);
            CU_ASSERT_EQUAL(flow_sample(x, NULL, &m, &o, n, tr), 0);
            CU_ASSERT_EQUAL(flow_sample(y, NULL, &m, &o, n, NULL), 0);
            CU_ASSERT(mat_max_abs_diff(x, y, 2 * n) == 0.0); /* tracing changes nothing */
            size_t recorded = S < FLOW_TRACE_STEPS ? S : FLOW_TRACE_STEPS + 1;
            CU_ASSERT_EQUAL(trace_len(tr), 2 + recorded + 1);
            const trace_snap *sx = trace_latest(tr, trace_len(tr) - 1, "x");
            CU_ASSERT_FATAL(sx != NULL);
            CU_ASSERT_EQUAL(sx->rows, FLOW_TRACE_PARTICLES);
            CU_ASSERT(mat_max_abs_diff(sx->reals, x, 2 * FLOW_TRACE_PARTICLES) == 0.0);
            CU_ASSERT_EQUAL(trace_at(tr, 2)->line, h ? 7 : 6);
            const trace_snap *ts = trace_latest(tr, 0, "ts");
            CU_ASSERT(ts && ts->cols == S + 1);
            trace_free(tr);
            mat_free(x);
            mat_free(y);
        }
    /* The density of the noise, by hand: one N(0, 1) component, so the window is
     * [-3, 3]^2 in cells 0.25 wide and 0.5 tall, top row the largest x_2. */
    {
        const double w1 = 1, mu1[2] = {0, 0}, s1 = 1;
        flow_mixture one;
        CU_ASSERT_EQUAL_FATAL(flow_mixture_set(&one, &w1, mu1, &s1, 1, 2), 0);
        double p[8] = {0.1, 0.1, -2.9, 2.9, 2.9, -2.9, 10, 0};
        trace *td = trace_new(0);
        flow_sample_opts o;
        flow_sample_opts_default(&o);
        o.steps = 1;
        CU_ASSERT_EQUAL(flow_sample(p, NULL, &one, &o, 4, td), 0);
        const trace_snap *dn = trace_find(trace_at(td, 1), "density");
        CU_ASSERT_FATAL(dn != NULL);
        CU_ASSERT_EQUAL(dn->rows, FLOW_DENSITY_ROWS);
        CU_ASSERT_EQUAL(dn->cols, FLOW_DENSITY_COLS);
        double total = 0;
        for (size_t i = 0; i < dn->rows * dn->cols; i++)
            total += dn->reals[i];
        CU_ASSERT_EQUAL(total, 3.0); /* (10, 0) is outside */
        CU_ASSERT_EQUAL(dn->reals[5 * FLOW_DENSITY_COLS + 12], 1.0);
        CU_ASSERT_EQUAL(dn->reals[0], 1.0);
        CU_ASSERT_EQUAL(dn->reals[11 * FLOW_DENSITY_COLS + 23], 1.0);
        /* After the step every particle sits on the mean (S = 1: x0 + v(x0, 0) = mu). */
        dn = trace_latest(td, trace_len(td) - 1, "density");
        CU_ASSERT_FATAL(dn != NULL);
        CU_ASSERT_EQUAL(dn->reals[6 * FLOW_DENSITY_COLS + 12], 4.0);
        trace_free(td);
        flow_mixture_free(&one);
    }
    /* flow_euler_step: one step at line 3 with the velocities and the new particles. */
    trace *tr = trace_new(0);
    trace_set_listing(tr, flow_euler_listing, flow_euler_listing_len);
    double x[6] = {0, 0, 1, 1, -1, 2}, v[6];
    flow_field(v, &m, NULL, 0, x, 3, 0.2);
    CU_ASSERT_EQUAL(flow_euler_step(x, &m, 3, 0.2, 0.1, tr), 0);
    CU_ASSERT_EQUAL(trace_len(tr), 1);
    CU_ASSERT_EQUAL(trace_at(tr, 0)->line, 3);
    const trace_snap *sv = trace_latest(tr, 0, "v"), *sx = trace_latest(tr, 0, "x");
    CU_ASSERT(sv && mat_max_abs_diff(sv->reals, v, 6) < TOL_EXACT); /* point vs fast form */
    CU_ASSERT(sx && mat_max_abs_diff(sx->reals, x, 6) == 0.0);
    trace_free(tr);
    flow_mixture_free(&m);
}

/* ---- allocation failures ---- */

static char sweep_path[64];

static int sweep_body(void *ctx)
{
    int which = *(int *)ctx;
    flow_mixture m = {0}, c = {0}, fit = {0};
    bigram b = {0};
    trace *tr = NULL;
    double x[40], traj[11 * 40];
    char err[128];
    int rc = flow_mixture_set(&m, W3, MU3, SG3, 3, 2);
    if (rc)
        return rc;
    flow_noise(x, 20, 2, 1);
    flow_sample_opts o;
    flow_sample_opts_default(&o);
    o.steps = 10;
    size_t members[] = {1};
    switch (which) {
    case 0: rc = flow_mixture_load(&fit, sweep_path, err, sizeof err); break;
    case 1: rc = flow_mixture_class(&c, &m, members, 1); break;
    case 2:
        if (!(rc = flow_mixture_class(&c, &m, members, 1)))
            rc = flow_field(traj, &m, &c, 2.0, x, 20, 0.5);
        break;
    case 3: rc = flow_euler_step(x, &m, 20, 0.5, 0.1, NULL); break;
    case 4:
    case 5:
        if (!(tr = trace_new(0))) {
            rc = TUTOR_ENOMEM;
            break;
        }
        rc = which == 4 ? flow_euler_step(x, &m, 20, 0.5, 0.1, tr)
                        : flow_velocity(traj, NULL, &m, x, 0.5, tr);
        break;
    case 6: rc = flow_sample(x, traj, &m, &o, 20, NULL); break;
    case 7:
        o.method = FLOW_HEUN;
        if (!(rc = flow_mixture_class(&c, &m, members, 1))) {
            o.cond = &c;
            o.guidance = 2.0;
            rc = flow_sample(x, NULL, &m, &o, 20, NULL);
        }
        break;
    case 8:
        if (!(tr = trace_new(0))) {
            rc = TUTOR_ENOMEM;
            break;
        }
        rc = flow_sample(x, NULL, &m, &o, 20, tr);
        break;
    case 9: rc = flow_gmm_fit(&fit, NULL, NULL, x, 20, 2, 3, 5, 0, 1e-3, 1); break;
    default: {
        const int seqs[] = {0, 1, 1, 2, 1, 1, 0, 1};
        rc = bigram_fit(&b, seqs, 2, 4, 3, 1.0);
        break;
    }
    }
    trace_free(tr);
    flow_mixture_free(&m);
    flow_mixture_free(&c);
    flow_mixture_free(&fit);
    bigram_free(&b);
    return rc;
}

static void test_alloc_failures(void)
{
    temp_file(sweep_path, "1 0 0 1\n2 1 1 0.5\n");
    for (int which = 0; which <= 10; which++) {
        int n = th_alloc_sweep(sweep_body, &which, 0);
        if (n < 1) {
            fprintf(stderr, "\n  sweep %d: %d failure points\n", which, n);
            CU_FAIL("allocation sweep");
        }
    }
    unlink(sweep_path);
}

/* ---- the command line ---- */

static strbuf out = STRBUF_INIT, err = STRBUF_INIT;
static void test_cli_velocity(void)
{
    /* pi = 0.25, 0.75 after normalising 1 : 3; sum pi mu = (0.5 - 0.75, 0.75). */
    char path[64];
    temp_file(path, "# weight mu_x mu_y sigma\n1 2 0 0.5\n3 -1 1 0.3\n");
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "flow", "--velocity", "--x", "0.5 -1.5", "--t", "0",
                           "--mixture", path, "--json", NULL),
                    0);
    const char *js = strbuf_str(&out);
    CU_ASSERT_TRUE(th_json_valid(js));
    CU_ASSERT_PTR_NOT_NULL(strstr(js, "{\"topic\": \"flow\", \"mode\": \"velocity\""));
    double v[4];
    CU_ASSERT_EQUAL(th_json_numbers(js, "velocity", v, 4), 2);
    CU_ASSERT_DOUBLE_EQUAL(v[0], -0.25 - 0.5, TOL_EXACT);
    CU_ASSERT_DOUBLE_EQUAL(v[1], 0.75 + 1.5, TOL_EXACT);
    CU_ASSERT_EQUAL(th_json_numbers(js, "result", v, 4), 2);
    CU_ASSERT_DOUBLE_EQUAL(v[0], -0.75, TOL_EXACT);
    /* At t = 0 the posterior is the prior. */
    CU_ASSERT_EQUAL(th_json_numbers(js, "posterior", v, 4), 2);
    CU_ASSERT_DOUBLE_EQUAL(v[0], 0.25, TOL_EXACT);
    CU_ASSERT_DOUBLE_EQUAL(v[1], 0.75, TOL_EXACT);
    /* At t = 1 the field is x, whatever the mixture; commas separate too. */
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "flow", "--velocity", "--x", "0.5,-1.5", "--t", "1",
                           "--mixture", path, "--json", NULL),
                    0);
    CU_ASSERT_EQUAL(th_json_numbers(strbuf_str(&out), "velocity", v, 4), 2);
    CU_ASSERT_DOUBLE_EQUAL(v[0], 0.5, TOL_EXACT);
    CU_ASSERT_DOUBLE_EQUAL(v[1], -1.5, TOL_EXACT);
    /* Text, and the trace of the four listing lines. */
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "flow", "--velocity", "--x", "0.5 -1.5", "--t", "0",
                           "--mixture", path, NULL),
                    0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "v = (-0.75, 2.25)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "  1: 0.75\n"));
    CU_ASSERT_EQUAL(err.len, 0);
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "flow", "--velocity", "--x", "1 2", "--t", "0.5",
                           "--json", "--trace", NULL),
                    0);
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"steps\": [{"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"logw\""));
    unlink(path);
}

/* The samples of a --json run ("result", P x 2) into x; returns how many values. */
static long run_samples(double *x, size_t max, const char *a1, const char *a2, const char *a3,
                        const char *a4)
{
    int rc = th_cli(&out, &err, "run", "flow", "--particles", "40", "--steps", "6", "--json", a1,
                    a2, a3, a4, NULL);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
    return th_json_numbers(strbuf_str(&out), "result", x, max);
}

static void test_cli_sample(void)
{
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "flow", "--json", NULL), 0);
    const char *js = strbuf_str(&out);
    CU_ASSERT_TRUE(th_json_valid(js));
    CU_ASSERT_PTR_NOT_NULL(strstr(js, "{\"topic\": \"flow\", \"mode\": \"sample\", \"S\": 32, "
                                      "\"method\": \"euler\", \"shift\": 1, \"particles\": 256"));
    const char *keys[] = {"\"mixture\": {\"weight\": [",
                          "\"mean\": [[",
                          "\"sigma\": [",
                          "\"quality\": {\"mean_dist\": ",
                          "\"frac\": [",
                          "\"tv\": ",
                          "\"spread\": ",
                          "\"result\": [["};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        CU_ASSERT_PTR_NOT_NULL(strstr(js, keys[i]));
    }
    /* The result is the library's on the same noise and mixture. */
    static double x[2 * 256], lib[2 * 256];
    CU_ASSERT_EQUAL(th_json_numbers(js, "result", x, 512), 512);
    flow_mixture m = {0};
    CU_ASSERT_EQUAL_FATAL(flow_mixture_default(&m, 4, 1), 0);
    flow_sample_opts o;
    flow_sample_opts_default(&o);
    CU_ASSERT_EQUAL(flow_noise(lib, 256, 2, 1), 0);
    CU_ASSERT_EQUAL(flow_sample(lib, NULL, &m, &o, 256, NULL), 0);
    for (size_t i = 0; i < 512; i++) {
        CU_ASSERT_DOUBLE_EQUAL(x[i], lib[i], 1e-15 * (1 + fabs(lib[i])));
    }
    flow_mixture_free(&m);
    /* Heun with a shift and a file; every option's value reaches the JSON. */
    char path[64];
    temp_file(path, "1 -2 0 0.3\n1 2 0 0.3\n");
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "flow", "--method", "heun", "--shift", "3", "--steps",
                           "5", "--particles", "7", "--mixture", path, "--seed", "9", "--json",
                           NULL),
                    0);
    js = strbuf_str(&out);
    CU_ASSERT_TRUE(th_json_valid(js));
    CU_ASSERT_PTR_NOT_NULL(strstr(js, "\"S\": 5, \"method\": \"heun\", \"shift\": 3, "
                                      "\"particles\": 7"));
    CU_ASSERT_EQUAL(th_json_numbers(js, "result", x, 512), 14);
    CU_ASSERT_EQUAL(th_json_numbers(js, "weight", x, 512), 2);
    CU_ASSERT_DOUBLE_EQUAL(x[0], 0.5, TOL_EXACT);
    /* Text: the mixture table, the scatter, nothing wider than 80 columns; the trace. */
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "flow", "--steps", "8", "--particles", "200", NULL),
                    0);
    const char *tx = strbuf_str(&out);
    CU_ASSERT_PTR_NOT_NULL(strstr(tx, "flow: 200 particles, 8 euler steps, shift 1\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(tx, "mixture (4 components, seeded default)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(tx, "digits: the component means"));
    size_t width = 0, col = 0;
    for (const char *c = tx; *c; c++) {
        col = *c == '\n' ? 0 : col + 1;
        width = col > width ? col : width;
    }
    CU_ASSERT(width <= 80);
    CU_ASSERT(th_count_lines(tx) < 40);
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "flow", "--steps", "3", "--particles", "5", "--trace",
                           "--json", NULL),
                    0);
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"steps\": [{"));
    unlink(path);
}

static void test_cli_guidance(void)
{
    static double plain[80], cls[80], w1[80], w0[80], w3[80];
    CU_ASSERT_EQUAL(run_samples(plain, 80, NULL, NULL, NULL, NULL), 80);
    CU_ASSERT_EQUAL(run_samples(cls, 80, "--class", "2", NULL, NULL), 80);
    CU_ASSERT_EQUAL(run_samples(w1, 80, "--class", "2", "--guidance", "1"), 80);
    CU_ASSERT_EQUAL(run_samples(w0, 80, "--class", "2", "--guidance", "0"), 80);
    CU_ASSERT_EQUAL(run_samples(w3, 80, "--class", "2", "--guidance", "3"), 80);
    /* w = 1: v_u + (v_c - v_u) is the class's own field, to rounding; w = 0 ignores the
     * class (bit for bit, since the library skips it). */
    double diff = 0, moved = 0;
    for (int i = 0; i < 80; i++) {
        diff = fmax(diff, fabs(w1[i] - cls[i]));
        moved = fmax(moved, fabs(cls[i] - plain[i]));
        CU_ASSERT_EQUAL(w0[i], plain[i]);
    }
    CU_ASSERT(diff < 1e-9);
    CU_ASSERT(moved > 0.5);
    /* w = 3 crowds the samples together: less spread than the class alone. */
    double spread[2];
    const double *sets[2] = {cls, w3};
    for (int s = 0; s < 2; s++) {
        double mean[2];
        CU_ASSERT_EQUAL(flow_moments(mean, NULL, &spread[s], sets[s], 40, 2), 0);
    }
    CU_ASSERT(spread[1] < spread[0]);
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "flow", "--class", "2", "--guidance", "3", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "class 2 with guidance w = 3"));
}

static void test_cli_compare(void)
{
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "flow", "--compare", "--json", NULL), 0);
    const char *js = strbuf_str(&out);
    CU_ASSERT_TRUE(th_json_valid(js));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(js, "{\"topic\": \"flow\", \"mode\": \"compare\", \"codes\": 16"));
    const char *keys[] = {"\"floor_mse\": ",   "\"recon_mse\": ",       "\"bigram_nn_mse\": ",
                          "\"flow_nn_mse\": ", "\"held_out_nn_mse\": ", "\"rate_distortion\": {"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        CU_ASSERT_PTR_NOT_NULL(strstr(js, keys[i]));
    }
    /* 4 images of 16 x 16 in each of the four sets. */
    static double img[2000];
    const char *sets[] = {"real", "recon", "bigram", "flow"};
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(th_json_numbers(js, sets[i], img, 2000), 4 * 256);
    }
    /* The floor is vq's rate-distortion at K = 16 on the same set, and the last point of
     * the curve reported beside it. */
    double floor_mse, curve[VQ_RD_MAX];
    CU_ASSERT_EQUAL(th_json_numbers(js, "floor_mse", &floor_mse, 1), 1);
    CU_ASSERT_EQUAL(th_json_numbers(js, "mse", curve, VQ_RD_MAX), 4);
    CU_ASSERT_EQUAL(curve[3], floor_mse);
    double *images = mat_new(64, 256), *x = mat_new(1024, 16);
    vq_rd_point pts[VQ_RD_MAX];
    size_t npts = 0;
    CU_ASSERT_EQUAL_FATAL(vq_images(images, NULL, 64, 16, 1), 0);
    CU_ASSERT_EQUAL_FATAL(vq_patchify(x, images, 64, 16, 4), 0);
    CU_ASSERT_EQUAL(vq_rate_distortion(pts, &npts, x, 1024, 16, 16, 16, 50, 1), 0);
    CU_ASSERT_EQUAL(npts, 4);
    CU_ASSERT_DOUBLE_EQUAL(pts[npts - 1].mse, floor_mse, 1e-15);
    /* The real images are vq's procedural set, first four. */
    CU_ASSERT_EQUAL(th_json_numbers(js, "real", img, 2000), 1024);
    for (int i = 0; i < 1024; i++) {
        CU_ASSERT_DOUBLE_EQUAL(img[i], images[i], 1e-15);
    }
    mat_free(images);
    mat_free(x);
    /* Text, another K, the trace (the strips the figure reads). */
    CU_ASSERT_EQUAL(
        th_cli(&out, &err, "run", "flow", "--compare", "--codes", "4", "--steps", "4", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "vq rate-distortion at K = 4"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "(b) flow on the patch vectors:"));
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "flow", "--compare", "--trace", "--json", NULL), 0);
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"state\": {\"bigram\": [["));
}

static void expect_bad(const char *needle, ...)
{
    va_list ap;
    va_start(ap, needle);
    char *argv[24] = {"run", "flow"};
    int argc = 2;
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 24;)
        argv[argc++] = a;
    va_end(ap);
    if (!th_refused(th_cli_argv(&out, &err, argc, argv), &out, &err, needle))
        fprintf(stderr, "  (expected '%s')\n", needle);
}

static void test_cli_bad_input(void)
{
    char w0[64], wneg[64], s0[64], sneg[64], nanf[64], cols[64], big[64];
    temp_file(w0, "1 0 0 1\n0 1 1 1\n");
    temp_file(big, "1 0 0 1\n1 1e300 0 1\n");
    temp_file(wneg, "-1 0 0 1\n");
    temp_file(s0, "1 0 0 0\n");
    temp_file(sneg, "1 0 0 1\n1 2 2 -0.5\n");
    temp_file(nanf, "1 0 nan 1\n");
    temp_file(cols, "1 0 0\n");
    /* The listed cases: a weight <= 0, sigma <= 0, t outside [0, 1], S < 1, non-finite. */
    expect_bad("component 2: weight 0; expected > 0", "--mixture", w0, NULL);
    expect_bad("component 1: weight -1; expected > 0", "--mixture", wneg, "--velocity", "--x",
               "0 0", "--t", "0.5", NULL);
    expect_bad("component 1: sigma 0; expected > 0", "--mixture", s0, NULL);
    expect_bad("component 2: sigma -0.5; expected > 0", "--mixture", sneg, NULL);
    expect_bad("--t: 1.5 is outside [0, 1]", "--velocity", "--x", "0 0", "--t", "1.5", NULL);
    expect_bad("--t: -0.1 is outside [0, 1]", "--velocity", "--x", "0 0", "--t", "-0.1", NULL);
    expect_bad("--steps: 0 is outside [1, ", "--steps", "0", NULL);
    expect_bad("--steps: -3 is outside [1, ", "--steps", "-3", NULL);
    expect_bad("--t: nan is outside [0, 1]", "--velocity", "--x", "0 0", "--t", "nan", NULL);
    expect_bad("--x: 'inf' is not a finite number", "--velocity", "--x", "inf 0", "--t", "0", NULL);
    expect_bad("--x: 'nan' is not a finite number", "--velocity", "--x", "nan 1", "--t", "0", NULL);
    expect_bad("--shift: inf is outside", "--shift", "inf", NULL);
    expect_bad("--guidance: nan is outside", "--class", "0", "--guidance", "nan", NULL);
    expect_bad("is not a finite number", "--mixture", nanf, NULL);
    /* And the rest of the options. */
    expect_bad("values per row; expected 4", "--mixture", cols, NULL);
    expect_bad("--mixture: ", "--mixture", "/nonexistent/flow.txt", NULL);
    expect_bad("--shift: 0 is outside (0, ", "--shift", "0", NULL);
    expect_bad("--method: expected euler or heun, got 'rk4'", "--method", "rk4", NULL);
    expect_bad("--class: 4 is not a component (0..3)", "--class", "4", NULL);
    expect_bad("--class: -1 is outside [0, 3]", "--class", "-1", NULL);
    expect_bad("--guidance needs --class", "--guidance", "2", NULL);
    expect_bad("--particles: 0 is outside", "--particles", "0", NULL);
    expect_bad("--particles: 100001 is too big", "--particles", "100001", NULL);
    expect_bad("too much work", "--steps", "10000", "--particles", "100000", NULL);
    expect_bad("--velocity needs --x", "--velocity", "--t", "0.5", NULL);
    expect_bad("--x: expected two numbers \"a b\", got 1", "--velocity", "--x", "1", "--t", "0",
               NULL);
    expect_bad("--x: more than two numbers", "--velocity", "--x", "1 2 3", "--t", "0", NULL);
    expect_bad("--x: 'two' is not a finite number", "--velocity", "--x", "1 two", "--t", "0", NULL);
    expect_bad("--x does not apply to sampling", "--x", "1 2", NULL);
    expect_bad("--steps does not apply to --velocity", "--velocity", "--x", "1 2", "--t", "0",
               "--steps", "4", NULL);
    expect_bad("--mixture does not apply to --compare", "--compare", "--mixture", w0, NULL);
    expect_bad("--codes does not apply to sampling", "--codes", "8", NULL);
    expect_bad("--codes: 12 is not a power of two", "--compare", "--codes", "12", NULL);
    expect_bad("--codes: 512 is too big", "--compare", "--codes", "512", NULL);
    expect_bad("--velocity and --compare exclude each other", "--velocity", "--compare", NULL);
    expect_bad("unknown option '--k'", "--k", "3", NULL);
    /* Finite but past the ranges that keep squares and steps finite. */
    expect_bad("component 2: means and sigma must be within 1e6", "--mixture", big, NULL);
    expect_bad("--x: 1e+07: values must be within 1e6", "--velocity", "--x", "1e7 0", "--t", "0.5",
               NULL);
    expect_bad("--guidance: 101 is outside [-100, 100]", "--class", "0", "--guidance", "101", NULL);
    unlink(w0);
    unlink(wneg);
    unlink(s0);
    unlink(sneg);
    unlink(nanf);
    unlink(cols);
    unlink(big);
}

static void test_cli_plot_dumb(void)
{
    CU_ASSERT_EQUAL(th_cli(&out, &err, "plot", "flow", "--format", "dumb", NULL), 0);
    const char *s = strbuf_str(&out);
    const char *titles[] = {"The exact field v(x, t) as arrows",
                            "Trajectories of 48 particles",
                            "Samples after S steps",
                            "Sample quality against the number",
                            "Guidance towards class 0",
                            "Discrete tokens against continuous"};
    for (size_t i = 0; i < sizeof titles / sizeof titles[0]; i++) {
        if (!strstr(s, titles[i]))
            fprintf(stderr, "\n  missing figure: %s\n", titles[i]);
        CU_ASSERT_PTR_NOT_NULL(strstr(s, titles[i]));
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "t = 0.9"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "w = 4, spread"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "(b) flow on patches: nn"));
    /* A plot refuses what the run refuses. */
    CU_ASSERT_TRUE(
        th_refused(th_cli(&out, &err, "plot", "flow", "--steps", "0", "--format", "dumb", NULL),
                   &out, &err, "--steps"));
}

static int cli_body(void *ctx)
{
    const char *mode = ctx;
    strbuf o = STRBUF_INIT, e = STRBUF_INIT;
    int rc = strcmp(mode, "velocity") == 0
                 ? th_cli(&o, &e, "run", "flow", "--velocity", "--x", "1 2", "--t", "0.3",
                          "--mixture", sweep_path, "--json", "--trace", NULL)
             : strcmp(mode, "sample") == 0
                 ? th_cli(&o, &e, "run", "flow", "--particles", "9", "--steps", "3", "--class", "1",
                          "--guidance", "2", "--method", "heun", "--json", "--trace", NULL)
                 : th_cli(&o, &e, "run", "flow", "--compare", "--codes", "4", "--steps", "2",
                          "--trace", NULL);
    strbuf_free(&o);
    strbuf_free(&e);
    return rc == 0 ? 0 : rc == 1 ? TUTOR_ENOMEM : rc;
}

static void test_cli_alloc_failures(void)
{
    /* The CLI reports an allocation failure as exit 1 (never a crash or a leak). */
    temp_file(sweep_path, "1 0 0 1\n2 1 1 0.5\n");
    const char *modes[] = {"velocity", "sample", "compare"};
    for (int i = 0; i < 3; i++)
        CU_ASSERT(th_alloc_sweep(cli_body, (void *)modes[i], 0) > 0);
    unlink(sweep_path);
}

void tests_register(void)
{
    static const th_test mixtures[] = {
        {"set: validation and normalised weights", test_mixture_set_validation},
        {"default: seeded, on a circle", test_mixture_default},
        {"file: rows, errors, caps", test_mixture_file},
        {"class sub-mixture and sampling", test_mixture_class_and_sample},
        {"moments by hand", test_moments_by_hand},
        {NULL, NULL},
    };
    th_suite("flow mixtures", mixtures);
    static const th_test field[] = {
        {"t = 0: sum pi mu - x; t = 1: x", test_velocity_t0_and_t1},
        {"exact = slow form; stable far away", test_velocity_vs_slow},
        {"exact = Monte Carlo E[x1 - x0 | x_t]", test_velocity_monte_carlo},
        {"fast field (dgemm) = point by point", test_field_fast_vs_point},
        {"invalid t, x, sizes", test_velocity_invalid},
        {"guidance: w = 0, 1 and 3", test_guidance_fields},
        {NULL, NULL},
    };
    th_suite("flow field", field);
    static const th_test sampling[] = {
        {"schedule and shift", test_schedule},
        {"Euler lands on the mixture's mean and covariance", test_euler_moments},
        {"Heun beats Euler (closed-form flow)", test_heun_vs_euler},
        {"Euler steps and trajectories", test_euler_step_and_traj},
        {"invalid options and caps", test_sample_invalid_and_caps},
        {"quality against steps", test_quality_vs_steps},
        {"guidance w > 1 lowers diversity", test_guidance_diversity},
        {NULL, NULL},
    };
    th_suite("flow sampling", sampling);
    static const th_test fit[] = {
        {"EM: monotone, recovers the means", test_gmm_fit},
        {"EM: 16 dimensions, offset, floor", test_gmm_high_dim},
        {"bigram: counts by hand", test_bigram_counts},
        {"bigram: sampling follows the model", test_bigram_sample},
        {NULL, NULL},
    };
    th_suite("flow fitting", fit);
    static const th_test rest[] = {
        {"trace: the field at a point", test_trace_velocity},
        {"trace: sampling and an Euler step", test_trace_sample},
        {"allocation failures", test_alloc_failures},
        {NULL, NULL},
    };
    th_suite("flow traces and memory", rest);
    static const th_test cli[] = {
        {"cli: --velocity at t = 0 and 1, text, trace", test_cli_velocity},
        {"cli: sampling JSON = library, text at 80 columns", test_cli_sample},
        {"cli: --class, --guidance 0, 1 and 3", test_cli_guidance},
        {"cli: --compare, the floor is vq's", test_cli_compare},
        {"cli: bad input, one line, exit 2", test_cli_bad_input},
        {"cli: plot flow --format dumb", test_cli_plot_dumb},
        {"cli: allocation failures", test_cli_alloc_failures},
        {NULL, NULL},
    };
    th_suite("flow command line", cli);
}
