// The HTTP router (--http; docs/router.md): a native front on a thread of the master that
// forwards each request over uwsgi to the worker socket, keeps clients alive, answers
// failures with a status, and stays up through reloads and worker deaths.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { sleep } from './helpers/exchange';
import { APPS, parseResponses, rawExchange, startTsgi, type TsgiHandle } from './helpers/tsgi';

const APP = path.join(APPS, 'router.js');

interface Router {
  tsgi: TsgiHandle;
  port: number;
}

const ROUTER_SPAWNED = /spawned tsgi http router thread \(in the master, pid: (\d+)\)/;

/** Starts tsgi with --http on a free port and waits for the router thread too. */
async function startRouter(extra: string[], app = APP): Promise<Router> {
  const tsgi = await startTsgi(['--http', '127.0.0.1:0', '--wsgi-file', app, ...extra]);
  await tsgi.waitFor(ROUTER_SPAWNED);
  const m = /tsgi http bound on 127\.0\.0\.1:(\d+)/.exec(tsgi.output());
  assert.ok(m, 'the router logs the address it is bound on');
  return { tsgi, port: Number(m[1]) };
}

async function withRouter(extra: string[], fn: (r: Router) => Promise<void>, app = APP): Promise<void> {
  const r = await startRouter(extra, app);
  try {
    await fn(r);
  } finally {
    await r.tsgi.stop('SIGINT');
  }
}

/** One request on its own connection. */
function get(
  port: number,
  p = '/',
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false, headers }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.setTimeout(15000, () => req.destroy(new Error('request timed out')));
  });
}

function pidsOf(tsgi: TsgiHandle, re: RegExp): number[] {
  return [...tsgi.output().matchAll(re)].map((m) => Number(m[1]));
}

/** The process the router runs in: the master, as its log line says. */
const masterPid = (t: TsgiHandle): number => Number(ROUTER_SPAWNED.exec(t.output())![1]);
const workerPids = (t: TsgiHandle): number[] => pidsOf(t, /spawned tsgi worker \d+ \(pid: (\d+)/g);
const alive = (pid: number): boolean => fs.existsSync(`/proc/${pid}`);

/** The thread ids of `pid` named `name` (/proc/PID/task/TID/comm). */
function threadsNamed(pid: number, name: string): number[] {
  return fs
    .readdirSync(`/proc/${pid}/task`)
    .filter((tid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() === name;
      } catch {
        return false; // the thread ended meanwhile
      }
    })
    .map(Number);
}

/** The router thread's id; there is exactly one. */
function routerThread(t: TsgiHandle): number {
  const tids = threadsNamed(masterPid(t), 'tsgi router');
  assert.equal(tids.length, 1, `one router thread in the master (${tids.join(',')})`);
  return tids[0]!;
}

/** The pids whose parent is `pid` (/proc/PID/stat, field 4). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe('the --http router', () => {
  test("the quick-start --http :9090: serves the app through a worker, with the client's own address and port in the vars", async () => {
    await withRouter([], async ({ tsgi, port }) => {
      const sock = net.connect(port, '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      const clientPort = sock.localPort!;
      sock.end('GET /vars?x=1 HTTP/1.1\r\nHost: example.test:8080\r\nConnection: close\r\nX-Custom: yes\r\n\r\n');
      const chunks: Buffer[] = [];
      for await (const c of sock) chunks.push(c as Buffer);
      const [res] = parseResponses(Buffer.concat(chunks));
      assert.equal(res!.status, 200);
      const vars = JSON.parse(res!.body) as Record<string, string>;
      assert.equal(vars.REMOTE_ADDR, '127.0.0.1');
      assert.equal(vars.REMOTE_PORT, String(clientPort), 'REMOTE_PORT is in host byte order');
      assert.equal(vars.SERVER_PORT, String(port));
      assert.equal(vars.SERVER_NAME, 'example.test');
      assert.equal(vars.REQUEST_URI, '/vars?x=1');
      assert.equal(vars.QUERY_STRING, 'x=1');
      assert.equal(vars.HTTP_X_CUSTOM, 'yes');
      assert.equal(workerPids(tsgi).length, 1, 'one worker process');
    });
  });

  test('the router is a thread of the master: the master has no child but its workers', async () => {
    await withRouter(['--processes', '2'], async ({ tsgi, port }) => {
      assert.equal((await get(port)).status, 200);
      const master = masterPid(tsgi);
      assert.equal(master, tsgi.proc.pid, 'the line names the master');
      routerThread(tsgi);
      // Both workers have announced themselves (startTsgi waits for the first one only).
      await tsgi.waitFor(/spawned tsgi worker 2 \(pid: \d+/);
      assert.deepEqual(
        childrenOf(master).sort((a, b) => a - b),
        workerPids(tsgi).sort((a, b) => a - b),
        'the master has no router process',
      );
    });
  });

  test('forwards to the --socket given: a TCP address, a filesystem path, an abstract name', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-router-it-'));
    try {
      for (const sock of ['127.0.0.1:0', path.join(dir, 'w.sock'), `@tsgi-router-it-${process.pid}`]) {
        await withRouter(['--socket', sock], async ({ tsgi, port }) => {
          assert.match(
            tsgi.output(),
            new RegExp(
              `tsgi socket 0 bound to \\S+ address ${sock === '127.0.0.1:0' ? '127\\.0\\.0\\.1:\\d+' : sock.replace(/[.]/g, '\\.')} \\(uwsgi\\)`,
            ),
          );
          assert.equal((await get(port)).status, 200);
        });
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the quick-start --http with --async 100 --processes 4 holds many requests in flight per process behind the router', async () => {
    await withRouter(['--async', '100', '--processes', '4'], async ({ port }) => {
      const answers = await Promise.all(Array.from({ length: 40 }, () => get(port, '/peak?400')));
      assert.ok(
        answers.every((a) => a.status === 200),
        'every request answered 200',
      );
      const pids = new Set(answers.map((a) => a.body.split(' ')[0]));
      const peaks = answers.map((a) => Number(a.body.split(' ')[1]));
      assert.ok(pids.size <= 4);
      assert.ok(Math.max(...peaks) > 1, `one process held several requests at once (peaks ${peaks.join(',')})`);
    });
  });

  test('keeps a client connection alive across pipelined requests and closes an HTTP/1.0 one after its answer', async () => {
    await withRouter([], async ({ port }) => {
      // Three pipelined requests, then (once all three are answered) a fourth on the same
      // connection: it is answered only if the connection stayed open.
      const sock = net.connect(port, '127.0.0.1');
      let data = Buffer.alloc(0);
      let closed = false;
      const arrived: Array<() => void> = [];
      sock.on('data', (d: Buffer) => {
        data = Buffer.concat([data, d]);
        for (const w of arrived.splice(0)) w();
      });
      sock.on('close', () => {
        closed = true;
        for (const w of arrived.splice(0)) w();
      });
      sock.on('error', () => {});
      const complete = (n: number): boolean => {
        const rs = parseResponses(data);
        const last = rs[n - 1];
        return (
          rs.length >= n &&
          last !== undefined &&
          last.raw.endsWith(last.headers['transfer-encoding'] === 'chunked' ? '0\r\n\r\n' : last.body) &&
          (last.headers['content-length'] === undefined || last.body.length === Number(last.headers['content-length']))
        );
      };
      const answered = async (n: number): Promise<void> => {
        while (!complete(n) && !closed) await new Promise<void>((resolve) => arrived.push(resolve));
      };
      sock.write(
        'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /stream HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n',
      );
      await answered(3);
      const rs = parseResponses(data);
      assert.equal(rs.length, 3);
      assert.deepEqual(
        rs.map((r) => r.status),
        [200, 200, 200],
      );
      assert.equal(rs[1]!.headers['transfer-encoding'], 'chunked', 'a body without Content-Length is re-chunked');
      assert.equal(rs[1]!.body, 'one two three');
      sock.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\n');
      await answered(4);
      assert.equal(closed, false, 'the connection stays open for more');
      assert.equal(parseResponses(data)[3]!.status, 200);
      sock.destroy();
      const old = await rawExchange({ port }, ['GET / HTTP/1.0\r\n\r\n'], { timeoutMs: 3000 });
      assert.equal(parseResponses(old.data)[0]!.status, 200);
      assert.equal(old.closed, true);
    });
  });

  test('forwards request bodies: Content-Length streamed, chunked de-chunked with its length, 100 Continue sent first', async () => {
    await withRouter([], async ({ port }) => {
      const big = Buffer.alloc(2 * 1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
      let sum = 0;
      for (const b of big) sum = (sum + b) >>> 0;
      const sized = await rawExchange(
        { port },
        [`POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: ${big.length}\r\nConnection: close\r\n\r\n`, big],
        { timeoutMs: 10000 },
      );
      assert.equal(parseResponses(sized.data)[0]!.body, `${big.length} ${sum}`);

      const chunked = await rawExchange(
        { port },
        [
          'POST /vars HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
          '5\r\nhello\r\n',
          '6\r\n world\r\n0\r\n\r\n',
        ],
        { gapMs: 50 },
      );
      const vars = JSON.parse(parseResponses(chunked.data)[0]!.body) as Record<string, string>;
      assert.equal(vars.CONTENT_LENGTH, '11');

      const expect = await rawExchange(
        { port },
        [
          'POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n',
          'abc',
        ],
        { gapMs: 200 },
      );
      const rs = parseResponses(expect.data);
      assert.equal(rs[0]!.status, 100);
      assert.equal(rs[1]!.body, `3 ${97 + 98 + 99}`);
    });
  });

  test('bad requests get a status and one log line each, and the router keeps serving', async () => {
    await withRouter(['--http-max-chunked-body', '16'], async ({ tsgi, port }) => {
      const cases: Array<[string | Buffer, number]> = [
        ['GET / HTTP/1.1\r\n\r\n', 400], // no Host
        ['GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
        [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70 * 1024)}\r\n\r\n`, 431], // head over 64 KiB
        [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(9000)}\r\n\r\n`, 431], // vars over --buffer-size
        [
          'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n' + 'a'.repeat(32) + '\r\n0\r\n\r\n',
          413,
        ],
        ['POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
        ['GET / HTTP/9.9\r\nHost: x\r\n\r\n', 505],
      ];
      for (const [bytes, status] of cases) {
        const r = await rawExchange({ port }, [bytes], { timeoutMs: 3000 });
        assert.equal(parseResponses(r.data)[0]?.status, status, `answer to ${String(bytes).slice(0, 40)}`);
        assert.equal(r.closed, true, 'and the connection is closed');
      }
      const lines = tsgi
        .output()
        .split('\n')
        .filter((l) => l.startsWith('tsgi http router: '));
      assert.equal(lines.length, cases.length, lines.join('\n'));
      assert.match(lines[3]!, /431 for 127\.0\.0\.1 \(GET \/\): request vars larger than the workers' buffer-size/);
      assert.equal((await get(port)).status, 200);
    });
  });

  test('a POST whose client half-closes after the body still gets its answer', async () => {
    await withRouter([], async ({ port }) => {
      // The exchange ends when the router closes; the bound only matters if it never does.
      const r = await rawExchange({ port }, ['POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello'], {
        endInput: true,
        timeoutMs: 30000,
      });
      assert.equal(parseResponses(r.data)[0]?.body, `5 ${[...'hello'].reduce((a, c) => a + c.charCodeAt(0), 0)}`);
    });
  });

  /** GETs until one is answered 200 (bounded); anything but 200 or the router's 504 fails. */
  async function untilOk(port: number): Promise<void> {
    const statuses: number[] = [];
    const until = Date.now() + 30000;
    while (Date.now() < until && statuses.at(-1) !== 200) statuses.push((await get(port)).status);
    assert.equal(statuses.at(-1), 200, `statuses: ${statuses.join(',')}`);
    assert.ok(
      statuses.every((x) => x === 200 || x === 504),
      `only the worker's own wait is seen: ${statuses.join(',')}`,
    );
  }

  test('clients that vanish mid-exchange or never read leave no connection behind in the router', async () => {
    await withRouter(['--http-timeout', '1'], async ({ tsgi, port }) => {
      // The router's descriptors are the master's: nothing else in the master opens any here.
      const fds = (): number => fs.readdirSync(`/proc/${masterPid(tsgi)}/fd`).length;
      // With --http-timeout 1 a worker slower than 1 s (its first request on a busy machine or
      // under ASan) is rightly answered 504 by the router: wait until it answers in time.
      await untilOk(port);
      await sleep(200);
      const baseline = fds();
      const reset = Array.from(
        { length: 20 },
        () =>
          new Promise<void>((resolve) => {
            const sock = net.connect(port, '127.0.0.1', () => {
              sock.write('POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n');
              sock.resetAndDestroy();
              resolve();
            });
            sock.on('error', () => resolve());
          }),
      );
      await Promise.all(reset);
      // Clients that pipeline a large answer and a slow one, then never read.
      const stuck: net.Socket[] = [];
      for (let i = 0; i < 4; i++) {
        const sock = net.connect(port, '127.0.0.1');
        sock.on('error', () => {});
        sock.pause();
        sock.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\nGET /slow?2000 HTTP/1.1\r\nHost: x\r\n\r\n');
        stuck.push(sock);
      }
      const deadline = Date.now() + 8000;
      while (Date.now() < deadline && fds() > baseline) await sleep(100);
      for (const s of stuck) s.destroy();
      assert.equal(fds(), baseline, 'the router holds no descriptor for those clients');
      // The one worker may still be sleeping through /slow requests that reached it before
      // their clients were dropped (up to 4 × 2 s on a busy machine); with --http-timeout 1
      // the router rightly answers 504 meanwhile. Once the worker is free, it serves again.
      await untilOk(port);
    });
  });

  test('SIGTERM while a client slowly reads a large answer: it still gets every byte', async () => {
    // The client reads nothing between the first bytes and the router's stop, which on a busy
    // machine can take seconds; meanwhile the worker's writes to the router make no progress,
    // and after --socket-timeout (4 s by default) the worker would rightly drop a reader that
    // stalled (hardening.test.ts shows that). This test is about the graceful stop, so the
    // worker gets 60 s, as the master gives the router (--worker-reload-mercy) before it kills.
    const { tsgi, port } = await startRouter(['--socket-timeout', '60']);
    const sock = net.connect(port, '127.0.0.1');
    sock.pause();
    sock.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    // The answer has started to arrive (the client reads nothing yet) when SIGTERM comes, and
    // the client goes on reading only once the router has begun its graceful stop.
    await new Promise<void>((resolve) => sock.once('readable', resolve));
    const code = tsgi.stop('SIGTERM', 60000);
    await tsgi.waitFor(/tsgi http router: stopping on the master's request/, 60000);
    const chunks: Buffer[] = [];
    for await (const c of sock) chunks.push(c as Buffer);
    const [res] = parseResponses(Buffer.concat(chunks));
    assert.equal(res!.status, 200);
    assert.equal(res!.body.length, 4 * 1024 * 1024);
    assert.equal(await code, 0);
  });

  test('requests beyond a full worker backlog wait in the router instead of failing', async () => {
    // --listen 2: the worker socket's backlog holds 2 connections while the one sync worker
    // serves a 300 ms request; the other connects are refused with EAGAIN and retried.
    await withRouter(['--listen', '2'], async ({ port }) => {
      const answers = await Promise.all(Array.from({ length: 8 }, () => get(port, '/peak?300')));
      assert.deepEqual(
        answers.map((a) => a.status),
        Array(8).fill(200),
      );
    });
  });

  test('a worker that does not answer within --http-timeout gives the client 504 and a log line', async () => {
    await withRouter(['--http-timeout', '1'], async ({ tsgi, port }) => {
      const r = await get(port, '/slow?3000');
      assert.equal(r.status, 504);
      assert.match(
        tsgi.output(),
        /tsgi http router: 504 for 127\.0\.0\.1 \(GET \/slow\?3000\): worker did not answer within http-timeout @tsgi-router-\d+-[0-9a-z]+/,
      );
    });
  });

  test('a worker killed in the middle of a request gives the client 502, and its replacement serves the next one', async () => {
    await withRouter([], async ({ tsgi, port }) => {
      const [first] = workerPids(tsgi);
      const pending = get(port, '/slow?5000');
      await tsgi.waitFor(new RegExp(`router fixture: slow request in ${first}`));
      process.kill(first!, 'SIGKILL');
      const r = await pending;
      assert.equal(r.status, 502);
      assert.match(
        tsgi.output(),
        /502 for 127\.0\.0\.1 \(GET \/slow\?5000\): worker closed the connection without a response/,
      );
      await tsgi.waitFor(/spawned tsgi worker 1 \(pid[\s\S]*spawned tsgi worker 1 \(pid/, 60000);
      const next = await get(port);
      assert.equal(next.status, 200);
      assert.notEqual(Number(next.body), first);
    });
  });

  test('SIGHUP while requests stream through the router: none fails, and new workers answer afterwards', async () => {
    await withRouter(['--processes', '2'], async ({ tsgi, port }) => {
      const before = new Set(workerPids(tsgi));
      const router = routerThread(tsgi);
      const failures: string[] = [];
      let served = 0;
      let running = true;
      const client = async (): Promise<void> => {
        while (running) {
          try {
            const r = await get(port, '/peak?20');
            if (r.status === 200) served++;
            else failures.push(`status ${r.status}`);
          } catch (err) {
            failures.push((err as Error).message);
          }
        }
      };
      const clients = Array.from({ length: 8 }, client);
      await sleep(500);
      tsgi.proc.kill('SIGHUP');
      await tsgi.waitFor(/tsgi worker 2 \(pid: \d+\) exited with code 0 \(graceful stop\)/, 60000);
      await sleep(300);
      running = false;
      await Promise.all(clients);
      assert.deepEqual(failures, []);
      assert.ok(served > 20, `requests were served during the reload (${served})`);
      const r = await get(port);
      assert.ok(!before.has(Number(r.body)), 'a new worker answers');
      assert.equal(routerThread(tsgi), router, 'the router thread is the one that served before the reload');
      assert.equal(tsgi.output().match(/spawned tsgi http router thread/g)?.length, 1, 'and it was never restarted');
    });
  });

  test('SIGTERM lets a request in flight through the router finish, then everything exits 0', async () => {
    const { tsgi, port } = await startRouter([]);
    const pending = get(port, '/slow?1500');
    await tsgi.waitFor(/router fixture: slow request in/);
    const code = tsgi.stop('SIGTERM');
    const r = await pending;
    assert.equal(r.status, 200);
    assert.equal(await code, 0);
    assert.match(tsgi.output(), /tsgi http router: stopped\n[\s\S]*goodbye to tsgi\./);
    for (const pid of [masterPid(tsgi), ...workerPids(tsgi)]) assert.ok(!alive(pid), `process ${pid} is gone`);
  });

  test("a worker's death never interrupts the router: a client connection kept alive through it is served by the replacement; the master's death takes the workers with it", async () => {
    const { tsgi, port } = await startRouter([]);
    try {
      const router = routerThread(tsgi);
      const sock = net.connect(port, '127.0.0.1');
      sock.on('error', () => {});
      await new Promise((r) => sock.once('connect', r));
      let data = Buffer.alloc(0);
      let closed = false;
      const arrived: Array<() => void> = [];
      sock.on('data', (d: Buffer) => {
        data = Buffer.concat([data, d]);
        for (const w of arrived.splice(0)) w();
      });
      sock.on('close', () => {
        closed = true;
        for (const w of arrived.splice(0)) w();
      });
      const answered = async (n: number): Promise<void> => {
        while (parseResponses(data).length < n && !closed) await new Promise<void>((r) => arrived.push(r));
      };
      sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await answered(1);
      const [first] = workerPids(tsgi);
      assert.equal(parseResponses(data)[0]!.body, String(first));
      process.kill(first!, 'SIGKILL');
      await tsgi.waitFor(/spawned tsgi worker 1 \(pid[\s\S]*spawned tsgi worker 1 \(pid/, 60000);
      sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await answered(2);
      assert.equal(closed, false, 'the client connection to the router stayed open');
      const second = parseResponses(data)[1]!;
      assert.equal(second.status, 200);
      assert.notEqual(Number(second.body), first, 'the replacement answered');
      assert.equal(routerThread(tsgi), router, 'the same router thread');
      sock.destroy();
      const workers = workerPids(tsgi);
      tsgi.proc.kill('SIGKILL');
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && workers.some(alive)) await sleep(50);
      for (const pid of workers) assert.ok(!alive(pid), `worker ${pid} exited with the master`);
    } finally {
      await tsgi.stop('SIGKILL');
    }
  });

  test('the quick-start --plugins http,psgi --http-modifier1 5: --http-modifier1 stamps every packet; an app modifier reaches the app, others are refused', async () => {
    await withRouter(['--plugins', 'http,psgi', '--http-modifier1', '5'], async ({ port }) => {
      assert.equal((await get(port)).status, 200);
    });
    await withRouter(['--http-modifier1', '200'], async ({ tsgi, port }) => {
      const r = await get(port);
      assert.equal(r.status, 501);
      // The worker's line (it may follow the response) names the modifier the router stamped.
      const line = await tsgi.waitFor(/.*UWSGI_BAD_MODIFIER.*/, 60000);
      assert.match(line, /\b200\b/);
    });
  });
});
