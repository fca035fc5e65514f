#!/usr/bin/env bash
# setup-strace-runtime.sh — register hardspec's strace recorder with the Docker engine.
#
# hardspec minimize records a container's system calls with eBPF (bpftrace). Where eBPF is not
# available it falls back to strace, which must see the container from its creation: the
# runtime hardspec-strace (scripts/runc-strace, runc under strace) does that. This script
#   1. installs strace (apt, with consent) when it is missing;
#   2. copies scripts/runc-strace to /usr/local/libexec/hardspec/runc-strace (root-owned, 0755);
#   3. adds the runtime to /etc/docker/daemon.json ("runtimes": {"hardspec-strace": {"path": …}}),
#      keeping every other setting, and makes a running dockerd reload it (SIGHUP);
#   4. checks that `docker info` lists the runtime.
# Idempotent: each step does nothing when it is done already. Containers only use the runtime
# when they ask for it (hardspec minimize's recording run does); all others keep runc.
#
# Changing daemon.json needs consent (--yes, a non-empty CI variable, or "y" at a prompt).
# Exit codes: 0 registered, 1 a step failed, 2 cannot proceed without the user (not root, no
# consent, no engine, or an engine on another host).
set -euo pipefail

readonly RUNTIME=hardspec-strace
readonly TARGET=/usr/local/libexec/hardspec/runc-strace
readonly DAEMON_JSON=${HARDSPEC_DAEMON_JSON:-/etc/docker/daemon.json}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib/common.sh
. "$here/lib/common.sh"
LOG_PREFIX=setup-strace-runtime

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }
parse_consent_flags "$@"

readonly MIN_STRACE=5.15

registered() { docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q "\"$RUNTIME\":{\"path\":\"$TARGET\""; }
installed() { [[ -x $TARGET ]] && cmp -s "$here/runc-strace" "$TARGET"; }
strace_ok() { command -v strace >/dev/null 2>&1 && strace -q -f -n --decode-pids=pidns -o /dev/null -- true >/dev/null 2>&1; }

docker info >/dev/null 2>&1 || die 2 "the Docker engine does not answer; start it first (scripts/setup-docker.sh)"
if registered && installed && strace_ok; then
  say "the engine lists the runtime $RUNTIME ($TARGET, up to date) and strace works; nothing to do."
  exit 0
fi
((EUID == 0)) || die 2 "registering the runtime $RUNTIME with the engine needs root: sudo $0"

if command -v strace >/dev/null 2>&1; then
  say "strace is installed ($(strace -V 2>/dev/null | head -n1))."
else
  apt_install "strace, the recorder's fallback when eBPF is unavailable" strace
fi
strace_ok || die 1 "strace cannot trace here: it needs version $MIN_STRACE or later (-n, --decode-pids=pidns) and ptrace allowed (kernel.yama.ptrace_scope below 3); found: $(strace -V 2>/dev/null | head -n1)"

if installed; then
  say "$TARGET is up to date."
else
  install -D -o root -g root -m 0755 "$here/runc-strace" "$TARGET"
  say "installed $TARGET."
fi

if registered; then
  say "the engine lists the runtime $RUNTIME ($TARGET)."
  exit 0
fi

pid=$(pgrep -o -x dockerd || true)
[[ -n $pid ]] || die 2 "no dockerd process on this machine (is the engine remote?): add \"runtimes\": {\"$RUNTIME\": {\"path\": \"$TARGET\"}} to the engine host's daemon.json yourself"
consent "add the runtime $RUNTIME to $DAEMON_JSON and make dockerd reload it?" \
  || die 2 "not changing $DAEMON_JSON without consent; re-run with --yes (or CI=1)"

# Merge the runtime into daemon.json with node (hardspec needs it anyway): every other key stays.
mkdir -p "$(dirname "$DAEMON_JSON")"
node - "$DAEMON_JSON" "$RUNTIME" "$TARGET" <<'JS'
const fs = require('node:fs');
const [file, name, target] = process.argv.slice(2);
let config = {};
if (fs.existsSync(file)) {
  const text = fs.readFileSync(file, 'utf8');
  try { config = text.trim() ? JSON.parse(text) : {}; } catch (e) {
    console.error(`setup-strace-runtime: ${file} is not valid JSON (${e.message}); fix it, then run this again`);
    process.exit(1);
  }
}
if (typeof config !== 'object' || config === null || Array.isArray(config)) {
  console.error(`setup-strace-runtime: ${file} does not hold a JSON object; fix it, then run this again`);
  process.exit(1);
}
config.runtimes = { ...(config.runtimes ?? {}), [name]: { path: target } };
fs.writeFileSync(`${file}.hardspec-tmp`, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o644 });
fs.renameSync(`${file}.hardspec-tmp`, file);
JS
say "added the runtime $RUNTIME to $DAEMON_JSON."
say "asking dockerd (pid $pid) to reload its configuration (SIGHUP)."
kill -HUP "$pid"
for _ in $(seq 1 20); do
  if registered; then
    say "the engine lists the runtime $RUNTIME ($TARGET)."
    exit 0
  fi
  sleep 0.5
done
die 1 "dockerd did not list the runtime $RUNTIME after reloading; see its log (/var/log/hardspec-dockerd.log when scripts/setup-docker.sh started it)"
