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

export function logLine(line: string): void {
  try {
    fs.writeSync(logFd, line.endsWith('\n') ? line : line + '\n');
  } catch {
    // A log that cannot be written must not take the server down.
  }
}
