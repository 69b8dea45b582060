#include "ui.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "../../trace/mem.h"
#include "../../trace/status.h"
#include "../core/version.h"
#include "../exercise/exercise.h"
#include "exercise_screen.h"
#include "../core/parse.h"
#include "../topics/topic.h"
#include "tty.h"
#include "notes.h"
#include "predict.h"
#include "views.h"

#define CTRL(c) ((c)&0x1f)
#define KEY_ESC 27

/* Play speeds: milliseconds between steps. */
static const int play_delay[] = {2000, 1000, 500, 250, 120, 60, 25};
#define NSPEEDS ((int)(sizeof play_delay / sizeof play_delay[0]))

/* One run of a topic on one input: its trace and everything derived from it. */
typedef struct run {
    char *input; /* the input as CLI options */
    trace *tr;
    topic_out out;
    views_index ix;
    char answer[160]; /* the first line of the readable answer */
} run;

/* The topic screen's state. */
typedef struct screen {
    const topic *t;
    run r;
    size_t step, n;
    const char *const *listing;
    size_t nlines;
    unsigned char *breaks; /* per listing line (nlines + 1, 1-based) */
    uint64_t seed;         /* the next random input's seed */
    int playing, speed;
    int predict;
    predict_score score;
    views_opts view;
    char status[320]; /* a transient message replacing the step's message */
    int status_style;
} screen;

/* ---------------------------------------------------------------------------------------
 * Runs. */

static void run_free(run *r)
{
    if (r->tr)
        views_forget(); /* its caches point into the trace */
    mem_free(r->input);
    trace_free(r->tr);
    topic_out_free(&r->out);
    views_index_free(&r->ix);
    memset(r, 0, sizeof *r);
}

/* 1 when an option's value names a terminal, pipe or socket, with err saying which: the
 * topic would read it while curses owns the terminal, and /dev/stdin, /dev/tty or a FIFO
 * without a writer blocks until Ctrl-C ends the tutor. The batch `tutor run` reads them. */
static int names_stream(const topic_args *args, char *err, size_t errlen)
{
    for (size_t k = 0; k < args->n; k++) {
        struct stat st;
        const char *v = args->opts[k].value;
        if (v && stat(v, &st) == 0 &&
            (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
            snprintf(err, errlen,
                     "--%s: %s is not a regular file (the tutor would wait on it for input)",
                     args->opts[k].name, v);
            return 1;
        }
    }
    return 0;
}

/* Runs topic t on `input` (CLI options) through the same parser and checks as `tutor run`.
 * On success *r is replaced (the old run freed) and 0 returned; on failure *r is untouched,
 * err holds one line, and the status is returned. */
static int run_load(run *r, const topic *t, const char *input, char *err, size_t errlen)
{
    char **words = NULL;
    int nwords = 0, json, want_trace;
    topic_args args = {0};
    run nr = {0};
    nr.out = (topic_out){STRBUF_INIT, STRBUF_INIT, {0}};
    int rc = parse_words(input, &words, &nwords, err, errlen);
    if (rc)
        goto out;
    rc = topic_parse_args(t, nwords, words, &args, &json, &want_trace, err, errlen);
    if (rc)
        goto out;
    if (names_stream(&args, err, errlen)) {
        rc = TUTOR_EINVAL;
        goto out;
    }
    nr.input = mem_strdup(input);
    nr.tr = trace_new(0);
    if (!nr.input || !nr.tr) {
        rc = TUTOR_ENOMEM;
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = t->run(&args, nr.tr, &nr.out);
    if (rc) {
        snprintf(err, errlen, "%s", nr.out.err[0] ? nr.out.err : status_strerror(rc));
        goto out;
    }
    rc = trace_status(nr.tr);
    if (!rc)
        rc = views_index_build(&nr.ix, nr.tr);
    if (rc) {
        snprintf(err, errlen, "recording the trace failed: %s", status_strerror(rc));
        goto out;
    }
    /* The answer is the first line that is not indented: indented lines are details
     * (a table of operations, the combinations under their count). */
    const char *text = strbuf_str(&nr.out.text);
    while (*text == ' ' || *text == '\t') {
        const char *nl = strchr(text, '\n');
        if (!nl) {
            text = strbuf_str(&nr.out.text);
            break;
        }
        text = nl + 1;
    }
    size_t len = strcspn(text, "\n");
    snprintf(nr.answer, sizeof nr.answer, "%.*s", (int)len, text);
    run_free(r);
    *r = nr;
    memset(&nr, 0, sizeof nr);
out:
    run_free(&nr);
    mem_free((void *)args.opts);
    parse_free_words(words);
    return rc;
}

/* Adopts a freshly loaded run: step 0, a new score, breakpoints kept when the listing is
 * the same. Returns 0 or TUTOR_ENOMEM. */
static int screen_adopt(screen *s)
{
    s->n = trace_len(s->r.tr);
    s->step = 0;
    s->playing = 0;
    s->view.scroll = 0;
    size_t nl;
    const char *const *l = trace_listing(s->r.tr, &nl);
    if (l != s->listing || nl != s->nlines) {
        mem_free(s->breaks);
        s->breaks = mem_calloc(nl + 1, 1);
        s->listing = l;
        s->nlines = nl;
        if (!s->breaks) {
            s->listing = NULL;
            s->nlines = 0;
            return TUTOR_ENOMEM;
        }
    }
    return predict_score_reset(&s->score, s->n);
}

/* ---------------------------------------------------------------------------------------
 * Drawing the topic screen. */

static void set_status(screen *s, int style, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void set_status(screen *s, int style, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->status, sizeof s->status, fmt, ap);
    va_end(ap);
    s->status_style = style;
}

static int listing_width(const screen *s)
{
    int w = 20;
    for (size_t i = 0; i < s->nlines; i++) {
        int lw = tty_width(s->listing[i]) + 7;
        w = lw > w ? lw : w;
    }
    int cap = COLS / 2;
    return w < cap ? w : cap;
}

/* Draws key/description pairs across row y, as many as fit. */
static void draw_keys(int y, const char *const *pairs)
{
    int x = 1;
    for (size_t k = 0; pairs[k]; k += 2) {
        int need = tty_width(pairs[k]) + 1 + tty_width(pairs[k + 1]) + 2;
        if (x + need - 2 > COLS)
            break;
        x += tty_put(y, x, -1, TTY_KEY, pairs[k]) + 1;
        x += tty_put(y, x, -1, TTY_NORMAL, pairs[k + 1]) + 2;
    }
}

/* Each footer row fits 80 columns whole (draw_keys drops the pairs that do not fit, and
 * tests/test_ui.c checks every row as drawn at 80x24). */
static const char *const topic_keys1[] = {"→/l/n", "next",  "←/h/p", "prev",  "Home/End",
                                          "ends",  "g",     "go to", "space", "play",
                                          "+/-",   "speed", "b",     "break", NULL};
static const char *const topic_keys2[] = {"e", "edit input", "r", "random",   "k", "predict",
                                          "t", "notes",      "x", "exercise", "v", "view",
                                          "?", "help",       "q", "back",     NULL};
static const char *const topic_keys_ascii1[] = {"->/l/n", "next",  "<-/h/p", "prev",  "Home/End",
                                                "ends",   "g",     "goto",   "space", "play",
                                                "+/-",    "speed", "b",      "break", NULL};
static const char *const cursor_keys[] = {"arrows", "move the cell cursor", "n/p", "step",
                                          "c/Esc",  "leave the cursor",     NULL};

/* The step whose state is shown: in predict mode, a question hides its step's state. */
static void draw_topic(screen *s, int hide_step)
{
    erase();
    tty_clip_reset();
    const trace_frame *f = s->n ? trace_at(s->r.tr, s->step) : NULL;
    /* Row 0: the title and where we are. */
    tty_fill(0, 0, COLS, TTY_TITLE);
    char right[160] = "";
    size_t len = 0;
    if (s->playing)
        len +=
            (size_t)snprintf(right, sizeof right, "%s %d ms  ", tty_g->arrow, play_delay[s->speed]);
    if (s->n)
        snprintf(right + len, sizeof right - len, "step %zu / %zu%s ", s->step + 1, s->n,
                 trace_truncated(s->r.tr) ? " (truncated)" : "");
    else
        snprintf(right + len, sizeof right - len, "no steps ");
    if (s->predict) {
        len = strlen(right);
        snprintf(right + len, sizeof right - len, " predict %u/%u ", s->score.right,
                 s->score.asked);
    }
    int rw = tty_width(right);
    tty_put(0, COLS - rw, rw, TTY_TITLE, right);
    tty_putf(0, 1, COLS - rw - 2, TTY_TITLE, "%s %s %s", s->t->id, tty_g->hline, s->t->title);
    /* Row 1: the input and the answer. */
    int x = tty_put(1, 1, -1, TTY_DIM, "input: ");
    /* The input first; the answer gets the rest of the row, cut with an ellipsis. */
    const char *input = s->r.input ? s->r.input : "";
    int iw = tty_width(input);
    if (iw > COLS / 2 && s->r.answer[0])
        iw = COLS / 2;
    x += 1 + tty_put_ell(1, 1 + x, iw, TTY_NORMAL, input);
    if (s->r.answer[0] && x + 14 < COLS) {
        x += 2 + tty_put(1, x + 2, -1, TTY_DIM, "answer: ");
        tty_put_ell(1, x, COLS - x - 1, TTY_OK, s->r.answer);
    }
    /* The panes. */
    int top = 2, ph = LINES - 5;
    int lw = listing_width(s);
    int cur = f ? f->line : 0;
    int ltop = 0;
    if ((int)s->nlines > ph && cur > 0) {
        ltop = cur - 1 - ph / 2;
        if (ltop + ph > (int)s->nlines)
            ltop = (int)s->nlines - ph;
        if (ltop < 0)
            ltop = 0;
    }
    for (int r = 0; r < ph && ltop + r < (int)s->nlines; r++) {
        int ln = ltop + r + 1;
        int st = ln == cur ? TTY_CURLINE : TTY_NORMAL;
        if (ln == cur)
            tty_fill(top + r, 0, lw, TTY_CURLINE);
        if (s->breaks && s->breaks[ln])
            tty_put(top + r, 0, 1, TTY_BREAK, tty_g->breakpt);
        if (ln == cur)
            tty_put(top + r, 1, 1, TTY_CURLINE, tty_g->arrow);
        tty_putf(top + r, 2, 4, ln == cur ? TTY_CURLINE : TTY_DIM, "%3d ", ln);
        tty_put_ell(top + r, 6, lw - 7, st, s->listing[ln - 1]);
    }
    if (!s->nlines)
        tty_put(top, 1, lw - 2, TTY_DIM, "(no listing)");
    for (int r = 0; r < ph; r++)
        tty_put(top + r, lw, 1, TTY_DIM, tty_g->vline);
    tty_rect pane = {top, lw + 2, ph, COLS - lw - 3};
    if (s->n) {
        if (hide_step) {
            if (s->step > 0)
                views_draw(pane, s->t, s->r.tr, &s->r.ix, s->step - 1, 1, &s->view);
            else
                tty_put(top, pane.x, pane.w, TTY_DIM, "(the state is hidden until you answer)");
        } else {
            views_draw(pane, s->t, s->r.tr, &s->r.ix, s->step, 1, &s->view);
        }
    } else {
        tty_put(top, pane.x, pane.w, TTY_DIM, "(this run recorded no steps)");
    }
    /* The message row. */
    int my = LINES - 3;
    if (s->status[0]) {
        tty_fill(my, 0, COLS, s->status_style);
        tty_put(my, 1, COLS - 2, s->status_style, s->status);
    } else if (f && !hide_step) {
        int mx = tty_putf(my, 1, COLS - 2, TTY_KEY, "%s ", tty_g->arrow);
        tty_put_ell(my, 1 + mx, COLS - 2 - mx, TTY_NORMAL, f->msg);
    }
    /* The footer. */
    if (s->view.cursor) {
        draw_keys(LINES - 2, cursor_keys);
    } else {
        draw_keys(LINES - 2, tty_g->arrow[0] == '>' ? topic_keys_ascii1 : topic_keys1);
        draw_keys(LINES - 1, topic_keys2);
    }
}

/* ---------------------------------------------------------------------------------------
 * Modal prompts drawn over the topic screen. */

/* A one-line text field: the edited text, the cursor (a byte offset). */
typedef struct field {
    char buf[1024];
    size_t len, cur;
} field;

static void field_set(field *fl, const char *s)
{
    snprintf(fl->buf, sizeof fl->buf, "%s", s ? s : "");
    fl->len = fl->cur = strlen(fl->buf);
}

/* Applies an editing key. Returns 1 when the key was an edit, else 0. */
static int field_key(field *fl, int ch)
{
    switch (ch) {
    case KEY_LEFT:
        while (fl->cur > 0 && ((unsigned char)fl->buf[--fl->cur] & 0xC0) == 0x80)
            ;
        return 1;
    case KEY_RIGHT:
        while (fl->cur < fl->len && ((unsigned char)fl->buf[++fl->cur] & 0xC0) == 0x80)
            ;
        return 1;
    case KEY_HOME:
    case CTRL('a'): fl->cur = 0; return 1;
    case KEY_END:
    case CTRL('e'): fl->cur = fl->len; return 1;
    case CTRL('u'):
        fl->len = fl->cur = 0;
        fl->buf[0] = '\0';
        return 1;
    case CTRL('k'):
        fl->len = fl->cur;
        fl->buf[fl->len] = '\0';
        return 1;
    case KEY_BACKSPACE:
    case 127:
    case CTRL('h'): {
        if (fl->cur == 0)
            return 1;
        size_t start = fl->cur - 1;
        while (start > 0 && ((unsigned char)fl->buf[start] & 0xC0) == 0x80)
            start--;
        memmove(fl->buf + start, fl->buf + fl->cur, fl->len - fl->cur + 1);
        fl->len -= fl->cur - start;
        fl->cur = start;
        return 1;
    }
    case KEY_DC: {
        if (fl->cur >= fl->len)
            return 1;
        size_t end = fl->cur + 1;
        while (end < fl->len && ((unsigned char)fl->buf[end] & 0xC0) == 0x80)
            end++;
        memmove(fl->buf + fl->cur, fl->buf + end, fl->len - end + 1);
        fl->len -= end - fl->cur;
        return 1;
    }
    default:
        if (ch >= 32 && ch < 256 && ch != 127 && fl->len + 1 < sizeof fl->buf) {
            memmove(fl->buf + fl->cur + 1, fl->buf + fl->cur, fl->len - fl->cur + 1);
            fl->buf[fl->cur++] = (char)ch;
            fl->len++;
            return 1;
        }
        return 0;
    }
}

/* Draws the field on row y from x, w columns, scrolled so the cursor shows. */
static void field_draw(const field *fl, int y, int x, int w)
{
    /* Skip whole characters from the left until the text up to the cursor fits. */
    size_t start = 0;
    for (;;) {
        char tmp[1024];
        snprintf(tmp, sizeof tmp, "%.*s", (int)(fl->cur - start), fl->buf + start);
        if (tty_width(tmp) < w || start >= fl->cur)
            break;
        int cw;
        start += tty_char(fl->buf + start, &cw);
    }
    char before[1024];
    snprintf(before, sizeof before, "%.*s", (int)(fl->cur - start), fl->buf + start);
    int used = tty_put(y, x, w, TTY_NORMAL, before);
    if (used < w) {
        char at[8] = " ";
        if (fl->cur < fl->len) {
            int cw;
            size_t k = tty_char(fl->buf + fl->cur, &cw);
            snprintf(at, sizeof at, "%.*s", (int)k, fl->buf + fl->cur);
        }
        int aw = tty_put(y, x + used, w - used, TTY_SELECT, at);
        if (fl->cur < fl->len)
            tty_put(y, x + used + aw, w - used - aw, TTY_NORMAL, fl->buf + fl->cur + strlen(at));
    }
}

/* A box of h rows over the bottom of the state pane, cleared; returns its inner rect. */
static tty_rect modal_box(int h, const char *title)
{
    int w = COLS - 4 < 90 ? COLS - 4 : 90;
    tty_rect b = {LINES - 3 - h, (COLS - w) / 2, h, w};
    for (int r = 0; r < h; r++)
        tty_fill(b.y + r, b.x, b.w, TTY_NORMAL);
    tty_box(b, TTY_HEADING);
    tty_putf(b.y, b.x + 2, b.w - 4, TTY_HEADING, " %s ", title);
    return (tty_rect){b.y + 1, b.x + 2, h - 2, w - 4};
}

/* A modal prompt over the topic screen. draw paints the whole screen (the topic screen
 * and the prompt); key handles one key and returns MODAL_STAY, MODAL_DONE, or a negative
 * status that ends the modal. run_modal owns the loop: resizes, a screen below the minimum
 * (keys still reach the prompt, so Esc works), signals. Returns 0, TTY_KEY_SIGNAL or the
 * status key returned. */
#define MODAL_STAY 0
#define MODAL_DONE 1

typedef struct prompt {
    screen *s;
    field fl;
    char err[256];
    size_t quiz_step; /* ask: the step whose question this is */
    int graded, right, skipped;
    int64_t given;
} prompt;

static int run_modal(prompt *p, void (*draw)(prompt *), int (*key)(prompt *, int))
{
    for (;;) {
        if (tty_big_enough()) {
            draw(p);
            refresh();
        }
        int ch = tty_key(-1);
        if (ch == TTY_KEY_SIGNAL)
            return TTY_KEY_SIGNAL;
        if (ch == KEY_RESIZE || ch == ERR)
            continue;
        int rc = key(p, ch);
        if (rc != MODAL_STAY)
            return rc == MODAL_DONE ? 0 : rc;
    }
}

static int is_enter(int ch)
{
    return ch == '\r' || ch == '\n' || ch == KEY_ENTER;
}

/* The input editor: Enter runs the topic on the edited input through the CLI's parser;
 * on an error the message shows under the field and the current input stays. */
static void edit_draw(prompt *p)
{
    screen *s = p->s;
    draw_topic(s, 0);
    char title[96];
    snprintf(title, sizeof title, "Edit the input of %s", s->t->id);
    tty_rect in = modal_box(7, title);
    tty_put(in.y, in.x, 2, TTY_KEY, "> ");
    field_draw(&p->fl, in.y, in.x + 2, in.w - 2);
    if (p->err[0])
        tty_putf(in.y + 1, in.x, in.w, TTY_ERROR, "%s %s", tty_g->cross, p->err);
    else
        tty_put(in.y + 1, in.x, in.w, TTY_DIM,
                "options as on the command line (tutor help for the list)");
    int x = tty_put(in.y + 2, in.x, in.w, TTY_DIM, "current input: ");
    tty_put_ell(in.y + 2, in.x + x, in.w - x, TTY_NORMAL, s->r.input ? s->r.input : "");
    static const char *const hints[] = {"Enter", "run",   "Esc", "keep the current input",
                                        "^U",    "clear", NULL};
    x = in.x;
    for (size_t k = 0; hints[k]; k += 2) {
        x += tty_put(in.y + 3, x, in.x + in.w - x, TTY_KEY, hints[k]) + 1;
        x += tty_put(in.y + 3, x, in.x + in.w - x, TTY_NORMAL, hints[k + 1]) + 2;
    }
}

static int edit_key(prompt *p, int ch)
{
    if (ch == KEY_ESC)
        return MODAL_DONE;
    if (is_enter(ch)) {
        screen *s = p->s;
        if (run_load(&s->r, s->t, p->fl.buf, p->err, sizeof p->err) != 0)
            return MODAL_STAY;
        int rc = screen_adopt(s);
        set_status(s, TTY_OK, "new input: %zu steps", s->n);
        return rc ? rc : MODAL_DONE;
    }
    if (field_key(&p->fl, ch))
        p->err[0] = '\0';
    return MODAL_STAY;
}

static int edit_input(screen *s)
{
    prompt p = {.s = s};
    field_set(&p.fl, s->r.input);
    return run_modal(&p, edit_draw, edit_key);
}

/* Go to a step by number. */
static void goto_draw(prompt *p)
{
    draw_topic(p->s, 0);
    tty_rect in = modal_box(4, "Go to step");
    int x = tty_putf(in.y, in.x, in.w, TTY_KEY, "step (1 - %zu): ", p->s->n);
    field_draw(&p->fl, in.y, in.x + x, in.w - x);
    tty_put(in.y + 1, in.x, in.w, p->err[0] ? TTY_ERROR : TTY_DIM,
            p->err[0] ? p->err : "Enter go  Esc cancel");
}

static int goto_key(prompt *p, int ch)
{
    if (ch == KEY_ESC)
        return MODAL_DONE;
    if (is_enter(ch)) {
        long long k;
        if (parse_int(p->fl.buf, "the step", 1, (long long)p->s->n, &k, p->err, sizeof p->err))
            return MODAL_STAY;
        p->s->step = (size_t)k - 1;
        return MODAL_DONE;
    }
    if ((ch >= '0' && ch <= '9') || ch < 32 || ch >= 256 || ch == 127)
        field_key(&p->fl, ch);
    return MODAL_STAY;
}

static int goto_step(screen *s)
{
    prompt p = {.s = s};
    field_set(&p.fl, "");
    return run_modal(&p, goto_draw, goto_key);
}

/* Predict mode: the step has a quiz; its state stays hidden (the previous step's shows)
 * until the student answers; then the right answer, the step's message as the reason,
 * and the score; any key goes on to the step. */
static void ask_draw(prompt *p)
{
    screen *s = p->s;
    const trace_frame *f = trace_at(s->r.tr, p->quiz_step);
    draw_topic(s, !p->graded);
    tty_rect in = modal_box(7, "Predict");
    int x = tty_put(in.y, in.x, in.w, TTY_KEY, "Q: ");
    tty_put_ell(in.y, in.x + x, in.w - x, TTY_NORMAL, f->quiz);
    char want[48], said[48];
    predict_answer_str(f->quiz_answer, want, sizeof want);
    if (!p->graded) {
        tty_put(in.y + 1, in.x, 2, TTY_KEY, "> ");
        field_draw(&p->fl, in.y + 1, in.x + 2, in.w - 2);
        if (p->err[0])
            tty_put(in.y + 2, in.x, in.w, TTY_ERROR, p->err);
        tty_put(in.y + 3, in.x, in.w, TTY_DIM,
                "type your prediction, Enter to check; Esc skips the question");
        return;
    }
    predict_answer_str(p->given, said, sizeof said);
    if (p->skipped)
        tty_putf(in.y + 1, in.x, in.w, TTY_NORMAL, "skipped: the answer is %s", want);
    else if (p->right)
        tty_putf(in.y + 1, in.x, in.w, TTY_OK, "%s right: %s", tty_g->check, want);
    else
        tty_putf(in.y + 1, in.x, in.w, TTY_ERROR, "%s the answer is %s (you said %s)", tty_g->cross,
                 want, said);
    x = tty_put(in.y + 2, in.x, in.w, TTY_DIM, "why: ");
    tty_put_ell(in.y + 2, in.x + x, in.w - x, TTY_NORMAL, f->msg);
    tty_putf(in.y + 3, in.x, in.w, TTY_DIM, "score %u / %u   any key: continue", s->score.right,
             s->score.asked);
}

static int ask_key(prompt *p, int ch)
{
    const trace_frame *f = trace_at(p->s->r.tr, p->quiz_step);
    if (p->graded)
        return MODAL_DONE;
    if (ch == KEY_ESC) {
        predict_grade(&p->s->score, p->quiz_step, 0, f->quiz_answer, 1);
        p->graded = p->skipped = 1;
    } else if (is_enter(ch)) {
        if (predict_parse(p->fl.buf, &p->given, p->err, sizeof p->err) == 0) {
            p->right = predict_grade(&p->s->score, p->quiz_step, p->given, f->quiz_answer, 0);
            p->graded = 1;
        }
    } else if (field_key(&p->fl, ch)) {
        p->err[0] = '\0';
    }
    return MODAL_STAY;
}

/* Asks step i's question, with step i on screen (its state hidden until answered). */
static int ask(screen *s, size_t i)
{
    prompt p = {.s = s, .quiz_step = i};
    field_set(&p.fl, "");
    s->step = i;
    return run_modal(&p, ask_draw, ask_key);
}

static const char *const help_lines[] = {
    "Stepping",
    "  Right l n      next step (in predict mode, a question first)",
    "  Left h p       previous step",
    "  Home End       first / last step",
    "  g              go to a step by number",
    "  space          play / pause;  + -  faster / slower",
    "  b              breakpoint on the highlighted line (play stops there)",
    "Input",
    "  e              edit the input (same options as `tutor run`)",
    "  r              a new random input (seeds 1, 2, 3...)",
    "Views",
    "  v              arrays as bars; matrices as numbers or heatmap",
    "  c              a cell cursor on a matrix or table (arrows move it)",
    "  PgUp PgDn      scroll the state",
    "  k              predict mode: the trace's questions, with a score",
    "  t              the topic's notes;  ?  this help;  q  back / quit",
    "  x              run your exercise for this topic (tutor exercise)",
    "Marks: [x] current <x> compare {x} move (x) source +x+ winner",
    "       *x* chosen /x/ pruned ~x~ skipped !x! found",
    NULL,
};

static const char *const home_help_lines[] = {
    "Home screen",
    "  Up Down j k    move the selection;  Home End  first / last topic",
    "  Enter Right    open the selected topic",
    "  /              filter: type to narrow the list by id, title, family or",
    "                 summary; Backspace deletes, Enter opens, Esc clears",
    "  Esc            clear the filter",
    "  t              the selected topic's notes",
    "  x              run your exercise for the selected topic (q or Esc",
    "                 cancels the build)",
    "  ?              this help;  q  quit",
    "On a topic, ? lists the stepping keys.",
    NULL,
};

/* The help overlay: the topic screen's keys over s, or the home screen's when s is NULL.
 * Returns 0 or TTY_KEY_SIGNAL. */
static int help_screen(screen *s)
{
    const char *const *lines = s ? help_lines : home_help_lines;
    for (;;) {
        if (tty_big_enough()) {
            if (s)
                draw_topic(s, 0);
            else
                erase();
            int h = 0;
            while (lines[h])
                h++;
            int w = COLS - 4 < 76 ? COLS - 4 : 76;
            tty_rect b = {1, (COLS - w) / 2, h + 3 < LINES - 1 ? h + 3 : LINES - 1, w};
            for (int r = 0; r < b.h; r++)
                tty_fill(b.y + r, b.x, b.w, TTY_NORMAL);
            tty_box(b, TTY_HEADING);
            tty_put(b.y, b.x + 2, b.w - 4, TTY_HEADING, " Keys (any key closes) ");
            tty_clip((tty_rect){b.y + 1, b.x + 1, b.h - 2, b.w - 2});
            for (int r = 0; r < h; r++) {
                const char *l = lines[r];
                tty_put(b.y + 1 + r, b.x + 2, b.w - 4, l[0] == ' ' ? TTY_NORMAL : TTY_HEADING, l);
            }
            tty_clip_reset();
            refresh();
        }
        int ch = tty_key(-1);
        if (ch == TTY_KEY_SIGNAL)
            return TTY_KEY_SIGNAL;
        if (ch != KEY_RESIZE && ch != ERR)
            return 0;
    }
}

/* ---------------------------------------------------------------------------------------
 * The topic screen. */

/* Moves forward one step, asking first when predict mode is on and the next step has a
 * question not yet asked. Returns 0, or TTY_KEY_SIGNAL. */
static int forward(screen *s)
{
    if (s->step + 1 >= s->n)
        return 0;
    size_t next = s->step + 1;
    const trace_frame *f = trace_at(s->r.tr, next);
    if (s->predict && f->quiz && !predict_score_done(&s->score, next)) {
        s->playing = 0;
        int rc = ask(s, next);
        if (rc)
            return rc;
    }
    s->step = next;
    return 0;
}

static int topic_screen(const topic *t)
{
    screen s;
    memset(&s, 0, sizeof s);
    s.t = t;
    s.seed = 1;
    s.speed = 3;
    char err[256];
    int rc = run_load(&s.r, t, t->example ? t->example : "", err, sizeof err);
    if (rc == 0)
        rc = screen_adopt(&s);
    else
        set_status(&s, TTY_ERROR, "%s %s (press e to give an input)", tty_g->cross, err);
    if (rc == TUTOR_ENOMEM)
        goto out;
    rc = 0;
    for (;;) {
        if (!tty_big_enough()) {
            int ch = tty_key(-1);
            if (ch == TTY_KEY_SIGNAL) {
                rc = TTY_KEY_SIGNAL;
                break;
            }
            if (ch == 'q')
                break;
            continue;
        }
        draw_topic(&s, 0);
        refresh();
        int ch = tty_key(s.playing ? play_delay[s.speed] : -1);
        if (ch == TTY_KEY_SIGNAL) {
            rc = TTY_KEY_SIGNAL;
            break;
        }
        if (ch == KEY_RESIZE)
            continue;
        if (ch == ERR) {
            if (!s.playing)
                continue;
            if (s.step + 1 >= s.n) {
                s.playing = 0;
                continue;
            }
            if ((rc = forward(&s)) != 0)
                break;
            const trace_frame *f = trace_at(s.r.tr, s.step);
            if (f->line > 0 && (size_t)f->line <= s.nlines && s.breaks[f->line]) {
                s.playing = 0;
                set_status(&s, TTY_KEY, "%s breakpoint at line %d", tty_g->breakpt, f->line);
            }
            continue;
        }
        s.status[0] = '\0';
        if (s.view.cursor) {
            int moved = 1;
            switch (ch) {
            case KEY_UP: s.view.cur_row--; break;
            case KEY_DOWN: s.view.cur_row++; break;
            case KEY_LEFT: s.view.cur_col--; break;
            case KEY_RIGHT: s.view.cur_col++; break;
            case KEY_ESC:
            case 'c': s.view.cursor = 0; break;
            default: moved = 0;
            }
            if (moved)
                continue;
        }
        switch (ch) {
        case 'q': goto out;
        case KEY_RIGHT:
        case 'l':
        case 'n':
            s.playing = 0;
            if ((rc = forward(&s)) != 0)
                goto out;
            break;
        case KEY_LEFT:
        case 'h':
        case 'p':
            s.playing = 0;
            if (s.step > 0)
                s.step--;
            break;
        case KEY_HOME: s.step = 0; break;
        case KEY_END:
            if (s.n)
                s.step = s.n - 1;
            break;
        case 'g':
            if (s.n && (rc = goto_step(&s)) != 0)
                goto out;
            break;
        case ' ':
            s.playing = s.n > 1 && !s.playing;
            if (s.playing && s.step + 1 >= s.n)
                s.step = 0;
            break;
        case '+':
        case '=':
            if (s.speed + 1 < NSPEEDS)
                s.speed++;
            set_status(&s, TTY_NORMAL, "speed: a step every %d ms", play_delay[s.speed]);
            break;
        case '-':
        case '_':
            if (s.speed > 0)
                s.speed--;
            set_status(&s, TTY_NORMAL, "speed: a step every %d ms", play_delay[s.speed]);
            break;
        case 'b': {
            const trace_frame *f = s.n ? trace_at(s.r.tr, s.step) : NULL;
            if (f && f->line > 0 && (size_t)f->line <= s.nlines) {
                s.breaks[f->line] = !s.breaks[f->line];
                set_status(&s, TTY_NORMAL, "breakpoint %s line %d",
                           s.breaks[f->line] ? "on" : "off", f->line);
            }
            break;
        }
        case 'e':
            s.playing = 0;
            if ((rc = edit_input(&s)) != 0)
                goto out;
            break;
        case 'r': {
            s.playing = 0;
            if (!t->random_input) {
                set_status(&s, TTY_ERROR, "%s has no random inputs", t->id);
                break;
            }
            strbuf sb = STRBUF_INIT;
            uint64_t seed = s.seed++;
            rc = t->random_input(seed, &sb);
            if (rc == 0 && !sb.failed)
                rc = run_load(&s.r, t, strbuf_str(&sb), err, sizeof err);
            else
                snprintf(err, sizeof err, "out of memory");
            strbuf_free(&sb);
            if (rc == 0) {
                if ((rc = screen_adopt(&s)) != 0)
                    goto out;
                set_status(&s, TTY_OK, "random input from seed %llu: %zu steps",
                           (unsigned long long)seed, s.n);
            } else {
                set_status(&s, TTY_ERROR, "%s %s", tty_g->cross, err);
                rc = 0;
            }
            break;
        }
        case 'k':
            s.predict = !s.predict;
            if (s.predict) {
                unsigned q = 0;
                for (size_t i = 0; i < s.n; i++)
                    q += trace_at(s.r.tr, i)->quiz != NULL;
                set_status(&s, TTY_OK,
                           "predict mode on: %u question%s in this run; step forward to answer", q,
                           q == 1 ? "" : "s");
            } else {
                set_status(&s, TTY_NORMAL, "predict mode off (score %u / %u)", s.score.right,
                           s.score.asked);
            }
            break;
        case 't':
            s.playing = 0;
            if ((rc = notes_screen(t)) != 0)
                goto out;
            break;
        case 'x':
            s.playing = 0;
            if ((rc = exercise_screen(t->id)) != 0)
                goto out;
            break;
        case '?':
            s.playing = 0;
            if ((rc = help_screen(&s)) != 0)
                goto out;
            break;
        case 'v': s.view.alt = !s.view.alt; break;
        case 'c': {
            /* Only where there is a grid to move on: else the arrows would be taken. */
            int grid = 0;
            for (size_t k = 0; k < s.r.ix.n; k++)
                grid |= s.r.ix.v[k].kind == TRACE_TABLE || s.r.ix.v[k].kind == TRACE_MATRIX;
            s.view.cursor = grid;
            if (!grid)
                set_status(&s, TTY_NORMAL, "c: a cell cursor needs a table or a matrix");
            break;
        }
        case KEY_NPAGE: s.view.scroll += LINES / 2; break;
        case KEY_PPAGE: s.view.scroll -= LINES / 2; break;
        default: break;
        }
        if (s.view.scroll > s.view.content_h - 4)
            s.view.scroll = s.view.content_h - 4;
        if (s.view.scroll < 0)
            s.view.scroll = 0;
    }
out:
    run_free(&s.r);
    mem_free(s.breaks);
    predict_score_free(&s.score);
    return rc;
}

/* ---------------------------------------------------------------------------------------
 * The home screen. */

static int matches(const topic *t, const char *filter)
{
    if (!*filter)
        return 1;
    const char *fields[4] = {t->id, t->title, t->family, t->summary};
    size_t fl = strlen(filter);
    for (int k = 0; k < 4; k++) {
        const char *f = fields[k];
        if (!f)
            continue;
        for (; *f; f++)
            if (strncasecmp(f, filter, fl) == 0)
                return 1;
    }
    return 0;
}

/* The home screen has two modes, as in less, vim and nnn: letters are commands, and `/`
 * starts a filter that takes every printable key until Enter or Esc ends it. */
static const char *const home_keys[] = {"↑/↓",    "move", "Enter", "open", "/",
                                        "filter", "t",    "notes", "x",    "exercise",
                                        "?",      "help", "q",     "quit", NULL};
static const char *const home_keys_ascii[] = {"Up/Down", "move", "Enter", "open", "/",
                                              "filter",  "t",    "notes", "x",    "exercise",
                                              "?",       "help", "q",     "quit", NULL};
static const char *const filter_keys[] = {"type", "filter", "↑/↓",   "move", "Enter",
                                          "open", "Esc",    "clear", NULL};
static const char *const filter_keys_ascii[] = {"type", "filter", "Up/Down", "move", "Enter",
                                                "open", "Esc",    "clear",   NULL};

/* Each topic's exercise status (an exercise_state), or -1 when it has no exercise. Read
 * again whenever the home screen comes back, so a run in another terminal shows. */
static void read_exercises(int *ex, char *status, size_t n)
{
    for (size_t i = 0; i < topic_count && i < 256; i++) {
        ex[i] = -1;
        for (size_t e = 0; e < exercise_count; e++)
            if (exercise_table[e].topic &&
                strcmp(exercise_table[e].topic, topic_registry[i]->id) == 0) {
                ex[i] = (int)exercise_status(topic_registry[i]->id);
                break;
            }
    }
    const char *w = exercise_warning();
    if (w)
        snprintf(status, n, "%s", w);
}

/* Selects the first shown topic whose id starts with the filter: typing an id and Enter
 * opens it, even when others match by family or summary. */
static size_t first_id_match(const char *filter, size_t flen)
{
    for (size_t i = 0, k = 0; i < topic_count; i++) {
        if (!matches(topic_registry[i], filter))
            continue;
        if (strncasecmp(topic_registry[i]->id, filter, flen) == 0)
            return k;
        k++;
    }
    return 0;
}

static int home_screen(void)
{
    char filter[64] = "";
    size_t flen = 0, sel = 0;
    int filtering = 0; /* after `/`: keys go into the filter */
    char status[200] = "";
    const topic *shown[256];
    int ex[256], shown_ex[256];
    read_exercises(ex, status, sizeof status);
    for (;;) {
        size_t ns = 0;
        for (size_t i = 0; i < topic_count && ns < 256; i++)
            if (matches(topic_registry[i], filter)) {
                shown_ex[ns] = ex[i];
                shown[ns++] = topic_registry[i];
            }
        if (sel >= ns)
            sel = ns ? ns - 1 : 0;
        if (tty_big_enough()) {
            erase();
            tty_fill(0, 0, COLS, TTY_TITLE);
            tty_putf(0, 1, COLS - 2, TTY_TITLE,
                     "tutor %s: step through algorithms and sequence models", TUTOR_VERSION);
            int x = tty_put(1, 1, -1, filtering ? TTY_KEY : TTY_DIM, filtering ? "/" : "filter: ");
            if (flen)
                x += tty_put(1, 1 + x, COLS - 2 - x, TTY_NORMAL, filter);
            else if (!filtering)
                tty_put(1, 1 + x, COLS - 2 - x, TTY_DIM, "(none: / starts one)");
            if (filtering)
                tty_put(1, 1 + x, 1, TTY_SELECT, " ");
            /* Rows: a heading per family, then its topics; scrolled to show the selection. */
            int top = 3, rows = LINES - 6;
            int nrows = 0, sel_row = 0;
            const char *fam = NULL;
            for (size_t i = 0; i < ns; i++) {
                if (!fam || strcmp(fam, shown[i]->family) != 0) {
                    fam = shown[i]->family;
                    nrows += nrows ? 2 : 1;
                }
                if (i == sel)
                    sel_row = nrows;
                nrows++;
            }
            int first = sel_row - rows + 2 > 0 ? sel_row - rows + 2 : 0;
            if (first > 0 && sel_row < first + 1)
                first = sel_row - 1;
            int row = 0;
            fam = NULL;
            tty_clip((tty_rect){top, 0, rows, COLS});
            for (size_t i = 0; i < ns; i++) {
                if (!fam || strcmp(fam, shown[i]->family) != 0) {
                    fam = shown[i]->family;
                    row += row ? 1 : 0;
                    tty_put(top + row - first, 1, COLS - 2, TTY_HEADING, fam);
                    row++;
                }
                int y = top + row - first;
                int st = i == sel ? TTY_SELECT : TTY_NORMAL;
                if (i == sel)
                    tty_fill(y, 0, COLS, TTY_SELECT);
                tty_put(y, 1, 1, st, i == sel ? tty_g->arrow : " ");
                /* The exercise status sits at the right; title and summary fill the rest. */
                static const char *const ex_word[] = {"exercise: to do", "exercise: failing",
                                                      "exercise: passing"};
                static const int ex_style[] = {TTY_DIM, TTY_ERROR, TTY_OK};
                int right = COLS - 1;
                if (shown_ex[i] >= 0 && shown_ex[i] <= 2) {
                    int w = tty_width(ex_word[shown_ex[i]]);
                    right = COLS - w - 2;
                    tty_put(y, right + 1, w, i == sel ? TTY_SELECT : ex_style[shown_ex[i]],
                            ex_word[shown_ex[i]]);
                }
                tty_put(y, 3, 12, st, shown[i]->id);
                int tx = 16 + tty_put_ell(y, 16, right - 17, st, shown[i]->title);
                if (shown[i]->summary && tx + 6 < right) {
                    tty_put(y, tx, 3, st, "  ");
                    tty_put_ell(y, tx + 2, right - tx - 3, i == sel ? TTY_SELECT : TTY_DIM,
                                shown[i]->summary);
                }
                row++;
            }
            tty_clip_reset();
            if (ns == 0)
                tty_put(top, 3, COLS - 4, TTY_DIM,
                        topic_count ? "no topic matches the filter (Esc clears it)"
                                    : "no topics are registered in this build");
            if (status[0])
                tty_put(LINES - 3, 1, COLS - 2, TTY_ERROR, status);
            else if (ns)
                tty_put(LINES - 3, 1, COLS - 2, TTY_DIM, shown[sel]->summary);
            int ascii = tty_g->arrow[0] == '>';
            draw_keys(LINES - 1, filtering ? (ascii ? filter_keys_ascii : filter_keys)
                                           : (ascii ? home_keys_ascii : home_keys));
            refresh();
        }
        int ch = tty_key(-1);
        if (ch == TTY_KEY_SIGNAL)
            return TTY_KEY_SIGNAL;
        if (ch == KEY_RESIZE || ch == ERR)
            continue;
        status[0] = '\0';
        int rc = 0;
        int open = 0;
        if (ch == KEY_UP || (!filtering && ch == 'k')) {
            if (sel > 0)
                sel--;
        } else if (ch == KEY_DOWN || (!filtering && ch == 'j')) {
            if (sel + 1 < ns)
                sel++;
        } else if (ch == KEY_HOME) {
            sel = 0;
        } else if (ch == KEY_END) {
            sel = ns ? ns - 1 : 0;
        } else if (is_enter(ch) || ch == KEY_RIGHT) {
            filtering = 0; /* the filter stays, so coming back shows the same list */
            open = 1;
        } else if (ch == KEY_ESC) {
            filtering = 0;
            flen = 0;
            filter[0] = '\0';
        } else if (filtering) {
            if (ch == KEY_BACKSPACE || ch == 127 || ch == CTRL('h')) {
                if (flen)
                    filter[--flen] = '\0';
                else
                    filtering = 0;
            } else if (ch < 256 && isprint(ch) && flen + 1 < sizeof filter) {
                filter[flen++] = (char)ch;
                filter[flen] = '\0';
                sel = first_id_match(filter, flen);
            }
        } else {
            switch (ch) {
            case '/': /* a new filter, as / starts a new search in less and vim */
                filtering = 1;
                flen = 0;
                filter[0] = '\0';
                break;
            case 'q': return 0;
            case '?': rc = help_screen(NULL); break;
            case 't':
                if (ns)
                    rc = notes_screen(shown[sel]);
                break;
            case 'x':
                if (ns)
                    rc = exercise_screen(shown[sel]->id);
                break;
            default:
                if (ch < 256 && isprint(ch))
                    snprintf(status, sizeof status,
                             "'%c' is not a command here: / starts a filter, ? lists the keys", ch);
                break;
            }
        }
        if (open && ns)
            rc = topic_screen(shown[sel]);
        if (rc == TTY_KEY_SIGNAL)
            return rc;
        read_exercises(ex, status, sizeof status);
        if (rc == TUTOR_ENOMEM)
            snprintf(status, sizeof status, "out of memory opening the topic");
    }
}

int ui_main(FILE *err)
{
    char msg[256];
    if (tty_open(msg, sizeof msg)) {
        fprintf(err, "tutor: %s; the batch commands still work (tutor --help)\n", msg);
        return 1;
    }
    int rc = home_screen();
    tty_close();
    views_cleanup();
    if (tty_signalled())
        return 128 + tty_signalled();
    if (rc && rc != TTY_KEY_SIGNAL) {
        fprintf(err, "tutor: %s\n", status_strerror(rc));
        return 1;
    }
    return 0;
}
