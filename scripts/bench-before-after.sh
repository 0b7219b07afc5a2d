#!/usr/bin/env bash
# The libav and eval benches on a commit before a change and on this checkout, back to back,
# each pair in one run of this script, so both sets of figures are taken under the same conditions.
#
#   scripts/bench-before-after.sh REV [ROUNDS]
#
# REV is checked out in a temporary worktree (removed at the end) and installed from the pnpm store.
# ROUNDS (default 2) repeats the alternation per bench, the order swapped every round (before then
# after, after then before, ...), so that a machine whose speed drifts during the script weighs on
# both sides. BENCHES (default "libav eval") chooses the benches. The benches keep their own rounds
# and medians/bests; the load average is printed before each run, and at the end
# scripts/bench-compare.mjs prints each headline figure per round, the median of the paired
# after/before ratios and the noise (the spread of one side's own rounds; 2 rounds at least for a
# verdict, 3 or more for a useful one).
set -euo pipefail
before=${1:?usage: scripts/bench-before-after.sh REV [ROUNDS]}
rounds=${2:-2}
case "$rounds" in '' | *[!0-9]* | 0) echo "ROUNDS must be a positive whole number, got '$rounds'" >&2; exit 2 ;; esac
benches=${BENCHES:-libav eval}
for bench in $benches; do
  case "$bench" in libav | eval) ;; *) echo "unknown bench '$bench' in BENCHES (libav, eval)" >&2; exit 2 ;; esac
done
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

# Each run's output, read by the summary; removed with the worktree at the end (also when a bench
# fails, which stops the script: its output is on the terminal).
mkdir "$dir/out"

run() { # round side package command...
  local round=$1 side=$2 pkg=$3 tree=$root
  shift 3
  [ "$side" = before ] && tree=$dir/tree
  echo
  echo "=== $pkg, $side ($(git -C "$tree" rev-parse --short HEAD)), $(date -u +%H:%M) UTC, load $(cut -d' ' -f1-3 /proc/loadavg)"
  (cd "$tree/packages/$pkg" && "$@") | tee "$dir/out/$pkg-$side-$round.txt"
}
for r in $(seq 1 "$rounds"); do
  echo
  echo "##### round $r of $rounds"
  order="before after"
  [ $((r % 2)) = 0 ] && order="after before"
  for bench in $benches; do
    for side in $order; do
      case "$bench" in
        libav) run "$r" "$side" libav pnpm bench ;;
        eval) run "$r" "$side" eval pnpm exec tsx bench/index.ts ;;
      esac
    done
  done
done
echo
echo "##### summary"
node "$root/scripts/bench-compare.mjs" "$dir/out"
