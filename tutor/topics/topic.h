/* topic.h: the topic registry, the one table the CLI, the UI, the plots and the exercise
 * runner all walk. Adding a topic is adding one `topic` definition (topics/topic_ID.c), its
 * figure recipe (topics/topic_ID_plot.c), their declarations below and one line in the
 * table in topic.c: docs/adding-a-topic.md walks through it. */
#ifndef TUTOR_TOPIC_H
#define TUTOR_TOPIC_H

#include <stddef.h>
#include <stdint.h>

#include "../../trace/strbuf.h"
#include "../../trace/trace.h"

/* One option given to a topic: `--name value`, or `--name` alone (value NULL) for a flag. */
typedef struct topic_opt {
    const char *name; /* without the leading dashes */
    const char *value;
} topic_opt;

/* What a topic accepts: the CLI rejects any option not listed, and any value given to a
 * flag or missing from a valued option, before the topic's runner is called. */
typedef struct topic_optspec {
    const char *name;
    int takes_value; /* 1: `--name VALUE`, 0: a flag, TOPIC_LIST: a list (below) */
    const char *help;
} topic_optspec;

/* takes_value for a list option: its value is the list, or @FILE, or - (standard input),
 * which the parsers in core/parse.h read alike; `tutor help` says so. */
#define TOPIC_LIST 2

typedef struct topic_args {
    const topic_opt *opts;
    size_t n;
    uint64_t seed; /* --seed, 1 by default */
} topic_args;

/* What a run produces besides its trace. */
typedef struct topic_out {
    strbuf json;   /* JSON members after "topic", e.g. `"result": 3` (no braces) */
    strbuf text;   /* the readable answer, ending in a newline */
    char err[256]; /* for TUTOR_EINVAL and friends: one line naming what is wrong */
} topic_out;

/* A figure recipe: draws the topic's figures for req (plot.h), writing their paths
 * (or dumb text) to out. Returns 0; an input error (exit 2) or TUTOR_ENOTFOUND, TUTOR_EIO,
 * TUTOR_ENOMEM (exit 1), with one line in err. */
struct plot_request;
typedef int plot_fn(const struct plot_request *req, strbuf *out, char *err, size_t errlen);

typedef struct topic {
    const char *id;            /* the CLI name: "maxgap" */
    const char *family;        /* "Algorithms", "Attention", "HiPPO & SSM" */
    const char *title;         /* "Maximum gap by bucket sort" */
    const char *summary;       /* one line for lists and the home screen */
    const char *usage;         /* `tutor help ID` body: options, input format, examples */
    const topic_optspec *opts; /* terminated by an entry with name NULL */
    const char *example;       /* a default input as CLI options, e.g. `--nums "3 6 9 1"` */
    const char *notes;         /* file name under docs/, e.g. "maxgap.md" */
    /* Runs the topic on args. tr may be NULL (no trace); when not, the runner sets its
     * listing. Returns 0; TUTOR_EINVAL, TUTOR_ERANGE, TUTOR_ETOOBIG... with out->err
     * filled for bad input (the CLI exits 2); other codes for failures (exit 1). */
    int (*run)(const topic_args *args, trace *tr, topic_out *out);
    /* Writes a random input (as CLI options, like `example`) drawn from seed into sb.
     * May be NULL. Returns 0 or TUTOR_ENOMEM. */
    int (*random_input)(uint64_t seed, strbuf *sb);
    /* The topic's figure recipe for `tutor plot` and `make plots` (topic_ID_plot.c); NULL
     * draws the final state of a traced run. See plot.h. */
    plot_fn *plot;
} topic;

/* Figure recipes, bound above with `.plot = plot_ID`. */
plot_fn topic_maxgap_plot;
plot_fn topic_knapsack_plot;
plot_fn topic_combsum_plot;
plot_fn topic_combsum2_plot;
plot_fn topic_heap_plot;
plot_fn topic_attention_plot;
plot_fn topic_hippo_plot;
plot_fn topic_ssm_plot;
plot_fn topic_vq_plot;
plot_fn topic_fusion_plot;
plot_fn topic_mot_plot;
plot_fn topic_flow_plot;

/* The topics, each defined in topics/topic_ID.c and listed once in topic.c. Declared
 * here so that each definition is checked against the one the registry sees. */
extern const topic topic_maxgap;
extern const topic topic_combsum;
extern const topic topic_combsum2;
extern const topic topic_knapsack;
extern const topic topic_heap;
extern const topic topic_attention;
extern const topic topic_hippo;
extern const topic topic_ssm;
extern const topic topic_vq;
extern const topic topic_fusion;
extern const topic topic_mot;
extern const topic topic_flow;

/* The registry, in display order, and its length. */
extern const topic *const topic_registry[];
extern const size_t topic_count;

/* Returns the topic with this id, or NULL. O(number of topics). */
const topic *topic_find(const char *id);

/* Returns the value of option `name`, or NULL when absent (or a flag). O(n). */
const char *topic_opt_get(const topic_args *args, const char *name);

/* Returns 1 when option or flag `name` was given, else 0. */
int topic_opt_has(const topic_args *args, const char *name);

/* Writes a printf-formatted one-line message into out->err and returns code: how a runner
 * refuses its input, e.g. `return topic_fail(out, TUTOR_EINVAL, "--target: ...");`. */
int topic_fail(topic_out *out, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Returns the option of t whose name is the len bytes at name (no leading dashes), or NULL.
 * O(options of t). */
const topic_optspec *topic_find_opt(const topic *t, const char *name, size_t len);

/* Splits argv[0..argc) (everything after `run TOPIC`) into the options of topic t: global
 * --json, --trace, --seed are taken out into *json, *want_trace and args->seed; every
 * other option must be one t declares. `--name=value` is accepted as `--name value`.
 * args->opts is a new array (free with mem_free) whose strings point into argv.
 * Returns 0, or TUTOR_EINVAL / TUTOR_ENOMEM with one line in err. The command line and the
 * UI's input editor both use it, so both refuse the same things in the same words.
 * O(argc x options of t). */
int topic_parse_args(const topic *t, int argc, char **argv, topic_args *args, int *json,
                     int *want_trace, char *err, size_t errlen);

/* Frees the buffers of out (not out itself). */
void topic_out_free(topic_out *out);

#endif
