/* topic_vq.c: the vq topic. `tutor run vq` learns a codebook by k-means on a seeded image
 * set and turns each image into tokens; `tutor run vq --patches FILE [--codebook FILE]` does
 * the same on the user's vectors (with a codebook file: quantises only, nothing learned). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../models/mat.h"
#include "../../models/vq.h"
#include "../../trace/mem.h"
#include "../../trace/status.h"
#include "ssmio.h"
#include "topic.h"

/* Caps on top of the library's, so that a typo cannot exhaust memory or time: the values a
 * run writes back (the reconstruction, the codebook: at most a 20 MB JSON answer), and the
 * multiply-adds of k-means, (iters + 2) n K d in the worst case (seeding, first assignment,
 * then one assignment per update), about a second through BLAS. */
#define VQT_MAX_VALUES ((size_t)1 << 20)
#define VQT_MAX_WORK   4294967296.0
/* Text output: images drawn as characters (up to this side), images whose token grid is
 * printed, tokens printed in file mode, codes whose usage is printed. */
#define VQT_DRAW_SIDE 32
#define VQT_DRAW      2
#define VQT_GRIDS     4
#define VQT_TOKENS    64
#define VQT_USAGE     64

static const topic_optspec vq_options[] = {
    {"K", 1, "codebook size, 1..1024 (default 16)"},
    {"patch", 1, "patch side p, must divide --side, 1..16 (default 4)"},
    {"iters", 1, "at most T Lloyd updates, 0..10000 (default 50)"},
    {"images", 1, "images in the generated set, 1..1024 (default 40)"},
    {"side", 1, "image side S, 1..64 (default 16)"},
    {"beta", 1, "commitment weight of the VQ-VAE term, 0..100 (default 0.25)"},
    {"patches", 1, "your vectors instead: text file, n rows of d numbers"},
    {"codebook", 1, "with --patches: your codebook, K rows of d numbers (no learning)"},
    {NULL, 0, NULL},
};

/* Everything a file-mode run owns, freed in one place. */
typedef struct file_run {
    double *x, *cb, *dist, *xhat;
    int *tokens;
    size_t *usage;
    vq_fit fit;
} file_run;

static void file_run_free(file_run *f)
{
    mat_free(f->x);
    mat_free(f->cb);
    mat_free(f->dist);
    mat_free(f->xhat);
    mem_free(f->tokens);
    mem_free(f->usage);
    vq_fit_free(&f->fit);
}

/* ---- output helpers ---- */

static void json_ints(strbuf *sb, const char *name, const int *v, size_t n)
{
    strbuf_json_str(sb, name);
    strbuf_puts(sb, ": [");
    for (size_t i = 0; i < n; i++)
        strbuf_printf(sb, "%s%d", i ? ", " : "", v[i]);
    strbuf_putc(sb, ']');
}

static void json_sizes(strbuf *sb, const char *name, const size_t *v, size_t n)
{
    strbuf_json_str(sb, name);
    strbuf_puts(sb, ": [");
    for (size_t i = 0; i < n; i++)
        strbuf_printf(sb, "%s%zu", i ? ", " : "", v[i]);
    strbuf_putc(sb, ']');
}

static void json_real(strbuf *sb, const char *name, double v)
{
    strbuf_puts(sb, ", ");
    strbuf_json_str(sb, name);
    strbuf_puts(sb, ": ");
    strbuf_json_double(sb, v);
}

static void json_mat(strbuf *sb, const char *name, const double *a, size_t rows, size_t cols)
{
    strbuf_puts(sb, ", ");
    strbuf_json_str(sb, name);
    strbuf_puts(sb, ": ");
    mat_json(sb, a, rows, cols);
}

/* The members both modes write: result and tokens, the statistics, usage, codebook and the
 * reconstruction (rows x cols: the images, or the user's vectors). */
static void json_common(strbuf *sb, const int *tokens, size_t n, const vq_stats *st,
                        const size_t *usage, const double *cb, size_t K, size_t d,
                        const double *recon, size_t rows, size_t cols, double beta)
{
    json_ints(sb, "result", tokens, n);
    strbuf_puts(sb, ", ");
    json_ints(sb, "tokens", tokens, n);
    strbuf_printf(sb, ", \"n\": %zu, \"d\": %zu, \"K\": %zu", n, d, K);
    json_real(sb, "mse", st->mse);
    json_real(sb, "perplexity", st->perplexity);
    strbuf_printf(sb, ", \"dead\": %zu, ", st->dead);
    json_sizes(sb, "usage", usage, K);
    json_mat(sb, "codebook", cb, K, d);
    json_mat(sb, "reconstruction", recon, rows, cols);
    json_real(sb, "commitment", st->commitment);
    json_real(sb, "codebook_loss", st->codebook_loss);
    json_real(sb, "beta", beta);
}

/* usage as text, at most VQT_USAGE codes, then perplexity and dead codes. */
static void text_usage(strbuf *sb, const size_t *usage, size_t K, const vq_stats *st)
{
    strbuf_puts(sb, "usage (vectors per code):");
    size_t shown = K < VQT_USAGE ? K : VQT_USAGE;
    for (size_t k = 0; k < shown; k++)
        strbuf_printf(sb, "%s%zu", k % 16 ? " " : "\n  ", usage[k]);
    if (shown < K)
        strbuf_printf(sb, " ... (%zu codes; --json for all)", K);
    strbuf_printf(sb, "\nperplexity %.4g of %zu codes (exp of the usage entropy), %zu dead\n",
                  st->perplexity, K, st->dead);
}

static void text_losses(strbuf *sb, const vq_stats *st, double beta)
{
    strbuf_printf(sb,
                  "VQ-VAE (z = x): codebook_loss %.6g, commitment %.6g "
                  "(beta %g)\n",
                  st->codebook_loss, st->commitment, beta);
}

/* One character per value in [0, 1] (clamped), dark to bright. */
static char shade(double v)
{
    static const char ramp[] = " .:-=+*#%@";
    v = v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
    return ramp[(int)lround(v * 9.0)];
}

/* Draws image m beside its reconstruction, two characters per pixel when the side allows
 * (a character cell is about twice as tall as wide). */
static void text_pair(strbuf *sb, const vq_demo *dm, size_t m)
{
    size_t s = dm->opts.side, w = s <= 16 ? 2 : 1;
    const double *a = dm->images + m * s * s, *b = dm->recon + m * s * s;
    strbuf_printf(sb, "image %zu (%s), then rebuilt from its %zu tokens (MSE %.4g):\n", m,
                  vq_kind_name(dm->kinds[m]), dm->per_image, dm->image_mse[m]);
    for (size_t y = 0; y < s; y++) {
        strbuf_puts(sb, "  |");
        for (size_t x = 0; x < s * w; x++)
            strbuf_putc(sb, shade(a[y * s + x / w]));
        strbuf_puts(sb, "|  |");
        for (size_t x = 0; x < s * w; x++)
            strbuf_putc(sb, shade(b[y * s + x / w]));
        strbuf_puts(sb, "|\n");
    }
}

/* ---- the generated image set ---- */

static int demo_opts(const topic_args *args, vq_opts *o, topic_out *out)
{
    vq_opts_default(o);
    o->seed = args->seed;
    char *err = out->err;
    size_t el = sizeof out->err;
    int rc;
    if ((rc = ssmio_size(args, "K", VQ_DEFAULT_K, 1, VQ_MAX_K, &o->K, err, el)) ||
        (rc = ssmio_size(args, "patch", VQ_DEFAULT_PATCH, 1, VQ_MAX_PATCH, &o->patch, err, el)) ||
        (rc = ssmio_size(args, "iters", VQ_DEFAULT_ITERS, 0, VQ_MAX_ITERS, &o->iters, err, el)) ||
        (rc = ssmio_size(args, "images", VQ_DEFAULT_IMAGES, 1, VQ_MAX_IMAGES, &o->images, err,
                         el)) ||
        (rc = ssmio_size(args, "side", VQ_DEFAULT_SIDE, 1, VQ_MAX_SIDE, &o->side, err, el)) ||
        (rc = ssmio_real(args, "beta", VQ_DEFAULT_BETA, 0, 0, 100, &o->beta, err, el)))
        return rc;
    if (o->side % o->patch)
        return topic_fail(out, TUTOR_EINVAL, "--patch %zu does not divide --side %zu", o->patch,
                          o->side);
    if (o->images * o->side * o->side > VQT_MAX_VALUES)
        return topic_fail(out, TUTOR_ETOOBIG,
                          "--images %zu x --side %zu^2 is %zu pixels; at most %zu", o->images,
                          o->side, o->images * o->side * o->side, VQT_MAX_VALUES);
    size_t n = o->images * (o->side / o->patch) * (o->side / o->patch), d = o->patch * o->patch;
    double work = ((double)o->iters + 2.0) * (double)n * (double)o->K * (double)d;
    if (work > VQT_MAX_WORK)
        return topic_fail(out, TUTOR_ETOOBIG,
                          "--iters %zu x %zu patches x --K %zu x d %zu is %.3g multiply-adds; "
                          "at most %.3g: lower one of them",
                          o->iters, n, o->K, d, work, VQT_MAX_WORK);
    return 0;
}

static int run_demo(const topic_args *args, trace *tr, topic_out *out)
{
    vq_opts o;
    int rc = demo_opts(args, &o, out);
    if (rc)
        return rc;
    trace_set_listing(tr, vq_listing, vq_listing_len);
    vq_demo dm;
    if ((rc = vq_demo_run(&dm, &o, tr)))
        return rc;
    const vq_fit *f = &dm.fit;
    size_t px = o.side * o.side, g = o.side / o.patch;

    strbuf *js = &out->json;
    json_common(js, f->tokens, dm.n, &dm.stats, f->usage, f->codebook, o.K, dm.d, dm.recon,
                o.images, px, o.beta);
    strbuf_printf(js, ", \"images\": %zu, \"side\": %zu, \"patch\": %zu, \"per_image\": %zu",
                  o.images, o.side, o.patch, dm.per_image);
    strbuf_puts(js, ", \"kinds\": [");
    for (size_t m = 0; m < o.images; m++) {
        strbuf_puts(js, m ? ", " : "");
        strbuf_json_str(js, vq_kind_name(dm.kinds[m]));
    }
    strbuf_puts(js, "], ");
    ssmio_json_reals(js, "image_mse", dm.image_mse, o.images);
    json_real(js, "bits_per_image", dm.stats.bits_per_image);
    json_real(js, "entropy_bits_per_image", dm.stats.entropy_bits);
    strbuf_puts(js, ", ");
    ssmio_json_reals(js, "distortion", f->distortion, f->iters_run + 1);
    strbuf_printf(js, ", \"iters_run\": %zu, \"converged\": %s, \"empty_events\": %zu",
                  f->iters_run, f->converged ? "true" : "false", f->empty_events);

    strbuf *tx = &out->text;
    strbuf_printf(tx,
                  "vq: %zu images %zux%zu cut into %zu patches of %zux%zu (d = %zu); K = %zu "
                  "codes, seed %llu\n",
                  o.images, o.side, o.side, dm.n, o.patch, o.patch, dm.d, o.K,
                  (unsigned long long)o.seed);
    strbuf_printf(tx, "k-means: k-means++ seeding, then %zu Lloyd update%s (%s)\n", f->iters_run,
                  f->iters_run == 1 ? "" : "s",
                  f->converged ? "converged: no token changed" : "stopped by --iters");
    strbuf_printf(tx, "  distortion (MSE per value) %.6g after seeding -> %.6g", f->distortion[0],
                  f->distortion[f->iters_run]);
    if (f->empty_events)
        strbuf_printf(tx, "; %zu times a code was empty and kept its vector", f->empty_events);
    strbuf_printf(tx, "\nresult: the tokens, %zu per image (a %zu x %zu grid, row by row)\n",
                  dm.per_image, g, g);
    size_t grids = o.images < VQT_GRIDS ? o.images : VQT_GRIDS;
    for (size_t m = 0; m < grids; m++) {
        strbuf_printf(tx, "  image %zu (%s), MSE %.4g:", m, vq_kind_name(dm.kinds[m]),
                      dm.image_mse[m]);
        if (g > 16) {
            strbuf_puts(tx, " (a grid wider than 16: --json)\n");
            continue;
        }
        for (size_t r = 0; r < g; r++) {
            strbuf_puts(tx, "\n   ");
            for (size_t c = 0; c < g; c++)
                strbuf_printf(tx, " %4d", f->tokens[m * dm.per_image + r * g + c]);
        }
        strbuf_putc(tx, '\n');
    }
    if (grids < o.images)
        strbuf_printf(tx, "  ... %zu more images (--json for every token)\n", o.images - grids);
    if (o.side <= VQT_DRAW_SIDE) {
        size_t draw = o.images < VQT_DRAW ? o.images : VQT_DRAW;
        for (size_t m = 0; m < draw; m++)
            text_pair(tx, &dm, m);
    }
    strbuf_printf(tx, "MSE %.6g per pixel", dm.stats.mse);
    if (o.images > 1) {
        size_t lo = 0, hi = 0;
        for (size_t m = 1; m < o.images; m++) {
            lo = dm.image_mse[m] < dm.image_mse[lo] ? m : lo;
            hi = dm.image_mse[m] > dm.image_mse[hi] ? m : hi;
        }
        strbuf_printf(tx, "\n  best image %zu (%s) %.4g, worst image %zu (%s) %.4g", lo,
                      vq_kind_name(dm.kinds[lo]), dm.image_mse[lo], hi, vq_kind_name(dm.kinds[hi]),
                      dm.image_mse[hi]);
    }
    strbuf_putc(tx, '\n');
    text_usage(tx, f->usage, o.K, &dm.stats);
    strbuf_printf(tx,
                  "rate: %zu tokens x log2 %zu = %.4g bits per image (an entropy coder: %.4g)\n",
                  dm.per_image, o.K, dm.stats.bits_per_image, dm.stats.entropy_bits);
    text_losses(tx, &dm.stats, o.beta);
    rc = js->failed ? js->failed : tx->failed;
    vq_demo_free(&dm);
    return rc;
}

/* ---- the user's vectors ---- */

/* Options of the generated set, refused with files so that a typo is not ignored. */
static int check_file_opts(const topic_args *args, int has_codebook, topic_out *out)
{
    static const char *const set_only[] = {"patch", "images", "side"};
    for (size_t i = 0; i < sizeof set_only / sizeof set_only[0]; i++)
        if (topic_opt_has(args, set_only[i]))
            return topic_fail(out, TUTOR_EINVAL,
                              "--%s applies to the generated images only, not to --patches",
                              set_only[i]);
    if (has_codebook)
        for (size_t i = 0; i < 2; i++) {
            const char *name = i ? "iters" : "K";
            if (topic_opt_has(args, name))
                return topic_fail(out, TUTOR_EINVAL,
                                  "--%s: nothing is learned with --codebook (the file sets K)",
                                  name);
        }
    return 0;
}

static int run_files(const topic_args *args, trace *tr, topic_out *out)
{
    int has_cb = topic_opt_has(args, "codebook");
    int rc = check_file_opts(args, has_cb, out);
    if (rc)
        return rc;
    double beta;
    size_t K = VQ_DEFAULT_K, iters = VQ_DEFAULT_ITERS, n, d, kr, kc;
    char *err = out->err;
    size_t el = sizeof out->err;
    if ((rc = ssmio_real(args, "beta", VQ_DEFAULT_BETA, 0, 0, 100, &beta, err, el)))
        return rc;
    if (!has_cb &&
        ((rc = ssmio_size(args, "K", VQ_DEFAULT_K, 1, VQ_MAX_K, &K, err, el)) ||
         (rc = ssmio_size(args, "iters", VQ_DEFAULT_ITERS, 0, VQ_MAX_ITERS, &iters, err, el))))
        return rc;
    file_run f = {0};
    if ((rc = ssmio_load(args, "patches", VQT_MAX_VALUES, &f.x, &n, &d, err, el)))
        goto out;
    if (d > VQ_MAX_DIM) {
        rc = topic_fail(out, TUTOR_ETOOBIG, "--patches: %zu values per row; at most %d", d,
                        VQ_MAX_DIM);
        goto out;
    }
    if (has_cb) {
        if ((rc = ssmio_load(args, "codebook", VQT_MAX_VALUES, &f.cb, &kr, &kc, err, el)))
            goto out;
        if (kc != d) {
            rc = topic_fail(out, TUTOR_ESHAPE,
                            "--codebook rows have %zu values but --patches rows have %zu: "
                            "they must match",
                            kc, d);
            goto out;
        }
        if (kr > VQ_MAX_K) {
            rc = topic_fail(out, TUTOR_ETOOBIG, "--codebook: %zu codes; at most %d", kr, VQ_MAX_K);
            goto out;
        }
        K = kr;
    }
    double work = ((double)(has_cb ? 0 : iters) + 2.0) * (double)n * (double)K * (double)d;
    if (work > VQT_MAX_WORK) {
        rc = topic_fail(out, TUTOR_ETOOBIG,
                        "%zu vectors x K %zu x d %zu%s is %.3g multiply-adds; at most %.3g", n, K,
                        d, has_cb ? "" : " x (--iters + 2)", work, VQT_MAX_WORK);
        goto out;
    }
    trace_set_listing(tr, vq_listing, vq_listing_len);
    const double *cb;
    const int *tokens;
    const size_t *usage;
    if (has_cb) {
        rc = TUTOR_ENOMEM;
        f.tokens = mem_alloc(n * sizeof *f.tokens);
        f.dist = mat_new(n, 1);
        f.usage = mem_calloc(K, sizeof *f.usage);
        if (!f.tokens || !f.dist || !f.usage)
            goto out;
        if (tr)
            trace_step(tr, 1, "your %zu vectors of d = %zu, your codebook of K = %zu codes", n, d,
                       K);
        if ((rc = vq_assign(f.tokens, f.dist, f.x, f.cb, n, d, K, tr)))
            goto out;
        vq_usage(f.usage, f.tokens, n, K);
        cb = f.cb;
        tokens = f.tokens;
        usage = f.usage;
    } else {
        if (tr)
            trace_step(tr, 1, "your %zu vectors of d = %zu; k-means with K = %zu", n, d, K);
        if ((rc = vq_kmeans(&f.fit, f.x, n, d, K, iters, args->seed, tr)))
            goto out;
        cb = f.fit.codebook;
        tokens = f.fit.tokens;
        usage = f.fit.usage;
    }
    rc = TUTOR_ENOMEM;
    if (!(f.xhat = mat_new(n, d)))
        goto out;
    vq_reconstruct(f.xhat, tokens, cb, n, d, K);
    vq_stats st;
    if ((rc = vq_stats_of(&st, f.x, tokens, cb, usage, n, d, K, 1, beta)))
        goto out;
    /* Finite inputs can still overflow a distance (1e200 squared): say so, not NaN. */
    if (!isfinite(st.mse) || !isfinite(st.codebook_loss)) {
        rc = topic_fail(out, TUTOR_ERANGE,
                        "--patches: a squared distance overflowed (values too large); scale "
                        "them down");
        goto out;
    }
    if (tr) {
        trace_step(tr, 10, "xhat_i = c_{t_i}: MSE %.4g per value", st.mse);
        if (n * d <= VQ_TRACE_MAX_CELLS)
            trace_matrix(tr, "reconstruction", f.xhat, n, d);
        trace_step(tr, 11, "MSE %.4g, perplexity %.3g of %zu codes, %zu dead", st.mse,
                   st.perplexity, K, st.dead);
        int64_t *buf = mem_alloc(K * sizeof *buf);
        if (!buf) {
            rc = TUTOR_ENOMEM;
            goto out;
        }
        for (size_t k = 0; k < K; k++)
            buf[k] = (int64_t)usage[k];
        trace_int64s(tr, "usage", buf, K);
        mem_free(buf);
        trace_real(tr, "perplexity", st.perplexity);
        trace_real(tr, "mse", st.mse);
        if ((rc = trace_status(tr)))
            goto out;
    }

    strbuf *js = &out->json;
    json_common(js, tokens, n, &st, usage, cb, K, d, f.xhat, n, d, beta);
    json_real(js, "bits_per_vector", st.bits_per_image);
    json_real(js, "entropy_bits_per_vector", st.entropy_bits);
    if (!has_cb) {
        strbuf_puts(js, ", ");
        ssmio_json_reals(js, "distortion", f.fit.distortion, f.fit.iters_run + 1);
        strbuf_printf(js, ", \"iters_run\": %zu, \"converged\": %s, \"empty_events\": %zu",
                      f.fit.iters_run, f.fit.converged ? "true" : "false", f.fit.empty_events);
    }

    strbuf *tx = &out->text;
    if (has_cb)
        strbuf_printf(tx,
                      "vq: %zu vectors of d = %zu quantised with your %zu codes (nothing "
                      "learned)\n",
                      n, d, K);
    else
        strbuf_printf(tx,
                      "vq: %zu vectors of d = %zu; k-means, K = %zu, seed %llu: %zu Lloyd "
                      "update%s (%s)\n",
                      n, d, K, (unsigned long long)args->seed, f.fit.iters_run,
                      f.fit.iters_run == 1 ? "" : "s",
                      f.fit.converged ? "converged" : "stopped by --iters");
    size_t shown = n < VQT_TOKENS ? n : VQT_TOKENS;
    strbuf_puts(tx, "result: the tokens (nearest code of each row, ties to the lowest k)");
    for (size_t i = 0; i < shown; i++)
        strbuf_printf(tx, "%s%d", i % 16 ? " " : "\n  ", tokens[i]);
    if (shown < n)
        strbuf_printf(tx, " ... (%zu in all; --json for every one)", n);
    strbuf_printf(tx, "\nMSE %.6g per value\n", st.mse);
    text_usage(tx, usage, K, &st);
    strbuf_printf(tx, "rate: log2 %zu = %.4g bit%s per vector (an entropy coder: %.4g)\n", K,
                  st.bits_per_image, st.bits_per_image == 1.0 ? "" : "s", st.entropy_bits);
    text_losses(tx, &st, beta);
    rc = js->failed ? js->failed : tx->failed;
out:
    file_run_free(&f);
    return rc;
}

static int run(const topic_args *args, trace *tr, topic_out *out)
{
    if (topic_opt_has(args, "patches"))
        return run_files(args, tr, out);
    if (topic_opt_has(args, "codebook"))
        return topic_fail(out, TUTOR_EINVAL,
                          "--codebook needs --patches (the vectors to quantise with it)");
    return run_demo(args, tr, out);
}

/* A small random run: 2..8 codes, 2..6 images of 8 or 16 pixels, patches of 2 or 4. */
static int random_input(uint64_t seed, strbuf *sb)
{
    rng r;
    rng_seed(&r, seed);
    int64_t K = rng_range(&r, 2, 8), images = rng_range(&r, 2, 6);
    int64_t side = rng_range(&r, 0, 1) ? 16 : 8, patch = rng_range(&r, 0, 1) ? 4 : 2;
    strbuf_printf(sb, "--K %lld --images %lld --side %lld --patch %lld --seed %llu", (long long)K,
                  (long long)images, (long long)side, (long long)patch,
                  (unsigned long long)rng_range(&r, 1, 1000));
    return sb->failed;
}

const topic topic_vq = {
    .id = "vq",
    .family = "Multimodal",
    .title = "Image tokens: vector quantisation",
    .summary = "k-means codebook turns image patches into tokens; rate against distortion",
    .usage =
        "Cuts a seeded set of small greyscale images (bars, discs, checkerboards, gradients,\n"
        "noise) into p x p patches, learns a codebook of K vectors by k-means (k-means++\n"
        "seeding, Lloyd updates until no token changes or --iters), and replaces each patch\n"
        "by the index of its nearest code: token = argmin_k ||x - c_k||^2, ties to the\n"
        "lowest k. A code no patch chose keeps its vector (a dead code). Reports the tokens,\n"
        "the images rebuilt from them, MSE, codebook usage and perplexity\n"
        "exp(-sum p ln p), bits per image (patches x log2 K) and the VQ-VAE terms on these\n"
        "numbers (codebook_loss = mean (sg[z] - e)^2, commitment = beta mean (z - sg[e])^2\n"
        "with z = the patches, e = their codes).\n"
        "--patches FILE: your vectors instead (numpy.savetxt text, one vector per row),\n"
        "learned on with --K, --iters, --seed; add --codebook FILE (K rows of the same\n"
        "width) to quantise with your codebook, nothing learned.\n"
        "Caps: --images x --side^2 and each file at most 2^20 values; (--iters + 2) x n x\n"
        "K x d at most 2^32 multiply-adds.\n"
        "\n"
        "json: {\"topic\": \"vq\", \"result\": [tokens], \"tokens\": [same], \"n\", \"d\", \"K\",\n"
        "       \"mse\": x, \"perplexity\": x, \"dead\": count, \"usage\": [per code],\n"
        "       \"codebook\": [[K rows]], \"reconstruction\": [[...]], \"commitment\": x,\n"
        "       \"codebook_loss\": x, \"beta\": x, ...}\n"
        "  result is the tokens: n ints in [0, K), image by image, each image's patches\n"
        "  row by row. reconstruction: the images rebuilt (one row of S*S pixels per\n"
        "  image), or with --patches the vectors rebuilt (n rows of d). Generated set\n"
        "  also: images, side, patch, per_image, kinds, image_mse, bits_per_image,\n"
        "  entropy_bits_per_image, distortion (per Lloyd round), iters_run, converged,\n"
        "  empty_events. --patches: bits_per_vector, entropy_bits_per_vector (and the\n"
        "  k-means ones without --codebook).\n"
        "examples:\n"
        "  tutor run vq\n"
        "  tutor run vq --K 64 --images 8 --seed 3\n"
        "  tutor run vq --patches patches.txt --codebook codebook.txt --json\n",
    .opts = vq_options,
    .example = "--K 16 --patch 4 --images 40 --seed 1",
    .notes = "vq.md",
    .run = run,
    .random_input = random_input,
    .plot = topic_vq_plot,
};
