#!/usr/bin/env bash
# test.sh — `npm test`: gets the machine ready (scripts/setup.sh --for test), then runs every test
# with vitest. Extra arguments go to vitest (e.g. a file name).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here/.."
[[ -d node_modules ]] || { echo "test: installing npm dependencies (npm install) …"; npm install --no-audit --no-fund; }
"$here/setup.sh" --for test
echo
echo "test: running the tests (vitest) …"
exec npx vitest run "$@"
