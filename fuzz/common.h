/* common.h: what the libFuzzer harnesses in fuzz/ share (see fuzz/README.md).
 *
 * Every parser here reads a file, so a harness writes the fuzzer's bytes into a file in a
 * private temporary folder and calls the parser on it, then checks the error contract on
 * top of the sanitizers: a refusal is one non-empty line and leaves nothing allocated. */
#ifndef TUTOR_FUZZ_COMMON_H
#define TUTOR_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* The private folder (created on first use, removed at exit). Aborts when it cannot be
 * made: a harness that cannot write its input tests nothing. */
const char *fz_dir(void);

/* Writes size bytes of data to fz_dir()/name (a relative name; folders in it must exist)
 * and returns the full path, valid until the next call. Aborts on failure. */
const char *fz_file(const char *name, const uint8_t *data, size_t size);

/* Where the len bytes of s first occur in data (size bytes), or NULL. For harnesses whose
 * input holds several files separated by a marker (memmem is a GNU extension). */
const uint8_t *fz_find(const uint8_t *data, size_t size, const char *s, size_t len);

/* Removes fz_dir()/name when it exists. */
void fz_remove(const char *name);

/* Removes fz_dir()/name and everything under it, when it exists: for a harness whose
 * program writes files and folders of names the fuzzer chose, which would otherwise pile
 * up (in memory, on /dev/shm) run after run. */
void fz_remove_tree(const char *name);

/* Takes the first byte of the input as the harness's control byte (0 for an empty input)
 * and advances *data past it. Each harness says what its bits choose. */
unsigned fz_control(const uint8_t **data, size_t *size);

/* When bit 7 of ctl is set, makes the ((ctl & 63) + 1)-th allocation from now fail (and
 * every one after it), so the out-of-memory paths are fuzzed too; fz_alloc_end undoes it.
 * Returns 1 when a failure was armed. */
int fz_alloc_fail(unsigned ctl);
void fz_alloc_end(void);

/* Runs `tutor argv[1..]` in-process (cli_main) with stdout and stderr captured and the
 * allocation failure of ctl armed (fz_alloc_fail), then checks the CLI's contract: exit 0
 * with nothing on stderr; or 2 (bad input) with nothing on stdout and exactly one line on
 * stderr; or 1 only for a failure of ours: an allocation made to fail, or stderr holding
 * one of the NULL-terminated strings in ours (may be NULL), which a harness names for the
 * failures it sets up itself (gnuplot missing). Aborts on a broken contract. */
void fz_cli(int argc, char **argv, unsigned ctl, const char *const *ours);

/* Aborts (a finding) unless msg is one line: not empty, no newline in it. what names the
 * caller in the message printed first. */
void fz_one_line(const char *what, const char *msg);

/* Aborts with the message: a contract the sanitizers cannot see was broken. */
void fz_fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2), noreturn))
#endif
    ;

#endif
