/* topic_maxgap.c: the maxgap topic: `tutor run maxgap --nums "3 6 9 1"`. */
#include <stdio.h>

#include "../../algorithms/maxgap.h"
#include "../../trace/mem.h"
#include "../../trace/rng.h"
#include "../../trace/status.h"
#include "../core/parse.h"
#include "topic.h"

/* Ten million ints are 40 MB parsed plus at most 2 buckets of 2 ints per number: about
 * 200 MB in all, which is where we stop before a typo exhausts memory. */
#define MAXGAP_MAX_N 10000000u

static const topic_optspec maxgap_opts[] = {
    {"nums", TOPIC_LIST, "the numbers, separated by spaces or commas (required; at most 10^7)"},
    {NULL, 0, NULL},
};

static int run(const topic_args *args, trace *tr, topic_out *out)
{
    const char *s = topic_opt_get(args, "nums");
    if (!s) {
        snprintf(out->err, sizeof out->err,
                 "missing --nums (a list of integers, e.g. --nums \"3 6 9 1\")");
        return TUTOR_EINVAL;
    }
    int *nums = NULL;
    size_t n = 0;
    int rc = parse_ints(s, "--nums", MAXGAP_MAX_N, &nums, &n, out->err, sizeof out->err);
    if (rc)
        return rc;
    trace_set_listing(tr, maxgap_listing, maxgap_listing_len);
    int64_t gap = 0;
    rc = maxgap_buckets(&gap, nums, n, tr);
    mem_free(nums);
    if (rc == TUTOR_ETOOBIG)
        snprintf(out->err, sizeof out->err, "--nums: too many numbers for the bucket arrays");
    if (rc)
        return rc;
    strbuf_printf(&out->json, "\"result\": %lld", (long long)gap);
    strbuf_printf(&out->text, "maximum gap between neighbours of the %zu sorted numbers: %lld\n", n,
                  (long long)gap);
    return out->json.failed ? out->json.failed : out->text.failed;
}

/* Between 2 and 12 numbers in [-20, 60]: small enough to follow bucket by bucket, spread
 * enough that some buckets stay empty. */
static int random_input(uint64_t seed, strbuf *sb)
{
    rng r;
    rng_seed(&r, seed);
    int64_t n = rng_range(&r, 2, 12);
    strbuf_puts(sb, "--nums \"");
    for (int64_t i = 0; i < n; i++)
        strbuf_printf(sb, i ? " %lld" : "%lld", (long long)rng_range(&r, -20, 60));
    strbuf_putc(sb, '"');
    return sb->failed;
}

const topic topic_maxgap = {
    .id = "maxgap",
    .family = "Algorithms",
    .title = "Maximum gap by bucket sort",
    .summary = "largest difference between sorted neighbours in O(n), by pigeonhole buckets",
    .usage = "The maximum gap is the largest difference between two neighbours once the\n"
             "numbers are sorted (LeetCode 164); fewer than two numbers give 0. Any ints\n"
             "work, INT_MIN and INT_MAX together included. The bucket method finds it in\n"
             "O(n) without sorting: n numbers over [lo, hi] go into buckets of width\n"
             "max(1, (hi - lo) / (n - 1)); the gap is never inside a bucket, so only each\n"
             "bucket's min and max are kept, then compared across neighbouring buckets.\n"
             "The trace shows every number landing in its bucket and the final scan.\n"
             "\n"
             "json: {\"topic\": \"maxgap\", \"result\": GAP}\n",
    .opts = maxgap_opts,
    .example = "--nums \"3 6 9 1\"",
    .notes = "maxgap.md",
    .run = run,
    .random_input = random_input,
    .plot = topic_maxgap_plot,
};
