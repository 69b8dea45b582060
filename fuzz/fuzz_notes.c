/* fuzz_notes.c: the notes reader and markdown renderer of the tutor's notes screen
 * (tutor/ui/notes.c: notes_read, notes_render), which read docs/ID.md or any file in
 * $TUTOR_DOCS. The locale is C.UTF-8, as in the UI, so the wide-character paths run.
 *
 * Control byte: bits 0-6 the width to render to (under 20 is taken as 20, as the screen
 * would), bit 7 injects an allocation failure (common.h).
 *
 * Beyond the sanitizers: every wrapped line fits its width (code blocks and tables are
 * kept verbatim and exempt), and out of memory leaves the result empty. */
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "../trace/status.h"
#include "../trace/strbuf.h"
#include "../tutor/ui/tty.h"
#include "../tutor/ui/notes.h"
#include "common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setlocale(LC_ALL, "C.UTF-8");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned ctl = fz_control(&data, &size);
    const char *path = fz_file("notes.md", data, size);
    int width = (int)(ctl & 127);
    strbuf text = STRBUF_INIT;
    notes_doc md = {0};
    int armed = fz_alloc_fail(ctl);
    int rc = notes_read(path, &text);
    if (!rc)
        rc = notes_render(strbuf_str(&text), width, &md);
    fz_alloc_end();
    if (rc == TUTOR_ENOMEM && !armed)
        fz_fail("notes: out of memory with no failure injected");
    if (rc && rc != TUTOR_ENOMEM)
        fz_fail("notes: %d from reading a file that exists", rc);
    if (rc && md.n)
        fz_fail("notes: out of memory left %zu lines behind", md.n);
    int w = width < 20 ? 20 : width;
    for (size_t i = 0; i < md.n; i++) {
        const notes_line *l = &md.lines[i];
        if (l->style == TTY_CODE || l->text[0] == '|')
            continue;
        int avail = w - l->indent < 8 ? 8 : w - l->indent;
        if (tty_width(l->text) > avail)
            fz_fail("notes: line %zu is %d columns wide, more than the %d available", i,
                    tty_width(l->text), avail);
    }
    notes_free(&md);
    strbuf_free(&text);
    return 0;
}
