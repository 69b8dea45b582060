/* views.h: the state pane of the tutor's topic screen.
 *
 * The view is chosen from what the step recorded, never from a list of topics: integer
 * arrays as boxes (or bars) with their marked indices, tables as grids with marked cells,
 * matrices as heatmaps (or numbers), double arrays as sparklines, scalars as `name = value`.
 * A few recorded shapes get a richer view when their names say what they are: max-gap
 * buckets (bucket_min + bucket_max), a heap (an int array named "heap", drawn as a tree
 * too), a recursion tree (scalars "call" and "parent" recorded at each call). Anything else
 * falls back to the generic views, so a new topic needs no UI change. */
#ifndef TUTOR_UI_VIEWS_H
#define TUTOR_UI_VIEWS_H

#include <stddef.h>

#include "../../trace/trace.h"
#include "../topics/topic.h"
#include "tty.h"

/* Where each snapshot name was recorded, so the state at any step (the latest snapshot of
 * every name, see trace_latest) is found by binary search instead of a walk back. */
typedef struct views_series {
    const char *name; /* owned by the trace */
    trace_kind kind;  /* of its latest recording */
    size_t n, cap;
    size_t *at;              /* steps that recorded it, ascending */
    const trace_snap **snap; /* the snapshot recorded at at[k] */
} views_series;

typedef struct views_index {
    views_series *v;
    size_t n, cap;
} views_index;

/* Builds the index of tr's snapshots into ix (zero it first). Returns 0 or TUTOR_ENOMEM
 * (ix left empty). O(total snapshots x distinct names). Free with views_index_free. */
int views_index_build(views_index *ix, const trace *tr);
void views_index_free(views_index *ix);

/* The latest snapshot named `name` at or before step, or NULL. O(log recordings). */
const trace_snap *views_index_get(const views_index *ix, const char *name, size_t step);

/* Display options the keys change. */
typedef struct views_opts {
    int alt;    /* `v`: arrays as bars, matrices in the other mode (numbers/heat) */
    int cursor; /* `c`: a cell cursor on the first matrix or table, with its value */
    long cur_row, cur_col;
    int scroll;    /* first content row shown (PgUp/PgDn) */
    int content_h; /* set by views_draw: rows the content took */
} views_opts;

/* Draws the state at `step` into r: the snapshots as of that step and, when show_marks,
 * that step's marks. Never draws outside r. O(size of what is drawn), plus O(step) for a
 * recursion tree. */
void views_draw(tty_rect r, const topic *t, const trace *tr, const views_index *ix, size_t step,
                int show_marks, views_opts *o);

/* Frees the views' caches (plots, the recursion tree); call when the tutor ends.
 * views_forget drops what belongs to a trace: call it before freeing a trace. */
void views_cleanup(void);
void views_forget(void);

/* The bracket pair a role draws around a marked value ("[", "]" for current...). */
const char *views_role_open(trace_role role);
const char *views_role_close(trace_role role);

#endif
