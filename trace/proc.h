/* proc.h: one program run on pipes, with a deadline or a way to cancel it.
 *
 * The base layer's single way to start a child process and talk to it, shared by gnuplot
 * (plots/gnuplot.c: a script to its stdin, its messages or text figure back, a timeout) and
 * the exercise builds (tutor/exercise/exercise.c: make's output back, a cancel key). Everything
 * runs through poll, so a full pipe on either side never blocks the other, and a child that
 * outlives its deadline or is cancelled is stopped with everything it started when it leads
 * a process group of its own. */
#ifndef TUTOR_PROC_H
#define TUTOR_PROC_H

#include <stddef.h>

#include "strbuf.h"

/* One stretch of text for the child's stdin. */
typedef struct proc_piece {
    const char *s;
    size_t len;
} proc_piece;

typedef struct proc_run {
    /* What to run: path holds a slash (no PATH search happens after fork; execvp only
     * runs a script without #! through sh); argv is NULL-terminated. */
    const char *path;
    char *const *argv;
    /* Sent to stdin, which is then closed; with no pieces stdin is /dev/null. The caller
     * ignores SIGPIPE while a child may die before reading it all (write_failed says so). */
    const proc_piece *in;
    size_t nin;
    strbuf *out; /* stdout; NULL sends stdout to err as well */
    strbuf *err; /* stderr; never NULL */
    size_t cap;  /* bytes kept of each stream; the rest is read and dropped */
    /* Stopping it early. own_group: the child leads a process group of its own, so that
     * the whole group is stopped (being in the background, it also never gets the
     * terminal's Ctrl-C: the caller decides). timeout_ms: 0 for none. cancel: asked about
     * every 100 ms when not NULL; nonzero stops it. A stopped child gets SIGTERM, then
     * SIGKILL after grace_ms (0: SIGKILL at once; make needs a moment to delete a
     * half-written target). */
    int own_group;
    long timeout_ms;
    int (*cancel)(void *ctx);
    void *ctx;
    long grace_ms;
    /* Set by proc_exec. */
    int timed_out, cancelled, write_failed;
} proc_run;

/* Runs r: starts the child, feeds its stdin, collects its output until both streams end,
 * and reaps it. Returns the wait status (exit status 127: it could not be run), or -1 with
 * errno set when it could not be started or poll or waitpid failed (nothing is left
 * running then). A child stopped for its deadline or by cancel is still reaped: its
 * status is returned (killed by a signal, usually) and timed_out or cancelled says why.
 * Appends to r->out and r->err only; their sticky errors tell of memory. Blocks until the
 * child has exited or been stopped. */
int proc_exec(proc_run *r);

#endif
