/* Tests that the documentation says what the program does: README.md's examples and the
 * width of the code in the topics' notes.
 *
 * README's examples are read from README.md itself, by one rule: in each block fenced by a
 * line "```sh" and a line "```", a line starting with "tutor run " is an example; its
 * comment is the text after its first '#' outside double quotes, or, when it has none, the
 * next line when that line starts (after spaces) with '#'. Every example must exit 0 with
 * nothing on stderr and something on stdout, and with --json print exactly one JSON value.
 * A comment starting with '{' is the example's whole output. Any other comment is prose
 * ("maximum gap: 3"), which no simple rule can check: the table `promises` below holds, for
 * each example with such a comment, the comment as README words it and what stdout must
 * contain for it to hold. The match goes both ways (a README example with prose the table
 * lacks fails, and so does a table row README lost), so neither side can drift alone.
 * `tutor plot` and `tutor exercise` examples are left to tests/test_plots.c and
 * tests/test_exercises.c (they need gnuplot and make). The examples run in a fresh
 * temporary folder holding q.txt, k.txt and v.txt, the files the performer example names. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../trace/status.h"
#include "../tutor/core/parse.h"
#include "../tutor/topics/topic.h"
#include "../tutor/ui/tty.h"
#include "../tutor/ui/notes.h"
#include "harness.h"

#ifndef TUTOR_SRCDIR
#define TUTOR_SRCDIR "."
#endif

/* The terminal the notes must fit: the notes screen wraps at COLS - 2 and draws a line of
 * indent i at column 1 + i, i.e. in COLS - 2 - i cells (tutor/ui/notes.c). */
#define NOTES_COLS 80

/* What README's prose comments promise: the example, its comment as README words it, and
 * up to three strings stdout must contain. */
typedef struct promise {
    const char *command, *comment;
    const char *needles[3];
} promise;

static const promise promises[] = {
    {"tutor run maxgap   --nums \"3 6 9 1\"", "maximum gap: 3", {"maximum gap", ": 3\n"}},
    {"tutor run combsum  --candidates \"2 3 6 7\" --target 7",
     "[2, 2, 3] and [7]",
     {"2 combinations", "\n  [2, 2, 3]\n  [7]\n"}},
    {"tutor run knapsack --capacity 5 --items \"1:2 2:4 3:4 4:5\" --method 1d --ascending",
     "the j-ascending mistake: silently the unbounded knapsack (10)",
     {"best value 10 ", "unbounded knapsack"}},
    {"tutor run maxgap   --nums \"3 6 9 1\" --trace",
     "every step, readable",
     {": 3\n", " steps:\nstep 1 [line "}},
    {"tutor run ssm --kind mamba --json", "the selective-copying demo", {"\"marked\": ["}},
    {"tutor run vq --K 16",
     "images as tokens, and the loss",
     {"result: the tokens", "VQ-VAE (z = x): codebook_loss", "commitment"}},
    {"tutor run fusion --part growth --g \"1 2 4 8 16\"",
     "QK-Norm keeps logits bounded",
     {"the logits grow like g^2 without QK-Norm; with it they stay bounded"}},
    {"tutor run mot --segments \"text:5 image:4 text:3\" --tie",
     "tied experts = one dense layer",
     {"tied = dense: max |Y - Y_dense| = "}},
    {"tutor run flow --steps 8 --method heun",
     "rectified flow on a 2-D mixture",
     {"8 heun steps", "mixture (4 components"}},
};
#define N_PROMISES (sizeof promises / sizeof promises[0])
static int promise_seen[N_PROMISES];

static const char *srcdir(void)
{
    const char *s = getenv("TUTOR_SRCDIR");
    return s && *s ? s : TUTOR_SRCDIR;
}

/* Reads srcdir/rel into *text. Returns 1, or 0 after a CUnit failure naming the file. */
static int read_src(const char *rel, strbuf *text)
{
    strbuf path = STRBUF_INIT;
    strbuf_printf(&path, "%s/%s", srcdir(), rel);
    int rc = notes_read(strbuf_str(&path), text);
    if (rc) {
        CU_FAIL("cannot read a documentation file");
        fprintf(stderr, "\n  %s: %s", strbuf_str(&path), status_strerror(rc));
    }
    strbuf_free(&path);
    return rc == 0;
}

/* The length of s's command part: up to its first '#' outside double quotes, without the
 * spaces before it. */
static size_t command_len(const char *s, size_t n)
{
    size_t end = n;
    int quoted = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            quoted = !quoted;
        else if (s[i] == '#' && !quoted) {
            end = i;
            break;
        }
    }
    while (end > 0 && s[end - 1] == ' ')
        end--;
    return end;
}

/* The comment that starts at s[0] == '#', trimmed, into *c. */
static void comment_of(const char *s, size_t n, strbuf *c)
{
    strbuf_clear(c);
    size_t i = 1;
    while (i < n && s[i] == ' ')
        i++;
    while (n > i && s[n - 1] == ' ')
        n--;
    strbuf_putn(c, s + i, n - i);
}

/* Writes an r x 3 matrix file name into the current folder. */
static void write_matrix(const char *name, int r, int salt)
{
    FILE *f = fopen(name, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (int i = 0; i < r; i++)
        fprintf(f, "%d.25 %d.5 -%d.75\n", (i + salt) % 3, (2 * i + salt) % 5, (i * salt) % 2);
    fclose(f);
}

/* Runs one example and checks it; comment may be empty. out and err are scratch. */
static void check_example(const char *command, const char *comment, strbuf *out, strbuf *err)
{
    char **argv = NULL;
    int argc = 0;
    char msg[256];
    if (parse_words(command + strlen("tutor "), &argv, &argc, msg, sizeof msg) != 0) {
        CU_FAIL("a README example does not split into words");
        fprintf(stderr, "\n  %s: %s", command, msg);
        return;
    }
    int rc = th_cli_argv(out, err, argc, argv);
    int json = 0;
    for (int i = 0; i < argc; i++)
        json |= strcmp(argv[i], "--json") == 0;
    parse_free_words(argv);
    const promise *prose = NULL;
    if (comment[0] && comment[0] != '{') {
        for (size_t k = 0; k < N_PROMISES; k++)
            if (strcmp(promises[k].command, command) == 0 &&
                strcmp(promises[k].comment, comment) == 0) {
                prose = &promises[k];
                promise_seen[k] = 1;
            }
        if (!prose) {
            CU_FAIL("a README example's comment has no row in tests/test_docs.c's promises");
            fprintf(stderr, "\n  %s  # %s", command, comment);
        }
    }
    int ok = rc == 0 && err->len == 0 && out->len > 0;
    if (ok && json)
        ok = th_json_valid(strbuf_str(out));
    if (ok && comment[0] == '{')
        ok = strlen(strbuf_str(out)) == strlen(comment) + 1 &&
             strncmp(strbuf_str(out), comment, strlen(comment)) == 0;
    for (int k = 0; ok && prose && k < 3 && prose->needles[k]; k++)
        ok = strstr(strbuf_str(out), prose->needles[k]) != NULL;
    if (!ok) {
        CU_FAIL("a README example does not do what README says");
        fprintf(stderr, "\n  %s  # %s\n  exit %d, stderr: %s\n  stdout: %.300s", command, comment,
                rc, strbuf_str(err), strbuf_str(out));
    }
}

static void test_readme_examples(void)
{
    strbuf text = STRBUF_INIT, command = STRBUF_INIT, comment = STRBUF_INIT;
    strbuf out = STRBUF_INIT, err = STRBUF_INIT;
    if (!read_src("README.md", &text))
        return;
    char dir[] = "/tmp/tutor-docs-XXXXXX", cwd[4096];
    CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof cwd));
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    CU_ASSERT_EQUAL_FATAL(chdir(dir), 0);
    write_matrix("q.txt", 5, 1);
    write_matrix("k.txt", 5, 2);
    write_matrix("v.txt", 5, 3);
    memset(promise_seen, 0, sizeof promise_seen);

    int in_sh = 0, examples = 0;
    const char *p = strbuf_str(&text);
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        const char *next = eol ? eol + 1 : p + n;
        if (n >= 3 && strncmp(p, "```", 3) == 0) {
            in_sh = !in_sh && n == 5 && strncmp(p, "```sh", 5) == 0;
        } else if (in_sh && n > 10 && strncmp(p, "tutor run ", 10) == 0) {
            size_t cl = command_len(p, n);
            strbuf_clear(&command);
            strbuf_putn(&command, p, cl);
            strbuf_clear(&comment);
            if (cl < n) {
                const char *hash = p + cl;
                while (*hash != '#')
                    hash++;
                comment_of(hash, n - (size_t)(hash - p), &comment);
            } else if (*next) {
                const char *q = next;
                while (*q == ' ')
                    q++;
                if (*q == '#') {
                    const char *qe = strchr(q, '\n');
                    comment_of(q, qe ? (size_t)(qe - q) : strlen(q), &comment);
                }
            }
            check_example(strbuf_str(&command), strbuf_str(&comment), &out, &err);
            examples++;
        }
        p = next;
    }
    /* README has had 15 examples of `tutor run`; far fewer means the rule no longer sees
     * its blocks. */
    CU_ASSERT_TRUE(examples >= 10);
    for (size_t k = 0; k < N_PROMISES; k++)
        if (!promise_seen[k]) {
            CU_FAIL("a row of tests/test_docs.c's promises is no longer a README example");
            fprintf(stderr, "\n  %s  # %s", promises[k].command, promises[k].comment);
        }

    const char *files[] = {"q.txt", "k.txt", "v.txt"};
    for (int i = 0; i < 3; i++)
        remove(files[i]);
    CU_ASSERT_EQUAL(chdir(cwd), 0);
    CU_ASSERT_EQUAL(rmdir(dir), 0);
    strbuf_free(&text);
    strbuf_free(&command);
    strbuf_free(&comment);
    strbuf_free(&out);
    strbuf_free(&err);
}

/* docs/README.md's rule for notes: on an 80-column terminal no code line is cut. Each
 * topic's notes are rendered as the notes screen renders them, and every code line must
 * fit the cells the screen gives it. */
static void test_notes_code_fits(void)
{
    if (!setlocale(LC_ALL, "C.UTF-8") && !setlocale(LC_ALL, "en_US.UTF-8")) {
        CU_FAIL("no UTF-8 locale to measure the notes in");
        return;
    }
    strbuf docs = STRBUF_INIT, path = STRBUF_INIT, text = STRBUF_INIT;
    strbuf_printf(&docs, "%s/docs", srcdir());
    const char *saved = getenv("TUTOR_DOCS");
    char *saved_copy = saved ? strdup(saved) : NULL;
    setenv("TUTOR_DOCS", strbuf_str(&docs), 1);
    int code_lines = 0;
    for (size_t t = 0; t < topic_count; t++) {
        const topic *tp = topic_registry[t];
        if (notes_find(tp, &path) != 0 || notes_read(strbuf_str(&path), &text) != 0) {
            CU_FAIL("a topic has no notes in docs/");
            fprintf(stderr, "\n  %s: %s", tp->id, strbuf_str(&path));
            continue;
        }
        notes_doc md = {0};
        CU_ASSERT_EQUAL_FATAL(notes_render(strbuf_str(&text), NOTES_COLS - 2, &md), 0);
        for (size_t i = 0; i < md.n; i++) {
            if (md.lines[i].style != TTY_CODE)
                continue;
            code_lines++;
            int cells = 0;
            for (const char *c = md.lines[i].text; *c;) {
                int cw;
                size_t k = tty_char(c, &cw);
                if (k == 0)
                    break;
                cells += cw;
                c += k;
            }
            int room = NOTES_COLS - 2 - md.lines[i].indent;
            if (cells > room) {
                CU_FAIL("a code line of a topic's notes is cut on an 80-column terminal");
                fprintf(stderr, "\n  docs/%s.md: %d cells, room for %d: %s", tp->id, cells, room,
                        md.lines[i].text);
            }
        }
        notes_free(&md);
    }
    CU_ASSERT_TRUE(code_lines > 50);
    if (saved_copy)
        setenv("TUTOR_DOCS", saved_copy, 1);
    else
        unsetenv("TUTOR_DOCS");
    free(saved_copy);
    setlocale(LC_ALL, "C");
    strbuf_free(&docs);
    strbuf_free(&path);
    strbuf_free(&text);
}

void tests_register(void)
{
    static const th_test docs_tests[] = {
        {"README's tutor run examples do what their comments say", test_readme_examples},
        {"no code line of a topic's notes is cut at 80 columns", test_notes_code_fits},
        {NULL, NULL},
    };
    th_suite("docs", docs_tests);
}
