#include "mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

static long fail_countdown = -1; /* -1: never fail */
static unsigned long alloc_count;

/* Decides whether this allocation is allowed; counts it when it is. */
static int mem_permit(void)
{
    if (fail_countdown == 0)
        return 0;
    if (fail_countdown > 0)
        fail_countdown--;
    alloc_count++;
    return 1;
}

/* Larger requests are refused before malloc sees them: no object may be larger (pointer
 * differences inside it would overflow), and the sanitizers' allocators abort on such a
 * request instead of returning NULL. */
#define MEM_MAX ((size_t)PTRDIFF_MAX)

void *mem_alloc(size_t n)
{
    if (n > MEM_MAX || !mem_permit())
        return NULL;
    return malloc(n ? n : 1);
}

void *mem_calloc(size_t count, size_t size)
{
    if (mem_mul(count, size) > MEM_MAX)
        return NULL;
    if (!mem_permit())
        return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *mem_realloc_array(void *p, size_t count, size_t size)
{
    if (mem_mul(count, size) > MEM_MAX)
        return NULL;
    if (!mem_permit())
        return NULL;
    size_t n = count * size;
    return realloc(p, n ? n : 1);
}

char *mem_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = mem_alloc(n);
    if (copy)
        memcpy(copy, s, n);
    return copy;
}

void mem_advise_random(void *p, size_t n)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    /* Only the whole huge pages inside the block can change; below 4 MiB there may be none,
     * and the system call is not worth making. */
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (!p || n < 2 * huge)
        return;
    uintptr_t from = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t to = ((uintptr_t)p + n) & ~(huge - 1);
    if (to > from)
        (void)madvise((void *)from, to - from, MADV_HUGEPAGE); /* a refusal changes nothing */
#else
    (void)p;
    (void)n;
#endif
}

void mem_free(void *p)
{
    free(p);
}

void mem_fail_after(long k)
{
    fail_countdown = k < 0 ? -1 : k;
}

unsigned long mem_count(void)
{
    return alloc_count;
}
