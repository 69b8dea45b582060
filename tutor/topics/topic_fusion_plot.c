/* topic_fusion_plot.c: the fusion topic's figures, each read from a traced run of the topic
 * itself (so files and options work as in `tutor run fusion`):
 *   attention: each head's attention weights over the demo's stream (or over the user's
 *              --part attention input), with bands along both axes colouring every
 *              position by modality (text, <boi>/<eoi>, image);
 *   growth:    the largest logit and each head's entropy against the growth factor g, with
 *              and without QK-Norm (--part growth's table);
 *   zloss:     Z = logsumexp(y + c), the z-loss and the largest change of a probability
 *              against the shift c (--part zloss's translation table). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../models/fusion.h"
#include "../../trace/mem.h"
#include "../../trace/status.h"
#include "plot.h"

/* Heads drawn (the block's trace records the first QKNORM_TRACE_HEADS). */
#define MAX_PANELS 8

/* The options of each part, dropped when a figure runs another part. */
static const char *const all_opts[] = {
    "part", "X", "Wq", "Wk",    "Wv",    "Wo",         "heads",  "qk-norm",     "causal", "logits",
    "coef", "g", "K",  "image", "place", "no-qk-norm", "greedy", "temperature", NULL};

static int fail(char *err, size_t errlen, int rc)
{
    if (rc == TUTOR_ENOMEM)
        snprintf(err, errlen, "out of memory");
    return rc;
}

static const char *part_of(const topic_args *args)
{
    const char *p = topic_opt_get(args, "part");
    return p ? p : "demo";
}

/* Runs the topic on `--part part` plus the user's options named in keep (when the user's
 * own part is the same), into a new trace. */
static int run_part(const plot_request *req, const char *part, const char *const *keep, trace **tr,
                    char *err, size_t errlen)
{
    topic_args base = {0}, args = {0};
    int rc = plot_args_without(&base, req->args, all_opts);
    topic_opt *opts = rc ? NULL : mem_calloc(base.n + 16, sizeof *opts);
    if (!opts) {
        mem_free((void *)base.opts);
        return TUTOR_ENOMEM;
    }
    memcpy(opts, base.opts, base.n * sizeof *opts);
    size_t n = base.n;
    opts[n++] = (topic_opt){"part", part};
    if (strcmp(part_of(req->args), part) == 0)
        for (const char *const *k = keep; *k && n < base.n + 16; k++)
            for (size_t i = 0; i < req->args->n; i++)
                if (strcmp(req->args->opts[i].name, *k) == 0)
                    opts[n++] = req->args->opts[i];
    args.opts = opts;
    args.n = n;
    args.seed = req->args->seed;
    rc = plot_run(req, &args, tr, err, errlen);
    mem_free(opts);
    mem_free((void *)base.opts);
    return rc;
}

/* The latest snapshot `name` of tr, or NULL. */
static const trace_snap *last_snap(const trace *tr, const char *name)
{
    size_t len = trace_len(tr);
    return len ? trace_latest(tr, len - 1, name) : NULL;
}

/* ---- attention ---- */

static const char *modality_color(int64_t m)
{
    return m == FUSION_TEXT ? fig_colors[0] : m == FUSION_MARKER ? fig_colors[4] : fig_colors[1];
}

/* Draws the bands of modality (n ints) above and left of an n x n panel: rectangles in
 * the extra rows and columns -2.5 .. -0.5 that the ranges keep free; the dumb terminal
 * draws no filled rectangles, so there it gets letters (t text, | marker, i image) from
 * the datablock $B, which plot_bands plots. */
static void bands(gp *g, const trace_snap *mod, size_t n)
{
    gp_raw(g, "unset object\n");
    if (g->format == GP_DUMB) {
        gp_raw(g, "$B << EOD\n");
        for (size_t i = 0; i < n; i++) {
            const char *ch = mod->ints[i] == FUSION_TEXT     ? "t"
                             : mod->ints[i] == FUSION_MARKER ? "|"
                                                             : "i";
            gp_raw(g, "%zu -1.5 %s\n-1.5 %zu %s\n", i, ch, i, ch);
        }
        gp_raw(g, "EOD\n");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *col = modality_color(mod->ints[i]);
        gp_raw(g,
               "set object %zu rect from %g,-2.3 to %g,-0.7 fc rgb \"%s\" fs solid noborder "
               "front\n",
               2 * i + 1, (double)i - 0.5, (double)i + 0.5, col);
        gp_raw(g,
               "set object %zu rect from -2.3,%g to -0.7,%g fc rgb \"%s\" fs solid noborder "
               "front\n",
               2 * i + 2, (double)i - 0.5, (double)i + 0.5, col);
    }
}

static int attention_figure(fig_ctx *c, const plot_request *req, char *err, size_t errlen)
{
    static const char *const keep_demo[] = {"K",      "image",       "heads", "place", "no-qk-norm",
                                            "greedy", "temperature", "coef",  NULL};
    static const char *const keep_attn[] = {"X",     "Wq",      "Wk",     "Wv", "Wo",
                                            "heads", "qk-norm", "causal", NULL};
    int user_attn = strcmp(part_of(req->args), "attention") == 0;
    trace *tr = NULL;
    int rc = run_part(req, user_attn ? "attention" : "demo", user_attn ? keep_attn : keep_demo, &tr,
                      err, errlen);
    if (rc)
        return fail(err, errlen, rc);
    /* The first forward pass's heads, in order: the one "P" per head the block records. */
    const trace_snap *P[MAX_PANELS] = {0}, *mod = NULL;
    size_t np = 0;
    for (size_t i = 0; i < trace_len(tr); i++) {
        const trace_frame *f = trace_at(tr, i);
        const trace_snap *s = trace_find(f, "P");
        if (s && np < MAX_PANELS && s->rows == s->cols)
            P[np++] = s;
        if (!mod && (s = trace_find(f, "modality")) != NULL)
            mod = s;
    }
    if (!np) {
        trace_free(tr);
        snprintf(err, errlen,
                 "--X: the attention weights are recorded only up to 256 x 256; use fewer rows "
                 "for this figure");
        return TUTOR_ETOOBIG;
    }
    size_t n = P[0]->rows;
    if (mod && mod->cols != n)
        mod = NULL;
    int cols = np == 1 ? 1 : np == 2 ? 2 : np <= 4 ? 2 : 4;
    int rows = (int)((np + (size_t)cols - 1) / (size_t)cols);
    gp g;
    if (fig_begin(c, &g, NULL) == 0) {
        fig_multiplot(c, &g, rows, cols,
                      !mod ? "Attention of each head (row: query, column: key)"
                      : c->format == GP_DUMB
                          ? "Attention per head over the stream; t text, | <boi> <eoi>, i image"
                          : "Attention per head (row: query); blue text, orange <boi> <eoi>, "
                            "red image");
        gp_raw(&g, "unset key\nunset xlabel\nunset ylabel\nset format x \"\"\nset format y \"\"\n"
                   "set bmargin 1\nset lmargin 2\nset rmargin 6\nset tmargin 3\n");
        fig_palette(&g, 0, 0);
        for (size_t h = 0; h < np; h++) {
            char block[8];
            snprintf(block, sizeof block, "P%zu", h);
            gp_data_matrix(&g, block, P[h]->reals, n, n);
            gp_raw(&g, "set title \"head %zu\"\n", h);
            double lo = mod ? -2.5 : -0.5;
            if (mod)
                bands(&g, mod, n);
            gp_raw(&g, "set xrange [%g:%g]\nset yrange [%g:%g]\nset cbrange [0:1]\nplot ", lo,
                   (double)n - 0.5, (double)n - 0.5, lo);
            fig_image(&g, block, 0, 1);
            gp_raw(&g,
                   mod && g.format == GP_DUMB ? ", $B using 1:2:3 with labels notitle\n" : "\n");
        }
        gp_raw(&g, "unset multiplot\nunset object\n");
        fig_end(c, &g, "attention");
    }
    trace_free(tr);
    return 0;
}

/* ---- growth ---- */

static int growth_figure(fig_ctx *c, const plot_request *req, char *err, size_t errlen)
{
    static const char *const keep[] = {"g", "heads", NULL};
    trace *tr = NULL;
    int rc = run_part(req, "growth", keep, &tr, err, errlen);
    if (rc)
        return fail(err, errlen, rc);
    const trace_snap *gs = last_snap(tr, "g"), *m0 = last_snap(tr, "max logit, no QK-Norm"),
                     *m1 = last_snap(tr, "max logit, QK-Norm"),
                     *e0 = last_snap(tr, "entropy, no QK-Norm"),
                     *e1 = last_snap(tr, "entropy, QK-Norm");
    if (!gs || !m0 || !m1 || !e0 || !e1 || e0->rows != gs->cols) {
        trace_free(tr);
        snprintf(err, errlen, "the growth run recorded no table");
        return TUTOR_EINVAL;
    }
    size_t ng = gs->cols, H = e0->cols;
    size_t nh = H < MAX_PANELS ? H : MAX_PANELS;
    double *buf = mem_alloc((ng + 2 * nh * ng) * sizeof *buf);
    if (!buf) {
        trace_free(tr);
        return fail(err, errlen, TUTOR_ENOMEM);
    }
    /* g^2 times the plain max logit at the first g: where the plain curve must lie. */
    double *ref = buf, *ent = buf + ng;
    for (size_t i = 0; i < ng; i++)
        ref[i] = m0->reals[0] * (gs->reals[i] / gs->reals[0]) * (gs->reals[i] / gs->reals[0]);
    for (size_t h = 0; h < nh; h++)
        for (size_t i = 0; i < ng; i++) {
            ent[h * ng + i] = e0->reals[i * H + h];
            ent[(nh + h) * ng + i] = e1->reals[i * H + h];
        }
    int logy = m0->reals[0] > 0 && m1->reals[0] > 0;
    for (size_t i = 0; i < ng; i++)
        logy = logy && m0->reals[i] > 0 && m1->reals[i] > 0;
    gp g;
    if (fig_begin(c, &g, NULL) == 0) {
        fig_stack(c, &g, 2,
                  "Logit growth: q and k scaled by g; the largest logit and each head's entropy, "
                  "without and with QK-Norm");
        gp_raw(&g, "set logscale x 2\nset key top left opaque\nset format x \"\"\n");
        if (logy)
            gp_raw(&g, "set logscale y 10\n");
        gp_raw(&g, "set title \"largest attention logit\"\n");
        fig_axes(&g, "", "max logit");
        fig_series top[] = {
            {"no QK-Norm", gs->reals, m0->reals, ng, NULL, 0, 0},
            {"QK-Norm", gs->reals, m1->reals, ng, NULL, 1, 0},
            {"g^2 x the value at the first g", gs->reals, ref, ng, "lines", 7, 1},
        };
        fig_plot_series(&g, top, 3, NULL);
        gp_raw(&g, "unset logscale y\nset format x \"%%g\"\nset key bottom left opaque\n"
                   "set title \"entropy of each head (one line per head; nats)\"\n");
        fig_axes(&g, "g (scale of Wq and Wk)", "entropy (nats)");
        fig_series bottom[2 * MAX_PANELS];
        for (size_t h = 0; h < nh; h++) {
            bottom[h] =
                (fig_series){h ? NULL : "no QK-Norm", gs->reals, ent + h * ng, ng, NULL, 0, 0};
            bottom[nh + h] =
                (fig_series){h ? NULL : "QK-Norm", gs->reals, ent + (nh + h) * ng, ng, NULL, 1, 0};
        }
        fig_plot_series(&g, bottom, 2 * nh, NULL);
        gp_raw(&g, "unset multiplot\n");
        fig_end(c, &g, "growth");
    }
    mem_free(buf);
    trace_free(tr);
    return 0;
}

/* ---- z-loss ---- */

/* Sets ytics to a step of 1, 2 or 5 times a power of ten giving at most 4 intervals over
 * v (n values): a stacked panel is short, and gnuplot's own choice crowds it. */
static void few_ytics(gp *g, const double *v, size_t n)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i])) {
            lo = v[i] < lo ? v[i] : lo;
            hi = v[i] > hi ? v[i] : hi;
        }
    if (!(hi > lo)) {
        gp_raw(g, "set ytics autofreq\n");
        return;
    }
    double raw = (hi - lo) / 4, step = pow(10, floor(log10(raw)));
    step *= raw <= step ? 1 : raw <= 2 * step ? 2 : raw <= 5 * step ? 5 : 10;
    gp_raw(g, "set ytics %.3g\nset format y \"%%g\"\n", step);
}

static int zloss_figure(fig_ctx *c, const plot_request *req, char *err, size_t errlen)
{
    static const char *const keep[] = {"logits", "coef", NULL};
    trace *tr = NULL;
    int rc = run_part(req, "zloss", keep, &tr, err, errlen);
    if (rc)
        return fail(err, errlen, rc);
    const trace_snap *cs = last_snap(tr, "c"), *zs = last_snap(tr, "Z(y + c)"),
                     *ls = last_snap(tr, "z-loss(y + c)"), *dp = last_snap(tr, "max prob change");
    if (!cs || !zs || !ls || !dp || zs->cols != cs->cols) {
        trace_free(tr);
        snprintf(err, errlen, "the z-loss run recorded no table");
        return TUTOR_EINVAL;
    }
    size_t n = cs->cols;
    gp g;
    if (fig_begin(c, &g, NULL) == 0) {
        fig_stack(c, &g, 3,
                  "z-loss: every logit of row 0 shifted by c moves Z = logsumexp by c, and no "
                  "probability");
        gp_raw(&g, "unset key\nset format x \"\"\nset title \"Z(y + c) = Z(y) + c\"\n");
        fig_axes(&g, "", "Z");
        few_ytics(&g, zs->reals, n);
        fig_series s0 = {NULL, cs->reals, zs->reals, n, "lines", 0, 0};
        fig_plot_series(&g, &s0, 1, NULL);
        gp_raw(&g, "set title \"z-loss = coef Z^2: smallest where Z = 0\" noenhanced\n");
        fig_axes(&g, "", "z-loss");
        few_ytics(&g, ls->reals, n);
        fig_series s1 = {NULL, cs->reals, ls->reals, n, "lines", 1, 0};
        fig_plot_series(&g, &s1, 1, NULL);
        gp_raw(&g, "set format x \"%%g\"\nset title \"largest change of a probability "
                   "(rounding only)\"\n");
        fig_axes(&g, "c (added to every logit)", "max |dp|");
        few_ytics(&g, dp->reals, n);
        fig_series s2 = {NULL, cs->reals, dp->reals, n, "linespoints", 2, 0};
        fig_plot_series(&g, &s2, 1, NULL);
        gp_raw(&g, "unset multiplot\n");
        fig_end(c, &g, "zloss");
    }
    trace_free(tr);
    return 0;
}

int topic_fusion_plot(const plot_request *req, strbuf *out, char *err, size_t errlen)
{
    int rc = plot_check(req, err, errlen);
    if (rc)
        return rc;
    fig_ctx c;
    strbuf caption = STRBUF_INIT;
    if (plot_ctx(&c, req, out, &caption)) {
        strbuf_free(&caption);
        return fail(err, errlen, TUTOR_ENOMEM);
    }
    rc = attention_figure(&c, req, err, errlen);
    if (!rc)
        rc = growth_figure(&c, req, err, errlen);
    if (!rc)
        rc = zloss_figure(&c, req, err, errlen);
    if (!rc)
        rc = fig_result(&c, err, errlen);
    strbuf_free(&caption);
    return rc;
}
