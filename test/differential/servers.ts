// Starts a real-app fixture under its own server (test/fixtures/real-apps/own-server.mjs) and
// under tsgi (the real CLI, through the integration helpers), both on 127.0.0.1 port 0.

import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT, startTsgi, type TsgiHandle } from '../integration/helpers/tsgi';

export const REAL_APPS = path.join(ROOT, 'test', 'fixtures', 'real-apps');
const OWN_SERVER = path.join(REAL_APPS, 'own-server.mjs');

/** Both servers run the apps as deployed: Express's and Koa's error pages then carry no stack. */
const ENV = { NODE_ENV: 'production' };

export interface OwnServer {
  port: number;
  output(): string;
  stop(): Promise<void>;
}

export function startOwnServer(file: string, timeoutMs = 15000): Promise<OwnServer> {
  const proc: ChildProcess = spawn(process.execPath, [OWN_SERVER, path.join(REAL_APPS, file)], {
    cwd: ROOT,
    env: { ...process.env, ...ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => {
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(new Error(`${file} under its own server ${why}; output:\n${out}`));
    };
    const timer = setTimeout(() => fail(`did not listen within ${timeoutMs} ms`), timeoutMs);
    const onEarlyExit = (code: number | null): void => fail(`exited (${code}) before listening`);
    proc.on('exit', onEarlyExit);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /listening on [\d.]+:(\d+)/.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      proc.off('exit', onEarlyExit);
      resolve({
        port: Number(m[1]),
        output: () => out,
        stop: async () => {
          if (proc.exitCode === null && proc.signalCode === null) {
            proc.kill('SIGTERM');
            const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
            await exited;
            clearTimeout(t);
          }
        },
      });
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  });
}

/** tsgi as a user would start it for a Node-style app: --async lets the stream tests' ack
 *  request run while a stream is still open, as any node:http server would. */
export function startTsgiFor(file: string): Promise<TsgiHandle> {
  return startTsgi(
    ['--http-socket', '127.0.0.1:0', '--wsgi-file', path.join(REAL_APPS, file), '--callable', 'app', '--async', '16'],
    { env: ENV },
  );
}
