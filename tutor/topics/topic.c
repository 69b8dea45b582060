/* registry.c: the table of topics, in the order the CLI lists them and the UI shows them. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../../trace/mem.h"
#include "../topic.h"

/* Each topic lives in tutor/topic_ID.c, declared in topic.h: add the declaration and the
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
