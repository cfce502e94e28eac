// The lightweight global Response and the fetch exchange's answers (with the globals tsgi
// installs before loading an app).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetchStats } from '../../src/app/fetch';
import { installFetchGlobals } from '../../src/app/fetch-globals';
import { GlobalResponse } from '../../src/app/fetch-response';
import { FakeServer, httpVars, settle, until } from './helpers/fake-native';

installFetchGlobals();

const HasContentLength = 1;
const ConnectionClose = 2;
const HasTransferEncoding = 4;

function lines(block: string | undefined): string[] {
  return (block ?? '').split('\r\n').filter((l) => l.length > 0);
}

test('new Response(string) is answered in the same turn with one respond and no undici Response', () => {
  const before = fetchStats.responsesMaterialized;
  const s = FakeServer.fetch(() => new Response('Hello World'));
  const id = s.request();
  const r = s.transport.rec(id);
  assert.equal(r.ended, true, 'answered before onRequest returned');
  assert.deepEqual(s.transport.callNames(id), ['respond']);
  assert.equal(r.status, '200 OK');
  assert.deepEqual(lines(r.headers), ['Content-Type: text/plain; charset=UTF-8']);
  assert.equal(s.transport.body(id), 'Hello World');
  assert.equal(fetchStats.responsesMaterialized, before);
});

test('header names keep the case of a plain object; a Headers init gives lower case', () => {
  const a = FakeServer.fetch(
    () =>
      new Response('{}', {
        status: 201,
        headers: { 'Content-Type': 'application/json', 'X-Id': 7 as unknown as string },
      }),
  );
  const ida = a.request();
  assert.equal(a.transport.rec(ida).status, '201 Created');
  assert.deepEqual(lines(a.transport.rec(ida).headers), ['Content-Type: application/json', 'X-Id: 7']);

  const b = FakeServer.fetch(() => new Response('x', { headers: new Headers({ 'X-Id': ' padded ' }) }));
  const idb = b.request();
  assert.deepEqual(lines(b.transport.rec(idb).headers), ['x-id: padded', 'Content-Type: text/plain; charset=UTF-8']);
});

test('bytes, ArrayBuffer and null bodies go out whole; null gets no default Content-Type', () => {
  const s = FakeServer.fetch((req) => {
    const p = new URL(req.url).pathname;
    if (p === '/bytes') return new Response(new TextEncoder().encode('bytes'));
    if (p === '/ab') return new Response(new TextEncoder().encode('abuf').buffer);
    return new Response(null, { status: 204 });
  });
  const ids = ['/bytes', '/ab', '/none'].map((p) => s.request(httpVars('GET', p)));
  assert.equal(s.transport.body(ids[0]!), 'bytes');
  assert.equal(s.transport.body(ids[1]!), 'abuf');
  assert.deepEqual(lines(s.transport.rec(ids[0]!).headers), []);
  assert.equal(s.transport.rec(ids[2]!).status, '204 No Content');
  assert.deepEqual(lines(s.transport.rec(ids[2]!).headers), []);
});

test('hop-by-hop headers from the app are dropped and never make native pass a body through', () => {
  const s = FakeServer.fetch(
    () =>
      new Response('data: 1\n\n', {
        headers: {
          'Content-Type': 'text/event-stream',
          'Transfer-Encoding': 'chunked',
          Connection: 'keep-alive',
          'Keep-Alive': 'timeout=5',
          'Proxy-Connection': 'keep-alive',
          Upgrade: 'h2c',
          Trailer: 'x-checksum',
          TE: 'trailers',
        },
      }),
  );
  const id = s.request();
  const r = s.transport.rec(id);
  assert.deepEqual(lines(r.headers), ['Content-Type: text/event-stream']);
  assert.equal(r.flags! & (HasTransferEncoding | ConnectionClose), 0);
});

test('Connection: close from the app closes after the response and is said once', () => {
  const s = FakeServer.fetch(
    () =>
      new Response('bye', {
        headers: [
          ['connection', 'Close'],
          ['Connection', 'close, x'],
        ],
      }),
  );
  const id = s.request();
  const r = s.transport.rec(id);
  assert.deepEqual(lines(r.headers), ['Connection: close', 'Content-Type: text/plain; charset=UTF-8']);
  assert.equal(r.flags! & ConnectionClose, ConnectionClose);
});

test('the full Response API works on the lightweight Response', async () => {
  const r = new Response('body text', { status: 202, statusText: 'Taken', headers: { 'X-A': '1' } });
  assert.ok(r instanceof Response);
  assert.ok(r instanceof GlobalResponse);
  assert.ok((await fetchLike()) instanceof Response, 'undici Responses are Responses');
  assert.equal(r.status, 202);
  assert.equal(r.statusText, 'Taken');
  assert.equal(r.ok, true);
  assert.equal(r.headers.get('x-a'), '1');
  assert.equal(r.headers.get('content-type'), 'text/plain; charset=UTF-8');
  const copy = r.clone();
  assert.equal(await copy.text(), 'body text');
  assert.equal(r.bodyUsed, false);
  const reader = r.body!.getReader();
  const first = await reader.read();
  assert.equal(new TextDecoder().decode(first.value), 'body text');

  const j = Response.json({ a: [1] }, { status: 200, headers: { 'x-b': '2' } });
  assert.equal(j.headers.get('content-type'), 'application/json');
  assert.deepEqual(await j.json(), { a: [1] });

  const redirect = Response.redirect('http://example.com/next', 301);
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.get('location'), 'http://example.com/next');
  assert.throws(() => Response.redirect('http://example.com/', 200), RangeError);
  assert.equal(Response.error().type, 'error');

  assert.throws(() => new Response('x', { status: 99 }), RangeError);
  assert.throws(() => new Response('x', { status: 204 }), TypeError);
  assert.throws(() => new Response('x', { headers: { 'bad name': 'v' } }), TypeError);
  const form = new Response(new URLSearchParams('a=1'));
  assert.equal(form.headers.get('content-type'), 'application/x-www-form-urlencoded;charset=UTF-8');

  class Sub extends Response {
    extra(): string {
      return 'sub';
    }
  }
  const sub = new Sub('s');
  assert.ok(sub instanceof Sub && sub instanceof Response);
  assert.equal(sub.extra(), 'sub');
  assert.equal(await sub.text(), 's');
});

async function fetchLike(): Promise<unknown> {
  return new GlobalResponse('real');
}

test('headers changed through response.headers are what goes out', () => {
  const s = FakeServer.fetch(() => {
    const res = new Response('x', { headers: { 'x-old': '1' } });
    res.headers.set('x-new', '2');
    res.headers.append('set-cookie', 'a=1');
    res.headers.append('set-cookie', 'b=2');
    return res;
  });
  const id = s.request();
  assert.deepEqual(lines(s.transport.rec(id).headers), [
    'content-type: text/plain; charset=UTF-8',
    'x-new: 2',
    'x-old: 1',
    'set-cookie: a=1',
    'set-cookie: b=2',
  ]);
  assert.equal(s.transport.body(id), 'x');
});

test('a response whose body the app read is sent from the real Response', async () => {
  const s = FakeServer.fetch(async () => {
    const res = new Response('twice');
    await res.clone().text();
    return res;
  });
  const id = s.request();
  await until(() => s.transport.rec(id).ended, 'response');
  assert.equal(s.transport.body(id), 'twice');
  assert.match(s.transport.rec(id).headers!, /content-type: text\/plain; charset=UTF-8/);
});

test('HEAD sends the length a GET would get, or none: never a wrong Content-Length', async () => {
  const s = FakeServer.fetch((req) => {
    const p = new URL(req.url).pathname;
    if (p === '/text') return new Response('12345');
    if (p === '/null') return new Response(null, { headers: { 'content-type': 'text/plain' } });
    return new Response(
      new ReadableStream({
        pull(c) {
          c.enqueue(new Uint8Array(1));
        },
        cancel() {
          cancelled = true;
        },
      }),
    );
  });
  let cancelled = false;
  const head = (p: string): number => s.request(httpVars('HEAD', p));
  const text = head('/text');
  assert.equal(s.transport.body(text), '12345', 'the body goes to native, which sends its length and drops it');
  assert.equal(s.transport.rec(text).flags! & HasContentLength, 0);
  const none = head('/null');
  assert.equal(s.transport.rec(none).flags! & HasContentLength, HasContentLength, 'native adds no Content-Length');
  assert.equal(s.transport.body(none), '');
  const stream = head('/stream');
  await until(() => cancelled, 'stream cancelled');
  assert.deepEqual(s.transport.callNames(stream), ['respond']);
  assert.equal(s.transport.rec(stream).flags! & HasContentLength, HasContentLength);
});

test('every enqueued chunk of a stream is written when it is enqueued, not when the next one is', async () => {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const s = FakeServer.fetch(
    () =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(c) {
            controller = c;
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      ),
  );
  const id = s.request();
  await until(() => s.transport.callNames(id).includes('writeHead'), 'head sent before any event');
  controller.enqueue(new TextEncoder().encode('data: 1\n\n'));
  await until(() => s.transport.body(id) === 'data: 1\n\n', 'first event written');
  assert.equal(s.transport.rec(id).ended, false);
  controller.enqueue(new TextEncoder().encode('data: 2\n\n'));
  await until(() => s.transport.body(id) === 'data: 1\n\ndata: 2\n\n', 'second event written');
  controller.close();
  await until(() => s.transport.rec(id).ended, 'end');
  assert.deepEqual(s.transport.callNames(id), ['writeHead', 'write', 'write', 'end']);
});

test('a stream whose chunks are all available at once is gathered into one respond', async () => {
  const s = FakeServer.fetch(
    () =>
      new Response(
        new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode('a'));
            c.enqueue('b');
            c.close();
          },
        }),
      ),
  );
  const id = s.request();
  await until(() => s.transport.rec(id).ended, 'response');
  assert.deepEqual(s.transport.callNames(id), ['respond']);
  assert.equal(s.transport.body(id), 'ab');
});

test('a Blob body goes out whole with the Blob type', async () => {
  const s = FakeServer.fetch(() => new Response(new Blob(['<p>'], { type: 'text/html' })));
  const id = s.request();
  await until(() => s.transport.rec(id).ended, 'response');
  assert.deepEqual(lines(s.transport.rec(id).headers), ['Content-Type: text/html']);
  assert.equal(s.transport.body(id), '<p>');
});

test('request headers carry Content-Type and Content-Length once', async () => {
  let got: Record<string, string> = {};
  const s = FakeServer.fetch(async (req) => {
    got = Object.fromEntries(req.headers);
    return new Response(JSON.stringify(await req.json()));
  });
  const body = '{"a":1}';
  const id = s.request(
    httpVars('POST', '/', [
      ['CONTENT_TYPE', 'application/json'],
      ['CONTENT_LENGTH', '7'],
      ['HTTP_CONTENT_TYPE', 'application/json'],
      ['HTTP_CONTENT_LENGTH', '7'],
    ]),
    { body },
  );
  await until(() => s.transport.rec(id).ended, 'response');
  assert.equal(got['content-type'], 'application/json');
  assert.equal(got['content-length'], '7');
  assert.equal(s.transport.body(id), body);
});

test('new Request() accepts the lazy request as input or init', async () => {
  let copied = '';
  let method = '';
  const s = FakeServer.fetch(async (req) => {
    const a = new Request(req);
    method = a.method;
    const b = new Request('http://other.example/x', a);
    copied = await b.text();
    return new Response(b.url);
  });
  const id = s.request(httpVars('PUT', '/orig', [['CONTENT_LENGTH', '4']]), { body: 'data' });
  await until(() => s.transport.rec(id).ended, 'response');
  assert.equal(method, 'PUT');
  assert.equal(copied, 'data');
  assert.equal(s.transport.body(id), 'http://other.example/x');
});

test('an async handler returning the lightweight Response is answered after it resolves', async () => {
  const s = FakeServer.fetch(async () => {
    await settle();
    return new Response('later', { status: 404 });
  });
  const id = s.request();
  assert.equal(s.transport.rec(id).ended, false);
  await until(() => s.transport.rec(id).ended, 'response');
  assert.equal(s.transport.rec(id).status, '404 Not Found');
  assert.equal(s.transport.body(id), 'later');
});
