/* fuzz_cli_args.c: the command line itself (cli_main in-process): every subcommand's
 * argument handling, from the words the fuzzer chooses through the topic's option parser
 * to the runner, the plot recipes and the exercise commands they reach.
 *
 * Input: a control byte, then the words after `tutor`, separated by newlines (by NUL bytes
 * when control bit 0 is set, so that a word can hold a newline); at most MAXW words, the
 * rest ignored. Bit 7 injects an allocation failure (common.h). cli_args.dict lists the
 * subcommands, topic ids, option names and values the fuzzer builds from.
 *
 * The words are rewritten first, so that a run stays inside the scratch folder (fz_dir())
 * and stays fast:
 * - a '/' becomes '_': no absolute path, no folder of the checkout is named; a plain name
 *   is read (never written) relative to the folder the fuzzer runs in;
 * - a word (or the value of --name=VALUE) starting with '@' names a file of the scratch
 *   folder: @a (2 x 2), @b (2 values), @x (4 x 2), @s (8 samples), @e (empty), written
 *   once, which fit together as attention, HiPPO, LTI and Mamba inputs;
 * - `plot` always gets --out into the scratch folder, and the value of any --out becomes a
 *   folder under it (with no '.' in its name); gnuplot is made missing ($TUTOR_GNUPLOT), so a plot
 * writes its scripts there and exits 1 saying so (starting gnuplot would cost a second an input);
 * - `exercise` reads its sources from a scratch folder holding only links to algorithms/
 *   and models/ (so --solution works, and no exercise starts make), and keeps its progress
 *   file there ($XDG_STATE_HOME);
 * - inputs whose size options (--n, --capacity, --length...) exceed the bounds in limits
 *   below are skipped: the CLI's own caps allow runs of seconds, which is correct but
 *   slow for fuzzing (fuzz/README.md).
 *
 * Beyond the sanitizers, the CLI's contract: exit 0 with nothing on stderr; or 2 (bad
 * input) with nothing on stdout and exactly one line on stderr; or 1 only for a failure of
 * ours: an allocation made to fail, gnuplot missing, or the exercise sources missing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

#define MAXW 48

/* The largest value a size option may have here; the CLI's own caps are far larger. */
static const struct {
    const char *name;
    double max;
} limits[] = {
    {"n", 32},
    {"d", 16},
    {"m", 64},
    {"N", 16},
    {"length", 64},
    {"stride", 64},
    {"block", 64},
    {"chunk", 64},
    {"summary", 64},
    {"capacity", 512},
    {"target", 16},
    {"max-calls", 5000},
    {"max-results", 500},
};

/* 1 when --name (len bytes) with value is a size option past its bound here. */
static int too_big(const char *name, size_t len, const char *value)
{
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        if (strlen(limits[i].name) != len || strncmp(limits[i].name, name, len) != 0)
            continue;
        char *end;
        double v = strtod(value, &end);
        return end != value && !(v <= limits[i].max);
    }
    return 0;
}

/* Writes the @ files and sets the environment, once. */
static void setup(void)
{
    static const struct {
        const char *name, *text;
    } files[] = {
        {"a", "0.5 0.1\n-0.2 0.3\n"},
        {"b", "1\n0.5\n"},
        {"x", "1 2\n3 4\n-1 0.5\n0 1\n"},
        {"s", "0\n0.5\n1\n0.5\n0\n-0.5\n-1\n-0.5\n"},
        {"e", ""},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        fz_file(files[i].name, (const uint8_t *)files[i].text, strlen(files[i].text));
    char src[4096], cwd[2048], link[4096];
    snprintf(src, sizeof src, "%s/src", fz_dir());
    if (!getcwd(cwd, sizeof cwd) || mkdir(src, 0700) != 0)
        fz_fail("cannot make %s", src);
    /* The references --solution prints; no exercises/exercises.mk, so no make. */
    static const char *const dirs[] = {"algorithms", "models"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(link, sizeof link, "%s/%s", cwd, dirs[i]);
        snprintf(src, sizeof src, "%s/src/%s", fz_dir(), dirs[i]);
        if (symlink(link, src) != 0)
            fz_fail("cannot link %s", src);
    }
    snprintf(src, sizeof src, "%s/src", fz_dir());
    setenv("TUTOR_SRCDIR", src, 1);
    snprintf(src, sizeof src, "%s/work", fz_dir());
    setenv("TUTOR_EXERCISE_DIR", src, 1);
    snprintf(src, sizeof src, "%s/state", fz_dir());
    setenv("XDG_STATE_HOME", src, 1);
    snprintf(src, sizeof src, "%s/no-gnuplot", fz_dir());
    setenv("TUTOR_GNUPLOT", src, 1);
    snprintf(src, sizeof src, "%s/bench", fz_dir());
    setenv("BENCH_OUT", src, 1);
}

/* Rewrites word w (len bytes) into buf as the header says; out: w is the value of --out. */
static void rewrite(char *buf, size_t cap, const char *w, size_t len, int out)
{
    size_t pre = 0;
    const char *eq = memchr(w, '=', len);
    if (!out && len > 2 && w[0] == '-' && w[1] == '-' && eq) {
        pre = (size_t)(eq + 1 - w);
        out = pre == 6 && strncmp(w, "--out=", 6) == 0;
    }
    const char *v = w + pre;
    size_t vlen = len - pre, n = 0;
    if (out && vlen)
        n = (size_t)snprintf(buf, cap, "%.*s%s/out/", (int)pre, w, fz_dir());
    else if (vlen && v[0] == '@')
        n = (size_t)snprintf(buf, cap, "%.*s%s/", (int)pre, w, fz_dir()), v++, vlen--;
    else
        n = (size_t)snprintf(buf, cap, "%.*s", (int)pre, w);
    /* In an --out folder a '.' goes too: ".." would climb out of out/. */
    for (size_t i = 0; i < vlen && n + 1 < cap; i++)
        buf[n++] = v[i] == '/' || (out && v[i] == '.') ? '_' : v[i];
    buf[n] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char words[MAXW][512], out_dir[256];
    if (!out_dir[0]) {
        setup();
        snprintf(out_dir, sizeof out_dir, "%s/out", fz_dir());
    }
    unsigned ctl = fz_control(&data, &size);
    char sep = ctl & 1 ? '\0' : '\n';
    int nw = 0;
    while (size && nw < MAXW) {
        const uint8_t *end = memchr(data, sep, size);
        size_t len = end ? (size_t)(end - data) : size;
        /* A NUL inside a newline-separated word ends it, as it would in a real argv. */
        size_t clen = strnlen((const char *)data, len);
        rewrite(words[nw], sizeof words[0], (const char *)data, clen,
                nw && strcmp(words[nw - 1], "--out") == 0);
        nw++;
        if (!end)
            break;
        data += len + 1;
        size -= len + 1;
    }
    int plot = nw && strcmp(words[0], "plot") == 0;
    int exercise = nw && strcmp(words[0], "exercise") == 0;
    char *argv[MAXW + 4];
    int argc = 0;
    argv[argc++] = "tutor";
    for (int i = 0; i < nw; i++) {
        /* `plot TOPIC` writes to "." unless told: the scratch folder comes first, so that
         * any --out the fuzzer gives (rewritten into it) still wins. */
        if (plot && i == 2) {
            argv[argc++] = "--out";
            argv[argc++] = out_dir;
        }
        argv[argc++] = words[i];
    }
    if (plot && nw == 2) {
        argv[argc++] = "--out";
        argv[argc++] = out_dir;
    }
    argv[argc] = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0)
            continue;
        const char *eq = strchr(a, '=');
        if (eq ? too_big(a + 2, (size_t)(eq - a - 2), eq + 1)
               : i + 1 < argc && too_big(a + 2, strlen(a + 2), argv[i + 1]))
            return -1; /* not worth keeping in the corpus either */
    }
    if (plot) {
        fz_remove_tree("out");
        mkdir(out_dir, 0700);
    }
    if (exercise)
        fz_remove_tree("state"); /* each run starts with no progress, as the last did */

    static const char *const plot_ours[] = {"gnuplot not found", NULL};
    static const char *const exercise_ours[] = {"the sources are not at", NULL};
    fz_cli(argc, argv, ctl, plot ? plot_ours : exercise ? exercise_ours : NULL);
    return 0;
}
