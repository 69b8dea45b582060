#include "notes.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../trace/mem.h"
#include "../../trace/status.h"
#include "tty.h"

#ifndef TUTOR_SRCDIR
#define TUTOR_SRCDIR "."
#endif
#ifndef TUTOR_DATADIR
#define TUTOR_DATADIR "/usr/local/share/tutor"
#endif

int notes_find(const topic *t, strbuf *path)
{
    const char *dirs[3] = {getenv("TUTOR_DOCS"), TUTOR_SRCDIR "/docs", TUTOR_DATADIR "/docs"};
    strbuf file = STRBUF_INIT;
    if (t->notes && *t->notes)
        strbuf_puts(&file, t->notes);
    else
        strbuf_printf(&file, "%s.md", t->id);
    for (int k = 0; k < 3; k++) {
        if (!dirs[k] || !*dirs[k])
            continue;
        strbuf_clear(path);
        strbuf_printf(path, "%s/%s", dirs[k], strbuf_str(&file));
        if (path->failed || file.failed)
            break;
        if (access(strbuf_str(path), R_OK) == 0) {
            strbuf_free(&file);
            return 0;
        }
    }
    int failed = path->failed || file.failed;
    strbuf_clear(path);
    strbuf_printf(path, "no notes file %s: looked in %s%s%s/docs and %s/docs", strbuf_str(&file),
                  dirs[0] && *dirs[0] ? dirs[0] : "", dirs[0] && *dirs[0] ? ", " : "", TUTOR_SRCDIR,
                  TUTOR_DATADIR);
    strbuf_free(&file);
    return failed || path->failed ? TUTOR_ENOMEM : TUTOR_ENOTFOUND;
}

int notes_read(const char *path, strbuf *text)
{
    strbuf_clear(text);
    FILE *f = fopen(path, "r");
    if (!f)
        return TUTOR_EIO;
    char buf[4096];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0)
        strbuf_putn(text, buf, k);
    int bad = ferror(f);
    fclose(f);
    if (text->failed)
        return TUTOR_ENOMEM;
    return bad ? TUTOR_EIO : 0;
}

/* ---------------------------------------------------------------------------------------
 * Rendering. */

static int md_push(notes_doc *md, int style, int indent, const char *s, size_t len)
{
    if (md->n == md->cap) {
        size_t cap = md->cap ? 2 * md->cap : 64;
        notes_line *v = mem_realloc_array(md->lines, cap, sizeof *v);
        if (!v)
            return TUTOR_ENOMEM;
        md->lines = v;
        md->cap = cap;
    }
    char *text = mem_alloc(len + 1);
    if (!text)
        return TUTOR_ENOMEM;
    memcpy(text, s, len);
    text[len] = '\0';
    md->lines[md->n++] = (notes_line){style, indent, text};
    return 0;
}

static int md_blank(notes_doc *md)
{
    if (md->n == 0 || md->lines[md->n - 1].text[0] == '\0')
        return 0;
    return md_push(md, TTY_NORMAL, 0, "", 0);
}

/* Appends s (n bytes) to out without inline markers: ** and __ and backticks dropped,
 * [text](url) written "text (url)".
 *
 * Each opener looks ahead for its closer, and every opener before a closer finds the same
 * one, so the closers are remembered (star, bracket, paren: the first at or after where
 * they were looked for, n for none) and looked for again only once passed. Searching anew
 * for each opener made a line of openers with no closer ("*a *a *a ...", "[[[...")
 * quadratic: 90 kB of notes took over a minute. Now each call reads s a bounded number of
 * times, and the recursion (a link's text, an emphasis) is at most three deep. */
static void inline_strip(strbuf *out, const char *s, size_t n)
{
    size_t star = 0, bracket = 0, paren = 0;
    int have_star = 0, have_bracket = 0, have_paren = 0;
    for (size_t i = 0; i < n; i++) {
        if ((s[i] == '*' || s[i] == '_') && i + 1 < n && s[i + 1] == s[i]) {
            i++;
            continue;
        }
        if (s[i] == '`')
            continue;
        /* *emphasis*: a star opening a word, closed by a star ending one. A lone star
         * (a * b, 2*n) stays. */
        if (s[i] == '*' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '(') && i + 1 < n &&
            s[i + 1] != ' ' && s[i + 1] != '*') {
            if (!have_star || star <= i) {
                star = i + 1;
                while (star < n && !(s[star] == '*' && s[star - 1] != ' '))
                    star++;
                have_star = 1;
            }
            size_t j = star;
            if (j < n && (j + 1 == n || !isalnum((unsigned char)s[j + 1]))) {
                inline_strip(out, s + i + 1, j - i - 1);
                i = j;
                continue;
            }
        }
        if (s[i] == '[') {
            if (!have_bracket || bracket < i) {
                const char *c = memchr(s + i, ']', n - i);
                bracket = c ? (size_t)(c - s) : n;
                have_bracket = 1;
            }
            size_t close = bracket;
            if (close + 1 < n && s[close + 1] == '(') {
                if (!have_paren || paren < close) {
                    const char *e = memchr(s + close, ')', n - close);
                    paren = e ? (size_t)(e - s) : n;
                    have_paren = 1;
                }
                size_t end = paren;
                if (end < n) {
                    inline_strip(out, s + i + 1, close - i - 1);
                    strbuf_puts(out, " (");
                    strbuf_putn(out, s + close + 2, end - close - 2);
                    strbuf_putc(out, ')');
                    i = end;
                    continue;
                }
            }
        }
        strbuf_putc(out, s[i]);
    }
}

/* Word-wraps text into lines of at most width - indent columns; continuation lines get
 * indent + hang. A word longer than a line is cut. */
static int md_wrap(notes_doc *md, int style, int indent, int hang, const char *text, int width)
{
    int first = 1;
    const char *p = text;
    while (*p == ' ')
        p++;
    while (*p) {
        int ind = first ? indent : indent + hang;
        int avail = width - ind;
        if (avail < 8)
            avail = 8;
        size_t end = 0, last_space = 0;
        int cols = 0;
        while (p[end]) {
            int cw;
            size_t k = tty_char(p + end, &cw);
            if (cols + cw > avail)
                break;
            if (p[end] == ' ')
                last_space = end;
            cols += cw;
            end += k;
        }
        if (end == 0) {
            int cw;
            end = tty_char(p, &cw); /* wider than the line: cut it rather than loop */
        }
        size_t cut = end;
        if (p[end] && last_space > 0)
            cut = last_space;
        if (md_push(md, style, ind, p, cut))
            return TUTOR_ENOMEM;
        p += cut;
        while (*p == ' ')
            p++;
        first = 0;
    }
    return 0;
}

static int is_rule(const char *s, size_t n)
{
    size_t k = 0;
    char c = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ')
            continue;
        if (s[i] != '-' && s[i] != '*' && s[i] != '_')
            return 0;
        if (c && s[i] != c)
            return 0;
        c = s[i];
        k++;
    }
    return k >= 3;
}

/* Length of a list marker at s ("- ", "* ", "+ ", "12. ", "3) "), or 0. */
static size_t list_marker(const char *s, size_t n)
{
    if (n >= 2 && (s[0] == '-' || s[0] == '*' || s[0] == '+') && s[1] == ' ')
        return 2;
    size_t i = 0;
    while (i < n && isdigit((unsigned char)s[i]))
        i++;
    if (i > 0 && i + 1 < n && (s[i] == '.' || s[i] == ')') && s[i + 1] == ' ')
        return i + 2;
    return 0;
}

/* A table's line: its text without leading spaces or a trailing CR, and where the next line
 * starts. */
static const char *table_line(const char *p, size_t *len, const char **next)
{
    const char *eol = strchr(p, '\n');
    size_t n = eol ? (size_t)(eol - p) : strlen(p);
    *next = eol ? eol + 1 : p + n;
    if (n && p[n - 1] == '\r')
        n--;
    while (n && *p == ' ') {
        p++;
        n--;
    }
    *len = n;
    return p;
}

/* The next cell of a table row at *p (n bytes left), without its spaces; advances past
 * it. Returns 0 when the row has no more cells. */
static int table_cell(const char **p, size_t *n, const char **cell, size_t *clen)
{
    if (*n && **p == '|') {
        (*p)++;
        (*n)--;
    }
    if (*n == 0)
        return 0;
    const char *bar = memchr(*p, '|', *n);
    size_t k = bar ? (size_t)(bar - *p) : *n;
    const char *c = *p;
    size_t cl = k;
    while (cl && *c == ' ') {
        c++;
        cl--;
    }
    while (cl && c[cl - 1] == ' ')
        cl--;
    *p += k;
    *n -= k;
    if (!bar && cl == 0)
        return 0; /* the space after a closing bar */
    *cell = c;
    *clen = cl;
    return 1;
}

/* Whether a row is the |---|:---:| line under a header. */
static int table_separator(const char *s, size_t n)
{
    int dash = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '-')
            dash = 1;
        else if (s[i] != '|' && s[i] != ':' && s[i] != ' ')
            return 0;
    }
    return dash;
}

#define TABLE_MAX_COLS 16

/* Renders the table whose first line is at *pp and advances *pp past its last line. One
 * that fits the width is shown as written; a wider one would be cut at the screen's edge,
 * so each row becomes a list item instead: its first cell, then "header: cell" for the
 * others, each wrapped. */
static int md_table(notes_doc *md, const char **pp, int width)
{
    const char *p = *pp, *next;
    size_t n;
    int fits = 1;
    const char *end = p;
    for (const char *q = p;;) {
        const char *s = table_line(q, &n, &next);
        if (n == 0 || s[0] != '|')
            break;
        /* The line's n bytes fit when they all come within the first width - 2 columns. */
        if (tty_fit(s, width - 2) < n)
            fits = 0;
        end = q = next;
        if (!*q)
            break;
    }
    *pp = end;
    int rc = 0;
    strbuf head[TABLE_MAX_COLS], text = STRBUF_INIT;
    size_t nhead = 0;
    int row = 0;
    for (const char *q = p; q < end; q = next, row++) {
        const char *s = table_line(q, &n, &next);
        if (fits) {
            if (md_push(md, TTY_NORMAL, 2, s, n))
                rc = TUTOR_ENOMEM;
            continue;
        }
        if (table_separator(s, n))
            continue;
        const char *c;
        size_t cl;
        /* The first row is the header when the separator follows it. */
        if (row == 0) {
            size_t n2;
            const char *next2, *s2 = table_line(next, &n2, &next2);
            if (next < end && table_separator(s2, n2)) {
                while (nhead < TABLE_MAX_COLS && table_cell(&s, &n, &c, &cl)) {
                    head[nhead] = (strbuf)STRBUF_INIT;
                    inline_strip(&head[nhead], c, cl);
                    nhead++;
                }
                continue;
            }
        }
        for (size_t col = 0; table_cell(&s, &n, &c, &cl); col++) {
            strbuf_clear(&text);
            if (col == 0) {
                strbuf_puts(&text, tty_g->bullet);
                strbuf_putc(&text, ' ');
            } else if (col < nhead && head[col].len) {
                strbuf_printf(&text, "%s: ", strbuf_str(&head[col]));
            }
            inline_strip(&text, c, cl);
            if (text.failed || md_wrap(md, TTY_NORMAL, col ? 4 : 2, 2, strbuf_str(&text), width))
                rc = TUTOR_ENOMEM;
        }
    }
    for (size_t k = 0; k < nhead; k++) {
        if (head[k].failed)
            rc = TUTOR_ENOMEM;
        strbuf_free(&head[k]);
    }
    strbuf_free(&text);
    return rc;
}

int notes_render(const char *src, int width, notes_doc *md)
{
    notes_free(md);
    if (width < 20)
        width = 20;
    /* A paragraph or list item is gathered whole (its source lines joined by spaces in raw,
     * a list item's bullet or number in para) and its inline markers are stripped once it
     * ends, so that an emphasis or a link may span source lines. */
    strbuf para = STRBUF_INIT, raw = STRBUF_INIT;
    int para_indent = 0, para_hang = 0, para_style = TTY_NORMAL, in_para = 0;
    int in_code = 0, rc = 0;
    const char *p = src;
#define FLUSH()                                                                                    \
    do {                                                                                           \
        if (in_para) {                                                                             \
            if (!raw.failed)                                                                       \
                inline_strip(&para, strbuf_str(&raw), raw.len);                                    \
            if (raw.failed || para.failed ||                                                       \
                md_wrap(md, para_style, para_indent, para_hang, strbuf_str(&para), width))         \
                goto nomem;                                                                        \
            strbuf_clear(&para);                                                                   \
            strbuf_clear(&raw);                                                                    \
            in_para = 0;                                                                           \
        }                                                                                          \
    } while (0)
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        const char *next = eol ? eol + 1 : p + n;
        if (n && p[n - 1] == '\r')
            n--;
        size_t lead = 0;
        while (lead < n && p[lead] == ' ')
            lead++;
        const char *s = p + lead;
        size_t sn = n - lead;
        if (sn >= 3 && strncmp(s, "```", 3) == 0) {
            FLUSH();
            if (!in_code && md_blank(md))
                goto nomem;
            in_code = !in_code;
            if (!in_code && md_blank(md))
                goto nomem;
        } else if (in_code) {
            if (md_push(md, TTY_CODE, 4, p, n))
                goto nomem;
        } else if (sn == 0) {
            FLUSH();
            if (md_blank(md))
                goto nomem;
        } else if (lead >= 4 && !in_para) {
            /* Only the four spaces that mark the block go: deeper ones are the code's own
             * indentation (a continued line lined up under the one before). */
            if (md_push(md, TTY_CODE, 4, p + 4, n - 4))
                goto nomem;
        } else if (s[0] == '#') {
            FLUSH();
            size_t h = 0;
            while (h < sn && s[h] == '#')
                h++;
            while (h < sn && s[h] == ' ')
                h++;
            if (md_blank(md))
                goto nomem;
            strbuf_clear(&para);
            inline_strip(&para, s + h, sn - h);
            if (para.failed || md_wrap(md, TTY_HEADING, 0, 0, strbuf_str(&para), width))
                goto nomem;
            strbuf_clear(&para);
        } else if (is_rule(s, sn)) {
            FLUSH();
            strbuf rule = STRBUF_INIT;
            for (int k = 0; k < width && k < 60; k++)
                strbuf_puts(&rule, tty_g->hline);
            int bad = rule.failed || md_push(md, TTY_DIM, 0, strbuf_str(&rule), rule.len);
            strbuf_free(&rule);
            if (bad)
                goto nomem;
        } else if (s[0] == '|') {
            FLUSH();
            if (md_table(md, &p, width))
                goto nomem;
            continue; /* p is past the table */
        } else if (s[0] == '>') {
            FLUSH();
            size_t q = sn > 1 && s[1] == ' ' ? 2 : 1;
            strbuf_clear(&para);
            inline_strip(&para, s + q, sn - q);
            if (para.failed || md_wrap(md, TTY_DIM, 2, 0, strbuf_str(&para), width))
                goto nomem;
            strbuf_clear(&para);
        } else if (list_marker(s, sn)) {
            FLUSH();
            size_t m = list_marker(s, sn);
            in_para = 1;
            para_style = TTY_NORMAL;
            para_indent = (int)lead + 2;
            para_hang = (int)m;
            if (s[0] == '-' || s[0] == '*' || s[0] == '+') {
                strbuf_puts(&para, tty_g->bullet);
                strbuf_putc(&para, ' ');
                para_hang = 2;
            } else {
                strbuf_putn(&para, s, m);
            }
            strbuf_putn(&raw, s + m, sn - m);
        } else {
            if (!in_para) {
                in_para = 1;
                para_style = TTY_NORMAL;
                para_indent = 0;
                para_hang = 0;
            } else {
                strbuf_putc(&raw, ' ');
            }
            strbuf_putn(&raw, s, sn);
        }
        p = next;
    }
    FLUSH();
#undef FLUSH
    strbuf_free(&para);
    strbuf_free(&raw);
    return rc;
nomem:
    strbuf_free(&para);
    strbuf_free(&raw);
    notes_free(md);
    return TUTOR_ENOMEM;
}

void notes_free(notes_doc *md)
{
    for (size_t k = 0; k < md->n; k++)
        mem_free(md->lines[k].text);
    mem_free(md->lines);
    memset(md, 0, sizeof *md);
}

/* ---------------------------------------------------------------------------------------
 * The screen. */

int notes_screen(const topic *t)
{
    strbuf path = STRBUF_INIT, text = STRBUF_INIT;
    notes_doc md = {0};
    int rc = notes_find(t, &path);
    char problem[512] = "";
    if (rc == 0) {
        rc = notes_read(strbuf_str(&path), &text);
        if (rc)
            snprintf(problem, sizeof problem, "cannot read %s: %s", strbuf_str(&path),
                     status_strerror(rc));
    } else {
        snprintf(problem, sizeof problem, "%s", strbuf_str(&path));
    }
    int width = -1, top = 0, result = 0;
    for (;;) {
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
        int wrap = COLS - 2 < 100 ? COLS - 2 : 100;
        if (!problem[0] && wrap != width) {
            if (notes_render(strbuf_str(&text), wrap, &md)) {
                snprintf(problem, sizeof problem, "out of memory rendering the notes");
            }
            width = wrap;
        }
        int max_top = (int)md.n - body;
        if (max_top < 0)
            max_top = 0;
        if (top > max_top)
            top = max_top;
        if (top < 0)
            top = 0;
        erase();
        tty_fill(0, 0, COLS, TTY_TITLE);
        tty_putf(0, 1, COLS - 2, TTY_TITLE, "Notes: %s %s %s", t->id, tty_g->hline, t->title);
        if (problem[0]) {
            tty_put(2, 2, COLS - 4, TTY_ERROR, "No notes to show.");
            strbuf wrapped = STRBUF_INIT;
            notes_doc pm = {0};
            if (notes_render(problem, COLS - 4, &pm) == 0)
                for (size_t k = 0; k < pm.n && (int)k + 4 < body; k++)
                    tty_put(4 + (int)k, 2, COLS - 4, TTY_NORMAL, pm.lines[k].text);
            notes_free(&pm);
            strbuf_free(&wrapped);
        } else {
            for (int r = 0; r < body && top + r < (int)md.n; r++) {
                const notes_line *l = &md.lines[top + r];
                tty_put(1 + r, 1 + l->indent, COLS - 2 - l->indent, l->style, l->text);
            }
        }
        tty_fill(LINES - 1, 0, COLS, TTY_TITLE);
        tty_putf(LINES - 1, 1, COLS - 2, TTY_TITLE,
                 "j/k or arrows scroll  PgUp/PgDn/space page  Home/End  q back   %d-%d of %zu",
                 md.n ? top + 1 : 0, top + body < (int)md.n ? top + body : (int)md.n, md.n);
        refresh();
        int ch = tty_key(-1);
        if (ch == TTY_KEY_SIGNAL) {
            result = TTY_KEY_SIGNAL;
            break;
        }
        if (ch == 'q' || ch == 27 || ch == 't' || ch == KEY_LEFT || ch == 'h')
            break;
        tty_pager_key(ch, &top, body, max_top);
    }
    notes_free(&md);
    strbuf_free(&path);
    strbuf_free(&text);
    return result;
}
