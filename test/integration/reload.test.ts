// Reloads under load (docs/master.md, "Reloads and the requests they meet"): in process mode
// a reload replaces each worker by starting the new process first; the old one keeps
// accepting until its replacement serves, whoever the SIGHUP was sent to (the master, one
// worker, or the whole process group as a shell's `kill -HUP %1` or `systemctl kill -s HUP`
// does), so no request waits for an app to load.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { readStats } from './helpers/exchange';
import { APPS, CLI, ROOT } from './helpers/tsgi';

const APP = path.join(APPS, 'slow-load.js');

interface Instance {
  pid: number;
  port: number;
  output(): string;
  /** Resolves once `re` matched `n` times in the output (rejects at the deadline). */
  waitCount(re: RegExp, n: number, timeoutMs?: number): Promise<void>;
  /** SIGTERM; resolves with the exit code, or null after killing the group at the deadline. */
  stop(timeoutMs?: number): Promise<number | null>;
}

function count(text: string, re: RegExp): number {
  return [...text.matchAll(new RegExp(re.source, 'g'))].length;
}

/** Starts the CLI as the leader of its own process group, so that a signal can be sent to
 *  the master and its workers at once (process.kill(-pid)) without reaching anything else. */
async function startInOwnGroup(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Instance> {
  const proc = spawn(process.execPath, [CLI, '--http-socket', '127.0.0.1:0', '--disable-logging', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  let exited = false;
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const w of [...waiters]) w();
  };
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString('latin1');
    wake();
  });
  proc.stderr!.on('data', (d: Buffer) => {
    out += d.toString('latin1');
    wake();
  });
  const exit = new Promise<number | null>((resolve) =>
    proc.on('exit', (code) => {
      exited = true;
      wake();
      resolve(code);
    }),
  );
  const waitCount = (re: RegExp, n: number, timeoutMs = 60000): Promise<void> =>
    new Promise((resolve, reject) => {
      const done = (err?: Error): void => {
        clearTimeout(timer);
        waiters.delete(check);
        if (err) reject(err);
        else resolve();
      };
      const check = (): void => {
        if (count(out, re) >= n) done();
        else if (exited) done(new Error(`tsgi exited before ${n} × ${re}; output:\n${out}`));
      };
      const timer = setTimeout(() => done(new Error(`timed out waiting for ${n} × ${re}; output:\n${out}`)), timeoutMs);
      waiters.add(check);
      check();
    });
  const instance: Instance = {
    pid: proc.pid!,
    port: 0,
    output: () => out,
    waitCount,
    stop: async (timeoutMs = 20000) => {
      if (!exited) proc.kill('SIGTERM');
      const t = setTimeout(() => {
        try {
          process.kill(-proc.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, timeoutMs);
      const code = await exit;
      clearTimeout(t);
      return code;
    },
  };
  await waitCount(/bound to TCP address/, 1);
  instance.port = Number(/bound to TCP address [\d.]+:(\d+)/.exec(out)![1]);
  return instance;
}

interface LoadResult {
  answered: number;
  failures: string[];
  /** The longest a single request waited for its answer, in ms. */
  slowestMs: number;
  pids: Set<number>;
}

/** Requests in a loop over `connections` kept-alive connections (node's Agent), each
 *  timed, until stop() or `max` requests; a millisecond's pause after each answer keeps the
 *  load steady without taking a whole CPU from the processes under test. */
function steadyLoad(port: number, connections: number, max = 500000) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const result: LoadResult = { answered: 0, failures: [], slowestMs: 0, pids: new Set() };
  let running = true;
  let sent = 0;
  const waiters = new Set<() => void>();
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const req = http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('error', (e) => {
          result.failures.push(e.message);
          resolve();
        });
        res.on('end', () => {
          result.slowestMs = Math.max(result.slowestMs, performance.now() - t0);
          if (res.statusCode !== 200) result.failures.push(`status ${res.statusCode}`);
          else result.pids.add(Number(body));
          result.answered++;
          for (const w of [...waiters]) w();
          resolve();
        });
      });
      req.on('error', (e) => {
        result.failures.push(e.message);
        resolve();
      });
      req.setTimeout(20000, () => req.destroy(new Error('no answer within 20 s')));
    });
  const loops = Array.from({ length: connections }, async () => {
    while (running && sent < max) {
      sent++;
      await one();
      await new Promise((r) => setTimeout(r, 1));
    }
  });
  return {
    result,
    /** Resolves once `n` more requests were answered (or the loops ended). */
    more: (n: number): Promise<void> => {
      const target = result.answered + n;
      return new Promise((resolve) => {
        const check = (): void => {
          if (result.answered >= target || !running || sent >= max) {
            waiters.delete(check);
            resolve();
          }
        };
        waiters.add(check);
        check();
      });
    },
    stop: async (): Promise<LoadResult> => {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return result;
    },
  };
}

function spawnedPids(out: string): number[] {
  return [...out.matchAll(/spawned tsgi worker \d+ \(pid: (\d+)/g)].map((m) => Number(m[1]));
}

/** One request on a new connection; resolves with the answering pid. */
function pidOf(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () =>
          res.statusCode === 200 ? resolve(Number(body)) : reject(new Error(`status ${res.statusCode}`)),
        );
      })
      .on('error', reject);
  });
}

describe('reloads in process mode', () => {
  test('a SIGHUP to the whole process group keeps the old workers accepting until their replacements serve: no request waits for the app to load', async () => {
    // The app takes 3 s to load: a request left to wait for a loading worker waits that long.
    const tsgi = await startInOwnGroup(['--wsgi-file', APP, '--processes', '2'], { TSGI_TEST_LOAD_MS: '3000' });
    await tsgi.waitCount(/ready in/, 2, 40000).catch(async (err) => {
      await tsgi.stop();
      throw err;
    }); // both workers (the master never loads the app)
    const load = steadyLoad(tsgi.port, 4);
    try {
      await load.more(200);
      for (let reload = 1; reload <= 2; reload++) {
        process.kill(-tsgi.pid, 'SIGHUP');
        await tsgi.waitCount(/ready in/, 2 + 2 * reload, 40000);
        await load.more(200);
      }
      const r = await load.stop();
      assert.deepEqual(r.failures, []);
      assert.ok(r.slowestMs < 1500, `the slowest of ${r.answered} requests waited ${r.slowestMs.toFixed(0)} ms`);
      assert.doesNotMatch(tsgi.output(), /DAMN|respawning too fast/, 'no worker stopped on its own');
      await tsgi.waitCount(/exited with code 0 \(graceful stop\)/, 4);
      assert.equal(spawnedPids(tsgi.output()).length, 6, 'one new process per worker and reload');
      assert.equal(await tsgi.stop(), 0, 'the master exits 0 on SIGTERM');
    } finally {
      await load.stop();
      await tsgi.stop();
    }
  });

  test('a SIGHUP sent to one worker replaces that worker, the new process serving before the old one stops', async () => {
    const tsgi = await startInOwnGroup(['--wsgi-file', APP, '--processes', '2']);
    await tsgi.waitCount(/ready in/, 2).catch(async (err) => {
      await tsgi.stop();
      throw err;
    });
    const load = steadyLoad(tsgi.port, 4);
    try {
      const [victim] = spawnedPids(tsgi.output());
      await load.more(100);
      process.kill(victim!, 'SIGHUP');
      await tsgi.waitCount(/ready in/, 3);
      await load.more(100);
      const r = await load.stop();
      assert.deepEqual(r.failures, []);
      const out = tsgi.output();
      assert.doesNotMatch(out, /DAMN/, 'the worker did not stop on its own');
      await tsgi.waitCount(new RegExp(`\\(pid: ${victim}\\) exited with code 0 \\(graceful stop\\)`), 1);
      const replacement = spawnedPids(tsgi.output())[2]!;
      const ready = tsgi.output().indexOf(`pid: ${replacement} (default app)`);
      const stopping = tsgi.output().indexOf(`(pid: ${victim}): stopping on the master's request`);
      assert.ok(
        ready >= 0 && stopping > ready,
        `the replacement (pid ${replacement}) served before worker ${victim} was stopped`,
      );
      assert.equal(spawnedPids(tsgi.output()).length, 3, 'only that worker was replaced');
      assert.equal(await tsgi.stop(), 0, 'the master exits 0 on SIGTERM');
    } finally {
      await load.stop();
      await tsgi.stop();
    }
  });

  test('a reload whose new workers fail to load the app leaves the old workers serving, and replaces them once the app loads again', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-reload-'));
    const broken = path.join(dir, 'broken');
    const tsgi = await startInOwnGroup(['--wsgi-file', APP, '--processes', '2', '--stats', '127.0.0.1:0'], {
      TSGI_TEST_BREAK_IF: broken,
    });
    // What the master says serves, by both of its views: the stats document and SIGUSR1.
    const statsPort = async (): Promise<number> => {
      await tsgi.waitCount(/\*\*\* Stats server enabled on 127\.0\.0\.1:\d+/, 1);
      return Number(/Stats server enabled on 127\.0\.0\.1:(\d+)/.exec(tsgi.output())![1]);
    };
    const statsPids = async (): Promise<number[]> => {
      const doc = await readStats(await statsPort());
      return doc.workers.map((w) => w.pid).sort();
    };
    // SIGUSR1's two lines: each slot's serving pid, whether it is ready, and the pids of a
    // replacement starting and of old workers finishing.
    let usr1 = 0;
    const usr1Slots = async (): Promise<Array<{ pid: number; ready: boolean; next: number; finishing: number }>> => {
      usr1++;
      process.kill(tsgi.pid, 'SIGUSR1');
      await tsgi.waitCount(/tsgi worker 2: pid \d+, ready/, usr1);
      return [
        ...tsgi
          .output()
          .matchAll(
            /^tsgi worker \d: pid (\d+), ready (\d), respawns \d+, replacement starting (\d+), finishing (\d+)/gm,
          ),
      ]
        .slice(-2)
        .map((m) => ({ pid: Number(m[1]), ready: m[2] === '1', next: Number(m[3]), finishing: Number(m[4]) }));
    };
    const pidsOf = (slots: Array<{ pid: number }>): number[] => slots.map((x) => x.pid).sort();
    try {
      await tsgi.waitCount(/ready in/, 2);
      const old = spawnedPids(tsgi.output()).sort();
      fs.writeFileSync(broken, '');
      process.kill(tsgi.pid, 'SIGHUP');
      await tsgi.waitCount(/exited with code 22/, 2);
      for (let i = 0; i < 20; i++) assert.ok(old.includes(await pidOf(tsgi.port)), 'an old worker answers');
      assert.deepEqual(await statsPids(), old);
      const during = await usr1Slots();
      assert.deepEqual(pidsOf(during), old);
      assert.ok(
        during.every((x) => x.ready),
        'the old workers are listed as ready',
      );
      // The deploy is fixed and the operator reloads again.
      fs.rmSync(broken);
      process.kill(tsgi.pid, 'SIGHUP');
      // Each old worker stops once its slot's replacement serves; a replacement that loaded
      // between the fix and the SIGHUP is itself replaced once more, so count by pid.
      for (const pid of old) {
        await tsgi.waitCount(new RegExp(`\\(pid: ${pid}\\) exited with code 0 \\(graceful stop\\)`), 1);
      }
      for (let i = 0; i < 20; i++) assert.ok(!old.includes(await pidOf(tsgi.port)), 'only new workers answer');
      // Once nothing is starting or finishing any more, both views list the same new workers.
      let settled: Array<{ pid: number; ready: boolean; next: number; finishing: number }> = [];
      for (let i = 0; i < 300; i++) {
        settled = await usr1Slots();
        if (settled.every((x) => x.ready && x.next === 0 && x.finishing === 0)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(
        settled.every((x) => x.ready && x.next === 0 && x.finishing === 0),
        JSON.stringify(settled),
      );
      const now = pidsOf(settled);
      assert.ok(
        now.every((pid) => !old.includes(pid)),
        `only new workers are listed (${now.join(', ')})`,
      );
      assert.deepEqual(await statsPids(), now);
      assert.equal(await tsgi.stop(), 0, 'the master exits 0 on SIGTERM');
    } finally {
      await tsgi.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a SIGHUP while the replacements still load the app replaces them once more after they serve, never running two at once', async () => {
    const tsgi = await startInOwnGroup(['--wsgi-file', APP, '--processes', '2'], { TSGI_TEST_LOAD_MS: '1500' });
    try {
      await tsgi.waitCount(/ready in/, 2, 40000);
      process.kill(tsgi.pid, 'SIGHUP');
      await tsgi.waitCount(/spawned tsgi worker/, 4);
      process.kill(tsgi.pid, 'SIGHUP');
      await tsgi.waitCount(/ready in/, 6, 40000);
      await tsgi.waitCount(/exited with code 0 \(graceful stop\)/, 4);
      const out = tsgi.output();
      const pids = spawnedPids(out);
      assert.equal(pids.length, 6, 'two replacements per worker');
      for (const slot of ['1', '2']) {
        const [, second, third] = [...out.matchAll(new RegExp(`spawned tsgi worker ${slot} \\(pid: (\\d+)`, 'g'))].map(
          (m) => m[1],
        );
        const secondServes = out.indexOf(`pid: ${second} (default app)`);
        const thirdStarts = out.indexOf(`(pid: ${third}, cores`);
        assert.ok(
          secondServes >= 0 && secondServes < thirdStarts,
          `worker ${slot}: pid ${third} started after pid ${second} served`,
        );
      }
      for (let i = 0; i < 10; i++)
        assert.ok(pids.slice(4).includes(await pidOf(tsgi.port)), 'the last replacements serve');
      assert.equal(await tsgi.stop(), 0, 'the master exits 0 on SIGTERM');
    } finally {
      await tsgi.stop();
    }
  });
});
