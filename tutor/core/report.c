/* report.c: the two ways the command line speaks to its user. */
#include "report.h"

#include <stdarg.h>
#include <string.h>

void report_error(FILE *err, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        memcpy(line + sizeof line - 4, "...", 4);
    for (const unsigned char *c = (const unsigned char *)line; *c; c++) {
        if (*c >= 0x20 && *c != 0x7f)
            putc(*c, err);
        else if (*c == '\n' || *c == '\r' || *c == '\t')
            fprintf(err, "\\%c", *c == '\n' ? 'n' : *c == '\r' ? 'r' : 't');
        else
            fprintf(err, "\\x%02x", *c);
    }
    putc('\n', err);
}

int report_emit(FILE *f, FILE *err, const strbuf *sb)
{
    if (sb->failed) {
        fputs("tutor: out of memory while formatting the output\n", err);
        return 1;
    }
    if (fwrite(strbuf_str(sb), 1, sb->len, f) != sb->len || fflush(f) != 0) {
        fputs("tutor: could not write the output\n", err);
        return 1;
    }
    return 0;
}
