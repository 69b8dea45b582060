/* parse.h: the input parsers shared by the CLI and the UI's input editor, so a value the
 * CLI refuses is refused in the UI with the same words.
 *
 * Every parser writes one line naming the option and what was expected into err (errlen
 * bytes, always NUL-terminated) and returns a negative tutor_status on bad input:
 * TUTOR_EINVAL (not a number, bad separator), TUTOR_ERANGE (outside the allowed range),
 * TUTOR_ETOOBIG (more values than allowed), TUTOR_ENOMEM. Numbers in lists may be separated
 * by spaces, tabs, newlines or commas. */
#ifndef TUTOR_PARSE_H
#define TUTOR_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Parses one integer in [lo, hi] from s (surrounding spaces allowed). `what` names the
 * option in messages ("--target"). Returns 0 and sets *out, or an error. */
int parse_int(const char *s, const char *what, long long lo, long long hi, long long *out,
              char *err, size_t errlen);

/* Parses an unsigned 64-bit integer (a seed). Returns 0 or an error. */
int parse_u64(const char *s, const char *what, uint64_t *out, char *err, size_t errlen);

/* Parses a list of ints into a new array (*out, freed by the caller with mem_free, NULL
 * when the list is empty) of *n values, at most max_n. Returns 0 or an error (nothing
 * allocated then). O(length of s). */
int parse_ints(const char *s, const char *what, size_t max_n, int **out, size_t *n, char *err,
               size_t errlen);

/* Parses a list of `a:b` int pairs ("1:2 2:4", volume:value for knapsack items) into two
 * new arrays *a and *b of *n values each (free each with mem_free; both NULL when the list
 * is empty), with a in [alo, ahi] and b in [blo, bhi], at most max_n pairs. Returns 0 or an
 * error (nothing allocated then). O(length of s). */
int parse_pairs(const char *s, const char *what, long long alo, long long ahi, long long blo,
                long long bhi, size_t max_n, int **a, int **b, size_t *n, char *err, size_t errlen);

/* Splits a command-line-like string into words, honouring 'single' and "double" quotes and
 * backslash escapes, as a shell would for simple input (the UI's input editor uses it).
 * On success *argv is a NULL-terminated array of *argc new strings; free with
 * parse_free_words. Returns 0, TUTOR_EINVAL for an unterminated quote, or TUTOR_ENOMEM. */
int parse_words(const char *line, char ***argv, int *argc, char *err, size_t errlen);

/* Frees what parse_words returned (NULL is fine). */
void parse_free_words(char **argv);

#endif
