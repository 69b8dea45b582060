/* Exercise heap: a binary min-heap with Python heapq's exact semantics (push, pop, heapify).
 *
 * Task: implement heap_push, heap_pop and heap_heapify below. Run the tests with
 * `tutor exercise heap` (or `make exercise TOPIC=heap`); `tutor exercise heap --hint` gives
 * hints one at a time.
 *
 * Contract (algorithms/heap.h): a heap made by heap_init / heap_init_int holds h->len
 * elements of h->size bytes in h->data, in heap order (children of i are 2i+1 and 2i+2),
 * compared ONLY as h->less(a, b, h->ctx) ("a < b"). heap_reserve(h, n) (written for you)
 * makes room for n elements plus one scratch element at h->scratch. After every operation
 * the array must be exactly heapq's (Lib/heapq.py):
 *   heap_push: append, then _siftdown: the new item moves up while it is < its parent.
 *     Returns 0, or TUTOR_ENOMEM with the heap unchanged. O(log n), amortised O(1) growth
 *     (double the capacity, 8 at first).
 *   heap_pop: the root goes to out (size bytes); the last item fills a hole at the root by
 *     _siftup: the hole goes down to a leaf along the child that is smaller (the right one
 *     unless left < right), the item is put there and moves up (_siftdown) no higher than
 *     where the hole started. Returns 0, or TUTOR_EEMPTY on an empty heap (nothing changed).
 *   heap_heapify: replaces the contents with a copy of items[0..n) and runs _siftup on
 *     i = n/2 - 1 down to 0. Returns 0, or TUTOR_ENOMEM with the heap unchanged. O(n).
 *   tr may be NULL. The last behaviour compares your trace with the library's (see
 *   `tutor run heap --ops "heapify 9 4 7 1 8 2; push 3; pop" --trace`). Start with tr
 *   ignored. */
#include <string.h>

#include "algorithms/heap.h"
#include "trace/mem.h"
#include "trace/status.h"

int heap_push(heap *h, const void *item, trace *tr)
{
    /* Replace this body with yours. */
    (void)h;
    (void)item;
    (void)tr;
    return TUTOR_EINVAL;
}

int heap_pop(heap *h, void *out, trace *tr)
{
    /* Replace this body with yours. */
    (void)h;
    (void)out;
    (void)tr;
    return TUTOR_EINVAL;
}

int heap_heapify(heap *h, const void *items, size_t n, trace *tr)
{
    /* Replace this body with yours. */
    (void)h;
    (void)items;
    (void)n;
    (void)tr;
    return TUTOR_EINVAL;
}
