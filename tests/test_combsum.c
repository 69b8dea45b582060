/* Tests of combsum (LeetCode 39). The first part (up to COMBSUM_SHARED_ONLY) is shared with
 * tests/test_combsum2.c, which includes this file with that macro defined: references
 * stored as sorted rows, result checks, the trace replay, the caps, the allocation sweep and
 * CLI helpers, each taking the variant (1 combsum, 2 combsum2). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../algorithms/combsum.h"
#include "../trace/mem.h"
#include "../trace/rng.h"
#include "../trace/status.h"
#include "../trace/trace.h"
#include "../tutor/core/parse.h"
#include "../tutor/topics/topic.h"
#include "harness.h"

/* ---- shared part ---------------------------------------------------------------------- */

/* Reference answers: fixed-width rows (random inputs keep combinations short). */
#define ROW_MAX 64

typedef struct row {
    int len;
    int v[ROW_MAX];
} row;

typedef struct rows {
    row *r;
    size_t n, cap;
} rows;

static strbuf out = STRBUF_INIT, err = STRBUF_INIT;

static void rows_push(rows *rs, const int *v, int len)
{
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 64;
        rs->r = realloc(rs->r, rs->cap * sizeof *rs->r);
        if (!rs->r) {
            fprintf(stderr, "test: out of memory\n");
            exit(2);
        }
    }
    CU_ASSERT_FATAL(len <= ROW_MAX);
    rs->r[rs->n].len = len;
    memcpy(rs->r[rs->n].v, v, (size_t)len * sizeof *v);
    rs->n++;
}

static int row_cmp(const void *a, const void *b)
{
    const row *x = a, *y = b;
    for (int k = 0; k < x->len && k < y->len; k++)
        if (x->v[k] != y->v[k])
            return x->v[k] < y->v[k] ? -1 : 1;
    return (x->len > y->len) - (x->len < y->len);
}

static int int_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Sorts the rows lexicographically and drops repeats. */
static void rows_sort_unique(rows *rs)
{
    if (!rs->n)
        return;
    qsort(rs->r, rs->n, sizeof *rs->r, row_cmp);
    size_t w = 1;
    for (size_t k = 1; k < rs->n; k++)
        if (row_cmp(&rs->r[k], &rs->r[w - 1]) != 0)
            rs->r[w++] = rs->r[k];
    rs->n = w;
}

static void rows_free(rows *rs)
{
    free(rs->r);
    memset(rs, 0, sizeof *rs);
}

static int solve_v(int variant, combsum_result *res, const int *c, size_t n, int target,
                   const combsum_limits *lim, trace *tr)
{
    return variant == 1 ? combsum(res, c, n, target, lim, tr)
                        : combsum2(res, c, n, target, lim, tr);
}

/* 1 when combination k of res equals row r. */
static int same_row(const combsum_result *res, size_t k, const row *r)
{
    if (combsum_len(res, k) != (size_t)r->len)
        return 0;
    return r->len == 0 || memcmp(combsum_at(res, k), r->v, (size_t)r->len * sizeof(int)) == 0;
}

/* Checks what every answer list must satisfy, whatever the reference: each combination is
 * non-decreasing and sums to target; the list is strictly increasing in lexicographic
 * order (so no duplicates); each uses only the candidates (at most their multiplicity for
 * combsum2). */
static void check_shape(int variant, const combsum_result *res, const int *c, size_t n, int target)
{
    for (size_t k = 0; k < res->count; k++) {
        const int *v = combsum_at(res, k);
        size_t len = combsum_len(res, k);
        long long sum = 0;
        for (size_t j = 0; j < len; j++) {
            sum += v[j];
            if (j && v[j] < v[j - 1])
                CU_FAIL("a combination is not non-decreasing");
            size_t avail = 0, used = 0;
            for (size_t m = 0; m < n; m++)
                avail += c[m] == v[j];
            for (size_t m = 0; m < len; m++)
                used += v[m] == v[j];
            if (avail == 0 || (variant == 2 && used > avail))
                CU_FAIL("a combination uses a value more often than the candidates allow");
        }
        CU_ASSERT_EQUAL(sum, target);
        if (k) {
            /* Strictly increasing: compare with the previous combination. */
            const int *p = combsum_at(res, k - 1);
            size_t plen = combsum_len(res, k - 1), j = 0;
            while (j < plen && j < len && p[j] == v[j])
                j++;
            int less = j < plen && j < len ? p[j] < v[j] : plen < len;
            if (!less)
                CU_FAIL("combinations are not in strictly increasing lexicographic order");
        }
    }
}

/* Runs the variant on (c, n, target) and checks it against the reference rows ref, which
 * must be sorted and unique. */
static void check_against(int variant, const int *c, size_t n, int target, const rows *ref)
{
    combsum_result res;
    int rc = solve_v(variant, &res, c, n, target, NULL, NULL);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(res.count, ref->n);
    if (rc == 0 && res.count == ref->n) {
        size_t bad = 0;
        for (size_t k = 0; k < ref->n; k++)
            bad += !same_row(&res, k, &ref->r[k]);
        CU_ASSERT_EQUAL(bad, 0);
    }
    check_shape(variant, &res, c, n, target);
    combsum_result_free(&res);
}

/* The listing line whose text contains key (1-based), or 0. */
static int line_of(const char *const *listing, size_t len, const char *key)
{
    for (size_t k = 0; k < len; k++)
        if (strstr(listing[k], key))
            return (int)k + 1;
    return 0;
}

static int64_t latest(const trace *tr, size_t i, const char *name)
{
    const trace_snap *s = trace_latest(tr, i, name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_FATAL(s->kind == TRACE_SCALAR);
    return s->ints[0];
}

static int has_mark(const trace_frame *st, const char *target, long index, trace_role role)
{
    for (size_t k = 0; k < st->nmarks; k++)
        if (strcmp(st->marks[k].target, target) == 0 && st->marks[k].row == index &&
            st->marks[k].role == role)
            return 1;
    return 0;
}

/* Replays a recorded run and checks it step by step against the recursion it describes:
 * every line exists in the listing; calls are numbered 0, 1, 2... with parent the call
 * that chose; the path grows by the chosen candidate and shrinks at each undo; a pruned
 * candidate exceeds the remaining target and a chosen one does not; a skipped one equals
 * its left neighbour; each find shows the next answer of the untraced run; the quizzes'
 * answers match what happened. Returns the number of steps. */
static size_t check_trace(int variant, const int *c, size_t n, int target,
                          const combsum_limits *lim)
{
    const char *const *listing = variant == 1 ? combsum_listing : combsum2_listing;
    size_t listing_len = variant == 1 ? combsum_listing_len : combsum2_listing_len;
    int l_call = line_of(listing, listing_len, "solve(start, remaining):");
    int l_found = line_of(listing, listing_len, "output");
    int l_skip = variant == 2 ? line_of(listing, listing_len, "continue") : -1;
    int l_prune = line_of(listing, listing_len, "break");
    int l_push = line_of(listing, listing_len, "path.push");
    int l_pop = line_of(listing, listing_len, "path.pop");
    CU_ASSERT_FATAL(l_call && l_found && l_skip && l_prune && l_push && l_pop);

    combsum_result plain, traced;
    int rc_plain = solve_v(variant, &plain, c, n, target, lim, NULL);
    trace *tr = trace_new(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tr);
    trace_set_listing(tr, listing, listing_len);
    int rc = solve_v(variant, &traced, c, n, target, lim, tr);
    CU_ASSERT_EQUAL(rc, rc_plain);
    CU_ASSERT_EQUAL(traced.count, plain.count);
    CU_ASSERT_EQUAL(traced.calls, plain.calls);
    CU_ASSERT_FALSE(trace_truncated(tr));

    int *sorted = malloc((n ? n : 1) * sizeof *sorted);
    memcpy(sorted, c, n * sizeof *c);
    qsort(sorted, n, sizeof *sorted, int_cmp);
    int64_t calls[ROW_MAX + 1]; /* the call ids along the current path */
    int path[ROW_MAX];
    size_t depth = 0, found = 0;
    int64_t next_call = 0;
    size_t len = trace_len(tr);
    int bad = 0;
    for (size_t i = 0; i < len && !bad; i++) {
        const trace_frame *st = trace_at(tr, i);
        if (st->line < 1 || (size_t)st->line > listing_len)
            bad = 1;
        if (i == 0) {
            const trace_snap *cs = trace_find(st, "candidates");
            CU_ASSERT_PTR_NOT_NULL_FATAL(cs);
            CU_ASSERT_EQUAL(cs->cols, n);
            for (size_t k = 0; k < n; k++)
                bad |= cs->ints[k] != sorted[k];
        } else if (st->line == l_call) {
            CU_ASSERT_EQUAL(latest(tr, i, "call"), next_call);
            if (next_call == 0)
                CU_ASSERT_EQUAL(latest(tr, i, "parent"), -1);
            if (next_call > 0)
                CU_ASSERT_EQUAL(latest(tr, i, "parent"), calls[depth - 1]);
            CU_ASSERT_EQUAL(latest(tr, i, "depth"), (int64_t)depth);
            int64_t sum = 0;
            for (size_t k = 0; k < depth; k++)
                sum += path[k];
            CU_ASSERT_EQUAL(latest(tr, i, "remaining"), target - sum);
            CU_ASSERT_FATAL(depth <= ROW_MAX);
            calls[depth] = next_call++;
        } else if (st->line == l_push || st->line == l_prune || st->line == l_skip) {
            int64_t k = latest(tr, i, "i"), remaining = latest(tr, i, "remaining");
            CU_ASSERT_FATAL(k >= 0 && (size_t)k < n);
            int what = st->line == l_push ? 0 : st->line == l_prune ? 1 : 2;
            CU_ASSERT_PTR_NOT_NULL(st->quiz);
            CU_ASSERT_EQUAL(st->quiz_answer, variant == 1 ? what == 1 : what);
            if (what == 0) {
                CU_ASSERT_TRUE(sorted[k] <= remaining);
                CU_ASSERT_TRUE(has_mark(st, "candidates", (long)k, TRACE_CHOSEN));
                CU_ASSERT_FATAL(depth < ROW_MAX);
                path[depth++] = sorted[k];
                const trace_snap *ps = trace_find(st, "path");
                CU_ASSERT_PTR_NOT_NULL_FATAL(ps);
                CU_ASSERT_EQUAL_FATAL(ps->cols, depth);
                for (size_t m = 0; m < depth; m++)
                    bad |= ps->ints[m] != path[m];
            } else if (what == 1) {
                CU_ASSERT_TRUE(sorted[k] > remaining);
                /* The break: a prune ends its call, so an undo or the final step follows. */
                if (i + 1 < len) {
                    int nl = trace_at(tr, i + 1)->line;
                    CU_ASSERT_TRUE(nl == l_pop || i + 2 == len);
                }
                CU_ASSERT_TRUE(has_mark(st, "candidates", (long)k, TRACE_PRUNED));
            } else {
                CU_ASSERT_TRUE(k > 0 && sorted[k] == sorted[k - 1]);
                CU_ASSERT_TRUE(has_mark(st, "candidates", (long)k, TRACE_SKIPPED));
            }
        } else if (st->line == l_pop) {
            CU_ASSERT_FATAL(depth > 0);
            depth--;
            const trace_snap *ps = trace_find(st, "path");
            CU_ASSERT_PTR_NOT_NULL_FATAL(ps);
            CU_ASSERT_EQUAL(ps->cols, depth);
            CU_ASSERT_EQUAL(latest(tr, i, "call"), calls[depth]);
        } else if (st->line == l_found) {
            CU_ASSERT_FATAL(found < plain.count);
            CU_ASSERT_EQUAL(st->quiz_answer, (int64_t)found + 1);
            CU_ASSERT_EQUAL(latest(tr, i, "found"), (int64_t)found + 1);
            const trace_snap *ps = trace_latest(tr, i, "path");
            CU_ASSERT_EQUAL_FATAL(ps->cols, combsum_len(&plain, found));
            for (size_t m = 0; m < ps->cols; m++)
                bad |= ps->ints[m] != combsum_at(&plain, found)[m];
            found++;
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(found, plain.count);
    CU_ASSERT_EQUAL((uint64_t)next_call, plain.calls);
    if (rc == 0)
        CU_ASSERT_EQUAL(depth, 0); /* every choice was undone */
    free(sorted);
    trace_free(tr);
    combsum_result_free(&plain);
    combsum_result_free(&traced);
    return len;
}

/* Caps: exactly enough is not a hit; one less stops with the first answers in order. */
static void check_caps(int variant, const int *c, size_t n, int target)
{
    combsum_result full, part;
    CU_ASSERT_EQUAL_FATAL(solve_v(variant, &full, c, n, target, NULL, NULL), 0);
    CU_ASSERT_FATAL(full.count >= 2);
    combsum_limits lim = {full.count, full.calls};
    CU_ASSERT_EQUAL(solve_v(variant, &part, c, n, target, &lim, NULL), 0);
    CU_ASSERT_EQUAL(part.count, full.count);
    CU_ASSERT_EQUAL(part.cap, COMBSUM_CAP_NONE);
    combsum_result_free(&part);

    for (size_t keep = 1; keep < full.count; keep++) {
        lim = (combsum_limits){keep, 0};
        CU_ASSERT_EQUAL(solve_v(variant, &part, c, n, target, &lim, NULL), TUTOR_ELIMIT);
        CU_ASSERT_EQUAL(part.cap, COMBSUM_CAP_RESULTS);
        CU_ASSERT_EQUAL(part.count, keep);
        for (size_t k = 0; k < part.count; k++) {
            CU_ASSERT_EQUAL(combsum_len(&part, k), combsum_len(&full, k));
            CU_ASSERT_EQUAL(memcmp(combsum_at(&part, k), combsum_at(&full, k),
                                   combsum_len(&full, k) * sizeof(int)),
                            0);
        }
        combsum_result_free(&part);
    }
    for (uint64_t calls = 1; calls < full.calls; calls += 1 + full.calls / 17) {
        lim = (combsum_limits){0, calls};
        CU_ASSERT_EQUAL(solve_v(variant, &part, c, n, target, &lim, NULL), TUTOR_ELIMIT);
        CU_ASSERT_EQUAL(part.cap, COMBSUM_CAP_CALLS);
        CU_ASSERT_EQUAL(part.calls, calls);
        CU_ASSERT_TRUE(part.count <= full.count);
        for (size_t k = 0; k < part.count; k++)
            CU_ASSERT_EQUAL(memcmp(combsum_at(&part, k), combsum_at(&full, k),
                                   combsum_len(&full, k) * sizeof(int)),
                            0);
        /* The traced run stops at the same place. */
        check_trace(variant, c, n, target, &lim);
        combsum_result_free(&part);
    }
    combsum_result_free(&full);
}

/* The allocation sweep, traced and untraced, and through the topic's runner. */
typedef struct sweep_ctx {
    int variant;
    int traced;
    const int *c;
    size_t n;
    int target;
    size_t expect;
} sweep_ctx;

static int sweep_body(void *p)
{
    const sweep_ctx *x = p;
    trace *tr = NULL;
    if (x->traced && !(tr = trace_new(0)))
        return TUTOR_ENOMEM;
    combsum_result res;
    int rc = solve_v(x->variant, &res, x->c, x->n, x->target, NULL, tr);
    if (rc == 0 && res.count != x->expect)
        CU_FAIL("a run that succeeded gave the wrong number of answers");
    if (rc != 0 && res.count != 0)
        CU_FAIL("a failed run left answers behind");
    /* A run that reports success must have recorded its whole trace. */
    if (rc == 0 && tr && (trace_status(tr) != 0 || trace_len(tr) < 10))
        CU_FAIL("a run reported success with a failed or short trace");
    combsum_result_free(&res);
    trace_free(tr);
    return rc;
}

static int sweep_topic_body(void *p)
{
    const sweep_ctx *x = p;
    const topic *t = topic_find(x->variant == 1 ? "combsum" : "combsum2");
    if (!t) {
        CU_FAIL("topic not registered");
        return 0;
    }
    topic_opt opts[2] = {{"candidates", x->variant == 1 ? "2 3 6 7" : "10 1 2 7 6 1 5"},
                         {"target", x->variant == 1 ? "7" : "8"}};
    topic_args args = {opts, 2, 1};
    trace *tr = NULL;
    if (x->traced && !(tr = trace_new(0)))
        return TUTOR_ENOMEM;
    topic_out res = {STRBUF_INIT, STRBUF_INIT, {0}};
    int rc = t->run(&args, tr, &res);
    topic_out_free(&res);
    trace_free(tr);
    return rc;
}

static void check_alloc_sweep(int variant, const int *c, size_t n, int target, size_t expect)
{
    for (int traced = 0; traced <= 1; traced++) {
        sweep_ctx x = {variant, traced, c, n, target, expect};
        int points = th_alloc_sweep(sweep_body, &x, 0);
        CU_ASSERT_TRUE(points >= (traced ? 10 : 3));
        points = th_alloc_sweep(sweep_topic_body, &x, 0);
        CU_ASSERT_TRUE(points >= 4);
    }
}

/* CLI: argv has up to 10 words after "run"; returns the exit status. */
static int cli(const char *const *argv)
{
    const char *a[11] = {0};
    for (int k = 0; k < 10 && argv[k]; k++)
        a[k] = argv[k];
    return th_cli(&out, &err, "run", a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9],
                  NULL);
}

/* Bad input: exit 2, exactly one line on stderr containing want, nothing on stdout. */
static void expect_bad(const char *const *argv, const char *want)
{
    th_refused(cli(argv), &out, &err, want);
}

/* The bad-input cases both variants share, for topic id. */
static void check_cli_bad(const char *id)
{
    const char *cases[][10] = {
        {id, "--candidates", "2 x 6", "--target", "7"},
        {id, "--candidates", "2 3 9999999999", "--target", "7"},
        {id, "--candidates", "2 0 3", "--target", "7"},
        {id, "--candidates", "2 -3", "--target", "7"},
        {id, "--target", "7"},
        {id, "--candidates", "2 3"},
        {id, "--candidates", "2 3", "--target", "7", "--bogus", "1"},
        {id, "--candidates", "2 3", "--target", "0"},
        {id, "--candidates", "2 3", "--target", "-4"},
        {id, "--candidates", "2 3", "--target", "seven"},
        {id, "--candidates", "2 3", "--target", "2147483648"},
        {id, "--candidates", "2 3", "--target", "7", "--max-results", "0"},
        {id, "--candidates", "2 3", "--target", "7", "--max-calls", "many"},
        {id, "--candidates", "2 3", "--target"},
    };
    const char *want[] = {
        "'x' is not an integer", "outside",  "0 is not positive", "-3 is not positive",
        "--candidates",          "--target", "--bogus",           "0 is not positive",
        "-4 is not positive",    "--target", "--target",          "--max-results",
        "--max-calls",           "--target",
    };
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++)
        expect_bad(cases[k], want[k]);
}

/* Caps through the CLI on (cands, target), which must have more than 5 answers: exit 2,
 * one line naming the cap and how to raise it; raising it far enough finishes. */
static void check_cli_caps(const char *id, const char *cands, const char *target)
{
    const char *r[] = {id, "--candidates", cands, "--target", target, "--max-results", "5", NULL};
    expect_bad(r, "--max-results");
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&err), "raise"));
    const char *c[] = {id, "--candidates", cands, "--target", target, "--max-calls", "10", NULL};
    expect_bad(c, "--max-calls");
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&err), "raise"));
    const char *ok[] = {id,         "--candidates", cands, "--target", target, "--max-calls",
                        "10000000", "--json",       NULL};
    CU_ASSERT_EQUAL(cli(ok), 0);
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
}

/* random_input is seeded: the same seed gives the same input, seeds differ, and every
 * generated input runs and gives valid JSON. */
static void check_random_inputs(const char *id)
{
    const topic *t = topic_find(id);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t->random_input);
    int differ = 0;
    for (uint64_t seed = 1; seed <= 30; seed++) {
        strbuf a = STRBUF_INIT, b = STRBUF_INIT, prev = STRBUF_INIT;
        CU_ASSERT_EQUAL(t->random_input(seed, &a), 0);
        CU_ASSERT_EQUAL(t->random_input(seed, &b), 0);
        CU_ASSERT_STRING_EQUAL(strbuf_str(&a), strbuf_str(&b));
        CU_ASSERT_EQUAL(t->random_input(seed + 1000, &prev), 0);
        differ += strcmp(strbuf_str(&a), strbuf_str(&prev)) != 0;
        char **words;
        int nwords;
        char msg[256];
        CU_ASSERT_EQUAL_FATAL(parse_words(strbuf_str(&a), &words, &nwords, msg, sizeof msg), 0);
        CU_ASSERT_EQUAL_FATAL(nwords, 4);
        const char *argv[] = {id, words[0], words[1], words[2], words[3], "--json", NULL};
        if (cli(argv) != 0)
            fprintf(stderr, "\n  %s %s failed: %s", id, strbuf_str(&a), strbuf_str(&err));
        CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
        parse_free_words(words);
        strbuf_free(&a);
        strbuf_free(&b);
        strbuf_free(&prev);
    }
    CU_ASSERT_TRUE(differ >= 25);
}

/* The CLI checks both topics share: --trace with and without --json (valid JSON, with a
 * mark of `role`), the bad inputs, the caps on (cap_cands, cap_target), random inputs. */
static void check_cli_common(const char *id, const char *cands, const char *target,
                             const char *role, const char *cap_cands, const char *cap_target)
{
    const char *js[] = {id, "--candidates", cands, "--target", target, "--json", "--trace", NULL};
    CU_ASSERT_EQUAL(cli(js), 0);
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"steps\": ["));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), role));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"role\": \"found\""));
    const char *tt[] = {id, "--candidates", cands, "--target", target, "--trace", NULL};
    CU_ASSERT_EQUAL(cli(tt), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "steps:"));
    check_cli_bad(id);
    check_cli_caps(id, cap_cands, cap_target);
    check_random_inputs(id);
}

/* A deep search on the explicit stack: [1] with target `depth` has one answer of that
 * length; with too few calls it stops at the cap instead. */
static void check_deep(int variant)
{
    enum { DEPTH = 200000 };
    int one = 1;
    combsum_result res;
    if (variant == 1) {
        combsum_limits lim = {0, DEPTH + 1};
        CU_ASSERT_EQUAL(combsum(&res, &one, 1, DEPTH, &lim, NULL), 0);
        CU_ASSERT_EQUAL_FATAL(res.count, 1);
        CU_ASSERT_EQUAL(combsum_len(&res, 0), DEPTH);
        CU_ASSERT_EQUAL(res.calls, DEPTH + 1);
        combsum_result_free(&res);
        lim.max_calls = DEPTH;
        CU_ASSERT_EQUAL(combsum(&res, &one, 1, DEPTH, &lim, NULL), TUTOR_ELIMIT);
        CU_ASSERT_EQUAL(res.cap, COMBSUM_CAP_CALLS);
        CU_ASSERT_EQUAL(res.count, 0);
        combsum_result_free(&res);
        /* The default call cap stops [1] with the largest target without a stack overflow. */
        CU_ASSERT_EQUAL(combsum(&res, &one, 1, INT_MAX, NULL, NULL), TUTOR_ELIMIT);
        CU_ASSERT_EQUAL(res.calls, COMBSUM_DEFAULT_MAX_CALLS);
        combsum_result_free(&res);
        /* With a huge call cap, the depth cap stops it before the stack takes gigabytes:
         * exactly COMBSUM_MAX_DEPTH levels deep; a combination that long is still found. */
        lim.max_calls = (uint64_t)1 << 40;
        CU_ASSERT_EQUAL(combsum(&res, &one, 1, INT_MAX, &lim, NULL), TUTOR_ELIMIT);
        CU_ASSERT_EQUAL(res.cap, COMBSUM_CAP_DEPTH);
        CU_ASSERT_EQUAL(res.calls, (uint64_t)COMBSUM_MAX_DEPTH + 1);
        CU_ASSERT_EQUAL(res.count, 0);
        combsum_result_free(&res);
        CU_ASSERT_EQUAL(combsum(&res, &one, 1, (int)COMBSUM_MAX_DEPTH, &lim, NULL), 0);
        CU_ASSERT_EQUAL_FATAL(res.count, 1);
        CU_ASSERT_EQUAL(combsum_len(&res, 0), COMBSUM_MAX_DEPTH);
        combsum_result_free(&res);
        const char *a[] = {"combsum",     "--candidates",  "1", "--target", "2000000000",
                           "--max-calls", "1000000000000", NULL};
        expect_bad(a, "depth cap");
    } else {
        /* N ones, target N: one answer, the whole list, because the duplicate skip leaves
         * one child per call (each call still scans its skipped ones: O(N^2) in all). */
        enum { N = 5000 };
        int *c = malloc(N * sizeof *c);
        for (int k = 0; k < N; k++)
            c[k] = 1;
        CU_ASSERT_EQUAL(combsum2(&res, c, N, N, NULL, NULL), 0);
        CU_ASSERT_EQUAL_FATAL(res.count, 1);
        CU_ASSERT_EQUAL(combsum_len(&res, 0), N);
        CU_ASSERT_EQUAL(res.calls, N + 1);
        combsum_result_free(&res);
        free(c);
    }
}

/* Input errors of the library itself (the CLI checks first, the library checks again). */
static void check_library_errors(int variant)
{
    combsum_result res;
    int c[] = {2, 3, 0}, neg[] = {4, -1}, ok[] = {2, 3};
    CU_ASSERT_EQUAL(solve_v(variant, &res, c, 3, 7, NULL, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(res.count, 0);
    CU_ASSERT_EQUAL(solve_v(variant, &res, neg, 2, 7, NULL, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(solve_v(variant, &res, ok, 2, 0, NULL, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(solve_v(variant, &res, ok, 2, -5, NULL, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(solve_v(variant, &res, NULL, 2, 5, NULL, NULL), TUTOR_EINVAL);
    /* No candidates: no combination, no error. */
    CU_ASSERT_EQUAL(solve_v(variant, &res, NULL, 0, 5, NULL, NULL), 0);
    CU_ASSERT_EQUAL(res.count, 0);
    combsum_result_free(&res);
    /* Nothing reaches the target: a valid empty answer. */
    int big[] = {8, 9};
    CU_ASSERT_EQUAL(solve_v(variant, &res, big, 2, 7, NULL, NULL), 0);
    CU_ASSERT_EQUAL(res.count, 0);
    combsum_result_free(&res);
    combsum_result_free(NULL);
}

/* Checks the variant against the answers given flat: combination k has lens[k] values. */
static void expect_rows(int variant, const int *c, size_t n, int target, const int *flat,
                        const int *lens, size_t count)
{
    rows ref = {0};
    for (size_t k = 0, at = 0; k < count; at += (size_t)lens[k], k++)
        rows_push(&ref, flat + at, lens[k]);
    check_against(variant, c, n, target, &ref);
    rows_free(&ref);
}

/* Fills c[0..n) with random values in [lo, hi], pairwise distinct when `distinct` (which
 * needs hi - lo + 1 >= n). */
static void random_candidates(rng *r, int *c, size_t n, int lo, int hi, int distinct)
{
    for (size_t k = 0; k < n;) {
        int v = (int)rng_range(r, lo, hi), dup = 0;
        for (size_t j = 0; distinct && j < k; j++)
            dup |= c[j] == v;
        if (!dup)
            c[k++] = v;
    }
}

/* Runs the variant (with room for many calls) and checks its number of answers against
 * want, a count obtained another way, and the shape of every answer. */
static void check_count(int variant, const int *c, size_t n, int target, unsigned long long want)
{
    combsum_limits lim = {0, 100000000};
    combsum_result res;
    CU_ASSERT_EQUAL(solve_v(variant, &res, c, n, target, &lim, NULL), 0);
    CU_ASSERT_EQUAL(res.count, want);
    check_shape(variant, &res, c, n, target);
    combsum_result_free(&res);
}

/* The trace replay on `iters` seeded random inputs of up to max_n values in [1, max_v]. */
static void check_random_traces(int variant, uint64_t seed, int iters, size_t max_n, int max_v,
                                int max_target)
{
    rng r;
    rng_seed(&r, seed);
    for (int iter = 0; iter < iters; iter++) {
        int c[16];
        size_t n = (size_t)rng_range(&r, 1, (int64_t)max_n);
        random_candidates(&r, c, n, 1, max_v, variant == 1);
        check_trace(variant, c, n, (int)rng_range(&r, 1, max_target), NULL);
    }
}

/* A reference enumeration (sorted, unique rows) and a reference count, per variant. */
typedef void ref_fn(const int *c, size_t n, int target, rows *out_rows);
typedef unsigned long long count_fn(const int *c, size_t n, int target);

/* The variant against both references on one input. */
static void check_vs_reference(int variant, ref_fn *ref, count_fn *count, const int *c, size_t n,
                               int target)
{
    rows want = {0};
    ref(c, n, target, &want);
    check_against(variant, c, n, target, &want);
    CU_ASSERT_EQUAL(want.n, count(c, n, target));
    rows_free(&want);
}

/* Larger seeded inputs (n in [n_lo, n_hi], values in [v_lo, v_hi], distinct for combsum,
 * target in [t_lo, t_hi]), where only counting is cheap: the number of answers against
 * count, whenever it is within the default result cap. Returns how many inputs qualified. */
static int check_counts(int variant, count_fn *count, uint64_t seed, int64_t n_lo, int64_t n_hi,
                        int v_lo, int v_hi, int t_lo, int t_hi)
{
    rng r;
    rng_seed(&r, seed);
    int checked = 0;
    for (int iter = 0; iter < 60; iter++) {
        int c[64];
        size_t n = (size_t)rng_range(&r, n_lo, n_hi);
        CU_ASSERT_FATAL(n <= 64);
        random_candidates(&r, c, n, v_lo, v_hi, variant == 1);
        int target = (int)rng_range(&r, t_lo, t_hi);
        unsigned long long want = count(c, n, target);
        if (want <= COMBSUM_DEFAULT_MAX_RESULTS) {
            check_count(variant, c, n, target, want);
            checked++;
        }
    }
    return checked;
}

#ifndef COMBSUM_SHARED_ONLY
/* ---- combsum only --------------------------------------------------------------------- */

/* Reference: an odometer over multiplicities. Digit j counts copies of the j-th smallest
 * candidate; the digits run through every vector whose weighted sum stays <= target (a
 * digit that overshoots resets and carries), and the vectors that hit the target exactly
 * are expanded into sorted rows. Nothing like the backtracking under test. */
static void ref_combsum(const int *c, size_t n, int target, rows *out_rows)
{
    int s[16], m[16] = {0};
    CU_ASSERT_FATAL(n <= 16);
    memcpy(s, c, n * sizeof *c);
    qsort(s, n, sizeof *s, int_cmp);
    long long sum = 0;
    for (;;) {
        if (sum == target) {
            int v[ROW_MAX], len = 0;
            for (size_t j = 0; j < n; j++)
                for (int k = 0; k < m[j]; k++)
                    v[len++] = s[j];
            rows_push(out_rows, v, len);
        }
        size_t j = 0;
        for (; j < n; j++) {
            m[j]++;
            sum += s[j];
            if (sum <= target)
                break;
            sum -= (long long)m[j] * s[j];
            m[j] = 0;
        }
        if (j == n)
            break;
    }
    rows_sort_unique(out_rows);
}

/* Reference count by dynamic programming (coin change: ways[t] over candidates in order,
 * counting multisets, not sequences). */
static unsigned long long count_combsum(const int *c, size_t n, int target)
{
    unsigned long long *ways = calloc((size_t)target + 1, sizeof *ways);
    ways[0] = 1;
    for (size_t j = 0; j < n; j++)
        for (int t = c[j]; t <= target; t++)
            ways[t] += ways[t - c[j]];
    unsigned long long r = ways[target];
    free(ways);
    return r;
}

static void test_leetcode39(void)
{
    int c1[] = {2, 3, 6, 7};
    int a1[] = {2, 2, 3, 7}, l1[] = {3, 1};
    expect_rows(1, c1, 4, 7, a1, l1, 2);
    int c2[] = {2, 3, 5};
    int a2[] = {2, 2, 2, 2, 2, 3, 3, 3, 5}, l2[] = {4, 3, 2};
    expect_rows(1, c2, 3, 8, a2, l2, 3);
    int c3[] = {2};
    expect_rows(1, c3, 1, 1, NULL, NULL, 0);
    int c4[] = {1};
    int a4[] = {1, 1}, l4[] = {2};
    expect_rows(1, c4, 1, 2, a4, l4, 1);
    /* Unsorted input gives the same sorted answers. */
    int c5[] = {7, 6, 3, 2};
    int a5[] = {2, 2, 3, 7}, l5[] = {3, 1};
    expect_rows(1, c5, 4, 7, a5, l5, 2);
}

static void test_random_vs_reference(void)
{
    rng r;
    rng_seed(&r, 39);
    for (int iter = 0; iter < 400; iter++) {
        size_t n = (size_t)rng_range(&r, 0, 7);
        int c[16];
        random_candidates(&r, c, n, 1, 15, 1);
        int target = (int)rng_range(&r, 1, 28);
        check_vs_reference(1, ref_combsum, count_combsum, c, n, target);
    }
}

/* Larger inputs: the count against the DP, the shape checks on every answer. */
static void test_counts_vs_dp(void)
{
    CU_ASSERT_TRUE(check_counts(1, count_combsum, 3939, 1, 10, 2, 30, 20, 70) >= 30);
}

static void test_duplicates_refused(void)
{
    int c[] = {2, 3, 2};
    combsum_result res;
    CU_ASSERT_EQUAL(combsum(&res, c, 3, 7, NULL, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(res.count, 0);
    const char *argv[] = {"combsum", "--candidates", "2 3 2", "--target", "7", NULL};
    expect_bad(argv, "2 is given twice");
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&err), "combsum2"));
    CU_ASSERT_EQUAL(th_cli(&out, &err, "help", "combsum", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "distinct"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "--max-calls"));
}

static void test_library_errors(void)
{
    check_library_errors(1);
}

static void test_trace(void)
{
    int c[] = {2, 3, 6, 7};
    size_t steps = check_trace(1, c, 4, 7, NULL);
    CU_ASSERT_TRUE(steps > 10);
    /* The pruning decision of the classic picture: after path [3] the remaining is 4, and
     * candidate 6 is pruned there. */
    trace *tr = trace_new(0);
    combsum_result res;
    trace_set_listing(tr, combsum_listing, combsum_listing_len);
    CU_ASSERT_EQUAL(combsum(&res, c, 4, 7, NULL, tr), 0);
    int seen = 0;
    for (size_t i = 0; i < trace_len(tr); i++) {
        const trace_frame *st = trace_at(tr, i);
        if (st->quiz &&
            strcmp(st->quiz, "Is candidate 6 pruned with remaining 4? 1 yes / 0 no") == 0) {
            CU_ASSERT_EQUAL(st->quiz_answer, 1);
            seen = 1;
        }
    }
    CU_ASSERT_TRUE(seen);
    strbuf js = STRBUF_INIT;
    CU_ASSERT_EQUAL(trace_json(tr, &js), 0);
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&js)));
    strbuf_free(&js);
    combsum_result_free(&res);
    trace_free(tr);

    check_random_traces(1, 7, 40, 5, 9, 16);
}

/* Few calls can find many long answers ([1, 2] with a large target): the values cap stops
 * the search before their memory does, and the CLI names it. */
static void check_values_cap(void)
{
    int c[] = {1, 2};
    combsum_result res;
    CU_ASSERT_EQUAL(combsum(&res, c, 2, 100000, NULL, NULL), TUTOR_ELIMIT);
    CU_ASSERT_EQUAL(res.cap, COMBSUM_CAP_VALUES);
    CU_ASSERT_TRUE(res.count > 0 && res.offsets[res.count] <= COMBSUM_MAX_VALUES);
    combsum_result_free(&res);
    const char *a[] = {"combsum", "--candidates", "2 3 6 7", "--target", "1000000", NULL};
    expect_bad(a, "output cap");
    /* A million calls with a trace: once the trace is full, the search runs at full speed
     * (formatting every step anyway took minutes under the sanitizers). */
    trace *tr = trace_new(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tr);
    CU_ASSERT_EQUAL(combsum(&res, c, 2, 10000000, NULL, tr), TUTOR_ELIMIT);
    CU_ASSERT_EQUAL(res.cap, COMBSUM_CAP_CALLS);
    CU_ASSERT_TRUE(trace_truncated(tr));
    combsum_result_free(&res);
    trace_free(tr);
}

static void test_caps(void)
{
    int c[] = {3, 1, 2};
    check_caps(1, c, 3, 9);
    check_deep(1);
    check_values_cap();
}

static void test_alloc_failures(void)
{
    int c[] = {2, 3, 6, 7};
    check_alloc_sweep(1, c, 4, 7, 2);
}

static void test_cli(void)
{
    const char *a[] = {"combsum", "--candidates", "2 3 6 7", "--target", "7", "--json", NULL};
    CU_ASSERT_EQUAL(cli(a), 0);
    CU_ASSERT_STRING_EQUAL(strbuf_str(&out),
                           "{\"topic\": \"combsum\", \"result\": [[2, 2, 3], [7]]}\n");
    CU_ASSERT_EQUAL(err.len, 0);
    const char *b[] = {"combsum", "--candidates=2,3,5", "--target", "8", "--json", NULL};
    CU_ASSERT_EQUAL(cli(b), 0);
    CU_ASSERT_STRING_EQUAL(
        strbuf_str(&out),
        "{\"topic\": \"combsum\", \"result\": [[2, 2, 2, 2], [2, 3, 3], [3, 5]]}\n");
    const char *none[] = {"combsum", "--candidates", "4 6", "--target", "7", "--json", NULL};
    CU_ASSERT_EQUAL(cli(none), 0);
    CU_ASSERT_STRING_EQUAL(strbuf_str(&out), "{\"topic\": \"combsum\", \"result\": []}\n");
    const char *text[] = {"combsum", "--candidates", "2 3 6 7", "--target", "7", NULL};
    CU_ASSERT_EQUAL(cli(text), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "2 combinations"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "  [2, 2, 3]\n  [7]\n"));
    check_cli_common("combsum", "2 3 6 7", "7", "\"role\": \"pruned\"", "1 2 3", "20");
}

void tests_register(void)
{
    static const th_test tests[] = {
        {"LeetCode 39 examples", test_leetcode39},
        {"random inputs vs multiplicity odometer", test_random_vs_reference},
        {"answer counts vs coin-change DP", test_counts_vs_dp},
        {"duplicate candidates refused", test_duplicates_refused},
        {"library input errors", test_library_errors},
        {"trace replays the recursion", test_trace},
        {"result, call and value caps, deep search", test_caps},
        {"allocation failures", test_alloc_failures},
        {"command line", test_cli},
        {NULL, NULL},
    };
    th_suite("combsum", tests);
}
#endif
