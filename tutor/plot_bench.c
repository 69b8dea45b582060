/* plot_bench.c: the figures of a `make bench` run, from its CSV files (see plot_bench.h). */
#include "plot_bench.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../trace/mem.h"
#include "../trace/status.h"
#include "../trace/strbuf.h"

#ifndef TUTOR_SRCDIR
#define TUTOR_SRCDIR "."
#endif

/* The cases, in the order the harness runs them. */
static const char *const cases[] = {"maxgap", "heap", "knapsack", "attention", "ssm"};
#define NCASES (sizeof cases / sizeof cases[0])

/* A row of CASE.csv: case,size,n,ours,peer,ours_median_s,ours_min_s,peer_median_s,
 * peer_min_s,ratio,need,verdict,note. Strings point into the row's own buffer. */
enum { NFIELDS = 13 };
typedef struct row {
    char *size, *ours, *peer, *verdict;
    double n, ours_med, peer_med, ratio, need;
    char *buf;
} row;

typedef struct table {
    row *rows;
    size_t n;
} table;

static void table_free(table *t)
{
    for (size_t i = 0; i < t->n; i++)
        mem_free(t->rows[i].buf);
    mem_free(t->rows);
    t->rows = NULL;
    t->n = 0;
}

#define NUL_BYTE "a NUL byte: not a text file"

static int fail(char *err, size_t errlen, int rc, const char *fmt, const char *path, size_t line,
                const char *what)
{
    snprintf(err, errlen, fmt, path, line, what);
    return rc;
}

/* Splits line (no newline) into CSV fields in place: quoted fields lose their quotes and
 * have "" turned into ", bare fields are kept as they are. Returns the number of fields
 * (at most max), or -1 for a quote that is never closed or text after a closing quote. */
static int split_csv(char *line, char **field, int max)
{
    int nf = 0;
    char *s = line;
    for (;;) {
        if (nf == max)
            return -1;
        if (*s == '"') {
            char *w = ++s;
            field[nf++] = w;
            for (;;) {
                if (!*s)
                    return -1;
                if (*s == '"' && s[1] == '"') {
                    *w++ = '"';
                    s += 2;
                } else if (*s == '"') {
                    s++;
                    break;
                } else {
                    *w++ = *s++;
                }
            }
            *w = '\0';
            if (*s && *s != ',')
                return -1;
        } else {
            field[nf++] = s;
            while (*s && *s != ',')
                s++;
        }
        if (!*s)
            return nf;
        *s++ = '\0';
    }
}

/* A number field: a whole decimal number, "nan" allowed (a skipped peer's ratio). The bench
 * never writes an infinity, and one would reach gnuplot as an axis range it rejects. */
static int number(const char *s, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return end != s && !*end && errno != ERANGE && !isinf(*out) ? 0 : -1;
}

/* Reads one line into buf (cap bytes: at most cap - 2 of text; the newline, and a CR
 * before it, dropped). Returns 1, 0 at the end, -1 for a longer line, or -2 for a NUL
 * byte: the file is not text, and as a C string the line would end there, silently
 * dropping the rest of it (fgets cannot tell, so the bytes are read one by one). */
static int read_line(FILE *f, char *buf, size_t cap)
{
    size_t len = 0;
    int c = getc(f);
    if (c == EOF)
        return 0;
    for (; c != EOF && c != '\n'; c = getc(f)) {
        if (c == '\0')
            return -2;
        if (len + 2 >= cap)
            return -1;
        buf[len++] = (char)c;
    }
    if (len && buf[len - 1] == '\r')
        len--;
    buf[len] = '\0';
    return 1;
}

/* Opens DIR/NAME.csv: 0 with *f open, 1 when it does not exist, or an error. */
static int open_csv(const char *dir, const char *name, FILE **f, strbuf *path, char *err,
                    size_t errlen)
{
    strbuf_clear(path);
    strbuf_printf(path, "%s/%s.csv", dir, name);
    if (path->failed)
        return TUTOR_ENOMEM;
    *f = fopen(strbuf_str(path), "r");
    if (*f)
        return 0;
    if (errno == ENOENT)
        return 1;
    snprintf(err, errlen, "cannot read %s: %s", strbuf_str(path), strerror(errno));
    return TUTOR_EIO;
}

/* Reads DIR/NAME.csv (the case table) into t. Returns 0, 1 (no such file), or an error. */
static int read_case(const char *dir, const char *name, table *t, char *err, size_t errlen)
{
    strbuf path = STRBUF_INIT;
    FILE *f;
    memset(t, 0, sizeof *t);
    int rc = open_csv(dir, name, &f, &path, err, errlen);
    if (rc) {
        strbuf_free(&path);
        return rc;
    }
    char *line = mem_alloc(PLOT_BENCH_MAX_LINE + 2);
    t->rows = mem_calloc(PLOT_BENCH_MAX_ROWS, sizeof *t->rows);
    if (!line || !t->rows) {
        rc = TUTOR_ENOMEM;
        goto out;
    }
    const char *p = strbuf_str(&path);
    for (size_t ln = 1;; ln++) {
        int got = read_line(f, line, PLOT_BENCH_MAX_LINE + 2);
        if (got == 0)
            break;
        if (got == -2) {
            rc = fail(err, errlen, TUTOR_EFORMAT, "%s:%zu: %s", p, ln, NUL_BYTE);
            goto out;
        }
        if (got < 0) {
            rc = fail(err, errlen, TUTOR_ETOOBIG, "%s:%zu: %s", p, ln, "line too long");
            goto out;
        }
        if (ln == 1 && strncmp(line, "case,size,n,", 12) != 0) {
            rc = fail(err, errlen, TUTOR_EFORMAT, "%s:%zu: %s", p, ln,
                      "not a bench table (the header should start case,size,n,)");
            goto out;
        }
        if (ln == 1 || line[0] == '#' || !line[0])
            continue; /* the header, the notes under the table, blank lines */
        if (t->n == PLOT_BENCH_MAX_ROWS) {
            rc = fail(err, errlen, TUTOR_ETOOBIG, "%s:%zu: %s", p, ln, "too many rows");
            goto out;
        }
        row *r = &t->rows[t->n];
        r->buf = mem_strdup(line);
        if (!r->buf) {
            rc = TUTOR_ENOMEM;
            goto out;
        }
        t->n++;
        char *fld[NFIELDS];
        double ours_min, peer_min;
        if (split_csv(r->buf, fld, NFIELDS) != NFIELDS) {
            rc = fail(err, errlen, TUTOR_EFORMAT, "%s:%zu: %s", p, ln,
                      "expected 13 comma-separated fields");
            goto out;
        }
        r->size = fld[1];
        r->ours = fld[3];
        r->peer = fld[4];
        r->verdict = fld[11];
        if (number(fld[2], &r->n) || number(fld[5], &r->ours_med) || number(fld[6], &ours_min) ||
            number(fld[7], &r->peer_med) || number(fld[8], &peer_min) ||
            number(fld[9], &r->ratio) || number(fld[10], &r->need)) {
            rc = fail(err, errlen, TUTOR_EFORMAT, "%s:%zu: %s", p, ln,
                      "fields 3 and 6 to 11 must be numbers");
            goto out;
        }
    }
    if (ferror(f)) {
        snprintf(err, errlen, "cannot read %s: %s", p, strerror(errno));
        rc = TUTOR_EIO;
    }
out:
    if (rc == TUTOR_ENOMEM)
        snprintf(err, errlen, "out of memory reading %s", strbuf_str(&path));
    if (rc)
        table_free(t);
    fclose(f);
    mem_free(line);
    strbuf_free(&path);
    return rc;
}

/* ---- time against n ---- */

/* The distinct names, in order of first appearance, of the contenders in t's sweep rows
 * (no target, a size): each row's ours and its peer. At most 8 (the palette). */
static size_t contenders(const table *t, const char **name, int *is_ours)
{
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++) {
        const row *r = &t->rows[i];
        if (r->need > 0 || !(r->n > 0))
            continue;
        const char *both[2] = {r->ours, r->peer};
        for (int side = 0; side < 2; side++) {
            size_t j = 0;
            while (j < k && strcmp(name[j], both[side]) != 0)
                j++;
            if (j == k && k < 8) {
                name[k] = both[side];
                is_ours[k++] = side == 0;
            }
        }
    }
    return k;
}

/* How many distinct sizes t's rows without a target have. */
static size_t sweep_sizes(const table *t)
{
    size_t distinct = 0;
    for (size_t i = 0; i < t->n; i++) {
        const row *r = &t->rows[i];
        if (r->need > 0 || !(r->n > 0))
            continue;
        size_t j = 0;
        while (j < i && !(t->rows[j].need <= 0 && t->rows[j].n == r->n))
            j++;
        distinct += j == i;
    }
    return distinct;
}

/* One case's sweep as a figure: for each contender, its median time per call at each n
 * (the first row that measured it at that n: a peer met twice, as the softmax in the
 * attention crossover, was timed in each pair, and one is enough to draw). */
static int time_figure(fig_ctx *c, const table *t, const char *name)
{
    const char *who[8];
    int ours[8];
    size_t k = contenders(t, who, ours);
    if (k < 2 || sweep_sizes(t) < 3)
        return 0; /* no sweep in this case: its sizes are the targets' */
    double *x = mem_alloc(k * t->n * sizeof *x), *y = mem_alloc(k * t->n * sizeof *y);
    strbuf label[8];
    fig_series s[8];
    for (size_t j = 0; j < k; j++)
        label[j] = (strbuf)STRBUF_INIT;
    int rc = x && y ? 0 : TUTOR_ENOMEM;
    for (size_t j = 0; j < k && !rc; j++) {
        size_t m = 0;
        double *xj = x + j * t->n, *yj = y + j * t->n;
        for (size_t i = 0; i < t->n; i++) {
            const row *r = &t->rows[i];
            int side = strcmp(r->ours, who[j]) == 0 ? 0 : strcmp(r->peer, who[j]) == 0 ? 1 : -1;
            if (r->need > 0 || !(r->n > 0) || side < 0)
                continue;
            double v = side == 0 ? r->ours_med : r->peer_med;
            size_t dup = 0;
            while (dup < m && xj[dup] != r->n)
                dup++;
            if (dup < m || !(v > 0))
                continue;
            xj[m] = r->n;
            yj[m++] = v * 1e3;
        }
        strbuf_printf(&label[j], "%s (%s)", who[j], ours[j] ? "ours" : "peer");
        rc = label[j].failed;
        s[j] = (fig_series){strbuf_str(&label[j]), xj, yj, m, NULL, (int)j, !ours[j]};
    }
    if (!rc) {
        char fname[48], title[96];
        snprintf(fname, sizeof fname, "%s-time", name);
        snprintf(title, sizeof title, "%s: time per call against n (make bench, medians)", name);
        gp g;
        if (fig_begin(c, &g, title) == 0) {
            /* Sizes that are all powers of two (the attention sweep) get a base-2 axis. */
            int pow2 = 1;
            for (size_t j = 0; j < k; j++)
                for (size_t i = 0; i < s[j].n; i++)
                    pow2 &= s[j].x[i] >= 1 && frexp(s[j].x[i], &(int){0}) == 0.5;
            int dumb = c->format == GP_DUMB;
            gp_raw(&g, "set autoscale xfix\nset logscale x %d\nset logscale y 10\n", pow2 ? 2 : 10);
            gp_raw(&g, "set format x \"%s\"\n",
                   pow2 ? (dumb ? "2^%L" : "2^{%L}") : (dumb ? "1e%L" : "10^{%L}"));
            gp_raw(&g, "set format y \"%s\"\n", dumb ? "1e%L" : "10^{%L}");
            fig_axes(&g, "n (input size)", "time per call (ms)");
            fig_plot_series(&g, s, k, NULL);
            fig_end(c, &g, fname);
        }
        rc = c->status;
    }
    for (size_t j = 0; j < k; j++)
        strbuf_free(&label[j]);
    mem_free(x);
    mem_free(y);
    return rc;
}

/* ---- heapify comparisons per element ---- */

enum { HEAPIFY_MAX = 64 };
typedef struct heapify_counts {
    double n[HEAPIFY_MAX], per[HEAPIFY_MAX];
    size_t m;
} heapify_counts;

/* Reads DIR/heap_heapify.csv (n,comparisons,per_element) into h. Returns 0, 1 (no such
 * file), or an error with its line in err. */
static int read_heapify(const char *dir, heapify_counts *h, char *err, size_t errlen)
{
    strbuf path = STRBUF_INIT;
    FILE *f;
    h->m = 0;
    int rc = open_csv(dir, "heap_heapify", &f, &path, err, errlen);
    if (rc) {
        strbuf_free(&path);
        return rc;
    }
    char line[256];
    for (size_t ln = 1;; ln++) {
        int got = read_line(f, line, sizeof line);
        if (got == 0)
            break;
        char *fld[3];
        double cmps;
        size_t m = h->m;
        if (got < 0 || (ln == 1 && strcmp(line, "n,comparisons,per_element") != 0) ||
            (ln > 1 &&
             (m == HEAPIFY_MAX || split_csv(line, fld, 3) != 3 || number(fld[0], &h->n[m]) ||
              number(fld[1], &cmps) || number(fld[2], &h->per[m]) || !(h->n[m] > 0)))) {
            rc = fail(err, errlen, TUTOR_EFORMAT, "%s:%zu: %s", strbuf_str(&path), ln,
                      got == -2          ? NUL_BYTE
                      : m == HEAPIFY_MAX ? "too many rows"
                                         : "expected n,comparisons,per_element");
            break;
        }
        if (ln > 1)
            h->m++;
    }
    if (!rc && ferror(f)) {
        snprintf(err, errlen, "cannot read %s: %s", strbuf_str(&path), strerror(errno));
        rc = TUTOR_EIO;
    }
    fclose(f);
    strbuf_free(&path);
    return rc;
}

static int heapify_figure(fig_ctx *c, const heapify_counts *h)
{
    if (h->m == 0)
        return 0;
    double two[HEAPIFY_MAX];
    for (size_t i = 0; i < h->m; i++)
        two[i] = 2;
    fig_series s[] = {
        {"heapify: comparisons per element", h->n, h->per, h->m, NULL, 0, 0},
        {"2 per element: the O(n) bound the target uses", h->n, two, h->m, "lines", 7, 1},
    };
    gp g;
    if (fig_begin(c, &g, "Heapify: comparisons per element against n (make bench)") == 0) {
        gp_raw(&g, "set autoscale xfix\nset logscale x 10\nset yrange [0:2.5]\n");
        gp_raw(&g,
               c->format == GP_DUMB ? "set format x \"1e%%L\"\n" : "set format x \"10^{%%L}\"\n");
        gp_raw(&g, "set key left bottom opaque\n");
        fig_axes(&g, "n (elements)", "comparisons / n");
        fig_plot_series(&g, s, 2, NULL);
        fig_end(c, &g, "heapify");
    }
    return c->status;
}

/* ---- the targets ---- */

/* Every target row of every case: its ratio (peer / ours) as a bar, green when met,
 * vermillion when missed, and the ratio the target asks for as a black mark. */
static int targets_figure(fig_ctx *c, const table *t)
{
    size_t nt = 0;
    for (size_t k = 0; k < NCASES; k++)
        for (size_t i = 0; i < t[k].n; i++)
            nt += t[k].rows[i].need > 0;
    if (nt == 0)
        return 0;
    gp g;
    if (fig_begin(c, &g, "make bench: each target's ratio (peer time / ours) and what it asks"))
        return c->status;
    gp_raw(&g,
           "set logscale y 10\nset style fill solid 0.85 noborder\nset boxwidth 0.7\n"
           "set xrange [-0.7:%zu.7]\nset xtics rotate by 45 right nomirror noenhanced (",
           nt - 1);
    size_t j = 0;
    strbuf lab = STRBUF_INIT;
    for (size_t k = 0; k < NCASES; k++)
        for (size_t i = 0; i < t[k].n; i++) {
            const row *r = &t[k].rows[i];
            if (!(r->need > 0))
                continue;
            strbuf_clear(&lab);
            strbuf_printf(&lab, "%s vs %s", r->ours, r->peer);
            gp_raw(&g, "%s", j ? ", " : "");
            gp_text(&g, lab.failed ? "?" : strbuf_str(&lab));
            gp_raw(&g, " %zu", j++);
        }
    strbuf_free(&lab);
    /* A decade of headroom above the tallest bar or mark, for the legend. */
    double top = 1;
    for (size_t k = 0; k < NCASES; k++)
        for (size_t i = 0; i < t[k].n; i++) {
            const row *r = &t[k].rows[i];
            if (r->need > 0 && r->need > top)
                top = r->need;
            if (r->need > 0 && r->ratio > top)
                top = r->ratio;
        }
    gp_raw(&g,
           ")\nset bmargin 15\nset lmargin 12\nset key left top horizontal opaque\n"
           "set yrange [0.1:%g]\n",
           pow(10, ceil(log10(top)) + 1));
    fig_axes(&g, "", "peer time / ours");
    /* Columns: index, ratio when met, ratio when missed, the ratio asked for. */
    gp_data_begin(&g, "T");
    j = 0;
    for (size_t k = 0; k < NCASES; k++)
        for (size_t i = 0; i < t[k].n; i++) {
            const row *r = &t[k].rows[i];
            if (!(r->need > 0))
                continue;
            int met = r->ratio >= r->need;
            gp_data_row(
                &g, (double[]){(double)j++, met ? r->ratio : NAN, met ? NAN : r->ratio, r->need},
                4);
        }
    gp_data_end(&g);
    gp_raw(&g,
           "plot $T using 1:2 with boxes lc rgb \"%s\" title \"met\", "
           "$T using 1:3 with boxes lc rgb \"%s\" title \"missed\", "
           "$T using 1:4 with points pt 7 ps 2 lc rgb \"%s\" title \"target\"\n",
           fig_colors[2], fig_colors[1], fig_colors[7]);
    fig_end(c, &g, "targets");
    return c->status;
}

const char *plot_bench_default_dir(void)
{
    const char *env = getenv("BENCH_OUT");
    return env && *env ? env : TUTOR_SRCDIR "/bench/out";
}

int plot_bench(fig_ctx *c, const char *dir, char *err, size_t errlen)
{
    /* Every file is read and checked before the first figure is drawn, so that a bad one
     * leaves no figures behind. */
    if (errlen)
        err[0] = '\0';
    table t[NCASES];
    memset(t, 0, sizeof t);
    heapify_counts *h = mem_alloc(sizeof *h);
    int rc = h ? 0 : TUTOR_ENOMEM, found = 0;
    for (size_t k = 0; k < NCASES && !rc; k++) {
        rc = read_case(dir, cases[k], &t[k], err, errlen);
        found += rc == 0;
        rc = rc == 1 ? 0 : rc;
    }
    if (!rc) {
        rc = read_heapify(dir, h, err, errlen);
        found += rc == 0;
        rc = rc == 1 ? 0 : rc;
    }
    if (!rc && !found) {
        snprintf(err, errlen, "no benchmark results in %s (run 'make bench' first)", dir);
        rc = TUTOR_EINVAL;
    }
    for (size_t k = 0; k < NCASES && !rc; k++)
        rc = time_figure(c, &t[k], cases[k]);
    if (!rc)
        rc = heapify_figure(c, h);
    if (!rc)
        rc = targets_figure(c, t);
    for (size_t k = 0; k < NCASES; k++)
        table_free(&t[k]);
    mem_free(h);
    if (rc == TUTOR_ENOMEM && !err[0])
        snprintf(err, errlen, "out of memory");
    if (rc && c->status)
        return fig_result(c, err, errlen);
    return rc ? rc : fig_result(c, err, errlen);
}
