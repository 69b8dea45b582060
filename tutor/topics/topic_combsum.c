/* topic_combsum.c: the combsum (LeetCode 39) and combsum2 (LeetCode 40) topics: parse the
 * options, run algorithms/combsum, and put the answer into words and JSON. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../../algorithms/combsum.h"
#include "../../trace/mem.h"
#include "../../trace/rng.h"
#include "../../trace/status.h"
#include "../core/parse.h"
#include "topic.h"

/* More candidates than this is refused (the search is exponential long before). */
#define MAX_CANDIDATES 10000
/* Upper ends of the caps a user may ask for. */
#define MAX_RESULTS_LIMIT 100000000LL
#define MAX_CALLS_LIMIT   1000000000000LL

static const topic_optspec combsum_opts[] = {
    {"candidates", TOPIC_LIST, "distinct positive integers, spaces or commas (\"2 3 6 7\")"},
    {"target", 1, "the sum to reach, an integer >= 1"},
    {"max-results", 1, "stop after this many combinations (default 10000)"},
    {"max-calls", 1, "stop after this many calls of solve() (default 1000000)"},
    {NULL, 0, NULL},
};

static const topic_optspec combsum2_opts[] = {
    {"candidates", TOPIC_LIST, "positive integers, repeats allowed, spaces or commas"},
    {"target", 1, "the sum to reach, an integer >= 1"},
    {"max-results", 1, "stop after this many combinations (default 10000)"},
    {"max-calls", 1, "stop after this many calls of solve() (default 1000000)"},
    {NULL, 0, NULL},
};

/* Reads an optional cap option into *v (unchanged when absent). */
static int read_cap(const topic_args *args, const char *name, const char *what, long long hi,
                    long long *v, topic_out *out)
{
    const char *s = topic_opt_get(args, name);
    if (!s)
        return 0;
    return parse_int(s, what, 1, hi, v, out->err, sizeof out->err);
}

/* Appends `[2, 2, 3]` to sb. */
static void put_list(strbuf *sb, const int *v, size_t n)
{
    strbuf_putc(sb, '[');
    for (size_t k = 0; k < n; k++)
        strbuf_printf(sb, k ? ", %d" : "%d", v[k]);
    strbuf_putc(sb, ']');
}

/* The runner of both topics; reuse 1 is combsum, 0 combsum2. */
static int run_variant(const topic_args *args, trace *tr, topic_out *out, int reuse)
{
    const char *id = reuse ? "combsum" : "combsum2";
    const char *cs = topic_opt_get(args, "candidates");
    const char *ts = topic_opt_get(args, "target");
    if (!cs)
        return topic_fail(
            out, TUTOR_EINVAL,
            "missing option --candidates (positive integers, e.g. --candidates \"%s\")",
            reuse ? "2 3 6 7" : "10 1 2 7 6 1 5");
    if (!ts)
        return topic_fail(out, TUTOR_EINVAL,
                          "missing option --target (an integer >= 1, e.g. --target 7)");
    long long target, max_results = (long long)COMBSUM_DEFAULT_MAX_RESULTS,
                      max_calls = (long long)COMBSUM_DEFAULT_MAX_CALLS;
    int rc = parse_int(ts, "--target", INT_MIN, INT_MAX, &target, out->err, sizeof out->err);
    if (rc)
        return rc;
    if (target <= 0)
        return topic_fail(out, TUTOR_EINVAL,
                          "--target: %lld is not positive (the target must be >= 1)", target);
    rc = read_cap(args, "max-results", "--max-results", MAX_RESULTS_LIMIT, &max_results, out);
    if (!rc)
        rc = read_cap(args, "max-calls", "--max-calls", MAX_CALLS_LIMIT, &max_calls, out);
    if (rc)
        return rc;
    int *c;
    size_t n;
    rc = parse_ints(cs, "--candidates", MAX_CANDIDATES, &c, &n, out->err, sizeof out->err);
    if (rc)
        return rc;
    for (size_t k = 0; k < n && !rc; k++)
        if (c[k] <= 0)
            rc =
                topic_fail(out, TUTOR_EINVAL,
                           "--candidates: %d is not positive (every candidate must be >= 1)", c[k]);
    if (rc) {
        mem_free(c);
        return rc;
    }

    if (tr)
        trace_set_listing(tr, reuse ? combsum_listing : combsum2_listing,
                          reuse ? combsum_listing_len : combsum2_listing_len);
    combsum_limits lim = {(size_t)max_results, (uint64_t)max_calls};
    combsum_result res;
    rc = (reuse ? combsum : combsum2)(&res, c, n, (int)target, &lim, tr);
    if (rc == TUTOR_ELIMIT) {
        if (res.cap == COMBSUM_CAP_RESULTS)
            snprintf(out->err, sizeof out->err,
                     "stopped: more than %lld combinations, the --max-results cap; raise it "
                     "(e.g. --max-results %lld) to see them all",
                     max_results,
                     max_results < MAX_RESULTS_LIMIT / 10 ? max_results * 10 : MAX_RESULTS_LIMIT);
        else if (res.cap == COMBSUM_CAP_DEPTH)
            snprintf(out->err, sizeof out->err,
                     "stopped: a combination would hold more than %zu numbers, the depth cap "
                     "(%zu found so far); a smaller --target or larger candidates give shorter "
                     "ones",
                     COMBSUM_MAX_DEPTH, res.count);
        else if (res.cap == COMBSUM_CAP_VALUES)
            snprintf(
                out->err, sizeof out->err,
                "stopped: the %zu combinations found so far hold nearly %zu numbers, the output "
                "cap; a smaller --target or larger candidates give shorter ones",
                res.count, COMBSUM_MAX_VALUES);
        else
            snprintf(out->err, sizeof out->err,
                     "stopped after %lld calls (%zu combinations found so far), the --max-calls "
                     "cap; raise it (e.g. --max-calls %lld) to finish the search",
                     max_calls, res.count,
                     max_calls < MAX_CALLS_LIMIT / 10 ? max_calls * 10 : MAX_CALLS_LIMIT);
    } else if (rc == TUTOR_EINVAL) {
        /* Everything else was checked above, so the library refused a repeated candidate;
         * find it (only on this error path) to name it. */
        int dup = 0;
        for (size_t k = 1; k < n && !dup; k++)
            for (size_t j = 0; j < k && !dup; j++)
                if (c[j] == c[k])
                    dup = c[k];
        topic_fail(out, rc,
                   "--candidates: %d is given twice; %s needs distinct candidates (combsum2 takes "
                   "repeats, each used once)",
                   dup, id);
    }
    if (rc)
        goto out;

    strbuf_puts(&out->json, "\"result\": [");
    for (size_t k = 0; k < res.count; k++) {
        if (k)
            strbuf_puts(&out->json, ", ");
        put_list(&out->json, combsum_at(&res, k), combsum_len(&res, k));
    }
    strbuf_putc(&out->json, ']');

    if (res.count)
        strbuf_printf(&out->text, "%zu combination%s of ", res.count, res.count == 1 ? "" : "s");
    else
        strbuf_puts(&out->text, "no combination of ");
    put_list(&out->text, c, n);
    strbuf_printf(&out->text, " sum%s to %lld (%s; %llu calls)%s\n", res.count <= 1 ? "s" : "",
                  target, reuse ? "each candidate reusable" : "each element used at most once",
                  (unsigned long long)res.calls, res.count ? ":" : "");
    for (size_t k = 0; k < res.count; k++) {
        strbuf_puts(&out->text, "  ");
        put_list(&out->text, combsum_at(&res, k), combsum_len(&res, k));
        strbuf_putc(&out->text, '\n');
    }
    if (out->json.failed || out->text.failed)
        rc = TUTOR_ENOMEM;
out:
    combsum_result_free(&res);
    mem_free(c);
    return rc;
}

static int run_combsum(const topic_args *args, trace *tr, topic_out *out)
{
    return run_variant(args, tr, out, 1);
}

static int run_combsum2(const topic_args *args, trace *tr, topic_out *out)
{
    return run_variant(args, tr, out, 0);
}

/* combsum: 2 to 6 distinct values in [2, 12] and a target in [5, 30]: a handful of answers
 * and a tree small enough to step through. */
static int random_combsum(uint64_t seed, strbuf *sb)
{
    rng r;
    rng_seed(&r, seed);
    int used[13] = {0};
    int n = (int)rng_range(&r, 2, 6);
    strbuf_puts(sb, "--candidates \"");
    for (int k = 0; k < n;) {
        int v = (int)rng_range(&r, 2, 12);
        if (used[v])
            continue;
        used[v] = 1;
        strbuf_printf(sb, k++ ? " %d" : "%d", v);
    }
    strbuf_printf(sb, "\" --target %d", (int)rng_range(&r, 5, 30));
    return sb->failed;
}

/* combsum2: 4 to 10 values in [1, 10], repeats likely, and a target in [4, 20]. */
static int random_combsum2(uint64_t seed, strbuf *sb)
{
    rng r;
    rng_seed(&r, seed);
    int n = (int)rng_range(&r, 4, 10);
    strbuf_puts(sb, "--candidates \"");
    for (int k = 0; k < n; k++)
        strbuf_printf(sb, k ? " %d" : "%d", (int)rng_range(&r, 1, 10));
    strbuf_printf(sb, "\" --target %d", (int)rng_range(&r, 4, 20));
    return sb->failed;
}

static const char combsum_usage[] =
    "Finds every combination of the candidates that sums to the target, each candidate\n"
    "usable any number of times (LeetCode 39). Each combination is listed in ascending\n"
    "order and the combinations in lexicographic order.\n"
    "\n"
    "Input rules: candidates must be distinct (a repeated value is an error: use combsum2\n"
    "for repeats) and >= 1 (0 or a negative one would allow endless combinations); the\n"
    "target must be >= 1 (target 0 is refused rather than answered with the empty\n"
    "combination). No candidates gives no combination.\n"
    "\n"
    "The answers can grow exponentially with the target, so the search stops at\n"
    "--max-results combinations or --max-calls calls of solve(), whichever comes first;\n"
    "then it names the cap on stderr and exits with status 2: raise the cap to go on.\n"
    "The combinations found hold at most 2^24 numbers in all (the output cap), and no\n"
    "combination is longer than 2^20 (the depth cap).\n"
    "\n"
    "The trace records the recursion tree: each call (scalars call, parent, depth, start,\n"
    "remaining), each choice and undo (the path), each pruned candidate and each answer.\n";

static const char combsum2_usage[] =
    "Finds every combination of the candidates that sums to the target, each element used\n"
    "at most once and no combination listed twice (LeetCode 40). Each combination is\n"
    "listed in ascending order and the combinations in lexicographic order.\n"
    "\n"
    "Input rules: candidates may repeat (each copy can be used once) and must be >= 1;\n"
    "the target must be >= 1 (target 0 is refused). No candidates gives no combination.\n"
    "\n"
    "The answers can grow exponentially, so the search stops at --max-results\n"
    "combinations or --max-calls calls of solve(), whichever comes first; then it names\n"
    "the cap on stderr and exits with status 2: raise the cap to go on. The combinations\n"
    "found hold at most 2^24 numbers in all (the output cap).\n"
    "\n"
    "The trace records the recursion tree: each call (scalars call, parent, depth, start,\n"
    "remaining), each choice and undo (the path), each duplicate skipped at the same depth,\n"
    "each pruned candidate and each answer.\n";

const topic topic_combsum = {
    .id = "combsum",
    .family = "Algorithms",
    .title = "Combination sum (candidates reusable)",
    .summary = "Backtracking over sorted candidates with pruning: all combinations that sum "
               "to a target",
    .usage = combsum_usage,
    .opts = combsum_opts,
    .example = "--candidates \"2 3 6 7\" --target 7",
    .notes = "combsum.md",
    .run = run_combsum,
    .random_input = random_combsum,
    .plot = topic_combsum_plot,
};

const topic topic_combsum2 = {
    .id = "combsum2",
    .family = "Algorithms",
    .title = "Combination sum II (each element once)",
    .summary = "Backtracking that skips equal values at the same depth: no duplicate "
               "combinations",
    .usage = combsum2_usage,
    .opts = combsum2_opts,
    .example = "--candidates \"10 1 2 7 6 1 5\" --target 8",
    .notes = "combsum2.md",
    .run = run_combsum2,
    .random_input = random_combsum2,
    .plot = topic_combsum2_plot,
};
