#!/usr/bin/env bash
# The libav and eval benches on a commit before a change and on this checkout, back to back,
# each pair in one run of this script, so both sets of figures are taken under the same conditions.
#
#   scripts/bench-before-after.sh REV [ROUNDS]
#
# REV is checked out in a temporary worktree (removed at the end) and installed from the pnpm store.
# ROUNDS (default 2) repeats the alternation: before, after, before, after, ... per bench.
# The benches keep their own rounds and medians/bests; the load average is printed before each.
set -euo pipefail
before=${1:?usage: scripts/bench-before-after.sh REV [ROUNDS]}
rounds=${2:-2}
case "$rounds" in '' | *[!0-9]* | 0) echo "ROUNDS must be a positive whole number, got '$rounds'" >&2; exit 2 ;; esac
root=$(git rev-parse --show-toplevel)
dir=$(mktemp -d "${TMPDIR:-/tmp}/vidpool-before.XXXXXX")
cleanup() {
  git -C "$root" worktree remove --force "$dir/tree" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
git -C "$root" worktree add --detach "$dir/tree" "$before" >/dev/null
(cd "$dir/tree" && pnpm install --frozen-lockfile --prefer-offline >/dev/null)

run() { # side tree package command...
  local side=$1 tree=$2 pkg=$3
  shift 3
  echo
  echo "=== $pkg, $side ($(git -C "$tree" rev-parse --short HEAD)), $(date -u +%H:%M) UTC, load $(cut -d' ' -f1-3 /proc/loadavg)"
  (cd "$tree/packages/$pkg" && "$@")
}
for r in $(seq 1 "$rounds"); do
  echo
  echo "##### round $r of $rounds"
  run before "$dir/tree" libav pnpm bench
  run after "$root" libav pnpm bench
  run before "$dir/tree" eval pnpm exec tsx bench/index.ts
  run after "$root" eval pnpm exec tsx bench/index.ts
done
