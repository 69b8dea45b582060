/* bench_maxgap.c: the bucket method against sorting, at 10^7 full-range ints and across n.
 *
 * Peers: the C library's qsort on a copy, then a scan of neighbours (what most people write);
 * and an LSD radix sort, 3 passes of 11 bits into two scratch arrays, then the same scan (the
 * fastest sort-based answer for 32-bit keys). Each contender allocates its working memory
 * inside the timed call, as ours does. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../algorithms/maxgap.h"
#include "../trace/mem.h"
#include "../trace/rng.h"
#include "bench.h"

#define BIG   10000000
#define RBITS 11
#define RSIZE (1u << RBITS)

typedef struct run {
    const int *nums;
    size_t n;
    int64_t gap;
} run;

static int ours(void *vctx)
{
    run *r = vctx;
    return maxgap_buckets(&r->gap, r->nums, r->n, NULL);
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int peer_qsort(void *vctx)
{
    run *r = vctx;
    int *a = mem_alloc(r->n * sizeof *a);
    if (!a)
        return -1;
    memcpy(a, r->nums, r->n * sizeof *a);
    qsort(a, r->n, sizeof *a, cmp_int);
    int64_t best = 0;
    for (size_t i = 1; i < r->n; i++)
        if ((int64_t)a[i] - a[i - 1] > best)
            best = (int64_t)a[i] - a[i - 1];
    r->gap = best;
    mem_free(a);
    return 0;
}

/* Keys are the ints with the sign bit flipped, so unsigned order is int order. The three
 * histograms are counted in one pass; each pass then scatters by one 11-bit digit. The input
 * is only read (the first pass flips the keys into the scratch). */
static int peer_radix(void *vctx)
{
    run *r = vctx;
    size_t n = r->n;
    uint32_t *a = mem_alloc(2 * n * sizeof *a);
    size_t *count = mem_calloc(3 * RSIZE, sizeof *count);
    if (!a || !count) {
        mem_free(a);
        mem_free(count);
        return -1;
    }
    uint32_t *b = a + n;
    for (size_t i = 0; i < n; i++) {
        uint32_t key = (uint32_t)r->nums[i] ^ 0x80000000u;
        count[key & (RSIZE - 1)]++;
        count[RSIZE + ((key >> RBITS) & (RSIZE - 1))]++;
        count[2 * RSIZE + (key >> 2 * RBITS)]++;
    }
    for (int p = 0; p < 3; p++) {
        size_t sum = 0, *c = count + (size_t)p * RSIZE;
        for (size_t d = 0; d < RSIZE; d++) {
            size_t k = c[d];
            c[d] = sum;
            sum += k;
        }
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t key = (uint32_t)r->nums[i] ^ 0x80000000u;
        b[count[key & (RSIZE - 1)]++] = key;
    }
    for (size_t i = 0; i < n; i++)
        a[count[RSIZE + ((b[i] >> RBITS) & (RSIZE - 1))]++] = b[i];
    for (size_t i = 0; i < n; i++)
        b[count[2 * RSIZE + (a[i] >> 2 * RBITS)]++] = a[i];
    int64_t best = 0;
    for (size_t i = 1; i < n; i++)
        if ((int64_t)b[i] - b[i - 1] > best)
            best = (int64_t)b[i] - b[i - 1];
    r->gap = best;
    mem_free(a);
    mem_free(count);
    return 0;
}

static int time_row(bench_row *row, run *ro, run *rp, bench_fn peer, int reps)
{
    if (bench_time_pair(&row->ours_t, ours, ro, &row->peer_t, peer, rp, reps))
        return -1;
    if (ro->gap != rp->gap)
        row->note = "ANSWERS DIFFER";
    return 0;
}

/* The smallest swept n from which ours stays ahead (ratio > 1 there and above), as text;
 * when there is none, the small sizes where ours is still ahead. */
static void crossover(char *buf, size_t len, const size_t *sizes, const double *ratio, size_t k)
{
    size_t from = k;
    while (from > 0 && ratio[from - 1] > 1)
        from--;
    size_t lead = 0;
    while (lead < k && ratio[lead] > 1)
        lead++;
    if (from == k && lead > 0)
        snprintf(buf, len, "only at small n (up to %zu), not from any n on up to %zu",
                 sizes[lead - 1], sizes[k - 1]);
    else if (from == k)
        snprintf(buf, len, "at no n up to %zu", sizes[k - 1]);
    else if (from == 0)
        snprintf(buf, len, "from the smallest n tried (%zu) on", sizes[0]);
    else
        snprintf(buf, len, "from n = %zu on (n = %zu still loses)", sizes[from], sizes[from - 1]);
}

int bench_case_maxgap(void)
{
    if (bench_skip_case("maxgap"))
        return 0;
    int *nums = mem_alloc((size_t)BIG * sizeof *nums);
    if (!nums)
        return 1;
    rng r;
    rng_seed(&r, 164);
    for (size_t i = 0; i < BIG; i++)
        nums[i] = (int)rng_range(&r, INT_MIN, INT_MAX);

    bench_begin("maxgap", "maximum gap of n random ints over the full int range");
    run ro = {nums, BIG, 0}, rp = ro;
    bench_row qrow = {.size = "n=10^7", .n = BIG, .ours = "buckets", .peer = "qsort + scan"};
    qrow.need = 4;
    qrow.target = ">= 4 (4x faster)";
    /* The profile of docs/bench.md: the buckets' pass is one random access per number. */
    qrow.why = "profile: one cache miss per number into the 10^7 buckets (random access), "
               "which a busy machine's cache sharing slows most (compare the minima)";
    if (time_row(&qrow, &ro, &rp, peer_qsort, 5) == 0)
        bench_report(&qrow);
    bench_row rrow = {.size = "n=10^7", .n = BIG, .ours = "buckets", .peer = "LSD radix + scan"};
    rrow.need = 1 / 1.5;
    rrow.target = ">= 0.67 (1.5x)";
    rrow.why = qrow.why;
    if (time_row(&rrow, &ro, &rp, peer_radix, 5) == 0)
        bench_report(&rrow);

    /* The sweep against n: the same data's prefixes; n = 10^7 is the rows above. */
    static const size_t sizes[] = {100,    300,    1000,    3000,    10000, 30000,
                                   100000, 300000, 1000000, 3000000, BIG};
    size_t k = sizeof sizes / sizeof sizes[0];
    double rq[sizeof sizes / sizeof sizes[0]], rr[sizeof sizes / sizeof sizes[0]];
    char label[32];
    for (size_t i = 0; i < k; i++) {
        snprintf(label, sizeof label, "n=%zu", sizes[i]);
        ro.n = rp.n = sizes[i];
        int reps = sizes[i] >= 1000000 ? 3 : 5;
        bench_row sw = qrow;
        sw.size = label;
        sw.n = (double)sizes[i];
        sw.need = 0;
        sw.target = NULL;
        if (sizes[i] == BIG || time_row(&sw, &ro, &rp, peer_qsort, reps) == 0)
            bench_report(&sw);
        rq[i] = sw.peer_t.median / sw.ours_t.median;
        bench_row sr = rrow;
        sr.size = label;
        sr.n = (double)sizes[i];
        sr.need = 0;
        sr.target = NULL;
        if (sizes[i] == BIG || time_row(&sr, &ro, &rp, peer_radix, reps) == 0)
            bench_report(&sr);
        rr[i] = sr.peer_t.median / sr.ours_t.median;
    }
    char buf[128];
    crossover(buf, sizeof buf, sizes, rq, k);
    bench_note("crossover against qsort + scan: buckets faster %s", buf);
    crossover(buf, sizeof buf, sizes, rr, k);
    bench_note("crossover against LSD radix + scan: buckets faster %s", buf);
    mem_free(nums);
    return bench_end();
}
