#include "mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
