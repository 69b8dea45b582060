/* fuzz_plot_bench.c: the CSV readers of `tutor plot bench --from DIR` (tutor/plot_bench.c:
 * read_case for CASE.csv, read_heapify for heap_heapify.csv), through the public entry
 * point plot_bench, so the figures built from what was read are fuzzed too.
 *
 * Input: a control byte, then the first file's bytes, then optionally "\n====\n" and the
 * bytes of heap_heapify.csv (of maxgap.csv when the first file is heap_heapify.csv).
 * Control bits 0-2 name the first file: 0-4 a case (maxgap, heap, knapsack, attention,
 * ssm), 5-7 heap_heapify.csv itself; bit 3 asks for dumb text instead of png; bit 7
 * injects an allocation failure (common.h). gnuplot is pointed at a path that does not
 * exist, so every figure is written as a script in a scratch folder: fast, and the whole
 * path from CSV to script runs.
 *
 * Beyond the sanitizers: the result is one of the documented codes, an error is one line,
 * out of memory only happens when a failure was injected, and a NUL byte is refused. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../plots/figure.h"
#include "../trace/status.h"
#include "../trace/strbuf.h"
#include "../tutor/plot_bench.h"
#include "common.h"

static const char *const files[] = {"maxgap.csv",    "heap.csv", "knapsack.csv",
                                    "attention.csv", "ssm.csv",  "heap_heapify.csv"};
#define NFILES (sizeof files / sizeof files[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char sep[] = "\n====\n";
    unsigned ctl = fz_control(&data, &size);
    for (size_t i = 0; i < NFILES; i++)
        fz_remove(files[i]);
    const uint8_t *second = fz_find(data, size, sep, sizeof sep - 1);
    size_t first_len = second ? (size_t)(second - data) : size;
    size_t first = (ctl & 7) < 5 ? (ctl & 7) : 5;
    fz_file(files[first], data, first_len);
    if (second) {
        second += sizeof sep - 1;
        fz_file(files[first == 5 ? 0 : 5], second, size - (size_t)(second - data));
    }

    static char out_dir[128];
    if (!out_dir[0]) {
        snprintf(out_dir, sizeof out_dir, "%s/out", fz_dir());
        mkdir(out_dir, 0700);
    }
    strbuf out = STRBUF_INIT;
    fig_ctx c;
    fig_init(&c, ctl & 8 ? GP_DUMB : GP_PNG, out_dir, "bench", &out);
    c.program = "/nonexistent/gnuplot";
    char err[512];
    int armed = fz_alloc_fail(ctl);
    int rc = plot_bench(&c, fz_dir(), err, sizeof err);
    fz_alloc_end();
    strbuf_free(&out);
    /* A NUL byte makes a file not text: it must be refused wherever it is (a C string
     * would end at it and hide the rest of its line). */
    if (fz_find(data, size, "", 1) && (rc == 0 || rc == TUTOR_ENOTFOUND))
        fz_fail("plot_bench: a file with a NUL byte was accepted");
    switch (rc) {
    case 0: break;
    case TUTOR_ENOMEM:
        if (!armed)
            fz_fail("plot_bench: out of memory with no failure injected");
        /* fall through */
    case TUTOR_ENOTFOUND:
    case TUTOR_EINVAL:
    case TUTOR_EFORMAT:
    case TUTOR_ETOOBIG:
    case TUTOR_EIO: fz_one_line("plot_bench", err); break;
    default: fz_fail("plot_bench: returned %d, not one of its documented codes", rc);
    }
    return 0;
}
