// A stand-in for systemd's notification socket: test/fixtures/systemd/notify-receiver.py
// bound in the abstract namespace, its datagrams read back as lines ('|' for newlines).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ROOT } from './tsgi';

export const READY = 'STATUS=tsgi is ready|READY=1';

const RECEIVER = path.join(ROOT, 'test', 'fixtures', 'systemd', 'notify-receiver.py');

export interface Receiver {
  socket: string;
  lines(): string[];
  waitFor(line: string, count?: number): Promise<void>;
  stop(): void;
}

/** A notification socket in the abstract namespace (no file to clean up). */
export async function startReceiver(): Promise<Receiver> {
  const socket = `@tsgi-test-notify-${process.pid}-${randomBytes(4).toString('hex')}`;
  const child: ChildProcess = spawn('python3', [RECEIVER, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const waiters: Array<() => void> = [];
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  const lines = (): string[] => out.split('\n').filter((l) => l !== '' && l !== 'listening');
  const until = (ok: () => boolean, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what}; received: ${JSON.stringify(lines())}`)), 60000);
      const check = (): void => {
        if (ok()) {
          clearTimeout(timer);
          resolve();
        } else waiters.push(check);
      };
      check();
    });
  await until(() => out.startsWith('listening\n'), 'listening line from the receiver');
  return {
    socket,
    lines,
    waitFor: (line, count = 1) => until(() => lines().filter((l) => l === line).length >= count, line),
    stop: () => child.kill('SIGTERM'),
  };
}
