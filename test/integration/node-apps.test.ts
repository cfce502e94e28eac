// node:http apps through the real CLI: Express 5 and 4, Connect, Koa, Fastify, an
// http.Server export, an entry that calls app.listen(3000) at import, and Fastify's own
// listen() after async setup; each over --http-socket and --socket (uwsgi), plus
// --threads 2 and --processes 2 --master. The routes are the same in every fixture:
// GET / (text), GET /user/7?q=x (JSON), POST /echo (JSON body parsed by the framework),
// GET /stream (1 MiB streamed with back-pressure), GET /boom (the framework's own 500),
// an unknown path (its 404) and HEAD /.

import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getVars, httpRequest, type OneResponse, rawRequest, uwsgiRequest } from './helpers/exchange';
import { APPS, startTsgi, type TsgiHandle } from './helpers/tsgi';

interface Fixture {
  name: string;
  file: string;
  args: string[];
  hello: string;
  /** Routes beyond GET / and POST /echo that the fixture has. */
  full: boolean;
}

const FIXTURES: Fixture[] = [
  {
    name: 'Express 5',
    file: 'node-express5.cjs',
    args: ['--callable', 'app'],
    hello: 'hello from express',
    full: true,
  },
  { name: 'Express 4', file: 'node-express4.cjs', args: [], hello: 'hello from express4', full: true },
  { name: 'Connect', file: 'node-connect.cjs', args: ['--callable', 'app'], hello: 'hello from connect', full: true },
  { name: 'Koa', file: 'node-koa.mjs', args: ['--callable', 'app'], hello: 'hello from koa', full: true },
  { name: 'Fastify', file: 'node-fastify.mjs', args: ['--callable', 'app'], hello: 'hello from fastify', full: true },
  {
    name: 'http.createServer',
    file: 'node-http-server.cjs',
    args: ['--callable', 'server'],
    hello: 'hello from http.Server',
    full: false,
  },
  {
    name: 'app.listen(3000) at import',
    file: 'node-listen-at-import.cjs',
    args: [],
    hello: 'hello from a listening app',
    full: false,
  },
  {
    name: 'fastify.listen() after setup',
    file: 'node-fastify-listen.cjs',
    args: [],
    hello: 'hello from a listening fastify',
    full: false,
  },
];

const STREAM_BYTES = 64 * 16384;

function expectedStream(): string {
  let s = '';
  for (let i = 0; i < 64; i++) s += String.fromCharCode(97 + (i % 26)).repeat(16384);
  return s;
}

type Send = (method: string, target: string, headers?: Array<[string, string]>, body?: string) => Promise<OneResponse>;

function overHttp(port: number): Send {
  return (method, target, headers = [], body = '') =>
    rawRequest({ port }, [httpRequest(method, target, headers, body)]);
}

function overUwsgi(port: number): Send {
  return (method, target, headers = [], body = '') => {
    const [p, q] = target.split('?');
    const vars = getVars(p!, [
      ['QUERY_STRING', q ?? ''],
      ['SERVER_NAME', 'localhost'],
      ['SERVER_PORT', '80'],
      ['REMOTE_ADDR', '127.0.0.1'],
      ['REMOTE_PORT', '40000'],
      ['HTTP_HOST', 'localhost'],
    ]);
    vars[0] = ['REQUEST_METHOD', method];
    vars[1] = ['REQUEST_URI', target];
    for (const [k, v] of headers) {
      const key = k.toLowerCase() === 'content-type' ? 'CONTENT_TYPE' : 'HTTP_' + k.toUpperCase().replaceAll('-', '_');
      vars.push([key, v]);
    }
    if (body.length > 0) vars.push(['CONTENT_LENGTH', String(Buffer.byteLength(body))]);
    return uwsgiRequest({ port }, vars, body);
  };
}

function basics(fx: Fixture, send: () => Send): void {
  it('answers GET / with the app body and node:http headers', async () => {
    const r = await send()('GET', '/');
    assert.equal(r.status, 200);
    assert.equal(r.body, fx.hello);
    assert.match(r.headers['date'] ?? '', /GMT$/);
    assert.equal(r.count, 1);
  });

  it('parses a JSON request body with the framework parser', async () => {
    const r = await send()('POST', '/echo', [['Content-Type', 'application/json']], '{"a":[1,2],"b":"x"}');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { got: { a: [1, 2], b: 'x' } });
  });

  it('answers HEAD / without a body', async () => {
    const r = await send()('HEAD', '/');
    assert.equal(r.status, 200);
    assert.equal(r.body, '');
  });

  if (!fx.full) return;

  it('routes with params and query', async () => {
    const r = await send()('GET', '/user/7?q=x');
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).id, '7');
  });

  it('streams a 1 MiB response through back-pressure intact', async () => {
    const r = await send()('GET', '/stream');
    assert.equal(r.status, 200);
    assert.equal(r.body.length, STREAM_BYTES);
    assert.equal(r.body, expectedStream());
  });

  it("turns a thrown error into the framework's own 500", async () => {
    const r = await send()('GET', '/boom');
    assert.equal(r.status, 500);
  });

  it("answers an unknown path with the framework's 404", async () => {
    const r = await send()('GET', '/no/such/route');
    assert.equal(r.status, 404);
  });
}

for (const fx of FIXTURES) {
  describe(`node:http app: ${fx.name}`, () => {
    let tsgi: TsgiHandle;
    before(async () => {
      tsgi = await startTsgi([
        '--http-socket',
        '127.0.0.1:0',
        '--socket',
        '127.0.0.1:0',
        '--wsgi-file',
        path.join(APPS, fx.file),
        ...fx.args,
      ]);
    });
    after(async () => {
      await tsgi.stop();
    });
    describe('over --http-socket', () => basics(fx, () => overHttp(tsgi.ports[0]!)));
    describe('over --socket (uwsgi)', () => basics(fx, () => overUwsgi(tsgi.ports[1]!)));
  });
}

describe('node:http app: the client goes away', () => {
  it("fires req 'close' at the client's FIN while the app has not answered (as node:http does)", async () => {
    const tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--async',
      '4',
      '--wsgi-file',
      path.join(APPS, 'node-express5.cjs'),
      '--callable',
      'app',
    ]);
    try {
      const port = tsgi.ports[0]!;
      const sock = net.connect(port, '127.0.0.1');
      sock.on('error', () => {});
      await new Promise<void>((resolve) => sock.on('connect', resolve));
      sock.end('GET /long-poll HTTP/1.1\r\nHost: x\r\n\r\n');
      const r = await overHttp(port)('GET', '/long-poll-closed');
      assert.equal(r.body, '1');
      sock.destroy();
    } finally {
      await tsgi.stop();
    }
  });
});

describe('node:http app: through the --http router', () => {
  it('serves Express and Fastify behind the router, bodies and streams included', async () => {
    const [express, fastify] = await Promise.all([
      startTsgi(['--http', '127.0.0.1:0', '--wsgi-file', path.join(APPS, 'node-express5.cjs'), '--callable', 'app']),
      startTsgi(['--http', '127.0.0.1:0', '--wsgi-file', path.join(APPS, 'node-fastify.mjs'), '--callable', 'app']),
    ]);
    try {
      for (const [t, hello] of [
        [express, 'hello from express'],
        [fastify, 'hello from fastify'],
      ] as const) {
        const bound = /tsgi http bound on 127\.0\.0\.1:(\d+)/.exec(t.output());
        assert.ok(bound, t.output());
        const send = overHttp(Number(bound[1]));
        assert.equal((await send('GET', '/')).body, hello);
        const echo = await send('POST', '/echo', [['Content-Type', 'application/json']], '{"n":2}');
        assert.deepEqual(JSON.parse(echo.body), { got: { n: 2 } });
        assert.equal((await send('GET', '/stream')).body, expectedStream());
      }
    } finally {
      await Promise.all([express.stop(), fastify.stop()]);
    }
  });
});

describe('node:http app: listen() at import', () => {
  it('logs the takeover and answers server.address() with the port the app asked for', async () => {
    const tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      path.join(APPS, 'node-listen-at-import.cjs'),
    ]);
    try {
      assert.match(
        tsgi.output(),
        /tsgi: took over server\.listen\(3000\); serving on tsgi's sockets, the port the app asked for is ignored/,
      );
      const r = await overHttp(tsgi.ports[0]!)('GET', '/address');
      assert.deepEqual(JSON.parse(r.body), { port: 3000, listening: true });
      await tsgi.waitFor(/app says: listening on 3000/);
    } finally {
      await tsgi.stop();
    }
  });
});

for (const mode of [
  ['--threads', '2'],
  ['--processes', '2', '--master'],
]) {
  describe(`node:http apps under ${mode.join(' ')}`, () => {
    let express: TsgiHandle;
    let fastify: TsgiHandle;
    before(async () => {
      [express, fastify] = await Promise.all([
        startTsgi([
          '--http-socket',
          '127.0.0.1:0',
          ...mode,
          '--wsgi-file',
          path.join(APPS, 'node-listen-at-import.cjs'),
        ]),
        startTsgi([
          '--http-socket',
          '127.0.0.1:0',
          ...mode,
          '--wsgi-file',
          path.join(APPS, 'node-fastify.mjs'),
          '--callable',
          'app',
        ]),
      ]);
    });
    after(async () => {
      await Promise.all([express.stop(), fastify.stop()]);
    });

    it('serves an app that called listen() at import from every core', async () => {
      const send = overHttp(express.ports[0]!);
      const results = await Promise.all(
        Array.from({ length: 16 }, () => send('POST', '/echo', [['Content-Type', 'application/json']], '{"n":1}')),
      );
      for (const r of results) assert.deepEqual(JSON.parse(r.body), { got: { n: 1 } });
    });

    it('serves a Fastify instance, streamed responses included', async () => {
      const send = overHttp(fastify.ports[0]!);
      const [hello, stream] = await Promise.all([send('GET', '/'), send('GET', '/stream')]);
      assert.equal(hello.body, 'hello from fastify');
      assert.equal(stream.body.length, STREAM_BYTES);
    });
  });
}

describe('node:http app: a plain (req, res) function', () => {
  it('runs with --app-type node', async () => {
    const tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      path.join(APPS, 'node-plain-handler.cjs'),
      '--callable',
      'handler',
      '--app-type',
      'node',
    ]);
    try {
      const r = await overHttp(tsgi.ports[0]!)('GET', '/x?y=1');
      assert.equal(r.body, 'plain GET /x?y=1');
    } finally {
      await tsgi.stop();
    }
  });

  it('is a gateway callable by default, and its 500 suggests --app-type node', async () => {
    const tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      path.join(APPS, 'node-plain-handler.cjs'),
      '--callable',
      'handler',
    ]);
    try {
      const r = await overHttp(tsgi.ports[0]!)('GET', '/');
      assert.equal(r.status, 500);
      await tsgi.waitFor(/TypeError: res\.setHeader is not a function/);
      await tsgi.waitFor(/hint: .*run it with --app-type node/);
    } finally {
      await tsgi.stop();
    }
  });
});
