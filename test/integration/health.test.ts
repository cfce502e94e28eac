// Draining before a stop (--shutdown-delay) and the health answers for load balancers and
// Kubernetes probes (docs/deploy.md, "Health"; docs/config.md, `shutdown-delay`).

import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { getOnNewConnection } from './helpers/exchange';
import { APPS, startTsgi, type TsgiHandle } from './helpers/tsgi';

const APP = path.join(APPS, 'master-pid.js');

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
      await tsgi.waitFor(/(ready in [^\n]*\n[\s\S]*){3}/);
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
      await tsgi.waitFor(/(ready in [^\n]*\n[\s\S]*){3}/);
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
