#!/usr/bin/env bash
# setup.sh [--yes] [--for start|test|minimize] — make this machine ready for hardspec's two commands.
#
# Idempotent: each step checks first and does nothing when its tool is already there. Installing
# needs root and consent (--yes, a non-empty CI variable, or "y" at a prompt); without them it stops
# with a message that says what is missing and how to get it.
#   start: Docker engine + docker-compose, the debian:bookworm base image, Chromium (the browser
#          interaction), a C compiler (hardspec's static probe)
#   test:  the same, plus the SELinux policy tools the module-linking tests use, bpftrace
#          (records a container's system calls for hardspec minimize) and the strace runtime
#          hardspec-strace (the recorder's fallback when eBPF is unavailable; its own test)
#   minimize: the start set plus bpftrace and tracefs (what hardspec minimize records with)
#
# Exit codes: 0 ready, 1 a step failed, 2 cannot proceed without the user.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib/common.sh
. "$here/lib/common.sh"
LOG_PREFIX=setup

purpose=start
pass=()
while (($# > 0)); do
  case "$1" in
    -y | --yes) ASSUME_YES=1; pass+=(--yes) ;;
    --for) purpose=${2:?--for needs start or test}; shift ;;
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die 2 "unknown argument: $1" ;;
  esac
  shift
done
[[ $purpose == start || $purpose == test || $purpose == minimize ]] || die 2 "--for takes start, test or minimize, not $purpose"

step() { printf '\n%s\n' "── $* ──"; }

step "Docker engine"
"$here/setup-docker.sh" "${pass[@]}"

step "Base image debian:bookworm (built locally with debootstrap when no registry answers)"
"$here/build-base-image.sh" "${pass[@]}" debian:bookworm

step "Chromium (drives the form in the browser interaction)"
if [[ -x /usr/bin/chromium ]]; then
  say "Chromium is installed ($(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown'))."
else
  apt_install "Chromium, for the browser interaction" chromium
fi

step "C compiler (builds hardspec's static probe)"
if command -v gcc >/dev/null 2>&1 && [[ -f /usr/lib/x86_64-linux-gnu/crt1.o || -f /usr/lib/aarch64-linux-gnu/crt1.o ]]; then
  say "gcc is installed ($(gcc -dumpversion))."
else
  apt_install "gcc, to build the static probe" gcc libc6-dev
fi

if [[ $purpose == test ]]; then
  step "SELinux policy tools (compile and link the generated modules)"
  "$here/install-selinux-tools.sh" "${pass[@]}"
fi

if [[ $purpose == test || $purpose == minimize ]]; then
  step "bpftrace (records a container's system calls for hardspec minimize)"
  if command -v bpftrace >/dev/null 2>&1; then
    say "bpftrace is installed ($(bpftrace --version 2>/dev/null || echo 'version unknown'))."
  else
    apt_install "bpftrace, to record system calls with eBPF" bpftrace
  fi
  if [[ ! -d /sys/kernel/tracing/events ]] && ((EUID == 0)); then
    if mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null; then
      say "mounted tracefs on /sys/kernel/tracing."
    else
      say "could not mount tracefs; hardspec minimize will fall back or explain."
    fi
  fi
fi

if [[ $purpose == test ]]; then
  # Only for the tests: hardspec minimize falls back to it when eBPF is unavailable, and says how
  # to register it then (scripts/setup-strace-runtime.sh edits /etc/docker/daemon.json).
  step "strace runtime hardspec-strace (the recorder's fallback when eBPF is unavailable)"
  if ! "$here/setup-strace-runtime.sh" "${pass[@]}"; then
    say "the runtime hardspec-strace is not registered: the strace recorder's engine test will show as skipped."
  fi
fi

printf '\n'
say "ready for: $purpose"
