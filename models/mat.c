/* mat.c: row-major double matrices over CBLAS and LAPACKE (see mat.h). */
#include "mat.h"

#include <assert.h>
#include <cblas.h>
#include <errno.h>
#include <lapacke.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../trace/mem.h"
#include "../trace/status.h"

/* A token longer than this cannot be a number anyone wrote on purpose. */
#define TOKEN_MAX 128

static int ld(size_t x)
{
    /* BLAS leading dimensions must be at least 1 even for empty matrices. */
    assert(x <= INT_MAX);
    return x ? (int)x : 1;
}

double *mat_new(size_t rows, size_t cols)
{
    if (cols && rows > SIZE_MAX / sizeof(double) / cols)
        return NULL;
    size_t count = rows * cols;
    return mem_calloc(count ? count : 1, sizeof(double));
}

double *mat_dup(const double *a, size_t rows, size_t cols)
{
    double *c = mat_new(rows, cols);
    if (c && rows && cols)
        memcpy(c, a, rows * cols * sizeof *c);
    return c;
}

void mat_free(double *a)
{
    mem_free(a);
}

void mat_gemm(double *c, const double *a, const double *b, size_t m, size_t n, size_t k,
              int trans_a, int trans_b, double alpha, double beta)
{
    if (!m || !n)
        return;
    if (!k) {
        /* BLAS would scale by beta too, but beta = 0 must clear NaN, which scaling cannot. */
        for (size_t i = 0; i < m * n; i++)
            c[i] = beta == 0.0 ? 0.0 : beta * c[i];
        return;
    }
    assert(m <= INT_MAX && n <= INT_MAX && k <= INT_MAX);
    cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, alpha, a,
                ld(trans_a ? m : k), b, ld(trans_b ? k : n), beta, c, ld(n));
}

void mat_gemv(double *y, const double *a, const double *x, size_t m, size_t n, int trans,
              double alpha, double beta)
{
    size_t ylen = trans ? n : m, xlen = trans ? m : n;
    if (!ylen)
        return;
    if (!xlen) {
        for (size_t i = 0; i < ylen; i++)
            y[i] = beta == 0.0 ? 0.0 : beta * y[i];
        return;
    }
    assert(m <= INT_MAX && n <= INT_MAX);
    cblas_dgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, (int)m, (int)n, alpha, a, ld(n),
                x, 1, beta, y, 1);
}

void mat_ger(double *a, double alpha, const double *x, const double *y, size_t m, size_t n)
{
    if (!m || !n)
        return;
    assert(m <= INT_MAX && n <= INT_MAX);
    cblas_dger(CblasRowMajor, (int)m, (int)n, alpha, x, 1, y, 1, a, ld(n));
}

double mat_dot(const double *x, const double *y, size_t n)
{
    if (!n)
        return 0.0;
    assert(n <= INT_MAX);
    return cblas_ddot((int)n, x, 1, y, 1);
}

void mat_axpy(double *y, double alpha, const double *x, size_t n)
{
    if (!n)
        return;
    assert(n <= INT_MAX);
    cblas_daxpy((int)n, alpha, x, 1, y, 1);
}

void mat_transpose(double *out, const double *a, size_t rows, size_t cols)
{
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            out[j * rows + i] = a[i * cols + j];
}

void mat_gauss(double *a, size_t n, rng *r, double scale)
{
    for (size_t i = 0; i < n; i++)
        a[i] = scale * rng_gauss(r);
}

double mat_max_abs_diff(const double *a, const double *b, size_t n)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(a[i] - b[i]);
        if (isnan(d))
            return NAN;
        if (d > worst)
            worst = d;
    }
    return worst;
}

int mat_qr(double *q, double *r, const double *a, size_t m, size_t n)
{
    size_t p = m < n ? m : n;
    if (!p)
        return 0;
    if (m > INT_MAX || n > INT_MAX)
        return TUTOR_EINVAL;
    /* Pass 1: Householder factorisation in a copy (dgeqrf overwrites its input). */
    double *w = mat_dup(a, m, n);
    double *tau = mat_new(p, 1);
    int rc = TUTOR_ENOMEM;
    if (!w || !tau)
        goto out;
    rc = TUTOR_EINVAL;
    if (LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (int)m, (int)n, w, ld(n), tau) != 0)
        goto out;
    /* Pass 2: the sign of each R row; flipping row i of R and column i of Q together keeps
     * the product and makes the diagonal non-negative. */
    if (r) {
        for (size_t i = 0; i < p; i++)
            for (size_t j = 0; j < n; j++) {
                double sign = w[i * n + i] < 0 ? -1.0 : 1.0;
                r[i * n + j] = j < i ? 0.0 : sign * w[i * n + j];
            }
    }
    if (q) {
        double *sign = mat_new(p, 1);
        double *wq = mat_new(m, p);
        rc = TUTOR_ENOMEM;
        if (!sign || !wq) {
            mat_free(sign);
            mat_free(wq);
            goto out;
        }
        for (size_t i = 0; i < p; i++)
            sign[i] = w[i * n + i] < 0 ? -1.0 : 1.0;
        /* Pass 3: form the first p columns of Q from the reflectors. */
        for (size_t i = 0; i < m; i++)
            memcpy(wq + i * p, w + i * n, p * sizeof *wq);
        rc = TUTOR_EINVAL;
        if (LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (int)m, (int)p, (int)p, wq, ld(p), tau) == 0) {
            for (size_t i = 0; i < m; i++)
                for (size_t j = 0; j < p; j++)
                    q[i * p + j] = sign[j] * wq[i * p + j];
            rc = 0;
        }
        mat_free(sign);
        mat_free(wq);
        goto out;
    }
    rc = 0;
out:
    mat_free(w);
    mat_free(tau);
    return rc;
}

int mat_solve(double *x, const double *a, const double *b, size_t n, size_t nrhs)
{
    if (!n || !nrhs)
        return 0;
    if (n > INT_MAX || nrhs > INT_MAX)
        return TUTOR_EINVAL;
    double *lu = mat_dup(a, n, n);
    int *piv = mem_calloc(n, sizeof *piv);
    int rc = TUTOR_ENOMEM;
    if (!lu || !piv)
        goto out;
    if (x != b)
        memcpy(x, b, n * nrhs * sizeof *x);
    /* info > 0: U(info, info) is exactly zero, a is singular. */
    rc = LAPACKE_dgesv(LAPACK_ROW_MAJOR, (int)n, (int)nrhs, lu, ld(n), piv, x, ld(nrhs)) == 0
             ? 0
             : TUTOR_EINVAL;
out:
    mat_free(lu);
    mem_free(piv);
    return rc;
}

/* ---- the text loader ---- */

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

int mat_parse_double(const char *s, double *x)
{
    /* strtod follows LC_NUMERIC (the UI sets the user's locale for UTF-8), while files and
     * options always use '.', so '.' is swapped for the locale's point in a copy. */
    char buf[TOKEN_MAX + 1];
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (!n || n > TOKEN_MAX)
        return TUTOR_EFORMAT;
    memcpy(buf, s, n);
    buf[n] = '\0';
    const char *point = localeconv()->decimal_point;
    if (point && point[0] && point[0] != '.' && !point[1])
        for (char *c = buf; *c; c++)
            if (*c == '.')
                *c = point[0];
    char *end;
    double v = strtod(buf, &end);
    if (end == buf || *end)
        return TUTOR_EFORMAT;
    if (!isfinite(v))
        return TUTOR_ERANGE;
    *x = v;
    return 0;
}

int mat_load(const char *path, size_t max_values, double **out, size_t *rows, size_t *cols,
             char *err, size_t errlen)
{
    if (!max_values)
        max_values = MAT_LOAD_DEFAULT_CAP;
    if (err && errlen)
        err[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT || errno == ENOTDIR)
            return fail(err, errlen, TUTOR_ENOTFOUND, "%s: no such file", path);
        return fail(err, errlen, TUTOR_EIO, "%s: cannot open: %s", path, strerror(errno));
    }
    double *vals = NULL;
    size_t nvals = 0, capvals = 0;
    size_t ncols = 0, nrows = 0, row_len = 0, first_line = 0;
    size_t line = 1;
    char tok[TOKEN_MAX + 1];
    size_t toklen = 0;
    int in_comment = 0, rc = 0;
    for (;;) {
        int c = getc(f);
        if (c == '\0') {
            /* getc hands a NUL byte over like any other, but the token it would end up in is
             * a C string, where it would cut "3\0\0 7" to a silent 3: not text, refused. */
            rc =
                fail(err, errlen, TUTOR_EFORMAT, "%s:%zu: a NUL byte: not a text file", path, line);
            break;
        }
        int sep = c == EOF || c == '\n' || c == ' ' || c == '\t' || c == '\r' || c == ',' ||
                  c == '\v' || c == '\f' || c == '#';
        if (!in_comment && !sep) {
            if (toklen == TOKEN_MAX) {
                tok[toklen] = '\0';
                rc = fail(err, errlen, TUTOR_EFORMAT, "%s:%zu: '%.24s...' is not a number", path,
                          line, tok);
                break;
            }
            tok[toklen++] = (char)c;
            continue;
        }
        if (toklen) {
            /* One value ends here. */
            tok[toklen] = '\0';
            toklen = 0;
            double v = 0.0;
            int bad = mat_parse_double(tok, &v);
            if (bad) {
                rc = fail(err, errlen, TUTOR_EFORMAT,
                          bad == TUTOR_EFORMAT ? "%s:%zu: '%.32s' is not a number"
                                               : "%s:%zu: '%.32s' is not a finite number",
                          path, line, tok);
                break;
            }
            if (nvals == max_values) {
                rc = fail(err, errlen, TUTOR_ETOOBIG, "%s:%zu: more than %zu values (the cap)",
                          path, line, max_values);
                break;
            }
            if (nvals == capvals) {
                size_t ncap = capvals ? 2 * capvals : 64;
                if (ncap > max_values)
                    ncap = max_values;
                double *nv = mem_realloc_array(vals, ncap, sizeof *vals);
                if (!nv) {
                    rc = fail(err, errlen, TUTOR_ENOMEM, "%s: out of memory", path);
                    break;
                }
                vals = nv;
                capvals = ncap;
            }
            vals[nvals++] = v;
            row_len++;
        }
        if (c == '#')
            in_comment = 1;
        if (c == '\n' || c == EOF) {
            /* One line ends: it is a row when it held values. */
            if (row_len) {
                if (!nrows) {
                    ncols = row_len;
                    first_line = line;
                } else if (row_len != ncols) {
                    rc = fail(err, errlen, TUTOR_ESHAPE,
                              "%s:%zu: row has %zu values, expected %zu (as on line %zu)", path,
                              line, row_len, ncols, first_line);
                    break;
                }
                nrows++;
            }
            row_len = 0;
            in_comment = 0;
            line++;
        }
        if (c == EOF)
            break;
    }
    if (!rc && ferror(f))
        rc = fail(err, errlen, TUTOR_EIO, "%s: read error", path);
    fclose(f);
    if (!rc && !nvals)
        rc = fail(err, errlen, TUTOR_EEMPTY, "%s: no values in the file", path);
    if (rc) {
        mem_free(vals);
        return rc;
    }
    *out = vals;
    *rows = nrows;
    *cols = ncols;
    return 0;
}

int mat_load_vec(const char *path, size_t max_values, double **out, size_t *n, char *err,
                 size_t errlen)
{
    double *a;
    size_t rows, cols;
    int rc = mat_load(path, max_values, &a, &rows, &cols, err, errlen);
    if (rc)
        return rc;
    if (rows > 1 && cols > 1) {
        mat_free(a);
        return fail(err, errlen, TUTOR_ESHAPE,
                    "%s: expected a vector (one row or one column), got %zu x %zu", path, rows,
                    cols);
    }
    *out = a;
    *n = rows * cols;
    return 0;
}

/* ---- formatting ---- */

int mat_json(strbuf *sb, const double *a, size_t rows, size_t cols)
{
    strbuf_putc(sb, '[');
    for (size_t i = 0; i < rows; i++) {
        strbuf_puts(sb, i ? ", [" : "[");
        for (size_t j = 0; j < cols; j++) {
            if (j)
                strbuf_puts(sb, ", ");
            strbuf_json_double(sb, a[i * cols + j]);
        }
        strbuf_putc(sb, ']');
    }
    strbuf_putc(sb, ']');
    return sb->failed ? TUTOR_ENOMEM : 0;
}

int mat_text(strbuf *sb, const double *a, size_t rows, size_t cols, size_t max_show,
             const char *indent)
{
    if (!indent)
        indent = "";
    int big = rows > max_show || cols > max_show;
    size_t show_r = rows > max_show ? max_show : rows;
    size_t show_c = cols > max_show ? max_show : cols;
    for (size_t i = 0; i < show_r; i++) {
        strbuf_puts(sb, indent);
        for (size_t j = 0; j < show_c; j++)
            strbuf_printf(sb, "%s%9.4g", j ? " " : "", a[i * cols + j]);
        strbuf_puts(sb, show_c < cols ? " ...\n" : "\n");
    }
    if (show_r < rows)
        strbuf_printf(sb, "%s...\n", indent);
    if (big && rows && cols) {
        double lo = a[0], hi = a[0], sum = 0.0;
        for (size_t i = 0; i < rows * cols; i++) {
            lo = a[i] < lo ? a[i] : lo;
            hi = a[i] > hi ? a[i] : hi;
            sum += a[i];
        }
        strbuf_printf(sb, "%s(%zu x %zu, min %.4g, max %.4g, mean %.4g)\n", indent, rows, cols, lo,
                      hi, sum / (double)(rows * cols));
    }
    return sb->failed ? TUTOR_ENOMEM : 0;
}
