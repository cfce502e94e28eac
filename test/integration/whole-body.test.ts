// Request bodies with a Content-Length up to the whole-body limit (WHOLE_BODY_MAX, 128 KiB) are
// read into one buffer of their length, the bytes after the dispatch straight from the socket;
// longer ones stream as before. Both must give the app exactly the bytes sent, whatever the
// pieces they arrive in, and a body that ends early must make the read reject.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WHOLE_BODY_MAX } from '../../src/app/input';
import { getVars, PROBE, waitForText } from './helpers/exchange';
import { parseResponses, rawExchange, startTsgi, type TsgiHandle, uwsgiPacket } from './helpers/tsgi';

let tsgi: TsgiHandle;
let uwsgiPort: number;
let httpPort: number;

before(async () => {
  tsgi = await startTsgi(['--socket', '127.0.0.1:0', '--http-socket', '127.0.0.1:0', '--wsgi-file', PROBE]);
  // Sockets are bound (and listed) HTTP ones first.
  [httpPort, uwsgiPort] = [tsgi.ports[0]!, tsgi.ports[1]!];
});

after(async () => {
  await tsgi.stop();
});

/** `size` bytes of a pattern that a misplaced piece would not reproduce, and their byte sum. */
function pattern(size: number): { bytes: Buffer; sum: number } {
  const bytes = Buffer.alloc(size);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    bytes[i] = (i * 7 + (i >> 8)) & 0xff;
    sum = (sum + bytes[i]!) >>> 0;
  }
  return { bytes, sum };
}

/** `buf` cut into pieces of `size` bytes (the last one shorter). */
function pieces(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

function postVars(pathInfo: string, length: number): Array<[string, string]> {
  return getVars(pathInfo, [
    ['REQUEST_METHOD', 'POST'],
    ['CONTENT_LENGTH', String(length)],
  ]);
}

describe('whole request bodies', () => {
  for (const [name, size, gapMs] of [
    ['a 64 KiB uwsgi body sent at once', 65536, 0],
    ['a 64 KiB uwsgi body sent in 10 KiB pieces', 65536, 5],
    ['a uwsgi body of exactly the whole-body limit', WHOLE_BODY_MAX, 2],
    ['a uwsgi body over the whole-body limit, which streams', 3 * WHOLE_BODY_MAX + 1, 2],
  ] as const) {
    test(`${name} reaches arrayBuffer() and the async iterator byte for byte`, async () => {
      const { bytes, sum } = pattern(size);
      for (const path of ['/whole', '/count']) {
        const packet = uwsgiPacket(postVars(path, size), bytes);
        const r = await rawExchange({ port: uwsgiPort }, pieces(packet, 10240), { gapMs, timeoutMs: 10000 });
        const [resp] = parseResponses(r.data);
        assert.equal(resp?.status, 200, path);
        assert.equal(resp?.body, `${size} ${sum}`, path);
      }
    });
  }

  test('pipelined HTTP requests with whole bodies each get exactly their own bytes', async () => {
    const a = pattern(40000);
    const b = pattern(70000);
    const head = (length: number, close: boolean): string =>
      `POST /whole HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;
    const stream = Buffer.concat([Buffer.from(head(40000, false)), a.bytes, Buffer.from(head(70000, true)), b.bytes]);
    const r = await rawExchange({ port: httpPort }, pieces(stream, 16384), { gapMs: 2, timeoutMs: 10000 });
    const all = parseResponses(r.data);
    assert.deepEqual(
      all.map((x) => x.body),
      [`40000 ${a.sum}`, `70000 ${b.sum}`],
    );
  });

  test('a whole body that ends early makes arrayBuffer() reject, over uwsgi and HTTP', async () => {
    const mark = tsgi.output().length;
    const { bytes } = pattern(20000);
    await rawExchange({ port: uwsgiPort }, [uwsgiPacket(postVars('/whole', 50000), bytes)], {
      endInput: true,
      timeoutMs: 3000,
    });
    const head = 'POST /whole HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n\r\n';
    await rawExchange({ port: httpPort }, [head, bytes], { endInput: true, timeoutMs: 3000 });
    const read = () => tsgi.output().slice(mark);
    const truncated = /probe: whole read failed: request body truncated/g;
    await waitForText(read, /(probe: whole read failed: request body truncated[\s\S]*){2}/);
    assert.equal(read().match(truncated)?.length, 2);
    // The server goes on serving.
    const r = await rawExchange({ port: httpPort }, ['GET /hi HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    assert.equal(parseResponses(r.data)[0]?.status, 200);
  });
});
