/* combsum.c: combination sum (reuse allowed) and combination sum II (each element once,
 * duplicates skipped) by backtracking over sorted candidates.
 *
 * Why sorting does all the work: with c ascending, the candidates a call may still take are
 * c[start..n), so every path is non-decreasing (no permutation of an answer is ever built),
 * trying i in ascending order emits answers in lexicographic order, and the first c[i] that
 * exceeds the remaining target proves every later one does too, so the loop breaks instead
 * of continuing (the pruning). For combsum2, equal values sit next to each other: taking the
 * second of two equal values at the same depth would build exactly the subtree the first
 * already built, so it is skipped (i > start && c[i] == c[i - 1]); taking both along one
 * path is still allowed, because the second is then taken one level deeper, at i == start.
 *
 * The recursion is run on an explicit stack: frame d is the call at depth d (d values on the
 * path). Since every value is >= c[0] and the path's sum stays <= target, d <= target / c[0]
 * (and d <= n for combsum2, d < max_calls and d <= COMBSUM_MAX_DEPTH always), which bounds the
 * stack we grow. */
#include "combsum.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../trace/mem.h"
#include "../trace/status.h"

const char *const combsum_listing[] = {
    "sort c ascending; path = []",
    "solve(start, remaining):",
    "  if remaining == 0:",
    "    output a copy of path; return",
    "  for i = start .. n - 1:",
    "    if c[i] > remaining: break       # sorted: all later ones are larger",
    "    path.push(c[i])",
    "    solve(i, remaining - c[i])       # i again: c[i] may be reused",
    "    path.pop()",
    "solve(0, target)",
};
const size_t combsum_listing_len = sizeof combsum_listing / sizeof combsum_listing[0];

const char *const combsum2_listing[] = {
    "sort c ascending; path = []",
    "solve(start, remaining):",
    "  if remaining == 0:",
    "    output a copy of path; return",
    "  for i = start .. n - 1:",
    "    if i > start and c[i] == c[i - 1]: continue   # same subtree as c[i - 1]",
    "    if c[i] > remaining: break       # sorted: all later ones are larger",
    "    path.push(c[i])",
    "    solve(i + 1, remaining - c[i])   # i + 1: each element at most once",
    "    path.pop()",
    "solve(0, target)",
};
const size_t combsum2_listing_len = sizeof combsum2_listing / sizeof combsum2_listing[0];

/* Listing line numbers per variant; skip is 0 where the variant has no such line. */
typedef struct lines {
    int sort, call, found, loop, skip, prune, push, pop, root;
} lines;

static const lines combsum_lines = {1, 2, 4, 5, 0, 6, 7, 9, 10};
static const lines combsum2_lines = {1, 2, 4, 5, 6, 7, 8, 10, 11};

/* One pending call of solve(). */
typedef struct frame {
    size_t start;  /* first index this call may take */
    size_t next;   /* the index its loop tries next */
    int remaining; /* target minus the sum of the path */
    uint64_t id;   /* call number in creation order, 0 for the root (for the trace) */
} frame;

typedef struct search {
    const int *c; /* sorted candidates */
    size_t n;
    int reuse; /* 1: combsum (child starts at i), 0: combsum2 (at i + 1) */
    const lines *ln;
    frame *stk;   /* stk[0..depth] */
    int *path;    /* path[0..depth) */
    size_t cap;   /* entries of stk and path */
    size_t bound; /* proven maximum depth, the ceiling for cap - 1 */
    trace *tr;
} search;

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Makes room for frame depth + 1 and path[depth]. Returns 0 or TUTOR_ENOMEM (the search
 * keeps what it had). */
static int grow(search *s, size_t depth)
{
    if (depth + 1 < s->cap)
        return 0;
    size_t cap = s->cap * 2;
    if (cap > s->bound + 1)
        cap = s->bound + 1;
    /* The depth proof (file comment) guarantees room; failing it is a bug, not an input. */
    assert(cap > depth + 1);
    if (cap <= depth + 1)
        return TUTOR_EINVAL;
    frame *stk = mem_realloc_array(s->stk, cap, sizeof *stk);
    if (!stk)
        return TUTOR_ENOMEM;
    s->stk = stk;
    int *path = mem_realloc_array(s->path, cap, sizeof *path);
    if (!path)
        return TUTOR_ENOMEM;
    s->path = path;
    s->cap = cap;
    return 0;
}

/* Appends path[0..len) as one more combination. Returns 0 or TUTOR_ENOMEM (res unchanged). */
static int push_result(combsum_result *res, const int *path, size_t len)
{
    size_t used = res->count ? res->offsets[res->count] : 0;
    if (res->count + 2 > res->offsets_cap) {
        size_t cap = res->offsets_cap ? res->offsets_cap * 2 : 16;
        size_t *off = mem_realloc_array(res->offsets, cap, sizeof *off);
        if (!off)
            return TUTOR_ENOMEM;
        if (!res->offsets)
            off[0] = 0;
        res->offsets = off;
        res->offsets_cap = cap;
    }
    if (len > res->values_cap - used) {
        size_t cap = res->values_cap ? res->values_cap * 2 : 64;
        if (cap < used + len)
            cap = used + len;
        int *v = mem_realloc_array(res->values, cap, sizeof *v);
        if (!v)
            return TUTOR_ENOMEM;
        res->values = v;
        res->values_cap = cap;
    }
    if (len)
        memcpy(res->values + used, path, len * sizeof *path);
    res->offsets[res->count + 1] = used + len;
    res->count++;
    return 0;
}

/* Formats "[2, 2, 3]" into buf (len >= 8), ending in "...]" when it does not fit.
 * Trace-only. */
static const char *fmt_path(char *buf, size_t len, const int *p, size_t n)
{
    size_t at = 0;
    buf[at++] = '[';
    for (size_t k = 0; k < n; k++) {
        char item[24];
        size_t w = (size_t)snprintf(item, sizeof item, k ? ", %d" : "%d", p[k]);
        if (at + w + 5 > len) { /* keep room for "...]" and the NUL */
            memcpy(buf + at, "...]", 5);
            return buf;
        }
        memcpy(buf + at, item, w);
        at += w;
    }
    memcpy(buf + at, "]", 2);
    return buf;
}

/* Trace: the scalars that identify the call at depth (the UI draws the tree from call and
 * parent), and its remaining target. */
static void trace_frame_state(const search *s, size_t depth)
{
    const frame *f = &s->stk[depth];
    trace_scalar(s->tr, "call", (int64_t)f->id);
    trace_scalar(s->tr, "parent", depth ? (int64_t)s->stk[depth - 1].id : -1);
    trace_scalar(s->tr, "depth", (int64_t)depth);
    trace_scalar(s->tr, "start", (int64_t)f->start);
    trace_scalar(s->tr, "remaining", f->remaining);
}

static void trace_enter(const search *s, size_t depth)
{
    const frame *f = &s->stk[depth];
    char buf[160];
    if (depth)
        trace_step(
            s->tr, s->ln->call,
            "call #%llu: solve(start=%zu, remaining=%d), depth %zu, path %s, from call #%llu",
            (unsigned long long)f->id, f->start, f->remaining, depth,
            fmt_path(buf, sizeof buf, s->path, depth), (unsigned long long)s->stk[depth - 1].id);
    else
        trace_step(s->tr, s->ln->call, "call #0: solve(start=0, remaining=%d), the root",
                   f->remaining);
    trace_frame_state(s, depth);
    if (f->start < s->n)
        trace_mark(s->tr, "candidates", (long)f->start, -1, TRACE_CURRENT);
}

static void trace_found(const search *s, size_t depth, size_t count)
{
    char buf[160];
    trace_step(s->tr, s->ln->found, "remaining 0: answer #%zu is %s; call #%llu returns", count,
               fmt_path(buf, sizeof buf, s->path, depth), (unsigned long long)s->stk[depth].id);
    trace_scalar(s->tr, "found", (int64_t)count);
    for (size_t k = 0; k < depth; k++)
        trace_mark(s->tr, "path", (long)k, -1, TRACE_FOUND);
    trace_quiz(s->tr, "How many combinations have been found so far, this one included?",
               (int64_t)count);
}

/* Trace: the loop's decision about candidate i in the call at depth. what: 0 chosen,
 * 1 pruned, 2 skipped as a duplicate. Quiz: combsum asks whether it is pruned (1 yes / 0 no);
 * combsum2 asks which of the three happens. */
static void trace_decide(const search *s, size_t depth, size_t i, int what)
{
    const frame *f = &s->stk[depth];
    int v = s->c[i];
    char q[160], buf[160];
    if (what == 0) {
        trace_step(s->tr, s->ln->push,
                   "c[%zu] = %d <= remaining %d: choose it, path %s, remaining %d -> %d", i, v,
                   f->remaining, fmt_path(buf, sizeof buf, s->path, depth + 1), f->remaining,
                   f->remaining - v);
        trace_ints(s->tr, "path", s->path, depth + 1);
        trace_mark(s->tr, "candidates", (long)i, -1, TRACE_CHOSEN);
        trace_mark(s->tr, "path", (long)depth, -1, TRACE_CURRENT);
    } else if (what == 1) {
        trace_step(s->tr, s->ln->prune,
                   "c[%zu] = %d > remaining %d: prune it and every later (larger) candidate; "
                   "call #%llu returns",
                   i, v, f->remaining, (unsigned long long)f->id);
        trace_mark(s->tr, "candidates", (long)i, -1, TRACE_PRUNED);
    } else {
        trace_step(s->tr, s->ln->skip,
                   "c[%zu] = %d equals c[%zu] at the same depth: skip it (that subtree was "
                   "already explored)",
                   i, v, i - 1);
        trace_mark(s->tr, "candidates", (long)i, -1, TRACE_SKIPPED);
    }
    trace_scalar(s->tr, "i", (int64_t)i);
    if (s->reuse)
        snprintf(q, sizeof q, "Is candidate %d pruned with remaining %d? 1 yes / 0 no", v,
                 f->remaining);
    else
        snprintf(q, sizeof q,
                 "Candidate %d at index %zu, remaining %d: 0 chosen / 1 pruned / 2 skipped as "
                 "a duplicate?",
                 v, i, f->remaining);
    trace_quiz(s->tr, q, s->reuse ? what == 1 : what);
}

static void trace_undo(const search *s, size_t depth)
{
    char buf[160];
    trace_step(s->tr, s->ln->pop, "back in call #%llu: pop %d, path %s, remaining %d",
               (unsigned long long)s->stk[depth].id, s->path[depth],
               fmt_path(buf, sizeof buf, s->path, depth), s->stk[depth].remaining);
    trace_ints(s->tr, "path", s->path, depth);
    trace_frame_state(s, depth);
}

/* The shared search. reuse: 1 for combsum, 0 for combsum2. */
static int solve(combsum_result *res, const int *candidates, size_t n, int target, int reuse,
                 const combsum_limits *lim, trace *tr)
{
    memset(res, 0, sizeof *res);
    if (target <= 0 || (n && !candidates))
        return TUTOR_EINVAL;
    for (size_t k = 0; k < n; k++)
        if (candidates[k] <= 0)
            return TUTOR_EINVAL;
    size_t max_results = lim && lim->max_results ? lim->max_results : COMBSUM_DEFAULT_MAX_RESULTS;
    uint64_t max_calls = lim && lim->max_calls ? lim->max_calls : COMBSUM_DEFAULT_MAX_CALLS;

    search s = {0};
    s.n = n;
    s.reuse = reuse;
    s.ln = reuse ? &combsum_lines : &combsum2_lines;
    s.tr = tr;
    int rc = 0;
    int *c = mem_calloc(n ? n : 1, sizeof *c);
    if (!c)
        return TUTOR_ENOMEM;
    if (n)
        memcpy(c, candidates, n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_int);
    s.c = c;
    if (reuse)
        for (size_t k = 1; k < n; k++)
            if (c[k] == c[k - 1]) {
                rc = TUTOR_EINVAL;
                goto out;
            }

    /* The depth bound from the header comment; the stack starts small and doubles up to it. */
    s.bound = n ? (size_t)(target / c[0]) : 0;
    if (!reuse && s.bound > n)
        s.bound = n;
    if ((uint64_t)s.bound > max_calls)
        s.bound = (size_t)max_calls;
    if (s.bound > COMBSUM_MAX_DEPTH)
        s.bound = COMBSUM_MAX_DEPTH;
    s.cap = s.bound + 1 < 64 ? s.bound + 1 : 64;
    s.stk = mem_alloc(mem_mul(s.cap, sizeof *s.stk));
    s.path = mem_alloc(mem_mul(s.cap, sizeof *s.path));
    if (!s.stk || !s.path) {
        rc = TUTOR_ENOMEM;
        goto out;
    }

    if (tr) {
        trace_step(tr, s.ln->sort, "sort the %zu candidates ascending; target %d", n, target);
        trace_ints(tr, "candidates", c, n);
        trace_scalar(tr, "target", target);
        trace_ints(tr, "path", s.path, 0);
        trace_scalar(tr, "found", 0);
    }
    size_t depth = 0;
    s.stk[0] = (frame){0, 0, target, 0};
    res->calls = 1;
    int entering = 1;
    for (;;) {
        /* Past the trace's size cap nothing more is recorded: stop formatting the steps too,
         * or each call would cost more than the search itself. */
        if (tr && trace_truncated(tr))
            tr = s.tr = NULL;
        frame *f = &s.stk[depth];
        if (entering) {
            entering = 0;
            if (tr)
                trace_enter(&s, depth);
            if (f->remaining == 0) {
                if (res->count == max_results) {
                    res->cap = COMBSUM_CAP_RESULTS;
                    rc = TUTOR_ELIMIT;
                    break;
                }
                /* Few calls can find many long combinations (candidates "1 2", a large
                 * target): the calls cap alone does not bound the memory they take. */
                if (depth > COMBSUM_MAX_VALUES - (res->count ? res->offsets[res->count] : 0)) {
                    res->cap = COMBSUM_CAP_VALUES;
                    rc = TUTOR_ELIMIT;
                    break;
                }
                rc = push_result(res, s.path, depth);
                if (rc)
                    break;
                if (tr)
                    trace_found(&s, depth, res->count);
                goto ret;
            }
        }
        if (f->next >= n) {
            if (tr)
                trace_step(tr, s.ln->loop, "call #%llu: no candidate left, it returns",
                           (unsigned long long)f->id);
            goto ret;
        }
        size_t i = f->next++;
        if (!reuse && i > f->start && c[i] == c[i - 1]) {
            if (tr)
                trace_decide(&s, depth, i, 2);
            continue;
        }
        if (c[i] > f->remaining) {
            if (tr)
                trace_decide(&s, depth, i, 1);
            goto ret;
        }
        if (res->calls == max_calls) {
            res->cap = COMBSUM_CAP_CALLS;
            rc = TUTOR_ELIMIT;
            break;
        }
        if (depth == COMBSUM_MAX_DEPTH) {
            res->cap = COMBSUM_CAP_DEPTH;
            rc = TUTOR_ELIMIT;
            break;
        }
        rc = grow(&s, depth);
        if (rc)
            break;
        f = &s.stk[depth]; /* grow may have moved the stack */
        s.path[depth] = c[i];
        if (tr)
            trace_decide(&s, depth, i, 0);
        size_t child = reuse ? i : i + 1;
        s.stk[depth + 1] = (frame){child, child, f->remaining - c[i], res->calls};
        res->calls++;
        depth++;
        entering = 1;
        continue;
    ret:
        if (depth == 0)
            break;
        depth--;
        if (tr)
            trace_undo(&s, depth);
    }
    if (tr) {
        if (rc == TUTOR_ELIMIT)
            trace_step(tr, s.ln->root, "stopped: the cap on %s (%llu) was reached; %zu found",
                       res->cap == COMBSUM_CAP_RESULTS ? "results"
                       : res->cap == COMBSUM_CAP_CALLS ? "calls"
                       : res->cap == COMBSUM_CAP_DEPTH ? "depth"
                                                       : "values",
                       res->cap == COMBSUM_CAP_RESULTS ? (unsigned long long)max_results
                       : res->cap == COMBSUM_CAP_CALLS ? (unsigned long long)max_calls
                       : res->cap == COMBSUM_CAP_DEPTH ? (unsigned long long)COMBSUM_MAX_DEPTH
                                                       : (unsigned long long)COMBSUM_MAX_VALUES,
                       res->count);
        else if (!rc)
            trace_step(tr, s.ln->root, "done: %zu combination%s in %llu calls", res->count,
                       res->count == 1 ? "" : "s", (unsigned long long)res->calls);
    }
out:
    mem_free(c);
    mem_free(s.stk);
    mem_free(s.path);
    if (!rc || rc == TUTOR_ELIMIT) {
        int trc = trace_status(tr);
        if (trc)
            rc = trc;
    }
    if (rc && rc != TUTOR_ELIMIT)
        combsum_result_free(res);
    return rc;
}

int combsum(combsum_result *res, const int *candidates, size_t n, int target,
            const combsum_limits *lim, trace *tr)
{
    return solve(res, candidates, n, target, 1, lim, tr);
}

int combsum2(combsum_result *res, const int *candidates, size_t n, int target,
             const combsum_limits *lim, trace *tr)
{
    return solve(res, candidates, n, target, 0, lim, tr);
}

size_t combsum_len(const combsum_result *res, size_t k)
{
    return res->offsets[k + 1] - res->offsets[k];
}

const int *combsum_at(const combsum_result *res, size_t k)
{
    return res->values + res->offsets[k];
}

void combsum_result_free(combsum_result *res)
{
    if (!res)
        return;
    mem_free(res->values);
    mem_free(res->offsets);
    memset(res, 0, sizeof *res);
}
