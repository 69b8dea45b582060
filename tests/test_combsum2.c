/* Tests of combsum2 (LeetCode 40). The helpers shared with combsum (references as sorted
 * rows, result checks, the trace replay, caps, allocation sweep, CLI helpers) come from
 * tests/test_combsum.c, included with its combsum-only part left out. */
#define COMBSUM_SHARED_ONLY
#include "test_combsum.c"

/* Reference: every subset of the n elements by bitmask (2^n of them), each sorted into a
 * row when it sums to target; sorting the rows and dropping repeats gives the answer set.
 * Brute force with no pruning and no duplicate skipping. */
static void ref_combsum2(const int *c, size_t n, int target, rows *out_rows)
{
    CU_ASSERT_FATAL(n <= 20);
    for (unsigned long mask = 0; mask < (1ul << n); mask++) {
        int v[ROW_MAX], len = 0;
        long long sum = 0;
        for (size_t j = 0; j < n; j++)
            if (mask >> j & 1) {
                v[len++] = c[j];
                sum += c[j];
            }
        if (sum == target) {
            qsort(v, (size_t)len, sizeof *v, int_cmp);
            rows_push(out_rows, v, len);
        }
    }
    rows_sort_unique(out_rows);
}

/* Reference count by dynamic programming over distinct values with bounded multiplicity:
 * ways'[t] = sum over m = 0..count(v) of ways[t - m v] (multisets, each value at most as
 * often as it occurs). */
static unsigned long long count_combsum2(const int *c, size_t n, int target)
{
    int *s = malloc((n ? n : 1) * sizeof *s);
    memcpy(s, c, n * sizeof *c);
    qsort(s, n, sizeof *s, int_cmp);
    unsigned long long *ways = calloc((size_t)target + 1, sizeof *ways);
    unsigned long long *next = calloc((size_t)target + 1, sizeof *next);
    ways[0] = 1;
    for (size_t j = 0; j < n;) {
        size_t e = j;
        while (e < n && s[e] == s[j])
            e++;
        for (int t = 0; t <= target; t++) {
            next[t] = 0;
            for (size_t m = 0; m <= e - j && (long long)m * s[j] <= t; m++)
                next[t] += ways[t - (int)m * s[j]];
        }
        memcpy(ways, next, ((size_t)target + 1) * sizeof *ways);
        j = e;
    }
    unsigned long long r = ways[target];
    free(ways);
    free(next);
    free(s);
    return r;
}

static void test_leetcode40(void)
{
    int c1[] = {10, 1, 2, 7, 6, 1, 5};
    int a1[] = {1, 1, 6, 1, 2, 5, 1, 7, 2, 6}, l1[] = {3, 3, 2, 2};
    expect_rows(2, c1, 7, 8, a1, l1, 4);
    int c2[] = {2, 5, 2, 1, 2};
    int a2[] = {1, 2, 2, 5}, l2[] = {3, 1};
    expect_rows(2, c2, 5, 5, a2, l2, 2);
    /* Each element once: [2] cannot reach 4, [2, 2] can, exactly once. */
    int c3[] = {2};
    expect_rows(2, c3, 1, 4, NULL, NULL, 0);
    int c4[] = {2, 2, 2};
    int a4[] = {2, 2}, l4[] = {2};
    expect_rows(2, c4, 3, 4, a4, l4, 1);
}

static void test_random_vs_subsets(void)
{
    rng r;
    rng_seed(&r, 40);
    for (int iter = 0; iter < 400; iter++) {
        size_t n = (size_t)rng_range(&r, 0, 14);
        int c[14];
        int hi = (int)rng_range(&r, 1, 12); /* small ranges make many repeats */
        random_candidates(&r, c, n, 1, hi, 0);
        int target = (int)rng_range(&r, 1, 30);
        check_vs_reference(2, ref_combsum2, count_combsum2, c, n, target);
    }
}

static void test_counts_vs_dp(void)
{
    CU_ASSERT_TRUE(check_counts(2, count_combsum2, 4040, 10, 40, 1, 20, 10, 60) >= 30);
}

static void test_library_errors(void)
{
    check_library_errors(2);
}

static void test_trace(void)
{
    int c[] = {10, 1, 2, 7, 6, 1, 5};
    size_t steps = check_trace(2, c, 7, 8, NULL);
    CU_ASSERT_TRUE(steps > 10);
    /* The example has equal 1s: at least one duplicate skip is recorded. */
    trace *tr = trace_new(0);
    combsum_result res;
    trace_set_listing(tr, combsum2_listing, combsum2_listing_len);
    CU_ASSERT_EQUAL(combsum2(&res, c, 7, 8, NULL, tr), 0);
    int skips = 0;
    for (size_t i = 0; i < trace_len(tr); i++)
        skips += trace_at(tr, i)->quiz_answer == 2 && trace_at(tr, i)->quiz != NULL;
    CU_ASSERT_TRUE(skips >= 1);
    combsum_result_free(&res);
    trace_free(tr);

    check_random_traces(2, 8, 40, 8, 5, 14);
}

static void test_caps(void)
{
    int c[] = {1, 2, 1, 3, 2, 4, 1, 5};
    check_caps(2, c, 8, 7);
    check_deep(2);
}

static void test_alloc_failures(void)
{
    int c[] = {10, 1, 2, 7, 6, 1, 5};
    check_alloc_sweep(2, c, 7, 8, 4);
}

static void test_cli(void)
{
    const char *a[] = {"combsum2", "--candidates", "10 1 2 7 6 1 5", "--target", "8", "--json",
                       NULL};
    CU_ASSERT_EQUAL(cli(a), 0);
    CU_ASSERT_STRING_EQUAL(strbuf_str(&out),
                           "{\"topic\": \"combsum2\", \"result\": [[1, 1, 6], [1, 2, "
                           "5], [1, 7], [2, 6]]}\n");
    CU_ASSERT_EQUAL(err.len, 0);
    const char *b[] = {"combsum2", "--candidates", "2,5,2,1,2", "--target", "5", "--json", NULL};
    CU_ASSERT_EQUAL(cli(b), 0);
    CU_ASSERT_STRING_EQUAL(strbuf_str(&out),
                           "{\"topic\": \"combsum2\", \"result\": [[1, 2, 2], [5]]}\n");
    const char *text[] = {"combsum2", "--candidates", "2 5 2 1 2", "--target", "5", NULL};
    CU_ASSERT_EQUAL(cli(text), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "  [1, 2, 2]\n  [5]\n"));
    check_cli_common("combsum2", "2 5 2 1 2", "5", "\"role\": \"skipped\"",
                     "1 2 3 4 5 6 7 8 9 10 11 12", "30");
}

void tests_register(void)
{
    static const th_test tests[] = {
        {"LeetCode 40 examples", test_leetcode40},
        {"random inputs vs all subsets", test_random_vs_subsets},
        {"answer counts vs bounded DP", test_counts_vs_dp},
        {"library input errors", test_library_errors},
        {"trace replays the recursion", test_trace},
        {"result and call caps, deep search", test_caps},
        {"allocation failures", test_alloc_failures},
        {"command line", test_cli},
        {NULL, NULL},
    };
    th_suite("combsum2", tests);
}
