// A process started inside a network namespace (`ip netns exec NS cmd…`, which execs cmd, so the
// pid is cmd's), in its own process group, its output kept in memory so a caller can wait for a
// log line. Used for the tsgi masters of the rolling-deploy hosts.
import { type ChildProcess, spawn } from 'node:child_process';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface NsProcess {
  pid: number;
  output(): string;
  /** Resolves once `re` (global flag not needed) matched `n` times; rejects on exit or after timeoutMs. */
  waitCount(re: RegExp, n: number, timeoutMs?: number): Promise<void>;
  exited(): Exit | null;
  /** Resolves with the exit (after SIGKILL to the group when timeoutMs passes). */
  waitExit(timeoutMs?: number): Promise<Exit>;
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM to the process, SIGKILL to its whole group after graceMs: nothing is left behind. */
  stop(graceMs?: number): Promise<Exit>;
}

function count(text: string, re: RegExp): number {
  return [...text.matchAll(new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`))].length;
}

export function spawnIn(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): NsProcess {
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  let exit: Exit | null = null;
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const w of [...waiters]) w();
  };
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString('latin1');
    wake();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString('latin1');
    wake();
  });
  const exitPromise = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      wake();
      resolve(exit);
    });
    child.once('error', (e) => {
      out += `spawn error: ${e.message}\n`;
      exit = { code: null, signal: null };
      wake();
      resolve(exit);
    });
  });
  const pid = child.pid ?? -1;
  const killGroup = (sig: NodeJS.Signals): void => {
    try {
      if (pid > 0) process.kill(-pid, sig);
    } catch {
      /* gone */
    }
  };
  // Never leave the group behind, even when the caller's process exits without cleaning up.
  const reap = (): void => killGroup('SIGKILL');
  process.once('exit', reap);
  void exitPromise.then(() => process.removeListener('exit', reap));

  const waitCount = (re: RegExp, n: number, timeoutMs = 60_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${n} × ${re}; output:\n${out}`));
      }, timeoutMs);
      function check(): void {
        if (count(out, re) >= n) {
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        } else if (exit) {
          clearTimeout(timer);
          waiters.delete(check);
          reject(new Error(`process ${pid} exited (${JSON.stringify(exit)}) before ${n} × ${re}; output:\n${out}`));
        }
      }
      waiters.add(check);
      check();
    });

  const waitExit = async (timeoutMs = 60_000): Promise<Exit> => {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      exitPromise,
      new Promise<null>((res) => {
        timer = setTimeout(() => res(null), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (r) return r;
    killGroup('SIGKILL');
    return exitPromise;
  };

  return {
    pid,
    output: () => out,
    waitCount,
    exited: () => exit,
    waitExit,
    signal: (sig) => {
      if (!exit && pid > 0) process.kill(pid, sig);
    },
    stop: async (graceMs = 10_000) => {
      if (!exit && pid > 0) process.kill(pid, 'SIGTERM');
      const r = await waitExit(graceMs);
      killGroup('SIGKILL'); // workers that outlived a master killed by a test
      return r;
    },
  };
}
