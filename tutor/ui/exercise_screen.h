/* exercise_screen.h: the interactive tutor's exercise screen. */
#ifndef TUTOR_EXERCISE_SCREEN_H
#define TUTOR_EXERCISE_SCREEN_H

/* The exercise screen (`x` on a topic): runs exercise `id` (or the topic's exercises)
 * through exercise_run_cancellable (q or Esc stops the build) and pages through the report
 * until the user goes back; 'r' runs again. Returns 0, TTY_KEY_SIGNAL (-2, tty.h) when a
 * signal asked the tutor to stop, or TUTOR_ENOMEM. Needs the terminal the UI opened. */
int exercise_screen(const char *id);

#endif
