/* topic_knapsack_plot.c: knapsack's figure `table`: the 2-D DP table f[i][j] as a heatmap, with
 * the walk back from f[n][C] that recovers the chosen items drawn over it. */
#include <math.h>
#include <stdio.h>

#include "../../algorithms/knapsack.h"
#include "../../trace/mem.h"
#include "../../trace/status.h"
#include "plot.h"

/* Cells up to which the table's values are printed in the cells. */
#define LABEL_CELLS 400

static double cell(const trace_snap *f, size_t i, size_t j)
{
    int64_t x = f->ints[i * f->cols + j];
    return x == TRACE_NONE ? NAN : (double)x;
}

static void table_figure(fig_ctx *c, const trace_snap *f, const trace_snap *volume)
{
    size_t rows = f->rows, cols = f->cols, n = rows - 1;
    gp g;
    if (fig_begin(c, &g, "0/1 knapsack: the DP table f[i][j] and the walk back to the items"))
        return;
    gp_data_begin(&g, "F");
    for (size_t i = 0; i < rows; i++) {
        for (size_t j = 0; j < cols; j++)
            gp_raw(&g, j ? " %.17g" : "%.17g", cell(f, i, j));
        gp_raw(&g, "\n");
    }
    gp_data_end(&g);
    /* The walk back (knapsack.h): from (n, C), f[i][j] != f[i-1][j] means item i-1 was
     * taken and the rest of the answer sits at (i-1, j - v); equal means it was left out. */
    gp_data_begin(&g, "P");
    size_t j = cols - 1;
    int reachable = !isnan(cell(f, n, j));
    size_t taken = 0;
    for (size_t i = n; reachable; i--) {
        gp_data_row(&g, (double[]){(double)j, (double)i}, 2);
        if (i == 0)
            break;
        if (cell(f, i, j) != cell(f, i - 1, j) && volume && i - 1 < volume->cols) {
            j -= (size_t)volume->ints[i - 1];
            taken++;
        }
    }
    gp_data_end(&g);
    gp_data_begin(&g, "T");
    j = cols - 1;
    for (size_t i = n; reachable && i >= 1; i--) {
        if (cell(f, i, j) != cell(f, i - 1, j) && volume && i - 1 < volume->cols) {
            gp_data_row(&g, (double[]){(double)j, (double)i, (double)(i - 1)}, 3);
            j -= (size_t)volume->ints[i - 1];
        }
    }
    gp_data_end(&g);
    fig_palette(&g, 0, 0);
    gp_raw(&g,
           "set xrange [-0.5:%zu.5]\nset yrange [%zu.5:-0.5]\nset grid noxtics noytics\n"
           "set style textbox opaque noborder\nset cblabel \"best value f[i][j] (value units)\"\n"
           "set key above horizontal\n",
           cols - 1, rows - 1);
    gp_raw(&g, cols <= 30 ? "set xtics 1\n" : "set xtics autofreq\n");
    gp_raw(&g, rows <= 30 ? "set ytics 1\n" : "set ytics autofreq\n");
    fig_axes(&g, "capacity j (volume units)", "items considered, i");
    double lo = INFINITY, hi = -INFINITY;
    for (size_t x = 0; x < rows * cols; x++) {
        double v = cell(f, x / cols, x % cols);
        if (!isnan(v)) {
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    }
    gp_raw(&g, "plot ");
    fig_image(&g, "F", lo, hi);
    if (rows * cols <= LABEL_CELLS && c->format != GP_DUMB)
        gp_raw(&g, ", $F matrix using 1:2:($3 == $3 ? sprintf(\"%%d\", int($3)) : \"\") "
                   "with labels boxed font \",20\" notitle");
    if (reachable) {
        gp_raw(&g,
               ", $P using 1:2 with linespoints lw 5 pt 7 ps 1.2 lc rgb \"%s\" "
               "title \"walk back from f[n][C]\"",
               fig_colors[1]);
        if (taken)
            gp_raw(&g,
                   ", $T using 1:2 with points pt 6 ps 5 lw 5 lc rgb \"%s\" "
                   "title \"item i-1 taken (f[i][j] != f[i-1][j])\"",
                   fig_colors[3]);
    }
    gp_raw(&g, "\n");
    fig_end(c, &g, "table");
}

int topic_knapsack_plot(const plot_request *req, strbuf *out, char *err, size_t errlen)
{
    /* The table exists only in the 2-D method: drop the 1-D options for this figure. */
    static const char *const drop[] = {"method", "ascending", NULL};
    topic_args args = {0};
    trace *tr = NULL;
    fig_ctx c;
    strbuf caption = STRBUF_INIT;
    int rc = plot_args_without(&args, req->args, drop);
    if (rc || (rc = plot_ctx(&c, req, out, &caption)) != 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = plot_run(req, &args, &tr, err, errlen);
    if (rc)
        goto out;
    if (trace_truncated(tr)) {
        /* The table is recorded cell by cell; past the trace's cap its last snapshot is
         * unfinished, and a table that large is no lecture figure anyway. */
        snprintf(err, errlen,
                 "--capacity, --items: the table is too large to draw (the trace "
                 "hit its size cap); use fewer items or a smaller capacity");
        rc = TUTOR_ETOOBIG;
        goto out;
    }
    size_t last = trace_len(tr) ? trace_len(tr) - 1 : 0;
    const trace_snap *f = trace_len(tr) ? trace_latest(tr, last, "f") : NULL;
    const trace_snap *volume = trace_len(tr) ? trace_latest(tr, last, "volume") : NULL;
    if (!f || !f->ints || f->rows < 1) {
        snprintf(err, errlen, "the run recorded no DP table to draw");
        rc = TUTOR_EINVAL;
        goto out;
    }
    table_figure(&c, f, volume);
    rc = fig_result(&c, err, errlen);
out:
    trace_free(tr);
    strbuf_free(&caption);
    mem_free((void *)args.opts);
    return rc;
}
