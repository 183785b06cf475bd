#!/usr/bin/env bash
# Installs what the live test stack needs on Debian 12 (idempotent):
#   - dnsmasq-base, nginx, nodejs and npm from Debian (only those missing;
#     apt-get update only when something is missing);
#   - oidc-provider for tests/livestack/authserver with `npm ci` (skipped when the
#     installed tree already matches package-lock.json).
# The Python side (mcp, trustme, uvicorn, pyjwt, httpx, dnspython) comes with the
# project's test extras. Uses sudo only when not root.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

missing=()
have dnsmasq || missing+=(dnsmasq-base)
have nginx || missing+=(nginx)
have node || missing+=(nodejs)
have npm || missing+=(npm)
have unshare || missing+=(util-linux)
have ip || missing+=(iproute2)

if [ "${#missing[@]}" -gt 0 ]; then
    echo "livestack: installing ${missing[*]}"
    # A package must not start its service (nginx would take port 80): the standard
    # Debian switch for that is a policy-rc.d that says "no" (exit 101).
    policy=/usr/sbin/policy-rc.d
    added_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
        $SUDO chmod +x "$policy"
        added_policy=1
    fi
    trap '[ "$added_policy" = 1 ] && $SUDO rm -f "$policy"' EXIT
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # If a service manager started nginx anyway, stop the instance this install started.
    if [[ " ${missing[*]} " == *" nginx "* ]] && [ -s /run/nginx.pid ]; then
        $SUDO nginx -s quit 2>/dev/null || true
    fi
fi

lock="$here/authserver/package-lock.json"
stamp="$here/authserver/node_modules/.livestack-lock.sha256"
wanted="$(sha256sum "$lock" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ] || [ ! -d "$here/authserver/node_modules/oidc-provider" ]; then
    echo "livestack: npm ci in tests/livestack/authserver"
    (cd "$here/authserver" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$wanted" > "$stamp"
fi

# Check that each peer runs, so a broken install fails here rather than in a test.
nginx -v 2>&1 | sed 's/^/livestack: /'
echo "livestack: $( (dnsmasq --version 2>/dev/null || /usr/sbin/dnsmasq --version) | head -1)"
echo "livestack: node $(node --version), oidc-provider $(cd "$here/authserver" && node -p "require('./node_modules/oidc-provider/package.json').version")"
