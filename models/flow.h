/* flow.h: rectified flow (flow matching) on an isotropic Gaussian mixture, where the
 * velocity field the network would learn is known in closed form, so sampling can be
 * studied without training anything.
 *
 * Convention: x_t = (1 - t) x0 + t x1 with x0 ~ N(0, I) noise at t = 0 and x1 data at t = 1;
 * the velocity target is x1 - x0 and sampling integrates dx/dt = v(x, t) from t = 0 to 1.
 * The data is a mixture in D dimensions: weights pi_k (normalised, > 0), means mu_k (D values
 * each), isotropic standard deviations sigma_k > 0. Its exact field is
 *   v(x, t) = E[x1 - x0 | x_t = x]
 *           = sum_k w_k [mu_k + (t sigma_k^2 - (1 - t)) (x - t mu_k) / s_k^2],
 *   s_k^2 = t^2 sigma_k^2 + (1 - t)^2,  w_k ∝ pi_k N(x; t mu_k, s_k^2 I)
 * (derived in docs/flow.md); the w_k come from a log-sum-exp, so points far from every
 * component still get finite weights.
 *
 * Shapes: a set of n points is (n, D) row-major (models/mat.h); a mixture's means are (K, D).
 * Errors: TUTOR_EINVAL for an argument outside its contract (a weight <= 0, sigma <= 0, t
 * outside [0, 1], steps < 1, a non-finite value, a dimension that does not match),
 * TUTOR_ETOOBIG past the caps below, TUTOR_ENOMEM when an allocation fails (nothing leaks,
 * outputs are then unspecified). Traced functions whose recording failed return the trace's
 * sticky error, with their results computed all the same. */
#ifndef TUTOR_FLOW_H
#define TUTOR_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "../trace/rng.h"
#include "../trace/trace.h"

/* Caps (TUTOR_ETOOBIG past them). */
#define FLOW_MAX_COMPONENTS 256
#define FLOW_MAX_DIM        1024
#define FLOW_MAX_PARTICLES  ((size_t)1 << 20)
#define FLOW_MAX_STEPS      100000
#define FLOW_MAX_VALUES     ((size_t)1 << 24) /* n * D of a point set, and a trajectory */

/* sigma below this is refused (TUTOR_EINVAL): s_k^2 >= sigma^2 must stay a normal double so
 * the division by s_k^2 at t = 1 is finite. */
#define FLOW_SIGMA_MIN 1e-100

/* Recording caps: at most FLOW_TRACE_PARTICLES particles are shown in a snapshot and the
 * first FLOW_TRACE_STEPS integration steps are recorded one by one (the rest in one step). */
#define FLOW_TRACE_PARTICLES 256
#define FLOW_TRACE_STEPS     64
/* For 2-D data flow_sample also records `density`, every particle counted on a grid this
 * size (a heatmap the 80-column UI shows whole). */
#define FLOW_DENSITY_ROWS 12
#define FLOW_DENSITY_COLS 24

typedef struct flow_mixture {
    size_t k, d;    /* components, dimension */
    double *weight; /* k values, each > 0, summing to 1 */
    double *mean;   /* (k, d) */
    double *sigma;  /* k values, each >= FLOW_SIGMA_MIN */
} flow_mixture;

typedef enum flow_method {
    FLOW_EULER, /* x += h v(x, t): one field evaluation per step, error O(h) */
    FLOW_HEUN   /* trapezoid with an Euler predictor: two evaluations, error O(h^2) */
} flow_method;

/* How flow_quality assigns a sample to a component. */
typedef enum flow_assign {
    FLOW_NEAREST,  /* the component whose mean is nearest (hard) */
    FLOW_POSTERIOR /* the data posterior pi_k N(x; mu_k, sigma_k^2 I) / p(x) (soft) */
} flow_assign;

/* The sampler's options; flow_sample_opts_default fills the defaults. */
typedef struct flow_sample_opts {
    size_t steps;       /* S >= 1 */
    flow_method method; /* FLOW_EULER */
    double shift;       /* s > 0, finite; 1 = uniform times */
    /* Classifier-free guidance: when cond is not NULL, the field is
     * v_uncond + guidance (v_cond - v_uncond), v_cond the field of `cond` (a sub-mixture,
     * flow_mixture_class). guidance must be finite; 0 ignores cond, 1 follows it exactly. */
    const flow_mixture *cond;
    double guidance;
} flow_sample_opts;

/* ---- mixtures ---- */

/* Sets m to the mixture with the given k weights, (k, d) means and k sigmas, all copied.
 * Weights are normalised to sum to 1. On error m is left empty (all zero).
 * Returns 0; TUTOR_EINVAL when k or d is 0, a weight <= 0, a sigma < FLOW_SIGMA_MIN or any
 * value is not finite; TUTOR_ETOOBIG when k > FLOW_MAX_COMPONENTS or d > FLOW_MAX_DIM;
 * TUTOR_ENOMEM. Free with flow_mixture_free. O(k d). */
int flow_mixture_set(flow_mixture *m, const double *weight, const double *mean, const double *sigma,
                     size_t k, size_t d);

/* Frees what m holds and sets it empty (NULL is fine, and so is an empty m). */
void flow_mixture_free(flow_mixture *m);

/* A seeded 2-D mixture of k components for the demos: means on a circle of radius 3 at
 * evenly spaced angles (jittered by up to a quarter of the spacing), sigmas in [0.25, 0.5],
 * weights drawn in [0.5, 1.5] and normalised. Same errors as flow_mixture_set. O(k). */
int flow_mixture_default(flow_mixture *m, size_t k, uint64_t seed);

/* Loads a 2-D mixture file: one component per row `weight mu_x mu_y sigma` (mat_load's
 * format: spaces, tabs or commas, `#` comments). Weights need not sum to 1: they are
 * normalised. On error m is empty and err (errlen bytes, NUL-terminated) gets one line
 * naming the file (and the row, for a bad value):
 *   mat_load's codes (TUTOR_ENOTFOUND, TUTOR_EIO, TUTOR_EFORMAT, TUTOR_ESHAPE, TUTOR_EEMPTY)
 *   TUTOR_ESHAPE   a row does not have 4 values
 *   TUTOR_EINVAL   a weight <= 0 or a sigma < FLOW_SIGMA_MIN
 *   TUTOR_ETOOBIG  more than FLOW_MAX_COMPONENTS rows
 *   TUTOR_ENOMEM
 * O(file size). */
int flow_mixture_load(flow_mixture *out, const char *path, char *err, size_t errlen);

/* The sub-mixture of the count components listed in members (indices into m, no
 * duplicates), weights renormalised: the class-conditional data of guidance. out must not
 * be m. Returns 0; TUTOR_EINVAL when count is 0, an index is >= m->k or repeated;
 * TUTOR_ENOMEM. O(count d). */
int flow_mixture_class(flow_mixture *out, const flow_mixture *m, const size_t *members,
                       size_t count);

/* Draws n data points x (n, d) from m with r; comp (n values, may be NULL) gets each point's
 * component. Returns 0, TUTOR_EINVAL (m empty), TUTOR_ETOOBIG (n > FLOW_MAX_PARTICLES or
 * n d > FLOW_MAX_VALUES). O(n d). */
int flow_mixture_sample(double *x, int *comp, const flow_mixture *m, size_t n, rng *r);

/* The mixture's mean (d values) and covariance cov (d, d, may be NULL):
 * mean = sum_k pi_k mu_k, cov = sum_k pi_k (sigma_k^2 I + mu_k mu_k^T) - mean mean^T.
 * O(k d^2). */
void flow_mixture_moments(double *mean, double *cov, const flow_mixture *m);

/* The mean log-density (1/n) sum_i log p(x_i) of the n points x (n, d) under m, in nats,
 * each by log-sum-exp over components. Returns 0, TUTOR_EINVAL (n = 0, m empty).
 * O(n k d). */
int flow_mixture_loglik(double *ll, const flow_mixture *m, const double *x, size_t n);

/* ---- the exact field ---- */

extern const char *const flow_velocity_listing[];
extern const size_t flow_velocity_listing_len;

/* The exact velocity at one point: v (d values) = E[x1 - x0 | x_t = x], x (d values), t in
 * [0, 1]. post (k values, may be NULL) gets the posterior weights w_k. v may not overlap x.
 * Allocates nothing. Returns 0; TUTOR_EINVAL for t outside [0, 1], a non-finite t or x, or
 * an empty m; the trace's error when recording failed.
 * Records (listing flow_velocity_listing): s2, the log-weights logw, w, and v. O(k d). */
int flow_velocity(double *v, double *post, const flow_mixture *m, const double *x, double t,
                  trace *tr);

/* The field at n points, the fast form of flow_velocity (the same values to rounding):
 * v (n, d), x (n, d), t in [0, 1]; v may not overlap x. With cond not NULL it is the
 * guided field v_m + guidance (v_cond - v_m), cond a mixture of the same d (guidance
 * finite). Blocks of up to 512 points: two dgemms each (points against means, weights
 * against means) around a row log-sum-exp. Returns 0; TUTOR_EINVAL (t, guidance, a
 * non-finite x, d mismatch, n = 0); TUTOR_ETOOBIG (n d > FLOW_MAX_VALUES); TUTOR_ENOMEM
 * (the O(512 (k + d)) workspaces). O(n (k + k_cond) d). */
int flow_field(double *v, const flow_mixture *m, const flow_mixture *cond, double guidance,
               const double *x, size_t n, double t);

/* ---- sampling ---- */

/* The timestep shift: returns s t / (1 + (s - 1) t) for t in [0, 1] and s > 0 (0 -> 0,
 * 1 -> 1; s > 1 takes big steps near the noise and small ones near the data, s < 1 the
 * reverse; s = 1 is the identity). */
double flow_shift(double t, double s);

/* The S + 1 times of an S-step schedule: ts[i] = flow_shift(i / S, shift), ts[0] = 0,
 * ts[S] = 1 exactly. Returns 0, TUTOR_EINVAL (steps = 0, shift <= 0 or not finite),
 * TUTOR_ETOOBIG (steps > FLOW_MAX_STEPS). O(S). */
int flow_schedule(double *ts, size_t steps, double shift);

/* Fills x (n, d) with N(0, I) noise from seed: the particles' starting points. Returns 0 or
 * TUTOR_ETOOBIG (n > FLOW_MAX_PARTICLES, d > FLOW_MAX_DIM or n d > FLOW_MAX_VALUES). O(n d). */
int flow_noise(double *x, size_t n, size_t d, uint64_t seed);

extern const char *const flow_euler_listing[];
extern const size_t flow_euler_listing_len;

/* One Euler step of the unguided exact field: x_p += h v(x_p, t) for each of the n
 * particles of x (n, m->d), in place. t in [0, 1], h finite with t + h in [0, 1].
 * Returns 0; TUTOR_EINVAL (t, h, n = 0, empty m, non-finite x); TUTOR_ETOOBIG
 * (n d > FLOW_MAX_VALUES); TUTOR_ENOMEM (one d-vector, and the (n, d) velocities when
 * traced); the trace's error. Records one step (listing flow_euler_listing, line 3) with t,
 * h, the velocities v and the new x (first FLOW_TRACE_PARTICLES particles). O(n k d). */
int flow_euler_step(double *x, const flow_mixture *m, size_t n, double t, double h, trace *tr);

extern const char *const flow_sample_listing[];
extern const size_t flow_sample_listing_len;

/* Fills o with the defaults: 32 Euler steps, shift 1, no guidance. */
void flow_sample_opts_default(flow_sample_opts *o);

/* Integrates the n particles x (n, m->d) from t = 0 to 1 in place: on entry x holds the
 * noise x0 (flow_noise), on return the samples. traj (may be NULL) gets every step's
 * particles: (S + 1, n, d), traj[0] = x0, traj[S] = the samples.
 * Returns 0; TUTOR_EINVAL (bad options, n = 0, d mismatch with cond); TUTOR_ETOOBIG
 * (n > FLOW_MAX_PARTICLES, steps > FLOW_MAX_STEPS, n d or, with traj, (S + 1) n d over
 * FLOW_MAX_VALUES); TUTOR_ENOMEM; the trace's error.
 * Records (listing flow_sample_listing): the schedule ts, x0, then per step (the first
 * FLOW_TRACE_STEPS) t, h, the field v and the new x, the rest summarised; snapshots hold
 * the first FLOW_TRACE_PARTICLES particles. With d = 2, the steps with x also record
 * `density` (FLOW_DENSITY_ROWS x FLOW_DENSITY_COLS counts of all n particles over a window
 * holding the noise's +-3 and every mean +-3 sigma, top row the largest x_2). O(S n (k + k_cond)
 * d), twice that for Heun. */
int flow_sample(double *x, double *traj, const flow_mixture *m, const flow_sample_opts *o, size_t n,
                trace *tr);

/* ---- quality and diversity ---- */

/* Sample quality against the mixture: *mean_dist = mean over the n samples x (n, m->d) of
 * the distance to the nearest mean; frac (m->k values) = the share of samples assigned to
 * each component (by `assign`), to set beside m->weight; *tv (may be NULL) = half the sum of
 * |frac_k - pi_k| (total variation). mean_dist or frac may be NULL.
 * Returns 0 or TUTOR_EINVAL (n = 0, empty m). O(n k d). */
int flow_quality(double *mean_dist, double *frac, double *tv, const flow_mixture *m,
                 const double *x, size_t n, flow_assign assign);

/* Sample moments of x (n, d): mean (d values) and the covariance cov (d, d, divided by n;
 * may be NULL); *spread (may be NULL) = trace(cov), the mean squared distance to the mean,
 * the diversity measure of guidance. Returns 0 or TUTOR_EINVAL (n = 0 or d = 0).
 * O(n d^2) with cov, O(n d) without. */
int flow_moments(double *mean, double *cov, double *spread, const double *x, size_t n, size_t d);

/* ---- fitting a mixture (EM) ---- */

/* Fits a k-component isotropic mixture to the n points x (n, d) by EM, from a seeded
 * k-means++ start (the first mean a random point, each next one a point drawn with
 * probability proportional to its squared distance to the nearest chosen mean; sigmas the
 * root mean squared distance to the nearest chosen mean per dimension; equal weights).
 * Each sigma is kept >= sigma_floor (> 0; 1e-3 times the data's scale is a good value) so
 * a component cannot collapse on one point. Stops after max_iter iterations or when the
 * mean log-likelihood rises by less than tol (>= 0). ll (max_iter + 1 values, may be NULL)
 * gets the mean log-likelihood before each iteration and after the last; *iters (may be
 * NULL) the number of iterations run. EM never lowers the likelihood (the floor included).
 * Returns 0 with *out set (free with flow_mixture_free); TUTOR_EINVAL (k = 0, n < k, d = 0,
 * a non-finite value, sigma_floor <= 0); TUTOR_ETOOBIG (caps); TUTOR_ENOMEM (out empty).
 * O(max_iter n k d) through CBLAS. */
int flow_gmm_fit(flow_mixture *out, double *ll, size_t *iters, const double *x, size_t n, size_t d,
                 size_t k, size_t max_iter, double tol, double sigma_floor, uint64_t seed);

#endif
