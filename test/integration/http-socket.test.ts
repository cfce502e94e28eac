// The worker speaking HTTP/1.1 itself (`--http-socket`; docs/http.md): keep-alive,
// pipelining, HTTP/1.0, Expect: 100-continue, HEAD, chunked responses and request bodies,
// and every limit and strict-parsing rule answered with its status (docs/http.md, "Limits and
// bad input").

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { APPS, parseResponses, ROOT, rawExchange, startTsgi, type TsgiHandle } from './helpers/tsgi';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (
  opts: Record<string, unknown>,
  cb: (err: Error | null, res: { requests: { total: number } }) => void,
) => unknown;

const APP = path.join(APPS, 'http-behaviour.js');

describe('--http-socket', () => {
  let tsgi: TsgiHandle;
  let port: number;

  before(async () => {
    tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      APP,
      '--async',
      '10',
      '--buffer-size',
      '2048',
      '--limit-post',
      '100000',
      '--socket-timeout',
      '1',
      '--http-keepalive-timeout',
      '2',
    ]);
    port = tsgi.ports[0];
  });
  after(async () => {
    assert.equal(await tsgi.stop(), 0);
  });

  // Exchanges end when the server closes; one that stays open ends at its `until`. The time
  // bound only ends a test that is already failing.
  const send = (chunks: Array<string | Buffer>, opts: Parameters<typeof rawExchange>[2] = {}) =>
    rawExchange({ port }, chunks, { timeoutMs: 30000, ...opts });

  test('serves the hello world of the quick-start --http-socket command through fetch()', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello /');
  });

  test('keeps an HTTP/1.1 connection open and answers several requests on it', async () => {
    const r = await send(['GET /a HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /b HTTP/1.1\r\nHost: x\r\n\r\n'], {
      gapMs: 50,
      timeoutMs: 30000,
      until: (d) => parseResponses(d).length === 2,
    });
    const rs = parseResponses(r.data);
    assert.deepEqual(
      rs.map((x) => x.body),
      ['hello /a', 'hello /b'],
    );
    assert.equal(r.closed, false, 'the connection stays open after both responses');
  });

  test('answers pipelined requests strictly in order, even when the first is slower', async () => {
    const r = await send([
      'GET /slow?80 HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\nGET /slow?10 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    ]);
    assert.deepEqual(
      parseResponses(r.data).map((x) => x.body),
      ['slow 80', 'hello /fast', 'slow 10'],
    );
    assert.equal(r.closed, true);
  });

  test('closes an HTTP/1.0 connection after the response unless keep-alive was asked', async () => {
    const r = await send(['GET /x HTTP/1.0\r\n\r\n']);
    const [res] = parseResponses(r.data);
    assert.equal(res.status, 200);
    assert.equal(r.closed, true);
    const k = await send(['GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'], {
      timeoutMs: 30000,
      until: (d) => parseResponses(d).length === 1,
    });
    assert.equal(parseResponses(k.data)[0].headers.connection, 'keep-alive');
    assert.equal(k.closed, false);
  });

  test('sends 100 Continue before reading a body announced with Expect', async () => {
    const r = await send(
      [
        'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n',
        'hello',
      ],
      { gapMs: 100 },
    );
    const text = r.data.toString();
    assert.match(text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /POST \/echo 5 hello$/);
  });

  test('answers HEAD with the headers of GET and no body', async () => {
    const r = await send(['HEAD /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    const text = r.data.toString();
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /Content-Length: 8\r\n/);
    assert.ok(text.endsWith('\r\n\r\n'), 'nothing after the head');
  });

  test('sends a response without a length chunked on keep-alive, close-delimited on HTTP/1.0', async () => {
    const r = await send(['GET /stream HTTP/1.1\r\nHost: x\r\n\r\n'], {
      timeoutMs: 30000,
      until: (d) => d.includes('0\r\n\r\n'),
    });
    const [res] = parseResponses(r.data);
    assert.equal(res.headers['transfer-encoding'], 'chunked');
    assert.equal(res.body, 'one,two');
    const r10 = await send(['GET /stream HTTP/1.0\r\n\r\n']);
    assert.equal(r10.closed, true);
    assert.ok(r10.data.toString().endsWith('\r\n\r\none,two'));
  });

  test('sends no Content-Length and no body with 204', async () => {
    const r = await send(['GET /no-content HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    const text = r.data.toString();
    assert.match(text, /^HTTP\/1\.1 204 No Content\r\n/);
    assert.doesNotMatch(text, /Content-Length|Transfer-Encoding/i);
  });

  test('honours Connection: close set by the app', async () => {
    const r = await send(['GET /close HTTP/1.1\r\nHost: x\r\n\r\n']);
    assert.equal(parseResponses(r.data)[0].body, 'bye');
    assert.equal(r.closed, true);
  });

  test('de-chunks a chunked request body, also when every byte arrives alone', async () => {
    const req =
      'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n';
    const whole = await send([req]);
    assert.match(parseResponses(whole.data)[0].body, /^POST \/echo 11 hello world$/);
    const split = await send(req.split(''), { gapMs: 1 });
    assert.match(parseResponses(split.data)[0].body, /^POST \/echo 11 hello world$/);
  });

  test('a request without a body never sees the body of an earlier request', async () => {
    const first = await send([
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecret',
    ]);
    assert.equal(parseResponses(first.data)[0].body, 'POST /echo 6 secret');
    const second = await send(['GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    assert.equal(parseResponses(second.data)[0].body, 'GET /echo 0 ');
  });

  test('streams a large body to the app without buffering it whole', async () => {
    const size = 90000;
    const chunks: Buffer[] = [
      Buffer.from(`POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\nConnection: close\r\n\r\n`),
    ];
    for (let i = 0; i < size; i += 10000) chunks.push(Buffer.alloc(10000, 97));
    const r = await send(chunks, { gapMs: 5 });
    assert.equal(parseResponses(r.data)[0].body, String(size));
  });

  test('builds the environ nginx uwsgi_params would send', async () => {
    const r = await send([
      'GET /env?a=1&b=%20 HTTP/1.1\r\nHost: example.org:8080\r\nX-Dup: 1\r\nx-dup: 2\r\nConnection: close\r\n\r\n',
    ]);
    const env = JSON.parse(parseResponses(r.data)[0].body);
    assert.equal(env.REQUEST_METHOD, 'GET');
    assert.equal(env.REQUEST_URI, '/env?a=1&b=%20');
    assert.equal(env.PATH_INFO, '/env');
    assert.equal(env.QUERY_STRING, 'a=1&b=%20');
    assert.equal(env.SERVER_PROTOCOL, 'HTTP/1.1');
    assert.equal(env.SERVER_NAME, 'example.org');
    assert.equal(env.SERVER_PORT, String(port));
    assert.equal(env.REMOTE_ADDR, '127.0.0.1');
    assert.match(env.REMOTE_PORT, /^\d+$/);
    assert.equal(env.SCRIPT_NAME, '');
    assert.equal(env.CONTENT_TYPE, '');
    assert.equal(env.CONTENT_LENGTH, '');
    assert.equal(env.HTTP_HOST, 'example.org:8080');
    assert.equal(env.HTTP_X_DUP, '1, 2');
  });

  test('decodes PATH_INFO and resolves %2e%2e before dot-segment removal', async () => {
    const r = await send(['GET /a%20b/x/%2e%2e/c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    assert.equal(parseResponses(r.data)[0].body, 'hello /a b/c');
  });

  const refusals: Array<[string, string, number]> = [
    ['a head larger than --buffer-size', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(2100)}\r\n\r\n`, 431],
    ['a request target longer than --buffer-size', `GET /${'a'.repeat(2100)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414],
    ['a body larger than --limit-post', 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100001\r\n\r\n', 413],
    [
      'Content-Length together with Transfer-Encoding',
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
    ],
    [
      'conflicting Content-Length headers',
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
      400,
    ],
    ['a signed Content-Length', 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc', 400],
    [
      'an overflowing Content-Length',
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n',
      400,
    ],
    [
      'a final transfer coding other than chunked',
      'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n',
      400,
    ],
    ['an unknown transfer coding', 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: foo, chunked\r\n\r\n', 501],
    ['a malformed chunk size', 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  b\r\n\r\n', 400],
    ['whitespace before a header colon', 'GET / HTTP/1.1\r\nHost : x\r\n\r\n', 400],
    ['a bare CR in the head', 'GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n', 400],
    ['a NUL in a header value', 'GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n', 400],
    ['a missing Host on HTTP/1.1', 'GET / HTTP/1.1\r\n\r\n', 400],
    ['a repeated Host', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
    ['a malformed request line', 'GET  / HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['an unsupported HTTP version', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', 505],
    ['%00 in the path', 'GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['a path climbing above the root', 'GET /../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ];
  for (const [what, req, status] of refusals) {
    test(`answers ${what} with ${status} and closes, then keeps serving`, async () => {
      const r = await send([req]);
      const text = r.data.toString('latin1');
      assert.match(text, new RegExp(`^HTTP/1\\.1 ${status} `));
      assert.match(text, /Connection: close\r\n/);
      assert.equal(r.closed, true);
      const ok = await fetch(`http://127.0.0.1:${port}/after`);
      assert.equal(await ok.text(), 'hello /after');
    });
  }

  test('answers a head that stalls longer than --socket-timeout with 408', async () => {
    const r = await send(['GET / HTTP/1.1\r\nHost: x\r\n'], { timeoutMs: 30000 });
    assert.match(r.data.toString(), /^HTTP\/1\.1 408 /);
    assert.equal(r.closed, true);
  });

  test("rejects the app's read and answers 408 when a body stalls longer than --socket-timeout", async () => {
    const r = await send(['POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc'], { timeoutMs: 30000 });
    assert.match(r.data.toString(), /^HTTP\/1\.1 408 /);
    await tsgi.waitFor(/request body stalled/);
  });

  test('closes an idle keep-alive connection after --http-keepalive-timeout', async () => {
    const started = Date.now();
    const r = await send(['GET /x HTTP/1.1\r\nHost: x\r\n\r\n'], { timeoutMs: 30000 });
    assert.equal(parseResponses(r.data)[0].body, 'hello /x');
    assert.equal(r.closed, true);
    assert.ok(Date.now() - started >= 1500, 'not closed before the idle timeout');
  });

  test('logs one line naming the cause of every refused request', async () => {
    await tsgi.waitFor(
      /tsgi: HTTP request from 127\.0\.0\.1: Content-Length together with Transfer-Encoding \(HTTP_CL_AND_TE\) -> 400/,
    );
  });
});

describe('--http-socket with one app slot (sync, the default)', () => {
  const ROUTER_APP = path.join(APPS, 'router.js');
  const ECHO_APP = path.join(ROOT, 'bench', 'apps', 'echo.js');

  test('a burst of 64 KiB POSTs that ends with 100 clients closing mid-request leaves the server serving', async () => {
    // The harness's warm-up did this: when autocannon stops, clients close with request heads
    // and bodies half sent. A connection that saw its peer's FIN while it could not read must
    // still read what is left (and the EOF) once it can, or the request it dispatches holds
    // the only slot until --socket-timeout (30 s here).
    const tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      ECHO_APP,
      '--socket-timeout',
      '30',
      '--disable-logging',
    ]);
    try {
      const url = `http://127.0.0.1:${tsgi.ports[0]}/`;
      const burst = await new Promise<{ requests: { total: number } }>((resolve, reject) => {
        autocannon(
          { url, connections: 100, duration: 1, method: 'POST', body: Buffer.alloc(64 * 1024, 'x') },
          (err, res) => (err ? reject(err) : resolve(res)),
        );
      });
      assert.ok(burst.requests.total > 0);
      for (let i = 0; i < 3; i++) {
        const r = await rawExchange(
          { port: tsgi.ports[0]! },
          ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello'],
          { timeoutMs: 10000 },
        );
        assert.equal(parseResponses(r.data)[0]?.body, 'hello', `request ${i + 1} after the burst`);
      }
    } finally {
      assert.equal(await tsgi.stop(), 0);
    }
  });

  test("SIGINT while the server idles exits 0 (the signal handler runs inside the loop iteration's JS scope)", async () => {
    for (let i = 0; i < 3; i++) {
      const tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', ROUTER_APP]);
      await new Promise((r) => setTimeout(r, 400)); // the 250 ms server timer has run
      const code = await tsgi.stop('SIGINT');
      assert.equal(code, 0, tsgi.output().slice(-1500));
      assert.doesNotMatch(tsgi.output(), /async hook stack has become corrupted/);
    }
  });
});
