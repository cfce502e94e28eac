#!/usr/bin/env bash
# Runs integration tests against an AddressSanitizer + UBSan build of the whole addon (the
# socket layer and the router, which the pure-parser native tests do not reach). The build
# happens in a copy of the checkout, so build/ here is untouched; libasan and libubsan are
# preloaded into every node process the tests start (master, workers, router).
#   scripts/asan-integration.sh [test files...]   default: the router, garbage-input, FastCGI and
#   SCGI tests
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tests=("$@")
[ ${#tests[@]} -eq 0 ] && tests=(test/integration/router.test.ts test/integration/garbage.test.ts
  test/integration/fastcgi.test.ts test/integration/scgi.test.ts)

work=$(mktemp -d "${TMPDIR:-/tmp}/tsgi-asan.XXXXXX")
trap 'rm -rf "$work"' EXIT
git ls-files -z | xargs -0 cp --parents -t "$work"
ln -s "$root/node_modules" "$work/node_modules"
cd "$work"
# -O1 -g with both sanitizers, linked into the addon; everything else as in binding.gyp.
sed -i 's/"cflags_cc": \["-std=c++17", "-O2",/"ldflags": ["-fsanitize=address,undefined"], "cflags_cc": ["-std=c++17", "-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer",/' binding.gyp
grep -q 'fsanitize=address' binding.gyp || { echo "asan-integration: could not patch binding.gyp" >&2; exit 1; }
npm run build >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }

reports="$work/reports"
mkdir -p "$reports"
status=0
LD_PRELOAD="$(g++ -print-file-name=libasan.so):$(g++ -print-file-name=libubsan.so)" \
  ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:log_path=$reports/asan" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan" \
  node --import tsx --test --test-concurrency=1 "${tests[@]}" || status=1
# A report from any process (a router or worker that died under the sanitizer) fails the run
# even if the tests themselves recovered from it (a respawn, say).
if compgen -G "$reports/*" >/dev/null; then
  echo "asan-integration: sanitizer reports:" >&2
  cat "$reports"/* >&2
  status=1
fi
exit $status
