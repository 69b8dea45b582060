/* main.c: the tutor binary; everything it does lives in cli.c so tests can call it. */
#include <locale.h>
#include <signal.h>
#include <stdio.h>

#include "cli.h"

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    /* UTF-8 for the terminal, but numbers always with a decimal point: JSON and plots. */
    setlocale(LC_NUMERIC, "C");
    /* A closed pipe (tutor list | head) must give a write error we report, not a kill. */
    signal(SIGPIPE, SIG_IGN);
    return cli_main(argc, argv, stdout, stderr);
}
