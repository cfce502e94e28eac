#!/bin/bash
# Request latency while the master reloads its workers (docs/master.md, "Reloads and the
# requests they meet"): `--master --processes 2` serving APP over --http-socket, wrk -t1 -c16
# for 12 s with a 2 s timeout, and a SIGHUP every 3 s (three reloads), sent either to the
# master alone (HUP_TO=master, `kill -HUP $MASTER`, as `systemctl reload` with
# ExecReload=kill -HUP $MAINPID does) or to its whole process group (HUP_TO=group,
# `kill -HUP -- -$PGID`, as a shell's `kill -HUP %1` or `systemctl kill -s HUP` does).
#
# Usage: bench/reload-latency.sh [RUNS]          (default 3)
#   HUP_TO=master|group   where the SIGHUPs go (default master)
#   APP=examples/foobar.js  TSGI_EXTRA="--threads 2"  PORT=19500
# One line per run: wrk's p50/p99/p99.9/max latency, requests, timeouts (requests past 2 s)
# and socket errors; then the master's log lines about workers (DAMN = an unexpected exit).
ROOT=$(cd "$(dirname "$0")/.." && pwd); cd "$ROOT"
RUNS=${1:-3}; HUP_TO=${HUP_TO:-master}; APP=${APP:-examples/foobar.js}; PORT=${PORT:-19500}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
cat > "$TMP/report.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("p50=%.2fms p99=%.2fms p99.9=%.2fms max=%.2fms requests=%d timeouts=%d errors(connect/read/write)=%d/%d/%d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
    latency.max / 1000, summary.requests, e.timeout, e.connect, e.read, e.write))
end
EOF
for run in $(seq "$RUNS"); do
  log="$TMP/tsgi-$run.log"
  # setsid: the master leads its own process group, so HUP_TO=group reaches it and its
  # workers and nothing else.
  setsid node bin/tsgi.js --master --processes 2 --http-socket 127.0.0.1:$PORT --wsgi-file "$APP" \
    --disable-logging $TSGI_EXTRA > "$log" 2>&1 &
  master=$!
  for i in $(seq 300); do [ "$(grep -c 'ready in' "$log")" -ge 3 ] && break; sleep 0.1; done
  wrk -t1 -c16 -d12s --timeout 2s -s "$TMP/report.lua" http://127.0.0.1:$PORT/ > "$TMP/wrk-$run.txt" 2>&1 &
  wrk=$!
  for hup in 1 2 3; do
    sleep 3
    if [ "$HUP_TO" = group ]; then kill -HUP -- -"$master"; else kill -HUP "$master"; fi
  done
  wait $wrk
  echo "run $run (HUP_TO=$HUP_TO): $(grep '^p50=' "$TMP/wrk-$run.txt")"
  kill -TERM "$master"
  for i in $(seq 100); do kill -0 "$master" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$master" 2>/dev/null; then
    echo "  the master did not exit within 10 s of SIGTERM; killing its process group"
    kill -KILL -- -"$master"
  fi
  wait "$master" 2>/dev/null
  echo "  worker exits: $(grep -c 'graceful stop' "$log") graceful, $(grep -c '^DAMN' "$log") unexpected (DAMN), $(grep -c 'respawning too fast' "$log") fork-bomb pauses"
  PORT=$((PORT + 1))
done
