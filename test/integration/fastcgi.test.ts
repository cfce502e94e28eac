// `tsgi --fastcgi-socket ADDR` (and `--socket ADDR --protocol fastcgi`): FastCGI end to end.
// Behind a private nginx with Debian's stock fastcgi_params, the three app kinds must see the
// same request as through uwsgi_pass; nginx's keep-conn pool must reuse connections; Debian's
// cgi-fcgi must get answers; raw records check the protocol details; every refused input gets
// one log line, a closed connection and a worker that keeps serving.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  abstractExchange,
  answerOf,
  converse,
  endedFor,
  FCGI,
  fcgiBegin,
  fcgiPairs,
  fcgiRecord,
  fcgiRequest,
  fcgiStream,
  mutated,
  parsePairs,
  parseRecords,
  seeded,
} from './helpers/cgi';
import { CGI_APP_KINDS, describeNginxComparison, type Echo, echoOf, sha256 } from './helpers/cgi-compare';
import { httpRequest, rawRequest, tempDir, waitForText } from './helpers/exchange';
import { type NginxHandle, startNginx } from './helpers/nginx';
import { rawExchange, startTsgi, type TsgiHandle } from './helpers/tsgi';

const GATEWAY = CGI_APP_KINDS[0]!.args;

/** The vars nginx's fastcgi_params would send for `METHOD uri`, minimal form. */
function cgiVars(method: string, uri: string, extra: Array<[string, string]> = []): Array<[string, string]> {
  const q = uri.indexOf('?');
  return [
    ['REQUEST_METHOD', method],
    ['REQUEST_URI', uri],
    ['DOCUMENT_URI', decodeURIComponent(q < 0 ? uri : uri.slice(0, q))],
    ['QUERY_STRING', q < 0 ? '' : uri.slice(q + 1)],
    ['SERVER_PROTOCOL', 'HTTP/1.1'],
    ['SCRIPT_NAME', decodeURIComponent(q < 0 ? uri : uri.slice(0, q))],
    ['REMOTE_ADDR', '127.0.0.1'],
    ...extra,
  ];
}

describeNginxComparison('fastcgi');

/** A TCP relay that counts the connections it accepted (nginx -> relay -> tsgi). */
async function countingRelay(to: number): Promise<{ port: number; accepted(): number; close(): Promise<void> }> {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    accepted++;
    const upstream = net.connect(to, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe('nginx fastcgi_keep_conn', () => {
  let tsgi: TsgiHandle;
  before(async () => {
    tsgi = await startTsgi(['--fastcgi-socket', '127.0.0.1:0', ...GATEWAY]);
  });
  after(async () => {
    await tsgi?.stop();
  });

  async function run200(keepConn: boolean): Promise<number> {
    const relay = await countingRelay(tsgi.ports[0]!);
    const nginx = await startNginx({
      upstream: 'u',
      httpExtra: `upstream u { server 127.0.0.1:${relay.port}; ${keepConn ? 'keepalive 4;' : ''} }`,
      locationBody: `include /etc/nginx/fastcgi_params; fastcgi_pass u; ${keepConn ? 'fastcgi_keep_conn on;' : ''}`,
    });
    try {
      // GETs, POSTs with a body and, every 25th, a response of several FCGI_STDOUT records.
      for (let i = 0; i < 200; i++) {
        if (i % 25 === 24) {
          const r = await rawRequest({ port: nginx.port }, [httpRequest('GET', '/big?n=150000')], { timeoutMs: 15000 });
          assert.equal(r.status, 200, nginx.errorLog());
          assert.equal(r.body.length, 150000);
          continue;
        }
        const body = i % 2 ? `body of request ${i}` : '';
        const r = await rawRequest(
          { port: nginx.port },
          [httpRequest(i % 2 ? 'POST' : 'GET', `/echo?i=${i}`, [], body)],
          {
            timeoutMs: 15000,
          },
        );
        const e = echoOf(r, `request ${i} (${nginx.errorLog()})`);
        assert.equal(e.query, `i=${i}`);
        assert.equal(e.bodySha256, sha256(body));
      }
      return relay.accepted();
    } finally {
      await nginx.stop();
      await relay.close();
    }
  }

  test('with keepalive 4 and fastcgi_keep_conn on, 200 requests share at most 4 connections', async () => {
    const n = await run200(true);
    assert.ok(n >= 1 && n <= 4, `tsgi accepted ${n} connections`);
  });

  test('without fastcgi_keep_conn every request gets its own connection and succeeds', async () => {
    assert.equal(await run200(false), 200);
  });
});

describe('nginx fastcgi_request_buffering off', () => {
  let tsgi: TsgiHandle;
  let nginx: NginxHandle;
  before(async () => {
    tsgi = await startTsgi(['--fastcgi-socket', '127.0.0.1:0', ...GATEWAY]);
    nginx = await startNginx({
      upstream: `127.0.0.1:${tsgi.ports[0]}`,
      httpExtra: 'client_max_body_size 10m;',
      locationBody: `include /etc/nginx/fastcgi_params; fastcgi_request_buffering off; fastcgi_pass 127.0.0.1:${tsgi.ports[0]};`,
    });
  });
  after(async () => {
    await nginx?.stop();
    await tsgi?.stop();
  });

  test('a chunked upload streams to the app without CONTENT_LENGTH and arrives whole', async () => {
    const piece = Buffer.alloc(50_000, 0x62);
    const head = 'POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n';
    const chunks: Array<string | Buffer> = [head];
    for (let i = 0; i < 6; i++) chunks.push(`${piece.length.toString(16)}\r\n`, piece, '\r\n');
    chunks.push('0\r\n\r\n');
    const r = await rawRequest({ port: nginx.port }, chunks, { timeoutMs: 30000 });
    const e = echoOf(r, nginx.errorLog());
    assert.equal(e.bodyLength, 300_000);
    assert.equal(e.bodySha256, sha256(Buffer.concat(Array(6).fill(piece))));
    assert.equal(e.headers['content-length'], undefined);
  });

  test('a Content-Length upload streams to the app and arrives whole', async () => {
    const body = Buffer.alloc(200_000, 0x63);
    const head = `POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    const r = await rawRequest({ port: nginx.port }, [head, body.subarray(0, 70_000), body.subarray(70_000)], {
      timeoutMs: 30000,
    });
    const e = echoOf(r, nginx.errorLog());
    assert.equal(e.bodyLength, body.length);
    assert.equal(e.bodySha256, sha256(body));
  });
});

/** Runs cgi-fcgi with CGI vars in its environment and `body` on stdin. */
function cgiFcgi(port: number, env: Record<string, string>, body = ''): Promise<{ code: number | null; out: Buffer }> {
  return new Promise((resolve, reject) => {
    const p = spawn('/usr/bin/cgi-fcgi', ['-bind', '-connect', `127.0.0.1:${port}`], {
      env,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const parts: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => parts.push(d));
    const t = setTimeout(() => p.kill('SIGKILL'), 30000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, out: Buffer.concat(parts) });
    });
    p.stdin.end(body);
  });
}

describe('Debian cgi-fcgi against --fastcgi-socket', () => {
  let tsgi: TsgiHandle;
  before(async () => {
    tsgi = await startTsgi(['--fastcgi-socket', '127.0.0.1:0', ...GATEWAY]);
  });
  after(async () => {
    await tsgi?.stop();
  });

  test('a GET gets a CGI response with the app JSON', async () => {
    const r = await cgiFcgi(tsgi.ports[0]!, Object.fromEntries(cgiVars('GET', '/cgi?x=1', [['HTTP_X_TEST', 't']])));
    assert.equal(r.code, 0);
    const text = r.out.toString('latin1');
    assert.match(text, /^Status: 200 OK\r\n/);
    const e = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Echo;
    assert.equal(e.method, 'GET');
    assert.equal(e.path, '/cgi');
    assert.equal(e.query, 'x=1');
    assert.equal(e.headers['x-test'], 't');
  });

  test('a POST sends its stdin as the body', async () => {
    const body = 'posted through cgi-fcgi';
    const r = await cgiFcgi(
      tsgi.ports[0]!,
      Object.fromEntries(
        cgiVars('POST', '/cgi', [
          ['CONTENT_LENGTH', String(body.length)],
          ['CONTENT_TYPE', 'text/plain'],
        ]),
      ),
      body,
    );
    assert.equal(r.code, 0);
    const text = r.out.toString('latin1');
    assert.match(text, /^Status: 200 OK\r\n/);
    const e = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Echo;
    assert.equal(e.method, 'POST');
    assert.equal(e.bodyLength, body.length);
    assert.equal(e.bodySha256, sha256(body));
    assert.equal(e.headers['content-type'], 'text/plain');
  });
});

describe('FastCGI records on a raw socket', () => {
  let tsgi: TsgiHandle;
  let port: number;
  before(async () => {
    tsgi = await startTsgi(['--fastcgi-socket', '127.0.0.1:0', ...GATEWAY]);
    port = tsgi.ports[0]!;
  });
  after(async () => {
    await tsgi?.stop();
  });

  test('FCGI_GET_VALUES is answered with the three names and their values', async () => {
    const ask = fcgiRecord(
      FCGI.GET_VALUES,
      0,
      fcgiPairs([
        ['FCGI_MAX_CONNS', ''],
        ['FCGI_MAX_REQS', ''],
        ['FCGI_MPXS_CONNS', ''],
      ]),
    );
    const c = await converse({ port });
    c.write(ask);
    const recs = await c.until((r) => r.some((x) => x.type === FCGI.GET_VALUES_RESULT));
    c.destroy();
    const res = recs.find((x) => x.type === FCGI.GET_VALUES_RESULT)!;
    assert.equal(res.id, 0);
    const v = parsePairs(res.content);
    assert.deepEqual(Object.keys(v).sort(), ['FCGI_MAX_CONNS', 'FCGI_MAX_REQS', 'FCGI_MPXS_CONNS']);
    assert.equal(v.FCGI_MPXS_CONNS, '0');
    assert.match(v.FCGI_MAX_CONNS!, /^[1-9]\d*$/);
    assert.match(v.FCGI_MAX_REQS!, /^[1-9]\d*$/);
  });

  test('an unknown management record type is answered with FCGI_UNKNOWN_TYPE', async () => {
    const c = await converse({ port });
    c.write(fcgiRecord(42, 0, 'whatever'));
    const recs = await c.until((r) => r.some((x) => x.type === FCGI.UNKNOWN_TYPE));
    c.destroy();
    const u = recs.find((x) => x.type === FCGI.UNKNOWN_TYPE)!;
    assert.equal(u.id, 0);
    assert.equal(u.content.length, 8);
    assert.equal(u.content[0], 42);
  });

  test('the Authorizer role is answered FCGI_END_REQUEST with FCGI_UNKNOWN_ROLE', async () => {
    const c = await converse({ port });
    c.write(fcgiBegin(7, FCGI.AUTHORIZER));
    const recs = await c.until(endedFor(7));
    const a = answerOf(recs, 7);
    assert.equal(a.end!.protocolStatus, FCGI.UNKNOWN_ROLE);
    assert.equal(a.stdout.length, 0);
    assert.equal(await c.closed(), true);
  });

  test('a second FCGI_BEGIN_REQUEST while STDIN is open gets CANT_MPX_CONN and the first is still answered', async () => {
    const c = await converse({ port });
    const body = 'first body';
    c.write(
      fcgiRequest(cgiVars('POST', '/echo', [['CONTENT_LENGTH', String(body.length)]]), body, {
        id: 1,
        openStdin: true,
      }),
    );
    c.write(fcgiBegin(2));
    const recs = await c.until(endedFor(2));
    assert.equal(answerOf(recs, 2).end!.protocolStatus, FCGI.CANT_MPX_CONN);
    c.write(fcgiRecord(FCGI.STDIN, 1));
    const all = await c.until(endedFor(1));
    const a = answerOf(all, 1);
    assert.equal(a.end!.protocolStatus, FCGI.REQUEST_COMPLETE);
    assert.equal(a.cgi.status, 200);
    const e = JSON.parse(a.cgi.body.toString()) as Echo;
    assert.equal(e.bodySha256, sha256(body));
    assert.equal(await c.closed(), true);
  });

  test('FCGI_GET_VALUES between the STDIN records of a body being buffered is answered and the body still arrives', async () => {
    // The body is shorter than --post-buffering (8192 by default): tsgi waits for all of it
    // before calling the app, and a management record in between must not stop that wait.
    const c = await converse({ port });
    c.write(fcgiRequest(cgiVars('POST', '/echo', [['CONTENT_LENGTH', '6']]), 'abc', { id: 1, openStdin: true }));
    c.write(fcgiRecord(FCGI.GET_VALUES, 0, fcgiPairs([['FCGI_MPXS_CONNS', '']])));
    const gv = await c.until((r) => r.some((x) => x.type === FCGI.GET_VALUES_RESULT));
    assert.equal(parsePairs(gv.find((x) => x.type === FCGI.GET_VALUES_RESULT)!.content).FCGI_MPXS_CONNS, '0');
    c.write(Buffer.concat([fcgiRecord(FCGI.STDIN, 1, 'def'), fcgiRecord(FCGI.STDIN, 1)]));
    const a = answerOf(await c.until(endedFor(1)), 1);
    c.destroy();
    assert.equal(a.cgi.status, 200);
    assert.equal((JSON.parse(a.cgi.body.toString()) as Echo).bodySha256, sha256('abcdef'));
  });

  test('a BEGIN_REQUEST for another id while a body is being buffered gets CANT_MPX_CONN and the body still arrives', async () => {
    const c = await converse({ port });
    c.write(fcgiRequest(cgiVars('POST', '/echo', [['CONTENT_LENGTH', '6']]), 'abc', { id: 1, openStdin: true }));
    c.write(fcgiBegin(2));
    const recs = await c.until(endedFor(2));
    assert.equal(answerOf(recs, 2).end!.protocolStatus, FCGI.CANT_MPX_CONN);
    c.write(Buffer.concat([fcgiRecord(FCGI.STDIN, 1, 'def'), fcgiRecord(FCGI.STDIN, 1)]));
    const a = answerOf(await c.until(endedFor(1)), 1);
    c.destroy();
    assert.equal((JSON.parse(a.cgi.body.toString()) as Echo).bodySha256, sha256('abcdef'));
  });

  test('two requests in a row on one FCGI_KEEP_CONN connection are both answered', async () => {
    const c = await converse({ port });
    c.write(fcgiRequest(cgiVars('GET', '/one'), '', { id: 1, keepConn: true }));
    const first = answerOf(await c.until(endedFor(1)), 1);
    assert.equal(JSON.parse(first.cgi.body.toString()).path, '/one');
    c.write(fcgiRequest(cgiVars('POST', '/two', [['CONTENT_LENGTH', '3']]), 'abc', { id: 2, keepConn: true }));
    const second = answerOf(await c.until(endedFor(2)), 2);
    const e = JSON.parse(second.cgi.body.toString()) as Echo;
    assert.equal(e.path, '/two');
    assert.equal(e.bodyLength, 3);
    assert.equal(second.end!.protocolStatus, FCGI.REQUEST_COMPLETE);
    // Still open: the web server owns it.
    assert.equal(await c.closed(500), false);
    c.destroy();
  });

  test('FCGI_ABORT_REQUEST before the params end is answered with END_REQUEST and the app is not called', async () => {
    const mark = tsgi.output().length;
    const c = await converse({ port });
    const params = fcgiPairs(cgiVars('GET', '/aborted'));
    c.write(Buffer.concat([fcgiBegin(3), fcgiRecord(FCGI.PARAMS, 3, params), fcgiRecord(FCGI.ABORT_REQUEST, 3)]));
    const recs = await c.until(endedFor(3));
    const a = answerOf(recs, 3);
    assert.equal(a.end!.protocolStatus, FCGI.REQUEST_COMPLETE);
    assert.equal(a.stdout.length, 0);
    assert.equal(await c.closed(), true);
    const ok = await fcgiGet(port, '/after-abort');
    assert.equal(ok.path, '/after-abort');
    assert.doesNotMatch(tsgi.output().slice(mark), /GET \/aborted/);
  });

  test('FCGI_ABORT_REQUEST while the body is being buffered is answered with END_REQUEST and the app is not called', async () => {
    const mark = tsgi.output().length;
    const c = await converse({ port });
    c.write(
      fcgiRequest(cgiVars('POST', '/aborted-buffered', [['CONTENT_LENGTH', '100']]), 'abc', { id: 6, openStdin: true }),
    );
    c.write(fcgiRecord(FCGI.ABORT_REQUEST, 6));
    const a = answerOf(await c.until(endedFor(6)), 6);
    assert.equal(a.end!.protocolStatus, FCGI.REQUEST_COMPLETE);
    assert.equal(a.stdout.length, 0);
    assert.equal(await c.closed(), true);
    assert.doesNotMatch(tsgi.output().slice(mark), /POST \/aborted-buffered/);
    assert.equal((await fcgiGet(port, '/after-abort-buffered')).path, '/after-abort-buffered');
  });

  test('FCGI_ABORT_REQUEST while the app reads the body ends the request and answers END_REQUEST', async () => {
    const c = await converse({ port });
    // Longer than --post-buffering (8192): the app is called after 8192 bytes and waits for more.
    c.write(
      fcgiRequest(cgiVars('POST', '/echo', [['CONTENT_LENGTH', '20000']]), Buffer.alloc(9000, 0x61), {
        id: 8,
        openStdin: true,
      }),
    );
    c.write(fcgiRecord(FCGI.ABORT_REQUEST, 8));
    const a = answerOf(await c.until(endedFor(8)), 8);
    assert.equal(a.end!.protocolStatus, FCGI.REQUEST_COMPLETE);
    assert.equal(await c.closed(), true);
    assert.equal((await fcgiGet(port, '/after-abort-dispatched')).path, '/after-abort-dispatched');
  });

  test('padding bytes after every record are skipped', async () => {
    const body = 'padded body';
    const c = await converse({ port });
    c.write(
      fcgiRequest(cgiVars('POST', '/pad', [['CONTENT_LENGTH', String(body.length)]]), body, {
        id: 9,
        padding: 7,
        stdinPiece: 3,
      }),
    );
    const a = answerOf(await c.until(endedFor(9)), 9);
    c.destroy();
    const e = JSON.parse(a.cgi.body.toString()) as Echo;
    assert.equal(e.path, '/pad');
    assert.equal(e.bodySha256, sha256(body));
  });

  test('params split across many records, with 4-byte name and value lengths, are read whole', async () => {
    const c = await converse({ port });
    const long = 'v'.repeat(300);
    c.write(
      fcgiRequest(cgiVars('GET', '/split?q=1', [['HTTP_X_TEST', long]]), '', {
        id: 5,
        paramsPiece: 5,
        longLengths: true,
      }),
    );
    const a = answerOf(await c.until(endedFor(5)), 5);
    c.destroy();
    const e = JSON.parse(a.cgi.body.toString()) as Echo;
    assert.equal(e.path, '/split');
    assert.equal(e.query, 'q=1');
    assert.equal(e.headers['x-test'], long);
  });

  test('the records are sent byte by byte and still read', async () => {
    const req = fcgiRequest(cgiVars('GET', '/slow'), '', { id: 4 });
    const out = await rawExchange(
      { port },
      [...req].map((b) => Buffer.from([b])),
      { timeoutMs: 30000 },
    );
    const a = answerOf(parseRecords(out.data), 4);
    assert.equal(a.cgi.status, 200);
    assert.equal(JSON.parse(a.cgi.body.toString()).path, '/slow');
  });
});

/** One GET over a new connection; resolves with the app's echo. */
async function fcgiGet(port: number, uri: string): Promise<Echo> {
  const out = await rawExchange({ port }, [fcgiRequest(cgiVars('GET', uri), '', { id: 1 })], { timeoutMs: 15000 });
  const a = answerOf(parseRecords(out.data), 1);
  assert.equal(a.cgi.status, 200, out.data.toString('latin1'));
  assert.equal(out.closed, true);
  return JSON.parse(a.cgi.body.toString()) as Echo;
}

describe('FastCGI input that is refused', () => {
  let tsgi: TsgiHandle;
  let port: number;
  before(async () => {
    tsgi = await startTsgi([
      '--fastcgi-socket',
      '127.0.0.1:0',
      ...GATEWAY,
      '--buffer-size',
      '1024',
      '--limit-post',
      '1000',
      '--socket-timeout',
      '2',
    ]);
    port = tsgi.ports[0]!;
  });
  after(async () => {
    assert.equal(await tsgi.stop(), 0, tsgi.output().slice(-3000));
  });

  /** Sends `bytes`, expects the connection closed, the log line, and the worker serving. */
  async function refused(
    chunks: Buffer[],
    code: string,
    status: number,
    opts: { id?: number; endInput?: boolean; timeoutMs?: number } = {},
  ): Promise<void> {
    const mark = tsgi.output().length;
    const out = await rawExchange({ port }, chunks, { timeoutMs: opts.timeoutMs ?? 15000, endInput: opts.endInput });
    assert.equal(out.closed, true, `not closed; received ${out.data.toString('latin1')}`);
    await waitForText(
      () => tsgi.output().slice(mark),
      new RegExp(`^tsgi: FastCGI request from 127\\.0\\.0\\.1: [^\\n]* \\(${code}\\)[^\\n]* -> ${status}$`, 'm'),
      15000,
    );
    if (opts.id !== undefined) {
      const a = answerOf(parseRecords(out.data), opts.id);
      assert.equal(a.cgi.status, status, out.data.toString('latin1'));
      assert.match(a.stdout.toString('latin1'), new RegExp(`^Status: ${status} `));
      assert.ok(a.end, `no FCGI_END_REQUEST in ${out.data.toString('latin1')}`);
    }
    const ok = await fcgiGet(port, '/still');
    assert.equal(ok.path, '/still');
  }

  test('a record of version 2 is refused', async () => {
    const bad = fcgiBegin(1);
    bad[0] = 2;
    await refused([bad], 'FCGI_BAD_VERSION', 400);
  });

  test('params over --buffer-size are refused with 413', async () => {
    const req = fcgiRequest(cgiVars('GET', '/big-params', [['HTTP_X_FILL', 'x'.repeat(1200)]]), '', { id: 1 });
    await refused([req], 'FCGI_PARAMS_TOO_LARGE', 413, { id: 1 });
  });

  test('a CONTENT_LENGTH that is not a number is refused with 400', async () => {
    const req = fcgiRequest(cgiVars('POST', '/echo', [['CONTENT_LENGTH', '12abc']]), '12abc', { id: 1 });
    await refused([req], 'FCGI_BAD_CONTENT_LENGTH', 400, { id: 1 });
  });

  test('a CONTENT_LENGTH over --limit-post is refused with 413 and the app is not called', async () => {
    const mark = tsgi.output().length;
    const req = fcgiRequest(cgiVars('POST', '/over', [['CONTENT_LENGTH', '1001']]), 'x'.repeat(1001), { id: 1 });
    await refused([req], 'FCGI_BODY_TOO_LARGE', 413, { id: 1 });
    assert.doesNotMatch(tsgi.output().slice(mark), /POST \/over =>/);
  });

  test('FCGI_STDIN longer than CONTENT_LENGTH is refused', async () => {
    const req = fcgiRequest(cgiVars('POST', '/long', [['CONTENT_LENGTH', '5']]), 'hello world', { id: 1 });
    await refused([req], 'FCGI_BODY_LENGTH_MISMATCH', 400, { id: 1 });
  });

  test('FCGI_STDIN shorter than CONTENT_LENGTH is refused', async () => {
    const req = fcgiRequest(cgiVars('POST', '/short', [['CONTENT_LENGTH', '50']]), 'hello', { id: 1 });
    await refused([req], 'FCGI_BODY_LENGTH_MISMATCH', 400, { id: 1 });
  });

  test('FCGI_STDIN longer than CONTENT_LENGTH after the app got the request is refused', async () => {
    const head = fcgiRequest(cgiVars('POST', '/long-later', [['CONTENT_LENGTH', '5']]), '', { id: 1, openStdin: true });
    const rest = Buffer.concat([fcgiRecord(FCGI.STDIN, 1, 'hello world'), fcgiRecord(FCGI.STDIN, 1)]);
    await refused([head, rest], 'FCGI_BODY_LENGTH_MISMATCH', 400);
  });

  test('an FCGI_STDOUT record from the web server is refused', async () => {
    const req = Buffer.concat([
      fcgiBegin(1),
      fcgiRecord(FCGI.STDOUT, 1, 'Status: 200 OK\r\n\r\n'),
      fcgiStream(FCGI.PARAMS, 1, fcgiPairs(cgiVars('GET', '/x'))),
    ]);
    await refused([req], 'FCGI_UNEXPECTED_RECORD', 400, { id: 1 });
  });

  test('mutated and random records never take the worker down', async () => {
    const r = seeded(0xfc61);
    const good = fcgiRequest(cgiVars('POST', '/echo', [['CONTENT_LENGTH', '5']]), 'hello', { id: 1, stdinPiece: 2 });
    for (let batch = 0; batch < 8; batch++) {
      const cases: Promise<unknown>[] = [];
      for (let i = 0; i < 12; i++) {
        const input = mutated(r, good);
        const cut = Math.floor(r() * input.length);
        cases.push(
          rawExchange({ port }, [input.subarray(0, cut), input.subarray(cut)], {
            timeoutMs: 1500,
            endInput: r() < 0.5,
          }),
        );
      }
      await Promise.all(cases);
      assert.equal((await fcgiGet(port, `/batch-${batch}`)).path, `/batch-${batch}`);
    }
  });

  test('params that never end are refused after --socket-timeout', async () => {
    const req = Buffer.concat([fcgiBegin(1), fcgiRecord(FCGI.PARAMS, 1, fcgiPairs(cgiVars('GET', '/never')))]);
    await refused([req], 'FCGI_HEAD_TIMEOUT', 408, { id: 1, timeoutMs: 30000 });
  });
});

describe('--socket ADDR --protocol fastcgi and UNIX / abstract FastCGI sockets', () => {
  test('--socket with --protocol fastcgi serves FastCGI', async () => {
    const tsgi = await startTsgi(['--socket', '127.0.0.1:0', '--protocol', 'fastcgi', ...GATEWAY]);
    try {
      assert.match(tsgi.output(), /bound to TCP address 127\.0\.0\.1:\d+ \(fastcgi\)/);
      const e = await fcgiGet(tsgi.ports[0]!, '/via-protocol');
      assert.equal(e.path, '/via-protocol');
    } finally {
      await tsgi.stop();
    }
  });

  test('a UNIX path with --chmod-socket 660 has mode 660, serves, and --vacuum removes it at exit', async () => {
    const tmp = tempDir('tsgi-fcgi-it-');
    const sock = path.join(tmp.dir, 'fcgi.sock');
    try {
      const tsgi = await startTsgi(['--fastcgi-socket', sock, '--chmod-socket', '660', '--vacuum', ...GATEWAY]);
      try {
        assert.equal(fs.statSync(sock).mode & 0o777, 0o660);
        const out = await rawExchange({ path: sock }, [fcgiRequest(cgiVars('GET', '/unix'), '', { id: 1 })], {
          timeoutMs: 15000,
        });
        const a = answerOf(parseRecords(out.data), 1);
        assert.equal(JSON.parse(a.cgi.body.toString()).path, '/unix');
      } finally {
        assert.equal(await tsgi.stop(), 0);
      }
      assert.equal(fs.existsSync(sock), false);
    } finally {
      tmp.remove();
    }
  });

  test('an abstract address (@name) serves FastCGI', async () => {
    const name = `tsgi-fcgi-it-${process.pid}-${Date.now()}`;
    const tsgi = await startTsgi(['--fastcgi-socket', `@${name}`, ...GATEWAY]);
    try {
      const out = await abstractExchange(name, fcgiRequest(cgiVars('GET', '/abstract'), '', { id: 1 }));
      const a = answerOf(parseRecords(out), 1);
      assert.equal(JSON.parse(a.cgi.body.toString()).path, '/abstract');
    } finally {
      await tsgi.stop();
    }
  });
});
