#!/usr/bin/env bash
# Install the pinned ccusage (tests/support/ccusage/package.json + package-lock.json) for
# tests/usage/test_ccusage_parity.py. Test support only: tokentop never runs ccusage.
# Idempotent and quick: when the installed copy matches the lock file, it does nothing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="$root/tests/support/ccusage"
bin="$dir/node_modules/.bin/ccusage"
stamp="$dir/node_modules/.tokentop-lock.sha256"

command -v npm >/dev/null || { echo "install_ccusage: npm not found (need Node >= 20)" >&2; exit 1; }

want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
if [[ -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && "$bin" --version >/dev/null 2>&1; then
    exit 0
fi

npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
"$bin" --version >/dev/null
echo "$want" > "$stamp"
echo "install_ccusage: $("$bin" --version) in $dir/node_modules" >&2
