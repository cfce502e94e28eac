// --daemonize FILE and --daemonize2 FILE (docs/master.md, "Running in the background"): the
// command returns and a detached tsgi, in its own session, serves and logs to FILE.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { waitForText } from './helpers/exchange';
import { APPS, runTsgi } from './helpers/tsgi';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Field 6 of /proc/PID/stat: the session id. */
function sessionOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
}

async function stopDaemon(pid: number): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 600 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

const portIn = (log: string): number => Number(/bound to TCP address 127\.0\.0\.1:(\d+)/.exec(log)![1]);

test('--daemonize2 returns once the workers serve; the daemon runs in its own session and logs to FILE', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-daemon-'));
  const log = path.join(dir, 'tsgi.log');
  const pidfile = path.join(dir, 'tsgi.pid');
  let pid = 0;
  try {
    const r = await runTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      path.join(APPS, 'master-pid.js'),
      '--processes',
      '2',
      '--pidfile',
      pidfile,
      '--daemonize2',
      log,
    ]);
    assert.deepEqual([r.code, r.output], [0, '']);
    pid = Number(fs.readFileSync(pidfile, 'utf8'));
    assert.ok(alive(pid));
    assert.equal(sessionOf(pid), pid, 'the daemon leads its own session');
    const text = fs.readFileSync(log, 'utf8');
    assert.match(text, /(spawned tsgi worker [\s\S]*){2}/);
    const res = await fetch(`http://127.0.0.1:${portIn(text)}/`);
    assert.equal(res.status, 200);
    await stopDaemon(pid);
    assert.match(fs.readFileSync(log, 'utf8'), /goodbye to tsgi/);
  } finally {
    if (pid) await stopDaemon(pid);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--daemonize returns at once and the daemon serves; its start-up lines are in FILE', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-daemon-'));
  const log = path.join(dir, 'tsgi.log');
  const pidfile = path.join(dir, 'tsgi.pid');
  let pid = 0;
  try {
    const r = await runTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      path.join(APPS, 'hello.js'),
      '--master',
      '--pidfile',
      pidfile,
      '--daemonize',
      log,
    ]);
    assert.deepEqual([r.code, r.output], [0, '']);
    const read = (): string => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '');
    await waitForText(read, /spawned tsgi worker 1/);
    const text = read();
    pid = Number(fs.readFileSync(pidfile, 'utf8'));
    const res = await fetch(`http://127.0.0.1:${portIn(text)}/`);
    assert.equal(res.status, 200);
  } finally {
    if (pid) await stopDaemon(pid);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--daemonize2 with an app that cannot load exits 22 and shows the end of FILE', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-daemon-'));
  const log = path.join(dir, 'tsgi.log');
  try {
    const r = await runTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      path.join(APPS, 'broken-on-load.js'),
      '--daemonize2',
      log,
    ]);
    assert.equal(r.code, 22);
    assert.match(r.output, /^tsgi: the daemon exited during start-up \(code 22\); the end of \S+tsgi\.log:\n/);
    assert.match(r.output, /this app cannot load/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
