/* ex.c: behaviours, checks with expected-against-actual output, trace comparison, and the
 * process isolation of the exercise suites (see ex.h). */
#include "ex.h"

#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../trace/mem.h"
#include "../../trace/status.h"

/* Seconds one behaviour may take before it is reported as a hang. */
#define EX_TIMEOUT 10

static const ex_behaviour *behaviours;
static size_t next_behaviour;
static strbuf details = STRBUF_INIT, input = STRBUF_INIT;
static int failed, prev_failed;

/* Prints text with every line after the first indented by `indent`. */
static void print_indented(const char *text, const char *indent)
{
    for (const char *p = text; *p; p++) {
        putchar(*p);
        if (*p == '\n' && p[1])
            fputs(indent, stdout);
    }
}

/* Prints text word-wrapped to `width` columns, the first line starting at column `col`,
 * the others after `indent`; ends with a newline. */
static void print_wrapped(const char *text, const char *indent, size_t col, size_t width)
{
    const char *p = text;
    while (*p) {
        size_t word = strcspn(p, " ");
        if (col > strlen(indent) && col + 1 + word > width) {
            printf("\n%s", indent);
            col = strlen(indent);
        } else if (p != text) {
            putchar(' ');
            col++;
        }
        printf("%.*s", (int)word, p);
        col += word;
        p += word;
        while (*p == ' ')
            p++;
    }
    putchar('\n');
}

/* Runs b in a child process, so that a crash or a hang in the student's code fails this
 * behaviour only and the next ones still run. The child sends back 'F' or 'P' and the
 * details; *failed and details are set from them. */
static void run_isolated(const ex_behaviour *b)
{
    int fds[2];
    fflush(NULL);
    pid_t pid = pipe(fds) == 0 ? fork() : -1;
    if (pid == 0) {
        close(fds[0]);
        alarm(EX_TIMEOUT); /* SIGALRM's default action ends the child: a hang */
        b->fn();
        alarm(0);
        char verdict = failed ? 'F' : 'P';
        int ok = write(fds[1], &verdict, 1) == 1 &&
                 write(fds[1], strbuf_str(&details), details.len) == (ssize_t)details.len;
        close(fds[1]);
        /* exit, not _exit: a sanitizer's leak check runs at exit and fails the child. */
        exit(ok ? 0 : 3);
    }
    if (pid < 0) {
        /* No child to spare: run it here, unguarded. */
        b->fn();
        return;
    }
    close(fds[1]);
    strbuf got = STRBUF_INIT;
    char buf[4096];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0)
        strbuf_putn(&got, buf, (size_t)n);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    strbuf_clear(&details);
    failed = 1;
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
        strbuf_printf(&details,
                      "timed out after %d s: your code ran for too long (an endless "
                      "loop?)\n",
                      EX_TIMEOUT);
    } else if (WIFSIGNALED(status)) {
        strbuf_printf(&details,
                      "crashed: your code received signal %d (%s): an out-of-bounds "
                      "access? a NULL pointer?\n",
                      WTERMSIG(status), strsignal(WTERMSIG(status)));
    } else if (got.len == 0 || !WIFEXITED(status)) {
        strbuf_puts(&details, "crashed (the sanitizer's report above says where)\n");
    } else {
        failed = strbuf_str(&got)[0] == 'F';
        strbuf_puts(&details, strbuf_str(&got) + 1);
        if (WEXITSTATUS(status) != 0) {
            failed = 1;
            strbuf_puts(&details,
                        "the sanitizer found a problem (a leak?): see its report above\n");
        }
    }
    strbuf_free(&got);
}

/* The one CUnit test function: behaviours run in registration order, one call each. */
static void run_next(void)
{
    const ex_behaviour *b = &behaviours[next_behaviour++];
    strbuf_clear(&details);
    strbuf_clear(&input);
    failed = 0;
    if (prev_failed)
        putchar('\n'); /* CUnit's record of the last failure ends without one */
    prev_failed = 0;
    run_isolated(b);
    if (!failed) {
        printf("  ok    %s\n", b->name);
        return;
    }
    printf("  FAIL  %s\n        ", b->name);
    print_indented(strbuf_str(&details), "        ");
    if (b->hint) {
        fputs("        hint:     ", stdout);
        print_wrapped(b->hint, "                  ", 18, 96);
    }
    fflush(stdout);
    /* CUnit lists it again after the test as "N. exercise:K  - name"; K is its number. */
    CU_assertImplementation(CU_FALSE, (unsigned)next_behaviour, b->name, "exercise", "", CU_FALSE);
    prev_failed = 1;
}

static void free_buffers(void)
{
    strbuf_free(&details);
    strbuf_free(&input);
}

void ex_register(const char *exercise, const ex_behaviour *list)
{
    behaviours = list;
    atexit(free_buffers);
    CU_pSuite suite = CU_add_suite(exercise, NULL, NULL);
    if (!suite) {
        fprintf(stderr, "exercise: cannot add suite %s\n", exercise);
        exit(2);
    }
    for (const ex_behaviour *b = list; b->name; b++)
        if (!CU_add_test(suite, b->name, run_next)) {
            fprintf(stderr, "exercise: cannot add behaviour %s\n", b->name);
            exit(2);
        }
    size_t count = 0;
    for (const ex_behaviour *b = list; b->name; b++)
        count++;
    printf("exercise %s: %zu behaviours\n", exercise, count);
}

void ex_input(const char *fmt, ...)
{
    strbuf_clear(&input);
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(&input, fmt, ap);
    va_end(ap);
}

void ex_fail(const char *fmt, ...)
{
    if (failed)
        return;
    failed = 1;
    if (input.len)
        strbuf_printf(&details, "input:    %s\n", strbuf_str(&input));
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(&details, fmt, ap);
    va_end(ap);
    strbuf_putc(&details, '\n');
}

int ex_failed(void)
{
    return failed;
}

int ex_status(const char *what, int expected, int actual)
{
    if (expected == actual)
        return 1;
    ex_fail("%s: expected %d (%s), got %d (%s)", what, expected, status_strerror(expected), actual,
            status_strerror(actual));
    return 0;
}

int ex_i64(const char *what, int64_t expected, int64_t actual)
{
    if (expected == actual)
        return 1;
    ex_fail("%s: expected %lld, got %lld", what, (long long)expected, (long long)actual);
    return 0;
}

void ex_fmt_ints(strbuf *sb, const int *v, size_t n)
{
    strbuf_putc(sb, '[');
    for (size_t i = 0; i < n && i < 16; i++)
        strbuf_printf(sb, i ? " %d" : "%d", v[i]);
    strbuf_puts(sb, n > 16 ? " ...]" : "]");
}

void ex_fmt_reals(strbuf *sb, const double *v, size_t n)
{
    strbuf_putc(sb, '[');
    for (size_t i = 0; i < n && i < 16; i++)
        strbuf_printf(sb, i ? " %.6g" : "%.6g", v[i]);
    strbuf_puts(sb, n > 16 ? " ...]" : "]");
}

int ex_ints(const char *what, const int *expected, size_t ne, const int *actual, size_t na)
{
    if (ne == na && (ne == 0 || memcmp(expected, actual, ne * sizeof *expected) == 0))
        return 1;
    strbuf e = STRBUF_INIT, a = STRBUF_INIT;
    ex_fmt_ints(&e, expected, ne);
    ex_fmt_ints(&a, actual, na);
    ex_fail("%s:\n  expected: %s\n  actual:   %s", what, strbuf_str(&e), strbuf_str(&a));
    strbuf_free(&e);
    strbuf_free(&a);
    return 0;
}

static int close_enough(double e, double a, double tol)
{
    if (isnan(e) || isnan(a))
        return isnan(e) && isnan(a);
    if (isinf(e) || isinf(a))
        return e == a;
    return fabs(e - a) <= tol * (1 + fabs(e));
}

int ex_reals(const char *what, const double *expected, const double *actual, size_t n, double tol)
{
    for (size_t i = 0; i < n; i++) {
        if (close_enough(expected[i], actual[i], tol))
            continue;
        strbuf e = STRBUF_INIT, a = STRBUF_INIT;
        ex_fmt_reals(&e, expected, n);
        ex_fmt_reals(&a, actual, n);
        ex_fail("%s: first difference at index %zu: expected %.12g, got %.12g (tolerance "
                "%g relative)\n  expected: %s\n  actual:   %s",
                what, i, expected[i], actual[i], tol, strbuf_str(&e), strbuf_str(&a));
        strbuf_free(&e);
        strbuf_free(&a);
        return 0;
    }
    return 1;
}

int ex_alloc_sweep(int (*body)(void *ctx), void *ctx)
{
    for (long k = 0; k < 100000; k++) {
        mem_fail_after(k);
        int rc = body(ctx);
        mem_fail_after(-1);
        if (rc == 0)
            return 1;
        if (rc != TUTOR_ENOMEM) {
            ex_fail("with allocation number %ld failing: expected %d (%s), got %d (%s)", k + 1,
                    TUTOR_ENOMEM, status_strerror(TUTOR_ENOMEM), rc, status_strerror(rc));
            return 0;
        }
    }
    ex_fail("never succeeded, however many allocations were allowed");
    return 0;
}

/* ---- traces ---- */

static int snap_equal(const trace_snap *a, const trace_snap *b, double tol)
{
    if (!a || !b)
        return a == b;
    if (a->kind != b->kind || a->rows != b->rows || a->cols != b->cols)
        return 0;
    size_t n = a->rows * a->cols;
    for (size_t i = 0; i < n; i++) {
        if (a->ints && a->ints[i] != b->ints[i])
            return 0;
        if (a->reals && !close_enough(a->reals[i], b->reals[i], tol))
            return 0;
    }
    return 1;
}

static void fmt_snap(strbuf *sb, const trace_snap *s)
{
    if (!s) {
        strbuf_puts(sb, "(not recorded)");
        return;
    }
    size_t n = s->rows * s->cols, shown = n < 16 ? n : 16;
    if (s->rows > 1)
        strbuf_printf(sb, "(%zu x %zu) ", s->rows, s->cols);
    if (s->kind == TRACE_SCALAR || s->kind == TRACE_REAL) {
        if (s->ints)
            strbuf_printf(sb, "%lld", (long long)s->ints[0]);
        else
            strbuf_printf(sb, "%.6g", s->reals[0]);
        return;
    }
    strbuf_putc(sb, '[');
    for (size_t i = 0; i < shown; i++) {
        if (i)
            strbuf_putc(sb, ' ');
        if (s->ints)
            s->ints[i] == TRACE_NONE ? strbuf_putc(sb, '_')
                                     : strbuf_printf(sb, "%lld", (long long)s->ints[i]);
        else
            strbuf_printf(sb, isnan(s->reals[i]) ? "-" : "%.4g", s->reals[i]);
    }
    strbuf_puts(sb, n > shown ? " ...]" : "]");
}

static void fmt_step(strbuf *sb, const char *who, const trace *tr, size_t i, const char *name)
{
    if (i >= trace_len(tr)) {
        strbuf_printf(sb, "  %s no step %zu (%zu steps in all)\n", who, i + 1, trace_len(tr));
        return;
    }
    const trace_frame *f = trace_at(tr, i);
    size_t nlines;
    const char *const *listing = trace_listing(tr, &nlines);
    strbuf_printf(sb, "  %s line %d", who, f->line);
    if (listing && f->line >= 1 && (size_t)f->line <= nlines)
        strbuf_printf(sb, " `%s`", listing[f->line - 1]);
    strbuf_printf(sb, "\n             \"%s\"\n", f->msg);
    if (name) {
        strbuf_printf(sb, "             %s = ", name);
        fmt_snap(sb, trace_latest(tr, i, name));
        strbuf_putc(sb, '\n');
    }
}

static void departure(const trace *ref, const trace *got, size_t i, const char *why,
                      const char *name)
{
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "your trace departs from the reference's at step %zu (%s):\n", i + 1, why);
    fmt_step(&sb, "reference:", ref, i, name);
    fmt_step(&sb, "yours:    ", got, i, name);
    if (sb.len && strbuf_str(&sb)[sb.len - 1] == '\n')
        sb.s[--sb.len] = '\0';
    ex_fail("%s", strbuf_str(&sb));
    strbuf_free(&sb);
}

/* The first snapshot name, among those step i of either trace records, whose inherited value
 * differs; NULL when none does. */
static const char *state_differs(const trace *ref, const trace *got, size_t i, double tol)
{
    const trace_frame *fr = trace_at(ref, i), *fg = trace_at(got, i);
    for (int pass = 0; pass < 2; pass++) {
        const trace_frame *f = pass ? fg : fr;
        for (size_t s = 0; s < f->nsnaps; s++) {
            const char *name = f->snaps[s].name;
            if (!snap_equal(trace_latest(ref, i, name), trace_latest(got, i, name), tol))
                return name;
        }
    }
    return NULL;
}

int ex_trace_pair(trace **ref, trace **got, const char *const *listing, size_t len)
{
    *ref = trace_new(0);
    *got = trace_new(0);
    if (!*ref || !*got) {
        trace_free(*ref);
        trace_free(*got);
        *ref = *got = NULL;
        ex_fail("out of memory for the traces");
        return 0;
    }
    trace_set_listing(*ref, listing, len);
    trace_set_listing(*got, listing, len);
    return 1;
}

int ex_trace(const trace *ref, const trace *got, double tol)
{
    size_t nr = trace_len(ref), ng = trace_len(got);
    if (trace_status(got)) {
        ex_fail("recording your trace failed: %s", status_strerror(trace_status(got)));
        return 0;
    }
    for (size_t i = 0; i < nr || i < ng; i++) {
        if (i >= ng) {
            departure(ref, got, i, ng ? "your trace ends here" : "your trace has no steps", NULL);
            return 0;
        }
        if (i >= nr) {
            departure(ref, got, i, "the reference's trace ends before", NULL);
            return 0;
        }
        if (trace_at(ref, i)->line != trace_at(got, i)->line) {
            departure(ref, got, i, "a different pseudo-code line", NULL);
            return 0;
        }
        const char *name = state_differs(ref, got, i, tol);
        if (name) {
            departure(ref, got, i, "a different state", name);
            return 0;
        }
    }
    return 1;
}
