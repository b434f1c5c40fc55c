#!/usr/bin/env bash
# Instructions that rustc executes for one warm `cargo check` of a compile-time variant.
#
# Usage: benches/compile-time/instructions.sh [VARIANT...]   (default: hand ours)
#
# Run benches/compile-time/measure.sh first: it generates the variants' crates under
# CT_DIR (the same default as there) and builds their dependencies. For each variant this
# touches src/lib.rs, asks cargo for the rustc command line of the library's check, and
# runs that command once under `valgrind --tool=cachegrind --cache-sim=no`, which counts
# instructions. Prints "VARIANT MILLIONS" per line.
#
# Why: wall-clock warm checks on a small shared machine vary by tens of milliseconds
# between runs, which hides a change of a few percent. The instruction count of the same
# command repeats to the million, so it can tell two versions of the macro apart; it
# does not say how long a check takes (that is measure.sh's job), only which costs more.
# Only the library's rustc is counted, not cargo or the binary's check.

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
CT_DIR=${CT_DIR:-${CARGO_TARGET_DIR:-$REPO/target}/compile-time}

if ! command -v valgrind > /dev/null; then
    echo "valgrind is not installed (apt-get install valgrind)" >&2
    exit 1
fi

if [[ $# -gt 0 ]]; then
    VARIANTS=("$@")
else
    VARIANTS=(hand ours)
fi

for v in "${VARIANTS[@]}"; do
    dir="$CT_DIR/$v"
    if [[ ! -f "$dir/Cargo.toml" ]]; then
        echo "no crate for '$v' in $CT_DIR: run measure.sh first" >&2
        exit 1
    fi
    cd "$dir"
    # Bring the incremental state up to date, then capture the command of a warm check.
    CARGO_TARGET_DIR="$dir/target-warm" cargo check --offline -q 2> /dev/null
    touch src/lib.rs
    command=$(CARGO_TARGET_DIR="$dir/target-warm" cargo check --offline -v 2>&1 |
        grep -o 'Running `[^`]*--crate-name ct [^`]*' | head -n 1 | sed 's/^Running `//')
    if [[ -z "$command" ]]; then
        echo "could not find the library's rustc command for '$v'" >&2
        exit 1
    fi
    touch src/lib.rs
    refs=$(eval "valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null $command" 2>&1 |
        grep -o 'I *refs: *[0-9,]*' | tr -d ', ' | sed 's/^Irefs://')
    echo "$v $((refs / 1000000))"
done
