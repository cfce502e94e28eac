import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type HeadSlot, renderHeaders } from '../../src/app/response';
import { normalizeStatus } from '../../src/app/status';
import { FakeServer } from './helpers/fake-native';

test('a full status line passes through unchanged', () => {
  assert.equal(normalizeStatus('200 OK'), '200 OK');
  assert.equal(normalizeStatus('299 Something Custom'), '299 Something Custom');
});

test('a bare status code gets the standard reason phrase', () => {
  assert.equal(normalizeStatus('404'), '404 Not Found');
  assert.equal(normalizeStatus(404), '404 Not Found');
  assert.equal(normalizeStatus('503 '), '503 Service Unavailable');
  assert.equal(normalizeStatus(299), '299');
});

test('malformed statuses are refused', () => {
  for (const bad of ['', '20', 'OK', '2000', '200OK', '200 OK\r\nX: y', '200 a\0b', 99, 1000, 200.5, null, undefined]) {
    assert.equal(normalizeStatus(bad), null, String(bad));
  }
});

function render(headers: unknown): { err: string | null; slot: HeadSlot } {
  const slot: HeadSlot = { headers: '', flags: 0 };
  return { err: renderHeaders(headers, slot), slot };
}

test('header pairs render as Name: value lines with values converted by String()', () => {
  const { err, slot } = render([
    ['Content-Type', 'text/plain'],
    ['X-Count', 3],
    ['X-Empty', ''],
  ]);
  assert.equal(err, null);
  assert.equal(slot.headers, 'Content-Type: text/plain\r\nX-Count: 3\r\nX-Empty: \r\n');
  assert.equal(slot.flags, 0);
});

test('Content-Length, Connection: close and Transfer-Encoding set response flags in any case', () => {
  assert.equal(render([['content-LENGTH', '5']]).slot.flags, 1);
  assert.equal(render([['Connection', 'Close']]).slot.flags, 2);
  assert.equal(render([['Connection', 'keep-alive']]).slot.flags, 0);
  assert.equal(render([['TRANSFER-encoding', 'chunked']]).slot.flags, 4);
  assert.equal(
    render([
      ['Content-Length', '1'],
      ['Connection', 'close'],
      ['Transfer-Encoding', 'gzip'],
    ]).slot.flags,
    7,
  );
});

test('CR, LF or NUL in a header name or value is refused', () => {
  for (const pair of [
    ['X-A', 'a\r\nSet-Cookie: evil=1'],
    ['X-A', 'a\nb'],
    ['X-A', 'a\rb'],
    ['X-A', 'a\0b'],
    ['X-A\r\n', 'v'],
    ['X\0A', 'v'],
  ]) {
    assert.match(render([pair]).err ?? '', /CR, LF or NUL/, JSON.stringify(pair));
  }
});

test('header names that are not tokens, and non-pairs, are refused', () => {
  assert.match(render([['Bad Name', 'v']]).err ?? '', /not a token/);
  assert.match(render([['Bad:Name', 'v']]).err ?? '', /not a token/);
  assert.match(render([['', 'v']]).err ?? '', /empty/);
  assert.match(render([['Ünicode', 'v']]).err ?? '', /not a token/);
  assert.match(render([['X-A']]).err ?? '', /pair/);
  assert.match(render('X-A: b').err ?? '', /array/);
  assert.match(render([['X-A', 'snow\u2603man']]).err ?? '', /invalid character/);
});

test('a header with CR/LF makes the request a 500 with a log line and is never written', () => {
  const s = FakeServer.gateway((env, sr) => {
    sr('200 OK', [['X-Injected', 'a\r\nSet-Cookie: evil=1']]);
    return 'body';
  });
  const id = s.request();
  const r = s.transport.rec(id);
  assert.equal(r.status, '500 Internal Server Error');
  assert.doesNotMatch(r.headers ?? '', /evil/);
  assert.doesNotMatch(JSON.stringify(s.transport.calls.filter((c) => c[0] !== 'log')), /evil/);
  assert.match(s.transport.logs.join('\n'), /X-Injected.*CR, LF or NUL/);
});

test('an invalid status given to startResponse is a 500 with a log line', () => {
  const s = FakeServer.gateway((env, sr) => {
    sr('OK', []);
    return 'body';
  });
  const id = s.request();
  assert.equal(s.transport.rec(id).status, '500 Internal Server Error');
  assert.match(s.transport.logs.join('\n'), /invalid status "OK"/);
});

test('headers given to startResponse reach respond with their flags', () => {
  const s = FakeServer.gateway((env, sr) => {
    sr(201, [
      ['Content-Length', '2'],
      ['Connection', 'close'],
    ]);
    return 'hi';
  });
  const id = s.request();
  assert.deepEqual(s.transport.calls[0], [
    'respond',
    id,
    '201 Created',
    'Content-Length: 2\r\nConnection: close\r\n',
    3,
    'hi',
  ]);
});
