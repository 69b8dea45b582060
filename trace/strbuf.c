#include "strbuf.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "mem.h"
#include "status.h"

/* Window of the big-buffer page prefetch below. */
#define PREFAULT_SHIFT 22 /* 4 MiB */

/* A big output (a trace's JSON: 160 MB) touches tens of thousands of fresh pages, and a
 * virtual machine may charge several microseconds for each page fault (8 us on the one the
 * benchmarks ran on: 30 % of writing the JSON). So when the text crosses into a new 4 MiB
 * window, Linux is asked to fill that window's pages in one call (MADV_POPULATE_WRITE, Linux
 * 5.14): the same pages, touched a little earlier, at a fifth of the cost. Only a hint: on
 * an older kernel or another system it fails or is absent and the pages fault as usual. */
static void strbuf_prefault(strbuf *sb, size_t from)
{
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0)
        return;
    uintptr_t start = (uintptr_t)sb->s + from, end = (uintptr_t)sb->s + sb->cap;
    start = (start + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    if (start >= end)
        return;
    if (end - start > ((uintptr_t)1 << PREFAULT_SHIFT))
        end = start + ((uintptr_t)1 << PREFAULT_SHIFT);
    end &= ~((uintptr_t)page - 1);
    if (end > start)
        (void)madvise((void *)start, end - start, MADV_POPULATE_WRITE);
#else
    (void)sb;
    (void)from;
#endif
}

/* Makes room for extra more bytes plus the NUL. Doubling keeps appends amortised O(1). */
static int strbuf_reserve(strbuf *sb, size_t extra)
{
    if (sb->failed)
        return sb->failed;
    if (extra > SIZE_MAX / 2 - sb->len - 1)
        return sb->failed = TUTOR_ENOMEM;
    size_t need = sb->len + extra + 1;
    if (need > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 64;
        while (cap < need)
            cap *= 2;
        char *s = mem_realloc_array(sb->s, cap, 1);
        if (!s)
            return sb->failed = TUTOR_ENOMEM;
        sb->s = s;
        sb->cap = cap;
    }
    if ((sb->len >> PREFAULT_SHIFT) != (need >> PREFAULT_SHIFT))
        strbuf_prefault(sb, (need >> PREFAULT_SHIFT) << PREFAULT_SHIFT);
    return 0;
}

int strbuf_putn(strbuf *sb, const char *s, size_t n)
{
    int rc = strbuf_reserve(sb, n);
    if (rc)
        return rc;
    memcpy(sb->s + sb->len, s, n);
    sb->len += n;
    sb->s[sb->len] = '\0';
    return 0;
}

int strbuf_puts(strbuf *sb, const char *s)
{
    return strbuf_putn(sb, s, strlen(s));
}

int strbuf_putc(strbuf *sb, char c)
{
    return strbuf_putn(sb, &c, 1);
}

int strbuf_vprintf(strbuf *sb, const char *fmt, va_list ap)
{
    if (sb->failed)
        return sb->failed;
    /* Format straight into the spare room when it fits (the usual case): one pass, not two.
     * Only when it does not is the buffer grown and the text formatted again. */
    size_t room = sb->cap > sb->len ? sb->cap - sb->len : 0;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(room ? sb->s + sb->len : NULL, room, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        if (sb->s)
            sb->s[sb->len] = '\0';
        return TUTOR_EINVAL;
    }
    if ((size_t)n < room) {
        sb->len += (size_t)n;
        return 0;
    }
    if (sb->s)
        sb->s[sb->len] = '\0'; /* a cut-off attempt must not show */
    int rc = strbuf_reserve(sb, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
    sb->len += (size_t)n;
    return 0;
}

int strbuf_printf(strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = strbuf_vprintf(sb, fmt, ap);
    va_end(ap);
    return rc;
}

int strbuf_json_str(strbuf *sb, const char *s)
{
    strbuf_putc(sb, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': strbuf_puts(sb, "\\\""); break;
        case '\\': strbuf_puts(sb, "\\\\"); break;
        case '\n': strbuf_puts(sb, "\\n"); break;
        case '\t': strbuf_puts(sb, "\\t"); break;
        case '\r': strbuf_puts(sb, "\\r"); break;
        default:
            if (*p < 0x20)
                strbuf_printf(sb, "\\u%04x", *p);
            else
                strbuf_putc(sb, (char)*p);
        }
    }
    return strbuf_putc(sb, '"');
}

/* Formatting doubles for JSON.
 *
 * The contract (kept from the first, printf-only version, so that JSON stays byte for byte
 * what it was): x is written as %.15g would write it if that reads back exactly, else as
 * %.16g if that does, else as %.17g (which always does). Done with snprintf and strtod that
 * costs about 0.6 us a value, too slow for a trace of millions of values, so the common case
 * is decided here with integer arithmetic and only the undecidable rest goes to printf.
 *
 * The fast path scales x = m 2^e2 to v = x 10^q with 10^16 <= v < 10^17 (q = 16 - k, k the
 * decimal exponent of x), as a 64.64 fixed-point number computed from a 128-bit
 * approximation of 10^q; with the truncations its absolute error stays below 2^-50. Then,
 * for P = 15, 16, 17 significant digits:
 *   - rounding v to P digits is rounding v / 10^(17 - P) to an integer, decided by whether
 *     the remainder is above half the step;
 *   - the rounded value d 10^(17 - P) reads back as x exactly when it lies strictly between
 *     the midpoints from x to its neighbours, (m -+ 1/2) 2^e2 scaled the same way (m - 1/4
 *     below a power of two, whose lower neighbour is nearer).
 * Every comparison whose two sides are within 2^-32 of each other (an exact tie, or too close
 * for the error bound to decide) gives up and lets printf and strtod decide exactly. */
#if defined(__SIZEOF_INT128__)
__extension__ typedef unsigned __int128 u128;

#define DBL_FAST 1

/* 10^(28 j) for j = -11..11 as hi:lo 2^e, hi's top bit set, rounded to nearest. Computed
 * with exact rationals (Python's fractions); tests compare the whole path with printf. */
static const struct {
    uint64_t hi, lo;
    int e;
} pow10_coarse[23] = {
    {0xe61acf033d1a45dfu, 0x6fb92487298e33beu, -1151}, /* 1e-308 */
    {0xe858ad248f5c22c9u, 0xd1b3400f8f9cff69u, -1058}, /* 1e-280 */
    {0xea9c227723ee8bcbu, 0x465e15a979c1cadcu, -965},  /* 1e-252 */
    {0xece53cec4a314ebdu, 0xa4f8bf5635246428u, -872},  /* 1e-224 */
    {0xef340a98172aace4u, 0x86fb897116c87c35u, -779},  /* 1e-196 */
    {0xf18899b1bc3f8ca1u, 0xdc44e6c3cb279ac2u, -686},  /* 1e-168 */
    {0xf3e2f893dec3f126u, 0x5a89dba3c3efccfbu, -593},  /* 1e-140 */
    {0xf64335bcf065d37du, 0x4d4617b5ff4a16d6u, -500},  /* 1e-112 */
    {0xf8a95fcf88747d94u, 0x75a44c6397ce912au, -407},  /* 1e-84 */
    {0xfb158592be068d2eu, 0xeed6e2f0f0d56713u, -314},  /* 1e-56 */
    {0xfd87b5f28300ca0du, 0x8bca9d6e188853fcu, -221},  /* 1e-28 */
    {0x8000000000000000u, 0x0000000000000000u, -127},  /* 1e0 */
    {0x813f3978f8940984u, 0x4000000000000000u, -34},   /* 1e28 */
    {0x82818f1281ed449fu, 0xbff8f10e7a8921a4u, 59},    /* 1e56 */
    {0x83c7088e1aab65dbu, 0x792667c6da79e0fau, 152},   /* 1e84 */
    {0x850fadc09923329eu, 0x03e2cf6bc604ddb0u, 245},   /* 1e112 */
    {0x865b86925b9bc5c2u, 0x0b8a2392ba45a9b2u, 338},   /* 1e140 */
    {0x87aa9aff79042286u, 0x90fb44d2f05d0843u, 431},   /* 1e168 */
    {0x88fcf317f22241e2u, 0x441fece3bdf81f03u, 524},   /* 1e196 */
    {0x8a5296ffe33cc92fu, 0x82bd6b70d99aaa70u, 617},   /* 1e224 */
    {0x8bab8eefb6409c1au, 0x1ad089b6c2f7548eu, 710},   /* 1e252 */
    {0x8d07e33455637eb2u, 0xdb0b487b6423e1e8u, 803},   /* 1e280 */
    {0x8e679c2f5e44ff8fu, 0x570f09eaa7ea7648u, 896},   /* 1e308 */
};

static const uint64_t pow10_u64[20] = {
    1u,
    10u,
    100u,
    1000u,
    10000u,
    100000u,
    1000000u,
    10000000u,
    100000000u,
    1000000000u,
    10000000000u,
    100000000000u,
    1000000000000u,
    10000000000000u,
    100000000000000u,
    1000000000000000u,
    10000000000000000u,
    100000000000000000u,
    1000000000000000000u,
    10000000000000000000u,
};

static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
                                     "25262728293031323334353637383940414243444546474849"
                                     "50515253545556575859606162636465666768697071727374"
                                     "75767778798081828384858687888990919293949596979899";

/* The top 128 bits of the 256-bit product a b (truncated). */
static u128 mul_top128(u128 a, u128 b)
{
    uint64_t a1 = (uint64_t)(a >> 64), a0 = (uint64_t)a, b1 = (uint64_t)(b >> 64), b0 = (uint64_t)b;
    u128 lo = (u128)a0 * b0, m1 = (u128)a1 * b0, m2 = (u128)a0 * b1, hi = (u128)a1 * b1;
    u128 mid = (lo >> 64) + (uint64_t)m1 + (uint64_t)m2;
    return hi + (m1 >> 64) + (m2 >> 64) + (mid >> 64);
}

/* (a p) >> 64 for a below 2^60: fits, since p < 2^128. */
static u128 mul_top64(uint64_t a, u128 p)
{
    return (u128)a * (uint64_t)(p >> 64) + (((u128)a * (uint64_t)p) >> 64);
}

/* 10^q as *m 2^*e, *m's top bit set, relative error below 2^-125. -1 when q is out of the
 * table's reach (never for the q a normal double needs). */
static int pow10_wide(int q, u128 *m, int *e)
{
    int j = q >= 0 ? q / 28 : -((27 - q) / 28);
    int b = q - 28 * j;
    if (j < -11 || j > 11)
        return -1;
    u128 fine = b <= 19 ? (u128)pow10_u64[b] : (u128)pow10_u64[19] * pow10_u64[b - 19];
    uint64_t fine_hi = (uint64_t)(fine >> 64);
    int shift = fine_hi ? __builtin_clzll(fine_hi) : 64 + __builtin_clzll((uint64_t)fine);
    fine <<= shift; /* exact: 10^b itself, normalised */
    u128 coarse = (u128)pow10_coarse[j + 11].hi << 64 | pow10_coarse[j + 11].lo;
    u128 t = mul_top128(coarse, fine);
    int te = pow10_coarse[j + 11].e - shift + 128;
    if (!(t >> 127)) {
        t <<= 1;
        te--;
    }
    *m = t;
    *e = te;
    return 0;
}

/* top 2^unit as a 64.64 fixed-point number; the caller keeps it below 2^62. */
static u128 to_fixed(u128 top, int unit)
{
    int s = unit + 64;
    return s >= 0 ? top << s : top >> -s;
}

/* Whether a and b (64.64) are too close for the error bound to tell which is larger. */
static int too_close(u128 a, u128 b)
{
    /* |a - b| < M exactly when a - b + M, modulo 2^128, is below 2M (both are below 2^127):
     * one comparison and no branch. */
    const u128 margin = (u128)1 << 32;
    return a - b + margin < 2 * margin;
}

/* Writes the low `count` decimal digits of d (leading zeros included) ending just before end,
 * two at a time from a table. */
static void put_digits(char *end, uint64_t d, int count)
{
    if (count > 8) { /* the low eight in 32-bit arithmetic, cheaper than 64-bit */
        uint32_t low = (uint32_t)(d % 100000000u);
        d /= 100000000u;
        for (int i = 0; i < 4; i++, low /= 100) {
            end -= 2;
            memcpy(end, digit_pairs + 2 * (low % 100), 2);
        }
        count -= 8;
    }
    uint32_t rest = (uint32_t)d;
    for (; count >= 2; count -= 2, rest /= 100) {
        end -= 2;
        memcpy(end, digit_pairs + 2 * (rest % 100), 2);
    }
    if (count)
        end[-1] = (char)('0' + rest % 10);
}

/* Writes d (p digits, or 10^p after a carry) at decimal exponent k the way %.{p}g does, into
 * buf (at least 32 bytes). The digits go straight to their places (a copy through a scratch
 * array stalled on reading back bytes just stored). Returns the length. */
static size_t put_g(char *buf, int neg, uint64_t d, int p, int k)
{
    if (d == pow10_u64[p]) {
        d = pow10_u64[p - 1];
        k++;
    }
    int nd = p; /* digits left once trailing zeros go, as %g drops them */
    while (nd > 1 && d % 10 == 0) {
        d /= 10;
        nd--;
    }
    char *out = buf;
    if (neg)
        *out++ = '-';
    if (k >= 0 && k < p) { /* ddd.ddd, or ddd000 when the digits end before the point */
        if (nd <= k + 1) {
            put_digits(out + nd, d, nd);
            memset(out + nd, '0', (size_t)(k + 1 - nd));
            out += k + 1;
        } else {
            int frac = nd - k - 1;
            put_digits(out + k + 1, d / pow10_u64[frac], k + 1);
            out[k + 1] = '.';
            put_digits(out + nd + 1, d % pow10_u64[frac], frac);
            out += nd + 1;
        }
    } else if (k < 0 && k >= -4) { /* 0.000ddd */
        memcpy(out, "0.000", 5);
        out += 1 - k;
        put_digits(out + nd, d, nd);
        out += nd;
    } else { /* d.ddde+XX */
        if (nd > 1) {
            put_digits(out + 1, d / pow10_u64[nd - 1], 1);
            out[1] = '.';
            put_digits(out + nd + 1, d % pow10_u64[nd - 1], nd - 1);
            out += nd + 1;
        } else {
            *out++ = (char)('0' + d);
        }
        *out++ = 'e';
        *out++ = k < 0 ? '-' : '+';
        int ak = k < 0 ? -k : k;
        if (ak >= 100)
            *out++ = (char)('0' + ak / 100);
        memcpy(out, digit_pairs + 2 * (ak % 100), 2);
        out += 2;
    }
    *out = '\0';
    return (size_t)(out - buf);
}

/* Rounds v (64.64, 10^16 <= v < 10^17) to `digits` significant digits, v / step to an
 * integer, and writes it when it reads back as x, that is lies strictly between the
 * midpoints lo and hi. Returns the length written, -1 when it does not read back, 0 when a
 * comparison is too close to call. */
static inline int try_digits(char *buf, int neg, int k, u128 v, u128 hi, u128 lo, int digits,
                             uint64_t step)
{
    /* A value that reads back lies in [lo, hi], integer parts included; with one unit to
     * spare for the error in lo and hi, no multiple of step there means no P-digit value
     * reads back. Two divisions by a constant settle most 15- and many 16-digit attempts. */
    uint64_t lo_whole = (uint64_t)(lo >> 64), hi_whole = (uint64_t)(hi >> 64);
    if ((hi_whole + 1) / step == (lo_whole - 2) / step)
        return -1;
    uint64_t whole = (uint64_t)(v >> 64);
    u128 rem = v - ((u128)(whole - whole % step) << 64);
    u128 half = (u128)step << 63;
    if (too_close(rem, half))
        return 0;
    uint64_t d = whole / step + (rem > half);
    u128 back = (u128)(d * step) << 64;
    if (too_close(back, hi) || too_close(back, lo))
        return 0;
    if (back < hi && back > lo)
        return (int)put_g(buf, neg, d, digits, k);
    return -1;
}

/* The fast path above: writes x into buf (at least 32 bytes) and returns the length, or 0
 * when x is zero, subnormal, the smallest normal, not finite, or too close to call. */
static size_t json_double_fast(double x, char *buf)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int neg = (int)(bits >> 63);
    int biased = (int)(bits >> 52 & 0x7ff);
    if (biased < 2 || biased == 0x7ff)
        return 0;
    uint64_t m = (bits & (((uint64_t)1 << 52) - 1)) | (uint64_t)1 << 52;
    int e2 = biased - 1075;
    /* k = floor(log10 x), or one less, as x >= 2^(e2 + 52); 78913 / 2^18 is log10(2) to
     * within 1e-6, so for |e2| < 1100 the estimate can be off by one more at most. The
     * loop corrects it, a step at a time. */
    long t = (long)(e2 + 52) * 78913;
    int k = (int)(t >= 0 ? t >> 18 : -((-t + 262143) >> 18));
    u128 p = 0, v = 0;
    int pe = 0, tries = 0;
    for (;;) {
        if (++tries > 3)
            return 0;
        /* Neighbouring values mostly share their scale: keep the last power of ten. */
        static _Thread_local struct {
            int q, e;
            u128 m;
        } last = {INT_MIN, 0, 0};
        if (last.q == 16 - k) {
            p = last.m;
            pe = last.e;
        } else if (pow10_wide(16 - k, &p, &pe) == 0) {
            last.q = 16 - k;
            last.m = p;
            last.e = pe;
        } else {
            return 0;
        }
        v = to_fixed(mul_top64(m, p), e2 + pe + 64);
        uint64_t whole = (uint64_t)(v >> 64);
        if (whole < pow10_u64[16])
            k--;
        else if (whole >= pow10_u64[17])
            k++;
        else
            break;
    }
    /* The midpoints to the neighbours, on v's scale. */
    u128 hi = to_fixed(mul_top64(2 * m + 1, p), e2 + pe + 63);
    u128 lo = m == (uint64_t)1 << 52 ? to_fixed(mul_top64(4 * m - 1, p), e2 + pe + 62)
                                     : to_fixed(mul_top64(2 * m - 1, p), e2 + pe + 63);
    /* Literal steps, so that the divisions become multiplications. */
    int r = try_digits(buf, neg, k, v, hi, lo, 15, 100);
    if (r < 0)
        r = try_digits(buf, neg, k, v, hi, lo, 16, 10);
    if (r < 0)
        r = try_digits(buf, neg, k, v, hi, lo, 17, 1);
    return r > 0 ? (size_t)r : 0;
}
#endif

int strbuf_json_double(strbuf *sb, double x)
{
    if (!isfinite(x))
        return strbuf_putn(sb, "null", 4);
    if (x == 0)
        return signbit(x) ? strbuf_putn(sb, "-0", 2) : strbuf_putn(sb, "0", 1);
    /* Formatted in place: at most 24 bytes ("-1.2345678901234567e-308") and the NUL. */
    int rc = strbuf_reserve(sb, 32);
    if (rc)
        return rc;
    char *buf = sb->s + sb->len;
#ifdef DBL_FAST
    size_t n = json_double_fast(x, buf);
    if (n) {
        sb->len += n;
        return 0;
    }
#endif
    /* The shortest of %.15g..%.17g that reads back exactly: short for humans, exact for tools. */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    sb->len += strlen(buf);
    return 0;
}

int strbuf_put_i64(strbuf *sb, int64_t x)
{
    int rc = strbuf_reserve(sb, 24);
    if (rc)
        return rc;
    char tmp[24];
    size_t n = 0;
    /* Digits from the unsigned magnitude: -INT64_MIN does not fit an int64_t. */
    uint64_t u = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    char *out = sb->s + sb->len;
    if (x < 0)
        *out++ = '-';
    while (n)
        *out++ = tmp[--n];
    *out = '\0';
    sb->len = (size_t)(out - sb->s);
    return 0;
}

const char *strbuf_str(const strbuf *sb)
{
    return sb->s ? sb->s : "";
}

void strbuf_clear(strbuf *sb)
{
    sb->len = 0;
    if (sb->s)
        sb->s[0] = '\0';
}

void strbuf_free(strbuf *sb)
{
    mem_free(sb->s);
    sb->s = NULL;
    sb->len = sb->cap = 0;
    sb->failed = 0;
}
