#!/usr/bin/env bash
# Builds and runs the C++ unit tests of native/src/proto, native/src/common and
# native/src/scoreboard without Node.
# Each test/native/*_test.cc becomes its own binary linked with every pure source file.
#   --asan   build with AddressSanitizer + UndefinedBehaviorSanitizer (halt on first report)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=plain
[ "${1:-}" = "--asan" ] && mode=asan
cxx=${CXX:-g++}
out=build/native-tests/$mode
mkdir -p "$out"
flags=(-std=c++17 -g -O1 -Wall -Wextra -Werror -Inative/src -Itest/native)
if [ "$mode" = asan ]; then
  flags+=(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
srcs=(native/src/common/*.cc native/src/proto/*.cc native/src/scoreboard/*.cc native/src/loop/shapes.cc)
status=0
for t in test/native/*_test.cc; do
  name=$(basename "$t" .cc)
  "$cxx" "${flags[@]}" "$t" "${srcs[@]}" -o "$out/$name"
  echo "# $name ($mode)"
  if ! "$out/$name"; then status=1; fi
done
exit $status
