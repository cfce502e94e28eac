// Stock nginx in front of `tsgi --socket` (docs/protocol-uwsgi.md, "What nginx 1.22 sends"):
// `include uwsgi_params; uwsgi_pass 127.0.0.1:PORT;` (and `unix:/path`), Debian's params file
// unchanged. Where it makes sense, the same request sent straight to `--http-socket` must give
// the same status and body.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { httpRequest, type OneResponse, PROBE, portOf, rawRequest, tempDir, waitForText } from './helpers/exchange';
import { type NginxHandle, startNginx } from './helpers/nginx';
import { startTsgi, type TsgiHandle } from './helpers/tsgi';

let tsgi: TsgiHandle;
let nginxTcp: NginxHandle;
let nginxUnix: NginxHandle;
let httpPort: number;
let tmp: { dir: string; remove(): void };

before(async () => {
  tmp = tempDir('tsgi-nginx-it-');
  const sock = path.join(tmp.dir, 'app.sock');
  tsgi = await startTsgi([
    '--socket',
    '127.0.0.1:0',
    '--socket',
    sock,
    '--http-socket',
    '127.0.0.1:0',
    '--wsgi-file',
    PROBE,
  ]);
  const uwsgiPort = portOf(tsgi.output(), 'uwsgi');
  httpPort = portOf(tsgi.output(), 'http');
  nginxTcp = await startNginx({ upstream: `127.0.0.1:${uwsgiPort}`, httpExtra: 'client_max_body_size 10m;' });
  nginxUnix = await startNginx({ upstream: `unix:${sock}`, httpExtra: 'client_max_body_size 10m;' });
});

after(async () => {
  await nginxTcp?.stop();
  await nginxUnix?.stop();
  await tsgi?.stop();
  tmp?.remove();
});

const viaNginx = (req: string | Buffer | Array<string | Buffer>): Promise<OneResponse> =>
  rawRequest({ port: nginxTcp.port }, Array.isArray(req) ? req : [req]);
const direct = (req: string | Buffer | Array<string | Buffer>): Promise<OneResponse> =>
  rawRequest({ port: httpPort }, Array.isArray(req) ? req : [req]);

function echoed(r: OneResponse): { vars: Record<string, string>; body: string; bodyLength: number } {
  assert.equal(
    r.status,
    200,
    `expected 200, got:\n${r.data.toString('latin1')}\nnginx error log:\n${nginxTcp.errorLog()}`,
  );
  return JSON.parse(Buffer.from(r.body, 'latin1').toString('utf8'));
}

/** The vars both paths must agree on for the same request. */
const SHARED = [
  'QUERY_STRING',
  'REQUEST_METHOD',
  'CONTENT_TYPE',
  'CONTENT_LENGTH',
  'REQUEST_URI',
  'PATH_INFO',
  'SERVER_PROTOCOL',
  'REQUEST_SCHEME',
  'REMOTE_ADDR',
  'HTTP_HOST',
];
function pick(vars: Record<string, string>, keys = SHARED): Record<string, string | undefined> {
  return Object.fromEntries(keys.map((k) => [k, vars[k]]));
}

describe('nginx uwsgi_pass in front of tsgi --socket', () => {
  test('GET with a query string: nginx sends the uwsgi_params vars and the app answers', async () => {
    const req = httpRequest('GET', '/echo?a=1&b=two%20words', [['User-Agent', 'it-test']]);
    const r = await viaNginx(req);
    const e = echoed(r);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.deepEqual(pick(e.vars), {
      QUERY_STRING: 'a=1&b=two%20words',
      REQUEST_METHOD: 'GET',
      CONTENT_TYPE: '',
      CONTENT_LENGTH: '',
      REQUEST_URI: '/echo?a=1&b=two%20words',
      PATH_INFO: '/echo',
      SERVER_PROTOCOL: 'HTTP/1.1',
      REQUEST_SCHEME: 'http',
      REMOTE_ADDR: '127.0.0.1',
      HTTP_HOST: 'localhost',
    });
    assert.equal(e.vars.SERVER_PORT, String(nginxTcp.port));
    assert.equal(e.vars.SERVER_NAME, 'localhost');
    assert.equal(e.vars.HTTP_USER_AGENT, 'it-test');
    assert.match(e.vars.REMOTE_PORT!, /^\d+$/);
    assert.equal(e.bodyLength, 0);
    const d = echoed(await direct(req));
    assert.deepEqual(pick(d.vars), pick(e.vars));
    assert.equal(d.vars.HTTP_USER_AGENT, 'it-test');
  });

  test('POST with a body: the app gets the body and CONTENT_LENGTH / CONTENT_TYPE', async () => {
    const body = 'name=value&x=1&utf8=caf\u00e9';
    const req = httpRequest('POST', '/echo', [['Content-Type', 'application/x-www-form-urlencoded']], body);
    const e = echoed(await viaNginx(req));
    const bytes = Buffer.byteLength(body);
    assert.equal(e.bodyLength, bytes);
    assert.equal(Buffer.from(e.body, 'latin1').toString('utf8'), body);
    assert.equal(e.vars.CONTENT_LENGTH, String(bytes));
    assert.equal(e.vars.CONTENT_TYPE, 'application/x-www-form-urlencoded');
    assert.equal(e.vars.HTTP_CONTENT_LENGTH, String(bytes));
    const d = echoed(await direct(req));
    assert.equal(d.body, e.body);
    assert.deepEqual(pick(d.vars), pick(e.vars));
  });

  test('a GET after a POST sees an empty body, through nginx and directly', async () => {
    for (const send of [viaNginx, direct]) {
      echoed(await send(httpRequest('POST', '/echo', [], 'private body')));
      const e = echoed(await send(httpRequest('GET', '/echo')));
      assert.equal(e.body, '');
      assert.equal(e.bodyLength, 0);
    }
  });

  test('repeated request headers: nginx 1.22 sends duplicate vars and the last one wins', async () => {
    const req = httpRequest('GET', '/echo', [
      ['X-Dup', 'first'],
      ['X-Dup', 'second'],
      ['Cookie', 'a=1'],
      ['Cookie', 'b=2'],
    ]);
    const e = echoed(await viaNginx(req));
    assert.equal(e.vars.HTTP_X_DUP, 'second');
    assert.equal(e.vars.HTTP_COOKIE, 'b=2');
    // Over HTTP the same headers are joined, as nginx >= 1.23 would join them.
    const d = echoed(await direct(req));
    assert.equal(d.vars.HTTP_X_DUP, 'first, second');
  });

  test('a chunked upload is de-chunked by nginx and the app sees the right body', async () => {
    const head = 'POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n';
    const chunks = [head, '5\r\nhello\r\n', '6\r\n world\r\n', '0\r\n\r\n'];
    const e = echoed(await viaNginx(chunks));
    assert.equal(e.body, 'hello world');
    assert.equal(e.vars.CONTENT_LENGTH, '11');
    assert.equal(e.vars.HTTP_TRANSFER_ENCODING, 'chunked');
    const d = echoed(await direct(chunks));
    assert.equal(d.body, 'hello world');
  });

  test('a 1 MB upload is streamed to the app and counted', async () => {
    const size = 1024 * 1024;
    const body = Buffer.alloc(size);
    for (let i = 0; i < size; i++) body[i] = i % 251;
    let sum = 0;
    for (let i = 0; i < size; i++) sum = (sum + body[i]!) >>> 0;
    const head = `POST /count HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${size}\r\nConnection: close\r\n\r\n`;
    const parts = [head, body.subarray(0, 300000), body.subarray(300000)];
    const r = await rawRequest({ port: nginxTcp.port }, parts, { timeoutMs: 15000 });
    assert.equal(r.status, 200, nginxTcp.errorLog());
    assert.equal(r.body, `${size} ${sum}`);
    const d = await rawRequest({ port: httpPort }, parts, { timeoutMs: 15000 });
    assert.equal(d.status, 200);
    assert.equal(d.body, r.body);
  });

  test('a percent-encoded path reaches the app decoded in PATH_INFO and raw in REQUEST_URI', async () => {
    const r = await viaNginx(httpRequest('GET', '/ech%6F'));
    const v = echoed(r).vars;
    assert.equal(v.PATH_INFO, '/echo');
    assert.equal(v.REQUEST_URI, '/ech%6F');
    const d = echoed(await direct(httpRequest('GET', '/ech%6F'))).vars;
    assert.equal(d.PATH_INFO, '/echo');
    assert.equal(d.REQUEST_URI, '/ech%6F');
  });

  test('dot segments and escapes are resolved the same way by nginx and by --http-socket', async () => {
    const target = '/a%20b/c%2Fd/./e/../%7Euser';
    const r = await viaNginx(httpRequest('GET', target));
    assert.equal(r.status, 200);
    assert.equal(r.body, 'hello GET /a b/c/d/~user');
    const d = await direct(httpRequest('GET', target));
    assert.equal(d.status, 200);
    assert.equal(d.body, r.body);
  });

  test('HEAD gets the status and headers without a body', async () => {
    const req = httpRequest('HEAD', '/hello');
    const r = await viaNginx(req);
    assert.equal(r.status, 200);
    const raw = r.data.toString('latin1');
    assert.equal(raw.slice(raw.indexOf('\r\n\r\n') + 4), '');
    assert.equal(r.headers['content-type'], 'text/plain');
    const d = await direct(req);
    assert.equal(d.status, 200);
    const draw = d.data.toString('latin1');
    assert.equal(draw.slice(draw.indexOf('\r\n\r\n') + 4), '');
    assert.equal(d.headers['content-length'], String('hello HEAD /hello'.length));
  });

  test('a response without Content-Length is streamed by the app and relayed by nginx', async () => {
    const req = httpRequest('GET', '/stream');
    const expected = [0, 1, 2, 3, 4].map((i) => `piece ${i}\n`).join('');
    const r = await viaNginx(req);
    assert.equal(r.status, 200);
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    assert.equal(r.headers['content-length'], undefined);
    assert.equal(r.body, expected);
    const d = await direct(req);
    assert.equal(d.status, 200);
    assert.equal(d.headers['transfer-encoding'], 'chunked');
    assert.equal(d.body, expected);
  });

  test('an app that throws gives a 500 through nginx and its stack in the log', async () => {
    const mark = tsgi.output().length;
    const r = await viaNginx(httpRequest('GET', '/throw'));
    assert.equal(r.status, 500);
    await waitForText(
      () => tsgi.output().slice(mark),
      /GET \/throw: app error before the response started; answered 500\nError: probe: thrown before the response\n\s+at .*probe\.mjs/,
    );
    const d = await direct(httpRequest('GET', '/throw'));
    assert.equal(d.status, 500);
    const ok = await viaNginx(httpRequest('GET', '/after-throw'));
    assert.equal(ok.status, 200);
    assert.equal(ok.body, 'hello GET /after-throw');
  });

  test('a request over uwsgi_pass is logged with the vars nginx sent', async () => {
    const mark = tsgi.output().length;
    await viaNginx(httpRequest('GET', '/logged?x=1'));
    const line = await waitForText(
      () => tsgi.output().slice(mark),
      /^\[pid: \d+\|app: 0\|req: \d+\/\d+\] 127\.0\.0\.1 \(\) \{\d+ vars in \d+ bytes\} \[[^\]]+\] GET \/logged\?x=1 => generated 17 bytes in \d+ msecs \(HTTP\/1\.1 200\) 2 headers in \d+ bytes \(1 switches on core 0\)$/m,
    );
    assert.ok(line);
  });
});

describe('nginx uwsgi_pass unix:/path in front of tsgi --socket /path', () => {
  test('GET and POST work over the UNIX socket', async () => {
    const g = await rawRequest({ port: nginxUnix.port }, [httpRequest('GET', '/echo?via=unix')]);
    const ge = echoed(g);
    assert.equal(ge.vars.QUERY_STRING, 'via=unix');
    assert.equal(ge.vars.REMOTE_ADDR, '127.0.0.1');
    const p = await rawRequest({ port: nginxUnix.port }, [
      httpRequest('POST', '/echo', [['Content-Type', 'text/plain']], 'over a unix socket'),
    ]);
    const pe = echoed(p);
    assert.equal(pe.body, 'over a unix socket');
    assert.equal(pe.vars.CONTENT_LENGTH, '18');
  });

  test('a 500 over the UNIX socket is passed on', async () => {
    const r = await rawRequest({ port: nginxUnix.port }, [httpRequest('GET', '/throw')]);
    assert.equal(r.status, 500);
  });
});
