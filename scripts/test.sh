#!/usr/bin/env bash
# The whole test suite, as `npm test` runs it (and CI through .ci/run):
#   1. native parser unit tests, plain and under AddressSanitizer + UBSan
#   2. a short libFuzzer run of every parser target (FUZZ_SECONDS each, default 15)
#   3. TypeScript unit tests, the conformance suites, the integration tests (real CLI), the
#      differential tests (real framework apps: own server against tsgi)
#   4. the router, garbage-input, FastCGI and SCGI integration tests again, the addon built
#      with ASan + UBSan
#   5. a benchmark smoke run (tsgi bench --quick), which fails on errors, not on speed
#   6. formatting and lint (scripts/lint.sh)
# A failing stage does not stop the run: every stage runs, the failed ones are listed at the
# end, and the exit status is non-zero if any failed, so one run shows every failure.
set -uo pipefail
cd "$(dirname "$0")/.."

failed=()
step() {
  local name=$1
  shift
  printf '\n=== %s ===\n' "$name"
  if ! "$@"; then
    failed+=("$name")
    printf '=== FAILED: %s ===\n' "$name"
  fi
}

bench_smoke() {
  local out
  out=$(mktemp -d "${TMPDIR:-/tmp}/tsgi-bench-quick.XXXXXX")
  node bin/tsgi.js bench --quick --out "$out"
  local rc=$?
  rm -rf "$out"
  return $rc
}

step "native unit tests" bash scripts/native-tests.sh
step "native unit tests under ASan + UBSan" bash scripts/native-tests.sh --asan
step "fuzz (${FUZZ_SECONDS:-15} s per target)" env FUZZ_SECONDS="${FUZZ_SECONDS:-15}" bash scripts/fuzz.sh
step "unit tests" node --import tsx --test test/unit/*.test.ts
step "conformance" node --import tsx --test test/conformance/*.test.ts
step "integration" node --import tsx --test --test-concurrency=2 test/integration/*.test.ts test/integration/helpers/*.test.ts
step "differential: real framework apps under their own server and under tsgi" \
  node --import tsx --test --test-concurrency=1 test/differential/*.test.ts
step "router, garbage-input, FastCGI and SCGI integration tests with the addon under ASan + UBSan" \
  bash scripts/asan-integration.sh
step "benchmark smoke run (tsgi bench --quick: fails if any point errors, never on speed)" bench_smoke
step "formatting and lint" bash scripts/lint.sh

if ((${#failed[@]})); then
  printf '\n=== %d stage(s) failed ===\n' "${#failed[@]}"
  printf '  %s\n' "${failed[@]}"
  exit 1
fi
printf '\n=== every stage passed ===\n'
