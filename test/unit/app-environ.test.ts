import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildEnviron, buildEnvironSlow, createEnvironContext, uwsgiScheme } from '../../src/app/environ';
import { EMPTY_INPUT } from '../../src/app/input';
import { FakeServer, FakeTransport, httpVars, packVars, Uwsgi } from './helpers/fake-native';

function capture(vars: Array<[string, string]>, flags = 0, options = {}) {
  let seen: Record<string, unknown> | undefined;
  const s = FakeServer.gateway((env, sr) => {
    seen = env;
    sr('200 OK', []);
    return '';
  }, options);
  s.request(vars, { flags });
  return { env: seen!, server: s };
}

test('the environ holds every var, then the tsgi.* keys in a fixed order', () => {
  const { env } = capture(httpVars('GET', '/a?b=c'), 0, {
    workerId: 3,
    coreId: 2,
    multithread: true,
    multiprocess: true,
  });
  const keys = Object.keys(env);
  assert.deepEqual(keys.slice(0, 4), ['REQUEST_METHOD', 'REQUEST_URI', 'PATH_INFO', 'QUERY_STRING']);
  assert.deepEqual(keys.slice(-9), [
    'tsgi.input',
    'tsgi.url_scheme',
    'tsgi.errors',
    'tsgi.version',
    'tsgi.multithread',
    'tsgi.multiprocess',
    'tsgi.run_once',
    'tsgi.worker_id',
    'tsgi.core_id',
  ]);
  assert.equal(env['QUERY_STRING'], 'b=c');
  assert.equal(env['tsgi.url_scheme'], 'http');
  assert.deepEqual(env['tsgi.version'], [1, 0]);
  assert.equal(env['tsgi.multithread'], true);
  assert.equal(env['tsgi.multiprocess'], true);
  assert.equal(env['tsgi.run_once'], false);
  assert.equal(env['tsgi.worker_id'], 3);
  assert.equal(env['tsgi.core_id'], 2);
});

test('a repeated uwsgi var keeps its last value', () => {
  const { env } = capture(
    [
      ['X', '1'],
      ['REQUEST_METHOD', 'GET'],
      ['X', '2'],
    ],
    Uwsgi,
  );
  assert.equal(env['X'], '2');
  assert.equal(Object.keys(env).filter((k) => k === 'X').length, 1);
});

test('vars are read from the blob with the offsets in meta', () => {
  const { blob, meta, nvars } = packVars([
    ['A', 'one'],
    ['BB', ''],
    ['', 'x'],
    ['LATIN', 'caf\u00e9'],
  ]);
  const env = buildEnviron(
    0,
    blob,
    meta,
    nvars,
    EMPTY_INPUT,
    createEnvironContext(new FakeTransport(), { workerId: 1, coreId: 0, multithread: false, multiprocess: false }),
  );
  assert.equal(env['A'], 'one');
  assert.equal(env['BB'], '');
  assert.equal(env[''], 'x');
  assert.equal(env['LATIN'], 'caf\u00e9');
});

test('uwsgi url_scheme follows UWSGI_SCHEME, then HTTPS on/1, then REQUEST_SCHEME', () => {
  assert.equal(uwsgiScheme({}), 'http');
  assert.equal(uwsgiScheme({ UWSGI_SCHEME: 'https', HTTPS: 'off' }), 'https');
  assert.equal(uwsgiScheme({ UWSGI_SCHEME: 'ws' }), 'ws');
  assert.equal(uwsgiScheme({ HTTPS: 'on' }), 'https');
  assert.equal(uwsgiScheme({ HTTPS: 'ON' }), 'https');
  assert.equal(uwsgiScheme({ HTTPS: '1' }), 'https');
  assert.equal(uwsgiScheme({ HTTPS: 'off', REQUEST_SCHEME: 'http' }), 'http');
  assert.equal(uwsgiScheme({ HTTPS: '', REQUEST_SCHEME: 'https' }), 'https');
  assert.equal(uwsgiScheme({ REQUEST_SCHEME: 'gopher' }), 'http');
  assert.equal(capture([['HTTPS', 'on']], Uwsgi).env['tsgi.url_scheme'], 'https');
});

test('HTTP requests are http even if a client sends an HTTPS-looking header', () => {
  assert.equal(
    capture(
      httpVars('GET', '/', [
        ['HTTPS', 'on'],
        ['UWSGI_SCHEME', 'https'],
      ]),
      0,
    ).env['tsgi.url_scheme'],
    'http',
  );
});

test('uwsgi magic vars reach the app as plain strings and change nothing', () => {
  const before = { ...process.env };
  const cwd = process.cwd();
  const { env } = capture(
    [
      ['UWSGI_FILE', '/tmp/evil.js'],
      ['UWSGI_SETENV', 'PWNED=1'],
      ['UWSGI_CHDIR', '/'],
      ['UWSGI_POSTFILE', '/etc/passwd'],
    ],
    Uwsgi,
  );
  assert.equal(env['UWSGI_FILE'], '/tmp/evil.js');
  assert.equal(env['UWSGI_SETENV'], 'PWNED=1');
  assert.equal(process.env['PWNED'], undefined);
  assert.deepEqual({ ...process.env }, before);
  assert.equal(process.cwd(), cwd);
});

test('tsgi.errors writes each line to the server log', () => {
  let env: Record<string, unknown> | undefined;
  const s = FakeServer.gateway((e, sr) => {
    env = e;
    (e['tsgi.errors'] as { write(s: string): void }).write('first\nsecond\n');
    sr('200 OK', []);
    return '';
  });
  s.request();
  assert.deepEqual(s.transport.logs, ['first', 'second']);
  const errors = env!['tsgi.errors'] as { flush(): void };
  errors.flush();
});

test('a request without a body gets an input at EOF', async () => {
  const { env } = capture(httpVars());
  const input = env['tsgi.input'] as { read(): Promise<Uint8Array>; text(): Promise<string> };
  assert.equal((await input.read()).byteLength, 0);
  assert.equal(await input.text(), '');
});

test('a recurring var sequence gets a compiled builder with the same result as the loop', () => {
  const ctx = createEnvironContext(new FakeTransport(), {
    workerId: 1,
    coreId: 0,
    multithread: false,
    multiprocess: false,
  });
  const vars: Array<[string, string]> = [
    ['A', '1'],
    ['HTTPS', 'on'],
    ['A', '2'],
    ['tsgi.input', 'spoof'],
    ['7', 'n'],
  ];
  const { blob, meta, nvars } = packVars(vars);
  const results = [];
  for (let i = 0; i < 4; i++) results.push(buildEnviron(Uwsgi, blob, meta, nvars, EMPTY_INPUT, ctx));
  assert.equal(ctx.shapes.size, 1);
  const slow = buildEnvironSlow(Uwsgi, blob, meta, nvars, EMPTY_INPUT, ctx);
  for (const env of results) {
    assert.deepEqual(Object.keys(env), Object.keys(slow));
    assert.deepEqual(env, slow);
  }
  assert.equal(results[3]!['A'], '2');
  assert.equal(results[3]!['tsgi.input'], EMPTY_INPUT);
  assert.equal(results[3]!['tsgi.url_scheme'], 'https');
  // Same names, other values: the compiled builder reads the new offsets.
  const other = packVars([
    ['A', 'x'],
    ['HTTPS', 'off'],
    ['A', 'y'],
    ['tsgi.input', 'z'],
    ['7', 'm'],
  ]);
  const env = buildEnviron(Uwsgi, other.blob, other.meta, other.nvars, EMPTY_INPUT, ctx);
  assert.equal(env['A'], 'y');
  assert.equal(env['7'], 'm');
  assert.equal(env['tsgi.url_scheme'], 'http');
  // Different names with the same count do not match the shape.
  const renamed = packVars([
    ['B', 'x'],
    ['HTTPS', 'off'],
    ['A', 'y'],
    ['tsgi.input', 'z'],
    ['7', 'm'],
  ]);
  assert.equal(buildEnviron(0, renamed.blob, renamed.meta, renamed.nvars, EMPTY_INPUT, ctx)['B'], 'x');
});

test('a __proto__ var never changes the environ prototype', () => {
  const ctx = createEnvironContext(new FakeTransport(), {
    workerId: 1,
    coreId: 0,
    multithread: false,
    multiprocess: false,
  });
  const { blob, meta, nvars } = packVars([
    ['__proto__', 'x'],
    ['A', '1'],
  ]);
  for (let i = 0; i < 3; i++) {
    const env = buildEnviron(Uwsgi, blob, meta, nvars, EMPTY_INPUT, ctx);
    assert.equal(Object.getPrototypeOf(env), Object.prototype);
    assert.equal(env['A'], '1');
  }
  assert.equal(ctx.shapes.size, 0);
});
