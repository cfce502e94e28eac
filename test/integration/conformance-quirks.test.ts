// Request forms and number spellings where HTTP/1.1 leaves no choice, answered by one rule on
// every front end: the worker's own --http-socket, the --http router in front of a uwsgi
// worker socket, and (where a uwsgi packet can carry the quirk) --socket itself
// (docs/http.md, "Request targets and number spellings").

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { APPS, parseResponses, rawExchange, startTsgi, type TsgiHandle, uwsgiPacket } from './helpers/tsgi';

const APP = path.join(APPS, 'router.js');

interface Answer {
  status: number;
  body: string;
}

describe('conformance quirks, the same on --http-socket and through --http', () => {
  let tsgi: TsgiHandle;
  const fronts: Record<string, number> = {};
  let uwsgiPort = 0;

  before(async () => {
    // One worker serves all three sockets; the router forwards to the --socket given.
    tsgi = await startTsgi([
      '--http',
      '127.0.0.1:0',
      '--socket',
      '127.0.0.1:0',
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      APP,
    ]);
    await tsgi.waitFor(/spawned tsgi http router thread/);
    const m = /tsgi http bound on 127\.0\.0\.1:(\d+)/.exec(tsgi.output());
    assert.ok(m, 'the router logs the address it is bound on');
    const bound = (proto: string): number =>
      Number(new RegExp(`bound to TCP address 127\\.0\\.0\\.1:(\\d+) \\(${proto}\\)`).exec(tsgi.output())![1]);
    uwsgiPort = bound('uwsgi');
    fronts['--http-socket'] = bound('http');
    fronts['--http'] = Number(m[1]);
  });
  after(async () => {
    await tsgi.stop('SIGINT');
  });

  /** Sends one request on its own connection to each HTTP front end; returns their answers. */
  async function onBoth(request: string | Buffer): Promise<Record<string, Answer>> {
    const out: Record<string, Answer> = {};
    for (const [name, port] of Object.entries(fronts)) {
      const r = await rawExchange({ port }, [request], { timeoutMs: 10000 });
      const [res] = parseResponses(r.data);
      out[name] = { status: res?.status ?? 0, body: res?.body ?? '' };
    }
    return out;
  }

  function sameStatus(answers: Record<string, Answer>, status: number, what: string): void {
    for (const [name, a] of Object.entries(answers)) assert.equal(a.status, status, `${what} on ${name}: ${a.body}`);
  }

  const sum = (s: string): number => [...s].reduce((a, c) => a + c.charCodeAt(0), 0);

  test('an absolute-form target is served: PATH_INFO and REQUEST_URI are its path, HTTP_HOST its authority', async () => {
    const answers = await onBoth(
      'GET http://example.test:8080/vars?x=1 HTTP/1.1\r\nHost: other.test\r\nConnection: close\r\n\r\n',
    );
    sameStatus(answers, 200, 'GET http://example.test:8080/vars?x=1');
    for (const [name, a] of Object.entries(answers)) {
      const vars = JSON.parse(a.body) as Record<string, string>;
      assert.equal(vars.PATH_INFO, '/vars', name);
      assert.equal(vars.REQUEST_URI, '/vars?x=1', name);
      assert.equal(vars.QUERY_STRING, 'x=1', name);
      assert.equal(vars.HTTP_HOST, 'example.test:8080', `${name}: the target's authority replaces Host`);
      assert.equal(vars.SERVER_NAME, 'example.test', name);
    }
  });

  test('an absolute-form target without a path is the root, and one with userinfo is refused', async () => {
    const root = await onBoth(
      'OPTIONS http://example.test?q HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n',
    );
    sameStatus(root, 200, 'OPTIONS http://example.test?q');
    for (const [name, a] of Object.entries(root)) {
      const vars = JSON.parse(a.body) as Record<string, string>;
      assert.equal(vars.PATH_INFO, '/', name);
      assert.equal(vars.REQUEST_URI, '/?q', name);
      assert.equal(vars.QUERY_STRING, 'q', name);
    }
    sameStatus(
      await onBoth('GET http://u@example.test/ HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n'),
      400,
      'userinfo',
    );
  });

  test('OPTIONS * is passed to the app with an empty PATH_INFO and REQUEST_URI "*"; GET * is refused', async () => {
    const answers = await onBoth('OPTIONS * HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n');
    sameStatus(answers, 200, 'OPTIONS *');
    for (const [name, a] of Object.entries(answers)) {
      const vars = JSON.parse(a.body) as Record<string, string>;
      assert.equal(vars.PATH_INFO, '', name);
      assert.equal(vars.REQUEST_URI, '*', name);
      assert.equal(vars.HTTP_HOST, 'example.test', name);
    }
    sameStatus(await onBoth('GET * HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n'), 400, 'GET *');
  });

  test('leading zeros in a chunk size do not count toward its overflow', async () => {
    const answers = await onBoth(
      'POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
        '000000000000000005\r\nhello\r\n0000000000000000000000\r\n\r\n',
    );
    sameStatus(answers, 200, 'chunk size 000000000000000005');
    for (const a of Object.values(answers)) assert.equal(a.body, `5 ${sum('hello')}`);
    sameStatus(
      await onBoth(
        'POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
          '10000000000000000\r\n',
      ),
      413,
      'a chunk size over 64 bits',
    );
  });

  test('Content-Length with leading zeros is its value; one over 64 bits is refused', async () => {
    const answers = await onBoth(
      'POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 00000000000000000005\r\nConnection: close\r\n\r\nhello',
    );
    sameStatus(answers, 200, 'Content-Length: 00000000000000000005');
    for (const a of Object.values(answers)) assert.equal(a.body, `5 ${sum('hello')}`);
    sameStatus(
      await onBoth(
        'POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551616\r\nConnection: close\r\n\r\n',
      ),
      400,
      'Content-Length 2^64',
    );
  });

  test('a uwsgi CONTENT_LENGTH with leading zeros is its value too', async () => {
    const pkt = uwsgiPacket(
      [
        ['REQUEST_METHOD', 'POST'],
        ['REQUEST_URI', '/count'],
        ['PATH_INFO', '/count'],
        ['CONTENT_LENGTH', '00000000000000000005'],
        ['SERVER_PROTOCOL', 'HTTP/1.1'],
      ],
      'hello',
    );
    const r = await rawExchange({ port: uwsgiPort }, [pkt], { timeoutMs: 10000 });
    const [res] = parseResponses(r.data);
    assert.equal(res?.status, 200);
    assert.equal(res?.body, `5 ${sum('hello')}`);
  });

  test('a request line longer than the buffer is 414, a header section longer than it 431', async () => {
    sameStatus(
      await onBoth(`GET /${'a'.repeat(8200)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
      414,
      'an 8,200-byte URI',
    );
    sameStatus(
      await onBoth(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8200)}\r\nConnection: close\r\n\r\n`),
      431,
      'an 8,200-byte header',
    );
  });
});
