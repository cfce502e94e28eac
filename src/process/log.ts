// The process log: startup lines, warnings and fatal errors, written synchronously to the
// same fd the native core writes request lines to (stderr, or --logto FILE), so the order
// of lines is the order of events.

import * as fs from 'node:fs';

let logFd = 2;

/** Opens --logto FILE for appending and makes it the log of this process. */
export function openLogFile(file: string): number {
  logFd = fs.openSync(file, 'a');
  return logFd;
}

export function currentLogFd(): number {
  return logFd;
}

/** --log-date: null = off, '' = uWSGI's default (ctime's 24 characters), else strftime. */
let dateFormat: string | null = null;

export function setLogDate(format: string | false | undefined): void {
  dateFormat = format === undefined || format === false ? null : format;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

/** The date prefix of a log line, as uWSGI's uwsgi_log writes it ("<date> - "). */
function datePrefix(): string {
  if (dateFormat === null) return '';
  const d = new Date();
  if (dateFormat === '') {
    const day = String(d.getDate()).padStart(2, ' ');
    const time = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
    return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${day} ${time} ${d.getFullYear()} - `;
  }
  // strftime formats are the native log's; loaded only when such a format is asked for.
  const { addon } = require('../native') as typeof import('../native');
  return `${addon.strftime(dateFormat, Math.floor(d.getTime() / 1000))} - `;
}

export function logLine(line: string): void {
  try {
    fs.writeSync(logFd, datePrefix() + (line.endsWith('\n') ? line : line + '\n'));
  } catch {
    // A log that cannot be written must not take the server down.
  }
}
