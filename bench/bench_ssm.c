/* bench_ssm.c: state-space models: S4D's kernel and FFT convolution, Mamba's selective scan,
 * and HiPPO-LegS's structured step against the dense one.
 *
 * S4D: N = 64 (M = 32 kept modes, S4D-Lin, dt = 0.01), L = 65536 samples: ours builds the
 * kernel by the Vandermonde product and convolves through FFTW; numpy does the same algebra
 * with np.exp on the (M, L) powers and np.fft's rfft. Mamba: L = 4096, D = 256, N = 16,
 * A[d][n] = -(n + 1) (S4D-real), gate and skip on: ours is the sequential scan, numpy a loop
 * over time vectorised over the (D, N) state. LegS: N = 1024, 16 consecutive steps from a
 * zero state, the O(N) structured step against the O(N^2) dense one (both ours). */
#include <complex.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../models/fastexp.h"
#include "../models/hippo.h"
#include "../models/mamba.h"
#include "../models/par.h"
#include "../models/s4d.h"
#include "../trace/mem.h"
#include "../trace/rng.h"
#include "bench.h"

#define S4D_M     32
#define S4D_L     65536
#define MAMBA_L   4096
#define MAMBA_D   256
#define MAMBA_N   16
#define LEGS_N    1024
#define LEGS_STEP 16

typedef struct s4d_run {
    double *y;
    const double complex *dtA, *Bbar, *C;
    double D;
    const double *u;
} s4d_run;

static int ours_s4d(void *vctx)
{
    s4d_run *r = vctx;
    return s4d_convolution(r->y, NULL, r->dtA, r->Bbar, r->C, r->D, r->u, S4D_M, S4D_L, NULL);
}

typedef struct legs_run {
    double *c;
    const double *A, *B;
    double *work;
    ssm_method method;
} legs_run;

static double legs_input(size_t k)
{
    return sin(0.1 * (double)k);
}

static int legs_dense(void *vctx)
{
    legs_run *r = vctx;
    memset(r->c, 0, LEGS_N * sizeof *r->c);
    for (size_t k = 1; k <= LEGS_STEP; k++) {
        int rc =
            hippo_legs_step_dense(r->c, r->A, r->B, legs_input(k), k, LEGS_N, r->method, r->work);
        if (rc)
            return rc;
    }
    return 0;
}

static int legs_fast(void *vctx)
{
    legs_run *r = vctx;
    memset(r->c, 0, LEGS_N * sizeof *r->c);
    for (size_t k = 1; k <= LEGS_STEP; k++) {
        int rc = hippo_legs_step_fast(r->c, legs_input(k), k, LEGS_N, r->method);
        if (rc)
            return rc;
    }
    return 0;
}

/* Runs a numpy peer whose output is `count` doubles and checks it against ours (y) with a
 * relative tolerance. Fills row->peer_t and row->note. */
static void numpy_row(bench_row *row, const char *pycase, const void *const *parts,
                      const size_t *bytes, size_t nparts, const char *const *args, size_t nargs,
                      const double *y, size_t count, double tol)
{
    static char note[176];
    char *in = bench_tmp_write(parts, bytes, nparts);
    char *out = bench_tmp_new();
    double *check = mem_alloc(count * sizeof *check);
    bench_py py;
    bench_python(&py, pycase, in, out, 3, args, nargs);
    row->peer_t = py.t;
    row->note = NULL;
    if (!py.t.n) {
        snprintf(note, sizeof note, "%.160s", py.note);
        row->note = note;
    } else if (!check || !out || bench_read_doubles(check, count, out) != 0) {
        row->note = "no output to check";
    } else {
        double diff = bench_rel_diff(y, check, count);
        if (!(diff < tol)) {
            snprintf(note, sizeof note, "ANSWERS DIFFER (relative %.1e)", diff);
            row->note = note;
        }
    }
    mem_free(check);
    bench_tmp_drop(in);
    bench_tmp_drop(out);
}

static void case_s4d(void)
{
    double complex A[S4D_M], B[S4D_M], C[S4D_M], Abar[S4D_M], Bbar[S4D_M], dtA[S4D_M];
    double D, dt = 0.01;
    rng r;
    rng_seed(&r, 4);
    s4d_init(A, B, C, &D, S4D_M, S4D_LIN, &r);
    if (s4d_discretize(Abar, Bbar, A, B, S4D_M, dt))
        return;
    for (size_t n = 0; n < S4D_M; n++)
        dtA[n] = dt * A[n];
    double *u = mem_alloc(S4D_L * sizeof *u), *y = mem_alloc(S4D_L * sizeof *y);
    if (!u || !y)
        goto out;
    for (size_t t = 0; t < S4D_L; t++)
        u[t] = rng_gauss(&r);
    s4d_run ctx = {y, dtA, Bbar, C, D, u};
    bench_row row = {.size = "L=65536 N=64", .n = S4D_L, .ours = "s4d_convolution"};
    row.peer = "numpy exp + rfft";
    row.need = 1;
    row.target = ">= 1 (no slower)";
    row.why = "cost (not profiled this round): the FFT convolution (FFTW) and the kernel's "
              "powers; the Python peer is not alternated with ours";
    if (bench_time(&row.ours_t, ours_s4d, &ctx, 5) == 0) {
        /* double complex is laid out as two doubles (C11 6.2.5), as numpy reads it. */
        const void *parts[] = {dtA, Bbar, C, &D, u};
        size_t bytes[] = {sizeof dtA, sizeof Bbar, sizeof C, sizeof D, S4D_L * sizeof *u};
        const char *args[] = {"32", "65536"};
        numpy_row(&row, "s4d", parts, bytes, 5, args, 2, y, S4D_L, 1e-8);
        bench_report(&row);
    }
out:
    mem_free(u);
    mem_free(y);
}

/* ---- the floor: the scan's L D N exponentials and multiply-adds, and nothing else ----
 *
 * h[i] = exp(s[t] x[i]) h[i] + b[i] for t < L over D N values: per state and step one
 * product for the argument, one exponential (fastexp's, the same accuracy as the scan's)
 * and one multiply-add, the least arithmetic a scan of this size can do. Compiled here, in
 * the same build, in the same three forms as the scan (portable, AVX2 + FMA, AVX-512 + FMA),
 * and run in the widest the CPU has, which the scan also uses; the values are walked in
 * chunks that stay in L1 over all L steps, so nothing waits for memory. */
#define FLOOR_CHUNK 1024

typedef struct floor_run {
    const double *x, *s, *b; /* (D N), (L), (D N) */
    double *h;               /* (D N), the state, left as the last step made it */
    size_t n, L, parts;
    int level;
} floor_run;

static inline __attribute__((always_inline)) void floor_body(const floor_run *f, size_t i0,
                                                             size_t i1, int fused)
{
    for (size_t c = i0; c < i1; c += FLOOR_CHUNK) {
        size_t e = i1 - c < FLOOR_CHUNK ? i1 : c + FLOOR_CHUNK;
        double *h = f->h;
        for (size_t i = c; i < e; i++)
            h[i] = 0;
        for (size_t t = 0; t < f->L; t++) {
            double st = f->s[t];
            for (size_t i = c; i < e; i++)
                h[i] = FASTEXP_MADD(fastexp1_madd(st * f->x[i], fused), h[i], f->b[i], fused);
        }
    }
}

FASTEXP_VECTORIZE static void floor_portable(const floor_run *f, size_t i0, size_t i1)
{
    floor_body(f, i0, i1, 0);
}

#if FASTEXP_FMA_CLONES
FASTEXP_FMA_AVX2 static void floor_avx2(const floor_run *f, size_t i0, size_t i1)
{
    floor_body(f, i0, i1, 1);
}

FASTEXP_FMA_AVX512 static void floor_avx512(const floor_run *f, size_t i0, size_t i1)
{
    floor_body(f, i0, i1, 1);
}
#endif

static void floor_part(void *vctx, size_t part, size_t parts)
{
    const floor_run *f = vctx;
    /* Parts of whole 8-value vectors, as the scan's channel blocks are. */
    size_t per = (f->n + parts - 1) / parts;
    per = (per + 7) / 8 * 8;
    size_t i0 = part * per, i1 = i0 + per > f->n ? f->n : i0 + per;
    if (i0 >= i1)
        return;
#if FASTEXP_FMA_CLONES
    if (f->level == 2) {
        floor_avx512(f, i0, i1);
        return;
    }
    if (f->level == 1) {
        floor_avx2(f, i0, i1);
        return;
    }
#endif
    floor_portable(f, i0, i1);
}

static int floor_call(void *vctx)
{
    floor_run *f = vctx;
    par_run(floor_part, f, f->parts);
    return 0;
}

typedef struct floor_data {
    double *x, *s, *b, *h;
    floor_run run;
} floor_data;

static void floor_free(floor_data *fd)
{
    mem_free(fd->x);
    mem_free(fd->s);
    mem_free(fd->b);
    mem_free(fd->h);
}

/* The floor's inputs: x = A's range (-16 .. -1), s = Delta's (0.1 .. 2.1). Returns 0 or -1. */
static int floor_new(floor_data *fd, int level)
{
    size_t n = (size_t)MAMBA_D * MAMBA_N;
    fd->x = mem_alloc(n * sizeof *fd->x);
    fd->b = mem_alloc(n * sizeof *fd->b);
    fd->h = mem_alloc(n * sizeof *fd->h);
    fd->s = mem_alloc(MAMBA_L * sizeof *fd->s);
    if (!fd->x || !fd->b || !fd->h || !fd->s)
        return -1;
    rng r;
    rng_seed(&r, 7);
    for (size_t i = 0; i < n; i++) {
        fd->x[i] = -1 - 15 * rng_uniform(&r);
        fd->b[i] = rng_gauss(&r);
    }
    for (size_t t = 0; t < MAMBA_L; t++)
        fd->s[t] = 0.1 + 2 * rng_uniform(&r);
    fd->run = (floor_run){fd->x, fd->s, fd->b, fd->h, n, MAMBA_L, 1, level};
    return 0;
}

typedef struct mamba_run {
    double *y;
    mamba_in in;
} mamba_run;

static int ours_mamba(void *vctx)
{
    mamba_run *r = vctx;
    return mamba_scan(r->y, NULL, &r->in, NULL);
}

static int ours_mamba_parallel(void *vctx)
{
    mamba_run *r = vctx;
    return mamba_scan_parallel(r->y, &r->in, NULL);
}

/* A row from times already taken; why: what the profile blames if it misses. */
static void mamba_row(const char *ours, const bench_times *ot, const char *peer,
                      const bench_times *pt, double need, const char *target, const char *why)
{
    bench_row rw = {.size = "L=4096 D=256", .n = MAMBA_L, .ours = ours, .peer = peer};
    rw.ours_t = *ot;
    rw.peer_t = *pt;
    rw.need = need;
    rw.target = target;
    rw.why = why;
    bench_report(&rw);
}

/* The scan's work beyond the floor's, from callgrind's instruction counts (docs/bench.md). */
#define WHY_SCAN                                                                                   \
    "profile (callgrind, AVX2 copy: valgrind has no AVX-512): 1.8x the floor's instructions, "     \
    "the B (Delta u) product and output multiply-add per state and step, softplus and gate per "   \
    "channel and step"

static void case_mamba(void)
{
    size_t ld = (size_t)MAMBA_L * MAMBA_D, ln = (size_t)MAMBA_L * MAMBA_N;
    size_t dn = (size_t)MAMBA_D * MAMBA_N;
    double *u = mem_alloc(ld * sizeof *u), *draw = mem_alloc(ld * sizeof *draw);
    double *z = mem_alloc(ld * sizeof *z), *y = mem_alloc(ld * sizeof *y);
    double *A = mem_alloc(dn * sizeof *A), *B = mem_alloc(ln * sizeof *B);
    double *C = mem_alloc(ln * sizeof *C), *Dskip = mem_alloc(MAMBA_D * sizeof *Dskip);
    floor_data fd = {0};
    if (!u || !draw || !z || !y || !A || !B || !C || !Dskip)
        goto out;
    rng r;
    rng_seed(&r, 2023);
    for (size_t i = 0; i < ld; i++) {
        u[i] = rng_gauss(&r);
        draw[i] = rng_gauss(&r) - 1;
        z[i] = rng_gauss(&r);
    }
    for (size_t d = 0; d < MAMBA_D; d++) {
        Dskip[d] = rng_gauss(&r);
        for (size_t n = 0; n < MAMBA_N; n++)
            A[d * MAMBA_N + n] = -(double)(n + 1);
    }
    for (size_t i = 0; i < ln; i++) {
        B[i] = rng_gauss(&r);
        C[i] = rng_gauss(&r);
    }
    mamba_run ctx = {y,
                     {.L = MAMBA_L,
                      .D = MAMBA_D,
                      .N = MAMBA_N,
                      .u = u,
                      .delta_raw = draw,
                      .A = A,
                      .B = B,
                      .C = C,
                      .Dskip = Dskip,
                      .z = z}};
    const char *kernel = mamba_scan_kernel(&ctx.in);
    if (floor_new(&fd, fastexp_fma_level()))
        goto out;
    bench_note("scan and floor arithmetic on this CPU: %s", kernel);
    /* As a user gets it: the channels shared over the CPUs (models/par.h). */
    size_t threads = par_parts(0, (double)MAMBA_L * MAMBA_D * MAMBA_N, (MAMBA_D + 7) / 8);
    char ours_name[32], floor_name[32];
    snprintf(ours_name, sizeof ours_name, "mamba_scan %zu thr", threads);
    snprintf(floor_name, sizeof floor_name, "floor %zu thr", threads);
    /* One thread, against the floor on one thread: the arithmetic's own efficiency. */
    bench_times one_t, floor1_t, many_t, floor_many_t;
    ctx.in.threads = 1;
    fd.run.parts = 1;
    if (bench_time_pair(&one_t, ours_mamba, &ctx, &floor1_t, floor_call, &fd.run, 7))
        goto out;
    mamba_row("mamba_scan 1 thr", &one_t, "floor 1 thr", &floor1_t, 1 / 1.5, "<= 1.5x floor",
              WHY_SCAN);
    /* Every CPU: against the floor on as many threads, and against itself on one. */
    ctx.in.threads = 0;
    fd.run.parts = threads;
    if (bench_time_pair(&many_t, ours_mamba, &ctx, &floor_many_t, floor_call, &fd.run, 7))
        goto out;
    /* For information: the targets are the one-thread ratio above and the speed-up
     * below. */
    mamba_row(ours_name, &many_t, floor_name, &floor_many_t, 0, NULL, WHY_SCAN);
    if (threads > 1) {
        /* Using every CPU: at least 3/4 of a perfect speed-up. When the floor, which shares
         * nothing, did not speed up either, the CPUs were busy with something else. */
        char need_words[48], why[160];
        double need = 0.75 * (double)threads, floor_up = floor1_t.median / floor_many_t.median;
        snprintf(need_words, sizeof need_words, ">= %.1f (%zu CPUs)", need, threads);
        if (floor_up < need)
            snprintf(why, sizeof why,
                     "the floor too ran only %.2fx faster on %zu threads: the CPUs were busy "
                     "(see the load average)",
                     floor_up, threads);
        else
            snprintf(why, sizeof why,
                     "the floor ran %.2fx faster on %zu threads; the scan's lanes share nothing "
                     "but the memory system (not profiled since the lanes)",
                     floor_up, threads);
        mamba_row(ours_name, &many_t, "mamba_scan 1 thr", &one_t, need, need_words, why);
    }
    /* The portable arithmetic (no FMA), one thread, for what the clone gains. */
    if (strcmp(kernel, "portable") != 0) {
        bench_times port_t;
        ctx.in.threads = 1;
        ctx.in.portable = 1;
        if (bench_time(&port_t, ours_mamba, &ctx, 5) == 0)
            mamba_row("scan portable 1 thr", &port_t, "floor 1 thr", &floor1_t, 0, NULL, NULL);
        ctx.in.threads = 0;
        ctx.in.portable = 0;
    }
    /* numpy, for information: its loop over time, vectorised over the (D, N) state. */
    bench_row row = {.size = "L=4096 D=256", .n = MAMBA_L, .ours = ours_name};
    row.peer = "numpy loop over t";
    row.ours_t = many_t;
    if (ours_mamba(&ctx) == 0) {
        const void *parts[] = {u, draw, A, B, C, Dskip, z};
        size_t bytes[] = {ld * 8, ld * 8, dn * 8, ln * 8, ln * 8, MAMBA_D * 8, ld * 8};
        const char *args[] = {"4096", "256", "16"};
        numpy_row(&row, "mamba", parts, bytes, 7, args, 3, y, ld, 1e-9);
        bench_report(&row);
    }
    /* The parallel scan does more work (the tree's sweeps) for its O(log L) depth; on one
     * core it is the slower of the two, shown for that reason. */
    bench_row par = row;
    par.ours = "mamba_scan_par";
    if (bench_time(&par.ours_t, ours_mamba_parallel, &ctx, 3) == 0)
        bench_report(&par);
out:
    floor_free(&fd);
    mem_free(u);
    mem_free(draw);
    mem_free(z);
    mem_free(y);
    mem_free(A);
    mem_free(B);
    mem_free(C);
    mem_free(Dskip);
}

static void case_legs(void)
{
    size_t nn = (size_t)LEGS_N * LEGS_N;
    double *A = mem_alloc(nn * sizeof *A), *B = mem_alloc(LEGS_N * sizeof *B);
    double *work = mem_alloc(((LEGS_N + 1) * (LEGS_N + 1) + LEGS_N) * sizeof *work);
    double *c_dense = mem_alloc(LEGS_N * sizeof *c_dense);
    double *c_fast = mem_alloc(LEGS_N * sizeof *c_fast);
    if (!A || !B || !work || !c_dense || !c_fast)
        goto out;
    hippo_legs_matrices(A, B, LEGS_N);
    static const ssm_method methods[] = {SSM_BILINEAR, SSM_BACKWARD, SSM_EULER};
    static const char *const ours_name[] = {"fast bilinear", "fast backward", "fast euler"};
    static const char *const dense_name[] = {"dense bilinear", "dense backward", "dense euler"};
    for (size_t i = 0; i < 3; i++) {
        legs_run dense = {c_dense, A, B, work, methods[i]};
        legs_run fast = {c_fast, A, B, work, methods[i]};
        bench_row row = {.size = "N=1024 16 steps", .n = LEGS_N, .ours = ours_name[i]};
        row.peer = dense_name[i];
        row.need = 50;
        row.target = ">= 50 (50x faster)";
        row.why = "profile: AVX2 copy 9 (euler), 15 (backward), 22 (bilinear) instructions an "
                  "entry; the substitution's serial multiply-add; is the AVX2 copy running?";
        if (bench_time_pair(&row.ours_t, legs_fast, &fast, &row.peer_t, legs_dense, &dense, 5))
            continue;
        double diff = bench_rel_diff(c_dense, c_fast, LEGS_N);
        char note[64];
        if (!(diff < 1e-9)) {
            snprintf(note, sizeof note, "ANSWERS DIFFER (relative %.1e)", diff);
            row.note = note;
        }
        bench_report(&row);
    }
out:
    mem_free(A);
    mem_free(B);
    mem_free(work);
    mem_free(c_dense);
    mem_free(c_fast);
}

int bench_case_ssm(void)
{
    if (bench_skip_case("ssm"))
        return 0;
    bench_begin("ssm", "S4D kernel + FFT convolution, Mamba's selective scan, LegS step");
    case_s4d();
    case_mamba();
    case_legs();
    return bench_end();
}
