/* bigram.h: a count-based autoregressive model over token sequences, the discrete side of
 * the flow chapter's comparison: p(seq) = p(tok_0) prod_i p(tok_i | tok_{i-1}).
 *
 * Fitting counts how often each token starts a sequence and how often token b follows token
 * a, and smooths both with add-alpha (Lidstone) smoothing: every count gets alpha added
 * before normalising, so a pair never seen still has a small probability and the
 * log-likelihood of new data stays finite. alpha = 1 is Laplace's add-one.
 *   start[b]    = (first[b] + alpha) / (n_seqs + alpha V)
 *   trans[a][b] = (pair[a][b] + alpha) / (sum_c pair[a][c] + alpha V)
 * A token never seen before another gets the uniform row 1 / V.
 *
 * Sequences are an (n_seqs, len) row-major int matrix of tokens in [0, V).
 * Errors: TUTOR_EINVAL (an argument outside its contract), TUTOR_ETOOBIG (caps),
 * TUTOR_ENOMEM (nothing leaked). */
#ifndef TUTOR_BIGRAM_H
#define TUTOR_BIGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "../trace/rng.h"

#define BIGRAM_MAX_VOCAB  4096
#define BIGRAM_MAX_TOKENS ((size_t)1 << 26) /* n_seqs * len */

typedef struct bigram {
    size_t vocab;
    double alpha;
    int64_t *first; /* vocab counts: sequences starting with each token */
    int64_t *pair;  /* (vocab, vocab) counts: pair[a * vocab + b] = times b followed a */
    double *start;  /* vocab probabilities, smoothed */
    double *trans;  /* (vocab, vocab) probabilities, smoothed, each row sums to 1 */
} bigram;

/* Fits b to n_seqs sequences of len tokens (tokens is (n_seqs, len)) with add-alpha
 * smoothing. Returns 0 with b set (free with bigram_free); TUTOR_EINVAL when vocab, n_seqs
 * or len is 0, alpha is not finite or not > 0, or a token is outside [0, vocab);
 * TUTOR_ETOOBIG past BIGRAM_MAX_VOCAB or BIGRAM_MAX_TOKENS; TUTOR_ENOMEM. On error b is
 * empty. O(n_seqs len + vocab^2). */
int bigram_fit(bigram *b, const int *tokens, size_t n_seqs, size_t len, size_t vocab, double alpha);

/* Frees what b holds and sets it empty (NULL is fine). */
void bigram_free(bigram *b);

/* Draws n_seqs sequences of len tokens into out (n_seqs, len) with r: the first token from
 * start, each next from the row of the previous. Returns 0, TUTOR_EINVAL (b empty, len = 0),
 * TUTOR_ETOOBIG (n_seqs len > BIGRAM_MAX_TOKENS). O(n_seqs len vocab) (inverse CDF). */
int bigram_sample(int *out, const bigram *b, size_t n_seqs, size_t len, rng *r);

/* *ll = the total log-likelihood (nats) of the n_seqs sequences of len tokens under b:
 * sum over sequences of log start[tok_0] + sum_i log trans[tok_{i-1}][tok_i]. Divide by
 * n_seqs len for nats per token. Returns 0 or TUTOR_EINVAL (b empty, a size 0, a token
 * outside [0, vocab)). O(n_seqs len). */
int bigram_loglik(double *ll, const bigram *b, const int *tokens, size_t n_seqs, size_t len);

#endif
