/* tty.h: the drawing primitives every screen of the interactive tutor shares.
 *
 * Everything is drawn on stdscr through tty_put, which clips to the current clip rectangle
 * (the whole screen by default) and to the screen itself, and counts display columns of
 * UTF-8 text, so no view can ever draw outside the window or wrap onto the next line.
 * Colours are used only when the terminal has them and NO_COLOR is unset; every state
 * that colour shows is also shown by a glyph or bracket, so nothing is lost without it. */
#ifndef TUTOR_UI_DRAW_H
#define TUTOR_UI_DRAW_H

/* ncurses declares a debugging function `trace` and TRACE_* masks (TRACE_MOVE among
 * them) that clash with trace/trace.h: rename the one and drop the others, so this is
 * the only place curses.h may be included. */
#define trace tty_ncurses_trace
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

#include "../../trace/trace.h"

/* A rectangle of the screen: top row, left column, height, width. */
typedef struct tty_rect {
    int y, x, h, w;
} tty_rect;

/* What a piece of text is, which picks its attributes (colour or, without colour, bold,
 * reverse, underline). The trace roles map to TTY_ROLE + role. */
enum tty_style {
    TTY_NORMAL = 0,
    TTY_TITLE,   /* the title bar */
    TTY_CURLINE, /* the running pseudo-code line */
    TTY_BREAK,   /* a breakpoint glyph */
    TTY_ERROR,   /* an error message */
    TTY_OK,      /* a right answer */
    TTY_DIM,     /* secondary text: indices, hints, line numbers */
    TTY_HEADING, /* headings in notes and views */
    TTY_CODE,    /* code blocks in notes */
    TTY_KEY,     /* key names in the footer */
    TTY_SELECT,  /* the selected row of a menu */
    TTY_PATH,    /* a path through a structure (a heap's sift) */
    TTY_ROLE,    /* TTY_ROLE + trace_role */
    TTY_STYLE_COUNT = TTY_ROLE + TRACE_ROLE_COUNT
};

/* The glyphs in use: UTF-8 box drawing and blocks when the locale is UTF-8, ASCII
 * otherwise. */
typedef struct tty_glyphs {
    const char *bar[9];   /* eighth blocks, bar[0] blank .. bar[8] full */
    const char *shade[5]; /* light to dark */
    const char *hline, *vline, *tee, *corner, *arrow, *bullet, *ellipsis, *breakpt, *cross, *check,
        *tl, *tr, *bl, *br, *larrow, *rarrow;
} tty_glyphs;

extern const tty_glyphs *tty_g;

/* Decides colours (has_colors() and NO_COLOR unset) and glyphs (UTF-8 locale); call once
 * after newterm. */
void tty_init(void);

/* Spells text above ASCII out in ASCII (on) or leaves it to the locale (off), for
 * tty_put, tty_width, tty_fit and tty_char alike. tty_init sets it from the locale (on
 * outside UTF-8); tests set it directly, without a terminal. O(1). */
void tty_set_ascii_text(int on);

/* 1 when colours are on, 2 when 256 colours are on too, else 0. */
int tty_colors(void);

/* The attributes for a style. */
attr_t tty_attr(int style);

/* Sets the clip rectangle (intersected with the screen); tty_clip_reset clips to the
 * screen again. */
void tty_clip(tty_rect r);
void tty_clip_reset(void);

/* Draws UTF-8 text s at (y, x) in style, at most maxw display columns (maxw < 0: up to
 * the clip edge), clipped to the clip rectangle. Invalid bytes draw as '?', control
 * characters as spaces. Returns the columns the text took (as if unclipped on the
 * right, up to maxw), so callers can lay out what follows. */
int tty_put(int y, int x, int maxw, int style, const char *s);

/* Like tty_put with printf formatting (at most 1023 bytes of output are kept). */
int tty_putf(int y, int x, int maxw, int style, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* Like tty_put, but text wider than maxw ends in an ellipsis so the cut shows. */
int tty_put_ell(int y, int x, int maxw, int style, const char *s);

/* Fills w columns of row y from x with spaces in style (clipped). */
void tty_fill(int y, int x, int w, int style);

/* Display width of UTF-8 s (invalid bytes count 1). */
int tty_width(const char *s);

/* Byte length of the longest prefix of UTF-8 s that fits in w columns. */
size_t tty_fit(const char *s, int w);

/* Byte length of the first character of UTF-8 s (0 at the end) and its display width in
 * *cw (invalid bytes: 1 byte, width 1). */
size_t tty_char(const char *s, int *cw);

/* Draws a one-line box border around r (ASCII or UTF-8). */
void tty_box(tty_rect r, int style);

/* Draws w cells at (y, x) showing a value at fraction t in [0, 1] of a matrix's range:
 * background colours from a 256-colour ramp when available, else shade glyphs (coloured
 * when 8 colours are on). t outside [0, 1] or NaN draws a blank. Clipped. */
void tty_put_ramp(int y, int x, int w, double t);

/* The terminal. tty_open starts curses on stdin/stdout with newterm (a bad TERM gives
 * an error, not an exit), in cbreak/noecho/keypad mode with the cursor hidden, and installs
 * SIGINT/SIGTERM handlers that only set a flag. Returns 0, or -1 with a line in err.
 * tty_close ends curses and restores the terminal and the old handlers; safe to call
 * twice and after a failed open. */
int tty_open(char *err, size_t errlen);
void tty_close(void);

/* Waits up to timeout_ms (< 0: forever) for a key. Returns the key (KEY_RESIZE included),
 * ERR on timeout, or TTY_KEY_SIGNAL once SIGINT or SIGTERM arrived (and every call after). */
#define TTY_KEY_SIGNAL (-2)
int tty_key(int timeout_ms);

/* The signal that asked to stop (SIGINT, SIGTERM), or 0. */
int tty_signalled(void);

/* The pagers' scrolling keys (notes, exercise report): moves *top for ch over a text of
 * which `page` lines show and `last` is the largest useful *top. Returns 1 when ch was one
 * of them (arrows, j/k, Enter, PgUp/PgDn, space, b, Home/End, g/G), else 0. The caller
 * clamps *top to [0, last] before drawing. */
int tty_pager_key(int ch, int *top, int page, int last);

/* 1 when the screen is at least TTY_MIN_COLS x TTY_MIN_ROWS; else draws a message saying so
 * (refreshing the screen) and returns 0. */
#define TTY_MIN_COLS 80
#define TTY_MIN_ROWS 24
int tty_big_enough(void);

#endif
