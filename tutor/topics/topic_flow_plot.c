/* topic_flow_plot.c: the flow topic's figures, on the run's mixture (--mixture, or the
 * seeded default) and sampler options:
 *   field:        the exact field as arrows at t = 0, 0.3, 0.6, 0.9;
 *   trajectories: particles' paths from noise (t = 0) to samples (t = 1);
 *   steps:        the samples after S = 1, 2, 4, 32 steps;
 *   quality:      mean distance to the nearest mean and total variation of the shares
 *                 against S, Euler and Heun;
 *   guidance:     the samples of one class at w = 0, 1, 2, 4, with their spread;
 *   compare:      real images, vq reconstructions, bigram samples and flow samples (the
 *                 topic's --compare run, read from its trace). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../models/flow.h"
#include "../../models/mat.h"
#include "../../trace/mem.h"
#include "../../trace/status.h"
#include "plot.h"
#include "ssmio.h"

#define FIELD_GRID  15
#define FIELD_R     5.0
#define TRAJ_N      48
#define SCATTER_MAX 2000
#define QUALITY_PTS 8 /* S = 1, 2, 4 .. 128 */
#define QUALITY_N   2000
#define CMP_ROWS    16 /* the compare run's image side */

static int fail(char *err, size_t errlen, int rc)
{
    if (rc == TUTOR_ENOMEM)
        snprintf(err, errlen, "out of memory");
    return rc;
}

/* What the figures share, read from the request's options (already validated by
 * plot_check, so parse errors cannot happen here; defaults as the runner's). */
typedef struct setup {
    flow_mixture m;
    flow_sample_opts o;
    size_t cls, particles;
} setup;

static int setup_read(setup *s, const plot_request *req, char *err, size_t errlen)
{
    const topic_args *a = req->args;
    memset(s, 0, sizeof *s);
    flow_sample_opts_default(&s->o);
    char e[256];
    ssmio_size(a, "steps", 32, 1, 10000, &s->o.steps, e, sizeof e);
    ssmio_real(a, "shift", 1.0, 0.0, 1, 1e6, &s->o.shift, e, sizeof e);
    const char *method = topic_opt_get(a, "method");
    s->o.method = method && strcmp(method, "heun") == 0 ? FLOW_HEUN : FLOW_EULER;
    ssmio_size(a, "particles", 256, 1, 100000, &s->particles, e, sizeof e);
    if (s->particles > SCATTER_MAX)
        s->particles = SCATTER_MAX;
    const char *path = topic_opt_get(a, "mixture");
    int rc = path ? flow_mixture_load(&s->m, path, e, sizeof e)
                  : flow_mixture_default(&s->m, 4, a->seed);
    if (rc) {
        snprintf(err, errlen, "--mixture: %s", e);
        return rc == TUTOR_ENOMEM ? rc : TUTOR_EINVAL;
    }
    ssmio_size(a, "class", 0, 0, s->m.k - 1, &s->cls, e, sizeof e);
    return 0;
}

/* A multiplot of rows x cols panels with tight margins (fig_multiplot's defaults leave
 * square panels a fifth of the page): margins left, right, bottom, top as fractions of
 * the page, spacing between panels. Title as fig_multiplot (the user's --title first). */
static void layout(fig_ctx *c, gp *g, int rows, int cols, const char *margins, const char *title)
{
    const char *t = c->title ? c->title : title;
    gp_raw(g, "unset title\nset multiplot layout %d,%d margins %s", rows, cols, margins);
    if (t) {
        gp_raw(g, " title ");
        gp_text(g, t);
        gp_raw(g, " noenhanced");
    }
    gp_raw(g, "\n");
}

/* The means as a datablock $MU (x y). */
static void data_means(gp *g, const flow_mixture *m)
{
    gp_data_begin(g, "MU");
    for (size_t j = 0; j < m->k; j++)
        gp_data_row(g, m->mean + 2 * j, 2);
    gp_data_end(g);
}

/* [-R, R]^2 with equal scales (square: 1 for a lone plot; the panel layouts below are
 * square by their margins instead), except in text, where characters are twice as tall
 * as wide and a square panel would be a few characters across. */
static void square_axes(gp *g, int square)
{
    gp_raw(g, "set xrange [%g:%g]\nset yrange [%g:%g]\nunset key\n", -FIELD_R, FIELD_R, -FIELD_R,
           FIELD_R);
    if (square && g->format != GP_DUMB)
        gp_raw(g, "set size ratio -1\n");
}

/* Four square panels in a row on the 16:9 page: 0.2 of its width each (320 of 1600
 * pixels) is 0.356 of its height (of 900); the gaps hold the tick labels. */
#define ROW_OF_SQUARES "0.045,0.98,0.26,0.616 spacing 0.045"

static int field_figure(fig_ctx *c, const setup *s)
{
    static const double ts[4] = {0.0, 0.3, 0.6, 0.9};
    enum { NPTS = FIELD_GRID * FIELD_GRID };
    double x[2 * NPTS], v[2 * NPTS];
    for (int i = 0; i < FIELD_GRID; i++)
        for (int j = 0; j < FIELD_GRID; j++) {
            x[2 * (i * FIELD_GRID + j)] = -FIELD_R + 2 * FIELD_R * (j + 0.5) / FIELD_GRID;
            x[2 * (i * FIELD_GRID + j) + 1] = -FIELD_R + 2 * FIELD_R * (i + 0.5) / FIELD_GRID;
        }
    gp g;
    if (fig_begin(c, &g, NULL))
        return c->status;
    data_means(&g, &s->m);
    for (int p = 0; p < 4; p++) {
        int rc = flow_field(v, &s->m, NULL, 0.0, x, NPTS, ts[p]);
        if (rc) {
            gp_free(&g);
            return rc;
        }
        /* Arrows of a common length (the cell's 0.8), so the direction reads everywhere;
         * the speed is the colour. */
        char name[8];
        snprintf(name, sizeof name, "F%d", p);
        gp_data_begin(&g, name);
        double cell = 2 * FIELD_R / FIELD_GRID * 0.8;
        for (int q = 0; q < NPTS; q++) {
            double speed = hypot(v[2 * q], v[2 * q + 1]);
            double k = speed > 0 ? cell / speed : 0;
            double row[5] = {x[2 * q] - 0.5 * k * v[2 * q], x[2 * q + 1] - 0.5 * k * v[2 * q + 1],
                             k * v[2 * q], k * v[2 * q + 1], speed};
            gp_data_row(&g, row, 5);
        }
        gp_data_end(&g);
    }
    layout(c, &g, 1, 4, ROW_OF_SQUARES,
           "The exact field v(x, t) as arrows (colour: speed; dots: the mixture's means)");
    square_axes(&g, 0);
    fig_palette(&g, 0, 0);
    gp_raw(&g, "unset colorbox\nset xtics 5\nset ytics 5\n");
    for (int p = 0; p < 4; p++) {
        gp_raw(&g,
               "set title \"t = %g\"\nplot $F%d using 1:2:3:4:5 with vectors head size 0.12,20 "
               "filled lc palette, $MU using 1:2 with points pt 7 ps 1.5 lc rgb \"#D55E00\"\n",
               ts[p], p);
    }
    gp_raw(&g, "unset multiplot\n");
    return fig_end(c, &g, "field");
}

static int trajectories_figure(fig_ctx *c, const setup *s, uint64_t seed)
{
    size_t S = s->o.steps, n = TRAJ_N;
    /* The whole path is kept: (S + 1) n 2 values. Long runs draw every k-th step. */
    double *x = mat_new(n, 2), *traj = mem_alloc(mem_mul((S + 1) * n * 2, sizeof *traj));
    int rc = TUTOR_ENOMEM;
    if (!x || !traj)
        goto out;
    flow_noise(x, n, 2, seed);
    if ((rc = flow_sample(x, traj, &s->m, &s->o, n, NULL)))
        goto out;
    gp g;
    if (fig_begin(c, &g, NULL)) {
        rc = c->status;
        goto out;
    }
    data_means(&g, &s->m);
    size_t every = S > 200 ? S / 200 : 1;
    gp_data_begin(&g, "T");
    for (size_t p = 0; p < n; p++) {
        for (size_t i = 0; i <= S; i += every)
            gp_data_row(&g, traj + (i * n + p) * 2, 2);
        if (S % every)
            gp_data_row(&g, traj + (S * n + p) * 2, 2);
        gp_data_row(&g, NULL, 0); /* a blank line ends one particle's path */
    }
    gp_data_end(&g);
    gp_data_begin(&g, "X0");
    for (size_t p = 0; p < n; p++)
        gp_data_row(&g, traj + p * 2, 2);
    gp_data_end(&g);
    gp_data_begin(&g, "X1");
    for (size_t p = 0; p < n; p++)
        gp_data_row(&g, traj + (S * n + p) * 2, 2);
    gp_data_end(&g);
    char title[160];
    snprintf(title, sizeof title, "Trajectories of %zu particles, %zu %s steps (shift %g)", n, S,
             s->o.method == FLOW_HEUN ? "Heun" : "Euler", s->o.shift);
    gp_raw(&g, "set title ");
    gp_text(&g, c->title ? c->title : title);
    gp_raw(&g, "\n");
    fig_axes(&g, "x_1", "x_2");
    square_axes(&g, 1);
    gp_raw(&g, "set key outside right top\n"
               "plot $T using 1:2 with lines lc rgb \"#999999\" title \"path\", "
               "$X0 using 1:2 with points pt 6 lc rgb \"#0072B2\" title \"noise (t = 0)\", "
               "$X1 using 1:2 with points pt 7 lc rgb \"#009E73\" title \"sample (t = 1)\", "
               "$MU using 1:2 with points pt 7 ps 2 lc rgb \"#D55E00\" title \"means\"\n");
    rc = fig_end(c, &g, "trajectories");
out:
    mat_free(x);
    mem_free(traj);
    return rc;
}

/* A 1 x 4 multiplot of scatter panels: samples of model m (guided towards cond when not
 * NULL) with the options o, one panel per value of `vary` (steps or guidance). */
static int scatter_figure(fig_ctx *c, const setup *s, uint64_t seed, const flow_mixture *cond,
                          const double *values, const char *name, const char *title)
{
    size_t n = s->particles;
    double *x = mat_new(4 * n, 2);
    if (!x)
        return TUTOR_ENOMEM;
    double spread[4];
    int rc = 0;
    for (int p = 0; p < 4 && !rc; p++) {
        flow_sample_opts o = s->o;
        if (cond) {
            o.cond = cond;
            o.guidance = values[p];
        } else {
            o.steps = (size_t)values[p];
        }
        flow_noise(x + 2 * n * p, n, 2, seed);
        rc = flow_sample(x + 2 * n * p, NULL, &s->m, &o, n, NULL);
        if (!rc)
            flow_moments((double[2]){0}, NULL, &spread[p], x + 2 * n * p, n, 2);
    }
    gp g;
    if (rc || fig_begin(c, &g, NULL)) {
        mat_free(x);
        return rc ? rc : c->status;
    }
    data_means(&g, &s->m);
    for (int p = 0; p < 4; p++) {
        char block[8];
        snprintf(block, sizeof block, "P%d", p);
        gp_data_begin(&g, block);
        for (size_t q = 0; q < n; q++)
            gp_data_row(&g, x + 2 * (n * p + q), 2);
        gp_data_end(&g);
    }
    layout(c, &g, 1, 4, ROW_OF_SQUARES, title);
    square_axes(&g, 0);
    gp_raw(&g, "set xtics 5\nset ytics 5\n");
    for (int p = 0; p < 4; p++) {
        if (cond)
            gp_raw(&g, "set title \"w = %g, spread %.2f\"\n", values[p], spread[p]);
        else
            gp_raw(&g, "set title \"S = %g\"\n", values[p]);
        gp_raw(&g,
               "plot $P%d using 1:2 with points pt 7 ps 0.4 lc rgb \"#0072B2\", "
               "$MU using 1:2 with points pt 7 ps 1.5 lc rgb \"#D55E00\"\n",
               p);
    }
    gp_raw(&g, "unset multiplot\n");
    mat_free(x);
    return fig_end(c, &g, name);
}

static int quality_figure(fig_ctx *c, const setup *s, uint64_t seed)
{
    size_t n = QUALITY_N;
    double *x = mat_new(n, 2);
    if (!x)
        return TUTOR_ENOMEM;
    double steps[QUALITY_PTS], dist[2][QUALITY_PTS], tv[2][QUALITY_PTS];
    int rc = 0;
    for (int meth = 0; meth < 2 && !rc; meth++)
        for (int i = 0; i < QUALITY_PTS && !rc; i++) {
            flow_sample_opts o = s->o;
            o.method = meth ? FLOW_HEUN : FLOW_EULER;
            o.steps = (size_t)1 << i;
            steps[i] = (double)o.steps;
            flow_noise(x, n, 2, seed);
            if (!(rc = flow_sample(x, NULL, &s->m, &o, n, NULL)))
                flow_quality(&dist[meth][i], NULL, &tv[meth][i], &s->m, x, n, FLOW_NEAREST);
        }
    mat_free(x);
    if (rc)
        return rc;
    fig_series sr[] = {
        {"Euler: mean distance to the nearest mean", steps, dist[0], QUALITY_PTS, NULL, 0, 0},
        {"Heun: mean distance to the nearest mean", steps, dist[1], QUALITY_PTS, NULL, 1, 0},
        {"Euler: total variation of the shares", steps, tv[0], QUALITY_PTS, NULL, 0, 1},
        {"Heun: total variation of the shares", steps, tv[1], QUALITY_PTS, NULL, 1, 1},
    };
    return fig_lines(c, "quality",
                     "Sample quality against the number of steps S (2000 particles; "
                     "Heun costs two field evaluations per step)",
                     "S (steps)", "distance (data units) / total variation", sr, 4,
                     FIG_LOGX | FIG_KEY_ROOM);
}

/* The compare run's strips, one heatmap row each. */
static int compare_figure(fig_ctx *c, const plot_request *req, char *err, size_t errlen)
{
    static const char *const drop[] = {"class", "guidance", "particles", "mixture", "velocity",
                                       "x",     "t",        "compare",   NULL};
    static const char *const names[4] = {"real", "recon", "bigram", "flow"};
    static const char *const titles[4] = {"real images", "vq reconstructions",
                                          "(a) bigram over tokens", "(b) flow on patches"};
    topic_args base = {0}, args = {0};
    trace *tr = NULL;
    int rc = plot_args_without(&base, req->args, drop);
    topic_opt *opts = rc ? NULL : mem_calloc(base.n + 1, sizeof *opts);
    if (!opts) {
        rc = TUTOR_ENOMEM;
        goto out;
    }
    memcpy(opts, base.opts, base.n * sizeof *opts);
    opts[base.n] = (topic_opt){"compare", NULL};
    args.opts = opts;
    args.n = base.n + 1;
    args.seed = base.seed;
    if ((rc = plot_run(req, &args, &tr, err, errlen)))
        goto out;
    size_t last = trace_len(tr) ? trace_len(tr) - 1 : 0;
    const trace_snap *snaps[4];
    for (int i = 0; i < 4; i++) {
        snaps[i] = trace_len(tr) ? trace_latest(tr, last, names[i]) : NULL;
        if (!snaps[i] || !snaps[i]->reals) {
            snprintf(err, errlen, "compare: the run recorded no '%s' images", names[i]);
            rc = TUTOR_EIO;
            goto out;
        }
    }
    const trace_snap *nn = trace_latest(tr, last, "scores");
    gp g;
    if (fig_begin(c, &g, NULL)) {
        rc = c->status;
        goto out;
    }
    /* Text at its default size has 30 rows for two rows of 16-row strips: give the command line's
     * text the rows it needs (the UI sizes its text to the window: keep that). */
    if (g.format == GP_DUMB && !c->text_rows)
        gp_text_size(&g, 100, 2 * (CMP_ROWS + 4) + 4);
    /* Panels of 16 x 33 pixels: 0.35 of the page's height (315 of 900) by 0.406 of its
     * width (650 of 1600) keeps them square. */
    layout(c, &g, 2, 2, "0.074,0.926,0.06,0.86 spacing 0.04,0.1",
           "Discrete tokens against continuous flow, 2 images each (mse per pixel; nn: to the "
           "nearest real patch)");
    gp_raw(&g, "unset colorbox\nunset key\nunset xtics\nunset ytics\nunset xlabel\n"
               "unset ylabel\n");
    fig_palette(&g, 0, 0);
    gp_raw(&g, "set palette gray\n");
    for (int i = 0; i < 4; i++) {
        const trace_snap *m = snaps[i];
        char block[8];
        snprintf(block, sizeof block, "C%d", i);
        gp_data_matrix(&g, block, m->reals, m->rows, m->cols);
        char title[160];
        if (nn && nn->cols == 4 && i >= 1)
            snprintf(title, sizeof title, "%s: %s %.4f", titles[i], i == 1 ? "floor" : "nn",
                     nn->reals[i]);
        else
            snprintf(title, sizeof title, "%s", titles[i]);
        gp_raw(&g, "set title ");
        gp_text(&g, title);
        gp_raw(&g, "\nset xrange [-0.5:%zu.5]\nset yrange [%zu.5:-0.5]\nset cbrange [0:1]\nplot ",
               m->cols - 1, m->rows - 1);
        fig_image(&g, block, 0.0, 1.0);
        gp_raw(&g, "\n");
    }
    gp_raw(&g, "unset multiplot\n");
    rc = fig_end(c, &g, "compare");
out:
    trace_free(tr);
    mem_free(opts);
    mem_free((void *)base.opts);
    return rc;
}

int topic_flow_plot(const plot_request *req, strbuf *out, char *err, size_t errlen)
{
    int rc = plot_check(req, err, errlen);
    if (rc)
        return rc;
    setup s;
    if ((rc = setup_read(&s, req, err, errlen)))
        return fail(err, errlen, rc);
    fig_ctx c;
    strbuf caption = STRBUF_INIT;
    flow_mixture cls = {0};
    if (plot_ctx(&c, req, out, &caption)) {
        rc = TUTOR_ENOMEM;
        goto out;
    }
    uint64_t seed = req->args->seed;
    static const double steps[4] = {1, 2, 4, 32}, ws[4] = {0, 1, 2, 4};
    char gtitle[160];
    snprintf(gtitle, sizeof gtitle,
             "Guidance towards class %zu: v_u + w (v_c - v_u), %zu steps (dots: the means)", s.cls,
             s.o.steps);
    if ((rc = flow_mixture_class(&cls, &s.m, &s.cls, 1)))
        goto out;
    /* Each figure gives 0, TUTOR_ENOTFOUND (its script written: carry on) or a hard error. */
    rc = field_figure(&c, &s);
    if (rc == 0 || rc == TUTOR_ENOTFOUND)
        rc = trajectories_figure(&c, &s, seed);
    if (rc == 0 || rc == TUTOR_ENOTFOUND)
        rc = scatter_figure(&c, &s, seed, NULL, steps, "steps",
                            "Samples after S steps from the same noise (dots: the means)");
    if (rc == 0 || rc == TUTOR_ENOTFOUND)
        rc = quality_figure(&c, &s, seed);
    if (rc == 0 || rc == TUTOR_ENOTFOUND)
        rc = scatter_figure(&c, &s, seed, &cls, ws, "guidance", gtitle);
    if (rc == 0 || rc == TUTOR_ENOTFOUND)
        rc = compare_figure(&c, req, err, errlen);
    if (rc == 0 || rc == TUTOR_ENOTFOUND || c.status)
        rc = fig_result(&c, err, errlen);
out:
    flow_mixture_free(&s.m);
    flow_mixture_free(&cls);
    strbuf_free(&caption);
    return fail(err, errlen, rc);
}
