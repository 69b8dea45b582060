/* Tests of the exercises: every suite fails on its untouched stub (cleanly: no crash) and
 * passes on the reference, both built by make beside this binary ($(B)/exercises/ID/stub and
 * ref); and the `tutor exercise` command: list, errors, hints, solution, progress file
 * (atomic, corrupt file set aside), a real run through make, --watch. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../trace/strbuf.h"
#include "../tutor/cli.h"
#include "../tutor/exercise/exercise.h"
#include "../tutor/topics/topic.h"
#include "harness.h"

static strbuf out = STRBUF_INIT, err = STRBUF_INIT;
static char state_home[64], work_dir[64];

/* The build folder: this binary is $(B)/tests/test_exercises. */
static void build_dir(strbuf *sb)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        strbuf_puts(sb, "build");
        return;
    }
    exe[n] = '\0';
    for (int i = 0; i < 2; i++) {
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
    }
    strbuf_puts(sb, exe);
}

/* Runs cmd, capturing stdout and stderr into *text; returns the wait status. */
static int run(const char *cmd, strbuf *text)
{
    strbuf_clear(text);
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        strbuf_putn(text, buf, n);
    return pclose(f);
}

/* "NAME: P passed, F failed", the harness's last line; 0 when found. */
static int summary(const char *text, const char *name, unsigned *passed, unsigned *failed)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\n%s: ", name);
    const char *at = NULL;
    for (const char *p = strstr(text, pattern); p; p = strstr(p + 1, pattern))
        at = p;
    return at && sscanf(at + strlen(pattern), "%u passed, %u failed", passed, failed) == 2 ? 0 : -1;
}

static void test_stubs_fail_references_pass(void)
{
    strbuf dir = STRBUF_INIT, cmd = STRBUF_INIT, text = STRBUF_INIT;
    build_dir(&dir);
    for (size_t i = 0; i < exercise_count; i++) {
        const char *id = exercise_table[i].id;
        for (int ref = 0; ref < 2; ref++) {
            const char *kind = ref ? "ref" : "stub";
            strbuf_clear(&cmd);
            strbuf_printf(&cmd, "'%s/exercises/%s/%s' 2>&1", strbuf_str(&dir), id, kind);
            int status = run(strbuf_str(&cmd), &text);
            unsigned passed = 0, failed = 0;
            int found = summary(strbuf_str(&text), kind, &passed, &failed) == 0;
            int exited = status != -1 && WIFEXITED(status);
            int ok = found && exited &&
                     (ref ? WEXITSTATUS(status) == 0 && failed == 0 && passed >= 5
                          : WEXITSTATUS(status) == 1 && failed >= 1);
            CU_ASSERT(ok);
            if (!ok)
                fprintf(stderr,
                        "\n  exercise %s, %s: status %d, summary %s (%u passed, %u "
                        "failed)\n%s\n",
                        id, kind, status, found ? "found" : "missing", passed, failed,
                        strbuf_str(&text));
            /* Each behaviour prints one ok or FAIL line, with a hint when it fails. */
            if (!ref) {
                CU_ASSERT(strstr(strbuf_str(&text), "  FAIL  ") != NULL);
                CU_ASSERT(strstr(strbuf_str(&text), "hint:") != NULL);
            }
        }
    }
    strbuf_free(&dir);
    strbuf_free(&cmd);
    strbuf_free(&text);
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static void progress_path(char *buf, size_t len)
{
    snprintf(buf, len, "%s/tutor/progress", state_home);
}

static void reset_state(void)
{
    char path[128];
    progress_path(path, sizeof path);
    unlink(path);
    for (int n = 1; n < 5; n++) {
        char aside[160];
        snprintf(aside, sizeof aside, "%s.corrupt-%d", path, n);
        unlink(aside);
    }
}

static void test_list(void)
{
    reset_state();
    CU_ASSERT_EQUAL(th_cli(&out, &err, "exercise", NULL), 0);
    CU_ASSERT_EQUAL(err.len, 0);
    for (size_t i = 0; i < exercise_count; i++) {
        CU_ASSERT(strstr(strbuf_str(&out), exercise_table[i].id) != NULL);
    }
    CU_ASSERT(strstr(strbuf_str(&out), "not started") != NULL);
    CU_ASSERT(strstr(strbuf_str(&out), work_dir) != NULL);
    CU_ASSERT_EQUAL(exercise_status("heap"), EXERCISE_NOT_STARTED);
    CU_ASSERT_EQUAL(exercise_status("attention"), EXERCISE_NOT_STARTED);
    CU_ASSERT_EQUAL(exercise_status("no-such-topic"), EXERCISE_NOT_STARTED);
}

static void bad(const char *a, const char *b, const char *c)
{
    th_refused(th_cli(&out, &err, "exercise", a, b, c, NULL), &out, &err, NULL);
}

static void test_bad_usage(void)
{
    bad("nope", NULL, NULL);
    bad("--bogus", NULL, NULL);
    bad("heap", "maxgap", NULL);
    bad("heap", "--hint", "--solution");
    bad("--hint", NULL, NULL);
    bad("attention", "--hint", NULL);
}

static void test_hints(void)
{
    reset_state();
    const char *want[] = {"hint 1 of 3", "hint 2 of 3", "hint 3 of 3", "hint 3 of 3"};
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(th_cli(&out, &err, "exercise", "heap", "--hint", NULL), 0);
        CU_ASSERT(strstr(strbuf_str(&out), want[i]) != NULL);
    }
    CU_ASSERT(strstr(strbuf_str(&out), "--solution") != NULL);
    /* Remembered in the progress file, not started still (no run yet). */
    CU_ASSERT_EQUAL(th_cli(&out, &err, "exercise", NULL), 0);
    CU_ASSERT(strstr(strbuf_str(&out), "3/3") != NULL);
    CU_ASSERT_EQUAL(exercise_status("heap"), EXERCISE_NOT_STARTED);
    /* Written atomically: no temporary file is left beside it. */
    char dir[96];
    snprintf(dir, sizeof dir, "%s/tutor", state_home);
    DIR *d = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    int files = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        files++;
        CU_ASSERT_STRING_EQUAL(e->d_name, "progress");
    }
    closedir(d);
    CU_ASSERT_EQUAL(files, 1);
}

static void test_solution(void)
{
    CU_ASSERT_EQUAL(th_cli(&out, &err, "exercise", "heap", "--solution", NULL), 0);
    CU_ASSERT(strstr(strbuf_str(&out), "int heap_push(heap *h, const void *item, trace *tr)\n{") !=
              NULL);
    CU_ASSERT(strstr(strbuf_str(&out), "int heap_pop(") != NULL);
    CU_ASSERT(strstr(strbuf_str(&out), "int heap_heapify(") != NULL);
    for (size_t i = 0; i < exercise_count; i++) {
        CU_ASSERT_EQUAL(th_cli(&out, &err, "exercise", exercise_table[i].id, "--solution", NULL),
                        0);
        CU_ASSERT_EQUAL(err.len, 0);
    }
}

static void test_corrupt_progress(void)
{
    reset_state();
    char path[128], aside[160];
    progress_path(path, sizeof path);
    snprintf(aside, sizeof aside, "%s.corrupt-1", path);
    CU_ASSERT_EQUAL(th_cli(&out, &err, "exercise", "maxgap", "--hint", NULL), 0);
    CU_ASSERT_EQUAL(write_file(path, "maxgap passing 1\nthis is not progress\n"), 0);
    CU_ASSERT_EQUAL(th_cli(&out, &err, "exercise", NULL), 0);
    CU_ASSERT(strstr(strbuf_str(&err), "set aside") != NULL);
    CU_ASSERT_EQUAL(th_count_lines(strbuf_str(&err)), 1);
    CU_ASSERT_EQUAL(access(aside, F_OK), 0);
    CU_ASSERT_EQUAL(access(path, F_OK), -1);
    CU_ASSERT(strstr(strbuf_str(&out), "passing") == NULL);
    /* The set-aside file keeps what it held. */
    FILE *f = fopen(aside, "r");
    char line[64] = "";
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof line, f));
    fclose(f);
    CU_ASSERT_STRING_EQUAL(line, "maxgap passing 1\n");
    /* A valid file loads; an unknown id (a newer tutor's) is fine. */
    CU_ASSERT_EQUAL(write_file(path, "# comment\nmaxgap passing 2\nfuture failing 0\n"), 0);
    CU_ASSERT_EQUAL(exercise_status("maxgap"), EXERCISE_PASSING);
    CU_ASSERT_PTR_NULL(exercise_warning());
    CU_ASSERT_EQUAL(write_file(path, "maxgap passing 7\n"), 0);
    CU_ASSERT_EQUAL(exercise_status("maxgap"), EXERCISE_NOT_STARTED);
    CU_ASSERT_PTR_NOT_NULL(exercise_warning());
    reset_state();
    /* Unreadable (here a folder in its place) is not corrupt: reported, never rewritten. */
    CU_ASSERT_EQUAL(mkdir(path, 0700), 0);
    CU_ASSERT_EQUAL(th_cli(&out, &err, "exercise", "maxgap", "--hint", NULL), 0);
    CU_ASSERT(strstr(strbuf_str(&out), "hint 1 of 3") != NULL);
    CU_ASSERT(strstr(strbuf_str(&err), "cannot read") != NULL);
    struct stat st;
    CU_ASSERT(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
    CU_ASSERT_EQUAL(rmdir(path), 0);
}

/* With every name from .corrupt-1 to .corrupt-999 taken, a corrupt file stays where it is
 * and says so: the last name used to be renamed over, losing the file set aside there. */
static void test_progress_aside_names_full(void)
{
    reset_state();
    char path[128], aside[160];
    progress_path(path, sizeof path);
    for (int n = 1; n < 1000; n++) {
        snprintf(aside, sizeof aside, "%s.corrupt-%d", path, n);
        char text[16];
        snprintf(text, sizeof text, "old %d\n", n);
        CU_ASSERT_EQUAL_FATAL(write_file(aside, text), 0);
    }
    CU_ASSERT_EQUAL(write_file(path, "not progress\n"), 0);
    CU_ASSERT_EQUAL(exercise_status("maxgap"), EXERCISE_NOT_STARTED);
    const char *w = exercise_warning();
    CU_ASSERT(w && strstr(w, "could not be set aside"));
    CU_ASSERT_EQUAL(access(path, F_OK), 0);
    FILE *f = fopen(aside, "r"); /* .corrupt-999 */
    char line[32] = "";
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof line, f));
    fclose(f);
    CU_ASSERT_STRING_EQUAL(line, "old 999\n");
    for (int n = 1; n < 1000; n++) {
        snprintf(aside, sizeof aside, "%s.corrupt-%d", path, n);
        unlink(aside);
    }
    reset_state();
}

/* Found by fuzz/fuzz_progress.c: the line parser was sscanf("%63s %31s %d"), which split a
 * word longer than 63 bytes in two, so "<63 bytes>passing 2" read as an id and a state and
 * the line was accepted; and "%d" past INT_MAX is undefined (glibc wrapped 4294967297 to
 * 1). Both files are corrupt now: set aside, nothing loaded from them. */
static void test_progress_strict_words(void)
{
    char path[128], aside[160], line[160];
    progress_path(path, sizeof path);
    snprintf(aside, sizeof aside, "%s.corrupt-1", path);
    memset(line, 'x', 63);
    snprintf(line + 63, sizeof line - 63, "passing 2\nmaxgap passing 1\n");
    const char *bad[] = {line, "maxgap passing 4294967297\n"};
    for (int i = 0; i < 2; i++) {
        reset_state();
        CU_ASSERT_EQUAL(write_file(path, bad[i]), 0);
        CU_ASSERT_EQUAL(exercise_status("maxgap"), EXERCISE_NOT_STARTED);
        const char *w = exercise_warning();
        CU_ASSERT(w && strstr(w, "line 1") && strstr(w, "set aside"));
        CU_ASSERT_EQUAL(access(aside, F_OK), 0);
    }
    reset_state();
}

static const char kernel_solution[] =
    "#include <string.h>\n"
    "#include \"models/ssm.h\"\n#include \"trace/mem.h\"\n#include \"trace/status.h\"\n"
    "int ssm_kernel(double *K, const double *Abar, const double *Bbar, const double *C,\n"
    "               size_t N, size_t L)\n{\n"
    "    double *v = mem_alloc(2 * N * sizeof *v);\n"
    "    if (!v)\n        return TUTOR_ENOMEM;\n"
    "    double *w = v + N;\n    memcpy(v, Bbar, N * sizeof *v);\n"
    "    for (size_t j = 0; j < L; j++) {\n"
    "        double s = 0;\n        for (size_t i = 0; i < N; i++)\n            s += C[i] * v[i];\n"
    "        K[j] = s;\n"
    "        for (size_t i = 0; i < N; i++) {\n            w[i] = 0;\n"
    "            for (size_t k = 0; k < N; k++)\n                w[i] += Abar[i * N + k] * v[k];\n"
    "        }\n        memcpy(v, w, N * sizeof *v);\n    }\n"
    "    mem_free(v);\n    return 0;\n}\n";

static void kernel_file(char *buf, size_t len)
{
    snprintf(buf, len, "%s/ssm_kernel.c", work_dir);
}

/* A real run through make: the stub is copied on first use and fails; a correct file
 * passes; both are recorded. */
static void test_run(void)
{
    reset_state();
    char file[128];
    kernel_file(file, sizeof file);
    unlink(file);
    CU_ASSERT_EQUAL(th_cli(&out, &err, "exercise", "ssm_kernel", NULL), 1);
    CU_ASSERT_EQUAL(access(file, R_OK), 0);
    CU_ASSERT(strstr(strbuf_str(&out), "a copy of the stub") != NULL);
    CU_ASSERT(strstr(strbuf_str(&out), "  FAIL  K[0] = C Bbar") != NULL);
    CU_ASSERT(strstr(strbuf_str(&out), "exercise ssm_kernel: 0 passed, 6 failed") != NULL);
    CU_ASSERT(strstr(strbuf_str(&out), "CUnit") == NULL);
    CU_ASSERT_EQUAL(exercise_status("ssm_kernel"), EXERCISE_FAILING);
    CU_ASSERT_EQUAL(exercise_status("ssm"), EXERCISE_FAILING);

    CU_ASSERT_EQUAL(write_file(file, kernel_solution), 0);
    CU_ASSERT_EQUAL(th_cli(&out, &err, "exercise", "ssm_kernel", NULL), 0);
    CU_ASSERT(strstr(strbuf_str(&out), "exercise ssm_kernel: 6 passed, 0 failed") != NULL);
    if (!strstr(strbuf_str(&out), "6 passed"))
        fprintf(stderr, "\n%s\n%s\n", strbuf_str(&out), strbuf_str(&err));
    CU_ASSERT_EQUAL(exercise_status("ssm_kernel"), EXERCISE_PASSING);
    CU_ASSERT_EQUAL(exercise_status("ssm"), EXERCISE_PASSING);

    /* The UI's entry point gives the same report. */
    strbuf report = STRBUF_INIT;
    CU_ASSERT_EQUAL(exercise_run("ssm", &report), 0);
    CU_ASSERT(strstr(strbuf_str(&report), "  ok    K[0] = C Bbar") != NULL);
    strbuf_free(&report);

    /* A file that does not compile fails with the compiler's words. */
    CU_ASSERT_EQUAL(write_file(file, "int ssm_kernel(void) { return }\n"), 0);
    CU_ASSERT_EQUAL(th_cli(&out, &err, "exercise", "ssm_kernel", NULL), 1);
    CU_ASSERT(strstr(strbuf_str(&out), "does not compile") != NULL);
    CU_ASSERT_EQUAL(exercise_status("ssm_kernel"), EXERCISE_FAILING);
}

static void test_no_sources(void)
{
    const char *saved = getenv("TUTOR_SRCDIR");
    char *copy = saved ? strdup(saved) : NULL;
    setenv("TUTOR_SRCDIR", "/nonexistent/tutor", 1);
    CU_ASSERT_EQUAL(th_cli(&out, &err, "exercise", "heap", NULL), 1);
    CU_ASSERT(strstr(strbuf_str(&err), "sources are not at '/nonexistent/tutor'") != NULL);
    CU_ASSERT_EQUAL(th_count_lines(strbuf_str(&err)), 1);
    CU_ASSERT_EQUAL(th_cli(&out, &err, "exercise", "heap", "--solution", NULL), 1);
    if (copy)
        setenv("TUTOR_SRCDIR", copy, 1);
    else
        unsetenv("TUTOR_SRCDIR");
    free(copy);
}

/* Replaces text with the contents of path (empty when it cannot be read). */
static void read_file(const char *path, strbuf *text)
{
    strbuf_clear(text);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        strbuf_putn(text, buf, n);
    fclose(f);
}

/* --watch runs again when the file is saved and ends cleanly on Ctrl-C (SIGINT). */
static void test_watch(void)
{
    char file[128], log[128];
    kernel_file(file, sizeof file);
    snprintf(log, sizeof log, "%s/watch.log", work_dir);
    CU_ASSERT_EQUAL(write_file(file, kernel_solution), 0);
    fflush(NULL);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        FILE *f = fopen(log, "w");
        char *argv[] = {"tutor", "exercise", "ssm_kernel", "--watch", NULL};
        int rc = f ? cli_main(4, argv, f, f) : 3;
        if (f)
            fclose(f);
        _exit(rc);
    }
    /* Wait for the first "watching", save the file, wait for the second, then interrupt. */
    int seen = 0, saved = 0;
    strbuf text = STRBUF_INIT;
    for (int tries = 0; tries < 1200 && seen < 2; tries++) {
        struct timespec nap = {0, 50 * 1000 * 1000};
        nanosleep(&nap, NULL);
        read_file(log, &text);
        seen = 0;
        for (const char *p = strstr(strbuf_str(&text), "\nwatching "); p;
             p = strstr(p + 1, "\nwatching "))
            seen++;
        if (seen == 1 && !saved) {
            struct timespec later[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
            nanosleep(&nap, NULL);
            CU_ASSERT_EQUAL(utimensat(AT_FDCWD, file, later, 0), 0);
            saved = 1;
        }
    }
    CU_ASSERT_EQUAL(seen, 2);
    kill(pid, SIGINT);
    int status = 0;
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    read_file(log, &text);
    CU_ASSERT(strstr(strbuf_str(&text), "stopped watching") != NULL);
    CU_ASSERT(strstr(strbuf_str(&text), "6 passed, 0 failed") != NULL);
    strbuf_free(&text);
}

/* Polls the tmux pane until it shows want or seconds pass; 1 when it did. */
static int pane_shows(const char *sock, const char *want, int seconds, strbuf *pane)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "tmux -L %s -f /dev/null capture-pane -p -t ex 2>/dev/null", sock);
    for (int tries = 0; tries < seconds * 10; tries++) {
        run(cmd, pane);
        if (strstr(strbuf_str(pane), want))
            return 1;
        struct timespec nap = {0, 100 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    return 0;
}

static void tmux_cmd(const char *sock, const char *args)
{
    char cmd[512];
    strbuf ignored = STRBUF_INIT;
    snprintf(cmd, sizeof cmd, "tmux -L %s -f /dev/null %s 2>&1", sock, args);
    run(cmd, &ignored);
    strbuf_free(&ignored);
}

/* Starts the tutor in tmux session "ex" on socket sock, with fresh progress, the student's
 * files in work_dir and the sources at src, and opens the ssm topic (whose exercise the
 * kernel file answers). Returns 1 when its first step shows, 0 when there is no tmux or
 * $TUTOR_BIN (set by make test): the UI checks are then skipped. */
static int open_ssm(const char *sock, const char *src, strbuf *pane)
{
    const char *bin = getenv("TUTOR_BIN");
    if (!bin || !*bin || system("tmux -V >/dev/null 2>&1") != 0) {
        fprintf(stderr, "\n  (no tmux or no TUTOR_BIN: the UI check is skipped)\n");
        return 0;
    }
    size_t index = topic_count;
    for (size_t i = 0; i < topic_count; i++)
        if (strcmp(topic_registry[i]->id, "ssm") == 0)
            index = i;
    CU_ASSERT_FATAL(index < topic_count);
    reset_state();
    char file[128];
    kernel_file(file, sizeof file);
    CU_ASSERT_EQUAL(write_file(file, kernel_solution), 0);
    strbuf cmd = STRBUF_INIT;
    strbuf_printf(&cmd,
                  "new-session -d -s ex -x 100 -y 30 \"env LANG=C.UTF-8 LC_ALL=C.UTF-8 "
                  "XDG_STATE_HOME='%s' TUTOR_EXERCISE_DIR='%s' TUTOR_SRCDIR='%s' '%s'\"",
                  state_home, work_dir, src, bin);
    tmux_cmd(sock, strbuf_str(&cmd));
    strbuf_free(&cmd);
    CU_ASSERT(pane_shows(sock, "exercise: to do", 10, pane));
    for (size_t i = 0; i < index; i++)
        tmux_cmd(sock, "send-keys -t ex Down");
    tmux_cmd(sock, "send-keys -t ex Enter");
    int ok = pane_shows(sock, "step 1 /", 20, pane);
    CU_ASSERT(ok);
    return ok;
}

/* The interactive tutor: `x` on a topic's screen (and on the home screen) runs its exercises
 * and shows the report; back on the home screen the topic's status has changed. Needs tmux and
 * $TUTOR_BIN (set by make test). */
static void test_ui_x(void)
{
    char sock[64];
    snprintf(sock, sizeof sock, "tutor-ex-%ld", (long)getpid());
    const char *src = getenv("TUTOR_SRCDIR");
    strbuf pane = STRBUF_INIT;
    if (!open_ssm(sock, src && *src ? src : TUTOR_SRCDIR, &pane)) {
        tmux_cmd(sock, "kill-server");
        strbuf_free(&pane);
        return;
    }
    tmux_cmd(sock, "send-keys -t ex x");
    CU_ASSERT(pane_shows(sock, "6 passed, 0 failed", 90, &pane));
    CU_ASSERT(strstr(strbuf_str(&pane), "Exercise: ssm") != NULL);
    CU_ASSERT(strstr(strbuf_str(&pane), "  ok    K[0] = C Bbar") != NULL);
    tmux_cmd(sock, "send-keys -t ex q");
    CU_ASSERT(pane_shows(sock, "step 1 /", 10, &pane));
    tmux_cmd(sock, "send-keys -t ex q");
    CU_ASSERT(pane_shows(sock, "exercise: passing", 10, &pane));
    /* x on the home screen runs the selected topic's exercise too. */
    tmux_cmd(sock, "send-keys -t ex x");
    CU_ASSERT(pane_shows(sock, "Exercise: ssm", 90, &pane));
    CU_ASSERT(pane_shows(sock, "6 passed, 0 failed", 90, &pane));
    tmux_cmd(sock, "send-keys -t ex q");
    CU_ASSERT(pane_shows(sock, "exercise: passing", 10, &pane));
    tmux_cmd(sock, "send-keys -t ex q");
    tmux_cmd(sock, "kill-server");
    CU_ASSERT_EQUAL(exercise_status("ssm"), EXERCISE_PASSING);
    strbuf_free(&pane);
}

/* q while the UI's `x` waits for make stops the whole build at once (make and what it
 * started, in their own process group), says "cancelled" and records nothing. A stand-in
 * source tree whose `make exercise` sleeps makes the run last. */
static void test_ui_x_cancel(void)
{
    char fake[128], path[192], sock[64];
    snprintf(fake, sizeof fake, "%s/fake-src", work_dir);
    snprintf(path, sizeof path, "mkdir -p '%s/exercises'", fake);
    CU_ASSERT_FATAL(system(path) == 0);
    snprintf(path, sizeof path, "%s/exercises/exercises.mk", fake);
    CU_ASSERT_EQUAL(write_file(path, "# stand-in\n"), 0);
    snprintf(path, sizeof path, "%s/Makefile", fake);
    CU_ASSERT_EQUAL(write_file(path, "exercise:\n\t@echo building\n\t@sleep 37.25\n"), 0);
    snprintf(sock, sizeof sock, "tutor-exc-%ld", (long)getpid());
    strbuf pane = STRBUF_INIT;
    if (!open_ssm(sock, fake, &pane)) {
        tmux_cmd(sock, "kill-server");
        strbuf_free(&pane);
        return;
    }
    tmux_cmd(sock, "send-keys -t ex x");
    CU_ASSERT(pane_shows(sock, "q: cancel", 10, &pane));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    tmux_cmd(sock, "send-keys -t ex q");
    CU_ASSERT(pane_shows(sock, "cancelled", 10, &pane));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CU_ASSERT((double)(t1.tv_sec - t0.tv_sec) < 5); /* not the sleep's 37 s */
    strbuf ps = STRBUF_INIT;
    run("pgrep -f 'sleep 3[7][.]25' || true", &ps); /* [7]: not this shell */
    CU_ASSERT_EQUAL(ps.len, 0);                     /* the build's own children are gone too */
    strbuf_free(&ps);
    tmux_cmd(sock, "send-keys -t ex q");
    CU_ASSERT(pane_shows(sock, "step 1 /", 10, &pane));
    tmux_cmd(sock, "send-keys -t ex q");
    CU_ASSERT(pane_shows(sock, "exercise: to do", 10, &pane));
    tmux_cmd(sock, "send-keys -t ex q");
    tmux_cmd(sock, "kill-server");
    CU_ASSERT_EQUAL(exercise_status("ssm"), EXERCISE_NOT_STARTED);
    strbuf_free(&pane);
}

static void cleanup(void)
{
    strbuf_free(&out);
    strbuf_free(&err);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", state_home, work_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "test_exercises: could not remove %s, %s\n", state_home, work_dir);
}

void tests_register(void)
{
    /* Progress and student files in fresh temporary folders, never the user's. */
    snprintf(state_home, sizeof state_home, "/tmp/tutor-ex-state-XXXXXX");
    snprintf(work_dir, sizeof work_dir, "/tmp/tutor-ex-work-XXXXXX");
    if (!mkdtemp(state_home) || !mkdtemp(work_dir)) {
        fprintf(stderr, "test_exercises: mkdtemp: %s\n", strerror(errno));
        exit(2);
    }
    setenv("XDG_STATE_HOME", state_home, 1);
    setenv("TUTOR_EXERCISE_DIR", work_dir, 1);
    unsetenv("TUTOR_BUILD");
    atexit(cleanup);
    static const th_test tests[] = {
        {"stubs fail, references pass", test_stubs_fail_references_pass},
        {"list", test_list},
        {"bad usage", test_bad_usage},
        {"hint ladder, atomic progress", test_hints},
        {"solution", test_solution},
        {"corrupt progress set aside", test_corrupt_progress},
        {"corrupt progress with every aside name taken", test_progress_aside_names_full},
        {"progress lines: three whole words, hints one digit", test_progress_strict_words},
        {"run through make", test_run},
        {"no sources", test_no_sources},
        {"watch", test_watch},
        {"the UI's x key", test_ui_x},
        {"the UI's x key: q cancels the build", test_ui_x_cancel},
        {NULL, NULL},
    };
    th_suite("exercises", tests);
}
