/* proc.c: a child process on pipes (see proc.h). */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The wait until deadline as poll takes it: -1 (none) for a negative deadline, 0 once it
 * has passed; never more than cap (>= 0) when cap says so. */
static int ms_left(long deadline, int cap)
{
    long left = deadline < 0 ? -1 : deadline - now_ms();
    if (deadline >= 0 && left < 0)
        left = 0;
    if (cap >= 0 && (left < 0 || left > cap))
        left = cap;
    return left > INT_MAX ? INT_MAX : (int)left;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* The child's three ends: fd[0] writes its stdin, fd[1] reads its stdout, fd[2] its
 * stderr; -1 when not used or closed. */
typedef struct child {
    int pid;
    int fd[3];
    int write_failed; /* it stopped reading its stdin before the end */
} child;

/* Starts r's program with pipes for the streams it uses. Returns 0, or -1 with errno set and
 * nothing left open or running. */
static int spawn(child *c, const proc_run *r)
{
    int p[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
    for (int i = 0; i < 3; i++) {
        if ((i == 0 && !r->nin) || (i == 1 && !r->out))
            continue;
        if (pipe(p[i]) != 0)
            goto fail;
        /* No other child inherits a write end: an open copy would hold off the EOF that
         * says this one is done. dup2 in the child clears the flag on 0, 1 and 2. */
        fcntl(p[i][0], F_SETFD, FD_CLOEXEC);
        fcntl(p[i][1], F_SETFD, FD_CLOEXEC);
    }
    /* A write never blocks past the deadline: poll says when the pipe has room. */
    if (r->nin)
        fcntl(p[0][1], F_SETFL, fcntl(p[0][1], F_GETFL) | O_NONBLOCK);
    pid_t pid = fork();
    if (pid < 0)
        goto fail;
    if (pid == 0) {
        /* Nothing here allocates or takes a lock: the parent may have threads. */
        if (r->own_group)
            setpgid(0, 0);
        int in = r->nin ? p[0][0] : open("/dev/null", O_RDONLY);
        if (in >= 0)
            dup2(in, 0);
        dup2(r->out ? p[1][1] : p[2][1], 1);
        dup2(p[2][1], 2);
        execvp(r->path, r->argv);
        _exit(127);
    }
    if (r->own_group)
        setpgid(pid, pid); /* as the child does, so the group exists whichever runs first */
    c->pid = pid;
    c->fd[0] = p[0][1];
    c->fd[1] = p[1][0];
    c->fd[2] = p[2][0];
    close_fd(&p[0][0]);
    close_fd(&p[1][1]);
    close_fd(&p[2][1]);
    return 0;
fail:;
    int saved = errno;
    for (int i = 0; i < 3; i++) {
        close_fd(&p[i][0]);
        close_fd(&p[i][1]);
    }
    errno = saved;
    return -1;
}

/* Feeds stdin and collects stdout and stderr until both reach EOF. Returns 0, 1 when the
 * deadline passed, 2 when cancel (asked only when ask) said so, or -1 when poll failed
 * (errno set). */
static int exchange(child *c, const proc_run *r, long deadline, int ask)
{
    strbuf *sink[3] = {NULL, r->out, r->err};
    size_t k = 0, off = 0;
    for (;;) {
        while (k < r->nin && off == r->in[k].len)
            k++, off = 0;
        if (k == r->nin)
            close_fd(&c->fd[0]);
        if (c->fd[0] < 0 && c->fd[1] < 0 && c->fd[2] < 0)
            return 0;
        if (ask && r->cancel && r->cancel(r->ctx))
            return 2;
        int left = ms_left(deadline, ask && r->cancel ? 100 : -1);
        if (left == 0 && deadline >= 0 && now_ms() >= deadline)
            return 1;
        struct pollfd pf[3];
        for (int i = 0; i < 3; i++)
            pf[i] = (struct pollfd){.fd = c->fd[i], .events = i ? POLLIN : POLLOUT};
        int n = poll(pf, 3, left);
        if (n < 0 && errno != EINTR)
            return -1;
        if (n <= 0)
            continue;
        if (pf[0].revents) {
            ssize_t w = write(c->fd[0], r->in[k].s + off, r->in[k].len - off);
            if (w >= 0) {
                off += (size_t)w;
            } else if (errno != EINTR && errno != EAGAIN) {
                c->write_failed = 1;
                k = r->nin;
            }
        }
        for (int i = 1; i < 3; i++) {
            if (!pf[i].revents)
                continue;
            char buf[4096];
            ssize_t got = read(c->fd[i], buf, sizeof buf);
            if (got < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (got <= 0)
                close_fd(&c->fd[i]);
            else if (sink[i]->len < r->cap)
                strbuf_putn(sink[i], buf, (size_t)got);
        }
    }
}

/* Signals the child (not yet reaped), and its whole group when it leads one. */
static void signal_child(const child *c, const proc_run *r, int sig)
{
    if (r->own_group)
        kill(-c->pid, sig);
    kill(c->pid, sig);
}

/* Waits for the child until deadline (< 0: for ever). Returns 1 with *st when it exited,
 * 0 when the deadline passed first, -1 when waitpid failed. */
static int reap(const child *c, long deadline, int *st)
{
    for (;;) {
        pid_t w = waitpid(c->pid, st, deadline < 0 ? 0 : WNOHANG);
        if (w == c->pid)
            return 1;
        if (w < 0 && errno != EINTR)
            return -1;
        if (w == 0 && now_ms() >= deadline)
            return 0;
        if (w == 0)
            poll(NULL, 0, 10);
    }
}

int proc_exec(proc_run *r)
{
    r->timed_out = r->cancelled = r->write_failed = 0;
    child c = {0, {-1, -1, -1}, 0};
    if (spawn(&c, r) != 0)
        return -1;
    long deadline = r->timeout_ms > 0 ? now_ms() + r->timeout_ms : -1;
    int io = exchange(&c, r, deadline, 1), saved = errno, st = 0, done = 0;
    /* EOF on its output usually means it has exited; the deadline and cancel still hold
     * until waitpid says so. */
    while (io == 0 && !done) {
        done = reap(&c, deadline >= 0 || r->cancel ? now_ms() + 100 : -1, &st);
        if (done < 0)
            io = -1, saved = errno;
        else if (!done && r->cancel && r->cancel(r->ctx))
            io = 2;
        else if (!done && deadline >= 0 && now_ms() >= deadline)
            io = 1;
    }
    r->timed_out = io == 1;
    r->cancelled = io == 2;
    r->write_failed = c.write_failed;
    if (io != 0 && r->grace_ms > 0) {
        /* Its grace: SIGTERM, and its output still read (a closed pipe would kill it with
         * SIGPIPE in the middle of cleaning up), until it exits or the time is up. */
        signal_child(&c, r, SIGTERM);
        long until = now_ms() + r->grace_ms;
        close_fd(&c.fd[0]);
        if (exchange(&c, r, until, 0) == 0)
            done = reap(&c, until, &st) == 1;
    }
    for (int i = 0; i < 3; i++)
        close_fd(&c.fd[i]);
    if (io != 0 && r->own_group)
        kill(-c.pid, SIGKILL); /* stopped: what it started goes too */
    if (io != 0 && !done)
        kill(c.pid, SIGKILL);
    if (!done && reap(&c, -1, &st) < 0)
        return -1;
    if (io < 0) {
        errno = saved;
        return -1;
    }
    return st;
}
