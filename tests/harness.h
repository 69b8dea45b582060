/* harness.h: what every CUnit suite shares. Each tests/test_X.c defines tests_register()
 * (adding its suites to the CUnit registry) and is linked with harness.c, whose main runs
 * them, prints CUnit's summary and a "name: N passed, N failed" line, and exits non-zero on
 * any failure (CUnit 2.1's basic runner sets no exit code by itself). */
#ifndef TUTOR_HARNESS_H
#define TUTOR_HARNESS_H

#include <CUnit/CUnit.h>
#include <stddef.h>

#include "../trace/strbuf.h"

/* Defined by each test file: add suites and tests with CU_add_suite / CU_add_test. */
void tests_register(void);

/* Adds a suite named `name` with the NULL-terminated list of {"name", fn} tests. */
typedef struct th_test {
    const char *name;
    CU_TestFunc fn;
} th_test;
void th_suite(const char *name, const th_test *tests);

/* Runs `tutor ARGS...` in-process (cli_main) with the NULL-terminated argument list,
 * capturing stdout into *out and stderr into *err (both reset first). Returns the exit
 * status cli_main returned. */
int th_cli(strbuf *out, strbuf *err, ...);

/* The same with an argument vector: argv[0..argc) are the words after `tutor`. */
int th_cli_argv(strbuf *out, strbuf *err, int argc, char **argv);

/* Asserts (CUnit) the CLI's contract for bad input after a th_cli run that returned rc:
 * exit status 2, nothing on stdout, exactly one line on stderr, containing needle (unless
 * needle is NULL). Prints what came instead when it fails. Returns 1 when all held. */
int th_refused(int rc, const strbuf *out, const strbuf *err, const char *needle);

/* Returns 1 when s is exactly one valid JSON value (surrounding whitespace allowed). */
int th_json_valid(const char *s);

/* Allocation-failure sweep: runs body(ctx) with the k-th allocation failing, for
 * k = 0, 1, 2... until a run succeeds (returns 0). Asserts (CUnit) that every failing run
 * returned TUTOR_ENOMEM (or, when `other_ok` is not 0, that code too). Returns how many
 * failure points were checked. ASan's leak check covers "and nothing leaked". */
int th_alloc_sweep(int (*body)(void *ctx), void *ctx, int other_ok);

/* Reads the JSON value after `"key": ` in s (the first occurrence), flattened: every number
 * of a number or of nested lists, in order, null as NaN, into v. Returns how many, or -1
 * when the key is missing, the value is not numbers and lists, or it holds more than cap.
 * For tests' own checks of an output's shape and values (th_json_valid checks syntax). */
long th_json_numbers(const char *s, const char *key, double *v, size_t cap);

/* Removes dir and everything in it (files and folders, recursively); what cannot be
 * removed stays. For the temporary folders tests make with mkdtemp. */
void th_remove_tree(const char *dir);

/* Writes text to the file dir/name (asserting, fatally, that it could) and returns the
 * path, in static storage reused by the 32nd call after. For tests' input files in the
 * folder th_remove_tree later removes. */
const char *th_write_file(const char *dir, const char *name, const char *text);

/* Counts the lines of s. */
size_t th_count_lines(const char *s);

#endif
