#!/usr/bin/env bash
# Fuzz every target for a time budget on all cores, then minimize the corpora
# and report crashes with the commands that turn them into permanent tests.
#
#   fuzz/overnight.sh [TOTAL_SECONDS] [TARGET...]     (default: 28800 = 8 h, all targets)
#   fuzz/overnight.sh 60 decrypt_untrusted            (a one-minute look at one target)
#
# Each target's share of the budget runs mostly in the throughput configuration
# (no sanitizer, `-s none`, its own target dir fuzz/target/none so the two
# builds never overwrite each other) and ASAN_SHARE percent (default 25) under
# AddressSanitizer, on the same growing corpus: the throughput build explores,
# the ASan build checks the dependencies' unsafe code (fuzz/README.md).
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`).
# The growing corpora live in fuzz/work/<target>/ (not committed); the
# committed seeds in fuzz/corpus/<target>/ are read, never written.
set -euo pipefail
cd "$(dirname "$0")/.."

total=${1:-28800}
shift || true
if [ "$#" -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(cargo +nightly fuzz list); fi
jobs=$(nproc)
per_target=$(( total / ${#targets[@]} ))
[ "$per_target" -ge 20 ] || per_target=20
asan_share=${ASAN_SHARE:-25}
asan_time=$(( per_target * asan_share / 100 ))
fast_time=$(( per_target - asan_time ))
fast=(-O -s none --target-dir fuzz/target/none)
asan=(-O)

dict_for() {
  case "$1" in
    decode_message|decrypt_untrusted|x3dh_initial_message|session_interaction) echo fuzz/dictionaries/messages.dict ;;
    state_deserialize) echo fuzz/dictionaries/state.dict ;;
    vector_file) echo fuzz/dictionaries/json.dict ;;
  esac
}

echo "fuzzing ${#targets[@]} targets for ${per_target}s each on ${jobs} cores" \
  "(${fast_time}s without sanitizer, ${asan_time}s with ASan)"
cargo +nightly fuzz build "${fast[@]}"
[ "$asan_time" -eq 0 ] || cargo +nightly fuzz build "${asan[@]}"
crashed=()
for t in "${targets[@]}"; do
  mkdir -p "fuzz/work/$t" "fuzz/artifacts/$t"
  echo "==> $t"
  dict=$(dict_for "$t")
  # -fork runs one libFuzzer process per core; -ignore_crashes keeps going so
  # one crash does not end the night; every crash lands in fuzz/artifacts/$t/.
  for config in fast asan; do
    if [ "$config" = fast ]; then opts=("${fast[@]}"); secs=$fast_time; else opts=("${asan[@]}"); secs=$asan_time; fi
    [ "$secs" -gt 0 ] || continue
    echo "  -- $config, ${secs}s"
    cargo +nightly fuzz run "${opts[@]}" "$t" "fuzz/work/$t" "fuzz/corpus/$t" -- \
      -max_total_time="$secs" -fork="$jobs" -ignore_crashes=1 \
      -artifact_prefix="fuzz/artifacts/$t/" ${dict:+-dict=$dict} 2>&1 | tail -n 5 || true
  done
  # Minimize what the night found into the work corpus.
  cargo +nightly fuzz cmin "${fast[@]}" "$t" "fuzz/work/$t" >/dev/null 2>&1 || true
  if compgen -G "fuzz/artifacts/$t/crash-*" >/dev/null || compgen -G "fuzz/artifacts/$t/oom-*" >/dev/null \
     || compgen -G "fuzz/artifacts/$t/timeout-*" >/dev/null; then
    crashed+=("$t")
  fi
done

if [ "${#crashed[@]}" -eq 0 ]; then
  echo "no crashes. Corpora: fuzz/work/<target>/ (minimized)."
  exit 0
fi
echo
echo "CRASHES in: ${crashed[*]}"
for t in "${crashed[@]}"; do
  for f in fuzz/artifacts/"$t"/{crash,oom,timeout}-*; do
    [ -e "$f" ] || continue
    cat <<MSG
  $f
    reproduce:  cargo +nightly fuzz run -O -s none --target-dir fuzz/target/none $t $f
                (or with ASan: cargo +nightly fuzz run -O $t $f)
    minimize:   cargo +nightly fuzz tmin -O -s none --target-dir fuzz/target/none $t $f
    make it a permanent test (replayed by cargo test on stable):
                mkdir -p fuzz/regressions/$t && cp $f fuzz/regressions/$t/ \\
                && cargo test -p ratchetproof --test fuzz_corpus $t
MSG
    if [ "$t" = session_interaction ]; then
      echo "    once fixed, export it as a session-scenario vector for every implementation:"
      echo "                cargo run -p ratchetproof --features arbitrary --example fuzz_to_vector -- $f"
    fi
  done
done
exit 1
