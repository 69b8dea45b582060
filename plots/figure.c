#include "figure.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../trace/status.h"

/* Caption text kept on a figure: more than a line of small print would cover the plot. */
#define CAPTION_MAX 150
/* Distinct snapshot names fig_animate considers, and panels it draws. */
#define MAX_NAMES  64
#define MAX_PANELS 3
/* Cells (or bars) up to which values are printed on the figure. */
#define LABEL_CELLS 144
#define LABEL_BARS  24
/* Cells or bars across the whole frame (all panels) up to which a printed value fits its
 * cell: about 50 pixels each at 1280 wide. */
#define LABEL_ACROSS 18

const char *const fig_colors[8] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                   "#E69F00", "#56B4E9", "#F0E442", "#000000"};

/* Marks by role, from the same palette: what is being worked on in blue, compared in orange,
 * written in vermillion, the answer in green, pruned in black, skipped in grey. */
static const char *const role_colors[TRACE_ROLE_COUNT] = {
    [TRACE_CURRENT] = "#0072B2", [TRACE_COMPARE] = "#E69F00", [TRACE_MOVE] = "#D55E00",
    [TRACE_SOURCE] = "#56B4E9",  [TRACE_WINNER] = "#F0E442",  [TRACE_CHOSEN] = "#009E73",
    [TRACE_PRUNED] = "#000000",  [TRACE_SKIPPED] = "#999999", [TRACE_FOUND] = "#CC79A7",
};

void fig_init(fig_ctx *c, gp_format fmt, const char *out_dir, const char *prefix, strbuf *out)
{
    memset(c, 0, sizeof *c);
    c->format = fmt;
    c->out_dir = out_dir && *out_dir ? out_dir : ".";
    c->prefix = prefix;
    c->out = out;
}

static int caption_font(gp_format fmt)
{
    return fmt == GP_PDF ? 7 : fmt == GP_GIF ? 11 : 14;
}

static void put_caption(fig_ctx *c, gp *g)
{
    if (!c->caption || !*c->caption)
        return;
    char text[CAPTION_MAX + 4];
    size_t len = strlen(c->caption);
    if (len > CAPTION_MAX) {
        /* Cut at a UTF-8 character boundary, and say that it was cut. */
        size_t cut = CAPTION_MAX;
        while (cut > 0 && ((unsigned char)c->caption[cut] & 0xC0) == 0x80)
            cut--;
        memcpy(text, c->caption, cut);
        memcpy(text + cut, "...", 4);
    } else {
        memcpy(text, c->caption, len + 1);
    }
    gp_raw(g, "set label 900 ");
    gp_text(g, text);
    gp_raw(g,
           " at screen 0.01, 0.025 left front noenhanced font \",%d\" textcolor rgb "
           "\"#555555\"\n",
           caption_font(c->format));
}

int fig_begin(fig_ctx *c, gp *g, const char *title)
{
    if (c->status)
        return c->status;
    gp_begin(g, c->format, c->animate, 40);
    gp_text_size(g, c->text_cols, c->text_rows);
    gp_raw(g, "set encoding utf8\n");
    for (int i = 0; i < 8; i++)
        gp_raw(g, "set linetype %d lc rgb \"%s\" lw 3 pt %d ps 1.4 dt solid\n", i + 1,
               fig_colors[i], (int[]){7, 5, 9, 11, 13, 15, 7, 5}[i]);
    gp_raw(g, "set linetype cycle 8\n"
              "set style line 100 lc rgb \"#DDDDDD\" lw 1\n"
              "set grid back ls 100\n"
              "set border 3 back lw 1.5\n"
              "set tics nomirror out\n"
              "set key left top opaque\n"
              "set bmargin 6\nset rmargin 5\n"
              "set palette defined (0 \"#440154\", 1 \"#3B528B\", 2 \"#21908C\", "
              "3 \"#5DC863\", 4 \"#FDE725\")\n");
    if (c->format == GP_DUMB) {
        /* Grid lines in characters hide the curves; heatmaps become character ramps. */
        gp_raw(g, "unset grid\n"
                  "shade_k(k) = k < 1 ? 1 : (k > 10 ? 10 : k)\n"
                  "shade_i(v, lo, hi) = shade_k(1 + int(9.0 * (v - lo) / (hi - lo) + 0.5))\n"
                  "shade(v, lo, hi) = v != v ? \"\" : "
                  "substr(\" .:-=+*#%%&\", shade_i(v, lo, hi), shade_i(v, lo, hi))\n");
    }
    const char *t = c->title ? c->title : title;
    if (t) {
        gp_raw(g, "set title ");
        gp_text(g, t);
        gp_raw(g, " noenhanced\n");
    }
    put_caption(c, g);
    if (g->status) {
        c->status = g->status;
        snprintf(c->err, sizeof c->err, "could not build the figure: %s",
                 status_strerror(g->status));
        gp_free(g);
    }
    return c->status;
}

int fig_multiplot(fig_ctx *c, gp *g, int rows, int cols, const char *title)
{
    const char *t = c->title ? c->title : title;
    gp_raw(g, "unset title\nset multiplot layout %d,%d", rows, cols);
    if (t) {
        gp_raw(g, " title ");
        gp_text(g, t);
        gp_raw(g, " noenhanced");
    }
    return gp_raw(g, "\n");
}

int fig_stack(fig_ctx *c, gp *g, int rows, const char *title)
{
    const char *t = c->title ? c->title : title;
    gp_raw(g, "unset title\nset multiplot layout %d,1 margins 0.1,0.97,0.19,0.88 spacing 0,0.08",
           rows);
    if (t) {
        gp_raw(g, " title ");
        gp_text(g, t);
        gp_raw(g, " noenhanced");
    }
    return gp_raw(g, "\nset title offset 0,-0.6\n");
}

int fig_axes(gp *g, const char *xlabel, const char *ylabel)
{
    gp_raw(g, "set xlabel ");
    gp_text(g, xlabel ? xlabel : "");
    gp_raw(g, "\nset ylabel ");
    gp_text(g, ylabel ? ylabel : "");
    return gp_raw(g, "\n");
}

int fig_palette(gp *g, int signed_map, double absmax)
{
    if (!signed_map)
        return gp_raw(g, "set palette defined (0 \"#440154\", 1 \"#3B528B\", 2 \"#21908C\", "
                         "3 \"#5DC863\", 4 \"#FDE725\")\n");
    if (!(absmax > 0) || !isfinite(absmax))
        absmax = 1;
    return gp_raw(g,
                  "set palette defined (-1 \"#0072B2\", 0 \"#FFFFFF\", 1 \"#D55E00\")\n"
                  "set cbrange [%.10g:%.10g]\n",
                  -absmax, absmax);
}

int fig_image(gp *g, const char *block, double lo, double hi)
{
    if (g->format != GP_DUMB)
        return gp_raw(g, "$%s matrix with image notitle", block);
    if (!(hi > lo))
        hi = lo + 1;
    return gp_raw(g, "$%s matrix using 1:2:(shade($3, %.10g, %.10g)) with labels notitle", block,
                  lo, hi);
}

static int valid_fig_name(const char *name)
{
    if (!name || !*name)
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return 0;
    return 1;
}

int fig_end(fig_ctx *c, gp *g, const char *name)
{
    if (c->status) {
        gp_free(g);
        return c->status;
    }
    strbuf path = STRBUF_INIT, script = STRBUF_INIT;
    char err[256] = "";
    int rc;
    if (!valid_fig_name(name) || !c->prefix) {
        snprintf(err, sizeof err, "bad figure name");
        rc = TUTOR_EINVAL;
        goto out;
    }
    if (strcmp(c->out_dir, ".") != 0) {
        strbuf_puts(&path, c->out_dir);
        if (c->out_dir[strlen(c->out_dir) - 1] != '/')
            strbuf_putc(&path, '/');
    }
    strbuf_printf(&path, "%s-%s%s", c->prefix, name, gp_format_ext(c->format));
    if (path.failed) {
        snprintf(err, sizeof err, "out of memory");
        rc = TUTOR_ENOMEM;
        goto out;
    }
    rc = gp_render(g, c->program, strbuf_str(&path), c->out, &script, err, sizeof err);
    if (rc == 0 && c->format != GP_DUMB) {
        strbuf_puts(c->out, strbuf_str(&path));
        strbuf_putc(c->out, '\n');
    } else if (rc == TUTOR_ENOTFOUND) {
        strbuf_puts(c->out, strbuf_str(&script));
        strbuf_putc(c->out, '\n');
        if (!c->missing++)
            snprintf(c->err, sizeof c->err, "%s", err);
    }
    if (!rc && c->out->failed) {
        snprintf(err, sizeof err, "out of memory");
        rc = TUTOR_ENOMEM;
    }
out:
    if (rc && rc != TUTOR_ENOTFOUND) {
        c->status = rc;
        snprintf(c->err, sizeof c->err, "%s", err);
    }
    strbuf_free(&path);
    strbuf_free(&script);
    gp_free(g);
    return rc;
}

int fig_result(const fig_ctx *c, char *err, size_t errlen)
{
    int rc = c->status ? c->status : c->missing ? TUTOR_ENOTFOUND : 0;
    if (rc && err && errlen)
        snprintf(err, errlen, "%s", c->err[0] ? c->err : status_strerror(rc));
    return rc;
}

int fig_plot_series(gp *g, const fig_series *s, size_t ns, const char *extra_plot)
{
    char block[32];
    for (size_t i = 0; i < ns; i++) {
        snprintf(block, sizeof block, "S%zu", i);
        gp_data_begin(g, block);
        for (size_t k = 0; k < s[i].n; k++)
            gp_data_row(g, (double[]){s[i].x[k], s[i].y[k]}, 2);
        gp_data_end(g);
    }
    gp_raw(g, "plot ");
    int next = 0;
    for (size_t i = 0; i < ns; i++) {
        int color = s[i].color >= 0 && s[i].color < 8 ? s[i].color : next % 8;
        next = color + 1;
        gp_raw(g, "%s$S%zu using 1:2 with %s lc rgb \"%s\" lw 3 dt %s", i ? ", " : "", i,
               s[i].style ? s[i].style : "linespoints", fig_colors[color],
               s[i].dashed ? "(12,8)" : "solid");
        if (ns > 1 && s[i].label) {
            gp_raw(g, " title ");
            gp_text(g, s[i].label);
        } else {
            gp_raw(g, " notitle");
        }
    }
    if (extra_plot)
        gp_raw(g, ", %s", extra_plot);
    return gp_raw(g, "\n");
}

int fig_lines(fig_ctx *c, const char *name, const char *title, const char *xlabel,
              const char *ylabel, const fig_series *s, size_t ns, unsigned flags)
{
    gp g;
    if (fig_begin(c, &g, title))
        return c->status;
    gp_raw(&g, "set autoscale xfix\n"); /* the x axis ends where the data does */
    if (flags & FIG_LOGX)
        gp_raw(&g, c->format == GP_DUMB ? "set logscale x 2\nset format x \"2^%%L\"\n"
                                        : "set logscale x 2\nset format x \"2^{%%L}\"\n");
    if (flags & FIG_LOGY)
        gp_raw(&g, c->format == GP_DUMB ? "set logscale y 10\nset format y \"1e%%L\"\n"
                                        : "set logscale y 10\nset format y \"10^{%%L}\"\n");
    if (flags & FIG_KEY_BOTTOM)
        gp_raw(&g, "set key left bottom opaque\n");
    if (flags & FIG_KEY_CENTER)
        gp_raw(&g, "set key right center opaque\n");
    if (flags & FIG_KEY_ROOM)
        gp_raw(&g, "set offsets 0, 0, graph 0.5, 0\n");
    fig_axes(&g, xlabel, ylabel);
    fig_plot_series(&g, s, ns, NULL);
    return fig_end(c, &g, name);
}

/* ---- animation ---- */

static int is_panel_kind(trace_kind k)
{
    return k == TRACE_INTS || k == TRACE_REALS || k == TRACE_TABLE || k == TRACE_MATRIX;
}

static double snap_value(const trace_snap *s, size_t i)
{
    if (s->ints)
        return s->ints[i] == TRACE_NONE ? NAN : (double)s->ints[i];
    return s->reals[i];
}

/* Distinct snapshot names of the trace, at most max: the 1-D and 2-D ones (panels = 1) or
 * the scalars (panels = 0). Panels come most-marked first (the state the algorithm works on,
 * not its inputs), ties in first-seen order. The names point into the trace. */
static size_t collect_names(const trace *tr, const char **names, size_t max, int panels)
{
    const char *all[MAX_NAMES];
    size_t marks[MAX_NAMES] = {0};
    size_t n = 0, len = trace_len(tr);
    for (size_t i = 0; i < len; i++) {
        const trace_frame *f = trace_at(tr, i);
        for (size_t k = 0; k < f->nsnaps; k++) {
            const trace_snap *s = &f->snaps[k];
            if (is_panel_kind(s->kind) != panels)
                continue;
            size_t j = 0;
            while (j < n && strcmp(all[j], s->name) != 0)
                j++;
            if (j == n && n < MAX_NAMES)
                all[n++] = s->name;
        }
        for (size_t k = 0; k < f->nmarks; k++)
            for (size_t j = 0; j < n; j++)
                if (strcmp(all[j], f->marks[k].target) == 0)
                    marks[j]++;
    }
    /* A stable selection by mark count: n is small (MAX_NAMES). */
    int taken[MAX_NAMES] = {0};
    size_t out = 0;
    while (out < max && out < n) {
        size_t best = n;
        for (size_t j = 0; j < n; j++)
            if (!taken[j] && (best == n || (panels && marks[j] > marks[best])))
                best = j;
        taken[best] = 1;
        names[out++] = all[best];
    }
    return out;
}

/* The range of every value ever recorded under name (finite ones), and the most columns it
 * ever had, so the axes stay still while the animation runs. */
static void value_range(const trace *tr, const char *name, double *lo, double *hi, size_t *cols)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    *cols = 1;
    size_t len = trace_len(tr);
    for (size_t i = 0; i < len; i++) {
        const trace_snap *s = trace_find(trace_at(tr, i), name);
        if (!s)
            continue;
        *cols = s->cols > *cols ? s->cols : *cols;
        for (size_t k = 0; k < s->rows * s->cols; k++) {
            double v = snap_value(s, k);
            if (isfinite(v)) {
                *lo = v < *lo ? v : *lo;
                *hi = v > *hi ? v : *hi;
            }
        }
    }
    if (!isfinite(*lo)) {
        *lo = 0;
        *hi = 1;
    }
    if (*hi <= *lo)
        *hi = *lo + 1;
}

/* Writes the marks of frame f that point into snapshot name as datablock $M (x, y, role)
 * and returns a bit set of the roles present. 1-D marks sit on their bar, 2-D on (col, row). */
static unsigned put_marks(gp *g, const trace_frame *f, const trace_snap *s, const char *name)
{
    unsigned roles = 0;
    gp_data_begin(g, "M");
    for (size_t k = 0; k < f->nmarks; k++) {
        const trace_marker *m = &f->marks[k];
        if (strcmp(m->target, name) != 0 || m->row < 0 || (unsigned)m->role >= TRACE_ROLE_COUNT)
            continue;
        if (s->rows == 1 && m->col < 0 && (size_t)m->row < s->cols) {
            gp_data_row(g, (double[]){(double)m->row, snap_value(s, (size_t)m->row), m->role}, 3);
        } else if (m->col >= 0 && (size_t)m->row < s->rows && (size_t)m->col < s->cols) {
            gp_data_row(g, (double[]){(double)m->col, (double)m->row, m->role}, 3);
        } else {
            continue;
        }
        roles |= 1u << m->role;
    }
    gp_data_end(g);
    return roles;
}

static void put_role_series(gp *g, unsigned roles, int bars)
{
    for (int r = 0; r < TRACE_ROLE_COUNT; r++) {
        if (!(roles & (1u << r)))
            continue;
        if (bars)
            gp_raw(g, ", $M using 1:($3==%d?$2:NaN) with boxes lc rgb \"%s\" title ", r,
                   role_colors[r]);
        else
            gp_raw(g,
                   ", $M using 1:($3==%d?$2:NaN) with points pt 6 ps 3.5 lw 4 lc rgb \"%s\" "
                   "title ",
                   r, role_colors[r]);
        gp_text(g, trace_role_name((trace_role)r));
    }
}

static void put_panel(gp *g, const trace *tr, size_t step, const char *name, size_t index,
                      size_t np, double lo, double hi, size_t width, int with_title)
{
    const trace_frame *f = trace_at(tr, step);
    const trace_snap *s = trace_latest(tr, step, name);
    gp_raw(g, "set autoscale\nunset logscale\nunset xlabel\nunset ylabel\nunset title\n"
              "set key inside right top opaque horizontal\nset bmargin 8\n"
              "set border 3 back lw 1.5\nset tics nomirror out\n");
    if (with_title) {
        gp_raw(g, "set title ");
        gp_text(g, name);
        gp_raw(g, " noenhanced\n");
    }
    if (!s) {
        gp_raw(g, "set label 901 ");
        gp_text(g, "(not recorded yet)");
        gp_raw(g, " at graph 0.5, 0.5 center\nunset tics\nunset border\n"
                  "plot [0:1][0:1] -1 notitle\nunset label 901\n");
        return;
    }
    gp_data_begin(g, "P");
    if (s->rows == 1 && (s->kind == TRACE_INTS || s->kind == TRACE_REALS)) {
        for (size_t k = 0; k < s->cols; k++)
            gp_data_row(g, (double[]){(double)k, snap_value(s, k)}, 2);
        gp_data_end(g);
        unsigned roles = put_marks(g, f, s, name);
        /* Headroom above the bars for the value labels and the legend of roles. */
        double top = hi > 0 ? hi * 1.4 : 0, bottom = lo < 0 ? lo * 1.15 : 0;
        if (top <= bottom)
            top = bottom + 1;
        gp_raw(g, width <= 30 ? "set xtics 1\n" : "set xtics autofreq\n");
        /* Outlines only while bars are wide enough to show them. */
        gp_raw(g, "set xrange [-0.6:%.1f]\nset yrange [%.10g:%.10g]\nset boxwidth 0.8\n%s",
               (double)width - 0.4, bottom, top,
               width * np <= 60 ? "set style fill solid 0.85 border lc rgb \"#333333\"\n"
                                : "set style fill solid 0.85 noborder\n");
        fig_axes(g, "index", "value");
        gp_raw(g, "plot $P using 1:2 with boxes lc rgb \"#BBBBBB\" notitle");
        put_role_series(g, roles, 1);
        if (width <= LABEL_BARS && width * np <= LABEL_ACROSS)
            gp_raw(g, ", $P using 1:2:(sprintf(\"%%.3g\",$2)) with labels offset 0,0.8 notitle");
        gp_raw(g, "\n");
        return;
    }
    for (size_t r = 0; r < s->rows; r++) {
        for (size_t k = 0; k < s->cols; k++)
            gp_raw(g, k ? " %.10g" : "%.10g", snap_value(s, r * s->cols + k));
        gp_raw(g, "\n");
    }
    gp_data_end(g);
    unsigned roles = put_marks(g, f, s, name);
    fig_palette(g, 0, 0);
    gp_raw(g, s->cols <= 30 ? "set xtics 1\n" : "set xtics autofreq\n");
    gp_raw(g, s->rows <= 30 ? "set ytics 1\n" : "set ytics autofreq\n");
    gp_raw(g,
           "set xrange [-0.5:%zu.5]\nset yrange [%zu.5:-0.5]\nset cbrange [%.10g:%.10g]\n"
           "set style textbox opaque noborder\n",
           s->cols - 1, s->rows - 1, lo, hi);
    fig_axes(g, "column", "row");
    /* Under the panel's x label, above the caption: the frame's bottom margin has room. */
    gp_raw(g, "set key at screen %.4f, 0.11 center top horizontal font \",12\"\n",
           ((double)index + 0.5) / (double)np);
    gp_raw(g, "plot ");
    fig_image(g, "P", lo, hi);
    if (s->rows * s->cols <= LABEL_CELLS && s->cols * np <= LABEL_ACROSS && g->format != GP_DUMB)
        gp_raw(g, ", $P matrix using 1:2:($3 == $3 ? sprintf(\"%%.3g\", $3) : \"\") with labels "
                  "boxed notitle");
    put_role_series(g, roles, 0);
    gp_raw(g, "\n");
}

/* Draws steps first, first + stride, ... and always last, one frame each (one figure when
 * first == last). */
static int trace_frames(fig_ctx *c, const trace *tr, size_t first, size_t last, size_t stride,
                        const char *name, const char *title)
{
    if (c->status)
        return c->status;
    const char *panels[MAX_PANELS], *scalars[6];
    size_t len = trace_len(tr);
    size_t np = len ? collect_names(tr, panels, MAX_PANELS, 1) : 0;
    size_t ns = len ? collect_names(tr, scalars, 6, 0) : 0;
    if (!np) {
        snprintf(c->err, sizeof c->err,
                 len ? "the run recorded no arrays, tables or matrices to draw"
                     : "the run recorded no steps to draw");
        return c->status = TUTOR_EINVAL;
    }
    double lo[MAX_PANELS], hi[MAX_PANELS];
    size_t width[MAX_PANELS];
    for (size_t p = 0; p < np; p++)
        value_range(tr, panels[p], &lo[p], &hi[p], &width[p]);
    gp g;
    if (fig_begin(c, &g, NULL))
        return c->status;
    gp_raw(&g, "set key inside right top opaque horizontal\n");
    strbuf head = STRBUF_INIT;
    for (size_t i = first;; i += stride) {
        if (i >= last)
            i = last;
        const trace_frame *f = trace_at(tr, i);
        strbuf_clear(&head);
        if (c->title || title)
            strbuf_printf(&head, "%s\n", c->title ? c->title : title);
        strbuf_printf(&head, "step %zu/%zu", i + 1, len);
        if (f->line)
            strbuf_printf(&head, ", line %d", f->line);
        strbuf_printf(&head, ": %s", f->msg);
        for (size_t k = 0; k < ns; k++) {
            const trace_snap *s = trace_latest(tr, i, scalars[k]);
            if (!s)
                continue;
            strbuf_printf(&head, k ? ", %s = " : "\n%s = ", s->name);
            if (s->ints && s->ints[0] == TRACE_NONE)
                strbuf_puts(&head, "none");
            else if (s->ints)
                strbuf_printf(&head, "%lld", (long long)s->ints[0]);
            else
                strbuf_printf(&head, "%.4g", s->reals[0]);
        }
        if (stride > 1 && i == first)
            strbuf_printf(&head, " (every %zu-th step)", stride);
        if (head.failed) {
            g.status = TUTOR_ENOMEM;
            break;
        }
        gp_raw(&g, "set multiplot layout 1,%zu title ", np);
        gp_text(&g, strbuf_str(&head));
        gp_raw(&g, " noenhanced\n");
        for (size_t p = 0; p < np; p++)
            put_panel(&g, tr, i, panels[p], p, np, lo[p], hi[p], width[p], 1);
        gp_raw(&g, "unset multiplot\n");
        if (i == last)
            break;
    }
    strbuf_free(&head);
    return fig_end(c, &g, name);
}

int fig_animate(fig_ctx *c, const trace *tr, const char *name, const char *title)
{
    size_t len = trace_len(tr);
    size_t stride = len ? (len + FIG_MAX_FRAMES - 1) / FIG_MAX_FRAMES : 1;
    return trace_frames(c, tr, 0, len ? len - 1 : 0, stride, name, title);
}

int fig_trace_state(fig_ctx *c, const trace *tr, size_t step, const char *name, const char *title)
{
    size_t len = trace_len(tr);
    if (len && step >= len)
        step = len - 1;
    return trace_frames(c, tr, step, step, 1, name, title);
}
