/* combsum_common.h: the checks the combsum and combsum2 exercise suites share. Included by
 * exactly one suite per binary; FN and REF name the function under test and its reference,
 * LISTING its pseudo-code listing. */
#ifndef TUTOR_EX_COMBSUM_COMMON_H
#define TUTOR_EX_COMBSUM_COMMON_H

#include "../../algorithms/combsum.h"
#include "../../trace/rng.h"
#include "../../trace/status.h"
#include "ex.h"

static void fmt_result(strbuf *sb, const combsum_result *res)
{
    strbuf_putc(sb, '[');
    for (size_t k = 0; k < res->count && k < 12; k++) {
        if (k)
            strbuf_putc(sb, ' ');
        ex_fmt_ints(sb, combsum_at(res, k), combsum_len(res, k));
    }
    strbuf_puts(sb, res->count > 12 ? " ...]" : "]");
}

static void describe(const int *cand, size_t n, int target, size_t max_results)
{
    strbuf sb = STRBUF_INIT;
    ex_fmt_ints(&sb, cand, n);
    if (max_results)
        ex_input("candidates = %s, target = %d, max_results = %zu", strbuf_str(&sb), target,
                 max_results);
    else
        ex_input("candidates = %s, target = %d", strbuf_str(&sb), target);
    strbuf_free(&sb);
}

static int same_results(const combsum_result *want, const combsum_result *got)
{
    int same = want->count == got->count;
    for (size_t k = 0; same && k < want->count; k++) {
        size_t len = combsum_len(want, k);
        same = len == combsum_len(got, k);
        for (size_t i = 0; same && i < len; i++)
            same = combsum_at(want, k)[i] == combsum_at(got, k)[i];
    }
    if (same)
        return 1;
    strbuf e = STRBUF_INIT, a = STRBUF_INIT;
    fmt_result(&e, want);
    fmt_result(&a, got);
    ex_fail("the combinations (%zu expected, %zu found):\n  expected: %s\n  actual:   %s",
            want->count, got->count, strbuf_str(&e), strbuf_str(&a));
    strbuf_free(&e);
    strbuf_free(&a);
    return 0;
}

/* Runs both; checks status, combinations and the cap (and res->calls when check_calls). */
static int same_with(const int *cand, size_t n, int target, size_t max_results, uint64_t max_calls,
                     int check_calls)
{
    combsum_limits lim = {max_results, max_calls};
    combsum_result want = {0}, got = {0};
    describe(cand, n, target, max_results);
    int rc_want = REF(&want, cand, n, target, &lim, NULL);
    int rc = FN(&got, cand, n, target, &lim, NULL);
    int ok = ex_status("return value", rc_want, rc);
    if (ok && (rc == 0 || rc == TUTOR_ELIMIT))
        ok = same_results(&want, &got) && ex_i64("res->cap", want.cap, got.cap) &&
             (!check_calls || ex_i64("res->calls", (int64_t)want.calls, (int64_t)got.calls));
    combsum_result_free(&want);
    combsum_result_free(&got);
    return ok;
}

static int same(const int *cand, size_t n, int target, size_t max_results)
{
    return same_with(cand, n, target, max_results, 0, 0);
}

/* res->calls, then the calls cap, on the first classic example. */
static void calls(void)
{
    if (same_with(CLASSIC, CLASSIC_N, CLASSIC_TARGET, 0, 0, 1) &&
        same_with(CLASSIC, CLASSIC_N, CLASSIC_TARGET, 0, 4, 1))
        same_with(CLASSIC, CLASSIC_N, CLASSIC_TARGET, 0, 1, 1);
}

static int sweep_body(void *ctx)
{
    (void)ctx;
    int cand[] = {5, 2, 3, 7, 2};
    combsum_result res = {0};
    int rc = FN(&res, cand, IS_COMBSUM2 ? 5 : 4, 12, NULL, NULL);
    combsum_result_free(&res);
    return rc;
}

static void alloc(void)
{
    ex_input("candidates = [5 2 3 7 2] (the first %d), target = 12, every allocation failing in "
             "turn",
             IS_COMBSUM2 ? 5 : 4);
    ex_alloc_sweep(sweep_body, NULL);
}

static void traced_one(const int *cand, size_t n, int target)
{
    trace *ref, *got;
    combsum_result want = {0}, res = {0};
    if (!ex_trace_pair(&ref, &got, LISTING, LISTING_LEN))
        return;
    describe(cand, n, target, 0);
    REF(&want, cand, n, target, NULL, ref);
    int rc = FN(&res, cand, n, target, NULL, got);
    if (ex_status("return value", 0, rc))
        ex_trace(ref, got, 0);
    combsum_result_free(&want);
    combsum_result_free(&res);
    trace_free(ref);
    trace_free(got);
}

#endif
