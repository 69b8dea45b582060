/* The heap exercise: heap_push, heap_pop and heap_heapify against the library's, array
 * layout included (heapq's exact layout is the contract). */
#include <string.h>

#include "../../algorithms/heap.h"
#include "../../trace/rng.h"
#include "../../trace/status.h"
#include "ex.h"

EX_REF(heap_push);
EX_REF(heap_pop);
EX_REF(heap_heapify);

/* Elements with a priority and an identity: equal priorities show where ties land. */
typedef struct job {
    int pri, id;
} job;

static int job_less(const void *a, const void *b, void *ctx)
{
    (void)ctx;
    return ((const job *)a)->pri < ((const job *)b)->pri;
}

static int64_t job_key(const void *elem, void *ctx)
{
    (void)ctx;
    return ((const job *)elem)->pri;
}

static const heap_type job_type = {sizeof(job), job_less, job_key};

static const int *ints(const heap *h)
{
    return (const int *)(const void *)h->data;
}

static int same_layout(const heap *want, const heap *got, const char *after)
{
    char what[96];
    snprintf(what, sizeof what, "the array after %s", after);
    if (want->size == sizeof(int))
        return ex_ints(what, ints(want), want->len, ints(got), got->len);
    int w[128], g[128];
    size_t nw = want->len < 64 ? want->len : 64, ng = got->len < 64 ? got->len : 64;
    const job *jw = (const job *)(const void *)want->data,
              *jg = (const job *)(const void *)got->data;
    for (size_t i = 0; i < nw; i++)
        w[i] = jw[i].id;
    for (size_t i = 0; i < ng; i++)
        g[i] = jg[i].id;
    snprintf(what, sizeof what, "the job ids in the array after %s", after);
    return ex_ints(what, w, nw, g, ng);
}

static int push_both(heap *want, heap *got, int x)
{
    int rc_want = exref_heap_push(want, &x, NULL);
    int rc = heap_push(got, &x, NULL);
    char after[48];
    snprintf(after, sizeof after, "push %d", x);
    return ex_status("heap_push's return value", rc_want, rc) && same_layout(want, got, after);
}

static int pop_both(heap *want, heap *got)
{
    int x_want = -1, x = -1;
    int rc_want = exref_heap_pop(want, &x_want, NULL);
    int rc = heap_pop(got, &x, NULL);
    return ex_status("heap_pop's return value", rc_want, rc) &&
           ex_i64("the popped item", x_want, x) && same_layout(want, got, "pop");
}

static void push(void)
{
    heap want, got;
    heap_init_int(&want);
    heap_init_int(&got);
    int xs[] = {5, 3, 8, 1, 9, 2, 2, 7};
    ex_input("pushes 5 3 8 1 9 2 2 7 onto an empty int heap");
    for (size_t i = 0; i < 8 && push_both(&want, &got, xs[i]); i++)
        ;
    heap_free(&want);
    heap_free(&got);
}

static void pop(void)
{
    heap want, got;
    heap_init_int(&want);
    heap_init_int(&got);
    int xs[] = {5, 3, 8, 1, 9, 2, 2, 7};
    ex_input("pushes 5 3 8 1 9 2 2 7, then pops until empty");
    for (size_t i = 0; i < 8 && push_both(&want, &got, xs[i]); i++)
        ;
    for (size_t i = 0; i < 8 && !ex_failed(); i++)
        pop_both(&want, &got);
    heap_free(&want);
    heap_free(&got);
}

static void empty(void)
{
    heap h;
    heap_init_int(&h);
    int out = 42;
    ex_input("pop on an empty heap");
    if (ex_status("heap_pop's return value", TUTOR_EEMPTY, heap_pop(&h, &out, NULL)))
        ex_i64("out (untouched)", 42, out);
    heap_free(&h);
}

static void heapify(void)
{
    rng r;
    rng_seed(&r, 7);
    int items[64];
    for (int round = 0; round < 100 && !ex_failed(); round++) {
        size_t n = (size_t)rng_range(&r, 0, 64);
        for (size_t i = 0; i < n; i++)
            items[i] = (int)rng_range(&r, 0, 20);
        strbuf sb = STRBUF_INIT;
        ex_fmt_ints(&sb, items, n);
        ex_input("heapify %s (n = %zu)", strbuf_str(&sb), n);
        strbuf_free(&sb);
        heap want, got;
        heap_init_int(&want);
        heap_init_int(&got);
        int rc_want = exref_heap_heapify(&want, items, n, NULL);
        int rc = heap_heapify(&got, items, n, NULL);
        if (ex_status("heap_heapify's return value", rc_want, rc))
            same_layout(&want, &got, "heapify");
        heap_free(&want);
        heap_free(&got);
    }
}

static void ties(void)
{
    rng r;
    rng_seed(&r, 11);
    for (int round = 0; round < 100 && !ex_failed(); round++) {
        heap want, got;
        heap_init(&want, &job_type, NULL);
        heap_init(&got, &job_type, NULL);
        job items[40];
        size_t n = (size_t)rng_range(&r, 1, 40);
        for (size_t i = 0; i < n; i++)
            items[i] = (job){(int)rng_range(&r, 0, 3), (int)i};
        ex_input("jobs with priorities 0..3 and ids 0..%zu: heapify, then push and pop", n - 1);
        int rc_want = exref_heap_heapify(&want, items, n, NULL);
        int rc = heap_heapify(&got, items, n, NULL);
        if (ex_status("heap_heapify's return value", rc_want, rc) &&
            same_layout(&want, &got, "heapify")) {
            for (int op = 0; op < 30 && !ex_failed(); op++) {
                job j = {(int)rng_range(&r, 0, 3), 100 + op}, ow = {0, -1}, og = {0, -1};
                if (op % 2 == 0) {
                    rc_want = exref_heap_push(&want, &j, NULL);
                    rc = heap_push(&got, &j, NULL);
                } else {
                    rc_want = exref_heap_pop(&want, &ow, NULL);
                    rc = heap_pop(&got, &og, NULL);
                }
                if (ex_status(op % 2 ? "heap_pop's return value" : "heap_push's return value",
                              rc_want, rc) &&
                    (op % 2 == 0 || ex_i64("the popped job's id", ow.id, og.id)))
                    same_layout(&want, &got, op % 2 ? "a pop" : "a push");
            }
        }
        heap_free(&want);
        heap_free(&got);
    }
}

static void random_ops(void)
{
    rng r;
    rng_seed(&r, 3);
    heap want, got;
    heap_init_int(&want);
    heap_init_int(&got);
    ex_input("2000 random pushes and pops (seed 3)");
    for (int op = 0; op < 2000 && !ex_failed(); op++) {
        if (want.len == 0 || rng_range(&r, 0, 2) > 0)
            push_both(&want, &got, (int)rng_range(&r, -1000, 1000));
        else
            pop_both(&want, &got);
    }
    heap_free(&want);
    heap_free(&got);
}

static int sweep_push(void *ctx)
{
    heap *h = ctx;
    int rc = 0;
    size_t before = 0;
    for (int x = 20; x > 0 && !rc; x--) {
        before = h->len;
        rc = heap_push(h, &x, NULL);
    }
    if (rc == TUTOR_ENOMEM && h->len != before)
        ex_fail("a push that failed changed len from %zu to %zu", before, h->len);
    heap_free(h);
    return rc;
}

static void alloc(void)
{
    heap h;
    heap_init_int(&h);
    ex_input("20 pushes onto an empty heap, every allocation failing in turn");
    ex_alloc_sweep(sweep_push, &h);
}

static void traced(void)
{
    trace *ref, *got;
    if (!ex_trace_pair(&ref, &got, heap_listing, heap_listing_len))
        return;
    heap want, mine;
    heap_init_int(&want);
    heap_init_int(&mine);
    int items[] = {9, 4, 7, 1, 8, 2};
    int xs[] = {3, 0}, out;
    ex_input("heapify [9 4 7 1 8 2], push 3, push 0, pop, pop");
    exref_heap_heapify(&want, items, 6, ref);
    int rc = heap_heapify(&mine, items, 6, got);
    for (int i = 0; i < 2 && !rc; i++) {
        exref_heap_push(&want, &xs[i], ref);
        rc = heap_push(&mine, &xs[i], got);
    }
    for (int i = 0; i < 2 && !rc; i++) {
        exref_heap_pop(&want, &out, ref);
        rc = heap_pop(&mine, &out, got);
    }
    if (ex_status("return value", 0, rc))
        ex_trace(ref, got, 0);
    heap_free(&want);
    heap_free(&mine);
    trace_free(ref);
    trace_free(got);
}

static const ex_behaviour behaviours[] = {
    {"push: the array is heapq's after each push",
     "Append the item at index len, then move it UP while it is smaller (h->less) than its "
     "parent (pos - 1) / 2; stop at the first parent that is not larger.",
     push},
    {"pop: the smallest comes out, the array is heapq's",
     "Take a[0]; move the last item into a hole at the root; send the hole DOWN to a leaf "
     "along the smaller child (the right one unless left < right), put the item there and "
     "move it up again (heapq's siftup, not the textbook sift-down).",
     pop},
    {"pop on an empty heap returns TUTOR_EEMPTY", "Check h->len == 0 first; touch nothing.", empty},
    {"heapify: heapq's layout on 100 random arrays",
     "Copy the items (heap_reserve for room), then run pop's sift on i = n/2 - 1 down to 0: "
     "the leaves n/2..n-1 are heaps already.",
     heapify},
    {"equal priorities land exactly where heapq puts them",
     "Ask only h->less(a, b, h->ctx). Going down: take the right child unless left < right (so on "
     "a "
     "tie, the right one); going up: move only while item < parent.",
     ties},
    {"agrees with the reference on 2000 random pushes and pops",
     "Elements are h->size bytes: copy them with memcpy through h->scratch, the one spare "
     "slot past the array.",
     random_ops},
    {"an allocation failure returns TUTOR_ENOMEM, heap unchanged",
     "Grow the array with heap_reserve (doubling) before touching it: when it fails, return "
     "TUTOR_ENOMEM with len as it was.",
     alloc},
    {"trace: the same steps as the reference",
     "Compare with `tutor run heap --ops \"heapify 9 4 7 1 8 2; push 3; push 0; pop; pop\" "
     "--trace`: the array is snapshot as \"heap\" (keys), the hole showing the item in hand.",
     traced},
    {NULL, NULL, NULL},
};

void tests_register(void)
{
    ex_register("heap", behaviours);
}
