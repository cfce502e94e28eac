// node:http apps in the app layer: req/res built by NodeExchange behave like node:http's
// (instanceof, headers, body stream, events) and answer through the Transport.

import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { IncomingMessage, ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { createDispatcher } from '../../src/app/dispatcher';
import { NodeExchange, type NodeHandler } from '../../src/app/node/exchange';
import { RequestFlags, ResponseFlags } from '../../src/native/types';
import { packVars } from './helpers/fake-native';

interface Call {
  op: string;
  args: unknown[];
}

function fakeTransport(opts: { writeOk?: (n: number) => boolean } = {}): { calls: Call[]; transport: never } {
  const calls: Call[] = [];
  let writes = 0;
  const record =
    (op: string) =>
    (...args: unknown[]) => {
      calls.push({ op, args });
      if (op === 'write') return opts.writeOk?.(++writes) ?? true;
      return undefined;
    };
  const transport = {
    respond: record('respond'),
    writeHead: record('writeHead'),
    write: record('write'),
    end: record('end'),
    abort: record('abort'),
    pauseInput: record('pauseInput'),
    resumeInput: record('resumeInput'),
    log: record('log'),
  };
  return { calls, transport: transport as never };
}

function env(extra: Record<string, string> = {}): Record<string, unknown> {
  return {
    REQUEST_METHOD: 'GET',
    REQUEST_URI: '/path?x=1',
    PATH_INFO: '/path',
    QUERY_STRING: 'x=1',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REMOTE_ADDR: '10.0.0.7',
    REMOTE_PORT: '40123',
    SERVER_PORT: '8080',
    HTTP_HOST: 'example.test',
    HTTP_X_FORWARDED_FOR: '1.2.3.4',
    'tsgi.url_scheme': 'http',
    ...extra,
  };
}

function run(
  handler: NodeHandler,
  e = env(),
  body?: Uint8Array,
  done = true,
  t = fakeTransport(),
): { ex: NodeExchange; calls: Call[] } {
  const ex = new NodeExchange(1, t.transport, new Map(), e, body, done);
  ex.run(handler);
  return { ex, calls: t.calls };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('node:http req', () => {
  it('is an IncomingMessage with method, url, version and node-style headers', () => {
    let seen: IncomingMessage | undefined;
    run(
      (req, res) => {
        seen = req;
        res.end();
      },
      env({ CONTENT_TYPE: 'text/plain', CONTENT_LENGTH: '0' }),
    );
    assert.ok(seen instanceof IncomingMessage);
    assert.equal(seen.method, 'GET');
    assert.equal(seen.url, '/path?x=1');
    assert.equal(seen.httpVersion, '1.1');
    assert.deepEqual(seen.headers, {
      host: 'example.test',
      'x-forwarded-for': '1.2.3.4',
      'content-type': 'text/plain',
      'content-length': '0',
    });
    assert.deepEqual(seen.rawHeaders.slice(0, 2), ['host', 'example.test']);
  });

  it('takes the raw header lines the core delivers after the vars, and node merges repeats its way', () => {
    let seen: IncomingMessage | undefined;
    const handler: NodeHandler = (req, res) => {
      seen = req;
      res.end();
    };
    const app = { kind: 'node', handler, label: 'node:http handler', file: 'x.js', exportName: 'default' } as const;
    const dispatcher = createDispatcher(app, fakeTransport().transport, {
      workerId: 1,
      coreId: 0,
      multithread: false,
      multiprocess: false,
    });
    const vars: Array<[string, string]> = [
      ['REQUEST_METHOD', 'GET'],
      ['REQUEST_URI', '/'],
      ['SERVER_PROTOCOL', 'HTTP/1.1'],
      ['HTTP_HOST', 'h'],
      ['HTTP_COOKIE', 'a=1, b=2'],
    ];
    const lines: Array<[string, string]> = [
      ['Host', 'h'],
      ['Cookie', 'a=1'],
      ['cookie', 'b=2'],
      ['Set-Cookie', 'x'],
      ['set-cookie', 'y'],
    ];
    const { blob, meta } = packVars([...vars, ...lines]);
    dispatcher.setMeta(meta);
    const flags = RequestFlags.BodyDone | RequestFlags.RawHeaders | (lines.length << RequestFlags.RawCountShift);
    dispatcher.onRequest(1, flags, blob, vars.length, undefined);
    assert.deepEqual(seen!.rawHeaders, [
      'Host',
      'h',
      'Cookie',
      'a=1',
      'cookie',
      'b=2',
      'Set-Cookie',
      'x',
      'set-cookie',
      'y',
    ]);
    assert.deepEqual(seen!.headers, { host: 'h', cookie: 'a=1; b=2', 'set-cookie': ['x', 'y'] });
  });

  it('has a socket-like object with the peer address', () => {
    let sock: unknown;
    run((req, res) => {
      sock = req.socket;
      res.end();
    });
    const s = sock as { remoteAddress: string; remotePort: number; encrypted: unknown; writable: boolean };
    assert.ok(sock instanceof EventEmitter);
    assert.equal(s.remoteAddress, '10.0.0.7');
    assert.equal(s.remotePort, 40123);
    assert.equal(s.encrypted, undefined);
    assert.equal(s.writable, true);
  });

  it('streams the request body, pausing native input when the stream is full', async () => {
    const t = fakeTransport();
    const got: Buffer[] = [];
    let ended = false;
    const { ex } = run(
      (req, res) => {
        req.on('data', (c: Buffer) => got.push(c));
        req.on('end', () => {
          ended = true;
          res.end('ok');
        });
      },
      env({ REQUEST_METHOD: 'POST' }),
      Buffer.from('first'),
      false,
      t,
    );
    await tick();
    ex.body(Buffer.from('second'), 0);
    ex.body(null, 0);
    await tick();
    assert.equal(Buffer.concat(got).toString(), 'firstsecond');
    assert.ok(ended);
    assert.deepEqual(
      t.calls.map((c) => c.op),
      ['respond'],
    );
  });

  it('pauses native input when nobody reads a large body, and drops it once the response ended', () => {
    const t = fakeTransport();
    const { ex } = run(() => {}, env({ REQUEST_METHOD: 'POST' }), undefined, false, t);
    ex.body(Buffer.alloc(70 * 1024), 0);
    assert.ok(t.calls.some((c) => c.op === 'pauseInput'));
    ex.res.end('done');
    assert.ok(t.calls.some((c) => c.op === 'resumeInput'));
  });

  it("emits 'aborted' and 'close' when the client goes away mid-body", async () => {
    const events: string[] = [];
    const { ex } = run(
      (req) => {
        req.on('aborted', () => events.push('aborted'));
        req.on('close', () => events.push('close'));
        req.on('error', (e: Error & { code?: string }) => events.push('error ' + e.code));
        req.resume();
      },
      env({ REQUEST_METHOD: 'POST' }),
      undefined,
      false,
    );
    ex.handleAbort(new Error('gone'));
    await tick();
    assert.deepEqual(events, ['aborted', 'error ECONNRESET', 'close']);
    assert.equal(ex.req.aborted, true);
  });
});

describe('node:http res', () => {
  it('is a ServerResponse whose end(body) is one respond() with node headers and a Date', () => {
    const { calls } = run((req, res) => {
      assert.ok(res instanceof ServerResponse);
      res.statusCode = 201;
      res.setHeader('Content-Type', 'text/plain');
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.end('hello');
    });
    assert.equal(calls.length, 1);
    const [id, status, headers, flags, body] = calls[0]!.args as [number, string, string, number, string];
    assert.equal(id, 1);
    assert.equal(status, '201 Created');
    assert.match(headers, /^Content-Type: text\/plain\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nDate: .+ GMT\r\n$/);
    assert.equal(flags, 0);
    assert.equal(body, 'hello');
  });

  it('turns writeHead + write + end in one turn into one respond()', async () => {
    const { calls } = run((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' });
      res.write('{}');
      res.end();
    });
    await tick();
    assert.deepEqual(
      calls.map((c) => c.op),
      ['respond'],
    );
    assert.equal(calls[0]!.args[3], ResponseFlags.HasContentLength);
    assert.equal(calls[0]!.args[4], '{}');
  });

  it('streams when writes span turns, and emits drain after the transport drained', async () => {
    const t = fakeTransport({ writeOk: (n) => n !== 2 });
    let drained = 0;
    const { ex, calls } = run(
      (req, res) => {
        res.on('drain', () => drained++);
        res.write('a');
      },
      env(),
      undefined,
      true,
      t,
    );
    await tick();
    assert.deepEqual(
      calls.map((c) => c.op),
      ['writeHead', 'write'],
    );
    assert.equal(ex.res.write('b'), false);
    ex.handleDrain();
    assert.equal(drained, 1);
    ex.res.end('c');
    assert.deepEqual(
      calls.map((c) => c.op),
      ['writeHead', 'write', 'write', 'end'],
    );
  });

  it("emits 'finish' then 'close', and end(cb) calls back", async () => {
    const events: string[] = [];
    run((req, res) => {
      res.on('finish', () => events.push('finish'));
      res.on('close', () => events.push('close'));
      res.end('x', () => events.push('cb'));
      assert.equal(res.writableEnded, true);
      assert.equal(res.headersSent, true);
    });
    await tick();
    assert.deepEqual(events, ['finish', 'cb', 'close']);
  });

  it('hands addTrailers() fields to transport.end after a streamed body, and streams a whole body when a Trailer field is set', () => {
    const { calls } = run((_req, res) => {
      res.writeHead(200, { Trailer: 'X-Sum' });
      res.addTrailers({ 'X-Sum': 'abc' });
      res.end('whole');
    });
    assert.deepEqual(
      calls.map((c) => c.op),
      ['writeHead', 'end'],
    );
    assert.deepEqual(calls[1]!.args, [1, 'whole', 'X-Sum: abc\r\n']);
  });

  it('drops addTrailers() fields on a response ended at once without a Trailer field (Content-Length, as node:http)', () => {
    const { calls } = run((_req, res) => {
      res.addTrailers({ 'X-Sum': 'abc' });
      res.end('whole');
    });
    assert.deepEqual(
      calls.map((c) => c.op),
      ['respond'],
    );
  });

  it('refuses a Trailer field beside a Content-Length as node:http does (ERR_HTTP_TRAILER_INVALID)', () => {
    let code: unknown;
    run((_req, res) => {
      try {
        res.writeHead(200, { 'Content-Length': '1', Trailer: 'X-Sum' });
      } catch (err) {
        code = (err as { code?: unknown }).code;
      }
      res.end('x');
    });
    assert.equal(code, 'ERR_HTTP_TRAILER_INVALID');
  });

  it('drops hop-by-hop headers the core frames itself and flags Connection: close', () => {
    const { calls } = run((req, res) => {
      res.setHeader('Transfer-Encoding', 'chunked');
      res.setHeader('Keep-Alive', 'timeout=5');
      res.setHeader('Connection', 'close');
      res.end('x');
    });
    const headers = calls[0]!.args[2] as string;
    assert.doesNotMatch(headers, /Transfer-Encoding|Keep-Alive/);
    assert.match(headers, /Connection: close/);
    assert.equal(calls[0]!.args[3], ResponseFlags.ConnectionClose);
  });

  it('refuses a header value with CR/LF as node:http does', () => {
    let err: unknown;
    run((req, res) => {
      try {
        res.setHeader('X', 'a\r\nb');
      } catch (e) {
        err = e;
      }
      res.end();
    });
    assert.equal((err as { code?: string }).code, 'ERR_INVALID_CHAR');
  });

  it('answers 500 when the handler throws before responding', () => {
    const { calls } = run(() => {
      throw new Error('nope');
    });
    const respond = calls.find((c) => c.op === 'respond')!;
    assert.equal(respond.args[1], '500 Internal Server Error');
  });

  it("closes the connection on res.destroy() mid-stream and emits 'close'", async () => {
    let closed = false;
    const { calls } = run((req, res) => {
      res.on('close', () => (closed = true));
      res.writeHead(200);
      res.flushHeaders();
      res.destroy();
    });
    await tick();
    assert.deepEqual(
      calls.map((c) => c.op),
      ['writeHead', 'abort'],
    );
    assert.ok(closed);
  });
});
