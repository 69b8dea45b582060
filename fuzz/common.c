/* common.c: the harnesses' shared helpers (see common.h). */
#include "common.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../trace/mem.h"
#include "../tutor/cli.h"

static char dir[64];
static char path[4096];

static int remove_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(p);
    return 0;
}

static void remove_dir(void)
{
    if (dir[0])
        nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fz_dir(void)
{
    if (dir[0])
        return dir;
    /* Every input is written to a file: in memory (/dev/shm) that runs some fifty times
     * faster than on a disk-backed /tmp. */
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp || strlen(tmp) >= 40)
        tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/tutor-fuzz-XXXXXX", tmp);
    if (!mkdtemp(dir))
        fz_fail("cannot make a temporary folder %s", dir);
    atexit(remove_dir);
    return dir;
}

const char *fz_file(const char *name, const uint8_t *data, size_t size)
{
    snprintf(path, sizeof path, "%s/%s", fz_dir(), name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        fz_fail("cannot write %s", path);
    return path;
}

const uint8_t *fz_find(const uint8_t *data, size_t size, const char *s, size_t len)
{
    for (size_t i = 0; i + len <= size; i++)
        if (memcmp(data + i, s, len) == 0)
            return data + i;
    return NULL;
}

void fz_remove(const char *name)
{
    snprintf(path, sizeof path, "%s/%s", fz_dir(), name);
    remove(path);
}

void fz_remove_tree(const char *name)
{
    snprintf(path, sizeof path, "%s/%s", fz_dir(), name);
    nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

unsigned fz_control(const uint8_t **data, size_t *size)
{
    if (!*size)
        return 0;
    unsigned ctl = (*data)[0];
    (*data)++;
    (*size)--;
    return ctl;
}

int fz_alloc_fail(unsigned ctl)
{
    if (!(ctl & 0x80))
        return 0;
    mem_fail_after((long)(ctl & 63));
    return 1;
}

void fz_alloc_end(void)
{
    mem_fail_after(-1);
}

void fz_cli(int argc, char **argv, unsigned ctl, const char *const *ours)
{
    char *out_text = NULL, *err_text = NULL;
    size_t out_len = 0, err_len = 0;
    FILE *out = open_memstream(&out_text, &out_len), *err = open_memstream(&err_text, &err_len);
    if (!out || !err)
        fz_fail("open_memstream failed");
    int armed = fz_alloc_fail(ctl);
    int status = cli_main(argc, argv, out, err);
    fz_alloc_end();
    fclose(out);
    fclose(err);
    const char *nl = strchr(err_text, '\n');
    int expected = armed;
    for (const char *const *s = ours; s && *s && !expected; s++)
        expected = strstr(err_text, *s) != NULL;
    if (status == 0 && err_len)
        fz_fail("cli: exit 0 with a message: %s", err_text);
    if (status == 2 && (out_len || !nl || nl[1]))
        fz_fail("cli: exit 2 must be one line on stderr and nothing on stdout: %s", err_text);
    if (status == 1 && (!expected || !nl))
        fz_fail("cli: exit 1 with no failure of ours: %s", err_text);
    if (status != 0 && status != 1 && status != 2)
        fz_fail("cli: exit status %d", status);
    free(out_text);
    free(err_text);
}

void fz_one_line(const char *what, const char *msg)
{
    if (!msg || !msg[0])
        fz_fail("%s: an error without a message", what);
    if (strchr(msg, '\n'))
        fz_fail("%s: the message is more than one line: %s", what, msg);
}

void fz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz contract: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}
