/* heap.h: binary min-heap over a growable array, with Python heapq's semantics.
 *
 * The array layout after every operation is exactly CPython's (Lib/heapq.py, whose C twin is
 * Modules/_heapqmodule.c): push sifts the new item up; pop, replace, pushpop and heapify move
 * the hole down to a leaf along the smaller child (the right one unless left < right), put
 * the item there and sift it back up. Only `<` is ever asked of the elements (less(a, b), as
 * heapq asks Python's `<`), so equal elements land exactly where heapq puts them.
 *
 * Elements are generic: a heap_type gives their size, a less-than test and an optional key that
 * traces use to show an element as a number. The heap_int_* helpers work on a heap made by
 * heap_init_int; untraced, they run an int-specialised copy of the same algorithms (no memcpy, no
 * function pointer per comparison), and the tests check that both copies leave the same arrays.
 * Traced, they run the generic code, which records the steps.
 *
 * Tracing: every function takes `trace *tr` (NULL: off, no tracing work at all). A traced run
 * records the array under the name "heap" (the tree is implicit: children of i are 2i+1 and
 * 2i+2), a COMPARE mark on both indices of every comparison, a MOVE mark on both ends of every
 * move, and quizzes "which child does the sift follow?" and "where does the item come to
 * rest?". During a sift the hole is shown holding the item being placed, which is what the
 * array would hold if the sift swapped instead of moving a hole. Step lines refer to
 * heap_listing.
 *
 * Errors and tracing: "unchanged" below holds for the failures that come before any change
 * (growing the array, the tracer's own buffer). A traced operation whose recording fails
 * part-way (the trace's sticky error, TUTOR_ENOMEM) still completes, and returns that error
 * with the heap or out already changed; so does every later traced call on the same trace. */
#ifndef TUTOR_HEAP_H
#define TUTOR_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "../trace/trace.h"

/* Returns non-zero when a sorts before b (a < b), 0 otherwise (equal, or b first): the one
 * question heapq asks, Python's `<`. `return x < y;` is a complete one. It must be a strict
 * weak order (never both less(a, b) and less(b, a)). ctx is passed through untouched.
 * A less-than test, not a qsort-style three-way comparison: a pop's sift waits for its
 * answer at every level, and the three-way result, of which only the sign was ever used,
 * took longer to produce and to read (10^6 pushes and pops: 1.6x the int path's time with
 * the three-way form, 1.4x with this one; docs/bench.md). */
typedef int (*heap_less)(const void *a, const void *b, void *ctx);

/* Returns the number a trace shows for elem (its priority, say). */
typedef int64_t (*heap_key)(const void *elem, void *ctx);

typedef struct heap_type {
    size_t size;    /* bytes per element, > 0 */
    heap_less less; /* the order: less(a, b) is "a < b" */
    heap_key key;   /* for traces; NULL shows every element as a blank cell */
} heap_type;

/* int in ascending order, key = the value. */
extern const heap_type heap_int_type;

typedef struct heap {
    unsigned char *data; /* len elements in heap order, then free room; NULL while cap == 0 */
    size_t len;          /* elements in the heap */
    size_t cap;          /* elements data can hold (plus one scratch slot past them) */
    size_t size;         /* bytes per element */
    heap_less less;
    heap_key key;
    void *ctx;
    unsigned char *scratch; /* one element of room for the item being sifted */
    /* For traces only: the word for less(a, b) in messages ("<", or ">" in the max-heaps
     * heapsort, nsmallest and reverse merge build inside) and how many slots a snapshot
     * shows (at least len; heapsort also shows the sorted tail). */
    const char *lt;
    size_t shown;
} heap;

/* The pseudo-code listing every heap trace's line numbers refer to, and its length. */
extern const char *const heap_listing[];
extern const size_t heap_listing_len;

/* Makes h an empty heap of elements of `type`, compared with ctx. Allocates nothing, cannot
 * fail. O(1). */
void heap_init(heap *h, const heap_type *type, void *ctx);

/* Makes h an empty heap of int (heap_int_type). */
void heap_init_int(heap *h);

/* Frees the array and leaves h empty and still usable. NULL is fine. */
void heap_free(heap *h);

/* Makes room for at least n elements. Returns 0, or TUTOR_ENOMEM with h unchanged. */
int heap_reserve(heap *h, size_t n);

/* Pushes a copy of item (which must not point into the heap's array: growing may move it)
 * onto the heap. Returns 0, or TUTOR_ENOMEM with the heap unchanged. O(log n) comparisons,
 * amortised O(1) allocation (the array doubles). */
int heap_push(heap *h, const void *item, trace *tr);

/* Pops the smallest element into out (size bytes). Returns 0, or TUTOR_EEMPTY on an empty
 * heap (nothing changed). Never allocates untraced; traced, may return TUTOR_ENOMEM with
 * the heap unchanged. O(log n). */
int heap_pop(heap *h, void *out, trace *tr);

/* heapq.heappushpop: pushes item then pops, in one sift. When the heap is empty or item is
 * not greater than the root (root < item is false), out receives item and the heap is
 * unchanged; otherwise the root goes to out and item takes its place. Returns 0 (or
 * TUTOR_ENOMEM, traced only). item and out may alias. O(log n). */
int heap_pushpop(heap *h, const void *item, void *out, trace *tr);

/* heapq.heapreplace: pops the root into out, then pushes item, in one sift. The old root is
 * returned even when item is smaller. Returns 0, or TUTOR_EEMPTY on an empty heap (nothing
 * changed), or TUTOR_ENOMEM (traced only). item and out may alias. O(log n). */
int heap_replace(heap *h, const void *item, void *out, trace *tr);

/* heapq.heapify on a new list: replaces the heap's contents with a copy of items[0..n) and
 * puts them in heap order (fewer than 2n comparisons). items may be the heap's own array
 * (h->data, n <= h->len). Returns 0, or TUTOR_ENOMEM with the heap unchanged. O(n). */
int heap_heapify(heap *h, const void *items, size_t n, trace *tr);

/* heapq.nsmallest: writes to out the min(max(n, 0), count) smallest of items[0..count) in
 * ascending order, equal elements in input order (the stable sorted slice), and their number
 * to *out_n. out must hold that many elements and not overlap items. Returns 0 or
 * TUTOR_ENOMEM (out untouched then). O(count log k) time, O(k) extra memory, k = *out_n. */
int heap_nsmallest(void *out, size_t *out_n, const void *items, size_t count, long n,
                   const heap_type *type, void *ctx, trace *tr);

/* heapq.nlargest: as heap_nsmallest with the largest in descending order, equal elements in
 * input order (sorted(items, reverse=True)[:n]). */
int heap_nlargest(void *out, size_t *out_n, const void *items, size_t count, long n,
                  const heap_type *type, void *ctx, trace *tr);

/* heapq.merge: merges the k sorted inputs (inputs[i] holds lens[i] elements) into out, which
 * must hold their total and not overlap them. Equal elements come out in input order (the
 * earlier input first). With reverse != 0 the inputs must be sorted from largest to smallest
 * and so is the output. Unsorted inputs give some permutation of them. Returns 0 or
 * TUTOR_ENOMEM (out untouched then). O(total log k). */
int heap_merge(void *out, const void *const *inputs, const size_t *lens, size_t k, int reverse,
               const heap_type *type, void *ctx, trace *tr);

/* Sorts base[0..n) ascending in place: heapify as a max-heap, then move the root behind the
 * shrinking heap n - 1 times (each sift goes to a leaf first, CPython-style, which is the
 * "bottom-up" heapsort). Not stable. Returns 0 or TUTOR_ENOMEM (one element of scratch;
 * base untouched then). O(n log n) time, O(1) extra memory. */
int heap_sort(void *base, size_t n, const heap_type *type, void *ctx, trace *tr);

/* Typed helpers for heaps made with heap_init_int, same contracts as above. The contents
 * are heap_int_data(h)[0..h->len). Untraced they run the int-specialised code. */
int heap_int_push(heap *h, int x, trace *tr);
int heap_int_pop(heap *h, int *out, trace *tr);
int heap_int_pushpop(heap *h, int x, int *out, trace *tr);
int heap_int_replace(heap *h, int x, int *out, trace *tr);
int heap_int_heapify(heap *h, const int *items, size_t n, trace *tr);
const int *heap_int_data(const heap *h);
int heap_int_nsmallest(int *out, size_t *out_n, const int *items, size_t count, long n, trace *tr);
int heap_int_nlargest(int *out, size_t *out_n, const int *items, size_t count, long n, trace *tr);
int heap_int_merge(int *out, const int *const *inputs, const size_t *lens, size_t k, int reverse,
                   trace *tr);
/* int-specialised in-place heapsort (untraced), else heap_sort with heap_int_type. */
int heap_int_sort(int *a, size_t n, trace *tr);

#endif
