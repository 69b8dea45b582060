/* cli.h: the `tutor` command line (the contract in DESIGN.md), as a function so tests can
 * run it in-process with their own streams. The top of tutor/: it dispatches to the rooms
 * below (topics/, ui/, exercise/, core/), and nothing below includes it. */
#ifndef TUTOR_CLI_H
#define TUTOR_CLI_H

#include <stdio.h>

/* Runs `tutor argv[1..]`, writing results to out and diagnostics (one line each) to err.
 * Returns the process exit status: 0 success, 2 bad usage or input, 1 a failure of ours
 * (out of memory, an output error). Output is built in memory and written once at the end,
 * so an error never leaves half an answer on out. */
int cli_main(int argc, char **argv, FILE *out, FILE *err);

#endif
