#!/bin/bash
# What the scoreboard's per-request counters cost on the hello-world path (docs/stats.md,
# "Prometheus metrics"): worker CPU per request of two builds of tsgi, alternated A B A B.
# The scoreboard is only written with a master, so each run is `--master --processes 1`; the
# master and its worker run on CPU 1, wrk on CPU 0 (-t1 -c64, 2 s warm-up then 5 s), and the
# worker's utime + stime is read from /proc/PID/stat before and after the 5 s.
# Usage: bench/metrics-cost.sh OLD_TREE NEW_TREE  (each a built checkout: build/ and dist/;
# ROUNDS="1 2 3 4" by default)
OLD=$1; NEW=$2; ROUNDS=${ROUNDS:-1 2 3 4}; HERE=$(cd "$(dirname "$0")/.." && pwd)
HZ=$(getconf CLK_TCK)
# utime + stime: fields 14 and 15, counted after the ")" that ends the process name, which
# has spaces once tsgi names its processes ("tsgi worker 1").
cpu() { sed 's/^.*) //' /proc/$1/stat | awk '{print ($12+$13)}'; }
run() { # label tree port round
  local label=$1 tree=$2 port=$3 master worker
  taskset -c 1 node $tree/bin/tsgi.js --http-socket 127.0.0.1:$port --wsgi-file $HERE/bench/apps/hello.js \
    --master --processes 1 --disable-logging > /dev/null 2>&1 &
  master=$!
  for i in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:$port/ && break; sleep 0.1; done
  worker=$(cat /proc/$master/task/*/children | awk '{print $1}')
  taskset -c 0 wrk -t1 -c64 -d2s http://127.0.0.1:$port/ > /dev/null  # warm-up
  local c0=$(cpu $worker)
  local out=$(taskset -c 0 wrk -t1 -c64 -d5s http://127.0.0.1:$port/)
  local c1=$(cpu $worker)
  kill -INT $master; wait $master 2>/dev/null
  local reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "$label round=$4 reqs=$reqs us_per_req=$(echo "scale=3; ($c1-$c0)*1000000/$HZ/$reqs" | bc)"
}
for r in $ROUNDS; do run old $OLD 18941 $r; run new $NEW 18942 $r; done
