/* topic.c: the topic registry (the table of topics, in the order the CLI lists them and the
 * UI shows them), the options a topic is given, and how a runner refuses its input. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../../trace/mem.h"
#include "../../trace/status.h"
#include "../core/parse.h"
#include "topic.h"

/* Each topic lives in topics/topic_ID.c, declared in topic.h: add the declaration and the
 * table line together. */
const topic *const topic_registry[] = {
    /* Algorithms */
    &topic_maxgap,
    &topic_combsum,
    &topic_combsum2,
    &topic_knapsack,
    &topic_heap,
    /* Attention */
    &topic_attention,
    /* HiPPO & SSM */
    &topic_hippo,
    &topic_ssm,
    /* Multimodal */
    &topic_vq,
    &topic_fusion,
    &topic_mot,
    &topic_flow,
    NULL,
};

const size_t topic_count = sizeof topic_registry / sizeof topic_registry[0] - 1;

const topic *topic_find(const char *id)
{
    for (size_t i = 0; i < topic_count; i++)
        if (strcmp(topic_registry[i]->id, id) == 0)
            return topic_registry[i];
    return NULL;
}

const char *topic_opt_get(const topic_args *args, const char *name)
{
    /* The last occurrence wins, as with most command-line tools. */
    for (size_t i = args->n; i-- > 0;)
        if (strcmp(args->opts[i].name, name) == 0)
            return args->opts[i].value;
    return NULL;
}

int topic_opt_has(const topic_args *args, const char *name)
{
    for (size_t i = 0; i < args->n; i++)
        if (strcmp(args->opts[i].name, name) == 0)
            return 1;
    return 0;
}

int topic_fail(topic_out *out, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->err, sizeof out->err, fmt, ap);
    va_end(ap);
    return code;
}

void topic_out_free(topic_out *out)
{
    strbuf_free(&out->json);
    strbuf_free(&out->text);
}

const topic_optspec *topic_find_opt(const topic *t, const char *name, size_t len)
{
    for (const topic_optspec *o = t->opts; o && o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

static int say(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return TUTOR_EINVAL;
}

int topic_parse_args(const topic *t, int argc, char **argv, topic_args *args, int *json,
                     int *want_trace, char *err, size_t errlen)
{
    topic_opt *opts = mem_calloc((size_t)argc + 1, sizeof *opts);
    if (!opts) {
        snprintf(err, errlen, "out of memory");
        return TUTOR_ENOMEM;
    }
    size_t n = 0;
    int rc = 0;
    *json = *want_trace = 0;
    args->seed = 1;
    for (int i = 0; i < argc && !rc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || !a[2]) {
            rc = say(err, errlen, "unexpected argument '%s' (options start with --)", a);
            break;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const char *value = eq ? eq + 1 : NULL;
        if (len == 4 && strncmp(name, "json", 4) == 0 && !eq) {
            *json = 1;
            continue;
        }
        if (len == 5 && strncmp(name, "trace", 5) == 0 && !eq) {
            *want_trace = 1;
            continue;
        }
        int is_seed = len == 4 && strncmp(name, "seed", 4) == 0;
        const topic_optspec *spec = is_seed ? NULL : topic_find_opt(t, name, len);
        if (!is_seed && !spec) {
            rc = say(err, errlen, "unknown option '--%.*s' for topic %s (see 'tutor help %s')",
                     (int)len, name, t->id, t->id);
            break;
        }
        int takes_value = is_seed || spec->takes_value;
        if (!takes_value) {
            if (eq)
                rc = say(err, errlen, "option --%s takes no value", spec->name);
            else
                opts[n++] = (topic_opt){spec->name, NULL};
            continue;
        }
        if (!value) {
            if (i + 1 >= argc) {
                rc = say(err, errlen, "option --%.*s needs a value", (int)len, name);
                break;
            }
            value = argv[++i];
        }
        if (is_seed)
            rc = parse_u64(value, "--seed", &args->seed, err, errlen);
        else
            opts[n++] = (topic_opt){spec->name, value};
    }
    if (rc) {
        mem_free(opts);
        return rc;
    }
    args->opts = opts;
    args->n = n;
    return 0;
}
