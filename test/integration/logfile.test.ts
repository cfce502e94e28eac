// The --logto file over time (docs/master.md, "Logs"): --log-maxsize rotation, --log-reopen on
// a graceful reload for logrotate, and --log-date prefixes, in the master, the workers and the
// router alike.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { waitForText } from './helpers/exchange';
import { APPS, CLI, ROOT, startTsgi } from './helpers/tsgi';

const APP = path.join(APPS, 'master-pid.js');

const read = (file: string): string => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');

function get(port: number, p: string): Promise<number> {
  return fetch(`http://127.0.0.1:${port}${p}`).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });
}

/** A request the router refuses itself, so that the router writes a log line. */
function badToRouter(port: number): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.end('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n'));
    s.on('data', () => {});
    s.on('close', () => resolve());
    s.on('error', () => resolve());
  });
}

const portOf = (log: string): number => Number(/bound to TCP address 127\.0\.0\.1:(\d+) \(http\)/.exec(log)![1]);
const routerPortOf = (log: string): number => Number(/tsgi http bound on 127\.0\.0\.1:(\d+)/.exec(log)![1]);

/** tsgi logging to a file: nothing to read on its stdout, so the test reads the file. */
function startLogging(args: string[]): { proc: ChildProcess; stop(): Promise<void> } {
  const proc = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    proc,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const t = setTimeout(() => proc.kill('SIGKILL'), 60000);
      proc.kill('SIGTERM');
      await exited;
      clearTimeout(t);
    },
  };
}

test('--log-maxsize renames a full --logto file to --log-backupname and the workers and the router go on in a new one', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-logfile-'));
  const log = path.join(dir, 'tsgi.log');
  const old = path.join(dir, 'tsgi.old.log');
  const args = ['--http-socket', '127.0.0.1:0', '--http', '127.0.0.1:0', '--wsgi-file', APP, '--processes', '2'];
  const tsgi = startLogging([...args, '--logto', log, '--log-maxsize', '4000', '--log-backupname', old]);
  try {
    await waitForText(() => read(log), /(ready in [\s\S]*){2}/);
    const port = portOf(read(log));
    // Grow the file past 4000 bytes; the master looks once a second, so go on until it rotated.
    for (let i = 0; i < 2000 && !fs.existsSync(old); i++) assert.equal(await get(port, `/fill-${i}`), 200);
    await waitForText(() => read(old), /tsgi: logsize: \d+, triggering rotation to \S+tsgi\.old\.log\.\.\./);
    await waitForText(() => read(log), /tsgi: \S+tsgi\.log reopened \(rotated to \S+tsgi\.old\.log\)/);
    // Both workers switch to the new file and say so there. The router, a thread of the
    // master, writes to the master's log fd, which the master re-pointed: its next line
    // (below) is in the new file.
    await waitForText(() => read(log), /(tsgi worker [12] \(pid: \d+\): \S+tsgi\.log reopened[\s\S]*){2}/);
    assert.equal(await get(port, '/after-rotation'), 200);
    await waitForText(() => read(log), /GET \/after-rotation => generated/);
    await badToRouter(routerPortOf(read(log) + read(old)));
    await waitForText(() => read(log), /tsgi http router: 400 for 127\.0\.0\.1: invalid Content-Length/);
  } finally {
    await tsgi.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--log-reopen: after logrotate moves the file, a SIGHUP makes every process log to a new one', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-logfile-'));
  const log = path.join(dir, 'tsgi.log');
  const moved = path.join(dir, 'tsgi.log.1');
  const args = ['--http-socket', '127.0.0.1:0', '--http', '127.0.0.1:0', '--wsgi-file', APP, '--processes', '2'];
  const tsgi = startLogging([...args, '--logto', log, '--log-reopen']);
  try {
    await waitForText(() => read(log), /(ready in [\s\S]*){2}/);
    const port = portOf(read(log));
    fs.renameSync(log, moved);
    tsgi.proc.kill('SIGHUP');
    await waitForText(() => read(log), /tsgi: \S+tsgi\.log reopened \(log-reopen\)/);
    await waitForText(() => read(log), /(exited with code 0 \(graceful stop\)[\s\S]*){2}/);
    assert.equal(await get(port, '/after-reopen'), 200);
    await waitForText(() => read(log), /GET \/after-reopen => generated/);
    await badToRouter(routerPortOf(read(moved)));
    await waitForText(() => read(log), /tsgi http router: 400 for 127\.0\.0\.1: invalid Content-Length/);
    assert.doesNotMatch(read(moved), /after-reopen|invalid Content-Length/);
  } finally {
    await tsgi.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--log-date prefixes every line with the date, or with --log-date=FORMAT', async () => {
  const plain = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', APP, '--log-date']);
  try {
    assert.equal(await get(plain.ports[0]!, '/dated'), 200);
    await plain.waitFor(/GET \/dated =>/);
    for (const line of plain.output().trim().split('\n')) {
      assert.match(line, /^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) [A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d \d{4} - /, line);
    }
  } finally {
    await plain.stop();
  }
  const custom = await startTsgi([
    '--http-socket',
    '127.0.0.1:0',
    '--wsgi-file',
    APP,
    '--processes',
    '2',
    '--log-date=%Y-%m-%d',
  ]);
  try {
    assert.equal(await get(custom.ports[0]!, '/dated'), 200);
    await custom.waitFor(/GET \/dated =>/);
    for (const line of custom.output().trim().split('\n')) assert.match(line, /^\d{4}-\d\d-\d\d - /, line);
  } finally {
    await custom.stop();
  }
});
