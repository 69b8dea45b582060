/* textplot.h: in-terminal plots for the tutor's state pane, through gnuplot's dumb terminal.
 *
 * The plots go through plots/gnuplot (the same layer as `tutor plot`), which runs gnuplot
 * with its input, output and messages on pipes, so it never touches the terminal curses
 * owns, and kills it when it overruns the UI's timeout. Only numbers and constant commands
 * are sent: no text from a topic or a user reaches gnuplot. */
#ifndef TUTOR_UI_PLOT_H
#define TUTOR_UI_PLOT_H

#include <stddef.h>

#include "../../trace/strbuf.h"

/* Plots y = v[k] against k (n values, NaN and infinities as gaps) as text w columns by h
 * rows (at least 20 x 8), appending to out. The program is $TUTOR_GNUPLOT when set, else
 * gnuplot on the PATH. Returns 0; TUTOR_ENOTFOUND when gnuplot cannot be run (no fallback
 * script is written); TUTOR_EIO when it failed or took longer than two seconds (it is
 * killed then); TUTOR_ENOMEM. On error out is unchanged. O(n) plus gnuplot's time, at most
 * about two seconds. */
int textplot_render(const double *v, size_t n, int w, int h, strbuf *out);

#endif
