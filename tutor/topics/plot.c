#include "plot.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../trace/mem.h"
#include "../../trace/status.h"

/* Appends v as one shell word, quoted only when it needs it, so the caption can be pasted
 * back into a shell. */
static void shell_word(strbuf *sb, const char *v)
{
    int plain = *v != '\0';
    for (const char *p = v; *p && plain; p++)
        plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._,:/+-=",
                       *p) != NULL;
    if (plain) {
        strbuf_puts(sb, v);
        return;
    }
    strbuf_putc(sb, '\'');
    for (const char *p = v; *p; p++) {
        if (*p == '\'')
            strbuf_puts(sb, "'\\''");
        else if (*p == '\n' || *p == '\t')
            strbuf_putc(sb, ' ');
        else
            strbuf_putc(sb, *p);
    }
    strbuf_putc(sb, '\'');
}

int plot_ctx(fig_ctx *c, const plot_request *req, strbuf *out, strbuf *caption)
{
    fig_init(c, req->format, req->out_dir, req->topic->id, out);
    c->title = req->title;
    c->program = req->program;
    c->animate = req->animate;
    c->text_cols = req->text_cols;
    c->text_rows = req->text_rows;
    strbuf_clear(caption);
    strbuf_printf(caption, "tutor plot %s", req->topic->id);
    for (size_t i = 0; i < req->args->n; i++) {
        strbuf_printf(caption, " --%s", req->args->opts[i].name);
        if (req->args->opts[i].value) {
            strbuf_putc(caption, ' ');
            shell_word(caption, req->args->opts[i].value);
        }
    }
    strbuf_printf(caption, " --seed %llu", (unsigned long long)req->args->seed);
    c->caption = strbuf_str(caption);
    return caption->failed;
}

double plot_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A runner's status as the plot layer reports it. A runner says TUTOR_ENOTFOUND for an input
 * file that does not exist and TUTOR_EIO for one it cannot read (mat_load: a folder, say),
 * but from a recipe those codes mean gnuplot is missing (the scripts were written) or an
 * output could not be written, both exit 1; the file is bad input, exit 2 as `tutor run`
 * gives, so both become TUTOR_EINVAL, the message unchanged. */
static int runner_status(int rc)
{
    return rc == TUTOR_ENOTFOUND || rc == TUTOR_EIO ? TUTOR_EINVAL : rc;
}

int plot_run(const plot_request *req, const topic_args *args, trace **tr, char *err, size_t errlen)
{
    topic_out res = {STRBUF_INIT, STRBUF_INIT, {0}};
    *tr = trace_new(0);
    if (!*tr) {
        snprintf(err, errlen, "out of memory");
        return TUTOR_ENOMEM;
    }
    int rc = runner_status(req->topic->run(args ? args : req->args, *tr, &res));
    if (rc)
        snprintf(err, errlen, "%s", res.err[0] ? res.err : status_strerror(rc));
    else if ((rc = trace_status(*tr)) != 0)
        snprintf(err, errlen, "recording the trace failed: %s", status_strerror(rc));
    topic_out_free(&res);
    if (rc) {
        trace_free(*tr);
        *tr = NULL;
    }
    return rc;
}

int plot_check(const plot_request *req, char *err, size_t errlen)
{
    topic_out res = {STRBUF_INIT, STRBUF_INIT, {0}};
    int rc = runner_status(req->topic->run(req->args, NULL, &res));
    if (rc == TUTOR_ELIMIT)
        rc = 0;
    if (rc)
        snprintf(err, errlen, "%s", res.err[0] ? res.err : status_strerror(rc));
    topic_out_free(&res);
    return rc;
}

int plot_args_without(topic_args *out, const topic_args *in, const char *const *drop)
{
    topic_opt *opts = mem_calloc(in->n + 1, sizeof *opts);
    if (!opts)
        return TUTOR_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < in->n; i++) {
        int keep = 1;
        for (const char *const *d = drop; *d && keep; d++)
            keep = strcmp(in->opts[i].name, *d) != 0;
        if (keep)
            opts[n++] = in->opts[i];
    }
    out->opts = opts;
    out->n = n;
    out->seed = in->seed;
    return 0;
}

int plot_trace(const plot_request *req, int animate, strbuf *out, char *err, size_t errlen)
{
    fig_ctx c;
    strbuf caption = STRBUF_INIT;
    trace *tr = NULL;
    int rc = plot_ctx(&c, req, out, &caption);
    if (rc) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = plot_run(req, NULL, &tr, err, errlen);
    if (rc)
        goto out;
    if (animate)
        fig_animate(&c, tr, "steps", req->topic->title);
    else
        fig_trace_state(&c, tr, trace_len(tr), "state", req->topic->title);
    rc = fig_result(&c, err, errlen);
out:
    trace_free(tr);
    strbuf_free(&caption);
    return rc;
}
