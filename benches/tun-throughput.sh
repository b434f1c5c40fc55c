#!/usr/bin/env bash
# Measures TCP throughput at MTU 1500 on this machine, in one run:
#   - tcp-fsm -> kernel (TUN): our userspace stack sends to a Linux TCP listener over TUN,
#   - kernel -> tcp-fsm (TUN): Linux TCP sends to our listener over TUN,
#   - kernel -> kernel (veth): Linux TCP to Linux TCP over a veth pair between two
#     network namespaces, as the reference,
# and prints a Markdown table (MiB, seconds, Gbit/s). Every transfer is checked byte for
# byte by the receiver, so a broken one fails instead of looking fast.
#
# Usage: sudo benches/tun-throughput.sh [MIB]        (default 256 MiB per row)
#   VETH_OFFLOADS=off   turn TSO/GSO/GRO off on the veth pair (the TUN device has none)
#   CARGO_TARGET_DIR    honoured as usual by the build
#
# Needs root (it creates network namespaces, a TUN device and a veth pair; all are
# deleted on exit), Linux, /dev/net/tun, iproute2, and ethtool for VETH_OFFLOADS=off.
# The numbers depend on the machine and on whatever else runs on it, so this is not run
# in CI. The work is done by tcp-fsm/examples/throughput.rs; see its header for the
# details of what is timed.
set -euo pipefail
cd "$(dirname "$0")/.."

mib=${1:-${THROUGHPUT_MIB:-256}}
offloads=${VETH_OFFLOADS:-on}
[[ "$mib" =~ ^[1-9][0-9]*$ ]] || { echo "MIB must be a positive whole number, not '$mib'" >&2; exit 2; }
[[ "$(id -u)" -eq 0 ]] || { echo "needs root: it creates network namespaces and a TUN device" >&2; exit 2; }

# The build's last "executable" message names the binary wherever the target dir is.
binary=$(cargo build --release -p tcp-fsm --example throughput --message-format=json |
    grep -o '"executable":"[^"]*/throughput"' | tail -1 | cut -d'"' -f4)
[[ -x "$binary" ]] || { echo "could not find the throughput example binary" >&2; exit 2; }

# Both TUN directions and veth in one process, one after the other. The output goes to
# the terminal too (stderr), so the notes on loss and offloads are not lost.
output=$("$binary" --mib "$mib" --mode all --veth-offloads "$offloads" | tee /dev/stderr)

# field LABEL KEY: the value of KEY=... on LABEL's result line.
field() {
    local line
    line=$(grep -F "$1: bytes=" <<<"$output") || { echo "no result for $1" >&2; exit 1; }
    sed -E "s/.* $2=([^ ]+).*/\1/" <<<"$line"
}

echo
echo "| direction (MTU 1500) | MiB | seconds | Gbit/s |"
echo "|---|---:|---:|---:|"
for label in "tcp-fsm -> kernel (TUN)" "kernel -> tcp-fsm (TUN)" "kernel -> kernel (veth)"; do
    # Assigned first, so that a missing result stops the script under `set -e`.
    row_mib=$(field "$label" mib)
    row_seconds=$(field "$label" seconds)
    row_gbit=$(field "$label" gbit_s)
    echo "| $label | $row_mib | $row_seconds | $row_gbit |"
done
