/* status.h: the project's one error enum. Libraries return these codes; only tutor/ turns
 * them into words for a user. 0 is success, every error is negative. */
#ifndef TUTOR_STATUS_H
#define TUTOR_STATUS_H

enum tutor_status {
    TUTOR_OK = 0,
    TUTOR_ENOMEM = -1,    /* an allocation failed; nothing was leaked */
    TUTOR_EINVAL = -2,    /* an argument is outside the function's contract */
    TUTOR_ERANGE = -3,    /* a result or an intermediate would overflow its type */
    TUTOR_ETOOBIG = -4,   /* the input would exceed a memory or time cap; refused up front */
    TUTOR_EEMPTY = -5,    /* the operation needs a non-empty container */
    TUTOR_ELIMIT = -6,    /* a result or step cap was hit; the partial output is valid */
    TUTOR_EIO = -7,       /* reading or writing a file or pipe failed */
    TUTOR_EFORMAT = -8,   /* a file or string is not in the expected format */
    TUTOR_ESHAPE = -9,    /* matrix or vector shapes do not match */
    TUTOR_ENOTFOUND = -10 /* a named thing (topic, file, program) does not exist */
};

/* Returns a static, human-readable description of code (never NULL; unknown codes get a
 * generic text). O(1). */
const char *status_strerror(int code);

#endif
