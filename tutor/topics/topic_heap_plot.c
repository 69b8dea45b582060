/* topic_heap_plot.c: heap's figures. `comparisons`: comparisons per push and per pop against the
 * heap's size n, beside log2 n; `heapify`: heapify's total comparisons against n, beside the
 * 2n bound. Comparisons are counted by the heap's own comparison function, so the figure
 * shows what the library does, not a model of it. */
#include <math.h>
#include <stdio.h>

#include "../../algorithms/heap.h"
#include "../../trace/mem.h"
#include "../../trace/rng.h"
#include "../../trace/status.h"
#include "plot.h"

/* Heap sizes 2^LOG_MIN .. 2^LOG_MAX; each size is probed with up to PROBES operations. */
#define LOG_MIN 2
#define LOG_MAX 17
#define PROBES  2048

static int less_counted(const void *a, const void *b, void *ctx)
{
    ++*(uint64_t *)ctx;
    return *(const int *)a < *(const int *)b;
}

static int64_t key_int(const void *elem, void *ctx)
{
    (void)ctx;
    return *(const int *)elem;
}

static const heap_type counted_type = {sizeof(int), less_counted, key_int};

int topic_heap_plot(const plot_request *req, strbuf *out, char *err, size_t errlen)
{
    enum { POINTS = LOG_MAX - LOG_MIN + 1 };
    int rc = plot_check(req, err, errlen);
    if (rc)
        return rc;
    double ns[POINTS], per_push[POINTS], per_pop[POINTS], log2n[POINTS], total[POINTS],
        bound[POINTS];
    size_t nmax = (size_t)1 << LOG_MAX;
    int *items = mem_alloc((nmax + PROBES) * sizeof *items);
    uint64_t count = 0;
    heap h;
    heap_init(&h, &counted_type, &count);
    fig_ctx c;
    strbuf caption = STRBUF_INIT;
    if (!items || plot_ctx(&c, req, out, &caption)) {
        rc = TUTOR_ENOMEM;
        goto out;
    }
    rng r;
    rng_seed(&r, req->args->seed);
    for (size_t i = 0; i < nmax + PROBES; i++)
        items[i] = (int)rng_range(&r, 0, 1000000000);
    for (int p = 0; p < POINTS; p++) {
        size_t n = (size_t)1 << (LOG_MIN + p);
        size_t probes = n < PROBES ? n : PROBES;
        count = 0;
        if ((rc = heap_heapify(&h, items, n, NULL)) != 0)
            goto out;
        total[p] = (double)count;
        /* Push `probes` new items onto the heap of n, then pop as many: the size stays
         * between n and n + probes, within a factor 2 of n. */
        count = 0;
        for (size_t k = 0; k < probes; k++)
            if ((rc = heap_push(&h, &items[nmax + k], NULL)) != 0)
                goto out;
        per_push[p] = (double)count / (double)probes;
        count = 0;
        for (size_t k = 0; k < probes; k++) {
            int x;
            if ((rc = heap_pop(&h, &x, NULL)) != 0)
                goto out;
        }
        per_pop[p] = (double)count / (double)probes;
        ns[p] = (double)n;
        log2n[p] = log2((double)n);
        bound[p] = 2.0 * (double)n;
    }
    fig_series ops[] = {
        {"pop (sift to a leaf, then up)", ns, per_pop, POINTS, NULL, 1, 0},
        {"push (sift up)", ns, per_push, POINTS, NULL, 0, 0},
        {"log_2 n", ns, log2n, POINTS, "lines", 7, 1},
    };
    fig_lines(&c, "comparisons", "Binary heap: comparisons per operation (random ints)",
              "n (elements in the heap)", "comparisons per operation", ops, 3, FIG_LOGX);
    fig_series build[] = {
        {"heapify: total comparisons", ns, total, POINTS, NULL, 2, 0},
        {"2n (the bound)", ns, bound, POINTS, "lines", 7, 1},
    };
    fig_lines(&c, "heapify", "Binary heap: heapify is linear (random ints)", "n (elements)",
              "comparisons in all", build, 2, FIG_LOGX | FIG_LOGY);
    rc = fig_result(&c, err, errlen);
out:
    if (rc == TUTOR_ENOMEM)
        snprintf(err, errlen, "out of memory");
    heap_free(&h);
    strbuf_free(&caption);
    mem_free(items);
    return rc;
}
