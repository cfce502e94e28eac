#!/usr/bin/env bash
# Builds every libFuzzer target test/fuzz/*_fuzz.cc (with ASan + UBSan, linked with the pure
# native sources) into build/fuzz/ and runs each for FUZZ_SECONDS (default 30) on a copy of
# its seed corpus test/fuzz/corpus/<name>/, so runs never write into the repository.
# Also replays test/fuzz/corpus/<name>/regressions/ when present. A dictionary
# test/fuzz/<name>.dict is used when it exists (the chunked target shares http1.dict).
# Exits non-zero if any target fails to build or finds a crash.
#   scripts/fuzz.sh [name...]   only the named targets (e.g. http1 chunked)
set -euo pipefail
cd "$(dirname "$0")/.."
cxx=${FUZZ_CXX:-clang++}
seconds=${FUZZ_SECONDS:-30}
out=${FUZZ_OUT:-build/fuzz}  # node-gyp rebuild wipes build/: recreated per target
mkdir -p "$out"
flags=(-std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Inative/src)
srcs=(native/src/proto/*.cc native/src/common/*.cc)

targets=()
if [ $# -gt 0 ]; then
  for n in "$@"; do targets+=("test/fuzz/${n}_fuzz.cc"); done
else
  targets=(test/fuzz/*_fuzz.cc)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for t in "${targets[@]}"; do
  name=$(basename "$t" _fuzz.cc)
  echo "== $name: building"
  mkdir -p "$out"
  if ! "$cxx" "${flags[@]}" "$t" "${srcs[@]}" -o "$out/${name}_fuzz"; then
    echo "== $name: build failed"; status=1; continue
  fi
  corpus="$work/$name"
  mkdir -p "$corpus"
  if [ -d "test/fuzz/corpus/$name" ]; then
    find "test/fuzz/corpus/$name" -type f -exec cp {} "$corpus/" \;
  fi
  args=(-max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$out/${name}-")
  dict="test/fuzz/$name.dict"
  [ "$name" = chunked ] && [ ! -f "$dict" ] && dict=test/fuzz/http1.dict
  [ -f "$dict" ] && args+=(-dict="$dict")
  echo "== $name: fuzzing for ${seconds}s"
  if ! "$out/${name}_fuzz" "${args[@]}" "$corpus" 2>"$out/$name.log"; then
    echo "== $name: FAILED (see $out/$name.log and $out/${name}-crash-*)"
    tail -40 "$out/$name.log"
    status=1
  else
    grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "$out/$name.log" | sed "s/^/== $name: /"
  fi
done
exit $status
