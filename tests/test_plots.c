/* Tests of plots/ (the gnuplot pipe, the figure style, trace animation) and `tutor plot`.
 *
 * Figures are written into a temporary directory under the build folder (next to
 * $TUTOR_BIN when make test sets it), removed at the end. gnuplot must be installed for
 * the rendering tests (make deps installs it); the missing-gnuplot tests point the module at
 * a program that does not exist, or empty PATH. */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../plots/figure.h"
#include "../plots/gnuplot.h"
#include "../trace/mem.h"
#include "../trace/status.h"
#include "../tutor/topics/topic.h"
#include "../tutor/ui/textplot.h"
#include "harness.h"

static strbuf out = STRBUF_INIT, err = STRBUF_INIT;
static char tmpdir[4096];

/* ---- helpers ---- */

/* dst = dir/name; paths here are far below the buffers' sizes, and a test aborts rather
 * than work on a truncated one. */
static void join(char *dst, size_t n, const char *dir, const char *name)
{
    if (snprintf(dst, n, "%s/%s", dir, name) >= (int)n)
        abort();
}

static int make_tmpdir(void)
{
    const char *bin = getenv("TUTOR_BIN");
    const char *src = getenv("TUTOR_SRCDIR");
    char base[4000];
    if (bin && strrchr(bin, '/')) {
        snprintf(base, sizeof base, "%.*s", (int)(strrchr(bin, '/') - bin), bin);
    } else if (src) {
        join(base, sizeof base, src, "build");
    } else {
        snprintf(base, sizeof base, "/tmp");
    }
    mkdir(base, 0777);
    join(tmpdir, sizeof tmpdir, base, "test-plots-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}
static void cleanup(void)
{
    th_remove_tree(tmpdir);
    strbuf_free(&out);
    strbuf_free(&err);
}

/* Makes the temporary directory on first use; it goes at exit. */
static void need_tmpdir(void)
{
    if (tmpdir[0])
        return;
    if (make_tmpdir() != 0) {
        fprintf(stderr, "test_plots: cannot make a temporary directory under the build\n");
        exit(2);
    }
    atexit(cleanup);
}

/* A fresh empty subdirectory of tmpdir for one test. */
static const char *subdir(const char *name)
{
    static char path[8192];
    need_tmpdir();
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    th_remove_tree(path);
    mkdir(path, 0777);
    return path;
}

/* Reads a whole file into sb; 0 or -1. */
static int slurp(const char *path, strbuf *sb)
{
    strbuf_clear(sb);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        strbuf_putn(sb, buf, n);
    fclose(f);
    return sb->failed ? -1 : 0;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Counts the entries of dir (without . and ..) whose name ends in suffix ("" for all). */
static int count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name), slen = strlen(suffix);
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (len >= slen && strcmp(e->d_name + len - slen, suffix) == 0)
            n++;
    }
    closedir(d);
    return n;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A PNG: the signature, then IHDR giving width x height. */
static int png_ok(const strbuf *sb, uint32_t w, uint32_t h)
{
    const unsigned char *p = (const unsigned char *)sb->s;
    return sb->len > 2000 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0 &&
           memcmp(p + 12, "IHDR", 4) == 0 && be32(p + 16) == w && be32(p + 20) == h;
}

static int pdf_ok(const strbuf *sb)
{
    if (sb->len < 1000 || memcmp(sb->s, "%PDF-", 5) != 0)
        return 0;
    /* The trailer: %%EOF within the last bytes (a newline may follow). */
    const char *tail = sb->s + sb->len - 16;
    for (const char *p = tail; p + 5 <= sb->s + sb->len; p++)
        if (memcmp(p, "%%EOF", 5) == 0)
            return 1;
    return 0;
}

static int gif_ok(const strbuf *sb)
{
    return sb->len > 1000 && memcmp(sb->s, "GIF89a", 6) == 0 && sb->s[sb->len - 1] == 0x3b;
}

/* A small XML well-formedness check: tags nest and close in order, attributes are quoted,
 * comments, processing instructions, CDATA and doctype are skipped whole, `&` starts an
 * entity, text has no `<`. Enough to catch what a broken quoting would produce. */
static int xml_ok(const char *s)
{
    const char *stack[256];
    size_t lens[256];
    int depth = 0, roots = 0;
    const char *p = s;
    while (*p) {
        if (*p == '&') {
            const char *semi = strchr(p, ';');
            if (!semi || semi - p > 10)
                return 0;
            p = semi + 1;
            continue;
        }
        if (*p != '<') {
            p++;
            continue;
        }
        const char *end;
        if (strncmp(p, "<?", 2) == 0) {
            if (!(end = strstr(p, "?>")))
                return 0;
            p = end + 2;
        } else if (strncmp(p, "<!--", 4) == 0) {
            if (!(end = strstr(p, "-->")))
                return 0;
            p = end + 3;
        } else if (strncmp(p, "<![CDATA[", 9) == 0) {
            if (!(end = strstr(p, "]]>")))
                return 0;
            p = end + 3;
        } else if (strncmp(p, "<!", 2) == 0) {
            if (!(end = strchr(p, '>')))
                return 0;
            p = end + 1;
        } else if (p[1] == '/') {
            const char *name = p + 2;
            size_t len = strcspn(name, " \t\r\n>");
            if (depth == 0 || len != lens[depth - 1] || strncmp(name, stack[depth - 1], len) != 0)
                return 0;
            depth--;
            if (!(end = strchr(name, '>')))
                return 0;
            p = end + 1;
        } else {
            const char *name = p + 1;
            size_t len = strcspn(name, " \t\r\n/>");
            if (len == 0)
                return 0;
            const char *q = name + len;
            for (;;) { /* attributes */
                while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
                    q++;
                if (*q == '>' || (q[0] == '/' && q[1] == '>'))
                    break;
                size_t an = strcspn(q, "= \t\r\n>");
                if (an == 0)
                    return 0;
                q += an;
                while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
                    q++;
                if (*q++ != '=')
                    return 0;
                while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
                    q++;
                char quote = *q;
                if (quote != '"' && quote != '\'')
                    return 0;
                const char *close = strchr(q + 1, quote);
                if (!close)
                    return 0;
                for (const char *c = q + 1; c < close; c++)
                    if (*c == '<')
                        return 0;
                q = close + 1;
            }
            if (*q == '/') {
                p = q + 2;
                if (depth == 0)
                    roots++;
            } else {
                if (depth == 0)
                    roots++;
                if (depth == 256)
                    return 0;
                stack[depth] = name;
                lens[depth++] = len;
                p = q + 1;
            }
        }
    }
    return depth == 0 && roots == 1;
}

/* ---- the gnuplot module ---- */

static void test_quote(void)
{
    strbuf sb = STRBUF_INIT;
    gp_quote(&sb, "a\"b\\c\nd`e`@f$g'h\x01i");
    CU_ASSERT_STRING_EQUAL(strbuf_str(&sb), "\"a\\\"b\\\\c\\nd\\140e\\140\\100f$g'hi\"");
    /* Nothing gnuplot would act on survives: no raw backquote, newline or @. */
    CU_ASSERT_PTR_NULL(strchr(strbuf_str(&sb), '`'));
    CU_ASSERT_PTR_NULL(strchr(strbuf_str(&sb), '\n'));
    CU_ASSERT_PTR_NULL(strchr(strbuf_str(&sb), '@'));
    strbuf_clear(&sb);
    gp_quote(&sb, NULL);
    CU_ASSERT_STRING_EQUAL(strbuf_str(&sb), "\"\"");
    strbuf_free(&sb);
}

static void test_formats(void)
{
    gp_format f;
    const char *names[] = {"png", "svg", "pdf", "dumb", "gif"};
    for (int i = 0; i < 5; i++) {
        CU_ASSERT_EQUAL(gp_format_parse(names[i], &f), 0);
        CU_ASSERT_STRING_EQUAL(gp_format_name(f), names[i]);
    }
    CU_ASSERT_EQUAL(gp_format_parse("jpeg", &f), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(gp_format_parse("", &f), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(gp_format_parse(NULL, &f), TUTOR_EINVAL);
}

/* The text gnuplot's dumb terminal draws for a session: plain text, without the form feed
 * gnuplot puts before each plot. */
static void test_gp_dumb(void)
{
    gp g;
    gp_begin(&g, GP_DUMB, 0, 0);
    gp_data_begin(&g, "D");
    for (int i = 0; i < 10; i++)
        gp_data_row(&g, (double[]){i, i * i}, 2);
    gp_data_end(&g);
    gp_raw(&g, "plot $D using 1:2 with linespoints title ");
    gp_text(&g, "squares");
    gp_raw(&g, "\n");
    strbuf text = STRBUF_INIT;
    char msg[256] = "";
    char path[8192];
    join(path, sizeof path, subdir("gp-dumb"), "dumb.txt");
    int rc = gp_render(&g, NULL, path, &text, NULL, msg, sizeof msg);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc)
        fprintf(stderr, "\n  gp_render: %s\n", msg);
    CU_ASSERT_TRUE(text.len > 100);
    CU_ASSERT_PTR_NULL(memchr(strbuf_str(&text), '\f', text.len));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&text), "squares"));
    CU_ASSERT_FALSE(exists(path)); /* dumb writes no file */
    /* Sized for a terminal window: 60 columns, 15 rows. */
    strbuf_clear(&text);
    gp_text_size(&g, 60, 15);
    CU_ASSERT_EQUAL(gp_render(&g, NULL, path, &text, NULL, msg, sizeof msg), 0);
    size_t lines = 0, widest = 0, width = 0;
    for (const char *p = strbuf_str(&text); *p; p++) {
        if (*p == '\n') {
            lines++;
            widest = width > widest ? width : widest;
            width = 0;
        } else if (*p != '\f') {
            width++;
        }
    }
    CU_ASSERT_EQUAL(widest, 60);
    CU_ASSERT_EQUAL(lines, 15);
    gp_free(&g);
    strbuf_free(&text);
}

/* A gnuplot error is reported in one line, and nothing is left at the path. */
static void test_gp_error(void)
{
    gp g;
    gp_begin(&g, GP_PNG, 0, 0);
    gp_raw(&g, "plot no_such_function(x)\n");
    char msg[256] = "";
    char path[8192];
    const char *dir = subdir("gp-error");
    join(path, sizeof path, dir, "bad.png");
    CU_ASSERT_EQUAL(gp_render(&g, NULL, path, NULL, NULL, msg, sizeof msg), TUTOR_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "undefined function"));
    CU_ASSERT_PTR_NULL(strchr(msg, '\n'));
    CU_ASSERT_EQUAL(count_files(dir, ""), 0);
    gp_free(&g);
    /* A bad datablock name is refused before gnuplot runs. */
    gp_begin(&g, GP_PNG, 0, 0);
    CU_ASSERT_EQUAL(gp_data_begin(&g, "bad name"), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(gp_raw(&g, "plot x\n"), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(gp_render(&g, NULL, path, NULL, NULL, msg, sizeof msg), TUTOR_EINVAL);
    CU_ASSERT_FALSE(exists(path));
    gp_free(&g);
}

/* gnuplot missing: one line, and the script with its data next to the figure's place. */
static void test_gp_missing(void)
{
    gp g;
    gp_begin(&g, GP_SVG, 0, 0);
    gp_data_matrix(&g, "M", (double[]){1, 2, 3, 4}, 2, 2);
    gp_raw(&g, "plot $M matrix with image\n");
    char msg[512] = "";
    char path[8192], script[8192];
    const char *dir = subdir("gp-missing");
    join(path, sizeof path, dir, "fig.svg");
    join(script, sizeof script, dir, "fig.gp");
    strbuf written = STRBUF_INIT, text = STRBUF_INIT;
    int rc = gp_render(&g, "/nonexistent/bin/gnuplot", path, NULL, &written, msg, sizeof msg);
    CU_ASSERT_EQUAL(rc, TUTOR_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "gnuplot not found"));
    CU_ASSERT_PTR_NULL(strchr(msg, '\n'));
    CU_ASSERT_STRING_EQUAL(strbuf_str(&written), script);
    CU_ASSERT_FALSE(exists(path));
    CU_ASSERT_EQUAL_FATAL(slurp(script, &text), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&text), "$M << EOD\n1 2\n3 4\nEOD\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&text), "set terminal svg"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&text), "set output"));
    /* The script renders on its own later. */
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot fig.gp 2>/dev/null", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
    CU_ASSERT_EQUAL(slurp(path, &text), 0);
    CU_ASSERT_TRUE(xml_ok(strbuf_str(&text)));
    gp_free(&g);
    strbuf_free(&written);
    strbuf_free(&text);
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes a /bin/sh script dir/gnuplot with body, made executable: a stand-in gnuplot. Its
 * path goes to dst. */
static void fake_gnuplot(char *dst, size_t n, const char *dir, const char *body)
{
    join(dst, n, dir, "gnuplot");
    FILE *f = fopen(dst, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "#!/bin/sh\n%s", body);
    CU_ASSERT_EQUAL(fclose(f), 0);
    CU_ASSERT_EQUAL(chmod(dst, 0755), 0);
}

/* 1 when process pid has exited (gone, or a zombie no one has reaped yet), after waiting up
 * to a second for it. */
static int process_gone(long pid)
{
    char stat_path[64];
    snprintf(stat_path, sizeof stat_path, "/proc/%ld/stat", pid);
    for (int tries = 0; tries < 100; tries++) {
        strbuf st = STRBUF_INIT;
        const char *close_paren;
        int gone = kill((pid_t)pid, 0) != 0 || slurp(stat_path, &st) != 0 ||
                   ((close_paren = strrchr(strbuf_str(&st), ')')) && close_paren[1] == ' ' &&
                    close_paren[2] == 'Z');
        strbuf_free(&st);
        if (gone)
            return 1;
        struct timespec pause = {0, 10 * 1000000};
        nanosleep(&pause, NULL);
    }
    return 0;
}

/* A gnuplot that hangs is killed at the session's deadline, together with what it started:
 * gp_render returns in about the timeout, says so in one line, and leaves no figure, no
 * .part file and no text. */
static void test_gp_timeout(void)
{
    char slow[8192], pidfile[8192], path[8192], msg[256] = "";
    const char *bin = subdir("gp-slow-bin");
    join(pidfile, sizeof pidfile, bin, "sleep.pid");
    char body[16384];
    snprintf(body, sizeof body, "sleep 10 &\necho $! > '%s'\nwait\n", pidfile);
    fake_gnuplot(slow, sizeof slow, bin, body);
    const char *dir = subdir("gp-timeout");
    join(path, sizeof path, dir, "slow.png");
    gp g;
    gp_begin(&g, GP_PNG, 0, 0);
    gp_raw(&g, "plot x\n");
    gp_set_timeout(&g, 200);
    long start = now_ms();
    CU_ASSERT_EQUAL(gp_render(&g, slow, path, NULL, NULL, msg, sizeof msg), TUTOR_EIO);
    long took = now_ms() - start;
    CU_ASSERT(took >= 190 && took < 2000);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "did not finish within 0.2 s"));
    CU_ASSERT_PTR_NULL(strchr(msg, '\n'));
    CU_ASSERT_EQUAL(count_files(dir, ""), 0);
    strbuf text = STRBUF_INIT;
    if (slurp(pidfile, &text) == 0) {
        CU_ASSERT_TRUE(process_gone(strtol(strbuf_str(&text), NULL, 10)));
    } else {
        CU_FAIL("the fake gnuplot did not start its sleep");
    }
    gp_free(&g);
    /* Dumb text: the caller's buffer is left as it was. */
    gp_begin(&g, GP_DUMB, 0, 0);
    gp_raw(&g, "plot x\n");
    gp_set_timeout(&g, 200);
    strbuf_clear(&text);
    strbuf_puts(&text, "before");
    CU_ASSERT_EQUAL(gp_render(&g, slow, NULL, &text, NULL, msg, sizeof msg), TUTOR_EIO);
    CU_ASSERT_STRING_EQUAL(strbuf_str(&text), "before");
    /* A deadline the real gnuplot meets changes nothing. */
    gp_set_timeout(&g, 30000);
    CU_ASSERT_EQUAL(gp_render(&g, NULL, NULL, &text, NULL, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(strncmp(strbuf_str(&text), "before", 6), 0);
    CU_ASSERT_PTR_NULL(strchr(strbuf_str(&text), '\f'));
    gp_free(&g);
    strbuf_free(&text);
}

/* The UI's in-terminal plots go through the same layer: a gnuplot that hangs is given up
 * after the UI's two seconds with the output untouched, and a missing one is
 * TUTOR_ENOTFOUND without a fallback script anywhere. (tests/test_ui.c checks the plot.) */
static void test_ui_plot(void)
{
    char slow[8192];
    fake_gnuplot(slow, sizeof slow, subdir("ui-slow-bin"), "exec sleep 10\n");
    double v[16];
    for (int k = 0; k < 16; k++)
        v[k] = k % 4;
    strbuf text = STRBUF_INIT;
    setenv("TUTOR_GNUPLOT", slow, 1);
    long start = now_ms();
    CU_ASSERT_EQUAL(textplot_render(v, 16, 40, 10, &text), TUTOR_EIO);
    long took = now_ms() - start;
    CU_ASSERT(took >= 1900 && took < 5000);
    CU_ASSERT_EQUAL(text.len, 0);
    int scripts = count_files(".", ".gp");
    setenv("TUTOR_GNUPLOT", "/nonexistent/gnuplot", 1);
    CU_ASSERT_EQUAL(textplot_render(v, 16, 40, 10, &text), TUTOR_ENOTFOUND);
    CU_ASSERT_EQUAL(text.len, 0);
    CU_ASSERT_EQUAL(count_files(".", ".gp"), scripts);
    unsetenv("TUTOR_GNUPLOT");
    strbuf_free(&text);
}

static int sweep_gp(void *ctx)
{
    (void)ctx;
    gp g;
    gp_begin(&g, GP_DUMB, 0, 0);
    gp_data_matrix(&g, "M", (double[]){1, 2, 3, 4, 5, 6}, 2, 3);
    gp_raw(&g, "plot $M matrix using 1:2:3 with points title ");
    gp_text(&g, "a title");
    gp_raw(&g, "\n");
    strbuf text = STRBUF_INIT;
    char msg[256];
    char path[8192];
    need_tmpdir();
    join(path, sizeof path, tmpdir, "sweep.txt");
    int rc = gp_render(&g, NULL, path, &text, NULL, msg, sizeof msg);
    gp_free(&g);
    strbuf_free(&text);
    return rc;
}

static void test_gp_alloc(void)
{
    CU_ASSERT_TRUE(th_alloc_sweep(sweep_gp, NULL, 0) > 0);
}

/* ---- figures from traces ---- */

static trace *small_trace(void)
{
    trace *tr = trace_new(0);
    if (!tr)
        return NULL;
    static const char *const listing[] = {"swap", "fill"};
    trace_set_listing(tr, listing, 2);
    int a[] = {5, 2, 9, 1};
    trace_step(tr, 1, "start `touch x` @m");
    trace_ints(tr, "a", a, 4);
    trace_scalar(tr, "i", 0);
    trace_step(tr, 1, "swap a[0] and a[1]");
    a[0] = 2, a[1] = 5;
    trace_ints(tr, "a", a, 4);
    trace_mark(tr, "a", 0, -1, TRACE_MOVE);
    trace_mark(tr, "a", 1, -1, TRACE_MOVE);
    trace_step(tr, 2, "table");
    trace_table(tr, "dp", (int64_t[]){0, 1, TRACE_NONE, 3, 4, 5}, 2, 3);
    trace_mark(tr, "dp", 1, 2, TRACE_CHOSEN);
    trace_matrix(tr, "P", (double[]){0.5, -0.5, 0.25, 1}, 2, 2);
    return tr;
}

static void test_trace_figures(void)
{
    trace *tr = small_trace();
    CU_ASSERT_PTR_NOT_NULL_FATAL(tr);
    const char *dir = subdir("trace");
    strbuf paths = STRBUF_INIT, file = STRBUF_INIT;
    fig_ctx c;
    fig_init(&c, GP_GIF, dir, "demo", &paths);
    c.animate = 1;
    c.caption = "caption `with` \"quotes\"";
    CU_ASSERT_EQUAL(fig_animate(&c, tr, "steps", "A title"), 0);
    fig_init(&c, GP_PNG, dir, "demo", &paths);
    CU_ASSERT_EQUAL(fig_trace_state(&c, tr, 99, "state", NULL), 0);
    char err_line[256] = "";
    CU_ASSERT_EQUAL(fig_result(&c, err_line, sizeof err_line), 0);
    char path[8192];
    join(path, sizeof path, dir, "demo-steps.gif");
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&paths), path));
    CU_ASSERT_EQUAL(slurp(path, &file), 0);
    CU_ASSERT_TRUE(gif_ok(&file));
    join(path, sizeof path, dir, "demo-state.png");
    CU_ASSERT_EQUAL(slurp(path, &file), 0);
    CU_ASSERT_TRUE(png_ok(&file, 1600, 900));
    /* A trace with no steps has nothing to draw: an error, not an empty figure. */
    trace *empty = trace_new(0);
    fig_init(&c, GP_PNG, dir, "empty", &paths);
    CU_ASSERT_EQUAL(fig_trace_state(&c, empty, 0, "state", NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(fig_result(&c, err_line, sizeof err_line), TUTOR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err_line, "no steps"));
    trace_free(empty);
    trace_free(tr);
    strbuf_free(&paths);
    strbuf_free(&file);
}

static int sweep_fig(void *ctx)
{
    trace *tr = ctx;
    strbuf text = STRBUF_INIT;
    fig_ctx c;
    need_tmpdir();
    fig_init(&c, GP_DUMB, tmpdir, "sweep", &text);
    c.caption = "a caption";
    fig_trace_state(&c, tr, 99, "state", "title");
    int rc = fig_result(&c, NULL, 0);
    strbuf_free(&text);
    return rc;
}

static void test_fig_alloc(void)
{
    trace *tr = small_trace();
    CU_ASSERT_PTR_NOT_NULL_FATAL(tr);
    CU_ASSERT_TRUE(th_alloc_sweep(sweep_fig, tr, 0) > 0);
    trace_free(tr);
}

/* ---- tutor plot ---- */

/* A topic whose figures render quickly (no timing sweep), for the tests that repeat. */
static const char *quick_topic(void)
{
    if (topic_find("knapsack"))
        return "knapsack";
    return topic_count ? topic_registry[0]->id : NULL;
}

/* The first topic of each family, so every family's recipe is exercised. */
static size_t family_topics(const topic **picked, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < topic_count && n < max; i++) {
        size_t k = 0;
        while (k < n && strcmp(picked[k]->family, topic_registry[i]->family) != 0)
            k++;
        if (k == n)
            picked[n++] = topic_registry[i];
    }
    return n;
}

/* Checks every line of out names an existing file that looks like fmt. Returns the count. */
static int check_paths(const char *text, const char *fmt)
{
    int count = 0;
    strbuf line = STRBUF_INIT, file = STRBUF_INIT;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        CU_ASSERT_PTR_NOT_NULL_FATAL(nl);
        strbuf_clear(&line);
        strbuf_putn(&line, p, (size_t)(nl - p));
        p = nl + 1;
        count++;
        int ok = slurp(strbuf_str(&line), &file) == 0;
        CU_ASSERT_TRUE(ok);
        if (!ok)
            continue;
        int valid = strcmp(fmt, "png") == 0 ? png_ok(&file, 1600, 900)
                    : strcmp(fmt, "svg") == 0
                        ? xml_ok(strbuf_str(&file)) && strstr(strbuf_str(&file), "<svg") != NULL
                    : strcmp(fmt, "pdf") == 0 ? pdf_ok(&file)
                                              : gif_ok(&file);
        CU_ASSERT_TRUE(valid);
        if (!valid)
            fprintf(stderr, "\n  not a valid %s: %s\n", fmt, strbuf_str(&line));
    }
    strbuf_free(&line);
    strbuf_free(&file);
    return count;
}

static void test_cli_formats(void)
{
    const topic *picked[8];
    size_t n = family_topics(picked, 8);
    const char *formats[] = {"png", "svg", "pdf"};
    for (size_t t = 0; t < n; t++) {
        for (int f = 0; f < 3; f++) {
            const char *dir = subdir("formats");
            int rc = th_cli(&out, &err, "plot", picked[t]->id, "--format", formats[f], "--out", dir,
                            NULL);
            CU_ASSERT_EQUAL(rc, 0);
            if (rc)
                fprintf(stderr, "\n  tutor plot %s --format %s: %s", picked[t]->id, formats[f],
                        strbuf_str(&err));
            CU_ASSERT_EQUAL(err.len, 0);
            int count = check_paths(strbuf_str(&out), formats[f]);
            CU_ASSERT_TRUE(count >= 1);
            /* Exactly the figures listed, nothing half-written beside them. */
            CU_ASSERT_EQUAL(count_files(dir, ""), count);
        }
    }
}

/* --animate draws every step; gif frames are slow to render (fonts, palette), so small
 * inputs: the quick topic's example and a short maxgap. */
static void test_cli_animate(void)
{
    const char *id = quick_topic();
    if (!id)
        return;
    const char *dir = subdir("animate");
    int rc = th_cli(&out, &err, "plot", id, "--animate", "--format", "gif", "--out", dir, NULL);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc)
        fprintf(stderr, "\n  tutor plot %s --animate: %s", id, strbuf_str(&err));
    CU_ASSERT_EQUAL(check_paths(strbuf_str(&out), "gif"), 1);
    if (topic_find("maxgap")) {
        rc = th_cli(&out, &err, "plot", "maxgap", "--nums", "9 1 5 3", "--animate", "--format",
                    "gif", "--out", dir, "--title", "frames", NULL);
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_EQUAL(check_paths(strbuf_str(&out), "gif"), 1);
    }
}

/* --format dumb prints plain text to stdout: no form feed, no control character but the
 * newline. */
static void test_cli_dumb(void)
{
    const topic *picked[8];
    size_t n = family_topics(picked, 8);
    for (size_t t = 0; t < n; t++) {
        const char *dir = subdir("dumb");
        int rc = th_cli(&out, &err, "plot", picked[t]->id, "--format", "dumb", "--out", dir, NULL);
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_TRUE(out.len > 100);
        if (!out.len)
            continue;
        int clean = 1;
        for (size_t i = 0; i < out.len; i++) {
            unsigned char ch = (unsigned char)out.s[i];
            if ((ch < 0x20 && ch != '\n') || ch == 0x7f)
                clean = 0;
        }
        CU_ASSERT_TRUE(clean);
        CU_ASSERT_EQUAL(count_files(dir, ""), 0);
    }
}

/* A title made to break out of gnuplot's quoting is drawn as text and runs nothing. */
static void test_cli_quoting(void)
{
    if (topic_count == 0)
        return;
    const char *dir = subdir("quoting");
    char pwned1[8192], pwned2[8192], pwned3[8192], title[32768];
    join(pwned1, sizeof pwned1, dir, "pwned-system");
    join(pwned2, sizeof pwned2, dir, "pwned-backquote");
    join(pwned3, sizeof pwned3, dir, "pwned-quote");
    snprintf(title, sizeof title,
             "A \"title\" with 'quotes', a back\\slash\\\", a\nnewline, "
             "system(\"touch %s\"), `touch %s` and \"; system(\"touch %s\"); print \" "
             "@x $y",
             pwned1, pwned2, pwned3);
    const char *formats[] = {"svg", "png", "dumb"};
    for (int f = 0; f < 3; f++) {
        int rc = th_cli(&out, &err, "plot", quick_topic(), "--format", formats[f], "--title", title,
                        "--out", dir, NULL);
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_FALSE(exists(pwned1));
        CU_ASSERT_FALSE(exists(pwned2));
        CU_ASSERT_FALSE(exists(pwned3));
        if (f == 0) {
            /* The title is in the SVG as text, which still parses. */
            strbuf file = STRBUF_INIT, first = STRBUF_INIT;
            const char *nl = strchr(strbuf_str(&out), '\n');
            CU_ASSERT_PTR_NOT_NULL_FATAL(nl);
            strbuf_putn(&first, strbuf_str(&out), (size_t)(nl - strbuf_str(&out)));
            CU_ASSERT_EQUAL(slurp(strbuf_str(&first), &file), 0);
            CU_ASSERT_TRUE(xml_ok(strbuf_str(&file)));
            CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&file), "system(&quot;touch") ||
                                           strstr(strbuf_str(&file), "system(\"touch")
                                       ? "found"
                                       : NULL);
            CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&file), "`touch"));
            strbuf_free(&file);
            strbuf_free(&first);
        }
        if (f == 2) {
            /* The first of the title's two lines fits the 100 columns. */
            CU_ASSERT_PTR_NOT_NULL(
                strstr(strbuf_str(&out), "A \"title\" with 'quotes', a back\\slash\\\", a"));
        }
    }
}

/* gnuplot missing (a program that does not exist, then an empty PATH): one clear line,
 * exit 1, and each figure's script with its data left where the figure would be. */
static void test_cli_missing(void)
{
    if (topic_count == 0)
        return;
    const char *id = quick_topic();
    const char *dir = subdir("missing");
    setenv("TUTOR_GNUPLOT", "/nonexistent/gnuplot", 1);
    int rc = th_cli(&out, &err, "plot", id, "--out", dir, NULL);
    unsetenv("TUTOR_GNUPLOT");
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_EQUAL(th_count_lines(strbuf_str(&err)), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&err), "gnuplot not found"));
    int scripts = count_files(dir, ".gp");
    CU_ASSERT_TRUE(scripts >= 1);
    CU_ASSERT_EQUAL(count_files(dir, ""), scripts);
    CU_ASSERT_EQUAL((int)th_count_lines(strbuf_str(&out)), scripts);
    strbuf file = STRBUF_INIT;
    const char *nl = strchr(strbuf_str(&out), '\n');
    if (nl) {
        strbuf first = STRBUF_INIT;
        strbuf_putn(&first, strbuf_str(&out), (size_t)(nl - strbuf_str(&out)));
        CU_ASSERT_EQUAL(slurp(strbuf_str(&first), &file), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&file), " << EOD\n"));
        CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&file), "plot "));
        strbuf_free(&first);
    }
    strbuf_free(&file);

    const char *old = getenv("PATH");
    char *saved = old ? mem_strdup(old) : NULL;
    const char *empty = subdir("empty-path");
    dir = subdir("missing2");
    setenv("PATH", empty, 1);
    rc = th_cli(&out, &err, "plot", id, "--out", dir, "--format", "dumb", NULL);
    if (saved)
        setenv("PATH", saved, 1);
    else
        unsetenv("PATH");
    mem_free(saved);
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_EQUAL(th_count_lines(strbuf_str(&err)), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&err), "gnuplot not found"));
    CU_ASSERT_TRUE(count_files(dir, ".gp") >= 1);
}

/* Bad input: one line on stderr, nothing on stdout, exit 2, no file. */
static void expect_bad(const char *what, int rc, const char *needle)
{
    if (!th_refused(rc, &out, &err, needle))
        fprintf(stderr, "  (case: %s)\n", what);
}

static void test_cli_bad_input(void)
{
    const char *dir = subdir("bad");
    char file[8192], under[8192];
    join(file, sizeof file, dir, "a-file");
    join(under, sizeof under, dir, "a-file/sub");
    FILE *f = fopen(file, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fclose(f);
    expect_bad("no topic", th_cli(&out, &err, "plot", NULL), "missing topic");
    expect_bad("unknown topic", th_cli(&out, &err, "plot", "nosuch", NULL), "unknown topic");
    if (topic_count == 0)
        return;
    const char *id = topic_registry[0]->id;
    expect_bad("format", th_cli(&out, &err, "plot", id, "--format", "jpeg", "--out", dir, NULL),
               "unknown --format 'jpeg'");
    expect_bad("format=", th_cli(&out, &err, "plot", id, "--format=", "--out", dir, NULL),
               "--format");
    expect_bad("out is a file", th_cli(&out, &err, "plot", id, "--out", file, NULL),
               "not a directory");
    expect_bad("out under a file", th_cli(&out, &err, "plot", id, "--out", under, NULL),
               "cannot create");
    expect_bad("animate", th_cli(&out, &err, "plot", id, "--animate", "--out", dir, NULL),
               "--animate needs --format gif");
    expect_bad("json", th_cli(&out, &err, "plot", id, "--json", "--out", dir, NULL), "--json");
    expect_bad("no title", th_cli(&out, &err, "plot", id, "--out", dir, "--title", NULL),
               "needs a value");
    expect_bad("unknown option", th_cli(&out, &err, "plot", id, "--bogus", "--out", dir, NULL),
               "unknown option '--bogus'");
    expect_bad("seed", th_cli(&out, &err, "plot", id, "--seed", "x", "--out", dir, NULL), "--seed");
    CU_ASSERT_EQUAL(count_files(dir, ""), 1); /* only a-file */
    if (topic_find("maxgap")) {
        expect_bad("maxgap nums",
                   th_cli(&out, &err, "plot", "maxgap", "--nums", "1 x", "--out", dir, NULL),
                   "--nums");
        CU_ASSERT_EQUAL(count_files(dir, ""), 1);
    }
    /* A missing input file is bad input, exit 2 as for `tutor run`: it once came back as the
     * TUTOR_ENOTFOUND that means "gnuplot missing" to cmd_plot, which exited 1 (found by
     * fuzz_cli_args). An unreadable one (here a folder) likewise: its TUTOR_EIO passed the
     * check as if an output had failed, and the figures were drawn. Each through the
     * recipe's check, then the trace figure's run. */
    if (topic_find("hippo")) {
        char nosuch[8192];
        join(nosuch, sizeof nosuch, dir, "no-such-signal");
        const char *files[][2] = {{nosuch, "no such file"}, {dir, "read error"}};
        for (size_t i = 0; i < 2; i++) {
            expect_bad(
                files[i][1],
                th_cli(&out, &err, "plot", "hippo", "--signal", files[i][0], "--out", dir, NULL),
                files[i][1]);
            expect_bad(files[i][1],
                       th_cli(&out, &err, "plot", "hippo", "--signal", files[i][0], "--animate",
                              "--format", "gif", "--out", dir, NULL),
                       files[i][1]);
        }
        CU_ASSERT_EQUAL(count_files(dir, ""), 1);
    }
}

static const char *sweep_dir;

/* One `tutor plot` under the allocation-failure sweep: exit 1 with "out of memory" counts as
 * TUTOR_ENOMEM; anything else but success is reported as itself. */
static int sweep_cli(void *ctx)
{
    const char *const *argv = ctx;
    int rc =
        th_cli(&out, &err, "plot", argv[0], argv[1], argv[2], argv[3], "--out", sweep_dir, NULL);
    if (rc == 0)
        return 0;
    if (rc == 1 && strstr(strbuf_str(&err), "out of memory"))
        return TUTOR_ENOMEM;
    fprintf(stderr, "\n  tutor plot %s: exit %d: %s", argv[0], rc, strbuf_str(&err));
    return TUTOR_EIO;
}

static void test_cli_alloc(void)
{
    if (!topic_find("knapsack") || !topic_find("combsum"))
        return;
    sweep_dir = subdir("sweep");
    static const char *const dumb[] = {"knapsack", "--capacity=2", "--items=1:1 2:3",
                                       "--format=dumb"};
    static const char *const lines[] = {"combsum", "--candidates=2 3", "--target=5",
                                        "--format=dumb"};
    CU_ASSERT_TRUE(th_alloc_sweep(sweep_cli, (void *)dumb, 0) > 10);
    CU_ASSERT_TRUE(th_alloc_sweep(sweep_cli, (void *)lines, 0) > 10);
}

/* Inputs at the edges still make figures: no values, one value, all equal, the whole int
 * range; a knapsack no subset fills exactly. */
static void test_cli_edges(void)
{
    const char *dir = subdir("edges");
    static const char *const nums[] = {"", "4", "7 7 7", "-2147483648 2147483647"};
    for (int i = 0; i < 4 && topic_find("maxgap"); i++) {
        int rc = th_cli(&out, &err, "plot", "maxgap", "--nums", nums[i], "--format", "dumb",
                        "--out", dir, NULL);
        CU_ASSERT_EQUAL(rc, 0);
        if (rc)
            fprintf(stderr, "\n  maxgap --nums '%s': %s", nums[i], strbuf_str(&err));
    }
    if (topic_find("knapsack")) {
        CU_ASSERT_EQUAL(th_cli(&out, &err, "plot", "knapsack", "--capacity", "3", "--items",
                               "4:1 5:2", "--exact", "--format", "dumb", "--out", dir, NULL),
                        0);
    }
    /* No candidates at all: a valid input (nothing sums to the target), whose empty list
     * once reached qsort as a null pointer (UBSan, found by fuzz/cli_args). */
    static const char *const sums[] = {"combsum", "combsum2"};
    for (int i = 0; i < 2; i++)
        if (topic_find(sums[i]))
            CU_ASSERT_EQUAL(th_cli(&out, &err, "plot", sums[i], "--candidates", "", "--target", "4",
                                   "--format", "dumb", "--out", dir, NULL),
                            0);
}

/* Every topic plots with its defaults (its recipe, or the traced run's final state). */
static void test_cli_every_topic(void)
{
    for (size_t i = 0; i < topic_count; i++) {
        const char *dir = subdir("every");
        int rc = th_cli(&out, &err, "plot", topic_registry[i]->id, "--out", dir, NULL);
        CU_ASSERT_EQUAL(rc, 0);
        if (rc)
            fprintf(stderr, "\n  tutor plot %s: %s", topic_registry[i]->id, strbuf_str(&err));
        CU_ASSERT_TRUE(check_paths(strbuf_str(&out), "png") >= 1);
    }
}

/* ---- tutor plot bench ---- */

/* Writes len bytes to DIR/NAME (NUL bytes included). */
static void write_bytes(const char *dir, const char *name, const char *bytes, size_t len)
{
    char path[8192];
    join(path, sizeof path, dir, name);
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fwrite(bytes, 1, len, f);
    fclose(f);
}

#define BENCH_HEADER                                                                               \
    "case,size,n,ours,peer,ours_median_s,ours_min_s,peer_median_s,peer_min_s,ratio,need,"          \
    "verdict,note\n"

/* A small run in the harness's format: a target row and a three-size sweep of two
 * contenders (with a quote and a comma in a name, as the CSV allows), a note line, and the
 * heapify counts. */
static const char bench_maxgap[] = BENCH_HEADER
    "\"maxgap\",\"n=10^7\",10000000,\"buckets\",\"qsort + scan\",0.25,0.24,2,1.9,8,4,\"MET\",\"\"\n"
    "\"maxgap\",\"n=100\",100,\"buckets\",\"qsort, \"\"fast\"\"\",1e-06,9e-07,3e-06,2e-06,3,0,"
    "\"-\",\"\"\n"
    "\"maxgap\",\"n=1000\",1000,\"buckets\",\"qsort, \"\"fast\"\"\",1e-05,9e-06,6e-05,5e-05,6,0,"
    "\"-\",\"\"\n"
    "\"maxgap\",\"n=10000\",10000,\"buckets\",\"qsort, \"\"fast\"\"\",0.0001,9e-05,0.001,0.0009,"
    "10,0,\"-\",\"\"\n"
    "# crossover against qsort: from 100 on\n";
static const char bench_heapify[] = "n,comparisons,per_element\n1000,1626,1.626\n"
                                    "10000,16503,1.6503\n";

/* The figures of a run: one line chart per sweep, the heapify counts and the targets,
 * their paths on stdout; dumb figures as text. */
static void test_cli_bench(void)
{
    const char *in = subdir("bench-in");
    char from[8192];
    snprintf(from, sizeof from, "%s", in);
    th_write_file(from, "maxgap.csv", bench_maxgap);
    th_write_file(from, "heap_heapify.csv", bench_heapify);
    const char *dir = subdir("bench-out");
    int rc = th_cli(&out, &err, "plot", "bench", "--from", from, "--out", dir, NULL);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc)
        fprintf(stderr, "\n  tutor plot bench: %s", strbuf_str(&err));
    CU_ASSERT_EQUAL(check_paths(strbuf_str(&out), "png"), 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "bench-maxgap-time.png"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "bench-heapify.png"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "bench-targets.png"));
    rc = th_cli(&out, &err, "plot", "bench", "--from", from, "--format", "dumb", NULL);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "qsort, \"fast\" (peer)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "comparisons per element"));
    /* Every allocation of reading and drawing can fail cleanly. */
    static char from_copy[8192];
    snprintf(from_copy, sizeof from_copy, "%s", from);
    static const char *argv[] = {"bench", "--from", from_copy, "--format=dumb"};
    sweep_dir = subdir("bench-sweep");
    CU_ASSERT_TRUE(th_alloc_sweep(sweep_cli, (void *)argv, 0) > 5);
}

/* Makes fresh, empty folders for a run's CSVs (in) and its figures (out), each 8192 bytes
 * (subdir's own buffer is reused by its next call). */
static void bench_dirs(char *in, char *out_dir, const char *in_name, const char *out_name)
{
    snprintf(in, 8192, "%s", subdir(in_name));
    snprintf(out_dir, 8192, "%s", subdir(out_name));
}

/* Bad input: a missing or empty folder, a malformed or foreign file (named with its line),
 * the options tutor plot bench does not take. Nothing is written. */
static void test_cli_bench_bad(void)
{
    char e[8192], d[8192];
    bench_dirs(e, d, "bench-empty", "bench-bad-out");
    expect_bad("no results", th_cli(&out, &err, "plot", "bench", "--from", e, "--out", d, NULL),
               "no benchmark results");
    char nosuch[8192];
    join(nosuch, sizeof nosuch, e, "nosuch");
    expect_bad("no folder", th_cli(&out, &err, "plot", "bench", "--from", nosuch, "--out", d, NULL),
               "no benchmark results");
    static const struct {
        const char *what, *text, *needle;
    } bad[] = {
        {"foreign header", "a,b,c\n1,2,3\n", "maxgap.csv:1: not a bench table"},
        {"too few fields", BENCH_HEADER "\"maxgap\",\"n=1\",1\n", "maxgap.csv:2: expected 13"},
        {"open quote", BENCH_HEADER "\"maxgap,\"n=1\",1,\"a\",\"b\",1,1,1,1,1,0,\"-\",\"\"\n",
         "maxgap.csv:2:"},
        {"not a number", BENCH_HEADER "\"maxgap\",\"n=1\",x,\"a\",\"b\",1,1,1,1,1,0,\"-\",\"\"\n",
         "maxgap.csv:2: fields 3 and 6 to 11 must be numbers"},
        /* An infinity reached gnuplot as an axis range, and its error was the only word. */
        {"infinity", BENCH_HEADER "\"maxgap\",\"n=1\",1,\"a\",\"b\",1,1,1,inf,1,0,\"-\",\"\"\n",
         "maxgap.csv:2: fields 3 and 6 to 11 must be numbers"},
        {"text after a quote",
         BENCH_HEADER "\"maxgap\"x,\"n=1\",1,\"a\",\"b\",1,1,1,1,1,0,\"-\",\"\"\n",
         "maxgap.csv:2:"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        th_write_file(e, "maxgap.csv", bad[i].text);
        expect_bad(bad[i].what, th_cli(&out, &err, "plot", "bench", "--from", e, "--out", d, NULL),
                   bad[i].needle);
    }
    th_write_file(e, "maxgap.csv", bench_maxgap);
    th_write_file(e, "heap_heapify.csv", "n,comparisons,per_element\n10,x,1\n");
    expect_bad("heapify", th_cli(&out, &err, "plot", "bench", "--from", e, "--out", d, NULL),
               "heap_heapify.csv:2:");
    th_write_file(e, "heap_heapify.csv", bench_heapify);
    expect_bad("gif", th_cli(&out, &err, "plot", "bench", "--from", e, "--format", "gif", NULL),
               "unknown --format 'gif'");
    expect_bad("option", th_cli(&out, &err, "plot", "bench", "--from", e, "--animate", NULL),
               "unknown option '--animate'");
    expect_bad("from", th_cli(&out, &err, "plot", "bench", "--from", NULL), "needs a value");
    CU_ASSERT_EQUAL(count_files(d, ""), 0);
}

/* Found by fuzz/fuzz_plot_bench.c: lines were read with fgets, which cannot tell a NUL
 * byte from the end of the line. A NUL on the last line (no newline after it) cut the line
 * there and the rest was dropped without a word, so a damaged file drew figures; a NUL
 * elsewhere was reported as "line too long". Both are now refused as not text, by line. */
static void test_cli_bench_nul(void)
{
    char e[8192], d[8192];
    bench_dirs(e, d, "bench-nul", "bench-nul-out");
    static const char tail[] = "# a note\0\"maxgap\",\"n=1\",1";
    strbuf sb = STRBUF_INIT;
    strbuf_puts(&sb, bench_maxgap);
    strbuf_putn(&sb, tail, sizeof tail - 1);
    CU_ASSERT_FATAL(!sb.failed);
    write_bytes(e, "maxgap.csv", strbuf_str(&sb), sb.len);
    strbuf_free(&sb);
    expect_bad("NUL on the last line",
               th_cli(&out, &err, "plot", "bench", "--from", e, "--out", d, NULL),
               "maxgap.csv:7: a NUL byte: not a text file");
    static const char heapify[] = "n,comparisons,per_element\n1000,16\0\n26,1.626\n";
    th_write_file(e, "maxgap.csv", bench_maxgap);
    write_bytes(e, "heap_heapify.csv", heapify, sizeof heapify - 1);
    expect_bad("NUL inside", th_cli(&out, &err, "plot", "bench", "--from", e, "--out", d, NULL),
               "heap_heapify.csv:2: a NUL byte: not a text file");
    CU_ASSERT_EQUAL(count_files(d, ""), 0);
}

void tests_register(void)
{
    static const th_test gp_tests[] = {
        {"quote", test_quote},
        {"formats", test_formats},
        {"dumb", test_gp_dumb},
        {"gnuplot error", test_gp_error},
        {"gnuplot missing", test_gp_missing},
        {"timeout", test_gp_timeout},
        {"ui plot", test_ui_plot},
        {"allocation failures", test_gp_alloc},
        {NULL, NULL},
    };
    static const th_test fig_tests[] = {
        {"trace figures", test_trace_figures},
        {"allocation failures", test_fig_alloc},
        {NULL, NULL},
    };
    static const th_test cli_tests[] = {
        {"formats", test_cli_formats},
        {"animate", test_cli_animate},
        {"dumb", test_cli_dumb},
        {"quoting", test_cli_quoting},
        {"gnuplot missing", test_cli_missing},
        {"bad input", test_cli_bad_input},
        {"allocation failures", test_cli_alloc},
        {"edge inputs", test_cli_edges},
        {"every topic", test_cli_every_topic},
        {"bench figures", test_cli_bench},
        {"bench figures: bad input", test_cli_bench_bad},
        {"bench figures: a NUL byte is refused", test_cli_bench_nul},
        {NULL, NULL},
    };
    th_suite("gnuplot", gp_tests);
    th_suite("figure", fig_tests);
    th_suite("tutor plot", cli_tests);
}
