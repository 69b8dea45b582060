/* predict.h: predict mode's questions and grading, without curses.
 *
 * A trace step may carry a quiz (trace_quiz): a question whose integer answer that step's
 * state reveals. In predict mode the tutor stops before showing such a step, asks, grades
 * the student's answer here, and keeps the score of the run. */
#ifndef TUTOR_UI_PREDICT_H
#define TUTOR_UI_PREDICT_H

#include <stddef.h>
#include <stdint.h>

/* The score of one run (one input): each quiz step is asked at most once. */
typedef struct predict_score {
    unsigned asked, right, skipped;
    unsigned char *done; /* per step: 1 once asked */
    size_t n;
} predict_score;

/* Resets the score for a trace of `steps` steps; s is zeroed or a score from an earlier
 * reset, whose memory is freed first. Returns 0, or TUTOR_ENOMEM with s empty, where
 * predict_score_done says every step was done, so nothing is asked. predict_score_free frees s's
 * memory (not s) and zeroes it. */
int predict_score_reset(predict_score *s, size_t steps);
void predict_score_free(predict_score *s);

/* 1 when the quiz of step i was already asked (or the score has no room for it). */
int predict_score_done(const predict_score *s, size_t i);

/* Parses a typed answer: an integer (spaces around allowed), yes/y/true (1) or
 * no/n/false (0), none/empty/null/-inf/- (TRACE_NONE), words in any case. Returns 0 and
 * sets *v, or TUTOR_EINVAL (TUTOR_ERANGE for an integer too long or out of range) with a
 * one-line reason in err. */
int predict_parse(const char *text, int64_t *v, char *err, size_t errlen);

/* Grades the answer to step i's quiz: records it in the score and returns 1 when right,
 * 0 when wrong. skipped != 0 records a skip (answer ignored) and returns 0. */
int predict_grade(predict_score *s, size_t i, int64_t answer, int64_t expected, int skipped);

/* Writes the expected answer for display ("none" for TRACE_NONE) into buf. */
void predict_answer_str(int64_t expected, char *buf, size_t n);

#endif
