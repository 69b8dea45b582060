#include "ui_plot.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../trace/status.h"

#define PLOT_TIMEOUT_MS 2000
#define PLOT_MAX_OUT    (1 << 20)

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes all of s to fd, or returns -1. gnuplot reads as we write, so a full pipe only
 * means waiting; SIGPIPE is ignored by main, so a dead gnuplot gives EPIPE here. */
static int write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t k = write(fd, s, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        s += k;
        n -= (size_t)k;
    }
    return 0;
}

int ui_plot_dumb(const double *v, size_t n, int w, int h, strbuf *out)
{
    strbuf script = STRBUF_INIT;
    sb_printf(&script,
              "set terminal dumb size %d,%d ascii\nset output\nunset key\nset border 3\n"
              "set tics nomirror scale 0.5\nset xrange [0:%zu]\nset datafile missing 'nan'\n"
              "$D << EOD\n",
              w, h, n ? n - 1 : 0);
    for (size_t k = 0; k < n; k++) {
        if (isfinite(v[k]))
            sb_printf(&script, "%zu %.10g\n", k, v[k]);
        else
            sb_printf(&script, "%zu nan\n", k);
    }
    sb_puts(&script, "EOD\nplot $D using 1:2 with lines\nexit\n");
    if (script.failed) {
        sb_free(&script);
        return TUTOR_ENOMEM;
    }
    const char *prog = getenv("TUTOR_GNUPLOT");
    if (!prog || !*prog)
        prog = "gnuplot";
    int in[2] = {-1, -1}, outp[2] = {-1, -1}, rc = TUTOR_EIO;
    if (pipe(in) != 0 || pipe(outp) != 0)
        goto out;
    pid_t pid = fork();
    if (pid < 0)
        goto out;
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(in[0], 0);
        dup2(outp[1], 1);
        if (null >= 0)
            dup2(null, 2);
        close(in[0]);
        close(in[1]);
        close(outp[0]);
        close(outp[1]);
        execlp(prog, prog, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(outp[1]);
    in[0] = outp[1] = -1;
    int wrote = write_all(in[1], script.s, script.len);
    close(in[1]);
    in[1] = -1;
    size_t start = out->len;
    long deadline = now_ms() + PLOT_TIMEOUT_MS;
    int timed_out = 0;
    for (;;) {
        long left = deadline - now_ms();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        struct pollfd p = {outp[0], POLLIN, 0};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            timed_out = r == 0;
            break;
        }
        char buf[4096];
        ssize_t k = read(outp[0], buf, sizeof buf);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        if (out->len - start < PLOT_MAX_OUT)
            sb_putn(out, buf, (size_t)k);
    }
    if (timed_out)
        kill(pid, SIGKILL);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (timed_out || wrote != 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        rc = WIFEXITED(st) && WEXITSTATUS(st) == 127 ? TUTOR_ENOTFOUND : TUTOR_EIO;
        out->len = start;
        if (out->s)
            out->s[start] = '\0';
    } else {
        rc = out->failed ? TUTOR_ENOMEM : 0;
    }
out:
    for (int k = 0; k < 2; k++) {
        if (in[k] >= 0)
            close(in[k]);
        if (outp[k] >= 0)
            close(outp[k]);
    }
    sb_free(&script);
    return rc;
}
