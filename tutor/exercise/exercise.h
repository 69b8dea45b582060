/* exercise.h: the exercises (docs/exercises.md): students write a topic's functions
 * themselves, starting from a stub, and run that topic's exercise suite against their file.
 *
 * An exercise builds through make in the source tree (TUTOR_SRCDIR, compile-time default
 * from the Makefile, or the environment variable of that name): `make exercise TOPIC=ID`
 * compiles the student's file in place of the library's functions and runs the suite. The
 * student's file is $TUTOR_EXERCISE_DIR/ID.c, by default SRCDIR/exercises/work/ID.c (ignored
 * by git), copied from the stub exercises/ID.c on first use.
 *
 * Progress (each exercise's last result and how many hints were shown) lives in
 * $XDG_STATE_HOME/tutor/progress (default ~/.local/state/tutor/progress), one line per
 * exercise, rewritten atomically (temporary file + rename). A file that does not parse is
 * renamed progress.corrupt-N (never silently reset) and reported.
 *
 * For the UI: exercise_status(topic id) and exercise_run_cancellable(topic id, report, ...). */
#ifndef TUTOR_EXERCISE_H
#define TUTOR_EXERCISE_H

#include <stddef.h>
#include <stdio.h>

#include "../../trace/strbuf.h"

typedef enum exercise_state {
    EXERCISE_NOT_STARTED, /* never run */
    EXERCISE_FAILING,     /* the last run failed (or did not build) */
    EXERCISE_PASSING      /* the last run passed every behaviour */
} exercise_state;

typedef struct exercise {
    const char *id;      /* `tutor exercise ID`, exercises/ID.c */
    const char *topic;   /* the registry topic it belongs to */
    const char *title;   /* what the student writes */
    const char *library; /* the library file holding the reference, e.g. algorithms/heap.c */
    const char *const *functions; /* the functions the student writes, NULL-terminated */
    const char *hints[3];         /* the hint ladder, gentle to blunt */
} exercise;

/* Every exercise, in the order `tutor exercise` lists them. */
extern const exercise exercise_table[];
extern const size_t exercise_count;

/* The exercise with this id, or NULL. O(exercise_count). */
const exercise *exercise_find(const char *id);

/* "not started", "failing", "passing". */
const char *exercise_state_name(exercise_state s);

/* The status of exercise `id`, or of topic `id` taken over its exercises (passing when all
 * pass, not started when none was run, else failing). EXERCISE_NOT_STARTED for an id with no
 * exercise or when the progress file cannot be read. A corrupt progress file is set aside
 * (see above; exercise_warning says so). O(size of the progress file). */
exercise_state exercise_status(const char *id);

/* Runs exercise `id` (or every exercise of topic `id`, one after another): builds its suite
 * against the student's file through make and runs it, appending the suite's output (one line
 * per behaviour, expected against actual and hints for failures) to report, and records the
 * result in the progress file. Returns 0 when everything passed, 1 when something failed or
 * did not build, TUTOR_ENOTFOUND when the sources or make are not there, TUTOR_EINVAL for an
 * unknown id (a line in report says which), TUTOR_ENOMEM. Blocks while make runs (seconds). */
int exercise_run(const char *id, strbuf *report);

/* exercise_run's result when cancel stopped it (see below). */
#define EXERCISE_CANCELLED 3

/* Asked every 100 ms while make runs; nonzero stops the run. */
typedef int (*exercise_cancel_fn)(void *ctx);

/* exercise_run for the interactive tutor: make runs in a process group of its own, and when
 * cancel(ctx) returns nonzero the whole group is stopped (SIGTERM), "cancelled" is appended
 * to report, nothing is recorded in the progress file, and the result is
 * EXERCISE_CANCELLED (the exercises after it, for a topic id, are not run). cancel NULL:
 * exactly exercise_run, make staying in the caller's group (so Ctrl-C reaches it). */
int exercise_run_cancellable(const char *id, strbuf *report, exercise_cancel_fn cancel, void *ctx);

/* The last warning about the progress file (set aside, not writable), or NULL; reading it
 * clears it. */
const char *exercise_warning(void);

/* `tutor exercise [ID] [--watch] [--hint] [--solution]`: the CLI command. Returns the exit
 * status: 0 passed (or listed), 1 failed, 2 bad usage (one line on err). */
int exercise_cli(int argc, char **argv, FILE *out, FILE *err);

#endif
