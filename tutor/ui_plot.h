/* ui_plot.h: in-terminal plots for the tutor's state pane, through gnuplot's dumb terminal.
 *
 * gnuplot runs as a child with its standard input and output on pipes and its standard
 * error on /dev/null, so it never touches the terminal curses owns. Only numbers and
 * constant commands are sent: no text from a topic or a user reaches gnuplot. */
#ifndef TUTOR_UI_PLOT_H
#define TUTOR_UI_PLOT_H

#include <stddef.h>

#include "../trace/strbuf.h"

/* Plots y = v[k] against k (n values, NaN and infinities as gaps) as text w columns by h
 * rows, appending to out. The program is $TUTOR_GNUPLOT when set, else gnuplot on the PATH.
 * Returns 0; TUTOR_ENOTFOUND when gnuplot cannot be run; TUTOR_EIO when it failed or took
 * longer than two seconds (it is killed then); TUTOR_ENOMEM. O(n) plus gnuplot's time. */
int ui_plot_dumb(const double *v, size_t n, int w, int h, strbuf *out);

#endif
