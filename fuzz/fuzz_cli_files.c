/* fuzz_cli_files.c: `tutor run` with its matrix and signal files (cli_main in-process),
 * the same files fuzz_mat.c feeds to mat_load, here followed past the loader: the shape
 * checks of each topic and the models the numbers reach (attention, HiPPO, the SSMs).
 *
 * Input: a control byte, then up to five files separated by "\n====\n"; an option takes
 * the file of its place in the command, the last one when there are fewer. Control bits
 * 0-2 pick the command (see commands below), bit 7 injects an allocation failure
 * (common.h).
 *
 * Beyond the sanitizers, the CLI's contract: exit 0 with nothing on stderr; or 2 (bad
 * input) with nothing on stdout and exactly one line on stderr; or 1 only when an
 * allocation was made to fail. */
#include <stdio.h>

#include "common.h"

#define MAXF 5

/* Each command's words; "@k" stands for the path of file k. */
static const char *const commands[8][20] = {
    {"run", "attention", "--variant", "softmax", "--Q", "@0", "--K", "@1", "--V", "@2", "--json"},
    {"run", "attention", "--variant", "linear", "--causal", "--Q", "@0", "--K", "@1", "--V", "@2"},
    {"run", "attention", "--variant", "performer", "--Q", "@0", "--K", "@1", "--V", "@2",
     "--features", "@3", "--json"},
    {"run", "attention", "--variant", "flash", "--Q", "@0", "--K", "@1", "--V", "@2", "--trace"},
    {"run", "hippo", "--signal", "@0", "--N", "4", "--json"},
    {"run", "hippo", "--measure", "legt", "--signal", "@0", "--method", "zoh", "--trace"},
    {"run", "ssm", "--kind", "lti", "--A", "@0", "--B", "@1", "--C", "@2", "--u", "@3", "--dt",
     "0.1", "--method", "zoh", "--json"},
    {"run", "ssm", "--kind", "mamba", "--A", "@0", "--B", "@1", "--C", "@2", "--u", "@3", "--delta",
     "@4", "--json"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char sep[] = "\n====\n";
    static char paths[MAXF][256];
    unsigned ctl = fz_control(&data, &size);
    size_t nfiles = 0;
    while (nfiles < MAXF) {
        const uint8_t *end = fz_find(data, size, sep, sizeof sep - 1);
        size_t len = end && nfiles + 1 < MAXF ? (size_t)(end - data) : size;
        char name[16];
        snprintf(name, sizeof name, "f%zu.txt", nfiles);
        snprintf(paths[nfiles++], sizeof paths[0], "%s", fz_file(name, data, len));
        if (len == size)
            break;
        data += len + sizeof sep - 1;
        size -= len + sizeof sep - 1;
    }
    char *argv[21];
    int argc = 0;
    argv[argc++] = "tutor";
    for (const char *const *w = commands[ctl & 7]; *w; w++) {
        size_t k = (*w)[0] == '@' ? (size_t)((*w)[1] - '0') : MAXF;
        argv[argc++] = k < MAXF ? paths[k < nfiles ? k : nfiles - 1] : (char *)*w;
    }
    argv[argc] = NULL;

    fz_cli(argc, argv, ctl, NULL);
    return 0;
}
