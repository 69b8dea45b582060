/* bench.h: the small timing and reporting module every benchmark case shares.
 *
 * A case times "ours" (the project's function) and each "peer" (what a user would pick
 * instead) on the same inputs, with the same policy: one untimed warm-up call, then `reps`
 * samples (a call over BENCH_LONG_CALL counts its warm-up as the first); a sample repeats the call
 * enough times to last at least BENCH_MIN_SAMPLE seconds (so tiny sizes are measurable) and records
 * the time per call. Each contender allocates its own working memory inside the timed region. The
 * report is a row per (size, peer): medians, minima, the ratio peer/ours (above 1: ours is faster)
 * and the target with MET or MISSED, printed as a table and appended to bench/out/CASE.csv.
 *
 * Python peers run as a child process (bench/peers.py) on the same data, passed through a
 * temporary file; they time themselves with the same policy and may write their output back
 * so the harness checks it against ours. A missing python3 or numpy skips the peer with a
 * note; nothing is ever estimated in its place. */
#ifndef TUTOR_BENCH_H
#define TUTOR_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The shortest sample, in seconds: shorter calls are repeated within one sample. */
#define BENCH_MIN_SAMPLE 0.005

/* A warm-up call longer than this, in seconds, counts as the first sample. */
#define BENCH_LONG_CALL 1.0

/* The median and minimum seconds per call over the samples; n = 0 means "not measured". */
typedef struct bench_times {
    double median, min;
    int n;
} bench_times;

/* One call of the function under test. Returns 0, or an error code that stops the timing. */
typedef int (*bench_fn)(void *ctx);

/* Seconds on the monotonic clock. */
double bench_now(void);

/* Times fn(ctx) as the header says: one warm-up call, then reps samples (the warm-up is the
 * first of them when it took more than BENCH_LONG_CALL). Returns 0 and fills
 * *t, or the first non-zero code fn returned (*t then has n = 0). */
int bench_time(bench_times *t, bench_fn fn, void *ctx, int reps);

/* Times ours and peer as bench_time does, alternating their samples (ours, peer, ours...)
 * so that both see the same machine load: the ratio of a busy machine stays fair. */
int bench_time_pair(bench_times *ours_t, bench_fn ours, void *ours_ctx, bench_times *peer_t,
                    bench_fn peer, void *peer_ctx, int reps);

/* A result row. peer_t.n == 0 with a note means the peer was skipped (note says why). need
 * is the ratio peer/ours the target asks for (0: no target, the row is informational). */
typedef struct bench_row {
    const char *size; /* "n=10000000" */
    double n;         /* the size as a number, for the CSV's plots */
    const char *ours; /* what ran on our side */
    const char *peer; /* what ran on the other side */
    bench_times ours_t, peer_t;
    double need;        /* target: peer/ours >= need; 0 for none */
    const char *target; /* the target in words ("ratio >= 4") */
    const char *note;   /* why a peer was skipped, or a remark; may be NULL */
    const char *why;    /* what the profile blames, printed only when the target is MISSED */
} bench_row;

/* Starts a case: prints its title and the table header, and opens bench/out/NAME.csv
 * (truncating it) with its header line. A CSV that cannot be opened is reported once on
 * stderr and the case still prints its table. */
void bench_begin(const char *name, const char *title);

/* Prints row and appends it to the case's CSV. Returns 1 when the row had a target and met
 * it, 0 when it missed it or was skipped, -1 when it had no target. */
int bench_report(const bench_row *row);

/* A free-form line under the table (a crossover, a refusal, a comparison count); also a
 * "# ..." comment line in the CSV. printf-style. */
void bench_note(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Counts a target checked outside a timed row (1 met, 0 missed) in the case's tally. */
void bench_tally(int met);

/* Opens bench/out/NAME.csv for a case's extra table and writes its header line; NULL (and a
 * line on stderr) when it cannot. The caller fcloses it. */
FILE *bench_csv_open(const char *name, const char *header);

/* Ends the case: closes the CSV, prints the tally and returns the number of missed targets. */
int bench_end(void);

/* Formats seconds with a unit ("12.3 ms") into buf (>= 16 bytes); returns buf. */
const char *bench_fmt_time(char *buf, double seconds);

/* ---- Python peers ---- */

/* A peer run in the child process: python bench/peers.py CASE IN OUT REPS ARGS... */
typedef struct bench_py {
    bench_times t;  /* its timing (n = 0 when skipped) */
    double check;   /* the value it printed on a "check" line (NAN when none) */
    char note[160]; /* why it was skipped, when it was */
} bench_py;

/* Writes the `parts` buffers (ptr[i], bytes[i]) one after another to a new temporary file and
 * returns its path (mem_alloc'ed; free with bench_tmp_drop, which also deletes it), or NULL
 * when the file cannot be written. */
char *bench_tmp_write(const void *const *ptr, const size_t *bytes, size_t parts);

/* A fresh temporary path for a peer's output (the file exists, empty), or NULL. */
char *bench_tmp_new(void);

/* Deletes the file and frees the path. NULL is fine. */
void bench_tmp_drop(char *path);

/* Runs the Python peer `pycase` on in_path, writing its output to out_path (may be NULL),
 * with reps samples and the extra arguments args[0..nargs). needs_numpy: the case imports
 * numpy. The interpreter is $BENCH_PYTHON, else /usr/bin/python3 (Debian's, where
 * python3-numpy installs), else python3 on PATH. Returns 0 and fills *py; or sets py->note
 * and returns 1 when the peer is skipped (no interpreter, no numpy) or failed. */
int bench_python(bench_py *py, const char *pycase, const char *in_path, const char *out_path,
                 int reps, const char *const *args, size_t nargs);

/* Reads count doubles from path into out. Returns 0, or -1 when the file is short. */
int bench_read_doubles(double *out, size_t count, const char *path);

/* The largest |a[i] - b[i]| divided by max(1e-300, the largest |a[i]|). */
double bench_rel_diff(const double *a, const double *b, size_t count);

/* Non-zero when only the named case should run and it is not `name` (BENCH=heap). */
int bench_skip_case(const char *name);

/* The cases (one file each). Each returns the number of missed targets. */
int bench_case_maxgap(void);
int bench_case_heap(void);
int bench_case_knapsack(void);
int bench_case_attention(void);
int bench_case_ssm(void);
int bench_case_trace(void);

/* The C++ peers (bench/peer_pq.cpp, compiled with g++ -O2). */
/* Pushes xs[0..n) onto a std::priority_queue<int> ordered by std::greater (a min-heap), then
 * pops all into out. */
void peer_pq_push_pop(int *out, const int *xs, size_t n);
/* std::make_heap on a[0..n) with std::greater (a min-heap). */
void peer_make_heap(int *a, size_t n);

#endif
