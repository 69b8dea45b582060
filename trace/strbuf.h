/* strbuf.h: a growable NUL-terminated string, for building output (JSON, text, gnuplot
 * scripts) in memory so that nothing half-written ever reaches a file or a terminal.
 *
 * Errors are sticky: after a failed append the buffer keeps what it had, sb->failed is set,
 * and every later append is a no-op, so a caller can append many pieces and check once. */
#ifndef TUTOR_STRBUF_H
#define TUTOR_STRBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct strbuf {
    char *s;    /* always NUL-terminated once anything was appended; may be NULL before */
    size_t len; /* bytes in s, not counting the NUL */
    size_t cap;
    int failed; /* TUTOR_ENOMEM after a failed append, else 0 */
} strbuf;

#define STRBUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }

/* Appends the bytes of s (n of them). Returns 0 or TUTOR_ENOMEM (sticky). Amortised O(n). */
int strbuf_putn(strbuf *sb, const char *s, size_t n);
/* Appends the NUL-terminated s. Returns 0 or TUTOR_ENOMEM. */
int strbuf_puts(strbuf *sb, const char *s);
/* Appends one character. Returns 0 or TUTOR_ENOMEM. */
int strbuf_putc(strbuf *sb, char c);
/* Appends printf-formatted text. Returns 0, TUTOR_ENOMEM, or TUTOR_EINVAL on a bad format
 * (not sticky: the buffer is unchanged and still usable). strbuf_vprintf takes a va_list and
 * leaves ap unusable, as vprintf does. */
int strbuf_printf(strbuf *sb, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
int strbuf_vprintf(strbuf *sb, const char *fmt, va_list ap);
/* Appends s as a JSON string literal, quotes included, escaping ", \ and control bytes.
 * Returns 0 or TUTOR_ENOMEM. O(length of s). */
int strbuf_json_str(strbuf *sb, const char *s);
/* Appends a double in JSON: the shortest of %.15g, %.16g, %.17g that reads back exactly,
 * null for NaN and infinities. Returns 0 or TUTOR_ENOMEM. O(1): about 0.1 us, decided with
 * integer arithmetic and only rare near-ties handed to printf and strtod. */
int strbuf_json_double(strbuf *sb, double x);
/* Appends x in decimal, as printf's "%lld" would, INT64_MIN included. Returns 0 or
 * TUTOR_ENOMEM. O(1), without printf's cost. */
int strbuf_put_i64(strbuf *sb, int64_t x);
/* Returns the contents ("" when empty; never NULL). The pointer is valid until the next
 * append or strbuf_free. */
const char *strbuf_str(const strbuf *sb);
/* Empties the buffer, keeping its memory and its sticky error (strbuf_free clears that). */
void strbuf_clear(strbuf *sb);
/* Frees the memory and resets sb to STRBUF_INIT. */
void strbuf_free(strbuf *sb);

#endif
