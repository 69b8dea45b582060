/* main.c: `bench [CASE]`: runs every case, or the one named (make bench BENCH=heap). */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static const char *only;

int bench_skip_case(const char *name)
{
    return only && strcmp(only, name) != 0;
}

static const struct {
    const char *name;
    int (*run)(void);
} cases[] = {
    {"maxgap", bench_case_maxgap},     {"heap", bench_case_heap},
    {"knapsack", bench_case_knapsack}, {"attention", bench_case_attention},
    {"ssm", bench_case_ssm},           {"trace", bench_case_trace},
};

/* What the numbers depend on: the CPU, how many there are, and how busy they were. */
static void machine(void)
{
    char model[128] = "unknown CPU", line[256];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
            snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
            model[strcspn(model, "\n")] = '\0';
            break;
        }
    if (f)
        fclose(f);
    double load = -1;
    f = fopen("/proc/loadavg", "r");
    if (f && fscanf(f, "%lf", &load) != 1)
        load = -1;
    if (f)
        fclose(f);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    printf("machine: %s, %ld CPU%s, load average %.2f at the start", model, cpus,
           cpus == 1 ? "" : "s", load);
    if (load > (double)cpus)
        printf(" (busier than its CPUs: expect noisy times)");
    printf("\n");
}

int main(int argc, char **argv)
{
    size_t ncases = sizeof cases / sizeof cases[0];
    if (argc > 2 || (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))) {
        fprintf(stderr, "usage: bench [maxgap|heap|knapsack|attention|ssm|trace]\n");
        return 2;
    }
    if (argc == 2 && argv[1][0])
        only = argv[1];
    int known = !only;
    for (size_t i = 0; i < ncases; i++)
        known |= only && !strcmp(only, cases[i].name);
    if (!known) {
        fprintf(stderr,
                "bench: unknown case '%s' (maxgap, heap, knapsack, attention, ssm, trace)\n", only);
        return 2;
    }
    time_t now = time(NULL);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    printf("tutor bench, %s. Times per call; peer/ours above 1 means ours is faster.\n", when);
    machine();
    int missed = 0;
    double start = bench_now();
    for (size_t i = 0; i < ncases; i++)
        if (!bench_skip_case(cases[i].name))
            missed += cases[i].run();
    printf("\n%d target%s missed; %.0f s in all.\n", missed, missed == 1 ? "" : "s",
           bench_now() - start);
    /* A missed target is a finding, not a failure of the run. */
    return 0;
}
