/* notes.h: a topic's notes (docs/ID.md) for the tutor's notes screen: where the file
 * is, and markdown rendered into styled, wrapped lines.
 *
 * The renderer knows what our notes use: # headings, paragraphs (re-wrapped to the width),
 * - and 1. lists (hanging indent), ``` fenced and indented code blocks (kept verbatim,
 * never wrapped), > quotes, | tables (verbatim), --- rules; inline **bold**, `code` and
 * [text](url) lose their markers. It is pure (no curses), so tests can check it. */
#ifndef TUTOR_UI_NOTES_H
#define TUTOR_UI_NOTES_H

#include <stddef.h>

#include "../../trace/strbuf.h"
#include "../topics/topic.h"

/* One rendered line: a style from tty.h's enum tty_style, an indent in columns, text. */
typedef struct notes_line {
    int style;
    int indent;
    char *text;
} notes_line;

typedef struct notes_doc {
    notes_line *lines;
    size_t n, cap;
} notes_doc;

/* Finds the notes file of topic t (t->notes, else "ID.md") in $TUTOR_DOCS, then
 * TUTOR_SRCDIR "/docs", then TUTOR_DATADIR "/docs". Returns 0 with the path in *path (reset
 * first), TUTOR_ENOTFOUND with the places looked in, as one line, in *path, or
 * TUTOR_ENOMEM. */
int notes_find(const topic *t, strbuf *path);

/* Reads the whole file at path into *text (reset first). Returns 0, TUTOR_EIO or
 * TUTOR_ENOMEM. */
int notes_read(const char *path, strbuf *text);

/* Renders markdown src to lines at most width columns wide (code excepted: the viewer
 * clips it; a table too wide becomes a list) into *md (emptied first). Returns 0 or
 * TUTOR_ENOMEM (md left empty). O(length of src). Free with notes_free. */
int notes_render(const char *src, int width, notes_doc *md);
void notes_free(notes_doc *md);

/* The notes screen for topic t: runs until the user goes back. Returns 0, or
 * TTY_KEY_SIGNAL when a signal asked the tutor to stop. Needs an open terminal. */
int notes_screen(const topic *t);

#endif
