// How the app file is loaded (docs/app-contract.md, "Loading"): JavaScript by Node itself,
// TypeScript through tsx. tsx transforms with esbuild, which runs as a child process of the
// process that loads the app: its presence shows whether tsx was used.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { getOnNewConnection } from './helpers/exchange';
import { APPS, startTsgi } from './helpers/tsgi';

/** The command names (comm) of the direct children of `pid`. */
function childNames(pid: number): string[] {
  const names: string[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) names.push(fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim());
    } catch {
      // the process ended meanwhile
    }
  }
  return names;
}

async function childrenWhileServing(app: string): Promise<{ body: string; children: string[] }> {
  const tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', path.join(APPS, app)]);
  try {
    const r = await getOnNewConnection(tsgi.ports[0]!);
    assert.equal(r.status, 200);
    return { body: r.body, children: childNames(tsgi.proc.pid!) };
  } finally {
    assert.equal(await tsgi.stop(), 0);
  }
}

describe('loading the app file', () => {
  test('a JavaScript app is served without tsx (no esbuild process)', async () => {
    const { body, children } = await childrenWhileServing('hello.js');
    assert.equal(body, 'Hello from hello.js');
    assert.deepEqual(children, []);
  });

  test('a TypeScript app is compiled by tsx (its esbuild process runs)', async () => {
    const { body, children } = await childrenWhileServing('hello.ts');
    assert.equal(body, 'Hello from hello.ts');
    assert.deepEqual(children, ['esbuild']);
  });

  test('a JavaScript app that imports a .ts module is served through tsx', async () => {
    const { body, children } = await childrenWhileServing(path.join('js-with-ts', 'app.mjs'));
    assert.equal(body, 'Hello app.mjs from TypeScript');
    assert.deepEqual(children, ['esbuild']);
  });
});

/** The body of the first answer of tsgi serving `file` (an undici probe) with `args` added. */
async function probeAnswer(args: string[], file = 'undici-probe.cjs'): Promise<string> {
  const app = path.join(APPS, file);
  const tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', app, ...args]);
  try {
    const r = await getOnNewConnection(tsgi.ports[0]!);
    assert.equal(r.status, 200);
    return r.body;
  } finally {
    assert.equal(await tsgi.stop(), 0);
  }
}

// Node's Request/Response/Headers come from undici, ~12 MiB of RSS per process once loaded
// (docs/app-contract.md, "Loading"): only an app that uses them pays for it.
describe("loading Node's fetch classes (undici)", () => {
  test('a gateway callable is served without undici being loaded', async () => {
    assert.equal(await probeAnswer(['--callable', 'gateway']), 'undici loaded: false');
  });

  test('a node:http handler is served without undici being loaded', async () => {
    assert.equal(await probeAnswer(['--callable', 'node', '--app-type', 'node']), 'undici loaded: false');
  });

  for (const [framework, callable] of [
    ['Express', 'expressApp'],
    ['Koa', 'koaApp'],
    ['Fastify', 'fastifyApp'],
  ]) {
    test(`an app built with ${framework} is served without undici being loaded`, async () => {
      const args = ['--callable', callable!];
      assert.equal(await probeAnswer(args, 'undici-probe-frameworks.mjs'), 'undici loaded: false');
    });
  }

  test('the workers of a master serving a gateway callable do not load undici', async () => {
    assert.equal(await probeAnswer(['--callable', 'gateway', '--master', '--processes', '2']), 'undici loaded: false');
  });

  test('a gateway callable on worker threads is served without undici being loaded', async () => {
    assert.equal(await probeAnswer(['--callable', 'gateway', '--threads', '2']), 'undici loaded: false');
  });

  test('a fetch app has undici loaded before its handler first runs', async () => {
    assert.equal(await probeAnswer(['--callable', 'fetchApp']), 'undici loaded: true');
  });

  test('an app that assigns globalThis.Request keeps its own class and loads no undici', async () => {
    assert.equal(await probeAnswer(['--callable', 'assigns']), 'own Request kept: true, undici loaded: false');
  });
});
