/* bench_trace.c: writing the largest trace we allow (TRACE_DEFAULT_CAP of recorded bytes) as
 * JSON, which `tutor run TOPIC --trace --json` does once per run.
 *
 * The trace is the worst kind for the writer: nearly all of its bytes are doubles (steps of a
 * 256-value state, as a model's recurrence records), the values a model produces, from 1e-9 to
 * 1e9 with every digit count, plus some exact ones (0, multiples of 1/1024). The target is
 * absolute: under 2 s, so that the biggest `--trace --json` answers promptly.
 *
 * Peer: the writer as it was, each double by snprintf("%.15g") and strtod, then %.16g, then
 * %.17g until one reads back. It must produce the same bytes; the row says when it does not. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../trace/mem.h"
#include "../trace/rng.h"
#include "../trace/strbuf.h"
#include "../trace/trace.h"
#include "bench.h"

#define STATE 256

typedef struct run {
    const trace *tr;
    size_t bytes; /* the JSON's length, to check the two sides agree */
    strbuf keep;  /* the last output, when asked to keep it */
    int keep_it;
} run;

static int ours(void *vctx)
{
    run *r = vctx;
    strbuf sb = STRBUF_INIT;
    int rc = trace_json(r->tr, &sb);
    r->bytes = sb.len;
    if (r->keep_it && !rc) {
        strbuf_free(&r->keep);
        r->keep = sb;
    } else {
        strbuf_free(&sb);
    }
    return rc;
}

/* The old rule for one double, kept here as the peer. */
static void old_double(strbuf *sb, double x)
{
    char buf[40];
    if (!isfinite(x)) {
        strbuf_puts(sb, "null");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    strbuf_puts(sb, buf);
}

static void old_value(strbuf *sb, const trace_snap *s, size_t k)
{
    if (s->reals)
        old_double(sb, s->reals[k]);
    else if (s->ints[k] == TRACE_NONE)
        strbuf_puts(sb, "null");
    else
        strbuf_printf(sb, "%lld", (long long)s->ints[k]);
}

/* trace_json's format as it was written before, through printf throughout. */
static int peer_printf(void *vctx)
{
    run *r = vctx;
    strbuf sb = STRBUF_INIT;
    strbuf_putc(&sb, '[');
    for (size_t i = 0; i < trace_len(r->tr); i++) {
        const trace_frame *st = trace_at(r->tr, i);
        strbuf_printf(&sb, "%s{\"step\": %zu, \"line\": %d, \"message\": ", i ? ", " : "", i + 1,
                      st->line);
        strbuf_json_str(&sb, st->msg);
        strbuf_puts(&sb, ", \"state\": {");
        for (size_t k = 0; k < st->nsnaps; k++) {
            const trace_snap *s = &st->snaps[k];
            strbuf_printf(&sb, "%s", k ? ", " : "");
            strbuf_json_str(&sb, s->name);
            strbuf_puts(&sb, ": ");
            int table = s->kind == TRACE_TABLE || s->kind == TRACE_MATRIX;
            int list = table || s->kind == TRACE_INTS || s->kind == TRACE_REALS;
            if (table)
                strbuf_putc(&sb, '[');
            for (size_t row = 0; row < s->rows; row++) {
                strbuf_puts(&sb, row ? ", " : "");
                strbuf_puts(&sb, list ? "[" : "");
                for (size_t c = 0; c < s->cols; c++) {
                    strbuf_puts(&sb, c ? ", " : "");
                    old_value(&sb, s, row * s->cols + c);
                }
                strbuf_puts(&sb, list ? "]" : "");
            }
            if (table)
                strbuf_putc(&sb, ']');
        }
        strbuf_puts(&sb, "}, \"marks\": [");
        for (size_t k = 0; k < st->nmarks; k++) {
            const trace_marker *m = &st->marks[k];
            strbuf_puts(&sb, k ? ", {\"target\": " : "{\"target\": ");
            strbuf_json_str(&sb, m->target);
            if (m->col < 0)
                strbuf_printf(&sb, ", \"index\": %ld", m->row);
            else
                strbuf_printf(&sb, ", \"row\": %ld, \"col\": %ld", m->row, m->col);
            strbuf_printf(&sb, ", \"role\": \"%s\"}", trace_role_name(m->role));
        }
        strbuf_putc(&sb, ']');
        if (st->quiz) {
            strbuf_puts(&sb, ", \"quiz\": {\"question\": ");
            strbuf_json_str(&sb, st->quiz);
            strbuf_printf(&sb, ", \"answer\": %lld}", (long long)st->quiz_answer);
        }
        strbuf_putc(&sb, '}');
    }
    int rc = strbuf_putc(&sb, ']');
    r->bytes = sb.len;
    if (r->keep_it && !rc) {
        strbuf_free(&r->keep);
        r->keep = sb;
    } else {
        strbuf_free(&sb);
    }
    return rc;
}

/* Records steps of a 256-value state until the default cap stops the trace. Each step's
 * values share a scale 10^s, s in [-9, 9], so that both %g styles and all digit counts
 * occur; one value in 16 is exact (a multiple of 1/1024), one in 64 is zero. */
static trace *build(size_t *ndoubles)
{
    trace *tr = trace_new(0);
    if (!tr)
        return NULL;
    rng r;
    rng_seed(&r, 13);
    double x[STATE];
    *ndoubles = 0;
    for (size_t step = 0; !trace_truncated(tr) && !trace_status(tr); step++) {
        double scale = pow(10, (double)rng_range(&r, -9, 9));
        for (size_t i = 0; i < STATE; i++) {
            uint64_t kind = rng_next(&r) % 64;
            x[i] = kind == 0  ? 0.0
                   : kind < 4 ? (double)rng_range(&r, -4096, 4096) / 1024
                              : rng_gauss(&r) * scale;
        }
        trace_step(tr, 3, "x_%zu = Abar x_%zu + Bbar u_%zu", step + 1, step, step + 1);
        trace_reals(tr, "x", x, STATE);
        trace_real(tr, "y", x[0] - x[1]);
        trace_scalar(tr, "k", (int64_t)step);
        trace_mark(tr, "x", (long)(step % STATE), -1, TRACE_CURRENT);
        if (trace_len(tr) && !trace_truncated(tr))
            *ndoubles += STATE + 1;
    }
    if (trace_status(tr)) {
        trace_free(tr);
        return NULL;
    }
    return tr;
}

int bench_case_trace(void)
{
    if (bench_skip_case("trace"))
        return 0;
    size_t ndoubles = 0;
    trace *tr = build(&ndoubles);
    if (!tr)
        return 1;
    bench_begin("trace", "a trace at the size cap (64 MiB recorded) written as JSON");
    bench_note("%zu steps, %zu doubles, %.1f MiB recorded", trace_len(tr), ndoubles,
               (double)trace_bytes(tr) / (1 << 20));

    /* Both sides once, untimed, to check that they write the same bytes. */
    run ro = {tr, 0, STRBUF_INIT, 1}, rp = ro;
    int same = ours(&ro) == 0 && peer_printf(&rp) == 0 && ro.keep.len == rp.keep.len &&
               memcmp(ro.keep.s, rp.keep.s, ro.keep.len) == 0;
    bench_note("JSON: %.1f MB, %s the printf writer's bytes", (double)ro.keep.len / 1e6,
               same ? "identical to" : "DIFFERENT FROM");
    strbuf_free(&ro.keep);
    strbuf_free(&rp.keep);
    ro.keep_it = rp.keep_it = 0;

    bench_row row = {.size = "64 MiB", .n = (double)ndoubles, .ours = "trace JSON"};
    row.peer = "printf + strtod";
    row.target = "(time < 2 s, below)";
    row.note = same ? NULL : "OUTPUTS DIFFER";
    if (bench_time_pair(&row.ours_t, ours, &ro, &row.peer_t, peer_printf, &rp, 3) == 0) {
        bench_report(&row);
        int met = same && row.ours_t.median < 2.0;
        char t[16];
        bench_note("trace JSON target (the 64 MiB trace written in under 2 s): %s (median %s, "
                   "%.0f ns per double)",
                   met ? "MET" : "MISSED", bench_fmt_time(t, row.ours_t.median),
                   row.ours_t.median / (double)ndoubles * 1e9);
        bench_tally(met);
    } else {
        bench_note("trace JSON: out of memory while writing");
        bench_tally(0);
    }
    trace_free(tr);
    return bench_end();
}
