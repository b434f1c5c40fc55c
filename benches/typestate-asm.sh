#!/usr/bin/env bash
# Shows that a generated typestate move compiles to the same machine code as the
# hand-written one.
#
# Usage: benches/typestate-asm.sh
#
# It builds the `typestate` benchmark in the bench profile, disassembles the four loops
# it times (`cycles_hand` / `cycles_ours`, and the same pair with a `u64` context) and
# compares each pair. rustc merges functions whose machine code is identical into one, so
# the usual outcome is that `cycles_ours` has no code of its own (its calls go to
# `cycles_hand`) or both names sit at the same address; otherwise the script drops what
# differs between any two functions of one binary (addresses, symbol names in operands)
# and diffs the instructions. It exits non-zero if a pair differs.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=$(cargo bench -p benches --bench typestate --no-run --message-format=json 2>/dev/null |
    grep -o '"executable":"[^"]*typestate-[^"]*"' | tail -1 | cut -d'"' -f4)
[[ -x "$binary" ]] || { echo "could not find the typestate bench binary" >&2; exit 2; }

# symbol NAME: the address and mangled name of the function NAME, e.g. `a0b40 _ZN...E`,
# or nothing if the binary has no such function.
symbol() {
    nm "$binary" | awk -v name="$1" '!done && $3 ~ name"17h" { print $1, $3; done = 1 }'
}

# disassemble MANGLED: the function's instructions, one per line, without addresses.
disassemble() {
    objdump -d --no-show-raw-insn --disassemble="$1" "$binary" |
        awk -F'\t' 'NF >= 2 && $1 ~ /^ *[0-9a-f]+:$/ { print $2 }' |
        sed -E 's/[0-9a-f]+ <[^>]*>/<target>/g; s/#.*$//; s/[[:space:]]+$//'
}

status=0
for pair in "cycles_hand cycles_ours" "cycles_hand_ctx cycles_ours_ctx"; do
    set -- $pair
    read -r hand_address hand_symbol < <(symbol "$1")
    [[ -n "${hand_symbol:-}" ]] || { echo "no symbol for $1 in $binary" >&2; exit 2; }
    read -r ours_address ours_symbol < <(symbol "$2") || true
    hand=$(disassemble "$hand_symbol")
    if [[ -z "${ours_symbol:-}" ]]; then
        # Both loops are #[inline(never)], so the only way one disappears is LLVM's
        # MergeFunctions pass finding it identical to another and redirecting its calls.
        printf '%-16s %3d instructions, at 0x%s
%-16s no code of its own: merged into %s by the compiler as identical
' \
            "$1" "$(wc -l <<<"$hand")" "$hand_address" "$2" "$1"
        ours_symbol=; ours_address=
        continue
    fi
    ours=$(disassemble "$ours_symbol")
    if [[ "$hand_address" == "$ours_address" ]]; then
        printf '%-16s %3d instructions, at 0x%s\n%-16s the same function: merged by the compiler as identical\n' \
            "$1" "$(wc -l <<<"$hand")" "$hand_address" "$2"
        continue
    fi
    printf '%-16s %3d instructions\n%-16s %3d instructions\n' \
        "$1" "$(wc -l <<<"$hand")" "$2" "$(wc -l <<<"$ours")"
    if diff <(echo "$hand") <(echo "$ours"); then
        echo "  identical"
    else
        echo "  DIFFERENT"
        status=1
    fi
done
exit $status
