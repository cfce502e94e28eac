import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetchStats, requestUrl } from '../../src/app/fetch';
import { FakeServer, httpVars, settle, Uwsgi, until } from './helpers/fake-native';

test('the request is an instanceof Request with method and url', async () => {
  let seen: Request | undefined;
  const s = FakeServer.fetch((req) => {
    seen = req;
    return new Response('ok');
  });
  const id = s.request(httpVars('GET', '/path?x=1'));
  await until(() => s.transport.rec(id).ended, 'response');
  assert.ok(seen instanceof Request);
  assert.equal(seen!.method, 'GET');
  assert.equal(seen!.url, 'http://localhost:9090/path?x=1');
});

test('reading only the url builds no Headers and no real Request', async () => {
  const before = { ...fetchStats };
  const s = FakeServer.fetch((req) => new Response(new URL(req.url).pathname));
  const id = s.request(httpVars('GET', '/only-url'));
  await until(() => s.transport.rec(id).ended, 'response');
  assert.equal(s.transport.body(id), '/only-url');
  assert.equal(fetchStats.headersBuilt, before.headersBuilt);
  assert.equal(fetchStats.requestsMaterialized, before.requestsMaterialized);
});

test('headers are built from the environ on first access', async () => {
  let got: Record<string, string> = {};
  const s = FakeServer.fetch((req) => {
    got = Object.fromEntries(req.headers);
    return new Response(null, { status: 204 });
  });
  const id = s.request(
    httpVars('POST', '/', [
      ['HTTP_X_CUSTOM_THING', 'v'],
      ['CONTENT_TYPE', 'text/plain'],
    ]),
  );
  await until(() => s.transport.rec(id).ended, 'response');
  assert.equal(got['x-custom-thing'], 'v');
  assert.equal(got['host'], 'localhost:9090');
  assert.equal(got['content-type'], 'text/plain');
  assert.equal(s.transport.rec(id).status, '204 No Content');
});

test('the url falls back to SERVER_NAME:SERVER_PORT and uses the uwsgi scheme', () => {
  assert.equal(
    requestUrl({ 'tsgi.url_scheme': 'https', SERVER_NAME: 'example.org', SERVER_PORT: '8443', REQUEST_URI: '/a' }),
    'https://example.org:8443/a',
  );
  assert.equal(
    requestUrl({
      'tsgi.url_scheme': 'https',
      SERVER_NAME: 'example.org',
      SERVER_PORT: '443',
      PATH_INFO: '/p',
      QUERY_STRING: 'q=1',
    }),
    'https://example.org/p?q=1',
  );
  assert.equal(requestUrl({ 'tsgi.url_scheme': 'http', HTTP_HOST: 'h', REQUEST_URI: '/x' }), 'http://h/x');
});

test('body methods read tsgi.input: text, json, arrayBuffer, blob, formData', async () => {
  const results: Record<string, unknown> = {};
  const s = FakeServer.fetch(async (req) => {
    const ct = req.headers.get('content-type') ?? '';
    if (ct === 'application/json') results[ct] = await req.json();
    else if (ct === 'application/x-www-form-urlencoded') results[ct] = (await req.formData()).get('a');
    else if (ct === 'application/octet-stream') results[ct] = new TextDecoder().decode(await req.arrayBuffer());
    else if (ct === 'text/blob') results[ct] = await (await req.blob()).text();
    else results[ct] = await req.text();
    return new Response('done');
  });
  const post = (ct: string, body: string) =>
    s.request(
      httpVars('POST', '/', [
        ['CONTENT_TYPE', ct],
        ['CONTENT_LENGTH', String(body.length)],
      ]),
      { body },
    );
  const ids = [
    post('text/plain', 'plain'),
    post('application/json', '{"k":1}'),
    post('application/x-www-form-urlencoded', 'a=b%20c'),
    post('application/octet-stream', 'bytes'),
    post('text/blob', 'blobby'),
  ];
  await until(() => ids.every((id) => s.transport.rec(id).ended), 'responses');
  assert.deepEqual(results, {
    'text/plain': 'plain',
    'application/json': { k: 1 },
    'application/x-www-form-urlencoded': 'b c',
    'application/octet-stream': 'bytes',
    'text/blob': 'blobby',
  });
});

test('request.body streams a body that arrives in pieces', async () => {
  let text = '';
  const s = FakeServer.fetch(async (req) => {
    const reader = req.body!.getReader();
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      text += new TextDecoder().decode(r.value);
    }
    return new Response('ok');
  });
  const id = s.request(httpVars('PUT', '/'), { streaming: true });
  s.data(id, 'ab');
  await settle();
  s.data(id, 'cd');
  s.endBody(id);
  await until(() => s.transport.rec(id).ended, 'response');
  assert.equal(text, 'abcd');
});

test('a GET request has a null body and reading the body twice fails', async () => {
  let body: unknown = 'unset';
  let second: unknown;
  const s = FakeServer.fetch(async (req) => {
    body = req.body;
    await req.text();
    try {
      await req.text();
    } catch (err) {
      second = err;
    }
    return new Response('ok');
  });
  const id = s.request(httpVars('GET', '/'));
  await until(() => s.transport.rec(id).ended, 'response');
  assert.equal(body, null);
  assert.ok(second instanceof TypeError);
});

test('other Request members materialise a real Request', async () => {
  let cache: string | undefined;
  let clonedUrl: string | undefined;
  const before = fetchStats.requestsMaterialized;
  const s = FakeServer.fetch((req) => {
    cache = req.cache;
    clonedUrl = req.clone().url;
    return new Response('ok');
  });
  const id = s.request(httpVars('GET', '/m'));
  await until(() => s.transport.rec(id).ended, 'response');
  assert.equal(cache, 'default');
  assert.equal(clonedUrl, 'http://localhost:9090/m');
  assert.equal(fetchStats.requestsMaterialized, before + 1);
});

test('a small Response is sent in one respond call with status and headers', async () => {
  const s = FakeServer.fetch(
    () => new Response('hello', { status: 201, headers: { 'X-Thing': 'y', 'content-type': 'text/plain' } }),
  );
  const id = s.request();
  await until(() => s.transport.rec(id).ended, 'response');
  assert.deepEqual(s.transport.callNames(id), ['respond']);
  const r = s.transport.rec(id);
  assert.equal(r.status, '201 Created');
  assert.match(r.headers!, /x-thing: y\r\n/);
  assert.match(r.headers!, /content-type: text\/plain\r\n/);
  assert.equal(s.transport.body(id), 'hello');
});

test('a custom statusText is kept', async () => {
  const s = FakeServer.fetch(() => new Response('x', { status: 418, statusText: 'Short And Stout' }));
  const id = s.request();
  await until(() => s.transport.rec(id).ended, 'response');
  assert.equal(s.transport.rec(id).status, '418 Short And Stout');
});

test('every Set-Cookie value is sent as its own header', async () => {
  const s = FakeServer.fetch(() => {
    const h = new Headers();
    h.append('Set-Cookie', 'a=1; Path=/');
    h.append('Set-Cookie', 'b=2, with comma; Expires=Wed, 21 Oct 2015 07:28:00 GMT');
    return new Response('c', { headers: h });
  });
  const id = s.request();
  await until(() => s.transport.rec(id).ended, 'response');
  const lines = s.transport
    .rec(id)
    .headers!.split('\r\n')
    .filter((l) => l.startsWith('set-cookie'));
  assert.deepEqual(lines, [
    'set-cookie: a=1; Path=/',
    'set-cookie: b=2, with comma; Expires=Wed, 21 Oct 2015 07:28:00 GMT',
  ]);
});

test('a streaming Response body is written chunk by chunk with back-pressure', async () => {
  // 64 KiB chunks: more than the exchange gathers into one respond() before streaming.
  const size = 64 * 1024;
  let pulls = 0;
  const s = FakeServer.fetch(() => {
    const stream = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulls++;
          if (pulls > 4) controller.close();
          else controller.enqueue(new Uint8Array(size).fill(48 + pulls));
        },
      },
      { highWaterMark: 0 },
    );
    return new Response(stream);
  });
  s.transport.writeResult = false;
  const id = s.request();
  await until(() => s.transport.callNames(id).includes('write'), 'first write');
  await settle();
  await settle();
  const writesBefore = s.transport.callNames(id).filter((n) => n === 'write').length;
  assert.equal(writesBefore, 1);
  s.transport.writeResult = true;
  s.dispatcher.onDrain(id);
  await until(() => s.transport.rec(id).ended, 'end');
  assert.equal(s.transport.body(id), '1'.repeat(size) + '2'.repeat(size) + '3'.repeat(size) + '4'.repeat(size));
  assert.deepEqual(s.transport.callNames(id), ['writeHead', 'write', 'write', 'write', 'write', 'end']);
});

test('a throw or a non-Response return gives a 500 and a log line', async () => {
  const thrower = FakeServer.fetch(() => {
    throw new Error('fetch kaboom');
  });
  const a = thrower.request();
  assert.equal(thrower.transport.rec(a).status, '500 Internal Server Error');
  assert.match(thrower.transport.logs.join('\n'), /fetch kaboom/);

  const wrong = FakeServer.fetch(() => 'not a response' as unknown as Response);
  const b = wrong.request();
  await until(() => wrong.transport.rec(b).ended, '500');
  assert.equal(wrong.transport.rec(b).status, '500 Internal Server Error');
  assert.match(wrong.transport.logs.join('\n'), /expected a Response/);
});

test('a client abort fires request.signal and cancels the response body', async () => {
  let signal: AbortSignal | undefined;
  let cancelled = false;
  const s = FakeServer.fetch((req) => {
    signal = req.signal;
    return new Response(
      new ReadableStream({
        pull(c) {
          c.enqueue(new Uint8Array(10));
        },
        cancel() {
          cancelled = true;
        },
      }),
    );
  });
  s.transport.writeResult = false;
  const id = s.request();
  await until(() => s.transport.callNames(id).includes('write'), 'write');
  s.dispatcher.onAbort(id, 99);
  await settle();
  assert.equal(signal!.aborted, true);
  assert.equal(cancelled, true);
  assert.equal(s.dispatcher.inFlight, 0);
});

test('fetch handlers get the uwsgi scheme in the url', async () => {
  let url = '';
  const s = FakeServer.fetch((req) => {
    url = req.url;
    return new Response('');
  });
  s.request(
    [
      ['REQUEST_METHOD', 'GET'],
      ['REQUEST_URI', '/s'],
      ['HTTP_HOST', 'ex.com'],
      ['HTTPS', 'on'],
    ],
    { flags: Uwsgi },
  );
  await settle();
  assert.equal(url, 'https://ex.com/s');
});
