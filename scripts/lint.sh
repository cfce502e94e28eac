#!/usr/bin/env bash
# Formatting and lint checks, as `npm run lint` runs them (and `npm test` through scripts/test.sh):
#   TypeScript and JavaScript: Biome (biome.json) — formatter, linter and import order
#   C++ (native/, test/native/): clang-format (.clang-format), checked without rewriting
# `bash scripts/lint.sh --fix` rewrites the files instead of failing on them.
set -euo pipefail
cd "$(dirname "$0")/.."

fix=0
[[ "${1:-}" == "--fix" ]] && fix=1

mapfile -t cxx < <(git ls-files 'native/*.cc' 'native/*.h' 'test/native/*.cc' 'test/native/*.h' 'test/fuzz/*.cc')
if ((fix)); then
  npx biome check --write .
  clang-format -i "${cxx[@]}"
else
  npx biome check .
  clang-format --dry-run --Werror "${cxx[@]}"
fi
