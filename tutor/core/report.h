/* report.h: how tutor speaks to its user on the command line: a result written whole, a
 * refusal written as one line. Shared by the command line (cli.c) and the exercise runner,
 * so both print the same way. */
#ifndef TUTOR_REPORT_H
#define TUTOR_REPORT_H

#include <stdio.h>

#include "../../trace/strbuf.h"

/* Writes the whole of sb to f and flushes it. Returns 0, or 1 (the exit status for an output
 * failure) after one line on err when sb ran out of memory or the write failed. The one way
 * every command prints its result, so nothing half-built reaches the user. O(sb->len). */
int report_emit(FILE *f, FILE *err, const strbuf *sb);

/* Writes one diagnostic line to err: the printf-formatted message, then a newline. Control
 * characters in it (a newline or an escape sequence inside an argument the message quotes)
 * are written as \n, \r, \t or \xNN, so a refusal stays one line and cannot drive the
 * terminal. A message longer than about 1000 bytes is cut and ends in "...". */
void report_error(FILE *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
