#!/bin/bash
# Server CPU per request of one app under two builds of tsgi, alternated A B A B: one tsgi
# process (no master) on CPU 1, wrk on CPU 0 (-t1 -c64, 2 s warm-up then 5 s), the process's
# utime + stime read from /proc/PID/stat before and after the 5 s.
# Usage: bench/app-cpu.sh OLD_TREE NEW_TREE  (each a built checkout: build/ and dist/;
# APP=bench/apps/fetch.mjs and ROUNDS="1 2 3 4" by default; extra tsgi arguments in ARGS)
OLD=$1; NEW=$2; ROUNDS=${ROUNDS:-1 2 3 4}; HERE=$(cd "$(dirname "$0")/.." && pwd)
APP=${APP:-$HERE/bench/apps/fetch.mjs}
HZ=$(getconf CLK_TCK)
# utime + stime: fields 14 and 15, counted after the ")" that ends the process name.
cpu() { sed 's/^.*) //' /proc/$1/stat | awk '{print ($12+$13)}'; }
run() { # label tree port round
  local label=$1 tree=$2 port=$3 pid
  # shellcheck disable=SC2086 # ARGS is a list of arguments
  taskset -c 1 node "$tree/bin/tsgi.js" --http-socket 127.0.0.1:$port --wsgi-file "$APP" \
    --disable-logging $ARGS > /dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:$port/ && break; sleep 0.1; done
  taskset -c 0 wrk -t1 -c64 -d2s http://127.0.0.1:$port/ > /dev/null  # warm-up
  local c0 c1 out reqs
  c0=$(cpu $pid)
  out=$(taskset -c 0 wrk -t1 -c64 -d5s http://127.0.0.1:$port/)
  c1=$(cpu $pid)
  kill -INT $pid; wait $pid 2>/dev/null
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "$label round=$4 reqs=$reqs us_per_req=$(echo "scale=3; ($c1-$c0)*1000000/$HZ/$reqs" | bc)"
}
for r in $ROUNDS; do run old "$OLD" 18951 "$r"; run new "$NEW" 18952 "$r"; done
