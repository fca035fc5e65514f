#!/usr/bin/env bash
# selinux-container-module.sh — build refpolicy's `container` module (container.pp) once and cache it.
#
# Debian packages no container.pp: the container types (container_t, container_file_t, the
# container_domain attributes…) come from refpolicy's services/container module, which ships only as
# source in selinux-policy-src. hardspec's SELinux modules build on those types, so checking them
# (compile + link into the `default` store) needs this module next to them.
#
# Steps: apt-get download selinux-policy-src (the version matching the installed selinux-policy-dev),
# dpkg -x, extract container.te/.fc/.if from its tar.zst, then
# `make -f /usr/share/selinux/devel/Makefile container.pp` in a scratch folder, and move the result
# into the cache folder atomically.
#
# Idempotent: when <cache>/container.pp exists and was built against the installed selinux-policy-dev
# version (recorded in <cache>/container.pp.version), it is reused and nothing is downloaded.
#
# Usage: scripts/selinux-container-module.sh [CACHE_DIR]
#   CACHE_DIR defaults to ${XDG_CACHE_HOME:-$HOME/.cache}/hardspec/selinux
#   HARDSPEC_SELINUX_POLICY_SRC_DEB=/path/to/selinux-policy-src_*.deb uses that package (offline use).
# Prints the path of container.pp on stdout (last line); progress goes to stderr.
#
# Exit codes: 0 ready, 1 something failed, 2 a required tool or package is missing.
set -euo pipefail

readonly DEVEL_MAKEFILE=/usr/share/selinux/devel/Makefile
readonly DEVEL_CONTAINER_IF=/usr/share/selinux/devel/include/services/container.if
readonly SRC_PREFIX=selinux-policy-src/policy/modules/services

say() { printf '%s\n' "selinux-container-module: $*" >&2; }
die() { local code=$1; shift; printf '%s\n' "selinux-container-module: $*" >&2; exit "$code"; }

usage() {
  cat <<'USAGE'
Usage: scripts/selinux-container-module.sh [CACHE_DIR]

Builds refpolicy's container module (container.pp) from Debian's selinux-policy-src and caches it in
CACHE_DIR (default: ${XDG_CACHE_HOME:-$HOME/.cache}/hardspec/selinux). Reuses the cached module when
it was built against the installed selinux-policy-dev. Prints the path of container.pp.

Install the tools first with: scripts/install-selinux-tools.sh
USAGE
}

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  -*) usage >&2; die 2 "unknown option: $1" ;;
esac
(($# <= 1)) || { usage >&2; die 2 "expected at most one argument (the cache folder), got $#."; }

if (($# == 1)); then
  cache_dir=$1
elif [[ -n ${XDG_CACHE_HOME:-} ]]; then
  cache_dir=$XDG_CACHE_HOME/hardspec/selinux
elif [[ -n ${HOME:-} ]]; then
  cache_dir=$HOME/.cache/hardspec/selinux
else
  die 2 "neither HOME nor XDG_CACHE_HOME is set; pass the cache folder as the first argument."
fi
readonly cache_dir
readonly out_pp=$cache_dir/container.pp
readonly out_version=$cache_dir/container.pp.version

# need <command> <package>: exit 2 naming the Debian package that provides a missing command.
need() {
  command -v "$1" >/dev/null 2>&1 ||
    die 2 "'$1' is missing; install the Debian package '$2' (or run scripts/install-selinux-tools.sh)."
}
need make make
need m4 m4
need checkmodule checkpolicy
need semodule_package semodule-utils
need dpkg-query dpkg
[[ -f $DEVEL_MAKEFILE ]] ||
  die 2 "$DEVEL_MAKEFILE is missing; install the Debian package 'selinux-policy-dev' (or run scripts/install-selinux-tools.sh)."

dev_version=$(dpkg-query -W -f='${Version}' selinux-policy-dev 2>/dev/null || true)
[[ -n $dev_version ]] ||
  die 2 "the Debian package 'selinux-policy-dev' is not installed (run scripts/install-selinux-tools.sh)."
readonly stamp="selinux-policy-dev $dev_version"

if [[ -s $out_pp && -f $out_version && "$(cat "$out_version")" == "$stamp" ]]; then
  say "reusing $out_pp (built against $stamp)."
  printf '%s\n' "$out_pp"
  exit 0
fi

need dpkg-deb dpkg
need tar tar
need zstd zstd

mkdir -p "$cache_dir"
# The scratch folder lives inside the cache folder so the final mv is an atomic rename: two runs at
# the same time each build their own copy and the last rename wins, never a half-written file.
work=$(mktemp -d "$cache_dir/.build.XXXXXX")
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT

deb=${HARDSPEC_SELINUX_POLICY_SRC_DEB:-}
if [[ -n $deb ]]; then
  [[ -f $deb ]] || die 2 "HARDSPEC_SELINUX_POLICY_SRC_DEB=$deb does not exist."
  say "using $deb (from HARDSPEC_SELINUX_POLICY_SRC_DEB)."
else
  need apt-get apt
  say "downloading selinux-policy-src=$dev_version with apt-get (about 1 MB)..."
  mkdir "$work/deb"
  # apt drops privileges to _apt for downloads; let it write here to avoid the "unsandboxed" warning.
  if ((EUID == 0)) && id _apt >/dev/null 2>&1; then chown _apt "$work/deb"; fi
  if ! (cd "$work/deb" && apt-get download -qq "selinux-policy-src=$dev_version" >&2); then
    die 1 "apt-get download selinux-policy-src=$dev_version failed. The version must match selinux-policy-dev; run 'apt-get update' and retry, or point HARDSPEC_SELINUX_POLICY_SRC_DEB at a downloaded .deb."
  fi
  deb=$(find "$work/deb" -maxdepth 1 -name 'selinux-policy-src_*.deb' -print -quit)
  [[ -n $deb ]] || die 1 "apt-get download reported success but no selinux-policy-src_*.deb appeared in $work/deb."
fi

dpkg-deb -x "$deb" "$work/pkg"
tarball="$work/pkg/usr/src/selinux-policy-src.tar.zst"
[[ -f $tarball ]] || die 1 "$deb does not contain usr/src/selinux-policy-src.tar.zst; is it really selinux-policy-src?"
tar --zstd -xf "$tarball" -C "$work" \
  "$SRC_PREFIX/container.te" "$SRC_PREFIX/container.fc" "$SRC_PREFIX/container.if" ||
  die 1 "could not extract container.te/.fc/.if from $tarball."

mkdir "$work/build"
cp "$work/$SRC_PREFIX/container.te" "$work/$SRC_PREFIX/container.fc" "$work/build/"
# The devel headers already carry container.if; a second copy beside the .te makes m4 report
# "duplicate definition" for every interface. Only add it when the headers lack it.
if [[ ! -f $DEVEL_CONTAINER_IF ]]; then
  cp "$work/$SRC_PREFIX/container.if" "$work/build/"
fi

say "compiling container.pp (make -f $DEVEL_MAKEFILE container.pp)..."
if ! make -s -C "$work/build" -f "$DEVEL_MAKEFILE" container.pp >"$work/make.log" 2>&1; then
  cat "$work/make.log" >&2
  die 1 "compiling the container module failed (output above)."
fi

cp "$work/build/container.pp" "$work/container.pp"
printf '%s\n' "$stamp" >"$work/container.pp.version"
mv -f "$work/container.pp" "$out_pp"
mv -f "$work/container.pp.version" "$out_version"
say "built $out_pp (against $stamp)."
printf '%s\n' "$out_pp"
