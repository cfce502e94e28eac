// The cheaper subsystem end to end (docs/master.md, "Cheaper"): the real CLI with --cheaper,
// a load step of slow requests, the workers it spawns and retires, seen in the log and in the
// stats document. Nothing here depends on how fast the machine is: every wait is for a log
// line or a stats state, with generous bounds.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { getOnNewConnection, readStats } from './helpers/exchange';
import { APPS, runTsgi, startTsgi, type TsgiHandle } from './helpers/tsgi';

const APP = path.join(APPS, 'master-pid.js');

/** Keeps `concurrency` slow requests in flight until stopped; counts results. */
function loadStep(port: number, concurrency: number, slowMs: number) {
  let running = true;
  const failures: string[] = [];
  let ok = 0;
  const one = async (): Promise<void> => {
    while (running) {
      try {
        const r = await getOnNewConnection(port, `/slow?${slowMs}`);
        if (r.status === 200) ok++;
        else failures.push(`status ${r.status}`);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  };
  const all = Promise.all(Array.from({ length: concurrency }, one));
  return {
    stop: async () => {
      running = false;
      await all;
      return { ok, failures };
    },
  };
}

interface StatsWorker {
  id: number;
  pid: number;
  status: string;
}

async function statsPort(tsgi: TsgiHandle): Promise<number> {
  const line = await tsgi.waitFor(/\*\*\* Stats server enabled on 127\.0\.0\.1:(\d+) fd: \d+ \*\*\*/);
  return Number(/:(\d+) fd/.exec(line)![1]);
}

/** Polls the stats document until `ok` holds for it (every 200 ms, at most `timeoutMs`). */
async function statsUntil(
  port: number,
  ok: (workers: StatsWorker[]) => boolean,
  what: string,
  timeoutMs = 90000,
): Promise<StatsWorker[]> {
  const deadline = Date.now() + timeoutMs;
  let last: StatsWorker[] = [];
  while (Date.now() < deadline) {
    last = (await readStats(port)).workers;
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}; last workers: ${JSON.stringify(last)}`);
}

const running = (ws: StatsWorker[]): StatsWorker[] => ws.filter((w) => w.status !== 'cheap');

function count(text: string, re: RegExp): number {
  return [...text.matchAll(new RegExp(re.source, 'g'))].length;
}

const BASE = ['--http-socket', '127.0.0.1:0', '--wsgi-file', APP, '--stats', '127.0.0.1:0', '--processes', '4'];

/**
 * Starts with one worker, applies a load step until the stats show `want` workers running,
 * ends it and waits until the stats show one worker again; every request must succeed.
 */
async function scaleUpAndDown(args: string[], concurrency: number, want: number): Promise<TsgiHandle> {
  const tsgi = await startTsgi([
    ...BASE,
    '--cheaper',
    '1',
    '--cheaper-initial',
    '1',
    '--cheaper-overload',
    '1',
    ...args,
  ]);
  const stats = await statsPort(tsgi);
  await tsgi.waitFor(/ready in/); // worker 1 loaded the app (the master never does)
  const boot = await readStats(stats);
  assert.deepEqual(
    boot.workers.map((w) => w.status === 'cheap'),
    [false, true, true, true],
    'one worker at boot, three cheap slots',
  );
  assert.deepEqual(
    boot.workers.slice(1).map((w) => w.pid),
    [0, 0, 0],
  );
  assert.equal(count(tsgi.output(), /spawned tsgi worker/), 1);
  const load = loadStep(tsgi.ports[0]!, concurrency, 400);
  try {
    await statsUntil(stats, (ws) => running(ws).length >= want, `${want} running workers`);
  } finally {
    const { ok, failures } = await load.stop();
    assert.deepEqual(failures, [], 'no request failed while scaling up');
    assert.ok(ok > 0);
  }
  assert.ok(count(tsgi.output(), /spawned tsgi worker/) >= want);
  const after = await statsUntil(stats, (ws) => running(ws).length === 1, 'one running worker again');
  assert.equal(after.filter((w) => w.status === 'cheap').length, 3);
  assert.match(tsgi.output(), /tsgi worker \d cheaped\./);
  // The one left serves, and the cheap slots have no process.
  const { failures } = await (async () => {
    const f: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await getOnNewConnection(tsgi.ports[0]!);
      if (r.status !== 200) f.push(`status ${r.status}`);
    }
    return { failures: f };
  })();
  assert.deepEqual(failures, []);
  return tsgi;
}

describe('cheaper (adaptive process count)', () => {
  test('spare: one worker at boot, more under a load step, back to one when it ends, no request failing', async () => {
    const tsgi = await scaleUpAndDown([], 8, 3);
    try {
      const out = tsgi.output();
      assert.match(out, /^tsgi: cheaper mode \(algo spare\): 1 to 4 workers, starting 1$/m);
      assert.match(out, /^tsgi: cheaper \(spare\): spawning 1 new worker\(s\), \d of 4 running$/m);
      assert.match(out, /^tsgi: cheaper \(spare\): cheaping worker \d \(pid: \d+\), \d of 4 left running$/m);
      assert.match(out, /exited with code 0 \(graceful stop\)\ntsgi worker \d cheaped\./);
      assert.doesNotMatch(out, /DAMN/);
    } finally {
      assert.equal(await tsgi.stop(), 0);
    }
  });

  test('busyness: spawns above --cheaper-busyness-max and retires below --cheaper-busyness-min', async () => {
    const tsgi = await scaleUpAndDown(
      [
        '--cheaper-algo',
        'busyness',
        '--cheaper-busyness-min',
        '10',
        '--cheaper-busyness-max',
        '20',
        '--cheaper-busyness-multiplier',
        '1',
      ],
      8,
      2,
    );
    try {
      const out = tsgi.output();
      assert.match(out, /^\[busyness\] settings: min=10%, max=20%, overload=1, multiplier=1, respawn penalty=2$/m);
      assert.match(out, /^\[busyness\] 1s average busyness is at \d+%, will spawn 1 new worker\(s\)$/m);
      assert.match(out, /^\[busyness\] 1s average busyness is at \d+%, cheap one of \d running workers$/m);
      assert.doesNotMatch(out, /DAMN/);
    } finally {
      assert.equal(await tsgi.stop(), 0);
    }
  });

  test('backlog: spawns while the listen queue is longer than --cheaper-overload, retires when it empties', async () => {
    // 12 clients for one single-core worker: about 11 wait in the listen queue.
    const tsgi = await scaleUpAndDown(['--cheaper-algo', 'backlog'], 12, 2);
    try {
      assert.match(tsgi.output(), /^tsgi: cheaper \(backlog\): spawning 1 new worker\(s\)/m);
      assert.doesNotMatch(tsgi.output(), /DAMN/);
    } finally {
      assert.equal(await tsgi.stop(), 0);
    }
  });

  test('cheap slots stay down through SIGHUP, a killed worker, --max-requests recycling and shutdown', async () => {
    const tsgi = await startTsgi([
      ...BASE,
      '--cheaper',
      '1',
      '--cheaper-overload',
      '30',
      '--max-requests',
      '8',
      '--min-worker-lifetime',
      '0',
    ]);
    try {
      const stats = await statsPort(tsgi);
      await tsgi.waitFor(/ready in/);
      // --max-requests: worker 1 is replaced once (its successor started first), nothing else.
      for (let i = 0; i < 12; i++) assert.equal((await getOnNewConnection(tsgi.ports[0]!)).status, 200);
      await tsgi.waitFor(/tsgi worker 1 \(pid: \d+\) recycles: max requests reached/);
      await tsgi.waitFor(/exited with code 0 \(graceful stop\)/, 30000);
      // SIGHUP: one replacement, for worker 1 only.
      const spawnedBefore = count(tsgi.output(), /spawned tsgi worker/);
      const stoppedBefore = count(tsgi.output(), /\(graceful stop\)/);
      tsgi.proc.kill('SIGHUP');
      await tsgi.waitFor(/graceful reload of every worker \(SIGHUP\)/);
      await statsUntil(stats, (ws) => ws[0]!.pid !== 0 && ws[0]!.status !== 'cheap', 'worker 1 serving', 30000);
      await tsgi.waitFor(new RegExp(`(spawned tsgi worker 1 [^\\n]*\\n[\\s\\S]*){${spawnedBefore + 1}}`), 30000);
      // The old worker 1 has finished: the one in the stats is its replacement, serving.
      await tsgi.waitFor(new RegExp(`(\\(graceful stop\\)[^\\n]*\\n[\\s\\S]*){${stoppedBefore + 1}}`), 30000);
      // A killed worker is respawned; its cheap neighbours are not.
      const pid = (await readStats(stats)).workers[0]!.pid;
      process.kill(pid, 'SIGKILL');
      await tsgi.waitFor(new RegExp(`DAMN ! tsgi worker 1 \\(pid: ${pid}\\) killed by signal SIGKILL`));
      const ws = await statsUntil(stats, (w) => w[0]!.pid !== 0 && w[0]!.pid !== pid, 'worker 1 respawned', 30000);
      assert.deepEqual(
        ws.map((w) => w.status === 'cheap'),
        [false, true, true, true],
      );
      assert.equal(count(tsgi.output(), /spawned tsgi worker [234]/), 0, 'no cheap slot was ever started');
      tsgi.proc.kill('SIGUSR1');
      await tsgi.waitFor(/tsgi worker 4: pid 0, ready 0, [^\n]*cheap 1/);
      assert.match(tsgi.output(), /tsgi worker 1: pid [1-9]\d*, ready [01], [^\n]*cheap 0/);
      assert.equal((await getOnNewConnection(tsgi.ports[0]!)).status, 200);
    } finally {
      assert.equal(await tsgi.stop(), 0);
    }
    assert.match(tsgi.output(), /goodbye to tsgi\./);
  });

  test('a chain reload replaces only the running workers and skips the cheap slots', async () => {
    const dir = fs.mkdtempSync('/tmp/tsgi-cheaper-');
    const touch = path.join(dir, 'reload');
    fs.writeFileSync(touch, '1');
    const tsgi = await startTsgi([
      ...BASE,
      '--cheaper',
      '1',
      '--cheaper-initial',
      '2',
      '--cheaper-overload',
      '600',
      '--touch-chain-reload',
      touch,
    ]);
    try {
      await tsgi.waitFor(/(ready in [^\n]*\n[\s\S]*){2}/);
      const later = new Date(Date.now() + 5000);
      fs.utimesSync(touch, later, later);
      await tsgi.waitFor(/chain reloading complete/, 60000);
      const out = tsgi.output();
      assert.match(out, /chain reload: worker 1\n[\s\S]*chain reload: worker 2\n/);
      assert.doesNotMatch(out, /chain reload: worker [34]/);
      assert.equal(count(out, /spawned tsgi worker [34]/), 0);
      assert.equal((await getOnNewConnection(tsgi.ports[0]!)).status, 200);
    } finally {
      assert.equal(await tsgi.stop(), 0);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--cheaper not lower than --processes is refused at start-up with uWSGI message', async () => {
    const r = await runTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', APP, '--processes', '2', '--cheaper', '2']);
    assert.equal(r.code, 1);
    assert.match(r.output, /invalid cheaper value: must be lower than processes \(--cheaper 2, --processes 2\)/);
  });
});
