// App failures and streaming (docs/app-contract.md): a throw before the first byte is a 500 with
// the stack in the log; after it, the connection is closed and the log says so; bodies stream
// with back-pressure; bad headers are never written. The worker keeps serving throughout.

import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { httpRequest, PROBE, rawRequest, sleep, waitForText } from './helpers/exchange';
import { APPS, rawExchange, startTsgi, type TsgiHandle } from './helpers/tsgi';

let t: TsgiHandle;
let port: number;

before(async () => {
  t = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', PROBE]);
  port = t.ports[0]!;
});

after(async () => {
  await t.stop();
});

const logSince = (mark: number): string => t.output().slice(mark);

async function assertServes(p = '/next'): Promise<void> {
  const r = await rawRequest({ port }, [httpRequest('GET', p)]);
  assert.equal(r.status, 200);
  assert.equal(r.body, `hello GET ${p}`);
}

/** Reads a response slowly: stalls `stallMs` first, then takes one chunk per `gapMs`. */
function slowRead(
  p: string,
  opts: { stallMs: number; gapMs: number; timeoutMs: number; onStallEnd?: () => void },
): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(
        new Error(
          `slow read of ${p} did not finish within ${opts.timeoutMs} ms (${parts.reduce((n, b) => n + b.length, 0)} bytes)`,
        ),
      );
    }, opts.timeoutMs);
    sock.on('connect', () => {
      sock.write(httpRequest('GET', p));
      sock.pause();
      setTimeout(() => {
        opts.onStallEnd?.();
        sock.resume();
      }, opts.stallMs);
    });
    sock.on('data', (d: Buffer) => {
      parts.push(d);
      sock.pause();
      setTimeout(() => sock.resume(), opts.gapMs);
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('end', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(parts), closed: true });
    });
  });
}

describe('gateway app errors', () => {
  test('a throw before the first byte gives 500, the stack in the log, and the next request is served', async () => {
    const mark = t.output().length;
    const r = await rawRequest({ port }, [httpRequest('GET', '/throw')]);
    assert.equal(r.statusLine, 'HTTP/1.1 500 Internal Server Error');
    assert.doesNotMatch(r.body, /probe: thrown/, 'the error text is not sent to the client');
    await waitForText(
      () => logSince(mark),
      /^tsgi: GET \/throw: app error before the response started; answered 500\nError: probe: thrown before the response\n {4}at /m,
    );
    await assertServes();
  });

  test('a rejected promise before the first byte gives 500 and the stack in the log', async () => {
    const mark = t.output().length;
    const r = await rawRequest({ port }, [httpRequest('GET', '/reject')]);
    assert.equal(r.status, 500);
    await waitForText(
      () => logSince(mark),
      /^tsgi: GET \/reject: app error before the response started; answered 500\nError: probe: rejected before the response\n {4}at /m,
    );
    await assertServes();
  });

  test('a throw on a keep-alive connection gives 500 and the same connection serves the next request', async () => {
    const pipelined =
      'GET /throw HTTP/1.1\r\nHost: x\r\n\r\nGET /same-conn HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
    const out = await rawExchange({ port }, [pipelined]);
    const text = out.data.toString('latin1');
    assert.match(text, /^HTTP\/1\.1 500 Internal Server Error\r\n/);
    assert.match(text, /HTTP\/1\.1 200 OK\r\n[\s\S]*hello GET \/same-conn$/);
  });

  test('a failure after part of a streamed body closes the connection before the terminating chunk, and the log says so', async () => {
    const mark = t.output().length;
    // HTTP/1.1 keep-alive and no Content-Length: the body is chunked.
    const out = await rawExchange({ port }, ['GET /partial HTTP/1.1\r\nHost: x\r\n\r\n'], { timeoutMs: 5000 });
    assert.equal(out.closed, true, 'the server closes the connection');
    const text = out.data.toString('latin1');
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /\r\ntransfer-encoding: chunked\r\n/i);
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    assert.equal(body, 'c\r\nfirst piece\n\r\nd\r\nsecond piece\n\r\n', 'the pieces sent, and no 0-chunk');
    await waitForText(
      () => logSince(mark),
      /^tsgi: GET \/partial: app error after the response started; connection closed\nError: probe: failed in the middle of the body\n {4}at /m,
    );
    await assertServes();
  });

  test('startResponse with CR/LF in a header value gives 500 and writes nothing of it', async () => {
    const mark = t.output().length;
    const r = await rawRequest({ port }, [httpRequest('GET', '/crlf')]);
    assert.equal(r.statusLine, 'HTTP/1.1 500 Internal Server Error');
    const raw = r.data.toString('latin1');
    assert.doesNotMatch(raw, /X-Bad|X-Injected|should never be sent/i);
    assert.equal(r.count, 1);
    await waitForText(
      () => logSince(mark),
      /^tsgi: GET \/crlf: app error before the response started; answered 500\n\w*Error: [^\n]*header/m,
    );
    await assertServes();
  });

  test('the worker still serves after every kind of failure in a row', async () => {
    for (const p of ['/throw', '/reject', '/partial', '/crlf']) {
      await rawExchange({ port }, [`GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]);
    }
    await assertServes('/survivor');
  });
});

describe('streaming with back-pressure', () => {
  test('a 10 MB async generator body read slowly by the client arrives complete, produced only as fast as it is read', async () => {
    const total = 10 * 1024 * 1024;
    const mark = t.output().length;
    let generatedDuringStall = false;
    const r = await slowRead(`/big?n=${total}&log=1`, {
      stallMs: 1000,
      gapMs: 1,
      timeoutMs: 30000,
      onStallEnd: () => {
        generatedDuringStall = /probe: big body generated/.test(logSince(mark));
      },
    });
    assert.equal(generatedDuringStall, false, 'the generator must wait while the client does not read');
    const text = r.data.toString('latin1');
    const headEnd = text.indexOf('\r\n\r\n');
    assert.match(text.slice(0, headEnd), /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text.slice(0, headEnd), new RegExp(`\\r\\ncontent-length: ${total}(\\r\\n|$)`, 'i'));
    const body = r.data.subarray(headEnd + 4);
    assert.equal(body.length, total);
    assert.equal(body.indexOf(0x62), -1);
    assert.equal(body[0], 0x61);
    assert.equal(body[total - 1], 0x61);
    await waitForText(() => logSince(mark), new RegExp(`^probe: big body generated ${total} bytes$`, 'm'));
  });

  test('a chunked async generator body arrives whole over keep-alive', async () => {
    const out = await rawExchange({ port }, [
      'GET /stream HTTP/1.1\r\nHost: x\r\n\r\nGET /after-stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    ]);
    const text = out.data.toString('latin1');
    assert.match(text, /transfer-encoding: chunked/i);
    assert.ok(
      text.includes('\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n'),
      'the streamed body ends with the 0-chunk, then the next response',
    );
    assert.match(text, /hello GET \/after-stream$/);
  });
});

describe('fetch handler errors', () => {
  let f: TsgiHandle;
  before(async () => {
    f = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      path.join(APPS, 'fetch-throws.mjs'),
      '--callable',
      'app',
    ]);
  });
  after(async () => {
    await f.stop();
  });

  test('a fetch handler that throws gives 500 and the stack in the log, and the next request is served', async () => {
    const mark = f.output().length;
    const r = await rawRequest({ port: f.ports[0]! }, [httpRequest('GET', '/throw')]);
    assert.equal(r.statusLine, 'HTTP/1.1 500 Internal Server Error');
    await waitForText(
      () => f.output().slice(mark),
      /^tsgi: GET \/throw: app error before the response started; answered 500\nError: fetch handler failed on purpose\n {4}at /m,
    );
    const ok = await rawRequest({ port: f.ports[0]! }, [httpRequest('GET', '/fine')]);
    assert.equal(ok.status, 200);
    assert.equal(ok.body, 'fetch ok');
    await sleep(0);
  });
});
