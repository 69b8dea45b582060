#include "ssmio.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../models/mat.h"
#include "../../trace/status.h"
#include "../core/parse.h"

int ssmio_real(const topic_args *args, const char *name, double def, double lo, int open_lo,
               double hi, double *out, char *err, size_t errlen)
{
    const char *s = topic_opt_get(args, name);
    if (!s) {
        *out = def;
        return 0;
    }
    /* strtod follows LC_NUMERIC (the UI sets the user's locale); options always use '.'. */
    char buf[64];
    size_t n = strlen(s);
    if (n >= sizeof buf) {
        snprintf(err, errlen, "--%s: '%.20s...' is not a number", name, s);
        return TUTOR_EINVAL;
    }
    memcpy(buf, s, n + 1);
    const char *point = localeconv()->decimal_point;
    if (point && point[0] && point[0] != '.' && !point[1])
        for (char *c = buf; *c; c++)
            if (*c == '.')
                *c = point[0];
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    while (end != buf && (*end == ' ' || *end == '\t'))
        end++;
    if (end == buf || *end) {
        snprintf(err, errlen, "--%s: '%s' is not a number", name, s);
        return TUTOR_EINVAL;
    }
    if (!isfinite(v) || v > hi || v < lo || (open_lo && v == lo)) {
        snprintf(err, errlen, "--%s: %s is outside %s%g, %g]", name, s, open_lo ? "(" : "[", lo,
                 hi);
        return TUTOR_ERANGE;
    }
    *out = v;
    return 0;
}

int ssmio_size(const topic_args *args, const char *name, size_t def, size_t lo, size_t hi,
               size_t *out, char *err, size_t errlen)
{
    const char *s = topic_opt_get(args, name);
    if (!s) {
        *out = def;
        return 0;
    }
    char what[40];
    snprintf(what, sizeof what, "--%s", name);
    long long v;
    int rc = parse_int(s, what, LLONG_MIN, LLONG_MAX, &v, err, errlen);
    if (rc == TUTOR_ERANGE) /* beyond 64 bits: say what the option accepts instead */
        snprintf(err, errlen, "--%s: %.40s is outside [%zu, %zu]", name, s, lo, hi);
    if (rc)
        return rc;
    if (v < 0 || (unsigned long long)v < lo) {
        snprintf(err, errlen, "--%s: %lld is outside [%zu, %zu]", name, v, lo, hi);
        return TUTOR_ERANGE;
    }
    if ((unsigned long long)v > hi) {
        snprintf(err, errlen, "--%s: %lld is too big (at most %zu)", name, v, hi);
        return TUTOR_ETOOBIG;
    }
    *out = (size_t)v;
    return 0;
}

int ssmio_load(const topic_args *args, const char *name, size_t max_values, double **out,
               size_t *rows, size_t *cols, char *err, size_t errlen)
{
    const char *path = topic_opt_get(args, name);
    char msg[200];
    int rc = mat_load(path, max_values, out, rows, cols, msg, sizeof msg);
    if (rc == TUTOR_ETOOBIG)
        snprintf(err, errlen, "--%s: %s holds more than %zu values", name, path, max_values);
    else if (rc)
        snprintf(err, errlen, "--%s: %s", name, msg);
    return rc;
}

void ssmio_json_list(strbuf *sb, const double *v, size_t n)
{
    strbuf_putc(sb, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            strbuf_puts(sb, ", ");
        strbuf_json_double(sb, v[i]);
    }
    strbuf_putc(sb, ']');
}

void ssmio_json_reals(strbuf *sb, const char *name, const double *v, size_t n)
{
    strbuf_json_str(sb, name);
    strbuf_puts(sb, ": ");
    ssmio_json_list(sb, v, n);
}

void ssmio_json_complex(strbuf *sb, const char *name, const double complex *v, size_t n)
{
    strbuf_json_str(sb, name);
    strbuf_puts(sb, ": {\"re\": [");
    for (size_t i = 0; i < n; i++) {
        if (i)
            strbuf_puts(sb, ", ");
        strbuf_json_double(sb, creal(v[i]));
    }
    strbuf_puts(sb, "], \"im\": [");
    for (size_t i = 0; i < n; i++) {
        if (i)
            strbuf_puts(sb, ", ");
        strbuf_json_double(sb, cimag(v[i]));
    }
    strbuf_puts(sb, "]}");
}
