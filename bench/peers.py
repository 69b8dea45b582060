"""The Python peers of tutor's benchmarks (bench/), run by the harness as a child process.

usage: peers.py CASE IN OUT REPS [ARGS...]

IN holds the inputs as raw native-endian arrays, one after another, in the order each case
lists; OUT ("-" for none) receives the peer's result as raw float64 so the harness can check
it against ours. Timing follows the harness's policy: one untimed warm-up call, then REPS
timed calls, each printed as "time SECONDS"; "check VALUE" gives a scalar to compare. Only
the computation is timed, never the reading of the inputs. When numpy is needed and missing,
the script prints "skip REASON" and exits with status 3: the harness reports the peer as
skipped, never estimated.
"""
import heapq
import sys
import time
from array import array


def need_numpy():
    try:
        import numpy
    except ImportError:
        print("skip numpy is not importable by %s (install python3-numpy)" % sys.executable)
        sys.exit(3)
    return numpy


def timed(fn, reps):
    """Warm-up, then reps timed calls; returns the last result. A warm-up call longer than
    a second counts as the first sample (as in the harness: nothing is left to warm)."""
    start = time.perf_counter()
    result = fn()
    once = time.perf_counter() - start
    if once > 1.0:
        print("time %.9f" % once, flush=True)
        reps -= 1
    for _ in range(reps):
        start = time.perf_counter()
        result = fn()
        print("time %.9f" % (time.perf_counter() - start), flush=True)
    return result


def read_ints(path, count):
    a = array("i")
    with open(path, "rb") as f:
        a.frombytes(f.read(4 * count))
    return a.tolist()


def case_heapq(inp, out, reps, n):
    """10^6 heappush of the sequence, then as many heappop (CPython's C accelerator)."""
    n = int(n)
    xs = read_ints(inp, n)

    def run():
        h = []
        push, pop = heapq.heappush, heapq.heappop
        for x in xs:
            push(h, x)
        return [pop(h) for _ in range(n)]

    popped = timed(run, reps)
    print("check %d" % sum(v * (i % 1000 + 1) for i, v in enumerate(popped)))


def case_heapify(inp, out, reps, n):
    """heapq.heapify of a fresh copy of the list (the copy is not timed)."""
    xs = read_ints(inp, int(n))
    first = None
    for r in range(reps + 1):
        h = xs[:]
        start = time.perf_counter()
        heapq.heapify(h)
        if r:
            print("time %.9f" % (time.perf_counter() - start), flush=True)
        first = h[0]
    print("check %d" % first)


def case_knapsack(inp, out, reps, n, capacity):
    """The vectorised 1-D update, one item at a time: f[v:] = max(f[v:], f[:-v] + w)."""
    np = need_numpy()
    n, capacity = int(n), int(capacity)
    raw = np.fromfile(inp, dtype=np.int32, count=2 * n)
    items = list(zip(raw[:n].tolist(), raw[n:].tolist()))

    def run():
        f = np.zeros(capacity + 1, dtype=np.int64)
        for v, w in items:
            if 0 < v <= capacity:
                f[v:] = np.maximum(f[v:], f[:-v] + w)
        return f

    f = timed(run, reps)
    print("check %d" % int(f[capacity]))


def read_doubles(np, path, *shapes):
    total = sum(int(np.prod(s)) for s in shapes)
    raw = np.fromfile(path, dtype=np.float64, count=total)
    arrays, at = [], 0
    for s in shapes:
        size = int(np.prod(s))
        arrays.append(raw[at:at + size].reshape(s))
        at += size
    return arrays


def case_softmax(inp, out, reps, n, d):
    """softmax(Q K^T / sqrt(d)) V, in place where numpy allows (the fastest plain form)."""
    np = need_numpy()
    n, d = int(n), int(d)
    q, k, v = read_doubles(np, inp, (n, d), (n, d), (n, d))

    def run():
        s = q @ k.T
        s *= 1.0 / np.sqrt(d)
        s -= s.max(axis=1, keepdims=True)
        np.exp(s, out=s)
        s /= s.sum(axis=1, keepdims=True)
        return s @ v

    timed(run, reps).tofile(out)


def case_linear(inp, out, reps, n, d, chunk):
    """Causal linear attention (elu + 1) by cumulative sums: S_i = sum_{j<=i} phi(k_j) v_j^T
    and z_i = sum_{j<=i} phi(k_j) by np.cumsum, a chunk of rows at a time with the running
    state carried over: the whole (n, d, d) cumsum at once would need 2 GB at n = 65536, and
    small chunks (64 rows here) stay in cache and ran fastest of the sizes tried."""
    np = need_numpy()
    n, d, chunk = int(n), int(d), int(chunk)
    q, k, v = read_doubles(np, inp, (n, d), (n, d), (n, d))

    def phi(x):
        return np.where(x > 0, x + 1.0, np.exp(np.minimum(x, 0.0)))

    def run():
        fq, fk = phi(q), phi(k)
        o = np.empty((n, d))
        state = np.zeros((d, d))
        z = np.zeros(d)
        for s in range(0, n, chunk):
            e = min(n, s + chunk)
            kv = np.cumsum(fk[s:e, :, None] * v[s:e, None, :], axis=0)
            kv += state
            zc = np.cumsum(fk[s:e], axis=0)
            zc += z
            num = np.einsum("ij,ijk->ik", fq[s:e], kv)
            den = np.einsum("ij,ij->i", fq[s:e], zc) + 1e-6
            o[s:e] = num / den[:, None]
            state, z = kv[-1].copy(), zc[-1].copy()
        return o

    timed(run, reps).tofile(out)


def case_s4d(inp, out, reps, m, length):
    """The S4D kernel K_k = 2 Re sum_n C_n Bbar_n exp(k dt A_n) as a Vandermonde product,
    then y = K * u + D u by numpy's real FFT, zero-padded to 2L."""
    np = need_numpy()
    m, length = int(m), int(length)
    dta, bbar, c, dd, u = read_doubles(np, inp, (m, 2), (m, 2), (m, 2), (1,), (length,))
    dta = dta[:, 0] + 1j * dta[:, 1]
    w = (c[:, 0] + 1j * c[:, 1]) * (bbar[:, 0] + 1j * bbar[:, 1])
    dskip = float(dd[0])

    def run():
        powers = np.exp(dta[:, None] * np.arange(length)[None, :])
        kernel = 2.0 * (w @ powers).real
        size = 2 * length
        y = np.fft.irfft(np.fft.rfft(u, size) * np.fft.rfft(kernel, size), size)[:length]
        return y + dskip * u

    timed(run, reps).tofile(out)


def case_mamba(inp, out, reps, length, channels, states):
    """Mamba's selective scan as a numpy loop over time, each step vectorised over the
    (D, N) state; softplus and the silu gate vectorised over the whole sequence."""
    np = need_numpy()
    L, D, N = int(length), int(channels), int(states)
    u, draw, a, b, c, dskip, z = read_doubles(np, inp, (L, D), (L, D), (D, N), (L, N), (L, N),
                                              (D,), (L, D))

    def run():
        delta = np.logaddexp(0.0, draw)
        du = delta * u
        h = np.zeros((D, N))
        y = np.empty((L, D))
        for t in range(L):
            h = np.exp(delta[t][:, None] * a) * h + du[t][:, None] * b[t][None, :]
            y[t] = h @ c[t]
        y += dskip * u
        y *= z / (1.0 + np.exp(-z))
        return y

    timed(run, reps).tofile(out)


CASES = {
    "heapq": case_heapq,
    "heapify": case_heapify,
    "knapsack": case_knapsack,
    "softmax": case_softmax,
    "linear": case_linear,
    "s4d": case_s4d,
    "mamba": case_mamba,
}


def main(argv):
    if len(argv) < 5 or argv[1] not in CASES:
        sys.stderr.write("usage: peers.py {%s} IN OUT REPS [ARGS...]\n" % ",".join(CASES))
        return 2
    CASES[argv[1]](argv[2], argv[3], int(argv[4]), *argv[5:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
