/* topic_maxgap_plot.c: maxgap's figures. `buckets`: the sorted values on a number line with the
 * bucket boundaries the method draws and the maximum gap shaded; `time`: running time
 * against n for the bucket method and the sort-based reference. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../algorithms/maxgap.h"
#include "../../trace/mem.h"
#include "../../trace/rng.h"
#include "../../trace/status.h"
#include "../core/parse.h"
#include "plot.h"

/* More values than fit on a number line as separate dots; more boundaries than can be told
 * apart as lines. */
#define MAX_SHOWN 20000
#define MAX_LINES 64
/* The sweep: n = 2^10 .. 2^19, about half a second in all. */
#define SWEEP_MIN 10
#define SWEEP_MAX 19

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void buckets_figure(fig_ctx *c, int *nums, size_t n)
{
    if (n)
        qsort(nums, n, sizeof *nums, cmp_int);
    uint64_t size = 1;
    size_t count = n ? maxgap_bucket_count(nums[0], nums[n - 1], n, &size) : 0;
    size_t best = 0; /* the gap is between nums[best] and nums[best + 1] */
    for (size_t i = 1; i + 1 < n; i++)
        if ((int64_t)nums[i + 1] - nums[i] > (int64_t)nums[best + 1] - nums[best])
            best = i;
    double lo = n ? nums[0] : 0, hi = n ? nums[n - 1] : 1;
    double end = count ? lo + (double)count * (double)size : hi;
    double pad = (end - lo) * 0.04 + 0.5;
    gp g;
    if (fig_begin(c, &g, "Maximum gap: the sorted values, the buckets and the largest gap"))
        return;
    gp_raw(&g,
           "unset ytics\nset border 1\nset grid noytics\nset yrange [-1.2:1.8]\n"
           "set xrange [%.10g:%.10g]\nset key right top opaque\n",
           lo - pad, end + pad);
    fig_axes(&g, "value (bucket width = floor((max - min) / (n - 1)), at least 1)", "");
    gp_data_begin(&g, "V");
    for (size_t i = 0; i < n; i++)
        gp_data_row(&g, (double[]){nums[i], 0}, 2);
    gp_data_end(&g);
    int lines = count && count + 1 <= MAX_LINES;
    if (lines) {
        gp_data_begin(&g, "B");
        for (size_t k = 0; k <= count; k++) {
            double x = lo + (double)k * (double)size;
            gp_data_row(&g, (double[]){x, x + 0.5 * (double)size, (double)k}, 3);
        }
        gp_data_end(&g);
    }
    if (n >= 2 && nums[n - 1] > nums[0]) {
        double a = nums[best], b = nums[best + 1];
        gp_raw(&g,
               "set object 1 rect from %.10g, -1.2 to %.10g, 1.8 fc rgb \"%s\" "
               "fs solid 0.25 noborder behind\n"
               "set arrow 1 from %.10g, 0.9 to %.10g, 0.9 heads size screen 0.012,25 lw 3 "
               "lc rgb \"%s\" front\n"
               "set label 1 \"maximum gap = %lld\" at %.10g, 1.35 center tc rgb \"%s\" front\n",
               a, b, fig_colors[4], a, b, fig_colors[1],
               (long long)((int64_t)nums[best + 1] - nums[best]), (a + b) / 2, fig_colors[1]);
    }
    gp_raw(&g, "plot ");
    if (lines)
        gp_raw(&g,
               "$B using 1:(-1.2):(0):(3.0) with vectors nohead dt (10,6) lw 2 lc rgb \"%s\" "
               "title \"bucket boundaries\", "
               "$B using 2:(-0.8):(sprintf(\"b%%d\", int($3))) every ::0::%zu with labels "
               "tc rgb \"%s\" notitle, ",
               fig_colors[0], count - 1, fig_colors[0]);
    gp_raw(&g, "$V using 1:2 with points pt 7 ps 2.5 lc rgb \"%s\" title \"values\"",
           fig_colors[7]);
    if (n <= 40)
        gp_raw(&g, ", $V using 1:2:(sprintf(\"%%d\", int($1))) with labels offset 0,1.6 "
                   "notitle");
    gp_raw(&g, "\n");
    fig_end(c, &g, "buckets");
}

static void time_figure(fig_ctx *c, uint64_t seed)
{
    enum { POINTS = SWEEP_MAX - SWEEP_MIN + 1 };
    double ns[POINTS], t_buckets[POINTS], t_sorted[POINTS];
    size_t nmax = (size_t)1 << SWEEP_MAX;
    int *nums = mem_alloc(nmax * sizeof *nums);
    if (!nums) {
        c->status = TUTOR_ENOMEM;
        snprintf(c->err, sizeof c->err, "out of memory");
        return;
    }
    rng r;
    rng_seed(&r, seed);
    for (size_t i = 0; i < nmax; i++)
        nums[i] = (int)rng_range(&r, -1000000000, 1000000000);
    for (int p = 0; p < POINTS; p++) {
        size_t n = (size_t)1 << (SWEEP_MIN + p);
        /* Repeat small sizes so each measurement spans about 2^17 elements of work, and
         * keep the best of three: the least disturbed run. */
        size_t reps = n < ((size_t)1 << 17) ? ((size_t)1 << 17) / n : 1;
        double best_b = 1e300, best_s = 1e300;
        for (int trial = 0; trial < 3; trial++) {
            int64_t gap_b = 0, gap_s = 0;
            double t0 = plot_now_ms();
            for (size_t k = 0; k < reps; k++)
                if (maxgap_buckets(&gap_b, nums, n, NULL))
                    goto nomem;
            double t1 = plot_now_ms();
            for (size_t k = 0; k < reps; k++)
                if (maxgap_sorted(&gap_s, nums, n))
                    goto nomem;
            double t2 = plot_now_ms();
            best_b = (t1 - t0) / (double)reps < best_b ? (t1 - t0) / (double)reps : best_b;
            best_s = (t2 - t1) / (double)reps < best_s ? (t2 - t1) / (double)reps : best_s;
            if (n >= ((size_t)1 << 17))
                break; /* large sizes are long enough to be steady */
        }
        ns[p] = (double)n;
        t_buckets[p] = best_b;
        t_sorted[p] = best_s;
    }
    mem_free(nums);
    fig_series s[] = {
        {"buckets, O(n)", ns, t_buckets, POINTS, NULL, 0, 0},
        {"sort, then scan (qsort), O(n log n)", ns, t_sorted, POINTS, NULL, 1, 0},
    };
    fig_lines(c, "time", "Maximum gap: running time against n (random ints)",
              "n (number of values)", "time per call (ms)", s, 2, FIG_LOGX | FIG_LOGY);
    return;
nomem:
    mem_free(nums);
    c->status = TUTOR_ENOMEM;
    snprintf(c->err, sizeof c->err, "out of memory");
}

int topic_maxgap_plot(const plot_request *req, strbuf *out, char *err, size_t errlen)
{
    const char *s = topic_opt_get(req->args, "nums");
    int *nums = NULL;
    size_t n = 0;
    if (!s) {
        snprintf(err, errlen, "missing --nums (a list of integers, e.g. --nums \"3 6 9 1\")");
        return TUTOR_EINVAL;
    }
    int rc = parse_ints(s, "--nums", MAX_SHOWN, &nums, &n, err, errlen);
    if (rc)
        return rc;
    fig_ctx c;
    strbuf caption = STRBUF_INIT;
    if (plot_ctx(&c, req, out, &caption)) {
        snprintf(err, errlen, "out of memory");
        rc = TUTOR_ENOMEM;
        goto out;
    }
    buckets_figure(&c, nums, n);
    time_figure(&c, req->args->seed);
    rc = fig_result(&c, err, errlen);
out:
    strbuf_free(&caption);
    mem_free(nums);
    return rc;
}
