/* ex.h: what every exercise suite shares (exercises/tests/ID.c, linked with tests/harness.c).
 *
 * An exercise suite is a CUnit suite whose tests are behaviours: "n < 2 gives 0", "the trace
 * follows the reference". Each behaviour prints one line (ok or FAIL); a failing one also
 * prints the input of its first failing case, expected against actual, and the hint written
 * for it, then counts as one CUnit failure. Each behaviour runs in a child process, so a
 * crash, a hang (10 s) or a sanitizer's complaint in the student's code fails that behaviour
 * only, and the others still run.
 *
 * The reference: the suite is linked with the library's source compiled so that each function
 * the student writes is renamed exref_NAME (exercises/exercises.mk). EX_REF(name) declares it
 * with exactly the library's type, so a signature change cannot go unnoticed. */
#ifndef TUTOR_EX_H
#define TUTOR_EX_H

#include <stddef.h>
#include <stdint.h>

#include "../../tests/harness.h"
#include "../../trace/strbuf.h"
#include "../../trace/trace.h"

/* Declares exref_NAME, the reference twin of the library function NAME. */
#define EX_REF(name) extern __typeof__(name) exref_##name

/* A behaviour: its name (what it checks, as the student reads it), its hint (shown when it
 * fails) and the test function. */
typedef struct ex_behaviour {
    const char *name;
    const char *hint;
    void (*fn)(void);
} ex_behaviour;

/* Adds the behaviours (terminated by a NULL name) as CUnit suite `exercise` (the id). */
void ex_register(const char *exercise, const ex_behaviour *list);

/* Sets the description of the case about to be checked ("nums = [3 6 9 1]"): it is printed
 * with the first failure of the behaviour. printf-style. */
void ex_input(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Records a failure of the running behaviour with one detail line (printf-style). Only the
 * first failing case of a behaviour is detailed; later calls just keep it failed. */
void ex_fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* 1 when the running behaviour has failed so far: loops stop at the first failing case. */
int ex_failed(void);

/* Checks; each returns 1 when it holds, else records the failure and returns 0.
 * what names the quantity ("the gap", "return value"). */
int ex_status(const char *what, int expected, int actual);
int ex_i64(const char *what, int64_t expected, int64_t actual);
int ex_ints(const char *what, const int *expected, size_t ne, const int *actual, size_t na);
/* |expected - actual| <= tol (1 + |expected|) for each of the n values; NaN only matches
 * NaN. */
int ex_reals(const char *what, const double *expected, const double *actual, size_t n, double tol);

/* Two new traces carrying the same listing: *ref for the reference, *got for the student.
 * Returns 1, or records a failure and returns 0 with nothing to free. */
int ex_trace_pair(trace **ref, trace **got, const char *const *listing, size_t len);

/* Compares a student's trace with the reference's: step counts, each step's listing line and
 * the state it shows (every snapshot either step records, compared as inherited state; reals
 * with tolerance tol). Messages, marks and quizzes are not compared. On the first departure,
 * records both steps (line, message, the differing snapshot) and returns 0. */
int ex_trace(const trace *ref, const trace *got, double tol);

/* Allocation failures: runs body(ctx) with the k-th allocation failing, k = 0, 1, 2...
 * until it returns 0; every failing run must return TUTOR_ENOMEM (checked, as above). ASan's
 * leak check covers "and nothing leaked". Returns 1 when every run passed. */
int ex_alloc_sweep(int (*body)(void *ctx), void *ctx);

/* Appends v[0..n) as "[a b c]" (at most 16 values, then "..."). */
void ex_fmt_ints(strbuf *sb, const int *v, size_t n);
void ex_fmt_reals(strbuf *sb, const double *v, size_t n);

#endif
