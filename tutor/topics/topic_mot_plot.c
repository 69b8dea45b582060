/* topic_mot_plot.c: the mixture-of-transformer-experts figures, from one traced run of the
 * topic (so --segments, --n, --d, --heads, --tie and --seed all apply):
 *   mask:     the generalised causal mask M as a heatmap (row: query, column: key);
 *   outputs:  the layer's output rows of each modality, Y_text and Y_image, side by side on
 *             one diverging colour scale;
 *   routing:  per token, max |Y - Y_dense| against the dense layer that sends every token
 *             through the text weights: 0 until the first image, and 0 everywhere when tied. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../models/attention.h"
#include "../../trace/mem.h"
#include "../../trace/status.h"
#include "plot.h"

static int mask_figure(fig_ctx *c, const trace_snap *m, const trace_snap *modality)
{
    size_t n = m->rows;
    double *cells = mem_alloc(n * n * sizeof *cells);
    if (!cells)
        return TUTOR_ENOMEM;
    for (size_t i = 0; i < n * n; i++)
        cells[i] = (double)m->ints[i];
    gp g;
    if (fig_begin(c, &g,
                  "MoT: the generalised causal mask (causal between segments, full inside an "
                  "image)")) {
        mem_free(cells);
        return 0;
    }
    gp_data_matrix(&g, "M", cells, n, n);
    mem_free(cells);
    /* The image tokens' rows and columns as ticks, so the square blocks can be read off. */
    gp_raw(&g,
           "set xrange [-0.5:%zu.5]\nset yrange [%zu.5:-0.5]\nset grid noxtics noytics\n"
           "set cbrange [0:1]\nset cbtics (\"0\" 0, \"1\" 1)\n"
           "set cblabel \"1: query i may attend to key j\"\n",
           n - 1, n - 1);
    gp_raw(&g, n <= 16   ? "set xtics 1\nset ytics 1\n"
               : n <= 32 ? "set xtics 1 font \",10\"\nset ytics 1 font \",10\"\n"
                         : "set xtics autofreq\nset ytics autofreq\n");
    if (n <= 32 && modality && modality->cols == n)
        /* Image tokens' indices on both axes read "5I": the square blocks are the images. */
        for (int axis = 0; axis < 2; axis++) {
            gp_raw(&g, axis ? "set ytics (" : "set xtics (");
            for (size_t j = 0; j < n; j++)
                gp_raw(&g, "%s\"%zu%s\" %zu", j ? ", " : "", j, modality->ints[j] ? "I" : "", j);
            gp_raw(&g, ")\n");
        }
    fig_palette(&g, 0, 0);
    fig_axes(&g, "key j (I: an image token)", "query i");
    gp_raw(&g, "plot ");
    fig_image(&g, "M", 0, 1);
    gp_raw(&g, "\n");
    fig_end(c, &g, "mask");
    return 0;
}

/* count[m]: tokens of modality m, to tell "none" from "too large to record". */
static int outputs_figure(fig_ctx *c, const trace_snap *yt, const trace_snap *yi,
                          const size_t count[2])
{
    const trace_snap *panel[2] = {yt, yi};
    /* No underscores in titles: gnuplot's enhanced text would make them subscripts. */
    static const char *const names[2] = {"text tokens (their rows of Y)",
                                         "image tokens (their rows of Y)"};
    double absmax = 0;
    for (int p = 0; p < 2; p++)
        for (size_t i = 0; panel[p] && i < panel[p]->rows * panel[p]->cols; i++)
            if (isfinite(panel[p]->reals[i]) && fabs(panel[p]->reals[i]) > absmax)
                absmax = fabs(panel[p]->reals[i]);
    if (absmax == 0)
        absmax = 1;
    gp g;
    if (fig_begin(c, &g, NULL))
        return 0;
    fig_multiplot(c, &g, 1, 2,
                  "MoT: the layer's output by modality (each row one token, through its own "
                  "expert; blue < 0 < vermillion)");
    gp_raw(&g, "set grid noxtics noytics\nunset key\nset bmargin 5.5\nset tmargin 3\n"
               "set xlabel \"output column\"\n");
    fig_palette(&g, 1, absmax);
    for (int p = 0; p < 2; p++) {
        /* One y label, on the left panel: a second one would land between the panels. */
        gp_raw(&g, p ? "unset ylabel\nset title " : "set ylabel \"token (in order)\"\nset title ");
        gp_text(&g, names[p]);
        gp_raw(&g, "\n");
        const trace_snap *s = panel[p];
        if (!s || !s->reals) {
            gp_raw(&g,
                   "set label 901 \"%s\" at graph 0.5, 0.5 center\n"
                   "plot [0:1][0:1] -1 notitle\nunset label 901\n",
                   count[p] ? "(too large to record: fewer tokens or a smaller d)"
                            : "(no tokens of this modality)");
            continue;
        }
        char block[8];
        snprintf(block, sizeof block, "Y%d", p);
        gp_data_matrix(&g, block, s->reals, s->rows, s->cols);
        gp_raw(&g, "set xrange [-0.5:%zu.5]\nset yrange [%zu.5:-0.5]\n", s->cols - 1, s->rows - 1);
        gp_raw(&g, s->rows <= 16 ? "set ytics 1\n" : "set ytics autofreq\n");
        gp_raw(&g, s->cols <= 10 ? "set xtics 1\nplot " : "set xtics autofreq\nplot ");
        fig_image(&g, block, -absmax, absmax);
        gp_raw(&g, "\n");
    }
    gp_raw(&g, "unset multiplot\n");
    fig_end(c, &g, "outputs");
    return 0;
}

static int routing_figure(fig_ctx *c, const trace_snap *dy, const trace_snap *modality)
{
    size_t n = dy->cols;
    double *buf = mem_alloc(3 * n * sizeof *buf);
    if (!buf)
        return TUTOR_ENOMEM;
    double *tok = buf, *text = tok + n, *image = text + n, top = 0;
    for (size_t i = 0; i < n; i++) {
        int img = modality && i < modality->cols && modality->ints[i];
        tok[i] = (double)i;
        /* NaN leaves a gap: each series shows its own modality's tokens only. */
        text[i] = img ? NAN : dy->reals[i];
        image[i] = img ? dy->reals[i] : NAN;
        top = dy->reals[i] > top ? dy->reals[i] : top;
    }
    fig_series s[] = {
        {"text tokens", tok, text, n, "impulses", 0, 0},
        {"image tokens", tok, image, n, "impulses", 1, 0},
    };
    gp g;
    if (!fig_begin(c, &g,
                   "MoT against the dense layer (text weights for every token): what routing "
                   "changes")) {
        /* Tied, every difference is 0 (or rounding): keep the axis from collapsing. */
        gp_raw(&g, "set xrange [-0.5:%zu.5]\nset yrange [0:%.10g]\nset key top left\n", n - 1,
               top > 0 ? top * 1.15 : 1.0);
        fig_axes(&g, "token i", "max over columns of |Y - Ydense| in row i");
        fig_plot_series(&g, s, 2, NULL);
        fig_end(c, &g, "routing");
    }
    mem_free(buf);
    return 0;
}

int topic_mot_plot(const plot_request *req, strbuf *out, char *err, size_t errlen)
{
    trace *tr = NULL;
    fig_ctx c;
    strbuf caption = STRBUF_INIT;
    int rc = plot_ctx(&c, req, out, &caption);
    if (rc) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if ((rc = plot_run(req, NULL, &tr, err, errlen)))
        goto out;
    size_t last = trace_len(tr) ? trace_len(tr) - 1 : 0;
    const trace_snap *m = trace_len(tr) ? trace_latest(tr, last, "M") : NULL;
    if (!m || !m->ints) {
        /* The library records n x n tables only up to ATTN_TRACE_MAX_CELLS values, and a
         * heatmap of more cells than that is no lecture figure. */
        snprintf(err, errlen, "--n, --segments: the figures need at most %zu tokens",
                 (size_t)sqrt((double)ATTN_TRACE_MAX_CELLS));
        rc = TUTOR_ETOOBIG;
        goto out;
    }
    const trace_snap *modality = trace_latest(tr, last, "modality");
    const trace_snap *dy = trace_latest(tr, last, "dY");
    size_t count[2] = {0, 0};
    for (size_t i = 0; modality && modality->ints && i < modality->cols; i++)
        count[modality->ints[i] != 0]++;
    if ((rc = mask_figure(&c, m, modality)) ||
        (rc = outputs_figure(&c, trace_latest(tr, last, "Y_text"),
                             trace_latest(tr, last, "Y_image"), count)) ||
        (dy && dy->reals && (rc = routing_figure(&c, dy, modality)))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = fig_result(&c, err, errlen);
out:
    trace_free(tr);
    strbuf_free(&caption);
    return rc;
}
