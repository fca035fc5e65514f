#!/usr/bin/env bash
# start.sh — `npm start`: the main job on the bundled guestbook example.
#   1. gets the machine ready (Docker engine, base image, Chromium, C compiler: scripts/setup.sh)
#   2. compiles specs/ into generated/ (hardspec compile)
#   3. verifies the guestbook on the real Docker engine (hardspec verify guestbook)
# and prints where the artifacts and the evidence are.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here/.."
[[ -d node_modules ]] || { echo "start: installing npm dependencies (npm install) …"; npm install --no-audit --no-fund; }
"$here/setup.sh" --for start "$@"

echo
echo "── Compiling specs/ into generated/ ──"
node bin/hardspec.js compile specs --out generated

echo
echo "── Verifying the guestbook on the Docker engine ──"
status=0
node bin/hardspec.js verify guestbook || status=$?

echo
echo "Artifacts: generated/guestbook/ (compose.yaml, seccomp/, selinux/, strip/, manifest.json)"
echo "Evidence:  generated/guestbook/evidence/latest.json (screenshots in generated/guestbook/evidence/screenshots/)"
exit "$status"
