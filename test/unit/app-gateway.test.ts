import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StartResponse } from '../../src/app/gateway';
import { FakeServer, httpVars, settle, until } from './helpers/fake-native';

const ok = (sr: StartResponse) => sr('200 OK', [['Content-Type', 'text/plain']]);

test('a sync string return after a sync startResponse is one respond call', () => {
  const s = FakeServer.gateway((env, sr) => {
    ok(sr);
    return 'Hello World';
  });
  const id = s.request();
  assert.deepEqual(s.transport.calls, [['respond', id, '200 OK', 'Content-Type: text/plain\r\n', 0, 'Hello World']]);
  assert.equal(s.dispatcher.inFlight, 0);
});

test('a Uint8Array return is sent as is in one respond call', () => {
  const bytes = new TextEncoder().encode('bytes!');
  const s = FakeServer.gateway((env, sr) => {
    ok(sr);
    return bytes;
  });
  const id = s.request();
  assert.equal(s.transport.calls.length, 1);
  assert.equal(s.transport.calls[0]![5], bytes);
  assert.equal(s.transport.body(id), 'bytes!');
});

test('a one-element array (the uWSGI foobar shape) is one respond call', () => {
  const s = FakeServer.gateway((env, sr) => {
    ok(sr);
    return [new TextEncoder().encode('Hello World')];
  });
  const id = s.request();
  assert.deepEqual(s.transport.callNames(id), ['respond']);
  assert.equal(s.transport.body(id), 'Hello World');
});

test('a generator with one chunk is one respond call, with several it streams in order', () => {
  const one = FakeServer.gateway(function* (env, sr) {
    ok(sr);
    yield 'only';
  });
  const a = one.request();
  assert.deepEqual(one.transport.callNames(a), ['respond']);
  assert.equal(one.transport.body(a), 'only');

  const many = FakeServer.gateway((env, sr) => {
    ok(sr);
    return ['a', '', 'b', 'c'];
  });
  const b = many.request();
  assert.deepEqual(many.transport.callNames(b), ['writeHead', 'write', 'write', 'write', 'end']);
  assert.equal(many.transport.body(b), 'abc');
  assert.equal(many.dispatcher.inFlight, 0);
});

test('an async generator streams every chunk then ends', async () => {
  const s = FakeServer.gateway(async function* (env, sr) {
    ok(sr);
    yield 'one ';
    await settle();
    yield new TextEncoder().encode('two');
  });
  const id = s.request();
  await until(() => s.transport.rec(id).ended, 'end');
  assert.equal(s.transport.body(id), 'one two');
  assert.deepEqual(s.transport.callNames(id), ['writeHead', 'write', 'write', 'end']);
});

test('a promise of a string (async application) is one respond call', async () => {
  const s = FakeServer.gateway(async (env, sr) => {
    await settle();
    ok(sr);
    return 'later';
  });
  const id = s.request();
  await until(() => s.transport.rec(id).ended, 'response');
  assert.deepEqual(s.transport.callNames(id), ['respond']);
  assert.equal(s.transport.body(id), 'later');
  assert.equal(s.dispatcher.inFlight, 0);
});

test('undefined returned after write() calls ends the streamed response', () => {
  const s = FakeServer.gateway((env, sr) => {
    const write = ok(sr);
    write('a');
    write(new TextEncoder().encode('b'));
  });
  const id = s.request();
  assert.deepEqual(s.transport.callNames(id), ['writeHead', 'write', 'write', 'end']);
  assert.equal(s.transport.body(id), 'ab');
});

test('write() output followed by a returned iterable sends both in order', () => {
  const s = FakeServer.gateway((env, sr) => {
    ok(sr)('first ');
    return ['second ', 'third'];
  });
  const id = s.request();
  assert.equal(s.transport.body(id), 'first second third');
  assert.equal(s.transport.rec(id).ended, true);
});

test('no body at all (undefined return) is one respond without body', () => {
  const s = FakeServer.gateway((env, sr) => {
    sr('204 No Content', []);
  });
  const id = s.request();
  assert.deepEqual(s.transport.calls, [['respond', id, '204 No Content', '', 0, undefined]]);
});

test('a body returned without startResponse is a 500 with a log line', () => {
  const s = FakeServer.gateway(() => 'oops');
  const id = s.request();
  assert.equal(s.transport.rec(id).status, '500 Internal Server Error');
  assert.equal(s.transport.body(id), 'Internal Server Error');
  assert.match(s.transport.logs.join('\n'), /without calling startResponse/);
});

test('a throw before the first byte gives a 500 and logs the stack', () => {
  const s = FakeServer.gateway(() => {
    throw new Error('kaboom');
  });
  const id = s.request(httpVars('GET', '/boom'));
  assert.equal(s.transport.rec(id).status, '500 Internal Server Error');
  const log = s.transport.logs.join('\n');
  assert.match(log, /GET \/boom/);
  assert.match(log, /Error: kaboom/);
  assert.match(log, /at .*app-gateway\.test\.ts/);
  // The worker keeps serving.
  const s2 = s.request();
  assert.equal(s.transport.rec(s2).status, '500 Internal Server Error');
});

test('a rejection before the first byte gives a 500 and a log line', async () => {
  const s = FakeServer.gateway(async () => {
    throw new Error('async kaboom');
  });
  const id = s.request();
  await until(() => s.transport.rec(id).ended, '500');
  assert.equal(s.transport.rec(id).status, '500 Internal Server Error');
  assert.match(s.transport.logs.join('\n'), /async kaboom/);
});

test('a throw after the first byte aborts the connection and the log says so', async () => {
  const s = FakeServer.gateway(async function* (env, sr) {
    ok(sr);
    yield 'partial';
    await settle();
    throw new Error('mid-stream failure');
  });
  const id = s.request();
  await until(() => s.transport.rec(id).aborted, 'abort');
  assert.deepEqual(s.transport.callNames(id), ['writeHead', 'write', 'abort']);
  const log = s.transport.logs.join('\n');
  assert.match(log, /connection closed/);
  assert.match(log, /mid-stream failure/);
  assert.equal(s.dispatcher.inFlight, 0);
});

test('a chunk that is neither string nor bytes fails the request', () => {
  const s = FakeServer.gateway((env, sr) => {
    ok(sr);
    return [42, 43] as unknown as string[];
  });
  const id = s.request();
  assert.equal(s.transport.rec(id).status, '500 Internal Server Error');
  assert.match(s.transport.logs.join('\n'), /strings or Uint8Arrays/);
});

test('when write returns false the next item is not pulled until onDrain', async () => {
  const pulled: number[] = [];
  const s = FakeServer.gateway(function* (env, sr) {
    ok(sr);
    for (let i = 0; i < 4; i++) {
      pulled.push(i);
      yield 'x' + i;
    }
  });
  s.transport.writeResult = false;
  const id = s.request();
  // The first chunk is held back until a second shows up; both are written, then it waits.
  assert.deepEqual(pulled, [0, 1]);
  assert.deepEqual(s.transport.callNames(id), ['writeHead', 'write', 'write']);
  await settle();
  assert.deepEqual(pulled, [0, 1]);
  s.dispatcher.onDrain(id);
  assert.deepEqual(pulled, [0, 1, 2]);
  s.transport.writeResult = true;
  s.dispatcher.onDrain(id);
  assert.deepEqual(pulled, [0, 1, 2, 3]);
  assert.equal(s.transport.rec(id).ended, true);
  assert.equal(s.transport.body(id), 'x0x1x2x3');
});

test('an async iterable waits for onDrain when write returns false', async () => {
  let pulled = 0;
  const s = FakeServer.gateway(async function* (env, sr) {
    ok(sr);
    for (let i = 0; i < 3; i++) {
      pulled++;
      yield 'c' + i;
    }
  });
  s.transport.writeResult = false;
  const id = s.request();
  await until(() => pulled === 1 && s.transport.callNames(id).includes('write'), 'first write');
  await settle();
  assert.equal(pulled, 1);
  s.dispatcher.onDrain(id);
  await until(() => pulled === 2, 'second pull');
  s.transport.writeResult = true;
  s.dispatcher.onDrain(id);
  await until(() => s.transport.rec(id).ended, 'end');
  assert.equal(s.transport.body(id), 'c0c1c2');
});

test('a client abort closes the response iterator (return is called)', async () => {
  let closed = false;
  const s = FakeServer.gateway(function* (env, sr) {
    ok(sr);
    try {
      for (let i = 0; ; i++) yield 'tick' + i;
    } finally {
      closed = true;
    }
  });
  s.transport.writeResult = false;
  const id = s.request();
  assert.equal(closed, false);
  s.dispatcher.onAbort(id, 99);
  assert.equal(closed, true);
  assert.equal(s.dispatcher.inFlight, 0);
  // Later events for the id are ignored.
  s.dispatcher.onDrain(id);
  assert.equal(s.transport.callNames(id).filter((n) => n === 'write').length, 2);
});

test('a client abort calls close() on an iterable that has one (PEP 3333)', () => {
  let closes = 0;
  const s = FakeServer.gateway((env, sr) => {
    ok(sr);
    return {
      *[Symbol.iterator]() {
        yield 'a';
        yield 'b';
        yield 'c';
      },
      close() {
        closes++;
      },
    };
  });
  s.transport.writeResult = false;
  const id = s.request();
  s.dispatcher.onAbort(id, 99);
  assert.equal(closes, 1);
});

test('close() of an iterable is also called when it completes', () => {
  let closes = 0;
  const s = FakeServer.gateway((env, sr) => {
    ok(sr);
    return { [Symbol.iterator]: () => ['a', 'b'][Symbol.iterator](), close: () => closes++ };
  });
  s.request();
  assert.equal(closes, 1);
});

test('calling startResponse twice before output replaces the status and headers', () => {
  const s = FakeServer.gateway((env, sr) => {
    sr('200 OK', [['X-A', '1']]);
    sr('404', [['X-B', '2']]);
    return 'nope';
  });
  const id = s.request();
  assert.equal(s.transport.rec(id).status, '404 Not Found');
  assert.equal(s.transport.rec(id).headers, 'X-B: 2\r\n');
});

test('startResponse after output started rethrows exc_info', async () => {
  const s = FakeServer.gateway(async (env, sr) => {
    ok(sr)('started');
    const problem = new Error('original problem');
    sr('500 Internal Server Error', [], problem);
  });
  const id = s.request();
  await until(() => s.transport.rec(id).aborted, 'abort');
  assert.match(s.transport.logs.join('\n'), /original problem/);
});

test('HEAD requests run the app normally', () => {
  let ran = 0;
  const s = FakeServer.gateway((env, sr) => {
    ran++;
    ok(sr);
    return 'body for HEAD';
  });
  const id = s.request(httpVars('HEAD', '/'), { flags: 2 });
  assert.equal(ran, 1);
  assert.equal(s.transport.rec(id).status, '200 OK');
});
