// A Hono app served by the real CLI: the answers @hono/node-server gives for the same routes
// (test/fixtures/apps/fetch-hono.mjs), framing included.

import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { APPS, startTsgi, type TsgiHandle } from './helpers/tsgi';

let tsgi: TsgiHandle;
let port = 0;
/** Keep-alive, so a response framed wrongly also breaks the next one on the connection. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

before(async () => {
  // --async 8: the SSE and abort routes wait for a second request while holding their own.
  tsgi = await startTsgi([
    '--http-socket',
    '127.0.0.1:0',
    '--wsgi-file',
    path.join(APPS, 'fetch-hono.mjs'),
    '--callable',
    'app',
    '--async',
    '8',
    '--disable-logging',
  ]);
  port = tsgi.ports[0]!;
});

after(async () => {
  agent.destroy();
  await tsgi.stop();
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  raw: string[];
  body: string;
}

/** One request through node's own client, whose parser refuses invalid framing. */
function request(
  method: string,
  urlPath: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, raw: res.rawHeaders, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('c.text() sends Content-Type exactly as @hono/node-server does', async () => {
  const r = await request('GET', '/');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/plain; charset=UTF-8');
  assert.equal(r.headers['content-length'], '11');
  assert.equal(r.body, 'Hello World');
  const j = await request('GET', '/json');
  assert.equal(j.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(j.body), { message: 'Hello World', n: 1 });
});

test('the request carries Content-Type and Content-Length once, so validator("json") and parseBody() work', async () => {
  const json = '{"a":[1,2]}';
  const v = await request('POST', '/validate', json, { 'content-type': 'application/json' });
  assert.equal(v.status, 200, v.body);
  assert.deepEqual(JSON.parse(v.body), { got: { a: [1, 2] } });

  const g = await request('GET', '/headers', undefined, { 'content-type': 'application/json', 'content-length': '0' });
  const seen = JSON.parse(g.body) as Record<string, string>;
  assert.equal(seen['content-type'], 'application/json');
  assert.equal(seen['content-length'], '0');

  const form = await request('POST', '/form', 'a=1&b=two+words', {
    'content-type': 'application/x-www-form-urlencoded',
  });
  assert.deepEqual(JSON.parse(form.body), { a: '1', b: 'two words' });
});

test('request.formData() reads a multipart body', async () => {
  const fd = new FormData();
  fd.set('name', 'tsgi');
  fd.set('file', new Blob(['file contents'], { type: 'text/plain' }), 'notes.txt');
  const encoded = new Response(fd);
  const type = encoded.headers.get('content-type')!;
  const body = Buffer.from(await encoded.arrayBuffer());
  const r = await request('POST', '/multipart', body, { 'content-type': type });
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(JSON.parse(r.body), { name: 'tsgi', file: ['notes.txt', 'file contents'] });
});

test("streamText() gets valid chunked framing, without the app's own Transfer-Encoding doubled", async () => {
  const r = await request('GET', '/stream-text');
  assert.equal(r.body, 'one two');
  const te = r.raw.filter((_, i) => i % 2 === 0 && r.raw[i]!.toLowerCase() === 'transfer-encoding');
  assert.equal(te.length, 1);
  assert.equal(r.headers['transfer-encoding'], 'chunked');
  assert.equal(r.headers['connection'], undefined, 'no Connection: keep-alive from the app');
});

test('each SSE event reaches the client before the app produces the next one', async () => {
  const key = 'k' + process.pid;
  const events: string[] = [];
  let onEvent: (() => void) | null = null;
  const waitEvents = (n: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error('events so far: ' + JSON.stringify(events))), 10000);
      const check = (): void => {
        if (events.length >= n) {
          clearTimeout(deadline);
          onEvent = null;
          resolve();
        } else {
          onEvent = check;
        }
      };
      check();
    });
  let ended!: () => void;
  const done = new Promise<void>((resolve) => (ended = resolve));
  let headers: http.IncomingHttpHeaders = {};
  const req = http.get({ host: '127.0.0.1', port, path: '/sse?k=' + key, agent: false }, (res) => {
    headers = res.headers;
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        events.push(buf.slice(0, i));
        buf = buf.slice(i + 2);
        onEvent?.();
      }
    });
    res.on('end', ended);
  });
  req.on('error', (e) => assert.fail(e));
  await waitEvents(1);
  assert.match(events[0]!, /data: event 1/);
  assert.equal(headers['content-type'], 'text/event-stream');
  assert.equal(headers['transfer-encoding'], 'chunked');
  assert.equal((await request('POST', `/sse-ack?k=${key}&i=1`)).body, 'ok');
  await waitEvents(2);
  assert.match(events[1]!, /data: event 2/);
  assert.equal((await request('POST', `/sse-ack?k=${key}&i=2`)).body, 'ok');
  await done;
  assert.equal(events.length, 3);
  assert.match(events[2]!, /data: event 3/);
});

test('HEAD sends the Content-Length a GET would get, or none: never 0 for a non-empty body', async () => {
  const get = await request('GET', '/');
  const head = await request('HEAD', '/');
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-type'], get.headers['content-type']);
  const cl = head.headers['content-length'];
  assert.ok(cl === undefined || cl === get.headers['content-length'], 'HEAD Content-Length: ' + cl);
  assert.equal(head.body, '');
  // The connection is still usable after the HEAD response (no body bytes were expected).
  const again = await request('GET', '/json');
  assert.equal(again.status, 200);
});

test('request.signal aborts at the client FIN while a handler writes nothing, and a half-closed client still reads the answer', async () => {
  const sock = net.connect(port, '127.0.0.1');
  let seen = '';
  sock.on('data', (d: Buffer) => (seen += d.toString('latin1')));
  const ended = new Promise<void>((resolve) => {
    sock.on('end', resolve);
    sock.on('close', resolve);
  });
  sock.write('GET /long-poll HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal((await request('GET', '/long-poll-started')).body, '1');
  sock.end();
  const r = await request('GET', '/long-poll-aborted');
  assert.equal(r.body, '1');
  await ended;
  assert.match(seen, /^HTTP\/1\.1 200 /);
  assert.match(seen, /\r\n\r\ngone$/);
  sock.destroy();
});

test('request.signal aborts when the client goes away', async () => {
  const sock = net.connect(port, '127.0.0.1');
  sock.write('GET /wait-abort HTTP/1.1\r\nHost: x\r\n\r\n');
  let seen = '';
  await new Promise<void>((resolve) => {
    sock.on('data', (d: Buffer) => {
      seen += d.toString('latin1');
      if (seen.includes('waiting')) resolve();
    });
  });
  sock.destroy();
  const r = await request('GET', '/aborted');
  assert.equal(r.body, '1');
});
