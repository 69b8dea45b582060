/* Tests of models/mat: products against naive loops, QR and solve against their defining
 * identities, the text loader's formats and error reports, and allocation failures. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../models/mat.h"
#include "../trace/mem.h"
#include "../trace/rng.h"
#include "../trace/status.h"
#include "harness.h"

/* The slow, obvious product, for comparison. */
static void naive_gemm(double *c, const double *a, const double *b, size_t m, size_t n, size_t k,
                       int ta, int tb, double alpha, double beta)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0.0;
            for (size_t l = 0; l < k; l++) {
                double x = ta ? a[l * m + i] : a[i * k + l];
                double y = tb ? b[j * k + l] : b[l * n + j];
                s += x * y;
            }
            c[i * n + j] = alpha * s + (beta == 0.0 ? 0.0 : beta * c[i * n + j]);
        }
}

static void test_gemm_matches_naive(void)
{
    rng r;
    rng_seed(&r, 7);
    for (int trial = 0; trial < 40; trial++) {
        size_t m = (size_t)rng_range(&r, 0, 7), n = (size_t)rng_range(&r, 0, 7);
        size_t k = (size_t)rng_range(&r, 0, 7);
        int ta = trial & 1, tb = (trial >> 1) & 1;
        double *a = mat_new(m, k), *b = mat_new(k, n), *c1 = mat_new(m, n), *c2 = mat_new(m, n);
        CU_ASSERT_FATAL(a && b && c1 && c2);
        mat_gauss(a, m * k, &r, 1.0);
        mat_gauss(b, k * n, &r, 1.0);
        mat_gauss(c1, m * n, &r, 1.0);
        memcpy(c2, c1, m * n * sizeof *c1);
        double beta = trial % 3 == 0 ? 0.0 : 0.5;
        mat_gemm(c1, a, b, m, n, k, ta, tb, 1.5, beta);
        naive_gemm(c2, a, b, m, n, k, ta, tb, 1.5, beta);
        CU_ASSERT(mat_max_abs_diff(c1, c2, m * n) < 1e-12);
        mat_free(a);
        mat_free(b);
        mat_free(c1);
        mat_free(c2);
    }
}

static void test_gemv_ger_dot(void)
{
    /* a = [[1 2 3], [4 5 6]] */
    double a[6] = {1, 2, 3, 4, 5, 6}, x3[3] = {1, 0, -1}, x2[2] = {1, 1}, y[3];
    mat_gemv(y, a, x3, 2, 3, 0, 1.0, 0.0);
    CU_ASSERT_DOUBLE_EQUAL(y[0], -2.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(y[1], -2.0, 1e-15);
    mat_gemv(y, a, x2, 2, 3, 1, 1.0, 0.0);
    CU_ASSERT_DOUBLE_EQUAL(y[0], 5.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(y[2], 9.0, 1e-15);
    mat_ger(a, 2.0, x2, x3, 2, 3);
    CU_ASSERT_DOUBLE_EQUAL(a[0], 3.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(a[5], 4.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(mat_dot(x3, x3, 3), 2.0, 1e-15);
    mat_axpy(x3, 2.0, x3, 3);
    CU_ASSERT_DOUBLE_EQUAL(x3[2], -3.0, 1e-15);
    double t[6];
    double b[6] = {1, 2, 3, 4, 5, 6};
    mat_transpose(t, b, 2, 3);
    CU_ASSERT_DOUBLE_EQUAL(t[1], 4.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(t[4], 3.0, 0);
    CU_ASSERT(isnan(mat_max_abs_diff((double[]){NAN}, (double[]){0}, 1)));
}

static void test_qr(void)
{
    rng r;
    rng_seed(&r, 3);
    size_t shapes[][2] = {{5, 5}, {6, 3}, {3, 6}, {1, 1}, {8, 8}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t m = shapes[s][0], n = shapes[s][1], p = m < n ? m : n;
        double *a = mat_new(m, n), *q = mat_new(m, p), *rr = mat_new(p, n), *qr = mat_new(m, n),
               *qtq = mat_new(p, p);
        CU_ASSERT_FATAL(a && q && rr && qr && qtq);
        mat_gauss(a, m * n, &r, 1.0);
        CU_ASSERT_EQUAL(mat_qr(q, rr, a, m, n), 0);
        mat_gemm(qr, q, rr, m, n, p, 0, 0, 1.0, 0.0);
        CU_ASSERT(mat_max_abs_diff(qr, a, m * n) < 1e-12);
        mat_gemm(qtq, q, q, p, p, m, 1, 0, 1.0, 0.0);
        for (size_t i = 0; i < p; i++)
            for (size_t j = 0; j < p; j++) {
                CU_ASSERT_DOUBLE_EQUAL(qtq[i * p + j], i == j ? 1.0 : 0.0, 1e-12);
            }
        for (size_t i = 0; i < p; i++) {
            CU_ASSERT(rr[i * n + i] >= 0.0);
            for (size_t j = 0; j < i && j < n; j++) {
                CU_ASSERT_EQUAL(rr[i * n + j], 0.0);
            }
        }
        /* Q alone gives the same Q. */
        double *q2 = mat_new(m, p);
        CU_ASSERT_EQUAL(mat_qr(q2, NULL, a, m, n), 0);
        CU_ASSERT(mat_max_abs_diff(q, q2, m * p) == 0.0);
        mat_free(q2);
        mat_free(a);
        mat_free(q);
        mat_free(rr);
        mat_free(qr);
        mat_free(qtq);
    }
}

static void test_solve(void)
{
    /* Hand-checked: [[2 1], [1 3]] x = [3, 5] has x = [0.8, 1.4]. */
    double a[4] = {2, 1, 1, 3}, b[2] = {3, 5}, x[2];
    CU_ASSERT_EQUAL(mat_solve(x, a, b, 2, 1), 0);
    CU_ASSERT_DOUBLE_EQUAL(x[0], 0.8, 1e-14);
    CU_ASSERT_DOUBLE_EQUAL(x[1], 1.4, 1e-14);
    CU_ASSERT_EQUAL(a[0], 2.0); /* a unchanged */
    /* In place (x == b). */
    CU_ASSERT_EQUAL(mat_solve(b, a, b, 2, 1), 0);
    CU_ASSERT_DOUBLE_EQUAL(b[1], 1.4, 1e-14);
    double sing[4] = {1, 2, 2, 4}, rhs[2] = {1, 1};
    CU_ASSERT_EQUAL(mat_solve(x, sing, rhs, 2, 1), TUTOR_EINVAL);
    /* Random: a x = b with several right-hand sides. */
    rng r;
    rng_seed(&r, 11);
    size_t n = 7, k = 3;
    double *m = mat_new(n, n), *bb = mat_new(n, k), *xx = mat_new(n, k), *chk = mat_new(n, k);
    mat_gauss(m, n * n, &r, 1.0);
    for (size_t i = 0; i < n; i++)
        m[i * n + i] += 5.0;
    mat_gauss(bb, n * k, &r, 1.0);
    CU_ASSERT_EQUAL(mat_solve(xx, m, bb, n, k), 0);
    mat_gemm(chk, m, xx, n, k, n, 0, 0, 1.0, 0.0);
    CU_ASSERT(mat_max_abs_diff(chk, bb, n * k) < 1e-12);
    mat_free(m);
    mat_free(bb);
    mat_free(xx);
    mat_free(chk);
}

/* Writes text to a new temporary file; its path goes into path (64 bytes). */
static void write_temp(char *path, const char *text)
{
    strcpy(path, "/tmp/tutor_mat_XXXXXX");
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
}

static void test_load_formats(void)
{
    char path[64], err[256];
    double *a;
    size_t rows, cols;
    /* numpy.savetxt's default format, a header comment, blank lines, an inline comment. */
    write_temp(path, "# header\n1.000000000000000000e+00 -2.5e-01\n\n  3\t4 # tail\n"
                     "5,6\r\n");
    CU_ASSERT_EQUAL_FATAL(mat_load(path, 0, &a, &rows, &cols, err, sizeof err), 0);
    CU_ASSERT_EQUAL(rows, 3);
    CU_ASSERT_EQUAL(cols, 2);
    CU_ASSERT_DOUBLE_EQUAL(a[1], -0.25, 0);
    CU_ASSERT_DOUBLE_EQUAL(a[5], 6.0, 0);
    mat_free(a);
    unlink(path);
    /* A vector one per line (no final newline) and on one line. */
    size_t n;
    write_temp(path, "1\n2\n3");
    CU_ASSERT_EQUAL_FATAL(mat_load_vec(path, 0, &a, &n, err, sizeof err), 0);
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_DOUBLE_EQUAL(a[2], 3.0, 0);
    mat_free(a);
    unlink(path);
    write_temp(path, "1 2 3 4\n");
    CU_ASSERT_EQUAL_FATAL(mat_load_vec(path, 0, &a, &n, err, sizeof err), 0);
    CU_ASSERT_EQUAL(n, 4);
    mat_free(a);
    unlink(path);
    write_temp(path, "1 2\n3 4\n");
    CU_ASSERT_EQUAL(mat_load_vec(path, 0, &a, &n, err, sizeof err), TUTOR_ESHAPE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "2 x 2"));
    unlink(path);
}

/* Loads a temp file holding text and checks the error code and that the message names
 * the file and contains `want`. */
static void expect_load_error(const char *text, int code, const char *want, size_t cap)
{
    char path[64], err[256];
    double *a = NULL;
    size_t rows, cols;
    write_temp(path, text);
    int rc = mat_load(path, cap, &a, &rows, &cols, err, sizeof err);
    CU_ASSERT_EQUAL(rc, code);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
    if (!strstr(err, want))
        fprintf(stderr, "\n  message was: %s (wanted %s)\n", err, want);
    CU_ASSERT_PTR_NULL(strchr(err, '\n'));
    unlink(path);
}

static void test_load_errors(void)
{
    expect_load_error("1 2\n3 x\n", TUTOR_EFORMAT, ":2: 'x' is not a number", 0);
    expect_load_error("# c\n1 2\n\n3 nan\n", TUTOR_EFORMAT, ":4: 'nan' is not a finite", 0);
    expect_load_error("1 inf\n", TUTOR_EFORMAT, ":1: 'inf' is not a finite", 0);
    expect_load_error("1 1e999\n", TUTOR_EFORMAT, ":1: '1e999' is not a finite", 0);
    expect_load_error("1 2 3\n4 5\n", TUTOR_ESHAPE, ":2: row has 2 values, expected 3", 0);
    expect_load_error("1 2\n3 4\n5 6 7\n", TUTOR_ESHAPE, ":3:", 0);
    expect_load_error("# only a comment\n\n", TUTOR_EEMPTY, "no values", 0);
    expect_load_error("1 2 3\n4 5 6\n", TUTOR_ETOOBIG, ":2: more than 5 values", 5);
    expect_load_error("1.5.5\n", TUTOR_EFORMAT, "not a number", 0);
    char err[256];
    double *a;
    size_t rows, cols;
    CU_ASSERT_EQUAL(mat_load("/nonexistent/dir/q.txt", 0, &a, &rows, &cols, err, sizeof err),
                    TUTOR_ENOTFOUND);
    CU_ASSERT_STRING_EQUAL(err, "/nonexistent/dir/q.txt: no such file");
}

/* Found by fuzz/fuzz_mat.c: a NUL byte cut the token it was in, so "3\0\0\0" loaded as 3
 * and whatever followed the NUL on that token was dropped without a word. The file is
 * refused, by mat_load and so by the CLI (one line, exit status 2). */
static void test_load_nul_byte(void)
{
    static const char bytes[] = "1 2 3\0\0\0\n4 5 6\n";
    char path[64], err[256];
    strcpy(path, "/tmp/tutor_mat_XXXXXX");
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    CU_ASSERT_FATAL(f != NULL);
    fwrite(bytes, 1, sizeof bytes - 1, f);
    fclose(f);
    double *a = NULL;
    size_t rows = 0, cols = 0;
    CU_ASSERT_EQUAL(mat_load(path, 0, &a, &rows, &cols, err, sizeof err), TUTOR_EFORMAT);
    CU_ASSERT_PTR_NULL(a);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, ":1: a NUL byte"));
    strbuf out = STRBUF_INIT, msg = STRBUF_INIT;
    int rc = th_cli(&out, &msg, "run", "attention", "--variant", "softmax", "--Q", path, "--K",
                    path, "--V", path, NULL);
    th_refused(rc, &out, &msg, "a NUL byte");
    strbuf_free(&out);
    strbuf_free(&msg);
    unlink(path);
}

static void test_parse_double(void)
{
    double x = 0.0;
    CU_ASSERT_EQUAL(mat_parse_double(" 1.5\t", &x), 0);
    CU_ASSERT_DOUBLE_EQUAL(x, 1.5, 0);
    CU_ASSERT_EQUAL(mat_parse_double("-2.5e-3", &x), 0);
    CU_ASSERT_DOUBLE_EQUAL(x, -2.5e-3, 0);
    CU_ASSERT_EQUAL(mat_parse_double("abc", &x), TUTOR_EFORMAT);
    CU_ASSERT_EQUAL(mat_parse_double("1.5x", &x), TUTOR_EFORMAT);
    CU_ASSERT_EQUAL(mat_parse_double("", &x), TUTOR_EFORMAT);
    CU_ASSERT_EQUAL(mat_parse_double("  ", &x), TUTOR_EFORMAT);
    CU_ASSERT_EQUAL(mat_parse_double("nan", &x), TUTOR_ERANGE);
    CU_ASSERT_EQUAL(mat_parse_double("-inf", &x), TUTOR_ERANGE);
    CU_ASSERT_EQUAL(mat_parse_double("1e999", &x), TUTOR_ERANGE);
    CU_ASSERT_DOUBLE_EQUAL(x, -2.5e-3, 0); /* unchanged on error */
}

static void test_format(void)
{
    strbuf sb = STRBUF_INIT;
    double a[4] = {1, 0.5, NAN, -2};
    CU_ASSERT_EQUAL(mat_json(&sb, a, 2, 2), 0);
    CU_ASSERT_STRING_EQUAL(strbuf_str(&sb), "[[1, 0.5], [null, -2]]");
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&sb)));
    strbuf_clear(&sb);
    double big[100];
    for (int i = 0; i < 100; i++)
        big[i] = i;
    CU_ASSERT_EQUAL(mat_text(&sb, big, 10, 10, 4, "  "), 0);
    CU_ASSERT_EQUAL(th_count_lines(strbuf_str(&sb)), 6);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&sb), "(10 x 10, min 0, max 99, mean 49.5)"));
    strbuf_free(&sb);
}

static int load_body(void *ctx)
{
    const char *path = ctx;
    char err[256];
    double *a;
    size_t rows, cols;
    int rc = mat_load(path, 0, &a, &rows, &cols, err, sizeof err);
    if (!rc)
        mat_free(a);
    return rc;
}

static int qr_body(void *ctx)
{
    (void)ctx;
    double a[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13}, q[12], r[9], x[3],
           sq[9] = {2, 1, 0, 1, 3, 1, 0, 1, 4}, b[3] = {1, 2, 3};
    int rc = mat_qr(q, r, a, 4, 3);
    if (!rc)
        rc = mat_solve(x, sq, b, 3, 1);
    return rc;
}

static void test_alloc_failures(void)
{
    char path[64];
    /* Enough values to need several growths of the value array. */
    strbuf sb = STRBUF_INIT;
    for (int i = 0; i < 300; i++)
        strbuf_printf(&sb, "%d %d\n", i, -i);
    write_temp(path, strbuf_str(&sb));
    strbuf_free(&sb);
    CU_ASSERT(th_alloc_sweep(load_body, path, 0) >= 3);
    unlink(path);
    CU_ASSERT(th_alloc_sweep(qr_body, NULL, 0) >= 3);
    CU_ASSERT_PTR_NULL(mat_new((size_t)1 << 62, 8));
}

void tests_register(void)
{
    static const th_test tests[] = {
        {"gemm matches naive loops", test_gemm_matches_naive},
        {"gemv, ger, dot, axpy, transpose", test_gemv_ger_dot},
        {"qr: a = qr, q orthonormal, diag(r) >= 0", test_qr},
        {"solve", test_solve},
        {"loader formats", test_load_formats},
        {"loader errors", test_load_errors},
        {"loader: a NUL byte is refused", test_load_nul_byte},
        {"parse one number", test_parse_double},
        {"json and text", test_format},
        {"allocation failures", test_alloc_failures},
        {NULL, NULL},
    };
    th_suite("mat", tests);
}
