/* trace.h: the step recorder every algorithm and model writes into.
 *
 * A trace is a list of steps. A step holds the pseudo-code line that runs (1-based into the
 * listing the trace carries), a one-line message, named snapshots of the state (copies, so
 * stepping backward needs no undo), marks (an index of a snapshot with a role: compare,
 * current, pruned...), and optionally a quiz question whose answer this step reveals.
 *
 * State is inherited: a step records only the snapshots that changed, and the state shown at
 * step i is, for each name, the latest snapshot at or before i (trace_latest). Marks belong
 * to their own step only.
 *
 * Off costs nothing: every recording function accepts tr == NULL and returns 0 at once;
 * callers guard whole steps with `if (tr)` so the untraced loop does no tracing work.
 *
 * Errors are sticky: a recording call that fails (out of memory, snapshot before any step)
 * stops all further recording and is reported by trace_status; the traced computation
 * itself carries on. Past the size cap, recording stops and trace_truncated says so. */
#ifndef TUTOR_TRACE_H
#define TUTOR_TRACE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* An int snapshot cell holding TRACE_NONE means "no value" (minus infinity in an exact
 * knapsack, an empty bucket): JSON writes it as null and the UI as a blank. */
#define TRACE_NONE INT64_MIN

/* A real snapshot cell holding TRACE_UNSET (a NaN) means "not computed yet" (a row of an
 * attention matrix the loop has not reached): JSON writes it as null, the text trace as -,
 * the UI as a blank, so that no one reads it as a value such as zero weight. */
#define TRACE_UNSET NAN

/* Default cap on recorded bytes (snapshots, messages, bookkeeping) for trace_new(0). */
#define TRACE_DEFAULT_CAP ((size_t)64 << 20)

typedef enum trace_kind {
    TRACE_SCALAR, /* one int64 */
    TRACE_REAL,   /* one double */
    TRACE_INTS,   /* int64 array, rows = 1 */
    TRACE_REALS,  /* double array, rows = 1 */
    TRACE_TABLE,  /* int64 rows x cols, row-major */
    TRACE_MATRIX  /* double rows x cols, row-major */
} trace_kind;

typedef enum trace_role {
    TRACE_CURRENT, /* the element being worked on */
    TRACE_COMPARE, /* compared in this step */
    TRACE_MOVE,    /* written or swapped in this step */
    TRACE_SOURCE,  /* a cell the current value is computed from */
    TRACE_WINNER,  /* the source that won a max/min */
    TRACE_CHOSEN,  /* part of the answer */
    TRACE_PRUNED,  /* a branch cut because it cannot lead to an answer */
    TRACE_SKIPPED, /* a duplicate branch skipped */
    TRACE_FOUND,   /* an answer found */
    TRACE_ROLE_COUNT
} trace_role;

typedef struct trace_snap {
    char *name;
    trace_kind kind;
    size_t rows, cols; /* 1 x n for arrays, 1 x 1 for scalars */
    int64_t *ints;     /* for SCALAR, INTS, TABLE; else NULL */
    double *reals;     /* for REAL, REALS, MATRIX; else NULL */
} trace_snap;

typedef struct trace_marker {
    char *target; /* the snapshot name the mark points into */
    long row;     /* index for 1-D snapshots, row for 2-D */
    long col;     /* -1 for 1-D snapshots */
    trace_role role;
} trace_marker;

typedef struct trace_frame {
    int line;  /* 1-based listing line, 0 when the step names none */
    char *msg; /* never NULL */
    trace_snap *snaps;
    size_t nsnaps;
    trace_marker *marks;
    size_t nmarks;
    char *quiz; /* a question this step's state answers, or NULL */
    int64_t quiz_answer;
} trace_frame;

typedef struct trace trace;

/* Returns a new empty trace that records at most cap_bytes (0: TRACE_DEFAULT_CAP), or NULL
 * when out of memory. Free with trace_free. */
trace *trace_new(size_t cap_bytes);

/* Frees tr and everything it recorded (NULL is fine). */
void trace_free(trace *tr);

/* Sets the pseudo-code listing the steps' line numbers refer to. lines must outlive tr
 * (listings are static tables next to each algorithm). */
void trace_set_listing(trace *tr, const char *const *lines, size_t n);

/* Starts a new step at listing line `line` with a printf-formatted message. Returns 0, or the
 * sticky error. Once truncated, it records nothing and returns 0. O(len(message)). */
int trace_step(trace *tr, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Snapshot recorders: each copies its data into the current step under `name` (copied too).
 * Return 0 or the sticky error; TUTOR_EINVAL (sticky) when no step was started. O(size). */
int trace_scalar(trace *tr, const char *name, int64_t x);
int trace_real(trace *tr, const char *name, double x);
int trace_ints(trace *tr, const char *name, const int *v, size_t n);
int trace_int64s(trace *tr, const char *name, const int64_t *v, size_t n);
int trace_reals(trace *tr, const char *name, const double *v, size_t n);
int trace_table(trace *tr, const char *name, const int64_t *v, size_t rows, size_t cols);
int trace_matrix(trace *tr, const char *name, const double *v, size_t rows, size_t cols);

/* Marks index (row, col) of snapshot `target` with a role in the current step; col = -1 for
 * 1-D snapshots. Returns 0 or the sticky error. */
int trace_mark(trace *tr, const char *target, long row, long col, trace_role role);

/* Attaches to the current step a question whose answer (an integer) the step reveals; the
 * step's message is the reason shown after grading. Returns 0 or the sticky error. */
int trace_quiz(trace *tr, const char *question, int64_t answer);

/* Readers. trace_len: number of steps recorded. trace_at: step i, owned by the trace (NULL
 * when i >= trace_len). trace_find: the snapshot `name` recorded in step st itself, or NULL.
 * trace_latest: the latest snapshot `name` at or before step i, or NULL. O(i) worst case. */
size_t trace_len(const trace *tr);
const trace_frame *trace_at(const trace *tr, size_t i);
const trace_snap *trace_find(const trace_frame *st, const char *name);
const trace_snap *trace_latest(const trace *tr, size_t i, const char *name);

/* The listing set by trace_set_listing (NULL and *n = 0 when none). */
const char *const *trace_listing(const trace *tr, size_t *n);

/* 1 when the size cap stopped recording, else 0. */
int trace_truncated(const trace *tr);

/* 0, or the sticky recording error (TUTOR_ENOMEM, TUTOR_EINVAL). 0 for tr == NULL. */
int trace_status(const trace *tr);

/* Bytes recorded so far (what the cap is compared against). */
size_t trace_bytes(const trace *tr);

/* The role's lower-case name ("compare", "pruned"...). */
const char *trace_role_name(trace_role role);

/* Appends the steps as a JSON array to out:
 *   [{"step": 1, "line": 3, "message": "...", "state": {"name": value...},
 *     "marks": [{"target": "a", "index": 2, "role": "compare"}...],
 *     "quiz": {"question": "...", "answer": 5}}...]
 * Scalars are numbers, arrays lists, tables lists of rows; TRACE_NONE and non-finite reals
 * are null. 2-D marks carry "row" and "col" instead of "index". Only a step's own snapshots
 * are written (state is inherited, see above). Returns 0 or TUTOR_ENOMEM. */
int trace_json(const trace *tr, strbuf *out);

/* Appends the steps as readable text, one block per step ("step 3 [line 4] message" followed
 * by the step's own snapshots, arrays cut to their first 32 values). Returns 0 or
 * TUTOR_ENOMEM. */
int trace_text(const trace *tr, strbuf *out);

#endif
