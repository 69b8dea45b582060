/* plot.h: what `tutor plot` hands a topic's figure recipe, and the helpers recipes
 * share. A recipe (topics/topic_ID_plot.c) parses the topic's own options the way its runner does,
 * computes what it draws (running the library, timing a small sweep), and draws through
 * plots/figure.h; the registry binds it to its topic (topic.plot). */
#ifndef TUTOR_PLOT_RECIPE_H
#define TUTOR_PLOT_RECIPE_H

#include <stddef.h>
#include <stdint.h>

#include "../../plots/figure.h"
#include "../../trace/strbuf.h"
#include "../../trace/trace.h"
#include "topic.h"

typedef struct plot_request {
    const topic *topic;
    const topic_args *args; /* the topic's own options (the example when none given), seed */
    gp_format format;
    const char *out_dir; /* exists and is a directory */
    const char *title;   /* --title, or NULL */
    const char *program; /* the gnuplot binary, NULL for the default */
    int animate;         /* --animate (the CLI handles it without the recipe) */
    int text_cols;       /* dumb: the text's size in characters (the UI's window); 0 for */
    int text_rows;       /* the default 100 x 30 */
} plot_request;

/* Sets up c for req: format, directory, the topic id as file prefix, the user's title, the
 * gnuplot program, out for the paths, and a caption reproducing the figure
 * (`tutor plot ID OPTIONS --seed S`) built in *caption (free it with strbuf_free).
 * Returns 0 or TUTOR_ENOMEM. */
int plot_ctx(fig_ctx *c, const plot_request *req, strbuf *out, strbuf *caption);

/* Milliseconds on a monotonic clock, for the running-time sweeps. */
double plot_now_ms(void);

/* Runs req's topic on args (req->args when NULL) with a new trace, returned in *tr (free
 * with trace_free). Returns 0, or with *tr NULL and a line in err: the runner's error
 * (TUTOR_ELIMIT included; a missing or unreadable input file as TUTOR_EINVAL, since
 * TUTOR_ENOTFOUND and TUTOR_EIO mean a missing gnuplot or an unwritable output here), the
 * trace's own (recording failed), or TUTOR_ENOMEM. */
int plot_run(const plot_request *req, const topic_args *args, trace **tr, char *err, size_t errlen);

/* Validates req's inputs by running the topic once untraced: returns 0, or the runner's
 * input error (TUTOR_EINVAL, TUTOR_ERANGE, TUTOR_ETOOBIG, ...) or TUTOR_ENOMEM with its line
 * in err, a missing or unreadable input file as TUTOR_EINVAL (as plot_run). A cap the run
 * hit (TUTOR_ELIMIT) is not an input error here: it gives 0. */
int plot_check(const plot_request *req, char *err, size_t errlen);

/* Makes *out a copy of in without the options named in drop (NULL-terminated); out->opts
 * is new (mem_free it) and points at in's strings. Returns 0 or TUTOR_ENOMEM. */
int plot_args_without(topic_args *out, const topic_args *in, const char *const *drop);

/* The generic figure of a topic without a recipe, and the frames of --animate: runs the
 * topic on req's inputs with a trace, then draws the final state (animate 0) or every step
 * (animate 1, gif). Returns 0, TUTOR_ENOTFOUND (scripts written), a runner's input error
 * (err says what), or TUTOR_ENOMEM / TUTOR_EIO. */
int plot_trace(const plot_request *req, int animate, strbuf *out, char *err, size_t errlen);

#endif
