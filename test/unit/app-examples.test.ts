import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadApp } from '../../src/app/loader';
import { FakeServer, httpVars, until } from './helpers/fake-native';

const EXAMPLES = path.resolve(__dirname, '../../examples');

const cases = [
  ['foobar.js', 'application', 'GET', '/', undefined, 'Hello World'],
  ['fetch-app.ts', 'app', 'GET', '/json?x=1', undefined, '{"method":"GET","path":"/json","query":"?x=1"}'],
  ['fetch-app.ts', 'app', 'POST', '/echo', 'echoed', 'echoed'],
  ['stream.mjs', 'application', 'GET', '/write', undefined, 'pushed with write()\nbytes work too\n'],
  [
    'upload.js',
    'application',
    'POST',
    '/',
    'abc',
    '3 bytes, sha256 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n',
  ],
  ['hono-app.ts', 'app', 'GET', '/users/7?q=x', undefined, '{"id":"7","q":"x"}'],
  ['express-app.js', 'application', 'GET', '/users/7?q=x', undefined, '{"id":"7","q":"x"}'],
  ['koa-app.mjs', 'app', 'GET', '/users/7?q=x', undefined, '{"id":"7","q":"x"}'],
  ['fastify-app.mjs', 'app', 'GET', '/users/7?q=x', undefined, '{"id":"7","q":"x"}'],
] as const;

for (const [file, callable, method, uri, body, expected] of cases) {
  test(`examples/${file} answers ${method} ${uri}`, async () => {
    const s = new FakeServer(await loadApp({ wsgiFile: path.join(EXAMPLES, file), callable }));
    const id = s.request(httpVars(method, uri), { body });
    await until(() => s.transport.rec(id).ended, file);
    assert.equal(s.transport.body(id), expected);
  });
}
