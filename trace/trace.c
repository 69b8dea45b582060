#include "trace.h"

#include <math.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "status.h"

struct trace {
    trace_frame *steps;
    size_t len, cap;
    size_t bytes, cap_bytes;
    int truncated;
    int error;
    const char *const *listing;
    size_t listing_len;
};

static const char *const role_names[TRACE_ROLE_COUNT] = {
    "current", "compare", "move", "source", "winner", "chosen", "pruned", "skipped", "found",
};

trace *trace_new(size_t cap_bytes)
{
    trace *tr = mem_calloc(1, sizeof *tr);
    if (tr)
        tr->cap_bytes = cap_bytes ? cap_bytes : TRACE_DEFAULT_CAP;
    return tr;
}

static void snap_free(trace_snap *s)
{
    mem_free(s->name);
    mem_free(s->ints);
    mem_free(s->reals);
}

static void step_free(trace_frame *st)
{
    for (size_t i = 0; i < st->nsnaps; i++)
        snap_free(&st->snaps[i]);
    for (size_t i = 0; i < st->nmarks; i++)
        mem_free(st->marks[i].target);
    mem_free(st->snaps);
    mem_free(st->marks);
    mem_free(st->msg);
    mem_free(st->quiz);
}

void trace_free(trace *tr)
{
    if (!tr)
        return;
    for (size_t i = 0; i < tr->len; i++)
        step_free(&tr->steps[i]);
    mem_free(tr->steps);
    mem_free(tr);
}

void trace_set_listing(trace *tr, const char *const *lines, size_t n)
{
    if (!tr)
        return;
    tr->listing = lines;
    tr->listing_len = n;
}

/* Whether recording should go on; also the place where the byte cap is enforced, so every
 * recorder asks it first with the size it is about to add. */
static int recording(trace *tr, size_t adding)
{
    if (tr->error || tr->truncated)
        return 0;
    if (adding > tr->cap_bytes - tr->bytes || tr->bytes > tr->cap_bytes) {
        tr->truncated = 1;
        return 0;
    }
    return 1;
}

/* Records the first error only: later calls report the root cause, not its echoes. */
static int fail(trace *tr, int code)
{
    if (!tr->error)
        tr->error = code;
    return tr->error;
}

int trace_step(trace *tr, int line, const char *fmt, ...)
{
    /* Once recording has stopped, skip the formatting: long runs step millions of times. */
    if (!tr || tr->truncated)
        return 0;
    if (tr->error)
        return tr->error;
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if (!recording(tr, sizeof(trace_frame) + (size_t)n + 1))
        return tr->error;
    if (tr->len == tr->cap) {
        size_t cap = tr->cap ? tr->cap * 2 : 64;
        trace_frame *steps = mem_realloc_array(tr->steps, cap, sizeof *steps);
        if (!steps)
            return fail(tr, TUTOR_ENOMEM);
        tr->steps = steps;
        tr->cap = cap;
    }
    char *msg = mem_alloc((size_t)n + 1);
    if (!msg)
        return fail(tr, TUTOR_ENOMEM);
    if ((size_t)n < sizeof small) {
        memcpy(msg, small, (size_t)n + 1);
    } else {
        va_start(ap, fmt);
        vsnprintf(msg, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    trace_frame *st = &tr->steps[tr->len++];
    memset(st, 0, sizeof *st);
    st->line = line;
    st->msg = msg;
    tr->bytes += sizeof(trace_frame) + (size_t)n + 1;
    return 0;
}

/* Appends an empty snapshot slot to the current step; NULL when recording stopped. */
static trace_snap *new_snap(trace *tr, const char *name, trace_kind kind, size_t rows, size_t cols,
                            size_t elem)
{
    if (tr->error || tr->truncated)
        return NULL;
    if (!tr->len) {
        fail(tr, TUTOR_EINVAL);
        return NULL;
    }
    if (cols && rows > SIZE_MAX / cols / elem) {
        tr->truncated = 1;
        return NULL;
    }
    size_t data = rows * cols * elem;
    size_t namelen = strlen(name) + 1;
    if (!recording(tr, sizeof(trace_snap) + data + namelen))
        return NULL;
    trace_frame *st = &tr->steps[tr->len - 1];
    trace_snap *snaps = mem_realloc_array(st->snaps, st->nsnaps + 1, sizeof *snaps);
    if (!snaps) {
        fail(tr, TUTOR_ENOMEM);
        return NULL;
    }
    st->snaps = snaps;
    trace_snap *s = &snaps[st->nsnaps];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->rows = rows;
    s->cols = cols;
    s->name = mem_strdup(name);
    void *buf = mem_alloc(data);
    if (!s->name || !buf) {
        mem_free(s->name);
        mem_free(buf);
        s->name = NULL;
        fail(tr, TUTOR_ENOMEM);
        return NULL;
    }
    if (elem == sizeof(double) &&
        (kind == TRACE_REAL || kind == TRACE_REALS || kind == TRACE_MATRIX))
        s->reals = buf;
    else
        s->ints = buf;
    st->nsnaps++;
    tr->bytes += sizeof(trace_snap) + data + namelen;
    return s;
}

static int is_real(trace_kind kind)
{
    return kind == TRACE_REAL || kind == TRACE_REALS || kind == TRACE_MATRIX;
}

/* Records one snapshot; src holds rows*cols int64_t or double values per the kind. */
static int record(trace *tr, const char *name, trace_kind kind, const void *src, size_t rows,
                  size_t cols)
{
    if (!tr)
        return 0;
    size_t elem = is_real(kind) ? sizeof(double) : sizeof(int64_t);
    trace_snap *s = new_snap(tr, name, kind, rows, cols, elem);
    if (s && rows && cols)
        memcpy(is_real(kind) ? (void *)s->reals : (void *)s->ints, src, rows * cols * elem);
    return tr->error;
}

int trace_scalar(trace *tr, const char *name, int64_t x)
{
    return record(tr, name, TRACE_SCALAR, &x, 1, 1);
}

int trace_real(trace *tr, const char *name, double x)
{
    return record(tr, name, TRACE_REAL, &x, 1, 1);
}

int trace_int64s(trace *tr, const char *name, const int64_t *v, size_t n)
{
    return record(tr, name, TRACE_INTS, v, 1, n);
}

int trace_ints(trace *tr, const char *name, const int *v, size_t n)
{
    if (!tr)
        return 0;
    trace_snap *s = new_snap(tr, name, TRACE_INTS, 1, n, sizeof(int64_t));
    if (s)
        for (size_t i = 0; i < n; i++)
            s->ints[i] = v[i];
    return tr->error;
}

int trace_reals(trace *tr, const char *name, const double *v, size_t n)
{
    return record(tr, name, TRACE_REALS, v, 1, n);
}

int trace_table(trace *tr, const char *name, const int64_t *v, size_t rows, size_t cols)
{
    return record(tr, name, TRACE_TABLE, v, rows, cols);
}

int trace_matrix(trace *tr, const char *name, const double *v, size_t rows, size_t cols)
{
    return record(tr, name, TRACE_MATRIX, v, rows, cols);
}

int trace_mark(trace *tr, const char *target, long row, long col, trace_role role)
{
    if (!tr)
        return 0;
    if (tr->error || tr->truncated)
        return tr->error;
    if (!tr->len)
        return fail(tr, TUTOR_EINVAL);
    size_t namelen = strlen(target) + 1;
    if (!recording(tr, sizeof(trace_marker) + namelen))
        return tr->error;
    trace_frame *st = &tr->steps[tr->len - 1];
    trace_marker *marks = mem_realloc_array(st->marks, st->nmarks + 1, sizeof *marks);
    if (!marks)
        return fail(tr, TUTOR_ENOMEM);
    st->marks = marks;
    char *copy = mem_strdup(target);
    if (!copy)
        return fail(tr, TUTOR_ENOMEM);
    marks[st->nmarks++] = (trace_marker){copy, row, col, role};
    tr->bytes += sizeof(trace_marker) + namelen;
    return 0;
}

int trace_quiz(trace *tr, const char *question, int64_t answer)
{
    if (!tr)
        return 0;
    if (tr->error || tr->truncated)
        return tr->error;
    if (!tr->len)
        return fail(tr, TUTOR_EINVAL);
    size_t len = strlen(question) + 1;
    if (!recording(tr, len))
        return tr->error;
    trace_frame *st = &tr->steps[tr->len - 1];
    char *copy = mem_strdup(question);
    if (!copy)
        return fail(tr, TUTOR_ENOMEM);
    mem_free(st->quiz);
    st->quiz = copy;
    st->quiz_answer = answer;
    tr->bytes += len;
    return 0;
}

size_t trace_len(const trace *tr)
{
    return tr ? tr->len : 0;
}

const trace_frame *trace_at(const trace *tr, size_t i)
{
    return tr && i < tr->len ? &tr->steps[i] : NULL;
}

const trace_snap *trace_find(const trace_frame *st, const char *name)
{
    /* The last one wins when a step records a name twice. */
    for (size_t k = st->nsnaps; k-- > 0;)
        if (strcmp(st->snaps[k].name, name) == 0)
            return &st->snaps[k];
    return NULL;
}

const trace_snap *trace_latest(const trace *tr, size_t i, const char *name)
{
    if (!tr || !tr->len)
        return NULL;
    if (i >= tr->len)
        i = tr->len - 1;
    for (size_t k = i + 1; k-- > 0;) {
        const trace_snap *s = trace_find(&tr->steps[k], name);
        if (s)
            return s;
    }
    return NULL;
}

const char *const *trace_listing(const trace *tr, size_t *n)
{
    *n = tr ? tr->listing_len : 0;
    return tr ? tr->listing : NULL;
}

int trace_truncated(const trace *tr)
{
    return tr ? tr->truncated : 0;
}

int trace_status(const trace *tr)
{
    return tr ? tr->error : 0;
}

size_t trace_bytes(const trace *tr)
{
    return tr ? tr->bytes : 0;
}

const char *trace_role_name(trace_role role)
{
    return (unsigned)role < TRACE_ROLE_COUNT ? role_names[role] : "unknown";
}

static void put_value(strbuf *out, const trace_snap *s, size_t k)
{
    if (s->reals)
        strbuf_json_double(out, s->reals[k]);
    else if (s->ints[k] == TRACE_NONE)
        strbuf_puts(out, "null");
    else
        strbuf_put_i64(out, s->ints[k]);
}

static void put_row(strbuf *out, const trace_snap *s, size_t row)
{
    strbuf_putc(out, '[');
    for (size_t c = 0; c < s->cols; c++) {
        if (c)
            strbuf_putn(out, ", ", 2);
        put_value(out, s, row * s->cols + c);
    }
    strbuf_putc(out, ']');
}

static void put_snap_json(strbuf *out, const trace_snap *s)
{
    switch (s->kind) {
    case TRACE_SCALAR:
    case TRACE_REAL: put_value(out, s, 0); break;
    case TRACE_INTS:
    case TRACE_REALS: put_row(out, s, 0); break;
    case TRACE_TABLE:
    case TRACE_MATRIX:
        strbuf_putc(out, '[');
        for (size_t r = 0; r < s->rows; r++) {
            if (r)
                strbuf_puts(out, ", ");
            put_row(out, s, r);
        }
        strbuf_putc(out, ']');
        break;
    }
}

int trace_json(const trace *tr, strbuf *out)
{
    strbuf_putc(out, '[');
    for (size_t i = 0; i < trace_len(tr); i++) {
        const trace_frame *st = &tr->steps[i];
        /* No printf here or below: a trace at the cap has millions of numbers to write. */
        strbuf_puts(out, i ? ", {\"step\": " : "{\"step\": ");
        strbuf_put_i64(out, (int64_t)(i + 1));
        strbuf_puts(out, ", \"line\": ");
        strbuf_put_i64(out, st->line);
        strbuf_puts(out, ", \"message\": ");
        strbuf_json_str(out, st->msg);
        strbuf_puts(out, ", \"state\": {");
        for (size_t k = 0; k < st->nsnaps; k++) {
            if (k)
                strbuf_puts(out, ", ");
            strbuf_json_str(out, st->snaps[k].name);
            strbuf_puts(out, ": ");
            put_snap_json(out, &st->snaps[k]);
        }
        strbuf_puts(out, "}, \"marks\": [");
        for (size_t k = 0; k < st->nmarks; k++) {
            const trace_marker *m = &st->marks[k];
            strbuf_puts(out, k ? ", {\"target\": " : "{\"target\": ");
            strbuf_json_str(out, m->target);
            if (m->col < 0) {
                strbuf_puts(out, ", \"index\": ");
                strbuf_put_i64(out, m->row);
            } else {
                strbuf_puts(out, ", \"row\": ");
                strbuf_put_i64(out, m->row);
                strbuf_puts(out, ", \"col\": ");
                strbuf_put_i64(out, m->col);
            }
            strbuf_puts(out, ", \"role\": \"");
            strbuf_puts(out, trace_role_name(m->role));
            strbuf_puts(out, "\"}");
        }
        strbuf_putc(out, ']');
        if (st->quiz) {
            strbuf_puts(out, ", \"quiz\": {\"question\": ");
            strbuf_json_str(out, st->quiz);
            strbuf_puts(out, ", \"answer\": ");
            strbuf_put_i64(out, st->quiz_answer);
            strbuf_putc(out, '}');
        }
        strbuf_putc(out, '}');
    }
    return strbuf_putc(out, ']');
}

/* Readable form of one snapshot, at most `limit` values per row and 16 rows. */
static void put_snap_text(strbuf *out, const trace_snap *s)
{
    const size_t limit = 32, row_limit = 16;
    strbuf_printf(out, "    %s =", s->name);
    for (size_t r = 0; r < s->rows && r < row_limit; r++) {
        if (s->rows > 1)
            strbuf_puts(out, "\n     ");
        for (size_t c = 0; c < s->cols && c < limit; c++) {
            size_t k = r * s->cols + c;
            if (s->reals && isnan(s->reals[k]))
                strbuf_puts(out, " -");
            else if (s->reals)
                strbuf_printf(out, " %.6g", s->reals[k]);
            else if (s->ints[k] == TRACE_NONE)
                strbuf_puts(out, " -");
            else
                strbuf_printf(out, " %lld", (long long)s->ints[k]);
        }
        if (s->cols > limit)
            strbuf_printf(out, " ... (%zu values)", s->cols);
    }
    if (s->rows > row_limit)
        strbuf_printf(out, "\n      ... (%zu rows)", s->rows);
    strbuf_putc(out, '\n');
}

int trace_text(const trace *tr, strbuf *out)
{
    for (size_t i = 0; i < trace_len(tr); i++) {
        const trace_frame *st = &tr->steps[i];
        if (st->line > 0)
            strbuf_printf(out, "step %zu [line %d] %s\n", i + 1, st->line, st->msg);
        else
            strbuf_printf(out, "step %zu %s\n", i + 1, st->msg);
        for (size_t k = 0; k < st->nsnaps; k++)
            put_snap_text(out, &st->snaps[k]);
    }
    return out->failed;
}
