/* The combsum2 exercise: combsum2 (each element once, no repeated combination). */
#define FN          combsum2
#define REF         exref_combsum2
#define LISTING     combsum2_listing
#define LISTING_LEN combsum2_listing_len
#define IS_COMBSUM2 1
#include "../../algorithms/combsum.h"
#include "ex.h"

EX_REF(combsum2);

static const int CLASSIC[] = {10, 1, 2, 7, 6, 1, 5};
#define CLASSIC_N      7
#define CLASSIC_TARGET 8
#include "combsum_common.h"

static void classic(void)
{
    int a[] = {10, 1, 2, 7, 6, 1, 5};
    int b[] = {2, 5, 2, 1, 2};
    if (same(a, 7, 8, 0))
        same(b, 5, 5, 0);
}

static void duplicates(void)
{
    int a[] = {1, 1, 1, 1, 1};
    int b[] = {3, 3, 3, 6};
    if (same(a, 5, 3, 0))
        same(b, 4, 6, 0);
}

static void none(void)
{
    int a[] = {2};
    int b[] = {4, 4};
    if (same(a, 1, 4, 0))
        same(b, 2, 6, 0);
}

static void invalid(void)
{
    int zero[] = {2, 0};
    int neg[] = {2, -3};
    if (same(zero, 2, 5, 0) && same(neg, 2, 5, 0))
        same(neg, 1, -1, 0);
}

static void cap(void)
{
    int a[] = {1, 2, 3, 4, 5, 6, 7};
    same(a, 7, 10, 3);
}

static void random_inputs(void)
{
    rng r;
    rng_seed(&r, 40);
    for (int round = 0; round < 200 && !ex_failed(); round++) {
        int cand[12];
        size_t n = (size_t)rng_range(&r, 1, 12);
        for (size_t i = 0; i < n; i++)
            cand[i] = (int)rng_range(&r, 1, 8);
        same(cand, n, (int)rng_range(&r, 1, 20), 0);
    }
}

static void traced(void)
{
    int a[] = {10, 1, 2, 7, 6, 1, 5};
    int b[] = {2, 2, 3};
    traced_one(a, 7, 8);
    if (!ex_failed())
        traced_one(b, 3, 5);
}

static const ex_behaviour behaviours[] = {
    {"the classic examples",
     "[10 1 2 7 6 1 5], 8 gives [1 1 6] [1 2 5] [1 7] [2 6]: sort, and recurse from i + 1 "
     "(each element at most once).",
     classic},
    {"duplicates: each combination once",
     "At one depth, skip candidate i when i > start and it equals candidate i - 1: the "
     "combinations it would start were all found with the first copy.",
     duplicates},
    {"no combination: an empty result and 0", "count = 0 is a valid answer, not an error.", none},
    {"invalid input: TUTOR_EINVAL",
     "A candidate <= 0 or target <= 0 is TUTOR_EINVAL (equal candidates are fine here).", invalid},
    {"the results cap stops the search with TUTOR_ELIMIT",
     "Finding one more combination than lim->max_results: stop, set res->cap = "
     "COMBSUM_CAP_RESULTS and return TUTOR_ELIMIT, keeping the first max_results.",
     cap},
    {"res->calls counts the search's calls; the calls cap stops it",
     "One call per node of the search tree, the root included: count a call when you recurse, "
     "before it runs. When one more call would exceed lim->max_calls: res->cap = "
     "COMBSUM_CAP_CALLS, return TUTOR_ELIMIT, keep what was found. Break out of the candidate "
     "loop at the first candidate larger than what remains (no call for it); a skipped duplicate "
     "makes no call either.",
     calls},
    {"agrees with the reference on 200 random inputs",
     "Skip duplicates only at the same depth (i > start), never the first copy: [1 1 6] needs "
     "both ones.",
     random_inputs},
    {"an allocation failure returns TUTOR_ENOMEM",
     "Every mem_alloc / mem_realloc_array may fail: return TUTOR_ENOMEM with res freed and "
     "empty.",
     alloc},
    {"trace: the same steps as the reference",
     "Compare with `tutor run combsum2 --candidates \"10 1 2 7 6 1 5\" --target 8 --trace`: "
     "a step for each call, choice, undo, prune, skip and find, on its combsum2_listing line.",
     traced},
    {NULL, NULL, NULL},
};

void tests_register(void)
{
    ex_register("combsum2", behaviours);
}
