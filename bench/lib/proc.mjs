// Spawning, pinning, readiness and stopping of benchmark servers, and /proc accounting.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

let clkTck;
/** Clock ticks per second for /proc/<pid>/stat utime/stime. */
export function clockTicks() {
  if (clkTck === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    clkTck = Number(r.stdout?.trim()) || 100;
  }
  return clkTck;
}

/** True if `cmd` is found on PATH (or is an executable path). */
export function which(cmd) {
  if (cmd.includes('/')) {
    try { fs.accessSync(cmd, fs.constants.X_OK); return cmd; } catch { return null; }
  }
  for (const dir of (process.env.PATH || '').split(':')) {
    const p = `${dir || '.'}/${cmd}`;
    try { fs.accessSync(p, fs.constants.X_OK); if (fs.statSync(p).isFile()) return p; } catch { /* next */ }
  }
  return null;
}

/**
 * CPU pinning plan: with taskset and at least 2 online CPUs, servers go on CPU 1 and the load
 * generator on CPU 0. Otherwise nothing is pinned and the reason is recorded.
 */
export function pinningPlan() {
  const taskset = which('taskset');
  let cpus = [];
  try {
    const r = spawnSync('taskset', ['-pc', String(process.pid)], { encoding: 'utf8' });
    const m = /list:\s*(\S+)/.exec(r.stdout || '');
    if (m) cpus = expandCpuList(m[1]);
  } catch { /* no taskset */ }
  if (!taskset) return { enabled: false, reason: 'taskset not installed' };
  if (cpus.length < 2) return { enabled: false, reason: `only ${cpus.length} CPU(s) available to this process` };
  return { enabled: true, client: cpus[0], server: cpus[1], available: cpus };
}

function expandCpuList(list) {
  const out = [];
  for (const part of list.split(',')) {
    const [a, b] = part.split('-').map(Number);
    for (let i = a; i <= (Number.isNaN(b) || b === undefined ? a : b); i++) out.push(i);
  }
  return out;
}

/** Pin every thread of the current process to `cpu` (used for the in-process load generator). */
export function pinSelf(cpu) {
  const r = spawnSync('taskset', ['-a', '-pc', String(cpu), String(process.pid)], { encoding: 'utf8' });
  return r.status === 0;
}

/** Prefix for a command line so that it runs on `cpu` (empty when cpu is null). */
export function pinnedArgv(argv, cpu) {
  return cpu === null || cpu === undefined ? argv : ['taskset', '-c', String(cpu), ...argv];
}

/** Poll a TCP connect to host:port (or a UNIX socket path) until it succeeds or `timeoutMs` passes. */
export async function waitForPort(target, { timeoutMs = 10_000, intervalMs = 50, isAlive = () => true } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastErr = 'never tried';
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error('process exited before its port opened');
    try {
      await new Promise((resolve, reject) => {
        const s = typeof target === 'string' ? net.connect(target) : net.connect(target.port, target.host);
        s.setTimeout(1000, () => { s.destroy(); reject(new Error('connect timeout')); });
        s.once('connect', () => { s.destroy(); resolve(); });
        s.once('error', reject);
      });
      return;
    } catch (e) {
      lastErr = e.message;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`port ${typeof target === 'string' ? target : `${target.host}:${target.port}`} not open after ${timeoutMs} ms (${lastErr})`);
}

/** A free loopback TCP port (bind to 0, read, close). */
export async function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Start a server command in its own process group, output to `logFile`, optionally pinned,
 * and wait until `ready` (a {host, port} or a UNIX path) accepts connections.
 * Returns { pid, argv, stop(), alive(), exitInfo(), logTail() }; throws (after cleaning up) with
 * the log tail when the server exits or does not open its port in time.
 */
export async function startServer({ argv, cwd, env, cpu = null, logFile, ready, timeoutMs = 15_000 }) {
  const full = pinnedArgv(argv, cpu);
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(full[0], full.slice(1), {
    cwd, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', fd, fd],
  });
  fs.closeSync(fd);
  let exit = null;
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => { exit = { code, signal }; resolve(exit); });
    child.once('error', (err) => { exit = { code: null, signal: null, error: err.message }; resolve(exit); });
  });
  const handle = {
    pid: child.pid,
    argv: full,
    alive: () => exit === null,
    exitInfo: () => exit,
    logTail: (n = 15) => tail(logFile, n),
    async stop(graceMs = 3000) {
      if (exit === null && child.pid) {
        killGroup(child.pid, 'SIGTERM');
        let timer;
        const t = await Promise.race([exited, new Promise((r) => { timer = setTimeout(() => r('timeout'), graceMs); })]);
        clearTimeout(timer);
        if (t === 'timeout') { killGroup(child.pid, 'SIGKILL'); await exited; }
      }
      // Leftover children in the group (e.g. nginx workers) go too.
      if (child.pid && groupPids(child.pid).length) {
        killGroup(child.pid, 'SIGKILL');
      }
      return exit;
    },
  };
  try {
    await waitForPort(ready, { timeoutMs, isAlive: handle.alive });
  } catch (e) {
    await sleep(100);
    const ex = handle.exitInfo();
    await handle.stop(500);
    const why = ex ? `exited (code ${ex.code}, signal ${ex.signal}${ex.error ? `, ${ex.error}` : ''})` : e.message;
    const logTail = handle.logTail(40);
    const err = new Error(`${full.join(' ')}: ${why}\n${logTail}`);
    // The most telling log line: the first error message, else the last line.
    const lines = logTail.split('\n').map((l) => l.trim()).filter(Boolean);
    const key = lines.find((l) => /^(\w*Error\b|error:|fatal|\*\*\*)|cannot|can't|failed/i.test(l)) ?? lines[lines.length - 1];
    err.short = key ? `${why}: ${key.slice(0, 300)}` : why;
    throw err;
  }
  return handle;
}

export function killGroup(pgid, sig) {
  try { process.kill(-pgid, sig); } catch { /* gone */ }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function tail(file, n) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

/** Parse /proc/<pid>/stat: returns { pgrp, utime, stime } in ticks, or null. */
export function readStat(pid) {
  let s;
  try { s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return null; }
  // comm may contain spaces and parentheses: fields start after the last ')'.
  const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // rest[0] = state (field 3); pgrp = field 5; utime = 14; stime = 15
  return { state: rest[0], pgrp: Number(rest[2]), utime: Number(rest[11]), stime: Number(rest[12]) };
}

/** PIDs whose process group is `pgid`. */
export function groupPids(pgid) {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const st = readStat(d);
    if (st && st.pgrp === pgid && st.state !== 'Z') out.push(Number(d));
  }
  return out;
}

/** CPU seconds (user+system, all threads) of one process, or null. */
export function cpuSeconds(pid) {
  const st = readStat(pid);
  return st ? (st.utime + st.stime) / clockTicks() : null;
}

/** Sum of CPU seconds and of VmHWM (peak RSS, kB) over a process group. */
export function groupUsage(pgid) {
  let cpu = 0;
  let hwmKb = 0;
  const pids = groupPids(pgid);
  for (const pid of pids) {
    cpu += cpuSeconds(pid) ?? 0;
    try {
      const m = /VmHWM:\s+(\d+)\s*kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) hwmKb += Number(m[1]);
    } catch { /* gone */ }
  }
  return { cpu, hwmKb, pids };
}

/** Whole-machine CPU accounting from /proc/stat: { busy, steal } seconds summed over all CPUs. */
export function systemCpu() {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice
  const [user, nice, system, , , irq, softirq, steal] = line;
  const t = clockTicks();
  return { busy: (user + nice + system + irq + softirq + steal) / t, steal: (steal ?? 0) / t };
}
