/* topic_ssm.c: the ssm topic: `tutor run ssm --kind s4d --mode convolution`, and the other
 * kinds (lti, s4, mamba, lru, retention) with files or seeded random inputs. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../models/hippo.h"
#include "../../models/lru.h"
#include "../../models/mamba.h"
#include "../../models/mat.h"
#include "../../models/retention.h"
#include "../../models/s4d.h"
#include "../../models/s4.h"
#include "../../models/ssm.h"
#include "../../trace/mem.h"
#include "../../trace/rng.h"
#include "../../trace/status.h"
#include "topic.h"
#include "ssmio.h"

/* Caps, so a typo cannot exhaust memory or time. */
#define SSM_MAX_L     100000u              /* samples */
#define SSM_MAX_N     256u                 /* dense state size (lti, s4) */
#define SSM_MAX_WORK  ((double)(1u << 30)) /* L N^2 for the dense kernel / recurrence */
#define SSM_MAX_MODES 4096u                /* S4D state size, LRU state size */
#define SSM_MAX_CELLS ((size_t)1 << 22)    /* L x D x N for mamba, L x N for LRU's scan */
#define SSM_MAX_RET_L 2048u                /* retention's parallel form holds an L x L matrix */
/* Retention returns Q, K, V and O, L x d each: 2^20 values in all, whose JSON (most of the
 * run time when L d is large) is as long as that of attention's largest runs. */
#define SSM_MAX_RET_CELLS ((size_t)1 << 18)

typedef enum kind { K_LTI, K_S4, K_S4D, K_MAMBA, K_LRU, K_RETENTION } kind;
static const char *const kind_names[] = {"lti", "s4", "s4d", "mamba", "lru", "retention"};

static const topic_optspec ssm_opts[] = {
    {"kind", 1, "lti | s4 | s4d | mamba | lru | retention (required)"},
    {"mode", 1,
     "recurrent (default) | convolution (lti, s4, s4d) | scan (mamba, lru) | "
     "parallel (retention)"},
    {"A", 1, "lti: A file (N x N); mamba: A file (D x N)"},
    {"B", 1, "lti: B file (N values); mamba: B file (L x N)"},
    {"C", 1, "lti: C file (N values); mamba: C file (L x N)"},
    {"D", 1, "lti: the number D (default 0); mamba: D file (D values, default none)"},
    {"dt", 1, "lti (required), s4, s4d: the step, > 0 (s4, s4d default 1/L)"},
    {"method", 1, "lti (required), s4: bilinear | zoh (s4 default bilinear; s4d is zoh)"},
    {"u", 1, "input file: one sample per line (mamba: L rows of D); lti, mamba: required"},
    {"delta", 1, "mamba: Delta_raw file (L x D)"},
    {"z", 1, "mamba: gate file (L x D), optional"},
    {"N", 1,
     "state size: s4 (default 8), s4d (even, default 16), lru (default 8), "
     "retention d (default 4), mamba demo slots (default 4)"},
    {"length", 1, "samples of the random input (default 64; retention 16)"},
    {"init", 1, "s4d: lin | inv (default lin)"},
    {"r-min", 1, "lru: smallest |lambda|, in (0, 1) (default 0.5)"},
    {"r-max", 1, "lru: largest |lambda|, in (r-min, 1) (default 0.99)"},
    {"gamma", 1, "retention: the decay, in [0, 1] (default 0.9)"},
    {NULL, 0, NULL},
};

/* Everything a run allocates, freed in one place. */
typedef struct run_ctx {
    double *A, *B, *C, *Dv, *u, *delta, *z, *Abar, *Bbar, *K, *y, *Q, *Kq, *V, *Delta;
    double complex *cA, *cB, *cC, *cAbar, *cBbar, *dtA;
    mamba_demo demo;
    lru_params lru;
} run_ctx;

static void ctx_free(run_ctx *c)
{
    double *reals[] = {c->A,    c->B, c->C, c->Dv, c->u,  c->delta, c->z,    c->Abar,
                       c->Bbar, c->K, c->y, c->Q,  c->Kq, c->V,     c->Delta};
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++)
        mem_free(reals[i]);
    double complex *cs[] = {c->cA, c->cB, c->cC, c->cAbar, c->cBbar, c->dtA};
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
        mem_free(cs[i]);
    mamba_demo_free(&c->demo);
    lru_free(&c->lru);
}

/* Options that only some kinds take: refusing the others keeps a typo from being ignored. */
static int check_allowed(const topic_args *args, kind k, topic_out *out)
{
    static const struct {
        const char *name;
        unsigned kinds; /* bit per kind */
    } allowed[] = {
        {"A", 1u << K_LTI | 1u << K_MAMBA},
        {"B", 1u << K_LTI | 1u << K_MAMBA},
        {"C", 1u << K_LTI | 1u << K_MAMBA},
        {"D", 1u << K_LTI | 1u << K_MAMBA},
        {"dt", 1u << K_LTI | 1u << K_S4 | 1u << K_S4D},
        {"method", 1u << K_LTI | 1u << K_S4 | 1u << K_S4D},
        {"u", 1u << K_LTI | 1u << K_S4 | 1u << K_S4D | 1u << K_MAMBA | 1u << K_LRU},
        {"delta", 1u << K_MAMBA},
        {"z", 1u << K_MAMBA},
        {"N", 1u << K_S4 | 1u << K_S4D | 1u << K_MAMBA | 1u << K_LRU | 1u << K_RETENTION},
        {"length", 1u << K_S4 | 1u << K_S4D | 1u << K_MAMBA | 1u << K_LRU | 1u << K_RETENTION},
        {"init", 1u << K_S4D},
        {"r-min", 1u << K_LRU},
        {"r-max", 1u << K_LRU},
        {"gamma", 1u << K_RETENTION},
    };
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        if (topic_opt_get(args, allowed[i].name) && !(allowed[i].kinds & (1u << k)))
            return topic_fail(out, TUTOR_EINVAL,
                              "--%s does not apply to --kind %s (see 'tutor help ssm')",
                              allowed[i].name, kind_names[k]);
    return 0;
}

/* Loads option `name` as a vector of exactly n values (n = 0: any length >= 1, returned in
 * *got), as one row or one column. */
static int load_vec(const topic_args *args, const char *name, size_t n, size_t cap, double **v,
                    size_t *got, const char *why, topic_out *out)
{
    size_t rows, cols;
    int rc = ssmio_load(args, name, cap, v, &rows, &cols, out->err, sizeof out->err);
    if (rc)
        return rc;
    size_t len = rows * cols;
    if ((rows != 1 && cols != 1) || (n && len != n)) {
        mat_free(*v);
        *v = NULL;
        if (n)
            return topic_fail(out, TUTOR_ESHAPE, "--%s: expected %zu values (%s), got %zu x %zu",
                              name, n, why, rows, cols);
        return topic_fail(out, TUTOR_ESHAPE, "--%s: expected one value per line, got %zu x %zu",
                          name, rows, cols);
    }
    if (got)
        *got = len;
    return 0;
}

/* Loads option `name` as a rows x cols matrix (cols = 0: any width, returned in *gotc). */
static int load_mat(const topic_args *args, const char *name, size_t rows, size_t cols, double **v,
                    size_t *gotr, size_t *gotc, const char *why, topic_out *out)
{
    size_t r, c;
    int rc = ssmio_load(args, name, SSM_MAX_CELLS, v, &r, &c, out->err, sizeof out->err);
    if (rc)
        return rc;
    if ((rows && r != rows) || (cols && c != cols)) {
        mat_free(*v);
        *v = NULL;
        return topic_fail(out, TUTOR_ESHAPE, "--%s: expected %zu x %zu (%s), got %zu x %zu", name,
                          rows, cols, why, r, c);
    }
    if (gotr)
        *gotr = r;
    if (gotc)
        *gotc = c;
    return 0;
}

static int need(const topic_args *args, const char *name, kind k, topic_out *out)
{
    if (topic_opt_get(args, name))
        return 0;
    return topic_fail(out, TUTOR_EINVAL, "--kind %s needs --%s (see 'tutor help ssm')",
                      kind_names[k], name);
}

/* The input u: the --u file (one sample per line), or `length` seeded Gaussian samples. */
static int input_u(const topic_args *args, run_ctx *c, size_t *L, topic_out *out)
{
    if (topic_opt_get(args, "u")) {
        if (topic_opt_get(args, "length"))
            return topic_fail(out, TUTOR_EINVAL,
                              "--length applies to the random input only, not --u");
        return load_vec(args, "u", 0, SSM_MAX_L, &c->u, L, "", out);
    }
    int rc = ssmio_size(args, "length", 64, 1, SSM_MAX_L, L, out->err, sizeof out->err);
    if (rc)
        return rc;
    c->u = mem_alloc(*L * sizeof *c->u);
    if (!c->u)
        return TUTOR_ENOMEM;
    rng r;
    rng_seed(&r, args->seed ^ 0x5eedULL);
    for (size_t i = 0; i < *L; i++)
        c->u[i] = rng_gauss(&r);
    return 0;
}

static void json_mat(strbuf *sb, const char *name, const double *a, size_t rows, size_t cols)
{
    strbuf_json_str(sb, name);
    strbuf_puts(sb, ": ");
    mat_json(sb, a, rows, cols);
}

static int mode_of(const topic_args *args, kind k, int *conv, topic_out *out)
{
    const char *m = topic_opt_get(args, "mode");
    *conv = 0;
    if (!m || strcmp(m, "recurrent") == 0)
        return 0;
    const char *fast = k <= K_S4D ? "convolution" : k == K_RETENTION ? "parallel" : "scan";
    if (strcmp(m, fast) == 0) {
        *conv = 1;
        return 0;
    }
    return topic_fail(out, TUTOR_EINVAL,
                      "--mode: '%.30s' does not apply to --kind %s (expected "
                      "recurrent or %s)",
                      m, kind_names[k], fast);
}

/* lti and s4: a dense (A, B, C, D), discretised, then run either way. */
static int run_dense(const topic_args *args, kind k, int conv, run_ctx *c, trace *tr,
                     topic_out *out)
{
    size_t N, L, rows, cols;
    double D = 0, dt;
    ssm_method method = SSM_BILINEAR;
    int rc;
    if (k == K_LTI) {
        const char *req[] = {"A", "B", "C", "u", "dt", "method"};
        for (size_t i = 0; i < 6; i++)
            if ((rc = need(args, req[i], k, out)))
                return rc;
        if ((rc = load_mat(args, "A", 0, 0, &c->A, &rows, &cols, "", out)))
            return rc;
        if (rows != cols)
            return topic_fail(out, TUTOR_ESHAPE, "--A: expected a square matrix, got %zu x %zu",
                              rows, cols);
        N = rows;
        if (N > SSM_MAX_N)
            return topic_fail(out, TUTOR_ETOOBIG, "--A: %zu states is too big (at most %u)", N,
                              SSM_MAX_N);
        char why[64];
        snprintf(why, sizeof why, "A is %zu x %zu", N, N);
        if ((rc = load_vec(args, "B", N, SSM_MAX_N, &c->B, NULL, why, out)) ||
            (rc = load_vec(args, "C", N, SSM_MAX_N, &c->C, NULL, why, out)) ||
            (rc = ssmio_real(args, "D", 0, -1e300, 0, 1e300, &D, out->err, sizeof out->err)) ||
            (rc = input_u(args, c, &L, out)))
            return rc;
    } else {
        if ((rc = ssmio_size(args, "N", 8, 1, SSM_MAX_N, &N, out->err, sizeof out->err)) ||
            (rc = input_u(args, c, &L, out)))
            return rc;
        c->A = mem_alloc(N * N * sizeof *c->A);
        c->B = mem_alloc(N * sizeof *c->B);
        c->C = mem_alloc(N * sizeof *c->C);
        if (!c->A || !c->B || !c->C)
            return TUTOR_ENOMEM;
        rng r;
        rng_seed(&r, args->seed);
        s4_init(c->A, c->B, c->C, &D, N, &r);
    }
    const char *m = topic_opt_get(args, "method");
    if (m && (ssm_method_parse(m, &method) || (method != SSM_BILINEAR && method != SSM_ZOH)))
        return topic_fail(out, TUTOR_EINVAL, "--method: '%.30s' is not bilinear or zoh", m);
    if ((double)L * (double)N * (double)N > SSM_MAX_WORK)
        return topic_fail(out, TUTOR_ETOOBIG,
                          "L N^2 = %.3g is over the cap %.3g (fewer samples or states)",
                          (double)L * (double)N * (double)N, SSM_MAX_WORK);
    if ((rc = ssmio_real(args, "dt", 1.0 / (double)L, 0, 1, 1e6, &dt, out->err, sizeof out->err)))
        return rc;
    c->Abar = mem_alloc(N * N * sizeof *c->Abar);
    c->Bbar = mem_alloc(N * sizeof *c->Bbar);
    c->K = mem_alloc(L * sizeof *c->K);
    c->y = mem_alloc(L * sizeof *c->y);
    if (!c->Abar || !c->Bbar || !c->K || !c->y)
        return TUTOR_ENOMEM;
    rc = ssm_discretize(c->Abar, c->Bbar, c->A, c->B, N, dt, method);
    if (rc == TUTOR_EINVAL)
        return topic_fail(out, rc, "--dt %g: I - dt/2 A is singular, so bilinear is undefined", dt);
    if (rc)
        return rc;
    if (conv)
        trace_set_listing(tr, ssm_conv_listing, ssm_conv_listing_len);
    else
        trace_set_listing(tr, ssm_recurrent_listing, ssm_recurrent_listing_len);
    if (tr) {
        trace_step(tr, 1, "%s discretisation of a %zu-state %s with dt = %g",
                   ssm_method_name(method), N, k == K_S4 ? "S4 (HiPPO-LegS A)" : "LTI model", dt);
        trace_matrix(tr, "A", c->A, N, N);
        trace_matrix(tr, "Abar", c->Abar, N, N);
        trace_reals(tr, "Bbar", c->Bbar, N);
        trace_reals(tr, "C", c->C, N);
    }
    if (conv) {
        rc = ssm_convolution(c->y, c->K, c->Abar, c->Bbar, c->C, D, c->u, N, L, tr);
    } else {
        rc = ssm_recurrent(c->y, NULL, c->Abar, c->Bbar, c->C, D, c->u, N, L, tr);
        if (!rc)
            rc = ssm_kernel(c->K, c->Abar, c->Bbar, c->C, N, L);
    }
    if (rc)
        return rc;
    strbuf *sb = &out->json;
    strbuf_printf(sb, "\"kind\": \"%s\", \"mode\": \"%s\", \"result\": ", kind_names[k],
                  conv ? "convolution" : "recurrent");
    ssmio_json_list(sb, c->y, L);
    strbuf_puts(sb, ", \"intermediates\": {");
    json_mat(sb, "A", c->A, N, N);
    strbuf_puts(sb, ", ");
    ssmio_json_reals(sb, "B", c->B, N);
    strbuf_puts(sb, ", ");
    ssmio_json_reals(sb, "C", c->C, N);
    strbuf_puts(sb, ", \"D\": ");
    strbuf_json_double(sb, D);
    strbuf_printf(sb, ", \"dt\": ");
    strbuf_json_double(sb, dt);
    strbuf_puts(sb, ", ");
    json_mat(sb, "Abar", c->Abar, N, N);
    strbuf_puts(sb, ", ");
    ssmio_json_reals(sb, "Bbar", c->Bbar, N);
    strbuf_puts(sb, ", ");
    ssmio_json_reals(sb, "kernel", c->K, L);
    strbuf_puts(sb, ", ");
    ssmio_json_reals(sb, "u", c->u, L);
    strbuf_putc(sb, '}');
    strbuf_printf(&out->text, "%s, N = %zu, %s with dt = %g, %s mode, %zu samples\ny:\n",
                  k == K_S4 ? "S4 (HiPPO-LegS A)" : "LTI SSM", N, ssm_method_name(method), dt,
                  conv ? "convolution" : "recurrent", L);
    return mat_text(&out->text, c->y, 1, L, 16, "  ");
}

static int run_s4d(const topic_args *args, int conv, run_ctx *c, trace *tr, topic_out *out)
{
    size_t N, L;
    double D, dt;
    int rc;
    s4d_init_kind init = S4D_LIN;
    const char *s = topic_opt_get(args, "init");
    if (s && strcmp(s, "lin") != 0 && strcmp(s, "inv") != 0)
        return topic_fail(out, TUTOR_EINVAL, "--init: unknown '%.30s' (expected lin or inv)", s);
    if (s && strcmp(s, "inv") == 0)
        init = S4D_INV;
    s = topic_opt_get(args, "method");
    if (s && strcmp(s, "zoh") != 0)
        return topic_fail(out, TUTOR_EINVAL, "--method: s4d discretises with zoh only, not '%.30s'",
                          s);
    if ((rc = ssmio_size(args, "N", 16, 2, SSM_MAX_MODES, &N, out->err, sizeof out->err)))
        return rc;
    if (N % 2)
        return topic_fail(out, TUTOR_EINVAL,
                          "--N: %zu is odd; s4d keeps N/2 modes and their conjugates", N);
    if ((rc = input_u(args, c, &L, out)))
        return rc;
    if ((double)L * (double)N > (double)SSM_MAX_CELLS * 16)
        return topic_fail(out, TUTOR_ETOOBIG, "L N = %.3g is over the cap", (double)L * (double)N);
    if ((rc = ssmio_real(args, "dt", 1.0 / (double)L, 0, 1, 1e6, &dt, out->err, sizeof out->err)))
        return rc;
    size_t M = N / 2;
    c->cA = mem_alloc(M * sizeof *c->cA);
    c->cB = mem_alloc(M * sizeof *c->cB);
    c->cC = mem_alloc(M * sizeof *c->cC);
    c->cAbar = mem_alloc(M * sizeof *c->cAbar);
    c->cBbar = mem_alloc(M * sizeof *c->cBbar);
    c->dtA = mem_alloc(M * sizeof *c->dtA);
    c->K = mem_alloc(L * sizeof *c->K);
    c->y = mem_alloc(L * sizeof *c->y);
    if (!c->cA || !c->cB || !c->cC || !c->cAbar || !c->cBbar || !c->dtA || !c->K || !c->y)
        return TUTOR_ENOMEM;
    rng r;
    rng_seed(&r, args->seed);
    s4d_init(c->cA, c->cB, c->cC, &D, M, init, &r);
    if ((rc = s4d_discretize(c->cAbar, c->cBbar, c->cA, c->cB, M, dt)))
        return rc;
    for (size_t n = 0; n < M; n++)
        c->dtA[n] = dt * c->cA[n];
    trace_set_listing(tr, s4d_listing, s4d_listing_len);
    if (tr) {
        double *show = mem_alloc(4 * M * sizeof *show);
        if (!show)
            return TUTOR_ENOMEM;
        for (size_t n = 0; n < M; n++) {
            show[2 * n] = creal(c->cA[n]);
            show[2 * n + 1] = cimag(c->cA[n]);
            show[2 * M + 2 * n] = creal(c->cAbar[n]);
            show[2 * M + 2 * n + 1] = cimag(c->cAbar[n]);
        }
        trace_step(tr, 1, "S4D-%s: %zu modes (N = %zu with the conjugates)",
                   init == S4D_LIN ? "Lin" : "Inv", M, N);
        trace_matrix(tr, "A (re, im)", show, M, 2);
        trace_step(tr, 2, "zoh with dt = %g: |Abar| = exp(-dt/2) = %.4g for every mode", dt,
                   cabs(c->cAbar[0]));
        trace_matrix(tr, "Abar (re, im)", show + 2 * M, M, 2);
        mem_free(show);
    }
    if (conv) {
        rc = s4d_convolution(c->y, c->K, c->dtA, c->cBbar, c->cC, D, c->u, M, L, tr);
    } else {
        rc = s4d_recurrent(c->y, c->cAbar, c->cBbar, c->cC, D, c->u, M, L, tr);
        s4d_kernel(c->K, c->dtA, c->cBbar, c->cC, M, L);
    }
    if (rc)
        return rc;
    strbuf *sb = &out->json;
    strbuf_printf(sb, "\"kind\": \"s4d\", \"mode\": \"%s\", \"result\": ",
                  conv ? "convolution" : "recurrent");
    ssmio_json_list(sb, c->y, L);
    strbuf_puts(sb, ", \"intermediates\": {");
    ssmio_json_complex(sb, "A", c->cA, M);
    strbuf_puts(sb, ", ");
    ssmio_json_complex(sb, "C", c->cC, M);
    strbuf_puts(sb, ", \"D\": ");
    strbuf_json_double(sb, D);
    strbuf_puts(sb, ", \"dt\": ");
    strbuf_json_double(sb, dt);
    strbuf_puts(sb, ", ");
    ssmio_json_complex(sb, "Abar", c->cAbar, M);
    strbuf_puts(sb, ", ");
    ssmio_json_complex(sb, "Bbar", c->cBbar, M);
    strbuf_puts(sb, ", ");
    ssmio_json_reals(sb, "kernel", c->K, L);
    strbuf_puts(sb, ", ");
    ssmio_json_reals(sb, "u", c->u, L);
    strbuf_putc(sb, '}');
    strbuf_printf(&out->text,
                  "S4D-%s, N = %zu (%zu modes), zoh with dt = %g, %s mode, %zu samples\n"
                  "y:\n",
                  init == S4D_LIN ? "Lin" : "Inv", N, M, dt, conv ? "convolution" : "recurrent", L);
    return mat_text(&out->text, c->y, 1, L, 16, "  ");
}

static int run_mamba(const topic_args *args, int conv, run_ctx *c, trace *tr, topic_out *out)
{
    mamba_in in = {0};
    int rc, demo = !topic_opt_get(args, "u");
    if (demo) {
        const char *files[] = {"A", "B", "C", "D", "delta", "z"};
        for (size_t i = 0; i < 6; i++)
            if (topic_opt_get(args, files[i]))
                return topic_fail(
                    out, TUTOR_EINVAL,
                    "--%s needs --u too (without --u, mamba runs the selective-copying "
                    "demo)",
                    files[i]);
        size_t L, K;
        if ((rc = ssmio_size(args, "N", 4, 1, 64, &K, out->err, sizeof out->err)) ||
            (rc = ssmio_size(args, "length", 64, 2, SSM_MAX_CELLS / 64, &L, out->err,
                             sizeof out->err)))
            return rc;
        if (L < 2 * K)
            return topic_fail(out, TUTOR_EINVAL,
                              "--length %zu is too short for %zu marked tokens and %zu queries", L,
                              K, K);
        if ((rc = mamba_selective_copy(&c->demo, L, K, args->seed)))
            return rc;
        in = mamba_demo_input(&c->demo);
    } else {
        if (topic_opt_get(args, "N") || topic_opt_get(args, "length"))
            return topic_fail(out, TUTOR_EINVAL,
                              "--N and --length are for the demo; with --u the "
                              "files give the sizes");
        const char *req[] = {"delta", "A", "B", "C"};
        for (size_t i = 0; i < 4; i++)
            if ((rc = need(args, req[i], K_MAMBA, out)))
                return rc;
        size_t L, D, N;
        char why[64];
        if ((rc = load_mat(args, "u", 0, 0, &c->u, &L, &D, "", out)))
            return rc;
        snprintf(why, sizeof why, "u is %zu x %zu", L, D);
        if ((rc = load_mat(args, "delta", L, D, &c->delta, NULL, NULL, why, out)) ||
            (rc = load_mat(args, "A", D, 0, &c->A, NULL, &N, why, out)))
            return rc;
        snprintf(why, sizeof why, "u has %zu rows, A has %zu columns", L, N);
        if ((rc = load_mat(args, "B", L, N, &c->B, NULL, NULL, why, out)) ||
            (rc = load_mat(args, "C", L, N, &c->C, NULL, NULL, why, out)))
            return rc;
        snprintf(why, sizeof why, "u is %zu x %zu", L, D);
        if (topic_opt_get(args, "D") &&
            (rc = load_vec(args, "D", D, SSM_MAX_CELLS, &c->Dv, NULL, why, out)))
            return rc;
        if (topic_opt_get(args, "z") &&
            (rc = load_mat(args, "z", L, D, &c->z, NULL, NULL, why, out)))
            return rc;
        if ((double)L * (double)D * (double)N > (double)SSM_MAX_CELLS)
            return topic_fail(out, TUTOR_ETOOBIG, "L x D x N = %zu x %zu x %zu is over the cap %zu",
                              L, D, N, SSM_MAX_CELLS);
        in = (mamba_in){.L = L,
                        .D = D,
                        .N = N,
                        .u = c->u,
                        .delta_raw = c->delta,
                        .A = c->A,
                        .B = c->B,
                        .C = c->C,
                        .Dskip = c->Dv,
                        .z = c->z};
    }
    c->y = mem_alloc(in.L * in.D * sizeof *c->y);
    c->Delta = mem_alloc(in.L * in.D * sizeof *c->Delta);
    if (!c->y || !c->Delta)
        return TUTOR_ENOMEM;
    trace_set_listing(tr, mamba_listing, mamba_listing_len);
    for (size_t i = 0; i < in.L * in.D; i++)
        c->Delta[i] = mamba_softplus(in.delta_raw[i]);
    rc = conv ? mamba_scan_parallel(c->y, &in, tr) : mamba_scan(c->y, NULL, &in, tr);
    if (rc)
        return rc;
    strbuf *sb = &out->json;
    strbuf_printf(
        sb, "\"kind\": \"mamba\", \"mode\": \"%s\", \"result\": ", conv ? "scan" : "recurrent");
    mat_json(sb, c->y, in.L, in.D);
    strbuf_puts(sb, ", \"intermediates\": {");
    json_mat(sb, "Delta", c->Delta, in.L, in.D);
    if (demo) {
        strbuf_puts(sb, ", ");
        ssmio_json_reals(sb, "u", in.u, in.L);
        strbuf_puts(sb, ", ");
        ssmio_json_reals(sb, "target", c->demo.target, c->demo.K);
        /* Indices into "u", from 0 like every array here: u[marked[j]] is target[j]. */
        strbuf_puts(sb, ", \"marked\": [");
        for (size_t j = 0; j < c->demo.K; j++)
            strbuf_printf(sb, j ? ", %zu" : "%zu", c->demo.marked[j]);
        strbuf_putc(sb, ']');
    }
    strbuf_putc(sb, '}');
    if (demo) {
        strbuf_printf(&out->text,
                      "Mamba selective copying: %zu marked tokens among %zu, read back by the last "
                      "%zu queries\n     index  target     output\n",
                      c->demo.K, in.L - c->demo.K, c->demo.K);
        for (size_t j = 0; j < c->demo.K; j++)
            strbuf_printf(&out->text, "  %8zu  %9.4f  %9.4f\n", c->demo.marked[j],
                          c->demo.target[j], c->y[in.L - c->demo.K + j]);
        return out->text.failed;
    }
    strbuf_printf(&out->text, "Mamba selective scan (%s), L = %zu, D = %zu, N = %zu\ny:\n",
                  conv ? "parallel scan" : "sequential", in.L, in.D, in.N);
    return mat_text(&out->text, c->y, in.L, in.D, 16, "  ");
}

static int run_lru(const topic_args *args, int conv, run_ctx *c, trace *tr, topic_out *out)
{
    size_t N, L;
    double rmin, rmax;
    int rc;
    if ((rc = ssmio_size(args, "N", 8, 1, SSM_MAX_MODES, &N, out->err, sizeof out->err)) ||
        (rc = ssmio_real(args, "r-min", 0.5, 0, 1, 1, &rmin, out->err, sizeof out->err)) ||
        (rc = ssmio_real(args, "r-max", 0.99, 0, 1, 1, &rmax, out->err, sizeof out->err)))
        return rc;
    if (!(rmin < rmax) || !(rmax < 1))
        return topic_fail(out, TUTOR_ERANGE,
                          "--r-min %g and --r-max %g must satisfy 0 < r-min < "
                          "r-max < 1",
                          rmin, rmax);
    if ((rc = input_u(args, c, &L, out)))
        return rc;
    if ((double)L * (double)N > (double)SSM_MAX_CELLS)
        return topic_fail(out, TUTOR_ETOOBIG, "L N = %zu x %zu is over the cap %zu", L, N,
                          SSM_MAX_CELLS);
    rng r;
    rng_seed(&r, args->seed);
    if ((rc = lru_init(&c->lru, N, 1, rmin, rmax, M_PI, &r)))
        return rc;
    c->y = mem_alloc(L * sizeof *c->y);
    if (!c->y)
        return TUTOR_ENOMEM;
    trace_set_listing(tr, lru_listing, lru_listing_len);
    rc = conv ? lru_scan(c->y, &c->lru, c->u, L, tr) : lru_recurrent(c->y, &c->lru, c->u, L, tr);
    if (rc)
        return rc;
    strbuf *sb = &out->json;
    strbuf_printf(sb,
                  "\"kind\": \"lru\", \"mode\": \"%s\", \"result\": ", conv ? "scan" : "recurrent");
    ssmio_json_list(sb, c->y, L);
    strbuf_puts(sb, ", \"intermediates\": {");
    ssmio_json_complex(sb, "Abar", c->lru.lambda, N);
    /* Bbar = gamma * B: the input map the recurrence applies (H = 1: a column). */
    c->cBbar = mem_alloc(N * sizeof *c->cBbar);
    if (!c->cBbar)
        return TUTOR_ENOMEM;
    for (size_t n = 0; n < N; n++)
        c->cBbar[n] = c->lru.gamma[n] * c->lru.B[n];
    strbuf_puts(sb, ", ");
    ssmio_json_complex(sb, "Bbar", c->cBbar, N);
    strbuf_puts(sb, ", ");
    ssmio_json_reals(sb, "gamma", c->lru.gamma, N);
    strbuf_puts(sb, ", ");
    ssmio_json_reals(sb, "nu", c->lru.nu, N);
    strbuf_puts(sb, ", ");
    ssmio_json_reals(sb, "theta", c->lru.theta, N);
    strbuf_puts(sb, ", ");
    ssmio_json_reals(sb, "u", c->u, L);
    strbuf_putc(sb, '}');
    strbuf_printf(&out->text, "LRU, N = %zu, |lambda| in [%g, %g], %s, %zu samples\ny:\n", N, rmin,
                  rmax, conv ? "parallel scan" : "recurrent", L);
    return mat_text(&out->text, c->y, 1, L, 16, "  ");
}

static int run_retention(const topic_args *args, int conv, run_ctx *c, trace *tr, topic_out *out)
{
    size_t d, L;
    double gamma;
    int rc;
    if ((rc = ssmio_size(args, "N", 4, 1, 256, &d, out->err, sizeof out->err)) ||
        (rc = ssmio_size(args, "length", 16, 1, conv ? SSM_MAX_RET_L : SSM_MAX_L, &L, out->err,
                         sizeof out->err)) ||
        (rc = ssmio_real(args, "gamma", 0.9, 0, 0, 1, &gamma, out->err, sizeof out->err)))
        return rc;
    if ((double)L * (double)d > (double)SSM_MAX_RET_CELLS)
        return topic_fail(out, TUTOR_ETOOBIG,
                          "--length %zu with --N %zu: L N is over the cap %zu (fewer samples or "
                          "a smaller --N)",
                          L, d, SSM_MAX_RET_CELLS);
    c->Q = mem_alloc(L * d * sizeof *c->Q);
    c->Kq = mem_alloc(L * d * sizeof *c->Kq);
    c->V = mem_alloc(L * d * sizeof *c->V);
    c->y = mem_alloc(L * d * sizeof *c->y);
    if (!c->Q || !c->Kq || !c->V || !c->y)
        return TUTOR_ENOMEM;
    rng r;
    rng_seed(&r, args->seed);
    double scale = 1 / sqrt((double)d);
    mat_gauss(c->Q, L * d, &r, scale);
    mat_gauss(c->Kq, L * d, &r, scale);
    mat_gauss(c->V, L * d, &r, 1);
    trace_set_listing(tr, retention_listing, retention_listing_len);
    if (tr) {
        trace_step(tr, conv ? 1 : 4, "random Q, K (N(0, 1/d)) and V (N(0, 1)), gamma = %g", gamma);
        trace_matrix(tr, "Q", c->Q, L, d);
        trace_matrix(tr, "K", c->Kq, L, d);
        trace_matrix(tr, "V", c->V, L, d);
    }
    rc = conv ? retention_parallel(c->y, c->Q, c->Kq, c->V, gamma, L, d, d, tr)
              : retention_recurrent(c->y, c->Q, c->Kq, c->V, gamma, L, d, d, tr);
    if (rc)
        return rc;
    strbuf *sb = &out->json;
    strbuf_printf(sb, "\"kind\": \"retention\", \"mode\": \"%s\", \"result\": ",
                  conv ? "parallel" : "recurrent");
    mat_json(sb, c->y, L, d);
    strbuf_puts(sb, ", \"intermediates\": {\"gamma\": ");
    strbuf_json_double(sb, gamma);
    strbuf_puts(sb, ", ");
    json_mat(sb, "Q", c->Q, L, d);
    strbuf_puts(sb, ", ");
    json_mat(sb, "K", c->Kq, L, d);
    strbuf_puts(sb, ", ");
    json_mat(sb, "V", c->V, L, d);
    strbuf_putc(sb, '}');
    strbuf_printf(&out->text, "retention, d = dv = %zu, gamma = %g, %s form, %zu steps\nO:\n", d,
                  gamma, conv ? "parallel" : "recurrent", L);
    return mat_text(&out->text, c->y, L, d, 16, "  ");
}

static int run(const topic_args *args, trace *tr, topic_out *out)
{
    const char *s = topic_opt_get(args, "kind");
    if (!s)
        return topic_fail(
            out, TUTOR_EINVAL,
            "missing --kind (lti, s4, s4d, mamba, lru or retention; see 'tutor help ssm')");
    int k = -1;
    for (int i = 0; i < 6; i++)
        if (strcmp(s, kind_names[i]) == 0)
            k = i;
    if (k < 0)
        return topic_fail(
            out, TUTOR_EINVAL,
            "--kind: unknown kind '%.30s' (expected lti, s4, s4d, mamba, lru or retention)", s);
    int conv, rc;
    if ((rc = check_allowed(args, (kind)k, out)) || (rc = mode_of(args, (kind)k, &conv, out)))
        return rc;
    run_ctx c = {0};
    switch ((kind)k) {
    case K_LTI:
    case K_S4: rc = run_dense(args, (kind)k, conv, &c, tr, out); break;
    case K_S4D: rc = run_s4d(args, conv, &c, tr, out); break;
    case K_MAMBA: rc = run_mamba(args, conv, &c, tr, out); break;
    case K_LRU: rc = run_lru(args, conv, &c, tr, out); break;
    case K_RETENTION: rc = run_retention(args, conv, &c, tr, out); break;
    }
    ctx_free(&c);
    if (!rc)
        rc = out->json.failed ? out->json.failed : out->text.failed;
    return rc;
}

static int random_input(uint64_t seed, strbuf *sb)
{
    rng r;
    rng_seed(&r, seed);
    switch (rng_range(&r, 0, 4)) {
    case 0:
        strbuf_printf(sb, "--kind s4 --N %d --length %d --mode %s", (int)rng_range(&r, 2, 12),
                      (int)rng_range(&r, 16, 128),
                      rng_range(&r, 0, 1) ? "convolution" : "recurrent");
        break;
    case 1:
        strbuf_printf(sb, "--kind s4d --N %d --init %s --length %d", 2 * (int)rng_range(&r, 1, 16),
                      rng_range(&r, 0, 1) ? "inv" : "lin", (int)rng_range(&r, 16, 128));
        break;
    case 2:
        strbuf_printf(sb, "--kind mamba --N %d --length %d", (int)rng_range(&r, 2, 6),
                      (int)rng_range(&r, 24, 96));
        break;
    case 3:
        strbuf_printf(sb, "--kind lru --N %d --length %d", (int)rng_range(&r, 2, 16),
                      (int)rng_range(&r, 16, 128));
        break;
    default:
        strbuf_printf(sb, "--kind retention --N %d --length %d --gamma 0.%d",
                      (int)rng_range(&r, 2, 8), (int)rng_range(&r, 4, 32),
                      (int)rng_range(&r, 5, 99));
        break;
    }
    return sb->failed;
}

const topic topic_ssm = {
    .id = "ssm",
    .family = "HiPPO & SSM",
    .title = "State-space models: S4, S4D, Mamba, LRU, retention",
    .summary = "linear recurrences run step by step or as one long convolution / scan",
    .usage =
        "A discrete state-space model x_k = Abar x_{k-1} + Bbar u_k, y_k = C x_k + D u_k\n"
        "runs as a recurrence, or (time-invariant kinds) as a convolution of u with the\n"
        "kernel K = (C Bbar, C Abar Bbar, ...) through the FFT, or (mamba, lru) as a\n"
        "parallel associative scan. Kinds:\n"
        "  lti        your own A, B, C files, --D, --dt, --method bilinear|zoh, --u file\n"
        "  s4         HiPPO-LegS A with a seeded random C (--N, --dt, --method)\n"
        "  s4d        diagonal complex A, --init lin|inv, zoh, Vandermonde kernel (--N even)\n"
        "  mamba      selective scan from files (--u L x D, --delta L x D, --A D x N,\n"
        "             --B L x N, --C L x N, optional --D, --z); without --u, the selective-\n"
        "             copying demo (--N marked tokens among --length, seeded)\n"
        "  lru        Linear Recurrent Unit, eigenvalues on a ring (--N, --r-min, --r-max)\n"
        "  retention  decayed linear attention, parallel or recurrent (--N = d, --gamma;\n"
        "             --length times --N at most 2^18)\n"
        "Without --u, s4, s4d and lru read --length seeded Gaussian samples.\n"
        "\n"
        "json: {\"topic\": \"ssm\", \"kind\": K, \"mode\": M, \"result\": y (L values; L x D rows\n"
        "  for mamba, L x d for retention), \"intermediates\": {\"Abar\", \"Bbar\", \"kernel\"\n"
        "  where they exist (complex values as {\"re\": [...], \"im\": [...]}), \"Delta\"\n"
        "  for mamba, ...}}\n",
    .opts = ssm_opts,
    .example = "--kind s4d --mode convolution --length 32",
    .notes = "ssm.md",
    .run = run,
    .random_input = random_input,
    .plot = topic_ssm_plot,
};
