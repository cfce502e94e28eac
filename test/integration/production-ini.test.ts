// A strict production ini in the style operators copy for uWSGI (strict, the Python switches,
// die-on-term, need-app, conditional logging, lifetimes, the busyness cheaper, process names):
// tsgi starts it without a warning, tells systemd it is ready, scales up under a load step and
// back down, recycles by lifetime, logs only 4xx and 5xx, and answers --reload and --stop on its
// pidfile, with zero failed requests through all of it (docs/master.md, docs/config.md).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { PROBE } from './helpers/exchange';
import { READY, startReceiver } from './helpers/notify';
import { runTsgi, startTsgi } from './helpers/tsgi';

function get(port: number, p: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.setTimeout(60000, () => req.destroy(new Error('request timed out')));
  });
}

test('a strict production ini starts clean and scales, recycles, logs, reloads and stops with zero failed requests', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-prod-'));
  const pidfile = path.join(dir, 'tsgi.pid');
  const ini = path.join(dir, 'app.ini');
  const touch = path.join(dir, 'reload.txt');
  fs.writeFileSync(touch, '');
  fs.writeFileSync(
    ini,
    [
      '[uwsgi]',
      'strict = true',
      'master = true',
      'enable-threads = true',
      'vacuum = true',
      'single-interpreter = true',
      'virtualenv = /srv/app/venv',
      'wsgi-disable-file-wrapper = true',
      'die-on-term = true',
      'need-app = true',
      'disable-logging = true',
      'log-4xx = true',
      'log-5xx = true',
      'log-slow = 30000',
      'harakiri = 60',
      'py-call-osafterfork = true',
      'max-requests = 1000',
      'max-worker-lifetime = 8',
      'min-worker-lifetime = 1',
      'reload-on-rss = 2048',
      'worker-reload-mercy = 60',
      'cheaper-algo = busyness',
      'processes = 4',
      'cheaper = 1',
      'cheaper-initial = 1',
      'cheaper-overload = 1',
      'cheaper-step = 1',
      'cheaper-busyness-multiplier = 1',
      'cheaper-busyness-min = 10',
      'cheaper-busyness-max = 20',
      'auto-procname = true',
      'procname-prefix-spaced = shop',
      'http-socket = 127.0.0.1:0',
      `wsgi-file = ${PROBE}`,
      `pidfile = ${pidfile}`,
      `touch-reload = ${touch}`,
      '',
    ].join('\n'),
  );
  const rx = await startReceiver();
  const tsgi = await startTsgi(['--ini', ini], { env: { NOTIFY_SOCKET: rx.socket } });
  const failures: string[] = [];
  const record = async (p: string, want: number): Promise<void> => {
    try {
      const status = await get(tsgi.ports[0]!, p);
      if (status !== want) failures.push(`${p}: status ${status}`);
    } catch (err) {
      failures.push(`${p}: ${(err as Error).message}`);
    }
  };
  try {
    await rx.waitFor(READY);
    // No option was unknown or ignored (the root warning, when the tests run as root, is not
    // about the configuration).
    assert.doesNotMatch(tsgi.output(), /tsgi: warning:/);
    const title = fs.readFileSync(`/proc/${tsgi.proc.pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    assert.equal(title, 'shop tsgi master');

    // A load step: 8 clients of 300 ms requests until a worker was spawned, then it ends and
    // the busyness algorithm retires the extra workers.
    let loading = true;
    const clients = Array.from({ length: 8 }, async () => {
      for (let i = 0; i < 1000 && loading; i++) await record('/slow?300', 200);
    });
    await tsgi.waitFor(/\[busyness\] \d+s average busyness is at \d+%, will spawn 1 new worker\(s\)/);
    loading = false;
    await Promise.all(clients);
    await tsgi.waitFor(/\[busyness\] \d+s average busyness is at \d+%, cheap one of \d running workers/);
    await tsgi.waitFor(/tsgi worker \d+ lifetime reached, it was running for \d+ second\(s\)/);

    // Only 4xx and 5xx answers are logged.
    await record('/plain-ok', 200);
    await record('/status?404', 404);
    await record('/throw', 500);
    await tsgi.waitFor(/GET \/status\?404 => generated/);
    await tsgi.waitFor(/GET \/throw => generated/);

    const reload = await runTsgi(['--reload', pidfile]);
    assert.equal(reload.code, 0, reload.output);
    await rx.waitFor(READY, 2);
    await record('/after-reload', 200);

    const stop = await runTsgi(['--stop', pidfile]);
    assert.equal(stop.code, 0, stop.output);
    assert.equal(await tsgi.stop(), 0);
    await rx.waitFor('STOPPING=1|STATUS=tsgi is stopping');

    assert.deepEqual(failures, []);
    const out = tsgi.output();
    assert.doesNotMatch(out, /GET \/(plain-ok|after-reload|slow)/, 'a 200 is never logged');
    assert.equal(fs.existsSync(pidfile), false, 'vacuum removed the pidfile');
  } finally {
    await tsgi.stop();
    rx.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
