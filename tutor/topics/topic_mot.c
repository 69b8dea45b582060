/* topic_mot.c: BAGEL's mixture of transformer experts, one layer:
 * `tutor run mot --segments "text:5 image:4 text:3" --d 8 --heads 2 --tie`. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../models/attention.h"
#include "../../models/mat.h"
#include "../../models/mot.h"
#include "../../trace/mem.h"
#include "../../trace/rng.h"
#include "../../trace/status.h"
#include "ssmio.h"
#include "topic.h"

/* Defaults: a sequence small enough to read whole (mot_seq_default(12) is text:4 image:4
 * text:4), two heads of width 4. */
#define MOT_TOPIC_N     12
#define MOT_TOPIC_D     8
#define MOT_TOPIC_HEADS 2
/* The text output draws the mask as a grid up to this many tokens (2 columns each, so it
 * fits 80 columns), and prints matrices whole up to this many rows and columns. */
#define MOT_GRID_MAX  32
#define MOT_SHOW_ROWS 16
#define MOT_SHOW_COLS 6

static const topic_optspec mot_opts[] = {
    {"segments", 1, "the sequence, e.g. \"text:5 image:4 text:3\""},
    {"n", 1, "tokens (1..1024, default 12): text, image n/3, text"},
    {"d", 1, "model width (1..512, default 8); FFN width 2 d"},
    {"heads", 1, "attention heads H (1..64, default 2), H | d"},
    {"tie", 0, "the image expert copies the text expert"},
    {NULL, 0, NULL},
};

static const char *const modality_names[MOT_MODALITIES] = {"text", "image"};

/* Everything one run owns; freed in one place. */
typedef struct run_state {
    mot_seq seq;
    mot_layer layer;
    double *x, *y, *dense;
    int *mask;
} run_state;

static void run_state_free(run_state *st)
{
    mot_seq_free(&st->seq);
    mot_layer_free(&st->layer);
    mat_free(st->x);
    mat_free(st->y);
    mat_free(st->dense);
    mem_free(st->mask);
}

/* The sequence from --segments and/or --n (they must agree), else the default. */
static int get_seq(const topic_args *args, mot_seq *seq, topic_out *out)
{
    const char *spec = topic_opt_get(args, "segments");
    int has_n = topic_opt_has(args, "n");
    size_t n = MOT_TOPIC_N;
    int rc = ssmio_size(args, "n", MOT_TOPIC_N, 1, MOT_MAX_N, &n, out->err, sizeof out->err);
    if (rc)
        return rc;
    if (!spec) {
        rc = mot_seq_default(seq, n);
        return rc == TUTOR_ENOMEM ? rc : rc ? topic_fail(out, rc, "--n: bad length %zu", n) : 0;
    }
    char msg[200];
    rc = mot_seq_parse(seq, spec, msg, sizeof msg);
    if (rc == TUTOR_ENOMEM)
        return rc;
    if (rc) {
        /* The parser's own lines start "segments: " or "segment K ...": name the option. */
        const char *m = strncmp(msg, "segments: ", 10) == 0 ? msg + 10 : msg;
        return topic_fail(out, rc == TUTOR_ETOOBIG ? rc : TUTOR_EINVAL, "--segments: %s", m);
    }
    if (has_n && n != seq->n) {
        size_t got = seq->n;
        mot_seq_free(seq);
        return topic_fail(out, TUTOR_EINVAL,
                          "--n %zu but --segments has %zu tokens: give one, or make them agree", n,
                          got);
    }
    return 0;
}

/* ---- output ---- */

static void json_ints(strbuf *sb, const int *v, size_t n)
{
    strbuf_putc(sb, '[');
    for (size_t i = 0; i < n; i++)
        strbuf_printf(sb, i ? ", %d" : "%d", v[i]);
    strbuf_putc(sb, ']');
}

/* The mask as a grid: a header of tags (t, I), then one row per query; 1 or '.'. */
static void text_mask(strbuf *sb, const int *mask, const mot_seq *seq)
{
    size_t n = seq->n, show = n < MOT_GRID_MAX ? n : MOT_GRID_MAX;
    strbuf_printf(sb, "mask (row i: query, column j: key; 1: i may attend to j)%s:\n",
                  show < n ? ", first 32 tokens" : "");
    strbuf_puts(sb, "       ");
    for (size_t j = 0; j < show; j++)
        strbuf_printf(sb, " %c", seq->modality[j] == MOT_IMAGE ? 'I' : 't');
    strbuf_putc(sb, '\n');
    for (size_t i = 0; i < show; i++) {
        strbuf_printf(sb, "  %3zu %c", i, seq->modality[i] == MOT_IMAGE ? 'I' : 't');
        for (size_t j = 0; j < show; j++)
            strbuf_puts(sb, mask[i * n + j] ? " 1" : " .");
        strbuf_putc(sb, '\n');
    }
}

/* Y with each row's token and tag, the first MOT_SHOW_ROWS rows and MOT_SHOW_COLS columns
 * (11 columns a value: a row stays within 80). */
static void text_output(strbuf *sb, const double *y, const mot_seq *seq, size_t d)
{
    size_t n = seq->n, rows = n < MOT_SHOW_ROWS ? n : MOT_SHOW_ROWS;
    size_t cols = d < MOT_SHOW_COLS ? d : MOT_SHOW_COLS;
    strbuf_printf(sb, "Y (%zu x %zu), the layer's output, one row per token%s:\n", n, d,
                  rows < n || cols < d ? " (cut)" : "");
    for (size_t i = 0; i < rows; i++) {
        strbuf_printf(sb, "  %3zu %c", i, seq->modality[i] == MOT_IMAGE ? 'I' : 't');
        for (size_t j = 0; j < cols; j++)
            strbuf_printf(sb, " %10.4g", y[i * d + j]);
        strbuf_puts(sb, cols < d ? "  ...\n" : "\n");
    }
    if (rows < n)
        strbuf_printf(sb, "  ... %zu more rows (--json prints them all)\n", n - rows);
}

/* max |a - b| over rows of modality m (or every row when m < 0); 0 when there are none. */
static double max_diff(const double *a, const double *b, const mot_seq *seq, size_t d, int m)
{
    double worst = 0.0;
    for (size_t i = 0; i < seq->n; i++)
        if (m < 0 || seq->modality[i] == m) {
            double e = mat_max_abs_diff(a + i * d, b + i * d, d);
            worst = e > worst ? e : worst;
        }
    return worst;
}

/* Two last steps of the topic's own, after the library's: the outputs of each modality on
 * their own (the library's last step also shows FFN and Y, which push them off an 80 x 24
 * screen), then the comparison with the dense layer, per token the largest difference of
 * its output row. Listing lines 10 and 2: the FFN that makes them, the routing that makes
 * the difference. Returns 0, TUTOR_ENOMEM or the trace's sticky error. */
static int trace_extra(trace *tr, const run_state *st, int tie)
{
    size_t n = st->seq.n, d = st->layer.d, rows[MOT_MODALITIES] = {0, 0};
    double *scratch = mat_new(n, d), *diff = mem_alloc(n * sizeof *diff);
    if (!scratch || !diff) {
        mat_free(scratch);
        mem_free(diff);
        return TUTOR_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        rows[st->seq.modality[i]]++;
    trace_step(tr, 10, "outputs by modality: %zu text rows (Y_text), %zu image rows (Y_image)",
               rows[MOT_TEXT], rows[MOT_IMAGE]);
    static const char *const names[MOT_MODALITIES] = {"Y_text", "Y_image"};
    for (int m = 0; m < MOT_MODALITIES; m++) {
        size_t r = 0;
        for (size_t i = 0; i < n; i++)
            if (st->seq.modality[i] == m)
                memcpy(scratch + r++ * d, st->y + i * d, d * sizeof *scratch);
        if (r)
            attn_snap(tr, names[m], scratch, r, d);
    }
    for (size_t i = 0; i < n; i++)
        diff[i] = mat_max_abs_diff(st->y + i * d, st->dense + i * d, d);
    trace_step(tr, 2, "%s layer (text weights for all): max |Y - Y_dense| = %.3g",
               tie ? "tied = the dense" : "vs the dense",
               max_diff(st->y, st->dense, &st->seq, d, -1));
    trace_reals(tr, "dY", diff, n);
    mat_free(scratch);
    mem_free(diff);
    return trace_status(tr);
}

static int run(const topic_args *args, trace *tr, topic_out *out)
{
    /* Pass 1: the options. */
    run_state st = {0};
    size_t d, heads;
    int tie = topic_opt_has(args, "tie");
    int rc = ssmio_size(args, "d", MOT_TOPIC_D, 1, MOT_MAX_D, &d, out->err, sizeof out->err);
    if (!rc)
        rc = ssmio_size(args, "heads", MOT_TOPIC_HEADS, 1, MOT_MAX_HEADS, &heads, out->err,
                        sizeof out->err);
    if (rc)
        return rc;
    if (d % heads)
        return topic_fail(out, TUTOR_EINVAL,
                          "--heads %zu does not divide --d %zu (each head takes d / H columns)",
                          heads, d);
    if ((rc = get_seq(args, &st.seq, out)))
        goto out;
    size_t n = st.seq.n, ffn = MOT_FFN_DEFAULT * d;

    /* Pass 2: weights and input from the seed (two streams), the layer, the dense one. */
    rc = mot_layer_init(&st.layer, d, heads, ffn, args->seed, tie);
    if (rc)
        goto out;
    rc = TUTOR_ENOMEM;
    st.x = mat_new(n, d);
    st.y = mat_new(n, d);
    st.dense = mat_new(n, d);
    st.mask = mem_alloc(n * n * sizeof *st.mask);
    if (!st.x || !st.y || !st.dense || !st.mask)
        goto out;
    mot_input(st.x, n, d, args->seed);
    if (tr)
        trace_set_listing(tr, mot_listing, mot_listing_len);
    if ((rc = mot_forward(st.y, st.x, &st.layer, &st.seq, NULL, tr)) ||
        (rc = mot_dense_forward(st.dense, st.x, &st.layer, MOT_TEXT, &st.seq)) ||
        (rc = mot_mask(st.mask, &st.seq)))
        goto out;
    if (tr && (rc = trace_extra(tr, &st, tie)))
        goto out;
    mot_cost cost;
    if ((rc = mot_cost_of(&cost, d, ffn, &st.seq)))
        goto out;
    char spec[MOT_MAX_SPEC + 1];
    if (mot_seq_format(spec, sizeof spec, &st.seq))
        snprintf(spec, sizeof spec, "(%zu segments)", st.seq.nsegments);
    double diff = max_diff(st.y, st.dense, &st.seq, d, -1);

    /* Pass 3: the answer. */
    strbuf *js = &out->json;
    strbuf_puts(js, "\"segments\": ");
    strbuf_json_str(js, spec);
    strbuf_printf(js, ", \"n\": %zu, \"d\": %zu, \"heads\": %zu, \"ffn\": %zu, \"tied\": %s", n, d,
                  heads, ffn, tie ? "true" : "false");
    strbuf_puts(js, ", \"result\": ");
    mat_json(js, st.y, n, d);
    strbuf_puts(js, ", \"mask\": [");
    for (size_t i = 0; i < n; i++) {
        strbuf_puts(js, i ? ", " : "");
        json_ints(js, st.mask + i * n, n);
    }
    strbuf_puts(js, "], \"modality\": ");
    json_ints(js, st.seq.modality, n);
    strbuf_puts(js, ", \"segment\": ");
    json_ints(js, st.seq.segment, n);
    strbuf_printf(js, ", \"params_total\": %zu, \"params_active\": %zu, \"params_dense\": %zu",
                  cost.params_total, cost.params_active, cost.params_dense);
    strbuf_puts(js, ", \"flops_token\": ");
    strbuf_json_double(js, cost.flops_token);
    strbuf_puts(js, ", \"keys_mean\": ");
    strbuf_json_double(js, cost.keys_mean);
    strbuf_puts(js, ", \"dense_max_diff\": ");
    strbuf_json_double(js, diff);

    strbuf *tx = &out->text;
    strbuf_printf(tx, "mot: %zu tokens (%s), d = %zu, %zu heads of %zu, FFN %zu%s\n", n, spec, d,
                  heads, d / heads, ffn, tie ? ", tied experts" : "");
    text_mask(tx, st.mask, &st.seq);
    strbuf_printf(tx, "params: %zu total (%d experts x %zu), %zu active per token (dense: %zu)\n",
                  cost.params_total, MOT_MODALITIES, cost.params_expert, cost.params_active,
                  cost.params_dense);
    strbuf_printf(tx,
                  "cost: %.6g flops per token (the dense layer: %.6g), %.3g keys seen on "
                  "average\n",
                  cost.flops_token, cost.flops_dense, cost.keys_mean);
    if (tie)
        strbuf_printf(tx,
                      "tied = dense: max |Y - Y_dense| = %.3g (every token through the text "
                      "weights)\n",
                      diff);
    else
        strbuf_printf(tx,
                      "vs the dense layer (text weights for every token), max |Y - Y_dense|:\n"
                      "  %.3g on text rows, %.3g on image rows (--tie makes both 0)\n",
                      max_diff(st.y, st.dense, &st.seq, d, MOT_TEXT),
                      max_diff(st.y, st.dense, &st.seq, d, MOT_IMAGE));
    text_output(tx, st.y, &st.seq, d);
    rc = js->failed ? js->failed : tx->failed;
out:
    run_state_free(&st);
    return rc;
}

/* A small random run: 1..4 segments of 1..5 tokens, d = H x (2..4) with H in 1..3,
 * sometimes tied. */
static int random_input(uint64_t seed, strbuf *sb)
{
    rng r;
    rng_seed(&r, seed);
    int segments = (int)rng_range(&r, 1, 4), m = (int)rng_range(&r, 0, 1);
    strbuf_puts(sb, "--segments \"");
    for (int s = 0; s < segments; s++, m = !m)
        strbuf_printf(sb, "%s%s:%lld", s ? " " : "", modality_names[m],
                      (long long)rng_range(&r, 1, 5));
    int64_t heads = rng_range(&r, 1, 3), width = rng_range(&r, 2, 4);
    strbuf_printf(sb, "\" --d %lld --heads %lld --seed %llu", (long long)(heads * width),
                  (long long)heads, (unsigned long long)rng_range(&r, 1, 1000));
    if (rng_range(&r, 0, 3) == 0)
        strbuf_puts(sb, " --tie");
    return sb->failed;
}

const topic topic_mot = {
    .id = "mot",
    .family = "Multimodal",
    .title = "Mixture of transformer experts (BAGEL)",
    .summary = "per-modality weights, shared attention, the generalised causal mask",
    .usage =
        "One pre-norm transformer layer (RMSNorm, q/k/v/o, SwiGLU FFN) with one copy of\n"
        "every weight per modality: each token uses its own modality's copy, all tokens\n"
        "share the attention. The mask is causal between segments and full inside one\n"
        "image segment. Weights and the input X (n x d, N(0, 1)) come from --seed.\n"
        "--segments lists MODALITY:LENGTH (text or image); --n alone gives text, an\n"
        "image of n/3 tokens, text; with both, n must be the segments' total. Defaults:\n"
        "n = 12, d = 8, 2 heads. The dense layer (text weights for every token) is run\n"
        "too: with --tie the two agree to rounding.\n"
        "\n"
        "json: {\"topic\": \"mot\", \"segments\": S, \"n\": N, \"d\": D, \"heads\": H,\n"
        "       \"ffn\": F, \"tied\": BOOL, \"result\": [[Y row]...], \"mask\": [[0/1...]...],\n"
        "       \"modality\": [0 text / 1 image...], \"segment\": [...],\n"
        "       \"params_total\": N, \"params_active\": N, \"params_dense\": N,\n"
        "       \"flops_token\": X, \"keys_mean\": X, \"dense_max_diff\": X}\n",
    .opts = mot_opts,
    .example = "--segments \"text:5 image:4 text:3\" --d 8 --heads 2",
    .notes = "mot.md",
    .run = run,
    .random_input = random_input,
    .plot = topic_mot_plot,
};
