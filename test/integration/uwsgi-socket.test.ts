// `tsgi --socket ADDR --wsgi-file app.js`: the worker speaks the binary uwsgi protocol. Raw
// packets in, raw HTTP responses out, then the server closes (docs/protocol-uwsgi.md). After
// every refused packet the worker must keep serving.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { getVars, PROBE, uwsgiRequest, waitForText } from './helpers/exchange';
import { rawExchange, startTsgi, type TsgiHandle, uwsgiPacket } from './helpers/tsgi';

let tsgi: TsgiHandle;
let port: number;

before(async () => {
  tsgi = await startTsgi([
    '--socket',
    '127.0.0.1:0',
    '--wsgi-file',
    PROBE,
    '--buffer-size',
    '512',
    '--limit-post',
    '1000',
    '--post-buffering',
    '100',
  ]);
  port = tsgi.ports[0]!;
});

after(async () => {
  await tsgi.stop();
});

/** The log written since `mark` (the length of the output when the test started). */
const logSince = (mark: number): string => tsgi.output().slice(mark);

/** A good request on a new connection is answered 200 with the app's body. */
async function assertStillServes(): Promise<void> {
  const r = await uwsgiRequest({ port }, getVars('/after'));
  assert.equal(r.statusLine, 'HTTP/1.1 200 OK');
  assert.equal(r.body, 'hello GET /after');
  assert.equal(r.closed, true);
}

function echoed(body: string): { vars: Record<string, string>; body: string; bodyLength: number } {
  // The response body is UTF-8 (the app returns a JS string); parseResponses gives latin1.
  return JSON.parse(Buffer.from(body, 'latin1').toString('utf8'));
}

describe('uwsgi socket: responses', () => {
  test('the status line echoes SERVER_PROTOCOL and the server closes after one response', async () => {
    const r = await uwsgiRequest({ port }, getVars('/hi'));
    assert.equal(r.statusLine, 'HTTP/1.1 200 OK');
    assert.equal(r.body, 'hello GET /hi');
    assert.equal(r.headers['content-type'], 'text/plain');
    assert.equal(r.count, 1);
    assert.equal(r.closed, true);
  });

  test('the status line is HTTP/1.0 when SERVER_PROTOCOL is absent', async () => {
    const r = await uwsgiRequest({ port }, [
      ['REQUEST_METHOD', 'GET'],
      ['PATH_INFO', '/noproto'],
    ]);
    assert.equal(r.statusLine, 'HTTP/1.0 200 OK');
    assert.equal(r.body, 'hello GET /noproto');
    assert.equal(r.closed, true);
  });

  test('SERVER_PROTOCOL HTTP/1.0 is echoed as sent', async () => {
    const r = await uwsgiRequest({ port }, [
      ['REQUEST_METHOD', 'GET'],
      ['PATH_INFO', '/ten'],
      ['SERVER_PROTOCOL', 'HTTP/1.0'],
    ]);
    assert.equal(r.statusLine, 'HTTP/1.0 200 OK');
    assert.equal(r.body, 'hello GET /ten');
  });
});

describe('uwsgi socket: environ', () => {
  test('environ holds exactly the vars sent, empty values included', async () => {
    const vars: Array<[string, string]> = [
      ['QUERY_STRING', 'a=1&b=%20'],
      ['REQUEST_METHOD', 'GET'],
      ['CONTENT_TYPE', ''],
      ['CONTENT_LENGTH', ''],
      ['REQUEST_URI', '/echo?a=1&b=%20'],
      ['PATH_INFO', '/echo'],
      ['SERVER_PROTOCOL', 'HTTP/1.1'],
      ['REMOTE_ADDR', '10.1.2.3'],
      ['REMOTE_PORT', '51234'],
      ['HTTP_X_CUSTOM', 'v\u00e9'],
      ['WEIRD KEY', ''],
    ];
    const r = await uwsgiRequest({ port }, vars);
    assert.equal(r.status, 200);
    const e = echoed(r.body);
    assert.deepEqual(e.vars, Object.fromEntries(vars));
    assert.equal(e.body, '');
    assert.equal(e.bodyLength, 0);
  });

  test('a duplicated var: the last one wins', async () => {
    const r = await uwsgiRequest(
      { port },
      getVars('/echo', [
        ['HTTP_X_DUP', '1'],
        ['HTTP_COOKIE', 'a=1'],
        ['HTTP_X_DUP', '2'],
        ['HTTP_COOKIE', 'b=2'],
      ]),
    );
    const e = echoed(r.body);
    assert.equal(e.vars.HTTP_X_DUP, '2');
    assert.equal(e.vars.HTTP_COOKIE, 'b=2');
    assert.equal(Object.keys(e.vars).length, 6);
  });

  test('the magic var UWSGI_FILE is passed as a plain string and loads no code', async () => {
    const other = PROBE.replace(/probe\.mjs$/, 'hello.js');
    const r = await uwsgiRequest(
      { port },
      getVars('/echo', [
        ['UWSGI_FILE', other],
        ['UWSGI_SETENV', 'TSGI_PROBE=1'],
      ]),
    );
    assert.equal(r.status, 200);
    const e = echoed(r.body);
    assert.equal(e.vars.UWSGI_FILE, other);
    assert.equal(e.vars.UWSGI_SETENV, 'TSGI_PROBE=1');
    // The same app answers the next request: nothing was loaded from UWSGI_FILE.
    const next = await uwsgiRequest({ port }, getVars('/still-probe', [['UWSGI_FILE', other]]));
    assert.equal(next.body, 'hello GET /still-probe');
    assert.doesNotMatch(tsgi.output(), /Hello from hello\.js/);
  });
});

describe('uwsgi socket: body', () => {
  test('the body is exactly CONTENT_LENGTH bytes; bytes beyond are ignored', async () => {
    const r = await uwsgiRequest(
      { port },
      getVars('/echo', [
        ['REQUEST_METHOD', 'POST'],
        ['CONTENT_LENGTH', '5'],
      ]),
      'helloEXTRA-BYTES',
    );
    assert.equal(r.status, 200);
    const e = echoed(r.body);
    assert.equal(e.body, 'hello');
    assert.equal(e.bodyLength, 5);
    assert.equal(r.count, 1);
    assert.equal(r.closed, true);
  });

  test('a body sent in pieces after the vars arrives whole', async () => {
    const body = Buffer.alloc(900, 0x7a);
    const packet = uwsgiPacket(
      getVars('/echo', [
        ['REQUEST_METHOD', 'POST'],
        ['CONTENT_LENGTH', '900'],
      ]),
      body,
    );
    const out = await rawExchange({ port }, [packet.subarray(0, 10), packet.subarray(10, 200), packet.subarray(200)], {
      gapMs: 20,
    });
    const text = out.data.toString('latin1');
    const e = echoed(text.slice(text.indexOf('\r\n\r\n') + 4));
    assert.equal(e.bodyLength, 900);
    assert.equal(e.body, 'z'.repeat(900));
  });

  test('a forwarded HTTP_TRANSFER_ENCODING=chunked never triggers de-chunking', async () => {
    const chunked = '5\r\nhello\r\n0\r\n\r\n';
    const r = await uwsgiRequest(
      { port },
      getVars('/echo', [
        ['REQUEST_METHOD', 'POST'],
        ['CONTENT_LENGTH', String(chunked.length)],
        ['HTTP_TRANSFER_ENCODING', 'chunked'],
      ]),
      chunked,
    );
    assert.equal(r.status, 200);
    const e = echoed(r.body);
    assert.equal(e.body, chunked);
    assert.equal(e.vars.HTTP_TRANSFER_ENCODING, 'chunked');
  });

  test('a packet without CONTENT_LENGTH never sees the body of an earlier request', async () => {
    const first = await uwsgiRequest(
      { port },
      getVars('/echo', [
        ['REQUEST_METHOD', 'POST'],
        ['CONTENT_LENGTH', '6'],
      ]),
      'secret',
    );
    assert.equal(echoed(first.body).body, 'secret');
    const r = await uwsgiRequest({ port }, getVars('/echo'));
    const e = echoed(r.body);
    assert.equal(e.body, '');
    assert.equal(e.bodyLength, 0);
  });

  test("a body that ends early (the client closes) makes the app's read reject", async () => {
    const mark = tsgi.output().length;
    // Under --limit-post 1000 and longer than what is sent: with --post-buffering 100 the app
    // gets the request after 100 bytes, before the body stops.
    const packet = uwsgiPacket(
      getVars('/echo', [
        ['REQUEST_METHOD', 'POST'],
        ['CONTENT_LENGTH', '900'],
      ]),
      'x'.repeat(200),
    );
    await rawExchange({ port }, [packet], { endInput: true, timeoutMs: 2000 });
    const line = await waitForText(() => logSince(mark), /^probe: body read failed: .*$/m);
    assert.match(
      line,
      /^probe: body read failed: request body truncated: connection closed before the request body ended \((HTTP_TRUNCATED_BODY|IO_PEER_CLOSED)\)$/,
    );
    await assertStillServes();
  });

  test('a body that ends early while it is buffered never reaches the app, and the log says so', async () => {
    const mark = tsgi.output().length;
    const packet = uwsgiPacket(
      getVars('/echo', [
        ['REQUEST_METHOD', 'POST'],
        ['CONTENT_LENGTH', '100'],
      ]),
      'only 16 bytes...',
    );
    const r = await rawExchange({ port }, [packet], { endInput: true, timeoutMs: 2000 });
    assert.match(r.data.toString('latin1'), /^HTTP\/1\.1 400 /);
    await waitForText(
      () => logSince(mark),
      /uwsgi packet from .*: connection closed before the request body ended \(HTTP_TRUNCATED_BODY\) -> 400/,
    );
    assert.doesNotMatch(logSince(mark), /probe: body read failed/);
    await assertStillServes();
  });
});

describe('uwsgi socket: modifiers', () => {
  test('ping (modifier1 100, empty) is answered 64 00 00 01 and the server closes', async () => {
    const out = await rawExchange({ port }, [Buffer.from([0x64, 0x00, 0x00, 0x00])]);
    assert.deepEqual([...out.data], [0x64, 0x00, 0x00, 0x01]);
    assert.equal(out.closed, true);
    await assertStillServes();
  });

  test('a ping is not counted as a request and gets no request log line', async () => {
    const mark = tsgi.output().length;
    await assertStillServes();
    await rawExchange({ port }, [Buffer.from([0x64, 0x00, 0x00, 0x00])]);
    await assertStillServes();
    await waitForText(() => logSince(mark), /(\] GET \/after =>[^\n]*\n[\s\S]*){2}/);
    // The last two lines are this test's two requests (a line of the previous test may
    // still arrive after `mark`: log lines are written after the response is sent).
    const counts = [...logSince(mark).matchAll(/^\[pid: \d+\|app: 0\|req: (\d+)\/\d+\] /gm)].map((m) => Number(m[1]));
    assert.ok(counts.length >= 2, logSince(mark));
    assert.equal(counts.at(-1), counts.at(-2)! + 1, logSince(mark));
  });

  test('modifier1 5 reaches the app', async () => {
    const r = await uwsgiRequest({ port }, getVars('/mod5'), '', 5);
    assert.equal(r.statusLine, 'HTTP/1.1 200 OK');
    assert.equal(r.body, 'hello GET /mod5');
  });

  test('modifier1 150 is refused with 501 and a log line, never a 200', async () => {
    const mark = tsgi.output().length;
    const r = await uwsgiRequest({ port }, getVars('/mod150'), '', 150);
    assert.equal(r.status, 501);
    assert.doesNotMatch(r.data.toString('latin1'), / 200 |hello GET/);
    assert.equal(r.closed, true);
    await waitForText(
      () => logSince(mark),
      /^tsgi: uwsgi packet from 127\.0\.0\.1: unavailable modifier requested \(UWSGI_BAD_MODIFIER\)[^\n]*-> 501$/m,
    );
    assert.doesNotMatch(logSince(mark), /GET \/mod150 =>/);
    await assertStillServes();
  });

  test('the refusal log line names the modifier requested', async () => {
    const mark = tsgi.output().length;
    await uwsgiRequest({ port }, getVars('/mod150'), '', 150);
    await waitForText(() => logSince(mark), /UWSGI_BAD_MODIFIER/);
    assert.match(logSince(mark), /UWSGI_BAD_MODIFIER.*\b150\b|\b150\b.*UWSGI_BAD_MODIFIER/);
  });
});

describe('uwsgi socket: refused packets', () => {
  test('a vars block over --buffer-size gets 413 and a log line', async () => {
    const mark = tsgi.output().length;
    const r = await uwsgiRequest({ port }, getVars('/big', [['HTTP_X_FILL', 'x'.repeat(600)]]));
    assert.equal(r.statusLine, 'HTTP/1.1 413 Content Too Large');
    assert.equal(r.body, 'Content Too Large\n');
    assert.equal(r.closed, true);
    await waitForText(
      () => logSince(mark),
      /^tsgi: uwsgi packet from 127\.0\.0\.1: uwsgi vars block larger than buffer-size \(UWSGI_BLOCK_TOO_LARGE\)[^\n]*-> 413$/m,
    );
    await assertStillServes();
  });

  test('a vars block of exactly --buffer-size bytes is accepted', async () => {
    const base = getVars('/exact');
    const baseSize = uwsgiPacket(base).length - 4;
    const fill = 512 - baseSize - 4 - 'X'.length;
    const r = await uwsgiRequest({ port }, [...base, ['X', 'y'.repeat(fill)]]);
    assert.equal(uwsgiPacket([...base, ['X', 'y'.repeat(fill)]]).readUInt16LE(1), 512);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'hello GET /exact');
  });

  test('the buffer-size refusal logs the sizes', async () => {
    const mark = tsgi.output().length;
    const packet = uwsgiPacket(getVars('/big', [['HTTP_X_FILL', 'x'.repeat(600)]]));
    await rawExchange({ port }, [packet]);
    await waitForText(() => logSince(mark), /UWSGI_BLOCK_TOO_LARGE/);
    assert.match(logSince(mark), new RegExp(`\\b${packet.readUInt16LE(1)}\\b[^\\n]*\\b512\\b`));
  });

  test('a zero-length key gets 400 and a log line', async () => {
    const mark = tsgi.output().length;
    const r = await uwsgiRequest({ port }, [
      ['REQUEST_METHOD', 'GET'],
      ['', 'value'],
    ]);
    assert.equal(r.statusLine, 'HTTP/1.1 400 Bad Request');
    assert.equal(r.closed, true);
    await waitForText(
      () => logSince(mark),
      /^tsgi: uwsgi packet from 127\.0\.0\.1: uwsgi key cannot be empty \(UWSGI_EMPTY_KEY\)[^\n]*-> 400$/m,
    );
    await assertStillServes();
  });

  test('a var overrunning the vars block gets 400 and a log line', async () => {
    const mark = tsgi.output().length;
    // datasize 4: a key length of 3 with only 2 key bytes in the block.
    const out = await rawExchange({ port }, [Buffer.from([0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0x41, 0x42])]);
    assert.match(out.data.toString('latin1'), /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.equal(out.closed, true);
    await waitForText(
      () => logSince(mark),
      /^tsgi: uwsgi packet from 127\.0\.0\.1: uwsgi var overruns the vars block \(UWSGI_TRUNCATED_VAR\)[^\n]*-> 400$/m,
    );
    await assertStillServes();
  });

  test('a value length running past the vars block gets 400 and a log line', async () => {
    const mark = tsgi.output().length;
    const good = uwsgiPacket([['REQUEST_METHOD', 'GET']]);
    const bad = Buffer.from(good);
    bad.writeUInt16LE(200, 4 + 2 + 'REQUEST_METHOD'.length); // value length beyond the block
    const out = await rawExchange({ port }, [bad]);
    assert.match(out.data.toString('latin1'), /^HTTP\/1\.1 400 Bad Request\r\n/);
    await waitForText(() => logSince(mark), /\(UWSGI_TRUNCATED_VAR\)[^\n]*-> 400$/m);
    await assertStillServes();
  });

  test('CONTENT_LENGTH over --limit-post gets 413 and a log line, and the app is not called', async () => {
    const mark = tsgi.output().length;
    const r = await uwsgiRequest(
      { port },
      getVars('/echo', [
        ['REQUEST_METHOD', 'POST'],
        ['CONTENT_LENGTH', '1001'],
      ]),
      'x'.repeat(1001),
    );
    assert.equal(r.statusLine, 'HTTP/1.1 413 Content Too Large');
    assert.equal(r.closed, true);
    await waitForText(
      () => logSince(mark),
      /^tsgi: uwsgi packet from 127\.0\.0\.1: CONTENT_LENGTH larger than limit-post \(UWSGI_BODY_TOO_LARGE\)[^\n]*-> 413$/m,
    );
    assert.doesNotMatch(logSince(mark), /POST \/echo =>/);
    await assertStillServes();
  });

  test('CONTENT_LENGTH equal to --limit-post is accepted', async () => {
    const r = await uwsgiRequest(
      { port },
      getVars('/count', [
        ['REQUEST_METHOD', 'POST'],
        ['CONTENT_LENGTH', '1000'],
      ]),
      Buffer.alloc(1000, 1),
    );
    assert.equal(r.status, 200);
    assert.equal(r.body, '1000 1000');
  });

  test('a malformed CONTENT_LENGTH gets 400 and a log line', async () => {
    const mark = tsgi.output().length;
    const r = await uwsgiRequest(
      { port },
      getVars('/echo', [
        ['REQUEST_METHOD', 'POST'],
        ['CONTENT_LENGTH', '12abc'],
      ]),
      '12abc',
    );
    assert.equal(r.status, 400);
    await waitForText(() => logSince(mark), /\(UWSGI_BAD_CONTENT_LENGTH\)[^\n]*-> 400$/m);
    await assertStillServes();
  });

  test('an empty vars block with a request modifier gets 400 and a log line', async () => {
    const mark = tsgi.output().length;
    const r = await uwsgiRequest({ port }, []);
    assert.equal(r.statusLine, 'HTTP/1.1 400 Bad Request');
    await waitForText(() => logSince(mark), /\(UWSGI_EMPTY_BLOCK\)[^\n]*-> 400$/m);
    await assertStillServes();
  });

  test('HTTP spoken to the uwsgi socket gets 413 after the 4 header bytes', async () => {
    // 'GET ' reads as modifier1 71, datasize 21573: refused without waiting for more bytes.
    const out = await rawExchange({ port }, ['GET '], { timeoutMs: 3000 });
    assert.equal(out.closed, true);
    assert.match(out.data.toString('latin1'), /^HTTP\/1\.1 413 Content Too Large\r\n/);
    await assertStillServes();
  });

  test('a client that connects and closes without a byte leaves the worker serving', async () => {
    await new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.end());
      s.on('close', () => resolve());
      s.on('error', () => resolve());
    });
    await assertStillServes();
  });
});
