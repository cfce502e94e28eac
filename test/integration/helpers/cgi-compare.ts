// The nginx comparison shared by fastcgi.test.ts and scgi.test.ts: the same HTTP requests through
// a private nginx with `uwsgi_pass` to `--socket` and with `fastcgi_pass` / `scgi_pass` (stock
// Debian params files) to `--fastcgi-socket` / `--scgi-socket` of one tsgi must give each app
// kind the same request: method, path, query, headers, body (length and SHA-256).

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { httpRequest, type OneResponse, portOf, rawRequest } from './exchange';
import { type NginxHandle, startNginx } from './nginx';
import { APPS, startTsgi, type TsgiHandle } from './tsgi';

/** The three app kinds (docs/app-contract.md) as small echo apps answering the same JSON. */
export const CGI_APP_KINDS = [
  { kind: 'gateway', args: ['--wsgi-file', path.join(APPS, 'cgi-echo.mjs')] },
  { kind: 'fetch', args: ['--wsgi-file', path.join(APPS, 'cgi-echo-fetch.mjs'), '--app-type', 'fetch'] },
  { kind: 'node', args: ['--wsgi-file', path.join(APPS, 'cgi-echo-node.cjs'), '--app-type', 'node'] },
];

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** What the echo apps answer. */
export interface Echo {
  kind: string;
  method: string;
  path: string;
  uri: string;
  query: string;
  headers: Record<string, string>;
  bodyLength: number;
  bodySha256: string;
}

export function echoOf(r: OneResponse, what: string): Echo {
  assert.equal(r.status, 200, `${what}: expected 200, got:\n${r.data.toString('latin1').slice(0, 2000)}`);
  return JSON.parse(Buffer.from(r.body, 'latin1').toString('utf8'));
}

export function describeNginxComparison(protocol: 'fastcgi' | 'scgi'): void {
  for (const { kind, args } of CGI_APP_KINDS) {
    describe(`nginx ${protocol}_pass and uwsgi_pass in front of a ${kind} app`, () => {
      let tsgi: TsgiHandle;
      let viaUwsgi: NginxHandle;
      let viaOther: NginxHandle;

      before(async () => {
        tsgi = await startTsgi(['--socket', '127.0.0.1:0', `--${protocol}-socket`, '127.0.0.1:0', ...args]);
        const extra = 'client_max_body_size 10m;';
        viaUwsgi = await startNginx({ upstream: `127.0.0.1:${portOf(tsgi.output(), 'uwsgi')}`, httpExtra: extra });
        viaOther = await startNginx({
          upstream: `127.0.0.1:${portOf(tsgi.output(), protocol)}`,
          protocol,
          httpExtra: extra,
        });
      });
      after(async () => {
        await viaUwsgi?.stop();
        await viaOther?.stop();
        await tsgi?.stop();
      });

      /** The same request through uwsgi_pass and the other protocol's pass: both answers, parsed. */
      async function both(req: Array<string | Buffer>): Promise<{ u: OneResponse; f: OneResponse }> {
        const u = await rawRequest({ port: viaUwsgi.port }, req, { timeoutMs: 30000 });
        const f = await rawRequest({ port: viaOther.port }, req, { timeoutMs: 30000 });
        return { u, f };
      }
      async function sameEcho(req: Array<string | Buffer>): Promise<Echo> {
        const { u, f } = await both(req);
        const ue = echoOf(u, `uwsgi_pass (${viaUwsgi.errorLog()})`);
        const fe = echoOf(f, `${protocol}_pass (${viaOther.errorLog()})`);
        assert.deepEqual(fe, ue);
        assert.equal(fe.kind, kind);
        return fe;
      }

      test('a GET with a query string reaches the app as through uwsgi_pass', async () => {
        const e = await sameEcho([httpRequest('GET', '/echo?a=1&b=two%20words', [['X-Test', 'one']])]);
        assert.equal(e.method, 'GET');
        assert.equal(e.path, '/echo');
        assert.equal(e.query, 'a=1&b=two%20words');
        assert.equal(e.headers['x-test'], 'one');
        assert.equal(e.bodyLength, 0);
      });

      test('a POST body reaches the app whole, with its Content-Type and length', async () => {
        const body = 'name=value&x=1&utf8=caf\u00e9';
        const e = await sameEcho([httpRequest('POST', '/echo', [['Content-Type', 'text/plain']], body)]);
        assert.equal(e.method, 'POST');
        assert.equal(e.headers['content-type'], 'text/plain');
        assert.equal(e.headers['content-length'], String(Buffer.byteLength(body)));
        assert.equal(e.bodyLength, Buffer.byteLength(body));
        assert.equal(e.bodySha256, sha256(body));
      });

      test('repeated request headers reach the app as through uwsgi_pass', async () => {
        const e = await sameEcho([
          httpRequest('GET', '/echo', [
            ['X-Dup', 'first'],
            ['X-Dup', 'second'],
            ['Cookie', 'a=1'],
            ['Cookie', 'b=2'],
          ]),
        ]);
        assert.match(e.headers['x-dup']!, /second/);
        assert.match(e.headers.cookie!, /b=2/);
      });

      test('a chunked upload is buffered by nginx and reaches the app with its length', async () => {
        const head =
          'POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n';
        const e = await sameEcho([head, '5\r\nhello\r\n', '6\r\n world\r\n', '0\r\n\r\n']);
        assert.equal(e.bodyLength, 11);
        assert.equal(e.bodySha256, sha256('hello world'));
        assert.equal(e.headers['content-length'], '11');
      });

      test('a 1 MiB upload reaches the app whole', async () => {
        const size = 1024 * 1024;
        const body = Buffer.alloc(size);
        for (let i = 0; i < size; i++) body[i] = i % 251;
        const head = `POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${size}\r\nConnection: close\r\n\r\n`;
        const e = await sameEcho([head, body.subarray(0, 300000), body.subarray(300000)]);
        assert.equal(e.bodyLength, size);
        assert.equal(e.bodySha256, sha256(body));
      });

      test('a response larger than 64 KiB (several FCGI_STDOUT records over FastCGI) arrives whole', async () => {
        const n = 200_000;
        const { u, f } = await both([httpRequest('GET', `/big?n=${n}`)]);
        assert.equal(f.status, 200, viaOther.errorLog());
        assert.equal(u.status, 200);
        const expected = Buffer.alloc(n);
        for (let i = 0; i < n; i++) expected[i] = 97 + (i % 26);
        assert.equal(f.body.length, n);
        assert.equal(sha256(Buffer.from(f.body, 'latin1')), sha256(expected));
        assert.equal(f.body, u.body);
      });

      test('HEAD gets the status and headers without a body', async () => {
        const { u, f } = await both([httpRequest('HEAD', '/echo')]);
        for (const r of [u, f]) {
          assert.equal(r.status, 200);
          const raw = r.data.toString('latin1');
          assert.equal(raw.slice(raw.indexOf('\r\n\r\n') + 4), '');
          assert.equal(r.headers['content-type'], 'application/json');
        }
      });

      test('a percent-encoded path reaches the app as through uwsgi_pass', async () => {
        const e = await sameEcho([httpRequest('GET', '/ech%6F/a%20b?x=%41')]);
        assert.equal(e.path, '/echo/a b');
        assert.equal(e.query, 'x=%41');
      });
    });
  }
}
