// What each process of an instance loads (docs/architecture.md, "Processes and threads";
// bench/RESULTS.md, "Memory and start-up"): what a process loads it keeps for its whole life,
// so the master holds neither the app nor the app layer, and a worker loads node:http only
// for a node:http app.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { getOnNewConnection } from './helpers/exchange';
import { APPS, startTsgi } from './helpers/tsgi';

const PROBE = path.join(APPS, 'modules-probe.cjs');
const RECORD = path.join(APPS, 'modules-record.cjs');

interface Recorded {
  title: string;
  builtins: string[];
  own: string[];
}

/** The first answer of tsgi serving the probe with `args` added. */
async function probeAnswer(args: string[]): Promise<string> {
  const tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', PROBE, ...args]);
  try {
    const r = await getOnNewConnection(tsgi.ports[0]!);
    assert.equal(r.status, 200);
    return r.body;
  } finally {
    assert.equal(await tsgi.stop(), 0);
  }
}

/** Serves one request with `args`, stops, and returns what every process recorded at exit. */
async function recordedModules(args: string[]): Promise<Recorded[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-modules-'));
  try {
    const env = { NODE_OPTIONS: `--require ${RECORD}`, TSGI_TEST_MODULES_DIR: dir };
    const tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', PROBE, ...args], { env });
    try {
      await tsgi.waitFor(/ready in/);
      assert.equal((await getOnNewConnection(tsgi.ports[0]!)).status, 200);
    } finally {
      assert.equal(await tsgi.stop(), 0);
    }
    return fs.readdirSync(dir).map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Recorded);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('what each process loads', () => {
  test('a master loads neither the app nor the app layer, node:http, node:https, node:tls or node:crypto', async () => {
    const all = await recordedModules(['--callable', 'gateway', '--processes', '2']);
    const master = all.find((r) => r.title === 'tsgi master');
    assert.ok(master !== undefined, `a master recorded its modules: ${all.map((r) => r.title).join(', ')}`);
    assert.deepEqual(
      master.builtins.filter((m) => ['http', 'https', 'tls', 'crypto'].includes(m)),
      [],
    );
    assert.deepEqual(
      master.own.filter((f) => f.startsWith('app/') || /^stats\/(index|server|metrics-server|prometheus)$/.test(f)),
      [],
      'no app layer, and no stats servers without --stats or --metrics',
    );
    assert.ok(master.own.includes('master/master'), 'the record names tsgi files');
    const workers = all.filter((r) => r.title.startsWith('tsgi worker'));
    assert.equal(workers.length, 2);
    for (const w of workers) assert.ok(w.own.includes('app/dispatcher'), `${w.title} loaded the app layer`);
  });

  test('a master with --stats loads the stats modules', async () => {
    const all = await recordedModules(['--callable', 'gateway', '--processes', '2', '--stats', '127.0.0.1:0']);
    const master = all.find((r) => r.title === 'tsgi master');
    assert.ok(master?.own.includes('stats/server'));
  });

  test('a gateway callable is served without node:http, node:https, node:tls, node:crypto or node:worker_threads', async () => {
    assert.equal(await probeAnswer(['--callable', 'gateway']), 'none');
    assert.equal(await probeAnswer(['--callable', 'gateway', '--master', '--processes', '2']), 'none');
  });

  test("a fetch handler has node:http loaded by Node's fetch classes (undici), which it needs", async () => {
    assert.match(await probeAnswer(['--callable', 'fetchApp']), /^http,/);
  });

  test("a worker's process.execArgv, which child_process.fork passes on, holds no flag of tsgi's own", async () => {
    assert.deepEqual(JSON.parse(await probeAnswer(['--callable', 'execArgv', '--processes', '2'])), []);
    assert.deepEqual(JSON.parse(await probeAnswer(['--callable', 'execArgv'])), []);
  });

  test('a node:http app is served with node:http loaded', async () => {
    assert.match(await probeAnswer(['--callable', 'node', '--app-type', 'node']), /^http(,|$)/);
  });
});
