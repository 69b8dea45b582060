/* cli.h: the `tutor` command line (the contract in DESIGN.md), as a function so tests can
 * run it in-process with their own streams. */
#ifndef TUTOR_CLI_H
#define TUTOR_CLI_H

#include <stdio.h>

#define TUTOR_VERSION "0.1.0"

/* Runs `tutor argv[1..]`, writing results to out and diagnostics (one line each) to err.
 * Returns the process exit status: 0 success, 2 bad usage or input, 1 a failure of ours
 * (out of memory, an output error). Output is built in memory and written once at the end,
 * so an error never leaves half an answer on out. */
int cli_main(int argc, char **argv, FILE *out, FILE *err);

/* Writes the whole of sb to f and flushes it. Returns 0, or 1 (the exit status for an output
 * failure) after one line on err when sb ran out of memory or the write failed. The one way
 * every command prints its result, so nothing half-built reaches the user. */
struct strbuf;
int cli_emit(FILE *f, FILE *err, const struct strbuf *sb);

/* Writes one diagnostic line to err: the printf-formatted message, then a newline. Control
 * characters in it (a newline or an escape sequence inside an argument the message quotes)
 * are written as \n, \r, \t or \xNN, so a refusal stays one line and cannot drive the
 * terminal. A message longer than about 1000 bytes is cut and ends in "...". */
void cli_error(FILE *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Splits argv[0..argc) (everything after `run TOPIC`) into the options of topic t: global
 * --json, --trace, --seed are taken out into *json, *want_trace and args->seed; every
 * other option must be one t declares. `--name=value` is accepted as `--name value`.
 * args->opts is a new array (free with mem_free) whose strings point into argv.
 * Returns 0, or TUTOR_EINVAL / TUTOR_ENOMEM with one line in err. The UI's input editor uses
 * it too, so both refuse the same things in the same words. */
struct topic;
struct topic_args;
int cli_parse_args(const struct topic *t, int argc, char **argv, struct topic_args *args, int *json,
                   int *want_trace, char *err, size_t errlen);

#endif
