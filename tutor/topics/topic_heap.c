/* topic_heap.c: the heap topic: heapq's operations on ints, one mode per run:
 *   tutor run heap --ops "push 5; push 3; pop; heapify 9 8 7; pushpop 4; replace 2"
 *   tutor run heap --nsmallest 3 --nums "5 1 4 1 5"      (--nlargest the same way)
 *   tutor run heap --merge "1 4 7 | 2 5 | 3" [--reverse]
 *   tutor run heap --heapsort "5 2 9 1" */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../../algorithms/heap.h"
#include "../../trace/mem.h"
#include "../../trace/rng.h"
#include "../../trace/status.h"
#include "../core/parse.h"
#include "topic.h"

/* Ten million ints per list: 40 MB parsed, the same again for the result. */
#define HEAP_MAX_N 10000000u

/* Past this many items the text output stops printing the heap after every op. */
#define HEAP_SHOW_MAX 32

static const topic_optspec heap_opts[] = {
    {"ops", TOPIC_LIST, "ops on one heap, separated by ';' or line ends (see below)"},
    {"nsmallest", 1, "N: the N smallest of --nums, ascending"},
    {"nlargest", 1, "N: the N largest of --nums, descending"},
    {"nums", TOPIC_LIST, "the list for --nsmallest or --nlargest"},
    {"merge", TOPIC_LIST, "sorted lists separated by '|', to merge"},
    {"reverse", 0, "with --merge: the lists are largest first"},
    {"heapsort", TOPIC_LIST, "a list to sort in place with a max-heap"},
    {NULL, 0, NULL},
};

typedef enum op_kind { OP_PUSH, OP_POP, OP_PUSHPOP, OP_REPLACE, OP_HEAPIFY } op_kind;

static const struct {
    const char *name, *alias;
    op_kind kind;
    int nargs; /* -1: a list of any length */
} op_names[] = {
    {"push", "heappush", OP_PUSH, 1},          {"pop", "heappop", OP_POP, 0},
    {"pushpop", "heappushpop", OP_PUSHPOP, 1}, {"replace", "heapreplace", OP_REPLACE, 1},
    {"heapify", "heapify", OP_HEAPIFY, -1},
};

typedef struct op {
    op_kind kind;
    int *nums; /* the op's numbers (mem_alloc'ed, NULL when none) */
    size_t n;
} op;

typedef struct op_list {
    op *ops;
    size_t n, cap;
} op_list;

static void ops_free(op_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        mem_free(l->ops[i].nums);
    mem_free(l->ops);
}

static void put_ints(strbuf *sb, const int *v, size_t n)
{
    strbuf_putc(sb, '[');
    for (size_t i = 0; i < n; i++)
        strbuf_printf(sb, i ? ", %d" : "%d", v[i]);
    strbuf_putc(sb, ']');
}

/* Parses one op (s: its text, NUL-terminated, no ';') numbered `number` into *o. */
static int parse_op(char *s, size_t number, op *o, topic_out *out)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t wl = 0;
    while (s[wl] && !isspace((unsigned char)s[wl]) && s[wl] != ',')
        wl++;
    int found = -1;
    for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++)
        if ((strlen(op_names[i].name) == wl && strncmp(s, op_names[i].name, wl) == 0) ||
            (strlen(op_names[i].alias) == wl && strncmp(s, op_names[i].alias, wl) == 0))
            found = (int)i;
    if (found < 0) {
        snprintf(out->err, sizeof out->err,
                 "--ops: op %zu '%.*s' is unknown (expected push X, pop, pushpop X, replace X "
                 "or heapify LIST)",
                 number, wl > 40 ? 40 : (int)wl, s);
        return TUTOR_EINVAL;
    }
    char what[64];
    snprintf(what, sizeof what, "--ops op %zu (%s)", number, op_names[found].name);
    o->kind = op_names[found].kind;
    int rc = parse_ints(s + wl, what, HEAP_MAX_N, &o->nums, &o->n, out->err, sizeof out->err);
    if (rc)
        return rc;
    int want = op_names[found].nargs;
    if (want >= 0 && o->n != (size_t)want) {
        snprintf(out->err, sizeof out->err, "%s takes %s, got %zu", what,
                 want ? "exactly one number" : "no numbers", o->n);
        mem_free(o->nums);
        o->nums = NULL;
        return TUTOR_EINVAL;
    }
    return 0;
}

/* Splits --ops at ';' (and at line ends, for ops read from a file, one per line) and parses
 * every op; empty pieces (a trailing ';') are skipped. An error names the file and line
 * when src came from @FILE or standard input. */
static int parse_ops(const parse_src *src, op_list *l, topic_out *out)
{
    const char *spec = src->text;
    char *copy = mem_strdup(spec);
    if (!copy)
        return TUTOR_ENOMEM;
    int rc = 0;
    for (char *p = copy; p && !rc;) {
        char *semi = strpbrk(p, ";\n");
        if (semi)
            *semi = '\0';
        char *q = p;
        while (isspace((unsigned char)*q))
            q++;
        if (*q) {
            if (l->n == l->cap) {
                size_t c = l->cap ? 2 * l->cap : 16;
                op *grown = mem_realloc_array(l->ops, c, sizeof *grown);
                if (!grown) {
                    rc = TUTOR_ENOMEM;
                    break;
                }
                l->ops = grown;
                l->cap = c;
            }
            op *o = &l->ops[l->n];
            *o = (op){OP_POP, NULL, 0};
            rc = parse_op(q, l->n + 1, o, out);
            if (!rc)
                l->n++;
            else if (rc != TUTOR_ENOMEM)
                parse_src_locate(src, spec + (q - copy), "--ops", out->err, sizeof out->err);
        }
        p = semi ? semi + 1 : NULL;
    }
    mem_free(copy);
    if (!rc && l->n == 0)
        rc =
            topic_fail(out, TUTOR_EINVAL, "--ops: expected at least one op (e.g. \"push 5; pop\")");
    return rc;
}

static const char *op_name(op_kind k)
{
    for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++)
        if (op_names[i].kind == k)
            return op_names[i].name;
    return "?";
}

static int run_ops(const parse_src *spec, trace *tr, topic_out *out)
{
    op_list l = {NULL, 0, 0};
    heap h;
    heap_init_int(&h);
    int rc = parse_ops(spec, &l, out);
    if (rc)
        goto done;
    strbuf_puts(&out->json, "\"outputs\": [");
    for (size_t i = 0; i < l.n && !rc; i++) {
        const op *o = &l.ops[i];
        int result = 0, has_result = 1;
        switch (o->kind) {
        case OP_PUSH:
            rc = heap_int_push(&h, o->nums[0], tr);
            has_result = 0;
            break;
        case OP_POP: rc = heap_int_pop(&h, &result, tr); break;
        case OP_PUSHPOP: rc = heap_int_pushpop(&h, o->nums[0], &result, tr); break;
        case OP_REPLACE: rc = heap_int_replace(&h, o->nums[0], &result, tr); break;
        case OP_HEAPIFY:
            rc = heap_int_heapify(&h, o->nums, o->n, tr);
            has_result = 0;
            break;
        }
        if (rc == TUTOR_EEMPTY) {
            snprintf(out->err, sizeof out->err, "--ops: op %zu (%s) on an empty heap", i + 1,
                     op_name(o->kind));
            break;
        }
        if (rc)
            break;
        if (has_result)
            strbuf_printf(&out->json, i ? ", %d" : "%d", result);
        else
            strbuf_puts(&out->json, i ? ", null" : "null");
        /* The text: one line per op, with what it returned and the array after it. */
        strbuf line = STRBUF_INIT;
        strbuf_printf(&line, "%s", op_name(o->kind));
        for (size_t k = 0; k < o->n && k < 8; k++)
            strbuf_printf(&line, " %d", o->nums[k]);
        if (o->n > 8)
            strbuf_printf(&line, " ... (%zu numbers)", o->n);
        if (has_result)
            strbuf_printf(&line, " -> %d", result);
        strbuf_printf(&out->text, "%3zu  %-28s ", i + 1, strbuf_str(&line));
        if (line.failed)
            out->text.failed = line.failed;
        strbuf_free(&line);
        if (h.len <= HEAP_SHOW_MAX)
            put_ints(&out->text, heap_int_data(&h), h.len);
        else
            strbuf_printf(&out->text, "(%zu items)", h.len);
        strbuf_putc(&out->text, '\n');
    }
    if (rc)
        goto done;
    strbuf_puts(&out->json, "], \"heap\": ");
    put_ints(&out->json, heap_int_data(&h), h.len);
    strbuf_puts(&out->text, "final heap: ");
    put_ints(&out->text, heap_int_data(&h), h.len);
    strbuf_putc(&out->text, '\n');
done:
    heap_free(&h);
    ops_free(&l);
    return rc;
}

static void put_result(topic_out *out, const int *v, size_t n)
{
    strbuf_puts(&out->json, "\"result\": ");
    put_ints(&out->json, v, n);
    put_ints(&out->text, v, n);
    strbuf_putc(&out->text, '\n');
}

static int run_pick(const char *nspec, int largest, const topic_args *args, trace *tr,
                    topic_out *out)
{
    const char *opt = largest ? "--nlargest" : "--nsmallest";
    const char *s = topic_opt_get(args, "nums");
    if (!s)
        return topic_fail(out, TUTOR_EINVAL,
                          "missing --nums: the list %s picks from (e.g. %s 3 --nums "
                          "\"5 1 4\")",
                          opt, opt);
    long long n;
    int rc = parse_int(nspec, opt, INT_MIN, INT_MAX, &n, out->err, sizeof out->err);
    if (rc)
        return rc;
    int *nums = NULL, *res = NULL;
    size_t count = 0, k = 0;
    rc = parse_ints(s, "--nums", HEAP_MAX_N, &nums, &count, out->err, sizeof out->err);
    if (rc)
        return rc;
    if (!(res = mem_calloc(count ? count : 1, sizeof *res))) {
        rc = TUTOR_ENOMEM;
        goto done;
    }
    rc = largest ? heap_int_nlargest(res, &k, nums, count, (long)n, tr)
                 : heap_int_nsmallest(res, &k, nums, count, (long)n, tr);
    if (rc)
        goto done;
    strbuf_printf(&out->text, "the %zu %s of %zu numbers: ", k, largest ? "largest" : "smallest",
                  count);
    put_result(out, res, k);
done:
    mem_free(nums);
    mem_free(res);
    return rc;
}

/* --merge "1 4 7 | 2 5 | 3": the lists, each checked to be sorted the right way. */
static int run_merge(const parse_src *src, int reverse, trace *tr, topic_out *out)
{
    const char *spec = src->text;
    size_t k = 1;
    for (const char *p = spec; *p; p++)
        k += *p == '|';
    char *copy = mem_strdup(spec);
    int **lists = mem_calloc(k, sizeof *lists);
    size_t *lens = mem_calloc(k, sizeof *lens);
    int *res = NULL;
    int rc = copy && lists && lens ? 0 : TUTOR_ENOMEM;
    size_t total = 0;
    char *p = copy;
    for (size_t i = 0; i < k && !rc; i++) {
        char *bar = strchr(p, '|');
        if (bar)
            *bar = '\0';
        char what[48];
        snprintf(what, sizeof what, "--merge list %zu", i + 1);
        const char *at = spec + (p - copy);
        rc = parse_ints(p, what, HEAP_MAX_N, &lists[i], &lens[i], out->err, sizeof out->err);
        if (rc && rc != TUTOR_ENOMEM)
            parse_src_locate(src, at, what, out->err, sizeof out->err);
        for (size_t j = 1; !rc && j < lens[i]; j++) {
            int a = lists[i][j - 1], b = lists[i][j];
            if (reverse ? a < b : a > b) {
                snprintf(out->err, sizeof out->err, "%s is not sorted %s (%d comes before %d)%s",
                         what, reverse ? "largest first" : "ascending", a, b,
                         reverse ? "; drop --reverse for ascending lists"
                                 : "; add --reverse for lists sorted largest first");
                rc = TUTOR_EINVAL;
            }
        }
        if (!rc && lens[i] > HEAP_MAX_N - total)
            rc = topic_fail(out, TUTOR_ETOOBIG, "--merge: more than %u numbers in all", HEAP_MAX_N);
        total += rc ? 0 : lens[i];
        p = bar ? bar + 1 : p;
    }
    if (!rc && !(res = mem_calloc(total ? total : 1, sizeof *res)))
        rc = TUTOR_ENOMEM;
    if (!rc)
        rc = heap_int_merge(res, (const int *const *)lists, lens, k, reverse, tr);
    if (!rc) {
        strbuf_printf(&out->text, "%zu lists merged%s: ", k, reverse ? " (largest first)" : "");
        put_result(out, res, total);
    }
    for (size_t i = 0; lists && i < k; i++)
        mem_free(lists[i]);
    mem_free(lists);
    mem_free(lens);
    mem_free(copy);
    mem_free(res);
    return rc;
}

static int run_heapsort(const char *spec, trace *tr, topic_out *out)
{
    int *nums = NULL;
    size_t n = 0;
    int rc = parse_ints(spec, "--heapsort", HEAP_MAX_N, &nums, &n, out->err, sizeof out->err);
    if (rc)
        return rc;
    rc = heap_int_sort(nums, n, tr);
    if (!rc) {
        strbuf_puts(&out->text, "sorted: ");
        put_result(out, nums, n);
    }
    mem_free(nums);
    return rc;
}

static int run(const topic_args *args, trace *tr, topic_out *out)
{
    static const char *const modes[] = {"ops", "nsmallest", "nlargest", "merge", "heapsort"};
    const char *mode = NULL;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        if (!topic_opt_has(args, modes[i]))
            continue;
        if (mode)
            return topic_fail(out, TUTOR_EINVAL,
                              "--%s and --%s cannot be combined: give one of --ops, "
                              "--nsmallest, --nlargest, --merge, --heapsort",
                              mode, modes[i]);
        mode = modes[i];
    }
    if (!mode)
        return topic_fail(out, TUTOR_EINVAL,
                          "missing input: give --ops \"push 5; pop\", --nsmallest N --nums LIST, "
                          "--nlargest N --nums LIST, --merge \"1 4 | 2 3\" or --heapsort LIST");
    int picking = strcmp(mode, "nsmallest") == 0 || strcmp(mode, "nlargest") == 0;
    if (topic_opt_has(args, "nums") && !picking)
        return topic_fail(out, TUTOR_EINVAL, "--nums goes with --nsmallest or --nlargest, not --%s",
                          mode);
    if (topic_opt_has(args, "reverse") && strcmp(mode, "merge") != 0)
        return topic_fail(out, TUTOR_EINVAL, "--reverse goes with --merge, not --%s", mode);
    trace_set_listing(tr, heap_listing, heap_listing_len);
    const char *value = topic_opt_get(args, mode);
    int rc;
    int ops = strcmp(mode, "ops") == 0, merge = strcmp(mode, "merge") == 0;
    if (ops || merge) {
        /* --nums and --heapsort are read by parse_ints, which takes @FILE itself; these two
         * have their own syntax around the numbers, so the text is read here. */
        char what[16];
        snprintf(what, sizeof what, "--%s", mode);
        parse_src src;
        rc = parse_src_open(&src, value, what, out->err, sizeof out->err);
        if (!rc)
            rc = ops ? run_ops(&src, tr, out)
                     : run_merge(&src, topic_opt_has(args, "reverse"), tr, out);
        parse_src_free(&src);
    } else if (picking) {
        rc = run_pick(value, mode[1] == 'l', args, tr, out);
    } else {
        rc = run_heapsort(value, tr, out);
    }
    if (rc == TUTOR_ENOMEM)
        out->err[0] = '\0';
    if (rc)
        return rc;
    return out->json.failed ? out->json.failed : out->text.failed;
}

/* Six to ten ops on numbers in [0, 99], starting from a heapify half the time; pop and
 * replace only when the heap is not empty, so every random input runs. */
static int random_input(uint64_t seed, strbuf *sb)
{
    rng r;
    rng_seed(&r, seed);
    int64_t nops = rng_range(&r, 6, 10), size = 0;
    strbuf_puts(sb, "--ops \"");
    for (int64_t i = 0; i < nops; i++) {
        if (i)
            strbuf_puts(sb, "; ");
        int64_t pick = rng_range(&r, 0, 99);
        if ((i == 0 && pick < 50) || (i > 0 && pick < 8)) {
            int64_t n = rng_range(&r, 4, 9);
            strbuf_puts(sb, "heapify");
            for (int64_t k = 0; k < n; k++)
                strbuf_printf(sb, " %lld", (long long)rng_range(&r, 0, 99));
            size = n;
        } else if (size == 0 || pick < 50) {
            strbuf_printf(sb, "push %lld", (long long)rng_range(&r, 0, 99));
            size++;
        } else if (pick < 70) {
            strbuf_puts(sb, "pop");
            size--;
        } else if (pick < 85) {
            strbuf_printf(sb, "pushpop %lld", (long long)rng_range(&r, 0, 99));
        } else {
            strbuf_printf(sb, "replace %lld", (long long)rng_range(&r, 0, 99));
        }
    }
    strbuf_putc(sb, '"');
    return sb->failed;
}

const topic topic_heap = {
    .id = "heap",
    .family = "Algorithms",
    .title = "Binary heap, as Python's heapq",
    .summary = "heapq's push/pop/pushpop/replace/heapify, nsmallest/nlargest, merge; heapsort",
    .usage = "A binary min-heap in an array: a[i] <= a[2i+1] and a[i] <= a[2i+2], so\n"
             "a[0] is the smallest. Every operation leaves exactly the array CPython's\n"
             "heapq leaves: pop, replace, pushpop and heapify move the hole down to a\n"
             "leaf along the smaller child (the right one on ties), then sift the item\n"
             "up; push sifts up. Each run does one of:\n"
             "\n"
             "  --ops \"OP; OP; ...\"     ops on one heap, starting empty:\n"
             "        push X        heapq.heappush; returns nothing\n"
             "        pop           heapq.heappop; the smallest (error when empty)\n"
             "        pushpop X     heapq.heappushpop; X itself when X <= the root\n"
             "        replace X     heapq.heapreplace; the old root (error when empty)\n"
             "        heapify LIST  the heap becomes LIST in heap order\n"
             "  --nsmallest N --nums LIST   the N smallest, ascending, ties in input order\n"
             "  --nlargest N --nums LIST    the N largest, descending, ties in input order\n"
             "                              (N <= 0 gives [], N >= the length gives all)\n"
             "  --merge \"L1 | L2 | ...\"     merge sorted lists; ties keep list order\n"
             "  --merge ... --reverse       the same for lists sorted largest first\n"
             "  --heapsort LIST             sort ascending in place with a max-heap\n"
             "\n"
             "Numbers are ints separated by spaces or commas. The trace shows the array\n"
             "(the tree's level order), every comparison and move, and asks which child\n"
             "a sift follows and where an item comes to rest.\n"
             "\n"
             "json: --ops: {\"topic\": \"heap\", \"outputs\": [null, 3, ...], \"heap\": [...]},\n"
             "      one output per op: the value it returned, null for push and heapify;\n"
             "      the others: {\"topic\": \"heap\", \"result\": [...]}\n"
             "\n"
             "more examples:\n"
             "  tutor run heap --nsmallest 3 --nums \"5 1 4 1 5 9 2 6\"\n"
             "  tutor run heap --merge \"1 4 7 | 2 5 | 3\" --json\n"
             "  tutor run heap --heapsort \"5 2 9 1 7\" --trace\n",
    .opts = heap_opts,
    .example = "--ops \"push 5; push 3; pop; heapify 9 8 7; pushpop 4; replace 2\"",
    .notes = "heap.md",
    .run = run,
    .random_input = random_input,
    .plot = topic_heap_plot,
};
