// --pidfile, --uid, --gid: written and applied after the sockets are bound (so privileged
// ports work) and before any worker starts (so workers never run as root): by the master, or
// by the single serving process itself (src/cli/main.ts).

import fs from 'node:fs';
import type { Config } from '../config';
import { ConfigError } from '../errors';
import { logLine } from './log';

export function writePidfile(file: string): void {
  fs.writeFileSync(file, `${process.pid}\n`);
}

/**
 * `--reload PIDFILE` (SIGHUP: graceful reload) and `--stop PIDFILE` (SIGINT: stop at once),
 * uWSGI's pidfile commands (core/uwsgi.c, signal_pidfile). Returns the pid signalled.
 */
export function signalPidfile(option: 'reload' | 'stop', file: string): number {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('TSGI_ERR_BAD_PIDFILE', `--${option} ${file}: cannot read it (${(err as Error).message})`);
  }
  const pid = /^\s*(\d+)\s*$/.exec(text) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(pid) || pid <= 1) {
    throw new ConfigError('TSGI_ERR_BAD_PIDFILE', `--${option} ${file}: holds no pid`);
  }
  try {
    process.kill(pid, option === 'reload' ? 'SIGHUP' : 'SIGINT');
  } catch (err) {
    throw new ConfigError(
      'TSGI_ERR_BAD_PIDFILE',
      `--${option} ${file}: cannot signal pid ${pid} (${(err as NodeJS.ErrnoException).code})`,
    );
  }
  return pid;
}

export function removePidfile(file: string): void {
  try {
    if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.unlinkSync(file);
  } catch {
    // Already gone or replaced: leave it.
  }
}

/**
 * --uid / --gid, applied once the sockets are bound and before the app is loaded or a worker
 * starts, in every mode (with or without a master). As root, the supplementary groups are
 * cleared first (setgroups), as uWSGI does: otherwise a process started with groups such as
 * root, adm or sudo keeps them after setgid()/setuid().
 */
export function dropPrivileges(config: Config): void {
  try {
    if ((config.gid !== undefined || config.uid !== undefined) && process.getuid?.() === 0) {
      process.setgroups!([]);
      logLine('tsgi: setgroups() to none');
    }
    if (config.gid !== undefined) {
      process.setgid!(/^\d+$/.test(config.gid) ? Number(config.gid) : config.gid);
      logLine(`tsgi: setgid() to ${config.gid}`);
    }
    if (config.uid !== undefined) {
      process.setuid!(/^\d+$/.test(config.uid) ? Number(config.uid) : config.uid);
      logLine(`tsgi: setuid() to ${config.uid}`);
    }
  } catch (err) {
    throw new ConfigError('TSGI_ERR_INVALID_VALUE', `cannot drop privileges: ${(err as Error).message}`);
  }
  if (process.getuid?.() === 0) logLine('tsgi: *** WARNING: you are running tsgi as root !!! (use the --uid flag) ***');
}
