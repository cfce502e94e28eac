#!/bin/bash
# Server CPU per request of a framework hello world under tsgi and under its own listen()
# (docs/architecture.md, "node:http apps"): server on CPU 1, wrk on CPU 0, utime + stime from
# /proc/PID/stat around a 5 s run after a 2 s warm-up. Usage: bench/node-apps-cpu.sh express|koa|fastify
# (ROUNDS="1 2 3" by default; TSGI_EXTRA="--async 16" adds tsgi options).
APP=$1; ROOT=$(cd "$(dirname "$0")/.." && pwd); cd $ROOT; ROUNDS=${ROUNDS:-1 2 3}
HZ=$(getconf CLK_TCK)
cpu() { awk -v hz=$HZ '{print ($14+$15)}' /proc/$1/stat; }
run() { # kind port
  local kind=$1 port=$2 pid
  if [ $kind = tsgi ]; then
    taskset -c 1 node bin/tsgi.js --http-socket 127.0.0.1:$port --wsgi-file bench/apps/$APP.mjs --callable app --disable-logging $TSGI_EXTRA > /dev/null 2>&1 &
  else
    taskset -c 1 node bench/servers/own.mjs 127.0.0.1:$port $APP > /dev/null 2>&1 &
  fi
  pid=$!
  for i in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:$port/ && break; sleep 0.1; done
  taskset -c 0 wrk -t1 -c64 -d2s http://127.0.0.1:$port/ > /dev/null  # warm-up
  local c0=$(cpu $pid)
  local out=$(taskset -c 0 wrk -t1 -c64 -d5s http://127.0.0.1:$port/)
  local c1=$(cpu $pid)
  kill $pid; wait $pid 2>/dev/null
  local reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  local rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  echo "$APP $kind round=$3 reqs=$reqs rps=$rps us_per_req=$(echo "scale=2; ($c1-$c0)*1000000/$HZ/$reqs" | bc)"
}
for r in $ROUNDS; do run tsgi 18931 $r; [ -n "$NOOWN" ] || run own 18932 $r; done
