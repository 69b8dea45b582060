#!/bin/sh
# Runs each test binary given, prints its output, and closes with the total over all of
# them. A binary that crashes (no summary line) counts as one failure.
passed=0
failed=0
status=0
for bin in "$@"; do
    name=$(basename "$bin")
    out=$("$bin" 2>&1)
    rc=$?
    printf '%s\n' "$out"
    line=$(printf '%s\n' "$out" | grep -E "^$name: [0-9]+ passed, [0-9]+ failed$" | tail -n 1)
    if [ -n "$line" ]; then
        p=$(printf '%s' "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
        f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')
        passed=$((passed + p))
        failed=$((failed + f))
    else
        echo "$name: crashed or printed no summary (exit status $rc)"
        failed=$((failed + 1))
    fi
    [ "$rc" -eq 0 ] || status=1
done
echo
echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ] || status=1
exit $status
