/* topic_attention.c: the attention topic, one topic with eight variants:
 * `tutor run attention --variant softmax --n 6 --d 4 --seed 1`. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../models/attention.h"
#include "../../models/attn_gau.h"
#include "../../models/attn_linear.h"
#include "../../models/mat.h"
#include "../../trace/mem.h"
#include "../../trace/rng.h"
#include "../../trace/status.h"
#include "../core/parse.h"
#include "topic.h"

/* Caps, refused up front: n x n doubles at n = 2048 are 32 MB per matrix, and the slow
 * parts (traces, the exact matrix Performer is compared with) stay within seconds. */
#define ATT_MAX_N  2048
#define ATT_MAX_D  512
#define ATT_MAX_DM 256
#define ATT_MAX_M  4096
/* Matrices printed in full up to this size; bigger ones are cut and summarised. */
#define ATT_SHOW 8
/* The weights and random features come from the seed through a second stream, so drawing
 * them does not change Q, K, V (and the same seed gives the same inputs in every variant). */
#define ATT_WEIGHT_STREAM 0x5851F42D4C957F2DULL

enum variant { V_SOFTMAX, V_SPARSE, V_LINEAR, V_PERFORMER, V_GAU, V_FLASH, V_NORM, V_DIAG };

static const char *const variant_names[] = {"softmax", "sparse", "linear",      "performer",
                                            "gau",     "flash",  "transnormer", "diag"};
#define N_VARIANTS (sizeof variant_names / sizeof variant_names[0])

static const topic_optspec attention_opts[] = {
    {"variant", 1, "the variant (below); default softmax"},
    {"causal", 0, "mask future keys (sparse is always causal)"},
    {"Q", 1, "queries: text file, n rows of d numbers"},
    {"K", 1, "keys: text file, n x d"},
    {"V", 1, "values: text file, n x dv"},
    {"X", 1, "gau, flash: full layer on X (n x d_model)"},
    {"n", 1, "draw Q, K, V from --seed: n rows (1..2048)"},
    {"d", 1, "... and d columns (1..512); dv = d"},
    {"features", 1, "performer: feature matrix W (m x d) from a file"},
    {"m", 1, "performer: m random features (1..4096; 4 d)"},
    {"pattern", 1, "sparse: strided (default) or fixed"},
    {"stride", 1, "sparse strided: stride l (default ~sqrt(n))"},
    {"block", 1, "sparse fixed: block l; diag: block b (~sqrt(n))"},
    {"summary", 1, "sparse fixed: summary cells c, 1..l (default 1)"},
    {"chunk", 1, "flash: chunk length c (default ~sqrt(n))"},
    {"feature-map", 1, "linear: elu (phi = elu + 1, default) or relu"},
    {NULL, 0, NULL},
};

/* Which variants each option applies to, as a bit set (1 << variant); 0 = all. */
static const struct {
    const char *name;
    unsigned variants;
    const char *where;
} applies[] = {
    {"X", 1u << V_GAU | 1u << V_FLASH, "gau and flash"},
    {"features", 1u << V_PERFORMER, "performer"},
    {"m", 1u << V_PERFORMER, "performer"},
    {"pattern", 1u << V_SPARSE, "sparse"},
    {"stride", 1u << V_SPARSE, "sparse with --pattern strided"},
    {"block", 1u << V_SPARSE | 1u << V_DIAG, "sparse with --pattern fixed, and diag"},
    {"summary", 1u << V_SPARSE, "sparse with --pattern fixed"},
    {"chunk", 1u << V_FLASH, "flash"},
    {"feature-map", 1u << V_LINEAR, "linear"},
};

/* Everything one run owns; freed in one place. */
typedef struct run_state {
    double *q, *k, *v, *x, *w, *o;
    size_t n, d, dv, dm, m;
    attn_gau_weights gw;
    trace *own; /* the trace made here when the caller passed none */
} run_state;

static size_t default_len(size_t n)
{
    size_t l = (size_t)lround(sqrt((double)n));
    return l ? l : 1;
}

/* Parses --name as an int in [lo, hi] into *val when given (else leaves *val). */
static int opt_size(const topic_args *args, const char *name, long long lo, long long hi,
                    size_t *val, topic_out *out)
{
    const char *s = topic_opt_get(args, name);
    if (!s)
        return 0;
    char what[32];
    snprintf(what, sizeof what, "--%s", name);
    long long x;
    int rc = parse_int(s, what, lo, hi, &x, out->err, sizeof out->err);
    if (!rc)
        *val = (size_t)x;
    return rc;
}

/* Loads matrix --name, refusing more than max_rows rows or max_cols columns. */
static int load(const topic_args *args, const char *name, size_t max_rows, size_t max_cols,
                double **a, size_t *rows, size_t *cols, topic_out *out)
{
    const char *path = topic_opt_get(args, name);
    char msg[200];
    int rc = mat_load(path, (size_t)ATT_MAX_N * ATT_MAX_D, a, rows, cols, msg, sizeof msg);
    if (rc == TUTOR_ENOMEM)
        return rc;
    if (rc)
        return topic_fail(out, rc, "--%s: %s", name, msg);
    if (*rows > max_rows || *cols > max_cols) {
        mat_free(*a);
        *a = NULL;
        return topic_fail(out, TUTOR_ETOOBIG, "--%s: %s is %zu x %zu; at most %zu x %zu", name,
                          path, *rows, *cols, max_rows, max_cols);
    }
    return 0;
}

/* Checks that every given option applies to variant v (and the pattern). */
static int check_applies(const topic_args *args, enum variant v, int fixed, topic_out *out)
{
    for (size_t i = 0; i < sizeof applies / sizeof applies[0]; i++) {
        const char *name = applies[i].name;
        if (!topic_opt_has(args, name))
            continue;
        int ok = (applies[i].variants >> v) & 1u;
        if (v == V_SPARSE && strcmp(name, "stride") == 0)
            ok = !fixed;
        if (v == V_SPARSE && (strcmp(name, "block") == 0 || strcmp(name, "summary") == 0))
            ok = fixed;
        if (!ok)
            return topic_fail(out, TUTOR_EINVAL, "--%s does not apply to --variant %s (only to %s)",
                              name, variant_names[v], applies[i].where);
    }
    if (topic_opt_has(args, "features") && topic_opt_has(args, "m"))
        return topic_fail(out, TUTOR_EINVAL,
                          "--features and --m exclude each other (the file sets m)");
    return 0;
}

/* Reads or draws the inputs into st. */
static int get_inputs(const topic_args *args, enum variant v, run_state *st, topic_out *out)
{
    int files = topic_opt_has(args, "Q") + topic_opt_has(args, "K") + topic_opt_has(args, "V");
    int has_x = topic_opt_has(args, "X");
    int has_n = topic_opt_has(args, "n"), has_d = topic_opt_has(args, "d");
    int sources = (files > 0) + has_x + (has_n || has_d);
    if (sources == 0)
        return topic_fail(out, TUTOR_EINVAL,
                          "no input: give --Q, --K and --V files%s, or --n and --d to draw them",
                          v == V_GAU || v == V_FLASH ? ", --X" : "");
    if (sources > 1)
        return topic_fail(out, TUTOR_EINVAL, "give one input: --Q/--K/--V files, --X, or --n/--d");
    int rc;
    if (files) {
        if (files < 3)
            return topic_fail(out, TUTOR_EINVAL, "--Q, --K and --V go together (missing %s)",
                              !topic_opt_has(args, "Q")   ? "--Q"
                              : !topic_opt_has(args, "K") ? "--K"
                                                          : "--V");
        size_t qr, qc, kr, kc, vr, vc;
        if ((rc = load(args, "Q", ATT_MAX_N, ATT_MAX_D, &st->q, &qr, &qc, out)) ||
            (rc = load(args, "K", ATT_MAX_N, ATT_MAX_D, &st->k, &kr, &kc, out)) ||
            (rc = load(args, "V", ATT_MAX_N, ATT_MAX_D, &st->v, &vr, &vc, out)))
            return rc;
        if (kr != qr || kc != qc)
            return topic_fail(out, TUTOR_ESHAPE,
                              "--K is %zu x %zu but --Q is %zu x %zu: they must match", kr, kc, qr,
                              qc);
        if (vr != qr)
            return topic_fail(out, TUTOR_ESHAPE,
                              "--V has %zu rows but --Q has %zu: one value per key", vr, qr);
        st->n = qr;
        st->d = qc;
        st->dv = vc;
        return 0;
    }
    if (has_x) {
        size_t xr, xc;
        if ((rc = load(args, "X", ATT_MAX_N, ATT_MAX_DM, &st->x, &xr, &xc, out)))
            return rc;
        st->n = xr;
        st->dm = xc;
        return 0;
    }
    if (!has_n || !has_d)
        return topic_fail(out, TUTOR_EINVAL, "--n and --d go together (missing %s)",
                          has_n ? "--d" : "--n");
    if ((rc = opt_size(args, "n", 1, ATT_MAX_N, &st->n, out)) ||
        (rc = opt_size(args, "d", 1, ATT_MAX_D, &st->d, out)))
        return rc;
    st->dv = st->d;
    st->q = mat_new(st->n, st->d);
    st->k = mat_new(st->n, st->d);
    st->v = mat_new(st->n, st->dv);
    if (!st->q || !st->k || !st->v)
        return TUTOR_ENOMEM;
    rng r;
    rng_seed(&r, args->seed);
    mat_gauss(st->q, st->n * st->d, &r, 1.0);
    mat_gauss(st->k, st->n * st->d, &r, 1.0);
    mat_gauss(st->v, st->n * st->dv, &r, 1.0);
    return 0;
}

/* Performer's features: from --features, else orthogonal random features from the seed. */
static int get_features(const topic_args *args, run_state *st, topic_out *out)
{
    if (topic_opt_has(args, "features")) {
        size_t rows, cols;
        int rc = load(args, "features", ATT_MAX_M, ATT_MAX_D, &st->w, &rows, &cols, out);
        if (rc)
            return rc;
        if (cols != st->d)
            return topic_fail(out, TUTOR_ESHAPE,
                              "--features has %zu columns but Q and K have d = %zu", cols, st->d);
        st->m = rows;
        return 0;
    }
    st->m = 4 * st->d < ATT_MAX_M ? 4 * st->d : ATT_MAX_M;
    int rc = opt_size(args, "m", 1, ATT_MAX_M, &st->m, out);
    if (rc)
        return rc;
    if (!(st->w = mat_new(st->m, st->d)))
        return TUTOR_ENOMEM;
    rng r;
    rng_seed(&r, args->seed ^ ATT_WEIGHT_STREAM);
    return attn_orf(st->w, st->m, st->d, &r);
}

/* ---- output ---- */

/* Appends the final value of every snapshot the trace recorded, in order of first
 * appearance, as JSON members (`"S": [[...]]`) or text blocks. */
static void emit_intermediates(const trace *tr, strbuf *json, strbuf *text)
{
    size_t len = trace_len(tr);
    int first = 1;
    for (size_t i = 0; i < len; i++) {
        const trace_frame *st = trace_at(tr, i);
        for (size_t s = 0; s < st->nsnaps; s++) {
            const char *name = st->snaps[s].name;
            /* Only the first appearance writes it, with its latest value. */
            int seen = 0;
            for (size_t j = 0; j < i && !seen; j++)
                seen = trace_find(trace_at(tr, j), name) != NULL;
            for (size_t t = 0; t < s && !seen; t++)
                seen = strcmp(st->snaps[t].name, name) == 0;
            if (seen)
                continue;
            const trace_snap *snap = trace_latest(tr, len - 1, name);
            if (!snap->reals)
                continue;
            strbuf_puts(json, first ? "" : ", ");
            first = 0;
            strbuf_json_str(json, name);
            strbuf_puts(json, ": ");
            if (snap->kind == TRACE_REAL) {
                strbuf_json_double(json, snap->reals[0]);
            } else if (snap->kind == TRACE_REALS) {
                strbuf_putc(json, '[');
                for (size_t c = 0; c < snap->cols; c++) {
                    strbuf_puts(json, c ? ", " : "");
                    strbuf_json_double(json, snap->reals[c]);
                }
                strbuf_putc(json, ']');
            } else {
                mat_json(json, snap->reals, snap->rows, snap->cols);
            }
            if (strcmp(name, "O") == 0) {
                strbuf_puts(text, "  O: the result above\n");
            } else if (snap->kind == TRACE_REAL) {
                strbuf_printf(text, "  %s: %.6g\n", name, snap->reals[0]);
            } else {
                strbuf_printf(text, "  %s (%zu x %zu):\n", name, snap->rows, snap->cols);
                mat_text(text, snap->reals, snap->rows, snap->cols, ATT_SHOW, "    ");
            }
        }
    }
}

static void run_state_free(run_state *st)
{
    mat_free(st->q);
    mat_free(st->k);
    mat_free(st->v);
    mat_free(st->x);
    mat_free(st->w);
    mat_free(st->o);
    attn_gau_weights_free(&st->gw);
    trace_free(st->own);
}

static int run(const topic_args *args, trace *tr, topic_out *out)
{
    /* Pass 1: the variant and the options that apply to it. */
    const char *vname = topic_opt_get(args, "variant");
    enum variant v = V_SOFTMAX;
    if (vname) {
        size_t i = 0;
        while (i < N_VARIANTS && strcmp(variant_names[i], vname) != 0)
            i++;
        if (i == N_VARIANTS)
            return topic_fail(
                out, TUTOR_EINVAL,
                "--variant: unknown variant '%.40s' (expected softmax, sparse, linear, "
                "performer, gau, flash, transnormer or diag)",
                vname);
        v = (enum variant)i;
    }
    const char *pattern = topic_opt_get(args, "pattern");
    if (pattern && strcmp(pattern, "strided") != 0 && strcmp(pattern, "fixed") != 0)
        return topic_fail(out, TUTOR_EINVAL, "--pattern: expected strided or fixed, got '%.40s'",
                          pattern);
    int fixed = pattern && strcmp(pattern, "fixed") == 0;
    const char *fmap_s = topic_opt_get(args, "feature-map");
    if (fmap_s && strcmp(fmap_s, "elu") != 0 && strcmp(fmap_s, "relu") != 0)
        return topic_fail(out, TUTOR_EINVAL, "--feature-map: expected elu or relu, got '%.40s'",
                          fmap_s);
    attn_fmap fmap = fmap_s && strcmp(fmap_s, "relu") == 0 ? ATTN_RELU : ATTN_ELU1;
    int causal = topic_opt_has(args, "causal");
    int rc = check_applies(args, v, fixed, out);
    if (rc)
        return rc;

    /* Pass 2: inputs, then the variant's own parameters. */
    run_state st = {0};
    if ((rc = get_inputs(args, v, &st, out)))
        goto out;
    size_t n = st.n, len = default_len(n), summary = 1;
    if ((rc = opt_size(args, "stride", 1, ATT_MAX_N, &len, out)) ||
        (rc = opt_size(args, "block", 1, ATT_MAX_N, &len, out)) ||
        (rc = opt_size(args, "chunk", 1, ATT_MAX_N, &len, out)) ||
        (rc = opt_size(args, "summary", 1, ATT_MAX_N, &summary, out)))
        goto out;
    if (v == V_SPARSE && fixed && summary > len) {
        rc = topic_fail(out, TUTOR_EINVAL, "--summary %zu is larger than the block %zu", summary,
                        len);
        goto out;
    }
    if (v == V_PERFORMER && (rc = get_features(args, &st, out)))
        goto out;
    size_t ocols = st.x ? st.dm : st.dv;
    if (st.x) {
        rng r;
        rng_seed(&r, args->seed ^ ATT_WEIGHT_STREAM);
        if ((rc = attn_gau_weights_new(&st.gw, st.dm, 2 * st.dm, st.dm, &r)))
            goto out;
    }
    rc = TUTOR_ENOMEM;
    if (!(st.o = mat_new(n, ocols)))
        goto out;
    /* The intermediates come from the trace, so a run without --trace records into its
     * own. */
    if (!tr && !(tr = st.own = trace_new(0)))
        goto out;

    /* Pass 3: the variant. */
    const double *q = st.q, *k = st.k, *vv = st.v;
    size_t d = st.d, dv = st.dv;
    switch (v) {
    case V_SOFTMAX:
        trace_set_listing(tr, attn_softmax_listing, attn_softmax_listing_len);
        rc = attn_softmax(st.o, q, k, vv, n, d, dv, causal, tr);
        break;
    case V_SPARSE:
        trace_set_listing(tr, attn_sparse_listing, attn_sparse_listing_len);
        rc = attn_sparse(st.o, q, k, vv, n, d, dv, fixed ? ATTN_FIXED : ATTN_STRIDED, len, summary,
                         tr);
        break;
    case V_LINEAR:
        trace_set_listing(tr, attn_linear_listing, attn_linear_listing_len);
        rc = attn_linear(st.o, q, k, vv, n, d, dv, fmap, causal, tr);
        break;
    case V_PERFORMER:
        trace_set_listing(tr, attn_performer_listing, attn_performer_listing_len);
        rc = attn_performer(st.o, q, k, vv, st.w, n, d, dv, st.m, causal, tr);
        break;
    case V_GAU:
        if (st.x) {
            trace_set_listing(tr, attn_gau_layer_listing, attn_gau_layer_listing_len);
            rc = attn_gau_layer(st.o, st.x, &st.gw, n, causal, tr);
        } else {
            trace_set_listing(tr, attn_gau_listing, attn_gau_listing_len);
            rc = attn_gau_core(st.o, q, k, vv, n, d, dv, causal, tr);
        }
        break;
    case V_FLASH:
        if (st.x) {
            trace_set_listing(tr, attn_flash_layer_listing, attn_flash_layer_listing_len);
            rc = attn_flash_layer(st.o, st.x, &st.gw, n, len, causal, tr);
        } else {
            trace_set_listing(tr, attn_flash_listing, attn_flash_listing_len);
            rc = attn_flash_core(st.o, q, k, vv, NULL, NULL, n, d, dv, len, causal, tr);
        }
        break;
    case V_NORM:
        trace_set_listing(tr, attn_norm_listing, attn_norm_listing_len);
        rc = attn_norm(st.o, q, k, vv, n, d, dv, causal, tr);
        break;
    case V_DIAG:
        trace_set_listing(tr, attn_diag_listing, attn_diag_listing_len);
        rc = attn_diag(st.o, q, k, vv, n, d, dv, len, causal, tr);
        break;
    }
    if (rc == TUTOR_ERANGE)
        topic_fail(out, rc,
                   "performer: a query's normaliser underflowed to 0 (scores far too large for the "
                   "random-feature estimate); scale Q and K down");
    if (rc)
        goto out;
    /* Finite inputs can still overflow a product (1e200 * 1e200): say so, not NaN. */
    for (size_t i = 0; i < n * ocols; i++)
        if (!isfinite(st.o[i])) {
            rc = topic_fail(
                out, TUTOR_ERANGE,
                "--variant %s: the result overflowed (inputs too large); scale them down",
                variant_names[v]);
            goto out;
        }

    /* Pass 4: the answer. */
    strbuf_puts(&out->json, "\"variant\": ");
    strbuf_json_str(&out->json, variant_names[v]);
    strbuf_puts(&out->json, ", \"result\": ");
    mat_json(&out->json, st.o, n, ocols);
    strbuf_puts(&out->json, ", \"intermediates\": {");
    if (st.x)
        strbuf_printf(&out->text, "attention: %s layer%s, n = %zu, d_model = %zu\n",
                      variant_names[v], causal ? " (causal)" : "", n, st.dm);
    else
        strbuf_printf(&out->text, "attention: %s%s, n = %zu, d = %zu, dv = %zu\n", variant_names[v],
                      causal || v == V_SPARSE ? " (causal)" : "", n, d, dv);
    strbuf_printf(&out->text, "O (%zu x %zu):\n", n, ocols);
    mat_text(&out->text, st.o, n, ocols, ATT_SHOW, "  ");
    strbuf_puts(&out->text, "intermediates:\n");
    emit_intermediates(tr, &out->json, &out->text);
    strbuf_putc(&out->json, '}');
    rc = out->json.failed ? out->json.failed : out->text.failed;
out:
    run_state_free(&st);
    return rc;
}

/* A small random run: a variant, 4..10 rows of 2..4 columns, sometimes causal, sometimes
 * with the variant's own option. */
static int random_input(uint64_t seed, strbuf *sb)
{
    rng r;
    rng_seed(&r, seed);
    size_t v = (size_t)rng_range(&r, 0, N_VARIANTS - 1);
    int64_t n = rng_range(&r, 4, 10), d = rng_range(&r, 2, 4);
    strbuf_printf(sb, "--variant %s --n %lld --d %lld --seed %llu", variant_names[v], (long long)n,
                  (long long)d, (unsigned long long)rng_range(&r, 1, 1000));
    if (v != V_SPARSE && rng_range(&r, 0, 1))
        strbuf_puts(sb, " --causal");
    if (v == V_SPARSE && rng_range(&r, 0, 1))
        strbuf_printf(sb, " --pattern fixed --block 3 --summary %lld",
                      (long long)rng_range(&r, 1, 2));
    if (v == V_FLASH)
        strbuf_printf(sb, " --chunk %lld", (long long)rng_range(&r, 2, 4));
    if (v == V_LINEAR && rng_range(&r, 0, 1))
        strbuf_puts(sb, " --feature-map relu");
    if (v == V_PERFORMER)
        strbuf_printf(sb, " --m %lld", (long long)rng_range(&r, 4, 64));
    return sb->failed;
}

const topic topic_attention = {
    .id = "attention",
    .family = "Attention",
    .title = "Attention variants",
    .summary = "softmax, sparse, linear, Performer, GAU/FLASH and TransNormer attention",
    .usage = "One topic, eight variants (--variant). Q, K are n x d, V is n x dv, O n x dv:\n"
             "  softmax      O = softmax(Q K^T / sqrt(d)) V, row max subtracted\n"
             "  sparse       softmax over the keys a strided or fixed pattern allows\n"
             "  linear       phi(Q) (phi(K)^T V) / phi(Q) (phi(K)^T 1), phi = elu + 1 or relu\n"
             "  performer    FAVOR+: positive orthogonal random features approximate softmax\n"
             "  gau          relu(Q K^T / n)^2 V; with --X the full gated attention unit\n"
             "  flash        quadratic inside chunks of c rows, linear across chunks\n"
             "  transnormer  NormAttention: RMSNorm(phi(Q) (phi(K)^T V)), no denominator\n"
             "  diag         DiagAttention: softmax inside blocks of b rows\n"
             "Inputs: --Q, --K, --V text files (rows of numbers, `#` comments: the format\n"
             "numpy.savetxt writes), or --n and --d to draw N(0, 1) entries from --seed.\n"
             "--X runs the whole GAU/FLASH layer (e = 2 d_model, s = d_model). Weights and\n"
             "features come from a second stream of --seed, so Q, K, V do not change.\n"
             "Intermediates: the final value of every matrix the run records (n x n ones\n"
             "only up to n = 256); --trace shows each pass and time step.\n"
             "\n"
             "json: {\"topic\": \"attention\", \"variant\": NAME, \"result\": [[O row]...],\n"
             "       \"intermediates\": {NAME: [[row]...], or a number for density and\n"
             "       max_error}}\n",
    .opts = attention_opts,
    .example = "--variant softmax --n 6 --d 4 --seed 1",
    .notes = "attention.md",
    .run = run,
    .random_input = random_input,
    .plot = topic_attention_plot,
};
