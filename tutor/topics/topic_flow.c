/* topic_flow.c: the flow topic: rectified flow on a 2-D Gaussian mixture whose velocity
 * field is exact, in three modes:
 *   tutor run flow [--steps S --method euler|heun --shift s --class C --guidance w ...]
 *       sample P particles from noise by Euler or Heun and measure them against the data;
 *   tutor run flow --velocity --x "a b" --t T
 *       the exact field at one point;
 *   tutor run flow --compare [--codes K]
 *       the same small images generated from vq tokens by a bigram model and by flow on
 *       the patch vectors, side by side. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../models/bigram.h"
#include "../../models/flow.h"
#include "../../models/mat.h"
#include "../../models/vq.h"
#include "../../trace/mem.h"
#include "../../trace/rng.h"
#include "../../trace/status.h"
#include "../core/parse.h"
#include "ssmio.h"
#include "topic.h"

/* Caps of the command line, refused up front (the library's own are far larger). */
#define FT_MAX_PARTICLES 100000u
#define FT_MAX_STEPS     10000u
/* Field evaluations times components: about a second of work. */
#define FT_MAX_WORK ((double)(1u << 28))
/* The seeded default mixture. */
#define FT_DEFAULT_K 4
/* The scatter drawn in the text output: columns x rows of characters over [-5, 5]^2. */
#define FT_PLOT_W 56
#define FT_PLOT_H 18
#define FT_PLOT_R 5.0
/* Coordinates and sigmas of the mixture and of --x: squared distances of values this size
 * stay far from overflow, and no demo needs more. */
#define FT_MAX_ABS 1e6
/* --guidance within +-FT_MAX_GUIDANCE: beyond, a few steps throw the particles past any
 * useful range. */
#define FT_MAX_GUIDANCE 100.0

/* --compare: the image set, the codebook, the samples shown. */
#define CMP_IMAGES 64
#define CMP_SIDE   16
#define CMP_PATCH  4
#define CMP_SHOW   4
/* The trace's strips hold 2 images (16 x 33), which the 80-column UI shows whole. */
#define CMP_TRACE_SHOW 2
#define CMP_KMEANS_IT  50
#define CMP_EM_IT      100
#define CMP_ALPHA      0.1
#define CMP_MAX_CODES  256
/* The noise and the bigram draws use their own streams of --seed. */
#define CMP_NOISE_STREAM  0x9E3779B97F4A7C15ULL
#define CMP_BIGRAM_STREAM 0xD1B54A32D192ED03ULL
#define CMP_HELD_STREAM   0x94D049BB133111EBULL

static const topic_optspec flow_opts[] = {
    {"steps", 1, "integration steps S, >= 1 (default 32)"},
    {"method", 1, "euler (default) | heun"},
    {"shift", 1, "time shift s > 0: s t / (1 + (s - 1) t) (default 1)"},
    {"class", 1, "the class: component C of the mixture (0-based)"},
    {"guidance", 1, "with --class: v_u + w (v_c - v_u); alone: w = 1"},
    {"particles", 1, "particles P (default 256, at most 100000)"},
    {"mixture", 1, "file, rows `weight mu_x mu_y sigma` (default: seeded)"},
    {"velocity", 0, "print the exact field at one point (--x, --t)"},
    {"x", TOPIC_LIST, "--velocity: the point, two numbers \"a b\""},
    {"t", 1, "--velocity: the time, in [0, 1]"},
    {"compare", 0, "tokens (vq + bigram) against flow on image patches"},
    {"codes", 1, "--compare: codes = components, 2^1..2^8 (default 16)"},
    {NULL, 0, NULL},
};

/* Options each mode takes; the others are refused so a typo is never ignored. */
enum { M_SAMPLE = 1, M_VELOCITY = 2, M_COMPARE = 4 };
static const struct {
    const char *name;
    unsigned modes;
} applies[] = {
    {"steps", M_SAMPLE | M_COMPARE},
    {"method", M_SAMPLE | M_COMPARE},
    {"shift", M_SAMPLE | M_COMPARE},
    {"class", M_SAMPLE},
    {"guidance", M_SAMPLE},
    {"particles", M_SAMPLE},
    {"mixture", M_SAMPLE | M_VELOCITY},
    {"x", M_VELOCITY},
    {"t", M_VELOCITY},
    {"codes", M_COMPARE},
};
static const char *const mode_names[] = {"", "sampling", "--velocity", "", "--compare"};

static int check_applies(const topic_args *args, unsigned mode, topic_out *out)
{
    for (size_t i = 0; i < sizeof applies / sizeof applies[0]; i++)
        if (topic_opt_has(args, applies[i].name) && !(applies[i].modes & mode))
            return topic_fail(out, TUTOR_EINVAL,
                              "--%s does not apply to %s (see 'tutor help flow')", applies[i].name,
                              mode_names[mode]);
    return 0;
}

/* ---- reading options ---- */

/* Parses --x: exactly two finite numbers within FT_MAX_ABS (a list as parse_reals reads
 * it: spaces, tabs, newlines or commas, @FILE or - too). */
static int parse_point(const char *s, double *x, topic_out *out)
{
    double *v = NULL;
    size_t n = 0;
    int rc = parse_reals(s, "--x", 2, &v, &n, out->err, sizeof out->err);
    if (rc == TUTOR_ETOOBIG)
        rc = topic_fail(out, TUTOR_EINVAL, "--x: more than two numbers (the data is 2-D)");
    else if (!rc && n != 2)
        rc = topic_fail(out, TUTOR_EINVAL, "--x: expected two numbers \"a b\", got %zu", n);
    for (size_t i = 0; !rc && i < 2; i++)
        if (fabs(v[i]) > FT_MAX_ABS)
            rc = topic_fail(out, TUTOR_ERANGE, "--x: %g: values must be within 1e6", v[i]);
    if (!rc)
        memcpy(x, v, 2 * sizeof *x);
    mem_free(v);
    return rc;
}

/* The mixture: --mixture FILE, else FT_DEFAULT_K components from the seed. */
static int get_mixture(const topic_args *args, flow_mixture *m, topic_out *out)
{
    const char *path = topic_opt_get(args, "mixture");
    if (!path)
        return flow_mixture_default(m, FT_DEFAULT_K, args->seed);
    char msg[200];
    int rc = flow_mixture_load(m, path, msg, sizeof msg);
    if (rc == TUTOR_ENOMEM)
        return rc;
    if (rc)
        return topic_fail(out, rc == TUTOR_ENOTFOUND || rc == TUTOR_EIO ? TUTOR_EINVAL : rc,
                          "--mixture: %s", msg);
    for (size_t j = 0; j < m->k; j++)
        if (fabs(m->mean[2 * j]) > FT_MAX_ABS || fabs(m->mean[2 * j + 1]) > FT_MAX_ABS ||
            m->sigma[j] > FT_MAX_ABS) {
            flow_mixture_free(m);
            return topic_fail(out, TUTOR_ERANGE,
                              "--mixture: %s: component %zu: means and sigma must be within 1e6",
                              path, j + 1);
        }
    return 0;
}

static int get_method(const topic_args *args, flow_method *method, topic_out *out)
{
    const char *s = topic_opt_get(args, "method");
    *method = FLOW_EULER;
    if (!s || strcmp(s, "euler") == 0)
        return 0;
    if (strcmp(s, "heun") == 0) {
        *method = FLOW_HEUN;
        return 0;
    }
    return topic_fail(out, TUTOR_EINVAL, "--method: expected euler or heun, got '%.40s'", s);
}

/* --steps, --method, --shift into o (no guidance). */
static int get_sampler(const topic_args *args, flow_sample_opts *o, topic_out *out)
{
    flow_sample_opts_default(o);
    int rc =
        ssmio_size(args, "steps", o->steps, 1, FT_MAX_STEPS, &o->steps, out->err, sizeof out->err);
    if (!rc)
        rc = get_method(args, &o->method, out);
    if (!rc)
        rc = ssmio_real(args, "shift", 1.0, 0.0, 1, 1e6, &o->shift, out->err, sizeof out->err);
    return rc;
}

static const char *method_name(flow_method m)
{
    return m == FLOW_HEUN ? "heun" : "euler";
}

/* ---- output helpers ---- */

static void json_mixture(strbuf *sb, const flow_mixture *m)
{
    strbuf_puts(sb, "{");
    ssmio_json_reals(sb, "weight", m->weight, m->k);
    strbuf_puts(sb, ", \"mean\": ");
    mat_json(sb, m->mean, m->k, m->d);
    strbuf_puts(sb, ", ");
    ssmio_json_reals(sb, "sigma", m->sigma, m->k);
    strbuf_puts(sb, "}");
}

static void text_mixture(strbuf *sb, const flow_mixture *m, const double *frac)
{
    strbuf_printf(sb, "  %-4s %8s %9s %9s %7s%s\n", "k", "weight", "mu_x", "mu_y", "sigma",
                  frac ? "  samples" : "");
    for (size_t j = 0; j < m->k; j++) {
        strbuf_printf(sb, "  %-4zu %8.4f %9.4g %9.4g %7.4g", j, m->weight[j], m->mean[2 * j],
                      m->mean[2 * j + 1], m->sigma[j]);
        if (frac)
            strbuf_printf(sb, "  %7.4f", frac[j]);
        strbuf_putc(sb, '\n');
    }
}

/* A character scatter of the points over [-R, R]^2: '.', ':', '*', '#' by count, the
 * component means as digits (their index mod 10). */
static void text_scatter(strbuf *sb, const double *x, size_t n, const flow_mixture *m)
{
    int cell[FT_PLOT_H][FT_PLOT_W] = {{0}};
    for (size_t p = 0; p < n; p++) {
        double cx = (x[2 * p] + FT_PLOT_R) / (2 * FT_PLOT_R) * FT_PLOT_W;
        double cy = (FT_PLOT_R - x[2 * p + 1]) / (2 * FT_PLOT_R) * FT_PLOT_H;
        if (cx >= 0 && cx < FT_PLOT_W && cy >= 0 && cy < FT_PLOT_H)
            cell[(int)cy][(int)cx]++;
    }
    char grid[FT_PLOT_H][FT_PLOT_W + 1];
    for (int r = 0; r < FT_PLOT_H; r++) {
        for (int c = 0; c < FT_PLOT_W; c++) {
            int k = cell[r][c];
            grid[r][c] = k == 0 ? ' ' : k == 1 ? '.' : k <= 3 ? ':' : k <= 8 ? '*' : '#';
        }
        grid[r][FT_PLOT_W] = '\0';
    }
    for (size_t j = 0; j < m->k; j++) {
        double cx = (m->mean[2 * j] + FT_PLOT_R) / (2 * FT_PLOT_R) * FT_PLOT_W;
        double cy = (FT_PLOT_R - m->mean[2 * j + 1]) / (2 * FT_PLOT_R) * FT_PLOT_H;
        if (cx >= 0 && cx < FT_PLOT_W && cy >= 0 && cy < FT_PLOT_H)
            grid[(int)cy][(int)cx] = (char)('0' + j % 10);
    }
    strbuf_printf(sb, "  +%.*s+ y = %g\n", FT_PLOT_W,
                  "--------------------------------------------------------", FT_PLOT_R);
    for (int r = 0; r < FT_PLOT_H; r++)
        strbuf_printf(sb, "  |%s|\n", grid[r]);
    strbuf_printf(sb, "  +%.*s+ y = %g\n", FT_PLOT_W,
                  "--------------------------------------------------------", -FT_PLOT_R);
    strbuf_printf(sb, "   x = %g%*sx = %g\n   digits: the component means\n", -FT_PLOT_R,
                  FT_PLOT_W - 10, "", FT_PLOT_R);
}

/* ---- --velocity ---- */

static int run_velocity(const topic_args *args, trace *tr, topic_out *out)
{
    if (!topic_opt_has(args, "x") || !topic_opt_has(args, "t"))
        return topic_fail(out, TUTOR_EINVAL, "--velocity needs --x \"a b\" and --t T");
    double x[2], t;
    int rc = parse_point(topic_opt_get(args, "x"), x, out);
    if (!rc)
        rc = ssmio_real(args, "t", 0.0, 0.0, 0, 1.0, &t, out->err, sizeof out->err);
    if (rc)
        return rc;
    flow_mixture m = {0};
    if ((rc = get_mixture(args, &m, out)))
        return rc;
    double v[2], post[FLOW_MAX_COMPONENTS];
    trace_set_listing(tr, flow_velocity_listing, flow_velocity_listing_len);
    rc = flow_velocity(v, post, &m, x, t, tr);
    if (rc)
        goto out;
    strbuf_puts(&out->json, "\"mode\": \"velocity\", ");
    ssmio_json_reals(&out->json, "x", x, 2);
    strbuf_puts(&out->json, ", \"t\": ");
    strbuf_json_double(&out->json, t);
    strbuf_puts(&out->json, ", ");
    ssmio_json_reals(&out->json, "velocity", v, 2);
    strbuf_puts(&out->json, ", ");
    ssmio_json_reals(&out->json, "posterior", post, m.k);
    strbuf_puts(&out->json, ", \"mixture\": ");
    json_mixture(&out->json, &m);
    strbuf_puts(&out->json, ", ");
    ssmio_json_reals(&out->json, "result", v, 2);
    strbuf_printf(&out->text, "exact field at x = (%.6g, %.6g), t = %.6g:\n", x[0], x[1], t);
    strbuf_printf(&out->text, "  v = (%.10g, %.10g)\n", v[0], v[1]);
    strbuf_puts(&out->text, "posterior weight of each component (w_k):\n");
    for (size_t j = 0; j < m.k; j++)
        strbuf_printf(&out->text, "  %zu: %.6g\n", j, post[j]);
    rc = out->json.failed ? out->json.failed : out->text.failed;
out:
    flow_mixture_free(&m);
    return rc;
}

/* ---- sampling ---- */

static int run_sample(const topic_args *args, trace *tr, topic_out *out)
{
    flow_sample_opts o;
    size_t P = 256, cls = 0;
    int has_class = topic_opt_has(args, "class"), has_w = topic_opt_has(args, "guidance");
    double w = 1.0;
    int rc = get_sampler(args, &o, out);
    if (!rc)
        rc = ssmio_size(args, "particles", P, 1, FT_MAX_PARTICLES, &P, out->err, sizeof out->err);
    if (!rc && has_w && !has_class)
        rc = topic_fail(out, TUTOR_EINVAL, "--guidance needs --class C (the class to guide to)");
    if (!rc)
        rc = ssmio_real(args, "guidance", 1.0, -FT_MAX_GUIDANCE, 0, FT_MAX_GUIDANCE, &w, out->err,
                        sizeof out->err);
    if (rc)
        return rc;
    flow_mixture m = {0}, c = {0};
    double *x = NULL;
    if ((rc = get_mixture(args, &m, out)))
        return rc;
    if (has_class &&
        (rc = ssmio_size(args, "class", 0, 0, m.k - 1, &cls, out->err, sizeof out->err))) {
        if (rc == TUTOR_ETOOBIG) /* "too big" reads oddly for an index */
            snprintf(out->err, sizeof out->err, "--class: %s is not a component (0..%zu)",
                     topic_opt_get(args, "class"), m.k - 1);
        goto out;
    }
    double evals = (double)o.steps * (o.method == FLOW_HEUN ? 2.0 : 1.0) * (double)P *
                   (double)(m.k + (has_class ? 1 : 0));
    if (evals > FT_MAX_WORK) {
        rc = topic_fail(out, TUTOR_ETOOBIG,
                        "--steps x --particles: %zu x %zu is too much work for %zu components "
                        "(at most about %.0f field terms)",
                        o.steps, P, m.k, FT_MAX_WORK);
        goto out;
    }
    if (has_class && (rc = flow_mixture_class(&c, &m, &cls, 1)))
        goto out;
    /* --class alone samples the class's own field (the conditional model); with --guidance
     * the unconditional field is pushed towards it. w = 1 gives the class's field again. */
    const flow_mixture *model = has_class && !has_w ? &c : &m;
    if (has_w) {
        o.cond = &c;
        o.guidance = w;
    }
    rc = TUTOR_ENOMEM;
    if (!(x = mat_new(P, 2)))
        goto out;
    flow_noise(x, P, 2, args->seed);
    trace_set_listing(tr, flow_sample_listing, flow_sample_listing_len);
    rc = flow_sample(x, NULL, model, &o, P, tr);
    /* The inputs were checked, so TUTOR_EINVAL here means a step left the doubles
     * (particles at infinity); say so rather than "invalid argument". */
    for (size_t i = 0; !rc && i < 2 * P; i++)
        if (!isfinite(x[i]))
            rc = TUTOR_EINVAL;
    if (rc == TUTOR_EINVAL)
        rc = topic_fail(out, TUTOR_ERANGE,
                        "the particles overflowed: lower --guidance or move --shift towards 1");
    if (rc)
        goto out;
    double mean_dist, tv, frac[FLOW_MAX_COMPONENTS], mean[2], spread;
    flow_quality(&mean_dist, frac, &tv, &m, x, P, FLOW_NEAREST);
    flow_moments(mean, NULL, &spread, x, P, 2);

    strbuf *js = &out->json, *tx = &out->text;
    strbuf_printf(js, "\"mode\": \"sample\", \"S\": %zu, \"method\": \"%s\", \"shift\": ", o.steps,
                  method_name(o.method));
    strbuf_json_double(js, o.shift);
    if (has_class)
        strbuf_printf(js, ", \"class\": %zu", cls);
    if (has_w) {
        strbuf_puts(js, ", \"guidance\": ");
        strbuf_json_double(js, w);
    }
    strbuf_printf(js, ", \"particles\": %zu, \"mixture\": ", P);
    json_mixture(js, &m);
    strbuf_puts(js, ", \"quality\": {\"mean_dist\": ");
    strbuf_json_double(js, mean_dist);
    strbuf_puts(js, ", ");
    ssmio_json_reals(js, "frac", frac, m.k);
    strbuf_puts(js, ", \"tv\": ");
    strbuf_json_double(js, tv);
    strbuf_puts(js, ", ");
    ssmio_json_reals(js, "mean", mean, 2);
    strbuf_puts(js, ", \"spread\": ");
    strbuf_json_double(js, spread);
    strbuf_puts(js, "}, \"result\": ");
    mat_json(js, x, P, 2);

    strbuf_printf(tx, "flow: %zu particles, %zu %s step%s, shift %g", P, o.steps,
                  method_name(o.method), o.steps == 1 ? "" : "s", o.shift);
    if (has_class && has_w)
        strbuf_printf(tx, ", class %zu with guidance w = %g", cls, w);
    else if (has_class)
        strbuf_printf(tx, ", class %zu", cls);
    strbuf_printf(tx, "\nmixture (%zu components%s); samples: the share nearest each mean\n", m.k,
                  topic_opt_has(args, "mixture") ? "" : ", seeded default");
    text_mixture(tx, &m, frac);
    strbuf_printf(tx,
                  "mean distance to the nearest mean %.4g; total variation of the shares %.4g\n"
                  "sample mean (%.4g, %.4g); spread (mean squared distance to it) %.4g\n",
                  mean_dist, tv, mean[0], mean[1], spread);
    text_scatter(tx, x, P, &m);
    rc = js->failed ? js->failed : tx->failed;
out:
    mat_free(x);
    flow_mixture_free(&m);
    flow_mixture_free(&c);
    return rc;
}

/* ---- --compare ---- */

/* Short lines: the UI's listing pane is about 32 columns wide. */
static const char *const compare_listing[] = {
    "patches = 4x4 cuts of images",    "codes, tokens = kmeans(patches)",
    "floor = vq rate-distortion at K", "bigram = pair counts of tokens",
    "(a) tokens ~ bigram; decode",     "mixture = EM(patches, K)",
    "(b) patches = flow(noise, S)",    "score: mse to nearest real",
};

typedef struct compare_state {
    double *images, *patches, *held, *held_patches, *recon_img, *gen, *gen_img;
    double *dist, *strip;
    int *tokens_gen, *nn_tok;
    vq_fit fit;
    bigram bg;
    flow_mixture gmm;
} compare_state;

static void compare_free(compare_state *s)
{
    double *reals[] = {s->images, s->patches, s->held, s->held_patches, s->recon_img,
                       s->gen,    s->gen_img, s->dist, s->strip};
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++)
        mem_free(reals[i]);
    mem_free(s->tokens_gen);
    mem_free(s->nn_tok);
    vq_fit_free(&s->fit);
    bigram_free(&s->bg);
    flow_mixture_free(&s->gmm);
}

/* strip (side, CMP_TRACE_SHOW side + CMP_TRACE_SHOW - 1): the first CMP_TRACE_SHOW images
 * side by side, a NaN column between them (a blank in heatmaps). */
static void make_strip(double *strip, const double *images)
{
    size_t w = CMP_TRACE_SHOW * CMP_SIDE + CMP_TRACE_SHOW - 1;
    for (size_t r = 0; r < CMP_SIDE; r++)
        for (size_t c = 0; c < w; c++) {
            size_t img = c / (CMP_SIDE + 1), col = c % (CMP_SIDE + 1);
            strip[r * w + c] =
                col == CMP_SIDE ? NAN : images[img * CMP_SIDE * CMP_SIDE + r * CMP_SIDE + col];
        }
}

/* Mean over n patches of the squared distance to the nearest of the ref patches, per
 * value: vq_assign with the real patches as the codebook. */
static int nearest_mse(double *mse, compare_state *s, const double *x, size_t n, const double *ref,
                       size_t nref)
{
    size_t d = CMP_PATCH * CMP_PATCH;
    int rc = vq_assign(s->nn_tok, s->dist, x, ref, n, d, nref, NULL);
    if (rc)
        return rc;
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += s->dist[i];
    *mse = total / ((double)n * (double)d);
    return 0;
}

static void text_strip(strbuf *sb, const char *title, const double *images)
{
    static const char ramp[] = " .:-=+*#%@";
    strbuf_printf(sb, "%s\n", title);
    for (size_t r = 0; r < CMP_SIDE; r++) {
        strbuf_puts(sb, "  ");
        for (size_t img = 0; img < CMP_SHOW; img++) {
            for (size_t c = 0; c < CMP_SIDE; c++) {
                double v = images[img * CMP_SIDE * CMP_SIDE + r * CMP_SIDE + c];
                v = v < 0 ? 0 : v > 1 ? 1 : v;
                strbuf_putc(sb, ramp[(int)lround(v * 9)]);
            }
            strbuf_puts(sb, img + 1 < CMP_SHOW ? "  " : "\n");
        }
    }
}

static void json_images(strbuf *sb, const char *name, const double *images)
{
    strbuf_json_str(sb, name);
    strbuf_puts(sb, ": [");
    for (size_t img = 0; img < CMP_SHOW; img++) {
        strbuf_puts(sb, img ? ", " : "");
        mat_json(sb, images + img * CMP_SIDE * CMP_SIDE, CMP_SIDE, CMP_SIDE);
    }
    strbuf_putc(sb, ']');
}

static int run_compare(const topic_args *args, trace *tr, topic_out *out)
{
    flow_sample_opts o;
    size_t K = 16;
    int rc = get_sampler(args, &o, out);
    if (!rc)
        rc = ssmio_size(args, "codes", K, 2, CMP_MAX_CODES, &K, out->err, sizeof out->err);
    if (rc)
        return rc;
    if (K & (K - 1))
        return topic_fail(out, TUTOR_EINVAL, "--codes: %zu is not a power of two (2, 4 .. 256)", K);
    const size_t side = CMP_SIDE, p = CMP_PATCH, d = p * p, pix = side * side;
    const size_t per = (side / p) * (side / p), n = CMP_IMAGES * per, ng = CMP_SHOW * per;
    const size_t wstrip = CMP_TRACE_SHOW * side + CMP_TRACE_SHOW - 1;
    compare_state s = {0};
    rc = TUTOR_ENOMEM;
    if (!(s.images = mat_new(CMP_IMAGES, pix)) || !(s.patches = mat_new(n, d)) ||
        !(s.held = mat_new(CMP_SHOW, pix)) || !(s.held_patches = mat_new(ng, d)) ||
        !(s.recon_img = mat_new(CMP_IMAGES, pix)) || !(s.gen = mat_new(ng, d)) ||
        !(s.gen_img = mat_new(2 * CMP_SHOW, pix)) || !(s.dist = mem_alloc(n * sizeof *s.dist)) ||
        !(s.strip = mat_new(side, wstrip)) ||
        !(s.tokens_gen = mem_alloc(ng * sizeof *s.tokens_gen)) ||
        !(s.nn_tok = mem_alloc(n * sizeof *s.nn_tok)))
        goto out;
    trace_set_listing(tr, compare_listing, sizeof compare_listing / sizeof compare_listing[0]);

    /* Lines 1-3: the data, the tokens and the floor. */
    uint64_t seed = args->seed;
    if ((rc = vq_images(s.images, NULL, CMP_IMAGES, side, seed)) ||
        (rc = vq_patchify(s.patches, s.images, CMP_IMAGES, side, p)) ||
        (rc = vq_images(s.held, NULL, CMP_SHOW, side, seed ^ CMP_HELD_STREAM)) ||
        (rc = vq_patchify(s.held_patches, s.held, CMP_SHOW, side, p)))
        goto out;
    if (tr) {
        make_strip(s.strip, s.images);
        trace_step(tr, 1, "%d images %zux%zu -> %zu patches of %zu values (2 shown)", CMP_IMAGES,
                   side, side, n, d);
        trace_matrix(tr, "real", s.strip, side, wstrip);
    }
    if ((rc = vq_kmeans(&s.fit, s.patches, n, d, K, CMP_KMEANS_IT, seed, NULL)) ||
        (rc = vq_reconstruct(s.gen, s.fit.tokens, s.fit.codebook, ng, d, K)) ||
        (rc = vq_unpatchify(s.recon_img, s.gen, CMP_SHOW, side, p)))
        goto out;
    double recon_mse = s.fit.distortion[s.fit.iters_run];
    if (tr) {
        make_strip(s.strip, s.recon_img);
        trace_step(tr, 2, "k-means, K = %zu codes: each patch -> its nearest code (mse %.4g)", K,
                   recon_mse);
        trace_matrix(tr, "recon", s.strip, side, wstrip);
        trace_ints(tr, "tokens", s.fit.tokens, per);
    }
    vq_rd_point rd[VQ_RD_MAX];
    size_t nrd = 0;
    if ((rc = vq_rate_distortion(rd, &nrd, s.patches, n, d, per, K, CMP_KMEANS_IT, seed)))
        goto out;
    double floor_mse = rd[nrd - 1].mse, rd_mse[VQ_RD_MAX], rd_bits[VQ_RD_MAX];
    for (size_t i = 0; i < nrd; i++) {
        rd_mse[i] = rd[i].mse;
        rd_bits[i] = rd[i].bits_per_image;
    }
    if (tr) {
        trace_step(tr, 3,
                   "floor: K = %zu codes (%.0f bits an image) rebuild the images at mse %.4g", K,
                   rd[nrd - 1].bits_per_image, floor_mse);
        trace_reals(tr, "rd_mse", rd_mse, nrd);
    }

    /* Lines 4-5: the discrete side. Tokens are in raster order inside each image, so an
     * image is one sequence of `per` tokens. */
    if ((rc = bigram_fit(&s.bg, s.fit.tokens, CMP_IMAGES, per, K, CMP_ALPHA)))
        goto out;
    if (tr) {
        trace_step(tr, 4, "bigram fitted on %d sequences of %zu tokens (add-%g smoothing)",
                   CMP_IMAGES, per, CMP_ALPHA);
        trace_matrix(tr, "trans", s.bg.trans, K <= 16 ? K : 16, K <= 16 ? K : 16);
    }
    rng r;
    rng_seed(&r, seed ^ CMP_BIGRAM_STREAM);
    if ((rc = bigram_sample(s.tokens_gen, &s.bg, CMP_SHOW, per, &r)) ||
        (rc = vq_reconstruct(s.gen, s.tokens_gen, s.fit.codebook, ng, d, K)) ||
        (rc = vq_unpatchify(s.gen_img, s.gen, CMP_SHOW, side, p)))
        goto out;
    double bigram_nn;
    if ((rc = nearest_mse(&bigram_nn, &s, s.gen, ng, s.patches, n)))
        goto out;
    if (tr) {
        make_strip(s.strip, s.gen_img);
        trace_step(tr, 5, "images sampled token by token, decoded by the codebook");
        trace_matrix(tr, "bigram", s.strip, side, wstrip);
        trace_ints(tr, "tokens", s.tokens_gen, per);
    }

    /* Lines 6-7: the continuous side, the same budget K as mixture components. */
    size_t iters = 0;
    if ((rc = flow_gmm_fit(&s.gmm, NULL, &iters, s.patches, n, d, K, CMP_EM_IT, 1e-6, 1e-3, seed)))
        goto out;
    double ll;
    flow_mixture_loglik(&ll, &s.gmm, s.patches, n);
    if (tr) {
        trace_step(tr, 6, "EM: %zu components in %zu dimensions, %zu iterations, log-lik %.4g", K,
                   d, iters, ll);
        trace_reals(tr, "sigma", s.gmm.sigma, K);
    }
    if ((rc = flow_noise(s.gen, ng, d, seed ^ CMP_NOISE_STREAM)) ||
        (rc = flow_sample(s.gen, NULL, &s.gmm, &o, ng, NULL)) ||
        (rc = vq_unpatchify(s.gen_img + CMP_SHOW * pix, s.gen, CMP_SHOW, side, p)))
        goto out;
    double flow_nn, held_nn;
    if ((rc = nearest_mse(&flow_nn, &s, s.gen, ng, s.patches, n)))
        goto out;
    if (tr) {
        make_strip(s.strip, s.gen_img + CMP_SHOW * pix);
        trace_step(tr, 7, "%zu patches integrated from noise, %zu %s steps, together", ng, o.steps,
                   method_name(o.method));
        trace_matrix(tr, "flow", s.strip, side, wstrip);
    }
    if ((rc = nearest_mse(&held_nn, &s, s.held_patches, ng, s.patches, n)))
        goto out;
    if (tr) {
        double cmp[4] = {held_nn, floor_mse, bigram_nn, flow_nn};
        trace_step(tr, 8, "mse: new real %.2g, floor %.2g, (a) bigram %.2g, (b) flow %.2g", held_nn,
                   floor_mse, bigram_nn, flow_nn);
        trace_reals(tr, "scores", cmp, 4);
        if ((rc = trace_status(tr)))
            goto out;
    }

    strbuf *js = &out->json, *tx = &out->text;
    strbuf_printf(js,
                  "\"mode\": \"compare\", \"codes\": %zu, \"images\": %d, \"side\": %zu, "
                  "\"patch\": %zu, \"S\": %zu, \"method\": \"%s\", \"result\": {\"floor_mse\": ",
                  K, CMP_IMAGES, side, p, o.steps, method_name(o.method));
    strbuf_json_double(js, floor_mse);
    strbuf_puts(js, ", \"recon_mse\": ");
    strbuf_json_double(js, recon_mse);
    strbuf_puts(js, ", \"bigram_nn_mse\": ");
    strbuf_json_double(js, bigram_nn);
    strbuf_puts(js, ", \"flow_nn_mse\": ");
    strbuf_json_double(js, flow_nn);
    strbuf_puts(js, ", \"held_out_nn_mse\": ");
    strbuf_json_double(js, held_nn);
    strbuf_puts(js, ", \"flow_loglik\": ");
    strbuf_json_double(js, ll);
    strbuf_puts(js, "}, \"rate_distortion\": {");
    ssmio_json_reals(js, "bits_per_image", rd_bits, nrd);
    strbuf_puts(js, ", ");
    ssmio_json_reals(js, "mse", rd_mse, nrd);
    strbuf_puts(js, "}, \"samples\": {");
    json_images(js, "real", s.images);
    strbuf_puts(js, ", ");
    json_images(js, "recon", s.recon_img);
    strbuf_puts(js, ", ");
    json_images(js, "bigram", s.gen_img);
    strbuf_puts(js, ", ");
    json_images(js, "flow", s.gen_img + CMP_SHOW * pix);
    strbuf_putc(js, '}');

    strbuf_printf(tx,
                  "discrete against continuous on %d procedural %zux%zu images, %zux%zu patches, "
                  "K = %zu\n",
                  CMP_IMAGES, side, side, p, p, K);
    text_strip(tx, "real images:", s.images);
    text_strip(tx, "their vq reconstructions (the best tokens can do):", s.recon_img);
    text_strip(tx, "(a) bigram over tokens, decoded:", s.gen_img);
    text_strip(tx, "(b) flow on the patch vectors:", s.gen_img + CMP_SHOW * pix);
    strbuf_printf(tx,
                  "reconstruction floor of (a), vq rate-distortion at K = %zu: mse %.4g per "
                  "value\n(this run's codebook: %.4g)\n",
                  K, floor_mse, recon_mse);
    strbuf_printf(tx,
                  "mean squared distance to the nearest real patch, per value:\n"
                  "  new real images %.4g   (a) bigram %.4g   (b) flow %.4g\n",
                  held_nn, bigram_nn, flow_nn);
    strbuf_printf(tx, "flow: %zu-component mixture by EM (%zu iterations), %zu %s steps\n", K,
                  iters, o.steps, method_name(o.method));
    rc = js->failed ? js->failed : tx->failed;
out:
    compare_free(&s);
    return rc;
}

static int run(const topic_args *args, trace *tr, topic_out *out)
{
    int vel = topic_opt_has(args, "velocity"), cmp = topic_opt_has(args, "compare");
    if (vel && cmp)
        return topic_fail(out, TUTOR_EINVAL, "--velocity and --compare exclude each other");
    unsigned mode = vel ? M_VELOCITY : cmp ? M_COMPARE : M_SAMPLE;
    int rc = check_applies(args, mode, out);
    if (rc)
        return rc;
    return vel   ? run_velocity(args, tr, out)
           : cmp ? run_compare(args, tr, out)
                 : run_sample(args, tr, out);
}

/* A small sampling run: few steps so the particles visibly miss, sometimes Heun, a shift,
 * or a class with guidance. */
static int random_input(uint64_t seed, strbuf *sb)
{
    rng r;
    rng_seed(&r, seed);
    static const int steps[] = {1, 2, 4, 8, 16};
    strbuf_printf(sb, "--steps %d --particles %lld --seed %llu", steps[rng_range(&r, 0, 4)],
                  (long long)rng_range(&r, 16, 200), (unsigned long long)rng_range(&r, 1, 1000));
    if (rng_range(&r, 0, 2) == 0)
        strbuf_puts(sb, " --method heun");
    if (rng_range(&r, 0, 2) == 0)
        strbuf_puts(sb, " --shift 3");
    if (rng_range(&r, 0, 2) == 0)
        strbuf_printf(sb, " --class %lld --guidance %lld", (long long)rng_range(&r, 0, 3),
                      (long long)rng_range(&r, 1, 4));
    return sb->failed;
}

const topic topic_flow = {
    .id = "flow",
    .family = "Multimodal",
    .title = "Rectified flow: generating by integrating a velocity field",
    .summary = "noise to data along the exact field of a Gaussian mixture; tokens vs flow",
    .usage = "Rectified flow: x_t = (1 - t) x0 + t x1, x0 ~ N(0, I) noise at t = 0, x1 data\n"
             "at t = 1; the field v(x, t) = E[x1 - x0 | x_t = x] is exact for a Gaussian\n"
             "mixture, so sampling is integrating it from t = 0 to 1. Three modes:\n"
             "  (default)   P particles from noise, S Euler or Heun steps on the grid\n"
             "              t_i = shift(i / S); quality against the mixture\n"
             "  --velocity  the exact field at one point: --x \"a b\" --t T\n"
             "  --compare   the same small images generated (a) from vq tokens by a bigram\n"
             "              model, decoded by the codebook, and (b) by flow on the 4x4\n"
             "              patch vectors with a K-component mixture fitted by EM\n"
             "Mixture file: one component per row `weight mu_x mu_y sigma` (weights > 0,\n"
             "normalised; sigma > 0; `#` comments). Default: 4 components from --seed.\n"
             "--class C: component C (0-based) is the class. Alone it samples the class's\n"
             "own field; with --guidance w the field is v_u + w (v_c - v_u) (w = 1: the\n"
             "same as --class alone, w > 1: less diverse). --seed draws the noise too.\n"
             "Caps: P <= 100000, S <= 10000, S P K <= 2^28 (Heun counts S twice); means,\n"
             "sigmas and --x within 1e6; |w| <= 100.\n"
             "\n"
             "json: {\"topic\": \"flow\", \"mode\": \"sample\", \"S\": S, \"method\": M,\n"
             "       \"shift\": s, [\"class\": C, \"guidance\": w,] \"particles\": P,\n"
             "       \"mixture\": {\"weight\": [..], \"mean\": [[mx, my]..], \"sigma\": [..]},\n"
             "       \"quality\": {\"mean_dist\": D, \"frac\": [..], \"tv\": T, \"mean\": [..],\n"
             "       \"spread\": V}, \"result\": [[x, y]...]}\n"
             "      --velocity: {\"topic\": \"flow\", \"mode\": \"velocity\", \"x\": [a, b],\n"
             "       \"t\": T, \"velocity\": [vx, vy], \"posterior\": [..], \"mixture\": {..},\n"
             "       \"result\": [vx, vy]}\n"
             "      --compare: {\"topic\": \"flow\", \"mode\": \"compare\", \"codes\": K, ...,\n"
             "       \"result\": {\"floor_mse\", \"recon_mse\", \"bigram_nn_mse\",\n"
             "       \"flow_nn_mse\", \"held_out_nn_mse\", \"flow_loglik\"},\n"
             "       \"rate_distortion\": {\"bits_per_image\": [..], \"mse\": [..]},\n"
             "       \"samples\": {\"real\", \"recon\", \"bigram\", \"flow\": 4 images 16x16}}\n",
    .opts = flow_opts,
    .example = "--steps 8 --particles 200",
    .notes = "flow.md",
    .run = run,
    .random_input = random_input,
    .plot = topic_flow_plot,
};
