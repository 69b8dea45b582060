/* version.h: the version `tutor --version` and the home screen print. */
#ifndef TUTOR_VERSION_H
#define TUTOR_VERSION_H

#define TUTOR_VERSION "0.1.0"

#endif
