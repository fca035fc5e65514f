#!/usr/bin/env bash
# build-base-image.sh [--yes] [IMAGE] — make sure a Debian base image exists locally.
#
# Idempotent: when IMAGE (default debian:bookworm) is already in the local
# engine it says so and exits 0. Otherwise it tries `docker pull` (bounded by a
# 20 s timeout); when no registry is reachable it builds the image locally:
# `debootstrap --variant=minbase SUITE` into a temporary directory, then
# `tar -C DIR -c . | docker import - IMAGE`. The temporary directory is always
# removed (trap). debootstrap is installed with apt only with consent: --yes,
# a non-empty CI variable, or a "y" typed at an interactive prompt.
#
# Environment: HARDSPEC_DEBIAN_SUITE (default: the tag of debian:<suite>, else
# bookworm), HARDSPEC_DEBIAN_MIRROR (default http://deb.debian.org/debian).
#
# Exit codes: 0 image present, 1 something failed, 2 cannot proceed without the
# user (no engine, not root, or no consent to install debootstrap).
set -euo pipefail

readonly PULL_TIMEOUT=20

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib/common.sh
. "$here/lib/common.sh"
LOG_PREFIX=build-base-image

usage() {
  cat <<'USAGE'
Usage: scripts/build-base-image.sh [--yes] [IMAGE]

Makes sure IMAGE (default debian:bookworm) exists in the local Docker engine:
pulls it, or, when no registry is reachable, builds it with debootstrap.

  -y, --yes   consent to installing debootstrap with apt (also: CI=<anything>)
  -h, --help  show this help
USAGE
}

image=""
while (($# > 0)); do
  case "$1" in
    -y | --yes) ASSUME_YES=1 ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; die 2 "unknown option: $1" ;;
    *)
      [[ -z "$image" ]] || die 2 "only one IMAGE argument is allowed (got '$image' and '$1')"
      image=$1
      ;;
  esac
  shift
done
image=${image:-debian:bookworm}
[[ "$image" == *:* ]] || image="$image:latest"

if [[ -n "${HARDSPEC_DEBIAN_SUITE:-}" ]]; then
  suite=$HARDSPEC_DEBIAN_SUITE
elif [[ "$image" == debian:* && "$image" != debian:latest ]]; then
  suite=${image#debian:}
else
  suite=bookworm
fi
mirror=${HARDSPEC_DEBIAN_MIRROR:-http://deb.debian.org/debian}


if ! docker info >/dev/null 2>&1; then
  die 2 "the Docker engine does not answer. Start it first: scripts/setup-docker.sh"
fi

if docker image inspect "$image" >/dev/null 2>&1; then
  say "$image is already present locally ($(docker image inspect --format '{{.Id}}' "$image" | cut -c1-19)); nothing to do."
  exit 0
fi

say "$image is not present locally; trying to pull it (at most ${PULL_TIMEOUT}s)..."
if timeout "$PULL_TIMEOUT" docker pull "$image" >/dev/null 2>&1; then
  say "pulled $image."
  exit 0
fi

say "no registry reachable; building $image locally with debootstrap (about a minute)"

if ((EUID != 0)); then
  die 2 "debootstrap needs root. Re-run as root: sudo $0 $image"
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  say "debootstrap is missing."
  if ! consent "install debootstrap with apt-get now?"; then
    die 2 "not installing anything without consent. Re-run with --yes (or CI=1), or: apt-get install debootstrap"
  fi
  say "installing debootstrap with apt-get..."
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap
fi

workdir=$(mktemp -d /tmp/hardspec-rootfs.XXXXXX)
rootfs="$workdir/rootfs"
cleanup() {
  # debootstrap mounts proc/sys inside the target while it runs; if it was
  # interrupted, unmount them before deleting (and never cross a mount point).
  local mnt
  if [[ -r /proc/mounts ]]; then
    awk -v p="$rootfs/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r |
      while read -r mnt; do umount -l "$mnt" 2>/dev/null || true; done
  fi
  rm -rf --one-file-system "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "running debootstrap --variant=minbase $suite (mirror $mirror) into $rootfs ..."
debootstrap_log="$workdir/debootstrap.log"
if ! debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$debootstrap_log" 2>&1; then
  printf '%s\n' "build-base-image: debootstrap failed; last lines of its output:" >&2
  tail -n 20 "$debootstrap_log" >&2 || true
  exit 1
fi

# Trim what a container image does not need: the downloaded .debs and apt lists.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
# Security and point-release updates, like the official image.
if [[ "$mirror" == http://deb.debian.org/debian && -f "$rootfs/etc/apt/sources.list" ]]; then
  cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb http://deb.debian.org/debian $suite main
deb http://deb.debian.org/debian $suite-updates main
deb http://deb.debian.org/debian-security $suite-security main
SOURCES
fi

say "importing the root filesystem into Docker as $image ..."
tar --numeric-owner -C "$rootfs" -c . |
  docker import \
    --change 'CMD ["bash"]' \
    --change "LABEL org.opencontainers.image.title=\"$image\" org.opencontainers.image.description=\"debootstrap --variant=minbase $suite, built locally by hardspec scripts/build-base-image.sh\"" \
    --message "debootstrap --variant=minbase $suite $mirror" \
    - "$image" >/dev/null

say "built $image ($(docker image inspect --format '{{.Size}}' "$image" | awk '{ printf "%.0f MB", $1 / 1000000 }'))."
