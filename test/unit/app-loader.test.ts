import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type * as Loader from '../../src/app/loader';
import { FakeServer, settle } from './helpers/fake-native';

// The compiled loader (npm run build:ts), as the CLI runs it: these tests run under tsx's
// global hooks, which would map an import() of "hello.js" written in a .ts file to its
// "hello.ts" sibling; the loader imports JavaScript with Node's own import().
const { loadApp, resolveModule, splitModuleSpec } = require('../../dist/app/loader') as typeof Loader;
type LoadedApp = Loader.LoadedApp;

const APPS = path.resolve(__dirname, '../fixtures/apps');

/** Serves one GET through the loaded app and returns the body. */
async function serve(app: LoadedApp): Promise<string> {
  const s = new FakeServer(app);
  const id = s.request();
  for (let i = 0; i < 50 && !s.transport.rec(id).ended; i++) await settle();
  return s.transport.body(id);
}

test('a CommonJS .js file with exports.application loads as a gateway callable', async () => {
  const app = await loadApp({ wsgiFile: 'hello.js', chdir: APPS });
  assert.equal(app.kind, 'gateway');
  assert.equal(app.exportName, 'application');
  assert.equal(await serve(app), 'Hello from hello.js');
});

test('an ESM .mjs file with a named export loads', async () => {
  assert.equal(await serve(await loadApp({ wsgiFile: path.join(APPS, 'hello.mjs') })), 'Hello from hello.mjs');
});

test('a JavaScript app that imports a .ts module loads through tsx', async () => {
  const app = await loadApp({ wsgiFile: path.join(APPS, 'js-with-ts', 'app.mjs') });
  assert.equal(await serve(app), 'Hello app.mjs from TypeScript');
});

test('a JavaScript app that names a TypeScript module "x.js" loads through tsx', async () => {
  const app = await loadApp({ wsgiFile: path.join(APPS, 'js-with-ts', 'app-js-names.mjs') });
  assert.equal(await serve(app), 'Hello app-js-names.mjs from TypeScript');
});

test('a JavaScript app whose load failed loads afresh when it is loaded again in the same isolate', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-loader-'));
  const marker = path.join(dir, 'fail');
  fs.writeFileSync(marker, '');
  process.env.TSGI_TEST_FAIL_MARKER = marker;
  try {
    const file = path.join(APPS, 'fails-while-marked.mjs');
    await assert.rejects(loadApp({ wsgiFile: file }), /marker present/);
    fs.rmSync(marker);
    assert.equal(await serve(await loadApp({ wsgiFile: file })), 'loaded');
  } finally {
    delete process.env.TSGI_TEST_FAIL_MARKER;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a .cjs file whose module.exports is the function is taken as the default export', async () => {
  const app = await loadApp({ wsgiFile: 'hello.cjs', chdir: APPS });
  assert.equal(app.exportName, 'default');
  assert.equal(await serve(app), 'Hello from hello.cjs');
});

test('TypeScript files load with no build step: .ts, .mts (typed, --callable app) and .cts', async () => {
  assert.equal(await serve(await loadApp({ wsgiFile: 'hello.ts', chdir: APPS })), 'Hello from hello.ts');
  assert.equal(
    await serve(await loadApp({ wsgiFile: 'hello.mts', chdir: APPS, callable: 'app' })),
    'Hello from hello.mts GET',
  );
  assert.equal(await serve(await loadApp({ wsgiFile: 'hello.cts', chdir: APPS })), 'Hello from hello.cts');
});

test('an object with a fetch method is a fetch handler', async () => {
  const app = await loadApp({ wsgiFile: 'fetch-app.ts', chdir: APPS, callable: 'app' });
  assert.equal(app.kind, 'fetch');
  assert.equal(await serve(app), 'fetch GET /');
});

test('the default export is used when the named callable is missing', async () => {
  assert.equal(
    await serve(await loadApp({ wsgiFile: 'default-export.mjs', chdir: APPS })),
    'Hello from default-export.mjs',
  );
  const fetchApp = await loadApp({ wsgiFile: 'default-fetch.mjs', chdir: APPS });
  assert.equal(fetchApp.kind, 'fetch');
  assert.equal(await serve(fetchApp), 'default fetch');
});

test('--app-type fetch makes a plain function a fetch handler; gateway refuses an object', async () => {
  const app = await loadApp({ wsgiFile: 'hello.cjs', chdir: APPS, appType: 'fetch' });
  assert.equal(app.kind, 'fetch');
  await assert.rejects(loadApp({ wsgiFile: 'default-fetch.mjs', chdir: APPS, appType: 'gateway' }), {
    code: 'TSGI_ERR_APP_LOAD_FAILED',
  });
});

test('a missing file fails with TSGI_ERR_APP_NOT_FOUND and exit code 22', async () => {
  await assert.rejects(
    loadApp({ wsgiFile: 'nope.js', chdir: APPS }),
    (err: Error & { code: string; exitCode: number }) => {
      assert.equal(err.code, 'TSGI_ERR_APP_NOT_FOUND');
      assert.equal(err.exitCode, 22);
      assert.match(err.message, /nope\.js/);
      return true;
    },
  );
});

test('a missing callable with no default export fails with TSGI_ERR_CALLABLE_NOT_FOUND', async () => {
  await assert.rejects(loadApp({ wsgiFile: 'no-callable.mjs', chdir: APPS }), {
    code: 'TSGI_ERR_CALLABLE_NOT_FOUND',
  });
  await assert.rejects(loadApp({ wsgiFile: 'hello.mjs', chdir: APPS, callable: 'other' }), {
    code: 'TSGI_ERR_CALLABLE_NOT_FOUND',
  });
});

test('a syntax error or a throw while loading fails with TSGI_ERR_APP_LOAD_FAILED', async () => {
  await assert.rejects(loadApp({ wsgiFile: 'broken.js', chdir: APPS }), (err: Error & { code: string }) => {
    assert.equal(err.code, 'TSGI_ERR_APP_LOAD_FAILED');
    assert.match(err.message, /broken\.js/);
    assert.match(err.message, /SyntaxError/);
    assert.match(err.message, /broken\.js:3/);
    return true;
  });
  await assert.rejects(loadApp({ wsgiFile: 'throws-on-load.mjs', chdir: APPS }), /boom while loading/);
});

test('--module resolves relative paths, dotted names and name:callable from chdir', async () => {
  assert.equal(await serve(await loadApp({ module: './hello', chdir: APPS })), 'Hello from hello.js');
  assert.equal(await serve(await loadApp({ module: 'pkgdir.sub.wsgi', chdir: APPS })), 'Hello from pkgdir/sub/wsgi.js');
  assert.equal(await serve(await loadApp({ module: 'hello.mts:app', chdir: APPS })), 'Hello from hello.mts GET');
  await assert.rejects(loadApp({ module: 'no_such_module_anywhere', chdir: APPS }), { code: 'TSGI_ERR_APP_NOT_FOUND' });
});

test('--module resolves bare package names through node_modules', () => {
  const root = path.resolve(__dirname, '../..');
  assert.match(resolveModule('tsx/esm/api', root) ?? '', /node_modules\/tsx\//);
  assert.match(resolveModule('typescript', root) ?? '', /node_modules\/typescript\//);
});

test('a module spec splits at its last colon', () => {
  assert.deepEqual(splitModuleSpec('pkg.app:api'), { name: 'pkg.app', callable: 'api' });
  assert.deepEqual(splitModuleSpec('pkg.app'), { name: 'pkg.app' });
  assert.deepEqual(splitModuleSpec('pkg:'), { name: 'pkg:' });
});

test('a TypeScript syntax error names the file and line', async () => {
  await assert.rejects(loadApp({ wsgiFile: 'broken.ts', chdir: APPS }), (err: Error & { code: string }) => {
    assert.equal(err.code, 'TSGI_ERR_APP_LOAD_FAILED');
    assert.match(err.message, /broken\.ts:2/);
    return true;
  });
});

test('an Express app export is recognised as a node:http app without flags', async () => {
  const app = await loadApp({ wsgiFile: 'node-express5.cjs', chdir: APPS, callable: 'app' });
  assert.equal(app.kind, 'node');
  assert.equal(app.kind === 'node' && app.label, 'Express app');
});

test('Koa and Fastify exports are node:http apps (Fastify after ready())', async () => {
  const koa = await loadApp({ wsgiFile: 'node-koa.mjs', chdir: APPS, callable: 'app' });
  const fastify = await loadApp({ wsgiFile: 'node-fastify.mjs', chdir: APPS, callable: 'app' });
  assert.equal(koa.kind === 'node' && koa.label, 'Koa app');
  assert.equal(fastify.kind === 'node' && fastify.label, 'Fastify instance');
});

test('a plain function is a gateway callable unless --app-type node', async () => {
  const gw = await loadApp({ wsgiFile: 'node-plain-handler.cjs', chdir: APPS, callable: 'handler' });
  const node = await loadApp({ wsgiFile: 'node-plain-handler.cjs', chdir: APPS, callable: 'handler', appType: 'node' });
  assert.equal(gw.kind, 'gateway');
  assert.equal(node.kind, 'node');
});

test('an entry that calls listen() at import and exports nothing is served through that server', async () => {
  const lines: string[] = [];
  const app = await loadApp({ wsgiFile: 'node-listen-at-import.cjs', chdir: APPS, log: (l) => lines.push(l) });
  assert.equal(app.kind, 'node');
  assert.equal(app.exportName, 'listen()');
  assert.ok(lines.some((l) => /took over server\.listen\(3000\)/.test(l)));
});

test('export default { fetch } compiled to CommonJS by tsx is unwrapped to the fetch handler', async () => {
  const app = await loadApp({ wsgiFile: 'node-ts-default/app.ts', chdir: APPS });
  assert.equal(app.kind, 'fetch');
});

test('a missing callable lists the exports that were found', async () => {
  await assert.rejects(
    loadApp({ wsgiFile: 'node-named-exports.mjs', chdir: APPS, callable: 'app', listenWaitMs: 0 }),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, 'TSGI_ERR_CALLABLE_NOT_FOUND');
      assert.match(err.message, /exports found: handler, version/);
      return true;
    },
  );
});

test('an import-time throw reports the stack frame in the app file', async () => {
  await assert.rejects(loadApp({ wsgiFile: 'node-throws-deep.cjs', chdir: APPS }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'TSGI_ERR_APP_LOAD_FAILED');
    assert.match(err.message, /database unreachable/);
    assert.match(err.message, /node-throws-deep\.cjs:3/);
    return true;
  });
});
