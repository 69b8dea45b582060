/* par.h: one untraced job split into parts that run on the machine's CPUs at once.
 *
 * For loops whose parts share nothing they write (Mamba's channels, say): the caller
 * allocates everything first, then par_run runs the parts, each on a thread of its own. The
 * result does not depend on how many parts there are when each part computes its own slice
 * exactly as a single part would; the callers' tests check that, bit for bit. Traced runs
 * never split: a trace is one sequence of steps. */
#ifndef TUTOR_PAR_H
#define TUTOR_PAR_H

#include <stddef.h>

/* Below this many inner-loop iterations a job runs as one part: starting a thread costs
 * tens of microseconds, about what 2^18 cheap iterations take. */
#define PAR_MIN_WORK (1u << 18)

/* The most parts par_run accepts. */
#define PAR_MAX_PARTS 64

/* Runs part `part` of `parts` of the job described by ctx. */
typedef void (*par_fn)(void *ctx, size_t part, size_t parts);

/* How many parts to split a job of `work` inner-loop iterations into, given that it can be
 * split into at most max_parts: `requested` when it is not 0, else the CPUs online, or the
 * TUTOR_THREADS environment variable when that is a positive integer (a malformed one is
 * ignored); 1 when work < PAR_MIN_WORK; never more than max_parts or PAR_MAX_PARTS; at
 * least 1. O(1). */
size_t par_parts(size_t requested, double work, size_t max_parts);

/* Calls fn(ctx, p, parts) for every p < parts and returns when all have returned: part 0
 * on the calling thread, the others on threads of their own. A part whose thread cannot be
 * started runs on the calling thread after part 0, so the job always completes. parts must
 * be 1 .. PAR_MAX_PARTS. fn must not call mem_* (trace/mem.h's counters, which the tests'
 * allocation-failure sweeps rely on, are not thread-safe) nor record a trace. */
void par_run(par_fn fn, void *ctx, size_t parts);

#endif
