// The shared-memory scoreboard through the addon: a region is created and attached in this
// process, a real native Server serves real HTTP requests into it, and snapshots show the
// per-core counters, the in-flight request's vars and the worker slot fields. The document
// built from such a snapshot has the schema of uWSGI's captured sample.

import * as assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { test } from 'node:test';
import { addon, type NativeServer, type ScoreboardHandle } from '../../src/native';
import { buildStatsDocument, emitStats, readProcessMemory } from '../../src/stats';
import { assertSameKeys, type Json, shapeOf } from './helpers/stats-schema';

interface Held {
  id: number;
  vars: Map<string, string>;
}

/** A native Server on 127.0.0.1:0 whose requests wait until the test answers them. */
function startServer(sb: ScoreboardHandle, workerIndex: number, coreIndex: number) {
  const bound = addon.bindSocket({ unix: false, host: '127.0.0.1', port: 0, backlog: 16 });
  if (bound.error !== undefined) throw new Error(bound.message);
  const waiting: ((h: Held) => void)[] = [];
  const held: Held[] = [];
  let server: NativeServer | null = null;
  const noop = (): void => {};
  server = new addon.Server(
    {
      listeners: [{ fd: bound.fd, protocol: 'http', unix: false, host: '127.0.0.1', port: String(bound.port) }],
      bufferSize: 8192,
      limitPost: 0,
      socketTimeoutMs: 4000,
      keepaliveTimeoutMs: 5000,
      maxInflight: 4,
      maxVars: 256,
      logging: false,
      logMicros: false,
      logFd: 2,
      coreId: coreIndex,
      scoreboard: sb,
      workerIndex,
      coreIndex,
    },
    {
      onRequest: (id, _flags, blob, nvars) => {
        const meta = server!.meta;
        const vars = new Map<string, string>();
        for (let i = 0; i < nvars; i++) {
          vars.set(blob.slice(meta[i * 4]!, meta[i * 4 + 1]!), blob.slice(meta[i * 4 + 2]!, meta[i * 4 + 3]!));
        }
        const h = { id, vars };
        const w = waiting.shift();
        if (w) w(h);
        else held.push(h);
      },
      onData: noop,
      onDrain: noop,
      onAbort: noop,
    },
  );
  const next = (): Promise<Held> =>
    new Promise((resolve) => {
      const h = held.shift();
      if (h) resolve(h);
      else waiting.push(resolve);
    });
  return {
    server,
    port: bound.port,
    next,
    close: () => {
      server!.destroy();
      addon.closeFd(bound.fd);
    },
  };
}

/** Sends raw bytes, returns everything read until the server closes. */
function exchange(port: number, bytes: string, opts: { endAfterWrite?: boolean } = {}): { done: Promise<string> } {
  const sock = net.connect(port, '127.0.0.1');
  let got = '';
  sock.setEncoding('latin1');
  sock.on('data', (d: string) => (got += d));
  sock.write(bytes);
  if (opts.endAfterWrite) sock.end();
  return {
    done: new Promise((resolve, reject) => {
      sock.on('close', () => resolve(got));
      sock.on('error', reject);
    }),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('create + attach share one region; the header is validated on attach', () => {
  const { fd, handle, size } = addon.createScoreboard(2, 3);
  assert.ok(fd > 2 && size > 0);
  const other = addon.attachScoreboard(fd);
  addon.scoreboardWorkerSpawned(other, 1, 4242);
  const s = addon.scoreboardSnapshot(handle);
  assert.equal(s.workers.length, 2);
  assert.equal(s.cores.length, 2);
  assert.equal(s.cores[0]!.length, 3);
  assert.equal(s.workers[1]!.pid, 4242);
  assert.equal(s.workers[1]!.respawnCount, 1);
  assert.ok(Math.abs(s.workers[1]!.lastSpawn - Date.now() / 1000) < 5);
  assert.equal(s.workers[0]!.pid, 0);
  const devnull = openSync('/dev/null', 'r');
  assert.throws(() => addon.attachScoreboard(devnull), /not a tsgi scoreboard/);
  closeSync(devnull);
  assert.throws(() => addon.scoreboardSnapshot({} as ScoreboardHandle), /not a scoreboard handle/);
  assert.throws(() => addon.createScoreboard(0, 1), /createScoreboard: Invalid argument/);
  assert.throws(() => addon.scoreboardWorkerSpawned(handle, 2, 1), /out of range/);
  addon.closeFd(fd);
});

test('a Server counts its requests, bytes, time and in-flight vars into its core slot', async () => {
  const { fd, handle } = addon.createScoreboard(2, 2);
  const mine = addon.attachScoreboard(fd);
  const srv = startServer(mine, 1, 1);
  try {
    let s = addon.scoreboardSnapshot(handle);
    assert.equal(s.workers[1]!.accepting, 1, 'Start() marks the worker accepting');
    assert.equal(s.workers[0]!.accepting, 0);

    const firstRequest = 'GET /slow?x=1 HTTP/1.1\r\nHost: example.test\r\nX-Req: inflight\r\nConnection: close\r\n\r\n';
    const c = exchange(srv.port, firstRequest);
    const h = await srv.next();
    s = addon.scoreboardSnapshot(handle);
    const core = s.cores[1]![1]!;
    assert.equal(core.inRequest, 1);
    assert.equal(core.inflight, 1);
    assert.equal(core.requests, 0, 'requests count at the end, like uWSGI');
    assert.ok(Math.abs(core.requestStart - Date.now() / 1000) < 5, 'request_start is unix seconds');
    assert.ok(core.requestStartMs > 0 && core.requestStartMs <= s.nowMs, 'request_start_ms is on the snapshot clock');
    // The vars, in the order the app received them, as KEY=VALUE.
    assert.deepEqual(
      core.vars,
      [...h.vars].map(([k, v]) => `${k}=${v}`),
    );
    assert.ok(core.vars.includes('REQUEST_URI=/slow?x=1'));
    assert.ok(core.vars.includes('HTTP_X_REQ=inflight'));
    // Other slots are untouched.
    assert.equal(s.cores[1]![0]!.inRequest, 0);
    assert.equal(s.cores[0]![1]!.inRequest, 0);

    await sleep(20);
    srv.server.countException();
    assert.equal(srv.server.respond(h.id, '200 OK', 'Content-Type: text/plain\r\n', 0, 'hello'), true);
    const reply = await c.done;
    assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
    s = addon.scoreboardSnapshot(handle);
    const after = s.cores[1]![1]!;
    assert.equal(after.requests, 1);
    assert.equal(after.inRequest, 0);
    assert.equal(after.inflight, 0);
    assert.deepEqual(after.vars, []);
    assert.equal(after.requestStart, 0);
    assert.equal(after.tx, Buffer.byteLength(reply, 'latin1'), 'tx = head + body bytes of the response');
    assert.ok(after.runningTime >= 15000, `running_time in µs (${after.runningTime})`);
    assert.equal(after.avgRt, Math.floor(after.runningTime / 2), 'avg_rt = (0 + rt) / 2 after one request');
    assert.equal(after.exceptions, 1);
    assert.equal(srv.server.counters().exceptions, 1);
    assert.equal(after.rx, firstRequest.length, 'rx = the request head as sent (no body)');
    assert.deepEqual(after.statusCounts, { '200': 1 });
    assert.equal(after.durationBuckets.length, s.durationBoundsUs.length + 1, 'one bucket per bound, then +Inf');
    assert.equal(
      after.durationBuckets.reduce((a, b) => a + b, 0),
      1,
      'the request is in exactly one duration bucket',
    );
    const slot = s.durationBoundsUs.findIndex((le) => after.runningTime <= le);
    assert.equal(after.durationBuckets[slot === -1 ? s.durationBoundsUs.length : slot], 1, 'in the bucket of its time');

    // A second request: avg_rt follows uWSGI's (avg_rt + rt) / 2.
    const secondRequest = 'POST /fast HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nabcde';
    const c2 = exchange(srv.port, secondRequest);
    const h2 = await srv.next();
    srv.server.respond(h2.id, '204 No Content', '', 0);
    await c2.done;
    s = addon.scoreboardSnapshot(handle);
    const two = s.cores[1]![1]!;
    assert.equal(two.requests, 2);
    const rt2 = two.runningTime - after.runningTime;
    assert.equal(two.avgRt, Math.floor((after.avgRt + rt2) / 2));
    assert.equal(two.rx - after.rx, secondRequest.length, 'rx adds the head and the body bytes');
    assert.deepEqual(two.statusCounts, { '200': 1, '204': 1 });
    assert.equal(
      two.durationBuckets.reduce((a, b) => a + b, 0),
      2,
    );
  } finally {
    srv.close();
    addon.closeFd(fd);
  }
});

test('with several requests in flight on one core, the first one is tracked until it ends', async () => {
  const { fd, handle } = addon.createScoreboard(1, 1);
  const srv = startServer(handle, 0, 0);
  try {
    const a = exchange(srv.port, 'GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const ha = await srv.next();
    const b = exchange(srv.port, 'GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const hb = await srv.next();
    let core = addon.scoreboardSnapshot(handle).cores[0]![0]!;
    assert.equal(core.inflight, 2);
    assert.ok(core.vars.includes('REQUEST_URI=/a'));
    srv.server.respond(ha.id, '200 OK', '', 0, 'a');
    await a.done;
    core = addon.scoreboardSnapshot(handle).cores[0]![0]!;
    assert.equal(core.inRequest, 1, 'b is still in flight');
    assert.deepEqual(core.vars, [], 'the tracked request ended; b was dispatched before that');
    srv.server.respond(hb.id, '200 OK', '', 0, 'b');
    await b.done;
    core = addon.scoreboardSnapshot(handle).cores[0]![0]!;
    assert.equal(core.inRequest, 0);
    assert.equal(core.requests, 2);
  } finally {
    srv.close();
    addon.closeFd(fd);
  }
});

test('a body cut short by the client counts a read error', async () => {
  const { fd, handle } = addon.createScoreboard(1, 1);
  const srv = startServer(handle, 0, 0);
  try {
    const sent = 'POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-ten!!';
    const c = exchange(srv.port, sent, { endAfterWrite: true });
    await srv.next();
    await c.done;
    await sleep(50);
    const core = addon.scoreboardSnapshot(handle).cores[0]![0]!;
    assert.equal(core.readErrors, 1);
    assert.equal(core.writeErrors, 0);
    assert.equal(core.inRequest, 0);
    assert.equal(core.requests, 1, 'an aborted request still ends');
    assert.deepEqual(core.statusCounts, {}, 'no status was sent, so none is counted');
    assert.equal(
      core.durationBuckets.reduce((a, b) => a + b, 0),
      1,
      'its duration is counted',
    );
    assert.equal(core.rx, sent.length, 'rx counts the head and the 10 body bytes that came');
  } finally {
    srv.close();
    addon.closeFd(fd);
  }
});

test('resetWorker clears a dead process in-flight state and restarts delta_requests', async () => {
  const { fd, handle } = addon.createScoreboard(1, 1);
  const srv = startServer(handle, 0, 0);
  try {
    const c = exchange(srv.port, 'GET /done HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    srv.server.respond((await srv.next()).id, '200 OK', '', 0, 'x');
    await c.done;
    // A request left in flight, as if the worker died in it.
    exchange(srv.port, 'GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n');
    await srv.next();
    addon.scoreboardWorkerSpawned(handle, 0, process.pid);
    let s = addon.scoreboardSnapshot(handle);
    assert.equal(s.cores[0]![0]!.inRequest, 1);
    addon.scoreboardResetWorker(handle, 0);
    s = addon.scoreboardSnapshot(handle);
    assert.equal(s.cores[0]![0]!.inRequest, 0);
    assert.deepEqual(s.cores[0]![0]!.vars, []);
    assert.equal(s.workers[0]!.pid, 0);
    assert.equal(s.workers[0]!.accepting, 0);
    assert.equal(s.workers[0]!.requestsBase, 1);
    assert.equal(s.cores[0]![0]!.requests, 1, 'counters survive a respawn');
    addon.scoreboardSetWorker(handle, 0, { rss: 12345, vsz: 67890, harakiriCount: 2, status: 2 });
    s = addon.scoreboardSnapshot(handle);
    assert.equal(s.workers[0]!.rss, 12345);
    assert.equal(s.workers[0]!.vsz, 67890);
    assert.equal(s.workers[0]!.harakiriCount, 2);
    const doc = buildStatsDocument(s, {
      version: 'v',
      pid: 1,
      uid: 0,
      gid: 0,
      cwd: '/',
      sockets: [],
      app: { mountpoint: '', startupTime: 0, chdir: '' },
    }) as unknown as {
      workers: { requests: number; delta_requests: number; status: string; harakiri_count: number }[];
    };
    assert.equal(doc.workers[0]!.requests, 1);
    assert.equal(doc.workers[0]!.delta_requests, 0);
    assert.equal(doc.workers[0]!.status, 'pause');
    assert.equal(doc.workers[0]!.harakiri_count, 2);
  } finally {
    srv.close();
    addon.closeFd(fd);
  }
});

test('the document built from a live snapshot has the sample schema, key order included', async () => {
  const want = JSON.parse(
    readFileSync(path.join(__dirname, '..', 'fixtures', 'uwsgi-stats', 'uwsgi-stats-sample.json'), 'utf8'),
  ) as { [k: string]: Json };
  const { fd, handle } = addon.createScoreboard(2, 2);
  const srv = startServer(handle, 1, 0);
  try {
    const c = exchange(srv.port, 'GET /sleep?3 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    const h = await srv.next();
    const ctx = {
      version: '2.0.21-tsgi-test',
      pid: process.pid,
      uid: 0,
      gid: 0,
      cwd: '/srv/"odd"\\dir',
      sockets: [{ name: '127.0.0.1:3031', proto: 'uwsgi' as const, queue: 0, maxQueue: 100 }],
      app: { mountpoint: '', startupTime: 0, chdir: '' },
    };
    const text = emitStats(buildStatsDocument(addon.scoreboardSnapshot(handle), ctx));
    const got = JSON.parse(text) as { [k: string]: Json };
    const recurse = (key: string, g: Json[], w: Json[], where: string): void => {
      if (key === 'vars') {
        for (const v of g) assert.equal(typeof v, 'string', where);
        return;
      }
      if (key === 'cores') {
        // Each core must look like the sample core in the same state.
        for (const core of g as { [k: string]: Json }[]) {
          const like = (w as { [k: string]: Json }[]).find((x) => x.in_request === core.in_request);
          assert.ok(like, `${where}: a sample core with in_request ${String(core.in_request)}`);
          assertSameKeys(core, like, where, () => {});
          assert.equal(shapeOf(core.req_info!), shapeOf(like.req_info!), `${where}.req_info`);
        }
        return;
      }
      assert.equal(g.length > 0, w.length > 0, `${where}: empty in one only`);
      // Same length (locks, workers, sockets, apps): item by item; else like the first.
      g.forEach((item, i) => {
        assertSameKeys(item, (g.length === w.length ? w[i] : w[0])!, `${where}[${i}]`, recurse);
      });
    };
    assertSameKeys(got, want, 'doc', recurse);
    assert.equal(got.cwd, ctx.cwd, 'escaped cwd survives');
    const busy = (got.workers as { cores: { in_request: number; vars: string[] }[]; status: string }[])[1]!;
    assert.equal(busy.status, 'busy');
    assert.equal(busy.cores[0]!.in_request, 1);
    assert.equal(busy.cores[0]!.vars.at(-1), '', 'uWSGI ends the in-flight vars with ""');
    assert.ok(busy.cores[0]!.vars.includes('QUERY_STRING=3'));
    srv.server.respond(h.id, '200 OK', '', 0, 'ok');
    await c.done;
  } finally {
    srv.close();
    addon.closeFd(fd);
  }
});

test('readProcessMemory reads rss and vsz in bytes; null for a process that does not exist', () => {
  const m = readProcessMemory(process.pid);
  assert.ok(m !== null);
  const rss = process.memoryUsage().rss;
  assert.ok(m.rss > rss / 2 && m.rss < rss * 2, `rss ${m.rss} vs ${rss}`);
  assert.ok(m.vsz >= m.rss);
  assert.equal(readProcessMemory(2 ** 22 + 12345), null);
});
