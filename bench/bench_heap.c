/* bench_heap.c: 10^6 pushes then 10^6 pops, and heapify's comparisons per element.
 *
 * Ours twice: the typed path (heap_init_int, heap_int_push/pop: int-specialised sifts) and
 * the generic path (heap_init with heap_int_type: memcpy and a call of the type's less-than
 * test per comparison). Peers: std::priority_queue<int> with std::greater (g++ -O2) and CPython's
 * heapq (the C accelerator _heapq) on a list, in a child process. Every contender pops
 * into an array, and the harness compares a weighted sum of the popped sequence. */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "../algorithms/heap.h"
#include "../trace/mem.h"
#include "../trace/rng.h"
#include "bench.h"

#define OPS     1000000
#define HEAPIFY 10000000

typedef struct run {
    const int *xs;
    size_t n;
    int *out;
} run;

/* sum of out[i] * (i mod 1000 + 1): at most 2^31 * 1000 * 10^6 < 2^63 in magnitude. The
 * Python peer computes the same. */
static int64_t checksum(const int *out, size_t n)
{
    int64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += (int64_t)out[i] * (int64_t)(i % 1000 + 1);
    return s;
}

static int ours_typed(void *vctx)
{
    run *r = vctx;
    heap h;
    heap_init_int(&h);
    for (size_t i = 0; i < r->n; i++)
        if (heap_int_push(&h, r->xs[i], NULL)) {
            heap_free(&h);
            return -1;
        }
    for (size_t i = 0; i < r->n; i++)
        heap_int_pop(&h, &r->out[i], NULL);
    heap_free(&h);
    return 0;
}

static int ours_generic(void *vctx)
{
    run *r = vctx;
    heap h;
    heap_init(&h, &heap_int_type, NULL);
    for (size_t i = 0; i < r->n; i++)
        if (heap_push(&h, &r->xs[i], NULL)) {
            heap_free(&h);
            return -1;
        }
    for (size_t i = 0; i < r->n; i++)
        heap_pop(&h, &r->out[i], NULL);
    heap_free(&h);
    return 0;
}

static int peer_pq(void *vctx)
{
    run *r = vctx;
    peer_pq_push_pop(r->out, r->xs, r->n);
    return 0;
}

static int ours_heapify(void *vctx)
{
    run *r = vctx;
    heap h;
    heap_init_int(&h);
    int rc = heap_int_heapify(&h, r->xs, r->n, NULL);
    if (!rc)
        r->out[0] = heap_int_data(&h)[0];
    heap_free(&h);
    return rc;
}

/* std::make_heap works in place, so it heapifies a copy, as heap_int_heapify does. */
static int peer_heapify(void *vctx)
{
    run *r = vctx;
    int *a = mem_alloc(r->n * sizeof *a);
    if (!a)
        return -1;
    memcpy(a, r->xs, r->n * sizeof *a);
    peer_make_heap(a, r->n);
    r->out[0] = a[0];
    mem_free(a);
    return 0;
}

static int counting_less(const void *a, const void *b, void *ctx)
{
    ++*(uint64_t *)ctx;
    return *(const int *)a < *(const int *)b;
}

/* Reports one ours-against-peer row from times already taken. */
static void row(const char *ours, const bench_times *ot, const char *peer, const bench_times *pt,
                double need, const char *target, const char *note, const char *why)
{
    bench_row rw = {.size = "n=10^6", .n = OPS, .ours = ours, .peer = peer};
    rw.ours_t = *ot;
    rw.peer_t = *pt;
    rw.need = need;
    rw.target = target;
    rw.note = note;
    rw.why = why;
    bench_report(&rw);
}

/* What the profiles (callgrind, docs/bench.md) blame when a row misses. The pops dominate
 * (about 80 % of either path's instructions), one sift level after another, each level's
 * loads waiting for the level before's comparison. */
#define WHY_POPS "profile: pops, one dependent comparison and load per level"
#define WHY_CMP                                                                                    \
    "profile: a less-than call on each pop level's critical path; the same loop with the "         \
    "comparison written inline runs at the typed path's speed (docs/bench.md)"

int bench_case_heap(void)
{
    if (bench_skip_case("heap"))
        return 0;
    int *xs = mem_alloc((size_t)HEAPIFY * sizeof *xs);
    int *out = mem_alloc((size_t)HEAPIFY * sizeof *out);
    if (!xs || !out) {
        mem_free(xs);
        mem_free(out);
        return 1;
    }
    rng r;
    rng_seed(&r, 2024);
    for (size_t i = 0; i < HEAPIFY; i++)
        xs[i] = (int)rng_range(&r, INT_MIN, INT_MAX);

    bench_begin("heap", "10^6 pushes of random ints, then 10^6 pops");
    run ctx = {xs, OPS, out};
    /* The answers first (one untimed call each), then the times, each of ours alternating
     * with its own run of the peer. */
    ours_typed(&ctx);
    int64_t sum_typed = checksum(out, OPS);
    ours_generic(&ctx);
    int64_t sum_generic = checksum(out, OPS);
    peer_pq(&ctx);
    int64_t sum_pq = checksum(out, OPS);
    const char *differ = sum_typed == sum_pq && sum_generic == sum_pq ? NULL : "ANSWERS DIFFER";
    bench_times typed, generic, pq_typed, pq_generic;
    int fail = bench_time_pair(&typed, ours_typed, &ctx, &pq_typed, peer_pq, &ctx, 7);
    fail |= bench_time_pair(&generic, ours_generic, &ctx, &pq_generic, peer_pq, &ctx, 7);

    /* heapq on the same sequence. */
    const void *parts[] = {xs};
    size_t bytes[] = {(size_t)OPS * sizeof *xs};
    char *in = bench_tmp_write(parts, bytes, 1);
    char nbuf[24];
    snprintf(nbuf, sizeof nbuf, "%d", OPS);
    const char *args[] = {nbuf};
    bench_py py;
    bench_python(&py, "heapq", in, NULL, 5, args, 1);
    const char *py_note = py.t.n ? NULL : py.note;
    if (py.t.n && py.check != (double)sum_pq)
        py_note = "ANSWERS DIFFER";

    /* The generic path against the typed one, alternated with each other. */
    bench_times generic2, typed2;
    fail |= bench_time_pair(&generic2, ours_generic, &ctx, &typed2, ours_typed, &ctx, 7);

    if (!fail) {
        row("typed", &typed, "std::priority_queue", &pq_typed, 1, ">= 1 (no slower)", differ,
            WHY_POPS);
        row("generic", &generic, "std::priority_queue", &pq_generic, 0.5, ">= 0.5 (2x)", differ,
            WHY_CMP);
        row("generic", &generic2, "typed", &typed2, 1 / 1.5, ">= 0.67 (1.5x)", differ, WHY_CMP);
        row("typed", &typed, "CPython heapq", &py.t, 10, ">= 10 (10x faster)", py_note, WHY_POPS);
        row("generic", &generic, "CPython heapq", &py.t, 0, NULL, py_note, NULL);
    }

    /* heapify: time at 10^7 against std::make_heap and heapq.heapify... */
    run big = {xs, HEAPIFY, out};
    bench_row hr = {.size = "n=10^7", .n = HEAPIFY, .ours = "typed heapify"};
    hr.peer = "std::make_heap";
    if (!bench_time_pair(&hr.ours_t, ours_heapify, &big, &hr.peer_t, peer_heapify, &big, 5))
        bench_report(&hr);
    bench_tmp_drop(in);
    bytes[0] = (size_t)HEAPIFY * sizeof *xs;
    in = bench_tmp_write(parts, bytes, 1);
    snprintf(nbuf, sizeof nbuf, "%d", HEAPIFY);
    bench_python(&py, "heapify", in, NULL, 3, args, 1);
    hr.peer = "CPython heapify";
    hr.peer_t = py.t;
    hr.note = py.t.n ? NULL : py.note;
    bench_report(&hr);
    bench_tmp_drop(in);

    /* ...and its comparisons per element against n, which stay bounded: O(n). Each
     * internal node sifts to a leaf (one comparison per level: the sum of the heights, under
     * n) and then back up a little. */
    FILE *csv = bench_csv_open("heap_heapify", "n,comparisons,per_element");
    double worst = 0;
    for (size_t n = 1000; n <= HEAPIFY; n *= 10) {
        uint64_t count = 0;
        heap_type counted = heap_int_type;
        counted.less = counting_less;
        heap h;
        heap_init(&h, &counted, &count);
        if (heap_heapify(&h, xs, n, NULL) == 0) {
            double per = (double)count / (double)n;
            if (per > worst)
                worst = per;
            bench_note("heapify n = %-9zu %10llu comparisons, %.3f per element", n,
                       (unsigned long long)count, per);
            if (csv)
                fprintf(csv, "%zu,%llu,%.6f\n", n, (unsigned long long)count, per);
        }
        heap_free(&h);
    }
    if (csv)
        fclose(csv);
    bench_note("heapify O(n) target (comparisons per element below 2 at every n, up to 10^7): "
               "%s (worst %.3f)",
               worst > 0 && worst < 2 ? "MET" : "MISSED", worst);
    bench_tally(worst > 0 && worst < 2);
    mem_free(xs);
    mem_free(out);
    return bench_end();
}
