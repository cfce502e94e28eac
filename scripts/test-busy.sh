#!/usr/bin/env bash
# Runs the whole suite (scripts/test.sh) several times in a row while CPU-bound busy loops keep
# every CPU occupied, and stops at the first failing run: the suite must stay green on a machine
# that is doing other work, as CI machines and developers' laptops are.
#   scripts/test-busy.sh [--runs N] [--burners K] [--logs DIR]
# Defaults: 5 runs, one busy loop per CPU (nproc), logs in a new directory under $TMPDIR.
# Each run's full output is kept in DIR/run-I.log; a summary line per run goes to stdout.
# The busy loops are this script's own children, ended by their PIDs when it exits.
set -uo pipefail
cd "$(dirname "$0")/.."

runs=5
burners=$(nproc)
logs=""
while (($#)); do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --burners) burners=$2; shift 2 ;;
    --logs) logs=$2; shift 2 ;;
    *) echo "test-busy: unknown argument $1 (expected --runs N, --burners K, --logs DIR)" >&2; exit 2 ;;
  esac
done
[ -n "$logs" ] || logs=$(mktemp -d "${TMPDIR:-/tmp}/tsgi-test-busy.XXXXXX")
mkdir -p "$logs"

pids=()
stop_burners() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  pids=()
}
trap stop_burners EXIT
trap 'exit 130' INT TERM
for ((i = 0; i < burners; i++)); do
  bash -c 'while :; do :; done' &
  pids+=($!)
done
echo "test-busy: $burners busy loop(s) running (pids ${pids[*]}); logs in $logs"

for ((run = 1; run <= runs; run++)); do
  started=$(date +%s)
  bash scripts/test.sh >"$logs/run-$run.log" 2>&1
  rc=$?
  took=$(($(date +%s) - started))
  if ((rc == 0)); then
    echo "test-busy: run $run of $runs passed in ${took} s"
  else
    echo "test-busy: run $run of $runs FAILED in ${took} s; its failed stages:"
    sed -n '/stage(s) failed ===/,$p' "$logs/run-$run.log"
    grep -n '^not ok\|# fail [1-9]' "$logs/run-$run.log" | head -20
    exit 1
  fi
done
echo "test-busy: $runs run(s) in a row passed with $burners busy loop(s)"
