/* topic_knapsack.c: the knapsack topic:
 * `tutor run knapsack --capacity 5 --items "1:2 2:4 3:4 4:5" [--method 2d|1d] [--exact]`. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../../algorithms/knapsack.h"
#include "../../trace/mem.h"
#include "../../trace/rng.h"
#include "../../trace/status.h"
#include "../core/parse.h"
#include "topic.h"

/* At most a million items (8 MB parsed); the memory cap bounds the 2-D table, and the work
 * cap below bounds the 1-D loop, whose n (C + 1) updates could otherwise run for hours. */
#define KNAP_MAX_ITEMS 1000000u
#define KNAP_WORK_CAP  ((uint64_t)1 << 32)

static const topic_optspec knap_opts[] = {
    {"capacity", 1, "the knapsack's capacity C, an integer >= 0 (required)"},
    {"items", TOPIC_LIST, "the items as volume:value pairs, e.g. \"1:2 2:4\" (required)"},
    {"method", 1, "2d (the table, with the chosen items; default) or 1d (one array)"},
    {"exact", 0, "fill the capacity exactly (unreachable volumes are -inf)"},
    {"ascending", 0, "with --method 1d: run j upwards, the classic bug (unbounded knapsack)"},
    {NULL, 0, NULL},
};

/* Bytes in a readable unit for the refusal message. */
static void human_bytes(char *buf, size_t len, uint64_t bytes)
{
    if (bytes == UINT64_MAX)
        snprintf(buf, len, "more than 16 EiB");
    else if (bytes >= ((uint64_t)1 << 30))
        snprintf(buf, len, "%.1f GiB (%llu bytes)", (double)bytes / (double)((uint64_t)1 << 30),
                 (unsigned long long)bytes);
    else
        snprintf(buf, len, "%.1f MiB (%llu bytes)", (double)bytes / (double)((uint64_t)1 << 20),
                 (unsigned long long)bytes);
}

/* Appends the chosen indices as a JSON list and the text summary. */
static void report_2d(topic_out *out, int64_t best, const size_t *chosen, size_t k,
                      const int *volume, int capacity, int exact)
{
    if (best == KNAP_NONE) {
        strbuf_puts(&out->json, "\"result\": null, \"chosen\": null");
        strbuf_printf(&out->text, "no subset of the items fills capacity %d exactly\n", capacity);
        return;
    }
    strbuf_printf(&out->json, "\"result\": %lld, \"chosen\": [", (long long)best);
    int64_t used = 0;
    for (size_t x = 0; x < k; x++) {
        strbuf_printf(&out->json, x ? ", %zu" : "%zu", chosen[x]);
        used += volume[chosen[x]];
    }
    strbuf_putc(&out->json, ']');
    strbuf_printf(&out->text, "best value %lld (capacity %s%d): ", (long long)best,
                  exact ? "exactly " : "", capacity);
    if (k == 0)
        strbuf_puts(&out->text, "no items");
    for (size_t x = 0; x < k; x++)
        strbuf_printf(&out->text, x ? ", %zu" : "items %zu", chosen[x]);
    strbuf_printf(&out->text, " (volume %lld)\n", (long long)used);
}

static int run(const topic_args *args, trace *tr, topic_out *out)
{
    const char *cap_s = topic_opt_get(args, "capacity");
    const char *items_s = topic_opt_get(args, "items");
    const char *method = topic_opt_get(args, "method");
    int exact = topic_opt_has(args, "exact");
    int ascending = topic_opt_has(args, "ascending");
    if (!cap_s)
        return topic_fail(out, TUTOR_EINVAL,
                          "missing --capacity (an integer >= 0, e.g. --capacity 5)");
    if (!items_s)
        return topic_fail(out, TUTOR_EINVAL,
                          "missing --items (volume:value pairs, e.g. --items \"1:2 2:4 3:4 4:5\")");
    int two_d = 1;
    if (method && strcmp(method, "1d") == 0)
        two_d = 0;
    else if (method && strcmp(method, "2d") != 0)
        return topic_fail(out, TUTOR_EINVAL, "--method: expected 2d or 1d, got '%.40s'", method);
    if (ascending && two_d)
        return topic_fail(
            out, TUTOR_EINVAL,
            "--ascending needs --method 1d (it shows why the 1-D loop runs j downwards)");
    long long capacity;
    int rc = parse_int(cap_s, "--capacity", 0, INT_MAX, &capacity, out->err, sizeof out->err);
    if (rc)
        return rc;
    int *volume = NULL, *value = NULL;
    size_t n = 0;
    rc = parse_pairs(items_s, "--items", 0, INT_MAX, INT_MIN, INT_MAX, KNAP_MAX_ITEMS, &volume,
                     &value, &n, out->err, sizeof out->err);
    if (rc)
        return rc;
    size_t *chosen = NULL;
    uint64_t need = two_d ? knap_2d_bytes(n, (int)capacity) : knap_1d_bytes((int)capacity);
    if (need > KNAP_MEM_CAP) {
        char h[64];
        human_bytes(h, sizeof h, need);
        rc =
            topic_fail(out, TUTOR_ETOOBIG,
                       "--capacity: the %s for %zu items and capacity %lld would need %s, over the "
                       "%llu MiB cap%s",
                       two_d ? "2-D table" : "1-D array", n, capacity, h,
                       (unsigned long long)(KNAP_MEM_CAP >> 20),
                       two_d ? "; try --method 1d or a smaller capacity" : "");
        goto out;
    }
    if ((uint64_t)n * ((uint64_t)capacity + 1) > KNAP_WORK_CAP) {
        rc = topic_fail(out, TUTOR_ETOOBIG,
                        "--items: %zu items times %lld capacities is over the cap of %llu cell "
                        "updates; use fewer items or a smaller capacity",
                        n, capacity + 1, (unsigned long long)KNAP_WORK_CAP);
        goto out;
    }
    int64_t best = KNAP_NONE;
    if (two_d) {
        chosen = mem_alloc((n ? n : 1) * sizeof *chosen);
        if (!chosen) {
            rc = TUTOR_ENOMEM;
            goto out;
        }
        trace_set_listing(tr, knap_2d_listing, knap_2d_listing_len);
        size_t k = 0;
        rc = knap_2d(&best, chosen, &k, volume, value, n, (int)capacity, exact, tr);
        if (!rc)
            report_2d(out, best, chosen, k, volume, (int)capacity, exact);
    } else {
        if (ascending) {
            trace_set_listing(tr, knap_1d_ascending_listing, knap_1d_ascending_listing_len);
            rc = knap_1d_ascending(&best, volume, value, n, (int)capacity, exact, tr);
        } else {
            trace_set_listing(tr, knap_1d_listing, knap_1d_listing_len);
            rc = knap_1d(&best, volume, value, n, (int)capacity, exact, tr);
        }
        if (!rc) {
            if (best == KNAP_NONE) {
                strbuf_puts(&out->json, "\"result\": null");
                strbuf_printf(&out->text, "no %s of the items fills capacity %lld exactly\n",
                              ascending ? "multiset" : "subset", capacity);
            } else {
                strbuf_printf(&out->json, "\"result\": %lld", (long long)best);
                strbuf_printf(&out->text, "best value %lld (capacity %s%lld)\n", (long long)best,
                              exact ? "exactly " : "", capacity);
            }
            if (ascending)
                strbuf_puts(&out->text,
                            "note: with j ascending an item can be taken again, so "
                            "this is the unbounded knapsack's answer, not the 0/1 one\n");
        }
    }
    if (!rc)
        rc = out->json.failed ? out->json.failed : out->text.failed;
out:
    mem_free(chosen);
    mem_free(volume);
    mem_free(value);
    return rc;
}

/* 2 to 6 items with volumes 1..6 and values 1..20, capacity 3..12: a table that fits on a
 * screen, with real choices to make. */
static int random_input(uint64_t seed, strbuf *sb)
{
    rng r;
    rng_seed(&r, seed);
    int64_t n = rng_range(&r, 2, 6);
    strbuf_printf(sb, "--capacity %lld --items \"", (long long)rng_range(&r, 3, 12));
    for (int64_t i = 0; i < n; i++) {
        long long v = (long long)rng_range(&r, 1, 6);
        long long w = (long long)rng_range(&r, 1, 20);
        strbuf_printf(sb, i ? " %lld:%lld" : "%lld:%lld", v, w);
    }
    strbuf_putc(sb, '"');
    return sb->failed;
}

const topic topic_knapsack = {
    .id = "knapsack",
    .family = "Algorithms",
    .title = "0/1 knapsack by dynamic programming",
    .summary = "best value within a capacity, each item at most once: 2-D table and 1-D array",
    .usage = "Items are volume:value pairs (volume >= 0, value any int); each item is taken at\n"
             "most once. f[i][j] is the best value of items 0..i-1 within volume j:\n"
             "  f[i][j] = max(f[i-1][j], f[i-1][j-v] + w)\n"
             "--method 2d fills the whole (n+1) x (C+1) table and walks back from f[n][C] to\n"
             "the chosen items (0-based, ascending). --method 1d keeps one row and updates it\n"
             "with j running downwards; it gives the value only. --exact asks for volume\n"
             "exactly C: unreachable volumes start at -inf, and when no subset fills C the\n"
             "result is null. --ascending (with 1d) runs j upwards, the classic bug that lets\n"
             "an item be taken again: it computes the unbounded knapsack instead.\n"
             "Tables over 256 MiB are refused with the memory they would need.\n"
             "\n"
             "json: {\"topic\": \"knapsack\", \"result\": BEST or null, \"chosen\": [ITEMS]}\n"
             "      (no \"chosen\" with --method 1d)\n",
    .opts = knap_opts,
    .example = "--capacity 5 --items \"1:2 2:4 3:4 4:5\"",
    .notes = "knapsack.md",
    .run = run,
    .random_input = random_input,
    .plot = topic_knapsack_plot,
};
