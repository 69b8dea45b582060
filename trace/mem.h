/* mem.h: the one allocation wrapper every module goes through.
 *
 * It exists so tests can make the k-th allocation fail and check that every caller returns
 * TUTOR_ENOMEM without crashing or leaking (see mem_fail_after). In normal runs it is a thin
 * layer over malloc/realloc/free. Not thread-safe: the counters are process-global, which is
 * fine for a single-threaded program and its tests. */
#ifndef TUTOR_MEM_H
#define TUTOR_MEM_H

#include <stddef.h>

/* Returns a block of n bytes (n == 0 is treated as 1), or NULL when out of memory or when an
 * injected failure fires. Free with mem_free. O(1). */
void *mem_alloc(size_t n);

/* Returns count * size zeroed bytes, or NULL on overflow of the product, out of memory or an
 * injected failure. Free with mem_free. O(count * size). */
void *mem_calloc(size_t count, size_t size);

/* Resizes p to count * size bytes like realloc. Returns the new block, or NULL on overflow,
 * out of memory or injected failure, in which case p is untouched and still owned by the
 * caller. O(new size). */
void *mem_realloc_array(void *p, size_t count, size_t size);

/* Returns a copy of the NUL-terminated s, or NULL. Free with mem_free. O(length of s). */
char *mem_strdup(const char *s);

/* Frees p (NULL is fine). */
void mem_free(void *p);

/* Test hook: after k more successful allocations, every following allocation fails until
 * mem_fail_after(-1) is called. k = 0 makes the very next one fail. */
void mem_fail_after(long k);

/* Test hook: how many allocations the hook let through since the program started (one the
 * system then refused still counts). */
unsigned long mem_count(void);

#endif
