#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../trace/mem.h"
#include "../../trace/status.h"

static int say(int code, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}

static int is_sep(char c)
{
    return c == ',' || isspace((unsigned char)c);
}

/* Reads one token (up to a separator, or up to `stop` when not 0) into buf, quoting it
 * safely for messages when it is too long. Returns the token length. */
static size_t token_len(const char *s, char stop)
{
    size_t n = 0;
    while (s[n] && !is_sep(s[n]) && s[n] != stop)
        n++;
    return n;
}

/* Parses the integer occupying exactly s[0..len). */
static int int_token(const char *s, size_t len, const char *what, long long lo, long long hi,
                     long long *out, char *err, size_t errlen)
{
    char buf[64];
    int shown = len > 40 ? 40 : (int)len;
    if (len == 0)
        return say(TUTOR_EINVAL, err, errlen, "%s: expected a number", what);
    if (len >= sizeof buf)
        return say(TUTOR_ERANGE, err, errlen, "%s: '%.*s...' is too long for a number", what, shown,
                   s);
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (end == buf || *end || !(isdigit((unsigned char)buf[0]) || buf[0] == '-' || buf[0] == '+'))
        return say(TUTOR_EINVAL, err, errlen, "%s: '%s' is not an integer", what, buf);
    if (errno == ERANGE || v < lo || v > hi)
        return say(TUTOR_ERANGE, err, errlen, "%s: %s is outside the allowed range [%lld, %lld]",
                   what, buf, lo, hi);
    *out = v;
    return 0;
}

int parse_int(const char *s, const char *what, long long lo, long long hi, long long *out,
              char *err, size_t errlen)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    return int_token(s, len, what, lo, hi, out, err, errlen);
}

int parse_u64(const char *s, const char *what, uint64_t *out, char *err, size_t errlen)
{
    while (isspace((unsigned char)*s))
        s++;
    if (!isdigit((unsigned char)*s))
        return say(TUTOR_EINVAL, err, errlen, "%s: '%s' is not a non-negative integer", what, s);
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    if (*end)
        return say(TUTOR_EINVAL, err, errlen, "%s: '%s' is not a non-negative integer", what, s);
    if (errno == ERANGE)
        return say(TUTOR_ERANGE, err, errlen, "%s: '%s' does not fit in 64 bits", what, s);
    *out = (uint64_t)v;
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * Lists from a file (@FILE) or standard input (-). */

/* Reads all of f into a new NUL-terminated buffer, refusing more than PARSE_MAX_LIST_BYTES
 * and NUL bytes (they would end the list early without a word). */
static int read_all(FILE *f, const char *what, const char *name, char **out, char *err,
                    size_t errlen)
{
    size_t len = 0, cap = 0;
    char *buf = NULL;
    for (;;) {
        if (cap - len < 65536 + 1) {
            size_t c = cap ? cap * 2 : 65536 * 2;
            if (c > PARSE_MAX_LIST_BYTES + 65536 + 1)
                c = PARSE_MAX_LIST_BYTES + 65536 + 1;
            if (c <= cap) {
                mem_free(buf);
                return say(TUTOR_ETOOBIG, err, errlen, "%s: %s is over %zu MiB", what, name,
                           PARSE_MAX_LIST_BYTES >> 20);
            }
            char *grown = mem_realloc_array(buf, c, 1);
            if (!grown) {
                mem_free(buf);
                return say(TUTOR_ENOMEM, err, errlen, "%s: out of memory reading %s", what, name);
            }
            buf = grown;
            cap = c;
        }
        size_t k = fread(buf + len, 1, cap - len - 1, f);
        len += k;
        if (len > PARSE_MAX_LIST_BYTES) {
            mem_free(buf);
            return say(TUTOR_ETOOBIG, err, errlen, "%s: %s is over %zu MiB", what, name,
                       PARSE_MAX_LIST_BYTES >> 20);
        }
        if (k == 0)
            break;
    }
    if (ferror(f)) {
        int e = errno;
        mem_free(buf);
        return say(TUTOR_EIO, err, errlen, "%s: cannot read %s: %s", what, name, strerror(e));
    }
    buf[len] = '\0';
    const char *nul = memchr(buf, '\0', len);
    if (nul) {
        size_t line = 1;
        for (const char *c = buf; c < nul; c++)
            line += *c == '\n';
        mem_free(buf);
        return say(TUTOR_EINVAL, err, errlen, "%s: %s:%zu: a NUL byte", what, name, line);
    }
    *out = buf;
    return 0;
}

int parse_src_open(parse_src *src, const char *value, const char *what, char *err, size_t errlen)
{
    *src = (parse_src){value, NULL, NULL};
    if (strcmp(value, "-") == 0) {
        src->file = "standard input";
        if (isatty(STDIN_FILENO))
            return say(TUTOR_EINVAL, err, errlen,
                       "%s: - reads standard input, which is a terminal here: pipe the list in "
                       "or give @FILE",
                       what);
        int rc = read_all(stdin, what, src->file, &src->owned, err, errlen);
        src->text = src->owned;
        return rc;
    }
    if (value[0] != '@')
        return 0;
    const char *path = value + 1;
    src->file = path;
    if (!*path)
        return say(TUTOR_EINVAL, err, errlen, "%s: @ must be followed by a file name", what);
    FILE *f = fopen(path, "rb");
    if (!f)
        return say(TUTOR_EINVAL, err, errlen, "%s: cannot open %s: %s", what, path,
                   strerror(errno));
    struct stat st;
    int rc = 0;
    if (fstat(fileno(f), &st) != 0 || !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode)) ||
        isatty(fileno(f)))
        rc = say(TUTOR_EINVAL, err, errlen,
                 "%s: %s is not a regular file or a pipe (the tutor would wait on it)", what, path);
    else if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > PARSE_MAX_LIST_BYTES)
        rc = say(TUTOR_ETOOBIG, err, errlen, "%s: %s is over %zu MiB", what, path,
                 PARSE_MAX_LIST_BYTES >> 20);
    else
        rc = read_all(f, what, path, &src->owned, err, errlen);
    fclose(f);
    if (!rc)
        src->text = src->owned;
    return rc;
}

void parse_src_free(parse_src *src)
{
    mem_free(src->owned);
    *src = (parse_src){NULL, NULL, NULL};
}

void parse_src_locate(const parse_src *src, const char *pos, const char *what, char *err,
                      size_t errlen)
{
    if (!src->file || !src->text || !err || !errlen)
        return;
    size_t line = 1;
    if (pos)
        for (const char *c = src->text; c < pos && *c; c++)
            line += *c == '\n';
    size_t wl = strlen(what);
    const char *rest =
        strncmp(err, what, wl) == 0 && strncmp(err + wl, ": ", 2) == 0 ? err + wl + 2 : err;
    char copy[512];
    snprintf(copy, sizeof copy, "%s", rest);
    if (pos)
        snprintf(err, errlen, "%s: %s:%zu: %s", what, src->file, line, copy);
    else
        snprintf(err, errlen, "%s: %s: %s", what, src->file, copy);
}

/* An array of `size`-byte values v with *cap slots, grown when needed to hold value n:
 * returns the array, or NULL when out of memory (v is then still the caller's). */
static void *grow(void *v, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return v;
    size_t c = *cap ? *cap * 2 : 16;
    void *grown = mem_realloc_array(v, c, size);
    if (grown)
        *cap = c;
    return grown;
}

/* One token of a list, s[0..len), stored as value number i: returns 0 or an error with
 * its message in err. */
typedef int (*token_fn)(void *ctx, size_t i, const char *s, size_t len, char *err, size_t errlen);

/* The walk every list parser shares: reads `list` (inline, @FILE or -), splits it at
 * separators and hands each token to take, refusing more than max_n (`noun` in the
 * message). An error from a file is located by file and line. O(length of the list). */
static int walk_list(const char *list, const char *what, size_t max_n, const char *noun,
                     token_fn take, void *ctx, size_t *n, char *err, size_t errlen)
{
    parse_src src;
    int rc = parse_src_open(&src, list, what, err, errlen);
    if (rc) {
        parse_src_free(&src);
        return rc;
    }
    const char *s = src.text;
    size_t count = 0;
    for (;;) {
        while (is_sep(*s))
            s++;
        if (!*s)
            break;
        if (count == max_n) {
            rc = say(TUTOR_ETOOBIG, err, errlen, "%s: more than %zu %s", what, max_n, noun);
            break;
        }
        size_t len = token_len(s, 0);
        if ((rc = take(ctx, count, s, len, err, errlen)) != 0)
            break;
        count++;
        s += len;
    }
    if (rc && rc != TUTOR_ENOMEM)
        parse_src_locate(&src, s, what, err, errlen);
    parse_src_free(&src);
    *n = count;
    return rc;
}

typedef struct int_list {
    const char *what;
    int *v;
    size_t cap;
} int_list;

static int take_int(void *ctx, size_t i, const char *s, size_t len, char *err, size_t errlen)
{
    int_list *l = ctx;
    long long x;
    int rc = int_token(s, len, l->what, INT_MIN, INT_MAX, &x, err, errlen);
    if (rc)
        return rc;
    int *v = grow(l->v, i, &l->cap, sizeof *v);
    if (!v)
        return say(TUTOR_ENOMEM, err, errlen, "%s: out of memory", l->what);
    l->v = v;
    v[i] = (int)x;
    return 0;
}

int parse_ints(const char *list, const char *what, size_t max_n, int **out, size_t *n, char *err,
               size_t errlen)
{
    int_list l = {what, NULL, 0};
    size_t len;
    int rc = walk_list(list, what, max_n, "numbers", take_int, &l, &len, err, errlen);
    if (rc) {
        mem_free(l.v);
        return rc;
    }
    *out = l.v;
    *n = len;
    return 0;
}

typedef struct real_list {
    const char *what;
    double *v;
    size_t cap;
} real_list;

static int take_real(void *ctx, size_t i, const char *s, size_t len, char *err, size_t errlen)
{
    real_list *l = ctx;
    char buf[64];
    if (len >= sizeof buf)
        return say(TUTOR_EINVAL, err, errlen, "%s: '%.40s...' is too long for a number", l->what,
                   s);
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    double x = strtod(buf, &end);
    if (end == buf || *end || isnan(x) || isinf(x) || errno == ERANGE)
        return say(TUTOR_EINVAL, err, errlen, "%s: '%s' is not a finite number", l->what, buf);
    double *v = grow(l->v, i, &l->cap, sizeof *v);
    if (!v)
        return say(TUTOR_ENOMEM, err, errlen, "%s: out of memory", l->what);
    l->v = v;
    v[i] = x;
    return 0;
}

int parse_reals(const char *list, const char *what, size_t max_n, double **out, size_t *n,
                char *err, size_t errlen)
{
    real_list l = {what, NULL, 0};
    size_t len;
    int rc = walk_list(list, what, max_n, "numbers", take_real, &l, &len, err, errlen);
    if (rc) {
        mem_free(l.v);
        return rc;
    }
    *out = l.v;
    *n = len;
    return 0;
}

typedef struct pair_list {
    const char *what;
    long long alo, ahi, blo, bhi;
    int *a, *b;
    size_t cap_a, cap_b;
} pair_list;

static int take_pair(void *ctx, size_t i, const char *s, size_t len, char *err, size_t errlen)
{
    pair_list *l = ctx;
    size_t first = token_len(s, ':');
    if (first == len)
        return say(TUTOR_EINVAL, err, errlen, "%s: '%.*s' is not of the form A:B", l->what,
                   len > 40 ? 40 : (int)len, s);
    long long x, y;
    int rc = int_token(s, first, l->what, l->alo, l->ahi, &x, err, errlen);
    if (!rc)
        rc = int_token(s + first + 1, len - first - 1, l->what, l->blo, l->bhi, &y, err, errlen);
    if (rc)
        return rc;
    int *a = grow(l->a, i, &l->cap_a, sizeof *a);
    if (a)
        l->a = a;
    int *b = a ? grow(l->b, i, &l->cap_b, sizeof *b) : NULL;
    if (!b)
        return say(TUTOR_ENOMEM, err, errlen, "%s: out of memory", l->what);
    l->b = b;
    a[i] = (int)x;
    b[i] = (int)y;
    return 0;
}

int parse_pairs(const char *list, const char *what, long long alo, long long ahi, long long blo,
                long long bhi, size_t max_n, int **a, int **b, size_t *n, char *err, size_t errlen)
{
    pair_list l = {what, alo, ahi, blo, bhi, NULL, NULL, 0, 0};
    size_t len;
    int rc = walk_list(list, what, max_n, "items", take_pair, &l, &len, err, errlen);
    if (rc) {
        mem_free(l.a);
        mem_free(l.b);
        return rc;
    }
    *a = l.a;
    *b = l.b;
    *n = len;
    return 0;
}

void parse_free_words(char **argv)
{
    if (!argv)
        return;
    for (char **p = argv; *p; p++)
        mem_free(*p);
    mem_free(argv);
}

int parse_words(const char *line, char ***argv_out, int *argc_out, char *err, size_t errlen)
{
    size_t cap = 8, count = 0;
    char **argv = mem_calloc(cap, sizeof *argv);
    char *word = mem_alloc(strlen(line) + 1);
    int rc = 0;
    if (!argv || !word) {
        rc = say(TUTOR_ENOMEM, err, errlen, "out of memory");
        goto out;
    }
    const char *p = line;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        size_t wl = 0;
        char quote = 0;
        while (*p && (quote || !isspace((unsigned char)*p))) {
            if (quote && *p == quote) {
                quote = 0;
            } else if (!quote && (*p == '\'' || *p == '"')) {
                quote = *p;
            } else if (*p == '\\' && quote != '\'' && p[1]) {
                word[wl++] = *++p;
            } else {
                word[wl++] = *p;
            }
            p++;
        }
        if (quote) {
            rc = say(TUTOR_EINVAL, err, errlen, "unterminated %c quote", quote);
            goto out;
        }
        if (count + 1 == cap) {
            char **grown = mem_realloc_array(argv, cap * 2, sizeof *argv);
            if (!grown) {
                rc = say(TUTOR_ENOMEM, err, errlen, "out of memory");
                goto out;
            }
            argv = grown;
            cap *= 2;
        }
        word[wl] = '\0';
        argv[count] = mem_strdup(word);
        if (!argv[count]) {
            rc = say(TUTOR_ENOMEM, err, errlen, "out of memory");
            goto out;
        }
        argv[++count] = NULL;
    }
out:
    mem_free(word);
    if (rc) {
        parse_free_words(argv);
        return rc;
    }
    *argv_out = argv;
    *argc_out = (int)count;
    return 0;
}
