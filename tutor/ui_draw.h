/* ui_draw.h: the drawing primitives every screen of the interactive tutor shares.
 *
 * Everything is drawn on stdscr through ui_put, which clips to the current clip rectangle
 * (the whole screen by default) and to the screen itself, and counts display columns of
 * UTF-8 text, so no view can ever draw outside the window or wrap onto the next line.
 * Colours are used only when the terminal has them and NO_COLOR is unset; every state
 * that colour shows is also shown by a glyph or bracket, so nothing is lost without it. */
#ifndef TUTOR_UI_DRAW_H
#define TUTOR_UI_DRAW_H

/* ncurses declares a debugging function `trace` and TRACE_* masks (TRACE_MOVE among
 * them) that clash with trace/trace.h: rename the one and drop the others, so this is
 * the only place curses.h may be included. */
#define trace ui_ncurses_trace
#include <curses.h>
#undef trace
#undef TRACE_DISABLE
#undef TRACE_TIMES
#undef TRACE_TPUTS
#undef TRACE_UPDATE
#undef TRACE_MOVE
#undef TRACE_CHARPUT
#undef TRACE_ORDINARY
#undef TRACE_CALLS
#undef TRACE_VIRTPUT
#undef TRACE_IEVENT
#undef TRACE_BITS
#undef TRACE_ICALLS
#undef TRACE_CCALLS
#undef TRACE_DATABASE
#undef TRACE_ATTRS
#undef TRACE_SHIFT
#undef TRACE_MAXIMUM
#include <stddef.h>

#include "../trace/trace.h"

/* A rectangle of the screen: top row, left column, height, width. */
typedef struct ui_rect {
    int y, x, h, w;
} ui_rect;

/* What a piece of text is, which picks its attributes (colour or, without colour, bold,
 * reverse, underline). The trace roles map to UI_ROLE + role. */
enum ui_style {
    UI_NORMAL = 0,
    UI_TITLE,   /* the title bar */
    UI_CURLINE, /* the running pseudo-code line */
    UI_BREAK,   /* a breakpoint glyph */
    UI_ERROR,   /* an error message */
    UI_OK,      /* a right answer */
    UI_DIM,     /* secondary text: indices, hints, line numbers */
    UI_HEADING, /* headings in notes and views */
    UI_CODE,    /* code blocks in notes */
    UI_KEY,     /* key names in the footer */
    UI_SELECT,  /* the selected row of a menu */
    UI_PATH,    /* a path through a structure (a heap's sift) */
    UI_ROLE,    /* UI_ROLE + trace_role */
    UI_STYLE_COUNT = UI_ROLE + TRACE_ROLE_COUNT
};

/* The glyphs in use: UTF-8 box drawing and blocks when the locale is UTF-8, ASCII
 * otherwise. */
typedef struct ui_glyphs {
    const char *bar[9];   /* eighth blocks, bar[0] blank .. bar[8] full */
    const char *shade[5]; /* light to dark */
    const char *hline, *vline, *tee, *corner, *arrow, *bullet, *ellipsis, *breakpt, *cross, *check,
        *tl, *tr, *bl, *br, *larrow, *rarrow;
} ui_glyphs;

extern const ui_glyphs *ui_g;

/* Decides colours (has_colors() and NO_COLOR unset) and glyphs (UTF-8 locale); call once
 * after newterm. */
void ui_draw_init(void);

/* Spells text above ASCII out in ASCII (on) or leaves it to the locale (off), for
 * ui_put, ui_width, ui_fit and ui_char alike. ui_draw_init sets it from the locale (on
 * outside UTF-8); tests set it directly, without a terminal. O(1). */
void ui_set_ascii_text(int on);

/* 1 when colours are on, 2 when 256 colours are on too, else 0. */
int ui_colors(void);

/* The attributes for a style. */
attr_t ui_attr(int style);

/* Sets the clip rectangle (intersected with the screen); ui_clip_reset clips to the
 * screen again. */
void ui_clip(ui_rect r);
void ui_clip_reset(void);

/* Draws UTF-8 text s at (y, x) in style, at most maxw display columns (maxw < 0: up to
 * the clip edge), clipped to the clip rectangle. Invalid bytes draw as '?', control
 * characters as spaces. Returns the columns the text took (as if unclipped on the
 * right, up to maxw), so callers can lay out what follows. */
int ui_put(int y, int x, int maxw, int style, const char *s);

/* Like ui_put with printf formatting (at most 1023 bytes of output are kept). */
int ui_putf(int y, int x, int maxw, int style, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* Like ui_put, but text wider than maxw ends in an ellipsis so the cut shows. */
int ui_put_ell(int y, int x, int maxw, int style, const char *s);

/* Fills w columns of row y from x with spaces in style (clipped). */
void ui_fill(int y, int x, int w, int style);

/* Display width of UTF-8 s (invalid bytes count 1). */
int ui_width(const char *s);

/* Byte length of the longest prefix of UTF-8 s that fits in w columns. */
size_t ui_fit(const char *s, int w);

/* Byte length of the first character of UTF-8 s (0 at the end) and its display width in
 * *cw (invalid bytes: 1 byte, width 1). */
size_t ui_char(const char *s, int *cw);

/* Draws a one-line box border around r (ASCII or UTF-8). */
void ui_box(ui_rect r, int style);

/* Draws w cells at (y, x) showing a value at fraction t in [0, 1] of a matrix's range:
 * background colours from a 256-colour ramp when available, else shade glyphs (coloured
 * when 8 colours are on). t outside [0, 1] or NaN draws a blank. Clipped. */
void ui_put_ramp(int y, int x, int w, double t);

/* The terminal. ui_term_open starts curses on stdin/stdout with newterm (a bad TERM gives
 * an error, not an exit), in cbreak/noecho/keypad mode with the cursor hidden, and installs
 * SIGINT/SIGTERM handlers that only set a flag. Returns 0, or -1 with a line in err.
 * ui_term_close ends curses and restores the terminal and the old handlers; safe to call
 * twice and after a failed open. */
int ui_term_open(char *err, size_t errlen);
void ui_term_close(void);

/* Waits up to timeout_ms (< 0: forever) for a key. Returns the key (KEY_RESIZE included),
 * ERR on timeout, or UI_KEY_SIGNAL once SIGINT or SIGTERM arrived (and every call after). */
#define UI_KEY_SIGNAL (-2)
int ui_key(int timeout_ms);

/* The signal that asked to stop (SIGINT, SIGTERM), or 0. */
int ui_signalled(void);

/* The pagers' scrolling keys (notes, exercise report): moves *top for ch over a text of
 * which `page` lines show and `last` is the largest useful *top. Returns 1 when ch was one
 * of them (arrows, j/k, Enter, PgUp/PgDn, space, b, Home/End, g/G), else 0. The caller
 * clamps *top to [0, last] before drawing. */
int ui_pager_key(int ch, int *top, int page, int last);

/* 1 when the screen is at least UI_MIN_COLS x UI_MIN_ROWS; else draws a message saying so
 * (refreshing the screen) and returns 0. */
#define UI_MIN_COLS 80
#define UI_MIN_ROWS 24
int ui_big_enough(void);

#endif
