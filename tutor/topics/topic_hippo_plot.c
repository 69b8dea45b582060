/* topic_hippo_plot.c: HiPPO's figures, on one smooth random signal drawn from the seed.
 *   reconstruction: the signal and its LegS reconstruction from N = 8, 32, 128 coefficients;
 *   legt-legs:      LegT (a sliding window over the whole signal) against LegS, same N;
 *   matrices:       the A matrices of LegS, LegT and LagT as heatmaps. */
#include <math.h>
#include <stdio.h>

#include "../../models/hippo.h"
#include "../../models/ssm.h"
#include "../../trace/mem.h"
#include "../../trace/rng.h"
#include "../../trace/status.h"
#include "plot.h"

#define SIGNAL_LEN 512
#define WAVES      6
#define MATRIX_N   12

/* A sum of WAVES sines with random frequencies (1 to 12 periods over the signal),
 * amplitudes and phases: smooth, but with detail a few coefficients cannot hold. */
static void make_signal(double *f, size_t L, uint64_t seed)
{
    rng r;
    rng_seed(&r, seed);
    double freq[WAVES], amp[WAVES], phase[WAVES];
    for (int w = 0; w < WAVES; w++) {
        freq[w] = 1 + 11 * rng_uniform(&r);
        amp[w] = rng_gauss(&r) / (1 + w);
        phase[w] = 2 * M_PI * rng_uniform(&r);
    }
    for (size_t i = 0; i < L; i++) {
        double t = (double)i / (double)L, x = 0;
        for (int w = 0; w < WAVES; w++)
            x += amp[w] * sin(2 * M_PI * freq[w] * t + phase[w]);
        f[i] = x;
    }
}

static int reconstruct(double *out, const double *f, size_t L, hippo_measure measure, size_t N)
{
    hippo_cfg cfg = {measure, SSM_BILINEAR, N, 1.0 / (double)L, 1.0, 0};
    hippo_result res = {0};
    int rc = hippo_run(&res, &cfg, f, L, NULL);
    if (!rc)
        for (size_t i = 0; i < L; i++)
            out[i] = res.recon[i];
    hippo_result_free(&res);
    return rc;
}

static void matrices_figure(fig_ctx *c)
{
    size_t N = MATRIX_N;
    double A[3][MATRIX_N * MATRIX_N], B[MATRIX_N];
    hippo_legs_matrices(A[0], B, N);
    hippo_legt_matrices(A[1], B, N, 1.0);
    hippo_lagt_matrices(A[2], B, N);
    static const char *const names[3] = {"LegS", "LegT (theta = 1)", "LagT"};
    gp g;
    if (fig_begin(c, &g, NULL))
        return;
    fig_multiplot(c, &g, 1, 3,
                  "HiPPO: the A matrices for N = 12 (x' = A x + B u; blue < 0 < vermillion, "
                  "each on its own scale)");
    gp_raw(&g, "set grid noxtics noytics\nunset key\nset bmargin 5.5\nset tmargin 3\n"
               "set xlabel \"column k\"\nset ylabel \"row n\"\n");
    for (int m = 0; m < 3; m++) {
        double absmax = 0;
        for (size_t i = 0; i < N * N; i++)
            absmax = fabs(A[m][i]) > absmax ? fabs(A[m][i]) : absmax;
        char block[16];
        snprintf(block, sizeof block, "A%d", m);
        gp_data_matrix(&g, block, A[m], N, N);
        fig_palette(&g, 1, absmax);
        gp_raw(&g, "set title ");
        gp_text(&g, names[m]);
        gp_raw(&g, "\nset xrange [-0.5:%zu.5]\nset yrange [%zu.5:-0.5]\nplot ", N - 1, N - 1);
        fig_image(&g, block, -absmax, absmax);
        gp_raw(&g, "\n");
    }
    gp_raw(&g, "unset multiplot\n");
    fig_end(c, &g, "matrices");
}

int topic_hippo_plot(const plot_request *req, strbuf *out, char *err, size_t errlen)
{
    int rc = plot_check(req, err, errlen);
    if (rc)
        return rc;
    size_t L = SIGNAL_LEN;
    double *buf = mem_alloc(6 * L * sizeof *buf);
    fig_ctx c;
    strbuf caption = STRBUF_INIT;
    if (!buf || plot_ctx(&c, req, out, &caption)) {
        rc = TUTOR_ENOMEM;
        goto out;
    }
    double *t = buf, *f = t + L, *r8 = f + L, *r32 = r8 + L, *r128 = r32 + L, *legt = r128 + L;
    make_signal(f, L, req->args->seed);
    for (size_t i = 0; i < L; i++)
        t[i] = (double)(i + 1) / (double)L;
    if ((rc = reconstruct(r8, f, L, HIPPO_LEGS, 8)) != 0 ||
        (rc = reconstruct(r32, f, L, HIPPO_LEGS, 32)) != 0 ||
        (rc = reconstruct(r128, f, L, HIPPO_LEGS, 128)) != 0 ||
        (rc = reconstruct(legt, f, L, HIPPO_LEGT, 32)) != 0)
        goto out;
    fig_series s[] = {
        {"signal", t, f, L, "lines", 7, 0},
        {"LegS, N = 8", t, r8, L, "lines", 1, 0},
        {"LegS, N = 32", t, r32, L, "lines", 0, 0},
        {"LegS, N = 128", t, r128, L, "lines", 2, 1},
    };
    fig_lines(&c, "reconstruction",
              "HiPPO-LegS: the signal rebuilt from its N coefficients after the last sample "
              "(bilinear)",
              "time (fraction of the signal)", "value", s, 4, 0);
    fig_series cmp[] = {
        {"signal", t, f, L, "lines", 7, 0},
        {"LegS, N = 32 (scaled measure: all history)", t, r32, L, "lines", 0, 0},
        {"LegT, N = 32 (window theta = the whole signal)", t, legt, L, "lines", 1, 1},
    };
    fig_lines(&c, "legt-legs", "HiPPO: LegT against LegS on the same signal (N = 32, bilinear)",
              "time (fraction of the signal)", "value", cmp, 3, 0);
    matrices_figure(&c);
    rc = fig_result(&c, err, errlen);
out:
    if (rc == TUTOR_ENOMEM)
        snprintf(err, errlen, "out of memory");
    else if (rc && !err[0])
        snprintf(err, errlen, "%s", status_strerror(rc));
    strbuf_free(&caption);
    mem_free(buf);
    return rc;
}
