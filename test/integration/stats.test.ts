// The stats server end to end, in one process (the master's supervision left out): a real
// app served by the native core into a scoreboard, the document read over TCP, UNIX and
// --stats-http while a slow request is in flight, and checked field by field against the
// schema of uWSGI's captured sample (same keys, same order, same types).

import * as assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { STATS_HTTP_HEAD } from '../../src/stats';
import { assertSameKeys, type Json, shapeOf } from '../unit/helpers/stats-schema';

const ROOT = path.resolve(__dirname, '..', '..');
const RUNNER = path.join(ROOT, 'test', 'fixtures', 'stats', 'single-process.ts');
const APP = path.join(ROOT, 'test', 'fixtures', 'apps', 'http-behaviour.js');

interface Instance {
  proc: ChildProcess;
  httpPort: number;
  statsPort: number;
  output(): string;
}

const running: ChildProcess[] = [];
after(() => {
  for (const p of running) if (p.exitCode === null) p.kill('SIGKILL');
});

function startInstance(extra: string[]): Promise<Instance> {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', RUNNER, '--http-socket', '127.0.0.1:0', '--wsgi-file', APP, '--disable-logging', ...extra],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  running.push(proc);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance did not start:\n${out}`)), 15000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const s = /stats port (\d+)\nhttp port (\d+)\n/.exec(out);
      if (s) {
        clearTimeout(timer);
        resolve({ proc, statsPort: Number(s[1]), httpPort: Number(s[2]), output: () => out });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`instance exited ${code}:\n${out}`));
    });
  });
}

/** Connects, optionally writes `send`, reads to EOF. Rejects on a reset. */
function readAll(target: { port: number } | { path: string }, send?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = 'port' in target ? net.connect(target.port, '127.0.0.1') : net.connect(target.path);
    let got = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (got += d));
    sock.on('end', () => resolve(got));
    sock.on('error', reject);
    if (send !== undefined) sock.write(send);
  });
}

/** Starts a request and returns a promise of its full response. */
function request(port: number, pathAndQuery: string, headers = ''): Promise<string> {
  return readAll({ port }, `GET ${pathAndQuery} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}Connection: close\r\n\r\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Doc = { [k: string]: Json };
const sample = (): Doc =>
  JSON.parse(
    readFileSync(path.join(__dirname, '..', 'fixtures', 'uwsgi-stats', 'uwsgi-stats-sample.json'), 'utf8'),
  ) as Doc;

/** Same keys, order and types as the sample, level by level; cores match a sample core in the same state. */
function assertSampleSchema(got: Doc, want: Doc): void {
  const sampleCores = (want.workers as Doc[]).flatMap((w) => w.cores as Doc[]);
  const lists = (key: string, g: Json[], w: Json[], where: string): void => {
    if (key === 'vars') {
      for (const v of g) assert.equal(typeof v, 'string', where);
      return;
    }
    if (key === 'cores') {
      for (const core of g as Doc[]) {
        const like = sampleCores.find((x) => x.in_request === core.in_request);
        assert.ok(like, `${where}: no sample core with in_request ${String(core.in_request)}`);
        assertSameKeys(core, like, where, () => {});
        assert.equal(shapeOf(core.req_info!), shapeOf(like.req_info!), `${where}.req_info`);
      }
      return;
    }
    assert.ok(g.length > 0, `${where}: empty`);
    g.forEach((item, i) => {
      assertSameKeys(item, (g.length === w.length ? w[i] : w[0])!, `${where}[${i}]`, lists);
    });
  };
  assertSameKeys(got, want, 'doc', lists);
}

test('plain --stats over TCP: the document while a request is in flight, then after it', async () => {
  const inst = await startInstance(['--stats', '127.0.0.1:0']);
  const slow = request(
    inst.httpPort,
    '/slow?1500',
    'X-Req: inflight\r\nAuthorization: Bearer s3cret\r\nCookie: session=abc\r\n',
  );
  await sleep(300);
  const text = await readAll({ port: inst.statsPort });
  assert.ok(text.startsWith('{\n\t"version":"2.0.21-tsgi-'), text.slice(0, 40));
  assert.ok(text.endsWith('\n}'), 'no trailing newline, as uWSGI');
  const doc = JSON.parse(text) as Doc;
  assertSampleSchema(doc, sample());

  assert.equal(doc.pid, inst.proc.pid);
  assert.equal(doc.cwd, ROOT);
  assert.equal(doc.listen_queue, 0);
  assert.deepEqual(
    (doc.locks as Doc[]).map((l) => Object.keys(l)[0]),
    ['user 0', 'signal', 'filemon', 'timer', 'rbtimer', 'cron', 'rpc', 'snmp'],
  );
  const sock = (doc.sockets as Doc[])[0]!;
  assert.equal(sock.name, `127.0.0.1:${inst.httpPort}`);
  assert.equal(sock.proto, 'http');
  assert.ok((sock.max_queue as number) > 0, 'max_queue is the backlog, from TCP_INFO');

  const w = (doc.workers as Doc[])[0]!;
  assert.equal(w.id, 1);
  assert.equal(w.pid, inst.proc.pid);
  assert.equal(w.accepting, 1);
  assert.equal(w.status, 'busy');
  assert.equal(w.requests, 0);
  assert.equal(w.respawn_count, 1);
  assert.ok(Math.abs((w.last_spawn as number) - Date.now() / 1000) < 30);
  const app = (w.apps as Doc[])[0]!;
  assert.equal(app.requests, 1, 'app requests count at the start, as in uWSGI');
  const core = (w.cores as Doc[])[0]!;
  assert.equal(core.in_request, 1);
  const vars = core.vars as string[];
  assert.equal(vars.at(-1), '');
  for (const v of [
    'REQUEST_METHOD=GET',
    'REQUEST_URI=/slow?1500',
    'QUERY_STRING=1500',
    'PATH_INFO=/slow',
    'HTTP_X_REQ=inflight',
  ]) {
    assert.ok(vars.includes(v), `vars has ${v}: ${JSON.stringify(vars)}`);
  }
  // Credentials and cookies of the request in flight are not shown to whoever reads the stats.
  assert.ok(vars.includes('HTTP_AUTHORIZATION=[redacted]'), JSON.stringify(vars));
  assert.ok(vars.includes('HTTP_COOKIE=[redacted]'), JSON.stringify(vars));
  assert.doesNotMatch(text, /s3cret|session=abc/);
  const start = (core.req_info as Doc).request_start as number;
  assert.ok(Math.abs(start - Date.now() / 1000) < 5, 'request_start is unix seconds');

  assert.match(await slow, /^HTTP\/1\.1 200 OK\r\n[\s\S]*slow 1500$/);
  const idle = JSON.parse(await readAll({ port: inst.statsPort })) as Doc;
  assertSampleSchema(idle, sample());
  const w2 = (idle.workers as Doc[])[0]!;
  assert.equal(w2.status, 'idle');
  assert.equal(w2.requests, 1);
  assert.equal(w2.delta_requests, 1);
  assert.ok((w2.tx as number) > 0);
  assert.ok((w2.running_time as number) >= 1400000, `running_time in µs: ${String(w2.running_time)}`);
  assert.equal(w2.avg_rt, Math.floor((w2.running_time as number) / 2));
  const c2 = (w2.cores as Doc[])[0]!;
  assert.equal(c2.in_request, 0);
  assert.deepEqual(c2.vars, []);
  assert.deepEqual(c2.req_info, {});
  inst.proc.kill('SIGKILL');
});

test('listen_queue and load report connections waiting in the backlog', async () => {
  const inst = await startInstance(['--stats', '127.0.0.1:0']);
  // One app slot (--async 1): while /slow runs the core stops accepting, so the next
  // requests wait in the listening socket's accept queue.
  const slow = request(inst.httpPort, '/slow?1500');
  await sleep(300);
  const queued = [request(inst.httpPort, '/'), request(inst.httpPort, '/'), request(inst.httpPort, '/')];
  await sleep(300);
  const doc = JSON.parse(await readAll({ port: inst.statsPort })) as Doc;
  assert.equal(doc.listen_queue, 3);
  assert.equal(doc.load, 3);
  assert.equal((doc.sockets as Doc[])[0]!.queue, 3);
  await slow;
  await Promise.all(queued);
  inst.proc.kill('SIGKILL');
});

test('plain mode: a client that sends bytes first still gets the whole document, not a reset', async () => {
  const inst = await startInstance(['--stats', '127.0.0.1:0']);
  for (let i = 0; i < 5; i++) {
    const text = await readAll({ port: inst.statsPort }, 'GET / HTTP/1.0\r\nHost: x\r\n\r\n' + 'x'.repeat(2000));
    assert.ok(text.startsWith('{\n') && text.endsWith('\n}'));
    JSON.parse(text);
  }
  inst.proc.kill('SIGKILL');
});

test('--stats-http --stats-minified: HTTP/1.0 head, then the minified document', async () => {
  const inst = await startInstance(['--stats', '127.0.0.1:0', '--stats-http', '--stats-minified']);
  const text = await readAll({ port: inst.statsPort }, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.ok(text.startsWith(STATS_HTTP_HEAD), JSON.stringify(text.slice(0, 120)));
  const body = text.slice(STATS_HTTP_HEAD.length);
  assert.doesNotMatch(body, /[\n\t]/);
  assertSampleSchema(JSON.parse(body) as Doc, sample());
  inst.proc.kill('SIGKILL');
});

test('--stats on a UNIX socket path', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsgi-stats-'));
  const sockPath = path.join(dir, 'stats.sock');
  try {
    const inst = await startInstance(['--stats', sockPath]);
    const doc = JSON.parse(await readAll({ path: sockPath })) as Doc;
    assertSampleSchema(doc, sample());
    assert.equal((doc.workers as Doc[])[0]!.pid, inst.proc.pid);
    inst.proc.kill('SIGKILL');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(existsSync(sockPath), false);
});
