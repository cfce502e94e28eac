// UNIX sockets (docs/config.md, "Values" and "Sockets"): `--http-socket /path`, `--socket /path`,
// `--chmod-socket[=NNN]`, `--vacuum`, stale socket files, several sockets in one instance.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { getVars, httpRequest, PROBE, portOf, rawRequest, tempDir, uwsgiRequest } from './helpers/exchange';
import { startTsgi, type TsgiHandle } from './helpers/tsgi';

let tmp: { dir: string; remove(): void };
let running: TsgiHandle[] = [];

beforeEach(() => {
  tmp = tempDir('tsgi-unix-it-');
});

afterEach(async () => {
  for (const t of running) await t.stop('SIGKILL');
  running = [];
  tmp.remove();
});

async function start(args: string[]): Promise<TsgiHandle> {
  const t = await startTsgi([...args, '--wsgi-file', PROBE]);
  running.push(t);
  return t;
}

const mode = (p: string): number => fs.statSync(p).mode & 0o777;
const isSocket = (p: string): boolean => fs.existsSync(p) && fs.statSync(p).isSocket();

async function assertHttpServes(sockPath: string, p = '/unix-http'): Promise<void> {
  const r = await rawRequest({ path: sockPath }, [httpRequest('GET', p)]);
  assert.equal(r.status, 200, r.data.toString('latin1'));
  assert.equal(r.body, `hello GET ${p}`);
}

async function assertUwsgiServes(sockPath: string, p = '/unix-uwsgi'): Promise<void> {
  const r = await uwsgiRequest({ path: sockPath }, getVars(p));
  assert.equal(r.statusLine, 'HTTP/1.1 200 OK');
  assert.equal(r.body, `hello GET ${p}`);
}

describe('UNIX sockets', () => {
  test('--http-socket and --socket on UNIX paths serve HTTP and uwsgi, --chmod-socket=660 sets the mode', async () => {
    const x = path.join(tmp.dir, 'x.sock');
    const y = path.join(tmp.dir, 'y.sock');
    const t = await start(['--http-socket', x, '--socket', y, '--chmod-socket=660']);
    assert.match(t.output(), new RegExp(`^tsgi socket 0 bound to UNIX address ${x} \\(http\\) fd \\d+$`, 'm'));
    assert.match(t.output(), new RegExp(`^tsgi socket 1 bound to UNIX address ${y} \\(uwsgi\\) fd \\d+$`, 'm'));
    assert.ok(isSocket(x) && isSocket(y));
    assert.equal(mode(x).toString(8), '660');
    assert.equal(mode(y).toString(8), '660');
    await assertHttpServes(x);
    await assertUwsgiServes(y);
  });

  test('--chmod-socket 640 (separate argument) sets the mode', async () => {
    const x = path.join(tmp.dir, 'x.sock');
    await start(['--http-socket', x, '--chmod-socket', '640']);
    assert.equal(mode(x).toString(8), '640');
    await assertHttpServes(x);
  });

  test('a bare --chmod-socket means 666', async () => {
    const x = path.join(tmp.dir, 'x.sock');
    const y = path.join(tmp.dir, 'y.sock');
    await start(['--chmod-socket', '--http-socket', x, '--socket', y]);
    assert.equal(mode(x).toString(8), '666');
    assert.equal(mode(y).toString(8), '666');
    await assertHttpServes(x);
  });

  test('--vacuum removes the socket files after SIGTERM', async () => {
    const x = path.join(tmp.dir, 'x.sock');
    const y = path.join(tmp.dir, 'y.sock');
    const t = await start(['--http-socket', x, '--socket', y, '--vacuum']);
    await assertHttpServes(x);
    assert.equal(await t.stop('SIGTERM'), 0);
    assert.equal(fs.existsSync(x), false);
    assert.equal(fs.existsSync(y), false);
  });

  test('without --vacuum the socket files stay after SIGTERM', async () => {
    const x = path.join(tmp.dir, 'x.sock');
    const t = await start(['--http-socket', x]);
    assert.equal(await t.stop('SIGTERM'), 0);
    assert.equal(isSocket(x), true);
  });

  test('a stale socket file left by a killed instance is replaced at startup', async () => {
    const x = path.join(tmp.dir, 'x.sock');
    const y = path.join(tmp.dir, 'y.sock');
    const first = await start(['--http-socket', x, '--socket', y, '--vacuum']);
    await first.stop('SIGKILL');
    assert.ok(isSocket(x) && isSocket(y), 'SIGKILL leaves the files behind');
    // Nothing listens on the stale files: connecting to them fails until tsgi replaces them.
    const dead = await rawRequest({ path: x }, [httpRequest('GET', '/dead')], { timeoutMs: 1000 });
    assert.equal(dead.data.length, 0);
    await start(['--http-socket', x, '--socket', y]);
    await assertHttpServes(x, '/after-stale');
    await assertUwsgiServes(y, '/after-stale');
  });

  test('several sockets in one instance all serve: HTTP TCP, uwsgi UNIX, uwsgi TCP, HTTP UNIX', async () => {
    const u = path.join(tmp.dir, 'u.sock');
    const h = path.join(tmp.dir, 'h.sock');
    const t = await start([
      '--http-socket',
      '127.0.0.1:0',
      '--socket',
      u,
      '--socket',
      '127.0.0.1:0',
      '--http-socket',
      h,
    ]);
    const httpPort = portOf(t.output(), 'http');
    const uwsgiPort = portOf(t.output(), 'uwsgi');
    const viaTcp = await rawRequest({ port: httpPort }, [httpRequest('GET', '/tcp-http')]);
    assert.equal(viaTcp.status, 200);
    assert.equal(viaTcp.body, 'hello GET /tcp-http');
    await assertUwsgiServes(u);
    const viaUwsgiTcp = await uwsgiRequest({ port: uwsgiPort }, getVars('/tcp-uwsgi'));
    assert.equal(viaUwsgiTcp.body, 'hello GET /tcp-uwsgi');
    await assertHttpServes(h);
    // And again, interleaved, to show no socket was served only once.
    await assertUwsgiServes(u, '/again');
    await assertHttpServes(h, '/again');
  });

  test('a relative UNIX socket path is bound relative to the working directory', async () => {
    const t = await startTsgi(['--http-socket', './rel.sock', '--wsgi-file', PROBE], { cwd: tmp.dir });
    running.push(t);
    const p = path.join(tmp.dir, 'rel.sock');
    assert.equal(isSocket(p), true);
    await assertHttpServes(p);
  });
});
