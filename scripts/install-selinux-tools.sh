#!/usr/bin/env bash
# install-selinux-tools.sh — make sure the SELinux policy toolchain hardspec checks modules with is
# installed (Debian/Ubuntu, apt). No SELinux kernel is needed: modules are compiled and linked into
# the `default` policy store, never loaded.
#
# Idempotent: when every package is already installed it says so and exits 0. Otherwise it installs
# the missing ones with apt-get, only with consent: --yes, a non-empty CI variable, or a "y" typed at
# an interactive prompt.
#
# Exit codes: 0 tools ready, 1 something failed, 2 cannot proceed without the user (not root, no
# apt-get, or no consent to install packages).
set -euo pipefail

# selinux-policy-dev: the module Makefile and refpolicy headers; selinux-policy-default: the store
# modules link into; checkpolicy: checkmodule; semodule-utils: semodule_package; policycoreutils:
# semodule; setools: sesearch/seinfo; zstd: to unpack selinux-policy-src (container module).
readonly PACKAGES=(selinux-policy-dev selinux-policy-default checkpolicy semodule-utils policycoreutils setools zstd)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib/common.sh
. "$here/lib/common.sh"
LOG_PREFIX=install-selinux-tools

usage() {
  cat <<'USAGE'
Usage: scripts/install-selinux-tools.sh [--yes]

Installs, with apt-get and only with consent, the packages hardspec needs to compile and link SELinux
modules: selinux-policy-dev selinux-policy-default checkpolicy semodule-utils policycoreutils setools zstd.

  -y, --yes   consent to installing missing packages (also: CI=<anything>)
  -h, --help  show this help
USAGE
}

parse_consent_flags "$@"


installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" == installed ]]
}

command -v dpkg-query >/dev/null 2>&1 || die 2 "dpkg-query not found: this script supports Debian and Ubuntu (apt) only."

missing=()
for pkg in "${PACKAGES[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  say "all packages are installed (${PACKAGES[*]}); nothing to do."
  exit 0
fi

say "missing: ${missing[*]}"
command -v apt-get >/dev/null 2>&1 || die 2 "apt-get not found; install these packages yourself: ${missing[*]}"
((EUID == 0)) || die 2 "installing packages needs root. Re-run as root: sudo $0 --yes"
if ! consent "install ${missing[*]} with apt-get now?"; then
  die 2 "not installing anything without consent. Re-run with --yes (or CI=1), or run: apt-get install ${missing[*]}"
fi

say "installing ${missing[*]} with apt-get (this can take a minute)..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}"

still=()
for pkg in "${missing[@]}"; do
  installed "$pkg" || still+=("$pkg")
done
((${#still[@]} == 0)) || die 1 "apt-get finished but these packages are still not installed: ${still[*]}"
say "installed ${missing[*]}."
