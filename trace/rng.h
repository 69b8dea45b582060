/* rng.h: a seeded, platform-independent random generator (xoshiro256**, seeded through
 * splitmix64), so that the same seed gives the same input, test and figure everywhere.
 * Never use rand(): its sequence differs between C libraries. */
#ifndef TUTOR_RNG_H
#define TUTOR_RNG_H

#include <stdint.h>

typedef struct rng {
    uint64_t s[4];
    double spare; /* the second Gaussian of the last Box-Muller pair */
    int has_spare;
} rng;

/* Seeds r; every seed (0 included) gives a distinct, well-mixed state. O(1). */
void rng_seed(rng *r, uint64_t seed);

/* Returns the next 64 uniformly random bits. O(1). */
uint64_t rng_next(rng *r);

/* Returns a uniform integer in [lo, hi] (lo <= hi), without modulo bias. O(1) expected. */
int64_t rng_range(rng *r, int64_t lo, int64_t hi);

/* Returns a uniform double in [0, 1) with 53 random bits. O(1). */
double rng_uniform(rng *r);

/* Returns a standard normal sample (Box-Muller, pairs cached). O(1). */
double rng_gauss(rng *r);

#endif
