/* The ssm_kernel exercise: the SSM convolution kernel against the library's, and the
 * convolution it gives against the recurrence. */
#include <math.h>

#include "../../models/hippo.h"
#include "../../models/s4.h"
#include "../../models/ssm.h"
#include "../../trace/mem.h"
#include "../../trace/rng.h"
#include "../../trace/status.h"
#include "ex.h"

EX_REF(ssm_kernel);

#define NMAX 16
#define LMAX 256

/* A stable random discrete system: S4's bilinear LegS with a random C. */
static int system(double *Abar, double *Bbar, double *C, size_t N, double dt, uint64_t seed)
{
    double A[NMAX * NMAX], B[NMAX], D;
    rng r;
    rng_seed(&r, seed);
    s4_init(A, B, C, &D, N, &r);
    return ssm_discretize(Abar, Bbar, A, B, N, dt, SSM_BILINEAR);
}

static void kernel_case(size_t N, size_t L, uint64_t seed)
{
    double Abar[NMAX * NMAX], Bbar[NMAX], C[NMAX], want[LMAX], got[LMAX];
    ex_input("N = %zu, L = %zu, S4 (bilinear LegS, dt = 0.1) with C from seed %llu", N, L,
             (unsigned long long)seed);
    if (system(Abar, Bbar, C, N, 0.1, seed)) {
        ex_fail("could not build the system");
        return;
    }
    for (size_t j = 0; j < L; j++)
        got[j] = -12345.0;
    int rc_want = exref_ssm_kernel(want, Abar, Bbar, C, N, L);
    int rc = ssm_kernel(got, Abar, Bbar, C, N, L);
    if (ex_status("return value", rc_want, rc))
        ex_reals("K", want, got, L, 1e-10);
}

static void scalar(void)
{
    double Abar = 0.5, Bbar = 2.0, C = 3.0, K[6], want[6] = {6, 3, 1.5, 0.75, 0.375, 0.1875};
    ex_input("N = 1: Abar = 0.5, Bbar = 2, C = 3, L = 6");
    for (int j = 0; j < 6; j++)
        K[j] = -12345.0;
    if (ex_status("return value", 0, ssm_kernel(K, &Abar, &Bbar, &C, 1, 6)))
        ex_reals("K", want, K, 6, 1e-12);
}

static void first(void)
{
    kernel_case(4, 1, 3);
}

static void random_systems(void)
{
    for (uint64_t seed = 1; seed <= 20 && !ex_failed(); seed++)
        kernel_case(1 + seed % NMAX, 1 + (seed * 37) % LMAX, seed);
}

static void empty(void)
{
    double Abar[4] = {1, 0, 0, 1}, Bbar[2] = {1, 1}, C[2] = {1, 1}, K[1] = {-7.0};
    ex_input("L = 0");
    if (ex_status("return value", 0, ssm_kernel(K, Abar, Bbar, C, 2, 0)))
        ex_reals("K[0] (must stay untouched)", (double[]){-7.0}, K, 1, 0);
}

/* y = K * u + D u from the student's K, against the library's recurrence. */
static void convolution(void)
{
    size_t N = 8, L = 100;
    double Abar[NMAX * NMAX], Bbar[NMAX], C[NMAX], K[LMAX], u[LMAX], y_rec[LMAX], y[LMAX];
    double D = 0.3;
    ex_input("N = 8, L = 100, u ~ N(0, 1): y = K * u + D u against the recurrence");
    if (system(Abar, Bbar, C, N, 0.05, 9)) {
        ex_fail("could not build the system");
        return;
    }
    rng r;
    rng_seed(&r, 10);
    for (size_t i = 0; i < L; i++)
        u[i] = rng_gauss(&r);
    if (!ex_status("return value", 0, ssm_kernel(K, Abar, Bbar, C, N, L)))
        return;
    if (ssm_recurrent(y_rec, NULL, Abar, Bbar, C, D, u, N, L, NULL)) {
        ex_fail("the recurrence failed");
        return;
    }
    for (size_t i = 0; i < L; i++) {
        y[i] = D * u[i];
        for (size_t j = 0; j <= i; j++)
            y[i] += K[j] * u[i - j];
    }
    ex_reals("y from your kernel vs y from the recurrence", y_rec, y, L, 1e-9);
}

static int sweep_body(void *ctx)
{
    (void)ctx;
    double Abar[4] = {0.5, 0, 0.1, 0.5}, Bbar[2] = {1, 2}, C[2] = {1, -1}, K[5];
    return ssm_kernel(K, Abar, Bbar, C, 2, 5);
}

static void alloc(void)
{
    ex_input("N = 2, L = 5, every allocation failing in turn");
    ex_alloc_sweep(sweep_body, NULL);
}

static const ex_behaviour behaviours[] = {
    {"N = 1: K[j] = C Abar^j Bbar",
     "With one state K is geometric: C Bbar, C Abar Bbar, C Abar^2 Bbar...", scalar},
    {"K[0] = C Bbar", "Start with v = Bbar: K[0] = C . v, before any product by Abar.", first},
    {"agrees with the reference on 20 random S4 systems",
     "Keep one vector v (N): K[j] = C . v, then v = Abar v (into a second buffer: Abar v reads "
     "all of v). O(L N^2); never form Abar^j.",
     random_systems},
    {"L = 0 writes nothing", "The loop runs L times; with L = 0 it must not touch K.", empty},
    {"the kernel's convolution equals the recurrence",
     "y_i = sum_{j <= i} K[j] u[i - j] + D u_i is the same as running x_k = Abar x_{k-1} + Bbar "
     "u_k, y_k = C x_k + D u_k: if K[0..] is shifted by one, check where you read C . v.",
     convolution},
    {"an allocation failure returns TUTOR_ENOMEM",
     "Allocate the two N-vectors with mem_alloc and return TUTOR_ENOMEM when it gives NULL.",
     alloc},
    {NULL, NULL, NULL},
};

void tests_register(void)
{
    ex_register("ssm_kernel", behaviours);
}
