/* exercise.c: the exercise table, progress file, runner (through make) and the `tutor
 * exercise` command. See exercise.h. */
#include "exercise.h"
#include "../core/report.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../trace/mem.h"
#include "../../trace/proc.h"
#include "../../trace/status.h"

#ifndef TUTOR_SRCDIR
#define TUTOR_SRCDIR ""
#endif

/* The sanitizer build links exercises against sanitized libraries: say so to make. */
#if defined(__SANITIZE_ADDRESS__)
#define EX_SANITIZE "1"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EX_SANITIZE "1"
#endif
#endif
#ifndef EX_SANITIZE
#define EX_SANITIZE "0"
#endif

/* make's output kept for the report: compiler errors and the suite's lines are far less. */
#define EX_OUTPUT_CAP ((size_t)1 << 20)

/* ---- the table (exercises/exercises.mk lists the same ids and functions) ---- */

static const char *const fn_maxgap[] = {"maxgap_buckets", NULL};
static const char *const fn_combsum[] = {"combsum", NULL};
static const char *const fn_combsum2[] = {"combsum2", NULL};
static const char *const fn_knapsack[] = {"knap_2d", "knap_1d", NULL};
static const char *const fn_heap[] = {"heap_push", "heap_pop", "heap_heapify", NULL};
static const char *const fn_softmax[] = {"attn_row_softmax", "attn_softmax", NULL};
static const char *const fn_linear[] = {"attn_linear", NULL};
static const char *const fn_legs[] = {"hippo_legs_matrices", "hippo_legs_step_dense", NULL};
static const char *const fn_kernel[] = {"ssm_kernel", NULL};
static const char *const fn_vq[] = {"vq_assign", "vq_lloyd_step", NULL};
static const char *const fn_fusion[] = {"qknorm_heads_norm", "qknorm_mha", NULL};
static const char *const fn_mot[] = {"mot_mask", "mot_forward", NULL};
static const char *const fn_flow[] = {"flow_velocity", "flow_euler_step", NULL};

const exercise exercise_table[] = {
    {.id = "maxgap",
     .topic = "maxgap",
     .title = "maximum gap by buckets, in O(n)",
     .library = "algorithms/maxgap.c",
     .functions = fn_maxgap,
     .hints = {"n values spanning [lo, hi] have a gap of at least (hi - lo) / (n - 1) somewhere "
               "(pigeonhole): buckets narrower than that can never hold the answer inside one.",
               "Keep only each bucket's min and max. The answer is the largest "
               "bucket_min[b] - (max of the previous non-empty bucket), over non-empty b.",
               "maxgap_bucket_count(lo, hi, n, &size) gives count and size; b = (x - lo) / size "
               "in 64 bits; an empty bucket has min > max (start with INT_MAX, INT_MIN)."}},
    {.id = "combsum",
     .topic = "combsum",
     .title = "combination sum, candidates reusable",
     .library = "algorithms/combsum.c",
     .functions = fn_combsum,
     .hints = {"Sort the candidates; build combinations non-decreasing, so each is found once "
               "and in lexicographic order.",
               "solve(start, remaining): for i from start, if cand[i] > remaining stop (sorted: "
               "the rest are larger); else push cand[i], solve(i, remaining - cand[i]), pop.",
               "Count every call of solve (the root too) in res->calls; append a found "
               "combination to values and its end to offsets (offsets[0] = 0)."}},
    {.id = "combsum2",
     .topic = "combsum2",
     .title = "combination sum, each element once, no duplicates",
     .library = "algorithms/combsum.c",
     .functions = fn_combsum2,
     .hints = {"As combsum, but the recursion continues from i + 1: each element once.",
               "Equal values at the same depth would start the same combinations twice: skip "
               "cand[i] when i > start and cand[i] == cand[i - 1].",
               "The skip is per depth: [1 1 6] is still found, because the second 1 is taken at "
               "a deeper level (where i == start)."}},
    {.id = "knapsack",
     .topic = "knapsack",
     .title = "0/1 knapsack, 2-D table and 1-D row",
     .library = "algorithms/knapsack.c",
     .functions = fn_knapsack,
     .hints = {"f[i][j]: best value using the first i items within volume j. Item i-1 is either "
               "left out (f[i-1][j]) or taken (f[i-1][j - v] + w, when j >= v).",
               "In one row, j must run from capacity DOWN to v: f[j - v] then still holds the "
               "previous row's value. Upwards, an item could be taken twice.",
               "exact: start from f[0][0] = 0 and KNAP_NONE elsewhere, and never add to a "
               "KNAP_NONE cell. Chosen items: walk back from (n, C); item i-1 is in where "
               "f[i][j] != f[i-1][j]."}},
    {.id = "heap",
     .topic = "heap",
     .title = "heapq's binary heap: push, pop, heapify",
     .library = "algorithms/heap.c",
     .functions = fn_heap,
     .hints = {"Parent of i is (i - 1) / 2, children 2i + 1 and 2i + 2. Compare only with "
               "h->less(a, b, h->ctx) (a < b) and move elements of h->size bytes with memcpy.",
               "push = append + _siftdown (move up while item < parent). pop = take the root, "
               "put the last item in a hole at the root, _siftup.",
               "heapq's _siftup moves the hole to a LEAF along the smaller child (right unless "
               "left < right) without comparing with the item, then _siftdown's the item from "
               "there, no higher than the start. heapify: _siftup(i) for i = n/2 - 1 down to 0."}},
    {.id = "attn_softmax",
     .topic = "attention",
     .title = "stable softmax attention",
     .library = "models/attention.c",
     .functions = fn_softmax,
     .hints = {"softmax(x) = softmax(x - c) for any constant c: subtract the row's max and the "
               "largest exponent is exp(0) = 1.",
               "attn_softmax: S = Q K^T / sqrt(d) (S[i][j] = q_i . k_j / sqrt(d)), mask j > i "
               "with -INFINITY when causal, row softmax, then O = P V.",
               "With causal, row i has i + 1 live entries: take the max and the sum over j <= i "
               "only and write 0 for j > i. -inf entries give exp(-inf) = 0."}},
    {.id = "attn_linear",
     .topic = "attention",
     .title = "causal linear attention, recurrent form",
     .library = "models/attn_linear.c",
     .functions = fn_linear,
     .hints = {"Replace exp(q . k) by phi(q) . phi(k): then sum_j phi(q_i).phi(k_j) v_j = "
               "phi(q_i)^T (sum_j phi(k_j) v_j^T), and the sum can be kept as a state.",
               "Causal: S (d x dv) and z (d) start at 0; at step i add phi(k_i) v_i^T to S and "
               "phi(k_i) to z, then o_i = phi(q_i)^T S / (phi(q_i) . z + 1e-6).",
               "attn_phi(y, x, count, fmap) applies the feature map. Allocate phi(Q), phi(K), S "
               "and z once (mem_alloc), free them on every path."}},
    {.id = "hippo_legs",
     .topic = "hippo",
     .title = "HiPPO-LegS matrices and one online step",
     .library = "models/hippo.c",
     .functions = fn_legs,
     .hints = {"A[n][k] = -sqrt(2n+1) sqrt(2k+1) below the diagonal, -(n+1) on it, 0 above; "
               "B[n] = sqrt(2n+1). The step discretises (A/k, B/k) with step 1.",
               "euler: c += (A c + B f) / k. backward: solve (I - A/k) x = c + B f / k. "
               "bilinear: solve (I - A/(2k)) x = c + (A c) / (2k) + B f / k.",
               "I - a A is lower triangular: x_n = (y_n - sum_{j<n} M[n][j] x_j) / M[n][n]. "
               "zoh: ssm_discretize(Abar, Bbar, A, B, N, log1p(1.0 / k), SSM_ZOH) into work."}},
    {.id = "ssm_kernel",
     .topic = "ssm",
     .title = "the SSM convolution kernel",
     .library = "models/ssm.c",
     .functions = fn_kernel,
     .hints = {"Unroll the recurrence from x_0 = 0: y_k = sum_j C Abar^j Bbar u_{k-j} + D u_k, "
               "so K[j] = C Abar^j Bbar.",
               "Never form Abar^j: keep v = Abar^j Bbar and update it, v = Abar v, O(N^2) per "
               "step.",
               "Abar v reads every entry of v: write it to a second vector, then copy (or swap "
               "pointers). K[j] = C . v before the update."}},
    {.id = "vq",
     .topic = "vq",
     .title = "assignment + one Lloyd update (k-means)",
     .library = "models/vq.c",
     .functions = fn_vq,
     .hints = {"Assignment: each patch takes the code at the smallest squared distance; keep "
               "the first strictly smaller one, so ties go to the lowest k. Update: each code "
               "becomes the mean of the patches that chose it.",
               "A code no patch chose has no mean: leave its vector as it was (shift 0). "
               "Check every token is in [0, K) before you write anything, so an error leaves "
               "the codebook unchanged.",
               "vq_assign: two loops over k and j, d2 = sum_j (x[i][j] - c[k][j])^2, no "
               "expansion of the square. vq_lloyd_step: sums (K x d) and counts (K) from "
               "mem_calloc, one pass over the patches, then c_k = sums_k / n_k; free both."}},
    {.id = "fusion",
     .topic = "fusion",
     .title = "QK-normed causal attention",
     .library = "models/qknorm.c",
     .functions = fn_fusion,
     .hints = {"Each head is its own attention on columns h dh .. (h+1) dh - 1 of q, k and v. "
               "QK-Norm layer-normalises each row's dh entries of q and of k on their own, "
               "before the dot product.",
               "Copy a head's columns out (or index with stride d), normalise when qk_norm, "
               "S = q_h k_h^T / sqrt(dh) (dh, not d), -INFINITY for j > i when causal, then "
               "attn_row_softmax, entropy, and P_h v_h into the head's columns of out.",
               "Layer norm: mean and biased variance (divide by dh) of the dh entries, (u - mean) "
               "/ sqrt(var + eps) * gain[h dh + t] + bias[h dh + t]; eps 0 means QKNORM_EPS. "
               "Entropy skips P = 0 terms (0 log 0 = 0), so masked keys add nothing."}},
    {.id = "mot",
     .topic = "mot",
     .title = "the routed layer of a mixture of transformer experts",
     .library = "models/mot.c",
     .functions = fn_mot,
     .hints = {"Mask: j <= i, or same segment id and i is an image token.",
               "Pick e = L->ex[seq->modality[i]] for every norm and projection; only the softmax "
               "mixes tokens.",
               "Head h uses columns h*d_h.., scale 1/sqrt(d_h), -inf where the mask is 0, then "
               "attn_row_softmax; Z starts at zero."}},
    {.id = "flow",
     .topic = "flow",
     .title = "the exact rectified-flow field and an Euler step",
     .library = "models/flow.c",
     .functions = fn_flow,
     .hints = {"logw_k = log pi_k - d/2 log(2 pi s2_k) - |x - t mu_k|^2 / (2 s2_k), with "
               "s2_k = t^2 sigma_k^2 + (1 - t)^2: the log-posterior of component k, up to a "
               "constant.",
               "Subtract the largest logw, exp, normalise: w_k. Then v = sum_k w_k (mu_k + "
               "(t sigma_k^2 - (1 - t)) (x - t mu_k) / s2_k).",
               "Euler: x_p += h v(x_p, t) for each particle, h = t_{i+1} - t_i. Check t and "
               "t + h in [0, 1] first; traced, record t, h, v and x (at most "
               "FLOW_TRACE_PARTICLES rows)."}},
};
const size_t exercise_count = sizeof exercise_table / sizeof exercise_table[0];

static const char *const state_names[] = {"not started", "failing", "passing"};
/* The same words in the progress file, where a field has no spaces. */
static const char *const state_words[] = {"not-started", "failing", "passing"};

static char warning[512], warning_out[512];

static void warn(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static void warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(warning, sizeof warning, fmt, ap);
    va_end(ap);
}

const exercise *exercise_find(const char *id)
{
    for (size_t i = 0; i < exercise_count; i++)
        if (strcmp(exercise_table[i].id, id) == 0)
            return &exercise_table[i];
    return NULL;
}

const char *exercise_state_name(exercise_state s)
{
    return (unsigned)s < 3 ? state_names[s] : "?";
}

const char *exercise_warning(void)
{
    if (!warning[0])
        return NULL;
    memcpy(warning_out, warning, sizeof warning);
    warning[0] = '\0';
    return warning_out;
}

/* ---- paths ---- */

static const char *srcdir(void)
{
    const char *s = getenv("TUTOR_SRCDIR");
    return s && *s ? s : TUTOR_SRCDIR;
}

static int sources_present(const char *dir)
{
    strbuf p = STRBUF_INIT;
    strbuf_printf(&p, "%s/exercises/exercises.mk", dir);
    int ok = *dir && !p.failed && access(strbuf_str(&p), R_OK) == 0;
    strbuf_free(&p);
    return ok;
}

/* The student's file for ex into sb. */
static void work_file(strbuf *sb, const exercise *ex)
{
    const char *dir = getenv("TUTOR_EXERCISE_DIR");
    if (dir && *dir)
        strbuf_printf(sb, "%s/%s.c", dir, ex->id);
    else
        strbuf_printf(sb, "%s/exercises/work/%s.c", srcdir(), ex->id);
}

/* The progress file's directory into sb; 0, or TUTOR_ENOTFOUND when neither XDG_STATE_HOME
 * nor HOME says where it is. */
static int state_dir(strbuf *sb)
{
    const char *x = getenv("XDG_STATE_HOME");
    /* The XDG spec: a relative path is invalid and must be ignored. */
    if (x && x[0] == '/')
        return strbuf_printf(sb, "%s/tutor", x) ? TUTOR_ENOMEM : 0;
    const char *home = getenv("HOME");
    if (!home || !*home)
        return TUTOR_ENOTFOUND;
    return strbuf_printf(sb, "%s/.local/state/tutor", home) ? TUTOR_ENOMEM : 0;
}

/* The build folder make should use: TUTOR_BUILD, else the folder of this binary below the
 * sources (build-san/tutor, build-san/tests/test_x both give build-san), else "build". */
static void build_dir(strbuf *sb, const char *src)
{
    const char *b = getenv("TUTOR_BUILD");
    if (b && *b) {
        strbuf_puts(sb, b);
        return;
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    size_t len = strlen(src);
    if (n > 0) {
        exe[n] = '\0';
        if (len && strncmp(exe, src, len) == 0 && exe[len] == '/') {
            const char *first = exe + len + 1, *slash = strchr(first, '/');
            if (slash) {
                strbuf_putn(sb, first, (size_t)(slash - first));
                return;
            }
        }
    }
    strbuf_puts(sb, "build");
}

/* ---- progress ---- */

typedef struct progress {
    exercise_state state[sizeof exercise_table / sizeof exercise_table[0]];
    int hints[sizeof exercise_table / sizeof exercise_table[0]];
} progress;

static size_t index_of(const exercise *ex)
{
    return (size_t)(ex - exercise_table);
}

/* Renames a corrupt progress file to path.corrupt-N, the first N free (1 to 999; with all of
 * them taken it stays where it is rather than replace an older one). */
static void set_aside(const char *path, size_t line)
{
    strbuf to = STRBUF_INIT;
    int free_name = 0;
    for (int n = 1; n < 1000 && !free_name && !to.failed; n++) {
        strbuf_clear(&to);
        strbuf_printf(&to, "%s.corrupt-%d", path, n);
        free_name = !to.failed && access(strbuf_str(&to), F_OK) != 0;
    }
    char where[32];
    snprintf(where, sizeof where, "line %zu", line);
    if (free_name && rename(path, strbuf_str(&to)) == 0) {
        warn("tutor: the progress file %s did not parse (%s); it was set aside as %s and "
             "progress starts afresh",
             path, where, strbuf_str(&to));
    } else {
        warn("tutor: the progress file %s did not parse (%s) and could not be set aside", path,
             where);
    }
    strbuf_free(&to);
}

/* Parses one "id state hints" line into p; 0 or TUTOR_EFORMAT. Unknown ids are skipped, so
 * a newer tutor's file still loads. The words are split here rather than by sscanf, whose
 * "%63s" cut a longer word in two and read its tail as the next word ("<63 x>passing 1"
 * loaded), and whose "%d" is undefined past INT_MAX (glibc wrapped "4294967297" to 1). */
static int parse_line(char *line, progress *p)
{
    static const char space[] = " \t\r\n\v\f";
    char *word[3];
    int n = 0;
    for (char *s = line + strspn(line, space); *s; s += strspn(s, space)) {
        if (n == 3)
            return TUTOR_EFORMAT;
        word[n++] = s;
        s += strcspn(s, space);
        if (*s)
            *s++ = '\0';
    }
    /* hints: one digit, as save writes it. */
    if (n != 3 || word[2][0] < '0' || word[2][0] > '3' || word[2][1])
        return TUTOR_EFORMAT;
    int state = -1;
    for (int i = 0; i < 3; i++)
        if (strcmp(word[1], state_words[i]) == 0)
            state = i;
    if (state < 0)
        return TUTOR_EFORMAT;
    const exercise *ex = exercise_find(word[0]);
    if (ex) {
        p->state[index_of(ex)] = (exercise_state)state;
        p->hints[index_of(ex)] = word[2][0] - '0';
    }
    return 0;
}

/* Loads the progress into p (all "not started" when there is none). Returns 0, or an error
 * when the file cannot be read (p is then empty). A corrupt file is set aside and gives an
 * empty p and 0. */
static int load(progress *p)
{
    memset(p, 0, sizeof *p);
    strbuf path = STRBUF_INIT;
    int rc = state_dir(&path);
    if (!rc && strbuf_puts(&path, "/progress"))
        rc = TUTOR_ENOMEM;
    FILE *f = rc ? NULL : fopen(strbuf_str(&path), "r");
    if (!f) {
        if (!rc && errno != ENOENT) {
            warn("tutor: cannot read the progress file %s: %s", strbuf_str(&path), strerror(errno));
            rc = TUTOR_EIO;
        }
        strbuf_free(&path);
        return rc == TUTOR_ENOTFOUND ? 0 : rc;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    int bad = 0;
    while (!bad && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if ((size_t)len != strlen(line)) {
            bad = 1; /* a NUL byte inside: not text */
            break;
        }
        const char *s = line + strspn(line, " \t\r\n");
        if (*s == '#' || *s == '\0')
            continue;
        bad = parse_line(line, p) != 0;
    }
    free(line);
    if (!bad && ferror(f)) {
        /* Unreadable is not corrupt: leave the file alone and keep it from being rewritten. */
        warn("tutor: cannot read the progress file %s: %s", strbuf_str(&path), strerror(errno));
        fclose(f);
        memset(p, 0, sizeof *p);
        strbuf_free(&path);
        return TUTOR_EIO;
    }
    fclose(f);
    if (bad) {
        memset(p, 0, sizeof *p);
        set_aside(strbuf_str(&path), lineno);
    }
    strbuf_free(&path);
    return 0;
}

/* mkdir -p path, new folders with mode (before the umask). */
static int make_dirs(char *path, mode_t mode)
{
    for (char *s = path + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        int rc = mkdir(path, mode) != 0 && errno != EEXIST;
        *s = '/';
        if (rc)
            return -1;
    }
    return mkdir(path, mode) != 0 && errno != EEXIST ? -1 : 0;
}

/* Writes p: a temporary file next to the progress file, flushed to disk, then renamed over
 * it, so a crash at any point leaves the old file or the new one, never half of one. */
static int save(const progress *p)
{
    strbuf dir = STRBUF_INIT, path = STRBUF_INIT, tmp = STRBUF_INIT;
    int rc = state_dir(&dir);
    if (rc) {
        if (rc == TUTOR_ENOTFOUND)
            warn("tutor: neither XDG_STATE_HOME nor HOME is set: progress is not saved");
        strbuf_free(&dir);
        return rc;
    }
    strbuf_printf(&path, "%s/progress", strbuf_str(&dir));
    strbuf_printf(&tmp, "%s/progress.tmp-%ld", strbuf_str(&dir), (long)getpid());
    if (dir.failed || path.failed || tmp.failed) {
        rc = TUTOR_ENOMEM;
        goto out;
    }
    if (make_dirs(dir.s, 0700) != 0) {
        warn("tutor: cannot create %s: %s; progress is not saved", strbuf_str(&dir),
             strerror(errno));
        rc = TUTOR_EIO;
        goto out;
    }
    FILE *f = fopen(strbuf_str(&tmp), "w");
    if (!f) {
        warn("tutor: cannot write %s: %s; progress is not saved", strbuf_str(&tmp),
             strerror(errno));
        rc = TUTOR_EIO;
        goto out;
    }
    fputs("# tutor exercise progress: exercise, last result, hints shown (of 3)\n", f);
    for (size_t i = 0; i < exercise_count; i++)
        if (p->state[i] != EXERCISE_NOT_STARTED || p->hints[i])
            fprintf(f, "%s %s %d\n", exercise_table[i].id, state_words[p->state[i]], p->hints[i]);
    int failed = fflush(f) != 0 || fsync(fileno(f)) != 0;
    failed |= fclose(f) != 0;
    if (failed || rename(strbuf_str(&tmp), strbuf_str(&path)) != 0) {
        warn("tutor: cannot write %s: %s; progress is not saved", strbuf_str(&path),
             strerror(errno));
        unlink(strbuf_str(&tmp));
        rc = TUTOR_EIO;
    }
out:
    strbuf_free(&dir);
    strbuf_free(&path);
    strbuf_free(&tmp);
    return rc;
}

exercise_state exercise_status(const char *id)
{
    progress p;
    load(&p);
    const exercise *ex = exercise_find(id);
    if (ex)
        return p.state[index_of(ex)];
    int any = 0, started = 0, all_pass = 1;
    for (size_t i = 0; i < exercise_count; i++) {
        if (strcmp(exercise_table[i].topic, id) != 0)
            continue;
        any = 1;
        started |= p.state[i] != EXERCISE_NOT_STARTED;
        all_pass &= p.state[i] == EXERCISE_PASSING;
    }
    if (!any || !started)
        return EXERCISE_NOT_STARTED;
    return all_pass ? EXERCISE_PASSING : EXERCISE_FAILING;
}

/* ---- running ---- */

/* Appends s to sb in single quotes for sh. */
static void sh_quote(strbuf *sb, const char *s)
{
    strbuf_putc(sb, '\'');
    for (; *s; s++)
        if (*s == '\'')
            strbuf_puts(sb, "'\\''");
        else
            strbuf_putc(sb, *s);
    strbuf_putc(sb, '\'');
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Keeps the suite's own lines and drops CUnit's banner, its repeat of each failure and its
 * summary table (the suite prints the same things more readably). */
/* What filter_line keeps between lines. */
typedef struct filter {
    int in_summary, blank;
} filter;

/* Copies one line of make's output (with its newline) into report, leaving out CUnit's
 * banner, its run summary and make's own error lines, turning the suite's count line into
 * "exercise ID: N passed, N failed", and squeezing runs of blank lines. */
static void filter_line(filter *st, const char *line, const exercise *ex, strbuf *report)
{
    const char *s = line + strspn(line, " ");
    unsigned passed, failed;
    if (strstr(line, "CUnit - A unit testing framework") ||
        strstr(line, "http://cunit.sourceforge.net/") ||
        (starts_with(line, "Suite ") && strstr(line, " had failures:")) ||
        (line[0] == ' ' && strstr(s, ". exercise:")) || starts_with(line, "make: ***"))
        return;
    if (starts_with(line, "Run Summary:"))
        st->in_summary = 1;
    if (st->in_summary) {
        if (starts_with(line, "Elapsed time"))
            st->in_summary = 0;
        return;
    }
    if (sscanf(line, "student: %u passed, %u failed", &passed, &failed) == 2) {
        strbuf_printf(report, "exercise %s: %u passed, %u failed\n", ex->id, passed, failed);
        st->blank = 0;
        return;
    }
    int is_blank = *s == '\n' || *s == '\0';
    if (is_blank && st->blank)
        return;
    st->blank = is_blank;
    strbuf_puts(report, line);
}

/* Passes make's output (out, whole lines) through filter_line into report. */
static void filter_output(const strbuf *out, const exercise *ex, strbuf *report)
{
    filter st = {0, 1};
    strbuf line = STRBUF_INIT;
    for (const char *p = strbuf_str(out); *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        strbuf_clear(&line);
        strbuf_putn(&line, p, len);
        strbuf_putc(&line, '\n');
        if (line.failed)
            break;
        filter_line(&st, strbuf_str(&line), ex, report);
        p += len + (nl != NULL);
    }
    if (line.failed)
        report->failed = TUTOR_ENOMEM;
    strbuf_free(&line);
}

/* Copies the stub exercises/ID.c to the student's file `to` (never over an existing file),
 * creating its folder. 0, or 1 with a line in report. */
static int copy_stub(const char *src, const exercise *ex, const char *to, strbuf *report)
{
    strbuf stub = STRBUF_INIT, dir = STRBUF_INIT;
    strbuf_printf(&stub, "%s/exercises/%s.c", src, ex->id);
    const char *slash = strrchr(to, '/');
    strbuf_putn(&dir, to, slash ? (size_t)(slash - to) : 0);
    FILE *in = fopen(strbuf_str(&stub), "r"), *out = NULL;
    int rc = 1;
    if (!in) {
        strbuf_printf(report, "tutor exercise: cannot read the stub %s: %s\n", strbuf_str(&stub),
                      strerror(errno));
        goto done;
    }
    if (dir.len && make_dirs(dir.s, 0777) != 0) {
        strbuf_printf(report, "tutor exercise: cannot create %s: %s\n", strbuf_str(&dir),
                      strerror(errno));
        goto done;
    }
    /* "x": exclusive, so a file made meanwhile is never overwritten. */
    if (!(out = fopen(to, "wx"))) {
        strbuf_printf(report, "tutor exercise: cannot create %s: %s\n", to, strerror(errno));
        goto done;
    }
    char buf[4096];
    size_t n;
    int bad = 0;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        bad |= fwrite(buf, 1, n, out) != n;
    bad |= ferror(in) != 0;
    bad |= fclose(out) != 0;
    if (bad) {
        strbuf_printf(report, "tutor exercise: could not copy %s to %s\n", strbuf_str(&stub), to);
        unlink(to);
        goto done;
    }
    rc = 0;
done:
    if (in)
        fclose(in);
    strbuf_free(&stub);
    strbuf_free(&dir);
    return rc;
}

/* Runs one exercise; 0 passed, 1 failed, or a negative code (line in report). */
static int run_one(const exercise *ex, strbuf *report, exercise_cancel_fn cancel, void *ctx)
{
    const char *src = srcdir();
    if (!sources_present(src)) {
        strbuf_printf(
            report,
            "tutor exercise: the sources are not at '%s' (an installed tutor cannot build "
            "exercises): set TUTOR_SRCDIR to a checkout of tutor\n",
            src);
        return TUTOR_ENOTFOUND;
    }
    strbuf file = STRBUF_INIT, build = STRBUF_INIT, cmd = STRBUF_INIT;
    int rc = 1;
    work_file(&file, ex);
    build_dir(&build, src);
    int existed = access(strbuf_str(&file), F_OK) == 0;
    if (!existed && copy_stub(src, ex, strbuf_str(&file), report)) {
        rc = 1;
        goto out;
    }
    strbuf_puts(&cmd, "cd ");
    sh_quote(&cmd, src);
    strbuf_printf(&cmd,
                  " && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory "
                  "exercise TOPIC=%s SANITIZE=" EX_SANITIZE " BUILD=",
                  ex->id);
    sh_quote(&cmd, strbuf_str(&build));
#if defined(__clang__)
    strbuf_puts(&cmd, " CC=clang");
#endif
    strbuf_puts(&cmd, " EXERCISE_FILE=");
    sh_quote(&cmd, strbuf_str(&file));
    strbuf_puts(&cmd, " 2>&1");
    if (file.failed || build.failed || cmd.failed) {
        rc = TUTOR_ENOMEM;
        goto out;
    }
    strbuf_printf(report, "exercise %s: %s\nyour file: %s%s\n", ex->id, ex->title,
                  strbuf_str(&file), existed ? "" : " (a copy of the stub, made now)");
    /* With a cancel key (the UI), make and everything it starts run in a group of their
     * own, stopped together; from the CLI they stay in ours, so that Ctrl-C reaches them. */
    char *argv[] = {"sh", "-c", (char *)strbuf_str(&cmd), NULL};
    strbuf made = STRBUF_INIT;
    proc_run run = {.path = "/bin/sh",
                    .argv = argv,
                    .err = &made,
                    .cap = EX_OUTPUT_CAP,
                    .own_group = cancel != NULL,
                    .cancel = cancel,
                    .ctx = ctx,
                    .grace_ms = 2000};
    int status = proc_exec(&run);
    int run_errno = errno;
    filter_output(&made, ex, report);
    if (made.failed)
        report->failed = TUTOR_ENOMEM;
    strbuf_free(&made);
    if (run.cancelled) {
        strbuf_printf(report, "\nexercise %s: cancelled; nothing recorded\n", ex->id);
        rc = EXERCISE_CANCELLED;
        goto out;
    }
    if (status == -1) {
        strbuf_printf(report, "tutor exercise: cannot run make: %s\n", strerror(run_errno));
        rc = TUTOR_ENOTFOUND;
        goto out;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        strbuf_puts(report, "tutor exercise: make was not found (install build-essential)\n");
        rc = TUTOR_ENOTFOUND;
        goto out;
    }
    rc = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
    progress p;
    /* A file that could not be read is never overwritten with what little we know. */
    if (load(&p) == 0) {
        p.state[index_of(ex)] = rc == 0 ? EXERCISE_PASSING : EXERCISE_FAILING;
        save(&p);
    }
out:
    strbuf_free(&file);
    strbuf_free(&build);
    strbuf_free(&cmd);
    return rc;
}

int exercise_run(const char *id, strbuf *report)
{
    return exercise_run_cancellable(id, report, NULL, NULL);
}

int exercise_run_cancellable(const char *id, strbuf *report, exercise_cancel_fn cancel, void *ctx)
{
    const exercise *ex = exercise_find(id);
    if (ex)
        return run_one(ex, report, cancel, ctx);
    int any = 0, worst = 0;
    for (size_t i = 0; i < exercise_count; i++) {
        if (strcmp(exercise_table[i].topic, id) != 0)
            continue;
        if (any)
            strbuf_putc(report, '\n');
        any = 1;
        int rc = run_one(&exercise_table[i], report, cancel, ctx);
        if (rc < 0 || rc == EXERCISE_CANCELLED)
            return rc;
        worst |= rc;
    }
    if (!any) {
        strbuf_printf(report, "tutor exercise: no exercise '%s' (try 'tutor exercise')\n", id);
        return TUTOR_EINVAL;
    }
    return report->failed ? TUTOR_ENOMEM : worst;
}

/* ---- the command ---- */

static void report_warning(FILE *err)
{
    const char *w = exercise_warning();
    if (w)
        fprintf(err, "%s\n", w);
}

static int cmd_list(FILE *out, FILE *err)
{
    progress p;
    load(&p);
    strbuf sb = STRBUF_INIT, file = STRBUF_INIT;
    strbuf_printf(&sb, "%-13s %-10s %-12s %-6s %s\n", "exercise", "topic", "status", "hints",
                  "what you write");
    for (size_t i = 0; i < exercise_count; i++) {
        const exercise *ex = &exercise_table[i];
        strbuf_printf(&sb, "%-13s %-10s %-12s %d/3    %s\n", ex->id, ex->topic,
                      state_names[p.state[i]], p.hints[i], ex->title);
    }
    work_file(&file, &exercise_table[0]);
    const char *slash = strrchr(strbuf_str(&file), '/');
    strbuf_printf(&sb, "\nyour files: %.*s/ID.c (copied from exercises/ID.c on first run)\n",
                  slash ? (int)(slash - strbuf_str(&file)) : 0, strbuf_str(&file));
    strbuf_puts(&sb, "run one:    tutor exercise ID [--watch] [--hint] [--solution]\n");
    strbuf_free(&file);
    report_warning(err);
    int rc = report_emit(out, err, &sb);
    strbuf_free(&sb);
    return rc;
}

/* Writes text word-wrapped to width columns, each line after indent. */
static void put_wrapped(FILE *out, const char *text, const char *indent, size_t width)
{
    size_t col = 0;
    for (const char *p = text; *p;) {
        size_t word = strcspn(p, " ");
        if (col && col + 1 + word > width) {
            fputc('\n', out);
            col = 0;
        }
        if (!col)
            col = (size_t)fprintf(out, "%s", indent);
        else
            col += (size_t)fprintf(out, " ");
        col += (size_t)fprintf(out, "%.*s", (int)word, p);
        p += word;
        p += strspn(p, " ");
    }
    fputc('\n', out);
}

static int cmd_hint(const exercise *ex, FILE *out, FILE *err)
{
    progress p;
    int loaded = load(&p) == 0;
    size_t i = index_of(ex);
    int shown = p.hints[i] < 3 ? ++p.hints[i] : 3;
    if (loaded)
        save(&p);
    report_warning(err);
    /* The earlier ones again first, so the ladder reads as a whole. */
    for (int k = 1; k <= shown; k++) {
        fprintf(out, "%shint %d of 3 for %s:\n", k < shown ? "(seen) " : "", k, ex->id);
        put_wrapped(out, ex->hints[k - 1], "    ", 92);
    }
    if (shown == 3)
        fprintf(out,
                "(that was the last hint; 'tutor exercise %s --solution' shows the "
                "reference)\n",
                ex->id);
    return fflush(out) == 0 ? 0 : 1;
}

/* Appends to sb the definition of function fn found in the text src: from the line where it
 * starts (at column 0, not a prototype) to the first "}" at column 0. 0 or TUTOR_ENOTFOUND. */
static int extract(strbuf *sb, const char *src, const char *fn)
{
    size_t len = strlen(fn);
    for (const char *line = src; *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        const char *hit = NULL;
        for (const char *p = line; p + len < line + n; p++)
            if (strncmp(p, fn, len) == 0 && p[len] == '(' &&
                (p == line || p[-1] == ' ' || p[-1] == '*')) {
                hit = p;
                break;
            }
        int top = n > 0 && line[0] != ' ' && line[0] != '\t' && line[0] != '#' && line[0] != '/';
        if (hit && top) {
            /* A definition: the header runs to a line "{" with no ';' before it. */
            const char *body = strstr(line, "\n{\n");
            const char *semi = strchr(line, ';');
            if (body && (!semi || semi > body)) {
                const char *close = strstr(body, "\n}\n");
                if (close) {
                    strbuf_putn(sb, line, (size_t)(close + 3 - line));
                    return 0;
                }
            }
        }
        line = end ? end + 1 : line + n;
    }
    return TUTOR_ENOTFOUND;
}

static int cmd_solution(const exercise *ex, FILE *out, FILE *err)
{
    const char *src = srcdir();
    strbuf path = STRBUF_INIT, text = STRBUF_INIT, sb = STRBUF_INIT;
    strbuf_printf(&path, "%s/%s", src, ex->library);
    FILE *f = fopen(strbuf_str(&path), "r");
    int rc = 0;
    if (!f) {
        fprintf(err, "tutor exercise: cannot read the reference %s: %s (set TUTOR_SRCDIR)\n",
                strbuf_str(&path), strerror(errno));
        rc = 1;
        goto out;
    }
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        strbuf_putn(&text, buf, n);
    fclose(f);
    strbuf_printf(&sb,
                  "The reference for %s is the library's own code, %s (its static helpers are "
                  "there too):\n\n",
                  ex->id, strbuf_str(&path));
    for (const char *const *fn = ex->functions; *fn; fn++) {
        if (extract(&sb, strbuf_str(&text), *fn)) {
            fprintf(err, "tutor exercise: %s is not defined in %s\n", *fn, strbuf_str(&path));
            rc = 1;
            goto out;
        }
        strbuf_putc(&sb, '\n');
    }
    rc = report_emit(out, err, &sb);
out:
    strbuf_free(&path);
    strbuf_free(&text);
    strbuf_free(&sb);
    return rc;
}

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Runs and prints the report; returns the exit status, and the run's code through *code. */
static int run_and_print(const char *id, FILE *out, FILE *err, int *code)
{
    strbuf report = STRBUF_INIT;
    int rc = exercise_run(id, &report);
    int status;
    *code = rc;
    if (rc < 0 && rc != TUTOR_ENOMEM) {
        /* The report holds one line saying what is missing: it belongs on stderr. */
        fputs(strbuf_str(&report), err);
        status = rc == TUTOR_EINVAL ? 2 : 1;
    } else {
        status = report_emit(out, err, &report) ? 1 : rc != 0;
    }
    report_warning(err);
    strbuf_free(&report);
    return status;
}

static int mtime_of(const char *path, struct timespec *t)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    *t = st.st_mtim;
    return 0;
}

/* Runs, then runs again each time the student's file is saved, until Ctrl-C. */
static int cmd_watch(const exercise *ex, FILE *out, FILE *err)
{
    strbuf file = STRBUF_INIT;
    work_file(&file, ex);
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    interrupted = 0;
    sigaction(SIGINT, &sa, &old);
    int status = 0;
    while (!interrupted) {
        int code;
        status = run_and_print(ex->id, out, err, &code);
        if (code < 0 || interrupted)
            break;
        struct timespec seen = {0, 0}, now;
        mtime_of(strbuf_str(&file), &seen);
        fprintf(out, "\nwatching %s: save it to run the tests again (Ctrl-C stops)\n",
                strbuf_str(&file));
        fflush(out);
        for (;;) {
            struct timespec nap = {0, 250 * 1000 * 1000};
            nanosleep(&nap, NULL);
            if (interrupted)
                break;
            if (mtime_of(strbuf_str(&file), &now) == 0 &&
                (now.tv_sec != seen.tv_sec || now.tv_nsec != seen.tv_nsec))
                break;
        }
        if (!interrupted)
            fputs("\n", out);
    }
    sigaction(SIGINT, &old, NULL);
    if (interrupted)
        fputs("\nstopped watching\n", out);
    strbuf_free(&file);
    /* Ctrl-C is the normal way out: 0, unless the exercise could not run at all. */
    return interrupted ? 0 : status;
}

int exercise_cli(int argc, char **argv, FILE *out, FILE *err)
{
    const char *id = NULL;
    int watch = 0, hint = 0, solution = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--watch") == 0) {
            watch = 1;
        } else if (strcmp(a, "--hint") == 0) {
            hint = 1;
        } else if (strcmp(a, "--solution") == 0) {
            solution = 1;
        } else if (a[0] == '-') {
            report_error(err,
                         "tutor exercise: unknown option '%s' (expected --watch, --hint or "
                         "--solution)",
                         a);
            return 2;
        } else if (id) {
            report_error(err, "tutor exercise: expected one exercise, got '%s' and '%s'", id, a);
            return 2;
        } else {
            id = a;
        }
    }
    if (watch + hint + solution > 1) {
        fputs("tutor exercise: --watch, --hint and --solution are used one at a time\n", err);
        return 2;
    }
    if (!id) {
        if (watch || hint || solution) {
            fputs("tutor exercise: --watch, --hint and --solution need an exercise (try "
                  "'tutor exercise')\n",
                  err);
            return 2;
        }
        return cmd_list(out, err);
    }
    const exercise *ex = exercise_find(id);
    if (!ex) {
        int topic = 0;
        for (size_t i = 0; i < exercise_count; i++)
            topic |= strcmp(exercise_table[i].topic, id) == 0;
        if (!topic) {
            report_error(err, "tutor exercise: unknown exercise '%s' (try 'tutor exercise')", id);
            return 2;
        }
        if (watch || hint || solution) {
            report_error(err,
                         "tutor exercise: topic '%s' has several exercises: name one (try "
                         "'tutor exercise')",
                         id);
            return 2;
        }
        int code;
        return run_and_print(id, out, err, &code);
    }
    if (hint)
        return cmd_hint(ex, out, err);
    if (solution)
        return cmd_solution(ex, out, err);
    if (watch)
        return cmd_watch(ex, out, err);
    int code;
    return run_and_print(id, out, err, &code);
}
