/* bigram.c: count-based bigram model over token sequences (see bigram.h). */
#include "bigram.h"

#include <math.h>
#include <string.h>

#include "../trace/mem.h"
#include "../trace/status.h"

void bigram_free(bigram *b)
{
    if (!b)
        return;
    mem_free(b->first);
    mem_free(b->pair);
    mem_free(b->start);
    mem_free(b->trans);
    memset(b, 0, sizeof *b);
}

static int tokens_ok(const int *tokens, size_t count, size_t vocab)
{
    for (size_t i = 0; i < count; i++)
        if (tokens[i] < 0 || (size_t)tokens[i] >= vocab)
            return 0;
    return 1;
}

/* p (vocab values) = (c + alpha) / (sum c + alpha vocab). */
static void smooth(double *p, const int64_t *c, size_t vocab, double alpha)
{
    double total = alpha * (double)vocab;
    for (size_t j = 0; j < vocab; j++)
        total += (double)c[j];
    for (size_t j = 0; j < vocab; j++)
        p[j] = ((double)c[j] + alpha) / total;
}

int bigram_fit(bigram *b, const int *tokens, size_t n_seqs, size_t len, size_t vocab, double alpha)
{
    memset(b, 0, sizeof *b);
    if (!vocab || !n_seqs || !len || !isfinite(alpha) || !(alpha > 0.0))
        return TUTOR_EINVAL;
    if (vocab > BIGRAM_MAX_VOCAB || n_seqs > BIGRAM_MAX_TOKENS / len)
        return TUTOR_ETOOBIG;
    if (!tokens_ok(tokens, n_seqs * len, vocab))
        return TUTOR_EINVAL;
    b->first = mem_calloc(vocab, sizeof *b->first);
    b->pair = mem_calloc(vocab * vocab, sizeof *b->pair);
    b->start = mem_alloc(vocab * sizeof *b->start);
    b->trans = mem_alloc(vocab * vocab * sizeof *b->trans);
    if (!b->first || !b->pair || !b->start || !b->trans) {
        bigram_free(b);
        return TUTOR_ENOMEM;
    }
    b->vocab = vocab;
    b->alpha = alpha;
    for (size_t s = 0; s < n_seqs; s++) {
        const int *seq = tokens + s * len;
        b->first[seq[0]]++;
        for (size_t i = 1; i < len; i++)
            b->pair[(size_t)seq[i - 1] * vocab + (size_t)seq[i]]++;
    }
    smooth(b->start, b->first, vocab, alpha);
    for (size_t a = 0; a < vocab; a++)
        smooth(b->trans + a * vocab, b->pair + a * vocab, vocab, alpha);
    return 0;
}

/* Returns an index drawn with probabilities p (vocab values summing to 1); the last index
 * takes any rounding slack. */
static int draw(const double *p, size_t vocab, rng *r)
{
    double u = rng_uniform(r), acc = 0.0;
    for (size_t j = 0; j + 1 < vocab; j++) {
        acc += p[j];
        if (u < acc)
            return (int)j;
    }
    return (int)(vocab - 1);
}

int bigram_sample(int *out, const bigram *b, size_t n_seqs, size_t len, rng *r)
{
    if (!b || !b->vocab || !b->start || !len)
        return TUTOR_EINVAL;
    if (n_seqs > BIGRAM_MAX_TOKENS / len)
        return TUTOR_ETOOBIG;
    size_t vocab = b->vocab;
    for (size_t s = 0; s < n_seqs; s++) {
        int *seq = out + s * len;
        seq[0] = draw(b->start, vocab, r);
        for (size_t i = 1; i < len; i++)
            seq[i] = draw(b->trans + (size_t)seq[i - 1] * vocab, vocab, r);
    }
    return 0;
}

int bigram_loglik(double *ll, const bigram *b, const int *tokens, size_t n_seqs, size_t len)
{
    if (!b || !b->vocab || !b->start || !n_seqs || !len || n_seqs > BIGRAM_MAX_TOKENS / len ||
        !tokens_ok(tokens, n_seqs * len, b->vocab))
        return TUTOR_EINVAL;
    size_t vocab = b->vocab;
    double total = 0.0;
    for (size_t s = 0; s < n_seqs; s++) {
        const int *seq = tokens + s * len;
        total += log(b->start[seq[0]]);
        for (size_t i = 1; i < len; i++)
            total += log(b->trans[(size_t)seq[i - 1] * vocab + (size_t)seq[i]]);
    }
    *ll = total;
    return 0;
}
