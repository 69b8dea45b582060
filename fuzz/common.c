/* common.c: the harnesses' shared helpers (see common.h). */
#include "common.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../trace/mem.h"

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
