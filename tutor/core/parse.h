/* parse.h: the input parsers shared by the CLI and the UI's input editor, so a value the
 * CLI refuses is refused in the UI with the same words.
 *
 * Every parser writes one line naming the option and what was expected into err (errlen
 * bytes, always NUL-terminated) and returns a negative tutor_status on bad input:
 * TUTOR_EINVAL (not a number, bad separator), TUTOR_ERANGE (outside the allowed range),
 * TUTOR_ETOOBIG (more values than allowed), TUTOR_ENOMEM. Numbers in lists may be separated
 * by spaces, tabs, newlines or commas.
 *
 * A list can be too long for the command line (Linux refuses one argument over 128 KiB), so
 * every list option also takes `@FILE` (the list is FILE's contents) or `-` (standard
 * input): the same parser reads it, and its messages name the file and line, as in
 * "--nums: big.txt:3: 'x' is not an integer". */
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

/* The most a list read from a file or standard input may hold: 256 MiB, room for the
 * largest lists the topics accept (10^7 numbers of up to 11 characters and a separator). */
#define PARSE_MAX_LIST_BYTES ((size_t)256 << 20)

/* Where a list option's text comes from. */
typedef struct parse_src {
    const char *text; /* the list: the option's value itself, or what was read */
    const char *file; /* NULL for the value itself; else the file's name or "standard input" */
    char *owned;      /* the text read, freed by parse_src_free */
} parse_src;

/* Reads a list option's value: `@FILE` reads FILE, `-` reads standard input, anything else
 * is the list itself (src->text = value, nothing read). A file must be a regular file or a
 * pipe, and standard input must not be a terminal: the tutor would wait on it (the UI's
 * input editor relies on this). Returns 0, or TUTOR_EINVAL (cannot open, not a regular file
 * or pipe, a NUL byte inside), TUTOR_ETOOBIG (over PARSE_MAX_LIST_BYTES), TUTOR_EIO or
 * TUTOR_ENOMEM with one line in err naming the option and the file. src owns what it read
 * until parse_src_free (also after an error). O(size of the file). */
int parse_src_open(parse_src *src, const char *value, const char *what, char *err, size_t errlen);

/* Frees what parse_src_open read; src->text is invalid afterwards. NULL-safe fields. */
void parse_src_free(parse_src *src);

/* When src was read from a file, rewrites the message in err, "WHAT: rest", into
 * "WHAT: FILE:LINE: rest", LINE being the line of src->text that pos (a pointer into
 * src->text, or NULL for none) is on. Nothing changes for an inline list. O(pos - text). */
void parse_src_locate(const parse_src *src, const char *pos, const char *what, char *err,
                      size_t errlen);

/* Parses a list of ints into a new array (*out, freed by the caller with mem_free, NULL
 * when the list is empty) of *n values, at most max_n. Returns 0 or an error (nothing
 * allocated then). O(length of s). */
int parse_ints(const char *s, const char *what, size_t max_n, int **out, size_t *n, char *err,
               size_t errlen);

/* Like parse_ints for doubles: finite numbers as strtod reads them (no nan, no inf), at most
 * max_n of them, into a new array (*out, mem_free; NULL when empty). Takes @FILE and -
 * too. Returns 0 or an error (nothing allocated then). O(length of s). */
int parse_reals(const char *s, const char *what, size_t max_n, double **out, size_t *n, char *err,
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
