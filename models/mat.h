/* mat.h: the numerics base of models/: row-major double matrices as plain arrays.
 *
 * A matrix is a `double *` of rows * cols values, element (i, j) at a[i * cols + j]; its
 * shape travels beside it as arguments (llm.c style: outputs first, then inputs, then sizes).
 * Storage comes from trace/mem.h so tests can inject allocation failures; products go
 * through CBLAS, QR and solves through LAPACKE. Every random input is drawn from trace/rng.h.
 *
 * CBLAS and LAPACK take `int` sizes: every dimension handed to a product, QR or solve must
 * be at most INT_MAX (anything the loader or mat_new accepts under a sane cap is).
 *
 * Include note for users of both FFTW and CBLAS: include <fftw3.h> before <cblas.h>, or
 * fftw_complex silently becomes C99 `double _Complex`. This header includes neither. */
#ifndef TUTOR_MAT_H
#define TUTOR_MAT_H

#include <stddef.h>

#include "../trace/rng.h"
#include "../trace/strbuf.h"

/* Default cap on the number of values mat_load accepts (max_values = 0). */
#define MAT_LOAD_DEFAULT_CAP ((size_t)1 << 22)

/* Returns a new zeroed rows x cols matrix, or NULL when rows * cols * sizeof(double)
 * overflows or memory runs out. rows or cols may be 0 (a valid, empty block is returned).
 * Free with mat_free. O(rows * cols). */
double *mat_new(size_t rows, size_t cols);

/* Returns a new copy of the rows x cols matrix a, or NULL (overflow, out of memory). Free
 * with mat_free. O(rows * cols). */
double *mat_dup(const double *a, size_t rows, size_t cols);

/* Frees a matrix from mat_new, mat_dup or mat_load (NULL is fine). */
void mat_free(double *a);

/* c = alpha * op(a) op(b) + beta * c, with op(x) = x or x^T (trans_x = 1).
 * c is (m, n); op(a) is (m, k), so a is stored (m, k), or (k, m) when trans_a;
 * op(b) is (k, n), so b is stored (k, n), or (n, k) when trans_b.
 * beta = 0 overwrites c (its old contents, even NaN, are ignored). Empty sizes are fine
 * (k = 0 gives c = beta * c). cblas_dgemm; O(m n k). */
void mat_gemm(double *c, const double *a, const double *b, size_t m, size_t n, size_t k,
              int trans_a, int trans_b, double alpha, double beta);

/* y = alpha * op(a) x + beta * y. a is stored (m, n); op(a) = a (x has n values, y has m) or
 * a^T when trans (x has m values, y has n). cblas_dgemv; O(m n). */
void mat_gemv(double *y, const double *a, const double *x, size_t m, size_t n, int trans,
              double alpha, double beta);

/* a += alpha * x y^T: the rank-1 update; a is (m, n), x has m values, y has n.
 * cblas_dger; O(m n). */
void mat_ger(double *a, double alpha, const double *x, const double *y, size_t m, size_t n);

/* Returns x . y over n values. cblas_ddot; O(n). */
double mat_dot(const double *x, const double *y, size_t n);

/* y += alpha * x over n values. cblas_daxpy; O(n). */
void mat_axpy(double *y, double alpha, const double *x, size_t n);

/* out = a^T: out is (cols, rows), a is (rows, cols); they must not overlap. O(rows cols). */
void mat_transpose(double *out, const double *a, size_t rows, size_t cols);

/* Fills the n values of a with independent N(0, scale^2) samples from r. O(n). */
void mat_gauss(double *a, size_t n, rng *r, double scale);

/* Returns max_i |a_i - b_i| over n values (0 for n = 0; NaN anywhere gives NaN). O(n). */
double mat_max_abs_diff(const double *a, const double *b, size_t n);

/* Thin QR of a: a = q r with q (m, p) having orthonormal columns and r (p, n) upper
 * triangular, p = min(m, n); a is (m, n) and is not changed. Signs are fixed so that
 * diag(r) >= 0, which makes the factorisation unique for full-rank a (and makes q Haar
 * distributed when a is Gaussian). q or r may be NULL when not wanted.
 * Returns 0, TUTOR_ENOMEM, or TUTOR_EINVAL (LAPACK refused the input, e.g. NaN, or m or n
 * is over INT_MAX).
 * LAPACKE dgeqrf + dorgqr; O(m n p). */
int mat_qr(double *q, double *r, const double *a, size_t m, size_t n);

/* Solves a x = b for x: a is (n, n), b and x are (n, nrhs); x may equal b; a is not changed.
 * Returns 0, TUTOR_ENOMEM, or TUTOR_EINVAL when a is singular (x is then unspecified) or n
 * or nrhs is over INT_MAX.
 * LAPACKE dgesv (LU with partial pivoting); O(n^3 + n^2 nrhs). */
int mat_solve(double *x, const double *a, const double *b, size_t n, size_t nrhs);

/* Parses s (surrounding spaces and tabs allowed) as one finite double, always with '.' as
 * the decimal point whatever the locale. Returns 0 and sets *x; TUTOR_EFORMAT when s is not
 * a number (or longer than 128 characters); TUTOR_ERANGE when it is not finite (nan, inf,
 * 1e999). O(len(s)). */
int mat_parse_double(const char *s, double *x);

/* Loads a matrix from a text file in numpy.savetxt format: one row per line, values
 * separated by spaces, tabs or commas, `#` starting a comment to the end of the line, blank
 * lines ignored. On success *out is a new rows x cols matrix (free with mat_free).
 * max_values caps rows * cols (0: MAT_LOAD_DEFAULT_CAP). On error nothing is allocated and
 * err (errlen bytes, always NUL-terminated) gets one line naming the file and line:
 *   TUTOR_ENOTFOUND  the file does not exist ("FILE: no such file")
 *   TUTOR_EIO        it cannot be opened or read
 *   TUTOR_EFORMAT    a value is not a number, or is not finite (nan, inf, 1e999)
 *   TUTOR_ESHAPE     a row's length differs from the first row's
 *   TUTOR_EEMPTY     no values at all
 *   TUTOR_ETOOBIG    more than max_values values
 *   TUTOR_ENOMEM     out of memory
 * O(file size). */
int mat_load(const char *path, size_t max_values, double **out, size_t *rows, size_t *cols,
             char *err, size_t errlen);

/* Loads a vector: a file mat_load accepts holding one row (n values on one line) or one
 * column (one value per line). Same errors as mat_load, plus TUTOR_ESHAPE when the file
 * holds a matrix with more than one row and more than one column. */
int mat_load_vec(const char *path, size_t max_values, double **out, size_t *n, char *err,
                 size_t errlen);

/* Appends a as JSON, a list of rows: [[1, 2], [3, 4]] (non-finite values as null).
 * Returns 0 or TUTOR_ENOMEM. O(rows cols). */
int mat_json(strbuf *sb, const double *a, size_t rows, size_t cols);

/* Appends a as readable text, one row per line, each line starting with `indent`; values
 * in %9.4g. A matrix bigger than max_show x max_show shows its first max_show rows and
 * columns with "..." and a last line "(rows x cols, min .., max .., mean ..)". indent may
 * be NULL (none). Returns 0 or TUTOR_ENOMEM. O(rows cols). */
int mat_text(strbuf *sb, const double *a, size_t rows, size_t cols, size_t max_show,
             const char *indent);

#endif
