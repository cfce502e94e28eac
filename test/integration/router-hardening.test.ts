// The --http router under hostile or broken clients (docs/router.md, "Timeouts" and "Out of
// file descriptors"): a client that stops reading a streamed answer, a head sent one line at
// a time, and more connections than the router has descriptors for. Each test uses one tsgi
// with the fixture of test/integration/router.test.ts.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import { getOnNewConnection, sleep } from './helpers/exchange';
import { APPS, parseResponses, startTsgi, type TsgiHandle } from './helpers/tsgi';

const APP = path.join(APPS, 'router.js');

interface Router {
  tsgi: TsgiHandle;
  port: number;
  /** The master's, where the router thread runs. */
  pid: number;
}

async function withRouter(extra: string[], fn: (r: Router) => Promise<void>): Promise<void> {
  const tsgi = await startTsgi(['--http', '127.0.0.1:0', '--wsgi-file', APP, ...extra]);
  try {
    // The router is a thread of the master: its descriptors and CPU time are the master's.
    const spawned = await tsgi.waitFor(/spawned tsgi http router thread \(in the master, pid: \d+\)/);
    const m = /tsgi http bound on 127\.0\.0\.1:(\d+)/.exec(tsgi.output());
    assert.ok(m, 'the router logs the address it is bound on');
    await fn({ tsgi, port: Number(m[1]), pid: Number(/pid: (\d+)/.exec(spawned)![1]) });
  } finally {
    await tsgi.stop('SIGINT');
  }
}

/** Connects and resolves once connected; the socket's errors are swallowed (tests look at data). */
function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.once('connect', () => {
      sock.removeListener('error', reject);
      sock.on('error', () => {});
      resolve(sock);
    });
    sock.once('error', reject);
  });
}

/** Everything the peer sends until it closes the connection (or deadlineMs passes). */
function collect(sock: net.Socket, deadlineMs: number): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    const done = (closed: boolean): void => {
      clearTimeout(t);
      resolve({ data: Buffer.concat(parts), closed });
    };
    const t = setTimeout(() => done(false), deadlineMs);
    sock.on('data', (d: Buffer) => parts.push(d));
    sock.once('close', () => done(true));
  });
}

/** CPU time (user + system, in clock ticks) the process has used so far. */
function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime and stime (fields 14 and 15 of proc(5))
}

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

describe('the --http router against clients that misbehave', () => {
  test("a client that stops reading a streamed answer is dropped after --http-timeout with a log line, and the worker's slot is freed", async () => {
    // One process, two slots: the stuck answer holds one, the other serves meanwhile; once the
    // router drops the client, both slots hold a request at once again.
    await withRouter(['--http-timeout', '2', '--processes', '1', '--async', '2'], async ({ tsgi, port }) => {
      const stuck = await connect(port);
      stuck.pause();
      stuck.write(`GET /big?${1024 * 1024 * 1024} HTTP/1.1\r\nHost: x\r\n\r\n`);
      const ended = collect(stuck, 60000);
      assert.equal((await getOnNewConnection(port)).status, 200, 'another request is served meanwhile');
      const line = await tsgi.waitFor(
        /tsgi http router: closed the connection of 127\.0\.0\.1 \(GET \/big\?\d+\): client did not read the response within http-timeout.*/,
        30000,
      );
      assert.match(line, /\(2 s; \d+ response bytes from the worker, \d+ unsent\)/);
      stuck.resume();
      assert.equal((await ended).closed, true, 'the router closed the client connection');
      const both = await Promise.all([getOnNewConnection(port, '/peak?1500'), getOnNewConnection(port, '/peak?1500')]);
      assert.deepEqual(
        both.map((r) => r.status),
        [200, 200],
      );
      assert.ok(
        both.some((r) => r.body.endsWith(' 2')),
        `both slots served at once (${both.map((r) => r.body).join(', ')})`,
      );
      assert.equal(tsgi.output().match(/client did not read the response/g)?.length, 1, 'one log line');
    });
  });

  test('a slow client that keeps reading a large answer is never cut, however long the whole answer takes', async () => {
    await withRouter(['--http-timeout', '2'], async ({ tsgi, port }) => {
      const total = 16 * 1024 * 1024;
      const sock = await connect(port);
      sock.pause();
      sock.write(`GET /big?${total} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      // Bursts of 2 MiB with a 1 s pause between them: each pause is shorter than the timeout,
      // and the kernel's buffers cannot hold the whole answer, so the router waits on the
      // client several times.
      const parts: Buffer[] = [];
      let got = 0;
      let closed = false;
      sock.on('close', () => (closed = true));
      let burst = 0;
      sock.on('data', (d: Buffer) => {
        parts.push(d);
        got += d.length;
        burst += d.length;
        if (burst >= 2 * 1024 * 1024) {
          burst = 0;
          sock.pause();
          setTimeout(() => sock.resume(), 1000);
        }
      });
      const started = Date.now();
      sock.resume();
      while (!closed && Date.now() - started < 60000) await sleep(100);
      const [res] = parseResponses(Buffer.concat(parts));
      assert.equal(res?.status, 200);
      assert.equal(res?.body.length, total, `every byte arrived (${got} bytes in ${Date.now() - started} ms)`);
      assert.doesNotMatch(tsgi.output(), /closed the connection of/);
    });
  });

  test('a head sent one line every 500 ms is answered 408 within --http-timeout of its start, on a new and on a kept-alive connection', async () => {
    await withRouter(['--http-timeout', '2'], async ({ tsgi, port }) => {
      for (const warmUp of [false, true]) {
        const sock = await connect(port);
        const answer = collect(sock, 60000);
        if (warmUp) {
          sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
          const deadline = Date.now() + 15000;
          while (Date.now() < deadline && !sock.bytesRead) await sleep(50);
          assert.ok(sock.bytesRead > 0, 'the first request was answered');
        }
        // At most 40 lines (20 s): without a deadline for the whole head, every line would
        // restart the clock and the client would reach the end unanswered.
        sock.write('GET /slowloris HTTP/1.1\r\nHost: x\r\n');
        let sent = 0;
        let closed = false;
        sock.once('close', () => (closed = true));
        while (!closed && sent < 40) {
          await sleep(500);
          if (!closed) sock.write(`X-Line-${sent++}: y\r\n`);
        }
        const { data, closed: byServer } = await answer;
        const responses = parseResponses(data);
        assert.equal(responses.at(-1)?.status, 408, `the trickled head is answered 408 (warm-up: ${warmUp})`);
        assert.ok(byServer && sent < 40, `the router closed before the client was done (${sent} lines sent)`);
        sock.destroy();
      }
      assert.equal(
        tsgi.output().match(/tsgi http router: 408 for 127\.0\.0\.1: request head not received/g)?.length,
        2,
      );
      assert.equal((await getOnNewConnection(port)).status, 200);
    });
  });

  test('out of file descriptors, the router stops accepting without spinning, logs a bounded number of lines, and serves again once connections close', async () => {
    await withRouter(['--http-timeout', '60'], async ({ tsgi, port, pid }) => {
      assert.equal((await getOnNewConnection(port)).status, 200);
      // Only the master (where the router runs) is limited: 64 descriptors, about 30 of them free.
      execFileSync('prlimit', ['--pid', String(pid), '--nofile=64:64']);
      // Each sends the start of a head, so the kernel hands it over at once (the listening
      // socket has TCP_DEFER_ACCEPT) and it then holds its descriptor for --http-timeout.
      const idle: net.Socket[] = [];
      for (let i = 0; i < 120; i++) {
        const s = await connect(port);
        s.write('GET / HTTP/1.1\r\n');
        idle.push(s);
      }
      await tsgi.waitFor(/tsgi http router: accept\(\) failed: Too many open files/, 15000);
      // A request made meanwhile waits in the backlog instead of being reset.
      const waiting = getOnNewConnection(port, '/');
      const t0 = Date.now();
      const cpu0 = cpuTicks(pid);
      await sleep(2000);
      const wallTicks = ((Date.now() - t0) / 1000) * TICKS_PER_SECOND;
      const used = cpuTicks(pid) - cpu0;
      assert.ok(
        used < wallTicks * 0.5,
        `the router is not spinning (${used} ticks of CPU in ${wallTicks.toFixed(0)} ticks)`,
      );
      const lines = tsgi
        .output()
        .split('\n')
        .filter((l) => l.includes('accept() failed'));
      assert.ok(lines.length >= 1 && lines.length <= 3, `a bounded number of log lines:\n${lines.join('\n')}`);
      assert.match(lines[0]!, /; \d+ client connections open; new connections wait in the backlog/);
      assert.ok(
        idle.every((s) => !s.destroyed && s.readyState === 'open'),
        'no connection was reset to make room',
      );
      for (const s of idle) s.destroy();
      const r = await waiting;
      assert.equal(r.status, 200, 'the request that waited is served');
      assert.equal((await getOnNewConnection(port)).status, 200);
    });
  });
});
