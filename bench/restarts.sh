#!/usr/bin/env bash
# bench/restarts.sh — start and recreate one service of the compiled guestbook N times and count
# the starts that did not become healthy (a crash at start-up, such as the SIGSEGV an early db
# allowlist gave in about one start of three, shows up here and in few other places).
#
#   bash bench/restarts.sh [SERVICE] [N]          (defaults: db 10; run from the repository)
#
# Uses generated/guestbook/compose.yaml as compiled (build the images first: hardspec verify or
# docker-compose build). The project is hardspec-restarts; it is removed at the end, volumes too.
# Each round removes the container and creates it again on the same named volume (as a redeploy
# does), then waits up to 90 s for "healthy". Prints one line per round and a summary; appends
# both to bench/results/restarts-<date>.txt. Exit code: 0 all healthy, 1 some were not, 2 usage.
set -euo pipefail

service=${1:-db}
rounds=${2:-10}
[[ $rounds =~ ^[0-9]+$ ]] || { echo "restarts.sh: N must be a whole number" >&2; exit 2; }
[[ $service =~ ^[a-z0-9][a-z0-9_-]*$ ]] || { echo "restarts.sh: not a service name: $service" >&2; exit 2; }
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir="$repo/generated/guestbook"
[[ -f $dir/compose.yaml ]] || { echo "restarts.sh: $dir/compose.yaml is missing: run hardspec compile" >&2; exit 2; }
out="$repo/bench/results/restarts-$(date -u +%F).txt"
project=hardspec-restarts
compose() { (cd "$dir" && docker-compose -p "$project" "$@"); }
say() { echo "$*"; echo "$*" >> "$out"; }
trap 'compose down -v --remove-orphans >/dev/null 2>&1 || true' EXIT

wait_healthy() {
  local id=$1 state
  for _ in $(seq 90); do
    state=$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$id" 2>/dev/null || echo gone)
    case $state in
      "running healthy") return 0 ;;
      exited*|dead*|gone) echo "$state"; return 1 ;;
    esac
    sleep 1
  done
  echo "$state after 90 s"; return 1
}

say "# restarts.sh $service × $rounds — $(date -u +%FT%TZ), $(hostname), seccomp profile sha256 $(sha256sum "$dir/seccomp/$service.json" | cut -c1-12)"
failed=0
for round in $(seq 0 "$rounds"); do
  if (( round > 0 )); then compose rm -sf "$service" >/dev/null 2>&1; fi
  started=$(date +%s.%N)
  # Round 0 starts the whole stack (compose waits for the service's health before its dependents).
  if (( round == 0 )); then compose up -d >/dev/null 2>&1 || true; else compose up -d --no-deps "$service" >/dev/null 2>&1 || true; fi
  id=$(compose ps -q "$service")
  if why=$(wait_healthy "$id"); then
    say "  round $round: healthy after $(printf '%.1f' "$(echo "$(date +%s.%N) - $started" | bc)") s"
  else
    failed=$((failed + 1))
    say "  round $round: NOT healthy ($why; exit code $(docker inspect -f '{{.State.ExitCode}}' "$id" 2>/dev/null || echo ?)); last lines:"
    docker logs --tail 5 "$id" 2>&1 | sed 's/^/      /' | tee -a "$out"
  fi
done
say "  $service: $((rounds + 1 - failed)) of $((rounds + 1)) starts healthy (1 fresh start, $rounds recreations on the same volume)"
(( failed == 0 ))
