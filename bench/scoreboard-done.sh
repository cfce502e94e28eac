#!/bin/bash
# ScoreboardRequestDone of two trees, alternated A B A B (bench/micro/scoreboard-done.cc):
# wall ns per call on CPU 1, and instructions per call from callgrind (valgrind) over 100 k calls.
# Usage: bench/scoreboard-done.sh OLD_TREE NEW_TREE  (ROUNDS="1 2 3" by default; the old tree's
# ScoreboardRequestDone has the layout-1 signature)
OLD=$1; NEW=$2; ROUNDS=${ROUNDS:-1 2 3}; HERE=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(mktemp -d); trap 'rm -rf "$OUT"' EXIT
build() { # tree out [-DTSGI_OLD_DONE]
  g++ -std=c++17 -O3 -I$1/native/src $3 $HERE/bench/micro/scoreboard-done.cc $1/native/src/scoreboard/scoreboard.cc -o $2
}
build $OLD $OUT/old -DTSGI_OLD_DONE; build $NEW $OUT/new
instr() { # binary: Ir per call, from the difference between 200 k and 100 k calls
  local a b
  a=$(valgrind --tool=callgrind --callgrind-out-file=$OUT/cg.a $1 100000 1 2>&1 | awk '/Collected/ {print $4}')
  b=$(valgrind --tool=callgrind --callgrind-out-file=$OUT/cg.b $1 200000 1 2>&1 | awk '/Collected/ {print $4}')
  echo "scale=1; ($b - $a) / 100000" | bc
}
for r in $ROUNDS; do
  for kind in old new; do echo "$kind round=$r $(taskset -c 1 $OUT/$kind 20000000 5)"; done
done
echo "old instructions_per_call=$(instr $OUT/old)"
echo "new instructions_per_call=$(instr $OUT/new)"
