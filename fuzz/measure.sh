#!/usr/bin/env bash
# Executions per second of every fuzz target, one at a time on one core, from
# the committed corpus and dictionary with a fixed libFuzzer seed (new inputs go
# to a temporary directory; nothing committed changes). fuzz/README.md's
# throughput table comes from this script.
#
#   fuzz/measure.sh BINDIR LABEL [SECONDS]
#   fuzz/measure.sh fuzz/target/none/x86_64-unknown-linux-gnu/release throughput 15
#   fuzz/measure.sh fuzz/target/x86_64-unknown-linux-gnu/release asan 15
#
# Prints runs, CPU and wall seconds, runs per CPU-second (the fair figure on a
# shared machine) and per wall-second, and the load average at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bindir=$1 label=$2 secs=${3:-15}
targets=$(basename -s .rs fuzz/fuzz_targets/*.rs)
for t in $targets; do
  case "$t" in
    state_deserialize) dict=fuzz/dictionaries/state.dict ;;
    vector_file) dict=fuzz/dictionaries/json.dict ;;
    *) dict=fuzz/dictionaries/messages.dict ;;
  esac
  [ -x "$bindir/$t" ] || { echo "no $bindir/$t: build first (fuzz/README.md)"; exit 2; }
  work=$(mktemp -d)
  out=$({ /usr/bin/time -f "TIME %U %S %e" "$bindir/$t" "$work" "fuzz/corpus/$t" -seed=1 \
    -max_total_time="$secs" -dict="$dict" -artifact_prefix="$work/"; } 2>&1) \
    || { printf '%s\n' "$out" | tail -n 30; echo "$t failed"; rm -rf "$work"; exit 1; }
  runs=$(grep -o 'Done [0-9]* runs' <<<"$out" | grep -o '[0-9]*')
  read -r _ user sys wall < <(grep '^TIME' <<<"$out")
  awk -v l="$label" -v t="$t" -v r="$runs" -v u="$user" -v s="$sys" -v w="$wall" -v load="$(cut -d' ' -f1 /proc/loadavg)" \
    'BEGIN { printf "%s %s runs=%d cpu_s=%.2f wall_s=%.2f per_cpu_s=%.0f per_wall_s=%.0f load=%s\n", l, t, r, u + s, w, r / (u + s), r / w, load }'
  rm -rf "$work"
done
