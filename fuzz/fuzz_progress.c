/* fuzz_progress.c: the exercise progress file reader (tutor/exercise/exercise.c: load and
 * parse_line), through exercise_status with XDG_STATE_HOME pointing at a scratch folder.
 *
 * Control byte: bit 7 injects an allocation failure (common.h); the rest is unused.
 *
 * Beyond the sanitizers: every status is one of the three states, a warning (a file set
 * aside, or unreadable) is one line, and a file is accepted only when every line is blank,
 * a comment, or "ID STATE HINTS" with HINTS from 0 to 3. A file that does not parse is renamed
 * progress.corrupt-1 by the reader, and removed here so the next input starts clean. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../tutor/exercise/exercise.h"
#include "common.h"

/* The oracle: 1 when every line is blank, a # comment, or exactly three words of which
 * the third is a whole number from 0 to 3 (what the reader promises to accept). */
static int well_formed(const uint8_t *data, size_t size)
{
    if (memchr(data, '\0', size))
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 1;
    memcpy(text, data, size);
    text[size] = '\0';
    int ok = 1;
    for (char *line = text, *next; ok && line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *word[4];
        int n = 0;
        for (char *s = line; *s && n < 4;) {
            while (*s && isspace((unsigned char)*s))
                s++;
            if (!*s)
                break;
            if (*s == '#' && n == 0)
                break;
            word[n++] = s;
            while (*s && !isspace((unsigned char)*s))
                s++;
            if (*s)
                *s++ = '\0';
        }
        if (n == 0)
            continue;
        char *end;
        errno = 0;
        long hints = n == 3 ? strtol(word[2], &end, 10) : -1;
        ok = n == 3 && end != word[2] && !*end && errno == 0 && hints >= 0 && hints <= 3;
    }
    free(text);
    return ok;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static char dir[128];
    snprintf(dir, sizeof dir, "%s/tutor", fz_dir());
    mkdir(dir, 0700);
    setenv("XDG_STATE_HOME", fz_dir(), 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exercise, a topic with two exercises, and an id that is neither. */
    static const char *const ids[] = {"heap", "attention", "maxgap", "nosuch"};
    unsigned ctl = fz_control(&data, &size);
    fz_file("tutor/progress", data, size);
    int armed = fz_alloc_fail(ctl);
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        exercise_state s = exercise_status(ids[i]);
        if (s != EXERCISE_NOT_STARTED && s != EXERCISE_FAILING && s != EXERCISE_PASSING)
            fz_fail("exercise_status(%s): %d is not a state", ids[i], (int)s);
    }
    fz_alloc_end();
    const char *w = exercise_warning();
    if (w)
        fz_one_line("progress", w);
    if (!w && !armed && !well_formed(data, size))
        fz_fail("progress: a file that does not parse was accepted");
    fz_remove("tutor/progress.corrupt-1");
    return 0;
}
