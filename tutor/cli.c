#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../trace/mem.h"
#include "../trace/status.h"
#include "exercise/exercise.h"
#include "core/parse.h"
#include "core/report.h"
#include "core/version.h"
#include "plot_bench.h"
#include "topics/plot.h"
#include "topics/topic.h"
#include "ui/ui.h"

static const char usage_text[] =
    "usage: tutor                          interactive tutor (needs a terminal)\n"
    "       tutor list [--json]            the topics: id, family, title\n"
    "       tutor help [TOPIC]             what a topic does and its input options\n"
    "       tutor run TOPIC [inputs] [--json] [--trace] [--seed N]\n"
    "       tutor plot TOPIC [inputs] [--format png|svg|pdf|dumb|gif] [--out DIR]\n"
    "                  [--title TEXT] [--seed N] [--animate]   lecture figures (gnuplot)\n"
    "       tutor plot bench [--from DIR] [--format F] [--out DIR]   figures of 'make bench'\n"
    "       tutor exercise [ID] [--watch] [--hint] [--solution]   write a topic yourself\n"
    "       tutor --help | --version\n"
    "\n"
    "examples:\n"
    "  tutor run maxgap --nums \"3 6 9 1\"\n"
    "  tutor run knapsack --capacity 5 --items \"1:2 2:4 3:4 4:5\" --json\n"
    "  tutor run heap --ops \"push 5; push 3; pop\" --trace\n";

static int cmd_list(int argc, char **argv, FILE *out, FILE *err)
{
    int json = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else {
            report_error(err, "tutor list: unknown option '%s' (expected --json)", argv[i]);
            return 2;
        }
    }
    strbuf sb = STRBUF_INIT;
    if (json)
        strbuf_putc(&sb, '[');
    for (size_t i = 0; i < topic_count; i++) {
        const topic *t = topic_registry[i];
        if (json) {
            strbuf_puts(&sb, i ? ", {\"id\": " : "{\"id\": ");
            strbuf_json_str(&sb, t->id);
            strbuf_puts(&sb, ", \"family\": ");
            strbuf_json_str(&sb, t->family);
            strbuf_puts(&sb, ", \"title\": ");
            strbuf_json_str(&sb, t->title);
            strbuf_puts(&sb, ", \"summary\": ");
            strbuf_json_str(&sb, t->summary);
            strbuf_putc(&sb, '}');
        } else {
            strbuf_printf(&sb, "%-12s %-12s %s\n", t->id, t->family, t->title);
        }
    }
    if (json)
        strbuf_puts(&sb, "]\n");
    int rc = report_emit(out, err, &sb);
    strbuf_free(&sb);
    return rc;
}

static int cmd_help(int argc, char **argv, FILE *out, FILE *err)
{
    if (argc == 0) {
        fputs(usage_text, out);
        return 0;
    }
    if (argc > 1) {
        report_error(err, "tutor help: expected one topic, got %d arguments", argc);
        return 2;
    }
    const topic *t = topic_find(argv[0]);
    if (!t) {
        report_error(err, "tutor help: unknown topic '%s' (try 'tutor list')", argv[0]);
        return 2;
    }
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s: %s (%s)\n%s\n\n", t->id, t->title, t->family, t->summary);
    strbuf_printf(&sb, "usage: tutor run %s [options] [--json] [--trace] [--seed N]\n\noptions:\n",
                  t->id);
    int lists = 0;
    for (const topic_optspec *o = t->opts; o && o->name; o++) {
        char left[48];
        snprintf(left, sizeof left, "--%s%s", o->name,
                 o->takes_value == TOPIC_LIST ? " LIST"
                 : o->takes_value             ? " VALUE"
                                              : "");
        strbuf_printf(&sb, "  %-24s %s\n", left, o->help);
        lists |= o->takes_value == TOPIC_LIST;
    }
    strbuf_puts(&sb, "  --json                   print one JSON object\n"
                     "  --trace                  also print every recorded step\n"
                     "  --seed N                 seed for random inputs (default 1)\n");
    if (lists)
        strbuf_puts(&sb,
                    "\nA LIST is given inline, or as @FILE (read from FILE, for lists too long "
                    "for the\ncommand line) or - (read from standard input); errors name "
                    "the file and line.\n");
    if (t->usage && *t->usage)
        strbuf_printf(&sb, "\n%s", t->usage);
    if (t->example)
        strbuf_printf(&sb, "\nexample:\n  tutor run %s %s\n", t->id, t->example);
    int rc = report_emit(out, err, &sb);
    strbuf_free(&sb);
    return rc;
}

static int say(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return TUTOR_EINVAL;
}

/* Exit status for a runner's error code. Running out of memory is ours (1); everything else
 * a runner reports, an unreadable input file included, is about the user's input (2).
 * Failing to write our own output is handled by report_emit(). */
static int exit_status(int code)
{
    return code == TUTOR_ENOMEM ? 1 : 2;
}

static int cmd_run(int argc, char **argv, FILE *out, FILE *err)
{
    if (argc < 1) {
        fputs("tutor run: missing topic (try 'tutor list')\n", err);
        return 2;
    }
    const topic *t = topic_find(argv[0]);
    if (!t) {
        report_error(err, "tutor run: unknown topic '%s' (try 'tutor list')", argv[0]);
        return 2;
    }
    topic_args args = {0};
    int json, want_trace;
    char msg[256];
    int rc = topic_parse_args(t, argc - 1, argv + 1, &args, &json, &want_trace, msg, sizeof msg);
    if (rc) {
        report_error(err, "tutor run %s: %s", t->id, msg);
        return exit_status(rc);
    }
    trace *tr = NULL;
    topic_out res = {STRBUF_INIT, STRBUF_INIT, {0}};
    strbuf sb = STRBUF_INIT;
    int status = 0;
    if (want_trace && !(tr = trace_new(0))) {
        fputs("tutor: out of memory\n", err);
        status = 1;
        goto out;
    }
    rc = t->run(&args, tr, &res);
    if (rc) {
        report_error(err, "tutor run %s: %s", t->id, res.err[0] ? res.err : status_strerror(rc));
        status = exit_status(rc);
        goto out;
    }
    if (trace_status(tr)) {
        report_error(err, "tutor run %s: recording the trace failed: %s", t->id,
                     status_strerror(trace_status(tr)));
        status = 1;
        goto out;
    }
    if (json) {
        strbuf_puts(&sb, "{\"topic\": ");
        strbuf_json_str(&sb, t->id);
        if (res.json.len) {
            strbuf_puts(&sb, ", ");
            strbuf_puts(&sb, strbuf_str(&res.json));
        }
        if (tr) {
            strbuf_printf(
                &sb, ", \"truncated\": %s, \"steps\": ", trace_truncated(tr) ? "true" : "false");
            trace_json(tr, &sb);
        }
        strbuf_puts(&sb, "}\n");
    } else {
        strbuf_puts(&sb, strbuf_str(&res.text));
        if (tr) {
            strbuf_printf(&sb, "\n%zu steps:\n", trace_len(tr));
            trace_text(tr, &sb);
            if (trace_truncated(tr))
                strbuf_printf(&sb,
                              "(trace truncated after %zu steps: the size cap was reached; "
                              "the answer above is complete)\n",
                              trace_len(tr));
        }
    }
    if (res.json.failed || res.text.failed)
        sb.failed = TUTOR_ENOMEM;
    status = report_emit(out, err, &sb);
out:
    strbuf_free(&sb);
    topic_out_free(&res);
    trace_free(tr);
    mem_free((void *)args.opts);
    return status;
}

/* Makes sure dir is a writable directory, creating it (one level) when missing. 0, or
 * TUTOR_EINVAL with one line in msg. */
static int prepare_out_dir(const char *dir, char *msg, size_t msglen)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT && mkdir(dir, 0777) == 0)
            return 0;
        return say(msg, msglen, "--out: cannot create the directory '%s': %s", dir,
                   strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return say(msg, msglen, "--out: '%s' is not a directory", dir);
    if (access(dir, W_OK | X_OK) != 0)
        return say(msg, msglen, "--out: the directory '%s' is not writable", dir);
    return 0;
}

/* Takes `--name VALUE` or `--name=VALUE` at argv[*i] into *value when a names it. */
static int take_value(int argc, char **argv, int *i, const char *name, const char **value,
                      char *msg, size_t msglen, int *rc)
{
    const char *a = argv[*i];
    size_t len = strlen(name);
    if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, len) != 0)
        return 0;
    if (a[2 + len] == '=') {
        *value = a + 3 + len;
        return 1;
    }
    if (a[2 + len] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        *rc = say(msg, msglen, "option --%s needs a value", name);
        return 1;
    }
    *value = argv[++*i];
    return 1;
}

/* `tutor plot bench [--from DIR] [--format F] [--out DIR] [--title TEXT]`: the figures of a
 * `make bench` run, from its CSV files (tutor/plot_bench.h). */
static int cmd_plot_bench(int argc, char **argv, FILE *out, FILE *err)
{
    const char *format = "png", *dir = ".", *title = NULL, *from = plot_bench_default_dir();
    int rc = 0;
    char msg[512] = "";
    for (int i = 1; i < argc && !rc; i++) {
        if (take_value(argc, argv, &i, "format", &format, msg, sizeof msg, &rc) ||
            take_value(argc, argv, &i, "out", &dir, msg, sizeof msg, &rc) ||
            take_value(argc, argv, &i, "title", &title, msg, sizeof msg, &rc) ||
            take_value(argc, argv, &i, "from", &from, msg, sizeof msg, &rc))
            continue;
        rc = say(msg, sizeof msg,
                 "unknown option '%.60s' (expected --from, --format, --out or "
                 "--title)",
                 argv[i]);
    }
    gp_format fmt = GP_PNG;
    if (!rc && (gp_format_parse(format, &fmt) || fmt == GP_GIF))
        rc = say(msg, sizeof msg, "unknown --format '%.40s' (expected png, svg, pdf or dumb)",
                 format);
    if (!rc && (!*dir || !*from))
        rc = say(msg, sizeof msg, "--out and --from need a directory");
    if (!rc)
        rc = prepare_out_dir(dir, msg, sizeof msg);
    if (rc) {
        report_error(err, "tutor plot bench: %s", msg);
        return exit_status(rc);
    }
    strbuf sb = STRBUF_INIT;
    fig_ctx c;
    fig_init(&c, fmt, dir, "bench", &sb);
    c.title = title;
    int status;
    rc = plot_bench(&c, from, msg, sizeof msg);
    if (rc == TUTOR_ENOTFOUND) { /* gnuplot missing: the scripts were written */
        report_emit(out, err, &sb);
        report_error(err, "tutor plot bench: %s", msg);
        status = 1;
    } else if (rc) {
        report_error(err, "tutor plot bench: %s", msg[0] ? msg : status_strerror(rc));
        status = exit_status(rc);
    } else {
        status = report_emit(out, err, &sb);
    }
    strbuf_free(&sb);
    return status;
}

/* `tutor plot TOPIC ...`: the plot options are taken out here, the rest are the topic's
 * inputs (the topic's example when none are given, so every topic plots out of the box). */
static int cmd_plot(int argc, char **argv, FILE *out, FILE *err)
{
    if (argc < 1) {
        fputs("tutor plot: missing topic (try 'tutor list')\n", err);
        return 2;
    }
    if (strcmp(argv[0], "bench") == 0)
        return cmd_plot_bench(argc, argv, out, err);
    const topic *t = topic_find(argv[0]);
    if (!t) {
        report_error(err, "tutor plot: unknown topic '%s' (try 'tutor list')", argv[0]);
        return 2;
    }
    const char *format = "png", *dir = ".", *title = NULL;
    int animate = 0, json = 0, want_trace = 0, rc = 0, status = 0, nrest = 0;
    char msg[512] = "";
    char **example = NULL;
    topic_args args = {0};
    strbuf sb = STRBUF_INIT;
    char **rest = mem_calloc((size_t)argc + 1, sizeof *rest);
    if (!rest) {
        fputs("tutor: out of memory\n", err);
        return 1;
    }
    for (int i = 1; i < argc && !rc; i++) {
        const char *a = argv[i];
        if (take_value(argc, argv, &i, "format", &format, msg, sizeof msg, &rc) ||
            take_value(argc, argv, &i, "out", &dir, msg, sizeof msg, &rc) ||
            take_value(argc, argv, &i, "title", &title, msg, sizeof msg, &rc))
            continue;
        if (strcmp(a, "--animate") == 0) {
            animate = 1;
            continue;
        }
        rest[nrest++] = argv[i];
        /* A topic option's value is passed along as is, even when it looks like ours. */
        const topic_optspec *spec = strncmp(a, "--", 2) == 0 && !strchr(a, '=')
                                        ? topic_find_opt(t, a + 2, strlen(a + 2))
                                        : NULL;
        if (((spec && spec->takes_value) || strcmp(a, "--seed") == 0) && i + 1 < argc)
            rest[nrest++] = argv[++i];
    }
    gp_format fmt = GP_PNG;
    if (!rc && gp_format_parse(format, &fmt))
        rc = say(msg, sizeof msg, "unknown --format '%s' (expected png, svg, pdf, dumb or gif)",
                 format);
    if (!rc && animate && fmt != GP_GIF)
        rc = say(msg, sizeof msg, "--animate needs --format gif");
    if (!rc && !*dir)
        rc = say(msg, sizeof msg, "--out needs a directory");
    if (!rc)
        rc = topic_parse_args(t, nrest, rest, &args, &json, &want_trace, msg, sizeof msg);
    if (!rc && (json || want_trace))
        rc = say(msg, sizeof msg, "--json and --trace belong to 'tutor run', not 'tutor plot'");
    if (!rc && args.n == 0 && t->example) {
        int nwords = 0;
        uint64_t seed = args.seed;
        mem_free((void *)args.opts);
        args.opts = NULL;
        rc = parse_words(t->example, &example, &nwords, msg, sizeof msg);
        if (!rc)
            rc = topic_parse_args(t, nwords, example, &args, &json, &want_trace, msg, sizeof msg);
        args.seed = seed;
    }
    if (!rc)
        rc = prepare_out_dir(dir, msg, sizeof msg);
    if (rc) {
        report_error(err, "tutor plot %s: %s", t->id, msg);
        status = exit_status(rc);
        goto out;
    }
    plot_request req = {.topic = t,
                        .args = &args,
                        .format = fmt,
                        .out_dir = dir,
                        .title = title,
                        .program = NULL,
                        .animate = animate};
    if (animate || !t->plot)
        rc = plot_trace(&req, animate, &sb, msg, sizeof msg);
    else
        rc = t->plot(&req, &sb, msg, sizeof msg);
    if (rc == TUTOR_ENOTFOUND) {
        /* The scripts were written: say so once, and list them like figures. */
        report_emit(out, err, &sb);
        status = 1;
        report_error(err, "tutor plot %s: %s", t->id, msg);
    } else if (rc) {
        report_error(err, "tutor plot %s: %s", t->id, msg[0] ? msg : status_strerror(rc));
        status = exit_status(rc);
    } else {
        status = report_emit(out, err, &sb);
    }
out:
    strbuf_free(&sb);
    parse_free_words(example);
    mem_free((void *)args.opts);
    mem_free(rest);
    return status;
}

int cli_main(int argc, char **argv, FILE *out, FILE *err)
{
    if (argc < 2) {
        /* The interactive tutor needs a terminal on both ends; without one, say how to use
         * the batch commands instead of waiting on input that will never come. */
        if (isatty(STDIN_FILENO) && isatty(fileno(out)))
            return ui_main(err);
        fputs(usage_text, out);
        return 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage_text, out);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        fprintf(out, "tutor %s\n", TUTOR_VERSION);
        return 0;
    }
    if (strcmp(cmd, "list") == 0)
        return cmd_list(argc - 2, argv + 2, out, err);
    if (strcmp(cmd, "help") == 0)
        return cmd_help(argc - 2, argv + 2, out, err);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 2, argv + 2, out, err);
    if (strcmp(cmd, "plot") == 0)
        return cmd_plot(argc - 2, argv + 2, out, err);
    if (strcmp(cmd, "exercise") == 0)
        return exercise_cli(argc - 2, argv + 2, out, err);
    report_error(err, "tutor: unknown command '%s' (try 'tutor --help')", cmd);
    return 2;
}
