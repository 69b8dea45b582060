#include "strbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "status.h"

/* Makes room for extra more bytes plus the NUL. Doubling keeps appends amortised O(1). */
static int strbuf_reserve(strbuf *sb, size_t extra)
{
    if (sb->failed)
        return sb->failed;
    if (extra > SIZE_MAX / 2 - sb->len - 1)
        return sb->failed = TUTOR_ENOMEM;
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap)
        return 0;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < need)
        cap *= 2;
    char *s = mem_realloc_array(sb->s, cap, 1);
    if (!s)
        return sb->failed = TUTOR_ENOMEM;
    sb->s = s;
    sb->cap = cap;
    return 0;
}

int strbuf_putn(strbuf *sb, const char *s, size_t n)
{
    int rc = strbuf_reserve(sb, n);
    if (rc)
        return rc;
    memcpy(sb->s + sb->len, s, n);
    sb->len += n;
    sb->s[sb->len] = '\0';
    return 0;
}

int strbuf_puts(strbuf *sb, const char *s)
{
    return strbuf_putn(sb, s, strlen(s));
}

int strbuf_putc(strbuf *sb, char c)
{
    return strbuf_putn(sb, &c, 1);
}

int strbuf_vprintf(strbuf *sb, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return TUTOR_EINVAL;
    int rc = strbuf_reserve(sb, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
    sb->len += (size_t)n;
    return 0;
}

int strbuf_printf(strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = strbuf_vprintf(sb, fmt, ap);
    va_end(ap);
    return rc;
}

int strbuf_json_str(strbuf *sb, const char *s)
{
    strbuf_putc(sb, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': strbuf_puts(sb, "\\\""); break;
        case '\\': strbuf_puts(sb, "\\\\"); break;
        case '\n': strbuf_puts(sb, "\\n"); break;
        case '\t': strbuf_puts(sb, "\\t"); break;
        case '\r': strbuf_puts(sb, "\\r"); break;
        default:
            if (*p < 0x20)
                strbuf_printf(sb, "\\u%04x", *p);
            else
                strbuf_putc(sb, (char)*p);
        }
    }
    return strbuf_putc(sb, '"');
}

int strbuf_json_double(strbuf *sb, double x)
{
    if (!isfinite(x))
        return strbuf_puts(sb, "null");
    /* The shortest of %.15g..%.17g that reads back exactly: short for humans, exact for tools. */
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    return strbuf_puts(sb, buf);
}

const char *strbuf_str(const strbuf *sb)
{
    return sb->s ? sb->s : "";
}

void strbuf_clear(strbuf *sb)
{
    sb->len = 0;
    if (sb->s)
        sb->s[0] = '\0';
}

void strbuf_free(strbuf *sb)
{
    mem_free(sb->s);
    sb->s = NULL;
    sb->len = sb->cap = 0;
    sb->failed = 0;
}
