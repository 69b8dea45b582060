/* The hippo_legs exercise: the HiPPO-LegS matrices and one dense online step against the
 * library's. */
#include <math.h>

#include "../../models/hippo.h"
#include "../../trace/mem.h"
#include "../../trace/rng.h"
#include "../../trace/status.h"
#include "ex.h"

EX_REF(hippo_legs_matrices);
EX_REF(hippo_legs_step_dense);

#define NMAX 12

static void matrices_case(size_t N, int check_a)
{
    double aw[NMAX * NMAX], bw[NMAX], ag[NMAX * NMAX], bg[NMAX];
    for (size_t i = 0; i < N * N; i++)
        ag[i] = -12345.0;
    for (size_t i = 0; i < N; i++)
        bg[i] = -12345.0;
    ex_input("N = %zu", N);
    exref_hippo_legs_matrices(aw, bw, N);
    hippo_legs_matrices(ag, bg, N);
    if (check_a)
        ex_reals("A (row-major)", aw, ag, N * N, 1e-12);
    else
        ex_reals("B", bw, bg, N, 1e-12);
}

static void matrix_b(void)
{
    for (size_t N = 1; N <= NMAX && !ex_failed(); N++)
        matrices_case(N, 0);
}

static void matrix_a(void)
{
    for (size_t N = 1; N <= NMAX && !ex_failed(); N++)
        matrices_case(N, 1);
}

static const char *method_name(ssm_method m)
{
    return ssm_method_name(m);
}

/* k steps of a random signal, student and reference each with their own matrices. */
static void steps_case(ssm_method method, size_t N, size_t L, uint64_t seed)
{
    double A[NMAX * NMAX], B[NMAX], cw[NMAX] = {0}, cg[NMAX] = {0};
    double *work = mem_alloc(((N + 1) * (N + 1) + N) * sizeof *work);
    if (!work) {
        ex_fail("out of memory for the work array");
        return;
    }
    exref_hippo_legs_matrices(A, B, N);
    rng r;
    rng_seed(&r, seed);
    for (size_t k = 1; k <= L && !ex_failed(); k++) {
        double f = rng_gauss(&r);
        ex_input("method %s, N = %zu, step k = %zu of a N(0, 1) signal (seed %llu), f = %g, "
                 "the reference's A and B",
                 method_name(method), N, k, (unsigned long long)seed, f);
        double before[NMAX];
        for (size_t i = 0; i < N; i++)
            before[i] = cw[i];
        int rc_want = exref_hippo_legs_step_dense(cw, A, B, f, k, N, method, work);
        for (size_t i = 0; i < N; i++)
            cg[i] = before[i];
        int rc = hippo_legs_step_dense(cg, A, B, f, k, N, method, work);
        if (ex_status("return value", rc_want, rc))
            ex_reals("c after the step", cw, cg, N, 1e-9);
    }
    mem_free(work);
}

static void euler(void)
{
    steps_case(SSM_EULER, 4, 20, 1);
}

static void backward(void)
{
    steps_case(SSM_BACKWARD, 6, 30, 2);
}

static void bilinear(void)
{
    steps_case(SSM_BILINEAR, 8, 40, 3);
}

static void zoh(void)
{
    steps_case(SSM_ZOH, 5, 10, 4);
}

static void first_step(void)
{
    steps_case(SSM_BILINEAR, 3, 1, 5);
}

static void bad_method(void)
{
    double A[4], B[2], c[2] = {0}, work[16];
    exref_hippo_legs_matrices(A, B, 2);
    ex_input("method = 42 (not an ssm_method)");
    ex_status("return value", TUTOR_EINVAL, hippo_legs_step_dense(c, A, B, 1.0, 1, 2, 42, work));
}

/* The online coefficients of a smooth signal approach its exact Legendre projection. */
static double ramp(double s, void *ctx)
{
    (void)ctx;
    return s * s;
}

static void memory(void)
{
    size_t N = 4, L = 2000;
    double A[16], B[4], c[4] = {0}, exact[4], work[64];
    exref_hippo_legs_matrices(A, B, N);
    ex_input("f(t) = (t / L)^2 sampled at t = 1..%zu, bilinear, N = %zu", L, N);
    for (size_t k = 1; k <= L && !ex_failed(); k++) {
        double s = (double)k / (double)L;
        int rc = hippo_legs_step_dense(c, A, B, s * s, k, N, SSM_BILINEAR, work);
        if (!ex_status("return value", 0, rc))
            return;
    }
    if (hippo_legs_exact(exact, ramp, NULL, N, 64)) {
        ex_fail("out of memory for the exact projection");
        return;
    }
    ex_reals("c after L samples vs the exact projection of s^2 on [0, 1]", exact, c, N, 2e-2);
}

static const ex_behaviour behaviours[] = {
    {"B[n] = sqrt(2n + 1)", "B is (N): B[n] = sqrt(2n + 1), n = 0..N-1.", matrix_b},
    {"A: -sqrt(2n+1) sqrt(2k+1) below the diagonal, -(n+1) on it, 0 above",
     "A is (N, N) row-major, A[n * N + k]. It is lower triangular; the paper's A is the "
     "negative of this one (we store the sign).",
     matrix_a},
    {"the first step from c = 0",
     "At k = 1 the step size is 1/k = 1; from c = 0 only the B f term matters before the "
     "solve.",
     first_step},
    {"euler: c += (1/k) (A c + B f)",
     "Forward Euler on c' = (1/t) A c + (1/t) B f with step 1 at t = k: c + (A c + B f) / k.",
     euler},
    {"backward: (I - A/k) c_new = c + B f / k",
     "Backward Euler: solve (I - A/k) x = c + B f / k. I - A/k is lower triangular: forward "
     "substitution, O(N^2).",
     backward},
    {"bilinear: (I - A/(2k)) c_new = (I + A/(2k)) c + B f / k",
     "Tustin: half an explicit step, then half an implicit one, with the whole B f / k on the "
     "right-hand side.",
     bilinear},
    {"zoh: exact over log-time",
     "Over s = ln t LegS is time-invariant: discretise (A, B) with step ln((k+1)/k) = log1p(1/k) "
     "by ssm_discretize(..., SSM_ZOH) (work has room for Abar and Bbar), then c = Abar c + Bbar "
     "f.",
     zoh},
    {"an unknown method returns TUTOR_EINVAL",
     "Anything but SSM_EULER, SSM_BACKWARD, SSM_BILINEAR, SSM_ZOH: TUTOR_EINVAL.", bad_method},
    {"2000 steps remember the signal: close to its exact Legendre projection",
     "If this fails while the single steps pass, check that k counts from 1 and grows by one per "
     "sample.",
     memory},
    {NULL, NULL, NULL},
};

void tests_register(void)
{
    ex_register("hippo_legs", behaviours);
}
