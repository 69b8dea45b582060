#include "harness.h"

#include <CUnit/Basic.h>
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../trace/mem.h"
#include "../trace/status.h"
#include "../tutor/cli.h"

void th_suite(const char *name, const th_test *tests)
{
    CU_pSuite suite = CU_add_suite(name, NULL, NULL);
    if (!suite) {
        fprintf(stderr, "harness: cannot add suite %s\n", name);
        exit(2);
    }
    for (const th_test *t = tests; t->name; t++)
        if (!CU_add_test(suite, t->name, t->fn)) {
            fprintf(stderr, "harness: cannot add test %s\n", t->name);
            exit(2);
        }
}

/* Closes a memstream and moves what it holds into `into`. fclose may move the buffer, so
 * the pointer and length are read only after it. */
static void slurp(FILE *f, char **buf, size_t *len, strbuf *into)
{
    fclose(f);
    strbuf_clear(into);
    strbuf_putn(into, *buf ? *buf : "", *buf ? *len : 0);
    free(*buf);
}

int th_cli_argv(strbuf *out, strbuf *err, int argc, char **argv)
{
    char *full[66];
    int n = 0;
    full[n++] = "tutor";
    for (int i = 0; i < argc && n < 65; i++)
        full[n++] = argv[i];
    full[n] = NULL;
    char *obuf = NULL, *ebuf = NULL;
    size_t olen = 0, elen = 0;
    FILE *fo = open_memstream(&obuf, &olen);
    FILE *fe = open_memstream(&ebuf, &elen);
    if (!fo || !fe) {
        fprintf(stderr, "harness: open_memstream failed\n");
        exit(2);
    }
    int status = cli_main(n, full, fo, fe);
    fflush(fo);
    fflush(fe);
    slurp(fo, &obuf, &olen, out);
    slurp(fe, &ebuf, &elen, err);
    return status;
}

int th_cli(strbuf *out, strbuf *err, ...)
{
    char *argv[64];
    int argc = 0;
    va_list ap;
    va_start(ap, err);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 63;)
        argv[argc++] = a;
    va_end(ap);
    return th_cli_argv(out, err, argc, argv);
}

int th_refused(int rc, const strbuf *out, const strbuf *err, const char *needle)
{
    int held = 1;
    if (rc != 2) {
        CU_FAIL("bad input did not exit with status 2");
        held = 0;
    }
    if (out->len != 0) {
        CU_FAIL("bad input printed something on stdout");
        held = 0;
    }
    if (th_count_lines(strbuf_str(err)) != 1) {
        CU_FAIL("bad input did not print exactly one line on stderr");
        held = 0;
    }
    if (needle && !strstr(strbuf_str(err), needle)) {
        CU_FAIL("stderr does not name the problem");
        held = 0;
    }
    if (!held)
        fprintf(stderr, "\n  exit %d, stderr: %s  (wanted '%s')\n", rc, strbuf_str(err),
                needle ? needle : "");
    return held;
}

/* A small recursive-descent JSON checker: enough to assert that every byte the CLI prints
 * under --json parses, without a JSON library dependency. */
static const char *json_value(const char *p, int depth);

static const char *ws(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

static const char *json_string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    while (*p && *p != '"') {
        if ((unsigned char)*p < 0x20)
            return NULL;
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!isxdigit((unsigned char)p[i]))
                        return NULL;
                p += 4;
            } else if (!strchr("\"\\/bfnrt", *p) || !*p) {
                return NULL;
            }
        }
        p++;
    }
    return *p == '"' ? p + 1 : NULL;
}

static const char *json_number(const char *p)
{
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (isdigit((unsigned char)*p))
        while (isdigit((unsigned char)*p))
            p++;
    else
        return NULL;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return NULL;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return NULL;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return p;
}

static const char *json_items(const char *p, char close, int object, int depth)
{
    p = ws(p + 1);
    if (*p == close)
        return p + 1;
    for (;;) {
        if (object) {
            p = json_string(ws(p));
            if (!p)
                return NULL;
            p = ws(p);
            if (*p++ != ':')
                return NULL;
        }
        p = json_value(p, depth + 1);
        if (!p)
            return NULL;
        p = ws(p);
        if (*p == close)
            return p + 1;
        if (*p++ != ',')
            return NULL;
    }
}

static const char *json_value(const char *p, int depth)
{
    if (depth > 200)
        return NULL;
    p = ws(p);
    switch (*p) {
    case '{': return json_items(p, '}', 1, depth);
    case '[': return json_items(p, ']', 0, depth);
    case '"': return json_string(p);
    case 't': return strncmp(p, "true", 4) ? NULL : p + 4;
    case 'f': return strncmp(p, "false", 5) ? NULL : p + 5;
    case 'n': return strncmp(p, "null", 4) ? NULL : p + 4;
    default: return json_number(p);
    }
}

int th_json_valid(const char *s)
{
    const char *end = json_value(s, 0);
    return end && *ws(end) == '\0';
}

int th_alloc_sweep(int (*body)(void *ctx), void *ctx, int other_ok)
{
    int checked = 0;
    for (long k = 0; k < 1000000; k++) {
        mem_fail_after(k);
        int rc = body(ctx);
        mem_fail_after(-1);
        if (rc == 0)
            return checked;
        checked++;
        if (rc != TUTOR_ENOMEM && !(other_ok && rc == other_ok)) {
            CU_FAIL("a failed allocation returned something other than TUTOR_ENOMEM");
            fprintf(stderr, "\n  allocation %ld failing gave %d (%s)\n", k, rc,
                    status_strerror(rc));
            return checked;
        }
    }
    CU_FAIL("allocation sweep never succeeded");
    return checked;
}

size_t th_count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

int main(int argc, char **argv)
{
    (void)argc;
    const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "%s: cannot initialise CUnit\n", name);
        return 2;
    }
    tests_register();
    CU_basic_set_mode(CU_BRM_NORMAL);
    CU_basic_run_tests();
    unsigned run = CU_get_number_of_tests_run();
    unsigned failed = CU_get_number_of_tests_failed();
    unsigned asserts_failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    printf("\n%s: %u passed, %u failed\n", name, run - failed, failed);
    return failed || asserts_failed ? 1 : 0;
}

long th_json_numbers(const char *s, const char *key, double *v, size_t cap)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(s, pat);
    if (!p)
        return -1;
    p += strlen(pat);
    size_t n = 0;
    int depth = 0;
    do {
        if (*p == '[') {
            depth++;
            p++;
        } else if (*p == ']') {
            depth--;
            p++;
        } else if (*p == ',' || *p == ' ') {
            p++;
        } else if (strncmp(p, "null", 4) == 0) {
            if (n == cap)
                return -1;
            v[n++] = NAN;
            p += 4;
        } else {
            char *end;
            double x = strtod(p, &end);
            if (end == p || n == cap)
                return -1;
            v[n++] = x;
            p = end;
        }
    } while (depth > 0 && *p);
    return depth ? -1 : (long)n;
}

const char *th_write_file(const char *dir, const char *name, const char *text)
{
    static char paths[32][4096];
    static int next;
    char *p = paths[next++ % 32];
    snprintf(p, sizeof paths[0], "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
    return p;
}

void th_remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            th_remove_tree(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}
