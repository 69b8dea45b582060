/* exercise_screen.c: the interactive tutor's exercise screen (`x` on a topic): runs the topic's
 * exercises through exercise_run_cancellable (q or Esc stops the build) and pages through
 * the report, coloured per behaviour. */
#include <stdio.h>
#include <string.h>

#include "../../trace/mem.h"
#include "../../trace/status.h"
#include "../exercise/exercise.h"
#include "exercise_screen.h"
#include "tty.h"

/* One display line: a slice of the report, its style and indent. */
typedef struct ex_line {
    const char *s;
    int len, style, indent;
} ex_line;

typedef struct ex_lines {
    ex_line *v;
    size_t n, cap;
} ex_lines;

static int push(ex_lines *ls, const char *s, int len, int style, int indent)
{
    if (ls->n == ls->cap) {
        size_t cap = ls->cap ? 2 * ls->cap : 64;
        ex_line *v = mem_realloc_array(ls->v, cap, sizeof *v);
        if (!v)
            return TUTOR_ENOMEM;
        ls->v = v;
        ls->cap = cap;
    }
    ls->v[ls->n++] = (ex_line){s, len, style, indent};
    return 0;
}

/* The style a report line is shown in: what the suite's own words say it is. */
static int style_of(const char *s, int len, int previous)
{
    int lead = (int)strspn(s, " ");
    if (len >= 6 && strncmp(s, "  ok  ", 6) == 0)
        return TTY_OK;
    if (len >= 6 && strncmp(s, "  FAIL", 6) == 0)
        return TTY_ERROR;
    if (strncmp(s + lead, "hint:", 5) == 0)
        return TTY_HEADING;
    if (strncmp(s, "exercise ", 9) == 0)
        return TTY_TITLE;
    /* Continuation lines of a hint keep its style. */
    if (lead >= 18 && previous == TTY_HEADING)
        return TTY_HEADING;
    return lead ? TTY_NORMAL : TTY_DIM;
}

/* Splits the report into display lines of at most width columns, breaking long lines at a
 * space and indenting the rest under their first word. */
static int layout(ex_lines *ls, const char *report, int width)
{
    ls->n = 0;
    int style = TTY_NORMAL;
    for (const char *line = report; *line;) {
        const char *end = strchr(line, '\n');
        int len = end ? (int)(end - line) : (int)strlen(line);
        style = style_of(line, len, style);
        int lead = (int)strspn(line, " "), indent = 0;
        const char *s = line;
        int rest = len;
        do {
            int room = width - indent;
            int take = rest;
            if (take > room) {
                take = room;
                while (take > room / 2 && s[take] != ' ')
                    take--;
                if (s[take] != ' ')
                    take = room;
            }
            if (push(ls, s, take, style, indent))
                return TUTOR_ENOMEM;
            s += take;
            rest -= take;
            while (rest > 0 && *s == ' ') {
                s++;
                rest--;
            }
            indent = lead + 2 < width / 2 ? lead + 2 : 0;
        } while (rest > 0);
        line = end ? end + 1 : line + len;
    }
    return 0;
}

/* Adds up the suites' "exercise ID: N passed, M failed" lines; returns how many there were. */
static int count_behaviours(const char *report, unsigned *passed, unsigned *failed)
{
    int count = 0;
    for (const char *line = report; line && *line;) {
        char id[64];
        unsigned p, f;
        if (sscanf(line, "exercise %63[^:]: %u passed, %u failed", id, &p, &f) == 3) {
            *passed += p;
            *failed += f;
            count++;
        }
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    return count;
}

/* Draws "running" while make works: the run blocks for a few seconds. */
static void draw_running(const char *id)
{
    erase();
    tty_fill(0, 0, COLS, TTY_TITLE);
    tty_putf(0, 1, COLS - 2, TTY_TITLE, "Exercise: %s", id);
    tty_putf(2, 2, COLS - 4, TTY_NORMAL, "Building and running the exercise tests of %s...", id);
    tty_put(3, 2, COLS - 4, TTY_DIM, "(make exercise: compiling your file against the suite)");
    tty_put(5, 2, COLS - 4, TTY_NORMAL, "q: cancel");
    refresh();
}

/* exercise_run_cancellable's question while make works: stop on q, Esc or a signal; redraw
 * on a resize. ctx is the topic id. */
static int cancel_asked(void *ctx)
{
    int ch = tty_key(0);
    if (ch == KEY_RESIZE && tty_big_enough())
        draw_running(ctx);
    return ch == TTY_KEY_SIGNAL || ch == 'q' || ch == 27 || tty_signalled();
}

int exercise_screen(const char *topic_id)
{
    strbuf report = STRBUF_INIT;
    ex_lines ls = {0};
    int result = 0, top = 0, width = -1, run = 1, rc = 0;
    for (;;) {
        if (run) {
            run = 0;
            strbuf_clear(&report);
            if (tty_big_enough())
                draw_running(topic_id);
            rc = exercise_run_cancellable(topic_id, &report, cancel_asked, (void *)topic_id);
            const char *w = exercise_warning();
            if (w)
                strbuf_printf(&report, "\n%s\n", w);
            if (report.failed) {
                strbuf_free(&report);
                strbuf_puts(&report, "out of memory while running the exercise\n");
            }
            width = -1;
            top = 0;
        }
        if (!tty_big_enough()) {
            int ch = tty_key(-1);
            if (ch == TTY_KEY_SIGNAL) {
                result = TTY_KEY_SIGNAL;
                break;
            }
            if (ch == 'q')
                break;
            continue;
        }
        int body = LINES - 2;
        if (width != COLS - 2) {
            width = COLS - 2;
            if (layout(&ls, strbuf_str(&report), width)) {
                result = TUTOR_ENOMEM;
                break;
            }
        }
        int max_top = (int)ls.n - body;
        if (top > max_top)
            top = max_top;
        if (top < 0)
            top = 0;
        erase();
        tty_fill(0, 0, COLS, TTY_TITLE);
        const char *verdict = rc == 0                    ? "passing"
                              : rc == 1                  ? "failing"
                              : rc == EXERCISE_CANCELLED ? "cancelled"
                                                         : "could not run";
        unsigned passed = 0, failed = 0;
        int counted = count_behaviours(strbuf_str(&report), &passed, &failed);
        if (counted)
            tty_putf(0, 1, COLS - 2, TTY_TITLE, "Exercise: %s %s %s: %u passed, %u failed",
                     topic_id, tty_g->hline, verdict, passed, failed);
        else
            tty_putf(0, 1, COLS - 2, TTY_TITLE, "Exercise: %s %s %s", topic_id, tty_g->hline,
                     verdict);
        for (int r = 0; r < body && top + r < (int)ls.n; r++) {
            const ex_line *l = &ls.v[top + r];
            char buf[1024];
            int n = l->len < (int)sizeof buf - 1 ? l->len : (int)sizeof buf - 1;
            memcpy(buf, l->s, (size_t)n);
            buf[n] = '\0';
            tty_put(1 + r, 1 + l->indent, COLS - 2 - l->indent,
                    l->style == TTY_TITLE ? TTY_NORMAL : l->style, buf);
        }
        tty_fill(LINES - 1, 0, COLS, TTY_TITLE);
        tty_putf(LINES - 1, 1, COLS - 2, TTY_TITLE,
                 "j/k or arrows scroll  PgUp/PgDn/space page  r run again  q back   %d-%d of %zu",
                 ls.n ? top + 1 : 0, top + body < (int)ls.n ? top + body : (int)ls.n, ls.n);
        refresh();
        int ch = tty_key(-1);
        if (ch == TTY_KEY_SIGNAL) {
            result = TTY_KEY_SIGNAL;
            break;
        }
        if (ch == 'q' || ch == 27 || ch == 'x' || ch == KEY_LEFT || ch == 'h')
            break;
        if (ch == 'r')
            run = 1;
        else
            tty_pager_key(ch, &top, body, max_top);
    }
    mem_free(ls.v);
    strbuf_free(&report);
    return result;
}
