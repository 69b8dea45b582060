/* Tests of the interactive tutor. The pure parts (markdown rendering, notes lookup, predict
 * grading, the snapshot index) are tested in-process; the screens by driving the real
 * binary ($TUTOR_BIN, set by `make test`) in tmux on a private socket at 80x24, polling
 * capture-pane with a timeout instead of sleeping a fixed time. Without tmux the screen
 * tests say so and pass. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../trace/mem.h"
#include "../trace/status.h"
#include "../trace/trace.h"
#include "../tutor/cli.h"
#include "../tutor/exercise/exercise.h"
#include "../tutor/core/parse.h"
#include "../tutor/topics/topic.h"
#include "../tutor/ui/tty.h"
#include "../tutor/ui/notes.h"
#include "../tutor/ui/textplot.h"
#include "../tutor/ui/predict.h"
#include "../tutor/ui/views.h"
#include "harness.h"

#ifndef TUTOR_SRCDIR
#define TUTOR_SRCDIR "."
#endif

/* ---------------------------------------------------------------------------------------
 * Running commands and tmux. */

static char sock[64];
static char bin[4096];
static char srcdir[2048];
static strbuf screen_text = STRBUF_INIT;

/* Runs argv (argv[0] looked up in PATH) with stdout into *out (when not NULL) and stderr
 * discarded. Returns the exit status, or -1 when it could not run. */
static int run_cmd(char *const argv[], strbuf *out)
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        if (!freopen("/dev/null", "w", stderr) || !freopen("/dev/null", "r", stdin))
            _exit(126);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fd[1]);
    if (out)
        strbuf_clear(out);
    char buf[4096];
    ssize_t k;
    while ((k = read(fd[0], buf, sizeof buf)) > 0)
        if (out)
            strbuf_putn(out, buf, (size_t)k);
    close(fd[0]);
    int st;
    if (waitpid(pid, &st, 0) < 0)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int have_tmux(void)
{
    char *argv[] = {"tmux", "-V", NULL};
    return run_cmd(argv, NULL) == 0;
}

/* tmux -L sock -f /dev/null ARGS... (NULL-terminated). */
static int tmux(strbuf *out, ...)
{
    char *argv[24] = {"tmux", "-L", sock, "-f", "/dev/null"};
    int n = 5;
    va_list ap;
    va_start(ap, out);
    for (char *a; n < 23 && (a = va_arg(ap, char *)) != NULL;)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    return run_cmd(argv, out);
}

static void keys(const char *k)
{
    tmux(NULL, "send-keys", "-t", "ui", k, NULL);
}

static void type_text(const char *text)
{
    tmux(NULL, "send-keys", "-t", "ui", "-l", "--", text, NULL);
}

static const char *capture(void)
{
    tmux(&screen_text, "capture-pane", "-p", "-t", "ui", NULL);
    return strbuf_str(&screen_text);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls the screen until it holds every one of the NULL-terminated needles, for up to
 * 10 s (sanitizer builds are slow). Returns 1, or 0 after printing the last screen. */
static int wait_for(const char *needle, ...)
{
    for (int tries = 0; tries < 400; tries++) {
        const char *s = capture();
        va_list ap;
        va_start(ap, needle);
        int all = 1;
        for (const char *n = needle; n; n = va_arg(ap, const char *))
            if (!strstr(s, n))
                all = 0;
        va_end(ap);
        if (all)
            return 1;
        sleep_ms(25);
    }
    fprintf(stderr, "\n  waited in vain for \"%s\"; the screen was:\n%s\n", needle, capture());
    return 0;
}

/* Single-quotes s for sh. */
static void sh_quote(strbuf *sb, const char *s)
{
    strbuf_putc(sb, '\'');
    for (; *s; s++)
        if (*s == '\'')
            strbuf_puts(sb, "'\\''");
        else
            strbuf_putc(sb, *s);
    strbuf_putc(sb, '\'');
}

/* Starts the tutor in a fresh 80x24 session, with `env` (NAME=value words) added; after
 * the tutor exits, the shell prints its status and the terminal's modes, then waits. */
static int start(const char *env)
{
    tmux(NULL, "kill-server", NULL);
    strbuf cmd = STRBUF_INIT;
    /* A state directory that does not exist: no progress, every exercise "to do". */
    strbuf_puts(&cmd, "env LANG=C.UTF-8 LC_ALL=C.UTF-8 XDG_STATE_HOME=/nonexistent-tutor-state "
                      "TUTOR_DOCS=");
    strbuf docs = STRBUF_INIT;
    strbuf_printf(&docs, "%s/docs", srcdir);
    sh_quote(&cmd, strbuf_str(&docs));
    strbuf_printf(&cmd, " %s ", env ? env : "");
    sh_quote(&cmd, bin);
    strbuf_puts(&cmd, "; echo EXIT=$?; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon "
                      "-e echo -e -echo | tr '\\n' ' '; echo MODES; sleep 60");
    char *argv[] = {"tmux", "-L", sock, "-f", "/dev/null", "new-session", "-d",
                    "-s",   "ui", "-x", "80", "-y",        "24",          (char *)strbuf_str(&cmd),
                    NULL};
    /* A server killed a moment ago may still be going away: try again for a while. */
    int rc = -1;
    for (int tries = 0; tries < 40 && rc != 0; tries++) {
        rc = run_cmd(argv, NULL);
        if (rc != 0)
            sleep_ms(50);
    }
    strbuf_free(&cmd);
    strbuf_free(&docs);
    return rc == 0;
}

static void stop(void)
{
    tmux(NULL, "kill-server", NULL);
}

/* Starts the tutor and opens the first topic from the home screen. Returns 1 when its
 * first step shows. */
static int open_first(const char *env)
{
    if (!start(env) || !wait_for("filter:", NULL))
        return 0;
    keys("Enter");
    return wait_for("step 1 / ", NULL);
}

/* The first registered topic's example run, traced, as the tutor will show it. */
static trace *example_trace(const topic *t)
{
    char **words;
    int nwords, json, want_trace;
    char msg[256];
    topic_args args = {0};
    topic_out out = {STRBUF_INIT, STRBUF_INIT, {0}};
    trace *tr = trace_new(0);
    if (!tr || parse_words(t->example, &words, &nwords, msg, sizeof msg) != 0) {
        trace_free(tr);
        return NULL;
    }
    int rc = topic_parse_args(t, nwords, words, &args, &json, &want_trace, msg, sizeof msg);
    if (rc == 0)
        rc = t->run(&args, tr, &out);
    topic_out_free(&out);
    mem_free((void *)args.opts);
    parse_free_words(words);
    if (rc) {
        trace_free(tr);
        return NULL;
    }
    return tr;
}

/* The screen's row that contains needle, copied into row (empty when none). */
static void row_with(const char *screen, const char *needle, char *row, size_t n)
{
    row[0] = '\0';
    const char *at = strstr(screen, needle);
    if (!at)
        return;
    const char *a = at;
    while (a > screen && a[-1] != '\n')
        a--;
    size_t len = strcspn(a, "\n");
    snprintf(row, n, "%.*s", (int)len, a);
}

/* The first `n` bytes of s, cut back to a whole UTF-8 character. */
static void prefix(char *dst, size_t dstlen, const char *s, size_t n)
{
    if (n > strlen(s))
        n = strlen(s);
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    snprintf(dst, dstlen, "%.*s", (int)n, s);
}

/* Characters (not bytes) in UTF-8 s: the columns a row takes on screen. */
static size_t columns(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Row k (0-based) of the screen, copied into row (empty past the end). */
static void line_at(const char *screen, int k, char *row, size_t n)
{
    for (; k > 0 && screen; k--) {
        screen = strchr(screen, '\n');
        if (screen)
            screen++;
    }
    row[0] = '\0';
    if (screen)
        snprintf(row, n, "%.*s", (int)strcspn(screen, "\n"), screen);
}

static int screen_ready(void)
{
    if (!have_tmux()) {
        fprintf(stderr, "\n  tmux is not installed: the tutor's screen tests are skipped\n");
        CU_PASS("skipped: tmux not found");
        return 0;
    }
    if (topic_count == 0) {
        fprintf(stderr, "\n  no topics registered: nothing to open\n");
        CU_PASS("skipped: no topics");
        return 0;
    }
    if (access(bin, X_OK) != 0) {
        CU_FAIL("TUTOR_BIN is not an executable (run through make test)");
        fprintf(stderr, "\n  TUTOR_BIN = %s\n", bin);
        return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------------------------------
 * Screen tests. */

/* Opens the first topic from home; steps forward three times and back once; checks the
 * step counter, the highlighted listing line, the message and the state; then resizes to
 * 100x30 and back, each time checking the screen is redrawn whole; then quits. */
static void test_steps_and_resize(void)
{
    if (!screen_ready())
        return;
    const topic *t = topic_registry[0];
    trace *tr = example_trace(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tr);
    CU_ASSERT_FATAL(trace_len(tr) >= 4);
    CU_ASSERT_FATAL(start(NULL));
    if (!wait_for("filter:", t->id, NULL)) {
        CU_FAIL("the home screen did not show");
        goto out;
    }
    /* Topics with an exercise show its status. */
    for (size_t e = 0; e < exercise_count; e++)
        if (exercise_table[e].topic && strcmp(exercise_table[e].topic, t->id) == 0) {
            char row[512];
            row_with(capture(), t->id, row, sizeof row);
            CU_ASSERT_PTR_NOT_NULL(strstr(row, "exercise: to do"));
            break;
        }
    keys("Enter");
    char want[128];
    snprintf(want, sizeof want, "step 1 / %zu", trace_len(tr));
    if (!wait_for(want, NULL)) {
        CU_FAIL("Enter on home did not open the first topic");
        goto out;
    }
    keys("n");
    keys("Right");
    keys("l");
    keys("p");
    snprintf(want, sizeof want, "step 3 / %zu", trace_len(tr));
    if (!wait_for(want, NULL)) {
        CU_FAIL("three steps forward and one back is not step 3");
        goto out;
    }
    const trace_frame *f = trace_at(tr, 2);
    size_t nl;
    const char *const *listing = trace_listing(tr, &nl);
    CU_ASSERT_FATAL(f->line >= 1 && (size_t)f->line <= nl);
    /* The highlighted row is the one with the arrow: it holds the step's line. */
    char row[512], expect[64];
    const char *scr = capture();
    row_with(scr, "\xe2\x96\xb6 ", row, sizeof row); /* "▶ " */
    char num[16];
    snprintf(num, sizeof num, "%3d ", f->line);
    const char *text = listing[f->line - 1];
    while (*text == ' ')
        text++;
    prefix(expect, sizeof expect, text, 12);
    if (!strstr(row, num) || !strstr(row, expect)) {
        CU_FAIL("the highlighted line is not the step's listing line");
        fprintf(stderr, "\n  want line %d (%s), highlighted row: %s\n", f->line, expect, row);
    }
    /* The message of the step, and its state: a scalar as name = value, or a name. */
    prefix(expect, sizeof expect, f->msg, 30);
    CU_ASSERT_PTR_NOT_NULL(strstr(scr, expect));
    int checked = 0;
    for (size_t i = 0; i <= 2 && !checked; i++) {
        const trace_frame *g = trace_at(tr, 2 - i);
        for (size_t k = 0; k < g->nsnaps && !checked; k++) {
            const trace_snap *sp = &g->snaps[k];
            if (sp->kind == TRACE_SCALAR && trace_latest(tr, 2, sp->name) == sp) {
                snprintf(expect, sizeof expect, "%s = %lld", sp->name, (long long)sp->ints[0]);
                checked = 1;
            }
        }
    }
    if (!checked)
        snprintf(expect, sizeof expect, "%s", f->nsnaps ? f->snaps[0].name : "");
    if (!strstr(scr, expect)) {
        CU_FAIL("the state of step 3 is not on screen");
        fprintf(stderr, "\n  want \"%s\" in:\n%s\n", expect, scr);
    }

    /* Resize: the title's right end moves to the new width, the footer to the new last
     * row, and the same step is shown. */
    tmux(NULL, "resize-window", "-t", "ui", "-x", "100", "-y", "30", NULL);
    snprintf(want, sizeof want, "step 3 / %zu", trace_len(tr));
    int ok = 0;
    for (int tries = 0; tries < 400 && !ok; tries++) {
        scr = capture();
        row_with(scr, want, row, sizeof row);
        char last[512];
        line_at(scr, 29, last, sizeof last);
        ok = columns(row) >= 95 && strstr(last, "q back") && strstr(scr, "Home/End ends");
        if (!ok)
            sleep_ms(25);
    }
    if (!ok) {
        CU_FAIL("the screen was not redrawn at 100x30");
        fprintf(stderr, "\n%s\n", scr);
    }
    /* Below the minimum: a message instead of a garbled screen. */
    tmux(NULL, "resize-window", "-t", "ui", "-x", "60", "-y", "20", NULL);
    CU_ASSERT(wait_for("at least 80x24", NULL));
    tmux(NULL, "resize-window", "-t", "ui", "-x", "80", "-y", "24", NULL);
    ok = 0;
    for (int tries = 0; tries < 400 && !ok; tries++) {
        scr = capture();
        row_with(scr, want, row, sizeof row);
        char last[512];
        line_at(scr, 23, last, sizeof last);
        ok = columns(row) >= 75 && columns(row) <= 80 && strstr(last, "q back") &&
             !strstr(scr, "at least 80x24");
        if (!ok)
            sleep_ms(25);
    }
    if (!ok) {
        CU_FAIL("the screen was not redrawn at 80x24");
        fprintf(stderr, "\n%s\n", scr);
    }
    /* q back to home, q quits: status 0 and the terminal's modes restored. */
    keys("q");
    CU_ASSERT(wait_for("filter:", NULL));
    keys("q");
    if (wait_for("MODES", NULL)) {
        scr = capture();
        CU_ASSERT_PTR_NOT_NULL(strstr(scr, "EXIT=0"));
        CU_ASSERT_PTR_NOT_NULL(strstr(scr, "icanon"));
        CU_ASSERT_PTR_NULL(strstr(scr, "-icanon"));
        CU_ASSERT_PTR_NULL(strstr(scr, "-echo"));
        CU_ASSERT_PTR_NULL(strstr(scr, "filter:")); /* the tutor's screen is gone */
    } else {
        CU_FAIL("quitting did not end the tutor");
    }
out:
    stop();
    trace_free(tr);
}

/* A bad value in the input editor: the parser's error inline, the old input kept. */
static void test_bad_edit(void)
{
    if (!screen_ready())
        return;
    const topic *t = topic_registry[0];
    CU_ASSERT_FATAL(open_first(NULL));
    /* The example with its first digit replaced by a letter: a value the parser refuses. */
    char bad[512];
    snprintf(bad, sizeof bad, "%s", t->example);
    char *d = strpbrk(bad, "0123456789");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    *d = 'x';
    char **words;
    int nwords, json, want_trace;
    char msg[256] = "";
    topic_args args = {0};
    topic_out out = {STRBUF_INIT, STRBUF_INIT, {0}};
    CU_ASSERT_EQUAL_FATAL(parse_words(bad, &words, &nwords, msg, sizeof msg), 0);
    int rc = topic_parse_args(t, nwords, words, &args, &json, &want_trace, msg, sizeof msg);
    if (rc == 0) {
        rc = t->run(&args, NULL, &out);
        snprintf(msg, sizeof msg, "%s", out.err);
    }
    CU_ASSERT_NOT_EQUAL(rc, 0);
    topic_out_free(&out);
    mem_free((void *)args.opts);
    parse_free_words(words);

    keys("e");
    CU_ASSERT_FATAL(wait_for("Edit the input", NULL));
    keys("C-u");
    type_text(bad);
    keys("Enter");
    char expect[64];
    prefix(expect, sizeof expect, msg, 40);
    char old[64];
    prefix(old, sizeof old, t->example, 40);
    if (!wait_for(expect, "current input:", NULL))
        CU_FAIL("the parser's error is not shown inline");
    char row[512];
    row_with(capture(), "current input:", row, sizeof row);
    CU_ASSERT_PTR_NOT_NULL(strstr(row, old));
    keys("Escape");
    /* The editor is gone and the input line still holds the old input. */
    int ok = 0;
    for (int tries = 0; tries < 400 && !ok; tries++) {
        const char *scr = capture();
        row_with(scr, "input: ", row, sizeof row);
        ok = !strstr(scr, "Edit the input") && strstr(row, old) && strstr(scr, "step 1 / ");
        if (!ok)
            sleep_ms(25);
    }
    CU_ASSERT(ok);
    stop();
}

/* Notes open (the first topic's docs file, or the clear message when it has none). */
static void test_notes(void)
{
    if (!screen_ready())
        return;
    const topic *t = topic_registry[0];
    CU_ASSERT_FATAL(open_first(NULL));
    keys("t");
    char title[96];
    snprintf(title, sizeof title, "Notes: %s", t->id);
    CU_ASSERT_FATAL(wait_for(title, NULL));
    strbuf path = STRBUF_INIT, text = STRBUF_INIT;
    char docs[4200];
    snprintf(docs, sizeof docs, "%s/docs", srcdir);
    setenv("TUTOR_DOCS", docs, 1);
    if (notes_find(t, &path) == 0 && notes_read(strbuf_str(&path), &text) == 0) {
        /* The first heading of the file shows, without its #. */
        const char *h = strstr(strbuf_str(&text), "# ");
        CU_ASSERT_PTR_NOT_NULL_FATAL(h);
        char want[48];
        h += 2;
        prefix(want, sizeof want, h, strcspn(h, "\n") < 30 ? strcspn(h, "\n") : 30);
        CU_ASSERT(wait_for(want, NULL));
    } else {
        CU_ASSERT(wait_for("No notes to show", NULL));
    }
    keys("q");
    CU_ASSERT(wait_for("step 1 / ", NULL));
    strbuf_free(&path);
    strbuf_free(&text);
    stop();
}

/* Ctrl-C ends the tutor with 128 + SIGINT and restores the terminal. */
static void test_ctrl_c(void)
{
    if (!screen_ready())
        return;
    CU_ASSERT_FATAL(open_first(NULL));
    keys("C-c");
    if (wait_for("MODES", NULL)) {
        const char *scr = capture();
        CU_ASSERT_PTR_NOT_NULL(strstr(scr, "EXIT=130"));
        CU_ASSERT_PTR_NULL(strstr(scr, "-icanon"));
        CU_ASSERT_PTR_NULL(strstr(scr, "-echo"));
    } else {
        CU_FAIL("Ctrl-C did not end the tutor");
    }
    stop();
}

/* A crash (here a SIGSEGV sent from outside) still leaves the terminal as it was: the
 * handler restores the modes and leaves curses' screen before the process dies. */
static void test_crash_restores(void)
{
    if (!screen_ready())
        return;
    CU_ASSERT_FATAL(open_first(NULL));
    strbuf out = STRBUF_INIT;
    tmux(&out, "display-message", "-p", "-t", "ui", "#{pane_pid}", NULL);
    long shell = strtol(strbuf_str(&out), NULL, 10);
    char path[96];
    snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", shell, shell);
    FILE *f = fopen(path, "r");
    long child = 0;
    if (f) {
        if (fscanf(f, "%ld", &child) != 1)
            child = 0;
        fclose(f);
    }
    strbuf_free(&out);
    if (child <= 0) {
        fprintf(stderr, "\n  cannot find the tutor's pid (%s): crash test skipped\n", path);
        stop();
        return;
    }
    kill((pid_t)child, SIGSEGV);
    if (wait_for("MODES", NULL)) {
        const char *scr = capture();
        CU_ASSERT_PTR_NOT_NULL(strstr(scr, "EXIT=139"));
        CU_ASSERT_PTR_NULL(strstr(scr, "-icanon"));
        CU_ASSERT_PTR_NULL(strstr(scr, "-echo"));
        CU_ASSERT_PTR_NULL(strstr(scr, "step 1 / ")); /* curses' screen was left */
    } else {
        CU_FAIL("the tutor did not die of the SIGSEGV");
    }
    stop();
}

/* Colour escapes appear normally and never with NO_COLOR set. */
static int screen_has_colour(void)
{
    tmux(&screen_text, "capture-pane", "-p", "-e", "-t", "ui", NULL);
    const char *s = strbuf_str(&screen_text);
    /* SGR parameters 30-37/40-47 (and 38/48 for 256 colours) inside ESC [ ... m. */
    for (const char *p = strstr(s, "\x1b["); p; p = strstr(p + 1, "\x1b[")) {
        const char *q = p + 2;
        while (*q && *q != 'm') {
            long v = strtol(q, (char **)&q, 10);
            if ((v >= 30 && v <= 38) || (v >= 40 && v <= 48) || (v >= 90 && v <= 107))
                return 1;
            if (*q == ';')
                q++;
            else if (*q != 'm')
                break;
        }
    }
    return 0;
}

static void test_no_color(void)
{
    if (!screen_ready())
        return;
    CU_ASSERT_FATAL(open_first(NULL));
    CU_ASSERT(screen_has_colour());
    stop();
    CU_ASSERT_FATAL(open_first("NO_COLOR=1"));
    CU_ASSERT(!screen_has_colour());
    stop();
}

/* Growing back from below the minimum redraws the home screen whole: its title and filter
 * rows, drawn before any clip of its own, were clipped to the small size once. */
/* Starts the tutor (env as for start), shrinks the window below the minimum and grows it
 * back: the refusal must show, then the whole home screen. */
static void shrink_and_grow(const char *env)
{
    CU_ASSERT_FATAL(start(env));
    CU_ASSERT_FATAL(wait_for("filter:", NULL));
    tmux(NULL, "resize-window", "-t", "ui", "-x", "40", "-y", "24", NULL);
    CU_ASSERT(wait_for("at least 80x24", NULL));
    tmux(NULL, "resize-window", "-t", "ui", "-x", "100", "-y", "30", NULL);
    CU_ASSERT(
        wait_for("step through algorithms and sequence models", "(none: / starts one)", NULL));
    stop();
}

static void test_grow_redraws_home(void)
{
    if (screen_ready())
        shrink_and_grow(NULL);
}

/* A resize whose signal curses never handles (here SIGWINCH stays blocked from the start,
 * set by a python3 stand-in that then execs the tutor; in real runs the signal can land
 * just before curses blocks in its read) is still picked up: a wait for a key looks at the
 * terminal's size now and then. */
static void test_resize_without_signal(void)
{
    if (!screen_ready())
        return;
    if (system("python3 -c 'import signal; signal.pthread_sigmask' >/dev/null 2>&1") != 0) {
        fprintf(stderr, "\n  python3 is not installed: the blocked-resize test is skipped\n");
        CU_PASS("skipped: no python3");
        return;
    }
    shrink_and_grow("python3 -c 'import os, signal, sys; "
                    "signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGWINCH]); "
                    "os.execv(sys.argv[1], sys.argv[1:])'");
}

/* A terminal that cannot move the cursor is refused with a reason, not scrolled into a
 * mess; the terminal's modes are left as they were. */
static void test_dumb_terminal(void)
{
    if (!screen_ready())
        return;
    CU_ASSERT_FATAL(start("TERM=dumb"));
    if (wait_for("MODES", NULL)) {
        const char *scr = capture();
        CU_ASSERT_PTR_NOT_NULL(strstr(scr, "cannot move the cursor"));
        CU_ASSERT_PTR_NOT_NULL(strstr(scr, "EXIT=1"));
        CU_ASSERT_PTR_NULL(strstr(scr, "filter:"));
        CU_ASSERT_PTR_NULL(strstr(scr, "-icanon"));
    } else {
        CU_FAIL("the tutor did not exit on TERM=dumb");
    }
    stop();
}

/* Outside UTF-8 the home footer and the help spell the arrow keys in ASCII: no UTF-8 bytes
 * drawn as question marks. */
static void test_ascii_keys(void)
{
    if (!screen_ready())
        return;
    CU_ASSERT_FATAL(start("LANG=C LC_ALL=C"));
    CU_ASSERT_FATAL(wait_for("filter:", "Up/Down move", NULL));
    CU_ASSERT_PTR_NULL(strstr(capture(), "??"));
    keys("?");
    CU_ASSERT(wait_for("Keys (any key closes)", "Up Down j k", NULL));
    CU_ASSERT_PTR_NULL(strstr(capture(), "??"));
    keys("Space");
    keys("Enter");
    CU_ASSERT_FATAL(wait_for("step 1 / ", NULL));
    keys("?");
    CU_ASSERT(wait_for("Keys (any key closes)", "Right l n", NULL));
    CU_ASSERT_PTR_NULL(strstr(capture(), "??"));
    stop();
}

/* Outside UTF-8 the notes spell their UTF-8 in ASCII ("Sigma_{j <= k}" for "Σ_{j ≤ k}"),
 * where each byte used to show as a question mark. */
static void test_ascii_notes(void)
{
    if (!screen_ready())
        return;
    CU_ASSERT_FATAL(start("LANG=C LC_ALL=C"));
    CU_ASSERT_FATAL(wait_for("filter:", NULL));
    keys("/");
    type_text("ssm");
    keys("Enter");
    CU_ASSERT_FATAL(wait_for("step 1 / ", NULL));
    keys("t");
    CU_ASSERT(wait_for("Notes: ssm", "Sigma_{j <= k} K_j", NULL));
    CU_ASSERT_PTR_NULL(strstr(capture(), "??"));
    stop();
}

/* An input file that is the terminal itself (or a pipe) is refused in the editor: reading
 * it would block the tutor until Ctrl-C, with curses owning the terminal. */
static void test_input_from_terminal(void)
{
    if (!screen_ready())
        return;
    if (!topic_find("hippo")) {
        fprintf(stderr, "\n  no hippo topic (it takes --signal FILE): not tested\n");
        return;
    }
    CU_ASSERT_FATAL(start(NULL));
    CU_ASSERT_FATAL(wait_for("filter:", NULL));
    keys("/");
    type_text("hippo");
    keys("Enter");
    CU_ASSERT_FATAL(wait_for("hippo", "step 1 / ", NULL));
    keys("e");
    CU_ASSERT_FATAL(wait_for("Edit the input", NULL));
    keys("C-u");
    type_text("--signal /dev/stdin");
    keys("Enter");
    CU_ASSERT(wait_for("not a regular file", NULL));
    keys("Escape");
    keys("n");
    CU_ASSERT(wait_for("step 2 / ", NULL));
    stop();
}

/* Predict mode asks the first quiz, grades the right answer, and scores it. */
static void test_predict(void)
{
    if (!screen_ready())
        return;
    const topic *t = topic_registry[0];
    trace *tr = example_trace(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tr);
    size_t q = 1;
    while (q < trace_len(tr) && !trace_at(tr, q)->quiz)
        q++;
    if (q >= trace_len(tr)) {
        fprintf(stderr, "\n  %s's example has no quiz after step 1: predict not tested\n", t->id);
        trace_free(tr);
        return;
    }
    const trace_frame *f = trace_at(tr, q);
    CU_ASSERT_FATAL(open_first(NULL));
    keys("k");
    CU_ASSERT_FATAL(wait_for("predict 0/0", NULL));
    for (size_t i = 0; i < q; i++)
        keys("n");
    char want[64];
    prefix(want, sizeof want, f->quiz, 30);
    if (wait_for("Predict", want, NULL)) {
        /* The state of the quiz step is hidden: its message is not shown yet. */
        char msg[64];
        prefix(msg, sizeof msg, f->msg, 30);
        CU_ASSERT_PTR_NULL(strstr(capture(), msg));
        char ans[32];
        predict_answer_str(f->quiz_answer, ans, sizeof ans);
        type_text(ans);
        keys("Enter");
        CU_ASSERT(wait_for("right", "why:", msg, NULL));
        keys("Space");
        snprintf(want, sizeof want, "step %zu / ", q + 1);
        CU_ASSERT(wait_for(want, "predict 1/1", NULL));
    } else {
        CU_FAIL("predict mode did not ask the trace's question");
    }
    stop();
    trace_free(tr);
}

/* The screen's row `row` (0-based; negative counts from the bottom), without trailing
 * blanks, into buf. */
static void screen_row(int row, char *buf, size_t n)
{
    const char *scr = capture();
    int rows = 0;
    for (const char *c = scr; *c; c++)
        rows += *c == '\n';
    if (row < 0)
        row += rows;
    const char *line = scr;
    for (int r = 0; r < row && line; r++) {
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    buf[0] = '\0';
    if (!line)
        return;
    size_t len = strcspn(line, "\n");
    while (len && line[len - 1] == ' ')
        len--;
    snprintf(buf, n, "%.*s", (int)len, line);
}

/* 1 when the footer row (`row` from the bottom) reads exactly `want`. */
static int footer_is(int row, const char *want)
{
    char got[512];
    for (int tries = 0; tries < 200; tries++) {
        screen_row(row, got, sizeof got);
        if (strcmp(got + strspn(got, " "), want) == 0)
            return 1;
        sleep_ms(25);
    }
    fprintf(stderr, "\n  footer: expected \"%s\"\n          got      \"%s\"\n", want, got);
    return 0;
}

/* The line holding the selection arrow names topic id. */
static int selected_is(const char *id)
{
    for (int tries = 0; tries < 200; tries++) {
        const char *scr = capture();
        const char *a = strstr(scr, "\xe2\x96\xb6 ");
        if (a && strncmp(a + 4, id, strlen(id)) == 0 && a[4 + strlen(id)] == ' ')
            return 1;
        sleep_ms(25);
    }
    fprintf(stderr, "\n  expected the selection on %s; the screen was:\n%s\n", id, capture());
    return 0;
}

/* Waits until the screen differs from before (a copy of an earlier capture). */
static int changed_from(const char *before)
{
    for (int tries = 0; tries < 200; tries++) {
        if (strcmp(capture(), before) != 0)
            return 1;
        sleep_ms(25);
    }
    return 0;
}

/* Every key the home and topic screens' footers advertise does what its label says. The
 * footers are compared whole, so a key added to one without a line here fails this test;
 * each key is then pressed and its effect looked for on the screen. */
static void test_advertised_keys(void)
{
    if (!screen_ready())
        return;
    if (topic_count < 2 || !topic_find("heap")) {
        fprintf(stderr, "\n  fewer than two topics or no heap: keys not tested\n");
        return;
    }
    char work[] = "/tmp/tutor-ui-keys-XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(work) != NULL);
    char env[128];
    snprintf(env, sizeof env, "TUTOR_EXERCISE_DIR=%s", work);
    const char *first = topic_registry[0]->id, *second = topic_registry[1]->id;
    char want[128];

    /* Home. */
    CU_ASSERT_FATAL(start(env));
    CU_ASSERT_FATAL(wait_for("filter:", NULL));
    CU_ASSERT(footer_is(-1, "↑/↓ move  Enter open  / filter  t notes  x exercise  ? help  q quit"));
    keys("Down");
    CU_ASSERT(selected_is(second));
    keys("Up");
    CU_ASSERT(selected_is(first));
    keys("j");
    CU_ASSERT(selected_is(second));
    keys("k");
    CU_ASSERT(selected_is(first));
    keys("/");
    CU_ASSERT(footer_is(-1, "type filter  ↑/↓ move  Enter open  Esc clear"));
    type_text("heap");
    CU_ASSERT(selected_is("heap"));
    CU_ASSERT(wait_for(" /heap", NULL));
    keys("Enter"); /* opens heap; the filter stays for the way back */
    CU_ASSERT(wait_for("heap", "step 1 / ", NULL));
    keys("q");
    CU_ASSERT(wait_for("filter: heap", NULL));
    keys("/"); /* a new filter, not heap's continued */
    type_text("knap");
    CU_ASSERT(wait_for(" /knap", NULL));
    CU_ASSERT(selected_is("knapsack"));
    keys("Escape");
    CU_ASSERT(wait_for("(none: / starts one)", NULL));
    CU_ASSERT(selected_is(first));
    type_text("q"); /* outside the filter q quits: proven last; here t, x, ? first */
    CU_ASSERT(wait_for("EXIT=0", NULL));
    stop();

    CU_ASSERT_FATAL(start(env));
    CU_ASSERT_FATAL(wait_for("filter:", NULL));
    keys("t");
    snprintf(want, sizeof want, "Notes: %s", first);
    CU_ASSERT(wait_for(want, NULL));
    keys("q");
    CU_ASSERT(wait_for("filter:", NULL));
    keys("x");
    snprintf(want, sizeof want, "Exercise: %s", first);
    CU_ASSERT(wait_for(want, NULL));
    keys("q"); /* cancels the build, or leaves the report */
    keys("q");
    CU_ASSERT(wait_for("filter:", NULL));
    keys("?");
    CU_ASSERT(wait_for("Keys (any key closes)", "Home screen", NULL));
    keys("Space");
    CU_ASSERT(wait_for("filter:", NULL));
    keys("Enter");
    CU_ASSERT_FATAL(wait_for("step 1 / ", NULL));

    /* The topic screen. */
    CU_ASSERT(footer_is(-2, "→/l/n next  ←/h/p prev  Home/End ends  g go to  "
                            "space play  +/- speed  b break"));
    CU_ASSERT(footer_is(-1, "e edit input  r random  k predict  t notes  x exercise  v view  "
                            "? help  q back"));
    static const char *const next[] = {"Right", "l", "n"}, *const prev[] = {"Left", "h", "p"};
    for (int k = 0; k < 3; k++) {
        keys(next[k]);
        CU_ASSERT(wait_for("step 2 / ", NULL));
        keys(prev[k]);
        CU_ASSERT(wait_for("step 1 / ", NULL));
    }
    keys("End");
    /* End leaves step 1 (waited for, as every key's effect is). */
    for (int tries = 0; tries < 400 && strstr(capture(), "step 1 / "); tries++)
        sleep_ms(25);
    CU_ASSERT(!strstr(capture(), "step 1 / "));
    keys("Home");
    CU_ASSERT(wait_for("step 1 / ", NULL));
    keys("g");
    CU_ASSERT(wait_for("Go to step", NULL));
    type_text("2");
    keys("Enter");
    CU_ASSERT(wait_for("step 2 / ", NULL));
    keys("Home");
    keys("Space");
    CU_ASSERT(wait_for("step 3 / ", NULL)); /* playing */
    keys("Space");
    keys("+");
    CU_ASSERT(wait_for("speed: a step every", NULL));
    keys("Home");
    keys("-");
    CU_ASSERT(wait_for("speed: a step every", NULL));
    keys("b");
    CU_ASSERT(wait_for("breakpoint on line", NULL));
    keys("b");
    CU_ASSERT(wait_for("breakpoint off line", NULL));
    keys("e");
    CU_ASSERT(wait_for("Edit the input", NULL));
    keys("Escape");
    keys("r");
    CU_ASSERT(wait_for("random input from seed 1", NULL));
    keys("k");
    CU_ASSERT(wait_for("predict mode on", NULL));
    keys("k");
    CU_ASSERT(wait_for("predict mode off", NULL));
    keys("t");
    snprintf(want, sizeof want, "Notes: %s", first);
    CU_ASSERT(
        wait_for(want, "j/k or arrows scroll  PgUp/PgDn/space page  Home/End  q back   1-", NULL));
    keys("j");
    CU_ASSERT(wait_for("q back   2-", NULL));
    keys("k");
    CU_ASSERT(wait_for("q back   1-", NULL));
    keys("Space");
    CU_ASSERT(wait_for("q back   ", NULL));
    CU_ASSERT(!strstr(capture(), "q back   1-") || !strstr(capture(), "q back   2-"));
    for (int tries = 0; tries < 200 && strstr(capture(), "q back   1-"); tries++)
        sleep_ms(25);
    CU_ASSERT(!strstr(capture(), "q back   1-")); /* a page down */
    keys("Home");
    CU_ASSERT(wait_for("q back   1-", NULL));
    keys("q");
    CU_ASSERT(wait_for("step 1 / ", NULL));
    keys("x");
    snprintf(want, sizeof want, "Exercise: %s", first);
    CU_ASSERT(wait_for(want, NULL));
    keys("q"); /* cancels the build */
    CU_ASSERT(wait_for("r run again  q back", NULL));
    keys("r");
    CU_ASSERT(wait_for("Building and running", NULL));
    keys("q");
    CU_ASSERT(wait_for("r run again  q back", NULL));
    keys("q");
    CU_ASSERT(wait_for("step 1 / ", NULL));
    keys("End");
    CU_ASSERT(!strstr(capture(), "Exercise:"));
    {
        strbuf before = STRBUF_INIT;
        strbuf_puts(&before, capture());
        keys("v");
        CU_ASSERT(changed_from(strbuf_str(&before)));
        strbuf_free(&before);
    }
    keys("c"); /* a cell cursor where there is a grid, else a word on why not */
    for (int tries = 0; tries < 400; tries++) {
        const char *scr = capture();
        if (strstr(scr, "move the cell cursor") || strstr(scr, "a cell cursor needs"))
            break;
        sleep_ms(25);
    }
    CU_ASSERT(strstr(capture(), "move the cell cursor") ||
              strstr(capture(), "a cell cursor needs"));
    if (strstr(capture(), "move the cell cursor"))
        keys("c");
    keys("?");
    CU_ASSERT(wait_for("Keys (any key closes)", "Right l n", NULL));
    keys("Space");
    CU_ASSERT(wait_for("e edit input", NULL));
    keys("q");
    CU_ASSERT(wait_for("filter:", NULL));
    keys("q");
    CU_ASSERT(wait_for("EXIT=0", NULL));
    stop();
    th_remove_tree(work);
}

/* A model topic's token stream is coloured by its "modality" snapshot: on fusion's second
 * step the stream's row of values carries attributes after its first (text) value, where
 * an uncoloured row has none. */
static void test_modality_colours(void)
{
    if (!screen_ready())
        return;
    if (!topic_find("fusion")) {
        fprintf(stderr, "\n  no fusion topic: modality colours not tested\n");
        return;
    }
    CU_ASSERT_FATAL(start(NULL));
    CU_ASSERT_FATAL(wait_for("filter:", NULL));
    keys("/");
    type_text("fusion");
    keys("Enter");
    CU_ASSERT_FATAL(wait_for("step 1 / ", NULL));
    keys("n");
    CU_ASSERT_FATAL(wait_for("step 2 / ", "stream [", "modality [", NULL));
    /* The row below the label, found in the plain capture, then read with attributes. */
    const char *plain = capture();
    const char *label = strstr(plain, "stream [");
    int line = 1;
    for (const char *q = plain; label && q < label; q++)
        line += *q == '\n';
    tmux(&screen_text, "capture-pane", "-p", "-e", "-t", "ui", NULL);
    const char *row = strbuf_str(&screen_text);
    for (int l = 0; label && row && l < line; l++) {
        row = strchr(row, '\n');
        row = row ? row + 1 : NULL;
    }
    int coloured = 0;
    if (label && row) {
        const char *end = strchr(row, '\n');
        const char *bar = strstr(row, "\xe2\x94\x82"); /* the pane's left border */
        const char *p = bar && (!end || bar < end) ? bar + 3 : row;
        /* Past the first value (a text token: digits outside escape sequences)... */
        int in_esc = 0, seen_digit = 0;
        for (; p < end; p++) {
            if (*p == '\x1b')
                in_esc = 1;
            else if (in_esc && *p == 'm')
                in_esc = 0;
            else if (!in_esc && *p >= '0' && *p <= '9')
                seen_digit = 1;
            else if (!in_esc && seen_digit && *p == ' ')
                break;
        }
        /* ... an attribute set for a later (marker or image) token. */
        for (; p < end; p++)
            coloured |= *p == '\x1b' && strncmp(p, "\x1b[39m", 5) != 0 &&
                        strncmp(p, "\x1b[49m", 5) != 0 && strncmp(p, "\x1b[0m", 4) != 0;
    }
    CU_ASSERT(coloured);
    stop();
}

/* Without a terminal, `tutor` prints the batch usage and exits 0. */
static void test_no_tty(void)
{
    if (access(bin, X_OK) != 0) {
        CU_FAIL("TUTOR_BIN is not an executable (run through make test)");
        return;
    }
    strbuf out = STRBUF_INIT;
    char *argv[] = {bin, NULL};
    CU_ASSERT_EQUAL(run_cmd(argv, &out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "tutor run"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "tutor list"));
    strbuf_free(&out);
}

/* ---------------------------------------------------------------------------------------
 * In-process tests of the pure parts. */

static const char sample_md[] =
    "# Maximum gap\n"
    "\n"
    "The idea is **simple**: put the numbers in `buckets` and look *between*\n"
    "neighbouring buckets, never inside one, in 2 * n steps. See "
    "[LeetCode](https://leetcode.com/problems/x).\n"
    "\n"
    "## Pitfalls\n"
    "\n"
    "- a long list item that has to wrap because it is much longer than the width we give\n"
    "  and continues here\n"
    "1. numbered\n"
    "\n"
    "```\n"
    "for x in nums:     # this code line is long and must not be wrapped by the renderer\n"
    "```\n"
    "> a quote\n"
    "---\n";

static void test_markdown(void)
{
    notes_doc md = {0};
    CU_ASSERT_EQUAL_FATAL(notes_render(sample_md, 40, &md), 0);
    int heading = 0, code = 0, bullet = 0, cont = 0;
    for (size_t k = 0; k < md.n; k++) {
        const notes_line *l = &md.lines[k];
        CU_ASSERT_PTR_NULL(strstr(l->text, "**"));
        if (l->style != TTY_CODE && l->style != TTY_DIM) {
            if (l->indent + (int)strlen(l->text) > 40) {
                CU_FAIL("a wrapped line is wider than the width");
                fprintf(stderr, "\n  [%s]\n", l->text);
            }
            CU_ASSERT_PTR_NULL(strchr(l->text, '`'));
        }
        if (l->style == TTY_HEADING && strcmp(l->text, "Maximum gap") == 0)
            heading++;
        if (l->style == TTY_CODE && strstr(l->text, "must not be wrapped by the renderer"))
            code++;
        if (strncmp(l->text, "* a long list", 13) == 0)
            bullet++;
        if (bullet && l->indent == 4 && strstr(l->text, "continues here"))
            cont++;
    }
    CU_ASSERT_EQUAL(heading, 1);
    CU_ASSERT_EQUAL(code, 1);
    CU_ASSERT_EQUAL(bullet, 1);
    CU_ASSERT_EQUAL(cont, 1);
    /* Links keep their text and show the address. */
    strbuf all = STRBUF_INIT;
    for (size_t k = 0; k < md.n; k++)
        strbuf_printf(&all, "%s ", md.lines[k].text);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&all), "LeetCode (https://leetcode.com/problems/x)"));
    CU_ASSERT_PTR_NULL(strstr(strbuf_str(&all), "]("));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&all), "look between"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&all), "2 * n"));
    strbuf_free(&all);
    notes_free(&md);
    CU_ASSERT_EQUAL(md.n, 0);
}

/* A paragraph's or list item's markers may span source lines: they are stripped from the
 * gathered text, not line by line (a title in *...* over two lines kept its stars). */
static void test_markdown_across_lines(void)
{
    static const char src[] = "A paragraph with *an emphasis that\n"
                              "spans two lines* and a [link that\n"
                              "spans](http://x) too.\n"
                              "\n"
                              "- an item *whose emphasis\n"
                              "  ends here* and `code that\n"
                              "  wraps`\n";
    notes_doc md = {0};
    CU_ASSERT_EQUAL_FATAL(notes_render(src, 200, &md), 0);
    strbuf all = STRBUF_INIT;
    for (size_t k = 0; k < md.n; k++)
        strbuf_printf(&all, "%s|", md.lines[k].text);
    const char *a = strbuf_str(&all);
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "A paragraph with an emphasis that spans two lines and a "
                                     "link that spans (http://x) too.|"));
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "an item whose emphasis ends here and code that wraps|"));
    /* (The item's bullet may itself be a '*' outside UTF-8.) */
    CU_ASSERT_PTR_NULL(strpbrk(a, "`[]"));
    CU_ASSERT_PTR_NULL(strstr(a, "*an"));
    CU_ASSERT_PTR_NULL(strstr(a, "*whose"));
    CU_ASSERT_PTR_NULL(strstr(a, "lines*"));
    CU_ASSERT_PTR_NULL(strstr(a, "here*"));
    strbuf_free(&all);
    notes_free(&md);
}

/* An indented code block loses the four spaces that mark it, not its own indentation. */
static void test_markdown_indented_code(void)
{
    notes_doc md = {0};
    CU_ASSERT_EQUAL_FATAL(notes_render("Text.\n\n    first(x)\n      = second\n", 60, &md), 0);
    int seen = 0;
    for (size_t k = 0; k < md.n; k++) {
        if (md.lines[k].style != TTY_CODE)
            continue;
        CU_ASSERT_STRING_EQUAL(md.lines[k].text, seen ? "  = second" : "first(x)");
        seen++;
    }
    CU_ASSERT_EQUAL(seen, 2);
    notes_free(&md);
}

/* A table that fits is shown as written; a wider one, which the screen would cut, becomes
 * one item per row with "header: cell" lines, every line within the width. */
static void test_markdown_tables(void)
{
    static const char narrow[] = "| a | b |\n|---|---|\n| 1 | 2 |\nafter\n";
    notes_doc md = {0};
    CU_ASSERT_EQUAL_FATAL(notes_render(narrow, 40, &md), 0);
    CU_ASSERT_EQUAL_FATAL(md.n, 4);
    CU_ASSERT_STRING_EQUAL(md.lines[0].text, "| a | b |");
    CU_ASSERT_STRING_EQUAL(md.lines[2].text, "| 1 | 2 |");
    CU_ASSERT_STRING_EQUAL(md.lines[3].text, "after");
    static const char wide[] =
        "| op | what it does | returns |\n"
        "|---|:---:|---|\n"
        "| `push x` | append x and sift it up toward the root | nothing at all |\n"
        "| `pop` | the root leaves; the last item fills the hole and sifts down | the old "
        "root |\n"
        "text\n";
    CU_ASSERT_EQUAL_FATAL(notes_render(wide, 40, &md), 0);
    strbuf all = STRBUF_INIT;
    for (size_t k = 0; k < md.n; k++) {
        CU_ASSERT(md.lines[k].indent + tty_width(md.lines[k].text) <= 40);
        strbuf_printf(&all, "%d:%s|", md.lines[k].indent, md.lines[k].text);
    }
    const char *a = strbuf_str(&all);
    char bullet_push[32], bullet_pop[32];
    snprintf(bullet_push, sizeof bullet_push, "2:%s push x|", tty_g->bullet);
    snprintf(bullet_pop, sizeof bullet_pop, "2:%s pop|", tty_g->bullet);
    CU_ASSERT_PTR_NOT_NULL(strstr(a, bullet_push));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(a, "|4:what it does: append x and sift it|6:up toward the root|"));
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "|4:returns: nothing at all|"));
    CU_ASSERT_PTR_NOT_NULL(strstr(a, bullet_pop));
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "|4:returns: the old root|0:text|"));
    CU_ASSERT_PTR_NULL(strstr(a, "---"));
    CU_ASSERT_PTR_NULL(strchr(a, '`'));
    if (!strstr(a, "|6:up toward the root|"))
        fprintf(stderr, "\n  [%s]\n", a);
    strbuf_free(&all);
    notes_free(&md);
}

/* The ASCII spelling outside UTF-8, by width: names get a space before a letter or digit,
 * unknown characters one '?', malformed UTF-8 one '?' per byte. */
static void test_ascii_spelling(void)
{
    tty_set_ascii_text(1);
    CU_ASSERT_EQUAL(tty_width("exp(\xce\x94 A)"), 12); /* exp(Delta A) */
    CU_ASSERT_EQUAL(tty_width("\xce\x94t"), 7);        /* Delta t */
    CU_ASSERT_EQUAL(tty_width("a \xe2\x89\xa4 b"), 6); /* a <= b */
    CU_ASSERT_EQUAL(tty_width("x\xc2\xb2"), 3);        /* x^2 */
    CU_ASSERT_EQUAL(tty_width("\xe2\x98\x83"), 1);     /* a snowman: no spelling */
    CU_ASSERT_EQUAL(tty_width("\xf8\x80\x80"), 3);     /* not UTF-8: a ? per byte */
    CU_ASSERT_EQUAL(tty_width("\xe0\x80\x80"), 3);     /* overlong */
    CU_ASSERT_EQUAL(tty_width("\xed\xa0\x80"), 3);     /* a surrogate */
    CU_ASSERT_EQUAL(tty_width("\xce"), 1);             /* cut short at the end */
    int cw = 0;
    CU_ASSERT_EQUAL(tty_char("\xce\xbb", &cw), 2); /* lambda: 2 bytes, 6 columns */
    CU_ASSERT_EQUAL(cw, 6);
    /* tty_fit never splits a character: "Delta" does not fit in 3 columns. */
    CU_ASSERT_EQUAL(tty_fit("a\xce\x94", 3), 1);
    tty_set_ascii_text(0);
}

static int render_body(void *ctx)
{
    notes_doc md = {0};
    int rc = notes_render((const char *)ctx, 30, &md);
    notes_free(&md);
    return rc;
}

static void test_markdown_alloc(void)
{
    CU_ASSERT(th_alloc_sweep(render_body, (void *)sample_md, 0) > 0);
}

/* Found writing fuzz/fuzz_notes.c (and timed with it): every emphasis or link opener
 * searched to the end of the paragraph for its closer, so a paragraph of openers without
 * closers was quadratic (90 kB of "*a " took over a minute, a megabyte would have taken
 * hours). Each run below is linear now and renders in milliseconds; 5 s leaves room for a
 * sanitizer build on a busy machine while the quadratic version needs 14 to 25 s for
 * each. The openers stay as written. */
static void test_markdown_many_openers(void)
{
    static const char *const unit[] = {"*a ", "[", "[a]("};
    static const size_t count[] = {100000, 1000000, 500000};
    for (int k = 0; k < 3; k++) {
        strbuf src = STRBUF_INIT;
        for (size_t i = 0; i < count[k]; i++)
            strbuf_puts(&src, unit[k]);
        CU_ASSERT_FATAL(!src.failed);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        notes_doc md = {0};
        CU_ASSERT_EQUAL(notes_render(strbuf_str(&src), 80, &md), 0);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        if (secs > 5) {
            CU_FAIL("rendering a paragraph of openers is not linear");
            fprintf(stderr, "\n  %zu x '%s' took %.1f s\n", count[k], unit[k], secs);
        }
        size_t opener = 0;
        for (size_t i = 0; i < md.n; i++)
            for (const char *c = md.lines[i].text; *c; c++)
                opener += *c == unit[k][0];
        CU_ASSERT_EQUAL(opener, count[k]);
        notes_free(&md);
        strbuf_free(&src);
    }
}

static void test_notes_find(void)
{
    static const topic fake = {.id = "no_such_topic_xyz"};
    strbuf path = STRBUF_INIT;
    setenv("TUTOR_DOCS", "/nonexistent-dir", 1);
    CU_ASSERT_EQUAL(notes_find(&fake, &path), TUTOR_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&path), "no_such_topic_xyz.md"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&path), "/nonexistent-dir"));
    /* $TUTOR_DOCS comes first. */
    char dir[] = "/tmp/tutor-ui-notes-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char file[64];
    snprintf(file, sizeof file, "%s/no_such_topic_xyz.md", dir);
    FILE *f = fopen(file, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("# Hello\n", f);
    fclose(f);
    setenv("TUTOR_DOCS", dir, 1);
    CU_ASSERT_EQUAL(notes_find(&fake, &path), 0);
    CU_ASSERT_STRING_EQUAL(strbuf_str(&path), file);
    strbuf text = STRBUF_INIT;
    CU_ASSERT_EQUAL(notes_read(strbuf_str(&path), &text), 0);
    CU_ASSERT_STRING_EQUAL(strbuf_str(&text), "# Hello\n");
    remove(file);
    rmdir(dir);
    CU_ASSERT_EQUAL(notes_read(file, &text), TUTOR_EIO);
    strbuf_free(&text);
    strbuf_free(&path);
    unsetenv("TUTOR_DOCS");
}

/* gnuplot's dumb plot comes back as text of the asked size; a missing gnuplot is
 * ENOTFOUND, never a crash or output on our terminal. */
static void test_plot_dumb(void)
{
    double v[32];
    for (int k = 0; k < 32; k++)
        v[k] = (k - 16) * (k - 16);
    strbuf out = STRBUF_INIT;
    char *argv[] = {"gnuplot", "--version", NULL};
    if (run_cmd(argv, NULL) == 0) {
        CU_ASSERT_EQUAL(textplot_render(v, 32, 40, 10, &out), 0);
        CU_ASSERT(th_count_lines(strbuf_str(&out)) >= 8);
        CU_ASSERT_PTR_NOT_NULL(strchr(strbuf_str(&out), '*'));
        const char *p = strbuf_str(&out);
        size_t longest = 0;
        while (*p) {
            size_t len = strcspn(p, "\n");
            longest = len > longest ? len : longest;
            p += len + (p[len] == '\n');
        }
        CU_ASSERT(longest <= 40);
        CU_ASSERT_PTR_NULL(strchr(strbuf_str(&out), '\f'));
    } else {
        fprintf(stderr, "\n  gnuplot not installed: only the missing case is tested\n");
    }
    setenv("TUTOR_GNUPLOT", "/nonexistent/gnuplot", 1);
    strbuf_clear(&out);
    CU_ASSERT_EQUAL(textplot_render(v, 32, 40, 10, &out), TUTOR_ENOTFOUND);
    CU_ASSERT_EQUAL(out.len, 0);
    unsetenv("TUTOR_GNUPLOT");
    strbuf_free(&out);
}

static void test_predict_grading(void)
{
    int64_t v;
    char err[128];
    CU_ASSERT_EQUAL(predict_parse(" 42 ", &v, err, sizeof err), 0);
    CU_ASSERT_EQUAL(v, 42);
    CU_ASSERT_EQUAL(predict_parse("-7", &v, err, sizeof err), 0);
    CU_ASSERT_EQUAL(v, -7);
    CU_ASSERT_EQUAL(predict_parse("Yes", &v, err, sizeof err), 0);
    CU_ASSERT_EQUAL(v, 1);
    CU_ASSERT_EQUAL(predict_parse("n", &v, err, sizeof err), 0);
    CU_ASSERT_EQUAL(v, 0);
    CU_ASSERT_EQUAL(predict_parse("none", &v, err, sizeof err), 0);
    CU_ASSERT_EQUAL(v, TRACE_NONE);
    CU_ASSERT_NOT_EQUAL(predict_parse("4x", &v, err, sizeof err), 0);
    CU_ASSERT_NOT_EQUAL(predict_parse("", &v, err, sizeof err), 0);
    CU_ASSERT(strlen(err) > 0);
    char buf[32];
    predict_answer_str(TRACE_NONE, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "none");

    predict_score s = {0};
    CU_ASSERT_EQUAL_FATAL(predict_score_reset(&s, 5), 0);
    CU_ASSERT_FALSE(predict_score_done(&s, 2));
    CU_ASSERT_EQUAL(predict_grade(&s, 2, 3, 3, 0), 1);
    CU_ASSERT(predict_score_done(&s, 2));
    CU_ASSERT_EQUAL(predict_grade(&s, 3, 4, 3, 0), 0);
    CU_ASSERT_EQUAL(predict_grade(&s, 4, 0, 3, 1), 0);
    CU_ASSERT_EQUAL(s.asked, 2);
    CU_ASSERT_EQUAL(s.right, 1);
    CU_ASSERT_EQUAL(s.skipped, 1);
    /* A question is scored once. */
    predict_grade(&s, 2, 3, 3, 0);
    CU_ASSERT_EQUAL(s.asked, 2);
    CU_ASSERT(predict_score_done(&s, 99));
    predict_score_free(&s);
}

/* The index answers like trace_latest at every step, for every name. */
static void test_index_matches_trace_latest(void)
{
    for (size_t ti = 0; ti < topic_count; ti++) {
        const topic *t = topic_registry[ti];
        if (!t->example)
            continue;
        trace *tr = example_trace(t);
        if (!tr)
            continue;
        views_index ix = {0};
        CU_ASSERT_EQUAL_FATAL(views_index_build(&ix, tr), 0);
        int bad = 0;
        for (size_t k = 0; k < ix.n; k++)
            for (size_t i = 0; i < trace_len(tr); i++)
                bad += views_index_get(&ix, ix.v[k].name, i) != trace_latest(tr, i, ix.v[k].name);
        if (bad) {
            CU_FAIL("views_index_get differs from trace_latest");
            fprintf(stderr, "\n  topic %s: %d differences\n", t->id, bad);
        }
        CU_ASSERT_PTR_NULL(views_index_get(&ix, "no such name", 0));
        views_index_free(&ix);
        trace_free(tr);
    }
}

static trace *sweep_trace;

static int index_body(void *ctx)
{
    (void)ctx;
    views_index ix = {0};
    int rc = views_index_build(&ix, sweep_trace);
    views_index_free(&ix);
    return rc;
}

static void test_index_alloc(void)
{
    if (topic_count == 0)
        return;
    sweep_trace = example_trace(topic_registry[0]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sweep_trace);
    CU_ASSERT(th_alloc_sweep(index_body, NULL, 0) > 0);
    trace_free(sweep_trace);
}

void tests_register(void)
{
    const char *b = getenv("TUTOR_BIN");
    const char *s = getenv("TUTOR_SRCDIR");
    snprintf(srcdir, sizeof srcdir, "%s", s && *s ? s : TUTOR_SRCDIR);
    if (b && *b)
        snprintf(bin, sizeof bin, "%s", b);
    else
        snprintf(bin, sizeof bin, "%s/build/tutor", srcdir);
    snprintf(sock, sizeof sock, "tutor-test-ui-%ld", (long)getpid());
    /* A failed fatal assertion leaves its test early: the server goes at exit anyway. */
    atexit(stop);
    static const th_test pure[] = {
        {"markdown rendering", test_markdown},
        {"ASCII spelling of UTF-8 text", test_ascii_spelling},
        {"markdown markers across source lines", test_markdown_across_lines},
        {"markdown indented code keeps its own indentation", test_markdown_indented_code},
        {"markdown tables: as written, or one item per row when too wide", test_markdown_tables},
        {"markdown rendering survives failed allocations", test_markdown_alloc},
        {"markdown: many openers without closers render in linear time",
         test_markdown_many_openers},
        {"notes are found via TUTOR_DOCS, else a clear message", test_notes_find},
        {"predict answers are parsed, graded and scored once", test_predict_grading},
        {"series plot through gnuplot's dumb terminal", test_plot_dumb},
        {"the snapshot index agrees with trace_latest", test_index_matches_trace_latest},
        {"the snapshot index survives failed allocations", test_index_alloc},
        {NULL, NULL},
    };
    static const th_test screens[] = {
        {"without a terminal, tutor prints the usage and exits 0", test_no_tty},
        {"open a topic, step, resize, quit restores the terminal", test_steps_and_resize},
        {"a bad input shows the error inline and keeps the old input", test_bad_edit},
        {"the notes open and close", test_notes},
        {"Ctrl-C quits with status 130 and restores the terminal", test_ctrl_c},
        {"a crash restores the terminal before dying", test_crash_restores},
        {"colours only without NO_COLOR", test_no_color},
        {"predict mode asks, grades and scores", test_predict},
        {"growing back from below the minimum redraws home whole", test_grow_redraws_home},
        {"a resize without a signal is still seen", test_resize_without_signal},
        {"a terminal that cannot move the cursor is refused", test_dumb_terminal},
        {"outside UTF-8 the keys are spelt in ASCII", test_ascii_keys},
        {"every key a footer advertises works on its screen", test_advertised_keys},
        {"a token stream is coloured by its modality", test_modality_colours},
        {"outside UTF-8 the notes are spelt in ASCII", test_ascii_notes},
        {"an input file that is the terminal is refused, not read", test_input_from_terminal},
        {NULL, NULL},
    };
    th_suite("ui (in-process)", pure);
    th_suite("ui (tmux, 80x24)", screens);
}
