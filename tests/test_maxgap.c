/* Tests of maxgap: the bucket method against the sorted reference, the trace, the CLI. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../algorithms/maxgap.h"
#include "../trace/mem.h"
#include "../trace/rng.h"
#include "../trace/status.h"
#include "../trace/trace.h"
#include "../tutor/core/parse.h"
#include "../tutor/topics/topic.h"
#include "harness.h"

static strbuf out = STRBUF_INIT, err = STRBUF_INIT;

/* Both methods on nums; asserts they agree and returns the gap. */
static int64_t both(const int *nums, size_t n)
{
    int64_t fast = -1, slow = -2;
    CU_ASSERT_EQUAL(maxgap_buckets(&fast, nums, n, NULL), 0);
    CU_ASSERT_EQUAL(maxgap_sorted(&slow, nums, n), 0);
    CU_ASSERT_EQUAL(fast, slow);
    if (fast != slow)
        fprintf(stderr, "\n  n=%zu: buckets %lld, sorted %lld", n, (long long)fast,
                (long long)slow);
    return fast;
}

static void test_classic(void)
{
    int a[] = {3, 6, 9, 1};
    CU_ASSERT_EQUAL(both(a, 4), 3);
    int one[] = {10};
    CU_ASSERT_EQUAL(both(one, 1), 0);
    CU_ASSERT_EQUAL(both(NULL, 0), 0);
    int same[] = {7, 7, 7};
    CU_ASSERT_EQUAL(both(same, 3), 0);
    int two[] = {1, 10000000};
    CU_ASSERT_EQUAL(both(two, 2), 9999999);
    int dup[] = {1, 1, 1, 5, 5, 2};
    CU_ASSERT_EQUAL(both(dup, 6), 3);
    int neg[] = {-10, -3, -7, 4};
    CU_ASSERT_EQUAL(both(neg, 4), 7);
}

static void test_int_extremes(void)
{
    int a[] = {INT_MIN, INT_MAX};
    CU_ASSERT_EQUAL(both(a, 2), (int64_t)UINT32_MAX);
    int b[] = {INT_MAX, 0, INT_MIN};
    CU_ASSERT_EQUAL(both(b, 3), (int64_t)INT_MAX + 1);
    int c[] = {INT_MIN, INT_MIN + 1, INT_MAX - 1, INT_MAX, INT_MIN, INT_MAX};
    CU_ASSERT_EQUAL(both(c, 6), (int64_t)UINT32_MAX - 2);
    int d[] = {INT_MAX, INT_MAX - 1, INT_MAX - 3};
    CU_ASSERT_EQUAL(both(d, 3), 2);
    int e[] = {INT_MIN, INT_MIN + 2, INT_MIN + 1};
    CU_ASSERT_EQUAL(both(e, 3), 1);
    uint64_t size;
    CU_ASSERT_EQUAL(maxgap_bucket_count(INT_MIN, INT_MAX, 2, &size), 2);
    CU_ASSERT_EQUAL(size, UINT32_MAX);
    CU_ASSERT_EQUAL(maxgap_bucket_count(5, 5, 9, &size), 0);
    CU_ASSERT_EQUAL(maxgap_bucket_count(5, 9, 1, &size), 0);
}

/* maxgap_index_of against the division it replaces, where a wrong magic number would show
 * first: size 1 (its own case), powers of two (where ceil and floor of 2^64 / size agree),
 * the largest sizes, each around exact multiples (a floor instead of a ceiling is one low
 * there) and at the top of the 32-bit range; then seeded random sizes and offsets. */
static int index_matches(int lo, uint64_t size, uint64_t off)
{
    maxgap_index ix;
    maxgap_index_init(&ix, lo, size);
    int x = (int)(uint32_t)((uint32_t)lo + (uint32_t)off); /* lo + off, within the ints */
    return maxgap_index_of(&ix, x) == (size_t)(off / size);
}

static void test_index_by_multiplication(void)
{
    static const uint64_t sizes[] = {1,
                                     2,
                                     3,
                                     4,
                                     7,
                                     8,
                                     1000,
                                     65536,
                                     65537,
                                     (1u << 31) - 1,
                                     1u << 31,
                                     (1u << 31) + 1,
                                     UINT32_MAX - 1,
                                     UINT32_MAX};
    static const int los[] = {INT_MIN, -5, 0, 12345};
    int bad = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint64_t size = sizes[i];
        for (size_t l = 0; l < sizeof los / sizeof los[0]; l++) {
            /* x - lo may go up to UINT32_MAX only when lo is INT_MIN; otherwise up to
             * INT_MAX - lo. */
            uint64_t top = (uint64_t)((int64_t)INT_MAX - los[l]);
            for (uint64_t k = 0; k <= 5; k++) {
                uint64_t at[] = {k * size - (k > 0),    k * size,
                                 k * size + 1,          top / size * size - k,
                                 top / size * size + k, top - k};
                for (size_t a = 0; a < sizeof at / sizeof at[0]; a++)
                    if (at[a] <= top && !index_matches(los[l], size, at[a]))
                        bad++;
            }
        }
    }
    rng r;
    rng_seed(&r, 1640);
    for (int round = 0; round < 200000; round++) {
        uint64_t size =
            (uint64_t)rng_range(&r, 1, round % 2 ? 1000 : INT_MAX) * (round % 3 ? 1 : 2);
        uint64_t off = (uint64_t)(uint32_t)rng_range(&r, INT_MIN, INT_MAX);
        if (!index_matches(INT_MIN, size, off))
            bad++;
    }
    CU_ASSERT_EQUAL(bad, 0);
}

/* Random inputs of every flavour: tiny ranges (many duplicates), medium, the whole int
 * range, and values crowded at both ends of it. */
static void random_nums(rng *r, int *v, size_t n, int flavour)
{
    for (size_t i = 0; i < n; i++) {
        switch (flavour) {
        case 0: v[i] = (int)rng_range(r, 0, 5); break;
        case 1: v[i] = (int)rng_range(r, -1000, 1000); break;
        case 2: v[i] = (int)rng_range(r, INT_MIN, INT_MAX); break;
        default:
            v[i] = rng_range(r, 0, 1) ? (int)rng_range(r, INT_MAX - 50, INT_MAX)
                                      : (int)rng_range(r, INT_MIN, INT_MIN + 50);
        }
    }
}

static void test_random_against_sorted(void)
{
    rng r;
    rng_seed(&r, 164);
    int v[300];
    int checked = 0;
    for (int round = 0; round < 2000; round++) {
        size_t n = (size_t)rng_range(&r, 0, round < 1000 ? 12 : 300);
        random_nums(&r, v, n, round % 4);
        int64_t fast = -1, slow = -2;
        CU_ASSERT_EQUAL_FATAL(maxgap_buckets(&fast, v, n, NULL), 0);
        CU_ASSERT_EQUAL_FATAL(maxgap_sorted(&slow, v, n), 0);
        if (fast != slow) {
            CU_FAIL("bucket method differs from the sorted reference");
            break;
        }
        checked++;
    }
    CU_ASSERT_EQUAL(checked, 2000);
}

static void test_allocates_once(void)
{
    int v[50];
    rng r;
    rng_seed(&r, 7);
    random_nums(&r, v, 50, 1);
    int64_t gap;
    unsigned long before = mem_count();
    CU_ASSERT_EQUAL(maxgap_buckets(&gap, v, 50, NULL), 0);
    CU_ASSERT_EQUAL(mem_count() - before, 1);
    /* Fewer than two numbers or all equal: nothing to allocate at all. */
    before = mem_count();
    CU_ASSERT_EQUAL(maxgap_buckets(&gap, v, 1, NULL), 0);
    CU_ASSERT_EQUAL(mem_count(), before);
}

/* The trace drops every number into exactly one bucket, the right one, with its quiz; the
 * final bucket snapshots hold each bucket's min and max; every step's line is in the
 * listing; the last step's quiz is the answer. */
static void check_trace(const int *nums, size_t n)
{
    trace *tr = trace_new(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tr);
    trace_set_listing(tr, maxgap_listing, maxgap_listing_len);
    int64_t gap, want;
    CU_ASSERT_EQUAL_FATAL(maxgap_buckets(&gap, nums, n, tr), 0);
    CU_ASSERT_EQUAL(maxgap_sorted(&want, nums, n), 0);
    CU_ASSERT_EQUAL(gap, want);
    CU_ASSERT_FALSE(trace_truncated(tr));
    size_t len = trace_len(tr);
    CU_ASSERT_TRUE_FATAL(len > 0);
    int lo = INT_MAX, hi = INT_MIN;
    for (size_t i = 0; i < n; i++) {
        lo = nums[i] < lo ? nums[i] : lo;
        hi = nums[i] > hi ? nums[i] : hi;
    }
    uint64_t size;
    size_t count = maxgap_bucket_count(lo, hi, n, &size);
    int placed[64] = {0};
    for (size_t s = 0; s < len; s++) {
        const trace_frame *st = trace_at(tr, s);
        CU_ASSERT_TRUE(st->line >= 1 && (size_t)st->line <= maxgap_listing_len);
        if (st->line != 9)
            continue;
        long idx = -1, bucket = -1;
        for (size_t m = 0; m < st->nmarks; m++) {
            if (strcmp(st->marks[m].target, "nums") == 0)
                idx = st->marks[m].row;
            if (strcmp(st->marks[m].target, "bucket_min") == 0)
                bucket = st->marks[m].row;
        }
        CU_ASSERT_TRUE_FATAL(idx >= 0 && (size_t)idx < n);
        placed[idx]++;
        int64_t want_b = (int64_t)(((int64_t)nums[idx] - lo) / (int64_t)size);
        CU_ASSERT_EQUAL(bucket, want_b);
        CU_ASSERT_PTR_NOT_NULL(st->quiz);
        CU_ASSERT_EQUAL(st->quiz_answer, want_b);
    }
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_EQUAL(placed[i], count ? 1 : 0);
    }
    const trace_snap *bmin = trace_latest(tr, len - 1, "bucket_min");
    const trace_snap *bmax = trace_latest(tr, len - 1, "bucket_max");
    if (count) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(bmin);
        CU_ASSERT_PTR_NOT_NULL_FATAL(bmax);
        CU_ASSERT_EQUAL_FATAL(bmin->cols, count);
        for (size_t b = 0; b < count; b++) {
            int64_t mn = TRACE_NONE, mx = TRACE_NONE;
            for (size_t i = 0; i < n; i++) {
                if ((size_t)(((int64_t)nums[i] - lo) / (int64_t)size) != b)
                    continue;
                mn = mn == TRACE_NONE || nums[i] < mn ? nums[i] : mn;
                mx = mx == TRACE_NONE || nums[i] > mx ? nums[i] : mx;
            }
            CU_ASSERT_EQUAL(bmin->ints[b], mn);
            CU_ASSERT_EQUAL(bmax->ints[b], mx);
        }
    }
    const trace_frame *last = trace_at(tr, len - 1);
    CU_ASSERT_PTR_NOT_NULL(last->quiz);
    CU_ASSERT_EQUAL(last->quiz_answer, gap);
    /* The gap quizzes of the scan: their largest answer is the result. */
    int64_t best_quiz = 0;
    for (size_t s = 0; s < len; s++) {
        const trace_frame *st = trace_at(tr, s);
        if (st->line == 15 && st->quiz_answer > best_quiz)
            best_quiz = st->quiz_answer;
    }
    CU_ASSERT_EQUAL(best_quiz, gap);
    trace_free(tr);
}

static void test_trace(void)
{
    int a[] = {3, 6, 9, 1};
    check_trace(a, 4);
    trace *tr = trace_new(0);
    int64_t gap;
    CU_ASSERT_EQUAL(maxgap_buckets(&gap, a, 4, tr), 0);
    /* 3 lands in bucket (3 - 1) / 2 = 1: the first landing step says so. */
    for (size_t s = 0; s < trace_len(tr); s++)
        if (trace_at(tr, s)->line == 9) {
            CU_ASSERT_STRING_EQUAL(trace_at(tr, s)->quiz, "which bucket does 3 land in?");
            CU_ASSERT_EQUAL(trace_at(tr, s)->quiz_answer, 1);
            break;
        }
    trace_free(tr);
    int ext[] = {INT_MAX, INT_MIN, 0, INT_MIN};
    check_trace(ext, 4);
    int same[] = {4, 4};
    check_trace(same, 2);
    check_trace(a, 1);
    rng r;
    rng_seed(&r, 2);
    int v[64];
    for (int round = 0; round < 200; round++) {
        size_t n = (size_t)rng_range(&r, 0, 64);
        random_nums(&r, v, n, round % 4);
        check_trace(v, n);
    }
}

/* Through the runner, as the CLI and the UI run it: the trace carries the listing and every
 * step names one of its lines. */
static void test_runner_listing(void)
{
    const char *inputs[] = {"3 6 9 1", "", "5", "7 7 7", "-2147483648 2147483647 0 5 5"};
    for (size_t k = 0; k < sizeof inputs / sizeof inputs[0]; k++) {
        topic_opt opt = {"nums", inputs[k]};
        topic_args args = {&opt, 1, 1};
        topic_out res = {STRBUF_INIT, STRBUF_INIT, {0}};
        trace *tr = trace_new(0);
        CU_ASSERT_EQUAL_FATAL(topic_find("maxgap")->run(&args, tr, &res), 0);
        size_t nlines;
        CU_ASSERT_PTR_EQUAL(trace_listing(tr, &nlines), maxgap_listing);
        CU_ASSERT_EQUAL(nlines, maxgap_listing_len);
        CU_ASSERT_TRUE(trace_len(tr) > 0);
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
    rng r;
    rng_seed(&r, 3);
    int v[2000];
    random_nums(&r, v, 2000, 1);
    trace *tr = trace_new(4096);
    int64_t gap, want;
    CU_ASSERT_EQUAL(maxgap_buckets(&gap, v, 2000, tr), 0);
    CU_ASSERT_EQUAL(maxgap_sorted(&want, v, 2000), 0);
    CU_ASSERT_EQUAL(gap, want);
    CU_ASSERT_TRUE(trace_truncated(tr));
    trace_free(tr);
}

/* Allocation sweeps: the algorithm with and without a trace, the reference, the runner. */
typedef struct sweep_ctx {
    const int *nums;
    size_t n;
    int traced;
} sweep_ctx;

static int sweep_buckets(void *p)
{
    const sweep_ctx *c = p;
    trace *tr = NULL;
    if (c->traced && !(tr = trace_new(0)))
        return TUTOR_ENOMEM;
    int64_t gap = -1;
    int rc = maxgap_buckets(&gap, c->nums, c->n, tr);
    if (rc == 0 && gap != 3)
        rc = TUTOR_EINVAL;
    trace_free(tr);
    return rc;
}

static int sweep_sorted(void *p)
{
    const sweep_ctx *c = p;
    int64_t gap = -1;
    int rc = maxgap_sorted(&gap, c->nums, c->n);
    return rc == 0 && gap != 3 ? TUTOR_EINVAL : rc;
}

static int sweep_runner(void *p)
{
    const sweep_ctx *c = p;
    topic_opt opt = {"nums", "3 6 9 1"};
    topic_args args = {&opt, 1, 1};
    topic_out res = {STRBUF_INIT, STRBUF_INIT, {0}};
    trace *tr = NULL;
    if (c->traced && !(tr = trace_new(0)))
        return TUTOR_ENOMEM;
    const topic *t = topic_find("maxgap");
    int rc = t->run(&args, tr, &res);
    if (rc == 0 && strcmp(strbuf_str(&res.json), "\"result\": 3") != 0)
        rc = TUTOR_EINVAL;
    topic_out_free(&res);
    trace_free(tr);
    return rc;
}

static void test_alloc_failures(void)
{
    int a[] = {3, 6, 9, 1};
    sweep_ctx c = {a, 4, 0};
    CU_ASSERT_TRUE(th_alloc_sweep(sweep_buckets, &c, 0) >= 1);
    CU_ASSERT_TRUE(th_alloc_sweep(sweep_sorted, &c, 0) >= 1);
    CU_ASSERT_TRUE(th_alloc_sweep(sweep_runner, &c, 0) >= 1);
    c.traced = 1;
    CU_ASSERT_TRUE(th_alloc_sweep(sweep_buckets, &c, 0) > 20);
    CU_ASSERT_TRUE(th_alloc_sweep(sweep_runner, &c, 0) > 20);
}

static void test_cli_answers(void)
{
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "maxgap", "--nums", "3 6 9 1", "--json", NULL), 0);
    CU_ASSERT_STRING_EQUAL(strbuf_str(&out), "{\"topic\": \"maxgap\", \"result\": 3}\n");
    CU_ASSERT_EQUAL(err.len, 0);
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "maxgap", "--nums", "3,6,9,1", "--json", NULL), 0);
    CU_ASSERT_STRING_EQUAL(strbuf_str(&out), "{\"topic\": \"maxgap\", \"result\": 3}\n");
    CU_ASSERT_EQUAL(
        th_cli(&out, &err, "run", "maxgap", "--nums=-2147483648, 2147483647", "--json", NULL), 0);
    CU_ASSERT_STRING_EQUAL(strbuf_str(&out), "{\"topic\": \"maxgap\", \"result\": 4294967295}\n");
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "maxgap", "--nums", "", "--json", NULL), 0);
    CU_ASSERT_STRING_EQUAL(strbuf_str(&out), "{\"topic\": \"maxgap\", \"result\": 0}\n");
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "maxgap", "--nums", "3 6 9 1", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), ": 3\n"));
    CU_ASSERT_EQUAL(th_count_lines(strbuf_str(&out)), 1);
    CU_ASSERT_EQUAL(
        th_cli(&out, &err, "run", "maxgap", "--nums", "3 6 9 1", "--json", "--trace", NULL), 0);
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"steps\": ["));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "which bucket does 6 land in?"));
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "maxgap", "--nums", "3 6 9 1", "--trace", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "6 lands in bucket 2"));
}

/* Bad input: exit 2, one line on stderr naming the problem, nothing on stdout. */
static void expect_bad(const char *needle, const char *a1, const char *a2, const char *a3)
{
    th_refused(th_cli(&out, &err, "run", "maxgap", a1, a2, a3, NULL), &out, &err, needle);
}

static void test_cli_bad_input(void)
{
    expect_bad("missing --nums", NULL, NULL, NULL);
    expect_bad("missing --nums", "--json", NULL, NULL);
    expect_bad("'x' is not an integer", "--nums", "3 x 9", NULL);
    expect_bad("'2.5' is not an integer", "--nums", "3 2.5", NULL);
    expect_bad("outside", "--nums", "1 2147483648", NULL);
    expect_bad("outside", "--nums", "-2147483649", NULL);
    expect_bad("unknown option '--num'", "--num", "3", NULL);
    expect_bad("needs a value", "--nums", NULL, NULL);
}

/* Ten million and one numbers are refused before the buckets exist. */
static void test_cli_too_many(void)
{
    size_t n = 10000001;
    char *s = mem_alloc(2 * n + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = '1';
        s[2 * i + 1] = ' ';
    }
    s[2 * n] = '\0';
    expect_bad("more than 10000000 numbers", "--nums", s, NULL);
    mem_free(s);
}

static void test_help_and_random_input(void)
{
    CU_ASSERT_EQUAL(th_cli(&out, &err, "help", "maxgap", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "--nums LIST"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "INT_MIN"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "tutor run maxgap --nums \"3 6 9 1\""));
    const topic *t = topic_find("maxgap");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t->random_input);
    CU_ASSERT_STRING_EQUAL(t->notes, "maxgap.md");
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
        CU_ASSERT_EQUAL_FATAL(nw, 2);
        int *v;
        size_t n;
        CU_ASSERT_EQUAL_FATAL(parse_ints(w[1], "--nums", 100, &v, &n, msg, sizeof msg), 0);
        CU_ASSERT_TRUE(n >= 2);
        int64_t want;
        CU_ASSERT_EQUAL(maxgap_sorted(&want, v, n), 0);
        CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "maxgap", w[0], w[1], "--json", NULL), 0);
        char expect[80];
        snprintf(expect, sizeof expect, "{\"topic\": \"maxgap\", \"result\": %lld}\n",
                 (long long)want);
        CU_ASSERT_STRING_EQUAL(strbuf_str(&out), expect);
        mem_free(v);
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
        {"classic examples (LeetCode 164)", test_classic},
        {"INT_MIN and INT_MAX in one input", test_int_extremes},
        {"2000 seeded random inputs: buckets == sorted", test_random_against_sorted},
        {"bucket index by multiplication == division", test_index_by_multiplication},
        {"the untraced path allocates once", test_allocates_once},
        {"trace: every number lands once, in its bucket", test_trace},
        {"runner: every step's line is in the listing", test_runner_listing},
        {"trace cap: truncated, answer still right", test_trace_truncated},
        {"allocation failures: ENOMEM, no leak", test_alloc_failures},
        {NULL, NULL},
    };
    static const th_test cli[] = {
        {"answers: text, json, trace", test_cli_answers},
        {"bad input: exit 2, one line", test_cli_bad_input},
        {"more than 10^7 numbers refused", test_cli_too_many},
        {"help text and seeded random inputs", test_help_and_random_input},
        {NULL, NULL},
    };
    th_suite("maxgap", algo);
    th_suite("maxgap cli", cli);
    CU_pSuite s = CU_add_suite("cleanup", NULL, cleanup);
    (void)s;
}
