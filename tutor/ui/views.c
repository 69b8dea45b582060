#include "views.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../trace/mem.h"
#include "../../trace/status.h"
#include "textplot.h"

/* ---------------------------------------------------------------------------------------
 * The index of snapshot names. */

static int series_add(views_series *s, size_t step, const trace_snap *sp)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 8;
        size_t *at = mem_realloc_array(s->at, cap, sizeof *at);
        if (!at)
            return TUTOR_ENOMEM;
        s->at = at;
        const trace_snap **snap = mem_realloc_array(s->snap, cap, sizeof *snap);
        if (!snap)
            return TUTOR_ENOMEM;
        s->snap = snap;
        s->cap = cap;
    }
    s->at[s->n] = step;
    s->snap[s->n] = sp;
    s->n++;
    s->kind = sp->kind;
    return 0;
}

static views_series *series_find(const views_index *ix, const char *name)
{
    for (size_t k = 0; k < ix->n; k++)
        if (strcmp(ix->v[k].name, name) == 0)
            return &ix->v[k];
    return NULL;
}

int views_index_build(views_index *ix, const trace *tr)
{
    size_t steps = trace_len(tr);
    for (size_t i = 0; i < steps; i++) {
        const trace_frame *f = trace_at(tr, i);
        for (size_t j = 0; j < f->nsnaps; j++) {
            const trace_snap *sp = &f->snaps[j];
            views_series *s = series_find(ix, sp->name);
            if (!s) {
                if (ix->n == ix->cap) {
                    size_t cap = ix->cap ? 2 * ix->cap : 8;
                    views_series *v = mem_realloc_array(ix->v, cap, sizeof *v);
                    if (!v)
                        goto fail;
                    ix->v = v;
                    ix->cap = cap;
                }
                s = &ix->v[ix->n++];
                memset(s, 0, sizeof *s);
                s->name = sp->name;
            }
            if (series_add(s, i, sp))
                goto fail;
        }
    }
    return 0;
fail:
    views_index_free(ix);
    return TUTOR_ENOMEM;
}

void views_index_free(views_index *ix)
{
    for (size_t k = 0; k < ix->n; k++) {
        mem_free(ix->v[k].at);
        mem_free(ix->v[k].snap);
    }
    mem_free(ix->v);
    memset(ix, 0, sizeof *ix);
}

static const trace_snap *series_at(const views_series *s, size_t step)
{
    /* The last recording at or before step: binary search for the first one after it. */
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->at[mid] <= step)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? s->snap[lo - 1] : NULL;
}

const trace_snap *views_index_get(const views_index *ix, const char *name, size_t step)
{
    const views_series *s = series_find(ix, name);
    return s ? series_at(s, step) : NULL;
}

/* ---------------------------------------------------------------------------------------
 * Marks and their brackets. */

static const char *const role_open[TRACE_ROLE_COUNT] = {"[", "<", "{", "(", "+",
                                                        "*", "/", "~", "!"};
static const char *const role_close[TRACE_ROLE_COUNT] = {"]", ">", "}", ")", "+",
                                                         "*", "/", "~", "!"};

/* When one cell carries several marks, the most telling one is drawn. */
static const trace_role role_priority[TRACE_ROLE_COUNT] = {
    TRACE_CURRENT, TRACE_FOUND,  TRACE_MOVE,   TRACE_WINNER, TRACE_COMPARE,
    TRACE_CHOSEN,  TRACE_SOURCE, TRACE_PRUNED, TRACE_SKIPPED};

const char *views_role_open(trace_role role)
{
    return role < TRACE_ROLE_COUNT ? role_open[role] : "[";
}

const char *views_role_close(trace_role role)
{
    return role < TRACE_ROLE_COUNT ? role_close[role] : "]";
}

/* What one draw pass shares: the step's marks (NULL when hidden) and the roles drawn. */
typedef struct ctx {
    const trace_frame *frame; /* the step itself, for what it recorded */
    const trace_frame *marks;
    unsigned roles_seen;
    const views_index *ix;
    size_t step;
    views_opts *o;
    int x, w;   /* the pane's columns */
    int bottom; /* the pane's last row + 1 */
    int cursor_used;
} ctx;

/* 1 when the step marks any cell of snapshot `name`. */
static int marked(const ctx *c, const char *name)
{
    if (!c->marks)
        return 0;
    for (size_t k = 0; k < c->marks->nmarks; k++)
        if (strcmp(c->marks->marks[k].target, name) == 0)
            return 1;
    return 0;
}

/* The role of cell (row, col) of snapshot `name` in this step, or -1. */
static int role_at(ctx *c, const char *name, long row, long col)
{
    if (!c->marks)
        return -1;
    unsigned found = 0;
    for (size_t k = 0; k < c->marks->nmarks; k++) {
        const trace_marker *m = &c->marks->marks[k];
        if (m->row == row && (m->col == col || (col < 0 && m->col < 0)) &&
            strcmp(m->target, name) == 0)
            found |= 1u << m->role;
    }
    if (!found)
        return -1;
    for (int k = 0; k < TRACE_ROLE_COUNT; k++)
        if (found & (1u << role_priority[k])) {
            c->roles_seen |= 1u << role_priority[k];
            return (int)role_priority[k];
        }
    return -1;
}

/* The first marked index of snapshot `name` (CURRENT first), or -1. */
static int first_mark(const ctx *c, const char *name, long *row, long *col)
{
    if (!c->marks)
        return -1;
    int best = -1;
    for (size_t k = 0; k < c->marks->nmarks; k++) {
        const trace_marker *m = &c->marks->marks[k];
        if (strcmp(m->target, name) != 0)
            continue;
        if (best < 0 || m->role == TRACE_CURRENT) {
            *row = m->row;
            *col = m->col;
            best = (int)m->role;
            if (m->role == TRACE_CURRENT)
                break;
        }
    }
    return best;
}

static void fmt_int(char *buf, size_t n, int64_t v)
{
    if (v == TRACE_NONE)
        buf[0] = '\0';
    else
        snprintf(buf, n, "%lld", (long long)v);
}

static void fmt_real(char *buf, size_t n, double v)
{
    if (isnan(v)) /* TRACE_UNSET: not computed yet, blank like TRACE_NONE */
        buf[0] = '\0';
    else if (isinf(v))
        snprintf(buf, n, v > 0 ? "inf" : "-inf");
    else
        snprintf(buf, n, "%.4g", v);
}

/* Draws text right-aligned in a cell of width cw at (y, x), inside the role's brackets
 * (or spaces) and in its style. */
static void cell(ctx *c, int y, int x, int cw, int role, const char *text)
{
    char buf[64];
    int len = (int)strlen(text);
    int pad = cw - 2 - len; /* cw leaves a column so neighbouring brackets never touch */
    if (pad < 0)
        pad = 0;
    snprintf(buf, sizeof buf, "%*s%s%s%s", pad, "", role >= 0 ? role_open[role] : " ", text,
             role >= 0 ? role_close[role] : " ");
    (void)c;
    tty_put(y, x, cw, role >= 0 ? TTY_ROLE + role : TTY_NORMAL, buf);
}

/* The first index of a window of `fit` out of n that shows `focus`, centred when possible. */
static size_t window_first(size_t n, size_t fit, long focus)
{
    if (n <= fit || focus < 0)
        return 0;
    size_t f = (size_t)focus;
    if (f >= n)
        f = n - 1;
    size_t first = f > fit / 2 ? f - fit / 2 : 0;
    if (first + fit > n)
        first = n - fit;
    return first;
}

static int digits(int64_t v)
{
    char buf[32];
    fmt_int(buf, sizeof buf, v);
    return (int)strlen(buf);
}

/* ---------------------------------------------------------------------------------------
 * Generic views. Each draws at row y and returns the rows it used. */

static int label(ctx *c, int y, const char *name, const char *fmt_extra)
{
    int used = tty_put(y, c->x, c->w, TTY_HEADING, name);
    if (fmt_extra && *fmt_extra)
        tty_put(y, c->x + used + 1, c->w - used - 1, TTY_DIM, fmt_extra);
    return 1;
}

static int view_scalars(ctx *c, int y)
{
    int col = 0, rows = 0;
    for (size_t k = 0; k < c->ix->n; k++) {
        const views_series *s = &c->ix->v[k];
        if (s->kind != TRACE_SCALAR && s->kind != TRACE_REAL)
            continue;
        const trace_snap *sp = series_at(s, c->step);
        if (!sp)
            continue;
        char val[48], item[128];
        if (sp->kind == TRACE_SCALAR)
            sp->ints[0] == TRACE_NONE ? snprintf(val, sizeof val, "none")
                                      : snprintf(val, sizeof val, "%lld", (long long)sp->ints[0]);
        else
            fmt_real(val, sizeof val, sp->reals[0]);
        snprintf(item, sizeof item, "%s = %s", sp->name, val);
        int iw = tty_width(item);
        if (rows == 0)
            rows = 1;
        if (col > 0 && col + 3 + iw > c->w) {
            rows++;
            col = 0;
        }
        if (col > 0)
            col += 3;
        int role = role_at(c, sp->name, 0, -1);
        tty_put(y + rows - 1, c->x + col, c->w - col, role >= 0 ? TTY_ROLE + role : TTY_NORMAL,
                item);
        col += iw;
    }
    return rows;
}

/* The style for a cell whose token has modality m (a model topic's "modality" snapshot:
 * text, image, markers...): one style per value, bold, underlined or reversed without
 * colour, so a stream of tokens reads as its modalities at a glance. */
static int modality_style(int64_t m)
{
    static const int styles[] = {TTY_NORMAL, TTY_KEY, TTY_PATH, TTY_HEADING, TTY_OK};
    return m >= 0 && m < (int64_t)(sizeof styles / sizeof styles[0]) ? styles[m] : TTY_DIM;
}

static int view_ints(ctx *c, int y, const trace_snap *sp, int avail)
{
    size_t n = sp->cols;
    /* An array as long as the step's "modality" array (a token stream, the modalities
     * themselves) is coloured by it, cell by cell. */
    const trace_snap *mod = views_index_get(c->ix, "modality", c->step);
    if (mod && (mod->kind != TRACE_INTS || mod->cols != n))
        mod = NULL;
    int cw = 1;
    for (size_t k = 0; k < n; k++) {
        int d = digits(sp->ints[k]);
        if (d > cw)
            cw = d;
    }
    int di = digits((int64_t)(n ? n - 1 : 0));
    if (di > cw)
        cw = di;
    cw += 3;
    size_t fit = (size_t)((c->w - 1) / cw);
    if (fit == 0)
        fit = 1;
    long fr = 0, fc = -1;
    long focus = first_mark(c, sp->name, &fr, &fc) >= 0 ? fr : -1;
    size_t first = window_first(n, fit, focus);
    size_t last = first + fit < n ? first + fit : n;
    char extra[96] = "";
    if (n == 0)
        snprintf(extra, sizeof extra, "(empty)");
    else if (first > 0 || last < n)
        snprintf(extra, sizeof extra, "[%zu..%zu] of %zu", first, last - 1, n);
    else
        snprintf(extra, sizeof extra, "(%zu)", n);
    /* The name sits left of the values when both fit on the row, else above them. */
    int lx = 0, rows;
    int nw = tty_width(sp->name) + 1;
    if (n > 0 && nw <= 14 && nw + (int)(last - first) * cw <= c->w && (first == 0 && last == n)) {
        tty_put(y, c->x, nw, TTY_HEADING, sp->name);
        lx = nw;
        rows = 0;
        c->x += lx;
    } else {
        rows = label(c, y, sp->name, extra);
    }
    if (n == 0)
        return rows;
    int bars = c->o->alt ? avail - 3 : 0;
    if (bars > 6)
        bars = 6;
    if (bars >= 2) {
        int64_t lo = 0, hi = 0;
        for (size_t k = first; k < last; k++) {
            int64_t v = sp->ints[k];
            if (v == TRACE_NONE)
                continue;
            if (v < lo)
                lo = v;
            if (v > hi)
                hi = v;
        }
        double range = hi > lo ? (double)hi - (double)lo : 1;
        for (size_t k = first; k < last; k++) {
            int64_t v = sp->ints[k];
            int role = role_at(c, sp->name, (long)k, -1);
            int st = role >= 0 ? TTY_ROLE + role : TTY_NORMAL;
            long eighths =
                v == TRACE_NONE ? 0 : lround(((double)v - (double)lo) / range * bars * 8);
            for (int b = 0; b < bars; b++) {
                long fill = eighths - (long)(bars - 1 - b) * 8;
                fill = fill < 0 ? 0 : fill > 8 ? 8 : fill;
                for (int q = 1; q < cw - 1; q++)
                    tty_put(y + rows + b, c->x + (int)(k - first) * cw + q, 1, st,
                            tty_g->bar[fill]);
            }
        }
        rows += bars;
    }
    for (size_t k = first; k < last; k++) {
        char buf[32];
        fmt_int(buf, sizeof buf, sp->ints[k]);
        int role = role_at(c, sp->name, (long)k, -1);
        cell(c, y + rows, c->x + (int)(k - first) * cw, cw, role, buf);
        if (mod && role < 0) /* the value again, in its modality's style */
            tty_putf(y + rows, c->x + (int)(k - first) * cw + cw - 1 - (int)strlen(buf),
                     (int)strlen(buf), modality_style(mod->ints[k]), "%s", buf);
        tty_putf(y + rows + 1, c->x + (int)(k - first) * cw, cw, TTY_DIM, "%*zu ", cw - 1, k);
    }
    c->x -= lx;
    return rows + 2;
}

/* Shared by tables and numeric matrices: a grid of cells with row and column indices,
 * windowed around the step's current mark (or the cursor). */
typedef void (*cell_text_fn)(const trace_snap *sp, size_t i, size_t j, char *buf, size_t n);

static void table_text(const trace_snap *sp, size_t i, size_t j, char *buf, size_t n)
{
    fmt_int(buf, n, sp->ints[i * sp->cols + j]);
}

/* Matrix cells are short (two decimals) so a few columns fit beside the listing; the
 * cursor (c) shows any cell's full value. */
static void matrix_text(const trace_snap *sp, size_t i, size_t j, char *buf, size_t n)
{
    double v = sp->reals[i * sp->cols + j];
    if (isfinite(v) && fabs(v) < 1000)
        snprintf(buf, n, "%.2f", v);
    else
        fmt_real(buf, n, v);
}

static int use_cursor(ctx *c, const trace_snap *sp)
{
    if (!c->o->cursor || c->cursor_used)
        return 0;
    c->cursor_used = 1;
    if (c->o->cur_row >= (long)sp->rows)
        c->o->cur_row = (long)sp->rows - 1;
    if (c->o->cur_col >= (long)sp->cols)
        c->o->cur_col = (long)sp->cols - 1;
    if (c->o->cur_row < 0)
        c->o->cur_row = 0;
    if (c->o->cur_col < 0)
        c->o->cur_col = 0;
    return 1;
}

/* The cell a 2-D view keeps in its window: the cursor's when this view has it (returns 1),
 * else the step's current mark, else none (-1, -1). */
static int grid_focus(ctx *c, const trace_snap *sp, long *row, long *col)
{
    if (use_cursor(c, sp)) {
        *row = c->o->cur_row;
        *col = c->o->cur_col;
        return 1;
    }
    if (first_mark(c, sp->name, row, col) < 0)
        *row = *col = -1;
    return 0;
}

static int view_grid(ctx *c, int y, const trace_snap *sp, int avail, cell_text_fn text,
                     const char *extra)
{
    char buf[64];
    int cw = 1;
    for (size_t i = 0; i < sp->rows; i++)
        for (size_t j = 0; j < sp->cols; j++) {
            text(sp, i, j, buf, sizeof buf);
            int len = (int)strlen(buf);
            if (len > cw)
                cw = len;
        }
    int dc = digits((int64_t)(sp->cols ? sp->cols - 1 : 0));
    if (dc > cw)
        cw = dc;
    cw += 3;
    int rl = digits((int64_t)(sp->rows ? sp->rows - 1 : 0)) + 1;
    long fr, fc;
    int cursor = grid_focus(c, sp, &fr, &fc);
    size_t fitc = (size_t)((c->w - rl - 1) / cw);
    size_t fitr = (size_t)(avail > 4 ? avail - 3 : 1);
    if (fitc == 0)
        fitc = 1;
    size_t r0 = window_first(sp->rows, fitr, fr), c0 = window_first(sp->cols, fitc, fc);
    size_t r1 = r0 + fitr < sp->rows ? r0 + fitr : sp->rows;
    size_t c1 = c0 + fitc < sp->cols ? c0 + fitc : sp->cols;
    char info[128];
    snprintf(info, sizeof info, "(%zu x %zu)%s%s", sp->rows, sp->cols, extra ? " " : "",
             extra ? extra : "");
    if (r0 > 0 || c0 > 0 || r1 < sp->rows || c1 < sp->cols) {
        size_t len = strlen(info);
        snprintf(info + len, sizeof info - len, " rows %zu..%zu cols %zu..%zu", r0, r1 ? r1 - 1 : 0,
                 c0, c1 ? c1 - 1 : 0);
    }
    int rows = label(c, y, sp->name, info);
    for (size_t j = c0; j < c1; j++)
        tty_putf(y + rows, c->x + rl + (int)(j - c0) * cw, cw, TTY_DIM, "%*zu ", cw - 1, j);
    rows++;
    for (size_t i = r0; i < r1; i++) {
        tty_putf(y + rows, c->x, rl, TTY_DIM, "%*zu", rl - 1, i);
        for (size_t j = c0; j < c1; j++) {
            text(sp, i, j, buf, sizeof buf);
            int role = role_at(c, sp->name, (long)i, (long)j);
            int x = c->x + rl + (int)(j - c0) * cw;
            if (role < 0 && cursor && (long)i == c->o->cur_row && (long)j == c->o->cur_col) {
                char b2[80];
                snprintf(b2, sizeof b2, "%*s", cw, buf);
                tty_put(y + rows, x, cw, TTY_SELECT, b2);
            } else {
                cell(c, y + rows, x, cw, role, buf);
            }
        }
        rows++;
    }
    return rows;
}

static int view_heat(ctx *c, int y, const trace_snap *sp, int avail)
{
    double lo = INFINITY, hi = -INFINITY;
    size_t total = sp->rows * sp->cols;
    for (size_t k = 0; k < total; k++) {
        double v = sp->reals[k];
        if (isfinite(v)) {
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    }
    char info[160];
    char slo[32], shi[32];
    fmt_real(slo, sizeof slo, lo);
    fmt_real(shi, sizeof shi, hi);
    /* Small matrices read best as numbers; `v` flips between the two modes. */
    int numbers = sp->cols <= 8 && (int)sp->cols * 8 + 3 <= c->w;
    if (c->o->alt)
        numbers = !numbers;
    if (numbers) {
        snprintf(info, sizeof info, "range %s .. %s", slo, shi);
        return view_grid(c, y, sp, avail, matrix_text, info);
    }
    int rl = digits((int64_t)(sp->rows ? sp->rows - 1 : 0)) + 1;
    /* Cells as wide as the pane allows, up to 4 columns: bigger patches read better. */
    int cw = sp->cols ? (c->w - rl) / (int)sp->cols : 1;
    cw = cw > 4 ? 4 : cw < 1 ? 1 : cw;
    long fr, fc;
    int cursor = grid_focus(c, sp, &fr, &fc);
    size_t fitc = (size_t)((c->w - rl) / cw);
    size_t fitr = (size_t)(avail > 5 ? avail - 3 : 2);
    size_t r0 = window_first(sp->rows, fitr, fr), c0 = window_first(sp->cols, fitc, fc);
    size_t r1 = r0 + fitr < sp->rows ? r0 + fitr : sp->rows;
    size_t c1 = c0 + fitc < sp->cols ? c0 + fitc : sp->cols;
    snprintf(info, sizeof info, "(%zu x %zu) heatmap %s .. %s", sp->rows, sp->cols, slo, shi);
    int rows = label(c, y, sp->name, info);
    double range = hi > lo ? hi - lo : 1;
    for (size_t i = r0; i < r1; i++) {
        tty_putf(y + rows, c->x, rl, TTY_DIM, "%*zu", rl - 1, i);
        for (size_t j = c0; j < c1; j++) {
            int x = c->x + rl + (int)(j - c0) * cw;
            int role = role_at(c, sp->name, (long)i, (long)j);
            if (role >= 0) {
                tty_put(y + rows, x, cw, TTY_ROLE + role, cw >= 4 ? "[  ]" : cw >= 2 ? "[]" : "#");
            } else if (cursor && (long)i == c->o->cur_row && (long)j == c->o->cur_col) {
                tty_put(y + rows, x, cw, TTY_SELECT, cw >= 4 ? "<  >" : cw >= 2 ? "<>" : "@");
            } else {
                double v = sp->reals[i * sp->cols + j];
                tty_put_ramp(y + rows, x, cw, isfinite(v) ? (v - lo) / range : -1);
            }
        }
        rows++;
    }
    if (cursor) {
        char v[32];
        fmt_real(v, sizeof v, sp->reals[(size_t)c->o->cur_row * sp->cols + (size_t)c->o->cur_col]);
        tty_putf(y + rows, c->x, c->w, TTY_NORMAL, "%s[%ld, %ld] = %s", sp->name, c->o->cur_row,
                 c->o->cur_col, v);
    } else {
        tty_put(y + rows, c->x, c->w, TTY_DIM, "c: a cursor with the value under it");
    }
    return rows + 1;
}

/* gnuplot's dumb plots of recent series, so stepping back and forth does not rerun it. */
#define PLOT_CACHE 8
static struct plot_cache {
    uint64_t hash;
    size_t n;
    int w, h, rc;
    strbuf text;
} plot_cache[PLOT_CACHE];
static int plot_next, gnuplot_missing;

static uint64_t hash_reals(const double *v, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    const unsigned char *p = (const unsigned char *)v;
    for (size_t k = 0; k < n * sizeof *v; k++)
        h = (h ^ p[k]) * 1099511628211ull;
    return h;
}

/* The dumb plot of sp at w x h, from the cache or gnuplot; NULL when it cannot be had. */
static const char *plot_text(const trace_snap *sp, int w, int h)
{
    if (gnuplot_missing)
        return NULL;
    uint64_t hash = hash_reals(sp->reals, sp->cols);
    for (int k = 0; k < PLOT_CACHE; k++) {
        struct plot_cache *e = &plot_cache[k];
        if (e->text.s && e->hash == hash && e->n == sp->cols && e->w == w && e->h == h)
            return e->rc ? NULL : strbuf_str(&e->text);
    }
    struct plot_cache *e = &plot_cache[plot_next];
    plot_next = (plot_next + 1) % PLOT_CACHE;
    strbuf_clear(&e->text);
    e->rc = textplot_render(sp->reals, sp->cols, w, h, &e->text);
    if (e->rc == TUTOR_ENOTFOUND)
        gnuplot_missing = 1;
    strbuf_putc(&e->text, ' '); /* so an entry always owns memory and is found again */
    e->hash = hash;
    e->n = sp->cols;
    e->w = w;
    e->h = h;
    return e->rc ? NULL : strbuf_str(&e->text);
}

/* Draws the dumb plot's lines (leading blank lines dropped); returns rows used. */
static int draw_plot(ctx *c, int y, const char *text, int h)
{
    int rows = 0, used = 0;
    while (*text && rows < h) {
        size_t len = strcspn(text, "\n");
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), text);
        int blank = strspn(line, " ") == strlen(line);
        if (rows > 0 || !blank) {
            tty_put(y + rows, c->x, c->w, TTY_NORMAL, line);
            rows++;
            if (!blank)
                used = rows;
        }
        text += len;
        if (*text == '\n')
            text++;
    }
    return used;
}

static int view_reals(ctx *c, int y, const trace_snap *sp, int avail)
{
    size_t n = sp->cols;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t k = 0; k < n; k++)
        if (isfinite(sp->reals[k])) {
            lo = sp->reals[k] < lo ? sp->reals[k] : lo;
            hi = sp->reals[k] > hi ? sp->reals[k] : hi;
        }
    char info[128], slo[32], shi[32];
    fmt_real(slo, sizeof slo, lo);
    fmt_real(shi, sizeof shi, hi);
    snprintf(info, sizeof info, "(%zu) %s .. %s", n, n ? slo : "", n ? shi : "");
    int rows = label(c, y, sp->name, info);
    if (n == 0)
        return rows;
    /* The series this step recorded gets a real plot when gnuplot is there and the pane
     * has room; the others, and every series after `v`, a sparkline. */
    int recorded = c->frame && trace_find(c->frame, sp->name) == sp;
    int ph = avail - 2 < 12 ? avail - 2 : 12;
    if (recorded && !c->o->alt && n >= 8 && ph >= 8 && c->w >= 30) {
        const char *text = plot_text(sp, c->w, ph);
        if (text)
            return rows + draw_plot(c, y + rows, text, ph);
    }
    /* A sparkline, one column per value or per run of values when they do not fit. */
    size_t cols = n < (size_t)c->w ? n : (size_t)c->w;
    double range = hi > lo ? hi - lo : 1;
    for (size_t k = 0; k < cols; k++) {
        size_t a = k * n / cols, b = (k + 1) * n / cols;
        double sum = 0;
        size_t cnt = 0;
        int role = -1;
        for (size_t q = a; q < b; q++) {
            if (isfinite(sp->reals[q])) {
                sum += sp->reals[q];
                cnt++;
            }
            int r = role_at(c, sp->name, (long)q, -1);
            if (r >= 0)
                role = r;
        }
        int level = cnt ? 1 + (int)lround((sum / (double)cnt - lo) / range * 7) : 0;
        tty_put(y + rows, c->x + (int)k, 1, role >= 0 ? TTY_ROLE + role : TTY_NORMAL,
                tty_g->bar[level]);
    }
    rows++;
    /* And the numbers themselves when few enough fit on a line. */
    int cw = 1;
    for (size_t k = 0; k < n; k++) {
        char buf[32];
        fmt_real(buf, sizeof buf, sp->reals[k]);
        cw = (int)strlen(buf) > cw ? (int)strlen(buf) : cw;
    }
    cw += 3;
    if (n * (size_t)cw <= (size_t)c->w) {
        for (size_t k = 0; k < n; k++) {
            char buf[32];
            fmt_real(buf, sizeof buf, sp->reals[k]);
            cell(c, y + rows, c->x + (int)k * cw, cw, role_at(c, sp->name, (long)k, -1), buf);
        }
        rows++;
    }
    return rows;
}

/* A vector recorded at many steps (HiPPO's coefficients, an SSM's state) over time: one
 * heatmap row per component, one column per recording up to this step, the newest on the
 * right. Only when every recording shown has the current length; returns 0 rows when there
 * is no history to show (fewer than three recordings). */
static int view_history(ctx *c, int y, const views_series *s, int avail)
{
    size_t m = 0; /* recordings at or before this step */
    while (m < s->n && s->at[m] <= c->step)
        m++;
    if (m < 3 || avail < 4)
        return 0;
    const trace_snap *now = s->snap[m - 1];
    size_t n = now->cols;
    int rl = digits((int64_t)(n ? n - 1 : 0)) + 1;
    size_t cols = (size_t)(c->w - rl) < m ? (size_t)(c->w - rl) : m;
    size_t first = m - cols;
    for (size_t k = first; k < m; k++)
        if (s->snap[k]->kind != TRACE_REALS || s->snap[k]->cols != n)
            return 0;
    size_t rows = n < (size_t)(avail - 2) ? n : (size_t)(avail - 2);
    if (rows > 16)
        rows = 16;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t k = first; k < m; k++)
        for (size_t i = 0; i < rows; i++) {
            double v = s->snap[k]->reals[i];
            if (isfinite(v)) {
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
        }
    char info[128], slo[32], shi[32];
    fmt_real(slo, sizeof slo, lo);
    fmt_real(shi, sizeof shi, hi);
    snprintf(info, sizeof info, "over %zu steps%s, %s .. %s", m, cols < m ? " (latest)" : "", slo,
             shi);
    char name[96];
    snprintf(name, sizeof name, "%s", s->name);
    int used = label(c, y, name, info);
    double range = hi > lo ? hi - lo : 1;
    for (size_t i = 0; i < rows; i++) {
        tty_putf(y + used, c->x, rl, TTY_DIM, "%*zu", rl - 1, i);
        for (size_t k = first; k < m; k++) {
            double v = s->snap[k]->reals[i];
            tty_put_ramp(y + used, c->x + rl + (int)(k - first), 1,
                         isfinite(v) ? (v - lo) / range : -1);
        }
        used++;
    }
    if (rows < n)
        tty_putf(y + used++, c->x, c->w, TTY_DIM, "(components 0..%zu of %zu)", rows - 1, n);
    return used;
}

/* ---------------------------------------------------------------------------------------
 * Views recognised by names. */

static int64_t latest_scalar(const views_index *ix, const char *name, size_t step, int64_t dflt)
{
    const trace_snap *sp = views_index_get(ix, name, step);
    return sp && sp->kind == TRACE_SCALAR ? sp->ints[0] : dflt;
}

static int64_t scalar_or(ctx *c, const char *name, int64_t dflt)
{
    return latest_scalar(c->ix, name, c->step, dflt);
}

/* Max-gap buckets: one row per bucket with its range, min and max; empty buckets shown as
 * such; the best gap so far underneath. */
static int view_buckets(ctx *c, int y, const trace_snap *mn, const trace_snap *mx, int avail)
{
    size_t n = mn->cols < mx->cols ? mn->cols : mx->cols;
    int64_t lo = scalar_or(c, "lo", TRACE_NONE), size = scalar_or(c, "size", TRACE_NONE);
    int64_t best = scalar_or(c, "best", TRACE_NONE);
    char info[96];
    snprintf(info, sizeof info, "(%zu)", n);
    int rows = label(c, y, "buckets", info);
    int vw = 1;
    for (size_t b = 0; b < n; b++) {
        int d1 = digits(mn->ints[b]), d2 = digits(mx->ints[b]);
        vw = d1 > vw ? d1 : vw;
        vw = d2 > vw ? d2 : vw;
    }
    vw = (vw < 3 ? 3 : vw) + 3;
    int bw = digits((int64_t)(n ? n - 1 : 0));
    int have_range = lo != TRACE_NONE && size != TRACE_NONE && size > 0;
    tty_putf(y + rows, c->x, c->w, TTY_DIM, "%*s  %*s%*s  %s", bw, "b", vw, "min", vw, "max",
             have_range ? "holds" : "");
    rows++;
    long fr = -1, fc = -1;
    if (first_mark(c, mn->name, &fr, &fc) < 0 && first_mark(c, mx->name, &fr, &fc) < 0)
        fr = -1;
    size_t fit = (size_t)(avail > 4 ? avail - 3 : 1);
    size_t first = window_first(n, fit, fr);
    size_t last = first + fit < n ? first + fit : n;
    for (size_t b = first; b < last; b++) {
        char v1[32], v2[32];
        fmt_int(v1, sizeof v1, mn->ints[b]);
        fmt_int(v2, sizeof v2, mx->ints[b]);
        int x = c->x;
        x += tty_putf(y + rows, x, c->w, TTY_DIM, "%*zu  ", bw, b);
        cell(c, y + rows, x, vw, role_at(c, mn->name, (long)b, -1), v1);
        cell(c, y + rows, x + vw, vw, role_at(c, mx->name, (long)b, -1), v2);
        x += 2 * vw + 2;
        int empty = mn->ints[b] == TRACE_NONE && mx->ints[b] == TRACE_NONE;
        if (have_range) {
            long long a = (long long)lo + (long long)b * (long long)size;
            x += tty_putf(y + rows, x, c->x + c->w - x, TTY_DIM, "[%lld, %lld] ", a,
                          a + (long long)size - 1);
        }
        if (empty)
            tty_put(y + rows, x, c->x + c->w - x, TTY_DIM, "empty");
        rows++;
    }
    if (first > 0 || last < n)
        tty_putf(y + rows++, c->x, c->w, TTY_DIM, "(buckets %zu..%zu of %zu)", first, last - 1, n);
    if (best != TRACE_NONE)
        tty_putf(y + rows++, c->x, c->w, TTY_OK, "best gap so far: %lld", (long long)best);
    return rows;
}

/* A binary heap as a tree: level d holds indices 2^d - 1 .. 2^(d+1) - 2, each node centred
 * in its share of the width, as deep as the width allows. */
/* 1 when heap index a is b or one of b's ancestors. */
static int heap_ancestor(size_t a, size_t b)
{
    while (b > a)
        b = (b - 1) / 2;
    return a == b;
}

/* The sifting path up to this step: the indices (below 64, the ones a tree can show) that
 * this step and the steps just before it moved or worked on, for as long as they all lie on
 * one root-to-leaf chain and the heap keeps its length. Steps that only compare (two
 * siblings) neither add nor stop. A bit per index. */
static uint64_t sift_path(const ctx *c, const trace *tr, const trace_snap *sp)
{
    uint64_t path = 0;
    size_t lo = c->step > 64 ? c->step - 64 : 0;
    for (size_t s = c->step + 1; s-- > lo;) {
        const trace_snap *h = views_index_get(c->ix, sp->name, s);
        if (!h || h->cols != sp->cols)
            break;
        const trace_frame *f = trace_at(tr, s);
        uint64_t add = 0;
        for (size_t k = 0; k < f->nmarks; k++) {
            const trace_marker *m = &f->marks[k];
            if ((m->role == TRACE_MOVE || m->role == TRACE_CURRENT) && m->row >= 0 && m->row < 64 &&
                strcmp(m->target, sp->name) == 0)
                add |= (uint64_t)1 << m->row;
        }
        uint64_t all = path | add;
        for (size_t a = 0; a < 64; a++)
            for (size_t b = a + 1; b < 64; b++)
                if ((all >> a & 1) && (all >> b & 1) && !heap_ancestor(a, b))
                    return path;
        path = all;
    }
    return path;
}

static int view_heap_tree(ctx *c, int y, const trace *tr, const trace_snap *sp, int avail)
{
    size_t n = sp->cols;
    uint64_t path = c->marks ? sift_path(c, tr, sp) : 0;
    int cw = 4;
    for (size_t k = 0; k < n; k++) {
        int d = digits(sp->ints[k]) + 3;
        cw = d > cw ? d : cw;
    }
    int rows = label(c, y, "tree", n ? "" : "(empty)");
    size_t level_start = 0;
    int depth = 0;
    while (level_start < n && rows + 2 <= avail) {
        size_t width = (size_t)1 << depth;
        int slot = c->w / (int)width;
        if (slot < cw)
            break;
        for (size_t k = 0; k < width && level_start + k < n; k++) {
            size_t i = level_start + k;
            int x = c->x + (int)k * slot + (slot - cw) / 2;
            char buf[32];
            fmt_int(buf, sizeof buf, sp->ints[i]);
            int role = role_at(c, sp->name, (long)i, -1);
            int on_path = i < 64 && (path >> i & 1);
            if (role < 0 && on_path) {
                char b2[48];
                snprintf(b2, sizeof b2, "%*s", cw - 1, buf);
                tty_put(y + rows, x, cw - 1, TTY_PATH, b2);
            } else {
                cell(c, y + rows, x, cw, role, buf);
            }
            if (depth > 0) {
                /* A slash towards the parent, on the row above, between the two; bold
                 * where the sifting path runs. */
                int px = c->x + (int)(k / 2) * (slot * 2) + slot;
                int mid = (x + cw / 2 + px) / 2;
                int edge = on_path && (path >> ((i - 1) / 2) & 1);
                tty_put(y + rows - 1, mid, 1, edge ? TTY_PATH : TTY_DIM, k % 2 ? "\\" : "/");
            }
        }
        level_start += width;
        depth++;
        rows += 2;
    }
    if (level_start < n)
        tty_putf(y + rows - 1, c->x, c->w, TTY_DIM, "(%zu deeper nodes: see the array)",
                 n - level_start);
    return rows - 1;
}

/* A recursion tree, from a trace that records scalars "call" (a new id at each call),
 * "parent", "remaining", the array "path", and marks PRUNED or SKIPPED on "candidates" when
 * a branch is cut, FOUND on "path" for an answer. The whole tree is built once per trace,
 * each node stamped with the step that created it (and found it), so drawing step s only
 * walks the nodes created by then: stepping through a long search stays instant. */
typedef struct node {
    long id, parent_id;
    size_t parent; /* index + 1 of the parent node; 0 for the root and orphans */
    int64_t value, remaining;
    int kind;            /* 0 call, 2 pruned, 3 skipped */
    size_t created;      /* the step that made it */
    size_t found;        /* the step that found it an answer, or SIZE_MAX */
    size_t first_child;  /* index + 1; children in creation order */
    size_t next_sibling; /* index + 1 */
    size_t last_child;
} node;

static struct tree_cache {
    const trace *tr;
    size_t steps;
    node *v;
    size_t n, cap;
    size_t *by_id; /* call id -> node index + 1 */
    size_t nid, idcap;
    int failed;
} tree;

static void tree_reset(void)
{
    mem_free(tree.v);
    mem_free(tree.by_id);
    memset(&tree, 0, sizeof tree);
}

static size_t tree_call(long id)
{
    return id >= 0 && (size_t)id < tree.nid ? tree.by_id[id] : 0;
}

static int tree_add(node nd)
{
    if (tree.n == tree.cap) {
        size_t nc = tree.cap ? 2 * tree.cap : 256;
        node *nv = mem_realloc_array(tree.v, nc, sizeof *nv);
        if (!nv)
            return TUTOR_ENOMEM;
        tree.v = nv;
        tree.cap = nc;
    }
    nd.parent = tree_call(nd.parent_id);
    tree.v[tree.n++] = nd;
    if (nd.parent) {
        node *pn = &tree.v[nd.parent - 1];
        if (pn->last_child)
            tree.v[pn->last_child - 1].next_sibling = tree.n;
        else
            pn->first_child = tree.n;
        pn->last_child = tree.n;
    }
    if (nd.kind == 0 && nd.id >= 0) {
        size_t id = (size_t)nd.id;
        if (id >= tree.idcap) {
            size_t nc = tree.idcap ? 2 * tree.idcap : 256;
            while (nc <= id)
                nc *= 2;
            size_t *nb = mem_realloc_array(tree.by_id, nc, sizeof *nb);
            if (!nb)
                return TUTOR_ENOMEM;
            tree.by_id = nb;
            tree.idcap = nc;
        }
        while (tree.nid <= id)
            tree.by_id[tree.nid++] = 0;
        tree.by_id[id] = tree.n;
    }
    return 0;
}

static int tree_build(const trace *tr, const views_index *ix)
{
    if (tree.tr == tr && tree.steps == trace_len(tr))
        return tree.failed;
    tree_reset();
    tree.tr = tr;
    tree.steps = trace_len(tr);
    long last_call = -1;
    for (size_t i = 0; i < tree.steps; i++) {
        const trace_frame *f = trace_at(tr, i);
        const trace_snap *call = trace_find(f, "call");
        if (call && call->kind == TRACE_SCALAR && call->ints[0] > last_call) {
            last_call = (long)call->ints[0];
            const trace_snap *path = views_index_get(ix, "path", i);
            node nd = {.id = last_call,
                       .parent_id = (long)latest_scalar(ix, "parent", i, -1),
                       .value = path && path->cols ? path->ints[path->cols - 1] : TRACE_NONE,
                       .remaining = latest_scalar(ix, "remaining", i, TRACE_NONE),
                       .created = i,
                       .found = SIZE_MAX};
            if (tree_add(nd))
                goto nomem;
        }
        long cur = (long)latest_scalar(ix, "call", i, -1);
        for (size_t k = 0; k < f->nmarks; k++) {
            const trace_marker *m = &f->marks[k];
            if (m->role == TRACE_FOUND && strcmp(m->target, "path") == 0) {
                size_t at = tree_call(cur);
                if (at && tree.v[at - 1].found == SIZE_MAX)
                    tree.v[at - 1].found = i;
            } else if ((m->role == TRACE_PRUNED || m->role == TRACE_SKIPPED) &&
                       strcmp(m->target, "candidates") == 0) {
                const trace_snap *cand = views_index_get(ix, "candidates", i);
                node nd = {.id = -1,
                           .parent_id = cur,
                           .value = cand && m->row >= 0 && (size_t)m->row < cand->cols
                                        ? cand->ints[m->row]
                                        : TRACE_NONE,
                           .remaining = TRACE_NONE,
                           .kind = m->role == TRACE_PRUNED ? 2 : 3,
                           .created = i,
                           .found = SIZE_MAX};
                if (tree_add(nd))
                    goto nomem;
            }
        }
    }
    return 0;
nomem:
    tree_reset();
    tree.tr = tr;
    tree.steps = trace_len(tr);
    tree.failed = TUTOR_ENOMEM;
    return TUTOR_ENOMEM;
}

/* The next sibling of node k (index + 1) that exists at step s, or 0. Children are in
 * creation order, so the first one created after s ends the list. */
static size_t sibling_at(size_t k, size_t s)
{
    size_t nx = tree.v[k - 1].next_sibling;
    return nx && tree.v[nx - 1].created <= s ? nx : 0;
}

static size_t child_at(size_t k, size_t s)
{
    size_t ch = tree.v[k - 1].first_child;
    return ch && tree.v[ch - 1].created <= s ? ch : 0;
}

/* The node after k in depth-first order at step s (0 at the end); *depth follows. */
static size_t dfs_next(size_t k, size_t s, int *depth)
{
    size_t ch = child_at(k, s);
    if (ch) {
        ++*depth;
        return ch;
    }
    for (; k; k = tree.v[k - 1].parent, --*depth) {
        size_t nx = sibling_at(k, s);
        if (nx)
            return nx;
    }
    return 0;
}

static int view_rectree(ctx *c, int y, const trace *tr, int avail)
{
    int rows = label(c, y, "recursion tree", "");
    if (tree_build(tr, c->ix)) {
        tty_put(y + rows, c->x, c->w, TTY_ERROR, "out of memory building the tree");
        return rows + 1;
    }
    if (tree.n == 0 || tree.v[0].created > c->step)
        return rows;
    size_t s = c->step;
    size_t current = tree_call((long)latest_scalar(c->ix, "call", s, -1));
    /* First pass: the line of the current call and the number of lines. */
    size_t cnt = 0, cur_line = 0;
    int d = 0;
    for (size_t k = 1; k; k = dfs_next(k, s, &d)) {
        if (k == current)
            cur_line = cnt;
        cnt++;
    }
    size_t fit = (size_t)(avail > 2 ? avail - 1 : 1);
    size_t first = window_first(cnt, fit, (long)cur_line);
    size_t last = first + fit < cnt ? first + fit : cnt;
    /* Deep searches: indent from the shallowest line shown, and by one column per level
     * when two would push the deepest line out of the pane. */
    int dmin = INT32_MAX, dmax = 0;
    size_t line = 0;
    d = 0;
    for (size_t k = 1; k && line < last; k = dfs_next(k, s, &d), line++)
        if (line >= first) {
            dmin = d < dmin ? d : dmin;
            dmax = d > dmax ? d : dmax;
        }
    int step_w = 2 * (dmax - dmin) + 20 <= c->w ? 2 : 1;
    line = 0;
    d = 0;
    for (size_t k = 1; k && line < last; k = dfs_next(k, s, &d), line++) {
        if (line < first)
            continue;
        const node *nd = &tree.v[k - 1];
        int x = c->x + step_w * (d - dmin);
        int on_path = 0;
        for (size_t a = current; a; a = tree.v[a - 1].parent)
            if (a == k) {
                on_path = 1;
                break;
            }
        int found = nd->found <= s;
        char buf[96];
        if (!nd->parent)
            snprintf(buf, sizeof buf, "root rem %lld", (long long)nd->remaining);
        else if (nd->kind == 2)
            snprintf(buf, sizeof buf, "%lld %s pruned", (long long)nd->value, tty_g->cross);
        else if (nd->kind == 3)
            snprintf(buf, sizeof buf, "%lld ~ skipped (duplicate)", (long long)nd->value);
        else
            snprintf(buf, sizeof buf, "+%lld rem %lld%s%s", (long long)nd->value,
                     (long long)nd->remaining, found ? " " : "", found ? tty_g->check : "");
        if (d > dmin && step_w == 2)
            tty_put(y + rows, x - 2, 2, TTY_DIM, sibling_at(k, s) ? tty_g->tee : tty_g->corner);
        /* A rule down each ancestor's column while that ancestor has siblings below. */
        size_t a = nd->parent;
        for (int ad = d - 1; a && ad > dmin && step_w == 2; ad--, a = tree.v[a - 1].parent)
            if (sibling_at(a, s))
                tty_put(y + rows, c->x + 2 * (ad - dmin) - 2, 1, TTY_DIM, tty_g->vline);
        int st = k == current    ? TTY_ROLE + TRACE_CURRENT
                 : found         ? TTY_ROLE + TRACE_FOUND
                 : nd->kind == 2 ? TTY_ROLE + TRACE_PRUNED
                 : nd->kind == 3 ? TTY_ROLE + TRACE_SKIPPED
                 : on_path       ? TTY_ROLE + TRACE_CHOSEN
                                 : TTY_NORMAL;
        if (k == current)
            c->roles_seen |= 1u << TRACE_CURRENT;
        tty_put(y + rows, x, c->x + c->w - x, st, buf);
        rows++;
    }
    if (first > 0 || last < cnt)
        tty_putf(y + rows++, c->x, c->w, TTY_DIM, "(lines %zu..%zu of %zu)", first + 1, last, cnt);
    return rows;
}

void views_forget(void)
{
    tree_reset();
}

/* ---------------------------------------------------------------------------------------
 * The pane. */

static int view_legend(ctx *c, int y)
{
    if (!c->roles_seen)
        return 0;
    int x = 0;
    for (int r = 0; r < TRACE_ROLE_COUNT; r++) {
        if (!(c->roles_seen & (1u << r)))
            continue;
        char buf[48];
        snprintf(buf, sizeof buf, "%sx%s %s", role_open[r], role_close[r],
                 trace_role_name((trace_role)r));
        int w = tty_width(buf);
        if (x + w > c->w)
            break;
        tty_put(y, c->x + x, w, TTY_ROLE + r, buf);
        x += w + 2;
    }
    return 1;
}

void views_draw(tty_rect r, const topic *t, const trace *tr, const views_index *ix, size_t step,
                int show_marks, views_opts *o)
{
    (void)t;
    const trace_frame *frame = step < trace_len(tr) ? trace_at(tr, step) : NULL;
    ctx c = {.frame = frame,
             .marks = show_marks ? frame : NULL,
             .ix = ix,
             .step = step,
             .o = o,
             .x = r.x,
             .w = r.w,
             .bottom = r.y + r.h - 1};
    /* The last row is the legend's, which stays put while the content scrolls. */
    tty_clip((tty_rect){r.y, r.x, r.h - 1, r.w});
    int y = r.y - o->scroll;
#define AVAIL (c.bottom - y > 6 ? c.bottom - y : 6)
    int used = view_scalars(&c, y);
    y += used ? used + 1 : 0;
    const trace_snap *mn = views_index_get(ix, "bucket_min", step);
    const trace_snap *mx = views_index_get(ix, "bucket_max", step);
    int buckets = mn && mx && mn->kind == TRACE_INTS && mx->kind == TRACE_INTS;
    const trace_snap *heap = views_index_get(ix, "heap", step);
    int rectree = views_index_get(ix, "call", step) && views_index_get(ix, "parent", step);
    if (heap && heap->kind == TRACE_INTS)
        y += view_heap_tree(&c, y, tr, heap, AVAIL) + 1;
    /* In a model topic (one that records matrices) the integer arrays (tokens, a modality
     * per position, counts) take their turn with the matrices below, so an array recorded
     * early never pushes the matrix a later step is about off the pane. An algorithm's
     * arrays stay on top in a fixed order, so its layout does not jump while stepping. */
    int models = 0;
    for (size_t k = 0; k < ix->n; k++)
        models |= ix->v[k].kind == TRACE_MATRIX;
    for (size_t k = 0; k < ix->n && !models; k++) {
        const views_series *s = &ix->v[k];
        const trace_snap *sp = series_at(s, step);
        if (!sp || sp->kind != TRACE_INTS)
            continue;
        if (buckets && (sp == mn || sp == mx))
            continue;
        y += view_ints(&c, y, sp, AVAIL) + 1;
    }
    if (buckets)
        y += view_buckets(&c, y, mn, mx, AVAIL) + 1;
    if (rectree)
        y += view_rectree(&c, y, tr, AVAIL) + 1;
    /* Tables, matrices and series the step marks come first, then those it recorded, then
     * the rest: with several matrices (the model topics) the one the step works on is
     * always in sight. */
    for (int pass = 0; pass < 3; pass++)
        for (size_t k = 0; k < ix->n; k++) {
            const trace_snap *sp = series_at(&ix->v[k], step);
            if (!sp)
                continue;
            int rank = marked(&c, sp->name)                         ? 0
                       : frame && trace_find(frame, sp->name) == sp ? 1
                                                                    : 2;
            if (rank != pass)
                continue;
            if (sp->kind == TRACE_INTS && models && !(buckets && (sp == mn || sp == mx)) &&
                sp != heap)
                y += view_ints(&c, y, sp, AVAIL) + 1;
            else if (sp->kind == TRACE_TABLE)
                y += view_grid(&c, y, sp, AVAIL, table_text, NULL) + 1;
            else if (sp->kind == TRACE_MATRIX)
                y += view_heat(&c, y, sp, AVAIL) + 1;
            else if (sp->kind == TRACE_REALS) {
                y += view_reals(&c, y, sp, AVAIL) + 1;
                int h = view_history(&c, y, &ix->v[k], AVAIL);
                y += h ? h + 1 : 0;
            }
        }
#undef AVAIL
    if (y == r.y - o->scroll)
        tty_put(r.y, r.x, r.w, TTY_DIM, "(no state recorded yet)");
    o->content_h = y - (r.y - o->scroll);
    tty_clip(r);
    view_legend(&c, r.y + r.h - 1);
    /* Say when there is more than the pane shows, and which key reaches it. */
    const char *more = o->content_h - o->scroll > r.h - 1
                           ? (o->scroll > 0 ? "PgUp/PgDn" : "PgDn more")
                       : o->scroll > 0 ? "PgUp more"
                                       : NULL;
    if (more) {
        int w = tty_width(more);
        tty_fill(r.y + r.h - 1, r.x + r.w - w - 1, w + 1, TTY_NORMAL);
        tty_put(r.y + r.h - 1, r.x + r.w - w, w, TTY_KEY, more);
    }
    tty_clip_reset();
}

void views_cleanup(void)
{
    tree_reset();
    for (int k = 0; k < PLOT_CACHE; k++)
        strbuf_free(&plot_cache[k].text);
    memset(plot_cache, 0, sizeof plot_cache);
    gnuplot_missing = 0;
}
