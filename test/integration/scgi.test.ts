// `tsgi --scgi-socket ADDR` (and `--socket ADDR --protocol scgi`): SCGI end to end. Behind a
// private nginx with Debian's stock scgi_params, the three app kinds must see the same request
// as through uwsgi_pass; raw netstrings check the framing; every refused input gets one log
// line, a closed connection and a worker that keeps serving.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { abstractExchange, mutated, parseCgi, scgiNetstring, scgiRequest, seeded } from './helpers/cgi';
import { CGI_APP_KINDS, describeNginxComparison, type Echo, sha256 } from './helpers/cgi-compare';
import { tempDir, waitForText } from './helpers/exchange';
import { rawExchange, startTsgi, type TsgiHandle } from './helpers/tsgi';

const GATEWAY = CGI_APP_KINDS[0]!.args;

/** The vars nginx's scgi_params would send for `METHOD uri` (without CONTENT_LENGTH and SCGI). */
function scgiVars(method: string, uri: string, extra: Array<[string, string]> = []): Array<[string, string]> {
  const q = uri.indexOf('?');
  return [
    ['REQUEST_METHOD', method],
    ['REQUEST_URI', uri],
    ['QUERY_STRING', q < 0 ? '' : uri.slice(q + 1)],
    ['DOCUMENT_URI', decodeURIComponent(q < 0 ? uri : uri.slice(0, q))],
    ['SERVER_PROTOCOL', 'HTTP/1.1'],
    ['REMOTE_ADDR', '127.0.0.1'],
    ...extra,
  ];
}

/** One request on a new connection: the CGI response and whether the server closed. */
async function scgiExchange(
  target: { port: number } | { path: string },
  chunks: Buffer[],
  opts: { endInput?: boolean; timeoutMs?: number; gapMs?: number } = {},
) {
  const out = await rawExchange(target, chunks, { timeoutMs: opts.timeoutMs ?? 15000, ...opts });
  return { ...parseCgi(out.data), data: out.data, closed: out.closed };
}

async function scgiGet(port: number, uri: string): Promise<Echo> {
  const r = await scgiExchange({ port }, [scgiRequest(scgiVars('GET', uri))]);
  assert.equal(r.status, 200, r.data.toString('latin1'));
  assert.equal(r.closed, true);
  return JSON.parse(r.body.toString());
}

describeNginxComparison('scgi');

describe('SCGI netstrings on a raw socket', () => {
  let tsgi: TsgiHandle;
  let port: number;
  before(async () => {
    tsgi = await startTsgi(['--scgi-socket', '127.0.0.1:0', ...GATEWAY]);
    port = tsgi.ports[0]!;
  });
  after(async () => {
    await tsgi?.stop();
  });

  test('a GET is answered with a CGI-style head and the server closes', async () => {
    const r = await scgiExchange({ port }, [scgiRequest(scgiVars('GET', '/raw?x=1', [['HTTP_X_TEST', 'v']]))]);
    assert.equal(r.head[0], 'Status: 200 OK');
    assert.equal(r.headers['content-type'], 'application/json');
    const e = JSON.parse(r.body.toString()) as Echo;
    assert.deepEqual([e.method, e.path, e.query, e.headers['x-test']], ['GET', '/raw', 'x=1', 'v']);
    assert.equal(r.closed, true);
  });

  test('a POST body sent in pieces after the netstring arrives whole', async () => {
    const body = Buffer.alloc(5000, 0x61);
    const req = scgiRequest(scgiVars('POST', '/body', [['CONTENT_TYPE', 'text/plain']]), body);
    const pieces = [req.subarray(0, 3), req.subarray(3, 40), req.subarray(40, 2000), req.subarray(2000)];
    const r = await scgiExchange({ port }, pieces, { gapMs: 20 });
    const e = JSON.parse(r.body.toString()) as Echo;
    assert.equal(e.bodyLength, 5000);
    assert.equal(e.bodySha256, sha256(body));
    assert.equal(e.headers['content-type'], 'text/plain');
  });

  test('bytes after CONTENT_LENGTH are not part of the body', async () => {
    const req = Buffer.concat([scgiRequest(scgiVars('POST', '/extra'), 'hello'), Buffer.from('EXTRA')]);
    const r = await scgiExchange({ port }, [req]);
    const e = JSON.parse(r.body.toString()) as Echo;
    assert.equal(e.bodySha256, sha256('hello'));
  });

  test('a response larger than 64 KiB arrives whole', async () => {
    const r = await scgiExchange({ port }, [scgiRequest(scgiVars('GET', '/big?n=150000'))]);
    assert.equal(r.status, 200);
    assert.equal(r.body.length, 150000);
    assert.equal(r.headers['content-length'], '150000');
  });

  test('HEAD gets the head without a body', async () => {
    const r = await scgiExchange({ port }, [scgiRequest(scgiVars('HEAD', '/echo'))]);
    assert.equal(r.status, 200);
    assert.equal(r.body.length, 0);
  });
});

describe('SCGI input that is refused', () => {
  let tsgi: TsgiHandle;
  let port: number;
  before(async () => {
    tsgi = await startTsgi([
      '--scgi-socket',
      '127.0.0.1:0',
      ...GATEWAY,
      '--buffer-size',
      '1024',
      '--limit-post',
      '1000',
      '--post-buffering',
      '100',
      '--socket-timeout',
      '2',
    ]);
    port = tsgi.ports[0]!;
  });
  after(async () => {
    assert.equal(await tsgi.stop(), 0, tsgi.output().slice(-3000));
  });

  async function refused(chunks: Buffer[], code: string, status: number, opts: { endInput?: boolean } = {}) {
    const mark = tsgi.output().length;
    const r = await scgiExchange({ port }, chunks, { endInput: opts.endInput, timeoutMs: 30000 });
    assert.equal(r.closed, true, `not closed; received ${r.data.toString('latin1')}`);
    assert.equal(r.status, status, r.data.toString('latin1'));
    assert.match(r.head[0]!, new RegExp(`^Status: ${status} `));
    await waitForText(
      () => tsgi.output().slice(mark),
      new RegExp(`^tsgi: SCGI request from 127\\.0\\.0\\.1: [^\\n]* \\(${code}\\)[^\\n]* -> ${status}$`, 'm'),
      15000,
    );
    assert.equal((await scgiGet(port, '/still')).path, '/still');
    return tsgi.output().slice(mark);
  }

  test('a netstring length that is not a number is refused', async () => {
    await refused([Buffer.from('12a:CONTENT_LENGTH\x000\x00,')], 'SCGI_BAD_NETSTRING', 400);
  });

  test('a netstring length with a leading zero is refused', async () => {
    const good = scgiNetstring([
      ['CONTENT_LENGTH', '0'],
      ['SCGI', '1'],
    ]);
    await refused([Buffer.concat([Buffer.from('0'), good])], 'SCGI_BAD_NETSTRING', 400);
  });

  test('a netstring that does not end with a comma is refused', async () => {
    const good = scgiNetstring([
      ['CONTENT_LENGTH', '0'],
      ['SCGI', '1'],
    ]);
    good[good.length - 1] = 0x3b;
    await refused([good], 'SCGI_BAD_NETSTRING', 400);
  });

  test('a header block over --buffer-size is refused with 413', async () => {
    await refused(
      [scgiRequest(scgiVars('GET', '/fill', [['HTTP_X_FILL', 'x'.repeat(1200)]]))],
      'SCGI_BLOCK_TOO_LARGE',
      413,
    );
  });

  test('a header block that does not start with CONTENT_LENGTH is refused', async () => {
    const req = scgiNetstring([['SCGI', '1'], ['CONTENT_LENGTH', '0'], ...scgiVars('GET', '/order')]);
    await refused([req], 'SCGI_CONTENT_LENGTH_NOT_FIRST', 400);
  });

  test('a header block without SCGI=1 is refused', async () => {
    const req = scgiNetstring([['CONTENT_LENGTH', '0'], ...scgiVars('GET', '/noscgi')]);
    await refused([req], 'SCGI_NO_SCGI_HEADER', 400);
  });

  test('a CONTENT_LENGTH that is not a number is refused', async () => {
    const req = scgiNetstring([['CONTENT_LENGTH', '12abc'], ['SCGI', '1'], ...scgiVars('POST', '/cl')]);
    await refused([req], 'SCGI_BAD_CONTENT_LENGTH', 400);
  });

  test('a CONTENT_LENGTH over --limit-post is refused with 413 and the app is not called', async () => {
    const log = await refused([scgiRequest(scgiVars('POST', '/over'), 'x'.repeat(1001))], 'SCGI_BODY_TOO_LARGE', 413);
    assert.doesNotMatch(log, /POST \/over =>/);
  });

  test('a body shorter than CONTENT_LENGTH, then EOF, is refused while it is buffered', async () => {
    const req = Buffer.concat([
      scgiNetstring([['CONTENT_LENGTH', '50'], ['SCGI', '1'], ...scgiVars('POST', '/short')]),
      Buffer.from('only 10 b.'),
    ]);
    await refused([req], 'HTTP_TRUNCATED_BODY', 400, { endInput: true });
  });

  test('a body shorter than CONTENT_LENGTH, then EOF, after the app got the request leaves the worker serving', async () => {
    const mark = tsgi.output().length;
    const req = Buffer.concat([
      scgiNetstring([['CONTENT_LENGTH', '900'], ['SCGI', '1'], ...scgiVars('POST', '/short-late')]),
      Buffer.alloc(300, 0x62),
    ]);
    const r = await scgiExchange({ port }, [req], { endInput: true });
    assert.equal(r.closed, true);
    assert.notEqual(r.status, 200, r.data.toString('latin1'));
    await waitForText(() => tsgi.output().slice(mark), /POST \/short-late|short-late/, 15000);
    assert.equal((await scgiGet(port, '/still')).path, '/still');
  });

  test('mutated and random netstrings never take the worker down', async () => {
    const r = seeded(0x5c61);
    const good = scgiRequest(scgiVars('POST', '/echo'), 'hello');
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
      assert.equal((await scgiGet(port, `/batch-${batch}`)).path, `/batch-${batch}`);
    }
  });

  test('a header block that never finishes is refused after --socket-timeout', async () => {
    const req = scgiNetstring([['CONTENT_LENGTH', '0'], ['SCGI', '1'], ...scgiVars('GET', '/never')]);
    await refused([req.subarray(0, req.length - 5)], 'SCGI_HEAD_TIMEOUT', 408);
  });
});

describe('--socket ADDR --protocol scgi and UNIX / abstract SCGI sockets', () => {
  test('--socket with --protocol scgi serves SCGI', async () => {
    const tsgi = await startTsgi(['--socket', '127.0.0.1:0', '--protocol', 'scgi', ...GATEWAY]);
    try {
      assert.match(tsgi.output(), /bound to TCP address 127\.0\.0\.1:\d+ \(scgi\)/);
      assert.equal((await scgiGet(tsgi.ports[0]!, '/via-protocol')).path, '/via-protocol');
    } finally {
      await tsgi.stop();
    }
  });

  test('a UNIX path with --chmod-socket 660 has mode 660, serves, and --vacuum removes it at exit', async () => {
    const tmp = tempDir('tsgi-scgi-it-');
    const sock = path.join(tmp.dir, 'scgi.sock');
    try {
      const tsgi = await startTsgi(['--scgi-socket', sock, '--chmod-socket', '660', '--vacuum', ...GATEWAY]);
      try {
        assert.equal(fs.statSync(sock).mode & 0o777, 0o660);
        const r = await scgiExchange({ path: sock }, [scgiRequest(scgiVars('GET', '/unix'))]);
        assert.equal(JSON.parse(r.body.toString()).path, '/unix');
      } finally {
        assert.equal(await tsgi.stop(), 0);
      }
      assert.equal(fs.existsSync(sock), false);
    } finally {
      tmp.remove();
    }
  });

  test('an abstract address (@name) serves SCGI', async () => {
    const name = `tsgi-scgi-it-${process.pid}-${Date.now()}`;
    const tsgi = await startTsgi(['--scgi-socket', `@${name}`, ...GATEWAY]);
    try {
      const r = parseCgi(await abstractExchange(name, scgiRequest(scgiVars('GET', '/abstract'))));
      assert.equal(JSON.parse(r.body.toString()).path, '/abstract');
    } finally {
      await tsgi.stop();
    }
  });
});
