// The native router thread (native/src/router/router_thread.h) driven from this process, as
// the master drives it: start, forward one request to a stand-in worker, stop gracefully,
// destroy; a start that fails throws and leaves no thread. Loopback only.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { addon, type RouterOptions } from '../../src/native';

const DEADLINE_MS = 10000;

/** A uwsgi "worker" that answers every packet with `ok` and closes, as a tsgi worker would. */
async function standInWorker(): Promise<{ port: number; close(): void }> {
  const server = net.createServer((sock) => {
    sock.on('error', () => {});
    sock.once('data', () => sock.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

function bindLoopback(): { fd: number; port: number } {
  const r = addon.bindSocket({ unix: false, host: '127.0.0.1', port: 0, backlog: 64 });
  if (r.error !== undefined) throw new Error(r.message);
  return { fd: r.fd, port: r.port };
}

function options(fd: number, port: number, backendPort: number, logFd: number): RouterOptions {
  return {
    listeners: [{ fd, protocol: 'http', unix: false, host: '127.0.0.1', port: String(port) }],
    backend: { unix: false, host: '127.0.0.1', port: backendPort, name: `127.0.0.1:${backendPort}` },
    bufferSize: 4096,
    timeoutMs: 5000,
    keepaliveMs: 5000,
    keepalive: true,
    maxChunkedBody: 1 << 20,
    modifier1: 0,
    modifier2: 0,
    logFd,
    backlog: 64,
  };
}

function get(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

async function until(what: string, cond: () => boolean): Promise<void> {
  const end = Date.now() + DEADLINE_MS;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const routerThreads = (): number =>
  fs.readdirSync('/proc/self/task').filter((tid) => {
    try {
      return fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'tsgi router';
    } catch {
      return false;
    }
  }).length;

test('a router thread forwards a request, stops gracefully on stop(), and leaves the caller its fd', async () => {
  const worker = await standInWorker();
  const { fd, port } = bindLoopback();
  try {
    const router = new addon.RouterThread(options(fd, port, worker.port, 2));
    assert.equal(routerThreads(), 1, 'one thread named "tsgi router" in this process');
    assert.deepEqual(await get(port), { status: 200, body: 'ok' });
    await until('the counters show the request', () => router.counters().requests === 1);
    assert.equal(router.stopped(), false);
    router.stop();
    await until('the router has stopped', () => router.stopped());
    assert.equal(router.active(), 0);
    router.destroy();
    assert.equal(routerThreads(), 0, 'the thread is joined');
    assert.equal(addon.closeFd(fd), 0, "the caller's fd is still open: the router closed its own duplicate");
  } finally {
    worker.close();
  }
});

test('destroy() closes a connection the router holds and joins the thread', async () => {
  const worker = await standInWorker();
  const { fd, port } = bindLoopback();
  try {
    const router = new addon.RouterThread(options(fd, port, worker.port, 2));
    const sock = net.connect(port, '127.0.0.1');
    sock.on('error', () => {});
    await new Promise((r) => sock.once('connect', r));
    sock.write('GET / HTTP/1.1\r\n'); // a head that never ends
    await until('the router holds the connection', () => router.active() === 1);
    const closed = new Promise((r) => sock.once('close', r));
    router.destroy();
    assert.equal(router.stopped(), true);
    assert.equal(routerThreads(), 0);
    await closed;
  } finally {
    worker.close();
    addon.closeFd(fd);
  }
});

test('a router that cannot start throws, logs why, and leaves no thread', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-router-thread-'));
  const log = path.join(dir, 'log');
  const logFd = fs.openSync(log, 'a');
  const { fd, port } = bindLoopback();
  try {
    const opts = options(fd, port, 1, logFd);
    opts.backend = { unix: true, path: `/${'x'.repeat(200)}`, name: 'the long path' };
    assert.throws(() => new addon.RouterThread(opts), /the HTTP router cannot start \(see the log line above\)/);
    assert.match(fs.readFileSync(log, 'utf8'), /tsgi http router: the worker socket path the long path is too long/);
    assert.equal(routerThreads(), 0);
    assert.equal(addon.closeFd(fd), 0, "the caller's fd is untouched");
  } finally {
    fs.closeSync(logFd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
