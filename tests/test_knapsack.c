/* Tests of knapsack: 2-D, 1-D and exact against brute force over all subsets, the
 * ascending loop against an unbounded brute force, the traces, the memory cap, the CLI. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../algorithms/knapsack.h"
#include "../trace/mem.h"
#include "../trace/rng.h"
#include "../trace/status.h"
#include "../trace/trace.h"
#include "../tutor/core/parse.h"
#include "../tutor/topics/topic.h"
#include "harness.h"

static strbuf out = STRBUF_INIT, err = STRBUF_INIT;

/* Brute force over every subset of items 0..m-1: the best value with volume at most j
 * (exact: exactly j), or KNAP_NONE when no subset qualifies. O(2^m m). */
static int64_t brute(const int *volume, const int *value, size_t m, int j, int exact)
{
    int64_t best = KNAP_NONE;
    for (unsigned long mask = 0; mask < (1ul << m); mask++) {
        int64_t vol = 0, val = 0;
        for (size_t k = 0; k < m; k++)
            if (mask >> k & 1) {
                vol += volume[k];
                val += value[k];
            }
        if ((exact ? vol == j : vol <= j) && val > best)
            best = val;
    }
    return best;
}

/* Brute force for the unbounded knapsack (each item any number of times, volumes >= 1):
 * every multiplicity of item k, then the rest. */
static int64_t brute_unbounded(const int *volume, const int *value, size_t n, size_t k,
                               int remaining, int exact)
{
    if (k == n)
        return exact && remaining ? KNAP_NONE : 0;
    int64_t best = KNAP_NONE;
    for (int c = 0; (int64_t)c * volume[k] <= remaining; c++) {
        int64_t rest = brute_unbounded(volume, value, n, k + 1, remaining - c * volume[k], exact);
        if (rest != KNAP_NONE && rest + (int64_t)c * value[k] > best)
            best = rest + (int64_t)c * value[k];
    }
    return best;
}

static const int tb_volume[] = {1, 2, 3, 4}, tb_value[] = {2, 4, 4, 5};

static void test_textbook(void)
{
    int64_t best;
    size_t chosen[4], k;
    CU_ASSERT_EQUAL(knap_2d(&best, chosen, &k, tb_volume, tb_value, 4, 5, 0, NULL), 0);
    CU_ASSERT_EQUAL(best, 8);
    /* By hand: f[4][5] = f[3][5] = 8 (item 3 not needed); f[3][5] = 8 != f[2][5] = 6, so
     * item 2 (3:4) is in, j = 2; f[2][2] = 4 != f[1][2] = 2, so item 1 (2:4) is in, j = 0.
     * Items 1 and 2: volume 5, value 8. */
    CU_ASSERT_EQUAL_FATAL(k, 2);
    CU_ASSERT_EQUAL(chosen[0], 1);
    CU_ASSERT_EQUAL(chosen[1], 2);
    CU_ASSERT_EQUAL(knap_1d(&best, tb_volume, tb_value, 4, 5, 0, NULL), 0);
    CU_ASSERT_EQUAL(best, 8);
    CU_ASSERT_EQUAL(knap_2d(&best, chosen, &k, tb_volume, tb_value, 4, 5, 1, NULL), 0);
    CU_ASSERT_EQUAL(best, 8);
    CU_ASSERT_EQUAL(knap_1d(&best, tb_volume, tb_value, 4, 5, 1, NULL), 0);
    CU_ASSERT_EQUAL(best, 8);
    /* j ascending takes item 1 (2:4) twice plus item 0 (1:2): 10, which no subset reaches. */
    CU_ASSERT_EQUAL(knap_1d_ascending(&best, tb_volume, tb_value, 4, 5, 0, NULL), 0);
    CU_ASSERT_EQUAL(best, 10);
    CU_ASSERT_EQUAL(best, brute_unbounded(tb_volume, tb_value, 4, 0, 5, 0));
    CU_ASSERT_NOT_EQUAL(best, brute(tb_volume, tb_value, 4, 5, 0));
    /* Capacity 0, no items, nothing fits. */
    CU_ASSERT_EQUAL(knap_2d(&best, chosen, &k, tb_volume, tb_value, 4, 0, 0, NULL), 0);
    CU_ASSERT_TRUE(best == 0 && k == 0);
    CU_ASSERT_EQUAL(knap_2d(&best, chosen, &k, NULL, NULL, 0, 7, 0, NULL), 0);
    CU_ASSERT_TRUE(best == 0 && k == 0);
    CU_ASSERT_EQUAL(knap_2d(&best, chosen, &k, NULL, NULL, 0, 7, 1, NULL), 0);
    CU_ASSERT_TRUE(best == KNAP_NONE && k == 0);
    CU_ASSERT_EQUAL(knap_1d(&best, NULL, NULL, 0, 0, 1, NULL), 0);
    CU_ASSERT_EQUAL(best, 0);
}

/* Checks that chosen is an ascending set of distinct items with the volume bound and
 * exactly the value best. */
static void check_chosen(const size_t *chosen, size_t k, const int *volume, const int *value,
                         size_t n, int capacity, int exact, int64_t best)
{
    int64_t vol = 0, val = 0;
    for (size_t x = 0; x < k; x++) {
        CU_ASSERT_TRUE_FATAL(chosen[x] < n);
        if (x) {
            CU_ASSERT_TRUE(chosen[x - 1] < chosen[x]);
        }
        vol += volume[chosen[x]];
        val += value[chosen[x]];
    }
    CU_ASSERT_TRUE(exact ? vol == capacity : vol <= capacity);
    CU_ASSERT_EQUAL(val, best);
}

static void random_items(rng *r, int *volume, int *value, size_t n, int flavour, int min_volume)
{
    for (size_t k = 0; k < n; k++) {
        volume[k] = (int)rng_range(r, min_volume, 8);
        switch (flavour) {
        case 0: value[k] = (int)rng_range(r, 0, 30); break;
        case 1: value[k] = (int)rng_range(r, -10, 30); break;
        case 2: value[k] = (int)rng_range(r, INT_MAX - 100, INT_MAX); break;
        default: value[k] = (int)rng_range(r, INT_MIN, INT_MAX);
        }
    }
}

static void test_random_against_brute_force(void)
{
    rng r;
    rng_seed(&r, 2024);
    int volume[12], value[12];
    size_t chosen[12], k;
    int rounds = 0;
    for (int round = 0; round < 1500; round++) {
        size_t n = (size_t)rng_range(&r, 0, 12);
        int capacity = (int)rng_range(&r, 0, 30);
        random_items(&r, volume, value, n, round % 4, 0);
        for (int exact = 0; exact <= 1; exact++) {
            int64_t want = brute(volume, value, n, capacity, exact), b2 = -1, b1 = -1;
            CU_ASSERT_EQUAL_FATAL(knap_2d(&b2, chosen, &k, volume, value, n, capacity, exact, NULL),
                                  0);
            CU_ASSERT_EQUAL_FATAL(knap_1d(&b1, volume, value, n, capacity, exact, NULL), 0);
            if (b2 != want || b1 != want) {
                CU_FAIL("knapsack differs from the brute force");
                fprintf(stderr, "\n  round %d exact %d: 2d %lld 1d %lld brute %lld", round, exact,
                        (long long)b2, (long long)b1, (long long)want);
                return;
            }
            if (want == KNAP_NONE) {
                CU_ASSERT_EQUAL(k, 0);
            } else {
                check_chosen(chosen, k, volume, value, n, capacity, exact, want);
            }
        }
        rounds++;
    }
    CU_ASSERT_EQUAL(rounds, 1500);
}

static void test_ascending_is_unbounded(void)
{
    rng r;
    rng_seed(&r, 99);
    int volume[5], value[5];
    int differs = 0;
    for (int round = 0; round < 600; round++) {
        size_t n = (size_t)rng_range(&r, 0, 5);
        int capacity = (int)rng_range(&r, 0, 16);
        random_items(&r, volume, value, n, round % 4, 1);
        for (int exact = 0; exact <= 1; exact++) {
            int64_t got = -1;
            CU_ASSERT_EQUAL_FATAL(knap_1d_ascending(&got, volume, value, n, capacity, exact, NULL),
                                  0);
            int64_t want = brute_unbounded(volume, value, n, 0, capacity, exact);
            CU_ASSERT_EQUAL(got, want);
            if (got != want) {
                fprintf(stderr, "\n  round %d exact %d: ascending %lld, unbounded %lld", round,
                        exact, (long long)got, (long long)want);
                return;
            }
            differs += got != brute(volume, value, n, capacity, exact);
        }
    }
    /* It is not a rare corner case: the two answers differ often. */
    CU_ASSERT_TRUE(differs > 100);
}

static void test_no_overflow(void)
{
    enum { N = 40 };
    int volume[N], value[N];
    for (int k = 0; k < N; k++) {
        volume[k] = 1;
        value[k] = INT_MAX;
    }
    int64_t best;
    size_t chosen[N], k;
    CU_ASSERT_EQUAL(knap_2d(&best, chosen, &k, volume, value, N, N, 0, NULL), 0);
    CU_ASSERT_EQUAL(best, (int64_t)N * INT_MAX);
    CU_ASSERT_EQUAL(k, N);
    CU_ASSERT_EQUAL(knap_1d(&best, volume, value, N, N, 1, NULL), 0);
    CU_ASSERT_EQUAL(best, (int64_t)N * INT_MAX);
    CU_ASSERT_EQUAL(knap_1d_ascending(&best, volume, value, 1, 100000, 0, NULL), 0);
    CU_ASSERT_EQUAL(best, (int64_t)100000 * INT_MAX);
    for (int k2 = 0; k2 < N; k2++)
        value[k2] = INT_MIN;
    CU_ASSERT_EQUAL(knap_1d(&best, volume, value, N, N, 1, NULL), 0);
    CU_ASSERT_EQUAL(best, (int64_t)N * INT_MIN);
    CU_ASSERT_EQUAL(knap_2d(&best, chosen, &k, volume, value, N, N, 0, NULL), 0);
    CU_ASSERT_TRUE(best == 0 && k == 0);
}

static void test_limits_and_bad_arguments(void)
{
    int64_t best = 42;
    size_t chosen[4], k = 42;
    CU_ASSERT_EQUAL(knap_2d_bytes(4, 5), 5 * 6 * 8);
    CU_ASSERT_EQUAL(knap_1d_bytes(5), 6 * 8);
    CU_ASSERT_EQUAL(knap_1d_bytes(INT_MAX), ((uint64_t)INT_MAX + 1) * 8);
    CU_ASSERT_EQUAL(knap_2d_bytes(SIZE_MAX, INT_MAX), UINT64_MAX);
    CU_ASSERT_EQUAL(knap_2d_bytes(3, -1), 0);
    CU_ASSERT_EQUAL(knap_1d_bytes(-5), 0);
    /* Over the cap: refused before anything is allocated. */
    static int volume[1000], value[1000];
    unsigned long before = mem_count();
    CU_ASSERT_EQUAL(knap_2d(&best, chosen, &k, volume, value, 1000, 100000, 0, NULL),
                    TUTOR_ETOOBIG);
    CU_ASSERT_EQUAL(knap_1d(&best, volume, value, 1000, INT_MAX, 0, NULL), TUTOR_ETOOBIG);
    CU_ASSERT_EQUAL(knap_1d_ascending(&best, volume, value, 1, INT_MAX, 1, NULL), TUTOR_ETOOBIG);
    CU_ASSERT_EQUAL(mem_count(), before);
    CU_ASSERT_TRUE(best == 42 && k == 42);
    /* Just under the cap is allowed (the 1-D array of 2^25 cells is exactly 256 MiB). */
    CU_ASSERT_TRUE(knap_1d_bytes((1 << 25) - 1) == KNAP_MEM_CAP);
    CU_ASSERT_EQUAL(knap_2d(&best, chosen, &k, tb_volume, tb_value, 4, -1, 0, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(knap_1d(&best, tb_volume, tb_value, 4, -1, 0, NULL), TUTOR_EINVAL);
    int neg[] = {1, -2};
    CU_ASSERT_EQUAL(knap_2d(&best, chosen, &k, neg, tb_value, 2, 5, 0, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(knap_1d_ascending(&best, neg, tb_value, 2, 5, 0, NULL), TUTOR_EINVAL);
    CU_ASSERT_TRUE(best == 42 && k == 42);
}

static void test_allocates_once(void)
{
    int64_t best;
    size_t chosen[4], k;
    unsigned long before = mem_count();
    CU_ASSERT_EQUAL(knap_2d(&best, chosen, &k, tb_volume, tb_value, 4, 5, 0, NULL), 0);
    CU_ASSERT_EQUAL(mem_count() - before, 1);
    before = mem_count();
    CU_ASSERT_EQUAL(knap_1d(&best, tb_volume, tb_value, 4, 5, 1, NULL), 0);
    CU_ASSERT_EQUAL(mem_count() - before, 1);
}

static int mark_count(const trace_frame *st, trace_role role, long *row, long *col)
{
    int c = 0;
    for (size_t m = 0; m < st->nmarks; m++)
        if (st->marks[m].role == role && strcmp(st->marks[m].target, "f") == 0) {
            if (row)
                *row = st->marks[m].row;
            if (col)
                *col = st->marks[m].col;
            c++;
        }
    return c;
}

/* The 2-D trace fills every cell exactly once, each from its one or two sources with one
 * winner among them, with the brute-force value; every line is in the listing; the walk
 * back's quizzes name the chosen items. */
static void check_trace_2d(const int *volume, const int *value, size_t n, int capacity, int exact)
{
    trace *tr = trace_new(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tr);
    trace_set_listing(tr, knap_2d_listing, knap_2d_listing_len);
    int64_t best;
    size_t chosen[8], k;
    CU_ASSERT_EQUAL_FATAL(knap_2d(&best, chosen, &k, volume, value, n, capacity, exact, tr), 0);
    CU_ASSERT_FALSE(trace_truncated(tr));
    size_t cols = (size_t)capacity + 1;
    int filled[9][32] = {{0}};
    int in_answer[8] = {0};
    for (size_t x = 0; x < k; x++)
        in_answer[chosen[x]] = 1;
    size_t len = trace_len(tr);
    for (size_t s = 0; s < len; s++) {
        const trace_frame *st = trace_at(tr, s);
        size_t nlines;
        CU_ASSERT_PTR_NOT_NULL(trace_listing(tr, &nlines));
        CU_ASSERT_TRUE(st->line >= 1 && (size_t)st->line <= nlines);
        long i, j;
        if (st->line == 11 || st->line == 12) {
            /* The walk back: "is item i-1 in the answer?" */
            CU_ASSERT_PTR_NOT_NULL_FATAL(st->quiz);
            unsigned item;
            CU_ASSERT_EQUAL_FATAL(sscanf(st->quiz, "is item %u", &item), 1);
            CU_ASSERT_EQUAL(st->quiz_answer, in_answer[item]);
            CU_ASSERT_EQUAL(st->line == 12, in_answer[item]);
            continue;
        }
        if (mark_count(st, TRACE_CURRENT, &i, &j) != 1)
            continue;
        CU_ASSERT_TRUE(st->line >= 6 && st->line <= 8);
        CU_ASSERT_TRUE_FATAL(i >= 1 && (size_t)i <= n && j >= 0 && (size_t)j < cols);
        filled[i][j]++;
        int64_t want = brute(volume, value, (size_t)i, (int)j, exact);
        const trace_snap *f = trace_find(st, "f");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        CU_ASSERT_EQUAL(f->ints[(size_t)i * cols + (size_t)j], want);
        int sources = mark_count(st, TRACE_SOURCE, NULL, NULL);
        CU_ASSERT_EQUAL(sources, (size_t)j >= (size_t)volume[i - 1] ? 2 : 1);
        long wi = -1, wj = -1;
        CU_ASSERT_EQUAL_FATAL(mark_count(st, TRACE_WINNER, &wi, &wj), 1);
        CU_ASSERT_EQUAL(wi, i - 1);
        CU_ASSERT_TRUE(wj == j || wj == j - volume[i - 1]);
        /* The winner's value, plus the item's when it is the take branch, is the cell's.
         * (With volume 0 both branches read the same cell: the better of the two wins.) */
        int64_t from = f->ints[(size_t)wi * cols + (size_t)wj];
        int w = value[i - 1];
        if (want != KNAP_NONE && volume[i - 1] == 0) {
            CU_ASSERT_EQUAL(want, from + (w > 0 ? w : 0));
        }
        if (want != KNAP_NONE && volume[i - 1] != 0) {
            CU_ASSERT_EQUAL(want, from + (wj == j ? 0 : w));
        }
        if (want != KNAP_NONE) {
            CU_ASSERT_PTR_NOT_NULL(st->quiz);
            CU_ASSERT_EQUAL(st->quiz_answer, want);
        }
    }
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 0; j < cols; j++) {
            CU_ASSERT_EQUAL(filled[i][j], 1);
        }
    /* The last table snapshot is the whole brute-force table. */
    const trace_snap *f = trace_latest(tr, len - 1, "f");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_TRUE_FATAL(f->rows == n + 1 && f->cols == cols);
    for (size_t i = 0; i <= n; i++)
        for (size_t j = 0; j < cols; j++) {
            CU_ASSERT_EQUAL(f->ints[i * cols + j], brute(volume, value, i, (int)j, exact));
        }
    trace_free(tr);
}

/* The 1-D trace: for each item, every j from capacity down to v (up, ascending) exactly
 * once, in that order; the final array is the last row of the table. */
static void check_trace_1d(const int *volume, const int *value, size_t n, int capacity, int exact,
                           int ascending)
{
    trace *tr = trace_new(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tr);
    if (ascending)
        trace_set_listing(tr, knap_1d_ascending_listing, knap_1d_ascending_listing_len);
    else
        trace_set_listing(tr, knap_1d_listing, knap_1d_listing_len);
    int64_t best;
    int rc = ascending ? knap_1d_ascending(&best, volume, value, n, capacity, exact, tr)
                       : knap_1d(&best, volume, value, n, capacity, exact, tr);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    size_t len = trace_len(tr), s = 0;
    size_t nlines;
    CU_ASSERT_PTR_NOT_NULL_FATAL(trace_listing(tr, &nlines));
    for (size_t t = 0; t < len; t++) {
        CU_ASSERT_TRUE(trace_at(tr, t)->line >= 1 && (size_t)trace_at(tr, t)->line <= nlines);
    }
    for (size_t k = 0; k < n; k++) {
        while (s < len && trace_at(tr, s)->line != 4)
            s++;
        CU_ASSERT_TRUE_FATAL(s < len);
        s++;
        for (int step = 0; step <= capacity - volume[k]; step++, s++) {
            long j = ascending ? volume[k] + step : capacity - step;
            long cj;
            CU_ASSERT_TRUE_FATAL(s < len);
            CU_ASSERT_EQUAL(mark_count(trace_at(tr, s), TRACE_CURRENT, &cj, NULL), 1);
            CU_ASSERT_EQUAL(cj, j);
            CU_ASSERT_EQUAL(mark_count(trace_at(tr, s), TRACE_WINNER, NULL, NULL), 1);
            CU_ASSERT_EQUAL(mark_count(trace_at(tr, s), TRACE_SOURCE, NULL, NULL), 2);
        }
    }
    const trace_snap *f = trace_latest(tr, len - 1, "f");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL_FATAL(f->cols, (size_t)capacity + 1);
    for (int j = 0; j <= capacity; j++) {
        CU_ASSERT_EQUAL(f->ints[j], ascending ? brute_unbounded(volume, value, n, 0, j, exact)
                                              : brute(volume, value, n, j, exact));
    }
    CU_ASSERT_EQUAL(f->ints[capacity], best);
    trace_free(tr);
}

static void test_traces(void)
{
    check_trace_2d(tb_volume, tb_value, 4, 5, 0);
    check_trace_2d(tb_volume, tb_value, 4, 5, 1);
    check_trace_1d(tb_volume, tb_value, 4, 5, 0, 0);
    check_trace_1d(tb_volume, tb_value, 4, 5, 0, 1);
    rng r;
    rng_seed(&r, 5);
    int volume[8], value[8];
    for (int round = 0; round < 150; round++) {
        size_t n = (size_t)rng_range(&r, 0, 8);
        int capacity = (int)rng_range(&r, 0, 20);
        random_items(&r, volume, value, n, round % 2, round % 3 ? 1 : 0);
        int exact = round % 2;
        check_trace_2d(volume, value, n, capacity, exact);
        check_trace_1d(volume, value, n, capacity, exact, 0);
        if (round % 3)
            check_trace_1d(volume, value, n, capacity, exact, 1);
    }
}

static void test_textbook_trace_quiz(void)
{
    trace *tr = trace_new(0);
    int64_t best;
    size_t chosen[4], k;
    CU_ASSERT_EQUAL(knap_2d(&best, chosen, &k, tb_volume, tb_value, 4, 5, 0, tr), 0);
    int found = 0;
    for (size_t s = 0; s < trace_len(tr); s++) {
        const trace_frame *st = trace_at(tr, s);
        if (st->quiz && strcmp(st->quiz, "what is f[2][3]?") == 0) {
            /* Items 0 and 1 in volume 3: both, 2 + 4. */
            CU_ASSERT_EQUAL(st->quiz_answer, 6);
            CU_ASSERT_EQUAL(st->line, 8);
            found++;
        }
    }
    CU_ASSERT_EQUAL(found, 1);
    trace_free(tr);
    /* A tie leaves the item out: f[2][1] = max(f[1][1] = 5, f[1][0] + 5 = 5) is won by
     * f[1][1], and the walk back then takes item 0, not item 1. */
    int vol[] = {1, 1}, val[] = {5, 5};
    tr = trace_new(0);
    CU_ASSERT_EQUAL(knap_2d(&best, chosen, &k, vol, val, 2, 1, 0, tr), 0);
    CU_ASSERT_TRUE(best == 5 && k == 1 && chosen[0] == 0);
    found = 0;
    for (size_t s = 0; s < trace_len(tr); s++) {
        const trace_frame *st = trace_at(tr, s);
        long i = -1, j = -1, wi = -1, wj = -1;
        if (mark_count(st, TRACE_CURRENT, &i, &j) == 1 && i == 2 && j == 1) {
            CU_ASSERT_EQUAL(mark_count(st, TRACE_WINNER, &wi, &wj), 1);
            CU_ASSERT_TRUE(wi == 1 && wj == 1);
            CU_ASSERT_EQUAL(st->line, 7);
            found++;
        }
    }
    CU_ASSERT_EQUAL(found, 1);
    trace_free(tr);
}

/* Through the runner, as the CLI and the UI run it: each method's trace carries its own
 * listing and every step names one of its lines. */
static void test_runner_listing(void)
{
    static const struct {
        const char *method, *flag;
        const char *const *listing;
    } cases[] = {
        {"2d", NULL, knap_2d_listing},
        {"2d", "exact", knap_2d_listing},
        {"1d", NULL, knap_1d_listing},
        {"1d", "exact", knap_1d_listing},
        {"1d", "ascending", knap_1d_ascending_listing},
    };
    const char *items[] = {"1:2 2:4 3:4 4:5", "", "9:1", "0:3 2:-1 1:1"};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (size_t k = 0; k < sizeof items / sizeof items[0]; k++) {
            topic_opt opts[4] = {{"capacity", "5"},
                                 {"items", items[k]},
                                 {"method", cases[c].method},
                                 {cases[c].flag, NULL}};
            topic_args args = {opts, cases[c].flag ? 4 : 3, 1};
            topic_out res = {STRBUF_INIT, STRBUF_INIT, {0}};
            trace *tr = trace_new(0);
            CU_ASSERT_EQUAL_FATAL(topic_find("knapsack")->run(&args, tr, &res), 0);
            size_t nlines;
            CU_ASSERT_PTR_EQUAL(trace_listing(tr, &nlines), cases[c].listing);
            CU_ASSERT_TRUE(nlines > 0 && trace_len(tr) > 0);
            for (size_t s = 0; s < trace_len(tr); s++) {
                int line = trace_at(tr, s)->line;
                CU_ASSERT_TRUE(line >= 1 && (size_t)line <= nlines);
            }
            topic_out_free(&res);
            trace_free(tr);
        }
}

static void test_trace_truncated(void)
{
    int volume[30], value[30];
    rng r;
    rng_seed(&r, 8);
    random_items(&r, volume, value, 30, 0, 1);
    trace *tr = trace_new(1 << 16);
    int64_t best;
    size_t chosen[30], k;
    CU_ASSERT_EQUAL(knap_2d(&best, chosen, &k, volume, value, 30, 60, 0, tr), 0);
    CU_ASSERT_TRUE(trace_truncated(tr));
    int64_t want;
    CU_ASSERT_EQUAL(knap_1d(&want, volume, value, 30, 60, 0, NULL), 0);
    CU_ASSERT_EQUAL(best, want);
    check_chosen(chosen, k, volume, value, 30, 60, 0, want);
    trace_free(tr);
}

/* Allocation sweeps over the library (traced and not) and the runner. */
typedef struct sweep_ctx {
    int which; /* 0: 2d, 1: 1d, 2: ascending, 3: runner 2d, 4: runner 1d exact */
    int traced;
} sweep_ctx;

static int sweep_body(void *p)
{
    const sweep_ctx *c = p;
    trace *tr = NULL;
    if (c->traced && !(tr = trace_new(0)))
        return TUTOR_ENOMEM;
    int64_t best = -1;
    size_t chosen[4], k;
    int rc;
    int64_t want = 8;
    if (c->which == 0) {
        rc = knap_2d(&best, chosen, &k, tb_volume, tb_value, 4, 5, 0, tr);
    } else if (c->which == 1) {
        rc = knap_1d(&best, tb_volume, tb_value, 4, 5, 1, tr);
    } else if (c->which == 2) {
        rc = knap_1d_ascending(&best, tb_volume, tb_value, 4, 5, 0, tr);
        want = 10;
    } else {
        topic_opt opts[3] = {{"capacity", "5"}, {"items", "1:2 2:4 3:4 4:5"}, {"method", "1d"}};
        topic_args args = {opts, c->which == 3 ? 2 : 3, 1};
        topic_out res = {STRBUF_INIT, STRBUF_INIT, {0}};
        rc = topic_find("knapsack")->run(&args, tr, &res);
        const char *expect = c->which == 3 ? "\"result\": 8, \"chosen\": [1, 2]" : "\"result\": 8";
        best = rc == 0 && strcmp(strbuf_str(&res.json), expect) == 0 ? 8 : -1;
        topic_out_free(&res);
    }
    trace_free(tr);
    return rc == 0 && best != want ? TUTOR_EINVAL : rc;
}

static void test_alloc_failures(void)
{
    for (int which = 0; which < 5; which++)
        for (int traced = 0; traced <= 1; traced++) {
            sweep_ctx c = {which, traced};
            int points = th_alloc_sweep(sweep_body, &c, 0);
            CU_ASSERT_TRUE(points >= (traced ? 10 : 1));
        }
}

static void test_cli_answers(void)
{
    const char *items = "1:2 2:4 3:4 4:5";
    CU_ASSERT_EQUAL(
        th_cli(&out, &err, "run", "knapsack", "--capacity", "5", "--items", items, "--json", NULL),
        0);
    CU_ASSERT_STRING_EQUAL(strbuf_str(&out),
                           "{\"topic\": \"knapsack\", \"result\": 8, \"chosen\": [1, 2]}\n");
    CU_ASSERT_EQUAL(err.len, 0);
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "knapsack", "--capacity", "5", "--items", items,
                           "--method", "2d", "--exact", "--json", NULL),
                    0);
    CU_ASSERT_STRING_EQUAL(strbuf_str(&out),
                           "{\"topic\": \"knapsack\", \"result\": 8, \"chosen\": [1, 2]}\n");
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "knapsack", "--capacity", "5", "--items", items,
                           "--method", "1d", "--json", NULL),
                    0);
    CU_ASSERT_STRING_EQUAL(strbuf_str(&out), "{\"topic\": \"knapsack\", \"result\": 8}\n");
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "knapsack", "--capacity", "5", "--items", items,
                           "--method=1d", "--ascending", "--json", NULL),
                    0);
    CU_ASSERT_STRING_EQUAL(strbuf_str(&out), "{\"topic\": \"knapsack\", \"result\": 10}\n");
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "knapsack", "--capacity", "5", "--items", "2:4,4:5",
                           "--exact", "--json", NULL),
                    0);
    CU_ASSERT_STRING_EQUAL(strbuf_str(&out),
                           "{\"topic\": \"knapsack\", \"result\": null, \"chosen\": null}\n");
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "knapsack", "--capacity", "5", "--items", "2:4 4:5",
                           "--exact", "--method", "1d", "--json", NULL),
                    0);
    CU_ASSERT_STRING_EQUAL(strbuf_str(&out), "{\"topic\": \"knapsack\", \"result\": null}\n");
    CU_ASSERT_EQUAL(
        th_cli(&out, &err, "run", "knapsack", "--capacity", "3", "--items", "", "--json", NULL), 0);
    CU_ASSERT_STRING_EQUAL(strbuf_str(&out),
                           "{\"topic\": \"knapsack\", \"result\": 0, \"chosen\": []}\n");
    CU_ASSERT_EQUAL(
        th_cli(&out, &err, "run", "knapsack", "--capacity", "5", "--items", items, NULL), 0);
    CU_ASSERT_STRING_EQUAL(strbuf_str(&out), "best value 8 (capacity 5): items 1, 2 (volume 5)\n");
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "knapsack", "--capacity", "5", "--items", items,
                           "--json", "--trace", NULL),
                    0);
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"role\": \"winner\""));
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "knapsack", "--capacity", "5", "--items", items,
                           "--method", "1d", "--exact", "--json", "--trace", NULL),
                    0);
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "knapsack", "--capacity", "5", "--items", items,
                           "--method", "1d", "--ascending", "--trace", NULL),
                    0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "unbounded"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "j runs up"));
}

/* Bad input: exit 2, one line on stderr naming the problem, nothing on stdout. */
static void expect_bad(const char *needle, const char *capacity, const char *items, const char *x1,
                       const char *x2)
{
    const char *argv[10];
    int c = 0;
    if (capacity) {
        argv[c++] = "--capacity";
        argv[c++] = capacity;
    }
    if (items) {
        argv[c++] = "--items";
        argv[c++] = items;
    }
    argv[c++] = x1;
    argv[c++] = x2;
    argv[c] = NULL;
    int rc = th_cli(&out, &err, "run", "knapsack", argv[0], argv[1], argv[2], argv[3], argv[4],
                    argv[5], NULL);
    th_refused(rc, &out, &err, needle);
}

static void test_cli_bad_input(void)
{
    const char *items = "1:2 2:4 3:4 4:5";
    expect_bad("missing --capacity", NULL, items, NULL, NULL);
    expect_bad("missing --items", "5", NULL, NULL, NULL);
    expect_bad("--capacity: -1 is outside", "-1", items, NULL, NULL);
    expect_bad("--capacity: 'five' is not an integer", "five", items, NULL, NULL);
    expect_bad("--capacity: 2147483648 is outside", "2147483648", items, NULL, NULL);
    expect_bad("--items: 'x' is not an integer", "5", "1:x", NULL, NULL);
    expect_bad("--items: 2147483648 is outside", "5", "1:2147483648", NULL, NULL);
    expect_bad("--items: -2147483649 is outside", "5", "1:-2147483649", NULL, NULL);
    expect_bad("--items: -1 is outside", "5", "-1:3", NULL, NULL);
    expect_bad("'12' is not of the form A:B", "5", "1:2 12", NULL, NULL);
    expect_bad("--items", "5", "1:2:3", NULL, NULL);
    expect_bad("--method: expected 2d or 1d, got '3d'", "5", items, "--method", "3d");
    expect_bad("--ascending needs --method 1d", "5", items, "--ascending", NULL);
    expect_bad("unknown option '--capacityy'", "5", items, "--capacityy", "3");
    expect_bad("--exact takes no value", "5", items, "--exact=1", NULL);
    strbuf many = STRBUF_INIT;
    for (int k = 0; k < 1000; k++)
        strbuf_puts(&many, "1:1 ");
    expect_bad("would need 763.7 MiB (800808008 bytes), over the 256 MiB cap", "100000",
               strbuf_str(&many), NULL, NULL);
    strbuf_free(&many);
    expect_bad("1-D array for 1 items and capacity 2147483647 would need 16.0 GiB", "2147483647",
               "1:1", "--method", "1d");
}

static void test_help_and_random_input(void)
{
    CU_ASSERT_EQUAL(th_cli(&out, &err, "help", "knapsack", NULL), 0);
    const char *h = strbuf_str(&out);
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "--capacity VALUE"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "--items LIST"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "--method VALUE"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "--exact "));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "--ascending "));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "unbounded"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(h, "tutor run knapsack --capacity 5 --items \"1:2 2:4 3:4 4:5\""));
    const topic *t = topic_find("knapsack");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t->random_input);
    CU_ASSERT_STRING_EQUAL(t->notes, "knapsack.md");
    strbuf a = STRBUF_INIT, b = STRBUF_INIT;
    int differ = 0;
    for (uint64_t seed = 0; seed < 30; seed++) {
        strbuf_clear(&a);
        CU_ASSERT_EQUAL(t->random_input(seed, &a), 0);
        differ +=
            seed > 0 && strcmp(strbuf_str(&a), strbuf_str(&b)) != 0; /* b: the previous seed's */
        strbuf_clear(&b);
        CU_ASSERT_EQUAL(t->random_input(seed, &b), 0);
        CU_ASSERT_STRING_EQUAL(strbuf_str(&a), strbuf_str(&b));
        char **w;
        int nw;
        char msg[256];
        CU_ASSERT_EQUAL_FATAL(parse_words(strbuf_str(&a), &w, &nw, msg, sizeof msg), 0);
        CU_ASSERT_EQUAL_FATAL(nw, 4);
        long long capacity;
        int *volume, *value;
        size_t n;
        CU_ASSERT_EQUAL_FATAL(parse_int(w[1], "--capacity", 0, 100, &capacity, msg, sizeof msg), 0);
        CU_ASSERT_EQUAL_FATAL(
            parse_pairs(w[3], "--items", 0, 100, 0, 100, 20, &volume, &value, &n, msg, sizeof msg),
            0);
        int64_t want = brute(volume, value, n, (int)capacity, 0);
        CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "knapsack", w[0], w[1], w[2], w[3], "--method",
                               "1d", "--json", NULL),
                        0);
        char expect[80];
        snprintf(expect, sizeof expect, "{\"topic\": \"knapsack\", \"result\": %lld}\n",
                 (long long)want);
        CU_ASSERT_STRING_EQUAL(strbuf_str(&out), expect);
        mem_free(volume);
        mem_free(value);
        parse_free_words(w);
    }
    /* The seed matters: consecutive seeds nearly always give different inputs. */
    CU_ASSERT_TRUE(differ >= 25);
    strbuf_free(&a);
    strbuf_free(&b);
}

static int cleanup(void)
{
    strbuf_free(&out);
    strbuf_free(&err);
    return 0;
}

void tests_register(void)
{
    static const th_test algo[] = {
        {"textbook: capacity 5, 1:2 2:4 3:4 4:5 gives 8, items 1 2", test_textbook},
        {"1500 seeded inputs: 2d, 1d, exact == subsets", test_random_against_brute_force},
        {"j ascending == unbounded brute force, != 0/1", test_ascending_is_unbounded},
        {"int64 sums: INT_MAX values, many items", test_no_overflow},
        {"memory cap and bad arguments: refused, nothing allocated", test_limits_and_bad_arguments},
        {"the untraced path allocates once", test_allocates_once},
        {"traces fill every cell from its sources", test_traces},
        {"trace quiz on a textbook cell", test_textbook_trace_quiz},
        {"runner: every step's line is in the listing", test_runner_listing},
        {"trace cap: truncated, answer still right", test_trace_truncated},
        {"allocation failures: ENOMEM, no leak", test_alloc_failures},
        {NULL, NULL},
    };
    static const th_test cli[] = {
        {"answers: each JSON shape, text, trace", test_cli_answers},
        {"bad input: exit 2, one line", test_cli_bad_input},
        {"help text and seeded random inputs", test_help_and_random_input},
        {NULL, NULL},
    };
    th_suite("knapsack", algo);
    th_suite("knapsack cli", cli);
    CU_pSuite s = CU_add_suite("cleanup", NULL, cleanup);
    (void)s;
}
