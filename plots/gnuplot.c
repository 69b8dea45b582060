#include "gnuplot.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../trace/proc.h"
#include "../trace/status.h"

/* Output of gnuplot kept when reading its stderr or dumb text back: a figure's text is a few
 * kilobytes, an error message a few lines. */
#define GP_READ_CAP ((size_t)4 << 20)

static const char *const format_names[GP_FORMAT_COUNT] = {"png", "svg", "pdf", "dumb", "gif"};
static const char *const format_exts[GP_FORMAT_COUNT] = {".png", ".svg", ".pdf", ".txt", ".gif"};

int gp_format_parse(const char *name, gp_format *fmt)
{
    for (int i = 0; i < GP_FORMAT_COUNT; i++)
        if (name && strcmp(name, format_names[i]) == 0) {
            *fmt = (gp_format)i;
            return 0;
        }
    return TUTOR_EINVAL;
}

const char *gp_format_name(gp_format fmt)
{
    return (unsigned)fmt < GP_FORMAT_COUNT ? format_names[fmt] : "?";
}

const char *gp_format_ext(gp_format fmt)
{
    return (unsigned)fmt < GP_FORMAT_COUNT ? format_exts[fmt] : "";
}

void gp_begin(gp *g, gp_format fmt, int animate, int delay_cs)
{
    g->format = fmt;
    g->animate = fmt == GP_GIF && animate;
    g->delay = delay_cs > 0 ? delay_cs : 50;
    g->status = 0;
    g->text_cols = g->text_rows = 0;
    g->timeout_ms = 0;
    g->script = (strbuf)STRBUF_INIT;
}

void gp_text_size(gp *g, int cols, int rows)
{
    g->text_cols = cols > 0 ? (cols < 20 ? 20 : cols) : 0;
    g->text_rows = rows > 0 ? (rows < 8 ? 8 : rows) : 0;
}

void gp_set_timeout(gp *g, int ms)
{
    g->timeout_ms = ms > 0 ? ms : 0;
}

void gp_free(gp *g)
{
    strbuf_free(&g->script);
}

/* Folds the script buffer's own sticky error into the session's. */
static int sync_status(gp *g)
{
    if (!g->status && g->script.failed)
        g->status = TUTOR_ENOMEM;
    return g->status;
}

int gp_raw(gp *g, const char *fmt, ...)
{
    if (g->status)
        return g->status;
    va_list ap;
    va_start(ap, fmt);
    int rc = strbuf_vprintf(&g->script, fmt, ap);
    va_end(ap);
    if (rc && !g->status)
        g->status = rc;
    return sync_status(g);
}

int gp_quote(strbuf *sb, const char *text)
{
    strbuf_putc(sb, '"');
    for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p; p++) {
        switch (*p) {
        case '"': strbuf_puts(sb, "\\\""); break;
        case '\\': strbuf_puts(sb, "\\\\"); break;
        case '\n': strbuf_puts(sb, "\\n"); break;
        case '\t': strbuf_puts(sb, "\\t"); break;
        /* Octal escapes keep the characters gnuplot gives a meaning to out of the command
         * line entirely: backquotes run shell commands even inside double quotes. Only
         * escapes of three digits not starting with 0 are used: gnuplot reads "\0473" as
         * one four-digit escape, so a digit after \047 would be swallowed. */
        case '`': strbuf_puts(sb, "\\140"); break;
        case '@': strbuf_puts(sb, "\\100"); break;
        default:
            if (*p >= 0x20 && *p != 0x7f)
                strbuf_putc(sb, (char)*p);
            break;
        }
    }
    strbuf_putc(sb, '"');
    return sb->failed;
}

int gp_text(gp *g, const char *text)
{
    if (g->status)
        return g->status;
    gp_quote(&g->script, text);
    return sync_status(g);
}

static int valid_name(const char *name)
{
    if (!name ||
        !(*name == '_' || (*name >= 'A' && *name <= 'Z') || (*name >= 'a' && *name <= 'z')))
        return 0;
    for (const char *p = name; *p; p++)
        if (!(*p == '_' || (*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= 'a' && *p <= 'z')))
            return 0;
    return 1;
}

int gp_data_begin(gp *g, const char *name)
{
    if (g->status)
        return g->status;
    if (!valid_name(name))
        return g->status = TUTOR_EINVAL;
    return gp_raw(g, "$%s << EOD\n", name);
}

static void put_number(strbuf *sb, double x)
{
    if (isfinite(x))
        strbuf_printf(sb, "%.10g", x);
    else
        strbuf_puts(sb, "NaN");
}

int gp_data_row(gp *g, const double *v, size_t n)
{
    if (g->status)
        return g->status;
    for (size_t i = 0; i < n; i++) {
        if (i)
            strbuf_putc(&g->script, ' ');
        put_number(&g->script, v[i]);
    }
    strbuf_putc(&g->script, '\n');
    return sync_status(g);
}

int gp_data_end(gp *g)
{
    return gp_raw(g, "EOD\n");
}

int gp_data_matrix(gp *g, const char *name, const double *m, size_t rows, size_t cols)
{
    if (gp_data_begin(g, name))
        return g->status;
    for (size_t r = 0; r < rows; r++)
        gp_data_row(g, m + r * cols, cols);
    return gp_data_end(g);
}

/* ---- rendering ---- */

/* The terminal line: 16:9 everywhere, fonts sized to be read from the back of a lecture
 * hall (about 1/40 of the figure's height). */
static void put_terminal(strbuf *sb, const gp *g)
{
    switch (g->format) {
    case GP_PNG:
        strbuf_puts(sb, "set terminal pngcairo size 1600,900 enhanced font \"sans,22\" "
                        "linewidth 2 background rgb \"white\"\n");
        break;
    case GP_SVG:
        strbuf_puts(sb, "set terminal svg size 1600,900 dynamic enhanced font \"sans,22\" "
                        "linewidth 2 background rgb \"white\"\n");
        break;
    case GP_PDF:
        strbuf_puts(sb, "set terminal pdfcairo size 8in,4.5in enhanced font \"sans,11\" "
                        "linewidth 2\n");
        break;
    case GP_GIF:
        if (g->animate)
            strbuf_printf(sb, "set terminal gif animate delay %d loop 0 optimize ", g->delay);
        else
            strbuf_puts(sb, "set terminal gif ");
        strbuf_puts(sb, "size 1280,720 enhanced font \"sans,16\" background rgb \"white\"\n");
        break;
    case GP_DUMB:
    default:
        strbuf_printf(sb, "set terminal dumb size %d,%d noenhanced\n",
                      g->text_cols ? g->text_cols : 100, g->text_rows ? g->text_rows : 30);
        break;
    }
}

/* The header: terminal and, for files, the output. */
static void put_header(strbuf *sb, const gp *g, const char *output)
{
    put_terminal(sb, g);
    if (output && g->format != GP_DUMB) {
        strbuf_puts(sb, "set output ");
        gp_quote(sb, output);
        strbuf_putc(sb, '\n');
    }
}

static int is_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* 1 when program is a path to an executable or a name found on PATH, as execvp would
 * find it, with its path appended to where (the caller frees it); 0 otherwise; TUTOR_ENOMEM
 * when out of memory. Checking first tells a missing gnuplot apart from one that failed, and
 * the child then execs a path, with no search (and no allocation) after fork. */
static int find_program(const char *program, strbuf *where)
{
    int found = 0;
    if (!*program)
        return 0;
    if (strchr(program, '/')) {
        found = is_executable(program);
        if (found)
            strbuf_puts(where, program);
        return where->failed ? TUTOR_ENOMEM : found;
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path; !found;) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        strbuf_clear(where);
        if (len)
            strbuf_putn(where, p, len);
        else
            strbuf_putc(where, '.');
        strbuf_putc(where, '/');
        strbuf_puts(where, program);
        if (where->failed)
            return TUTOR_ENOMEM;
        found = is_executable(strbuf_str(where));
        if (!colon)
            break;
        p = colon + 1;
    }
    return found;
}

/* Picks the line that explains a gnuplot failure out of its stderr: the text after
 * "line N:" when there is one, else the first line that is not gnuplot echoing the command
 * (`gnuplot> ...`) or pointing at it (`^`). */
static void explain_failure(const char *log, char *out, size_t outlen)
{
    const char *first = NULL;
    size_t first_len = 0;
    for (const char *p = log; *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *s = p;
        while (s < p + len && (*s == ' ' || *s == '\t'))
            s++;
        size_t slen = len - (size_t)(s - p);
        int num = 0;
        if (slen > 5 && strncmp(s, "line ", 5) == 0) {
            const char *q = s + 5;
            while (q < s + slen && *q >= '0' && *q <= '9')
                q++, num = 1;
            if (num && q < s + slen && *q == ':') {
                q++;
                while (q < s + slen && *q == ' ')
                    q++;
                snprintf(out, outlen, "gnuplot: %.*s", (int)(s + slen - q), q);
                return;
            }
        }
        if (!first && slen && *s != '^' && strncmp(s, "gnuplot>", 8) != 0) {
            first = s;
            first_len = slen;
        }
        if (!end)
            break;
        p = end + 1;
    }
    if (first)
        snprintf(out, outlen, "gnuplot: %.*s", (int)first_len, first);
    else
        snprintf(out, outlen, "gnuplot failed without a message");
}

/* Writes the whole script (header plus body) to FIGURE.gp for a later render; with no path
 * (a dumb text for the terminal) only says that gnuplot is missing. */
static int write_fallback(const gp *g, const char *path, strbuf *script_path, char *err,
                          size_t errlen)
{
    if (!path) {
        snprintf(err, errlen, "gnuplot not found (install gnuplot, e.g. the gnuplot-nox package)");
        return TUTOR_ENOTFOUND;
    }
    strbuf name = STRBUF_INIT, text = STRBUF_INIT;
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - path) : strlen(path);
    strbuf_putn(&name, path, stem);
    strbuf_puts(&name, ".gp");
    strbuf_puts(&text, "# A tutor figure, written as a script because gnuplot was not found.\n"
                       "# Render it from the directory tutor plot ran in with: gnuplot ");
    /* A comment line must stay one line: the name is printed quoted. */
    gp_quote(&text, strbuf_str(&name));
    strbuf_putc(&text, '\n');
    put_header(&text, g, path);
    strbuf_putn(&text, strbuf_str(&g->script), g->script.len);
    strbuf_puts(&text, "unset output\n");
    int rc = 0;
    if (name.failed || text.failed) {
        snprintf(err, errlen, "out of memory while writing the gnuplot script");
        rc = TUTOR_ENOMEM;
        goto out;
    }
    FILE *f = fopen(strbuf_str(&name), "w");
    if (!f) {
        snprintf(err, errlen, "gnuplot not found, and the script '%s' could not be written: %s",
                 strbuf_str(&name), strerror(errno));
        rc = TUTOR_EIO;
        goto out;
    }
    int bad = fwrite(strbuf_str(&text), 1, text.len, f) != text.len;
    bad |= fclose(f) != 0;
    if (bad) {
        remove(strbuf_str(&name));
        snprintf(err, errlen, "gnuplot not found, and the script '%s' could not be written",
                 strbuf_str(&name));
        rc = TUTOR_EIO;
        goto out;
    }
    snprintf(err, errlen,
             "gnuplot not found (install gnuplot, e.g. the gnuplot-nox package); wrote the "
             "script to render later: gnuplot %s",
             strbuf_str(&name));
    if (script_path)
        strbuf_puts(script_path, strbuf_str(&name));
    rc = TUTOR_ENOTFOUND;
out:
    strbuf_free(&name);
    strbuf_free(&text);
    return rc;
}

/* ---- running gnuplot ---- */

int gp_render(gp *g, const char *program, const char *path, strbuf *text, strbuf *script_path,
              char *err, size_t errlen)
{
    int dumb = g->format == GP_DUMB;
    if (sync_status(g)) {
        snprintf(err, errlen, "could not build the gnuplot script: %s", status_strerror(g->status));
        return g->status;
    }
    if (path && !*path)
        path = NULL;
    if (!path && !dumb) {
        snprintf(err, errlen, "no output path for the figure");
        return TUTOR_EINVAL;
    }
    if (!program) {
        program = getenv("TUTOR_GNUPLOT");
        if (!program || !*program)
            program = "gnuplot";
    }
    strbuf exe = STRBUF_INIT;
    int found = find_program(program, &exe);
    if (found < 0) {
        strbuf_free(&exe);
        snprintf(err, errlen, "out of memory while looking for gnuplot");
        return found;
    }
    if (!found) {
        strbuf_free(&exe);
        return write_fallback(g, path, script_path, err, errlen);
    }

    strbuf part = STRBUF_INIT, head = STRBUF_INIT, log = STRBUF_INIT, shown = STRBUF_INIT;
    int rc = 0, part_made = 0;
    if (!dumb) {
        strbuf_puts(&part, path);
        strbuf_puts(&part, ".part");
    }
    put_header(&head, g, dumb ? NULL : strbuf_str(&part));
    if (head.failed || part.failed) {
        snprintf(err, errlen, "out of memory while starting gnuplot");
        rc = TUTOR_ENOMEM;
        goto out;
    }
    static const char tail[] = "unset output\n";
    const proc_piece pieces[] = {
        {head.s, head.len}, {g->script.s, g->script.len}, {tail, sizeof tail - 1}};

    /* If gnuplot dies early, writing to the pipe raises SIGPIPE, which would kill us: ignore
     * it for the duration, see EPIPE from write instead, and let the exit status tell. */
    struct sigaction ign, old;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old);
    /* gnuplot leads a process group of its own, so that a timeout stops it together with
     * whatever it started (the real gnuplot under a wrapper script). Only the dumb terminal
     * writes the figure to stdout; for the others stdout joins stderr, where anything
     * gnuplot says belongs. */
    char *argv[] = {(char *)strbuf_str(&exe), NULL};
    proc_run run = {.path = strbuf_str(&exe),
                    .argv = argv,
                    .in = pieces,
                    .nin = 3,
                    .out = dumb ? &shown : NULL,
                    .err = &log,
                    .cap = GP_READ_CAP,
                    .own_group = 1,
                    .timeout_ms = g->timeout_ms};
    int ps = proc_exec(&run);
    int wait_errno = errno;
    sigaction(SIGPIPE, &old, NULL);
    part_made = !dumb; /* gnuplot may have begun it: removed below unless it succeeded */
    if (run.timed_out) {
        snprintf(err, errlen, "gnuplot did not finish within %g s and was stopped",
                 g->timeout_ms / 1000.0);
        rc = TUTOR_EIO;
    } else if (ps == -1) {
        snprintf(err, errlen, "could not run gnuplot: %s", strerror(wait_errno));
        rc = TUTOR_EIO;
    } else if (WIFSIGNALED(ps)) {
        snprintf(err, errlen, "gnuplot was killed by signal %d", WTERMSIG(ps));
        rc = TUTOR_EIO;
    } else if (WIFEXITED(ps) && WEXITSTATUS(ps) == 127) {
        /* It could not be run after all. */
        if (part_made)
            remove(strbuf_str(&part));
        part_made = 0;
        rc = write_fallback(g, path, script_path, err, errlen);
    } else if (WIFEXITED(ps) && WEXITSTATUS(ps) != 0) {
        explain_failure(strbuf_str(&log), err, errlen);
        rc = TUTOR_EIO;
    } else if (run.write_failed) {
        snprintf(err, errlen, "could not write the script to gnuplot");
        rc = TUTOR_EIO;
    } else if (dumb) {
        if (shown.failed) {
            snprintf(err, errlen, "could not read gnuplot's text output: out of memory");
            rc = TUTOR_ENOMEM;
        } else if (!shown.len) {
            snprintf(err, errlen, "gnuplot wrote no text output");
            rc = TUTOR_EIO;
        } else {
            /* The dumb terminal starts every plot with a form feed (a page break for the
             * line printers it was made for); what we hand on is plain text. */
            const char *t = strbuf_str(&shown);
            for (size_t i = 0, run_start = 0; i <= shown.len; i++)
                if (i == shown.len || t[i] == '\f') {
                    strbuf_putn(text, t + run_start, i - run_start);
                    run_start = i + 1;
                }
            rc = text->failed;
        }
    } else {
        struct stat st;
        if (stat(strbuf_str(&part), &st) != 0 || st.st_size == 0) {
            snprintf(err, errlen, "gnuplot wrote no figure to '%s'", path);
            rc = TUTOR_EIO;
        } else if (rename(strbuf_str(&part), path) != 0) {
            snprintf(err, errlen, "could not move the figure into place at '%s': %s", path,
                     strerror(errno));
            rc = TUTOR_EIO;
        } else {
            part_made = 0;
        }
    }
out:
    if (part_made)
        remove(strbuf_str(&part));
    strbuf_free(&exe);
    strbuf_free(&part);
    strbuf_free(&head);
    strbuf_free(&log);
    strbuf_free(&shown);
    return rc;
}
