// What a graceful stop does to connections (docs/master.md, "Signals"): the in-flight request
// finishes, a connection already waiting in the listen queue is served, and new connections
// are refused at once (a proxy passes a refused connection to another server, even a POST)
// instead of queueing until the process exits and being reset then.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import { getOnNewConnection, httpRequest, sleep, tempDir } from './helpers/exchange';
import { APPS, startTsgi, type TsgiHandle } from './helpers/tsgi';

const HOLD = path.join(APPS, 'hold.js');

/** Connects, sends a GET, resolves with everything read until the server closes. */
function queuedRequest(port: number): { connected: Promise<void>; answer: Promise<string> } {
  const sock = net.connect(port, '127.0.0.1');
  const connected = new Promise<void>((resolve, reject) => {
    sock.once('connect', () => resolve());
    sock.once('error', reject);
  });
  const answer = new Promise<string>((resolve, reject) => {
    let data = '';
    sock.on('data', (d: Buffer) => (data += d.toString('latin1')));
    sock.on('end', () => resolve(data));
    sock.on('error', (err) => reject(new Error(`${err.message} after ${JSON.stringify(data)}`)));
  });
  sock.write(httpRequest('GET', '/'));
  return { connected, answer };
}

/** Connects until the connection is refused (bounded); other outcomes are ignored. */
async function untilRefused(port: number): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    const outcome = await new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    if (outcome === 'ECONNREFUSED') return;
    await sleep(50);
  }
  assert.fail('new connections were never refused during the stop');
}

/**
 * One request held in the app (the only slot), one connection waiting in the listen queue
 * behind it, then SIGTERM: connections get refused while both are still to be answered; once
 * released, both are answered and the process exits 0.
 */
async function stopWithQueue(args: string[], readyLines: RegExp): Promise<void> {
  const gate = tempDir();
  const release = path.join(gate.dir, 'release');
  let tsgi: TsgiHandle | null = null;
  try {
    tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', HOLD, ...args], {
      env: { TSGI_TEST_RELEASE: release },
    });
    await tsgi.waitFor(readyLines);
    const port = tsgi.ports[0]!;
    assert.equal((await getOnNewConnection(port)).body, 'ok');
    const held = getOnNewConnection(port, '/hold');
    await tsgi.waitFor(/hold: in the app/); // the only app slot is taken
    const queued = queuedRequest(port);
    await queued.connected; // in the kernel's listen queue: no slot is free to take it
    tsgi.proc.kill('SIGTERM');
    await untilRefused(port);
    fs.writeFileSync(release, '');
    assert.deepEqual(await held, { status: 200, body: 'released' });
    const answer = await queued.answer;
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(answer, /\r\n\r\nok$/);
    assert.equal(await tsgi.stop('SIGTERM', 60000), 0);
  } finally {
    if (tsgi !== null && tsgi.proc.exitCode === null) await tsgi.stop('SIGKILL');
    gate.remove();
  }
}

describe('a graceful stop and the connections around it', () => {
  test('with a master: new connections are refused while the in-flight request finishes, and a queued one is served', async () => {
    await stopWithQueue(['--master', '--processes', '1'], /ready in/);
  });

  test('without a master: new connections are refused while the in-flight request finishes, and a queued one is served', async () => {
    await stopWithQueue([], /spawned tsgi worker 1 \(and the only\)/);
  });
});
