#include "status.h"

const char *status_strerror(int code)
{
    switch (code) {
    case TUTOR_OK: return "success";
    case TUTOR_ENOMEM: return "out of memory";
    case TUTOR_EINVAL: return "invalid argument";
    case TUTOR_ERANGE: return "value out of range";
    case TUTOR_ETOOBIG: return "input too large";
    case TUTOR_EEMPTY: return "container is empty";
    case TUTOR_ELIMIT: return "result or step limit reached";
    case TUTOR_EIO: return "input/output error";
    case TUTOR_EFORMAT: return "malformed input";
    case TUTOR_ESHAPE: return "shapes do not match";
    case TUTOR_ENOTFOUND: return "not found";
    }
    return "unknown error";
}
