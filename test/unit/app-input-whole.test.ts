// tsgi.input over a body that native reads into one buffer of its length
// (RequestFlags.BodyWhole): native writes into the buffer until it is full, so the app must
// never get the buffer or a view of it before then.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { INPUT_HIGH_WATER_MARK, type TsgiInput } from '../../src/app/input';
import { FakeServer, httpVars, settle } from './helpers/fake-native';

const dec = new TextDecoder();

/** A request whose whole-body buffer holds `text`, of which the first `filled` bytes are in. */
function capture(text: string, filled: number) {
  let input: TsgiInput | undefined;
  const s = FakeServer.gateway((env) => {
    input = env['tsgi.input'] as TsgiInput;
    return new Promise(() => {}); // never answers: the test reads
  });
  // A buffer with its own ArrayBuffer, as native's; the fake's "native" writes every byte up
  // front, and the app layer may only use the filled ones.
  const buffer = Buffer.allocUnsafeSlow(text.length);
  buffer.write(text, 'latin1');
  const id = s.request(httpVars('POST', '/upload'), { body: buffer, whole: filled });
  return { s, id, buffer, input: input! };
}

test('arrayBuffer() of a whole body resolves to its own buffer once it is filled, without a copy', async () => {
  const { s, id, buffer, input } = capture('0123456789', 4);
  const pending = input.arrayBuffer();
  await settle();
  s.fill(id, 7);
  await settle();
  s.fill(id, 10);
  const ab = await pending;
  assert.equal(ab, buffer.buffer);
  assert.equal(dec.decode(ab), '0123456789');
  assert.equal(s.dispatcher.inFlight, 1); // the app has not answered
});

test('text() and json() read a whole body filled in one go', async () => {
  const a = capture('{"k":[1,2]}', 0);
  const json = a.input.json();
  a.s.fill(a.id, 11);
  assert.deepEqual(await json, { k: [1, 2] });
  const b = capture('plain', 2);
  const text = b.input.text();
  b.s.fill(b.id, 5);
  assert.equal(await text, 'plain');
});

test('read(n) before a whole body is filled gets copies, never views of the buffer being written', async () => {
  const { s, id, buffer, input } = capture('abcdefghij', 3);
  const first = await input.read(2);
  assert.equal(dec.decode(first), 'ab');
  assert.notEqual(first.buffer, buffer.buffer);
  s.fill(id, 6);
  // read(n) gives one announced piece at a time: the rest of the first, then the second.
  const second = await input.read(100);
  assert.equal(dec.decode(second), 'c');
  const third = await input.read(100);
  assert.equal(dec.decode(third), 'def');
  assert.notEqual(second.buffer, buffer.buffer);
  assert.notEqual(third.buffer, buffer.buffer);
  // After parts were read out, a whole-body read joins what is left.
  const rest = input.text();
  await settle();
  s.fill(id, 10);
  assert.equal(await rest, 'ghij');
  assert.equal((await input.read(1)).byteLength, 0);
});

test('async iteration over a whole body yields every byte in order', async () => {
  const { s, id, buffer, input } = capture('first|second|third', 6);
  const got: Uint8Array[] = [];
  const done = (async () => {
    for await (const chunk of input) got.push(chunk);
  })();
  await settle();
  s.fill(id, 13);
  await settle();
  s.fill(id, 18);
  await done;
  assert.equal(got.map((c) => dec.decode(c)).join(''), 'first|second|third');
  for (const c of got.slice(0, -1)) assert.notEqual(c.buffer, buffer.buffer);
});

test('a whole body that ends early rejects the whole-body read and never hands out the buffer', async () => {
  const { s, id, input } = capture('x'.repeat(100), 40);
  const pending = input.arrayBuffer();
  await settle();
  s.fill(id, 60);
  s.bodyError(id, 33);
  await assert.rejects(pending, (err: Error & { code?: string }) => {
    assert.equal(err.code, 'HTTP_TRUNCATED_BODY');
    return true;
  });
  await assert.rejects(input.read(1), /truncated/);
  s.fill(id, 100); // a late fill for a failed body changes nothing
  await assert.rejects(input.text(), /truncated/);
});

test('a whole body is never paused, however much of it waits unread', async () => {
  const size = 2 * INPUT_HIGH_WATER_MARK;
  const { s, id, input } = capture('y'.repeat(size), 0);
  s.fill(id, INPUT_HIGH_WATER_MARK + 1);
  s.fill(id, size - 1);
  assert.ok(!s.transport.callNames(id).includes('pauseInput'));
  s.fill(id, size);
  assert.equal((await input.arrayBuffer()).byteLength, size);
});
