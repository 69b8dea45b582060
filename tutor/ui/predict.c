#include "predict.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../../trace/mem.h"
#include "../../trace/status.h"
#include "../../trace/trace.h"
#include "../core/parse.h"

int predict_score_reset(predict_score *s, size_t steps)
{
    predict_score_free(s);
    s->done = mem_calloc(steps ? steps : 1, 1);
    if (!s->done)
        return TUTOR_ENOMEM;
    s->n = steps;
    return 0;
}

void predict_score_free(predict_score *s)
{
    mem_free(s->done);
    memset(s, 0, sizeof *s);
}

int predict_score_done(const predict_score *s, size_t i)
{
    return !s->done || i >= s->n || s->done[i];
}

int predict_parse(const char *text, int64_t *v, char *err, size_t errlen)
{
    char word[32];
    size_t n = 0;
    while (isspace((unsigned char)*text))
        text++;
    for (const char *p = text; *p && n + 1 < sizeof word; p++)
        word[n++] = *p;
    while (n && isspace((unsigned char)word[n - 1]))
        n--;
    word[n] = '\0';
    static const char *const yes[] = {"yes", "y", "true"}, *const no[] = {"no", "n", "false"},
                             *const none[] = {"none", "empty", "-inf", "-", "null"};
    for (size_t k = 0; k < 3; k++) {
        if (strcasecmp(word, yes[k]) == 0) {
            *v = 1;
            return 0;
        }
        if (strcasecmp(word, no[k]) == 0) {
            *v = 0;
            return 0;
        }
    }
    for (size_t k = 0; k < 5; k++)
        if (strcasecmp(word, none[k]) == 0) {
            *v = TRACE_NONE;
            return 0;
        }
    if (n == 0) {
        snprintf(err, errlen, "type a number (or yes/no, none), then Enter; Esc skips");
        return TUTOR_EINVAL;
    }
    long long x;
    int rc = parse_int(word, "the answer", INT64_MIN + 1, INT64_MAX, &x, err, errlen);
    if (rc)
        return rc;
    *v = x;
    return 0;
}

int predict_grade(predict_score *s, size_t i, int64_t answer, int64_t expected, int skipped)
{
    if (s->done && i < s->n) {
        if (s->done[i])
            return !skipped && answer == expected;
        s->done[i] = 1;
    }
    if (skipped) {
        s->skipped++;
        return 0;
    }
    s->asked++;
    int right = answer == expected;
    s->right += (unsigned)right;
    return right;
}

void predict_answer_str(int64_t expected, char *buf, size_t n)
{
    if (expected == TRACE_NONE)
        snprintf(buf, n, "none");
    else
        snprintf(buf, n, "%lld", (long long)expected);
}
