// peer_pq.cpp: the C++ standard library's heap, the peer C++ users would pick (g++ -O2).
#include <algorithm>
#include <cstddef>
#include <functional>
#include <queue>
#include <vector>

extern "C" {
#include "bench.h"
}

// A min-heap of int: std::greater turns the max-heap priority_queue around. The vector grows
// as pushes arrive, as the project's heap does (no reserve on either side).
extern "C" void peer_pq_push_pop(int *out, const int *xs, size_t n)
{
    std::priority_queue<int, std::vector<int>, std::greater<int>> pq;
    for (size_t i = 0; i < n; i++)
        pq.push(xs[i]);
    for (size_t i = 0; i < n; i++) {
        out[i] = pq.top();
        pq.pop();
    }
}

extern "C" void peer_make_heap(int *a, size_t n)
{
    std::make_heap(a, a + n, std::greater<int>());
}
