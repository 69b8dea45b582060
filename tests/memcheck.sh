#!/bin/sh
# memcheck.sh: runs `tutor` under valgrind memcheck over a sweep of the command line (every
# topic and mode, traced and untraced, JSON and text, bad inputs, plots, exercises) and
# fails when any run reads uninitialised memory, leaks (definitely or indirectly), leaves a
# file descriptor of its own open at exit, or exits with another status than expected.
# It finds what ASan and UBSan cannot; build tutor plainly (no SANITIZE) at -O1 -g first:
#   make BUILD=build-vg OPT='-O1 -g' && tests/memcheck.sh
# About 15 minutes on 2 CPUs: each run pays valgrind's start-up, and the plots time sweeps.
# Only definite and indirect leaks count: ncurses and OpenBLAS keep memory reachable (or
# "possibly lost" in caches) by design, and no run here needs a suppression.
#
# usage: tests/memcheck.sh [TUTOR]   (default build-vg/tutor)
# env:   JOBS (parallel runs, default: the number of CPUs), VG_OUT (the logs; default a
#        fresh temporary folder, kept when something failed), FILTER (a grep -E pattern:
#        only the cases whose line matches), VALGRIND (default valgrind).
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
tutor=$(cd "$(dirname "${1:-$here/build-vg/tutor}")" && pwd)/$(basename "${1:-tutor}")
[ -x "$tutor" ] || { echo "memcheck: no tutor binary at $tutor" >&2; exit 2; }
vg=${VALGRIND:-valgrind}
command -v "$vg" >/dev/null || { echo "memcheck: valgrind is not installed" >&2; exit 2; }
out=${VG_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/tutor-memcheck.XXXXXX")}
in=$out/in
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

# ---- one case (xargs runs this script once per case): MEMCHECK_ONE=N runs line N ----
if [ "${MEMCHECK_ONE:-}" ]; then
    n=$MEMCHECK_ONE
    line=$(sed -n "${n}p" "$out/cases")
    eval "set -- $line"
    want=$1
    shift
    # NAME=value words before the arguments go to tutor's environment.
    vars=
    while [ $# -gt 0 ] && [ "${1%%=*}" != "$1" ] && [ -z "$(printf %s "${1%%=*}" | tr -d A-Z_)" ]; do
        vars="$vars $1"
        shift
    done
    log=$out/logs/$n.log
    # shellcheck disable=SC2086 # $vars: words on purpose
    env TUTOR_EXERCISE_DIR="$out/ex" XDG_STATE_HOME="$out/state" TUTOR_SRCDIR="$here" \
        TUTOR_BUILD="${TUTOR_BUILD:-build-vg}" $vars \
        "$vg" --quiet --track-origins=yes --leak-check=full \
        --errors-for-leak-kinds=definite,indirect --track-fds=yes --error-exitcode=99 \
        --child-silent-after-fork=yes --num-callers=30 --log-file="$log" \
        "$tutor" "$@" > "$out/logs/$n.out" 2> "$out/logs/$n.err" < /dev/null
    rc=$?
    # An fd of ours open at exit shows where it was opened; the inherited ones say so.
    fds=$(awk '/Open (file|AF_UNIX socket) descriptor/ { getline nx; if (nx !~ /inherited/) n++ }
               END { print n + 0 }' "$log")
    verdict=ok
    [ "$rc" -eq "$want" ] || verdict=FAIL
    [ "$fds" -eq 0 ] || verdict=FAIL
    printf '%s %3d status %d (want %s) fds %s: %s\n' "$verdict" "$n" "$rc" "$want" "$fds" "$line"
    exit 0
fi

mkdir -p "$out/logs" "$in" "$out/plots" "$out/ex" "$out/state"

# ---- inputs: matrices in numpy.savetxt's format, signals, and some broken files ----
printf '# 4 x 3\n0.1 -0.2 0.3\n0.5 0.4 -0.1\n-0.3 0.2 0.7\n0.9 -0.8 0.05\n' > "$in/q.txt"
printf '0.2 0.1 -0.4\n0.3 -0.5 0.6\n0.1 0.1 0.1\n-0.7 0.2 0.3\n' > "$in/k.txt"
printf '1 2\n3 4\n5 6\n7 8\n' > "$in/v.txt"
printf '0.5 -0.5 0.25\n0.1 0.2 0.3\n0.3 0.2 0.1\n-1 1 0\n0.4 0.4 0.4\n-0.2 0 0.2\n' \
    > "$in/w.txt"                                           # performer features, m = 6 x d = 3
printf '0.1 0.2 0.3 0.4\n0.5 0.6 0.7 0.8\n-0.1 -0.2 0.3 0.1\n' > "$in/x.txt"   # gau --X, 3 x 4
printf '0.5 0 0.1\n0 0.5 0\n-0.2 0 0.5\n' > "$in/w3.txt"   # fusion's projections, 3 x 3
printf '1 2 3\n4 5\n' > "$in/ragged.txt"
printf '1 2 x\n' > "$in/word.txt"
printf '1 nan 3\n' > "$in/nan.txt"
: > "$in/empty.txt"
printf '0\n0.5\n1\n0.5\n0\n-0.5\n-1\n-0.5\n0\n0.5\n' > "$in/signal.txt"
printf '1e999\n' > "$in/huge.txt"
printf -- '-0.5 0.1\n0 -0.3\n' > "$in/lti_a.txt"           # lti: N = 2
printf '1\n0.5\n' > "$in/lti_b.txt"
printf '0.3\n-0.2\n' > "$in/lti_c.txt"
printf '1\n0\n0\n0.5\n-1\n' > "$in/u1.txt"                   # L = 5 samples
# mamba, L = 3, D = 2, N = 2
printf '1 0\n0 1\n0.5 -0.5\n' > "$in/m_u.txt"
printf '0.1 0.2\n-0.3 0.4\n0 0\n' > "$in/m_delta.txt"
printf -- '-1 -2\n-0.5 -1\n' > "$in/m_a.txt"
printf '1 0\n0 1\n1 1\n' > "$in/m_b.txt"
printf '0.5 0.5\n1 0\n0 1\n' > "$in/m_c.txt"
printf '0.1\n0.2\n' > "$in/m_d.txt"
printf '1 -1\n0 2\n0.5 0.5\n' > "$in/m_z.txt"
printf '# weight mu_x mu_y sigma\n1 -2 0 0.5\n2 2 1 0.3\n' > "$in/flow_mix.txt"
printf '1 0 0 1\n0 1 1 1\n' > "$in/flow_w0.txt"                # flow: a weight 0
# vq: 4 patches of d = 2, a codebook of 3 codes (a duplicate: dead), one of width 3
printf '0 0\n1 1\n0.9 1\n5 5\n' > "$in/vq_x.txt"
printf '0 0\n1 1\n1 1\n' > "$in/vq_c.txt"
printf '0 0 0\n1 1 1\n' > "$in/vq_c3.txt"
mkdir -p "$in/bench"
cp "$here"/bench/out/*.csv "$in/bench/" 2>/dev/null ||
    printf 'n,comparisons,per_element\n1000,1626,1.626\n' > "$in/bench/heap_heapify.csv"
printf 'case,size\n"maxgap\n' > "$in/badbench.csv"
mkdir -p "$in/badbench" && cp "$in/badbench.csv" "$in/badbench/maxgap.csv"
: > "$in/notadir"
mkdir -p "$in/bench1" "$in/bench2"
cp "$in/bench/heap_heapify.csv" "$in/bench1/" 2>/dev/null
printf 'case,size,n,ours,peer,ours_median_s,ours_min_s,peer_median_s,peer_min_s,ratio,need,verdict,note\n# no rows\n' \
    > "$in/bench2/ssm.csv"

# ---- the cases: EXPECTED-STATUS then the arguments, as shell words ----
cat > "$out/cases" <<EOF
0 --help
0 --version
0
0 list
0 list --json
0 help
2 help nosuchtopic
2 frobnicate
2 run
2 run nosuchtopic
2 list --bogus
0 run maxgap --nums "3 6 9 1"
0 run maxgap --nums "3,6,9,1" --json
0 run maxgap --nums "3 6 9 1" --trace
0 run maxgap --nums "3 6 9 1" --trace --json
0 run maxgap --nums "-2147483648 2147483647 0 5" --json --trace
0 run maxgap --nums "7"
0 run maxgap --nums "" --json
0 run maxgap --nums "5 5 5 5" --trace
2 run maxgap
2 run maxgap --nums "1 x2"
2 run maxgap --nums "2147483648"
2 run maxgap --nums "1 2" --bogus
2 run maxgap --nums
2 run maxgap --nums "1 2" --seed x
0 run combsum --candidates "2 3 6 7" --target 7
0 run combsum --candidates "2 3 6 7" --target 7 --json --trace
0 run combsum --candidates "2 3 5" --target 8 --trace
0 run combsum --candidates "" --target 3 --json
2 run combsum --candidates "2 2" --target 4
2 run combsum --candidates "0 1" --target 4
2 run combsum --candidates "2 3" --target 0
2 run combsum --candidates "1 2" --target 40 --max-results 3
2 run combsum --candidates "1 2" --target 40 --max-calls 10 --json --trace
0 run combsum2 --candidates "10 1 2 7 6 1 5" --target 8
0 run combsum2 --candidates "10 1 2 7 6 1 5" --target 8 --json --trace
0 run combsum2 --candidates "1 1 1 1" --target 2 --trace
2 run combsum2 --candidates "1 -1" --target 2
2 run combsum2 --candidates "1 1 2 2 3 3 4 4 5 5" --target 10 --max-results 2
0 run knapsack --capacity 5 --items "1:2 2:4 3:4 4:5"
0 run knapsack --capacity 5 --items "1:2 2:4 3:4 4:5" --json --trace
0 run knapsack --capacity 5 --items "1:2 2:4 3:4 4:5" --method 1d --json --trace
0 run knapsack --capacity 5 --items "1:2 2:4 3:4 4:5" --method 1d --ascending --trace
0 run knapsack --capacity 5 --items "2:3 4:5" --exact --json --trace
0 run knapsack --capacity 5 --items "2:3 4:5" --exact --method 1d --json
0 run knapsack --capacity 0 --items "0:3 1:5" --json
0 run knapsack --capacity 3 --items "" --trace
2 run knapsack --capacity 5 --items "1:2 3"
2 run knapsack --capacity -1 --items "1:2"
2 run knapsack --capacity 5 --items "1:2" --method 3d
2 run knapsack --capacity 5 --items "1:2" --ascending
2 run knapsack --capacity 2000000000 --items "1:1 2:2 3:3 4:4 5:5 6:6 7:7 8:8"
0 run heap --ops "push 5; push 3; pop; heapify 9 8 7; pushpop 4; replace 2"
0 run heap --ops "push 5; push 3; pop; heapify 9 8 7; pushpop 4; replace 2" --json --trace
0 run heap --ops "push 1; pushpop 0; push 2; replace 3" --trace
2 run heap --ops "pop"
2 run heap --ops "replace 1" --json
2 run heap --ops "push"
2 run heap --ops "frob 3"
0 run heap --nsmallest 3 --nums "5 1 4 1 5 9 2 6" --json --trace
0 run heap --nlargest 3 --nums "5 1 4 1 5 9 2 6" --trace
0 run heap --nsmallest 0 --nums "5 1" --json
0 run heap --nlargest 9 --nums "5 1" --json
0 run heap --merge "1 4 7 | 2 5 | 3" --json --trace
0 run heap --merge "7 4 1 | 5 2 | 3" --reverse --trace
0 run heap --merge "" --json
2 run heap --merge "1 3 2"
0 run heap --heapsort "5 2 9 1 7" --json --trace
0 run heap --heapsort "5 2 9 1 7"
2 run heap --nsmallest 3
2 run heap --ops "push 1" --merge "1"
2 run heap
0 run attention --variant softmax --n 6 --d 4 --seed 1
0 run attention --variant softmax --causal --n 6 --d 4 --json --trace
0 run attention --variant softmax --Q $in/q.txt --K $in/k.txt --V $in/v.txt --json
0 run attention --variant sparse --n 9 --d 2 --trace
0 run attention --variant sparse --pattern fixed --block 3 --summary 2 --n 9 --d 2 --json --trace
0 run attention --variant sparse --pattern strided --stride 2 --n 7 --d 3 --json
0 run attention --variant linear --n 8 --d 2 --json --trace
0 run attention --variant linear --causal --n 8 --d 2 --trace
0 run attention --variant linear --feature-map relu --causal --n 5 --d 3 --json
0 run attention --variant performer --n 6 --d 3 --m 12 --json --trace
0 run attention --variant performer --causal --Q $in/q.txt --K $in/k.txt --V $in/v.txt --features $in/w.txt --json
0 run attention --variant gau --n 6 --d 4 --json --trace
0 run attention --variant gau --X $in/x.txt --json --trace
0 run attention --variant gau --causal --X $in/x.txt
0 run attention --variant flash --n 9 --d 2 --chunk 3 --json --trace
0 run attention --variant flash --X $in/x.txt --chunk 2 --json
0 run attention --variant flash --causal --n 10 --d 2 --trace
0 run attention --variant transnormer --n 6 --d 3 --json --trace
0 run attention --variant transnormer --causal --n 6 --d 3
0 run attention --variant diag --n 8 --d 2 --block 3 --json --trace
0 run attention --variant diag --causal --n 8 --d 2
0 run attention --variant softmax --n 300 --d 2 --json
2 run attention --variant nosuch --n 4 --d 2
2 run attention --n 0 --d 2
2 run attention --n 4 --d 600
2 run attention --Q $in/q.txt --K $in/k.txt
2 run attention --Q $in/ragged.txt --K $in/k.txt --V $in/v.txt
2 run attention --Q $in/word.txt --K $in/k.txt --V $in/v.txt
2 run attention --Q $in/nan.txt --K $in/k.txt --V $in/v.txt
2 run attention --Q $in/empty.txt --K $in/k.txt --V $in/v.txt
2 run attention --Q $in/nosuch.txt --K $in/k.txt --V $in/v.txt
2 run attention --Q $in --K $in/k.txt --V $in/v.txt
2 run attention --Q $in/q.txt --K $in/k.txt --V $in/x.txt
2 run attention --variant performer --n 4 --d 3 --features $in/v.txt
2 run attention --variant sparse --pattern fixed --block 2 --summary 5 --n 6 --d 2
2 run attention --variant gau --X $in/ragged.txt
0 run hippo
0 run hippo --measure legs --N 8 --method zoh
0 run hippo --measure legs --N 8 --method zoh --json --trace
0 run hippo --measure legs --N 4 --dense --method euler --trace --length 16
0 run hippo --measure legs --N 4 --method backward --signal-kind step --length 12 --json
0 run hippo --measure legt --N 6 --method bilinear --theta 0.5 --json --trace --length 20
0 run hippo --measure legt --N 6 --method zoh --dt 0.01 --length 32
0 run hippo --measure lagt --N 5 --method euler --signal-kind noise --seed 3 --json --trace --length 16
0 run hippo --measure lagt --N 5 --method backward --signal $in/signal.txt --json
0 run hippo --measure legs --N 1 --length 1 --json --trace
0 run hippo --measure legs --N 4 --length 70000 --json
2 run hippo --measure nosuch
2 run hippo --N 0
2 run hippo --N 257
2 run hippo --method rk4
2 run hippo --signal $in/nosuch.txt
2 run hippo --signal $in/empty.txt
2 run hippo --signal $in/word.txt
2 run hippo --signal $in/huge.txt
2 run hippo --measure legt --dt 0
2 run hippo --measure legt --theta -1
0 run ssm --kind lti --A $in/lti_a.txt --B $in/lti_b.txt --C $in/lti_c.txt --dt 0.1 --method bilinear --u $in/u1.txt --D 0.5 --json --trace
0 run ssm --kind lti --mode convolution --A $in/lti_a.txt --B $in/lti_b.txt --C $in/lti_c.txt --dt 0.1 --method zoh --u $in/u1.txt --json --trace
0 run ssm --kind lti --A $in/lti_a.txt --B $in/lti_b.txt --C $in/lti_c.txt --dt 0.1 --method zoh --u $in/u1.txt
0 run ssm --kind s4 --length 16 --json --trace
0 run ssm --kind s4 --mode convolution --method zoh --N 4 --length 16 --json --trace
0 run ssm --kind s4 --mode convolution --length 16
0 run ssm --kind s4d --mode convolution --length 32
0 run ssm --kind s4d --mode convolution --init inv --N 4 --length 16 --json --trace
0 run ssm --kind s4d --N 4 --length 8 --json --trace
0 run ssm --kind s4d --u $in/u1.txt --trace
0 run ssm --kind mamba --json
0 run ssm --kind mamba --json --trace --length 12 --N 3
0 run ssm --kind mamba --mode scan --length 12 --trace
0 run ssm --kind mamba --u $in/m_u.txt --delta $in/m_delta.txt --A $in/m_a.txt --B $in/m_b.txt --C $in/m_c.txt --D $in/m_d.txt --z $in/m_z.txt --json --trace
0 run ssm --kind mamba --mode scan --u $in/m_u.txt --delta $in/m_delta.txt --A $in/m_a.txt --B $in/m_b.txt --C $in/m_c.txt --json
0 run ssm --kind lru --json --trace --length 16
0 run ssm --kind lru --mode scan --r-min 0.2 --r-max 0.5 --N 4 --length 16 --json --trace
0 run ssm --kind lru --mode scan --length 16
0 run ssm --kind retention --json --trace
0 run ssm --kind retention --mode parallel --gamma 0.5 --N 3 --length 8 --json --trace
0 run ssm --kind retention --mode parallel --gamma 0 --length 6
0 run attention --n 1 --d 1 --json --trace
0 run attention --variant sparse --n 1 --d 1 --json --trace
0 run attention --variant sparse --stride 50 --n 5 --d 1 --json --trace
0 run attention --variant sparse --pattern fixed --block 50 --n 5 --d 1 --json --trace
0 run attention --variant flash --chunk 50 --n 5 --d 1 --json --trace
0 run attention --variant flash --chunk 1 --n 5 --d 1 --causal --json --trace
0 run attention --variant diag --block 1 --n 5 --d 1 --json --trace
0 run attention --variant diag --block 9 --n 5 --d 1 --json --trace
0 run attention --variant performer --m 1 --n 3 --d 1 --json --trace
0 run attention --variant gau --n 1 --d 1 --causal --json --trace
0 run attention --variant transnormer --n 1 --d 1 --json --trace
0 run attention --variant linear --feature-map relu --n 2 --d 1 --json --trace
0 run hippo --measure legt --N 1 --length 1 --json --trace
0 run hippo --measure lagt --N 1 --length 1 --json --trace
0 run hippo --measure legs --N 256 --length 2 --json
0 run hippo --measure legs --dense --N 3 --length 3 --method zoh --json --trace
0 run hippo --measure legt --method backward --N 3 --length 3 --theta 0.001 --json --trace
0 run ssm --kind s4 --N 1 --length 1 --json --trace
0 run ssm --kind s4 --N 1 --length 1 --mode convolution --json --trace
0 run ssm --kind s4d --N 2 --length 1 --mode convolution --json --trace
0 run ssm --kind lru --N 1 --length 1 --json --trace
0 run ssm --kind lru --N 1 --length 1 --mode scan --json --trace
0 run ssm --kind retention --N 1 --length 1 --json --trace
0 run ssm --kind retention --N 1 --length 1 --mode parallel --gamma 1 --json --trace
0 run ssm --kind mamba --N 1 --length 2 --json --trace
0 run ssm --kind mamba --N 1 --length 2 --mode scan --json --trace
2 run ssm --kind mamba --N 5 --length 3 --json --trace
0 run ssm --kind lti --A $in/lti_a.txt --B $in/lti_b.txt --C $in/lti_c.txt --dt 0.1 --method bilinear --u $in/signal.txt --mode convolution --json
0 run knapsack --capacity 0 --items "" --exact --json --trace
0 run knapsack --capacity 0 --items "" --method 1d --exact --json --trace
0 run knapsack --capacity 3 --items "5:5" --exact --json --trace
2 run heap --ops "" --json --trace
0 run heap --heapsort "" --json --trace
0 run heap --heapsort "1" --json --trace
0 run heap --nlargest 1 --nums "" --json --trace
0 run heap --merge "|" --json --trace
0 run heap --merge "1 | | 2" --json --trace
0 run heap --ops "heapify; push 1" --json --trace
0 run combsum --candidates "5" --target 3 --json --trace
0 run combsum2 --candidates "" --target 3 --json --trace
0 run maxgap --nums "1 1" --json --trace
0 run maxgap --nums "0 2147483647" --json --trace
2 run ssm
2 run ssm --kind nosuch
2 run ssm --kind lti --A $in/lti_a.txt
2 run ssm --kind lti --A $in/ragged.txt --B $in/lti_b.txt --C $in/lti_c.txt --dt 0.1 --method zoh --u $in/u1.txt
2 run ssm --kind lti --A $in/lti_a.txt --B $in/u1.txt --C $in/lti_c.txt --dt 0.1 --method zoh --u $in/u1.txt
2 run ssm --kind lti --A $in/lti_a.txt --B $in/lti_b.txt --C $in/lti_c.txt --dt -1 --method zoh --u $in/u1.txt
2 run ssm --kind s4 --mode scan
2 run ssm --kind s4d --N 3
2 run ssm --kind lru --r-min 0.9 --r-max 0.5
2 run ssm --kind retention --gamma 2
2 run ssm --kind retention --mode recurrent --N 1000 --length 1000
0 run vq --K 4 --images 3 --side 8 --patch 2 --json --trace
0 run vq --K 3 --images 2 --iters 0 --trace
0 run vq --K 1 --images 1 --side 1 --patch 1 --json --trace
0 run vq --patches $in/vq_x.txt --codebook $in/vq_c.txt --json --trace
0 run vq --patches $in/vq_x.txt --K 8 --trace
2 run vq --patches $in/vq_x.txt --codebook $in/vq_c3.txt
2 run vq --patches $in/nan.txt --codebook $in/vq_c.txt
2 run vq --patches $in/ragged.txt
2 run vq --codebook $in/vq_c.txt
2 run vq --patch 3
2 run vq --K 1025
0 run fusion --json --trace
0 run fusion --K 4 --heads 1 --greedy --no-qk-norm --place prenorm
0 run fusion --part attention --X $in/lti_a.txt --Wq $in/lti_a.txt --Wk $in/lti_a.txt --Wv $in/lti_a.txt --Wo $in/lti_a.txt --heads 2 --qk-norm --causal --json --trace
0 run fusion --part attention --X $in/q.txt --Wq $in/w3.txt --Wk $in/w3.txt --Wv $in/w3.txt --Wo $in/w3.txt --heads 1 --causal --json
0 run fusion --part zloss --logits $in/q.txt --json --trace
0 run fusion --part growth --g "1 4" --heads 8 --json --trace
2 run fusion --part attention --X $in/q.txt --Wq $in/w3.txt --Wk $in/w3.txt --Wv $in/w3.txt --Wo $in/w3.txt --heads 2
2 run fusion --part attention --X $in/q.txt --Wq $in/q.txt --Wk $in/w3.txt --Wv $in/w3.txt --Wo $in/w3.txt --heads 1
2 run fusion --part attention --X $in/nan.txt --Wq $in/w3.txt --Wk $in/w3.txt --Wv $in/w3.txt --Wo $in/w3.txt --heads 1
2 run fusion --part zloss --logits $in/huge.txt
2 run fusion --part growth --g "1 x"
2 run fusion --K 100000
2 run ssm --kind mamba --u $in/m_u.txt --delta $in/m_delta.txt
2 run ssm --kind mamba --u $in/m_u.txt --delta $in/ragged.txt --A $in/m_a.txt --B $in/m_b.txt --C $in/m_c.txt
2 run ssm --kind mamba --u $in/m_u.txt --delta $in/m_delta.txt --A $in/m_a.txt --B $in/m_b.txt --C $in/m_c.txt --z $in/lti_b.txt
0 run mot --json --trace
0 run mot --segments "text:2 image:3 text:1" --d 4 --heads 2 --tie --json --trace
0 run mot --segments "image:2 image:2" --n 4 --d 6 --heads 3 --trace
2 run mot --d 8 --heads 3
2 run mot --segments "text:2 img:3"
2 run mot --n 5 --segments "text:2 image:2"
0 run flow
0 run flow --steps 3 --method heun --shift 3 --particles 20 --mixture $in/flow_mix.txt --json --trace
0 run flow --class 1 --guidance 2 --particles 30 --steps 4 --trace
0 run flow --velocity --x "1 2" --t 0.5 --mixture $in/flow_mix.txt --json --trace
0 run flow --compare --codes 4 --steps 2 --trace --json
2 run flow --mixture $in/flow_w0.txt
2 run flow --velocity --x "1 2" --t 1.5
2 run flow --steps 0
2 run flow --velocity --x "nan 0" --t 0
2 run flow --mixture $in/nan.txt
2 run flow --compare --codes 12
0 plot maxgap --out $out/plots/a
0 plot maxgap --nums "5 1 20 13 3 8" --format svg --out $out/plots/b --title "it's \\\`x\\\` @y"
0 plot combsum --format dumb --out $out/plots/c
0 plot combsum2 --format svg --out $out/plots/c
0 plot knapsack --capacity 10 --items "2:3 3:4 4:5 5:6" --format pdf --out $out/plots/d
0 plot heap --format svg --out $out/plots/e
0 plot heap --animate --format gif --out $out/plots/f
0 plot attention --n 32 --d 4 --format dumb --out $out/plots/g
0 plot attention --variant linear --causal --n 8 --d 2 --format svg --out $out/plots/g
0 plot hippo --format dumb --out $out/plots/h
0 plot ssm --format svg --out $out/plots/i --seed 4
0 plot fusion --format dumb --out $out/plots/fu
0 plot fusion --part growth --g "1 2" --format svg --out $out/plots/fu
0 plot mot --format dumb --out $out/plots/r
0 plot mot --segments "text:1 image:3" --d 4 --heads 1 --tie --format svg --out $out/plots/r
0 plot flow --format dumb --out $out/plots/s
0 plot flow --steps 4 --class 1 --mixture $in/flow_mix.txt --format svg --out $out/plots/s
2 plot flow --steps 0 --out $out/plots/s
0 plot ssm --kind mamba --animate --format gif --out $out/plots/j
0 plot maxgap --nums "3 6 9 1" --animate --format gif --out $out/plots/k
0 plot bench --from $in/bench --format svg --out $out/plots/l
0 plot bench --from $in/bench1 --format dumb --out $out/plots/l1
0 plot bench --from $in/bench2 --format dumb --out $out/plots/l2
0 plot combsum --candidates "2 3 5" --target 8 --animate --format gif --out $out/plots/o
0 plot combsum2 --candidates "1 1 2 5 6" --target 8 --animate --format gif --title "a 'b' \\\`c\\\`" --out $out/plots/o
0 plot knapsack --capacity 5 --items "2:3 4:5 1:1" --exact --animate --format gif --out $out/plots/o
0 plot knapsack --capacity 5 --items "2:3 4:5" --method 1d --format svg --out $out/plots/p
0 plot heap --merge "1 4 | 2 3" --animate --format gif --out $out/plots/o
0 plot heap --ops "push 3; push 1; pop" --format dumb --out $out/plots/q
0 plot attention --variant flash --n 6 --d 2 --chunk 2 --animate --format gif --out $out/plots/o
0 plot attention --variant performer --n 4 --d 2 --m 8 --animate --format gif --out $out/plots/o
0 plot hippo --measure legt --N 4 --length 12 --animate --format gif --out $out/plots/o
0 plot ssm --kind s4d --N 4 --length 8 --animate --format gif --out $out/plots/o
0 plot ssm --kind retention --N 2 --length 6 --animate --format gif --out $out/plots/o
0 plot vq --K 4 --images 5 --iters 5 --format dumb --out $out/plots/r
0 plot vq --patches $in/vq_x.txt --codebook $in/vq_c.txt --format svg --out $out/plots/r
0 plot vq --K 3 --images 2 --side 8 --patch 2 --animate --format gif --out $out/plots/o
0 plot ssm --kind lti --A $in/lti_a.txt --B $in/lti_b.txt --C $in/lti_c.txt --dt 0.1 --method zoh --u $in/u1.txt --animate --format gif --out $out/plots/o
2 plot ssm --kind lti --A $in/ragged.txt --B $in/lti_b.txt --C $in/lti_c.txt --dt 0.1 --method zoh --u $in/u1.txt --out $out/plots/o
2 plot hippo --signal $in/word.txt --out $out/plots/o
2 plot bench --from $in/badbench --out $out/plots/m
2 plot bench --from $in/nosuch --out $out/plots/m
2 plot maxgap --format bmp --out $out/plots/m
2 plot maxgap --animate --format png --out $out/plots/m
2 plot maxgap --out $in/notadir
2 plot maxgap --json --out $out/plots/m
2 plot maxgap --nums "1 x" --out $out/plots/m
2 plot nosuchtopic --out $out/plots/m
2 plot knapsack --capacity -3 --out $out/plots/m
1 TUTOR_GNUPLOT=$in/notadir plot maxgap --out $out/plots/n --nums "1 2 3"
0 exercise
0 exercise heap --hint
0 exercise heap --hint
0 exercise maxgap --solution
1 exercise heap
2 exercise nosuch
2 exercise heap --bogus
EOF

total=$(wc -l < "$out/cases")
echo "memcheck: $total runs of $tutor under valgrind, $jobs at a time; logs in $out/logs"
grep -nE -e "${FILTER:-.*}" "$out/cases" | cut -d: -f1 |
    VG_OUT=$out xargs -P "$jobs" -I{} env MEMCHECK_ONE={} sh "$0" "$tutor" > "$out/results"
sort -k2n "$out/results" > "$out/results.sorted"
failed=$(grep -c '^FAIL' "$out/results.sorted")
grep '^FAIL' "$out/results.sorted"
echo "memcheck: $(wc -l < "$out/results.sorted") runs, $failed failed"
if [ "$failed" -eq 0 ] && [ -z "${VG_OUT:-}" ]; then
    rm -rf "$out"
elif [ "$failed" -ne 0 ]; then
    echo "memcheck: see $out/logs/N.log (valgrind), N.out, N.err for run N" >&2
fi
[ "$failed" -eq 0 ]
