#!/usr/bin/env bash
# The second wall: run a command in a private network namespace where only loopback
# exists, so nothing it starts (tests, mcplint, nginx, dnsmasq, node) can reach
# anything else, whatever the audit hook (netguard) misses.
#
# Usage (from the repository root, as root):
#   tests/netguard/netns.sh .venv/bin/python -m pytest
#
# Needs root and util-linux's unshare (and iproute2's ip to bring lo up). Without
# them the command runs as is, after one line on stderr; set NETNS_REQUIRED=1 to make
# that an error instead. Install packages (apt, npm ci) before entering: there is no
# network inside.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi

reason=""
if [ "$(id -u)" -ne 0 ]; then
    reason="not root"
elif ! command -v unshare >/dev/null 2>&1 || ! command -v ip >/dev/null 2>&1; then
    reason="unshare or ip missing"
elif ! unshare --net -- true 2>/dev/null; then
    reason="unshare --net is not permitted here"
fi

if [ -n "$reason" ]; then
    if [ "${NETNS_REQUIRED:-0}" = "1" ]; then
        echo "netns: cannot isolate the network ($reason)" >&2
        exit 1
    fi
    echo "netns: running without a private network namespace ($reason)" >&2
    exec "$@"
fi

# In the new namespace lo starts down: bring it up, then run the command in place of sh.
exec unshare --net -- sh -c 'ip link set lo up && exec "$@"' netns "$@"
