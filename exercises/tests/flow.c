/* The flow exercise: the exact velocity of rectified flow on a Gaussian mixture and one
 * Euler step, against the library's. */
#include <math.h>
#include <string.h>

#include "../../models/flow.h"
#include "../../trace/mem.h"
#include "../../trace/rng.h"
#include "../../trace/status.h"
#include "ex.h"

EX_REF(flow_velocity);
EX_REF(flow_euler_step);

#define TOL  1e-10
#define KMAX 6
#define DMAX 4
#define NMAX 8

/* The mixture of the hand-checked cases: weights 1/4, 1/2, 1/4. */
static int mix3(flow_mixture *m)
{
    static const double w[] = {1, 2, 1}, mu[] = {-2, 0, 1.5, 1, 0.5, -2.5}, s[] = {0.4, 0.6, 0.3};
    if (flow_mixture_set(m, w, mu, s, 3, 2)) {
        ex_fail("could not build the mixture");
        return 0;
    }
    return 1;
}

/* A random mixture: k in 1..KMAX, d in 1..DMAX, from seed. */
static int random_mixture(flow_mixture *m, rng *r)
{
    size_t k = (size_t)rng_range(r, 1, KMAX), d = (size_t)rng_range(r, 1, DMAX);
    double w[KMAX], mu[KMAX * DMAX], s[KMAX];
    for (size_t j = 0; j < k; j++) {
        w[j] = 0.2 + rng_uniform(r);
        s[j] = 0.1 + rng_uniform(r);
        for (size_t i = 0; i < d; i++)
            mu[j * d + i] = 3 * rng_gauss(r);
    }
    if (flow_mixture_set(m, w, mu, s, k, d)) {
        ex_fail("could not build the mixture");
        return 0;
    }
    return 1;
}

/* Compares the field (and posterior) at x, t with the reference's. */
static void velocity_case(const flow_mixture *m, const double *x, double t)
{
    double want[DMAX], got[DMAX], pw[KMAX], pg[KMAX];
    for (size_t i = 0; i < DMAX; i++)
        got[i] = -12345.0;
    for (size_t j = 0; j < KMAX; j++)
        pg[j] = -12345.0;
    int rc_want = exref_flow_velocity(want, pw, m, x, t, NULL);
    int rc = flow_velocity(got, pg, m, x, t, NULL);
    if (ex_status("return value", rc_want, rc) && !rc && ex_reals("v", want, got, m->d, TOL))
        ex_reals("post (the posterior weights w)", pw, pg, m->k, TOL);
}

static void t_zero(void)
{
    flow_mixture m;
    if (!mix3(&m))
        return;
    /* sum pi mu = (0.25 (-2) + 0.5 (1.5) + 0.25 (0.5), 0.5 - 0.625) = (0.375, -0.125). */
    double x[2] = {1.0, 2.0}, want[2] = {0.375 - 1.0, -0.125 - 2.0}, v[2] = {-1, -1};
    ex_input("3 components (weights 1/4 1/2 1/4), x = (1, 2), t = 0");
    if (ex_status("return value", 0, flow_velocity(v, NULL, &m, x, 0.0, NULL)))
        ex_reals("v (sum_k pi_k mu_k - x)", want, v, 2, TOL);
    flow_mixture_free(&m);
}

static void t_one(void)
{
    flow_mixture m;
    if (!mix3(&m))
        return;
    double x[2] = {0.7, -0.4}, v[2] = {-1, -1};
    ex_input("3 components, x = (0.7, -0.4), t = 1");
    if (ex_status("return value", 0, flow_velocity(v, NULL, &m, x, 1.0, NULL)))
        ex_reals("v (at t = 1 it is x itself)", x, v, 2, TOL);
    flow_mixture_free(&m);
}

static void random_fields(void)
{
    rng r;
    rng_seed(&r, 5);
    for (int trial = 0; trial < 40 && !ex_failed(); trial++) {
        flow_mixture m;
        if (!random_mixture(&m, &r))
            return;
        double x[DMAX], t = rng_uniform(&r);
        for (size_t i = 0; i < m.d; i++)
            x[i] = 2 * rng_gauss(&r);
        ex_input("random mixture %d: k = %zu, d = %zu, t = %.4f (seed 5)", trial, m.k, m.d, t);
        velocity_case(&m, x, t);
        flow_mixture_free(&m);
    }
}

static void far_away(void)
{
    flow_mixture m;
    if (!mix3(&m))
        return;
    double x[2] = {400.0, -300.0};
    ex_input("3 components, x = (400, -300), t = 0.9: every density underflows to 0");
    velocity_case(&m, x, 0.9);
    flow_mixture_free(&m);
}

static void invalid(void)
{
    flow_mixture m;
    if (!mix3(&m))
        return;
    double x[2] = {0, 0}, xn[2] = {0, NAN}, v[2];
    ex_input("t = -0.1, t = 1.5, t = NaN, x = (0, NaN)");
    if (ex_status("return value (t = -0.1)", TUTOR_EINVAL,
                  flow_velocity(v, NULL, &m, x, -0.1, NULL)) &&
        ex_status("return value (t = 1.5)", TUTOR_EINVAL,
                  flow_velocity(v, NULL, &m, x, 1.5, NULL)) &&
        ex_status("return value (t = NaN)", TUTOR_EINVAL, flow_velocity(v, NULL, &m, x, NAN, NULL)))
        ex_status("return value (x = (0, NaN))", TUTOR_EINVAL,
                  flow_velocity(v, NULL, &m, xn, 0.5, NULL));
    flow_mixture_free(&m);
}

static void euler_case(const flow_mixture *m, size_t n, double t, double h, rng *r)
{
    double want[NMAX * DMAX], got[NMAX * DMAX];
    for (size_t i = 0; i < n * m->d; i++)
        want[i] = got[i] = 2 * rng_gauss(r);
    int rc_want = exref_flow_euler_step(want, m, n, t, h, NULL);
    int rc = flow_euler_step(got, m, n, t, h, NULL);
    if (ex_status("return value", rc_want, rc))
        ex_reals("x after the step", want, got, n * m->d, TOL);
}

static void euler(void)
{
    rng r;
    rng_seed(&r, 6);
    for (int trial = 0; trial < 30 && !ex_failed(); trial++) {
        flow_mixture m;
        if (!random_mixture(&m, &r))
            return;
        size_t n = (size_t)rng_range(&r, 1, NMAX);
        double t = 0.9 * rng_uniform(&r), h = 0.1 * rng_uniform(&r);
        ex_input("random mixture %d: k = %zu, d = %zu, n = %zu, t = %.4f, h = %.4f (seed 6)", trial,
                 m.k, m.d, n, t, h);
        euler_case(&m, n, t, h, &r);
        flow_mixture_free(&m);
    }
}

static void euler_invalid(void)
{
    flow_mixture m;
    if (!mix3(&m))
        return;
    double x[4] = {0, 0, 1, 1};
    ex_input("n = 0; t = 0.95 with h = 0.1; h = NaN; t = -0.5");
    if (ex_status("return value (n = 0)", TUTOR_EINVAL,
                  flow_euler_step(x, &m, 0, 0.5, 0.1, NULL)) &&
        ex_status("return value (t + h > 1)", TUTOR_EINVAL,
                  flow_euler_step(x, &m, 2, 0.95, 0.1, NULL)) &&
        ex_status("return value (h = NaN)", TUTOR_EINVAL,
                  flow_euler_step(x, &m, 2, 0.5, NAN, NULL)))
        ex_status("return value (t = -0.5)", TUTOR_EINVAL,
                  flow_euler_step(x, &m, 2, -0.5, 0.1, NULL));
    flow_mixture_free(&m);
}

static int sweep_body(void *ctx)
{
    const flow_mixture *m = ctx;
    double x[6] = {0, 0, 1, 1, -1, 2};
    trace *tr = trace_new(0);
    if (!tr)
        return TUTOR_ENOMEM;
    int rc = flow_euler_step(x, m, 3, 0.2, 0.1, NULL);
    if (!rc)
        rc = flow_euler_step(x, m, 3, 0.3, 0.1, tr);
    trace_free(tr);
    return rc;
}

static void alloc(void)
{
    flow_mixture m;
    if (!mix3(&m))
        return;
    ex_input("3 particles, an untraced then a traced step, the k-th allocation failing");
    ex_alloc_sweep(sweep_body, &m);
    flow_mixture_free(&m);
}

static void traced_velocity(void)
{
    flow_mixture m;
    trace *ref, *got;
    if (!mix3(&m))
        return;
    if (!ex_trace_pair(&ref, &got, flow_velocity_listing, flow_velocity_listing_len)) {
        flow_mixture_free(&m);
        return;
    }
    double x[2] = {0.5, 0.2}, v1[2], v2[2];
    ex_input("3 components, x = (0.5, 0.2), t = 0.6");
    exref_flow_velocity(v1, NULL, &m, x, 0.6, ref);
    if (ex_status("return value", 0, flow_velocity(v2, NULL, &m, x, 0.6, got)))
        ex_trace(ref, got, 1e-9);
    trace_free(ref);
    trace_free(got);
    flow_mixture_free(&m);
}

static void traced_euler(void)
{
    flow_mixture m;
    trace *ref, *got;
    if (!mix3(&m))
        return;
    if (!ex_trace_pair(&ref, &got, flow_euler_listing, flow_euler_listing_len)) {
        flow_mixture_free(&m);
        return;
    }
    double x1[6] = {0, 0, 1, 1, -1, 2}, x2[6];
    memcpy(x2, x1, sizeof x1);
    ex_input("3 particles (0, 0), (1, 1), (-1, 2), t = 0.2, h = 0.1");
    exref_flow_euler_step(x1, &m, 3, 0.2, 0.1, ref);
    if (ex_status("return value", 0, flow_euler_step(x2, &m, 3, 0.2, 0.1, got)))
        ex_trace(ref, got, 1e-9);
    trace_free(ref);
    trace_free(got);
    flow_mixture_free(&m);
}

static const ex_behaviour behaviours[] = {
    {"velocity at t = 0 is sum_k pi_k mu_k - x",
     "At t = 0, s2 = 1 for every component and x_0 is pure noise, so the weights are the "
     "priors pi_k and each term is mu_k - x.",
     t_zero},
    {"velocity at t = 1 is x",
     "At t = 1, s2 = sigma^2 and the factor (t sigma^2 - (1 - t)) / s2 is 1: each term is "
     "mu_k + (x - mu_k) = x.",
     t_one},
    {"velocity and posterior agree with the reference",
     "w_k is proportional to pi_k N(x; t mu_k, s2_k I), with d/2 log(2 pi s2) in the log: "
     "components with different sigmas need the normalising factor too.",
     random_fields},
    {"far from every component: log-sum-exp",
     "exp(-|x - t mu|^2 / (2 s2)) is 0 for every component here and 0/0 is NaN: work with "
     "logw, subtract its maximum, then exponentiate.",
     far_away},
    {"t outside [0, 1] or a non-finite x returns TUTOR_EINVAL",
     "Check t >= 0 && t <= 1 (false for NaN) and isfinite on each x value first.", invalid},
    {"Euler step: x = x + h v(x, t) for every particle",
     "Compute each particle's velocity with your flow_velocity (into a d-vector), then add "
     "h times it to that particle's row.",
     euler},
    {"Euler step: bad arguments return TUTOR_EINVAL",
     "n = 0, h not finite, t or t + h outside [0, 1]: refuse before touching x.", euler_invalid},
    {"Euler step: an allocation failure returns TUTOR_ENOMEM",
     "Allocate with mem_alloc and return TUTOR_ENOMEM when it gives NULL, freeing what you "
     "have.",
     alloc},
    {"trace: the field at a point, as the reference",
     "Four steps: line 2 (x, s2), line 3 (logw), line 4 (w), line 5 (v); trace_reals for each.",
     traced_velocity},
    {"trace: the Euler step, as the reference",
     "One step at line 3 with trace_real t and h, and trace_matrix v and x (the new "
     "particles), at most FLOW_TRACE_PARTICLES rows.",
     traced_euler},
    {NULL, NULL, NULL},
};

void tests_register(void)
{
    ex_register("flow", behaviours);
}
