/* ui.h: the interactive tutor, `tutor` with no arguments in a terminal.
 *
 * A home screen lists every registered topic by family; a topic screen steps through the
 * trace of a run (listing with the running line, the state view, the step's message), with
 * play, breakpoints, an input editor, random inputs, notes and a predict mode that quizzes
 * the student at the steps the trace marks with a question. views.h draws the state,
 * notes.h the notes, predict.h grades, tty.h owns the terminal, exercise_screen.h runs
 * exercises. */
#ifndef TUTOR_UI_H
#define TUTOR_UI_H

#include <stdio.h>

/* Runs the tutor on the process's terminal (stdin and stdout must be terminals) until the
 * user quits. Returns the exit status: 0 after quitting, 128 + the signal after Ctrl-C or
 * SIGTERM, 1 when the terminal could not be used (one line on err) or memory ran out.
 * The terminal is restored on every way out. */
int ui_main(FILE *err);

#endif
