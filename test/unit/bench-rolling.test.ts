// The pure parts of the rolling-deploy harness (src/bench/rolling/): the nginx upstream it
// writes, how it reads the master's worker pids, and its latency summaries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appSource, nginxUpstream, workerPids } from '../../src/bench/rolling/cluster';
import { ok, type Sample, summarize } from '../../src/bench/rolling/load';

const hosts = [1, 2, 3].map((index) => ({ index, ns: `ns-h${index}`, addr: `127.0.${10 + index}.2` }));

test('the upstream lists every host with max_fails 1 and the fail_timeout asked for, and keeps connections only where nginx can', () => {
  const uwsgi = nginxUpstream('uwsgi', hosts);
  const upstream = uwsgi.httpExtra.join('\n');
  for (const h of hosts) assert.match(upstream, new RegExp(`server ${h.addr}:8000 max_fails=1 fail_timeout=2s;`));
  assert.doesNotMatch(upstream, /keepalive/, 'the uwsgi protocol has no kept connections');
  assert.match(uwsgi.location, /uwsgi_pass tsgi_hosts;[\s\S]*uwsgi_next_upstream error timeout;/);

  const http = nginxUpstream('http', hosts, new Set(), 10);
  assert.match(http.httpExtra.join('\n'), /fail_timeout=10s;[\s\S]*keepalive 16;/);
  assert.match(http.location, /proxy_http_version 1\.1;[\s\S]*proxy_set_header Connection "";/);

  const fastcgi = nginxUpstream('fastcgi', hosts);
  assert.match(fastcgi.httpExtra.join('\n'), /keepalive 16;/);
  assert.match(fastcgi.location, /fastcgi_keep_conn on;/);
});

test('a drained host is marked down in the upstream and the others are not', () => {
  const upstream = nginxUpstream('uwsgi', hosts, new Set([2])).httpExtra.join('\n');
  assert.match(upstream, /server 127\.0\.12\.2:8000 max_fails=1 fail_timeout=2s down;/);
  assert.equal(upstream.match(/ down;/g)?.length, 1);
});

test("the worker pids are the latest process of each slot, from the master's spawned lines", () => {
  const log = [
    'spawned tsgi worker 1 (pid: 100, cores: 1)',
    'spawned tsgi worker 2 (pid: 101, cores: 1)',
    'tsgi: graceful reload of every worker (SIGHUP)',
    'spawned tsgi worker 1 (pid: 200, cores: 1)',
  ].join('\n');
  assert.deepEqual(workerPids(log), [200, 101]);
});

test('the app answers its version and host, and holds only a POST to /hold', () => {
  const src = appSource(7);
  assert.match(src, /const ANSWER = 'v7 '/);
  assert.match(src, /req\.method === 'POST' && new URL\(req\.url\)\.pathname === '\/hold'/);
});

test('a summary counts non-200 answers, connection errors and unexpected bodies as failed, and takes percentiles of the window only', () => {
  const s = (start: number, ms: number, status = 200, body = 'v1 h1\n', error?: string): Sample => ({
    start,
    ms,
    status,
    body,
    error,
  });
  const samples = [
    s(0, 1),
    s(1, 2),
    s(2, 3, 502, '<html>'),
    s(3, 4, 0, '', 'socket hang up'),
    s(4, 5, 200, 'Hello'),
    s(100, 1000),
  ];
  assert.equal(ok(samples[0]!), true);
  assert.equal(ok(samples[4]!), false);
  const w = summarize(samples, 0, 10);
  assert.equal(w.requests, 5);
  assert.equal(w.failed, 3);
  assert.deepEqual(w.failures, ['status 502', 'status 0 socket hang up', 'status 200 "Hello"']);
  assert.equal(w.p50, 3);
  assert.equal(w.p99, 5);
  assert.equal(w.max, 5, 'the sample outside the window does not count');
});
