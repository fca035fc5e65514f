#!/usr/bin/env bash
# setup-docker.sh — make sure a Docker engine answers on this machine.
#
# Idempotent: when `docker info` already works it says so and exits 0.
# Otherwise (root only) it installs docker.io + docker-compose with apt if they
# are missing — only with consent: --yes, a non-empty CI variable, or a "y"
# typed at an interactive prompt — then starts dockerd in the background
# (log: /var/log/hardspec-dockerd.log, pid file: /run/hardspec-dockerd.pid)
# and waits up to 60 s for it to answer.
#
# Exit codes: 0 engine ready, 1 something failed, 2 cannot proceed without the
# user (not root, or no consent to install packages).
set -euo pipefail

readonly LOG_FILE=/var/log/hardspec-dockerd.log
readonly PID_FILE=/run/hardspec-dockerd.pid
readonly WAIT_SECONDS=60
readonly PACKAGES=(docker.io docker-compose)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib/common.sh
. "$here/lib/common.sh"
LOG_PREFIX=setup-docker

usage() {
  cat <<'USAGE'
Usage: scripts/setup-docker.sh [--yes]

Makes sure a Docker engine is running. If it is not, and you are root, it
installs the packages docker.io and docker-compose (only with consent) and
starts dockerd in the background.

  -y, --yes   consent to installing missing packages with apt (also: CI=<anything>)
  -h, --help  show this help
USAGE
}

parse_consent_flags "$@"

engine_ready() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }


if engine_ready; then
  say "the Docker engine is already running ($(docker version --format 'server {{.Server.Version}}' 2>/dev/null || echo 'version unknown')); nothing to do."
  exit 0
fi

if ((EUID != 0)); then
  if [[ -S /var/run/docker.sock ]]; then
    die 2 "a Docker socket exists but this user cannot use it. Re-run as root (sudo $0) or join the 'docker' group."
  fi
  die 2 "Docker is not running and starting it needs root. Re-run as root: sudo $0"
fi

missing=()
if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
  missing+=(docker.io)
fi
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)

if ((${#missing[@]} > 0)); then
  say "missing: ${missing[*]} (the Debian packages ${PACKAGES[*]} provide dockerd, docker and docker-compose)."
  if ! consent "install ${missing[*]} with apt-get now?"; then
    die 2 "not installing anything without consent. Re-run with --yes (or CI=1), or install them yourself: apt-get install ${PACKAGES[*]}"
  fi
  say "installing ${missing[*]} with apt-get (this can take a minute)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  say "packages installed."
fi

# Re-use a dockerd this script started earlier if it is still alive.
if [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
  say "dockerd is already starting (pid $(cat "$PID_FILE")); waiting for it."
elif pgrep -x dockerd >/dev/null 2>&1; then
  say "a dockerd process exists (pid $(pgrep -x dockerd | head -n1)) but does not answer yet; waiting for it."
else
  say "starting dockerd in the background (log: $LOG_FILE, pid file: $PID_FILE)."
  mkdir -p "$(dirname "$LOG_FILE")" "$(dirname "$PID_FILE")"
  nohup dockerd >>"$LOG_FILE" 2>&1 </dev/null &
  echo "$!" >"$PID_FILE"
fi

say "waiting up to ${WAIT_SECONDS}s for the engine to answer..."
for ((i = 1; i <= WAIT_SECONDS; i++)); do
  if engine_ready; then
    say "the Docker engine is ready after ${i}s ($(docker version --format 'server {{.Server.Version}}' 2>/dev/null || echo 'version unknown'))."
    say "stop it later with: kill \$(cat $PID_FILE)"
    exit 0
  fi
  if [[ -f "$PID_FILE" ]] && ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null && ! pgrep -x dockerd >/dev/null 2>&1; then
    printf '%s\n' "setup-docker: dockerd exited; last lines of $LOG_FILE:" >&2
    tail -n 20 "$LOG_FILE" >&2 || true
    rm -f "$PID_FILE"
    exit 1
  fi
  sleep 1
done

printf '%s\n' "setup-docker: the engine did not answer within ${WAIT_SECONDS}s; last lines of $LOG_FILE:" >&2
tail -n 20 "$LOG_FILE" >&2 || true
exit 1
