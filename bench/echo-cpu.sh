#!/bin/bash
# CPU per request of the 64 KiB POST echo behind nginx `uwsgi_pass`: tsgi `--socket` running
# bench/apps/echo.js against uWSGI running its twin bench/apps/echo_wsgi.py. The backend and
# nginx share CPU 1, wrk -t1 -c16 (a 64 KiB POST body from a lua script) runs on CPU 0; utime +
# stime of the backend (and its stime alone) and of nginx from /proc/PID/stat around a DURATION s run after a 2 s
# warm-up. Backends run interleaved (A B A B ...), ROUNDS times, each round on fresh processes;
# the summary gives each backend's median and range of backend µs/req and nginx µs/req.
# Usage: bench/echo-cpu.sh   (BACKENDS="tsgi uwsgi", ROUNDS=5, DURATION=5, CONNS=16,
#                             TSGI_ARGS="" extra tsgi flags, e.g. "--async 16")
# BASE=DIR adds backend `base`: tsgi from DIR, a built checkout of another commit (before/after
# in one run: `git archive COMMIT | tar -x -C DIR`, then build it there).
# BACKENDS defaults to "base tsgi uwsgi" when BASE is set.
BACKENDS=${BACKENDS:-${BASE:+base }tsgi uwsgi}; ROUNDS=${ROUNDS:-5}; DURATION=${DURATION:-5}; CONNS=${CONNS:-16}
ROOT=$(cd "$(dirname "$0")/.." && pwd); cd "$ROOT"
HZ=$(getconf CLK_TCK)
DIR=$(mktemp -d "${TMPDIR:-/tmp}/tsgi-echo-cpu.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$DIR"; }
trap cleanup EXIT
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
sys_ticks() { awk '{print $15}' "/proc/$1/stat"; }
wait_port() { for _ in $(seq 600); do curl -s -o /dev/null -d x "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; return 1; }

cat > "$DIR/post64k.lua" <<'LUA'
wrk.method = "POST"
wrk.body = string.rep("x", 65536)
wrk.headers["Content-Type"] = "application/octet-stream"
LUA

nginx_conf() { # front-port backend-port
  cat > "$DIR/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
error_log $DIR/error.log warn;
pid $DIR/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $DIR/cb; proxy_temp_path $DIR/px; fastcgi_temp_path $DIR/fc;
    uwsgi_temp_path $DIR/uw; scgi_temp_path $DIR/sc;
    keepalive_requests 1000000;
    # bodies up to 1 MiB and responses up to 128 KiB stay in memory (no temp files)
    client_max_body_size 1m; client_body_buffer_size 1m;
    uwsgi_buffer_size 16k; uwsgi_buffers 8 16k;
    server { listen 127.0.0.1:$1;
      location / { include /etc/nginx/uwsgi_params; uwsgi_pass 127.0.0.1:$2; } }
}
CONF
}

start_backend() { # name port
  case $1 in
    # shellcheck disable=SC2086
    tsgi | base) taskset -c 1 node "$([ "$1" = base ] && echo "$BASE" || echo .)/bin/tsgi.js" --socket "127.0.0.1:$2" \
      --wsgi-file bench/apps/echo.js --disable-logging $TSGI_ARGS > "$DIR/backend.log" 2>&1 & ;;
    uwsgi) taskset -c 1 uwsgi --plugin python3 --socket "127.0.0.1:$2" --wsgi-file bench/apps/echo_wsgi.py \
      --disable-logging > "$DIR/backend.log" 2>&1 & ;;
  esac
  BACKEND_PID=$!
}

round() { # backend round
  local backend front
  backend=$(free_port); front=$(free_port)
  start_backend "$1" "$backend"; local pid=$BACKEND_PID; PIDS+=("$pid")
  nginx_conf "$front" "$backend"
  taskset -c 1 /usr/sbin/nginx -p "$DIR" -c "$DIR/nginx.conf" &
  local nginx=$!; PIDS+=("$nginx")
  sleep 0.5; wait_port "$front" || { echo "$1: nothing answers"; cat "$DIR/backend.log"; exit 1; }
  taskset -c 0 wrk -t1 "-c$CONNS" -d2s -s "$DIR/post64k.lua" "http://127.0.0.1:$front/" > /dev/null
  local t0 n0 t1 n1 out
  local k0 k1
  t0=$(ticks "$pid"); n0=$(ticks $nginx); k0=$(sys_ticks "$pid")
  out=$(taskset -c 0 wrk -t1 "-c$CONNS" "-d${DURATION}s" -s "$DIR/post64k.lua" "http://127.0.0.1:$front/")
  t1=$(ticks "$pid"); n1=$(ticks $nginx); k1=$(sys_ticks "$pid")
  local reqs errors
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  kill -TERM "$pid"; wait "$pid" 2>/dev/null
  kill -QUIT $nginx; wait $nginx 2>/dev/null
  awk -v b="$1" -v r="$2" -v n="$reqs" -v t=$((t1 - t0)) -v g=$((n1 - n0)) -v k=$((k1 - k0)) -v hz="$HZ" \
    -v d="$DURATION" -v e="$errors" 'BEGIN {
    printf "%-6s round=%s req/s=%d backend_us=%.1f backend_sys_us=%.1f nginx_us=%.1f %s\n",
      b, r, n / d, t * 1e6 / hz / n, k * 1e6 / hz / n, g * 1e6 / hz / n, e }' | tee -a "$DIR/rounds.txt"
}

summary() {
  for b in $BACKENDS; do
    for field in backend_us backend_sys_us nginx_us req/s; do
      grep "^$b " "$DIR/rounds.txt" | tr ' ' '\n' | awk -F= -v f="$field" '$1 == f {print $2}' | sort -g |
        awk -v b="$b" -v f="$field" '{v[NR] = $1} END {
          m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
          printf "%-6s %-14s median %8.1f  range %.1f – %.1f  (%d rounds)\n", b, f, m, v[1], v[NR], NR }'
    done
  done
}

echo "echo 64 KiB POST via nginx uwsgi_pass, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tsgi $(git rev-parse --short HEAD)${BASE:+, base $BASE}${TSGI_ARGS:+ ($TSGI_ARGS)}, uWSGI $(uwsgi --version), $(nginx -v 2>&1)"
for r in $(seq "$ROUNDS"); do for b in $BACKENDS; do round "$b" "$r"; done; done
summary
echo "load afterwards $(cut -d' ' -f1-3 /proc/loadavg)"
