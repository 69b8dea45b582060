/* Tests of heap: CPython heapq's exact layouts (hand-checked arrays and a transcription of
 * heapq.py's _siftdown/_siftup as the model), the int fast path against the generic code,
 * nsmallest/nlargest/merge against a stable sort, heapsort against qsort, traces,
 * allocation failures and the CLI. Python is not needed: the expected arrays below were
 * worked out by hand (and cross-checked once with CPython while writing them). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../algorithms/heap.h"
#include "../trace/mem.h"
#include "../trace/rng.h"
#include "../trace/status.h"
#include "../trace/trace.h"
#include "../tutor/cli.h"
#include "../tutor/core/parse.h"
#include "../tutor/topics/topic.h"
#include "harness.h"

static strbuf out = STRBUF_INIT, err = STRBUF_INIT;

/* ---- elements with an identity: only key is compared, id tells equal keys apart ---- */

typedef struct item {
    int key;
    int id;
} item;

static int item_less(const void *a, const void *b, void *ctx)
{
    int *calls = ctx;
    if (calls)
        (*calls)++;
    return ((const item *)a)->key < ((const item *)b)->key;
}

static int64_t item_key(const void *e, void *ctx)
{
    (void)ctx;
    return ((const item *)e)->key;
}

static const heap_type item_type = {sizeof(item), item_less, item_key};
static const heap_type item_type_nokey = {sizeof(item), item_less, NULL};

static const item *items_of(const heap *h)
{
    return (const item *)h->data;
}

/* ---- the model: heapq.py's _siftdown and _siftup, transcribed line by line ---- */

static void model_siftdown(item *heap, size_t startpos, size_t pos)
{
    item newitem = heap[pos];
    while (pos > startpos) {
        size_t parentpos = (pos - 1) >> 1;
        item parent = heap[parentpos];
        if (newitem.key < parent.key) {
            heap[pos] = parent;
            pos = parentpos;
            continue;
        }
        break;
    }
    heap[pos] = newitem;
}

static void model_siftup(item *heap, size_t endpos, size_t pos)
{
    size_t startpos = pos;
    item newitem = heap[pos];
    size_t childpos = 2 * pos + 1;
    while (childpos < endpos) {
        size_t rightpos = childpos + 1;
        if (rightpos < endpos && !(heap[childpos].key < heap[rightpos].key))
            childpos = rightpos;
        heap[pos] = heap[childpos];
        pos = childpos;
        childpos = 2 * pos + 1;
    }
    heap[pos] = newitem;
    model_siftdown(heap, startpos, pos);
}

typedef struct model {
    item a[4096];
    size_t n;
} model;

static void model_push(model *m, item x)
{
    m->a[m->n++] = x;
    model_siftdown(m->a, 0, m->n - 1);
}

static item model_pop(model *m)
{
    item last = m->a[--m->n];
    if (m->n == 0)
        return last;
    item ret = m->a[0];
    m->a[0] = last;
    model_siftup(m->a, m->n, 0);
    return ret;
}

static item model_replace(model *m, item x)
{
    item ret = m->a[0];
    m->a[0] = x;
    model_siftup(m->a, m->n, 0);
    return ret;
}

static item model_pushpop(model *m, item x)
{
    if (m->n && m->a[0].key < x.key) {
        item ret = m->a[0];
        m->a[0] = x;
        model_siftup(m->a, m->n, 0);
        return ret;
    }
    return x;
}

static void model_heapify(model *m, const item *v, size_t n)
{
    memcpy(m->a, v, n * sizeof *v);
    m->n = n;
    for (size_t i = n / 2; i-- > 0;)
        model_siftup(m->a, n, i);
}

/* 1 when a[0..n) satisfies the heap invariant: no child sorts before its parent. */
static int is_heap_keys(const item *a, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (a[i].key < a[(i - 1) / 2].key)
            return 0;
    return 1;
}

static int is_heap_ints(const int *a, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (a[i] < a[(i - 1) / 2])
            return 0;
    return 1;
}

/* ---- hand-checked examples ---- */

static void check_ints(const heap *h, const int *want, size_t n)
{
    CU_ASSERT_EQUAL_FATAL(h->len, n);
    CU_ASSERT_EQUAL(memcmp(heap_int_data(h), want, n * sizeof *want), 0);
}

/* heapify [9 8 7 6 5 4 3 2 1], by hand: i = 3: 6's children 2, 1: 2 < 1 false, right;
 * 1 moves up, 6 rests at 8. i = 2: 7's children 4, 3: right; 3 up, 7 at 6. i = 1: 8's
 * children 1, 5: left; 1 up; then 2, 6: left; 2 up, 8 at 7. i = 0: 9 down 1, 2 (left, left),
 * then 8, 6: right, 6 up, 9 rests at the leaf 8. */
static void test_heapify_by_hand(void)
{
    static const int in[] = {9, 8, 7, 6, 5, 4, 3, 2, 1};
    static const int want[] = {1, 2, 3, 6, 5, 4, 7, 8, 9};
    heap h, g;
    heap_init_int(&h);
    heap_init(&g, &heap_int_type, NULL);
    CU_ASSERT_EQUAL(heap_int_heapify(&h, in, 9, NULL), 0);
    check_ints(&h, want, 9);
    CU_ASSERT_EQUAL(heap_heapify(&g, in, 9, NULL), 0);
    check_ints(&g, want, 9);
    /* A textbook heapify that stops as soon as the item is no bigger than its children
     * would give [1, 2, 3, 6, 5, 4, 7, 8, 9] too here, so also a case where it differs:
     * heapify [5 1 2 3 4]: 1's children 3, 4: left, 3 up, 1 rests at 3 and climbs back to
     * 1; then 5 goes down 1, 2 (left), 3, 4 (left), rests at 3: [1, 3, 2, 5, 4]. */
    static const int in2[] = {5, 1, 2, 3, 4};
    static const int want2[] = {1, 3, 2, 5, 4};
    CU_ASSERT_EQUAL(heap_int_heapify(&h, in2, 5, NULL), 0);
    check_ints(&h, want2, 5);
    /* Empty and single heapify. */
    CU_ASSERT_EQUAL(heap_int_heapify(&h, NULL, 0, NULL), 0);
    CU_ASSERT_EQUAL(h.len, 0);
    CU_ASSERT_EQUAL(heap_int_heapify(&h, in, 1, NULL), 0);
    check_ints(&h, in, 1);
    heap_free(&h);
    heap_free(&g);
}

/* The issue's example: push 5; push 3; pop -> 3; heapify 9 8 7 -> [7, 8, 9] (9's children
 * 8, 7: right); pushpop 4 -> 4 (7 < 4 is false); replace 2 -> 7: 2 goes down the left
 * (8 < 9) and climbs back: [2, 8, 9]. */
static void test_issue_example(void)
{
    for (int traced = 0; traced < 2; traced++) {
        trace *tr = traced ? trace_new(0) : NULL;
        heap h;
        heap_init_int(&h);
        int r = -1;
        CU_ASSERT_EQUAL(heap_int_push(&h, 5, tr), 0);
        CU_ASSERT_EQUAL(heap_int_push(&h, 3, tr), 0);
        check_ints(&h, (const int[]){3, 5}, 2);
        CU_ASSERT_EQUAL(heap_int_pop(&h, &r, tr), 0);
        CU_ASSERT_EQUAL(r, 3);
        CU_ASSERT_EQUAL(heap_int_heapify(&h, (const int[]){9, 8, 7}, 3, tr), 0);
        check_ints(&h, (const int[]){7, 8, 9}, 3);
        CU_ASSERT_EQUAL(heap_int_pushpop(&h, 4, &r, tr), 0);
        CU_ASSERT_EQUAL(r, 4);
        CU_ASSERT_EQUAL(heap_int_replace(&h, 2, &r, tr), 0);
        CU_ASSERT_EQUAL(r, 7);
        check_ints(&h, (const int[]){2, 8, 9}, 3);
        heap_free(&h);
        trace_free(tr);
    }
}

/* Equal keys: where each one goes is CPython's exact choice. Keys 3 1 3 1 2 1 3 2 1 2 with
 * ids 0..9, then a fixed op sequence; the expected id arrays are heapq's, for elements
 * whose __lt__ compares the key only. */
static void test_ties_exact(void)
{
    static const int keys[] = {3, 1, 3, 1, 2, 1, 3, 2, 1, 2};
    item v[10];
    for (int i = 0; i < 10; i++)
        v[i] = (item){keys[i], i};
    static const struct {
        char op; /* u push, o pop, r replace, p pushpop */
        int key; /* for u, r, p; the new element's id is 10, 11, ... */
        int ret; /* the returned id, -1 for push */
        int n;   /* length after */
        int ids[11];
    } steps[] = {
        {'u', 1, -1, 11, {5, 8, 6, 3, 10, 2, 0, 7, 1, 4, 9}},
        {'o', 0, 5, 10, {8, 10, 6, 3, 4, 2, 0, 7, 1, 9}},
        {'r', 2, 8, 10, {10, 3, 6, 1, 4, 2, 0, 7, 11, 9}},
        {'p', 1, 12, 10, {10, 3, 6, 1, 4, 2, 0, 7, 11, 9}},
        {'p', 3, 10, 10, {3, 1, 6, 11, 4, 2, 0, 7, 13, 9}},
        {'o', 0, 3, 9, {1, 4, 6, 11, 9, 2, 0, 7, 13}},
        {'u', 2, -1, 10, {1, 4, 6, 11, 9, 2, 0, 7, 13, 14}},
        {'u', 1, -1, 11, {1, 15, 6, 11, 4, 2, 0, 7, 13, 14, 9}},
        {'r', 1, 1, 11, {15, 16, 6, 11, 4, 2, 0, 7, 13, 14, 9}},
        {'o', 0, 15, 10, {16, 4, 6, 11, 14, 2, 0, 7, 13, 9}},
    };
    static const int heapified[] = {5, 8, 6, 3, 9, 2, 0, 7, 1, 4};
    for (int traced = 0; traced < 2; traced++) {
        trace *tr = traced ? trace_new(0) : NULL;
        heap h;
        heap_init(&h, &item_type, NULL);
        model m;
        CU_ASSERT_EQUAL(heap_heapify(&h, v, 10, tr), 0);
        model_heapify(&m, v, 10);
        for (int i = 0; i < 10; i++) {
            CU_ASSERT_EQUAL(items_of(&h)[i].id, heapified[i]);
            CU_ASSERT_EQUAL(m.a[i].id, heapified[i]);
        }
        int next_id = 10;
        for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
            item x = {steps[s].key, next_id}, r = {-1, -1}, mr = {-1, -1};
            switch (steps[s].op) {
            case 'u':
                CU_ASSERT_EQUAL(heap_push(&h, &x, tr), 0);
                model_push(&m, x);
                next_id++;
                break;
            case 'o':
                CU_ASSERT_EQUAL(heap_pop(&h, &r, tr), 0);
                mr = model_pop(&m);
                break;
            case 'r':
                CU_ASSERT_EQUAL(heap_replace(&h, &x, &r, tr), 0);
                mr = model_replace(&m, x);
                next_id++;
                break;
            case 'p':
                CU_ASSERT_EQUAL(heap_pushpop(&h, &x, &r, tr), 0);
                mr = model_pushpop(&m, x);
                next_id++;
                break;
            }
            CU_ASSERT_EQUAL(r.id, steps[s].ret);
            CU_ASSERT_EQUAL(mr.id, steps[s].ret);
            CU_ASSERT_EQUAL_FATAL(h.len, (size_t)steps[s].n);
            CU_ASSERT_EQUAL_FATAL(m.n, (size_t)steps[s].n);
            for (int i = 0; i < steps[s].n; i++) {
                CU_ASSERT_EQUAL(items_of(&h)[i].id, steps[s].ids[i]);
                CU_ASSERT_EQUAL(m.a[i].id, steps[s].ids[i]);
            }
        }
        heap_free(&h);
        trace_free(tr);
    }
}

/* heapq's documented edge cases. */
static void test_edge_cases(void)
{
    heap h;
    heap_init_int(&h);
    int r = 42;
    /* pop and replace on an empty heap are errors that change nothing. */
    CU_ASSERT_EQUAL(heap_int_pop(&h, &r, NULL), TUTOR_EEMPTY);
    CU_ASSERT_EQUAL(heap_int_replace(&h, 1, &r, NULL), TUTOR_EEMPTY);
    CU_ASSERT_EQUAL(r, 42);
    CU_ASSERT_EQUAL(h.len, 0);
    item it = {1, 1}, ir;
    heap g;
    heap_init(&g, &item_type, NULL);
    CU_ASSERT_EQUAL(heap_pop(&g, &ir, NULL), TUTOR_EEMPTY);
    CU_ASSERT_EQUAL(heap_replace(&g, &it, &ir, NULL), TUTOR_EEMPTY);
    /* pushpop on an empty heap returns the item and leaves the heap empty. */
    CU_ASSERT_EQUAL(heap_int_pushpop(&h, 7, &r, NULL), 0);
    CU_ASSERT_EQUAL(r, 7);
    CU_ASSERT_EQUAL(h.len, 0);
    /* pushpop of an item equal to the root: root < item is false, the item comes back. */
    CU_ASSERT_EQUAL(heap_push(&g, &(item){5, 0}, NULL), 0);
    CU_ASSERT_EQUAL(heap_push(&g, &(item){6, 1}, NULL), 0);
    CU_ASSERT_EQUAL(heap_pushpop(&g, &(item){5, 2}, &ir, NULL), 0);
    CU_ASSERT_EQUAL(ir.id, 2);
    CU_ASSERT_EQUAL(items_of(&g)[0].id, 0);
    /* pushpop of a smaller item comes straight back; a larger one swaps with the root. */
    CU_ASSERT_EQUAL(heap_pushpop(&g, &(item){1, 3}, &ir, NULL), 0);
    CU_ASSERT_EQUAL(ir.id, 3);
    CU_ASSERT_EQUAL(heap_pushpop(&g, &(item){9, 4}, &ir, NULL), 0);
    CU_ASSERT_EQUAL(ir.id, 0);
    CU_ASSERT_EQUAL(items_of(&g)[0].id, 1);
    CU_ASSERT_EQUAL(items_of(&g)[1].id, 4);
    /* replace returns the old root even when the new item is smaller. */
    CU_ASSERT_EQUAL(heap_replace(&g, &(item){0, 5}, &ir, NULL), 0);
    CU_ASSERT_EQUAL(ir.id, 1);
    CU_ASSERT_EQUAL(items_of(&g)[0].id, 5);
    /* item and out may be the same buffer. */
    item same = {100, 6};
    CU_ASSERT_EQUAL(heap_replace(&g, &same, &same, NULL), 0);
    CU_ASSERT_EQUAL(same.id, 5);
    CU_ASSERT_EQUAL(heap_pushpop(&g, &same, &same, NULL), 0);
    CU_ASSERT_EQUAL(same.id, 5); /* key 0 is not greater than the root 9 */
    /* A single item pops out and leaves an empty, reusable heap. */
    CU_ASSERT_EQUAL(heap_int_push(&h, INT_MIN, NULL), 0);
    CU_ASSERT_EQUAL(heap_int_pop(&h, &r, NULL), 0);
    CU_ASSERT_EQUAL(r, INT_MIN);
    CU_ASSERT_EQUAL(h.len, 0);
    CU_ASSERT_EQUAL(heap_int_push(&h, INT_MAX, NULL), 0);
    CU_ASSERT_EQUAL(heap_int_push(&h, INT_MIN, NULL), 0);
    check_ints(&h, (const int[]){INT_MIN, INT_MAX}, 2);
    heap_free(&h);
    heap_free(&g);
    heap_free(&h); /* twice is fine */
    heap_free(NULL);
}

/* ---- random op sequences: five implementations in lockstep ---- */

/* Checks that the latest "heap" snapshot of tr shows exactly keys[0..n). */
static int snapshot_matches(const trace *tr, const item *a, size_t n)
{
    size_t len = trace_len(tr);
    const trace_snap *s = len ? trace_latest(tr, len - 1, "heap") : NULL;
    if (!s)
        return n == 0;
    if (s->cols != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s->ints[i] != a[i].key)
            return 0;
    return 1;
}

/* Every step names a listing line; every "which child" quiz is answered by the move that
 * follows; every comparison of two children marks both; the rest quiz names an index
 * inside the array. */
static size_t check_trace_shape(const trace *tr)
{
    size_t n = trace_len(tr), quizzes = 0;
    for (size_t i = 0; i < n; i++) {
        const trace_frame *st = trace_at(tr, i);
        CU_ASSERT_TRUE(st->line >= 1 && (size_t)st->line <= heap_listing_len);
        if (st->line == 24) {
            int compares = 0;
            long lo = -1;
            for (size_t k = 0; k < st->nmarks; k++)
                if (st->marks[k].role == TRACE_COMPARE) {
                    compares++;
                    lo = lo < 0 || st->marks[k].row < lo ? st->marks[k].row : lo;
                }
            CU_ASSERT_EQUAL(compares, 2);
            CU_ASSERT_TRUE(lo % 2 == 1);
            CU_ASSERT_PTR_NOT_NULL_FATAL(st->quiz);
            CU_ASSERT_TRUE(st->quiz_answer == lo || st->quiz_answer == lo + 1);
            CU_ASSERT_TRUE_FATAL(i + 1 < n);
            const trace_frame *next = trace_at(tr, i + 1);
            CU_ASSERT_EQUAL(next->line, 25);
            int moved_from = 0;
            for (size_t k = 0; k < next->nmarks; k++)
                moved_from |=
                    next->marks[k].role == TRACE_MOVE && next->marks[k].row == st->quiz_answer;
            CU_ASSERT_TRUE(moved_from);
        }
        if (st->line == 2) {
            /* A push asks where the item will rest, unless the heap was empty. */
            CU_ASSERT_TRUE(st->nmarks == 1 && st->marks[0].role == TRACE_CURRENT);
            CU_ASSERT_EQUAL(st->quiz != NULL, st->nmarks && st->marks[0].row > 0);
        }
        quizzes += st->quiz != NULL;
        if ((st->line == 2 || st->line == 26) && st->quiz) {
            /* A climb starts: the predicted resting place is where the climb ends. */
            size_t j = i + 1;
            while (j < n && trace_at(tr, j)->line != 19)
                j++;
            CU_ASSERT_TRUE_FATAL(j < n);
            const trace_frame *rest = trace_at(tr, j);
            CU_ASSERT_TRUE(rest->nmarks == 1 && rest->marks[0].role == TRACE_CURRENT &&
                           rest->marks[0].row == st->quiz_answer);
        }
    }
    return quizzes;
}

/* The last push's "rest" quiz of tr: where the pushed item comes to rest. */
static int64_t last_rest_answer(const trace *tr)
{
    for (size_t i = trace_len(tr); i-- > 0;)
        if (trace_at(tr, i)->line == 2)
            return trace_at(tr, i)->quiz ? trace_at(tr, i)->quiz_answer : 0;
    return -1;
}

static void random_ops(uint64_t seed, int nops, int key_lo, int key_hi, int traced)
{
    rng r;
    rng_seed(&r, seed);
    model m = {.n = 0};
    heap g, gt, fi, it;
    heap_init(&g, &item_type, NULL);
    heap_init(&gt, &item_type, NULL);
    heap_init_int(&fi);
    heap_init_int(&it);
    trace *tr = traced ? trace_new(0) : NULL, *tr_int = traced ? trace_new(0) : NULL;
    int next_id = 0, bad = 0;
    for (int step = 0; step < nops && !bad; step++) {
        int64_t what = rng_range(&r, 0, 99);
        item x = {(int)rng_range(&r, key_lo, key_hi), next_id++};
        item rg = {0, -1}, rgt = {0, -1}, rm = {0, -2};
        int ri = 0, rit = 0;
        int e1 = 0, e2 = 0, e3 = 0, e4 = 0, want = 0;
        if (m.n + 64 >= sizeof m.a / sizeof m.a[0])
            what = 40; /* keep the model inside its array: pop */
        if (what < 35) {
            model_push(&m, x);
            e1 = heap_push(&g, &x, NULL);
            e2 = heap_push(&gt, &x, tr);
            e3 = heap_int_push(&fi, x.key, NULL);
            e4 = heap_int_push(&it, x.key, tr_int);
            if (traced) {
                /* The push's rest quiz names where x now lies. */
                int64_t at = last_rest_answer(tr);
                CU_ASSERT_TRUE(at >= 0 && items_of(&gt)[at].id == x.id);
            }
        } else if (what < 55) {
            want = m.n ? 0 : TUTOR_EEMPTY;
            if (m.n)
                rm = model_pop(&m);
            e1 = heap_pop(&g, &rg, NULL);
            e2 = heap_pop(&gt, &rgt, tr);
            e3 = heap_int_pop(&fi, &ri, NULL);
            e4 = heap_int_pop(&it, &rit, tr_int);
        } else if (what < 70) {
            want = m.n ? 0 : TUTOR_EEMPTY;
            if (m.n)
                rm = model_replace(&m, x);
            e1 = heap_replace(&g, &x, &rg, NULL);
            e2 = heap_replace(&gt, &x, &rgt, tr);
            e3 = heap_int_replace(&fi, x.key, &ri, NULL);
            e4 = heap_int_replace(&it, x.key, &rit, tr_int);
        } else if (what < 92) {
            rm = model_pushpop(&m, x);
            e1 = heap_pushpop(&g, &x, &rg, NULL);
            e2 = heap_pushpop(&gt, &x, &rgt, tr);
            e3 = heap_int_pushpop(&fi, x.key, &ri, NULL);
            e4 = heap_int_pushpop(&it, x.key, &rit, tr_int);
        } else {
            item v[80];
            int ints[80];
            size_t n = (size_t)rng_range(&r, 0, 79);
            for (size_t i = 0; i < n; i++) {
                v[i] = (item){(int)rng_range(&r, key_lo, key_hi), next_id++};
                ints[i] = v[i].key;
            }
            model_heapify(&m, v, n);
            e1 = heap_heapify(&g, v, n, NULL);
            e2 = heap_heapify(&gt, v, n, tr);
            e3 = heap_int_heapify(&fi, ints, n, NULL);
            e4 = heap_int_heapify(&it, ints, n, tr_int);
        }
        CU_ASSERT_TRUE(e1 == want && e2 == want && e3 == want && e4 == want);
        if (rm.id != -2) {
            CU_ASSERT_TRUE(rg.id == rm.id && rgt.id == rm.id);
            CU_ASSERT_TRUE(ri == rm.key && rit == rm.key);
        }
        /* Every copy holds exactly the model's array, which is a heap. */
        int same = g.len == m.n && gt.len == m.n && fi.len == m.n && it.len == m.n;
        for (size_t i = 0; same && i < m.n; i++)
            same = items_of(&g)[i].id == m.a[i].id && items_of(&gt)[i].id == m.a[i].id &&
                   heap_int_data(&fi)[i] == m.a[i].key && heap_int_data(&it)[i] == m.a[i].key;
        CU_ASSERT_TRUE(same);
        CU_ASSERT_TRUE(is_heap_keys(m.a, m.n));
        CU_ASSERT_TRUE(is_heap_ints(heap_int_data(&fi), fi.len));
        if (traced) {
            CU_ASSERT_TRUE(snapshot_matches(tr, m.a, m.n));
            CU_ASSERT_TRUE(snapshot_matches(tr_int, m.a, m.n));
        }
        if (!same) {
            fprintf(stderr, "\n  seed %llu: arrays differ after op %d (kind %lld)",
                    (unsigned long long)seed, step, (long long)what);
            bad = 1;
        }
    }
    /* Popping everything gives the keys in ascending order. */
    int prev = INT_MIN, sorted = 1, r1, r2;
    while (fi.len) {
        CU_ASSERT_EQUAL(heap_int_pop(&fi, &r1, NULL), 0);
        CU_ASSERT_EQUAL(heap_int_pop(&it, &r2, NULL), 0);
        sorted &= r1 >= prev && r1 == r2;
        prev = r1;
    }
    CU_ASSERT_TRUE(sorted);
    if (traced) {
        CU_ASSERT_EQUAL(trace_status(tr), 0);
        CU_ASSERT_FALSE(trace_truncated(tr));
        CU_ASSERT_TRUE(check_trace_shape(tr) > 0);
        CU_ASSERT_TRUE(check_trace_shape(tr_int) > 0);
    }
    heap_free(&g);
    heap_free(&gt);
    heap_free(&fi);
    heap_free(&it);
    trace_free(tr);
    trace_free(tr_int);
}

static void test_random_ops(void)
{
    for (uint64_t seed = 1; seed <= 150; seed++)
        random_ops(seed, 400, 0, seed % 3 ? 9 : 1000, 0);
    for (uint64_t seed = 1000; seed <= 1010; seed++)
        random_ops(seed, 3000, INT_MIN, INT_MAX, 0);
}

static void test_random_ops_traced(void)
{
    for (uint64_t seed = 500; seed <= 540; seed++)
        random_ops(seed, 150, 0, seed % 2 ? 5 : 100, 1);
}

/* Comparison counts: heapify of n items uses fewer than 2n comparisons (the O(n) bound),
 * and a push into a heap of 2^k - 1 items at most k. */
static void test_heapify_is_linear(void)
{
    enum { N = 1 << 14 };
    static item v[N];
    rng r;
    rng_seed(&r, 7);
    for (int i = 0; i < N; i++)
        v[i] = (item){(int)rng_range(&r, 0, 1 << 30), i};
    int calls = 0;
    heap h;
    heap_init(&h, &item_type, &calls);
    CU_ASSERT_EQUAL(heap_heapify(&h, v, N, NULL), 0);
    CU_ASSERT_TRUE(calls < 2 * N);
    CU_ASSERT_TRUE(is_heap_keys(items_of(&h), N));
    heap_free(&h);
    heap_init(&h, &item_type, &calls);
    CU_ASSERT_EQUAL(heap_heapify(&h, v, 1023, NULL), 0);
    calls = 0;
    CU_ASSERT_EQUAL(heap_push(&h, &(item){-1, -1}, NULL), 0);
    CU_ASSERT_TRUE(calls <= 10);
    CU_ASSERT_EQUAL(items_of(&h)[0].id, -1);
    heap_free(&h);
}

/* ---- nsmallest, nlargest, merge: against a stable insertion sort ---- */

/* Stable sort of v[0..n) by key, ascending (desc = 0) or descending. */
static void stable_sort(item *v, size_t n, int desc)
{
    for (size_t i = 1; i < n; i++) {
        item x = v[i];
        size_t j = i;
        while (j > 0 && (desc ? v[j - 1].key < x.key : v[j - 1].key > x.key)) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

static int same_ids(const item *a, const item *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].id != b[i].id || a[i].key != b[i].key)
            return 0;
    return 1;
}

/* The hand-checked case (heapq with key-only __lt__/__eq__ gives the same ids). */
static void test_pick_by_hand(void)
{
    static const int keys[] = {3, 1, 3, 1, 2, 1, 3, 2, 1, 2};
    item v[10], res[10];
    for (int i = 0; i < 10; i++)
        v[i] = (item){keys[i], i};
    static const struct {
        long n;
        size_t k;
        int small[10], large[10];
    } cases[] = {
        {-1, 0, {0}, {0}},
        {0, 0, {0}, {0}},
        {1, 1, {1}, {0}},
        {3, 3, {1, 3, 5}, {0, 2, 6}},
        {4, 4, {1, 3, 5, 8}, {0, 2, 6, 4}},
        {7, 7, {1, 3, 5, 8, 4, 7, 9}, {0, 2, 6, 4, 7, 9, 1}},
        {10, 10, {1, 3, 5, 8, 4, 7, 9, 0, 2, 6}, {0, 2, 6, 4, 7, 9, 1, 3, 5, 8}},
        {12, 10, {1, 3, 5, 8, 4, 7, 9, 0, 2, 6}, {0, 2, 6, 4, 7, 9, 1, 3, 5, 8}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t k = 99;
        CU_ASSERT_EQUAL(heap_nsmallest(res, &k, v, 10, cases[c].n, &item_type, NULL, NULL), 0);
        CU_ASSERT_EQUAL_FATAL(k, cases[c].k);
        for (size_t i = 0; i < k; i++)
            CU_ASSERT_EQUAL(res[i].id, cases[c].small[i]);
        k = 99;
        CU_ASSERT_EQUAL(heap_nlargest(res, &k, v, 10, cases[c].n, &item_type, NULL, NULL), 0);
        CU_ASSERT_EQUAL_FATAL(k, cases[c].k);
        for (size_t i = 0; i < k; i++)
            CU_ASSERT_EQUAL(res[i].id, cases[c].large[i]);
    }
    size_t k = 99;
    CU_ASSERT_EQUAL(heap_nsmallest(res, &k, NULL, 0, 5, &item_type, NULL, NULL), 0);
    CU_ASSERT_EQUAL(k, 0);
    int ints[] = {5, 1, 4, 1, 5, 9, 2, 6}, ir[8];
    CU_ASSERT_EQUAL(heap_int_nsmallest(ir, &k, ints, 8, 3, NULL), 0);
    CU_ASSERT_TRUE(k == 3 && ir[0] == 1 && ir[1] == 1 && ir[2] == 2);
    CU_ASSERT_EQUAL(heap_int_nlargest(ir, &k, ints, 8, 3, NULL), 0);
    CU_ASSERT_TRUE(k == 3 && ir[0] == 9 && ir[1] == 6 && ir[2] == 5);
}

static void test_pick_random(void)
{
    rng r;
    rng_seed(&r, 99);
    for (int round = 0; round < 600; round++) {
        size_t count = (size_t)rng_range(&r, 0, 60);
        int hi = round % 2 ? 4 : 1000000;
        item v[60], want[60], got[60];
        int ints[60], igot[60];
        for (size_t i = 0; i < count; i++) {
            v[i] = (item){(int)rng_range(&r, 0, hi), (int)i};
            ints[i] = v[i].key;
        }
        long n = (long)rng_range(&r, -2, (int64_t)count + 2);
        size_t k = n <= 0 ? 0 : (size_t)n < count ? (size_t)n : count;
        trace *tr = round % 10 == 0 ? trace_new(0) : NULL;
        for (int largest = 0; largest < 2; largest++) {
            memcpy(want, v, count * sizeof *v);
            stable_sort(want, count, largest);
            size_t got_n = 999, igot_n = 999;
            int rc = largest ? heap_nlargest(got, &got_n, v, count, n, &item_type, NULL, tr)
                             : heap_nsmallest(got, &got_n, v, count, n, &item_type, NULL, tr);
            CU_ASSERT_EQUAL(rc, 0);
            CU_ASSERT_EQUAL_FATAL(got_n, k);
            CU_ASSERT_TRUE(same_ids(got, want, k));
            rc = largest ? heap_int_nlargest(igot, &igot_n, ints, count, n, NULL)
                         : heap_int_nsmallest(igot, &igot_n, ints, count, n, NULL);
            CU_ASSERT_EQUAL(rc, 0);
            CU_ASSERT_EQUAL_FATAL(igot_n, k);
            for (size_t i = 0; i < k; i++)
                CU_ASSERT_EQUAL(igot[i], want[i].key);
            if (tr && k) {
                /* The trace ends showing the whole result. */
                const trace_snap *s = trace_latest(tr, trace_len(tr) - 1, "result");
                CU_ASSERT_TRUE_FATAL(s && s->cols == k);
                for (size_t i = 0; i < k; i++)
                    CU_ASSERT_EQUAL(s->ints[i], want[i].key);
            }
        }
        if (tr) {
            CU_ASSERT_EQUAL(trace_status(tr), 0);
            check_trace_shape(tr);
        }
        trace_free(tr);
    }
}

static void test_merge_by_hand(void)
{
    /* heapq.merge([1,3,3,5], [], [1,2,3], [3], [0,5]) by id: 8 0 4 5 1 2 6 7 3 9. */
    const item l0[] = {{1, 0}, {3, 1}, {3, 2}, {5, 3}}, l2[] = {{1, 4}, {2, 5}, {3, 6}},
               l3[] = {{3, 7}}, l4[] = {{0, 8}, {5, 9}};
    const void *in[] = {l0, NULL, l2, l3, l4};
    const size_t lens[] = {4, 0, 3, 1, 2};
    item res[10];
    static const int want[] = {8, 0, 4, 5, 1, 2, 6, 7, 3, 9};
    CU_ASSERT_EQUAL(heap_merge(res, in, lens, 5, 0, &item_type, NULL, NULL), 0);
    for (int i = 0; i < 10; i++)
        CU_ASSERT_EQUAL(res[i].id, want[i]);
    /* reverse=True: [5,3,3,1], [], [3,2,1], [3], [5,0] by id: 0 8 1 2 4 7 5 3 6 9. */
    const item r0[] = {{5, 0}, {3, 1}, {3, 2}, {1, 3}}, r2[] = {{3, 4}, {2, 5}, {1, 6}},
               r3[] = {{3, 7}}, r4[] = {{5, 8}, {0, 9}};
    const void *rin[] = {r0, NULL, r2, r3, r4};
    static const int rwant[] = {0, 8, 1, 2, 4, 7, 5, 3, 6, 9};
    CU_ASSERT_EQUAL(heap_merge(res, rin, lens, 5, 1, &item_type, NULL, NULL), 0);
    for (int i = 0; i < 10; i++)
        CU_ASSERT_EQUAL(res[i].id, rwant[i]);
    /* No lists, and only empty lists. */
    CU_ASSERT_EQUAL(heap_merge(res, NULL, NULL, 0, 0, &item_type, NULL, NULL), 0);
    const size_t zeros[] = {0, 0};
    const void *none[] = {NULL, NULL};
    CU_ASSERT_EQUAL(heap_merge(res, none, zeros, 2, 1, &item_type, NULL, NULL), 0);
    /* Ints. */
    const int a[] = {1, 4, 7}, b[] = {2, 5}, c[] = {3};
    const int *iin[] = {a, b, c};
    const size_t ilens[] = {3, 2, 1};
    int ires[6];
    CU_ASSERT_EQUAL(heap_int_merge(ires, iin, ilens, 3, 0, NULL), 0);
    CU_ASSERT_EQUAL(memcmp(ires, ((const int[]){1, 2, 3, 4, 5, 7}), sizeof ires), 0);
}

static void test_merge_random(void)
{
    rng r;
    rng_seed(&r, 2024);
    for (int round = 0; round < 500; round++) {
        int reverse = round % 2;
        size_t k = (size_t)rng_range(&r, 0, 7), total = 0;
        item lists[7][12], all[84], got[84];
        int ilists[7][12], igot[84];
        const void *in[7];
        const int *iin[7];
        size_t lens[7];
        for (size_t l = 0; l < k; l++) {
            lens[l] = (size_t)rng_range(&r, 0, 12);
            for (size_t i = 0; i < lens[l]; i++)
                lists[l][i] = (item){(int)rng_range(&r, -3, round % 3 ? 3 : 50), 0};
            stable_sort(lists[l], lens[l], reverse);
            for (size_t i = 0; i < lens[l]; i++) {
                lists[l][i].id = (int)(100 * l + i);
                ilists[l][i] = lists[l][i].key;
                all[total++] = lists[l][i];
            }
            in[l] = lists[l];
            iin[l] = ilists[l];
        }
        /* Stable sort of the concatenation: equal keys stay in list order. */
        stable_sort(all, total, reverse);
        trace *tr = round % 8 == 0 ? trace_new(0) : NULL;
        CU_ASSERT_EQUAL(heap_merge(got, in, lens, k, reverse, &item_type, NULL, tr), 0);
        CU_ASSERT_TRUE(same_ids(got, all, total));
        CU_ASSERT_EQUAL(heap_int_merge(igot, iin, lens, k, reverse, NULL), 0);
        for (size_t i = 0; i < total; i++)
            CU_ASSERT_EQUAL(igot[i], all[i].key);
        if (tr) {
            CU_ASSERT_EQUAL(trace_status(tr), 0);
            check_trace_shape(tr);
            const trace_snap *s = trace_latest(tr, trace_len(tr) - 1, "output");
            CU_ASSERT_TRUE_FATAL(s && s->cols == total);
            for (size_t i = 0; i < total; i++)
                CU_ASSERT_EQUAL(s->ints[i], all[i].key);
        }
        trace_free(tr);
    }
}

/* The contract asks for non-zero when a < b, not for 1: a test answering -7 must leave
 * every array as the 0/1 one does (the untraced sifts normalise the answer before using it
 * as an index offset; without that, -7 would send the descent outside the heap). */
static int item_less_odd(const void *a, const void *b, void *ctx)
{
    (void)ctx;
    return ((const item *)a)->key < ((const item *)b)->key ? -7 : 0;
}

static void test_less_any_nonzero(void)
{
    static const heap_type odd_type = {sizeof(item), item_less_odd, item_key};
    rng r;
    rng_seed(&r, 4242);
    heap a, b;
    heap_init(&a, &item_type, NULL);
    heap_init(&b, &odd_type, NULL);
    int differ = 0;
    for (int op = 0; op < 4000; op++) {
        item x = {(int)rng_range(&r, 0, op % 2 ? 9 : 100000), op}, ya, yb;
        int kind = (int)rng_range(&r, 0, 9);
        if (kind < 5 || a.len == 0) {
            CU_ASSERT_EQUAL_FATAL(heap_push(&a, &x, NULL), 0);
            CU_ASSERT_EQUAL_FATAL(heap_push(&b, &x, NULL), 0);
        } else if (kind < 8) {
            CU_ASSERT_EQUAL_FATAL(heap_pop(&a, &ya, NULL), 0);
            CU_ASSERT_EQUAL_FATAL(heap_pop(&b, &yb, NULL), 0);
            differ += ya.id != yb.id;
        } else {
            CU_ASSERT_EQUAL_FATAL(heap_pushpop(&a, &x, &ya, NULL), 0);
            CU_ASSERT_EQUAL_FATAL(heap_pushpop(&b, &x, &yb, NULL), 0);
            differ += ya.id != yb.id;
        }
        CU_ASSERT_EQUAL_FATAL(a.len, b.len);
        differ += memcmp(a.data, b.data, a.len * sizeof(item)) != 0;
    }
    item v[200], g1[200], g2[200];
    for (size_t i = 0; i < 200; i++)
        v[i] = (item){(int)rng_range(&r, 0, 20), (int)i};
    size_t n1, n2;
    CU_ASSERT_EQUAL(heap_nsmallest(g1, &n1, v, 200, 50, &item_type, NULL, NULL), 0);
    CU_ASSERT_EQUAL(heap_nsmallest(g2, &n2, v, 200, 50, &odd_type, NULL, NULL), 0);
    differ += n1 != n2 || !same_ids(g1, g2, n1);
    CU_ASSERT_EQUAL(heap_nlargest(g1, &n1, v, 200, 50, &item_type, NULL, NULL), 0);
    CU_ASSERT_EQUAL(heap_nlargest(g2, &n2, v, 200, 50, &odd_type, NULL, NULL), 0);
    differ += n1 != n2 || !same_ids(g1, g2, n1);
    memcpy(g1, v, sizeof v);
    memcpy(g2, v, sizeof v);
    CU_ASSERT_EQUAL(heap_sort(g1, 200, &item_type, NULL, NULL), 0);
    CU_ASSERT_EQUAL(heap_sort(g2, 200, &odd_type, NULL, NULL), 0);
    differ += !same_ids(g1, g2, 200);
    CU_ASSERT_EQUAL(heap_heapify(&a, v, 200, NULL), 0);
    CU_ASSERT_EQUAL(heap_heapify(&b, v, 200, NULL), 0);
    differ += memcmp(a.data, b.data, 200 * sizeof(item)) != 0;
    CU_ASSERT_EQUAL(differ, 0);
    heap_free(&a);
    heap_free(&b);
}

/* ---- heapsort against qsort ---- */

static int qsort_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void test_heapsort(void)
{
    rng r;
    rng_seed(&r, 31337);
    enum { MAXN = 300 };
    int v[MAXN], a[MAXN], b[MAXN], c[MAXN];
    item iv[MAXN];
    for (int round = 0; round < 300; round++) {
        size_t n = (size_t)rng_range(&r, 0, round < 40 ? 8 : MAXN);
        for (size_t i = 0; i < n; i++) {
            v[i] = round % 3 == 0   ? (int)rng_range(&r, INT_MIN, INT_MAX)
                   : round % 3 == 1 ? (int)rng_range(&r, -2, 2)
                                    : (int)rng_range(&r, 0, 1000);
            iv[i] = (item){v[i], (int)i};
        }
        memcpy(a, v, n * sizeof *v);
        memcpy(b, v, n * sizeof *v);
        memcpy(c, v, n * sizeof *v);
        qsort(a, n, sizeof *a, qsort_int);
        CU_ASSERT_EQUAL(heap_int_sort(b, n, NULL), 0);
        CU_ASSERT_EQUAL(heap_sort(c, n, &heap_int_type, NULL, NULL), 0);
        CU_ASSERT_EQUAL(memcmp(a, b, n * sizeof *a), 0);
        CU_ASSERT_EQUAL(memcmp(a, c, n * sizeof *a), 0);
        /* Generic elements: sorted keys, and every id still there once. */
        CU_ASSERT_EQUAL(heap_sort(iv, n, &item_type, NULL, NULL), 0);
        int seen[MAXN] = {0}, ok = 1;
        for (size_t i = 0; i < n; i++) {
            ok &= iv[i].key == a[i] && !seen[iv[i].id];
            seen[iv[i].id] = 1;
        }
        CU_ASSERT_TRUE(ok);
        if (round % 20 == 0) {
            trace *tr = trace_new(0);
            memcpy(c, v, n * sizeof *v);
            CU_ASSERT_EQUAL(heap_int_sort(c, n, tr), 0);
            CU_ASSERT_EQUAL(memcmp(a, c, n * sizeof *a), 0);
            CU_ASSERT_EQUAL(trace_status(tr), 0);
            check_trace_shape(tr);
            const trace_snap *s = trace_latest(tr, trace_len(tr) - 1, "heap");
            CU_ASSERT_TRUE_FATAL(s && s->cols == n);
            for (size_t i = 0; i < n; i++)
                CU_ASSERT_EQUAL(s->ints[i], a[i]);
            trace_free(tr);
        }
    }
    /* The in-place heapsort builds CPython's max-heap: [5 2 9 1 7] heapifies to
     * [9, 7, 5, 1, 2] (2 follows 7, then 5 follows 9), then sorts. */
    int s[] = {5, 2, 9, 1, 7};
    trace *tr = trace_new(0);
    CU_ASSERT_EQUAL(heap_int_sort(s, 5, tr), 0);
    CU_ASSERT_EQUAL(memcmp(s, ((const int[]){1, 2, 5, 7, 9}), sizeof s), 0);
    int found = 0;
    for (size_t i = 0; i < trace_len(tr); i++) {
        const trace_frame *st = trace_at(tr, i);
        if (st->line == 37) {
            const trace_snap *h = trace_latest(tr, i - 1, "heap");
            CU_ASSERT_TRUE(h && h->ints[0] == 9 && h->ints[1] == 7 && h->ints[2] == 5 &&
                           h->ints[3] == 1 && h->ints[4] == 2);
            found = 1;
            break;
        }
    }
    CU_ASSERT_TRUE(found);
    trace_free(tr);
}

/* ---- traces ---- */

static void test_trace_push_and_pop(void)
{
    trace *tr = trace_new(0);
    heap h;
    heap_init_int(&h);
    CU_ASSERT_EQUAL(heap_int_heapify(&h, (const int[]){2, 4, 6, 8, 10, 12, 14}, 7, tr), 0);
    size_t before = trace_len(tr);
    /* push 1: appended at 7, climbs past 8 (3), 4 (1), 2 (0): rests at the root. */
    CU_ASSERT_EQUAL(heap_int_push(&h, 1, tr), 0);
    check_ints(&h, (const int[]){1, 2, 6, 4, 10, 12, 14, 8}, 8);
    int moves = 0, rest = -1;
    for (size_t i = before; i < trace_len(tr); i++) {
        const trace_frame *st = trace_at(tr, i);
        moves += st->line == 17;
        if (st->line == 2) {
            CU_ASSERT_PTR_NOT_NULL(st->quiz);
            rest = (int)st->quiz_answer;
        }
    }
    CU_ASSERT_EQUAL(moves, 3);
    CU_ASSERT_EQUAL(rest, 0);
    /* pop: 8 fills the root hole, the hole goes down 2 (1), 4 (3), to the leaf 3, and 8
     * stays there: [2, 4, 6, 8, 10, 12, 14]; two "which child" questions (0's and 1's
     * children; 3 has only the child 7, which is gone). */
    before = trace_len(tr);
    int r;
    CU_ASSERT_EQUAL(heap_int_pop(&h, &r, tr), 0);
    CU_ASSERT_EQUAL(r, 1);
    check_ints(&h, (const int[]){2, 4, 6, 8, 10, 12, 14}, 7);
    int quizzes = 0;
    for (size_t i = before; i < trace_len(tr); i++) {
        const trace_frame *st = trace_at(tr, i);
        if (st->line == 24) {
            quizzes++;
            CU_ASSERT_EQUAL(st->quiz_answer, quizzes == 1 ? 1 : 3);
        }
    }
    CU_ASSERT_EQUAL(quizzes, 2);
    const trace_snap *last = trace_latest(tr, trace_len(tr) - 1, "heap");
    CU_ASSERT_TRUE_FATAL(last && last->cols == 7);
    for (size_t i = 0; i < 7; i++)
        CU_ASSERT_EQUAL(last->ints[i], heap_int_data(&h)[i]);
    check_trace_shape(tr);
    size_t nl;
    CU_ASSERT_PTR_EQUAL(trace_listing(tr, &nl), NULL); /* the runner sets it, not the library */
    /* The JSON export of a heap trace is valid. */
    strbuf sb = STRBUF_INIT;
    trace_set_listing(tr, heap_listing, heap_listing_len);
    CU_ASSERT_EQUAL(trace_json(tr, &sb), 0);
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&sb)));
    strbuf_free(&sb);
    heap_free(&h);
    trace_free(tr);
}

/* A traced run longer than the trace's cap: the trace stops at the cap (truncated), the run
 * carries on untraced-fast and the answer is still exact. (Past the cap each step used to
 * copy the whole heap: a traced heapsort of 20000 took 28 s.) */
static void test_trace_past_the_cap(void)
{
    enum { N = 20000 };
    int *a = mem_alloc(N * sizeof *a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    for (int i = 0; i < N; i++)
        a[i] = (int)((i * 7919L) % N);
    trace *tr = trace_new(1 << 20);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tr);
    CU_ASSERT_EQUAL(heap_int_sort(a, N, tr), 0);
    CU_ASSERT_TRUE(trace_truncated(tr));
    int sorted = 1;
    for (int i = 0; i < N; i++)
        sorted &= a[i] == i;
    CU_ASSERT_TRUE(sorted);
    trace_free(tr);
    mem_free(a);
}

/* Untraced runs record nothing and allocate nothing beyond the array's growth. */
static void test_untraced_is_free(void)
{
    heap h;
    heap_init_int(&h);
    CU_ASSERT_EQUAL(heap_reserve(&h, 1000), 0);
    unsigned long before = mem_count();
    int r;
    for (int i = 0; i < 1000; i++)
        CU_ASSERT_EQUAL(heap_int_push(&h, (i * 7919) % 1000, NULL), 0);
    for (int i = 0; i < 500; i++) {
        CU_ASSERT_EQUAL(heap_int_pop(&h, &r, NULL), 0);
        CU_ASSERT_EQUAL(heap_int_replace(&h, i, &r, NULL), 0);
        CU_ASSERT_EQUAL(heap_int_pushpop(&h, i, &r, NULL), 0);
    }
    int v[100];
    for (int i = 0; i < 100; i++)
        v[i] = 100 - i;
    CU_ASSERT_EQUAL(heap_int_sort(v, 100, NULL), 0);
    CU_ASSERT_EQUAL(mem_count(), before);
    /* The generic path allocates nothing either once the array is big enough. */
    heap g;
    heap_init(&g, &item_type_nokey, NULL);
    CU_ASSERT_EQUAL(heap_reserve(&g, 64), 0);
    before = mem_count();
    item x = {3, 0}, y;
    for (int i = 0; i < 64; i++)
        CU_ASSERT_EQUAL(heap_push(&g, &x, NULL), 0);
    CU_ASSERT_EQUAL(heap_pop(&g, &y, NULL), 0);
    CU_ASSERT_EQUAL(mem_count(), before);
    /* A key-less type still traces (blank cells, "?" in messages). */
    trace *tr = trace_new(0);
    CU_ASSERT_EQUAL(heap_pop(&g, &y, tr), 0);
    CU_ASSERT_TRUE(trace_len(tr) > 0);
    CU_ASSERT_EQUAL(trace_latest(tr, trace_len(tr) - 1, "heap")->ints[0], TRACE_NONE);
    /* ...in every helper too, with the same results as untraced. */
    item w[6] = {{4, 0}, {1, 1}, {4, 2}, {0, 3}, {2, 4}, {1, 5}}, res[6];
    size_t k;
    CU_ASSERT_EQUAL(heap_nsmallest(res, &k, w, 6, 3, &item_type_nokey, NULL, tr), 0);
    CU_ASSERT_TRUE(k == 3 && res[0].id == 3 && res[1].id == 1 && res[2].id == 5);
    CU_ASSERT_EQUAL(heap_nlargest(res, &k, w, 6, 2, &item_type_nokey, NULL, tr), 0);
    CU_ASSERT_TRUE(k == 2 && res[0].id == 0 && res[1].id == 2);
    const void *in[] = {&w[1], &w[3]};
    const size_t lens[] = {1, 2}; /* [1] and [0, 2] */
    CU_ASSERT_EQUAL(heap_merge(res, in, lens, 2, 0, &item_type_nokey, NULL, tr), 0);
    CU_ASSERT_TRUE(res[0].id == 3 && res[1].id == 1 && res[2].id == 4);
    CU_ASSERT_EQUAL(heap_sort(w, 6, &item_type_nokey, NULL, tr), 0);
    CU_ASSERT_TRUE(w[0].key == 0 && w[5].key == 4 && w[2].key == 1);
    CU_ASSERT_EQUAL(trace_status(tr), 0);
    check_trace_shape(tr);
    trace_free(tr);
    heap_free(&g);
    heap_free(&h);
}

/* ---- allocation failures ---- */

/* Pushes 100 ints (the array grows several times) and checks, whenever a push fails,
 * that the heap is exactly what it was. */
static int sweep_push(void *ctx)
{
    trace *tr = NULL;
    int rc = 0;
    if (ctx && !(tr = trace_new(0)))
        return TUTOR_ENOMEM;
    heap h;
    heap_init_int(&h);
    /* Traced, every step allocates: fewer pushes keep the sweep (quadratic) quick. */
    int before[100], pushes = tr ? 12 : 100;
    for (int i = 0; i < pushes && !rc; i++) {
        size_t n = h.len;
        if (n)
            memcpy(before, heap_int_data(&h), n * sizeof *before);
        rc = heap_int_push(&h, (i * 37) % 101, tr);
        if (rc && !tr) {
            CU_ASSERT_EQUAL(h.len, n);
            CU_ASSERT_TRUE(n == 0 || memcmp(before, heap_int_data(&h), n * sizeof *before) == 0);
        }
    }
    int r;
    for (int i = 0; i < 4 && !rc; i++)
        rc = heap_int_pop(&h, &r, tr);
    if (!rc)
        rc = heap_int_replace(&h, 5, &r, tr);
    if (!rc)
        rc = heap_int_pushpop(&h, 500, &r, tr);
    heap_free(&h);
    trace_free(tr);
    return rc;
}

static int sweep_heapify(void *ctx)
{
    trace *tr = NULL;
    if (ctx && !(tr = trace_new(0)))
        return TUTOR_ENOMEM;
    item v[50];
    for (int i = 0; i < 50; i++)
        v[i] = (item){50 - i, i};
    heap h;
    heap_init(&h, &item_type, NULL);
    int rc = heap_push(&h, &v[0], NULL);
    if (!rc) {
        rc = heap_heapify(&h, v, 50, tr);
        if (rc && !tr) {
            CU_ASSERT_EQUAL(h.len, 1); /* unchanged */
        }
    }
    heap_free(&h);
    trace_free(tr);
    return rc;
}

static int sweep_rest(void *ctx)
{
    trace *tr = NULL;
    if (ctx && !(tr = trace_new(0)))
        return TUTOR_ENOMEM;
    int v[40], res[40], a[] = {1, 3, 5}, b[] = {2, 4}, c[] = {0, 9};
    size_t n = tr ? 9 : 40, k;
    for (size_t i = 0; i < n; i++)
        v[i] = (int)(i * 13) % 17;
    const int *in[] = {a, b, c};
    const size_t lens[] = {3, 2, 2};
    int rc = heap_int_nsmallest(res, &k, v, n, 4, tr);
    if (!rc)
        rc = heap_int_nlargest(res, &k, v, n, 4, tr);
    if (!rc)
        rc = heap_int_merge(res, in, lens, 3, 0, tr);
    if (!rc)
        rc = heap_sort(v, n, &heap_int_type, NULL, tr);
    if (!rc)
        rc = heap_int_sort(v, n, tr);
    trace_free(tr);
    return rc;
}

/* The whole CLI run: every failure is exit 1 ("out of memory"), never a crash. */
static int sweep_cli(void *ctx)
{
    char **args = ctx;
    int argc = 0;
    while (args[argc])
        argc++;
    char *obuf = NULL, *ebuf = NULL;
    size_t olen = 0, elen = 0;
    FILE *fo = open_memstream(&obuf, &olen), *fe = open_memstream(&ebuf, &elen);
    int status = cli_main(argc, args, fo, fe);
    fclose(fo);
    fclose(fe);
    if (status == 1) {
        CU_ASSERT_EQUAL(olen, 0); /* nothing half-written */
    }
    free(obuf);
    free(ebuf);
    return status == 0 ? 0 : status == 1 ? TUTOR_ENOMEM : TUTOR_EINVAL;
}

static void test_alloc_failures(void)
{
    int on = 1;
    CU_ASSERT_TRUE(th_alloc_sweep(sweep_push, NULL, 0) >= 3);
    CU_ASSERT_TRUE(th_alloc_sweep(sweep_push, &on, 0) >= 10);
    CU_ASSERT_TRUE(th_alloc_sweep(sweep_heapify, NULL, 0) >= 2);
    CU_ASSERT_TRUE(th_alloc_sweep(sweep_heapify, &on, 0) >= 10);
    CU_ASSERT_TRUE(th_alloc_sweep(sweep_rest, NULL, 0) >= 4);
    CU_ASSERT_TRUE(th_alloc_sweep(sweep_rest, &on, 0) >= 10);
    char *ops[] = {
        "tutor",  "run",     "heap", "--ops", "push 5; push 3; pop; heapify 9 8 7; replace 2",
        "--json", "--trace", NULL};
    char *pick[] = {"tutor", "run", "heap", "--nlargest", "2", "--nums", "4 1 3", "--trace", NULL};
    char *merge[] = {"tutor", "run", "heap", "--merge", "1 4 | 2 | 3", "--json", NULL};
    char *sort[] = {"tutor", "run", "heap", "--heapsort", "3 1 2", "--json", "--trace", NULL};
    CU_ASSERT_TRUE(th_alloc_sweep(sweep_cli, ops, 0) >= 10);
    CU_ASSERT_TRUE(th_alloc_sweep(sweep_cli, pick, 0) >= 5);
    CU_ASSERT_TRUE(th_alloc_sweep(sweep_cli, merge, 0) >= 5);
    CU_ASSERT_TRUE(th_alloc_sweep(sweep_cli, sort, 0) >= 5);
}

/* ---- the command line ---- */

static void expect_json(const char *want, int rc)
{
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(strbuf_str(&out), want);
    if (strcmp(strbuf_str(&out), want) != 0)
        fprintf(stderr, "\n  got  %s  want %s", strbuf_str(&out), want);
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
    CU_ASSERT_EQUAL(err.len, 0);
}

static void test_cli_json(void)
{
    expect_json("{\"topic\": \"heap\", \"outputs\": [null, null, 3, null, 4, 7], \"heap\": [2, 8, "
                "9]}\n",
                th_cli(&out, &err, "run", "heap", "--ops",
                       "push 5; push 3; pop; heapify 9 8 7; pushpop 4; replace 2", "--json", NULL));
    expect_json(
        "{\"topic\": \"heap\", \"outputs\": [null], \"heap\": [1, 2, 3, 6, 5, 4, 7, 8, "
        "9]}\n",
        th_cli(&out, &err, "run", "heap", "--ops", "heapify 9,8,7,6,5,4,3,2,1;", "--json", NULL));
    expect_json("{\"topic\": \"heap\", \"outputs\": [null, -2147483648, 2147483647], \"heap\": "
                "[]}\n",
                th_cli(&out, &err, "run", "heap", "--ops",
                       " heappush -2147483648 ;heappop; pushpop 2147483647", "--json", NULL));
    expect_json("{\"topic\": \"heap\", \"result\": [1, 1, 2]}\n",
                th_cli(&out, &err, "run", "heap", "--nsmallest", "3", "--nums", "5 1 4 1 5 9 2 6",
                       "--json", NULL));
    expect_json("{\"topic\": \"heap\", \"result\": [9, 6, 5]}\n",
                th_cli(&out, &err, "run", "heap", "--nlargest", "3", "--nums", "5 1 4 1 5 9 2 6",
                       "--json", NULL));
    expect_json(
        "{\"topic\": \"heap\", \"result\": []}\n",
        th_cli(&out, &err, "run", "heap", "--nlargest", "-1", "--nums", "5 1", "--json", NULL));
    expect_json(
        "{\"topic\": \"heap\", \"result\": [5, 1]}\n",
        th_cli(&out, &err, "run", "heap", "--nlargest", "7", "--nums", "1,5", "--json", NULL));
    expect_json("{\"topic\": \"heap\", \"result\": [1, 2, 3, 4, 5, 7]}\n",
                th_cli(&out, &err, "run", "heap", "--merge", "1 4 7 | 2 5 | 3", "--json", NULL));
    expect_json("{\"topic\": \"heap\", \"result\": [7, 5, 4, 3, 2, 1]}\n",
                th_cli(&out, &err, "run", "heap", "--merge", "7 4 1 | | 5 2 | 3", "--reverse",
                       "--json", NULL));
    expect_json("{\"topic\": \"heap\", \"result\": []}\n",
                th_cli(&out, &err, "run", "heap", "--merge", "", "--json", NULL));
    expect_json("{\"topic\": \"heap\", \"result\": [1, 2, 5, 7, 9]}\n",
                th_cli(&out, &err, "run", "heap", "--heapsort", "5 2 9 1 7", "--json", NULL));
    /* With --trace: valid JSON with steps and quizzes, in every mode. */
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "heap", "--ops", "push 5; push 3; pop; replace 1",
                           "--json", "--trace", NULL),
                    0);
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"steps\": [{"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"quiz\""));
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "heap", "--merge", "1 4 | 2 | 3", "--reverse",
                           "--json", "--trace", NULL),
                    2); /* not sorted largest first */
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "heap", "--merge", "4 1 | 2 | 3", "--reverse",
                           "--json", "--trace", NULL),
                    0);
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "heap", "--nsmallest", "2", "--nums", "3 1 2",
                           "--json", "--trace", NULL),
                    0);
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
    CU_ASSERT_EQUAL(
        th_cli(&out, &err, "run", "heap", "--heapsort", "3 1 2", "--json", "--trace", NULL), 0);
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
}

static void test_cli_text_and_help(void)
{
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "heap", "--ops", "push 5; push 3; pop", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "pop -> 3"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "final heap: [5]"));
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "heap", "--ops", "heapify 3 2 1", "--trace", NULL),
                    0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "steps:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "the sift follows"));
    CU_ASSERT_EQUAL(th_cli(&out, &err, "help", "heap", NULL), 0);
    const char *words[] = {"--ops",     "--nsmallest", "--nlargest", "--nums",  "--merge",
                           "--reverse", "--heapsort",  "pushpop",    "replace", "heapify"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), words[i]));
}

/* Bad input: exit 2, one line on stderr naming the problem, nothing on stdout. */
static void expect_bad(const char *needle, int rc)
{
    th_refused(rc, &out, &err, needle);
}

static void test_cli_bad_input(void)
{
    expect_bad("op 2 'frob' is unknown",
               th_cli(&out, &err, "run", "heap", "--ops", "push 1; frob 2", "--json", NULL));
    expect_bad("op 1 (push): 'x' is not an integer",
               th_cli(&out, &err, "run", "heap", "--ops", "push x", NULL));
    expect_bad("op 2 (heapify): '2.5' is not an integer",
               th_cli(&out, &err, "run", "heap", "--ops", "pop; heapify 1 2.5", NULL));
    expect_bad("op 1 (push): 2147483648 is outside",
               th_cli(&out, &err, "run", "heap", "--ops", "push 2147483648", NULL));
    expect_bad("op 1 (pushpop): -2147483649 is outside",
               th_cli(&out, &err, "run", "heap", "--ops", "pushpop -2147483649", NULL));
    expect_bad("op 3 (pop) on an empty heap",
               th_cli(&out, &err, "run", "heap", "--ops", "push 1; pop; pop", "--json", NULL));
    expect_bad("op 1 (replace) on an empty heap",
               th_cli(&out, &err, "run", "heap", "--ops", "replace 3", "--trace", NULL));
    expect_bad("op 2 (replace) on an empty heap",
               th_cli(&out, &err, "run", "heap", "--ops", "heapify; replace 3", NULL));
    expect_bad("op 1 (push) takes exactly one number, got 2",
               th_cli(&out, &err, "run", "heap", "--ops", "push 1 2", NULL));
    expect_bad("op 1 (push) takes exactly one number, got 0",
               th_cli(&out, &err, "run", "heap", "--ops", "push", NULL));
    expect_bad("op 1 (pop) takes no numbers",
               th_cli(&out, &err, "run", "heap", "--ops", "pop 1", NULL));
    expect_bad("expected at least one op", th_cli(&out, &err, "run", "heap", "--ops", " ; ", NULL));
    expect_bad("missing input", th_cli(&out, &err, "run", "heap", NULL));
    expect_bad("missing input", th_cli(&out, &err, "run", "heap", "--reverse", NULL));
    expect_bad("needs a value", th_cli(&out, &err, "run", "heap", "--ops", NULL));
    expect_bad("missing --nums",
               th_cli(&out, &err, "run", "heap", "--nsmallest", "3", "--json", NULL));
    expect_bad("--nums goes with --nsmallest or --nlargest",
               th_cli(&out, &err, "run", "heap", "--heapsort", "1", "--nums", "1", NULL));
    expect_bad("--reverse goes with --merge",
               th_cli(&out, &err, "run", "heap", "--heapsort", "1", "--reverse", NULL));
    expect_bad("--ops and --merge cannot be combined",
               th_cli(&out, &err, "run", "heap", "--ops", "pop", "--merge", "1", NULL));
    expect_bad("--nsmallest: 'x' is not an integer",
               th_cli(&out, &err, "run", "heap", "--nsmallest", "x", "--nums", "1", NULL));
    expect_bad("--nlargest: 99999999999 is outside",
               th_cli(&out, &err, "run", "heap", "--nlargest", "99999999999", "--nums", "1", NULL));
    expect_bad("--nums: 'a' is not an integer",
               th_cli(&out, &err, "run", "heap", "--nlargest", "1", "--nums", "1 a", NULL));
    expect_bad("--merge list 2 is not sorted ascending (4 comes before 2)",
               th_cli(&out, &err, "run", "heap", "--merge", "1 3 | 4 2", NULL));
    expect_bad("--merge list 1 is not sorted largest first",
               th_cli(&out, &err, "run", "heap", "--merge", "1 3 | 2", "--reverse", NULL));
    expect_bad("--merge list 3: 'q' is not an integer",
               th_cli(&out, &err, "run", "heap", "--merge", "1 | 2 | q", NULL));
    expect_bad("--heapsort: 4294967296 is outside",
               th_cli(&out, &err, "run", "heap", "--heapsort", "1 4294967296", NULL));
    expect_bad("unknown option '--push'", th_cli(&out, &err, "run", "heap", "--push", "1", NULL));
}

/* random_input: deterministic per seed, varied across seeds, and always runnable. */
static void test_random_input(void)
{
    const topic *t = topic_find("heap");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t->random_input);
    CU_ASSERT_PTR_NOT_NULL(t->example);
    strbuf a = STRBUF_INIT, b = STRBUF_INIT;
    int differ = 0;
    for (uint64_t seed = 1; seed <= 60; seed++) {
        strbuf_clear(&a);
        strbuf_clear(&b);
        CU_ASSERT_EQUAL(t->random_input(seed, &a), 0);
        CU_ASSERT_EQUAL(t->random_input(seed, &b), 0);
        CU_ASSERT_STRING_EQUAL(strbuf_str(&a), strbuf_str(&b));
        char **w;
        int nw;
        char msg[256];
        CU_ASSERT_EQUAL_FATAL(parse_words(strbuf_str(&a), &w, &nw, msg, sizeof msg), 0);
        CU_ASSERT_EQUAL_FATAL(nw, 2);
        CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "heap", w[0], w[1], "--json", "--trace", NULL),
                        0);
        CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
        parse_free_words(w);
        strbuf_clear(&b);
        CU_ASSERT_EQUAL(t->random_input(seed + 1000, &b), 0);
        differ += strcmp(strbuf_str(&a), strbuf_str(&b)) != 0;
    }
    CU_ASSERT_TRUE(differ > 50);
    strbuf_free(&a);
    strbuf_free(&b);
}

void tests_register(void)
{
    static const th_test lib[] = {
        {"heapify by hand", test_heapify_by_hand},
        {"the issue's example", test_issue_example},
        {"equal keys land where heapq puts them", test_ties_exact},
        {"heapq edge cases", test_edge_cases},
        {"random ops: fast, generic, traced, model agree", test_random_ops},
        {"random ops traced: snapshots and quizzes", test_random_ops_traced},
        {"heapify is linear", test_heapify_is_linear},
        {"nsmallest/nlargest by hand", test_pick_by_hand},
        {"nsmallest/nlargest vs stable sort", test_pick_random},
        {"merge by hand", test_merge_by_hand},
        {"merge vs stable sort", test_merge_random},
        {"heapsort vs qsort", test_heapsort},
        {"less-than: any non-zero answer means a < b", test_less_any_nonzero},
        {"trace of push and pop", test_trace_push_and_pop},
        {"untraced path allocates nothing", test_untraced_is_free},
        {"a trace past its cap", test_trace_past_the_cap},
        {"allocation failures", test_alloc_failures},
        {NULL, NULL},
    };
    static const th_test cli[] = {
        {"json shapes", test_cli_json},
        {"text and help", test_cli_text_and_help},
        {"bad input", test_cli_bad_input},
        {"random_input", test_random_input},
        {NULL, NULL},
    };
    th_suite("heap", lib);
    th_suite("heap cli", cli);
}
