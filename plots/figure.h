/* figure.h: the project's one figure style, and the figure kinds every recipe shares.
 *
 * Style: 16:9, large fonts (gnuplot.c picks the terminal), the Okabe-Ito palette for lines
 * and points (distinguishable with every common colour-vision deficiency), viridis for
 * heatmaps and a blue-white-vermillion map for signed matrices, axis labels with units, a
 * legend when there are several series, and a small caption with the input and seed so a
 * figure can be reproduced.
 *
 * A figure context (fig_ctx) carries what all figures of one `tutor plot` share (format,
 * directory, file-name prefix, the user's title, the caption) and collects their paths.
 * Errors are sticky, as in strbuf: after a hard error (out of memory, gnuplot failed) later
 * figures are skipped; when gnuplot is missing each figure's script is still written and the
 * rest carry on, so every figure can be rendered later. fig_result gives the outcome.
 *
 * This module knows traces (the layer below) but not topics: topic recipes live with the
 * registry in tutor/. */
#ifndef TUTOR_FIGURE_H
#define TUTOR_FIGURE_H

#include <stddef.h>

#include "../trace/strbuf.h"
#include "../trace/trace.h"
#include "gnuplot.h"

/* Okabe & Ito (2008), in the order series use them: blue, vermillion, bluish green, reddish
 * purple, orange, sky blue, yellow, black. "#RRGGBB" strings. */
extern const char *const fig_colors[8];

typedef struct fig_ctx {
    gp_format format;
    int animate;         /* gif: one frame per step (fig_animate) */
    const char *out_dir; /* where figures go; "." prints bare file names */
    const char *prefix;  /* file names are PREFIX-NAME.EXT (the topic id) */
    const char *title;   /* the user's --title: replaces every figure's own title; or NULL */
    const char *caption; /* "input ..., seed S" in small print; or NULL */
    const char *program; /* the gnuplot binary; NULL: $TUTOR_GNUPLOT, else gnuplot */
    int text_cols;       /* dumb: the text's size (gp_text_size); 0 for the default */
    int text_rows;
    strbuf *out;   /* receives each figure's path (one per line), or dumb text */
    int status;    /* sticky hard error, 0 while fine */
    int missing;   /* figures written as .gp scripts because gnuplot is missing */
    char err[256]; /* the first error's line */
} fig_ctx;

/* Sets up c with the given format, directory (NULL or "": "."), prefix and output buffer;
 * the rest off. Allocates nothing, cannot fail; the strings and out must outlive c. */
void fig_init(fig_ctx *c, gp_format fmt, const char *out_dir, const char *prefix, strbuf *out);

/* Starts a figure in g: the session, the style, the title (c->title when set, else title;
 * NULL for none) and the caption. Returns 0 or the sticky error (g is then not started and
 * need not be freed). */
int fig_begin(fig_ctx *c, gp *g, const char *title);

/* Starts a multiplot of rows x cols panels under one title (c->title when set, else title).
 * Close it with `unset multiplot` (gp_raw). Returns 0 or g's sticky error. */
int fig_multiplot(fig_ctx *c, gp *g, int rows, int cols, const char *title);

/* Starts rows panels stacked over one shared x axis, of equal heights (the page's margins
 * are fixed, so only the bottom panel needs tick labels and an x label), under one title as
 * fig_multiplot. Close with `unset multiplot`. Returns 0 or g's sticky error. */
int fig_stack(fig_ctx *c, gp *g, int rows, const char *title);

/* Sets the axis labels (include the units: "n (elements)", "time (ms)"). Text is quoted.
 * Returns 0 or g's sticky error, as do fig_palette and fig_image. */
int fig_axes(gp *g, const char *xlabel, const char *ylabel);

/* Sets the heatmap palette: viridis (signed 0), or for signed 1 a diverging map centred on
 * zero with cbrange [-absmax, absmax]. */
int fig_palette(gp *g, int signed_map, double absmax);

/* Appends the plot clause drawing datablock $block (a gp_data_matrix) as a heatmap whose
 * colours span [lo, hi]: an image, or on the dumb terminal, which has no images, one
 * character per cell from a ramp " .:-=+*#%&" (blank for NaN). No "plot" and no newline. */
int fig_image(gp *g, const char *block, double lo, double hi);

/* Renders g as OUT_DIR/PREFIX-NAME.EXT, records the path (or the script's when gnuplot is
 * missing, or the text for dumb) in c->out, and frees g. Returns 0, TUTOR_ENOTFOUND (the
 * script was written; not sticky) or the sticky hard error. name: [a-z0-9-] only. */
int fig_end(fig_ctx *c, gp *g, const char *name);

/* The outcome of all figures: 0; the hard error, with c->err; or TUTOR_ENOTFOUND when any
 * figure was left as a script. Copies c->err into err when not 0. */
int fig_result(const fig_ctx *c, char *err, size_t errlen);

/* One series of a line chart: n points (x[i], y[i]); non-finite y are gaps. style: a
 * gnuplot plot style ("linespoints", "lines", "points", "steps"), NULL for linespoints.
 * color: 0..7 into fig_colors, or -1 for the next one. dashed: 1 for a dashed line (for
 * reference curves such as log2 n). */
typedef struct fig_series {
    const char *label;
    const double *x;
    const double *y;
    size_t n;
    const char *style;
    int color;
    int dashed;
} fig_series;

#define FIG_LOGX       1u
#define FIG_LOGY       2u
#define FIG_KEY_BOTTOM 4u  /* the legend bottom left, for falling curves */
#define FIG_KEY_CENTER 8u  /* the legend at the right, half-way up */
#define FIG_KEY_ROOM   16u /* headroom above the data for the legend, for curves everywhere */

/* A whole line-chart figure: ns series, a legend when ns > 1, axes with the given labels.
 * Returns as fig_end. */
int fig_lines(fig_ctx *c, const char *name, const char *title, const char *xlabel,
              const char *ylabel, const fig_series *s, size_t ns, unsigned flags);

/* Writes the series as datablocks $S0, $S1... and the plot command for them into g (which
 * the caller began, labelled and will end). For recipes that add marks to a line chart.
 * Returns 0 or g's sticky error. O(total points). */
int fig_plot_series(gp *g, const fig_series *s, size_t ns, const char *extra_plot);

/* An animated gif of the trace, one frame per step (every k-th when there are more than
 * FIG_MAX_FRAMES): 1-D snapshots as bars with their marked indices coloured by role, tables
 * and matrices as heatmaps with marked cells circled, up to three panels side by side, the
 * step's message as the frame's title and its scalars under it. c->format must be GP_GIF.
 * Returns as fig_end; TUTOR_EINVAL when the trace has no steps or nothing to draw. */
#define FIG_MAX_FRAMES 240
int fig_animate(fig_ctx *c, const trace *tr, const char *name, const char *title);

/* One frame of the same kind as a still figure: the state at step (the last step when step
 * is past the end). Returns as fig_animate. */
int fig_trace_state(fig_ctx *c, const trace *tr, size_t step, const char *name, const char *title);

#endif
