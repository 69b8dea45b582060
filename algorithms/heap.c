/* heap.c: heapq's binary min-heap, generic and int-specialised, with optional tracing.
 *
 * Two sift routines do all the work, under CPython's (confusing) names:
 *   siftdown(start, pos): the item at pos moves UP toward start while it is smaller than its
 *     parent. push uses it directly.
 *   siftup(pos): the hole at pos moves DOWN to a leaf, always along the smaller child, and
 *     only then is the item put in and moved up with siftdown. Why not stop as soon as the
 *     item is no bigger than both children, as textbooks do? The item that fills a hole at
 *     the root usually came from the bottom of the heap (pop moves the last leaf there), so
 *     it nearly always belongs near the bottom again: going to a leaf costs one comparison
 *     per level (left vs right) instead of two (left vs right, then the smaller vs the item),
 *     and the climb back up is short. The price is that the layout differs from the
 *     textbook's, which is why we copy CPython exactly.
 * heapify starts at n/2 - 1 because that is the last index with a child (children of i are
 * 2i + 1 and 2i + 2); the leaves are one-element heaps already. Summing the heights of all
 * nodes gives fewer than n, hence O(n) instead of n pushes' O(n log n).
 *
 * The item being placed is kept in a scratch slot (the data array has one slot more than
 * cap), so a sift moves each element once and compares elements where they lie; nothing is
 * copied per comparison. */
#include "heap.h"

#include <assert.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../trace/mem.h"
#include "../trace/status.h"

const char *const heap_listing[] = {
    "push(x):",
    "    a.append(x); siftdown(0, len(a) - 1)",
    "pop():",
    "    last = a.pop(); if a is empty: return last",
    "    top = a[0]; a[0] = last; siftup(0); return top",
    "pushpop(x):",
    "    if a and a[0] < x: x, a[0] = a[0], x; siftup(0)",
    "    return x",
    "replace(x):   # a must not be empty",
    "    top = a[0]; a[0] = x; siftup(0); return top",
    "heapify(a):",
    "    for i = n/2 - 1 down to 0: siftup(i)",
    "siftdown(start, pos):   # the item at pos moves UP toward start",
    "    item = a[pos]",
    "    while pos > start:",
    "        parent = (pos - 1) / 2",
    "        if item < a[parent]: a[pos] = a[parent]; pos = parent; continue",
    "        break",
    "    a[pos] = item",
    "siftup(pos):   # the hole at pos goes DOWN to a leaf, then the item moves up",
    "    start = pos; item = a[pos]; child = 2*pos + 1",
    "    while child < len(a):",
    "        right = child + 1",
    "        if right < len(a) and not a[child] < a[right]: child = right",
    "        a[pos] = a[child]; pos = child; child = 2*pos + 1",
    "    a[pos] = item; siftdown(start, pos)",
    "nsmallest(n, xs):   # nlargest is the mirror image",
    "    h = the first n pairs (x, i), as a max-heap; heapify(h)",
    "    for each later x: if x < h[0].x: replace(h, (x, i))",
    "    pop h into the result, filling it from the back",
    "merge(lists):",
    "    h = (head, list number) of each non-empty list; heapify(h)",
    "    while len(h) > 1: output h[0].head; advance its list; replace, or pop if empty",
    "    output the rest of the last list",
    "heapsort(a):",
    "    heapify(a) as a max-heap",
    "    for end = n-1 down to 1: a[0] <-> a[end]; siftup(0) within a[0..end)",
};
const size_t heap_listing_len = sizeof heap_listing / sizeof heap_listing[0];

/* Listing lines the steps name. */
enum {
    L_PUSH = 2,
    L_POP_LAST = 4,
    L_POP_ROOT = 5,
    L_PUSHPOP = 7,
    L_PUSHPOP_RET = 8,
    L_REPLACE = 10,
    L_HEAPIFY = 12,
    L_SD_MOVE = 17,
    L_SD_STOP = 18,
    L_SD_REST = 19,
    L_SU_START = 21,
    L_SU_CHILD = 24,
    L_SU_MOVE = 25,
    L_SU_LEAF = 26,
    L_NS_INIT = 28,
    L_NS_SCAN = 29,
    L_NS_POP = 30,
    L_MG_INIT = 32,
    L_MG_STEP = 33,
    L_MG_REST = 34,
    L_HS_INIT = 36,
    L_HS_SWAP = 37,
};

static int int_less(const void *a, const void *b, void *ctx)
{
    (void)ctx;
    return *(const int *)a < *(const int *)b;
}

static int64_t int_key(const void *elem, void *ctx)
{
    (void)ctx;
    return *(const int *)elem;
}

const heap_type heap_int_type = {sizeof(int), int_less, int_key};

/* ---- tracing helpers: only ever called with a tracer, i.e. when tr != NULL ---- */

/* What a traced call needs besides the trace: a buffer to turn elements into keys. */
typedef struct tracer {
    trace *tr;
    int64_t *keys;
    size_t nkeys;
} tracer;

static int tracer_open(tracer *t, trace *tr, size_t nkeys)
{
    t->tr = tr;
    t->nkeys = nkeys ? nkeys : 1;
    t->keys = mem_calloc(t->nkeys, sizeof *t->keys);
    return t->keys ? 0 : TUTOR_ENOMEM;
}

static void tracer_close(tracer *t)
{
    if (t)
        mem_free(t->keys);
}

static inline unsigned char *at(const heap *h, size_t i)
{
    return h->data + i * h->size;
}

static inline int less(const heap *h, const void *a, const void *b)
{
    return h->less(a, b, h->ctx) != 0;
}

/* Records elems[0..n) as keys under name, the first `blank` of them as blank cells. */
static void snap_elems(tracer *t, const char *name, const unsigned char *elems, size_t n,
                       size_t blank, size_t size, heap_key key, void *ctx)
{
    assert(n <= t->nkeys);
    /* Past the trace's size cap nothing more is recorded: skip the O(n) copy, which would
     * otherwise make a long traced run quadratic (heapsort of 20000 took 28 s). */
    if (trace_truncated(t->tr))
        return;
    for (size_t i = 0; i < n; i++)
        t->keys[i] = i < blank || !key ? TRACE_NONE : key(elems + i * size, ctx);
    trace_int64s(t->tr, name, t->keys, n);
}

static void snap(const heap *h, tracer *t)
{
    size_t n = h->shown > h->len ? h->shown : h->len;
    snap_elems(t, "heap", h->data, n, 0, h->size, h->key, h->ctx);
}

/* Formats elem for a message: its key, or "?" when the type has none. */
static const char *show(const heap *h, const void *elem, char buf[32])
{
    int64_t k = h->key ? h->key(elem, h->ctx) : TRACE_NONE;
    if (k == TRACE_NONE)
        return "?";
    snprintf(buf, 32, "%lld", (long long)k);
    return buf;
}

static const char *lt_word(const heap *h)
{
    return h->lt ? h->lt : "<";
}

/* Puts the item in hand where the hole is, so snapshots show it there. Harmless: the hole's
 * old contents are dead and the slot is written again before the sift ends. */
static void show_in_hole(heap *h, size_t pos)
{
    memcpy(at(h, pos), h->scratch, h->size);
}

/* ---- the two sifts (generic) ---- */

/* Copies one element. For the common sizes the memcpy has a constant size, so the compiler
 * inlines it as one load and one store instead of calling the C library for each move. */
static inline void move_elem(unsigned char *dst, const unsigned char *src, size_t size)
{
    switch (size) {
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    case 16: memcpy(dst, src, 16); break;
    default: memcpy(dst, src, size);
    }
}

/* The hole's way down depends on every comparison on it, so each level waits for the load of
 * the level before: below the cached top of a large heap, one cache miss per level. The
 * descendants three levels below pos that the way can reach are one contiguous run of eight
 * elements, so fetching that run now overlaps those misses with the work in between (about
 * 1.5x faster pops at 10^6 elements, docs/bench.md; two or four levels measured no better).
 * Only when the run lies inside the heap: pointing past the array would be undefined. */
#define HEAP_PREFETCH(base, size, pos, n)                                                          \
    do {                                                                                           \
        size_t first_ = 8 * (pos) + 7, last_ = first_ + 7;                                         \
        if (last_ < (n)) {                                                                         \
            __builtin_prefetch((const char *)(base) + first_ * (size));                            \
            __builtin_prefetch((const char *)(base) + last_ * (size));                             \
        }                                                                                          \
    } while (0)

/* The untraced sifts, the same moves as siftdown and siftup below. The heap's fields live in
 * locals: through the heap pointer, every comparator call and memcpy (which might modify
 * *h, as far as the compiler knows) would force them to be loaded again at every level. */
static inline size_t siftdown_fast(unsigned char *data, size_t size, heap_less lt, void *ctx,
                                   size_t start, size_t pos, const unsigned char *item)
{
    while (pos > start) {
        size_t parent = (pos - 1) >> 1;
        if (!lt(item, data + parent * size, ctx))
            break;
        move_elem(data + pos * size, data + parent * size, size);
        pos = parent;
    }
    move_elem(data + pos * size, item, size);
    return pos;
}

static inline void siftup_fast(unsigned char *data, size_t n, size_t size, heap_less lt, void *ctx,
                               size_t pos, const unsigned char *item)
{
    size_t start = pos, child = 2 * pos + 1;
    /* While both children exist: the right one unless left < right, taken as data (random
     * keys make that choice a coin flip, which a branch would mispredict half the time). */
    while (child + 1 < n) {
        HEAP_PREFETCH(data, size, pos, n);
        /* child + 1 is ready before the test returns, so only a subtraction (and the
         * normalising of a non-zero answer to 1) waits for it. */
        child = child + 1 - (lt(data + child * size, data + (child + 1) * size, ctx) != 0);
        move_elem(data + pos * size, data + child * size, size);
        pos = child;
        child = 2 * pos + 1;
    }
    if (child < n) { /* a lone left child, the last element */
        move_elem(data + pos * size, data + child * size, size);
        pos = child;
    }
    siftdown_fast(data, size, lt, ctx, start, pos, item);
}

/* The same, with the element size a constant for the common sizes, so each copy of the loop
 * computes addresses with shifts and moves elements with plain loads and stores. */
static size_t siftdown_sized(heap *h, size_t start, size_t pos)
{
    switch (h->size) {
    case 4: return siftdown_fast(h->data, 4, h->less, h->ctx, start, pos, h->scratch);
    case 8: return siftdown_fast(h->data, 8, h->less, h->ctx, start, pos, h->scratch);
    case 16: return siftdown_fast(h->data, 16, h->less, h->ctx, start, pos, h->scratch);
    default: return siftdown_fast(h->data, h->size, h->less, h->ctx, start, pos, h->scratch);
    }
}

static void siftup_sized(heap *h, size_t pos)
{
    switch (h->size) {
    case 4: siftup_fast(h->data, h->len, 4, h->less, h->ctx, pos, h->scratch); break;
    case 8: siftup_fast(h->data, h->len, 8, h->less, h->ctx, pos, h->scratch); break;
    case 16: siftup_fast(h->data, h->len, 16, h->less, h->ctx, pos, h->scratch); break;
    default: siftup_fast(h->data, h->len, h->size, h->less, h->ctx, pos, h->scratch);
    }
}

/* CPython's _siftdown. The item in h->scratch belongs in the hole at pos; it moves up toward
 * start while it sorts before its parent. Returns where it came to rest. */
static size_t siftdown(heap *h, size_t start, size_t pos, tracer *t)
{
    if (!t)
        return siftdown_sized(h, start, pos);
    const unsigned char *item = h->scratch;
    char b1[32], b2[32];
    while (pos > start) {
        size_t parent = (pos - 1) >> 1;
        if (less(h, item, at(h, parent))) {
            memcpy(at(h, pos), at(h, parent), h->size);
            if (t) {
                show_in_hole(h, parent);
                trace_step(t->tr, L_SD_MOVE,
                           "%s %s parent %s (index %zu): the parent moves down to %zu",
                           show(h, item, b1), lt_word(h), show(h, at(h, pos), b2), parent, pos);
                snap(h, t);
                trace_mark(t->tr, "heap", (long)pos, -1, TRACE_COMPARE);
                trace_mark(t->tr, "heap", (long)parent, -1, TRACE_COMPARE);
                trace_mark(t->tr, "heap", (long)parent, -1, TRACE_MOVE);
                trace_mark(t->tr, "heap", (long)pos, -1, TRACE_MOVE);
            }
            pos = parent;
            continue;
        }
        if (t) {
            trace_step(t->tr, L_SD_STOP, "%s %s parent %s (index %zu) is false: stop",
                       show(h, item, b1), lt_word(h), show(h, at(h, parent), b2), parent);
            trace_mark(t->tr, "heap", (long)pos, -1, TRACE_COMPARE);
            trace_mark(t->tr, "heap", (long)parent, -1, TRACE_COMPARE);
        }
        break;
    }
    memcpy(at(h, pos), item, h->size);
    if (t) {
        trace_step(t->tr, L_SD_REST, "%s comes to rest at index %zu", show(h, item, b1), pos);
        trace_mark(t->tr, "heap", (long)pos, -1, TRACE_CURRENT);
    }
    return pos;
}

/* Traces only: where siftdown(start, pos) will leave the item in h->scratch, found by the
 * same comparisons without moving anything, so that the step before the climb can ask the
 * student to predict it. */
static size_t rest_index(const heap *h, size_t start, size_t pos)
{
    while (pos > start) {
        size_t parent = (pos - 1) >> 1;
        if (!less(h, h->scratch, at(h, parent)))
            break;
        pos = parent;
    }
    return pos;
}

/* Traces only: the quiz of the step that starts a climb (one that can move at all). */
static void quiz_rest(const heap *h, tracer *t, size_t rest)
{
    char b[32], q[96];
    snprintf(q, sizeof q, "At which index will %s come to rest?", show(h, h->scratch, b));
    trace_quiz(t->tr, q, (int64_t)rest);
}

/* CPython's _siftup. The item in h->scratch belongs in the hole at pos: the hole goes down
 * to a leaf along the child that sorts first (the right one unless left < right), then the
 * item climbs back up from there, no higher than pos. */
static void siftup(heap *h, size_t pos, tracer *t)
{
    if (!t) {
        siftup_sized(h, pos);
        return;
    }
    size_t start = pos, n = h->len, child = 2 * pos + 1;
    char b1[32], b2[32];
    if (t) {
        show_in_hole(h, pos);
        trace_step(t->tr, L_SU_START, "hole at index %zu for %s: it goes down to a leaf first", pos,
                   show(h, h->scratch, b1));
        snap(h, t);
        trace_mark(t->tr, "heap", (long)pos, -1, TRACE_CURRENT);
    }
    while (child < n) {
        size_t right = child + 1;
        if (right < n) {
            int take_right = !less(h, at(h, child), at(h, right));
            if (t) {
                trace_step(t->tr, L_SU_CHILD,
                           "children %s (index %zu) and %s (index %zu): left %s right is %s, so "
                           "the sift follows the %s child",
                           show(h, at(h, child), b1), child, show(h, at(h, right), b2), right,
                           lt_word(h), take_right ? "false" : "true",
                           take_right ? "right" : "left");
                trace_mark(t->tr, "heap", (long)child, -1, TRACE_COMPARE);
                trace_mark(t->tr, "heap", (long)right, -1, TRACE_COMPARE);
                trace_quiz(t->tr, "Which child does the sift follow? (its index)",
                           (int64_t)(take_right ? right : child));
            }
            if (take_right)
                child = right;
        }
        memcpy(at(h, pos), at(h, child), h->size);
        if (t) {
            show_in_hole(h, child);
            trace_step(t->tr, L_SU_MOVE, "%s moves up from index %zu into the hole at %zu",
                       show(h, at(h, pos), b1), child, pos);
            snap(h, t);
            trace_mark(t->tr, "heap", (long)child, -1, TRACE_MOVE);
            trace_mark(t->tr, "heap", (long)pos, -1, TRACE_MOVE);
        }
        pos = child;
        child = 2 * pos + 1;
    }
    if (t) {
        size_t rest = rest_index(h, start, pos);
        trace_step(t->tr, L_SU_LEAF,
                   "the hole reached the leaf %zu: %s goes there and climbs back to index %zu", pos,
                   show(h, h->scratch, b1), rest);
        trace_mark(t->tr, "heap", (long)pos, -1, TRACE_CURRENT);
        if (pos > start)
            quiz_rest(h, t, rest);
    }
    siftdown(h, start, pos, t);
}

/* ---- the heap object ---- */

static void set_type(heap *h, const heap_type *type, void *ctx)
{
    assert(type && type->size > 0 && type->less);
    memset(h, 0, sizeof *h);
    h->size = type->size;
    h->less = type->less;
    h->key = type->key;
    h->ctx = ctx;
}

void heap_init(heap *h, const heap_type *type, void *ctx)
{
    set_type(h, type, ctx);
}

void heap_init_int(heap *h)
{
    set_type(h, &heap_int_type, NULL);
}

void heap_free(heap *h)
{
    if (!h)
        return;
    mem_free(h->data);
    h->data = h->scratch = NULL;
    h->len = h->cap = 0;
}

/* Resizes the array to hold cap elements plus the scratch slot. 0 or TUTOR_ENOMEM (h
 * unchanged). */
static int set_cap(heap *h, size_t cap)
{
    if (cap >= SIZE_MAX / h->size)
        return TUTOR_ENOMEM;
    unsigned char *p = mem_realloc_array(h->data, cap + 1, h->size);
    if (!p)
        return TUTOR_ENOMEM;
    h->data = p;
    h->cap = cap;
    h->scratch = p + cap * h->size;
    return 0;
}

int heap_reserve(heap *h, size_t n)
{
    return n <= h->cap ? 0 : set_cap(h, n);
}

/* Room for one more element, doubling so that n pushes cost O(n) copying in all. */
static int grow_for_push(heap *h)
{
    if (h->len < h->cap)
        return 0;
    if (h->cap > SIZE_MAX / 4)
        return TUTOR_ENOMEM;
    return set_cap(h, h->cap ? 2 * h->cap : 8);
}

/* Opens a tracer for an operation on h when tr is set: *t is NULL untraced. */
static int open_for(const heap *h, trace *tr, tracer *tb, tracer **t)
{
    *t = NULL;
    if (!tr)
        return 0;
    size_t n = (h->shown > h->len ? h->shown : h->len) + 1;
    if (tracer_open(tb, tr, n))
        return TUTOR_ENOMEM;
    *t = tb;
    return 0;
}

/* Ends a traced or untraced operation that succeeded. */
static int done(tracer *t)
{
    if (!t)
        return 0;
    tracer_close(t);
    return trace_status(t->tr);
}

/* The untraced push and pop, whole, with the element size a constant for the common sizes.
 * They skip the scratch slot: push sifts the caller's item in place (it never points into
 * the array), pop sifts the last element from where it lies (index len - 1, outside the
 * shrunk heap, so the sift never overwrites it). The same comparisons in the same order as
 * the traced code; only fewer copies and branches around them: the pushes, about one
 * comparison each on random keys, spent more on that than on comparing (callgrind,
 * docs/bench.md). */
static inline void push_fast(heap *h, const void *item, size_t size)
{
    size_t pos = h->len++;
    siftdown_fast(h->data, size, h->less, h->ctx, 0, pos, item);
}

static inline void pop_fast(heap *h, void *out, size_t size)
{
    unsigned char *data = h->data;
    size_t last = h->len - 1;
    move_elem(out, data, size);
    h->len = last;
    if (last)
        siftup_fast(data, last, size, h->less, h->ctx, 0, data + last * size);
}

int heap_push(heap *h, const void *item, trace *tr)
{
    if (!tr) {
        if (grow_for_push(h))
            return TUTOR_ENOMEM;
        switch (h->size) {
        case 4: push_fast(h, item, 4); break;
        case 8: push_fast(h, item, 8); break;
        case 16: push_fast(h, item, 16); break;
        default: push_fast(h, item, h->size);
        }
        return 0;
    }
    tracer tb, *t;
    if (grow_for_push(h) || open_for(h, tr, &tb, &t))
        return TUTOR_ENOMEM;
    move_elem(h->scratch, item, h->size);
    size_t pos = h->len++;
    if (t) {
        char b[32];
        size_t rest = rest_index(h, 0, pos);
        show_in_hole(h, pos);
        trace_step(tr, L_PUSH, "push %s: append it at index %zu; it climbs to index %zu",
                   show(h, item, b), pos, rest);
        snap(h, t);
        trace_mark(tr, "heap", (long)pos, -1, TRACE_CURRENT);
        if (pos > 0)
            quiz_rest(h, t, rest);
    }
    siftdown(h, 0, pos, t);
    return done(t);
}

int heap_pop(heap *h, void *out, trace *tr)
{
    if (h->len == 0)
        return TUTOR_EEMPTY;
    if (!tr) {
        switch (h->size) {
        case 4: pop_fast(h, out, 4); break;
        case 8: pop_fast(h, out, 8); break;
        case 16: pop_fast(h, out, 16); break;
        default: pop_fast(h, out, h->size);
        }
        return 0;
    }
    tracer tb, *t;
    if (open_for(h, tr, &tb, &t))
        return TUTOR_ENOMEM;
    char b1[32], b2[32];
    size_t last = h->len - 1;
    move_elem(out, at(h, 0), h->size);
    if (last == 0) {
        if (t) {
            trace_step(tr, L_POP_LAST, "pop: %s is the only item; it is the result",
                       show(h, out, b1));
            snap(h, t);
            trace_mark(tr, "heap", 0, -1, TRACE_MOVE);
        }
        h->len = 0;
        if (t) {
            trace_step(tr, L_POP_LAST, "the heap is empty");
            snap(h, t);
        }
        return done(t);
    }
    if (t) {
        trace_step(tr, L_POP_ROOT,
                   "pop: the root %s is the result; the last item %s leaves index %zu for the "
                   "hole at the root",
                   show(h, out, b1), show(h, at(h, last), b2), last);
        snap(h, t);
        trace_mark(tr, "heap", 0, -1, TRACE_MOVE);
        trace_mark(tr, "heap", (long)last, -1, TRACE_MOVE);
    }
    move_elem(h->scratch, at(h, last), h->size);
    h->len = last;
    siftup(h, 0, t);
    return done(t);
}

int heap_pushpop(heap *h, const void *item, void *out, trace *tr)
{
    tracer tb, *t;
    if (open_for(h, tr, &tb, &t))
        return TUTOR_ENOMEM;
    char b1[32], b2[32];
    if (h->len == 0 || !less(h, at(h, 0), item)) {
        if (t) {
            const char *x = show(h, item, b1);
            if (h->len == 0) {
                trace_step(tr, L_PUSHPOP_RET, "pushpop %s: the heap is empty, %s comes back", x, x);
            } else {
                trace_step(tr, L_PUSHPOP_RET,
                           "pushpop %s: root %s %s %s is false, so %s comes back unchanged", x,
                           show(h, at(h, 0), b2), lt_word(h), x, x);
                snap(h, t);
                trace_mark(tr, "heap", 0, -1, TRACE_COMPARE);
            }
        }
        if (out != item)
            memmove(out, item, h->size);
        return done(t);
    }
    memcpy(h->scratch, item, h->size);
    memcpy(out, at(h, 0), h->size);
    if (t) {
        const char *x = show(h, h->scratch, b1);
        trace_step(tr, L_PUSHPOP,
                   "pushpop %s: root %s %s %s, so the root is the result and %s takes its place", x,
                   show(h, out, b2), lt_word(h), x, x);
        snap(h, t);
        trace_mark(tr, "heap", 0, -1, TRACE_COMPARE);
    }
    siftup(h, 0, t);
    return done(t);
}

int heap_replace(heap *h, const void *item, void *out, trace *tr)
{
    tracer tb, *t;
    if (h->len == 0)
        return TUTOR_EEMPTY;
    if (open_for(h, tr, &tb, &t))
        return TUTOR_ENOMEM;
    memcpy(h->scratch, item, h->size);
    memcpy(out, at(h, 0), h->size);
    if (t) {
        char b1[32], b2[32];
        const char *x = show(h, h->scratch, b1);
        trace_step(tr, L_REPLACE, "replace %s: the root %s is the result; %s takes its place", x,
                   show(h, out, b2), x);
        snap(h, t);
        trace_mark(tr, "heap", 0, -1, TRACE_MOVE);
    }
    siftup(h, 0, t);
    return done(t);
}

/* Heap order for a[0..len) in place; the body of heapify and heapsort. */
static void heapify_in_place(heap *h, tracer *t)
{
    if (t) {
        if (h->len / 2)
            trace_step(t->tr, L_HEAPIFY, "heapify %zu items: siftup(i) for i = %zu down to 0",
                       h->len, h->len / 2 - 1);
        else
            trace_step(t->tr, L_HEAPIFY, "heapify %zu items: no item has a child, nothing to do",
                       h->len);
        snap(h, t);
    }
    for (size_t i = h->len / 2; i-- > 0;) {
        memcpy(h->scratch, at(h, i), h->size);
        siftup(h, i, t);
    }
}

int heap_heapify(heap *h, const void *items, size_t n, trace *tr)
{
    tracer tb, *t;
    /* The tracer is sized for n, not for the current length. */
    if (heap_reserve(h, n))
        return TUTOR_ENOMEM;
    if (tr) {
        if (tracer_open(&tb, tr, (n > h->shown ? n : h->shown) + 1))
            return TUTOR_ENOMEM;
        t = &tb;
    } else {
        t = NULL;
    }
    if (n)
        memmove(h->data, items, n * h->size);
    h->len = n;
    heapify_in_place(h, t);
    return done(t);
}

/* ---- helper heaps inside nsmallest, nlargest and merge ---- */

/* Makes *h an empty heap of `type` with room for `slots` and, when tr is set, a tracer for
 * snapshots of up to nkeys values (*t NULL otherwise). Returns 0 or TUTOR_ENOMEM with
 * nothing allocated. */
static int helper_open(heap *h, const heap_type *type, void *ctx, const char *lt, size_t slots,
                       trace *tr, size_t nkeys, tracer *tb, tracer **t)
{
    heap_init(h, type, ctx);
    h->lt = lt;
    *t = NULL;
    if (heap_reserve(h, slots))
        return TUTOR_ENOMEM;
    if (tr) {
        if (tracer_open(tb, tr, nkeys)) {
            heap_free(h);
            return TUTOR_ENOMEM;
        }
        *t = tb;
    }
    return 0;
}

/* ---- nsmallest and nlargest: a heap of indices into the input ---- */

typedef struct pick_ctx {
    const unsigned char *items;
    const heap_type *type;
    void *ctx;
    int largest;
} pick_ctx;

/* The internal heap holds indices i; its root is the candidate to evict next: for nsmallest
 * the largest x (a max-heap of (x, i)), for nlargest the smallest. Among equal x (neither
 * less than the other) the later input goes first, so that ties keep input order in the
 * result. */
static int pick_less(const void *a, const void *b, void *vctx)
{
    const pick_ctx *p = vctx;
    size_t i = *(const size_t *)a, j = *(const size_t *)b, size = p->type->size;
    const void *x = p->items + i * size, *y = p->items + j * size;
    const void *first = p->largest ? x : y, *second = p->largest ? y : x;
    if (p->type->less(first, second, p->ctx))
        return 1;
    if (p->type->less(second, first, p->ctx))
        return 0;
    return i > j;
}

static int64_t pick_key(const void *elem, void *vctx)
{
    const pick_ctx *p = vctx;
    size_t i = *(const size_t *)elem;
    return p->type->key ? p->type->key(p->items + i * p->type->size, p->ctx) : TRACE_NONE;
}

static int pick(void *out, size_t *out_n, const void *items, size_t count, long n,
                const heap_type *type, void *ctx, int largest, trace *tr)
{
    size_t k = n <= 0 ? 0 : (unsigned long)n < count ? (size_t)n : count;
    size_t size = type->size;
    const unsigned char *in = items;
    unsigned char *res = out;
    pick_ctx pc = {in, type, ctx, largest};
    heap_type ht = {sizeof(size_t), pick_less, pick_key};
    heap h;
    tracer tb, *t;
    if (helper_open(&h, &ht, &pc, largest ? "<" : ">", k, tr, count + 1, &tb, &t))
        return TUTOR_ENOMEM;
    const char *name = largest ? "nlargest" : "nsmallest";
    char b1[32], b2[32];
    size_t *idx = (size_t *)h.data;
    for (size_t i = 0; i < k; i++)
        idx[i] = i;
    h.len = k;
    if (t) {
        trace_step(tr, L_NS_INIT, "%s(%ld) of %zu items: the first %zu go into a %s-heap", name, n,
                   count, k, largest ? "min" : "max");
        snap_elems(t, "input", in, count, 0, size, type->key, ctx);
        snap(&h, t);
    }
    heapify_in_place(&h, t);
    for (size_t i = k; i < count && k; i++) {
        const void *x = in + i * size, *top = in + idx[0] * size;
        int better = largest ? type->less(top, x, ctx) != 0 : type->less(x, top, ctx) != 0;
        if (t) {
            const char *xs = show(&h, &i, b1), *ts = show(&h, &idx[0], b2);
            trace_step(tr, L_NS_SCAN, "input[%zu] = %s vs the root %s: %s %s %s is %s, so %s", i,
                       xs, ts, xs, largest ? ">" : "<", ts, better ? "true" : "false",
                       better ? "it replaces the root" : "it is skipped");
            trace_mark(tr, "input", (long)i, -1, TRACE_CURRENT);
            trace_mark(tr, "heap", 0, -1, TRACE_COMPARE);
        }
        if (better) {
            memcpy(h.scratch, &i, sizeof i);
            siftup(&h, 0, t);
        }
    }
    while (h.len) {
        size_t r = h.len - 1;
        memcpy(res + r * size, in + idx[0] * size, size);
        if (t) {
            trace_step(tr, L_NS_POP, "the root %s goes to result[%zu]", show(&h, &idx[0], b1), r);
            snap_elems(t, "result", res, k, r, size, type->key, ctx);
            trace_mark(tr, "result", (long)r, -1, TRACE_MOVE);
        }
        if (r) {
            memcpy(h.scratch, &idx[r], sizeof *idx);
            h.len = r;
            siftup(&h, 0, t);
        } else {
            h.len = 0;
            if (t)
                snap(&h, t);
        }
    }
    *out_n = k;
    heap_free(&h);
    return done(t);
}

int heap_nsmallest(void *out, size_t *out_n, const void *items, size_t count, long n,
                   const heap_type *type, void *ctx, trace *tr)
{
    return pick(out, out_n, items, count, n, type, ctx, 0, tr);
}

int heap_nlargest(void *out, size_t *out_n, const void *items, size_t count, long n,
                  const heap_type *type, void *ctx, trace *tr)
{
    return pick(out, out_n, items, count, n, type, ctx, 1, tr);
}

/* ---- merge: a heap of list heads ---- */

typedef struct merge_head {
    size_t list, pos;
} merge_head;

typedef struct merge_ctx {
    const void *const *inputs;
    const heap_type *type;
    void *ctx;
    int reverse;
} merge_ctx;

static const void *head_elem(const merge_ctx *m, const merge_head *hd)
{
    return (const unsigned char *)m->inputs[hd->list] + hd->pos * m->type->size;
}

/* Heads order by value (reversed in reverse mode), then by list number: heapq.merge's
 * (value, order * direction) entries, which keep equal values in input order both ways. */
static int merge_less(const void *a, const void *b, void *vctx)
{
    const merge_ctx *m = vctx;
    const merge_head *x = a, *y = b;
    const void *first = head_elem(m, m->reverse ? y : x),
               *second = head_elem(m, m->reverse ? x : y);
    if (m->type->less(first, second, m->ctx))
        return 1;
    if (m->type->less(second, first, m->ctx))
        return 0;
    return x->list < y->list;
}

static int64_t merge_key(const void *elem, void *vctx)
{
    const merge_ctx *m = vctx;
    return m->type->key ? m->type->key(head_elem(m, elem), m->ctx) : TRACE_NONE;
}

int heap_merge(void *out, const void *const *inputs, const size_t *lens, size_t k, int reverse,
               const heap_type *type, void *ctx, trace *tr)
{
    size_t size = type->size, total = 0, nonempty = 0;
    for (size_t i = 0; i < k; i++) {
        total += lens[i];
        nonempty += lens[i] > 0;
    }
    merge_ctx mc = {inputs, type, ctx, reverse};
    heap_type ht = {sizeof(merge_head), merge_less, merge_key};
    heap h;
    tracer tb, *t;
    if (helper_open(&h, &ht, &mc, reverse ? ">" : "<", nonempty, tr,
                    (total > nonempty ? total : nonempty) + 1, &tb, &t))
        return TUTOR_ENOMEM;
    unsigned char *res = out;
    merge_head *heads = (merge_head *)h.data;
    char b1[32];
    for (size_t i = 0; i < k; i++)
        if (lens[i])
            heads[h.len++] = (merge_head){i, 0};
    if (t) {
        trace_step(tr, L_MG_INIT, "merge %zu lists (%zu non-empty, %zu items)%s", k, nonempty,
                   total, reverse ? ", largest first" : "");
        snap(&h, t);
        snap_elems(t, "output", res, 0, 0, size, type->key, ctx);
    }
    heapify_in_place(&h, t);
    size_t o = 0;
    while (h.len > 1) {
        merge_head top = heads[0];
        memcpy(res + o * size, head_elem(&mc, &top), size);
        o++;
        int more = top.pos + 1 < lens[top.list];
        if (t) {
            trace_step(tr, L_MG_STEP, "output %s from list %zu; %s", show(&h, &top, b1), top.list,
                       more ? "its next item replaces the root" : "it is used up: pop");
            snap_elems(t, "output", res, o, 0, size, type->key, ctx);
            trace_mark(tr, "heap", 0, -1, TRACE_CURRENT);
            trace_mark(tr, "output", (long)(o - 1), -1, TRACE_MOVE);
        }
        if (more) {
            top.pos++;
            memcpy(h.scratch, &top, sizeof top);
        } else {
            memcpy(h.scratch, &heads[--h.len], sizeof top);
        }
        siftup(&h, 0, t);
    }
    if (h.len) {
        merge_head last = heads[0];
        size_t rest = lens[last.list] - last.pos;
        memcpy(res + o * size, head_elem(&mc, &last), rest * size);
        o += rest;
        if (t) {
            trace_step(tr, L_MG_REST, "only list %zu is left: its %zu remaining items follow",
                       last.list, rest);
            snap_elems(t, "output", res, o, 0, size, type->key, ctx);
        }
    }
    assert(o == total);
    heap_free(&h);
    return done(t);
}

/* ---- heapsort: a max-heap over the caller's array ---- */

typedef struct rev_ctx {
    const heap_type *type;
    void *ctx;
} rev_ctx;

static int rev_less(const void *a, const void *b, void *vctx)
{
    const rev_ctx *r = vctx;
    return r->type->less(b, a, r->ctx);
}

static int64_t rev_key(const void *elem, void *vctx)
{
    const rev_ctx *r = vctx;
    return r->type->key ? r->type->key(elem, r->ctx) : TRACE_NONE;
}

int heap_sort(void *base, size_t n, const heap_type *type, void *ctx, trace *tr)
{
    rev_ctx rc = {type, ctx};
    heap_type ht = {type->size, rev_less, rev_key};
    heap h;
    heap_init(&h, &ht, &rc);
    h.lt = ">";
    h.data = base;
    h.len = h.cap = h.shown = n;
    tracer tb, *t = NULL;
    if (!(h.scratch = mem_alloc(type->size)))
        return TUTOR_ENOMEM;
    if (tr) {
        if (tracer_open(&tb, tr, n + 1)) {
            mem_free(h.scratch);
            return TUTOR_ENOMEM;
        }
        t = &tb;
        trace_step(tr, L_HS_INIT, "heapsort %zu items: first make a max-heap", n);
        snap(&h, t);
        trace_scalar(tr, "heap_size", (int64_t)n);
    }
    heapify_in_place(&h, t);
    char b1[32];
    for (size_t end = n; end-- > 1;) {
        /* The root (the largest) swaps with the last slot of the heap, which becomes the
         * first slot of the sorted tail; the displaced item fills the root's hole. */
        memcpy(h.scratch, at(&h, end), h.size);
        memcpy(at(&h, end), at(&h, 0), h.size);
        h.len = end;
        if (t) {
            trace_step(tr, L_HS_SWAP, "the largest, %s, goes to index %zu; the heap shrinks to %zu",
                       show(&h, at(&h, end), b1), end, end);
            trace_scalar(tr, "heap_size", (int64_t)end);
            trace_mark(tr, "heap", 0, -1, TRACE_MOVE);
            trace_mark(tr, "heap", (long)end, -1, TRACE_MOVE);
        }
        siftup(&h, 0, t);
    }
    mem_free(h.scratch);
    return done(t);
}

/* ---- the int-specialised copies: same algorithms, no indirection ---- */

/* x sorts before y: x < y, or x > y in the max-heap heapsort builds. `max` is a constant at
 * every call, so the compiler keeps one straight-line comparison. */
static inline int int_before(int x, int y, int max)
{
    return max ? y < x : x < y;
}

static inline void int_siftdown(int *a, size_t start, size_t pos, int item, int max)
{
    while (pos > start) {
        size_t parent = (pos - 1) >> 1;
        if (!int_before(item, a[parent], max))
            break;
        a[pos] = a[parent];
        pos = parent;
    }
    a[pos] = item;
}

static inline void int_siftup(int *a, size_t n, size_t pos, int item, int max)
{
    size_t start = pos, child = 2 * pos + 1;
    /* The child choice as data, not a branch: see siftup_fast. */
    while (child + 1 < n) {
        HEAP_PREFETCH(a, sizeof *a, pos, n);
        child += !int_before(a[child], a[child + 1], max);
        a[pos] = a[child];
        pos = child;
        child = 2 * pos + 1;
    }
    if (child < n) {
        a[pos] = a[child];
        pos = child;
    }
    int_siftdown(a, start, pos, item, max);
}

static int is_int_heap(const heap *h)
{
    return h->size == sizeof(int) && h->less == int_less;
}

const int *heap_int_data(const heap *h)
{
    return (const int *)h->data;
}

int heap_int_push(heap *h, int x, trace *tr)
{
    assert(is_int_heap(h));
    if (tr)
        return heap_push(h, &x, tr);
    if (grow_for_push(h))
        return TUTOR_ENOMEM;
    int *a = (int *)h->data;
    size_t pos = h->len++;
    int_siftdown(a, 0, pos, x, 0);
    return 0;
}

int heap_int_pop(heap *h, int *out, trace *tr)
{
    assert(is_int_heap(h));
    if (tr)
        return heap_pop(h, out, tr);
    if (h->len == 0)
        return TUTOR_EEMPTY;
    int *a = (int *)h->data;
    int last = a[--h->len];
    *out = a[0];
    if (h->len)
        int_siftup(a, h->len, 0, last, 0);
    return 0;
}

int heap_int_pushpop(heap *h, int x, int *out, trace *tr)
{
    assert(is_int_heap(h));
    if (tr)
        return heap_pushpop(h, &x, out, tr);
    int *a = (int *)h->data;
    if (h->len && a[0] < x) {
        *out = a[0];
        int_siftup(a, h->len, 0, x, 0);
    } else {
        *out = x;
    }
    return 0;
}

int heap_int_replace(heap *h, int x, int *out, trace *tr)
{
    assert(is_int_heap(h));
    if (tr)
        return heap_replace(h, &x, out, tr);
    if (h->len == 0)
        return TUTOR_EEMPTY;
    int *a = (int *)h->data;
    *out = a[0];
    int_siftup(a, h->len, 0, x, 0);
    return 0;
}

int heap_int_heapify(heap *h, const int *items, size_t n, trace *tr)
{
    assert(is_int_heap(h));
    if (tr)
        return heap_heapify(h, items, n, tr);
    if (heap_reserve(h, n))
        return TUTOR_ENOMEM;
    int *a = (int *)h->data;
    if (n)
        memmove(a, items, n * sizeof *a);
    h->len = n;
    for (size_t i = n / 2; i-- > 0;)
        int_siftup(a, n, i, a[i], 0);
    return 0;
}

int heap_int_nsmallest(int *out, size_t *out_n, const int *items, size_t count, long n, trace *tr)
{
    return heap_nsmallest(out, out_n, items, count, n, &heap_int_type, NULL, tr);
}

int heap_int_nlargest(int *out, size_t *out_n, const int *items, size_t count, long n, trace *tr)
{
    return heap_nlargest(out, out_n, items, count, n, &heap_int_type, NULL, tr);
}

int heap_int_merge(int *out, const int *const *inputs, const size_t *lens, size_t k, int reverse,
                   trace *tr)
{
    /* heap_merge reads its inputs as `const void *`, a different type from `const int *`:
     * convert the pointers rather than alias them. */
    const void **vin = mem_calloc(k ? k : 1, sizeof *vin);
    if (!vin)
        return TUTOR_ENOMEM;
    for (size_t i = 0; i < k; i++)
        vin[i] = inputs[i];
    int rc = heap_merge(out, vin, lens, k, reverse, &heap_int_type, NULL, tr);
    mem_free(vin);
    return rc;
}

int heap_int_sort(int *a, size_t n, trace *tr)
{
    if (tr)
        return heap_sort(a, n, &heap_int_type, NULL, tr);
    for (size_t i = n / 2; i-- > 0;)
        int_siftup(a, n, i, a[i], 1);
    for (size_t end = n; end-- > 1;) {
        int item = a[end];
        a[end] = a[0];
        int_siftup(a, end, 0, item, 1);
    }
    return 0;
}
