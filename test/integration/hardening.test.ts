// Clients that stop reading or drip, descriptor exhaustion, pipelined answers nobody reads,
// and app bodies that contradict their own Content-Length, against the real CLI on
// --http-socket (docs/security.md lists each limit and its default). Every test checks
// that the server keeps answering other clients while the bad one is handled.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { APPS, parseResponses, rawExchange, startTsgi, type TsgiHandle } from './helpers/tsgi';

const APP = path.join(APPS, 'hardening.mjs');

// Every client socket a test opens, destroyed after each test even when it fails, so that
// a failure never leaves the test process waiting on open handles.
const sockets: net.Socket[] = [];
function connect(port: number): net.Socket {
  const s = net.connect(port, '127.0.0.1');
  sockets.push(s);
  return s;
}
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
});

/** One GET on a fresh connection; resolves with the status, or 0 when it fails or exceeds ms. */
async function get(port: number, target: string, ms = 10000): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${target}`, { signal: AbortSignal.timeout(ms) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** Connects, writes `head`, and never reads: the socket is paused until `destroy()`. */
function nonReader(port: number, head: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port).on('connect', () => {
      s.pause();
      s.write(head, () => resolve(s));
    });
    s.on('error', reject);
  });
}

describe('a client that stops reading a streamed response', () => {
  let tsgi: TsgiHandle;
  before(async () => {
    tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', APP, '--socket-timeout', '2']);
  });
  after(async () => {
    assert.equal(await tsgi.stop(), 0);
  });

  test('is disconnected after --socket-timeout without progress, the app stops and others are served', async () => {
    const port = tsgi.ports[0];
    const stalled = await nonReader(port, 'GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    await tsgi.waitFor(
      /closing connection from 127\.0\.0\.1: client did not read the response within socket-timeout \(IO_WRITE_TIMEOUT\)/,
      20000,
    );
    await tsgi.waitFor(/hardening: stream stopped/, 10000);
    // The only app slot (--async 1) is free again: the next clients are answered.
    assert.deepEqual(await Promise.all([get(port, '/'), get(port, '/'), get(port, '/')]), [200, 200, 200]);
    stalled.destroy();
  });

  test('keeps a client that reads slowly but steadily', async () => {
    const port = tsgi.ports[0];
    // 4 MiB of /mb-sized answers read in 64 KiB steps with pauses: progress every few
    // hundred ms, far below the 2 s without progress that ends a connection.
    const got = await new Promise<number>((resolve, reject) => {
      let n = 0;
      const s = connect(port).on('connect', () => s.write('GET /mb HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      s.on('data', (d: Buffer) => {
        n += d.length;
        s.pause();
        setTimeout(() => s.resume(), 100);
      });
      s.on('end', () => resolve(n));
      s.on('error', reject);
    });
    assert.ok(got > 1 << 20, `the whole 1 MiB answer arrived (${got} bytes)`);
  });
});

describe('pipelined requests from a client that never reads', () => {
  let tsgi: TsgiHandle;
  before(async () => {
    tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', APP, '--socket-timeout', '2']);
  });
  after(async () => {
    assert.equal(await tsgi.stop(), 0);
  });

  test('stop being parsed once their answers pile up, and the connection is dropped when none are read', async () => {
    const port = tsgi.ports[0];
    const before = Number(/req: (\d+)/.exec(tsgi.output())?.[1] ?? 0);
    // 400 requests for 1 MiB each: 400 MiB of answers if they were all produced.
    const stalled = await nonReader(port, 'GET /mb HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(400));
    await tsgi.waitFor(/closing connection from 127\.0\.0\.1: client did not read the response/, 20000);
    const served = [...tsgi.output().matchAll(/GET \/mb => generated/g)].length;
    assert.ok(
      served < 40,
      `only the answers the socket buffers could take were produced (${served}, before ${before})`,
    );
    assert.equal(await get(port, '/'), 200);
    stalled.destroy();
  });

  test('are answered in full when the client reads them after a pause', async () => {
    const port = tsgi.ports[0];
    const r = await new Promise<Buffer>((resolve, reject) => {
      const parts: Buffer[] = [];
      const s = connect(port).on('connect', () => {
        s.pause();
        s.write(
          'GET /mb HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(7) + 'GET /mb HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
        );
        setTimeout(() => s.resume(), 300);
      });
      s.on('data', (d: Buffer) => parts.push(d));
      s.on('end', () => resolve(Buffer.concat(parts)));
      s.on('error', reject);
    });
    const rs = parseResponses(r);
    assert.equal(rs.length, 8);
    for (const x of rs) assert.equal(x.body.length, 1 << 20);
  });
});

for (const [kind, file] of [
  ['fetch', 'hardening-fetch.mjs'],
  ['node:http', 'hardening-node.cjs'],
]) {
  describe(`a ${kind} app`, () => {
    let tsgi: TsgiHandle;
    before(async () => {
      tsgi = await startTsgi([
        '--http-socket',
        '127.0.0.1:0',
        '--wsgi-file',
        path.join(APPS, file),
        '--socket-timeout',
        '2',
      ]);
    });
    after(async () => {
      assert.equal(await tsgi.stop(), 0);
    });

    test('a client that stops reading a streamed answer is disconnected and the app stream stopped', async () => {
      const port = tsgi.ports[0];
      await nonReader(port, 'GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
      await tsgi.waitFor(/client did not read the response within socket-timeout \(IO_WRITE_TIMEOUT\)/, 20000);
      await tsgi.waitFor(/hardening: stream stopped/, 10000);
      assert.equal(await get(port, '/'), 200);
    });

    test('a longer body is cut to it and the kept-alive connection is closed', async () => {
      const r = await rawExchange(
        { port: tsgi.ports[0] },
        ['GET /length?d=5&a=23 HTTP/1.1\r\nHost: x\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'],
        { gapMs: 200, timeoutMs: 5000 },
      );
      const text = r.data.toString('latin1');
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
      assert.equal(text.slice(text.indexOf('\r\n\r\n') + 4), 'zzzzz');
      assert.equal(r.closed, true);
      await tsgi.waitFor(/APP_LENGTH_MISMATCH/);
    });

    test('a shorter body closes the connection after it', async () => {
      const r = await rawExchange({ port: tsgi.ports[0] }, ['GET /length?d=50&a=7 HTTP/1.1\r\nHost: x\r\n\r\n'], {
        timeoutMs: 5000,
      });
      const text = r.data.toString('latin1');
      assert.equal(text.slice(text.indexOf('\r\n\r\n') + 4), 'zzzzzzz');
      assert.equal(r.closed, true);
    });
  });
}

describe("the app's own Content-Length", () => {
  let tsgi: TsgiHandle;
  before(async () => {
    tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', APP]);
  });
  after(async () => {
    assert.equal(await tsgi.stop(), 0);
  });

  for (const streamed of [false, true]) {
    const how = streamed ? 'streamed' : 'whole';
    test(`a longer ${how} body is cut to it and the kept-alive connection is closed, so the next request is not answered with the rest`, async () => {
      const r = await rawExchange(
        { port: tsgi.ports[0] },
        [
          `GET /length?d=5&a=23${streamed ? '&s' : ''} HTTP/1.1\r\nHost: x\r\n\r\n`,
          'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
        ],
        { gapMs: 200, timeoutMs: 5000 },
      );
      const text = r.data.toString('latin1');
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
      assert.equal(text.slice(text.indexOf('\r\n\r\n') + 4), 'zzzzz', 'exactly the declared 5 bytes, then nothing');
      assert.equal(r.closed, true);
      await tsgi.waitFor(
        /the app sent more than 5 body bytes with Content-Length: 5; connection closed \(APP_LENGTH_MISMATCH\)/,
      );
    });

    test(`a shorter ${how} body closes the connection after it`, async () => {
      const r = await rawExchange(
        { port: tsgi.ports[0] },
        [`GET /length?d=50&a=7${streamed ? '&s' : ''} HTTP/1.1\r\nHost: x\r\n\r\n`],
        { timeoutMs: 5000 },
      );
      const text = r.data.toString('latin1');
      assert.match(text, /Content-Length: 50\r\n/);
      assert.equal(text.slice(text.indexOf('\r\n\r\n') + 4), 'zzzzzzz');
      assert.equal(r.closed, true, 'the client learns that the body ended short');
      await tsgi.waitFor(/the app sent 7 body bytes with Content-Length: 50; connection closed/);
    });
  }

  test('a body of exactly the declared length keeps the connection alive', async () => {
    const r = await rawExchange(
      { port: tsgi.ports[0] },
      ['GET /length?d=4&a=4 HTTP/1.1\r\nHost: x\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
      { gapMs: 100, timeoutMs: 5000 },
    );
    assert.deepEqual(
      parseResponses(r.data).map((x) => x.body),
      ['zzzz', 'ok'],
    );
  });
});

/** Opens a connection and sends `lines` one at a time, `gapMs` apart, until the server closes it. */
function drip(port: number, lines: string[], gapMs: number): Promise<{ data: string; sent: number }> {
  return new Promise((resolve) => {
    let data = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const s = connect(port);
    const next = (): void => {
      if (sent === lines.length || s.destroyed) return;
      s.write(lines[sent++]);
      timer = setTimeout(next, gapMs);
    };
    s.on('connect', next);
    s.on('data', (d: Buffer) => (data += d.toString('latin1')));
    const done = (): void => {
      clearTimeout(timer);
      s.destroy();
      resolve({ data, sent });
    };
    s.on('close', done);
    s.on('error', done);
  });
}

/** `count` header lines after a request line, enough to keep a drip going for count × gap. */
function headLines(count: number): string[] {
  return ['GET / HTTP/1.1\r\n', ...Array.from({ length: count }, (_, i) => `X-Drip-${i}: ${i}\r\n`), '\r\n'];
}

describe('clients that drip their request head', () => {
  let tsgi: TsgiHandle;
  before(async () => {
    tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', APP, '--socket-timeout', '2']);
  });
  after(async () => {
    assert.equal(await tsgi.stop(), 0);
  });

  test('get 408 once the whole head has taken longer than --socket-timeout, while others are served', async () => {
    const port = tsgi.ports[0];
    // 40 lines 300 ms apart would take 12 s: each read renews nothing, the head deadline is 2 s.
    const drips = Array.from({ length: 20 }, () => drip(port, headLines(40), 300));
    const others: number[] = [];
    for (let i = 0; i < 10; i++) others.push(await get(port, '/'));
    const results = await Promise.all(drips);
    assert.deepEqual(others, Array(10).fill(200));
    for (const r of results) {
      assert.match(r.data, /^HTTP\/1\.1 408 /);
      assert.ok(r.sent < 40, `the head was cut off before it ended (${r.sent} lines sent)`);
    }
    assert.match(tsgi.output(), /request head not received within socket-timeout \(HTTP_HEAD_TIMEOUT\) -> 408/);
  });
});

describe('--max-connections', () => {
  let tsgi: TsgiHandle;
  before(async () => {
    tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      APP,
      '--socket-timeout',
      '2',
      '--max-connections',
      '6',
    ]);
  });
  after(async () => {
    assert.equal(await tsgi.stop(), 0);
  });

  test('closes the oldest idle keep-alive connection to serve a new client', async () => {
    const port = tsgi.ports[0];
    const idle: net.Socket[] = [];
    for (let i = 0; i < 6; i++) {
      const s = connect(port);
      await new Promise<void>((resolve) => {
        s.once('data', () => resolve());
        s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      });
      idle.push(s);
    }
    const closed = new Promise<void>((resolve) => idle[0].once('close', () => resolve()));
    assert.equal(await get(port, '/'), 200);
    await closed;
    for (const s of idle) s.destroy();
  });

  test('makes a new client wait, not fail, while every connection is a dripping head', async () => {
    const port = tsgi.ports[0];
    const drips = Array.from({ length: 6 }, () => drip(port, headLines(40), 300));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await get(port, '/', 20000), 200);
    for (const r of await Promise.all(drips)) assert.match(r.data, /^HTTP\/1\.1 408 /);
  });
});

describe('a request body that drips', () => {
  let tsgi: TsgiHandle;
  before(async () => {
    tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', APP, '--socket-timeout', '2']);
  });
  after(async () => {
    assert.equal(await tsgi.stop(), 0);
  });

  const bodyDrip = (port: number): Promise<{ data: string; sent: number }> =>
    drip(port, ['POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 60\r\n\r\n', ...Array(60).fill('b')], 300);

  test('holds no app slot while it is buffered (--post-buffering), and gets 408 below --min-body-rate', async () => {
    const port = tsgi.ports[0];
    const drips = Array.from({ length: 10 }, () => bodyDrip(port));
    await new Promise((r) => setTimeout(r, 200));
    const others: number[] = [];
    for (let i = 0; i < 10; i++) others.push(await get(port, '/'));
    assert.deepEqual(others, Array(10).fill(200), 'the one app slot (--async 1) stayed free for other clients');
    for (const r of await Promise.all(drips)) {
      assert.match(r.data, /^HTTP\/1\.1 408 /);
      assert.ok(r.sent < 61);
    }
    assert.match(tsgi.output(), /request body slower than min-body-rate \(HTTP_BODY_TOO_SLOW\) -> 408/);
    assert.doesNotMatch(tsgi.output(), /POST \/echo =>/, 'the app never saw a dripped request');
  });

  test('a body larger than --post-buffering still reaches the app whole', async () => {
    const body = Buffer.alloc(3 << 20, 0x61);
    const res = await fetch(`http://127.0.0.1:${tsgi.ports[0]}/echo`, { method: 'POST', body });
    assert.equal(await res.text(), `got ${body.length}`);
  });
});

describe('a request body that drips through the --http router', () => {
  let tsgi: TsgiHandle;
  let port: number;
  before(async () => {
    tsgi = await startTsgi(['--http', '127.0.0.1:0', '--wsgi-file', APP, '--socket-timeout', '2']);
    await tsgi.waitFor(/spawned tsgi http router thread/);
    port = Number(/tsgi http bound on 127\.0\.0\.1:(\d+)/.exec(tsgi.output())![1]);
  });
  after(async () => {
    assert.equal(await tsgi.stop(), 0);
  });

  test('holds no app slot in the worker, and others are served meanwhile', async () => {
    const drips = Array.from({ length: 10 }, () =>
      drip(port, ['POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 60\r\n\r\n', ...Array(60).fill('b')], 300),
    );
    await new Promise((r) => setTimeout(r, 200));
    const others: number[] = [];
    for (let i = 0; i < 10; i++) others.push(await get(port, '/'));
    assert.deepEqual(others, Array(10).fill(200));
    for (const r of await Promise.all(drips)) {
      assert.match(r.data, /^HTTP\/1\.1 408 /);
      assert.ok(r.sent < 61);
    }
  });
});

describe('a request body that drips with --post-buffering 0', () => {
  let tsgi: TsgiHandle;
  before(async () => {
    tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      APP,
      '--socket-timeout',
      '1',
      '--post-buffering',
      '0',
    ]);
  });
  after(async () => {
    assert.equal(await tsgi.stop(), 0);
  });

  test('is cut off by --min-body-rate, which frees the app slot for the next client', async () => {
    const port = tsgi.ports[0];
    const r = await drip(
      port,
      ['POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 60\r\n\r\n', ...Array(60).fill('b')],
      300,
    );
    assert.match(r.data, /^HTTP\/1\.1 408 /);
    assert.ok(r.sent < 61);
    assert.equal(await get(port, '/'), 200);
  });
});

/** User + system CPU time of a process in clock ticks (/proc/PID/stat fields 14 and 15). */
function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * Opens `n` connections that send half a request line and stop; resolves once all are
 * connected. (A connection that sends nothing at all never reaches accept(): the listener
 * uses TCP_DEFER_ACCEPT.)
 */
async function openPartial(port: number, n: number): Promise<net.Socket[]> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Socket>((resolve) => {
          const s = connect(port);
          s.on('connect', () => s.write('GET / HTTP/1.1\r\n', () => resolve(s)));
          s.on('error', () => resolve(s));
        }),
    ),
  );
}

describe('running out of file descriptors', () => {
  let tsgi: TsgiHandle;
  before(async () => {
    // --max-connections far above the descriptor limit, so accept() itself fails.
    tsgi = await startTsgi(
      [
        '--http-socket',
        '127.0.0.1:0',
        '--wsgi-file',
        APP,
        '--socket-timeout',
        '30',
        '--max-connections',
        '10000',
        '--disable-logging',
      ],
      { prefix: ['prlimit', '--nofile=96:96'] },
    );
  });
  after(async () => {
    assert.equal(await tsgi.stop(), 0);
  });

  test('pauses accepting with one log line per interval instead of spinning, and recovers when descriptors free up', async () => {
    const port = tsgi.ports[0];
    const keep = connect(port);
    await new Promise<void>((resolve) => {
      keep.once('data', () => resolve());
      keep.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    const extra = await openPartial(port, 300);
    await tsgi.waitFor(/accept\(\) failed: Too many open files; not accepting until a descriptor is free/);
    const pid = tsgi.proc.pid!;
    const t0 = cpuTicks(pid);
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 2000));
    const ticksPerSec = 100; // USER_HZ on Linux
    const cpuShare = (cpuTicks(pid) - t0) / ticksPerSec / ((Date.now() - started) / 1000);
    assert.ok(cpuShare < 0.5, `the server does not spin on accept() (CPU share ${cpuShare.toFixed(2)})`);
    const lines = tsgi.output().match(/accept\(\) failed/g) ?? [];
    assert.ok(lines.length <= 2, `the failure is logged once per interval (${lines.length} lines)`);
    // The connection the server already had is still served.
    const again = await new Promise<string>((resolve) => {
      keep.once('data', (d: Buffer) => resolve(d.toString('latin1')));
      keep.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    assert.match(again, /^HTTP\/1\.1 200 /);
    keep.destroy();
    for (const s of extra) s.destroy();
    assert.equal(await get(port, '/', 20000), 200, 'a new client is served once descriptors are free');
  });
});

describe('the default --max-connections under a low descriptor limit', () => {
  let tsgi: TsgiHandle;
  before(async () => {
    tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', APP, '--socket-timeout', '2'], {
      prefix: ['prlimit', '--nofile=96:96'],
    });
  });
  after(async () => {
    assert.equal(await tsgi.stop(), 0);
  });

  test('keeps accept() from failing at all: extra clients wait in the backlog and are served later', async () => {
    const port = tsgi.ports[0];
    const extra = await openPartial(port, 150);
    const status = get(port, '/', 20000);
    // The half-sent heads get 408 after --socket-timeout, making room for the others.
    assert.equal(await status, 200);
    for (const s of extra) s.destroy();
    assert.doesNotMatch(tsgi.output(), /accept\(\) failed/);
  });
});

describe('accepting under kept-alive load', () => {
  let tsgi: TsgiHandle;
  before(async () => {
    tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', APP]);
  });
  after(async () => {
    assert.equal(await tsgi.stop(), 0);
  });

  test('gives new connections a turn while kept-alive clients always have the next request waiting', async () => {
    const port = tsgi.ports[0];
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    let stop = false;
    let loadRequests = 0;
    // Eight kept-alive clients for one app slot: at every moment requests wait for it.
    const deadline = Date.now() + 60000;
    const load = Array.from({ length: 8 }, async () => {
      while (!stop && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          http
            .get({ host: '127.0.0.1', port, path: '/wait?ms=5', agent }, (res) => {
              res.resume();
              res.on('end', () => resolve());
            })
            .on('error', () => resolve());
        });
        loadRequests++;
      }
    });
    while (loadRequests < 50) await new Promise((r) => setTimeout(r, 20));
    // New connections, one after another, while the load goes on.
    const probes: number[] = [];
    let loadStillRunning: boolean;
    try {
      for (let i = 0; i < 5; i++) probes.push(await get(port, '/', 60000));
      loadStillRunning = !stop && Date.now() < deadline;
    } finally {
      stop = true;
      await Promise.all(load);
      agent.destroy();
    }
    assert.deepEqual(probes, Array(5).fill(200));
    assert.ok(loadStillRunning, 'the new connections were answered while the kept-alive load still ran');
  });
});
