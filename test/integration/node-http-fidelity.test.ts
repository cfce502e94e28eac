// node:http fidelity that needs the native core, through the real CLI: the same request
// bytes go to test/fixtures/apps/node-fidelity.cjs under tsgi and under node's own
// http.createServer in this process, and what the app saw (or what the client got) must
// be the same: request headers (rawHeaders, duplicates), response trailers, and
// `Expect: 100-continue` with 'checkContinue' listeners. Over uwsgi the raw header names do
// not exist, and the rebuilt headers are kept.

import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getVars, type OneResponse, rawRequest, uwsgiRequest } from './helpers/exchange';
import { APPS, startTsgi, type TsgiHandle } from './helpers/tsgi';

const FIXTURE = path.join(APPS, 'node-fidelity.cjs');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require(FIXTURE) as { handler: http.RequestListener };

const DUPLICATES =
  'GET /headers HTTP/1.1\r\nHost: example.test\r\nX-Foo: a\r\nx-foo: b\r\nSet-Cookie: c1=1\r\nset-cookie: c2=2\r\n' +
  'Cookie: a=1\r\nCookie: b=2\r\nUser-Agent: first\r\nUser-Agent: second\r\nAccept: text/html\r\nACCEPT: */*\r\n' +
  'Authorization: one\r\nauthorization: two\r\nX_Under_Score: kept\r\nConnection: close\r\n\r\n';

describe('node:http app: request headers as node:http gives them', () => {
  let tsgi: TsgiHandle;
  let own: http.Server;
  let ownPort = 0;
  before(async () => {
    tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--socket',
      '127.0.0.1:0',
      '--wsgi-file',
      FIXTURE,
      '--callable',
      'server',
    ]);
    own = http.createServer(handler);
    await new Promise<void>((resolve) => own.listen(0, '127.0.0.1', resolve));
    ownPort = (own.address() as AddressInfo).port;
  });
  after(async () => {
    await tsgi.stop();
    await new Promise((resolve) => own.close(resolve));
  });

  async function both(request: string): Promise<[OneResponse, OneResponse]> {
    return [await rawRequest({ port: tsgi.ports[0]! }, [request]), await rawRequest({ port: ownPort }, [request])];
  }

  it('keeps raw header names as sent, in order, with repeats as separate entries', async () => {
    const [t] = await both(DUPLICATES);
    const seen = JSON.parse(t.body) as { raw: string[] };
    assert.deepEqual(seen.raw.slice(0, 8), ['Host', 'example.test', 'X-Foo', 'a', 'x-foo', 'b', 'Set-Cookie', 'c1=1']);
  });

  it("gives the same rawHeaders, headers and headersDistinct as node's own server for repeated fields", async () => {
    const [t, o] = await both(DUPLICATES);
    assert.equal(t.status, 200);
    const tsgiSaw = JSON.parse(t.body) as { headers: Record<string, unknown> };
    assert.deepEqual(tsgiSaw, JSON.parse(o.body));
    // node's duplicate rules (lib/_http_incoming.js matchKnownFields), spelled out:
    assert.deepEqual(tsgiSaw.headers['set-cookie'], ['c1=1', 'c2=2']);
    assert.equal(tsgiSaw.headers['cookie'], 'a=1; b=2');
    assert.equal(tsgiSaw.headers['user-agent'], 'first');
    assert.equal(tsgiSaw.headers['authorization'], 'one');
    assert.equal(tsgiSaw.headers['accept'], 'text/html, */*');
    assert.equal(tsgiSaw.headers['x_under_score'], 'kept');
  });

  it("gives the same headers as node's own server for a POST with Content-Type and Content-Length", async () => {
    const req =
      'GET /headers HTTP/1.1\r\nhost: h\r\nCONTENT-TYPE: text/plain\r\nContent-Length: 0\r\nX-Empty:\r\nconnection: close\r\n\r\n';
    const [t, o] = await both(req);
    assert.deepEqual(JSON.parse(t.body), JSON.parse(o.body));
  });

  it('keeps the rebuilt lower-case names over uwsgi, where the client names never reach tsgi', async () => {
    const vars = getVars('/headers', [
      ['HTTP_HOST', 'example.test'],
      ['HTTP_X_FOO', 'a, b'],
      ['CONTENT_TYPE', 'text/plain'],
    ]);
    const r = await uwsgiRequest({ port: tsgi.ports[1]! }, vars);
    const seen = JSON.parse(r.body) as { raw: string[]; headers: Record<string, string> };
    assert.deepEqual(seen.raw, ['host', 'example.test', 'x-foo', 'a, b', 'content-type', 'text/plain']);
    assert.equal(seen.headers['x-foo'], 'a, b');
  });
});

interface Got {
  status: number;
  framing: string;
  body: string;
  rawTrailers: string[];
}

/** GET through node's own client, which reads trailers (res.rawTrailers). */
function get(port: number, target: string): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: target, agent: false }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        const framing =
          res.headers['transfer-encoding'] ?? (res.headers['content-length'] !== undefined ? 'length' : 'close');
        resolve({ status: res.statusCode!, framing, body, rawTrailers: res.rawTrailers });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

describe('node:http app: response trailers (res.addTrailers)', () => {
  let tsgi: TsgiHandle;
  let own: http.Server;
  let ownPort = 0;
  before(async () => {
    tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--socket',
      '127.0.0.1:0',
      '--wsgi-file',
      FIXTURE,
      '--callable',
      'server',
    ]);
    own = http.createServer(handler);
    await new Promise<void>((resolve) => own.listen(0, '127.0.0.1', resolve));
    ownPort = (own.address() as AddressInfo).port;
  });
  after(async () => {
    await tsgi.stop();
    await new Promise((resolve) => own.close(resolve));
  });

  it('sends the trailer fields after the last chunk of a chunked response (RFC 9112 section 7.1.2)', async () => {
    const r = await rawRequest({ port: tsgi.ports[0]! }, [
      'GET /trailers HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n',
    ]);
    const text = r.data.toString('latin1');
    assert.match(text, /\r\nTransfer-Encoding: chunked\r\n/);
    assert.ok(text.endsWith('\r\n0\r\nX-Checksum: abc123\r\nX-Count: 2\r\n\r\n'), JSON.stringify(text.slice(-80)));
  });

  for (const target of ['/trailers', '/trailers-whole', '/trailers-nofield', '/trailers-length']) {
    it(`frames ${target} and its trailers as node's own server does`, async () => {
      const t = await get(tsgi.ports[0]!, target);
      const o = await get(ownPort, target);
      assert.deepEqual(t, o);
    });
  }

  // Without trailers, a write + end in one turn is one Content-Length response under tsgi
  // (docs/app-contract.md), chunked under node: only what the app and the client see is compared.
  for (const target of ['/trailer-invalid', '/bad-trailer']) {
    it(`refuses what node:http refuses on ${target}, with the same error code`, async () => {
      const t = await get(tsgi.ports[0]!, target);
      const o = await get(ownPort, target);
      assert.deepEqual({ ...t, framing: '' }, { ...o, framing: '' });
      assert.match(t.body, /ERR_HTTP_TRAILER_INVALID|ERR_INVALID_CHAR/);
    });
  }

  it('drops the trailers of a close-delimited HTTP/1.0 response, as node:http does', async () => {
    const request = 'GET /trailers-nofield HTTP/1.0\r\nHost: h\r\n\r\n';
    const t = await rawRequest({ port: tsgi.ports[0]! }, [request]);
    const o = await rawRequest({ port: ownPort }, [request]);
    assert.equal(t.body, 'helloworld');
    assert.equal(t.body, o.body);
    assert.doesNotMatch(t.data.toString('latin1'), /X-Checksum/);
  });

  it('drops the trailers of a close-delimited uwsgi response', async () => {
    const r = await uwsgiRequest({ port: tsgi.ports[1]! }, getVars('/trailers-nofield', [['HTTP_HOST', 'h']]));
    assert.equal(r.status, 200);
    assert.equal(r.body, 'helloworld');
    assert.doesNotMatch(r.data.toString('latin1'), /X-Checksum/);
  });
});

/** One connection: send, and wait for what the server sent to match (bounded by a deadline). */
function conversation(port: number): { send(text: string): void; until(re: RegExp): Promise<string>; close(): void } {
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => {});
  let got = '';
  const waiters: Array<() => void> = [];
  sock.on('data', (d: Buffer) => {
    got += d.toString('latin1');
    for (const w of waiters.splice(0)) w();
  });
  return {
    send: (text) => sock.write(text),
    until: (re) =>
      new Promise((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`no ${re} in ${JSON.stringify(got)}`)), 5000);
        const check = (): void => {
          if (re.test(got)) {
            clearTimeout(deadline);
            resolve(got);
          } else {
            waiters.push(check);
          }
        };
        check();
      }),
    close: () => sock.destroy(),
  };
}

describe("node:http app: Expect: 100-continue with 'checkContinue' listeners", () => {
  const CONTINUE_FIXTURE = path.join(APPS, 'node-check-continue.cjs');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fx = require(CONTINUE_FIXTURE) as { request: http.RequestListener; checkContinue: http.RequestListener };
  let tsgi: TsgiHandle;
  let own: http.Server;
  let ownPort = 0;
  before(async () => {
    tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', CONTINUE_FIXTURE, '--callable', 'server']);
    own = http.createServer(fx.request);
    own.on('checkContinue', (req, res) => {
      if (req.headers['x-allow'] === 'yes') {
        res.writeContinue();
        own.emit('request', req, res);
      } else {
        fx.checkContinue(req, res);
      }
    });
    await new Promise<void>((resolve) => own.listen(0, '127.0.0.1', resolve));
    ownPort = (own.address() as AddressInfo).port;
  });
  after(async () => {
    await tsgi.stop();
    await new Promise((resolve) => own.close(resolve));
  });

  const head = (allow: boolean): string =>
    `POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n${allow ? 'X-Allow: yes\r\n' : ''}Connection: close\r\n\r\n`;

  for (const [name, port] of [
    ['tsgi', (): number => tsgi.ports[0]!],
    ["node's own server", (): number => ownPort],
  ] as const) {
    it(`sends the 100 only when the app calls res.writeContinue(), then serves the body (${name})`, async () => {
      const c = conversation(port());
      try {
        c.send(head(true));
        const first = await c.until(/\r\n\r\n/);
        assert.equal(first, 'HTTP/1.1 100 Continue\r\n\r\n');
        c.send('hello');
        const all = await c.until(/got hello$/);
        assert.match(all.slice(first.length), /^HTTP\/1\.1 200 OK\r\n/);
      } finally {
        c.close();
      }
    });

    it(`answers 417 from 'checkContinue' without any 100 (${name})`, async () => {
      const c = conversation(port());
      try {
        c.send(head(false));
        const all = await c.until(/refused$/);
        assert.match(all, /^HTTP\/1\.1 417 Expectation Failed\r\n/);
        assert.doesNotMatch(all, /100 Continue/);
      } finally {
        c.close();
      }
    });
  }

  it("answers 100 itself, before the app runs, when the server has no 'checkContinue' listener", async () => {
    const other = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', FIXTURE, '--callable', 'server']);
    const c = conversation(other.ports[0]!);
    try {
      c.send(
        'POST /headers HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\n',
      );
      // The 100 comes first; the body (5 bytes, under --post-buffering) is then read before
      // the app runs.
      const first = await c.until(/100 Continue\r\n\r\n/);
      assert.equal(first, 'HTTP/1.1 100 Continue\r\n\r\n');
      c.send('hello');
      const all = await c.until(/"raw"/);
      assert.ok(all.startsWith('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n'), JSON.stringify(all.slice(0, 60)));
    } finally {
      c.close();
      await other.stop();
    }
  });
});
