#!/usr/bin/env bash
# start.sh — `npm start`: the main job on the bundled guestbook example.
#   1. gets the machine ready (Docker engine, base image, Chromium, C compiler: scripts/setup.sh)
#   2. compiles specs/ into generated/ (hardspec compile)
#   3. verifies the guestbook on the real Docker engine (hardspec verify guestbook)
#   4. builds the evidence site into dist/ (also when an interaction failed: the site shows it)
# and prints where the artifacts, the evidence and the site are.
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
echo "── Building the evidence site into dist/ ──"
npm run --silent site || { [[ $status -eq 0 ]] && status=1; }

echo
echo "Artifacts: generated/guestbook/ (compose.yaml, seccomp/, selinux/, strip/, manifest.json)"
echo "Evidence:  generated/guestbook/evidence/latest.json (screenshots in generated/guestbook/evidence/screenshots/)"
echo "Site:      dist/ — run npm run preview, then open http://127.0.0.1:4321/"
exit "$status"
