#include "tty.h"

#include <ctype.h>
#include <langinfo.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <term.h>
#include <termios.h>
#include <unistd.h>
#include <wchar.h>

/* Colour pairs: 1..TTY_STYLE_COUNT for the styles, RAMP_PAIR0.. for the heatmap ramp. */
#define RAMP_PAIR0 64
#define RAMP_N     16

static const tty_glyphs glyphs_utf8 = {
    {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"},
    {"·", "░", "▒", "▓", "█"},
    "─",
    "│",
    "├─",
    "└─",
    "▶",
    "•",
    "…",
    "●",
    "✗",
    "✓",
    "┌",
    "┐",
    "└",
    "┘",
    "←",
    "→",
};

static const tty_glyphs glyphs_ascii = {
    {" ", ".", ",", "-", "~", "=", "+", "*", "#"},
    {".", ":", "+", "*", "#"},
    "-",
    "|",
    "|-",
    "`-",
    ">",
    "*",
    "~",
    "*",
    "x",
    "v",
    "+",
    "+",
    "+",
    "+",
    "<-",
    "->",
};

const tty_glyphs *tty_g = &glyphs_ascii;

static int colors;                         /* 0 none, 1 eight, 2 256 */
static attr_t style_attr[TTY_STYLE_COUNT]; /* attributes without the colour pair */
static short style_pair[TTY_STYLE_COUNT];
static tty_rect clip;
static int ascii_text; /* outside UTF-8: spell the text in ASCII (utf8_ascii) */

/* xterm-256 indices from dark blue through green to yellow: readable on dark and light
 * backgrounds and ordered by lightness, so it still reads in grey. */
static const short ramp256[RAMP_N] = {17, 18,  19,  25,  31,  37,  36,  35,
                                      71, 107, 143, 179, 215, 221, 227, 229};
static const short ramp8[5] = {COLOR_BLUE, COLOR_CYAN, COLOR_GREEN, COLOR_YELLOW, COLOR_RED};

static void style(int s, short fg, short bg, attr_t color_attr, attr_t mono_attr)
{
    if (colors) {
        init_pair((short)(s + 1), fg, bg);
        style_pair[s] = (short)(s + 1);
        style_attr[s] = color_attr;
    } else {
        style_pair[s] = 0;
        style_attr[s] = mono_attr;
    }
}

void tty_init(void)
{
    const char *cs = nl_langinfo(CODESET);
    tty_g =
        cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0) ? &glyphs_utf8 : &glyphs_ascii;
    ascii_text = tty_g == &glyphs_ascii;
    const char *nc = getenv("NO_COLOR");
    colors = 0;
    if (has_colors() && !(nc && *nc) && start_color() == OK) {
        colors = COLORS >= 256 && COLOR_PAIRS >= RAMP_PAIR0 + RAMP_N ? 2 : 1;
        use_default_colors();
    }
    short d = -1;
    style(TTY_NORMAL, d, d, A_NORMAL, A_NORMAL);
    style(TTY_TITLE, COLOR_BLACK, COLOR_CYAN, A_NORMAL, A_REVERSE);
    style(TTY_CURLINE, COLOR_BLACK, COLOR_YELLOW, A_NORMAL, A_REVERSE);
    style(TTY_BREAK, COLOR_RED, d, A_BOLD, A_BOLD);
    style(TTY_ERROR, COLOR_RED, d, A_BOLD, A_BOLD);
    style(TTY_OK, COLOR_GREEN, d, A_BOLD, A_BOLD);
    style(TTY_DIM, COLOR_BLUE, d, A_NORMAL, A_NORMAL);
    style(TTY_HEADING, COLOR_CYAN, d, A_BOLD, A_BOLD | A_UNDERLINE);
    style(TTY_CODE, COLOR_GREEN, d, A_NORMAL, A_NORMAL);
    style(TTY_KEY, COLOR_YELLOW, d, A_BOLD, A_BOLD);
    style(TTY_SELECT, COLOR_BLACK, COLOR_CYAN, A_NORMAL, A_REVERSE);
    style(TTY_PATH, COLOR_MAGENTA, d, A_BOLD | A_UNDERLINE, A_BOLD | A_UNDERLINE);
    style(TTY_ROLE + TRACE_CURRENT, COLOR_BLACK, COLOR_YELLOW, A_BOLD, A_REVERSE);
    style(TTY_ROLE + TRACE_COMPARE, COLOR_BLACK, COLOR_CYAN, A_NORMAL, A_BOLD);
    style(TTY_ROLE + TRACE_MOVE, COLOR_BLACK, COLOR_MAGENTA, A_NORMAL, A_BOLD);
    style(TTY_ROLE + TRACE_SOURCE, COLOR_BLUE, d, A_BOLD, A_UNDERLINE);
    style(TTY_ROLE + TRACE_WINNER, COLOR_BLACK, COLOR_GREEN, A_NORMAL, A_BOLD | A_UNDERLINE);
    style(TTY_ROLE + TRACE_CHOSEN, COLOR_GREEN, d, A_BOLD, A_BOLD);
    style(TTY_ROLE + TRACE_PRUNED, COLOR_RED, d, A_NORMAL, A_NORMAL);
    style(TTY_ROLE + TRACE_SKIPPED, COLOR_MAGENTA, d, A_NORMAL, A_NORMAL);
    style(TTY_ROLE + TRACE_FOUND, COLOR_BLACK, COLOR_GREEN, A_BOLD, A_REVERSE);
    if (colors == 2)
        for (int i = 0; i < RAMP_N; i++)
            init_pair((short)(RAMP_PAIR0 + i), ramp256[i], ramp256[i]);
    else if (colors == 1)
        for (int i = 0; i < 5; i++)
            init_pair((short)(RAMP_PAIR0 + i), ramp8[i], d);
    tty_clip_reset();
}

int tty_colors(void)
{
    return colors;
}

attr_t tty_attr(int s)
{
    if (s < 0 || s >= TTY_STYLE_COUNT)
        s = TTY_NORMAL;
    return style_attr[s] | COLOR_PAIR(style_pair[s]);
}

void tty_clip(tty_rect r)
{
    int y0 = r.y < 0 ? 0 : r.y, x0 = r.x < 0 ? 0 : r.x;
    int y1 = r.y + r.h, x1 = r.x + r.w;
    if (y1 > LINES)
        y1 = LINES;
    if (x1 > COLS)
        x1 = COLS;
    clip = (tty_rect){y0, x0, y1 > y0 ? y1 - y0 : 0, x1 > x0 ? x1 - x0 : 0};
}

void tty_clip_reset(void)
{
    tty_clip((tty_rect){0, 0, LINES, COLS});
}

/* Outside a UTF-8 locale the terminal cannot show our UTF-8 text (notes, listings, trace
 * messages), and the C library would decode each of its bytes as an invalid '?': "exp(Δ A)"
 * became "exp(?? A)". There the text is decoded as UTF-8 by hand and the characters the
 * notes and listings use are spelled in ASCII, sorted by code point for bsearch; any other
 * character is one '?'. */

typedef struct translit {
    unsigned cp;
    const char *ascii;
} translit;

static const translit translits[] = {
    {0xa0, " "},        {0xb1, "+/-"},     {0xb2, "^2"},     {0xb3, "^3"},     {0xb7, "*"},
    {0xb9, "^1"},       {0xbd, "1/2"},     {0xd7, "x"},      {0xe0, "a"},      {0xe1, "a"},
    {0xe4, "a"},        {0xe7, "c"},       {0xe8, "e"},      {0xe9, "e"},      {0xea, "e"},
    {0xf6, "o"},        {0xfc, "u"},       {0x100, "Abar"},  {0x101, "abar"},  {0x2e3, "^x"},
    {0x304, "bar"},     {0x391, "Alpha"},  {0x392, "Beta"},  {0x393, "Gamma"}, {0x394, "Delta"},
    {0x395, "Epsilon"}, {0x396, "Zeta"},   {0x397, "Eta"},   {0x398, "Theta"}, {0x399, "Iota"},
    {0x39a, "Kappa"},   {0x39b, "Lambda"}, {0x39c, "Mu"},    {0x39d, "Nu"},    {0x39e, "Xi"},
    {0x39f, "Omicron"}, {0x3a0, "Pi"},     {0x3a1, "Rho"},   {0x3a3, "Sigma"}, {0x3a4, "Tau"},
    {0x3a5, "Upsilon"}, {0x3a6, "Phi"},    {0x3a7, "Chi"},   {0x3a8, "Psi"},   {0x3a9, "Omega"},
    {0x3b1, "alpha"},   {0x3b2, "beta"},   {0x3b3, "gamma"}, {0x3b4, "delta"}, {0x3b5, "epsilon"},
    {0x3b6, "zeta"},    {0x3b7, "eta"},    {0x3b8, "theta"}, {0x3b9, "iota"},  {0x3ba, "kappa"},
    {0x3bb, "lambda"},  {0x3bc, "mu"},     {0x3bd, "nu"},    {0x3be, "xi"},    {0x3bf, "omicron"},
    {0x3c0, "pi"},      {0x3c1, "rho"},    {0x3c2, "sigma"}, {0x3c3, "sigma"}, {0x3c4, "tau"},
    {0x3c5, "upsilon"}, {0x3c6, "phi"},    {0x3c7, "chi"},   {0x3c8, "psi"},   {0x3c9, "omega"},
    {0x1d40, "^T"},     {0x2013, "-"},     {0x2014, "--"},   {0x2016, "||"},   {0x2018, "'"},
    {0x2019, "'"},      {0x201c, "\""},    {0x201d, "\""},   {0x2022, "*"},    {0x2026, "..."},
    {0x2070, "^0"},     {0x2074, "^4"},    {0x2075, "^5"},   {0x2076, "^6"},   {0x2077, "^7"},
    {0x2078, "^8"},     {0x2079, "^9"},    {0x207a, "^+"},   {0x207b, "^-"},   {0x2080, "_0"},
    {0x2081, "_1"},     {0x2082, "_2"},    {0x2083, "_3"},   {0x2190, "<-"},   {0x2191, "^"},
    {0x2192, "->"},     {0x2193, "v"},     {0x2202, "d"},    {0x2207, "grad"}, {0x2208, " in "},
    {0x2211, "sum"},    {0x2212, "-"},     {0x221a, "sqrt"}, {0x221e, "inf"},  {0x222b, "int"},
    {0x2248, "~="},     {0x2260, "!="},    {0x2261, "=="},   {0x2264, "<="},   {0x2265, ">="},
    {0x2297, "(x)"},    {0x2299, "(.)"},   {0x2500, "-"},    {0x2502, "|"},    {0x250c, "+"},
    {0x2510, "+"},      {0x2514, "+"},     {0x2518, "+"},    {0x251c, "+"},    {0x2581, "."},
    {0x2582, ","},      {0x2583, "-"},     {0x2584, "~"},    {0x2585, "="},    {0x2586, "+"},
    {0x2587, "*"},      {0x2588, "#"},     {0x2591, ":"},    {0x2592, "+"},    {0x2593, "*"},
    {0x25b6, ">"},      {0x25cf, "*"},     {0x2713, "v"},    {0x2717, "x"},
};

static int translit_cmp(const void *key, const void *elem)
{
    unsigned cp = *(const unsigned *)key, e = ((const translit *)elem)->cp;
    return (cp > e) - (cp < e);
}

/* Decodes one UTF-8 character at s (its first byte >= 0x80): returns its byte length and
 * sets *ascii to its ASCII spelling; a malformed, overlong or surrogate sequence is one
 * byte, spelled '?'. */
static size_t utf8_ascii(const char *s, const char **ascii)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = u[0] >= 0xf5   ? 0 /* never a lead byte */
                 : u[0] >= 0xf0 ? 4
                 : u[0] >= 0xe0 ? 3
                 : u[0] >= 0xc2 ? 2
                                : 0;
    unsigned cp = len == 4 ? u[0] & 0x07u : len == 3 ? u[0] & 0x0fu : u[0] & 0x1fu;
    *ascii = "?";
    if (len == 0)
        return 1;
    for (size_t i = 1; i < len; i++) {
        if ((u[i] & 0xc0) != 0x80) /* also stops at the terminating NUL */
            return 1;
        cp = cp << 6 | (u[i] & 0x3fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 1;
    const translit *t = bsearch(&cp, translits, sizeof translits / sizeof translits[0],
                                sizeof translits[0], translit_cmp);
    if (t)
        *ascii = t->ascii;
    return len;
}

void tty_set_ascii_text(int on)
{
    ascii_text = on != 0;
}

/* Decodes one character of s: its wide char, byte length and display width, with invalid
 * bytes as '?' and control characters as spaces. Returns 0 at the end of s. Outside UTF-8
 * (ascii_text), a character above ASCII comes back as *ascii, its ASCII spelling, whose
 * length is its width; *ascii is NULL otherwise. */
static size_t next_char(const char *s, mbstate_t *st, wchar_t *wc, int *cw, const char **ascii)
{
    *ascii = NULL;
    if (ascii_text && (unsigned char)*s >= 0x80) {
        size_t k = utf8_ascii(s, ascii);
        *wc = L'?';
        *cw = (int)strlen(*ascii);
        /* A spelled-out name before a letter or digit gets a space ("Delta A" for "ΔA"); the
         * caller draws a space past the spelling's end. */
        if (*cw > 1 && isalpha((unsigned char)(*ascii)[0]) && isalnum((unsigned char)s[k]))
            (*cw)++;
        return k;
    }
    size_t k = mbrtowc(wc, s, MB_CUR_MAX, st);
    if (k == 0)
        return 0;
    if (k == (size_t)-1 || k == (size_t)-2) {
        memset(st, 0, sizeof *st);
        *wc = L'?';
        k = 1;
    }
    if (*wc < 32 || *wc == 127) {
        *wc = L' ';
        *cw = 1;
        return k;
    }
    *cw = wcwidth(*wc);
    if (*cw < 0) {
        *wc = L'?';
        *cw = 1;
    }
    return k;
}

int tty_put(int y, int x, int maxw, int s, const char *text)
{
    if (!text)
        return 0;
    if (maxw < 0)
        maxw = clip.x + clip.w - x;
    int visible_row = y >= clip.y && y < clip.y + clip.h;
    if (s < 0 || s >= TTY_STYLE_COUNT)
        s = TTY_NORMAL;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    int col = 0;
    while (*text && col < maxw) {
        wchar_t wc;
        int cw;
        const char *ascii;
        size_t k = next_char(text, &st, &wc, &cw, &ascii);
        if (k == 0)
            break;
        text += k;
        if (cw == 0)
            continue; /* combining marks: dropped rather than risk a misplaced cell */
        if (col + cw > maxw)
            break;
        for (int i = 0; i < (ascii ? cw : 1); i++) {
            int cx = x + col + i, w = ascii ? 1 : cw;
            if (visible_row && cx >= clip.x && cx + w <= clip.x + clip.w) {
                wchar_t ws[2] = {ascii ? (wchar_t)(ascii[i] ? ascii[i] : ' ') : wc, 0};
                cchar_t cc;
                setcchar(&cc, ws, style_attr[s], style_pair[s], NULL);
                mvadd_wch(y, cx, &cc);
            }
        }
        col += cw;
    }
    return col;
}

int tty_putf(int y, int x, int maxw, int s, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return tty_put(y, x, maxw, s, buf);
}

int tty_put_ell(int y, int x, int maxw, int s, const char *text)
{
    if (!text || maxw <= 0)
        return 0;
    if (tty_width(text) <= maxw)
        return tty_put(y, x, maxw, s, text);
    int ew = tty_width(tty_g->ellipsis);
    char buf[1024];
    size_t k = tty_fit(text, maxw - ew);
    if (k >= sizeof buf)
        k = sizeof buf - 1;
    memcpy(buf, text, k);
    buf[k] = '\0';
    int w = tty_put(y, x, maxw - ew, s, buf);
    return w + tty_put(y, x + w, ew, s, tty_g->ellipsis);
}

void tty_fill(int y, int x, int w, int s)
{
    for (int i = 0; i < w; i++)
        tty_put(y, x + i, 1, s, " ");
}

int tty_width(const char *s)
{
    mbstate_t st;
    memset(&st, 0, sizeof st);
    int w = 0;
    for (;;) {
        wchar_t wc;
        int cw;
        const char *ascii;
        size_t k = next_char(s, &st, &wc, &cw, &ascii);
        if (k == 0)
            return w;
        s += k;
        w += cw;
    }
}

size_t tty_fit(const char *s, int w)
{
    mbstate_t st;
    memset(&st, 0, sizeof st);
    size_t bytes = 0;
    int col = 0;
    for (;;) {
        wchar_t wc;
        int cw;
        const char *ascii;
        size_t k = next_char(s + bytes, &st, &wc, &cw, &ascii);
        if (k == 0 || col + cw > w)
            return bytes;
        bytes += k;
        col += cw;
    }
}

size_t tty_char(const char *s, int *cw)
{
    mbstate_t st;
    memset(&st, 0, sizeof st);
    wchar_t wc;
    const char *ascii;
    return next_char(s, &st, &wc, cw, &ascii);
}

void tty_box(tty_rect r, int s)
{
    if (r.h < 2 || r.w < 2)
        return;
    for (int x = r.x + 1; x < r.x + r.w - 1; x++) {
        tty_put(r.y, x, 1, s, tty_g->hline);
        tty_put(r.y + r.h - 1, x, 1, s, tty_g->hline);
    }
    for (int y = r.y + 1; y < r.y + r.h - 1; y++) {
        tty_put(y, r.x, 1, s, tty_g->vline);
        tty_put(y, r.x + r.w - 1, 1, s, tty_g->vline);
    }
    tty_put(r.y, r.x, 1, s, tty_g->tl);
    tty_put(r.y, r.x + r.w - 1, 1, s, tty_g->tr);
    tty_put(r.y + r.h - 1, r.x, 1, s, tty_g->bl);
    tty_put(r.y + r.h - 1, r.x + r.w - 1, 1, s, tty_g->br);
}

void tty_put_ramp(int y, int x, int w, double t)
{
    if (!(t >= 0 && t <= 1)) {
        for (int i = 0; i < w; i++)
            tty_put(y, x + i, 1, TTY_NORMAL, " ");
        return;
    }
    if (y < clip.y || y >= clip.y + clip.h)
        return;
    const char *glyph = tty_g->shade[(int)(t * 4.999)];
    attr_t a = A_NORMAL;
    short pair = 0;
    if (colors == 2) {
        pair = (short)(RAMP_PAIR0 + (int)(t * (RAMP_N - 0.001)));
        glyph = " ";
    } else if (colors == 1) {
        pair = (short)(RAMP_PAIR0 + (int)(t * 4.999));
    }
    for (int i = 0; i < w; i++) {
        int cx = x + i;
        if (cx < clip.x || cx >= clip.x + clip.w)
            continue;
        wchar_t ws[2];
        mbstate_t st;
        memset(&st, 0, sizeof st);
        if (mbrtowc(&ws[0], glyph, strlen(glyph), &st) > strlen(glyph))
            ws[0] = L'#';
        ws[1] = 0;
        cchar_t cc;
        setcchar(&cc, ws, a, pair, NULL);
        mvadd_wch(y, cx, &cc);
    }
}

static SCREEN *screen;
static volatile sig_atomic_t stop_signal;
static struct sigaction old_int, old_term;
static int handlers_set;

/* For a crash (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT): the terminal's modes from before
 * curses and the escape sequences that leave curses' screen, captured at open time, so
 * the handler can restore the terminal with async-signal-safe calls only (write,
 * tcsetattr) before dying of the same signal. */
static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
#define NCRASH ((int)(sizeof crash_signals / sizeof crash_signals[0]))
static struct sigaction old_crash[NCRASH];
static struct termios saved_tty;
static int have_tty;
static char leave_seq[256];
static size_t leave_len;

static void on_crash(int sig)
{
    if (leave_len) {
        ssize_t k = write(STDOUT_FILENO, leave_seq, leave_len);
        (void)k;
    }
    if (have_tty)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Appends terminfo capability cap (when the terminal has it) to the leave sequence. */
static void leave_add(const char *cap)
{
    char *seq = tigetstr((char *)cap);
    if (!seq || seq == (char *)-1)
        return;
    size_t n = strlen(seq);
    if (leave_len + n < sizeof leave_seq) {
        memcpy(leave_seq + leave_len, seq, n);
        leave_len += n;
    }
}

/* Only a flag: curses is not async-signal-safe, so the input loop notices and unwinds. */
static void on_signal(int sig)
{
    stop_signal = sig;
}

int tty_open(char *err, size_t errlen)
{
    const char *term = getenv("TERM");
    if (!term || !*term) {
        snprintf(err, errlen, "TERM is not set, so the terminal type is unknown");
        return -1;
    }
    have_tty = tcgetattr(STDIN_FILENO, &saved_tty) == 0;
    screen = newterm(NULL, stdout, stdin);
    if (!screen) {
        snprintf(err, errlen, "cannot use the terminal type '%s' (TERM)", term);
        return -1;
    }
    set_term(screen);
    /* newterm accepts any terminal that is not hardcopy or generic, dumb included; one
     * that cannot move the cursor would get every screen as a scrolling mess. */
    char *cup = tigetstr("cup");
    if (!cup || cup == (char *)-1) {
        endwin();
        delscreen(screen);
        screen = NULL;
        snprintf(err, errlen, "the terminal type '%s' (TERM) cannot move the cursor", term);
        return -1;
    }
    leave_len = 0;
    leave_add("sgr0");
    leave_add("cnorm");
    leave_add("rmkx");
    leave_add("rmcup");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sa.sa_handler = on_crash;
    for (int k = 0; k < NCRASH; k++)
        sigaction(crash_signals[k], &sa, &old_crash[k]);
    handlers_set = 1;
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    tty_init();
    return 0;
}

void tty_close(void)
{
    if (screen) {
        endwin();
        delscreen(screen);
        screen = NULL;
    }
    if (handlers_set) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        for (int k = 0; k < NCRASH; k++)
            sigaction(crash_signals[k], &old_crash[k], NULL);
        handlers_set = 0;
    }
    leave_len = 0;
}

/* How often a wait for a key looks at the terminal's size. A resize signal that arrives
 * between curses' check for one and its blocking read is otherwise only noticed at the
 * next key (seen when valgrind slowed the tutor down: the screen kept its old size). */
#define TTY_SIZE_POLL_MS 250

/* Whether the terminal's size differs from the one curses draws for; if so, curses is told
 * (as its own resize handling would) and the caller reports KEY_RESIZE. */
static int size_changed(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0 || ws.ws_col == 0)
        return 0;
    if (!is_term_resized(ws.ws_row, ws.ws_col))
        return 0;
    resize_term(ws.ws_row, ws.ws_col);
    clearok(curscr, TRUE); /* what the terminal shows now is unknown: repaint it all */
    return 1;
}

int tty_key(int timeout_ms)
{
    if (stop_signal)
        return TTY_KEY_SIGNAL;
    int ch;
    if (timeout_ms < 0) {
        /* Waiting without end: wake now and then to catch a missed resize. */
        timeout(TTY_SIZE_POLL_MS);
        while ((ch = getch()) == ERR && !stop_signal)
            if (size_changed()) {
                ch = KEY_RESIZE;
                break;
            }
    } else {
        timeout(timeout_ms);
        ch = getch();
    }
    /* The clip rectangle was cut to the old size (tty_big_enough's message, a draw at a
     * smaller size): screens that draw before setting a clip of their own would lose
     * every column and row the terminal gained. */
    if (ch == KEY_RESIZE)
        tty_clip_reset();
    if (stop_signal)
        return TTY_KEY_SIGNAL;
    return ch;
}

int tty_signalled(void)
{
    return stop_signal;
}

int tty_big_enough(void)
{
    if (COLS >= TTY_MIN_COLS && LINES >= TTY_MIN_ROWS)
        return 1;
    erase();
    tty_clip_reset();
    char msg[96];
    snprintf(msg, sizeof msg, "The tutor needs at least %dx%d; this terminal is %dx%d.",
             TTY_MIN_COLS, TTY_MIN_ROWS, COLS, LINES);
    int y = LINES / 2 - 1;
    tty_put(y < 0 ? 0 : y, 0, COLS, TTY_ERROR, msg);
    tty_put(y + 1 < 0 ? 0 : y + 1, 0, COLS, TTY_NORMAL, "Enlarge the window, or press q to quit.");
    refresh();
    return 0;
}

int tty_pager_key(int ch, int *top, int page, int last)
{
    switch (ch) {
    case KEY_DOWN:
    case 'j':
    case KEY_ENTER:
    case '\r':
    case '\n': (*top)++; return 1;
    case KEY_UP:
    case 'k': (*top)--; return 1;
    case KEY_NPAGE:
    case ' ': *top += page - 1; return 1;
    case KEY_PPAGE:
    case 'b': *top -= page - 1; return 1;
    case KEY_HOME:
    case 'g': *top = 0; return 1;
    case KEY_END:
    case 'G': *top = last; return 1;
    }
    return 0;
}
