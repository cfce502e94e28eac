// Draining before a stop (--shutdown-delay) and the health answers for load balancers and
// Kubernetes probes (docs/deploy.md, "Health"; docs/config.md, `shutdown-delay`).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { getOnNewConnection, sleep, tempDir } from './helpers/exchange';
import { APPS, listenerPort, startTsgi, type TsgiHandle } from './helpers/tsgi';

const APP = path.join(APPS, 'master-pid.js');
const GATED = path.join(APPS, 'gated-load.js');

/** Asks `path` until it answers `status` (bounded); returns the body of that answer. */
async function until(port: number, p: string, status: number): Promise<string> {
  let last = { status: 0, body: '' };
  for (let i = 0; i < 1200; i++) {
    last = await getOnNewConnection(port, p);
    if (last.status === status) return last.body;
    await sleep(50);
  }
  assert.fail(`${p} never answered ${status}; last ${last.status} ${last.body}`);
}

function workerPids(tsgi: TsgiHandle): number[] {
  return [...tsgi.output().matchAll(/spawned tsgi worker \d+ \(pid: (\d+)/g)].map((m) => Number(m[1]));
}

/** `n` GETs on new connections; every one must answer 200. Returns the bodies. */
async function askAll(port: number, n: number): Promise<string[]> {
  const bodies: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await getOnNewConnection(port);
    assert.equal(r.status, 200, `request ${i} answered ${r.status}`);
    bodies.push(r.body);
  }
  return bodies;
}

/** Resolves with the exit code (the process group is the test's: SIGKILL only if it hangs). */
function exitOf(tsgi: TsgiHandle): Promise<number | null> {
  return new Promise((resolve) => {
    if (tsgi.proc.exitCode !== null) return resolve(tsgi.proc.exitCode);
    tsgi.proc.once('exit', (code) => resolve(code));
  });
}

describe('--shutdown-delay', () => {
  test('a SIGTERM to the whole process group keeps every worker serving through the delay, then the master stops gracefully', async () => {
    // setsid gives tsgi a process group of its own, as systemd's KillMode=control-group and a
    // terminal's Ctrl-C address it.
    const tsgi = await startTsgi(
      ['--http-socket', '127.0.0.1:0', '--wsgi-file', APP, '--processes', '2', '--shutdown-delay', '3'],
      { prefix: ['setsid'] },
    );
    const pgid = tsgi.proc.pid!;
    try {
      await tsgi.waitFor(/(ready in [^\n]*\n[\s\S]*){2}/);
      const pids = workerPids(tsgi);
      const exited = exitOf(tsgi);
      const sent = Date.now();
      process.kill(-pgid, 'SIGTERM');
      await tsgi.waitFor(/not ready from now on/);
      await tsgi.waitFor(/(SIGTERM received; serving until the master stops it[\s\S]*){2}/);
      assert.equal(await exited, 0);
      const waited = Date.now() - sent;
      assert.ok(waited >= 3000, `the master stopped ${waited} ms after SIGTERM, before --shutdown-delay 3`);
      const out = tsgi.output();
      const drain = out.indexOf('not ready from now on');
      const over = out.indexOf('--shutdown-delay is over: graceful shutdown');
      assert.ok(drain >= 0 && over > drain, out);
      for (const pid of pids) assert.match(out, new RegExp(`pid: ${pid}\\) exited with code 0 \\(graceful stop\\)`));
      assert.match(out, /goodbye to tsgi\./);
    } finally {
      if (tsgi.proc.exitCode === null) process.kill(-pgid, 'SIGKILL');
    }
  });

  test('while the master drains, new connections are still answered by the workers it had', async () => {
    const tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      APP,
      '--processes',
      '2',
      '--shutdown-delay',
      '600',
    ]);
    try {
      await tsgi.waitFor(/(ready in [^\n]*\n[\s\S]*){2}/);
      const pids = workerPids(tsgi);
      tsgi.proc.kill('SIGTERM');
      await tsgi.waitFor(/not ready from now on/);
      const bodies = await askAll(tsgi.ports[0]!, 20);
      for (const b of bodies) assert.ok(pids.includes(Number(b)), `answered by ${b}, one of ${pids}`);
      // A second SIGTERM changes nothing; SIGINT (fast shutdown) cuts the delay short.
      tsgi.proc.kill('SIGTERM');
      await askAll(tsgi.ports[0]!, 2);
      assert.equal(await tsgi.stop('SIGINT', 60000), 0);
      assert.doesNotMatch(tsgi.output(), /--shutdown-delay is over/);
    } finally {
      await tsgi.stop('SIGKILL');
    }
  });

  test('without a master, SIGTERM waits the delay while serving, then finishes and exits 0', async () => {
    const tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', APP, '--shutdown-delay', '2']);
    try {
      const exited = exitOf(tsgi);
      const sent = Date.now();
      tsgi.proc.kill('SIGTERM');
      await tsgi.waitFor(/SIGTERM received, serving 2 more seconds before stopping \(--shutdown-delay\)/);
      const code = await exited;
      assert.equal(code, 0);
      assert.ok(Date.now() - sent >= 2000, 'the process stopped before the delay');
      assert.match(tsgi.output(), /--shutdown-delay is over, finishing in-flight requests then exiting[\s\S]*goodbye/);
    } finally {
      await tsgi.stop('SIGKILL');
    }
  });

  test('without a master, a request on a new connection during the delay is answered', async () => {
    const tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', APP, '--shutdown-delay', '600']);
    try {
      tsgi.proc.kill('SIGTERM');
      await tsgi.waitFor(/--shutdown-delay\)/);
      assert.deepEqual(await askAll(tsgi.ports[0]!, 5), Array(5).fill(String(tsgi.proc.pid)));
      assert.equal(await tsgi.stop('SIGINT', 60000), 0);
    } finally {
      await tsgi.stop('SIGKILL');
    }
  });
});

describe('/healthz and /readyz', () => {
  test('/readyz answers 503 until a worker has loaded the app, then 200; /healthz answers 200 all along', async () => {
    const gate = tempDir();
    const open = path.join(gate.dir, 'open');
    const tsgi = await startTsgi(
      [
        '--http-socket',
        '127.0.0.1:0',
        '--wsgi-file',
        GATED,
        '--lazy-apps',
        '--processes',
        '2',
        '--metrics',
        '127.0.0.1:0',
      ],
      { env: { TSGI_TEST_GATE: open } },
    );
    try {
      const port = await listenerPort(tsgi, 'Metrics');
      // No worker can have loaded the app: the gate is closed.
      assert.deepEqual(await getOnNewConnection(port, '/readyz'), {
        status: 503,
        body: 'not ready: no worker serves yet\n',
      });
      assert.deepEqual(await getOnNewConnection(port, '/healthz'), { status: 200, body: 'ok\n' });
      fs.writeFileSync(open, '');
      assert.equal(await until(port, '/readyz', 200), 'ready\n');
      assert.equal((await getOnNewConnection(tsgi.ports[0]!)).status, 200);
      assert.deepEqual(await getOnNewConnection(port, '/healthz'), { status: 200, body: 'ok\n' });
    } finally {
      await tsgi.stop('SIGINT', 60000);
      gate.remove();
    }
  });

  test('with --shutdown-delay, /readyz on --metrics and on --stats-http answers 503 from SIGTERM on while the app is still served', async () => {
    const tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      APP,
      '--processes',
      '2',
      '--metrics',
      '127.0.0.1:0',
      '--stats',
      '127.0.0.1:0',
      '--stats-http',
      '--shutdown-delay',
      '600',
    ]);
    try {
      const metrics = await listenerPort(tsgi, 'Metrics');
      const stats = await listenerPort(tsgi, 'Stats');
      await until(metrics, '/readyz', 200);
      assert.equal((await getOnNewConnection(stats, '/readyz')).status, 200);
      tsgi.proc.kill('SIGTERM');
      await tsgi.waitFor(/not ready from now on/);
      for (const port of [metrics, stats]) {
        assert.deepEqual(await getOnNewConnection(port, '/readyz'), {
          status: 503,
          body: 'not ready: shutting down\n',
        });
        assert.equal((await getOnNewConnection(port, '/healthz')).status, 200);
      }
      assert.equal((await getOnNewConnection(tsgi.ports[0]!)).status, 200);
      // Other paths of --stats-http still get the uWSGI JSON document.
      assert.match((await getOnNewConnection(stats, '/')).body, /^\{\n\t"version"/);
    } finally {
      await tsgi.stop('SIGINT', 60000);
    }
  });

  test('/readyz stays 200 through a graceful reload: the old workers serve until their replacements do', async () => {
    const tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      APP,
      '--processes',
      '2',
      '--metrics',
      '127.0.0.1:0',
    ]);
    try {
      const port = await listenerPort(tsgi, 'Metrics');
      await until(port, '/readyz', 200);
      const old = workerPids(tsgi);
      tsgi.proc.kill('SIGHUP');
      const statuses = new Set<number>();
      // Asks all through the reload: until both old workers have stopped (bounded).
      const gone = (pid: number): boolean =>
        new RegExp(`pid: ${pid}\\) exited with code 0 \\(graceful stop\\)`).test(tsgi.output());
      for (let i = 0; i < 2400 && !old.every(gone); i++) {
        statuses.add((await getOnNewConnection(port, '/readyz')).status);
        await sleep(25);
      }
      assert.ok(old.every(gone), tsgi.output());
      assert.deepEqual([...statuses], [200]);
    } finally {
      assert.equal(await tsgi.stop(), 0);
    }
  });
});
