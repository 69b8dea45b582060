/* gnuplot.h: one gnuplot process per figure, driven through a pipe.
 *
 * A figure session collects a whole gnuplot script in memory (data as datablocks, then the
 * commands), and gp_render starts gnuplot at the end and sends it the script through a pipe
 * to its stdin: nothing reaches gnuplot, a file or the terminal until the figure is
 * complete, and no temporary data files exist. gnuplot writes the figure to a hidden file
 * beside the target that is renamed into place only when gnuplot exits with status 0, so a
 * failed figure leaves nothing behind. Its messages come back on a pipe too and never reach
 * the terminal (which curses may own); a dumb figure's text comes back the same way.
 *
 * This is the project's one way to run gnuplot: `tutor plot` and the UI's in-terminal plots
 * (tutor/ui/textplot.c) both render here. The UI sets a timeout (gp_set_timeout), so a gnuplot
 * that hangs is killed rather than freezing the screen.
 *
 * Safety: gnuplot runs shell commands from `system(...)` and from backquotes inside
 * double-quoted strings, and expands `@macros`. Every piece of text that did not come from
 * this program's own source (titles, labels, captions, file names) goes through gp_quote,
 * which writes a double-quoted literal in which quotes, backslashes, newlines, backquotes and
 * `@` appear only as escapes: the text is drawn, never executed. gp_raw is for commands
 * built from constants and numbers only.
 *
 * When gnuplot is not installed, gp_render writes the script (with its data) to FIGURE.gp
 * next to where the figure would have gone, so it can be rendered later with `gnuplot
 * FIGURE.gp`, and returns TUTOR_ENOTFOUND. */
#ifndef TUTOR_GNUPLOT_H
#define TUTOR_GNUPLOT_H

#include <stddef.h>

#include "../trace/strbuf.h"

typedef enum gp_format {
    GP_PNG,  /* pngcairo */
    GP_SVG,  /* svg */
    GP_PDF,  /* pdfcairo */
    GP_DUMB, /* plain text (gnuplot's form feeds are dropped) */
    GP_GIF,  /* gif, animated when the session is opened with animate */
    GP_FORMAT_COUNT
} gp_format;

/* Sets *fmt from its name ("png", "svg", "pdf", "dumb", "gif"). Returns 0 or TUTOR_EINVAL. */
int gp_format_parse(const char *name, gp_format *fmt);

/* The format's name ("png") and file extension (".png"; ".txt" for dumb). Static strings. */
const char *gp_format_name(gp_format fmt);
const char *gp_format_ext(gp_format fmt);

/* A figure session. Fields are the module's own: use the functions. */
typedef struct gp {
    gp_format format;
    int animate;   /* gif only: every `plot` becomes one frame */
    int delay;     /* between frames, in 1/100 s */
    int text_cols; /* dumb only: the text's size in characters; 0 for 100 x 30 */
    int text_rows;
    int timeout_ms; /* gp_render's deadline in milliseconds; 0 for none */
    int status;     /* sticky: first error of a gp_* call, 0 while fine */
    strbuf script;  /* everything after the terminal and output lines */
} gp;

/* Starts a session for one figure in format fmt (animate: one gif frame per plot command,
 * delay_cs hundredths of a second apart; ignored for other formats). The terminal (16:9,
 * large fonts) is chosen by gp_render. Never fails; free with gp_free. */
void gp_begin(gp *g, gp_format fmt, int animate, int delay_cs);

/* Sets the size of dumb text (cols x rows characters, at least 20 x 8); other formats
 * keep their 16:9 size. For in-terminal plots sized to the window. */
void gp_text_size(gp *g, int cols, int rows);

/* Gives gp_render a deadline of ms milliseconds (0 or less: none, the default): past it,
 * gnuplot and everything it started are killed (SIGKILL) and gp_render fails with
 * TUTOR_EIO. For callers that must not hang, such as the UI. */
void gp_set_timeout(gp *g, int ms);

/* Frees the session's memory (not g). */
void gp_free(gp *g);

/* Appends a printf-formatted command built from constants and numbers only: never pass
 * user text through the format arguments, use gp_text. Returns 0 or the sticky error. */
int gp_raw(gp *g, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Appends text as a safe gnuplot string literal (gp_quote). Returns 0 or the sticky
 * error. */
int gp_text(gp *g, const char *text);

/* Appends text to sb as a gnuplot double-quoted string literal, quotes included, in which
 * `"`, `\`, newline, tab, backquote and `@` are escaped and other control bytes
 * dropped. Bytes from 0x80 up (UTF-8) pass through. Returns 0 or TUTOR_ENOMEM. O(len). */
int gp_quote(strbuf *sb, const char *text);

/* Datablock `$name` holding rows of numbers: gp_data_begin, then gp_data_row for each row
 * (n values, written with 10 significant digits; NaN and infinities as NaN, which gnuplot
 * treats as missing), then gp_data_end. name must match [A-Za-z_][A-Za-z0-9_]* (else the
 * sticky error becomes TUTOR_EINVAL). Return 0 or the sticky error. */
int gp_data_begin(gp *g, const char *name);
int gp_data_row(gp *g, const double *v, size_t n);
int gp_data_end(gp *g);

/* Datablock `$name` holding m (rows x cols, row-major) as a gnuplot `matrix` (one matrix
 * row per line: plot it with `$name matrix with image`, column index as x, row as y).
 * Returns 0 or the sticky error, as gp_data_begin. O(rows cols). */
int gp_data_matrix(gp *g, const char *name, const double *m, size_t rows, size_t cols);

/* Renders the session. program: the gnuplot binary (a name looked up on PATH, or a path);
 * NULL means $TUTOR_GNUPLOT when set, else "gnuplot". path: the figure's file; for dumb
 * the text goes to *text instead (appended) and path only names the fallback script, and
 * may be NULL (or "") for no fallback script at all.
 * Returns:
 *   0: the figure is at path (or in *text);
 *   TUTOR_ENOTFOUND: gnuplot is not installed (or could not be executed); the script and
 *     its data are in PATH.gp (extension replaced), whose name is written to script_path
 *     (may be NULL); with no path (dumb), nothing is written;
 *   TUTOR_EIO: gnuplot failed, did not finish before the session's timeout (it is then
 *     killed: see gp_set_timeout), or the pipe or a file could not be written; nothing is
 *     left at path and *text is unchanged;
 *   TUTOR_ENOMEM, TUTOR_EINVAL (the sticky error of an earlier call; no path for a file).
 * On every error err holds one line (errlen bytes) saying what happened. SIGPIPE is ignored
 * while gnuplot runs (and restored after), so the caller's handler is briefly replaced
 * process-wide. The session stays valid (gp_free it). O(script size) plus gnuplot's time,
 * bounded by the timeout when one is set. */
int gp_render(gp *g, const char *program, const char *path, strbuf *text, strbuf *script_path,
              char *err, size_t errlen);

#endif
