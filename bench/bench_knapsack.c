/* bench_knapsack.c: the 0/1 knapsack's 1-D array at 1000 items x capacity 10^6 (about 10^9
 * cell updates) against numpy's vectorised row update, and the 2-D table's refusal.
 *
 * Items: volumes uniform in [1, 1000], values in [1, 10^6]. numpy's update per item is
 * f[v:] = max(f[v:], f[:-v] + w): the right side is evaluated before the assignment, so it
 * reads the previous row, as our j-downwards loop does. */
#include <stdint.h>

#include "../algorithms/knapsack.h"
#include "../trace/mem.h"
#include "../trace/rng.h"
#include "../trace/status.h"
#include "bench.h"

#define ITEMS    1000
#define CAPACITY 1000000

typedef struct run {
    const int *volume, *value;
    int64_t best;
} run;

static int ours(void *vctx)
{
    run *r = vctx;
    return knap_1d(&r->best, r->volume, r->value, ITEMS, CAPACITY, 0, NULL);
}

int bench_case_knapsack(void)
{
    if (bench_skip_case("knapsack"))
        return 0;
    static int volume[ITEMS], value[ITEMS];
    rng r;
    rng_seed(&r, 1000);
    uint64_t cells = 0;
    for (size_t i = 0; i < ITEMS; i++) {
        volume[i] = (int)rng_range(&r, 1, 1000);
        value[i] = (int)rng_range(&r, 1, 1000000);
        cells += (uint64_t)(CAPACITY + 1 - volume[i]);
    }

    bench_begin("knapsack", "0/1 knapsack, 1000 items, capacity 10^6, 1-D array");
    bench_note("%llu cell updates per run", (unsigned long long)cells);
    run ctx = {volume, value, 0};
    bench_row row = {.size = "1000 x 10^6", .n = (double)cells, .ours = "knap_1d"};
    row.peer = "numpy f[v:] update";
    row.need = 2;
    row.target = ">= 2 (2x faster)";
    row.why = "cost (not profiled this round): 10^9 cell updates, a max and an add each; "
              "the Python peer is not alternated with ours";
    if (bench_time(&row.ours_t, ours, &ctx, 3) == 0) {
        const void *parts[] = {volume, value};
        size_t bytes[] = {sizeof volume, sizeof value};
        char *in = bench_tmp_write(parts, bytes, 2);
        char nbuf[16], cbuf[16];
        snprintf(nbuf, sizeof nbuf, "%d", ITEMS);
        snprintf(cbuf, sizeof cbuf, "%d", CAPACITY);
        const char *args[] = {nbuf, cbuf};
        bench_py py;
        bench_python(&py, "knapsack", in, NULL, 3, args, 2);
        bench_tmp_drop(in);
        row.peer_t = py.t;
        row.note = py.t.n ? NULL : py.note;
        if (py.t.n && py.check != (double)ctx.best)
            row.note = "ANSWERS DIFFER";
        bench_report(&row);
        bench_note("best value %lld", (long long)ctx.best);
    }

    /* The 2-D table would keep every row: refused up front, never attempted. */
    int64_t best = 0;
    size_t chosen[ITEMS], nchosen = 0;
    double start = bench_now();
    int rc = knap_2d(&best, chosen, &nchosen, volume, value, ITEMS, CAPACITY, 0, NULL);
    double took = bench_now() - start;
    uint64_t need = knap_2d_bytes(ITEMS, CAPACITY);
    bench_note("2-D table at the same size: %s (%s) after %.1f us: it would need %llu bytes "
               "(%.1f GiB) against the cap of %llu MiB; the 1-D array needs %llu bytes (%.1f MiB)",
               rc == TUTOR_ETOOBIG ? "refused" : "NOT REFUSED", status_strerror(rc), took * 1e6,
               (unsigned long long)need, (double)need / (1u << 30),
               (unsigned long long)(KNAP_MEM_CAP >> 20),
               (unsigned long long)knap_1d_bytes(CAPACITY),
               (double)knap_1d_bytes(CAPACITY) / (1u << 20));
    bench_note("2-D refused with its memory figure, not attempted: %s",
               rc == TUTOR_ETOOBIG ? "MET" : "MISSED");
    bench_tally(rc == TUTOR_ETOOBIG);
    return bench_end();
}
