// Spawning, pinning, readiness and stopping of benchmark servers, and /proc accounting
// (CPU time and peak RSS of a server's whole process tree). Linux only; where /proc is missing
// the figures are null, never invented.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';

let clkTck: number | undefined;
/** Clock ticks per second for /proc/<pid>/stat utime/stime. */
export function clockTicks(): number {
  if (clkTck === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    clkTck = Number(r.stdout?.trim()) || 100;
  }
  return clkTck;
}

/** The path of `cmd` when it is on PATH (or is an executable path), else null. */
export function which(cmd: string): string | null {
  if (cmd.includes('/')) {
    try {
      fs.accessSync(cmd, fs.constants.X_OK);
      return cmd;
    } catch {
      return null;
    }
  }
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    const p = `${dir || '.'}/${cmd}`;
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* next */
    }
  }
  return null;
}

export interface PinningPlan {
  enabled: boolean;
  reason?: string;
  /** First CPU: the load generator (kept for bench/hello.mjs). */
  client?: number;
  /** First server CPU (kept for bench/hello.mjs). */
  server?: number;
  clientCpus?: number[];
  serverCpus?: number[];
  available?: number[];
}

export function expandCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || Number.isNaN(a)) continue;
    const end = b === undefined || Number.isNaN(b) ? a : b;
    for (let i = a; i <= end; i++) out.push(i);
  }
  return out;
}

/**
 * CPU pinning plan: with taskset and at least 2 CPUs, the load generator gets the first CPU
 * (the first `clientCpus` CPUs) and the servers get the rest. Otherwise nothing is pinned and the
 * reason is recorded.
 */
export function pinningPlan(clientCpuCount = 1): PinningPlan {
  if (!which('taskset')) return { enabled: false, reason: 'taskset not installed' };
  let cpus: number[] = [];
  const r = spawnSync('taskset', ['-pc', String(process.pid)], { encoding: 'utf8' });
  const m = /list:\s*(\S+)/.exec(r.stdout ?? '');
  if (m?.[1]) cpus = expandCpuList(m[1]);
  if (cpus.length < 2) return { enabled: false, reason: `only ${cpus.length} CPU(s) available to this process` };
  const n = Math.min(Math.max(1, clientCpuCount), cpus.length - 1);
  const clientCpus = cpus.slice(0, n);
  const serverCpus = cpus.slice(n);
  return { enabled: true, client: clientCpus[0], server: serverCpus[0], clientCpus, serverCpus, available: cpus };
}

/** Pin every thread of the current process to `cpus` (the in-process load generator). */
export function pinSelf(cpus: number | number[]): boolean {
  const list = Array.isArray(cpus) ? cpus.join(',') : String(cpus);
  return spawnSync('taskset', ['-a', '-pc', list, String(process.pid)], { encoding: 'utf8' }).status === 0;
}

/** Prefix for a command line so that it runs on `cpus` (unchanged when null). */
export function pinnedArgv(argv: string[], cpus: number | number[] | null | undefined): string[] {
  if (cpus === null || cpus === undefined) return argv;
  return ['taskset', '-c', Array.isArray(cpus) ? cpus.join(',') : String(cpus), ...argv];
}

export type ReadyTarget = string | { host: string; port: number };

/** Poll a TCP connect to host:port (or a UNIX socket path) until it succeeds or `timeoutMs` passes. */
export async function waitForPort(
  target: ReadyTarget,
  {
    timeoutMs = 10_000,
    intervalMs = 50,
    isAlive = () => true,
  }: { timeoutMs?: number; intervalMs?: number; isAlive?: () => boolean } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr = 'never tried';
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error('process exited before its port opened');
    try {
      await new Promise<void>((resolve, reject) => {
        const s = typeof target === 'string' ? net.connect(target) : net.connect(target.port, target.host);
        s.setTimeout(1000, () => {
          s.destroy();
          reject(new Error('connect timeout'));
        });
        s.once('connect', () => {
          s.destroy();
          resolve();
        });
        s.once('error', reject);
      });
      return;
    } catch (e) {
      lastErr = (e as Error).message;
    }
    await sleep(intervalMs);
  }
  const where = typeof target === 'string' ? target : `${target.host}:${target.port}`;
  throw new Error(`port ${where} not open after ${timeoutMs} ms (${lastErr})`);
}

/** A free loopback TCP port (bind to 0, read, close). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  error?: string;
}

export interface ServerHandle {
  pid: number;
  argv: string[];
  logFile: string;
  alive(): boolean;
  exitInfo(): ExitInfo | null;
  logTail(n?: number): string;
  stop(graceMs?: number): Promise<ExitInfo | null>;
}

export interface StartOptions {
  argv: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  cpu?: number | number[] | null;
  logFile: string;
  ready: ReadyTarget;
  timeoutMs?: number;
}

/** An error from startServer: `short` is the one line a report shows. */
export class StartError extends Error {
  constructor(
    message: string,
    readonly short: string,
  ) {
    super(message);
  }
}

/**
 * Start a server command in its own process group, output to `logFile`, optionally pinned, and
 * wait until `ready` accepts connections. Throws a StartError (after cleaning up) with the log
 * tail when the server exits or does not open its port in time.
 */
export async function startServer({
  argv,
  cwd,
  env,
  cpu = null,
  logFile,
  ready,
  timeoutMs = 15_000,
}: StartOptions): Promise<ServerHandle> {
  const full = pinnedArgv(argv, cpu);
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(full[0]!, full.slice(1), {
    cwd,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  fs.closeSync(fd);
  let exit: ExitInfo | null = null;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
    child.once('error', (err) => {
      exit = { code: null, signal: null, error: err.message };
      resolve(exit);
    });
  });
  const pid = child.pid ?? -1;
  const handle: ServerHandle = {
    pid,
    argv: full,
    logFile,
    alive: () => exit === null,
    exitInfo: () => exit,
    logTail: (n = 15) => tail(logFile, n),
    async stop(graceMs = 3000) {
      if (exit === null && pid > 0) {
        killGroup(pid, 'SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const t = await Promise.race([
          exited,
          new Promise<'timeout'>((r) => {
            timer = setTimeout(() => r('timeout'), graceMs);
          }),
        ]);
        clearTimeout(timer);
        if (t === 'timeout') {
          killGroup(pid, 'SIGKILL');
          await exited;
        }
      }
      // Leftover processes of the group (nginx workers, cluster workers) go too.
      if (pid > 0 && groupPids(pid).length) killGroup(pid, 'SIGKILL');
      return exit;
    },
  };
  try {
    await waitForPort(ready, { timeoutMs, isAlive: handle.alive });
  } catch (e) {
    await sleep(100);
    const ex = handle.exitInfo();
    await handle.stop(500);
    const why = ex
      ? `exited (code ${ex.code}, signal ${ex.signal}${ex.error ? `, ${ex.error}` : ''})`
      : (e as Error).message;
    const logTail = handle.logTail(40);
    const lines = logTail
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    const key =
      lines.find((l) => /^(\w*Error\b|error:|fatal|\*\*\*)|cannot|can't|failed/i.test(l)) ?? lines[lines.length - 1];
    throw new StartError(`${full.join(' ')}: ${why}\n${logTail}`, key ? `${why}: ${key.slice(0, 300)}` : why);
  }
  return handle;
}

export function killGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    /* gone */
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function tail(file: string, n: number): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

export interface ProcStat {
  state: string;
  ppid: number;
  pgrp: number;
  utime: number;
  stime: number;
}

/** Parse /proc/<pid>/stat (ticks), or null when the process is gone. */
export function readStat(pid: number | string): ProcStat | null {
  let s: string;
  try {
    s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm may contain spaces and parentheses: the fields start after the last ')'.
  const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // rest[0] = state (field 3), ppid 4, pgrp 5, utime 14, stime 15
  return {
    state: rest[0]!,
    ppid: Number(rest[1]),
    pgrp: Number(rest[2]),
    utime: Number(rest[11]),
    stime: Number(rest[12]),
  };
}

function allStats(): Map<number, ProcStat> {
  const out = new Map<number, ProcStat>();
  let names: string[] = [];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return out;
  }
  for (const d of names) {
    if (!/^\d+$/.test(d)) continue;
    const st = readStat(d);
    if (st && st.state !== 'Z') out.set(Number(d), st);
  }
  return out;
}

/** PIDs whose process group is `pgid`. */
export function groupPids(pgid: number): number[] {
  return [...allStats()].filter(([, st]) => st.pgrp === pgid).map(([pid]) => pid);
}

/** PIDs of `root`'s process group plus every descendant of `root` (even one that left the group). */
export function treePids(root: number): number[] {
  const stats = allStats();
  const set = new Set<number>();
  for (const [pid, st] of stats) if (st.pgrp === root || pid === root) set.add(pid);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, st] of stats) {
      if (!set.has(pid) && set.has(st.ppid)) {
        set.add(pid);
        grew = true;
      }
    }
  }
  return [...set];
}

/** CPU seconds (user+system, all threads) of one process, or null. */
export function cpuSeconds(pid: number): number | null {
  const st = readStat(pid);
  return st ? (st.utime + st.stime) / clockTicks() : null;
}

export interface GroupUsage {
  cpu: number;
  hwmKb: number;
  pids: number[];
}

/** CPU seconds and peak RSS (VmHWM, kB) summed over a server's process group and tree. */
export function groupUsage(pgid: number): GroupUsage {
  let cpu = 0;
  let hwmKb = 0;
  const pids = treePids(pgid);
  for (const pid of pids) {
    cpu += cpuSeconds(pid) ?? 0;
    try {
      const m = /VmHWM:\s+(\d+)\s*kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) hwmKb += Number(m[1]);
    } catch {
      /* gone */
    }
  }
  return { cpu, hwmKb, pids };
}

/** Whole-machine CPU accounting from /proc/stat: busy and steal seconds summed over all CPUs. */
export function systemCpu(): { busy: number; steal: number } {
  let first = '';
  try {
    first = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  } catch {
    return { busy: 0, steal: 0 };
  }
  const f = first.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  const t = clockTicks();
  return { busy: (user + nice + system + irq + softirq + steal) / t, steal: steal / t };
}
