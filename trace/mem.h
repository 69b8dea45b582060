/* mem.h: the one allocation wrapper every module goes through.
 *
 * It exists so tests can make the k-th allocation fail and check that every caller returns
 * TUTOR_ENOMEM without crashing or leaking (see mem_fail_after). In normal runs it is a thin
 * layer over malloc/realloc/free. Not thread-safe: the counters are process-global, which is
 * fine for a single-threaded program and its tests. */
#ifndef TUTOR_MEM_H
#define TUTOR_MEM_H

#include <stddef.h>
#include <stdint.h>

/* Sizes for mem_alloc computed from caller-supplied counts: a * b and a + b, or SIZE_MAX
 * when the exact value does not fit. Every allocator here refuses a request above
 * PTRDIFF_MAX (the largest object C allows), so a size that would have wrapped around to a
 * small block becomes a refused allocation (NULL, reported as TUTOR_ENOMEM) instead of a
 * buffer overrun. Saturation composes: mem_mul(mem_add(a, b), c) is SIZE_MAX whenever any
 * step overflowed. O(1). */
static inline size_t mem_mul(size_t a, size_t b)
{
    return (b && a > SIZE_MAX / b) ? SIZE_MAX : a * b;
}

static inline size_t mem_add(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* Returns a block of n bytes (n == 0 is treated as 1), or NULL when n > PTRDIFF_MAX, out of
 * memory or when an injected failure fires. Free with mem_free. O(1). */
void *mem_alloc(size_t n);

/* Returns count * size zeroed bytes, or NULL when the product exceeds PTRDIFF_MAX, out of
 * memory or an injected failure. Free with mem_free. O(count * size). */
void *mem_calloc(size_t count, size_t size);

/* Resizes p to count * size bytes like realloc. Returns the new block, or NULL when the
 * product exceeds PTRDIFF_MAX, out of memory or injected failure, in which case p is untouched and
 * still owned by the caller. O(new size). */
void *mem_realloc_array(void *p, size_t count, size_t size);

/* Returns a copy of the NUL-terminated s, or NULL. Free with mem_free. O(length of s). */
char *mem_strdup(const char *s);

/* A hint for a large block that is about to be read and written at random places (a
 * table of buckets, say): on Linux, asks the kernel to back the whole 2 MiB pages inside
 * p's n bytes with transparent huge pages, so that touching the table costs one page fault
 * and one TLB entry per 2 MiB instead of per 4 KiB. Blocks below a few MiB, other systems
 * and a kernel that declines are left as they are; the contents never change. Call it
 * before the block is first written. O(1). */
void mem_advise_random(void *p, size_t n);

/* Frees p (NULL is fine). */
void mem_free(void *p);

/* Test hook: after k more successful allocations, every following allocation fails until
 * mem_fail_after(-1) is called. k = 0 makes the very next one fail. */
void mem_fail_after(long k);

/* Test hook: how many allocations the hook let through since the program started (one the
 * system then refused still counts). */
unsigned long mem_count(void);

#endif
