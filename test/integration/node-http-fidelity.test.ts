// node:http fidelity that needs the native core, through the real CLI: the same request
// bytes go to test/fixtures/apps/node-fidelity.cjs under tsgi and under node's own
// http.createServer in this process, and what the app saw (or what the client got) must
// be the same. Over uwsgi the raw header names do not exist, and today's rebuilt
// headers are kept.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rawRequest, getVars, uwsgiRequest, type OneResponse } from './helpers/exchange';
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
    tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--socket', '127.0.0.1:0', '--wsgi-file', FIXTURE, '--callable', 'server']);
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
    const req = 'GET /headers HTTP/1.1\r\nhost: h\r\nCONTENT-TYPE: text/plain\r\nContent-Length: 0\r\nX-Empty:\r\nconnection: close\r\n\r\n';
    const [t, o] = await both(req);
    assert.deepEqual(JSON.parse(t.body), JSON.parse(o.body));
  });

  it('keeps the rebuilt lower-case names over uwsgi, where the client names never reach tsgi', async () => {
    const vars = getVars('/headers', [['HTTP_HOST', 'example.test'], ['HTTP_X_FOO', 'a, b'], ['CONTENT_TYPE', 'text/plain']]);
    const r = await uwsgiRequest({ port: tsgi.ports[1]! }, vars);
    const seen = JSON.parse(r.body) as { raw: string[]; headers: Record<string, string> };
    assert.deepEqual(seen.raw, ['host', 'example.test', 'x-foo', 'a, b', 'content-type', 'text/plain']);
    assert.equal(seen.headers['x-foo'], 'a, b');
  });
});
