#!/bin/bash -eu
# Builds every cargo-fuzz target with the engine's flags (cargo fuzz sets them)
# and hands ClusterFuzzLite / OSS-Fuzz the binaries, seed corpora and
# dictionaries under the names the engine looks for: $OUT/<target>,
# $OUT/<target>_seed_corpus.zip, $OUT/<target>.dict.
cd "$SRC/ratchetproof"
cargo fuzz build -O --debug-assertions
built=fuzz/target/x86_64-unknown-linux-gnu/release
for target in $(cargo fuzz list); do
  cp "$built/$target" "$OUT/"
  if [ -d "fuzz/corpus/$target" ]; then
    (cd "fuzz/corpus/$target" && zip -q -r "$OUT/${target}_seed_corpus.zip" .)
  fi
  case "$target" in
    decode_message|decrypt_untrusted|x3dh_initial_message|session_interaction)
      cp fuzz/dictionaries/messages.dict "$OUT/$target.dict" ;;
    state_deserialize) cp fuzz/dictionaries/state.dict "$OUT/$target.dict" ;;
    vector_file) cp fuzz/dictionaries/json.dict "$OUT/$target.dict" ;;
  esac
done
