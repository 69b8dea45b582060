/* topic_combsum_plot.c: the figure `calls` of combsum and combsum2: how many calls (nodes of the
 * search tree) the backtracking makes as the target grows, with pruning (the library, which
 * stops a sorted loop at the first candidate larger than what remains, and for combsum2 also
 * skips equal values at the same depth) against the same search without them. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../algorithms/combsum.h"
#include "../../trace/mem.h"
#include "../../trace/status.h"
#include "../core/parse.h"
#include "plot.h"

/* The sweep: targets 1 .. TARGET_MAX at most, and no further once the pruned search needs
 * more than CALLS_STOP calls (the curves are exponential: a few more points add nothing). */
#define TARGET_MAX 80
#define CALLS_STOP 1000000u

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Calls the search makes without pruning, for every remaining sum r in 0..T and start
 * index s in 0..n: a call with r < 0 or r == 0 returns at once, else it calls itself for
 * every candidate i >= s (reuse: with i, combsum2: with i + 1), none skipped.
 *   u(r, s) = 1 + sum_{i >= s} (r - c_i < 0 ? 1 : u(r - c_i, i or i + 1))   for r > 0
 * Counted in double: the counts are exponential. calls is (T + 1) x (n + 1). */
static void unpruned_calls(double *calls, const int *c, size_t n, int t_max, int reuse)
{
    size_t w = n + 1;
    for (int r = 0; r <= t_max; r++) {
        for (size_t s = n + 1; s-- > 0;) {
            double u = 1;
            if (r > 0)
                for (size_t i = s; i < n; i++) {
                    int left = r - c[i];
                    size_t next = reuse ? i : i + 1;
                    u += left < 0 ? 1 : calls[(size_t)left * w + next];
                }
            calls[(size_t)r * w + s] = u;
        }
    }
}

static int plot_variant(const plot_request *req, strbuf *out, char *err, size_t errlen, int reuse)
{
    int rc = plot_check(req, err, errlen);
    if (rc)
        return rc;
    const char *cs = topic_opt_get(req->args, "candidates");
    int *c = NULL;
    size_t n = 0;
    rc = parse_ints(cs ? cs : "", "--candidates", 64, &c, &n, err, errlen);
    if (rc)
        return rc;
    if (n) /* an empty list is NULL, which qsort may not be given even with no elements */
        qsort(c, n, sizeof *c, cmp_int);
    double targets[TARGET_MAX], pruned[TARGET_MAX], plain[TARGET_MAX];
    double *table = mem_alloc((size_t)(TARGET_MAX + 1) * (n + 1) * sizeof *table);
    fig_ctx fc;
    strbuf caption = STRBUF_INIT;
    if (!table || plot_ctx(&fc, req, out, &caption)) {
        snprintf(err, errlen, "out of memory");
        rc = TUTOR_ENOMEM;
        goto out;
    }
    unpruned_calls(table, c, n, TARGET_MAX, reuse);
    size_t points = 0;
    combsum_limits lim = {SIZE_MAX / 2, (uint64_t)CALLS_STOP * 4};
    for (int t = 1; t <= TARGET_MAX; t++) {
        combsum_result res;
        int r = (reuse ? combsum : combsum2)(&res, c, n, t, &lim, NULL);
        uint64_t calls = res.calls;
        combsum_result_free(&res);
        if (r == TUTOR_ENOMEM) {
            snprintf(err, errlen, "out of memory");
            rc = r;
            goto out;
        }
        if (r == TUTOR_ELIMIT)
            break;
        if (r) {
            snprintf(err, errlen, "%s", status_strerror(r));
            rc = r;
            goto out;
        }
        targets[points] = t;
        pruned[points] = (double)calls;
        plain[points] = table[(size_t)t * (n + 1)];
        points++;
        if (calls > CALLS_STOP)
            break;
    }
    fig_series s[] = {
        {reuse ? "with pruning (stop at the first candidate > remaining)"
               : "with pruning and duplicate skipping",
         targets, pruned, points, NULL, 0, 0},
        {reuse ? "without pruning" : "without either", targets, plain, points, NULL, 1, 0},
    };
    fig_lines(&fc, "calls",
              reuse ? "Combination sum (reuse allowed): calls against the target"
                    : "Combination sum II (each once): calls against the target",
              "target (sum to reach)", "calls of solve() (search-tree nodes)", s, 2, FIG_LOGY);
    rc = fig_result(&fc, err, errlen);
out:
    strbuf_free(&caption);
    mem_free(table);
    mem_free(c);
    return rc;
}

int topic_combsum_plot(const plot_request *req, strbuf *out, char *err, size_t errlen)
{
    return plot_variant(req, out, err, errlen, 1);
}

int topic_combsum2_plot(const plot_request *req, strbuf *out, char *err, size_t errlen)
{
    return plot_variant(req, out, err, errlen, 0);
}
