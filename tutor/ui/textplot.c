#include "textplot.h"

#include "../../plots/gnuplot.h"

/* The UI waits for a plot while the student waits for the screen: past this, the plot is
 * given up (the pane falls back to a sparkline) rather than the UI freezing. */
#define PLOT_TIMEOUT_MS 2000

int textplot_render(const double *v, size_t n, int w, int h, strbuf *out)
{
    gp g;
    gp_begin(&g, GP_DUMB, 0, 0);
    gp_text_size(&g, w, h);
    gp_set_timeout(&g, PLOT_TIMEOUT_MS);
    /* NaN as a missing point, not an undefined one: the line joins across a gap in the
     * series instead of breaking there. */
    gp_raw(&g,
           "unset key\nset border 3\nset tics nomirror scale 0.5\nset xrange [0:%zu]\n"
           "set datafile missing 'NaN'\n",
           n ? n - 1 : 0);
    gp_data_begin(&g, "D");
    for (size_t k = 0; k < n; k++)
        gp_data_row(&g, (double[]){(double)k, v[k]}, 2);
    gp_data_end(&g);
    gp_raw(&g, "plot $D using 1:2 with lines\n");
    /* No path: a UI plot leaves no fallback script behind when gnuplot is missing, and the
     * one-line reason is not shown (the pane just draws a sparkline instead). */
    char err[256];
    int rc = gp_render(&g, NULL, NULL, out, NULL, err, sizeof err);
    gp_free(&g);
    return rc;
}
