import assert from 'node:assert/strict';
import { test } from 'node:test';
import { INPUT_HIGH_WATER_MARK, type TsgiInput } from '../../src/app/input';
import { FakeServer, httpVars, settle, until } from './helpers/fake-native';

const dec = new TextDecoder();

/** A server whose app grabs tsgi.input and answers at once (reads happen in the test). */
function capture(opts: { body?: string; streaming?: boolean; respond?: boolean } = {}) {
  let input: TsgiInput | undefined;
  const s = FakeServer.gateway((env, sr) => {
    input = env['tsgi.input'] as TsgiInput;
    if (opts.respond !== false) {
      sr('200 OK', []);
      return 'ok';
    }
    return new Promise(() => {}); // never answers
  });
  const id = s.request(httpVars('POST', '/upload'), { body: opts.body, streaming: opts.streaming });
  return { s, id, input: input! };
}

test('a whole body given with the request is read by text(), json() and arrayBuffer()', async () => {
  assert.equal(await capture({ body: 'héllo' }).input.text(), 'héllo');
  assert.deepEqual(await capture({ body: '{"a":[1,2]}' }).input.json(), { a: [1, 2] });
  const ab = await capture({ body: 'abc' }).input.arrayBuffer();
  assert.ok(ab instanceof ArrayBuffer);
  assert.equal(dec.decode(ab), 'abc');
});

test('read() with no size returns everything that is left, then empty at EOF', async () => {
  const { s, id, input } = capture({ streaming: true, respond: false });
  s.data(id, 'one,');
  s.data(id, 'two');
  const all = input.read();
  await settle();
  s.data(id, ',three');
  s.endBody(id);
  assert.equal(dec.decode(await all), 'one,two,three');
  assert.equal((await input.read()).byteLength, 0);
});

test('read(n) resolves to at most n bytes as soon as some are available', async () => {
  const { s, id, input } = capture({ body: undefined, streaming: true, respond: false });
  const pending = input.read(4);
  await settle();
  s.data(id, 'abcdefgh');
  assert.equal(dec.decode(await pending), 'abcd');
  assert.equal(dec.decode(await input.read(100)), 'efgh');
  s.endBody(id);
  assert.equal((await input.read(10)).byteLength, 0);
});

test('async iteration yields chunks in order and ends with the body', async () => {
  const { s, id, input } = capture({ streaming: true, body: 'first', respond: false });
  const got: string[] = [];
  const done = (async () => {
    for await (const chunk of input) got.push(dec.decode(chunk));
  })();
  await settle();
  s.data(id, 'second');
  await settle();
  s.data(id, 'third');
  s.endBody(id);
  await done;
  assert.deepEqual(got, ['first', 'second', 'third']);
});

test('a truncated body makes pending and later reads reject with the cause', async () => {
  const { s, id, input } = capture({ streaming: true, respond: false });
  s.data(id, 'partial');
  const pending = input.text();
  await settle();
  s.bodyError(id, 33);
  await assert.rejects(pending, (err: Error & { code?: string }) => {
    assert.match(err.message, /truncated/);
    assert.equal(err.code, 'HTTP_TRUNCATED_BODY');
    return true;
  });
  await assert.rejects(input.read(1), /truncated/);
});

test('a body timeout makes reads reject naming the timeout', async () => {
  const { s, id, input } = capture({ streaming: true, respond: false });
  s.bodyError(id, 32);
  await assert.rejects(input.read(), /timed out.*socket-timeout/);
});

test('a client abort while the app waits for the body rejects the read', async () => {
  const { s, id, input } = capture({ streaming: true, respond: false });
  const pending = input.read();
  s.dispatcher.onAbort(id, 99);
  await assert.rejects(pending, /client closed the connection/);
  assert.equal(s.dispatcher.inFlight, 0);
});

test('buffered bytes above the high-water mark pause input; reading below it resumes', async () => {
  const { s, id, input } = capture({ streaming: true, respond: false });
  const chunk = new Uint8Array(16 * 1024);
  for (let i = 0; i < 5; i++) s.data(id, chunk);
  assert.deepEqual(s.transport.callNames(id), ['pauseInput']);
  await input.read(INPUT_HIGH_WATER_MARK);
  assert.deepEqual(s.transport.callNames(id), ['pauseInput', 'resumeInput']);
});

test('a large upload read chunk by chunk never holds more than about the high-water mark', async () => {
  let input: TsgiInput | undefined;
  let total = 0;
  let maxBuffered = 0;
  const s = FakeServer.gateway(async (env, sr) => {
    input = env['tsgi.input'] as TsgiInput;
    for await (const c of input) total += c.byteLength;
    sr('200 OK', []);
    return String(total);
  });
  const id = s.request(httpVars('POST', '/'), { streaming: true });
  const chunk = new Uint8Array(64 * 1024);
  let paused = false;
  const pauses = () => s.transport.callNames(id).filter((n) => n === 'pauseInput').length;
  const resumes = () => s.transport.callNames(id).filter((n) => n === 'resumeInput').length;
  const totalBytes = 64 * 1024 * 1024;
  for (let sent = 0; sent < totalBytes; sent += chunk.byteLength) {
    // Act like native: stop sending while paused.
    paused = pauses() > resumes();
    while (paused) {
      await settle();
      paused = pauses() > resumes();
    }
    s.data(id, chunk);
    const buffered = (input as unknown as { buffered: number }).buffered;
    maxBuffered = Math.max(maxBuffered, buffered);
  }
  s.endBody(id);
  await until(() => s.transport.rec(id).ended, 'response');
  assert.equal(s.transport.body(id), String(totalBytes));
  assert.ok(maxBuffered <= INPUT_HIGH_WATER_MARK + chunk.byteLength, `buffered up to ${maxBuffered}`);
});

test('the body can still be read after the response finished, while bytes arrive', async () => {
  const { s, id, input } = capture({ streaming: true, respond: true });
  assert.equal(s.transport.rec(id).ended, true);
  const text = input.text();
  s.data(id, 'late ');
  s.data(id, 'bytes');
  s.endBody(id);
  assert.equal(await text, 'late bytes');
  assert.equal(s.dispatcher.inFlight, 0);
});

test('an untouched body left after the response is dropped instead of pausing the connection', async () => {
  const { s, id, input } = capture({ streaming: true, respond: true });
  for (let i = 0; i < 8; i++) s.data(id, new Uint8Array(16 * 1024));
  assert.ok(!s.transport.callNames(id).includes('pauseInput'));
  assert.equal(s.dispatcher.inFlight, 0);
  await assert.rejects(input.read(), /discarded/);
});

test('a request whose response and body are both done is forgotten', () => {
  const { s, id } = capture({ streaming: true, respond: true });
  assert.equal(s.dispatcher.inFlight, 1);
  s.data(id, 'x');
  s.endBody(id);
  assert.equal(s.dispatcher.inFlight, 0);
  // Late events for a forgotten id are ignored.
  s.data(id, 'y');
  s.dispatcher.onDrain(id);
  s.dispatcher.onAbort(id, 99);
});
