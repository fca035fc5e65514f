# common.sh — shared by hardspec's shell scripts: messages, consent, apt installs.
# Callers set LOG_PREFIX and may set ASSUME_YES=1 (from --yes).
# shellcheck shell=bash

LOG_PREFIX=${LOG_PREFIX:-hardspec}
ASSUME_YES=${ASSUME_YES:-0}

say() { printf '%s\n' "$LOG_PREFIX: $*"; }
die() { local code=$1; shift; printf '%s\n' "$LOG_PREFIX: $*" >&2; exit "$code"; }

# parse_consent_flags "$@" → the arguments of a set-up script that takes only --yes and --help:
# --help prints the caller's usage function; anything else is a usage error (exit 2).
parse_consent_flags() {
  while (($# > 0)); do
    case "$1" in
      -y | --yes) ASSUME_YES=1 ;;
      -h | --help) usage; exit 0 ;;
      *) usage >&2; die 2 "unknown argument: $1" ;;
    esac
    shift
  done
}

# consent "question" → 0 when --yes was given, CI is set, or the user typed y at a terminal.
consent() {
  if ((ASSUME_YES)); then say "consent given with --yes."; return 0; fi
  if [[ -n "${CI:-}" ]]; then say "consent assumed because CI is set."; return 0; fi
  if [[ -t 0 && -t 1 ]]; then
    local answer=""
    read -r -p "$LOG_PREFIX: $1 [y/N] " answer || true
    [[ "$answer" == [yY] || "$answer" == [yY][eE][sS] ]]
    return
  fi
  return 1
}

# apt_install "why" PACKAGE… → installs the missing packages, with consent, as root.
apt_install() {
  local why=$1; shift
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && { say "already installed: $*"; return 0; }
  command -v apt-get >/dev/null 2>&1 || die 2 "missing ${missing[*]} ($why), and this is not a Debian/Ubuntu system with apt-get: install them by hand."
  ((EUID == 0)) || die 2 "missing ${missing[*]} ($why). Installing needs root: sudo $0 --yes"
  consent "install ${missing[*]} with apt-get ($why)?" || die 2 "missing ${missing[*]} ($why); re-run with --yes to install them."
  say "installing ${missing[*]} with apt-get …"
  if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  say "installed ${missing[*]}."
}
