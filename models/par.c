/* par.c: parts of a job on threads (see par.h). */
#include "par.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct part_arg {
    par_fn fn;
    void *ctx;
    size_t part, parts;
} part_arg;

static void *run_part(void *varg)
{
    part_arg *a = varg;
    a->fn(a->ctx, a->part, a->parts);
    return NULL;
}

/* TUTOR_THREADS as a positive count, or 0 when unset or malformed. */
static size_t env_threads(void)
{
    const char *s = getenv("TUTOR_THREADS");
    if (!s || !*s)
        return 0;
    char *end;
    long v = strtol(s, &end, 10);
    return *end || v <= 0 ? 0 : (size_t)v;
}

size_t par_parts(size_t requested, double work, size_t max_parts)
{
    size_t n = requested;
    if (n == 0) {
        if (work < PAR_MIN_WORK)
            return 1;
        n = env_threads();
        if (n == 0) {
            long cpus = sysconf(_SC_NPROCESSORS_ONLN);
            n = cpus > 0 ? (size_t)cpus : 1;
        }
    }
    if (n > max_parts)
        n = max_parts;
    if (n > PAR_MAX_PARTS)
        n = PAR_MAX_PARTS;
    return n ? n : 1;
}

void par_run(par_fn fn, void *ctx, size_t parts)
{
    pthread_t tid[PAR_MAX_PARTS];
    part_arg arg[PAR_MAX_PARTS];
    int started[PAR_MAX_PARTS] = {0};
    if (parts > PAR_MAX_PARTS)
        parts = PAR_MAX_PARTS;
    for (size_t p = 1; p < parts; p++) {
        arg[p] = (part_arg){fn, ctx, p, parts};
        started[p] = pthread_create(&tid[p], NULL, run_part, &arg[p]) == 0;
    }
    fn(ctx, 0, parts);
    for (size_t p = 1; p < parts; p++) {
        if (started[p])
            pthread_join(tid[p], NULL);
        else
            fn(ctx, p, parts);
    }
}
