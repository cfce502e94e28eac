// --daemonize FILE and --daemonize2 FILE (uWSGI's): tsgi starts a detached copy of itself in
// a new session, its output appended to FILE, and the command returns. Node cannot fork, so the
// copy is a new process with the same command line; an environment marker tells it that it is
// the daemon. --daemonize returns at once (start-up errors are in FILE, as uWSGI's daemonize
// writes them); --daemonize2 returns once the daemon serves (every worker ready), or with the
// daemon's exit code and the end of FILE when it fails to start, as uWSGI's daemonize2 detaches
// only after the app loaded.

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import type { Config } from '../config';
import { logLine } from './log';

const DAEMON_ENV = 'TSGI_INTERNAL_DAEMON';
const READY_MESSAGE = 'tsgi-daemon-ready';

/** This process is a --daemonize2 daemon whose starter waits on the IPC channel. */
let starterWaits = false;

/** A --daemonize2 daemon tells its starter that it serves, once; a no-op otherwise. */
export function tellStarterReady(): void {
  if (!starterWaits) return;
  starterWaits = false;
  if (process.connected && process.send) {
    process.send({ type: READY_MESSAGE });
    process.disconnect();
  }
}

function tail(file: string, lines: number): string {
  try {
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '';
  }
}

/**
 * Called first thing with the configuration. Returns null when this process should go on
 * serving (no daemonizing asked, or this is the daemon), else the exit code for the command.
 */
export async function daemonize(config: Config, argv: string[]): Promise<number | null> {
  const file = config.daemonize2 ?? config.daemonize;
  if (file === undefined) return null;
  if (process.env[DAEMON_ENV] !== undefined) {
    starterWaits = process.env[DAEMON_ENV] === 'wait';
    delete process.env[DAEMON_ENV]; // workers are not daemons
    return null;
  }
  const waitReady = config.daemonize2 !== undefined;
  const out = fs.openSync(file, 'a');
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...argv], {
    detached: true,
    cwd: process.cwd(),
    env: { ...process.env, [DAEMON_ENV]: waitReady ? 'wait' : 'detached' },
    stdio: waitReady ? ['ignore', out, out, 'ipc'] : ['ignore', out, out],
  });
  fs.closeSync(out);
  if (!waitReady) {
    child.unref();
    return 0;
  }
  return new Promise((resolve) => {
    child.on('message', (msg: { type?: string }) => {
      if (msg?.type !== READY_MESSAGE) return;
      child.removeAllListeners('exit');
      if (child.connected) child.disconnect();
      child.unref();
      resolve(0);
    });
    child.on('exit', (code, signal) => {
      logLine(`tsgi: the daemon exited during start-up (${signal ?? `code ${code}`}); the end of ${file}:`);
      process.stderr.write(tail(file, 10));
      resolve(code ?? 1);
    });
  });
}
