/* topic_ssm_plot.c: the state-space models' figures, on inputs drawn from the seed.
 *   kernel:      the convolution kernels K_j = C Abar^j Bbar of S4 (HiPPO-LegS A) and of
 *                S4D-Lin and S4D-Inv (diagonal A), each scaled to its largest |K_j|;
 *   modes:       S4's output computed as a recurrence and as an FFT convolution, drawn on
 *                top of each other (the two modes are one model);
 *   mamba-delta: Mamba's selective scan on a selective-copying input: the tokens, the step
 *                size Delta the input selects (large on marked tokens, tiny on noise), and
 *                the output reading the marked values back at the end. */
#include <complex.h>
#include <math.h>
#include <stdio.h>

#include "../../models/mamba.h"
#include "../../models/s4d.h"
#include "../../models/s4.h"
#include "../../models/ssm.h"
#include "../../trace/mem.h"
#include "../../trace/rng.h"
#include "../../trace/status.h"
#include "plot.h"

#define KERNEL_L 256
#define S4_N     64
#define S4D_M    32
#define MODES_L  256
#define MODES_N  32
#define COPY_L   64
#define COPY_K   4

static void scale_to_one(double *k, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fabs(k[i]) > m ? fabs(k[i]) : m;
    if (m > 0)
        for (size_t i = 0; i < n; i++)
            k[i] /= m;
}

/* The S4D kernel for init kind, M modes, step dt, into k (L). */
static int s4d_kernel_of(double *k, s4d_init_kind kind, size_t M, size_t L, double dt, rng *r)
{
    double complex *buf = mem_alloc(5 * M * sizeof *buf);
    if (!buf)
        return TUTOR_ENOMEM;
    double complex *A = buf, *B = A + M, *C = B + M, *Abar = C + M, *Bbar = Abar + M;
    double D;
    s4d_init(A, B, C, &D, M, kind, r);
    int rc = s4d_discretize(Abar, Bbar, A, B, M, dt);
    if (!rc) {
        for (size_t i = 0; i < M; i++)
            A[i] *= dt; /* dtA, as s4d_kernel takes it */
        s4d_kernel(k, A, Bbar, C, M, L);
    }
    mem_free(buf);
    return rc;
}

static int kernel_figure(fig_ctx *c, uint64_t seed)
{
    size_t L = KERNEL_L, N = S4_N;
    double *buf = mem_alloc((4 * L + 2 * N * N + 3 * N) * sizeof *buf);
    if (!buf)
        return TUTOR_ENOMEM;
    double *lag = buf, *k4 = lag + L, *klin = k4 + L, *kinv = klin + L;
    double *A = kinv + L, *Abar = A + N * N, *B = Abar + N * N, *Bbar = B + N, *C = Bbar + N;
    rng r;
    rng_seed(&r, seed);
    double D;
    s4_init(A, B, C, &D, N, &r);
    int rc = ssm_discretize(Abar, Bbar, A, B, N, 1.0 / (double)L, SSM_BILINEAR);
    if (!rc)
        rc = ssm_kernel(k4, Abar, Bbar, C, N, L);
    if (!rc)
        rc = s4d_kernel_of(klin, S4D_LIN, S4D_M, L, 1.0 / (double)L, &r);
    if (!rc)
        rc = s4d_kernel_of(kinv, S4D_INV, S4D_M, L, 1.0 / (double)L, &r);
    if (!rc) {
        for (size_t i = 0; i < L; i++)
            lag[i] = (double)i;
        scale_to_one(k4, L);
        scale_to_one(klin, L);
        scale_to_one(kinv, L);
        static const char *const names[3] = {"S4: HiPPO-LegS A (N = 64), bilinear",
                                             "S4D-Lin: A_n = -1/2 + i pi n (N = 64), zoh",
                                             "S4D-Inv: A_n = -1/2 + i (N/pi)(N/(2n+1) - 1), zoh"};
        const double *ks[3] = {k4, klin, kinv};
        gp g;
        if (fig_begin(c, &g, NULL) == 0) {
            fig_stack(c, &g, 3,
                      "SSM convolution kernels K_j = C Abar^j Bbar (random C, dt = 1/256, "
                      "each scaled to max |K_j| = 1)");
            gp_raw(&g, "unset key\nset yrange [-1.1:1.1]\nset ytics 1\nset format x \"\"\n");
            for (int p = 0; p < 3; p++) {
                gp_raw(&g, "set title ");
                gp_text(&g, names[p]);
                gp_raw(&g, "\n");
                if (p == 2)
                    gp_raw(&g, "set format x \"%%g\"\n");
                fig_axes(&g, p == 2 ? "lag j (samples)" : "", "K_j");
                fig_series one = {NULL, lag, ks[p], L, "lines", p, 0};
                fig_plot_series(&g, &one, 1, NULL);
            }
            gp_raw(&g, "unset multiplot\n");
            fig_end(c, &g, "kernel");
        }
    }
    mem_free(buf);
    return rc;
}

static int modes_figure(fig_ctx *c, uint64_t seed)
{
    size_t L = MODES_L, N = MODES_N;
    double *buf = mem_alloc((5 * L + 2 * N * N + 3 * N) * sizeof *buf);
    if (!buf)
        return TUTOR_ENOMEM;
    double *t = buf, *u = t + L, *y_rec = u + L, *y_conv = y_rec + L, *diff = y_conv + L;
    double *A = diff + L, *Abar = A + N * N, *B = Abar + N * N, *Bbar = B + N, *C = Bbar + N;
    rng r;
    rng_seed(&r, seed);
    double D;
    s4_init(A, B, C, &D, N, &r);
    /* A random walk: an input with both slow drift and fast detail. */
    double x = 0;
    for (size_t i = 0; i < L; i++) {
        x += rng_gauss(&r) * 0.3;
        u[i] = x;
        t[i] = (double)i;
    }
    int rc = ssm_discretize(Abar, Bbar, A, B, N, 1.0 / (double)L, SSM_BILINEAR);
    if (!rc)
        rc = ssm_recurrent(y_rec, NULL, Abar, Bbar, C, D, u, N, L, NULL);
    if (!rc)
        rc = ssm_convolution(y_conv, NULL, Abar, Bbar, C, D, u, N, L, NULL);
    if (!rc) {
        double worst = 0;
        for (size_t i = 0; i < L; i++) {
            diff[i] = fabs(y_rec[i] - y_conv[i]);
            worst = diff[i] > worst ? diff[i] : worst;
        }
        char title[160];
        snprintf(title, sizeof title,
                 "S4 (N = 32): recurrence and FFT convolution give one output "
                 "(largest difference %.1e)",
                 worst);
        fig_series s[] = {
            {"input u (a random walk)", t, u, L, "lines", 7, 0},
            {"y, recurrent mode: x_k = Abar x_{k-1} + Bbar u_k", t, y_rec, L, "lines", 0, 0},
            {"y, convolution mode: K * u through the FFT", t, y_conv, L, "lines", 1, 1},
        };
        fig_lines(c, "modes", title, "time step k", "value", s, 3, FIG_KEY_ROOM);
    }
    mem_free(buf);
    return rc;
}

static int mamba_figure(fig_ctx *c, uint64_t seed)
{
    mamba_demo demo = {0};
    int rc = mamba_selective_copy(&demo, COPY_L, COPY_K, seed);
    if (rc)
        return rc;
    size_t L = demo.L, K = demo.K;
    double *buf = mem_alloc(3 * L * sizeof *buf);
    if (!buf) {
        mamba_demo_free(&demo);
        return TUTOR_ENOMEM;
    }
    double *y = buf, *delta = y + L, *t = delta + L;
    mamba_in in = mamba_demo_input(&demo);
    rc = mamba_scan(y, delta, &in, NULL);
    if (rc)
        goto out;
    for (size_t i = 0; i < L; i++)
        t[i] = (double)i;
    gp g;
    if (fig_begin(c, &g, NULL))
        goto out;
    fig_stack(c, &g, 3,
              "Mamba on selective copying: Delta chosen by the input keeps the marked tokens");
    gp_raw(&g,
           "set key left top opaque\nset xrange [-0.5:%zu.5]\nset format x \"\"\n"
           "set offsets 0, 0, graph 0.4, 0\n",
           L - 1);
    gp_data_begin(&g, "U");
    for (size_t i = 0; i < L; i++)
        gp_data_row(&g, (double[]){t[i], demo.u[i], delta[i], y[i]}, 4);
    gp_data_end(&g);
    gp_data_begin(&g, "MK");
    for (size_t j = 0; j < K; j++)
        gp_data_row(&g, (double[]){(double)demo.marked[j], demo.u[demo.marked[j]]}, 2);
    gp_data_end(&g);
    gp_data_begin(&g, "TG");
    for (size_t j = 0; j < K; j++)
        gp_data_row(&g, (double[]){(double)(L - K + j), demo.target[j]}, 2);
    gp_data_end(&g);
    gp_raw(&g, "set ytics 1\n");
    fig_axes(&g, "", "input u_t");
    gp_raw(&g,
           "plot $U using 1:2 with impulses lw 3 lc rgb \"%s\" title \"noise tokens\", "
           "$MK using 1:2 with points pt 7 ps 2 lc rgb \"%s\" title \"marked tokens\"\n",
           fig_colors[5], fig_colors[1]);
    gp_raw(&g, c->format == GP_DUMB ? "set logscale y 10\nset format y \"1e%%L\"\n"
                                    : "set logscale y 10\nset format y \"10^{%%L}\"\n");
    gp_raw(&g, "set yrange [1e-5:100]\nset ytics 100\n");
    fig_axes(&g, "", "step size Delta_t");
    gp_raw(
        &g,
        "plot $U using 1:3 with steps lw 3 lc rgb \"%s\" title \"Delta = softplus(raw Delta)\"\n",
        fig_colors[0]);
    gp_raw(&g, "unset logscale y\nset format y \"%%g\"\nset format x \"%%g\"\n");
    gp_raw(&g, "set autoscale y\nset ytics 1\n");
    fig_axes(&g, "time step t (the last 4 steps are the queries)", "output y_t");
    gp_raw(&g,
           "plot $U using 1:4 with linespoints lw 3 pt 7 ps 1 lc rgb \"%s\" title \"y (selective "
           "scan)\", "
           "$TG using 1:2 with points pt 6 ps 3.5 lw 4 lc rgb \"%s\" title \"target: the marked "
           "values\"\n",
           fig_colors[2], fig_colors[1]);
    gp_raw(&g, "unset multiplot\n");
    fig_end(c, &g, "mamba-delta");
out:
    mem_free(buf);
    mamba_demo_free(&demo);
    return rc;
}

int topic_ssm_plot(const plot_request *req, strbuf *out, char *err, size_t errlen)
{
    int rc = plot_check(req, err, errlen);
    if (rc)
        return rc;
    fig_ctx c;
    strbuf caption = STRBUF_INIT;
    if (plot_ctx(&c, req, out, &caption))
        rc = TUTOR_ENOMEM;
    if (!rc)
        rc = kernel_figure(&c, req->args->seed);
    if (!rc)
        rc = modes_figure(&c, req->args->seed);
    if (!rc)
        rc = mamba_figure(&c, req->args->seed);
    if (rc)
        snprintf(err, errlen, "%s", rc == TUTOR_ENOMEM ? "out of memory" : status_strerror(rc));
    else
        rc = fig_result(&c, err, errlen);
    strbuf_free(&caption);
    return rc;
}
