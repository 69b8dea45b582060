/* topic_vq_plot.c: the vq topic's figures, on the run's own input (the generated set from
 * --images, --side, --patch, --iters, --seed, or the --patches file):
 *   reconstructions: the first images of the set (one of each kind) beside the images rebuilt
 *                    from their tokens with K = 2, 4, 16, 64, 256 codes (one mosaic; the
 *                    generated set only);
 *   rate-distortion: MSE against the bits a fixed-length code spends per image (patches x
 *                    log2 K) and what an ideal entropy coder would spend, K = 2 .. 256;
 *   usage:           how many patches chose each code in the run itself (--K), codes sorted
 *                    from the most used, with the perplexity and the dead codes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../models/mat.h"
#include "../../models/vq.h"
#include "../../trace/mem.h"
#include "../../trace/status.h"
#include "plot.h"
#include "ssmio.h"

#define RD_KMAX 256
/* Multiply-adds all figures may spend on k-means, a few seconds through BLAS. */
#define PLOT_MAX_WORK 4e9
#define MOSAIC_ROWS   5 /* images: one of each kind */
#define MOSAIC_KS     5
static const size_t mosaic_ks[MOSAIC_KS] = {2, 4, 16, 64, 256};
/* An MSE below this is a rounding residue: the codebook holds every distinct patch. */
#define LOSSLESS 1e-12

static int fail(char *err, size_t errlen, int rc)
{
    if (rc == TUTOR_ENOMEM)
        snprintf(err, errlen, "out of memory");
    else if (rc && !err[0])
        snprintf(err, errlen, "%s", status_strerror(rc));
    return rc;
}

/* The vectors the figures use: the generated set's patches (o filled) or the --patches
 * file (o->images = 0). plot_check has validated the options, so parsing cannot fail on
 * them here. */
typedef struct vectors {
    vq_opts o;
    double *images; /* generated set only */
    int *kinds;
    double *x;
    size_t n, d, per_image;
} vectors;

static void vectors_free(vectors *v)
{
    mat_free(v->images);
    mem_free(v->kinds);
    mat_free(v->x);
}

/* The figures run k-means for K = 2 .. 256 twice over (the curve, nested, and the mosaic's
 * K = 2, 4, 16, 64, 256): refuse inputs that would take more than a few seconds. */
static int check_work(const vectors *v, char *err, size_t errlen)
{
    double codes = 510.0 + (v->o.images ? 342.0 : 0.0);
    double work = ((double)v->o.iters + 2.0) * (double)v->n * (double)v->d * codes;
    if (work <= PLOT_MAX_WORK)
        return 0;
    snprintf(err, errlen,
             "%s: the figures run k-means up to K = 256 on %zu vectors of %zu values (%.3g "
             "multiply-adds, at most %.3g): use fewer %s or a smaller --iters",
             v->o.images ? "--images" : "--patches", v->n, v->d, work, PLOT_MAX_WORK,
             v->o.images ? "images" : "rows");
    return TUTOR_ETOOBIG;
}

static int get_vectors(vectors *v, const topic_args *args, char *err, size_t errlen)
{
    memset(v, 0, sizeof *v);
    vq_opts *o = &v->o;
    vq_opts_default(o);
    o->seed = args->seed;
    int rc;
    if ((rc = ssmio_size(args, "iters", VQ_DEFAULT_ITERS, 0, VQ_MAX_ITERS, &o->iters, err, errlen)))
        return rc;
    if (topic_opt_has(args, "patches")) {
        o->images = 0;
        v->per_image = 1;
        rc = ssmio_load(args, "patches", (size_t)1 << 20, &v->x, &v->n, &v->d, err, errlen);
        return rc ? rc : check_work(v, err, errlen);
    }
    if ((rc = ssmio_size(args, "patch", VQ_DEFAULT_PATCH, 1, VQ_MAX_PATCH, &o->patch, err,
                         errlen)) ||
        (rc = ssmio_size(args, "images", VQ_DEFAULT_IMAGES, 1, VQ_MAX_IMAGES, &o->images, err,
                         errlen)) ||
        (rc = ssmio_size(args, "side", VQ_DEFAULT_SIDE, 1, VQ_MAX_SIDE, &o->side, err, errlen)))
        return rc;
    size_t g = o->side / o->patch;
    v->per_image = g * g;
    v->n = o->images * v->per_image;
    v->d = o->patch * o->patch;
    if ((rc = check_work(v, err, errlen)))
        return rc;
    v->images = mat_new(o->images, o->side * o->side);
    v->kinds = mem_calloc(o->images, sizeof *v->kinds);
    v->x = mat_new(v->n, v->d);
    if (!v->images || !v->kinds || !v->x)
        return TUTOR_ENOMEM;
    if ((rc = vq_images(v->images, v->kinds, o->images, o->side, o->seed)))
        return rc;
    return vq_patchify(v->x, v->images, o->images, o->side, o->patch);
}

/* One mosaic: rows of images (the original, then one rebuilt per K), blank (NaN) gutters. */
static int reconstructions_figure(fig_ctx *c, const vectors *v)
{
    const vq_opts *o = &v->o;
    size_t rows = o->images < MOSAIC_ROWS ? o->images : MOSAIC_ROWS;
    size_t s = o->side, cols = MOSAIC_KS + 1, gap = 1 + s / 8;
    size_t H = rows * s + (rows - 1) * gap, W = cols * s + (cols - 1) * gap;
    size_t sub_n = rows * v->per_image; /* the shown images' patches come first */
    double *mos = mat_new(H, W), *xhat = mat_new(sub_n, v->d), *rec = mat_new(rows, s * s);
    int rc = TUTOR_ENOMEM;
    if (!mos || !xhat || !rec)
        goto out;
    for (size_t i = 0; i < H * W; i++)
        mos[i] = NAN;
    double mse[MOSAIC_KS];
    for (size_t col = 0; col < cols; col++) {
        const double *src = v->images;
        if (col) {
            /* The codebook is learned on the whole set; only the first images are shown. */
            vq_fit fit;
            if ((rc = vq_kmeans(&fit, v->x, v->n, v->d, mosaic_ks[col - 1], o->iters, o->seed,
                                NULL)))
                goto out;
            vq_reconstruct(xhat, fit.tokens, fit.codebook, sub_n, v->d, fit.K);
            vq_unpatchify(rec, xhat, rows, s, o->patch);
            mse[col - 1] = fit.distortion[fit.iters_run];
            vq_fit_free(&fit);
            src = rec;
        }
        for (size_t m = 0; m < rows; m++)
            for (size_t y = 0; y < s; y++)
                memcpy(mos + (m * (s + gap) + y) * W + col * (s + gap), src + m * s * s + y * s,
                       s * sizeof *mos);
    }
    rc = 0;
    gp g;
    char title[160];
    snprintf(title, sizeof title,
             "VQ: images rebuilt from their %zux%zu patches' tokens, K codes (MSE per pixel)",
             o->patch, o->patch);
    if (fig_begin(c, &g, title))
        goto out;
    gp_raw(&g, "unset colorbox\nunset key\nset grid noxtics noytics\nunset ylabel\n"
               "set format y \"\"\nset ytics (");
    for (size_t m = 0; m < rows; m++)
        gp_raw(&g, "%s\"%s\" %zu", m ? ", " : "", vq_kind_name(v->kinds[m]), m * (s + gap) + s / 2);
    gp_raw(&g, ")\nset format y \"%%s\"\nset xtics (\"image\" %zu", s / 2);
    for (size_t k = 0; k < MOSAIC_KS; k++)
        gp_raw(&g, ", \"K = %zu\\n%.2g\" %zu", mosaic_ks[k], mse[k], (k + 1) * (s + gap) + s / 2);
    gp_raw(&g, ")\nset xtics scale 0\nset ytics scale 0\nset size ratio -1\n");
    gp_raw(&g, "set xrange [-0.5:%zu.5]\nset yrange [%zu.5:-0.5]\nset cbrange [0:1]\n", W - 1,
           H - 1);
    gp_raw(&g, "set palette gray\n");
    gp_data_matrix(&g, "M", mos, H, W);
    gp_raw(&g, "plot ");
    fig_image(&g, "M", 0, 1);
    gp_raw(&g, "\n");
    fig_end(c, &g, "reconstructions");
out:
    mat_free(mos);
    mat_free(xhat);
    mat_free(rec);
    return rc;
}

static int rate_distortion_figure(fig_ctx *c, const vectors *v)
{
    vq_rd_point pts[VQ_RD_MAX];
    size_t np;
    int rc = vq_rate_distortion(pts, &np, v->x, v->n, v->d, v->per_image, RD_KMAX, v->o.iters,
                                v->o.seed);
    if (rc)
        return rc;
    double bits[VQ_RD_MAX], ebits[VQ_RD_MAX], mse[VQ_RD_MAX];
    size_t lossless = 0;
    for (size_t i = 0; i < np; i++) {
        bits[i] = pts[i].bits_per_image;
        ebits[i] = pts[i].entropy_bits;
        mse[i] = pts[i].mse >= LOSSLESS ? pts[i].mse : NAN;
        if (!lossless && pts[i].mse < LOSSLESS)
            lossless = pts[i].K;
    }
    const char *unit = v->o.images ? "image" : "vector";
    char title[200], xlabel[120], note[80] = "";
    if (lossless)
        snprintf(note, sizeof note, "; lossless from K = %zu", lossless);
    snprintf(title, sizeof title, "VQ rate-distortion: K = 2 .. %d codes (labels: K)%s", RD_KMAX,
             note);
    snprintf(xlabel, sizeof xlabel, "rate (bits per %s)", unit);
    fig_series s[] = {
        {"fixed-length code: patches x log2 K", bits, mse, np, "linespoints", 0, 0},
        {"ideal entropy coder: patches x log2 perplexity", ebits, mse, np, "linespoints", 1, 1},
    };
    gp g;
    if (fig_begin(c, &g, title))
        return 0;
    gp_raw(&g, "set logscale y 10\nset key left bottom\n");
    fig_axes(&g, xlabel, "distortion (MSE per value)");
    gp_data_begin(&g, "L");
    for (size_t i = 0; i < np; i++)
        if (isfinite(mse[i]))
            gp_data_row(&g, (double[]){bits[i], mse[i], (double)pts[i].K}, 3);
    gp_data_end(&g);
    fig_plot_series(&g, s, 2, "$L using 1:2:(sprintf(\"%d\", $3)) with labels offset 0, 1 notitle");
    fig_end(c, &g, "rate-distortion");
    return 0;
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

static int usage_figure(fig_ctx *c, const plot_request *req, char *err, size_t errlen)
{
    trace *tr = NULL;
    int rc = plot_run(req, NULL, &tr, err, errlen);
    if (rc)
        return rc;
    size_t len = trace_len(tr);
    const trace_snap *u = len ? trace_latest(tr, len - 1, "usage") : NULL;
    const trace_snap *p = len ? trace_latest(tr, len - 1, "perplexity") : NULL;
    if (!u || !u->ints) {
        trace_free(tr);
        snprintf(err, errlen, "--K: the usage of more than %zu codes is not recorded",
                 (size_t)VQ_TRACE_MAX_CELLS);
        return TUTOR_ETOOBIG;
    }
    size_t K = u->cols, dead = 0;
    double *buf = mat_new(2, K);
    if (!buf) {
        trace_free(tr);
        return TUTOR_ENOMEM;
    }
    double *rank = buf, *count = buf + K, total = 0;
    for (size_t k = 0; k < K; k++) {
        rank[k] = (double)k;
        count[k] = (double)u->ints[k];
        dead += u->ints[k] == 0;
        total += count[k];
    }
    qsort(count, K, sizeof *count, cmp_desc);
    char title[200];
    snprintf(title, sizeof title,
             "VQ codebook usage: %zu codes, perplexity %.3g, %zu dead (%.0f vectors in all)", K,
             p && p->reals ? p->reals[0] : NAN, dead, total);
    fig_series s = {"vectors per code", rank, count, K, "boxes", 0, 0};
    gp g;
    if (fig_begin(c, &g, title) == 0) {
        gp_raw(&g,
               "set style fill solid 0.7\nset boxwidth 0.8\nset xrange [-0.5:%zu.5]\n"
               "set yrange [0:*]\nunset key\n",
               K - 1);
        fig_axes(&g, "codes, from the most used (rank)", "vectors (patches) per code");
        fig_plot_series(&g, &s, 1, NULL);
        fig_end(c, &g, "usage");
    }
    mat_free(buf);
    trace_free(tr);
    return 0;
}

int topic_vq_plot(const plot_request *req, strbuf *out, char *err, size_t errlen)
{
    int rc = plot_check(req, err, errlen);
    if (rc)
        return rc;
    err[0] = '\0';
    fig_ctx c;
    strbuf caption = STRBUF_INIT;
    vectors v;
    if (plot_ctx(&c, req, out, &caption)) {
        strbuf_free(&caption);
        return fail(err, errlen, TUTOR_ENOMEM);
    }
    rc = get_vectors(&v, req->args, err, errlen);
    if (!rc && v.o.images)
        rc = reconstructions_figure(&c, &v);
    if (!rc)
        rc = rate_distortion_figure(&c, &v);
    if (!rc)
        rc = usage_figure(&c, req, err, errlen);
    if (!rc)
        rc = fig_result(&c, err, errlen);
    vectors_free(&v);
    strbuf_free(&caption);
    return fail(err, errlen, rc);
}
