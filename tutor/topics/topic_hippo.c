/* topic_hippo.c: the hippo topic: `tutor run hippo --measure legs --N 8 --method zoh`. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../models/hippo.h"
#include "../../models/mat.h"
#include "../../trace/mem.h"
#include "../../trace/rng.h"
#include "../../trace/status.h"
#include "topic.h"
#include "ssmio.h"

/* Caps, so a typo cannot exhaust memory or time: 256 coefficients, 10^5 samples, 2^22
 * stored coefficients (32 MB), and for LegS with zoh (a matrix exponential per sample)
 * (N + 16)^3 L <= 2^27 (the 16 stands for the per-exponential overhead that dominates at
 * small N): a few seconds at most. */
#define HIPPO_MAX_N      256u
#define HIPPO_MAX_L      100000u
#define HIPPO_MAX_COEFS  ((size_t)1 << 22)
#define HIPPO_MIN_STEP   1e-9 /* the smallest --dt and --theta */
#define HIPPO_MAX_ZOH    ((double)((size_t)1 << 27))
#define HIPPO_JSON_COEFS ((size_t)1 << 18) /* coefficient values printed before striding */

static const topic_optspec hippo_opts[] = {
    {"measure", 1, "legs | legt | lagt (default legs)"},
    {"N", 1, "number of coefficients, 1..256 (default 8)"},
    {"method", 1, "euler | backward | bilinear | zoh (default bilinear)"},
    {"signal", 1, "a file with one sample per line (instead of --signal-kind)"},
    {"signal-kind", 1, "sine | step | noise (default sine; noise uses --seed)"},
    {"length", 1, "samples of a --signal-kind signal, 1..100000 (default 128)"},
    {"dt", 1, "LegT/LagT: time between samples, >= 1e-9 (default 1/L legt, 10/L lagt)"},
    {"theta", 1, "LegT: window length in time units, >= 1e-9 (default L dt: the whole signal)"},
    {"dense", 0, "LegS: use the dense O(N^2) step instead of the O(N) one"},
    {NULL, 0, NULL},
};

/* The built-in signals, over s = k/L in (0, 1]. */
static int make_signal(double **f, size_t *L, const topic_args *args, topic_out *out)
{
    const char *kind = topic_opt_get(args, "signal-kind");
    if (topic_opt_get(args, "signal")) {
        if (kind)
            return topic_fail(out, TUTOR_EINVAL,
                              "give either --signal FILE or --signal-kind%s, not both", "");
        if (topic_opt_get(args, "length"))
            return topic_fail(out, TUTOR_EINVAL, "--length applies to --signal-kind only%s", "");
        size_t rows, cols;
        int rc =
            ssmio_load(args, "signal", HIPPO_MAX_L, f, &rows, &cols, out->err, sizeof out->err);
        if (rc)
            return rc;
        if (cols != 1 && rows != 1) {
            mat_free(*f);
            *f = NULL;
            snprintf(out->err, sizeof out->err,
                     "--signal: expected one sample per line, got %zu rows of %zu values", rows,
                     cols);
            return TUTOR_ESHAPE;
        }
        *L = rows * cols;
        return 0;
    }
    int rc = ssmio_size(args, "length", 128, 1, HIPPO_MAX_L, L, out->err, sizeof out->err);
    if (rc)
        return rc;
    if (!kind)
        kind = "sine";
    int k = strcmp(kind, "sine") == 0    ? 0
            : strcmp(kind, "step") == 0  ? 1
            : strcmp(kind, "noise") == 0 ? 2
                                         : -1;
    if (k < 0) {
        snprintf(out->err, sizeof out->err,
                 "--signal-kind: unknown kind '%.40s' (expected sine, step or noise)", kind);
        return TUTOR_EINVAL;
    }
    *f = mem_alloc(*L * sizeof **f);
    if (!*f)
        return TUTOR_ENOMEM;
    rng r;
    rng_seed(&r, args->seed);
    for (size_t i = 0; i < *L; i++) {
        double s = (double)(i + 1) / (double)*L;
        (*f)[i] = k == 0   ? sin(2 * M_PI * s) + 0.5 * cos(2 * M_PI * 2 * s)
                  : k == 1 ? (s > 0.5 ? 1.0 : 0.0)
                           : rng_gauss(&r);
    }
    return 0;
}

static void json_matrix(strbuf *sb, const char *name, const double *a, size_t rows, size_t cols)
{
    strbuf_json_str(sb, name);
    strbuf_puts(sb, ": ");
    mat_json(sb, a, rows, cols);
}

static void write_json(strbuf *sb, const hippo_result *res, const double *f)
{
    size_t N = res->N, L = res->L;
    strbuf_puts(sb, "\"result\": ");
    ssmio_json_list(sb, res->coefs + (L - 1) * N, N);
    strbuf_puts(sb, ", \"intermediates\": {");
    json_matrix(sb, "A", res->A, N, N);
    strbuf_puts(sb, ", ");
    ssmio_json_reals(sb, "B", res->B, N);
    if (res->Abar) {
        strbuf_puts(sb, ", ");
        json_matrix(sb, "Abar", res->Abar, N, N);
        strbuf_puts(sb, ", ");
        ssmio_json_reals(sb, "Bbar", res->Bbar, N);
    }
    strbuf_puts(sb, ", ");
    ssmio_json_reals(sb, "signal", f, L);
    /* Long runs print every stride-th row (and the last) with the sample numbers. */
    size_t stride = (L * N + HIPPO_JSON_COEFS - 1) / HIPPO_JSON_COEFS;
    strbuf_puts(sb, ", \"coefficients\": [");
    for (size_t k = 1, first = 1; k <= L; k++) {
        if (k % stride && k != L)
            continue;
        strbuf_puts(sb, first ? "" : ", ");
        first = 0;
        ssmio_json_list(sb, res->coefs + (k - 1) * N, N);
    }
    strbuf_putc(sb, ']');
    if (stride > 1)
        strbuf_printf(sb, ", \"coefficient_stride\": %zu", stride);
    strbuf_puts(sb, ", ");
    ssmio_json_reals(sb, "reconstruction", res->recon, L);
    strbuf_putc(sb, '}');
}

static double max_abs(const double *v, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = isnan(v[i]) || fabs(v[i]) > m ? fabs(v[i]) : m;
    return m;
}

static int run(const topic_args *args, trace *tr, topic_out *out)
{
    hippo_cfg cfg = {.measure = HIPPO_LEGS, .method = SSM_BILINEAR, .N = 8};
    const char *s = topic_opt_get(args, "measure");
    if (s && hippo_measure_parse(s, &cfg.measure)) {
        snprintf(out->err, sizeof out->err,
                 "--measure: unknown measure '%.40s' (expected legs, legt or lagt)", s);
        return TUTOR_EINVAL;
    }
    s = topic_opt_get(args, "method");
    if (s && ssm_method_parse(s, &cfg.method)) {
        snprintf(out->err, sizeof out->err,
                 "--method: unknown method '%.40s' (expected euler, backward, bilinear or zoh)", s);
        return TUTOR_EINVAL;
    }
    int rc = ssmio_size(args, "N", 8, 1, HIPPO_MAX_N, &cfg.N, out->err, sizeof out->err);
    if (rc)
        return rc;
    cfg.dense = topic_opt_has(args, "dense");
    if (cfg.measure != HIPPO_LEGS && cfg.dense)
        return topic_fail(out, TUTOR_EINVAL, "--dense applies to --measure legs only%s", "");
    if (cfg.measure != HIPPO_LEGT && topic_opt_get(args, "theta"))
        return topic_fail(out, TUTOR_EINVAL, "--theta applies to --measure legt only%s", "");
    if (cfg.measure == HIPPO_LEGS && topic_opt_get(args, "dt"))
        return topic_fail(out, TUTOR_EINVAL,
                          "--dt does not apply to --measure legs (its step k uses A/k, B/k)%s", "");
    double *f = NULL;
    size_t L = 0;
    rc = make_signal(&f, &L, args, out);
    if (rc)
        return rc;
    rc = TUTOR_ETOOBIG;
    if (L * cfg.N > HIPPO_MAX_COEFS) {
        snprintf(out->err, sizeof out->err,
                 "--N %zu with %zu samples stores %zu coefficients (at most %zu)", cfg.N, L,
                 L * cfg.N, HIPPO_MAX_COEFS);
        goto done;
    }
    if (cfg.measure == HIPPO_LEGS && cfg.method == SSM_ZOH &&
        pow((double)cfg.N + 16, 3) * (double)L > HIPPO_MAX_ZOH) {
        snprintf(out->err, sizeof out->err,
                 "--method zoh with LegS takes a matrix exponential per sample: (N+16)^3 L = "
                 "%.3g is over the cap %.3g (lower --N or the length)",
                 pow((double)cfg.N + 16, 3) * (double)L, HIPPO_MAX_ZOH);
        goto done;
    }
    double def_dt = (cfg.measure == HIPPO_LAGT ? 10.0 : 1.0) / (double)L;
    /* Below HIPPO_MIN_STEP, LegT's A (about N / theta) and the discretised matrices stop
     * being finite, which the discretisation could only report as a singular system. */
    rc = ssmio_real(args, "dt", def_dt, HIPPO_MIN_STEP, 0, 1e6, &cfg.dt, out->err, sizeof out->err);
    if (!rc)
        rc = ssmio_real(args, "theta", (double)L * cfg.dt, HIPPO_MIN_STEP, 0, 1e12, &cfg.theta,
                        out->err, sizeof out->err);
    if (rc)
        goto done;
    if (cfg.measure == HIPPO_LEGS)
        trace_set_listing(tr, hippo_legs_listing, hippo_legs_listing_len);
    else
        trace_set_listing(tr, hippo_lti_listing, hippo_lti_listing_len);
    hippo_result res;
    rc = hippo_run(&res, &cfg, f, L, tr);
    if (rc == TUTOR_EINVAL)
        snprintf(out->err, sizeof out->err,
                 "the %s discretisation failed: I - dt A is singular for this --dt",
                 ssm_method_name(cfg.method));
    if (rc)
        goto done;
    write_json(&out->json, &res, f);
    /* The error where the measure puts its weight: all samples for LegS, the window for
     * LegT, and for LagT the last 2 time units (weight e^-tau >= e^-2). */
    double err2 = 0;
    size_t cnt = 0;
    for (size_t i = 0; i < L; i++)
        if (!isnan(res.recon[i]) &&
            (cfg.measure != HIPPO_LAGT || (double)(L - 1 - i) * cfg.dt <= 2.0)) {
            err2 += (res.recon[i] - f[i]) * (res.recon[i] - f[i]);
            cnt++;
        }
    strbuf_printf(&out->text, "HiPPO-%s, N = %zu, %s, %zu samples\nfinal coefficients:\n",
                  hippo_measure_name(cfg.measure), cfg.N, ssm_method_name(cfg.method), L);
    mat_text(&out->text, res.coefs + (L - 1) * cfg.N, 1, cfg.N, 16, "  ");
    strbuf_printf(&out->text,
                  "reconstruction RMS error over the %zu samples the measure weighs most: %.4g\n",
                  cnt, cnt ? sqrt(err2 / (double)cnt) : 0.0);
    if (cfg.measure == HIPPO_LEGS && cfg.method == SSM_EULER && cfg.N > 2 &&
        !(max_abs(res.coefs + (L - 1) * cfg.N, cfg.N) <= 1e6))
        strbuf_puts(&out->text,
                    "note: forward Euler is unstable for LegS while k < N (the diagonal "
                    "of I + A/k is 1 - (n+1)/k); try --method bilinear\n");
    hippo_result_free(&res);
    rc = out->json.failed ? out->json.failed : out->text.failed;
done:
    mem_free(f);
    return rc;
}

static int random_input(uint64_t seed, strbuf *sb)
{
    static const char *const measures[] = {"legs", "legt", "lagt"};
    static const char *const methods[] = {"euler", "backward", "bilinear", "zoh"};
    static const char *const kinds[] = {"sine", "step", "noise"};
    rng r;
    rng_seed(&r, seed);
    int m = (int)rng_range(&r, 0, 2);
    /* Forward Euler is unstable for LegS while k < N: keep it to the others there. */
    int method = (int)rng_range(&r, m == 0 ? 1 : 0, 3);
    strbuf_printf(sb, "--measure %s --N %d --method %s --signal-kind %s --length %d", measures[m],
                  (int)rng_range(&r, 2, 12), methods[method], kinds[rng_range(&r, 0, 2)],
                  (int)rng_range(&r, 16, 128));
    return sb->failed;
}

const topic topic_hippo = {
    .id = "hippo",
    .family = "HiPPO & SSM",
    .title = "HiPPO online function approximation",
    .summary = "compress a signal's history into N polynomial coefficients, one step per sample",
    .usage =
        "HiPPO keeps N coefficients c of the signal's projection on orthogonal\n"
        "polynomials and updates them with one linear step per sample,\n"
        "c = Abar c + Bbar f[k]. The measure says which history is remembered:\n"
        "  legs  all of it, uniformly (scaled Legendre; step k uses A/k and B/k; zoh runs\n"
        "        over log-time, Abar = exp(A ln((k+1)/k)))\n"
        "  legt  a sliding window of --theta time units (translated Legendre)\n"
        "  lagt  an exponentially fading past (Laguerre)\n"
        "The signal is a file (--signal, one sample per line) or built in\n"
        "(--signal-kind, --length). The final coefficients reconstruct the signal:\n"
        "legs over all of it, legt over its window, lagt near the present.\n"
        "\n"
        "json: {\"topic\": \"hippo\", \"result\": [c...], \"intermediates\": {\"A\": [[...]],\n"
        "  \"B\": [...], \"Abar\", \"Bbar\" (legt, lagt), \"signal\": [...],\n"
        "  \"coefficients\": [[c after sample 1], ...] (L x N; beyond 2^18 values every\n"
        "  \"coefficient_stride\"-th row and the last), \"reconstruction\": [...] (null\n"
        "  outside legt's window)}}\n",
    .opts = hippo_opts,
    .example = "--measure legs --N 8 --method zoh",
    .notes = "hippo.md",
    .run = run,
    .random_input = random_input,
    .plot = topic_hippo_plot,
};
