/* The combsum exercise: combsum (each candidate reusable) against the library's. */
#define FN          combsum
#define REF         exref_combsum
#define LISTING     combsum_listing
#define LISTING_LEN combsum_listing_len
#define IS_COMBSUM2 0
#include "../../algorithms/combsum.h"
#include "ex.h"

EX_REF(combsum);

static const int CLASSIC[] = {2, 3, 6, 7};
#define CLASSIC_N      4
#define CLASSIC_TARGET 7
#include "combsum_common.h"

static void classic(void)
{
    int a[] = {2, 3, 6, 7};
    int b[] = {2, 3, 5};
    if (same(a, 4, 7, 0))
        same(b, 3, 8, 0);
}

static void unsorted(void)
{
    int a[] = {7, 3, 2, 6};
    int b[] = {8, 4, 2};
    if (same(a, 4, 7, 0))
        same(b, 3, 16, 0);
}

static void none(void)
{
    int a[] = {2};
    int b[] = {4, 6};
    if (same(a, 1, 1, 0))
        same(b, 2, 9, 0);
}

static void invalid(void)
{
    int zero[] = {2, 0};
    int twice[] = {2, 3, 2};
    if (same(zero, 2, 5, 0) && same(twice, 3, 5, 0))
        same(twice, 2, 0, 0);
}

static void cap(void)
{
    int a[] = {1, 2, 3};
    same(a, 3, 10, 4);
}

static void random_inputs(void)
{
    rng r;
    rng_seed(&r, 39);
    for (int round = 0; round < 200 && !ex_failed(); round++) {
        int cand[8];
        size_t n = (size_t)rng_range(&r, 1, 6);
        for (size_t i = 0; i < n; i++) {
            int fresh;
            do {
                cand[i] = (int)rng_range(&r, 1, 12);
                fresh = 1;
                for (size_t j = 0; j < i; j++)
                    fresh &= cand[j] != cand[i];
            } while (!fresh);
        }
        same(cand, n, (int)rng_range(&r, 1, 24), 0);
    }
}

static void traced(void)
{
    int a[] = {2, 3, 6, 7};
    int b[] = {3, 5};
    traced_one(a, 4, 7);
    if (!ex_failed())
        traced_one(b, 2, 8);
}

static const ex_behaviour behaviours[] = {
    {"the classic examples",
     "[2 3 6 7], 7 gives [2 2 3] and [7]: at each level try candidates from the current index "
     "on (not from 0), so a candidate can repeat but the combination stays non-decreasing.",
     classic},
    {"unsorted candidates give sorted combinations",
     "Sort a copy of the candidates first; the combinations come out in lexicographic order.",
     unsorted},
    {"no combination: an empty result and 0", "count = 0 is a valid answer, not an error.", none},
    {"invalid input: TUTOR_EINVAL",
     "A candidate <= 0, two equal candidates or target <= 0 is TUTOR_EINVAL, with res empty.",
     invalid},
    {"the results cap stops the search with TUTOR_ELIMIT",
     "Finding one more combination than lim->max_results: stop, set res->cap = "
     "COMBSUM_CAP_RESULTS and return TUTOR_ELIMIT, keeping the first max_results.",
     cap},
    {"res->calls counts the search's calls; the calls cap stops it",
     "One call per node of the search tree, the root included: count a call when you recurse, "
     "before it runs. When one more call would exceed lim->max_calls: res->cap = "
     "COMBSUM_CAP_CALLS, return TUTOR_ELIMIT, keep what was found. Break out of the candidate "
     "loop at the first candidate larger than what remains (no call for it).",
     calls},
    {"agrees with the reference on 200 random inputs",
     "Prune: once candidate i is larger than what remains, every later (sorted) one is too: "
     "break out of the loop.",
     random_inputs},
    {"an allocation failure returns TUTOR_ENOMEM",
     "Every mem_alloc / mem_realloc_array may fail: return TUTOR_ENOMEM with res freed and "
     "empty.",
     alloc},
    {"trace: the same steps as the reference",
     "Compare with `tutor run combsum --candidates \"2 3 6 7\" --target 7 --trace`: a step for "
     "each call, choice, undo, prune and find, on the line of combsum_listing that does it.",
     traced},
    {NULL, NULL, NULL},
};

void tests_register(void)
{
    ex_register("combsum", behaviours);
}
