/* Tests of the command line's own behaviour (topic-independent) and the shared parsers. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../trace/mem.h"
#include "../trace/status.h"
#include "../tutor/core/parse.h"
#include "../tutor/topics/topic.h"
#include "harness.h"

static strbuf out = STRBUF_INIT, err = STRBUF_INIT;

static void test_help_and_version(void)
{
    CU_ASSERT_EQUAL(th_cli(&out, &err, NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "tutor run TOPIC"));
    CU_ASSERT_EQUAL(th_cli(&out, &err, "--help", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "usage:"));
    CU_ASSERT_EQUAL(th_cli(&out, &err, "--version", NULL), 0);
    CU_ASSERT_EQUAL(strncmp(strbuf_str(&out), "tutor ", 6), 0);
    CU_ASSERT_EQUAL(th_cli(&out, &err, "help", NULL), 0);
}

static void test_bad_commands(void)
{
    CU_ASSERT_EQUAL(th_cli(&out, &err, "frobnicate", NULL), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&err), "unknown command 'frobnicate'"));
    CU_ASSERT_EQUAL(out.len, 0);
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", NULL), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&err), "missing topic"));
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "nosuchtopic", NULL), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&err), "unknown topic 'nosuchtopic'"));
    CU_ASSERT_EQUAL(th_cli(&out, &err, "help", "nosuchtopic", NULL), 2);
    CU_ASSERT_EQUAL(th_cli(&out, &err, "list", "--bogus", NULL), 2);
    CU_ASSERT_EQUAL(th_count_lines(strbuf_str(&err)), 1);
}

/* A message that quotes an argument holding a newline or an escape stays one line, with
 * the control characters written out. */
static void test_control_chars_quoted(void)
{
    th_refused(th_cli(&out, &err, "run", "a\nb", NULL), &out, &err, "unknown topic 'a\\nb'");
    th_refused(th_cli(&out, &err, "a\x1b[2Jb", NULL), &out, &err, "'a\\x1b[2Jb'");
    th_refused(th_cli(&out, &err, "run", "ssm", "--kind", "s4\n", NULL), &out, &err,
               "unknown kind 's4\\n'");
    th_refused(th_cli(&out, &err, "run", "maxgap", "--nums=\r", "--seed", "1\n2", NULL), &out, &err,
               "--seed: '1\\n2'");
    th_refused(th_cli(&out, &err, "plot", "maxgap", "--format", "png\n", NULL), &out, &err,
               "unknown --format 'png\\n'");
    th_refused(th_cli(&out, &err, "exercise", "x\ty", NULL), &out, &err, "'x\\ty'");
}

/* Writes text to a new temporary file; path receives its name. Returns 1 on success. */
static int temp_file(char *path, size_t n, const char *text, size_t len)
{
    snprintf(path, n, "/tmp/tutor-list-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        return 0;
    }
    int ok = fwrite(text, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

/* Every list option takes @FILE: the same parser, errors naming the file and line. A list of
 * 200,000 numbers (1.3 MB, ten times what Linux lets one argument carry) goes through. */
static void test_list_from_file(void)
{
    char path[64], arg[80];
    strbuf big = STRBUF_INIT;
    for (int i = 0; i < 200000; i++)
        strbuf_printf(&big, "%d%c", (i * 7919) % 1000003, i % 10 == 9 ? '\n' : ' ');
    CU_ASSERT_FATAL(!big.failed && temp_file(path, sizeof path, strbuf_str(&big), big.len));
    snprintf(arg, sizeof arg, "@%s", path);
    /* The same answer as the library gives the same numbers inline (parsed in-process). */
    int *nums = NULL;
    size_t n = 0;
    char msg[128];
    CU_ASSERT_EQUAL_FATAL(
        parse_ints(strbuf_str(&big), "--nums", 10000000, &nums, &n, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(n, 200000);
    int *file_nums = NULL;
    size_t fn = 0;
    CU_ASSERT_EQUAL(parse_ints(arg, "--nums", 10000000, &file_nums, &fn, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(fn, n);
    if (fn == n && file_nums) {
        CU_ASSERT_EQUAL(memcmp(nums, file_nums, n * sizeof *nums), 0);
    }
    mem_free(nums);
    mem_free(file_nums);
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "maxgap", "--nums", arg, "--json", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"result\": "));
    remove(path);
    strbuf_free(&big);

    static const struct {
        const char *topic, *opt, *text, *needle;
    } bad[] = {
        {"maxgap", "--nums", "1 2 3\n4 x 6\n", "--nums: %s:2: 'x' is not an integer"},
        {"combsum", "--candidates", "2 3\n\n6 7,\n1.5\n", "--candidates: %s:4: '1.5'"},
        {"knapsack", "--items", "1:2 2:4\n3:4 4\n", "--items: %s:2: '4' is not of the form A:B"},
        {"heap", "--ops", "push 5\npush 3\npop\npish 2\n", "--ops: %s:4: op 4 'pish' is unknown"},
        {"heap", "--merge", "1 4 7 |\n2 5 | 3 x\n", "--merge list 3: %s:2: 'x' is not an integer"},
        {"heap", "--heapsort", "5 4\n3 2 1 y", "--heapsort: %s:2: 'y' is not an integer"},
        {"maxgap", "--nums", "1 2\0 3", "--nums: %s:1: a NUL byte"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = strlen(bad[i].text);
        if (strstr(bad[i].needle, "NUL"))
            len = 6;
        CU_ASSERT_FATAL(temp_file(path, sizeof path, bad[i].text, len));
        snprintf(arg, sizeof arg, "@%s", path);
        char needle[160];
        snprintf(needle, sizeof needle, bad[i].needle, path);
        const char *target = strcmp(bad[i].topic, "combsum") == 0 ? "--target" : NULL;
        const char *capacity = strcmp(bad[i].topic, "knapsack") == 0 ? "--capacity" : NULL;
        int rc = target
                     ? th_cli(&out, &err, "run", bad[i].topic, bad[i].opt, arg, target, "7", NULL)
                 : capacity
                     ? th_cli(&out, &err, "run", bad[i].topic, bad[i].opt, arg, capacity, "5", NULL)
                     : th_cli(&out, &err, "run", bad[i].topic, bad[i].opt, arg, NULL);
        th_refused(rc, &out, &err, needle);
        remove(path);
    }
    th_refused(th_cli(&out, &err, "run", "maxgap", "--nums", "@/nonexistent/list", NULL), &out,
               &err, "--nums: cannot open /nonexistent/list");
    th_refused(th_cli(&out, &err, "run", "maxgap", "--nums", "@/tmp", NULL), &out, &err,
               "not a regular file or a pipe");
    th_refused(th_cli(&out, &err, "run", "maxgap", "--nums", "@", NULL), &out, &err,
               "@ must be followed by a file name");
}

/* `-` reads the list from standard input (a pipe here), through the binary itself. */
static void test_list_from_stdin(void)
{
    const char *bin = getenv("TUTOR_BIN");
    if (!bin || access(bin, X_OK) != 0) {
        CU_FAIL("TUTOR_BIN is not set (run through make test)");
        return;
    }
    char cmd[512];
    snprintf(cmd, sizeof cmd, "printf '3 6\\n9 1\\n' | '%s' run maxgap --nums - --json", bin);
    FILE *p = popen(cmd, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    char line[128] = "";
    if (!fgets(line, sizeof line, p))
        line[0] = '\0';
    CU_ASSERT_EQUAL(pclose(p), 0);
    CU_ASSERT_STRING_EQUAL(line, "{\"topic\": \"maxgap\", \"result\": 3}\n");
    snprintf(cmd, sizeof cmd, "printf 'push 5; push 3\\npop' | '%s' run heap --ops - --json", bin);
    p = popen(cmd, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    if (!fgets(line, sizeof line, p))
        line[0] = '\0';
    CU_ASSERT_EQUAL(pclose(p), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "\"heap\""));
}

static void test_list(void)
{
    CU_ASSERT_EQUAL(th_cli(&out, &err, "list", NULL), 0);
    CU_ASSERT_EQUAL(th_count_lines(strbuf_str(&out)), topic_count);
    for (size_t i = 0; i < topic_count; i++) {
        CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), topic_registry[i]->id));
    }
    CU_ASSERT_EQUAL(th_cli(&out, &err, "list", "--json", NULL), 0);
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
    /* Every topic has what the CLI, the UI and the docs rely on, and help works for it. */
    for (size_t i = 0; i < topic_count; i++) {
        const topic *t = topic_registry[i];
        CU_ASSERT_PTR_NOT_NULL(t->id);
        CU_ASSERT_PTR_NOT_NULL(t->family);
        CU_ASSERT_PTR_NOT_NULL(t->title);
        CU_ASSERT_PTR_NOT_NULL(t->summary);
        CU_ASSERT_PTR_NOT_NULL(t->run);
        CU_ASSERT_PTR_EQUAL(topic_find(t->id), t);
        CU_ASSERT_EQUAL(th_cli(&out, &err, "help", t->id, NULL), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), t->title));
    }
}

/* Every topic's own example runs and prints valid JSON with and without the trace, and the
 * trace's lines exist in the listing the trace carries. */
static void test_every_example_runs(void)
{
    for (size_t i = 0; i < topic_count; i++) {
        const topic *t = topic_registry[i];
        if (!t->example)
            continue;
        char **words;
        int nwords;
        char msg[256];
        CU_ASSERT_EQUAL_FATAL(parse_words(t->example, &words, &nwords, msg, sizeof msg), 0);
        char *argv[40] = {"run", (char *)t->id};
        int argc = 2;
        for (int k = 0; k < nwords && argc < 36; k++)
            argv[argc++] = words[k];
        argv[argc++] = "--json";
        argv[argc++] = "--trace";
        argv[argc] = NULL;
        /* th_cli takes a NULL-terminated list; pass up to 12 words. */
        int rc = th_cli(&out, &err, argv[0], argv[1], argv[2], argv[3], argv[4], argv[5], argv[6],
                        argv[7], argv[8], argv[9], argv[10], argv[11], NULL);
        if (rc != 0)
            fprintf(stderr, "\n  example of %s failed: %s", t->id, strbuf_str(&err));
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
        parse_free_words(words);
    }
}

static void test_parse_ints(void)
{
    int *v;
    size_t n;
    char msg[256];
    CU_ASSERT_EQUAL(parse_ints(" 3, 6 9\t1,", "--nums", 100, &v, &n, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(n, 4);
    CU_ASSERT_TRUE(v[0] == 3 && v[1] == 6 && v[2] == 9 && v[3] == 1);
    mem_free(v);
    CU_ASSERT_EQUAL(parse_ints("-2147483648 2147483647", "--nums", 100, &v, &n, msg, sizeof msg),
                    0);
    CU_ASSERT_TRUE(n == 2 && v[0] == INT_MIN && v[1] == INT_MAX);
    mem_free(v);
    CU_ASSERT_EQUAL(parse_ints("", "--nums", 100, &v, &n, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(parse_ints("1 x2 3", "--nums", 100, &v, &n, msg, sizeof msg), TUTOR_EINVAL);
    CU_ASSERT_STRING_EQUAL(msg, "--nums: 'x2' is not an integer");
    CU_ASSERT_EQUAL(parse_ints("1 2.5", "--nums", 100, &v, &n, msg, sizeof msg), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(parse_ints("2147483648", "--nums", 100, &v, &n, msg, sizeof msg), TUTOR_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "outside"));
    CU_ASSERT_EQUAL(parse_ints("99999999999999999999999", "--nums", 100, &v, &n, msg, sizeof msg),
                    TUTOR_ERANGE);
    CU_ASSERT_EQUAL(parse_ints("1 2 3", "--nums", 2, &v, &n, msg, sizeof msg), TUTOR_ETOOBIG);
    CU_ASSERT_EQUAL(parse_ints("- +", "--nums", 2, &v, &n, msg, sizeof msg), TUTOR_EINVAL);
}

static void test_parse_pairs_and_int(void)
{
    int *a, *b;
    size_t n;
    long long x;
    char msg[256];
    CU_ASSERT_EQUAL(parse_pairs("1:2, 2:4 3:4", "--items", 0, INT_MAX, 0, INT_MAX, 10, &a, &b, &n,
                                msg, sizeof msg),
                    0);
    CU_ASSERT_TRUE(n == 3 && a[0] == 1 && b[0] == 2 && a[2] == 3 && b[2] == 4);
    mem_free(a);
    mem_free(b);
    CU_ASSERT_EQUAL(parse_pairs("1:2 3", "--items", 0, 9, 0, 9, 10, &a, &b, &n, msg, sizeof msg),
                    TUTOR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "'3' is not of the form A:B"));
    CU_ASSERT_EQUAL(parse_pairs("1:-2", "--items", 0, 9, 0, 9, 10, &a, &b, &n, msg, sizeof msg),
                    TUTOR_ERANGE);
    CU_ASSERT_EQUAL(parse_pairs("1:", "--items", 0, 9, 0, 9, 10, &a, &b, &n, msg, sizeof msg),
                    TUTOR_EINVAL);
    CU_ASSERT_EQUAL(parse_int(" 42 ", "--target", 1, 100, &x, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(x, 42);
    CU_ASSERT_EQUAL(parse_int("-1", "--capacity", 0, 100, &x, msg, sizeof msg), TUTOR_ERANGE);
    CU_ASSERT_EQUAL(parse_int("", "--capacity", 0, 100, &x, msg, sizeof msg), TUTOR_EINVAL);
}

static void test_parse_words(void)
{
    char **w;
    int n;
    char msg[256];
    CU_ASSERT_EQUAL(parse_words("--nums \"3 6 9\" --x 'a b' c\\ d", &w, &n, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL_FATAL(n, 5);
    CU_ASSERT_STRING_EQUAL(w[0], "--nums");
    CU_ASSERT_STRING_EQUAL(w[1], "3 6 9");
    CU_ASSERT_STRING_EQUAL(w[3], "a b");
    CU_ASSERT_STRING_EQUAL(w[4], "c d");
    CU_ASSERT_PTR_NULL(w[5]);
    parse_free_words(w);
    CU_ASSERT_EQUAL(parse_words("--nums \"3 6", &w, &n, msg, sizeof msg), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(parse_words("   ", &w, &n, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(n, 0);
    parse_free_words(w);
}

static int cleanup(void)
{
    strbuf_free(&out);
    strbuf_free(&err);
    return 0;
}

void tests_register(void)
{
    static const th_test cli_tests[] = {
        {"no arguments, --help, --version", test_help_and_version},
        {"unknown command, topic, option: exit 2, one line", test_bad_commands},
        {"control characters in quoted arguments stay on one line", test_control_chars_quoted},
        {"list, list --json, help for every topic", test_list},
        {"every topic's example runs with --json --trace", test_every_example_runs},
        {NULL, NULL},
    };
    static const th_test parse_tests[] = {
        {"int lists: separators, int range, errors", test_parse_ints},
        {"pairs and single ints", test_parse_pairs_and_int},
        {"words with quotes", test_parse_words},
        {"list options take @FILE, errors name file and line", test_list_from_file},
        {"list options take - for standard input", test_list_from_stdin},
        {NULL, NULL},
    };
    th_suite("cli", cli_tests);
    th_suite("parse", parse_tests);
    CU_pSuite s = CU_add_suite("cleanup", NULL, cleanup);
    (void)s;
}
