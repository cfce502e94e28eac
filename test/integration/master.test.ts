// The master and its worker processes (docs/master.md, signals in its "Signals" section):
// prefork workers sharing the sockets, respawn, graceful reload and shutdown, recycling.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { getOnNewConnection } from './helpers/exchange';
import { APPS, CLI, runTsgi, startTsgi, type TsgiHandle } from './helpers/tsgi';

const APP = path.join(APPS, 'master-pid.js');

/** Fires `n` requests with `concurrency` in flight; returns the failures and the bodies. */
async function load(port: number, n: number, concurrency: number): Promise<{ failures: string[]; bodies: string[] }> {
  const failures: string[] = [];
  const bodies: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      try {
        const r = await getOnNewConnection(port);
        if (r.status !== 200) failures.push(`status ${r.status}`);
        else bodies.push(r.body);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { failures, bodies };
}

function workerPids(tsgi: TsgiHandle): number[] {
  const pids = new Map<string, number>();
  for (const m of tsgi.output().matchAll(/spawned tsgi worker (\d+) \(pid: (\d+)/g)) pids.set(m[1]!, Number(m[2]));
  return [...pids.values()];
}

function title(pid: number): string {
  return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
}

describe('master and worker processes', () => {
  test('--processes 3 spreads requests over three named worker processes (uWSGI quick-start --processes 3)', async () => {
    const tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', APP, '--processes', '3']);
    try {
      await tsgi.waitFor(/(ready in [^\n]*\n[\s\S]*){3}/); // 3 workers (the master never loads the app)
      const { failures, bodies } = await load(tsgi.ports[0]!, 60, 6);
      assert.deepEqual(failures, []);
      const pids = workerPids(tsgi);
      assert.equal(pids.length, 3);
      assert.ok(new Set(bodies).size >= 2, `requests reached ${new Set(bodies).size} worker(s)`);
      for (const b of bodies) assert.ok(pids.includes(Number(b)), `pid ${b} is one of the workers`);
      assert.match(title(tsgi.proc.pid!), /^tsgi master/);
      assert.deepEqual(pids.map(title).sort(), ['tsgi worker 1', 'tsgi worker 2', 'tsgi worker 3']);
    } finally {
      assert.equal(await tsgi.stop(), 0);
    }
  });

  test('a worker killed with SIGKILL is respawned at once, without the fork-bomb back-off, and the others keep serving', async () => {
    const tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', APP, '--processes', '2']);
    try {
      await tsgi.waitFor(/(ready in [^\n]*\n[\s\S]*){2}/);
      const [victim] = workerPids(tsgi);
      process.kill(victim!, 'SIGKILL');
      await tsgi.waitFor(
        new RegExp(`DAMN ! tsgi worker \\d \\(pid: ${victim}\\) killed by signal SIGKILL :\\( trying respawn`),
      );
      await tsgi.waitFor(/(spawned tsgi worker [^\n]*\n[\s\S]*){3}/);
      // One death is never "respawning too fast": the replacement was spawned right away, not
      // after the back-off (how long that takes is the machine's business, not the test's).
      assert.doesNotMatch(tsgi.output(), /respawning too fast/);
      const { failures } = await load(tsgi.ports[0]!, 40, 4);
      assert.deepEqual(failures, []);
    } finally {
      assert.equal(await tsgi.stop(), 0);
    }
  });

  test('SIGHUP while requests flow replaces every worker with zero failed requests', async () => {
    const tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', APP, '--processes', '2']);
    try {
      await tsgi.waitFor(/(ready in [^\n]*\n[\s\S]*){2}/);
      const before = workerPids(tsgi);
      const running = load(tsgi.ports[0]!, 400, 8);
      await new Promise((r) => setTimeout(r, 100));
      tsgi.proc.kill('SIGHUP');
      const { failures, bodies } = await running;
      await tsgi.waitFor(/(exited with code 0 \(graceful stop\)[^\n]*\n[\s\S]*){2}/);
      assert.deepEqual(failures, []);
      const after = workerPids(tsgi).filter((p) => !before.includes(p));
      assert.equal(after.length, 2, 'two new workers');
      const { bodies: later } = await load(tsgi.ports[0]!, 20, 2);
      for (const b of later) assert.ok(after.includes(Number(b)), 'only new workers serve after the reload');
      assert.ok(bodies.length === 400);
    } finally {
      assert.equal(await tsgi.stop(), 0);
    }
  });

  test('SIGTERM lets an in-flight request finish, then the master exits 0', async () => {
    const tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', APP, '--processes', '2']);
    await tsgi.waitFor(/(ready in [^\n]*\n[\s\S]*){2}/);
    const slow = getOnNewConnection(tsgi.ports[0]!, '/slow?700');
    await new Promise((r) => setTimeout(r, 150));
    const code = tsgi.stop('SIGTERM');
    const res = await slow;
    assert.equal(res.status, 200);
    assert.equal(await code, 0);
    assert.match(tsgi.output(), /goodbye to tsgi\./);
  });

  test('--max-requests recycles workers with zero failed requests', async () => {
    const tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      APP,
      '--processes',
      '2',
      '--max-requests',
      '25',
      '--min-worker-lifetime',
      '0',
    ]);
    try {
      await tsgi.waitFor(/(ready in [^\n]*\n[\s\S]*){2}/);
      const first = workerPids(tsgi);
      const { failures, bodies } = await load(tsgi.ports[0]!, 300, 4);
      assert.deepEqual(failures, []);
      assert.equal(bodies.length, 300);
      await tsgi.waitFor(/recycles: max requests reached/);
      await tsgi.waitFor(/exited with code 0 \(graceful stop\)/);
      // A replacement starts while the old worker goes on serving, so on a busy machine all 300
      // may be answered by the first two; and which of two processes wins an accept is up to the
      // scheduler. So ask in rounds, each checked for failures, until a new process answers; the
      // bound is far beyond what the recycling needs (every 25 requests a worker is replaced).
      let byNewProcess = [...bodies].map(Number).some((p) => !first.includes(p));
      for (let round = 0; round < 20 && !byNewProcess; round++) {
        const more = await load(tsgi.ports[0]!, 20, 2);
        assert.deepEqual(more.failures, []);
        byNewProcess = more.bodies.map(Number).some((p) => !first.includes(p));
      }
      assert.ok(byNewProcess, 'recycled workers were replaced by new processes that serve');
    } finally {
      assert.equal(await tsgi.stop(), 0);
    }
  });

  test('--max-worker-lifetime replaces each worker once it has lived that long, staggered by the delta, with zero failed requests', async () => {
    const tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      APP,
      '--processes',
      '2',
      '--max-worker-lifetime',
      '2',
      '--max-worker-lifetime-delta',
      '1',
      '--min-worker-lifetime',
      '0',
    ]);
    try {
      await tsgi.waitFor(/(ready in [^\n]*\n[\s\S]*){2}/);
      const first = workerPids(tsgi);
      // Requests keep flowing while both workers reach their lifetimes and are replaced.
      const failures: string[] = [];
      let replaced = false;
      const traffic = (async () => {
        for (let i = 0; i < 2000 && !replaced; i++) failures.push(...(await load(tsgi.ports[0]!, 5, 1)).failures);
      })();
      await tsgi.waitFor(/tsgi worker 1 lifetime reached, it was running for \d+ second\(s\)/, 60000);
      await tsgi.waitFor(/tsgi worker 2 lifetime reached, it was running for \d+ second\(s\)/, 60000);
      for (const pid of first)
        await tsgi.waitFor(new RegExp(`\\(pid: ${pid}\\) exited with code 0 \\(graceful stop\\)`), 60000);
      replaced = true;
      await traffic;
      assert.deepEqual(failures, []);
      const after = await load(tsgi.ports[0]!, 20, 2);
      assert.deepEqual(after.failures, []);
      assert.ok(
        after.bodies.every((b) => !first.includes(Number(b))),
        'only new workers answer',
      );
      // A worker is due once its lifetime exceeds 2 s, plus the 1 s delta for worker 2: the
      // whole seconds each had run when it was replaced say the delta applied.
      const ran = (id: number): number =>
        Number(new RegExp(`tsgi worker ${id} lifetime reached, it was running for (\\d+)`).exec(tsgi.output())![1]);
      assert.ok(ran(1) >= 3, `worker 1 ran ${ran(1)} s`);
      assert.ok(ran(2) >= 4, `worker 2 ran ${ran(2)} s`);
    } finally {
      assert.equal(await tsgi.stop(), 0);
    }
  });

  test('without --lazy-apps a broken app stops the master at startup with exit 22 after its first worker fails to load it, no other worker started', async () => {
    const r = await runTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      path.join(APPS, 'broken-on-load.js'),
      '--processes',
      '2',
    ]);
    assert.equal(r.code, 22, r.output);
    assert.match(r.output, /this app cannot load/);
    assert.match(r.output, /spawned tsgi worker 1 /);
    assert.match(r.output, /tsgi worker 1 \(pid: \d+\) exited with code 22: the app failed to load; shutting down/);
    assert.doesNotMatch(r.output, /spawned tsgi worker 2|trying respawn/);
  });

  test('without --lazy-apps the master does not load the app: its first worker does, then the others start', async () => {
    const tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', APP, '--processes', '3']);
    try {
      await tsgi.waitFor(/(ready in [^\n]*\n[\s\S]*){3}/);
      const out = tsgi.output();
      const loads = [...out.matchAll(/ready in \d+ seconds [^\n]* pid: (\d+)/g)].map((m) => Number(m[1]));
      assert.equal(loads.length, 3);
      assert.ok(!loads.includes(tsgi.proc.pid!), 'the master did not load the app');
      const firstReady = out.search(/ready in \d+ seconds/);
      assert.ok(out.indexOf('spawned tsgi worker 2 ') > firstReady, 'worker 2 started after worker 1 loaded the app');
      const { failures } = await load(tsgi.ports[0]!, 10, 2);
      assert.deepEqual(failures, []);
    } finally {
      assert.equal(await tsgi.stop(), 0);
    }
  });

  test('a graceful reload starts workers with the ini file as it reads now; a broken edit keeps the configuration the master started with', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-reload-ini-'));
    const ini = path.join(dir, 'app.ini');
    const lines = (extra: string[]): string =>
      ['[uwsgi]', 'http-socket = 127.0.0.1:0', `wsgi-file = ${APP}`, 'master = true', ...extra, ''].join('\n');
    fs.writeFileSync(ini, lines(['disable-logging = true']));
    const tsgi = await startTsgi(['--ini', ini]);
    const requestLogs = (): number => (tsgi.output().match(/\] GET \/ => generated/g) ?? []).length;
    const loads = (n: number): RegExp => new RegExp(`(ready in [^\\n]*\\n[\\s\\S]*){${n}}`);
    try {
      await tsgi.waitFor(loads(1));
      assert.equal((await getOnNewConnection(tsgi.ports[0]!)).status, 200);
      // The first worker logs no request; the ini now asks for the request log.
      fs.writeFileSync(ini, lines([]));
      tsgi.proc.kill('SIGHUP');
      await tsgi.waitFor(/exited with code 0 \(graceful stop\)/);
      assert.equal(requestLogs(), 0);
      assert.equal((await getOnNewConnection(tsgi.ports[0]!)).status, 200);
      await tsgi.waitFor(/\] GET \/ => generated/);
      // An ini that no longer reads: the next worker keeps the master's first configuration.
      fs.writeFileSync(ini, lines(['buffer-size = many']));
      tsgi.proc.kill('SIGHUP');
      await tsgi.waitFor(
        /the configuration no longer reads \(.*buffer-size.*\); the worker starts with the one the master started with/,
      );
      await tsgi.waitFor(loads(3));
      await tsgi.waitFor(/(exited with code 0 \(graceful stop\)[\s\S]*){2}/);
      assert.equal((await getOnNewConnection(tsgi.ports[0]!)).status, 200);
      assert.equal(requestLogs(), 1, 'the master started with disable-logging, so the request log is off again');
    } finally {
      assert.equal(await tsgi.stop(), 0);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('with --lazy-apps only workers load the app (uWSGI quick-start --lazy-apps)', async () => {
    const tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      APP,
      '--processes',
      '2',
      '--lazy-apps',
    ]);
    try {
      await tsgi.waitFor(/(ready in [^\n]*\n[\s\S]*){2}/);
      const loads = [...tsgi.output().matchAll(/ready in \d+ seconds [^\n]* pid: (\d+)/g)].map((m) => Number(m[1]));
      assert.ok(!loads.includes(tsgi.proc.pid!), 'the master did not load the app');
      const { failures } = await load(tsgi.ports[0]!, 10, 2);
      assert.deepEqual(failures, []);
    } finally {
      assert.equal(await tsgi.stop(), 0);
    }
  });

  test('--lazy-apps --need-app with a broken app shuts the instance down with exit 22', async () => {
    const r = await runTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      path.join(APPS, 'broken-on-load.js'),
      '--processes',
      '2',
      '--lazy-apps',
      '--need-app',
    ]);
    assert.equal(r.code, 22, r.output);
  });

  test('workers exit when the master is killed (no orphans)', async () => {
    const tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', APP, '--processes', '2']);
    await tsgi.waitFor(/(ready in [^\n]*\n[\s\S]*){2}/);
    const pids = workerPids(tsgi);
    tsgi.proc.kill('SIGKILL');
    const deadline = Date.now() + 3000;
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    while (Date.now() < deadline && pids.some(alive)) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(pids.filter(alive), []);
  });

  test('--harakiri answers 504 to a stuck request, logs it, and the respawned worker serves', async () => {
    const tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      path.join(APPS, 'harakiri.js'),
      '--processes',
      '1',
      '--harakiri',
      '1',
    ]);
    try {
      await tsgi.waitFor(/ready in/);
      const [stuck] = workerPids(tsgi);
      // /spin never ends by itself: the 504 and the log line can only come from harakiri.
      const res = await getOnNewConnection(tsgi.ports[0]!, '/spin');
      assert.equal(res.status, 504);
      await tsgi.waitFor(new RegExp(`HARAKIRI ON WORKER \\(pid: ${stuck}, core: 0\\) \\*\\*\\* request GET /spin`));
      await tsgi.waitFor(/(spawned tsgi worker 1 [^\n]*\n[\s\S]*){2}/);
      const after = await getOnNewConnection(tsgi.ports[0]!, '/');
      assert.equal(after.status, 200);
      assert.notEqual(Number(after.body), stuck);
    } finally {
      assert.equal(await tsgi.stop(), 0);
    }
  });

  test('--pidfile holds the master pid and --vacuum removes it', async () => {
    const dir = fs.mkdtempSync('/tmp/tsgi-pid-');
    const file = path.join(dir, 'tsgi.pid');
    const tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      APP,
      '--processes',
      '2',
      '--pidfile',
      file,
      '--vacuum',
    ]);
    assert.equal(fs.readFileSync(file, 'utf8').trim(), String(tsgi.proc.pid));
    assert.equal(await tsgi.stop(), 0);
    assert.equal(fs.existsSync(file), false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('process names', () => {
  test('--procname-prefix-spaced, --procname-append and --procname-master shape every name in ps, as uWSGI does', async () => {
    const tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      APP,
      '--processes',
      '2',
      '--procname-prefix-spaced',
      'shop',
      '--procname-append',
      ':blue',
      '--procname-master',
      'boss',
    ]);
    try {
      await tsgi.waitFor(/(ready in [^\n]*\n[\s\S]*){2}/);
      assert.equal(title(tsgi.proc.pid!), 'shop boss:blue');
      assert.deepEqual(workerPids(tsgi).map(title).sort(), ['shop tsgi worker 1:blue', 'shop tsgi worker 2:blue']);
    } finally {
      assert.equal(await tsgi.stop(), 0);
    }
  });
});

describe('uWSGI pidfile commands', () => {
  test('tsgi --reload PIDFILE reloads every worker gracefully and tsgi --stop PIDFILE stops the instance', async () => {
    const dir = fs.mkdtempSync('/tmp/tsgi-pid-');
    const file = path.join(dir, 'tsgi.pid');
    const tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      APP,
      '--processes',
      '2',
      '--pidfile',
      file,
    ]);
    try {
      await tsgi.waitFor(/(ready in [^\n]*\n[\s\S]*){2}/);
      const first = workerPids(tsgi);
      const reload = await runTsgi(['--reload', file]);
      assert.deepEqual([reload.code, reload.output], [0, '']);
      await tsgi.waitFor(/graceful reload of every worker \(SIGHUP\)/);
      await tsgi.waitFor(
        new RegExp(`tsgi worker \\d \\(pid: ${first[0]}\\) exited with code 0 \\(graceful stop\\)`),
        30000,
      );
      const { failures } = await load(tsgi.ports[0]!, 10, 2);
      assert.deepEqual(failures, []);
      const stop = await runTsgi(['--stop', file]);
      assert.deepEqual([stop.code, stop.output], [0, '']);
      await tsgi.waitFor(/SIGINT received/);
      assert.equal(await tsgi.stop(), 0);
    } finally {
      await tsgi.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--reload and --stop with a pidfile that is missing or holds no pid exit 1 with one line', async () => {
    const dir = fs.mkdtempSync('/tmp/tsgi-pid-');
    try {
      const missing = await runTsgi(['--stop', path.join(dir, 'none.pid')]);
      assert.equal(missing.code, 1);
      assert.match(missing.output, /^tsgi: --stop \/tmp\/tsgi-pid-\w+\/none\.pid: cannot read it \(ENOENT[^\n]*\)\n$/);
      fs.writeFileSync(path.join(dir, 'bad.pid'), 'not a pid\n');
      const bad = await runTsgi(['--reload', path.join(dir, 'bad.pid')]);
      assert.equal(bad.code, 1);
      assert.match(bad.output, /^tsgi: --reload \S+bad\.pid: holds no pid\n$/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the quick-start commands with the master', () => {
  test('command 6 and 8: --processes 2 --threads 2 --master with --stats serves uWSGI stats for every worker and core', async () => {
    const tsgi = await startTsgi([
      '--socket',
      '127.0.0.1:0',
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      APP,
      '--master',
      '--processes',
      '2',
      '--threads',
      '2',
      '--stats',
      '127.0.0.1:0',
    ]);
    try {
      const statsLine = await tsgi.waitFor(/\*\*\* Stats server enabled on 127\.0\.0\.1:(\d+) fd: \d+ \*\*\*/);
      const statsPort = Number(/:(\d+) fd/.exec(statsLine)![1]);
      await tsgi.waitFor(/(spawned tsgi worker [^\n]*\n[\s\S]*){2}/);
      const http = tsgi.ports[0]!;
      const { failures } = await load(http, 40, 4);
      assert.deepEqual(failures, []);
      assert.equal((await getOnNewConnection(http, '/throw')).status, 500);
      const raw = await new Promise<string>((resolve, reject) => {
        const sock = require('node:net').connect(statsPort, '127.0.0.1');
        let data = '';
        sock.on('data', (d: Buffer) => (data += d.toString()));
        sock.on('end', () => resolve(data));
        sock.on('error', reject);
      });
      const doc = JSON.parse(raw) as {
        pid: number;
        workers: Array<{
          id: number;
          pid: number;
          requests: number;
          exceptions: number;
          cores: Array<{ id: number; requests: number }>;
        }>;
      };
      assert.equal(doc.pid, tsgi.proc.pid);
      assert.deepEqual(
        doc.workers.map((w) => w.id),
        [1, 2],
      );
      assert.deepEqual(
        doc.workers.map((w) => w.cores.length),
        [2, 2],
      );
      assert.deepEqual(doc.workers.map((w) => w.pid).sort(), workerPids(tsgi).sort());
      const total = doc.workers.reduce((n, w) => n + w.requests, 0);
      assert.equal(total, 41, 'every request is counted once');
      assert.equal(
        doc.workers.reduce((n, w) => n + w.exceptions, 0),
        1,
        'the app exception is counted',
      );
      for (const w of doc.workers)
        assert.equal(
          w.requests,
          w.cores.reduce((n, c) => n + c.requests, 0),
        );
    } finally {
      assert.equal(await tsgi.stop(), 0);
    }
  });
});

describe('reload triggers, memory recycling, privileges, thread harakiri', () => {
  test('--touch-chain-reload replaces the workers one at a time, each after the previous new one serves', async () => {
    const dir = fs.mkdtempSync('/tmp/tsgi-touch-');
    const touch = path.join(dir, 'reload');
    fs.writeFileSync(touch, '1');
    const tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      APP,
      '--processes',
      '2',
      '--touch-chain-reload',
      touch,
    ]);
    try {
      await tsgi.waitFor(/(ready in [^\n]*\n[\s\S]*){2}/);
      const before = workerPids(tsgi);
      const running = load(tsgi.ports[0]!, 300, 4);
      const later = new Date(Date.now() + 5000);
      fs.utimesSync(touch, later, later);
      await tsgi.waitFor(/chain reloading complete/, 60000);
      const { failures } = await running;
      assert.deepEqual(failures, []);
      const out = tsgi.output();
      const step1 = out.indexOf('chain reload: worker 1');
      const step2 = out.indexOf('chain reload: worker 2');
      assert.ok(step1 >= 0 && step2 > step1, 'worker 1 first, then worker 2');
      assert.equal(workerPids(tsgi).filter((p) => !before.includes(p)).length, 2);
    } finally {
      assert.equal(await tsgi.stop(), 0);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--touch-reload reloads every worker gracefully', async () => {
    const dir = fs.mkdtempSync('/tmp/tsgi-touch-');
    const touch = path.join(dir, 'reload');
    fs.writeFileSync(touch, '1');
    const tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      APP,
      '--processes',
      '2',
      '--touch-reload',
      touch,
    ]);
    try {
      await tsgi.waitFor(/(ready in [^\n]*\n[\s\S]*){2}/);
      const later = new Date(Date.now() + 5000);
      fs.utimesSync(touch, later, later);
      await tsgi.waitFor(/graceful reload of every worker \(touch-reload\)/, 60000);
      await tsgi.waitFor(/(exited with code 0 \(graceful stop\)[^\n]*\n[\s\S]*){2}/);
    } finally {
      assert.equal(await tsgi.stop(), 0);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--reload-on-rss recycles a worker above the limit', async () => {
    const tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      APP,
      '--master',
      '--processes',
      '1',
      '--reload-on-rss',
      '1',
      '--min-worker-lifetime',
      '0',
    ]);
    try {
      await tsgi.waitFor(/recycles: rss \d+ MB above reload-on-rss 1 MB/, 60000);
    } finally {
      assert.equal(await tsgi.stop(), 0);
    }
  });

  test("--uid and --gid drop the workers' privileges after binding (CI runs as root)", async () => {
    const tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      APP,
      '--master',
      '--processes',
      '1',
      '--uid',
      'nobody',
      '--gid',
      'nogroup',
    ]);
    try {
      await tsgi.waitFor(/ready in/);
      const [pid] = workerPids(tsgi);
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)![1]);
      assert.equal(uid, 65534);
      const r = await getOnNewConnection(tsgi.ports[0]!);
      assert.equal(r.status, 200);
    } finally {
      assert.equal(await tsgi.stop(), 0);
    }
  });

  // setpriv (util-linux) starts tsgi with supplementary groups root, adm and sudo, as a shell
  // of an admin would: none of them may survive the drop (uWSGI calls setgroups() too).
  for (const mode of [[], ['--master', '--processes', '1'], ['--threads', '2']]) {
    test(`--uid and --gid drop privileges and every supplementary group ${mode.length ? 'with ' + mode.join(' ') : 'without a master'} (CI runs as root)`, async () => {
      const args = [
        process.execPath,
        CLI,
        '--http-socket',
        '127.0.0.1:0',
        '--wsgi-file',
        APP,
        ...mode,
        '--uid',
        'nobody',
        '--gid',
        'nogroup',
      ];
      const proc = spawn('setpriv', ['--groups', '0,4,27', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const spawned = new Promise<number>((resolve, reject) => {
        const onData = (d: Buffer): void => {
          out += d.toString();
          const m = /spawned tsgi worker 1 \((?:and the only\) \()?pid: (\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        };
        proc.stdout!.on('data', onData);
        proc.stderr!.on('data', onData);
        proc.on('exit', (code) => reject(new Error(`tsgi exited with ${code} before serving:\n${out}`)));
      });
      const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
      try {
        const pid = await spawned;
        const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
        assert.equal(/^Uid:\s+(\d+)/m.exec(status)![1], '65534', out);
        assert.equal(/^Gid:\s+(\d+)/m.exec(status)![1], '65534', out);
        assert.equal(/^Groups:(.*)$/m.exec(status)![1]!.trim(), '', out);
        const port = Number(/bound to TCP address 127\.0\.0\.1:(\d+)/.exec(out)![1]);
        assert.equal((await getOnNewConnection(port)).status, 200);
        assert.match(out, /^tsgi: setgroups\(\) to none$/m);
        assert.doesNotMatch(out, /running tsgi as root/);
      } finally {
        proc.kill('SIGTERM');
        await exited;
      }
    });
  }

  test('--stats with no host binds loopback only and says so', async () => {
    const tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', APP, '--stats', ':0']);
    try {
      const line = await tsgi.waitFor(/\*\*\* Stats server enabled on 127\.0\.0\.1:(\d+) fd/);
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(line)![1]);
      assert.match(
        tsgi.output(),
        /^tsgi: --stats :0 has no host: bound to 127\.0\.0\.1 only \(give 0\.0\.0\.0:0 for every interface\)$/m,
      );
      // The kernel's own table of listening sockets: local address 127.0.0.1 (0100007F), state LISTEN (0A).
      const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
      const rows = fs
        .readFileSync('/proc/net/tcp', 'utf8')
        .split('\n')
        .filter((l) => l.includes(`:${hexPort} `) && / 0A /.test(l));
      assert.ok(
        rows.length > 0 && rows.every((l) => l.trim().split(/\s+/)[1] === `0100007F:${hexPort}`),
        rows.join('\n'),
      );
    } finally {
      await tsgi.stop();
    }
  });

  test('without --uid, running as root says so at start-up (CI runs as root)', async () => {
    const tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', APP]);
    try {
      assert.match(
        tsgi.output(),
        /^tsgi: \*\*\* WARNING: you are running tsgi as root !!! \(use the --uid flag\) \*\*\*$/m,
      );
    } finally {
      await tsgi.stop();
    }
  });

  test('--harakiri with --threads stops only the stuck thread: 504, replacement, the process lives', async () => {
    const tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      path.join(APPS, 'harakiri.js'),
      '--processes',
      '1',
      '--threads',
      '2',
      '--harakiri',
      '1',
    ]);
    try {
      await tsgi.waitFor(/spawned tsgi worker 1/);
      const [pid] = workerPids(tsgi);
      await new Promise((r) => setTimeout(r, 800));
      const res = await getOnNewConnection(tsgi.ports[0]!, '/spin');
      assert.equal(res.status, 504);
      await tsgi.waitFor(/killing the thread/);
      await tsgi.waitFor(/serves again/, 60000);
      const ok = await getOnNewConnection(tsgi.ports[0]!, '/');
      assert.equal(ok.status, 200);
      assert.equal(Number(ok.body), pid, 'the same worker process still serves');
    } finally {
      assert.equal(await tsgi.stop(), 0);
    }
  });
});
