#!/usr/bin/env bash
# Summarises the dispatch benchmark over code placements.
#
# Usage: benches/dispatch-summary.sh [CRITERION_DIR]
#   CRITERION_DIR   criterion's output (default: $CARGO_TARGET_DIR/criterion, or
#                   <repo>/target/criterion)
#
# `cargo bench -p benches --bench dispatch` times every variant with its loop at four
# offsets within a 64-byte line (`variant@0` ... `variant@48`; see OFFSETS in
# benches/dispatch.rs). This script reads criterion's median estimate of each, and prints
# per variant and stream length the four figures in ns/event, their median, and the
# median's ratio to the hand-written `match`'s median, as a Markdown table.

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
DIR=${1:-${CARGO_TARGET_DIR:-$REPO/target}/criterion}
VARIANTS=(hand fsm-core fsm-core-step rust-fsm statig sm statum)
OFFSETS=(0 16 32 48)

# The median point estimate, in ns per iteration, of one benchmark.
estimate() { # GROUP BENCH
    local file="$DIR/$1/$2/new/estimates.json"
    if [[ ! -f $file ]]; then
        echo "no estimate at $file: run the dispatch benchmark first" >&2
        exit 1
    fi
    sed -E 's/.*"median":\{[^}]*\},"point_estimate":([0-9.e+-]+).*/\1/' "$file"
}

# The median of the numbers given.
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo '| events | variant | ns/event at +0, +16, +32, +48 | median | vs `hand` |'
echo '|---:|---|---|---:|---:|'
for len in 4096 65536; do
    group="dispatch-$len"
    base=""
    for v in "${VARIANTS[@]}"; do
        per_event=()
        for off in "${OFFSETS[@]}"; do
            ns=$(estimate "$group" "$v@$off")
            per_event+=("$(awk -v ns="$ns" -v n="$len" 'BEGIN { printf "%.2f", ns / n }')")
        done
        mid=$(median "${per_event[@]}")
        [[ -z $base ]] && base=$mid
        ratio=$(awk -v a="$mid" -v b="$base" 'BEGIN { printf "%.2f", a / b }')
        printf '| %s | `%s` | %s | %.2f | %s |\n' "$len" "$v" "${per_event[*]}" "$mid" "$ratio"
    done
done
