#!/usr/bin/env bash
# Prepares this machine for tcp-fsm's kernel interoperation tests (tcp-fsm/tests/kernel.rs):
# iproute2 for `ip netns`, nftables for the lossy runs and the raw-socket RST rule, ethtool,
# and a /dev/net/tun device node.
# Idempotent; needs root. The tests themselves fail in CI if any of this is missing.
set -euo pipefail

need_apt=()
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)
command -v nft >/dev/null 2>&1 || need_apt+=(nftables)
# The raw-socket test turns off TX checksum offload on its veth pair with ethtool.
command -v ethtool >/dev/null 2>&1 || need_apt+=(ethtool)
if [ "${#need_apt[@]}" -gt 0 ]; then
    echo "setup-net: installing ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -c /dev/net/tun ]; then
    modprobe tun 2>/dev/null || true
    if [ ! -c /dev/net/tun ]; then
        mkdir -p /dev/net
        mknod /dev/net/tun c 10 200
        chmod 0666 /dev/net/tun
    fi
fi

echo "setup-net: ip $(ip -V | awk '{print $NF}'), $(nft --version), /dev/net/tun present"
