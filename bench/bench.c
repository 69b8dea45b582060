/* bench.c: timing, the table and CSV report, and the Python child process. */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../trace/mem.h"

#ifndef TUTOR_SRCDIR
#define TUTOR_SRCDIR "."
#endif

/* The case being reported: its CSV and its tallies. */
static struct {
    const char *name;
    FILE *csv;
    int met, missed, skipped;
} cur;

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Calls per sample for a call that took `once` seconds. */
static long calls_for(double once)
{
    return once >= BENCH_MIN_SAMPLE ? 1 : (long)(BENCH_MIN_SAMPLE / (once + 1e-9)) + 1;
}

/* One sample: calls calls of fn, the time per call into *out. Returns fn's first error. */
static int sample_once(double *out, bench_fn fn, void *ctx, long calls)
{
    double start = bench_now();
    for (long c = 0; c < calls; c++) {
        int rc = fn(ctx);
        if (rc)
            return rc;
    }
    *out = (bench_now() - start) / (double)calls;
    return 0;
}

/* Median and minimum of sample[0..n), which it sorts. */
static void summarise(bench_times *t, double *sample, int n)
{
    qsort(sample, (size_t)n, sizeof sample[0], cmp_double);
    t->min = sample[0];
    t->median = n % 2 ? sample[n / 2] : 0.5 * (sample[n / 2 - 1] + sample[n / 2]);
    t->n = n;
}

static int clamp_reps(int reps)
{
    return reps < 1 ? 1 : reps > 64 ? 64 : reps;
}

int bench_time(bench_times *t, bench_fn fn, void *ctx, int reps)
{
    t->n = 0;
    t->median = t->min = NAN;
    reps = clamp_reps(reps);
    /* The warm-up call also tells how many calls one sample needs. */
    double once, sample[64];
    int rc = sample_once(&once, fn, ctx, 1);
    if (rc)
        return rc;
    long calls = calls_for(once);
    /* A call of more than BENCH_LONG_CALL seconds has nothing left to warm: its warm-up is
     * the first sample, which keeps the whole run within minutes. */
    int r = 0;
    if (once > BENCH_LONG_CALL)
        sample[r++] = once;
    for (; r < reps; r++)
        if ((rc = sample_once(&sample[r], fn, ctx, calls)) != 0)
            return rc;
    summarise(t, sample, reps);
    return 0;
}

int bench_time_pair(bench_times *ot, bench_fn ours, void *octx, bench_times *pt, bench_fn peer,
                    void *pctx, int reps)
{
    ot->n = pt->n = 0;
    ot->median = ot->min = pt->median = pt->min = NAN;
    reps = clamp_reps(reps);
    double once_o, once_p, so[64], sp[64];
    int rc = sample_once(&once_o, ours, octx, 1);
    if (!rc)
        rc = sample_once(&once_p, peer, pctx, 1);
    if (rc)
        return rc;
    long calls_o = calls_for(once_o), calls_p = calls_for(once_p);
    int r = 0;
    if (once_o > BENCH_LONG_CALL && once_p > BENCH_LONG_CALL) {
        so[0] = once_o;
        sp[0] = once_p;
        r = 1;
    }
    for (; r < reps; r++) {
        if ((rc = sample_once(&so[r], ours, octx, calls_o)) != 0 ||
            (rc = sample_once(&sp[r], peer, pctx, calls_p)) != 0)
            return rc;
    }
    summarise(ot, so, reps);
    summarise(pt, sp, reps);
    return 0;
}

const char *bench_fmt_time(char *buf, double s)
{
    if (!(s == s))
        snprintf(buf, 16, "-");
    else if (s >= 1)
        snprintf(buf, 16, "%.2f s", s);
    else if (s >= 1e-3)
        snprintf(buf, 16, "%.2f ms", s * 1e3);
    else if (s >= 1e-6)
        snprintf(buf, 16, "%.2f us", s * 1e6);
    else
        snprintf(buf, 16, "%.1f ns", s * 1e9);
    return buf;
}

/* bench/out, or $BENCH_OUT. */
static const char *out_dir(void)
{
    const char *env = getenv("BENCH_OUT");
    return env && *env ? env : TUTOR_SRCDIR "/bench/out";
}

FILE *bench_csv_open(const char *name, const char *header)
{
    const char *dir = out_dir();
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "bench: cannot create %s: %s (no CSV)\n", dir, strerror(errno));
        return NULL;
    }
    size_t len = strlen(dir) + strlen(name) + 8;
    char *path = mem_alloc(len);
    if (!path)
        return NULL;
    snprintf(path, len, "%s/%s.csv", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "bench: cannot write %s: %s (no CSV)\n", path, strerror(errno));
    else
        fprintf(f, "%s\n", header);
    mem_free(path);
    return f;
}

void bench_begin(const char *name, const char *title)
{
    cur.name = name;
    cur.met = cur.missed = cur.skipped = 0;
    printf("\n== %s: %s\n", name, title);
    printf("%-15s %-18s %-20s %10s %10s %10s %10s %9s  %-18s %s\n", "size", "ours", "peer",
           "ours med", "ours min", "peer med", "peer min", "peer/ours", "target", "verdict");
    cur.csv = bench_csv_open(name, "case,size,n,ours,peer,ours_median_s,ours_min_s,"
                                   "peer_median_s,peer_min_s,ratio,need,verdict,note");
}

void bench_tally(int met)
{
    if (met)
        cur.met++;
    else
        cur.missed++;
}

/* Writes s as a CSV field: quoted, quotes doubled. */
static void csv_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int bench_report(const bench_row *row)
{
    char a[16], b[16], c[16], d[16], r[16];
    int measured = row->ours_t.n > 0 && row->peer_t.n > 0;
    double ratio = measured ? row->peer_t.median / row->ours_t.median : NAN;
    const char *verdict;
    int result;
    if (!measured) {
        verdict = "SKIPPED";
        result = row->need > 0 ? 0 : -1;
        if (row->need > 0)
            cur.skipped++;
    } else if (row->need <= 0) {
        verdict = "-";
        result = -1;
    } else if (ratio >= row->need) {
        verdict = "MET";
        result = 1;
        cur.met++;
    } else {
        verdict = "MISSED";
        result = 0;
        cur.missed++;
    }
    /* A missed target names what the profile blames (row->why); a note (a skipped peer,
     * differing answers) comes first. */
    char notebuf[320];
    const char *note = row->note;
    if (result == 0 && measured && row->why) {
        snprintf(notebuf, sizeof notebuf, "%s%s%s", row->note ? row->note : "",
                 row->note ? "; " : "", row->why);
        note = notebuf;
    }
    if (measured)
        snprintf(r, sizeof r, "%.2f", ratio);
    else
        snprintf(r, sizeof r, "-");
    printf("%-15s %-18s %-20s %10s %10s %10s %10s %9s  %-18s %s%s%s\n", row->size, row->ours,
           row->peer, bench_fmt_time(a, row->ours_t.median), bench_fmt_time(b, row->ours_t.min),
           bench_fmt_time(c, row->peer_t.median), bench_fmt_time(d, row->peer_t.min), r,
           row->target ? row->target : "-", verdict, note ? ": " : "", note ? note : "");
    if (cur.csv) {
        FILE *f = cur.csv;
        csv_str(f, cur.name);
        fputc(',', f);
        csv_str(f, row->size);
        fprintf(f, ",%.0f,", row->n);
        csv_str(f, row->ours);
        fputc(',', f);
        csv_str(f, row->peer);
        fprintf(f, ",%.9g,%.9g,%.9g,%.9g,%.6g,%.6g,", row->ours_t.median, row->ours_t.min,
                row->peer_t.median, row->peer_t.min, ratio, row->need);
        csv_str(f, verdict);
        fputc(',', f);
        csv_str(f, note ? note : "");
        fputc('\n', f);
    }
    fflush(stdout);
    return result;
}

void bench_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("  ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    if (cur.csv) {
        va_start(ap, fmt);
        fputs("# ", cur.csv);
        vfprintf(cur.csv, fmt, ap);
        fputc('\n', cur.csv);
        va_end(ap);
    }
    fflush(stdout);
}

int bench_end(void)
{
    printf("  targets: %d met, %d missed, %d skipped\n", cur.met, cur.missed, cur.skipped);
    if (cur.csv)
        fclose(cur.csv);
    cur.csv = NULL;
    fflush(stdout);
    return cur.missed;
}

/* ---- temporary files and the Python child ---- */

static char *tmp_open(int *fd)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    size_t len = strlen(dir) + 32;
    char *path = mem_alloc(len);
    if (!path)
        return NULL;
    snprintf(path, len, "%s/tutor-bench-XXXXXX", dir);
    *fd = mkstemp(path);
    if (*fd < 0) {
        mem_free(path);
        return NULL;
    }
    return path;
}

char *bench_tmp_new(void)
{
    int fd;
    char *path = tmp_open(&fd);
    if (path)
        close(fd);
    return path;
}

char *bench_tmp_write(const void *const *ptr, const size_t *bytes, size_t parts)
{
    int fd;
    char *path = tmp_open(&fd);
    if (!path)
        return NULL;
    FILE *f = fdopen(fd, "wb");
    int ok = f != NULL;
    for (size_t i = 0; ok && i < parts; i++)
        ok = fwrite(ptr[i], 1, bytes[i], f) == bytes[i];
    if (f)
        ok = (fclose(f) == 0) && ok;
    else
        close(fd);
    if (!ok) {
        bench_tmp_drop(path);
        return NULL;
    }
    return path;
}

void bench_tmp_drop(char *path)
{
    if (path) {
        unlink(path);
        mem_free(path);
    }
}

int bench_read_doubles(double *out, size_t count, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t got = fread(out, sizeof *out, count, f);
    fclose(f);
    return got == count ? 0 : -1;
}

double bench_rel_diff(const double *a, const double *b, size_t count)
{
    double scale = 1e-300, worst = 0;
    for (size_t i = 0; i < count; i++) {
        if (fabs(a[i]) > scale)
            scale = fabs(a[i]);
        double d = fabs(a[i] - b[i]);
        if (!(d <= worst)) /* NaN counts as the worst */
            worst = d != d ? INFINITY : d;
    }
    return worst / scale;
}

/* The interpreter to run: $BENCH_PYTHON, /usr/bin/python3, or python3 on PATH (NULL: none). */
static const char *python_path(void)
{
    const char *env = getenv("BENCH_PYTHON");
    if (env && *env)
        return env;
    if (access("/usr/bin/python3", X_OK) == 0)
        return "/usr/bin/python3";
    const char *path = getenv("PATH");
    static char found[512];
    while (path && *path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        if (len > 0 && len + 10 < sizeof found) {
            memcpy(found, path, len);
            memcpy(found + len, "/python3", 9);
            if (access(found, X_OK) == 0)
                return found;
        }
        path = end ? end + 1 : NULL;
    }
    return NULL;
}

int bench_python(bench_py *py, const char *pycase, const char *in_path, const char *out_path,
                 int reps, const char *const *args, size_t nargs)
{
    py->t.n = 0;
    py->t.median = py->t.min = NAN;
    py->check = NAN;
    py->note[0] = '\0';
    const char *python = python_path();
    if (!python) {
        snprintf(py->note, sizeof py->note, "no python3 found");
        return 1;
    }
    if (!in_path) {
        snprintf(py->note, sizeof py->note, "could not write the data file");
        return 1;
    }
    char script[1024], reps_s[16];
    snprintf(script, sizeof script, "%s/bench/peers.py", TUTOR_SRCDIR);
    snprintf(reps_s, sizeof reps_s, "%d", reps);
    const char *argv[24];
    size_t argc = 0;
    argv[argc++] = python;
    argv[argc++] = script;
    argv[argc++] = pycase;
    argv[argc++] = in_path;
    argv[argc++] = out_path ? out_path : "-";
    argv[argc++] = reps_s;
    for (size_t i = 0; i < nargs && argc < 23; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;

    int pipefd[2];
    if (pipe(pipefd) != 0) {
        snprintf(py->note, sizeof py->note, "pipe: %s", strerror(errno));
        return 1;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        snprintf(py->note, sizeof py->note, "fork: %s", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        close(pipefd[0]);
        dup2(pipefd[1], STDOUT_FILENO);
        close(pipefd[1]);
        execv(python, (char *const *)argv);
        _exit(127);
    }
    close(pipefd[1]);
    FILE *f = fdopen(pipefd[0], "r");
    double sample[64];
    int n = 0;
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        double x;
        if (sscanf(line, "time %lf", &x) == 1 && n < 64)
            sample[n++] = x;
        else if (sscanf(line, "check %lf", &x) == 1)
            py->check = x;
        else if (strncmp(line, "skip ", 5) == 0) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(py->note, sizeof py->note, "%.150s", line + 5);
        }
    }
    if (f)
        fclose(f);
    else
        close(pipefd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    if (code == 127) {
        snprintf(py->note, sizeof py->note, "could not run %.120s", python);
        return 1;
    }
    if (code != 0 || n == 0) {
        if (!py->note[0])
            snprintf(py->note, sizeof py->note, "%.120s exited with status %d", python, code);
        return 1;
    }
    qsort(sample, (size_t)n, sizeof sample[0], cmp_double);
    py->t.min = sample[0];
    py->t.median = n % 2 ? sample[n / 2] : 0.5 * (sample[n / 2 - 1] + sample[n / 2]);
    py->t.n = n;
    return 0;
}
