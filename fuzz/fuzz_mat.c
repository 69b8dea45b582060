/* fuzz_mat.c: mat_load and mat_load_vec (models/mat.c), the reader of every matrix and
 * vector file the CLI takes (--Q, --K, --V, the SSM's --A ... files).
 *
 * Control byte: bit 0 caps the file at 16 values (the TUTOR_ETOOBIG path), bit 1 loads a
 * vector instead of a matrix, bit 7 injects an allocation failure (common.h).
 *
 * Beyond the sanitizers it checks the contract: an error is one line and *out untouched;
 * a success holds exactly the numbers an independent reading of the file finds (so no
 * byte is skipped or a value cut short), all finite, in a rows x cols shape. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../models/mat.h"
#include "../trace/status.h"
#include "common.h"

/* The oracle: the file's tokens between separators (outside # comments), each parsed
 * whole by strtod. Returns how many there are, or SIZE_MAX when one is not a whole number,
 * and stores up to max values in v. */
static size_t reference(const uint8_t *data, size_t size, double *v, size_t max)
{
    size_t count = 0, i = 0;
    while (i < size) {
        uint8_t c = data[i];
        if (c == '#') {
            while (i < size && data[i] != '\n')
                i++;
            continue;
        }
        if (strchr(" \t\r\n\v\f,", c) && c) {
            i++;
            continue;
        }
        size_t start = i;
        while (i < size && !(data[i] && strchr(" \t\r\n\v\f,#", data[i])))
            i++;
        char tok[160];
        size_t len = i - start;
        if (len >= sizeof tok)
            return SIZE_MAX;
        memcpy(tok, data + start, len);
        tok[len] = '\0';
        char *end;
        double x = strtod(tok, &end);
        if (end != tok + len || !isfinite(x))
            return SIZE_MAX;
        if (count < max)
            v[count] = x;
        count++;
    }
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned ctl = fz_control(&data, &size);
    const char *path = fz_file("m.txt", data, size);
    size_t cap = ctl & 1 ? 16 : 0;
    double *a = NULL;
    size_t rows = 7, cols = 7;
    char err[200];
    int armed = fz_alloc_fail(ctl);
    int rc = ctl & 2 ? mat_load_vec(path, cap, &a, &rows, err, sizeof err)
                     : mat_load(path, cap, &a, &rows, &cols, err, sizeof err);
    fz_alloc_end();
    if (rc) {
        fz_one_line("mat_load", err);
        if (a || rows != 7 || cols != 7)
            fz_fail("mat_load: an error (%d) changed the outputs", rc);
        if (rc == TUTOR_ENOMEM && !armed)
            fz_fail("mat_load: out of memory with no failure injected");
        return 0;
    }
    size_t n = ctl & 2 ? rows : rows * cols;
    double *want = malloc((n ? n : 1) * sizeof *want);
    size_t found = want ? reference(data, size, want, n) : 0;
    if (want && found != n)
        fz_fail("mat_load: read %zu values where the file holds %zu (SIZE_MAX: not numbers)", n,
                found);
    for (size_t i = 0; want && i < n; i++)
        if (!isfinite(a[i]) || a[i] != want[i])
            fz_fail("mat_load: value %zu is %g, the file says %g", i, a[i], want[i]);
    free(want);
    mat_free(a);
    return 0;
}
