/* plot_bench.h: `tutor plot bench`, the lecture figures of a `make bench` run.
 *
 * `make bench` leaves one CSV per case in bench/out/ (docs/bench.md). This reads them back
 * and draws, for every case that swept a size (maxgap against n, the attention crossover),
 * time per call against n for each contender; the heapify comparisons per element against
 * n; and one chart of every target row: the measured ratio beside the ratio the target
 * asks for. The CSVs are the harness's own output, but they are files a user can edit, so
 * every line is checked and a bad one is reported by file and line. */
#ifndef TUTOR_PLOT_BENCH_H
#define TUTOR_PLOT_BENCH_H

#include <stddef.h>

#include "../plots/figure.h"

/* The most rows read from one CSV file, and the longest line: far above what the harness
 * writes (about 40 rows of under 300 bytes), so a larger file is not one of its. */
#define PLOT_BENCH_MAX_ROWS 4096
#define PLOT_BENCH_MAX_LINE 4096

/* The folder `tutor plot bench` reads when no --from is given: $BENCH_OUT when set (where
 * the harness writes), else bench/out in the source tree tutor was built from. */
const char *plot_bench_default_dir(void);

/* Draws the figures of the CSVs in dir (maxgap.csv, heap.csv, knapsack.csv,
 * attention.csv, ssm.csv, heap_heapify.csv; missing ones are skipped) through c, whose
 * prefix should be "bench": PREFIX-CASE-time, PREFIX-heapify, PREFIX-targets. Returns 0,
 * TUTOR_ENOTFOUND (gnuplot missing: the scripts were written), TUTOR_EINVAL (no CSV at
 * all in dir), TUTOR_EFORMAT (a malformed file: err names it and the line), TUTOR_ETOOBIG
 * (a file over the limits above), TUTOR_EIO (unreadable), TUTOR_ENOMEM, or c's hard
 * error; err holds one line on error. O(size of the CSVs) plus gnuplot's time. */
int plot_bench(fig_ctx *c, const char *dir, char *err, size_t errlen);

#endif
