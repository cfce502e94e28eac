// --log-reopen and --log-maxsize for the --logto file, as uWSGI's master does them
// (core/logging.c: uwsgi_log_reopen, uwsgi_check_logrotate, uwsgi_log_do_rotate). The master
// (or the only process) opens the file again at the same fd number, so it and every process it
// starts later write to the new file, and tells its running children to point their stdout
// and stderr at it too (reopenStdio). Lines a child writes before it has heard go to the old
// file, which is where logrotate expects stragglers.

import fs from 'node:fs';
import { addon } from '../native';
import { logLine } from './log';

/** The --logto file of this process, at `fd`. */
export class LogFile {
  constructor(
    readonly file: string,
    private readonly fd: number,
    private readonly maxsize: number,
    private readonly backupname: string | undefined,
  ) {}

  /** Opens the file by its name again (logrotate moved the old one away). */
  reopen(why: string): void {
    const fd = fs.openSync(this.file, 'a');
    const err = addon.dup2(fd, this.fd);
    fs.closeSync(fd);
    if (err !== null) logLine(`tsgi: cannot reopen ${this.file}: ${err}`);
    else logLine(`tsgi: ${this.file} reopened (${why})`);
  }

  /** Past --log-maxsize, renames the file (to --log-backupname or FILE.<unix time>) and
   *  starts a new one. Returns whether it rotated. */
  rotateIfBig(): boolean {
    if (this.maxsize <= 0) return false;
    let size: number;
    try {
      size = fs.fstatSync(this.fd).size;
    } catch {
      return false;
    }
    if (size <= this.maxsize) return false;
    const rotated = this.backupname ?? `${this.file}.${Math.floor(Date.now() / 1000)}`;
    logLine(`tsgi: logsize: ${size}, triggering rotation to ${rotated}...`);
    try {
      fs.renameSync(this.file, rotated);
    } catch (err) {
      logLine(`tsgi: unable to rotate ${this.file}: ${(err as Error).message}`);
      return false;
    }
    this.reopen(`rotated to ${rotated}`);
    return true;
  }
}

/** A worker points its stdout and stderr (its log) at `file` again, and says so
 *  there as `<who>: FILE reopened`. */
export function reopenStdio(file: string, who: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'a');
  } catch (err) {
    logLine(`tsgi: cannot reopen ${file}: ${(err as Error).message}`);
    return;
  }
  addon.dup2(fd, 1);
  addon.dup2(fd, 2);
  fs.closeSync(fd);
  logLine(`${who}: ${file} reopened`);
}
