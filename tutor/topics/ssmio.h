/* ssmio.h: input helpers shared by the HiPPO & SSM topics (topic_hippo.c,
 * topic_ssm.c): real-valued options, sizes with caps, matrix files named by their option,
 * and JSON for real and complex vectors. Each writes one line naming the option into err
 * and returns a negative tutor_status on bad input, like parse.h. */
#ifndef TUTOR_TOPIC_SSM_COMMON_H
#define TUTOR_TOPIC_SSM_COMMON_H

#include <complex.h>
#include <stddef.h>

#include "../../trace/strbuf.h"
#include "topic.h"

/* Option `name` as a finite double in [lo, hi] (lo excluded when open_lo), or def when
 * absent. Returns 0, TUTOR_EINVAL (not a number) or TUTOR_ERANGE. */
int ssmio_real(const topic_args *args, const char *name, double def, double lo, int open_lo,
               double hi, double *out, char *err, size_t errlen);

/* Option `name` as an integer in [lo, hi], or def when absent. Returns 0; TUTOR_EINVAL
 * (not an integer); TUTOR_ETOOBIG for a value over hi ("at most hi"); TUTOR_ERANGE for one
 * under lo. */
int ssmio_size(const topic_args *args, const char *name, size_t def, size_t lo, size_t hi,
               size_t *out, char *err, size_t errlen);

/* Loads the matrix file given to option `name` (mat_load) with at most max_values values;
 * the option must have been given (the caller checks). Returns 0 with *out a new matrix
 * (free with mat_free), or mat_load's error with nothing allocated; errors read
 * "--name: FILE:LINE: ..." (mat_load's own words after the option). */
int ssmio_load(const topic_args *args, const char *name, size_t max_values, double **out,
               size_t *rows, size_t *cols, char *err, size_t errlen);

/* The JSON writers append to sb; a failure is left in sb's sticky error.
 * Appends `[v...]` (non-finite as null). */
void ssmio_json_list(strbuf *sb, const double *v, size_t n);

/* Appends `"name": [v...]` (non-finite as null). */
void ssmio_json_reals(strbuf *sb, const char *name, const double *v, size_t n);

/* Appends `"name": {"re": [...], "im": [...]}`. */
void ssmio_json_complex(strbuf *sb, const char *name, const double complex *v, size_t n);

#endif
