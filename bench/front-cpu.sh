#!/bin/bash
# CPU per request of nginx and of tsgi behind it, for the front ends of docs/deploy.md
# ("Capacity on paper"): nginx and tsgi share CPU 1, wrk -t1 -c64 runs on CPU 0; utime + stime
# of each process from /proc/PID/stat around a 5 s run after a 2 s warm-up. The modes run
# interleaved, ROUNDS times (A B C D A B C D ...):
#   direct   wrk → tsgi --http-socket (no nginx)
#   proxy    wrk → nginx proxy_pass, HTTP/1.1 with an upstream keepalive pool → tsgi --http-socket
#   uwsgi    wrk → nginx uwsgi_pass (a connection per request) → tsgi --socket
#   fastcgi  wrk → nginx fastcgi_pass, fastcgi_keep_conn and a keepalive pool → tsgi --fastcgi-socket
# Usage: bench/front-cpu.sh [APP [CALLABLE]]   (MODES="direct proxy uwsgi fastcgi", ROUNDS=3)
APP=${1:-bench/apps/hello.js}; CALLABLE=${2:-application}
MODES=${MODES:-direct proxy uwsgi fastcgi}; ROUNDS=${ROUNDS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd); cd "$ROOT"
HZ=$(getconf CLK_TCK)
DIR=$(mktemp -d "${TMPDIR:-/tmp}/tsgi-front-cpu.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$DIR"; }
trap cleanup EXIT
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
wait_port() { for _ in $(seq 600); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; return 1; }

nginx_conf() { # port location upstream-block
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
    $3
    server { listen 127.0.0.1:$1; location / { $2 } }
}
CONF
}

round() { # mode round
  local mode=$1 backend front socket loc up=''
  backend=$(free_port); front=$backend
  case $mode in
    direct) socket=--http-socket ;;
    proxy) socket=--http-socket; up="upstream b { server 127.0.0.1:$backend; keepalive 256; }"
      loc='proxy_pass http://b; proxy_http_version 1.1; proxy_set_header Connection "";' ;;
    uwsgi) socket=--socket; loc="include /etc/nginx/uwsgi_params; uwsgi_pass 127.0.0.1:$backend;" ;;
    fastcgi) socket=--fastcgi-socket; up="upstream b { server 127.0.0.1:$backend; keepalive 256; }"
      loc='include /etc/nginx/fastcgi_params; fastcgi_pass b; fastcgi_keep_conn on;' ;;
  esac
  taskset -c 1 node bin/tsgi.js $socket 127.0.0.1:$backend --wsgi-file "$APP" --callable "$CALLABLE" \
    --disable-logging > "$DIR/tsgi.log" 2>&1 &
  local tsgi=$! nginx=''
  PIDS+=("$tsgi")
  if [ "$mode" != direct ]; then
    front=$(free_port); nginx_conf "$front" "$loc" "$up"
    taskset -c 1 /usr/sbin/nginx -p "$DIR" -c "$DIR/nginx.conf" &
    nginx=$!; PIDS+=("$nginx")
  fi
  sleep 0.5; wait_port "$front" || { echo "$mode: nothing answers"; cat "$DIR/tsgi.log"; exit 1; }
  taskset -c 0 wrk -t1 -c64 -d2s "http://127.0.0.1:$front/" > /dev/null
  local t0 n0=0 t1 n1=0 out
  t0=$(ticks $tsgi); [ -n "$nginx" ] && n0=$(ticks $nginx)
  out=$(taskset -c 0 wrk -t1 -c64 -d5s "http://127.0.0.1:$front/")
  t1=$(ticks $tsgi); [ -n "$nginx" ] && n1=$(ticks $nginx)
  local reqs errors
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  kill -TERM $tsgi; wait $tsgi 2>/dev/null
  [ -n "$nginx" ] && { kill -QUIT $nginx; wait $nginx 2>/dev/null; }
  awk -v m=$mode -v r=$2 -v n=$reqs -v t=$((t1 - t0)) -v g=$((n1 - n0)) -v hz=$HZ -v e="$errors" 'BEGIN {
    printf "%-8s round=%s req/s=%d tsgi_us=%.1f nginx_us=%.1f total_us=%.1f %s\n",
      m, r, n / 5, t * 1e6 / hz / n, g * 1e6 / hz / n, (t + g) * 1e6 / hz / n, e }'
}
echo "app=$APP $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$ROUNDS"); do for m in $MODES; do round "$m" "$r"; done; done
echo "load afterwards $(cut -d' ' -f1-3 /proc/loadavg)"
