#!/bin/bash
# Memory of a tsgi instance by process (docs/deploy.md, "Capacity on paper"): starts
# `tsgi --master --processes N` on APP, loads it with wrk for 5 s, then prints VmRSS and Pss
# (/proc/PID/smaps_rollup: shared pages divided among the processes sharing them, so the Pss
# of all processes adds up to what the instance really takes) of the master and each worker.
# Usage: bench/worker-memory.sh N [APP [CALLABLE]]   e.g. bench/worker-memory.sh 4 bench/apps/express.mjs app
N=${1:-2}; APP=${2:-bench/apps/hello.js}; CALLABLE=${3:-application}
ROOT=$(cd "$(dirname "$0")/.." && pwd); cd "$ROOT"
PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
node bin/tsgi.js --http-socket 127.0.0.1:$PORT --wsgi-file "$APP" --callable "$CALLABLE" --master --processes "$N" \
  --disable-logging > /dev/null 2>&1 &
MASTER=$!
trap 'kill -TERM $MASTER 2>/dev/null; wait $MASTER 2>/dev/null' EXIT
for _ in $(seq 600); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
# Every worker has served before the figures are read.
wrk -t1 -c$((N * 8)) -d5s "http://127.0.0.1:$PORT/" > /dev/null
kb() { awk -v k="$2:" '$1 == k {print $2}' "$1"; }
total_pss=0
for pid in $MASTER $(cat /proc/$MASTER/task/*/children); do
  rss=$(kb /proc/$pid/status VmRSS); pss=$(kb /proc/$pid/smaps_rollup Pss)
  total_pss=$((total_pss + pss))
  echo "$(tr '\0' ' ' < /proc/$pid/cmdline | cut -c1-40) pid=$pid rss_kib=$rss pss_kib=$pss"
done
echo "app=$APP processes=$N total_pss_kib=$total_pss"
