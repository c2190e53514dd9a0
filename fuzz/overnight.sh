#!/usr/bin/env bash
# Fuzz every target for a time budget on all cores, then minimize the corpora
# and report crashes with the commands that turn them into permanent tests.
#
#   fuzz/overnight.sh [TOTAL_SECONDS] [TARGET...]     (default: 28800 = 8 h, all targets)
#   fuzz/overnight.sh 60 decrypt_untrusted            (a one-minute look at one target)
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
[ "$per_target" -ge 10 ] || per_target=10

dict_for() {
  case "$1" in
    decode_message|decrypt_untrusted|x3dh_initial_message|session_interaction) echo fuzz/dictionaries/messages.dict ;;
    state_deserialize) echo fuzz/dictionaries/state.dict ;;
    vector_file) echo fuzz/dictionaries/json.dict ;;
  esac
}

echo "fuzzing ${#targets[@]} targets for ${per_target}s each on ${jobs} cores"
cargo +nightly fuzz build -O
crashed=()
for t in "${targets[@]}"; do
  mkdir -p "fuzz/work/$t" "fuzz/artifacts/$t"
  echo "==> $t"
  dict=$(dict_for "$t")
  # -fork runs one libFuzzer process per core; -ignore_crashes keeps going so
  # one crash does not end the night; every crash lands in fuzz/artifacts/$t/.
  cargo +nightly fuzz run -O "$t" "fuzz/work/$t" "fuzz/corpus/$t" -- \
    -max_total_time="$per_target" -fork="$jobs" -ignore_crashes=1 \
    -artifact_prefix="fuzz/artifacts/$t/" ${dict:+-dict=$dict} 2>&1 | tail -n 5 || true
  # Minimize what the night found into the work corpus.
  cargo +nightly fuzz cmin -O "$t" "fuzz/work/$t" >/dev/null 2>&1 || true
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
    reproduce:  cargo +nightly fuzz run $t $f
    minimize:   cargo +nightly fuzz tmin $t $f
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
