#!/usr/bin/env bash
# Installs what the live test stack needs on Debian 12 (idempotent):
#   - dnsmasq-base, nginx, nodejs and npm from Debian (only those missing;
#     apt-get update only when something is missing);
#   - with `npm ci` (each skipped when the installed tree already matches its
#     package-lock.json): oidc-provider for tests/livestack/authserver, and the
#     TypeScript MCP SDK 2.x for tests/livestack/modern_mcp (the new-only server), and
#     mermaid for tests/mermaid (its parser checks the Markdown report's diagrams);
#   - the legacy-only MCP server's own virtualenv, .cache/livestack-mcp1, with mcp 1.x
#     from tests/livestack/legacy_mcp/requirements.txt (it cannot share the project's
#     venv, which has mcp 2.x).
# The rest of the Python side (mcp 2.x, trustme, uvicorn, pyjwt, httpx, dnspython) comes
# with the project's test extras. Uses sudo only when not root.
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

# npm ci in a folder (relative to tests/livestack) unless its node_modules already matches the lock.
npm_ci() {
    local dir="$here/$1" package="$2"
    local stamp="$dir/node_modules/.livestack-lock.sha256" wanted
    wanted="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ] || [ ! -d "$dir/node_modules/$package" ]; then
        echo "livestack: npm ci in tests/livestack/$1"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
        echo "$wanted" > "$stamp"
    fi
}
npm_ci authserver oidc-provider
npm_ci modern_mcp @modelcontextprotocol/server
# Mermaid's own parser, which checks the diagrams of the Markdown report (test_diagram.py).
npm_ci ../mermaid mermaid

# The legacy-only server's virtualenv, rebuilt when its requirements change.
legacy_venv="$(cd "$here/../.." && pwd)/.cache/livestack-mcp1"
legacy_requirements="$here/legacy_mcp/requirements.txt"
legacy_stamp="$legacy_venv/.livestack-requirements.sha256"
wanted="$(sha256sum "$legacy_requirements" | cut -d' ' -f1)"
if [ "$(cat "$legacy_stamp" 2>/dev/null)" != "$wanted" ] || [ ! -x "$legacy_venv/bin/python" ]; then
    echo "livestack: creating $legacy_venv (mcp 1.x)"
    rm -rf "$legacy_venv"
    python3 -m venv "$legacy_venv"
    "$legacy_venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$legacy_requirements"
    echo "$wanted" > "$legacy_stamp"
fi

# Check that each peer runs, so a broken install fails here rather than in a test.
nginx -v 2>&1 | sed 's/^/livestack: /'
echo "livestack: $( (dnsmasq --version 2>/dev/null || /usr/sbin/dnsmasq --version) | head -1)"
echo "livestack: node $(node --version), oidc-provider $(cd "$here/authserver" && node -p "require('./node_modules/oidc-provider/package.json').version")"
echo "livestack: @modelcontextprotocol/server $(cd "$here/modern_mcp" && node -p "require('./node_modules/@modelcontextprotocol/server/package.json').version")"
echo "livestack: mermaid $(cd "$here/../mermaid" && node -p "require('./node_modules/mermaid/package.json').version")"
echo "livestack: legacy mcp $("$legacy_venv/bin/python" -c 'import importlib.metadata as m; print(m.version("mcp"))')"
